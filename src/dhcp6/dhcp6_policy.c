/*
 * DHCPv6 policy: one handler per client message type (RFC 8415 18.3),
 * the subnet and identity of the client, address choice per IA_NA, and
 * the boot answer (RFC 5970).  See dhcp6_policy.h.
 */
#include "dhcp6/dhcp6_policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot/boot_arch.h"
#include "common/util.h"
#include "dhcp4/hold_ledger.h"
#include "dhcp6/dhcp6_pool.h"

static const uint8_t zero6[16];

const char *ib_dhcp6_type_str(uint8_t type)
{
	static const char *const names[] = {
		[IB_DHCP6_SOLICIT] = "solicit", [IB_DHCP6_ADVERTISE] = "advertise",
		[IB_DHCP6_REQUEST] = "request", [IB_DHCP6_CONFIRM] = "confirm",
		[IB_DHCP6_RENEW] = "renew", [IB_DHCP6_REBIND] = "rebind",
		[IB_DHCP6_REPLY] = "reply", [IB_DHCP6_RELEASE] = "release",
		[IB_DHCP6_DECLINE] = "decline", [IB_DHCP6_RECONFIGURE] = "reconfigure",
		[IB_DHCP6_INFORMATION_REQUEST] = "information-request",
		[IB_DHCP6_RELAY_FORW] = "relay-forw", [IB_DHCP6_RELAY_REPL] = "relay-repl",
	};

	return type < IB_ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}

const char *ib_boot6_client_str(enum ib_boot6_client c)
{
	switch (c) {
	case IB_BOOT6_NONE: return "none";
	case IB_BOOT6_TFTP: return "pxe";
	case IB_BOOT6_HTTP: return "http";
	case IB_BOOT6_IPXE: return "ipxe";
	}
	return "none";
}

const char *ib_dhcp6_status_str(uint16_t code)
{
	switch (code) {
	case IB_DHCP6_SUCCESS: return "Success";
	case IB_DHCP6_UNSPEC_FAIL: return "UnspecFail";
	case IB_DHCP6_NO_ADDRS_AVAIL: return "NoAddrsAvail";
	case IB_DHCP6_NO_BINDING: return "NoBinding";
	case IB_DHCP6_NOT_ON_LINK: return "NotOnLink";
	case IB_DHCP6_USE_MULTICAST: return "UseMulticast";
	case IB_DHCP6_NO_PREFIX_AVAIL: return "NoPrefixAvail";
	}
	return "unknown";
}

/* ---- the client: subnet, MAC, reservation ---- */

static const struct ib_subnet6 *subnet_by_addr(const struct ib_config *cfg,
					       const uint8_t addr[16])
{
	for (size_t i = 0; i < cfg->dhcp6.n_subnets; i++)
		if (ib_addr_in_prefix(addr, cfg->dhcp6.subnets[i].prefix, cfg->dhcp6.subnets[i].prefix_len))
			return &cfg->dhcp6.subnets[i];
	return NULL;
}

/*
 * RFC 8415 13.1: a relayed message's link is the innermost relay's
 * link-address (when not ::); a direct one's is the arrival interface,
 * else our address on it.
 */
static const struct ib_subnet6 *select_subnet(const struct ib_dhcp6_input *in)
{
	const struct ib_dhcp6_msg *m = in->msg;
	const struct ib_config *cfg = in->cfg;

	for (size_t i = m->n_relays; i-- > 0;)
		if (memcmp(m->relays[i].link_address, zero6, 16) != 0)
			return subnet_by_addr(cfg, m->relays[i].link_address);
	if (m->n_relays)
		return NULL;
	for (size_t i = 0; in->ifname && i < cfg->dhcp6.n_subnets; i++)
		if (cfg->dhcp6.subnets[i].interface &&
		    strcmp(cfg->dhcp6.subnets[i].interface, in->ifname) == 0)
			return &cfg->dhcp6.subnets[i];
	return subnet_by_addr(cfg, in->server_addr);
}

