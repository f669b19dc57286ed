/*
 * The DHCPv4 shell.  One UDP socket on the server port (and one on 4011 in
 * proxy mode) with IP_PKTINFO, so that every reply leaves from the address
 * of the interface its request arrived on, and broadcasts go out of that
 * interface even when it has no route.  Requests are read in batches; the
 * ACKs of a batch are committed to the store in one transaction (group
 * commit) and sent only after it is durable.
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
#include "dhcp4/dhcp4_leases.h"
#include "dhcp4/dhcp4_policy.h"
#include "dhcp4/dhcp4_server_journal.h"

#define BATCH_MAX 512			/* datagrams per read callback */
#define RCVBUF (8 << 20)		/* absorbs a storm while a group commit syncs */
#define COMMIT_MIN 64			/* commit at once from this many bindings */
#define COMMIT_DELAY_US 1000		/* else wait this long for more to join */
#define MAX_IFACES 64
#define WARN_EVERY 10			/* seconds between two warnings of one kind */

/* Where a reply goes and how it leaves. */
struct route {
	struct sockaddr_in to;		/* destination */
	uint32_t src;			/* our address (host order) */
	int ifindex;			/* 0 = by route */
	int fd;				/* socket to send on */
};

/* A reply waiting in the outbox. */
struct outmsg {
	struct sockaddr_in to;		/* destination */
	struct iovec iov;		/* over buf */
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cm;				/* IP_PKTINFO: source and interface */
	struct ib_d4_who who;		/* for the journal if sending fails */
	bool limited;			/* an unknown client's: journal rate-limited */
	uint8_t buf[IB_DHCP4_MAX_LEN];	/* the datagram */
};

/* Replies of one wake-up, sent with one sendmmsg() per socket. */
struct outbox {
	int fd;				/* socket of the queued replies */
	size_t n;			/* queued */
	struct outmsg *m;		/* BATCH_MAX slots */
	struct mmsghdr *hdr;		/* BATCH_MAX headers over m */
};

/* A decision waiting for the group commit. */
struct pending {
	struct ib_dhcp4_decision d;	/* with its reply */
	struct ib_lease4 lease;		/* row to write (ACK, DECLINE) */
	struct route rt;		/* where the reply goes */
	struct ib_d4_who who;		/* journal identity */
	struct ib_d4_note note;		/* the request, for the journal */
	struct ib_journal_gate gate;	/* how the journal may thin it out */
	bool applied;			/* the store took the change */
};

/* One subnet's shortage (issue #11), logged at most every WARN_EVERY s. */
struct pool_note {
	uint32_t network;		/* the subnet */
	uint32_t mask;
	int64_t last;			/* when last logged; 0 = never */
	int64_t since;			/* first count not logged yet */
	uint64_t took_short;		/* OFFERs that took the subnet's oldest hold */
	uint64_t took_cap;		/* OFFERs that took their source's oldest */
	uint64_t refused;		/* DISCOVERs left unanswered */
};

struct ib_dhcp4_server {
	struct event_base *base;	/* not owned */
	const struct ib_config *cfg;	/* current snapshot, not owned */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	struct ib_d4_leases *leases;	/* the cache */
	struct ib_lease_view view;	/* policy's view of the cache */
	int64_t now;			/* unix seconds, set per batch */
	int fd;				/* server port socket */
	int fd_proxy;			/* 4011 socket, or -1 */
	struct event *ev, *ev_proxy;	/* read events */
	struct event *reclaim_timer, *flush_timer;
	struct event *commit_timer;	/* one-shot: commit a small batch */
	int ifindex[MAX_IFACES];	/* interfaces served; none = all */
	size_t n_ifindex;
	struct pending *batch;		/* BATCH_MAX decisions to commit */
	size_t n_batch;
	struct ib_dhcp4_msg msg;	/* parse buffer, reused */
	uint8_t rbuf[IB_DHCP4_MAX_LEN + 1]; /* receive buffer (+1 detects oversize) */
	struct outbox out;		/* replies to send */
	struct ib_dhcp4_stats stats;
	bool reject_logged[IB_DHCP4_REJ__MAX];
	struct ib_log_rate send_warn;	/* replies the kernel refused */
	struct pool_note *pools;	/* per subnet with a shortage */
	size_t n_pools;
};

