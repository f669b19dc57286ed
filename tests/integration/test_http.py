"""The HTTP boot service against curl and raw sockets, in network namespaces
the test creates:

    srv: srv0 198.18.0.1/24 fd00:b007::1/64  <->  cli: cli0 198.18.0.2/24 fd00:b007::2/64

The daemon (IB_BUILD/ironbootd) serves a config written here: scripts for a
known and an unknown MAC, install configs, an assets directory (with a
sparse multi-GB file, a symlink out, a directory), the read-only REST API.
Every download is compared by SHA-256; bad requests must not kill it.
These tests are about serving, not about who may read a machine's data:
the shared daemon runs with http.machine_auth: off, so one client can ask
for several machines (test_machine_auth.py covers strict mode; the TLS
test here runs strict, its client being the machine it asks for).

Run:  sudo IB_BUILD=build /usr/bin/python3 -m pytest tests/integration/test_http.py -v
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

import netlab  # noqa: E402

SRV4, CLI4 = "198.18.0.1", "198.18.0.2"
SRV6, CLI6 = "fd00:b007::1", "fd00:b007::2"
PORT = 8080
BASE = f"http://{SRV4}:{PORT}"
KNOWN = "52:54:00:00:00:10"        # in the inventory, group "default"
LOCAL = "52:54:00:00:00:20"        # group "local" (profile local-disk)
UNKNOWN = "52:54:00:aa:bb:cc"
BIG_SPARSE = 5 * 1024**3 + 17      # > 4 GiB: 64-bit offsets
RANGE_FILE = bytes(range(256)) * 4 + b"tail!"     # 1029 bytes, every offset distinct
RLEN = len(RANGE_FILE)

CONFIG = """\
server:
  state_dir: {state}
  log_level: info
  syslog: false
dhcp4:
  enabled: false
boot:
  bios: undionly.kpxe
  efi_x64: ipxe.efi
tftp:
  enabled: false
journal:
  max_events: 100000
  max_age_days: 30
http:
  enabled: true
  listen: [{srv4}, "{srv6}"]
  port: {port}
  base_url: http://{srv4}:{port}
  assets: {assets}
  templates: {templates}
{extra}
profiles:
  - name: linux
    kernel: vmlinuz
    initrd: [initrd.img]
    args: ["console=ttyS0", "ib.host={{{{hostname}}}}"]
    configs:
      - {{ name: user-data, template: user-data.yaml, format: yaml }}
    metadata: {{ distro: debian }}
  - name: local-disk
    boot: local
groups:
  - name: local
    profile: local-disk
    selector: {{ mac: "{local}" }}
  - name: default
    profile: linux
machines:
  - mac: "{known}"
    hostname: node10
    labels: {{ rack: r1 }}
