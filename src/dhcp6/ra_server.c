/*
 * Router advertisements (RFC 4861 6.2), for links with no router: one raw
 * ICMPv6 socket sends RAs to all-nodes on each link the config names
 * (ib_ra_links()), hears Router Solicitations (answered after a random
 * delay, at most one RA per 3 s) and, in auto mode, other routers' RAs.
 *
 * When each link advertises is ra_codec.c's decision (struct ib_ra_link):
 * in auto mode a link first solicits and listens; a router heard then or
 * later keeps it quiet.  This shell applies those decisions, logs each
 * change once and journals it (proto "ra", no MAC), which is what
 * `ironboot explain` reads.
 */
#include "dhcp6/ra_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "dhcp6/ra_codec.h"

#define RESCAN_MS 30000			/* links that appear or vanish are seen this late */
#define RECV_BURST 64			/* messages read per wake-up */

struct ra_iface {
	char name[IF_NAMESIZE];		/* interface name */
	unsigned index;			/* its index, 0 = missing */
	struct ib_ra_link link;		/* when it advertises (ra_codec.h) */
	bool told_missing;		/* "not found" logged */
	bool told_keep;			/* true mode: "advertising anyway" logged */
	bool told_outranked;		/* auto: "ours is the lower address" logged */
};

struct ib_ra_server {
	struct event_base *base;	/* not owned */
	const struct ib_config *cfg;	/* current snapshot, not owned */
	struct ib_journal *journal;	/* not owned, or NULL */
	int fd;				/* raw ICMPv6 socket */
	struct event *ev;		/* solicitations and other routers' RAs */
	struct event *timer;		/* the earliest thing due on any link */
	struct ra_iface ifs[IB_RA_MAX_LINKS];
	size_t n_ifs;
	int64_t next_scan;		/* when the links are resolved again */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- our interfaces ---- */

static bool our_mac(const char *ifname, uint8_t mac[6])
{
	struct ifaddrs *ifa, *i;
	bool found = false;

	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i && !found; i = i->ifa_next) {
		const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;

		if (ll && ll->sll_family == AF_PACKET && ll->sll_halen == 6 &&
		    strcmp(i->ifa_name, ifname) == 0) {
			memcpy(mac, ll->sll_addr, 6);
			found = true;
		}
	}
	freeifaddrs(ifa);
	return found;
}

/*
 * Whether a is one of this host's addresses (our own RAs, should one come
 * back through a bridge), and our link-local address on ifindex into ll
 * (zeros when it has none yet).
 */
static bool ours(const uint8_t a[16], unsigned ifindex, uint8_t ll[16])
{
	struct ifaddrs *ifa, *i;
	bool mine = false;

	memset(ll, 0, 16);
	if (getifaddrs(&ifa) < 0)
		return false;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)i->ifa_addr;

		if (!sa || sa->sin6_family != AF_INET6)
			continue;
		mine |= memcmp(&sa->sin6_addr, a, 16) == 0;
		if (IN6_IS_ADDR_LINKLOCAL(&sa->sin6_addr) && sa->sin6_scope_id == ifindex)
			memcpy(ll, &sa->sin6_addr, 16);
	}
	freeifaddrs(ifa);
	return mine;
}

/* Appends each up, multicast, non-loopback interface with IPv4 not yet in ret. */
static size_t add_ipv4_links(char (*ret)[IF_NAMESIZE], size_t n, size_t cap)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) < 0)
		return n;
	for (i = ifa; i && n < cap; i = i->ifa_next) {
		size_t k = 0;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP) ||
		    !(i->ifa_flags & IFF_MULTICAST))
			continue;
		while (k < n && strcmp(ret[k], i->ifa_name) != 0)
			k++;
		if (k == n)
			snprintf(ret[n++], IF_NAMESIZE, "%s", i->ifa_name);
	}
	freeifaddrs(ifa);
	return n;
}

size_t ib_ra_server_links(const struct ib_config *cfg, bool boot, char (*ret)[IF_NAMESIZE],
			  size_t cap)
{
	const char *names[IB_RA_MAX_LINKS];
	bool all4;
	size_t n = boot ? ib_ra_boot_links(cfg, names, IB_RA_MAX_LINKS, &all4)
			: ib_ra_links(cfg, names, IB_RA_MAX_LINKS, &all4);

	n = IB_MIN(n, cap);
	for (size_t i = 0; i < n; i++)
		snprintf(ret[i], IF_NAMESIZE, "%s", names[i]);
	return all4 ? add_ipv4_links(ret, n, cap) : n;
}

/* ---- what is said: the log and the journal ---- */

