/*
 * libFuzzer target for the DHCPv4 codec.
 *
 * Parses the input; a rejected packet must carry a known reason.  An
 * accepted one has every getter run over it, its domain search list (if
 * any) decoded, re-encoded and decoded again, and is rebuilt as a reply
 * from its parsed fields and parsed again: the round trip must give back
 * the same header and option values, and a reply cut to 576 bytes must
 * keep 53/54 and a prefix of the rest.  Any broken property aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4/dhcp4_codec.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define SEARCH_TEXT_MAX 16384
#define SEARCH_NAMES_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_getters(const struct ib_dhcp4_msg *m)
{
	static const uint8_t containers[] = { IB_OPT_RELAY_AGENT, IB_OPT_VENDOR, IB_OPT_IPXE };
	const uint8_t *p, *sp;
	size_t len, slen;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	CHECK(!ib_dhcp4_opt(m, IB_OPT_PAD, NULL, NULL));
	CHECK(!ib_dhcp4_opt(m, IB_OPT_END, NULL, NULL));
	for (unsigned code = 1; code < 255; code++) {
		bool has = ib_dhcp4_opt(m, (uint8_t)code, &p, &len);
		int r8 = ib_dhcp4_opt_u8(m, (uint8_t)code, &u8);
		int r16 = ib_dhcp4_opt_u16(m, (uint8_t)code, &u16);
		int r32 = ib_dhcp4_opt_u32(m, (uint8_t)code, &u32);

		if (!has) {
			CHECK(r8 == -ENOENT && r16 == -ENOENT && r32 == -ENOENT);
			continue;
		}
		CHECK(p >= m->opt_data && p + len <= m->opt_data + m->opt_data_len);
		CHECK((r8 == 0) == (len == 1) && (r16 == 0) == (len == 2) &&
		      (r32 == 0) == (len == 4));
		CHECK(ib_dhcp4_opt_ip(m, (uint8_t)code, &u32) == r32);
	}
	for (size_t i = 0; i < sizeof(containers); i++) {
		for (unsigned sub = 1; sub < 255; sub++) {
			if (ib_dhcp4_subopt(m, containers[i], (uint8_t)sub, &sp, &slen) < 0)
				continue;
			CHECK(ib_dhcp4_opt(m, containers[i], &p, &len));
			CHECK(sp >= p && sp + slen <= p + len);
		}
	}
	(void)ib_dhcp4_user_class_has(m, "iPXE");
	(void)ib_dhcp4_user_class_has(m, "");
}

/* Decoded option 119 survives encode + decode unchanged. */
static void check_search(const struct ib_dhcp4_msg *m)
{
	static char text[SEARCH_TEXT_MAX], text2[SEARCH_TEXT_MAX];
	static const char *names[SEARCH_NAMES_MAX];
	static uint8_t wire[SEARCH_TEXT_MAX];
	const uint8_t *p;
	size_t len, n = 0, wlen;
	char *s, *save = NULL;

	if (!ib_dhcp4_opt(m, IB_OPT_DOMAIN_SEARCH, &p, &len) ||
	    ib_dhcp4_decode_search(p, len, text, sizeof(text)) < 0)
		return;
	memcpy(text2, text, sizeof(text));
	for (s = strtok_r(text2, " ", &save); s; s = strtok_r(NULL, " ", &save)) {
		CHECK(n < SEARCH_NAMES_MAX);
		names[n++] = s;
	}
	CHECK(ib_dhcp4_encode_search(names, n, wire, sizeof(wire), &wlen) == 0);
	CHECK(ib_dhcp4_decode_search(wire, wlen, text2, sizeof(text2)) == 0);
	CHECK(strcmp(text, text2) == 0);
}

