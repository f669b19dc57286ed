/*
 * Unit tests of the store (src/store), on SQLite and, under meson's
 * store_pg test, on PostgreSQL (store_fixture.h): IPv4 lease arbitration,
 * lookups, walks, reclaim, the journal, transactions, meta settings, schema
 * migrations, failure handling and durability across kill -9 (IPv6 leases:
 * test_store6.c).  Each test
 * gets a fresh database in its own mkdtemp() directory under /tmp, removed
 * afterwards.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_pg_int.h"
#include "store_fixture.h"

/* A lease of client mac 52:54:00:00:00:<mac> (client-id cid or none). */
static struct ib_lease4 mk_lease(uint32_t addr, uint8_t mac, const char *cid,
				 int64_t cltt, int64_t expires)
{
	struct ib_lease4 l;

	memset(&l, 0, sizeof(l));
	l.address = addr;
	l.subnet = addr & 0xffffff00u;
	l.htype = 1;
	l.hw_len = 6;
	memcpy(l.hwaddr, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, mac }, 6);
	if (cid) {
		l.client_id_len = (uint8_t)strlen(cid);
		memcpy(l.client_id, cid, l.client_id_len);
	}
	snprintf(l.hostname, sizeof(l.hostname), "host-%u", mac);
	l.cltt = cltt;
	l.expires = expires;
	l.state = IB_LEASE_ACTIVE;
	return l;
}

static void assert_lease_equal(const struct ib_lease4 *a, const struct ib_lease4 *b)
{
	assert_int_equal(a->address, b->address);
	assert_int_equal(a->subnet, b->subnet);
	assert_int_equal(a->htype, b->htype);
	assert_int_equal(a->hw_len, b->hw_len);
	assert_memory_equal(a->hwaddr, b->hwaddr, a->hw_len);
	assert_int_equal(a->client_id_len, b->client_id_len);
	assert_memory_equal(a->client_id, b->client_id, a->client_id_len);
	assert_string_equal(a->hostname, b->hostname);
	assert_int_equal(a->cltt, b->cltt);
	assert_int_equal(a->expires, b->expires);
	assert_int_equal(a->state, b->state);
}


/* ---- lease4_commit arbitration, table-driven ---- */

/* One side of a conflict case: who holds or asks for the address. */
struct who {
	uint8_t mac;		/* last byte of 52:54:00:00:00:xx */
	uint8_t htype;		/* 0 = Ethernet (1) */
	const char *cid;	/* client-id text, or NULL */
};

struct conflict_case {
	const char *name;
	bool have_row;			/* false: address never leased */
	struct who old;			/* stored row's client */
	enum ib_lease_state old_state;	/* stored row's state */
	int64_t old_expires;		/* stored row's expiry */
	struct who new;			/* committing client */
	int want;			/* 0 or -EEXIST */
};

static const struct conflict_case conflict_cases[] = {
	{ "free: no row", false, { 0 }, 0, 0, { 1, 0, NULL }, 0 },
	{ "free: released", true, { 2, 0, NULL }, IB_LEASE_RELEASED, NOW + 600,
	  { 1, 0, NULL }, 0 },
	{ "free: expired state", true, { 2, 0, NULL }, IB_LEASE_EXPIRED, NOW + 600,
	  { 1, 0, NULL }, 0 },
	{ "free: active past expiry", true, { 2, 0, NULL }, IB_LEASE_ACTIVE, NOW - 1,
	  { 1, 0, NULL }, 0 },
	{ "free: active expiring now", true, { 2, 0, NULL }, IB_LEASE_ACTIVE, NOW,
	  { 1, 0, NULL }, 0 },
	{ "same client by cid, other mac", true, { 2, 0, "cid-a" }, IB_LEASE_ACTIVE,
	  NOW + 600, { 3, 0, "cid-a" }, 0 },
	{ "same client by mac", true, { 2, 0, NULL }, IB_LEASE_ACTIVE, NOW + 600,
	  { 2, 0, NULL }, 0 },
	{ "other client active", true, { 2, 0, NULL }, IB_LEASE_ACTIVE, NOW + 600,
	  { 1, 0, NULL }, -EEXIST },
	{ "other cid, same mac", true, { 2, 0, "cid-a" }, IB_LEASE_ACTIVE, NOW + 600,
	  { 2, 0, "cid-b" }, -EEXIST },
	{ "old has cid, new none, same mac", true, { 2, 0, "cid-a" }, IB_LEASE_ACTIVE,
	  NOW + 600, { 2, 0, NULL }, -EEXIST },
	{ "old none, new cid, same mac", true, { 2, 0, NULL }, IB_LEASE_ACTIVE,
	  NOW + 600, { 2, 0, "cid-a" }, -EEXIST },
	{ "same mac, other htype", true, { 2, 0, NULL }, IB_LEASE_ACTIVE, NOW + 600,
	  { 2, 6, NULL }, -EEXIST },
	{ "declined quarantine, other client", true, { 2, 0, NULL },
	  IB_LEASE_DECLINED, NOW + 600, { 1, 0, NULL }, -EEXIST },
	{ "declined quarantine, its decliner", true, { 2, 0, NULL },
	  IB_LEASE_DECLINED, NOW + 600, { 2, 0, NULL }, -EEXIST },
	{ "declined, quarantine over", true, { 2, 0, NULL }, IB_LEASE_DECLINED,
	  NOW - 1, { 1, 0, NULL }, 0 },
};

static struct ib_lease4 who_lease(uint32_t addr, const struct who *w, int64_t cltt,
				  int64_t expires)
{
	struct ib_lease4 l = mk_lease(addr, w->mac, w->cid, cltt, expires);

	if (w->htype)
		l.htype = w->htype;
	return l;
}

static void test_commit_rules(void **state)
{
	struct fix *f = *state;

	for (size_t i = 0; i < sizeof(conflict_cases) / sizeof(conflict_cases[0]); i++) {
		const struct conflict_case *c = &conflict_cases[i];
		/* one subnet per case, so "one lease per client" never crosses */
		uint32_t addr = SUBNET + ((uint32_t)i << 8) + 10;
		struct ib_lease4 old = who_lease(addr, &c->old, NOW - 100, c->old_expires);
		struct ib_lease4 nw = who_lease(addr, &c->new, NOW, NOW + 3600);
		struct ib_lease4 got;
		int r;

		print_message("case: %s\n", c->name);
		if (c->have_row) {
			assert_int_equal(ib_store_lease4_commit(f->s, &old, 0), 0);
			assert_int_equal(ib_store_lease4_set_state(f->s, addr, c->old_state,
								   c->old_expires), 0);
			old.state = c->old_state;
		}
		r = ib_store_lease4_commit(f->s, &nw, NOW);
		assert_int_equal(r, c->want);
		assert_int_equal(ib_store_lease4_get(f->s, addr, &got), 0);
		assert_lease_equal(&got, r == 0 ? &nw : &old);
	}
}

static void test_commit_one_per_client(void **state)
{
	struct fix *f = *state;
	struct ib_lease4 a = mk_lease(SUBNET + 10, 1, "cid-x", NOW, NOW + 600);
	struct ib_lease4 b = mk_lease(SUBNET + 11, 1, "cid-x", NOW + 1, NOW + 600);
	struct ib_lease4 c = mk_lease(SUBNET + 0x100 + 12, 1, "cid-x", NOW + 2, NOW + 600);
	struct ib_lease4 m1 = mk_lease(SUBNET + 20, 7, NULL, NOW, NOW + 600);
	struct ib_lease4 m2 = mk_lease(SUBNET + 21, 7, NULL, NOW, NOW + 600);
	struct ib_lease4 got;

	assert_int_equal(ib_store_lease4_commit(f->s, &a, NOW), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &b, NOW), 0);
	assert_int_equal(ib_store_lease4_get(f->s, a.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_RELEASED);
	/* another subnet: both stay */
	assert_int_equal(ib_store_lease4_commit(f->s, &c, NOW), 0);
	assert_int_equal(ib_store_lease4_get(f->s, b.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_ACTIVE);
	/* by hwaddr, and the cid client with the same... other mac untouched */
	assert_int_equal(ib_store_lease4_commit(f->s, &m1, NOW), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &m2, NOW), 0);
	assert_int_equal(ib_store_lease4_get(f->s, m1.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_RELEASED);
	assert_int_equal(ib_store_lease4_get(f->s, m2.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_ACTIVE);
	assert_int_equal(ib_store_lease4_get(f->s, b.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_ACTIVE);
	/* same mac bytes, other hardware type: another client */
	m1 = mk_lease(SUBNET + 22, 7, NULL, NOW, NOW + 600);
	m1.htype = 6;
	assert_int_equal(ib_store_lease4_commit(f->s, &m1, NOW), 0);
	assert_int_equal(ib_store_lease4_get(f->s, m2.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_ACTIVE);
	/* renewing the same address keeps it */
	b.cltt += 100;
	assert_int_equal(ib_store_lease4_commit(f->s, &b, NOW), 0);
	assert_int_equal(ib_store_lease4_get(f->s, b.address, &got), 0);
	assert_lease_equal(&got, &b);
}

static void test_commit_invalid(void **state)
{
	struct fix *f = *state;
	struct ib_lease4 l = mk_lease(SUBNET + 1, 1, NULL, NOW, NOW + 60);
	struct ib_lease4 got;

	l.hw_len = IB_HWADDR_MAX + 1;
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), -EINVAL);
	l = mk_lease(SUBNET + 1, 1, NULL, NOW, NOW + 60);
	memset(l.hostname, 'x', sizeof(l.hostname));	/* unterminated */
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), -EINVAL);
	assert_int_equal(ib_store_lease4_get(f->s, SUBNET + 1, &got), -ENOENT);
	/* extremes round-trip: top address, 16-byte hwaddr, 255-byte cid */
	l = mk_lease(0xffffffffu, 1, NULL, INT64_MIN, INT64_MAX);
	l.hw_len = IB_HWADDR_MAX;
	memset(l.hwaddr, 0xab, IB_HWADDR_MAX);
	l.client_id_len = IB_STORE_CLIENT_ID_MAX;
	memset(l.client_id, 0, IB_STORE_CLIENT_ID_MAX);	/* NUL bytes too */
	memset(l.hostname, 'h', sizeof(l.hostname) - 1);
	l.hostname[sizeof(l.hostname) - 1] = '\0';
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_lease4_get(f->s, 0xffffffffu, &got), 0);
	assert_lease_equal(&got, &l);
}

