/*
 * The DHCPv4 server state machine (RFC 2131 4.3): one handler per message
 * type, each deciding from the snapshot, the message and the lease view.
 * proxyDHCP (PXE spec 2.1, 2.2.2) answers boot information only.
 */
#include "dhcp4/dhcp4_policy.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "dhcp4/dhcp4_reply.h"
#include "dhcp4/hold_ledger.h"

typedef int (*handler_fn)(const struct ib_dhcp4_input *in,
			  const struct ib_subnet4 *sn,
			  struct ib_dhcp4_decision *d);

static bool in_pools(const struct ib_subnet4 *sn, uint32_t a)
{
	for (size_t i = 0; i < sn->n_pools; i++)
		if (a >= sn->pools[i].start && a <= sn->pools[i].end)
			return true;
	return false;
}

static bool in_subnet(const struct ib_subnet4 *sn, uint32_t a)
{
	return (a & sn->mask) == sn->network;
}

static const struct ib_reservation4 *reservation_of_addr(const struct ib_subnet4 *sn,
							 uint32_t a)
{
	for (size_t i = 0; i < sn->n_reservations; i++)
		if (sn->reservations[i].address == a)
			return &sn->reservations[i];
	return NULL;
}

const struct ib_reservation4 *ib_dhcp4_find_reservation(const struct ib_subnet4 *sn,
							 const struct ib_dhcp4_msg *m)
{
	const uint8_t *cid = NULL;
	size_t cid_len = 0;
	bool ether = m->htype == 1 && m->hlen == 6;

	ib_dhcp4_opt(m, IB_OPT_CLIENT_ID, &cid, &cid_len);
	/* A client-id reservation is the more specific identity: it wins. */
	for (size_t i = 0; cid && i < sn->n_reservations; i++) {
		const struct ib_reservation4 *r = &sn->reservations[i];

		if (r->client_id_len && r->client_id_len == cid_len &&
		    memcmp(r->client_id, cid, cid_len) == 0)
			return r;
	}
	for (size_t i = 0; ether && i < sn->n_reservations; i++) {
		const struct ib_reservation4 *r = &sn->reservations[i];

		if (r->has_mac && memcmp(r->mac, m->chaddr, 6) == 0)
			return r;
	}
	return NULL;
}

const struct ib_subnet4 *ib_dhcp4_select_subnet(const struct ib_config *cfg,
						const struct ib_dhcp4_msg *m,
						uint32_t server_addr)
{
	const uint8_t *p;
	size_t len;
	uint32_t a;

	/* RFC 3527 2: the link selection sub-option overrides giaddr. */
	if (m->giaddr && ib_dhcp4_subopt(m, IB_OPT_RELAY_AGENT,
					 IB_RAI_LINK_SELECTION, &p, &len) == 0 &&
	    len == 4)
		return ib_config_subnet_for(cfg, (uint32_t)p[0] << 24 |
					    (uint32_t)p[1] << 16 |
					    (uint32_t)p[2] << 8 | p[3]);
	/*
	 * RFC 3011: the subnet selection option, taken from a relayed request
	 * only: a direct client's link is the one it arrived on, not another
	 * subnet's pool of its choosing (docs/SECURITY.md).
	 */
	if (m->giaddr && ib_dhcp4_opt_ip(m, IB_OPT_SUBNET_SELECTION, &a) == 0)
		return ib_config_subnet_for(cfg, a);
	/* RFC 2131 4.3.1: giaddr names the client's link, else the arrival one. */
	return ib_config_subnet_for(cfg, m->giaddr ? m->giaddr : server_addr);
}

/* RFC 2131 4.1: where a reply goes. */
static enum ib_dhcp4_dest reply_dest(const struct ib_dhcp4_msg *m, uint8_t type)
{
	if (m->giaddr)
		return IB_D4_TO_RELAY;
	if (type == IB_DHCP4_NAK)
		return IB_D4_TO_BROADCAST;
	if (m->ciaddr)
		return IB_D4_TO_CIADDR;
	/*
	 * A client without an address, broadcast flag or not: broadcast on
	 * the arrival link.  Unicasting to yiaddr would need an ARP entry
	 * forged for a host that cannot answer ARP yet.
	 */
	return IB_D4_TO_BROADCAST;
}

