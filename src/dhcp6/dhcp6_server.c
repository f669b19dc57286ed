/*
 * The DHCPv6 shell (dhcp6_server.h): receive, decide (dhcp6_policy.c),
 * send what needs no store at once (ADVERTISE, answers without bindings),
 * and give the engine both families share (src/dhcp/dhcp_engine.h) the
 * binding changes to group-commit in one transaction, then send their
 * REPLYs; replies leave through one sendmmsg() per burst.
 */
#include "dhcp6/dhcp6_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "dhcp/dhcp_engine.h"
#include "dhcp/dhcp_ifaces.h"
#include "dhcp/dhcp_shortage.h"
#include "dhcp6/dhcp6_duid.h"
#include "dhcp6/dhcp6_holds.h"
#include "dhcp6/dhcp6_leases.h"
#include "dhcp6/dhcp6_policy.h"
#include "dhcp6/dhcp6_server_int.h"
#include "dhcp6/dhcp6_server_journal.h"
#include "dhcp6/dhcp6_view.h"

#define BATCH_MAX 512			/* binding changes per group commit */
/* Requests of the batch stay in the receive arena until their commit; a
 * datagram is read only where a largest one still fits. */
#define RX_ARENA (BATCH_MAX * 1024 + IB_DHCP6_MAX_LEN)
#define HOLDS_MAX 16384			/* advertised addresses held at once */
/*
 * Requests arriving while the loop stalls (a group commit's fdatasync, the
 * binding cache doubling its tables) queue here:
 * 8 MiB, which the kernel doubles, holds about 20,000 datagrams (it counts
 * 832 bytes for a SOLICIT's buffer), 0.8 s of a 12,000/s storm's SOLICITs
 * and REQUESTs.  An answer that late is still taken: a retransmission
 * keeps its transaction id (RFC 8415 15).  At 1 MiB a 100 ms stall
 * overflowed it (docs/BENCHMARKS.md, the storm's drops).
 */
#define RCVBUF (8 << 20)
#define ADDR_CACHE_SEC 5		/* interface addresses looked up again after */
#define RELAY_LOG_SEC 60		/* refused relays: at most one log line per */

/* One request: decided, then (if it changes bindings) kept until the group
 * commit. */
struct pending {
	uint8_t *buf;			/* the request, in the receive arena */
	struct ib_dhcp6_msg msg;	/* parsed */
	struct ib_dhcp6_input in;	/* the policy's inputs */
	struct ib_dhcp6_decision d;	/* its decision */
	struct sockaddr_in6 from;	/* source: the client or the relay */
	int ifindex;			/* arrival interface */
	char ifname[IF_NAMESIZE];	/* its name */
	struct ib_journal_gate gate;	/* how the journal may thin it out */
	uint8_t lost;			/* bit i: the store refused IA i's address */
};

/* Whom a reply is for, should the kernel refuse it (the engine's tag). */
struct sent_tag {
	uint8_t type;			/* message type answered */
	bool has_mac;
	uint8_t mac[6];
	uint8_t duid_len;
	uint8_t duid[IB_DUID_MAX];	/* the client's DUID */
	bool limited;			/* an unknown client's: journal rate-limited */
};


/* The state of subnet sn of the current snapshot. */
static struct ib_dhcp_shortage *state_of(struct ib_dhcp6_server *s, const struct ib_subnet6 *sn)
{
	return &s->subnets[sn - s->cfg->dhcp6.subnets];
}

/* The cache entry of ifindex, filled with its name; NULL if it is gone. */
static struct iface_cache *iface(struct ib_dhcp6_server *s, int ifindex)
{
	struct iface_cache *c = &s->ifaces[(size_t)ifindex % MAX_IFACES];

	if (c->ifindex != ifindex) {
		if (!if_indextoname((unsigned)ifindex, c->name))
			return NULL;
		c->ifindex = ifindex;
		c->addr_at = 0;
	}
	return c;
}

/* ---- the journal (dhcp6_server_journal.c) ---- */

