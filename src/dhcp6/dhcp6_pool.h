/*
 * A DHCPv6 subnet's pools as one sequence of offsets: pool 0's addresses,
 * then pool 1's, and so on.  The allocation search (next-fit from a
 * cursor) and the first-gap scan that places the cursor after a restart
 * (issue #11: a cursor kept only in memory, back at 0 after a restart,
 * walked into thousands of contiguous bindings and gave up).
 *
 * Pure (issue #15: the pool pick as a policy function, tested on its
 * own): the caller says which addresses are usable through a callback
 * (its holds and the store) and feeds the store's rows to the gap scan.
 */
#ifndef IB_DHCP6_DHCP6_POOL_H
#define IB_DHCP6_DHCP6_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

#define IB_D6_GAP_POOLS 16		/* pools of a subnet the gap scan places */

/* Addresses in sn's pools, saturated at UINT64_MAX. */
uint64_t ib_d6_pool_size(const struct ib_subnet6 *sn);
/* The address at offset off (< ib_d6_pool_size(sn)). */
void ib_d6_pool_addr(const struct ib_subnet6 *sn, uint64_t off, uint8_t ret[16]);

/*
 * Next-fit: the first address from offset *cursor on (wrapping) that
 * usable(ctx, address) accepts, trying at most max_tries.  0 and ret, the
 * cursor moved past it; or -ENOSPC, the cursor moved past what was tried
 * (the next search looks further on).  Without pools: -ENOSPC.
 */
int ib_d6_pool_next(const struct ib_subnet6 *sn, uint64_t *cursor, uint64_t max_tries,
		    bool (*usable)(void *ctx, const uint8_t a[16]), void *ctx, uint8_t ret[16]);

/* A subnet's next-fit cursor and when it was last placed at a gap. */
struct ib_d6_cursor {
	uint64_t offset;		/* where the next search starts */
	int64_t placed_at;		/* unix seconds; 0 = never */
};

/* How ib_d6_pool_pick() searches, and what it asks of its caller. */
struct ib_d6_pick {
	uint64_t max_tries;		/* addresses tried per search */
	int64_t now;			/* unix seconds */
	int64_t every;			/* seconds between two placements of a cursor */
	bool (*usable)(void *ctx, const uint8_t a[16]); /* may the client have a? */
	/* moves c to the first gap of sn (the caller walks its rows with
	 * the gap scan below) and sets c->placed_at to now */
	void (*place)(void *ctx, const struct ib_subnet6 *sn, struct ib_d6_cursor *c);
	void *ctx;			/* passed to both */
};

/*
 * The pool pick (issue #11): next-fit from c (ib_d6_pool_next).  When the
 * search finds every address it tried taken, in a pool larger than that,
 * and c was placed at least every seconds ago, place() puts c at the
 * first gap and the search runs once more.  0 and ret, or -ENOSPC.
 */
int ib_d6_pool_pick(const struct ib_subnet6 *sn, struct ib_d6_cursor *c,
		    const struct ib_d6_pick *how, uint8_t ret[16]);

/*
 * The first-gap scan: fed the rows of the store in ascending address
 * order (taken: the row keeps its address from others, an unexpired
 * ACTIVE or DECLINED binding), it finds the first offset no row takes.
 * Pools past the first IB_D6_GAP_POOLS, and pools over 2^64 addresses,
 * are not placed (the cursor search still reaches them).
 */
struct ib_d6_gap {
	const struct ib_subnet6 *sn;	/* the subnet scanned */
	uint64_t want[IB_D6_GAP_POOLS];	/* per pool: the first offset not yet seen taken */
	bool done[IB_D6_GAP_POOLS];	/* per pool: want is a gap (or the pool is not placed) */
};

void ib_d6_gap_init(struct ib_d6_gap *g, const struct ib_subnet6 *sn);
/* One row; rows come in ascending address order. */
void ib_d6_gap_feed(struct ib_d6_gap *g, const uint8_t addr[16], bool taken);
/* The cursor offset of the first gap: 0, or -ENOSPC when every placed
 * pool is taken whole. */
int ib_d6_gap_result(const struct ib_d6_gap *g, uint64_t *ret_offset);

#endif
