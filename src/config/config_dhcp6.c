/*
 * The dhcp6 section (DHCPv6, RFC 8415) and its router advertisements
 * (RFC 4861): the key tables, then the checks a table cannot say.  The same
 * rules as dhcp4 (config_validate.c), in 128 bits: pools and reservations
 * inside their subnet, pools and subnets disjoint, reservations outside the
 * pools and unique, lifetimes ordered.  Checks across many items sort them
 * first.
 *
 * Addresses are uint8_t[16] in network order, so memcmp() orders them.
 */
#include "config/config_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define LIFETIME_MIN 60u		/* seconds: shorter is a renew storm */
#define LIFETIME_MAX 0xfffffffeu	/* 0xffffffff is infinity (RFC 8415 7.7): not for leases */
#define CIDR6_STRLEN (INET6_ADDRSTRLEN + 4)	/* "addr/128" */
#define RANGE6_STRLEN (2 * INET6_ADDRSTRLEN)	/* "addr-addr" */
#define MSG_LEN 320			/* one message before its position */

/* A reservation's key (MAC, DUID or address) and where it is. */
struct rkey6 {
	const uint8_t *p;		/* key bytes, inside the snapshot */
	size_t len;			/* their length */
	const char *field;		/* the key it was read from */
	uint32_t subnet;		/* index in dhcp6.subnets */
	uint32_t idx;			/* index in its reservations */
};

static void fmt6(const uint8_t a[16], char out[INET6_ADDRSTRLEN])
{
	inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN);
}

static void fmt_cidr6(const struct ib_subnet6 *s, char out[CIDR6_STRLEN])
{
	char a[INET6_ADDRSTRLEN];

	fmt6(s->prefix, a);
	snprintf(out, CIDR6_STRLEN, "%s/%u", a, s->prefix_len);
}

static void fmt_range6(const uint8_t start[16], const uint8_t end[16],
		       char out[RANGE6_STRLEN])
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	fmt6(start, a);
	fmt6(end, b);
	snprintf(out, RANGE6_STRLEN, "%s-%s", a, b);
}

/* The last address of s: its prefix with every host bit set. */
static void subnet_last(const struct ib_subnet6 *s, uint8_t out[16])
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = s->prefix_len >= 8 * (i + 1) ? 8 :
				s->prefix_len > 8 * i ? s->prefix_len - 8 * i : 0;

		out[i] = s->prefix[i] | (uint8_t)(0xffu >> keep);
	}
}

static bool in_subnet6(const struct ib_subnet6 *s, const uint8_t a[16])
{
	uint8_t last[16];

	subnet_last(s, last);
	return memcmp(a, s->prefix, 16) >= 0 && memcmp(a, last, 16) <= 0;
}

/* RFC 4291 2.6.1: the prefix with a zero interface identifier is the
 * Subnet-Router anycast address; RFC 6164 lets /127 and /128 use it. */
static bool is_anycast(const struct ib_subnet6 *s, const uint8_t a[16])
{
	return s->prefix_len <= 126 && memcmp(a, s->prefix, 16) == 0;
}

/* Reports at dhcp6.subnets[i].list[k].key (key may be NULL); map is the
 * dhcp6 mapping. */
static int fail_sub(struct ib_cfg_walk *w, const struct ib_ynode *map, size_t i,
		    const char *list, size_t k, const char *key, const char *msg)
{
	const struct ib_ynode *sn = ib_ynode_item(ib_ynode_get(map, "subnets"), i);
	size_t mark = ib_cfg_path_key(w, "subnets");
	int r;

	ib_cfg_path_index(w, i);
	r = ib_cfg_fail_in(w, sn ? sn : map, list, k, key, "%s", msg);
	ib_cfg_path_pop(w, mark);
	return r;
}

/* ---- items ---- */

