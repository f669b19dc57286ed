/*
 * Checks across fields, once a subnet (or the whole dhcp4 section) is read:
 * addresses inside their subnet, pools and subnets disjoint, reservations
 * outside the pools and unique.  Every check that compares many items sorts
 * them first, so 65536 reservations cost a sort, not 2^32 comparisons.
 *
 * Errors point into the tree by index: the snapshot's arrays are in the
 * same order as the YAML sequences they came from.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define CIDR_STRLEN 20		/* "255.255.255.255/32" */
#define RANGE_STRLEN 32		/* "255.255.255.255-255.255.255.255" */

/* A reservation's key (MAC, client-id or address) and its index. */
struct rkey {
	const uint8_t *p;		/* key bytes, inside the snapshot */
	size_t len;			/* their length */
	size_t idx;			/* index in reservations */
};

static void fmt_cidr(uint32_t net, uint8_t len, char out[CIDR_STRLEN])
{
	char a[IB_IP4_STRLEN];

	ib_ip4_format(net, a);
	snprintf(out, CIDR_STRLEN, "%s/%u", a, len);
}

static void fmt_range(uint32_t start, uint32_t end, char out[RANGE_STRLEN])
{
	char a[IB_IP4_STRLEN], b[IB_IP4_STRLEN];

	ib_ip4_format(start, a);
	ib_ip4_format(end, b);
	snprintf(out, RANGE_STRLEN, "%s-%s", a, b);
}

/*
 * Pushes "list[i].key" (list and key optional) onto the path and returns
 * the node found there: the key's value, else the item, else base.
 */
static const struct ib_ynode *descend(struct ib_cfg_walk *w, const struct ib_ynode *base,
				      const char *list, size_t i, const char *key)
{
	const struct ib_ynode *n = base, *c;

	if (list) {
		ib_cfg_path_key(w, list);
		ib_cfg_path_index(w, i);
		c = ib_ynode_item(ib_ynode_get(base, list), i);
		n = c ? c : n;
	}
	if (key) {
		ib_cfg_path_key(w, key);
		c = ib_ynode_get(n, key);
		n = c ? c : n;
	}
	return n;
}

int ib_cfg_fail_in(struct ib_cfg_walk *w, const struct ib_ynode *base, const char *list,
	size_t i, const char *key, const char *fmt, ...)
{
	size_t mark = w->path_len;
	const struct ib_ynode *n = descend(w, base, list, i, key);
	char msg[IB_CONFIG_ERRLEN];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r = ib_cfg_fail_at(w, n, "%s", msg);
	ib_cfg_path_pop(w, mark);
	return r;
}

/* ---- one subnet ---- */

/* RFC 2131 4.4.5: T1 defaults to 0.5 and T2 to 0.875 of the lease. */
static int check_timers(struct ib_cfg_walk *w, const struct ib_ynode *map,
			struct ib_subnet4 *s)
{
	bool t1_set = ib_ynode_get(map, "t1"), t2_set = ib_ynode_get(map, "t2");

	if (!t1_set)
		s->t1 = s->lease_time / 2;
	if (!t2_set)
		s->t2 = (uint32_t)((uint64_t)s->lease_time * 7 / 8);
	if (s->t1 >= s->t2)
		return ib_cfg_fail_in(w, map, NULL, 0, t1_set ? "t1" : "t2",
			       "t1 (%u) must be less than t2 (%u%s)", s->t1, s->t2,
			       t2_set ? "" : ", 87.5% of lease_time");
	if (s->t2 >= s->lease_time)
		return ib_cfg_fail_in(w, map, NULL, 0, t2_set ? "t2" : "lease_time",
			       "t2 (%u) must be less than lease_time (%u)",
			       s->t2, s->lease_time);
	return 0;
}

static bool in_subnet(const struct ib_subnet4 *s, uint32_t a)
{
	return (a & s->mask) == s->network;
}

/* The network and broadcast addresses are nobody's, except on /31 and
 * /32 (RFC 3021) where there are none. */
static bool is_edge(const struct ib_subnet4 *s, uint32_t a)
{
	return s->prefix_len <= 30 && (a == s->network || a == (s->network | ~s->mask));
}