"""

# One client asks for several machines here (see the top of the file).
AUTH_OFF = "  machine_auth: off\n"

USER_DATA = """\
#cloud-config
hostname: {{hostname}}
profile: {{profile}}
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Env:
    def __init__(self, lab, daemon, cli, base: Path):
        self.lab, self.d, self.cli, self.base = lab, daemon, cli, base
        self.n = 0

    def curl(self, url: str, *extra: str, head: bool = False):
        """(status, headers {lower: value}, body bytes) of one curl fetch."""
        self.n += 1
        hdr, body = self.base / f"h{self.n}", self.base / f"b{self.n}"
        argv = ["curl", "-sS", "--path-as-is", "-g", "--max-time", "30",
                "-D", str(hdr), "-o", str(body), *extra]
        if head:
            argv.append("-I")
        p = self.lab.run(self.cli, [*argv, url], timeout=60)
        assert p.returncode == 0, f"curl {url}: {p.returncode} {p.stderr}"
        status, headers = 0, {}
        for line in hdr.read_text(errors="replace").splitlines():
            if line.startswith("HTTP/"):
                status, headers = int(line.split()[1]), {}
            elif ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        # with -I curl writes the headers to -o too; it never reads a body
        data = body.read_bytes() if body.exists() and not head else b""
        return status, headers, data

    def raw(self, request: bytes, family=socket.AF_INET, host=SRV4) -> bytes:
        """Send bytes on a fresh TCP connection; the reply until close."""
        s = self.lab.socket(self.cli, family, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((host, PORT))
            s.sendall(request)
            out = b""
            while len(out) < 65536:
                try:
                    chunk = s.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            s.close()

    def api(self, path: str, *extra: str):
        st, h, body = self.curl(BASE + path, *extra)
        assert h.get("content-type", "").startswith("application/json"), (path, h)
        return st, json.loads(body)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    ok, reason = netlab.netns_available()
    if not ok:
        pytest.skip(reason)
    if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
        pytest.skip(f"ironbootd not built in {netlab.build_dir()}")
    if not shutil.which("curl"):
        pytest.fail("curl not found: the install step failed (scripts/deps.sh test)")
    netlab.cleanup_stale()
    base = tmp_path_factory.mktemp("http")
    assets, templates = base / "assets", base / "templates"
    (assets / "sub").mkdir(parents=True)
    templates.mkdir()
    (templates / "user-data.yaml").write_text(USER_DATA)
    (assets / "vmlinuz").write_bytes(os.urandom(3 * 1024 * 1024 + 123))
    (assets / "initrd.img").write_bytes(os.urandom(1000))
    (assets / "sub" / "inner.bin").write_bytes(b"inner" * 100)
    (assets / "empty").write_bytes(b"")
    (assets / "ranges.bin").write_bytes(RANGE_FILE)
    (assets / "changing.bin").write_bytes(RANGE_FILE)
    (assets / "future.bin").write_bytes(RANGE_FILE)
    # modified "later than now": its Last-Modified is no strong validator
    os.utime(assets / "future.bin", (time.time() + 3600, time.time() + 3600))
    old = time.time() - 86400                # the others were modified well before
    for name in ("ranges.bin", "changing.bin", "empty"):
        os.utime(assets / name, (old, old))
    with open(assets / "huge.img", "wb") as f:
        f.truncate(BIG_SPARSE)
        f.seek(BIG_SPARSE - 10)
        f.write(b"0123456789")
    (base / "secret.txt").write_text("outside the assets directory\n")
    os.symlink("../secret.txt", assets / "escape")
    os.symlink("/etc/passwd", assets / "abs-escape")
    os.symlink("vmlinuz", assets / "alias")          # inside: allowed
    cfg = base / "ironboot.yaml"
    cfg.write_text(CONFIG.format(state=base / "state", srv4=SRV4, srv6=SRV6,
                                 port=PORT, assets=assets, templates=templates,
                                 extra=AUTH_OFF, local=LOCAL, known=KNOWN))
    with netlab.Lab() as lab:
        srv, cli = lab.pair("srv", "cli", (f"{SRV4}/24", f"{SRV6}/64"), (f"{CLI4}/24", f"{CLI6}/64"))
        d = netlab.Daemon(lab, srv, cfg).start(timeout=20)
        yield Env(lab, d, cli, base)
        assert d.alive(), d.log_tail()
        d.stop()


def script_url(mac: str, **kw) -> str:
    q = {"mac": mac, "uuid": "", "arch": "x86_64", "platform": "efi",
         "hostname": "", "serial": ""}
    q.update(kw)
    return BASE + "/boot.ipxe?" + "&".join(f"{k}={v}" for k, v in q.items())


# ---- scripts and configs ----

def test_script_known_mac(env):
    st, h, body = env.curl(script_url(KNOWN))
    assert st == 200, body
    text = body.decode()
    assert text.split("\n", 1)[0] == "#!ipxe"
    assert h["content-type"].startswith("text/plain")
    assert "vmlinuz" in text and "ib.host=node10" in text, text


def test_script_unknown_mac_gets_default(env):
    st, _, body = env.curl(script_url(UNKNOWN))
    assert st == 200, body
    text = body.decode()
    assert text.split("\n", 1)[0] == "#!ipxe"
    assert "vmlinuz" in text


def test_script_local_group(env):
    st, _, body = env.curl(script_url(LOCAL))
    assert st == 200
    assert body.decode().split("\n", 1)[0] == "#!ipxe"
    assert "vmlinuz" not in body.decode()


def test_script_hex_mac_forms(env):
    st, _, body = env.curl(script_url("52-54-00-00-00-10"))
    assert st == 200 and b"ib.host=node10" in body


@pytest.mark.parametrize("evil", ["a%20b", "x%24%7Bpass%7D", "h%0Aexit", "a%7C%7Creboot",
                                  "h%3Bshell", "h%26%26reboot"])
def test_script_injection_refused_or_inert(env, evil):
    st, _, body = env.curl(script_url(UNKNOWN, hostname=evil))
    if st == 422:
        assert b"hostname" in body, body
        return
    # %0A is refused by the URL parser (control byte) -> 400
    if st == 400:
        return
    assert st == 200, (st, body)
    lines = body.decode().splitlines()
    assert lines[0] == "#!ipxe"
    _, _, ok = env.curl(script_url(UNKNOWN, hostname="plain"))
    # the same commands, only the value differs, and it stays one word
    ok_lines = ok.decode().splitlines()
    assert [ln.split()[0] for ln in lines if ln] == [ln.split()[0] for ln in ok_lines if ln]


def test_config_rendered(env):
    st, h, body = env.curl(BASE + f"/configs/user-data?mac={KNOWN}")
    assert st == 200, body
    assert h["content-type"] == "application/yaml"
    assert b'hostname: "node10"' in body and b'profile: "linux"' in body
    st, _, _ = env.curl(BASE + f"/configs/nope?mac={KNOWN}")
    assert st == 404


# ---- assets ----

def test_asset_full_get(env):
    src = (env.base / "assets" / "vmlinuz").read_bytes()
    st, h, body = env.curl(BASE + "/assets/vmlinuz")
    assert st == 200
    assert sha(body) == sha(src)
    assert int(h["content-length"]) == len(src)
    assert h["etag"].startswith('"') and "last-modified" in h
    assert h["accept-ranges"] == "bytes"


def test_asset_over_ipv6(env):
    src = (env.base / "assets" / "initrd.img").read_bytes()
    st, _, body = env.curl(f"http://[{SRV6}]:{PORT}/assets/initrd.img")
    assert st == 200 and body == src


def test_asset_head(env):
    size = (env.base / "assets" / "vmlinuz").stat().st_size
    st, h, body = env.curl(BASE + "/assets/vmlinuz", head=True)
    assert st == 200 and body == b""
    assert int(h["content-length"]) == size


def test_asset_ranges(env):
    src = (env.base / "assets" / "vmlinuz").read_bytes()
    st, h, body = env.curl(BASE + "/assets/vmlinuz", "-H", "Range: bytes=100-1099")
    assert st == 206 and body == src[100:1100]
    assert h["content-range"] == f"bytes 100-1099/{len(src)}"
    st, h, body = env.curl(BASE + "/assets/vmlinuz", "-H", "Range: bytes=-500")
    assert st == 206 and body == src[-500:]
    st, h, body = env.curl(BASE + "/assets/vmlinuz", "-H", f"Range: bytes={len(src) - 7}-")
    assert st == 206 and body == src[-7:]
    st, h, _ = env.curl(BASE + "/assets/vmlinuz", "-H", f"Range: bytes={len(src)}-")
    assert st == 416 and h["content-range"] == f"bytes */{len(src)}"


def ranged(env, name: str, *headers: str, head: bool = False):
    extra = [x for h in headers for x in ("-H", h)]
    return env.curl(f"{BASE}/assets/{name}", *extra, head=head)


@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-0", 0, 0),
    ("bytes=0-1", 0, 1),
    (f"bytes={RLEN - 1}-{RLEN - 1}", RLEN - 1, RLEN - 1),
    ("bytes=1000-", 1000, RLEN - 1),                     # open-ended
    ("bytes=0-", 0, RLEN - 1),
    ("bytes=-1", RLEN - 1, RLEN - 1),                    # suffix
    ("bytes=-5", RLEN - 5, RLEN - 1),
    (f"bytes=-{RLEN}", 0, RLEN - 1),
    ("bytes=-5000", 0, RLEN - 1),                        # longer than the file: all of it
    ("bytes=-99999999999999999999999", 0, RLEN - 1),     # beyond 64 bits too
    ("bytes=1000-99999", 1000, RLEN - 1),                # last-pos past the end: clipped
    ("bytes=5-99999999999999999999999", 5, RLEN - 1),
    ("Bytes=2-3", 2, 3),                                 # the unit is case-insensitive
    ("bytes=2-3,", 2, 3),                                # empty list elements are ignored
    ("bytes=, 2-3", 2, 3),                               # (RFC 9110 5.6.1)
    ("bytes=007-0009", 7, 9),
])
def test_asset_range_satisfiable(env, spec, first, last):
    st, h, body = ranged(env, "ranges.bin", f"Range: {spec}")
    assert st == 206, (spec, st, body[:100])
    assert body == RANGE_FILE[first:last + 1], spec
    assert h["content-range"] == f"bytes {first}-{last}/{RLEN}", (spec, h)
    assert int(h["content-length"]) == last - first + 1