static void journal_gate(const struct ib_dhcp6_server *s, struct pending *p)
{
	ib_d6_journal_gate(s->cfg, &p->msg, &p->d, &p->gate);
}

static void journal_exchange(struct ib_dhcp6_server *s, const struct pending *p, int err)
{
	const struct ib_d6_exchange x = { &p->msg, &p->d, &p->from, p->ifname };

	ib_d6_journal_exchange(s->journal, &x, &p->gate, err);
}

/* ---- applying decisions ---- */

static void fill_lease(const struct ib_dhcp6_server *s, const struct pending *p,
		       const struct ib_dhcp6_ia_answer *a, struct ib_lease6 *l)
{
	const struct ib_subnet6 *sn = p->d.subnet;

	memset(l, 0, sizeof(*l));
	memcpy(l->address, a->addr, 16);
	memcpy(l->subnet, sn->prefix, 16);
	l->prefix_len = sn->prefix_len;
	memcpy(l->duid, p->msg.client_id.p, p->msg.client_id.len);
	l->duid_len = (uint8_t)p->msg.client_id.len;
	l->iaid = a->iaid;
	l->has_mac = p->d.has_mac;
	memcpy(l->mac, p->d.mac, 6);
	if (p->d.resv && p->d.resv->hostname)
		snprintf(l->hostname, sizeof(l->hostname), "%s", p->d.resv->hostname);
	l->cltt = s->now;
	l->preferred = s->now + a->preferred;
	l->expires = s->now + a->valid;
	l->state = IB_LEASE_ACTIVE;
}

/* Plans one decision's binding changes: a row per IA with an address. */
static void plan_one(void *ctx, void *slot, struct ib_dhcp_plan *pl)
{
	struct ib_dhcp6_server *s = ctx;
	struct pending *p = slot;
	struct ib_dhcp6_decision *d = &p->d;

	p->lost = 0;
	for (size_t i = 0; i < d->n_ia; i++) {
		struct ib_dhcp6_ia_answer *a = &d->ia[i];
		struct ib_dhcp_write *w;

		if (!a->has_addr)
			continue;
		w = ib_dhcp_plan_add(pl, d->action == IB_D6_COMMIT ? IB_DHCP_W6_COMMIT
								   : IB_DHCP_W6_STATE);
		if (!w)
			return;
		w->ia = (uint8_t)i;
		w->now = s->now;
		if (d->action == IB_D6_COMMIT) {
			fill_lease(s, p, a, &w->row.l6);
			continue;
		}
		memcpy(w->row.l6.address, a->addr, 16);
		w->state = d->action == IB_D6_RELEASE ? IB_LEASE_RELEASED : IB_LEASE_DECLINED;
		w->expires = d->action == IB_D6_RELEASE ? s->now
							: s->now + s->cfg->dhcp6.decline_hold;
	}
}

/* The store's verdict on one IA's write: an address it refused is lost. */
static void verdict_one(void *ctx, void *slot, const struct ib_dhcp_write *w)
{
	struct pending *p = slot;

	(void)ctx;
	if (w->op == IB_DHCP_W6_COMMIT && w->verdict == -EEXIST) {
		ib_dhcp6_ia_lost(&p->d.ia[w->ia]);	/* another server or client won it */
		p->lost |= (uint8_t)(1u << w->ia);
	}
}

/* The batch is durable: the client's holds are over, and so is any other
 * client's hold on an address now bound (an IA the store refused lost its
 * address).  After a failed commit they stay: nothing was bound. */
static void drop_holds(struct ib_dhcp6_server *s, const struct pending *p)
{
	const struct ib_dhcp6_decision *d = &p->d;

	for (size_t i = 0; i < d->n_ia; i++) {
		if (d->action == IB_D6_COMMIT && d->ia[i].has_addr)
			ib_d6_holds_drop_addr(s->holds, d->ia[i].addr);
		ib_d6_holds_drop(s->holds, &p->msg.client_id, d->ia[i].iaid);
	}
}

/*
 * The batch is durable: the cache takes what the store took, as
 * store_one() wrote it (the same clock), and reads the row of an address
 * the store refused (its winner, committed by another writer or earlier in
 * this batch), so that it is not offered again.  A failed cache (no
 * memory) is reloaded from the store.
 */
