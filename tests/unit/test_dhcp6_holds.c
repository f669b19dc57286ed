/*
 * The ADVERTISE holds: find, taken, replace, drop, expiry, a full table,
 * and many clients in a small table (chains, not scans).
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
	ib_d6_holds_put(h, &c1, 7, a1, 130, 100);
	assert_int_equal(ib_d6_holds_find(h, &c1, 7, 100, got, &until), 0);
	assert_memory_equal(got, a1, 16);
	assert_int_equal(until, 130);
	assert_int_equal(ib_d6_holds_find(h, &c1, 8, 100, got, &until), -ENOENT); /* other IA */
	assert_int_equal(ib_d6_holds_holder(h, a1, &c2, 7, 100), IB_D6_HELD_OTHER); /* someone else's */
	assert_int_equal(ib_d6_holds_holder(h, a1, &c1, 7, 100), IB_D6_HELD_MINE);	/* its own */
	assert_int_equal(ib_d6_holds_holder(h, a2, &c2, 7, 100), IB_D6_HELD_NONE);
	/* a new offer to the same IA replaces the old one */
	ib_d6_holds_put(h, &c1, 7, a2, 140, 101);
	assert_int_equal(ib_d6_holds_holder(h, a1, &c2, 7, 101), IB_D6_HELD_NONE);
	assert_int_equal(ib_d6_holds_holder(h, a2, &c2, 7, 101), IB_D6_HELD_OTHER);
	assert_int_equal(ib_d6_holds_count(h, 101), 1);
	/* expiry */
	assert_int_equal(ib_d6_holds_find(h, &c1, 7, 140, got, &until), -ENOENT);
	assert_int_equal(ib_d6_holds_holder(h, a2, &c2, 7, 140), IB_D6_HELD_NONE);
	/* drop */
	ib_d6_holds_put(h, &c2, 1, a1, 200, 150);
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
		ib_d6_holds_put(h, &c, 1, a, 100 + (i < 500 ? 0 : 100), 10);
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
	ib_d6_holds_put(h, &c, 1, a, 300, 150);
	assert_int_equal(ib_d6_holds_find(h, &c, 1, 150, got, &until), 0);
	assert_int_equal(ib_d6_holds_count(h, 150), 501);
	ib_d6_holds_expire(h, 250);
	assert_int_equal(ib_d6_holds_count(h, 0), 1);
	/* empty or oversized DUIDs are never held */
	c.len = 0;
	ib_d6_holds_put(h, &c, 1, a, 400, 250);
	assert_int_equal(ib_d6_holds_find(h, &c, 1, 250, got, &until), -ENOENT);
	ib_d6_holds_free(h);
	ib_d6_holds_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_full_and_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
