/*
 * DHCPv6 codec tests: golden packets from real clients, build/parse round
 * trips of every option the builder writes, relay chains (3 levels parsed
 * and wrapped back, 8 accepted, 9 refused), every truncation, one crafted
 * message per reject reason, DUIDs, EUI-64 and domain lists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "common/util.h"
#include "dhcp6/dhcp6_codec.h"

#define BUF_MAX 70000	/* room for the oversize case */

/* ---- Crafting messages ------------------------------------------------- */

/* A datagram under construction, with a stack of open options. */
struct pkt {
	uint8_t b[BUF_MAX];	/* bytes */
	size_t len;		/* bytes used */
	size_t open[8];		/* offsets of options whose length is pending */
	size_t n_open;		/* entries used in open */
};

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0xa1, 0xb2, 0xc3 };
static const uint8_t zeros[BUF_MAX];
static const uint8_t duid_ll[10] = { 0, 3, 0, 1, 0x52, 0x54, 0x00, 0xa1, 0xb2, 0xc3 };

static void pkt_put(struct pkt *p, const void *v, size_t n)
{
	assert_true(p->len + n <= sizeof(p->b));
	if (n)
		memcpy(p->b + p->len, v, n);
	p->len += n;
}

static void pkt_u16(struct pkt *p, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	pkt_put(p, b, 2);
}

static void pkt_u32(struct pkt *p, uint32_t v)
{
	pkt_u16(p, (uint16_t)(v >> 16));
	pkt_u16(p, (uint16_t)v);
}

/* Client message header: type and xid 0x0a0b0c. */
static void pkt_start(struct pkt *p, uint8_t type)
{
	static const uint8_t xid[3] = { 0x0a, 0x0b, 0x0c };

	p->len = 0;
	p->n_open = 0;
	pkt_put(p, &type, 1);
	pkt_put(p, xid, 3);
}

static void pkt_opt(struct pkt *p, uint16_t code, const void *v, size_t n)
{
	pkt_u16(p, code);
	pkt_u16(p, (uint16_t)n);
	pkt_put(p, v, n);
}

/* Opens an option whose length is set by pkt_close(). */
static void pkt_open(struct pkt *p, uint16_t code)
{
	assert_true(p->n_open < 8);
	p->open[p->n_open++] = p->len;
	pkt_u16(p, code);
	pkt_u16(p, 0);
}

static void pkt_close(struct pkt *p)
{
	size_t off = p->open[--p->n_open], n = p->len - off - 4;

	p->b[off + 2] = (uint8_t)(n >> 8);
	p->b[off + 3] = (uint8_t)n;
}

/* A SOLICIT with a client id, ready for more options. */
static void pkt_solicit(struct pkt *p)
{
	pkt_start(p, IB_DHCP6_SOLICIT);
	pkt_opt(p, IB_OPT6_CLIENTID, duid_ll, sizeof(duid_ll));
}

/* IA_NA header values (iaid, t1, t2) inside an open option. */
static void pkt_ia_na_open(struct pkt *p, uint32_t iaid)
{
	pkt_open(p, IB_OPT6_IA_NA);
	pkt_u32(p, iaid);
	pkt_u32(p, 0);
	pkt_u32(p, 0);
}

static int parse(const struct pkt *p, struct ib_dhcp6_msg *m)
{
	return ib_dhcp6_parse(p->b, p->len, m);
}

static void a6(const char *s, uint8_t out[16])
{
	if (inet_pton(AF_INET6, s, out) != 1)
		fail_msg("bad test address %s", s);
}

static struct ib_dhcp6_blob blob_str(const char *s)
{
	return (struct ib_dhcp6_blob){ (const uint8_t *)s, strlen(s) };
}

static void assert_blob(struct ib_dhcp6_blob b, const void *want, size_t n)
{
	assert_non_null(b.p);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.p, want, n);
}

static void assert_blob_str(struct ib_dhcp6_blob b, const char *s)
{
	assert_blob(b, s, strlen(s));
}

/* ---- Golden packets ---------------------------------------------------- */