@pytest.mark.parametrize("spec", [
    "bytes=abc", "bytes=5-2", "bytes=-0", f"bytes={RLEN}-", f"bytes={RLEN}-{RLEN + 100}",
    "bytes=99999999999999999999999-", "bytes=", "bytes=-", "bytes=1-2-3", "bytes=0x10-20",
    "bytes=+1-2", "bytes=1 -2", "bytes=,", "bytes=--1", "bytes=a-", "bytes=1-a",
    "bytes=0-1,abc",
])
def test_asset_range_malformed_or_unsatisfiable(env, spec):
    """RFC 9110 14.2 lets a server reject an invalid range set: 416 with
    the length, as for a range past the end (15.5.17), never a body."""
    st, h, body = ranged(env, "ranges.bin", f"Range: {spec}")
    assert st == 416, (spec, st)
    assert h["content-range"] == f"bytes */{RLEN}", (spec, h)
    assert body == b"range not satisfiable\n"
    assert env.d.alive()


@pytest.mark.parametrize("spec", [
    "bytes=0-1,5-6", "bytes=0-1, 5-6", "bytes=-1,0-0", "bytes=0-1,5000-6000",
    "bytes=5000-,6000-", "bytes=-0,-0",  # several, none satisfiable: still ignored
    "items=0-5",                         # another unit: ignored (RFC 9110 14.2: MUST)
    "bytes 0-5",
])
def test_asset_range_ignored_sends_all(env, spec):
    """Several ranges: ironboot ignores Range and sends the whole file with
    200 (RFC 9110 14.2 allows it; boot clients resume with one range, and
    multipart/byteranges would take the body off the sendfile path)."""
    st, h, body = ranged(env, "ranges.bin", f"Range: {spec}")
    assert st == 200 and body == RANGE_FILE, (spec, st)
    assert "content-range" not in h and int(h["content-length"]) == RLEN
    assert h["accept-ranges"] == "bytes"


