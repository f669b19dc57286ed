/* Unit tests for the TFTP codec: parsing, negotiation, builders, names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "tftp/tftp_codec.h"

/* A packet spelled as a C string literal (embedded NULs) and its length. */
#define PKT(s) .pkt = (const uint8_t *)(s), .len = sizeof(s) - 1
/* Expected result of a request that parses. */
#define OK(n, m, pr, b, t, w) .rc = 0, .name = (n), .mode = (m), .present = (pr), \
	.blksize = (b), .timeout_s = (t), .windowsize = (w)
#define BAD(e) .rc = (e)

static const struct parse_case {
	const char *what;
	const uint8_t *pkt;
	size_t len;
	int rc;				/* expected return */
	const char *name;		/* expected filename when rc == 0 */
	enum ib_tftp_mode mode;
	uint32_t present;		/* expected option bits */
	uint32_t blksize, timeout_s, windowsize;
	uint64_t tsize;
} parse_cases[] = {
	{ "plain octet RRQ", PKT("\0\1pxelinux.0\0octet\0"),
	  OK("pxelinux.0", IB_TFTP_MODE_OCTET, 0, 512, 0, 1) },
	{ "mode is case-insensitive", PKT("\0\1a\0NetASCII\0"),
	  OK("a", IB_TFTP_MODE_NETASCII, 0, 512, 0, 1) },
	{ "WRQ parses (the shell refuses it)", PKT("\0\2up\0octet\0"),
	  OK("up", IB_TFTP_MODE_OCTET, 0, 512, 0, 1) },
	{ "all options, mixed case",
	  PKT("\0\1f\0octet\0BlkSize\0001428\0TSIZE\0000\0timeout\0003\0WindowSize\00016\0"),
	  OK("f", IB_TFTP_MODE_OCTET, IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_TSIZE |
	     IB_TFTP_OPT_TIMEOUT | IB_TFTP_OPT_WINDOWSIZE, 1428, 3, 16) },
	{ "unknown option ignored",
	  PKT("\0\1f\0octet\0multicast\0\0blksize\0001024\0"),
	  OK("f", IB_TFTP_MODE_OCTET, IB_TFTP_OPT_BLKSIZE, 1024, 0, 1) },
	{ "non-numeric value ignored", PKT("\0\1f\0octet\0blksize\0 12\0"),
	  OK("f", IB_TFTP_MODE_OCTET, 0, 512, 0, 1) },
	{ "first instance wins",
	  PKT("\0\1f\0octet\0blksize\0001000\0blksize\0002000\0"),
	  OK("f", IB_TFTP_MODE_OCTET, IB_TFTP_OPT_BLKSIZE, 1000, 0, 1) },
	{ "incomplete trailing pair ignored",
	  PKT("\0\1f\0octet\0blksize\0001000\0tsize"),
	  OK("f", IB_TFTP_MODE_OCTET, IB_TFTP_OPT_BLKSIZE, 1000, 0, 1) },
	{ "trailing NUL padding ignored", PKT("\0\1f\0octet\0\0\0\0"),
	  OK("f", IB_TFTP_MODE_OCTET, 0, 512, 0, 1) },
	{ "huge value saturates",
	  PKT("\0\1f\0octet\0blksize\00099999999999\0"),
	  OK("f", IB_TFTP_MODE_OCTET, IB_TFTP_OPT_BLKSIZE, UINT32_MAX, 0, 1) },
	{ "value overflowing 64 bits ignored",
	  PKT("\0\1f\0octet\0tsize\00099999999999999999999\0"),
	  OK("f", IB_TFTP_MODE_OCTET, 0, 512, 0, 1) },
	{ "name without NUL", PKT("\0\1pxelinux.0"), BAD(-EBADMSG) },
	{ "mode without NUL", PKT("\0\1f\0octet"), BAD(-EBADMSG) },
	{ "no mode", PKT("\0\1f\0"), BAD(-EBADMSG) },
	{ "empty name", PKT("\0\1\0octet\0"), BAD(-EBADMSG) },
	{ "mail mode", PKT("\0\1f\0mail\0"), BAD(-EPROTONOSUPPORT) },
	{ "unknown mode", PKT("\0\1f\0binary\0"), BAD(-EPROTONOSUPPORT) },
	{ "DATA is not a request", PKT("\0\3\0\1abc"), BAD(-EOPNOTSUPP) },
	{ "opcode 0", PKT("\0\0f\0octet\0"), BAD(-EOPNOTSUPP) },
	{ "one byte", PKT("\1"), BAD(-EBADMSG) },
	{ "empty", PKT(""), BAD(-EBADMSG) },
	{ "opcode only", PKT("\0\1"), BAD(-EBADMSG) },
};