static bool addr_listed(const uint8_t (*list)[16], size_t n, const uint8_t addr[16])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(list[i], addr, 16) == 0)
			return true;
	return false;
}

/*
 * Whether the relay that sent a RELAY-FORW (the datagram's source: the
 * outermost level) may speak for its clients: listed in dhcp6.relays, or
 * in the relays of the subnet its chain names.  The relay vouches for the
 * levels inside, as a DHCPv4 giaddr does; an unlisted source is any host
 * on the link, whose option 79, interface-id and link-address are its own
 * word (docs/SECURITY.md).
 */
static bool relay_allowed(const struct ib_dhcp6_input *in)
{
	const struct ib_subnet6 *sn;

	if (addr_listed((const uint8_t (*)[16])in->cfg->dhcp6.relays, in->cfg->dhcp6.n_relays,
			in->src))
		return true;
	sn = select_subnet(in);
	return sn && addr_listed((const uint8_t (*)[16])sn->relays, sn->n_relays, in->src);
}

/* The machine's MAC: DUID-LL/LLT, option 79 of the innermost relay, EUI-64. */
static void learn_mac(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d)
{
	const struct ib_dhcp6_msg *m = in->msg;
	const struct ib_dhcp6_relay *r = m->n_relays ? &m->relays[m->n_relays - 1] : NULL;

	if (ib_dhcp6_duid_mac(m->client_id.p, m->client_id.len, d->mac) == 0) {
		d->mac_from = "duid";
	} else if (r && r->lladdr.p && r->lladdr_type == 1 && r->lladdr.len == 6) {
		memcpy(d->mac, r->lladdr.p, 6);	/* RFC 6939: hardware type 1 */
		d->mac_from = "option-79";
	} else if (ib_dhcp6_eui64_mac(r ? r->peer_address : in->src, d->mac) == 0) {
		d->mac_from = "eui-64";
	} else {
		return;
	}
	d->has_mac = true;
}

static const struct ib_reservation6 *find_reservation(const struct ib_subnet6 *sn,
						      const struct ib_dhcp6_msg *m,
						      const struct ib_dhcp6_decision *d)
{
	for (size_t i = 0; sn && i < sn->n_reservations; i++) {
		const struct ib_reservation6 *r = &sn->reservations[i];

		if (r->duid_len && r->duid_len == m->client_id.len &&
		    memcmp(r->duid, m->client_id.p, r->duid_len) == 0)
			return r;
	}
	for (size_t i = 0; sn && d->has_mac && i < sn->n_reservations; i++) {
		const struct ib_reservation6 *r = &sn->reservations[i];

		if (r->has_mac && memcmp(r->mac, d->mac, 6) == 0)
			return r;
	}
	return NULL;
}

/* ---- the boot answer (RFC 5970) ---- */

static const char *vendor_class_is(const struct ib_dhcp6_msg *m, const char *want)
{
	size_t n = strlen(want);

	for (size_t i = 0; i < m->n_vendor_class; i++) {
		struct ib_dhcp6_blob items[8];
		size_t k;

		if (ib_dhcp6_items(m->vendor_class[i].data, items, 8, &k) < 0)
			continue;
		for (size_t j = 0; j < k; j++)
			if (items[j].len >= n && memcmp(items[j].p, want, n) == 0)
				return want;
	}
	return NULL;
}

/* RFC 5970 3.1, RFC 3986 3.2.2: tftp://[address]/file, the literal in brackets. */
static void tftp_url(const struct ib_config *cfg, const uint8_t srv[16], const char *file,
		     struct ib_boot6_answer *b)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, cfg->boot.has_next_server6 ? cfg->boot.next_server6 : srv, host,
		  sizeof(host));
	b->client = IB_BOOT6_TFTP;
	snprintf(b->url, sizeof(b->url), "tftp://[%s]/%s", host, file);
}

/* The firmware file or HTTP URL for arch, from the one firmware table
 * (src/boot/boot_arch.c, which the DHCPv4 decision reads too). */
