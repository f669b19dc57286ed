"""GET /api/v1/events?follow=1: the journal as server-sent events
(src/httpd/http_follow.c), against a live daemon in namespaces the test
creates:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 198.18.0.2/24 (and .3, .4)
    (busybox udhcpc, tftp-hpa and raw HTTP/1.1 sockets from 198.18.0.2)
                                  oth: eth0, a macvlan of cli0 with
                                  OTHER_MAC and its own DHCPv4 lease
                                  (another machine's HTTP fetches)

A follower sees a real client's DHCP exchange as it happens; followers
are capped in all and per client address (503 + Retry-After), a reader that stops reading is dropped
while DHCP and TFTP go on; the token is required; mac= never shows
another machine's event, proto= another protocol's; Last-Event-ID
resumes without a gap or a repeat, or past its bound says what it
skipped; `ironboot events --follow` prints through the API.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_events_follow.py -v
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess as sp
import time
from pathlib import Path

import pytest
import netlab
from apilab import ApiLab

SRV4, CLI4 = "198.18.0.1", "198.18.0.2"
PORT = 8080
TOKEN = "follow-t0ken"
MAX_FOLLOWERS = 3
PER_CLIENT = 2
CLI4B, CLI4C = "198.18.0.3", "198.18.0.4"   # more addresses of the client namespace
OTHER_MAC = "52:54:00:f0:11:02"


def acked(d: dict) -> bool:
    """The journal's event of a REQUEST the daemon ACKed."""
    return d["kind"] == "request" and d["detail"].get("decision") == "ack"


class Stream:
    """One HTTP/1.1 request from the client namespace, read as a stream:
    the status and headers, then the body de-chunked and split into
    server-sent events ({"id", "data", "comment"} dicts)."""

    def __init__(self, lab, ns: str, target: str, token: str | None = TOKEN,
                 headers: dict[str, str] | None = None, rcvbuf: int | None = None,
                 source: str | None = None):
        self.sock = lab.socket(ns, socket.AF_INET, socket.SOCK_STREAM)
        if source:
            self.sock.bind((source, 0))
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(20)
        self.sock.connect((SRV4, PORT))
        hdr = {"Host": f"{SRV4}:{PORT}", **(headers or {})}
        if token:
            hdr["Authorization"] = f"Bearer {token}"
        req = f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdr.items())
        self.sock.sendall((req + "\r\n").encode())
        self.raw = b""
        self.body = b""
        self.events: list[dict] = []
        self.closed = False
        while b"\r\n\r\n" not in self.raw:
            self._recv(20)
            assert not self.closed, f"closed before the headers: {self.raw!r}"
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in
                        (l.split(":", 1) for l in lines[1:])}
        self.chunked = self.headers.get("transfer-encoding", "") == "chunked"

    def _recv(self, timeout: float) -> None:
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return
        try:
            b = self.sock.recv(65536)
        except ConnectionResetError:
            b = b""
        if not b:
            self.closed = True
        self.raw += b

    def _decode(self) -> None:
        if not self.chunked:
            self.body += self.raw
            self.raw = b""
        while self.chunked and b"\r\n" in self.raw:
            size_s, rest = self.raw.split(b"\r\n", 1)
            size = int(size_s.split(b";")[0], 16)
            if len(rest) < size + 2:
                break
            self.body += rest[:size]
            self.raw = rest[size + 2:]
        while b"\n\n" in self.body:
            block, self.body = self.body.split(b"\n\n", 1)
            ev: dict = {"comment": []}
            for line in block.decode().split("\n"):
                if line.startswith(":"):
                    ev["comment"].append(line[1:].strip())
                elif ":" in line:
                    k, v = line.split(":", 1)
                    ev[k] = v[1:] if v.startswith(" ") else v
            if "data" in ev:
                ev["data"] = json.loads(ev["data"])
            self.events.append(ev)

    def data(self) -> list[dict]:
        """The events' JSON so far."""
        return [e["data"] for e in self.events if "data" in e]

    def until(self, pred, timeout: float = 30.0, what: str = "") -> None:
        """Reads until pred(self) holds; bounded."""
        deadline = time.monotonic() + timeout
        while True:
            self._decode()
            if pred(self):
                return
            left = deadline - time.monotonic()
            assert left > 0, f"{what or pred}: not within {timeout} s: {self.events[-5:]}"
            assert not self.closed, f"{what}: the stream ended: {self.events[-5:]}"
            self._recv(min(left, 1.0))

    def whole_body(self) -> str:
        """A plain (non-streamed) answer's body."""
        n = int(self.headers.get("content-length", "0"))
        deadline = time.monotonic() + 20
        while len(self.raw) < n and not self.closed and time.monotonic() < deadline:
            self._recv(1)
        return self.raw[:n].decode()

    def close(self) -> None:
        self.sock.close()


