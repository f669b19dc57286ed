#!/usr/bin/python3
"""DHCPv4 DORA throughput: ironbootd vs Kea 2.2 (single- and multi-threaded).

Each server runs in its own fresh namespace pair (tests/lib/netlab.py):

    ns srv: srv0 198.18.0.1/15, server        <-veth->   ns cli: cli0 198.18.0.2/15, perfdhcp

perfdhcp acts as a relay (giaddr 198.18.0.2, unicast to 198.18.0.1:67), the
pool is 198.19.0.1-198.19.255.254 (65534 addresses) on every server, and the
rate ramps up (each step one -p PERIOD test) until a step drops >= 1 % of
either exchange; a geometric midpoint between the last pass and the first
failure is then tried once.  All steps are bounded by a total time budget.

Run via bench/dhcp4/run.sh (root).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "lib"))
import netlab  # noqa: E402

SRV, CLI = "198.18.0.1", "198.18.0.2"
PREFIX = 15
POOL = ("198.19.0.1", "198.19.255.254")
LEASE_TIME = 7200
SECTIONS = (("DISCOVER-OFFER", "do"), ("REQUEST-ACK", "ra"))    # perfdhcp's exchanges


def parse_perfdhcp(out: str, sections=SECTIONS) -> dict:
    """perfdhcp's statistics per exchange, by the sections' keys:
    {"do": {...}, "ra": {...}} (bench/dhcp6 gives its own sections)."""
    res: dict = {}
    for sect, key in sections:
        m = re.search(r"Statistics for: " + sect + r"\*+\n(.*?)(?:\n\n\*|\Z)", out, re.S)
        if not m:
            continue
        d = {}
        for k, rx in (("sent", r"sent packets: (\d+)"), ("recv", r"received packets: (\d+)"),
                      ("drops", r"drops: (\d+)"), ("min", r"min delay: ([\d.]+) ms"),
                      ("avg", r"avg delay: ([\d.]+) ms"), ("max", r"max delay: ([\d.]+) ms")):
            mm = re.search(rx, m.group(1))
            if mm:
                d[k] = float(mm.group(1))
        res[key] = d
    return res


def drop_ratio(d: dict) -> float:
    return d.get("drops", 0) / d["sent"] if d.get("sent") else 1.0


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------

class Server:
    name = "?"

    def __init__(self, lab: netlab.Lab, ns: str, work: Path):
        self.lab, self.ns, self.work = lab, ns, work

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def describe(self) -> str:
        return self.name

    def pid(self) -> int | None:
        return None


def wait_port(lab, ns, proc, port: int, timeout=15.0):
    """Until the server proc in ns listens on UDP port (67 or 547)."""
    ss = ["ss", "-Hlun6" if port == 547 else "-Hlun", f"sport = :{port}"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        if lab.run(ns, ss).stdout.strip():
            return
        time.sleep(0.1)
    raise RuntimeError(f"server did not bind port {port}")


class Kea(Server):
    """kea-dhcp4 with a memfile that persists every lease; bench/dhcp6's
    Kea6 is this with its binary, port and config."""
    binary, port = "kea-dhcp4", 67

    def __init__(self, lab, ns, work, threads: int = 0):
        super().__init__(lab, ns, work)
        self.threads = threads
        self.name = f"kea-mt{threads}" if threads else "kea"
        self.proc = None

    def describe(self):
        mt = (f"multi-threaded, thread-pool-size {self.threads}, packet-queue-size 64"
              if self.threads else "single-threaded")
        return (f"Kea {kea_version(self.binary)} {self.binary}, memfile persist=true "
                f"lfc-interval=0, {mt}")

    def common(self, leases: str) -> dict:
        """What both families' configs hold: the memfile, threads, logger."""
        return {"lease-database": {"type": "memfile", "persist": True, "lfc-interval": 0,
                                   "name": str(self.work / leases)},
                "multi-threading": {"enable-multi-threading": bool(self.threads),
                                    "thread-pool-size": self.threads or 1,
                                    "packet-queue-size": 64},
                "loggers": [{"name": self.binary, "severity": "WARN",
                             "output_options": [{"output": str(self.work / "kea.log")}]}]}

    def config(self) -> dict:
        return {"Dhcp4": {
            "interfaces-config": {"interfaces": ["srv0"], "dhcp-socket-type": "udp"},
            "valid-lifetime": LEASE_TIME,
            "subnet4": [{"id": 1, "subnet": f"198.18.0.0/{PREFIX}",
                         "pools": [{"pool": f"{POOL[0]} - {POOL[1]}"}],
                         "option-data": [{"name": "routers", "data": SRV}]}],
            **self.common("kea-leases4.csv"),
        }}

    def start(self):
        path = self.work / f"{self.binary}.json"
        path.write_text(json.dumps(self.config(), indent=1))
        env = dict(os.environ, KEA_LOCKFILE_DIR=str(self.work),
                   KEA_PIDFILE_DIR=str(self.work), KEA_LOGGER_DESTINATION=str(self.work / "kea.log"))
        self.out = open(self.work / "kea.stderr", "wb")
        self.proc = self.lab.popen(self.ns, [self.binary, "-c", str(path)], env=env,
                                   stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)
        wait_port(self.lab, self.ns, self.proc, self.port)

    def stop(self):
        if self.proc:
            self.lab.kill(self.proc)
            self.out.close()

    def pid(self):
        return self.proc.pid if self.proc else None