static void test_request_parse_table(void **state)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(parse_cases); i++) {
		const struct parse_case *t = &parse_cases[i];
		struct ib_tftp_request req;
		int rc = ib_tftp_request_parse(t->pkt, t->len, &req);

		print_message("case: %s\n", t->what);
		assert_int_equal(rc, t->rc);
		if (rc < 0)
			continue;
		assert_string_equal(req.filename, t->name);
		assert_int_equal(req.filename_len, strlen(t->name));
		assert_int_equal(req.mode, t->mode);
		assert_int_equal(req.opts.present, t->present);
		assert_int_equal(req.opts.blksize, t->blksize);
		assert_int_equal(req.opts.timeout_s, t->timeout_s);
		assert_int_equal(req.opts.windowsize, t->windowsize);
		assert_int_equal(req.opts.tsize, t->tsize);
	}
}

/* Builds "\0\1" + n x 'a' (+ NUL) + "octet\0". */
static size_t long_name_rrq(uint8_t *buf, size_t n, bool terminated)
{
	size_t len = 0;

	buf[len++] = 0;
	buf[len++] = 1;
	memset(buf + len, 'a', n);
	len += n;
	if (!terminated)
		return len;
	buf[len++] = 0;
	memcpy(buf + len, "octet", 6);
	return len + 6;
}

static void test_request_name_length(void **state)
{
	uint8_t buf[600];
	struct ib_tftp_request req;

	assert_int_equal(ib_tftp_request_parse(buf, long_name_rrq(buf, 255, true),
					       &req), 0);
	assert_int_equal(req.filename_len, 255);
	assert_int_equal(ib_tftp_request_parse(buf, long_name_rrq(buf, 256, true),
					       &req), -ENAMETOOLONG);
	assert_int_equal(ib_tftp_request_parse(buf, long_name_rrq(buf, 500, false),
					       &req), -ENAMETOOLONG);
	assert_int_equal(ib_tftp_request_parse(buf, long_name_rrq(buf, 100, false),
					       &req), -EBADMSG);
}