/* ---- lookups ---- */

/* lease4_count: a range's unexpired ACTIVE and DECLINED leases, its ends
 * included; expired, released and out-of-range rows left out. */
static void test_lease4_count(void **state)
{
	struct fix *f = *state;
	static const struct {
		uint32_t host;
		enum ib_lease_state st;
		int64_t expires;
	} rows[] = {
		{ 9, IB_LEASE_ACTIVE, NOW + 600 },	/* below the range */
		{ 10, IB_LEASE_ACTIVE, NOW + 600 },	/* its first address */
		{ 11, IB_LEASE_ACTIVE, NOW },		/* expires now: not counted */
		{ 12, IB_LEASE_DECLINED, NOW + 600 },
		{ 13, IB_LEASE_RELEASED, NOW + 600 },
		{ 14, IB_LEASE_DECLINED, NOW - 1 },	/* quarantine over */
		{ 15, IB_LEASE_EXPIRED, NOW + 600 },
		{ 19, IB_LEASE_ACTIVE, NOW + 600 },	/* its last address */
		{ 20, IB_LEASE_ACTIVE, NOW + 600 },	/* above the range */
	};
	struct ib_lease_count c = { 99, 99 };

	assert_int_equal(ib_store_lease4_count(f->s, SUBNET + 10, SUBNET + 19, NOW, &c), 0);
	assert_true(c.active == 0 && c.declined == 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ib_lease4 l = mk_lease(SUBNET + rows[i].host, (uint8_t)(i + 1), NULL,
					      NOW - 10, NOW + 600);

		assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW - 10), 0);
		assert_int_equal(ib_store_lease4_set_state(f->s, l.address, rows[i].st,
							   rows[i].expires), 0);
	}
	assert_int_equal(ib_store_lease4_count(f->s, SUBNET + 10, SUBNET + 19, NOW, &c), 0);
	assert_int_equal(c.active, 2);
	assert_int_equal(c.declined, 1);
	assert_int_equal(ib_store_lease4_count(f->s, SUBNET, SUBNET + 255, NOW, &c), 0);
	assert_int_equal(c.active, 4);
	assert_int_equal(c.declined, 1);
	/* earlier, the quarantine of 14 and the lease of 11 still run */
	assert_int_equal(ib_store_lease4_count(f->s, SUBNET, SUBNET + 255, NOW - 2, &c), 0);
	assert_int_equal(c.active, 5);
	assert_int_equal(c.declined, 2);
	assert_int_equal(ib_store_lease4_count(f->s, SUBNET + 21, SUBNET + 255, NOW, &c), 0);
	assert_true(c.active == 0 && c.declined == 0);
}

/* SQLite: a pool's count goes through the address key (both families). */
static void test_count_plan(void **state)
{
	struct fix *f = *state;

	assert_count_plan(f->path, IB_SS_SQL_COUNT("leases4"));
	assert_count_plan(f->path, IB_SS_SQL_COUNT("leases6"));
}

static void test_get_set_state(void **state)
{
	struct fix *f = *state;
	struct ib_lease4 l = mk_lease(SUBNET + 5, 1, NULL, NOW, NOW + 60);
	struct ib_lease4 got;

	assert_int_equal(ib_store_lease4_get(f->s, SUBNET + 5, &got), -ENOENT);
	assert_int_equal(ib_store_lease4_set_state(f->s, SUBNET + 5, IB_LEASE_RELEASED,
						   NOW), -ENOENT);
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_lease4_set_state(f->s, SUBNET + 5, 9, NOW), -EINVAL);
	assert_int_equal(ib_store_lease4_set_state(f->s, SUBNET + 5, IB_LEASE_RELEASED,
						   NOW + 1), 0);
	assert_int_equal(ib_store_lease4_get(f->s, SUBNET + 5, &got), 0);
	assert_int_equal(got.state, IB_LEASE_RELEASED);
	assert_int_equal(got.expires, NOW + 1);
}

static void test_find_client(void **state)
{
	struct fix *f = *state;
	struct ib_lease4 old = mk_lease(SUBNET + 1, 1, "cid-a", NOW, NOW + 60);
	struct ib_lease4 newer = mk_lease(SUBNET + 0x100 + 2, 9, "cid-a", NOW + 50, NOW + 60);
	struct ib_lease4 hw1 = mk_lease(SUBNET + 3, 1, NULL, NOW + 10, NOW + 60);
	struct ib_lease4 hw2 = mk_lease(SUBNET + 0x200 + 4, 1, NULL, NOW + 20, NOW + 60);
	const uint8_t mac1[6] = { 0x52, 0x54, 0, 0, 0, 1 };
	const uint8_t mac9[6] = { 0x52, 0x54, 0, 0, 0, 9 };
	struct ib_lease4 got;

	assert_int_equal(ib_store_lease4_find_client(f->s, mac1, 6, NULL, 0, &got), -ENOENT);
	assert_int_equal(ib_store_lease4_commit(f->s, &old, NOW), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &newer, NOW), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &hw1, NOW), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &hw2, NOW), 0);
	/* by client-id: newest by cltt, whatever the mac */
	assert_int_equal(ib_store_lease4_find_client(f->s, mac1, 6,
			 (const uint8_t *)"cid-a", 5, &got), 0);
	assert_lease_equal(&got, &newer);
	assert_int_equal(ib_store_lease4_find_client(f->s, mac1, 6,
			 (const uint8_t *)"cid-z", 5, &got), -ENOENT);
	/* by hwaddr: newest of the rows without client-id */
	assert_int_equal(ib_store_lease4_find_client(f->s, mac1, 6, NULL, 0, &got), 0);
	assert_lease_equal(&got, &hw2);
	assert_int_equal(ib_store_lease4_find_client(f->s, mac9, 6, NULL, 0, &got), -ENOENT);
	assert_int_equal(ib_store_lease4_find_client(f->s, mac1, 0, NULL, 0, &got), -EINVAL);
	/* any state counts */
	assert_int_equal(ib_store_lease4_set_state(f->s, hw2.address, IB_LEASE_EXPIRED,
						   NOW), 0);
	assert_int_equal(ib_store_lease4_find_client(f->s, mac1, 6, NULL, 0, &got), 0);
	assert_int_equal(got.address, hw2.address);
	assert_int_equal(got.state, IB_LEASE_EXPIRED);
}

/* Collects addresses seen by a walk; stops (returns 7) at stop_at. */
struct walk {
	uint32_t seen[64];	/* addresses in call order */
	size_t n;		/* how many */
	uint32_t stop_at;	/* 0 = never */
	struct ib_store *s;	/* for the nesting check */
	int nested;		/* result of a nested walk */
};

static int walk_cb(const struct ib_lease4 *l, void *ctx)
{
	struct walk *w = ctx;

	w->seen[w->n++] = l->address;
	if (w->s)
		w->nested = ib_store_lease4_foreach(w->s, 0, UINT32_MAX, walk_cb, NULL);
	return l->address == w->stop_at ? 7 : 0;
}

