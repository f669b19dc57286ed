/* DHCPv4 wire codec: see dhcp4_codec.h. */
#include "dhcp4/dhcp4_codec.h"

#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "common/util.h"

#define UDP_IP_OVERHEAD 28	/* IPv4 header without options + UDP header */
#define SNAME_OFF 44		/* RFC 2131 2: sname and file in the header */
#define SNAME_LEN 64
#define FILE_OFF 108
#define FILE_LEN 128

static const char *const reject_names[IB_DHCP4_REJ__MAX] = {
	[IB_DHCP4_OK] = "ok",
	[IB_DHCP4_REJ_SHORT] = "short",
	[IB_DHCP4_REJ_OVERSIZE] = "oversize",
	[IB_DHCP4_REJ_COOKIE] = "bad-cookie",
	[IB_DHCP4_REJ_OP] = "bad-op",
	[IB_DHCP4_REJ_HW] = "bad-hardware-address",
	[IB_DHCP4_REJ_OPT_TRUNC] = "option-truncated",
	[IB_DHCP4_REJ_OVERLOAD] = "bad-overload",
	[IB_DHCP4_REJ_NO_END] = "no-end",
	[IB_DHCP4_REJ_BAD_OPT] = "bad-option",
	[IB_DHCP4_REJ_NO_TYPE] = "no-message-type",
};

const char *ib_dhcp4_reject_str(enum ib_dhcp4_reject r)
{
	if ((unsigned)r >= IB_DHCP4_REJ__MAX)
		return "unknown";
	return reject_names[r];
}

/* ---- Parsing -------------------------------------------------------- */

/*
 * Options are joined in two passes over the same areas: the first checks
 * the framing and sums the length of every code, which fixes each code's
 * slot in opt_data; the second copies the instances into their slots in
 * wire order.  So a code split over several instances, even across the
 * options, file and sname fields, ends up as one contiguous value
 * (RFC 3396) without a per-instance table.
 */
struct opt_walk {
	struct ib_dhcp4_msg *m;		/* message being filled */
	bool copy;			/* second pass: copy values */
	uint16_t fill[256];		/* second pass: bytes copied per code */
};

static void opt_seen_set(struct ib_dhcp4_msg *m, uint8_t code)
{
	m->opt_seen[code >> 3] |= (uint8_t)(1u << (code & 7));
}

static bool opt_seen_get(const struct ib_dhcp4_msg *m, uint8_t code)
{
	return m->opt_seen[code >> 3] & (1u << (code & 7));
}

/* Takes one instance of code with value v[0..len). */
static void opt_take(struct opt_walk *w, uint8_t code, const uint8_t *v, uint8_t len)
{
	struct ib_dhcp4_msg *m = w->m;

	if (!w->copy) {
		opt_seen_set(m, code);
		m->opt_len[code] = (uint16_t)(m->opt_len[code] + len);
		return;
	}
	/* Slots were sized in the first pass over the same bytes. */
	memcpy(m->opt_data + m->opt_off[code] + w->fill[code], v, len);
	w->fill[code] = (uint16_t)(w->fill[code] + len);
}

/*
 * Walks one options area.  in_options is true for the options field,
 * false for an overloaded file or sname field.
 *
 * END is required in the options field: RFC 2131 4.1 demands it when
 * 52 is present and RFC 2132 3.2 makes END the mark of where valid data
 * stops; real clients always send it (dhclient and udhcpc, see
 * tests/unit/data/dhcp4, then pad), and a missing END usually means a
 * datagram cut short on the way.  Bytes after END are padding, not read.
 * RFC 2131 4.1 wants END in overloaded file and sname too, but those are
 * fixed-size, so their end is unambiguous: reaching it without END is
 * accepted.
 */
static enum ib_dhcp4_reject opt_walk_area(struct opt_walk *w, struct ib_cursor *c,
					  bool in_options)
{
	uint8_t code, len;
	const uint8_t *v;

	while (ib_cursor_u8(c, &code) == 0) {
		if (code == IB_OPT_PAD)
			continue;
		if (code == IB_OPT_END)
			return IB_DHCP4_OK;
		if (ib_cursor_u8(c, &len) < 0 || ib_cursor_bytes(c, len, &v) < 0)
			return IB_DHCP4_REJ_OPT_TRUNC;
		if (code == IB_OPT_OVERLOAD) {
			/*
			 * RFC 2131 4.1: 52 lives in the options field only,
			 * once (a second would join into a 2-byte value).
			 */
			if (!in_options || len != 1 || v[0] < 1 || v[0] > 3 ||
			    (!w->copy && w->m->overload))
				return IB_DHCP4_REJ_OVERLOAD;
			w->m->overload = v[0];
		}
		opt_take(w, code, v, len);
	}
	return in_options ? IB_DHCP4_REJ_NO_END : IB_DHCP4_OK;
}

