/*
 * Router Advertisement codec (ra_codec.h).
 */
#include "dhcp6/ra_codec.h"

#include <errno.h>
#include <string.h>

#include "common/cursor.h"

#define OPT_SRC_LLADDR 1		/* RFC 4861 4.6.1 */
#define OPT_PREFIX 3			/* RFC 4861 4.6.2 */
#define FLAG_M 0x80
#define FLAG_O 0x40
#define PFX_L 0x80
#define PFX_A 0x40

int ib_ra_build(const struct ib_ra *ra, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct ib_wbuf w;

	if (ra->n_prefixes > IB_RA_MAX_PREFIXES)
		return -ENOBUFS;
	ib_wbuf_init(&w, buf, cap);
	/* RFC 4861 4.2: type, code, checksum, hop limit, M|O, lifetime, 2 timers */
	ib_wbuf_u8(&w, IB_ICMP6_RA);
	ib_wbuf_u8(&w, 0);
	ib_wbuf_u16be(&w, 0);
	ib_wbuf_u8(&w, ra->hop_limit);
	ib_wbuf_u8(&w, (uint8_t)((ra->managed ? FLAG_M : 0) | (ra->other ? FLAG_O : 0)));
	ib_wbuf_u16be(&w, ra->router_lifetime);
	ib_wbuf_u32be(&w, 0);		/* reachable time: unspecified */
	ib_wbuf_u32be(&w, 0);		/* retrans timer: unspecified */
	if (ra->has_lladdr) {
		ib_wbuf_u8(&w, OPT_SRC_LLADDR);
		ib_wbuf_u8(&w, 1);	/* in units of 8 octets */
		ib_wbuf_bytes(&w, ra->lladdr, 6);
	}
	for (size_t i = 0; i < ra->n_prefixes; i++) {
		const struct ib_ra_prefix *p = &ra->prefixes[i];

		ib_wbuf_u8(&w, OPT_PREFIX);
		ib_wbuf_u8(&w, 4);
		ib_wbuf_u8(&w, p->len);
		ib_wbuf_u8(&w, (uint8_t)((p->on_link ? PFX_L : 0) | (p->autonomous ? PFX_A : 0)));
		ib_wbuf_u32be(&w, p->valid);
		ib_wbuf_u32be(&w, p->preferred);
		ib_wbuf_u32be(&w, 0);	/* reserved */
		ib_wbuf_bytes(&w, p->prefix, 16);
	}
	if (ib_wbuf_status(&w) < 0)
		return -ENOBUFS;
	*ret_len = w.len;
	return 0;
}

static int parse_prefix(struct ib_cursor *c, struct ib_ra *ra)
{
	struct ib_ra_prefix *p;
	uint8_t flags;

	if (ra->n_prefixes == IB_RA_MAX_PREFIXES)
		return ib_cursor_skip(c, 30);
	p = &ra->prefixes[ra->n_prefixes];
	if (ib_cursor_u8(c, &p->len) < 0 || ib_cursor_u8(c, &flags) < 0 ||
	    ib_cursor_u32be(c, &p->valid) < 0 || ib_cursor_u32be(c, &p->preferred) < 0 ||
	    ib_cursor_skip(c, 4) < 0 || ib_cursor_copy(c, p->prefix, 16) < 0 || p->len > 128)
		return -EBADMSG;
	p->on_link = flags & PFX_L;
	p->autonomous = flags & PFX_A;
	ra->n_prefixes++;
	return 0;
}

int ib_ra_parse(const uint8_t *buf, size_t len, struct ib_ra *ret)
{
	struct ib_ra ra = { 0 };
	struct ib_cursor c;
	uint8_t type, code, flags;
	uint16_t cksum;

	ib_cursor_init(&c, buf, len);
	if (ib_cursor_u8(&c, &type) < 0 || ib_cursor_u8(&c, &code) < 0 ||
	    ib_cursor_u16be(&c, &cksum) < 0 || ib_cursor_u8(&c, &ra.hop_limit) < 0 ||
	    ib_cursor_u8(&c, &flags) < 0 || ib_cursor_u16be(&c, &ra.router_lifetime) < 0 ||
	    ib_cursor_skip(&c, 8) < 0 || type != IB_ICMP6_RA || code != 0)
		return -EBADMSG;
	ra.managed = flags & FLAG_M;
	ra.other = flags & FLAG_O;
	/* RFC 4861 4.6: options are (type, length in 8 octets), length > 0 */
	while (ib_cursor_remaining(&c)) {
		uint8_t t, l;
		struct ib_cursor o;

		if (ib_cursor_u8(&c, &t) < 0 || ib_cursor_u8(&c, &l) < 0 || l == 0 ||
		    ib_cursor_sub(&c, (size_t)l * 8 - 2, &o) < 0)
			return -EBADMSG;
		if (t == OPT_PREFIX && l == 4 && parse_prefix(&o, &ra) < 0)
			return -EBADMSG;
		if (t == OPT_SRC_LLADDR && l == 1 && ib_cursor_copy(&o, ra.lladdr, 6) == 0)
			ra.has_lladdr = true;
	}
	*ret = ra;
	return 0;
}

bool ib_rs_valid(const uint8_t *buf, size_t len)
{
	/* RFC 4861 6.1.1: ICMP code 0, at least 8 octets, options of length > 0 */
	if (len < 8 || buf[0] != IB_ICMP6_RS || buf[1] != 0)
		return false;
	for (size_t off = 8; off < len;) {
		if (len - off < 2 || buf[off + 1] == 0 || (size_t)buf[off + 1] * 8 > len - off)
			return false;
		off += (size_t)buf[off + 1] * 8;
	}
	return true;
}
