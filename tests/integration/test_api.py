"""The REST API's inventory writes and the CLI that mirrors them, against
the real daemon in namespaces the test creates:

    srv: srv0 198.18.0.1/24  <->  cli: cli0 198.18.0.2/24

An object written through the API must change what a machine boots at
once, survive a restart and a SIGHUP, and a write that would not validate
must be refused with the loader's reason while nothing stored is lost.

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_api.py -v
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import pwd
import re
import shutil
import socket
import sqlite3
import tempfile
import time
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
        pytest.fail("curl not found: the install step failed (scripts/deps.sh test)")
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.set_mac(cli, "cli0", MAC)       # the client is machine MAC: it reads its script
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
    # another machine still gets the file's default group (what it would be
    # served, seen as the operator sees it: the plan; only .43 reads its script)
    st, plan, _ = api.call("GET", "machines/52:54:00:00:00:43/plan")
    assert st == 200 and "group default profile linux" in plan["script"], plan

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


# ---- authentication on every route and method ----

def test_leases_filtered_by_mac(lab, tmp_path):
    """?mac= answers one machine's leases, not the whole table (the UI's
    machine page): IPv4 by chaddr, IPv6 by the MAC the store recorded for
    the DUID, so a DUID naming none is in no filtered answer; a MAC in any
    accepted form; not a MAC: 400."""
    d, api = start(lab, tmp_path, token=False)
    net4 = int(ipaddress.IPv4Address("198.18.0.0"))
    net6 = ipaddress.IPv6Address("fd00:b007::")
    con = sqlite3.connect(str(tmp_path / "state" / "ironboot.db"), timeout=10)
    with con:
        for i, hw in enumerate(("525400000042", "525400000043")):
            con.execute("INSERT INTO leases4 (address, subnet, htype, hwaddr, hostname, "
                        "cltt, expires, state) VALUES (?, ?, 1, ?, ?, 1, 4102444800, 1)",
                        (net4 + 10 + i, net4, bytes.fromhex(hw), f"h{i}"))
        for i, hw in enumerate(("525400000042", "525400000043", None)):
            con.execute("INSERT INTO leases6 (address, subnet, prefix_len, duid, iaid, "
                        "mac, cltt, preferred, expires, state) "
                        "VALUES (?, ?, 64, ?, 1, ?, 1, 4102444800, 4102444800, 1)",
                        ((net6 + 10 + i).packed, net6.packed, bytes([0, 4, *bytes(15), i]),
                         bytes.fromhex(hw) if hw else None))
    con.close()
    st, body, _ = api.call("GET", "leases")
    assert st == 200 and len(body) == 2, body
    st, body, _ = api.call("GET", "leases6")
    assert st == 200 and len(body) == 3, body
    for form in (MAC, MAC.upper(), MAC.replace(":", "-")):
        st, body, _ = api.call("GET", "leases?mac=" + form)
        assert st == 200 and [l["address"] for l in body] == ["198.18.0.10"], (form, body)
        st, body, _ = api.call("GET", "leases6?mac=" + form)
        assert st == 200 and [l["address"] for l in body] == ["fd00:b007::a"], (form, body)
        assert body[0]["mac"] == MAC
    for path in ("leases", "leases6"):
        st, body, _ = api.call("GET", path + "?mac=52:54:00:00:00:99")
        assert (st, body) == (200, []), (path, body)
        st, body, _ = api.call("GET", path + "?mac=52:54:00:00:00:4")
        assert st == 400 and "not a MAC" in body["error"], (path, body)


def test_reads_answer_while_another_connection_writes(lab, tmp_path):
    """Another connection (the CLI, a second daemon) holds the store's write
    lock: the reads that flush the journal first answer at once from what
    is stored, not after the store's 5 s busy timeout with the loop (and
    DHCP) stalled; the queued events are stored once the lock is free."""
    d, api = start(lab, tmp_path, token=False)
    st, body, _ = api.call("GET", "events?mac=" + MAC)
    assert (st, body) == (200, []), body
    con = sqlite3.connect(str(tmp_path / "state" / "ironboot.db"), timeout=10,
                          isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        api.script(MAC)         # an http event of MAC, queued: no flush can write it
        for path in ("events?mac=" + MAC, f"machines/{MAC}/doctor", "fleet", "events"):
            t0 = time.monotonic()
            st, body, _ = api.call("GET", path)
            took = time.monotonic() - t0
            assert st == 200 and took < 3, (path, st, took, body)
        st, body, _ = api.call("GET", "events?mac=" + MAC)
        assert body == [], body                             # still queued
    finally:
        con.execute("ROLLBACK")
        con.close()
    st, body, _ = api.call("GET", "events?mac=" + MAC)
    assert st == 200 and [e["proto"] for e in body] == ["http"], body


def request(lab, ns, method: str, path: str, headers: dict | None = None,
            body=None, host: str = SRV4):
    """(status, headers {lower: value}, body bytes) of one request made from
    a socket in namespace ns (no fork per request: the route matrix is long)."""
    s = lab.socket(ns, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    conn = http.client.HTTPConnection(host, PORT, timeout=20)
    try:
        s.connect((host, PORT))
        conn.sock = s
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        out = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, out
    finally:
        conn.close()
        s.close()


def bearer(token: str | None) -> dict:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


def assert_401(status: int, headers: dict, body: bytes, method: str, what: str) -> None:
    assert status == 401, (what, status, body[:300])
    assert headers.get("www-authenticate") == "Bearer", (what, headers)
    if method != "HEAD":
        # the refusal and nothing else: no object, no lease, no event leaks
        assert json.loads(body) == {"error": "a valid bearer token is required"}, (what, body)
    else:
        assert body == b"", (what, body)


AUTH_MAC = "52:54:00:00:00:42"          # a machine of the config file

AUTH_CONFIG = CONFIG + """\
machines:
  - {{ mac: "{mac}", hostname: n42 }}
