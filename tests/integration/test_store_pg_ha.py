"""Two ironbootd on one PostgreSQL (issue #16 phase 2, docs/SCALE-OUT.md):
each daemon's caches follow the other's writes (LISTEN/NOTIFY), and one of
them at a time is the leader (a session advisory lock).

The lab (tests/lib/halab.py): daemons A and B in namespaces of their own,
one bridge to the relay's namespace, one real PostgreSQL 15
(tests/lib/pglab.py).  The relay is this test's socket, speaking DHCPv4
(giaddr) and DHCPv6 (RELAY-FORW) to the daemon it chooses, as a router
with both daemons as helpers would.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_store_pg_ha.py -v
"""

from __future__ import annotations

import ipaddress
import re
import os
import signal
import socket
import struct
import time

import halab
from halab import pg  # noqa: F401 (the fixture)

REPLY_TIMEOUT = 5.0
LOCK_S = 3.0            # test_load_balancing_takes_over_after_a_slow_commit's lock: under
                        # the engine's 4 s bound on what it takes over (HELD_AGE_US)




# ---- DHCPv4 through a relay ----

def opt4(code: int, data: bytes) -> bytes:
    return bytes([code, len(data)]) + data


def bootp(mac: bytes, xid: int, msg_type: int, *, ciaddr: str = "0.0.0.0",
          options: bytes = b"") -> bytes:
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1, xid, 0, 0,
                      socket.inet_aton(ciaddr), bytes(4), bytes(4),
                      socket.inet_aton(halab.RELAY4), mac.ljust(16, b"\0"), b"", b"")
    return hdr + b"\x63\x82\x53\x63" + opt4(53, bytes([msg_type])) + options + b"\xff"


