#!/usr/bin/python3
"""Do perfdhcp and ironboot-storm count the leases ironbootd made?

One fresh ironbootd (bench.py's lab and Stack, CPU 0) driven first by
perfdhcp and then by the simulator (CPU 1), at one rate; `ironboot leases`
counted before and after each tool.  BENCHMARKS.md, "Both tools count the
same leases".

Run via bench/storm/run.sh cross [--rate 1000] [--period 4] (root; run.sh
supplies --work and --nginx, and bounds the run).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.lab_args(ap, 1)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--period", type=int, default=4)
    args = ap.parse_args()
    args.storm_bin = bench.netlab.find_binary(Path(args.build), "ironboot-storm")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rate, period = args.rate, args.period
    res = {"load_before": os.getloadavg()}
    with bench.netlab.Lab() as lab:
        srv, cli = bench.make_lab(lab)
        st = bench.Stack("ironboot", lab, srv, work, args)
        st.start(4)
        try:
            n0 = len(st.daemon.cli_json("leases"))
            argv = ["taskset", "-c", bench.CLIENT_CPU, "perfdhcp", "-4", "-l", "cli0", "-r", str(rate),
                    "-R", str(rate * period * 2), "-p", str(period), "-W", "1000000", bench.SRV4]
            p = lab.run(cli, argv, check=False, timeout=period + 60)
            recv = [int(x) for x in re.findall(r"received packets: (\d+)", p.stdout)]
            n1 = len(st.daemon.cli_json("leases"))
            res["perfdhcp"] = {"cmd": " ".join(argv[3:]), "rc": p.returncode,
                               "received (OFFERs, ACKs)": recv, "leases_added": n1 - n0}
            rep, _ = bench.storm(lab, cli, args, 4, ["--until", "dhcp", "--rate", str(rate),
                                                     "--machines", str(rate * period),
                                                     "--mac-base", "52:54:0e:00:00:00"], period + 60)
            leases = st.daemon.cli_json("leases")
            d = rep["stages"]["dhcp"]
            res["storm"] = {"cmd": rep["cmd"], "ok": d["ok"], "failed": d["failed"],
                            "retransmits": d["retransmits"], "leases_added": len(leases) - n1}
            res["lease_states"] = dict(collections.Counter(str(x.get("state")) for x in leases))
        finally:
            st.stop()
    res["load_after"] = os.getloadavg()
    print(json.dumps(res, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