static void by_arch(const struct ib_config *cfg, uint16_t arch, const uint8_t srv[16],
		    struct ib_boot6_answer *b)
{
	const struct ib_boot_arch *a = ib_boot_arch_find(arch);
	const char *file = a ? ib_boot_arch_file(&cfg->boot, a, true) : NULL;

	if (!a || !a->v6_key) {
		b->why = "no boot file for this arch (BIOS PXE has no IPv6)";
		return;
	}
	b->why = a->v6_why;
	if (file && a->http) {
		b->client = IB_BOOT6_HTTP;
		snprintf(b->url, sizeof(b->url), "%s", file);
	} else if (file) {
		tftp_url(cfg, srv, file, b);
	} else {
		b->why = "no boot file configured for this arch";
	}
}

void ib_boot6_decide(const struct ib_config *cfg, const struct ib_dhcp6_msg *m,
		     const struct ib_reservation6 *resv, const uint8_t server_addr[16],
		     struct ib_boot6_answer *ret)
{
	struct ib_boot6_answer b = { .client = IB_BOOT6_NONE, .arch = 0xffff, .why = "" };

	if (m->n_arch) {
		b.arch = m->arch[0];
	} else {
		b.arch = cfg->dhcp6.default_arch;	/* RFC 5970 option 61 is optional */
		b.arch_assumed = true;
	}
	if (m->user_class_ipxe) {
		/* iPXE asks again: the script breaks the chainload loop */
		const char *url = resv && resv->boot.script_url ? resv->boot.script_url :
				  cfg->boot.ipxe_script_url6;

		b.why = resv && resv->boot.script_url ? "iPXE: reservation script_url" :
			url ? "iPXE: boot.ipxe_script6" : "iPXE, but no boot.ipxe_script6";
		if (url) {
			b.client = IB_BOOT6_IPXE;
			snprintf(b.url, sizeof(b.url), "%s", url);
		}
	} else if (resv && resv->boot.boot_file) {
		if (strstr(resv->boot.boot_file, "://")) {
			b.client = IB_BOOT6_HTTP;
			snprintf(b.url, sizeof(b.url), "%s", resv->boot.boot_file);
		} else {
			tftp_url(cfg, server_addr, resv->boot.boot_file, &b);
		}
		b.why = "reservation boot_file";
	} else {
		by_arch(cfg, b.arch, server_addr, &b);
		if (b.arch_assumed && b.client != IB_BOOT6_NONE)
			b.why = "no option 61: dhcp6.default_arch";
	}
	/* RFC 5970 3.2: parameters go with a boot file, a machine's replace the default */
	if (b.client != IB_BOOT6_NONE && resv && resv->n_bootfile_param) {
		b.params = resv->bootfile_param;
		b.n_params = resv->n_bootfile_param;
	} else if (b.client != IB_BOOT6_NONE) {
		b.params = cfg->boot.bootfile_param6;
		b.n_params = cfg->boot.n_bootfile_param6;
	}
	*ret = b;
}

/* Whether the client wants a boot file: it asks for option 59, names an
 * architecture, or is iPXE. */
static bool wants_boot(const struct ib_dhcp6_msg *m)
{
	for (size_t i = 0; i < m->n_oro; i++)
		if (m->oro[i] == IB_OPT6_BOOTFILE_URL)
			return true;
	return m->n_arch > 0 || m->user_class_ipxe ||
	       vendor_class_is(m, "PXEClient") || vendor_class_is(m, "HTTPClient");
}

/* ---- addresses per IA ---- */

static bool in_pools(const struct ib_subnet6 *sn, const uint8_t a[16])
{
	for (size_t i = 0; i < sn->n_pools; i++)
		if (memcmp(a, sn->pools[i].start, 16) >= 0 && memcmp(a, sn->pools[i].end, 16) <= 0)
			return true;
	return false;
}

static void ia_status(struct ib_dhcp6_ia_answer *a, uint16_t code, const char *msg)
{
	a->has_status = true;
	a->status = code;
	a->status_msg = msg;
}

