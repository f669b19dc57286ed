/*
 * `ironboot doctor [--mac MAC]`: the shell of the doctor's rules
 * (src/doctor).  Without --mac it gathers the host's facts (addresses by
 * getifaddrs, listening sockets from /proc/net, pool use from the store,
 * recent journal events) and runs the setup rules; with --mac it reads the
 * machine's journal and runs the machine rules.  Both read boot files and
 * assets through probe_file(), confined under their root.  Prints the
 * findings, or --json; the exit status is the worst severity (0, 1, 2).
 */
#include "cli/doctor_cmd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "doctor/doctor.h"

#define MAX_ADDRS 256
#define MAX_LISTEN 1024
#define MAX_EVENTS 4000

/* Events read from the store, oldest first. */
struct evlist {
	struct ib_event *v;		/* owned */
	size_t n, cap;
};

static int collect_event(const struct ib_event *e, void *arg)
{
	struct evlist *l = arg;

	if (l->n == l->cap)
		return 0;
	l->v[l->n++] = *e;
	return 0;
}

static int read_events(struct ib_store *store, const char *mac, struct evlist *l)
{
	struct ib_event_filter f = { .mac = mac, .limit = MAX_EVENTS };

	l->cap = MAX_EVENTS;
	l->n = 0;
	if (!(l->v = calloc(l->cap, sizeof(*l->v))))
		return -ENOMEM;
	return ib_store_event_foreach(store, &f, collect_event, l);
}

/* A URL's server asked with HEAD (redirects followed, 5 s at most). */
static int probe_url(const char *url, struct ib_doctor_file *ret)
{
	CURL *h = curl_easy_init();
	long code = 0;
	curl_off_t len = -1;
	CURLcode rc;

	if (!h) {
		snprintf(ret->error, sizeof(ret->error), "out of memory");
		return 0;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	}
	curl_easy_cleanup(h);
	if (rc != CURLE_OK)
		snprintf(ret->error, sizeof(ret->error), "%s", curl_easy_strerror(rc));
	else if (code < 200 || code > 299)
		snprintf(ret->error, sizeof(ret->error), "HTTP %ld", code);
	ret->exists = rc == CURLE_OK && code >= 200 && code <= 299;
	ret->size = len > 0 ? (uint64_t)len : 0;
	return 0;
}

/*
 * The probe: name under root, refusing absolute names and "..", reading
 * its size and first bytes.  Symlinks inside the root are followed (the
 * examples link assets from a cache).  Without a root, name is a URL.
 */
static int probe_file(void *ctx, const char *root, const char *name,
		      struct ib_doctor_file *ret)
{
	struct stat st;
	ssize_t n;
	int dfd, fd;

