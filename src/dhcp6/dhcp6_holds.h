/*
 * Addresses an ADVERTISE offered and holds for its client until the
 * REQUEST (or until they expire), at most cap at once, on the binding
 * table both families' caches use (src/dhcp/bind_table.h), by address
 * (is this address promised to someone else?) and by client (DUID + IAID:
 * what did we offer this IA?), so every lookup costs a few compares
 * however many exchanges are in flight.  The holds of pool
 * addresses are also filed in a hold ledger (src/dhcp4/hold_ledger.h) by
 * subnet and by the relay or interface they came through, for the
 * per-source cap and the takeover of the oldest (issue #11).  Internal to
 * src/dhcp6.
 */
#ifndef IB_DHCP6_DHCP6_HOLDS_H
#define IB_DHCP6_DHCP6_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp4/hold_ledger.h"
#include "dhcp6/dhcp6_codec.h"

struct ib_d6_holds;

/* A table of cap holds (a power of two is not needed).  0 or -ENOMEM. */
int ib_d6_holds_new(size_t cap, struct ib_d6_holds **ret);
/* Frees; accepts NULL. */
void ib_d6_holds_free(struct ib_d6_holds *h);

/*
 * The live hold of duid+iaid: its address and expiry.  0, or -ENOENT.
 */
int ib_d6_holds_find(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		     int64_t now, uint8_t ret_addr[16], int64_t *ret_until);

/* Whose live hold addr is under. */
enum ib_d6_holder {
	IB_D6_HELD_NONE,		/* nobody's */
	IB_D6_HELD_MINE,		/* duid+iaid's own */
	IB_D6_HELD_OTHER,		/* another client's */
};
enum ib_d6_holder ib_d6_holds_holder(struct ib_d6_holds *h, const uint8_t addr[16],
				     const struct ib_dhcp6_blob *duid, uint32_t iaid,
				     int64_t now);

/*
 * Holds addr for duid+iaid until `until`, replacing the IA's earlier hold
 * and any other client's hold on addr (taken over).  A full table first
 * drops expired holds; still full, the hold is not kept (the REQUEST
 * re-checks the store, so nothing breaks).  g: the group the hold is
 * filed under in the ledger (taken at now), or NULL for an address that
 * is never counted nor taken over (a reserved one).
 */
void ib_d6_holds_put(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		     const uint8_t addr[16], int64_t until, int64_t now,
		     const struct ib_ledger_group *g);

/* Drops any hold on addr (it was bound). */
void ib_d6_holds_drop_addr(struct ib_d6_holds *h, const uint8_t addr[16]);

/* Live holds filed under group g. */
size_t ib_d6_holds_in(struct ib_d6_holds *h, const struct ib_ledger_group *g, int64_t now);

/* The oldest live hold filed under subnet, of source (or any when NULL).
 * 0 and *ret_addr, or -ENOENT. */
int ib_d6_holds_oldest(struct ib_d6_holds *h, const uint8_t subnet[16], const uint64_t *source,
		       int64_t now, uint8_t ret_addr[16]);

/* Drops the holds of duid+iaid (its REQUEST was answered). */
void ib_d6_holds_drop(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid);

/* Drops every hold expired at now. */
void ib_d6_holds_expire(struct ib_d6_holds *h, int64_t now);

/* Live holds (for logs and tests). */
size_t ib_d6_holds_count(const struct ib_d6_holds *h, int64_t now);

#endif
