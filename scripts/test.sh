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
set -u
cd "$(dirname "$0")/.."
status=0
stage() { echo; echo "=== $* ==="; }

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

run_pytest() {
	local dir=$1
	ls "$dir"/test_*.py >/dev/null 2>&1 || { echo "no tests in $dir"; return 0; }
	IB_BUILD=$PWD/build-asan \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		/usr/bin/python3 -m pytest -q -p no:cacheprovider "$dir"
	local r=$?
	# pytest exits 5 when every test was deselected/skipped by collection.
	[ $r -eq 0 ] || [ $r -eq 5 ] || status=1
}

stage "protocol tests (network namespaces, real clients)"
run_pytest tests/integration

stage "end-to-end boots (QEMU)"
run_pytest tests/e2e

echo
[ $status -eq 0 ] && echo "ALL STAGES PASSED" || echo "SOME STAGE FAILED"
exit $status
