"""End-to-end network boots over IPv6 only: a link with no IPv4 at all.

The lab of test_boot_linux.py (its LinuxBootLab, fixtures and journal
helpers, imported), configured from examples/lab-ipv6.yaml instead:

    ns srv:  srv0 fd00:b007::1/64   ironbootd: RA (M+O) + DHCPv6 + TFTP +
               |  veth                         HTTP on [fd00:b007::1]:8080
    ns vm:   vm0 --- br0 --- tap0 <== qemu-system-x86_64 -netdev tap

No IPv4 address anywhere, dhcp4 disabled; the firmware's own DHCPv4
attempts (iPXE runs every configurator) go unanswered, and a capture on
srv0 (tcpdump, when installed) must show that nothing on the server side
ever sends an IPv4 or ARP frame.

  test_uefi_pxe6_linux   OVMF PXEv6 (IPv4 PXE off through fw_cfg) ->
                         DHCPv6 arch 7 -> bootfile-url
                         tftp://[fd00:b007::1]/ipxe.efi -> TFTP over IPv6 ->
                         ipxe.efi: RA -> DHCPv6 (user class iPXE) -> script
                         URL -> script, kernel, initrd over HTTP/IPv6 -> marker
  test_bios_ipxe6_linux  SeaBIOS + iPXE NIC ROM: RA -> DHCPv6 as iPXE ->
                         script, kernel, initrd over HTTP/IPv6 -> marker

The VM's MAC is never given to ironbootd: iPXE and OVMF identify themselves
with a DUID-UUID (from QEMU's -uuid), and the daemon learns the MAC from the
EUI-64 link-local source address (journal: mac_from "eui-64"; "duid" if a
client sent DUID-LL/LLT), so `ironboot events --mac M` only shows the DHCPv6
exchanges if that learning works; node10's address comes from lab-ipv6.yaml's
MAC reservation.  The script fetch is filed under the MAC its URL carries
(${net0/mac}).  The kernel, initrd and TFTP fetches are found in the whole
journal by the client address of the machine's DHCPv6 REPLY, then must be
filed under the MAC too: ironbootd finds the machine of a fetch without
?mac= from the lease (IPv4 or IPv6) of the peer's address
(attributed()).

Timings under TCG (QEMU start to marker, measured): BIOS 25-27 s, UEFI
56-74 s (OVMF: ~12 s from its PXE REPLY to the end of the TFTP transfer,
the transfer itself < 1 s; both iPXEs: ~15 s between their DHCPv6 REPLY and
the script fetch, "Configuring" waits for the unanswered DHCPv4 as well).
Each boot is bounded by BOOT6_TIMEOUT; the file takes ~1.5-2 minutes.

Run (root):
  IB_BUILD=build /usr/bin/python3 -m pytest -v -s tests/e2e/test_boot_ipv6.py
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import time

from test_boot_linux import (  # noqa: F401  (assets, make_lab: fixtures)
    BIOS_ROM, HTTP_PORT, IPXE_EFI, MARKER, OVMF_CODE, OVMF_VARS,
    LinuxBootLab, _ovmf, assets, first, make_lab, need, path_is)

SRV6 = "fd00:b007::1"
# node10 is lab-ipv6.yaml's MAC reservation (fd00:b007::10) and inventory
# entry: it only gets that address if the daemon learned the MAC from the
# DHCPv6 packets.  The UEFI machine is one the file does not know (its
# firmware and its iPXE, one DUID and two IAs, would both want node10's
# one reserved address): no hostname, so its marker is "booted-" alone.
BIOS6_MAC, BIOS6_HOST, BIOS6_ADDR = "52:54:00:00:00:10", "node10", "fd00:b007::10"
UEFI6_MAC, UEFI6_HOST = "52:54:00:b0:07:16", ""
SUBNET6 = ipaddress.ip_network("fd00:b007::/64")
TCPDUMP = shutil.which("tcpdump")

# TCG bound, QEMU start to marker (measured: 27 s BIOS, 74 s UEFI at most)
BOOT6_TIMEOUT = 240.0


def eui64_ll(mac: str) -> str:
    """fe80:: link-local of a MAC by modified EUI-64 (RFC 4291 2.5.1)."""
    b = [int(x, 16) for x in mac.split(":")]
    b[0] ^= 2
    w = [b[0] << 8 | b[1], b[2] << 8 | 0xff, 0xfe << 8 | b[3], b[4] << 8 | b[5]]
    return "fe80::" + ":".join(f"{x:x}" for x in w)


class IPv6BootLab(LinuxBootLab):
    CONFIG = "lab-ipv6.yaml"
    SRV_CIDR = f"{SRV6}/64"
    HTTP_BASE = f"http://[{SRV6}]:{HTTP_PORT}"
    SCRIPT_KEY = "ipxe_script6"

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        cfg = self.cfg
        assert not (cfg.get("dhcp4") or {}).get("enabled", False), \
            "examples/lab-ipv6.yaml: dhcp4 must be off"
        ra = (cfg.get("dhcp6") or {}).get("router_advertisements") or {}
        assert ra.get("enabled") and ra.get("managed"), \
            "examples/lab-ipv6.yaml: iPXE only starts DHCPv6 after an RA " \
            "with the M flag (dhcp6.router_advertisements)"
        self.pcap = self.tmp / "srv0.pcap"
        self.tcpdump: subprocess.Popen | None = None

    def start_daemon(self) -> None:
        # the capture first: the daemon's first RAs are in it
        if TCPDUMP:
            err = open(self.tmp / "tcpdump.stderr", "wb")
            try:
                self.tcpdump = self.lab.popen(
                    self.srv, [TCPDUMP, "-i", "srv0", "-n", "-U", "-s", "256",
                               "-w", str(self.pcap)],
                    stdin=subprocess.DEVNULL, stdout=err, stderr=err)
            finally:
                err.close()
            deadline = time.monotonic() + 10
            while b"listening" not in (self.tmp / "tcpdump.stderr").read_bytes():
                if time.monotonic() > deadline or self.tcpdump.poll() is not None:
                    break
                time.sleep(0.1)
        super().start_daemon()

    def stop_capture(self) -> None:
        if self.tcpdump is not None:
            self.lab.kill(self.tcpdump, grace=2.0)
            self.tcpdump = None

    def capture(self, bpf: str = "", n: int | None = None) -> list[str]:
        """Lines of `tcpdump -r` of srv0's capture (filter bpf)."""
        if not TCPDUMP or not self.pcap.exists():
            return []
        p = subprocess.run([TCPDUMP, "-n", "-e", "-r", str(self.pcap),
                            *([bpf] if bpf else [])],
                           capture_output=True, text=True, timeout=30)
        lines = p.stdout.splitlines()
        return lines if n is None else lines[-n:]

    def close(self) -> None:
        self.stop_capture()
        super().close()

    def diagnostics(self) -> str:
        cap = "\n".join(self.capture(n=40)) if TCPDUMP else "(no tcpdump)"
        return f"{super().diagnostics()}\n--- srv0 capture (tail) ---\n{cap}"


