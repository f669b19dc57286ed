/*
 * Writing DHCPv6: the message and relay builders, and the value helpers
 * for DUIDs (RFC 8415 11, RFC 6355), the MAC behind an EUI-64 link-local
 * address (RFC 4291) and domain lists (option 24, RFC 8415 10).  Parsing
 * is in dhcp6_codec.c.  See dhcp6_codec.h.
 */
#include "dhcp6/dhcp6_codec.h"

#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "common/dns_name.h"
#include "common/text.h"
#include "common/util.h"

#define HWTYPE_ETHERNET 1	/* IANA ARP hardware type */
#define MAC_LEN 6
#define DUID_LLT_FIXED 8	/* type, hardware type, time */
#define DUID_LL_FIXED 4		/* type, hardware type */
#define DUID_EN_FIXED 6		/* type, enterprise number */
#define DUID_UUID_LEN 18	/* RFC 6355 4: type + 16 octets */
#define NAME_MAX_WIRE 255
#define OPT_LEN_MAX 0xffffu	/* option-len is 16 bits */
#define XID_MAX 0xffffffu	/* RFC 8415 8: 24-bit transaction id */

/* ---- DUIDs ------------------------------------------------------------- */

/*
 * RFC 8415 11.2-11.4 and RFC 6355 4: the fixed part of each known type,
 * and a link-layer address or identifier of at least one octet after it.
 */
int ib_dhcp6_duid_classify(const uint8_t *p, size_t len, uint16_t *ret_type)
{
	struct ib_cursor c;
	uint16_t type;
	bool ok;

	if (len < IB_DHCP6_DUID_MIN || len > IB_DHCP6_DUID_MAX)
		return -EBADMSG;
	ib_cursor_init(&c, p, len);
	(void)ib_cursor_u16be(&c, &type);
	switch (type) {
	case IB_DUID_LLT: ok = len > DUID_LLT_FIXED; break;
	case IB_DUID_EN: ok = len > DUID_EN_FIXED; break;
	case IB_DUID_LL: ok = len > DUID_LL_FIXED; break;
	case IB_DUID_UUID: ok = len == DUID_UUID_LEN; break;
	default: ok = true; break;	/* opaque: compared, never decoded */
	}
	if (!ok)
		return -EBADMSG;
	*ret_type = type;
	return 0;
}

int ib_dhcp6_duid_mac(const uint8_t *p, size_t len, uint8_t ret_mac[6])
{
	uint16_t type;
	int r = ib_dhcp6_duid_classify(p, len, &type);

	return r < 0 ? r : ib_duid_mac(p, len, ret_mac);
}

static int wbuf_done(const struct ib_wbuf *w, size_t *ret_len)
{
	if (ib_wbuf_status(w) < 0)
		return -ENOBUFS;
	*ret_len = w->len;
	return 0;
}

int ib_dhcp6_duid_llt(const uint8_t mac[6], uint32_t time, uint8_t *buf,
		      size_t cap, size_t *ret_len)
{
	struct ib_wbuf w;

	ib_wbuf_init(&w, buf, cap);
	ib_wbuf_u16be(&w, IB_DUID_LLT);
	ib_wbuf_u16be(&w, HWTYPE_ETHERNET);
	ib_wbuf_u32be(&w, time);
	ib_wbuf_bytes(&w, mac, MAC_LEN);
	return wbuf_done(&w, ret_len);
}

int ib_dhcp6_duid_uuid(const uint8_t uuid[16], uint8_t *buf, size_t cap,
		       size_t *ret_len)
{
	struct ib_wbuf w;

	ib_wbuf_init(&w, buf, cap);
	ib_wbuf_u16be(&w, IB_DUID_UUID);
	ib_wbuf_bytes(&w, uuid, 16);
	return wbuf_done(&w, ret_len);
}

/* ---- EUI-64 ------------------------------------------------------------ */

/*
 * RFC 4291 2.5.6: fe80::/64 (the 54 bits after fe80 are zero).  Appendix
 * A: the interface id is the MAC with ff:fe inserted after the third
 * octet and the universal/local bit (0x02 of the first octet) inverted.
 */