static void cache_follow(struct ib_dhcp6_server *s, struct pending *p)
{
	const struct ib_dhcp6_decision *d = &p->d;
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->n_ia; i++) {
		const struct ib_dhcp6_ia_answer *a = &d->ia[i];
		struct ib_lease6 l;

		if (p->lost & (1u << i)) {
			if (ib_store_lease6_get(s->store, a->addr, &l) == 0)
				r = ib_d6_leases_file(s->leases, &l);
		} else if (!a->has_addr) {
			continue;
		} else if (d->action == IB_D6_COMMIT) {
			fill_lease(s, p, a, &l);
			r = ib_d6_leases_bound(s->leases, &l);
		} else if (d->action == IB_D6_RELEASE) {
			ib_d6_leases_set_state(s->leases, a->addr, IB_LEASE_RELEASED, s->now);
		} else {
			ib_d6_leases_set_state(s->leases, a->addr, IB_LEASE_DECLINED,
					       s->now + s->cfg->dhcp6.decline_hold);
		}
	}
	if (r < 0 && (r = ib_d6_leases_load(s->leases, s->store)) < 0)
		ib_err("dhcp6: the binding cache cannot be rebuilt from the store: %s; "
		       "addresses are offered blind, the store still refuses taken ones",
		       strerror(-r));
}

static bool needs_store(const struct ib_dhcp6_decision *d)
{
	return d->action == IB_D6_COMMIT || d->action == IB_D6_RELEASE ||
	       d->action == IB_D6_DECLINE;
}

/* ---- replies ---- */

/* A reply the kernel refused (the engine logged it): counted, journalled. */
static void not_sent(void *ctx, const void *tag, const struct ib_dhcp_dest *d, int err)
{
	struct ib_dhcp6_server *s = ctx;
	struct sent_tag m;
	struct ib_journal_who who = { .client_id = m.duid };
	char to[IB_IP6_STRLEN];

	memcpy(&m, tag, sizeof(m));
	who.client_id_len = m.duid_len;
	if (m.has_mac) {
		who.hw = m.mac;
		who.hw_len = 6;
	}
	s->stats.not_sent++;
	ib_ip6_format(d->to.in6.sin6_addr.s6_addr, to);
	ib_d6_journal_not_sent(s->journal, &who, m.type, to, ntohs(d->to.in6.sin6_port), err,
			       m.limited);
}

/* Builds p's reply into the outbox, to the client or the relay it came by. */
static int send_reply(struct ib_dhcp6_server *s, struct pending *p)
{
	/* out of the arrival link */
	struct ib_dhcp_dest d = { .fd = s->fd, .ifindex = p->ifindex };
	struct sent_tag m = { .type = p->msg.msg_type, .has_mac = p->d.has_mac,
			      .limited = p->gate.limited };
	size_t len, cap;
	uint8_t *buf = ib_dhcp_out_room(s->eng, s->fd, &cap);
	int r;

	r = ib_dhcp6_reply_build(&p->in, &p->d, buf, cap, &len);
	if (r < 0)
		return r;
	s->stats.replies[p->d.action == IB_D6_ADVERTISE ? IB_DHCP6_ADVERTISE : IB_DHCP6_REPLY]++;
	d.to.in6 = p->from;
	/* RFC 8415 7.2: clients listen on 546; relays on 547, where they sent from */
	d.to.in6.sin6_port = htons(p->msg.n_relays ? s->cfg->dhcp6.port
						   : s->cfg->dhcp6.client_port);
	memcpy(m.mac, p->d.mac, 6);
	m.duid_len = (uint8_t)p->msg.client_id.len;	/* <= IB_DUID_MAX: parsed */
	memcpy(m.duid, p->msg.client_id.p, m.duid_len);
	ib_dhcp_out_push(s->eng, &d, len, &m, sizeof(m));
	return 0;
}

/*
 * A RELAY-FORW from a source no relays list names (issue #11): counted,
 * logged the first time and then at most once a minute with the count
 * since, never journalled (its MAC, DUID and link are any host's word).
 */
