/*
 * Per-machine data of the HTTP boot service, shell side (http_auth.h):
 * the facts boot/machine_auth.c decides on, the machine secret and the
 * tokens made from it.
 */
#include "httpd/http_auth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "boot/machine_auth.h"
#include "common/util.h"
#include "httpd/http_server_int.h"

#define NL_WAIT_MS 100			/* rtnetlink answers at once; a guard only */
#define NL_BUF 8192			/* one answer: a route or a neighbour */
#define TOKEN_LABEL "machine:"		/* HMAC input: label and normal MAC */

/* ---- the machine secret and tokens ---- */

int ib_httpd_secret_load(struct ib_store *store, unsigned char ret[IB_HTTPD_SECRET_LEN])
{
	unsigned char fresh[IB_HTTPD_SECRET_LEN], parsed[IB_HTTPD_SECRET_LEN];
	char hex[2 * IB_HTTPD_SECRET_LEN + 2];
	size_t len = 0;
	int r;

	/* one write transaction: of two daemons starting at once, one makes it */
	if ((r = ib_store_begin(store)) < 0)
		return r;
	r = ib_store_meta_get(store, IB_HTTPD_SECRET_META, hex, sizeof(hex));
	if (r == -ENOENT) {
		r = RAND_bytes(fresh, sizeof(fresh)) == 1 ? 0 : -EIO;
		if (r == 0) {
			ib_hex_format(fresh, sizeof(fresh), hex, sizeof(hex));
			r = ib_store_meta_put(store, IB_HTTPD_SECRET_META, hex);
		}
	}
	if (r == -ENOBUFS || (r == 0 && (strlen(hex) != 2 * IB_HTTPD_SECRET_LEN ||
		ib_hex_parse(hex, parsed, sizeof(parsed), &len) < 0 || len != sizeof(parsed))))
		r = -EBADMSG;
	if (r < 0)
		ib_store_rollback(store);
	else
		r = ib_store_commit(store);
	if (r == 0)
		memcpy(ret, parsed, sizeof(parsed));
	OPENSSL_cleanse(fresh, sizeof(fresh));
	OPENSSL_cleanse(parsed, sizeof(parsed));
	OPENSSL_cleanse(hex, sizeof(hex));
	return r;
}

