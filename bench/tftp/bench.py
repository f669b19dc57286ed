#!/usr/bin/python3
"""TFTP read throughput and request storms: ironbootd vs tftpd-hpa, atftpd, dnsmasq.

One lab (tests/lib/netlab.py), created here and deleted at the end (also on
error, SIGTERM or Ctrl-C):

    ns srv: srv0 198.18.0.10 ironbootd        <-veth->   ns cli: cli0 198.18.0.2
                 198.18.0.11 tftpd-hpa                            198.19.0.1 .. 198.19.0.200
                 198.18.0.12 atftpd                               (storm sources)
                 198.18.0.13 dnsmasq                              tftpload
            (all /15, MTU 1500)

All servers run at the same time, each bound to its own address, and serve
the same root (WORK/root: 1m.bin = 1 MiB and 50m.bin = 50,000,000 random
bytes; ipxe.efi = the real file behind /usr/lib/ipxe/ipxe.efi).  The
measurements are interleaved: every round of every cell goes to each server
in turn (rotating the order), so background load on a shared host hits all
servers alike.  The load generator is bench/tftp/tftpload.c (built by
run.sh); every transfer's bytes are compared with the local copy.

Matrix:
  - single client: {1m, 50m} x blksize {512, 1428, 8192} x windowsize
    {1, 16, 64}; per server the median of --rounds-1m / --rounds-50m
    transfers; MB/s = 10^6 bytes / (last DATA received - RRQ sent);
    per cell also tftpload's own CPU per transfer and the bound it sets
    (client and server share a CPU: no server can beat bytes / client CPU),
    and that bound over the best peer, the largest ratio reachable;
  - storms: 100, 500, 1000 concurrent RRQs of ipxe.efi, blksize 1428,
    windowsize 1 (as PXE firmware asks), sources round-robin over 200 client
    addresses (5 per address at 1000); completion time of the whole storm,
    p50/p99 per transfer, failures, server CPU seconds.
Options a server does not implement show up as what it negotiated (OACK).

CPU placement (--placement, default same-split): servers on CPU 1; tftpload
on CPU 1 for single transfers (lock-step transfers across two vCPUs measure
the VM's cross-CPU wake-up latency, bimodally), on CPU 0 for storms.
Noise: before each storm the driver waits for all servers to go idle, and a
cell or storm round during which anything else used more than --max-other
of the machine is repeated.

Run via bench/tftp/run.sh (root); everything is bounded by --budget.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "lib"))
import netlab  # noqa: E402

CLI = "198.18.0.2"
PREFIX = 15
ADDR = {"ironboot": "198.18.0.10", "tftpd-hpa": "198.18.0.11",
        "atftpd": "198.18.0.12", "dnsmasq": "198.18.0.13"}
ALL_SERVERS = tuple(ADDR)
STORM_SRC_FIRST, STORM_SRC_COUNT = "198.19.0.1", 200
MiB = 1 << 20

FILES = {"1m.bin": 1 * MiB, "50m.bin": 50_000_000}
BLKSIZES = (512, 1428, 8192)
WINDOWS = (1, 16, 64)
STORMS = (100, 500, 1000)
STORM_FILE = "ipxe.efi"
STORM_BLKSIZE = 1428

# client retransmission: as the lab config of ironbootd (timeout_ms 1000, 5 retries)
CLIENT_TIMEOUT_MS = 1000
CLIENT_RETRIES = 5

T0 = time.monotonic()
LOAD_START = os.getloadavg()

# CPU placement (2+ CPUs): every server runs on SERVER_CPU; the client runs
# on the same CPU for single transfers and on the other for storms (see
# --placement).  None: no pinning.
SERVER_CPU: int | None = 1


def log(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def sh(argv, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    return subprocess.run([str(a) for a in argv], **kw)


# ---------------------------------------------------------------------------
# CPU accounting: a cpuacct cgroup per server (tftpd-hpa forks a process per
# transfer, whose CPU time /proc/PID/stat of the listener never shows).
# Accounting only, no limits; removed at the end.
# ---------------------------------------------------------------------------

class CpuAcct:
    def __init__(self, name: str, pid: int):
        self.pid = pid
        self.dir = None
        self.kind = "proc"
        for base, kind in ((Path("/sys/fs/cgroup/cpuacct"), "v1"),
                           (Path("/sys/fs/cgroup/unified"), "v2"),
                           (Path("/sys/fs/cgroup"), "v2")):
            if kind == "v1" and not (base / "cpuacct.usage").exists():
                continue
            if kind == "v2" and not (base / "cgroup.procs").exists():
                continue
            d = base / f"ib-benchtftp-{os.getpid()}-{name}"
            try:
                d.mkdir()
                (d / "cgroup.procs").write_text(f"{pid}\n")
            except OSError:
                try:
                    d.rmdir()
                except OSError:
                    pass
                continue
            self.dir, self.kind = d, kind
            break

    def seconds(self) -> float:
        try:
            if self.kind == "v1":
                return int((self.dir / "cpuacct.usage").read_text()) / 1e9
            if self.kind == "v2":
                for line in (self.dir / "cpu.stat").read_text().splitlines():
                    if line.startswith("usage_usec "):
                        return int(line.split()[1]) / 1e6
            f = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return sum(int(f[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return float("nan")

    def remove(self) -> None:
        if self.dir is None:
            return
        for _ in range(50):
            try:
                self.dir.rmdir()
                self.dir = None
                return
            except OSError:
                time.sleep(0.1)   # last processes still exiting


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------

class Server:
    name = "?"

    def __init__(self, lab: netlab.Lab, ns: str, work: Path, root: Path):
        self.lab, self.ns, self.work, self.root = lab, ns, work, root
        self.addr = ADDR[self.name]
        self.proc: subprocess.Popen | None = None
        self.logf = None
        self.cpu: CpuAcct | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def version(self) -> str:
        return ""

    def start(self) -> None:
        self.logf = open(self.work / f"{self.name}.log", "ab")
        argv = self.argv()
        if SERVER_CPU is not None:
            argv = ["taskset", "-c", str(SERVER_CPU)] + argv   # execs: same pid
        self.proc = self.lab.popen(self.ns, argv, stdin=subprocess.DEVNULL,
                                   stdout=self.logf, stderr=self.logf)
        self.cpu = CpuAcct(self.name, self.proc.pid)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: "
                                   f"{self.log_tail()}")
            out = self.lab.run(self.ns, ["ss", "-Hlun", f"src {self.addr}:69"]).stdout
            out += self.lab.run(self.ns, ["ss", "-Hlun", "src 0.0.0.0:69"]).stdout
            if out.strip():
                time.sleep(0.2)
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not bind port 69: {self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return self.cpu.seconds() if self.cpu else float("nan")

    def stop(self) -> None:
        if self.proc is not None:
            self.lab.kill(self.proc)
        # per-transfer children (tftpd-hpa forks) are in our cgroup: kill them by PID
        if self.cpu and self.cpu.dir:
            try:
                for tok in (self.cpu.dir / "cgroup.procs").read_text().split():
                    try:
                        os.kill(int(tok), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            except OSError:
                pass
            self.cpu.remove()
        if self.logf:
            self.logf.close()
            self.logf = None

    def log_tail(self, n: int = 15) -> str:
        try:
            lines = (self.work / f"{self.name}.log").read_text(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""


class TftpdHpa(Server):
    name = "tftpd-hpa"

    def argv(self):
        # -L foreground, -s chroot to ROOT, -a address:port; forks per transfer
        return ["/usr/sbin/in.tftpd", "-L", "-s", str(self.root), "-a", f"{self.addr}:69"]

    def version(self):
        p = sh(["dpkg-query", "-W", "-f", "${Version}", "tftpd-hpa"])
        return f"tftpd-hpa {p.stdout.strip()} (one process per transfer)"


class Atftpd(Server):
    name = "atftpd"
    binary = Path("atftpd")
    deb_version = "?"

    def argv(self):
        return [str(self.binary), "--daemon", "--no-fork", "--port", "69",
                "--bind-address", self.addr, "--maxthread", "2000",
                "--retry-timeout", "1", "--verbose=1",
                "--logfile", str(self.work / "atftpd.inner.log"),
                "--pidfile", str(self.work / "atftpd.pid"), str(self.root)]

    def version(self):
        return f"atftpd {self.deb_version} (Debian package, one thread per transfer)"


class Dnsmasq(Server):
    name = "dnsmasq"

    def argv(self):
        return ["/usr/sbin/dnsmasq", "--no-daemon", "--port=0", "--enable-tftp",
                f"--tftp-root={self.root}", f"--listen-address={self.addr}",
                "--bind-interfaces", "--conf-file=/dev/null",
                f"--pid-file={self.work / 'dnsmasq.pid'}", "--tftp-max=2000",
                f"--log-facility={self.work / 'dnsmasq.inner.log'}"]

    def version(self):
        p = sh(["/usr/sbin/dnsmasq", "--version"])
        v = p.stdout.split()
        return (f"dnsmasq {v[2]} (Debian dnsmasq-base, single process)"
                if len(v) > 2 else "dnsmasq")


class Ironboot(Server):
    name = "ironboot"
    binary = Path("ironbootd")

    def argv(self):
        state = self.work / "ib-state"
        state.mkdir(exist_ok=True)
        cfg = self.work / "ironboot.yaml"
        # tftp: the values of examples/lab.yaml, bound to this server's address
        cfg.write_text(f"""\
