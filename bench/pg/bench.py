#!/usr/bin/python3
"""ironbootd against Kea, both on one PostgreSQL (issue #16, "Bench against
Kea"): the storm bench's part (a) (bench/storm/bench.py: ironboot-storm
--until dhcp at fixed rates, a fresh stack in fresh namespaces per step,
the server stack pinned to CPU 0, the simulator to CPU 1) with both lease
stores on the same PostgreSQL 15 server:

  ironbootd  server.store: postgresql://ironboot@/bench?host=<socket dir>
             (group commit: one transaction per batch);
  Kea        lease-database: {type: postgresql, name: bench, host: <socket
             dir>}, its schema from Debian's
             /usr/share/kea/scripts/pgsql/dhcpdb_create.pgsql (one
             transaction per lease; Kea 2.2's default single thread).

The PostgreSQL is tests/lib/pglab.py's (initdb and pg_ctl as nobody in a
temp dir, a Unix socket only, no TCP), with fsync on and
synchronous_commit on: a lease counted is on disk.  Its processes run on
CPU 0 too (taskset on the postmaster; backends inherit it).  Each step
starts on an empty database `bench` (dropped and created again).

Per step: leases/s (acknowledged leases over the period), the rows the
database holds afterwards (durable: every acknowledged lease is a row),
and CPU per lease of the server's processes (its namespace, /proc) and of
PostgreSQL (the postmaster with its reaped children plus its live
backends, /proc) over the measured run.  The ironboot/Kea ratios are
printed per rate.

Bounded (run.sh: `timeout`); namespaces deleted and processes killed by
PID on exit (netlab), PostgreSQL stopped and removed.  Run as root via
bench/pg/run.sh.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "lib"))
import importlib.util  # noqa: E402
import netlab  # noqa: E402
import pglab  # noqa: E402

_spec = importlib.util.spec_from_file_location("storm_bench", REPO / "bench" / "storm" / "bench.py")
storm = importlib.util.module_from_spec(_spec)      # bench/storm/bench.py, reused
_spec.loader.exec_module(storm)

DB = "bench"
KEA_SCHEMA = Path("/usr/share/kea/scripts/pgsql/dhcpdb_create.pgsql")
ROWS = {("ironboot", 4): "SELECT count(*) FROM leases4",
        ("ironboot", 6): "SELECT count(*) FROM leases6",
        ("kea", 4): "SELECT count(*) FROM lease4",
        ("kea", 6): "SELECT count(*) FROM lease6"}


class PgStack(storm.Stack):
    """The storm bench's stack with its lease store on PostgreSQL."""

    def __init__(self, pg: pglab.PgServer, *a):
        super().__init__(*a)
        self.pg = pg

    # the storm bench's configs with the store swapped, nothing else
    def ironboot_config(self, family: int) -> dict:
        cfg = super().ironboot_config(family)
        cfg["server"]["store"] = f"postgresql://{pglab.USER}@/{DB}?host={self.pg.socket_dir}"
        return cfg

    def kea_config(self, family: int) -> dict:
        cfg = super().kea_config(family)
        cfg["Dhcp4" if family == 4 else "Dhcp6"]["lease-database"] = {
            "type": "postgresql", "name": DB, "user": pglab.USER, "host": self.pg.socket_dir}
        return cfg

    def describe(self) -> str:
        return {"ironboot": "ironbootd (PostgreSQL store, group commit)",
                "kea": "Kea 2.2 (PostgreSQL lease backend, single-threaded)"}[self.kind]


def pg_pid(pg: pglab.PgServer) -> int:
    return int((Path(pg.socket_dir) / "data" / "postmaster.pid").read_text().split()[0])


def pg_cpu(pg: pglab.PgServer) -> float:
    """CPU seconds of the postmaster (with its reaped children) and of its
    live children."""
    root = pg_pid(pg)
    ticks = storm.cpu_ticks(root)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == root:
            ticks += storm.cpu_ticks(int(d))
    return ticks / os.sysconf("SC_CLK_TCK")


def fresh_db(pg: pglab.PgServer, kind: str) -> None:
    pg.psql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")
    pg.psql(f"CREATE DATABASE {DB}", db="postgres")
    if kind == "kea":
        env = dict(os.environ, PGHOST=pg.socket_dir, PGUSER=pglab.USER)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", DB, "-f", str(KEA_SCHEMA)],
                       env=env, check=True, capture_output=True, timeout=120)


