#!/bin/bash
# The whole test suite, as CI runs it (`make test` calls this after installing
# the test dependencies):
#   1. build and run unit tests + fuzz corpora (gcc, -O2)
#   2. the same under ASan + UBSan
#   3. protocol tests in network namespaces against real clients (root),
#      against the ASan+UBSan daemon: a leak or UB report fails its test
#      (the daemon must exit 0 after SIGTERM)
#   4. end-to-end QEMU boots (root), same daemon
# Every stage prints its runner's summary; the script fails if any stage does.
#
#   scripts/test.sh               everything (what `make test` and CI run)
#   scripts/test.sh --preflight   only check that every tool the suite
#                                 needs is installed (stage 0)
#
# No stage may skip: pytest runs with -rs and tests/conftest.py turns every
# skip into a failure, and a missing client tool fails stage 0 before any
# test runs (docs/TESTING.md).
set -u
cd "$(dirname "$0")/.."
status=0
stage() { echo; echo "=== $* ==="; }

# Every program, Python module and file the protocol and e2e tests use.
# A missing one is a failed install step (scripts/deps.sh test), never a
# reason to skip.
TOOLS="ip tc nft tcpdump dhclient udhcpc perfdhcp tftp atftp curl busybox
  openssl sqlite3 rdisc6 qemu-system-x86_64 clang meson ninja
  systemd-analyze systemd-sysusers dpkg-buildpackage dpkg-deb dh man setpriv
  ipmi_sim ss pgrep mkfs.vfat mcopy syslinux promtool chromium"
PYMODS="pytest pytest_timeout scapy yaml sushy"
FILES="/usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi
  /usr/lib/ipxe/snponly.efi /usr/lib/ipxe/qemu/pxe-virtio.rom
  /usr/lib/ipxe/qemu/efi-virtio.rom /usr/share/OVMF/OVMF_CODE.fd
  /usr/share/OVMF/OVMF_VARS.fd /dev/net/tun /usr/lib/postgresql/15/bin/pg_ctl"

preflight() {
	local missing="" t
	for t in $TOOLS; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	for t in $PYMODS; do
		/usr/bin/python3 -c "import $t" 2>/dev/null || missing="$missing python3:$t"
	done
	for t in $FILES; do
		[ -e "$t" ] || missing="$missing $t"
	done
	if [ -n "$missing" ]; then
		echo "preflight: missing:$missing" >&2
		echo "preflight: the test install step failed (scripts/deps.sh test)" >&2
		return 1
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "preflight: the protocol tests need root (network namespaces)" >&2
		return 1
	fi
	echo "preflight: every tool the suite needs is installed"
}

if [ "${1:-}" = "--preflight" ]; then
	preflight
	exit
fi

stage "preflight"
preflight || { echo; echo "SOME STAGE FAILED"; exit 1; }

stage "build"
[ -f build/build.ninja ] || meson setup build >/dev/null || exit 1
ninja -C build || exit 1

stage "unit tests and fuzz corpora"
meson test -C build --print-errorlogs || status=1

stage "unit tests and fuzz corpora under ASan+UBSan"
[ -f build-asan/build.ninja ] ||
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || exit 1
ninja -C build-asan >/dev/null || exit 1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	meson test -C build-asan --print-errorlogs || status=1

# -rsxX lists every skip (there must be none: conftest fails them) and
# xfail; --timeout bounds each test (pytest-timeout); exit 5 (nothing
# collected) is a failure like any other non-zero status.
run_pytest() {
	local dir=$1 timeout=$2
	IB_BUILD=$PWD/build-asan \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		/usr/bin/python3 -m pytest -q -rsxX -p no:cacheprovider \
		--timeout="$timeout" "$dir" || status=1
}

stage "protocol tests (network namespaces, real clients)"
run_pytest tests/integration 300

stage "end-to-end boots (QEMU)"
run_pytest tests/e2e 900

echo
[ $status -eq 0 ] && echo "ALL STAGES PASSED" || echo "SOME STAGE FAILED"
exit $status
