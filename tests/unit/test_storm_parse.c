/*
 * Unit tests for ironboot-storm's own parsers: iPXE settings, tftp:// URLs,
 * iPXE scripts and the receiving side of a TFTP transfer (windows, gaps,
 * repeats, rollover, errors).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/cursor.h"
#include "storm/storm_parse.h"
#include "tftp/tftp_codec.h"

static const struct ib_storm_settings set = {
	.mac = "52:54:01:00:00:07", .uuid = "u-1", .buildarch = "x86_64",
	.platform = "efi", .hostname = "", .serial = NULL,
};

static void test_expand(void **state)
{
	static const struct {
		const char *in, *out;
		int rc;
	} cases[] = {
		{ "http://h/boot.ipxe?mac=${net0/mac}&arch=${buildarch}",
		  "http://h/boot.ipxe?mac=52:54:01:00:00:07&arch=x86_64", 0 },
		{ "${mac}${uuid}${platform}", "52:54:01:00:00:07u-1efi", 0 },
		{ "a${net0/mac:hexhyp}b", "a52:54:01:00:00:07b", 0 },	/* type ignored */
		{ "h=${hostname}&s=${serial}&x=${nope}", "h=&s=&x=", 0 },
		{ "no settings $ { }", "no settings $ { }", 0 },
		{ "open ${mac", NULL, -EINVAL },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ib_storm_expand(cases[i].in, &set, out, sizeof(out)), cases[i].rc);
		if (cases[i].rc == 0)
			assert_string_equal(out, cases[i].out);
	}
	/* the result must fit, NUL included */
	assert_int_equal(ib_storm_expand("${mac}", &set, out, 17), -ENAMETOOLONG);
	assert_int_equal(ib_storm_expand("${mac}", &set, out, 18), 0);
	assert_int_equal(ib_storm_expand("", &set, out, 0), -ENAMETOOLONG);
}

static void test_tftp_url(void **state)
{
	static const struct {
		const char *url;
		int rc, family;
		const char *addr, *file;
		uint16_t port;
	} cases[] = {
		{ "tftp://198.18.0.1/ipxe.efi", 0, AF_INET, "198.18.0.1", "ipxe.efi", 69 },
		{ "tftp://[fd00:b007::1]/x/ipxe.efi", 0, AF_INET6, "fd00:b007::1", "x/ipxe.efi", 69 },
		{ "TFTP://[fd00:b007::1]:1069/f", 0, AF_INET6, "fd00:b007::1", "f", 1069 },
		{ "tftp://198.18.0.1:6969/f", 0, AF_INET, "198.18.0.1", "f", 6969 },
		{ .url = "http://198.18.0.1/f", .rc = -EPROTONOSUPPORT },
		{ .url = "tftp://198.18.0.1/", .rc = -EINVAL },
		{ .url = "tftp://198.18.0.1", .rc = -EINVAL },
		{ .url = "tftp://host.example/f", .rc = -EINVAL },
		{ .url = "tftp://[fd00:b007::1/f", .rc = -EINVAL },
		{ .url = "tftp://198.18.0.1:0/f", .rc = -EINVAL },
		{ .url = "tftp://198.18.0.1:70000/f", .rc = -EINVAL },
		{ .url = "tftp://198.18.0.1/a b", .rc = -EINVAL },
		{ .url = "tftp://fd00:b007::1/f", .rc = -EINVAL },	/* IPv6 needs brackets */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ib_storm_tftp_url u;
		uint8_t a[16];
		int rc = ib_storm_tftp_url_parse(cases[i].url, strlen(cases[i].url), &u);

		assert_int_equal(rc, cases[i].rc);
		if (rc)
			continue;
		assert_int_equal(u.family, cases[i].family);
		assert_int_equal(inet_pton(u.family, cases[i].addr, a), 1);
		assert_memory_equal(u.addr, a, u.family == AF_INET ? 4 : 16);
		assert_string_equal(u.file, cases[i].file);
		assert_int_equal(u.port, cases[i].port);
	}
}

static void test_script(void **state)
{
	static const char ironboot[] =
		"#!ipxe\n"
		"# rendered by ironboot\n"
		"kernel http://198.18.0.1:8080/assets/vmlinuz console=ttyS0 initrd=initrd.img\r\n"
		"\n"
		"initrd --name initrd.img http://198.18.0.1:8080/assets/initrd.img\n"
		"boot\n";
	static const char initrd_first[] =
		"#!ipxe\ninitrd -n a http://h/a\nimgfetch --timeout=5 http://h/b\n"
		"module http://h/c\nkernel --name k http://h/k\nkernel http://h/ignored\n";
	struct ib_storm_fetch f;

	assert_int_equal(ib_storm_script_scan((const uint8_t *)ironboot, sizeof(ironboot) - 1, &f), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.url[0], "http://198.18.0.1:8080/assets/vmlinuz");
	assert_string_equal(f.url[1], "http://198.18.0.1:8080/assets/initrd.img");
	/* the kernel is fetched first wherever it is named */
	assert_int_equal(ib_storm_script_scan((const uint8_t *)initrd_first,
					      sizeof(initrd_first) - 1, &f), 0);
	assert_int_equal(f.n, 4);
	assert_string_equal(f.url[0], "http://h/k");
	assert_string_equal(f.url[1], "http://h/a");
	assert_string_equal(f.url[3], "http://h/c");
	/* chain is a kernel; no kernel at all, no magic, too many */
	assert_int_equal(ib_storm_script_scan((const uint8_t *)"#!ipxe\nchain http://h/x\n", 25, &f), 0);
	assert_string_equal(f.url[0], "http://h/x");
	assert_int_equal(ib_storm_script_scan((const uint8_t *)"#!ipxe\nexit\n", 12, &f), -ENOENT);
	assert_int_equal(ib_storm_script_scan((const uint8_t *)"<html>", 6, &f), -EBADMSG);
	/* a NUL, a CR or a non-ASCII byte inside a URL */
	assert_int_equal(ib_storm_script_scan((const uint8_t *)"#!ipxe\nkernel http://h/\0k\n", sizeof("#!ipxe\nkernel http://h/\0k\n") - 1, &f),
			 -EBADMSG);
	assert_int_equal(ib_storm_script_scan((const uint8_t *)"#!ipxe\nkernel http://h/\rk\n", sizeof("#!ipxe\nkernel http://h/\rk\n") - 1, &f),
			 -EBADMSG);
	assert_int_equal(ib_storm_script_scan((const uint8_t *)"#!ipxe\nkernel http://h/\x82\n", sizeof("#!ipxe\nkernel http://h/\x82\n") - 1, &f),
			 -EBADMSG);
	{
		char many[2048];
		int n = snprintf(many, sizeof(many), "#!ipxe\nkernel http://h/k\n");
		for (int i = 0; i < IB_STORM_MAX_FETCH; i++)
			n += snprintf(many + n, sizeof(many) - (size_t)n, "initrd http://h/%d\n", i);
		assert_int_equal(ib_storm_script_scan((const uint8_t *)many, (size_t)n, &f), -E2BIG);
	}
}