int ib_dhcp6_eui64_mac(const uint8_t addr[16], uint8_t ret_mac[6])
{
	static const uint8_t prefix[8] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0 };

	if (memcmp(addr, prefix, sizeof(prefix)) != 0 || addr[11] != 0xff ||
	    addr[12] != 0xfe)
		return -ENOENT;
	ret_mac[0] = addr[8] ^ 0x02;
	ret_mac[1] = addr[9];
	ret_mac[2] = addr[10];
	ret_mac[3] = addr[13];
	ret_mac[4] = addr[14];
	ret_mac[5] = addr[15];
	return 0;
}

/* ---- Domain lists (option 24) ------------------------------------------ */

/* RFC 8415 10: RFC 1035 3.1 names, no compression. */
int ib_dhcp6_domains_encode(const char *const *names, size_t n, uint8_t *buf,
			    size_t cap, size_t *ret_len)
{
	return ib_dns_names_encode(names, n, false, buf, cap, ret_len);
}

/*
 * Walks one wire name at c: labels of 1..63 octets up to the root label,
 * at most 255 octets.  RFC 8415 10 forbids compression, so 0xc0 pointers
 * (and the 0x40/0x80 label types) are malformed.  Calls put (if set) per
 * label.  0, -EBADMSG, or put's error.
 */
static int walk_name(struct ib_cursor *c, int (*put)(void *arg, const uint8_t *l, uint8_t n),
		     void *arg)
{
	size_t wire = 1;

	for (;;) {
		const uint8_t *label;
		uint8_t n;
		int r;

		if (ib_cursor_u8(c, &n) < 0)
			return -EBADMSG;
		if (n == 0)
			return wire == 1 ? -EBADMSG : 0;	/* the root is no domain */
		if (n > IB_DNS_LABEL_MAX || ib_cursor_bytes(c, n, &label) < 0)
			return -EBADMSG;
		wire += 1u + n;
		if (wire > NAME_MAX_WIRE)
			return -EBADMSG;
		if (put) {
			r = put(arg, label, n);
			if (r < 0)
				return r;
		}
	}
}

int ib_dhcp6_domains_check(const uint8_t *p, size_t len)
{
	struct ib_cursor c;

	ib_cursor_init(&c, p, len);
	while (ib_cursor_remaining(&c) > 0)
		if (walk_name(&c, NULL, NULL) < 0)
			return -EBADMSG;
	return 0;
}

/* The decoder's output: the text, and whether the name has a label yet. */
struct names_text {
	struct ib_text t;	/* the caller's buffer */
	bool first;		/* no label of the current name written yet */
};

static int text_label(void *arg, const uint8_t *l, uint8_t n)
{
	struct names_text *nt = arg;
	int r = ib_text_dns_label(&nt->t, l, n, nt->first);

	nt->first = false;
	return r;
}