static size_t read_data(const char *name, uint8_t *buf, size_t cap)
{
	const char *dir = getenv("IB_TEST_DATA");
	char path[512];
	size_t n;
	FILE *f;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/dhcp6/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void check_dhclient(const struct ib_dhcp6_msg *m)
{
	static const uint16_t oro[] = { 23, 24, 39, 31 };
	uint8_t mac[6];
	uint16_t type;

	assert_int_equal(m->xid, 0xb8a831);
	assert_int_equal(ib_dhcp6_duid_classify(m->client_id.p, m->client_id.len, &type), 0);
	assert_int_equal(type, IB_DUID_LLT);
	assert_int_equal(ib_dhcp6_duid_mac(m->client_id.p, m->client_id.len, mac), 0);
	assert_memory_equal(mac, "\x02\xb0\x07\x00\x00\x01", 6);
	assert_int_equal(m->n_oro, 4);
	assert_memory_equal(m->oro, oro, sizeof(oro));
	assert_int_equal(m->n_ia_na, 1);
	assert_int_equal(m->ia_na[0].iaid, 0x07000001);
	assert_int_equal(m->ia_na[0].t1, 3600);
	assert_int_equal(m->ia_na[0].t2, 5400);
	assert_true(m->has_elapsed);
}

static void check_perfdhcp(const struct ib_dhcp6_msg *m)
{
	uint8_t mac[6];

	assert_int_equal(ib_dhcp6_duid_mac(m->client_id.p, m->client_id.len, mac), 0);
	assert_memory_equal(mac, "\x00\x0c\x01\x02\x03\x04", 6);
	assert_int_equal(m->n_ia_na, 1);
	assert_int_equal(m->n_oro, 2);
	assert_int_equal(m->oro[0], IB_OPT6_DNS_SERVERS);
	assert_int_equal(m->oro[1], IB_OPT6_DOMAIN_LIST);
}

static void check_relayed3(const struct ib_dhcp6_msg *m)
{
	static const char *const ifids[3] = { "vlan42", "eth2", "ge-0/0/1" };
	uint8_t link[16], mac[6];

	assert_int_equal(m->n_relays, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(m->relays[i].msg_type, IB_DHCP6_RELAY_FORW);
		assert_int_equal(m->relays[i].hop_count, 2 - i);
		assert_blob_str(m->relays[i].interface_id, ifids[i]);
	}
	a6("fd00:b007:3::1", link);
	assert_memory_equal(m->relays[2].link_address, link, 16);
	assert_blob(m->relays[2].remote_id, "\0\0\0\x09port-1", 10);
	assert_int_equal(m->relays[2].lladdr_type, 1);
	assert_blob(m->relays[2].lladdr, test_mac, 6);
	assert_null(m->relays[0].remote_id.p);
	assert_int_equal(ib_dhcp6_eui64_mac(m->relays[2].peer_address, mac), 0);
	assert_memory_equal(mac, test_mac, 6);
	assert_true(m->user_class_ipxe);
	assert_int_equal(m->n_arch, 1);
	assert_int_equal(m->arch[0], 7);
	assert_true(m->has_nii);
	assert_int_equal(m->nii.major, 3);
	assert_int_equal(m->n_vendor_class, 1);
	assert_int_equal(m->vendor_class[0].enterprise, 343);
	assert_int_equal(m->vendor_class[0].n_items, 1);
}

/* One golden packet; how it was obtained is in data/dhcp6/README.md. */
struct golden {
	const char *file;			/* under data/dhcp6/ */
	uint8_t type;				/* innermost msg-type */
	void (*check)(const struct ib_dhcp6_msg *m); /* key fields */
};

static const struct golden goldens[] = {
	{ "dhclient-solicit.bin", IB_DHCP6_SOLICIT, check_dhclient },
	{ "perfdhcp-solicit.bin", IB_DHCP6_SOLICIT, check_perfdhcp },
	{ "relayed3-ipxe-solicit.bin", IB_DHCP6_SOLICIT, check_relayed3 },
};

static void test_golden(void **state)
{
	static struct ib_dhcp6_msg m;
	static uint8_t buf[IB_DHCP6_MAX_LEN];

	for (size_t i = 0; i < IB_ARRAY_SIZE(goldens); i++) {
		const struct golden *g = &goldens[i];
		size_t n = read_data(g->file, buf, sizeof(buf));

		print_message("golden %s\n", g->file);
		assert_int_equal(ib_dhcp6_parse(buf, n, &m), 0);
		assert_int_equal(m.msg_type, g->type);
		assert_non_null(m.client_id.p);
		g->check(&m);
	}
}

/* ---- Build -> parse round trips ---------------------------------------- */

static uint8_t server_duid[14];
static size_t server_duid_len;

static void make_server_duid(void)
{
	assert_int_equal(ib_dhcp6_duid_llt(test_mac, 0x30000000, server_duid,
					   sizeof(server_duid), &server_duid_len), 0);
}

/* A REPLY with every server-side option, two IAs, statuses at every level. */
static void reply_out(struct ib_dhcp6_out *o, struct ib_dhcp6_ia_na ia[2],
		      uint8_t dns[2][16], uint8_t ntp[1][16])
{
	static const char *const domains[] = { "lab.example", "example.org." };
	static const struct ib_dhcp6_blob params[] = {
		{ (const uint8_t *)"console=ttyS0", 13 }, { (const uint8_t *)"", 0 },
	};
	static const struct ib_dhcp6_blob vc[] = { { (const uint8_t *)"ironboot", 8 } };
	static const struct ib_dhcp6_blob uc[] = { { (const uint8_t *)"lab", 3 } };

	make_server_duid();
	memset(o, 0, sizeof(*o));
	memset(ia, 0, 2 * sizeof(ia[0]));
	o->msg_type = IB_DHCP6_REPLY;
	o->xid = 0xabcdef;
	o->server_id = (struct ib_dhcp6_blob){ server_duid, server_duid_len };
	o->client_id = (struct ib_dhcp6_blob){ duid_ll, sizeof(duid_ll) };
	o->status = (struct ib_dhcp6_status){ true, IB_DHCP6_SUCCESS, blob_str("all good") };
	o->has_preference = true;
	o->preference = 255;
	o->rapid_commit = true;
	o->reconf_accept = true;
	ia[0] = (struct ib_dhcp6_ia_na){ .iaid = 1, .t1 = 1800, .t2 = 2880, .n_addrs = 2 };
	a6("fd00:b007::1:10", ia[0].addrs[0].addr);
	ia[0].addrs[0].preferred = 3600;
	ia[0].addrs[0].valid = 7200;
	a6("fd00:b007::1:11", ia[0].addrs[1].addr);
	ia[0].addrs[1].status = (struct ib_dhcp6_status){ true, IB_DHCP6_NOT_ON_LINK, blob_str("moved") };
	ia[1] = (struct ib_dhcp6_ia_na){ .iaid = 2 };
	ia[1].status = (struct ib_dhcp6_status){ true, IB_DHCP6_NO_ADDRS_AVAIL, blob_str("") };
	o->ia_na = ia;
	o->n_ia_na = 2;
	a6("fd00:b007::53", dns[0]);
	a6("fd00:b007::54", dns[1]);
	o->dns = (const uint8_t (*)[16])dns;
	o->n_dns = 2;
	o->domains = domains;
	o->n_domains = 2;
	a6("fd00:b007::123", ntp[0]);
	o->ntp = (const uint8_t (*)[16])ntp;
	o->n_ntp = 1;
	o->bootfile_url = blob_str("http://[fd00:b007::1]/boot.ipxe");
	o->bootfile_param = params;
	o->n_bootfile_param = 2;
	o->has_vendor_class = true;
	o->vendor_class_enterprise = 32473;
	o->vendor_class = vc;
	o->n_vendor_class = 1;
	o->user_class = uc;
	o->n_user_class = 1;
}

static void build_parse(const struct ib_dhcp6_out *o, struct ib_dhcp6_msg *m,
			uint8_t *buf, size_t *ret_len)
{
	assert_int_equal(ib_dhcp6_build(o, buf, IB_DHCP6_MAX_LEN, ret_len), 0);
	assert_int_equal(ib_dhcp6_parse(buf, *ret_len, m), 0);
}

static void check_reply_ias(const struct ib_dhcp6_msg *m, const struct ib_dhcp6_ia_na *ia)
{
	assert_int_equal(m->n_ia_na, 2);
	assert_int_equal(m->ia_na[0].iaid, 1);
	assert_int_equal(m->ia_na[0].t1, 1800);
	assert_int_equal(m->ia_na[0].t2, 2880);
	assert_int_equal(m->ia_na[0].n_addrs, 2);
	assert_memory_equal(m->ia_na[0].addrs[0].addr, ia[0].addrs[0].addr, 16);
	assert_int_equal(m->ia_na[0].addrs[0].preferred, 3600);
	assert_int_equal(m->ia_na[0].addrs[0].valid, 7200);
	assert_false(m->ia_na[0].addrs[0].status.present);
	assert_true(m->ia_na[0].addrs[1].status.present);
	assert_int_equal(m->ia_na[0].addrs[1].status.code, IB_DHCP6_NOT_ON_LINK);
	assert_blob_str(m->ia_na[0].addrs[1].status.msg, "moved");
	assert_false(m->ia_na[0].status.present);
	assert_int_equal(m->ia_na[1].n_addrs, 0);
	assert_true(m->ia_na[1].status.present);
	assert_int_equal(m->ia_na[1].status.code, IB_DHCP6_NO_ADDRS_AVAIL);
	assert_int_equal(m->ia_na[1].status.msg.len, 0);
}

static void test_round_trip_reply(void **state)
{
	static struct ib_dhcp6_msg m;
	static struct ib_dhcp6_out o;
	static uint8_t buf[IB_DHCP6_MAX_LEN];
	struct ib_dhcp6_ia_na ia[2];
	uint8_t dns[2][16], ntp[1][16];
	struct ib_dhcp6_blob items[4];
	char text[64];
	size_t len, n;

	reply_out(&o, ia, dns, ntp);
	build_parse(&o, &m, buf, &len);
	assert_int_equal(m.msg_type, IB_DHCP6_REPLY);
	assert_int_equal(m.xid, 0xabcdef);
	assert_int_equal(m.n_relays, 0);
	assert_blob(m.server_id, server_duid, server_duid_len);
	assert_blob(m.client_id, duid_ll, sizeof(duid_ll));
	assert_true(m.status.present);
	assert_int_equal(m.status.code, IB_DHCP6_SUCCESS);
	assert_blob_str(m.status.msg, "all good");
	assert_true(m.has_preference);
	assert_int_equal(m.preference, 255);
	assert_true(m.rapid_commit);
	assert_true(m.reconf_accept);
	check_reply_ias(&m, ia);
	assert_int_equal(m.n_dns, 2);
	assert_memory_equal(m.dns, dns, sizeof(dns));
	assert_int_equal(ib_dhcp6_domains_decode(m.domain_list.p, m.domain_list.len,
						 text, sizeof(text)), 0);
	assert_string_equal(text, "lab.example example.org");
	assert_int_equal(m.n_ntp, 1);
	assert_memory_equal(m.ntp[0], ntp[0], 16);
	assert_blob_str(m.bootfile_url, "http://[fd00:b007::1]/boot.ipxe");
	assert_int_equal(m.n_bootfile_param, 2);
	assert_int_equal(ib_dhcp6_items(m.bootfile_param, items, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_blob_str(items[0], "console=ttyS0");
	assert_int_equal(items[1].len, 0);
	assert_int_equal(m.n_vendor_class, 1);
	assert_int_equal(m.vendor_class[0].enterprise, 32473);
	assert_blob(m.vendor_class[0].data, "\0\x08ironboot", 10);
	assert_blob(m.user_class, "\0\x03lab", 5);
	assert_false(m.user_class_ipxe);
	assert_false(m.has_elapsed);
	assert_false(m.has_oro);
}

/* The builder's bytes for a small ADVERTISE, against RFC 8415 figures. */
static void test_advertise_wire(void **state)
{
	static const uint8_t want[] = {
		2, 0x12, 0x34, 0x56,				/* ADVERTISE, xid */
		0, 2, 0, 14, 0, 1, 0, 1, 0x30, 0, 0, 0,		/* server id: DUID-LLT */
		0x52, 0x54, 0x00, 0xa1, 0xb2, 0xc3,
		0, 1, 0, 10, 0, 3, 0, 1, 0x52, 0x54, 0x00, 0xa1, 0xb2, 0xc3,
		0, 7, 0, 1, 10,					/* preference 10 */
		0, 3, 0, 12, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, /* IA_NA 9, no address */
	};
	static struct ib_dhcp6_out o;
	struct ib_dhcp6_ia_na ia = { .iaid = 9 };
	uint8_t buf[128];
	size_t len;

	make_server_duid();
	memset(&o, 0, sizeof(o));
	o.msg_type = IB_DHCP6_ADVERTISE;
	o.xid = 0x123456;
	o.server_id = (struct ib_dhcp6_blob){ server_duid, server_duid_len };
	o.client_id = (struct ib_dhcp6_blob){ duid_ll, sizeof(duid_ll) };
	o.has_preference = true;
	o.preference = 10;
	o.ia_na = &ia;
	o.n_ia_na = 1;
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Every smaller buffer is refused, none is written past. */
	for (size_t cap = 0; cap < sizeof(want); cap++)
		assert_int_equal(ib_dhcp6_build(&o, buf, cap, &len), -ENOBUFS);
}

/* A SOLICIT as iPXE or UEFI firmware sends it. */
static void solicit_out(struct ib_dhcp6_out *o, struct ib_dhcp6_ia_na *ia)
{
	static const uint16_t oro[] = { 23, 24, 59, 60 }, arch[] = { 16, 7 };
	static const struct ib_dhcp6_blob uc[] = { { (const uint8_t *)"x", 1 },
						   { (const uint8_t *)"iPXE", 4 } };
	static const struct ib_dhcp6_blob vc[] = {
		{ (const uint8_t *)"HTTPClient:Arch:00016:UNDI:003001", 33 },
	};

	memset(o, 0, sizeof(*o));
	memset(ia, 0, sizeof(*ia));
	o->msg_type = IB_DHCP6_SOLICIT;
	o->xid = 0x000001;
	o->client_id = (struct ib_dhcp6_blob){ duid_ll, sizeof(duid_ll) };
	o->has_elapsed = true;
	o->elapsed = 300;
	o->has_oro = true;
	o->oro = oro;
	o->n_oro = 4;
	o->rapid_commit = true;
	ia->iaid = 0x01020304;
	o->ia_na = ia;
	o->n_ia_na = 1;
	o->user_class = uc;
	o->n_user_class = 2;
	o->has_vendor_class = true;
	o->vendor_class_enterprise = 343;
	o->vendor_class = vc;
	o->n_vendor_class = 1;
	o->arch = arch;
	o->n_arch = 2;
	o->has_nii = true;
	o->nii = (struct ib_dhcp6_nii){ 1, 3, 16 };
}

static void test_round_trip_client(void **state)
{
	static const uint8_t types[] = {
		IB_DHCP6_SOLICIT, IB_DHCP6_REQUEST, IB_DHCP6_CONFIRM, IB_DHCP6_RENEW,
		IB_DHCP6_REBIND, IB_DHCP6_RELEASE, IB_DHCP6_DECLINE,
		IB_DHCP6_INFORMATION_REQUEST, IB_DHCP6_ADVERTISE, IB_DHCP6_REPLY,
		IB_DHCP6_RECONFIGURE,
	};
	static struct ib_dhcp6_msg m;
	static struct ib_dhcp6_out o;
	static uint8_t buf[IB_DHCP6_MAX_LEN];
	struct ib_dhcp6_ia_na ia;
	size_t len;

	for (size_t i = 0; i < IB_ARRAY_SIZE(types); i++) {
		solicit_out(&o, &ia);
		o.msg_type = types[i];
		o.xid = 0xffffff - i;
		build_parse(&o, &m, buf, &len);
		assert_int_equal(m.msg_type, types[i]);
		assert_int_equal(m.xid, 0xffffff - i);
		assert_blob(m.client_id, duid_ll, sizeof(duid_ll));
		assert_null(m.server_id.p);
		assert_true(m.has_elapsed);
		assert_int_equal(m.elapsed, 300);
		assert_int_equal(m.n_oro, 4);
		assert_int_equal(m.oro[2], IB_OPT6_BOOTFILE_URL);
		assert_true(m.rapid_commit);
		assert_int_equal(m.n_ia_na, 1);
		assert_int_equal(m.ia_na[0].iaid, 0x01020304);
		assert_true(m.user_class_ipxe);
		assert_int_equal(m.n_user_class, 2);
		assert_int_equal(m.vendor_class[0].enterprise, 343);
		assert_int_equal(m.n_arch, 2);
		assert_int_equal(m.arch[0], 16);
		assert_int_equal(m.arch[1], 7);
		assert_true(m.has_nii);
		assert_int_equal(m.nii.type, 1);
		assert_int_equal(m.nii.minor, 16);
	}
}

static void test_build_invalid(void **state)
{
	static const char *const bad_names[] = { "a..b" };
	static struct ib_dhcp6_out o;
	uint8_t big[IB_DHCP6_DUID_MAX + 1], buf[512];
	struct ib_dhcp6_ia_na ia;
	size_t len;

	memset(big, 0, sizeof(big));
	solicit_out(&o, &ia);
	o.msg_type = IB_DHCP6_RELAY_FORW;
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), -EINVAL);
	o.msg_type = 0;
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), -EINVAL);
	solicit_out(&o, &ia);
	o.xid = 0x1000000;
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), -EINVAL);
	solicit_out(&o, &ia);
	o.client_id = (struct ib_dhcp6_blob){ big, sizeof(big) };
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), -EINVAL);
	o.client_id = (struct ib_dhcp6_blob){ big, IB_DHCP6_DUID_MAX };
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), 0);
	o.domains = bad_names;
	o.n_domains = 1;
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), -EINVAL);
	solicit_out(&o, &ia);
	ia.n_addrs = IB_DHCP6_MAX_IAADDR + 1;
	assert_int_equal(ib_dhcp6_build(&o, buf, sizeof(buf), &len), -EINVAL);
}

