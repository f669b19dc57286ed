/*
 * The DHCPv6 binding cache: the store's leases6 rows in memory (address,
 * state, expiry, DUID + IAID), on the binding table of src/dhcp/bind_table.h,
 * so that SOLICIT, REQUEST, RENEW, REBIND,
 * CONFIRM, RELEASE and DECLINE are decided without reading a row.
 *
 * A cache, not the truth: loaded from the store at start, it follows what
 * the store made durable (the group commit's bindings, releases and
 * declines, once COMMIT returned; the reclaim's expiries), and every
 * binding is still arbitrated by the store's conditional commit
 * (ib_store_lease6_commit), so daemons sharing one database never bind one
 * address twice: a cache that guessed wrong costs NoAddrsAvail in that IA,
 * and the cache then reads the winner's row.  Like the store it keeps rows
 * in every state: a client's released or expired address is still its
 * own to ask for again (ib_store_lease6_find_client's answer).
 */
#ifndef IB_DHCP6_DHCP6_LEASES_H
#define IB_DHCP6_DHCP6_LEASES_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "dhcp/bind_table.h"
#include "dhcp6/dhcp6_codec.h"
#include "store/store.h"

struct ib_d6_leases;

/* An IA's key in a binding table (src/dhcp/bind_table.h): the DUID, then
 * the IAID big-endian.  false when the DUID is longer than a stored one. */
bool ib_d6_key(const uint8_t *duid, size_t duid_len, uint32_t iaid, struct ib_bind_key *k);

/* An empty cache; 0, -ENOMEM or -EIO. */
int ib_d6_leases_new(struct ib_d6_leases **ret);
/* Frees; accepts NULL. */
void ib_d6_leases_free(struct ib_d6_leases *c);

/* Replaces the cache's content by the store's rows; 0 or the store's or
 * the cache's -errno (the cache is then empty). */
int ib_d6_leases_load(struct ib_d6_leases *c, struct ib_store *s);
/* Rows held. */
size_t ib_d6_leases_count(const struct ib_d6_leases *c);

/*
 * The binding of duid+iaid in any state, as the store's find_client
 * answers it (the newest by cltt): *ret's address, subnet-less, state,
 * expiry, DUID and IAID.  0, or -ENOENT.
 */
int ib_d6_leases_find(const struct ib_d6_leases *c, const struct ib_dhcp6_blob *duid,
		      uint32_t iaid, struct ib_lease6 *ret);
/*
 * Whether no row keeps addr from duid+iaid at now: none, released,
 * expired or past its valid-until, or ACTIVE for the same IA (the store's
 * conditional commit's rule, ib_dhcp6_lease_usable()).
 */
bool ib_d6_leases_usable(const struct ib_d6_leases *c, const uint8_t addr[16],
			 const struct ib_dhcp6_blob *duid, uint32_t iaid, int64_t now);

/*
 * A row as the store holds it now (at load, or the winner of a refused
 * commit), filed as the client's own binding when it is its newest.
 * 0 or -ENOMEM (the cache is then empty: reload it).
 */
int ib_d6_leases_file(struct ib_d6_leases *c, const struct ib_lease6 *l);
/*
 * A binding the store committed (durable): filed as the IA's own, and, as
 * the store did (one address per IA and subnet), the IA's other ACTIVE
 * binding in l's subnet ends (RELEASED).  0 or -ENOMEM (as above).
 */
int ib_d6_leases_bound(struct ib_d6_leases *c, const struct ib_lease6 *l);
/* addr has no row (or it cannot be read): the cache forgets it. */
void ib_d6_leases_forget(struct ib_d6_leases *c, const uint8_t addr[16]);
/* addr's row changed state (release, decline, expiry) as the store's
 * ib_store_lease6_set_state did; no row, nothing. */
void ib_d6_leases_set_state(struct ib_d6_leases *c, const uint8_t addr[16],
			    enum ib_lease_state st, int64_t expires);

/*
 * Tallies cfg's pools from now on (src/dhcp/pool_tally.h: each pool's
 * rows by state, in cfg's order of subnets and pools); 0 or -ENOMEM (then
 * nothing changed).
 */
int ib_d6_leases_configure(struct ib_d6_leases *c, const struct ib_config *cfg);
/* Back to the pools before the last configure; allocates nothing. */
void ib_d6_leases_rollback(struct ib_d6_leases *c);
/* Pool i's ACTIVE and DECLINED rows, whatever their expiry (the reclaim
 * ends them within seconds); false if no config is tallied or i is past
 * its pools. */
bool ib_d6_leases_pool_counts(const struct ib_d6_leases *c, size_t i, struct ib_lease_count *ret);

/* An operator's release of one binding. */
struct ib_d6_release {
	struct ib_lease6 l;		/* address in; the stored row out */
	int64_t now;			/* unix seconds */
};

/*
 * Inside the caller's store transaction (ib_dhcp_engine_operate): ends
 * the ACTIVE, unexpired binding of ctx's address (a struct ib_d6_release)
 * as RELEASED at now, its row (as released) in ->l.  0, -ENOENT (none such) or the
 * store's -errno.  The cache follows once committed
 * (ib_d6_leases_set_state).
 */
int ib_d6_release_txn(void *ctx, struct ib_store *st);

#endif