class Ironboot(Server):
    name = "ironboot"

    def __init__(self, lab, ns, work, build: Path):
        super().__init__(lab, ns, work)
        self.build = build
        self.d = None

    def describe(self):
        return f"ironbootd ({netlab.find_binary(self.build, 'ironbootd')}), SQLite store, group commit"

    def config(self) -> str:
        """The config's text; bench/dhcp6's Ironboot6 gives its own."""
        return f"""\
server:
  state_dir: {self.work / 'ironboot-state'}
  log_level: notice        # the "ready" line is a notice
  syslog: false
dhcp4:
  enabled: true
  mode: server
  interfaces: [srv0]
  authoritative: true
  relays: [{CLI}]                   # perfdhcp relays from the cli address
  subnets:
    - subnet: 198.18.0.0/{PREFIX}
      pools:
        - {{ start: {POOL[0]}, end: {POOL[1]} }}
      routers: [{SRV}]
      lease_time: {LEASE_TIME}
tftp:
  enabled: false
"""

    def start(self):
        path = self.work / "ironboot.yaml"
        path.write_text(self.config())
        self.d = netlab.Daemon(self.lab, self.ns, path, build=self.build,
                               log_path=self.work / "ironbootd.stderr")
        self.d.start(timeout=20)

    def stop(self):
        if self.d and self.d.alive():
            self.d.stop()

    def pid(self):
        return self.d.pid if self.d else None


_kea_ver: dict[str, str] = {}


def kea_version(binary: str = "kea-dhcp4") -> str:
    """The version kea-dhcp4 or kea-dhcp6 reports, asked once."""
    if binary not in _kea_ver:
        try:
            _kea_ver[binary] = subprocess.run([binary, "-V"], capture_output=True, text=True,
                                              timeout=10).stdout.split()[0]
        except Exception:
            _kea_ver[binary] = "?"
    return _kea_ver[binary]


# ---------------------------------------------------------------------------
# the ramp
# ---------------------------------------------------------------------------

def cpu_ticks(pid: int | None) -> int:
    """utime + stime of a process, all threads (clock ticks)."""
    if not pid:
        return 0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def run_step(lab, cli_ns, rate: int, period: int, clients: int,
             server_pid: int | None = None) -> dict:
    argv = ["perfdhcp", "-4", "-l", "cli0", "-r", str(rate), "-R", str(clients),
            "-p", str(period), "-W", "1000000", SRV]
    t0 = time.monotonic()
    c0 = cpu_ticks(server_pid)
    p = lab.run(cli_ns, argv, timeout=period + 20)
    cpu_s = (cpu_ticks(server_pid) - c0) / os.sysconf("SC_CLK_TCK")
    res = parse_perfdhcp(p.stdout)
    res.update(rate=rate, period=period, rc=p.returncode, wall=time.monotonic() - t0,
               cmd="perfdhcp " + " ".join(argv[1:]))
    if "do" not in res or "ra" not in res:
        res["error"] = (p.stdout + p.stderr)[-800:]
        res["ok"] = False
        return res
    res["drop_pct"] = 100 * max(drop_ratio(res["do"]), drop_ratio(res["ra"]))
    res["leases_per_s"] = res["ra"]["recv"] / period
    # Server CPU per lease: what the server costs when the client is the limit.
    res["cpu_us_per_lease"] = 1e6 * cpu_s / max(res["ra"]["recv"], 1)
    res["ok"] = res["drop_pct"] < 1.0
    return res