server:
  state_dir: {state}
  log_level: info
  syslog: false
dhcp4:
  enabled: false
boot:
  efi_x64: ipxe.efi
tftp:
  enabled: true
  root: {self.root}
  port: 69
  listen: [{self.addr}]
  max_transfers: 2000
  max_per_client: 8
  timeout_ms: 1000
  max_retries: 5
  max_blksize: 65464
  max_windowsize: 64
  cache_bytes: 268435456
journal:
  max_events: 1000000
  max_age_days: 30
""")
        return [str(self.binary), "--config", str(cfg)]

    def version(self):
        p = sh([self.binary, "--version"])
        v = (p.stdout + p.stderr).strip()
        return (v.splitlines()[0] if v else "ironbootd") + f" ({self.binary})"


# ---------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------

class Runner:
    def __init__(self, lab, cli_ns, tftpload: Path, root: Path, deadline: float):
        self.lab, self.cli, self.tftpload, self.root = lab, cli_ns, tftpload, root
        self.deadline = deadline
        self.client_cpu = 0.0

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def load(self, srv: Server, file: str, n: int, blksize: int, window: int,
             limit_s: float, addrs: str | None = None, label: str = "",
             cpu: int | None = None) -> dict:
        argv = [self.tftpload, "-s", srv.addr, "-f", file, "-n", n, "-R", 1,
                "-b", blksize, "-w", window, "-l", self.root / file,
                "-T", CLIENT_TIMEOUT_MS, "-m", CLIENT_RETRIES, "-t", limit_s,
                "-L", label, "-q"]
        if addrs:
            argv += ["-a", addrs]
        if cpu is not None:
            argv = ["taskset", "-c", cpu] + argv
        p = self.lab.run(self.cli, [str(a) for a in argv], timeout=limit_s + 15)
        rows = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
        if p.returncode not in (0, 1) or not rows:
            raise RuntimeError(f"tftpload failed ({p.returncode}): {p.stderr.strip()}")
        self.client_cpu += rows[0].get("client_cpu_s", 0.0)
        return rows[0]


def cpu_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (/proc/stat)."""
    f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    v = [int(x) for x in f]
    busy = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)   # minus idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU of this driver and its waited-for children (ip netns exec ->
    taskset -> tftpload run as one process each)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def rotated(seq: list, k: int) -> list:
    k %= len(seq)
    return seq[k:] + seq[:k]