static void note_relay_refused(struct ib_dhcp6_server *s, const struct pending *p)
{
	char src[INET6_ADDRSTRLEN];

	s->stats.relay_refused++;
	if (s->now < s->relay_log_at)
		return;
	inet_ntop(AF_INET6, &p->from.sin6_addr, src, sizeof(src));
	ib_warn("dhcp6: dropped a RELAY-FORW from %s on %s: not in dhcp6.relays nor its "
		"subnet's relays (%" PRIu64 " dropped so far; logged at most once a minute)",
		src, p->ifname, s->stats.relay_refused);
	s->relay_log_at = s->now + RELAY_LOG_SEC;
}

/* Answers a decision that needs no store; journals the exchange. */
static void answer_now(struct ib_dhcp6_server *s, struct pending *p)
{
	int e;

	if (p->d.relay_refused) {
		note_relay_refused(s, p);
		return;
	}
	e = p->d.action == IB_D6_DROP ? 0 : send_reply(s, p);
	journal_exchange(s, p, e);
}

/* ---- the engine's group commit ---- */

/* The batch's exchanges, journalled once the store's verdicts are in
 * (the engine flushes them in the batch's transaction on the loop's
 * store). */
static void seal(void *ctx, void *slots, size_t n)
{
	struct ib_dhcp6_server *s = ctx;
	struct pending *p = slots;

	for (size_t i = 0; i < n; i++)
		journal_exchange(s, &p[i], 0);
}

/*
 * The batch was not stored.  While the store's database is down
 * (store_pg_conn.c), a REQUEST, RENEW or REBIND whose every IA renews a
 * binding this daemon holds (its cache: that address ACTIVE for that
 * DUID and IAID until a later time, a stored row) is answered for what is
 * left of those leases: no new row is needed.  Anything else waits for
 * the store: no reply, the client retries.  (The exchange was journalled
 * when the batch was sealed.)
 */
static void renew_while_down(struct ib_dhcp6_server *s, struct pending *p)
{
	struct ib_dhcp6_decision *d = &p->d;
	struct ib_store_link link;
	struct ib_lease6 l;
	int64_t until[IB_DHCP6_MAX_IA];

	if (d->action != IB_D6_COMMIT || d->n_ia == 0)
		return;
	ib_dhcp_engine_link(s->eng, &link);
	if (link.up)
		return;
	for (size_t i = 0; i < d->n_ia; i++) {
		const struct ib_dhcp6_ia_answer *a = &d->ia[i];

		if (!a->has_addr || a->has_status ||
		    ib_d6_leases_find(s->leases, &p->msg.client_id, a->iaid, &l) < 0 ||
		    memcmp(l.address, a->addr, 16) != 0 || l.state != IB_LEASE_ACTIVE ||
		    l.expires <= s->now)
			return;
		until[i] = l.expires;
	}
	for (size_t i = 0; i < d->n_ia; i++)
		ib_dhcp6_keep_until(&d->ia[i], s->now, until[i]);
	s->stats.kept_while_down++;
	if (send_reply(s, p) < 0)
		ib_warn("dhcp6: REPLY to %s on %s not built", ib_dhcp6_type_str(p->msg.msg_type),
			p->ifname);
}

/* The bindings are durable (ok): holds end, the REPLY leaves now; else
 * only a renewal while the store is down. */
static void committed(void *ctx, void *slot, bool ok)
{
	struct ib_dhcp6_server *s = ctx;
	struct pending *p = slot;
	int e;

	if (!ok) {
		renew_while_down(s, p);
		return;
	}
	cache_follow(s, p);
	drop_holds(s, p);
	e = send_reply(s, p);
	if (e < 0)
		ib_warn("dhcp6: REPLY to %s on %s not built: %s",
			ib_dhcp6_type_str(p->msg.msg_type), p->ifname, strerror(-e));
}

static void batch_done(void *ctx, int err)
{
	struct ib_dhcp6_server *s = ctx;

	s->rx_used = 0;
}

