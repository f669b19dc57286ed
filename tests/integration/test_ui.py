"""The web UI (/ui/, docs/UI.md) in a real browser: headless Chromium
(tests/lib/cdp.py, the DevTools protocol over a pipe) against a daemon
with real boots recorded, all in namespaces the test creates:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 (leased by udhcpc)
    (busybox udhcpc, tftp-hpa, curl, scapy, and chromium, all in cli;
    cli0 has the address its lease gives)

Recorded: a machine (udhcpc on cli0) that gets a lease, its loader over
TFTP, its script, then a kernel that is missing (404), and boots again;
a PXE client whose OFFERs are never requested (the doctor's
offer-no-request).  Its hostname and vendor class are planted markup.
The test checks the machines list, the timeline with the failure and the
doctor's text, the pool bars, the live feed updating with a new event,
that the planted markup is shown as text and never runs, and that the
page breaks no Content-Security-Policy rule.  Screenshots land in the
test's tmp_path (docs/ui/ holds copies).

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_ui.py -v
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import netlab
from apilab import ApiLab
from test_dhcp4 import L2Client

SRV4 = "198.18.0.1"
PORT = 8080
BASE = f"http://{SRV4}:{PORT}"
TOKEN = "ui-t0ken-of-the-lab"
PXE_MAC = "52:54:00:0f:ae:01"
XSS_HOST = "<img/src=x/onerror=window.__xss=1>"	# udhcpc sends no blank
XSS_VENDOR = "<script>window.__xss=2</script>"
T = 60				# a page's bound (Chromium under load is slow)


class UiLab(ApiLab):
    def __init__(self, lab, tmp: Path):
        super().__init__(lab, tmp, TOKEN, cli_addr=None)

    def udhcpc(self) -> None:
        """A real client's DORA, with planted markup as hostname and vendor."""
        super().udhcpc("-x", f"hostname:{XSS_HOST}", "-V", XSS_VENDOR)

    def curl(self, path: str, token: bool = False) -> int:
        argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20"]
        if token:
            argv += ["-H", f"Authorization: Bearer {TOKEN}"]
        p = self.lab.run(self.cli, [*argv, BASE + path], timeout=40)
        return int(p.stdout or 0)

    def api(self, path: str):
        p = self.lab.run(self.cli, ["curl", "-sS", "--max-time", "20", "-H",
                                    f"Authorization: Bearer {TOKEN}", BASE + "/api/v1/" + path],
                         timeout=40)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def record(self) -> None:
        """The boots the pages show."""
        self.udhcpc()
        out = self.tmp / "undionly.kpxe"
        p = self.lab.run(self.cli, ["tftp", SRV4, "-m", "binary", "-c", "get",
                                    "undionly.kpxe", str(out)], timeout=60)
        assert p.returncode == 0, p.stderr + p.stdout
        assert self.curl(f"/boot.ipxe?mac={self.mac}") == 200
        assert self.curl("/assets/vmlinuz-missing") == 404
        self.udhcpc()			# boots again: a reboot on the timeline
        # the PXE client: two DISCOVERs answered, never a REQUEST
        l2 = L2Client(self.lab, self.cli, "cli0")
        pxe = ((93, b"\x00\x07"), (60, "PXEClient:Arch:00007:UNDI:003016"))
        for _ in range(2):
            assert l2.discover(PXE_MAC, pxe) is not None


@pytest.fixture
def ui(lab, tmp_path, ironbootd_bin):
    for tool in ("busybox", "tftp", "curl"):
        netlab.require_tool(tool)
    u = UiLab(lab, tmp_path)
    u.record()
    return u


def test_static_files_and_headers(ui):
    """The files are served to anyone with a strict CSP; /ui redirects;
    the API behind them still wants the token; nothing is journalled."""
    before = len(ui.api("events?limit=1000"))
    p = ui.lab.run(ui.cli, ["curl", "-sS", "-D", "-", "-o", "/dev/null", BASE + "/ui/"])
    head = p.stdout.lower()
    assert " 200 " in head.splitlines()[0]
    assert "content-security-policy: default-src 'none'; script-src 'self'" in head
    assert "unsafe-inline" not in head and "x-content-type-options: nosniff" in head
    assert "content-type: text/html" in head
    assert ui.curl("/ui/app.js") == 200 and ui.curl("/ui/style.css") == 200
    assert ui.curl("/ui/../etc/passwd") in (400, 403, 404)
    assert ui.curl("/ui/nothing.js") == 404
    assert ui.curl("/ui") == 301
    assert ui.curl("/api/v1/fleet") == 401 and ui.curl("/api/v1/pools") == 401
    assert ui.curl(f"/api/v1/machines/{PXE_MAC}/doctor") == 401
    # no inline script, handler or style in the page itself
    index = (Path(__file__).parents[2] / "ui" / "index.html").read_text()
    assert not re.findall(r"<script(?![^>]*\bsrc=)", index), index
    assert not re.findall(r"\son[a-z]+=", index) and "style=" not in index
    paths = [e["detail"].get("path", "") for e in ui.api("events?limit=1000&proto=http")]
    assert not [p for p in paths if p.startswith("/ui")], paths


def test_views_api(ui):
    """The JSON the pages read: the machines seen with their verdicts,
    the pools, one machine's doctor report."""
    fleet = {m["mac"]: m for m in ui.api("fleet")}
    me, pxe = fleet[ui.mac], fleet[PXE_MAC]
    assert me["address"].startswith("198.18.0.") and me["hostname"]
    assert me["stage"] == "firmware"	# its second boot's DHCP, the newest
    assert pxe["verdict"]["status"] == 2 and pxe["verdict"]["most_likely"] == "offer-no-request"
    doc = ui.api(f"machines/{PXE_MAC}/doctor")
    assert doc["mac"] == PXE_MAC and doc["findings"][0]["rule"] == "offer-no-request"
    assert doc["findings"][0]["cause"] and doc["findings"][0]["fix"]
    pools = ui.api("pools")
    p0 = next(p for p in pools if p["subnet"] == "198.18.0.0/24")
    assert p0["size"] == 100 and p0["in_use"] >= 1
    ev = ui.api(f"events?limit=1000&mac={ui.mac}")
    assert [e["stage"] for e in ev][:1] == ["firmware"]
    assert {"firmware", "loader", "script", "kernel"} <= {e["stage"] for e in ev}