/* ---- Relay chains ------------------------------------------------------ */

/* Three relay levels as a chain of the parsed shape, outermost first. */
static void make_chain(struct ib_dhcp6_relay chain[3])
{
	static const char *const ifids[3] = { "outer", "middle", "" };

	memset(chain, 0, 3 * sizeof(chain[0]));
	for (size_t i = 0; i < 3; i++) {
		chain[i].msg_type = IB_DHCP6_RELAY_FORW;
		chain[i].hop_count = (uint8_t)(2 - i);
		a6(i == 2 ? "fd00:b007:3::1" : "::", chain[i].link_address);
		a6(i == 2 ? "fe80::5054:ff:fea1:b2c3" : "fd00:b007:1::2", chain[i].peer_address);
		chain[i].interface_id = blob_str(ifids[i]);	/* "" is present, empty */
	}
	chain[1].interface_id.p = NULL;			/* the middle one sends none */
	chain[2].remote_id = (struct ib_dhcp6_blob){ (const uint8_t *)"\0\0\0\x09" "r1", 6 };
	chain[2].lladdr_type = 1;
	chain[2].lladdr = (struct ib_dhcp6_blob){ test_mac, 6 };
}

static void check_chain(const struct ib_dhcp6_msg *m, const struct ib_dhcp6_relay *want,
			uint8_t type)
{
	assert_int_equal(m->n_relays, 3);
	for (size_t i = 0; i < 3; i++) {
		const struct ib_dhcp6_relay *r = &m->relays[i];

		assert_int_equal(r->msg_type, type);
		assert_int_equal(r->hop_count, want[i].hop_count);
		assert_memory_equal(r->link_address, want[i].link_address, 16);
		assert_memory_equal(r->peer_address, want[i].peer_address, 16);
		if (want[i].interface_id.p)
			assert_blob(r->interface_id, want[i].interface_id.p, want[i].interface_id.len);
		else
			assert_null(r->interface_id.p);
	}
}