"""

# Every route of src/httpd/http_api.c with every method it takes:
# (method, path, body, status with the right token, object the right call
# leaves, or None).  Writes name objects of their own, so the cases are
# independent of each other and of their order.
READS = [
    ("leases", 200), ("leases/198.18.0.5", 404), ("leases6", 200),
    ("leases6/fd00:b007::5", 404), ("events", 200), ("events?limit=5", 200),
    ("profiles", 200), ("profiles/linux", 200), ("groups", 200),
    ("groups/default", 200), ("machines", 200), (f"machines/{AUTH_MAC}", 200),
    (f"machines/{AUTH_MAC}/plan", 200),
]
WRITES = [
    ("POST", "profiles", {"name": "a-post", "kernel": "vmlinuz"}, 201, "profiles/a-post"),
    ("PUT", "profiles/a-put", {"kernel": "vmlinuz"}, 201, "profiles/a-put"),
    ("DELETE", "profiles/a-del", None, 204, None),
    ("POST", "groups", {"name": "g-post", "profile": "linux",
                        "selector": {"labels": {"rack": "post"}}}, 201, "groups/g-post"),
    ("PUT", "groups/g-put", {"profile": "linux", "selector": {"labels": {"rack": "put"}}},
     201, "groups/g-put"),
    ("DELETE", "groups/g-del", None, 204, None),
    ("POST", "machines", {"mac": "52:54:00:00:01:01", "hostname": "m1"}, 201,
     "machines/52:54:00:00:01:01"),
    ("PUT", "machines/52:54:00:00:01:02", {"hostname": "m2"}, 201,
     "machines/52:54:00:00:01:02"),
    ("DELETE", "machines/52:54:00:00:01:03", None, 204, None),
]
# what a DELETE case removes, created first with the right token
DELETE_SETUP = {
    "profiles/a-del": {"kernel": "vmlinuz"},
    "groups/g-del": {"profile": "linux", "selector": {"labels": {"rack": "del"}}},
    "machines/52:54:00:00:01:03": {"hostname": "m3"},
}
ROUTE_CASES = [(m, path, None, st, None) for path, st in READS for m in ("GET", "HEAD")] + WRITES


class AuthEnv:
    def __init__(self, lab, cli, daemon):
        self.lab, self.cli, self.d = lab, cli, daemon

    def call(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {}, **bearer(token))
        return request(self.lab, self.cli, method, "/api/v1/" + path, h, body)


@pytest.fixture(scope="module")
def authd(tmp_path_factory):
    """One daemon with a token for the whole route matrix."""
    ok, reason = netlab.netns_available()
    if not ok:
        pytest.skip(reason)
    if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
        pytest.skip(f"ironbootd not built in {netlab.build_dir()}")
    tmp = tmp_path_factory.mktemp("auth")
    for d in ("assets", "templates"):
        (tmp / d).mkdir()
    (tmp / "token").write_text(TOKEN + "\n")
    cfg = tmp / "ironboot.yaml"
    cfg.write_text(AUTH_CONFIG.format(state=tmp / "state", srv4=SRV4, port=PORT,
                                      assets=tmp / "assets", templates=tmp / "templates",
                                      extra=f"  api_token_file: {tmp / 'token'}\n",
                                      mac=AUTH_MAC))
    with netlab.Lab() as lab:
        srv, cli = lab.netns("srv"), lab.netns("cli")
        lab.veth(srv, "srv0", cli, "cli0")
        lab.addr(srv, "srv0", f"{SRV4}/24")
        lab.addr(cli, "cli0", f"{CLI4}/24")
        d = netlab.Daemon(lab, srv, cfg).start(timeout=20)
        yield AuthEnv(lab, cli, d)
        assert d.alive(), d.log_tail()
        d.stop()


@pytest.mark.parametrize("method,path,body,ok_status,leaves", ROUTE_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in ROUTE_CASES])
def test_every_route_needs_the_token(authd, method, path, body, ok_status, leaves):
    """No token and a wrong one: 401 and nothing done.  The right one: the
    handler answers (a lease lookup's 404 is its own answer, not auth's)."""
    if path in DELETE_SETUP:
        st, _, out = authd.call("PUT", path, TOKEN, DELETE_SETUP[path])
        assert st in (200, 201), out
    before = authd.call("GET", path, TOKEN)[0] if method not in ("GET", "HEAD") else None
    for token in (None, "wrong-token", TOKEN + "x", TOKEN[:-1], ""):
        st, h, out = authd.call(method, path, token, body)
        assert_401(st, h, out, method, f"{method} {path} token={token!r}")
        if before is not None:                 # a refused write changed nothing
            assert authd.call("GET", path, TOKEN)[0] == before, (method, path, token)
        if leaves:
            assert authd.call("GET", leaves, TOKEN)[0] == 404, (method, path, token)
    st, h, out = authd.call(method, path, TOKEN, body)
    assert st == ok_status, (method, path, st, out[:300])
    assert "www-authenticate" not in h
    if method == "GET" and ok_status == 404:
        assert json.loads(out)["error"] == "no lease for this address", out
    elif method == "GET":
        v = json.loads(out)
        assert v if isinstance(v, dict) else isinstance(v, list), out
    elif method == "HEAD":
        assert out == b""
    if leaves:
        assert authd.call("GET", leaves, TOKEN)[0] == 200
        assert authd.call("DELETE", leaves, TOKEN)[0] == 204    # leave the store as found
    elif method == "DELETE":
        assert authd.call("GET", path, TOKEN)[0] == 404


@pytest.mark.parametrize("header,status", [
    (f"Bearer {TOKEN}", 200),
    (f"bearer {TOKEN}", 200),            # RFC 9110 11.1: the scheme is case-insensitive
    (f"BEARER {TOKEN}", 200),
    (TOKEN, 401),                        # no scheme
    (f"Basic {TOKEN}", 401),
    (f"Token {TOKEN}", 401),
    (f"Bearer{TOKEN}", 401),
    ("Bearer", 401),
    ("Bearer ", 401),
    (f"Bearer {TOKEN}\t", 200),          # trailing OWS is not part of a field value
    (f"Bearer {TOKEN.upper()}", 401),    # tokens are compared exactly
])
def test_token_forms(authd, header, status):
    for method, path, body in (("GET", "profiles", None),
                               ("PUT", "profiles/forms", {"kernel": "vmlinuz"})):
        st, h, out = authd.call(method, path, headers={"Authorization": header}, body=body)
        if status == 401:
            assert_401(st, h, out, method, header)
        else:
            assert st in (200, 201), (header, st, out)
    authd.call("DELETE", "profiles/forms", TOKEN)


def test_first_authorization_header_counts(authd):
    st, h, out = request(authd.lab, authd.cli, "GET", "/api/v1/profiles",
                         {"Authorization": "Bearer wrong"})
    assert_401(st, h, out, "GET", "one wrong")
    # two Authorization fields: http.client sends both; either way no 200
    s = authd.lab.socket(authd.cli, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((SRV4, PORT))
        s.sendall(f"GET /api/v1/profiles HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer wrong\r\nAuthorization: Bearer {TOKEN}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        out = netlab.recv_until_close(s, 65536)
    finally:
        s.close()
    assert out.startswith((b"HTTP/1.1 401", b"HTTP/1.1 400")), out[:200]


@pytest.mark.parametrize("path", [
    "/api/v1/profiles/", "/api/v1//profiles", "/api/v1/%70rofiles", "/api/v1/profiles?x=1",
    "/api/v1/./profiles", "/api/v1/x/../profiles", "/API/V1/profiles", "/api/v1/PROFILES",
    "/api/v1/profiles%2flinux", "/api/v1/profiles/linux/", "/api/v1/machines/52-54-00-00-00-42",
    f"/api/v1/machines/{AUTH_MAC}/plan/", "/api/v1/leases%3f", "/api/v1/events%00",
    "/api/v1/profiles;x", "/api/v1",
])
def test_no_path_form_bypasses_auth(authd, path):
    """Spellings of API paths without a token: refused one way or another,
    never an answer with data."""
    for method in ("GET", "HEAD", "OPTIONS", "PATCH"):
        st, h, out = request(authd.lab, authd.cli, method, path)
        # never 405: its Allow header would name a route's methods to a caller
        # without the token (fuzz_api_body: PUT /api/v1/machines/. answered 405)
        assert st in (400, 401, 403, 404), (method, path, st, out[:200])
        assert b"linux" not in out and b"n42" not in out, (method, path, out[:200])
        if st == 401:
            assert_401(st, h, out, method, path)


# ---- reloads keep the API closed ----

T1, T2 = "first-t0ken", "second-t0ken"
TFTP_FILE = b"tftp payload " * 100

RELOAD_CONFIG = """\
server: {{ state_dir: {state}, log_level: info{user} }}
dhcp4: {{ enabled: false }}
tftp: {{ enabled: true, root: {tftp_root}, port: 69, listen: [{srv4}] }}
http:
  listen: [{srv4}]
  port: {port}
  assets: {assets}
  templates: {templates}
  api_token_file: {token}