def settle(servers: list[Server], args, runner: Runner) -> None:
    """Sleep --storm-pause, then until all servers together use < 2 % of a
    CPU over 0.5 s (at most --settle-max seconds)."""
    time.sleep(args.storm_pause)
    t0 = time.monotonic()

    def total() -> float:
        return sum(c for c in (s.cpu_seconds() for s in servers if s.alive()) if c == c)

    prev = total()
    while time.monotonic() - t0 < min(args.settle_max, max(0.0, runner.left() - 30)):
        time.sleep(0.5)
        cur = total()
        if cur - prev < 0.01:
            return
        prev = cur
    log(f"servers still busy after {time.monotonic() - t0:.1f} s of waiting; going on")


def summarize_single(rows: list[dict]) -> dict:
    ok = [r for r in rows if r["ok"] == 1]
    res = {"rounds": len(rows), "failed": sum(r["failed"] for r in rows),
           "errors": {}, "retrans": sum(r["retrans"] for r in rows),
           "all_MBps": [round(r["mean_xfer_MBps"], 2) for r in ok]}
    for r in rows:
        for k, v in r["errors"].items():
            res["errors"][k] = res["errors"].get(k, 0) + v
    if ok:
        res["MBps"] = statistics.median(r["mean_xfer_MBps"] for r in ok)
        res["ms"] = statistics.median(r["p50_ms"] for r in ok)
        res["blksize"] = ok[0]["blksize"]
        res["windowsize"] = ok[0]["windowsize"]
        # tftpload's own CPU (getrusage: user + system, including the kernel
        # work charged to it) per transfer
        res["client_cpu_s"] = statistics.median(r["client_cpu_s"] for r in ok)
        res["all_client_cpu_s"] = [round(r["client_cpu_s"], 4) for r in ok]
    return res


def speed_of_light(results: dict, names: list[str], f: str, b: int, w: int):
    """The client-CPU bound of a cell: at most this fast for any server.

    Client and server share one CPU in single-client cells, so a transfer
    takes at least the client's own CPU time; an infinitely fast server
    would leave just that: bound = bytes / client CPU per transfer.  The
    client CPU taken is the smallest median among the servers that
    negotiated what was asked (it varies a little with the server: how
    packets batch up), i.e. the most optimistic bound.  Returns
    (client CPU s, bound MB/s) or None."""
    key = f"{f}/{b}/{w}"
    cpu = [c["client_cpu_s"] for c in
           (results.get(s, {}).get("single", {}).get(key, {}) for s in names)
           if c.get("client_cpu_s", 0) > 0 and c.get("blksize") == b
           and c.get("windowsize") == w]
    if not cpu:
        return None
    return min(cpu), FILES[f] / min(cpu) / 1e6


