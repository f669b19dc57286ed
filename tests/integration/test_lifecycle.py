"""The machine lifecycle, daemon side (issue #12): states in the store,
the boot script each state gets, the operator's moves over the REST API,
and the agent's endpoints (docs/AGENT.md) with curl as the agent.

    ns m1:   eth0 M1 198.18.0.60   a machine with no inventory entry
    ns m2:   eth0 M2 198.18.0.61   another one (the "other machine")
                 \\   |
    ns srv:  br0 198.18.0.1/24     ironbootd, dhcp4 proxy mode: the
                                   neighbour entry authorizes each machine

  test_cycle               discovered -> accepted -> wiping -> ready ->
        allocated -> installing -> installed -> (local boot ignored, then
        failed) -> reset; the script of each state; 409s with the state;
        `ironboot machines` (STATE, --state, show, accept, allocate, release)
  test_image_install       a profile with an image: the agent boots in
        install mode, is told to install (url, sha256, disk, format), then
        to reboot once installed
  test_image_sha256_file   the image's digest read from a sha256sum file
        under http.assets at each install; a missing one fails the machine
  test_agent_auth          the agent's token or address, never another
        machine's (403); none without a report
  test_wipe_cut_short      a report while wiping (the agent started again
        after it was handed the wipe): failed, step wipe
  test_timeouts            a wiping machine whose agent never says it is
        done fails (step wipe, reason timeout) after lifecycle.wipe_timeout;
        an installing one after install_timeout; one done in time does not
  test_report_nics         a report's NICs join its machine, but not
        another lifecycle machine's NIC or an inventory machine's MAC:
        refused, journalled (nic-refused) and logged; nor a NIC never
        seen over DHCP (nic-unverified)
  test_report_nic_seen_on_dhcp  examples/lifecycle.yaml: that NIC joins
        at the next report once it has a lease
  test_inventory_machine   a machine of the config file netboots as its
        group says, outside the lifecycle
  test_auto_discover_off   lifecycle.auto_discover: false leaves unknown
        machines out
  test_auth_off_writes_nothing  with http.machine_auth: off another host's
        fetch of a machine's script neither creates nor moves its row

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_lifecycle.py -v
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import netlab

SRV4 = "198.18.0.1"
M1_4, M2_4 = "198.18.0.60", "198.18.0.61"
PORT = 8080
BASE = f"http://{SRV4}:{PORT}"
M1 = "52:54:00:00:cc:01"
M2 = "52:54:00:00:cc:02"
INV = "52:54:00:00:cc:09"           # in the config file's machines
SHA = "ab" * 32
API_TOKEN = "api-token-for-lifecycle"

CONFIG = """\
server: {{ state_dir: {state}, log_level: info }}
dhcp4:
  mode: proxy
  interfaces: [br0]
dhcp6: {{ enabled: false }}
tftp: {{ enabled: false }}
http:
  listen: [{srv4}]
  port: {port}
  base_url: http://{srv4}:{port}
  assets: {assets}
  api_token_file: {token}
  machine_auth: {auth}
lifecycle:
  auto_discover: {auto}
  {timeouts}
profiles:
  - name: debian
    kernel: debian/linux
    initrd: [debian/initrd.gz]
    args: [auto=true]
    local_method: sanboot         # once installed, its disk by sanboot
  - name: imaged                  # written by the agent, not an installer
    image: {{ url: "http://{srv4}:{port}/assets/os.img.gz", sha256: {sha},
             disk: vda, format: gzip }}
  - name: disky
    boot: local
  - name: summed                  # its digest in a sha256sum file under assets
    image: {{ url: "http://{srv4}:{port}/assets/os.img.gz", sha256_file: os.img.sha256,
             disk: vda }}
groups:
  - {{ name: default, profile: disky }}
  - name: big-qemu                # by the hardware report: allocate without a profile
    profile: imaged
    selector: {{ vendor: qemu, disk_min_gib: 2, memory_min_gib: 1 }}
machines:
  - mac: "{inv}"
    hostname: inv1
