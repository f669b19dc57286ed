"""lifecycle_flow: one machine's whole life in ironboot, real agent, real
daemon, real firmware (issue #12).  `make demo-lifecycle`
(scripts/demo_lifecycle.py) and tests/e2e/test_machine_lifecycle.py run it.

    ns srv:  srv0 198.18.0.1/24     ironbootd: examples/lifecycle.yaml as
               |  veth              shipped, on an empty /tmp of its own
    ns vm:   vm0 --- br0 --- tap0 <== QEMU: one NIC (netboots first), one
                                      blank 64 MiB virtio disk (second)

The daemon runs the example unmodified (tests/e2e/fresh_host.py: a mount
namespace where an empty tmpfs covers /tmp); what the example expects
under /tmp/ironboot-lifecycle is put there as an operator would: links to
the agent image (scripts/agent-image.sh, cached per agent binary in the
e2e cache), to iPXE's ipxe.efi (UEFI HTTP boot), to
tests/e2e/build_disk.sh's disk.img.gz and its disk.img.sha256, and the
API token file.  The CLI (`ironboot machines
accept|allocate|release`, `ironboot events`) enters the daemon's mount
namespace.

The flow (Flow.full(); each step names what must happen, and a failure
says which step did not, with the console tail):

  1. netboot        the VM netboots: discovered, the agent reports
  2. accept         `ironboot machines accept MAC`: the agent wipes, the
                    machine is ready, the agent powers it off (wait)
  3. allocate       `ironboot machines allocate disk-image MAC`; the VM is
                    started again: the agent installs the image
  4. disk boot      the agent reboots; the netboot says "boot from your
                    disk"; the disk prints IRONBOOT-DISK-BOOTED and the
                    loader that booted it (syslinux on BIOS, systemd-boot
                    on UEFI), then powers off
  5. release        `ironboot machines release MAC`; started again: the
                    agent wipes; the disk file's first 16 MiB read zero
  6. ready          the agent powers the machine off in ready

Power: with bmc="none" the flow starts the stopped VM itself and says
so.  With bmc="redfish" or "ipmi" the VM is powered only through its BMC,
tests/lib/redfish_emu.py (on 198.18.0.2:8000) or OpenIPMI's ipmi_sim (on
198.18.0.2:623, its chassis_control tests/lib/ipmi_chassis.py), in the
VM's namespace, starting and stopping QEMU; the daemon drives it: the flow
puts the machine's BMC entry through the CLI (`ironboot bmcs put`), powers
the fresh machine on with `ironboot power on MAC`, and from then on the
lifecycle's hooks do it (accept, release: PXE once and cycle; allocate:
PXE once and on; wait: checked off); each power operation is in the
timeline (proto power).

QEMU runs under TCG unless $IB_QEMU_ACCEL says otherwise; every wait is
bounded; processes are the lab's (killed by PID), namespaces deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import netlab

REPO = netlab.REPO
E2E = REPO / "tests" / "e2e"
if str(E2E) not in sys.path:
    sys.path.insert(0, str(E2E))
import fresh_host  # noqa: E402

EXAMPLE = "lifecycle.yaml"
STATE_DIR = Path("/tmp/ironboot-lifecycle")          # what the example says
ASSETS = STATE_DIR / "assets"
TOKEN_FILE = STATE_DIR / "api-token"
PROFILE = "disk-image"
CACHE = Path(os.environ.get("IB_E2E_ASSETS", "/var/cache/ironboot-e2e"))
QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
ACCEL = os.environ.get("IB_QEMU_ACCEL", "tcg")
BIOS_ROM = Path("/usr/lib/ipxe/qemu/pxe-virtio.rom")
IPXE_EFI = Path("/usr/lib/ipxe/ipxe.efi")     # the example's boot.http_x64
# UEFI_NETBOOT: why the UEFI VM netboots over HTTP, not PXE.  OVMF orders
# its boot options by QEMU's bootindex (QemuBootOrderLib), and a NIC's
# bootindex matches every option of that NIC by device-path prefix: PXEv4
# and HTTPv4 both, in that order, before the disk.  After iPXE's `exit 1`
# the HTTPv4 option ran, and edk2's HTTP boot gives up only when its DHCP
# has retried for 4+8+16+32 s with no offer naming a URI (NetworkPkg
# HttpBootDhcp4.c, Dhcp4Dxe/Dhcp4Io.c): ~100 s here before the disk.  OVMF
# has a knob for PXE (opt/org.tianocore/IPv4PXESupport), none for HTTP
# boot, so the VM boots as a UEFI machine set up for HTTP boot does: HTTP
# boot first (ironboot answers it with boot.http_x64, iPXE), then its disk.
# A real machine with PXE first needs its disk right after that option
# too (docs/LIFECYCLE.md "Booting from the disk").
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")
SRV_IP = "198.18.0.1"
BMC_IP = "198.18.0.2"                 # the VM's BMC, on the VM's bridge
BMC_PORT = 8000
SECRETS = STATE_DIR / "bmc-secrets.json"
BMC_USER, BMC_PASSWORD = "admin", "lifecycle-bmc-pw-7"
MiB = 1 << 20
DISK_SIZE = 64 * MiB
DISK_MARKER = "IRONBOOT-DISK-BOOTED"
DISK_HOSTNAME = "ironboot-disk"       # tests/e2e/build_disk.sh's
DISK_LOADER = {"bios": "syslinux", "uefi": "systemd-boot"}   # what boots the disk
# Bounds per step, TCG on a loaded two-core machine (alone: an agent boot
# from power on to its report takes 35-50 s, a wipe 1 s, an install 3 s,
# the disk's boot 15-35 s); IB_LIFECYCLE_SLOW multiplies them.
SLOW = float(os.environ.get("IB_LIFECYCLE_SLOW", "1"))
T_AGENT = 240 * SLOW          # power on -> report (netboot, kernel, modules, DHCP)
T_ACTION = 120 * SLOW         # an instruction -> its outcome (wipe, install)
T_OFF = 60 * SLOW             # wait/reboot -> QEMU gone or rebooted
T_DISK = 200 * SLOW           # reboot -> the disk's marker


class StepFailed(AssertionError):
    """A step of the flow did not happen: .step names it."""

    def __init__(self, step: str, what: str):
        super().__init__(f"step '{step}' did not happen: {what}")
        self.step = step


def _run(argv: list, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout)


def agent_binary() -> Path:
    """The static agent: $IB_AGENT, else build/ironboot-agent (what
    scripts/test.sh builds beside the ASan build), else $IB_BUILD's."""
    for c in (os.environ.get("IB_AGENT"), REPO / "build" / "ironboot-agent",
              netlab.build_dir() / "ironboot-agent"):
        if c and Path(c).is_file():
            return Path(c)
    raise RuntimeError("no ironboot-agent built (make, or set IB_AGENT)")


