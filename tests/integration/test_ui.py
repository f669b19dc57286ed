"""The web UI (/ui/, docs/UI.md) in a real browser: headless Chromium
(tests/lib/cdp.py, the DevTools protocol over a pipe) against a daemon
with real boots recorded, all in namespaces the test creates:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 (leased by udhcpc)
    (busybox udhcpc, tftp-hpa, curl and scapy; cli0 has the address its
    lease gives)
    srv: srv1 198.18.1.1/24  <->  ops: ops0 198.18.1.2/24 (chromium, the
    operator's browser, routed to 198.18.0.1)

Recorded, with the lifecycle on: a machine (udhcpc on cli0) that gets a
lease, its loader over TFTP, its script (which discovers it), its agent's
hardware report, then a kernel that is missing (404), and boots again;
a PXE client whose OFFERs are never requested (the doctor's
offer-no-request); and the operator's host asking for an asset and the
script in the machine's name (journalled unverified and refused: the
page marks them and keeps them off the machine's timeline).  Its hostname, vendor class and the report's vendor
are planted markup.
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
from cdp import Chrome
from test_dhcp4 import L2Client

SRV4 = "198.18.0.1"
OPS_GW, OPS4 = "198.18.1.1", "198.18.1.2"
PORT = 8080
BASE = f"http://{SRV4}:{PORT}"
TOKEN = "ui-t0ken-of-the-lab"
PXE_MAC = "52:54:00:0f:ae:01"
XSS_HOST = "<img/src=x/onerror=window.__xss=1>"	# udhcpc sends no blank
XSS_VENDOR = "<script>window.__xss=2</script>"
XSS_REPORT = "<svg onload=window.__xss=3>"
T = 60				# a page's bound (Chromium under load is slow)


class UiLab(ApiLab):
    def __init__(self, lab, tmp: Path):
        # the lifecycle on, as examples/lifecycle.yaml has it: the machine's
        # first script fetch discovers it, and its agent's report is shown
        super().__init__(lab, tmp, TOKEN, cli_addr=None, sections={"lifecycle": {
            "auto_discover": True, "agent_kernel": "agent/vmlinuz",
            "agent_initrd": "agent/initrd.img"}})
        # the operator's browser sits on a link of its own (routed by srv),
        # so its API calls are no machine's: nobody's lease holds its address
        self.ops = lab.netns("ops")
        lab.veth(self.srv, "srv1", self.ops, "ops0")
        lab.addr(self.srv, "srv1", f"{OPS_GW}/24")
        lab.addr(self.ops, "ops0", f"{OPS4}/24")
        lab.up(self.ops, "lo")
        lab.route(self.ops, "198.18.0.0/24", "via", OPS_GW)

    def udhcpc(self) -> None:
        """A real client's DORA, with planted markup as hostname and vendor."""
        super().udhcpc("-x", f"hostname:{XSS_HOST}", "-V", XSS_VENDOR)

    def fetch(self, path: str) -> str:
        p = self.lab.run(self.cli, ["curl", "-sS", "--fail", "--max-time", "20", BASE + path],
                         timeout=40)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def agent_report(self, script: str) -> None:
        """The agent's hardware report, as the agent would post it, with
        the machine's token from its script and a planted vendor string."""
        tok = re.search(r"ib\.token=([0-9a-f]+)", script)
        assert tok, script
        body = {"agent_version": "0.1.0", "mac": self.mac, "mode": "discover",
                "system": {"vendor": XSS_REPORT, "product": "Standard PC (Q35)", "serial": "S-1"},
                "memory": {"total_bytes": 1 << 31},
                "disks": [{"name": "vda", "size_bytes": 20 << 30}],
                "nics": [{"name": "eth0", "mac": self.mac}], "bmc": None}
        p = self.lab.run(self.cli, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                    "--max-time", "20", "-H", f"Authorization: Bearer {tok[1]}",
                                    "-H", "Content-Type: application/json", "--data-binary",
                                    json.dumps(body), BASE + "/api/v1/agent/report"], timeout=40)
        assert p.stdout in ("200", "204"), (p.stdout, p.stderr)

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
        self.agent_report(self.fetch(f"/boot.ipxe?mac={self.mac}"))
        assert self.curl("/assets/vmlinuz-missing") == 404
        self.udhcpc()			# boots again: a reboot on the timeline
        # the PXE client: two DISCOVERs answered, never a REQUEST
        l2 = L2Client(self.lab, self.cli, "cli0")
        pxe = ((93, b"\x00\x07"), (60, "PXEClient:Arch:00007:UNDI:003016"))
        for _ in range(2):
            assert l2.discover(PXE_MAC, pxe) is not None
        # another host (the operator's, no lease) naming the machine: an
        # asset claim the daemon cannot verify, and a refused script
        for path, want in ((f"/assets/forged.efi?mac={self.mac}", "404"),
                           (f"/boot.ipxe?mac={self.mac}", "403")):
            p = self.lab.run(self.ops, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                        "--max-time", "20", BASE + path], timeout=40)
            assert p.stdout == want, (path, p.stdout, p.stderr)


