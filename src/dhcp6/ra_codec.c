/*
 * Router Advertisement codec and the RA server's decisions (ra_codec.h).
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

int ib_rs_build(const uint8_t *mac, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct ib_wbuf w;

	ib_wbuf_init(&w, buf, cap);
	/* RFC 4861 4.1: type, code, checksum, reserved */
	ib_wbuf_u8(&w, IB_ICMP6_RS);
	ib_wbuf_u8(&w, 0);
	ib_wbuf_u16be(&w, 0);
	ib_wbuf_u32be(&w, 0);
	if (mac) {
		ib_wbuf_u8(&w, OPT_SRC_LLADDR);
		ib_wbuf_u8(&w, 1);
		ib_wbuf_bytes(&w, mac, 6);
	}
	if (ib_wbuf_status(&w) < 0)
		return -ENOBUFS;
	*ret_len = w.len;
	return 0;
}

/* ---- the RA server's decisions ---- */

static bool in_list(char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

/* Appends s to ret[0..n) unless there or full; the new count. */
static size_t add_link(const char **ret, size_t n, size_t cap, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ret[i], s) == 0)
			return n;
	if (n < cap)
		ret[n++] = s;
	return n;
}

bool ib_ra_dhcp6_serves(const struct ib_config *cfg, const char *ifname)
{
	const struct ib_dhcp6_config *d = &cfg->dhcp6;

	if (!d->enabled || (d->n_interfaces && !in_list(d->interfaces, d->n_interfaces, ifname)))
		return false;
	for (size_t i = 0; i < d->n_subnets; i++)
		if (d->subnets[i].interface && strcmp(d->subnets[i].interface, ifname) == 0)
			return true;
	return false;
}

size_t ib_ra_boot_links(const struct ib_config *cfg, const char **ret, size_t cap,
			bool *ret_all4)
{
	const struct ib_dhcp4_config *d4 = &cfg->dhcp4;
	const struct ib_dhcp6_config *d6 = &cfg->dhcp6;
	size_t n = 0;

	*ret_all4 = d4->enabled && d4->n_interfaces == 0;
	for (size_t i = 0; d4->enabled && i < d4->n_interfaces; i++)
		n = add_link(ret, n, cap, d4->interfaces[i]);
	for (size_t i = 0; i < d6->n_subnets; i++) {
		const char *ifname = d6->subnets[i].interface;

		if (ifname && ib_ra_dhcp6_serves(cfg, ifname))
			n = add_link(ret, n, cap, ifname);
	}
	return n;
}

size_t ib_ra_links(const struct ib_config *cfg, const char **ret, size_t cap, bool *ret_all4)
{
	const struct ib_ra_config *rc = &cfg->dhcp6.ra;
	size_t n = 0;

	*ret_all4 = false;
	if (rc->mode == IB_RA_OFF)
		return 0;
	if (rc->mode == IB_RA_AUTO && rc->n_interfaces == 0)
		return ib_ra_boot_links(cfg, ret, cap, ret_all4);
	for (size_t i = 0; i < rc->n_interfaces; i++)
		n = add_link(ret, n, cap, rc->interfaces[i]);
	return n;
}

void ib_ra_layout(const struct ib_config *cfg, const char *ifname, struct ib_ra *ret)
{
	const struct ib_ra_config *rc = &cfg->dhcp6.ra;
	bool on = rc->mode == IB_RA_ON;
	/* true: as configured (the operator chose); auto: only what DHCPv6 backs */
	bool v6 = on || ib_ra_dhcp6_serves(cfg, ifname);

	memset(ret, 0, sizeof(*ret));
	/* auto never claims to be a default router, nor sets the hosts' hop limit */
	ret->hop_limit = on ? 64 : 0;
	ret->router_lifetime = on ? (uint16_t)(rc->router_lifetime > 9000 ? 9000 :
					       rc->router_lifetime) : 0;
	ret->managed = v6 && rc->managed;
	ret->other = v6 && rc->other;
	for (size_t i = 0; v6 && i < cfg->dhcp6.n_subnets && ret->n_prefixes < IB_RA_MAX_PREFIXES;
	     i++) {
		const struct ib_subnet6 *sn = &cfg->dhcp6.subnets[i];
		struct ib_ra_prefix *p;

		if (!sn->interface || strcmp(sn->interface, ifname) != 0)
			continue;
		p = &ret->prefixes[ret->n_prefixes++];
		memcpy(p->prefix, sn->prefix, 16);
		p->len = sn->prefix_len;
		p->on_link = true;
		p->autonomous = false;	/* addresses come from DHCPv6 only */
		p->valid = sn->valid_lifetime;
		p->preferred = sn->preferred_lifetime;
	}
}

