"""End-to-end network boot: real firmware in QEMU against the real ironbootd.

Topology per test (tests/lib/netlab.py; namespaces deleted afterwards, also
on failure; QEMU and ironbootd are killed by PID):

    ns srv:  srv0 198.18.0.1/24            ironbootd (DHCPv4 + TFTP)
               |  veth
    ns vm:   vm0 --- br0 --- tap0 <== qemu-system-x86_64 -netdev tap

QEMU never uses user-mode networking and never sees a host interface: its
only NIC is a tap inside the test's own namespace.

  test_bios_ipxe_rom    SeaBIOS + iPXE NIC option ROM (pxe-virtio.rom on a
                        virtio 1.0 NIC): iPXE DHCPs (user class "iPXE") and is
                        given the script URL; the lease is active.
  test_uefi_pxe_chain   OVMF's own PXE (virtio-net, no option ROM): DHCP arch
                        7 -> ipxe.efi over TFTP -> ipxe.efi DHCPs again as iPXE.

The daemon runs examples/lab.yaml as shipped, on an empty /tmp of its own
mount namespace (fresh_host.py).  The journal is read with
`ironboot --json events --mac M`; an ACK is accepted
in either layout (one event per exchange, or a separate "ack" event).  The
VM gets a fixed SMBIOS UUID, which must show in the journal (option 97).

Each test prints the machine's timeline (`ironboot events --mac M`) and the
time each milestone took.  No KVM is assumed: QEMU runs under TCG
($IB_QEMU_ACCEL overrides, e.g. "kvm").

Run (root):  /usr/bin/python3 -m pytest tests/e2e/test_qemu_boot.py -v -s
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import fresh_host
import netlab

REPO = netlab.REPO
SRV_IP = "198.18.0.1"
POOL = (ipaddress.ip_address("198.18.0.100"), ipaddress.ip_address("198.18.0.199"))

QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
ACCEL = os.environ.get("IB_QEMU_ACCEL", "tcg")
IPXE_DIR = Path("/usr/lib/ipxe")
BIOS_ROM = IPXE_DIR / "qemu" / "pxe-virtio.rom"
IPXE_EFI = IPXE_DIR / "ipxe.efi"
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS.fd")

BIOS_MAC = "52:54:00:b0:07:01"
UEFI_MAC = "52:54:00:b0:07:02"
# SMBIOS system UUID; firmware sends it as DHCP option 97 and the journal
# must show it as dmidecode does (first three fields little-endian on the
# wire, RFC 4578 2.3 / SMBIOS 2.6)
VM_UUID = "6b8f2a4c-1d3e-4f50-9a7b-0c1d2e3f4a5b"

# Bounds under TCG (measured: BIOS ~3 s to the ACK, UEFI ~14 s for the whole
# chain); worst case for the file stays under ~4 minutes.
BIOS_TIMEOUT = 60.0        # SeaBIOS + iPXE ROM to the DHCPDISCOVER
UEFI_TIMEOUT = 60.0        # OVMF to its PXE DHCPDISCOVER


def in_pool(addr: str | None) -> bool:
    if not addr:
        return False
    a = ipaddress.ip_address(addr)
    return POOL[0] <= a <= POOL[1]


def need(*paths: Path) -> None:
    """Fail unless every path exists (firmware, ROMs, boot files)."""
    for p in paths:
        if not Path(p).exists():
            pytest.fail(f"{p} missing (apt-get install qemu-system-x86 ipxe "
                        f"ipxe-qemu ovmf)")


def tail(path: Path, n: int = 30) -> str:
    try:
        lines = path.read_bytes().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return "(none)"
    return "\n".join(lines[-n:]) or "(empty)"


# ---------------------------------------------------------------------------
# the lab: srv (daemon) <-> vm (bridge + tap + QEMU)
# ---------------------------------------------------------------------------

class BootLab:
    def __init__(self, lab: netlab.Lab, tmp: Path):
        self.lab, self.tmp = lab, tmp
        self.srv = lab.netns("srv")
        self.vm = lab.netns("vm")
        lab.veth(self.srv, "srv0", self.vm, "vm0")
        lab.addr(self.srv, "srv0", f"{SRV_IP}/24")
        lab.tap(self.vm, "tap0")
        lab.bridge(self.vm, "br0", ports=["vm0", "tap0"])

        # examples/lab.yaml as shipped, on an empty /tmp of the daemon's own
        # (fresh_host.py): its state dir /tmp/ironboot-lab is new every test
        cfg = netlab.lab_config()           # read only: what the file says
        assert cfg["tftp"]["root"] == str(IPXE_DIR), cfg["tftp"]
        self.cfg = cfg
        self.script_url = cfg["boot"]["ipxe_script"]
        self.daemon = fresh_host.shipped_daemon(lab, self.srv, "lab.yaml", tmp,
                                                cover="/tmp")
        self.qemu: subprocess.Popen | None = None
        self.qemu_files: dict[str, Path] = {}
        self.t0 = time.monotonic()
        self.marks: list[tuple[str, float]] = []

    # -- processes -------------------------------------------------------------
    def start_daemon(self) -> None:
        self.daemon.start(timeout=15)

    def start_qemu(self, name: str, args: list[str]) -> subprocess.Popen:
        f = {k: self.tmp / f"{name}.{k}" for k in ("serial", "debugcon", "stderr")}
        self.qemu_files = f
        argv = [QEMU, "-accel", ACCEL, "-nodefaults", "-display", "none",
                "-smp", "1", "-m", "256", "-no-reboot", "-uuid", VM_UUID,
                "-serial", f"file:{f['serial']}",
                "-chardev", f"file,id=dbg,path={f['debugcon']}",
                "-device", "isa-debugcon,iobase=0x402,chardev=dbg",
                "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
                *args]
        errf = open(f["stderr"], "wb")
        try:
            self.qemu = self.lab.popen(self.vm, argv, stdin=subprocess.DEVNULL,
                                       stdout=errf, stderr=errf)
        finally:
            errf.close()
        self.t0 = time.monotonic()
        self.mark("qemu started")
        return self.qemu

    def stop_qemu(self) -> None:
        if self.qemu is not None:
            self.lab.kill(self.qemu, grace=2.0)

    def close(self) -> None:
        self.stop_qemu()
        if self.daemon.alive():
            self.daemon.stop()          # asserts a clean exit 0

    # -- observation -------------------------------------------------------------
    def mark(self, what: str) -> float:
        t = time.monotonic() - self.t0
        self.marks.append((what, t))
        return t

    def events(self, mac: str) -> list[dict]:
        return self.daemon.cli_json("events", "--mac", mac)

    def leases(self) -> list[dict]:
        return self.daemon.cli_json("leases")

    def timeline(self, mac: str) -> str:
        try:
            return self.daemon.cli("events", "--mac", mac)
        except Exception as e:            # the report must not hide the failure
            return f"(ironboot events failed: {e})"

    def report(self, mac: str) -> str:
        marks = "\n".join(f"  t+{t:6.1f}s  {w}" for w, t in self.marks)
        return (f"=== timeline of {mac} (ironboot events --mac {mac}) ===\n"
                f"{self.timeline(mac)}\n"
                f"=== milestones (from QEMU start, accel={ACCEL}) ===\n{marks}\n")

    def diagnostics(self) -> str:
        f = self.qemu_files
        return (f"{self.daemon.log_tail(40)}\n"
                f"--- qemu stderr ---\n{tail(f.get('stderr', Path('-')))}\n"
                f"--- guest serial (tail) ---\n{tail(f.get('serial', Path('-')))}\n"
                f"--- debugcon (tail) ---\n{tail(f.get('debugcon', Path('-')), 15)}")

    def wait_for(self, mac: str, pred, timeout: float, what: str):
        """Poll the journal of `mac` until pred(events) is truthy; return it.
        Fails early when QEMU or ironbootd dies."""
        deadline = time.monotonic() + timeout
        while True:
            evs = self.events(mac)
            got = pred(evs)
            if got:
                self.mark(what)
                return got
            if not self.daemon.alive():
                raise AssertionError(f"ironbootd died while waiting for {what}")
            if self.qemu is not None and self.qemu.poll() is not None:
                raise AssertionError(f"QEMU exited ({self.qemu.returncode}) "
                                     f"while waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:.0f}s")
            time.sleep(0.5)

    @contextlib.contextmanager
    def explain(self, mac: str):
        """Print the timeline at the end; on failure attach it (and logs) to
        the assertion message."""
        try:
            yield
        except (AssertionError, netlab.LabError) as e:
            rep = self.report(mac)
            print(rep)
            raise AssertionError(f"{e}\n\n{rep}\n{self.diagnostics()}") from None
        else:
            print("\n" + self.report(mac))


@pytest.fixture
def bootlab(lab, tmp_path, ironbootd_bin):
    if not os.access(QEMU, os.X_OK):
        pytest.fail("qemu-system-x86_64 not installed (scripts/deps.sh test)")
    if not os.path.exists("/dev/net/tun"):
        pytest.fail("/dev/net/tun missing (tap devices unavailable)")
    bl = BootLab(lab, tmp_path)
    try:
        bl.start_daemon()
        yield bl
    finally:
        bl.close()


# ---------------------------------------------------------------------------
# journal predicates
# ---------------------------------------------------------------------------

def first(evs: list[dict], proto: str, kind: str, after_us: int = 0, **detail):
    """First event of proto/kind (at or after ts after_us) whose detail has
    every given key=value (a callable value is a predicate)."""
    for e in evs:
        if e.get("proto") != proto or e.get("kind") != kind or e["ts_us"] < after_us:
            continue
        d = e.get("detail") or {}
        if all(v(d.get(k)) if callable(v) else d.get(k) == v
               for k, v in detail.items()):
            return e
    return None


def acked(evs: list[dict], after_us: int = 0, **detail):
    """The DHCPACK for a client, in either journal layout: one event per
    exchange (kind "request", detail.decision "ack", the reply's fields
    merged in) or a separate reply event (kind "ack")."""
    return (first(evs, "dhcp4", "request", after_us, decision="ack",
                  lease="committed", **detail) or
            first(evs, "dhcp4", "ack", after_us, **detail))


def lease_of(leases: list[dict], mac: str) -> dict | None:
    for l in leases:
        if l.get("mac", "").lower() == mac.lower():
            return l
    return None


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------

def test_bios_ipxe_rom(bootlab):
    """SeaBIOS runs the iPXE option ROM of a virtio NIC; iPXE DHCPs as iPXE
    and is handed the script URL; the lease is committed for its MAC."""
    need(BIOS_ROM)
    bl, mac = bootlab, BIOS_MAC
    url = bl.script_url
    sercon = bl.tmp / "sercon-port"
    sercon.write_bytes((0x3f8).to_bytes(2, "little"))
    bl.start_qemu("bios", [
        "-machine", "pc",
        # SeaBIOS' serial console (int10 -> COM1, so iPXE's output lands in
        # the serial file); the item is a little-endian integer, the port
        "-fw_cfg", f"name=etc/sercon-port,file={sercon}",
        # Debian's pxe-virtio.rom declares 1af4:1041 (virtio 1.0 net) in its
        # PCIR header; SeaBIOS only runs a ROM whose PCIR ids match the
        # device, and QEMU's default transitional virtio-net is 1af4:1000.
        # disable-legacy=on makes the device 1af4:1041.
        "-device", f"virtio-net-pci,netdev=n0,mac={mac},disable-legacy=on,"
                   f"romfile={BIOS_ROM},bootindex=1",
        "-boot", "n"])
    with bl.explain(mac):
        disc = bl.wait_for(mac, lambda evs: first(evs, "dhcp4", "discover",
                                                  boot="ipxe"),
                           BIOS_TIMEOUT, "iPXE DHCPDISCOVER")
        ack = bl.wait_for(mac, lambda evs: acked(evs,
                                                 after_us=disc["ts_us"],
                                                 file=url, address=in_pool),
                          20, "DHCPACK with the script URL")
        bl.stop_qemu()
        d = disc["detail"]
        assert d.get("decision") == "offer", disc
        assert "iPXE" in d.get("user_class", ""), disc
        assert d.get("file") == url, disc
        assert disc.get("uuid") == VM_UUID, f"option 97 UUID in the journal: {disc}"
        leases = bl.leases()
        lease = lease_of(leases, mac)
        assert lease is not None, f"no lease for {mac}: {leases}"
        assert lease["state"] == "active", lease
        assert in_pool(lease["address"]), lease
        assert lease["address"] == ack["detail"]["address"], (lease, ack)
        bl.mark("checks done")


def test_uefi_pxe_chain(bootlab):
    """OVMF's native PXE (virtio-net without option ROM): DHCP arch 7 ->
    ipxe.efi over TFTP (whole file) -> ipxe.efi runs and DHCPs as iPXE."""
    need(OVMF_CODE, OVMF_VARS, IPXE_EFI)
    bl, mac = bootlab, UEFI_MAC
    size = IPXE_EFI.stat().st_size        # follows the symlink (/boot/ipxe.efi)
    vars_copy = bl.tmp / "OVMF_VARS.fd"
    shutil.copyfile(OVMF_VARS, vars_copy)
    bl.start_qemu("uefi", [
        "-machine", "q35",
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
        "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
        # romfile= (empty): no iPXE option ROM, OVMF's VirtioNetDxe + PxeBcDxe
        "-device", f"virtio-net-pci,netdev=n0,mac={mac},romfile=,bootindex=1",
        "-boot", "n"])
    with bl.explain(mac):
        fw = bl.wait_for(mac, lambda evs: first(evs, "dhcp4", "discover",
                                                boot="pxe", arch=7),
                         UEFI_TIMEOUT, "firmware PXE DHCPDISCOVER (arch 7)")
        assert fw["detail"].get("file") == "ipxe.efi", fw
        assert fw["detail"].get("vendor_class", "").startswith("PXEClient:Arch:00007"), fw
        assert fw.get("uuid") == VM_UUID, f"option 97 UUID in the journal: {fw}"
        fw_ack = bl.wait_for(mac, lambda evs: acked(evs,
                                           after_us=fw["ts_us"], file="ipxe.efi",
                                           address=in_pool),
                    20, "firmware DHCPACK with ipxe.efi")

        def transferred(evs):
            return first(evs, "tftp", "transfer", after_us=fw["ts_us"],
                         file="ipxe.efi", result="ok")
        xfer = bl.wait_for(mac, transferred, 30,
                           "TFTP transfer of ipxe.efi")
        d = xfer["detail"]
        assert d.get("bytes") == size, f"bytes {d.get('bytes')} != {size}: {xfer}"
        ipxe = bl.wait_for(mac, lambda evs: first(evs, "dhcp4", "discover",
                                                  after_us=xfer["ts_us"],
                                                  boot="ipxe"),
                           40, "ipxe.efi DHCPDISCOVER")
        assert ipxe["detail"].get("file") == bl.script_url, ipxe
        assert ipxe.get("uuid") == VM_UUID, f"option 97 UUID in the journal: {ipxe}"
        ipxe_ack = bl.wait_for(mac, lambda evs: acked(evs,
                                           after_us=ipxe["ts_us"],
                                           file=bl.script_url, address=in_pool),
                    15, "iPXE DHCPACK with the script URL")
        bl.stop_qemu()
        # ordering: firmware DHCP < TFTP < iPXE DHCP (journal timestamps)
        assert fw_ack["ts_us"] <= xfer["ts_us"] <= ipxe["ts_us"], (fw_ack, xfer, ipxe)
        leases = bl.leases()
        mine = {l["address"]: l for l in leases if l.get("mac", "").lower() == mac}
        for ack in (fw_ack, ipxe_ack):
            addr = ack["detail"]["address"]
            assert addr in mine and mine[addr]["state"] == "active", \
                f"no active lease {addr} for {mac}: {leases}"
        # the TFTP transfer is attributed (by client address) to the MAC
        assert xfer["detail"].get("client") == fw_ack["detail"]["address"], xfer
        # one machine, one lease across the chainload (firmware sent no
        # client-id, iPXE sent 01:<mac>)
        assert fw_ack["detail"]["address"] == ipxe_ack["detail"]["address"], (fw_ack, ipxe_ack)
        assert len(mine) == 1, f"{mac} holds {len(mine)} leases: {sorted(mine)}"
        bl.mark("checks done")
