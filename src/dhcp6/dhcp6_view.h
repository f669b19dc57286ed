/*
 * The DHCPv6 shell's view of bindings, as the policy reads it (struct
 * ib_lease6_view and struct ib_hold6_view of dhcp6_policy.h): the
 * ADVERTISE holds (dhcp6_holds.c) over the binding cache (dhcp6_leases.c,
 * the store's rows in memory: no row is read per request), and the pool
 * search (dhcp6_pool.c) from a next-fit cursor per subnet, placed at the
 * store's first gap at start, after a reload and when a search finds a
 * long run of bindings (one walk of the store's rows, in address order).
 * Never writes the store nor the cache (the shell does, after the
 * engine's group commit; the conditional commit re-checks every address).
 */
#ifndef IB_DHCP6_DHCP6_VIEW_H
#define IB_DHCP6_DHCP6_VIEW_H

#include <stdint.h>

#include "config/config.h"
#include "dhcp4/hold_ledger.h"
#include "dhcp6/dhcp6_holds.h"
#include "dhcp6/dhcp6_leases.h"
#include "dhcp6/dhcp6_policy.h"
#include "store/store.h"

struct ib_d6_view;

/* What a view reads, none of it owned. */
struct ib_d6_view_args {
	struct ib_store *store;		/* walked to place the cursors */
	struct ib_d6_holds *holds;	/* the ADVERTISE holds */
	struct ib_d6_leases *leases;	/* the binding cache */
	const int64_t *now;		/* the shell's clock, unix seconds */
};

/* Makes a view over a serving cfg; 0 or -ENOMEM. */
int ib_d6_view_new(const struct ib_d6_view_args *a, const struct ib_config *cfg,
		   struct ib_d6_view **ret);
void ib_d6_view_free(struct ib_d6_view *v);
/* Serves snapshot cfg from now on: the cursors placed afresh; 0 or -ENOMEM
 * (the view is unchanged). */
int ib_d6_view_configure(struct ib_d6_view *v, const struct ib_config *cfg);
/* Serves the snapshot before the last configure again, with its cursors
 * as they were; cannot fail.  Only right after a configure, while that
 * snapshot is still alive (a reload that a later part refused). */
void ib_d6_view_rollback(struct ib_d6_view *v);
/*
 * Load balancing: this daemon is number rank of n sharing the clients
 * (n < 2: none); new addresses come from its share (the low 32 bits
 * modulo n == rank) while that share has one.
 */
void ib_d6_view_share(struct ib_d6_view *v, uint32_t rank, uint32_t n);
/* The policy's views over v. */
void ib_d6_view_get(struct ib_d6_view *v, struct ib_lease6_view *ret_leases,
		    struct ib_hold6_view *ret_holds);
/* The ledger group of sn and source, where holds are filed. */
void ib_d6_group_of(const struct ib_subnet6 *sn, uint64_t source, struct ib_ledger_group *g);

#endif