static const struct neg_case {
	const char *what;
	struct ib_tftp_options req;
	uint32_t max_blk, max_win;
	uint64_t size;
	uint32_t present;		/* expected OACK contents */
	uint32_t blksize, timeout_s, windowsize;
	uint64_t tsize;
} neg_cases[] = {
	{ "no options: no OACK", { 0, 512, 0, 0, 1 }, 65464, 64, 100,
	  0, 512, 0, 1, 0 },
	{ "blksize honoured", { IB_TFTP_OPT_BLKSIZE, 1428, 0, 0, 1 }, 65464, 64, 100,
	  IB_TFTP_OPT_BLKSIZE, 1428, 0, 1, 0 },
	{ "blksize above server max negotiated down", { IB_TFTP_OPT_BLKSIZE, 9000, 0, 0, 1 },
	  1468, 64, 100, IB_TFTP_OPT_BLKSIZE, 1468, 0, 1, 0 },
	{ "blksize above RFC max negotiated down", { IB_TFTP_OPT_BLKSIZE, 70000, 0, 0, 1 },
	  65464, 64, 100, IB_TFTP_OPT_BLKSIZE, 65464, 0, 1, 0 },
	{ "server max above RFC clamped", { IB_TFTP_OPT_BLKSIZE, 70000, 0, 0, 1 },
	  100000, 64, 100, IB_TFTP_OPT_BLKSIZE, 65464, 0, 1, 0 },
	{ "blksize 8 is the minimum", { IB_TFTP_OPT_BLKSIZE, 8, 0, 0, 1 }, 65464, 64, 100,
	  IB_TFTP_OPT_BLKSIZE, 8, 0, 1, 0 },
	{ "blksize 7 ignored", { IB_TFTP_OPT_BLKSIZE, 7, 0, 0, 1 }, 65464, 64, 100,
	  0, 512, 0, 1, 0 },
	{ "blksize 0 ignored", { IB_TFTP_OPT_BLKSIZE, 0, 0, 0, 1 }, 65464, 64, 100,
	  0, 512, 0, 1, 0 },
	{ "tsize answered with the size", { IB_TFTP_OPT_TSIZE, 512, 0, 0, 1 }, 65464, 64,
	  123456789, IB_TFTP_OPT_TSIZE, 512, 0, 1, 123456789 },
	{ "tsize of unknown size not granted", { IB_TFTP_OPT_TSIZE, 512, 0, 0, 1 }, 65464,
	  64, UINT64_MAX, 0, 512, 0, 1, 0 },
	{ "timeout 1 echoed", { IB_TFTP_OPT_TIMEOUT, 512, 0, 1, 1 }, 65464, 64, 1,
	  IB_TFTP_OPT_TIMEOUT, 512, 1, 1, 0 },
	{ "timeout 255 echoed", { IB_TFTP_OPT_TIMEOUT, 512, 0, 255, 1 }, 65464, 64, 1,
	  IB_TFTP_OPT_TIMEOUT, 512, 255, 1, 0 },
	{ "timeout 0 ignored", { IB_TFTP_OPT_TIMEOUT, 512, 0, 0, 1 }, 65464, 64, 1,
	  0, 512, 0, 1, 0 },
	{ "timeout 256 ignored", { IB_TFTP_OPT_TIMEOUT, 512, 0, 256, 1 }, 65464, 64, 1,
	  0, 512, 0, 1, 0 },
	{ "windowsize honoured", { IB_TFTP_OPT_WINDOWSIZE, 512, 0, 0, 16 }, 65464,
	  64, 1, IB_TFTP_OPT_WINDOWSIZE, 512, 0, 16, 0 },
	{ "windowsize capped at server max", { IB_TFTP_OPT_WINDOWSIZE, 512, 0, 0, 100 },
	  65464, 64, 1, IB_TFTP_OPT_WINDOWSIZE, 512, 0, 64, 0 },
	{ "windowsize above RFC max capped", { IB_TFTP_OPT_WINDOWSIZE, 512, 0, 0, 70000 },
	  65464, 100000, 1, IB_TFTP_OPT_WINDOWSIZE, 512, 0, 65535, 0 },
	{ "windowsize 0 ignored", { IB_TFTP_OPT_WINDOWSIZE, 512, 0, 0, 0 }, 65464,
	  64, 1, 0, 512, 0, 1, 0 },
	{ "server max window 0 means 1", { IB_TFTP_OPT_WINDOWSIZE, 512, 0, 0, 8 },
	  65464, 0, 1, IB_TFTP_OPT_WINDOWSIZE, 512, 0, 1, 0 },
	{ "everything at once",
	  { IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_TSIZE | IB_TFTP_OPT_TIMEOUT |
	    IB_TFTP_OPT_WINDOWSIZE, 1468, 0, 5, 8 }, 65464, 64, 850528,
	  IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_TSIZE | IB_TFTP_OPT_TIMEOUT |
	  IB_TFTP_OPT_WINDOWSIZE, 1468, 5, 8, 850528 },
};

static void test_negotiate_table(void **state)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(neg_cases); i++) {
		const struct neg_case *t = &neg_cases[i];
		struct ib_tftp_limits lim = { t->max_blk, t->max_win };
		struct ib_tftp_options o;

		print_message("case: %s\n", t->what);
		ib_tftp_negotiate(&t->req, &lim, t->size, &o);
		assert_int_equal(o.present, t->present);
		assert_int_equal(o.blksize, t->blksize);
		assert_int_equal(o.timeout_s, t->timeout_s);
		assert_int_equal(o.windowsize, t->windowsize);
		assert_int_equal(o.tsize, t->tsize);
	}
}

static void test_oack_roundtrip(void **state)
{
	struct ib_tftp_options in = {
		.present = IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_TSIZE |
			   IB_TFTP_OPT_TIMEOUT | IB_TFTP_OPT_WINDOWSIZE,
		.blksize = 65464, .tsize = 34359738368ull, .timeout_s = 255,
		.windowsize = 65535,
	}, out;
	uint8_t buf[IB_TFTP_OACK_MAX];
	struct ib_wbuf w;
	static const uint8_t golden[] =
		"\0\6blksize\0001428\0tsize\00074213\0";

	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_oack(&w, &in), 0);
	assert_int_equal(ib_tftp_oack_parse(buf, w.len, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	/* Exact bytes, as tftp-hpa and iPXE expect them. */
	in = (struct ib_tftp_options){ .present = IB_TFTP_OPT_BLKSIZE |
				       IB_TFTP_OPT_TSIZE, .blksize = 1428,
				       .tsize = 74213 };
	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_oack(&w, &in), 0);
	assert_int_equal(w.len, sizeof(golden) - 1);
	assert_memory_equal(buf, golden, w.len);

	/* Too small a buffer. */
	ib_wbuf_init(&w, buf, 10);
	assert_int_equal(ib_tftp_build_oack(&w, &in), -ENOBUFS);
}

