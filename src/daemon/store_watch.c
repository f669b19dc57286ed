/*
 * The daemon's watch on its store's link (store_watch.h).
 */
#include "daemon/store_watch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"

struct ib_store_watch {
	struct ib_store *store;		/* watched, not owned */
	struct ib_dhcp_committer *committer; /* watched too, not owned; or NULL */
	struct event *timer;		/* every STORE_WATCH_PERIOD_US */
	bool down;			/* as the last look saw it */
	int64_t said_us;		/* when the log last said it is down */
};

/* The reason a down link gives, with since when and the next attempt. */
static void describe(const struct ib_store_link *l, int64_t now, char *why, size_t cap)
{
	int64_t next_ms = l->next_try_us > now ? (l->next_try_us - now) / 1000 : 0;

	snprintf(why, cap, "database unreachable for %" PRId64 " s (%s); reconnecting, "
		 "%" PRIu64 " attempts so far, next in %" PRId64 " ms",
		 (now - l->down_since_us) / 1000000, l->reason, l->attempts, next_ms);
}

void ib_store_watch_link(struct ib_store *store, struct ib_dhcp_committer *c,
			 struct ib_store_link *ret)
{
	struct ib_store_link t;

	ib_store_link_check(store, ret);
	if (!c)
		return;
	ib_dhcp_committer_link(c, &t);
	if (ret->up && !t.up) {
		uint64_t losses = ret->losses, reconnects = ret->reconnects;

		*ret = t;
		snprintf(ret->reason, sizeof(ret->reason), "DHCP commit connection: %.150s",
			 t.reason);
		ret->losses = losses;
		ret->reconnects = reconnects;
	}
}

bool ib_store_watch_why(struct ib_store *store, struct ib_dhcp_committer *c, char *why,
			size_t cap)
{
	struct ib_store_link l;

	ib_store_watch_link(store, c, &l);
	if (!l.up)
		describe(&l, ib_now_us(), why, cap);
	return l.up;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ib_store_watch *w = arg;
	struct ib_store_link l;
	int64_t now = ib_now_us();
	char why[400];

	ib_store_watch_link(w->store, w->committer, &l);
	if (l.up && w->down) {
		ib_notice("store: reconnected to the database (connection %" PRIu64
			  " made again); serving new leases again", l.reconnects);
		w->down = false;
		return;
	}
	if (l.up)
		return;
	if (!w->down || now - w->said_us >= STORE_WATCH_REPEAT_SEC * 1000000LL) {
		describe(&l, now, why, sizeof(why));
		ib_err("store: %s; no new lease is acknowledged until it is back", why);
		w->said_us = now;
	}
	w->down = true;
}

int ib_store_watch_new(struct event_base *base, struct ib_store *store,
		       struct ib_dhcp_committer *c, struct ib_store_watch **ret)
{
	struct ib_store_watch *w = calloc(1, sizeof(*w));
	struct timeval tv = { 0, STORE_WATCH_PERIOD_US };

	if (!w)
		return -ENOMEM;
	w->store = store;
	w->committer = c;
	w->timer = event_new(base, -1, EV_PERSIST, on_tick, w);
	if (!w->timer || event_add(w->timer, &tv) < 0) {
		ib_store_watch_free(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

void ib_store_watch_free(struct ib_store_watch *w)
{
	if (!w)
		return;
	if (w->timer)
		event_free(w->timer);
	free(w);
}
