"""Power control in the daemon (issue #13, docs/POWER.md): BMC entries of
the config and the API, the operator's operations (REST API and
`ironboot power`), the journal, the lifecycle's power steps and
reconciliation, against real BMC software as tests/integration/
test_power.py uses it (tests/lib/bmc.py): redfish_emu.py and OpenIPMI's
ipmi_sim, each the BMC of a QEMU VM whose state is read over QMP.

    ns bmc:  198.18.0.2   the BMCs (emulator, ipmi_sim, sinks)
                |
    ns srv:  198.18.0.1   ironbootd (DHCPv4 server for 198.18.1.0/24,
             198.18.1.1   HTTP API on 198.18.0.1:8080, the BMC pool)
             198.18.3.1
                |      \\
    ns cli:  198.18.1.2   a DHCP relay agent: are DISCOVERs answered?
    ns m1:   198.18.3.60  a lifecycle machine (its MAC is ML's): curl as
                          its agent

Run:  sudo IB_BUILD=build-asan /usr/bin/python3 -m pytest \\
        tests/integration/test_power_daemon.py -v
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from pathlib import Path

import pytest

import bmc as B
import netlab

SRV, BMC_IP, RELAY, SRV_C, ML_IP, SRV_M = (
    "198.18.0.1", "198.18.0.2", "198.18.1.2", "198.18.1.1", "198.18.3.60", "198.18.3.1")
PORT = 8080
BASE = f"http://{SRV}:{PORT}"
TOKEN = "api-token-for-power"
USER, PASSWORD = "admin", "pw-Qv93-dmn-secret"   # IPMI 2.0: at most 20 bytes
WRONG = "not-the-bmc-password"
MR, MI, ML = "52:54:00:00:dd:01", "52:54:00:00:dd:02", "52:54:00:00:dd:03"

CONFIG = """\
server: {{ state_dir: {tmp}/state, log_level: info }}
dhcp4:
  interfaces: [srv1]
  subnets:
    - subnet: 198.18.1.0/24
      relays: [198.18.1.2]          # the relay agent of the cli namespace
      pools: [ {{ start: 198.18.1.100, end: 198.18.1.199 }} ]
dhcp6: {{ enabled: false }}
tftp: {{ enabled: false }}
http:
  listen: [{listen}]
  port: {port}
  base_url: http://{srv}:{port}
  assets: {tmp}/assets
  api_token_file: {tmp}/token
{lifecycle}
power:
  secrets_file: {tmp}/secrets.json
  poll_interval: {poll}
  concurrency: {conc}
  off_check_grace: 1s
  off_check_timeout: 30s
  default_credential: lab
profiles:
  - {{ name: os, kernel: vmlinuz }}
machines:
  - {{ mac: "{mr}", hostname: rf1 }}
  - {{ mac: "{mi}", hostname: ipmi1 }}
