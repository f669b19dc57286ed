/*
 * Unit tests of the machine lifecycle's transition table
 * (src/inventory/lifecycle.c): every (state, event) pair, against the
 * list of allowed moves written out below independently of the table,
 * and the names both ways.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "inventory/lifecycle.h"

/* The allowed moves, as issue #12 states them; every other pair refuses. */
static const struct move {
	const char *from, *event, *to;
} allowed[] = {
	{ "discovered", "accept", "accepted" },
	{ "accepted", "wipe", "wiping" },
	{ "wiping", "wiped", "ready" },
	{ "ready", "allocate", "allocated" },
	{ "allocated", "install", "installing" },
	{ "allocated", "release", "ready" },
	{ "installing", "installed", "installed" },
	{ "installing", "release", "releasing" },
	{ "installed", "release", "releasing" },
	{ "releasing", "wipe", "wiping" },
	{ "accepted", "fail", "failed" },
	{ "wiping", "fail", "failed" },
	{ "allocated", "fail", "failed" },
	{ "installing", "fail", "failed" },
	{ "installed", "fail", "failed" },
	{ "releasing", "fail", "failed" },
	{ "failed", "reset", "discovered" },
	{ "retired", "reset", "discovered" },
	{ "discovered", "retire", "retired" },
	{ "accepted", "retire", "retired" },
	{ "wiping", "retire", "retired" },
	{ "ready", "retire", "retired" },
	{ "allocated", "retire", "retired" },
	{ "installing", "retire", "retired" },
	{ "installed", "retire", "retired" },
	{ "releasing", "retire", "retired" },
	{ "failed", "retire", "retired" },
};

static const struct move *find(const char *from, const char *ev)
{
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcmp(allowed[i].from, from) && !strcmp(allowed[i].event, ev))
			return &allowed[i];
	return NULL;
}

static void test_every_pair(void **state)
{
	size_t n_allowed = 0;

	(void)state;
	for (int s = 0; s < IB_LC_N_STATES; s++) {
		for (int e = 0; e < IB_LC_N_EVENTS; e++) {
			const char *sn = ib_lc_state_name((enum ib_lc_state)s);
			const char *en = ib_lc_event_name((enum ib_lc_event)e);
			const struct move *m = find(sn, en);
			enum ib_lc_state to = IB_LC_N_STATES;
			int r = ib_lc_next((enum ib_lc_state)s, (enum ib_lc_event)e, &to);

			if (!m) {
				if (r != -EPERM)
					fail_msg("%s + %s: want refusal, got %d", sn, en, r);
				assert_int_equal(to, IB_LC_N_STATES);	/* untouched */
				continue;
			}
			if (r != 0)
				fail_msg("%s + %s: want %s, got %d", sn, en, m->to, r);
			assert_string_equal(ib_lc_state_name(to), m->to);
			n_allowed++;
		}
	}
	/* every listed move exists in the table */
	assert_int_equal(n_allowed, sizeof(allowed) / sizeof(allowed[0]));
}

static void test_out_of_range(void **state)
{
	enum ib_lc_state to;

	(void)state;
	assert_int_equal(ib_lc_next(IB_LC_N_STATES, IB_LC_EV_ACCEPT, &to), -EINVAL);
	assert_int_equal(ib_lc_next((enum ib_lc_state)-1, IB_LC_EV_ACCEPT, &to), -EINVAL);
	assert_int_equal(ib_lc_next(IB_LC_READY, IB_LC_N_EVENTS, &to), -EINVAL);
	assert_null(ib_lc_state_name(IB_LC_N_STATES));
	assert_null(ib_lc_event_name(IB_LC_N_EVENTS));
}

static void test_names(void **state)
{
	enum ib_lc_event ev;

	(void)state;
	for (int s = 1; s < IB_LC_N_STATES; s++)
		assert_int_equal(ib_lc_state_parse(ib_lc_state_name((enum ib_lc_state)s)), s);
	assert_int_equal(ib_lc_state_parse("none"), IB_LC_NONE);
	assert_int_equal(ib_lc_state_parse("Ready"), IB_LC_NONE);
	assert_int_equal(ib_lc_state_parse(NULL), IB_LC_NONE);
	for (int e = 0; e < IB_LC_N_EVENTS; e++) {
		assert_int_equal(ib_lc_event_parse(ib_lc_event_name((enum ib_lc_event)e), &ev), 0);
		assert_int_equal(ev, e);
	}
	assert_int_equal(ib_lc_event_parse("explode", &ev), -EINVAL);
}

static void test_boots_agent(void **state)
{
	static const bool want[IB_LC_N_STATES] = {
		[IB_LC_DISCOVERED] = true, [IB_LC_ACCEPTED] = true, [IB_LC_WIPING] = true,
		[IB_LC_READY] = true, [IB_LC_RELEASING] = true,
	};

	(void)state;
	for (int s = 0; s < IB_LC_N_STATES; s++)
		assert_int_equal(ib_lc_boots_agent((enum ib_lc_state)s), want[s]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_pair),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_boots_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