static void test_foreach_ranges(void **state)
{
	struct fix *f = *state;
	const uint32_t addrs[] = { 0xffffffffu, SUBNET + 3, SUBNET + 1, 0x80000000u,
				   SUBNET + 2, 1 };
	struct walk w;

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct ib_lease4 l = mk_lease(addrs[i], (uint8_t)i, NULL, NOW, NOW + 60);

		assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), 0);
	}
	memset(&w, 0, sizeof(w));
	assert_int_equal(ib_store_lease4_foreach(f->s, 0, UINT32_MAX, walk_cb, &w), 0);
	assert_int_equal(w.n, 6);
	assert_int_equal(w.seen[0], 1);
	assert_int_equal(w.seen[1], SUBNET + 1);
	assert_int_equal(w.seen[4], 0x80000000u);
	assert_int_equal(w.seen[5], 0xffffffffu);
	/* inclusive bounds */
	memset(&w, 0, sizeof(w));
	assert_int_equal(ib_store_lease4_foreach(f->s, SUBNET + 1, SUBNET + 2, walk_cb, &w), 0);
	assert_int_equal(w.n, 2);
	assert_int_equal(w.seen[1], SUBNET + 2);
	/* empty and inverted ranges */
	memset(&w, 0, sizeof(w));
	assert_int_equal(ib_store_lease4_foreach(f->s, SUBNET + 4, SUBNET + 9, walk_cb, &w), 0);
	assert_int_equal(ib_store_lease4_foreach(f->s, SUBNET + 3, SUBNET + 1, walk_cb, &w), 0);
	assert_int_equal(w.n, 0);
	/* a callback's non-zero return stops the walk and is returned */
	memset(&w, 0, sizeof(w));
	w.stop_at = SUBNET + 2;
	assert_int_equal(ib_store_lease4_foreach(f->s, 0, UINT32_MAX, walk_cb, &w), 7);
	assert_int_equal(w.n, 3);
	/* nesting the same walk is refused; the outer walk goes on */
	memset(&w, 0, sizeof(w));
	w.s = f->s;
	assert_int_equal(ib_store_lease4_foreach(f->s, 0, UINT32_MAX, walk_cb, &w), 0);
	assert_int_equal(w.nested, -EBUSY);
	assert_int_equal(w.n, 6);
}

/* ---- reclaim ---- */

/* Records reclaim callbacks; fails with -ECANCELED at fail_at. */
struct reclaim_log {
	size_t n;			/* callbacks seen */
	uint32_t fail_at;		/* 0 = never */
	enum ib_lease_state states[300]; /* state seen by each callback */
	struct ib_store *s;		/* to check the row is not yet changed */
};

static int reclaim_cb(const struct ib_lease4 *l, void *ctx)
{
	struct reclaim_log *g = ctx;
	struct ib_lease4 now;

	if (l->address == g->fail_at)
		return -ECANCELED;
	/* called before the change: the stored row still has its old state */
	assert_int_equal(ib_store_lease4_get(g->s, l->address, &now), 0);
	assert_int_equal(now.state, l->state);
	g->states[g->n++] = l->state;
	return 0;
}

static void test_reclaim(void **state)
{
	struct fix *f = *state;
	struct reclaim_log g = { .s = f->s };
	struct ib_lease4 l, got;

	const struct reclaim_row *rows = reclaim_rows;	/* addresses .1 to .6 */
	for (uint32_t i = 0; i < 6; i++) {
		l = mk_lease(SUBNET + 1 + i, (uint8_t)(1 + i), NULL, NOW - 100, rows[i].exp);
		assert_int_equal(ib_store_lease4_commit(f->s, &l, 0), 0);
		assert_int_equal(ib_store_lease4_set_state(f->s, l.address, rows[i].st,
							   rows[i].exp), 0);
	}
	/* a failing callback undoes the whole reclaim */
	g.fail_at = SUBNET + 6;
	assert_int_equal(ib_store_lease4_reclaim(f->s, NOW, reclaim_cb, &g), -ECANCELED);
	assert_int_equal(ib_store_lease4_get(f->s, SUBNET + 1, &got), 0);
	assert_int_equal(got.state, IB_LEASE_ACTIVE);
	memset(&g, 0, sizeof(g));
	g.s = f->s;
	assert_int_equal(ib_store_lease4_reclaim(f->s, NOW, reclaim_cb, &g), 0);
	assert_int_equal(g.n, 3);
	for (uint32_t i = 0; i < 6; i++) {
		assert_int_equal(ib_store_lease4_get(f->s, SUBNET + 1 + i, &got), 0);
		assert_int_equal(got.state, rows[i].want);
	}
	/* nothing left to do; NULL callback allowed */
	assert_int_equal(ib_store_lease4_reclaim(f->s, NOW, NULL, NULL), 0);
}

static void test_reclaim_many(void **state)
{
	struct fix *f = *state;
	struct reclaim_log g = { .s = f->s };
	struct ib_lease4 got;

	/* more than one reclaim round (64), inside a caller's transaction */
	assert_int_equal(ib_store_begin(f->s), 0);
	for (uint32_t i = 0; i < 200; i++) {
		struct ib_lease4 l = mk_lease(SUBNET + i, (uint8_t)i, NULL, NOW - 100,
					      NOW - 1 - (int64_t)i);

		l.subnet = SUBNET + (i << 8);	/* distinct clients by subnet */
		assert_int_equal(ib_store_lease4_commit(f->s, &l, 0), 0);
	}
	assert_int_equal(ib_store_lease4_reclaim(f->s, NOW, reclaim_cb, &g), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(g.n, 200);
	for (uint32_t i = 0; i < 200; i++) {
		assert_int_equal(ib_store_lease4_get(f->s, SUBNET + i, &got), 0);
		assert_int_equal(got.state, IB_LEASE_EXPIRED);
	}
}

/* ---- events ---- */

static void append(struct ib_store *s, int64_t ts, const char *mac, const char *proto,
		   const char *kind)
{
	struct ib_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ts_us = ts;
	snprintf(ev.mac, sizeof(ev.mac), "%s", mac);
	snprintf(ev.proto, sizeof(ev.proto), "%s", proto);
	snprintf(ev.kind, sizeof(ev.kind), "%s", kind);
	snprintf(ev.detail, sizeof(ev.detail), "{\"ts\":%lld}", (long long)ts);
	assert_int_equal(ib_store_event_append(s, &ev), 0);
	assert_true(ev.id > 0);
}

/* Collects event timestamps in call order. */
struct ev_log {
	int64_t ts[32];		/* ts_us of each event seen */
	size_t n;		/* how many */
};

static int ev_cb(const struct ib_event *e, void *ctx)
{
	struct ev_log *g = ctx;

	g->ts[g->n++] = e->ts_us;
	return 0;
}

/* Lists with the filter and compares the timestamps seen with want[]. */
static void expect_events(struct ib_store *s, const struct ib_event_filter *f,
			  const int64_t *want, size_t n)
{
	struct ev_log g = { .n = 0 };

	assert_int_equal(ib_store_event_foreach(s, f, ev_cb, &g), 0);
	assert_int_equal(g.n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g.ts[i], want[i]);
}

#define MAC_A "52:54:00:00:00:0a"
#define MAC_B "52:54:00:00:00:0b"
#define EXPECT(s, f, ...) do { \
	const int64_t w_[] = { __VA_ARGS__ }; \
	expect_events(s, f, w_, sizeof(w_) / sizeof(w_[0])); \
} while (0)

static void fill_events(struct ib_store *s)
{
	/* appended out of time order on purpose: listing orders by ts */
	append(s, 100, MAC_A, "dhcp4", "discover");
	append(s, 300, MAC_A, "tftp", "rrq");
	append(s, 200, MAC_B, "dhcp4", "discover");
	append(s, 400, MAC_A, "dhcp4", "request");
	append(s, 500, MAC_B, "http", "get");
	append(s, 600, "", "dhcp4", "lease-expire");
}

static void test_events_filter(void **state)
{
	struct fix *f = *state;
	struct ib_event_filter flt;

	fill_events(f->s);
	EXPECT(f->s, NULL, 100, 200, 300, 400, 500, 600);
	flt = (struct ib_event_filter){ .mac = "", .proto = "" };
	EXPECT(f->s, &flt, 100, 200, 300, 400, 500, 600);
	flt = (struct ib_event_filter){ .mac = MAC_A };
	EXPECT(f->s, &flt, 100, 300, 400);
	flt = (struct ib_event_filter){ .proto = "dhcp4" };
	EXPECT(f->s, &flt, 100, 200, 400, 600);
	flt = (struct ib_event_filter){ .mac = MAC_A, .proto = "dhcp4" };
	EXPECT(f->s, &flt, 100, 400);
	flt = (struct ib_event_filter){ .since_us = 300 };
	EXPECT(f->s, &flt, 300, 400, 500, 600);
	/* limit: the newest N, oldest first */
	flt = (struct ib_event_filter){ .limit = 2 };
	EXPECT(f->s, &flt, 500, 600);
	flt = (struct ib_event_filter){ .mac = MAC_A, .limit = 2 };
	EXPECT(f->s, &flt, 300, 400);
	flt = (struct ib_event_filter){ .proto = "dhcp4", .since_us = 150, .limit = 2 };
	EXPECT(f->s, &flt, 400, 600);
	flt = (struct ib_event_filter){ .limit = 100 };
	EXPECT(f->s, &flt, 100, 200, 300, 400, 500, 600);
	flt = (struct ib_event_filter){ .mac = "ff:ff:ff:ff:ff:ff" };
	expect_events(f->s, &flt, NULL, 0);
}

/* Copies the first event seen into ctx and stops. */
static int copy_first_cb(const struct ib_event *e, void *ctx)
{
	memcpy(ctx, e, sizeof(*e));
	return 1;
}