static void test_rrq_roundtrip(void **state)
{
	struct ib_tftp_options o = {
		.present = IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_WINDOWSIZE,
		.blksize = 1428, .windowsize = 16,
	};
	struct ib_tftp_request req;
	uint8_t buf[512];
	struct ib_wbuf w;

	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_rrq(&w, "boot/ipxe.efi",
					   IB_TFTP_MODE_NETASCII, &o), 0);
	assert_int_equal(ib_tftp_request_parse(buf, w.len, &req), 0);
	assert_string_equal(req.filename, "boot/ipxe.efi");
	assert_int_equal(req.mode, IB_TFTP_MODE_NETASCII);
	assert_int_equal(req.opts.present, o.present);
	assert_int_equal(req.opts.blksize, 1428);
	assert_int_equal(req.opts.windowsize, 16);
}

static void test_error_roundtrip(void **state)
{
	char longmsg[300], msg[256];
	uint8_t buf[512];
	struct ib_wbuf w;
	uint16_t code;

	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_error(&w, IB_TFTP_ENOTFOUND, "file not found"), 0);
	assert_int_equal(w.len, 4 + 14 + 1);
	assert_memory_equal(buf, "\0\5\0\1file not found\0", w.len);
	assert_int_equal(ib_tftp_error_parse(buf, w.len, &code, msg, sizeof(msg)), 0);
	assert_int_equal(code, 1);
	assert_string_equal(msg, "file not found");

	/* Long messages are cut at IB_TFTP_ERRMSG_MAX. */
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_error(&w, 0, longmsg), 0);
	assert_int_equal(w.len, 4 + IB_TFTP_ERRMSG_MAX + 1);

	/* A client's message without NUL, and a small output buffer. */
	assert_int_equal(ib_tftp_error_parse("\0\5\0\10abcdef", 10, &code, msg, 4), 0);
	assert_int_equal(code, 8);
	assert_string_equal(msg, "abc");
	assert_int_equal(ib_tftp_error_parse("\0\5\0", 3, &code, msg, 4), -EBADMSG);
	assert_int_equal(ib_tftp_error_parse("\0\4\0\1", 4, &code, msg, 4), -EBADMSG);
}

static void test_data_ack_roundtrip(void **state)
{
	uint8_t buf[64], hdr[4];
	struct ib_wbuf w;
	const uint8_t *p;
	size_t len;
	uint16_t block;

	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_data(&w, 65535, "hello", 5), 0);
	assert_int_equal(ib_tftp_data_parse(buf, w.len, &block, &p, &len), 0);
	assert_int_equal(block, 65535);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "hello", 5);
	ib_tftp_data_header(0x1234, hdr);
	assert_memory_equal(hdr, "\0\3\x12\x34", 4);

	ib_wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(ib_tftp_build_ack(&w, 0), 0);
	assert_int_equal(ib_tftp_ack_parse(buf, w.len, &block), 0);
	assert_int_equal(block, 0);
	assert_int_equal(ib_tftp_ack_parse("\0\4\1", 3, &block), -EBADMSG);
	assert_int_equal(ib_tftp_ack_parse("\0\3\0\1", 4, &block), -EBADMSG);
	/* Padding after an ACK is tolerated. */
	assert_int_equal(ib_tftp_ack_parse("\0\4\1\2\0\0", 6, &block), 0);
	assert_int_equal(block, 0x0102);
}

static const struct name_case {
	const char *name;
	int rc;
} name_cases[] = {
	{ "ipxe.efi", 0 },
	{ "sub/dir/file", 0 },
	{ "./ipxe.efi", 0 },
	{ "a..b", 0 },
	{ "..a/b", 0 },
	{ "dir//file", 0 },
	{ "", -ENOENT },
	{ "/etc/passwd", -EACCES },
	{ "..", -EACCES },
	{ "../etc/passwd", -EACCES },
	{ "a/../../etc/passwd", -EACCES },
	{ "a/..", -EACCES },
	{ "a/../b", -EACCES },
	{ "..\\etc\\passwd", -EACCES },
	{ "boot\\x64\\wdsnbp.com", -EACCES },
	{ "a\nb", -EACCES },
	{ "a\x7f", -EACCES },
	{ "a\x1b[31m", -EACCES },
};

static void test_name_check_table(void **state)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(name_cases); i++) {
		print_message("name: %s\n", name_cases[i].name);
		assert_int_equal(ib_tftp_name_check(name_cases[i].name,
						    strlen(name_cases[i].name)),
				 name_cases[i].rc);
	}
}

