/*
 * The DHCPv6 shell: one UDP socket on [::]:547 joined to
 * All_DHCP_Relay_Agents_and_Servers (ff02::1:2) on the served interfaces,
 * with IPV6_PKTINFO so every reply leaves on the link its request came
 * from.  The bindings of one wake-up are written to the store in one
 * transaction, and their REPLYs leave only after it is durable.  The
 * server DUID is made once and kept in the store.
 */
#ifndef IB_DHCP6_DHCP6_SERVER_H
#define IB_DHCP6_DHCP6_SERVER_H

#include <event2/event.h>

#include "config/config.h"
#include "dhcp/dhcp_engine.h"
#include "dhcp6/dhcp6_codec.h"
#include "journal/journal.h"
#include "store/store.h"

#define IB_DHCP6_STATS_TYPES 14	/* messages counted by type 1..13; 0: others */

/* Counters, for GET /metrics: plain integers of the loop's thread, bumped
 * on the packet path without locks. */
struct ib_dhcp6_stats {
	uint64_t requests[IB_DHCP6_STATS_TYPES]; /* parsed, by (innermost) message type */
	uint64_t replies[IB_DHCP6_STATS_TYPES];	/* laid out for sending, by type */
	uint64_t rejected[IB_DHCP6_REJ__MAX];	/* malformed, by reason */
	uint64_t not_served;			/* from an interface not served */
	uint64_t ignored;			/* the policy chose silence */
	uint64_t relay_refused;			/* of those: RELAY-FORW from a relay not
						 * listed (counted in ignored too) */
	uint64_t not_sent;			/* replies the kernel refused */
	uint64_t kept_while_down;		/* REPLYs of held bindings for the rest of
						 * their stored leases, the store down */
	uint64_t rx_overflow;			/* dropped by the kernel before they were
						 * read: the receive buffer was full */
	struct ib_dhcp_share_stats share;	/* load balancing */
};

struct ib_dhcp6_server;

/*
 * Binds and starts serving cfg->dhcp6 on base.  cfg must stay valid until
 * the next reconfigure or free; store and journal are not owned.  Returns
 * 0 and *ret, or a negative errno (logged once, naming what failed).
 */
int ib_dhcp6_server_new(struct event_base *base, const struct ib_config *cfg,
			struct ib_store *store, struct ib_journal *journal,
			struct ib_dhcp6_server **ret);

struct ib_dhcp_committer;

/*
 * Commits the server's batches on c's thread and connection from now on
 * (src/dhcp/dhcp_committer.h; not owned, it outlives s).
 */
void ib_dhcp6_server_commit_on(struct ib_dhcp6_server *s, struct ib_dhcp_committer *c);
/*
 * Switches to a new snapshot; the port needs a restart (warned).  0, or a
 * negative errno with nothing changed (-ENODEV: none of its interfaces
 * exists; -ENOMEM).  The snapshot before stays in use until it returns 0.
 */
int ib_dhcp6_server_reconfigure(struct ib_dhcp6_server *s, const struct ib_config *cfg);
/*
 * Serves the snapshot before the last successful reconfigure again, with
 * its interfaces, counters and cursors as they were (nothing looked up or
 * allocated, so it cannot fail): for a reload a later part refused, while
 * that snapshot is still alive.
 */
void ib_dhcp6_server_rollback(struct ib_dhcp6_server *s);

/*
 * An operator ends the active binding of addr now (`ironboot leases
 * release` through the API): the store first, then the server's cache, so
 * the address is free for the next client at once and its holder's RENEW
 * meets NoBinding; journalled under the client as "lease-release-operator".
 * 0 with the binding as released in *ret; -ENOENT if addr
 * has no active binding; else -errno from the store.
 */
int ib_dhcp6_server_release(struct ib_dhcp6_server *s, const uint8_t addr[16],
			    struct ib_lease6 *ret);
/*
 * The rows of pool i of cfg (its subnets' pools in order) from the
 * binding cache, kept exact on every commit, release and reclaim: no
 * store read.  false when the server runs another snapshot than cfg.
 */
bool ib_dhcp6_server_pool_counts(const struct ib_dhcp6_server *s, const struct ib_config *cfg,
				 size_t i, struct ib_lease_count *ret);
/* The server's counters. */
const struct ib_dhcp6_stats *ib_dhcp6_server_stats(const struct ib_dhcp6_server *s);

/*
 * Another daemon sharing the store wrote addr's row (store_listen.h): the
 * cache files the row as the store holds it now, or forgets the address.
 * 0, or the store's -errno (forgotten: the caller resyncs later).
 */
int ib_dhcp6_server_follow(struct ib_dhcp6_server *s, const uint8_t addr[16]);
/* Notifications may have been missed: the cache is reloaded from the
 * store.  0, or -errno (the cache is then empty; the caller tries again). */
int ib_dhcp6_server_resync(struct ib_dhcp6_server *s);
/* Whether this daemon reclaims expired leases (the leader does; a new
 * server does until told otherwise). */
void ib_dhcp6_server_set_leader(struct ib_dhcp6_server *s, bool leader);

/* Closes the socket and frees s; accepts NULL. */
void ib_dhcp6_server_free(struct ib_dhcp6_server *s);

#endif
