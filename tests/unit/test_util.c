/* Common helpers: cursor bounds, JSON writer, address text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "common/cursor.h"
#include "common/jsonw.h"
#include "common/siphash.h"
#include "common/util.h"

static void test_cursor_bounds(void **state)
{
	static const uint8_t b[] = { 1, 2, 3, 4, 5 };
	struct ib_cursor c, sub;
	uint32_t v32 = 0xdead;
	uint16_t v16;
	uint8_t v8;

	ib_cursor_init(&c, b, sizeof(b));
	assert_int_equal(ib_cursor_u16be(&c, &v16), 0);
	assert_int_equal(v16, 0x0102);
	assert_int_equal(ib_cursor_u32be(&c, &v32), -EBADMSG);
	assert_int_equal(v32, 0xdead);	/* untouched on failure */
	assert_int_equal(ib_cursor_sub(&c, 2, &sub), 0);
	assert_int_equal(ib_cursor_u8(&sub, &v8), 0);
	assert_int_equal(v8, 3);
	assert_int_equal(ib_cursor_skip(&sub, 2), -EBADMSG);
	assert_int_equal(ib_cursor_remaining(&c), 1);
}

static void test_wbuf_overflow_sticky(void **state)
{
	uint8_t b[3];
	struct ib_wbuf w;

	ib_wbuf_init(&w, b, sizeof(b));
	assert_int_equal(ib_wbuf_u16be(&w, 0x0102), 0);
	assert_int_equal(ib_wbuf_u16be(&w, 0x0304), -ENOBUFS);
	assert_int_equal(ib_wbuf_u8(&w, 5), -ENOBUFS);	/* sticky */
	assert_int_equal(ib_wbuf_status(&w), -ENOBUFS);
	assert_int_equal(w.len, 2);
}

static void test_jsonw_round_trip(void **state)
{
	static const char hostile[] = "a\"b\\c\nd\x01\xff{}";
	char buf[256];
	struct ib_jw w;
	json_t *o;

	ib_jw_init(&w, buf, sizeof(buf));
	ib_jw_str(&w, "s", hostile);
	ib_jw_int(&w, "n", -1234567890123LL);
	ib_jw_int(&w, "z", 0);
	ib_jw_ip4(&w, "ip", 0xc6120001u);
	ib_jw_str_opt(&w, "skip", "");
	assert_int_equal(ib_jw_end(&w), 0);
	o = json_loads(buf, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "s")),
			    "a\"b\\c\nd\x01\xc3\xbf{}");
	assert_int_equal(json_integer_value(json_object_get(o, "n")), -1234567890123LL);
	assert_int_equal(json_integer_value(json_object_get(o, "z")), 0);
	assert_string_equal(json_string_value(json_object_get(o, "ip")), "198.18.0.1");
	assert_null(json_object_get(o, "skip"));
	json_decref(o);
}

static void test_jsonw_truncates_to_marker(void **state)
{
	char buf[24];
	struct ib_jw w;

	ib_jw_init(&w, buf, sizeof(buf));
	ib_jw_str(&w, "key", "a value that will not fit");
	assert_int_equal(ib_jw_end(&w), -ENOBUFS);
	assert_string_equal(buf, "{\"truncated\":true}");
}

/*
 * ib_ip6_format() against the C library's inet_ntop(): every pattern of
 * zero and non-zero words (so every run to compress, ties included), each
 * with small and large word values, and the IPv4-compatible and -mapped
 * forms.
 */