static int drop(struct ib_dhcp4_decision *d, const char *reason)
{
	d->action = IB_D4_DROP;
	d->reason = reason;
	return 0;
}

static bool addr_listed(const uint32_t *list, size_t n, uint32_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == addr)
			return true;
	return false;
}

/*
 * Whether the relay that sent a relayed request (giaddr set; the
 * datagram's source is the relay agent) may speak for its client: listed
 * in dhcp4.relays, or in the relays of the subnet it names.  giaddr,
 * option 82 (link selection, circuit and remote id) and option 118 are
 * the relay's word; from an unlisted source they are any host's
 * (docs/SECURITY.md), as for a DHCPv6 RELAY-FORW.
 */
static bool relay_allowed(const struct ib_dhcp4_input *in)
{
	const struct ib_subnet4 *sn;

	if (addr_listed(in->cfg->dhcp4.relays, in->cfg->dhcp4.n_relays, in->src_addr))
		return true;
	sn = ib_dhcp4_select_subnet(in->cfg, in->msg, in->server_addr);
	return sn && addr_listed(sn->relays, sn->n_relays, in->src_addr);
}

/*
 * RFC 5107: a relay's Server Identifier Override (82.11, 4 bytes) is the
 * server identifier of our replies to its clients, so that their REQUESTs,
 * RENEWs and RELEASEs go to the relay, which forwards them to every
 * server it helps: any live one answers (docs/SCALE-OUT.md).  Taken from a
 * relayed request only, whose relay ib_dhcp4_decide() has checked against
 * the allow-list: a client's own option 82 (giaddr 0) names nothing.
 */
static void take_override(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	const uint8_t *p;
	size_t len;
	uint32_t a;

	if (!in->msg->giaddr || ib_dhcp4_subopt(in->msg, IB_OPT_RELAY_AGENT,
						IB_RAI_SERVER_ID_OVERRIDE, &p, &len) < 0 ||
	    len != 4)
		return;
	a = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	/* an address a client can send to: not 0, 127/8, class D/E */
	if (a == 0 || (a >> 24) == 127 || a >= 0xe0000000u)
		return;
	d->server_id = a;
}

/* Whether the request's option 54 is our address on the arrival link. */
static bool names_our_address(const struct ib_dhcp4_input *in)
{
	uint32_t sid;

	return ib_dhcp4_opt_ip(in->msg, IB_OPT_SERVER_ID, &sid) == 0 &&
	       sid == in->server_addr;
}

/* Whether sid (a request's option 54) names us: our address on the
 * arrival link, or the identifier our replies to this relay carry. */
static bool ours(const struct ib_dhcp4_input *in, const struct ib_dhcp4_decision *d,
		 uint32_t sid)
{
	return sid == in->server_addr || sid == d->server_id;
}

/* An OFFER or ACK of d->address on sn: its lease, boot answer and route. */
static int lease(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
		 uint8_t type, struct ib_dhcp4_decision *d)
{
	ib_boot_decide(in->cfg, in->msg, d->resv, &d->boot);
	d->subnet = sn;
	d->lease_time = sn->lease_time;
	d->reply_type = type;
	d->dest = reply_dest(in->msg, type);
	return 0;
}

/* d becomes a NAK for reason (and its route). */
static int to_nak(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d,
		  const char *reason)
{
	d->action = IB_D4_NAK;
	d->reason = reason;
	d->reply_type = IB_DHCP4_NAK;
	d->dest = reply_dest(in->msg, IB_DHCP4_NAK);
	return 0;
}

static int nak(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d,
	       const char *reason)
{
	/* RFC 2131 4.3.2: stay silent unless authoritative for this link. */
	if (!in->cfg->dhcp4.authoritative)
		return drop(d, reason);
	return to_nak(in, d, reason);
}

/* The store refused an ACK's binding: see dhcp4_policy.h. */
void ib_dhcp4_refuse(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d,
		     const char *reason)
{
	/* the address is another's now: whoever we are, the client must
	 * not use it (RFC 2131 4.3.2) */
	to_nak(in, d, reason);
}

