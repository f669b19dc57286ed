#!/usr/bin/python3
"""A small Redfish BMC for the power tests (no Redfish emulator is packaged
in Debian).  It speaks the subset of DMTF DSP0266 / DSP8010 that ironboot and
real clients (python3-sushy, redfishtool) use:

    GET    /redfish/v1/                         ServiceRoot (no auth)
    GET    /redfish/v1/SessionService           SessionService
    GET    /redfish/v1/SessionService/Sessions  Sessions collection
    POST   /redfish/v1/SessionService/Sessions  login: X-Auth-Token + Location
    GET    /redfish/v1/SessionService/Sessions/N
    DELETE /redfish/v1/SessionService/Sessions/N  logout
    GET    /redfish/v1/Systems                  ComputerSystemCollection
    GET    /redfish/v1/Systems/1                ComputerSystem (PowerState, Boot)
    PATCH  /redfish/v1/Systems/1                Boot.BootSourceOverride*
    POST   /redfish/v1/Systems/1/Actions/ComputerSystem.Reset
    GET    /redfish/v1/Managers, /redfish/v1/Chassis  (empty collections)

Every resource but the service root needs basic auth or a session token;
a failure is 401 with a Redfish error body.

The system behind it is either simulated (a power flag; --count N serves N
BMCs on ports PORT..PORT+N-1, for the load tests) or a real QEMU VM
(--qemu-args JSON: the VM's argv without -qmp), driven over QMP:
On starts the qemu process, ForceOff sends `quit`, GracefulShutdown
`system_powerdown` (ACPI), ForceRestart `system_reset`, PowerCycle quits and
starts it again.  PowerState is "On" only while the process runs and QMP
`query-status` says running.  A one-time boot override becomes
`-boot once=n` (Pxe) or `once=c` (Hdd) on the next start, then clears.

Each request is appended to --log as one JSON line (method, path, auth kind,
status, and the body of PATCH/Reset requests) so tests can see what a
client did; passwords are never logged.

    redfish_emu.py --listen 198.18.0.2 --port 8000 --user admin --password pw \
        [--count 50] [--tls CERT KEY] [--qemu-args '["qemu-system-x86_64", ...]'
        --vm-dir DIR] [--log FILE]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SYS = "/redfish/v1/Systems/1"
SESSIONS = "/redfish/v1/SessionService/Sessions"
RESETS = ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "PowerCycle",
          "GracefulRestart"]


class QemuVM:
    """The machine behind the BMC: a qemu process and its QMP socket."""

    def __init__(self, argv: list[str], vm_dir: str):
        self.argv = argv
        self.dir = vm_dir
        self.qmp_path = os.path.join(vm_dir, "qmp.sock")
        self.proc: subprocess.Popen | None = None
        self.boot_once: str | None = None   # "n" or "c" for the next start

    def _write_pid(self) -> None:
        path = os.path.join(self.dir, "qemu.pid")
        with open(path + ".tmp", "w") as f:
            f.write(str(self.proc.pid) if self.proc and self.proc.poll() is None else "")
        os.replace(path + ".tmp", path)

    def qmp(self, cmd: str, timeout: float = 5.0) -> dict | None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.qmp_path)
            f = s.makefile("rwb")
            json.loads(f.readline())                       # greeting
            for c in ("qmp_capabilities", cmd):
                f.write(json.dumps({"execute": c}).encode() + b"\n")
                f.flush()
                while True:
                    line = f.readline()
                    if not line:
                        return None
                    msg = json.loads(line)
                    if "return" in msg or "error" in msg:
                        break                              # skip events
            return msg
        except OSError:
            return None
        finally:
            s.close()

    def running(self) -> bool:
        if not self.proc or self.proc.poll() is not None:
            return False
        r = self.qmp("query-status")
        return bool(r and r.get("return", {}).get("status") == "running")

    def start(self) -> None:
        if self.proc and self.proc.poll() is None:
            return
        try:
            os.unlink(self.qmp_path)
        except FileNotFoundError:
            pass
        argv = list(self.argv) + ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        if self.boot_once:
            argv += ["-boot", f"once={self.boot_once}"]
            self.boot_once = None
        with open(os.path.join(self.dir, "qemu.argv"), "w") as f:
            json.dump(argv, f)
        log = open(os.path.join(self.dir, "qemu.log"), "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.proc.poll() is None:
            if os.path.exists(self.qmp_path) and self.running():
                break
            time.sleep(0.05)
        self._write_pid()

    def stop(self) -> None:
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.qmp("quit")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._write_pid()

    def reset(self, kind: str) -> None:
        if kind == "On":
            self.start()
        elif kind == "ForceOff":
            self.stop()
        elif kind == "GracefulShutdown":
            self.qmp("system_powerdown")
        elif kind in ("ForceRestart", "GracefulRestart"):
            if self.boot_once:          # the override needs a new argv
                self.stop()
                self.start()
            else:
                self.qmp("system_reset")
        elif kind == "PowerCycle":
            self.stop()
            self.start()


class SimMachine:
    """A simulated machine: a power flag."""

    def __init__(self) -> None:
        self.on = False
        self.boot_once: str | None = None
        self.boots: list[str] = []      # boot device of each power-on

    def running(self) -> bool:
        return self.on

    def _power_on(self) -> None:
        self.on = True
        self.boots.append(self.boot_once or "default")
        self.boot_once = None

    def reset(self, kind: str) -> None:
        if kind == "On" and not self.on:
            self._power_on()
        elif kind in ("ForceOff", "GracefulShutdown"):
            self.on = False
        elif kind in ("ForceRestart", "GracefulRestart", "PowerCycle"):
            self.on = False
            self._power_on()

    def stop(self) -> None:
        self.on = False


class Bmc:
    """One BMC: credentials, sessions, the boot override, its machine."""

    def __init__(self, user: str, password: str, machine, log_path: str | None):
        self.user, self.password = user, password
        self.machine = machine
        self.sessions: dict[str, str] = {}          # id -> token
        self.boot = {"BootSourceOverrideEnabled": "Disabled",
                     "BootSourceOverrideTarget": "None",
                     "BootSourceOverrideMode": "Legacy"}
        self.lock = threading.Lock()
        self.log_path = log_path
        self.lie_file: str | None = None   # when it exists: the PowerState to report
        self.next_session = 1

    def log(self, rec: dict) -> None:
        if not self.log_path:
            return
        with self.lock, open(self.log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def system(self) -> dict:
        with self.lock:
            on = self.machine.running()
        # a BMC that lies (tests of reconciliation): report what the file says
        if self.lie_file and os.path.exists(self.lie_file):
            with open(self.lie_file) as f:
                on = f.read().strip() == "On"
        return {
            "@odata.id": SYS,
            "@odata.type": "#ComputerSystem.v1_13_0.ComputerSystem",
            "Id": "1", "Name": "ironboot test machine",
            "SystemType": "Virtual",
            "PowerState": "On" if on else "Off",
            "Status": {"State": "Enabled", "Health": "OK"},
            "Boot": dict(self.boot, **{
                "BootSourceOverrideTarget@Redfish.AllowableValues":
                    ["None", "Pxe", "Hdd", "Cd"],
                "BootSourceOverrideMode@Redfish.AllowableValues": ["Legacy", "UEFI"]}),
            "Actions": {"#ComputerSystem.Reset": {
                "target": SYS + "/Actions/ComputerSystem.Reset",
                "ResetType@Redfish.AllowableValues": RESETS}},
        }

    def patch_boot(self, body: dict) -> str | None:
        boot = body.get("Boot")
        if not isinstance(boot, dict) or set(body) != {"Boot"}:
            return "only Boot may be patched"
        allowed = {"BootSourceOverrideEnabled": {"Disabled", "Once", "Continuous"},
                   "BootSourceOverrideTarget": {"None", "Pxe", "Hdd", "Cd"},
                   "BootSourceOverrideMode": {"Legacy", "UEFI"}}
        for k, v in boot.items():
            if k not in allowed or v not in allowed[k]:
                return f"bad Boot property {k}"
        with self.lock:
            self.boot.update(boot)
            t = self.boot["BootSourceOverrideTarget"]
            once = self.boot["BootSourceOverrideEnabled"] == "Once"
            self.machine.boot_once = {"Pxe": "n", "Hdd": "c", "Cd": "d"}.get(t) \
                if once else None
        return None

    def reset(self, kind: str) -> None:
        with self.lock:
            if self.machine.boot_once and kind in ("On", "ForceRestart", "PowerCycle",
                                                   "GracefulRestart"):
                # a one-time override is spent by the boot it applies to
                self.boot["BootSourceOverrideEnabled"] = "Disabled"
                self.boot["BootSourceOverrideTarget"] = "None"
            self.machine.reset(kind)


def collection(path: str, members: list[str], otype: str) -> dict:
    return {"@odata.id": path, "@odata.type": otype, "Name": path.rsplit("/", 1)[-1],
            "Members@odata.count": len(members),
            "Members": [{"@odata.id": m} for m in members]}


def error(msg: str) -> dict:
    return {"error": {"code": "Base.1.8.GeneralError", "message": msg,
                      "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.GeneralError",
                                                 "Message": msg}]}}


def make_handler(bmc: Bmc):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True      # headers and body leave at once
        server_version = "ironboot-redfish-emu/1"

        def log_message(self, fmt, *args):   # our own JSON log instead
            pass

        def _send(self, status: int, body: dict | None, headers: dict | None = None):
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("OData-Version", "4.0")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            # one request per connection: clients (curl, requests) reconnect,
            # and no keep-alive reuse can meet a connection being closed
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self._status = status

        def _body(self) -> dict | None:
            n = int(self.headers.get("Content-Length") or 0)
            if n > 65536:
                return None
            raw = self.rfile.read(n) if n else b""
            try:
                v = json.loads(raw or b"{}")
            except ValueError:
                return None
            return v if isinstance(v, dict) else None

        def _auth(self) -> str | None:
            tok = self.headers.get("X-Auth-Token")
            if tok is not None:
                return "session" if tok in bmc.sessions.values() else None
            h = self.headers.get("Authorization", "")
            if h.startswith("Basic "):
                try:
                    u, _, p = base64.b64decode(h[6:]).decode().partition(":")
                except ValueError:
                    return None
                return "basic" if (u, p) == (bmc.user, bmc.password) else None
            return None

        def _handle(self, method: str) -> None:
            self._status = 0
            path = self.path.split("?")[0].rstrip("/") or "/"
            rec = {"method": method, "path": path, "auth": None}
            body = self._body() if method in ("POST", "PATCH") else {}
            try:
                self._route(method, path, body, rec)
            finally:
                rec["status"] = self._status
                bmc.log(rec)

        def _route(self, method, path, body, rec) -> None:
            if body is None:
                return self._send(400, error("malformed JSON body"))
            if path == "/redfish":
                return self._send(200, {"v1": "/redfish/v1/"})
            if path == "/redfish/v1" and method == "GET":
                return self._send(200, {
                    "@odata.id": "/redfish/v1/",
                    "@odata.type": "#ServiceRoot.v1_11_0.ServiceRoot",
                    "Id": "RootService", "Name": "Root Service",
                    "RedfishVersion": "1.11.0", "UUID": "92384634-2938-2342-8820-489239905423",
                    "Systems": {"@odata.id": "/redfish/v1/Systems"},
                    "Managers": {"@odata.id": "/redfish/v1/Managers"},
                    "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
                    "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
                    "Links": {"Sessions": {"@odata.id": SESSIONS}}})
            if path == SESSIONS and method == "POST":
                rec["auth"] = "login"
                if (body.get("UserName"), body.get("Password")) != (bmc.user, bmc.password):
                    return self._send(401, error("invalid credentials"))
                with bmc.lock:
                    sid = str(bmc.next_session)
                    bmc.next_session += 1
                    tok = secrets.token_hex(16)
                    bmc.sessions[sid] = tok
                return self._send(201, {"@odata.id": f"{SESSIONS}/{sid}", "Id": sid,
                                        "UserName": bmc.user},
                                  {"X-Auth-Token": tok, "Location": f"{SESSIONS}/{sid}"})
            rec["auth"] = self._auth()
            if rec["auth"] is None:
                return self._send(401, error("authentication required"),
                                  {"WWW-Authenticate": 'Basic realm="redfish"'})
            if method == "GET":
                return self._get(path)
            if method == "DELETE" and path.startswith(SESSIONS + "/"):
                with bmc.lock:
                    ok = bmc.sessions.pop(path.rsplit("/", 1)[1], None)
                return self._send(204 if ok else 404, None if ok else error("no session"))
            if method == "PATCH" and path == SYS:
                rec["body"] = body
                why = bmc.patch_boot(body)
                if why:
                    return self._send(400, error(why))
                return self._send(200, bmc.system())
            if method == "POST" and path == SYS + "/Actions/ComputerSystem.Reset":
                rec["body"] = body
                kind = body.get("ResetType")
                if kind not in RESETS:
                    return self._send(400, error(f"ResetType must be one of {RESETS}"))
                bmc.reset(kind)
                return self._send(204, None)
            return self._send(404 if method == "GET" else 405, error("not here"))

        def _get(self, path: str) -> None:
            if path == "/redfish/v1/Systems":
                return self._send(200, collection(path, [SYS],
                                  "#ComputerSystemCollection.ComputerSystemCollection"))
            if path == SYS:
                return self._send(200, bmc.system())
            if path in ("/redfish/v1/Managers", "/redfish/v1/Chassis"):
                return self._send(200, collection(path, [], "#Collection.Collection"))
            if path == "/redfish/v1/SessionService":
                return self._send(200, {
                    "@odata.id": path, "@odata.type": "#SessionService.v1_1_8.SessionService",
                    "Id": "SessionService", "Name": "Session Service",
                    "ServiceEnabled": True, "SessionTimeout": 600,
                    "Sessions": {"@odata.id": SESSIONS}})
            if path == SESSIONS:
                return self._send(200, collection(path, [f"{SESSIONS}/{i}"
                                                         for i in bmc.sessions],
                                                  "#SessionCollection.SessionCollection"))
            if path.startswith(SESSIONS + "/") and path.rsplit("/", 1)[1] in bmc.sessions:
                sid = path.rsplit("/", 1)[1]
                return self._send(200, {"@odata.id": path, "Id": sid, "UserName": bmc.user,
                                        "@odata.type": "#Session.v1_3_0.Session"})
            return self._send(404, error("no such resource"))

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        def do_PATCH(self):
            self._handle("PATCH")

        def do_DELETE(self):
            self._handle("DELETE")

    return Handler


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, default=443)
    ap.add_argument("--count", type=int, default=1)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--qemu-args")
    ap.add_argument("--vm-dir")
    ap.add_argument("--log")
    ap.add_argument("--ready-file")
    ap.add_argument("--lie-file", help="while this file exists, every system reports "
                    "the PowerState it holds (On or Off), whatever the machine is")
    a = ap.parse_args()

    servers, bmcs = [], []
    for i in range(a.count):
        machine = QemuVM(json.loads(a.qemu_args), a.vm_dir) if a.qemu_args else SimMachine()
        bmc = Bmc(a.user, a.password, machine, a.log)
        bmc.lie_file = a.lie_file
        srv = ThreadingHTTPServer((a.listen, a.port + i), make_handler(bmc))
        srv.daemon_threads = True
        if a.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(a.tls[0], a.tls[1])
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        servers.append(srv)
        bmcs.append(bmc)
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    done = threading.Event()

    def _stop(signum, frame):
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write("ready\n")
    print("redfish_emu: ready", flush=True)
    done.wait()
    for srv in servers:
        srv.shutdown()
    for bmc in bmcs:
        bmc.machine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
