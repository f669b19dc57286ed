# Sourced by the bench/*/run.sh scripts.
#
#   make_work NAME
#
# Sets $work to a fresh scratch directory /tmp/NAME.XXXXXX, removed when
# the script exits; INT, TERM and HUP make it exit (130, 143), so the
# directory goes then too.
make_work() {
	work=$(mktemp -d "/tmp/$1.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM HUP
}

#   run_bounded SECONDS COMMAND [ARG...]
#
# Runs COMMAND (a bench.py, which deletes its namespaces and kills its
# servers and VMs by PID on exit or SIGTERM) under `timeout SECONDS`, and
# exits with its status.  `timeout` runs in its own process group, so a
# Ctrl-C at the terminal only reaches the calling shell: INT, TERM and HUP
# are forwarded to it as SIGTERM (it passes that on), and the shell waits
# until it has really ended.
run_bounded() {
	local secs=$1 child rc=0
	shift
	timeout --kill-after=20 "$secs" "$@" &
	child=$!
	trap 'kill -TERM "$child" 2>/dev/null' INT TERM HUP
	while :; do
		wait "$child" && rc=0 || rc=$?
		kill -0 "$child" 2>/dev/null || break
	done
	exit "$rc"
}
