"""DHCPv6 against real clients in network namespaces the test creates:

    srv: srv0 fd00:b007::1/64  <->  cli: cli0 (link-local, fd00:b007::2/64)

dhclient -6 obtains and releases; perfdhcp -6 runs SARR exchanges; scapy
builds the firmware and iPXE clients (UEFI x64 with option 61 = 7, iPXE
with user class, a DUID-UUID client behind a relay carrying option 79, a
client without option 61) and checks the bootfile-url and the reserved
address.  Malformed datagrams are dropped and a normal exchange follows.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_dhcp6.py -v
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
import struct
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import netlab

from scapy.layers.dhcp6 import (  # noqa: E402
    DHCP6, DHCP6_Advertise, DHCP6_Reply, DHCP6_Release, DHCP6_Renew, DHCP6_Request,
    DHCP6_Solicit, DHCP6_RelayForward, DHCP6_RelayReply, DHCP6OptBootFileUrl,
    DHCP6OptClientArchType, DHCP6OptClientId, DHCP6OptClientLinkLayerAddr,
    DHCP6OptDNSServers, DHCP6OptIA_NA, DHCP6OptIAAddress, DHCP6OptIfaceId,
    DHCP6OptOptReq, DHCP6OptRapidCommit, DHCP6OptRelayMsg, DHCP6OptServerId,
    DHCP6OptStatusCode, DHCP6OptUserClass, DHCP6OptVendorClass, DUID_LL, DUID_UUID,
    USER_CLASS_DATA, VENDOR_CLASS_DATA)

SRV6 = "fd00:b007::1"
RELAY = "fd00:b007::2"          # the link's relay, listed in the subnet's relays
ROGUE = "fd00:b007::3"          # any other host on the link
RESERVED_MAC = "52:54:00:00:00:10"
RESERVED_ADDR = "fd00:b007::10"
TFTP_URL = f"tftp://[{SRV6}]/ipxe.efi"
SCRIPT_URL = f"http://[{SRV6}]:8080/boot.ipxe?mac=${{net0/mac}}"


def parse(data: bytes) -> DHCP6:
    """A server message as its scapy class (DHCP6() does not dispatch)."""
    cls = {2: DHCP6_Advertise, 7: DHCP6_Reply, 13: DHCP6_RelayReply}.get(data[0], DHCP6)
    return cls(data)


def config(state: Path, ra: dict | None = None, t1: int | None = None,
           overrides: dict | None = None) -> dict:
    """The lab's DHCPv6-only config.  ra: router_advertisements keys (RAs on
    when given); overrides: top-level sections merged over the result."""
    cfg = netlab.lab_config()
    cfg["server"].update(state_dir=str(state), log_level="debug")
    cfg["dhcp4"] = {"enabled": False}
    cfg["tftp"]["enabled"] = False
    cfg["http"].update(listen=[SRV6], port=8080)     # the REST API, over IPv6
    cfg["dhcp6"] = {
        "interfaces": ["srv0"],
        "subnets": [{
            "subnet": "fd00:b007::/64", "interface": "srv0",
            "pools": [{"start": "fd00:b007::1000", "end": "fd00:b007::1fff"}],
            "dns": [SRV6], "domain_search": ["lab.example"],
            "relays": [RELAY],
            "preferred_lifetime": 1800, "valid_lifetime": 3600,
            "reservations": [{"mac": RESERVED_MAC, "address": RESERVED_ADDR,
                              "hostname": "node10",
                              "bootfile_param": ["root=/dev/nfs", "ip=dhcp"]}],
        }],
    }
    if t1:
        cfg["dhcp6"]["subnets"][0].update(t1=t1, t2=2 * t1)
    if ra is not None:
        cfg["dhcp6"]["router_advertisements"] = {
            "enabled": True, "interfaces": ["srv0"], "interval": 30, **ra}
    cfg["boot"]["ipxe_script6"] = SCRIPT_URL
    cfg["boot"]["bootfile_param6"] = ["console=ttyS0"]
    for section, keys in (overrides or {}).items():
        cfg.setdefault(section, {}).update(keys)
    return cfg


def need(tool: str) -> None:
    """Fails (never skips) when a client tool is missing: the tests' install
    step (scripts/deps.sh test) provides them, so a missing one is its bug."""
    if not shutil.which(tool):
        pytest.fail(f"{tool} not found on PATH: install step failed "
                    f"(scripts/deps.sh test)", pytrace=False)


def need_daemon() -> None:
    """Fails (never skips) when ironbootd is not built in $IB_BUILD."""
    path = netlab.find_binary(netlab.build_dir(), "ironbootd")
    if not path.exists():
        pytest.fail(f"{path} not built (meson compile -C {netlab.build_dir()})",
                    pytrace=False)


class Env:
    def __init__(self, lab, tmp: Path, ra: dict | None = None, t1: int | None = None,
                 overrides: dict | None = None):
        self.lab, self.tmp = lab, tmp
        self.srv, self.cli = lab.netns("srv"), lab.netns("cli")
        for ns in (self.srv, self.cli):
            lab.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
            lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
        lab.veth(self.srv, "srv0", self.cli, "cli0")
        lab.addr(self.srv, "srv0", f"{SRV6}/64")
        self.wait_linklocal(self.cli, "cli0")
        self.wait_linklocal(self.srv, "srv0")
        self.cfg_path = tmp / "ironboot.yaml"
        self.cfg_path.write_text(yaml.safe_dump(config(tmp / "state", ra, t1, overrides),
                                                sort_keys=False))
        self.d = netlab.Daemon(self.lab, self.srv, self.cfg_path).start(timeout=20)
        self.db = tmp / "state" / "ironboot.db"

    def wait_linklocal(self, ns: str, dev: str) -> str:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            out = self.lab.run(ns, ["ip", "-6", "-o", "addr", "show", "dev", dev,
                                    "scope", "link"]).stdout
            m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64", out)
            if m and "tentative" not in out:
                return m.group(1)
            time.sleep(0.1)
        raise AssertionError(f"no link-local address on {dev}")

    def exchange(self, pkt: bytes, sport: int = 546, timeout: float = 3.0,
                 want: int = 1, src: str = "::") -> list[DHCP6]:
        """Sends pkt to ff02::1:2%cli0 from src, port sport; the replies parsed."""
        s = self.lab.socket(self.cli, socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"cli0")
            s.bind((src, sport))
            s.sendto(pkt, ("ff02::1:2", 547, 0, self.ifindex()))
            s.settimeout(timeout)
            out = []
            deadline = time.monotonic() + timeout
            while len(out) < want and time.monotonic() < deadline:
                try:
                    data, _ = s.recvfrom(65535)
                except socket.timeout:
                    break
                out.append(parse(data))
            return out
        finally:
            s.close()

    def api(self, path: str, want: int = 200):
        """GET path from the daemon's REST API (from srv, to [SRV6]:8080)."""
        out = self.lab.run(self.srv, ["curl", "-sg", "-o", "-", "-w", "\\n%{http_code}",
                                      f"http://[{SRV6}]:8080{path}"], timeout=10).stdout
        body, _, code = out.rpartition("\n")
        assert int(code) == want, (path, code, body)
        return json.loads(body)

    def ifindex(self) -> int:
        out = self.lab.run(self.cli, ["cat", "/sys/class/net/cli0/ifindex"]).stdout
        return int(out.strip())

    def leases6(self) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT address, duid, iaid, state, hex(mac) FROM leases6"
                               " ORDER BY address").fetchall()
        finally:
            con.close()
        return [(socket.inet_ntop(socket.AF_INET6, r[0]), r[1], r[2], r[3], r[4])
                for r in rows]