size_t ib_dhcp4_hold_cap(const struct ib_subnet4 *sn)
{
	uint64_t n = 0;

	for (size_t i = 0; i < sn->n_pools; i++)
		n += (uint64_t)sn->pools[i].end - sn->pools[i].start + 1;
	n = n * IB_D4_HOLD_SHARE / 100;
	return n ? (size_t)n : 1;
}

/*
 * The source a hold is filed under: the relay, by the datagram's source
 * (the address relay_allowed() checked; giaddr is the relay's word, but a
 * client behind it may set its own, a new one each DISCOVER), else the
 * arrival link.
 */
static uint64_t hold_source(const struct ib_dhcp4_input *in)
{
	if (in->msg->giaddr)
		return ib_ledger_source_relay4(in->src_addr);
	return ib_ledger_source_link(in->ifindex);
}

/* Another client's OFFER hold of sn, the oldest (of source, or any). */
static bool oldest_hold(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
			const uint64_t *source, uint32_t *ret)
{
	const struct ib_lease_view *v = in->view;
	uint32_t a;

	if (!v->oldest_hold || v->oldest_hold(v->ctx, sn, source, &a) < 0 ||
	    !in_pools(sn, a) || !v->offered_to_other || !v->offered_to_other(v->ctx, a, in->msg))
		return false;
	*ret = a;
	return true;
}

/*
 * Chooses the address to offer, most stable first.  Issue #11: a new
 * client of a source at its share of the pool takes over that source's
 * oldest OFFER; a new client finding no free address takes over the
 * subnet's oldest OFFER.  A binding is never taken, and neither is a
 * reserved address (reservations lie outside the pools).
 */
static int choose_offer(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
			struct ib_dhcp4_decision *d)
{
	const struct ib_lease_view *v = in->view;
	const struct ib_dhcp4_msg *m = in->msg;
	struct ib_lease4 l;
	uint32_t a;

	if (d->resv) {
		d->address = d->resv->address;
		d->reason = "reservation";
		return 0;
	}
	if (v->find_client(v->ctx, m, &l) == 0 &&
	    in_subnet(sn, l.address) && in_pools(sn, l.address) &&
	    v->is_free(v->ctx, l.address, m)) {
		d->address = l.address;
		d->reason = "client's previous address";
		return 0;
	}
	if (v->holds && v->holds(v->ctx, sn, d->source) >= ib_dhcp4_hold_cap(sn) &&
	    oldest_hold(in, sn, &d->source, &a)) {
		d->address = a;
		d->take = IB_D4_TAKE_CAP;
		d->reason = "oldest offer of this relay or link taken over (at its share of the pool)";
		return 0;
	}
	if (ib_dhcp4_opt_ip(m, IB_OPT_REQUESTED_IP, &a) == 0 && in_subnet(sn, a) &&
	    in_pools(sn, a) && v->is_free(v->ctx, a, m)) {
		d->address = a;
		d->reason = "requested address";
		return 0;
	}
	if (v->pick_free(v->ctx, sn, m, &a) == 0) {
		d->address = a;
		d->reason = "free address from pool";
		return 0;
	}
	if (oldest_hold(in, sn, NULL, &a)) {
		d->address = a;
		d->take = IB_D4_TAKE_SHORT;
		d->reason = "pool short: oldest offer taken over";
		return 0;
	}
	return -ENOSPC;
}

static int on_discover(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
		       struct ib_dhcp4_decision *d)
{
	if (!sn)
		return drop(d, "no subnet configured for this link");
	d->resv = ib_dhcp4_find_reservation(sn, in->msg);
	d->source = hold_source(in);
	if (choose_offer(in, sn, d) < 0) {
		d->exhausted = true;
		d->subnet = sn;
		return drop(d, "pool exhausted");
	}
	d->action = IB_D4_OFFER;
	return lease(in, sn, IB_DHCP4_OFFER, d);
}

/* RFC 2131 4.3.2: may addr be bound to this client on sn? NULL = yes. */
static const char *check_binding(const struct ib_dhcp4_input *in,
				 const struct ib_subnet4 *sn, uint32_t a, bool selecting,
				 struct ib_dhcp4_decision *d)
{
	const struct ib_reservation4 *other;

