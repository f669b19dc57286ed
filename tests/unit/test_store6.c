/*
 * Unit tests of the store's IPv6 leases (store_sqlite6.c, and
 * store_pg_lease.c under meson's store6_pg test):
 * arbitration per IA (DUID + IAID), one address per IA and subnet, lookups,
 * walks, reclaim, transactions and reopening.  Fixture: store_fixture.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"

/* One side of an IPv6 conflict case: which IA holds or asks. */
struct who6 {
	uint8_t client;		/* DUID-LL of 52:54:00:00:00:xx */
	uint32_t iaid;		/* IA_NA identifier */
};

struct conflict6_case {
	const char *name;
	bool have_row;			/* false: address never leased */
	struct who6 old;		/* stored row's IA */
	enum ib_lease_state old_state;	/* stored row's state */
	int64_t old_expires;		/* stored row's expiry */
	struct who6 new;		/* committing IA */
	int want;			/* 0 or -EEXIST */
};

static const struct conflict6_case conflict6_cases[] = {
	{ "free: no row", false, { 0, 0 }, 0, 0, { 1, 1 }, 0 },
	{ "free: released", true, { 2, 1 }, IB_LEASE_RELEASED, NOW + 600,
	  { 1, 1 }, 0 },
	{ "free: expired state", true, { 2, 1 }, IB_LEASE_EXPIRED, NOW + 600,
	  { 1, 1 }, 0 },
	{ "free: active past expiry", true, { 2, 1 }, IB_LEASE_ACTIVE, NOW - 1,
	  { 1, 1 }, 0 },
	{ "free: active expiring now", true, { 2, 1 }, IB_LEASE_ACTIVE, NOW,
	  { 1, 1 }, 0 },
	{ "same IA renews", true, { 2, 7 }, IB_LEASE_ACTIVE, NOW + 600,
	  { 2, 7 }, 0 },
	{ "other client active", true, { 2, 1 }, IB_LEASE_ACTIVE, NOW + 600,
	  { 1, 1 }, -EEXIST },
	{ "same DUID, other IAID", true, { 2, 1 }, IB_LEASE_ACTIVE, NOW + 600,
	  { 2, 2 }, -EEXIST },
	{ "other DUID, same IAID", true, { 2, 1 }, IB_LEASE_ACTIVE, NOW + 600,
	  { 3, 1 }, -EEXIST },
	{ "declined quarantine, other client", true, { 2, 1 }, IB_LEASE_DECLINED,
	  NOW + 600, { 1, 1 }, -EEXIST },
	{ "declined quarantine, its decliner", true, { 2, 1 }, IB_LEASE_DECLINED,
	  NOW + 600, { 2, 1 }, -EEXIST },
	{ "declined, quarantine over", true, { 2, 1 }, IB_LEASE_DECLINED, NOW - 1,
	  { 1, 1 }, 0 },
	{ "declined, quarantine ends now", true, { 2, 1 }, IB_LEASE_DECLINED, NOW,
	  { 2, 1 }, 0 },
	{ "released, its client back", true, { 2, 1 }, IB_LEASE_RELEASED, NOW + 600,
	  { 2, 1 }, 0 },
};

static void test_lease6_commit_rules(void **state)
{
	struct fix *f = *state;

	for (size_t i = 0; i < sizeof(conflict6_cases) / sizeof(conflict6_cases[0]); i++) {
		const struct conflict6_case *c = &conflict6_cases[i];
		/* one subnet per case, so "one address per IA" never crosses */
		struct ib_lease6 old = mk_lease6((uint8_t)i, 10, c->old.client, c->old.iaid,
						 NOW - 100, c->old_expires);
		struct ib_lease6 nw = mk_lease6((uint8_t)i, 10, c->new.client, c->new.iaid,
						NOW, NOW + 3600);
		struct ib_lease6 got;
		int r;

		print_message("case: %s\n", c->name);
		if (c->have_row) {
			assert_int_equal(ib_store_lease6_commit(f->s, &old, 0), 0);
			assert_int_equal(ib_store_lease6_set_state(f->s, old.address,
						c->old_state, c->old_expires), 0);
			old.state = c->old_state;
		}
		r = ib_store_lease6_commit(f->s, &nw, NOW);
		assert_int_equal(r, c->want);
		assert_int_equal(ib_store_lease6_get(f->s, nw.address, &got), 0);
		assert_lease6_equal(&got, r == 0 ? &nw : &old);
	}
}