static void test_events_fields(void **state)
{
	struct fix *f = *state;
	struct ib_event ev, got;
	int64_t id1;

	memset(&ev, 0, sizeof(ev));
	ev.ts_us = 42;
	memset(ev.mac, 'm', sizeof(ev.mac));
	memset(ev.client_id, 'c', sizeof(ev.client_id));
	memset(ev.uuid, 'u', sizeof(ev.uuid));
	memset(ev.proto, 'p', sizeof(ev.proto));
	memset(ev.kind, 'k', sizeof(ev.kind));
	memset(ev.detail, 'd', sizeof(ev.detail));
	assert_int_equal(ib_store_event_append(f->s, &ev), 0);
	id1 = ev.id;
	append(f->s, 43, MAC_A, "dhcp4", "x");
	assert_int_equal(ib_store_event_foreach(f->s, NULL, copy_first_cb, &got), 1);
	assert_int_equal(got.id, id1);
	assert_int_equal(got.ts_us, 42);
	assert_int_equal(strlen(got.mac), sizeof(got.mac) - 1);
	assert_int_equal(strlen(got.client_id), sizeof(got.client_id) - 1);
	assert_int_equal(strlen(got.uuid), sizeof(got.uuid) - 1);
	assert_int_equal(strlen(got.proto), sizeof(got.proto) - 1);
	assert_int_equal(strlen(got.kind), sizeof(got.kind) - 1);
	assert_int_equal(strlen(got.detail), sizeof(got.detail) - 1);
	assert_int_equal(got.detail[0], 'd');
}

/* Same timestamp: the later append is the newer. */
/* Collects every event's detail and id, in listing order. */
#define MANY 37			/* two full statements and a remainder */

struct many_log {
	char detail[MANY + 20][32];
	int64_t id[MANY + 20];
	size_t n;
};

static int many_cb(const struct ib_event *e, void *ctx)
{
	struct many_log *m = ctx;

	assert_true(m->n < MANY + 20);
	assert_true(strlen(e->detail) < sizeof(m->detail[0]));
	memcpy(m->detail[m->n], e->detail, strlen(e->detail) + 1);
	m->id[m->n++] = e->id;
	return 0;
}

/* A run of events appended at once, in order, each with the id the store
 * gave it. */
static void test_events_append_many(void **state)
{
	struct fix *f = *state;
	static struct ib_event ev[MANY];
	static struct many_log seen;
	char want[32];

	append(f->s, NOW, MAC_A, "dhcp6", "before");
	for (size_t i = 0; i < MANY; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		ev[i].ts_us = NOW + 1 + (int64_t)i;
		snprintf(ev[i].mac, sizeof(ev[i].mac), "%s", i % 2 ? MAC_A : MAC_B);
		snprintf(ev[i].proto, sizeof(ev[i].proto), "dhcp6");
		snprintf(ev[i].kind, sizeof(ev[i].kind), "k%zu", i);
		snprintf(ev[i].detail, sizeof(ev[i].detail), "{\"i\":%zu}", i);
	}
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_event_append_many(f->s, ev, MANY), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_event_foreach(f->s, NULL, many_cb, &seen), 0);
	assert_int_equal(seen.n, 1 + MANY);
	for (size_t i = 0; i < MANY; i++) {
		snprintf(want, sizeof(want), "{\"i\":%zu}", i);
		assert_string_equal(seen.detail[1 + i], want);
		assert_int_equal(seen.id[1 + i], ev[i].id);
		assert_int_equal(ev[i].id, seen.id[0] + 1 + (int64_t)i);
	}
	/* and by MAC: every other one */
	assert_int_equal(ib_store_event_foreach(f->s, &(struct ib_event_filter){ .mac = MAC_B },
						many_cb, &seen), 0);
	assert_int_equal(seen.n, 1 + MANY + 19);
}

/* An incremental reader's pages: the oldest N after an id, in id order;
 * the plain limit keeps the newest N after it (events between are not
 * listed: a reader paging with it skips them). */
static void test_events_oldest_after_id(void **state)
{
	struct fix *f = *state;
	struct ib_event_filter flt;

	fill_events(f->s);		/* ids 1..6: ts 100 300 200 400 500 600 */
	flt = (struct ib_event_filter){ .after_id = 1, .limit = 2 };
	EXPECT(f->s, &flt, 500, 600);
	flt = (struct ib_event_filter){ .after_id = 1, .limit = 2, .oldest = true };
	EXPECT(f->s, &flt, 300, 200);
	flt.after_id = 3;
	EXPECT(f->s, &flt, 400, 500);
	flt.after_id = 5;
	EXPECT(f->s, &flt, 600);
	flt.after_id = 6;
	expect_events(f->s, &flt, NULL, 0);
	flt = (struct ib_event_filter){ .mac = MAC_A, .after_id = 1, .limit = 1, .oldest = true };
	EXPECT(f->s, &flt, 300);
	flt = (struct ib_event_filter){ .proto = "dhcp4", .limit = 3, .oldest = true };
	EXPECT(f->s, &flt, 100, 200, 400);
	flt = (struct ib_event_filter){ .since_us = 300, .after_id = 1, .oldest = true };
	EXPECT(f->s, &flt, 300, 400, 500, 600);
}

/* More events than a listing's page (512 on PostgreSQL), three to a
 * timestamp so that ties straddle the pages. */
#define PAGED 1300

/* What a paged listing handed out: how many, in order, and the first. */
struct page_log {
	size_t n;		/* events seen */
	int64_t ts, id;		/* the last one's key */
	int64_t first_ts;	/* the first one's ts_us */
	bool by_id;		/* the listing is in id order, else (ts_us, id) */
};

static int page_cb(const struct ib_event *e, void *ctx)
{
	struct page_log *g = ctx;

	if (g->n == 0)
		g->first_ts = e->ts_us;
	else if (g->by_id)
		assert_true(e->id > g->id);
	else
		assert_true(e->ts_us > g->ts || (e->ts_us == g->ts && e->id > g->id));
	g->ts = e->ts_us;
	g->id = e->id;
	g->n++;
	return 0;
}

static void test_events_pages(void **state)
{
	struct fix *f = *state;
	static struct ib_event ev[PAGED];
	struct page_log g;
	struct ib_event_filter flt;

	for (size_t i = 0; i < PAGED; i++) {
		memset(&ev[i], 0, sizeof(ev[i]));
		/* appended newest timestamps first: id order is not ts order */
		ev[i].ts_us = 1000 + (int64_t)(PAGED - 1 - i) / 3;
		snprintf(ev[i].mac, sizeof(ev[i].mac), "%s", i % 2 ? MAC_A : MAC_B);
		snprintf(ev[i].proto, sizeof(ev[i].proto), "dhcp4");
		snprintf(ev[i].kind, sizeof(ev[i].kind), "k");
	}
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_event_append_many(f->s, ev, PAGED), 0);
	assert_int_equal(ib_store_commit(f->s), 0);

	g = (struct page_log){ 0 };
	assert_int_equal(ib_store_event_foreach(f->s, NULL, page_cb, &g), 0);
	assert_int_equal(g.n, PAGED);
	assert_int_equal(g.first_ts, 1000);
	/* the newest 1000: from the 1000th newest on */
	g = (struct page_log){ 0 };
	flt = (struct ib_event_filter){ .limit = 1000 };
	assert_int_equal(ib_store_event_foreach(f->s, &flt, page_cb, &g), 0);
	assert_int_equal(g.n, 1000);
	assert_int_equal(g.first_ts, 1000 + (PAGED - 1000) / 3);
	assert_int_equal(g.ts, 1000 + (PAGED - 1) / 3);
	/* by MAC, every other one */
	g = (struct page_log){ 0 };
	flt = (struct ib_event_filter){ .mac = MAC_B, .limit = 600 };
	assert_int_equal(ib_store_event_foreach(f->s, &flt, page_cb, &g), 0);
	assert_int_equal(g.n, 600);
	g = (struct page_log){ 0 };
	flt = (struct ib_event_filter){ .mac = MAC_B };
	assert_int_equal(ib_store_event_foreach(f->s, &flt, page_cb, &g), 0);
	assert_int_equal(g.n, PAGED / 2);
	/* an incremental reader's oldest, in id order, after an id */
	g = (struct page_log){ .by_id = true };
	flt = (struct ib_event_filter){ .after_id = ev[9].id, .limit = 1100, .oldest = true };
	assert_int_equal(ib_store_event_foreach(f->s, &flt, page_cb, &g), 0);
	assert_int_equal(g.n, 1100);
	assert_int_equal(g.id, ev[1109].id);
	g = (struct page_log){ .by_id = true };
	flt = (struct ib_event_filter){ .after_id = ev[9].id, .oldest = true };
	assert_int_equal(ib_store_event_foreach(f->s, &flt, page_cb, &g), 0);
	assert_int_equal(g.n, PAGED - 10);
}

static void test_events_same_ts(void **state)
{
	struct fix *f = *state;
	struct ib_event_filter flt = { .limit = 1 };
	struct ib_event got;

	append(f->s, 600, MAC_A, "dhcp4", "first");
	append(f->s, 600, MAC_A, "dhcp4", "second");
	append(f->s, 600, MAC_A, "dhcp4", "third");
	assert_int_equal(ib_store_event_foreach(f->s, &flt, copy_first_cb, &got), 1);
	assert_string_equal(got.kind, "third");
	flt.limit = 2;
	assert_int_equal(ib_store_event_foreach(f->s, &flt, copy_first_cb, &got), 1);
	assert_string_equal(got.kind, "second");
	assert_int_equal(ib_store_event_prune(f->s, 1, 0), 0);
	flt.limit = 0;
	assert_int_equal(ib_store_event_foreach(f->s, &flt, copy_first_cb, &got), 1);
	assert_string_equal(got.kind, "third");
}