bmcs:
{bmcs}
"""


def rf(mac, port=8000, credential="lab", **kw) -> dict:
    return dict(mac=mac, driver="redfish", address=f"http://{BMC_IP}:{port}",
                credential=credential, **kw)


def ipmi(mac, credential="lab", **kw) -> dict:
    kw.setdefault("timeout_ms", 3000)
    return dict(mac=mac, driver="ipmi", address=BMC_IP, credential=credential,
                ipmi_workarounds=["opensesspriv"], **kw)


class PowerLab:
    def __init__(self, lab, tmp: Path, bmcs: list[dict], poll: str = "0",
                 lifecycle: bool = False):
        netlab.require_tool("curl")
        self.lab, self.tmp, self.n = lab, tmp, 0
        self.srv, self.bns, self.cli = lab.netns("srv"), lab.netns("bmc"), lab.netns("cli")
        lab.veth(self.srv, "srv0", self.bns, "bmc0")
        lab.addr(self.srv, "srv0", f"{SRV}/24")
        lab.addr(self.bns, "bmc0", f"{BMC_IP}/24")
        lab.veth(self.srv, "srv1", self.cli, "cli0")
        lab.addr(self.srv, "srv1", f"{SRV_C}/24")
        lab.addr(self.cli, "cli0", f"{RELAY}/24")
        if lifecycle:
            self.m1 = lab.netns("m1")
            lab.veth(self.srv, "pm1", self.m1, "eth0", up=False)
            lab.set_mac(self.m1, "eth0", ML)
            lab.up(self.m1, "eth0")
            lab.up(self.srv, "pm1")
            lab.addr(self.m1, "eth0", f"{ML_IP}/24")
            lab.addr(self.srv, "pm1", f"{SRV_M}/24")
        (tmp / "assets" / "agent").mkdir(parents=True)
        for f in ("vmlinuz", "initrd.img"):
            (tmp / "assets" / "agent" / f).write_text("x")
        (tmp / "token").write_text(TOKEN + "\n")
        B.write_secrets(tmp / "secrets.json", {"lab": (USER, PASSWORD),
                                               "wrong": (USER, WRONG)})
        self.cfg = tmp / "ironboot.yaml"
        self.write_config(bmcs, poll, lifecycle)
        self.d = netlab.Daemon(lab, self.srv, self.cfg).start(timeout=20)

    def write_config(self, bmcs, poll, lifecycle=False, conc=32):
        self.cfg.write_text(CONFIG.format(
            tmp=self.tmp, srv=SRV, port=PORT, poll=poll, mr=MR, mi=MI, conc=conc,
            listen=f"{SRV}, {SRV_M}" if lifecycle else SRV,
            lifecycle="lifecycle: { auto_discover: true }" if lifecycle else "",
            bmcs="\n".join(f"  - {json.dumps(b)}" for b in bmcs)))

    def curl(self, ns: str, url: str, *extra: str, timeout: int = 60) -> tuple[int, str]:
        self.n += 1
        out = self.tmp / f"body{self.n}"
        p = self.lab.run(ns, ["curl", "-sS", "-g", "--max-time", str(timeout), "-o", str(out),
                              "-w", "%{http_code}", *extra, url], timeout=timeout + 10)
        assert p.returncode == 0, f"curl {url}: {p.stderr}"
        return int(p.stdout), out.read_text() if out.exists() else ""

    def api(self, path: str, method: str = "GET", body=None, token: str | None = TOKEN):
        extra = ["-X", method]
        if token:
            extra += ["-H", f"Authorization: Bearer {token}"]
        if body is not None:
            extra += ["-H", "Content-Type: application/json", "--data-binary",
                      json.dumps(body)]
        st, text = self.curl(self.srv, f"{BASE}/api/v1/{path}", *extra)
        return st, json.loads(text) if text.strip() else None

    def power(self, mac: str, op: str, status: int = 200) -> dict:
        st, v = self.api(f"machines/{mac}/power/{op}", "POST")
        assert st == status, (op, st, v)
        return v

    def events(self, mac: str, proto: str = "power") -> list[dict]:
        st, v = self.api(f"events?mac={mac}&proto={proto}&limit=1000")
        assert st == 200, v
        return v

    def no_secret_anywhere(self) -> None:
        """Neither password in the daemon's log, the journal or an API read."""
        st, bmcs = self.api("bmcs")
        st2, ev = self.api("events?limit=1000")
        text = self.d.log() + json.dumps(bmcs) + json.dumps(ev)
        for p in (PASSWORD, WRONG):
            assert p not in text
        assert all("password" not in json.dumps(b) for b in bmcs)


def detail(e: dict) -> dict:
    d = e.get("detail")
    return json.loads(d) if isinstance(d, str) else d


# -- the operator: API and CLI, both drivers ----------------------------------

