"""GET /metrics (docs/METRICS.md) on a live daemon, after real DHCPv4,
TFTP and HTTP traffic, in namespaces the test creates:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 198.18.0.2/24 (scapy DORAs on
    raw frames; tftp-hpa and curl from 198.18.0.2)

The body must pass `promtool check metrics` (Debian's prometheus
package), and the counters must move by what the test did: N DORAs grow
the ACK counter by N and the pool's leases in use by N, one TFTP download
adds one transfer and its bytes, one refused script request one 403.
Scrapes are not journalled, and http.metrics (open, token, off) decides
who may read them.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_metrics.py -v
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import netlab
from test_dhcp4 import L2Client, rand_mac

SRV4, CLI4 = "198.18.0.1", "198.18.0.2"
PORT = 8080
URL = f"http://{SRV4}:{PORT}/metrics"
TOKEN = "metrics-t0ken"
N_DORA = 5
# the pool and machine families are read from the store at most once a
# second (daemon_metrics.h IB_METRICS_CACHE_US): a scrape after a change
# waits that long to see it
STORE_READ_EVERY_S = 1.1
POOL = ('subnet="198.18.0.0/24"', 'pool="198.18.0.100-198.18.0.199"')
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def parse(text: str) -> dict[str, float]:
    """{'name{labels}': value} of every sample; labels as written."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def value(samples: dict[str, float], name: str, *labels: str) -> float:
    """The one sample of name whose labels include every one of labels."""
    hits = [v for k, v in samples.items()
            if k.split("{")[0] == name and all(l in k for l in labels)]
    assert len(hits) == 1, f"{name} {labels}: {len(hits)} samples in " \
        f"{[k for k in samples if k.startswith(name)]}"
    return hits[0]


class Lab:
    def __init__(self, lab, tmp: Path):
        self.lab, self.tmp = lab, tmp
        self.srv, self.cli = lab.netns("srv"), lab.netns("cli")
        lab.veth(self.srv, "srv0", self.cli, "cli0")
        lab.addr(self.srv, "srv0", f"{SRV4}/24")
        lab.addr(self.cli, "cli0", f"{CLI4}/24")
        (tmp / "token").write_text(TOKEN + "\n")
        (tmp / "token").chmod(0o600)
        self.cfg = netlab.lab_config()
        self.cfg["server"]["state_dir"] = str(tmp / "state")
        self.cfg["dhcp6"]["enabled"] = False
        self.cfg["dhcp6"]["router_advertisements"]["enabled"] = False
        self.cfg["http"]["listen"] = [SRV4]
        self.cfg["http"]["assets"] = str(tmp / "assets")
        self.cfg["http"]["api_token_file"] = str(tmp / "token")
        (tmp / "assets").mkdir()
        self.path = tmp / "ironboot.yaml"
        self.write()
        self.d = netlab.Daemon(lab, self.srv, self.path,
                               log_path=tmp / "ironbootd.stderr").start(timeout=20)
        self.n = 0

    def write(self, **http) -> None:
        self.cfg["http"].update(http)
        self.path.write_text(yaml.safe_dump(self.cfg, sort_keys=False))

    def reload(self, **http) -> None:
        self.write(**http)
        off = self.d.log_size()
        self.d.hup()
        self.d.wait_log("configuration reloaded", since=off, timeout=20)

    def get(self, url: str = URL, token: str | None = None) -> tuple[int, str, str]:
        """(status, body, headers) of one curl GET from the client."""
        self.n += 1
        body, hdr = self.tmp / f"body{self.n}", self.tmp / f"hdr{self.n}"
        argv = ["curl", "-sS", "--max-time", "20", "-o", str(body), "-D", str(hdr),
                "-w", "%{http_code}"]
        if token:
            argv += ["-H", f"Authorization: Bearer {token}"]
        p = self.lab.run(self.cli, [*argv, url], timeout=40)
        assert p.returncode == 0, p.stderr
        return int(p.stdout), body.read_text(), hdr.read_text()

    def scrape(self, check: bool = True) -> tuple[str, dict[str, float]]:
        st, body, hdr = self.get()
        assert st == 200, body
        assert "text/plain; version=0.0.4" in hdr
        if check:
            promtool(self.tmp, body)
        return body, parse(body)