	if (!in_subnet(sn, a))
		return "requested address is not on this network";
	d->resv = ib_dhcp4_find_reservation(sn, in->msg);
	if (d->resv)
		return d->resv->address == a ? NULL :
		       "client has a reservation for another address";
	other = reservation_of_addr(sn, a);
	if (other)
		return "address is reserved for another client";
	if (!in_pools(sn, a))
		return "address is not in a pool";
	if (in->view->is_free(in->view->ctx, a, in->msg))
		return NULL;
	/*
	 * Held by an OFFER to another client, not bound: a client that
	 * selected our OFFER of it gets it (issue #11: under a flood its own
	 * hold may have been taken over meanwhile; the other client, if it
	 * asks, is NAKed and starts again).
	 */
	if (selecting && in->view->offered_to_other &&
	    in->view->offered_to_other(in->view->ctx, a, in->msg)) {
		d->superseded = true;
		return NULL;
	}
	return "address is bound to another client";
}

/* Whether we know the client holds a (the RFC's "record of this client"). */
static bool has_record(const struct ib_dhcp4_input *in, uint32_t a)
{
	struct ib_lease4 l;

	return in->view->find_client(in->view->ctx, in->msg, &l) == 0 &&
	       l.address == a;
}

/* state names the client's state (RFC 2131 4.3.2) for the journal;
 * selecting: it answers our OFFER (server id ours). */
static int ack_request(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
		       uint32_t a, const char *state, bool selecting,
		       struct ib_dhcp4_decision *d)
{
	const char *why;

	d->address = a;
	why = check_binding(in, sn, a, selecting, d);
	/*
	 * RFC 2131 4.3.2: a SELECTING request that names our own address is
	 * ours to answer, authoritative or not: ACK an address free for the
	 * client, else NAK.  Silence strands the client in its
	 * retransmissions, and a restarted daemon holds no record of the
	 * OFFER it answers.  One that names the relay's override (RFC 5107)
	 * may have chosen another server behind that relay, whose address is
	 * none of ours: NAK it only when authoritative.  Either way our own
	 * OFFER to the client, if any, is over.
	 */
	if (why && selecting) {
		d->forget_offer = true;
		return names_our_address(in) ? to_nak(in, d, why) : nak(in, d, why);
	}
	if (why)
		return nak(in, d, why);
	/* Not authoritative: any other request we have no record of is not ours. */
	if (!selecting && !in->cfg->dhcp4.authoritative && !d->resv && !has_record(in, a))
		return drop(d, "no record of this client (not authoritative)");
	d->action = IB_D4_ACK;
	d->reason = state;
	return lease(in, sn, IB_DHCP4_ACK, d);
}

static int on_request(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
		      struct ib_dhcp4_decision *d)
{
	const struct ib_dhcp4_msg *m = in->msg;
	uint32_t sid, req;
	bool has_sid = ib_dhcp4_opt_ip(m, IB_OPT_SERVER_ID, &sid) == 0;
	bool has_req = ib_dhcp4_opt_ip(m, IB_OPT_REQUESTED_IP, &req) == 0;

	if (has_sid && !ours(in, d, sid)) {
		d->forget_offer = true;
		return drop(d, "client selected another server");
	}
	if (!sn)
		return drop(d, "no subnet configured for this link");
	/* RFC 2131 4.3.2: tell the client states apart by 54, 50 and ciaddr. */
	if (has_sid) {
		if (!has_req || m->ciaddr)
			return drop(d, "SELECTING request without requested address");
		return ack_request(in, sn, req, "selecting", true, d);
	}
	if (has_req && !m->ciaddr)
		return ack_request(in, sn, req, "init-reboot", false, d);
	if (m->ciaddr)
		return ack_request(in, sn, m->ciaddr,
				   in->to_us ? "renewing" : "rebinding", false, d);
	return drop(d, "request without requested address or ciaddr");
}

/* RELEASE and DECLINE name our server id; others are not ours. */
static bool for_us(const struct ib_dhcp4_input *in, const struct ib_dhcp4_decision *d)
{
	uint32_t sid;

	return ib_dhcp4_opt_ip(in->msg, IB_OPT_SERVER_ID, &sid) != 0 || ours(in, d, sid);
}

static int on_decline(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
		      struct ib_dhcp4_decision *d)
{
	uint32_t a;

