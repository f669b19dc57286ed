#!/bin/sh
# DHCPv6 SARR throughput: ironbootd vs Kea 2.2 (memfile, single- and
# multi-threaded), perfdhcp -6 rate ramp, each server in fresh network
# namespaces (fd00:b007::/48 and link-local only, DAD off).  Needs root,
# perfdhcp (kea-admin), kea-dhcp6 (kea-dhcp6-server), and a built ironbootd
# (IB_BUILD, default ./build).  Bounded: ~5 minutes (--budget 400), at most 9.
# Extra arguments go to bench.py, e.g.
#   bench/dhcp6/run.sh --servers kea,kea-mt --period 5
set -eu
cd "$(dirname "$0")/../.."
exec timeout --kill-after=20 540 /usr/bin/python3 bench/dhcp6/bench.py "$@"