/* Whether the receive arena still holds a largest datagram. */
static bool room(void *ctx)
{
	const struct ib_dhcp6_server *s = ctx;

	return RX_ARENA - s->rx_used >= IB_DHCP6_MAX_LEN;
}

/* ---- receiving ---- */

/* A global address of the interface, the one inside a served subnet first. */
static void lookup_addr(const struct ib_dhcp6_server *s, const char *ifname, uint8_t out[16])
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	memset(out, 0, 16);
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)i->ifa_addr;

		if (!a || a->sin6_family != AF_INET6 || strcmp(i->ifa_name, ifname) ||
		    IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr))
			continue;
		if (!found || ib_config_subnet6_for(s->cfg, a->sin6_addr.s6_addr)) {
			memcpy(out, &a->sin6_addr, 16);
			found = true;
		}
	}
	freeifaddrs(ifa);
}

/* Our address for URLs on the link: the destination when unicast, else the
 * interface's (looked up again after ADDR_CACHE_SEC). */
static void server_addr(struct ib_dhcp6_server *s, struct pending *p, const struct in6_addr *dst,
			struct iface_cache *c)
{
	if (!IN6_IS_ADDR_MULTICAST(dst) && !IN6_IS_ADDR_LINKLOCAL(dst)) {
		memcpy(p->in.server_addr, dst, 16);
		return;
	}
	if (c->addr_at + ADDR_CACHE_SEC <= s->now) {
		lookup_addr(s, c->name, c->addr);
		c->addr_at = s->now;
	}
	memcpy(p->in.server_addr, c->addr, 16);
}

static void log_reject(struct ib_dhcp6_server *s, const struct pending *p)
{
	char src[INET6_ADDRSTRLEN];
	enum ib_dhcp6_reject why = p->msg.reject;

	if (why >= IB_DHCP6_REJ__MAX)
		why = IB_DHCP6_REJ_BAD_OPT;
	/* logged the first time per reason, then counted */
	if (s->stats.rejected[why]++ == 0) {
		inet_ntop(AF_INET6, &p->from.sin6_addr, src, sizeof(src));
		ib_warn("dhcp6: dropped a malformed datagram from %s on %s: %s "
			"(further ones of this kind are counted, not logged)", src, p->ifname,
			ib_dhcp6_reject_str(why));
	}
}

/* Holds the addresses an ADVERTISE gives until the REQUEST; those of the
 * pools filed by subnet and source, a reserved one not (never taken). */
static void hold_advertised(struct ib_dhcp6_server *s, const struct pending *p)
{
	struct ib_ledger_group g;

	ib_d6_group_of(p->d.subnet, p->d.source, &g);
	for (size_t i = 0; i < p->d.n_ia; i++)
		if (p->d.ia[i].has_addr)
			ib_d6_holds_put(s->holds, &p->msg.client_id, p->d.ia[i].iaid,
					p->d.ia[i].addr, s->now + s->cfg->dhcp6.advertise_hold,
					s->now, p->d.resv ? NULL : &g);
}

/* A shortage in DHCPv6's words. */
static const struct ib_dhcp_shortage_words short6 = {
	"dhcp6", "IAs took over the oldest ADVERTISE hold",
	"IAs answered NoAddrsAvail (no free address, no hold to take over)", IB_D6_HOLD_SHARE,
};

/* The text of sn, for the log: "fd00:b007::/64". */
static void subnet_text(const struct ib_subnet6 *sn, char out[IB_IP6_STRLEN + 5])
{
	ib_ip6_format(sn->prefix, out);
	snprintf(out + strlen(out), 5, "/%u", sn->prefix_len);
}

/* Counts the IAs that met a short pool (issue #11), logged rate-limited. */
static void note_pool(struct ib_dhcp6_server *s, const struct ib_dhcp6_decision *d)
{
	uint64_t counts[3] = { 0, 0, d->exhausted };
	char net[IB_IP6_STRLEN + 5];

	if (!d->subnet || d->action == IB_D6_DROP)
		return;
	for (size_t i = 0; i < d->n_ia; i++) {
		counts[0] += d->ia[i].take == IB_D6_TAKE_SHORT;
		counts[1] += d->ia[i].take == IB_D6_TAKE_CAP;
	}
	if (!counts[0] && !counts[1] && !counts[2])
		return;
	subnet_text(d->subnet, net);
	ib_dhcp_shortage_count(state_of(s, d->subnet), &short6, net, s->now, counts);
}