# ---------------------------------------------------------------------------
# journal predicates
# ---------------------------------------------------------------------------

def dhcp6_reply(evs: list[dict], after_us: int = 0, **detail):
    """The first REPLY that commits a binding: to a REQUEST (iPXE and OVMF
    do SOLICIT/ADVERTISE/REQUEST/REPLY) or to a Rapid Commit SOLICIT."""
    got = [e for e in (first(evs, "dhcp6", k, after_us, decision="reply",
                             lease="committed", **detail)
                       for k in ("request", "solicit")) if e]
    return min(got, key=lambda e: e["ts_us"]) if got else None


def journal(bl: IPv6BootLab, proto: str) -> list[dict]:
    """Every event of proto, whatever machine (or none) it is filed under."""
    return bl.daemon.cli_json("events", "--proto", proto, "--limit", "100000")


def check_learned_mac(ev: dict, mac: str) -> None:
    """The daemon found the MAC in the DHCPv6 packet itself: the DUID
    (LL/LLT) or the EUI-64 link-local source (the firmwares here send a
    DUID-UUID, so it is the source address)."""
    d = ev["detail"]
    assert (ev.get("mac") or "").lower() == mac, ev
    assert d.get("mac_from") in ("duid", "eui-64", "option-79"), ev
    if d.get("mac_from") == "eui-64":
        assert ipaddress.ip_address(d.get("src", "::")) == \
            ipaddress.ip_address(eui64_ll(mac)), ev