static void ia_lifetimes(const struct ib_subnet6 *sn, struct ib_dhcp6_ia_answer *a)
{
	a->preferred = sn->preferred_lifetime;
	a->valid = sn->valid_lifetime;
	a->t1 = sn->t1;
	a->t2 = sn->t2;
}

/* RFC 8415 18.3.1/18.3.2: an address for one IA_NA of SOLICIT or REQUEST. */
uint64_t ib_dhcp6_hold_cap(const struct ib_subnet6 *sn)
{
	uint64_t n = ib_d6_pool_size(sn);

	n = n > UINT64_MAX / 100 ? n / 100 * IB_D6_HOLD_SHARE : n * IB_D6_HOLD_SHARE / 100;
	return n ? n : 1;
}

/* The source holds are filed under: the innermost relay that names its
 * link (as select_subnet() reads it), else the arrival interface. */
static uint64_t hold_source(const struct ib_dhcp6_input *in)
{
	const struct ib_dhcp6_msg *m = in->msg;

	for (size_t i = m->n_relays; i-- > 0;)
		if (memcmp(m->relays[i].link_address, zero6, 16) != 0)
			return ib_ledger_source_relay6(m->relays[i].link_address);
	return ib_ledger_source_link(in->ifindex);
}

/* The oldest hold of the subnet's pools (of source, or any when NULL). */
static bool oldest_hold(const struct ib_dhcp6_input *in, const struct ib_subnet6 *sn,
			const uint64_t *source, uint8_t ret[16])
{
	const struct ib_hold6_view *h = in->holds;
	uint8_t a[16];

	if (!h || h->oldest_hold(h->ctx, sn, source, a) < 0 || !in_pools(sn, a))
		return false;
	memcpy(ret, a, 16);
	return true;
}

/*
 * An address for one IA, most stable first.  Issue #11: a new IA of a
 * source at its share of the pool takes over that source's oldest
 * ADVERTISE hold; one finding no free address takes over the subnet's
 * oldest hold.  A binding is never taken; a reserved address is its
 * machine's even over another client's hold (none can exist but from
 * before a reload: reservations lie outside the pools).
 */
static void assign(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d,
		   const struct ib_dhcp6_ia_na *ia, struct ib_dhcp6_ia_answer *a)
{
	const struct ib_lease6_view *v = in->view;
	const struct ib_hold6_view *h = in->holds;
	const struct ib_subnet6 *sn = d->subnet;
	const struct ib_dhcp6_blob *duid = &in->msg->client_id;
	struct ib_lease6 l;

	a->iaid = ia->iaid;
	if (d->resv) {
		if (!(h ? h->unbound(h->ctx, d->resv->address, duid, ia->iaid) :
		      v->is_free(v->ctx, d->resv->address, duid, ia->iaid))) {
			ia_status(a, IB_DHCP6_NO_ADDRS_AVAIL, "reserved address in use");
			return;
		}
		memcpy(a->addr, d->resv->address, 16);
	} else if (v->find(v->ctx, duid, ia->iaid, &l) == 0 &&
		   ib_addr_in_prefix(l.address, sn->prefix, sn->prefix_len) && in_pools(sn, l.address) &&
		   v->is_free(v->ctx, l.address, duid, ia->iaid)) {
		memcpy(a->addr, l.address, 16);		/* the same address again */
	} else if (h && h->holds(h->ctx, sn, d->source) >= ib_dhcp6_hold_cap(sn) &&
		   oldest_hold(in, sn, &d->source, a->addr)) {
		a->take = IB_D6_TAKE_CAP;
	} else if (ia->n_addrs && in_pools(sn, ia->addrs[0].addr) &&
		   v->is_free(v->ctx, ia->addrs[0].addr, duid, ia->iaid)) {
		memcpy(a->addr, ia->addrs[0].addr, 16);	/* RFC 8415 18.2.1: a hint */
	} else if (v->pick_free(v->ctx, sn, duid, ia->iaid, a->addr) == 0) {
		/* a free address */
	} else if (oldest_hold(in, sn, NULL, a->addr)) {
		a->take = IB_D6_TAKE_SHORT;
	} else {
		ia_status(a, IB_DHCP6_NO_ADDRS_AVAIL, "no addresses available");
		d->exhausted = true;
		return;
	}
	a->has_addr = true;
	ia_lifetimes(sn, a);
}

