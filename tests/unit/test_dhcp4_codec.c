/*
 * DHCPv4 codec tests: golden packets from real clients, build/parse round
 * trips, the RFC 3397 and RFC 3442 examples, the maximum message size, and
 * one crafted packet per reject reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "dhcp4/dhcp4_codec.h"

#define OFF_SNAME 44
#define OFF_FILE 108

/* ---- Crafting packets ------------------------------------------------ */

/* A datagram under construction. */
struct pkt {
	uint8_t b[5200];	/* room for the oversize case */
	size_t len;		/* bytes used */
};

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void pkt_put(struct pkt *p, const void *v, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	memcpy(p->b + p->len, v, n);
	p->len += n;
}

/* Header (op 1, Ethernet) and cookie; the caller adds options. */
static void pkt_start(struct pkt *p)
{
	static const uint8_t cookie[4] = { 0x63, 0x82, 0x53, 0x63 };

	memset(p, 0, sizeof(*p));
	p->b[0] = IB_DHCP4_BOOTREQUEST;
	p->b[1] = 1;
	p->b[2] = 6;
	p->b[4] = 0xde, p->b[5] = 0xad, p->b[6] = 0xbe, p->b[7] = 0xef;
	memcpy(p->b + 28, test_mac, sizeof(test_mac));
	p->len = 236;
	pkt_put(p, cookie, sizeof(cookie));
}

static void pkt_opt(struct pkt *p, uint8_t code, const void *v, size_t n)
{
	uint8_t h[2] = { code, (uint8_t)n };

	pkt_put(p, h, 2);
	pkt_put(p, v, n);
}

static void pkt_u8(struct pkt *p, uint8_t code, uint8_t v)
{
	pkt_opt(p, code, &v, 1);
}

static void pkt_end(struct pkt *p)
{
	pkt_put(p, "\xff", 1);
}

/* A DISCOVER header with option 53, ready for more options. */
static void pkt_discover(struct pkt *p)
{
	pkt_start(p);
	pkt_u8(p, IB_OPT_MSG_TYPE, IB_DHCP4_DISCOVER);
}

static int parse(const struct pkt *p, struct ib_dhcp4_msg *m)
{
	return ib_dhcp4_parse(p->b, p->len, m);
}

static void assert_opt(const struct ib_dhcp4_msg *m, uint8_t code,
		       const void *want, size_t want_len)
{
	const uint8_t *v;
	size_t len;

	assert_true(ib_dhcp4_opt(m, code, &v, &len));
	assert_int_equal(len, want_len);
	assert_memory_equal(v, want, want_len);
}

static void assert_opt_str(const struct ib_dhcp4_msg *m, uint8_t code, const char *s)
{
	assert_opt(m, code, s, strlen(s));
}

static uint32_t ip4(const char *s)
{
	uint32_t a = 0;

	assert_int_equal(ib_ip4_parse(s, &a), 0);
	return a;
}

/* ---- Golden packets --------------------------------------------------- */