/* Asserts the state of the lease at address l->address. */
static void expect_state6(struct ib_store *s, const struct ib_lease6 *l,
			  enum ib_lease_state want)
{
	struct ib_lease6 got;

	assert_int_equal(ib_store_lease6_get(s, l->address, &got), 0);
	assert_int_equal(got.state, want);
}

static void test_lease6_one_per_ia(void **state)
{
	struct fix *f = *state;
	struct ib_lease6 a = mk_lease6(1, 10, 1, 1, NOW, NOW + 600);
	struct ib_lease6 b = mk_lease6(1, 11, 1, 1, NOW + 1, NOW + 600);
	struct ib_lease6 other_sub = mk_lease6(2, 12, 1, 1, NOW + 2, NOW + 600);
	struct ib_lease6 other_ia = mk_lease6(1, 13, 1, 2, NOW + 3, NOW + 600);
	struct ib_lease6 other_cl = mk_lease6(1, 14, 2, 1, NOW + 4, NOW + 600);
	struct ib_lease6 other_len = mk_lease6(1, 15, 1, 1, NOW + 5, NOW + 600);
	struct ib_lease6 got;

	assert_int_equal(ib_store_lease6_commit(f->s, &a, NOW), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &b, NOW), 0);
	expect_state6(f->s, &a, IB_LEASE_RELEASED);
	expect_state6(f->s, &b, IB_LEASE_ACTIVE);
	/* the same IA in another subnet, another IA of the same client, and
	 * the same IAID of another client each leave b alone */
	assert_int_equal(ib_store_lease6_commit(f->s, &other_sub, NOW), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &other_ia, NOW), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &other_cl, NOW), 0);
	expect_state6(f->s, &b, IB_LEASE_ACTIVE);
	/* a subnet is its prefix and its length: a /56 is another subnet */
	other_len.prefix_len = 56;
	assert_int_equal(ib_store_lease6_commit(f->s, &other_len, NOW), 0);
	expect_state6(f->s, &b, IB_LEASE_ACTIVE);
	/* renewing the same address keeps it, with the new times */
	b.cltt += 100;
	b.preferred += 100;
	b.expires += 100;
	assert_int_equal(ib_store_lease6_commit(f->s, &b, NOW), 0);
	assert_int_equal(ib_store_lease6_get(f->s, b.address, &got), 0);
	assert_lease6_equal(&got, &b);
	expect_state6(f->s, &other_sub, IB_LEASE_ACTIVE);
	expect_state6(f->s, &other_ia, IB_LEASE_ACTIVE);
	expect_state6(f->s, &other_cl, IB_LEASE_ACTIVE);
	expect_state6(f->s, &other_len, IB_LEASE_ACTIVE);
	/* a refused commit ends nothing */
	other_cl = mk_lease6(1, 11, 2, 1, NOW + 6, NOW + 600);	/* b's address */
	assert_int_equal(ib_store_lease6_commit(f->s, &other_cl, NOW), -EEXIST);
	expect_state6(f->s, &other_cl, IB_LEASE_ACTIVE);
	other_cl = mk_lease6(1, 14, 2, 1, NOW + 4, NOW + 600);
	expect_state6(f->s, &other_cl, IB_LEASE_ACTIVE);
}

/* lease6_count: the addresses compare as 16-byte numbers (host 0x100 is
 * above 0x13), the range's ends included, another /64 left out. */
static void test_lease6_count(void **state)
{
	struct fix *f = *state;
	static const struct {
		uint8_t sub;
		uint16_t host;
		enum ib_lease_state st;
		int64_t expires;
	} rows[] = {
		{ 1, 0x0f, IB_LEASE_ACTIVE, NOW + 600 },	/* below */
		{ 1, 0x10, IB_LEASE_ACTIVE, NOW + 600 },	/* first */
		{ 1, 0x11, IB_LEASE_DECLINED, NOW + 600 },
		{ 1, 0x12, IB_LEASE_ACTIVE, NOW },		/* expires now */
		{ 1, 0x13, IB_LEASE_ACTIVE, NOW + 600 },	/* last */
		{ 1, 0x100, IB_LEASE_ACTIVE, NOW + 600 },	/* above */
		{ 2, 0x10, IB_LEASE_ACTIVE, NOW + 600 },	/* another /64 */
	};
	struct ib_lease_count c = { 99, 99 };
	uint8_t first[16], last[16];

	mk_addr6(first, 1, 0x10);
	mk_addr6(last, 1, 0x13);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ib_lease6 l = mk_lease6(rows[i].sub, rows[i].host, (uint8_t)(i + 1), 1,
					       NOW - 10, NOW + 600);

		assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW - 10), 0);
		assert_int_equal(ib_store_lease6_set_state(f->s, l.address, rows[i].st,
							   rows[i].expires), 0);
	}
	assert_int_equal(ib_store_lease6_count(f->s, first, last, NOW, &c), 0);
	assert_int_equal(c.active, 2);
	assert_int_equal(c.declined, 1);
	mk_addr6(last, 1, 0xffff);
	assert_int_equal(ib_store_lease6_count(f->s, first, last, NOW, &c), 0);
	assert_int_equal(c.active, 3);
	assert_int_equal(c.declined, 1);
}

