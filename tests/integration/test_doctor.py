"""`ironboot doctor` names each planted failure (issue 14).

One lab runs examples/lab.yaml as shipped, except where it plants the
failures: the state dir, an assets dir without initrd.img, a TFTP root
whose undionly.kpxe is a copy of ipxe.efi (a PE handed to BIOS), and two
TFTP retries instead of five (a stalled transfer ends in seconds).
Machines, one MAC each, talk to it with scapy-built DHCPv4/DHCPv6 packets,
tftp-hpa and curl from a client namespace (the client's source address is
set to the machine's lease per step), each stopping where its failure
stops a real one.  Then:

    srv: srv0 198.18.0.1/24 fd00:b007::1/64  <->  cli: cli0 198.18.0.2/24

- `ironboot doctor` names the setup's faults (and a clean setup exits 0);
- `ironboot doctor --mac M` names each machine's failure, most likely first;
- the daemon logs one warning per machine and failure.
"""

from __future__ import annotations

import json
import random
import re
import select
import shutil
import socket
import struct
import time
from pathlib import Path

import pytest
import yaml

import netlab
from netlab import Daemon, lab_config

from scapy.all import BOOTP, DHCP, IP, UDP, Ether  # noqa: E402
from scapy.layers.dhcp6 import (  # noqa: E402
    DHCP6_RelayForward, DHCP6_Solicit, DHCP6OptClientArchType, DHCP6OptClientId,
    DHCP6OptIA_NA, DHCP6OptOptReq, DHCP6OptRapidCommit, DHCP6OptRelayMsg, DUID_LL)

SRV, CLI = "198.18.0.1", "198.18.0.2"
IPXE = Path("/usr/lib/ipxe")
QUIET = 11          # the rules call a step stalled after 10 s without a next one

M_LOOP = "52:54:00:00:d0:01"     # chainload loop
M_NOTFTP = "52:54:00:00:d0:02"   # ACK, no TFTP
M_NOREQ = "52:54:00:00:d0:03"    # OFFERs, no REQUEST
M_BIOS = "52:54:00:00:d0:04"     # BIOS handed a PE
M_404 = "52:54:00:00:d0:05"      # initrd missing
M_LOCAL = "52:54:00:00:00:20"    # examples/lab.yaml: group local (boot from disk)
M_RELAY = "52:54:00:00:d0:07"    # relayed from a link without a subnet
M_V6 = "52:54:00:00:d0:08"       # DHCPv6, arch 11: no bootfile-url
M_STALL = "52:54:00:00:d0:09"    # TFTP transfer that stalls
M_NOADV = "52:54:00:00:d0:0a"    # DHCPv6 ADVERTISE, no REQUEST
M_NOGRP = "52:54:00:00:d0:0b"    # no group matches
M_AGENT = "52:54:00:00:d0:0c"    # the agent never reports
M_FAIL = "52:54:00:00:d0:0d"     # a lifecycle step fails
M_RELAY6 = "52:54:00:00:d0:0e"   # DHCPv6 relayed from a link without a subnet
RELAY6 = "fd00:b007::2"           # the DHCPv6 relay's address (dhcp6.relays)


