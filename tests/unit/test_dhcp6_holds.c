/*
 * The ADVERTISE holds: find, taken, replace, drop, expiry, a full table,
 * and many clients in a small table (chains, not scans); the hold ledger
 * (src/dhcp4/hold_ledger.c) both families file their holds in, and the
 * holds' use of it (issue #11: count per source, take over the oldest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dhcp6/dhcp6_holds.h"

static void addr_of(unsigned n, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 0xfd;
	a[14] = (uint8_t)(n >> 8);
	a[15] = (uint8_t)n;
}

static void duid_of(unsigned n, uint8_t d[10], struct ib_dhcp6_blob *b)
{
	static const uint8_t base[10] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, 0 };

	memcpy(d, base, 10);
	d[8] = (uint8_t)(n >> 8);
	d[9] = (uint8_t)n;
	*b = (struct ib_dhcp6_blob){ d, 10 };
}

static void test_basic(void **state)
{
	struct ib_d6_holds *h;
	uint8_t a1[16], a2[16], got[16], d1[10], d2[10];
	struct ib_dhcp6_blob c1, c2;
	int64_t until;

	assert_int_equal(ib_d6_holds_new(4, &h), 0);
	addr_of(1, a1);
	addr_of(2, a2);
	duid_of(1, d1, &c1);
	duid_of(2, d2, &c2);
	assert_int_equal(ib_d6_holds_find(h, &c1, 7, 100, got, &until), -ENOENT);
	ib_d6_holds_put(h, &c1, 7, a1, 130, 100, NULL);
	assert_int_equal(ib_d6_holds_find(h, &c1, 7, 100, got, &until), 0);
	assert_memory_equal(got, a1, 16);
	assert_int_equal(until, 130);
	assert_int_equal(ib_d6_holds_find(h, &c1, 8, 100, got, &until), -ENOENT); /* other IA */
	assert_int_equal(ib_d6_holds_holder(h, a1, &c2, 7, 100), IB_D6_HELD_OTHER); /* someone else's */
	assert_int_equal(ib_d6_holds_holder(h, a1, &c1, 7, 100), IB_D6_HELD_MINE);	/* its own */
	assert_int_equal(ib_d6_holds_holder(h, a2, &c2, 7, 100), IB_D6_HELD_NONE);
	/* a new offer to the same IA replaces the old one */
	ib_d6_holds_put(h, &c1, 7, a2, 140, 101, NULL);
	assert_int_equal(ib_d6_holds_holder(h, a1, &c2, 7, 101), IB_D6_HELD_NONE);
	assert_int_equal(ib_d6_holds_holder(h, a2, &c2, 7, 101), IB_D6_HELD_OTHER);
	assert_int_equal(ib_d6_holds_count(h, 101), 1);
	/* expiry */
	assert_int_equal(ib_d6_holds_find(h, &c1, 7, 140, got, &until), -ENOENT);
	assert_int_equal(ib_d6_holds_holder(h, a2, &c2, 7, 140), IB_D6_HELD_NONE);
	/* drop */
	ib_d6_holds_put(h, &c2, 1, a1, 200, 150, NULL);
	ib_d6_holds_drop(h, &c2, 1);
	assert_int_equal(ib_d6_holds_holder(h, a1, &c1, 7, 150), IB_D6_HELD_NONE);
	ib_d6_holds_free(h);
}

static void test_full_and_many(void **state)
{
	struct ib_d6_holds *h;
	uint8_t a[16], got[16], d[10];
	struct ib_dhcp6_blob c;
	int64_t until;

	assert_int_equal(ib_d6_holds_new(1000, &h), 0);
	for (unsigned i = 0; i < 1200; i++) {	/* 200 more than fit */
		addr_of(i, a);
		duid_of(i, d, &c);
		ib_d6_holds_put(h, &c, 1, a, 100 + (i < 500 ? 0 : 100), 10, NULL);
	}
	assert_int_equal(ib_d6_holds_count(h, 10), 1000);
	for (unsigned i = 0; i < 1000; i++) {
		duid_of(i, d, &c);
		assert_int_equal(ib_d6_holds_find(h, &c, 1, 10, got, &until), 0);
		addr_of(i, a);
		assert_memory_equal(got, a, 16);
	}
	duid_of(1100, d, &c);
	assert_int_equal(ib_d6_holds_find(h, &c, 1, 10, got, &until), -ENOENT);	/* did not fit */
	/* once the first 500 expire, their slots serve new clients */
	addr_of(1100, a);
	ib_d6_holds_put(h, &c, 1, a, 300, 150, NULL);
	assert_int_equal(ib_d6_holds_find(h, &c, 1, 150, got, &until), 0);
	assert_int_equal(ib_d6_holds_count(h, 150), 501);
	ib_d6_holds_expire(h, 250);
	assert_int_equal(ib_d6_holds_count(h, 0), 1);
	/* empty or oversized DUIDs are never held */
	c.len = 0;
	ib_d6_holds_put(h, &c, 1, a, 400, 250, NULL);
	assert_int_equal(ib_d6_holds_find(h, &c, 1, 250, got, &until), -ENOENT);
	ib_d6_holds_free(h);
	ib_d6_holds_free(NULL);
}