@pytest.fixture
def env(lab, tmp_path):
    need_daemon()
    e = Env(lab, tmp_path)
    yield e
    assert e.d.alive(), e.d.log_tail()
    e.d.stop()


def solicit(duid, *, arch=None, ipxe=False, oro=(23, 59), iaid=1, rapid=False):
    p = DHCP6_Solicit(trid=0x4242) / DHCP6OptClientId(duid=duid) / \
        DHCP6OptIA_NA(iaid=iaid) / DHCP6OptOptReq(reqopts=list(oro))
    if arch is not None:
        p /= DHCP6OptClientArchType(archtypes=[arch])
    if ipxe:
        p /= DHCP6OptUserClass(userclassdata=[USER_CLASS_DATA(data=b"iPXE")])
    if rapid:
        p /= DHCP6OptRapidCommit()
    return p


def opt(msg, cls):
    return msg.getlayer(cls)


def bootfile_params(msg) -> list[bytes]:
    """Option 60 (RFC 5970 3.2) of a client message, which scapy lacks: the
    options after the 4-byte header, each item a 2-byte length and text."""
    raw, off = bytes(msg), 4
    while off + 4 <= len(raw):
        code, length = struct.unpack_from("!HH", raw, off)
        if code == 60:
            body, items = raw[off + 4:off + 4 + length], []
            while body:
                (n,) = struct.unpack_from("!H", body)
                items.append(body[2:2 + n])
                body = body[2 + n:]
            return items
        off += 4 + length
    return []


def iaaddr(msg) -> str | None:
    a = msg.getlayer(DHCP6OptIAAddress)
    return a.addr if a else None