static int pool6_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_pool6 *p = obj;
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	if (memcmp(p->start, p->end, 16) <= 0)
		return 0;
	fmt6(p->start, a);
	fmt6(p->end, b);
	return ib_cfg_fail_at(w, map, "pool start %s is after its end %s", a, b);
}

/* RFC 5970 3.2: each parameter is a uint16-length string.  Option 60 has to
 * fit a reply with its other options in one datagram, so each item is at
 * most IB_BOOTFILE_PARAM_LEN bytes and all of them IB_BOOTFILE_PARAM_TOTAL
 * on the wire (the list reader refuses empty ones). */
static int check_bootfile_params(struct ib_cfg_walk *w, const struct ib_ynode *map,
				 const char *key, char *const *v, size_t n)
{
	size_t total = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(v[i]);

		if (len > IB_BOOTFILE_PARAM_LEN)
			return ib_cfg_fail_in(w, map, key, i, NULL,
					      "a bootfile parameter is at most %d bytes (this one: %zu)",
					      IB_BOOTFILE_PARAM_LEN, len);
		total += 2 + len;
		if (total > IB_BOOTFILE_PARAM_TOTAL)
			return ib_cfg_fail_in(w, map, key, i, NULL,
					      "bootfile parameters take at most %d bytes in option 60 "
					      "(2 per item plus its text); this one makes %zu",
					      IB_BOOTFILE_PARAM_TOTAL, total);
	}
	return 0;
}

static int reservation6_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_reservation6 *r = obj;

	if (!r->has_mac && !r->duid_len)
		return ib_cfg_fail_at(w, map, "a reservation needs a mac or a duid");
	return check_bootfile_params(w, map, "bootfile_param", r->bootfile_param,
				     r->n_bootfile_param);
}

/* ---- one subnet ---- */

/* Without lifetimes, Kea's 3600 / 7200; one given derives the other
 * (valid = 2 x preferred, preferred = valid / 2).  RFC 8415 21.6: the
 * preferred lifetime must not exceed the valid one. */
static int check_lifetimes(struct ib_cfg_walk *w, const struct ib_ynode *map,
			   struct ib_subnet6 *s)
{
	bool p_set = ib_ynode_get(map, "preferred_lifetime");
	bool v_set = ib_ynode_get(map, "valid_lifetime");

	if (!p_set && !v_set) {
		s->preferred_lifetime = 3600;
		s->valid_lifetime = 7200;
	} else if (!v_set) {
		s->valid_lifetime = (uint32_t)IB_MIN(2ull * s->preferred_lifetime, LIFETIME_MAX);
	} else if (!p_set) {
		s->preferred_lifetime = s->valid_lifetime / 2;
	}
	if (s->valid_lifetime < s->preferred_lifetime)
		return ib_cfg_fail_in(w, map, NULL, 0, "valid_lifetime",
				      "valid_lifetime (%u) must not be less than preferred_lifetime (%u)",
				      s->valid_lifetime, s->preferred_lifetime);
	return 0;
}

/* RFC 8415 21.4: T1 <= T2; 14.2 suggests 0.5 and 0.8 of the shortest
 * preferred lifetime.  Explicit values may be 0 (client's choice). */
static int check_timers6(struct ib_cfg_walk *w, const struct ib_ynode *map,
			 struct ib_subnet6 *s)
{
	bool t1_set = ib_ynode_get(map, "t1"), t2_set = ib_ynode_get(map, "t2");

	if (!t1_set)
		s->t1 = s->preferred_lifetime / 2;
	if (!t2_set)
		s->t2 = (uint32_t)((uint64_t)s->preferred_lifetime * 4 / 5);
	if (s->t1 > s->t2)
		return ib_cfg_fail_in(w, map, NULL, 0, t1_set ? "t1" : "t2",
				      "t1 (%u) must not exceed t2 (%u%s)", s->t1, s->t2,
				      t2_set ? "" : ", 80% of preferred_lifetime");
	if (s->t2 > s->preferred_lifetime)
		return ib_cfg_fail_in(w, map, NULL, 0, "t2",
				      "t2 (%u) must not exceed preferred_lifetime (%u)",
				      s->t2, s->preferred_lifetime);
	return 0;
}

