/*
 * The DHCPv4 lease cache: the server's in-memory picture of which addresses
 * are bound, declined or held by an outstanding OFFER, indexed by address
 * and by client.  It answers the policy's lease view (find_client, is_free,
 * pick_free) without a store round trip.
 *
 * It is a cache, not the truth: it is loaded from the store at start, kept
 * current by the shell, and every binding is still arbitrated by the store
 * at commit time (ib_store_lease4_commit), so several daemons sharing one
 * database never bind one address twice; a cache that guessed wrong costs a
 * NAK, not a duplicate address.  OFFER holds live only here; those of pool
 * addresses are also filed in a hold ledger (hold_ledger.h) by subnet and
 * by the relay or interface they came through, so that the policy can cap
 * one source's holds and take over the oldest one when the pool is short.
 */
#ifndef IB_DHCP4_LEASES_H
#define IB_DHCP4_LEASES_H

#include <stdint.h>

#include "config/config.h"
#include "dhcp4/dhcp4_codec.h"
#include "dhcp4/dhcp4_policy.h"
#include "store/store.h"

#define IB_D4_KEY_MAX 257	/* 'C' + client-id, or 'H' + htype + chaddr */

/* A client's identity: client-id if it sent one, else htype + chaddr. */
struct ib_d4_key {
	uint16_t len;			/* bytes of b */
	uint8_t b[IB_D4_KEY_MAX];	/* the key */
};

enum ib_d4_state {
	IB_D4_FREE = 0,			/* slot unused */
	IB_D4_OFFERED,			/* held by an OFFER until expires */
	IB_D4_BOUND,			/* acknowledged lease until expires */
	IB_D4_QUARANTINED,		/* declined until expires */
};

struct ib_d4_leases;

int ib_d4_leases_new(struct ib_d4_leases **ret);
void ib_d4_leases_free(struct ib_d4_leases *c);
/* Drops everything (before a reload from the store). */
void ib_d4_leases_clear(struct ib_d4_leases *c);

/*
 * The client-id of a message, or NULL when it has none or when it is just
 * htype + chaddr (RFC 2132 9.14's usual form): iPXE sends 01:<mac> while the
 * firmware before it sends none, and one machine must keep one lease across
 * the chainload.  Also NULL when it is longer than a lease row holds
 * (IB_STORE_CLIENT_ID_MAX): such a client is known by chaddr.
 */
const uint8_t *ib_d4_client_id(const struct ib_dhcp4_msg *m, size_t *ret_len);

/* The key of a message's client. */
void ib_d4_key_from_msg(const struct ib_dhcp4_msg *m, struct ib_d4_key *ret);
/* The key of a stored lease row. */
void ib_d4_key_from_lease(const struct ib_lease4 *l, struct ib_d4_key *ret);

/* Records addr in state st for key until expires (replacing what was there). */
int ib_d4_leases_set(struct ib_d4_leases *c, uint32_t addr, enum ib_d4_state st,
		     const struct ib_d4_key *key, int64_t expires);
/*
 * Holds pool address addr for key by an OFFER until `until` (as
 * ib_d4_leases_set() with IB_D4_OFFERED, replacing what addr had), and
 * files the hold in the ledger under its subnet (network address) and
 * source, taken at now.  An OFFER of a reserved address is held with
 * ib_d4_leases_set() instead: it is never counted nor taken over.
 */
int ib_d4_leases_offer(struct ib_d4_leases *c, uint32_t addr, const struct ib_d4_key *key,
		       uint32_t subnet, uint64_t source, int64_t now, int64_t until);
/* Forgets addr. */
void ib_d4_leases_remove(struct ib_d4_leases *c, uint32_t addr);
/* Forgets the OFFER held for key, if any. */
void ib_d4_leases_forget_offer(struct ib_d4_leases *c, const struct ib_d4_key *key);
/* When key's live binding of addr ends (unix seconds), or 0 when addr is
 * not bound to key after now. */
int64_t ib_d4_leases_bound_until(const struct ib_d4_leases *c, uint32_t addr,
				 const struct ib_d4_key *key, int64_t now);
