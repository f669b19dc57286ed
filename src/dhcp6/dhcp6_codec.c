/*
 * DHCPv6 wire codec, parsing: see dhcp6_codec.h.  The builders and the
 * value helpers are in dhcp6_build.c.
 */
#include "dhcp6/dhcp6_codec.h"

#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "common/util.h"

#define ENTERPRISE_LEN 4	/* enterprise-number before vendor data */

static const char *const reject_names[IB_DHCP6_REJ__MAX] = {
	[IB_DHCP6_OK] = "ok",
	[IB_DHCP6_REJ_SHORT] = "short",
	[IB_DHCP6_REJ_OVERSIZE] = "oversize",
	[IB_DHCP6_REJ_BAD_TYPE] = "bad-message-type",
	[IB_DHCP6_REJ_OPT_TRUNC] = "option-truncated",
	[IB_DHCP6_REJ_DUP_OPT] = "duplicate-option",
	[IB_DHCP6_REJ_BAD_OPT] = "bad-option",
	[IB_DHCP6_REJ_DUID] = "bad-duid",
	[IB_DHCP6_REJ_TOO_MANY] = "too-many-items",
	[IB_DHCP6_REJ_RELAY_DEPTH] = "relay-too-deep",
	[IB_DHCP6_REJ_RELAY_NO_MSG] = "relay-without-message",
};

const char *ib_dhcp6_reject_str(enum ib_dhcp6_reject r)
{
	if ((unsigned)r >= IB_DHCP6_REJ__MAX)
		return "unknown";
	return reject_names[r];
}

/* ---- Parsing: the option walker -------------------------------------- */

/* Where the option handlers put what they decode. */
struct pctx {
	struct ib_dhcp6_msg *m;			/* message being filled */
	struct ib_dhcp6_relay *relay;		/* relay level being read */
	struct ib_dhcp6_ia_na *ia;		/* IA_NA being read */
	struct ib_dhcp6_status *status;		/* target of a Status Code */
	struct ib_dhcp6_blob relay_msg;		/* option 9 of the relay level */
};

typedef enum ib_dhcp6_reject (*opt_fn)(struct pctx *x, struct ib_cursor *v);

/* One option the walker knows in some context. */
struct opt_def {
	uint16_t code;		/* option code */
	bool multi;		/* may appear more than once */
	opt_fn fn;		/* decodes the value; v spans exactly the value */
};

static const struct opt_def *def_find(const struct opt_def *defs, size_t n,
				      uint16_t code)
{
	for (size_t i = 0; i < n; i++)
		if (defs[i].code == code)
			return &defs[i];
	return NULL;
}

/*
 * RFC 8415 21.1: options are code (16), length (16), value.  Every value
 * must lie inside c, which is the message or the enclosing option; codes
 * not in defs are skipped.  RFC 8415 16 lets most options appear once per
 * message or container, so a second instance of a singleton is refused
 * rather than guessing which one the client meant.
 */
static enum ib_dhcp6_reject walk_opts(struct pctx *x, struct ib_cursor *c,
				      const struct opt_def *defs, size_t n_defs)
{
	uint64_t seen = 0;	/* tables have at most 64 entries */

	while (ib_cursor_remaining(c) > 0) {
		const struct opt_def *d;
		enum ib_dhcp6_reject r;
		uint16_t code, len;
		struct ib_cursor v;
		uint64_t bit;

		if (ib_cursor_u16be(c, &code) < 0 || ib_cursor_u16be(c, &len) < 0 ||
		    ib_cursor_sub(c, len, &v) < 0)
			return IB_DHCP6_REJ_OPT_TRUNC;
		d = def_find(defs, n_defs, code);
		if (!d)
			continue;
		bit = 1ull << (d - defs);
		if (!d->multi && (seen & bit))
			return IB_DHCP6_REJ_DUP_OPT;
		seen |= bit;
		r = d->fn(x, &v);
		if (r != IB_DHCP6_OK)
			return r;
	}
	return IB_DHCP6_OK;
}