static void journal(struct ib_ra_server *s, const char *kind, json_t *detail)
{
	struct ib_journal_who nobody = { 0 };
	int r;

	if (!s->journal) {
		json_decref(detail);
		return;
	}
	ib_journal_add(s->journal, &nobody, "ra", kind, detail);
	if ((r = ib_journal_flush_nowait(s->journal)) < 0)	/* rare: at once */
		ib_debug("ra: journal flush: %s; kept queued", strerror(-r));
}

static void tell_listening(struct ib_ra_server *s, const struct ra_iface *ifc)
{
	ib_info("ra: %s: listening %d s for another router before advertising (auto)",
		ifc->name, IB_RA_LISTEN_MS / 1000);
	journal(s, "listening", json_pack("{s:s, s:i}", "interface", ifc->name,
					  "ms", IB_RA_LISTEN_MS));
}

static void tell_advertising(struct ib_ra_server *s, const struct ra_iface *ifc, bool again)
{
	struct ib_ra ra;
	const char *mode = ifc->link.auto_mode ? "auto" : "true";

	ib_ra_layout(s->cfg, ifc->name, &ra);
	ib_info("ra: %s: %s; advertising every %u s (router lifetime %u, M=%d O=%d, "
		"%zu prefix(es), %s)", ifc->name,
		!ifc->link.auto_mode ? "enabled: true" :
		again ? "no router answered our solicitation" : "no other router heard",
		ifc->link.interval_ms / 1000, ra.router_lifetime, ra.managed, ra.other,
		ra.n_prefixes, mode);
	journal(s, "advertising", json_pack("{s:s, s:s, s:b, s:b, s:i, s:i}",
					    "interface", ifc->name, "mode", mode,
					    "managed", ra.managed, "other", ra.other,
					    "router_lifetime", ra.router_lifetime,
					    "prefixes", (int)ra.n_prefixes));
}

static void tell_heard(struct ib_ra_server *s, struct ra_iface *ifc,
		       const struct ib_ra_heard *h, enum ib_ra_verdict v, bool was_advertising)
{
	char from[IB_IP6_STRLEN];

	ib_ip6_format(h->from, from);
	if (v == IB_RA_KEEP && !ifc->told_keep) {
		ifc->told_keep = true;
		ib_notice("ra: %s: heard a router advertisement from %s (router lifetime %u s); "
			  "advertising anyway (enabled: true)", ifc->name, from,
			  h->router_lifetime);
	} else if (v == IB_RA_OUTRANKED && !ifc->told_outranked) {
		ifc->told_outranked = true;
		ib_notice("ra: %s: %s also advertises without being a router; ours is the "
			  "lower address, so it keeps advertising", ifc->name, from);
	} else if (v == IB_RA_NOW_QUIET) {
		ib_notice("ra: %s: heard a router advertisement from %s (router lifetime %u s); "
			  "%s advertising on %s while it does", ifc->name, from,
			  h->router_lifetime, was_advertising ? "stopped" : "not", ifc->name);
		journal(s, "quiet", json_pack("{s:s, s:s, s:i}", "interface", ifc->name,
					      "router", from, "router_lifetime",
					      (int)h->router_lifetime));
	}
}

/* ---- sending ---- */

static void send_to(struct ib_ra_server *s, const struct ra_iface *ifc, const char *group,
		    const uint8_t *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cm;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_scope_id = ifc->index };
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	struct in6_pktinfo *pi;
	struct cmsghdr *c;

	inet_pton(AF_INET6, group, &to.sin6_addr);
	memset(&cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in6_pktinfo *)CMSG_DATA(c);
	pi->ipi6_ifindex = ifc->index;
	if (sendmsg(s->fd, &mh, 0) < 0)
		ib_debug("ra: %s: not sent to %s: %s", ifc->name, group, strerror(errno));
}

static void send_ra(struct ib_ra_server *s, struct ra_iface *ifc, int64_t now)
{
	uint8_t buf[IB_RA_MAX_LEN];
	struct ib_ra ra;
	size_t len;

	ib_ra_layout(s->cfg, ifc->name, &ra);
	ra.has_lladdr = our_mac(ifc->name, ra.lladdr);
	if (ib_ra_build(&ra, buf, sizeof(buf), &len) == 0)
		send_to(s, ifc, "ff02::1", buf, len);		/* all-nodes */
	ib_ra_link_sent(&ifc->link, now);
}

/* RFC 4861 6.3.7: a solicitation makes the routers on the link answer. */
static void send_rs(struct ib_ra_server *s, const struct ra_iface *ifc)
{
	uint8_t buf[16], mac[6];
	size_t len;
	bool has_mac = our_mac(ifc->name, mac);

	if (ib_rs_build(has_mac ? mac : NULL, buf, sizeof(buf), &len) == 0)
		send_to(s, ifc, "ff02::2", buf, len);		/* all-routers */
}