def promtool(tmp: Path, body: str) -> None:
    """`promtool check metrics`: the format and its lint rules (exit 0)."""
    exe = shutil.which("promtool")
    if not exe:
        pytest.fail("promtool not found: the install step failed (scripts/deps.sh test "
                    "installs Debian's prometheus)")
    p = subprocess.run([exe, "check", "metrics"], input=body, text=True,
                       capture_output=True, timeout=60)
    if p.returncode != 0:
        (tmp / "metrics-refused.txt").write_text(body)
    assert p.returncode == 0, f"promtool check metrics: {p.stdout}{p.stderr}"


@pytest.fixture
def mlab(lab, tmp_path, ironbootd_bin):
    netlab.require_tool("curl")
    netlab.require_tool("tftp")
    return Lab(lab, tmp_path)


def test_counters_move_with_traffic(mlab):
    body0, m0 = mlab.scrape()
    for fam in ("ironboot_dhcp4_requests_total", "ironboot_dhcp4_replies_total",
                "ironboot_dhcp4_drops_total", "ironboot_pool_leases_in_use",
                "ironboot_pool_free", "ironboot_tftp_transfers_total",
                "ironboot_tftp_bytes_total", "ironboot_tftp_retransmits_total",
                "ironboot_tftp_errors_total", "ironboot_http_requests_total",
                "ironboot_store_commit_seconds", "ironboot_journal_events_total",
                "ironboot_machines"):
        assert f"# TYPE {fam} " in body0, fam
    assert value(m0, "ironboot_pool_addresses", *POOL) == 100

    # N DORAs: each ACK left after its group commit, so the scrape after the
    # last ACK arrived sees all of them
    l2 = L2Client(mlab.lab, mlab.cli, "cli0")
    try:
        for _ in range(N_DORA):
            l2.dora(rand_mac())
    finally:
        l2.close()
    time.sleep(STORE_READ_EVERY_S)
    _, m1 = mlab.scrape()
    for name, typ in (("ironboot_dhcp4_requests_total", "discover"),
                      ("ironboot_dhcp4_requests_total", "request"),
                      ("ironboot_dhcp4_replies_total", "offer"),
                      ("ironboot_dhcp4_replies_total", "ack")):
        grew = value(m1, name, f'type="{typ}"') - value(m0, name, f'type="{typ}"')
        assert grew >= N_DORA, f"{name}{{type={typ}}} grew by {grew}"
    assert value(m1, "ironboot_dhcp4_replies_total", 'type="ack"') - \
        value(m0, "ironboot_dhcp4_replies_total", 'type="ack"') == N_DORA
    assert value(m1, "ironboot_pool_leases_in_use", *POOL) == N_DORA
    assert value(m1, "ironboot_pool_free", *POOL) == 100 - N_DORA
    assert value(m1, "ironboot_store_commit_seconds_count") > \
        value(m0, "ironboot_store_commit_seconds_count")
    assert value(m1, "ironboot_journal_events_total") > \
        value(m0, "ironboot_journal_events_total")

    # one TFTP download: one transfer, its bytes (the report follows the
    # client's last ACK, so wait for the counter, bounded)
    out = mlab.tmp / "undionly.kpxe"
    p = mlab.lab.run(mlab.cli, ["tftp", SRV4, "-m", "binary", "-c", "get",
                                "undionly.kpxe", str(out)], timeout=60)
    assert p.returncode == 0 and out.stat().st_size > 0, p.stderr + p.stdout
    deadline = time.monotonic() + 20
    while True:
        _, m2 = mlab.scrape(check=False)
        if value(m2, "ironboot_tftp_transfers_total", 'result="ok"') >= 1:
            break
        assert time.monotonic() < deadline, "no TFTP transfer counted in 20 s"
        time.sleep(0.2)
    assert value(m2, "ironboot_tftp_transfers_total", 'result="ok"') == 1
    assert value(m2, "ironboot_tftp_bytes_total") == out.stat().st_size
    assert value(m2, "ironboot_tftp_errors_total") == 0

    # HTTP: the client is no machine, so its script request is refused
    st, _, _ = mlab.get(f"http://{SRV4}:{PORT}/boot.ipxe?mac=52:54:00:aa:bb:cc")
    assert st == 403
    st, _, _ = mlab.get(f"http://{SRV4}:{PORT}/nothing-here")
    assert st == 404
    _, m3 = mlab.scrape()
    assert value(m3, "ironboot_http_requests_total", 'route="/boot.ipxe"', 'code="403"') == 1
    assert value(m3, "ironboot_http_requests_total", 'route="other"', 'code="404"') == 1
    assert value(m3, "ironboot_http_requests_total", 'route="/metrics"', 'code="200"') >= 3
    # doctor findings by rule (the daemon's watch): every machine rule has
    # its series from the start; these clients boot nothing, none is named
    # (test_doctor.py's test_doctor_mac counts planted ones)
    for rule in ("offer-no-request", "ack-no-tftp", "chainload-loop", "http-missing"):
        assert value(m3, "ironboot_doctor_findings", f'rule="{rule}"') == 0

    # scrapes are monitoring, not a machine's events: none is journalled
    events = mlab.d.events_when(
        lambda evs: any(e["detail"].get("path") == "/boot.ipxe" for e in evs),
        "--proto", "http", "--limit", "1000")
    paths = [e["detail"].get("path") for e in events]
    assert "/boot.ipxe" in paths and "/metrics" not in paths, paths