static int check_pools6(struct ib_cfg_walk *w, const struct ib_ynode *map,
			const struct ib_subnet6 *s)
{
	char net[CIDR6_STRLEN], range[RANGE6_STRLEN];

	fmt_cidr6(s, net);
	for (size_t j = 0; j < s->n_pools; j++) {
		const struct ib_pool6 *p = &s->pools[j];

		fmt_range6(p->start, p->end, range);
		if (!in_subnet6(s, p->start) || !in_subnet6(s, p->end))
			return ib_cfg_fail_in(w, map, "pools", j, NULL,
					      "pool %s is outside subnet %s", range, net);
		if (is_anycast(s, p->start))
			return ib_cfg_fail_in(w, map, "pools", j, NULL,
					      "pool %s includes the Subnet-Router anycast address of %s",
					      range, net);
	}
	return 0;
}

static int check_reservation_addresses6(struct ib_cfg_walk *w, const struct ib_ynode *map,
					const struct ib_subnet6 *s)
{
	char net[CIDR6_STRLEN], a[INET6_ADDRSTRLEN];

	fmt_cidr6(s, net);
	for (size_t k = 0; k < s->n_reservations; k++) {
		const uint8_t *addr = s->reservations[k].address;

		fmt6(addr, a);
		if (!in_subnet6(s, addr))
			return ib_cfg_fail_in(w, map, "reservations", k, "address",
					      "%s is outside subnet %s", a, net);
		if (is_anycast(s, addr))
			return ib_cfg_fail_in(w, map, "reservations", k, "address",
					      "%s is the Subnet-Router anycast address of %s", a, net);
	}
	return 0;
}

static int subnet6_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	struct ib_subnet6 *s = obj;
	int r;

	if (s->prefix_len == 0)
		return ib_cfg_fail_in(w, map, NULL, 0, "subnet",
				      "a subnet's prefix length is 1..128, not 0");
	r = check_lifetimes(w, map, s);
	if (r == 0)
		r = check_timers6(w, map, s);
	if (r == 0)
		r = check_pools6(w, map, s);
	if (r == 0)
		r = check_reservation_addresses6(w, map, s);
	return r;
}

/* ---- the whole section ---- */

/* Every pool of every subnet (unsorted); NULL on ENOMEM. */
static struct ib_cfg_span *pool_spans6(const struct ib_dhcp6_config *d, size_t *ret_n)
{
	struct ib_cfg_span *sp;
	size_t n = 0;

	for (size_t i = 0; i < d->n_subnets; i++)
		n += d->subnets[i].n_pools;
	sp = calloc(n ? n : 1, sizeof(*sp));
	if (!sp)
		return NULL;
	n = 0;
	for (size_t i = 0; i < d->n_subnets; i++) {
		for (size_t j = 0; j < d->subnets[i].n_pools; j++) {
			const struct ib_pool6 *p = &d->subnets[i].pools[j];

			ib_cfg_span6(&sp[n++], p->start, p->end, i, j);
		}
	}
	*ret_n = n;
	return sp;
}

static int check_pool_overlaps6(struct ib_cfg_walk *w, const struct ib_ynode *map,
				struct ib_cfg_span *sp, size_t n)
{
	const struct ib_cfg_span *a, *b;
	char ra[RANGE6_STRLEN], rb[RANGE6_STRLEN], msg[MSG_LEN];

	if (!ib_cfg_span_overlap(sp, n, &a, &b))
		return 0;
	fmt_range6(a->start, a->end, ra);
	fmt_range6(b->start, b->end, rb);
	snprintf(msg, sizeof(msg), "pool %s overlaps pool %s of dhcp6.subnets[%u].pools[%u]",
		 ra, rb, b->subnet, b->item);
	return fail_sub(w, map, a->subnet, "pools", a->item, NULL, msg);
}

