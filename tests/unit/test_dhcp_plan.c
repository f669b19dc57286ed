/*
 * Unit tests of a group commit's plan (src/dhcp/dhcp_plan.c), on both
 * stores (store_fixture.h; meson's dhcp_plan_pg on PostgreSQL): each op's
 * verdicts (applied, refused: another client's address, no such row), and
 * a write that fails otherwise stopping the run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"
#include "dhcp/dhcp_plan.h"

#define ADDR4 (SUBNET | 10)

/* An ACTIVE DHCPv4 row of address for the client of MAC ...:mac. */
static void row4(struct ib_lease4 *l, uint32_t address, uint8_t mac)
{
	memset(l, 0, sizeof(*l));
	l->address = address;
	l->subnet = SUBNET;
	l->htype = 1;
	l->hw_len = 6;
	memcpy(l->hwaddr, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, mac }, 6);
	l->cltt = NOW;
	l->expires = NOW + 600;
	l->state = IB_LEASE_ACTIVE;
}

/* An ACTIVE DHCPv6 row of ::last for the IA (DUID-LL ...:mac, IAID 1). */
static void row6(struct ib_lease6 *l, uint8_t last, uint8_t mac)
{
	memset(l, 0, sizeof(*l));
	memcpy(l->address, (uint8_t[]){ 0xfd, 0, 0xb0, 0x07, [15] = last }, 16);
	memcpy(l->subnet, (uint8_t[16]){ 0xfd, 0, 0xb0, 0x07 }, 16);
	l->prefix_len = 64;
	memcpy(l->duid, (uint8_t[]){ 0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, mac }, 10);
	l->duid_len = 10;
	l->iaid = 1;
	l->cltt = NOW;
	l->preferred = NOW + 300;
	l->expires = NOW + 600;
	l->state = IB_LEASE_ACTIVE;
}

/* Runs pl's rows in one committed transaction; the run's outcome. */
static int run_plan(struct ib_store *s, struct ib_dhcp_plan *pl)
{
	int r;

	assert_int_equal(ib_store_begin(s), 0);
	r = ib_dhcp_plan_run(s, pl->w, pl->n);
	if (r == 0)
		assert_int_equal(ib_store_commit(s), 0);
	else
		ib_store_rollback(s);
	return r;
}

static struct ib_dhcp_write *add(struct ib_dhcp_plan *pl, uint32_t slot,
				 enum ib_dhcp_write_op op)
{
	struct ib_dhcp_write *w;

	pl->slot = slot;
	w = ib_dhcp_plan_add(pl, op);
	assert_non_null(w);
	assert_int_equal(w->slot, slot);
	w->now = NOW;
	return w;
}

/* DHCPv4: a commit applied, the same address refused to another client,
 * a release of no row, a decline of the taken address refused, a release
 * applied; the rows as the verdicts say. */
static void test_plan4_verdicts(void **state)
{
	struct fix *f = *state;
	struct ib_dhcp_write w[5];
	struct ib_dhcp_plan pl = { .w = w, .cap = 5 };
	struct ib_lease4 got;

	row4(&add(&pl, 0, IB_DHCP_W4_COMMIT)->row.l4, ADDR4, 1);
	row4(&add(&pl, 1, IB_DHCP_W4_COMMIT)->row.l4, ADDR4, 2);
	add(&pl, 2, IB_DHCP_W4_STATE)->row.l4.address = ADDR4 + 1;
	w[2].state = IB_LEASE_RELEASED;
	w[2].expires = NOW;
	row4(&add(&pl, 3, IB_DHCP_W4_DECLINE)->row.l4, ADDR4, 3);
	w[3].expires = NOW + 3600;
	assert_null(ib_dhcp_plan_add(&(struct ib_dhcp_plan){ .w = w, .n = 5, .cap = 5 },
				     IB_DHCP_W4_STATE));
	assert_int_equal(run_plan(f->s, &pl), 0);
	assert_int_equal(w[0].verdict, 0);
	assert_int_equal(w[1].verdict, -EEXIST);
	assert_int_equal(w[2].verdict, -ENOENT);
	assert_int_equal(w[3].verdict, -EEXIST);
	assert_int_equal(ib_store_lease4_get(f->s, ADDR4, &got), 0);
	assert_int_equal(got.hwaddr[5], 1);
	assert_int_equal(got.state, IB_LEASE_ACTIVE);

	/* the client's decline quarantines it, then a release of it applies */
	pl.n = 0;
	row4(&add(&pl, 0, IB_DHCP_W4_DECLINE)->row.l4, ADDR4, 1);
	w[0].expires = NOW + 3600;
	assert_int_equal(run_plan(f->s, &pl), 0);
	assert_int_equal(w[0].verdict, 0);
	assert_int_equal(ib_store_lease4_get(f->s, ADDR4, &got), 0);
	assert_int_equal(got.state, IB_LEASE_DECLINED);
	assert_int_equal(got.expires, NOW + 3600);
}

