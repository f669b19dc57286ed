#!/bin/sh
# Installs what ironboot needs on Debian 12, as root.  Idempotent; says what
# it installs (nothing when everything is there).
#   scripts/deps.sh build   toolchain and libraries (to build and run)
#   scripts/deps.sh test    also the real clients and peers the tests use
#   scripts/deps.sh bench   also the benchmarks' peers and load tools
#                           (tftpd-hpa, dnsmasq, wrk, matplotlib; never started as services)
set -eu
what=${1:-build}

build_pkgs="build-essential meson ninja-build pkg-config libevent-dev libyaml-dev
  libjansson-dev libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev libcmocka-dev ipxe
  sqlite3 iproute2 libsystemd-dev libfreeipmi-dev
  zlib1g-dev libzstd-dev file"
test_pkgs="clang libclang-rt-14-dev isc-dhcp-client udhcpc kea-admin
  kea-dhcp4-server kea-dhcp6-server ipxe-qemu qemu-system-x86 ovmf python3-scapy python3-pytest python3-pytest-timeout python3-yaml
  tftp-hpa atftp curl busybox tcpdump procps nftables ndisc6
  debhelper dpkg-dev systemd man-db openipmi python3-sushy
  dosfstools mtools syslinux syslinux-common systemd-boot-efi prometheus
  chromium postgresql"

bench_pkgs="tftpd-hpa dnsmasq-base wrk python3-matplotlib"

case $what in
build) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
bench) pkgs="$build_pkgs $test_pkgs $bench_pkgs" ;;
*) echo "usage: scripts/deps.sh build|test|bench" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
# Packages with daemons (kea, tftpd-hpa) must not start them on this machine.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
n=$(echo $missing | wc -w)
echo "deps.sh: installing $n Debian packages for '$what' (apt-get; this can take minutes):$missing"
echo "deps.sh: apt-get update"
apt-get update -qq
echo "deps.sh: apt-get install"
apt-get install -y -q --no-install-recommends $missing |
	grep --line-buffered -E '^(Setting up|Unpacking) ' |
	sed -u 's/^/deps.sh: /' || true
still=""
for p in $missing; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		still="$still $p"
done
if [ -n "$still" ]; then
	[ -n "$made_policy" ] && rm -f "$policy"
	echo "deps.sh: failed to install:$still" >&2
	exit 1
fi
echo "deps.sh: done"
[ -n "$made_policy" ] && rm -f "$policy"
exit 0
