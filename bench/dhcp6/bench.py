#!/usr/bin/python3
"""DHCPv6 SARR throughput: ironbootd vs Kea 2.2 (single- and multi-threaded).

Each server runs in its own fresh namespace pair (tests/lib/netlab.py):

    ns srv: srv0 fd00:b007::1/64, server      <-veth->   ns cli: cli0 fd00:b007::2/64, perfdhcp

DAD is off in both namespaces (accept_dad=0 before the veth exists) and the
run waits until both link-local addresses are no longer tentative.  perfdhcp
talks to the server as a client directly on the link (`-l cli0`: multicast
to ff02::1:2 from cli0's global address fd00:b007::2); that mode
works for both servers.  --mode relay (-A 1, unicast to fd00:b007::1) is
there for ironbootd only: Kea, with its subnet bound to interface srv0,
answers none of perfdhcp's relayed messages.  The pool is
fd00:b007::1:0 - fd00:b007::1:ffff (65536 addresses) on every server, and
the rate ramps up (each step one -p PERIOD test) until a step drops >= 1 %
of either exchange (SOLICIT-ADVERTISE, REQUEST-REPLY); a geometric midpoint
between the last pass and the first failure is then tried once.  All steps
are bounded by a total time budget.

Shared helpers (drop ratio, server CPU accounting, the Server base class)
come from bench/dhcp4/bench.py, imported as d4; the ramp is the same policy.

Run via bench/dhcp6/run.sh (root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.dont_write_bytecode = True       # no __pycache__ left in bench/dhcp4
sys.path.insert(0, str(HERE.parent / "dhcp4"))
import bench as d4  # noqa: E402  (bench/dhcp4/bench.py; also puts tests/lib on sys.path)
from bench import netlab  # noqa: E402

SRV, CLI = "fd00:b007::1", "fd00:b007::2"
SUBNET = "fd00:b007::/64"
PREFIX = 64
POOL = ("fd00:b007::1:0", "fd00:b007::1:ffff")
PREFERRED, VALID = 3600, 7200
# Fixed client DUID base: a DUID-LL; perfdhcp writes the client's MAC (the
# -b mac base 00:0c:01:02:03:04, counted up to -R clients) into its last 6
# bytes.  perfdhcp's default is a DUID-LLT stamped with the current time, i.e.
# a new client population per step, which adds up to more clients than the
# pool over a ramp (both servers then run out of addresses); with a DUID-LL
# every step uses the same -R clients, as the DHCPv4 bench does with MACs.
DUID_BASE = "00030001000c01020304"
SECTIONS = (("SOLICIT-ADVERTISE", "sa"), ("REQUEST-REPLY", "rr"))


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------

class Kea6(d4.Kea):
    binary, port = "kea-dhcp6", 547

    def config(self) -> dict:
        return {"Dhcp6": {
            "interfaces-config": {"interfaces": ["srv0"]},
            "data-directory": str(self.work),
            "server-id": {"type": "LLT", "persist": False},
            "preferred-lifetime": PREFERRED,
            "valid-lifetime": VALID,
            "subnet6": [{"id": 1, "subnet": SUBNET, "interface": "srv0",
                         "pools": [{"pool": f"{POOL[0]} - {POOL[1]}"}],
                         "option-data": [{"name": "dns-servers", "data": SRV}]}],
            **self.common("kea-leases6.csv"),
        }}


class Ironboot6(d4.Ironboot):
    def describe(self):
        return (f"ironbootd ({netlab.find_binary(self.build, 'ironbootd')}), "
                f"SQLite store, group commit (from 32 bindings, else after 1 ms)")

    def config(self) -> str:
        return f"""\
server:
  state_dir: {self.work / 'ironboot-state'}
  log_level: notice        # the "ready" line is a notice
  syslog: false
dhcp4:
  enabled: false
dhcp6:
  enabled: true
  interfaces: [srv0]
  relays: ["{CLI}"]        # --mode relay: perfdhcp relays from the cli address
  subnets:
    - subnet: {SUBNET}
      interface: srv0
      pools:
        - {{ start: "{POOL[0]}", end: "{POOL[1]}" }}
      dns: ["{SRV}"]
      preferred_lifetime: {PREFERRED}
      valid_lifetime: {VALID}
tftp:
  enabled: false
http:
  enabled: false
"""

    def stop(self):
        """SIGTERM; a daemon that does not exit within 20 s is SIGKILLed and
        noted (stop_note), rather than losing the steps already measured."""
        self.stop_note = None
        if self.d and self.d.alive():
            t0 = time.monotonic()
            try:
                rc = self.d.stop(timeout=20, expect=None)
                if rc != 0:
                    self.stop_note = f"exited {rc} after SIGTERM"
            except AssertionError:
                self.stop_note = (f"did not exit {time.monotonic() - t0:.0f} s after "
                                  f"SIGTERM; SIGKILLed")

    def pid(self):
        return self.d.pid if self.d else None


# ---------------------------------------------------------------------------
# the namespaces
# ---------------------------------------------------------------------------

def wait_linklocal(lab, ns: str, dev: str, timeout: float = 10.0) -> str:
    """The link-local address of dev once it is no longer tentative."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = lab.run(ns, ["ip", "-6", "-o", "addr", "show", "dev", dev, "scope", "link"]).stdout
        m = re.search(r"inet6 (fe80::[0-9a-f:]+)/64", out)
        if m and "tentative" not in out:
            return m.group(1)
        time.sleep(0.1)
    raise RuntimeError(f"no usable link-local address on {dev}")