def test_redfish_api_cli_journal(lab, tmp_path):
    """status, pxe-once, on, off through the API and the CLI to a Redfish BMC
    driving a QEMU VM (QMP confirms); each lands in the journal with its
    driver and result; `ironboot machines` has the POWER column; the
    credential is named in reads and its password nowhere."""
    netlab.require_tool("qemu-system-x86_64")
    pl = PowerLab(lab, tmp_path, [rf(MR, efi=True, name="rf1-bmc")])
    emu = B.RedfishEmu(lab, pl.bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD,
                       vm=True).start()

    st, v = pl.api(f"machines/{MR}/bmc")
    assert st == 200 and v["credential"] == "lab" and v["name"] == "rf1-bmc", v
    assert pl.power(MR, "status")["state"] == "off"
    pl.power(MR, "pxe-once")
    r = pl.power(MR, "on")
    assert r["result"] == "ok" and r["driver"] == "redfish" and r["bmc"] == "rf1-bmc", r
    B.wait_for(lambda: B.vm_status(emu.qmp_path) == "running", 30, "the VM running")
    argv = emu.vm_argv()
    assert argv[argv.index("-boot") + 1] == "once=n", argv

    # the CLI goes through the daemon's API
    out = json.loads(pl.d.cli("power", "status", MR).splitlines()[-1])
    assert out["state"] == "on" and out["op"] == "status", out
    row = [ln for ln in pl.d.cli("machines").splitlines() if ln.startswith(MR)]
    assert row and row[0].split()[1:4] == ["-", "file", "on"], row
    pl.d.cli("power", "off", "--all")
    B.wait_for(lambda: emu.vm_pids() == [], 15, "the VM process to end")
    assert B.vm_status(emu.qmp_path) is None
    shown = [m for m in pl.d.cli_json("machines") if m["mac"] == MR][0]
    assert shown["power"]["state"] == "off" and shown["power"]["op"] == "off", shown

    ev = pl.events(MR)
    kinds = [e["kind"] for e in ev]
    assert kinds == ["status", "pxe-once", "on", "status", "off"], kinds
    for e in ev:
        d = detail(e)
        assert d["driver"] == "redfish" and d["result"] == "ok" and d["bmc"] == "rf1-bmc", d
        assert isinstance(d["ms"], int)
    assert [detail(e)["by"] for e in ev] == ["api", "api", "api", "cli", "cli"]
    p = pl.d.cli_run("events", "--mac", MR)
    assert p.returncode == 0 and "pxe-once" in p.stdout, p.stdout

    # no BMC: 404; no token: 401; an unknown operation: 404
    assert pl.api(f"machines/{MI}/power/status", "POST")[0] == 404
    st, v = pl.api(f"machines/52:54:00:00:dd:99/power/status", "POST")
    assert st == 404 and "no BMC" in v["error"], v
    assert pl.api(f"machines/{MR}/power/on", "POST", token=None)[0] == 401
    assert pl.api(f"machines/{MR}/power/reboot", "POST")[0] == 404
    pl.no_secret_anywhere()


def test_ipmi_api(lab, tmp_path):
    """status, on, off over RMCP+ to ipmi_sim, the BMC of a QEMU VM."""
    netlab.require_tool("ipmi_sim", "qemu-system-x86_64", "ss")
    pl = PowerLab(lab, tmp_path, [ipmi(MI)])
    sim = B.IpmiSim(lab, pl.bns, BMC_IP, tmp_path / "sim", USER, PASSWORD, mode="vm").start()
    assert pl.power(MI, "status")["state"] == "off"
    r = pl.power(MI, "on")
    assert r["driver"] == "ipmi" and r["result"] == "ok", r
    B.wait_for(lambda: B.vm_status(sim.qmp_path) == "running", 30, "the VM running")
    assert pl.power(MI, "status")["state"] == "on"
    pl.power(MI, "off")
    B.wait_for(lambda: sim.vm_pids() == [], 15, "the VM process to end")
    assert [e["kind"] for e in pl.events(MI)] == ["status", "on", "status", "off"]
    assert all(detail(e)["driver"] == "ipmi" for e in pl.events(MI))
    pl.no_secret_anywhere()


# -- failures ---------------------------------------------------------------

def dhcp_discover(sock: socket.socket, mac: bytes, xid: int) -> bytes:
    """A relayed DISCOVER (giaddr RELAY): RFC 2131 message, options 53, 255."""
    p = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1, xid, 0, 0, bytes(4),
                    bytes(4), bytes(4), socket.inet_aton(RELAY), mac.ljust(16, b"\0"),
                    b"", b"")
    return p + b"\x63\x82\x53\x63" + bytes([53, 1, 1, 255])


