/*
 * The DHCPv6 shell's view of bindings, as the policy reads it (struct
 * ib_lease6_view and struct ib_hold6_view of dhcp6_policy.h): the
 * ADVERTISE holds (dhcp6_holds.c) over the store's rows, and the pool
 * search (dhcp6_pool.c) from a next-fit cursor per subnet, placed at the
 * store's first gap at start, after a reload and when a search finds a
 * long run of bindings.  Reads the store; never writes it (the engine's
 * group commit does, and the conditional commit re-checks every address).
 */
#ifndef IB_DHCP6_DHCP6_VIEW_H
#define IB_DHCP6_DHCP6_VIEW_H

#include <stdint.h>

#include "config/config.h"
#include "dhcp4/hold_ledger.h"
#include "dhcp6/dhcp6_holds.h"
#include "dhcp6/dhcp6_policy.h"
#include "store/store.h"

struct ib_d6_view;

/*
 * Makes a view over store and holds (neither owned) at the clock *now
 * (unix seconds, the shell's), serving cfg; 0 or -ENOMEM.
 */
int ib_d6_view_new(struct ib_store *store, struct ib_d6_holds *holds, const int64_t *now,
		   const struct ib_config *cfg, struct ib_d6_view **ret);
void ib_d6_view_free(struct ib_d6_view *v);
/* Serves snapshot cfg from now on: the cursors placed afresh; 0 or -ENOMEM
 * (the view is unchanged). */
int ib_d6_view_configure(struct ib_d6_view *v, const struct ib_config *cfg);
/* Serves the snapshot before the last configure again, with its cursors
 * as they were; cannot fail.  Only right after a configure, while that
 * snapshot is still alive (a reload that a later part refused). */
void ib_d6_view_rollback(struct ib_d6_view *v);
/* Forgets the store row last read (rows may have changed). */
void ib_d6_view_forget(struct ib_d6_view *v);
/* The policy's views over v. */
void ib_d6_view_get(struct ib_d6_view *v, struct ib_lease6_view *ret_leases,
		    struct ib_hold6_view *ret_holds);
/* The ledger group of sn and source, where holds are filed. */
void ib_d6_group_of(const struct ib_subnet6 *sn, uint64_t source, struct ib_ledger_group *g);

#endif