def bench_server(kind: str, args, work: Path, budget: float) -> dict:
    t_start = time.monotonic()
    steps: list[dict] = []
    with netlab.Lab() as lab:
        srv, cli = lab.netns("srv"), lab.netns("cli")
        lab.veth(srv, "srv0", cli, "cli0")
        lab.addr(srv, "srv0", f"{SRV}/{PREFIX}")
        lab.addr(cli, "cli0", f"{CLI}/{PREFIX}")
        sdir = work / kind
        sdir.mkdir(parents=True, exist_ok=True)
        if kind == "ironboot":
            server: Server = Ironboot(lab, srv, sdir, Path(args.build))
        elif kind == "kea":
            server = Kea(lab, srv, sdir)
        else:
            server = Kea(lab, srv, sdir, threads=args.kea_threads)
        server.start()
        # warm-up: one short low-rate step, not recorded (ARP, allocator, caches)
        run_step(lab, cli, 200, 1, 200)

        def fits():
            return time.monotonic() - t_start + args.period + 4 <= budget

        last_ok = first_bad = None
        for rate in args.rates:
            if not fits():
                break
            r = run_step(lab, cli, rate, args.period, args.clients, server.pid())
            steps.append(r)
            log_step(server.name, r)
            if not r["ok"] and "error" not in r and fits():
                # one retry: a shared host's noise should not end the ramp
                r = run_step(lab, cli, rate, args.period, args.clients, server.pid())
                r["retry"] = True
                steps.append(r)
                log_step(server.name, r)
            if r["ok"]:
                last_ok = r
            else:
                first_bad = r
                break
        if last_ok and first_bad and fits():
            mid = int(math.sqrt(last_ok["rate"] * first_bad["rate"]) / 100) * 100
            if last_ok["rate"] < mid < first_bad["rate"]:
                r = run_step(lab, cli, mid, args.period, args.clients, server.pid())
                steps.append(r)
                log_step(server.name, r)
        alive = True
        if isinstance(server, Ironboot):
            alive = server.d.alive()
        server.stop()
        desc = server.describe()
    best = max((s for s in steps if s.get("ok")), key=lambda s: s["leases_per_s"], default=None)
    return {"server": kind, "desc": desc, "steps": steps, "best": best,
            "alive_after": alive, "seconds": round(time.monotonic() - t_start, 1)}


def log_step(name, r):
    if "error" in r:
        print(f"  {name:10s} rate {r['rate']:6d}/s: perfdhcp failed: {r['error'][-200:]}",
              file=sys.stderr, flush=True)
        return
    print(f"  {name:10s} rate {r['rate']:6d}/s{' (retry)' if r.get('retry') else ''}: "
          f"{r['leases_per_s']:8.0f} leases/s, "
          f"drops {r['drop_pct']:.2f}% , DO avg {r['do'].get('avg', 0):.3f} ms, "
          f"RA avg {r['ra'].get('avg', 0):.3f} ms, server CPU "
          f"{r.get('cpu_us_per_lease', 0):.1f} us/lease  {'ok' if r['ok'] else 'FAIL'}",
          file=sys.stderr, flush=True)


def table(results: list[dict], sections=None) -> str:
    """Each server's best step: rate, leases/s, drops, both exchanges'
    delays (sections: their perfdhcp names and keys, DHCPv4's by default;
    bench/dhcp6 gives its own), CPU per lease."""
    (n1, k1), (n2, k2) = sections or SECTIONS
    hdr = ("| server | highest rate with <1% drops (req/s) | leases/s | drops % | "
           f"{n1} min/avg/max ms | {n2} min/avg/max ms | server CPU us/lease |")
    lines = [hdr, "|" + "---|" * 7]
    for r in results:
        b = r.get("best")
        if not b:
            why = r.get("error") or "no step passed"
            lines.append(f"| {r['server']} | — ({why[:60]}) | | | | | |")
            continue
        x, y = b[k1], b[k2]
        lines.append(
            f"| {r['server']} | {b['rate']} | {b['leases_per_s']:.0f} | {b['drop_pct']:.2f} | "
            f"{x.get('min', 0):.3f} / {x.get('avg', 0):.3f} / {x.get('max', 0):.3f} | "
            f"{y.get('min', 0):.3f} / {y.get('avg', 0):.3f} / {y.get('max', 0):.3f} | "
            f"{b.get('cpu_us_per_lease', 0):.1f} |")
    return "\n".join(lines)