static void test_lease6_invalid(void **state)
{
	struct fix *f = *state;
	struct ib_lease6 l = mk_lease6(1, 1, 1, 1, NOW, NOW + 60);
	struct ib_lease6 got;
	uint8_t top[16];

	l.duid_len = 0;
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), -EINVAL);
	l.duid_len = IB_DUID_MAX + 1;
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), -EINVAL);
	l = mk_lease6(1, 1, 1, 1, NOW, NOW + 60);
	l.prefix_len = 129;
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), -EINVAL);
	l = mk_lease6(1, 1, 1, 1, NOW, NOW + 60);
	memset(l.hostname, 'x', sizeof(l.hostname));	/* unterminated */
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), -EINVAL);
	assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), -ENOENT);
	assert_int_equal(ib_store_lease6_find_client(f->s, l.duid, 0, 1, &got), -EINVAL);
	assert_int_equal(ib_store_lease6_find_client(f->s, NULL, 10, 1, &got), -EINVAL);
	assert_int_equal(ib_store_lease6_find_client(f->s, l.duid, IB_DUID_MAX + 1, 1,
						     &got), -EINVAL);
	/* extremes round-trip: top address, longest DUID with NUL bytes,
	 * top IAID, no MAC, longest hostname, extreme times, prefix 0/128 */
	memset(top, 0xff, sizeof(top));
	l = mk_lease6_at(top, 1, UINT32_MAX, INT64_MIN, INT64_MAX);
	l.preferred = INT64_MIN;
	l.prefix_len = 128;
	memcpy(l.subnet, top, 16);
	l.duid_len = IB_DUID_MAX;
	memset(l.duid, 0, IB_DUID_MAX);
	l.duid[IB_DUID_MAX - 1] = 0xee;
	l.has_mac = false;
	memset(l.mac, 0, sizeof(l.mac));
	memset(l.hostname, 'h', sizeof(l.hostname) - 1);
	l.hostname[sizeof(l.hostname) - 1] = '\0';
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_lease6_get(f->s, top, &got), 0);
	assert_lease6_equal(&got, &l);
	assert_false(got.has_mac);
	assert_int_equal(ib_store_lease6_find_client(f->s, l.duid, IB_DUID_MAX,
						     UINT32_MAX, &got), 0);
	assert_memory_equal(got.address, top, 16);
	l = mk_lease6(0, 0, 1, 0, NOW, NOW + 60);	/* fd00:b007::, iaid 0 */
	l.prefix_len = 0;
	memset(l.subnet, 0, sizeof(l.subnet));
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), 0);
	assert_lease6_equal(&got, &l);
}

static void test_lease6_get_set_state(void **state)
{
	struct fix *f = *state;
	struct ib_lease6 l = mk_lease6(1, 5, 1, 1, NOW, NOW + 600);
	struct ib_lease6 got;

	assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), -ENOENT);
	assert_int_equal(ib_store_lease6_set_state(f->s, l.address, IB_LEASE_RELEASED,
						   NOW), -ENOENT);
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_lease6_set_state(f->s, l.address, 9, NOW), -EINVAL);
	assert_int_equal(ib_store_lease6_set_state(f->s, l.address, 0, NOW), -EINVAL);
	/* release: valid ends now, and preferred never stays beyond it */
	assert_int_equal(ib_store_lease6_set_state(f->s, l.address, IB_LEASE_RELEASED,
						   NOW + 1), 0);
	assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_RELEASED);
	assert_int_equal(got.expires, NOW + 1);
	assert_int_equal(got.preferred, NOW + 1);
	/* a later valid-until leaves preferred where it was */
	assert_int_equal(ib_store_lease6_set_state(f->s, l.address, IB_LEASE_DECLINED,
						   NOW + 900), 0);
	assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_DECLINED);
	assert_int_equal(got.expires, NOW + 900);
	assert_int_equal(got.preferred, NOW + 1);
	/* the rest of the row is untouched */
	assert_memory_equal(got.duid, l.duid, l.duid_len);
	assert_string_equal(got.hostname, l.hostname);
	/* IPv4 and IPv6 leases are separate tables */
	assert_int_equal(ib_store_lease4_set_state(f->s, SUBNET + 5, IB_LEASE_RELEASED,
						   NOW), -ENOENT);
}

