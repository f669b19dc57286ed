#!/bin/sh
# Power polling against DHCP latency (issue #13): DHCPv4 OFFER p50/p99/max
# with ironbootd idle, polling 50 simulated Redfish BMCs (32 at once), and
# with the same BMC traffic from another process (the control), in
# alternating windows.  Network namespaces only (198.18.0.0/15), removed on
# exit, as are the daemon and the emulator (bench.py, by PID).
#
# Needs root, curl, a built ironbootd and ironboot-power ($IB_BUILD,
# default ./build).  Bounded: 3 rounds of 3 windows of 200 exchanges by
# default, the whole under `timeout 600`.  Extra arguments go to bench.py:
#   bench/power/run.sh --rounds 5 --json /tmp/power.json
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
command -v curl >/dev/null || { echo "run.sh: curl missing" >&2; exit 2; }
. bench/lib/bounded.sh
run_bounded 600 /usr/bin/python3 bench/power/bench.py "$@"