profiles:
  - name: linux
    kernel: vmlinuz
    args: ["console={console}"]
groups:
  - {{ name: {group}, profile: linux }}
"""


class ReloadLab:
    """A daemon with a token, TFTP on port 69 and, for user, privileges
    dropped; the config and token files are rewritten by the test.  Lives in
    a directory every user can traverse (pytest's tmp root is 0700): the
    daemon rereads config, token and TFTP root after the drop."""

    def __init__(self, lab, base: Path, user: str | None):
        self.lab, self.base, self.user = lab, base, user
        self.cfg, self.token = base / "ironboot.yaml", base / "token"
        for d in ("assets", "templates", "tftp"):
            (base / d).mkdir(mode=0o755)
        (base / "tftp" / "hello.bin").write_bytes(TFTP_FILE)
        self.srv, self.cli = lab.netns("srv"), lab.netns("cli")
        lab.veth(self.srv, "srv0", self.cli, "cli0")
        lab.set_mac(self.cli, "cli0", MAC)  # the client is machine MAC (served_console)
        lab.addr(self.srv, "srv0", f"{SRV4}/24")
        lab.addr(self.cli, "cli0", f"{CLI4}/24")
        self.write_token(T1)
        self.write_config()
        self.d = netlab.Daemon(lab, self.srv, self.cfg)

    def write_token(self, text: str) -> None:
        if self.token.is_dir():
            self.token.rmdir()
        elif self.token.exists() or self.token.is_symlink():
            self.token.unlink()
        self.token.write_text(text)
        # root-owned; server.user reads it through its group, as documented
        gid = pwd.getpwnam(self.user).pw_gid if self.user else 0
        os.chown(self.token, 0, gid)
        self.token.chmod(0o640)

    def config_text(self, console="ttyS0", group="default", tftp_root=None) -> str:
        return RELOAD_CONFIG.format(
            state=self.base / "state", user=f", user: {self.user}" if self.user else "",
            tftp_root=tftp_root or self.base / "tftp", srv4=SRV4, port=PORT,
            assets=self.base / "assets", templates=self.base / "templates",
            token=self.token, console=console, group=group)

    def write_config(self, text: str | None = None) -> None:
        self.cfg.write_text(text if text is not None else self.config_text())
        self.cfg.chmod(0o644)

    def hup(self, outcome: str) -> None:
        off = self.d.log_size()
        self.d.hup()
        self.d.wait_log(outcome, since=off, timeout=15)

    def call(self, method, path, token=None, body=None):
        return request(self.lab, self.cli, method, "/api/v1/" + path, bearer(token), body)

    def served_console(self, token: str) -> str:
        """The console= of the profile served, seen through the API and the
        boot script (no API token: the client is the machine)."""
        st, _, out = self.call("GET", "profiles/linux", token)
        assert st == 200, (st, out)
        api = [a for a in json.loads(out)["args"] if a.startswith("console=")]
        st, _, script = request(self.lab, self.cli, "GET", f"/boot.ipxe?mac={MAC}")
        assert st == 200, script
        assert api and re.search(rf"{re.escape(api[0])}(\s|$)", script.decode()), (api, script)
        return api[0].split("=", 1)[1]

    def assert_closed(self, good: str, bad: tuple[str, ...]) -> None:
        """Every kind of route refuses no token, a wrong token and each of
        bad; the token in force, good, works."""
        for method, path, body in (("GET", "profiles", None), ("GET", "leases", None),
                                   ("GET", "events", None), ("HEAD", "groups", None),
                                   ("GET", f"machines/{MAC}/plan", None),
                                   ("PUT", "profiles/rl", {"kernel": "vmlinuz"}),
                                   ("DELETE", "profiles/linux", None)):
            for token in (None, "wrong", *bad):
                st, h, out = self.call(method, path, token, body)
                assert_401(st, h, out, method, f"{method} {path} token={token!r}")
        assert self.call("GET", "profiles", good)[0] == 200
        assert self.call("PUT", "profiles/rl", good, {"kernel": "vmlinuz"})[0] in (200, 201)
        assert self.call("DELETE", "profiles/rl", good)[0] == 204

    def tftp_get(self) -> None:
        out = self.base / "got.bin"
        if out.exists():
            out.unlink()
        p = self.lab.run(self.cli, ["tftp", SRV4, "-m", "binary", "-c", "get", "hello.bin",
                                    str(out)], timeout=30)
        assert p.returncode == 0 and out.exists() and out.read_bytes() == TFTP_FILE, \
            (p.stdout, p.stderr, self.d.log_tail())


@pytest.fixture
def world_dir():
    """A directory server.user can traverse, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="ib-api-reload-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _unreadable(r: ReloadLab) -> None:
    if r.user:                          # root-only, as a careless install leaves it
        r.token.chmod(0o600)
    else:                               # root reads any file: a directory then
        r.token.unlink()
        r.token.mkdir()


def _fifo(r: ReloadLab) -> None:
    r.token.unlink()
    os.mkfifo(r.token, 0o644)          # opening it for reading would block


def _token_removed_from_config(r: ReloadLab) -> None:
    r.write_config(r.config_text(console="ttyS1").replace(f"  api_token_file: {r.token}\n", ""))


# kind -> (change made before the SIGHUP, reloaded?)  Each also moves the
# profile's console to ttyS1, so the answers show which config is served.
RELOADS = {
    "bad-yaml": (lambda r: r.write_config(r.config_text(console="ttyS1") + "groups: [\n"), False),
    "invalid-config": (lambda r: r.write_config(r.config_text(console="ttyS1", group="x")
                                                .replace("profile: linux", "profile: nope")),
                       False),
    "token-unreadable": (_unreadable, False),
    "token-missing": (lambda r: r.token.unlink(), False),
    "token-empty": (lambda r: r.token.write_text("\n"), False),
    "token-fifo": (_fifo, False),
    "token-replaced": (lambda r: r.write_token(T2), True),
    "tftp-root-missing": (lambda r: r.write_config(
        r.config_text(console="ttyS1", tftp_root=r.base / "no-such-dir")), False),
    # HTTP takes the new token, then TFTP refuses: the old token stays in
    # force (the rollback used to reread the file and enforce the new one)
    "token-replaced-tftp-refuses": (lambda r: (r.write_token(T2), r.write_config(
        r.config_text(console="ttyS1", tftp_root=r.base / "no-such-dir"))), False),
    "valid-change": (lambda r: None, True),
}


@pytest.mark.parametrize("user", [None, "nobody"], ids=["root", "nobody"])
@pytest.mark.parametrize("kind", list(RELOADS))
def test_reload_keeps_the_api_closed(world_dir, lab, kind, user):
    """After every kind of SIGHUP the API refuses requests without the token
    in force, and the config served is the one the log names: the new one
    when reloaded, else the old one.  A token that cannot be read never
    opens the API (issue #11.1: it used to, while the log said refused)."""
    if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
        pytest.skip("ironbootd not built")
    for tool in ("tftp", "curl"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} not found: the install step failed (scripts/deps.sh test)")
    r = ReloadLab(lab, world_dir, user)
    r.d.start(timeout=20)
    if user:
        uid = pwd.getpwnam(user).pw_uid
        status = Path(f"/proc/{r.d.pid}/status").read_text()
        uids = next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1:]
        assert all(int(u) == uid for u in uids), status
    assert r.served_console(T1) == "ttyS0"
    r.assert_closed(T1, (T2,))

    change, reloaded = RELOADS[kind]
    if kind not in ("bad-yaml", "invalid-config", "tftp-root-missing",
                    "token-replaced-tftp-refuses"):
        r.write_config(r.config_text(console="ttyS1"))
    change(r)
    r.hup("configuration reloaded" if reloaded else "reload refused")
    good, bad = (T2, (T1,)) if kind == "token-replaced" else (T1, (T2,))
    assert r.served_console(good) == ("ttyS1" if reloaded else "ttyS0"), r.d.log_tail()
    r.assert_closed(good, bad)
    r.tftp_get()                          # the TFTP service lived through it
    assert r.d.alive()

    # put things right: the next SIGHUP serves the new config, still closed
    r.write_token(good)
    r.write_config(r.config_text(console="ttyS2"))
    r.hup("configuration reloaded")
    assert r.served_console(good) == "ttyS2"
    r.assert_closed(good, bad)
    r.tftp_get()
    r.d.stop()


def test_reload_without_token_file_opens_reads_only(world_dir, lab):
    """Taking api_token_file out of the config is a reload that validates:
    reads are open and writes refused, as for a config that never had one,
    and the log says so."""
    if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
        pytest.skip("ironbootd not built")
    r = ReloadLab(lab, world_dir, None)
    r.d.start(timeout=20)
    r.assert_closed(T1, (T2,))
    _token_removed_from_config(r)
    off = r.d.log_size()
    r.hup("configuration reloaded")
    assert "API reads are open" in r.d.log(off), r.d.log_tail()
    assert r.served_console(T1) == "ttyS1"
    st, _, out = r.call("GET", "profiles")
    assert st == 200
    st, _, out = r.call("PUT", "profiles/x", T1, {"kernel": "vmlinuz"})
    assert st == 403 and b"api_token_file" in out
    r.d.stop()