/* DHCPv6: two IAs of one slot, one refused; a decline; a release of no row. */
static void test_plan6_verdicts(void **state)
{
	struct fix *f = *state;
	struct ib_dhcp_write w[4];
	struct ib_dhcp_plan pl = { .w = w, .cap = 4 };
	struct ib_lease6 got, held;

	row6(&held, 1, 9);
	assert_int_equal(ib_store_begin(f->s), 0);
	assert_int_equal(ib_store_lease6_commit(f->s, &held, NOW), 0);
	assert_int_equal(ib_store_commit(f->s), 0);
	row6(&add(&pl, 0, IB_DHCP_W6_COMMIT)->row.l6, 1, 1);
	w[0].ia = 0;
	row6(&add(&pl, 0, IB_DHCP_W6_COMMIT)->row.l6, 2, 1);
	w[1].row.l6.iaid = 2;
	w[1].ia = 1;
	row6(&add(&pl, 1, IB_DHCP_W6_STATE)->row.l6, 1, 9);
	w[2].state = IB_LEASE_DECLINED;
	w[2].expires = NOW + 3600;
	row6(&add(&pl, 2, IB_DHCP_W6_STATE)->row.l6, 3, 3);
	w[3].state = IB_LEASE_RELEASED;
	assert_int_equal(run_plan(f->s, &pl), 0);
	assert_int_equal(w[0].verdict, -EEXIST);
	assert_int_equal(w[1].verdict, 0);
	assert_int_equal(w[2].verdict, 0);
	assert_int_equal(w[3].verdict, -ENOENT);
	assert_int_equal(ib_store_lease6_get(f->s, held.address, &got), 0);
	assert_int_equal(got.state, IB_LEASE_DECLINED);
	assert_int_equal(ib_store_lease6_get(f->s, w[1].row.l6.address, &got), 0);
	assert_int_equal(got.iaid, 2);
}

/* A write failing otherwise than by its verdict stops the run: the rows
 * after it are not run, and the batch rolls back (nothing stored). */
static void test_plan_failure_stops(void **state)
{
	struct fix *f = *state;
	struct ib_dhcp_write w[3];
	struct ib_dhcp_plan pl = { .w = w, .cap = 3 };
	struct ib_lease4 got;

	row4(&add(&pl, 0, IB_DHCP_W4_COMMIT)->row.l4, ADDR4, 1);
	row6(&add(&pl, 1, IB_DHCP_W6_COMMIT)->row.l6, 1, 1);
	w[1].row.l6.duid_len = 0;		/* refused: -EINVAL */
	row4(&add(&pl, 2, IB_DHCP_W4_COMMIT)->row.l4, ADDR4 + 1, 2);
	w[2].verdict = 12345;			/* untouched: never run */
	assert_int_equal(run_plan(f->s, &pl), -EINVAL);
	assert_int_equal(w[0].verdict, 0);
	assert_int_equal(w[2].verdict, 12345);
	assert_int_equal(ib_store_lease4_get(f->s, ADDR4, &got), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest both[] = {
		cmocka_unit_test_setup_teardown(test_plan4_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan6_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_failure_stops, setup, teardown),
	};

	return fix_run_groups(both, sizeof(both) / sizeof(both[0]), NULL, 0);
}
