/*
 * The DHCPv4 shell.  One UDP socket on the server port (and one on 4011 in
 * proxy mode) with IP_PKTINFO, so that every reply leaves from the address
 * of the interface its request arrived on, and broadcasts go out of that
 * interface even when it has no route.  The engine both families share
 * (src/dhcp/dhcp_engine.h) reads the requests in batches, commits the
 * ACKs of a batch to the store in one transaction (group commit) and
 * sends them only after it is durable; this file gives it DHCPv4's
 * sockets, decisions, bindings and replies.
 */
#include "dhcp4/dhcp4_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "dhcp/dhcp_engine.h"
#include "dhcp/dhcp_ifaces.h"
#include "dhcp/dhcp_shortage.h"
#include "dhcp4/dhcp4_leases.h"
#include "dhcp4/dhcp4_policy.h"
#include "dhcp4/dhcp4_server_int.h"
#include "dhcp4/dhcp4_server_journal.h"

#define RCVBUF (8 << 20)		/* absorbs a storm while a group commit syncs */
#define RELAY_LOG_SEC 60		/* refused relays: at most one log line per */

/* Whom a reply is for, should the kernel refuse it (the engine's tag). */
struct sent_tag {
	struct ib_d4_who who;		/* for the journal */
	bool limited;			/* an unknown client's: journal rate-limited */
};

/*
 * A request and its decision, waiting for the group commit when it changes
 * a binding: decided at once, committed, then laid out (an ACK the store
 * refuses is laid out as a NAK).
 */
struct pending {
	struct ib_dhcp4_msg msg;	/* the request, parsed */
	struct ib_dhcp4_input in;	/* the policy's inputs (msg is ours) */
	struct ib_dhcp4_decision d;	/* with its reply, once laid out */
	struct ib_lease4 lease;		/* row to write (ACK, DECLINE) */
	struct ib_dhcp_dest rt;		/* where the reply goes */
	struct ib_d4_who who;		/* journal identity */
	struct ib_d4_note note;		/* the request, for the journal */
	struct ib_journal_gate gate;	/* how the journal may thin it out */
	bool applied;			/* the store took the change */
	bool refused;			/* the store refused the ACK: another won */
};

static int open_socket(uint16_t port, int *ret)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

/*
 * Builds a decision's laid out reply into the outbox (r: how its layout
 * went); journals the exchange.
 */
static void send_reply(struct ib_dhcp4_server *s, struct pending *p, int r)
{
	struct sent_tag tag = { p->who, p->gate.limited };
	size_t len = 0, cap;
	uint8_t *buf = ib_dhcp_out_room(s->eng, p->rt.fd, &cap);

	if (r == 0)
		r = ib_dhcp4_build(&p->d.reply, p->d.max_len, buf, cap, &len);
	ib_d4_journal_exchange(s->journal, &p->who, &p->note, &p->d, &p->rt.to.in,
			       p->rt.src4, r, &p->gate);
	if (r < 0) {
		s->stats.send_errors++;
		ib_warn("dhcp4: reply not built: %s", strerror(-r));
		return;
	}
	ib_dhcp_out_push(s->eng, &p->rt, len, &tag, sizeof(tag));
	switch (p->d.action) {
	case IB_D4_OFFER: s->stats.offers++; break;
	case IB_D4_ACK: s->stats.acks++; break;
	case IB_D4_NAK: s->stats.naks++; break;
	case IB_D4_INFORM: s->stats.informs++; break;
	case IB_D4_PROXY: s->stats.proxies++; break;
	default: break;
	}
}

/*
 * RFC 2131 4.1: the destination of p's reply (decided, perhaps not laid
 * out yet: the addresses are the request's, which the reply repeats), and
 * the interface it leaves by.
 */