/*
 * addr's row as the store holds it now, after another writer changed it
 * (l: the row, NULL when there is none): an unexpired ACTIVE or DECLINED
 * row is filed as its client's (ending that client's other entry, as the
 * store's commit did), any other row forgets the address unless this
 * daemon holds it by an OFFER.  0 or -ENOMEM.
 */
int ib_d4_leases_follow(struct ib_d4_leases *c, uint32_t addr, const struct ib_lease4 *l,
			int64_t now);
/*
 * Several servers pick from the same pools (a shared store): each pool's
 * next-fit search starts at a random position of this cache's own, so
 * that two daemons answering the same DISCOVERs do not offer the same
 * addresses in lockstep to different clients (one of whom the store's
 * arbitration would then NAK, again and again).
 */
void ib_d4_leases_scatter(struct ib_d4_leases *c);
/*
 * Load balancing (ib_dhcp_engine_peers): this daemon is number rank of
 * n sharing the clients (n < 2: none).  New addresses are picked from
 * its share of each pool first (address modulo n == rank), from any
 * address once that share is full.
 */
void ib_d4_leases_share(struct ib_d4_leases *c, uint32_t rank, uint32_t n);
/* Whether key holds a live binding (not an OFFER, not a quarantine). */
bool ib_d4_leases_bound(const struct ib_d4_leases *c, const struct ib_d4_key *key,
			int64_t now);
/* Stored rows the cache refused at load, for the shell to say. */
struct ib_d4_load_refused {
	size_t n;			/* rows refused */
	uint32_t first;			/* the first one's address */
	const char *why;		/* and why (static text) */
};

/*
 * Loads the unexpired ACTIVE and DECLINED rows of the store.  A row the
 * server could never have written is refused, not served: an Ethernet
 * hardware address that is not 6 bytes, or an address in none of cfg's
 * subnets (cfg may be NULL: no subnet check).  *ret (may be NULL) says
 * what was refused.
 */
int ib_d4_leases_load(struct ib_d4_leases *c, struct ib_store *s, const struct ib_config *cfg,
		      int64_t now, struct ib_d4_load_refused *ret);
/*
 * Follows cfg's pools from now on (a reload; the load does it for its
 * cfg): a tally of each pool's bindings by state and a bitmap of its free
 * addresses (src/dhcp/pool_tally.h), in cfg's order of subnets and pools.
 * The cache's rows outside cfg's subnets stay until ib_d4_leases_reconcile().
 * 0 or -ENOMEM (then nothing changed).
 */
int ib_d4_leases_configure(struct ib_d4_leases *c, const struct ib_config *cfg);
/* Back to the pools of the config before the last configure (a refused
 * reload); allocates nothing. */
void ib_d4_leases_rollback(struct ib_d4_leases *c);
/*
 * After a configure: drops the rows in none of cfg's subnets and loads the
 * store's unexpired rows of cfg's subnets the cache did not hold before;
 * *ret_dropped says how many went.  0 (also when nothing was to do) or
 * the store's -errno (then it is tried again at the next call).
 */
int ib_d4_leases_reconcile(struct ib_d4_leases *c, struct ib_store *s,
			   const struct ib_config *cfg, int64_t now, size_t *ret_dropped);
/*
 * The bindings of pool i of the configured pools (cfg's subnets, then
 * their pools, in order): active (bound) and declined, whatever their
 * expiry (the reclaim ends the expired ones within seconds).  false when
 * no config is followed or i is past its pools.
 */
bool ib_d4_leases_pool_counts(const struct ib_d4_leases *c, size_t i, struct ib_lease_count *ret);
/* Number of addresses tracked. */
size_t ib_d4_leases_count(const struct ib_d4_leases *c);

/*
 * Fills a lease view over the cache.  now is read through the pointer at
 * each call, so the shell advances one clock for all.
 */
void ib_d4_leases_view(struct ib_d4_leases *c, const int64_t *now,
		       struct ib_lease_view *ret);

#endif