static void test_relay_nested(void **state)
{
	static struct ib_dhcp6_msg m, m2;
	static struct ib_dhcp6_out o;
	static uint8_t inner[1024], buf[2048], reply[1024];
	struct ib_dhcp6_relay chain[3];
	struct ib_dhcp6_ia_na ia[2];
	uint8_t dns[2][16], ntp[1][16];
	struct ib_dhcp6_wrap w;
	size_t inner_len, len, reply_len;

	make_chain(chain);
	solicit_out(&o, ia);
	assert_int_equal(ib_dhcp6_build(&o, inner, sizeof(inner), &inner_len), 0);
	w = (struct ib_dhcp6_wrap){ IB_DHCP6_RELAY_FORW, chain, 3, { inner, inner_len } };
	assert_int_equal(ib_dhcp6_build_relay(&w, buf, sizeof(buf), &len), 0);
	assert_int_equal(ib_dhcp6_parse(buf, len, &m), 0);
	check_chain(&m, chain, IB_DHCP6_RELAY_FORW);
	assert_blob(m.relays[2].remote_id, chain[2].remote_id.p, 6);
	assert_blob(m.relays[2].lladdr, test_mac, 6);
	assert_int_equal(m.msg_type, IB_DHCP6_SOLICIT);
	assert_blob(m.inner, inner, inner_len);
	assert_true(m.user_class_ipxe);

	/* RFC 8415 19.3: the reply goes back through every level. */
	reply_out(&o, ia, dns, ntp);
	o.xid = m.xid;
	assert_int_equal(ib_dhcp6_build(&o, reply, sizeof(reply), &reply_len), 0);
	w = (struct ib_dhcp6_wrap){ IB_DHCP6_RELAY_REPL, m.relays, m.n_relays,
				    { reply, reply_len } };
	assert_int_equal(ib_dhcp6_build_relay(&w, buf, sizeof(buf), &len), 0);
	/* Outermost first: 34-byte header, Interface-Id "outer", Relay Message. */
	assert_int_equal(buf[0], IB_DHCP6_RELAY_REPL);
	assert_memory_equal(buf + 34, "\0\x12\0\x05outer\0\x09", 11);
	assert_int_equal(ib_dhcp6_parse(buf, len, &m2), 0);
	check_chain(&m2, chain, IB_DHCP6_RELAY_REPL);
	assert_null(m2.relays[2].remote_id.p);	/* not echoed: RFC 4649 3 */
	assert_null(m2.relays[2].lladdr.p);
	assert_int_equal(m2.msg_type, IB_DHCP6_REPLY);
	assert_blob(m2.inner, reply, reply_len);
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(ib_dhcp6_build_relay(&w, buf, cap, &len), -ENOBUFS);
	w.n_relays = 0;
	assert_int_equal(ib_dhcp6_build_relay(&w, buf, sizeof(buf), &len), -EINVAL);
	w.n_relays = 1;
	w.msg_type = IB_DHCP6_REPLY;
	assert_int_equal(ib_dhcp6_build_relay(&w, buf, sizeof(buf), &len), -EINVAL);
}

/* Wraps a SOLICIT in n plain relay levels. */
static int parse_depth(size_t n, struct ib_dhcp6_msg *m)
{
	static uint8_t inner[256], buf[1024];
	struct ib_dhcp6_relay chain[IB_DHCP6_MAX_RELAYS + 1];
	static struct ib_dhcp6_out o;
	struct ib_dhcp6_ia_na ia;
	struct ib_dhcp6_wrap w;
	size_t inner_len, len;

	solicit_out(&o, &ia);
	assert_int_equal(ib_dhcp6_build(&o, inner, sizeof(inner), &inner_len), 0);
	memset(chain, 0, sizeof(chain));
	if (n <= IB_DHCP6_MAX_RELAYS) {
		w = (struct ib_dhcp6_wrap){ IB_DHCP6_RELAY_FORW, chain, n, { inner, inner_len } };
		assert_int_equal(ib_dhcp6_build_relay(&w, buf, sizeof(buf), &len), 0);
		return ib_dhcp6_parse(buf, len, m);
	}
	/* The builder refuses a ninth level: add it by hand. */
	w = (struct ib_dhcp6_wrap){ IB_DHCP6_RELAY_FORW, chain, n - 1, { inner, inner_len } };
	assert_int_equal(ib_dhcp6_build_relay(&w, buf + 38, sizeof(buf) - 38, &len), 0);
	memset(buf, 0, 34);
	buf[0] = IB_DHCP6_RELAY_FORW;
	memcpy(buf + 34, "\0\x09", 2);
	buf[36] = (uint8_t)(len >> 8);
	buf[37] = (uint8_t)len;
	return ib_dhcp6_parse(buf, len + 38, m);
}

static void test_relay_depth(void **state)
{
	static struct ib_dhcp6_msg m;
	static struct ib_dhcp6_relay chain[IB_DHCP6_MAX_RELAYS + 1];
	struct ib_dhcp6_wrap w = { IB_DHCP6_RELAY_FORW, chain, IB_DHCP6_MAX_RELAYS + 1,
				   { (const uint8_t *)"\x01\0\0\0", 4 } };
	uint8_t buf[512];
	size_t len;

	for (size_t n = 1; n <= IB_DHCP6_MAX_RELAYS; n++) {
		assert_int_equal(parse_depth(n, &m), 0);
		assert_int_equal(m.n_relays, n);
		assert_int_equal(m.msg_type, IB_DHCP6_SOLICIT);
	}
	assert_int_equal(parse_depth(IB_DHCP6_MAX_RELAYS + 1, &m), -EBADMSG);
	assert_int_equal(m.reject, IB_DHCP6_REJ_RELAY_DEPTH);
	assert_int_equal(ib_dhcp6_build_relay(&w, buf, sizeof(buf), &len), -EINVAL);
}