static void test_lease6_find_client(void **state)
{
	struct fix *f = *state;
	struct ib_lease6 old = mk_lease6(1, 1, 1, 1, NOW, NOW + 60);
	struct ib_lease6 newer = mk_lease6(2, 2, 1, 1, NOW + 50, NOW + 60);
	struct ib_lease6 ia2 = mk_lease6(3, 3, 1, 2, NOW + 100, NOW + 60);
	struct ib_lease6 cl2 = mk_lease6(4, 4, 2, 1, NOW + 200, NOW + 60);
	struct ib_lease6 got;

	assert_int_equal(ib_store_lease6_find_client(f->s, old.duid, old.duid_len, 1,
						     &got), -ENOENT);
	assert_int_equal(ib_store_lease6_commit(f->s, &old, NOW), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &newer, NOW), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &ia2, NOW), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &cl2, NOW), 0);
	/* the newest by cltt of that DUID and IAID, whatever the subnet */
	assert_int_equal(ib_store_lease6_find_client(f->s, old.duid, old.duid_len, 1,
						     &got), 0);
	assert_lease6_equal(&got, &newer);
	assert_int_equal(ib_store_lease6_find_client(f->s, old.duid, old.duid_len, 2,
						     &got), 0);
	assert_lease6_equal(&got, &ia2);
	assert_int_equal(ib_store_lease6_find_client(f->s, cl2.duid, cl2.duid_len, 1,
						     &got), 0);
	assert_lease6_equal(&got, &cl2);
	assert_int_equal(ib_store_lease6_find_client(f->s, old.duid, old.duid_len, 3,
						     &got), -ENOENT);
	/* a DUID matches whole, never by prefix */
	assert_int_equal(ib_store_lease6_find_client(f->s, old.duid, old.duid_len - 1, 1,
						     &got), -ENOENT);
	/* any state counts */
	assert_int_equal(ib_store_lease6_set_state(f->s, newer.address, IB_LEASE_EXPIRED,
						   NOW), 0);
	assert_int_equal(ib_store_lease6_find_client(f->s, old.duid, old.duid_len, 1,
						     &got), 0);
	assert_memory_equal(got.address, newer.address, 16);
	assert_int_equal(got.state, IB_LEASE_EXPIRED);
}

/* Collects addresses seen by an IPv6 walk; stops (returns 7) at stop_at. */
struct walk6 {
	uint8_t seen[16][16];	/* addresses in call order */
	size_t n;		/* how many */
	size_t stop_after;	/* 0 = never, else after this many */
	struct ib_store *s;	/* for the nesting check */
	int nested;		/* result of a nested walk */
};

static int walk6_cb(const struct ib_lease6 *l, void *ctx)
{
	struct walk6 *w = ctx;

	if (w->n == 16)
		return -E2BIG;
	memcpy(w->seen[w->n++], l->address, 16);
	if (w->s)
		w->nested = ib_store_lease6_foreach(w->s, walk6_cb, NULL);
	return w->n == w->stop_after ? 7 : 0;
}

