#!/bin/sh
# Lab timing: power-on to boot script and to Linux, per firmware (SeaBIOS +
# iPXE ROM, OVMF PXE -> ipxe.efi, OVMF HTTP boot, IPv6 only), ironbootd
# with the shipped examples vs dnsmasq, each boot in fresh network
# namespaces (198.18.0.0/15, fd00:b007::/48 and link-local only; QEMU on a
# tap in the test namespace, never user-mode networking).
#
# Needs root and, from apt: qemu-system-x86, ipxe-qemu, ovmf, ipxe,
# dnsmasq-base (scripts/deps.sh bench), the e2e boot assets (built into
# /var/cache/ironboot-e2e by tests/e2e/build_assets.sh on first use) and a
# built ironbootd ($IB_BUILD, default ./build).
#
# Bounded: every boot has its own timeout (--boot-timeout, 150 s) and the
# whole run is under `timeout 1500`.  Extra arguments go to bench.py, e.g.
#   bench/labtiming/run.sh --scenarios bios --servers ironboot
#   bench/labtiming/run.sh --before-build /tmp/old-build --before-rev 088bb05
#   bench/labtiming/run.sh --json /tmp/labtiming.json
set -eu
cd "$(dirname "$0")/../.."
repo=$(pwd)

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, taps)" >&2; exit 2; }
missing=""
command -v qemu-system-x86_64 >/dev/null || missing="$missing qemu-system-x86"
[ -e /usr/lib/ipxe/qemu/pxe-virtio.rom ] || missing="$missing ipxe-qemu"
[ -e /usr/share/OVMF/OVMF_CODE.fd ] || missing="$missing ovmf"
[ -e /usr/lib/ipxe/ipxe.efi ] || missing="$missing ipxe"
[ -x /usr/sbin/dnsmasq ] || missing="$missing dnsmasq-base"
if [ -n "$missing" ]; then
	echo "run.sh: missing packages:$missing (scripts/deps.sh bench)" >&2
	exit 2
fi
[ -e /dev/net/tun ] || { echo "run.sh: /dev/net/tun missing" >&2; exit 2; }
assets=${IB_E2E_ASSETS:-/var/cache/ironboot-e2e}
timeout 900 bash tests/e2e/build_assets.sh "$assets" >/dev/null

. "$repo/bench/lib/bounded.sh"
make_work ib-labtiming

# bench.py deletes its namespaces and kills QEMU and the servers by PID on
# exit; forward INT/TERM/HUP to it (timeout runs in its own process group).
run_bounded 1500 /usr/bin/python3 "$repo/bench/labtiming/bench.py" \
	--work "$work" "$@"
