/*
 * Micro-benchmark of the SQLite store's write path: lease commits per
 * second under group commit, as the DHCP shell drives it (begin, N x
 * lease4_commit + event_append, commit), WAL + synchronous=FULL, so every
 * commit waits for an fsync().  Not a test; numbers depend on the disk.
 *
 * Build by hand (not part of the meson build), from /work/main, after
 * `ninja -C build-store` has built the store and common libraries:
 *
 *   cc -std=c17 -O2 -D_GNU_SOURCE -Isrc bench/store/bench_store.c \
 *      build-store/src/store/libib_store.a \
 *      build-store/src/common/libib_common.a -lsqlite3 -o build-store/bench_store
 *
 * Run: build-store/bench_store [dir] [seconds-per-batch-size]
 *   dir defaults to /tmp (a fresh mkdtemp() directory is made and removed
 *   inside it), seconds to 3.
 */
#include "store/store.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOW 1700000000

/* Lease i of the run: each a distinct client in its own /24. */
static void make_lease(uint32_t i, struct ib_lease4 *l)
{
	memset(l, 0, sizeof(*l));
	l->address = 0x0a000000u + i;
	l->subnet = l->address & 0xffffff00u;
	l->htype = 1;
	l->hw_len = 6;
	memcpy(l->hwaddr, (uint8_t[]){ 0x52, 0x54, (uint8_t)(i >> 24),
		(uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i }, 6);
	snprintf(l->hostname, sizeof(l->hostname), "node-%u", i);
	l->cltt = NOW;
	l->expires = NOW + 3600;
	l->state = IB_LEASE_ACTIVE;
}

static void make_event(const struct ib_lease4 *l, struct ib_event *ev)
{
	char ip[IB_IP4_STRLEN];

	memset(ev, 0, sizeof(*ev));
	ev->ts_us = ib_now_us();
	ib_mac_format(l->hwaddr, l->hw_len, ev->mac, sizeof(ev->mac));
	strcpy(ev->proto, "dhcp4");
	strcpy(ev->kind, "lease-commit");
	ib_ip4_format(l->address, ip);
	snprintf(ev->detail, sizeof(ev->detail), "{\"address\":\"%s\",\"lease\":3600}", ip);
}

/* One group commit of n leases starting at *next; 0 or negative errno. */
static int one_batch(struct ib_store *s, uint32_t *next, unsigned n)
{
	struct ib_lease4 l;
	struct ib_event ev;
	int r = ib_store_begin(s);

	for (unsigned k = 0; r == 0 && k < n; k++) {
		make_lease((*next)++, &l);
		r = ib_store_lease4_commit(s, &l, NOW);
		if (r == 0) {
			make_event(&l, &ev);
			r = ib_store_event_append(s, &ev);
		}
	}
	if (r == 0)
		return ib_store_commit(s);
	ib_store_rollback(s);
	return r;
}

static void remove_db(const char *path)
{
	static const char *const sfx[] = { "", "-wal", "-shm" };
	char p[540];

	for (size_t i = 0; i < IB_ARRAY_SIZE(sfx); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

/* Runs batches of size n for about secs seconds on a fresh database. */
static int run(const char *dir, unsigned n, double secs)
{
	char path[512], err[256];
	struct ib_store *s;
	uint32_t next = 1;
	uint64_t txns = 0;
	int64_t t0, t;
	int r;

	snprintf(path, sizeof(path), "%s/bench.db", dir);
	r = ib_store_sqlite_open(path, &s, err);
	if (r < 0) {
		fprintf(stderr, "open: %s\n", err);
		return r;
	}
	t0 = ib_now_us();
	do {
		r = one_batch(s, &next, n);
		txns++;
		t = ib_now_us();
	} while (r == 0 && (double)(t - t0) < secs * 1e6);
	ib_store_free(s);
	if (r == 0) {
		double el = (double)(t - t0) / 1e6;

		printf("batch %4u: %9.0f leases/s  %8.0f commits/s  (%u leases, %.2f s)\n",
		       n, (double)(next - 1) / el, (double)txns / el, next - 1, el);
	}
	remove_db(path);
	return r;
}

int main(int argc, char **argv)
{
	static const unsigned batches[] = { 1, 16, 128 };
	const char *base = argc > 1 ? argv[1] : "/tmp";
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	char dir[256];
	int r = 0;

	snprintf(dir, sizeof(dir), "%s/ib-bench-XXXXXX", base);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	printf("store %s, schema v%d, WAL + synchronous=FULL, in %s\n",
	       "sqlite", ib_store_schema_version(), base);
	for (size_t i = 0; r == 0 && i < IB_ARRAY_SIZE(batches); i++)
		r = run(dir, batches[i], secs);
	rmdir(dir);
	return r == 0 ? 0 : 1;
}
