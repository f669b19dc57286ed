/*
 * The DHCPv6 binding cache (src/dhcp6/dhcp6_leases.c) against the store
 * it mirrors: a random run of commits (conditional: refused ones make the
 * cache read the winner's row, as the shell does), releases, declines and
 * reclaims, applied to a real SQLite store and followed by the cache as
 * dhcp6_server.c follows it.  Every address's usable answers as the
 * store's row; find answers the store's row, except that an IA whose
 * newest address another client took has none in the cache until a
 * restart (never an ACTIVE one in the store, in one subnet: the store
 * ended its others).  A cache loaded from the store (a restart) answers
 * exactly as the store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "dhcp6/dhcp6_leases.h"
#include "dhcp6/dhcp6_policy.h"
#include "store_fixture.h"

#define N_HOST 40			/* addresses, in one /64 */
#define N_CLIENT 12
#define N_IAID 2

static void client_duid(uint8_t client, struct ib_dhcp6_blob *b, uint8_t buf[10])
{
	struct ib_lease6 l = mk_lease6(1, 1, client, 0, 0, 0);

	memcpy(buf, l.duid, l.duid_len);
	*b = (struct ib_dhcp6_blob){ buf, l.duid_len };
}

/* The cache answers every client and address as the store does at now;
 * strict: find too, even for an IA whose newest address was taken. */
static void expect_same(struct ib_store *s, const struct ib_d6_leases *c, int64_t now,
			bool strict)
{
	for (uint8_t cl = 1; cl <= N_CLIENT; cl++) {
		for (uint32_t ia = 0; ia < N_IAID; ia++) {
			struct ib_lease6 want, got;
			struct ib_dhcp6_blob d;
			uint8_t buf[10];
			int rw, rg;

			client_duid(cl, &d, buf);
			rw = ib_store_lease6_find_client(s, d.p, (uint8_t)d.len, ia, &want);
			rg = ib_d6_leases_find(c, &d, ia, &got);
			if (rg != 0 && rw == 0 && !strict)
				assert_int_not_equal(want.state, IB_LEASE_ACTIVE);
			else
				assert_int_equal(rg, rw);
			if (rg == 0) {
				assert_memory_equal(got.address, want.address, 16);
				assert_int_equal(got.state, want.state);
				assert_int_equal(got.expires, want.expires);
			}
			for (uint16_t h = 0; h < N_HOST; h++) {
				struct ib_lease6 at = mk_lease6(1, h, 1, 0, 0, 0);
				struct ib_lease6 row;
				bool usable = ib_store_lease6_get(s, at.address, &row) != 0 ||
					      ib_dhcp6_lease_usable(&row, &d, ia, now);

				assert_int_equal(ib_d6_leases_usable(c, at.address, &d, ia, now),
						 usable);
			}
		}
	}
}

static int on_expired(const struct ib_lease6 *l, void *ctx)
{
	ib_d6_leases_set_state(ctx, l->address, IB_LEASE_EXPIRED, l->expires);
	return 0;
}

/* One random step on the store, followed by the cache as the shell does. */
static void step(struct ib_store *s, struct ib_d6_leases *c, unsigned r, int64_t now)
{
	uint16_t h = (uint16_t)((r >> 4) % N_HOST);
	uint8_t cl = (uint8_t)(1 + (r >> 12) % N_CLIENT);
	uint32_t ia = (r >> 20) % N_IAID;
	struct ib_lease6 l = mk_lease6(1, h, cl, ia, now,
				       now + 5 + (int64_t)((r >> 24) % 30));
	struct ib_lease6 row;

	switch (r % 8) {
	case 0: case 1: case 2: case 3:
		if (ib_store_lease6_commit(s, &l, now) == 0) {
			assert_int_equal(ib_d6_leases_bound(c, &l), 0);
		} else {
			assert_int_equal(ib_store_lease6_get(s, l.address, &row), 0);
			assert_int_equal(ib_d6_leases_file(c, &row), 0);
		}
		break;
	case 4:
		if (ib_store_lease6_set_state(s, l.address, IB_LEASE_RELEASED, now) == 0)
			ib_d6_leases_set_state(c, l.address, IB_LEASE_RELEASED, now);
		break;
	case 5:
		if (ib_store_lease6_set_state(s, l.address, IB_LEASE_DECLINED, now + 20) == 0)
			ib_d6_leases_set_state(c, l.address, IB_LEASE_DECLINED, now + 20);
		break;
	default:
		assert_true(ib_store_lease6_reclaim(s, now, on_expired, c) >= 0);
		break;
	}
}

static void test_follows_store(void **state)
{
	struct fix *f = *state;
	struct ib_d6_leases *c, *restarted;
	unsigned r = 777;
	int64_t now = NOW;

	assert_int_equal(ib_d6_leases_new(&c), 0);
	assert_int_equal(ib_d6_leases_load(c, f->s), 0);
	assert_int_equal(ib_d6_leases_count(c), 0);
	for (int i = 0; i < 1500; i++) {
		r = r * 1103515245u + 12345u;
		now += 1 + (r >> 30);	/* 1..4 s per step: leases expire */
		step(f->s, c, r >> 1, now);
		if (i % 50 == 0)
			expect_same(f->s, c, now, false);
	}
	expect_same(f->s, c, now, false);
	assert_int_equal(ib_d6_leases_new(&restarted), 0);
	assert_int_equal(ib_d6_leases_load(restarted, f->s), 0);
	assert_int_equal(ib_d6_leases_count(restarted), ib_d6_leases_count(c));
	expect_same(f->s, restarted, now, true);
	ib_d6_leases_free(restarted);
	ib_d6_leases_free(c);
	ib_d6_leases_free(NULL);
}

/* A DUID longer than any stored one finds nothing and is nobody's. */
static void test_long_duid(void **state)
{
	struct fix *f = *state;
	static uint8_t big[IB_DUID_MAX + 1];
	const struct ib_dhcp6_blob d = { big, sizeof(big) };
	struct ib_lease6 l = mk_lease6(1, 1, 1, 1, NOW, NOW + 60), got;
	struct ib_d6_leases *c;

	assert_int_equal(ib_d6_leases_new(&c), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &l, NOW), 0);
	assert_int_equal(ib_d6_leases_load(c, f->s), 0);
	assert_int_equal(ib_d6_leases_find(c, &d, 1, &got), -ENOENT);
	assert_false(ib_d6_leases_usable(c, l.address, &d, 1, NOW));
	ib_d6_leases_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_follows_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_duid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
