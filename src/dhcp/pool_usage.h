/*
 * How full each dynamic pool is: which pools the config's subnets have
 * (this walk) and how many leases each holds: the running server's cache
 * tally (src/dhcp/pool_tally.h) when it serves that config, else the
 * store's own count (ib_store_lease4_count / ib_store_lease6_count: one
 * query a pool over the address key, no row decoded).  Serves /metrics'
 * pool gauges (src/daemon/daemon_metrics.c) and the API's GET
 * /api/v1/pools (the web UI's usage bars).  No clock (now is given), no
 * log.
 */
#ifndef IB_DHCP_POOL_USAGE_H
#define IB_DHCP_POOL_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"
#include "config/config.h"
#include "dhcp/pool_tally.h"
#include "store/store.h"

#define IB_POOL_LABEL 96		/* "first-last" of a pool, v6 included */

/* One pool's usage. */
struct ib_pool_usage {
	int family;			/* 4 or 6 */
	char subnet[IB_IP6_STRLEN + 4];	/* "198.18.0.0/24", "fd00:b007::/64" */
	char pool[IB_POOL_LABEL];	/* "first-last" */
	double size;			/* addresses in it (a v6 pool may hold 2^64) */
	uint64_t active;		/* unexpired active leases */
	uint64_t declined;		/* unexpired declined addresses */
};

/* Called per pool, in config order; non-zero stops the walk (returned). */
typedef int (*ib_pool_usage_fn)(void *ctx, const struct ib_pool_usage *u);

/*
 * The ranges of cfg's DHCPv4 (family 4) or DHCPv6 (6) pools, in the order
 * of this walk (subnets, then their pools), into *ret (the caller frees)
 * and *ret_n: what a cache's tally follows (pool_tally.h).  0 or -ENOMEM.
 */
int ib_pool_ranges(const struct ib_config *cfg, int family, struct ib_pool_range **ret,
		   size_t *ret_n);

/* Pool i's counts (cfg's subnets' pools in order) from a running server's
 * cache: false when it cannot say (then the store counts). */
typedef bool (*ib_pool_count_fn)(const void *ctx, const struct ib_config *cfg, size_t i,
				 struct ib_lease_count *ret);

/* A family's counter: fn NULL, the store counts. */
struct ib_pool_counter {
	ib_pool_count_fn fn;		/* the cache's count, or NULL */
	const void *ctx;		/* its context (the family's server) */
};

/* What to walk and who counts. */
struct ib_pool_usage_src {
	const struct ib_config *cfg;	/* whose pools */
	struct ib_store *store;		/* counts what no counter answers */
	int64_t now;			/* unix seconds, for the store's "unexpired" */
	bool v4, v6;			/* which families */
	struct ib_pool_counter c4, c6;	/* the running servers' caches */
};

/*
 * Calls fn for each pool of cfg's DHCPv4 subnets (when v4) and then
 * DHCPv6 subnets (when v6, the first 64 pools), with its active and
 * declined bindings: from the family's counter (the lease cache, no
 * store read; /metrics at a million leases must not stall DHCP), else
 * what the store holds unexpired at now.  Returns 0, the store's -errno,
 * or fn's non-zero return.
 */
int ib_pool_usage(const struct ib_pool_usage_src *src, ib_pool_usage_fn fn, void *ctx);

#endif
