"""The REST API's inventory writes and the CLI that mirrors them, against
the real daemon in namespaces the test creates:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 198.18.0.2/24

An object written through the API must change what a machine boots at
once, survive a restart and a SIGHUP, and a write that would not validate
must be refused with the loader's reason while nothing stored is lost.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_api.py -v
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import netlab

SRV4, CLI4 = "198.18.0.1", "198.18.0.2"
PORT = 8080
BASE = f"http://{SRV4}:{PORT}"
TOKEN = "t0ken-for-tests"
MAC = "52:54:00:00:00:42"

CONFIG = """\
server: {{ state_dir: {state}, log_level: info }}
dhcp4: {{ enabled: false }}
tftp: {{ enabled: false }}
http:
  listen: [{srv4}]
  port: {port}
  assets: {assets}
  templates: {templates}
{extra}
profiles:
  - name: linux
    kernel: vmlinuz
    initrd: [initrd.img]
    args: ["console=ttyS0"]
groups:
  - {{ name: default, profile: linux }}
"""

RESCUE = {"name": "rescue", "kernel": "vmlinuz", "args": ["rescue", "host={{hostname}}"]}
MACHINE = {"hostname": "n42", "labels": {"rack": "r9"}}
GROUP = {"name": "r9", "profile": "rescue", "selector": {"labels": {"rack": "r9"}}}


class Api:
    def __init__(self, lab, cli, tmp: Path, token: str | None):
        self.lab, self.cli, self.tmp, self.token = lab, cli, tmp, token
        self.n = 0

    def call(self, method: str, path: str, body=None, token: bool = True,
             raw: str | None = None):
        """(status, parsed JSON or None, headers) of one curl request."""
        self.n += 1
        out, hdr = self.tmp / f"o{self.n}", self.tmp / f"h{self.n}"
        argv = ["curl", "-sS", "--max-time", "20", "-X", method, "-o", str(out),
                "-D", str(hdr), "-w", "%{http_code}"]
        if token and self.token:
            argv += ["-H", f"Authorization: Bearer {self.token}"]
        if body is not None or raw is not None:
            argv += ["-H", "Content-Type: application/json",
                     "--data-binary", raw if raw is not None else json.dumps(body)]
        p = self.lab.run(self.cli, [*argv, BASE + "/api/v1/" + path], timeout=40)
        assert p.returncode == 0, p.stderr
        text = out.read_text() if out.exists() else ""
        headers = {}
        for line in hdr.read_text().splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return int(p.stdout), (json.loads(text) if text.strip() else None), headers

    def script(self, mac: str) -> str:
        p = self.lab.run(self.cli, ["curl", "-sS", "--max-time", "20",
                                    f"{BASE}/boot.ipxe?mac={mac}"], timeout=40)
        assert p.returncode == 0, p.stderr
        return p.stdout


def start(lab, tmp: Path, token: bool):
    if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
        pytest.skip("ironbootd not built")
    if not shutil.which("curl"):
        pytest.skip("curl not installed")
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", f"{SRV4}/24")
    lab.addr(cli, "cli0", f"{CLI4}/24")
    for d in ("assets", "templates"):
        (tmp / d).mkdir()
    (tmp / "templates" / "user-data.yaml").write_text("hostname: {{hostname}}\n")
    extra = ""
    if token:
        (tmp / "token").write_text(TOKEN + "\n")
        extra = f"  api_token_file: {tmp / 'token'}\n"
    cfg = tmp / "ironboot.yaml"
    cfg.write_text(CONFIG.format(state=tmp / "state", srv4=SRV4, port=PORT,
                                 assets=tmp / "assets", templates=tmp / "templates",
                                 extra=extra))
    d = netlab.Daemon(lab, srv, cfg).start(timeout=20)
    return d, Api(lab, cli, tmp, TOKEN if token else None)


def test_writes_need_a_token_file(lab, tmp_path):
    d, api = start(lab, tmp_path, token=False)
    st, body, _ = api.call("PUT", "profiles/rescue", RESCUE)
    assert st == 403 and "api_token_file" in body["error"], body
    st, body, _ = api.call("GET", "profiles")
    assert st == 200 and [p["name"] for p in body] == ["linux"]
    d.stop()


def test_wrong_token_refused(lab, tmp_path):
    d, api = start(lab, tmp_path, token=True)
    api.token = "guess"
    st, _, h = api.call("PUT", "profiles/rescue", RESCUE)
    assert st == 401 and h.get("www-authenticate") == "Bearer"
    api.token = TOKEN
    st, body, _ = api.call("GET", "profiles")
    assert [p["name"] for p in body] == ["linux"]
    d.stop()


def test_crud_changes_what_machines_boot(lab, tmp_path):
    d, api = start(lab, tmp_path, token=True)
    assert "kernel http://198.18.0.1:8080/assets/vmlinuz console=ttyS0" in api.script(MAC)

    st, body, h = api.call("PUT", "profiles/rescue", RESCUE)
    assert st == 201 and body["source"] == "api", body
    assert h["location"] == "/api/v1/profiles/rescue"
    st, body, _ = api.call("PUT", "profiles/rescue", RESCUE)
    assert st == 200, body                                  # replaced
    st, body, _ = api.call("PUT", "machines/52-54-00-00-00-42", MACHINE)
    assert st == 201 and body["mac"] == MAC and body["labels"] == {"rack": "r9"}
    st, body, _ = api.call("POST", "groups", GROUP)
    assert st == 201 and body["specificity"] == 1, body
    st, body, _ = api.call("POST", "groups", GROUP)
    assert st == 409, body

    text = api.script(MAC)
    assert text.startswith("#!ipxe\n") and "group r9 profile rescue" in text, text
    assert "rescue host=n42" in text, text
    # another machine still gets the file's default group
    assert "group default profile linux" in api.script("52:54:00:00:00:43")

    # the CLI reads the same inventory from the store
    out = json.loads(d.cli("--json", "groups"))
    assert {g["name"]: g["source"] for g in out} == {"default": "file", "r9": "api"}
    ex = d.cli_json("explain", "--mac", MAC)
    assert [s for s in ex["stages"] if s["stage"] == "script"][0]["group"] == "r9"

    # restart and SIGHUP serve the stored objects
    d.stop()
    d.start(timeout=20)
    assert "group r9 profile rescue" in api.script(MAC)
    off = d.log_size()
    d.hup()
    d.wait_log("configuration reloaded", since=off)
    assert "group r9 profile rescue" in api.script(MAC)

    # a profile in use cannot go; the group first, then the profile
    st, body, _ = api.call("DELETE", "profiles/rescue")
    assert st == 422 and "unknown profile 'rescue'" in body["error"], body
    for path in ("groups/r9", "machines/52:54:00:00:00:42", "profiles/rescue"):
        st, body, _ = api.call("DELETE", path)
        assert st == 204, (path, body)
    st, _, _ = api.call("DELETE", "profiles/rescue")
    assert st == 404
    assert "group default profile linux" in api.script(MAC)
    d.stop()


@pytest.mark.parametrize("method,path,body,status,words", [
    ("PUT", "groups/g", {"profile": "nope"}, 422, "api:groups/g:"),
    ("PUT", "profiles/p", {"kernel": "../../etc/passwd"}, 422, "relative and without '..'"),
    ("PUT", "profiles/p", {"kernel": "/etc/passwd"}, 422, "http.assets"),
    ("PUT", "profiles/p", {"kernel": "vmlinuz", "configs": [
        {"name": "ks", "template": "../../../etc/shadow", "format": "text"}]}, 422, "template"),
    ("PUT", "profiles/p", {"kernel": "vmlinuz", "colour": "red"}, 422, "colour"),
    ("PUT", "groups/second-default", {"profile": "linux"}, 422, "default"),
    ("PUT", "machines/52:54:00:00:00:42", {"hostname": "a\nb"}, 422, "not a valid DNS name"),
    ("PUT", "profiles/p", {"name": "q", "kernel": "vmlinuz"}, 400, "differs from the URL"),
    ("PUT", "machines/not-a-mac", {"hostname": "x"}, 400, "MAC"),
    ("POST", "profiles", {"kernel": "vmlinuz"}, 400, "needs \"name\""),
    ("PUT", "profiles/linux", {"kernel": "vmlinuz"}, 409, "config file"),
    ("DELETE", "profiles/linux", None, 409, "config file"),
    ("DELETE", "groups/none", None, 404, "no such object"),
    ("PATCH", "profiles/p", {}, 405, "method not allowed"),
    ("PUT", "leases/198.18.0.5", {}, 405, "method not allowed"),
])
def test_bad_writes_refused_nothing_lost(lab, tmp_path, method, path, body, status, words):
    d, api = start(lab, tmp_path, token=True)
    assert api.call("PUT", "profiles/keep", {"kernel": "vmlinuz"})[0] == 201
    before = {k: api.call("GET", k)[1] for k in ("profiles", "groups", "machines")}
    st, answer, _ = api.call(method, path, body)
    assert st == status and words in answer["error"], (st, answer)
    after = {k: api.call("GET", k)[1] for k in ("profiles", "groups", "machines")}
    assert after == before
    d.stop()
    d.start(timeout=20)                       # and nothing half-stored either
    assert {k: api.call("GET", k)[1] for k in ("profiles", "groups", "machines")} == before
    d.stop()


@pytest.mark.parametrize("raw,words", [
    ("{not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    ('{"kernel": "a", "kernel": "b"}', "not JSON"),      # duplicate keys
])
def test_malformed_bodies(lab, tmp_path, raw, words):
    d, api = start(lab, tmp_path, token=True)
    st, answer, _ = api.call("PUT", "profiles/p", raw=raw)
    assert st == 400 and words in answer["error"], answer
    assert api.call("GET", "profiles/p")[0] == 404
    assert d.alive()
    d.stop()


def test_injection_through_inventory_values(lab, tmp_path):
    """Values an operator (or a compromised API client) stores cannot add
    iPXE commands: refused at write (control bytes) or at render (422)."""
    d, api = start(lab, tmp_path, token=True)
    st, _, _ = api.call("PUT", f"machines/{MAC}", {"hostname": "n1 || reboot"})
    assert st in (201, 422)
    p = api.lab.run(api.cli, ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                              f"{BASE}/boot.ipxe?mac={MAC}"])
    if st == 201:
        assert p.stdout == "422", "a hostname with '||' must not render into a script"
    st, _, _ = api.call("PUT", "profiles/evil", {"kernel": "vmlinuz",
                                                  "args": ["a\nshell"]})
    assert st == 422
    assert d.alive()
    d.stop()


def test_cli_mirrors_the_api(lab, tmp_path):
    d, api = start(lab, tmp_path, token=True)
    f = tmp_path / "rescue.json"
    f.write_text(json.dumps(RESCUE))
    out = d.cli("profiles", "put", "rescue", str(f))     # runs beside the daemon
    assert json.loads(out)["name"] == "rescue"
    f.write_text(json.dumps({"mac": MAC, **MACHINE}))
    d.cli("machines", "create", str(f))
    table = d.cli("machines")
    assert MAC in table and "api" in table and "n42" in table
    shown = json.loads(d.cli("profiles", "show", "rescue"))
    assert shown["args"] == RESCUE["args"] and shown["source"] == "api"
    f.write_text(json.dumps({"profile": "nope"}))
    p = d.cli_run("groups", "put", "bad", str(f))
    assert p.returncode == 1 and "unknown profile 'nope'" in p.stderr, p.stderr
    p = d.cli_run("profiles", "delete", "linux")
    assert p.returncode == 1 and "config file" in p.stderr
    d.cli("machines", "delete", MAC)
    d.cli("profiles", "delete", "rescue")
    assert [x["name"] for x in json.loads(d.cli("--json", "profiles"))] == ["linux"]
    d.stop()


def test_api_write_is_no_reload(lab, tmp_path):
    """An API write joins the file as it was last loaded: an edit on disk
    waits for SIGHUP, as every other config change does."""
    d, api = start(lab, tmp_path, token=True)
    cfg = tmp_path / "ironboot.yaml"
    cfg.write_text(cfg.read_text().replace(
        "  - name: linux\n", "  - name: edited\n    kernel: vmlinuz\n  - name: linux\n", 1))
    assert api.call("PUT", "profiles/rescue", RESCUE)[0] == 201
    names = [p["name"] for p in api.call("GET", "profiles")[1]]
    assert names == ["linux", "rescue"], names
    off = d.log_size()
    d.hup()
    d.wait_log("configuration reloaded", since=off)
    names = [p["name"] for p in api.call("GET", "profiles")[1]]
    assert names == ["edited", "linux", "rescue"], names
    d.stop()
