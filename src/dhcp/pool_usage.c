/* How full each pool is: see pool_usage.h. */
#include "dhcp/pool_usage.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOLS6_MAX 64			/* DHCPv6 pools counted */

static void be32_put(uint32_t a, uint8_t *b)
{
	b[0] = (uint8_t)(a >> 24);
	b[1] = (uint8_t)(a >> 16);
	b[2] = (uint8_t)(a >> 8);
	b[3] = (uint8_t)a;
}

int ib_pool_ranges(const struct ib_config *cfg, int family, struct ib_pool_range **ret,
		   size_t *ret_n)
{
	size_t ns = family == 4 ? cfg->dhcp4.n_subnets : cfg->dhcp6.n_subnets, n = 0, k = 0;
	struct ib_pool_range *r;

	for (size_t i = 0; i < ns; i++)
		n += family == 4 ? cfg->dhcp4.subnets[i].n_pools : cfg->dhcp6.subnets[i].n_pools;
	if (!(r = calloc(n ? n : 1, sizeof(*r))))
		return -ENOMEM;
	for (size_t i = 0; i < ns && family == 4; i++)
		for (size_t j = 0; j < cfg->dhcp4.subnets[i].n_pools; j++, k++) {
			be32_put(cfg->dhcp4.subnets[i].pools[j].start, r[k].first);
			be32_put(cfg->dhcp4.subnets[i].pools[j].end, r[k].last);
		}
	for (size_t i = 0; i < ns && family == 6; i++)
		for (size_t j = 0; j < cfg->dhcp6.subnets[i].n_pools; j++, k++) {
			memcpy(r[k].first, cfg->dhcp6.subnets[i].pools[j].start, 16);
			memcpy(r[k].last, cfg->dhcp6.subnets[i].pools[j].end, 16);
		}
	*ret = r;
	*ret_n = n;
	return 0;
}

/* Pool k's counts: the counter's, else the store's over [first, last]. */
static int count(const struct ib_pool_usage_src *src, const struct ib_pool_counter *c, size_t k,
		 const void *first, const void *last, struct ib_lease_count *ret)
{
	if (c->fn && c->fn(c->ctx, src->cfg, k, ret))
		return 0;
	if (c == &src->c4)
		return ib_store_lease4_count(src->store, *(const uint32_t *)first,
					     *(const uint32_t *)last, src->now, ret);
	return ib_store_lease6_count(src->store, first, last, src->now, ret);
}

/* One family's walk over its pools. */
struct walk {
	const struct ib_pool_usage_src *src;	/* what to walk */
	const struct ib_pool_counter *c;	/* the family's counter */
	ib_pool_usage_fn fn;			/* told each pool */
	void *ctx;				/* its context */
	struct ib_pool_usage u;			/* the pool at hand: subnet and size set */
	size_t k;				/* its index among the family's */
};

/* Counts the pool at hand, [first, last] (texts a and b), and tells fn. */
static int hand(struct walk *w, const void *first, const void *last, const char *a,
		const char *b)
{
	struct ib_lease_count c;
	int r = count(w->src, w->c, w->k++, first, last, &c);

	if (r < 0)
		return r;
	snprintf(w->u.pool, sizeof(w->u.pool), "%s-%s", a, b);
	w->u.active = c.active;
	w->u.declined = c.declined;
	return w->fn(w->ctx, &w->u);
}

static int pools4(struct walk *w)
{
	const struct ib_dhcp4_config *d = &w->src->cfg->dhcp4;
	char a[IB_IP4_STRLEN], b[IB_IP4_STRLEN];
	int r;

	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet4 *sn = &d->subnets[i];

		ib_ip4_format(sn->network, a);
		snprintf(w->u.subnet, sizeof(w->u.subnet), "%s/%u", a, sn->prefix_len);
		for (size_t j = 0; j < sn->n_pools; j++) {
			ib_ip4_format(sn->pools[j].start, a);
			ib_ip4_format(sn->pools[j].end, b);
			w->u.size = (double)(sn->pools[j].end - sn->pools[j].start) + 1;
			if ((r = hand(w, &sn->pools[j].start, &sn->pools[j].end, a, b)) != 0)
				return r;
		}
	}
	return 0;
}

/* The addresses from a to b (inclusive, a <= b), as a float: a pool may
 * hold 2^64.  b - a is taken exactly, byte by byte, before the rounding. */
static double span6(const uint8_t a[16], const uint8_t b[16])
{
	uint8_t d[16];
	double v = 0;
	int borrow = 0;

	for (int i = 15; i >= 0; i--) {
		int x = b[i] - a[i] - borrow;

		borrow = x < 0;
		d[i] = (uint8_t)(x + (borrow ? 256 : 0));
	}
	for (int i = 0; i < 16; i++)
		v = v * 256 + d[i];
	return v + 1;
}

static int pools6(struct walk *w)
{
	const struct ib_dhcp6_config *d = &w->src->cfg->dhcp6;
	char a[IB_IP6_STRLEN], b[IB_IP6_STRLEN];
	int r;

	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet6 *sn = &d->subnets[i];

		ib_ip6_format(sn->prefix, a);
		snprintf(w->u.subnet, sizeof(w->u.subnet), "%s/%u", a, sn->prefix_len);
		for (size_t j = 0; j < sn->n_pools && w->k < POOLS6_MAX; j++) {
			ib_ip6_format(sn->pools[j].start, a);
			ib_ip6_format(sn->pools[j].end, b);
			w->u.size = span6(sn->pools[j].start, sn->pools[j].end);
			if ((r = hand(w, sn->pools[j].start, sn->pools[j].end, a, b)) != 0)
				return r;
		}
	}
	return 0;
}

int ib_pool_usage(const struct ib_pool_usage_src *src, ib_pool_usage_fn fn, void *ctx)
{
	struct walk w4 = { src, &src->c4, fn, ctx, { .family = 4 }, 0 };
	struct walk w6 = { src, &src->c6, fn, ctx, { .family = 6 }, 0 };
	int r = 0;

	if (src->v4)
		r = pools4(&w4);
	if (r == 0 && src->v6)
		r = pools6(&w6);
	return r;
}