/* The engine reads the next datagram into the arena, after the batch's
 * requests (room() says a largest one fits): its ->rx_buf(). */
static uint8_t *rx_buf(void *ctx, size_t *ret_cap)
{
	struct ib_dhcp6_server *s = ctx;

	*ret_cap = IB_DHCP6_MAX_LEN;
	return s->rx + s->rx_used;
}

/* Decides one datagram the engine read: its ->receive(). */
static int receive_one(void *ctx, const struct ib_dhcp_rx *rx, void *slot)
{
	struct ib_dhcp6_server *s = ctx;
	struct pending *p = slot;
	const struct in6_addr *dst = &rx->pi.in6.ipi6_addr;
	struct iface_cache *ifc;

	p->buf = rx->buf;
	p->from = rx->from.in6;
	p->ifindex = rx->ifindex;
	if (!p->ifindex || !ib_dhcp_ifaces_serve(&s->served, p->ifindex) ||
	    !(ifc = iface(s, p->ifindex))) {
		s->stats.not_served++;
		return 0;		/* not a link we serve */
	}
	memcpy(p->ifname, ifc->name, IF_NAMESIZE);
	if (ib_dhcp6_parse(p->buf, rx->len, &p->msg) < 0) {
		log_reject(s, p);
		return 0;
	}
	/* load balancing: a peer's client is the peer's to answer */
	if (ib_dhcp_engine_peers(s->eng, rx, p->msg.client_id.p, p->msg.client_id.len))
		return IB_DHCP_RX_PEER;
	s->stats.requests[p->msg.msg_type < IB_DHCP6_STATS_TYPES ? p->msg.msg_type : 0]++;
	p->in = (struct ib_dhcp6_input){
		.cfg = s->cfg, .msg = &p->msg, .ifname = p->ifname,
		.multicast = IN6_IS_ADDR_MULTICAST(dst), .ifindex = p->ifindex,
		.server_duid = { s->duid, s->duid_len }, .now = s->now, .view = &s->view,
		.holds = &s->hold_view,
	};
	memcpy(p->in.src, &p->from.sin6_addr, 16);
	server_addr(s, p, dst, ifc);
	ib_dhcp6_decide(&p->in, &p->d);
	if (p->d.action == IB_D6_DROP)
		s->stats.ignored++;
	if (p->d.action == IB_D6_ADVERTISE)
		hold_advertised(s, p);
	note_pool(s, &p->d);
	journal_gate(s, p);
	if (!needs_store(&p->d)) {
		answer_now(s, p);	/* the slot and its bytes are free again */
		return 0;
	}
	s->rx_used += rx->len;
	return 1;
}

/* The daemons sharing the clients changed: the engine's ->share(). */
static void share(void *ctx, uint32_t rank, uint32_t n)
{
	struct ib_dhcp6_server *s = ctx;

	ib_d6_view_share(s->bview, rank, n);
}

static int on_expired(const struct ib_lease6 *l, void *arg)
{
	struct ib_dhcp6_server *s = arg;

	ib_d6_leases_set_state(s->leases, l->address, IB_LEASE_EXPIRED, l->expires);
	ib_d6_journal_lease(s->journal, l, "lease-expire");
	return 0;
}

/* The warnings held back whose period is over: logged now (or all). */
static void log_held(struct ib_dhcp6_server *s, bool force)
{
	char net[IB_IP6_STRLEN + 5];

	for (size_t i = 0; i < s->cfg->dhcp6.n_subnets; i++) {
		subnet_text(&s->cfg->dhcp6.subnets[i], net);
		ib_dhcp_shortage_log(&s->subnets[i], &short6, net, s->now, force);
	}
}