class Lab4:
    def __init__(self, lab, tmp: Path, example: str = "lab.yaml"):
        netlab.require_tool("tftp", "curl")
        self.lab, self.tmp = lab, tmp
        self.srv, self.cli = lab.netns("srv"), lab.netns("cli")
        for ns in (self.srv, self.cli):
            lab.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
            lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
        lab.veth(self.srv, "srv0", self.cli, "cli0")
        lab.addr(self.srv, "srv0", f"{SRV}/24")
        lab.addr(self.srv, "srv0", "fd00:b007::1/64")
        lab.addr(self.cli, "cli0", f"{CLI}/24")
        lab.addr(self.cli, "cli0", f"{RELAY6}/64")       # the lab's DHCPv6 relay
        self.tftp = tmp / "tftp"
        self.assets = tmp / "assets"
        self.tftp.mkdir()
        self.assets.mkdir()
        for f in ("ipxe.efi", "undionly.kpxe"):
            shutil.copy(IPXE / f, self.tftp / f)
        # as the example's comment says: the kernel, initrd and ipxe.efi (UEFI
        # HTTP boot) under http.assets; the agent's image for the lifecycle
        (self.assets / "vmlinuz").write_bytes(b"\0" * 4096)
        (self.assets / "initrd.img").write_bytes(b"\0" * 4096)
        shutil.copy(IPXE / "ipxe.efi", self.assets / "ipxe.efi")
        (self.assets / "agent").mkdir()
        (self.assets / "agent" / "vmlinuz").write_bytes(b"\0" * 4096)
        (self.assets / "agent" / "initrd.img").write_bytes(b"\0" * 4096)
        cfg = lab_config(example)
        cfg["server"]["state_dir"] = str(tmp / "state")
        cfg["http"]["assets"] = str(self.assets)
        cfg["tftp"]["root"] = str(self.tftp)
        cfg["tftp"]["max_retries"] = 2
        # the lab's relay, as its operator lists it (a RELAY-FORW from an
        # unlisted host is dropped: test_dhcp6.py)
        cfg.setdefault("dhcp6", {})["relays"] = [RELAY6]
        cfg.setdefault("dhcp4", {})["relays"] = [CLI]     # and the DHCPv4 one
        self.token = "doctor-test-token"
        if cfg["http"].get("api_token_file"):
            (tmp / "api-token").write_text(self.token + "\n")
            (tmp / "api-token").chmod(0o600)
            cfg["http"]["api_token_file"] = str(tmp / "api-token")
        self.path = tmp / "ironboot.yaml"
        self.start(cfg)
        self.raw = lab.socket(self.cli, socket.AF_PACKET, socket.SOCK_RAW,
                              socket.htons(0x0800))
        self.raw.bind(("cli0", 0x0800))

    def start(self, cfg: dict) -> None:
        self.cfg = cfg
        self.path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        self.d = Daemon(self.lab, self.srv, self.path).start(timeout=20)

    # -- DHCPv4 by scapy over a raw socket: any chaddr from one interface --------
    def _xchg(self, mac: str, xid: int, opts: list, want: str | None,
              timeout: float = 3.0) -> BOOTP | None:
        pkt = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
               IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
               BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")), xid=xid, flags=0x8000) /
               DHCP(options=opts + ["end"]))
        # the raw socket also saw the TFTP and HTTP traffic: drop it, or a
        # full buffer drops the reply
        self.raw.setblocking(False)
        try:
            while True:
                self.raw.recv(65535)
        except BlockingIOError:
            pass
        self.raw.setblocking(True)
        self.raw.send(bytes(pkt))
        if want is None:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.raw], [], [], deadline - time.monotonic())
            if not r:
                break
            data, addr = self.raw.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            e = Ether(data)
            if BOOTP in e and e[BOOTP].op == 2 and e[BOOTP].xid == xid:
                return e[BOOTP]
        raise AssertionError(f"no {want} for {mac}")

    @staticmethod
    def _firmware(arch: int, ipxe: bool) -> list:
        o = [("pxe_client_architecture", struct.pack("!H", arch)),
             ("vendor_class_id", f"PXEClient:Arch:{arch:05d}:UNDI:003016".encode())]
        if ipxe:
            o.append(("user_class", b"iPXE"))
        return o

    def discover(self, mac: str, arch: int = 7, ipxe: bool = False) -> BOOTP:
        xid = random.getrandbits(32)
        return self._xchg(mac, xid, [("message-type", "discover")] +
                          self._firmware(arch, ipxe), "OFFER")

    def dora(self, mac: str, arch: int = 7, ipxe: bool = False) -> str:
        return self.dora_opts(mac, self._firmware(arch, ipxe)).yiaddr

    def dora_opts(self, mac: str, opts: list) -> BOOTP:
        """DISCOVER, REQUEST with the client options opts; the ACK."""
        xid = random.getrandbits(32)
        off = self._xchg(mac, xid, [("message-type", "discover")] + opts, "OFFER")
        ack = self._xchg(mac, xid, [("message-type", "request"),
                                    ("requested_addr", off.yiaddr), ("server_id", SRV)] +
                         opts, "ACK")
        assert ack.yiaddr == off.yiaddr
        return ack

    # -- TFTP and HTTP from the machine's address ---------------------------------
    def use_addr(self, addr: str) -> None:
        """Traffic to the server leaves from addr (the machine's lease)."""
        self.lab.run(self.cli, ["ip", "addr", "replace", f"{addr}/24", "dev", "cli0"],
                     check=True)
        self.lab.run(self.cli, ["ip", "route", "replace", f"{SRV}/32", "dev", "cli0",
                                "src", addr], check=True)

    def tftp_get(self, name: str) -> None:
        out = self.tmp / "got"
        p = self.lab.run(self.cli, ["tftp", SRV, "-m", "binary", "-c", "get", name,
                                    str(out)], timeout=60)
        assert out.exists() and out.stat().st_size > 0, p.stderr + p.stdout

    def curl(self, path: str, *args: str, ns: str | None = None) -> int:
        out = self.lab.run(ns or self.cli, ["curl", "-s", "-o", "/dev/null", "-w",
                                            "%{http_code}", *args,
                                            f"http://{SRV}:8080{path}"], timeout=30).stdout
        return int(out)

    def post(self, path: str, body: dict, token: str | None = None) -> int:
        """POST JSON from the machine's address (the agent), or with the API
        token from the server (the operator)."""
        args = ["-X", "POST", "-H", "Content-Type: application/json",
                "--data", json.dumps(body)]
        if token:
            args += ["-H", f"Authorization: Bearer {token}"]
        return self.curl(path, *args, ns=self.srv if token else None)

    def stall_tftp(self, addr: str, name: str) -> None:
        """RRQ, ACK the OACK, then fall silent with the port open (a closed
        one would end the transfer at once): the server gives up."""
        s = self.lab.socket(self.cli)
        self.stalled = s                            # closed by the fixture
        s.bind((addr, 0))
        s.settimeout(5)
        s.sendto(b"\0\1" + name.encode() + b"\0octet\0blksize\0" + b"1428\0", (SRV, 69))
        pkt, peer = s.recvfrom(65535)
        assert struct.unpack("!H", pkt[:2])[0] == 6, pkt      # OACK
        s.sendto(struct.pack("!HH", 4, 0), peer)
        s.recvfrom(65535)                           # DATA 1: never ACKed

    # -- DHCPv6 ------------------------------------------------------------------
    def solicit6(self, mac: str, arch: int, rapid: bool = True,
                 link: str | None = None) -> bytes | None:
        """A SOLICIT of mac; with link, inside a relay's RELAY-FORW from that
        link-address (no answer is awaited then: the link has no subnet)."""
        ll = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not ll:
            out = self.lab.run(self.cli, ["ip", "-6", "-o", "addr", "show", "dev", "cli0",
                                          "scope", "link"]).stdout
            if "inet6 fe80" in out and "tentative" not in out:
                ll = out
            else:
                time.sleep(0.1)
        assert ll, "no link-local address on cli0"
        ifindex = int(self.lab.run(self.cli, ["cat", "/sys/class/net/cli0/ifindex"]).stdout)
        p = (DHCP6_Solicit(trid=0x77) / DHCP6OptClientId(duid=DUID_LL(lladdr=mac)) /
             DHCP6OptIA_NA(iaid=1) / DHCP6OptOptReq(reqopts=[23, 59]) /
             DHCP6OptClientArchType(archtypes=[arch]))
        if rapid:
            p /= DHCP6OptRapidCommit()
        if link:
            p = (DHCP6_RelayForward(hopcount=0, linkaddr=link,
                                    peeraddr="fe80::5054:ff:fe00:d00e") /
                 DHCP6OptRelayMsg(message=p))
        s = self.lab.socket(self.cli, socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"cli0")
            s.bind((RELAY6, 547) if link else ("::", 546))
            s.settimeout(5)
            s.sendto(bytes(p), ("ff02::1:2", 547, 0, ifindex))
            if not link:
                return s.recvfrom(65535)[0]         # REPLY (rapid commit) or ADVERTISE
            return None
        finally:
            s.close()

    def relayed_discover(self, mac: str, giaddr: str) -> None:
        """A relay's DISCOVER from a link no subnet covers: no answer."""
        s = self.lab.socket(self.cli)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((CLI, 67))
            b = BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")), xid=0x5151,
                      giaddr=giaddr, hops=1) / DHCP(options=[("message-type", "discover"),
                                                             "end"])
            s.sendto(bytes(b), (SRV, 67))
        finally:
            s.close()

    # -- the doctor ----------------------------------------------------------------
    def doctor(self, *args: str, config: Path | None = None) -> tuple[int, dict]:
        p = self.lab.run(self.srv, [str(self.d.cli_bin), "--config",
                                    str(config or self.path), "--json", "doctor", *args],
                         timeout=60)
        assert p.returncode in (0, 1, 2), p.stderr
        return p.returncode, json.loads(p.stdout)

    def doctor_until(self, rule: str, timeout: float = 20) -> tuple[int, dict]:
        """`ironboot doctor` until it names rule (the journal it reads is
        flushed by timers), or the timeout: the last answer."""
        deadline = time.monotonic() + timeout
        while True:
            rc, out = self.doctor()
            if rule in rules(out) or time.monotonic() > deadline:
                return rc, out
            time.sleep(0.5)

    def doctor_mac(self, mac: str, rule: str, timeout: float = 40) -> dict:
        """doctor --mac until rule is its most likely cause (the journal is
        flushed by timers; time-based rules need their quiet period)."""
        deadline = time.monotonic() + timeout
        while True:
            rc, out = self.doctor("--mac", mac)
            if out.get("most_likely") == rule:
                assert rc == (2 if out["findings"][0]["severity"] == "error" else 1), out
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{mac}: want {rule}, got {json.dumps(out, indent=1)}")
            time.sleep(0.5)


