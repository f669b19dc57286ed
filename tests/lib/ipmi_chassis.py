#!/usr/bin/python3
"""ipmi_sim's chassis_control program for a QEMU VM (tests/lib/bmc.py
IpmiSim(mode="chassis")): the VM's power and boot device as an IPMI BMC
sees them, so the lifecycle's one-time PXE boot, power on, cycle and
off reach a real VM through ipmi_sim (its startcmd mode has no
boot-device control).

    ipmi_chassis.py DIR [MC] get power|boot ...    -> "power:1" lines
    ipmi_chassis.py DIR [MC] set power 0|1 | reset 1 | shutdown 1 | boot DEV

DIR/qemu.argv: the VM's QEMU command line (JSON, without -qmp); the VM
gets -qmp unix:DIR/qmp.sock and runs in a session of its own (it
outlives this program; ipmi_sim waits for this program only).  DIR/calls
gets one line per set, DIR/qemu.log the VM's output.  Power off is QMP
`quit`, then SIGKILL after 10 s; shutdown is QMP `system_powerdown`
(ACPI); reset is off then on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bmc as B  # noqa: E402


def vm_pid(d: Path) -> int | None:
    pids = B.pids_of(str(d / "qmp.sock"))
    return pids[0] if pids else None


def power_on(d: Path) -> None:
    if vm_pid(d):
        return
    (d / "qmp.sock").unlink(missing_ok=True)
    argv = json.loads((d / "qemu.argv").read_text()) + [
        "-qmp", f"unix:{d / 'qmp.sock'},server=on,wait=off"]
    with open(d / "qemu.log", "ab") as log:
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and B.vm_status(d / "qmp.sock") != "running":
        time.sleep(0.05)


def power_off(d: Path) -> None:
    pid = vm_pid(d)
    if not pid:
        return
    B.qmp(d / "qmp.sock", "quit")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and vm_pid(d):
        time.sleep(0.05)
    if vm_pid(d):
        os.kill(pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    d = Path(argv[0])
    args = argv[1:]
    if args and args[0] not in ("get", "set", "check"):
        args = args[1:]                     # the MC, from older ipmi_sims
    if not args:
        return 1
    op, rest = args[0], args[1:]
    if op == "check":
        return 0
    if op == "get":
        for p in rest:
            if p == "power":
                print(f"power:{1 if vm_pid(d) else 0}")
            elif p == "boot":
                print("boot:default")
            else:
                print(f"Invalid parameter: {p}")
                return 1
        return 0
    while len(rest) >= 2:
        what, val = rest[0], rest[1]
        with open(d / "calls", "a") as f:
            f.write(f"{what} {val}\n")
        if what == "power":
            power_on(d) if val == "1" else power_off(d)
        elif what == "reset":
            power_off(d)
            power_on(d)
        elif what == "shutdown":
            B.qmp(d / "qmp.sock", "system_powerdown")
        elif what != "boot":
            print(f"Invalid parameter: {what}")
            return 1
        rest = rest[2:]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
