#!/usr/bin/python3
"""Leases at scale: ironbootd (SQLite store) vs Kea 2.2 (memfile), the same
synthetic DHCPv4 lease set loaded at start, side by side in one run.

No lease traffic: N unexpired, active leases are written straight into a
fresh state dir's SQLite store (one transaction, one prepared INSERT) and
into the matching Kea lease4 CSV.  Each server is then started cold
(a new process; the files are in the page cache) RESTARTS times, and for
each start the script measures

  * time to serving: from just before exec until the first OFFER answers
    a relayed DISCOVER that the probe repeats every 10 ms (a real DHCP
    exchange, so both servers are held to the same proof); for ironbootd
    also until its "ready" log line;
  * memory: VmRSS when serving and again SETTLE seconds later, and VmHWM
    (the peak), from /proc/PID/status.

On a loaded host, --rt CPU runs each server pinned to one CPU under
SCHED_FIFO 1, so the wall clock shows what a server takes when it has a
CPU (the probe itself still runs at normal priority).

Then, on ironbootd with the lease set loaded, it times GET /metrics and
GET /api/v1/pools (past the 1 s metrics cache each time).

One throw-away namespace pair (tests/lib/netlab.py), 198.18.0.0/15 only
on the wire:
    srv: srv0 198.18.0.1/15   (the server under test, one at a time)
    cli: cli0 198.18.0.2/15   (the probe, a relay: giaddr 198.18.0.2)
The probe's DISCOVERs are served from 198.19.0.0/16 (an empty pool).  The
synthetic leases live in a second subnet, 10.0.0.0/12, which is only
configured, never on an interface: its addresses are in the two servers'
files and memory, and no packet carries them.  Servers are killed by PID,
the namespaces and scratch files deleted on exit.

Run via bench/store/run.sh (root).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import socket
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "lib"))
import netlab  # noqa: E402
import yaml  # noqa: E402

SRV, CLI = "198.18.0.1", "198.18.0.2"
PROBE_POOL = ("198.19.0.1", "198.19.255.254")
BIG_NET = ipaddress.ip_network("10.0.0.0/12")      # 1,048,574 hosts


def big_pools(k: int) -> list[tuple[str, str]]:
    """The synthetic subnet's hosts as k pools of (nearly) equal size."""
    first, last = int(BIG_NET.network_address) + 1, int(BIG_NET.broadcast_address) - 1
    size = (last - first + 1) // k
    ends = [(first + i * size, first + (i + 1) * size - 1) for i in range(k)]
    ends[-1] = (ends[-1][0], last)
    return [(str(ipaddress.IPv4Address(a)), str(ipaddress.IPv4Address(b))) for a, b in ends]

BIG_SUBNET_ID = 2                                   # Kea's subnet-id for it
LEASE_TIME = 86400
TOKEN = "store-bench-token-0123456789abcdef"
MAX_LEASES = BIG_NET.num_addresses - 2


def mac_of(i: int) -> bytes:
    return bytes([0x52, 0x54, 0, i >> 16 & 255, i >> 8 & 255, i & 255])


def lease_rows(n: int, now: int):
    """(address, mac, hostname) of synthetic lease i: distinct clients."""
    first = int(BIG_NET.network_address) + 1
    for i in range(n):
        yield first + i, mac_of(i), f"node-{i}"


# ---------------------------------------------------------------------------
# the probe: one relayed DISCOVER every 10 ms until an OFFER comes back
# ---------------------------------------------------------------------------

def discover(xid: int) -> bytes:
    """A relayed DISCOVER (RFC 2131 4.1: giaddr set, hops 1), options 53, 255."""
    mac = bytes([0x02, 0, 0, 0xbe, 0xe0, 1])
    p = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1, xid, 0, 0, bytes(4),
                    bytes(4), bytes(4), socket.inet_aton(CLI), mac.ljust(16, b"\0"),
                    b"", b"")
    return p + b"\x63\x82\x53\x63" + bytes([53, 1, 1, 255])


