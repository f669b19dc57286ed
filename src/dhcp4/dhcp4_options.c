/*
 * Encoders for the structured DHCPv4 option values: the domain search list
 * (option 119) and classless static routes (option 121).  See
 * dhcp4_codec.h.
 */
#include "dhcp4/dhcp4_codec.h"

#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "common/dns_name.h"
#include "common/text.h"
#include "common/util.h"

#define NAME_MAX_WIRE 255
#define PTR_HOPS_MAX 128	/* belt and braces, see decode_name() */

/* ---- Option 119: domain search (RFC 3397) ---------------------------- */

/* RFC 3397 2: RFC 1035 names with compression pointers. */
int ib_dhcp4_encode_search(const char *const *names, size_t n, uint8_t *buf,
			   size_t cap, size_t *ret_len)
{
	return ib_dns_names_encode(names, n, true, buf, cap, ret_len);
}

/*
 * Decodes the name starting at *pos, appending it to out as dotted text,
 * and moves *pos past it.  Every pointer must point before the previous
 * one (or before the name's start for the first), so a chain of pointers
 * strictly decreases and ends; names are held to 255 octets on the wire.
 */
static int decode_name(const uint8_t *p, size_t len, size_t *pos, struct ib_text *out)
{
	size_t cur = *pos, limit = *pos, wire = 1, next = 0;
	unsigned hops = 0;
	int r;

	for (;;) {
		uint8_t b;

		if (cur >= len)
			return -EBADMSG;
		b = p[cur];
		if (b == 0) {
			if (wire == 1)
				return -EBADMSG;	/* the root is no search domain */
			*pos = next ? next : cur + 1;
			return 0;
		}
		if ((b & 0xc0) == 0xc0) {
			size_t ptr;

			if (cur + 1 >= len)
				return -EBADMSG;
			ptr = (size_t)(b & 0x3f) << 8 | p[cur + 1];
			if (ptr >= limit || ++hops > PTR_HOPS_MAX)
				return -EBADMSG;
			if (!next)
				next = cur + 2;
			limit = cur = ptr;
			continue;
		}
		if (b > IB_DNS_LABEL_MAX || b >= len - cur)
			return -EBADMSG;	/* 0x40/0x80: no such labels in 119 */
		wire += 1u + b;
		if (wire > NAME_MAX_WIRE)
			return -EBADMSG;
		r = ib_text_dns_label(out, p + cur + 1, b, wire == 2u + b);
		if (r < 0)
			return r;
		cur += 1u + b;
	}
}

/*
 * Names are written to out separated by one space (as on a resolv.conf
 * "search" line).  -EBADMSG for malformed input, -ENOBUFS if out is small.
 */
int ib_dhcp4_decode_search(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	struct ib_text t;
	size_t pos = 0;
	int r;

	if (ib_text_init(&t, out, outlen) < 0)
		return -ENOBUFS;
	while (pos < len) {
		if (pos && ib_text_put(&t, " ", 1) < 0)
			return -ENOBUFS;
		r = decode_name(p, len, &pos, &t);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- Option 121: classless static routes (RFC 3442) ------------------ */

/*
 * RFC 3442: each route is the prefix length, the significant octets of
 * the destination (ceil(len / 8)), then the router.  Host bits of the
 * destination are cleared rather than sent.
 */
int ib_dhcp4_encode_routes(const uint32_t *dest, const uint8_t *plen,
			   const uint32_t *gw, size_t n, uint8_t *buf,
			   size_t cap, size_t *ret_len)
{
	struct ib_wbuf w;

	ib_wbuf_init(&w, buf, cap);
	for (size_t i = 0; i < n; i++) {
		uint32_t d;

		if (plen[i] > 32)
			return -EINVAL;
		d = dest[i] & ib_prefix_mask(plen[i]);
		ib_wbuf_u8(&w, plen[i]);
		for (unsigned k = 0; k < (plen[i] + 7u) / 8u; k++)
			ib_wbuf_u8(&w, (uint8_t)(d >> (24 - 8 * k)));
		ib_wbuf_u32be(&w, gw[i]);
	}
	if (ib_wbuf_status(&w) < 0)
		return -ENOBUFS;
	*ret_len = w.len;
	return 0;
}
