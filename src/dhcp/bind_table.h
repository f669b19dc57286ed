/*
 * The binding table both DHCP families' lease caches keep (DHCPv4's
 * dhcp4_leases.c, DHCPv6's dhcp6_leases.c): which addresses are taken, in
 * which state, until when and by whom, indexed by address and by client
 * key, so that the policy's questions ("what does this client hold?",
 * "may it have this address?") cost a few compares and no store read.
 *
 * A table is narrow (4-byte addresses: 40 bytes a slot, so a million
 * DHCPv4 leases fit in about a hundred megabytes) or wide (16-byte
 * addresses and the time the holder last wrote its binding: 64 bytes).
 * A holder's key is kept inside the slot up to 24 bytes (DHCPv4's
 * 'H' + htype + chaddr, or an RFC 4361 client-id), longer ones are
 * allocated.  Addresses and keys come from the wire, so both indexes hash
 * with a random SipHash key.  The state byte is the family's (0 is never
 * one: it means "absent").  The family decides the rules (one address per
 * client or not); the table only files what it is told.
 */
#ifndef IB_DHCP_BIND_TABLE_H
#define IB_DHCP_BIND_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_BIND_KEY_MAX 257	/* DHCPv4: 'C' + a 256-byte client-id; DHCPv6: DUID + IAID */

/* A client's identity, as its family makes it (a buffer for callers). */
struct ib_bind_key {
	uint16_t len;			/* bytes of b */
	uint8_t b[IB_BIND_KEY_MAX];	/* the key */
};

/* One address's binding, as given to and answered by the table. */
struct ib_bind {
	uint8_t addr[16];		/* the address: its first addr_len bytes */
	uint8_t state;			/* the family's state; never 0 */
	int64_t expires;		/* unix seconds */
	int64_t since;			/* when its holder last wrote it (unix
					 * seconds; kept by wide tables, 0 in a
					 * narrow one's answers) */
	const uint8_t *key;		/* the holder's key: the caller's in a put,
					 * the table's in an answer (valid until
					 * the next change) */
	uint16_t key_len;		/* bytes of key, at most IB_BIND_KEY_MAX */
};

/* Told every change of an address's state (0: absent), clear included. */
typedef void (*ib_bind_watch_fn)(void *ctx, const uint8_t *addr, uint8_t was, uint8_t now);

struct ib_bind_table;

/* An empty table of addr_len-byte addresses (4 or 16); 0, -EINVAL,
 * -ENOMEM or -EIO (no random key). */
int ib_bind_table_new(size_t addr_len, struct ib_bind_table **ret);
/* Frees; accepts NULL. */
void ib_bind_table_free(struct ib_bind_table *t);
/* Drops every binding. */
void ib_bind_table_clear(struct ib_bind_table *t);
/* Bindings filed. */
size_t ib_bind_table_count(const struct ib_bind_table *t);
/* Room for n bindings without growing (a load sized once); 0 or -ENOMEM
 * (then nothing changed). */
int ib_bind_table_reserve(struct ib_bind_table *t, size_t n);
/* fn (NULL: none) hears every state change from now on. */
void ib_bind_table_watch(struct ib_bind_table *t, ib_bind_watch_fn fn, void *ctx);

/* Whether addr has a binding; if so *ret is it. */
bool ib_bind_get(const struct ib_bind_table *t, const uint8_t *addr, struct ib_bind *ret);
/* Whether the client index names a binding for key (its own, see
 * ib_bind_put()); if so *ret is it. */
bool ib_bind_of(const struct ib_bind_table *t, const uint8_t *key, size_t key_len,
		struct ib_bind *ret);
/* Whether b's holder is key. */
bool ib_bind_held_by(const struct ib_bind *b, const uint8_t *key, size_t key_len);

/*
 * Files b at its address (never all zero), replacing what the address had
 * (and that holder's index entry, if it named this address).  own: the
 * client index names b as its key's binding from now on; else b is filed
 * by address only (an older binding of a client that has a newer one).
 * 0, -EINVAL, or -ENOMEM (then the address has no binding).
 */
int ib_bind_put(struct ib_bind_table *t, const struct ib_bind *b, bool own);
/* Forgets addr's binding, if any. */
void ib_bind_remove(struct ib_bind_table *t, const uint8_t *addr);
/* Changes the state and expiry of addr's binding, if any; 0 or -ENOENT. */
int ib_bind_set_state(struct ib_bind_table *t, const uint8_t *addr, uint8_t state,
		      int64_t expires);
/* Forgets every binding drop() says to; returns how many.  drop() sees every
 * binding at least once (a kept one may be seen again after the shifts of a
 * deletion): give it no side effect but for a binding it drops. */
size_t ib_bind_drop_if(struct ib_bind_table *t,
		       bool (*drop)(void *ctx, const struct ib_bind *b), void *ctx);
/* Calls fn on every binding, in no order; the table must not change. */
void ib_bind_foreach(const struct ib_bind_table *t,
		     void (*fn)(void *ctx, const struct ib_bind *b), void *ctx);

#endif