@pytest.fixture
def env(lab, tmp_path):
    e = Lab4(lab, tmp_path)
    yield e
    e.raw.close()
    if getattr(e, "stalled", None):
        e.stalled.close()
    e.d.stop()


def rules(out: dict, severity: str | None = None) -> list[str]:
    return [f["rule"] for f in out["findings"]
            if severity is None or f["severity"] == severity]


def test_doctor_setup(env):
    # As shipped (with its files in place), nothing but notes: arm64 has no
    # boot file in the example.
    rc, out = env.doctor()
    assert rc == 0, out
    assert set(rules(out)) <= {"arch-coverage"}, out
    # Plant: BIOS's file is a PE, the initrd is gone.
    (env.tftp / "undionly.kpxe").unlink()
    shutil.copy(IPXE / "ipxe.efi", env.tftp / "undionly.kpxe")
    (env.assets / "initrd.img").unlink()
    env.relayed_discover(M_RELAY, "198.18.77.1")
    rc, out = env.doctor_until("relay-no-subnet")
    assert rc == 2, out
    by = {f["rule"]: f for f in out["findings"]}
    assert "boot.bios" in by["bootfile"]["cause"] and "UEFI PE" in by["bootfile"]["cause"]
    assert "initrd.img" in by["asset-missing"]["cause"]
    assert "198.18.77.1" in by["relay-no-subnet"]["cause"]
    assert "service-not-listening" not in by and "address-not-local" not in by, out
    # A config pointing clients elsewhere, without an iPXE script, on a
    # port nothing listens on.
    cfg = json.loads(json.dumps(env.cfg))
    cfg["boot"]["next_server"] = "198.18.0.250"
    del cfg["boot"]["ipxe_script"]
    cfg["http"]["port"] = 8081
    cfg["profiles"][0]["initrd"] = [f"http://{SRV}:8080/assets/gone.img"]  # HEAD: 404
    cfg["profiles"][0]["script"] = "user-data.yaml"     # a template, not an iPXE script
    bad = env.tmp / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg, sort_keys=False))
    rc, out = env.doctor(config=bad)
    assert rc == 2
    causes = " | ".join(f["cause"] for f in out["findings"])
    assert "boot.next_server points clients at 198.18.0.250" in causes, causes
    assert "gets no script URL" in causes and "chainload loop" in causes
    assert "HTTP is configured but nothing listens on TCP port 8081" in causes
    assert f"http://{SRV}:8080/assets/gone.img, which does not answer a HEAD" in causes
    assert "profile linux's boot script does not render" in causes, causes
    # The human form says the same, with the exit status.
    p = env.lab.run(env.srv, [str(env.d.cli_bin), "--config", str(bad), "doctor"])
    assert p.returncode == 2 and "error    address-not-local" in p.stdout, p.stdout
    assert re.search(r"^\d+ error\(s\), \d+ warning\(s\), \d+ note\(s\)$", p.stdout, re.M)
    # A state dir ironbootd never ran in: said, and the rest still checked.
    cfg = json.loads(json.dumps(env.cfg))
    cfg["server"]["state_dir"] = str(env.tmp / "never")
    fresh = env.tmp / "fresh.yaml"
    fresh.write_text(yaml.safe_dump(cfg, sort_keys=False))
    rc, out = env.doctor(config=fresh)
    assert rules(out)[0] == "store" and "bootfile" in rules(out), out
    p = env.lab.run(env.srv, [str(env.d.cli_bin), "--config", str(fresh), "doctor",
                              "--mac", M_LOOP])
    assert p.returncode == 2 and "no journal to read" in p.stderr, p