def test_uefi_x64_gets_tftp_url(env):
    duid = DUID_LL(lladdr="52:54:00:11:22:33")
    (adv,) = env.exchange(bytes(solicit(duid, arch=7)))
    assert isinstance(adv, DHCP6_Advertise), adv.summary()
    assert opt(adv, DHCP6OptBootFileUrl).optdata.decode() == TFTP_URL
    assert bootfile_params(adv) == [b"console=ttyS0"]
    addr = iaaddr(adv)
    assert addr and addr.startswith("fd00:b007::1"), adv.show(dump=True)
    assert opt(adv, DHCP6OptDNSServers).dnsservers == [SRV6]
    assert opt(adv, DHCP6OptServerId) is not None
    # an ADVERTISE binds nothing
    assert env.leases6() == []


def test_ipxe_gets_script_url(env):
    duid = DUID_LL(lladdr="52:54:00:11:22:34")
    (adv,) = env.exchange(bytes(solicit(duid, arch=7, ipxe=True)))
    assert opt(adv, DHCP6OptBootFileUrl).optdata.decode() == SCRIPT_URL


def test_no_arch_gets_default(env):
    duid = DUID_LL(lladdr="52:54:00:11:22:35")
    (adv,) = env.exchange(bytes(solicit(duid)))
    assert opt(adv, DHCP6OptBootFileUrl).optdata.decode() == TFTP_URL


def test_full_exchange_request_renew_release(env):
    duid = DUID_LL(lladdr="52:54:00:11:22:36")
    (adv,) = env.exchange(bytes(solicit(duid, arch=7)))
    addr, sid = iaaddr(adv), opt(adv, DHCP6OptServerId).duid
    req = DHCP6_Request(trid=7) / DHCP6OptClientId(duid=duid) / \
        DHCP6OptServerId(duid=sid) / \
        DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=addr)])
    (rep,) = env.exchange(bytes(req))
    assert isinstance(rep, DHCP6_Reply) and iaaddr(rep) == addr
    assert opt(rep, DHCP6OptIAAddress).validlft == 3600
    rows = env.leases6()
    assert [(r[0], r[3], r[4]) for r in rows] == [(addr, 1, "525400112236")]
    (cli,) = env.d.cli_json("leases6")
    assert (cli["address"], cli["mac"], cli["state"], cli["iaid"]) == \
        (addr, "52:54:00:11:22:36", "active", 1)
    assert cli["duid"] == bytes(duid).hex() and cli["subnet"] == "fd00:b007::/64"
    assert addr in env.d.cli("leases6")
    # the REST API lists the same binding, and finds it by address
    assert env.api("/api/v1/leases6") == [cli]
    assert env.api(f"/api/v1/leases6/{addr}") == cli
    assert env.api("/api/v1/leases6/fd00:b007::dead", want=404) == \
        {"error": "no lease for this address"}
    assert env.api("/api/v1/leases6/198.18.0.1", want=400) == \
        {"error": "not an IPv6 address"}
    ren = DHCP6_Renew(trid=8) / DHCP6OptClientId(duid=duid) / \
        DHCP6OptServerId(duid=sid) / \
        DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=addr)])
    (rep,) = env.exchange(bytes(ren))
    assert iaaddr(rep) == addr
    rel = DHCP6_Release(trid=9) / DHCP6OptClientId(duid=duid) / \
        DHCP6OptServerId(duid=sid) / \
        DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=addr)])
    (rep,) = env.exchange(bytes(rel))
    assert opt(rep, DHCP6OptStatusCode).statuscode == 0
    assert env.leases6()[0][3] == 2          # released
    # a renew of what is gone: NoBinding
    (rep,) = env.exchange(bytes(ren))
    assert opt(rep, DHCP6OptStatusCode).statuscode == 3