/* The rest of the value as a blob. */
static struct ib_dhcp6_blob rest(struct ib_cursor *v)
{
	struct ib_dhcp6_blob b = { v->p + v->off, ib_cursor_remaining(v) };

	v->off = v->len;
	return b;
}

/*
 * Items each prefixed by a 16-bit length (RFC 8415 21.15, 21.16; RFC 5970
 * 3.2).  Counts them and tells whether one equals want (if want).
 */
static int items_scan(const uint8_t *p, size_t len, const char *want,
		      size_t *ret_n, bool *ret_found)
{
	size_t n = 0, want_len = want ? strlen(want) : 0;
	bool found = false;
	struct ib_cursor c;

	ib_cursor_init(&c, p, len);
	while (ib_cursor_remaining(&c) > 0) {
		const uint8_t *item;
		uint16_t ilen;

		if (ib_cursor_u16be(&c, &ilen) < 0 || ib_cursor_bytes(&c, ilen, &item) < 0)
			return -EBADMSG;
		if (want && ilen == want_len && memcmp(item, want, ilen) == 0)
			found = true;
		n++;
	}
	*ret_n = n;
	if (ret_found)
		*ret_found = found;
	return 0;
}

int ib_dhcp6_items(struct ib_dhcp6_blob wire, struct ib_dhcp6_blob *ret,
		   size_t cap, size_t *ret_n)
{
	struct ib_cursor c;
	size_t n = 0;

	ib_cursor_init(&c, wire.p, wire.len);
	while (ib_cursor_remaining(&c) > 0) {
		const uint8_t *item;
		uint16_t ilen;

		if (ib_cursor_u16be(&c, &ilen) < 0 || ib_cursor_bytes(&c, ilen, &item) < 0)
			return -EBADMSG;
		if (n >= cap)
			return -ENOBUFS;
		ret[n++] = (struct ib_dhcp6_blob){ item, ilen };
	}
	*ret_n = n;
	return 0;
}

/* ---- Parsing: option handlers ---------------------------------------- */

/* RFC 8415 11.1: a DUID is a 2-octet type and at most 128 more octets. */
static enum ib_dhcp6_reject take_duid(struct ib_cursor *v, struct ib_dhcp6_blob *ret)
{
	size_t n = ib_cursor_remaining(v);

	if (n < IB_DHCP6_DUID_MIN || n > IB_DHCP6_DUID_MAX)
		return IB_DHCP6_REJ_DUID;
	*ret = rest(v);
	return IB_DHCP6_OK;
}

static enum ib_dhcp6_reject opt_client_id(struct pctx *x, struct ib_cursor *v)
{
	return take_duid(v, &x->m->client_id);
}

static enum ib_dhcp6_reject opt_server_id(struct pctx *x, struct ib_cursor *v)
{
	return take_duid(v, &x->m->server_id);
}

/* RFC 8415 21.13: status-code (16) and a UTF-8 message of the rest. */
static enum ib_dhcp6_reject opt_status(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_u16be(v, &x->status->code) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	x->status->msg = rest(v);
	x->status->present = true;
	return IB_DHCP6_OK;
}

static const struct opt_def iaaddr_defs[] = {
	{ IB_OPT6_STATUS_CODE, false, opt_status },
};

/* RFC 8415 21.6: address, preferred and valid lifetimes, options. */
static enum ib_dhcp6_reject opt_iaaddr(struct pctx *x, struct ib_cursor *v)
{
	struct ib_dhcp6_status *saved = x->status;
	struct ib_dhcp6_iaaddr *a;
	enum ib_dhcp6_reject r;