def test_doctor_mac(env):
    (env.assets / "initrd.img").unlink()
    (env.tftp / "undionly.kpxe").unlink()
    shutil.copy(IPXE / "ipxe.efi", env.tftp / "undionly.kpxe")
    t0 = time.monotonic()
    # The quiet ones first: their rules wait 10 s for a next step.
    env.dora(M_NOTFTP)
    env.discover(M_NOREQ)
    env.discover(M_NOREQ)
    env.solicit6(M_NOADV, 7, rapid=False)
    stall = env.dora(M_STALL)
    env.use_addr(stall)
    env.stall_tftp(stall, "ipxe.efi")
    # Chainload loop: firmware DHCP and TFTP of ipxe.efi, three times, and
    # never a DHCP with user class iPXE.
    for _ in range(3):
        env.use_addr(env.dora(M_LOOP))
        env.tftp_get("ipxe.efi")
    # BIOS gets its undionly.kpxe, a PE.
    env.use_addr(env.dora(M_BIOS, arch=0))
    env.tftp_get("undionly.kpxe")
    # iPXE gets its script, then the initrd is missing.
    env.use_addr(env.dora(M_404, ipxe=True))
    assert env.curl(f"/boot.ipxe?mac={M_404}") == 200
    assert env.curl("/assets/vmlinuz") == 200
    assert env.curl("/assets/initrd.img") == 404
    # Told to boot from disk (group local), and the firmware netboots again.
    env.use_addr(env.dora(M_LOCAL, ipxe=True))
    assert env.curl(f"/boot.ipxe?mac={M_LOCAL}") == 200
    env.discover(M_LOCAL)
    env.relayed_discover(M_RELAY, "198.18.77.1")
    env.solicit6(M_V6, 11)
    env.solicit6(M_RELAY6, 7, link="fd00:b007:77::1")

    out = env.doctor_mac(M_LOOP, "chainload-loop")
    assert "no DHCP request carries user class iPXE" in out["findings"][0]["cause"]
    assert "3 TFTP transfers of ipxe.efi" in out["findings"][0]["evidence"]
    out = env.doctor_mac(M_BIOS, "bootfile-invalid")
    assert "undionly.kpxe handed out for arch 0" in out["findings"][0]["evidence"]
    out = env.doctor_mac(M_404, "http-missing")
    assert "initrd /assets/initrd.img of profile linux" in out["findings"][0]["cause"]
    env.doctor_mac(M_LOCAL, "local-boot-ignored")
    out = env.doctor_mac(M_RELAY, "relay-no-subnet")
    assert "198.18.77.1" in out["findings"][0]["evidence"]
    env.doctor_mac(M_V6, "dhcp6-no-bootfile")
    out = env.doctor_mac(M_RELAY6, "relay-no-subnet")
    assert "DHCPv6 request(s) relayed from fd00:b007:77::1" in out["findings"][0]["evidence"]
    rc, out = env.doctor("--mac", "52:54:00:00:d0:ff")
    assert rc == 2 and out["most_likely"] == "never-seen"
    # The time-based ones, once their quiet period has passed.
    time.sleep(max(0.0, QUIET - (time.monotonic() - t0)))
    out = env.doctor_mac(M_NOTFTP, "ack-no-tftp")
    assert "next-server 198.18.0.1" in out["findings"][0]["evidence"], out
    out = env.doctor_mac(M_NOREQ, "offer-no-request")
    assert "OFFER(s)" in out["findings"][0]["evidence"]
    out = env.doctor_mac(M_NOADV, "offer-no-request")
    assert "ADVERTISE(s)" in out["findings"][0]["evidence"], out
    out = env.doctor_mac(M_STALL, "tftp-failed")
    assert "timed out" in out["findings"][0]["cause"], out
    # The daemon names them too, once each.
    for mac, rule in ((M_LOOP, "chainload-loop"), (M_404, "http-missing"),
                      (M_NOTFTP, "ack-no-tftp")):
        env.d.wait_log(f"doctor: {mac}: {rule}: ", timeout=20)
    assert len(re.findall(f"doctor: {M_LOOP}: chainload-loop", env.d.log())) == 1
    # /metrics counts the machines the watch named, by rule, and the page
    # passes promtool with findings in it
    from test_metrics import parse, promtool, value
    body = env.lab.run(env.srv, ["curl", "-sSf", f"http://{SRV}:8080/metrics"],
                       timeout=30).stdout
    promtool(env.tmp, body)
    m = parse(body)
    assert value(m, "ironboot_doctor_findings", 'rule="chainload-loop"',
                 'severity="error"') == 1, body
    assert value(m, "ironboot_doctor_findings", 'rule="http-missing"') >= 1, body
    assert value(m, "ironboot_doctor_findings", 'rule="ack-no-tftp"') >= 1, body
    assert value(m, "ironboot_doctor_findings", 'rule="agent-silent"') == 0, body


