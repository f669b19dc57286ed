# Sourced by the run.sh scripts of the benches on the boot-storm lab
# (bench/storm, bench/pg): ironboot-storm against ironbootd and against
# Kea + tftpd-hpa + nginx, in namespaces bench/storm/bench.py creates.
# The caller sets $repo (the checkout's top) before sourcing it.
#
#   storm_setup NAME [TOOL...]
#
# Exits 2 unless run as root with the Kea stack's tools (kea-dhcp4,
# kea-dhcp6, in.tftpd, taskset, chrt) and each TOOL on PATH; sets $work to
# a fresh scratch directory /tmp/NAME.XXXXXX (bench/lib/bounded.sh's
# make_work: removed at exit), readable by the servers' users, and unpacks
# nginx into it (bench/lib/nginx.sh's fetch_nginx: sets $nginx_version).
#
#   storm_run SCRIPT [ARG...]
#
# Runs the bench's SCRIPT with /usr/bin/python3 under bench/lib/bounded.sh's
# run_bounded 900, given --work $work/run and the unpacked nginx, then
# ARGs; exits with its status.
storm_setup() {
	local name=$1 t
	shift
	[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }
	for t in kea-dhcp4 kea-dhcp6 in.tftpd taskset chrt "$@"; do
		command -v "$t" >/dev/null || { echo "run.sh: $t missing (scripts/deps.sh bench)" >&2; exit 2; }
	done
	. "$repo/bench/lib/bounded.sh"
	make_work "$name"
	chmod 755 "$work"
	. "$repo/bench/lib/nginx.sh"
	fetch_nginx "$work"
}

storm_run() {
	local script=$1
	shift
	run_bounded 900 /usr/bin/python3 "$script" \
		--work "$work/run" --nginx "$work/nginx/usr/sbin/nginx" "$@"
}