def test_operator_release(env):
    """`ironboot leases release ADDR` of a DHCPv6 binding, through the
    running daemon (its control socket: this lab has no API token): the
    store marks it released, and the daemon's binding cache learns it at
    once, so the holder's RENEW gets NoBinding and another client that asks
    for the address by REQUEST is given it (before the release it was
    given another).  An address without an active binding is refused and
    changes nothing."""
    duid = DUID_LL(lladdr="52:54:00:11:22:3c")
    other, third = DUID_LL(lladdr="52:54:00:11:22:3d"), DUID_LL(lladdr="52:54:00:11:22:3e")
    (adv,) = env.exchange(bytes(solicit(duid, arch=7)))
    addr, sid = iaaddr(adv), opt(adv, DHCP6OptServerId).duid

    def ask(trid, kind, who):
        return kind(trid=trid) / DHCP6OptClientId(duid=who) / DHCP6OptServerId(duid=sid) / \
            DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=addr)])

    (rep,) = env.exchange(bytes(ask(20, DHCP6_Request, duid)))
    assert iaaddr(rep) == addr
    (rep,) = env.exchange(bytes(ask(21, DHCP6_Request, other)))     # taken: another
    assert iaaddr(rep) not in (None, addr), rep.show(dump=True)
    out = env.d.cli("leases", "release", addr)
    assert addr in out, out
    assert [r[3] for r in env.leases6() if r[0] == addr] == [2]     # released
    (rep,) = env.exchange(bytes(ask(22, DHCP6_Renew, duid)))
    assert opt(rep, DHCP6OptStatusCode).statuscode == 3             # NoBinding
    (rep,) = env.exchange(bytes(ask(23, DHCP6_Request, third)))
    assert iaaddr(rep) == addr, rep.show(dump=True)
    rows = [r for r in env.leases6() if r[0] == addr and r[3] == 1]
    assert [r[1] for r in rows] == [bytes(third)]
    # nothing active at this address any more, or no such binding: refused
    p = env.d.cli_run("leases", "release", "fd00:b007::dead")
    assert p.returncode != 0 and "no active lease" in p.stdout + p.stderr, p
    p = env.d.cli_run("leases", "release", "fd00:b007::zz")
    assert p.returncode == 2, p
    deadline = time.monotonic() + 5          # the journal is flushed by a timer
    while True:
        ev = [e for e in env.d.cli_json("events", "--mac", "52:54:00:11:22:3c")
              if e["kind"] == "lease-release-operator"]
        if ev or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(ev) == 1 and ev[0]["detail"]["address"] == addr, ev
    assert env.d.alive()


def test_address_taken_after_advertise_is_refused(env):
    """The store arbitrates: an address another writer binds between the
    ADVERTISE and the REQUEST is not given twice (the REQUEST's check of an
    address held for it trusts the hold; the conditional commit does not)."""
    duid = DUID_LL(lladdr="52:54:00:11:22:3a")
    (adv,) = env.exchange(bytes(solicit(duid, arch=7)))
    addr, sid = iaaddr(adv), opt(adv, DHCP6OptServerId).duid
    other = bytes(DUID_LL(lladdr="52:54:00:99:99:99"))
    now = int(time.time())
    con = sqlite3.connect(str(env.db), timeout=10)
    try:
        with con:
            con.execute("INSERT INTO leases6 (address, subnet, prefix_len, duid, iaid, mac,"
                        " hostname, cltt, preferred, expires, state)"
                        " VALUES (?, ?, 64, ?, 1, NULL, '', ?, ?, ?, 1)",
                        (socket.inet_pton(socket.AF_INET6, addr),
                         socket.inet_pton(socket.AF_INET6, "fd00:b007::"), other,
                         now, now + 1800, now + 3600))
    finally:
        con.close()
    req = DHCP6_Request(trid=11) / DHCP6OptClientId(duid=duid) / \
        DHCP6OptServerId(duid=sid) / \
        DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=addr)])
    (rep,) = env.exchange(bytes(req))
    assert isinstance(rep, DHCP6_Reply)
    assert iaaddr(rep) is None, rep.show(dump=True)
    assert opt(rep.getlayer(DHCP6OptIA_NA), DHCP6OptStatusCode).statuscode == 2  # NoAddrsAvail
    rows = [r for r in env.leases6() if r[0] == addr]
    assert [(r[1], r[3]) for r in rows] == [(other, 1)]    # still the other client's


def test_failed_commit_keeps_the_hold(env):
    """A REQUEST whose transaction fails after its binding was written
    (the batch's journal events cannot be stored: a trigger refuses them,
    as a full disk would) binds nothing and sends nothing, and the address
    stays held for its client: another client asking for it is not given
    it, and the first one gets it once the store works.  (The holds used
    to be dropped inside the transaction, before COMMIT.)"""
    duid = DUID_LL(lladdr="52:54:00:11:22:3b")
    (adv,) = env.exchange(bytes(solicit(duid, arch=7)))
    addr, sid = iaaddr(adv), opt(adv, DHCP6OptServerId).duid

    def request(who, trid):
        return bytes(DHCP6_Request(trid=trid) / DHCP6OptClientId(duid=who) /
                     DHCP6OptServerId(duid=sid) /
                     DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=addr)]))

    off = env.d.log_size()
    db = sqlite3.connect(str(env.db), timeout=10, isolation_level=None)
    try:
        db.execute("CREATE TRIGGER no_events BEFORE INSERT ON events"
                   " BEGIN SELECT RAISE(ABORT, 'events refused'); END")
        assert env.exchange(request(duid, 12), timeout=3) == []
        env.d.wait_log("dhcp6: store commit failed", since=off, timeout=20)
    finally:
        db.execute("DROP TRIGGER IF EXISTS no_events")
        db.close()
    assert env.leases6() == []
    other = DUID_LL(lladdr="52:54:00:11:22:3c")
    (rep,) = env.exchange(request(other, 13))
    assert iaaddr(rep) != addr, rep.show(dump=True)
    assert [r[0] for r in env.leases6()] != [addr]
    (rep,) = env.exchange(request(duid, 14))
    assert isinstance(rep, DHCP6_Reply) and iaaddr(rep) == addr, rep.show(dump=True)
    assert [(r[0], r[1]) for r in env.leases6() if r[0] == addr] == [(addr, bytes(duid))]