static void test_events_prune(void **state)
{
	struct fix *f = *state;
	struct ib_event_filter all = { .limit = 0 };
	struct ib_event ev;
	int64_t last_id;

	fill_events(f->s);
	assert_int_equal(ib_store_event_prune(f->s, 0, 0), 0);	/* no-op */
	EXPECT(f->s, &all, 100, 200, 300, 400, 500, 600);
	assert_int_equal(ib_store_event_prune(f->s, 4, 0), 0);	/* by count */
	EXPECT(f->s, &all, 300, 400, 500, 600);
	assert_int_equal(ib_store_event_prune(f->s, 0, 450), 0);	/* by age */
	EXPECT(f->s, &all, 500, 600);
	assert_int_equal(ib_store_event_prune(f->s, 1, 0), 0);
	EXPECT(f->s, &all, 600);
	/* ids keep growing after a prune */
	memset(&ev, 0, sizeof(ev));
	strcpy(ev.proto, "dhcp4");
	strcpy(ev.kind, "x");
	ev.ts_us = 700;
	assert_int_equal(ib_store_event_append(f->s, &ev), 0);
	last_id = ev.id;
	assert_true(last_id >= 7);
}

/* ---- two daemons on one store ---- */

#define RACERS 4

/* A racer: one batch offering the address to client 1 + i. */
static int race_commit(struct ib_store *s, int i, void *arg)
{
	struct ib_lease4 l = mk_lease(*(uint32_t *)arg, (uint8_t)(1 + i), NULL, NOW,
				      NOW + 600);
	int r = ib_store_begin(s);

	if (r == 0)
		r = ib_store_lease4_commit(s, &l, NOW);
	if (r == 0)
		r = ib_store_commit(s);
	else
		ib_store_rollback(s);
	return r == 0 ? 0 : r == -EEXIST ? 1 : 12;
}

/*
 * RACERS processes, each with its own connection (a daemon each), commit
 * one address to RACERS different clients at once: the store arbitrates,
 * exactly one wins, the others see -EEXIST, and the row is the winner's.
 */
/*
 * A write transaction begun with begin_nowait never waits on another
 * connection's lock: -EAGAIN (SQLite: the database's write lock, at
 * BEGIN; PostgreSQL: the row's lock, after lock_timeout), nothing of it
 * kept, and the next one goes through once the lock is gone.  A plain
 * begin on PostgreSQL would wait here for ever (one process holds both
 * connections).
 */
static void test_begin_nowait_locked(void **state)
{
	struct fix *f = *state;
	struct ib_store *w = fix_open_other(f);
	char v[16];
	int r;

	assert_int_equal(ib_store_meta_put(f->s, "probe", "0"), 0);
	assert_int_equal(ib_store_begin(w), 0);
	assert_int_equal(ib_store_meta_put(w, "probe", "1"), 0);	/* holds its lock */
	r = ib_store_begin_nowait(f->s);
	if (r == 0)
		r = ib_store_meta_put(f->s, "probe", "2");
	assert_int_equal(r, -EAGAIN);
	assert_int_equal(ib_store_rollback(f->s), 0);
	assert_int_equal(ib_store_commit(w), 0);
	assert_int_equal(ib_store_begin_nowait(f->s), 0);
	assert_int_equal(ib_store_meta_put(f->s, "probe", "3"), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_meta_get(w, "probe", v, sizeof(v)), 0);
	assert_string_equal(v, "3");
	ib_store_free(w);
}

static void test_commit_race(void **state)
{
	struct fix *f = *state;
	uint32_t addr = SUBNET + 77;
	struct ib_lease4 got;
	int winner = fix_race(f, RACERS, race_commit, &addr);

	assert_int_equal(ib_store_lease4_get(f->s, addr, &got), 0);
	assert_int_equal(got.state, IB_LEASE_ACTIVE);
	assert_int_equal(got.hwaddr[5], 1 + winner);
}

/* ---- transactions and failures ---- */

static void test_transactions(void **state)
{
	struct fix *f = *state;
	struct ib_lease4 l = mk_lease(SUBNET + 1, 1, NULL, NOW, NOW + 60);
	struct ib_lease4 got;

	assert_int_equal(ib_store_commit(f->s), -EINVAL);
	assert_int_equal(ib_store_rollback(f->s), 0);
	/* a read transaction: reads inside, no second transaction */
	assert_int_equal(ib_store_begin_read(f->s), 0);
	assert_int_equal(ib_store_begin(f->s), -EBUSY);
	assert_int_equal(ib_store_begin_read(f->s), -EBUSY);
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), -ENOENT);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_begin(f->s), -EBUSY);
	assert_int_equal(ib_store_begin_read(f->s), -EBUSY);
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), 0);
	append(f->s, 1, MAC_A, "dhcp4", "ack");
	assert_int_equal(ib_store_rollback(f->s), 0);
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), -ENOENT);
	expect_events(f->s, NULL, NULL, 0);
	/* a conflict inside a batch leaves the batch's other writes alone */
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), 0);
	l.hwaddr[5] = 2;
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), -EEXIST);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), 0);
	assert_int_equal(got.hwaddr[5], 1);
}

/* A read transaction sees one snapshot: another writer's commit shows
 * only after it ends. */
static void test_read_snapshot(void **state)
{
	struct fix *f = *state;
	struct ib_lease4 l = mk_lease(SUBNET + 2, 1, NULL, NOW, NOW + 60);
	struct ib_lease4 got;
	struct ib_store *w;

	w = fix_open_other(f);
	assert_int_equal(ib_store_begin_read(f->s), 0);
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), -ENOENT);
	assert_int_equal(ib_store_lease4_commit(w, &l, NOW), 0);	/* not blocked */
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), -ENOENT);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), 0);
	ib_store_free(w);
}

static void test_write_failure(void **state)
{
	struct fix *f = *state;
	sqlite3 *db = side_open(f->path);
	struct ib_lease4 l = mk_lease(SUBNET + 1, 1, NULL, NOW, NOW + 60);
	struct ib_lease4 got;
	struct ib_event ev = { .ts_us = 1, .proto = "dhcp4", .kind = "x" };

	/* another connection makes every event insert fail */
	side_exec(db, "CREATE TRIGGER fail BEFORE INSERT ON events"
		      " BEGIN SELECT RAISE(ABORT, 'injected'); END");
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_event_append(f->s, &ev), -EIO);
	assert_int_equal(ib_store_rollback(f->s), 0);
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), -ENOENT);
	/* and the handle still works once the fault is gone */
	side_exec(db, "DROP TRIGGER fail");
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_lease4_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_event_append(f->s, &ev), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_lease4_get(f->s, l.address, &got), 0);
	/* WAL is a property of the file: the other connection sees it */
	assert_int_equal(side_int(db, "SELECT count(*) FROM pragma_journal_mode"
				      " WHERE journal_mode = 'wal'"), 1);
	sqlite3_close(db);
}

static void test_free_null(void **state)
{
	ib_store_free(NULL);
}

/* ---- IPv6 leases ---- */

/* ---- meta ---- */

static void test_meta(void **state)
{
	struct fix *f = *state;
	const char *duid = "000100012d5e7a10525400000001";	/* DUID-LLT, hex */
	char v[64], small[8];

	/* written by migration 2 */
	assert_int_equal(ib_store_meta_get(f->s, "server_id", v, sizeof(v)), 0);
	assert_int_equal(strlen(v), 32);
	assert_int_equal(ib_store_meta_get(f->s, "server_duid6", v, sizeof(v)), -ENOENT);
	assert_int_equal(ib_store_meta_put(f->s, "server_duid6", duid), 0);
	assert_int_equal(ib_store_meta_get(f->s, "server_duid6", v, sizeof(v)), 0);
	assert_string_equal(v, duid);
	/* overwrite */
	assert_int_equal(ib_store_meta_put(f->s, "server_duid6", "00030001525400000002"), 0);
	assert_int_equal(ib_store_meta_get(f->s, "server_duid6", v, sizeof(v)), 0);
	assert_string_equal(v, "00030001525400000002");
	/* the terminator must fit too; a value that does not is not cut */
	assert_int_equal(ib_store_meta_put(f->s, "k", "1234567"), 0);
	assert_int_equal(ib_store_meta_get(f->s, "k", small, sizeof(small)), 0);
	assert_string_equal(small, "1234567");
	assert_int_equal(ib_store_meta_put(f->s, "k", "12345678"), 0);
	memset(small, 'Z', sizeof(small));
	assert_int_equal(ib_store_meta_get(f->s, "k", small, sizeof(small)), -ENOBUFS);
	assert_memory_equal(small, "ZZZZZZZZ", sizeof(small));
	assert_int_equal(ib_store_meta_get(f->s, "k", small, 0), -ENOBUFS);
	/* empty value and empty key are values like any other */
	assert_int_equal(ib_store_meta_put(f->s, "", ""), 0);
	strcpy(small, "x");
	assert_int_equal(ib_store_meta_get(f->s, "", small, 1), 0);
	assert_string_equal(small, "");
	/* keys are exact */
	assert_int_equal(ib_store_meta_get(f->s, "K", v, sizeof(v)), -ENOENT);
	assert_int_equal(ib_store_meta_get(f->s, "server_duid", v, sizeof(v)), -ENOENT);
	assert_int_equal(ib_store_meta_put(f->s, NULL, "x"), -EINVAL);
	assert_int_equal(ib_store_meta_put(f->s, "k", NULL), -EINVAL);
	assert_int_equal(ib_store_meta_get(f->s, NULL, v, sizeof(v)), -EINVAL);
	/* a rolled back put leaves the old value */
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_meta_put(f->s, "server_duid6", "ff"), 0);
	assert_int_equal(ib_store_rollback(f->s), 0);
	assert_int_equal(ib_store_meta_get(f->s, "server_duid6", v, sizeof(v)), 0);
	assert_string_equal(v, "00030001525400000002");
}

