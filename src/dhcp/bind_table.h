/*
 * A binding table for a DHCP family's lease cache (today DHCPv6's,
 * dhcp6_leases.c; DHCPv4's dhcp4_leases.c keeps a compact table of its
 * own, 4-byte addresses and inline keys): which addresses are taken, in
 * which state, until when and by whom, indexed by address and by client
 * key, so that the policy's questions ("what does this client hold?",
 * "may it have this address?") cost a few compares and no store read.
 *
 * Addresses are 16 bytes (IPv4 would be ::ffff:a.b.c.d,
 * ib_ledger_addr4()).  A client's key is the family's (DHCPv6: DUID +
 * IAID); addresses and keys come from the wire, so both indexes hash with
 * a random SipHash key.  The state byte is the family's (0 is never
 * one: it marks an empty slot).  The family decides the rules (one
 * address per client or not); the table only files what it is told.
 */
#ifndef IB_DHCP_BIND_TABLE_H
#define IB_DHCP_BIND_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_BIND_KEY_MAX 136	/* DHCPv6: a DUID (at most 130 bytes) + the IAID */

/* A client's identity, as its family makes it. */
struct ib_bind_key {
	uint16_t len;			/* bytes of b */
	uint8_t b[IB_BIND_KEY_MAX];	/* the key */
};

/* One address's binding. */
struct ib_bind {
	uint8_t addr[16];		/* the address (key of the table) */
	uint8_t state;			/* the family's state; never 0 */
	int64_t expires;		/* unix seconds */
	int64_t since;			/* when its holder last wrote it (unix seconds;
					 * the family's, may be 0) */
	uint64_t key_hash;		/* hash of key (the table fills it) */
	struct ib_bind_key key;		/* holder */
};

struct ib_bind_table;

/* An empty table; 0, -ENOMEM or -EIO (no random key). */
int ib_bind_table_new(struct ib_bind_table **ret);
/* Frees; accepts NULL. */
void ib_bind_table_free(struct ib_bind_table *t);
/* Drops every binding. */
void ib_bind_table_clear(struct ib_bind_table *t);
/* Bindings filed. */
size_t ib_bind_table_count(const struct ib_bind_table *t);

/* The binding of addr, or NULL.  Valid until the next change. */
const struct ib_bind *ib_bind_get(const struct ib_bind_table *t, const uint8_t addr[16]);
/* The binding key's client index names (its own, see ib_bind_put()), or
 * NULL.  Valid until the next change. */
const struct ib_bind *ib_bind_of(const struct ib_bind_table *t, const struct ib_bind_key *key);

/*
 * Files b at its address, replacing what the address had (and that
 * holder's index entry, if it named this address).  own: the client index
 * names b as its key's binding from now on; else b is filed by address
 * only (an older binding of a client that has a newer one).  0, or
 * -ENOMEM (the table is then empty: the caller reloads or runs without).
 */
int ib_bind_put(struct ib_bind_table *t, const struct ib_bind *b, bool own);
/* Forgets addr's binding, if any. */
void ib_bind_remove(struct ib_bind_table *t, const uint8_t addr[16]);
/* Changes the state and expiry of addr's binding, if any; 0 or -ENOENT. */
int ib_bind_set_state(struct ib_bind_table *t, const uint8_t addr[16], uint8_t state,
		      int64_t expires);

/* Whether two keys are the same client. */
bool ib_bind_key_eq(const struct ib_bind_key *a, const struct ib_bind_key *b);

#endif