void ib_httpd_machine_token(const unsigned char secret[IB_HTTPD_SECRET_LEN], const char *mac,
			    char ret[IB_HTTPD_MACHINE_TOKEN_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char msg[sizeof(TOKEN_LABEL) + IB_BOOT_MAC_STRLEN];
	int n = snprintf(msg, sizeof(msg), TOKEN_LABEL "%s", mac);

	if (n < 0 || (size_t)n >= sizeof(msg) ||
	    !HMAC(EVP_sha256(), secret, IB_HTTPD_SECRET_LEN, (const unsigned char *)msg,
		  (size_t)n, md, &md_len) || md_len * 2 < IB_HTTPD_MACHINE_TOKEN_LEN) {
		ret[0] = '\0';		/* no token: none matches it (token_ok) */
		return;
	}
	ib_hex_format(md, IB_HTTPD_MACHINE_TOKEN_LEN / 2, ret, IB_HTTPD_MACHINE_TOKEN_LEN + 1);
	OPENSSL_cleanse(md, sizeof(md));
}

bool ib_httpd_machine_token_ok(const unsigned char secret[IB_HTTPD_SECRET_LEN],
			       const char *mac, const char *given)
{
	char want[IB_HTTPD_MACHINE_TOKEN_LEN + 1], low[IB_HTTPD_MACHINE_TOKEN_LEN];
	bool ok;

	/* the length is no secret: a token has one length */
	if (!given || strlen(given) != IB_HTTPD_MACHINE_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < IB_HTTPD_MACHINE_TOKEN_LEN; i++)
		low[i] = (char)(given[i] | ((given[i] >= 'A' && given[i] <= 'F') ? 0x20 : 0));
	ib_httpd_machine_token(secret, mac, want);
	ok = strlen(want) == IB_HTTPD_MACHINE_TOKEN_LEN &&
	     CRYPTO_memcmp(want, low, IB_HTTPD_MACHINE_TOKEN_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

/* ---- the neighbour table over rtnetlink ---- */

int ib_httpd_neigh_open(struct ib_httpd_neigh *n)
{
	n->seq = 0;
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	return n->fd < 0 ? -errno : 0;
}

void ib_httpd_neigh_close(struct ib_httpd_neigh *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

/* A netlink request with room for one address attribute. */
struct nl_req {
	struct nlmsghdr nh;		/* header */
	union {
		struct rtmsg rt;	/* RTM_GETROUTE */
		struct ndmsg nd;	/* RTM_GETNEIGH */
	} u;
	char attrs[RTA_SPACE(16)];	/* RTA_DST / NDA_DST */
};

/* Appends attribute type with len bytes of data to the request. */
static void nl_attr(struct nl_req *req, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(void *)((char *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Drops whatever an earlier, abandoned request left in the socket. */
static void nl_drain(int fd, char *buf)
{
	for (int i = 0; i < 16 && recv(fd, buf, NL_BUF, MSG_DONTWAIT) > 0; i++)
		;
}

/*
 * Sends req and finds the answer of type want in buf (NL_BUF bytes, int
 * aligned) into *ret.  0; the kernel's -errno; -ETIMEDOUT.
 */
static int nl_call(struct ib_httpd_neigh *n, struct nl_req *req, uint16_t want, char *buf,
		   const struct nlmsghdr **ret)
{
	struct pollfd pfd = { .fd = n->fd, .events = POLLIN };

	nl_drain(n->fd, buf);
	req->nh.nlmsg_flags = NLM_F_REQUEST;
	req->nh.nlmsg_seq = ++n->seq;
	if (send(n->fd, req, req->nh.nlmsg_len, 0) < 0)
		return -errno;
	for (int tries = 0; tries < 4; tries++) {
		ssize_t got;
		int len;

		if (poll(&pfd, 1, NL_WAIT_MS) <= 0)
			return -ETIMEDOUT;
		if ((got = recv(n->fd, buf, NL_BUF, MSG_DONTWAIT)) < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		len = (int)got;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)(void *)buf;
		     NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != n->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return e->error < 0 ? e->error : -ENOENT;
			}
			if (h->nlmsg_type == want) {
				*ret = h;
				return 0;
			}
		}
	}
	return -ETIMEDOUT;
}

/* The interface of the route to addr when the peer is on that link (the
 * route has no gateway), in *ret_ifindex; else -ENOENT. */
static int onlink_ifindex(struct ib_httpd_neigh *n, int family, const void *addr, size_t alen,
			  char *buf, int *ret_ifindex)
{
	struct nl_req req = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
				      .nlmsg_type = RTM_GETROUTE } };
	const struct nlmsghdr *h;
	const struct rtmsg *rt;
	const struct rtattr *a;
	int len, oif = 0, r;

	req.u.rt.rtm_family = (unsigned char)family;
	req.u.rt.rtm_dst_len = (unsigned char)(alen * 8);
	nl_attr(&req, RTA_DST, addr, alen);
	if ((r = nl_call(n, &req, RTM_NEWROUTE, buf, &h)) < 0)
		return r;
	rt = NLMSG_DATA(h);
	if (rt->rtm_type != RTN_UNICAST)
		return -ENOENT;		/* local, unreachable, blackhole... */
	len = (int)RTM_PAYLOAD(h);
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_GATEWAY || a->rta_type == RTA_VIA)
			return -ENOENT;	/* through a router: not on a link of ours */
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int))
			memcpy(&oif, RTA_DATA(a), sizeof(int));
	}
	if (oif <= 0)
		return -ENOENT;
	*ret_ifindex = oif;
	return 0;
}

/* The usable neighbour entry of addr on ifindex: its 6-byte address. */
static int neigh_get(struct ib_httpd_neigh *n, int family, const void *addr, size_t alen,
		     int ifindex, char *buf, uint8_t ret_mac[6])
{
	const uint16_t usable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT;
	struct nl_req req = { .nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
				      .nlmsg_type = RTM_GETNEIGH } };
	const struct nlmsghdr *h;
	const struct ndmsg *nd;
	const struct rtattr *a;
	int len, r;

	req.u.nd.ndm_family = (unsigned char)family;
	req.u.nd.ndm_ifindex = ifindex;
	nl_attr(&req, NDA_DST, addr, alen);
	if ((r = nl_call(n, &req, RTM_NEWNEIGH, buf, &h)) < 0)
		return r;
	nd = NLMSG_DATA(h);
	if (!(nd->ndm_state & usable))
		return -ENOENT;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (a = (const struct rtattr *)(const void *)((const char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
			memcpy(ret_mac, RTA_DATA(a), 6);
			return 0;
		}
	}
	return -ENOENT;
}