def parse4(data: bytes) -> tuple[int, str, dict[int, bytes]]:
    """(message type, yiaddr, options) of a reply."""
    yiaddr = socket.inet_ntoa(data[16:20])
    opts, i = {}, 240
    while i < len(data) and data[i] != 255:
        if data[i] == 0:
            i += 1
            continue
        opts[data[i]] = data[i + 2:i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    return opts[53][0], yiaddr, opts


class Relay4:
    def __init__(self, ha: halab.Ha):
        self.sock = ha.lab.socket(ha.cli, socket.AF_INET)
        self.sock.bind((halab.RELAY4, 67))
        self.sock.settimeout(REPLY_TIMEOUT)

    def ask(self, server: str, payload: bytes) -> tuple[int, str, dict[int, bytes]]:
        xid = payload[4:8]
        self.sock.sendto(payload, (halab.SRV4[server], 67))
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            data, _ = self.sock.recvfrom(2048)
            if data[4:8] == xid:
                return parse4(data)
        raise TimeoutError(f"no reply from {server}")

    def dora(self, server: str, mac: bytes) -> str:
        xid = int.from_bytes(os.urandom(4), "big")
        t, offered, o = self.ask(server, bootp(mac, xid, 1))
        assert t == 2, t
        t, acked, _ = self.ask(server, bootp(mac, xid, 3, options=opt4(54, o[54]) +
                                             opt4(50, socket.inet_aton(offered))))
        assert (t, acked) == (5, offered), (t, acked, offered)
        return acked


# ---- DHCPv6 through a relay ----

def opt6(code: int, data: bytes) -> bytes:
    return struct.pack("!HH", code, len(data)) + data


def opts6(data: bytes) -> dict[int, bytes]:
    out, i = {}, 0
    while i + 4 <= len(data):
        code, n = struct.unpack("!HH", data[i:i + 4])
        out.setdefault(code, data[i + 4:i + 4 + n])
        i += 4 + n
    return out


def ia_na(iaid: int, addr: bytes | None = None) -> bytes:
    sub = opt6(5, addr + struct.pack("!II", 0, 0)) if addr else b""
    return opt6(3, struct.pack("!III", iaid, 0, 0) + sub)


class Relay6:
    def __init__(self, ha: halab.Ha):
        self.sock = ha.lab.socket(ha.cli, socket.AF_INET6)
        self.sock.bind((halab.RELAY6, 547))
        self.sock.settimeout(REPLY_TIMEOUT)

    def ask(self, server: str, msg_type: int, mac: bytes, extra: bytes) -> tuple[int, dict]:
        xid = os.urandom(3)
        duid = struct.pack("!HH", 3, 1) + mac
        msg = bytes([msg_type]) + xid + opt6(1, duid) + opt6(8, b"\0\0") + extra
        peer = ipaddress.IPv6Address("fe80::" + mac[4:].hex()).packed
        fwd = bytes([12, 0]) + ipaddress.IPv6Address(halab.LINK6).packed + peer + \
            opt6(9, msg)
        self.sock.sendto(fwd, (halab.SRV6[server], 547))
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            data, _ = self.sock.recvfrom(4096)
            inner = opts6(data[34:]).get(9, b"")
            if data[0] == 13 and inner[1:4] == xid:
                return inner[0], opts6(inner[4:])
        raise TimeoutError(f"no DHCPv6 reply from {server}")

    @staticmethod
    def addr_of(o: dict) -> tuple[str | None, int | None]:
        """The IA_NA's address and its status code (None: success)."""
        ia = opts6(o[3][12:])
        status = struct.unpack("!H", ia[13][:2])[0] if 13 in ia else None
        return (str(ipaddress.IPv6Address(ia[5][:16])) if 5 in ia else None), status


def wait_for(cond, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timeout: {what}"
        time.sleep(0.1)


def test_binding_through_a_followed_by_b(pg, lab, tmp_path, ironbootd_bin):
    """A DHCPv4 lease and a DHCPv6 binding made through A are renewed through
    B (B's caches learnt them from A's notifications, B was running all
    along), and B does not offer A's address to another client."""
    ha = halab.Ha(lab, tmp_path, pg)
    ha.start("a", "b")
    ha.wait_listening("a")
    ha.wait_listening("b")
    r4, r6 = Relay4(ha), Relay6(ha)

    mac_x, mac_y = bytes.fromhex("020000000a01"), bytes.fromhex("020000000a02")
    bound = [r4.dora("a", bytes.fromhex(f"020000000b0{i}")) for i in range(3)]
    addr = r4.dora("a", mac_x)
    wait_for(lambda: ha.metric("b", "ironboot_store_listener_changes_total") >= 4, 10,
             "B read A's four DHCPv4 leases")
    # B, which has committed nothing, offers X its lease and Y none of A's
    # (without the notifications B's next-fit offered the pool's first
    # address, A's first lease, to both)
    t, yi, _ = r4.ask("b", bootp(mac_x, 0x1111, 1))
    assert (t, yi) == (2, addr), (t, yi, addr)
    t, yi, _ = r4.ask("b", bootp(mac_y, 0x5678, 1, options=opt4(50, socket.inet_aton(addr))))
    assert t == 2 and yi not in (addr, *bound), (t, yi, addr, bound)
    # REBINDING through B (ciaddr, no server id): ACKed, the same address
    t, yi, _ = r4.ask("b", bootp(mac_x, 0x1234, 3, ciaddr=addr))
    assert (t, yi) == (5, addr), (t, yi)

    # DHCPv6: SOLICIT/REQUEST through A, RENEW through B with the server
    # DUID both share (it lives in the database)
    t, adv = r6.ask("a", 1, mac_x, ia_na(7))
    a6, st = Relay6.addr_of(adv)
    assert t == 2 and a6 and st is None, (t, a6, st)
    packed = ipaddress.IPv6Address(a6).packed
    t, rep = r6.ask("a", 3, mac_x, opt6(2, adv[2]) + ia_na(7, packed))
    assert t == 7 and Relay6.addr_of(rep) == (a6, None), Relay6.addr_of(rep)
    # B learns of A's commit asynchronously (a notification after A's
    # COMMIT, milliseconds): the RENEW goes once B has read it
    wait_for(lambda: ha.metric("b", "ironboot_store_listener_changes_total") >= 5, 10,
             "B read A's DHCPv6 binding")
    t, rep = r6.ask("b", 5, mac_x, opt6(2, adv[2]) + ia_na(7, packed))
    got, st = Relay6.addr_of(rep)
    assert t == 7 and (got, st) == (a6, None), (t, got, st)   # not NoBinding (3)
    # another IA soliciting through B is not advertised A's binding
    t, adv_y = r6.ask("b", 1, mac_y, ia_na(9))
    assert Relay6.addr_of(adv_y)[0] not in (None, a6), Relay6.addr_of(adv_y)

    # both daemons' leases are the database's rows
    rows4 = pg.psql("SELECT count(*) FROM leases4 WHERE state = 1")
    assert rows4 == "4", rows4
    for n in "ab":
        assert ha.d[n].alive(), ha.d[n].log_tail()


def test_server_id_override_lets_the_survivor_answer(pg, lab, tmp_path, ironbootd_bin):
    """RFC 5107: the relay's 82.11 (its own address) makes A's OFFER name
    the relay as its server; A is killed before the client's REQUEST, and B,
    which made no offer, answers that REQUEST (it names the relay) and later
    the client's RENEW through the relay, with the relay as server id."""
    ha = halab.Ha(lab, tmp_path, pg)
    ha.start("a", "b")
    ha.wait_listening("a")
    ha.wait_listening("b")
    r4 = Relay4(ha)
    relay = socket.inet_aton(halab.RELAY4)
    sio = opt4(82, opt4(11, relay))
    mac = bytes.fromhex("020000000c01")

    t, offered, o = r4.ask("a", bootp(mac, 0x5107, 1, options=sio))
    assert (t, o[54]) == (2, relay), (t, o)
    ha.d["a"].kill9()
    t, acked, o = r4.ask("b", bootp(mac, 0x5107, 3, options=opt4(54, relay) + opt4(
        50, socket.inet_aton(offered)) + sio))
    assert (t, acked, o[54]) == (5, offered, relay), (t, acked, o)
    row = pg.psql(f"SELECT encode(hwaddr, 'hex') FROM leases4 WHERE state = 1 AND "
                  f"address = {int(ipaddress.IPv4Address(offered))}")
    assert row == mac.hex(), row
    # RENEWING (ciaddr, unicast to the relay, which relays it with 82.11)
    t, yi, o = r4.ask("b", bootp(mac, 0x5108, 3, ciaddr=offered, options=sio))
    assert (t, yi, o[54]) == (5, offered, relay), (t, yi, o)
    assert ha.d["b"].alive(), ha.d["b"].log_tail()


def test_leader_lock_moves_when_the_leader_dies(pg, lab, tmp_path, ironbootd_bin):
    """One leader at a time: A starts first and takes the lock, B follows;
    A killed with kill -9, B takes it within a few seconds (its retry);
    A restarted is a follower.  Both say so in /metrics and /readyz."""
    ha = halab.Ha(lab, tmp_path, pg)
    ha.start("a")
    ha.d["a"].wait_log("this daemon is the leader now", timeout=15)
    ha.start("b")
    ha.wait_listening("b")
    time.sleep(2.5)		# B's retry found the lock taken at least once
    assert "this daemon is the leader now" not in ha.d["b"].log()
    assert ha.metric("a", "ironboot_store_leader") == 1
    assert ha.metric("b", "ironboot_store_leader") == 0
    assert ha.metric("b", "ironboot_store_listener_connected") == 1

    ha.d["a"].kill9()
    ha.d["b"].wait_log("this daemon is the leader now", timeout=15)
    assert ha.metric("b", "ironboot_store_leader") == 1
    since = ha.d["a"].log_size()
    ha.d["a"].start(timeout=30)
    ha.wait_listening("a", since=since)
    time.sleep(2.5)
    assert "this daemon is the leader now" not in ha.d["a"].log(since)
    assert ha.metric("a", "ironboot_store_leader") == 0
    ready = ha.http("b", "/readyz")
    assert '"leader"' in ready and '"store_listener"' in ready, ready


def test_inventory_written_through_a_served_by_b(pg, lab, tmp_path, ironbootd_bin):
    """An inventory object written through A's API is in B's snapshot
    without a restart or SIGHUP (B reloads its inventory on A's NOTIFY)."""
    ha = halab.Ha(lab, tmp_path, pg)
    ha.start("a", "b")
    ha.wait_listening("b")
    body = '{"name": "ha-linux", "kernel": "vmlinuz", "args": ["console=ttyS0"]}'
    code = ha.http("a", "/api/v1/profiles/ha-linux", "-o", "/dev/null", "-w", "%{http_code}",
                   "-X", "PUT", "-H", "Content-Type: application/json", "--data", body)
    assert code in ("200", "201"), (code, ha.d["a"].log_tail())

    def on_b() -> bool:
        return '"ha-linux"' in ha.http("b", "/api/v1/profiles/ha-linux")
    wait_for(on_b, 10, "B serves A's profile")
    assert "reloaded from the store after another daemon's write" in ha.d["b"].log()


def test_lost_listener_reconnects_and_resyncs(pg, lab, tmp_path, ironbootd_bin):
    """The leader's listener connection is terminated by the database: it
    loses leadership with it (one leader remains, A or B, whoever asks
    first), reconnects by itself, reloads its caches, and follows B again
    (a lease B binds afterwards is known to A)."""
    ha = halab.Ha(lab, tmp_path, pg)
    ha.start("a")
    ha.d["a"].wait_log("this daemon is the leader now", timeout=15)
    ha.start("b")
    ha.wait_listening("b")
    since = ha.d["a"].log_size()
    killed = pg.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                     f" WHERE application_name = 'ironboot-listen-{ha.d['a'].pid}'")
    assert killed == "1", killed
    ha.d["a"].wait_log("store listener: connection lost", timeout=10, since=since)
    assert "no longer the leader" in ha.d["a"].log(since)
    ha.d["a"].wait_log("caches reloaded", timeout=15, since=since)
    wait_for(lambda: ha.metric("a", "ironboot_store_leader") +
             ha.metric("b", "ironboot_store_leader") == 1, 10, "one leader")
    assert ha.metric("a", "ironboot_store_listener_reconnects_total") == 1
    assert ha.metric("a", "ironboot_store_listener_connected") == 1
    # A follows B's writes again
    r4 = Relay4(ha)
    seen = ha.metric("a", "ironboot_store_listener_changes_total")
    mine = r4.dora("b", bytes.fromhex("020000000c01"))
    wait_for(lambda: ha.metric("a", "ironboot_store_listener_changes_total") > seen, 10,
             "A read B's lease")
    t, yi, _ = r4.ask("a", bootp(bytes.fromhex("020000000c01"), 0x4242, 1))
    assert (t, yi) == (2, mine), (t, yi, mine)
    for n in "ab":
        assert ha.d[n].alive(), ha.d[n].log_tail()


# ---- load balancing (server.load_balancing) ----

def fnv1a(b: bytes) -> int:
    """The daemons' client hash (src/dhcp/dhcp_engine.c client_hash)."""
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def reply_within(r4: Relay4, server: str, payload: bytes, secs: float):
    """The reply to payload sent to server within secs, or None."""
    xid = payload[4:8]
    r4.sock.sendto(payload, (halab.SRV4[server], 67))
    return wait_reply(r4, xid, secs)


def wait_reply(r4: Relay4, xid: bytes, secs: float):
    deadline = time.monotonic() + secs
    while (left := deadline - time.monotonic()) > 0:
        r4.sock.settimeout(left)
        try:
            data, _ = r4.sock.recvfrom(2048)
        except TimeoutError:
            break
        if data[4:8] == xid:
            r4.sock.settimeout(REPLY_TIMEOUT)
            return parse4(data)
    r4.sock.settimeout(REPLY_TIMEOUT)
    return None


def sharing_pair(pg, lab, tmp_path) -> halab.Ha:
    """A and B with server.load_balancing, both sharing.  A holds the first
    member slot before B starts: A is share 1 (the clients whose hash is
    even), B share 2."""
    ha = halab.Ha(lab, tmp_path, pg, extra_server={"load_balancing": True})
    ha.start("a")
    ha.wait_listening("a")
    wait_for(lambda: ha.metric("a", "ironboot_dhcp4_share_daemons") == 1, 10, "A a member")
    ha.start("b")
    ha.wait_listening("b")
    for n in "ab":
        wait_for(lambda: ha.metric(n, "ironboot_dhcp4_share_daemons") == 2, 10,
                 f"{n} sees two daemons")
    return ha


def test_load_balancing_splits_clients_and_takes_over(pg, lab, tmp_path, ironbootd_bin):
    """server.load_balancing: each daemon answers its share of the clients
    (a hash of the MAC modulo the daemons alive, in the order of their
    member locks: A, started first, is share 1), and not the other's.  B
    stopped (SIGSTOP: its database session, so its share, stays), a
    DISCOVER of B's client reaches A and goes unanswered; B killed, A
    answers that very DISCOVER within a few seconds (kept back, taken
    over), and the client is ACKed by A.  B started again shares again.
    DHCPv6 SOLICITs are split the same way, by DUID."""
    ha = sharing_pair(pg, lab, tmp_path)
    r4 = Relay4(ha)
    macs = [bytes.fromhex(f"0200000d00{i:02x}") for i in range(12)]
    owner = {m: "ab"[fnv1a(m) % 2] for m in macs}
    assert set(owner.values()) == {"a", "b"}, owner
    for i, m in enumerate(macs[:6]):
        other = "b" if owner[m] == "a" else "a"
        assert reply_within(r4, other, bootp(m, 0x7000 + i, 1), 0.7) is None, (m, other)
        got = reply_within(r4, owner[m], bootp(m, 0x7100 + i, 1), REPLY_TIMEOUT)
        assert got and got[0] == 2, (m, owner[m], got)
    assert ha.metric("a", "ironboot_dhcp4_peer_requests_total") >= 1
    # DHCPv6: the same split, by the client's DUID
    r6 = Relay6(ha)
    for m in macs[:4]:
        o6 = "ab"[fnv1a(struct.pack("!HH", 3, 1) + m) % 2]
        r6.sock.settimeout(0.7)
        try:
            r6.ask("b" if o6 == "a" else "a", 1, m, ia_na(1))
            raise AssertionError(f"{m.hex()}: answered by the daemon whose client it is not")
        except TimeoutError:
            pass
        r6.sock.settimeout(REPLY_TIMEOUT)
        t, adv = r6.ask(o6, 1, m, ia_na(1))
        assert t == 2 and Relay6.addr_of(adv)[0], (m.hex(), o6, t)

    mac = next(m for m in macs[6:] if owner[m] == "b")
    os.kill(ha.d["b"].pid, signal.SIGSTOP)
    disc = bootp(mac, 0x7200, 1)
    assert reply_within(r4, "a", disc, 0.1) is None     # B's, and B is alive
    ha.d["b"].kill9()
    got = wait_reply(r4, disc[4:8], 4.0)                # the same DISCOVER, taken over
    assert got and got[0] == 2, got
    assert ha.metric("a", "ironboot_dhcp4_peer_requests_taken_over_total") >= 1
    assert ha.metric("a", "ironboot_dhcp4_share_daemons") == 1
    t, acked, _ = r4.ask("a", bootp(mac, 0x7200, 3, options=opt4(54, got[2][54]) +
                                    opt4(50, socket.inet_aton(got[1]))))
    assert (t, acked) == (5, got[1]), (t, acked, got)
    row = pg.psql(f"SELECT encode(hwaddr, 'hex') FROM leases4 WHERE state = 1 AND "
                  f"address = {int(ipaddress.IPv4Address(acked))}")
    assert row == mac.hex(), row
    assert re.search(r"a peer left; taking over the \d+ request", ha.d["a"].log())

    ha.start("b")
    ha.wait_listening("b")
    wait_for(lambda: ha.metric("a", "ironboot_dhcp4_share_daemons") == 2, 10,
             "A sees B again")
    m = next(m for m in macs if owner[m] == "b")
    assert reply_within(r4, "a", bootp(m, 0x7300, 1), 0.7) is None
    for n in "ab":
        assert ha.d[n].alive(), ha.d[n].log_tail()


def test_load_balancing_takes_over_after_a_slow_commit(pg, lab, tmp_path, ironbootd_bin):
    """The listing that sees a peer gone waits for the commit under way
    (the commit thread lists between two batches).  B stopped, a DISCOVER
    of B's client is kept back by A; A's next commit is held (LOCK_S) by a
    lock on leases4 (a REQUEST of A's own client waits on it); B is killed
    once that commit waits.  A sees B gone only once the lock is
    released, seconds after the DISCOVER, and still answers it: what is
    taken over is counted from a second before the last listing that saw
    B, not before the late one that saw it gone.  (Counted from the late one, the DISCOVER was
    dropped and its client waited for its retransmission: the HA storm
    test's clients at 4.3-5.0 s on a saturated host.)"""
    ha = sharing_pair(pg, lab, tmp_path)
    r4 = Relay4(ha)
    macs = [bytes.fromhex(f"0200000e00{i:02x}") for i in range(12)]
    mac_a = next(m for m in macs if fnv1a(m) % 2 == 0)
    mac_b = next(m for m in macs if fnv1a(m) % 2 == 1)

    def leases4_locks(granted: bool) -> int:
        return int(pg.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = "
                           "l.relation WHERE c.relname = 'leases4' AND "
                           f"{'' if granted else 'NOT '}l.granted AND l.pid <> "
                           "pg_backend_pid()"))

    t0 = time.monotonic()       # the lock ends LOCK_S after it is granted, later still
    locker = pg.psql_bg(f"BEGIN; LOCK TABLE leases4 IN ACCESS EXCLUSIVE MODE; "
                        f"SELECT pg_sleep({LOCK_S}); COMMIT;")
    try:
        wait_for(lambda: leases4_locks(True) == 1, 3, "leases4 locked")
        os.kill(ha.d["b"].pid, signal.SIGSTOP)
        disc = bootp(mac_b, 0x7400, 1)
        assert reply_within(r4, "a", disc, 0.1) is None     # B's, and B is alive
        t, offered, o = r4.ask("a", bootp(mac_a, 0x7500, 1))
        assert t == 2, t
        # its commit waits for the lock, and A's listing with it
        r4.sock.sendto(bootp(mac_a, 0x7500, 3, options=opt4(54, o[54]) +
                             opt4(50, socket.inet_aton(offered))), (halab.SRV4["a"], 67))
        wait_for(lambda: leases4_locks(False) >= 1, 3, "A's commit waiting for the lock")
        ha.d["b"].kill9()
        got = wait_reply(r4, disc[4:8], LOCK_S + 6)         # the DISCOVER, taken over
        assert got and got[0] == 2, (got, ha.d["a"].log_tail())
        # answered once the lock went: the listing that saw B gone was late
        assert time.monotonic() - t0 >= LOCK_S - 0.1, time.monotonic() - t0
        assert locker.wait(timeout=10) == 0, locker.stderr.read()
    finally:
        if locker.poll() is None:
            locker.kill()
            locker.wait()
    assert ha.metric("a", "ironboot_dhcp4_peer_requests_taken_over_total") >= 1
    assert ha.d["a"].alive(), ha.d["a"].log_tail()
