#!/bin/sh
# DHCPv4 DORA throughput: ironbootd vs Kea 2.2 (memfile, single- and
# multi-threaded), perfdhcp rate ramp, each server in fresh network
# namespaces (198.18.0.0/15 only).  Needs root, perfdhcp (kea-admin),
# kea-dhcp4, and a built ironbootd (IB_BUILD, default ./build).
# Bounded: ~5 minutes total (--budget).  Extra arguments go to bench.py,
# e.g.  bench/dhcp4/run.sh --servers kea,kea-mt --period 5
set -eu
cd "$(dirname "$0")/../.."
exec timeout --kill-after=20 420 /usr/bin/python3 bench/dhcp4/bench.py "$@"