	memset(ret, 0, sizeof(*ret));
	if (!root)
		return probe_url(name, ret);
	if (name[0] == '/' || strstr(name, "..")) {
		snprintf(ret->error, sizeof(ret->error), "refused: leaves the root");
		return 0;
	}
	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(ret->error, sizeof(ret->error), "root %s: %s", root, strerror(errno));
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	close(dfd);
	if (fd < 0) {
		snprintf(ret->error, sizeof(ret->error), "%s", strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(ret->error, sizeof(ret->error), "not a regular file");
		close(fd);
		return 0;
	}
	n = pread(fd, ret->head, sizeof(ret->head), 0);
	close(fd);
	ret->exists = true;
	ret->size = (uint64_t)st.st_size;
	ret->head_len = n > 0 ? (size_t)n : 0;
	return 0;
}

static size_t host_addrs(struct ib_doctor_addr *out, size_t cap)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && n < cap; i = i->ifa_next) {
		struct ib_doctor_addr *a = &out[n];

		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		memset(a, 0, sizeof(*a));
		snprintf(a->ifname, sizeof(a->ifname), "%s", i->ifa_name);
		a->family = i->ifa_addr->sa_family;
		if (a->family == AF_INET)
			memcpy(a->addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		else
			memcpy(a->addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

/* Sockets of /proc/net/{udp,udp6,tcp,tcp6}: every UDP one, TCP in LISTEN. */
static size_t host_listening(struct ib_doctor_listen *out, size_t cap)
{
	static const char *const files[] = { "/proc/net/udp", "/proc/net/udp6",
					     "/proc/net/tcp", "/proc/net/tcp6" };
	size_t n = 0;

	for (size_t k = 0; k < 4; k++) {
		FILE *f = fopen(files[k], "re");
		char line[512];

		if (!f)
			continue;
		while (n < cap && fgets(line, sizeof(line), f)) {
			unsigned port, state;
			char *colon;

			/* "  0: 0100007F:0043 00000000:0000 0A ..." */
			colon = strchr(line, ':');
			if (!colon || !(colon = strchr(colon + 1, ':')) ||
			    sscanf(colon + 1, "%x %*s %x", &port, &state) != 2)
				continue;
			if (k >= 2 && state != 0x0a)
				continue;
			out[n++] = (struct ib_doctor_listen){ .udp = k < 2, .port = (uint16_t)port };
		}
		fclose(f);
	}
	return n;
}

struct pool_count {
	int64_t now;
	uint64_t used;
};

static int count_lease(const struct ib_lease4 *l, void *arg)
{
	struct pool_count *pc = arg;

	if (l->state == IB_LEASE_ACTIVE && l->expires > pc->now)
		pc->used++;
	return 0;
}

static void pool_use(const struct ib_config *cfg, struct ib_store *store,
		     struct ib_doctor_pool_use *out)
{
	for (size_t i = 0; i < cfg->dhcp4.n_subnets; i++) {
		const struct ib_subnet4 *sn = &cfg->dhcp4.subnets[i];

		out[i] = (struct ib_doctor_pool_use){ 0 };
		for (size_t p = 0; p < sn->n_pools; p++) {
			struct pool_count pc = { .now = ib_now_sec() };

			ib_store_lease4_foreach(store, sn->pools[p].start, sn->pools[p].end,
						count_lease, &pc);
			out[i].size += (uint64_t)sn->pools[p].end - sn->pools[p].start + 1;
			out[i].used += pc.used;
		}
	}
}

static void print_report(const struct ib_doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct ib_doctor_finding *f = &r->v[i];
		char buf[4 * IB_DOCTOR_TEXT];

		printf("%-7s  %s\n", ib_doctor_sev_str(f->severity), f->rule);
		ib_str_sanitize((const uint8_t *)f->cause, strlen(f->cause), buf, sizeof(buf));
		printf("  cause:    %s\n", buf);
		ib_str_sanitize((const uint8_t *)f->fix, strlen(f->fix), buf, sizeof(buf));
		printf("  fix:      %s\n", buf);
		if (f->evidence[0]) {
			ib_str_sanitize((const uint8_t *)f->evidence, strlen(f->evidence), buf,
					sizeof(buf));
			printf("  evidence: %s\n", buf);
		}
	}
	if (r->more)
		printf("(%zu more findings not shown)\n", r->more);
}

static int finish(const struct ib_doctor_report *r, bool json, const char *mac)
{
	int st = ib_doctor_status(r);

	if (json) {
		json_t *o = ib_doctor_report_json(r, mac);

		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
		return st;
	}
	if (mac) {
		printf("machine %s: %s\n", mac, r->stopped);
		if (r->n)
			printf("most likely: %s: %s\n", r->v[0].rule, r->v[0].cause);
		else
			printf("no known failure pattern in its journal\n");
	} else if (!r->n) {
		printf("no problems found\n");
	}
	if (r->n) {
		size_t n[3] = { 0 };

		for (size_t i = 0; i < r->n; i++)
			n[r->v[i].severity]++;
		printf("%zu error(s), %zu warning(s), %zu note(s)\n\n", n[IB_DOCTOR_ERROR],
		       n[IB_DOCTOR_WARNING], n[IB_DOCTOR_INFO]);
	}
	print_report(r);
	return st;
}

/* What the rules are given, on the heap (a report is ~60 KB). */
struct setup_facts {
	struct ib_doctor_report rep;			/* the findings */
	struct ib_doctor_addr addrs[MAX_ADDRS];		/* the host's addresses */
	struct ib_doctor_listen listen[MAX_LISTEN];	/* its listening sockets */
};

static int doctor_mac(const struct ib_config *cfg, struct ib_store *store, bool json,
		      const char *mac)
{
	struct setup_facts *sf = calloc(1, sizeof(*sf));
	struct ib_doctor_report *rep = sf ? &sf->rep : NULL;
	struct ib_doctor_host h = { 0 };
	struct evlist l = { 0 };
	int r;

	if (!rep || (r = read_events(store, mac, &l)) < 0) {
		fprintf(stderr, "ironboot: cannot read events: %s\n",
			strerror(rep ? -r : ENOMEM));
		free(l.v);
		free(sf);
		return 2;
	}
	h.addrs = sf->addrs;
	h.n_addrs = host_addrs(sf->addrs, MAX_ADDRS);
	ib_doctor_mac(&(struct ib_doctor_mac_input){ .cfg = cfg, .ev = l.v, .n_ev = l.n,
		      .now_us = ib_now_us(), .probe = probe_file, .host = &h }, rep);
	free(l.v);
	r = finish(rep, json, mac);
	free(sf);
	return r;
}


static int doctor_setup(const struct ib_cli_doctor_env *env, bool json)
{
	const struct ib_config *cfg = env->cfg;
	struct setup_facts *sf = calloc(1, sizeof(*sf));
	struct ib_doctor_pool_use *pools = calloc(cfg->dhcp4.n_subnets + 1, sizeof(*pools));
	struct ib_doctor_host h = { .pools = pools, .probe = probe_file,
				    .daemon_running = ib_cli_daemon_running(cfg),
				    .store_error = env->store ? NULL : env->store_error };
	struct evlist l = { 0 };
	int st = 2;

	if (!sf || !pools) {
		fprintf(stderr, "ironboot: out of memory\n");
		goto out;
	}
	h.addrs = sf->addrs;
	h.listening = sf->listen;
	h.n_addrs = host_addrs(sf->addrs, MAX_ADDRS);
	h.n_listening = host_listening(sf->listen, MAX_LISTEN);
	if (!env->store)
		h.pools = NULL;		/* no leases to count, no journal to read */
	else
		pool_use(cfg, env->store, pools);
	/* the recent events of all machines: relays seen */
	if (env->store && read_events(env->store, NULL, &l) == 0) {
		h.ev = l.v;
		h.n_ev = l.n;
	}
	ib_doctor_setup(cfg, &h, &sf->rep);
	st = finish(&sf->rep, json, NULL);
out:
	free(l.v);
	free(pools);
	free(sf);
	return st;
}

int ib_cli_doctor(const struct ib_cli_doctor_env *env, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mac", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char mac[IB_MAC_STRLEN] = "";
	uint8_t m[6];
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "m:", opts, NULL)) != -1) {
		if (o != 'm' || ib_mac_parse(optarg, m) < 0) {
			fprintf(stderr, "usage: ironboot [--json] doctor [--mac MAC]\n");
			return 2;
		}
		ib_mac_format(m, 6, mac, sizeof(mac));
	}
	if (optind < argc) {
		fprintf(stderr, "usage: ironboot [--json] doctor [--mac MAC]\n");
		return 2;
	}
	if (mac[0] && !env->store) {
		fprintf(stderr, "ironboot: cannot open the store %s: no journal to read\n",
			env->store_error);
		return 2;
	}
	return mac[0] ? doctor_mac(env->cfg, env->store, env->json, mac) :
			doctor_setup(env, env->json);
}