/*
 * One pass over all areas: options, then file (overload 1 or 3), then
 * sname (2 or 3), the order RFC 3396 gives for joining.
 */
static enum ib_dhcp4_reject opt_walk_all(struct opt_walk *w, const uint8_t *pkt,
					 size_t len)
{
	struct ib_cursor c;
	enum ib_dhcp4_reject r;

	ib_cursor_init(&c, pkt + IB_DHCP4_MIN_LEN, len - IB_DHCP4_MIN_LEN);
	r = opt_walk_area(w, &c, true);
	if (r != IB_DHCP4_OK)
		return r;
	if (w->m->overload & 1) {
		ib_cursor_init(&c, pkt + FILE_OFF, FILE_LEN);
		r = opt_walk_area(w, &c, false);
		if (r != IB_DHCP4_OK)
			return r;
	}
	if (w->m->overload & 2) {
		ib_cursor_init(&c, pkt + SNAME_OFF, SNAME_LEN);
		r = opt_walk_area(w, &c, false);
	}
	return r;
}

/* RFC 2131 2: the fixed BOOTP header, then the RFC 2131 3 magic cookie. */
static enum ib_dhcp4_reject parse_header(struct ib_cursor *c, struct ib_dhcp4_msg *m)
{
	uint32_t cookie = 0;
	int r = 0;

	r |= ib_cursor_u8(c, &m->op);
	r |= ib_cursor_u8(c, &m->htype);
	r |= ib_cursor_u8(c, &m->hlen);
	r |= ib_cursor_u8(c, &m->hops);
	r |= ib_cursor_u32be(c, &m->xid);
	r |= ib_cursor_u16be(c, &m->secs);
	r |= ib_cursor_u16be(c, &m->flags);
	r |= ib_cursor_u32be(c, &m->ciaddr);
	r |= ib_cursor_u32be(c, &m->yiaddr);
	r |= ib_cursor_u32be(c, &m->siaddr);
	r |= ib_cursor_u32be(c, &m->giaddr);
	r |= ib_cursor_copy(c, m->chaddr, sizeof(m->chaddr));
	r |= ib_cursor_copy(c, m->sname, sizeof(m->sname));
	r |= ib_cursor_copy(c, m->file, sizeof(m->file));
	r |= ib_cursor_u32be(c, &cookie);
	if (r)
		return IB_DHCP4_REJ_SHORT;
	if (cookie != IB_DHCP4_MAGIC)
		return IB_DHCP4_REJ_COOKIE;
	if (m->op != IB_DHCP4_BOOTREQUEST && m->op != IB_DHCP4_BOOTREPLY)
		return IB_DHCP4_REJ_OP;
	/* chaddr holds 16 bytes; Ethernet (ARP hardware type 1) is 6. */
	if (m->hlen > sizeof(m->chaddr) || (m->htype == 1 && m->hlen != 6))
		return IB_DHCP4_REJ_HW;
	return IB_DHCP4_OK;
}

/* Lengths no option can legally have, checked on the joined values. */
static enum ib_dhcp4_reject check_options(struct ib_dhcp4_msg *m)
{
	/* RFC 2132 9.6: the message type is exactly one octet. */
	if (opt_seen_get(m, IB_OPT_MSG_TYPE)) {
		if (m->opt_len[IB_OPT_MSG_TYPE] != 1)
			return IB_DHCP4_REJ_BAD_OPT;
		m->type = m->opt_data[m->opt_off[IB_OPT_MSG_TYPE]];
		if (m->type < IB_DHCP4_DISCOVER || m->type > IB_DHCP4_INFORM)
			return IB_DHCP4_REJ_NO_TYPE;
	} else if (m->op == IB_DHCP4_BOOTREQUEST) {
		return IB_DHCP4_REJ_NO_TYPE;	/* plain BOOTP is not served */
	}
	/* RFC 2132 9.14: a client identifier is a type octet plus at least one. */
	if (opt_seen_get(m, IB_OPT_CLIENT_ID) && m->opt_len[IB_OPT_CLIENT_ID] < 2)
		return IB_DHCP4_REJ_BAD_OPT;
	/*
	 * Other fixed-size options (50, 54, 57, ...) are not judged here: the
	 * typed getters answer -EBADMSG and the policy ignores the option.
	 */
	return IB_DHCP4_OK;
}

