/*
 * The other daemons on a shared store: see peers.h.
 */
#include "daemon/peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dhcp/dhcp_committer.h"
#include "store/store_listen.h"

#define RESYNC_RETRY_MS 500	/* a resync the store could not serve, again */

struct ib_peers {
	struct ib_peers_targets t;	/* what follows */
	struct ib_store *store;		/* not owned */
	struct ib_store_listener *listener;	/* or NULL: SQLite, the only daemon */
	struct event *retry;		/* a resync that failed, tried again */
	bool resync_logged;		/* its failure said, until it succeeds */
};

/* Tells every housekeeper whether it leads. */
static void set_leader(struct ib_peers *p, bool leader)
{
	if (p->t.dhcp4)
		ib_dhcp4_server_set_leader(p->t.dhcp4, leader);
	if (p->t.dhcp6)
		ib_dhcp6_server_set_leader(p->t.dhcp6, leader);
	ib_services_set_leader(p->t.services, leader);
	ib_powerctl_set_leader(p->t.power, leader);
}

static void on_leader(void *ctx, bool leader)
{
	set_leader(ctx, leader);
}

/*
 * Reloads every cache from the store.  While the store cannot be read (its
 * own connection is down, store_pg_conn.c) it is tried again every
 * RESYNC_RETRY_MS: a cache emptied by a failed load stays empty only
 * until the store is back (the store meanwhile refuses taken addresses).
 */
static void resync(struct ib_peers *p)
{
	static const struct timeval retry_tv = { 0, RESYNC_RETRY_MS * 1000 };
	struct ib_store_link link;
	int r = 0;

	ib_store_link_check(p->store, &link);
	if (!link.up)
		r = -EIO;
	if (r == 0 && p->t.dhcp4)
		r = ib_dhcp4_server_resync(p->t.dhcp4);
	if (r == 0 && p->t.dhcp6)
		r = ib_dhcp6_server_resync(p->t.dhcp6);
	if (r == 0) {
		p->t.inventory(p->t.ctx);
		if (p->resync_logged)
			ib_notice("store: caches reloaded from the store");
		p->resync_logged = false;
		return;
	}
	if (!p->resync_logged)
		ib_warn("store: cannot reload the caches (%s); trying again every %d ms",
			link.up ? strerror(-r) : "the store is down", RESYNC_RETRY_MS);
	p->resync_logged = true;
	evtimer_add(p->retry, &retry_tv);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	resync(arg);
}

static void on_change(void *ctx, const struct ib_store_change *c)
{
	struct ib_peers *p = ctx;
	int r = 0;

	if (evtimer_pending(p->retry, NULL))
		return;		/* a reload is due: it reads this row too */
	switch (c->topic) {
	case IB_STORE_TOPIC_LEASE4:
		if (p->t.dhcp4)
			r = ib_dhcp4_server_follow(p->t.dhcp4, c->addr4);
		break;
	case IB_STORE_TOPIC_LEASE6:
		if (p->t.dhcp6)
			r = ib_dhcp6_server_follow(p->t.dhcp6, c->addr6);
		break;
	case IB_STORE_TOPIC_INVENTORY:
		p->t.inventory(p->t.ctx);
		break;
	case IB_STORE_TOPIC_MACHINE:
		break;		/* lifecycle rows are read per request: nothing cached */
	}
	if (r < 0)
		resync(p);	/* the row could not be read: reload all, now or soon */
}

static void on_resync(void *ctx)
{
	resync(ctx);
}

/* The DHCP committer's connection: its lease writes are this daemon's. */
static int also_own(void *ctx)
{
	struct ib_peers *p = ctx;
	struct ib_store_link link;

	if (!p->t.committer)
		return 0;
	ib_dhcp_committer_link(p->t.committer, &link);
	return link.up ? link.session : 0;
}

int ib_peers_new(struct event_base *base, struct ib_store *s,
		 const struct ib_peers_targets *t, struct ib_peers **ret)
{
	struct ib_peers *p = calloc(1, sizeof(*p));
	struct ib_store_listen_hooks h = { on_change, on_resync, on_leader, also_own, p };
	int r;

	if (!p)
		return -ENOMEM;
	p->t = *t;
	p->store = s;
	if (!(p->retry = evtimer_new(base, on_retry, p))) {
		free(p);
		return -ENOMEM;
	}
	r = ib_store_listen_new(base, s, &h, &p->listener);
	if (r == -EOPNOTSUPP) {
		p->listener = NULL;	/* the only daemon: it leads */
	} else if (r < 0) {
		ib_peers_free(p);
		return r;
	} else {
		set_leader(p, false);	/* until the lock is ours */
		if (p->t.dhcp4)
			ib_dhcp4_server_shared(p->t.dhcp4);
		ib_info("store: following other daemons' writes; housekeeping waits for the "
			"leader lock");
	}
	*ret = p;
	return 0;
}

void ib_peers_free(struct ib_peers *p)
{
	if (!p)
		return;
	ib_store_listen_free(p->listener);
	if (p->retry)
		event_free(p->retry);
	free(p);
}

void ib_peers_metrics(const struct ib_peers *p, struct ib_mx *m)
{
	struct ib_store_listen_state st = { .leader = true };

	if (p->listener)
		ib_store_listen_status(p->listener, &st);
	ib_mx_one(m, "ironboot_store_leader", "gauge", "1 when this daemon runs the "
		  "store's housekeeping (retention, reclaim, power polling); always 1 on SQLite",
		  st.leader);
	if (!p->listener)
		return;
	ib_mx_one(m, "ironboot_store_listener_connected", "gauge", "1 while the store listener "
		  "listens for other daemons' writes", st.connected);
	ib_mx_one(m, "ironboot_store_listener_changes_total", "counter", "rows other writers "
		  "changed, read again into the caches", st.changes);
	ib_mx_one(m, "ironboot_store_listener_reconnects_total", "counter", "store listener "
		  "connections made again after a loss", st.reconnects);
	ib_mx_one(m, "ironboot_store_listener_resyncs_total", "counter", "caches reloaded "
		  "because notifications may have been missed", st.resyncs);
}

void ib_peers_ready(const struct ib_peers *p, json_t *checks)
{
	struct ib_store_listen_state st;

	if (!p->listener)
		return;
	ib_store_listen_status(p->listener, &st);
	json_object_set_new(checks, "store_listener", json_string(st.connected ? "ok" :
			    "reconnecting: other daemons' writes reach the caches after it"));
	json_object_set_new(checks, "leader", json_string(st.leader ? "yes" : "no"));
}