static void route_reply(const struct ib_dhcp4_server *s, const struct pending *p,
			const struct sockaddr_in *from, int fd, struct ib_dhcp_dest *rt)
{
	const struct ib_dhcp4_msg *m = &p->msg;
	struct sockaddr_in *to = &rt->to.in;

	memset(rt, 0, sizeof(*rt));
	to->sin_family = AF_INET;
	rt->src4 = p->in.server_addr;
	rt->fd = fd;
	switch (p->d.dest) {
	case IB_D4_TO_RELAY:
		to->sin_addr.s_addr = htonl(m->giaddr);
		to->sin_port = htons(s->cfg->dhcp4.port);
		break;
	case IB_D4_TO_CIADDR:
		/* the reply's ciaddr: the request's in an ACK (also INFORM's),
		 * 0 in any other reply (never unicast where a DISCOVER says) */
		to->sin_addr.s_addr = p->d.action == IB_D4_ACK || p->d.action == IB_D4_INFORM ?
				      htonl(m->ciaddr) : 0;
		to->sin_port = htons(s->cfg->dhcp4.client_port);
		break;
	case IB_D4_TO_SOURCE:
		if (from->sin_addr.s_addr != INADDR_ANY) {
			*to = *from;
			break;
		}
		/* A source without an address hears broadcasts. */
		__attribute__((fallthrough));
	case IB_D4_TO_BROADCAST:
		to->sin_addr.s_addr = htonl(INADDR_BROADCAST);
		to->sin_port = htons(s->cfg->dhcp4.client_port);
		rt->ifindex = p->in.ifindex;
		break;
	}
}

static void fill_lease(const struct ib_dhcp4_server *s, const struct ib_dhcp4_msg *m,
		       const struct ib_dhcp4_decision *d, struct ib_lease4 *l)
{
	const uint8_t *p;
	size_t len;

	memset(l, 0, sizeof(*l));
	l->address = d->address;
	l->subnet = d->subnet ? d->subnet->network : 0;
	l->htype = m->htype;
	l->hw_len = m->hlen;
	memcpy(l->hwaddr, m->chaddr, m->hlen);
	/* The lease's identity is the cache's: see ib_d4_client_id(). */
	p = ib_d4_client_id(m, &len);
	if (p && len <= sizeof(l->client_id)) {
		memcpy(l->client_id, p, len);
		l->client_id_len = (uint8_t)len;
	}
	if (d->resv && d->resv->hostname)
		snprintf(l->hostname, sizeof(l->hostname), "%s", d->resv->hostname);
	else if (ib_dhcp4_opt(m, IB_OPT_HOSTNAME, &p, &len))
		ib_str_sanitize(p, len, l->hostname, sizeof(l->hostname));
	l->cltt = s->now;
	l->expires = s->now + d->lease_time;
	l->state = IB_LEASE_ACTIVE;
}

static void apply_cache(struct ib_dhcp4_server *s, const struct pending *p)
{
	struct ib_d4_key k;

	ib_d4_key_from_lease(&p->lease, &k);
	switch (p->d.action) {
	case IB_D4_ACK:
		ib_d4_leases_set(s->leases, p->d.address, IB_D4_BOUND, &k, p->lease.expires);
		break;
	case IB_D4_RELEASE:
		ib_d4_leases_remove(s->leases, p->d.address);
		break;
	case IB_D4_DECLINE:
		ib_d4_leases_set(s->leases, p->d.address, IB_D4_QUARANTINED, &k,
				 s->now + s->cfg->dhcp4.decline_hold);
		break;
	default:
		break;
	}
}

/*
 * Plans one pending decision's write (dhcp_plan.h), its times fixed now:
 * the row an ACK commits, the state a RELEASE sets, the row a DECLINE
 * commits then quarantines.
 */