/*
 * Requests arriving while a group commit waits for the disk queue in the
 * socket: size it for a storm (root may exceed net.core.rmem_max).
 */
static int set_rcvbuf(int fd)
{
	int size = RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

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
	    set_rcvbuf(fd) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

/* Maps the configured interface names to indexes; none configured = all. */
static int resolve_interfaces(struct ib_dhcp4_server *s, const struct ib_config *cfg)
{
	int idx[MAX_IFACES];
	size_t n = 0;

	for (size_t i = 0; i < cfg->dhcp4.n_interfaces && n < MAX_IFACES; i++) {
		unsigned v = if_nametoindex(cfg->dhcp4.interfaces[i]);

		if (!v) {
			ib_warn("dhcp4: interface %s not found; not serving it",
				cfg->dhcp4.interfaces[i]);
			continue;
		}
		idx[n++] = (int)v;
	}
	if (cfg->dhcp4.n_interfaces && n == 0) {
		ib_err("dhcp4: none of the configured interfaces exists");
		return -ENODEV;
	}
	memcpy(s->ifindex, idx, n * sizeof(idx[0]));
	s->n_ifindex = n;
	return 0;
}

static bool serves_ifindex(const struct ib_dhcp4_server *s, int idx)
{
	if (s->n_ifindex == 0)
		return true;
	for (size_t i = 0; i < s->n_ifindex; i++)
		if (s->ifindex[i] == idx)
			return true;
	return false;
}

/*
 * The outbox: replies of one wake-up leave together through sendmmsg(),
 * each with IP_PKTINFO naming our address and the arrival interface.  One
 * syscall and one wake-up of the receiver per burst instead of per reply.
 */
static void outbox_flush(struct ib_dhcp4_server *s)
{
	struct outbox *ob = &s->out;
	size_t done = 0;

	while (done < ob->n) {
		int r = sendmmsg(ob->fd, ob->hdr + done, (unsigned)(ob->n - done), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The first unsent message failed: say so, skip it. */
			struct outmsg *m = &ob->m[done];
			char to[IB_IP4_STRLEN];
			int err = r < 0 ? -errno : -EIO;

			s->stats.send_errors++;
			ib_ip4_format(ntohl(m->to.sin_addr.s_addr), to);
			if (ib_log_rate_due(&s->send_warn, s->now, WARN_EVERY)) {
				ib_warn("dhcp4: reply to %s not sent: %s (%" PRIu64 " more "
					"since the last such warning)", to, strerror(-err),
					s->send_warn.held);
				ib_log_rate_logged(&s->send_warn, s->now);
			}
			ib_d4_journal_send_error(s->journal, &m->who, &m->to, err, m->limited);
			done++;
			continue;
		}
		done += (size_t)r;
	}
	ob->n = 0;
}

static int outbox_new(struct outbox *ob)
{
	ob->m = calloc(BATCH_MAX, sizeof(*ob->m));
	ob->hdr = calloc(BATCH_MAX, sizeof(*ob->hdr));
	ob->fd = -1;
	return ob->m && ob->hdr ? 0 : -ENOMEM;
}

static void outbox_free(struct outbox *ob)
{
	free(ob->m);
	free(ob->hdr);
}

/* Queues a built reply of len bytes (in the next slot's buffer) for rt. */
static void outbox_push(struct ib_dhcp4_server *s, const struct route *rt,
			const struct ib_d4_who *who, bool limited, size_t len)
{
	struct outbox *ob = &s->out;
	struct outmsg *m = &ob->m[ob->n];
	struct mmsghdr *h = &ob->hdr[ob->n];
	struct in_pktinfo pi = { .ipi_ifindex = rt->ifindex,
				 .ipi_spec_dst.s_addr = htonl(rt->src) };
	struct cmsghdr *c;

	m->to = rt->to;
	m->who = *who;
	m->limited = limited;
	m->iov = (struct iovec){ m->buf, len };
	memset(h, 0, sizeof(*h));
	memset(m->cm.buf, 0, sizeof(m->cm.buf));
	h->msg_hdr = (struct msghdr){
		.msg_name = &m->to, .msg_namelen = sizeof(m->to),
		.msg_iov = &m->iov, .msg_iovlen = 1,
		.msg_control = m->cm.buf, .msg_controllen = sizeof(m->cm.buf),
	};
	c = CMSG_FIRSTHDR(&h->msg_hdr);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	ob->fd = rt->fd;
	ob->n++;
}

/* Builds a decision's reply into the outbox; journals the exchange. */
static void send_reply(struct ib_dhcp4_server *s, struct pending *p)
{
	struct outbox *ob = &s->out;
	size_t len;
	int r;

	if (ob->n == BATCH_MAX || (ob->n && ob->fd != p->rt.fd))
		outbox_flush(s);
	r = ib_dhcp4_build(&p->d.reply, p->d.max_len, ob->m[ob->n].buf,
			   sizeof(ob->m[ob->n].buf), &len);
	ib_d4_journal_exchange(s->journal, &p->who, &p->note, &p->d, &p->rt.to, p->rt.src, r,
			       &p->gate);
	if (r < 0) {
		s->stats.send_errors++;
		ib_warn("dhcp4: reply not built: %s", strerror(-r));
		return;
	}
	outbox_push(s, &p->rt, &p->who, p->gate.limited, len);
	switch (p->d.action) {
	case IB_D4_OFFER: s->stats.offers++; break;
	case IB_D4_ACK: s->stats.acks++; break;
	case IB_D4_NAK: s->stats.naks++; break;
	case IB_D4_INFORM: s->stats.informs++; break;
	case IB_D4_PROXY: s->stats.proxies++; break;
	default: break;
	}
}

/* RFC 2131 4.1: the destination of a reply, and the interface it leaves by. */
static void route_reply(const struct ib_dhcp4_server *s, const struct ib_dhcp4_decision *d,
			const struct sockaddr_in *from, int ifindex, uint32_t server_addr,
			int fd, struct route *rt)
{
	const struct ib_dhcp4_out *o = &d->reply;

	memset(rt, 0, sizeof(*rt));
	rt->to.sin_family = AF_INET;
	rt->src = server_addr;
	rt->fd = fd;
	switch (d->dest) {
	case IB_D4_TO_RELAY:
		rt->to.sin_addr.s_addr = htonl(o->giaddr);
		rt->to.sin_port = htons(s->cfg->dhcp4.port);
		break;
	case IB_D4_TO_CIADDR:
		rt->to.sin_addr.s_addr = htonl(o->ciaddr);
		rt->to.sin_port = htons(s->cfg->dhcp4.client_port);
		break;
	case IB_D4_TO_SOURCE:
		if (from->sin_addr.s_addr != INADDR_ANY) {
			rt->to = *from;
			break;
		}
		/* A source without an address hears broadcasts. */
		__attribute__((fallthrough));
	case IB_D4_TO_BROADCAST:
		rt->to.sin_addr.s_addr = htonl(INADDR_BROADCAST);
		rt->to.sin_port = htons(s->cfg->dhcp4.client_port);
		rt->ifindex = ifindex;
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
 * Writes one pending decision inside the open transaction; p->applied says
 * whether the store took it (the cache follows the store, never leads it).
 */
static int store_one(struct ib_dhcp4_server *s, struct pending *p)
{
	int r;

	p->applied = false;
	switch (p->d.action) {
	case IB_D4_ACK:
		r = ib_store_lease4_commit(s->store, &p->lease, s->now);
		if (r == -EEXIST) {
			/* Another client or server won the address: the store decides. */
			ib_dhcp4_decision_to_nak(&p->d,
				"address is bound to another client (store refused the commit)");
			return 0;
		}
		p->applied = r == 0;
		return r;
	case IB_D4_RELEASE:
		r = ib_store_lease4_set_state(s->store, p->d.address, IB_LEASE_RELEASED, s->now);
		if (r == 0)
			ib_d4_journal_lease(s->journal, &p->who, "lease-release", &p->lease);
		p->applied = r == 0;
		return r == -ENOENT ? 0 : r;
	case IB_D4_DECLINE:
		r = ib_store_lease4_commit(s->store, &p->lease, s->now);
		if (r == 0)
			r = ib_store_lease4_set_state(s->store, p->d.address, IB_LEASE_DECLINED,
						      s->now + s->cfg->dhcp4.decline_hold);
		if (r == 0)
			ib_d4_journal_lease(s->journal, &p->who, "lease-decline", &p->lease);
		p->applied = r == 0;
		return r == -EEXIST ? 0 : r;
	default:
		return 0;
	}
}

/*
 * Group commit: one transaction for the batch's bindings; replies leave
 * only once it is durable.  Journal events are flushed separately (timer):
 * they describe the exchange, they are not the binding.
 */
static void flush_batch(struct ib_dhcp4_server *s)
{
	size_t i;
	int r;

	if (s->n_batch == 0)
		return;
	r = ib_store_begin(s->store);
	for (i = 0; r == 0 && i < s->n_batch; i++)
		r = store_one(s, &s->batch[i]);
	if (r == 0)
		r = ib_store_commit(s->store);
	s->stats.commit_batches++;
	if (r < 0) {
		ib_store_rollback(s->store);
		s->stats.commit_errors++;
		ib_err("dhcp4: store commit failed (%s); %zu replies not sent, clients will retry",
		       strerror(-r), s->n_batch);
		s->n_batch = 0;
		return;
	}
	for (i = 0; i < s->n_batch; i++) {
		struct pending *p = &s->batch[i];

		if (p->d.action == IB_D4_RELEASE) {
			s->stats.releases++;
		} else if (p->d.action == IB_D4_DECLINE) {
			s->stats.declines++;
		}
		if (p->applied)
			apply_cache(s, p);
		if (p->d.action == IB_D4_ACK || p->d.action == IB_D4_NAK)
			send_reply(s, p);
		else
			ib_d4_journal_exchange(s->journal, &p->who, &p->note, &p->d,
					       &p->rt.to, p->rt.src, 0, &p->gate);
	}
	s->n_batch = 0;
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

/* Logs n's counts if any and due (or whatever when force). */
static void pool_note_log(struct ib_dhcp4_server *s, struct pool_note *n, bool force)
{
	char net[IB_IP4_STRLEN];

	if (!(n->took_short || n->took_cap || n->refused) ||
	    (!force && n->last && s->now - n->last < WARN_EVERY))
		return;
	ib_ip4_format(n->network, net);
	ib_warn("dhcp4: subnet %s/%d short of addresses over %" PRId64 " s: %" PRIu64
		" OFFERs took over the oldest OFFER (no free address), %" PRIu64 " took "
		"their relay's or link's oldest (at its %d%% share of the pool), %" PRIu64
		" DISCOVERs unanswered (no free address, no OFFER to take over)", net,
		__builtin_popcount(n->mask), s->now - n->since, n->took_short, n->took_cap,
		IB_D4_HOLD_SHARE, n->refused);
	n->last = s->now;
	n->took_short = n->took_cap = n->refused = 0;
}

/* Counts a DISCOVER that met a short pool (issue #11), logged rate-limited. */
static void note_pool(struct ib_dhcp4_server *s, const struct ib_dhcp4_decision *d)
{
	struct pool_note *n;

	if ((d->take == IB_D4_TAKE_NONE && !d->exhausted) || !d->subnet ||
	    !(n = pool_note(s, d->subnet)))
		return;
	if (!(n->took_short || n->took_cap || n->refused))
		n->since = s->now;
	n->took_short += d->take == IB_D4_TAKE_SHORT;
	n->took_cap += d->take == IB_D4_TAKE_CAP;
	n->refused += d->exhausted;
	pool_note_log(s, n, false);
}

/* Decides and applies one parsed request. */
static void handle(struct ib_dhcp4_server *s, const struct sockaddr_in *from,
		   const struct in_pktinfo *pi, int fd, bool proxy_port)
{
	struct ib_dhcp4_input in = {
		.cfg = s->cfg, .msg = &s->msg, .server_addr = ntohl(pi->ipi_spec_dst.s_addr),
		.to_us = pi->ipi_addr.s_addr == pi->ipi_spec_dst.s_addr,
		.proxy_port = proxy_port, .ifindex = pi->ipi_ifindex, .now = s->now,
		.view = &s->view,
	};
	struct pending *p = &s->batch[s->n_batch];
	struct ib_d4_key k;
	bool known;

	ib_d4_who_from_msg(&s->msg, &p->who);
	ib_d4_note_from_msg(&s->msg, from, &p->note);
	if (ib_dhcp4_decide(&in, &p->d) < 0) {
		p->d.action = IB_D4_DROP;
		p->d.reason = "reply does not fit";
	}
	ib_d4_key_from_msg(&s->msg, &k);
	known = p->d.resv || ib_d4_leases_bound(s->leases, &k, s->now) ||
		in_inventory(s->cfg, &s->msg);
	ib_d4_journal_gate(&p->who, &p->note, &p->d, known, &p->gate);
	note_pool(s, &p->d);
	route_reply(s, &p->d, from, pi->ipi_ifindex, in.server_addr, fd, &p->rt);
	switch (p->d.action) {
	case IB_D4_DROP:
		s->stats.ignored++;
		ib_d4_journal_exchange(s->journal, &p->who, &p->note, &p->d,
				       &p->rt.to, p->rt.src, 0, &p->gate);
		if (p->d.forget_offer)
			ib_d4_leases_forget_offer(s->leases, &k);
		return;
	case IB_D4_OFFER:
		/* a reserved address is held, never filed for taking over */
		if (p->d.resv)
			ib_d4_leases_set(s->leases, p->d.address, IB_D4_OFFERED, &k,
					 s->now + s->cfg->dhcp4.offer_hold);
		else
			ib_d4_leases_offer(s->leases, p->d.address, &k, p->d.subnet->network,
					   p->d.source, s->now, s->now + s->cfg->dhcp4.offer_hold);
		send_reply(s, p);
		return;
	case IB_D4_NAK:
	case IB_D4_INFORM:
	case IB_D4_PROXY:
		send_reply(s, p);
		return;
	case IB_D4_ACK:
	case IB_D4_RELEASE:
	case IB_D4_DECLINE:
		fill_lease(s, &s->msg, &p->d, &p->lease);
		s->n_batch++;
		return;
	}
}

/* Reads one datagram; returns -EAGAIN when the socket is drained. */
static int receive_one(struct ib_dhcp4_server *s, int fd, bool proxy_port)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cm;
	struct sockaddr_in from;
	struct iovec iov = { s->rbuf, sizeof(s->rbuf) };
	struct msghdr mh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	struct in_pktinfo pi = { 0 };
	bool have_pi = false;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	s->stats.received++;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			have_pi = true;
		}
	}
	if (!have_pi || !serves_ifindex(s, pi.ipi_ifindex) || !pi.ipi_spec_dst.s_addr) {
		s->stats.ignored++;
		s->stats.not_served++;
		return 0;
	}
	if (mh.msg_flags & MSG_TRUNC)
		n = (ssize_t)sizeof(s->rbuf) + 1;
	if (ib_dhcp4_parse(s->rbuf, (size_t)n, &s->msg) < 0) {
		log_reject(s, &from, s->msg.reject);
		return 0;
	}
	s->stats.requests[s->msg.type < IB_DHCP4_STATS_TYPES ? s->msg.type : 0]++;
	handle(s, &from, &pi, fd, proxy_port);
	return 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg);

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ib_dhcp4_server *s = arg;
	bool proxy_port = fd == s->fd_proxy;

	s->now = ib_now_sec();
	for (int i = 0; i < BATCH_MAX && s->n_batch < BATCH_MAX; i++) {
		int r = receive_one(s, fd, proxy_port);

		if (r == -EAGAIN)
			break;
		if (r < 0) {
			ib_warn("dhcp4: recvmsg: %s", strerror(-r));
			break;
		}
	}
	/*
	 * Group commit: a full enough batch commits now; a small one waits up
	 * to COMMIT_DELAY_US for more bindings to share its fsync.
	 */
	if (s->n_batch >= COMMIT_MIN) {
		flush_batch(s);
	} else if (s->n_batch && !evtimer_pending(s->commit_timer, NULL)) {
		struct timeval tv = { 0, COMMIT_DELAY_US };

		evtimer_add(s->commit_timer, &tv);
	}
	outbox_flush(s);
	/* Under a storm the timer alone would let the queue overflow. */
	if (ib_journal_pending(s->journal) > IB_JOURNAL_QUEUE / 2)
		on_flush(-1, 0, s);
}

