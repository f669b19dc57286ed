/*
 * The daemon's watch on its store's link to the database server (issue
 * #16): a timer asks the store how its connection is
 * (ib_store_link_check, which also makes a due reconnect attempt without
 * waiting), and the log says when it is lost, while it stays lost (once
 * every STORE_WATCH_REPEAT_SEC seconds, not per failed request) and when
 * it is back.  /readyz reads the same state (ib_store_watch_why).  An
 * embedded store is always up: the watch then says nothing.
 */
#ifndef IB_DAEMON_STORE_WATCH_H
#define IB_DAEMON_STORE_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "dhcp/dhcp_committer.h"
#include "store/store.h"

#define STORE_WATCH_PERIOD_US 100000	/* how often the link is checked */
#define STORE_WATCH_REPEAT_SEC 30	/* "still down" at most this often */

struct ib_store_watch;

/* A watch on store and on the DHCP committer's connection c (NULL:
 * none), not owned, on base's loop; 0 or -ENOMEM. */
int ib_store_watch_new(struct event_base *base, struct ib_store *store,
		       struct ib_dhcp_committer *c, struct ib_store_watch **ret);
/*
 * The daemon's link to its database into *ret: store's (a due reconnect
 * attempt made), and while it is up, the committer's c (NULL: none) as
 * its thread last saw it, its reason prefixed: down when either is.
 * Losses and reconnects are the store connection's (the committer's
 * follows it: one server).
 */
void ib_store_watch_link(struct ib_store *store, struct ib_dhcp_committer *c,
			 struct ib_store_link *ret);
/* Frees w (NULL accepted). */
void ib_store_watch_free(struct ib_store_watch *w);

/*
 * Whether the store's link is up now (checked again, not the timer's last
 * look).  When down: false, with why[cap] saying since when, why and the
 * next attempt, for /readyz and the log.
 */
bool ib_store_watch_why(struct ib_store *store, struct ib_dhcp_committer *c, char *why,
			size_t cap);

#endif
