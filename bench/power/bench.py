#!/usr/bin/python3
"""Power polling against DHCP latency (issue #13): the DHCPv4 OFFER p99 of
ironbootd while it is idle, while it polls 50 simulated Redfish BMCs every
second (32 at once), and while another process (ironboot-power, the
control) makes the same BMC traffic, in alternating windows.

The lab is tests/integration/test_power_daemon.py's (PowerLab), in fresh
network namespaces (198.18.0.0/15 only):

    ns bmc:  198.18.0.2   tests/lib/redfish_emu.py, 50 BMCs (nice 19)
    ns srv:  198.18.0.1   ironbootd (DHCPv4 for 198.18.1.0/24), the control
             198.18.1.1
    ns cli:  198.18.1.2   a relay agent: DISCOVER -> OFFER latency

Each window is --exchanges DISCOVERs, --gap seconds apart, one at a time.
What the daemon's own polling costs its DHCP answers is "daemon - control":
the emulator and the rest of the host weigh on both alike.  "control -
idle" is what the BMC traffic costs the host.

Bounded: --rounds x 3 windows of --exchanges, each exchange at most 2 s;
run.sh puts the whole under `timeout`.  The namespaces, the daemon, the
emulator and the control loop are removed/killed by PID on exit.

Run via bench/power/run.sh (root).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "lib"))
sys.path.insert(0, str(REPO / "tests" / "integration"))
import bmc as B  # noqa: E402
import netlab  # noqa: E402
import test_power_daemon as T  # noqa: E402


def p99(v: list[float]) -> float:
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def stats(v: list[float]) -> dict:
    s = sorted(v)
    return dict(n=len(s), p50=s[len(s) // 2] * 1000, p99=p99(s) * 1000,
                max=s[-1] * 1000, lost=sum(1 for x in s if x >= 2.0))


def run(args, work: Path) -> dict:
    tool = netlab.find_binary(args.build, "ironboot-power")
    n = args.bmcs
    bmcs = [T.rf(f"52:54:00:00:e0:{i:02x}", 8000 + i) for i in range(n)]
    with netlab.Lab(prefix="ibp") as lab:
        pl = T.PowerLab(lab, work, bmcs, poll="0")
        emu = B.RedfishEmu(lab, pl.bns, T.BMC_IP, 8000, work / "emu", T.USER, T.PASSWORD,
                           count=n, nice=19).start()
        tool_bmcs = B.write_bmcs(work / "bmcs.json", [
            dict(name=f"n{i:02d}", driver="redfish", address=f"http://{T.BMC_IP}:{8000 + i}",
                 credential="lab") for i in range(n)])
        T.offer_latencies(lab, pl.cli, 40)          # warm up: leases held, caches

        def switch(poll: str) -> None:
            pl.write_config(bmcs, poll)
            since = pl.d.log_size()
            pl.d.hup()
            pl.d.wait_log("configuration reloaded", since=since)

        def window(mode: str, out: dict) -> None:
            n0 = len(emu.requests())
            out[mode]["lat"] += T.offer_latencies(lab, pl.cli, args.exchanges, gap=args.gap)
            out[mode]["bmc_requests"] += len(emu.requests()) - n0

        res = {m: dict(lat=[], bmc_requests=0) for m in ("idle", "daemon", "control")}
        for rnd in range(args.rounds):
            window("idle", res)
            sh = (f"while :; do {tool} --secrets {work}/secrets.json --bmcs {tool_bmcs} "
                  f"status >/dev/null 2>&1; done")
            loop = lab.popen(pl.srv, ["sh", "-c", sh], stdin=subprocess.DEVNULL)
            try:
                time.sleep(1)
                window("control", res)
            finally:
                loop.kill()
                loop.wait()
            switch("1s")
            if rnd == 0:
                B.wait_for(lambda: sum(1 for e in pl.api("events?proto=power&limit=1000")[1]
                                       if e["kind"] == "power-changed") >= n, 60,
                           f"a first round of {n}")
            else:
                time.sleep(1)
            window("daemon", res)
            switch("0")
            print(f"round {rnd + 1}/{args.rounds}: " + ", ".join(
                f"{m} p99 {stats(res[m]['lat'])['p99']:.2f} ms" for m in res), flush=True)
        pl.d.stop()
    out = {m: dict(stats(v["lat"]), bmc_requests=v["bmc_requests"]) for m, v in res.items()}
    out["daemon_minus_control_p99_ms"] = out["daemon"]["p99"] - out["control"]["p99"]
    out["control_minus_idle_p99_ms"] = out["control"]["p99"] - out["idle"]["p99"]
    out["loadavg_after"] = os.getloadavg()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, default=netlab.build_dir())
    ap.add_argument("--rounds", type=int, default=3, help="idle/control/daemon rounds")
    ap.add_argument("--exchanges", type=int, default=200, help="DISCOVERs per window")
    ap.add_argument("--gap", type=float, default=0.01, help="seconds between DISCOVERs")
    ap.add_argument("--bmcs", type=int, default=50)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not (1 <= args.rounds <= 10 and 10 <= args.exchanges <= 2000 and
            1 <= args.bmcs <= 200 and 0 <= args.gap <= 1):
        ap.error("--rounds 1..10, --exchanges 10..2000, --bmcs 1..200, --gap 0..1")
    os.environ["IB_BUILD"] = str(args.build)
    netlab.cleanup_stale()
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="ib-power-bench.") as d:
        out = run(args, Path(d))
    print(f"\n{'':8} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'lost':>5} "
          f"{'BMC reqs':>9}")
    for m in ("idle", "control", "daemon"):
        s = out[m]
        print(f"{m:8} {s['n']:5d} {s['p50']:8.2f} {s['p99']:8.2f} {s['max']:8.1f} "
              f"{s['lost']:5d} {s['bmc_requests']:9d}")
    print(f"\np99 daemon - control: {out['daemon_minus_control_p99_ms']:+.2f} ms "
          f"(ratio {out['daemon']['p99'] / out['control']['p99']:.2f}); "
          f"control - idle: {out['control_minus_idle_p99_ms']:+.2f} ms; "
          f"load average after: {out['loadavg_after']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