/* ---- the links over time ---- */

static void act(struct ib_ra_server *s, struct ra_iface *ifc, enum ib_ra_action a, int64_t now)
{
	if (a == IB_RA_SEND_RA)
		send_ra(s, ifc, now);
	else if (a == IB_RA_SEND_RS)
		send_rs(s, ifc);
}

static void start_link(struct ib_ra_server *s, struct ra_iface *ifc, int64_t now)
{
	const struct ib_ra_config *rc = &s->cfg->dhcp6.ra;
	enum ib_ra_action a = ib_ra_link_start(&ifc->link, rc->mode == IB_RA_AUTO, rc->interval,
					       now);

	ifc->told_keep = ifc->told_outranked = false;
	if (ifc->link.phase == IB_RA_LISTEN)
		tell_listening(s, ifc);
	else
		tell_advertising(s, ifc, false);
	act(s, ifc, a, now);
}

static void join_all_routers(struct ib_ra_server *s, const struct ra_iface *ifc)
{
	struct ipv6_mreq mr = { .ipv6mr_interface = ifc->index };

	inet_pton(AF_INET6, "ff02::2", &mr.ipv6mr_multiaddr);	/* where RSs go */
	if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0 &&
	    errno != EADDRINUSE)
		ib_warn("ra: %s: cannot join ff02::2: %s", ifc->name, strerror(errno));
}

/*
 * The links of s->cfg: a link that stays (same name, index and mode)
 * keeps its state; a new one starts; a missing one is named once.
 */
static void resolve(struct ib_ra_server *s, int64_t now)
{
	char names[IB_RA_MAX_LINKS][IF_NAMESIZE];
	struct ra_iface next[IB_RA_MAX_LINKS];
	size_t n = ib_ra_server_links(s->cfg, false, names, IB_RA_MAX_LINKS);
	bool auto_mode = s->cfg->dhcp6.ra.mode == IB_RA_AUTO;

	for (size_t i = 0; i < n; i++) {
		struct ra_iface *ifc = &next[i], *old = NULL;

		for (size_t k = 0; k < s->n_ifs && !old; k++)
			if (strcmp(s->ifs[k].name, names[i]) == 0)
				old = &s->ifs[k];
		memset(ifc, 0, sizeof(*ifc));
		snprintf(ifc->name, sizeof(ifc->name), "%s", names[i]);
		ifc->index = if_nametoindex(ifc->name);
		if (old && old->index == ifc->index && old->link.auto_mode == auto_mode) {
			*ifc = *old;
			ifc->link.interval_ms = s->cfg->dhcp6.ra.interval * 1000u;
			continue;
		}
		ifc->told_missing = old && old->told_missing;
		if (!ifc->index) {
			if (!ifc->told_missing)
				ib_warn("ra: interface %s not found; no advertisements there until "
					"it appears", ifc->name);
			ifc->told_missing = true;
			continue;
		}
		join_all_routers(s, ifc);
		start_link(s, ifc, now);
	}
	memcpy(s->ifs, next, n * sizeof(next[0]));
	s->n_ifs = n;
	s->next_scan = now + RESCAN_MS;
}