static void plan_one(void *ctx, void *slot, struct ib_dhcp_plan *pl)
{
	static const enum ib_dhcp_write_op ops[] = {
		[IB_D4_ACK] = IB_DHCP_W4_COMMIT,
		[IB_D4_RELEASE] = IB_DHCP_W4_STATE,
		[IB_D4_DECLINE] = IB_DHCP_W4_DECLINE,
	};
	struct ib_dhcp4_server *s = ctx;
	struct pending *p = slot;
	struct ib_dhcp_write *w;

	p->applied = p->refused = false;
	if (p->d.action != IB_D4_ACK && p->d.action != IB_D4_RELEASE &&
	    p->d.action != IB_D4_DECLINE)
		return;
	w = ib_dhcp_plan_add(pl, ops[p->d.action]);
	if (!w)
		return;
	w->row.l4 = p->lease;
	w->now = s->now;
	w->state = IB_LEASE_RELEASED;
	w->expires = p->d.action == IB_D4_DECLINE ? s->now + s->cfg->dhcp4.decline_hold : s->now;
}

/*
 * The store's verdict on p's write; p->applied says whether the store
 * took it (the cache follows the store, never leads it).
 */
static void verdict_one(void *ctx, void *slot, const struct ib_dhcp_write *w)
{
	struct ib_dhcp4_server *s = ctx;
	struct pending *p = slot;

	p->applied = w->verdict == 0;
	if (p->d.action == IB_D4_ACK && w->verdict == -EEXIST) {
		/* Another client or server won the address: the store decides,
		 * and the reply laid out after the commit is a NAK, routed as
		 * one. */
		struct sockaddr_in from = p->rt.to.in;

		ib_dhcp4_refuse(&p->in, &p->d,
			"address is bound to another client (store refused the commit)");
		route_reply(s, p, &from, p->rt.fd, &p->rt);
		p->refused = true;
	} else if (p->applied && p->d.action != IB_D4_ACK) {
		ib_d4_journal_lease(s->journal, &p->who, p->d.action == IB_D4_RELEASE ?
				    "lease-release" : "lease-decline", &p->lease);
	}
}

/*
 * The batch was not stored.  While the store's database is down
 * (store_pg_conn.c), an ACK that renews a binding this daemon holds (its
 * cache: the address bound to this client until a later time, a row that
 * is stored) goes out for what is left of that lease: no new row is
 * needed for it.  Anything else waits for the store: no reply, the
 * client retries.
 */
static void renew_while_down(struct ib_dhcp4_server *s, struct pending *p)
{
	struct ib_store_link link;
	struct ib_d4_key k;
	int64_t until;

	if (p->d.action != IB_D4_ACK)
		return;
	ib_dhcp_engine_link(s->eng, &link);
	if (link.up)
		return;
	ib_d4_key_from_lease(&p->lease, &k);
	until = ib_d4_leases_bound_until(s->leases, p->d.address, &k, s->now);
	if (until <= s->now)
		return;
	ib_dhcp4_keep_until(&p->d, s->now, until);
	s->stats.kept_while_down++;
	send_reply(s, p, ib_dhcp4_lay_out(&p->in, &p->d));
}

/*
 * The engine's group commit is durable (ok) or undone: the cache follows
 * the store, and the ACK or NAK leaves only now.  Journal events are
 * flushed separately (timer): they describe the exchange, they are not
 * the binding.
 */
static void committed(void *ctx, void *slot, bool ok)
{
	struct ib_dhcp4_server *s = ctx;
	struct pending *p = slot;

	if (!ok) {
		renew_while_down(s, p);
		return;
	}
	s->stats.releases += p->d.action == IB_D4_RELEASE;
	s->stats.declines += p->d.action == IB_D4_DECLINE;
	if (p->applied)
		apply_cache(s, p);
	/* The cache learns the winner (the stored row), or this client would
	 * be offered the same address again and NAKed again. */
	if (p->refused)
		ib_dhcp4_server_follow(s, p->lease.address);
	if (p->d.action == IB_D4_ACK || p->d.action == IB_D4_NAK)
		send_reply(s, p, ib_dhcp4_lay_out(&p->in, &p->d));
	else
		ib_d4_journal_exchange(s->journal, &p->who, &p->note, &p->d,
				       &p->rt.to.in, p->rt.src4, 0, &p->gate);
}

static void batch_done(void *ctx, int err)
{
	struct ib_dhcp4_server *s = ctx;

	s->stats.commit_batches++;
	s->stats.commit_errors += err < 0;
}

