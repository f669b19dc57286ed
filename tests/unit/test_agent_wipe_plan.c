/* Unit tests for the wipe plan (src/agent/agent_wipe_plan.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_wipe_plan.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define TiB (1024ull * GiB)
#define PiB (1024ull * TiB)

static const struct plan_case {
	const char *what;
	uint64_t size;			/* disk bytes */
	size_t n;			/* ranges */
	uint64_t r[5][2];		/* off, len */
} cases[] = {
	{ "empty", 0, 0, { { 0 } } },
	{ "one sector", 512, 1, { { 0, 512 } } },
	{ "1 MiB", MiB, 1, { { 0, MiB } } },
	{ "16 MiB", 16 * MiB, 1, { { 0, 16 * MiB } } },
	{ "32 MiB: whole", 32 * MiB, 1, { { 0, 32 * MiB } } },
	{ "20 MiB: ends overlap", 20 * MiB, 1, { { 0, 20 * MiB } } },
	{ "32 MiB + 512", 32 * MiB + 512, 2, { { 0, 16 * MiB }, { 16 * MiB + 512, 16 * MiB } } },
	{ "64 MiB (the e2e disk)", 64 * MiB, 2, { { 0, 16 * MiB }, { 48 * MiB, 16 * MiB } } },
	{ "80 MiB: btrfs mirror inside the tail", 80 * MiB, 2,
	  { { 0, 16 * MiB }, { 64 * MiB, 16 * MiB } } },
	{ "80 MiB + 1 KiB: mirror straddles the tail start", 80 * MiB + KiB, 2,
	  { { 0, 16 * MiB }, { 64 * MiB, 16 * MiB + KiB } } },
	{ "100 MiB", 100 * MiB, 3,
	  { { 0, 16 * MiB }, { 64 * MiB, 4 * KiB }, { 84 * MiB, 16 * MiB } } },
	{ "1 TiB", TiB, 4,
	  { { 0, 16 * MiB }, { 64 * MiB, 4 * KiB }, { 256 * GiB, 4 * KiB },
	    { TiB - 16 * MiB, 16 * MiB } } },
	{ "2 PiB", 2 * PiB, 5,
	  { { 0, 16 * MiB }, { 64 * MiB, 4 * KiB }, { 256 * GiB, 4 * KiB }, { PiB, 4 * KiB },
	    { 2 * PiB - 16 * MiB, 16 * MiB } } },
};

static void test_plan_table(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct plan_case *c = &cases[i];
		struct ib_agent_range r[IB_AGENT_WIPE_RANGES_MAX];
		size_t n = ib_agent_wipe_plan(c->size, r);
		if (n != c->n)
			fail_msg("%s: %zu ranges, want %zu", c->what, n, c->n);
		for (size_t k = 0; k < n; k++) {
			if (r[k].off != c->r[k][0] || r[k].len != c->r[k][1])
				fail_msg("%s: range %zu is [%llu,+%llu), want [%llu,+%llu)", c->what, k,
					 (unsigned long long)r[k].off, (unsigned long long)r[k].len,
					 (unsigned long long)c->r[k][0], (unsigned long long)c->r[k][1]);
			assert_non_null(r[k].why);
		}
	}
}

/* For many sizes: sorted, disjoint, inside, and covering what must go. */
static void test_plan_properties(void **state)
{
	uint64_t size = 512;

	for (int i = 0; i < 2000; i++) {
		struct ib_agent_range r[IB_AGENT_WIPE_RANGES_MAX];
		size_t n = ib_agent_wipe_plan(size, r);
		uint64_t gpt_backup = size > 33 * 512 ? size - 33 * 512 : 0;
		bool head = false, tail = false;
		assert_true(n >= 1 && n <= IB_AGENT_WIPE_RANGES_MAX);
		for (size_t k = 0; k < n; k++) {
			assert_true(r[k].len > 0);
			assert_true(r[k].off + r[k].len <= size);
			if (k > 0)
				assert_true(r[k - 1].off + r[k - 1].len < r[k].off);
			/* the MBR, primary GPT and the first 16 MiB */
			if (r[k].off == 0 && r[k].len >= (size < 16 * MiB ? size : 16 * MiB))
				head = true;
			/* the backup GPT and the last 16 MiB */
			if (r[k].off + r[k].len == size && r[k].off <= gpt_backup &&
			    r[k].len >= (size < 16 * MiB ? size : 16 * MiB))
				tail = true;
		}
		assert_true(head);
		assert_true(tail);
		assert_true(ib_agent_wipe_plan_bytes(r, n) <= 32 * MiB + 3 * 4 * KiB);
		/* sizes from 512 B to beyond a PiB, in uneven steps */
		size = size * 3 / 2 + 512 * (uint64_t)(i % 7);
		if (size > 4 * PiB)
			size = 512 * (uint64_t)(i + 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_table),
		cmocka_unit_test(test_plan_properties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