/* RFC 8415 18.3.4/18.3.5: RENEW and REBIND extend what the client holds. */
static void extend(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d,
		   const struct ib_dhcp6_ia_na *ia, struct ib_dhcp6_ia_answer *a)
{
	const struct ib_lease6_view *v = in->view;
	struct ib_lease6 l;

	a->iaid = ia->iaid;
	if (v->find(v->ctx, &in->msg->client_id, ia->iaid, &l) == 0 &&
	    l.state == IB_LEASE_ACTIVE && l.expires > in->now &&
	    ib_addr_in_prefix(l.address, d->subnet->prefix, d->subnet->prefix_len)) {
		memcpy(a->addr, l.address, 16);
		a->has_addr = true;
		ia_lifetimes(d->subnet, a);
		return;
	}
	ia_status(a, IB_DHCP6_NO_BINDING, "no binding for this IA");
}

/* ---- the handlers ---- */

static void drop(struct ib_dhcp6_decision *d, const char *why)
{
	d->action = IB_D6_DROP;
	d->reason = why;
}

static bool server_id_is_ours(const struct ib_dhcp6_input *in)
{
	const struct ib_dhcp6_blob *s = &in->msg->server_id;

	return s->p && s->len == in->server_duid.len &&
	       memcmp(s->p, in->server_duid.p, s->len) == 0;
}

/* RFC 8415 16: which messages must and must not carry the two DUIDs. */
static bool ids_ok(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d,
		   bool need_server)
{
	const struct ib_dhcp6_msg *m = in->msg;

	if (!m->client_id.p && m->msg_type != IB_DHCP6_INFORMATION_REQUEST) {
		drop(d, "no client identifier");
		return false;
	}
	if (need_server && !server_id_is_ours(in)) {
		drop(d, m->server_id.p ? "for another server" : "no server identifier");
		return false;
	}
	if (!need_server && m->server_id.p && m->msg_type != IB_DHCP6_INFORMATION_REQUEST) {
		drop(d, "server identifier where none is allowed");
		return false;
	}
	if (m->msg_type == IB_DHCP6_INFORMATION_REQUEST && m->server_id.p &&
	    !server_id_is_ours(in)) {
		drop(d, "for another server");
		return false;
	}
	return true;
}

static void on_solicit(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d)
{
	const struct ib_dhcp6_msg *m = in->msg;
	bool any = false;

	if (!ids_ok(in, d, false))
		return;
	d->n_ia = m->n_ia_na;
	for (size_t i = 0; i < m->n_ia_na; i++) {
		assign(in, d, &m->ia_na[i], &d->ia[i]);
		any |= d->ia[i].has_addr;
	}
	/* RFC 8415 18.3.9: nothing to give: only a status code, no IAs */
	if (m->n_ia_na && !any) {
		d->n_ia = 0;
		d->has_status = true;
		d->status = IB_DHCP6_NO_ADDRS_AVAIL;
		d->status_msg = "no addresses available";
	}
	if (m->rapid_commit && in->cfg->dhcp6.rapid_commit && any) {
		d->action = IB_D6_COMMIT;	/* RFC 8415 18.3.1: Rapid Commit */
		d->reply_type = IB_DHCP6_REPLY;
		d->rapid_commit = true;
		d->reason = "rapid-commit";
		return;
	}
	d->action = IB_D6_ADVERTISE;
	d->reply_type = IB_DHCP6_ADVERTISE;
	d->reason = any ? "advertise" : m->n_ia_na ? "no-address" : "advertise-config";
}