static void on_commit_timer(evutil_socket_t fd, short what, void *arg)
{
	flush_batch(arg);
	outbox_flush(arg);
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
static void log_held(struct ib_dhcp4_server *s)
{
	for (size_t i = 0; i < s->n_pools; i++)
		pool_note_log(s, &s->pools[i], false);
	if (s->send_warn.held && s->now - s->send_warn.last >= WARN_EVERY) {
		ib_warn("dhcp4: %" PRIu64 " more replies not sent since the last such warning",
			s->send_warn.held);
		ib_log_rate_logged(&s->send_warn, s->now);
	}
}

static void on_reclaim(evutil_socket_t fd, short what, void *arg)
{
	struct ib_dhcp4_server *s = arg;
	int r;

	s->now = ib_now_sec();
	log_held(s);
	r = ib_store_begin(s->store);
	if (r == 0)
		r = ib_store_lease4_reclaim(s->store, s->now, on_expired, s);
	if (r == 0)
		r = ib_store_commit(s->store);
	if (r < 0) {
		ib_store_rollback(s->store);
		ib_warn("dhcp4: lease reclaim failed: %s; retrying later", strerror(-r));
	}
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct ib_dhcp4_server *s = arg;
	int r;

	ib_journal_tick(s->journal, ib_now_us(), false);
	r = ib_journal_flush(s->journal, false);

	if (r < 0)
		ib_warn("journal: flush failed: %s; events kept queued", strerror(-r));
}

static int add_timer(struct ib_dhcp4_server *s, struct event **ev,
		     event_callback_fn cb, long sec, long usec)
{
	struct timeval tv = { sec, usec };

	*ev = event_new(s->base, -1, EV_PERSIST, cb, s);
	if (!*ev || event_add(*ev, &tv) < 0)
		return -ENOMEM;
	return 0;
}

static int add_reader(struct ib_dhcp4_server *s, int fd, struct event **ev)
{
	*ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, s);
	if (!*ev || event_add(*ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static int start(struct ib_dhcp4_server *s, const struct ib_config *cfg)
{
	int r;

	if ((r = resolve_interfaces(s, cfg)) < 0)
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
	s->commit_timer = evtimer_new(s->base, on_commit_timer, s);
	if (!s->commit_timer)
		return -ENOMEM;
	if ((r = add_reader(s, s->fd, &s->ev)) < 0 ||
	    (s->fd_proxy >= 0 && (r = add_reader(s, s->fd_proxy, &s->ev_proxy)) < 0) ||
	    (r = add_timer(s, &s->reclaim_timer, on_reclaim, 5, 0)) < 0 ||
	    (r = add_timer(s, &s->flush_timer, on_flush, 0, 100000)) < 0)
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
	s->batch = calloc(BATCH_MAX, sizeof(*s->batch));
	if (!s->batch || outbox_new(&s->out) < 0 || (r = ib_d4_leases_new(&s->leases)) < 0) {
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
	int r;

	if (cfg->dhcp4.port != s->cfg->dhcp4.port || cfg->dhcp4.mode != s->cfg->dhcp4.mode) {
		ib_warn("dhcp4: port or mode changes need a restart; keeping port %u",
			s->cfg->dhcp4.port);
	}
	if ((r = resolve_interfaces(s, cfg)) < 0)
		return r;
	/* Pending decisions point into the old snapshot: commit them first. */
	flush_batch(s);
	outbox_flush(s);
	s->cfg = cfg;
	return 0;
}

void ib_dhcp4_server_free(struct ib_dhcp4_server *s)
{
	if (!s)
		return;
	flush_batch(s);
	if (s->out.n)
		outbox_flush(s);
	if (s->journal)
		ib_journal_tick(s->journal, ib_now_us(), true);	/* the summaries due */
	for (size_t i = 0; i < s->n_pools; i++)
		pool_note_log(s, &s->pools[i], true);
	if (s->send_warn.held)
		ib_warn("dhcp4: %" PRIu64 " more replies not sent since the last such warning",
			s->send_warn.held);
	free(s->pools);
	outbox_free(&s->out);
	if (s->ev)
		event_free(s->ev);
	if (s->ev_proxy)
		event_free(s->ev_proxy);
	if (s->reclaim_timer)
		event_free(s->reclaim_timer);
	if (s->flush_timer)
		event_free(s->flush_timer);
	if (s->commit_timer)
		event_free(s->commit_timer);
	if (s->fd >= 0)
		close(s->fd);
	if (s->fd_proxy >= 0)
		close(s->fd_proxy);
	ib_d4_leases_free(s->leases);
	free(s->batch);
	free(s);
}

int ib_dhcp4_server_release(struct ib_dhcp4_server *s, uint32_t addr,
			    struct ib_lease4 *ret)
{
	struct ib_d4_who who;
	struct ib_lease4 l;
	int r;

	flush_batch(s);			/* decisions already made commit first */
	s->now = ib_now_sec();
	if ((r = ib_store_begin(s->store)) < 0)
		return r;
	r = ib_store_lease4_get(s->store, addr, &l);
	if (r == 0 && (l.state != IB_LEASE_ACTIVE || l.expires <= s->now))
		r = -ENOENT;
	if (r == 0)
		r = ib_store_lease4_set_state(s->store, addr, IB_LEASE_RELEASED, s->now);
	if (r == 0)
		r = ib_store_commit(s->store);
	if (r < 0) {
		ib_store_rollback(s->store);
		return r;
	}
	ib_d4_leases_remove(s->leases, addr);	/* the cache follows the store */
	ib_d4_who_from_lease(&l, &who);
	ib_d4_journal_lease(s->journal, &who, "lease-release-operator", &l);
	l.state = IB_LEASE_RELEASED;
	if (ret)
		*ret = l;
	return 0;
}

const struct ib_dhcp4_stats *ib_dhcp4_server_stats(const struct ib_dhcp4_server *s)
{
	return &s->stats;
}