def test_rapid_commit(env):
    duid = DUID_LL(lladdr="52:54:00:11:22:37")
    (rep,) = env.exchange(bytes(solicit(duid, rapid=True)))
    assert isinstance(rep, DHCP6_Reply) and opt(rep, DHCP6OptRapidCommit) is not None
    assert env.leases6()[0][0] == iaaddr(rep)


def relay_forw(mac: str = RESERVED_MAC) -> bytes:
    """A relay's RELAY-FORW of a DUID-UUID firmware's SOLICIT, option 79 naming mac."""
    duid = DUID_UUID(uuid="8a5d3e4f-0000-4000-8000-525400000010")
    inner = solicit(duid, arch=7)
    return bytes(DHCP6_RelayForward(hopcount=0, linkaddr="fd00:b007::2", peeraddr="fe80::99") /
                 DHCP6OptIfaceId(ifaceid=b"port7") /
                 DHCP6OptClientLinkLayerAddr(lltype=1, clladdr=mac) /
                 DHCP6OptRelayMsg(message=inner))


def dhcp6_events(env, mac: str) -> list[dict]:
    """mac's dhcp6 events, once there is one (the journal is flushed by a
    timer); bounded at 5 s."""
    deadline = time.monotonic() + 5
    while True:
        evs = [e for e in env.d.cli_json("events", "--mac", mac) if e["proto"] == "dhcp6"]
        if evs or time.monotonic() > deadline:
            return evs
        time.sleep(0.2)


def test_relayed_duid_uuid_with_option_79_gets_reservation(env):
    """Firmware with a DUID-UUID behind a relay: the relay's option 79 names
    the MAC, and the MAC's reservation holds."""
    env.lab.addr(env.cli, "cli0", f"{RELAY}/64")
    (repl,) = env.exchange(relay_forw(), sport=547, src=RELAY)
    assert isinstance(repl, DHCP6_RelayReply), repl.summary()
    assert opt(repl, DHCP6OptIfaceId).ifaceid == b"port7"
    adv = repl.getlayer(DHCP6OptRelayMsg).message
    assert isinstance(adv, DHCP6_Advertise)
    assert iaaddr(adv) == RESERVED_ADDR
    assert opt(adv, DHCP6OptBootFileUrl).optdata.decode() == TFTP_URL
    # the machine's own bootfile parameters replace the boot section's
    assert bootfile_params(adv) == [b"root=/dev/nfs", b"ip=dhcp"]
    # the journal files it under the machine's MAC
    evs = dhcp6_events(env, RESERVED_MAC)
    ev = evs[-1]
    assert ev["detail"]["mac_from"] == "option-79"
    assert ev["detail"]["address"] == RESERVED_ADDR
    assert ev["detail"]["bootfile_params"] == 2
    # explain runs the same policy and predicts both DHCPv6 stages
    fw, ipxe = env.d.cli_json("explain", "--mac", RESERVED_MAC, "--arch", "7")["stages6"]
    assert (fw["address"], fw["file"], fw["reservation"]) == (RESERVED_ADDR, TFTP_URL, True)
    assert fw["bootfile_param"] == ["root=/dev/nfs", "ip=dhcp"]
    assert (ipxe["boot"], ipxe["file"]) == ("ipxe", SCRIPT_URL)


def metric(env, line_start: str) -> float | None:
    """The value of the /metrics sample whose line starts with line_start."""
    return netlab.metric(env.lab, env.srv, f"http://[{SRV6}]:8080/metrics", line_start)


