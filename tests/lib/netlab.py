"""netlab: throw-away network namespaces for ironboot's integration tests.

Everything a Lab creates lives inside network namespaces it created itself;
nothing ever touches the root namespace's interfaces or routes.  Teardown
(context-manager exit, atexit, SIGTERM) kills every process it started (by
PID: SIGTERM, then SIGKILL) plus anything still running inside its
namespaces, then deletes the namespaces.  Teardown is idempotent.

    from netlab import Lab, Daemon
    with Lab() as lab:
        srv = lab.netns("srv")                     # -> "ib1234a-srv"
        cli = lab.netns("cli")
        lab.veth(srv, "srv0", cli, "cli0")
        lab.addr(srv, "srv0", "198.18.0.1/24")
        lab.up(srv, "srv0"); lab.up(cli, "cli0")
        d = Daemon(lab, srv, "/tmp/x/ironboot.yaml").start()
        print(d.cli_json("leases"))
        s = lab.socket(cli)                        # a UDP socket living in ns cli
        with lab.inside(srv): ...                  # this thread inside ns srv

Addresses are restricted to 198.18.0.0/15 and fd00:b007::/48 (plus IPv6
link-local); anything else raises ValueError.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ipaddress
import itertools
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterable, Sequence

__all__ = ["Lab", "Daemon", "LabError", "REPO", "build_dir", "find_binary",
           "netns_available", "require_tool",
           "cleanup_stale", "ALLOWED_NETS", "lab_config"]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "/sbin/ip"

ALLOWED_NETS = (ipaddress.ip_network("198.18.0.0/15"),
                ipaddress.ip_network("fd00:b007::/48"),
                ipaddress.ip_network("fe80::/10"))


def lab_config(name: str = "lab.yaml") -> dict:
    """examples/<name> as a dict, its relative directories made absolute.

    Tests write the config somewhere else (a per-test directory), where the
    daemon would resolve a relative `http.templates` against that directory
    instead of examples/."""
    import yaml  # Debian's python3-yaml; only the tests that build configs need it
    cfg = yaml.safe_load((EXAMPLES / name).read_text())
    http = cfg.get("http")
    if isinstance(http, dict):
        for key in ("templates", "assets"):
            if http.get(key) and not Path(http[key]).is_absolute():
                http[key] = str(EXAMPLES / http[key])
    return cfg


CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

_counter = itertools.count()
_labs: list["Lab"] = []
_lock = threading.Lock()
_NAME_RE = re.compile(r"^ib(\d+)[a-z]+-")


class LabError(RuntimeError):
    pass


def build_dir() -> Path:
    return Path(os.environ.get("IB_BUILD", REPO / "build")).resolve()


def find_binary(build: Path, name: str) -> Path:
    """<build>/<name>, or where meson puts it (<build>/src/{daemon,cli}/<name>)."""
    for c in (build / name, build / "src" / "daemon" / name, build / "src" / "cli" / name):
        if c.exists():
            return c
    return build / name


def _letters(n: int) -> str:
    """0 -> a, 25 -> z, 26 -> ba ...: letters, so "ib<pid><letters>" parses."""
    s = ""
    while True:
        n, r = divmod(n, 26)
        s = chr(ord("a") + r) + s
        if n == 0:
            return s


def recv_until_close(sock, limit: int = 16 * 1024 * 1024) -> bytes:
    """What a stream socket receives until the peer closes (or `limit`
    bytes); the socket's timeout bounds each wait."""
    out = bytearray()
    while len(out) < limit:
        chunk = sock.recv(min(1 << 20, limit - len(out)))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def http_get(lab: "Lab", ns: str, host: str, port: int, path: str,
             timeout: float = 20) -> tuple[int, bytes]:
    """(status, body) of one HTTP/1.1 GET from namespace ns on a fresh
    connection, read until the server closes it."""
    s = lab.socket(ns, socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        out = recv_until_close(s)
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def check_addr(addr: str) -> None:
    """Raise ValueError unless addr (address or CIDR) is inside ALLOWED_NETS."""
    net = ipaddress.ip_network(addr, strict=False)
    if not any(net.version == a.version and net.subnet_of(a) for a in ALLOWED_NETS):
        raise ValueError(f"{addr}: outside the lab ranges "
                         f"(198.18.0.0/15, fd00:b007::/48)")


def _sh(argv: Sequence[str], check: bool = True, timeout: float = 30,
        **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    p = subprocess.run(list(argv), timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise LabError(f"{shlex.join(argv)} -> {p.returncode}: "
                       f"{(p.stderr or '').strip()}")
    return p


def metric(lab: "Lab", ns: str, url: str, line_start: str) -> float | None:
    """The value of the sample whose line starts with line_start in the
    /metrics page at url, fetched with curl inside ns; None if absent."""
    out = lab.run(ns, ["curl", "-sg", url], timeout=10).stdout
    for line in out.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return None


def require_tool(*tools: str) -> None:
    """Fail the calling test (never skip) unless every tool is on PATH: a
    missing client is a failed install step (scripts/deps.sh test)."""
    import shutil
    import pytest
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found on PATH: the test "
                    f"install step (scripts/deps.sh test) failed",
                    pytrace=False)


def netns_available() -> tuple[bool, str]:
    """(ok, reason): can this process create network namespaces?"""
    if os.geteuid() != 0:
        return False, "needs root (network namespaces)"
    if not os.path.exists(IP):
        return False, "iproute2 'ip' not found"
    name = f"ib{os.getpid()}probe"
    try:
        p = _sh([IP, "netns", "add", name], check=False)
        if p.returncode != 0:
            return False, f"ip netns add failed: {p.stderr.strip()}"
        p = _sh([IP, "-n", name, "link", "add", "p0", "type", "veth",
                 "peer", "name", "p1"], check=False)
        ok = p.returncode == 0
        reason = "" if ok else f"veth unavailable: {p.stderr.strip()}"
        return ok, reason
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"ip netns unavailable: {e}"
    finally:
        _sh([IP, "netns", "del", name], check=False)


def cleanup_stale() -> list[str]:
    """Delete lab namespaces left behind by lab processes that no longer exist
    (e.g. after a SIGKILLed pytest).  Only touches names this module creates
    (ib<pid><ctr>-*) whose <pid> is dead."""
    removed = []
    p = _sh([IP, "netns", "list"], check=False)
    for line in (p.stdout or "").splitlines():
        name = line.split()[0] if line.split() else ""
        m = _NAME_RE.match(name)
        if not m or os.path.exists(f"/proc/{m.group(1)}"):
            continue
        _kill_ns_pids(name)
        _sh([IP, "netns", "del", name], check=False)
        removed.append(name)
    return removed


def _kill_pid(pid: int, grace: float = 3.0,
              proc: subprocess.Popen | None = None) -> None:
    """SIGTERM pid, wait up to `grace` s, then SIGKILL.  If proc is the
    Popen owning pid, it is polled (reaped) instead of probed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc is not None:
            if proc.poll() is not None:
                return
        else:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_ns_pids(ns: str) -> None:
    """Kill processes still inside namespace ns (which this lab created, so
    whatever runs there was started by the lab, e.g. a forked dhclient)."""
    p = _sh([IP, "netns", "pids", ns], check=False)
    me = os.getpid()
    for tok in (p.stdout or "").split():
        if tok.isdigit() and int(tok) != me:
            _kill_pid(int(tok), grace=1.0)


def _atexit() -> None:
    for lab in list(_labs):
        lab.close()


atexit.register(_atexit)


def _install_sigterm() -> None:
    """Turn SIGTERM into SystemExit so context managers and atexit run."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        def _h(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, _h)


class Lab:
    """A set of network namespaces (and the processes run in them)."""

    def __init__(self, prefix: str = "ib"):
        self.tag = f"{prefix}{os.getpid()}{_letters(next(_counter))}"
        self._ns: dict[str, str] = {}     # short -> full name, creation order
        self._procs: list[subprocess.Popen] = []
        self.daemons: list["Daemon"] = []     # every ironbootd of this lab
        self._closed = False
        with _lock:
            _labs.append(self)
        _install_sigterm()

    # -- context manager ---------------------------------------------------
    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        try:
            if exc_type is None:
                self.verify_daemons(final=True)
        finally:
            self.close()

    def verify_daemons(self, final: bool = False) -> None:
        """Raise AssertionError if any ironbootd of this lab died without the
        test asking for it, exits non-zero when stopped (final=True stops
        every one still running), or printed a sanitizer report."""
        problems = []
        for d in self.daemons:
            problems += d.problems(final)
        if problems:
            raise AssertionError("\n\n".join(problems))

    # -- namespaces ----------------------------------------------------------
    def netns(self, name: str) -> str:
        """Create namespace <tag>-<name> (lo up) and return its full name."""
        if name in self._ns:
            raise LabError(f"namespace {name} already exists in this lab")
        full = f"{self.tag}-{name}"
        _sh([IP, "netns", "add", full])
        self._ns[name] = full
        _sh([IP, "-n", full, "link", "set", "lo", "up"])
        return full

    def ns(self, name: str) -> str:
        """Full name of a namespace of this lab, given its short or full name."""
        if name in self._ns:
            return self._ns[name]
        if name in self._ns.values():
            return name
        raise LabError(f"{name}: not a namespace of this lab "
                       f"(refusing to touch the root namespace)")

    @property
    def namespaces(self) -> list[str]:
        return list(self._ns.values())

    def ip(self, ns: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run `ip -n NS args...`."""
        return _sh([IP, "-n", self.ns(ns), *args], check=check)

    # -- links ---------------------------------------------------------------
    def veth(self, ns_a: str, if_a: str, ns_b: str, if_b: str,
             up: bool = True) -> None:
        """veth pair if_a (in ns_a) <-> if_b (in ns_b); created directly inside
        the namespaces, never in the root namespace."""
        a, b = self.ns(ns_a), self.ns(ns_b)
        _sh([IP, "-n", a, "link", "add", if_a, "type", "veth",
             "peer", "name", if_b, "netns", b])
        if up:
            self.up(a, if_a)
            self.up(b, if_b)

    def pair(self, a: str = "srv", b: str = "cli", addrs_a: Iterable[str] = (),
             addrs_b: Iterable[str] = ()) -> tuple[str, str]:
        """The common two-namespace lab: namespaces a and b (created here),
        joined by the veth a0 <-> b0, with addrs_a on a0 and addrs_b on b0
        (CIDRs, IPv4 or IPv6).  Returns the namespaces' full names."""
        ns_a, ns_b = self.netns(a), self.netns(b)
        self.veth(ns_a, f"{a}0", ns_b, f"{b}0")
        for ns, ifn, cidrs in ((ns_a, f"{a}0", addrs_a), (ns_b, f"{b}0", addrs_b)):
            for cidr in cidrs:
                self.addr(ns, ifn, cidr)
        return ns_a, ns_b

    def bridge(self, ns: str, name: str, ports: Iterable[str] = (),
               up: bool = True) -> None:
        n = self.ns(ns)
        self.ip(n, "link", "add", name, "type", "bridge",
                "forward_delay", "0", "stp_state", "0")
        for port in ports:
            self.ip(n, "link", "set", port, "master", name)
            if up:
                self.up(n, port)
        if up:
            self.up(n, name)

    def tap(self, ns: str, name: str, up: bool = True) -> None:
        n = self.ns(ns)
        self.ip(n, "tuntap", "add", "dev", name, "mode", "tap")
        if up:
            self.up(n, name)

    def up(self, ns: str, *ifnames: str) -> None:
        for ifn in ifnames:
            self.ip(ns, "link", "set", ifn, "up")

    def down(self, ns: str, *ifnames: str) -> None:
        for ifn in ifnames:
            self.ip(ns, "link", "set", ifn, "down")

    def addr(self, ns: str, ifname: str, cidr: str) -> None:
        check_addr(cidr)
        args = ["addr", "add", cidr, "dev", ifname]
        if ":" in cidr:
            args.append("nodad")
        self.ip(ns, *args)

    def route(self, ns: str, *args: str) -> None:
        """`ip -n NS route add args...`, e.g. route(ns, "198.18.1.0/24", "via",
        "198.18.0.254") or route(ns, "default", "via", "198.18.0.1").
        Any address in args must be inside the lab ranges."""
        for a in args:
            if re.fullmatch(r"[0-9a-fA-F:.]+(/\d+)?", a) and ("." in a or ":" in a):
                check_addr(a)
        v6 = any(":" in a for a in args)
        self.ip(ns, *(["-6"] if v6 else []), "route", "add", *args)

    def mac(self, ns: str, ifname: str) -> str:
        out = self.ip(ns, "-j", "link", "show", ifname).stdout
        return json.loads(out)[0]["address"]

    def set_mac(self, ns: str, ifname: str, mac: str) -> None:
        self.ip(ns, "link", "set", ifname, "address", mac)

    def sysctl(self, ns: str, key: str, value: str) -> None:
        self.run(ns, ["sysctl", "-qw", f"{key}={value}"], check=True)

    # -- in-process access -------------------------------------------------------
    @contextlib.contextmanager
    def inside(self, ns: str):
        """Switch the calling thread into NS for the duration of the block.
        Sockets created inside stay bound to NS afterwards."""
        target = os.open(f"/run/netns/{self.ns(ns)}", os.O_RDONLY | os.O_CLOEXEC)
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            try:
                yield
            finally:
                if _libc.setns(home, CLONE_NEWNET) != 0:
                    # never continue in the wrong namespace
                    os._exit(99)
        finally:
            os.close(target)
            os.close(home)

    def socket(self, ns: str, family: int = socket.AF_INET,
               type: int = socket.SOCK_DGRAM, proto: int = 0) -> socket.socket:
        """A socket created inside NS (bind/connect it as usual)."""
        with self.inside(ns):
            return socket.socket(family, type, proto)

    # -- processes -------------------------------------------------------------
    def _argv(self, ns: str, argv: Sequence[str]) -> list[str]:
        return [IP, "netns", "exec", self.ns(ns), *map(str, argv)]

    def run(self, ns: str, argv: Sequence[str], **kw) -> subprocess.CompletedProcess:
        """subprocess.run inside NS (timeout defaults to 60 s; capture/text on
        by default)."""
        kw.setdefault("timeout", 60)
        if "stdout" not in kw and "stderr" not in kw:
            kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self._argv(ns, argv), **kw)

    def popen(self, ns: str, argv: Sequence[str], **kw) -> subprocess.Popen:
        """subprocess.Popen inside NS; `ip netns exec` execs, so the Popen pid
        is the program's own pid.  Killed by PID at teardown."""
        if self._closed:
            raise LabError("lab is closed")
        p = subprocess.Popen(self._argv(ns, argv), **kw)
        self._procs.append(p)
        return p

    def kill(self, p: subprocess.Popen, grace: float = 3.0) -> int | None:
        """SIGTERM then SIGKILL one tracked process; return its exit status."""
        if p.poll() is None:
            _kill_pid(p.pid, grace, p)
        try:
            return p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    # -- teardown ------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # A second SIGTERM or Ctrl-C (a runner that signals the whole
        # session, then `timeout` forwarding the same) must not cut the
        # clean-up short and leave namespaces and processes behind: they
        # wait, blocked, until it is done.
        held = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            self._close()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def _close(self) -> None:
        for p in reversed(self._procs):
            try:
                if p.poll() is None:
                    _kill_pid(p.pid, 3.0, p)
                p.wait(timeout=5)
            except Exception:
                pass
            for f in (p.stdin, p.stdout, p.stderr):
                try:
                    if f:
                        f.close()
                except Exception:
                    pass
        for full in reversed(list(self._ns.values())):
            try:
                _kill_ns_pids(full)
            except Exception:
                pass
            _sh([IP, "netns", "del", full], check=False)
        self._ns.clear()
        with _lock:
            if self in _labs:
                _labs.remove(self)


class Daemon:
    """ironbootd running in a lab namespace.

        d = Daemon(lab, srv, cfg).start()   # waits for "ready" on stderr
        d.cli("leases"); d.cli_json("leases")
        d.hup(); d.kill9(); d.stop()        # stop() asserts exit status 0
    """

    def __init__(self, lab: Lab, ns: str, config: str | os.PathLike,
                 build: str | os.PathLike | None = None,
                 log_path: str | os.PathLike | None = None,
                 extra_args: Sequence[str] = (), env: dict | None = None):
        self.lab = lab
        self.ns = lab.ns(ns)
        self.config = str(config)
        self.build = Path(build) if build else build_dir()
        self.bin = find_binary(self.build, "ironbootd")
        self.cli_bin = find_binary(self.build, "ironboot")
        self.log_path = Path(log_path) if log_path else \
            Path(self.config).with_suffix(".stderr.log")
        self.extra_args = list(extra_args)
        self.env = env
        self.proc: subprocess.Popen | None = None
        self._logf = None
        self.starts = 0
        # Set while the test itself stopped or killed the process; a daemon
        # that is gone without it died on its own, and that fails the test.
        self._meant_to_stop = False
        self._deaths: list[str] = []      # unexpected exits seen so far
        self._scanned = 0                 # log bytes already searched
        lab.daemons.append(self)

    # -- lifecycle -------------------------------------------------------------
    # The line ironbootd logs once every listener is bound (daemon.c
    # ib_daemon_run).  Matched whole: a bare "ready" also matches any line
    # naming a path under a test's tmp dir such as test_readyz_..., which
    # returned from start() before the HTTP listener was bound.
    READY = r"notice: ironbootd \S+ ready \(config "

    def start(self, timeout: float = 10.0, ready: str | None = None) -> "Daemon":
        """Start the daemon; return once its log says it is ready (the
        READY line, or the substring ready when given)."""
        if self.proc is not None and self.proc.poll() is None:
            raise LabError("daemon already running")
        if not self.bin.exists():
            raise LabError(f"{self.bin} not built")
        self._note_death()
        self._meant_to_stop = False
        offset = self.log_size()
        self._logf = open(self.log_path, "ab")
        # A test runner under systemd (a CI service) must not send the
        # daemons' logs to the host's journal (log_journald.h): only a
        # test that sets these itself gets them.
        env = {k: v for k, v in os.environ.items()
               if k not in ("INVOCATION_ID", "JOURNAL_STREAM")}
        env.update(self.env or {})
        self.proc = self.lab.popen(
            self.ns, [str(self.bin), "--config", self.config, *self.extra_args],
            stdin=subprocess.DEVNULL, stdout=self._logf, stderr=self._logf,
            env=env)
        self.starts += 1
        self.wait_log(ready or self.READY, timeout=timeout, since=offset,
                      regex=ready is None)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start_fails(self, timeout: float = 10.0) -> int:
        """Start a daemon the test expects to refuse to start; return its
        exit status (the test asserts on it and on the log)."""
        try:
            self.start(timeout=timeout)
        except LabError:
            pass
        else:
            raise AssertionError(f"ironbootd started but should not have\n"
                                 f"{self.log_tail()}")
        self._meant_to_stop = True
        rc = self.proc.wait(timeout=5)
        self._close_log()
        return rc

    def stop(self, timeout: float = 10.0, expect: int | None = 0) -> int:
        """SIGTERM, wait; assert the exit status is `expect` (0 by default)."""
        assert self.proc is not None, "daemon never started"
        self._note_death()
        self._meant_to_stop = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError(f"ironbootd did not exit {timeout}s after "
                                 f"SIGTERM\n{self.log_tail()}")
        self._close_log()
        if expect is not None:
            assert rc == expect, (f"ironbootd exited {rc} (wanted {expect})\n"
                                  f"{self.log_tail()}")
        return rc

    def kill9(self) -> None:
        assert self.proc is not None
        self._note_death()
        self._meant_to_stop = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close_log()

    def hup(self) -> None:
        assert self.alive(), "daemon not running"
        self.proc.send_signal(signal.SIGHUP)

    # -- health ----------------------------------------------------------------
    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer",
                       "AddressSanitizer:DEADLYSIGNAL", "ThreadSanitizer")

    def _note_death(self) -> None:
        """Remember an exit the test did not ask for (before a restart
        replaces self.proc)."""
        if (self.proc is not None and not self._meant_to_stop
                and self.proc.poll() is not None):
            self._deaths.append(
                f"ironbootd (pid {self.proc.pid}) died during the test with "
                f"status {self.proc.returncode}\n{self.log_tail()}")
            self._meant_to_stop = True    # reported once

    def problems(self, final: bool = False) -> list[str]:
        """What is wrong with this daemon so far: unexpected exits, a
        non-zero exit on SIGTERM (final: stops it if still running), and
        sanitizer reports anywhere in its log."""
        self._note_death()
        out = list(self._deaths)
        self._deaths.clear()
        if final and self.proc is not None and self.proc.poll() is None:
            try:
                self.stop()
            except AssertionError as e:
                out.append(str(e))
        # Start a little before the last scan so a mark cut by a write
        # boundary is still seen; a report is listed once.
        since = max(0, self._scanned - 64)
        size = self.log_size()
        text = self.log(since)
        self._scanned = size
        for mark in self.SANITIZER_MARKS:
            i = text.find(mark)
            if i >= 0:
                out.append(f"sanitizer report in {self.log_path}:\n"
                           f"{text[max(0, i - 200):i + 3000]}")
                break
        return out

    def _close_log(self) -> None:
        if self._logf:
            self._logf.close()
            self._logf = None

    # -- log ---------------------------------------------------------------------
    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log(self, since: int = 0) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(since)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, n: int = 40) -> str:
        return "--- ironbootd stderr (tail) ---\n" + \
            "\n".join(self.log().splitlines()[-n:])

    def wait_log(self, pattern: str, timeout: float = 10.0, since: int = 0,
                 regex: bool = False) -> str:
        """Wait until a log line (after byte offset `since`) contains pattern;
        return that line.  Fails early if the daemon exits."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern) if regex else None
        while True:
            for line in self.log(since).splitlines():
                if (rx.search(line) if rx else pattern in line):
                    return line
            if self.proc is not None and self.proc.poll() is not None:
                raise LabError(f"ironbootd exited ({self.proc.returncode}) "
                               f"before {pattern!r}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise LabError(f"timeout waiting for {pattern!r} in ironbootd "
                               f"stderr\n{self.log_tail()}")
            time.sleep(0.05)

    # -- CLI -----------------------------------------------------------------------
    def cli_run(self, *args: str, ns: str | None = None,
                timeout: float = 30) -> subprocess.CompletedProcess:
        argv = [str(self.cli_bin), "--config", self.config, *map(str, args)]
        return self.lab.run(ns or self.ns, argv, timeout=timeout)

    def cli(self, *args: str, check: bool = True, **kw) -> str:
        p = self.cli_run(*args, **kw)
        if check and p.returncode != 0:
            raise LabError(f"ironboot {shlex.join(map(str, args))} -> "
                           f"{p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p.stdout

    def events_when(self, pred, *args: str, timeout: float = 3.0) -> list:
        """`ironboot --json events ARGS` once pred(events) holds, or as last
        read after timeout s: the journal stores what the daemon queued on
        a timer (a fraction of a second), so an event journalled by the
        request just answered may not be stored yet."""
        deadline = time.monotonic() + timeout
        while True:
            evs = self.cli_json("events", *args)
            if pred(evs) or time.monotonic() > deadline:
                return evs
            time.sleep(0.1)

    def cli_json(self, *args: str, **kw):
        # global option, before the command: ironboot [--config F] --json CMD ...
        out = self.cli("--json", *args, **kw)
        try:
            return json.loads(out)
        except json.JSONDecodeError as e:
            raise LabError(f"ironboot {' '.join(args)} --json: bad JSON ({e}):\n"
                           f"{out[:2000]}")

    def check_config(self, path: str | os.PathLike | None = None
                     ) -> subprocess.CompletedProcess:
        """`ironbootd --check-config FILE` (run in the daemon's namespace)."""
        return self.lab.run(self.ns, [str(self.bin), "--check-config",
                                      str(path or self.config)], timeout=30)