def udp_socket(pid: int, port: int) -> tuple[int, int]:
    """(bytes queued, drops) the kernel counts for pid's UDP socket on port
    (its namespace's /proc/net/udp)."""
    for line in Path(f"/proc/{pid}/net/udp").read_text().splitlines()[1:]:
        f = line.split()
        if f[1].endswith(f":{port:04X}"):
            return int(f[4].split(":")[1], 16), int(f[-1])
    raise AssertionError(f"no UDP socket on port {port} in /proc/{pid}/net/udp")


def send_short(mlab, n: int) -> None:
    """n 1-byte datagrams to the DHCPv4 server port from the client."""
    prog = (f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            f"for _ in range({n}):\n    s.sendto(b'\\x01', ('{SRV4}', 67))\n")
    p = mlab.lab.run(mlab.cli, ["/usr/bin/python3", "-c", prog], timeout=60)
    assert p.returncode == 0, p.stderr


FLOOD = 40000       # 1-byte datagrams: the kernel counts ~800 bytes each, so
                    # more than the 16 MiB the daemon's socket may queue


def test_receive_buffer_drops_counted(mlab):
    """Requests the kernel dropped because the daemon fell behind (its
    socket's receive buffer full) are counted as drops{reason=
    "receive-buffer"}, exactly as the kernel counted them, and logged; the
    daemon goes on serving.  The daemon is held with SIGSTOP while a bounded
    flood arrives."""
    pid = mlab.d.pid
    before = udp_socket(pid, 67)[1]
    off = mlab.d.log_size()
    os.kill(pid, signal.SIGSTOP)
    try:
        send_short(mlab, FLOOD)
        dropped = udp_socket(pid, 67)[1] - before
    finally:
        os.kill(pid, signal.SIGCONT)
    assert dropped > 0, "the flood fitted in the socket: nothing to count"
    # a datagram carries the drop count as it was when it was queued: the
    # next one after the daemon has read the queue brings the news
    deadline = time.monotonic() + 30
    while udp_socket(pid, 67)[0]:
        assert time.monotonic() < deadline, "the daemon did not read its queue in 30 s"
        time.sleep(0.05)
    send_short(mlab, 1)
    line = mlab.d.wait_log("requests dropped by the kernel", since=off, timeout=30)
    assert f" {dropped} requests dropped" in line, line
    _, m = mlab.scrape()
    assert value(m, "ironboot_dhcp4_drops_total", 'reason="receive-buffer"') == dropped
    assert value(m, "ironboot_dhcp4_drops_total", 'reason="short"') == FLOOD + 1 - dropped
    l2 = L2Client(mlab.lab, mlab.cli, "cli0")
    try:
        l2.dora(rand_mac())
    finally:
        l2.close()


def rcvbuf(mlab, port: int) -> int:
    """The receive buffer the kernel grants the server's UDP socket on port
    (`ss -m`: rb, twice what was asked)."""
    out = mlab.lab.run(mlab.srv, ["ss", "-H", "-u", "-a", "-n", "-m", f"sport = :{port}"]).stdout
    m = re.search(r"\brb(\d+)", out)
    assert m, out
    return int(m.group(1))


