#!/bin/sh
# ironbootd against Kea with both lease stores on one PostgreSQL 15 (issue
# #16): bench/storm's part (a) (ironboot-storm --until dhcp at fixed rates,
# fresh namespaces and an empty database per step, server and PostgreSQL on
# CPU 0, the simulator on CPU 1); durable leases/s, CPU per lease of the
# server and of PostgreSQL, the ironboot/Kea ratios.  See bench/pg/bench.py.
#
# Needs root, kea-dhcp4/6 (with Debian's PostgreSQL lease backend),
# postgresql 15, tftpd-hpa (the storm bench's Kea stack starts it)
# (scripts/deps.sh bench and test), and a built ironbootd and
# ironboot-storm ($IB_BUILD, default ./build; a build without sanitizers).
#
# Bounded: everything runs under `timeout 900`; namespaces and processes
# (by PID) are cleaned up on exit and on SIGTERM, PostgreSQL is stopped and
# its directory removed.  Extra arguments go to bench.py, e.g.
#   bench/pg/run.sh --rates 1000,2000,4000 --families 4
set -eu
cd "$(dirname "$0")/../.."
repo=$(pwd)

[ -f /usr/share/kea/scripts/pgsql/dhcpdb_create.pgsql ] ||
	{ echo "run.sh: Kea's PostgreSQL schema missing (kea-common)" >&2; exit 2; }
. "$repo/bench/lib/storm.sh"
storm_setup ib-benchpg psql

echo "$(kea-dhcp4 -V | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"

storm_run "$repo/bench/pg/bench.py" "$@"