/* ---- the ledger ---- */

static void group(unsigned subnet, uint64_t source, struct ib_ledger_group *g)
{
	addr_of(subnet << 8, g->subnet);
	g->source = source;
}

/* One step of a ledger script, and what the ledger answers after it. */
struct lstep {
	const char *what;
	char op;			/* 'a' add, 'r' remove, '-' query only */
	unsigned addr;			/* addr_of(addr) */
	uint64_t source;		/* of subnet 1 */
	int64_t since, until;
	int64_t now;			/* queries at */
	size_t count_a, count_b;	/* live holds of sources A and B */
	int oldest_a, oldest_any;	/* addresses, or -1: none */
};

enum { SA = 1, SB = 2 };

static const struct lstep lsteps[] = {
	{ "empty", '-', .now = 0, .oldest_a = -1, .oldest_any = -1 },
	{ "A holds 1", 'a', 1, SA, 10, 40, 10, 1, 0, 1, 1 },
	{ "A holds 2", 'a', 2, SA, 11, 41, 11, 2, 0, 1, 1 },
	{ "B holds 3", 'a', 3, SB, 12, 42, 12, 2, 1, 1, 1 },
	{ "1 removed: 2 is A's oldest", 'r', 1, .now = 12, .count_a = 1, .count_b = 1,
	  .oldest_a = 2, .oldest_any = 2 },
	{ "2 taken over by B: a new hold, the newest", 'a', 2, SB, 13, 43, 13, 0, 2, -1, 3 },
	{ "A holds 4", 'a', 4, SA, 14, 44, 14, 1, 2, 4, 3 },
	{ "3 expires at 42", '-', .now = 42, .count_a = 1, .count_b = 1, .oldest_a = 4,
	  .oldest_any = 2 },
	{ "all expired", '-', .now = 44, .oldest_a = -1, .oldest_any = -1 },
};

static void test_ledger_script(void **state)
{
	struct ib_ledger *l;
	struct ib_ledger_group ga, gb, g;
	uint8_t a[16], got[16];
	uint64_t sa = SA;

	assert_int_equal(ib_ledger_new(16, &l), 0);
	group(1, SA, &ga);
	group(1, SB, &gb);
	for (size_t i = 0; i < sizeof(lsteps) / sizeof(lsteps[0]); i++) {
		const struct lstep *s = &lsteps[i];

		print_message("  %s\n", s->what);
		addr_of(s->addr, a);
		if (s->op == 'a') {
			group(1, s->source, &g);
			assert_int_equal(ib_ledger_add(l, a, &g, s->since, s->until), 0);
		} else if (s->op == 'r') {
			ib_ledger_remove(l, a);
		}
		assert_int_equal(ib_ledger_count(l, &ga, s->now), s->count_a);
		assert_int_equal(ib_ledger_count(l, &gb, s->now), s->count_b);
		if (s->oldest_a < 0) {
			assert_int_equal(ib_ledger_oldest(l, ga.subnet, &sa, s->now, got), -ENOENT);
		} else {
			assert_int_equal(ib_ledger_oldest(l, ga.subnet, &sa, s->now, got), 0);
			addr_of((unsigned)s->oldest_a, a);
			assert_memory_equal(got, a, 16);
		}
		if (s->oldest_any < 0) {
			assert_int_equal(ib_ledger_oldest(l, ga.subnet, NULL, s->now, got), -ENOENT);
		} else {
			assert_int_equal(ib_ledger_oldest(l, ga.subnet, NULL, s->now, got), 0);
			addr_of((unsigned)s->oldest_any, a);
			assert_memory_equal(got, a, 16);
		}
	}
	assert_int_equal(ib_ledger_size(l), 0);	/* trimmed as they expired */
	ib_ledger_free(l);
	ib_ledger_free(NULL);
}

