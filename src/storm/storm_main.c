/*
 * ironboot-storm: the command line (man/ironboot-storm.1, docs/STORM.md).
 */
#include "storm/storm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/util.h"

static const char usage[] =
"usage: ironboot-storm [OPTIONS]\n"
"Simulates N machines network-booting at once: DHCP as PXE firmware, TFTP of\n"
"the boot file, DHCP as iPXE, HTTP GET of the script, then of the kernel and\n"
"initrds it names.  DHCP goes through a relay (our address as giaddr or in\n"
"RELAY-FORW); TFTP and HTTP leave from each machine's leased address, which\n"
"must be local (ip route add local POOL dev lo) in the namespace.\n"
"\n"
"  -4 / -6                 family (default 4)\n"
"  --server ADDR           DHCP server (port 67 / 547)\n"
"  --relay ADDR            our relay address: giaddr / RELAY-FORW source\n"
"  --helper ADDR           a second DHCP server the relay forwards every datagram to too\n"
"  --server-id-override    DHCPv4: the relay puts its own address in 82.11 (RFC 5107),\n"
"                          so the servers name it as their server identifier\n"
"  --link ADDR             DHCPv6 link-address of RELAY-FORW (default: --relay)\n"
"  --machines N            fleet size (default 100)\n"
"  --within S              power the fleet on at random times within S seconds\n"
"  --rate R                or power on R machines per second (open loop)\n"
"  --until STAGE           dhcp | tftp | dhcp-ipxe | script | kernel (default kernel)\n"
"  --arch N                client arch, RFC 4578 (default 7, EFI x64; 0 BIOS)\n"
"  --mac-base MAC          first MAC (default 52:54:01:00:00:00)\n"
"  --blksize N             TFTP blksize asked (default 1468)\n"
"  --windowsize N          TFTP windowsize asked, 0: none (default 4)\n"
"  --deadline S            machines not done by then fail (default within + 120)\n"
"  --seed N                power-on order (default fixed)\n"
"  --json                  JSON report on stdout instead of the table\n"
"  --hist FILE             latency histograms (TSV) into FILE\n"
"  --acks FILE             \"MAC ADDRESS\" of every acknowledged lease into FILE\n"
"  -v, --verbose           one line per failed machine, and per stage that took\n"
"                          a second or more, on stderr\n"
"  -h, --help\n";

static int parse_stage(const char *s, enum ib_storm_stage *ret)
{
	for (int i = 0; i < IB_STORM__STAGES; i++)
		if (strcmp(s, ib_storm_stage_names[i]) == 0)
			return *ret = (enum ib_storm_stage)i, 0;
	return -EINVAL;
}

/* Number in [lo, hi] or exits with a message. */
static double num(const char *opt, const char *s, double lo, double hi)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "ironboot-storm: %s: %s is not a number in %g..%g\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

/* The addresses of o from the strings given. */
static int set_addrs(struct ib_storm_opts *o, const char *server, const char *relay,
		     const char *link, const char *helper)
{
	if (!server || !relay)
		return fprintf(stderr, "ironboot-storm: --server and --relay are required\n"), -EINVAL;
	o->has_helper = helper != NULL;
	o->helper4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(67) };
	o->helper6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(547) };
	if (helper && (o->family == AF_INET ? inet_pton(AF_INET, helper, &o->helper4.sin_addr) :
		       inet_pton(AF_INET6, helper, &o->helper6.sin6_addr)) != 1)
		return fprintf(stderr, "ironboot-storm: --helper: bad address\n"), -EINVAL;
	if (o->family == AF_INET) {
		o->server4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(67) };
		o->relay4 = o->server4;
		if (inet_pton(AF_INET, server, &o->server4.sin_addr) != 1 ||
		    inet_pton(AF_INET, relay, &o->relay4.sin_addr) != 1)
			return fprintf(stderr, "ironboot-storm: bad IPv4 address\n"), -EINVAL;
		return 0;
	}
	o->server6 = (struct sockaddr_in6){ .sin6_family = AF_INET6, .sin6_port = htons(547) };
	o->relay6 = o->server6;
	if (inet_pton(AF_INET6, server, &o->server6.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, relay, &o->relay6.sin6_addr) != 1 ||
	    inet_pton(AF_INET6, link ? link : relay, o->link6) != 1)
		return fprintf(stderr, "ironboot-storm: bad IPv6 address\n"), -EINVAL;
	return 0;
}