static int cmp_addr6(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void test_lease6_foreach(void **state)
{
	struct fix *f = *state;
	/* high bit set sorts after clear (bytes are unsigned), and the last
	 * byte matters as much as the first */
	static const uint8_t addrs[][16] = {
		{ 0xff, 0x02, [15] = 1 },
		{ 0xfd, 0x00, 0xb0, 0x07, [15] = 2 },
		{ 0x00, [15] = 1 },
		{ 0x80 },
		{ 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		  0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0xfd, 0x00, 0xb0, 0x07, [15] = 1 },
		{ 0xfd, 0x00, 0xb0, 0x07, [14] = 1, [15] = 0 },
		{ 0xfe, 0x80, [15] = 0x80 },
	};
	const size_t n = sizeof(addrs) / sizeof(addrs[0]);
	uint8_t want[8][16];
	struct walk6 w;

	memset(&w, 0, sizeof(w));
	assert_int_equal(ib_store_lease6_foreach(f->s, walk6_cb, &w), 0);
	assert_int_equal(w.n, 0);
	for (size_t i = 0; i < n; i++) {
		struct ib_lease6 l = mk_lease6_at(addrs[i], (uint8_t)i, 1, NOW, NOW + 60);

		assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), 0);
	}
	memcpy(want, addrs, sizeof(want));
	qsort(want, n, 16, cmp_addr6);
	assert_int_equal(ib_store_lease6_foreach(f->s, walk6_cb, &w), 0);
	assert_int_equal(w.n, n);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(w.seen[i], want[i], 16);
	assert_int_equal(w.seen[0][15], 1);		/* ::1 first */
	assert_int_equal(w.seen[n - 1][0], 0xff);	/* ff02::1 last */
	/* a callback's non-zero return stops the walk and is returned */
	memset(&w, 0, sizeof(w));
	w.stop_after = 3;
	assert_int_equal(ib_store_lease6_foreach(f->s, walk6_cb, &w), 7);
	assert_int_equal(w.n, 3);
	/* nesting the same walk is refused; the outer walk goes on */
	memset(&w, 0, sizeof(w));
	w.s = f->s;
	assert_int_equal(ib_store_lease6_foreach(f->s, walk6_cb, &w), 0);
	assert_int_equal(w.nested, -EBUSY);
	assert_int_equal(w.n, n);
}

/* Records IPv6 reclaim callbacks; fails with -ECANCELED at host fail_at. */
struct reclaim6_log {
	size_t n;			/* callbacks seen */
	uint16_t fail_at;		/* 0 = never */
	uint8_t seen[256];		/* times each host (low byte) was seen */
	struct ib_store *s;		/* to check the row is not yet changed */
};

static int reclaim6_cb(const struct ib_lease6 *l, void *ctx)
{
	struct reclaim6_log *g = ctx;
	struct ib_lease6 now;
	uint16_t host = (uint16_t)(l->address[14] << 8 | l->address[15]);

	if (host == g->fail_at)
		return -ECANCELED;
	/* called before the change: the stored row still has its old state */
	assert_int_equal(ib_store_lease6_get(g->s, l->address, &now), 0);
	assert_int_equal(now.state, l->state);
	assert_true(l->state == IB_LEASE_ACTIVE || l->state == IB_LEASE_DECLINED);
	/* the walk it is inside is refused */
	assert_int_equal(ib_store_lease6_reclaim(g->s, NOW, NULL, NULL), -EBUSY);
	g->seen[host & 0xff]++;
	g->n++;
	return 0;
}

static void test_lease6_reclaim(void **state)
{
	struct fix *f = *state;
	struct reclaim6_log g = { .s = f->s };
	struct ib_lease6 l, got;
	const struct reclaim_row *rows = reclaim_rows;	/* hosts 1 to 6 */

	for (uint8_t i = 0; i < 6; i++) {
		l = mk_lease6(1, (uint16_t)(1 + i), (uint8_t)(1 + i), 1, NOW - 100,
			      rows[i].exp);
		assert_int_equal(ib_store_lease6_commit(f->s, &l, 0), 0);
		assert_int_equal(ib_store_lease6_set_state(f->s, l.address, rows[i].st,
							   rows[i].exp), 0);
	}
	/* an IPv4 reclaim leaves IPv6 leases alone */
	assert_int_equal(ib_store_lease4_reclaim(f->s, NOW, NULL, NULL), 0);
	l = mk_lease6(1, 1, 1, 1, 0, 0);
	expect_state6(f->s, &l, IB_LEASE_ACTIVE);
	/* a failing callback undoes the whole reclaim */
	g.fail_at = 6;
	assert_int_equal(ib_store_lease6_reclaim(f->s, NOW, reclaim6_cb, &g), -ECANCELED);
	expect_state6(f->s, &l, IB_LEASE_ACTIVE);
	memset(&g, 0, sizeof(g));
	g.s = f->s;
	assert_int_equal(ib_store_lease6_reclaim(f->s, NOW, reclaim6_cb, &g), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.seen[1] + g.seen[3] + g.seen[6], 3);
	for (uint8_t i = 0; i < 6; i++) {
		l = mk_lease6(1, (uint16_t)(1 + i), 0, 0, 0, 0);
		assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), 0);
		assert_int_equal(got.state, rows[i].want);
	}
	/* nothing left to do; NULL callback allowed */
	assert_int_equal(ib_store_lease6_reclaim(f->s, NOW, NULL, NULL), 0);
}

