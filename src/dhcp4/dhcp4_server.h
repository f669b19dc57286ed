/*
 * The DHCPv4 shell: sockets on the event loop, the lease cache, group
 * commit, the journal.  Receives, asks the policy, applies and sends.
 */
#ifndef IB_DHCP4_SERVER_H
#define IB_DHCP4_SERVER_H

#include <event2/event.h>
#include <stdint.h>

#include "config/config.h"
#include "dhcp/dhcp_engine.h"
#include "dhcp4/dhcp4_codec.h"
#include "journal/journal.h"
#include "store/store.h"

#define IB_DHCP4_STATS_TYPES 9	/* requests counted by type 1..8; 0: others */

/* Counters, for logs and GET /metrics: plain integers of the loop's
 * thread, bumped on the packet path without locks. */
struct ib_dhcp4_stats {
	uint64_t received;			/* datagrams read */
	uint64_t rx_overflow;			/* dropped by the kernel before they were
						 * read: the receive buffer was full */
	struct ib_dhcp_share_stats share;	/* load balancing */
	uint64_t requests[IB_DHCP4_STATS_TYPES]; /* parsed, by message type (option 53) */
	uint64_t not_served;			/* from an interface not served */
	uint64_t rejected[IB_DHCP4_REJ__MAX];	/* malformed, by reason */
	uint64_t ignored;			/* policy chose silence */
	uint64_t relay_refused;			/* of those: relayed (giaddr) from a
						 * source no relays list names */
	uint32_t relay_refused_from;		/* the last such source (host order) */
	uint64_t offers, acks, naks, informs, proxies; /* replies sent */
	uint64_t releases, declines;		/* bindings ended */
	uint64_t send_errors;			/* sendmsg failures */
	uint64_t commit_batches;		/* group commits */
	uint64_t commit_errors;			/* failed transactions */
	uint64_t kept_while_down;		/* ACKs of a held binding for the rest of
						 * its stored lease, the store down */
};

struct ib_dhcp4_server;

/*
 * Binds the server port (and 4011 in proxy mode) and starts serving cfg.
 * store and journal are not owned and must outlive the server.
 */
int ib_dhcp4_server_new(struct event_base *base, const struct ib_config *cfg,
			struct ib_store *store, struct ib_journal *journal,
			struct ib_dhcp4_server **ret);
struct ib_dhcp_committer;

/*
 * Commits the server's batches on c's thread and connection from now on
 * (src/dhcp/dhcp_committer.h; not owned, it outlives s).
 */
void ib_dhcp4_server_commit_on(struct ib_dhcp4_server *s, struct ib_dhcp_committer *c);
/*
 * Serves a new snapshot from now on (SIGHUP); sockets are kept.  0, or a
 * negative errno with nothing changed (-ENODEV: none of its interfaces
 * exists).  The snapshot before stays in use until the call returns 0.
 */
int ib_dhcp4_server_reconfigure(struct ib_dhcp4_server *s, const struct ib_config *cfg);
/*
 * Serves the snapshot before the last successful reconfigure again, with
 * the interfaces it had (not looked up again, so it cannot fail): for a
 * reload a later part refused, while that snapshot is still alive.
 */
void ib_dhcp4_server_rollback(struct ib_dhcp4_server *s);
void ib_dhcp4_server_free(struct ib_dhcp4_server *s);
/*
 * An operator ends the active lease of addr now (`ironboot leases release`
 * through the API): the store first, then the server's cache, so the
 * address is free for the next client at once; journalled under the
 * client as "lease-release-operator".  0 with the lease as released in
 * *ret (may be NULL); -ENOENT if addr has no active lease; else -errno
 * from the store.
 */
int ib_dhcp4_server_release(struct ib_dhcp4_server *s, uint32_t addr,
			    struct ib_lease4 *ret);
/*
 * The bindings of pool i of cfg (its subnets' pools in order) from the
 * lease cache, kept exact on every commit, release and reclaim: no store
 * read.  false when the server runs another snapshot than cfg (the
 * caller counts in the store then).
 */
bool ib_dhcp4_server_pool_counts(const struct ib_dhcp4_server *s, const struct ib_config *cfg,
				 size_t i, struct ib_lease_count *ret);
const struct ib_dhcp4_stats *ib_dhcp4_server_stats(const struct ib_dhcp4_server *s);

/*
 * Another daemon sharing the store wrote addr's row (store_listen.h): the
 * cache reads it again (ib_d4_leases_follow()).  0, or the store's -errno
 * (the address is then forgotten: the caller resyncs later).
 */
int ib_dhcp4_server_follow(struct ib_dhcp4_server *s, uint32_t addr);
/* Notifications may have been missed: the cache is reloaded from the
 * store (OFFER holds are dropped with it).  0, or -errno: the cache is
 * then empty (offers are made blind, the store refuses taken addresses)
 * and the caller tries again. */
int ib_dhcp4_server_resync(struct ib_dhcp4_server *s);
/* Whether this daemon reclaims expired leases (the leader does; a new
 * server does until told otherwise). */
void ib_dhcp4_server_set_leader(struct ib_dhcp4_server *s, bool leader);
/* Other daemons serve the same pools from the same store: offers start
 * at a random place of each pool (ib_d4_leases_scatter()). */
void ib_dhcp4_server_shared(struct ib_dhcp4_server *s);

#endif