/* Version 1 exactly as it shipped; never edit (see migrations.c). */
/* ---- schema migrations ---- */

static const char schema_v1[] =
	"CREATE TABLE leases4 ("
	"  address   INTEGER PRIMARY KEY,"
	"  subnet    INTEGER NOT NULL,"
	"  htype     INTEGER NOT NULL,"
	"  hwaddr    BLOB NOT NULL,"
	"  client_id BLOB,"
	"  hostname  TEXT NOT NULL DEFAULT '',"
	"  cltt      INTEGER NOT NULL,"
	"  expires   INTEGER NOT NULL,"
	"  state     INTEGER NOT NULL CHECK (state BETWEEN 1 AND 4)"
	");"
	"CREATE INDEX leases4_hwaddr ON leases4 (hwaddr, cltt);"
	"CREATE INDEX leases4_client_id ON leases4 (client_id, cltt);"
	"CREATE TABLE events ("
	"  id        INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  ts_us     INTEGER NOT NULL,"
	"  mac       TEXT NOT NULL DEFAULT '',"
	"  client_id TEXT NOT NULL DEFAULT '',"
	"  uuid      TEXT NOT NULL DEFAULT '',"
	"  proto     TEXT NOT NULL,"
	"  kind      TEXT NOT NULL,"
	"  detail    TEXT NOT NULL DEFAULT '{}'"
	");"
	"CREATE INDEX events_mac_ts ON events (mac, ts_us);"
	"CREATE INDEX events_ts ON events (ts_us);"
	"PRAGMA user_version = 1;";

/* Steps 2 and 3 exactly as they shipped: schema_v1 then this is version 3. */
static const char schema_v2_v3[] =
	"CREATE TABLE meta ("
	"  key   TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	") WITHOUT ROWID;"
	"INSERT INTO meta (key, value) VALUES"
	"  ('server_id', lower(hex(randomblob(16)))),"
	"  ('created_at', CAST(strftime('%s', 'now') AS TEXT));"
	"CREATE INDEX leases4_state_expires ON leases4 (state, expires);"
	"CREATE TABLE inventory ("
	"  id         INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  kind       TEXT NOT NULL"
	"             CHECK (kind IN ('profiles', 'groups', 'machines')),"
	"  name       TEXT NOT NULL,"
	"  body       TEXT NOT NULL,"
	"  updated_us INTEGER NOT NULL,"
	"  UNIQUE (kind, name)"
	");"
	"PRAGMA user_version = 3;";

/* Asserts that db has the leases6 table and its two indexes (step 4). */
static void expect_leases6_schema(sqlite3 *db)
{
	assert_int_equal(side_int(db, "SELECT count(*) FROM sqlite_schema"
				      " WHERE type = 'table' AND name = 'leases6'"), 1);
	assert_int_equal(side_int(db, "SELECT count(*) FROM sqlite_schema"
				      " WHERE type = 'index' AND tbl_name = 'leases6'"
				      " AND name IN ('leases6_client',"
				      " 'leases6_state_expires')"), 2);
}

/* ---- inventory objects ---- */

struct inv_seen {
	char names[8][32];		/* kind/name in walk order */
	char bodies[8][64];
	size_t n;
};

static int inv_cb(const struct ib_inv_row *row, void *ctx)
{
	struct inv_seen *seen = ctx;

	if (seen->n == 8)
		return -E2BIG;
	snprintf(seen->names[seen->n], 32, "%s/%s", row->kind, row->name);
	snprintf(seen->bodies[seen->n], 64, "%s", row->body);
	seen->n++;
	return 0;
}