def test_doctor_no_group_next_server(env):
    """The example's groups without the default one, and a next-server
    that is not this host: a machine no group matches gets the exit
    script; the firmware sent elsewhere never asks us for its file."""
    env.d.stop()
    cfg = json.loads(json.dumps(env.cfg))
    cfg["groups"] = [g for g in cfg["groups"] if g.get("selector")]
    cfg["boot"]["next_server"] = "198.18.0.250"
    env.start(cfg)
    rc, out = env.doctor()
    assert rc == 2, out
    by = {f["rule"]: f for f in out["findings"]}
    assert "52:54:00:00:00:10" in by["no-default-group"]["evidence"], out
    assert by["no-default-group"]["severity"] == "warning"
    assert "198.18.0.250" in by["address-not-local"]["cause"], out
    env.use_addr(env.dora(M_NOGRP, ipxe=True))
    assert env.curl(f"/boot.ipxe?mac={M_NOGRP}") == 200
    out = env.doctor_mac(M_NOGRP, "no-group")
    assert out["findings"][0]["severity"] == "warning"
    env.dora(M_NOTFTP)
    out = env.doctor_mac(M_NOTFTP, "ack-no-tftp", timeout=5)
    assert "next-server that is not this host" in out["findings"][0]["cause"], out
    assert "next-server 198.18.0.250" in out["findings"][0]["evidence"], out