def summarize_storm(rows: list[dict]) -> dict:
    """Median round by completion time (one round: that round)."""
    rows = sorted(rows, key=lambda r: (r["failed"], r["wall_s"]))
    r = dict(rows[(len(rows) - 1) // 2])
    r["rounds"] = len(rows)
    r["all_wall_s"] = [round(x["wall_s"], 3) for x in rows]
    r["all_failed"] = [x["failed"] for x in rows]
    return r


def run_all(servers: list[Server], runner: Runner, args, results: dict) -> None:
    names = [s.name for s in servers]
    for s in servers:
        results.setdefault(s.name, {"single": {}, "storm": {}})
    single_cpu = SERVER_CPU if args.placement in ("same", "same-split") else (
        None if SERVER_CPU is None else 1 - SERVER_CPU)
    storm_cpu = SERVER_CPU if args.placement == "same" else (
        None if SERVER_CPU is None else 1 - SERVER_CPU)
    if args.placement == "free":
        single_cpu = storm_cpu = None
    busy0, t0 = cpu_busy_seconds(), time.monotonic()
    srv0 = {s.name: s.cpu_seconds() for s in servers}
    try:
        run_phases(servers, runner, args, results, single_cpu, storm_cpu)
    finally:
        busy = cpu_busy_seconds() - busy0
        wall = time.monotonic() - t0
        ours = runner.client_cpu + sum(max(0.0, s.cpu_seconds() - srv0[s.name])
                                       for s in servers if s.name in srv0)
        results["_load"] = {"wall_s": wall, "machine_busy_cpu_s": busy,
                            "bench_cpu_s": ours, "cpus": os.cpu_count()}


def run_phases(servers, runner, args, results, single_cpu, storm_cpu) -> None:
    names = [s.name for s in servers]

    def usable():
        """Servers still running; one that crashed is noted and restarted once
        per phase, so the following measurements still have it."""
        out = []
        for s in servers:
            if not s.alive():
                tail = s.log_tail(3)
                results[s.name].setdefault("crashes", []).append(tail)
                log(f"{s.name}: not running (exit {s.proc.returncode if s.proc else '?'}): "
                    f"{tail!r}; restarting")
                s.stop()
                try:
                    s.start()
                except RuntimeError as e:
                    log(f"{s.name}: restart failed: {e}")
                    continue
            out.append(s)
        return out

    # warm-up: every file once from every server (page cache, server caches),
    # then one small storm from all client addresses (neighbour entries)
    for s in servers:
        for f in list(FILES) + [STORM_FILE]:
            if f == "50m.bin" and args.no_50m:
                continue
            r = runner.load(s, f, 1, 1428, 1, 60, label=f"{s.name} warm-up {f}",
                            cpu=single_cpu)
            if r["failed"]:
                log(f"{s.name}: warm-up {f} failed: {r['errors']}")
        r = runner.load(s, STORM_FILE, STORM_SRC_COUNT, STORM_BLKSIZE, 1, 30,
                        addrs=f"{STORM_SRC_FIRST}+{STORM_SRC_COUNT}",
                        label=f"{s.name} warm-up storm", cpu=storm_cpu)
        log(f"{s.name}: warm-up done (storm of {STORM_SRC_COUNT}: {r['ok']} ok, "
            f"{r['wall_s']:.2f} s)")

    # single client
    for f in FILES:
        if f == "50m.bin" and args.no_50m:
            continue
        rounds = args.rounds_1m if f == "1m.bin" else args.rounds_50m
        limit = 10 if f == "1m.bin" else 60
        for b in BLKSIZES:
            for w in WINDOWS:
                key = f"{f}/{b}/{w}"
                rows: dict[str, list] = {n: [] for n in names}
                skip = None
                if f == "50m.bin" and (b, w) in args.skip_50m:
                    skip = "--skip-50m"
                t_cell = time.monotonic()
                for attempt in range(1 + args.cell_retries):
                    rows = {n: [] for n in names}
                    srv0 = {s.name: s.cpu_seconds() for s in servers}
                    own0, busy0, t0 = own_cpu_seconds(), cpu_busy_seconds(), time.monotonic()
                    for rnd in range(rounds):
                        if skip:
                            break
                        # time kept for the storms and the report
                        if runner.left() < args.storm_reserve + args.reserve:
                            skip = "time budget"
                            break
                        for s in rotated(usable(), rnd):
                            rows[s.name].append(runner.load(s, f, 1, b, w, limit,
                                                            label=f"{s.name} {key}",
                                                            cpu=single_cpu))
                    wall = time.monotonic() - t0
                    ours = own_cpu_seconds() - own0 + sum(
                        max(0.0, s.cpu_seconds() - srv0[s.name]) for s in servers
                        if s.name in srv0 and s.alive())
                    other = max(0.0, cpu_busy_seconds() - busy0 - ours) / \
                        (max(wall, 1e-3) * (os.cpu_count() or 1))
                    if skip or other <= args.max_other or attempt == args.cell_retries or \
                            runner.left() < args.storm_reserve + args.reserve + wall:
                        break
                    log(f"{key}: disturbed by other load ({100 * other:.0f}%), repeated")
                srv1 = {s.name: s.cpu_seconds() for s in servers}
                for n in names:
                    if skip and not rows[n]:
                        results[n]["single"][key] = {"skipped": skip}
                    elif rows[n]:
                        results[n]["single"][key] = summarize_single(rows[n])
                        results[n]["single"][key]["other_cpu_share"] = round(other, 3)
                        if n in srv0 and n in srv1:
                            results[n]["single"][key]["server_cpu_s"] = round(
                                (srv1[n] - srv0[n]) / len(rows[n]), 4)
                log(f"{key} ({time.monotonic() - t_cell:.1f} s, other load {100 * other:.0f}%): "
                    + ", ".join(f"{n} {fmt_single(results[n]['single'].get(key), b, w)}"
                                for n in names))

    # storms
    for n in args.storms:
        key = str(n)
        rows = {s.name: [] for s in servers}
        for rnd in range(args.storm_rounds):
            if runner.left() < args.reserve + 5 + n / 50:
                log(f"storm {n} round {rnd + 1}: skipped (time budget)")
                break
            for s in rotated(usable(), rnd):
                # leftovers of the previous storm (e.g. tftpd-hpa processes
                # still retrying towards clients that gave up) must not eat
                # into this one: wait until every server is idle
                settle(servers, args, runner)
                for attempt in range(1 + args.storm_retries):
                    cpu0, busy0, t0 = s.cpu_seconds(), cpu_busy_seconds(), time.monotonic()
                    own0 = own_cpu_seconds()
                    r = runner.load(s, STORM_FILE, n, STORM_BLKSIZE, 1, args.storm_limit,
                                    addrs=f"{STORM_SRC_FIRST}+{STORM_SRC_COUNT}",
                                    label=f"{s.name} storm {n}", cpu=storm_cpu)
                    busy, wall = cpu_busy_seconds() - busy0, time.monotonic() - t0
                    time.sleep(0.3)
                    r["server_cpu_s"] = s.cpu_seconds() - cpu0
                    r["server_alive"] = s.alive()
                    # CPU the rest of the machine used meanwhile (other
                    # processes, plus kernel work outside process context)
                    r["other_cpu_share"] = max(
                        0.0, busy - r["server_cpu_s"] - (own_cpu_seconds() - own0)) \
                        / (wall * (os.cpu_count() or 1))
                    r["attempt"] = attempt + 1
                    log(f"storm {n} {s.name}: {r['ok']}/{n} ok in {r['wall_s']:.3f} s, "
                        f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                        f"retrans {r['retrans']}, server CPU {r['server_cpu_s']:.2f} s, "
                        f"client CPU {r['client_cpu_s']:.2f} s, "
                        f"other load {100 * r['other_cpu_share']:.0f}%"
                        + (f", errors {r['errors']}" if r["errors"] else "")
                        + ("" if r["server_alive"] else ", SERVER DIED"))
                    if (r["other_cpu_share"] <= args.max_other or not r["server_alive"]
                            or attempt == args.storm_retries
                            or runner.left() < args.reserve + 5 + n / 50):
                        break
                    log(f"storm {n} {s.name}: disturbed by other load, repeated")
                    settle(servers, args, runner)
                rows[s.name].append(r)
        for s in servers:
            results[s.name]["storm"][key] = (summarize_storm(rows[s.name]) if rows[s.name]
                                             else {"skipped": "time budget"})


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------

def fmt_single(c: dict | None, req_b: int, req_w: int) -> str:
    if not c:
        return "-"
    if "skipped" in c:
        return f"skipped ({c['skipped']})"
    if "MBps" not in c:
        return f"FAILED ({c['failed']}/{c['rounds']})"
    s = f"{c['MBps']:.1f}"
    notes = []
    if c["blksize"] != req_b:
        notes.append(f"b{c['blksize']}")
    if c["windowsize"] != req_w:
        notes.append(f"w{c['windowsize']}")
    if c["failed"]:
        notes.append(f"{c['failed']}/{c['rounds']} failed")
    if notes:
        s += " (" + ", ".join(notes) + ")"
    return s


def report(results: dict, names: list[str], args) -> str:
    peers = [s for s in names if s != "ironboot"]
    ratio = "ironboot" in names and bool(peers)
    cols = names + (["ironboot / best peer"] if ratio else [])
    sol_cols = ["client CPU ms", "bound MB/s"] + (["bound / best peer"] if peers else [])
    out = [f"Single client, MB/s (10^6 bytes/s; median of {args.rounds_1m} transfers "
           f"for 1m.bin, {args.rounds_50m} for 50m.bin; (bN, wN) = what the server "
           "negotiated when it differs from the request; ratio > 1: ironboot faster; "
           "client CPU = tftpload's own CPU per transfer (user + system, smallest median "
           "among the servers that negotiated what was asked); bound = bytes / client "
           "CPU, the most an infinitely fast server could reach with the client on the "
           "same CPU; bound / best peer = the largest ratio any server could reach):",
           "",
           "| file | blksize | windowsize | " + " | ".join(cols + sol_cols) + " |",
           "|---|---|---|" + "---|" * len(cols + sol_cols)]
    for f in FILES:
        for b in BLKSIZES:
            for w in WINDOWS:
                key = f"{f}/{b}/{w}"
                cells = [fmt_single(results.get(s, {}).get("single", {}).get(key), b, w)
                         for s in names]
                best = [(results[p]["single"][key]["MBps"], p) for p in peers
                        if "MBps" in results.get(p, {}).get("single", {}).get(key, {})]
                if ratio:
                    ib = results.get("ironboot", {}).get("single", {}).get(key, {})
                    if "MBps" in ib and best:
                        bv, bp = max(best)
                        cells.append(f"{ib['MBps'] / bv:.2f} (vs {bp})")
                    else:
                        cells.append("-")
                sol = speed_of_light(results, names, f, b, w)
                cells += [f"{1000 * sol[0]:.1f}", f"{sol[1]:.1f}"] if sol else ["-", "-"]
                if peers:
                    cells.append(f"{sol[1] / max(best)[0]:.2f}" if sol and best else "-")
                out.append(f"| {f} | {b} | {w} | " + " | ".join(cells) + " |")
    out += ["",
            f"Storms: N concurrent RRQs of {STORM_FILE} "
            f"({(args.root / STORM_FILE).stat().st_size} bytes), blksize {STORM_BLKSIZE}, "
            f"windowsize 1, from {STORM_SRC_COUNT} client addresses; completion = first "
            "RRQ sent to last transfer finished; per-transfer times RRQ to last DATA; "
            f"the median of {args.storm_rounds} round(s), ordered by failures then completion "
            "time, is shown (completion: min-max of the rounds in brackets); "
            "ratio < 1: ironboot faster / cheaper (best peer among those without failures):",
            "",
            "| storm | metric | " + " | ".join(cols) + " |",
            "|---|---|" + "---|" * len(cols)]
    metrics = (("completion s", "wall_s", "{:.3f}"), ("p50 ms", "p50_ms", "{:.1f}"),
               ("p99 ms", "p99_ms", "{:.1f}"), ("failed", "failed", "{}"),
               ("client retransmits", "retrans", "{}"),
               ("server CPU s", "server_cpu_s", "{:.2f}"))
    for n in args.storms:
        for label, k, fm in metrics:
            cells = []
            for s in names:
                r = results.get(s, {}).get("storm", {}).get(str(n))
                if not r:
                    cells.append("-")
                elif "skipped" in r:
                    cells.append(f"skipped ({r['skipped']})")
                else:
                    cell = fm.format(r[k])
                    if r.get("rounds", 1) > 1 and k == "wall_s":
                        cell += f" ({min(r['all_wall_s']):.2f}-{max(r['all_wall_s']):.2f})"
                    if r.get("rounds", 1) > 1 and k == "failed" and any(r["all_failed"]):
                        cell += " (rounds: " + ", ".join(map(str, r["all_failed"])) + ")"
                    cells.append(cell)
            if ratio:
                ib = results.get("ironboot", {}).get("storm", {}).get(str(n), {})
                vals = [(results[p]["storm"][str(n)][k], p) for p in peers
                        if k in results.get(p, {}).get("storm", {}).get(str(n), {})
                        and results[p]["storm"][str(n)]["failed"] == 0]
                if k in ("wall_s", "p50_ms", "p99_ms", "server_cpu_s") and k in ib and vals:
                    bv, bp = min(vals)
                    cells.append(f"{ib[k] / bv:.2f} (vs {bp})" if bv > 0 else "-")
                else:
                    cells.append("")
            out.append(f"| {n} | {label} | " + " | ".join(cells) + " |")
    errs = []
    for s in names:
        for sect in ("single", "storm"):
            for key, c in results.get(s, {}).get(sect, {}).items():
                if c.get("errors"):
                    errs.append(f"- {s} {sect} {key}: " +
                                ", ".join(f"{m} x{v}" for m, v in c["errors"].items()))
        for tail in results.get(s, {}).get("crashes", []):
            errs.append(f"- {s}: crashed and was restarted; its last log lines: "
                        + " / ".join(tail.splitlines()))
        if results.get(s, {}).get("died"):
            errs.append(f"- {s}: not running at the end: "
                        + " / ".join(results[s]["died"].splitlines()))
    if errs:
        out += ["", "Failures:"] + errs
    return "\n".join(out)


def ironboot_has_tftp(binary: Path, work: Path) -> tuple[bool, str]:
    """Does this ironbootd accept a tftp: section and link the TFTP server?"""
    if not binary.exists():
        return False, f"{binary} not built"
    probe = work / "probe"
    probe.mkdir(exist_ok=True)
    cfg = probe / "ironboot.yaml"
    cfg.write_text(f"server:\n  state_dir: {probe}\ndhcp4:\n  enabled: false\n"
                   f"tftp:\n  enabled: true\n  root: {work / 'root'}\n  port: 69\n")
    p = sh([binary, "--check-config", cfg])
    if p.returncode != 0:
        return False, f"--check-config rejects a tftp section: {(p.stdout + p.stderr).strip()}"
    p = sh(["nm", binary])
    if p.returncode == 0 and p.stdout and "ib_tftp_server_new" not in p.stdout:
        return False, "ironbootd built without the TFTP server"
    return True, ""


def make_root(root: Path, no_50m: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for f, size in FILES.items():
        if f == "50m.bin" and no_50m:
            continue
        p = root / f
        if not p.exists() or p.stat().st_size != size:
            with open("/dev/urandom", "rb") as src, open(p, "wb") as dst:
                left = size
                while left:
                    chunk = src.read(min(left, 4 * MiB))
                    dst.write(chunk)
                    left -= len(chunk)
    # a symlink into /boot on Debian: copy the real file
    shutil.copyfile(os.path.realpath("/usr/lib/ipxe/ipxe.efi"), root / STORM_FILE)
    os.chmod(root.parent, 0o755)
    os.chmod(root, 0o755)
    for p in root.iterdir():
        os.chmod(p, 0o644)


PLACEMENT_TEXT = {
    "same-split": "servers pinned to CPU 1; tftpload on CPU 1 for single transfers "
                  "(same CPU), on CPU 0 for storms",
    "same": "servers and tftpload pinned to CPU 1",
    "split": "servers pinned to CPU 1, tftpload to CPU 0",
    "free": "no CPU pinning",
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tftpload", required=True, type=Path)
    ap.add_argument("--work", required=True, type=Path, help="scratch directory")
    ap.add_argument("--atftpd", type=Path, help="atftpd binary (extracted .deb)")
    ap.add_argument("--atftpd-version", default="?")
    ap.add_argument("--ironbootd", type=Path,
                    default=netlab.find_binary(netlab.build_dir(), "ironbootd"))
    ap.add_argument("--servers", default=",".join(ALL_SERVERS))
    ap.add_argument("--rounds-1m", type=int, default=7)
    ap.add_argument("--rounds-50m", type=int, default=3)
    ap.add_argument("--storms", default=",".join(map(str, STORMS)))
    ap.add_argument("--storm-rounds", type=int, default=3)
    ap.add_argument("--storm-limit", type=float, default=60.0,
                    help="seconds one storm may take")
    ap.add_argument("--storm-pause", type=float, default=1.0)
    ap.add_argument("--max-other", type=float, default=0.15,
                    help="a storm round during which the rest of the machine used more than "
                         "this share of all CPUs is repeated (see --storm-retries)")
    ap.add_argument("--storm-retries", type=int, default=2)
    ap.add_argument("--cell-retries", type=int, default=1,
                    help="repeats of a single-client cell disturbed the same way")
    ap.add_argument("--settle-max", type=float, default=10.0,
                    help="longest wait for idle servers before a storm")
    ap.add_argument("--storm-reserve", type=float, default=60.0,
                    help="seconds kept for the storms when the matrix runs long")
    ap.add_argument("--no-50m", action="store_true", help="skip the 50 MB file")
    ap.add_argument("--skip-50m", default="",
                    help="blksize/window cells to skip for 50m.bin, e.g. 512/1,512/16")
    ap.add_argument("--budget", type=float, default=440.0, help="seconds for everything")
    ap.add_argument("--reserve", type=float, default=10.0)
    ap.add_argument("--placement", choices=("same-split", "same", "split", "free"),
                    default="same-split",
                    help="CPUs (servers always on CPU 1): same-split = client on CPU 1 for "
                         "single transfers, CPU 0 for storms; same = always CPU 1; "
                         "split = always CPU 0; free = no pinning at all")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--perf", type=Path,
                    help="perf record -g ironbootd for the whole run into this file")
    args = ap.parse_args()
    args.storms = [int(x) for x in args.storms.split(",") if x]
    args.skip_50m = {tuple(map(int, c.split("/"))) for c in args.skip_50m.split(",") if c}
    names = [s for s in args.servers.split(",") if s]
    for s in names:
        if s not in ALL_SERVERS:
            ap.error(f"unknown server {s}")
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2

    global SERVER_CPU
    if args.placement == "free" or (os.cpu_count() or 1) < 2:
        SERVER_CPU = None
        args.placement = "free"
    work = args.work.resolve()
    root = work / "root"
    args.root = root
    make_root(root, args.no_50m)

    if "ironboot" in names:
        ok, why = ironboot_has_tftp(args.ironbootd, work)
        if not ok:
            log(f"ironboot: not benchmarked: {why}")
            names.remove("ironboot")
    if "atftpd" in names and not (args.atftpd and args.atftpd.exists()):
        log("atftpd: binary not given, skipped")
        names.remove("atftpd")
    Ironboot.binary = args.ironbootd.resolve()
    Atftpd.binary = args.atftpd
    Atftpd.deb_version = args.atftpd_version

    results: dict = {}
    servers: list[Server] = []
    perf = None
    notes = []
    with netlab.Lab(prefix="ib") as lab:
        srv_ns = lab.netns("srv")
        cli_ns = lab.netns("cli")
        lab.veth(srv_ns, "srv0", cli_ns, "cli0")
        for n in names:
            lab.addr(srv_ns, "srv0", f"{ADDR[n]}/{PREFIX}")
        lab.addr(cli_ns, "cli0", f"{CLI}/{PREFIX}")
        first = STORM_SRC_FIRST.rsplit(".", 1)[0]
        batch = []
        for i in range(1, STORM_SRC_COUNT + 1):
            a = f"{first}.{i}/{PREFIX}"
            netlab.check_addr(a)
            batch.append(f"addr add {a} dev cli0\n")
        lab.run(cli_ns, [netlab.IP, "-batch", "-"], input="".join(batch), check=True)
        # socket buffer caps: per network namespace on this kernel (inherited
        # from, and not raisable above, the host's); recorded, not changed
        for k in ("net.core.rmem_max", "net.core.wmem_max"):
            p = lab.run(srv_ns, ["sysctl", "-n", k])
            notes.append(f"{k} in the server namespace: {p.stdout.strip()}")

        runner = Runner(lab, cli_ns, args.tftpload, root, T0 + args.budget)
        classes = {"ironboot": Ironboot, "tftpd-hpa": TftpdHpa, "atftpd": Atftpd,
                   "dnsmasq": Dnsmasq}
        try:
            for n in names:
                s = classes[n](lab, srv_ns, work, root)
                try:
                    s.start()
                except RuntimeError as e:
                    log(f"{n}: cannot start: {e}")
                    results[n] = {"single": {}, "storm": {}, "aborted": str(e)}
                    s.stop()
                    continue
                servers.append(s)
                results.setdefault(n, {"single": {}, "storm": {}})["version"] = s.version()
                log(f"{n}: running on {s.addr}:69, pid {s.pid()}: {s.version()}")
            ib = next((s for s in servers if s.name == "ironboot"), None)
            if args.perf and ib:
                perf = subprocess.Popen(["perf", "record", "-g", "-F", "1999",
                                         "-p", str(ib.pid()), "-o", str(args.perf)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            run_all(servers, runner, args, results)
        except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
            log(f"aborted: {e}")
            notes.append(f"run aborted: {e}")
        finally:
            if perf is not None:
                perf.send_signal(signal.SIGINT)
                try:
                    perf.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    perf.kill()
                    perf.wait()
            for s in servers:
                if not s.alive():
                    results[s.name]["died"] = s.log_tail(5)
                s.stop()

    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "placement": args.placement,
            "loadavg_start": LOAD_START,
            "kernel": os.uname().release, "cpus": os.cpu_count(),
            "loadavg_end": os.getloadavg(),
            "servers": {s: results.get(s, {}).get("version", "") for s in names},
            "elapsed_s": round(time.monotonic() - T0, 1), "notes": notes}
    print()
    print(f"# {meta['date']}, kernel {meta['kernel']}, {meta['cpus']} CPUs, "
          f"{meta['elapsed_s']} s, load average at start "
          + " ".join(f"{x:.2f}" for x in meta["loadavg_start"]) + ", at end "
          + " ".join(f"{x:.2f}" for x in meta["loadavg_end"]))
    for s, v in meta["servers"].items():
        print(f"#   {s}: {v}")
    for s in names:
        if results.get(s, {}).get("aborted"):
            print(f"#   {s} NOT RUN: {results[s]['aborted']}")
    print(f"#   placement: {PLACEMENT_TEXT[args.placement]}")
    shares = [c.get("other_cpu_share", 0.0) for n in names
              for sect in ("single", "storm")
              for c in results.get(n, {}).get(sect, {}).values() if isinstance(c, dict)]
    if shares:
        print(f"#   other load (CPU share used by anything but the servers and the driver) "
              f"in the reported cells and storm rounds: median {100 * statistics.median(shares):.0f}%, "
              f"max {100 * max(shares):.0f}% (a cell or storm round above "
              f"{100 * args.max_other:.0f}% is repeated up to {args.cell_retries} / "
              f"{args.storm_retries} times)")
    ld = results.get("_load")
    if ld:
        print(f"#   machine CPU busy during the measurements: {ld['machine_busy_cpu_s']:.0f} "
              f"CPU-s in {ld['wall_s']:.0f} s ({100 * ld['machine_busy_cpu_s'] / ld['wall_s'] / ld['cpus']:.0f}% "
              f"of {ld['cpus']} CPUs); servers + tftpload: {ld['bench_cpu_s']:.0f} CPU-s "
              "(the rest: kernel work outside process context and other processes)")
    for note in notes:
        print(f"#   {note}")
    print()
    print(report(results, [n for n in names if not results.get(n, {}).get("aborted")], args))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
