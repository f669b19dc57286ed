#!/bin/bash
# One-command demo (`make demo`, as root): a VM network-boots Linux from
# ironbootd, and its timeline is printed.
#
#   1. builds the boot assets (tests/e2e/build_assets.sh: Debian kernel +
#      busybox initramfs, cached in /var/cache/ironboot-e2e)
#   2. creates a throw-away lab of two network namespaces:
#        ns <tag>-srv: srv0 198.18.0.1/24      ironbootd (DHCP, TFTP, HTTP)
#                        | veth
#        ns <tag>-vm:  vm0 --- br0 --- tap0 <== QEMU (its only NIC)
#   3. starts ironbootd with a copy of examples/lab.yaml (own state and
#      assets directories)
#   4. boots one QEMU VM (SeaBIOS + iPXE NIC ROM, MAC 52:54:00:00:00:10 =
#      node10 of the lab config) and shows its serial console live until the
#      initramfs prints "IRONBOOT-MARKER: booted-node10" and powers off
#   5. prints `ironboot events --mac 52:54:00:00:00:10` (the timeline)
#   6. tears everything down (trap on exit: QEMU and ironbootd killed by
#      PID, namespaces deleted, temp dir removed unless IB_DEMO_KEEP=1)
#
# Nothing touches the host's own interfaces: QEMU has no user-mode network,
# only a tap inside the demo's namespace; addresses are in 198.18.0.0/15.
# Environment: IB_BUILD (default build), IB_E2E_ASSETS (asset cache),
# IB_QEMU_ACCEL (default tcg; kvm if you have it), IB_DEMO_TIMEOUT (180 s).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${IB_BUILD:-$REPO/build}
CACHE=${IB_E2E_ASSETS:-/var/cache/ironboot-e2e}
ACCEL=${IB_QEMU_ACCEL:-tcg}
TIMEOUT=${IB_DEMO_TIMEOUT:-180}
MAC=52:54:00:00:00:10
HOST=node10
MARKER="IRONBOOT-MARKER: booted-$HOST"
ROM=/usr/lib/ipxe/qemu/pxe-virtio.rom
TAG=ibdemo$$                  # not netlab's ib<pid><letters>- pattern
NS_SRV=$TAG-srv
NS_VM=$TAG-vm

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (network namespaces, tap devices)"
for b in ironbootd ironboot; do
	[ -x "$BUILD/$b" ] || die "$BUILD/$b not built (make)"
done