def test_relay_forw_from_unlisted_host_dropped(env):
    """Issue #11: any host on the link could send a RELAY-FORW whose option 79
    names a victim's MAC and be answered with the victim's reservation,
    journalled as the victim.  Only a relay that dhcp6.relays or the
    subnet's relays list is believed; the rest are dropped, counted and
    logged at most once a minute, and journalled under no MAC."""
    env.lab.addr(env.cli, "cli0", f"{ROGUE}/64")
    env.lab.addr(env.cli, "cli0", f"{RELAY}/64")
    n = 20                                      # a short, bounded burst
    s = env.lab.socket(env.cli, socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"cli0")
        s.bind((ROGUE, 547))
        for _ in range(n):
            s.sendto(relay_forw(), ("ff02::1:2", 547, 0, env.ifindex()))
    finally:
        s.close()
    env.d.wait_log(f"dropped a RELAY-FORW from {ROGUE}", timeout=10)
    deadline = time.monotonic() + 10
    while metric(env, 'ironboot_dhcp6_drops_total{reason="relay-not-allowed"}') != n:
        assert time.monotonic() < deadline, "relay-not-allowed never counted to %d" % n
        time.sleep(0.2)
    # one line for the burst, not one per packet
    assert env.d.log().count("dropped a RELAY-FORW") == 1, env.d.log_tail()
    # the listed relay is answered: the same packet from it gets the reservation
    (repl,) = env.exchange(relay_forw(), sport=547, src=RELAY)
    adv = repl.getlayer(DHCP6OptRelayMsg).message
    assert iaaddr(adv) == RESERVED_ADDR
    # and only that one exchange is the victim's: none of the rogue's
    evs = dhcp6_events(env, RESERVED_MAC)
    assert [e["detail"].get("src") for e in evs] == [RELAY], evs
    assert not [r for r in env.leases6() if r[0] == RESERVED_ADDR]
    assert metric(env, 'ironboot_dhcp6_drops_total{reason="relay-not-allowed"}') == n


@pytest.mark.parametrize("bad", [
    b"",
    b"\x01",                                        # short
    b"\x01\x00\x00\x01\x00\x01\x00\x40abc",         # option past the end
    bytes([12, 0]) + b"\0" * 32,                    # relay without a message
    b"\x0c\x00" + b"\0" * 32 + b"\x00\x09\x00\x22" + bytes([12, 0]) + b"\0" * 32,  # nested, cut
])
def test_malformed_dropped_then_served(env, bad):
    assert env.exchange(bad, timeout=0.5) == []
    (adv,) = env.exchange(bytes(solicit(DUID_LL(lladdr="52:54:00:11:22:40"), arch=7)))
    assert isinstance(adv, DHCP6_Advertise)
    assert env.d.alive()