def test_receive_buffer_without_cap_net_admin_is_said(mlab):
    """The DHCP socket asks for 8 MiB, beyond net.core.rmem_max, which
    only CAP_NET_ADMIN may (the shipped unit runs without it): as root it
    gets it, silently; without the capability the kernel caps it, and the
    daemon says so, naming the sysctl, and serves on."""
    assert rcvbuf(mlab, 67) == 2 * (8 << 20)
    assert "receive buffer" not in mlab.d.log()
    mlab.d.stop()
    wrapper = mlab.tmp / "ironbootd-no-net-admin"
    wrapper.write_text("#!/bin/sh\nexec setpriv --bounding-set -net_admin --inh-caps -net_admin "
                       f"-- {mlab.d.bin} \"$@\"\n")
    wrapper.chmod(0o755)
    mlab.d.bin = wrapper
    off = mlab.d.log_size()
    mlab.d.start(timeout=20)
    line = mlab.d.wait_log("dhcp4: receive buffer", since=off)
    assert "not the 8192 KiB asked for" in line and "net.core.rmem_max" in line, line
    assert rcvbuf(mlab, 67) < 2 * (8 << 20)
    l2 = L2Client(mlab.lab, mlab.cli, "cli0")
    try:
        l2.dora(rand_mac())
    finally:
        l2.close()


def test_metrics_access_modes(mlab):
    # open (the default): no token needed
    assert mlab.get()[0] == 200
    mlab.reload(metrics="token")
    st, body, hdr = mlab.get()
    assert st == 401 and "www-authenticate: bearer" in hdr.lower(), (st, body)
    assert mlab.get(token="wrong")[0] == 401
    st, body, _ = mlab.get(token=TOKEN)
    assert st == 200 and "ironboot_build_info" in body
    promtool(mlab.tmp, body)
    mlab.reload(metrics="off")
    assert mlab.get(token=TOKEN)[0] == 404
    # the refusals are counted too, under their route and status
    mlab.reload(metrics="open")
    _, m = mlab.scrape()
    assert value(m, "ironboot_http_requests_total", 'route="/metrics"', 'code="401"') == 2
    assert value(m, "ironboot_http_requests_total", 'route="/metrics"', 'code="404"') == 1


def test_dhcp6_counters(lab, tmp_path, ironbootd_bin):
    """DHCPv6: a SOLICIT answered with an ADVERTISE, one with Rapid Commit
    answered with a REPLY that binds: the counters and the pool say so."""
    import test_dhcp6
    from scapy.layers.dhcp6 import DUID_LL, DHCP6_Advertise, DHCP6_Reply

    env = test_dhcp6.Env(lab, tmp_path)
    url = f"http://[{test_dhcp6.SRV6}]:8080/metrics"

    def scrape() -> dict[str, float]:
        p = lab.run(env.srv, ["curl", "-sSg", "--max-time", "20", url], timeout=40)
        assert p.returncode == 0, p.stderr
        promtool(tmp_path, p.stdout)
        return parse(p.stdout)

    pool = ('subnet="fd00:b007::/64"', 'pool="fd00:b007::1000-fd00:b007::1fff"')
    m0 = scrape()
    assert value(m0, "ironboot_pool_addresses", *pool) == 4096
    assert value(m0, "ironboot_dhcp6_requests_total", 'type="solicit"') == 0
    (adv,) = env.exchange(bytes(test_dhcp6.solicit(DUID_LL(lladdr="52:54:00:66:00:01"))))
    assert isinstance(adv, DHCP6_Advertise), adv.summary()
    (rep,) = env.exchange(bytes(test_dhcp6.solicit(DUID_LL(lladdr="52:54:00:66:00:02"),
                                                   rapid=True)))
    assert isinstance(rep, DHCP6_Reply), rep.summary()
    time.sleep(STORE_READ_EVERY_S)
    m1 = scrape()
    assert value(m1, "ironboot_dhcp6_requests_total", 'type="solicit"') == 2
    assert value(m1, "ironboot_dhcp6_replies_total", 'type="advertise"') == 1
    assert value(m1, "ironboot_dhcp6_replies_total", 'type="reply"') == 1
    assert value(m1, "ironboot_pool_leases_in_use", *pool) == 1
    assert value(m1, "ironboot_pool_free", *pool) == 4095
    assert env.d.alive(), env.d.log_tail()
    env.d.stop()