static void test_ip6_text(void **state)
{
	static const unsigned vals[] = { 1, 0xa, 0xab, 0xabc, 0xffff, 0x1000, 0x100 };
	static const char *const fixed[] = { "::", "::1", "::ffff:198.18.0.1", "::198.18.0.1",
					     "fd00:b007::1", "fe80::5054:ff:fe00:10",
					     "::ffff:0:1", "1::", "1:0:0:2::3", "0:0:1::" };
	char mine[IB_IP6_STRLEN], libc[INET6_ADDRSTRLEN];
	uint8_t a[16];

	for (unsigned mask = 0; mask < 256; mask++) {
		for (size_t v = 0; v < IB_ARRAY_SIZE(vals); v++) {
			for (int i = 0; i < 8; i++) {
				unsigned w = mask >> i & 1 ? vals[(v + (size_t)i) % IB_ARRAY_SIZE(vals)] : 0;

				a[2 * i] = (uint8_t)(w >> 8);
				a[2 * i + 1] = (uint8_t)w;
			}
			ib_ip6_format(a, mine);
			assert_non_null(inet_ntop(AF_INET6, a, libc, sizeof(libc)));
			assert_string_equal(mine, libc);
		}
	}
	for (size_t i = 0; i < IB_ARRAY_SIZE(fixed); i++) {
		assert_int_equal(inet_pton(AF_INET6, fixed[i], a), 1);
		ib_ip6_format(a, mine);
		assert_non_null(inet_ntop(AF_INET6, a, libc, sizeof(libc)));
		assert_string_equal(mine, libc);
	}
	memset(a, 0xff, 16);
	ib_ip6_format(a, mine);
	assert_string_equal(mine, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_address_text(void **state)
{
	static const struct { uint32_t a; const char *s; } rows[] = {
		{ 0, "0.0.0.0" }, { 0xffffffffu, "255.255.255.255" },
		{ 0xc6120a64u, "198.18.10.100" }, { 0x01020304u, "1.2.3.4" },
	};
	char s[IB_IP4_STRLEN], mac[IB_MAC_STRLEN];
	uint8_t m[6];
	uint32_t a, net;
	uint8_t len;

	for (size_t i = 0; i < IB_ARRAY_SIZE(rows); i++) {
		ib_ip4_format(rows[i].a, s);
		assert_string_equal(s, rows[i].s);
		assert_int_equal(ib_ip4_parse(rows[i].s, &a), 0);
		assert_int_equal(a, rows[i].a);
	}
	assert_int_equal(ib_ip4_parse("1.2.3", &a), -EINVAL);
	assert_int_equal(ib_ip4_parse("1.2.3.256", &a), -EINVAL);
	/* inet_pton's grammar: no leading zeros (octal to some parsers), no
	 * short forms, no space. */
	assert_int_equal(ib_ip4_parse("198.018.000.100", &a), -EINVAL);
	assert_int_equal(ib_ip4_parse("198.18.0.0100", &a), -EINVAL);
	assert_int_equal(ib_ip4_parse("198.18.1", &a), -EINVAL);
	assert_int_equal(ib_ip4_parse(" 198.18.0.1", &a), -EINVAL);
	assert_int_equal(ib_ip4_parse("198.18.0.1 ", &a), -EINVAL);
	assert_int_equal(ib_ip4_parse("", &a), -EINVAL);
	assert_int_equal(ib_cidr4_parse("198.018.0.0/24", &net, &len), -EINVAL);
	assert_int_equal(ib_cidr4_parse("198.18.0.0/15", &net, &len), 0);
	assert_int_equal(ib_cidr4_parse("198.18.0.1/24", &net, &len), -EINVAL);
	assert_int_equal(ib_mac_parse("52:54:00:AB:cd:0f", m), 0);
	ib_mac_format(m, 6, mac, sizeof(mac));
	assert_string_equal(mac, "52:54:00:ab:cd:0f");
	ib_mac_format(m, 6, mac, 8);	/* truncates on a whole byte */
	assert_string_equal(mac, "52:54");
	assert_int_equal(ib_mac_parse("52:54:00:ab:cd", m), -EINVAL);
	assert_int_equal(ib_mac_parse("52-54-00-ab-cd-0f", m), 0);
	/* mixed separators: refused, as the HTTP routes refuse them (found
	 * by fuzz_api_body: the API stored a machine its script refused) */
	assert_int_equal(ib_mac_parse("52:54:00:00:00-42", m), -EINVAL);
	assert_int_equal(ib_mac_parse("52-54:00:00:00:42", m), -EINVAL);
	assert_int_equal(ib_mac_parse("5", m), -EINVAL);
	assert_int_equal(ib_mac_parse("", m), -EINVAL);
}

/* The first len bits decide, across a byte boundary too; /0 holds all. */
static void test_addr_in_prefix(void **state)
{
	static const struct { uint8_t a[4], p[4]; unsigned len; bool in; } rows[] = {
		{ { 198, 19, 0, 10 }, { 198, 18, 0, 0 }, 15, true },
		{ { 198, 20, 0, 10 }, { 198, 18, 0, 0 }, 15, false },
		{ { 198, 19, 0, 10 }, { 198, 18, 0, 0 }, 16, false },
		{ { 198, 18, 0, 10 }, { 198, 18, 0, 0 }, 16, true },
		{ { 198, 18, 0, 10 }, { 198, 18, 0, 10 }, 32, true },
		{ { 198, 18, 0, 11 }, { 198, 18, 0, 10 }, 32, false },
		{ { 198, 18, 0, 11 }, { 198, 18, 0, 10 }, 31, true },
		{ { 10, 0, 0, 1 }, { 198, 18, 0, 0 }, 0, true },
		{ { 0x80, 0, 0, 0 }, { 0, 0, 0, 0 }, 1, false },
	};
	uint8_t a6[16] = { 0xfd, 0x00, 0xb0, 0x07, 0, 1 }, p6[16] = { 0xfd, 0x00, 0xb0, 0x07 };

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(ib_addr_in_prefix(rows[i].a, rows[i].p, rows[i].len), rows[i].in);
	assert_true(ib_addr_in_prefix(a6, p6, 47));
	assert_false(ib_addr_in_prefix(a6, p6, 48));
	assert_true(ib_addr_in_prefix(a6, a6, 128));
}

/* The reference vectors of the SipHash paper (key 00..0f, message
 * 00..n-1), and a key that changes the hash. */
static void test_siphash(void **state)
{
	static const struct { size_t n; uint64_t h; } rows[] = {
		{ 0, 0x726fdb47dd0e0e31ull }, { 1, 0x74f839c593dc67fdull },
		{ 15, 0xa129ca6149be45e5ull },
	};
	uint8_t key[IB_SIPHASH_KEY_LEN], msg[64], other[IB_SIPHASH_KEY_LEN];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < IB_ARRAY_SIZE(rows); i++)
		assert_true(ib_siphash(key, msg, rows[i].n) == rows[i].h);
	assert_int_equal(ib_siphash_key_random(other), 0);
	assert_true(ib_siphash(other, msg, 15) != rows[2].h);
}

/* RFC 8415 11.2, 11.4: the MAC of a DUID-LLT / DUID-LL, nothing else. */
static void test_duid_mac(void **state)
{
	static const uint8_t llt[] = { 0, 1, 0, 1, 0x2a, 0x2b, 0x2c, 0x2d, 0x52, 0x54, 0, 0, 0, 2 };
	static const uint8_t ll[] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t type_0103[] = { 1, 3, 0, 1, 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t ll_not_ether[] = { 0, 3, 0, 6, 0x52, 0x54, 0, 0, 0, 1 };
	static const uint8_t ll_long[] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, 1, 9 };
	static const uint8_t uuid[18] = { 0, 4 };
	uint8_t mac[6];

	assert_int_equal(ib_duid_mac(llt, sizeof(llt), mac), 0);
	assert_memory_equal(mac, llt + 8, 6);
	assert_int_equal(ib_duid_mac(ll, sizeof(ll), mac), 0);
	assert_memory_equal(mac, ll + 4, 6);
	assert_int_equal(ib_duid_mac(type_0103, sizeof(type_0103), mac), -ENOENT);
	assert_int_equal(ib_duid_mac(ll_not_ether, sizeof(ll_not_ether), mac), -ENOENT);
	assert_int_equal(ib_duid_mac(ll_long, sizeof(ll_long), mac), -ENOENT);
	assert_int_equal(ib_duid_mac(uuid, sizeof(uuid), mac), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_bounds),
		cmocka_unit_test(test_wbuf_overflow_sticky),
		cmocka_unit_test(test_jsonw_round_trip),
		cmocka_unit_test(test_jsonw_truncates_to_marker),
		cmocka_unit_test(test_address_text),
		cmocka_unit_test(test_ip6_text),
		cmocka_unit_test(test_duid_mac),
		cmocka_unit_test(test_addr_in_prefix),
		cmocka_unit_test(test_siphash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