def step(args, pg, kind: str, family: int, work: Path, i: int, rate: int) -> dict:
    """One rate on a fresh stack and an empty database: the storm bench's
    200-machine warm-up, then rate x period new machines."""
    n = int(rate * args.period)
    fresh_db(pg, kind)
    with netlab.Lab() as lab:
        srv, cli = storm.make_lab(lab)
        st = PgStack(pg, kind, lab, srv, work, args)
        st.start(family)
        try:
            storm.storm(lab, cli, args, family, ["--until", "dhcp", "--rate", str(storm.WARMUP),
                                                 "--machines", str(storm.WARMUP),
                                                 "--mac-base", "52:54:0f:00:00:00"], 30)
            c0, p0 = st.cpu(), pg_cpu(pg)
            rep, _ = storm.storm(lab, cli, args, family,
                                 ["--until", "dhcp", "--rate", str(rate), "--machines", str(n),
                                  "--mac-base", f"52:54:{i + 1:02x}:00:00:00"], args.period + 60)
            cpu, pcpu = st.cpu() - c0, pg_cpu(pg) - p0
        finally:
            st.stop()
    rows = int(pg.psql(ROWS[(kind, family)], db=DB)) - storm.WARMUP   # the warm-up's are there too
    d = rep["stages"]["dhcp"]
    span = max(rep["last_done_s"], args.period)
    ok = max(d["ok"], 1)
    row = {"server": kind, "family": family, "rate": rate, "machines": n,
           "ok": d["ok"], "failed": d["failed"], "failures": d["failures"],
           "retransmits": d["retransmits"], "p50_ms": d["p50_ms"], "p99_ms": d["p99_ms"],
           "rows": rows, "leases_per_s": d["ok"] / span,
           "server_cpu_us_per_lease": 1e6 * cpu / ok, "pg_cpu_us_per_lease": 1e6 * pcpu / ok,
           "cmd": rep["cmd"]}
    row["total_cpu_us_per_lease"] = row["server_cpu_us_per_lease"] + row["pg_cpu_us_per_lease"]
    print(f"  {kind:8s} v{family} rate {rate:6d}: {row['leases_per_s']:7.0f} leases/s, ok {d['ok']} "
          f"failed {d['failed']} retrans {d['retransmits']}, rows {rows}, p99 {d['p99_ms']:.1f} ms, "
          f"CPU/lease: server {row['server_cpu_us_per_lease']:.0f} us + PostgreSQL "
          f"{row['pg_cpu_us_per_lease']:.0f} us = {row['total_cpu_us_per_lease']:.0f} us",
          file=sys.stderr, flush=True)
    return row


def ratios(rows: list[dict]) -> list[dict]:
    """ironboot over Kea at each (family, rate) both ran."""
    out = []
    for r in rows:
        if r["server"] != "ironboot":
            continue
        k = [x for x in rows if x["server"] == "kea" and x["family"] == r["family"] and x["rate"] == r["rate"]]
        if not k:
            continue
        k = k[0]
        q = {"family": r["family"], "rate": r["rate"],
             "leases_per_s": r["leases_per_s"] / max(k["leases_per_s"], 1e-9),
             "cpu_per_lease_kea_over_ironboot": k["total_cpu_us_per_lease"] / max(r["total_cpu_us_per_lease"], 1e-9)}
        out.append(q)
        print(f"  v{q['family']} rate {q['rate']:6d}: ironboot/Kea durable leases/s {q['leases_per_s']:.2f}x, "
              f"CPU per lease (server + PostgreSQL) Kea/ironboot {q['cpu_per_lease_kea_over_ironboot']:.2f}x",
              file=sys.stderr, flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    storm.lab_args(ap, 1)
    ap.add_argument("--servers", default="ironboot,kea")
    ap.add_argument("--families", default="4,6")
    ap.add_argument("--rates", default="1000,2000,4000")
    ap.add_argument("--period", type=int, default=4)
    args = ap.parse_args()
    args.rates = [int(x) for x in args.rates.split(",")]
    if max(args.rates) * args.period + storm.WARMUP > storm.POOL4_SIZE:
        ap.error("--rates x --period: more machines than the DHCPv4 pool's addresses")
    args.storm_bin = netlab.find_binary(Path(args.build), "ironboot-storm")
    work = Path(args.work)
    out = {"load_before": os.getloadavg(), "args": {k: str(v) for k, v in vars(args).items()},
           "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "a": []}
    with pglab.PgServer() as pg:
        subprocess.run(["taskset", "-a", "-cp", storm.SERVER_CPU, str(pg_pid(pg))], check=True,
                       capture_output=True, timeout=10)
        out["postgresql"] = pg.psql("SHOW server_version") + ", fsync " + pg.psql("SHOW fsync") + \
            ", synchronous_commit " + pg.psql("SHOW synchronous_commit")
        print(f"PostgreSQL {out['postgresql']}, on CPU {storm.SERVER_CPU} with the server",
              file=sys.stderr, flush=True)
        for fam in (int(x) for x in args.families.split(",")):
            for kind in args.servers.split(","):
                for i, rate in enumerate(args.rates):
                    d = work / f"{kind}-{fam}-{rate}"
                    d.mkdir(parents=True)
                    row = step(args, pg, kind, fam, d, i, rate)
                    out["a"].append(row)
                    if row["failed"] or row["retransmits"] > 0.01 * row["machines"]:
                        break       # past this server's rate
    out["ratios"] = ratios(out["a"])
    out["load_after"] = os.getloadavg()
    storm.emit(args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