static void log_reject(struct ib_dhcp4_server *s, const struct sockaddr_in *from,
		       enum ib_dhcp4_reject why)
{
	char src[IB_IP4_STRLEN];

	s->stats.rejected[why]++;
	if (s->reject_logged[why]) {
		ib_debug("dhcp4: dropped malformed packet: %s", ib_dhcp4_reject_str(why));
		return;
	}
	s->reject_logged[why] = true;
	ib_ip4_format(ntohl(from->sin_addr.s_addr), src);
	ib_warn("dhcp4: dropped malformed packet from %s:%u: %s (logged once per reason; counted)",
		src, ntohs(from->sin_port), ib_dhcp4_reject_str(why));
}

/* Whether the inventory lists mac (a known machine, for the journal). */
static bool in_inventory(const struct ib_config *cfg, const struct ib_dhcp4_msg *m)
{
	if (m->htype != 1 || m->hlen != 6)
		return false;
	for (size_t i = 0; i < cfg->n_machines; i++)
		if (cfg->machines[i].has_mac && memcmp(cfg->machines[i].mac, m->chaddr, 6) == 0)
			return true;
	return false;
}

/* The note of d's subnet (made on first use; NULL without memory). */
static struct pool_note *pool_note(struct ib_dhcp4_server *s, const struct ib_subnet4 *sn)
{
	struct pool_note *np;

	for (size_t i = 0; i < s->n_pools; i++)
		if (s->pools[i].network == sn->network && s->pools[i].mask == sn->mask)
			return &s->pools[i];
	np = realloc(s->pools, (s->n_pools + 1) * sizeof(*np));
	if (!np)
		return NULL;
	s->pools = np;
	np = &s->pools[s->n_pools++];
	*np = (struct pool_note){ .network = sn->network, .mask = sn->mask };
	return np;
}

/* A shortage in DHCPv4's words. */
static const struct ib_dhcp_shortage_words short4 = {
	"dhcp4", "OFFERs took over the oldest OFFER",
	"DISCOVERs unanswered (no free address, no OFFER to take over)", IB_D4_HOLD_SHARE,
};

/* The text of n's subnet, for the log: "198.19.0.0/16". */
static void note_text(const struct pool_note *n, char out[IB_IP4_STRLEN + 4])
{
	ib_ip4_format(n->network, out);
	snprintf(out + strlen(out), 4, "/%d", __builtin_popcount(n->mask));
}

/* Logs n's counts if any and due (or whatever when force). */
static void pool_note_log(struct ib_dhcp4_server *s, struct pool_note *n, bool force)
{
	char net[IB_IP4_STRLEN + 4];

	note_text(n, net);
	ib_dhcp_shortage_log(&n->sh, &short4, net, s->now, force);
}

/* Counts a DISCOVER that met a short pool (issue #11), logged rate-limited. */
static void note_pool(struct ib_dhcp4_server *s, const struct ib_dhcp4_decision *d)
{
	const uint64_t counts[3] = { d->take == IB_D4_TAKE_SHORT, d->take == IB_D4_TAKE_CAP,
				     d->exhausted };
	char net[IB_IP4_STRLEN + 4];
	struct pool_note *n;

	if ((d->take == IB_D4_TAKE_NONE && !d->exhausted) || !d->subnet ||
	    !(n = pool_note(s, d->subnet)))
		return;
	note_text(n, net);
	ib_dhcp_shortage_count(&n->sh, &short4, net, s->now, counts);
}

/*
 * A relayed request from a source no relays list names (issue #11):
 * counted, logged the first time and then at most once a minute with the
 * count since, never journalled (its chaddr, option 82 and giaddr are any
 * host's word).
 */