@pytest.fixture
def ui(lab, tmp_path, ironbootd_bin):
    for tool in ("busybox", "tftp", "curl"):
        netlab.require_tool(tool)
    u = UiLab(lab, tmp_path)
    u.record()
    return u


@pytest.fixture
def chrome(ui, tmp_path):
    netlab.require_tool("chromium")
    c = Chrome(ui.lab, ui.ops, tmp_path / "chromium-profile")
    yield c
    c.close()


def shot(c: Chrome, tmp: Path, name: str) -> Path:
    p = c.screenshot(tmp / f"ui-{name}.png")
    assert p.stat().st_size > 5000, p
    return p


def login(c: Chrome) -> None:
    c.navigate(BASE + "/ui/")
    c.wait("document.getElementById('token')", T, "the token form")
    # a wrong token is refused, and nothing is kept
    c.eval("document.getElementById('token').value = 'wrong';"
           "document.getElementById('login-form').requestSubmit(); true")
    c.wait("document.getElementById('login-error').textContent.includes('refused')", T,
           "the refusal")
    assert c.eval("sessionStorage.length") == 0
    c.eval(f"document.getElementById('token').value = {json.dumps(TOKEN)};"
           "document.getElementById('login-form').requestSubmit(); true")
    c.wait("document.querySelector('#machines tbody tr')", T, "the machines list")


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