/* Encodes in through blocks of blksize, as the reader does. */
static size_t netascii_blocks(const char *in, size_t blksize, uint8_t *out,
			      size_t cap)
{
	struct ib_tftp_nascii st = { .pending = -1 };
	size_t inlen = strlen(in), off = 0, o = 0;

	for (;;) {
		size_t used, n;

		n = ib_tftp_netascii_encode(&st, (const uint8_t *)in + off,
					    inlen - off, &used, out + o,
					    IB_MIN(blksize, cap - o));
		off += used;
		o += n;
		if (n < blksize)
			return o;
	}
}

static void test_netascii(void **state)
{
	static const struct {
		const char *in;
		const char *out;	/* expected, NULs as \0 */
		size_t outlen;
	} cases[] = {
		{ "abc", "abc", 3 },
		{ "a\nb", "a\r\nb", 4 },
		{ "a\rb", "a\r\0b", 4 },
		{ "\r\n", "\r\0\r\n", 4 },
		{ "\n\n\n", "\r\n\r\n\r\n", 6 },
		{ "", "", 0 },
	};
	uint8_t out[64];

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		/* Every block size, so each expansion straddles a boundary. */
		for (size_t blk = 1; blk <= 8; blk++) {
			size_t n = netascii_blocks(cases[i].in, blk, out, sizeof(out));

			assert_int_equal(n, cases[i].outlen);
			assert_memory_equal(out, cases[i].out, n);
		}
		assert_int_equal(ib_tftp_netascii_size((const uint8_t *)cases[i].in,
						       strlen(cases[i].in)),
				 cases[i].outlen);
	}
}

static void test_errcode_str(void **state)
{
	assert_string_equal(ib_tftp_errcode_str(1), "file not found");
	assert_string_equal(ib_tftp_errcode_str(8), "option negotiation refused");
	assert_string_equal(ib_tftp_errcode_str(99), "unknown");
}

static void test_gso_segs_table(void **state)
{
	static const struct {
		const char *what;
		uint32_t blksize, window, mtu, hdr;
		uint32_t segs;		/* expected */
	} cases[] = {
		{ "window 1: no GSO", 1428, 1, 1500, 28, 0 },
		{ "1428 over a 1500 MTU (v4)", 1428, 16, 1500, 28, 45 },
		{ "1468 fills a 1500 MTU exactly (v4)", 1468, 16, 1500, 28, 44 },
		{ "1469 would fragment (v4)", 1469, 16, 1500, 28, 0 },
		{ "1448 fills it under v6 headers", 1448, 16, 1500, 48, 45 },
		{ "1449 would fragment (v6)", 1449, 16, 1500, 48, 0 },
		{ "512: the segment cap, not the bytes", 512, 64, 1500, 28, 64 },
		{ "8192 over a 1500 MTU: fragments", 8192, 64, 1500, 28, 0 },
		{ "8192 over a 9000 MTU: 64 KB cap", 8192, 64, 9000, 28, 7 },
		{ "32749 on loopback: two per send", 32749, 4, 65536, 28, 2 },
		{ "40000 on loopback: one per send, no GSO", 40000, 4, 65536, 28, 0 },
		{ "window 2 counts", 8, 2, 1500, 28, 64 },
		{ "MTU unknown (0)", 512, 16, 0, 28, 0 },
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		uint32_t n = ib_tftp_gso_segs(cases[i].blksize, cases[i].window,
					      cases[i].mtu, cases[i].hdr);

		if (n != cases[i].segs)
			fail_msg("%s: %u, want %u", cases[i].what, n, cases[i].segs);
		/* whatever it allows fits the kernel's limits */
		assert_true(n <= IB_TFTP_GSO_MAX_SEGS);
		assert_true((uint64_t)n * (cases[i].blksize + 4) <= IB_TFTP_GSO_MAX_BYTES);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_parse_table),
		cmocka_unit_test(test_request_name_length),
		cmocka_unit_test(test_negotiate_table),
		cmocka_unit_test(test_oack_roundtrip),
		cmocka_unit_test(test_rrq_roundtrip),
		cmocka_unit_test(test_error_roundtrip),
		cmocka_unit_test(test_data_ack_roundtrip),
		cmocka_unit_test(test_name_check_table),
		cmocka_unit_test(test_netascii),
		cmocka_unit_test(test_errcode_str),
		cmocka_unit_test(test_gso_segs_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
