#!/bin/sh
# TFTP read throughput and request storms: ironbootd vs tftpd-hpa, atftpd and
# dnsmasq, each serving the same root inside a throw-away network namespace
# pair (198.18.0.0/15 only; created and deleted by bench.py).
#
# Needs root and, from apt: tftpd-hpa, dnsmasq-base (NOT dnsmasq, which
# starts a service), a C compiler; atftpd is fetched with `apt-get download`
# and unpacked into the scratch directory (it conflicts with tftpd-hpa).
# ironbootd comes from $IB_BUILD (default ./build); when it lacks TFTP the
# peers are measured alone.
#
# Bounded: everything runs under `timeout 480` (8 minutes).
# Extra arguments go to bench.py, e.g.
#   bench/tftp/run.sh --servers ironboot,dnsmasq --no-50m
#   bench/tftp/run.sh --json /tmp/tftp.json
set -eu
cd "$(dirname "$0")/../.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
missing=""
[ -x /usr/sbin/in.tftpd ] || missing="$missing tftpd-hpa"
[ -x /usr/sbin/dnsmasq ] || missing="$missing dnsmasq-base"
[ -e /usr/lib/ipxe/ipxe.efi ] || missing="$missing ipxe"
if [ -n "$missing" ]; then
	echo "run.sh: missing packages:$missing (apt-get install$missing)" >&2
	exit 2
fi

. "$repo/bench/lib/bounded.sh"
make_work ib-benchtftp

cc -O2 -Wall -o "$work/tftpload" "$repo/bench/tftp/tftpload.c"

atftpd_args=""
(cd "$work" && apt-get download atftpd >/dev/null 2>&1) || true
deb=$(ls "$work"/atftpd_*.deb 2>/dev/null | head -n 1 || true)
if [ -n "$deb" ]; then
	dpkg-deb -x "$deb" "$work/atftpd"
	ver=$(dpkg-deb -f "$deb" Version)
	atftpd_args="--atftpd $work/atftpd/usr/sbin/atftpd --atftpd-version $ver"
else
	echo "run.sh: apt-get download atftpd failed; atftpd is skipped" >&2
fi

# 1000 concurrent transfers: one socket each on both sides
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
ulimit -n "$hard"
[ "$hard" -ge 4096 ] || echo "run.sh: only $hard file descriptors; storms may fail" >&2

# bench.py deletes its namespaces and kills its servers on exit or SIGTERM.
# `timeout` runs in its own process group, so a Ctrl-C at the terminal only
# reaches this shell: forward INT/TERM/HUP to it (it passes SIGTERM on).
# shellcheck disable=SC2086
run_bounded 480 /usr/bin/python3 "$repo/bench/tftp/bench.py" \
	--tftpload "$work/tftpload" --work "$work" $atftpd_args "$@"
