#!/usr/bin/python3
"""`make demo-lifecycle` (root): one fresh VM's whole life in ironboot.

    scripts/demo_lifecycle.py [--bmc ipmi|redfish|none] [--firmware bios|uefi] [--keep]

A QEMU VM (TCG) with a blank 64 MiB disk, in a throw-away namespace lab,
against ironbootd running examples/lifecycle.yaml as shipped:

  1. it netboots: discovered, the agent reports its hardware
  2. `ironboot machines accept MAC`: wiped, ready, powered off
  3. `ironboot machines allocate disk-image MAC`, started again: the agent
     installs tests/e2e/build_disk.sh's image
  4. it boots from its disk: IRONBOOT-DISK-BOOTED on the console
  5. `ironboot machines release MAC`, started again: wiped (the disk's
     first 16 MiB read back zero)
  6. powered off in ready

Then the machine's timeline (`ironboot events --mac M`, `ironboot
machines show M`).  Exit 0 only when all of that happened; otherwise the
step that did not, the console's tail and the daemon's log.  The flow is
tests/lib/lifecycle_flow.py (tests/e2e/test_machine_lifecycle.py runs it too).

--bmc ipmi (default) or redfish: the VM is powered only through its BMC
(OpenIPMI's ipmi_sim, or tests/lib/redfish_emu.py), which ironbootd
drives; the timeline shows each power operation.  --bmc none: nothing
powers the VM but the demo, which starts it when the flow needs it on,
and says so.  Environment: IB_BUILD (default
build), IB_E2E_ASSETS (the boot asset cache, /var/cache/ironboot-e2e),
IB_QEMU_ACCEL (tcg), IB_LIFECYCLE_SLOW (multiplies the step bounds).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "lib"))

import lifecycle_flow  # noqa: E402
import netlab  # noqa: E402


def bold(s: str) -> str:
    return f"\033[1m{s}\033[0m" if sys.stdout.isatty() else s


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bmc", default=os.environ.get("BMC", "ipmi"),
                    help="how the VM is powered: none (the demo starts it), ipmi "
                         "(ipmi_sim) or redfish (redfish_emu.py), driven by ironbootd")
    ap.add_argument("--firmware", default="bios", choices=("bios", "uefi"))
    ap.add_argument("--keep", action="store_true", help="keep the logs and the disk")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("demo-lifecycle: run as root (network namespaces, tap devices)", file=sys.stderr)
        return 2
    if a.bmc not in ("none", "redfish", "ipmi"):
        print(f"demo-lifecycle: BMC={a.bmc}: none, ipmi or redfish", file=sys.stderr)
        return 2
    for b in ("ironbootd", "ironboot"):
        if not netlab.find_binary(netlab.build_dir(), b).exists():
            print(f"demo-lifecycle: {netlab.build_dir()}/{b} not built (make)", file=sys.stderr)
            return 2
    tmp = Path(tempfile.mkdtemp(prefix="ironboot-demo-lifecycle."))

    def say(s: str) -> None:
        print(s, flush=True)

    print(bold(f"== demo-lifecycle: firmware {a.firmware}, BMC={a.bmc}, "
               f"accel {lifecycle_flow.ACCEL}, work dir {tmp}"))
    t0 = time.monotonic()
    rc = 1
    with netlab.Lab(prefix="ibdl") as lab:
        flow = None
        try:
            say(bold("== boot assets: the agent image and the test disk image (cached)"))
            flow = lifecycle_flow.Flow(lab, tmp, firmware=a.firmware, bmc=a.bmc, log=say)
            say(bold(f"== ironbootd in namespace {flow.srv}, VM {flow.mac} in {flow.vm}"))
            flow.start_daemon()
            for title, fn in (("1/5 netboot: discovery", flow.discover),
                              ("2/5 accept: wipe, power off", flow.accept),
                              ("3/5 allocate: install", flow.install),
                              ("4/5 boot from the disk", flow.disk_boot),
                              ("5/5 release: wipe, power off in ready", flow.release)):
                say(bold(f"== {title}"))
                fn()
            rc = 0
        except lifecycle_flow.StepFailed as e:
            say(bold(f"\ndemo-lifecycle: FAILED: {e}"))
            say(flow.diagnostics())
        except Exception as e:          # a lab or asset problem: say it plainly
            say(bold(f"\ndemo-lifecycle: FAILED: {type(e).__name__}: {e}"))
            if flow is not None:
                say(flow.diagnostics())
        finally:
            if flow is not None:
                time.sleep(1.5)         # the journal's flush timer
                say(bold("== the machine's timeline"))
                say(flow.timeline())
                say(bold("== milestones"))
                say(flow.milestones())
                flow.close()
    took = time.monotonic() - t0
    if rc == 0:
        say(bold(f"demo-lifecycle: OK: discovered, accepted, wiped, installed, booted "
                 f"from its disk, released, wiped, ready; {took:.0f}s"))
    if a.keep:
        say(f"demo-lifecycle: logs, consoles and the disk kept in {tmp}")
    else:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