static void note_relay_refused(struct ib_dhcp4_server *s, const struct sockaddr_in *from,
			       const struct ib_dhcp4_msg *m)
{
	char src[IB_IP4_STRLEN], gi[IB_IP4_STRLEN];

	s->stats.ignored++;
	s->stats.relay_refused++;
	s->stats.relay_refused_from = ntohl(from->sin_addr.s_addr);
	if (s->now < s->relay_log_at)
		return;
	ib_ip4_format(s->stats.relay_refused_from, src);
	ib_ip4_format(m->giaddr, gi);
	ib_warn("dhcp4: dropped a relayed request from %s (giaddr %s): not in dhcp4.relays "
		"nor its subnet's relays (%" PRIu64 " dropped so far; logged at most once a "
		"minute)", src, gi, s->stats.relay_refused);
	s->relay_log_at = s->now + RELAY_LOG_SEC;
}

/* Whether the datagram was sent to our own address (not broadcast). */
static bool unicast_to_us(const struct in_pktinfo *pi)
{
	return pi->ipi_addr.s_addr == pi->ipi_spec_dst.s_addr;
}

/* Decides and applies one parsed request in p; 1 when p joins the batch. */
static int handle(struct ib_dhcp4_server *s, struct pending *p, const struct sockaddr_in *from,
		  const struct in_pktinfo *pi, int fd)
{
	struct ib_d4_key k;
	bool known;

	p->in = (struct ib_dhcp4_input){
		.cfg = s->cfg, .msg = &p->msg, .server_addr = ntohl(pi->ipi_spec_dst.s_addr),
		.to_us = unicast_to_us(pi),
		.proxy_port = fd == s->fd_proxy, .ifindex = pi->ipi_ifindex, .now = s->now,
		.view = &s->view, .src_addr = ntohl(from->sin_addr.s_addr),
	};
	ib_dhcp4_decide(&p->in, &p->d);
	if (p->d.relay_refused) {
		note_relay_refused(s, from, &p->msg);
		return 0;
	}
	ib_d4_who_from_msg(&p->msg, &p->who);
	ib_d4_note_from_msg(&p->msg, from, &p->note);
	/* What needs no commit is laid out now; an ACK after its commit. */
	if (p->d.action != IB_D4_ACK && ib_dhcp4_lay_out(&p->in, &p->d) < 0) {
		p->d.action = IB_D4_DROP;
		p->d.reason = "reply does not fit";
	}
	ib_d4_key_from_msg(&p->msg, &k);
	known = p->d.resv || ib_d4_leases_bound(s->leases, &k, s->now) ||
		in_inventory(s->cfg, &p->msg);
	ib_d4_journal_gate(&p->who, &p->note, &p->d, known, &p->gate);
	note_pool(s, &p->d);
	route_reply(s, p, from, fd, &p->rt);
	if (p->d.forget_offer)
		ib_d4_leases_forget_offer(s->leases, &k);
	switch (p->d.action) {
	case IB_D4_DROP:
		s->stats.ignored++;
		ib_d4_journal_exchange(s->journal, &p->who, &p->note, &p->d,
				       &p->rt.to.in, p->rt.src4, 0, &p->gate);
		return 0;
	case IB_D4_OFFER:
		/* the client's own live binding stays bound (its row is
		 * ACTIVE): an OFFER of it holds nothing, and a renewal while
		 * the store is down still finds it (renew_while_down) */
		if (ib_d4_leases_bound_until(s->leases, p->d.address, &k, s->now))
			;
		/* a reserved address is held, never filed for taking over */
		else if (p->d.resv)
			ib_d4_leases_set(s->leases, p->d.address, IB_D4_OFFERED, &k,
					 s->now + s->cfg->dhcp4.offer_hold);
		else
			ib_d4_leases_offer(s->leases, p->d.address, &k, p->d.subnet->network,
					   p->d.source, s->now, s->now + s->cfg->dhcp4.offer_hold);
		send_reply(s, p, 0);
		return 0;
	case IB_D4_NAK:
	case IB_D4_INFORM:
	case IB_D4_PROXY:
		send_reply(s, p, 0);
		return 0;
	case IB_D4_ACK:
	case IB_D4_RELEASE:
	case IB_D4_DECLINE:
		fill_lease(s, &p->msg, &p->d, &p->lease);
		return 1;
	}
	return 0;
}