static int check_pools(struct ib_cfg_walk *w, const struct ib_ynode *map,
		       const struct ib_subnet4 *s)
{
	char net[CIDR_STRLEN], range[RANGE_STRLEN];

	fmt_cidr(s->network, s->prefix_len, net);
	for (size_t j = 0; j < s->n_pools; j++) {
		const struct ib_pool4 *p = &s->pools[j];

		fmt_range(p->start, p->end, range);
		if (!in_subnet(s, p->start) || !in_subnet(s, p->end))
			return ib_cfg_fail_in(w, map, "pools", j, NULL,
				       "pool %s is outside subnet %s", range, net);
		if (is_edge(s, p->start) || is_edge(s, p->end))
			return ib_cfg_fail_in(w, map, "pools", j, NULL,
				       "pool %s includes the network or broadcast address of %s",
				       range, net);
	}
	return 0;
}

static int check_reservation_addresses(struct ib_cfg_walk *w, const struct ib_ynode *map,
				       const struct ib_subnet4 *s)
{
	char net[CIDR_STRLEN], a[IB_IP4_STRLEN];

	fmt_cidr(s->network, s->prefix_len, net);
	for (size_t k = 0; k < s->n_reservations; k++) {
		uint32_t addr = s->reservations[k].address;

		ib_ip4_format(addr, a);
		if (!in_subnet(s, addr))
			return ib_cfg_fail_in(w, map, "reservations", k, "address",
				       "%s is outside subnet %s", a, net);
		if (is_edge(s, addr))
			return ib_cfg_fail_in(w, map, "reservations", k, "address",
				       "%s is the network or broadcast address of %s", a, net);
	}
	return 0;
}

int ib_cfg_check_subnet(struct ib_cfg_walk *w, const struct ib_ynode *map,
			struct ib_subnet4 *s)
{
	int r;

	s->mask = ib_prefix_mask(s->prefix_len);
	if (!ib_ynode_get(map, "broadcast"))
		s->broadcast = s->network | ~s->mask;
	else if (!in_subnet(s, s->broadcast))
		return ib_cfg_fail_in(w, map, NULL, 0, "broadcast",
			       "broadcast address is outside the subnet");
	r = check_timers(w, map, s);
	if (r == 0)
		r = check_pools(w, map, s);
	if (r == 0)
		r = check_reservation_addresses(w, map, s);
	return r;
}

/* ---- the whole section ---- */

/* Every pool of every subnet (unsorted); NULL on ENOMEM. */
static struct ib_cfg_span *pool_spans(const struct ib_dhcp4_config *d, size_t *ret_n)
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
			const struct ib_pool4 *p = &d->subnets[i].pools[j];

			ib_cfg_span4(&sp[n++], p->start, p->end, i, j);
		}
	}
	*ret_n = n;
	return sp;
}

static int check_pool_overlaps(struct ib_cfg_walk *w, const struct ib_ynode *map,
			       struct ib_cfg_span *sp, size_t n)
{
	const struct ib_cfg_span *a, *b;
	char ra[RANGE_STRLEN], rb[RANGE_STRLEN];
	size_t mark = w->path_len;
	const struct ib_ynode *sn;
	int r;

	if (!ib_cfg_span_overlap(sp, n, &a, &b))
		return 0;
	fmt_range(ib_cfg_span_ip4(a->start), ib_cfg_span_ip4(a->end), ra);
	fmt_range(ib_cfg_span_ip4(b->start), ib_cfg_span_ip4(b->end), rb);
	sn = descend(w, map, "subnets", a->subnet, NULL);
	r = ib_cfg_fail_in(w, sn, "pools", a->item, NULL,
		    "pool %s overlaps pool %s of dhcp4.subnets[%u].pools[%u]",
		    ra, rb, b->subnet, b->item);
	ib_cfg_path_pop(w, mark);
	return r;
}

static int check_subnet_overlaps(struct ib_cfg_walk *w, const struct ib_ynode *map,
				 const struct ib_dhcp4_config *d)
{
	const struct ib_cfg_span *a, *b;
	char na[CIDR_STRLEN], nb[CIDR_STRLEN];
	struct ib_cfg_span *sp = calloc(d->n_subnets ? d->n_subnets : 1, sizeof(*sp));
	int r = 0;

	if (!sp)
		return ib_cfg_fail_nomem(w->err);
	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet4 *s = &d->subnets[i];

		ib_cfg_span4(&sp[i], s->network, s->network | ~s->mask, i, 0);
	}
	if (ib_cfg_span_overlap(sp, d->n_subnets, &a, &b)) {
		const struct ib_subnet4 *sa = &d->subnets[a->subnet], *sb = &d->subnets[b->subnet];

		fmt_cidr(sa->network, sa->prefix_len, na);
		fmt_cidr(sb->network, sb->prefix_len, nb);
		r = ib_cfg_fail_in(w, map, "subnets", a->subnet, "subnet",
			    "subnet %s overlaps %s of dhcp4.subnets[%u]", na, nb, b->subnet);
	}
	free(sp);
	return r;
}