"""


class LcLab:
    def __init__(self, lab, tmp: Path, auto: bool = True, inv: str = INV,
                 auth: str = "strict", timeouts: str = ""):
        if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
            pytest.fail(f"ironbootd not built in {netlab.build_dir()}")
        netlab.require_tool("curl")
        self.lab, self.tmp, self.n = lab, tmp, 0
        self.srv, self.m1, self.m2 = lab.netns("srv"), lab.netns("m1"), lab.netns("m2")
        ports = []
        for ns, port, mac, addr in ((self.m1, "pm1", M1, M1_4), (self.m2, "pm2", M2, M2_4)):
            lab.veth(self.srv, port, ns, "eth0", up=False)
            lab.set_mac(ns, "eth0", mac)
            lab.up(ns, "eth0")
            lab.addr(ns, "eth0", f"{addr}/24")
            ports.append(port)
        lab.bridge(self.srv, "br0", ports)
        lab.addr(self.srv, "br0", f"{SRV4}/24")
        (tmp / "assets").mkdir()
        (tmp / "token").write_text(API_TOKEN + "\n")
        self.cfg = tmp / "ironboot.yaml"
        self.cfg.write_text(CONFIG.format(
            state=tmp / "state", srv4=SRV4, port=PORT, assets=tmp / "assets",
            token=tmp / "token", auto="true" if auto else "false", inv=inv, sha=SHA, auth=auth,
            timeouts=timeouts))
        self.d = netlab.Daemon(lab, self.srv, self.cfg).start(timeout=20)

    def curl(self, ns: str, url: str, *extra: str) -> tuple[int, str]:
        self.n += 1
        out = self.tmp / f"body{self.n}"
        p = self.lab.run(ns, ["curl", "-sS", "-g", "--max-time", "20", "-o", str(out),
                              "-w", "%{http_code}", *extra, url], timeout=40)
        assert p.returncode == 0, f"curl {url}: {p.stderr}"
        return int(p.stdout), out.read_text() if out.exists() else ""

    def api(self, path: str, method: str = "GET", body=None) -> tuple[int, object]:
        extra = ["-H", f"Authorization: Bearer {API_TOKEN}", "-X", method]
        if body is not None:
            extra += ["-H", "Content-Type: application/json", "--data-binary",
                      json.dumps(body)]
        st, text = self.curl(self.srv, f"{BASE}/api/v1/{path}", *extra)
        return st, json.loads(text) if text.strip() else None

    def state(self, mac: str) -> str:
        st, m = self.api(f"machines/{mac}/lifecycle")
        assert st == 200, m
        return m["state"]

    def script(self, ns: str, mac: str) -> str:
        st, s = self.curl(ns, f"{BASE}/boot.ipxe?mac={mac}")
        assert st == 200, s
        return s

    def agent(self, ns: str, path: str, token: str, body=None) -> tuple[int, object]:
        extra = ["-H", f"Authorization: Bearer {token}"]
        if body is not None:
            extra += ["-X", "POST", "-H", "Content-Type: application/json",
                      "--data-binary", json.dumps(body)]
        st, text = self.curl(ns, f"{BASE}/api/v1/agent/{path}", *extra)
        try:
            return st, json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return st, text

    def events(self, mac: str) -> list[dict]:
        st, v = self.api(f"events?mac={mac}&proto=machine&limit=1000")
        assert st == 200, v
        return v


def agent_line(script: str) -> dict:
    """The ib.* keys of the agent's kernel line."""
    kernel = [ln for ln in script.splitlines() if ln.startswith("kernel ")]
    assert kernel, script
    return dict(w.split("=", 1) for w in kernel[0].split() if w.startswith("ib."))


def report(mac: str) -> dict:
    return {"agent_version": "0.1.0", "mac": mac, "mode": "discover",
            "system": {"vendor": "QEMU", "serial": None}, "memory": {"total_bytes": 1 << 29},
            "disks": [{"name": "vda", "size_bytes": 1 << 26}],
            "nics": [{"name": "eth0", "mac": mac}, {"name": "eth1", "mac": "52:54:00:00:cc:71"}],
            "bmc": None}