static void test_inventory(void **state)
{
	struct fix *f = *state;
	struct ib_inv_row a = { "profiles", "b-second", "{\"v\":1}", 10 };
	struct ib_inv_row b = { "profiles", "a-first", "{\"v\":2}", 11 };
	struct ib_inv_row m = { "machines", "52:54:00:00:00:01", "{}", 12 };
	struct ib_inv_row bad = { "nonsense", "x", "{}", 13 };
	struct inv_seen seen = { 0 };
	bool created = false;

	assert_int_equal(ib_store_inv_put(f->s, &a, &created), 0);
	assert_true(created);
	assert_int_equal(ib_store_inv_put(f->s, &b, &created), 0);
	assert_int_equal(ib_store_inv_put(f->s, &m, NULL), 0);
	a.body = "{\"v\":3}";
	assert_int_equal(ib_store_inv_put(f->s, &a, &created), 0);
	assert_false(created);			/* replaced, keeps its place */
	assert_int_equal(ib_store_inv_put(f->s, &bad, NULL), -EIO);	/* CHECK */
	assert_int_equal(ib_store_inv_foreach(f->s, inv_cb, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.names[0], "machines/52:54:00:00:00:01");
	assert_string_equal(seen.names[1], "profiles/b-second");
	assert_string_equal(seen.bodies[1], "{\"v\":3}");
	assert_string_equal(seen.names[2], "profiles/a-first");
	assert_int_equal(ib_store_inv_delete(f->s, "profiles", "b-second"), 0);
	assert_int_equal(ib_store_inv_delete(f->s, "profiles", "b-second"), -ENOENT);
	/* a rolled back put leaves nothing */
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_inv_put(f->s, &a, NULL), 0);
	assert_int_equal(ib_store_rollback(f->s), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ib_store_inv_foreach(f->s, inv_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
	/* kept across a reopen */
	ib_store_free(f->s);
	f->s = NULL;
	fix_open(f);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(ib_store_inv_foreach(f->s, inv_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
}

static void test_migrate_v1(void **state)
{
	struct fix *f = *state;
	sqlite3 *db = side_open(f->path);
	struct ib_lease4 got;
	struct ib_event ev;
	char err[256] = "";

	side_exec(db, schema_v1);
	side_exec(db, "INSERT INTO leases4 VALUES (167772170, 167772160, 1,"
		      " x'525400000001', x'01525400000001', 'pxe-1', 1000, 2000, 1);"
		      "INSERT INTO events (ts_us, mac, proto, kind, detail) VALUES"
		      " (5, '52:54:00:00:00:01', 'dhcp4', 'ack', '{\"a\":1}');");
	sqlite3_close(db);

	assert_int_equal(ib_store_sqlite_open(f->path, &f->s, err), 0);
	assert_int_equal(ib_store_lease4_get(f->s, 167772170u, &got), 0);
	assert_int_equal(got.subnet, 167772160u);
	assert_int_equal(got.client_id_len, 7);
	assert_string_equal(got.hostname, "pxe-1");
	assert_int_equal(got.expires, 2000);
	assert_int_equal(ib_store_event_foreach(f->s, NULL, copy_first_cb, &ev), 1);
	assert_string_equal(ev.detail, "{\"a\":1}");
	assert_string_equal(ev.kind, "ack");

	db = side_open(f->path);
	assert_int_equal(side_int(db, "PRAGMA user_version"), ib_store_schema_version());
	assert_int_equal(side_int(db, "SELECT length(value) FROM meta"
				      " WHERE key = 'server_id'"), 32);
	expect_leases6_schema(db);
	sqlite3_close(db);
	/* opening again is a no-op */
	ib_store_free(f->s);
	f->s = NULL;
	fix_open(f);
}

static void test_migrate_v3(void **state)
{
	struct fix *f = *state;
	sqlite3 *db = side_open(f->path);
	struct ib_lease6 l6 = mk_lease6(1, 1, 1, 1, NOW, NOW + 600), got6;
	struct inv_seen seen = { 0 };
	struct ib_lease4 got;
	char id[64], v[64], err[256] = "";

	side_exec(db, schema_v1);
	side_exec(db, schema_v2_v3);
	side_exec(db, "INSERT INTO leases4 VALUES (167772170, 167772160, 1,"
		      " x'525400000001', NULL, 'pxe-1', 1000, 2000, 1);"
		      "INSERT INTO inventory (kind, name, body, updated_us) VALUES"
		      " ('profiles', 'p', '{}', 7);"
		      "INSERT INTO meta VALUES ('operator', 'kept');");
	assert_int_equal(side_int(db, "PRAGMA user_version"), 3);
	assert_int_equal(side_int(db, "SELECT count(*) FROM sqlite_schema"
				      " WHERE name = 'leases6'"), 0);
	sqlite3_close(db);

	if (ib_store_sqlite_open(f->path, &f->s, err) < 0)
		print_error("open: %s\n", err);
	assert_non_null(f->s);
	/* what was there stays */
	assert_int_equal(ib_store_lease4_get(f->s, 167772170u, &got), 0);
	assert_string_equal(got.hostname, "pxe-1");
	assert_int_equal(ib_store_inv_foreach(f->s, inv_cb, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.names[0], "profiles/p");
	assert_int_equal(ib_store_meta_get(f->s, "operator", v, sizeof(v)), 0);
	assert_string_equal(v, "kept");
	assert_int_equal(ib_store_meta_get(f->s, "server_id", id, sizeof(id)), 0);
	assert_int_equal(strlen(id), 32);
	/* and the new table works */
	assert_int_equal(ib_store_lease6_commit(f->s, &l6, NOW), 0);
	assert_int_equal(ib_store_lease6_get(f->s, l6.address, &got6), 0);
	assert_lease6_equal(&got6, &l6);

	db = side_open(f->path);
	assert_int_equal(side_int(db, "PRAGMA user_version"), ib_store_schema_version());
	assert_true(ib_store_schema_version() >= 4);
	expect_leases6_schema(db);
	/* the schema's CHECKs refuse what the store never writes */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO leases6 VALUES (x'00', x'00', 64,"
				      " x'01', 1, NULL, '', 0, 0, 0, 1)", NULL, NULL, NULL),
			 SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO leases6 VALUES"
				      " (zeroblob(16), zeroblob(16), 64, x'', 1, NULL, '',"
				      " 0, 0, 0, 1)", NULL, NULL, NULL), SQLITE_CONSTRAINT);
	sqlite3_close(db);
	/* opening again is a no-op: the server identity is the same */
	ib_store_free(f->s);
	f->s = NULL;
	fix_open(f);
	assert_int_equal(ib_store_meta_get(f->s, "server_id", v, sizeof(v)), 0);
	assert_string_equal(v, id);
}

static void test_refuse_newer(void **state)
{
	struct fix *f = *state;
	sqlite3 *db = side_open(f->path);
	int newer = ib_store_schema_version() + 4;
	char sql[64], want[256], err[256] = "";

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", newer);
	side_exec(db, sql);
	sqlite3_close(db);
	f->s = NULL;
	assert_int_equal(ib_store_sqlite_open(f->path, &f->s, err), -EPROTO);
	assert_null(f->s);
	snprintf(want, sizeof(want), "database schema version %d is newer than this"
		 " ironboot (%d); refusing to open", newer, ib_store_schema_version());
	assert_string_equal(err, want);
	/* untouched */
	db = side_open(f->path);
	assert_int_equal(side_int(db, "PRAGMA user_version"), newer);
	assert_int_equal(side_int(db, "SELECT count(*) FROM sqlite_schema"), 0);
	sqlite3_close(db);
	/* a NULL err is fine too */
	assert_int_equal(ib_store_sqlite_open(f->path, &f->s, NULL), -EPROTO);
}

/* An up-to-date database opens without the write lock (CLI vs daemon). */
static void test_open_while_locked(void **state)
{
	struct fix *f = *state;
	struct timespec t0, t1;
	sqlite3 *db;

	ib_store_free(f->s);
	f->s = NULL;
	db = side_open(f->path);
	side_exec(db, "BEGIN IMMEDIATE; INSERT INTO events (ts_us, proto, kind)"
		      " VALUES (1, 'x', 'y')");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fix_open(f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	/* reads see the last committed state, not the open transaction */
	expect_events(f->s, NULL, NULL, 0);
	side_exec(db, "COMMIT");
	sqlite3_close(db);
}

static void test_open_errors(void **state)
{
	struct fix *f = *state;
	char path[160], err[256] = "";
	struct ib_store *s = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/no/such/dir/ib.db", f->dir);
	assert_int_equal(ib_store_sqlite_open(path, &s, err), -EIO);
	assert_true(err[0] != '\0');
	/* not a database */
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs("this is not an SQLite database, it is a text file of some length\n", fp);
	fclose(fp);
	assert_true(ib_store_sqlite_open(f->path, &s, err) < 0);
	assert_null(s);
}

/* ---- durability across kill -9 ---- */

#define CRASH_BASE 0x0b000000u	/* 11.0.0.0 */

static struct ib_lease4 crash_lease(uint32_t i)
{
	struct ib_lease4 l = mk_lease(CRASH_BASE + i, (uint8_t)i, NULL, NOW, NOW + 3600);

	l.hwaddr[4] = (uint8_t)(i >> 8);
	l.hwaddr[3] = (uint8_t)(i >> 16);
	return l;
}

/* The child: commit one lease per transaction, report each after commit. */
static void crash_child(const char *path, int wfd)
{
	struct ib_store *s;

	if (ib_store_sqlite_open(path, &s, NULL) < 0)
		_exit(2);
	for (uint32_t i = 1; i < 0xffffff; i++) {
		struct ib_lease4 l = crash_lease(i);

		if (ib_store_begin(s) < 0 || ib_store_lease4_commit(s, &l, NOW) < 0 ||
		    ib_store_commit(s) < 0)
			_exit(3);
		if (write(wfd, &i, sizeof(i)) != (ssize_t)sizeof(i))
			_exit(4);
	}
	_exit(5);
}

/*
 * Kills a committing child delay_us after its first reported commit (so
 * every trial kills it mid-stream, however slowly a loaded machine lets it
 * open the store) and returns the last commit it reported.
 */
static uint32_t crash_once(const char *path, unsigned delay_us)
{
	struct pollfd pfd;
	uint32_t v, last = 0;
	int fds[2], status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(path, fds[1]);
	}
	close(fds[1]);
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 60000), 1);	/* the first commit, bounded */
	assert_int_equal(read(fds[0], &last, sizeof(last)), (ssize_t)sizeof(last));
	usleep(delay_us);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	while (read(fds[0], &v, sizeof(v)) == (ssize_t)sizeof(v))
		last = v;
	close(fds[0]);
	return last;
}

static void test_kill9_durability(void **state)
{
	struct fix *f = *state;
	unsigned seed = 20261205;	/* fixed: the same kill delays every run */
	uint32_t total = 0;

	srand(seed);
	for (int trial = 0; trial < 5; trial++) {
		unsigned delay = 1000 + (unsigned)rand() % 250000;
		uint32_t last = crash_once(f->path, delay);
		struct ib_lease4 got, want;

		fix_open(f);
		for (uint32_t i = 1; i <= last; i++) {
			want = crash_lease(i);
			assert_int_equal(ib_store_lease4_get(f->s, want.address, &got), 0);
			assert_lease_equal(&got, &want);
		}
		print_message("trial %d: killed after %u us, %u commits reported, all"
			      " present\n", trial, delay, last);
		total += last;
		ib_store_free(f->s);
		f->s = NULL;
		rm_db(f->dir);
	}
	assert_true(total > 0);
}

/*
 * The store's durability rests on synchronous=FULL (a COMMIT returns once
 * the WAL is fsynced; there is no config key for it).  The setting is per
 * connection, so it is read back through the store's own: on a new
 * database, while a side connection to the same file runs with OFF, and
 * after reopening the existing file.
 */
static void test_synchronous_full(void **state)
{
	struct fix *f = *state;
	sqlite3 *side;
	int v = -1;

	assert_int_equal(ib_store_sqlite_synchronous(f->s, &v), 0);
	assert_int_equal(v, 2);			/* FULL */
	side = side_open(f->path);
	side_exec(side, "PRAGMA synchronous = OFF");
	assert_int_equal(side_int(side, "PRAGMA synchronous"), 0);
	v = -1;
	assert_int_equal(ib_store_sqlite_synchronous(f->s, &v), 0);
	assert_int_equal(v, 2);
	sqlite3_close(side);
	ib_store_free(f->s);
	f->s = NULL;
	fix_open(f);
	v = -1;
	assert_int_equal(ib_store_sqlite_synchronous(f->s, &v), 0);
	assert_int_equal(v, 2);
}

/* ---- PostgreSQL only ---- */

/* A URI that carries the password is refused: it belongs in a file. */
static void test_pg_refuse_password(void **state)
{
	struct ib_store *s = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(ib_store_pg_open("postgresql://u:secret@/db?host=/nonexistent",
					  NULL, &s, err), -EINVAL);
	assert_non_null(strstr(err, "password"));
	assert_null(strstr(err, "secret"));
	assert_int_equal(ib_store_pg_open("host=/nonexistent password=secret", NULL,
					  &s, err), -EINVAL);
	assert_int_equal(ib_store_open("mysql://x", "/nonexistent", NULL, &s, err), -EINVAL);
	assert_null(s);
}

/* A schema from a newer ironboot is refused and left alone; an
 * up-to-date one opens again without a change. */
/* Whether EXPLAIN EXECUTE of sql (prepared as e, plan_cache_mode mode)
 * reads leases4 through index and no other. */
static void assert_end_plan(const char *sql, const char *args, const char *mode,
			    const char *index)
{
	PGconn *c = PQconnectdb(fix_pg);
	char q[512], plan[4096] = "";
	PGresult *res;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	snprintf(q, sizeof(q), "SET plan_cache_mode = %s", mode);
	PQclear(PQexec(c, q));
	snprintf(q, sizeof(q), "PREPARE e AS %s", sql);
	res = PQexec(c, q);
	assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
	PQclear(res);
	snprintf(q, sizeof(q), "EXPLAIN EXECUTE e(%s)", args);
	res = PQexec(c, q);
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	for (int i = 0, n = 0; i < PQntuples(res) && n < (int)sizeof(plan); i++) {
		int w = snprintf(plan + n, sizeof(plan) - (size_t)n, "%s\n", PQgetvalue(res, i, 0));

		n = w < 0 ? (int)sizeof(plan) : n + w;
	}
	PQclear(res);
	PQfinish(c);
	if (!strstr(plan, index) || strstr(plan, "BitmapAnd") || strstr(plan, "Seq Scan") ||
	    strstr(plan, "leases4_state_expires"))
		print_error("%s (%s):\n%s", sql, mode, plan);
	assert_non_null(strstr(plan, index));
	assert_null(strstr(plan, "BitmapAnd"));
	assert_null(strstr(plan, "Seq Scan"));
	assert_null(strstr(plan, "leases4_state_expires"));
}

/*
 * Ending a client's other leases reads only that client's index, also on
 * a leases4 that was never analysed (a storm on a fresh database): the
 * planner once read the whole table on every DHCPv4 commit there.
 */
static void test_pg_end_plan(void **state)
{
	static const char *const modes[] = { "force_generic_plan", "force_custom_plan" };

	(void)state;
	fix_pg_exec("INSERT INTO leases4 (address, subnet, htype, hwaddr, client_id,"
		    " cltt, expires, state) SELECT 3323068416 + g, 3323068416, 1,"
		    " decode(lpad(to_hex(g), 12, '0'), 'hex'), NULL, g, g + 7200, 1"
		    " FROM generate_series(1, 20000) g");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_end_plan(IB_PG_SQL_END4_HW, "'\\x000000000010'::bytea, 3323068416, 1, 1",
				modes[i], "leases4_hwaddr");
		assert_end_plan(IB_PG_SQL_END4_CID, "'\\x01'::bytea, 3323068416, 1",
				modes[i], "leases4_client_id");
	}
}