	if (!for_us(in, d))
		return drop(d, "DECLINE for another server");
	if (ib_dhcp4_opt_ip(in->msg, IB_OPT_REQUESTED_IP, &a) < 0)
		return drop(d, "DECLINE without requested address");
	if (!sn || !in_subnet(sn, a))
		return drop(d, "DECLINE for an address not on this network");
	/* RFC 2131 4.3.3: only the client we bound the address to declines it. */
	if (!has_record(in, a))
		return drop(d, "DECLINE of an address the client does not hold");
	d->action = IB_D4_DECLINE;
	d->reason = "address in use on the network (client's ARP check)";
	d->subnet = sn;
	d->address = a;
	return 0;
}

static int on_release(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
		      struct ib_dhcp4_decision *d)
{
	if (!for_us(in, d))
		return drop(d, "RELEASE for another server");
	if (!in->msg->ciaddr)
		return drop(d, "RELEASE without ciaddr");
	if (!has_record(in, in->msg->ciaddr))
		return drop(d, "RELEASE of an address the client does not hold");
	d->action = IB_D4_RELEASE;
	d->reason = "client released";
	d->subnet = sn;
	d->address = in->msg->ciaddr;
	return 0;
}

static int on_inform(const struct ib_dhcp4_input *in, const struct ib_subnet4 *sn,
		     struct ib_dhcp4_decision *d)
{
	const struct ib_dhcp4_msg *m = in->msg;

	/* RFC 2131 4.3.5: the client's subnet comes from ciaddr when no relay. */
	if (!m->giaddr && m->ciaddr)
		sn = ib_config_subnet_for(in->cfg, m->ciaddr);
	if (!sn)
		return drop(d, "INFORM from an address not on a configured subnet");
	d->action = IB_D4_INFORM;
	d->reason = "configuration only";
	d->subnet = sn;
	d->resv = ib_dhcp4_find_reservation(sn, m);
	ib_boot_decide(in->cfg, m, d->resv, &d->boot);
	d->reply_type = IB_DHCP4_ACK;
	d->dest = reply_dest(m, IB_DHCP4_ACK);
	return 0;
}

static const handler_fn handlers[] = {
	[IB_DHCP4_DISCOVER] = on_discover,
	[IB_DHCP4_REQUEST] = on_request,
	[IB_DHCP4_DECLINE] = on_decline,
	[IB_DHCP4_RELEASE] = on_release,
	[IB_DHCP4_INFORM] = on_inform,
};

/*
 * proxyDHCP (PXE spec 2.2.2): answer PXE DISCOVERs on port 67 with boot
 * information and no address; answer REQUESTs on port 4011 with the same.
 */
static int decide_proxy(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	const struct ib_dhcp4_msg *m = in->msg;
	uint8_t type;

	ib_boot_decide(in->cfg, m, NULL, &d->boot);
	if (d->boot.client == IB_BOOT_NONE || d->boot.client == IB_BOOT_HTTP)
		return drop(d, "proxyDHCP: not a PXE client");
	if (!d->boot.file)
		return drop(d, d->boot.why);
	if (in->proxy_port && m->type == IB_DHCP4_REQUEST)
		type = IB_DHCP4_ACK;
	else if (!in->proxy_port && m->type == IB_DHCP4_DISCOVER)
		type = IB_DHCP4_OFFER;
	else
		return drop(d, "proxyDHCP: message left to the network's DHCP server");
	d->action = IB_D4_PROXY;
	d->reason = type == IB_DHCP4_OFFER ? "proxy offer" : "proxy boot answer";
	d->reply_type = type;
	d->dest = in->proxy_port ? IB_D4_TO_SOURCE : reply_dest(m, type);
	return 0;
}

void ib_dhcp4_keep_until(struct ib_dhcp4_decision *d, int64_t now, int64_t expires)
{
	d->lease_time = (uint32_t)IB_MIN(expires - now, (int64_t)d->lease_time);
	d->reason = "store unreachable: renewed within the stored lease";
}

/* ---- laying out the decided reply ---- */