int ib_dhcp6_domains_decode(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	struct names_text nt;
	struct ib_cursor c;
	int r;

	if (ib_text_init(&nt.t, out, outlen) < 0)
		return -ENOBUFS;
	ib_cursor_init(&c, p, len);
	while (ib_cursor_remaining(&c) > 0) {
		if (nt.t.len && ib_text_put(&nt.t, " ", 1) < 0)
			return -ENOBUFS;
		nt.first = true;
		r = walk_name(&c, text_label, &nt);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- Building ---------------------------------------------------------- */

/* A write buffer and the first encoding error (as opposed to overflow). */
struct bctx {
	struct ib_wbuf w;	/* output */
	int err;		/* 0 or -EINVAL */
};

/* Writes an option header with length 0; returns where it starts. */
static size_t opt_begin(struct bctx *b, uint16_t code)
{
	size_t off = b->w.len;

	ib_wbuf_u16be(&b->w, code);
	ib_wbuf_u16be(&b->w, 0);
	return off;
}

/* Patches the length of the option begun at off to what follows it. */
static void opt_end(struct bctx *b, size_t off)
{
	size_t n;

	if (b->w.overflow)
		return;		/* -ENOBUFS is reported at the end */
	n = b->w.len - off - IB_DHCP6_OPT_HDR_LEN;
	if (n > OPT_LEN_MAX) {
		b->err = -EINVAL;
		return;
	}
	(void)ib_wbuf_patch_u8(&b->w, off + 2, (uint8_t)(n >> 8));
	(void)ib_wbuf_patch_u8(&b->w, off + 3, (uint8_t)n);
}

static void put_bytes_opt(struct bctx *b, uint16_t code, const void *p, size_t len)
{
	size_t off = opt_begin(b, code);

	ib_wbuf_bytes(&b->w, p, len);
	opt_end(b, off);
}

static void put_blob_opt(struct bctx *b, uint16_t code, struct ib_dhcp6_blob v)
{
	if (v.p)
		put_bytes_opt(b, code, v.p, v.len);
}

static void put_duid(struct bctx *b, uint16_t code, struct ib_dhcp6_blob v)
{
	if (v.p && (v.len < IB_DHCP6_DUID_MIN || v.len > IB_DHCP6_DUID_MAX))
		b->err = -EINVAL;
	put_blob_opt(b, code, v);
}

static void put_status(struct bctx *b, const struct ib_dhcp6_status *s)
{
	size_t off;

	if (!s->present)
		return;
	off = opt_begin(b, IB_OPT6_STATUS_CODE);
	ib_wbuf_u16be(&b->w, s->code);
	if (s->msg.p)
		ib_wbuf_bytes(&b->w, s->msg.p, s->msg.len);
	opt_end(b, off);
}

/* RFC 8415 21.4 and 21.6: IA_NA with its addresses nested inside. */
static void put_ia_na(struct bctx *b, const struct ib_dhcp6_ia_na *ia)
{
	size_t off = opt_begin(b, IB_OPT6_IA_NA);

	if (ia->n_addrs > IB_DHCP6_MAX_IAADDR) {
		b->err = -EINVAL;
		return;
	}
	ib_wbuf_u32be(&b->w, ia->iaid);
	ib_wbuf_u32be(&b->w, ia->t1);
	ib_wbuf_u32be(&b->w, ia->t2);
	for (size_t i = 0; i < ia->n_addrs; i++) {
		const struct ib_dhcp6_iaaddr *a = &ia->addrs[i];
		size_t aoff = opt_begin(b, IB_OPT6_IAADDR);

		ib_wbuf_bytes(&b->w, a->addr, sizeof(a->addr));
		ib_wbuf_u32be(&b->w, a->preferred);
		ib_wbuf_u32be(&b->w, a->valid);
		put_status(b, &a->status);
		opt_end(b, aoff);
	}
	put_status(b, &ia->status);
	opt_end(b, off);
}

static void put_u16s(struct bctx *b, uint16_t code, const uint16_t *v, size_t n)
{
	size_t off = opt_begin(b, code);

	for (size_t i = 0; i < n; i++)
		ib_wbuf_u16be(&b->w, v[i]);
	opt_end(b, off);
}

static void put_addrs(struct bctx *b, uint16_t code, const uint8_t (*a)[16], size_t n)
{
	size_t off;

	if (n == 0)
		return;
	off = opt_begin(b, code);
	for (size_t i = 0; i < n; i++)
		ib_wbuf_bytes(&b->w, a[i], 16);
	opt_end(b, off);
}

/* Length-prefixed items (15, 16, 60), written after what off began. */
static void put_items(struct bctx *b, const struct ib_dhcp6_blob *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i].len > OPT_LEN_MAX) {
			b->err = -EINVAL;
			return;
		}
		ib_wbuf_u16be(&b->w, (uint16_t)items[i].len);
		ib_wbuf_bytes(&b->w, items[i].p, items[i].len);
	}
}

static void put_items_opt(struct bctx *b, uint16_t code,
			  const struct ib_dhcp6_blob *items, size_t n)
{
	size_t off;

	if (n == 0)
		return;
	off = opt_begin(b, code);
	put_items(b, items, n);
	opt_end(b, off);
}

/*
 * RFC 8415 10: option 24 names.  IB_DHCP6_MAX_NAMES names of at most 255
 * wire octets each always fit the scratch buffer.
 */
static void put_domains(struct bctx *b, const char *const *names, size_t n)
{
	uint8_t tmp[IB_DHCP6_MAX_NAMES * 256];
	size_t len;

	if (n == 0)
		return;
	if (n > IB_DHCP6_MAX_NAMES ||
	    ib_dhcp6_domains_encode(names, n, tmp, sizeof(tmp), &len) < 0) {
		b->err = -EINVAL;
		return;
	}
	put_bytes_opt(b, IB_OPT6_DOMAIN_LIST, tmp, len);
}

