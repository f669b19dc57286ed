/*
 * The DHCPv6 shell's state, shared by its two files: dhcp6_server.c (the
 * socket, the engine's callbacks, setup and reload) and dhcp6_server_ops.c
 * (what others ask of a running server: an operator's release, another
 * daemon's write, the pools' counts).  Internal to src/dhcp6.
 */
#ifndef IB_DHCP6_DHCP6_SERVER_INT_H
#define IB_DHCP6_DHCP6_SERVER_INT_H

#include <net/if.h>

#include "dhcp/dhcp_engine.h"
#include "dhcp/dhcp_ifaces.h"
#include "dhcp/dhcp_shortage.h"
#include "dhcp6/dhcp6_holds.h"
#include "dhcp6/dhcp6_leases.h"
#include "dhcp6/dhcp6_policy.h"
#include "dhcp6/dhcp6_server.h"
#include "dhcp6/dhcp6_view.h"

#define MAX_IFACES 64

struct ib_dhcp6_server {
	struct event_base *base;	/* not owned */
	const struct ib_config *cfg;	/* current snapshot, not owned */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	int fd;				/* [::]:547 */
	struct ib_dhcp_engine *eng;	/* batches, commits, sends, timers */
	struct ib_dhcp_ifaces served;	/* interfaces served; none = all */
	const struct ib_config *prev_cfg;	/* the snapshot before the last reconfigure */
	struct ib_dhcp_ifaces prev_served;	/* and its interfaces, for a rollback */
	uint8_t duid[IB_DUID_MAX];	/* server DUID */
	size_t duid_len;
	struct ib_d6_holds *holds;	/* addresses advertised, until REQUEST */
	struct ib_d6_leases *leases;	/* the bindings, as the store made them durable */
	bool follower;			/* another daemon reclaims (leader.c) */
	struct ib_dhcp_shortage *subnets;	/* one per subnet of cfg */
	struct ib_dhcp_shortage *prev_subnets;	/* of prev_cfg, kept for a rollback */
	int64_t now;			/* unix seconds, per wake-up (the engine sets it) */
	uint8_t *rx;			/* RX_ARENA: bytes of the batch's requests */
	size_t rx_used;			/* taken by the batch */
	struct ib_dhcp6_stats stats;	/* counters (GET /metrics) */
	int64_t relay_log_at;		/* the next refused relay is logged from then */
	struct ib_d6_view *bview;	/* bindings: holds over leases (dhcp6_view.c) */
	struct ib_lease6_view view;	/* the policy's view over bview */
	struct ib_hold6_view hold_view;	/* and of the holds it may take over */
	/*
	 * Per interface, by index modulo MAX_IFACES: its name and our address
	 * on it for URLs (if_indextoname() and getifaddrs() per datagram would
	 * cost a storm several syscalls each).
	 */
	struct iface_cache {
		int ifindex;		/* 0 = empty */
		char name[IF_NAMESIZE];	/* its name */
		int64_t addr_at;	/* when addr was looked up, unix seconds */
		uint8_t addr[16];	/* its address for URLs, or :: */
	} ifaces[MAX_IFACES];
};

#endif
