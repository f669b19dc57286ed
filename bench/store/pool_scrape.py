#!/usr/bin/python3
"""Time of a /metrics scrape and a GET /api/v1/pools with many leases in
the store (the pool gauges are read from the store on a cache miss).

One throw-away namespace pair (tests/lib/netlab.py) joined by a veth:
    srv: srv0 198.18.0.1/16   (ironbootd, DHCPv4 and DHCPv6 server on srv0)
    cli: cli0 198.18.0.2/16   (curl)
The daemon runs once to create its store, stops; N synthetic DHCPv4 and
N DHCPv6 leases are written with sqlite3 (unexpired, active, in the
pools); the daemon starts again and is scraped ROUNDS times, each after
the 1 s metrics cache has lapsed.  Prints the median and the range of
curl's %{time_total}.  Everything is torn down on exit.

    IB_BUILD=build sudo -E python3 bench/store/pool_scrape.py [--leases N] [--rounds R]
"""

from __future__ import annotations

import argparse
import ipaddress
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "lib"))

import netlab  # noqa: E402
import yaml  # noqa: E402

SRV, CLI = "198.18.0.1", "198.18.0.2"
TOKEN = "pool-scrape-token-0123456789abcdef"
POOL4 = ("198.18.1.0", "198.18.255.254")
POOL6 = ("fd00:b007::1:0", "fd00:b007::1:ffff")


def config(work: Path) -> Path:
    cfg = netlab.lab_config()
    cfg["server"]["state_dir"] = str(work / "state")
    sn = cfg["dhcp4"]["subnets"][0]
    sn["subnet"] = "198.18.0.0/16"
    sn["pools"] = [{"start": POOL4[0], "end": POOL4[1]}]
    sn.pop("routes", None)
    cfg["dhcp4"]["subnets"] = [sn]
    cfg["dhcp6"]["subnets"][0]["pools"] = [{"start": POOL6[0], "end": POOL6[1]}]
    cfg["dhcp6"]["router_advertisements"]["enabled"] = False
    cfg["http"]["listen"] = [SRV]
    cfg["http"]["api_token_file"] = str(work / "token")
    (work / "token").write_text(TOKEN + "\n")
    (work / "token").chmod(0o600)
    path = work / "ironboot.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def load(db: Path, n: int) -> None:
    now = int(time.time())
    first4 = int(ipaddress.IPv4Address(POOL4[0]))
    first6 = int(ipaddress.IPv6Address(POOL6[0]))
    sub6 = ipaddress.IPv6Address("fd00:b007::").packed
    con = sqlite3.connect(db)
    with con:
        con.executemany(
            "INSERT INTO leases4 (address, subnet, htype, hwaddr, client_id, hostname,"
            " cltt, expires, state) VALUES (?, ?, 1, ?, NULL, '', ?, ?, ?)",
            ((first4 + i, 0xc6120000, bytes([0x52, 0x54, 0, i >> 16 & 255, i >> 8 & 255,
                                             i & 255]),
              now, now + 86400, 4 if i % 10 == 9 else 1) for i in range(n)))
        con.executemany(
            "INSERT INTO leases6 (address, subnet, prefix_len, duid, iaid, mac, hostname,"
            " cltt, preferred, expires, state) VALUES (?, ?, 64, ?, 1, NULL, '', ?, ?, ?, ?)",
            ((ipaddress.IPv6Address(first6 + i).packed, sub6,
              b"\x00\x03\x00\x01" + i.to_bytes(6, "big"), now, now + 43200, now + 86400,
              4 if i % 10 == 9 else 1) for i in range(n)))
    con.close()


def timed(lab, ns: str, url: str, body: Path) -> tuple[float, str]:
    p = lab.run(ns, ["curl", "-sS", "--max-time", "60", "-o", str(body), "-w",
                     "%{http_code} %{time_total}", "-H", f"Authorization: Bearer {TOKEN}", url],
                timeout=90)
    code, t = p.stdout.split()
    assert code == "200", (url, code, body.read_text()[:300])
    return float(t), body.read_text()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leases", type=int, default=50000)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    assert 0 < args.leases <= 65000 and 0 < args.rounds <= 100
    with tempfile.TemporaryDirectory(prefix="ib-pool-scrape-") as tmp, netlab.Lab() as lab:
        work = Path(tmp)
        path = config(work)
        srv, cli = lab.netns("srv"), lab.netns("cli")
        lab.veth(srv, "srv0", cli, "cli0")
        lab.addr(srv, "srv0", f"{SRV}/16")
        lab.addr(cli, "cli0", f"{CLI}/16")
        d = netlab.Daemon(lab, srv, path, log_path=work / "d1.log").start(timeout=30)
        d.stop()
        load(work / "state" / "ironboot.db", args.leases)
        d = netlab.Daemon(lab, srv, path, log_path=work / "d2.log").start(timeout=30)
        res = {}
        for name, url in (("/metrics", f"http://{SRV}:8080/metrics"),
                          ("/api/v1/pools", f"http://{SRV}:8080/api/v1/pools")):
            ts = []
            for i in range(args.rounds):
                time.sleep(1.2)          # past the metrics cache (1 s)
                t, body = timed(lab, cli, url, work / "body")
                ts.append(t)
            res[name] = ts
            if name == "/metrics":
                used = [l for l in body.splitlines()
                        if l.startswith("ironboot_pool_leases_in_use{")]
                print("\n".join(used))
        d.stop()
    for name, ts in res.items():
        print(f"{name}: {args.leases} v4 + {args.leases} v6 leases, {args.rounds} scrapes: "
              f"median {statistics.median(ts) * 1000:.1f} ms "
              f"(min {min(ts) * 1000:.1f}, max {max(ts) * 1000:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