/* RFC 5908 4: one server address sub-option per server. */
static void put_ntp(struct bctx *b, const uint8_t (*a)[16], size_t n)
{
	size_t off;

	if (n == 0)
		return;
	off = opt_begin(b, IB_OPT6_NTP_SERVER);
	for (size_t i = 0; i < n; i++) {
		ib_wbuf_u16be(&b->w, IB_NTP_SUBOPT_SRV_ADDR);
		ib_wbuf_u16be(&b->w, 16);
		ib_wbuf_bytes(&b->w, a[i], 16);
	}
	opt_end(b, off);
}

static void put_flag(struct bctx *b, uint16_t code, bool on)
{
	if (on)
		put_bytes_opt(b, code, NULL, 0);
}

/* The options that are not lists of structures, in header order. */
static void put_scalars(struct bctx *b, const struct ib_dhcp6_out *o)
{
	put_duid(b, IB_OPT6_SERVERID, o->server_id);
	put_duid(b, IB_OPT6_CLIENTID, o->client_id);
	put_status(b, &o->status);
	if (o->has_preference)
		put_bytes_opt(b, IB_OPT6_PREFERENCE, &o->preference, 1);
	put_flag(b, IB_OPT6_RAPID_COMMIT, o->rapid_commit);
	put_flag(b, IB_OPT6_RECONF_ACCEPT, o->reconf_accept);
	if (o->has_elapsed) {
		uint8_t e[2] = { (uint8_t)(o->elapsed >> 8), (uint8_t)o->elapsed };

		put_bytes_opt(b, IB_OPT6_ELAPSED_TIME, e, sizeof(e));
	}
	if (o->has_oro)
		put_u16s(b, IB_OPT6_ORO, o->oro, o->n_oro);
}

/* Options 16, 15, 61, 62: what a client says about itself. */
static void put_classes(struct bctx *b, const struct ib_dhcp6_out *o)
{
	if (o->has_vendor_class) {
		size_t off = opt_begin(b, IB_OPT6_VENDOR_CLASS);

		ib_wbuf_u32be(&b->w, o->vendor_class_enterprise);
		put_items(b, o->vendor_class, o->n_vendor_class);
		opt_end(b, off);
	}
	put_items_opt(b, IB_OPT6_USER_CLASS, o->user_class, o->n_user_class);
	if (o->n_arch)
		put_u16s(b, IB_OPT6_CLIENT_ARCH, o->arch, o->n_arch);
	if (o->has_nii) {
		uint8_t v[3] = { o->nii.type, o->nii.major, o->nii.minor };

		put_bytes_opt(b, IB_OPT6_NII, v, sizeof(v));
	}
}

int ib_dhcp6_build(const struct ib_dhcp6_out *o, uint8_t *buf, size_t cap,
		   size_t *ret_len)
{
	struct bctx b = { .err = 0 };

	if (o->msg_type == 0 || o->msg_type > IB_DHCP6_INFORMATION_REQUEST ||
	    o->xid > XID_MAX || o->n_ia_na > IB_DHCP6_MAX_IA)
		return -EINVAL;
	ib_wbuf_init(&b.w, buf, IB_MIN(cap, (size_t)IB_DHCP6_MAX_LEN));
	/* RFC 8415 8: msg-type, then the transaction id in 24 bits. */
	ib_wbuf_u8(&b.w, o->msg_type);
	ib_wbuf_u8(&b.w, (uint8_t)(o->xid >> 16));
	ib_wbuf_u16be(&b.w, (uint16_t)o->xid);
	put_scalars(&b, o);
	for (size_t i = 0; i < o->n_ia_na; i++)
		put_ia_na(&b, &o->ia_na[i]);
	put_addrs(&b, IB_OPT6_DNS_SERVERS, o->dns, o->n_dns);
	put_domains(&b, o->domains, o->n_domains);
	put_ntp(&b, o->ntp, o->n_ntp);
	put_blob_opt(&b, IB_OPT6_BOOTFILE_URL, o->bootfile_url);
	put_items_opt(&b, IB_OPT6_BOOTFILE_PARAM, o->bootfile_param, o->n_bootfile_param);
	put_classes(&b, o);
	if (b.err < 0)
		return b.err;
	if (ib_wbuf_status(&b.w) < 0)
		return -ENOBUFS;
	*ret_len = b.w.len;
	return 0;
}

/* ---- Building: relay levels -------------------------------------------- */