	if (x->ia->n_addrs >= IB_DHCP6_MAX_IAADDR)
		return IB_DHCP6_REJ_TOO_MANY;
	a = &x->ia->addrs[x->ia->n_addrs++];
	if (ib_cursor_copy(v, a->addr, sizeof(a->addr)) < 0 ||
	    ib_cursor_u32be(v, &a->preferred) < 0 || ib_cursor_u32be(v, &a->valid) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	x->status = &a->status;
	r = walk_opts(x, v, iaaddr_defs, IB_ARRAY_SIZE(iaaddr_defs));
	x->status = saved;
	return r;
}

static const struct opt_def ia_na_defs[] = {
	{ IB_OPT6_IAADDR, true, opt_iaaddr },
	{ IB_OPT6_STATUS_CODE, false, opt_status },
};

/* RFC 8415 21.4: IAID, T1, T2, then IA Address and Status Code options. */
static enum ib_dhcp6_reject opt_ia_na(struct pctx *x, struct ib_cursor *v)
{
	struct ib_dhcp6_status *saved = x->status;
	struct ib_dhcp6_msg *m = x->m;
	struct ib_dhcp6_ia_na *ia;
	enum ib_dhcp6_reject r;

	if (m->n_ia_na >= IB_DHCP6_MAX_IA)
		return IB_DHCP6_REJ_TOO_MANY;
	ia = &m->ia_na[m->n_ia_na++];
	if (ib_cursor_u32be(v, &ia->iaid) < 0 || ib_cursor_u32be(v, &ia->t1) < 0 ||
	    ib_cursor_u32be(v, &ia->t2) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	x->ia = ia;
	x->status = &ia->status;
	r = walk_opts(x, v, ia_na_defs, IB_ARRAY_SIZE(ia_na_defs));
	x->status = saved;
	x->ia = NULL;
	return r;
}

/* RFC 8415 21.5: IAID then options; not served, but the framing is checked. */
static enum ib_dhcp6_reject opt_ia_ta(struct pctx *x, struct ib_cursor *v)
{
	enum ib_dhcp6_reject r;
	uint32_t iaid;

	if (x->m->n_ia_ta >= IB_DHCP6_MAX_IA)
		return IB_DHCP6_REJ_TOO_MANY;
	if (ib_cursor_u32be(v, &iaid) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	r = walk_opts(x, v, NULL, 0);
	if (r == IB_DHCP6_OK)
		x->m->n_ia_ta++;
	return r;
}

/* Reads a list of 16-bit values filling the whole value. */
static enum ib_dhcp6_reject take_u16s(struct ib_cursor *v, uint16_t *out,
				      size_t cap, size_t *ret_n)
{
	size_t n = ib_cursor_remaining(v);

	if (n % 2)
		return IB_DHCP6_REJ_BAD_OPT;
	if (n / 2 > cap)
		return IB_DHCP6_REJ_TOO_MANY;
	for (size_t i = 0; i < n / 2; i++)
		(void)ib_cursor_u16be(v, &out[i]);
	*ret_n = n / 2;
	return IB_DHCP6_OK;
}

/* RFC 8415 21.7: a list of requested option codes. */
static enum ib_dhcp6_reject opt_oro(struct pctx *x, struct ib_cursor *v)
{
	x->m->has_oro = true;
	return take_u16s(v, x->m->oro, IB_DHCP6_MAX_ORO, &x->m->n_oro);
}

/* RFC 8415 21.8: one octet. */
static enum ib_dhcp6_reject opt_preference(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_remaining(v) != 1)
		return IB_DHCP6_REJ_BAD_OPT;
	(void)ib_cursor_u8(v, &x->m->preference);
	x->m->has_preference = true;
	return IB_DHCP6_OK;
}

/* RFC 8415 21.9: two octets, hundredths of a second. */
static enum ib_dhcp6_reject opt_elapsed(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_remaining(v) != 2)
		return IB_DHCP6_REJ_BAD_OPT;
	(void)ib_cursor_u16be(v, &x->m->elapsed);
	x->m->has_elapsed = true;
	return IB_DHCP6_OK;
}

/* RFC 8415 21.14 and 21.20: Rapid Commit and Reconfigure Accept are empty. */
static enum ib_dhcp6_reject opt_rapid_commit(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_remaining(v) != 0)
		return IB_DHCP6_REJ_BAD_OPT;
	x->m->rapid_commit = true;
	return IB_DHCP6_OK;
}

