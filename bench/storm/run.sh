#!/bin/sh
# Boot storm (issue #15): ironboot-storm against ironbootd, Kea + tftpd-hpa +
# nginx, and dnsmasq (DHCP + TFTP) + nginx, each stack in fresh namespaces
# (198.18.0.0/15, fd00:b007::/48 only), pinned to CPU 0, the simulator (and
# perfdhcp) to CPU 1: (a) --until dhcp at fixed rates, DHCPv4 and DHCPv6;
# (b) the full chain, 1000 machines powered on within 10 s; (c) the
# simulator's CPU per exchange against perfdhcp's; (b6, only when asked:
# --parts b6) the full chain over IPv6, ironbootd and Kea.  bench/storm/plot.py
# draws (b)'s histograms.
#
# Needs root, kea-dhcp4/6, perfdhcp, tftpd-hpa, dnsmasq, python3-matplotlib
# (scripts/deps.sh bench), and a built ironbootd and ironboot-storm
# ($IB_BUILD, default ./build).  nginx is NOT installed: `apt-get download
# nginx` is unpacked into the scratch directory (as bench/http does).
#
# Bounded: everything runs under `timeout 900`; namespaces and processes
# (by PID) are cleaned up on exit and on SIGTERM.  Extra arguments go to
# bench.py, e.g.  bench/storm/run.sh --parts b --storm-machines 500
#
# A first argument `probe`, `cross` or `drops` runs bench/storm/probe.py (one
# TFTP storm with a client-side capture, with or without SCHED_FIFO),
# bench/storm/cross.py (perfdhcp's and the simulator's lease counts against
# ironbootd's) or bench/storm/drops.py (one DHCP rate with ironbootd's socket
# queue, drops and threads watched) instead, in the same setup:
# bench/storm/run.sh drops --help
set -eu
tool=bench.py
case "${1:-}" in
probe|cross|drops) tool=$1.py; shift ;;
esac
cd "$(dirname "$0")/../.."
repo=$(pwd)

. "$repo/bench/lib/storm.sh"
storm_setup ib-benchstorm perfdhcp dnsmasq tcpdump

echo "nginx $nginx_version, $(kea-dhcp4 -V | head -n 1), dnsmasq $(dnsmasq -v | head -n 1 | awk '{print $3}'), load $(cut -d' ' -f1-3 /proc/loadavg)"

storm_run "$repo/bench/storm/$tool" "$@"