static int parse_fail(struct ib_dhcp4_msg *m, enum ib_dhcp4_reject r)
{
	m->reject = r;
	return -EBADMSG;
}

int ib_dhcp4_parse(const void *buf, size_t len, struct ib_dhcp4_msg *ret)
{
	struct opt_walk w = { .m = ret };
	struct ib_cursor c;
	enum ib_dhcp4_reject r;
	size_t off = 0;

	memset(ret, 0, offsetof(struct ib_dhcp4_msg, opt_data));
	ret->opt_data_len = 0;
	if (len > IB_DHCP4_MAX_LEN)
		return parse_fail(ret, IB_DHCP4_REJ_OVERSIZE);
	if (!buf || len < IB_DHCP4_MIN_LEN)
		return parse_fail(ret, IB_DHCP4_REJ_SHORT);
	ib_cursor_init(&c, buf, len);
	r = parse_header(&c, ret);
	if (r != IB_DHCP4_OK)
		return parse_fail(ret, r);

	r = opt_walk_all(&w, buf, len);
	if (r != IB_DHCP4_OK)
		return parse_fail(ret, r);
	/* Every value fits: their sum is bounded by len <= IB_DHCP4_MAX_LEN. */
	for (unsigned code = 1; code < IB_OPT_END; code++) {
		if (!opt_seen_get(ret, (uint8_t)code))
			continue;
		ret->opt_off[code] = (uint16_t)off;
		off += ret->opt_len[code];
	}
	ret->opt_data_len = off;
	w.copy = true;
	(void)opt_walk_all(&w, buf, len);

	r = check_options(ret);
	if (r != IB_DHCP4_OK)
		return parse_fail(ret, r);
	return 0;
}

/* ---- Getters -------------------------------------------------------- */

bool ib_dhcp4_opt(const struct ib_dhcp4_msg *m, uint8_t code,
		  const uint8_t **ret_p, size_t *ret_len)
{
	if (!opt_seen_get(m, code))
		return false;
	if (ret_p)
		*ret_p = m->opt_data + m->opt_off[code];
	if (ret_len)
		*ret_len = m->opt_len[code];
	return true;
}

/* The value of code if it is exactly n bytes long. */
static int opt_fixed(const struct ib_dhcp4_msg *m, uint8_t code, size_t n,
		     const uint8_t **ret_p)
{
	size_t len;

	if (!ib_dhcp4_opt(m, code, ret_p, &len))
		return -ENOENT;
	return len == n ? 0 : -EBADMSG;
}

int ib_dhcp4_opt_u8(const struct ib_dhcp4_msg *m, uint8_t code, uint8_t *ret)
{
	const uint8_t *p;
	int r = opt_fixed(m, code, 1, &p);

	if (r == 0)
		*ret = p[0];
	return r;
}

int ib_dhcp4_opt_u16(const struct ib_dhcp4_msg *m, uint8_t code, uint16_t *ret)
{
	const uint8_t *p;
	int r = opt_fixed(m, code, 2, &p);

	if (r == 0)
		*ret = (uint16_t)(p[0] << 8 | p[1]);
	return r;
}

int ib_dhcp4_opt_u32(const struct ib_dhcp4_msg *m, uint8_t code, uint32_t *ret)
{
	const uint8_t *p;
	int r = opt_fixed(m, code, 4, &p);

	if (r == 0)
		*ret = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		       (uint32_t)p[2] << 8 | p[3];
	return r;
}

int ib_dhcp4_opt_ip(const struct ib_dhcp4_msg *m, uint8_t code, uint32_t *ret)
{
	return ib_dhcp4_opt_u32(m, code, ret);
}

/*
 * Sub-options are code/length/value triples (RFC 3046 2.0 for 82, RFC 2132
 * 8.4 for 43, iPXE's encapsulation for 175).  PXE firmware pads option 43
 * with 0 and ends it with 255 as in the options field, so those two codes
 * keep their meaning here; nothing looks them up.  The whole option is
 * checked, so a malformed tail is reported even after a match.
 */
int ib_dhcp4_subopt(const struct ib_dhcp4_msg *m, uint8_t code, uint8_t sub,
		    const uint8_t **ret_p, size_t *ret_len)
{
	const uint8_t *p, *v, *found = NULL;
	uint8_t c, len, found_len = 0;
	struct ib_cursor cur;
	size_t n;

	if (!ib_dhcp4_opt(m, code, &p, &n))
		return -ENOENT;
	ib_cursor_init(&cur, p, n);
	while (ib_cursor_u8(&cur, &c) == 0) {
		if (c == IB_OPT_PAD)
			continue;
		if (c == IB_OPT_END)
			break;
		if (ib_cursor_u8(&cur, &len) < 0 || ib_cursor_bytes(&cur, len, &v) < 0)
			return -EBADMSG;
		if (c == sub && !found) {
			found = v;
			found_len = len;
		}
	}
	if (!found)
		return -ENOENT;
	*ret_p = found;
	*ret_len = found_len;
	return 0;
}