static int check_subnet_overlaps6(struct ib_cfg_walk *w, const struct ib_ynode *map,
				  const struct ib_dhcp6_config *d)
{
	const struct ib_cfg_span *a, *b;
	char na[CIDR6_STRLEN], nb[CIDR6_STRLEN];
	struct ib_cfg_span *sp = calloc(d->n_subnets ? d->n_subnets : 1, sizeof(*sp));
	int r = 0;

	if (!sp)
		return ib_cfg_fail_nomem(w->err);
	for (size_t i = 0; i < d->n_subnets; i++) {
		uint8_t last[16];

		subnet_last(&d->subnets[i], last);
		ib_cfg_span6(&sp[i], d->subnets[i].prefix, last, i, 0);
	}
	if (ib_cfg_span_overlap(sp, d->n_subnets, &a, &b)) {
		fmt_cidr6(&d->subnets[a->subnet], na);
		fmt_cidr6(&d->subnets[b->subnet], nb);
		r = ib_cfg_fail_in(w, map, "subnets", a->subnet, "subnet",
				   "subnet %s overlaps %s of dhcp6.subnets[%u]", na, nb, b->subnet);
	}
	free(sp);
	return r;
}

static int check_reservations_in_pools6(struct ib_cfg_walk *w, const struct ib_ynode *map,
					const struct ib_dhcp6_config *d,
					const struct ib_cfg_span *sp, size_t n)
{
	char a[INET6_ADDRSTRLEN], range[RANGE6_STRLEN], msg[MSG_LEN];

	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet6 *s = &d->subnets[i];

		for (size_t k = 0; k < s->n_reservations; k++) {
			const struct ib_cfg_span *p = ib_cfg_span_holding(sp, n,
									 s->reservations[k].address);

			if (!p)
				continue;
			fmt6(s->reservations[k].address, a);
			fmt_range6(p->start, p->end, range);
			snprintf(msg, sizeof(msg),
				 "%s is inside pool %s (ambiguous: reserve addresses outside the pools)",
				 a, range);
			return fail_sub(w, map, i, "reservations", k, "address", msg);
		}
	}
	return 0;
}

static int cmp_rkey6(const void *pa, const void *pb)
{
	const struct rkey6 *a = pa, *b = pb;
	int c = memcmp(a->p, b->p, IB_MIN(a->len, b->len));

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->subnet != b->subnet)
		return a->subnet < b->subnet ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The key named what of reservation r, or len 0 when it has none.  A
 * reservation's MAC is its mac, else the one its DUID-LL/LLT carries. */
static struct rkey6 reservation_key6(const struct ib_reservation6 *r, const char *what,
				     size_t subnet, size_t idx)
{
	struct rkey6 k = { r->address, 16, what, (uint32_t)subnet, (uint32_t)idx };
	uint8_t mac[6];

	if (strcmp(what, "mac") == 0) {
		/* the server learns the MAC from a DUID-LL/LLT, its last 6 bytes */
		k.p = r->has_mac ? r->mac :
		      ib_duid_mac(r->duid, r->duid_len, mac) == 0 ? r->duid + r->duid_len - 6 : NULL;
		k.len = k.p ? 6 : 0;
		k.field = r->has_mac ? "mac" : "duid";
	} else if (strcmp(what, "duid") == 0) {
		k.p = r->duid;
		k.len = r->duid_len;
	}
	return k;
}

/* Two reservations anywhere in dhcp6 with the same what ("mac", "duid",
 * "address").  keys holds room for every reservation. */