static void test_ledger_limits(void **state)
{
	struct ib_ledger *l;
	struct ib_ledger_group g, other;
	uint8_t a[16], got[16];
	uint64_t src = 7;

	/* a full ledger refuses (the hold then simply goes uncounted) */
	assert_int_equal(ib_ledger_new(2, &l), 0);
	group(1, 1, &g);
	addr_of(1, a);
	assert_int_equal(ib_ledger_add(l, a, &g, 1, 100), 0);
	addr_of(2, a);
	assert_int_equal(ib_ledger_add(l, a, &g, 2, 100), 0);
	addr_of(3, a);
	assert_int_equal(ib_ledger_add(l, a, &g, 3, 100), -ENOSPC);
	/* ... unless an expired one makes room */
	assert_int_equal(ib_ledger_add(l, a, &g, 100, 200), 0);
	assert_int_equal(ib_ledger_count(l, &g, 100), 1);
	/* subnets apart */
	group(2, 1, &g);
	assert_int_equal(ib_ledger_oldest(l, g.subnet, NULL, 100, got), -ENOENT);
	ib_ledger_free(l);

	/* past IB_LEDGER_GROUPS sources, the others share OTHER per subnet */
	assert_int_equal(ib_ledger_new(1024, &l), 0);
	for (unsigned i = 0; i < IB_LEDGER_GROUPS + 10; i++) {
		group(1, 1000 + i, &g);
		addr_of(i, a);
		assert_int_equal(ib_ledger_add(l, a, &g, i, 10000), 0);
	}
	group(1, IB_LEDGER_SOURCE_OTHER, &other);
	assert_true(ib_ledger_count(l, &other, 0) >= 10 + 32);
	group(1, 1000, &g);
	assert_int_equal(ib_ledger_count(l, &g, 0), 1);	/* the first ones kept theirs */
	assert_int_equal(ib_ledger_oldest(l, g.subnet, NULL, 0, got), 0);
	addr_of(0, a);
	assert_memory_equal(got, a, 16);
	src = IB_LEDGER_SOURCE_OTHER;
	assert_int_equal(ib_ledger_oldest(l, g.subnet, &src, 0, got), 0);
	/* v4 addresses round-trip */
	ib_ledger_addr4(0xc6120064u, a);
	assert_int_equal(ib_ledger_to4(a), 0xc6120064u);
	ib_ledger_free(l);
}

/* The holds file pool holds in the ledger; taking over moves a hold. */
static void test_holds_in_ledger(void **state)
{
	struct ib_d6_holds *h;
	struct ib_ledger_group g;
	uint8_t a1[16], a2[16], got[16], d1[10], d2[10], d3[10];
	struct ib_dhcp6_blob c1, c2, c3;
	uint64_t src = 5;
	int64_t until;

	assert_int_equal(ib_d6_holds_new(8, &h), 0);
	group(1, 5, &g);
	addr_of(1, a1);
	addr_of(2, a2);
	duid_of(1, d1, &c1);
	duid_of(2, d2, &c2);
	duid_of(3, d3, &c3);
	ib_d6_holds_put(h, &c1, 1, a1, 130, 100, &g);
	ib_d6_holds_put(h, &c2, 1, a2, 131, 101, &g);
	assert_int_equal(ib_d6_holds_in(h, &g, 101), 2);
	assert_int_equal(ib_d6_holds_oldest(h, g.subnet, &src, 101, got), 0);
	assert_memory_equal(got, a1, 16);
	/* c3 takes over a1: c1's hold is gone, c3's is the newest */
	ib_d6_holds_put(h, &c3, 1, a1, 132, 102, &g);
	assert_int_equal(ib_d6_holds_find(h, &c1, 1, 102, got, &until), -ENOENT);
	assert_int_equal(ib_d6_holds_holder(h, a1, &c3, 1, 102), IB_D6_HELD_MINE);
	assert_int_equal(ib_d6_holds_in(h, &g, 102), 2);
	assert_int_equal(ib_d6_holds_oldest(h, g.subnet, NULL, 102, got), 0);
	assert_memory_equal(got, a2, 16);
	/* bound: every hold on the address ends */
	ib_d6_holds_drop_addr(h, a2);
	assert_int_equal(ib_d6_holds_holder(h, a2, &c1, 1, 102), IB_D6_HELD_NONE);
	assert_int_equal(ib_d6_holds_in(h, &g, 102), 1);
	/* a reserved address (no group) is held, never counted */
	addr_of(0x10, a2);
	ib_d6_holds_put(h, &c2, 1, a2, 140, 103, NULL);
	assert_int_equal(ib_d6_holds_holder(h, a2, &c1, 1, 103), IB_D6_HELD_OTHER);
	assert_int_equal(ib_d6_holds_in(h, &g, 103), 1);
	/* dropped or expired, gone from the ledger too */
	ib_d6_holds_drop(h, &c3, 1);
	assert_int_equal(ib_d6_holds_in(h, &g, 103), 0);
	assert_int_equal(ib_d6_holds_oldest(h, g.subnet, NULL, 103, got), -ENOENT);
	ib_d6_holds_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_full_and_many),
		cmocka_unit_test(test_ledger_script),
		cmocka_unit_test(test_ledger_limits),
		cmocka_unit_test(test_holds_in_ledger),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