@pytest.fixture
def lifecycle_env(lab, tmp_path):
    e = Lab4(lab, tmp_path, "lifecycle.yaml")
    yield e
    e.raw.close()
    e.d.stop()


def test_doctor_lifecycle(lifecycle_env):
    """examples/lifecycle.yaml: an agent that never reports, and a wipe
    that fails."""
    env = lifecycle_env
    # The agent's image is fetched, and the machine netboots again.
    env.use_addr(env.dora(M_AGENT, ipxe=True))
    assert env.curl(f"/boot.ipxe?mac={M_AGENT}") == 200      # discovered: the agent
    assert env.curl("/assets/agent/vmlinuz") == 200
    assert env.curl("/assets/agent/initrd.img") == 200
    env.dora(M_AGENT)
    out = env.doctor_mac(M_AGENT, "agent-silent")
    assert "netbooted again" in out["findings"][0]["evidence"], out
    # The agent reports, is told to wipe, and the wipe fails.
    env.use_addr(env.dora(M_FAIL, ipxe=True))
    assert env.curl(f"/boot.ipxe?mac={M_FAIL}") == 200
    assert env.post("/api/v1/agent/report", {"mac": M_FAIL}) == 204
    assert env.post(f"/api/v1/machines/{M_FAIL}/accept", {}, token=env.token) == 200
    assert env.curl(f"/api/v1/agent/instruction?mac={M_FAIL}") == 200
    assert env.post("/api/v1/agent/progress", {"mac": M_FAIL, "step": "wipe",
                                               "status": "failed",
                                               "error": "BLKDISCARD failed"}) in (200, 204)
    out = env.doctor_mac(M_FAIL, "lifecycle-failed")
    assert "wipe failed: BLKDISCARD failed" in out["findings"][0]["cause"], out


# -- what was handed out, and the failures the tests above do not plant -------------

def dhcp_opt(bootp: BOOTP, name: str):
    for o in bootp[DHCP].options:
        if isinstance(o, tuple) and o[0] == name:
            return o[1].decode() if isinstance(o[1], bytes) else o[1]
    return None


def answer_of(env: Lab4, mac: str, kind: str, decision: str) -> dict:
    """The detail of mac's newest event kind/decision (the journal is
    flushed by the group commit or a 1 s timer)."""
    deadline = time.monotonic() + 15
    while True:
        ev = [e["detail"] for e in env.d.cli_json("events", "--mac", mac)
              if e["kind"] == kind and e["detail"].get("decision") == decision]
        if ev:
            return ev[-1]
        assert time.monotonic() < deadline, f"no {kind} answered {decision} for {mac}"
        time.sleep(0.3)


def test_doctor_reads_what_was_handed_out(env):
    """The DHCP events record what the replies carried, byte for byte as the
    client received them: siaddr (the next-server), the file field and
    options 66 and 67 over DHCPv4, option 59 over DHCPv6.  The machine rules
    reason from these (ack-no-tftp's next-server, bootfile-invalid's file,
    dhcp6-no-bootfile's URL)."""
    from scapy.layers.dhcp6 import DHCP6_Reply, DHCP6OptBootFileUrl

    m_pxe, m_ipxe, m_http, m_v6 = ("52:54:00:00:d1:01", "52:54:00:00:d1:02",
                                   "52:54:00:00:d1:03", "52:54:00:00:d1:04")
    pxe = env.dora_opts(m_pxe, env._firmware(7, False))
    ipxe = env.dora_opts(m_ipxe, env._firmware(7, True))
    http = env.dora_opts(m_http, [("pxe_client_architecture", struct.pack("!H", 16)),
                                  ("vendor_class_id", b"HTTPClient:Arch:00016:UNDI:003016")])
    rep6 = DHCP6_Reply(env.solicit6(m_v6, 7))
    url6 = rep6[DHCP6OptBootFileUrl].optdata.decode()

    # firmware PXE: the file field, option 67, siaddr and option 66 agree
    d = answer_of(env, m_pxe, "request", "ack")
    assert (d["file"], dhcp_opt(pxe, "boot-file-name"),
            pxe.file.rstrip(b"\0").decode()) == ("ipxe.efi",) * 3, (d, pxe.show(dump=True))
    assert d["next_server"] == pxe.siaddr == dhcp_opt(pxe, "tftp_server_name") == SRV, d
    # iPXE: the script URL in option 67, siaddr still the next-server
    d = answer_of(env, m_ipxe, "request", "ack")
    assert d["file"] == dhcp_opt(ipxe, "boot-file-name"), d
    assert d["file"].startswith(f"http://{SRV}:8080/boot.ipxe?mac="), d
    assert d["next_server"] == ipxe.siaddr == SRV, d
    # UEFI HTTP boot: a URL, and no next-server (siaddr 0)
    d = answer_of(env, m_http, "request", "ack")
    assert d["file"] == dhcp_opt(http, "boot-file-name") == f"http://{SRV}:8080/assets/ipxe.efi"
    assert http.siaddr == "0.0.0.0" and "next_server" not in d, d
    # DHCPv6 firmware: option 59
    d = answer_of(env, m_v6, "solicit", "reply")
    assert d["file"] == url6 and url6.startswith("tftp://[fd00:b007::1]/ipxe.efi"), (d, url6)