def test_asset_multirange_with_curl_r(env):
    st, h, body = env.curl(f"{BASE}/assets/ranges.bin", "-r", "0-1,5-6")
    assert st == 200 and body == RANGE_FILE and "content-range" not in h


def test_asset_range_head_is_ignored(env):
    """Range is defined for GET only (RFC 9110 14.2): HEAD answers as a
    full GET would."""
    st, h, body = ranged(env, "ranges.bin", "Range: bytes=0-9", head=True)
    assert st == 200 and body == b"", (st, h)
    assert int(h["content-length"]) == RLEN and "content-range" not in h
    st, h, _ = ranged(env, "ranges.bin", "Range: bytes=abc", head=True)
    assert st == 200 and int(h["content-length"]) == RLEN


def test_asset_range_of_an_empty_file(env):
    st, h, _ = ranged(env, "empty", "Range: bytes=0-")
    assert st == 416 and h["content-range"] == "bytes */0"
    st, h, body = ranged(env, "empty", "Range: bytes=-5")   # all of nothing
    assert st == 200 and body == b"" and h["content-length"] == "0"


def test_asset_if_range(env):
    st, h, _ = env.curl(f"{BASE}/assets/ranges.bin", head=True)
    etag, lm = h["etag"], h["last-modified"]
    part = ("Range: bytes=10-19",)

    def get(*headers):
        return ranged(env, "ranges.bin", *part, *headers)

    st, h, body = get(f"If-Range: {etag}")                   # the same version: the range
    assert st == 206 and body == RANGE_FILE[10:20], (st, h)
    st, h, body = get(f"If-Range: {lm}")                     # a date, modified long ago
    assert st == 206 and body == RANGE_FILE[10:20], (st, h)
    for other in ('"nope"', f"W/{etag}",                     # weak never matches (13.1.5)
                  etag[:-2] + '"', "Thu, 01 Jan 1970 00:00:00 GMT", "yesterday", lm + "x"):
        st, h, body = get(f"If-Range: {other}")
        assert st == 200 and body == RANGE_FILE, (other, st)
        assert "content-range" not in h
    # If-Range without Range changes nothing
    st, _, body = ranged(env, "ranges.bin", f"If-Range: {etag}")
    assert st == 200 and body == RANGE_FILE
    # the condition comes first: a range it does not apply to is not judged
    st, _, body = ranged(env, "ranges.bin", "Range: bytes=abc", 'If-Range: "nope"')
    assert st == 200 and body == RANGE_FILE
    st, h, _ = ranged(env, "ranges.bin", "Range: bytes=abc", f"If-Range: {etag}")
    assert st == 416 and h["content-range"] == f"bytes */{RLEN}"
    st, _, body = ranged(env, "ranges.bin", "Range: bytes=0-1,5-6", f"If-Range: {etag}")
    assert st == 200 and body == RANGE_FILE