def offer_latencies(lab, ns: str, n: int, timeout: float = 2.0,
                    gap: float = 0.0) -> list[float]:
    """n DISCOVERs as a relay would send them, one at a time, gap seconds
    apart; the seconds until each OFFER (timeout for none)."""
    s = lab.socket(ns, socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((RELAY, 67))
    out = []
    try:
        for i in range(n):
            xid = random.getrandbits(32)
            mac = bytes([0x52, 0x54, 0, 0xee, 0, i % 40])
            t0 = time.monotonic()
            s.sendto(dhcp_discover(s, mac, xid), (SRV_C, 67))
            s.settimeout(timeout)
            while True:
                try:
                    data = s.recv(2048)
                except socket.timeout:
                    out.append(timeout)
                    break
                if len(data) > 8 and struct.unpack("!I", data[4:8])[0] == xid:
                    out.append(time.monotonic() - t0)
                    break
            time.sleep(gap)
    finally:
        s.close()
    return out


def test_failures_name_the_bmc_and_block_nothing(lab, tmp_path):
    """A BMC that never answers (TCP sink), an IPMI BMC that swallows every
    datagram, wrong credentials: each answers 502 with a message naming its
    BMC, while DHCP and a healthy BMC are served meanwhile."""
    pl = PowerLab(lab, tmp_path, [
        rf(MR, name="healthy"),
        rf("52:54:00:00:dd:10", 8999, name="hung", timeout_ms=1500, retries=1),
        ipmi("52:54:00:00:dd:11", name="silent", timeout_ms=1500, retries=1),
        rf("52:54:00:00:dd:12", credential="wrong", name="badpw"),
        ipmi("52:54:00:00:dd:13", credential="absent", name="nocred")])
    B.RedfishEmu(lab, pl.bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD).start()
    tcp, udp = B.TcpSink(lab, pl.bns, BMC_IP, 8999), B.UdpSink(lab, pl.bns, BMC_IP)

    slow = {}

    def call(mac):
        t0 = time.monotonic()
        slow[mac] = (pl.api(f"machines/{mac}/power/status", "POST"), time.monotonic() - t0)

    threads = [threading.Thread(target=call, args=(m,))
               for m in ("52:54:00:00:dd:10", "52:54:00:00:dd:11")]
    for t in threads:
        t.start()
    time.sleep(0.3)
    # meanwhile: DHCP answers and a healthy BMC answers, promptly
    lat = offer_latencies(lab, pl.cli, 20)
    t0 = time.monotonic()
    assert pl.power(MR, "status")["state"] == "off"
    healthy_s = time.monotonic() - t0
    for t in threads:
        t.join(30)
    print(f"while two BMCs hung: DHCP OFFER max {max(lat) * 1000:.1f} ms, "
          f"healthy BMC {healthy_s:.2f} s; hung ones failed after "
          f"{slow['52:54:00:00:dd:10'][1]:.2f} s / {slow['52:54:00:00:dd:11'][1]:.2f} s")
    assert max(lat) < 1.0, lat
    assert healthy_s < 2.5
    (st, v), took = slow["52:54:00:00:dd:10"]
    assert st == 502 and v["error"].startswith(
        "bmc hung: no answer to GET /redfish/v1/ within 1500 ms"), v
    assert 2.5 < took < 10
    (st, v), took = slow["52:54:00:00:dd:11"]
    assert st == 502 and v["error"].startswith(
        "bmc silent: no answer to session setup within 1500 ms"), v
    v = pl.power("52:54:00:00:dd:12", "on", status=502)
    assert v["error"].startswith("bmc badpw: authentication refused (wrong user or "
                                 "password)"), v
    v = pl.power("52:54:00:00:dd:13", "status", status=502)
    assert v["error"] == 'bmc nocred: credential "absent" is not in the secrets file', v
    ev = pl.events("52:54:00:00:dd:12")
    assert ev and detail(ev[-1])["result"] == "error" and \
        detail(ev[-1])["msg"].startswith("bmc badpw: authentication refused"), ev
    tcp.close()
    udp.close()
    pl.no_secret_anywhere()


# -- reconciliation --------------------------------------------------------

def test_reconciliation_sees_a_bmc_that_lies(lab, tmp_path):
    """The BMC says "on" while QEMU is off: the poll journals power-changed
    off -> on, the machine shows on, QMP shows no VM."""
    netlab.require_tool("qemu-system-x86_64")
    pl = PowerLab(lab, tmp_path, [rf(MR)], poll="1s")
    emu = B.RedfishEmu(lab, pl.bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD,
                       vm=True).start()
    B.wait_for(lambda: any(e["kind"] == "power-changed" for e in pl.events(MR)), 20,
               "the first poll")
    assert B.vm_status(emu.qmp_path) is None
    emu.lie("On")
    B.wait_for(lambda: any(e["kind"] == "power-changed" and detail(e)["to"] == "on"
                           for e in pl.events(MR)), 20, "the poll to see on")
    ch = [detail(e) for e in pl.events(MR) if e["kind"] == "power-changed"]
    assert ch[-1]["from"] == "off" and ch[-1]["by"] == "poll", ch
    shown = [m for m in pl.d.cli_json("machines") if m["mac"] == MR][0]
    assert shown["power"]["state"] == "on", shown
    assert B.vm_status(emu.qmp_path) is None and emu.vm_pids() == []   # the truth
    assert "changed outside ironboot" in pl.d.log()
    emu.lie(None)
    B.wait_for(lambda: [detail(e)["to"] for e in pl.events(MR)
                        if e["kind"] == "power-changed"][-1] == "off", 20, "off again")


def discover_stream(sock: socket.socket, stop: threading.Event, out: list,
                    gap: float = 0.02, timeout: float = 8.0) -> None:
    """DISCOVERs as a relay sends them, one at a time, gap seconds apart,
    until stop is set: appends (monotonic time sent, seconds until its
    OFFER or None for none within timeout)."""
    i = 0
    while not stop.is_set():
        xid = random.getrandbits(32)
        mac = bytes([0x52, 0x54, 0, 0xef, 0, i % 40])
        i += 1
        t0 = time.monotonic()
        sock.sendto(dhcp_discover(sock, mac, xid), (SRV_C, 67))
        got = None
        while got is None and time.monotonic() - t0 < timeout:
            sock.settimeout(max(0.001, timeout - (time.monotonic() - t0)))
            try:
                data = sock.recv(2048)
            except socket.timeout:
                break
            if len(data) > 8 and struct.unpack("!I", data[4:8])[0] == xid:
                got = time.monotonic() - t0
        out.append((t0, got))
        time.sleep(gap)


def test_fifty_bmcs_polled_while_dhcp_answers(lab, tmp_path):
    """A reconciliation round of 50 BMCs (32 at once) of which 6 never
    answer (a TCP sink for 4 Redfish BMCs, a UDP sink for 2 IPMI ones,
    5000 ms per attempt, one retry), while a relay sends a DISCOVER every
    20 ms: every DISCOVER gets its OFFER, none later than 2.5 s, and the
    round completes (each BMC's state, or its error, in the journal).

    A BMC call made on the loop would hold the OFFERs for 5 s or more
    (10 s with the retry), so this fails if one is.  The bound is that
    wide because the test host is: on two cores at load average 21 to 26
    the slowest OFFER took 0.56 to 1.38 s with the loop free.  How much
    the polling costs the DHCP p99 is a measurement: bench/power
    (docs/POWER.md, "DHCP latency")."""
    hung = [rf(f"52:54:00:00:e1:{i:02x}", 8999, name=f"hung{i}", timeout_ms=5000,
               retries=1) for i in range(4)]
    silent = [ipmi(f"52:54:00:00:e2:{i:02x}", name=f"silent{i}", timeout_ms=5000,
                   retries=1) for i in range(2)]
    healthy = [rf(f"52:54:00:00:e0:{i:02x}", 8000 + i, name=f"ok{i}") for i in range(44)]
    bmcs = hung + silent + healthy
    pl = PowerLab(lab, tmp_path, bmcs, poll="0")
    B.RedfishEmu(lab, pl.bns, BMC_IP, 8000, tmp_path / "emu", USER, PASSWORD,
                 count=len(healthy)).start()
    tcp, udp = B.TcpSink(lab, pl.bns, BMC_IP, 8999), B.UdpSink(lab, pl.bns, BMC_IP)
    sock = lab.socket(pl.cli, socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((RELAY, 67))
    lat: list = []
    stop = threading.Event()
    client = threading.Thread(target=discover_stream, args=(sock, stop, lat))
    macs = {b["mac"] for b in bmcs}

    def round_done() -> bool:
        late = [(round(t - t_hup, 2), x) for t, x in lat if x is None or x >= 2.5]
        assert not late, ("DISCOVERs late or unanswered (s after the reload, s)", late)
        # a loop held up holds the API too: do not wait on it for long
        p = lab.run(pl.srv, ["curl", "-sS", "--max-time", "5", "-H",
                             f"Authorization: Bearer {TOKEN}",
                             f"{BASE}/api/v1/events?proto=power&limit=1000"], timeout=15)
        return p.returncode == 0 and macs <= {e["mac"] for e in json.loads(p.stdout)}

    # polling on: the first round starts a second after the reload (whose
    # own time on the loop is not what is asked here), the DISCOVERs before
    pl.write_config(bmcs, "1s")
    since = pl.d.log_size()
    pl.d.hup()
    pl.d.wait_log("configuration reloaded", since=since)
    t_hup = time.monotonic()
    try:
        client.start()
        B.wait_for(round_done, 60, "a reconciliation round of 50")
        time.sleep(0.5)
    finally:
        stop.set()
        client.join(10)
        sock.close()
    ev = pl.api("events?proto=power&limit=1000")[1]
    answered = [x for _, x in lat if x is not None]
    slow = [(round(t - t_hup, 2), round(x, 3)) for t, x in lat if x is None or x > 0.3]
    print(f"{len(lat)} DISCOVERs during the round, {len(answered)} answered, "
          f"max {max(answered) * 1000:.1f} ms; over 0.3 s (s after the reload, s): {slow}")
    assert len(answered) == len(lat) and len(lat) >= 100, (len(answered), len(lat))
    assert max(answered) < 2.5, ("(sent after the reload, latency)", slow)
    for b in healthy:
        ch = [detail(e) for e in ev if e["mac"] == b["mac"] and e["kind"] == "power-changed"]
        assert ch and ch[0]["by"] == "poll" and ch[0]["from"] == "unknown", (b, ch)
    for b, says in [(b, "GET /redfish/v1/") for b in hung] + \
                   [(b, "session setup") for b in silent]:
        d = [detail(e) for e in ev if e["mac"] == b["mac"] and e["kind"] == "status"]
        assert d and d[0]["result"] == "error" and d[0]["by"] == "poll", (b, d)
        assert d[0]["msg"].startswith(f"bmc {b['name']}: no answer to {says} within 5000 ms"), d
        assert d[0]["ms"] >= 5000, d          # the call the loop must not wait for
    pl.d.stop(timeout=30)                     # after the calls still in flight
    tcp.close()
    udp.close()


# -- the lifecycle ------------------------------------------------------------

def test_lifecycle_powers_the_machine(lab, tmp_path):
    """A lifecycle machine whose BMC entry came through the API: accept sets
    a one-time PXE boot and powers it on (it was off: ON, not CYCLE); its
    agent's "wait" is followed by a check that it really went off; allocate
    powers it on again, release cycles it (it runs); with a
    wrong credential the next accept fails the machine at power:status
    with the BMC's message."""
    netlab.require_tool("qemu-system-x86_64")
    pl = PowerLab(lab, tmp_path, [rf(MR)], lifecycle=True)
    emu = B.RedfishEmu(lab, pl.bns, BMC_IP, 8001, tmp_path / "emu", USER, PASSWORD,
                       vm=True).start()
    st, v = pl.api(f"machines/{ML}/bmc", "PUT", rf(ML, 8001, name="m1-bmc"))
    assert st == 201 and v["source"] == "api", v

    def m1(path, body=None):
        extra = ["-X", "POST", "-H", "Content-Type: application/json",
                 "--data-binary", json.dumps(body)] if body is not None else []
        st, text = pl.curl(pl.m1, f"http://{SRV_M}:{PORT}{path}", *extra)
        assert st // 100 == 2, (path, st, text)
        return json.loads(text) if text.strip().startswith("{") else text

    m1(f"/boot.ipxe?mac={ML}")
    assert pl.api(f"machines/{ML}/lifecycle")[1]["state"] == "discovered"
    st, v = pl.api(f"machines/{ML}/accept", "POST")
    assert st == 200 and v["state"] == "accepted", v
    B.wait_for(lambda: [e["kind"] for e in pl.events(ML)] == ["status", "pxe-once", "on"],
               30, "status, pxe-once, on")
    B.wait_for(lambda: B.vm_status(emu.qmp_path) == "running", 30, "the VM running")
    argv = emu.vm_argv()
    assert argv[argv.index("-boot") + 1] == "once=n", argv
    assert all(detail(e)["for"] == "accept" and detail(e)["by"] == "lifecycle"
               for e in pl.events(ML))

    # the agent: report, wipe, ready, then "wait": it powers itself off
    m1("/api/v1/agent/report", {"agent_version": "0.1.0", "mac": ML, "mode": "discover",
                                "nics": [{"name": "eth0", "mac": ML}], "bmc": None})
    assert m1(f"/api/v1/agent/instruction?mac={ML}")["action"] == "wipe"
    m1("/api/v1/agent/progress", {"mac": ML, "step": "wipe", "status": "ok"})
    assert m1(f"/api/v1/agent/instruction?mac={ML}")["action"] == "wait"
    B.qmp(emu.qmp_path, "quit")            # the guest's own power-off
    B.wait_for(lambda: any(e["kind"] == "off-confirmed" for e in pl.events(ML)), 30,
               "the off check")

    # allocate: the machine is off, so pxe-once and ON; release of the
    # running machine: pxe-once and CYCLE (each step journalled "for" it)
    def steps(move):
        return [e["kind"] for e in pl.events(ML) if detail(e).get("for") == move]

    st, v = pl.api(f"machines/{ML}/allocate", "POST", {"profile": "os"})
    assert st == 200 and v["state"] == "allocated", v
    B.wait_for(lambda: steps("allocate") == ["status", "pxe-once", "on"], 30,
               "allocate: status, pxe-once, on")
    B.wait_for(lambda: B.vm_status(emu.qmp_path) == "running", 30, "the VM running again")
    st, v = pl.api(f"machines/{ML}/release", "POST")
    assert st == 200, v
    B.wait_for(lambda: steps("release") == ["status", "pxe-once", "cycle"], 30,
               "release: status, pxe-once, cycle")

    # a wrong credential: the next accept fails the machine, naming the BMC
    st, v = pl.api(f"machines/{ML}/bmc", "PUT",
                   rf(ML, 8001, name="m1-bmc", credential="wrong"))
    assert st == 200, v
    for move in ("retire", "reset", "accept"):
        assert pl.api(f"machines/{ML}/{move}", "POST")[0] == 200, move
    B.wait_for(lambda: pl.api(f"machines/{ML}/lifecycle")[1]["state"] == "failed", 30,
               "the machine failed")
    m = pl.api(f"machines/{ML}/lifecycle")[1]
    assert m["failure"]["step"] == "power:status", m
    assert m["failure"]["reason"].startswith(
        "bmc m1-bmc: authentication refused (wrong user or password)"), m
    assert m["power"]["error"].startswith("bmc m1-bmc: authentication refused"), m
    pl.no_secret_anywhere()


def test_no_wipe_while_the_bmc_restarts_the_machine(lab, tmp_path):
    """accept sends the machine into the network through its BMC (status,
    pxe-once, then on or cycle).  Its discovery agent, still running, must
    not be handed the wipe meanwhile: the cycle would cut it short.  A BMC
    that hangs keeps that first step in flight for seconds, long enough to
    ask; before the fix the running agent got "wipe" at once."""
    pl = PowerLab(lab, tmp_path, [rf(MR)], lifecycle=True)
    sink = B.TcpSink(lab, pl.bns, BMC_IP, 8999)  # noqa: F841 (kept open)
    st, v = pl.api(f"machines/{ML}/bmc", "PUT",
                   rf(ML, 8999, name="m1-bmc", timeout_ms=4000, retries=0))
    assert st == 201, v

    def m1(path, body=None):
        extra = ["-X", "POST", "-H", "Content-Type: application/json",
                 "--data-binary", json.dumps(body)] if body is not None else []
        st, text = pl.curl(pl.m1, f"http://{SRV_M}:{PORT}{path}", *extra)
        assert st // 100 == 2, (path, st, text)
        return json.loads(text) if text.strip().startswith("{") else text

    m1(f"/boot.ipxe?mac={ML}")
    m1("/api/v1/agent/report", {"agent_version": "0.1.0", "mac": ML, "mode": "discover",
                                "nics": [{"name": "eth0", "mac": ML}], "bmc": None})
    st, v = pl.api(f"machines/{ML}/accept", "POST")
    assert st == 200 and v["state"] == "accepted", v
    assert m1(f"/api/v1/agent/instruction?mac={ML}")["action"] == "none"
    m = pl.api(f"machines/{ML}/lifecycle")[1]
    assert m["state"] == "accepted", m
    # the hung BMC fails the step: the machine fails, never wiping
    B.wait_for(lambda: pl.api(f"machines/{ML}/lifecycle")[1]["state"] == "failed", 30,
               "the machine failed")
    m = pl.api(f"machines/{ML}/lifecycle")[1]
    assert m["failure"]["step"] == "power:status", m
    assert "wiping" not in [detail(e).get("to") for e in pl.events(ML, proto="machine")]


def test_report_names_the_bmc(lab, tmp_path):
    """power.default_credential: the agent's report of its BMC's address
    makes the machine's BMC entry (an API object) when the operator
    accepts the machine, never at the report alone (a host on the boot
    network would otherwise aim the shared credential, and the operator's
    power operations, at any address); an address another entry's BMC has
    is refused; an entry that exists is never replaced by a report."""
    pl = PowerLab(lab, tmp_path, [rf(MR)], lifecycle=True)

    def report(ip):
        st, text = pl.curl(pl.m1, f"http://{SRV_M}:{PORT}/api/v1/agent/report",
                           "-X", "POST", "-H", "Content-Type: application/json",
                           "--data-binary", json.dumps(
                               {"agent_version": "0.1.0", "mac": ML, "mode": "discover",
                                "nics": [{"name": "eth0", "mac": ML}],
                                "bmc": {"ipv4": ip, "mac": None, "source": "static"}}))
        assert st == 204, text

    def accept(again=False):
        for move in (("retire", "reset") if again else ()) + ("accept",):
            assert pl.api(f"machines/{ML}/{move}", "POST")[0] == 200, move

    pl.curl(pl.m1, f"http://{SRV_M}:{PORT}/boot.ipxe?mac={ML}")
    assert pl.api(f"machines/{ML}/bmc")[0] == 404
    report(BMC_IP)                        # MR's BMC: not to be borrowed
    assert pl.api(f"machines/{ML}/bmc")[0] == 404      # a report alone: none
    accept()
    assert pl.api(f"machines/{ML}/bmc")[0] == 404
    assert "another entry's BMC: no entry made" in pl.d.log()
    report("198.18.0.7")
    assert pl.api(f"machines/{ML}/bmc")[0] == 404      # a report alone: none
    accept(again=True)
    st, v = pl.api(f"machines/{ML}/bmc")
    assert st == 200 and v["source"] == "api" and v["driver"] == "ipmi", v
    assert v["address"] == "198.18.0.7" and v["credential"] == "lab", v
    report("198.18.0.8")                  # the entry stands
    accept(again=True)
    assert pl.api(f"machines/{ML}/bmc")[1]["address"] == "198.18.0.7"


def test_lifecycle_ipmi_without_boot_override(lab, tmp_path):
    """ipmi_sim driving a VM has no boot-device control: accept journals the
    refused pxe-once and powers the machine on all the same (QMP: running);
    the machine is not failed."""
    netlab.require_tool("ipmi_sim", "qemu-system-x86_64", "ss")
    pl = PowerLab(lab, tmp_path, [rf(MR), ipmi(ML, name="m1-ipmi")], lifecycle=True)
    sim = B.IpmiSim(lab, pl.bns, BMC_IP, tmp_path / "sim", USER, PASSWORD, mode="vm").start()
    pl.curl(pl.m1, f"http://{SRV_M}:{PORT}/boot.ipxe?mac={ML}")
    assert pl.api(f"machines/{ML}/accept", "POST")[0] == 200
    B.wait_for(lambda: [e["kind"] for e in pl.events(ML)] == ["status", "pxe-once", "on"],
               30, "status, pxe-once, on")
    B.wait_for(lambda: B.vm_status(sim.qmp_path) == "running", 30, "the VM running")
    ev = {e["kind"]: detail(e) for e in pl.events(ML)}
    assert ev["pxe-once"]["result"] == "error" and \
        "Set System Boot Options" in ev["pxe-once"]["msg"], ev
    assert ev["on"]["result"] == "ok" and ev["on"]["driver"] == "ipmi", ev
    m = pl.api(f"machines/{ML}/lifecycle")[1]
    assert m["state"] == "accepted", m
    assert "powering on without a one-time PXE boot" in pl.d.log()
