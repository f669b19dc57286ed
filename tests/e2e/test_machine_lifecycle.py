"""End-to-end: the machine lifecycle with the real agent, the real daemon
and real firmware (issue #12).  The flow is tests/lib/lifecycle_flow.py,
the one `make demo-lifecycle` runs: ironbootd on examples/lifecycle.yaml
as shipped, a QEMU VM that netboots first with a blank 64 MiB virtio disk
second, powered on by the test (BMC=none) or through its BMC.

  test_lifecycle_uefi      the whole flow on OVMF, the VM powered by the
                           test (BMC=none): netboot (UEFI HTTP boot ->
                           ipxe.efi -> the agent), discovered with a report;
                           accepted by the CLI, wiped, powered off;
                           allocated by the CLI, started, installed by the
                           agent; the netboot says "your disk" (iPXE exit 1:
                           OVMF's next boot option is the disk,
                           lifecycle_flow.UEFI_NETBOOT) and systemd-boot boots
                           the ESP (IRONBOOT-DISK-BOOTED); released by the
                           CLI, started, wiped (the disk's first 16 MiB
                           zero), powered off in ready; the journal holds
                           every transition and the agent's outcomes (wipe
                           twice, install:vda of the whole 64 MiB image,
                           reboot, poweroff twice) with their durations
  test_lifecycle_bios      the same whole flow on SeaBIOS: its PXE ROM
                           (pxe-virtio.rom) netboots the agent each time;
                           told "your disk" (the script prints "booting from
                           its disk" and exits), SeaBIOS's next boot device
                           is the disk: its MBR and syslinux boot it
                           (IRONBOOT-DISK-LOADER syslinux).  Power through a
                           BMC is tests/integration/test_power_daemon.py's
                           (Redfish and IPMI, the lifecycle's hooks), not
                           repeated here
  test_local_boot_ignored  a machine whose disk does not boot: the steps up
                           to installed are the real agent as a test run on
                           files (ironboot-agent --sysroot --dev-dir, from a
                           namespace holding the machine's MAC, whose
                           neighbour entry authorizes it), against the same
                           daemon; then the VM with that MAC and a blank
                           disk netboots: told to boot from its disk
                           (local-boot), its firmware finds nothing there
                           and netboots again (local-boot-ignored), and
                           again: failed, step local-boot

Each test prints the machine's timeline and the milestones; a failure
names the step that did not happen, with the console tail and the daemon
log.  TCG unless $IB_QEMU_ACCEL is set.

Run (root):  /usr/bin/python3 -m pytest tests/e2e/test_machine_lifecycle.py -v -s
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import pytest

import lifecycle_flow
import netlab
from lifecycle_flow import DISK_SIZE, SRV_IP, StepFailed
from test_agent import agent_bin, make_sysroot, sanitizer_report

FAKE_IP = "198.18.0.50"
MiB = lifecycle_flow.MiB


@pytest.fixture(scope="module")
def images():
    """The agent image and the disk image (built once, cached)."""
    if os.geteuid() != 0:
        pytest.fail("needs root (network namespaces, tap devices, apt-get download)")
    netlab.require_tool("mkfs.vfat", "mcopy", "mmd", "syslinux", "unshare", "nsenter", "curl")
    try:
        return lifecycle_flow.agent_image(), lifecycle_flow.disk_image()
    except RuntimeError as e:
        pytest.fail(str(e))


@pytest.fixture
def make_flow(lab, tmp_path, images, ironbootd_bin):
    made: list[lifecycle_flow.Flow] = []

    def make(**kw) -> lifecycle_flow.Flow:
        try:
            f = lifecycle_flow.Flow(lab, tmp_path, agent_dir=images[0], disk_dir=images[1],
                                    log=lambda s: None, **kw)
        except RuntimeError as e:
            pytest.fail(str(e))
        made.append(f)
        f.start_daemon()
        return f
    try:
        yield make
    finally:
        for f in made:
            f.close()


@contextlib.contextmanager
def explained(flow: lifecycle_flow.Flow, name: str):
    """Times the flow; prints the timeline; on failure attaches it."""
    t0 = time.monotonic()
    try:
        yield
    except (AssertionError, netlab.LabError) as e:
        time.sleep(1.5)                         # the journal's flush timer
        raise AssertionError(f"{e}\n\n{flow.timeline()}\n=== milestones ===\n"
                             f"{flow.milestones()}\n{flow.diagnostics()}") from None
    time.sleep(1.5)
    print(f"\n{name}: {time.monotonic() - t0:.0f}s (accel={lifecycle_flow.ACCEL})\n"
          f"=== milestones ===\n{flow.milestones()}\n{flow.timeline()}")


def whole_flow(flow: lifecycle_flow.Flow) -> str:
    """flow.full() (its steps check the states, the disk's marker and
    loader, the disk byte for byte the image after the install, its first
    16 MiB zero after the release), then the journal: every transition,
    and the agent's outcomes with their durations.  Returns every boot's
    console."""
    flow.full()
    console = flow.console_all()
    loader = f"IRONBOOT-DISK-LOADER {lifecycle_flow.DISK_LOADER[flow.firmware]}"
    assert loader in console, console[-800:]
    # the agent's reboot after the install: the same VM came up again
    assert "reboot: Restarting system" in console, console[-800:]
    kinds = flow.kinds()
    for k in ("discovered", "accept", "wipe", "wiped", "allocate", "install",
              "installed", "local-boot", "release"):
        assert k in kinds, (k, kinds)
    assert kinds.count("wiped") == 2 and "fail" not in kinds, kinds
    assert "local-boot-ignored" not in kinds, kinds
    evs = [e for e in flow.events() if e.get("proto") == "agent"]
    agent = [(e["kind"], e["detail"]["status"]) for e in evs]
    assert agent.count(("wipe", "ok")) == 2 and ("install:vda", "ok") in agent, agent
    assert agent.count(("poweroff", "ok")) == 2 and ("reboot", "ok") in agent, agent
    assert all(e["detail"].get("duration_ms", -1) >= 0 for e in evs), evs
    # the whole image (build_disk.sh's 64 MiB) streamed, for its instruction
    (inst,) = [e["detail"] for e in evs if e["kind"] == "install:vda"]
    assert inst["bytes"] == DISK_SIZE and inst.get("instruction"), inst
    print(f"install: {inst['bytes']} bytes in {inst['duration_ms']} ms "
          f"({inst.get('rate_bps', 0) / MiB:.1f} MiB/s)")
    return console


def test_lifecycle_uefi(make_flow):
    flow = make_flow(firmware="uefi", mac="52:54:00:00:00:42")
    with explained(flow, "uefi, the whole flow"):
        whole_flow(flow)


def test_lifecycle_bios(make_flow):
    flow = make_flow(firmware="bios", mac="52:54:00:00:00:41")
    with explained(flow, "bios, the whole flow"):
        console = whole_flow(flow)
        # SeaBIOS's PXE ROM netboots; told "your disk", iPXE hands back
        # to SeaBIOS, whose next boot device is the disk (MBR, syslinux)
        assert "ironboot: mac 52:54:00:00:00:41 is installed: booting from its disk" in \
            console, console[-800:]


def install_on_files(flow, build_dir: Path, tmp: Path):
    """To installed with the agent on files: ready, allocated by the CLI, a
    netboot (the installer's: installing), the image installed.  Returns the
    FileAgent, still holding the machine's MAC."""
    fa = agent_to_ready(flow, build_dir, tmp)
    flow.cli("allocate", "machines", "allocate", lifecycle_flow.PROFILE, flow.mac)
    out = fa.boot()
    assert flow.state() == "installed", out[-2000:]
    with open(fa.dev / "vda", "rb") as f, open(flow.disk_dir / "disk.img", "rb") as g:
        assert f.read(16 * MiB) == g.read(16 * MiB), "the image is not on the file disk"
    flow.mark("installed by the agent on files")
    return fa


def fake_machine(flow: lifecycle_flow.Flow) -> str:
    """A namespace on the VM's bridge whose NIC has the VM's MAC and a fixed
    address: the daemon's neighbour entry for that address names the MAC,
    so it is that machine (http.machine_auth: strict)."""
    lab = flow.lab
    ns = lab.netns("fake")
    lab.veth(ns, "eth0", flow.vm, "fk0", up=False)
    lab.set_mac(ns, "eth0", flow.mac)
    lab.up(ns, "eth0")
    lab.ip(flow.vm, "link", "set", "fk0", "master", "br0")
    lab.up(flow.vm, "fk0")
    lab.addr(ns, "eth0", f"{FAKE_IP}/24")
    return ns


def fetch_script(flow: lifecycle_flow.Flow, ns: str) -> str:
    p = flow.lab.run(ns, ["curl", "-sS", "--max-time", "20",
                          f"http://{SRV_IP}:8080/boot.ipxe?mac={flow.mac}"], timeout=40)
    assert p.returncode == 0 and p.stdout.startswith("#!ipxe"), (p.stdout, p.stderr)
    return p.stdout


def agent_cmdline(script: str) -> str:
    """The kernel line of the agent's script: what the agent reads."""
    (kernel,) = [ln for ln in script.splitlines() if ln.startswith("kernel ")]
    return " ".join(kernel.split()[2:]) + "\n"


def run_agent(flow, ns, agent: Path, root: Path, dev: Path, cmdline: str,
              during=None) -> str:
    """The agent as a test run on files, until it powers off or reboots
    (a test run exits there); during(): what the operator does meanwhile."""
    cf = root.parent / "cmdline"
    cf.write_text(cmdline)
    out = root.parent / "agent.out"
    with open(out, "wb") as o:
        p = flow.lab.popen(ns, [agent, "--cmdline-file", cf, "--sysroot", root,
                                "--dev-dir", dev, "--max-polls", "40", "--report-tries", "5"],
                           stdin=None, stdout=o, stderr=o)
        try:
            if during:
                during()
            p.wait(timeout=120)
        finally:
            flow.lab.kill(p)
    text = out.read_text(errors="replace")
    assert sanitizer_report(text) is None, text[-4000:]
    assert p.returncode == 0, text[-2000:]
    return text


class FileAgent:
    """The real agent as a test run on files, for the machine of a flow,
    from a namespace that holds the machine's MAC (fake_machine)."""

    def __init__(self, flow, build_dir: Path, tmp: Path):
        self.flow, self.bin = flow, agent_bin(build_dir)
        self.root, self.dev = tmp / "agent" / "root", tmp / "agent" / "dev"
        make_sysroot(self.root, {"vda": DISK_SIZE}, flow.mac)
        self.dev.mkdir(parents=True)
        (self.dev / "vda").write_bytes(b"")
        os.truncate(self.dev / "vda", DISK_SIZE)
        self.ns = fake_machine(flow)

    def boot(self, during=None) -> str:
        """What a netboot does: fetch the script, run its agent."""
        cmd = agent_cmdline(fetch_script(self.flow, self.ns))
        return run_agent(self.flow, self.ns, self.bin, self.root, self.dev, cmd, during)

    def unplug(self) -> None:
        """The MAC is the VM's alone from now on."""
        self.flow.lab.ip(self.flow.vm, "link", "del", "fk0")


def agent_to_ready(flow, build_dir: Path, tmp: Path) -> FileAgent:
    """discovered (a report), accepted by the CLI, wiped, powered off:
    the agent on files, in seconds.  Returns the FileAgent, still holding
    the machine's MAC."""
    fa = FileAgent(flow, build_dir, tmp)

    def accept():
        flow.wait("agent on files", "report", lambda: (flow.machine() or {}).get("report"),
                  60, vm_must_run=False)
        flow.cli("accept", "machines", "accept", flow.mac)
    out = fa.boot(during=accept)
    assert "power off now" in out, out[-2000:]
    assert flow.state() == "ready"
    flow.mark("ready: discovered, accepted, wiped by the agent on files")
    return fa


def test_local_boot_ignored(make_flow, build_dir, tmp_path):
    flow = make_flow(firmware="bios", mac="52:54:00:00:00:43")
    with explained(flow, "a disk that does not boot"):
        fa = install_on_files(flow, build_dir, tmp_path)
        fa.unplug()

        # the machine itself, with a blank disk: told to boot from it, it
        # cannot, netboots again, and again
        flow.power_on("installed, but its disk is blank")
        step = "local boot ignored: failed"
        flow.wait(step, "state failed", lambda: flow.state() == "failed", 300)
        m = flow.machine()
        assert m["failure"]["step"] == "local-boot", m
        kinds = flow.kinds()
        i = kinds.index("local-boot")
        assert kinds[i:] == ["local-boot", "local-boot-ignored", "fail"], kinds
        assert "No bootable device" in flow.console()
        assert lifecycle_flow.DISK_MARKER not in flow.console()


def test_step_failure_is_named(make_flow):
    """A flow whose VM never comes names the step it stopped at."""
    flow = make_flow(firmware="bios", mac="52:54:00:00:00:44")
    flow.mark("no power on")
    with pytest.raises(StepFailed) as e:
        flow.wait("netboot: discovered with a hardware report", "state discovered",
                  lambda: flow.state() == "discovered", 2, vm_must_run=False)
    assert e.value.step.startswith("netboot") and "not within 2s" in str(e.value)
