/* The Prometheus text formatter (src/common/metrics.c), table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/metrics.h"

static void test_family_and_samples(void **state)
{
	static const struct ib_mx_label l[] = { { "type", "discover" }, { "pool", "a" } };
	struct ib_mx m;

	ib_mx_init(&m);
	ib_mx_family(&m, "ib_x_total", "counter", "Things.");
	ib_mx_u64(&m, "ib_x_total", l, 2, 42);
	ib_mx_u64(&m, "ib_x_total", NULL, 0, 18446744073709551615ULL);
	assert_false(m.oom);
	assert_string_equal(m.buf,
		"# HELP ib_x_total Things.\n"
		"# TYPE ib_x_total counter\n"
		"ib_x_total{type=\"discover\",pool=\"a\"} 42\n"
		"ib_x_total 18446744073709551615\n");
	assert_int_equal(m.len, strlen(m.buf));
	ib_mx_done(&m);
	assert_null(m.buf);
}

/* Label values and HELP text escaped as the format says. */
static void test_escaping(void **state)
{
	static const struct {
		const char *value;
		const char *want;
	} cases[] = {
		{ "plain", "g{v=\"plain\"} 1\n" },
		{ "a\"b", "g{v=\"a\\\"b\"} 1\n" },
		{ "a\\b", "g{v=\"a\\\\b\"} 1\n" },
		{ "a\nb", "g{v=\"a\\nb\"} 1\n" },
		{ "a\x1b[2Jb\xff", "g{v=\"a?[2Jb?\"} 1\n" },
		{ "", "g{v=\"\"} 1\n" },
	};
	struct ib_mx m;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ib_mx_label l = { "v", cases[i].value };

		ib_mx_init(&m);
		ib_mx_u64(&m, "g", &l, 1, 1);
		assert_string_equal(m.buf, cases[i].want);
		ib_mx_done(&m);
	}
	ib_mx_init(&m);
	ib_mx_family(&m, "g", "gauge", "a \"quoted\" back\\slash\nnewline");
	assert_string_equal(m.buf, "# HELP g a \"quoted\" back\\\\slash\\nnewline\n"
			    "# TYPE g gauge\n");
	ib_mx_done(&m);
}

static void test_floats(void **state)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0.5, "f 0.5\n" },
		{ 3, "f 3\n" },
		{ INFINITY, "f +Inf\n" },
		{ -INFINITY, "f -Inf\n" },
		{ NAN, "f NaN\n" },
		{ 18446744073709551616.0, "f 1.8446744073709552e+19\n" },
	};
	struct ib_mx m;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ib_mx_init(&m);
		ib_mx_f64(&m, "f", NULL, 0, cases[i].v);
		assert_string_equal(m.buf, cases[i].want);
		ib_mx_done(&m);
	}
}

/* Buckets are cumulative, end with +Inf, and _count equals it. */
static void test_histogram(void **state)
{
	static const struct ib_mx_label l = { "store", "sqlite" };
	static const double obs[] = { 0.0005, 0.001, 0.002, 0.05, 0.5, 2 };
	static const char want[] =
		"lat_seconds_bucket{store=\"sqlite\",le=\"0.001\"} 2\n"
		"lat_seconds_bucket{store=\"sqlite\",le=\"0.01\"} 3\n"
		"lat_seconds_bucket{store=\"sqlite\",le=\"0.1\"} 4\n"
		"lat_seconds_bucket{store=\"sqlite\",le=\"+Inf\"} 6\n"
		"lat_seconds_sum{store=\"sqlite\"} 2.5535";
	struct ib_mx_hist h = { .n = 3, .le = { 0.001, 0.01, 0.1 } };
	struct ib_mx m;

	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		ib_mx_hist_observe(&h, obs[i]);
	assert_int_equal(h.count[0], 2);	/* le is inclusive */
	assert_int_equal(h.count[3], 2);
	ib_mx_init(&m);
	ib_mx_hist(&m, "lat_seconds", &l, 1, &h);
	assert_memory_equal(m.buf, want, sizeof(want) - 1);
	assert_non_null(strstr(m.buf, "\nlat_seconds_count{store=\"sqlite\"} 6\n"));
	ib_mx_done(&m);
	ib_mx_init(&m);
	ib_mx_hist(&m, "h", NULL, 0, &(struct ib_mx_hist){ .n = 1, .le = { 1 } });
	assert_string_equal(m.buf, "h_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
			    "h_sum 0\nh_count 0\n");
	ib_mx_done(&m);
}

/* A long body grows the buffer past its first chunk intact. */
static void test_growth(void **state)
{
	struct ib_mx m;
	char name[32];

	ib_mx_init(&m);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		ib_mx_u64(&m, name, NULL, 0, (uint64_t)i);
	}
	assert_false(m.oom);
	assert_non_null(strstr(m.buf, "m0 0\nm1 1\n"));
	assert_non_null(strstr(m.buf, "m1999 1999\n"));
	assert_int_equal(m.len, strlen(m.buf));
	ib_mx_done(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
