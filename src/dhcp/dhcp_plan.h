/*
 * A group commit's plan: the writes a batch of DHCP decisions makes, one
 * small tagged row each, planned by the family on the loop with its times
 * fixed at decision, run by the engine in the batch's transaction, and
 * answered write by write with a verdict the family applies on the loop
 * (applied; refused: the address is another client's; no such row).
 *
 * The rows own everything a write needs (no pointer into the family's
 * state, the config snapshot or the clock), so that whoever runs them
 * needs only a store: the loop's connection, or another one.
 */
#ifndef IB_DHCP_PLAN_H
#define IB_DHCP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* What one row of the plan writes. */
enum ib_dhcp_write_op {
	IB_DHCP_W4_COMMIT,		/* lease4_commit(l4, now): -EEXIST a verdict */
	IB_DHCP_W4_STATE,		/* lease4_set_state(l4.address, state, expires):
					 * -ENOENT a verdict */
	IB_DHCP_W4_DECLINE,		/* lease4_commit(l4, now), then DECLINED until
					 * expires: -EEXIST a verdict */
	IB_DHCP_W6_COMMIT,		/* lease6_commit(l6, now): -EEXIST a verdict */
	IB_DHCP_W6_STATE,		/* lease6_set_state(l6.address, state, expires):
					 * -ENOENT a verdict */
};

/* One write of the plan, and its verdict once run. */
struct ib_dhcp_write {
	enum ib_dhcp_write_op op;	/* what it writes */
	uint32_t slot;			/* index of its request in the batch */
	uint8_t ia;			/* DHCPv6: index of its IA in the decision */
	enum ib_lease_state state;	/* the *_STATE ops: the new state */
	int64_t now;			/* the commit ops: the clock of the decision */
	int64_t expires;		/* the *_STATE and DECLINE ops: until when */
	union {
		struct ib_lease4 l4;	/* the W4 ops' row (STATE: its address) */
		struct ib_lease6 l6;	/* the W6 ops' row (STATE: its address) */
	} row;
	int verdict;			/* once run: 0 applied, or the op's verdict
					 * errno (-EEXIST, -ENOENT) */
};

/* A batch's plan: the rows, filled by the families through ib_dhcp_plan_add(). */
struct ib_dhcp_plan {
	struct ib_dhcp_write *w;	/* cap rows */
	size_t n;			/* rows planned */
	size_t cap;			/* rows it holds */
	uint32_t slot;			/* the slot being planned: stamped on its rows */
};

/*
 * The next row of pl for the slot being planned, zeroed but for op and
 * slot; NULL when pl is full (a family plans at most its writes_max rows
 * a slot, which the engine sizes the plan for).
 */
struct ib_dhcp_write *ib_dhcp_plan_add(struct ib_dhcp_plan *pl, enum ib_dhcp_write_op op);

/*
 * Runs the n rows of w in order on s, inside the caller's transaction,
 * setting each row's verdict.  A write failing otherwise than by its
 * op's verdict errno (a storage failure, a lost connection) stops the
 * run: that error is returned and the batch must roll back.  0 or -errno.
 */
int ib_dhcp_plan_run(struct ib_store *s, struct ib_dhcp_write *w, size_t n);

#endif