/* The reclaim timer's housekeeping: held warnings, ADVERTISE holds. */
static void tick(void *ctx)
{
	struct ib_dhcp6_server *s = ctx;

	log_held(s, false);
	ib_d6_holds_expire(s->holds, s->now);
}

static int reclaim(void *ctx, int64_t now)
{
	struct ib_dhcp6_server *s = ctx;

	if (s->follower)
		return 0;	/* the leader's expiries reach the cache as notifications */
	return ib_store_lease6_reclaim(s->store, now, on_expired, s);
}

/* DHCPv6 as the engine serves it, at DHCPv4's pace: up to BATCH_MAX
 * binding changes per group commit, at once from 64, else after 1 ms for
 * more to join; 512 datagrams read per wake-up and sent per sendmmsg().
 * Decisions read the binding cache, not the store. */
static const struct ib_dhcp_family family6 = {
	.name = "dhcp6", .slot_size = sizeof(struct pending), .max_len = IB_DHCP6_MAX_LEN,
	.batch_max = BATCH_MAX, .commit_min = 64, .commit_delay_us = 1000, .read_max = 512,
	.out_max = 512, .rcvbuf = RCVBUF, .reclaim_sec = 5, .journal_us = 200000,
	.rx_buf = rx_buf, .receive = receive_one, .share = share, .room = room, .plan = plan_one,
	.verdict = verdict_one, .writes_max = IB_DHCP6_MAX_IA, .seal = seal,
	.journal_in_commit = true,
	.committed = committed, .batch_done = batch_done, .tick = tick, .reclaim = reclaim,
	.not_sent = not_sent,
};

/* ---- setup ---- */

/* RFC 8415 7.1: servers listen on All_DHCP_Relay_Agents_and_Servers. */
static void join_groups(struct ib_dhcp6_server *s)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	struct ipv6_mreq mr;

	inet_pton(AF_INET6, "ff02::1:2", &mr.ipv6mr_multiaddr);
	for (i = ifs; i && i->if_index; i++) {
		if (!ib_dhcp_ifaces_serve(&s->served, (int)i->if_index) ||
		    strcmp(i->if_name, "lo") == 0)
			continue;
		mr.ipv6mr_interface = i->if_index;
		if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0 &&
		    errno != EADDRINUSE)
			ib_warn("dhcp6: cannot join ff02::1:2 on %s: %s", i->if_name,
				strerror(errno));
	}
	if (ifs)
		if_freenameindex(ifs);
}

static int open_socket(struct ib_dhcp6_server *s, uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1;

	s->fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
	    bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	join_groups(s);
	return 0;
}

int ib_dhcp6_server_new(struct event_base *base, const struct ib_config *cfg,
			struct ib_store *store, struct ib_journal *journal,
			struct ib_dhcp6_server **ret)
{
	struct ib_dhcp6_server *s = calloc(1, sizeof(*s));
	struct ib_dhcp_engine_args ea = { base, store, journal, &family6, s, NULL, NULL, NULL };
	struct ib_d6_view_args va;
	char hex[2 * IB_DUID_MAX + 1];
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct ib_dhcp6_server){ .base = base, .cfg = cfg, .store = store,
				       .journal = journal, .fd = -1, .now = ib_now_sec() };
	s->subnets = calloc(cfg->dhcp6.n_subnets ? cfg->dhcp6.n_subnets : 1, sizeof(*s->subnets));
	ib_d6_holds_new(HOLDS_MAX, &s->holds);
	s->rx = malloc(RX_ARENA);
	ea.now = &s->now;
	ea.rx_overflow = &s->stats.rx_overflow;
	ea.share = &s->stats.share;
	r = -ENOMEM;
	if (!s->holds || !s->rx || !s->subnets || ib_dhcp_engine_new(&ea, &s->eng) < 0 ||
	    (r = ib_dhcp_ifaces_resolve(&s->served, "dhcp6", cfg->dhcp6.interfaces,
					  cfg->dhcp6.n_interfaces)) < 0)
		goto err;
	if ((r = ib_d6_server_duid(s->store, &s->served, s->duid, &s->duid_len)) < 0) {
		ib_err("dhcp6: cannot make or store the server DUID: %s", strerror(-r));
		goto err;
	}
	if ((r = ib_d6_leases_new(&s->leases)) < 0)
		goto err;
	if ((r = ib_d6_leases_load(s->leases, store)) < 0) {
		ib_err("dhcp6: cannot load leases from the store: %s", strerror(-r));
		goto err;
	}
	va = (struct ib_d6_view_args){ store, s->holds, s->leases, &s->now };
	if ((r = ib_d6_view_new(&va, cfg, &s->bview)) < 0)
		goto err;
	ib_d6_view_get(s->bview, &s->view, &s->hold_view);
	if ((r = open_socket(s, cfg->dhcp6.port)) < 0) {
		ib_err("dhcp6: cannot bind port %u: %s", cfg->dhcp6.port, strerror(-r));
		goto err;
	}
	if ((r = ib_dhcp_engine_listen(s->eng, s->fd)) < 0)
		goto err;
	ib_hex_format(s->duid, s->duid_len, hex, sizeof(hex));
	ib_info("dhcp6: serving %zu subnet(s) on port %u, server DUID %s, %zu lease(s) loaded",
		cfg->dhcp6.n_subnets, cfg->dhcp6.port, hex, ib_d6_leases_count(s->leases));
	*ret = s;
	return 0;