def check_linux_chain6(bl: IPv6BootLab, mac: str, after_us: int) -> dict:
    """From after_us: DHCPv6 as iPXE (the script URL) in mac's timeline ->
    script (linux) -> vmlinuz -> initrd.img over HTTP/IPv6, in that order,
    all from the address of that REPLY.  The script is looked for in mac's
    timeline (its URL names the MAC); the kernel and initrd in the whole
    journal, by client address (see attributed())."""
    def chain(evs):
        rep = dhcp6_reply(evs, after_us, user_class="iPXE", boot="ipxe",
                          file=bl.script_url)
        if not rep or not rep["detail"].get("address"):
            return None
        addr = rep["detail"]["address"]
        script = first(evs, "http", "script", rep["ts_us"], client=addr,
                       path=path_is("/boot.ipxe"), status=200)
        if not script:
            return None
        web = journal(bl, "http")
        kern = first(web, "http", "asset", script["ts_us"], client=addr,
                     path=path_is("/assets/vmlinuz"), method="GET", status=200)
        if not kern:
            return None
        initrd = first(web, "http", "asset", kern["ts_us"], client=addr,
                       path=path_is("/assets/initrd.img"), method="GET",
                       status=200)
        if not initrd:
            return None
        return dict(reply=rep, script=script, kernel=kern, initrd=initrd)
    got = bl.wait_for(mac, chain, 20, "chain dhcp6(iPXE) -> http script -> "
                      "vmlinuz -> initrd.img")
    check_learned_mac(got["reply"], mac)
    assert ipaddress.ip_address(got["reply"]["detail"]["address"]) in SUBNET6, got["reply"]
    assert got["script"]["detail"].get("profile") == "linux", got["script"]
    # served to the machine itself: its address is its DHCPv6 binding
    assert got["script"]["detail"].get("auth") == "lease6", got["script"]
    for k, f in (("kernel", "vmlinuz"), ("initrd", "initrd.img")):
        assert got[k]["detail"].get("bytes") == (bl.assets / f).stat().st_size, got[k]
    return got


def attributed(mac: str, **evs: dict) -> None:
    """Every fetch from the machine's leased IPv6 address is filed under its
    MAC (the journal looks the peer address up in the DHCPv6 leases)."""
    bad = {k: e for k, e in evs.items() if (e.get("mac") or "").lower() != mac}
    what = "; ".join(f"{k}: {e['proto']} {e['kind']} "
                     f"{e['detail'].get('path') or e['detail'].get('file')} "
                     f"client={e['detail'].get('client')} mac={e.get('mac')!r}"
                     for k, e in bad.items())
    assert not bad, f"fetches not filed under {mac}: {what}"


def check_no_ipv4(bl: IPv6BootLab) -> None:
    """The capture on srv0: the server side never sent IPv4 or ARP, and it
    did send router advertisements."""
    if not TCPDUMP:
        return
    bl.stop_capture()
    srv_mac = bl.lab.mac(bl.srv, "srv0")
    v4 = bl.capture(f"ether src {srv_mac} and (ip or arp)")
    assert not v4, "IPv4/ARP sent by the server side:\n" + "\n".join(v4[:20])
    ra = bl.capture(f"ether src {srv_mac} and icmp6 and ip6[40] == 134")
    assert ra, "no router advertisement from srv0 in the capture"


def show_fetches(mac: str, **evs: dict) -> None:
    """Print the chain's fetches as found by client address (the timeline
    above lacks those ironbootd did not file under the MAC)."""
    print(f"=== fetches of {mac}, by its DHCPv6 addresses (whole journal) ===")
    for k, e in sorted(evs.items(), key=lambda kv: kv[1]["ts_us"]):
        d = e["detail"]
        t = time.strftime("%H:%M:%S", time.gmtime(e["ts_us"] / 1e6))
        print(f"{t}.{e['ts_us'] // 1000 % 1000:03d}  {e['proto']:<5}  {e['kind']:<9}"
              f"  {d.get('path') or d.get('file')}  client={d.get('client')}"
              f"  bytes={d.get('bytes')}  ms={d.get('ms')}  mac={e.get('mac') or '-'}")


def duid_type(ev: dict) -> str:
    cid = (ev.get("client_id") or "").replace(":", "")
    names = {1: "LLT", 2: "EN", 3: "LL", 4: "UUID"}
    try:
        t = int(cid[:4], 16)
    except ValueError:
        return f"? ({ev.get('client_id')!r})"
    return f"DUID-{names.get(t, t)}"


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------

