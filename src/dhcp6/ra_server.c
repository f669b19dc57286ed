/*
 * Router advertisements (RFC 4861 6.2), for IPv6 labs with no router: a
 * raw ICMPv6 socket sends an RA with the Managed and Other flags and the
 * served prefixes (on-link, no SLAAC) to all-nodes on each configured
 * interface every dhcp6.router_advertisements.interval seconds, and at
 * once (at most every 3 s) when a host solicits one.
 */
#include "dhcp6/ra_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "dhcp6/ra_codec.h"

#define MAX_IFACES 16
#define MIN_DELAY_BETWEEN_RAS 3		/* RFC 4861 10: seconds */

struct ra_iface {
	char name[IF_NAMESIZE];		/* interface name */
	unsigned index;			/* its index, 0 = missing */
	int64_t last;			/* when the last RA left, unix seconds */
};

struct ib_ra_server {
	struct event_base *base;	/* not owned */
	const struct ib_config *cfg;	/* current snapshot, not owned */
	int fd;				/* raw ICMPv6 socket */
	struct event *ev;		/* Router Solicitations */
	struct event *timer;		/* periodic RAs */
	struct ra_iface ifs[MAX_IFACES];
	size_t n_ifs;
};

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

/* The RA of one interface: flags from the config, the prefixes of the
 * subnets served on it directly. */
static void make_ra(const struct ib_config *cfg, const char *ifname, struct ib_ra *ra)
{
	const struct ib_ra_config *rc = &cfg->dhcp6.ra;

	memset(ra, 0, sizeof(*ra));
	ra->hop_limit = 64;
	ra->managed = rc->managed;
	ra->other = rc->other;
	ra->router_lifetime = (uint16_t)IB_MIN(rc->router_lifetime, 9000u);
	ra->has_lladdr = our_mac(ifname, ra->lladdr);
	for (size_t i = 0; i < cfg->dhcp6.n_subnets && ra->n_prefixes < IB_RA_MAX_PREFIXES; i++) {
		const struct ib_subnet6 *sn = &cfg->dhcp6.subnets[i];
		struct ib_ra_prefix *p;

		if (!sn->interface || strcmp(sn->interface, ifname) != 0)
			continue;
		p = &ra->prefixes[ra->n_prefixes++];
		memcpy(p->prefix, sn->prefix, 16);
		p->len = sn->prefix_len;
		p->on_link = true;
		p->autonomous = false;	/* addresses come from DHCPv6 only */
		p->valid = sn->valid_lifetime;
		p->preferred = sn->preferred_lifetime;
	}
}

static void send_ra(struct ib_ra_server *s, struct ra_iface *ifc, int64_t now)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cm;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_scope_id = ifc->index };
	uint8_t buf[IB_RA_MAX_LEN];
	struct in6_pktinfo *pi;
	struct iovec iov;
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	struct ib_ra ra;
	size_t len;

	make_ra(s->cfg, ifc->name, &ra);
	if (ib_ra_build(&ra, buf, sizeof(buf), &len) < 0)
		return;
	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);	/* all-nodes */
	memset(&cm, 0, sizeof(cm));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(*pi));
	pi = (struct in6_pktinfo *)CMSG_DATA(c);
	pi->ipi6_ifindex = ifc->index;
	iov.iov_base = buf;
	iov.iov_len = len;
	if (sendmsg(s->fd, &mh, 0) < 0)
		ib_debug("ra: not sent on %s: %s", ifc->name, strerror(errno));
	ifc->last = now;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ib_ra_server *s = arg;
	int64_t now = ib_now_sec();

	for (size_t i = 0; i < s->n_ifs; i++)
		if (s->ifs[i].index)
			send_ra(s, &s->ifs[i], now);
}

/* RFC 4861 6.2.6: answer a solicitation, rate-limited per interface. */
static void on_solicit(evutil_socket_t fd, short what, void *arg)
{
	struct ib_ra_server *s = arg;
	uint8_t buf[1500];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	struct sockaddr_in6 from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
			     .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	int64_t now = ib_now_sec();
	unsigned idx = 0;
	ssize_t n;

	for (int k = 0; k < 64 && (n = recvmsg(s->fd, &mh, MSG_DONTWAIT)) >= 0; k++) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				idx = pi.ipi6_ifindex;
			}
		if (!ib_rs_valid(buf, (size_t)n))
			continue;
		for (size_t i = 0; i < s->n_ifs; i++)
			if (s->ifs[i].index == idx && now - s->ifs[i].last >= MIN_DELAY_BETWEEN_RAS)
				send_ra(s, &s->ifs[i], now);
		mh.msg_controllen = sizeof(cm.buf);
		mh.msg_namelen = sizeof(from);
	}
}

static void resolve(struct ib_ra_server *s, const struct ib_config *cfg)
{
	struct ipv6_mreq mr;

	inet_pton(AF_INET6, "ff02::2", &mr.ipv6mr_multiaddr);	/* all-routers: RSs */
	s->n_ifs = 0;
	for (size_t i = 0; i < cfg->dhcp6.ra.n_interfaces && s->n_ifs < MAX_IFACES; i++) {
		struct ra_iface *ifc = &s->ifs[s->n_ifs++];

		snprintf(ifc->name, sizeof(ifc->name), "%s", cfg->dhcp6.ra.interfaces[i]);
		ifc->index = if_nametoindex(ifc->name);
		ifc->last = 0;
		if (!ifc->index) {
			ib_warn("ra: interface %s not found; no advertisements there", ifc->name);
			continue;
		}
		mr.ipv6mr_interface = ifc->index;
		if (setsockopt(s->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof(mr)) < 0 &&
		    errno != EADDRINUSE)
			ib_warn("ra: cannot join ff02::2 on %s: %s", ifc->name, strerror(errno));
	}
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
	/* RFC 4861 6.1.2: hosts drop an RA whose hop limit is not 255 */
	if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

int ib_ra_server_new(struct event_base *base, const struct ib_config *cfg,
		     struct ib_ra_server **ret)
{
	struct ib_ra_server *s = calloc(1, sizeof(*s));
	struct timeval tv;
	int r;

	if (!s)
		return -ENOMEM;
	s->base = base;
	s->cfg = cfg;
	if ((r = open_raw(&s->fd)) < 0) {
		ib_err("ra: cannot open a raw ICMPv6 socket: %s", strerror(-r));
		free(s);
		return r;
	}
	resolve(s, cfg);
	tv = (struct timeval){ cfg->dhcp6.ra.interval, 0 };
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, on_solicit, s);
	s->timer = event_new(base, -1, EV_PERSIST, on_timer, s);
	if (!s->ev || !s->timer || event_add(s->ev, NULL) < 0 || event_add(s->timer, &tv) < 0) {
		ib_ra_server_free(s);
		return -ENOMEM;
	}
	on_timer(-1, 0, s);		/* the first at once */
	ib_info("ra: advertising on %zu interface(s) every %u s (M=%d O=%d)", s->n_ifs,
		cfg->dhcp6.ra.interval, cfg->dhcp6.ra.managed, cfg->dhcp6.ra.other);
	*ret = s;
	return 0;
}

void ib_ra_server_reconfigure(struct ib_ra_server *s, const struct ib_config *cfg)
{
	struct timeval tv = { cfg->dhcp6.ra.interval, 0 };

	s->cfg = cfg;
	resolve(s, cfg);
	event_add(s->timer, &tv);
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