def test_dhclient6_obtains_and_releases(env):
    need("dhclient")
    sf = env.tmp / "dhclient-script"
    sf.write_text("#!/bin/sh\nexit 0\n")
    sf.chmod(0o755)
    args = ["dhclient", "-6", "-1", "-v", "-lf", str(env.tmp / "d6.leases"),
            "-pf", str(env.tmp / "d6.pid"), "-sf", str(sf)]
    r = env.lab.run(env.cli, [*args, "cli0"], timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Bound to lease" in r.stderr or "PRC: Bound" in r.stderr, r.stderr
    rows = env.leases6()
    assert len(rows) == 1 and rows[0][3] == 1, rows
    addr = rows[0][0]
    assert addr in (env.tmp / "d6.leases").read_text()
    r = env.lab.run(env.cli, [*args, "-r", "cli0"], timeout=60)
    assert r.returncode == 0, r.stderr
    deadline = time.monotonic() + 5
    while env.leases6()[0][3] != 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert env.leases6()[0][3] == 2, env.leases6()


def test_perfdhcp6_sarr(env):
    """200 SARR exchanges from 200 clients (perfdhcp 2.2 numbers its -R
    clients in sequence, so each of the 200 DUIDs is used once).

    What matters is the server's side: every client ends up bound, and no
    address is given twice.  perfdhcp's own drop count is not asserted: it
    counts an answer later than its drop time (1 s by default) as lost, which
    is timing on a shared 2-core machine running an ASan daemon, not a server
    fault.  So the drop times are generous (-d 10 for SOLICIT/ADVERTISE, -d 10
    for REQUEST/REPLY: a late ADVERTISE still gets its REQUEST), perfdhcp
    waits up to 20 s after the last SOLICIT for the answers (-W), and the
    store is polled for up to 30 s.  -n is given for both exchanges: perfdhcp
    leaves the wait once its answers (ADVERTISEs + REPLYs) equal the -n
    total, so with -n 200 alone (400 answers, 200 wanted) it always waited
    the whole -W."""
    need("perfdhcp")
    r = env.lab.run(env.cli, ["perfdhcp", "-6", "-l", "cli0", "-r", "50",
                              "-n", "200", "-n", "200", "-R", "200",
                              "-d", "10", "-d", "10", "-W", "20000000"],
                    timeout=120)
    out = r.stdout + r.stderr
    assert "sent packets: 200" in out, out
    deadline = time.monotonic() + 30
    while True:
        rows = env.leases6()
        if len(rows) >= 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(rows) == 200, (len(rows), out)
    assert all(row[3] == 1 for row in rows), rows           # all active
    assert len({row[0] for row in rows}) == 200               # no address twice
    assert len({(row[1], row[2]) for row in rows}) == 200     # one binding per IA


@pytest.mark.parametrize("managed,other", [(True, True), (False, False),
                                           (True, False), (False, True)])
def test_router_advertisement_flags(lab, tmp_path, managed, other):
    """The built-in RA carries the M and O flags as configured
    (dhcp6.router_advertisements.managed / .other; both true tells hosts to
    use DHCPv6) and puts the prefix on-link without SLAAC; rdisc6 solicits
    it."""
    need("rdisc6")
    need_daemon()
    e = Env(lab, tmp_path, ra={"managed": managed, "other": other})
    r = e.lab.run(e.cli, ["rdisc6", "-1", "-w", "3000", "cli0"], timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    yes = {True: "Yes", False: "No"}
    assert re.search(rf"Stateful address conf\.\s*:\s*{yes[managed]}\b", out), out
    assert re.search(rf"Stateful other conf\.\s*:\s*{yes[other]}\b", out), out
    assert re.search(r"Router lifetime\s*:\s*0 ", out), out
    assert "Prefix                   : fd00:b007::/64" in out, out
    assert re.search(r"Autonomous address conf\.\s*:\s*No", out), out
    assert e.d.alive()
    e.d.stop()


def test_dhclient6_renews(lab, tmp_path):
    """A real dhclient -6 renews at T1 (2 s here) with the same address."""
    need("dhclient")
    need_daemon()
    e = Env(lab, tmp_path, t1=2)
    sf = e.tmp / "dhclient-script"
    sf.write_text("#!/bin/sh\nexit 0\n")
    sf.chmod(0o755)
    p = e.lab.popen(e.cli, ["dhclient", "-6", "-d", "-v", "-lf", str(e.tmp / "d6.leases"),
                            "-pf", str(e.tmp / "d6.pid"), "-sf", str(sf), "cli0"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        kinds: list[str] = []
        while time.monotonic() < deadline and "renew" not in kinds:
            time.sleep(0.5)
            kinds = [ev["kind"] for ev in e.d.cli_json("events", "--proto", "dhcp6")]
    finally:
        e.lab.kill(p)
    assert "request" in kinds and "renew" in kinds, kinds
    rows = e.leases6()
    assert len(rows) == 1 and rows[0][3] == 1, rows
    e.d.stop()


def bind_many(env, n: int, wave: int = 50) -> dict[int, tuple]:
    """Binds n clients by Rapid Commit SOLICITs (DUID-LL 52:54:00:ab:hi:lo,
    IAID 1000 + i, transaction id i + 1), sent in waves of `wave` from one
    socket; an unanswered SOLICIT is sent again (same client, same
    transaction: the server answers with the binding it already has), up to
    5 times.  Returns {i: (address, client DUID, IAID, server DUID)} of every
    REPLY, the DUIDs as scapy objects."""
    s = env.lab.socket(env.cli, socket.AF_INET6, socket.SOCK_DGRAM)
    got: dict[int, tuple] = {}
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"cli0")
        # room for a whole wave of REPLYs (SO_RCVBUFFORCE: Linux, root)
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 4 << 20)
        s.bind(("::", 546))
        dest = ("ff02::1:2", 547, 0, env.ifindex())
        duids = [DUID_LL(lladdr=f"52:54:00:ab:{i >> 8:02x}:{i & 0xff:02x}")
                 for i in range(n)]
        pkts = [bytes(DHCP6_Solicit(trid=i + 1) / DHCP6OptClientId(duid=duids[i]) /
                      DHCP6OptIA_NA(iaid=1000 + i) / DHCP6OptRapidCommit())
                for i in range(n)]
        for start in range(0, n, wave):
            todo = set(range(start, min(n, start + wave)))
            for _ in range(5):
                for i in sorted(todo):
                    s.sendto(pkts[i], dest)
                deadline = time.monotonic() + 5
                while todo and time.monotonic() < deadline:
                    s.settimeout(max(0.01, deadline - time.monotonic()))
                    try:
                        data, _ = s.recvfrom(65535)
                    except socket.timeout:
                        break
                    rep = parse(data)
                    i = rep.trid - 1
                    if not isinstance(rep, DHCP6_Reply) or i not in todo:
                        continue
                    assert bytes(opt(rep, DHCP6OptClientId).duid) == bytes(duids[i]), i
                    assert opt(rep, DHCP6OptIA_NA).iaid == 1000 + i
                    got[i] = (iaaddr(rep), duids[i], 1000 + i,
                              opt(rep, DHCP6OptServerId).duid)
                    todo.discard(i)
                if not todo:
                    break
    finally:
        s.close()
    return got


def test_kill9_keeps_replied_bindings(env):
    """A REPLY leaves only after its binding is durable: bind 200 clients,
    kill -9 the moment the last REPLY is in, restart; every replied binding
    is in the store with its DUID and IAID, and one renews to its address."""
    n = 200
    got = bind_many(env, n)
    env.d.kill9()                     # right after the last REPLY
    assert len(got) == n, sorted(set(range(n)) - set(got))
    addrs = [g[0] for g in got.values()]
    assert all(addrs) and len(set(addrs)) == n, addrs          # no address twice
    env.d.start(timeout=20)
    rows = {r[0]: r for r in env.leases6()}
    for i, (addr, duid, iaid, _) in sorted(got.items()):
        assert addr in rows, (i, addr)
        assert (rows[addr][1], rows[addr][2], rows[addr][3]) == (bytes(duid), iaid, 1), \
            (i, rows[addr])
    # and the restarted daemon keeps its DUID: a RENEW of the last binding to
    # it is answered with the same address
    addr, duid, iaid, sid = got[n - 1]
    ren = DHCP6_Renew(trid=0x777) / DHCP6OptClientId(duid=duid) / \
        DHCP6OptServerId(duid=sid) / \
        DHCP6OptIA_NA(iaid=iaid, ianaopts=[DHCP6OptIAAddress(addr=addr)])
    (rep,) = env.exchange(bytes(ren))
    assert isinstance(rep, DHCP6_Reply) and iaaddr(rep) == addr, rep.show(dump=True)


def event_ids(db: Path) -> list[int]:
    """Ids of the stored journal events, oldest first."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT id FROM events ORDER BY id")]
    finally:
        con.close()


def test_journal_pruned_without_dhcp4(lab, tmp_path):
    """Journal retention is the daemon's, whatever services run.  With only
    DHCPv6 (no DHCPv4 shell, whose timer alone used to prune, and no HTTP or
    TFTP), journal.max_events holds: at start, and at once when a reload
    changes it (the timer repeats it every 5 minutes, too long to wait for
    here)."""
    need_daemon()
    keep = 5
    # no RAs: their server journals its own events (proto "ra") at start
    e = Env(lab, tmp_path, overrides={"http": {"enabled": False},
                                      "journal": {"max_events": 1000},
                                      "dhcp6": {"router_advertisements": {"enabled": False}}})

    def solicit_some(first: int, n: int) -> None:
        for i in range(first, first + n):
            (adv,) = e.exchange(bytes(solicit(DUID_LL(lladdr=f"52:54:00:cc:00:{i:02x}"))))
            assert isinstance(adv, DHCP6_Advertise)

    def wait_events(at_least: int) -> list[int]:
        deadline = time.monotonic() + 10      # flushed by a 200 ms timer
        while len(ids := event_ids(e.db)) < at_least and time.monotonic() < deadline:
            time.sleep(0.1)
        return ids

    solicit_some(0, 3 * keep)
    before = wait_events(3 * keep)
    assert len(before) >= 3 * keep, before
    # a reload that lowers max_events applies it at once
    cfg = yaml.safe_load(e.cfg_path.read_text())
    cfg["journal"]["max_events"] = keep
    e.cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    off = e.d.log_size()
    e.d.hup()
    e.d.wait_log("configuration reloaded", since=off, timeout=20)
    after = event_ids(e.db)
    assert len(after) == keep, (before, after)
    assert min(after) >= sorted(before)[-keep], (before, after)    # the newest kept
    # more events than max_events, then a restart: pruned at start
    solicit_some(3 * keep, 3 * keep)
    e.d.stop()                              # writes what is still queued
    stored = event_ids(e.db)
    assert len(stored) >= 3 * keep, stored
    e.d.start(timeout=20)
    after = event_ids(e.db)
    assert after == stored[-keep:], (stored, after)
    assert e.d.alive()
    e.d.stop()


def test_reply_not_sent_is_journalled(env):
    """A reply the kernel refuses (here an nftables drop on the server's
    output) is named in the journal; the daemon keeps serving."""
    rules = "table inet ib_t {\n chain out {\n  type filter hook output priority 0;\n" \
            "  udp dport 546 drop\n }\n}\n"
    env.lab.run(env.srv, ["nft", "-f", "-"], input=rules, check=True)
    duid = DUID_LL(lladdr="52:54:00:11:22:60")
    assert env.exchange(bytes(solicit(duid)), timeout=1.5) == []
    env.lab.run(env.srv, ["nft", "delete", "table", "inet", "ib_t"], check=True)
    (adv,) = env.exchange(bytes(solicit(duid)))
    assert isinstance(adv, DHCP6_Advertise)
    evs = [e for e in env.d.cli_json("events", "--proto", "dhcp6")
           if e["kind"] == "reply-not-sent"]
    assert len(evs) == 1, evs
    assert evs[0]["detail"]["request"] == "solicit"
    assert evs[0]["detail"]["port"] == 546
    assert evs[0]["detail"]["error"] == "Operation not permitted"