def test_pages_in_chromium(ui, chrome, tmp_path):
    """Machines, one machine's timeline with its failure and the doctor's
    text, the pool bars, the live feed updating: in a real browser."""
    c = chrome
    login(c)
    assert c.eval("sessionStorage.getItem('ironboot-api-token')") == TOKEN
    # machines: both, the PXE client's verdict named; the filter works
    rows = c.eval("[...document.querySelectorAll('#machines tbody tr')]"
                  ".map(r => r.innerText)")
    assert any(ui.mac in r for r in rows) and any(PXE_MAC in r and "offer-no-request" in r
                                                  for r in rows), rows
    assert any(XSS_HOST in r for r in rows), rows	# the hostname, as text
    shot(c, tmp_path, "machines")
    c.eval("const f = document.getElementById('filter'); f.value = 'offer-no';"
           "f.dispatchEvent(new Event('input')); true")
    assert c.eval("document.querySelectorAll('#machines tbody tr').length") == 1

    # one machine: the timeline, a failure highlighted, two boots
    c.eval(f"location.hash = '#/machine/{ui.mac}'; true")
    c.wait(f"document.querySelector('h1').textContent.includes('{ui.mac}') &&"
           " document.getElementById('timeline')", T, "the timeline")
    assert c.eval("document.querySelectorAll('#timeline circle.fail').length") >= 1
    assert c.eval("document.querySelectorAll('#timeline line.reboot').length") >= 1
    lanes = c.eval("[...document.querySelectorAll('#timeline .lane-label')].map(t => t.textContent)")
    assert {"firmware", "loader", "script", "kernel"} <= set(lanes), lanes
    fails = c.eval("[...document.querySelectorAll('#machine-events tr.fail')].map(r => r.innerText)")
    assert any("vmlinuz-missing" in f and "404" in f for f in fails), fails
    # what another host sent in its name: marked, never a failure of its own,
    # never on its timeline
    others = c.eval("[...document.querySelectorAll('#machine-events tr.unverified')]"
                    ".map(r => r.innerText)")
    assert len(others) == 2 and all("unverified" in r and OPS4 in r for r in others), others
    assert any("forged.efi" in r and "404" in r for r in others), others
    assert any("/boot.ipxe" in r and "403" in r for r in others), others
    assert not any(OPS4 in f for f in fails), fails
    assert c.eval("document.querySelectorAll('#machine-events tr.unverified .badge.unverified')"
                  ".length") == 2
    dots = c.eval("[...document.querySelectorAll('#timeline circle title')].map(t => t.textContent)")
    assert dots and not any(OPS4 in d for d in dots), dots
    assert "2 unverified" in c.eval("document.getElementById('unverified-count').textContent")
    assert c.eval(f"document.body.innerText.includes({json.dumps(XSS_VENDOR)})")
    # its state and the agent's hardware report, the planted vendor as text
    assert c.eval("document.querySelector('.meta .state').textContent") == "discovered"
    report = c.eval("document.getElementById('report').innerText")
    assert XSS_REPORT in report and "Standard PC (Q35)" in report and "vda" in report, report
    # its lease, asked of the API by its MAC (leases?mac=), not all of them
    mine = c.eval("[...document.querySelectorAll('#leases tbody tr')].map(r => r.innerText)")
    assert len(mine) == 1 and mine[0].startswith("v4") and "198.18.0." in mine[0], mine
    shot(c, tmp_path, "machine")

    # the PXE client: the doctor's explanation
    c.eval(f"location.hash = '#/machine/{PXE_MAC}'; true")
    c.wait(f"document.querySelector('h1').textContent.includes('{PXE_MAC}') &&"
           " document.querySelector('#doctor.failing')", T, "the doctor's finding")
    text = c.eval("document.getElementById('doctor').innerText")
    assert "offer-no-request" in text and "Fix:" in text and "Evidence:" in text, text
    leases = c.eval("[...document.querySelectorAll('#leases tbody tr')].map(r => r.innerText)")
    assert not any(mine[0].split()[1] in r for r in leases), leases	# not the other's
    shot(c, tmp_path, "machine-failure")

    # pools: a bar per pool, filled as far as leases are in use
    c.eval("location.hash = '#/pools'; true")
    c.wait("document.querySelector('#pools .bar .fill')", T, "the pool bars")
    width = c.eval("document.querySelector('#pools .bar .fill').style.width")
    assert width and float(width.rstrip("%")) > 0, width
    assert "198.18.0.0/24" in c.eval("document.getElementById('pools').innerText")
    shot(c, tmp_path, "pools")

    # the live feed: a new event appears without a reload
    c.eval("location.hash = '#/live'; true")
    c.wait("document.getElementById('status').textContent === 'live'", T, "the stream")
    ui.udhcpc()		# a DHCP exchange and a script fetch, after the page opened
    assert ui.curl(f"/boot.ipxe?mac={ui.mac}&hostname=live-check") == 200
    c.wait("[...document.querySelectorAll('#live tbody tr')]"
           ".some(r => r.innerText.includes('/boot.ipxe'))", T, "the new event in the feed")
    shot(c, tmp_path, "live")

    # the planted markup never ran, and the page broke no CSP rule
    assert c.eval("window.__xss === undefined")
    assert c.eval("document.querySelectorAll('img, svg:not(#timeline), script:not([src])')"
                  ".length") == 0
    log = c.console()
    assert not [l for l in log if "Content Security Policy" in l or "exception" in l], log
