#!/usr/bin/python3
"""Who sets the TFTP time of a storm: the server or a starved client?

One `ironboot-storm --until tftp --machines N --within 1` against one stack
(bench.py's lab and Stack: server on CPU 0, simulator on CPU 1), with
tcpdump in the client's namespace, once with the simulator under
`chrt -f 1` (SCHED_FIFO, as bench.py runs it) and once without (--no-fifo).
Prints the storm's summary and, from the capture, the client's DATA -> ACK
and the server's ACK -> next DATA delays.  BENCHMARKS.md, "Correction".

Run via bench/storm/run.sh probe [--servers kea] [--machines 300] [--no-fifo]
(root; run.sh supplies --work and --nginx, and bounds the run).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

DEADLINE = 150      # the storm's own --deadline, seconds


def q(x: list[float]) -> str:
    if not x:
        return "n=0"
    x = sorted(x)
    return (f"n={len(x)} p50={1e3 * x[len(x) // 2]:.2f} ms p90={1e3 * x[int(len(x) * .9)]:.2f} ms "
            f"p99={1e3 * x[int(len(x) * .99)]:.2f} ms max={1e3 * x[-1]:.1f} ms")


def delays(pcap: Path) -> tuple[list[float], list[float]]:
    """(server ACK -> next DATA, client DATA -> ACK) per transfer, seconds."""
    out = subprocess.run(["tcpdump", "-r", str(pcap), "-nn", "-tt", "-x"], capture_output=True,
                         text=True, timeout=120).stdout
    pk, cur = [], None
    for line in out.splitlines():
        if not line.startswith("\t"):
            m = re.match(r"([\d.]+) .*?IP (\S+) > (\S+): UDP", line)
            cur = [float(m.group(1)), m.group(2), m.group(3).rstrip(":"), ""] if m else None
            if cur:
                pk.append(cur)
        elif cur:
            cur[3] += "".join(line.split(":", 1)[1].split())
    srv, cli, last = [], [], {}
    for t, s, d, _ in pk:
        if s.startswith(bench.SRV4 + "."):      # server -> client: DATA
            key = (d, s)
            if key in last and last[key][1] == "ack":
                srv.append(t - last[key][0])
            last[key] = (t, "data")
        else:                                   # client -> server: ACK
            key = (s, d)
            if key in last and last[key][1] == "data":
                cli.append(t - last[key][0])
            last[key] = (t, "ack")
    return srv, cli


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.lab_args(ap, 1)
    ap.add_argument("--servers", default="kea", choices=("ironboot", "kea", "dnsmasq"),
                    help="the one stack to probe")
    ap.add_argument("--machines", type=int, default=100)
    ap.add_argument("--no-fifo", action="store_true", help="the simulator at normal priority")
    args = ap.parse_args()
    args.storm_bin = bench.netlab.find_binary(Path(args.build), "ironboot-storm")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    pcap = work / "client.pcap"
    load = os.getloadavg()
    with bench.netlab.Lab() as lab:
        srv, cli = bench.make_lab(lab)
        st = bench.Stack(args.servers, lab, srv, work, args)
        st.start(4)
        cap = lab.popen(cli, ["timeout", str(DEADLINE + 30), "tcpdump", "-i", "any", "-s", "96",
                              "-w", str(pcap), "udp and not port 67"], stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)
            c0 = st.cpu()
            rep, _ = bench.storm(lab, cli, args, 4, ["--until", "tftp", "--machines", str(args.machines),
                                                     "--within", "1"], DEADLINE, fifo=not args.no_fifo)
            rep["server_cpu_s"] = st.cpu() - c0
        finally:
            time.sleep(0.5)
            lab.kill(cap)
            st.stop()
    srv_d, cli_d = delays(pcap)
    res = {k: rep.get(k) for k in ("cmd", "done", "machines", "last_done_s", "cpu_s", "runq_wait_s",
                                   "server_cpu_s")}
    res.update(server=args.servers, tftp=rep["stages"]["tftp"], load_before=load, load_after=os.getloadavg(),
               server_ack_to_data=q(srv_d), client_data_to_ack=q(cli_d))
    print(json.dumps(res, indent=1))
    print(f"server: ACK -> next DATA {res['server_ack_to_data']}\nclient: DATA -> ACK      {res['client_data_to_ack']}",
          file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