/* ---- Truncations --------------------------------------------------------- */

/* Offsets at which a client message's options end: valid cut points. */
static bool at_boundary(const uint8_t *p, size_t len, size_t cut)
{
	size_t off = IB_DHCP6_HDR_LEN;

	while (off < cut) {
		if (off + 4 > len)
			return false;
		off += 4u + (size_t)(p[off + 2] << 8 | p[off + 3]);
	}
	return off == cut;
}

static void test_truncations(void **state)
{
	static struct ib_dhcp6_msg m;
	static struct ib_dhcp6_out o;
	static uint8_t msg[1024], relayed[2048], cut[2048];
	struct ib_dhcp6_ia_na ia[2];
	struct ib_dhcp6_relay chain[3];
	uint8_t dns[2][16], ntp[1][16];
	struct ib_dhcp6_wrap w;
	size_t mlen, rlen;

	reply_out(&o, ia, dns, ntp);
	assert_int_equal(ib_dhcp6_build(&o, msg, sizeof(msg), &mlen), 0);
	make_chain(chain);
	w = (struct ib_dhcp6_wrap){ IB_DHCP6_RELAY_FORW, chain, 3, { msg, mlen } };
	assert_int_equal(ib_dhcp6_build_relay(&w, relayed, sizeof(relayed), &rlen), 0);
	/* Exact-size copies, so ASan sees a read one past the cut. */
	for (size_t n = 0; n < rlen; n++) {
		uint8_t *p = malloc(n ? n : 1);

		memcpy(p, relayed, n);
		if (ib_dhcp6_parse(p, n, &m) != -EBADMSG)
			fail_msg("relayed message cut to %zu accepted", n);
		free(p);
	}
	/* A client message cut between two options is still a message. */
	for (size_t n = 0; n < mlen; n++) {
		int r;

		memcpy(cut, msg, n);
		r = ib_dhcp6_parse(cut, n, &m);
		if (r != (n >= IB_DHCP6_HDR_LEN && at_boundary(msg, mlen, n) ? 0 : -EBADMSG))
			fail_msg("message cut to %zu: %d (%s)", n, r, ib_dhcp6_reject_str(m.reject));
	}
}

/* ---- Rejects ----------------------------------------------------------- */

static void mk_short(struct pkt *p) { pkt_start(p, 1); p->len = 3; }
static void mk_empty(struct pkt *p) { p->len = 0; }
static void mk_type0(struct pkt *p) { pkt_start(p, 0); }
static void mk_type14(struct pkt *p) { pkt_start(p, 14); }
static void mk_oversize(struct pkt *p) { pkt_solicit(p); p->len = IB_DHCP6_MAX_LEN + 1; }
static void mk_opt_hdr_cut(struct pkt *p) { pkt_solicit(p); pkt_put(p, "\0\x08\0", 3); }
static void mk_opt_past_end(struct pkt *p) { pkt_solicit(p); pkt_put(p, "\0\x08\0\x05\0\0", 6); }

static void mk_opt_past_parent(struct pkt *p)
{
	pkt_solicit(p);
	pkt_ia_na_open(p, 1);
	pkt_put(p, "\0\x05\0\x30", 4);	/* IA Address of 48 bytes, in 16 */
	pkt_put(p, "0123456789abcdef", 16);
	pkt_close(p);
	pkt_opt(p, IB_OPT6_ELAPSED_TIME, "\0\0", 2);
}

static void mk_duid(struct pkt *p, size_t n)
{
	uint8_t d[IB_DHCP6_DUID_MAX + 1];

	memset(d, 0x42, sizeof(d));
	pkt_start(p, IB_DHCP6_SOLICIT);
	pkt_opt(p, IB_OPT6_CLIENTID, d, n);
}

static void mk_duid_131(struct pkt *p) { mk_duid(p, 131); }
static void mk_duid_130(struct pkt *p) { mk_duid(p, 130); }
static void mk_duid_2(struct pkt *p) { mk_duid(p, 2); }
static void mk_server_duid_131(struct pkt *p) { mk_duid(p, 10); pkt_opt(p, 2, zeros, 131); }
static void mk_dup_client_id(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 1, duid_ll, 10); }
static void mk_dup_server_id(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 2, duid_ll, 10); pkt_opt(p, 2, duid_ll, 10); }
static void mk_dup_elapsed(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 8, "\0\0", 2); pkt_opt(p, 8, "\0\0", 2); }
static void mk_dup_oro(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 6, "", 0); pkt_opt(p, 6, "", 0); }
static void mk_elapsed_3(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 8, "\0\0\0", 3); }
static void mk_pref_2(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 7, "\0\0", 2); }
static void mk_rapid_1(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 14, "\0", 1); }
static void mk_reconf_1(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 20, "\0", 1); }
static void mk_oro_odd(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 6, "\0\x17\0", 3); }
static void mk_status_1(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 13, "\0", 1); }
static void mk_dns_17(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 23, zeros, 17); }
static void mk_domain_ptr(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 24, "\x03lab\xc0\x00", 6); }
static void mk_domain_noroot(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 24, "\x03lab", 4); }
static void mk_uc_bad(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 15, "\0\x05iPXE", 6); }
static void mk_vc_short(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 16, "\0\0\x01", 3); }
static void mk_vo_short(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 17, "\0\0\x01", 3); }
static void mk_bp_bad(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 60, "\0", 1); }
static void mk_arch_empty(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 61, "", 0); }
static void mk_arch_odd(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 61, "\0\x07\0", 3); }
static void mk_nii_2(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 62, "\x01\x03", 2); }
static void mk_ia_11(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 3, zeros, 11); }
static void mk_ta_3(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 4, "\0\0\0", 3); }
static void mk_ta_nested_cut(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 4, "\0\0\0\x01\0\x05\0\x18", 8); }
static void mk_ntp_cut(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 56, "\0\x01\0\x10", 4); }
static void mk_ntp_15(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 56, "\0\x01\0\x0f" "0123456789abcde", 19); }

static void mk_iaaddr_23(struct pkt *p)
{
	pkt_solicit(p);
	pkt_ia_na_open(p, 1);
	pkt_opt(p, IB_OPT6_IAADDR, zeros, 23);
	pkt_close(p);
}

static void mk_ia_dup_status(struct pkt *p)
{
	pkt_solicit(p);
	pkt_ia_na_open(p, 1);
	pkt_opt(p, IB_OPT6_STATUS_CODE, "\0\x02", 2);
	pkt_opt(p, IB_OPT6_STATUS_CODE, "\0\x02", 2);
	pkt_close(p);
}

static void mk_ias(struct pkt *p, size_t n_ia, size_t n_addr)
{
	uint8_t a[24] = { 0xfd };

	pkt_solicit(p);
	for (size_t i = 0; i < n_ia; i++) {
		pkt_ia_na_open(p, (uint32_t)i);
		for (size_t k = 0; k < n_addr; k++)
			pkt_opt(p, IB_OPT6_IAADDR, a, sizeof(a));
		pkt_close(p);
	}
}

static void mk_ia_9(struct pkt *p) { mk_ias(p, 9, 0); }
static void mk_ia_8x8(struct pkt *p) { mk_ias(p, 8, 8); }
static void mk_addr_9(struct pkt *p) { mk_ias(p, 1, 9); }

