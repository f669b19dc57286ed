#!/usr/bin/python3
"""Draws ironboot-storm histograms (--hist TSV: stage, lo_ms, hi_ms, count)
into one PNG: per server, the fleet's time to its last stage as a
cumulative curve, and the per-stage latency of each server.

    bench/storm/plot.py --out docs/storm-1000.png \
        ironboot=/tmp/storm-hist-ironboot.tsv kea=/tmp/storm-hist-kea.tsv

Needs python3-matplotlib (scripts/deps.sh bench).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path: str) -> dict[str, list[tuple[float, float, int]]]:
    out: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out[row["stage"]].append((float(row["lo_ms"]), float(row["hi_ms"]), int(row["count"])))
    return out


def cdf(buckets):
    total = sum(c for _, _, c in buckets) or 1
    xs, ys, acc = [], [], 0
    for lo, hi, c in sorted(buckets):
        acc += c
        xs.append(hi / 1000.0)
        ys.append(100.0 * acc / total)
    return xs, ys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--title", default="ironboot-storm: 1000 machines powered on within 10 s")
    ap.add_argument("series", nargs="+", help="NAME=hist.tsv")
    args = ap.parse_args()
    data = {}
    for s in args.series:
        name, path = s.split("=", 1)
        data[name] = read(path)
    fig, axes = plt.subplots(1, 1 + len(data), figsize=(5 * (1 + len(data)), 4.2))
    ax = axes[0]
    for name, h in data.items():
        xs, ys = cdf(h.get("time-to-done", []))
        ax.step(xs, ys, where="post", label=name)
    ax.set_xlabel("time from power-on to kernel + initrd (s)")
    ax.set_ylabel("machines that got there (%)")
    ax.set_title("time to kernel, cumulative")
    ax.grid(True, alpha=0.3)
    ax.legend()
    for ax, (name, h) in zip(axes[1:], data.items()):
        for stage, buckets in h.items():
            if stage == "time-to-done":
                continue
            xs, ys = cdf(buckets)
            ax.step(xs, ys, where="post", label=stage)
        ax.set_xscale("log")
        ax.set_xlabel("stage latency (s, log)")
        ax.set_title(f"{name}: per stage, cumulative")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
