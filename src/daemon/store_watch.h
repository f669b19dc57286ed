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

#include "store/store.h"

#define STORE_WATCH_PERIOD_US 100000	/* how often the link is checked */
#define STORE_WATCH_REPEAT_SEC 30	/* "still down" at most this often */

struct ib_store_watch;

/* A watch on store (not owned) on base's loop; 0 or -ENOMEM. */
int ib_store_watch_new(struct event_base *base, struct ib_store *store,
		       struct ib_store_watch **ret);
/* Frees w (NULL accepted). */
void ib_store_watch_free(struct ib_store_watch *w);

/*
 * Whether the store's link is up now (checked again, not the timer's last
 * look).  When down: false, with why[cap] saying since when, why and the
 * next attempt, for /readyz and the log.
 */
bool ib_store_watch_why(struct ib_store *store, char *why, size_t cap);

#endif