/* Applies what each link needs now and arms the timer for the next. */
static void run(struct ib_ra_server *s)
{
	int64_t now = now_ms(), next;
	struct timeval tv;

	if (now >= s->next_scan)
		resolve(s, now);
	next = s->next_scan;
	for (size_t i = 0; i < s->n_ifs; i++) {
		struct ra_iface *ifc = &s->ifs[i];

		/* a few steps at most: listen -> advertise (+ the RA) */
		for (int k = 0; ifc->index && k < 4; k++) {
			enum ib_ra_phase was = ifc->link.phase;
			bool probing = ifc->link.probing;
			enum ib_ra_action a = ib_ra_link_tick(&ifc->link, now);

			if (a == IB_RA_NONE)
				break;
			if (was == IB_RA_LISTEN && ifc->link.phase == IB_RA_ADVERTISE)
				tell_advertising(s, ifc, probing);
			act(s, ifc, a, now);
		}
		if (ifc->index)
			next = IB_MIN(next, ib_ra_link_next(&ifc->link));
	}
	next = IB_MAX(next - now, 1);
	tv = (struct timeval){ (time_t)(next / 1000), (suseconds_t)(next % 1000) * 1000 };
	event_add(s->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	run(arg);
}

/* ---- receiving ---- */

static struct ra_iface *iface_of(struct ib_ra_server *s, unsigned index)
{
	for (size_t i = 0; index && i < s->n_ifs; i++)
		if (s->ifs[i].index == index)
			return &s->ifs[i];
	return NULL;
}

/* An RA from another node: RFC 4861 6.1.2 validity, then the link's verdict. */
static void on_ra(struct ib_ra_server *s, struct ra_iface *ifc, const struct sockaddr_in6 *from,
		  const uint8_t *buf, size_t len, int64_t now)
{
	struct ib_ra_heard h = { 0 };
	struct ib_ra ra;
	bool was_advertising = ifc->link.phase == IB_RA_ADVERTISE;
	enum ib_ra_verdict v;

	if (!IN6_IS_ADDR_LINKLOCAL(&from->sin6_addr) || ib_ra_parse(buf, len, &ra) < 0)
		return;
	memcpy(h.from, &from->sin6_addr, 16);
	if (ours(h.from, ifc->index, h.ours))
		return;
	h.router_lifetime = ra.router_lifetime;
	for (size_t i = 0; i < ra.n_prefixes; i++)
		h.slaac |= ra.prefixes[i].autonomous;
	v = ib_ra_link_heard(&ifc->link, &h, now);
	tell_heard(s, ifc, &h, v, was_advertising);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ib_ra_server *s = arg;
	uint8_t buf[1500];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct sockaddr_in6 from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_name = &from, .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cm.buf };
	int64_t now = now_ms();
	ssize_t n;

	for (int k = 0; k < RECV_BURST; k++) {
		unsigned idx = 0;
		int hops = -1;
		struct ra_iface *ifc;

		mh.msg_namelen = sizeof(from);
		mh.msg_controllen = sizeof(cm.buf);
		if ((n = recvmsg(s->fd, &mh, MSG_DONTWAIT)) < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != IPPROTO_IPV6)
				continue;
			if (c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				idx = pi.ipi6_ifindex;
			} else if (c->cmsg_type == IPV6_HOPLIMIT) {
				memcpy(&hops, CMSG_DATA(c), sizeof(hops));
			}
		}
		/* RFC 4861 6.1.1, 6.1.2: hop limit 255, so never from off the link */
		if (hops != 255 || n < 1 || !(ifc = iface_of(s, idx)))
			continue;
		if (buf[0] == IB_ICMP6_RS && ib_rs_valid(buf, (size_t)n))
			ib_ra_link_solicited(&ifc->link, now,
					     arc4random_uniform(IB_RA_MAX_DELAY_MS + 1));
		else if (buf[0] == IB_ICMP6_RA)
			on_ra(s, ifc, &from, buf, (size_t)n, now);
	}
	run(s);
}

static int open_raw(int *ret)
{
	int hops = 255, one = 1, zero = 0, fd;
	struct icmp6_filter f;

	fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (fd < 0)
		return -errno;
	ICMP6_FILTER_SETBLOCKALL(&f);
	ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &f);
	ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &f);	/* other routers (auto) */
	/* RFC 4861 6.1.2: hosts drop an RA whose hop limit is not 255 */
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

int ib_ra_server_new(struct event_base *base, const struct ib_config *cfg,
		     struct ib_journal *journal, struct ib_ra_server **ret)
{
	struct ib_ra_server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	*s = (struct ib_ra_server){ .base = base, .cfg = cfg, .journal = journal, .fd = -1 };
	if ((r = open_raw(&s->fd)) < 0) {
		if (cfg->dhcp6.ra.mode == IB_RA_AUTO)
			ib_warn("ra: cannot open a raw ICMPv6 socket (%s): no router "
				"advertisements, so on a link without a router iPXE waits "
				"~16 s for IPv6 before it boots", strerror(-r));
		else
			ib_err("ra: cannot open a raw ICMPv6 socket: %s", strerror(-r));
		free(s);
		return r;
	}
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, on_readable, s);
	s->timer = evtimer_new(base, on_timer, s);
	if (!s->ev || !s->timer || event_add(s->ev, NULL) < 0) {
		ib_ra_server_free(s);
		return -ENOMEM;
	}
	resolve(s, now_ms());
	run(s);
	*ret = s;
	return 0;
}

void ib_ra_server_reconfigure(struct ib_ra_server *s, const struct ib_config *cfg)
{
	s->cfg = cfg;
	resolve(s, now_ms());
	run(s);
}

void ib_ra_server_free(struct ib_ra_server *s)
{
	if (!s)
		return;
	if (s->ev)
		event_free(s->ev);
	if (s->timer)
		event_free(s->timer);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