def test_cycle(lab, tmp_path):
    ll = LcLab(lab, tmp_path)
    # first script fetch: discovered, the agent in discover mode
    s = ll.script(ll.m1, M1)
    ib = agent_line(s)
    assert s.startswith("#!ipxe\n"), s
    assert f"kernel {BASE}/assets/agent/vmlinuz " in s, s
    assert f"initrd --name agent.img {BASE}/assets/agent/initrd.img" in s, s
    assert ib["ib.mode"] == "discover" and ib["ib.mac"] == M1 and ib["ib.server"] == BASE, ib
    token = ib["ib.token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token), ib
    assert ll.state(M1) == "discovered"
    # the agent: no report yet -> none; the report is stored and shown
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert st == 200 and ins["action"] == "none", ins
    st, _ = ll.agent(ll.m1, "report", token, report(M1))
    assert st == 204
    st, m = ll.api(f"machines/{M1}/lifecycle")
    assert m["report"]["disks"][0]["name"] == "vda" and m["report"]["mac"] == M1, m
    assert m["nics"] == [M1], m          # cc:71: never seen over DHCP (test_report_nics)
    # discovered cannot be released: 409 names the state
    st, v = ll.api(f"machines/{M1}/release", "POST")
    assert st == 409 and v["state"] == "discovered", v
    # the CLI: the STATE column, --state, show with the report
    out = ll.d.cli("machines")
    row = [ln for ln in out.splitlines() if ln.startswith(M1)]
    assert row and row[0].split()[1:3] == ["discovered", "lifecycle"], out
    assert [r["mac"] for r in ll.d.cli_json("machines", "--state", "discovered")] == [M1]
    assert ll.d.cli_json("machines", "--state", "ready") == []
    shown = json.loads(ll.d.cli("machines", "show", M1))
    assert shown["state"] == "discovered" and shown["report"]["mac"] == M1, shown
    # accept through the CLI -> wipe mode, and a wipe handed out once
    out = ll.d.cli("machines", "accept", M1)
    assert json.loads(out)["state"] == "accepted", out
    p = ll.d.cli_run("machines", "accept", M1)
    assert p.returncode == 1 and '"state":"accepted"' in p.stderr, p.stderr
    assert "HTTP 409" in p.stderr, p.stderr
    assert agent_line(ll.script(ll.m1, M1))["ib.mode"] == "wipe"
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert st == 200 and ins["action"] == "wipe", ins
    assert ll.state(M1) == "wiping"
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert ins["action"] == "none", ins
    st, _ = ll.agent(ll.m1, "progress", token, {"mac": M1, "step": "wipe:vda",
                                                 "status": "ok", "bytes": 1})
    assert st == 204 and ll.state(M1) == "wiping"
    st, _ = ll.agent(ll.m1, "progress", token, {"mac": M1, "step": "wipe", "status": "ok"})
    assert st == 204 and ll.state(M1) == "ready"
    assert agent_line(ll.script(ll.m1, M1))["ib.mode"] == "wait"
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert ins["action"] == "wait", ins
    # allocate: an unknown profile is refused, then the installer
    st, v = ll.api(f"machines/{M1}/allocate", "POST", {"profile": "nope"})
    assert st == 422, v
    v = json.loads(ll.d.cli("machines", "allocate", "debian", M1))
    assert v["state"] == "allocated" and v["profile"] == "debian", v
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert ins["action"] == "reboot", ins
    s = ll.script(ll.m1, M1)
    assert f"kernel {BASE}/assets/debian/linux auto=true" in s, s
    assert ll.state(M1) == "installing"
    st, _ = ll.agent(ll.m1, "progress", token, {"mac": M1, "step": "install:vda",
                                                 "status": "ok"})
    assert ll.state(M1) == "installed"
    # installed: its disk (the profile's sanboot).  The netboot told so is
    # journalled "local-boot"; one more soon after means the disk did not
    # boot ("local-boot-ignored"), and the next fails the machine
    s = ll.script(ll.m1, M1)
    assert "sanboot --no-describe --drive 0x80" in s and "kernel" not in s, s
    assert ll.state(M1) == "installed"
    kinds = [e["kind"] for e in ll.events(M1)]
    assert "local-boot" in kinds and "local-boot-ignored" not in kinds, kinds
    ll.script(ll.m1, M1)
    assert ll.state(M1) == "installed"
    ign = [e for e in ll.events(M1) if e["kind"] == "local-boot-ignored"]
    assert len(ign) == 1 and "since_install_s" in ign[0]["detail"], ign
    ll.script(ll.m1, M1)
    st, m = ll.api(f"machines/{M1}/lifecycle")
    assert m["state"] == "failed" and m["failure"]["step"] == "local-boot", m
    p = ll.d.cli_run("machines", "release", M1)
    assert p.returncode == 1 and '"state":"failed"' in p.stderr, p.stderr
    st, v = ll.api(f"machines/{M1}/reset", "POST")
    assert st == 200 and v["state"] == "discovered" and v["profile"] is None, v
    # every move journalled, with who caused it
    evs = ll.events(M1)
    by = [(e["kind"], e["detail"]["by"]) for e in evs if e["kind"] != "nic-unverified"]
    assert [e["detail"]["nic"] for e in evs if e["kind"] == "nic-unverified"] == \
        ["52:54:00:00:cc:71"], evs
    assert by[:4] == [("discovered", "http"), ("accept", "cli"), ("wipe", "agent"),
                      ("wiped", "agent")], by
    assert ("allocate", "cli") in by and ("install", "http") in by, by
    assert ("installed", "agent") in by and ("reset", "api") in by, by
    st, rows = ll.api("lifecycle")
    assert st == 200 and [r["mac"] for r in rows] == [M1], rows


def to_ready(ll: LcLab, ns: str, mac: str, rep: dict | None = None) -> str:
    """Discovered, reported (rep, else report(mac)), accepted, wiped: ready.
    Returns the token."""
    token = agent_line(ll.script(ns, mac))["ib.token"]
    assert ll.agent(ns, "report", token, rep or report(mac))[0] == 204
    assert ll.api(f"machines/{mac}/accept", "POST")[0] == 200
    assert ll.agent(ns, f"instruction?mac={mac}", token)[1]["action"] == "wipe"
    assert ll.agent(ns, "progress", token, {"mac": mac, "step": "wipe",
                                            "status": "ok"})[0] == 204
    assert ll.state(mac) == "ready"
    return token


def test_allocate_by_report(lab, tmp_path):
    """allocate without a profile takes the group the machine's hardware
    report matches (vendor, case-insensitive; disk_min_gib on the largest
    disk; memory_min_gib); the catch-all group does not count."""
    ll = LcLab(lab, tmp_path)
    st, g = ll.api("groups/big-qemu")
    assert st == 200 and g["selector"]["disk_min_gib"] == 2, g
    assert g["selector"]["vendor"] == "qemu" and g["specificity"] == 3, g
    to_ready(ll, ll.m1, M1)                 # 64 MiB disk, 512 MiB memory: no match
    st, v = ll.api(f"machines/{M1}/allocate", "POST", {})
    assert st == 422 and "selector" in v["error"], v
    assert ll.state(M1) == "ready"
    big = report(M2) | {"memory": {"total_bytes": 3 << 30},
                        "disks": [{"name": "vda", "size_bytes": 1 << 26},
                                  {"name": "vdb", "size_bytes": 5 << 30}]}
    to_ready(ll, ll.m2, M2, big)
    v = json.loads(ll.d.cli("machines", "allocate", M2))
    assert v["state"] == "allocated" and v["profile"] == "imaged", v
    # released before it began installing: straight back to ready
    assert ll.api(f"machines/{M2}/release", "POST")[0] == 200
    assert ll.state(M2) == "ready"
    token = agent_line(ll.script(ll.m2, M2))["ib.token"]
    # too little memory, or another vendor: no group again
    for rep in (big | {"memory": {"total_bytes": 1 << 29}},
                big | {"system": {"vendor": "Dell Inc."}}):
        assert ll.agent(ll.m2, "report", token, rep)[0] == 204
        st, v = ll.api(f"machines/{M2}/allocate", "POST", {})
        assert st == 422, (rep, v)


def test_image_install(lab, tmp_path):
    ll = LcLab(lab, tmp_path)
    token = to_ready(ll, ll.m1, M1)
    st, v = ll.api(f"machines/{M1}/allocate", "POST", {"profile": "imaged"})
    assert st == 200, v
    assert ll.agent(ll.m1, f"instruction?mac={M1}", token)[1]["action"] == "reboot"
    ib = agent_line(ll.script(ll.m1, M1))
    assert ib["ib.mode"] == "install" and ib["ib.token"] == token, ib
    assert ll.state(M1) == "installing"
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert st == 200 and ins["action"] == "install", ins
    assert ins["url"] == f"{BASE}/assets/os.img.gz" and ins["sha256"] == SHA, ins
    assert ins["disk"] == "vda" and ins["format"] == "gzip" and ins["id"], ins
    # a failed install fails the machine, with the agent's step and reason
    st, _ = ll.agent(ll.m1, "progress", token, {"mac": M1, "step": "install:vda",
                                                 "status": "failed",
                                                 "error": "sha256 mismatch\x1b[2J"})
    st, m = ll.api(f"machines/{M1}/lifecycle")
    assert m["state"] == "failed" and m["failure"]["step"] == "install:vda", m
    assert "\x1b" not in m["failure"]["reason"], m        # sanitised
    # again from the start; this time it installs, then reboots to its disk
    assert ll.api(f"machines/{M1}/reset", "POST")[0] == 200
    token = to_ready(ll, ll.m1, M1)
    assert ll.api(f"machines/{M1}/allocate", "POST", {"profile": "imaged"})[0] == 200
    ll.script(ll.m1, M1)
    assert ll.agent(ll.m1, f"instruction?mac={M1}", token)[1]["action"] == "install"
    st, _ = ll.agent(ll.m1, "progress", token, {"mac": M1, "step": "install:vda",
                                                 "status": "running", "bytes": 4096})
    st, _ = ll.agent(ll.m1, "progress", token, {"mac": M1, "step": "install:vda",
                                                 "status": "ok", "bytes": 1 << 26,
                                                 "duration_ms": 2250, "rate_bps": 29826161,
                                                 "instruction": ins["id"],
                                                 "detail": "gzip image\x07, 9 bytes"})
    assert ll.state(M1) == "installed"
    # each outcome is in the timeline with its duration (not the "running")
    st, evs = ll.api(f"events?mac={M1}&proto=agent&limit=100")
    steps = [(e["kind"], e["detail"]["status"]) for e in evs]
    assert steps == [("wipe", "ok"), ("install:vda", "failed"), ("wipe", "ok"),
                     ("install:vda", "ok")], evs
    d = evs[-1]["detail"]
    assert d["duration_ms"] == 2250 and d["bytes"] == 1 << 26 and d["instruction"] == ins["id"], d
    assert d["detail"] == "gzip image\\x07, 9 bytes", d           # sanitised
    assert "sha256 mismatch" in evs[1]["detail"]["error"], evs
    assert ll.agent(ll.m1, f"instruction?mac={M1}", token)[1]["action"] == "reboot"
    s = ll.script(ll.m1, M1)
    assert "exit 1" in s.splitlines() and "kernel" not in s, s


def test_image_sha256_file(lab, tmp_path):
    ll = LcLab(lab, tmp_path)
    token = to_ready(ll, ll.m1, M1)
    assert ll.api(f"machines/{M1}/allocate", "POST", {"profile": "summed"})[0] == 200
    ll.script(ll.m1, M1)
    assert ll.state(M1) == "installing"
    # no sum file yet: not handed out; the machine fails, saying why
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert st == 200 and ins["action"] == "none", ins
    st, m = ll.api(f"machines/{M1}/lifecycle")
    assert m["state"] == "failed" and m["failure"]["step"] == "install", m
    assert "sha256_file os.img.sha256" in m["failure"]["reason"], m
    ll.d.wait_log("install not handed out")
    # sha256sum's output (upper case digits too), read at the next install
    sha = "0123456789ABCDEF" * 4
    (tmp_path / "assets" / "os.img.sha256").write_text(f"{sha}  os.img.gz\n")
    assert ll.api(f"machines/{M1}/reset", "POST")[0] == 200
    token = to_ready(ll, ll.m1, M1)
    assert ll.api(f"machines/{M1}/allocate", "POST", {"profile": "summed"})[0] == 200
    ll.script(ll.m1, M1)
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert ins["action"] == "install" and ins["sha256"] == sha.lower(), ins
    assert ins["format"] == "raw", ins
    # a file that is not a sum: refused the same way
    (tmp_path / "assets" / "os.img.sha256").write_text("not a digest\n")
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", token)
    assert ins["action"] == "none", ins
    st, m = ll.api(f"machines/{M1}/lifecycle")
    assert m["state"] == "failed" and "not a sha256sum line" in m["failure"]["reason"], m


def test_wipe_cut_short(lab, tmp_path):
    """An agent that reports while its machine is wiping started again
    (power cycle, crash) after it was handed the wipe: the machine fails,
    step wipe, instead of waiting in wiping."""
    ll = LcLab(lab, tmp_path)
    token = agent_line(ll.script(ll.m1, M1))["ib.token"]
    assert ll.agent(ll.m1, "report", token, report(M1))[0] == 204
    assert ll.api(f"machines/{M1}/accept", "POST")[0] == 200
    assert ll.agent(ll.m1, f"instruction?mac={M1}", token)[1]["action"] == "wipe"
    assert ll.state(M1) == "wiping"
    # the machine boots again (its script: the agent in wipe mode), reports
    assert agent_line(ll.script(ll.m1, M1))["ib.mode"] == "wipe"
    assert ll.agent(ll.m1, "report", token, report(M1))[0] == 204
    st, m = ll.api(f"machines/{M1}/lifecycle")
    assert m["state"] == "failed" and m["failure"]["step"] == "wipe", m
    assert "cut short" in m["failure"]["reason"], m
    ll.d.wait_log(f"lifecycle: {M1}: its agent started again during the wipe")
    # reset, and the wipe goes through
    assert ll.api(f"machines/{M1}/reset", "POST")[0] == 200
    assert to_ready(ll, ll.m1, M1) == token


def test_timeouts(lab, tmp_path):
    ll = LcLab(lab, tmp_path, timeouts="wipe_timeout: 6s\n  install_timeout: 8s")
    # m1: handed its wipe, then silent
    t1 = agent_line(ll.script(ll.m1, M1))["ib.token"]
    assert ll.agent(ll.m1, "report", t1, report(M1))[0] == 204
    assert ll.api(f"machines/{M1}/accept", "POST")[0] == 200
    assert ll.agent(ll.m1, f"instruction?mac={M1}", t1)[1]["action"] == "wipe"
    assert ll.state(M1) == "wiping"
    # m2: wiped in time (ready, not failed), allocated, its installer boots
    # (installing), then nothing says it is done
    to_ready(ll, ll.m2, M2)
    assert ll.api(f"machines/{M2}/allocate", "POST", {"profile": "debian"})[0] == 200
    assert "debian/linux" in ll.script(ll.m2, M2)
    assert ll.state(M2) == "installing"
    line = ll.d.wait_log(f"lifecycle: {M1}: no wipe result within 6 s", timeout=30)
    assert "(lifecycle.wipe_timeout): failed, step wipe" in line, line
    ll.d.wait_log(f"lifecycle: {M2}: no install result within 8 s", timeout=30)
    for mac, step, limit in ((M1, "wipe", 6), (M2, "install", 8)):
        st, m = ll.api(f"machines/{mac}/lifecycle")
        assert m["state"] == "failed" and m["failure"]["step"] == step, m
        assert m["failure"]["reason"] == (f"timeout: no {step} result within {limit} s "
                                          f"(lifecycle.{step}_timeout)"), m
        fail = [e for e in ll.events(mac) if e["kind"] == "fail"]
        assert len(fail) == 1 and fail[0]["detail"]["by"] == "timer", fail
        assert fail[0]["detail"]["from"] == ("wiping" if step == "wipe" else "installing")
    assert sum(e["kind"] == "wiped" for e in ll.events(M2)) == 1
    # the late agent's result changes nothing: failed stays failed
    st, _ = ll.agent(ll.m1, "progress", t1, {"mac": M1, "step": "wipe", "status": "ok"})
    assert ll.state(M1) == "failed", st


def test_timeout_config(lab, tmp_path):
    """The bounds of lifecycle.wipe_timeout and install_timeout, through
    --check-config (defaults: docs/LIFECYCLE.md, 30m and 2h)."""
    cfg = tmp_path / "c.yaml"
    d = netlab.Daemon(lab, lab.netns("chk"), cfg)
    for key in ("wipe_timeout", "install_timeout"):
        for value, ok in (("4s", False), ("5s", True), ("30m", True), ("8d", False),
                          ("2h", True), ("-1", False), ("soon", False)):
            cfg.write_text(f"server: {{ state_dir: {tmp_path} }}\n"
                           f"dhcp4: {{ enabled: false }}\ndhcp6: {{ enabled: false }}\n"
                           f"tftp: {{ enabled: false }}\nlifecycle: {{ {key}: {value} }}\n")
            p = d.check_config()
            assert (p.returncode == 0) == ok, (key, value, p.stdout, p.stderr)
            if not ok:
                assert key in p.stderr + p.stdout, (key, value, p.stderr)


def test_report_nics(lab, tmp_path):
    ll = LcLab(lab, tmp_path)
    t1 = agent_line(ll.script(ll.m1, M1))["ib.token"]
    t2 = agent_line(ll.script(ll.m2, M2))["ib.token"]
    # m2 reports m1's NIC, an inventory machine's MAC and a NIC of its own
    rep = report(M2)
    rep["nics"] = [{"name": "eth0", "mac": M2}, {"name": "eth1", "mac": M1.upper()},
                   {"name": "eth2", "mac": INV}, {"name": "eth3", "mac": "52:54:00:00:cc:72"}]
    st, _ = ll.agent(ll.m2, "report", t2, rep)
    assert st == 204
    st, m2 = ll.api(f"machines/{M2}/lifecycle")
    # cc:72 was never seen over DHCP: not added on the report's word
    assert m2["nics"] == [M2], m2
    assert [n["mac"] for n in m2["report"]["nics"]][3] == "52:54:00:00:cc:72", m2
    st, m1 = ll.api(f"machines/{M1}/lifecycle")
    assert m1["nics"] == [M1] and m1["mac"] == M1, m1
    # each refusal is in the reporting machine's timeline, and in the log
    st, evs = ll.api(f"events?mac={M2}&proto=machine&limit=100")
    refused = {e["detail"]["nic"]: e["detail"]["reason"] for e in evs
               if e["kind"] == "nic-refused"}
    assert refused == {M1: "another machine's NIC", INV: "an inventory machine's MAC"}, evs
    unverified = [(e["detail"]["nic"], e["detail"]["reason"]) for e in evs
                  if e["kind"] == "nic-unverified"]
    assert unverified == [("52:54:00:00:cc:72", "never seen over DHCP")], evs
    ll.d.wait_log(f"{M2}: its agent's report claims NIC {M1}, refused")
    # m1 is still m1: its own token, its own instructions, its own script
    assert ll.agent(ll.m1, "report", t1, report(M1))[0] == 204
    assert ll.agent(ll.m1, f"instruction?mac={M1}", t1)[0] == 200
    assert agent_line(ll.script(ll.m1, M1))["ib.mac"] == M1
    # a NIC the store already gave this machine is no refusal
    st, _ = ll.agent(ll.m2, "report", t2, rep)
    st, evs = ll.api(f"events?mac={M2}&proto=machine&limit=100")
    assert sum(e["kind"] == "nic-refused" for e in evs) == 4, evs
    assert ll.api(f"machines/{M2}/lifecycle")[1]["nics"] == [M2]


def test_report_nic_seen_on_dhcp(lab, tmp_path):
    """examples/lifecycle.yaml (a DHCP server): a report's second NIC is
    left out while ironboot has never seen it over DHCP, and joins the
    machine at the next report once it has (a lease)."""
    from test_doctor import Lab4
    ma, mb = "52:54:00:00:cc:21", "52:54:00:00:cc:22"
    env = Lab4(lab, tmp_path, "lifecycle.yaml")
    try:
        env.use_addr(env.dora(ma, ipxe=True))
        assert env.curl(f"/boot.ipxe?mac={ma}") == 200          # discovered
        rep = {"agent_version": "0.1.0", "mac": ma, "mode": "discover",
               "nics": [{"name": "eth0", "mac": ma}, {"name": "eth1", "mac": mb}]}
        assert env.post("/api/v1/agent/report", rep) == 204
        m = env.d.cli_json("machines", "show", ma)
        assert m["nics"] == [ma], m
        env.d.wait_log(f"lifecycle: {ma}: its agent's report names NIC {mb}, never seen")
        env.dora(mb)                          # the second port on the wire
        assert env.post("/api/v1/agent/report", rep) == 204
        m = env.d.cli_json("machines", "show", ma)
        assert m["nics"] == [ma, mb], m
        assert env.d.cli_json("machines", "show", mb)["mac"] == ma
    finally:
        env.raw.close()
        env.d.stop()


def test_agent_auth(lab, tmp_path):
    ll = LcLab(lab, tmp_path)
    t1 = agent_line(ll.script(ll.m1, M1))["ib.token"]
    t2 = agent_line(ll.script(ll.m2, M2))["ib.token"]
    assert t1 != t2
    # m2, with its own token and from its own address, reports for m1: 403
    st, body = ll.agent(ll.m2, "report", t2, report(M1))
    assert st == 403, body
    st, body = ll.agent(ll.m2, f"instruction?mac={M1}", t2)
    assert st == 403, body
    st, body = ll.agent(ll.m2, "progress", t2, {"mac": M1, "step": "wipe", "status": "ok"})
    assert st == 403, body
    st, m = ll.api(f"machines/{M1}/lifecycle")
    assert m["report"] is None, m
    # m1's token works from anywhere (the server's own address here)
    st, _ = ll.agent(ll.srv, "report", t1, report(M1))
    assert st == 204
    # m1's address alone (no token) authorizes m1
    st, ins = ll.agent(ll.m1, f"instruction?mac={M1}", "")
    assert st == 200 and ins["action"] == "none", ins
    # operator routes need the API token
    st, _ = ll.curl(ll.m1, f"{BASE}/api/v1/machines/{M1}/accept", "-X", "POST")
    assert st == 401
    assert ll.state(M1) == "discovered"


def test_inventory_machine(lab, tmp_path):
    ll = LcLab(lab, tmp_path, inv=M2)
    s = ll.script(ll.m2, M2)
    assert "exit" in s and "agent" not in s, s
    st, v = ll.api(f"machines/{M2}/lifecycle")
    assert st == 404, v
    assert agent_line(ll.script(ll.m1, M1))["ib.mode"] == "discover"


def test_auto_discover_off(lab, tmp_path):
    ll = LcLab(lab, tmp_path, auto=False)
    # an unknown machine boots as its group says, untracked
    s = ll.script(ll.m1, M1)
    assert "exit" in s and "agent" not in s, s
    st, v = ll.api(f"machines/{M1}/lifecycle")
    assert st == 404, v
    st, v = ll.api(f"machines/{M1}/accept", "POST")
    assert st == 404, v


def test_auth_off_writes_nothing(lab, tmp_path):
    ll = LcLab(lab, tmp_path, auth="off")
    # m2 asks for m1's script: served (off), but no row is made
    st, s = ll.curl(ll.m2, f"{BASE}/boot.ipxe?mac={M1}")
    assert st == 200 and "agent" not in s, s
    assert ll.api(f"machines/{M1}/lifecycle")[0] == 404
    # m1 itself is discovered; m2 reads its state but cannot move it
    token = to_ready(ll, ll.m1, M1)
    v = ll.api(f"machines/{M1}/allocate", "POST", {"profile": "debian"})[1]
    assert v["state"] == "allocated", v
    st, s = ll.curl(ll.m2, f"{BASE}/boot.ipxe?mac={M1}")
    assert ll.state(M1) == "allocated", s
    assert token not in s
    ll.script(ll.m1, M1)
    assert ll.state(M1) == "installing"


def test_installer_done_callback(lab, tmp_path):
    """examples/lifecycle.yaml's `installer` profile (an installer of its
    own, no image): allocated, its installer boots (installing) and fetches
    its user-data, the shipped examples/templates/user-data.yaml; the
    callback found there, run as cloud-init runs a runcmd entry (from
    another address: the token in its URL authorizes it), makes the
    machine installed.  A wrong token is refused and moves nothing."""
    import yaml
    from test_doctor import Lab4, SRV
    ma = "52:54:00:00:cc:31"
    env = Lab4(lab, tmp_path, "lifecycle.yaml")

    def get(path: str) -> str:
        p = lab.run(env.cli, ["curl", "-sS", "-f", f"http://{SRV}:8080{path}"], timeout=30)
        assert p.returncode == 0, (path, p.stderr)
        return p.stdout

    def state() -> str:
        return env.d.cli_json("machines", "show", ma)["state"]
    try:
        env.use_addr(env.dora(ma, ipxe=True))
        assert env.curl(f"/boot.ipxe?mac={ma}") == 200             # discovered
        assert env.post("/api/v1/agent/report", {"mac": ma}) == 204
        assert env.post(f"/api/v1/machines/{ma}/accept", {}, token=env.token) == 200
        assert env.curl(f"/api/v1/agent/instruction?mac={ma}") == 200
        assert env.post("/api/v1/agent/progress",
                        {"mac": ma, "step": "wipe", "status": "ok"}) == 204
        assert env.post(f"/api/v1/machines/{ma}/allocate", {"profile": "installer"},
                        token=env.token) == 200
        assert "/assets/installer/vmlinuz" in get(f"/boot.ipxe?mac={ma}")
        assert state() == "installing"
        ud = yaml.safe_load(get(f"/configs/user-data?mac={ma}"))
        done = [c for c in ud["runcmd"] if "POST" in c]
        assert len(done) == 1, ud
        url = done[0][-1]
        assert url.startswith(f"http://{SRV}:8080/api/v1/agent/installed?mac={ma}&token="), url
        # a wrong token, from elsewhere: 403, nothing moves
        bad = url.rsplit("token=", 1)[0] + "token=" + "0" * 32
        p = lab.run(env.srv, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              "-X", "POST", bad], timeout=30)
        assert p.stdout == "403", p.stdout
        assert state() == "installing"
        # a '?' sent encoded is part of the path, not a query: no such route
        enc = url.replace("installed?", "installed%3F", 1)
        p = lab.run(env.srv, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              "-X", "POST", enc], timeout=30)
        assert p.stdout == "404", p.stdout
        assert state() == "installing"
        # the installer's callback as the config says, from another address
        p = lab.run(env.srv, [str(a) for a in done[0]], timeout=30)
        assert p.returncode == 0, p.stderr
        assert state() == "installed"
        p = lab.run(env.srv, [str(a) for a in done[0]], timeout=30)   # a retry
        assert p.returncode == 0, p.stderr
        evs = env.d.events_when(
            lambda evs: any(e.get("proto") == "agent" and e["kind"] == "install"
                            for e in evs), "--mac", ma)
        moves = [e["detail"].get("by") for e in evs
                 if e.get("proto") == "machine" and e["kind"] == "installed"]
        assert moves == ["installer"], evs
        assert any(e.get("proto") == "agent" and e["kind"] == "install" for e in evs), evs
        # installed: its next netboot says "your disk"; no callback rendered now
        assert "booting from its disk" in get(f"/boot.ipxe?mac={ma}")
        assert not [c for c in yaml.safe_load(get(f"/configs/user-data?mac={ma}"))["runcmd"]
                    if "POST" in c]
    finally:
        env.raw.close()
        env.d.stop()
