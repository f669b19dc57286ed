"""An operator's calls are not a machine's events (issue #14): the API
read with the token and the web UI's files, fetched from an address a
machine's lease holds (an operator's desk on a leased address), leave
that machine's timeline, its last-seen time and the doctor's verdict as
they were; the machine's own boot chain (its script) is still journalled.

    srv: srv0 198.18.0.1/24  <->  cli: cli0 (its address from udhcpc)

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_operator_calls.py -v
"""

from __future__ import annotations

import json

import pytest

import netlab
from apilab import ApiLab

SRV4, PORT = "198.18.0.1", 8080
BASE = f"http://{SRV4}:{PORT}"
TOKEN = "operator-t0ken"


class Lab(ApiLab):
    def __init__(self, lab, tmp):
        super().__init__(lab, tmp, TOKEN, cli_addr=None)

    def get(self, path: str, token: bool = True) -> tuple[int, str]:
        argv = ["curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}"]
        if token:
            argv += ["-H", f"Authorization: Bearer {TOKEN}"]
        p = self.lab.run(self.cli, [*argv, BASE + path], timeout=40)
        assert p.returncode == 0, p.stderr
        body, _, code = p.stdout.rpartition("\n")
        return int(code), body

    def api(self, path: str):
        code, body = self.get("/api/v1/" + path)
        assert code == 200, (path, code, body)
        return json.loads(body)

    def seen(self) -> dict:
        """The machine's timeline, its fleet row and its doctor's findings."""
        ev = self.api(f"events?mac={self.mac}&limit=1000")
        fleet = [m for m in self.api("fleet") if m["mac"] == self.mac]
        doc = self.api(f"machines/{self.mac}/doctor")
        return {"events": ev, "fleet": fleet,
                "rules": sorted(f["rule"] for f in doc.get("findings", [])),
                "stopped": doc.get("stopped")}


@pytest.fixture
def olab(lab, tmp_path, ironbootd_bin):
    for tool in ("busybox", "curl"):
        netlab.require_tool(tool)
    return Lab(lab, tmp_path)


def test_operator_reads_leave_the_machine_alone(olab):
    olab.udhcpc()			# the address below is now this machine's lease
    before = olab.seen()
    assert before["events"], before
    assert before["fleet"] and before["fleet"][0]["verdict"], before

    # the operator's desk on that address: API reads, the UI, a refusal
    for path in ("fleet", "pools", "leases", f"events?mac={olab.mac}",
                 f"machines/{olab.mac}/doctor", f"machines/{olab.mac}/plan"):
        olab.api(path)
    assert olab.get("/api/v1/fleet", token=False)[0] == 401
    for path in ("/ui/", "/ui/app.js", "/ui/style.css"):
        assert olab.get(path, token=False)[0] == 200, path
    assert olab.get("/ui", token=False)[0] == 301

    after = olab.seen()
    assert after["events"] == before["events"]
    assert after["fleet"] == before["fleet"]
    assert (after["rules"], after["stopped"]) == (before["rules"], before["stopped"])

    # the machine's own boot chain is still journalled under it
    code, script = olab.get(f"/boot.ipxe?mac={olab.mac}", token=False)
    assert code == 200 and script.startswith("#!ipxe"), (code, script[:200])
    ev = olab.api(f"events?mac={olab.mac}&limit=1000")
    assert any(e["proto"] == "http" and e["kind"] == "script" for e in ev), ev
    assert not any(e["proto"] == "http" and e["kind"] == "api" for e in ev), ev


def test_fleet_is_paged(olab):
    """GET /api/v1/fleet runs the doctor for one page of 16 machines per
    request (a short turn of the loop; docs/UI.md): 20 machines seen are
    two pages, most recent first, each machine once; a bad offset is 400."""
    olab.udhcpc()
    macs = [f"52:54:00:aa:00:{i:02x}" for i in range(20)]
    # 20 machines' own DHCP exchanges, one host on the link changing its MAC
    # (a fetch naming a MAC from an address not its would be no machine's
    # activity: journal/timeline.h)
    ns = olab.machine("m", macs[0])
    for mac in macs[1:]:
        olab.lab.down(ns, "eth0")
        olab.lab.set_mac(ns, "eth0", mac)
        olab.lab.up(ns, "eth0")
        olab.udhcpc(ns=ns, ifname="eth0")
    first = olab.api("fleet")
    assert len(first) == 16, len(first)
    assert olab.api("fleet?offset=0") == first
    rest = olab.api("fleet?offset=16")
    assert 0 < len(rest) <= 16
    every = [m["mac"] for m in first + rest]
    assert len(set(every)) == len(every)
    assert set(macs) | {olab.mac} <= set(every), every
    seen = [m["last_seen_us"] for m in first + rest]
    assert seen == sorted(seen, reverse=True)
    assert all("verdict" in m for m in first + rest)
    for bad in ("x", "", "128", "-1"):
        assert olab.get(f"/api/v1/fleet?offset={bad}")[0] == 400, bad
