#!/bin/bash
# Runs the libFuzzer targets of fuzz/ (see docs/FUZZING.md).
#
#   scripts/fuzz.sh [--cpu] SECONDS [TARGET...]
#
# Builds the clang fuzz build in build-fuzz/ (ASan + UBSan; created on
# first use, gitignored), then runs every target, or the ones named (dhcp4,
# tftp_xfer, ...), for SECONDS each, one at a time and at low priority.
# Each run starts from fuzz/corpus/<target>/ and writes what it finds into
# build-fuzz/fuzz-run/<target>/new/; inputs that add coverage are then
# merged back into fuzz/corpus/<target>/ (libFuzzer -merge=1; review and
# commit them).  fuzz/<target>.dict, when present, is the run's dictionary.
#
# SECONDS is wall-clock time; with --cpu it is CPU time of the fuzzer
# process instead (it is interrupted once it has used that much, however
# long that takes on a loaded machine; FUZZ_WALL_MAX, default 8 x SECONDS,
# bounds the wall-clock time all the same).
#
# Prints per target the CPU seconds used, the executions, the coverage (libFuzzer's cov and ft)
# when the seeds were loaded and at the end, the inputs merged and the
# crashes, with the path of each crashing input.  Exits 1 if any target
# crashed (or leaked, or hung), 2 on a usage or build error.
set -u

usage() {
	echo "usage: $0 [--cpu] SECONDS [TARGET...]" >&2
	exit 2
}

cpu_mode=0
if [ "${1:-}" = --cpu ]; then
	cpu_mode=1
	shift
fi
[ $# -ge 1 ] || usage
secs=$1
shift
case "$secs" in ''|*[!0-9]*) usage ;; esac
[ "$secs" -ge 1 ] || usage

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
cd "$root" || exit 2

all=()
for f in fuzz/fuzz_*.c; do
	t=${f#fuzz/fuzz_}
	all+=("${t%.c}")
done
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for t in "${targets[@]}"; do
	if [ ! -f "fuzz/fuzz_$t.c" ]; then
		echo "fuzz.sh: no target $t (have: ${all[*]})" >&2
		exit 2
	fi
done

if [ ! -f "$build/build.ninja" ]; then
	rm -rf "$build"		# a setup that failed half-way
	CC=clang meson setup "$build" -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false >"$build.setup.log" 2>&1 || {
		cat "$build.setup.log" >&2
		echo "fuzz.sh: meson setup failed" >&2
		exit 2
	}
	rm -f "$build.setup.log"
fi
ninja_targets=()
for t in "${targets[@]}"; do
	ninja_targets+=("fuzz/fuzz_$t")
done
nice -n 10 ninja -C "$build" "${ninja_targets[@]}" >"$build/fuzz-build.log" 2>&1 || {
	tail -40 "$build/fuzz-build.log" >&2
	echo "fuzz.sh: build failed (full log: $build/fuzz-build.log)" >&2
	exit 2
}

# Crashes stop the run (UBSan too); leaks and hangs count as crashes.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

# CPU seconds (user + system) used so far by process $1, or nothing.
tick=$(getconf CLK_TCK)
cpu_of() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return
	stat=${stat##*) }	# fields from 3 on (the name may hold spaces)
	set -- $stat
	echo $(( (${12} + ${13}) / tick ))
}

# Runs the fuzzer ("$@") in the background, logging to $run/log; sets rc and
# cpu (seconds used).  In --cpu mode interrupts it (SIGINT: libFuzzer prints
# its final stats and exits 0) once it has used $secs CPU seconds.
run_fuzzer() {
	nice -n 10 "$@" >"$run/log" 2>&1 &
	local pid=$! c stopped=0
	cpu=0
	while kill -0 "$pid" 2>/dev/null; do
		c=$(cpu_of "$pid")
		[ -n "$c" ] && cpu=$c
		if [ "$cpu_mode" = 1 ] && [ "$cpu" -ge "$secs" ]; then
			kill -INT "$pid" 2>/dev/null
			stopped=1
			break
		fi
		sleep 2
	done
	# (stderr dropped: bash's "Aborted" notice for a crashed fuzzer)
	wait "$pid" 2>/dev/null
	rc=$?
	# 72: libFuzzer's exit status when interrupted (-interrupted_exit_code)
	[ "$stopped" = 1 ] && [ "$rc" = 72 ] && rc=0
}

# "N M" from the "cov: N ft: M" of line (a libFuzzer status line).
cov_of() {
	sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1 \2/' <<<"$1"
}

crashed=0
report=()
for t in "${targets[@]}"; do
	run="$build/fuzz-run/$t"
	corpus="fuzz/corpus/$t"
	rm -rf "$run"
	mkdir -p "$run/new" "$corpus"
	wall=$secs
	[ "$cpu_mode" = 1 ] && wall=${FUZZ_WALL_MAX:-$((secs * 8))}
	args=(-max_total_time="$wall" -timeout=30 -print_final_stats=1
	      -artifact_prefix="$run/")
	[ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
	echo "== $t: ${secs}s$([ "$cpu_mode" = 1 ] && echo " of CPU") (log: $run/log)"
	run_fuzzer "$build/fuzz/fuzz_$t" "${args[@]}" "$run/new" "$corpus"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/log" | tail -n 1)
	# coverage once the corpus was loaded, and at the last status line
	read -r cov0 ft0 <<<"$(cov_of "$(grep -a -m1 -E 'INITED.*cov: ' "$run/log")")"
	read -r cov1 ft1 <<<"$(cov_of "$(grep -a -E '^#[0-9]+.*cov: ' "$run/log" | tail -n 1)")"
	crashes=$(sed -n 's/.*Test unit written to //p' "$run/log")
	merged=0
	if [ $rc -eq 0 ] && [ -z "$crashes" ]; then
		before=$(find "$corpus" -maxdepth 1 -type f | wc -l)
		nice -n 10 "$build/fuzz/fuzz_$t" -merge=1 -artifact_prefix="$run/" \
			"$corpus" "$run/new" >"$run/merge.log" 2>&1 || {
			crashes=$(sed -n 's/.*Test unit written to //p' "$run/merge.log")
			[ -n "$crashes" ] || crashes="(merge failed: $run/merge.log)"
		}
		after=$(find "$corpus" -maxdepth 1 -type f | wc -l)
		merged=$((after - before))
	elif [ -z "$crashes" ]; then
		crashes="(exit $rc without a test unit: see $run/log)"
	fi
	if [ -n "$crashes" ]; then
		crashed=1
		echo "   CRASH: $(grep -a -m1 -E 'ERROR: |SUMMARY: |runtime error' "$run/log")"
		while read -r c; do echo "   input: $c"; done <<<"$crashes"
	fi
	report+=("| $t | $secs | $cpu | ${execs:-?} | ${cov0:-?} -> ${cov1:-?} | ${ft0:-?} -> ${ft1:-?} | $merged | $([ -n "$crashes" ] && echo "$crashes" | tr '\n' ' ' || echo 0) |")
done

echo
echo "| target | seconds$([ "$cpu_mode" = 1 ] && echo " (CPU)") | CPU s used | execs | cov before -> after | ft before -> after | merged | crashes |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${report[@]}"
exit $crashed