def test_asset_if_range_after_the_file_changed(env):
    """A resumed download whose file changed meanwhile gets the new file
    whole, not a piece of it glued to the old one."""
    path = env.base / "assets" / "changing.bin"
    st, h, _ = env.curl(f"{BASE}/assets/changing.bin", head=True)
    etag, lm = h["etag"], h["last-modified"]
    new = bytes(reversed(RANGE_FILE)) + b"more"
    path.write_bytes(new)
    os.utime(path, (time.time() - 60, time.time() - 60))
    for validator in (etag, lm):
        st, h, body = ranged(env, "changing.bin", "Range: bytes=100-", f"If-Range: {validator}")
        assert st == 200 and body == new, (validator, st)
    st, h, _ = env.curl(f"{BASE}/assets/changing.bin", head=True)
    st, _, body = ranged(env, "changing.bin", "Range: bytes=100-", f"If-Range: {h['etag']}")
    assert st == 206 and body == new[100:]


def test_asset_if_range_date_not_yet_strong(env):
    """A Last-Modified that is not a second before the answer (here: in the
    future) is a weak validator (RFC 9110 8.8.2.2): If-Range with that date
    sends the whole file; the ETag still works."""
    st, h, _ = env.curl(f"{BASE}/assets/future.bin", head=True)
    st, h2, body = ranged(env, "future.bin", "Range: bytes=0-3", f"If-Range: {h['last-modified']}")
    assert st == 200 and body == RANGE_FILE, (st, h2)
    st, _, body = ranged(env, "future.bin", "Range: bytes=0-3", f"If-Range: {h['etag']}")
    assert st == 206 and body == RANGE_FILE[:4]


def test_asset_huge_sparse_range(env):
    st, h, body = env.curl(BASE + "/assets/huge.img", "-H",
                           f"Range: bytes={BIG_SPARSE - 10}-")
    assert st == 206 and body == b"0123456789"
    assert h["content-range"] == f"bytes {BIG_SPARSE - 10}-{BIG_SPARSE - 1}/{BIG_SPARSE}"
    st, h, _ = env.curl(BASE + "/assets/huge.img", head=True)
    assert st == 200 and int(h["content-length"]) == BIG_SPARSE


def test_asset_conditional(env):
    st, h, _ = env.curl(BASE + "/assets/initrd.img", head=True)
    etag, lm = h["etag"], h["last-modified"]
    st, h2, body = env.curl(BASE + "/assets/initrd.img", "-H", f"If-None-Match: {etag}")
    assert st == 304 and body == b"" and h2["etag"] == etag
    st, _, _ = env.curl(BASE + "/assets/initrd.img", "-H", 'If-None-Match: "other"')
    assert st == 200
    st, _, _ = env.curl(BASE + "/assets/initrd.img", "-H", f"If-Modified-Since: {lm}")
    assert st == 304


def test_asset_empty_and_symlink_inside(env):
    st, h, body = env.curl(BASE + "/assets/empty")
    assert st == 200 and body == b"" and h["content-length"] == "0"
    st, _, body = env.curl(BASE + "/assets/alias")
    assert st == 200 and body == (env.base / "assets" / "vmlinuz").read_bytes()


@pytest.mark.parametrize("path", ["/assets/../secret.txt", "/assets/%2e%2e/secret.txt",
                                  "/assets/sub/../../secret.txt", "/assets/%2E%2E%2Fsecret.txt",
                                  "/assets//etc/passwd", "/assets/sub%5C..%5C..%5Csecret.txt"])
def test_asset_traversal_refused(env, path):
    st, _, body = env.curl(BASE + path)
    assert st in (400, 403, 404), (path, st)
    assert b"outside the assets" not in body and b"root:" not in body


def test_operator_symlinks_out_of_assets_served(env):
    """A link the operator placed in the assets dir is followed wherever it
    points, as nginx and dnsmasq do (the network client can create no
    files; docs/SECURITY.md): only the request path is confined."""
    st, _, body = env.curl(BASE + "/assets/escape")
    assert st == 200 and body == b"outside the assets directory\n", (st, body)
    st, _, body = env.curl(BASE + "/assets/abs-escape")
    assert st == 200 and body.startswith(b"root:"), st


@pytest.mark.parametrize("path", ["/assets/sub", "/assets/sub/", "/assets/", "/assets"])
def test_asset_directory_refused(env, path):
    st, _, body = env.curl(BASE + path)
    assert st in (403, 404)
    assert b"inner.bin" not in body