int ib_httpd_neigh_lookup(struct ib_httpd_neigh *n, const struct sockaddr *peer,
			  uint8_t ret_mac[6])
{
	_Alignas(struct nlmsghdr) char buf[NL_BUF];
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)peer;
	int family = AF_INET6, ifindex = 0, r;
	const void *addr;
	size_t alen = 16;

	if (n->fd < 0 || !peer)
		return -ENOENT;
	addr = &s6->sin6_addr;
	if (peer->sa_family == AF_INET) {
		family = AF_INET;
		addr = &((const struct sockaddr_in *)(const void *)peer)->sin_addr;
		alen = 4;
	} else if (peer->sa_family != AF_INET6) {
		return -ENOENT;
	} else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		family = AF_INET;
		addr = &s6->sin6_addr.s6_addr[12];
		alen = 4;
	} else if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr)) {
		ifindex = (int)s6->sin6_scope_id;	/* the link is the address's scope */
	}
	if (!ifindex && (r = onlink_ifindex(n, family, addr, alen, buf, &ifindex)) < 0)
		return r;
	return neigh_get(n, family, addr, alen, ifindex, buf, ret_mac);
}

/* ---- one request ---- */

/* The facts of ironboot's own records, then the neighbour table's, about
 * the peer's address. */
static void address_facts(struct ib_http_req *rq, const struct sockaddr *sa,
			  struct ib_machine_auth_facts *f)
{
	struct ib_http_server *srv = rq->srv;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
	int64_t now = ib_now_sec();
	uint8_t mac[6];
	uint32_t v4;

	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	if (sa->sa_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		struct ib_lease6 l;

		if (ib_store_lease6_get(srv->store, s6->sin6_addr.s6_addr, &l) == 0 &&
		    l.state == IB_LEASE_ACTIVE && l.expires > now && l.has_mac)
			ib_mac_format(l.mac, 6, f->lease6, sizeof(f->lease6));
		ib_machine_auth_reserved6(srv->cfg, s6->sin6_addr.s6_addr, f->reserved);
	} else {
		struct ib_lease4 l;

		if (sa->sa_family == AF_INET)
			v4 = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
		else
			v4 = (uint32_t)s6->sin6_addr.s6_addr[12] << 24 |
			     (uint32_t)s6->sin6_addr.s6_addr[13] << 16 |
			     (uint32_t)s6->sin6_addr.s6_addr[14] << 8 | s6->sin6_addr.s6_addr[15];
		if (ib_store_lease4_get(srv->store, v4, &l) == 0 && l.state == IB_LEASE_ACTIVE &&
		    l.expires > now && l.hw_len == 6)
			ib_mac_format(l.hwaddr, 6, f->lease4, sizeof(f->lease4));
		ib_machine_auth_reserved4(srv->cfg, v4, f->reserved);
	}
	/* the link layer is asked only about addresses ironboot has no record of */
	if (!f->lease4[0] && !f->lease6[0] && !f->reserved[0] &&
	    ib_httpd_neigh_lookup(&srv->neigh, sa, mac) == 0)
		ib_mac_format(mac, 6, f->neighbour, sizeof(f->neighbour));
}

/* Gathers the facts about rq's peer and token and decides into *d; records
 * how in rq (auth, authorized).  Sends nothing. */
static void decide(struct ib_http_req *rq, struct ib_machine_auth *d)
{
	struct evhttp_connection *c = evhttp_request_get_connection(rq->req);
	const struct sockaddr *sa = c ? evhttp_connection_get_addr(c) : NULL;
	const char *token = ib_http_url_param(rq->url, "token");
	struct ib_machine_auth_facts f = {
		.asked = rq->mac[0] ? rq->mac : NULL,
		.token_given = token && *token,
		.strict = rq->srv->cfg->http.machine_auth == IB_MACHINE_AUTH_STRICT,
	};

	address_facts(rq, sa, &f);
	if (f.asked && f.token_given)
		f.token_ok = ib_httpd_machine_token_ok(rq->srv->machine_secret, f.asked, token);
	ib_machine_auth_decide(&f, d);
	rq->auth = ib_machine_auth_name(d->how);
	rq->authorized = d->authorized;
	if (!f.strict && !d->authorized)
		rq->auth = "off";
}