def setup_lab(lab):
    srv, cli = lab.netns("srv"), lab.netns("cli")
    for ns in (srv, cli):
        lab.sysctl(ns, "net.ipv6.conf.all.accept_dad", "0")
        lab.sysctl(ns, "net.ipv6.conf.default.accept_dad", "0")
    lab.veth(srv, "srv0", cli, "cli0")
    lab.addr(srv, "srv0", f"{SRV}/{PREFIX}")
    lab.addr(cli, "cli0", f"{CLI}/{PREFIX}")
    wait_linklocal(lab, srv, "srv0")
    wait_linklocal(lab, cli, "cli0")
    return srv, cli


# ---------------------------------------------------------------------------
# the ramp
# ---------------------------------------------------------------------------

def pin_all_threads(pid: int, cpu: int) -> None:
    """Every thread of pid onto one CPU (threads it starts later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {cpu})


def perfdhcp_argv(rate: int, period: int, clients: int, mode: str,
                  cpu: int | None = None) -> list[str]:
    argv = ["taskset", "-c", str(cpu)] if cpu is not None else []
    argv += ["perfdhcp", "-6", "-l", "cli0", "-r", str(rate), "-R", str(clients),
            "-p", str(period), "-W", "1000000", "-b", f"duid={DUID_BASE}"]
    if mode == "relay":
        # one simulated relay, unicast to the server's global address
        argv += ["-A", "1", SRV]
    return argv


def run_step(lab, cli_ns, rate: int, period: int, clients: int, mode: str,
             server_pid: int | None = None, cpu: int | None = None) -> dict:
    argv = perfdhcp_argv(rate, period, clients, mode, cpu)
    t0 = time.monotonic()
    c0 = d4.cpu_ticks(server_pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        p = lab.run(cli_ns, argv, timeout=period + 20)
        out, err, rc = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:     # bounded: a hung perfdhcp ends the step
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err, rc = "perfdhcp timed out", -1
    cpu_s = (d4.cpu_ticks(server_pid) - c0) / os.sysconf("SC_CLK_TCK")
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = d4.parse_perfdhcp(out, SECTIONS)
    # perfdhcp's own CPU over the step's wall time (its drain included):
    # near 100 % of its CPU means the client, not the server, set the pace
    res["client_cpu_pct"] = 100 * (ru1.ru_utime - ru0.ru_utime + ru1.ru_stime
                                   - ru0.ru_stime) / max(time.monotonic() - t0, 1e-3)
    res.update(rate=rate, period=period, rc=rc, wall=time.monotonic() - t0,
               cmd=" ".join(argv))
    if "sa" not in res or "rr" not in res or not res["sa"].get("sent"):
        res["error"] = (out + err)[-800:]
        res["ok"] = False
        return res
    res["drop_pct"] = 100 * max(d4.drop_ratio(res["sa"]), d4.drop_ratio(res["rr"]))
    res["leases_per_s"] = res["rr"].get("recv", 0) / period
    res["cpu_us_per_lease"] = 1e6 * cpu_s / max(res["rr"].get("recv", 0), 1)
    res["ok"] = res["drop_pct"] < 1.0
    if not res["ok"]:
        res["out_tail"] = (out + err)[-1500:]     # for --json: why it failed
    return res


def log_step(name, r):
    if "error" in r:
        print(f"  {name:10s} rate {r['rate']:6d}/s: perfdhcp failed: {r['error'][-300:]}",
              file=sys.stderr, flush=True)
        return
    print(f"  {name:10s} rate {r['rate']:6d}/s{' (retry)' if r.get('retry') else ''}: "
          f"{r['leases_per_s']:8.0f} leases/s, "
          f"drops {r['drop_pct']:.2f}% , SA avg {r['sa'].get('avg', 0):.3f} ms, "
          f"RR avg {r['rr'].get('avg', 0):.3f} ms, server CPU "
          f"{r.get('cpu_us_per_lease', 0):.1f} us/lease, perfdhcp CPU "
          f"{r.get('client_cpu_pct', 0):.0f} %, load {os.getloadavg()[0]:.2f}  "
          f"{'ok' if r['ok'] else 'FAIL'}",
          file=sys.stderr, flush=True)


def bench_server(kind: str, args, work: Path, budget: float) -> dict:
    t_start = time.monotonic()
    steps: list[dict] = []
    with netlab.Lab() as lab:
        srv, cli = setup_lab(lab)
        sdir = work / kind
        sdir.mkdir(parents=True, exist_ok=True)
        if kind == "ironboot":
            server: d4.Server = Ironboot6(lab, srv, sdir, Path(args.build))
        elif kind == "kea":
            server = Kea6(lab, srv, sdir)
        else:
            server = Kea6(lab, srv, sdir, threads=args.kea_threads)
        server.start()
        cpu = None
        if args.placement == "split":
            pin_all_threads(server.pid(), 1)
            cpu = 0
        # warm-up: one short low-rate step, not recorded (ND, allocator, caches)
        w = run_step(lab, cli, 200, 1, 200, args.mode, cpu=cpu)
        if "error" in w:
            log_step(server.name + " warm-up", w)

        def fits():
            return time.monotonic() - t_start + args.period + 4 <= budget

        def step(rate, retry=False):
            r = run_step(lab, cli, rate, args.period, args.clients, args.mode, server.pid(),
                         cpu)
            if retry:
                r["retry"] = True
            r["load1"] = os.getloadavg()[0]
            steps.append(r)
            log_step(server.name, r)
            return r

        last_ok = first_bad = None
        for rate in args.rates:
            if not fits():
                break
            r = step(rate)
            if not r["ok"] and "error" not in r and fits():
                # one retry: a shared host's noise should not end the ramp
                r = step(rate, retry=True)
            if r["ok"]:
                last_ok = r
            else:
                first_bad = r
                break
        # bisect between the last pass and the first failure, to 100/s
        for _ in range(args.refine):
            if not (last_ok and first_bad and fits()):
                break
            mid = (last_ok["rate"] + first_bad["rate"]) // 200 * 100
            if not last_ok["rate"] < mid < first_bad["rate"]:
                break
            r = step(mid)
            if r["ok"]:
                last_ok = r
            else:
                first_bad = r
        alive = True
        if isinstance(server, Ironboot6):
            alive = server.d.alive()
        elif server.proc is not None:
            alive = server.proc.poll() is None
        server.stop()
        stop_note = getattr(server, "stop_note", None)
        if stop_note:
            print(f"  {server.name}: {stop_note}", file=sys.stderr, flush=True)
        desc = server.describe()
    best = max((s for s in steps if s.get("ok")), key=lambda s: s["leases_per_s"], default=None)
    return {"server": kind, "desc": desc, "steps": steps, "best": best,
            "alive_after": alive, "stop_note": stop_note, "seconds": round(time.monotonic() - t_start, 1)}


def ramp_table(results: list[dict]) -> str:
    """rate -> per server: leases/s, drops, avg SA / RR delay (retries in brackets)."""
    rates = sorted({s["rate"] for r in results for s in r["steps"]})
    names = [r["server"] for r in results]
    lines = ["| rate/s | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    for rate in rates:
        cells = []
        for r in results:
            parts = []
            for s in (s for s in r["steps"] if s["rate"] == rate):
                if "error" in s:
                    parts.append("perfdhcp failed")
                    continue
                t = (f"{s['leases_per_s']:.0f}, {s['drop_pct']:.2f} %, "
                     f"{s['sa'].get('avg', 0):.3f} / {s['rr'].get('avg', 0):.3f} ms")
                parts.append(f"(retry {t})" if s.get("retry") else t)
            cells.append(" ".join(parts))
        lines.append(f"| {rate} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    d4.common_args(ap, "SARR", 400)
    ap.add_argument("--mode", choices=("direct", "relay"), default="direct",
                    help="direct: perfdhcp -l cli0 multicast on the link (default); "
                         "relay: -A 1, unicast to the server")
    ap.add_argument("--refine", type=int, default=3,
                    help="bisection steps between the last passing and first failing rate")
    ap.add_argument("--placement", choices=("split", "free"), default="split",
                    help="split: the server's threads on CPU 1, perfdhcp on CPU 0 (each "
                         "server gets one CPU); free: the scheduler decides")
    args = ap.parse_args()
    args.rates = [int(x) for x in args.rates.split(",")]
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]

    if d4.preflight(args, servers, "kea-dhcp6"):
        return 2
    results, t0, load0 = d4.run_servers(args, servers, bench_server, "ib-bench-dhcp6-")

    loads = [s["load1"] for r in results for s in r["steps"] if "load1" in s]
    print()
    print(f"DHCPv6 SARR, perfdhcp -6 {args.mode} mode, -R {args.clients}, -p {args.period} "
          f"per step, placement {args.placement}, pool {POOL[0]}-{POOL[1]}, kernel {os.uname().release}, "
          f"{os.cpu_count()} CPUs, {time.monotonic() - t0:.0f} s total, "
          f"loadavg(1m) {load0[0]:.2f} before / {os.getloadavg()[0]:.2f} after"
          + (f" / {min(loads):.2f}-{max(loads):.2f} during" if loads else ""))
    for r in results:
        if r.get("desc"):
            print(f"  {r['server']}: {r['desc']}")
    if results and results[0].get("steps"):
        print(f"  command: {results[0]['steps'][0]['cmd']}")
    print()
    print(d4.table(results, SECTIONS))
    print()
    print(ramp_table(results))
    d4.print_ratios(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