static void mk_oro_65(struct pkt *p)
{
	pkt_solicit(p);
	pkt_open(p, IB_OPT6_ORO);
	for (uint16_t i = 0; i < 65; i++)
		pkt_u16(p, i);
	pkt_close(p);
}

/* A relay header (all-zero addresses) for relay reject cases. */
static void pkt_relay(struct pkt *p)
{
	p->len = 0;
	p->n_open = 0;
	memset(p->b, 0, 34);
	p->b[0] = IB_DHCP6_RELAY_FORW;
	p->len = 34;
}

static void mk_relay_33(struct pkt *p) { pkt_relay(p); p->len = 33; }
static void mk_relay_no_msg(struct pkt *p) { pkt_relay(p); pkt_opt(p, 18, "x", 1); }
static void mk_relay_inner_3(struct pkt *p) { pkt_relay(p); pkt_opt(p, 9, "\x01\0\0", 3); }
static void mk_relay_inner_bad(struct pkt *p) { pkt_relay(p); pkt_opt(p, 9, "\x00\0\0\0", 4); }
static void mk_relay_dup_msg(struct pkt *p) { pkt_relay(p); pkt_opt(p, 9, "\x01\0\0\0", 4); pkt_opt(p, 9, "\x01\0\0\0", 4); }
static void mk_relay_dup_ifid(struct pkt *p) { pkt_relay(p); pkt_opt(p, 18, "a", 1); pkt_opt(p, 18, "b", 1); pkt_opt(p, 9, "\x01\0\0\0", 4); }
static void mk_relay_remote_3(struct pkt *p) { pkt_relay(p); pkt_opt(p, 37, "\0\0\0", 3); pkt_opt(p, 9, "\x01\0\0\0", 4); }
static void mk_relay_ll_1(struct pkt *p) { pkt_relay(p); pkt_opt(p, 79, "\0", 1); pkt_opt(p, 9, "\x01\0\0\0", 4); }
static void mk_relay_ok(struct pkt *p) { pkt_relay(p); pkt_opt(p, 9, "\x01\0\0\0", 4); pkt_opt(p, 0x4242, "", 0); }
static void mk_relay_inner_cut(struct pkt *p) { pkt_relay(p); pkt_opt(p, 9, "\x01\0\0\0\0\x01\0\x05", 8); }

static void mk_unknown(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 0xfffe, "abc", 3); pkt_opt(p, 0xfffe, "", 0); }
static void mk_relay_opts_in_client(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 9, "\x01", 1); pkt_opt(p, 18, "", 0); }
static void mk_bare(struct pkt *p) { pkt_start(p, IB_DHCP6_INFORMATION_REQUEST); }
static void mk_ta_ok(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 4, "\0\0\0\x01\0\x0d\0\x02\0\0", 10); pkt_opt(p, 4, "\0\0\0\x02", 4); }
static void mk_ntp_other(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 56, "\0\x03\0\x05\x03lab\x00\0\x09\0\0", 13); }
static void mk_max_len(struct pkt *p) { pkt_solicit(p); pkt_opt(p, 0x4242, zeros, IB_DHCP6_MAX_LEN - p->len - 4); }

/* A crafted message and the verdict it must get. */
struct reject_case {
	const char *name;			/* for failures */
	void (*make)(struct pkt *p);		/* crafts the message */
	enum ib_dhcp6_reject want;		/* IB_DHCP6_OK: accepted */
};

static const struct reject_case reject_cases[] = {
	{ "3 bytes", mk_short, IB_DHCP6_REJ_SHORT },
	{ "0 bytes", mk_empty, IB_DHCP6_REJ_SHORT },
	{ "relay header 33 bytes", mk_relay_33, IB_DHCP6_REJ_SHORT },
	{ "relayed message of 3 bytes", mk_relay_inner_3, IB_DHCP6_REJ_SHORT },
	{ "65528 bytes", mk_oversize, IB_DHCP6_REJ_OVERSIZE },
	{ "msg-type 0", mk_type0, IB_DHCP6_REJ_BAD_TYPE },
	{ "msg-type 14", mk_type14, IB_DHCP6_REJ_BAD_TYPE },
	{ "relayed msg-type 0", mk_relay_inner_bad, IB_DHCP6_REJ_BAD_TYPE },
	{ "option header cut", mk_opt_hdr_cut, IB_DHCP6_REJ_OPT_TRUNC },
	{ "option past end", mk_opt_past_end, IB_DHCP6_REJ_OPT_TRUNC },
	{ "option past its IA_NA", mk_opt_past_parent, IB_DHCP6_REJ_OPT_TRUNC },
	{ "IA_TA nested option cut", mk_ta_nested_cut, IB_DHCP6_REJ_OPT_TRUNC },
	{ "NTP sub-option cut", mk_ntp_cut, IB_DHCP6_REJ_OPT_TRUNC },
	{ "relayed option cut", mk_relay_inner_cut, IB_DHCP6_REJ_OPT_TRUNC },
	{ "two client ids", mk_dup_client_id, IB_DHCP6_REJ_DUP_OPT },
	{ "two server ids", mk_dup_server_id, IB_DHCP6_REJ_DUP_OPT },
	{ "two elapsed times", mk_dup_elapsed, IB_DHCP6_REJ_DUP_OPT },
	{ "two ORO", mk_dup_oro, IB_DHCP6_REJ_DUP_OPT },
	{ "two statuses in an IA", mk_ia_dup_status, IB_DHCP6_REJ_DUP_OPT },
	{ "two relay messages", mk_relay_dup_msg, IB_DHCP6_REJ_DUP_OPT },
	{ "two interface ids", mk_relay_dup_ifid, IB_DHCP6_REJ_DUP_OPT },
	{ "elapsed of 3", mk_elapsed_3, IB_DHCP6_REJ_BAD_OPT },
	{ "preference of 2", mk_pref_2, IB_DHCP6_REJ_BAD_OPT },
	{ "rapid commit of 1", mk_rapid_1, IB_DHCP6_REJ_BAD_OPT },
	{ "reconfigure accept of 1", mk_reconf_1, IB_DHCP6_REJ_BAD_OPT },
	{ "ORO of 3", mk_oro_odd, IB_DHCP6_REJ_BAD_OPT },
	{ "status of 1", mk_status_1, IB_DHCP6_REJ_BAD_OPT },
	{ "DNS of 17", mk_dns_17, IB_DHCP6_REJ_BAD_OPT },
	{ "domain compression pointer", mk_domain_ptr, IB_DHCP6_REJ_BAD_OPT },
	{ "domain without root", mk_domain_noroot, IB_DHCP6_REJ_BAD_OPT },
	{ "user class item past end", mk_uc_bad, IB_DHCP6_REJ_BAD_OPT },
	{ "vendor class of 3", mk_vc_short, IB_DHCP6_REJ_BAD_OPT },
	{ "vendor opts of 3", mk_vo_short, IB_DHCP6_REJ_BAD_OPT },
	{ "bootfile param of 1", mk_bp_bad, IB_DHCP6_REJ_BAD_OPT },
	{ "arch empty", mk_arch_empty, IB_DHCP6_REJ_BAD_OPT },
	{ "arch of 3", mk_arch_odd, IB_DHCP6_REJ_BAD_OPT },
	{ "NII of 2", mk_nii_2, IB_DHCP6_REJ_BAD_OPT },
	{ "IA_NA of 11", mk_ia_11, IB_DHCP6_REJ_BAD_OPT },
	{ "IA Address of 23", mk_iaaddr_23, IB_DHCP6_REJ_BAD_OPT },
	{ "IA_TA of 3", mk_ta_3, IB_DHCP6_REJ_BAD_OPT },
	{ "NTP address of 15", mk_ntp_15, IB_DHCP6_REJ_BAD_OPT },
	{ "remote id of 3", mk_relay_remote_3, IB_DHCP6_REJ_BAD_OPT },
	{ "link-layer option of 1", mk_relay_ll_1, IB_DHCP6_REJ_BAD_OPT },
	{ "client DUID of 131", mk_duid_131, IB_DHCP6_REJ_DUID },
	{ "client DUID of 2", mk_duid_2, IB_DHCP6_REJ_DUID },
	{ "server DUID of 131", mk_server_duid_131, IB_DHCP6_REJ_DUID },
	{ "9 IA_NA", mk_ia_9, IB_DHCP6_REJ_TOO_MANY },
	{ "9 addresses", mk_addr_9, IB_DHCP6_REJ_TOO_MANY },
	{ "65 ORO codes", mk_oro_65, IB_DHCP6_REJ_TOO_MANY },
	{ "relay without message", mk_relay_no_msg, IB_DHCP6_REJ_RELAY_NO_MSG },
	{ "client DUID of 130", mk_duid_130, IB_DHCP6_OK },
	{ "8 IA_NA of 8 addresses", mk_ia_8x8, IB_DHCP6_OK },
	{ "unknown options", mk_unknown, IB_DHCP6_OK },
	{ "relay options in a client message", mk_relay_opts_in_client, IB_DHCP6_OK },
	{ "header only", mk_bare, IB_DHCP6_OK },
	{ "IA_TA well formed", mk_ta_ok, IB_DHCP6_OK },
	{ "NTP FQDN and unknown sub-option", mk_ntp_other, IB_DHCP6_OK },
	{ "relay with unknown option", mk_relay_ok, IB_DHCP6_OK },
	{ "65527 bytes", mk_max_len, IB_DHCP6_OK },
};

