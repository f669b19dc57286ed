/*
 * The DHCPv4 shell's state, shared by its two files: dhcp4_server.c (the
 * sockets, the engine's callbacks, setup and reload) and
 * dhcp4_server_ops.c (what others ask of a running server: an operator's
 * release, another daemon's write, the pools' counts).  Internal to
 * src/dhcp4.
 */
#ifndef IB_DHCP4_DHCP4_SERVER_INT_H
#define IB_DHCP4_DHCP4_SERVER_INT_H

#include "dhcp/dhcp_engine.h"
#include "dhcp/dhcp_ifaces.h"
#include "dhcp/dhcp_shortage.h"
#include "dhcp4/dhcp4_leases.h"
#include "dhcp4/dhcp4_policy.h"
#include "dhcp4/dhcp4_server.h"

/* One subnet's shortage (issue #11), logged at most every 10 s. */
struct pool_note {
	uint32_t network;		/* the subnet */
	uint32_t mask;
	struct ib_dhcp_shortage sh;	/* its counts */
};

struct ib_dhcp4_server {
	struct event_base *base;	/* not owned */
	const struct ib_config *cfg;	/* current snapshot, not owned */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	struct ib_d4_leases *leases;	/* the cache */
	struct ib_lease_view view;	/* policy's view of the cache */
	int64_t now;			/* unix seconds, set per wake-up by the engine */
	int fd;				/* server port socket */
	int fd_proxy;			/* 4011 socket, or -1 */
	struct ib_dhcp_engine *eng;	/* batches, commits, sends, timers */
	struct ib_dhcp_ifaces served;	/* interfaces served; none = all */
	const struct ib_config *prev_cfg;	/* the snapshot before the last reconfigure */
	struct ib_dhcp_ifaces prev_served;	/* and its interfaces, for a rollback */
	uint8_t rbuf[IB_DHCP4_MAX_LEN + 1]; /* receive buffer (+1 detects oversize) */
	struct ib_dhcp4_stats stats;
	bool reject_logged[IB_DHCP4_REJ__MAX];
	int64_t relay_log_at;		/* the next refused relay is logged from then */
	struct pool_note *pools;	/* per subnet with a shortage */
	size_t n_pools;
	bool follower;			/* another daemon reclaims (leader.c) */
};

#endif