def bootfile_causes(out: dict) -> str:
    return " | ".join(f["cause"] for f in out["findings"] if f["rule"] == "bootfile")


def test_doctor_setup_bad_downloads_pools(env):
    """Setup faults test_doctor_setup does not plant: a boot file that is an
    HTML error page, a truncated download, a missing one, an x86-64 build
    handed to arm64,
    a next-server on an interface dhcp4 does not serve, DHCPv6 without
    iPXE's script URL, a DHCPv6 relay from a link without a subnet, and a
    pool nine tenths full."""
    efi = (IPXE / "ipxe.efi").read_bytes()
    (env.tftp / "ipxe.efi").write_bytes(b"<!DOCTYPE html>\n<html><head><title>404 Not Found"
                                        b"</title></head><body>Not Found</body></html>\n")
    rc, out = env.doctor()
    assert rc == 2 and "boot.efi_x64 is ipxe.efi" in bootfile_causes(out), out
    assert "an HTML page" in bootfile_causes(out), out
    (env.tftp / "ipxe.efi").write_bytes(efi[:8192])
    rc, out = env.doctor()
    assert rc == 2 and "a truncated PE image" in bootfile_causes(out), out
    (env.tftp / "ipxe.efi").write_bytes(efi)
    (env.tftp / "undionly.kpxe").unlink()
    rc, out = env.doctor()
    assert bootfile_causes(out) == "boot.bios names undionly.kpxe, which is not under " \
        f"tftp.root {env.tftp}", out
    shutil.copy(IPXE / "undionly.kpxe", env.tftp / "undionly.kpxe")
    rc, out = env.doctor()
    assert rc == 0 and "bootfile" not in rules(out), out
    # as shipped, arm64 has no boot file over either family: a note each
    notes = [f["cause"] for f in out["findings"] if f["rule"] == "arch-coverage"]
    assert any("arch 11 (UEFI arm64) gets no boot file over DHCPv4 and DHCPv6" in n
               for n in notes), notes

    # arm64 handed the x86-64 build; the next-server on a management link
    # dhcp4 does not serve; no script URL for iPXE over DHCPv6
    mgmt = env.lab.netns("mgmt")
    env.lab.veth(env.srv, "mgmt0", mgmt, "mgmt1")
    env.lab.addr(env.srv, "mgmt0", "198.18.2.1/24")
    cfg = json.loads(json.dumps(env.cfg))
    cfg["boot"]["efi_arm64"] = "ipxe.efi"
    cfg["boot"]["next_server"] = "198.18.2.1"
    del cfg["boot"]["ipxe_script6"]
    bad = env.tmp / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg, sort_keys=False))
    rc, out = env.doctor(config=bad)
    assert rc == 2, out
    assert re.search(r"boot\.efi_arm64 is ipxe\.efi, .*a PE image for another CPU",
                     bootfile_causes(out)), out
    far = [f for f in out["findings"] if f["rule"] == "address-not-local"]
    assert len(far) == 1 and far[0]["severity"] == "warning", far
    assert "198.18.2.1" in far[0]["cause"] and "mgmt0" in far[0]["cause"], far
    ipxe6 = [f for f in out["findings"] if f["rule"] == "arch-coverage" and
             "iPXE's own DHCPv6" in f["cause"]]
    assert ipxe6 and ipxe6[0]["severity"] == "error", out
    assert "boot.ipxe_script6" in ipxe6[0]["fix"], ipxe6

    # a DHCPv6 relay from a link no subnet covers, and 90 of the 100
    # addresses of 198.18.0.100-199 leased
    env.solicit6(M_RELAY6, 7, link="fd00:b007:77::1")
    deadline = time.monotonic() + 120
    for i in range(90):
        env.dora(f"52:54:00:00:e0:{i:02x}")
        assert time.monotonic() < deadline, f"{i} leases in 120 s"
    rc, out = env.doctor_until("relay-no-subnet")
    by = {f["rule"]: f for f in out["findings"]}
    assert rc == 2, out             # relay-no-subnet is an error
    assert "fd00:b007:77::1" in by["relay-no-subnet"]["cause"], out
    assert by["pool-exhaustion"]["severity"] == "warning", out
    assert "198.18.0.0/24" in by["pool-exhaustion"]["cause"], out
    assert "90" in by["pool-exhaustion"]["evidence"], out