static void on_request(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d)
{
	const struct ib_dhcp6_msg *m = in->msg;

	if (!ids_ok(in, d, true))
		return;
	d->n_ia = m->n_ia_na;
	for (size_t i = 0; i < m->n_ia_na; i++)
		assign(in, d, &m->ia_na[i], &d->ia[i]);
	d->action = IB_D6_COMMIT;
	d->reason = "request";
}

static void on_renew_rebind(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d)
{
	const struct ib_dhcp6_msg *m = in->msg;
	bool rebind = m->msg_type == IB_DHCP6_REBIND;

	if (!ids_ok(in, d, !rebind))
		return;
	d->n_ia = m->n_ia_na;
	for (size_t i = 0; i < m->n_ia_na; i++)
		extend(in, d, &m->ia_na[i], &d->ia[i]);
	d->action = IB_D6_COMMIT;
	d->reason = rebind ? "rebind" : "renew";
}

/* RFC 8415 18.3.3: are the client's addresses on its link? */
static void on_confirm(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d)
{
	const struct ib_dhcp6_msg *m = in->msg;
	size_t n = 0;
	bool on_link = true;

	if (!ids_ok(in, d, false))
		return;
	for (size_t i = 0; i < m->n_ia_na; i++)
		for (size_t j = 0; j < m->ia_na[i].n_addrs; j++, n++)
			on_link &= ib_addr_in_prefix(m->ia_na[i].addrs[j].addr, d->subnet->prefix,
					     d->subnet->prefix_len);
	if (n == 0) {
		drop(d, "confirm without addresses");
		return;
	}
	d->action = IB_D6_REPLY;
	d->has_status = true;
	d->status = on_link ? IB_DHCP6_SUCCESS : IB_DHCP6_NOT_ON_LINK;
	d->status_msg = on_link ? "all addresses on link" : "not on link";
	d->reason = on_link ? "confirm" : "confirm-not-on-link";
	d->send_config = false;
}

/* RFC 8415 18.3.7/18.3.8: the addresses the client names for its IAs. */
static void on_release_decline(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *d)
{
	const struct ib_dhcp6_msg *m = in->msg;
	bool release = m->msg_type == IB_DHCP6_RELEASE;

	if (!ids_ok(in, d, true))
		return;
	for (size_t i = 0; i < m->n_ia_na && d->n_ia < IB_DHCP6_MAX_IA; i++) {
		struct ib_dhcp6_ia_answer *a = &d->ia[d->n_ia++];
		struct ib_lease6 l;

		a->iaid = m->ia_na[i].iaid;
		if (m->ia_na[i].n_addrs &&
		    in->view->find(in->view->ctx, &m->client_id, a->iaid, &l) == 0 &&
		    memcmp(l.address, m->ia_na[i].addrs[0].addr, 16) == 0 &&
		    l.state == IB_LEASE_ACTIVE) {
			memcpy(a->addr, l.address, 16);
			a->has_addr = true;	/* the shell changes it; not in the reply */
		} else {
			ia_status(a, IB_DHCP6_NO_BINDING, "no binding for this IA");
		}
	}
	d->action = release ? IB_D6_RELEASE : IB_D6_DECLINE;
	d->has_status = true;
	d->status = IB_DHCP6_SUCCESS;
	d->status_msg = release ? "released" : "declined";
	d->reason = release ? "release" : "decline";
	d->send_config = false;
}

static void on_information_request(const struct ib_dhcp6_input *in,
				   struct ib_dhcp6_decision *d)
{
	if (!ids_ok(in, d, false))
		return;
	d->action = IB_D6_REPLY;
	d->reason = "information";
}