static int check_unique6(struct ib_cfg_walk *w, const struct ib_ynode *map,
			 const struct ib_dhcp6_config *d, const char *what, struct rkey6 *keys)
{
	char msg[MSG_LEN];
	size_t n = 0;

	for (size_t i = 0; i < d->n_subnets; i++) {
		for (size_t k = 0; k < d->subnets[i].n_reservations; k++) {
			keys[n] = reservation_key6(&d->subnets[i].reservations[k], what, i, k);
			n += keys[n].len > 0;
		}
	}
	qsort(keys, n, sizeof(*keys), cmp_rkey6);
	for (size_t i = 1; i < n; i++) {
		const struct rkey6 *a = &keys[i], *b = &keys[i - 1];

		if (a->len != b->len || memcmp(a->p, b->p, a->len) != 0)
			continue;
		if (strcmp(a->field, what) == 0 && strcmp(b->field, what) == 0)
			snprintf(msg, sizeof(msg),
				 "duplicate %s: also in dhcp6.subnets[%u].reservations[%u]",
				 what, b->subnet, b->idx);
		else
			snprintf(msg, sizeof(msg),
				 "same machine (MAC %02x:%02x:%02x:%02x:%02x:%02x, from a DUID-LL/LLT) "
				 "as dhcp6.subnets[%u].reservations[%u]", a->p[0], a->p[1], a->p[2],
				 a->p[3], a->p[4], a->p[5], b->subnet, b->idx);
		return fail_sub(w, map, a->subnet, "reservations", a->idx, a->field, msg);
	}
	return 0;
}

static int check_duplicates6(struct ib_cfg_walk *w, const struct ib_ynode *map,
			     const struct ib_dhcp6_config *d)
{
	static const char *const what[] = { "mac", "duid", "address" };
	struct rkey6 *keys;
	size_t n = 0;
	int r = 0;

	for (size_t i = 0; i < d->n_subnets; i++)
		n += d->subnets[i].n_reservations;
	if (n < 2)
		return 0;
	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return ib_cfg_fail_nomem(w->err);
	for (size_t k = 0; k < IB_ARRAY_SIZE(what) && r == 0; k++)
		r = check_unique6(w, map, d, what[k], keys);
	free(keys);
	return r;
}

/* A subnet named by interface is served on that link: it must be one
 * DHCPv6 listens on (when they are listed). */
static int check_interfaces6(struct ib_cfg_walk *w, const struct ib_ynode *map,
			     const struct ib_dhcp6_config *d)
{
	char msg[MSG_LEN];

	for (size_t i = 0; i < d->n_subnets && d->n_interfaces; i++) {
		const char *ifname = d->subnets[i].interface;
		size_t j = 0;

		while (ifname && j < d->n_interfaces && strcmp(d->interfaces[j], ifname) != 0)
			j++;
		if (!ifname || j < d->n_interfaces)
			continue;
		snprintf(msg, sizeof(msg), "interface '%s' is not in dhcp6.interfaces", ifname);
		return fail_sub(w, map, i, NULL, 0, "interface", msg);
	}
	return 0;
}

static int check_dhcp6(struct ib_cfg_walk *w, const struct ib_ynode *map,
		       const struct ib_dhcp6_config *d)
{
	size_t n = 0;
	struct ib_cfg_span *sp = pool_spans6(d, &n);
	int r;

	if (!sp)
		return ib_cfg_fail_nomem(w->err);
	r = check_pool_overlaps6(w, map, sp, n);	/* leaves sp sorted */
	if (r == 0)
		r = check_subnet_overlaps6(w, map, d);
	if (r == 0)
		r = check_reservations_in_pools6(w, map, d, sp, n);
	if (r == 0)
		r = check_duplicates6(w, map, d);
	if (r == 0)
		r = check_interfaces6(w, map, d);
	free(sp);
	return r;
}

/* Enabled by default when there are subnets to lease from, like dhcp4. */
static int dhcp6_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	struct ib_dhcp6_config *d = obj;

	if (!ib_ynode_get(map, "enabled"))
		d->enabled = d->n_subnets > 0;
	else if (d->enabled && d->n_subnets == 0)
		return ib_cfg_fail_in(w, map, NULL, 0, "enabled",
				      "enabled but no subnets are configured");
	return check_dhcp6(w, map, d);
}