/* The engine reads every datagram into rbuf: its ->rx_buf(). */
static uint8_t *rx_buf(void *ctx, size_t *ret_cap)
{
	struct ib_dhcp4_server *s = ctx;

	*ret_cap = sizeof(s->rbuf);
	return s->rbuf;
}

/* Decides one datagram the engine read: its ->receive(). */
static int receive_one(void *ctx, const struct ib_dhcp_rx *rx, void *slot)
{
	struct ib_dhcp4_server *s = ctx;
	struct pending *p = slot;

	s->stats.received += !rx->again;
	if (!rx->ifindex || !ib_dhcp_ifaces_serve(&s->served, rx->ifindex) ||
	    !rx->pi.in.ipi_spec_dst.s_addr) {
		s->stats.ignored++;
		s->stats.not_served++;
		return 0;
	}
	if (ib_dhcp4_parse(rx->buf, rx->len, &p->msg) < 0) {
		log_reject(s, &rx->from.in, p->msg.reject);
		return 0;
	}
	/* load balancing: a peer's client is the peer's to answer, unless
	 * it chose us: a RENEWING client unicasts to the daemon that bound
	 * it, which no other daemon hears */
	if (!(!p->msg.giaddr && unicast_to_us(&rx->pi.in)) &&
	    ib_dhcp_engine_peers(s->eng, rx, p->msg.chaddr, p->msg.hlen))
		return IB_DHCP_RX_PEER;
	s->stats.requests[p->msg.type < IB_DHCP4_STATS_TYPES ? p->msg.type : 0]++;
	return handle(s, p, &rx->from.in, &rx->pi.in, rx->fd);
}

/* The daemons sharing the clients changed: the engine's ->share(). */
static void share(void *ctx, uint32_t rank, uint32_t n)
{
	struct ib_dhcp4_server *s = ctx;

	ib_d4_leases_share(s->leases, rank, n);
}

static int on_expired(const struct ib_lease4 *l, void *arg)
{
	struct ib_dhcp4_server *s = arg;
	struct ib_d4_who who;

	ib_d4_who_from_lease(l, &who);
	ib_d4_journal_lease(s->journal, &who, "lease-expire", l);
	ib_d4_leases_remove(s->leases, l->address);
	return 0;
}

/* The warnings held back whose period is over: logged now. */
static void log_held(void *ctx)
{
	struct ib_dhcp4_server *s = ctx;

	for (size_t i = 0; i < s->n_pools; i++)
		pool_note_log(s, &s->pools[i], false);
}

static int reclaim(void *ctx, int64_t now)
{
	struct ib_dhcp4_server *s = ctx;
	size_t dropped = 0;
	int r;

	/* after a reload (final by now): the rows of subnets gone leave the
	 * cache, those of subnets new to it come in from the store */
	if ((r = ib_d4_leases_reconcile(s->leases, s->store, s->cfg, now, &dropped)) < 0)
		ib_warn("dhcp4: cannot load the new subnets' leases: %s; trying again",
			strerror(-r));
	if (dropped)
		ib_info("dhcp4: %zu cached lease(s) in no configured subnet dropped "
			"(they stay in the store)", dropped);
	if (s->follower)
		return 0;	/* the leader's expiries reach the cache as notifications */
	return ib_store_lease4_reclaim(s->store, now, on_expired, s);
}

/* A reply the kernel refused: counted and journalled. */
static void not_sent(void *ctx, const void *tag, const struct ib_dhcp_dest *d, int err)
{
	struct ib_dhcp4_server *s = ctx;
	struct sent_tag t;

	memcpy(&t, tag, sizeof(t));
	s->stats.send_errors++;
	ib_d4_journal_send_error(s->journal, &t.who, &d->to.in, err, t.limited);
}