enum ib_ra_action ib_ra_link_start(struct ib_ra_link *l, bool auto_mode,
				   uint32_t interval_s, int64_t now)
{
	*l = (struct ib_ra_link){ .auto_mode = auto_mode, .interval_ms = interval_s * 1000u,
				  .last_ra = -1 };
	if (!auto_mode) {
		l->phase = IB_RA_ADVERTISE;
		l->next_ra = now;
		return IB_RA_SEND_RA;
	}
	l->phase = IB_RA_LISTEN;
	l->listen_until = now + IB_RA_LISTEN_MS;
	return IB_RA_SEND_RS;	/* RFC 4861 6.3.7: routers answer a solicitation */
}

enum ib_ra_action ib_ra_link_tick(struct ib_ra_link *l, int64_t now)
{
	switch (l->phase) {
	case IB_RA_LISTEN:
		if (now < l->listen_until)
			return IB_RA_NONE;
		/* nobody answered: advertise, the first at once */
		l->phase = IB_RA_ADVERTISE;
		l->n_sent = 0;
		l->next_ra = now;
		return IB_RA_SEND_RA;
	case IB_RA_QUIET:
		if (now < l->heard_at + IB_RA_PROBE_MS)
			return IB_RA_NONE;
		/* the router has been silent for a while: is it still there? */
		l->phase = IB_RA_LISTEN;
		l->probing = true;
		l->listen_until = now + IB_RA_LISTEN_MS;
		return IB_RA_SEND_RS;
	case IB_RA_ADVERTISE:
		return now >= l->next_ra ? IB_RA_SEND_RA : IB_RA_NONE;
	}
	return IB_RA_NONE;
}

void ib_ra_link_sent(struct ib_ra_link *l, int64_t now)
{
	uint32_t iv = l->interval_ms;

	l->last_ra = now;
	l->n_sent++;
	/* RFC 4861 6.2.4: the first few come at most 16 s apart */
	if (l->n_sent < IB_RA_INITIAL && iv > IB_RA_INITIAL_INTERVAL_MS)
		iv = IB_RA_INITIAL_INTERVAL_MS;
	l->next_ra = now + iv;
}

void ib_ra_link_solicited(struct ib_ra_link *l, int64_t now, uint32_t delay_ms)
{
	int64_t due = now + (delay_ms > IB_RA_MAX_DELAY_MS ? IB_RA_MAX_DELAY_MS : delay_ms);

	/* listening links answer when they start; quiet ones leave it to the router */
	if (l->phase != IB_RA_ADVERTISE)
		return;
	/* RFC 4861 6.2.6: multicast RAs at least MIN_DELAY_BETWEEN_RAS apart */
	if (l->last_ra >= 0 && due < l->last_ra + IB_RA_MIN_DELAY_MS)
		due = l->last_ra + IB_RA_MIN_DELAY_MS;
	if (due < l->next_ra)
		l->next_ra = due;
}

/*
 * Two advertisers that are not routers (router lifetime 0, no SLAAC
 * prefix: what ironboot sends in auto mode, e.g. two daemons sharing a
 * store) that start within IB_RA_LISTEN_MS of each other would both fall
 * quiet on hearing the other, and both probe and advertise again together.
 * So while advertising, the lower link-local address keeps advertising and
 * the higher one goes quiet.  A link still listening defers to whoever
 * advertises already, and a router (lifetime > 0 or SLAAC) always wins.
 */
enum ib_ra_verdict ib_ra_link_heard(struct ib_ra_link *l, const struct ib_ra_heard *h,
				    int64_t now)
{
	static const uint8_t none[16];
	bool peer = h->router_lifetime == 0 && !h->slaac;
	enum ib_ra_verdict v;

	if (!l->auto_mode)
		return IB_RA_KEEP;
	if (l->phase == IB_RA_ADVERTISE && peer && memcmp(h->ours, none, 16) != 0 &&
	    memcmp(h->from, h->ours, 16) > 0)
		return IB_RA_OUTRANKED;
	v = l->phase == IB_RA_QUIET || l->probing ? IB_RA_STILL_QUIET : IB_RA_NOW_QUIET;
	l->phase = IB_RA_QUIET;
	l->probing = false;
	l->heard_at = now;
	memcpy(l->heard_from, h->from, 16);
	l->heard_lifetime = h->router_lifetime;
	return v;
}

int64_t ib_ra_link_next(const struct ib_ra_link *l)
{
	switch (l->phase) {
	case IB_RA_LISTEN:
		return l->listen_until;
	case IB_RA_QUIET:
		return l->heard_at + IB_RA_PROBE_MS;
	case IB_RA_ADVERTISE:
		return l->next_ra;
	}
	return INT64_MAX;
}