/* Bytes of the options a level writes besides Relay Message; 0 on error. */
static size_t relay_opts_len(const struct ib_dhcp6_relay *rl, bool forw, int *err)
{
	size_t n = 0;

	if (rl->interface_id.p)
		n += IB_DHCP6_OPT_HDR_LEN + rl->interface_id.len;
	if (forw && rl->remote_id.p)
		n += IB_DHCP6_OPT_HDR_LEN + rl->remote_id.len;
	if (forw && rl->lladdr.p)
		n += IB_DHCP6_OPT_HDR_LEN + 2 + rl->lladdr.len;
	if (rl->interface_id.len > OPT_LEN_MAX || rl->remote_id.len > OPT_LEN_MAX ||
	    rl->lladdr.len > OPT_LEN_MAX - 2)
		*err = -EINVAL;
	return n;
}

static void put_relay_opts(struct ib_wbuf *w, const struct ib_dhcp6_relay *rl, bool forw)
{
	if (rl->interface_id.p) {
		ib_wbuf_u16be(w, IB_OPT6_INTERFACE_ID);
		ib_wbuf_u16be(w, (uint16_t)rl->interface_id.len);
		ib_wbuf_bytes(w, rl->interface_id.p, rl->interface_id.len);
	}
	if (forw && rl->remote_id.p) {
		ib_wbuf_u16be(w, IB_OPT6_REMOTE_ID);
		ib_wbuf_u16be(w, (uint16_t)rl->remote_id.len);
		ib_wbuf_bytes(w, rl->remote_id.p, rl->remote_id.len);
	}
	if (forw && rl->lladdr.p) {
		ib_wbuf_u16be(w, IB_OPT6_CLIENT_LINKLAYER);
		ib_wbuf_u16be(w, (uint16_t)(2 + rl->lladdr.len));
		ib_wbuf_u16be(w, rl->lladdr_type);
		ib_wbuf_bytes(w, rl->lladdr.p, rl->lladdr.len);
	}
}

/*
 * The size of every level is known before anything is written (computed
 * from the inside out), so each Relay Message option gets its length up
 * front and the levels are written outermost first in one pass.
 */
int ib_dhcp6_build_relay(const struct ib_dhcp6_wrap *w, uint8_t *buf, size_t cap,
			 size_t *ret_len)
{
	size_t lvl[IB_DHCP6_MAX_RELAYS + 1];
	bool forw = w->msg_type == IB_DHCP6_RELAY_FORW;
	struct ib_wbuf out;
	int err = 0;

	if ((!forw && w->msg_type != IB_DHCP6_RELAY_REPL) || w->n_relays == 0 ||
	    w->n_relays > IB_DHCP6_MAX_RELAYS || !w->inner.p)
		return -EINVAL;
	lvl[w->n_relays] = w->inner.len;
	for (size_t i = w->n_relays; i-- > 0;) {
		lvl[i] = IB_DHCP6_RELAY_HDR_LEN + relay_opts_len(&w->chain[i], forw, &err) +
			 IB_DHCP6_OPT_HDR_LEN + lvl[i + 1];
		if (err < 0)
			return err;
		if (lvl[i + 1] > IB_DHCP6_MAX_LEN || lvl[i] > IB_DHCP6_MAX_LEN)
			return -ENOBUFS;
	}
	ib_wbuf_init(&out, buf, IB_MIN(cap, (size_t)IB_DHCP6_MAX_LEN));
	for (size_t i = 0; i < w->n_relays; i++) {
		const struct ib_dhcp6_relay *rl = &w->chain[i];

		/* RFC 8415 9: header; RFC 8415 19.3: hop count and addresses copied. */
		ib_wbuf_u8(&out, w->msg_type);
		ib_wbuf_u8(&out, rl->hop_count);
		ib_wbuf_bytes(&out, rl->link_address, sizeof(rl->link_address));
		ib_wbuf_bytes(&out, rl->peer_address, sizeof(rl->peer_address));
		put_relay_opts(&out, rl, forw);
		ib_wbuf_u16be(&out, IB_OPT6_RELAY_MSG);
		ib_wbuf_u16be(&out, (uint16_t)lvl[i + 1]);
	}
	ib_wbuf_bytes(&out, w->inner.p, w->inner.len);
	if (ib_wbuf_status(&out) < 0)
		return -ENOBUFS;
	*ret_len = out.len;
	return 0;
}