/*
 * DHCPv4 as the engine serves it: up to 512 bindings per group commit,
 * at once from 64, else after 1 ms for more to join; 512 datagrams read
 * per wake-up and sent per sendmmsg().
 */
static const struct ib_dhcp_family family4 = {
	.name = "dhcp4", .slot_size = sizeof(struct pending), .max_len = IB_DHCP4_MAX_LEN,
	.batch_max = 512, .writes_max = 1, .commit_min = 64, .commit_delay_us = 1000, .read_max = 512,
	.out_max = 512, .rcvbuf = RCVBUF, .reclaim_sec = 5, .journal_us = 100000,
	.rx_buf = rx_buf, .receive = receive_one, .share = share, .plan = plan_one,
	.verdict = verdict_one, .committed = committed,
	.batch_done = batch_done, .tick = log_held, .reclaim = reclaim, .not_sent = not_sent,
};

static int start(struct ib_dhcp4_server *s, const struct ib_config *cfg)
{
	int r;

	if ((r = ib_dhcp_ifaces_resolve(&s->served, "dhcp4", cfg->dhcp4.interfaces,
					  cfg->dhcp4.n_interfaces)) < 0)
		return r;
	if ((r = open_socket(cfg->dhcp4.port, &s->fd)) < 0) {
		ib_err("dhcp4: cannot bind port %u: %s", cfg->dhcp4.port, strerror(-r));
		return r;
	}
	if (cfg->dhcp4.mode == IB_DHCP4_MODE_PROXY &&
	    (r = open_socket(cfg->dhcp4.proxy_port, &s->fd_proxy)) < 0) {
		ib_err("dhcp4: cannot bind proxy port %u: %s", cfg->dhcp4.proxy_port,
		       strerror(-r));
		return r;
	}
	if ((r = ib_dhcp_engine_listen(s->eng, s->fd)) < 0 ||
	    (s->fd_proxy >= 0 && (r = ib_dhcp_engine_listen(s->eng, s->fd_proxy)) < 0))
		return r;
	return 0;
}

/*
 * A proxy answers beside another DHCP server, often on a network the
 * operator did not build: say at start on which links and networks it
 * will answer, and with which boot files (a PXE client of another
 * architecture gets no answer at all).
 */
static void log_proxy_scope(const struct ib_config *cfg)
{
	const struct ib_boot_config *b = &cfg->boot;
	struct ifaddrs *ifa, *i;
	char nets[512] = "", ip[INET_ADDRSTRLEN];
	size_t n = 0;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)i->ifa_addr;
		const struct sockaddr_in *m = (const struct sockaddr_in *)i->ifa_netmask;
		bool listed = cfg->dhcp4.n_interfaces == 0;

		if (!a || a->sin_family != AF_INET || !m || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		for (size_t k = 0; k < cfg->dhcp4.n_interfaces; k++)
			listed |= strcmp(cfg->dhcp4.interfaces[k], i->ifa_name) == 0;
		if (!listed || n >= sizeof(nets))
			continue;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		n += (size_t)snprintf(nets + n, sizeof(nets) - n, "%s%s %s/%d", n ? ", " : "",
				      i->ifa_name, ip, __builtin_popcount(m->sin_addr.s_addr));
	}
	freeifaddrs(ifa);
	ib_notice("dhcp4: proxyDHCP answers PXE clients on %s; boot files: bios %s, "
		  "efi_x64 %s, efi_ia32 %s, efi_arm64 %s, iPXE %s (other architectures: "
		  "no answer)", n ? nets : "no interface with IPv4 yet",
		  b->file_bios ?: "-", b->file_efi_x64 ?: "-", b->file_efi_ia32 ?: "-",
		  b->file_efi_arm64 ?: "-", b->ipxe_script_url ?: "-");
}

int ib_dhcp4_server_new(struct event_base *base, const struct ib_config *cfg,
			struct ib_store *store, struct ib_journal *journal,
			struct ib_dhcp4_server **ret)
{
	struct ib_dhcp4_server *s = calloc(1, sizeof(*s));
	struct ib_dhcp_engine_args ea = { base, store, journal, &family4, s, NULL, NULL, NULL };
	struct ib_d4_load_refused refused;
	char ip[IB_IP4_STRLEN];
	int r;

