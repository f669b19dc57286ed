"""The agent (docs/AGENT.md) against the protocol's reference server.

ReferenceAgentServer below is the reference implementation of the daemon
side of the agent protocol: POST /api/v1/agent/report, GET
/api/v1/agent/instruction?mac=M, POST /api/v1/agent/progress, with a
per-machine bearer token.  It checks the agent against the protocol as
documented, not against ironbootd's reading of it (the daemon's side is
tested in the lifecycle flows, tests/e2e/test_machine_lifecycle.py), and
it is deliberately strict: a report missing a documented
member, a request with the wrong token, or a progress body that is not
the documented shape is refused and recorded as a protocol error, which
fails the test.  It also serves the images an install fetches (without
a token: image URLs are the daemon's assets or any HTTP server).

Everything runs inside namespaces this test creates (198.18.0.0/15);
QEMU's only NIC is a tap in its own namespace, never user-mode networking.

  test_agent_on_files        build-dir ironboot-agent (the ASan build under
                             scripts/test.sh) as a test run: fixture
                             /sys and /proc trees, regular files standing
                             in for the disks; wipe, gzip install (paced:
                             it reports running, then ok), raw chunked
                             install with a bad sha256 (scrubbed), install
                             onto a missing disk, power off (exit)
  test_agent_refuses         no --sysroot/--dev-dir: refuses to run; a
                             wrong token: 401s, no instruction is asked for
  test_agent_image_wipe      the agent image (scripts/agent-image.sh: Debian
                             kernel + initramfs with the static agent as
                             /init) boots in QEMU with -kernel/-initrd, gets
                             a lease from busybox udhcpd, reports (64 MiB
                             virtio disk, its MAC, QEMU's simulated BMC), is
                             told "wipe" then "wait": the disk's first and
                             last 16 MiB read back zero and QEMU exits
                             (powered off)

The agent image's install and reboot, and the installed disk booting by
itself, are the lifecycle's (tests/e2e/test_machine_lifecycle.py: the
whole flow on SeaBIOS and on OVMF, against ironbootd itself).

Run (root):  /usr/bin/python3 -m pytest tests/e2e/test_agent.py -v -s
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

import netlab

REPO = netlab.REPO
AGENT_IMAGE = REPO / "scripts" / "agent-image.sh"
ASSETS_CACHE = Path(os.environ.get("IB_E2E_ASSETS", "/var/cache/ironboot-e2e"))
QEMU = shutil.which("qemu-system-x86_64") or "/usr/bin/qemu-system-x86_64"
ACCEL = os.environ.get("IB_QEMU_ACCEL", "tcg")

SRV_IP = "198.18.0.1"
PORT = 8080
SERVER = f"http://{SRV_IP}:{PORT}"
MAC = "52:54:00:00:00:30"
VM_UUID = "6b8f2a4c-1d3e-4f50-9a7b-0c1d2e3f4a5c"
TOKEN = "agent-token.0030"
MiB = 1 << 20
DISK_SIZE = 64 * MiB
# QEMU start to power off, TCG.  Measured alone: ~25-35 s (kernel 7 s, 51
# modules, udhcpc, report, wipe); the bound is several times that for a
# loaded two-core machine.
AGENT_BOOT_TIMEOUT = float(os.environ.get("IB_E2E_AGENT_TIMEOUT", "240"))

# what every report must hold (docs/AGENT.md, "Report")
REPORT_KEYS = {"agent_version", "mac", "mode", "system", "board", "bios", "chassis",
               "cpu", "memory", "disks", "nics", "bmc"}
DISK_KEYS = {"name", "size_bytes", "logical_block_size", "rotational", "removable",
             "readonly", "model", "serial"}
NIC_KEYS = {"name", "mac", "driver", "link", "speed_mbps"}
PROGRESS_KEYS = {"mac", "step", "status", "bytes", "rate_bps", "duration_ms"}
PROGRESS_STATUS = {"running", "ok", "failed"}


# ---------------------------------------------------------------------------
# the protocol's reference server
# ---------------------------------------------------------------------------

class ReferenceAgentServer:
    """The daemon side of docs/AGENT.md, for tests.

    tokens:  {mac: token}: the per-machine bearer tokens it accepts
    script:  {mac: [instruction, ...]}: handed out in order, one per poll,
             once the machine has reported; then {"action": "none"}
    images:  {path: (bytes, chunked[, pace_s])}: GET path serves bytes
             (chunked: with Transfer-Encoding: chunked), without a token;
             pace_s spreads the body over that many seconds (10 writes),
             so a download outlasts the agent's running-progress period
    """

    def __init__(self, lab: netlab.Lab, ns: str, addr: str, port: int,
                 tokens: dict[str, str], script: dict[str, list[dict]],
                 images: dict[str, tuple] | None = None):
        self.tokens = tokens
        self.script = {m: list(s) for m, s in script.items()}
        self.images = images or {}
        self.reports: dict[str, list[dict]] = {}
        self.progress: dict[str, list[dict]] = {}
        self.handed: dict[str, list[dict]] = {}
        self.log: list[tuple[float, str, str, int]] = []   # t, method, path, status
        self.errors: list[str] = []                        # protocol violations
        self.cond = threading.Condition()
        self.t0 = time.monotonic()
        sock = lab.socket(ns, socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((addr, port))
        sock.listen(16)
        self.httpd = http.server.ThreadingHTTPServer((addr, port), self._handler(),
                                                     bind_and_activate=False)
        self.httpd.socket.close()
        self.httpd.socket = sock
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    # -- the protocol ------------------------------------------------------
    def _auth(self, h, mac: str | None) -> bool:
        want = self.tokens.get(mac or "")
        return want is not None and h.headers.get("Authorization") == f"Bearer {want}"

    def _note(self, method: str, path: str, status: int) -> None:
        with self.cond:
            self.log.append((time.monotonic() - self.t0, method, path, status))
            self.cond.notify_all()

    def _error(self, what: str) -> None:
        with self.cond:
            self.errors.append(what)
            self.cond.notify_all()

    def report(self, h, body: dict) -> int:
        mac = body.get("mac")
        if not self._auth(h, mac):
            return 401
        missing = REPORT_KEYS - body.keys()
        bad = [d for d in body.get("disks", []) if DISK_KEYS - d.keys()] + \
              [n for n in body.get("nics", []) if NIC_KEYS - n.keys()]
        if missing or bad:
            self._error(f"report without {sorted(missing)} or with bad entries {bad}")
            return 400
        with self.cond:
            self.reports.setdefault(mac, []).append(body)
        return 204

    def instruction(self, h, mac: str) -> tuple[int, dict | None]:
        if not self._auth(h, mac):
            return 401, None
        with self.cond:
            if mac not in self.reports:
                self._error(f"{mac} asked for an instruction before reporting")
                return 200, {"action": "none", "poll_ms": 500}
            queue = self.script.get(mac, [])
            ins = queue.pop(0) if queue else {"action": "none", "poll_ms": 500}
            self.handed.setdefault(mac, []).append(ins)
        return 200, ins

    def progress_in(self, h, body: dict) -> int:
        mac = body.get("mac")
        if not self._auth(h, mac):
            return 401
        if PROGRESS_KEYS - body.keys() or body.get("status") not in PROGRESS_STATUS:
            self._error(f"bad progress {body}")
            return 400
        with self.cond:
            self.progress.setdefault(mac, []).append(body)
        return 204

    def _handler(self):
        srv = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):          # quiet; the log list has it
                pass

            def _send(self, status: int, obj=None, raw: bytes | None = None,
                      chunked: bool = False, pace: float = 0.0) -> None:
                data = raw if raw is not None else \
                    (json.dumps(obj).encode() if obj is not None else b"")
                self.send_response(status)
                if status == 401:
                    self.send_header("WWW-Authenticate", "Bearer")
                if obj is not None:
                    self.send_header("Content-Type", "application/json")
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                elif status != 204:
                    self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                # odd chunk sizes; paced: ten pieces, one every pace/10 s
                step = max(1, -(-len(data) // 10)) if pace else 100_003
                for i in range(0, len(data), step):         # b"" for a 204
                    part = data[i:i + step]
                    if pace:
                        self.wfile.flush()
                        time.sleep(pace / 10)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked
                                     else part)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True
                srv._note(self.command, self.path, status)

            def _body(self) -> dict | None:
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(n))
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    srv._error(f"{self.path}: body is not a JSON object")
                    return None
                if self.headers.get("Content-Type") != "application/json":
                    srv._error(f"{self.path}: Content-Type {self.headers.get('Content-Type')}")
                return body

            def do_POST(self):
                body = self._body()
                if body is None:
                    return self._send(400)
                if self.path == "/api/v1/agent/report":
                    return self._send(srv.report(self, body))
                if self.path == "/api/v1/agent/progress":
                    return self._send(srv.progress_in(self, body))
                self._send(404)

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                if u.path == "/api/v1/agent/instruction":
                    mac = urllib.parse.parse_qs(u.query).get("mac", [""])[0]
                    status, ins = srv.instruction(self, mac)
                    return self._send(status, ins)
                if u.path in srv.images:
                    if "Authorization" in self.headers:
                        srv._error(f"the agent sent its token to the image URL {u.path}")
                    data, chunked, *pace = srv.images[u.path]
                    return self._send(200, raw=data, chunked=chunked, pace=sum(pace))
                self._send(404)

        return H

    # -- observation ---------------------------------------------------------
    def wait(self, pred, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = pred()
                if got:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {timeout:.0f}s; "
                                         f"requests: {self.log[-10:]}")
                self.cond.wait(min(left, 0.5))

    def steps(self, mac: str) -> list[tuple[str, str]]:
        return [(p["step"], p["status"]) for p in self.progress.get(mac, [])]

    def final(self, mac: str, step: str) -> dict | None:
        """The last progress of step that is not "running"."""
        for p in reversed(self.progress.get(mac, [])):
            if p["step"] == step and p["status"] != "running":
                return p
        return None


@pytest.fixture
def refserver(lab):
    made: list[ReferenceAgentServer] = []

    def make(ns: str, **kw) -> ReferenceAgentServer:
        s = ReferenceAgentServer(lab, ns, SRV_IP, PORT, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


# ---------------------------------------------------------------------------
# fixtures of a machine: /sys, /proc and disks as files
# ---------------------------------------------------------------------------

def put(root: Path, rel: str, text: str | bytes) -> None:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text if isinstance(text, bytes) else text.encode())


def make_sysroot(root: Path, disks: dict[str, int], mac: str) -> None:
    put(root, "sys/class/dmi/id/sys_vendor", "ironboot test\n")
    put(root, "sys/class/dmi/id/product_name", "file-backed machine\n")
    put(root, "sys/class/dmi/id/product_uuid", "6b8f2a4c-1d3e-4f50-9a7b-0c1d2e3f4a5c\n")
    put(root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: Test CPU\n\n"
                              "processor\t: 1\nmodel name\t: Test CPU\n\n")
    put(root, "proc/meminfo", "MemTotal:        2048000 kB\n")
    for name, size in disks.items():
        put(root, f"sys/class/block/{name}/size", f"{size // 512}\n")
        put(root, f"sys/class/block/{name}/queue/rotational", "0\n")
        put(root, f"sys/class/block/{name}/serial", f"SER-{name}\n")
    put(root, "sys/class/net/eth0/address", mac + "\n")
    put(root, "sys/class/net/eth0/carrier", "1\n")
    (root / "sys/class/net/eth0/device").mkdir(parents=True, exist_ok=True)
    os.symlink("../../../bus/virtio/drivers/virtio_net",
               root / "sys/class/net/eth0/device/driver")


def dirty_disk(path: Path, size: int) -> None:
    """A disk that looks used: a pattern everywhere, GPT headers at both
    ends, an ext4 magic."""
    block = bytes([0xA5]) * MiB
    with open(path, "wb") as f:
        for _ in range(size // MiB):
            f.write(block)
        f.seek(512)
        f.write(b"EFI PART")
        f.seek(1080)
        f.write(b"\x53\xef")
        f.seek(size - 512)
        f.write(b"EFI PART")


def region(path: Path, off: int, n: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def is_zero(b: bytes) -> bool:
    return b.count(0) == len(b)


def image_bytes(n: int) -> bytes:
    """An "OS image": an MBR-ish start and text that compresses."""
    head = b"\xeb\x63\x90IRONBOOT" + bytes(500) + b"\x55\xaa"
    body = b"".join(b"sector %08d of the test image\n" % i for i in range(n // 32))
    return (head + body)[:n]


def agent_bin(build_dir: Path) -> Path:
    p = netlab.find_binary(build_dir, "ironboot-agent")
    if not p.exists():
        pytest.fail(f"ironboot-agent not built in {build_dir} (meson compile -C {build_dir})")
    return p


def sanitizer_report(text: str) -> str | None:
    for needle in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        if needle in text:
            return needle
    return None


def agent_lab(lab: netlab.Lab) -> str:
    """One namespace with SRV_IP on its loopback: server and agent both
    inside, nothing leaves it."""
    ns = lab.netns("agent")
    lab.addr(ns, "lo", f"{SRV_IP}/32")
    return ns


# ---------------------------------------------------------------------------
# the agent as a test run, on files
# ---------------------------------------------------------------------------

def test_agent_on_files(lab, refserver, build_dir, tmp_path):
    agent = agent_bin(build_dir)
    ns = agent_lab(lab)
    sysroot, dev = tmp_path / "root", tmp_path / "dev"
    disks = {"vda": DISK_SIZE, "vdb": DISK_SIZE, "vdc": DISK_SIZE}
    make_sysroot(sysroot, disks, MAC)
    dev.mkdir()
    for d in disks:
        dirty_disk(dev / d, DISK_SIZE)

    img = image_bytes(3 * MiB + 123)
    img_gz = gzip.compress(img, 6)
    raw2 = image_bytes(2 * MiB)
    script = [
        {"action": "wipe", "id": "w1", "disks": ["vda"]},
        {"action": "install", "id": "i1", "url": f"{SERVER}/images/disk.raw.gz",
         "sha256": hashlib.sha256(img_gz).hexdigest(), "format": "gzip", "disk": "vdb",
         "disk_serial": "SER-vdb"},
        {"action": "install", "id": "i2", "url": f"{SERVER}/images/other.raw",
         "sha256": "00" * 32, "disk": "vdc"},
        {"action": "install", "id": "i3", "url": f"{SERVER}/images/disk.raw.gz",
         "sha256": hashlib.sha256(img_gz).hexdigest(), "format": "gzip", "disk": "vdz"},
        {"action": "none", "poll_ms": 200},
        {"action": "wait", "id": "off"},
    ]
    srv = refserver(ns, tokens={MAC: TOKEN}, script={MAC: script},
                    # paced over 3 s: longer than the agent's 2 s between
                    # running reports, so the install sends at least one
                    images={"/images/disk.raw.gz": (img_gz, False, 3.0),
                            "/images/other.raw": (raw2, True)})
    cmdline = tmp_path / "cmdline"
    cmdline.write_text(f"BOOT_IMAGE=/vmlinuz console=ttyS0 ib.server={SERVER} "
                       f"ib.token={TOKEN} ib.mac={MAC.upper()} ib.mode=install\n")
    t0 = time.monotonic()
    p = lab.run(ns, [agent, "--cmdline-file", cmdline, "--sysroot", sysroot,
                     "--dev-dir", dev, "--max-polls", "40", "--report-tries", "3"],
                timeout=180)
    took = time.monotonic() - t0
    out = p.stdout + p.stderr
    print(f"\nagent run: {took:.1f}s, exit {p.returncode}\n{out[-3000:]}")
    assert sanitizer_report(out) is None, out[-4000:]
    assert p.returncode == 0, out[-2000:]
    assert "power off now" in out
    assert srv.errors == [], srv.errors

    # the report
    (rep,) = srv.reports[MAC]
    assert rep["mac"] == MAC and rep["mode"] == "install"
    assert rep["system"]["vendor"] == "ironboot test"
    assert rep["cpu"]["threads"] == 2 and rep["memory"]["total_bytes"] == 2048000 * 1024
    assert [(d["name"], d["size_bytes"]) for d in rep["disks"]] == \
        [(n, DISK_SIZE) for n in sorted(disks)]
    assert [(n["name"], n["mac"], n["driver"]) for n in rep["nics"]] == \
        [("eth0", MAC, "virtio_net")]
    assert rep["bmc"] is None

    # every instruction was asked for and each reported its outcome
    assert [i["action"] for i in srv.handed[MAC]] == \
        ["wipe", "install", "install", "install", "none", "wait"]
    steps = srv.steps(MAC)
    assert ("wipe:vda", "ok") in steps and ("wipe", "ok") in steps
    assert ("install:vdb", "ok") in steps
    assert ("install:vdc", "failed") in steps and ("install:vdz", "failed") in steps
    assert steps[-1] == ("poweroff", "ok")
    ids = {p["step"]: p.get("instruction") for p in srv.progress[MAC]}
    assert ids["wipe:vda"] == "w1" and ids["install:vdb"] == "i1" and ids["poweroff"] == "off"

    # wipe: first and last 16 MiB zero; the middle untouched (a file has no
    # discard: the plan was zeroed, nothing else)
    vda = dev / "vda"
    assert is_zero(region(vda, 0, 16 * MiB)), "vda: first 16 MiB not zero"
    assert is_zero(region(vda, DISK_SIZE - 16 * MiB, 16 * MiB)), "vda: last 16 MiB not zero"
    assert region(vda, 32 * MiB, 4096) == bytes([0xA5]) * 4096
    assert "zeroed 33554432 bytes" in srv.final(MAC, "wipe:vda")["detail"]

    # install: the image, byte for byte, then the old contents
    vdb = dev / "vdb"
    assert region(vdb, 0, len(img)) == img
    assert region(vdb, len(img), 4096) == bytes([0xA5]) * 4096
    ok = srv.final(MAC, "install:vdb")
    assert ok["bytes"] == len(img) and ok["duration_ms"] >= 0
    # the install reports running when it starts and, while it streams,
    # with its bytes so far; then ok
    vdb_steps = [p for p in srv.progress[MAC] if p["step"] == "install:vdb"]
    assert vdb_steps[0]["status"] == "running" and vdb_steps[0]["bytes"] == 0, vdb_steps
    assert vdb_steps[-1]["status"] == "ok", vdb_steps
    assert any(p["status"] == "running" and 0 < p["bytes"] < len(img)
               for p in vdb_steps[1:-1]), vdb_steps
    assert f"gzip image, {len(img_gz)} bytes downloaded" in ok["detail"]

    # a digest mismatch: refused after the stream, and the disk scrubbed so
    # the half-trusted image never boots
    bad = srv.final(MAC, "install:vdc")
    assert "sha256 mismatch" in bad["error"] and hashlib.sha256(raw2).hexdigest() in bad["error"]
    assert is_zero(region(dev / "vdc", 0, 16 * MiB))
    assert srv.final(MAC, "install:vdz")["error"] == "no disk vdz"

    # every API call carried the token; the image fetches did not (checked
    # by the server); nothing was refused
    assert all(s < 400 for _, _, _, s in srv.log), srv.log


def test_agent_refuses(lab, refserver, build_dir, tmp_path):
    agent = agent_bin(build_dir)
    ns = agent_lab(lab)
    sysroot, dev = tmp_path / "root", tmp_path / "dev"
    make_sysroot(sysroot, {"vda": DISK_SIZE}, MAC)
    dev.mkdir()
    cmdline = tmp_path / "cmdline"
    cmdline.write_text(f"ib.server={SERVER} ib.token=wrong-token ib.mac={MAC}\n")

    # a test run names where it reads and writes: never the host's /dev
    for argv in ([agent, "--cmdline-file", cmdline],
                 [agent, "--cmdline-file", cmdline, "--sysroot", sysroot],
                 [agent, "--system", "--dev-dir", dev]):
        p = lab.run(ns, argv, timeout=30)
        assert p.returncode == 2, (argv, p.stdout, p.stderr)
        assert "usage:" in p.stderr

    srv = refserver(ns, tokens={MAC: TOKEN}, script={MAC: [{"action": "wipe"}]})
    p = lab.run(ns, [agent, "--cmdline-file", cmdline, "--sysroot", sysroot,
                     "--dev-dir", dev, "--report-tries", "2"], timeout=60)
    out = p.stdout + p.stderr
    assert sanitizer_report(out) is None, out
    assert p.returncode == 1, out
    assert "token not accepted" in out
    assert [(m, s) for _, m, _, s in srv.log] == [("POST", 401), ("POST", 401)]
    assert MAC not in srv.handed and "wrong-token" not in out   # never logged


# ---------------------------------------------------------------------------
# the agent image in QEMU
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def agent_image(tmp_path_factory) -> Path:
    """scripts/agent-image.sh with the plain build's static agent."""
    if os.geteuid() != 0:
        pytest.fail("needs root (network namespaces, tap devices, apt-get download)")
    agent = REPO / "build" / "ironboot-agent"
    if not agent.exists():
        pytest.fail(f"{agent} not built (scripts/test.sh builds build/ first)")
    out = tmp_path_factory.mktemp("agent-image")
    try:
        p = subprocess.run(["bash", str(AGENT_IMAGE), "--agent", str(agent), "--out", str(out),
                            "--cache", str(ASSETS_CACHE)],
                           capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{AGENT_IMAGE} did not finish within 900 s")
    if p.returncode != 0:
        pytest.fail(f"agent image could not be built ({p.returncode}): {p.stderr[-800:]}")
    print(p.stderr)
    for f in ("vmlinuz", "initrd.img"):
        assert (out / f).stat().st_size > 0
    return out


def tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_bytes().decode(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(none)"


class AgentVM:
    """The agent image in QEMU on a lab of its own:

        ns srv:  srv0 198.18.0.1/24   reference server :8080, busybox udhcpd
                   |  veth
        ns vm:   vm0 --- br0 --- tap0 <== QEMU (-kernel/-initrd, virtio-net,
                                          virtio-blk, a simulated BMC)
    """

    def __init__(self, lab: netlab.Lab, refserver, tmp: Path, script: list[dict],
                 images: dict[str, tuple[bytes, bool]] | None = None):
        if not os.access(QEMU, os.X_OK):
            pytest.fail("qemu-system-x86_64 not installed (scripts/deps.sh test)")
        netlab.require_tool("busybox")
        self.lab, self.tmp = lab, tmp
        self.srv_ns, self.vm_ns = lab.netns("srv"), lab.netns("vm")
        lab.veth(self.srv_ns, "srv0", self.vm_ns, "vm0")
        lab.addr(self.srv_ns, "srv0", f"{SRV_IP}/24")
        lab.tap(self.vm_ns, "tap0")
        lab.bridge(self.vm_ns, "br0", ports=["vm0", "tap0"])
        # DHCPv4 for the agent's udhcpc: busybox udhcpd on the server's link
        conf = tmp / "udhcpd.conf"
        conf.write_text(f"start 198.18.0.100\nend 198.18.0.110\ninterface srv0\n"
                        f"lease_file {tmp}/udhcpd.leases\npidfile {tmp}/udhcpd.pid\n"
                        f"option subnet 255.255.255.0\noption lease 600\n")
        (tmp / "udhcpd.leases").write_bytes(b"")
        self.udhcpd = lab.popen(self.srv_ns, ["busybox", "udhcpd", "-f", str(conf)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.srv = refserver(self.srv_ns, tokens={MAC: TOKEN}, script={MAC: script},
                             images=images)
        self.disk = tmp / "disk.img"
        dirty_disk(self.disk, DISK_SIZE)
        self.serial, self.errf = tmp / "serial.txt", tmp / "qemu.stderr"
        self.marks: list[tuple[str, float]] = []
        self.qemu: subprocess.Popen | None = None
        self.t0 = time.monotonic()

    def start(self, image: Path, mode: str) -> None:
        append = (f"console=ttyS0 loglevel=4 ib.server={SERVER} ib.token={TOKEN} "
                  f"ib.mac={MAC} ib.mode={mode}")
        argv = [QEMU, "-accel", ACCEL, "-nodefaults", "-display", "none", "-smp", "1",
                "-m", "512", "-no-reboot", "-uuid", VM_UUID,
                "-serial", f"file:{self.serial}",
                "-kernel", str(image / "vmlinuz"), "-initrd", str(image / "initrd.img"),
                "-append", append,
                "-drive", f"file={self.disk},if=none,id=d0,format=raw",
                "-device", "virtio-blk-pci,drive=d0,serial=IB-DISK-0030",
                "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
                "-device", f"virtio-net-pci,netdev=n0,mac={MAC}",
                # a BMC: QEMU's simulated one behind a KCS interface
                "-device", "ipmi-bmc-sim,id=bmc0", "-device", "isa-ipmi-kcs,bmc=bmc0"]
        self.t0 = time.monotonic()
        with open(self.errf, "wb") as ef:
            self.qemu = self.lab.popen(self.vm_ns, argv, stdin=subprocess.DEVNULL,
                                       stdout=ef, stderr=ef)

    def mark(self, what: str) -> None:
        self.marks.append((what, time.monotonic() - self.t0))

    def milestones(self) -> str:
        return "\n".join(f"  t+{t:6.1f}s  {w}" for w, t in self.marks)

    def diag(self) -> str:
        return (f"milestones (accel={ACCEL}):\n{self.milestones()}\n"
                f"requests: {self.srv.log}\nprogress: {self.srv.steps(MAC)}\n"
                f"errors: {self.srv.errors}\n--- qemu stderr ---\n{tail(self.errf, 10)}\n"
                f"--- serial ---\n{tail(self.serial, 60)}")

    def wait_exit(self, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while self.qemu.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert self.qemu.poll() is not None, f"QEMU did not exit (the agent did not {what})"
        self.mark("qemu exited")
        assert self.qemu.returncode == 0, f"QEMU exit status {self.qemu.returncode}"

    def close(self) -> None:
        if self.qemu is not None:
            self.lab.kill(self.qemu)
        self.lab.kill(self.udhcpd)

    def check_report(self, mode: str) -> dict:
        (rep,) = self.srv.reports[MAC]
        vda = [d for d in rep["disks"] if d["name"] == "vda"]
        assert vda and vda[0]["size_bytes"] == DISK_SIZE and \
            vda[0]["serial"] == "IB-DISK-0030", rep
        nics = [n for n in rep["nics"] if n["mac"] == MAC]
        assert nics and nics[0]["driver"] == "virtio_net" and nics[0]["link"] is True, rep
        assert rep["mode"] == mode and rep["system"]["vendor"] == "QEMU", rep
        assert rep["system"]["uuid"] == VM_UUID, rep["system"]
        assert rep["cpu"]["threads"] == 1 and rep["memory"]["total_bytes"] > 400 * MiB, rep
        # QEMU's simulated BMC answers, but not the LAN parameters
        assert rep["bmc"] is not None and rep["bmc"]["error"], rep["bmc"]
        return rep


def test_agent_image_wipe(lab, refserver, agent_image, tmp_path):
    vm = AgentVM(lab, refserver, tmp_path,
                 [{"action": "wipe", "id": "w1"}, {"action": "wait", "id": "off"}])
    srv = vm.srv
    try:
        vm.start(agent_image, "wipe")
        srv.wait(lambda: srv.reports.get(MAC), AGENT_BOOT_TIMEOUT, "report")
        vm.mark("report")
        srv.wait(lambda: srv.final(MAC, "wipe:vda"), 120, "wipe of vda")
        vm.mark("wipe done")
        vm.wait_exit(120, "power off")
        assert "reboot: Power down" in vm.serial.read_text(errors="replace")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{vm.diag()}") from None
    finally:
        vm.close()
    print(f"\nmilestones (accel={ACCEL}):\n{vm.milestones()}\nprogress: {srv.steps(MAC)}")

    assert srv.errors == [], vm.diag()
    rep = vm.check_report("wipe")
    print(f"report: {json.dumps(rep, indent=1)}")
    wipe = srv.final(MAC, "wipe:vda")
    assert wipe["status"] == "ok" and wipe["instruction"] == "w1", wipe
    assert srv.steps(MAC)[-1] == ("poweroff", "ok")
    assert is_zero(region(vm.disk, 0, 16 * MiB)), "disk: first 16 MiB not zero after the wipe"
    assert is_zero(region(vm.disk, DISK_SIZE - 16 * MiB, 16 * MiB)), \
        "disk: last 16 MiB not zero after the wipe"