# QEMU and its iPXE ROMs are test dependencies; the demo needs them too
missing=""
for p in qemu-system-x86 ipxe-qemu ipxe; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing$missing (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$missing >/dev/null
fi
[ -e "$ROM" ] || die "$ROM missing (apt-get install ipxe-qemu)"
[ -e /dev/net/tun ] || die "/dev/net/tun missing (tap devices unavailable)"

T=$(mktemp -d /tmp/ironboot-demo.XXXXXX)
QEMU_PID=""
DAEMON_PID=""
TAIL_PID=""
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in $TAIL_PID $QEMU_PID $DAEMON_PID; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $QEMU_PID $DAEMON_PID; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	ip netns del "$NS_VM" 2>/dev/null || true
	ip netns del "$NS_SRV" 2>/dev/null || true
	if [ "${IB_DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: logs and state kept in $T"
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "1/5 boot assets (kernel, initramfs) in $CACHE"
"$REPO/tests/e2e/build_assets.sh" "$CACHE"
mkdir -p "$T/assets"
cp "$CACHE/vmlinuz" "$CACHE/initrd.img" "$T/assets/"
cp -L /usr/lib/ipxe/ipxe.efi "$T/assets/" 2>/dev/null || true

say "2/5 lab: namespaces $NS_SRV (ironbootd) and $NS_VM (bridge + tap + QEMU)"
ip netns add "$NS_SRV"
ip netns add "$NS_VM"
ip -n "$NS_SRV" link set lo up
ip -n "$NS_VM" link set lo up
ip -n "$NS_SRV" link add srv0 type veth peer name vm0 netns "$NS_VM"
ip -n "$NS_SRV" addr add 198.18.0.1/24 dev srv0
ip -n "$NS_SRV" link set srv0 up
ip -n "$NS_VM" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$NS_VM" tuntap add dev tap0 mode tap
for i in vm0 tap0; do
	ip -n "$NS_VM" link set "$i" master br0
	ip -n "$NS_VM" link set "$i" up
done
ip -n "$NS_VM" link set br0 up

say "3/5 ironbootd (config: examples/lab.yaml with state and assets under $T)"
CFG=$T/ironboot.yaml
sed -e "s|^\([[:space:]]*state_dir:\).*|\1 $T/state|" \
    -e "s|^\([[:space:]]*assets:\).*|\1 $T/assets|" \
    -e "s|^\([[:space:]]*templates:\).*|\1 $REPO/examples/templates|" \
	"$REPO/examples/lab.yaml" >"$CFG"
"$BUILD/ironbootd" --check-config "$CFG" || die "the derived config is refused"
grep -q '^http:' "$CFG" || die "examples/lab.yaml has no http: section (HTTP boot service missing)"
ip netns exec "$NS_SRV" "$BUILD/ironbootd" --config "$CFG" \
	</dev/null >"$T/ironbootd.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	grep -q ready "$T/ironbootd.log" && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$T/ironbootd.log"; die "ironbootd exited"; }
	sleep 0.1
done
grep -q ready "$T/ironbootd.log" || { cat "$T/ironbootd.log"; die "ironbootd not ready in 10 s"; }
sed 's/^/  ironbootd: /' "$T/ironbootd.log"

say "4/5 QEMU ($ACCEL): SeaBIOS -> iPXE ROM -> DHCP -> script -> kernel + initrd (serial console follows)"
# SeaBIOS' serial console on COM1 (so iPXE shows too); pxe-virtio.rom wants
# a virtio 1.0 NIC (disable-legacy=on), see tests/e2e/test_qemu_boot.py
printf '\xf8\x03' >"$T/sercon-port"
: >"$T/serial.log"
ip netns exec "$NS_VM" qemu-system-x86_64 -accel "$ACCEL" -nodefaults \
	-display none -smp 1 -m 512 -no-reboot \
	-serial "file:$T/serial.log" \
	-fw_cfg "name=etc/sercon-port,file=$T/sercon-port" \
	-netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
	-device "virtio-net-pci,netdev=n0,mac=$MAC,disable-legacy=on,romfile=$ROM,bootindex=1" \
	-boot n </dev/null >"$T/qemu.log" 2>&1 &
QEMU_PID=$!
# live console, without the firmware's screen-clearing escapes
# (tail's own PID in $!; sed ends when tail closes the pipe)
tail -n +1 -f --pid="$QEMU_PID" "$T/serial.log" > >(
	sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' -e 's/\r//g' -e 's/^/  | /') &
TAIL_PID=$!
start=$(date +%s)
ok=0
while :; do
	if grep -q "$MARKER" "$T/serial.log"; then ok=1; break; fi
	kill -0 "$QEMU_PID" 2>/dev/null || break
	[ $(( $(date +%s) - start )) -lt "$TIMEOUT" ] || break
	sleep 0.5
done
# the initramfs powers off right after the marker; give QEMU a moment
for _ in $(seq 20); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.25; done
grep -q "$MARKER" "$T/serial.log" && ok=1
sleep 0.5
kill "$TAIL_PID" 2>/dev/null || true
wait "$TAIL_PID" 2>/dev/null || true
elapsed=$(( $(date +%s) - start ))

say "5/5 timeline: ironboot events --mac $MAC"
sleep 1          # the journal flushes on a short timer
ip netns exec "$NS_SRV" "$BUILD/ironboot" --config "$CFG" events --mac "$MAC" || true

echo
if [ "$ok" = 1 ]; then
	echo "demo: OK: \"$MARKER\" on the VM's serial console after ${elapsed}s"
else
	echo "demo: FAILED: no \"$MARKER\" within ${TIMEOUT}s" >&2
	echo "--- ironbootd log (tail) ---" >&2
	tail -n 20 "$T/ironbootd.log" >&2
	echo "--- qemu ---" >&2
	cat "$T/qemu.log" >&2
	exit 1
fi