/*
 * RFC 3004 4: option 77 is a list of length-prefixed user classes.  iPXE
 * instead sends the bare string "iPXE", so the whole value is compared too.
 */
bool ib_dhcp4_user_class_has(const struct ib_dhcp4_msg *m, const char *s)
{
	size_t slen = strlen(s), n;
	const uint8_t *p, *v;
	struct ib_cursor c;
	uint8_t len;

	if (!ib_dhcp4_opt(m, IB_OPT_USER_CLASS, &p, &n))
		return false;
	if (n == slen && memcmp(p, s, n) == 0)
		return true;
	ib_cursor_init(&c, p, n);
	while (ib_cursor_u8(&c, &len) == 0) {
		if (ib_cursor_bytes(&c, len, &v) < 0)
			return false;	/* not RFC 3004: only the raw match counts */
		if (len == slen && memcmp(v, s, len) == 0)
			return true;
	}
	return false;
}

/* ---- Building ------------------------------------------------------- */

void ib_dhcp4_out_init(struct ib_dhcp4_out *o)
{
	memset(o, 0, offsetof(struct ib_dhcp4_out, data));
	o->data_len = 0;
}

/*
 * 0 (PAD) and 255 (END) have no value to carry.  52 is refused because
 * the builder never overloads: sname and file always hold text, and a 52
 * would make the client read them as options.
 */
int ib_dhcp4_out_add(struct ib_dhcp4_out *o, uint8_t code, const void *p, size_t len)
{
	struct ib_dhcp4_out_opt *opt;

	if (code == IB_OPT_PAD || code == IB_OPT_END || code == IB_OPT_OVERLOAD)
		return -EINVAL;
	if (o->n_opts >= IB_DHCP4_MAX_OPTS || len > sizeof(o->data) - o->data_len)
		return -ENOBUFS;
	opt = &o->opts[o->n_opts++];
	opt->code = code;
	opt->len = (uint16_t)len;
	opt->off = (uint16_t)o->data_len;
	if (len)
		memcpy(o->data + o->data_len, p, len);
	o->data_len += len;
	return 0;
}

int ib_dhcp4_out_add_u8(struct ib_dhcp4_out *o, uint8_t code, uint8_t v)
{
	return ib_dhcp4_out_add(o, code, &v, 1);
}

int ib_dhcp4_out_add_u16(struct ib_dhcp4_out *o, uint8_t code, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return ib_dhcp4_out_add(o, code, b, sizeof(b));
}

int ib_dhcp4_out_add_u32(struct ib_dhcp4_out *o, uint8_t code, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	return ib_dhcp4_out_add(o, code, b, sizeof(b));
}

int ib_dhcp4_out_add_ips(struct ib_dhcp4_out *o, uint8_t code, const uint32_t *a, size_t n)
{
	uint8_t b[4 * 64];
	struct ib_wbuf w;

	if (n == 0 || n > 64)
		return n ? -ENOBUFS : -EINVAL;
	ib_wbuf_init(&w, b, sizeof(b));
	for (size_t i = 0; i < n; i++)
		ib_wbuf_u32be(&w, a[i]);
	return ib_dhcp4_out_add(o, code, b, w.len);
}

int ib_dhcp4_out_add_str(struct ib_dhcp4_out *o, uint8_t code, const char *s)
{
	return ib_dhcp4_out_add(o, code, s, strlen(s));
}

bool ib_dhcp4_out_has(const struct ib_dhcp4_out *o, uint8_t code)
{
	for (size_t i = 0; i < o->n_opts; i++)
		if (o->opts[i].code == code)
			return true;
	return false;
}

/* Wire bytes of one option: RFC 3396 splits values into 255-byte pieces. */
static size_t opt_wire_len(const struct ib_dhcp4_out_opt *opt)
{
	size_t pieces = opt->len ? (opt->len + 254u) / 255u : 1;

	return opt->len + 2 * pieces;
}

