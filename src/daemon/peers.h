/*
 * The other daemons on a shared store (issue #16 phase 2,
 * docs/SCALE-OUT.md): their writes reach this daemon's caches, and one
 * daemon at a time, the leader, does the store's housekeeping.
 *
 * On PostgreSQL a store listener (store/store_listen.h) hands over every row
 * another writer committed: a DHCPv4 or DHCPv6 lease is read again into
 * its family's cache, an inventory write reloads the inventory snapshot
 * (lifecycle rows are read from the store on every request: no cache to
 * follow).  After each (re)connect of the listener every cache is reloaded.
 * The listener's session lock names the leader: only it runs journal
 * retention, lease reclaim, the lifecycle's timeouts and power polling;
 * the others run them once they take the lock (the leader died or lost
 * its connection).  On SQLite there is one daemon: always the leader.
 */
#ifndef IB_DAEMON_PEERS_H
#define IB_DAEMON_PEERS_H

#include <stdbool.h>

#include <event2/event.h>
#include <jansson.h>

#include "common/metrics.h"
#include "daemon/power_ctl.h"
#include "daemon/services.h"
#include "dhcp/dhcp_committer.h"
#include "dhcp4/dhcp4_server.h"
#include "dhcp6/dhcp6_server.h"
#include "store/store.h"

/* What follows the peers' writes and who leads; none owned.  A NULL
 * server is one that does not run. */
struct ib_peers_targets {
	struct ib_dhcp4_server *dhcp4;	/* or NULL */
	struct ib_dhcp6_server *dhcp6;	/* or NULL */
	struct ib_services *services;	/* retention, lifecycle timeouts */
	struct ib_powerctl *power;	/* power polling */
	void (*inventory)(void *ctx);	/* reloads the inventory from the store */
	void *ctx;			/* inventory's argument */
	struct ib_dhcp_committer *committer; /* the DHCP commit thread, or NULL */
};

struct ib_peers;

/*
 * Starts following the peers of store s: on PostgreSQL the targets are
 * followers (no housekeeping) until the listener takes the leader lock; on
 * SQLite they stay leaders and nothing is listened to.  0 or -ENOMEM.
 */
int ib_peers_new(struct event_base *base, struct ib_store *s,
		 const struct ib_peers_targets *t, struct ib_peers **ret);
/* Stops (a leader's lock goes with its connection); accepts NULL. */
void ib_peers_free(struct ib_peers *p);
/* Writes ironboot_store_leader and the listener's counters to m. */
void ib_peers_metrics(const struct ib_peers *p, struct ib_mx *m);
/* Adds "store_listener" (and "leader") to GET /readyz's checks.  A lost listener
 * does not fail readiness: the daemon still serves, arbitrated by the store. */
void ib_peers_ready(const struct ib_peers *p, json_t *checks);

#endif