int ib_httpd_authorize(struct ib_http_req *rq)
{
	struct ib_machine_auth d;

	decide(rq, &d);
	if (!d.serve) {
		ib_httpd_text(rq, 403, "forbidden: %s", ib_machine_auth_text(d.how));
		return -EACCES;
	}
	/* the machine the address resolves to, when the query named none */
	if (!rq->mac[0] && d.mac[0])
		snprintf(rq->mac, sizeof(rq->mac), "%s", d.mac);
	return 0;
}

void ib_httpd_verify_claim(struct ib_http_req *rq)
{
	struct ib_machine_auth d;

	if (!rq->mac[0])
		return;
	decide(rq, &d);
	/* trusted where the machine's script would be served: under
	 * machine_auth: off the query is taken at its word for both */
	rq->unverified = !d.serve;
}

/* Whether an inventory entry other than mac's names uuid. */
static bool others_uuid(const struct ib_config *cfg, const uint8_t mac[6], const char *uuid)
{
	for (size_t i = 0; i < cfg->n_machines; i++)
		if (cfg->machines[i].uuid && memcmp(cfg->machines[i].mac, mac, 6) != 0 &&
		    strcasecmp(cfg->machines[i].uuid, uuid) == 0)
			return true;
	return false;
}

/* The SMBIOS UUID the store knows for mac into out: its inventory entry's,
 * else its lifecycle hardware report's; "" when neither says. */
static void known_uuid(struct ib_http_req *rq, const char *mac, char *out, size_t len)
{
	const struct ib_config *cfg = rq->srv->cfg;
	struct ib_machine_state m;
	struct ib_hw_facts hw;
	uint8_t hwaddr[6];
	char *text;

	out[0] = '\0';
	if (ib_mac_parse(mac, hwaddr) < 0)
		return;
	for (size_t i = 0; i < cfg->n_machines; i++)
		if (memcmp(cfg->machines[i].mac, hwaddr, 6) == 0 && cfg->machines[i].uuid) {
			snprintf(out, len, "%s", cfg->machines[i].uuid);
			return;
		}
	if (ib_store_machine_get(rq->srv->store, mac, &m) < 0 ||
	    !(text = ib_httpd_lc_report_text(rq, &m)))
		return;
	if (ib_hw_facts_parse(text, &hw) == 0)
		snprintf(out, len, "%s", hw.uuid);
	free(text);
}

void ib_httpd_verify_uuid(struct ib_http_req *rq)
{
	const char *u = ib_http_url_param(rq->url, "uuid");
	char known[64];
	uint8_t hw[6];

	rq->uuid = NULL;
	rq->uuid_refused = NULL;
	if (!u || !*u)
		return;
	if (strlen(u) >= IB_UUID_TEXT_MAX) {
		rq->uuid_refused = "too-long";
		return;
	}
	/* a claim rides on the MAC's: from a request not served as that
	 * machine it is any host's word (issue #11) */
	if (!rq->mac[0] || rq->unverified) {
		rq->uuid_refused = "unverified";
		return;
	}
	known_uuid(rq, rq->mac, known, sizeof(known));
	if ((known[0] && strcasecmp(known, u) != 0) ||
	    (ib_mac_parse(rq->mac, hw) == 0 && others_uuid(rq->srv->cfg, hw, u))) {
		rq->uuid_refused = "not-the-machines";
		return;
	}
	rq->uuid = u;
}

int ib_httpd_add_private(struct ib_http_req *rq, json_t *v, const struct ib_boot_plan *plan)
{
	char token[IB_HTTPD_MACHINE_TOKEN_LEN + 1] = "";
	int r;

	if (!rq->authorized)
		return 0;
	if (rq->mac[0])
		ib_httpd_machine_token(rq->srv->machine_secret, rq->mac, token);
	r = ib_boot_values_add_private(v, plan, token[0] ? token : NULL);
	OPENSSL_cleanse(token, sizeof(token));
	return r;
}