static void put_opt(struct ib_wbuf *w, const struct ib_dhcp4_out *o,
		    const struct ib_dhcp4_out_opt *opt)
{
	const uint8_t *v = o->data + opt->off;
	size_t left = opt->len;

	do {
		size_t n = IB_MIN(left, (size_t)255);

		ib_wbuf_u8(w, opt->code);
		ib_wbuf_u8(w, (uint8_t)n);
		ib_wbuf_bytes(w, v, n);
		v += n;
		left -= n;
	} while (left);
}

/* The message type and server identifier go out whatever else is cut. */
static bool opt_mandatory(uint8_t code)
{
	return code == IB_OPT_MSG_TYPE || code == IB_OPT_SERVER_ID;
}

/* Copies a NUL-terminated text into a fixed field, zero-filled. */
static void put_text(struct ib_wbuf *w, const char *s, size_t field)
{
	size_t n = strnlen(s, field);

	ib_wbuf_bytes(w, s, n);
	ib_wbuf_zero(w, field - n);
}

static void put_header(struct ib_wbuf *w, const struct ib_dhcp4_out *o)
{
	ib_wbuf_u8(w, o->op);
	ib_wbuf_u8(w, o->htype);
	ib_wbuf_u8(w, o->hlen);
	ib_wbuf_u8(w, o->hops);
	ib_wbuf_u32be(w, o->xid);
	ib_wbuf_u16be(w, o->secs);
	ib_wbuf_u16be(w, o->flags);
	ib_wbuf_u32be(w, o->ciaddr);
	ib_wbuf_u32be(w, o->yiaddr);
	ib_wbuf_u32be(w, o->siaddr);
	ib_wbuf_u32be(w, o->giaddr);
	ib_wbuf_bytes(w, o->chaddr, sizeof(o->chaddr));
	put_text(w, o->sname, SNAME_LEN);
	put_text(w, o->file, FILE_LEN);
	ib_wbuf_u32be(w, IB_DHCP4_MAGIC);
}

/*
 * Chooses which options go out: the mandatory ones always, the others in
 * order until the first that does not fit, so what is dropped is a tail.
 * Sets keep[i]; -ENOBUFS if the mandatory ones alone do not fit in room,
 * -EINVAL if an option points outside o->data.
 */
static int choose_opts(const struct ib_dhcp4_out *o, size_t room, bool *keep)
{
	size_t need = 1, used;	/* the END octet */
	bool cut = false;

	for (size_t i = 0; i < o->n_opts; i++) {
		if ((size_t)o->opts[i].off + o->opts[i].len > sizeof(o->data))
			return -EINVAL;	/* not made by the adders */
		if (opt_mandatory(o->opts[i].code))
			need += opt_wire_len(&o->opts[i]);
	}
	if (need > room)
		return -ENOBUFS;
	used = need;
	for (size_t i = 0; i < o->n_opts; i++) {
		size_t l = opt_wire_len(&o->opts[i]);

		keep[i] = opt_mandatory(o->opts[i].code);
		if (keep[i] || cut)
			continue;
		if (l > room - used) {
			cut = true;
			continue;
		}
		keep[i] = true;
		used += l;
	}
	return 0;
}

int ib_dhcp4_build(const struct ib_dhcp4_out *o, size_t max_len, uint8_t *buf,
		   size_t cap, size_t *ret_len)
{
	bool keep[IB_DHCP4_MAX_OPTS];
	size_t limit;
	struct ib_wbuf w;
	int r;

	/* RFC 2132 9.10: no client may claim less than 576. */
	max_len = IB_MAX(max_len, (size_t)IB_DHCP4_DEFAULT_MAX_MSG);
	limit = IB_MIN(max_len - UDP_IP_OVERHEAD, (size_t)IB_DHCP4_MAX_LEN);
	limit = IB_MIN(limit, cap);
	if (limit < IB_DHCP4_BOOTP_MIN || o->n_opts > IB_DHCP4_MAX_OPTS)
		return -ENOBUFS;
	r = choose_opts(o, limit - IB_DHCP4_MIN_LEN, keep);
	if (r < 0)
		return r;

	ib_wbuf_init(&w, buf, limit);
	put_header(&w, o);
	for (size_t i = 0; i < o->n_opts; i++)
		if (keep[i])
			put_opt(&w, o, &o->opts[i]);
	ib_wbuf_u8(&w, IB_OPT_END);
	/* RFC 1542 2.1: relays expect the 300-byte minimal BOOTP message. */
	if (w.len < IB_DHCP4_BOOTP_MIN)
		ib_wbuf_zero(&w, IB_DHCP4_BOOTP_MIN - w.len);
	if (ib_wbuf_status(&w) < 0)
		return -ENOBUFS;
	*ret_len = w.len;
	return 0;
}