def test_asset_missing_and_method(env):
    assert env.curl(BASE + "/assets/nope")[0] == 404
    assert env.curl(BASE + "/assets/vmlinuz", "-X", "POST")[0] == 405
    assert env.curl(BASE + "/assets/sub/inner.bin")[2] == b"inner" * 100


# ---- REST API ----

def test_api_lists(env):
    st, v = env.api("/api/v1/profiles")
    assert st == 200 and [p["name"] for p in v] == ["linux", "local-disk"]
    st, v = env.api("/api/v1/groups")
    assert st == 200 and {g["name"]: g["profile"] for g in v} == \
        {"local": "local-disk", "default": "linux"}
    st, v = env.api("/api/v1/leases")
    assert st == 200 and v == []
    st, v = env.api("/api/v1/leases/198.18.0.50")
    assert st == 404 and "error" in v
    st, v = env.api("/api/v1/leases/nope")
    assert st == 400


def test_api_plan(env):
    st, v = env.api(f"/api/v1/machines/{KNOWN}/plan")
    assert st == 200, v
    assert v["group"] == "default" and v["profile"] == "linux" and v["inventory"]
    assert v["script"].startswith("#!ipxe\n") and v["why"]
    st, v = env.api(f"/api/v1/machines/{LOCAL}/plan")
    assert v["group"] == "local"


def test_api_errors(env):
    st, v = env.api("/api/v1/nope")
    assert st == 404 and "error" in v
    st, v = env.api("/api/v1/leases", "-X", "DELETE")
    assert st == 405
    st, _, _ = env.curl(BASE + "/nothing-here")
    assert st == 404


def test_journal_has_http_events(env):
    env.curl(script_url(KNOWN))
    env.curl(BASE + f"/assets/initrd.img?mac={KNOWN}")
    st, v = env.api(f"/api/v1/events?mac={KNOWN}&limit=1000")
    assert st == 200
    kinds = {e["kind"] for e in v if e["proto"] == "http"}
    assert {"script", "asset"} <= kinds, v
    # machine_auth: off takes mac= at its word, for assets as for scripts:
    # the kernel is KNOWN's fetch (strict: test_machine_auth.py)
    asset = [e for e in v if e["kind"] == "asset"][-1]
    assert asset["detail"]["auth"] == "off" and "unverified" not in asset["detail"], asset
    assert asset["stage"] == "kernel", asset
    script = [e for e in v if e["kind"] == "script"][-1]["detail"]
    assert script["status"] == 200 and script["group"] == "default"
    assert script["profile"] == "linux" and script["bytes"] > 0 and "ms" in script
    ev = env.d.cli_json("events", "--mac", KNOWN)
    assert any(e["proto"] == "http" and e["kind"] == "script" for e in ev)


def test_journal_names_refused_key(env):
    env.curl(script_url(UNKNOWN, hostname="a%20b"))
    st, v = env.api(f"/api/v1/events?mac={UNKNOWN}&limit=50")
    fails = [e["detail"] for e in v if e["kind"] == "script"
             and e["detail"]["status"] == 422]
    assert fails and "hostname" in fails[-1]["error"]


# ---- hostile input ----

@pytest.mark.parametrize("req", [
    b"GET /boot.ipxe?mac=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /boot.ipxe?mac=%zz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /boot.ipxe?hostname=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /boot.ipxe?ho\x00st=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /assets/a%2 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /boot.ipxe?mac=zz:zz HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://evil/x HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"y" * 70000 + b"\r\n\r\n",
])
def test_bad_requests_answered_and_daemon_lives(env, req):
    out = env.raw(req)
    if out:
        status = int(out.split(b" ", 2)[1])
        assert 400 <= status < 500, out[:200]
    assert env.d.alive()
    st, _, body = env.curl(script_url(KNOWN))
    assert st == 200 and body.startswith(b"#!ipxe\n")


