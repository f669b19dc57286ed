#!/usr/bin/python3
"""Where does a storm's exchange get lost?  One (a) step against ironbootd
with its DHCP socket watched.

bench.py's lab and Stack (server on CPU 0, the simulator under SCHED_FIFO on
CPU 1), a 200-machine warm-up, then `ironboot-storm --until dhcp --rate R`
for --period seconds, while a sampler reads, every 5 ms, the server socket's
receive queue and drop counter from /proc/PID/net/udp (udp6), the counters
the kernel keeps per socket (the server's namespace; not timing noise).  It
prints the simulator's result, the receive-buffer drops of both namespaces
(RcvbufErrors, so a loss in the simulator's own socket shows too), the
server threads' time running, waiting for a CPU (schedstat) and neither
(blocked in fdatasync, or idle), the deepest queue and the moments the drop
counter rose.  --rt runs the server under SCHED_FIFO 1 as well, so that on
a shared host it is not waiting for its CPU; --trace adds `perf trace -s`
of fdatasync and epoll_wait (it slows the server), --record `perf record
-g` (perf report -i WORK/perf.data).

Run via bench/storm/run.sh drops [--family 6] [--rate 12000] [--rt] (root;
run.sh supplies --work and --nginx, and bounds the run).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

SAMPLE_S = 0.005


def sock_counters(pid: int, port: int) -> tuple[int, int]:
    """(receive queue bytes, drops) of the UDP socket bound to port in pid's
    namespace; (0, 0) if none."""
    for f in ("udp", "udp6"):
        for ln in Path(f"/proc/{pid}/net/{f}").read_text().splitlines()[1:]:
            x = ln.split()
            if x[1].endswith(f":{port:04X}"):
                return int(x[4].split(":")[1], 16), int(x[-1])
    return 0, 0


def schedstat(pid: int) -> dict[str, tuple[int, int]]:
    """Per thread: (ns on a CPU, ns runnable waiting for one)."""
    out = {}
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            run, wait, _ = Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()
        except OSError:
            continue
        out[t] = (int(run), int(wait))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.lab_args(ap, 0.01)
    ap.add_argument("--family", type=int, choices=(4, 6), default=4)
    ap.add_argument("--rate", type=int, default=12000)
    ap.add_argument("--period", type=int, default=4)
    ap.add_argument("--trace", action="store_true", help="perf trace -s (fdatasync, epoll_wait)")
    ap.add_argument("--record", action="store_true", help="perf record -g into WORK/perf.data")
    args = ap.parse_args()
    args.storm_bin = bench.netlab.find_binary(Path(args.build), "ironboot-storm")
    if args.rate * args.period + bench.WARMUP > bench.POOL4_SIZE and args.family == 4:
        ap.error("--rate x --period exceeds the DHCPv4 pool")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    port = 67 if args.family == 4 else 547
    samples: list[tuple[float, int, int]] = []
    done = threading.Event()
    with bench.netlab.Lab() as lab:
        srv, cli = bench.make_lab(lab)
        st = bench.Stack("ironboot", lab, srv, work, args)
        st.start(args.family)
        pid = st.daemon.pid
        perf = None
        try:
            bench.storm(lab, cli, args, args.family, ["--until", "dhcp", "--rate", str(bench.WARMUP),
                        "--machines", str(bench.WARMUP), "--mac-base", "52:54:0f:00:00:00"], 30)

            def sample() -> None:
                t0 = time.monotonic()
                while not done.is_set():
                    samples.append((time.monotonic() - t0, *sock_counters(pid, port)))
                    time.sleep(SAMPLE_S)
            th = threading.Thread(target=sample)
            th.start()
            if args.trace:
                perf = subprocess.Popen(["perf", "trace", "-s", "-e", "fdatasync,epoll_wait", "-p", str(pid),
                                         "-o", str(work / "trace.txt")], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            elif args.record:
                perf = subprocess.Popen(["perf", "record", "-g", "-F", "2999", "-p", str(pid),
                                         "-o", str(work / "perf.data")], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            s0, e_srv, e_cli, c0, w0 = (schedstat(pid), bench.udp_errors(lab, srv),
                                        bench.udp_errors(lab, cli), st.cpu(), time.monotonic())
            rep, _ = bench.storm(lab, cli, args, args.family,
                                 ["--until", "dhcp", "--rate", str(args.rate), "--machines",
                                  str(args.rate * args.period), "--mac-base", "52:54:01:00:00:00"],
                                 args.period + 60)
            s1, wall, cpu = schedstat(pid), time.monotonic() - w0, st.cpu() - c0
            e_srv, e_cli = bench.udp_errors_delta(lab, srv, e_srv), bench.udp_errors_delta(lab, cli, e_cli)
            if perf:
                perf.send_signal(2)
                perf.wait(timeout=120)
        finally:
            done.set()
            st.stop()
    d = rep["stages"]["dhcp"]
    res = {"cmd": rep["cmd"], "rt": args.rt, "load": os.getloadavg(), "ok": d["ok"], "failed": d["failed"],
           "failures": d["failures"], "retransmits": d["retransmits"], "last_done_s": rep["last_done_s"],
           "p99_ms": d["p99_ms"], "server_cpu_s": cpu, "server_udp_errors": e_srv, "client_udp_errors": e_cli,
           "max_queue_bytes": max((s[1] for s in samples), default=0),
           "socket_drops": samples[-1][2] - samples[0][2] if samples else 0,
           "threads": {}, "drop_moments": []}
    for t, (run, waited) in s1.items():
        if t in s0 and run - s0[t][0] > 1e7:
            r, w = (run - s0[t][0]) / 1e9, (waited - s0[t][1]) / 1e9
            res["threads"][t] = {"ran_s": r, "waited_for_cpu_s": w, "neither_s": wall - r - w}
    for a, b in zip(samples, samples[1:]):
        if b[2] > a[2]:
            res["drop_moments"].append({"t_s": round(b[0], 3), "drops": b[2] - a[2], "queue": b[1]})
    if args.trace:
        res["trace"] = (work / "trace.txt").read_text()
    print(f"v{args.family} {args.rate}/s{' (server SCHED_FIFO)' if args.rt else ''}: ok {d['ok']} failed "
          f"{d['failed']} retransmits {d['retransmits']}, last at {rep['last_done_s']:.2f} s, p99 {d['p99_ms']:.0f} ms, "
          f"server CPU {cpu:.2f} s; receive-buffer drops: server {e_srv['rcvbuf']} (its DHCP socket "
          f"{res['socket_drops']}), simulator {e_cli['rcvbuf']}; deepest queue {res['max_queue_bytes']} bytes",
          file=sys.stderr)
    for t, v in res["threads"].items():
        print(f"  thread {t}: ran {v['ran_s']:.2f} s, waited for a CPU {v['waited_for_cpu_s']:.2f} s, "
              f"neither (fdatasync, idle) {v['neither_s']:.2f} s of {wall:.2f} s", file=sys.stderr)
    if res["drop_moments"]:
        m = res["drop_moments"]
        print(f"  drops rose in {len(m)} samples between {m[0]['t_s']} and {m[-1]['t_s']} s", file=sys.stderr)
    bench.emit(args, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