static enum ib_dhcp6_reject opt_reconf_accept(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_remaining(v) != 0)
		return IB_DHCP6_REJ_BAD_OPT;
	x->m->reconf_accept = true;
	return IB_DHCP6_OK;
}

/*
 * RFC 8415 21.15: length-prefixed user classes.  iPXE sends "iPXE" as
 * one of them, which is what the boot decision asks about.
 */
static enum ib_dhcp6_reject opt_user_class(struct pctx *x, struct ib_cursor *v)
{
	struct ib_dhcp6_msg *m = x->m;

	m->user_class = rest(v);
	if (items_scan(m->user_class.p, m->user_class.len, "iPXE",
		       &m->n_user_class, &m->user_class_ipxe) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	return IB_DHCP6_OK;
}

/*
 * RFC 8415 21.16: enterprise number and length-prefixed items; one
 * instance per enterprise number, so several may appear.
 */
static enum ib_dhcp6_reject opt_vendor_class(struct pctx *x, struct ib_cursor *v)
{
	struct ib_dhcp6_msg *m = x->m;
	struct ib_dhcp6_vendor_class *vc;

	if (m->n_vendor_class >= IB_DHCP6_MAX_VENDOR)
		return IB_DHCP6_REJ_TOO_MANY;
	vc = &m->vendor_class[m->n_vendor_class++];
	if (ib_cursor_u32be(v, &vc->enterprise) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	vc->data = rest(v);
	if (items_scan(vc->data.p, vc->data.len, NULL, &vc->n_items, NULL) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	return IB_DHCP6_OK;
}

/* RFC 8415 21.17: enterprise number and vendor data, kept raw. */
static enum ib_dhcp6_reject opt_vendor_opts(struct pctx *x, struct ib_cursor *v)
{
	struct ib_dhcp6_msg *m = x->m;

	if (m->n_vendor_opts >= IB_DHCP6_MAX_VENDOR)
		return IB_DHCP6_REJ_TOO_MANY;
	if (ib_cursor_remaining(v) < ENTERPRISE_LEN)
		return IB_DHCP6_REJ_BAD_OPT;
	m->vendor_opts[m->n_vendor_opts++] = rest(v);
	return IB_DHCP6_OK;
}

/* RFC 3646 3: a list of 16-octet addresses. */
static enum ib_dhcp6_reject opt_dns(struct pctx *x, struct ib_cursor *v)
{
	size_t n = ib_cursor_remaining(v);

	if (n % 16)
		return IB_DHCP6_REJ_BAD_OPT;
	if (n / 16 > IB_DHCP6_MAX_DNS)
		return IB_DHCP6_REJ_TOO_MANY;
	for (size_t i = 0; i < n / 16; i++)
		(void)ib_cursor_copy(v, x->m->dns[i], 16);
	x->m->n_dns = n / 16;
	return IB_DHCP6_OK;
}

/* RFC 3646 4: RFC 1035 names, uncompressed (RFC 8415 10). */
static enum ib_dhcp6_reject opt_domain_list(struct pctx *x, struct ib_cursor *v)
{
	x->m->domain_list = rest(v);
	if (ib_dhcp6_domains_check(x->m->domain_list.p, x->m->domain_list.len) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	return IB_DHCP6_OK;
}

/* One RFC 5908 4 sub-option; addresses are 16 octets, the FQDN a name. */
static enum ib_dhcp6_reject ntp_subopt(struct ib_dhcp6_msg *m, uint16_t code,
				       struct ib_cursor *s)
{
	size_t n = ib_cursor_remaining(s);

	if (code == IB_NTP_SUBOPT_SRV_ADDR || code == IB_NTP_SUBOPT_MC_ADDR) {
		if (n != 16)
			return IB_DHCP6_REJ_BAD_OPT;
		if (code == IB_NTP_SUBOPT_MC_ADDR)
			return IB_DHCP6_OK;
		if (m->n_ntp >= IB_DHCP6_MAX_NTP)
			return IB_DHCP6_REJ_TOO_MANY;
		(void)ib_cursor_copy(s, m->ntp[m->n_ntp++], 16);
	} else if (code == IB_NTP_SUBOPT_SRV_FQDN) {
		if (ib_dhcp6_domains_check(s->p, s->len) < 0)
			return IB_DHCP6_REJ_BAD_OPT;
	}
	return IB_DHCP6_OK;
}

/* RFC 5908 4: sub-options framed like options, inside option 56. */
static enum ib_dhcp6_reject opt_ntp(struct pctx *x, struct ib_cursor *v)
{
	while (ib_cursor_remaining(v) > 0) {
		enum ib_dhcp6_reject r;
		uint16_t code, len;
		struct ib_cursor s;

		if (ib_cursor_u16be(v, &code) < 0 || ib_cursor_u16be(v, &len) < 0 ||
		    ib_cursor_sub(v, len, &s) < 0)
			return IB_DHCP6_REJ_OPT_TRUNC;
		r = ntp_subopt(x->m, code, &s);
		if (r != IB_DHCP6_OK)
			return r;
	}
	return IB_DHCP6_OK;
}

/* RFC 5970 3.1: a URL, any octets (the policy validates before use). */
static enum ib_dhcp6_reject opt_bootfile_url(struct pctx *x, struct ib_cursor *v)
{
	x->m->bootfile_url = rest(v);
	return IB_DHCP6_OK;
}

/* RFC 5970 3.2: length-prefixed parameters. */
static enum ib_dhcp6_reject opt_bootfile_param(struct pctx *x, struct ib_cursor *v)
{
	struct ib_dhcp6_msg *m = x->m;

	m->bootfile_param = rest(v);
	if (items_scan(m->bootfile_param.p, m->bootfile_param.len, NULL,
		       &m->n_bootfile_param, NULL) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	return IB_DHCP6_OK;
}

/* RFC 5970 3.3: one or more 16-bit architecture types. */
static enum ib_dhcp6_reject opt_arch(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_remaining(v) == 0)
		return IB_DHCP6_REJ_BAD_OPT;
	return take_u16s(v, x->m->arch, IB_DHCP6_MAX_ARCH, &x->m->n_arch);
}

/* RFC 5970 3.4: type, major, minor; three octets. */
static enum ib_dhcp6_reject opt_nii(struct pctx *x, struct ib_cursor *v)
{
	struct ib_dhcp6_nii *n = &x->m->nii;

	if (ib_cursor_remaining(v) != 3)
		return IB_DHCP6_REJ_BAD_OPT;
	(void)ib_cursor_u8(v, &n->type);
	(void)ib_cursor_u8(v, &n->major);
	(void)ib_cursor_u8(v, &n->minor);
	x->m->has_nii = true;
	return IB_DHCP6_OK;
}

/*
 * The options of a client/server message.  Relay-only options (9, 18, 37,
 * 79) are not listed: inside a client message they mean nothing and are
 * skipped like unknown ones.
 */
static const struct opt_def client_defs[] = {
	{ IB_OPT6_CLIENTID, false, opt_client_id },
	{ IB_OPT6_SERVERID, false, opt_server_id },
	{ IB_OPT6_IA_NA, true, opt_ia_na },
	{ IB_OPT6_IA_TA, true, opt_ia_ta },
	{ IB_OPT6_ORO, false, opt_oro },
	{ IB_OPT6_PREFERENCE, false, opt_preference },
	{ IB_OPT6_ELAPSED_TIME, false, opt_elapsed },
	{ IB_OPT6_STATUS_CODE, false, opt_status },
	{ IB_OPT6_RAPID_COMMIT, false, opt_rapid_commit },
	{ IB_OPT6_USER_CLASS, false, opt_user_class },
	{ IB_OPT6_VENDOR_CLASS, true, opt_vendor_class },
	{ IB_OPT6_VENDOR_OPTS, true, opt_vendor_opts },
	{ IB_OPT6_RECONF_ACCEPT, false, opt_reconf_accept },
	{ IB_OPT6_DNS_SERVERS, false, opt_dns },
	{ IB_OPT6_DOMAIN_LIST, false, opt_domain_list },
	{ IB_OPT6_NTP_SERVER, false, opt_ntp },
	{ IB_OPT6_BOOTFILE_URL, false, opt_bootfile_url },
	{ IB_OPT6_BOOTFILE_PARAM, false, opt_bootfile_param },
	{ IB_OPT6_CLIENT_ARCH, false, opt_arch },
	{ IB_OPT6_NII, false, opt_nii },
};

/* ---- Parsing: relay options -------------------------------------------- */

/* RFC 8415 21.10: the next message in. */
static enum ib_dhcp6_reject opt_relay_msg(struct pctx *x, struct ib_cursor *v)
{
	x->relay_msg = rest(v);
	return IB_DHCP6_OK;
}

/* RFC 8415 21.18: opaque, echoed in the reply. */
static enum ib_dhcp6_reject opt_interface_id(struct pctx *x, struct ib_cursor *v)
{
	x->relay->interface_id = rest(v);
	return IB_DHCP6_OK;
}

/* RFC 4649 3: enterprise number, then the opaque remote-id. */
static enum ib_dhcp6_reject opt_remote_id(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_remaining(v) < ENTERPRISE_LEN)
		return IB_DHCP6_REJ_BAD_OPT;
	x->relay->remote_id = rest(v);
	return IB_DHCP6_OK;
}

/* RFC 6939 4: 16-bit link-layer type, then the address. */
static enum ib_dhcp6_reject opt_lladdr(struct pctx *x, struct ib_cursor *v)
{
	if (ib_cursor_u16be(v, &x->relay->lladdr_type) < 0)
		return IB_DHCP6_REJ_BAD_OPT;
	x->relay->lladdr = rest(v);
	return IB_DHCP6_OK;
}

static const struct opt_def relay_defs[] = {
	{ IB_OPT6_RELAY_MSG, false, opt_relay_msg },
	{ IB_OPT6_INTERFACE_ID, false, opt_interface_id },
	{ IB_OPT6_REMOTE_ID, false, opt_remote_id },
	{ IB_OPT6_CLIENT_LINKLAYER, false, opt_lladdr },
};

/* ---- Parsing: messages ------------------------------------------------- */

static bool is_relay(uint8_t type)
{
	return type == IB_DHCP6_RELAY_FORW || type == IB_DHCP6_RELAY_REPL;
}

/*
 * RFC 8415 9: one relay level; on success *next spans the Relay Message
 * option's value, the message one level in.
 */
static enum ib_dhcp6_reject parse_relay(struct ib_cursor *c, struct ib_dhcp6_msg *m,
					struct ib_cursor *next)
{
	struct pctx x = { .m = m };
	struct ib_dhcp6_relay *rl;
	enum ib_dhcp6_reject r;
	int e = 0;

	if (m->n_relays >= IB_DHCP6_MAX_RELAYS)
		return IB_DHCP6_REJ_RELAY_DEPTH;
	rl = &m->relays[m->n_relays++];
	e |= ib_cursor_u8(c, &rl->msg_type);
	e |= ib_cursor_u8(c, &rl->hop_count);
	e |= ib_cursor_copy(c, rl->link_address, sizeof(rl->link_address));
	e |= ib_cursor_copy(c, rl->peer_address, sizeof(rl->peer_address));
	if (e)
		return IB_DHCP6_REJ_SHORT;
	x.relay = rl;
	r = walk_opts(&x, c, relay_defs, IB_ARRAY_SIZE(relay_defs));
	if (r != IB_DHCP6_OK)
		return r;
	if (!x.relay_msg.p)
		return IB_DHCP6_REJ_RELAY_NO_MSG;
	ib_cursor_init(next, x.relay_msg.p, x.relay_msg.len);
	return IB_DHCP6_OK;
}

/* RFC 8415 8: msg-type, 24-bit transaction-id, options. */
static enum ib_dhcp6_reject parse_client(struct ib_cursor *c, struct ib_dhcp6_msg *m)
{
	struct pctx x = { .m = m, .status = &m->status };
	uint16_t lo;
	uint8_t hi;

	m->inner = (struct ib_dhcp6_blob){ c->p, c->len };
	if (ib_cursor_u8(c, &m->msg_type) < 0 || ib_cursor_u8(c, &hi) < 0 ||
	    ib_cursor_u16be(c, &lo) < 0)
		return IB_DHCP6_REJ_SHORT;
	m->xid = (uint32_t)hi << 16 | lo;
	return walk_opts(&x, c, client_defs, IB_ARRAY_SIZE(client_defs));
}

static int parse_fail(struct ib_dhcp6_msg *m, enum ib_dhcp6_reject r)
{
	m->reject = r;
	return -EBADMSG;
}

/*
 * The relay chain is walked in a loop, not by recursion, so its depth
 * costs no stack; IB_DHCP6_MAX_RELAYS bounds it.
 */
int ib_dhcp6_parse(const void *buf, size_t len, struct ib_dhcp6_msg *ret)
{
	struct ib_cursor c, next;
	enum ib_dhcp6_reject r;

	memset(ret, 0, sizeof(*ret));
	if (len > IB_DHCP6_MAX_LEN)
		return parse_fail(ret, IB_DHCP6_REJ_OVERSIZE);
	if (!buf || len < IB_DHCP6_HDR_LEN)
		return parse_fail(ret, IB_DHCP6_REJ_SHORT);
	ib_cursor_init(&c, buf, len);
	for (;;) {
		struct ib_cursor peek = c;
		uint8_t type = 0;

		if (ib_cursor_remaining(&c) < IB_DHCP6_HDR_LEN)
			return parse_fail(ret, IB_DHCP6_REJ_SHORT);
		(void)ib_cursor_u8(&peek, &type);
		if (type == 0 || type > IB_DHCP6_RELAY_REPL)
			return parse_fail(ret, IB_DHCP6_REJ_BAD_TYPE);
		if (!is_relay(type))
			break;
		r = parse_relay(&c, ret, &next);
		if (r != IB_DHCP6_OK)
			return parse_fail(ret, r);
		c = next;
	}
	r = parse_client(&c, ret);
	if (r != IB_DHCP6_OK)
		return parse_fail(ret, r);
	return 0;
}

int ib_dhcp6_find_opt(const struct ib_dhcp6_msg *m, uint16_t code,
		      struct ib_dhcp6_blob *ret)
{
	struct ib_cursor c;

	if (!m->inner.p || m->inner.len < IB_DHCP6_HDR_LEN)
		return -ENOENT;
	ib_cursor_init(&c, m->inner.p + IB_DHCP6_HDR_LEN, m->inner.len - IB_DHCP6_HDR_LEN);
	while (ib_cursor_remaining(&c) > 0) {
		uint16_t oc, len;
		const uint8_t *v;

		if (ib_cursor_u16be(&c, &oc) < 0 || ib_cursor_u16be(&c, &len) < 0 ||
		    ib_cursor_bytes(&c, len, &v) < 0)
			return -ENOENT;	/* not reached for a parsed message */
		if (oc == code) {
			*ret = (struct ib_dhcp6_blob){ v, len };
			return 0;
		}
	}
	return -ENOENT;
}