/* Client messages a server answers (RFC 8415 18.3); others are dropped. */
static void (*const handlers[])(const struct ib_dhcp6_input *, struct ib_dhcp6_decision *) = {
	[IB_DHCP6_SOLICIT] = on_solicit,
	[IB_DHCP6_REQUEST] = on_request,
	[IB_DHCP6_CONFIRM] = on_confirm,
	[IB_DHCP6_RENEW] = on_renew_rebind,
	[IB_DHCP6_REBIND] = on_renew_rebind,
	[IB_DHCP6_RELEASE] = on_release_decline,
	[IB_DHCP6_DECLINE] = on_release_decline,
	[IB_DHCP6_INFORMATION_REQUEST] = on_information_request,
};

int ib_dhcp6_decide(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *ret)
{
	const struct ib_dhcp6_msg *m = in->msg;
	struct ib_dhcp6_decision *d = ret;
	uint8_t t = m->msg_type;

	memset(d, 0, sizeof(*d));
	d->reply_type = IB_DHCP6_REPLY;
	d->send_config = true;
	if (m->n_relays && !relay_allowed(in)) {
		/* no MAC learnt: the claim is not journalled as anyone's */
		d->relay_refused = true;
		drop(d, "relay not allowed");
		return 0;
	}
	learn_mac(in, d);
	if (t >= IB_ARRAY_SIZE(handlers) || !handlers[t]) {
		drop(d, "not a client message");
		return 0;
	}
	/* RFC 8415 16: a server discards Relay-reply; only Relay-forward
	 * wraps what relays send to a server, at every level. */
	for (size_t i = 0; i < m->n_relays; i++)
		if (m->relays[i].msg_type != IB_DHCP6_RELAY_FORW) {
			drop(d, "relay-reply sent to a server");
			return 0;
		}
	d->subnet = select_subnet(in);
	if (!d->subnet && t != IB_DHCP6_INFORMATION_REQUEST) {
		drop(d, "no subnet for this link");
		return 0;
	}
	/*
	 * RFC 8415 18.3.1, 16: unicast without our permission (we never send
	 * the Server Unicast option): answer UseMulticast, bind nothing.
	 */
	if (!in->multicast && !m->n_relays && t != IB_DHCP6_INFORMATION_REQUEST &&
	    t != IB_DHCP6_SOLICIT && t != IB_DHCP6_REBIND && t != IB_DHCP6_CONFIRM) {
		if (!ids_ok(in, d, true))
			return 0;
		d->action = IB_D6_REPLY;
		d->has_status = true;
		d->status = IB_DHCP6_USE_MULTICAST;
		d->status_msg = "use multicast";
		d->reason = "unicast";
		d->send_config = false;
		return 0;
	}
	d->resv = find_reservation(d->subnet, m, d);
	d->source = hold_source(in);
	handlers[t](in, d);
	if (d->action != IB_D6_DROP && d->send_config && wants_boot(m))
		ib_boot6_decide(in->cfg, m, d->resv, in->server_addr, &d->boot);
	return 0;
}

bool ib_dhcp6_lease_usable(const struct ib_lease6 *l, const struct ib_dhcp6_blob *duid,
			   uint32_t iaid, int64_t now)
{
	if (l->state == IB_LEASE_RELEASED || l->state == IB_LEASE_EXPIRED || l->expires <= now)
		return true;
	return l->state == IB_LEASE_ACTIVE && l->iaid == iaid && l->duid_len == duid->len &&
	       memcmp(l->duid, duid->p, duid->len) == 0;
}

void ib_dhcp6_ia_lost(struct ib_dhcp6_ia_answer *ia)
{
	ia->has_addr = false;
	ia_status(ia, IB_DHCP6_NO_ADDRS_AVAIL, "address taken meanwhile");
}

void ib_dhcp6_keep_until(struct ib_dhcp6_ia_answer *a, int64_t now, int64_t expires)
{
	uint32_t left = (uint32_t)IB_MIN(expires - now, (int64_t)UINT32_MAX);

	a->valid = IB_MIN(a->valid, left);
	a->preferred = IB_MIN(a->preferred, a->valid);
	a->t1 = IB_MIN(a->t1, a->preferred / 2);
	a->t2 = IB_MIN(a->t2, (uint32_t)((uint64_t)a->preferred * 4 / 5));
}