M_KERNEL = "52:54:00:00:d0:10"   # the kernel is missing
M_RENDER = "52:54:00:00:d0:11"   # its script does not render for it (422)


def test_doctor_kernel_404_script_422(env):
    """An HTTP 404 on the kernel, and a 422 on the script, which does not
    render for the machine: iPXE sends the hostname DHCP gave it, and one
    with a blank cannot go into the kernel arguments of an iPXE line.  Each
    named with its profile."""
    (env.assets / "vmlinuz").unlink()
    env.use_addr(env.dora(M_KERNEL, ipxe=True))
    assert env.curl(f"/boot.ipxe?mac={M_KERNEL}") == 200
    assert env.curl("/assets/vmlinuz") == 404
    out = env.doctor_mac(M_KERNEL, "http-missing")
    assert "kernel /assets/vmlinuz of profile linux" in out["findings"][0]["cause"], out
    assert "GET /assets/vmlinuz answered 404" in out["findings"][0]["evidence"], out

    env.use_addr(env.dora(M_RENDER, ipxe=True))
    assert env.curl(f"/boot.ipxe?mac={M_RENDER}&hostname=rack%201") == 422
    out = env.doctor_mac(M_RENDER, "http-missing")
    f = out["findings"][0]
    assert "the script of profile linux could not be served (HTTP 422" in f["cause"], out
    assert "blank" in f["cause"], out


M_MISSING = "52:54:00:00:d0:12"  # asks TFTP for a file that is not there
FORGER = "198.18.0.77"           # a host on the link, leased nothing


def test_doctor_tftp_refusal_unverified(env):
    """Issue #11 follow-up: a TFTP event is a machine's only once its client
    ACKed a block, and a client told "file not found" never ACKs, so a
    machine asking for a file that is not there (a hand-written or wrong
    path, which the setup rule `bootfile` does not cover) lost its
    diagnosis.  The refusal of an RRQ from the address leased to the MAC
    shows again, as a warning whose evidence says it stands on the source
    address only: a forger can plant no error.  A forged RRQ from another
    address is nobody's."""
    netlab.require_tool("tftp")
    addr = env.dora(M_MISSING)
    # first the forger, from an address leased to nobody: its refusal is
    # journalled before the machine's, so the doctor's answer below has
    # seen it
    env.lab.addr(env.cli, "cli0", f"{FORGER}/32")
    s = env.lab.socket(env.cli)
    try:
        s.bind((FORGER, 0))
        s.settimeout(5)
        s.sendto(b"\0\1forged/planted.efi\0octet\0", (SRV, 69))
        pkt, _ = s.recvfrom(65535)
        assert struct.unpack("!H", pkt[:2])[0] == 5, pkt      # ERROR: not found
    finally:
        s.close()
    env.use_addr(addr)
    p = env.lab.run(env.cli, ["tftp", SRV, "-m", "binary", "-c", "get",
                              "images/grub-typo.efi", str(env.tmp / "got")], timeout=60)
    assert "not found" in (p.stdout + p.stderr).lower(), p.stdout + p.stderr
    out = env.doctor_mac(M_MISSING, "tftp-refused-unverified")
    f = out["findings"][0]
    assert f["severity"] == "warning", out
    assert "images/grub-typo.efi" in f["cause"] and "file not found" in f["cause"], f
    assert f["evidence"].startswith("unverified (source address only): 1 refused "
                                    f"request(s) from {addr},"), f
    assert "planted" not in json.dumps(out), out
    # no error rests on it: neither the verified rule nor "lost on the way"
    assert not rules(out, "error"), out
    time.sleep(QUIET)                       # ack-no-tftp's quiet period
    rc, out = env.doctor("--mac", M_MISSING)
    assert rc == 1 and rules(out) == ["tftp-refused-unverified"], out