/* An OFFER's or ACK's: the address, its times and options, the boot file. */
static int lay_out_lease(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	const struct ib_dhcp4_msg *m = in->msg;
	struct ib_dhcp4_out *o = &d->reply;
	int r = 0;

	o->yiaddr = d->address;
	o->ciaddr = d->reply_type == IB_DHCP4_ACK ? m->ciaddr : 0;
	r |= ib_dhcp4_reply_times(o, d->subnet, d->lease_time);
	r |= ib_dhcp4_reply_subnet(o, d->subnet, d->resv, m);
	r |= ib_dhcp4_reply_boot(o, in->cfg, &d->boot, in->server_addr, false);
	return r;
}

static int lay_out_nak(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	int r = ib_dhcp4_out_add_str(&d->reply, IB_OPT_MESSAGE, d->reason);

	/* RFC 2131 4.3.2: a NAK through a relay sets the broadcast bit. */
	if (in->msg->giaddr)
		d->reply.flags |= IB_DHCP4_FLAG_BROADCAST;
	return r;
}

/* RFC 2131 4.3.5: an INFORM's ACK has no lease time and no yiaddr. */
static int lay_out_inform(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	struct ib_dhcp4_out *o = &d->reply;

	o->ciaddr = in->msg->ciaddr;
	return ib_dhcp4_reply_subnet(o, d->subnet, d->resv, in->msg) |
	       ib_dhcp4_reply_boot(o, in->cfg, &d->boot, in->server_addr, false);
}

static int lay_out_proxy(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	return ib_dhcp4_reply_boot(&d->reply, in->cfg, &d->boot, in->server_addr, true);
}

/* The layout of each action's reply (between its start and option 82). */
static int (*const layouts[])(const struct ib_dhcp4_input *in,
			      struct ib_dhcp4_decision *d) = {
	[IB_D4_OFFER] = lay_out_lease,
	[IB_D4_ACK] = lay_out_lease,
	[IB_D4_NAK] = lay_out_nak,
	[IB_D4_INFORM] = lay_out_inform,
	[IB_D4_PROXY] = lay_out_proxy,
};

/* Lays out d's reply: see dhcp4_policy.h. */
int ib_dhcp4_lay_out(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	int r;

	ib_dhcp4_out_init(&d->reply);
	if (d->action >= IB_ARRAY_SIZE(layouts) || !layouts[d->action])
		return 0;
	ib_dhcp4_reply_start(in->msg, d->reply_type, d->server_id, &d->reply);
	r = layouts[d->action](in, d);
	r |= ib_dhcp4_reply_relay(&d->reply, in->msg);
	return r ? -ENOBUFS : 0;
}

int ib_dhcp4_decide(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *ret)
{
	const struct ib_dhcp4_msg *m = in->msg;
	const struct ib_subnet4 *sn;

	memset(ret, 0, offsetof(struct ib_dhcp4_decision, reply));
	ib_dhcp4_out_init(&ret->reply);
	ret->max_len = ib_dhcp4_reply_max_len(m);
	ret->boot.arch = 0xffff;
	ret->server_id = in->server_addr;
	if (m->op != IB_DHCP4_BOOTREQUEST)
		return drop(ret, "not a BOOTREQUEST");
	if (m->giaddr && !relay_allowed(in)) {
		ret->relay_refused = true;
		return drop(ret, "relay not allowed");
	}
	if (in->cfg->dhcp4.mode == IB_DHCP4_MODE_PROXY)
		return decide_proxy(in, ret);
	if (in->proxy_port)
		return drop(ret, "port 4011 is served in proxy mode only");
	take_override(in, ret);
	if (m->type >= IB_ARRAY_SIZE(handlers) || !handlers[m->type])
		return drop(ret, "not a client message");
	sn = ib_dhcp4_select_subnet(in->cfg, m, in->server_addr);
	return handlers[m->type](in, sn, ret);
}

const char *ib_dhcp4_type_str(uint8_t type)
{
	static const char *const names[] = {
		[IB_DHCP4_DISCOVER] = "discover", [IB_DHCP4_OFFER] = "offer",
		[IB_DHCP4_REQUEST] = "request", [IB_DHCP4_DECLINE] = "decline",
		[IB_DHCP4_ACK] = "ack", [IB_DHCP4_NAK] = "nak",
		[IB_DHCP4_RELEASE] = "release", [IB_DHCP4_INFORM] = "inform",
	};

	return type < IB_ARRAY_SIZE(names) && names[type] ? names[type] : "unknown";
}