	if (!s)
		return -ENOMEM;
	s->base = base;
	s->cfg = cfg;
	s->store = store;
	s->journal = journal;
	s->fd = s->fd_proxy = -1;
	s->now = ib_now_sec();
	ea.now = &s->now;
	ea.rx_overflow = &s->stats.rx_overflow;
	ea.share = &s->stats.share;
	if (ib_dhcp_engine_new(&ea, &s->eng) < 0 || (r = ib_d4_leases_new(&s->leases)) < 0) {
		r = -ENOMEM;
		goto err;
	}
	if ((r = ib_d4_leases_load(s->leases, store, cfg, s->now, &refused)) < 0) {
		ib_err("dhcp4: cannot load leases from the store: %s", strerror(-r));
		goto err;
	}
	if (refused.n) {
		ib_ip4_format(refused.first, ip);
		ib_warn("dhcp4: %zu stored lease(s) refused and not served, the first %s (%s); "
			"they stay in the store", refused.n, ip, refused.why);
	}
	ib_d4_leases_view(s->leases, &s->now, &s->view);
	if ((r = start(s, cfg)) < 0)
		goto err;
	if (cfg->dhcp4.mode == IB_DHCP4_MODE_PROXY)
		log_proxy_scope(cfg);
	ib_info("dhcp4: serving %zu subnet(s) on port %u (%s mode), %zu lease(s) loaded",
		cfg->dhcp4.n_subnets, cfg->dhcp4.port,
		cfg->dhcp4.mode == IB_DHCP4_MODE_PROXY ? "proxy" : "server",
		ib_d4_leases_count(s->leases));
	*ret = s;
	return 0;
err:
	ib_dhcp4_server_free(s);
	return r;
}

int ib_dhcp4_server_reconfigure(struct ib_dhcp4_server *s, const struct ib_config *cfg)
{
	struct ib_dhcp_ifaces ifs;
	int r;

	if (cfg->dhcp4.port != s->cfg->dhcp4.port || cfg->dhcp4.mode != s->cfg->dhcp4.mode) {
		ib_warn("dhcp4: port or mode changes need a restart; keeping port %u",
			s->cfg->dhcp4.port);
	}
	if ((r = ib_dhcp_ifaces_resolve(&ifs, "dhcp4", cfg->dhcp4.interfaces,
					  cfg->dhcp4.n_interfaces)) < 0)
		return r;
	/* Pending decisions point into the old snapshot: commit them first. */
	ib_dhcp_engine_flush(s->eng);
	if ((r = ib_d4_leases_configure(s->leases, cfg)) < 0)
		return r;
	s->prev_cfg = s->cfg;
	s->prev_served = s->served;
	s->cfg = cfg;
	s->served = ifs;
	return 0;
}

void ib_dhcp4_server_rollback(struct ib_dhcp4_server *s)
{
	if (!s->prev_cfg)
		return;
	ib_dhcp_engine_flush(s->eng);	/* decisions point into the refused snapshot */
	ib_d4_leases_rollback(s->leases);
	s->cfg = s->prev_cfg;
	s->served = s->prev_served;	/* kept, not resolved again: cannot fail */
	s->prev_cfg = NULL;
}

void ib_dhcp4_server_free(struct ib_dhcp4_server *s)
{
	if (!s)
		return;
	ib_dhcp_engine_free(s->eng);	/* commits and sends what waits */
	if (s->journal)
		ib_journal_tick(s->journal, ib_now_us(), true);	/* the summaries due */
	for (size_t i = 0; i < s->n_pools; i++)
		pool_note_log(s, &s->pools[i], true);
	free(s->pools);
	if (s->fd >= 0)
		close(s->fd);
	if (s->fd_proxy >= 0)
		close(s->fd_proxy);
	ib_d4_leases_free(s->leases);
	free(s);
}