static size_t read_data(const char *name, uint8_t *buf, size_t cap)
{
	const char *dir = getenv("IB_TEST_DATA");
	char path[512];
	size_t n;
	FILE *f;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/dhcp4/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void check_dhclient_discover(const struct ib_dhcp4_msg *m)
{
	const uint8_t *prl;
	size_t len;

	assert_opt_str(m, IB_OPT_HOSTNAME, "ibcap-dhclient");
	assert_true(ib_dhcp4_opt(m, IB_OPT_PRL, &prl, &len));
	assert_non_null(memchr(prl, IB_OPT_CLASSLESS_ROUTES, len));
	assert_non_null(memchr(prl, IB_OPT_DOMAIN_SEARCH, len));
	assert_false(ib_dhcp4_opt(m, IB_OPT_CLIENT_ID, NULL, NULL));
}

static void check_request_ids(const struct ib_dhcp4_msg *m)
{
	uint32_t a;

	assert_int_equal(ib_dhcp4_opt_ip(m, IB_OPT_REQUESTED_IP, &a), 0);
	assert_int_equal(a, ip4("198.18.0.10"));
	assert_int_equal(ib_dhcp4_opt_ip(m, IB_OPT_SERVER_ID, &a), 0);
	assert_int_equal(a, ip4("198.18.0.1"));
}

static void check_udhcpc(const struct ib_dhcp4_msg *m)
{
	static const uint8_t cid[] = { 1, 0x02, 0x18, 0, 0, 0, 1 };
	uint16_t mms;

	assert_int_equal(ib_dhcp4_opt_u16(m, IB_OPT_MAX_MSG_SIZE, &mms), 0);
	assert_int_equal(mms, 576);
	assert_opt_str(m, IB_OPT_VENDOR_CLASS, "udhcp 1.35.0");
	assert_opt_str(m, IB_OPT_HOSTNAME, "ibcap-udhcpc");
	assert_opt(m, IB_OPT_CLIENT_ID, cid, sizeof(cid));
}

static void check_udhcpc_request(const struct ib_dhcp4_msg *m)
{
	check_udhcpc(m);
	check_request_ids(m);
}

static void check_arch(const struct ib_dhcp4_msg *m, uint16_t arch)
{
	const uint8_t *v;
	size_t len;
	uint16_t a;

	assert_int_equal(ib_dhcp4_opt_u16(m, IB_OPT_CLIENT_ARCH, &a), 0);
	assert_int_equal(a, arch);
	assert_true(ib_dhcp4_opt(m, IB_OPT_CLIENT_UUID, &v, &len));
	assert_int_equal(len, 17);	/* RFC 4578 2.3: type 0 + 16 octets */
	assert_int_equal(v[0], 0);
	assert_true(ib_dhcp4_opt(m, IB_OPT_CLIENT_NDI, &v, &len));
	assert_int_equal(len, 3);
}

static void check_ipxe(const struct ib_dhcp4_msg *m)
{
	const uint8_t *v;
	size_t len;

	check_arch(m, 7);
	assert_true(ib_dhcp4_user_class_has(m, "iPXE"));
	assert_int_equal(ib_dhcp4_subopt(m, IB_OPT_IPXE, 0x13, &v, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(v[0], 1);
	assert_int_equal(ib_dhcp4_subopt(m, IB_OPT_IPXE, 0xb1, &v, &len), 0);
	assert_int_equal(len, 5);
	assert_int_equal(ib_dhcp4_subopt(m, IB_OPT_IPXE, 0x11, &v, &len), -ENOENT);
}

static void check_pxe(const struct ib_dhcp4_msg *m)
{
	check_arch(m, 7);
	assert_opt_str(m, IB_OPT_VENDOR_CLASS, "PXEClient:Arch:00007:UNDI:003016");
	assert_false(ib_dhcp4_user_class_has(m, "iPXE"));
}

static void check_http(const struct ib_dhcp4_msg *m)
{
	check_arch(m, 16);
	assert_opt_str(m, IB_OPT_VENDOR_CLASS, "HTTPClient:Arch:00016:UNDI:003001");
}

static void check_relayed(const struct ib_dhcp4_msg *m)
{
	static const uint8_t link[4] = { 198, 18, 42, 0 };
	const uint8_t *v;
	size_t len;

	assert_int_equal(m->giaddr, ip4("198.18.42.1"));
	assert_int_equal(m->hops, 1);
	assert_int_equal(ib_dhcp4_subopt(m, IB_OPT_RELAY_AGENT, IB_RAI_CIRCUIT_ID, &v, &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(v, "ge-0/0/3.42", 11);
	assert_int_equal(ib_dhcp4_subopt(m, IB_OPT_RELAY_AGENT, IB_RAI_REMOTE_ID, &v, &len), 0);
	assert_int_equal(len, 6);
	assert_int_equal(ib_dhcp4_subopt(m, IB_OPT_RELAY_AGENT, IB_RAI_LINK_SELECTION, &v, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(v, link, 4);
}

static void check_overload(const struct ib_dhcp4_msg *m)
{
	uint32_t a;

	assert_int_equal(m->overload, 3);
	/* RFC 3396: options, then file, then sname. */
	assert_opt_str(m, IB_OPT_HOSTNAME, "ib-overload");
	assert_opt_str(m, IB_OPT_VENDOR_CLASS, "PXEClient");
	assert_int_equal(ib_dhcp4_opt_ip(m, IB_OPT_REQUESTED_IP, &a), 0);
	assert_int_equal(a, ip4("198.18.0.10"));
}

static void check_split(const struct ib_dhcp4_msg *m)
{
	const uint8_t *v;
	char names[128];
	size_t len;

	assert_true(ib_dhcp4_opt(m, IB_OPT_VENDOR, &v, &len));
	assert_int_equal(len, 600);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(v[i], (uint8_t)(i * 7));
	assert_true(ib_dhcp4_opt(m, IB_OPT_DOMAIN_SEARCH, &v, &len));
	assert_int_equal(ib_dhcp4_decode_search(v, len, names, sizeof(names)), 0);
	assert_string_equal(names, "eng.apple.com marketing.apple.com");
}

/* One golden packet, how it was obtained is in data/dhcp4/README.md. */
struct golden {
	const char *file;			/* under data/dhcp4/ */
	uint8_t type;				/* option 53 */
	void (*check)(const struct ib_dhcp4_msg *m); /* key fields */
};

static const struct golden goldens[] = {
	{ "dhclient-discover.bin", IB_DHCP4_DISCOVER, check_dhclient_discover },
	{ "dhclient-request.bin", IB_DHCP4_REQUEST, check_request_ids },
	{ "udhcpc-discover.bin", IB_DHCP4_DISCOVER, check_udhcpc },
	{ "udhcpc-request.bin", IB_DHCP4_REQUEST, check_udhcpc_request },
	{ "ipxe-discover.bin", IB_DHCP4_DISCOVER, check_ipxe },
	{ "pxe-bios-discover.bin", IB_DHCP4_DISCOVER, check_pxe },
	{ "uefi-http-discover.bin", IB_DHCP4_DISCOVER, check_http },
	{ "relayed-discover.bin", IB_DHCP4_DISCOVER, check_relayed },
	{ "overload-request.bin", IB_DHCP4_REQUEST, check_overload },
	{ "split-options-discover.bin", IB_DHCP4_DISCOVER, check_split },
};

static void test_golden(void **state)
{
	static struct ib_dhcp4_msg m;
	uint8_t buf[IB_DHCP4_MAX_LEN];

	for (size_t i = 0; i < IB_ARRAY_SIZE(goldens); i++) {
		const struct golden *g = &goldens[i];
		size_t n = read_data(g->file, buf, sizeof(buf));

		print_message("golden %s\n", g->file);
		assert_int_equal(ib_dhcp4_parse(buf, n, &m), 0);
		assert_int_equal(m.op, IB_DHCP4_BOOTREQUEST);
		assert_int_equal(m.htype, 1);
		assert_int_equal(m.hlen, 6);
		assert_int_equal(m.type, g->type);
		g->check(&m);
	}
}

/* ---- Build -> parse round trips -------------------------------------- */

static void out_start(struct ib_dhcp4_out *o)
{
	ib_dhcp4_out_init(o);
	o->op = IB_DHCP4_BOOTREPLY;
	o->htype = 1;
	o->hlen = 6;
	o->xid = 0x01020304;
	o->flags = IB_DHCP4_FLAG_BROADCAST;
	o->yiaddr = ip4("198.18.0.10");
	o->siaddr = ip4("198.18.0.1");
	o->giaddr = ip4("198.19.0.1");
	memcpy(o->chaddr, test_mac, sizeof(test_mac));
	assert_int_equal(ib_dhcp4_out_add_u8(o, IB_OPT_MSG_TYPE, IB_DHCP4_OFFER), 0);
	assert_int_equal(ib_dhcp4_out_add_u32(o, IB_OPT_SERVER_ID, ip4("198.18.0.1")), 0);
}

static void build_parse(const struct ib_dhcp4_out *o, size_t max_len,
			struct ib_dhcp4_msg *m, uint8_t *buf, size_t *ret_len)
{
	assert_int_equal(ib_dhcp4_build(o, max_len, buf, IB_DHCP4_MAX_LEN, ret_len), 0);
	assert_int_equal(ib_dhcp4_parse(buf, *ret_len, m), 0);
}

static void test_round_trip_header(void **state)
{
	static struct ib_dhcp4_msg m;
	static struct ib_dhcp4_out o;
	uint8_t buf[IB_DHCP4_MAX_LEN];
	size_t len;

	out_start(&o);
	o.hops = 2;
	o.secs = 7;
	o.ciaddr = ip4("198.18.0.99");
	strcpy(o.sname, "boot.example");
	strcpy(o.file, "ipxe.efi");
	build_parse(&o, 0, &m, buf, &len);
	/* RFC 1542 2.1: padded to the 300-byte BOOTP minimum. */
	assert_int_equal(len, IB_DHCP4_BOOTP_MIN);
	assert_int_equal(m.op, IB_DHCP4_BOOTREPLY);
	assert_int_equal(m.type, IB_DHCP4_OFFER);
	assert_int_equal(m.hops, 2);
	assert_int_equal(m.secs, 7);
	assert_int_equal(m.xid, 0x01020304);
	assert_int_equal(m.flags, IB_DHCP4_FLAG_BROADCAST);
	assert_int_equal(m.ciaddr, ip4("198.18.0.99"));
	assert_int_equal(m.yiaddr, ip4("198.18.0.10"));
	assert_int_equal(m.siaddr, ip4("198.18.0.1"));
	assert_int_equal(m.giaddr, ip4("198.19.0.1"));
	assert_memory_equal(m.chaddr, test_mac, 6);
	assert_string_equal((char *)m.sname, "boot.example");
	assert_string_equal((char *)m.file, "ipxe.efi");
	/* Header, cookie, 53, 54, END in that order; PAD after. */
	assert_int_equal(buf[240], IB_OPT_MSG_TYPE);
	assert_int_equal(buf[243], IB_OPT_SERVER_ID);
	assert_int_equal(buf[249], IB_OPT_END);
}

/* One option kind to round-trip. */
struct rt_case {
	const char *name;	/* for failures */
	uint8_t code;		/* option code */
	size_t len;		/* expected value length */
	const uint8_t *want;	/* expected bytes, NULL: pattern i*3 */
};

static const uint32_t rt_ips[] = { 0xc6120001, 0xc6120002, 0xc6130003 };
static const uint8_t rt_ips_wire[] = { 198, 18, 0, 1, 198, 18, 0, 2, 198, 19, 0, 3 };

static void add_rt_options(struct ib_dhcp4_out *o, uint8_t *pattern, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pattern[i] = (uint8_t)(i * 3);
	assert_int_equal(ib_dhcp4_out_add_u32(o, IB_OPT_LEASE_TIME, 3600), 0);
	assert_int_equal(ib_dhcp4_out_add_u16(o, IB_OPT_MTU, 1500), 0);
	assert_int_equal(ib_dhcp4_out_add_ips(o, IB_OPT_DNS, rt_ips, 3), 0);
	assert_int_equal(ib_dhcp4_out_add_str(o, IB_OPT_BOOTFILE, "http://198.18.0.1/boot.ipxe"), 0);
	assert_int_equal(ib_dhcp4_out_add(o, IB_OPT_PRL, NULL, 0), 0);
	assert_int_equal(ib_dhcp4_out_add(o, IB_OPT_VENDOR, pattern, 255), 0);
	assert_int_equal(ib_dhcp4_out_add(o, IB_OPT_IPXE, pattern, 256), 0);
	assert_int_equal(ib_dhcp4_out_add(o, IB_OPT_RELAY_AGENT, pattern, 600), 0);
}

static void test_round_trip_options(void **state)
{
	static const uint8_t lease[] = { 0, 0, 0x0e, 0x10 }, mtu[] = { 0x05, 0xdc };
	static const char url[] = "http://198.18.0.1/boot.ipxe";
	static const struct rt_case cases[] = {
		{ "u32", IB_OPT_LEASE_TIME, 4, lease },
		{ "u16", IB_OPT_MTU, 2, mtu },
		{ "ips", IB_OPT_DNS, 12, rt_ips_wire },
		{ "str", IB_OPT_BOOTFILE, sizeof(url) - 1, (const uint8_t *)url },
		{ "empty", IB_OPT_PRL, 0, (const uint8_t *)"" },
		{ "255", IB_OPT_VENDOR, 255, NULL },
		{ "256", IB_OPT_IPXE, 256, NULL },
		{ "600", IB_OPT_RELAY_AGENT, 600, NULL },
	};
	static struct ib_dhcp4_msg m;
	static struct ib_dhcp4_out o;
	uint8_t buf[IB_DHCP4_MAX_LEN], pattern[600];
	size_t len;
	uint32_t v;

	out_start(&o);
	add_rt_options(&o, pattern, sizeof(pattern));
	build_parse(&o, 1500, &m, buf, &len);
	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		print_message("round trip %s\n", cases[i].name);
		assert_opt(&m, cases[i].code, cases[i].want ? cases[i].want : pattern,
			   cases[i].len);
	}
	assert_int_equal(ib_dhcp4_opt_u32(&m, IB_OPT_LEASE_TIME, &v), 0);
	assert_int_equal(v, 3600);
}

/* RFC 3396 5: 600 bytes go out as instances of 255, 255 and 90. */
static void test_split_on_wire(void **state)
{
	static struct ib_dhcp4_out o;
	static struct ib_dhcp4_msg m;
	uint8_t buf[IB_DHCP4_MAX_LEN], pattern[600];
	size_t len, off = 240, seen = 0;
	static const uint8_t lens[] = { 255, 255, 90 };

	ib_dhcp4_out_init(&o);
	o.op = IB_DHCP4_BOOTREPLY;
	memset(pattern, 0xab, sizeof(pattern));
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_VENDOR, pattern, sizeof(pattern)), 0);
	build_parse(&o, 1500, &m, buf, &len);
	while (buf[off] != IB_OPT_END) {
		assert_int_equal(buf[off], IB_OPT_VENDOR);
		assert_true(seen < 3);
		assert_int_equal(buf[off + 1], lens[seen++]);
		off += 2u + buf[off + 1];
	}
	assert_int_equal(seen, 3);
	assert_int_equal(len, off + 1);
	assert_opt(&m, IB_OPT_VENDOR, pattern, sizeof(pattern));
}

/* ---- Overload (RFC 2131 4.1, RFC 3396) -------------------------------- */

static void test_overload_file(void **state)
{
	static struct ib_dhcp4_msg m;
	struct pkt p;

	pkt_discover(&p);
	pkt_u8(&p, IB_OPT_OVERLOAD, 1);
	pkt_opt(&p, IB_OPT_HOSTNAME, "node", 4);
	pkt_end(&p);
	/* In file: the rest of the host name and a class, no END (allowed). */
	memcpy(p.b + OFF_FILE, "\x0c\x02" "-7" "\x4d\x04" "iPXE", 10);
	memset(p.b + OFF_FILE + 10, IB_OPT_PAD, 128 - 10);
	strcpy((char *)p.b + OFF_SNAME, "sname-stays-text");
	assert_int_equal(parse(&p, &m), 0);
	assert_int_equal(m.overload, 1);
	assert_opt_str(&m, IB_OPT_HOSTNAME, "node-7");
	assert_true(ib_dhcp4_user_class_has(&m, "iPXE"));
	assert_string_equal((char *)m.sname, "sname-stays-text");
}

static void test_overload_sname(void **state)
{
	static struct ib_dhcp4_msg m;
	struct pkt p;

	pkt_discover(&p);
	pkt_u8(&p, IB_OPT_OVERLOAD, 2);
	pkt_end(&p);
	memcpy(p.b + OFF_SNAME, "\x3c\x09" "PXEClient" "\xff", 12);
	strcpy((char *)p.b + OFF_FILE, "\x0c\x02xx");	/* not options: ignored */
	assert_int_equal(parse(&p, &m), 0);
	assert_int_equal(m.overload, 2);
	assert_opt_str(&m, IB_OPT_VENDOR_CLASS, "PXEClient");
	assert_false(ib_dhcp4_opt(&m, IB_OPT_HOSTNAME, NULL, NULL));
}

/* ---- Rejects ---------------------------------------------------------- */

static void mk_short_header(struct pkt *p) { pkt_discover(p); p->len = 100; }
static void mk_short_cookie(struct pkt *p) { pkt_discover(p); p->len = 239; }
static void mk_oversize(struct pkt *p) { pkt_discover(p); pkt_end(p); p->len = 5000; }
static void mk_bad_cookie(struct pkt *p) { pkt_discover(p); pkt_end(p); p->b[239] = 0x64; }
static void mk_bad_op(struct pkt *p) { pkt_discover(p); pkt_end(p); p->b[0] = 3; }
static void mk_hlen17(struct pkt *p) { pkt_discover(p); pkt_end(p); p->b[2] = 17; }
static void mk_htype1_hlen7(struct pkt *p) { pkt_discover(p); pkt_end(p); p->b[2] = 7; }
static void mk_no_end(struct pkt *p) { pkt_discover(p); pkt_opt(p, 12, "host", 4); }
static void mk_empty_options(struct pkt *p) { pkt_start(p); }
static void mk_no_type(struct pkt *p) { pkt_start(p); pkt_opt(p, 12, "h", 1); pkt_end(p); }
static void mk_type_9(struct pkt *p) { pkt_start(p); pkt_u8(p, 53, 9); pkt_end(p); }
static void mk_type_0(struct pkt *p) { pkt_start(p); pkt_u8(p, 53, 0); pkt_end(p); }
static void mk_type_len2(struct pkt *p) { pkt_start(p); pkt_opt(p, 53, "\x01\x01", 2); pkt_end(p); }

static void mk_opt_past_end(struct pkt *p)
{
	pkt_discover(p);
	pkt_put(p, "\x0c\x28host", 6);	/* says 40 bytes, 4 follow */
}

static void mk_code_without_len(struct pkt *p) { pkt_discover(p); pkt_put(p, "\x0c", 1); }

static void mk_opt_past_file(struct pkt *p)
{
	pkt_discover(p);
	pkt_u8(p, IB_OPT_OVERLOAD, 1);
	pkt_end(p);
	memset(p->b + OFF_FILE, 0, 128);
	p->b[OFF_FILE + 120] = 12;
	p->b[OFF_FILE + 121] = 10;	/* 10 bytes from offset 122: past file */
}

static void mk_52_in_file(struct pkt *p)
{
	pkt_discover(p);
	pkt_u8(p, IB_OPT_OVERLOAD, 3);
	pkt_end(p);
	memcpy(p->b + OFF_FILE, "\x34\x01\x03\xff", 4);	/* the overload loop */
	memcpy(p->b + OFF_SNAME, "\xff", 1);
}

static void mk_52_in_sname(struct pkt *p)
{
	pkt_discover(p);
	pkt_u8(p, IB_OPT_OVERLOAD, 2);
	pkt_end(p);
	memcpy(p->b + OFF_SNAME, "\x34\x01\x01\xff", 4);
}

static void mk_52_value_4(struct pkt *p) { pkt_discover(p); pkt_u8(p, 52, 4); pkt_end(p); }
static void mk_52_value_0(struct pkt *p) { pkt_discover(p); pkt_u8(p, 52, 0); pkt_end(p); }
static void mk_52_len2(struct pkt *p) { pkt_discover(p); pkt_opt(p, 52, "\x01\x01", 2); pkt_end(p); }

static void mk_52_twice(struct pkt *p)
{
	pkt_discover(p);
	pkt_u8(p, IB_OPT_OVERLOAD, 1);
	pkt_u8(p, IB_OPT_OVERLOAD, 1);
	pkt_end(p);
}

static void mk_client_id_0(struct pkt *p) { pkt_discover(p); pkt_opt(p, 61, "", 0); pkt_end(p); }
static void mk_client_id_1(struct pkt *p) { pkt_discover(p); pkt_opt(p, 61, "\x01", 1); pkt_end(p); }

static void mk_client_id_255(struct pkt *p)
{
	uint8_t v[255];

	memset(v, 0x42, sizeof(v));
	pkt_discover(p);
	pkt_opt(p, IB_OPT_CLIENT_ID, v, sizeof(v));
	pkt_end(p);
}

static void mk_file_no_end(struct pkt *p)
{
	pkt_discover(p);
	pkt_u8(p, IB_OPT_OVERLOAD, 1);
	pkt_end(p);
	memset(p->b + OFF_FILE, 0x42, 128);
	p->b[OFF_FILE] = 43;
	p->b[OFF_FILE + 1] = 126;	/* fills file exactly, no END */
}

static void mk_reply_no_type(struct pkt *p) { pkt_start(p); p->b[0] = 2; pkt_end(p); }
static void mk_hlen16(struct pkt *p) { pkt_discover(p); pkt_end(p); p->b[1] = 32; p->b[2] = 16; }
static void mk_max_len(struct pkt *p) { pkt_discover(p); pkt_end(p); p->len = IB_DHCP4_MAX_LEN; }

/* A crafted packet and the verdict it must get. */
struct reject_case {
	const char *name;			/* for failures */
	void (*make)(struct pkt *p);		/* crafts the packet */
	enum ib_dhcp4_reject want;		/* IB_DHCP4_OK: accepted */
};

static const struct reject_case reject_cases[] = {
	{ "truncated header", mk_short_header, IB_DHCP4_REJ_SHORT },
	{ "truncated cookie", mk_short_cookie, IB_DHCP4_REJ_SHORT },
	{ "5000 bytes", mk_oversize, IB_DHCP4_REJ_OVERSIZE },
	{ "bad cookie", mk_bad_cookie, IB_DHCP4_REJ_COOKIE },
	{ "op 3", mk_bad_op, IB_DHCP4_REJ_OP },
	{ "hlen 17", mk_hlen17, IB_DHCP4_REJ_HW },
	{ "htype 1 hlen 7", mk_htype1_hlen7, IB_DHCP4_REJ_HW },
	{ "option past end", mk_opt_past_end, IB_DHCP4_REJ_OPT_TRUNC },
	{ "code without length", mk_code_without_len, IB_DHCP4_REJ_OPT_TRUNC },
	{ "option past file", mk_opt_past_file, IB_DHCP4_REJ_OPT_TRUNC },
	{ "52 inside file", mk_52_in_file, IB_DHCP4_REJ_OVERLOAD },
	{ "52 inside sname", mk_52_in_sname, IB_DHCP4_REJ_OVERLOAD },
	{ "52 value 4", mk_52_value_4, IB_DHCP4_REJ_OVERLOAD },
	{ "52 value 0", mk_52_value_0, IB_DHCP4_REJ_OVERLOAD },
	{ "52 length 2", mk_52_len2, IB_DHCP4_REJ_OVERLOAD },
	{ "52 twice", mk_52_twice, IB_DHCP4_REJ_OVERLOAD },
	{ "no END", mk_no_end, IB_DHCP4_REJ_NO_END },
	{ "empty options area", mk_empty_options, IB_DHCP4_REJ_NO_END },
	{ "client-id 0 bytes", mk_client_id_0, IB_DHCP4_REJ_BAD_OPT },
	{ "client-id 1 byte", mk_client_id_1, IB_DHCP4_REJ_BAD_OPT },
	{ "53 of 2 bytes", mk_type_len2, IB_DHCP4_REJ_BAD_OPT },
	{ "no 53", mk_no_type, IB_DHCP4_REJ_NO_TYPE },
	{ "53 = 9", mk_type_9, IB_DHCP4_REJ_NO_TYPE },
	{ "53 = 0", mk_type_0, IB_DHCP4_REJ_NO_TYPE },
	{ "client-id 255 bytes", mk_client_id_255, IB_DHCP4_OK },
	{ "file without END", mk_file_no_end, IB_DHCP4_OK },
	{ "BOOTREPLY without 53", mk_reply_no_type, IB_DHCP4_OK },
	{ "hlen 16, htype 32", mk_hlen16, IB_DHCP4_OK },
	{ "4096 bytes", mk_max_len, IB_DHCP4_OK },
};

static void test_rejects(void **state)
{
	static struct ib_dhcp4_msg m;
	static struct pkt p;

	for (size_t i = 0; i < IB_ARRAY_SIZE(reject_cases); i++) {
		const struct reject_case *c = &reject_cases[i];
		int r;

		c->make(&p);
		r = parse(&p, &m);
		if (r != (c->want ? -EBADMSG : 0) || m.reject != c->want)
			fail_msg("%s: r=%d reject=%s, want %s", c->name, r,
				 ib_dhcp4_reject_str(m.reject), ib_dhcp4_reject_str(c->want));
	}
}

static void test_reject_str(void **state)
{
	for (int i = 0; i < IB_DHCP4_REJ__MAX; i++) {
		assert_string_not_equal(ib_dhcp4_reject_str(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ib_dhcp4_reject_str(i), ib_dhcp4_reject_str(j));
	}
	assert_string_equal(ib_dhcp4_reject_str(IB_DHCP4_REJ__MAX), "unknown");
}

/* ---- Getters ------------------------------------------------------------ */

static void test_typed_getters(void **state)
{
	static struct ib_dhcp4_msg m;
	struct pkt p;
	uint32_t a;
	uint16_t s;
	uint8_t b;

	pkt_discover(&p);
	pkt_opt(&p, IB_OPT_SERVER_ID, "\xc6\x12\x00", 3);	/* 3 bytes: wrong */
	pkt_opt(&p, IB_OPT_MAX_MSG_SIZE, "\x05\xdc", 2);
	pkt_opt(&p, IB_OPT_REQUESTED_IP, "\xc6\x12\x00\x07", 4);
	pkt_end(&p);
	assert_int_equal(parse(&p, &m), 0);
	assert_int_equal(ib_dhcp4_opt_ip(&m, IB_OPT_SERVER_ID, &a), -EBADMSG);
	assert_int_equal(ib_dhcp4_opt_ip(&m, IB_OPT_ROUTER, &a), -ENOENT);
	assert_int_equal(ib_dhcp4_opt_ip(&m, IB_OPT_REQUESTED_IP, &a), 0);
	assert_int_equal(a, ip4("198.18.0.7"));
	assert_int_equal(ib_dhcp4_opt_u16(&m, IB_OPT_MAX_MSG_SIZE, &s), 0);
	assert_int_equal(s, 1500);
	assert_int_equal(ib_dhcp4_opt_u8(&m, IB_OPT_MAX_MSG_SIZE, &b), -EBADMSG);
	assert_int_equal(ib_dhcp4_opt_u8(&m, IB_OPT_MSG_TYPE, &b), 0);
	assert_int_equal(b, IB_DHCP4_DISCOVER);
	assert_false(ib_dhcp4_opt(&m, IB_OPT_PAD, NULL, NULL));
	assert_false(ib_dhcp4_opt(&m, IB_OPT_END, NULL, NULL));
}

static void test_subopt_malformed(void **state)
{
	static struct ib_dhcp4_msg m;
	const uint8_t *v;
	size_t len;
	struct pkt p;

	pkt_discover(&p);
	pkt_opt(&p, IB_OPT_RELAY_AGENT, "\x01\x02" "ab" "\x02\x09" "xyz", 9); /* 2nd too long */
	pkt_opt(&p, IB_OPT_VENDOR, "\x00\x06\x01\x08\xff\x07\x01\x01", 8); /* pad, end */
	pkt_end(&p);
	assert_int_equal(parse(&p, &m), 0);
	assert_int_equal(ib_dhcp4_subopt(&m, IB_OPT_RELAY_AGENT, 1, &v, &len), -EBADMSG);
	assert_int_equal(ib_dhcp4_subopt(&m, IB_OPT_VENDOR, 6, &v, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(v[0], 8);
	assert_int_equal(ib_dhcp4_subopt(&m, IB_OPT_VENDOR, 7, &v, &len), -ENOENT);
	assert_int_equal(ib_dhcp4_subopt(&m, IB_OPT_IPXE, 1, &v, &len), -ENOENT);
}

/* An option 77 value and whether it names "iPXE". */
struct uc_case {
	const char *value;	/* wire bytes */
	size_t len;		/* their count */
	bool want;		/* user_class_has(.., "iPXE") */
};

static void test_user_class(void **state)
{
	static const struct uc_case cases[] = {
		{ "iPXE", 4, true },				/* iPXE, raw */
		{ "\x04iPXE", 5, true },			/* RFC 3004 */
		{ "\x03" "foo\x04iPXE", 9, true },		/* second instance */
		{ "\x05iPXEx", 6, false },
		{ "iPXE2", 5, false },
		{ "\x04iPX", 4, false },			/* truncated instance */
		{ "xiPXE", 5, false },
	};
	static struct ib_dhcp4_msg m;
	struct pkt p;

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		pkt_discover(&p);
		pkt_opt(&p, IB_OPT_USER_CLASS, cases[i].value, cases[i].len);
		pkt_end(&p);
		assert_int_equal(parse(&p, &m), 0);
		if (ib_dhcp4_user_class_has(&m, "iPXE") != cases[i].want)
			fail_msg("user class case %zu", i);
	}
	pkt_discover(&p);
	pkt_end(&p);
	assert_int_equal(parse(&p, &m), 0);
	assert_false(ib_dhcp4_user_class_has(&m, "iPXE"));
}

/* ---- Option 119 (RFC 3397) --------------------------------------------- */

static void test_search_rfc3397_example(void **state)
{
	/* RFC 3397 2: the example's bytes, the second name compressed. */
	static const uint8_t want[] = {
		3, 'e', 'n', 'g', 5, 'a', 'p', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		9, 'm', 'a', 'r', 'k', 'e', 't', 'i', 'n', 'g', 0xc0, 0x04,
	};
	const char *names[] = { "eng.apple.com.", "marketing.apple.com." };
	uint8_t buf[64];
	char text[64];
	size_t len;

	assert_int_equal(ib_dhcp4_encode_search(names, 2, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ib_dhcp4_decode_search(buf, len, text, sizeof(text)), 0);
	assert_string_equal(text, "eng.apple.com marketing.apple.com");
	assert_int_equal(ib_dhcp4_encode_search(names, 2, buf, sizeof(want) - 1, &len), -ENOBUFS);
	assert_int_equal(ib_dhcp4_decode_search(want, sizeof(want), text, 20), -ENOBUFS);
}

static void test_search_compression(void **state)
{
	const char *names[] = { "a.example.org", "example.org", "b.a.example.org",
				"_ldap._tcp.example.org", "other.net" };
	static const uint8_t want[] = {
		1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o', 'r', 'g', 0,
		0xc0, 2,			/* example.org: pointer only */
		1, 'b', 0xc0, 0,		/* b + a.example.org */
		5, '_', 'l', 'd', 'a', 'p', 4, '_', 't', 'c', 'p', 0xc0, 2,
		5, 'o', 't', 'h', 'e', 'r', 3, 'n', 'e', 't', 0,
	};
	uint8_t buf[128];
	char text[128];
	size_t len;

	assert_int_equal(ib_dhcp4_encode_search(names, 5, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ib_dhcp4_decode_search(buf, len, text, sizeof(text)), 0);
	assert_string_equal(text, "a.example.org example.org b.a.example.org "
			    "_ldap._tcp.example.org other.net");
}

static void test_search_bad_names(void **state)
{
	char l64[80], n254[260], n253[260];
	const char *bad[] = { "", ".", "a..b", ".a", "bad char", "a/b", l64, n254 };
	const char *ok[] = { n253 };
	uint8_t buf[512];
	size_t len;

	memset(l64, 'x', 64);
	strcpy(l64 + 64, ".com");
	/* 253 = 63 + 1 + 63 + 1 + 63 + 1 + 61 */
	memset(n253, 'a', 253);
	n253[63] = n253[127] = n253[191] = '.';
	n253[253] = '\0';
	strcpy(n254, n253);
	strcat(n254, "a");
	for (size_t i = 0; i < IB_ARRAY_SIZE(bad); i++)
		if (ib_dhcp4_encode_search(&bad[i], 1, buf, sizeof(buf), &len) != -EINVAL)
			fail_msg("bad name %zu accepted", i);
	assert_int_equal(ib_dhcp4_encode_search(ok, 1, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 255);	/* RFC 1035 2.3.4: the wire maximum */
}

static void test_search_decode_hostile(void **state)
{
	/* Wire option 119 values the decoder must refuse. */
	static const struct { const char *name; const char *v; size_t len; } cases[] = {
		{ "self pointer", "\xc0\x00", 2 },
		{ "loop", "\x01" "a\xc0\x00", 4 },
		{ "forward pointer", "\xc0\x02\x01" "a\x00", 5 },
		{ "pointer cut", "\x01" "a\x00\xc0", 4 },
		{ "label past end", "\x05" "ab", 3 },
		{ "no terminator", "\x01" "a", 2 },
		{ "root only", "\x00", 1 },
		{ "extended label", "\x41" "a\x00", 3 },
		{ "bad char", "\x02" "a.\x00", 4 },
		{ "pointer to itself", "\x01" "a\x00\x01" "b\xc0\x05", 7 },
	};
	char text[64];

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++)
		if (ib_dhcp4_decode_search((const uint8_t *)cases[i].v, cases[i].len,
					   text, sizeof(text)) != -EBADMSG)
			fail_msg("%s decoded", cases[i].name);
}

/* ---- Option 121 (RFC 3442) ----------------------------------------------- */

static void test_routes_rfc3442_examples(void **state)
{
	/* RFC 3442's table of subnet numbers, masks and descriptors. */
	static const struct { const char *dest; uint8_t plen; uint8_t want[5]; size_t n; } cases[] = {
		{ "0.0.0.0", 0, { 0 }, 1 },
		{ "10.0.0.0", 8, { 8, 10 }, 2 },
		{ "10.0.0.0", 24, { 24, 10, 0, 0 }, 4 },
		{ "10.17.0.0", 16, { 16, 10, 17 }, 3 },
		{ "10.27.129.0", 24, { 24, 10, 27, 129 }, 4 },
		{ "10.229.0.128", 25, { 25, 10, 229, 0, 128 }, 5 },
		{ "10.198.122.47", 32, { 32, 10, 198, 122, 47 }, 5 },
	};
	uint32_t gw = ip4("198.18.0.254"), d;
	uint8_t buf[16], all[128];
	uint32_t dests[8], gws[8];
	uint8_t plens[8];
	size_t len, total = 0;

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		d = ip4(cases[i].dest);
		assert_int_equal(ib_dhcp4_encode_routes(&d, &cases[i].plen, &gw, 1,
							buf, sizeof(buf), &len), 0);
		assert_int_equal(len, cases[i].n + 4);
		assert_memory_equal(buf, cases[i].want, cases[i].n);
		assert_memory_equal(buf + cases[i].n, "\xc6\x12\x00\xfe", 4);
		dests[i] = d;
		plens[i] = cases[i].plen;
		gws[i] = gw;
		total += len;
	}
	assert_int_equal(ib_dhcp4_encode_routes(dests, plens, gws, IB_ARRAY_SIZE(cases),
						all, sizeof(all), &len), 0);
	assert_int_equal(len, total);
	assert_int_equal(ib_dhcp4_encode_routes(dests, plens, gws, IB_ARRAY_SIZE(cases),
						all, total - 1, &len), -ENOBUFS);
	/* Host bits beyond the prefix are not sent. */
	d = ip4("10.17.3.4");
	plens[0] = 16;
	assert_int_equal(ib_dhcp4_encode_routes(&d, plens, &gw, 1, buf, sizeof(buf), &len), 0);
	assert_memory_equal(buf, "\x10\x0a\x11", 3);
	plens[0] = 33;
	assert_int_equal(ib_dhcp4_encode_routes(&d, plens, &gw, 1, buf, sizeof(buf), &len), -EINVAL);
}

/* ---- Maximum message size (RFC 2132 9.10) -------------------------------- */

static void test_max_msg_size(void **state)
{
	static struct ib_dhcp4_msg m;
	static struct ib_dhcp4_out o;
	uint8_t buf[IB_DHCP4_MAX_LEN], blob[200];
	size_t len;

	memset(blob, 0x5a, sizeof(blob));
	out_start(&o);
	/* 53 (3) + 54 (6) + END: 10; each blob 202; 548 - 240 = 308 for options. */
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_VENDOR, blob, 200), 0);
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_IPXE, blob, 200), 0);
	assert_int_equal(ib_dhcp4_out_add_u32(&o, IB_OPT_LEASE_TIME, 60), 0);
	build_parse(&o, 576, &m, buf, &len);
	assert_true(len <= 576 - 28);
	assert_true(ib_dhcp4_opt(&m, IB_OPT_MSG_TYPE, NULL, NULL));
	assert_true(ib_dhcp4_opt(&m, IB_OPT_SERVER_ID, NULL, NULL));
	assert_true(ib_dhcp4_opt(&m, IB_OPT_VENDOR, NULL, NULL));
	/* Dropped from the end: the lease time would fit, but follows a cut. */
	assert_false(ib_dhcp4_opt(&m, IB_OPT_IPXE, NULL, NULL));
	assert_false(ib_dhcp4_opt(&m, IB_OPT_LEASE_TIME, NULL, NULL));

	/* Below 576 counts as 576; a larger limit keeps everything. */
	build_parse(&o, 300, &m, buf, &len);
	assert_false(ib_dhcp4_opt(&m, IB_OPT_IPXE, NULL, NULL));
	build_parse(&o, 1500, &m, buf, &len);
	assert_true(ib_dhcp4_opt(&m, IB_OPT_IPXE, NULL, NULL));
	assert_true(ib_dhcp4_opt(&m, IB_OPT_LEASE_TIME, NULL, NULL));
	assert_int_equal(len, 240 + 10 + 202 + 202 + 6);

	/* The buffer is a limit too; 300 bytes are the floor. */
	assert_int_equal(ib_dhcp4_build(&o, 1500, buf, 299, &len), -ENOBUFS);
	assert_int_equal(ib_dhcp4_build(&o, 1500, buf, 300, &len), 0);
	assert_int_equal(len, 300);
}

static void test_mandatory_too_big(void **state)
{
	static struct ib_dhcp4_out o;
	uint8_t buf[IB_DHCP4_MAX_LEN], big[400];
	size_t len;

	memset(big, 1, sizeof(big));
	ib_dhcp4_out_init(&o);
	o.op = IB_DHCP4_BOOTREPLY;
	assert_int_equal(ib_dhcp4_out_add_u8(&o, IB_OPT_MSG_TYPE, IB_DHCP4_ACK), 0);
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_SERVER_ID, big, sizeof(big)), 0);
	assert_int_equal(ib_dhcp4_build(&o, 576, buf, sizeof(buf), &len), -ENOBUFS);
	assert_int_equal(ib_dhcp4_build(&o, 1500, buf, sizeof(buf), &len), 0);
}

static void test_out_limits(void **state)
{
	static struct ib_dhcp4_out o;
	uint8_t big[2048];

	memset(big, 0, sizeof(big));
	ib_dhcp4_out_init(&o);
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_PAD, "x", 1), -EINVAL);
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_END, "x", 1), -EINVAL);
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_OVERLOAD, "\x01", 1), -EINVAL);
	assert_int_equal(ib_dhcp4_out_add_ips(&o, IB_OPT_DNS, NULL, 0), -EINVAL);
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_VENDOR, big, sizeof(big)), 0);
	assert_int_equal(ib_dhcp4_out_add(&o, IB_OPT_IPXE, big, 1), -ENOBUFS);
	ib_dhcp4_out_init(&o);
	for (int i = 0; i < IB_DHCP4_MAX_OPTS; i++)
		assert_int_equal(ib_dhcp4_out_add_u8(&o, (uint8_t)(100 + i), 1), 0);
	assert_int_equal(ib_dhcp4_out_add_u8(&o, IB_OPT_MSG_TYPE, 1), -ENOBUFS);
	assert_true(ib_dhcp4_out_has(&o, 100));
	assert_false(ib_dhcp4_out_has(&o, IB_OPT_MSG_TYPE));
}

