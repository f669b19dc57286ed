/* How full each pool is: see pool_usage.h. */
#include "dhcp/pool_usage.h"

#include <stdio.h>
#include <string.h>

#define POOLS6_MAX 64			/* DHCPv6 pools counted */

static int pools4(const struct ib_config *cfg, struct ib_store *store, int64_t now,
		  ib_pool_usage_fn fn, void *ctx)
{
	const struct ib_dhcp4_config *d = &cfg->dhcp4;
	char a[IB_IP4_STRLEN], b[IB_IP4_STRLEN];
	struct ib_pool_usage u = { .family = 4 };
	struct ib_lease_count c;
	int r;

	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet4 *sn = &d->subnets[i];

		ib_ip4_format(sn->network, a);
		snprintf(u.subnet, sizeof(u.subnet), "%s/%u", a, sn->prefix_len);
		for (size_t j = 0; j < sn->n_pools; j++) {
			if ((r = ib_store_lease4_count(store, sn->pools[j].start,
						       sn->pools[j].end, now, &c)) < 0)
				return r;
			ib_ip4_format(sn->pools[j].start, a);
			ib_ip4_format(sn->pools[j].end, b);
			snprintf(u.pool, sizeof(u.pool), "%s-%s", a, b);
			u.size = (double)(sn->pools[j].end - sn->pools[j].start) + 1;
			u.active = c.active;
			u.declined = c.declined;
			if ((r = fn(ctx, &u)) != 0)
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

static int pools6(const struct ib_config *cfg, struct ib_store *store, int64_t now,
		  ib_pool_usage_fn fn, void *ctx)
{
	const struct ib_dhcp6_config *d = &cfg->dhcp6;
	char a[IB_IP6_STRLEN], b[IB_IP6_STRLEN];
	struct ib_pool_usage u = { .family = 6 };
	struct ib_lease_count c;
	size_t k = 0;
	int r;

	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet6 *sn = &d->subnets[i];

		ib_ip6_format(sn->prefix, a);
		snprintf(u.subnet, sizeof(u.subnet), "%s/%u", a, sn->prefix_len);
		for (size_t j = 0; j < sn->n_pools && k < POOLS6_MAX; j++, k++) {
			if ((r = ib_store_lease6_count(store, sn->pools[j].start,
						       sn->pools[j].end, now, &c)) < 0)
				return r;
			ib_ip6_format(sn->pools[j].start, a);
			ib_ip6_format(sn->pools[j].end, b);
			snprintf(u.pool, sizeof(u.pool), "%s-%s", a, b);
			u.size = span6(sn->pools[j].start, sn->pools[j].end);
			u.active = c.active;
			u.declined = c.declined;
			if ((r = fn(ctx, &u)) != 0)
				return r;
		}
	}
	return 0;
}

int ib_pool_usage(const struct ib_config *cfg, struct ib_store *store, int64_t now,
		  bool v4, bool v6, ib_pool_usage_fn fn, void *ctx)
{
	int r = 0;

	if (v4)
		r = pools4(cfg, store, now, fn, ctx);
	if (r == 0 && v6)
		r = pools6(cfg, store, now, fn, ctx);
	return r;
}
