#!/bin/sh
# Leases at scale: ironbootd (SQLite store) vs Kea 2.2 (memfile, lease4
# CSV) with the same synthetic set of DHCPv4 leases (default 1,000,000),
# side by side in one run: RSS and time from exec to the first OFFER,
# over several cold starts, plus /metrics and /api/v1/pools on ironbootd
# with the set loaded.  No lease traffic: the set is written into the
# files; the only packets are the probe's DISCOVERs and the OFFERs, in two
# throw-away namespaces (198.18.0.0/15).  See bench/store/bench.py.
#
# Needs root, kea-dhcp4 and curl; ironbootd comes from $IB_BUILD
# (default ./build; a build without sanitizers, or the RSS is ASan's).
# Bounded: everything runs under `timeout 1200`.  Extra arguments go to
# bench.py, e.g.  bench/store/run.sh --leases 110000 --servers ironboot
set -eu
cd "$(dirname "$0")/../.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
for t in kea-dhcp4 curl; do
	command -v $t >/dev/null || { echo "run.sh: $t missing (scripts/deps.sh bench)" >&2; exit 2; }
done

. "$repo/bench/lib/bounded.sh"
run_bounded 1200 /usr/bin/python3 "$repo/bench/store/bench.py" "$@"
