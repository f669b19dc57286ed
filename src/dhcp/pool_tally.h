/*
 * A binding table's pools at a glance: for each dynamic pool of a config,
 * how many of its addresses the table holds in each state, and (DHCPv4
 * pools of at most 2^24 addresses) a bitmap of the addresses the table
 * holds at all, with a next-fit cursor, so that finding a free address
 * costs a few word reads instead of a table lookup per address.
 *
 * It follows the table through the table's watch (ib_bind_table_watch
 * with ib_pool_tally_change): every state change of an address moves its
 * pool's counts and bit, so /metrics and the API read a pool's usage here
 * in O(pools) instead of counting the store's rows.  Pure: no clock, no
 * log, no store.
 */
#ifndef IB_DHCP_POOL_TALLY_H
#define IB_DHCP_POOL_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_TALLY_STATES 8		/* states counted: 1 .. 7 */
#define IB_TALLY_BITMAP_MAX ((uint64_t)1 << 24) /* addresses of a pool with a bitmap */

/* One pool: its first and last address (the first addr_len bytes). */
struct ib_pool_range {
	uint8_t first[16];		/* first address */
	uint8_t last[16];		/* last address (>= first) */
};

struct ib_pool_tally;
struct ib_bind_table;

/* A family's own state of one pool's search, kept beside its tally. */
struct ib_pool_search {
	int64_t swept;			/* when a full sweep last ran */
	uint64_t from;			/* where the next sweep starts */
};

/* A binding table's pools across reloads: the running config's tally
 * (watching the table) and the one before it, until the next. */
struct ib_pool_watch {
	struct ib_pool_tally *cur;	/* the running config's, or NULL */
	struct ib_pool_tally *prev;	/* the one before, or NULL */
};

/*
 * A tally of n pools (in the caller's order, which indexes them) of
 * addr_len-byte addresses (4 or 16), all counts 0.  0, -EINVAL or -ENOMEM.
 */
int ib_pool_tally_new(size_t addr_len, const struct ib_pool_range *r, size_t n,
		      struct ib_pool_tally **ret);
/* Frees; accepts NULL. */
void ib_pool_tally_free(struct ib_pool_tally *t);
/* Back to all counts 0, every bit clear (to be fed again); allocates
 * nothing. */
void ib_pool_tally_reset(struct ib_pool_tally *t);
/* Pools tallied. */
size_t ib_pool_tally_pools(const struct ib_pool_tally *t);

/* Each pool's searches start at a place of key's choosing (a random key:
 * another daemon sharing the store starts elsewhere). */
void ib_pool_tally_scatter(struct ib_pool_tally *t, const uint8_t key[16]);
/* Pool i's search state (i < pools). */
struct ib_pool_search *ib_pool_tally_search(struct ib_pool_tally *t, size_t i);

/*
 * Tallies the n pools r over t from now on: a new tally fed with t's
 * bindings becomes t's watch and w's cur; the cur before becomes prev
 * (the prev before is freed).  0, -EINVAL or -ENOMEM (then nothing
 * changed).
 */
int ib_pool_watch_set(struct ib_pool_watch *w, struct ib_bind_table *t, size_t addr_len,
		      const struct ib_pool_range *r, size_t n);
/* Back to prev (a refused reload), fed again from t; allocates nothing. */
void ib_pool_watch_rollback(struct ib_pool_watch *w, struct ib_bind_table *t);
/* Frees both tallies (the table must no longer be watched or be gone). */
void ib_pool_watch_done(struct ib_pool_watch *w);

/* An address changed state (0: absent): an ib_bind_watch_fn, ctx the tally. */
void ib_pool_tally_change(void *ctx, const uint8_t *addr, uint8_t was, uint8_t now);
/* The pool holding addr, or -1. */
long ib_pool_tally_find(const struct ib_pool_tally *t, const uint8_t *addr);
/* Addresses of pool i in state st. */
uint64_t ib_pool_tally_count(const struct ib_pool_tally *t, size_t i, uint8_t st);

/*
 * The next address of pool i (a DHCPv4 pool with a bitmap) that no
 * binding holds, from the pool's cursor round, skipping those skip() says
 * (NULL: none); *ret_off its offset from the pool's first address, and the
 * cursor moves past it.  0, -ENOSPC (every address held or skipped) or
 * -ENOTSUP (no bitmap: the caller searches).
 */
int ib_pool_tally_next_free(struct ib_pool_tally *t, size_t i,
			    bool (*skip)(void *ctx, uint64_t off), void *ctx, uint64_t *ret_off);

#endif