def is_offer(data: bytes, xid: int) -> bool:
    if len(data) < 244 or data[0] != 2 or struct.unpack("!I", data[4:8])[0] != xid:
        return False
    return bytes([53, 1, 2]) in data[240:]


class Probe:
    def __init__(self, lab: netlab.Lab, ns: str):
        self.s = lab.socket(ns, socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((CLI, 67))
        self.s.setblocking(False)

    def close(self) -> None:
        self.s.close()

    def drain(self) -> None:
        self.s.setblocking(False)
        try:
            while self.s.recv(4096):
                pass
        except BlockingIOError:
            pass

    def poll(self, xid: int) -> bool:
        """Sends one DISCOVER, waits up to 10 ms for its OFFER."""
        try:
            self.s.sendto(discover(xid), (SRV, 67))
        except OSError:
            pass                    # ICMP port unreachable while nobody listens
        deadline = time.monotonic() + 0.010
        while (left := deadline - time.monotonic()) > 0:
            self.s.settimeout(left)
            try:
                if is_offer(self.s.recv(4096), xid):
                    return True
            except (socket.timeout, BlockingIOError, ConnectionRefusedError):
                pass
        return False


def proc_cpu(stat: str) -> float:
    """CPU seconds (user + system) used so far, from a /proc .../stat file:
    /proc/PID/stat the process's, /proc/PID/task/PID/stat its main thread's."""
    f = Path(stat).read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem(pid: int) -> dict:
    """VmRSS and VmHWM of pid, in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0]) / 1024
    return out


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------

class Ironboot:
    name = "ironboot"
    prefix: list[str] = []          # taskset/chrt before the server (--rt)
    READY = re.compile(netlab.Daemon.READY.encode())

    def __init__(self, lab, ns, work: Path, build: Path, pools: int):
        self.lab, self.ns, self.work, self.build = lab, ns, work, build
        self.pools = pools
        self.cfg = self.config()
        self.bin = netlab.find_binary(build, "ironbootd")
        self.proc = None

    def describe(self) -> str:
        return f"ironbootd ({self.bin}), SQLite store (WAL)"

    def config(self) -> Path:
        cfg = netlab.lab_config()
        cfg["server"].update(state_dir=str(self.work / "state"), log_level="notice")
        probe = {"subnet": "198.18.0.0/15",
                 "pools": [{"start": PROBE_POOL[0], "end": PROBE_POOL[1]}],
                 "routers": [SRV], "lease_time": LEASE_TIME,
                 "relays": [CLI]}       # the probe relays from the cli address
        big = {"subnet": str(BIG_NET),
               "pools": [{"start": a, "end": b} for a, b in big_pools(self.pools)],
               "lease_time": LEASE_TIME}
        cfg["dhcp4"]["subnets"] = [probe, big]
        cfg["dhcp6"] = {"enabled": False}
        cfg["tftp"]["enabled"] = False
        cfg["http"]["listen"] = [SRV]
        cfg["http"]["api_token_file"] = str(self.work / "token")
        (self.work / "token").write_text(TOKEN + "\n")
        (self.work / "token").chmod(0o600)
        path = self.work / "ironboot.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return path

    def prepare(self, n: int, now: int) -> str:
        """Creates the store (one daemon start), then writes n leases."""
        d = netlab.Daemon(self.lab, self.ns, self.cfg, build=self.build,
                          log_path=self.work / "ironbootd.init.log")
        d.start(timeout=30)
        d.stop()
        db = self.work / "state" / "ironboot.db"
        con = sqlite3.connect(db)
        with con:
            con.executemany(
                "INSERT INTO leases4 (address, subnet, htype, hwaddr, client_id, hostname,"
                " cltt, expires, state) VALUES (?, ?, 1, ?, NULL, ?, ?, ?, 1)",
                ((a, int(BIG_NET.network_address), mac, host, now, now + LEASE_TIME)
                 for a, mac, host in lease_rows(n, now)))
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        return f"{db.stat().st_size / 2**20:.0f} MiB SQLite file"

    def start(self) -> int:
        self.log = self.work / "ironbootd.log"
        self.logf = open(self.log, "wb")
        argv = [*self.prefix, str(self.bin), "--config", str(self.cfg)]
        self.proc = self.lab.popen(self.ns, argv,
                                   stdin=subprocess.DEVNULL, stdout=self.logf,
                                   stderr=self.logf)
        return self.proc.pid

    def ready(self) -> bool:
        return bool(self.READY.search(self.log.read_bytes()))

    def stop(self) -> None:
        self.lab.kill(self.proc, grace=20)
        self.logf.close()


class Kea:
    name = "kea"
    prefix: list[str] = []
    ready = None

    def __init__(self, lab, ns, work: Path, pools: int):
        self.lab, self.ns, self.work = lab, ns, work
        self.pools = pools
        self.csv = work / "kea-leases4.csv"
        self.proc = None

    def describe(self) -> str:
        v = subprocess.run(["kea-dhcp4", "-V"], capture_output=True, text=True).stdout
        return f"Kea {v.split()[0] if v else '?'} kea-dhcp4, memfile persist=true lfc-interval=0"

    def prepare(self, n: int, now: int) -> str:
        with open(self.csv, "w") as f:
            f.write("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,"
                    "fqdn_fwd,fqdn_rev,hostname,state,user_context\n")
            for a, mac, host in lease_rows(n, now):
                f.write(f"{ipaddress.IPv4Address(a)},{mac.hex(':')},,{LEASE_TIME},"
                        f"{now + LEASE_TIME},{BIG_SUBNET_ID},0,0,{host},0,\n")
        cfg = {"Dhcp4": {
            "interfaces-config": {"interfaces": ["srv0"], "dhcp-socket-type": "udp"},
            "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 0,
                               "name": str(self.csv)},
            "valid-lifetime": LEASE_TIME,
            "subnet4": [
                {"id": 1, "subnet": "198.18.0.0/15",
                 "pools": [{"pool": f"{PROBE_POOL[0]} - {PROBE_POOL[1]}"}],
                 "option-data": [{"name": "routers", "data": SRV}]},
                {"id": BIG_SUBNET_ID, "subnet": str(BIG_NET),
                 "pools": [{"pool": f"{a} - {b}"} for a, b in big_pools(self.pools)]}],
            "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                         "output_options": [{"output": str(self.work / "kea.log")}]}],
        }}
        self.cfg = self.work / "kea-dhcp4.json"
        self.cfg.write_text(json.dumps(cfg, indent=1))
        return f"{self.csv.stat().st_size / 2**20:.0f} MiB CSV file"

    def start(self) -> int:
        env = dict(os.environ, KEA_LOCKFILE_DIR=str(self.work),
                   KEA_PIDFILE_DIR=str(self.work),
                   KEA_LOGGER_DESTINATION=str(self.work / "kea.log"))
        self.out = open(self.work / "kea.stderr", "wb")
        self.proc = self.lab.popen(self.ns, [*self.prefix, "kea-dhcp4", "-c", str(self.cfg)],
                                   env=env,
                                   stdin=subprocess.DEVNULL, stdout=self.out,
                                   stderr=self.out)
        return self.proc.pid

    def stop(self) -> None:
        self.lab.kill(self.proc, grace=20)
        self.out.close()
        log = self.work / "kea.log"
        bad = [line for line in log.read_text(errors="replace").splitlines()
               if " WARN " in line or " ERROR " in line] if log.exists() else []
        if bad:
            print(f"  kea.log: {len(bad)} warnings/errors so far, the first: {bad[0][:200]}")


# ---------------------------------------------------------------------------
# one cold start
# ---------------------------------------------------------------------------

def cold_start(server, probe: Probe, settle: float, timeout: float) -> dict:
    probe.drain()
    xid = int.from_bytes(os.urandom(4), "big")
    t0 = time.monotonic()
    pid = server.start()
    res: dict = {}
    while time.monotonic() - t0 < timeout:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode}")
        if server.ready and "ready_s" not in res and server.ready():
            res["ready_s"] = time.monotonic() - t0
        if probe.poll(xid):
            res["serving_s"] = time.monotonic() - t0
            break
    else:
        server.stop()
        raise RuntimeError(f"{server.name}: no OFFER within {timeout:g} s")
    if server.ready and "ready_s" not in res and server.ready():
        res["ready_s"] = res["serving_s"]
    res["cpu_s"] = proc_cpu(f"/proc/{pid}/stat")
    res["main_cpu_s"] = proc_cpu(f"/proc/{pid}/task/{pid}/stat")
    res["rss_serving"] = proc_mem(pid)["VmRSS"]
    time.sleep(settle)
    m = proc_mem(pid)
    res["rss"], res["hwm"] = m["VmRSS"], m["VmHWM"]
    return res


def scrape(lab, ns: str, work: Path, rounds: int) -> dict:
    """Median and max seconds of GET /metrics and /api/v1/pools."""
    out = {}
    for path in ("/metrics", "/api/v1/pools"):
        ts = []
        for _ in range(rounds):
            time.sleep(1.2)            # past the metrics cache (1 s)
            p = lab.run(ns, ["curl", "-sS", "--max-time", "60", "-o", str(work / "body"),
                             "-w", "%{http_code} %{time_total}",
                             "-H", f"Authorization: Bearer {TOKEN}",
                             f"http://{SRV}:8080{path}"], timeout=90)
            code, t = p.stdout.split()
            if code != "200":
                raise RuntimeError(f"GET {path}: {code}")
            ts.append(float(t))
        body = (work / "body").read_text()
        out[path] = {"median_s": statistics.median(ts), "max_s": max(ts), "body": body}
    return out


def summary(name: str, runs: list[dict]) -> dict:
    med = {k: statistics.median(r[k] for r in runs)
           for k in ("serving_s", "cpu_s", "main_cpu_s", "rss_serving", "rss", "hwm")}
    if all("ready_s" in r for r in runs):
        med["ready_s"] = statistics.median(r["ready_s"] for r in runs)
    return med


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--leases", type=int, default=1_000_000)
    ap.add_argument("--servers", default="ironboot,kea", help="comma list of ironboot, kea")
    ap.add_argument("--restarts", type=int, default=3, help="cold starts per server")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds after serving until the second RSS reading")
    ap.add_argument("--scrapes", type=int, default=3)
    ap.add_argument("--pools", type=int, default=1,
                    help="pools the synthetic subnet is split into (each counted on a scrape)")
    ap.add_argument("--rt", metavar="CPU", type=int,
                    help="run each server pinned to CPU under SCHED_FIFO 1 (taskset, chrt): "
                         "on a loaded host, the time a server takes when it has that CPU")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    if not 0 < args.leases <= MAX_LEASES or not 0 < args.restarts <= 10 \
            or not 0 <= args.settle <= 30 or not 0 <= args.scrapes <= 20 \
            or not 0 < args.pools <= 256:
        ap.error(f"--leases 1..{MAX_LEASES}, --restarts 1..10, --settle 0..30, "
                 f"--scrapes 0..20, --pools 1..256")
    servers = args.servers.split(",")
    if args.rt is not None:
        if not 0 <= args.rt < os.cpu_count():
            ap.error(f"--rt: no CPU {args.rt}")
        Ironboot.prefix = Kea.prefix = ["taskset", "-c", str(args.rt), "chrt", "-f", "1"]
    build = netlab.build_dir()
    now = int(time.time())
    results = {}
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="ib-store-bench-") as tmp, netlab.Lab() as lab:
        srv, cli = lab.pair(addrs_a=[f"{SRV}/15"], addrs_b=[f"{CLI}/15"])
        probe = Probe(lab, cli)
        try:
            for kind in servers:
                work = Path(tmp) / kind
                work.mkdir()
                server = Ironboot(lab, srv, work, build, args.pools) if kind == "ironboot" \
                    else Kea(lab, srv, work, args.pools)
                t = time.monotonic()
                what = server.prepare(args.leases, now)
                t = time.monotonic() - t
                print(f"{kind}: {server.describe()}\n  wrote {args.leases} leases "
                      f"({what}) in {t:.1f} s", flush=True)
                runs = []
                for i in range(args.restarts):
                    r = cold_start(server, probe, args.settle, timeout=240)
                    if kind == "ironboot" and i == args.restarts - 1 and args.scrapes:
                        r["scrape"] = scrape(lab, cli, work, args.scrapes)
                    server.stop()
                    runs.append(r)
                    print(f"  start {i + 1}: serving {r['serving_s']:.2f} s"
                          + (f" (ready line {r['ready_s']:.2f} s)" if "ready_s" in r else "")
                          + f", CPU {r['cpu_s']:.2f} s (main thread {r['main_cpu_s']:.2f} s), "
                          f"VmRSS {r['rss_serving']:.0f} MiB at serving, "
                          f"{r['rss']:.0f} MiB +{args.settle:g} s, VmHWM {r['hwm']:.0f} MiB",
                          flush=True)
                results[kind] = {"describe": server.describe(), "runs": runs,
                                 "median": summary(kind, runs)}
                for path, sc in runs[-1].get("scrape", {}).items():
                    print(f"  GET {path}: median {sc['median_s'] * 1000:.1f} ms, "
                          f"max {sc['max_s'] * 1000:.1f} ms over {args.scrapes}")
                    if path == "/metrics":
                        used = [int(line.rsplit(None, 1)[1]) for line in sc["body"].splitlines()
                                if line.startswith("ironboot_pool_leases_in_use{")]
                        print(f"    ironboot_pool_leases_in_use: {sum(used)} over "
                              f"{len(used)} pools")
        finally:
            probe.close()
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"\n{args.leases} DHCPv4 leases, medians of {args.restarts} cold starts"
          + (f", servers on CPU {args.rt} under SCHED_FIFO 1" if args.rt is not None else "")
          + ":")
    print(f"{'server':10} {'serving s':>10} {'ready s':>8} {'CPU s':>6} {'main s':>6} "
          f"{'RSS MiB':>8} {'HWM MiB':>8}")
    for kind, res in results.items():
        m = res["median"]
        rd = f"{m['ready_s']:8.2f}" if "ready_s" in m else f"{'-':>8}"
        print(f"{kind:10} {m['serving_s']:10.2f} {rd} {m['cpu_s']:6.2f} {m['main_cpu_s']:6.2f} "
              f"{m['rss']:8.0f} {m['hwm']:8.0f}")
    if "ironboot" in results and "kea" in results:
        ib, kea = results["ironboot"]["median"], results["kea"]["median"]
        print(f"Kea / ironboot: time to serving {kea['serving_s'] / ib['serving_s']:.2f}x, "
              f"CPU to serving {kea['cpu_s'] / ib['cpu_s']:.2f}x, "
              f"RSS {kea['rss'] / ib['rss']:.2f}x, peak (VmHWM) {kea['hwm'] / ib['hwm']:.2f}x")
    if args.json:
        for res in results.values():
            for r in res["runs"]:
                for sc in r.get("scrape", {}).values():
                    sc.pop("body", None)
        Path(args.json).write_text(json.dumps(
            {"leases": args.leases, "rt": args.rt, "load": os.getloadavg(), "results": results},
            indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