/* A DATA packet of block b with n bytes. */
static size_t data(uint8_t *buf, uint16_t b, size_t n)
{
	struct ib_wbuf w;
	static const uint8_t zeros[1024];

	ib_wbuf_init(&w, buf, 1100);
	assert_int_equal(ib_tftp_build_data(&w, b, zeros, n), 0);
	return w.len;
}

static void test_tftp_rx_window(void **state)
{
	struct ib_storm_tftp_rx rx;
	struct ib_tftp_options o = { .present = IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_WINDOWSIZE |
					 IB_TFTP_OPT_TSIZE, .blksize = 100, .windowsize = 4,
				     .tsize = 950 };
	uint8_t buf[1100];
	struct ib_wbuf w;
	uint16_t b = 99;

	ib_storm_tftp_rx_init(&rx);
	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_oack(&w, &o), 0);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, w.len, &b), IB_STORM_TFTP_ACK);
	assert_int_equal(b, 0);
	assert_int_equal(rx.blksize, 100);
	assert_int_equal(rx.windowsize, 4);
	assert_int_equal(rx.tsize, 950);
	/* a second OACK once begun is malformed */
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, w.len, &b), -EBADMSG);
	for (uint16_t i = 1; i <= 3; i++)
		assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, i, 100), &b),
				 IB_STORM_TFTP_NONE);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 4, 100), &b), IB_STORM_TFTP_ACK);
	assert_int_equal(b, 4);
	/* a repeat of the window's last block: our ACK was lost, say it again */
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 4, 100), &b), IB_STORM_TFTP_ACK);
	assert_int_equal(b, 4);
	/* other repeats are ignored */
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 2, 100), &b), IB_STORM_TFTP_NONE);
	/* block 5 lost: the gap is answered once with ACK 4, then quiet */
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 6, 100), &b), IB_STORM_TFTP_ACK);
	assert_int_equal(b, 4);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 7, 100), &b), IB_STORM_TFTP_NONE);
	/* the window again from 5; block 9 is short: done */
	for (uint16_t i = 5; i <= 8; i++)
		(void)ib_storm_tftp_rx_input(&rx, buf, data(buf, i, 100), &b);
	assert_int_equal(b, 8);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 9, 50), &b), IB_STORM_TFTP_DONE);
	assert_int_equal(b, 9);
	assert_true(rx.done);
	assert_int_equal(rx.bytes, 850);
	assert_int_equal(rx.blocks, 9);
	/* the last DATA again: our final ACK was lost */
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 9, 50), &b), IB_STORM_TFTP_DONE);
	/* too long for the blksize */
	ib_storm_tftp_rx_init(&rx);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 1, 600), &b), -EBADMSG);
}

static void test_tftp_rx_plain_and_errors(void **state)
{
	struct ib_storm_tftp_rx rx;
	uint8_t buf[1100];
	struct ib_wbuf w;
	uint16_t b;

	/* no OACK: RFC 1350 lock-step with 512-byte blocks, rollover past 65535 */
	ib_storm_tftp_rx_init(&rx);
	rx.last = 65534;
	rx.started = true;
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 65535, 512), &b), IB_STORM_TFTP_ACK);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 0, 512), &b), IB_STORM_TFTP_ACK);
	assert_int_equal(b, 0);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, data(buf, 1, 0), &b), IB_STORM_TFTP_DONE);
	/* an ERROR */
	ib_storm_tftp_rx_init(&rx);
	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_error(&w, IB_TFTP_ENOTFOUND, "no"), 0);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, w.len, &b), -ECONNREFUSED);
	assert_int_equal(rx.err_code, IB_TFTP_ENOTFOUND);
	/* an OACK granting a blksize out of range */
	ib_storm_tftp_rx_init(&rx);
	memcpy(buf, "\0\6blksize\0" "4\0", 12);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, buf, 12, &b), -EPROTO);
	/* junk */
	assert_int_equal(ib_storm_tftp_rx_input(&rx, (const uint8_t *)"\0\4\0\1", 4, &b), -EBADMSG);
	assert_int_equal(ib_storm_tftp_rx_input(&rx, (const uint8_t *)"\0", 1, &b), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_tftp_url),
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_tftp_rx_window),
		cmocka_unit_test(test_tftp_rx_plain_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