static void test_rejects(void **state)
{
	static struct ib_dhcp6_msg m;
	static struct pkt p;

	for (size_t i = 0; i < IB_ARRAY_SIZE(reject_cases); i++) {
		const struct reject_case *c = &reject_cases[i];
		int r;

		c->make(&p);
		r = parse(&p, &m);
		if (r != (c->want ? -EBADMSG : 0) || m.reject != c->want)
			fail_msg("%s: r=%d reject=%s, want %s", c->name, r,
				 ib_dhcp6_reject_str(m.reject), ib_dhcp6_reject_str(c->want));
	}
}

static void test_reject_str(void **state)
{
	for (int i = 0; i < IB_DHCP6_REJ__MAX; i++) {
		assert_string_not_equal(ib_dhcp6_reject_str(i), "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(ib_dhcp6_reject_str(i), ib_dhcp6_reject_str(j));
	}
	assert_string_equal(ib_dhcp6_reject_str(IB_DHCP6_REJ__MAX), "unknown");
}

/* ---- Options in detail ------------------------------------------------- */

static void test_user_class(void **state)
{
	static const struct { const char *v; size_t len; bool want; } cases[] = {
		{ "\0\x04iPXE", 6, true },
		{ "\0\x03" "foo\0\x04iPXE", 11, true },		/* second item */
		{ "\0\x05iPXEx", 7, false },
		{ "\0\x04ipxe", 6, false },			/* case matters */
		{ "\0\0", 2, false },
		{ "", 0, false },
	};
	static struct ib_dhcp6_msg m;
	static struct pkt p;

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		pkt_solicit(&p);
		pkt_opt(&p, IB_OPT6_USER_CLASS, cases[i].v, cases[i].len);
		assert_int_equal(parse(&p, &m), 0);
		if (m.user_class_ipxe != cases[i].want)
			fail_msg("user class case %zu", i);
	}
	pkt_solicit(&p);
	pkt_opt(&p, IB_OPT6_USER_CLASS, "iPXE", 4);	/* not RFC 8415 21.15 */
	assert_int_equal(parse(&p, &m), -EBADMSG);
	assert_int_equal(m.reject, IB_DHCP6_REJ_BAD_OPT);
}