def test_bios_ipxe6_linux(make_lab):
    """SeaBIOS + iPXE ROM: RA -> DHCPv6 (iPXE) -> script -> kernel + initrd
    over HTTP/IPv6 -> marker."""
    need(BIOS_ROM)
    bl = make_lab(IPv6BootLab)
    mac = BIOS6_MAC
    sercon = bl.tmp / "sercon-port"
    sercon.write_bytes((0x3f8).to_bytes(2, "little"))
    bl.start_qemu("bios6", [
        "-machine", "pc",
        # SeaBIOS' serial console; pxe-virtio.rom wants a virtio 1.0 NIC
        "-fw_cfg", f"name=etc/sercon-port,file={sercon}",
        "-device", f"virtio-net-pci,netdev=n0,mac={mac},disable-legacy=on,"
                   f"romfile={BIOS_ROM},bootindex=1",
        "-boot", "n"])
    with bl.explain(mac):
        bl.wait_marker(BIOS6_HOST, BOOT6_TIMEOUT)
        got = check_linux_chain6(bl, mac, 0)
        rep = got["reply"]
        print(f"\niPXE DHCPv6: {duid_type(rep)}, mac_from={rep['detail'].get('mac_from')}")
        # lab-ipv6.yaml's MAC reservation: only if the MAC was learned
        assert rep["detail"].get("address") == BIOS6_ADDR, rep
        assert not [e for e in bl.events(mac) if e.get("proto") == "dhcp4"]
        check_no_ipv4(bl)
        bl.mark("checks done")
    show_fetches(mac, script=got["script"], kernel=got["kernel"], initrd=got["initrd"])
    attributed(mac, kernel=got["kernel"], initrd=got["initrd"])


def test_uefi_pxe6_linux(make_lab):
    """OVMF PXEv6 -> TFTP ipxe.efi over IPv6 -> DHCPv6 as iPXE -> script ->
    kernel + initrd over HTTP/IPv6 -> marker."""
    need(OVMF_CODE, OVMF_VARS, IPXE_EFI)
    bl = make_lab(IPv6BootLab)
    mac = UEFI6_MAC
    tftp_url = f"tftp://[{SRV6}]/{bl.cfg['boot']['efi_x64']}"
    bl.start_qemu("uefi6", _ovmf(bl, mac, [
        # OVMF tries PXEv4, PXEv6, HTTPv4, HTTPv6 per NIC: with IPv4 PXE off
        # "UEFI PXEv6" is the first boot option
        "-fw_cfg", "name=opt/org.tianocore/IPv4PXESupport,string=n"]))
    with bl.explain(mac):
        bl.wait_marker(UEFI6_HOST, BOOT6_TIMEOUT)
        fw = dhcp6_reply(bl.events(mac), 0, boot="pxe", arch=7)
        assert fw, "no committed DHCPv6 exchange of the firmware's PXE (arch 7)"
        print(f"\nOVMF PXEv6 DHCPv6: {duid_type(fw)}, "
              f"mac_from={fw['detail'].get('mac_from')}")
        assert fw["detail"].get("file") == tftp_url, fw
        assert "PXEClient:Arch:00007" in fw["detail"].get("vendor_class", ""), fw
        assert fw["detail"].get("user_class") is None, fw
        check_learned_mac(fw, mac)
        fw_addr = fw["detail"].get("address")
        assert fw_addr and ipaddress.ip_address(fw_addr) in SUBNET6, fw
        xfer = bl.wait_for(mac, lambda _: first(journal(bl, "tftp"), "tftp", "transfer",
                                                 fw["ts_us"], file="ipxe.efi",
                                                 client=fw_addr, result="ok"),
                           10, "TFTP transfer of ipxe.efi over IPv6")
        assert xfer["detail"].get("bytes") == IPXE_EFI.stat().st_size, xfer
        got = check_linux_chain6(bl, mac, xfer["ts_us"])
        assert fw["ts_us"] <= xfer["ts_us"] <= got["reply"]["ts_us"]
        assert not [e for e in bl.events(mac) if e.get("proto") == "dhcp4"]
        check_no_ipv4(bl)
        bl.mark("checks done")
    show_fetches(mac, tftp=xfer, script=got["script"], kernel=got["kernel"],
                 initrd=got["initrd"])
    attributed(mac, tftp=xfer, kernel=got["kernel"], initrd=got["initrd"])