err:
	ib_dhcp6_server_free(s);
	return r;
}

int ib_dhcp6_server_reconfigure(struct ib_dhcp6_server *s, const struct ib_config *cfg)
{
	struct ib_dhcp_shortage *st;
	struct ib_dhcp_ifaces ifs;
	int r;

	if (cfg->dhcp6.port != s->cfg->dhcp6.port)
		ib_warn("dhcp6: port changes need a restart; keeping port %u", s->cfg->dhcp6.port);
	if ((r = ib_dhcp_ifaces_resolve(&ifs, "dhcp6", cfg->dhcp6.interfaces,
					  cfg->dhcp6.n_interfaces)) < 0)
		return r;
	st = calloc(cfg->dhcp6.n_subnets ? cfg->dhcp6.n_subnets : 1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	ib_dhcp_engine_flush(s->eng);	/* decisions point into the old snapshot */
	if (ib_d6_view_configure(s->bview, cfg) < 0) {
		free(st);
		return -ENOMEM;
	}
	log_held(s, true);
	memset(s->ifaces, 0, sizeof(s->ifaces));	/* addresses and subnets may have moved */
	free(s->prev_subnets);
	s->prev_subnets = s->subnets;
	s->prev_served = s->served;
	s->prev_cfg = s->cfg;
	s->cfg = cfg;
	s->subnets = st;
	s->served = ifs;
	join_groups(s);
	return 0;
}

void ib_dhcp6_server_rollback(struct ib_dhcp6_server *s)
{
	struct ib_dhcp_shortage *st = s->subnets;

	if (!s->prev_cfg)
		return;
	ib_dhcp_engine_flush(s->eng);	/* decisions point into the refused snapshot */
	ib_d6_view_rollback(s->bview);
	memset(s->ifaces, 0, sizeof(s->ifaces));
	/* everything kept from before, nothing looked up or allocated again */
	s->subnets = s->prev_subnets;
	s->prev_subnets = st;
	s->served = s->prev_served;
	s->cfg = s->prev_cfg;
	s->prev_cfg = NULL;
	join_groups(s);
}

void ib_dhcp6_server_free(struct ib_dhcp6_server *s)
{
	if (!s)
		return;
	ib_dhcp_engine_free(s->eng);	/* commits and sends what waits */
	if (s->subnets)
		log_held(s, true);
	if (s->journal)
		ib_journal_tick(s->journal, ib_now_us(), true);	/* the summaries due */
	if (s->fd >= 0)
		close(s->fd);
	ib_d6_view_free(s->bview);
	ib_d6_leases_free(s->leases);
	ib_d6_holds_free(s->holds);
	free(s->rx);
	free(s->subnets);
	free(s->prev_subnets);
	free(s);
}