/*
 * enabled: true needs interfaces (auto finds the boot interfaces itself).
 * RFC 4861 6.2.1: AdvDefaultLifetime is 0 or MaxRtrAdvInterval..9000.
 */
static int ra_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_ra_config *ra = obj;

	const char *key = ib_ynode_get(map, "enabled") ? "enabled" : NULL;

	if (ra->mode == IB_RA_ON && ra->n_interfaces == 0)
		return ib_cfg_fail_in(w, map, NULL, 0, key,
				      "router advertisements need interfaces to send them on");
	if (ra->router_lifetime && ra->router_lifetime < ra->interval)
		return ib_cfg_fail_in(w, map, NULL, 0, "router_lifetime",
				      "router_lifetime (%u) must be 0 or at least interval (%u)",
				      ra->router_lifetime, ra->interval);
	return 0;
}

/* ---- the boot section's IPv6 URLs ---- */

/* NULL when url is http(s)://host... with an IPv6 literal host in brackets. */
static const char *url6_problem(const char *url)
{
	const char *host, *p;
	size_t colons = 0;

	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return "expected an http:// or https:// URL";
	if (*host == '\0' || strchr("/?#:", *host))
		return "expected an http:// or https:// URL with a host";
	if (*host == '[')
		return strchr(host, ']') ? NULL : "an IPv6 literal lacks its closing ']'";
	for (p = host; *p && !strchr("/?#", *p); p++)
		colons += *p == ':';
	if (colons > 1)
		return "an IPv6 address in a URL goes in brackets: http://[addr]:port/ (RFC 3986 3.2.2)";
	return NULL;
}

int ib_cfg_check_boot6(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_boot_config *b = obj;
	const struct { const char *key; const char *url; } urls[] = {
		{ "ipxe_script6", b->ipxe_script_url6 },
		{ "http6_x64", b->http_url6_x64 },
		{ "http6_arm64", b->http_url6_arm64 },
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(urls); i++) {
		const char *problem = urls[i].url ? url6_problem(urls[i].url) : NULL;

		if (problem)
			return ib_cfg_fail_in(w, map, NULL, 0, urls[i].key, "%s", problem);
	}
	return check_bootfile_params(w, map, "bootfile_param6", b->bootfile_param6,
				     b->n_bootfile_param6);
}

/* ---- the tables ---- */

#define P struct ib_pool6
static const struct ib_cfg_field pool6_fields[] = {
	FIELD(P, "start", F_IP6, start, .required = true),
	FIELD(P, "end", F_IP6, end, .required = true),
};
#undef P
static const struct ib_cfg_section pool6_section =
	SECTION(pool6_fields, .elem_size = sizeof(struct ib_pool6), .check = pool6_check);

/* RFC 8415 11.1: a DUID is a 2-byte type and 1..128 bytes. */
#define R struct ib_reservation6
static const struct ib_cfg_field reservation6_fields[] = {
	FIELD(R, "mac", F_MAC, mac, .aux = offsetof(R, has_mac)),
	FIELD(R, "duid", F_HEX, duid, .aux = offsetof(R, duid_len), .min = 3, .max = IB_DUID_MAX),
	FIELD(R, "address", F_IP6, address, .required = true),
	FIELD(R, "hostname", F_DNS_NAME, hostname),
	FIELD(R, "boot_file", F_STRING, boot.boot_file),
	FIELD(R, "script_url", F_STRING, boot.script_url),
	LIST(R, "bootfile_param", F_STRING_LIST, bootfile_param, n_bootfile_param,
	     IB_BOOTFILE_PARAM_MAX),
};
#undef R
static const struct ib_cfg_section reservation6_section =
	SECTION(reservation6_fields, .elem_size = sizeof(struct ib_reservation6),
		.check = reservation6_check);