/* A reply carrying m's header and every option that fits the out. */
static void make_reply(const struct ib_dhcp4_msg *m, struct ib_dhcp4_out *o,
		       bool added[256])
{
	const uint8_t *p;
	size_t len;

	ib_dhcp4_out_init(o);
	o->op = IB_DHCP4_BOOTREPLY;
	o->htype = m->htype;
	o->hlen = m->hlen;
	o->hops = m->hops;
	o->xid = m->xid;
	o->secs = m->secs;
	o->flags = m->flags;
	o->ciaddr = m->ciaddr;
	o->yiaddr = m->yiaddr;
	o->siaddr = m->siaddr;
	o->giaddr = m->giaddr;
	memcpy(o->chaddr, m->chaddr, sizeof(o->chaddr));
	if (!m->overload) {
		memcpy(o->sname, m->sname, sizeof(o->sname) - 1);
		memcpy(o->file, m->file, sizeof(o->file) - 1);
	}
	memset(added, 0, 256);
	for (unsigned code = 1; code < 255; code++) {
		if (code == IB_OPT_OVERLOAD || !ib_dhcp4_opt(m, (uint8_t)code, &p, &len))
			continue;
		added[code] = ib_dhcp4_out_add(o, (uint8_t)code, p, len) == 0;
	}
}

static void check_same_value(const struct ib_dhcp4_msg *a, const struct ib_dhcp4_msg *b,
			     uint8_t code)
{
	const uint8_t *pa, *pb;
	size_t la, lb;

	CHECK(ib_dhcp4_opt(a, code, &pa, &la) && ib_dhcp4_opt(b, code, &pb, &lb));
	CHECK(la == lb && memcmp(pa, pb, la) == 0);
}

static void check_round_trip(const struct ib_dhcp4_msg *m)
{
	static struct ib_dhcp4_msg m2;
	static struct ib_dhcp4_out o;
	static uint8_t buf[IB_DHCP4_MAX_LEN];
	bool added[256], cut = false;
	size_t len;

	make_reply(m, &o, added);
	CHECK(ib_dhcp4_build(&o, 65535, buf, sizeof(buf), &len) == 0);
	CHECK(len >= IB_DHCP4_BOOTP_MIN && len <= sizeof(buf));
	CHECK(ib_dhcp4_parse(buf, len, &m2) == 0);
	CHECK(m2.op == IB_DHCP4_BOOTREPLY && m2.htype == m->htype && m2.hlen == m->hlen);
	CHECK(m2.xid == m->xid && m2.secs == m->secs && m2.flags == m->flags);
	CHECK(m2.ciaddr == m->ciaddr && m2.yiaddr == m->yiaddr &&
	      m2.siaddr == m->siaddr && m2.giaddr == m->giaddr);
	CHECK(memcmp(m2.chaddr, m->chaddr, sizeof(m->chaddr)) == 0);
	CHECK(strncmp((char *)m2.sname, o.sname, sizeof(o.sname)) == 0);
	CHECK(strncmp((char *)m2.file, o.file, sizeof(o.file)) == 0);
	CHECK(m2.overload == 0 && m2.type == (added[IB_OPT_MSG_TYPE] ? m->type : 0));
	for (unsigned code = 1; code < 255; code++) {
		if (added[code])
			check_same_value(m, &m2, (uint8_t)code);
		else
			CHECK(!ib_dhcp4_opt(&m2, (uint8_t)code, NULL, NULL));
	}

	/* At 576 bytes: 53 and 54 stay (or -ENOBUFS), the rest is a prefix. */
	if (ib_dhcp4_build(&o, 576, buf, sizeof(buf), &len) < 0)
		return;
	CHECK(len <= 576 - 28 && ib_dhcp4_parse(buf, len, &m2) == 0);
	for (size_t i = 0; i < o.n_opts; i++) {
		uint8_t code = o.opts[i].code;
		bool has = ib_dhcp4_opt(&m2, code, NULL, NULL);

		if (code == IB_OPT_MSG_TYPE || code == IB_OPT_SERVER_ID) {
			CHECK(has);
		} else {
			CHECK(!(has && cut));
			cut = cut || !has;
		}
		if (has)
			check_same_value(m, &m2, code);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ib_dhcp4_msg m;

	if (ib_dhcp4_parse(data, size, &m) < 0) {
		CHECK(m.reject > IB_DHCP4_OK && m.reject < IB_DHCP4_REJ__MAX);
		CHECK(ib_dhcp4_reject_str(m.reject) != NULL);
		return 0;
	}
	CHECK(m.reject == IB_DHCP4_OK);
	check_getters(&m);
	check_search(&m);
	check_round_trip(&m);
	return 0;
}
