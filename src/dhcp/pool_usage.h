/*
 * How full each dynamic pool is: which pools the config's subnets have
 * (this walk) and how many unexpired leases the store holds in each (the
 * store's own count, ib_store_lease4_count / ib_store_lease6_count: one
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
 * Calls fn for each pool of cfg's DHCPv4 subnets (when v4) and then
 * DHCPv6 subnets (when v6, the first 64 pools), with what the store holds
 * unexpired at now (unix seconds).  Returns 0, the store's -errno, or
 * fn's non-zero return.
 */
int ib_pool_usage(const struct ib_config *cfg, struct ib_store *store, int64_t now,
		  bool v4, bool v6, ib_pool_usage_fn fn, void *ctx);

#endif