def test_many_connections_then_alive(env):
    socks = []
    for _ in range(50):
        s = env.lab.socket(env.cli, socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect((SRV4, PORT))
        s.sendall(b"GET /boot.ipxe?mac=52:54:00:00:00:10 HTTP/1.1\r\nHo")
        socks.append(s)
    for s in socks:
        s.close()
    st, _, _ = env.curl(script_url(KNOWN))
    assert st == 200


def test_head_sends_no_body(env):
    size = (env.base / "assets" / "vmlinuz").stat().st_size
    out = env.raw(b"HEAD /assets/vmlinuz HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /assets/empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, _, rest = out.partition(b"\r\n\r\n")
    assert f"Content-Length: {size}".encode() in first
    assert rest.startswith(b"HTTP/1.1 200"), out[:400]


def half_closed(env, request: bytes) -> bytes:
    """Send request, shut down our sending side (as `nc -N` does) and read
    the answer until the server closes."""
    s = env.lab.socket(env.cli, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((SRV4, PORT))
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        return netlab.recv_until_close(s)
    finally:
        s.close()


@pytest.mark.parametrize("name,extra,status", [
    ("vmlinuz", "", 200),                  # 3 MiB: sendfile, many writes
    ("initrd.img", "", 200),               # small: one sendfile after the head
    ("ranges.bin", "Range: bytes=1000-\r\n", 206),
])
def test_asset_body_arrives_after_half_close(env, name, extra, status):
    """Fuzz finding 5 (docs/FUZZING.md): a client that half-closes after
    its request got the head and then the connection closed without the
    body (evhttp freed the connection on the EOF before the sendfile
    segment was written)."""
    data = (env.base / "assets" / name).read_bytes()
    want = data[1000:] if status == 206 else data
    for close in ("", "Connection: close\r\n"):
        out = half_closed(env, f"GET /assets/{name} HTTP/1.1\r\nHost: x\r\n{extra}{close}\r\n"
                          .encode())
        head, _, body = out.partition(b"\r\n\r\n")
        assert head.startswith(f"HTTP/1.1 {status}".encode()), out[:300]
        assert f"Content-Length: {len(want)}".encode() in head, head
        assert len(body) == len(want) and sha(body) == sha(want), (name, close, len(body))


def test_script_after_half_close(env):
    out = half_closed(env, f"GET /boot.ipxe?mac={KNOWN} HTTP/1.0\r\n\r\n".encode())
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and body.startswith(b"#!ipxe\n"), out[:300]


def test_keepalive_pipelined(env):
    req = (f"GET /boot.ipxe?mac={KNOWN} HTTP/1.1\r\nHost: x\r\n\r\n" * 3 +
           "GET /assets/empty HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    out = env.raw(req)
    assert out.count(b"HTTP/1.1 200") == 4, out[:500]


def test_reload_keeps_serving(env):
    off = env.d.log_size()
    env.d.hup()
    env.d.wait_log("configuration reloaded", since=off, timeout=10)
    st, _, body = env.curl(script_url(KNOWN))
    assert st == 200 and body.startswith(b"#!ipxe\n")
    assert env.curl(BASE + "/assets/initrd.img")[0] == 200


# ---- token and TLS: a second daemon ----

def test_api_token_and_https(tmp_path, lab):
    if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
        pytest.skip("ironbootd not built")
    if not shutil.which("openssl"):
        pytest.fail("openssl not found: the install step failed (scripts/deps.sh test)")
    assets, templates = tmp_path / "assets", tmp_path / "templates"
    templates.mkdir()             # assets: created only after the start
    (templates / "user-data.yaml").write_text(USER_DATA)
    (tmp_path / "token").write_text("s3cret-token\n")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
                    "-days", "2", "-subj", f"/CN={SRV4}"],
                   check=True, capture_output=True, timeout=60)
    extra = (f"  api_token_file: {tmp_path / 'token'}\n"
             f"  tls: {{ cert: {tmp_path / 'cert.pem'}, key: {tmp_path / 'key.pem'} }}\n")
    cfg = tmp_path / "ironboot.yaml"
    cfg.write_text(CONFIG.format(state=tmp_path / "state", srv4=SRV4, srv6=SRV6, port=PORT,
                                 assets=assets, templates=templates, extra=extra,
                                 local=LOCAL, known=KNOWN).replace(
                                     f"base_url: http://", "base_url: https://"))
    srv, cli = lab.netns("srv"), lab.netns("cli")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.set_mac(cli, "cli0", KNOWN)     # the machine fetches its own script (strict)
    lab.addr(srv, "srv0", f"{SRV4}/24")
    lab.addr(cli, "cli0", f"{CLI4}/24")
    lab.addr(srv, "srv0", f"{SRV6}/64")
    lab.addr(cli, "cli0", f"{CLI6}/64")
    d = netlab.Daemon(lab, srv, cfg).start(timeout=20)
    e = Env(lab, d, cli, tmp_path)
    https = f"https://{SRV4}:{PORT}"
    st, _, _ = e.curl(https + "/api/v1/profiles", "-k")
    assert st == 401
    st, _, _ = e.curl(https + "/api/v1/profiles", "-k", "-H", "Authorization: Bearer wrong")
    assert st == 401
    st, _, body = e.curl(https + "/api/v1/profiles", "-k",
                         "-H", "Authorization: Bearer s3cret-token")
    assert st == 200 and json.loads(body)[0]["name"] == "linux"
    st, _, _ = e.curl(https + "/assets/vmlinuz", "-k")
    assert st == 404
    assets.mkdir()
    (assets / "vmlinuz").write_bytes(b"k" * 5000)
    st, _, body = e.curl(https + "/assets/vmlinuz", "-k")
    assert st == 200 and body == b"k" * 5000
    st, _, body = e.curl(https + "/boot.ipxe?mac=" + KNOWN, "-k")
    assert st == 200 and body.startswith(b"#!ipxe\n") and b"https://" in body
    # plain HTTP on the TLS port is refused, and the daemon lives on
    p = lab.run(cli, ["curl", "-sS", "--max-time", "5", f"http://{SRV4}:{PORT}/"], timeout=30)
    assert p.returncode != 0 or not p.stdout.startswith("#!ipxe")
    assert d.alive()
    d.stop()


# ---- journal keyed by the lease of the client's address ----

DHCP4 = """\
dhcp4:
  enabled: true
  mode: server
  interfaces: [srv0]
  authoritative: true
  subnets:
    - subnet: 198.18.0.0/24
      pools:
        - {{ start: 198.18.0.100, end: 198.18.0.199 }}
      lease_time: 3600
      reservations:
        - mac: "{mac}"
          address: {cli4}
"""


def test_journal_by_lease_without_mac(tmp_path, lab):
    if not netlab.find_binary(netlab.build_dir(), "ironbootd").exists():
        pytest.skip("ironbootd not built")
    if not shutil.which("busybox"):
        pytest.fail("busybox not found: the install step failed (scripts/deps.sh test)")
    srv, cli = lab.pair("srv", "cli", (f"{SRV4}/24", f"{SRV6}/64"), (f"{CLI4}/24", f"{CLI6}/64"))
    mac = lab.mac(cli, "cli0").lower()
    assets, templates = tmp_path / "assets", tmp_path / "templates"
    assets.mkdir()
    templates.mkdir()
    (templates / "user-data.yaml").write_text(USER_DATA)
    (assets / "initrd.img").write_bytes(b"i" * 777)
    cfg = tmp_path / "ironboot.yaml"
    cfg.write_text(CONFIG.format(state=tmp_path / "state", srv4=SRV4, srv6=SRV6, port=PORT,
                                 assets=assets, templates=templates, extra="",
                                 local=LOCAL, known=KNOWN).replace(
                                     "dhcp4:\n  enabled: false\n", DHCP4.format(mac=mac, cli4=CLI4)))
    d = netlab.Daemon(lab, srv, cfg).start(timeout=20)
    sf = tmp_path / "udhcpc.sh"
    sf.write_text("#!/bin/sh\nexit 0\n")
    sf.chmod(0o755)
    p = lab.run(cli, ["busybox", "udhcpc", "-i", "cli0", "-n", "-q", "-f", "-t", "5",
                      "-T", "1", "-s", str(sf)], timeout=30)
    assert p.returncode == 0, p.stdout + p.stderr
    e = Env(lab, d, cli, tmp_path)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        st, v = e.api(f"/api/v1/leases/{CLI4}")
        if st == 200:
            break
        time.sleep(0.2)
    assert st == 200 and v["mac"].lower() == mac, v
    st, _, body = e.curl(BASE + "/assets/initrd.img")      # no mac in the query
    assert st == 200 and body == b"i" * 777
    st, v = e.api(f"/api/v1/events?mac={mac}&proto=http")
    assets_ev = [x for x in v if x["kind"] == "asset"]
    assert assets_ev and assets_ev[-1]["detail"].get("path") == "/assets/initrd.img", v
    assert assets_ev[-1]["detail"].get("client") == CLI4, v
    # the lease released (the operator's word, through the daemon): the
    # address holds no lease, and a fetch from it is no machine's any more
    d.cli("leases", "release", CLI4)
    st, _, _ = e.curl(BASE + "/assets/initrd.img")
    assert st == 200
    st, v = e.api("/api/v1/events?proto=http&limit=1000")
    last = [x for x in v if x["kind"] == "asset"][-1]
    assert last["mac"] == "" and last["detail"].get("client") == CLI4, last
    d.stop()