static int parse_args(int argc, char **argv, struct ib_storm_opts *o, bool *json,
		      const char **hist)
{
	static const struct option lo[] = {
		{ "server", 1, 0, 'S' }, { "relay", 1, 0, 'R' }, { "link", 1, 0, 'L' },
		{ "machines", 1, 0, 'n' }, { "within", 1, 0, 'w' }, { "rate", 1, 0, 'r' },
		{ "until", 1, 0, 'u' }, { "arch", 1, 0, 'a' }, { "mac-base", 1, 0, 'm' },
		{ "blksize", 1, 0, 'b' }, { "windowsize", 1, 0, 'W' }, { "deadline", 1, 0, 'd' },
		{ "seed", 1, 0, 's' }, { "json", 0, 0, 'j' }, { "hist", 1, 0, 'H' }, { "acks", 1, 0, 'A' }, { "helper", 1, 0, 'P' },
		{ "server-id-override", 0, 0, 'O' }, { "verbose", 0, 0, 'v' }, { "help", 0, 0, 'h' }, { 0 },
	};
	const char *server = NULL, *relay = NULL, *link = NULL, *helper = NULL;
	int c;

	*o = (struct ib_storm_opts){ .family = AF_INET, .machines = 100, .until = IB_STORM_KERNEL,
				     .arch = 7, .blksize = 1468, .windowsize = 4,
				     .mac_base = { 0x52, 0x54, 0x01 } };
	while ((c = getopt_long(argc, argv, "46vh", lo, NULL)) != -1) {
		switch (c) {
		case '4': o->family = AF_INET; break;
		case '6': o->family = AF_INET6; break;
		case 'S': server = optarg; break;
		case 'R': relay = optarg; break;
		case 'P': helper = optarg; break;
		case 'L': link = optarg; break;
		case 'n': o->machines = (uint32_t)num("--machines", optarg, 1, IB_STORM_MAX_MACHINES - 1); break;
		case 'w': o->within_s = num("--within", optarg, 0, 86400); break;
		case 'r': o->rate = num("--rate", optarg, 0.001, 1e7); break;
		case 'a': o->arch = (uint16_t)num("--arch", optarg, 0, 65535); break;
		case 'b': o->blksize = (uint32_t)num("--blksize", optarg, 8, 65464); break;
		case 'W': o->windowsize = (uint32_t)num("--windowsize", optarg, 0, 65535); break;
		case 'd': o->deadline_s = num("--deadline", optarg, 1, 86400); break;
		case 's': o->seed = (uint64_t)num("--seed", optarg, 0, 1e15); break;
		case 'j': *json = true; break;
		case 'H': *hist = optarg; break;
		case 'A': o->acks_path = optarg; break;
		case 'v': o->verbose = true; break;
		case 'O': o->sid_override = true; break;
		case 'u':
			if (parse_stage(optarg, &o->until) < 0)
				return fprintf(stderr, "ironboot-storm: --until: unknown stage %s\n", optarg), -EINVAL;
			break;
		case 'm':
			if (ib_mac_parse(optarg, o->mac_base) < 0)
				return fprintf(stderr, "ironboot-storm: --mac-base: bad MAC %s\n", optarg), -EINVAL;
			break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); return -EINVAL;
		}
	}
	if (optind < argc || (o->rate > 0 && o->within_s > 0))
		return fputs(usage, stderr), -EINVAL;
	if (!o->deadline_s)
		o->deadline_s = (o->rate > 0 ? o->machines / o->rate : o->within_s) + 120;
	return set_addrs(o, server, relay, link, helper);
}

static uint64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static uint64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int main(int argc, char **argv)
{
	struct ib_storm_opts o;
	struct ib_storm st;
	const char *hist = NULL;
	bool json = false;
	uint64_t c0, w0, c, w;
	int r;

	if (parse_args(argc, argv, &o, &json, &hist) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	c0 = cpu_us();
	w0 = wall_us();
	r = ib_storm_init(&st, &o);
	if (r == 0 && o.acks_path && !(st.acks = fopen(o.acks_path, "we")))
		r = -errno;
	r = r ? r : ib_storm_run(&st);
	if (st.acks && fclose(st.acks) != 0 && r == 0)
		r = -EIO;
	st.acks = NULL;
	c = cpu_us() - c0;
	w = wall_us() - w0;
	if (r < 0) {
		fprintf(stderr, "ironboot-storm: %s\n", strerror(-r));
		ib_storm_done(&st);
		return 1;
	}
	if (json)
		r = ib_storm_report_json(&st, stdout, c, w);
	else
		ib_storm_report_table(&st, stdout, c, w);
	if (hist) {
		FILE *f = fopen(hist, "w");
		r = f ? ib_storm_report_hist(&st, f) : -errno;
		if (f && fclose(f) != 0)
			r = -EIO;
		if (r < 0)
			fprintf(stderr, "ironboot-storm: %s: %s\n", hist, strerror(-r));
	}
	/* exit status: 0 when the whole fleet got there */
	r = r < 0 ? 1 : st.s.done == o.machines ? 0 : 3;
	ib_storm_done(&st);
	return r;
}
