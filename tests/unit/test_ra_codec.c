/*
 * Router Advertisement codec: round trip of what ironboot sends (each
 * combination of the M and O flags), and the Router Solicitation check on
 * good and broken inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "dhcp6/ra_codec.h"

/*
 * Every combination of the Managed and Other flags (RFC 4861 4.2): the
 * configured values reach the wire as bits 0x80 and 0x40 of byte 5 and
 * parse back, so `managed: false` and `other: false` are checked too.
 */
static const struct mo_case {
	bool managed;		/* M as configured */
	bool other;		/* O as configured */
	uint8_t wire;		/* byte 5 as sent */
} mo_cases[] = {
	{ false, false, 0x00 },
	{ false, true, 0x40 },
	{ true, false, 0x80 },
	{ true, true, 0xc0 },
};

/* The RA of the round-trip test with the given flags. */
static struct ib_ra mk_ra(bool managed, bool other)
{
	struct ib_ra ra = { .hop_limit = 64, .managed = managed, .other = other,
			    .router_lifetime = 0, .has_lladdr = true,
			    .lladdr = { 0x52, 0x54, 0, 0, 0, 1 }, .n_prefixes = 2 };

	ra.prefixes[0] = (struct ib_ra_prefix){ .len = 64, .on_link = true, .valid = 3600,
						.preferred = 1800 };
	inet_pton(AF_INET6, "fd00:b007::", ra.prefixes[0].prefix);
	inet_pton(AF_INET6, "fd00:b007:1::", ra.prefixes[1].prefix);
	ra.prefixes[1].len = 64;
	return ra;
}

static void test_flags_round_trip(void **state)
{
	for (size_t i = 0; i < sizeof(mo_cases) / sizeof(mo_cases[0]); i++) {
		const struct mo_case *tc = &mo_cases[i];
		struct ib_ra ra = mk_ra(tc->managed, tc->other), back;
		uint8_t buf[IB_RA_MAX_LEN];
		size_t len;

		assert_int_equal(ib_ra_build(&ra, buf, sizeof(buf), &len), 0);
		assert_int_equal(buf[5], tc->wire);
		assert_int_equal(ib_ra_parse(buf, len, &back), 0);
		assert_int_equal(back.managed, tc->managed);
		assert_int_equal(back.other, tc->other);
		/* the reserved bits stay zero whatever the flags */
		assert_int_equal(buf[5] & 0x3f, 0);
	}
}

static void test_round_trip(void **state)
{
	struct ib_ra ra = mk_ra(true, true);
	uint8_t buf[IB_RA_MAX_LEN];
	struct ib_ra back;
	size_t len;

	assert_int_equal(ib_ra_build(&ra, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 16 + 8 + 2 * 32);
	assert_int_equal(buf[0], IB_ICMP6_RA);
	assert_int_equal(buf[16 + 8 + 3], 0x80);	/* L, not A */
	assert_int_equal(ib_ra_parse(buf, len, &back), 0);
	assert_true(back.has_lladdr);
	assert_int_equal(back.n_prefixes, 2);
	assert_memory_equal(&back.prefixes[0], &ra.prefixes[0], sizeof(ra.prefixes[0]));
	for (size_t cut = 0; cut < len; cut++) {
		struct ib_ra part;
		int r = ib_ra_parse(buf, cut, &part);

		/* a cut between options still parses; anything else is refused */
		assert_true(r == 0 ? cut >= 16 && (cut - 16) % 8 == 0 : r < 0);
	}
	assert_int_equal(ib_ra_build(&ra, buf, len - 1, &len), -ENOBUFS);
}

static void test_rs(void **state)
{
	static const uint8_t ok[] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t zero_len[] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t past_end[] = { 133, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0 };
	static const uint8_t code1[] = { 133, 1, 0, 0, 0, 0, 0, 0 };

	assert_true(ib_rs_valid(ok, sizeof(ok)));
	assert_true(ib_rs_valid(ok, 8));
	assert_false(ib_rs_valid(ok, 7));
	assert_false(ib_rs_valid(zero_len, sizeof(zero_len)));
	assert_false(ib_rs_valid(past_end, sizeof(past_end)));
	assert_false(ib_rs_valid(code1, sizeof(code1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_round_trip),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