def test_events_show_stage_and_time_since_previous(mlab):
    """`ironboot events --mac M`: every event with its date and time, its
    stage of the netboot chain and the time since the previous stage
    began (docs/METRICS.md), from real exchanges: a firmware DORA, a
    DISCOVER from iPXE, a script request."""
    mac = "52:54:00:77:00:01"
    l2 = L2Client(mlab.lab, mlab.cli, "cli0")
    try:
        _, ack = l2.dora(mac)
        time.sleep(0.3)             # a gap between the stages, to be measured
        assert l2.discover(mac, ((77, "iPXE"),)) is not None
    finally:
        l2.close()
    # the script, fetched from the machine's leased address as iPXE does (a
    # refused request, from an address no machine holds, takes no stage)
    mlab.lab.addr(mlab.cli, "cli0", f"{ack.yiaddr}/24")
    p = mlab.lab.run(mlab.cli, ["curl", "-sS", "--max-time", "20", "-o", "/dev/null",
                                "-w", "%{http_code}", "--interface", ack.yiaddr,
                                f"http://{SRV4}:{PORT}/boot.ipxe?mac={mac}"], timeout=40)
    assert p.stdout == "200", p.stdout + p.stderr       # journalled under the MAC
    deadline = time.monotonic() + 20
    while True:
        events = mlab.d.cli_json("events", "--mac", mac)
        if any(e["proto"] == "http" for e in events):
            break
        assert time.monotonic() < deadline, events
        time.sleep(0.2)
    stages = [e["stage"] for e in events]
    assert stages[0] == "firmware" and events[0]["since_prev_stage_ms"] is None, events
    ipxe = next(e for e in events if e["stage"] == "ipxe")
    assert ipxe["since_prev_stage_ms"] >= 300, ipxe
    script = next(e for e in events if e["stage"] == "script")
    assert script["since_prev_stage_ms"] is not None
    assert stages.index("firmware") < stages.index("ipxe") < stages.index("script"), stages
    table = mlab.d.cli("events", "--mac", mac)
    head, *rows = table.splitlines()
    assert head.split()[:6] == ["TIME", "(UTC)", "MAC", "STAGE", "+PREV", "PROTO"], head
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}  " + mac + r"  firmware +-  ",
                    rows[0]), rows[0]
    assert any(re.search(r"  ipxe +\+\d+\.\d{3}s +dhcp4 ", r) for r in rows), table
    assert any(re.search(r"  script +\+\d+\.\d{3}s +http ", r) for r in rows), table


def test_events_follow_streams_new_events(mlab):
    """`ironboot --json events --mac M --follow` prints the events so far,
    then each new one as the daemon writes it, with its stage, and never
    one twice; it runs until killed (by PID)."""
    import json
    import os
    import select as sel
    import subprocess as sp

    mac = "52:54:00:77:00:02"
    l2 = L2Client(mlab.lab, mlab.cli, "cli0")
    d = mlab.d
    p = None
    try:
        l2.dora(mac)
        p = mlab.lab.popen(mlab.srv, [str(d.cli_bin), "--config", str(d.config), "--json",
                                      "events", "--mac", mac, "--follow"],
                           stdout=sp.PIPE, stderr=sp.PIPE)
        got: list[dict] = []
        pending = b""

        def read_until(pred, timeout: float = 20.0) -> None:
            """Reads whole lines off the pipe (raw reads: a buffered
            readline would hide a second line from select) until pred."""
            nonlocal pending
            deadline = time.monotonic() + timeout
            while not pred():
                left = deadline - time.monotonic()
                assert left > 0 and p.poll() is None, (got, p.poll())
                r, _, _ = sel.select([p.stdout], [], [], left)
                if not r:
                    continue
                chunk = os.read(p.stdout.fileno(), 65536)
                assert chunk, "ironboot events --follow ended"
                pending += chunk
                *lines, pending = pending.split(b"\n")
                got.extend(json.loads(l) for l in lines if l.strip())

        read_until(lambda: any(e["kind"] == "request" for e in got))
        assert all(e["mac"] == mac and e["stage"] == "firmware" for e in got), got
        # a new exchange after the stream began: iPXE's DISCOVER
        assert l2.discover(mac, ((77, "iPXE"),)) is not None
        read_until(lambda: any(e["stage"] == "ipxe" for e in got))
        ipxe = next(e for e in got if e["stage"] == "ipxe")
        assert ipxe["since_prev_stage_ms"] is not None and ipxe["ts_us"] > got[0]["ts_us"]
        ids = [e["id"] for e in got]
        assert len(ids) == len(set(ids)) and ids == sorted(ids), ids
    finally:
        l2.close()
        if p is not None:
            mlab.lab.kill(p)