#define S struct ib_subnet6
static const struct ib_cfg_field subnet6_fields[] = {
	FIELD(S, "subnet", F_CIDR6, prefix, .aux = offsetof(S, prefix_len), .required = true),
	FIELD(S, "interface", F_IFNAME, interface),
	LIST(S, "pools", F_MAP_LIST, pools, n_pools, 256, .sub = &pool6_section),
	LIST(S, "dns", F_IP6_LIST, dns, n_dns, 16),
	LIST(S, "domain_search", F_DNS_LIST, domain_search, n_domain_search, 32),
	LIST(S, "ntp", F_IP6_LIST, ntp, n_ntp, 16),
	LIST(S, "relays", F_IP6_LIST, relays, n_relays, IB_DHCP6_RELAYS_MAX),
	FIELD(S, "preferred_lifetime", F_U32, preferred_lifetime,
	      .min = LIFETIME_MIN, .max = LIFETIME_MAX),
	FIELD(S, "valid_lifetime", F_U32, valid_lifetime, .min = LIFETIME_MIN, .max = LIFETIME_MAX),
	FIELD(S, "t1", F_U32, t1, .min = 0, .max = LIFETIME_MAX),
	FIELD(S, "t2", F_U32, t2, .min = 0, .max = LIFETIME_MAX),
	LIST(S, "reservations", F_MAP_LIST, reservations, n_reservations, 65536,
	     .sub = &reservation6_section),
};
#undef S
static const struct ib_cfg_section subnet6_section =
	SECTION(subnet6_fields, .elem_size = sizeof(struct ib_subnet6), .check = subnet6_check);

/* enum ib_ra_mode, in its order */
static const char *const ra_mode_names[] = { "auto", "false", "true", NULL };

/* RFC 4861 6.2.1: MaxRtrAdvInterval 4..1800, AdvDefaultLifetime <= 9000. */
#define A struct ib_ra_config
static const struct ib_cfg_field ra_fields[] = {
	FIELD(A, "enabled", F_ENUM, mode, .names = ra_mode_names),
	LIST(A, "interfaces", F_IFNAME_LIST, interfaces, n_interfaces, 64),
	FIELD(A, "interval", F_U32, interval, .min = 4, .max = 1800),
	FIELD(A, "router_lifetime", F_U32, router_lifetime, .min = 0, .max = 9000),
	FIELD(A, "managed", F_BOOL, managed),
	FIELD(A, "other", F_BOOL, other),
};
#undef A
static const struct ib_cfg_section ra_section = SECTION(ra_fields, .check = ra_check);

#define D struct ib_dhcp6_config
static const struct ib_cfg_field dhcp6_fields[] = {
	FIELD(D, "enabled", F_BOOL, enabled),
	LIST(D, "interfaces", F_IFNAME_LIST, interfaces, n_interfaces, 64),
	FIELD(D, "port", F_U16, port, .min = 1, .max = 65535),
	FIELD(D, "client_port", F_U16, client_port, .min = 1, .max = 65535),
	FIELD(D, "rapid_commit", F_BOOL, rapid_commit),
	FIELD(D, "advertise_hold", F_U32, advertise_hold, .min = 1, .max = 3600),
	FIELD(D, "decline_hold", F_U32, decline_hold, .min = 0, .max = 30 * 86400),
	FIELD(D, "default_arch", F_U16, default_arch, .min = 0, .max = 65535),
	LIST(D, "relays", F_IP6_LIST, relays, n_relays, IB_DHCP6_RELAYS_MAX),
	LIST(D, "subnets", F_MAP_LIST, subnets, n_subnets, 4096, .sub = &subnet6_section),
	FIELD(D, "router_advertisements", F_SECTION, ra, .sub = &ra_section),
};
#undef D
_Static_assert(IB_ARRAY_SIZE(dhcp6_fields) <= IB_CFG_MAX_FIELDS, "raise IB_CFG_MAX_FIELDS");
const struct ib_cfg_section ib_cfg_dhcp6_section =
	SECTION(dhcp6_fields, .check = dhcp6_check);