static void test_items(void **state)
{
	struct ib_dhcp6_blob out[3];
	struct ib_dhcp6_blob w = { (const uint8_t *)"\0\x01" "a\0\0\0\x02" "bc", 9 };
	size_t n;

	assert_int_equal(ib_dhcp6_items(w, out, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_blob_str(out[0], "a");
	assert_int_equal(out[1].len, 0);
	assert_blob_str(out[2], "bc");
	assert_int_equal(ib_dhcp6_items(w, out, 2, &n), -ENOBUFS);
	w.len = 8;
	assert_int_equal(ib_dhcp6_items(w, out, 3, &n), -EBADMSG);
	w.len = 0;
	assert_int_equal(ib_dhcp6_items(w, out, 3, &n), 0);
	assert_int_equal(n, 0);
}

static void test_find_opt(void **state)
{
	static struct ib_dhcp6_msg m;
	static struct pkt p;
	struct ib_dhcp6_blob b;

	pkt_solicit(&p);
	pkt_opt(&p, 0x1234, "abc", 3);
	pkt_opt(&p, 0x1234, "de", 2);
	assert_int_equal(parse(&p, &m), 0);
	assert_int_equal(ib_dhcp6_find_opt(&m, 0x1234, &b), 0);
	assert_blob_str(b, "abc");
	assert_int_equal(ib_dhcp6_find_opt(&m, IB_OPT6_CLIENTID, &b), 0);
	assert_blob(b, duid_ll, sizeof(duid_ll));
	assert_int_equal(ib_dhcp6_find_opt(&m, IB_OPT6_SERVERID, &b), -ENOENT);
}

/* ---- DUIDs and EUI-64 -------------------------------------------------- */

/* A DUID and what the helpers must say about it. */
struct duid_case {
	const char *name;	/* for failures */
	const char *duid;	/* bytes */
	size_t len;		/* their count */
	int classify;		/* 0 or -EBADMSG */
	uint16_t type;		/* when classify is 0 */
	int mac;		/* ib_dhcp6_duid_mac() result */
};

static const struct duid_case duid_cases[] = {
	{ "LLT ethernet", "\0\x01\0\x01\x2c\x0f\xfe\xe0RT\0\xa1\xb2\xc3", 14, 0, IB_DUID_LLT, 0 },
	{ "LL ethernet", "\0\x03\0\x01RT\0\xa1\xb2\xc3", 10, 0, IB_DUID_LL, 0 },
	{ "LL infiniband", "\0\x03\0\x20" "0123456789abcdef0123", 24, 0, IB_DUID_LL, -ENOENT },
	{ "LL ethernet of 5", "\0\x03\0\x01RT\0\xa1\xb2", 9, 0, IB_DUID_LL, -ENOENT },
	{ "LLT without address", "\0\x01\0\x01\0\0\0\0", 8, -EBADMSG, 0, -EBADMSG },
	{ "EN", "\0\x02\0\0\x01\x57" "abc", 9, 0, IB_DUID_EN, -ENOENT },
	{ "EN without id", "\0\x02\0\0\x01\x57", 6, -EBADMSG, 0, -EBADMSG },
	{ "UUID", "\0\x04LLED\0\x35\x10\x53\x80\x53\xb4\xc0OMD3", 18, 0, IB_DUID_UUID, -ENOENT },
	{ "UUID of 17", "\0\x04LLED\0\x35\x10\x53\x80\x53\xb4\xc0OMD", 17, -EBADMSG, 0, -EBADMSG },
	{ "unknown type", "\x12\x34\x56", 3, 0, 0x1234, -ENOENT },
	{ "2 octets", "\0\x03", 2, -EBADMSG, 0, -EBADMSG },
};

static void test_duid(void **state)
{
	static const uint8_t uuid[16] = { 0x4c, 0x4c, 0x45, 0x44, 0, 0x35, 0x10, 0x53,
					  0x80, 0x53, 0xb4, 0xc0, 0x4f, 0x4d, 0x44, 0x33 };
	uint8_t mac[6], buf[32];
	uint16_t type;
	size_t len;

	for (size_t i = 0; i < IB_ARRAY_SIZE(duid_cases); i++) {
		const struct duid_case *c = &duid_cases[i];
		const uint8_t *d = (const uint8_t *)c->duid;

		print_message("duid %s\n", c->name);
		type = 0xffff;
		assert_int_equal(ib_dhcp6_duid_classify(d, c->len, &type), c->classify);
		if (c->classify == 0)
			assert_int_equal(type, c->type);
		assert_int_equal(ib_dhcp6_duid_mac(d, c->len, mac), c->mac);
		if (c->mac == 0)
			assert_memory_equal(mac, test_mac, 6);
	}
	assert_int_equal(ib_dhcp6_duid_llt(test_mac, 0x2c0ffee0, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 14);
	assert_memory_equal(buf, duid_cases[0].duid, 14);
	assert_int_equal(ib_dhcp6_duid_llt(test_mac, 0, buf, 13, &len), -ENOBUFS);
	assert_int_equal(ib_dhcp6_duid_uuid(uuid, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 18);
	assert_memory_equal(buf, duid_cases[7].duid, 18);
	assert_int_equal(ib_dhcp6_duid_classify(buf, len, &type), 0);
	assert_int_equal(type, IB_DUID_UUID);
	assert_int_equal(ib_dhcp6_duid_uuid(uuid, buf, 17, &len), -ENOBUFS);
}

static void test_eui64(void **state)
{
	static const struct { const char *addr; int r; const char *mac; } cases[] = {
		{ "fe80::5054:ff:fea1:b2c3", 0, "\x52\x54\x00\xa1\xb2\xc3" },
		{ "fe80::ff:fe00:1", 0, "\x02\x00\x00\x00\x00\x01" },	/* U/L flipped */
		{ "fe80::200:ff:fe00:1", 0, "\x00\x00\x00\x00\x00\x01" },
		{ "fd00:b007::5054:ff:fea1:b2c3", -ENOENT, NULL },	/* not link-local */
		{ "fe80:0:0:1:5054:ff:fea1:b2c3", -ENOENT, NULL },	/* not fe80::/64 */
		{ "fe80::5054:ff:fe1:b2c3", -ENOENT, NULL },		/* no ff:fe */
		{ "fe80::1", -ENOENT, NULL },
	};
	uint8_t a[16], mac[6];

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		a6(cases[i].addr, a);
		if (ib_dhcp6_eui64_mac(a, mac) != cases[i].r)
			fail_msg("eui64 %s", cases[i].addr);
		if (cases[i].r == 0)
			assert_memory_equal(mac, cases[i].mac, 6);
	}
}

/* ---- Domain lists (option 24) ------------------------------------------- */

static void test_domains(void **state)
{
	static const uint8_t want[] = {
		3, 'l', 'a', 'b', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,	/* no compression */
		5, '_', 'l', 'd', 'a', 'p', 1, 'x', 0,
	};
	const char *names[] = { "lab.example", "example.", "_ldap.x" };
	uint8_t buf[64];
	char text[64];
	size_t len;

	assert_int_equal(ib_dhcp6_domains_encode(names, 3, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(ib_dhcp6_domains_check(buf, len), 0);
	assert_int_equal(ib_dhcp6_domains_decode(buf, len, text, sizeof(text)), 0);
	assert_string_equal(text, "lab.example example _ldap.x");
	assert_int_equal(ib_dhcp6_domains_encode(names, 3, buf, sizeof(want) - 1, &len), -ENOBUFS);
	assert_int_equal(ib_dhcp6_domains_decode(want, sizeof(want), text, 12), -ENOBUFS);
	assert_int_equal(ib_dhcp6_domains_encode(names, 0, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 0);
}

static void test_domains_bad(void **state)
{
	static const struct { const char *v; size_t len; int check; } wire[] = {
		{ "\xc0\x00", 2, -EBADMSG },			/* pointer */
		{ "\x01" "a\xc0\x00", 4, -EBADMSG },
		{ "\x05" "ab", 3, -EBADMSG },			/* label past end */
		{ "\x01" "a", 2, -EBADMSG },			/* no root label */
		{ "\x00", 1, -EBADMSG },			/* root only */
		{ "\x41" "a\x00", 3, -EBADMSG },		/* 0x40 label type */
		{ "\x02" "a.\x00", 4, 0 },			/* structure ok, text not */
	};
	char l64[80], n254[260], n253[260], text[300];
	const char *bad[] = { "", ".", "a..b", ".a", "bad char", "a/b", l64, n254 };
	const char *ok[] = { n253 };
	uint8_t buf[512];
	size_t len;

	for (size_t i = 0; i < IB_ARRAY_SIZE(wire); i++) {
		const uint8_t *v = (const uint8_t *)wire[i].v;

		if (ib_dhcp6_domains_check(v, wire[i].len) != wire[i].check)
			fail_msg("wire case %zu check", i);
		if (ib_dhcp6_domains_decode(v, wire[i].len, text, sizeof(text)) != -EBADMSG)
			fail_msg("wire case %zu decoded", i);
	}
	memset(l64, 'x', 64);
	strcpy(l64 + 64, ".com");
	memset(n253, 'a', 253);
	n253[63] = n253[127] = n253[191] = '.';
	n253[253] = '\0';
	strcpy(n254, n253);
	strcat(n254, "a");
	for (size_t i = 0; i < IB_ARRAY_SIZE(bad); i++)
		if (ib_dhcp6_domains_encode(&bad[i], 1, buf, sizeof(buf), &len) != -EINVAL)
			fail_msg("bad name %zu accepted", i);
	assert_int_equal(ib_dhcp6_domains_encode(ok, 1, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 255);	/* RFC 1035 2.3.4: the wire maximum */
	assert_int_equal(ib_dhcp6_domains_check(buf, len), 0);
	/* Labels of 63, 63, 63 and 62 octets: 256 on the wire, one too many. */
	memset(buf, 'a', sizeof(buf));
	buf[0] = buf[64] = buf[128] = 63;
	buf[192] = 62;
	buf[255] = 0;
	assert_int_equal(ib_dhcp6_domains_check(buf, 256), -EBADMSG);
	assert_int_equal(ib_dhcp6_domains_decode(buf, 256, text, sizeof(text)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_round_trip_reply),
		cmocka_unit_test(test_advertise_wire),
		cmocka_unit_test(test_round_trip_client),
		cmocka_unit_test(test_build_invalid),
		cmocka_unit_test(test_relay_nested),
		cmocka_unit_test(test_relay_depth),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_reject_str),
		cmocka_unit_test(test_user_class),
		cmocka_unit_test(test_items),
		cmocka_unit_test(test_find_opt),
		cmocka_unit_test(test_duid),
		cmocka_unit_test(test_eui64),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_domains_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