static int check_reservations_in_pools(struct ib_cfg_walk *w, const struct ib_ynode *map,
				       const struct ib_dhcp4_config *d,
				       const struct ib_cfg_span *sp, size_t n)
{
	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet4 *s = &d->subnets[i];

		for (size_t k = 0; k < s->n_reservations; k++) {
			const struct ib_cfg_span *p;
			char a[IB_IP4_STRLEN], range[RANGE_STRLEN];
			size_t mark = w->path_len;
			const struct ib_ynode *sn;
			uint8_t addr[16];
			int r;

			ib_cfg_addr4(s->reservations[k].address, addr);
			p = ib_cfg_span_holding(sp, n, addr);
			if (!p)
				continue;
			ib_ip4_format(s->reservations[k].address, a);
			fmt_range(ib_cfg_span_ip4(p->start), ib_cfg_span_ip4(p->end), range);
			sn = descend(w, map, "subnets", i, NULL);
			r = ib_cfg_fail_in(w, sn, "reservations", k, "address",
				    "%s is inside pool %s (ambiguous: reserve addresses outside the pools)",
				    a, range);
			ib_cfg_path_pop(w, mark);
			return r;
		}
	}
	return 0;
}

static int cmp_rkey(const void *pa, const void *pb)
{
	const struct rkey *a = pa, *b = pb;
	int c = memcmp(a->p, b->p, IB_MIN(a->len, b->len));

	if (c)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The key named what of reservation r, or len 0 when it has none. */
static struct rkey reservation_key(const struct ib_reservation4 *r, const char *what,
				   size_t idx)
{
	if (strcmp(what, "mac") == 0)
		return (struct rkey){ r->mac, r->has_mac ? 6 : 0, idx };
	if (strcmp(what, "client_id") == 0)
		return (struct rkey){ r->client_id, r->client_id_len, idx };
	return (struct rkey){ (const uint8_t *)&r->address, sizeof(r->address), idx };
}

/* Two reservations of one subnet with the same what ("mac", "client_id",
 * "address").  keys holds room for every reservation. */
static int check_unique(struct ib_cfg_walk *w, const struct ib_ynode *smap,
			const struct ib_subnet4 *s, const char *what, struct rkey *keys)
{
	size_t n = 0;

	for (size_t k = 0; k < s->n_reservations; k++) {
		keys[n] = reservation_key(&s->reservations[k], what, k);
		n += keys[n].len > 0;
	}
	qsort(keys, n, sizeof(*keys), cmp_rkey);
	for (size_t i = 1; i < n; i++) {
		if (keys[i].len == keys[i - 1].len &&
		    memcmp(keys[i].p, keys[i - 1].p, keys[i].len) == 0)
			return ib_cfg_fail_in(w, smap, "reservations", keys[i].idx, what,
				       "duplicate %s: also in reservations[%zu]",
				       what, keys[i - 1].idx);
	}
	return 0;
}

static int check_duplicates(struct ib_cfg_walk *w, const struct ib_ynode *map,
			    const struct ib_dhcp4_config *d)
{
	static const char *const what[] = { "mac", "client_id", "address" };
	int r = 0;

	for (size_t i = 0; i < d->n_subnets && r == 0; i++) {
		const struct ib_subnet4 *s = &d->subnets[i];
		size_t mark = w->path_len;
		const struct ib_ynode *sn;
		struct rkey *keys;

		if (s->n_reservations < 2)
			continue;
		keys = calloc(s->n_reservations, sizeof(*keys));
		if (!keys)
			return ib_cfg_fail_nomem(w->err);
		sn = descend(w, map, "subnets", i, NULL);
		for (size_t k = 0; k < IB_ARRAY_SIZE(what) && r == 0; k++)
			r = check_unique(w, sn, s, what[k], keys);
		ib_cfg_path_pop(w, mark);
		free(keys);
	}
	return r;
}

int ib_cfg_check_dhcp4(struct ib_cfg_walk *w, const struct ib_ynode *map,
		       const struct ib_dhcp4_config *d)
{
	size_t n;
	struct ib_cfg_span *sp = pool_spans(d, &n);
	int r;

	if (!sp)
		return ib_cfg_fail_nomem(w->err);
	r = check_pool_overlaps(w, map, sp, n);	/* leaves sp sorted */
	if (r == 0)
		r = check_subnet_overlaps(w, map, d);
	if (r == 0)
		r = check_reservations_in_pools(w, map, d, sp, n);
	if (r == 0)
		r = check_duplicates(w, map, d);
	free(sp);
	return r;
}