class Lab(ApiLab):
    def __init__(self, lab, tmp: Path):
        super().__init__(lab, tmp, TOKEN, CLI4, max_followers=MAX_FOLLOWERS,
                         max_followers_per_client=PER_CLIENT)
        for a in (CLI4B, CLI4C):
            lab.addr(self.cli, "cli0", f"{a}/24")
        self.oth = None

    def other(self) -> str:
        """The namespace of the other machine (OTHER_MAC), with its lease;
        made on first use."""
        if not self.oth:
            self.oth = self.machine("oth", OTHER_MAC)
        return self.oth

    def follow(self, query: str = "", **kw) -> Stream:
        return Stream(self.lab, self.cli, f"/api/v1/events?follow=1{query}", **kw)

    def follow_when_free(self, source: str) -> Stream:
        """A follow from source, retried until a slot is free (the daemon
        notices a close without a heartbeat); bounded in time."""
        deadline = time.monotonic() + 20
        while True:
            st = self.follow("", source=source)
            if st.status == 200:
                return st
            st.close()
            assert time.monotonic() < deadline, "the slot was never freed"
            time.sleep(0.2)

    def tftp(self) -> None:
        out = self.tmp / f"undionly-{time.monotonic_ns()}.kpxe"
        p = self.lab.run(self.cli, ["tftp", SRV4, "-m", "binary", "-c", "get",
                                    "undionly.kpxe", str(out)], timeout=60)
        assert p.returncode == 0 and out.stat().st_size > 0, p.stderr + p.stdout

    def other_fetches(self, n: int, stop=lambda: False, seconds: float = 90):
        """n GETs of /assets/absent.bin?mac=OTHER_MAC by the other machine,
        from its leased address, on one kept-alive connection (each a 404,
        journalled under OTHER_MAC as its own; the same from an address not
        its would be an unverified claim, which the journal limits per
        client address); stops early when stop() (asked every 10) holds.
        Bounded in count and time."""
        s = self.lab.socket(self.other(), socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect((SRV4, PORT))
        req = (f"GET /assets/absent.bin?mac={OTHER_MAC} HTTP/1.1\r\n"
               f"Host: {SRV4}\r\n\r\n").encode()
        deadline = time.monotonic() + seconds
        done = 0
        buf = b""
        try:
            while done < n and time.monotonic() < deadline:
                s.sendall(req)
                while buf.count(b"HTTP/1.1 ") < 1 or b"\r\n\r\n" not in buf:
                    buf += s.recv(65536)
                head, rest = buf.split(b"\r\n\r\n", 1)
                length = int([l.split(b":")[1] for l in head.split(b"\r\n")
                              if l.lower().startswith(b"content-length")][0])
                while len(rest) < length:
                    rest += s.recv(65536)
                buf = rest[length:]
                done += 1
                if done % 10 == 0 and stop():
                    break
        finally:
            s.close()
        return done


@pytest.fixture
def flab(lab, tmp_path, ironbootd_bin):
    netlab.require_tool("busybox")
    netlab.require_tool("tftp")
    return Lab(lab, tmp_path)


def test_follower_sees_a_real_dhcp_exchange(flab):
    """A follower of one MAC sees udhcpc's DISCOVER..ACK as they happen,
    as text/event-stream with ids, stages and the listing's JSON."""
    st = flab.follow(f"&mac={flab.mac}")
    try:
        assert st.status == 200 and st.chunked, st.headers
        assert st.headers["content-type"].startswith("text/event-stream")
        assert st.headers["cache-control"] == "no-store"
        t0 = time.monotonic()
        flab.udhcpc()
        st.until(lambda s: any(acked(d) for d in s.data()), 20,
                 "udhcpc's ACK")
        assert time.monotonic() - t0 < 25
        got = st.data()
        kinds = [d["kind"] for d in got]
        assert kinds[:2] == ["discover", "request"], kinds
        assert got[0]["detail"]["decision"] == "offer" and got[0]["detail"]["vendor_class"]
        assert all(d["mac"] == flab.mac and d["proto"] == "dhcp4" for d in got), got
        assert all(d["stage"] == "firmware" for d in got), got
        ids = [int(e["id"]) for e in st.events if "data" in e]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
        assert [d["id"] for d in got] == ids
        # the first event is "retry: 3000" and a comment
        assert st.events[0].get("retry") == "3000"
    finally:
        st.close()


def test_mac_filter_never_shows_another_machine(flab):
    """With mac=, another machine's events (journalled before and after
    ours) never reach the stream; without mac= both do."""
    flab.other()
    mine = flab.follow(f"&mac={flab.mac}")
    every = flab.follow("")
    try:
        assert flab.other_fetches(3) == 3
        flab.udhcpc()
        assert flab.other_fetches(3) == 3
        flab.udhcpc()
        every.until(lambda s: sum(d["mac"] == flab.mac and acked(d) for d in s.data()) >= 2
                    and sum(d["mac"] == OTHER_MAC for d in s.data()) >= 6, 30, "both")
        last = max(d["id"] for d in every.data())
        mine.until(lambda s: any(d["id"] == max(x["id"] for x in every.data()
                                               if x["mac"] == flab.mac)
                                 for d in s.data()), 20, "our last event")
        # everything of ours up to `last` was sent, and nothing of the other's
        ours = [d["id"] for d in every.data() if d["mac"] == flab.mac and d["id"] <= last]
        assert [d["id"] for d in mine.data() if d["id"] <= last] == ours
        assert all(d["mac"] == flab.mac for d in mine.data()), mine.data()
        assert any(d["mac"] == OTHER_MAC and d["proto"] == "http" for d in every.data())
    finally:
        mine.close()
        every.close()


def test_token_required(flab):
    """No token, or a wrong one: 401 and no stream."""
    for tok in (None, "wrong"):
        st = flab.follow("", token=tok)
        try:
            assert st.status == 401, (tok, st.status)
            assert st.headers.get("www-authenticate") == "Bearer"
            assert "bearer token" in st.whole_body()
        finally:
            st.close()


def test_follower_cap_then_retry_after(flab):
    """http.max_followers streams at once; one more gets 503 with
    Retry-After; when one leaves, its slot is free again."""
    sources = [CLI4, CLI4, CLI4B]       # within the per-client cap
    open_ = [flab.follow("", source=a) for a in sources]
    try:
        assert all(s.status == 200 for s in open_)
        extra = flab.follow("", source=CLI4C)
        assert extra.status == 503, extra.status
        assert extra.headers.get("retry-after") == "5"
        body = extra.whole_body()
        assert "max_followers" in body
        assert "(http.max_followers)" in body, body
        extra.close()
        open_.pop().close()
        # the daemon notices the close (no heartbeat needed): bounded retry
        open_.append(flab.follow_when_free(CLI4C))
    finally:
        for s in open_:
            s.close()


def test_one_address_cannot_hold_every_slot(flab):
    """http.max_followers_per_client streams from one address: one more
    from it gets 503 with Retry-After while another address still gets a
    stream; when one of the first leaves, that address may follow again."""
    mine = [flab.follow("", source=CLI4) for _ in range(PER_CLIENT)]
    others: list[Stream] = []
    try:
        assert all(s.status == 200 for s in mine)
        extra = flab.follow("", source=CLI4)
        assert extra.status == 503, extra.status
        assert extra.headers.get("retry-after") == "5"
        assert "max_followers_per_client" in extra.whole_body()
        extra.close()
        others.append(flab.follow("", source=CLI4B))
        assert others[0].status == 200, others[0].status
        # the refused one took no slot: the streams open still get events
        flab.udhcpc()
        for s in mine + others:
            s.until(lambda s: any(acked(d) for d in s.data()), 30, "the ACK")
        mine.pop().close()
        mine.append(flab.follow_when_free(CLI4))
    finally:
        for s in mine + others:
            s.close()


def test_stuck_reader_is_dropped_and_service_goes_on(flab):
    """A follower that never reads (tiny receive window) is dropped once
    its queue passes the bound, logged; DHCP, TFTP and the API go on, and
    a reading follower beside it keeps its stream."""
    reader = flab.follow("")
    stuck = flab.follow("", rcvbuf=2048)
    assert stuck.status == 200
    off = 0
    try:
        def dropped() -> bool:
            # the reading follower reads meanwhile, as a live client does
            while select.select([reader.sock], [], [], 0)[0] and not reader.closed:
                reader._recv(0)
            reader._decode()
            return "bytes unread" in flab.d.log(since=off)

        n = flab.other_fetches(20000, stop=dropped, seconds=120)
        flab.d.wait_log(r"event follower .* dropped: \d+ bytes unread", timeout=30, regex=True)
        assert n < 20000
        # its connection was closed by the daemon: the client reads the end
        stuck.sock.settimeout(1)
        deadline = time.monotonic() + 30
        while not stuck.closed and time.monotonic() < deadline:
            stuck._recv(1)
            stuck.raw = b""
        assert stuck.closed, "the stuck follower's connection is still open"
        # the daemon serves on
        flab.udhcpc()
        flab.tftp()
        reader.until(lambda s: any(acked(d) for d in s.data()), 60,
                     "the reading follower's ACK")
        leases = flab.lab.run(flab.srv, ["curl", "-sS", "--max-time", "20", "-H",
                                         f"Authorization: Bearer {TOKEN}",
                                         f"http://{SRV4}:{PORT}/api/v1/leases"], timeout=40)
        assert flab.mac in leases.stdout.lower(), leases.stdout
    finally:
        stuck.close()
        reader.close()


def test_last_event_id_resumes(flab):
    """A follower that reconnects with Last-Event-ID gets the events it
    missed, from the store, then the live ones: none twice, none lost."""
    st = flab.follow(f"&mac={flab.mac}")
    flab.udhcpc()
    st.until(lambda s: any(acked(d) for d in s.data()), 20)
    last = st.data()[-1]["id"]
    st.close()
    flab.udhcpc()		# while nobody follows
    back = flab.follow(f"&mac={flab.mac}", headers={"Last-Event-ID": str(last)})
    try:
        back.until(lambda s: any(acked(d) for d in s.data()), 20,
                   "the missed exchange, replayed")
        ids = [d["id"] for d in back.data()]
        assert min(ids) > last and ids == sorted(ids) and len(set(ids)) == len(ids), ids
        flab.udhcpc()		# and live again
        back.until(lambda s: sum(acked(d) for d in s.data()) >= 2, 20)
        ids = [d["id"] for d in back.data()]
        assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    finally:
        back.close()
    assert not any(e.get("event") == "gap" for e in back.events), back.events
    bad = flab.follow("", headers={"Last-Event-ID": "12x"})
    assert bad.status == 400
    bad.close()


def test_resume_past_the_bound_says_what_was_skipped(flab):
    """More events missed than the replay's bound (40): a "gap" event
    names the first one skipped, then the newest 40 follow, then the live
    ones.  (The replay used to send the newest 40 and skip the rest silently.)"""
    flab.other()
    st = flab.follow("")
    flab.udhcpc()
    st.until(lambda s: any(acked(d) for d in s.data()), 20)
    last = st.data()[-1]["id"]
    st.close()
    assert flab.other_fetches(45) == 45     # while nobody follows
    back = flab.follow("", headers={"Last-Event-ID": str(last)})
    try:
        back.until(lambda s: len(s.data()) >= 41, 20, "the gap and the replay")
        gap, *replayed = [e for e in back.events if "data" in e][:41]
        assert gap.get("event") == "gap", back.events[:3]
        assert "id" not in gap, gap
        assert gap["data"]["after_id"] == last and gap["data"]["replayed"] == 40, gap
        ids = [int(e["id"]) for e in replayed]
        assert gap["data"]["first_skipped_id"] > last, gap
        assert gap["data"]["first_skipped_id"] < ids[0], (gap, ids[:3])
        assert ids == sorted(ids) and len(set(ids)) == 40, ids
        assert all("event" not in e for e in replayed), replayed[:2]
        flab.udhcpc()           # and live again, after the replay
        back.until(lambda s: any(acked(e["data"]) for e in s.events
                                 if "data" in e and "event" not in e), 20)
        live = [int(e["id"]) for e in back.events if "data" in e and "event" not in e]
        assert live == sorted(live) and len(set(live)) == len(live), live
    finally:
        back.close()


def test_proto_filter(flab):
    """proto= on a follow keeps to that protocol's events, live and
    replayed (it used to be ignored: every protocol's came); a proto no
    event can carry is refused."""
    flab.other()
    dhcp = flab.follow("&proto=dhcp4")
    every = flab.follow("")
    try:
        assert dhcp.status == 200
        assert flab.other_fetches(3) == 3
        flab.udhcpc()
        assert flab.other_fetches(3) == 3
        every.until(lambda s: any(acked(d) for d in s.data())
                    and sum(d["proto"] == "http" for d in s.data()) >= 6, 30, "both")
        # every was opened after dhcp: events journalled in between (the
        # other machine's, flushed late) reach dhcp alone
        first = min(d["id"] for d in every.data())
        last = max(d["id"] for d in every.data())
        want = [d["id"] for d in every.data() if d["proto"] == "dhcp4"]
        dhcp.until(lambda s: any(d["id"] == want[-1] for d in s.data()), 20, "the ACK")
        assert [d["id"] for d in dhcp.data() if first <= d["id"] <= last] == want
        assert all(d["proto"] == "dhcp4" for d in dhcp.data()), dhcp.data()
        # after the DISCOVER: the 3 later fetches' events, none of DHCP's
        http = [d["id"] for d in every.data() if d["proto"] == "http" and d["id"] > want[0]]
        assert len(http) >= 3, every.data()
    finally:
        dhcp.close()
        every.close()
    back = flab.follow("&proto=http", headers={"Last-Event-ID": str(want[0])})
    try:
        back.until(lambda s: len(s.data()) >= len(http), 20, "the replayed http events")
        assert [d["id"] for d in back.data()][:len(http)] == http, back.data()
        assert all(d["proto"] == "http" for d in back.data()), back.data()
    finally:
        back.close()
    bad = flab.follow("&proto=dhcp4dhcp4")
    try:
        assert bad.status == 400 and "journal protocol" in bad.whole_body()
    finally:
        bad.close()


def test_cli_follow_uses_the_api(flab):
    """`ironboot --json events --mac M --follow` with the config's
    base_url and token prints what the daemon pushes; where no daemon
    answers it follows the store instead; with a wrong token it exits 1
    naming the refusal."""
    d = flab.d
    p = flab.lab.popen(flab.srv, [str(d.cli_bin), "--config", str(d.config), "--json",
                                  "events", "--mac", flab.mac, "--follow"],
                       stdout=sp.PIPE, stderr=sp.PIPE)
    got: list[dict] = []
    pending = b""
    try:
        # the stream is open once the daemon counts a follower: then act
        flab.udhcpc()
        deadline = time.monotonic() + 30
        while not any(acked(e) for e in got):
            left = deadline - time.monotonic()
            assert left > 0 and p.poll() is None, (got, p.poll())
            r, _, _ = select.select([p.stdout], [], [], left)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                assert chunk
                pending += chunk
                *lines, pending = pending.split(b"\n")
                got.extend(json.loads(l) for l in lines if l.strip())
        assert all(e["mac"] == flab.mac for e in got)
        assert [e["id"] for e in got] == sorted({e["id"] for e in got})
    finally:
        flab.lab.kill(p)
    # nothing listens at the API's address: it says so and reads the store
    p = flab.lab.popen(flab.srv, [str(d.cli_bin), "--config", str(d.config), "--json",
                                  "events", "--mac", flab.mac, "--follow", "--api",
                                  f"http://{SRV4}:1"], stdout=sp.PIPE, stderr=sp.PIPE)
    try:
        r, _, _ = select.select([p.stdout], [], [], 30)
        assert r, "events --follow printed nothing from the store"
        line = p.stdout.readline()
        assert json.loads(line)["mac"] == flab.mac, line
    finally:
        flab.lab.kill(p)
    assert "following the store instead" in p.stderr.read().decode()
    (flab.tmp / "bad").write_text("nope\n")
    r = flab.lab.run(flab.srv, [str(d.cli_bin), "--config", str(d.config), "events",
                                "--follow", "--token-file", str(flab.tmp / "bad")],
                     timeout=60)
    assert r.returncode == 1 and "HTTP 401" in r.stderr, (r.returncode, r.stderr)


def test_daemon_stops_with_followers_open(flab):
    """SIGTERM while streams are open: the daemon ends them and exits 0,
    with no sanitizer report (the lab checks its log), and the follower
    reads the end of its stream."""
    st = flab.follow(f"&mac={flab.mac}")
    other = flab.follow("", headers={"Last-Event-ID": "1"})
    try:
        assert st.status == 200 and other.status == 200
        assert flab.d.stop(timeout=20) == 0
        deadline = time.monotonic() + 20
        while not st.closed and time.monotonic() < deadline:
            st._recv(1)
        assert st.closed, "the stream outlived the daemon"
    finally:
        st.close()
        other.close()