/* What a follower read: the ids in order, and its cursor (the last id). */
struct follow_log {
	int64_t id[8];		/* ids seen, in order */
	size_t n;		/* how many */
};

static int follow_cb(const struct ib_event *e, void *ctx)
{
	struct follow_log *g = ctx;

	assert_true(g->n < 8);
	g->id[g->n++] = e->id;
	return 0;
}

/* Reads what the filter gives after cursor into g; returns the new cursor. */
static int64_t follow_read(struct ib_store *s, struct ib_event_filter flt, int64_t cursor,
			   struct follow_log *g)
{
	flt.after_id = cursor;
	assert_int_equal(ib_store_event_foreach(s, &flt, follow_cb, g), 0);
	return g->n ? g->id[g->n - 1] : cursor;
}

/*
 * Two daemons append events; one's transaction holds its event (id N)
 * open while the other commits N + 1.  A follower paging by id (the
 * Last-Event-ID replay's newest form and the oldest form doctor_watch and
 * the replay's count read) that read N + 1 still gets N once it commits,
 * and nothing twice.  Ids come from one sequence in insertion order: on
 * PostgreSQL the listing pages in commit order (events.txid).
 */
static void test_pg_events_commit_order(void **state)
{
	static const struct ib_event_filter forms[] = {
		{ .oldest = true, .limit = 40 }, { .limit = 40 }, { .oldest = true },
	};
	struct fix *f = *state;

	for (size_t k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		struct ib_store *x = fix_open_other(f), *y = fix_open_other(f);
		struct follow_log g = { .n = 0 };
		struct ib_event ex = { .ts_us = 1000 + (int64_t)k, .proto = "dhcp4", .kind = "x" };
		struct ib_event ey = { .ts_us = 1001 + (int64_t)k, .proto = "dhcp4", .kind = "y" };
		int64_t cursor = 0;

		/* the events of the earlier rounds, read */
		cursor = follow_read(f->s, forms[k], cursor, &g);
		g.n = 0;
		assert_int_equal(ib_store_begin(x), 0);
		assert_int_equal(ib_store_event_append(x, &ex), 0);
		assert_int_equal(ib_store_event_append(y, &ey), 0);
		assert_int_equal(ey.id, ex.id + 1);
		cursor = follow_read(f->s, forms[k], cursor, &g);
		assert_int_equal(ib_store_commit(x), 0);
		cursor = follow_read(f->s, forms[k], cursor, &g);
		if (g.n != 2)
			print_error("form %zu: read %zu events, want %" PRId64 " and %" PRId64 "\n",
				    k, g.n, ex.id, ey.id);
		assert_int_equal(g.n, 2);
		assert_true((g.id[0] == ex.id && g.id[1] == ey.id) ||
			    (g.id[0] == ey.id && g.id[1] == ex.id));
		assert_int_equal(follow_read(f->s, forms[k], cursor, &g), cursor);
		assert_int_equal(g.n, 2);
		ib_store_free(x);
		ib_store_free(y);
	}
}

/*
 * A follower's cursor whose row retention pruned: the rows after it are
 * all read, whatever their commit order.  Ids a and a + 2 are one
 * transaction's, a + 1 another's that committed first; read two at a time
 * from the gone cursor a - 1, by id the first page (a, a + 1) put the
 * next cursor past a + 2 in commit order, which was never read.
 */
static void test_pg_events_gone_cursor(void **state)
{
	struct fix *f = *state;
	struct ib_store *x = fix_open_other(f), *y = fix_open_other(f);
	struct ib_event_filter flt = { .oldest = true, .limit = 2 };
	struct ib_event ez = { .ts_us = 900, .proto = "dhcp4", .kind = "z" };
	struct ib_event ex0 = { .ts_us = 901, .proto = "dhcp4", .kind = "x0" };
	struct ib_event ey = { .ts_us = 902, .proto = "dhcp4", .kind = "y" };
	struct ib_event ex1 = { .ts_us = 903, .proto = "dhcp4", .kind = "x1" };
	struct follow_log g = { .n = 0 };
	int64_t cursor;
	char sql[64];
	bool seen[3] = { false, false, false };

	assert_int_equal(ib_store_event_append(f->s, &ez), 0);
	assert_int_equal(ib_store_begin(x), 0);
	assert_int_equal(ib_store_event_append(x, &ex0), 0);
	assert_int_equal(ib_store_event_append(y, &ey), 0);
	assert_int_equal(ib_store_event_append(x, &ex1), 0);
	assert_int_equal(ib_store_commit(x), 0);
	assert_true(ex0.id == ez.id + 1 && ey.id == ez.id + 2 && ex1.id == ez.id + 3);
	snprintf(sql, sizeof(sql), "DELETE FROM events WHERE id = %" PRId64, ez.id);
	fix_pg_exec(sql);
	cursor = ez.id;
	for (int i = 0; i < 4; i++)
		cursor = follow_read(f->s, flt, cursor, &g);
	for (size_t i = 0; i < g.n; i++) {
		assert_true(g.id[i] >= ex0.id && g.id[i] <= ex1.id);
		assert_false(seen[g.id[i] - ex0.id]);
		seen[g.id[i] - ex0.id] = true;
	}
	assert_int_equal(g.n, 3);
	ib_store_free(x);
	ib_store_free(y);
}

static void test_pg_refuse_newer(void **state)
{
	struct fix *f = *state;
	struct ib_store *s = NULL;
	char err[256] = "", sql[96];

	ib_store_free(fix_open_other(f));	/* open twice: no second upgrade */
	snprintf(sql, sizeof(sql), "UPDATE ib_schema SET version = %d",
		 ib_store_schema_version() + 1);
	fix_pg_exec(sql);
	assert_int_equal(ib_store_pg_open(fix_pg, NULL, &s, err), -EPROTO);
	assert_non_null(strstr(err, "newer"));
	snprintf(sql, sizeof(sql), "UPDATE ib_schema SET version = %d",
		 ib_store_schema_version());
	fix_pg_exec(sql);
}

int main(void)
{
	const struct CMUnitTest both[] = {
		cmocka_unit_test_setup_teardown(test_commit_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_one_per_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_set_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease4_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_oldest_after_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_same_ts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_begin_nowait_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_append_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test(test_pg_refuse_password),
	};
	const struct CMUnitTest sqlite_only[] = {
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test(test_free_null),
		cmocka_unit_test_setup_teardown(test_synchronous_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1, setup_dir_only, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v3, setup_dir_only, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_newer, setup_dir_only, teardown),
		cmocka_unit_test_setup_teardown(test_open_while_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup_dir_only, teardown),
		cmocka_unit_test_setup_teardown(test_kill9_durability, setup_dir_only,
						teardown),
	};
	const struct CMUnitTest pg_only[] = {
		cmocka_unit_test_setup_teardown(test_pg_refuse_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_end_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_events_commit_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pg_events_gone_cursor, setup, teardown),
	};

	if (fix_backend_pg())
		return fix_run(both, pg_only);
	return fix_run(both, sqlite_only);
}