def common_args(ap: argparse.ArgumentParser, exchange: str, budget: float) -> None:
    """The options both DHCP benches take (bench/dhcp6 adds its own):
    exchange names a ramp step's unit, budget the default --budget."""
    ap.add_argument("--servers", default="ironboot,kea,kea-mt",
                    help="comma list of ironboot, kea, kea-mt")
    ap.add_argument("--rates", default="1000,2000,4000,8000,16000,32000",
                    help=f"ramp of requested {exchange}/s")
    ap.add_argument("--period", type=int, default=10, help="perfdhcp -p per step (s)")
    ap.add_argument("--clients", type=int, default=50000, help="perfdhcp -R")
    ap.add_argument("--kea-threads", type=int, default=4)
    ap.add_argument("--budget", type=float, default=budget, help="total seconds, all servers")
    ap.add_argument("--build", default=str(netlab.build_dir()))
    ap.add_argument("--json", help="write raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")


def preflight(args, servers: list[str], kea: str) -> bool:
    """Whether the run cannot start (said on stderr): no network namespaces,
    perfdhcp, ss or the Kea binary (unless only ironboot runs) missing.
    Drops ironboot from servers when ironbootd is not built.  bench/dhcp6
    uses it too."""
    ok, why = netlab.netns_available()
    if not ok:
        print(f"cannot run: {why}", file=sys.stderr)
        return True
    for tool in ("perfdhcp", kea, "ss"):
        if not shutil.which(tool) and not (tool == kea and servers == ["ironboot"]):
            print(f"cannot run: {tool} not found", file=sys.stderr)
            return True
    netlab.cleanup_stale()
    if "ironboot" in servers and not netlab.find_binary(Path(args.build), "ironbootd").exists():
        print(f"ironbootd not built in {args.build}; skipping ironboot", file=sys.stderr)
        servers.remove("ironboot")
    return False


def run_servers(args, servers: list[str], bench_server, prefix: str):
    """bench_server(kind, args, work, budget) for each server in turn, each
    given an equal share of what is left of args.budget, in a scratch
    directory /tmp/PREFIX* (kept with --keep); one failing is recorded and
    the others still run.  Returns (results, start time, load before)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    load0 = os.getloadavg()
    t0 = time.monotonic()
    results = []
    try:
        for i, kind in enumerate(servers):
            left = args.budget - (time.monotonic() - t0)
            share = left / (len(servers) - i)
            print(f"== {kind} (budget {share:.0f} s)", file=sys.stderr, flush=True)
            try:
                results.append(bench_server(kind, args, work, share))
            except Exception as e:   # one server failing must not hide the others
                results.append({"server": kind, "error": str(e), "steps": [], "best": None})
                print(f"  {kind}: {e}", file=sys.stderr)
    finally:
        if args.keep:
            print(f"work dir kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return results, t0, load0


def print_ratios(results: list[dict]) -> None:
    """ironboot against the best Kea (leases/s, CPU per lease), and the
    warnings of servers that died or would not stop."""
    ib = next((r["best"] for r in results if r["server"] == "ironboot" and r.get("best")), None)
    keas = [r["best"] for r in results if r["server"].startswith("kea") and r.get("best")]
    if ib and keas:
        bk = max(keas, key=lambda b: b["leases_per_s"])
        print(f"\nironboot / best Kea (leases/s): {ib['leases_per_s'] / bk['leases_per_s']:.2f}")
        lean = min(keas, key=lambda b: b["cpu_us_per_lease"])
        print(f"best Kea / ironboot (server CPU per lease, higher = ironboot cheaper): "
              f"{lean['cpu_us_per_lease'] / max(ib['cpu_us_per_lease'], 1e-9):.2f}")
    for r in results:
        if r.get("alive_after") is False:
            print(f"WARNING: {r['server']} died during the run")
        if r.get("stop_note"):
            print(f"WARNING: {r['server']} {r['stop_note']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_args(ap, "DORA", 290)
    args = ap.parse_args()
    args.rates = [int(x) for x in args.rates.split(",")]
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]

    if preflight(args, servers, "kea-dhcp4"):
        return 2
    results, t0, load0 = run_servers(args, servers, bench_server, "ib-bench-dhcp4-")
    print()
    print(f"DHCPv4 DORA, perfdhcp -4 relay mode, -R {args.clients}, -p {args.period} per step, "
          f"pool {POOL[0]}-{POOL[1]}, kernel {os.uname().release}, "
          f"{os.cpu_count()} CPUs, {time.monotonic() - t0:.0f} s total, "
          f"loadavg(1m) {load0[0]:.2f} before / {os.getloadavg()[0]:.2f} after")
    for r in results:
        if r.get("desc"):
            print(f"  {r['server']}: {r['desc']}")
    print()
    print(table(results))
    print_ratios(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