static void test_lease6_reclaim_many(void **state)
{
	struct fix *f = *state;
	struct reclaim6_log g = { .s = f->s };
	struct ib_lease6 got;
	const uint16_t n = 200;		/* > 3 reclaim rounds of 64 */

	/* inside a caller's transaction: the reclaim is a savepoint in it */
	assert_int_equal(ib_store_begin(f->s), 0);
	for (uint16_t i = 1; i <= n; i++) {	/* host 0 would be fail_at */
		struct ib_lease6 l = mk_lease6(1, i, (uint8_t)i, 1, NOW - 100,
					       NOW - 1 - (int64_t)i);

		assert_int_equal(ib_store_lease6_commit(f->s, &l, 0), 0);
	}
	assert_int_equal(ib_store_lease6_reclaim(f->s, NOW, reclaim6_cb, &g), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(g.n, n);
	for (uint16_t i = 1; i <= n; i++) {
		struct ib_lease6 l = mk_lease6(1, i, 0, 0, 0, 0);

		assert_int_equal(g.seen[i], 1);		/* each once */
		assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), 0);
		assert_int_equal(got.state, IB_LEASE_EXPIRED);
	}
}

static void test_lease6_transactions(void **state)
{
	struct fix *f = *state;
	struct ib_lease6 l = mk_lease6(1, 1, 1, 1, NOW, NOW + 60);
	struct ib_lease6 thief = mk_lease6(1, 1, 2, 1, NOW, NOW + 60);
	struct ib_lease6 got;

	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_rollback(f->s), 0);
	assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), -ENOENT);
	/* a conflict inside a batch leaves the batch's other writes alone */
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &thief, NOW), -EEXIST);
	assert_int_equal(ib_store_meta_put(f->s, "k", "v"), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_lease6_get(f->s, l.address, &got), 0);
	assert_lease6_equal(&got, &l);
}

/* IPv6 leases and meta settings survive closing and reopening the store. */
static void test_lease6_reopen(void **state)
{
	struct fix *f = *state;
	struct ib_lease6 ls[4] = {
		mk_lease6(1, 1, 1, 1, NOW, NOW + 600),
		mk_lease6(1, 2, 2, 1, NOW, NOW + 600),
		mk_lease6(2, 3, 3, 9, NOW, NOW + 600),
		mk_lease6(3, 4, 4, 1, NOW, NOW + 600),
	};
	struct ib_lease6 got;
	char v[64];

	ls[3].has_mac = false;
	memset(ls[3].mac, 0, sizeof(ls[3].mac));
	assert_int_equal(ib_store_begin(f->s), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(ib_store_lease6_commit(f->s, &ls[i], NOW), 0);
	assert_int_equal(ib_store_meta_put(f->s, "server_duid6", "0003000152540000aa01"), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	assert_int_equal(ib_store_lease6_set_state(f->s, ls[1].address, IB_LEASE_DECLINED,
						   NOW + 900), 0);
	ls[1].state = IB_LEASE_DECLINED;
	ls[1].expires = NOW + 900;
	ib_store_free(f->s);
	f->s = NULL;
	fix_open(f);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ib_store_lease6_get(f->s, ls[i].address, &got), 0);
		assert_lease6_equal(&got, &ls[i]);
	}
	assert_int_equal(ib_store_meta_get(f->s, "server_duid6", v, sizeof(v)), 0);
	assert_string_equal(v, "0003000152540000aa01");
	/* and the arbitration still holds after the reopen */
	got = mk_lease6(1, 1, 7, 1, NOW, NOW + 600);
	assert_int_equal(ib_store_lease6_commit(f->s, &got, NOW), -EEXIST);
}

int main(void)
{
	const struct CMUnitTest both[] = {
		cmocka_unit_test_setup_teardown(test_lease6_commit_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_one_per_ia, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_get_set_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_find_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_foreach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_reclaim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_reclaim_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_reopen, setup, teardown),
	};

	return fix_run_groups(both, sizeof(both) / sizeof(both[0]), NULL, 0);
}