def agent_image(log: Callable[[str], None] = print) -> Path:
    """scripts/agent-image.sh for agent_binary(), cached in the e2e cache by
    the binary's SHA-256 (outside /tmp: the daemon's /tmp is covered)."""
    agent = agent_binary()
    digest = hashlib.sha256(agent.read_bytes()).hexdigest()[:16]
    out = CACHE / f"lifecycle-agent-{digest}"
    if (out / "vmlinuz").is_file() and (out / "initrd.img").is_file():
        return out
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(f"{out}.{os.getpid()}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    log(f"building the agent image from {agent} (scripts/agent-image.sh)")
    p = _run(["bash", REPO / "scripts" / "agent-image.sh", "--agent", agent, "--out", work,
              "--cache", CACHE], timeout=900)
    if p.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise RuntimeError(f"scripts/agent-image.sh failed ({p.returncode}): "
                           f"{p.stderr[-800:]}")
    try:
        os.rename(work, out)
    except OSError:                 # another run made it meanwhile
        shutil.rmtree(work, ignore_errors=True)
    return out


def disk_image(log: Callable[[str], None] = print) -> Path:
    """tests/e2e/build_disk.sh's cache dir (disk.img, .gz, .sha256)."""
    p = _run(["bash", E2E / "build_disk.sh", CACHE], timeout=900)
    if p.returncode != 0:
        raise RuntimeError(f"tests/e2e/build_disk.sh failed ({p.returncode}): "
                           f"{p.stderr[-800:]}")
    for f in ("disk.img", "disk.img.gz", "disk.img.sha256"):
        if not (CACHE / f).is_file():
            raise RuntimeError(f"{CACHE / f} missing after build_disk.sh")
    return CACHE


def tail(path: Path, n: int = 40) -> str:
    try:
        text = path.read_bytes().decode(errors="replace")
    except FileNotFoundError:
        return "(none)"
    return "\n".join(text.replace("\r", "").splitlines()[-n:]) or "(empty)"


class Flow:
    """The lab, the daemon and the VM of one machine.

        f = Flow(lab, tmp, firmware="bios", bmc="none", mac=...)
        f.start_daemon(); f.full(); print(f.timeline())
    """

    def __init__(self, lab: netlab.Lab, tmp: Path, firmware: str = "bios",
                 bmc: str = "none", mac: str = "52:54:00:00:00:40",
                 log: Callable[[str], None] = print,
                 agent_dir: Path | None = None, disk_dir: Path | None = None):
        if firmware not in ("bios", "uefi"):
            raise ValueError(f"firmware {firmware}: bios or uefi")
        if bmc not in ("none", "redfish", "ipmi"):
            raise ValueError(f"BMC={bmc}: none, ipmi or redfish")
        for f in (QEMU, BIOS_ROM, IPXE_EFI, OVMF_CODE, OVMF_VARS):
            if not Path(f).exists():
                raise RuntimeError(f"{f} missing (scripts/deps.sh test: qemu-system-x86 "
                                   f"ipxe-qemu ovmf)")
        if not os.path.exists("/dev/net/tun"):
            raise RuntimeError("/dev/net/tun missing (tap devices unavailable)")
        self.lab, self.tmp, self.firmware, self.bmc = lab, tmp, firmware, bmc
        self.mac, self.say = mac.lower(), log
        self.agent_dir = agent_dir or agent_image(log)
        self.disk_dir = disk_dir or disk_image(log)
        self.srv = lab.netns("srv")
        self.vm = lab.netns("vm")
        lab.veth(self.srv, "srv0", self.vm, "vm0")
        lab.addr(self.srv, "srv0", f"{SRV_IP}/24")
        lab.tap(self.vm, "tap0")
        lab.bridge(self.vm, "br0", ports=["vm0", "tap0"])
        self.api_token = hashlib.sha256(os.urandom(32)).hexdigest()
        links = {str(ASSETS / "ipxe.efi"): IPXE_EFI,
                 str(ASSETS / "agent" / "vmlinuz"): self.agent_dir / "vmlinuz",
                 str(ASSETS / "agent" / "initrd.img"): self.agent_dir / "initrd.img",
                 str(ASSETS / "disk.img.gz"): self.disk_dir / "disk.img.gz",
                 str(ASSETS / "disk.img.sha256"): self.disk_dir / "disk.img.sha256"}
        secrets = json.dumps({"lab": {"user": BMC_USER, "password": BMC_PASSWORD}})
        self.daemon = fresh_host.shipped_daemon(
            lab, self.srv, EXAMPLE, tmp, cover="/tmp", links=links,
            files={str(TOKEN_FILE): self.api_token + "\n", str(SECRETS): secrets})
        self.disk = tmp / "vm-disk.img"
        with open(self.disk, "wb") as f:          # blank, as a new machine's
            f.truncate(DISK_SIZE)
        self.vars = tmp / "OVMF_VARS.fd"
        if firmware == "uefi":
            shutil.copyfile(OVMF_VARS, self.vars)
        self.sercon = tmp / "sercon-port"
        self.sercon.write_bytes((0x3f8).to_bytes(2, "little"))
        self.qemu: subprocess.Popen | None = None
        self.boots = 0
        self.serial = tmp / ("serial.txt" if bmc != "none" else "serial-0.txt")
        self.emu = None
        if bmc != "none":
            lab.addr(self.vm, "br0", f"{BMC_IP}/24")
        self.t0 = time.monotonic()
        self.marks: list[tuple[float, str]] = []

    # -- processes -----------------------------------------------------------
    def start_daemon(self) -> None:
        chk = self.daemon.check_config()
        if chk.returncode != 0:
            raise RuntimeError(f"ironbootd --check-config examples/{EXAMPLE}: "
                               f"{(chk.stderr or chk.stdout).strip()}")
        self.daemon.start(timeout=20)
        self.mark(f"ironbootd ready (examples/{EXAMPLE}, as shipped)")
        if self.bmc != "none":
            self.start_bmc()

    def start_bmc(self) -> None:
        """The VM's BMC (it alone starts and stops QEMU) and the machine's
        BMC entry, put by the operator's CLI.  redfish: redfish_emu.py;
        ipmi: OpenIPMI's ipmi_sim whose chassis_control is ipmi_chassis.py."""
        import bmc as B
        entry = {"driver": self.bmc, "credential": "lab", "efi": self.firmware == "uefi"}
        if self.bmc == "redfish":
            self.emu = B.RedfishEmu(self.lab, self.vm, BMC_IP, BMC_PORT, self.tmp / "bmc",
                                    BMC_USER, BMC_PASSWORD, vm=True,
                                    vm_argv=self.qemu_argv()).start()
            entry["address"] = f"http://{BMC_IP}:{BMC_PORT}"
        else:
            for t in ("ipmi_sim", "pgrep"):
                if not shutil.which(t):
                    raise RuntimeError(f"{t} missing (scripts/deps.sh test: openipmi procps)")
            self.emu = B.IpmiSim(self.lab, self.vm, BMC_IP, self.tmp / "bmc", BMC_USER,
                                 BMC_PASSWORD, mode="chassis",
                                 vm_argv=self.qemu_argv()).start()
            entry.update(address=BMC_IP, ipmi_workarounds=["opensesspriv"])
        entry = json.dumps(entry)
        p = self.lab.run(self.srv, [str(self.daemon.cli_bin), "--config", self.daemon.config,
                                    "bmcs", "put", self.mac, "-"], input=entry, timeout=30)
        if p.returncode != 0:
            raise RuntimeError(f"ironboot bmcs put {self.mac}: {p.stderr.strip()}")
        self.mark(f"BMC: {self.bmc} on {BMC_IP} (ironboot bmcs put {self.mac})")

    def qemu_argv(self) -> list[str]:
        argv = [QEMU, "-accel", ACCEL, "-nodefaults", "-display", "none", "-smp", "1",
                "-m", "512", "-uuid", "6b8f2a4c-1d3e-4f50-9a7b-0c1d2e3f4a40",
                "-serial", f"file:{self.serial}",
                # SeaBIOS: a failed boot restarts after 1 s (not 60)
                "-boot", "reboot-timeout=1000",
                "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
                "-drive", f"file={self.disk},if=none,id=d0,format=raw",
                "-device", "virtio-blk-pci,drive=d0,serial=IB-DISK-0040,bootindex=2"]
        if self.firmware == "bios":
            return argv + [
                "-machine", "pc",
                "-fw_cfg", f"name=etc/sercon-port,file={self.sercon}",
                # pxe-virtio.rom's PCIR names a virtio 1.0 NIC
                "-device", f"virtio-net-pci,netdev=n0,mac={self.mac},disable-legacy=on,"
                           f"romfile={BIOS_ROM},bootindex=1"]
        return argv + [
            "-machine", "q35",
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={self.vars}",
            # UEFI HTTP boot (the example's boot.http_x64), IPv4 only: the
            # NIC's one boot option, so the disk's comes right after it
            # (UEFI_NETBOOT above)
            "-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n",
            "-fw_cfg", "name=opt/org.tianocore/IPv6Support,string=n",
            "-device", f"virtio-net-pci,netdev=n0,mac={self.mac},romfile=,bootindex=1"]

    def power_on(self, why: str) -> None:
        """Starts the VM (it must be off).  BMC=none: the flow does it.
        With a BMC: the first time the operator's `ironboot power on`,
        then the lifecycle's hooks (the flow only says so)."""
        if self.bmc == "none" and self.vm_running():
            raise RuntimeError("the VM is still running")
        self.boots += 1
        if self.bmc != "none":
            if self.boots == 1:
                p = self.daemon.cli_run("power", "on", self.mac, timeout=60)
                self.mark(f"power on #1 ({why}): ironboot power on {self.mac} -> exit "
                          f"{p.returncode}")
                if p.returncode != 0:
                    raise StepFailed("power on", f"ironboot power on: {p.stderr.strip()}")
            else:
                self.mark(f"power on #{self.boots} ({why}): ironbootd, through the BMC")
            return
        self.serial = self.tmp / f"serial-{self.boots}.txt"
        self.say(f"power on ({why}): BMC=none, so the demo starts the stopped VM itself")
        errf = open(self.tmp / f"qemu-{self.boots}.stderr", "wb")
        try:
            self.qemu = self.lab.popen(self.vm, self.qemu_argv(), stdin=subprocess.DEVNULL,
                                       stdout=errf, stderr=errf)
        finally:
            errf.close()
        self.mark(f"power on #{self.boots} ({why})")

    def close(self) -> None:
        if self.qemu is not None:
            self.lab.kill(self.qemu, grace=2.0)
        if self.emu is not None and self.emu.proc is not None:
            self.lab.kill(self.emu.proc, grace=5.0)     # its VM: the lab's teardown
        if self.daemon.alive():
            self.daemon.stop()

    # -- observation -----------------------------------------------------------
    def mark(self, what: str) -> None:
        t = time.monotonic() - self.t0
        self.marks.append((t, what))
        self.say(f"  t+{t:6.1f}s  {what}")

    def machine(self) -> dict | None:
        p = self.daemon.cli_run("--json", "machines", "show", self.mac)
        if p.returncode != 0:
            return None
        try:
            return json.loads(p.stdout)
        except json.JSONDecodeError:
            return None

    def state(self) -> str | None:
        m = self.machine()
        return m.get("state") if m else None

    def events(self) -> list[dict]:
        return self.daemon.cli_json("events", "--mac", self.mac)

    def console(self) -> str:
        try:
            return self.serial.read_bytes().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def console_all(self) -> str:
        """Every boot's console, in order (BMC=none: one file per start)."""
        files = sorted(self.tmp.glob("serial-*.txt"),
                       key=lambda f: int(f.stem.split("-")[1])) or [self.serial]
        return "".join(f.read_bytes().decode(errors="replace") for f in files
                       if f.is_file())

    def vm_running(self) -> bool:
        if self.emu is not None:
            import bmc as B
            return bool(B.pids_of(str(self.emu.qmp_path)))
        return self.qemu is not None and self.qemu.poll() is None

    def wait(self, step: str, what: str, pred: Callable[[], object], timeout: float,
             vm_must_run: bool = True):
        """Polls pred until truthy (returns it); else StepFailed(step)."""
        deadline = time.monotonic() + timeout
        while True:
            got = pred()
            if got:
                self.mark(f"{step}: {what}")
                return got
            if not self.daemon.alive():
                raise StepFailed(step, f"{what}: ironbootd died")
            # with a BMC the daemon may cycle the VM: off is no failure then
            if vm_must_run and self.bmc == "none" and not self.vm_running():
                got = pred()                   # the last write before power off
                if got:
                    self.mark(f"{step}: {what}")
                    return got
                raise StepFailed(step, f"{what}: the VM powered off first "
                                       f"(exit {self.qemu.returncode if self.qemu else '-'})")
            if self.bmc != "none" and self.state() == "failed":
                raise StepFailed(step, f"{what}: the machine failed: "
                                       f"{(self.machine() or {}).get('failure')}")
            if "Kernel panic" in self.console():
                raise StepFailed(step, f"{what}: kernel panic")
            if time.monotonic() > deadline:
                raise StepFailed(step, f"{what}: not within {timeout:.0f}s "
                                       f"(machine state {self.state()})")
            time.sleep(1.0)

    def wait_off(self, step: str, timeout: float = T_OFF) -> None:
        self.wait(step, "the VM powered off", lambda: not self.vm_running(), timeout,
                  vm_must_run=False)
        if self.qemu is not None and self.qemu.returncode != 0:
            raise StepFailed(step, f"QEMU exited with status {self.qemu.returncode}")

    def cli(self, step: str, *args: str) -> dict:
        """An operator's command; its JSON answer."""
        p = self.daemon.cli_run(*args)
        self.mark(f"{step}: ironboot {' '.join(args)} -> exit {p.returncode}")
        if p.returncode != 0:
            raise StepFailed(step, f"ironboot {' '.join(args)}: {p.stderr.strip()}")
        try:
            return json.loads(p.stdout)
        except json.JSONDecodeError:
            return {}

    def kinds(self) -> list[str]:
        return [e.get("kind") for e in self.events() if e.get("proto") == "machine"]

    def disk_zero(self, n: int = 16 * MiB) -> bool:
        with open(self.disk, "rb") as f:
            return f.read(n).count(0) == n

    # -- the steps ---------------------------------------------------------------
    def discover(self) -> dict:
        """Power on; the VM netboots the agent; discovered with a report."""
        step = "netboot: discovered with a hardware report"
        self.power_on("a fresh machine")
        m = self.wait(step, "state discovered, report stored",
                      lambda: (m := self.machine()) and m.get("report") and m, T_AGENT)
        rep = m["report"]
        disks = {d.get("name"): d for d in rep.get("disks", [])}
        if m["state"] != "discovered" or disks.get("vda", {}).get("size_bytes") != DISK_SIZE:
            raise StepFailed(step, f"unexpected machine: {json.dumps(m)[:800]}")
        if self.mac not in [n.get("mac") for n in rep.get("nics", [])]:
            raise StepFailed(step, f"the report does not name NIC {self.mac}")
        self.say(f"    report: {rep['system'].get('vendor')} {rep['system'].get('product')}, "
                 f"{rep['cpu'].get('threads')} CPU, {rep['memory'].get('total_bytes')} bytes, "
                 f"disks {sorted(disks)}, NIC {self.mac} ({rep['nics'][0].get('driver')})")
        return m

    def accept(self) -> None:
        """accept -> the agent wipes -> ready -> powered off (wait)."""
        step = "accept: wiped, ready, powered off"
        v = self.cli(step, "machines", "accept", self.mac)
        if v.get("state") != "accepted":
            raise StepFailed(step, f"accept answered {v}")
        self.wait(step, "state ready (the agent's wipe ok)",
                  lambda: self.state() == "ready", T_ACTION)
        self.wait_off(step)
        kinds = self.kinds()
        for k in ("accept", "wipe", "wiped"):
            if k not in kinds:
                raise StepFailed(step, f"no {k} in the journal: {kinds}")

    def install(self) -> None:
        """allocate -> power on -> the agent installs -> installed."""
        step = "allocate: installed from the image"
        v = self.cli(step, "machines", "allocate", PROFILE, self.mac)
        if v.get("state") != "allocated":
            raise StepFailed(step, f"allocate answered {v}")
        self.power_on("allocated: the installer's boot")
        self.wait(step, "state installing (the agent booted in install mode)",
                  lambda: self.state() == "installing", T_AGENT)
        self.wait(step, "state installed (the agent's install ok)",
                  lambda: self.state() == "installed", T_AGENT + T_ACTION)

    def disk_boot(self) -> None:
        """The agent reboots; the netboot says "your disk"; the disk boots."""
        step = "disk boot: the installed disk booted"
        self.wait(step, f"{DISK_MARKER} on the serial console",
                  lambda: DISK_MARKER in self.console(), T_DISK)
        self.wait_off(step)            # the disk's initramfs powers off
        out = self.console()
        for line in (f"{DISK_MARKER} {DISK_HOSTNAME}",
                     f"IRONBOOT-DISK-LOADER {DISK_LOADER[self.firmware]}"):
            if not re.search(rf"^{re.escape(line)}\r?$", out, re.M):
                raise StepFailed(step, f"no line {line!r} on the console")
        kinds = self.kinds()
        if "local-boot" not in kinds or "local-boot-ignored" in kinds:
            raise StepFailed(step, f"the journal should hold one local-boot: {kinds}")
        with open(self.disk, "rb") as f, open(self.disk_dir / "disk.img", "rb") as g:
            if hashlib.sha256(f.read()).digest() != hashlib.sha256(g.read()).digest():
                raise StepFailed(step, "the VM's disk is not the image")

    def release(self) -> None:
        """release -> power on -> the agent wipes -> ready -> off."""
        step = "release: wiped again"
        v = self.cli(step, "machines", "release", self.mac)
        if v.get("state") != "releasing":
            raise StepFailed(step, f"release answered {v}")
        self.power_on("releasing: the agent's wipe")
        self.wait(step, "state ready (the agent's wipe ok)",
                  lambda: self.state() == "ready", T_AGENT + T_ACTION)
        step = "ready: powered off, the disk's first 16 MiB zero"
        self.wait_off(step)
        if not self.disk_zero():
            raise StepFailed(step, "the disk's first 16 MiB are not zero after the wipe")
        self.mark(f"{step}: first 16 MiB of {self.disk.name} read back zero")
        if self.state() != "ready":
            raise StepFailed(step, f"state {self.state()}")

    def full(self) -> None:
        self.discover()
        self.accept()
        self.install()
        self.disk_boot()
        self.release()

    # -- reports -------------------------------------------------------------
    def timeline(self) -> str:
        out = []
        for args in (("events", "--mac", self.mac), ("machines", "show", self.mac)):
            p = self.daemon.cli_run(*args)
            out.append(f"=== ironboot {' '.join(args)} ===\n{p.stdout}{p.stderr}")
        return "\n".join(out)

    def milestones(self) -> str:
        return "\n".join(f"  t+{t:6.1f}s  {w}" for t, w in self.marks)

    def diagnostics(self) -> str:
        return (f"{self.daemon.log_tail(30)}\n"
                f"--- qemu stderr (boot {self.boots}) ---\n"
                f"{tail(self.tmp / f'qemu-{self.boots}.stderr', 10)}\n"
                f"--- serial console (boot {self.boots}, tail) ---\n{tail(self.serial, 40)}")