/* The sample DISCOVER names its kind as the firmware would: HTTPClient for
 * the firmware table's UEFI HTTP boot rows (16, 19), PXEClient otherwise. */
static void test_sample_vendor_class(void **state)
{
	static const struct {
		int arch;
		const char *vc;
	} want[] = {
		{ 0, "PXEClient:Arch:00000:UNDI:003016" },
		{ 7, "PXEClient:Arch:00007:UNDI:003016" },
		{ 16, "HTTPClient:Arch:00016:UNDI:003016" },
		{ 19, "HTTPClient:Arch:00019:UNDI:003016" },
		{ 10, "PXEClient:Arch:00010:UNDI:003016" },	/* no row: PXE */
	};
	struct ib_dhcp4_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct ib_dhcp4_sample smp = { .mac = { 2, 0, 0, 0, 0, 1 }, .arch = want[i].arch };

		uint16_t a;

		assert_int_equal(ib_dhcp4_sample_discover(&smp, &m), 0);
		assert_int_equal(ib_dhcp4_opt_u16(&m, IB_OPT_CLIENT_ARCH, &a), 0);
		assert_int_equal(a, want[i].arch);
		assert_opt_str(&m, IB_OPT_VENDOR_CLASS, want[i].vc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_sample_vendor_class),
		cmocka_unit_test(test_round_trip_header),
		cmocka_unit_test(test_round_trip_options),
		cmocka_unit_test(test_split_on_wire),
		cmocka_unit_test(test_overload_file),
		cmocka_unit_test(test_overload_sname),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_reject_str),
		cmocka_unit_test(test_typed_getters),
		cmocka_unit_test(test_subopt_malformed),
		cmocka_unit_test(test_user_class),
		cmocka_unit_test(test_search_rfc3397_example),
		cmocka_unit_test(test_search_compression),
		cmocka_unit_test(test_search_bad_names),
		cmocka_unit_test(test_search_decode_hostile),
		cmocka_unit_test(test_routes_rfc3442_examples),
		cmocka_unit_test(test_max_msg_size),
		cmocka_unit_test(test_mandatory_too_big),
		cmocka_unit_test(test_out_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
