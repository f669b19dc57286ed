#!/bin/sh
# HTTP throughput: ironbootd vs nginx serving the same 50 MB file from the
# assets directory (wrk -t2 -c8 -d10s over a veth between two throw-away
# namespaces, 198.18.0.0/15 only), plus ironbootd's /boot.ipxe renders per
# second with wrk rotating inventory MACs.  One run, both servers.
#
# Needs root, wrk (apt-get install wrk) and curl.  nginx is NOT installed:
# `apt-get download nginx` is unpacked into the scratch directory and its
# binary runs in the server namespace with a config written there (no
# system service is started or touched).
# ironbootd comes from $IB_BUILD (default ./build).
#
# Bounded: everything runs under `timeout 300`.
# Extra arguments go to bench.py, e.g.
#   bench/http/run.sh --nginx-workers 2 --json /tmp/http.json
set -eu
cd "$(dirname "$0")/../.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "run.sh: wrk missing (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "run.sh: curl missing (apt-get install curl)" >&2; exit 2; }

. "$repo/bench/lib/bounded.sh"
make_work ib-benchhttp

. "$repo/bench/lib/nginx.sh"
fetch_nginx "$work"
echo "nginx $nginx_version, wrk $(wrk -v 2>&1 | head -n 1 | awk '{print $2}')"

# shellcheck disable=SC2086
run_bounded 300 /usr/bin/python3 "$repo/bench/http/bench.py" \
	--work "$work" --nginx "$work/nginx/usr/sbin/nginx" "$@"
