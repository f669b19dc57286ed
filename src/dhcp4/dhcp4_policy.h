/*
 * DHCPv4 policy: decides the answer to one parsed request.
 *
 * Pure: reads the config snapshot, the parsed message, the clock value it is
 * given and a read-only view of leases.  Decide, then commit, then lay out:
 * ib_dhcp4_decide() returns what to do; the shell applies it (holds the
 * offer, commits the lease) and only then has ib_dhcp4_lay_out() lay out
 * the reply of what was done (a binding the store refused is a NAK, by
 * ib_dhcp4_refuse()).  The same functions serve the daemon, the operator's
 * `explain` and the tests.
 */
#ifndef IB_DHCP4_POLICY_H
#define IB_DHCP4_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "dhcp4/dhcp4_codec.h"
#include "store/store.h"

/*
 * Percent of a subnet's pool that OFFERs to one relay or interface may hold
 * at once (issue #11): past it, a new client of that source takes over the
 * source's oldest OFFER, so one link or relay cannot hold the whole pool.
 */
#define IB_D4_HOLD_SHARE 50

/* Read-only access to lease state (store rows plus held offers). */
struct ib_lease_view {
	/* The client's current binding or held offer (any state). -ENOENT. */
	int (*find_client)(void *ctx, const struct ib_dhcp4_msg *m,
			   struct ib_lease4 *ret);
	/* Whether addr may be given to the client: free, expired, or its own. */
	bool (*is_free)(void *ctx, uint32_t addr, const struct ib_dhcp4_msg *m);
	/* A free address from the subnet's pools. -ENOSPC when exhausted. */
	int (*pick_free)(void *ctx, const struct ib_subnet4 *sn,
			 const struct ib_dhcp4_msg *m, uint32_t *ret);
	/* Live OFFER holds of pool addresses of sn taken through source
	 * (ib_ledger_source_*).  May be NULL: no holds are taken over. */
	size_t (*holds)(void *ctx, const struct ib_subnet4 *sn, uint64_t source);
	/* The oldest live OFFER hold of sn, of source or of any source when
	 * NULL.  -ENOENT.  May be NULL. */
	int (*oldest_hold)(void *ctx, const struct ib_subnet4 *sn, const uint64_t *source,
			   uint32_t *ret);
	/* Whether addr is held by a live OFFER to another client (and is not
	 * bound).  May be NULL. */
	bool (*offered_to_other)(void *ctx, uint32_t addr, const struct ib_dhcp4_msg *m);
	void *ctx;
};

enum ib_dhcp4_action {
	IB_D4_DROP,		/* stay silent */
	IB_D4_OFFER,		/* OFFER; hold the address */
	IB_D4_ACK,		/* ACK; commit the lease before sending */
	IB_D4_NAK,		/* NAK */
	IB_D4_INFORM,		/* ACK to INFORM; no lease */
	IB_D4_RELEASE,		/* end the binding; no reply */
	IB_D4_DECLINE,		/* quarantine the address; no reply */
	IB_D4_PROXY,		/* proxyDHCP answer (OFFER or ACK); no lease */
};

/* Where a reply goes (RFC 2131 4.1). */
enum ib_dhcp4_dest {
	IB_D4_TO_RELAY,		/* giaddr, server port */
	IB_D4_TO_CIADDR,	/* ciaddr, client port */
	IB_D4_TO_BROADCAST,	/* 255.255.255.255, client port, on the arrival link */
	IB_D4_TO_SOURCE,	/* back to the source address and port (4011) */
};

/* What the firmware asked for and what it gets (also for `explain`). */
enum ib_boot_client {
	IB_BOOT_NONE,		/* not a network-boot client */
	IB_BOOT_PXE,		/* firmware PXE (vendor class PXEClient / arch) */
	IB_BOOT_HTTP,		/* UEFI HTTP boot (vendor class HTTPClient) */
	IB_BOOT_IPXE,		/* iPXE (user class "iPXE" or option 175) */
};

/* Inputs besides the message. */
struct ib_dhcp4_input {
	const struct ib_config *cfg;	/* snapshot */
	const struct ib_dhcp4_msg *msg;	/* parsed request */
	uint32_t server_addr;		/* our address on the arrival link */
	uint32_t src_addr;		/* the datagram's source: a relayed
					 * request's relay, checked against
					 * dhcp4.relays and the subnet's relays */
	bool to_us;			/* unicast to server_addr (not broadcast) */
	bool proxy_port;		/* arrived on the PXE port 4011 */
	int ifindex;			/* arrival interface (0: unknown) */
	int64_t now;			/* unix seconds */
	const struct ib_lease_view *view;
};

/* The boot answer alone (shared by DHCP and `explain`). */
struct ib_boot_answer {
	enum ib_boot_client client;	/* what kind of client asked */
	uint16_t arch;			/* option 93, or 0xffff if absent */
	const char *file;		/* boot file or URL; NULL = none */
	const char *why;		/* static text: which rule chose it */
};

/* How an OFFER got its address when it took another client's (issue #11). */
enum ib_d4_take {
	IB_D4_TAKE_NONE,	/* a free, own, requested or reserved address */
	IB_D4_TAKE_CAP,		/* its source's oldest OFFER: the source is at its share */
	IB_D4_TAKE_SHORT,	/* the subnet's oldest OFFER: no free address */
};

/* A decision: what to do and the reply to send. */
struct ib_dhcp4_decision {
	enum ib_dhcp4_action action;
	const char *reason;		/* static text for the journal */
	const struct ib_subnet4 *subnet; /* chosen subnet, or NULL */
	const struct ib_reservation4 *resv; /* matched reservation, or NULL */
	uint32_t address;		/* offered/acked/released address */
	uint32_t lease_time;		/* seconds, for ACK */
	struct ib_boot_answer boot;	/* boot file or URL handed out */
	enum ib_dhcp4_dest dest;	/* where the reply goes */
	bool forget_offer;		/* our OFFER to the client is over */
	enum ib_d4_take take;		/* an OFFER that took over another's hold */
	bool exhausted;			/* a DISCOVER left unanswered: no free
					 * address and no OFFER to take over */
	bool superseded;		/* an ACK of an address offered to another */
	bool relay_refused;		/* relayed (giaddr) from a source neither
					 * dhcp4.relays nor its subnet's relays
					 * list: dropped before anything is learnt */
	uint32_t server_id;		/* our server identifier for this request
					 * (option 54 of the reply): the arrival
					 * address, or the relay's RFC 5107
					 * override */
	uint64_t source;		/* relay or interface the request came
					 * through (ib_ledger_source_*), where
					 * an OFFER's hold is filed */
	size_t max_len;			/* client's maximum datagram */
	uint8_t reply_type;		/* DHCP message type of the reply; 0: none */
	struct ib_dhcp4_out reply;	/* laid out by ib_dhcp4_lay_out() */
};

/*
 * Decides the answer to in->msg into *ret, all but the reply's layout.
 * Always fills *ret; returns 0.
 */
int ib_dhcp4_decide(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *ret);

/*
 * The store refused the binding of ACK decision d (another server or
 * client won the address): d becomes a NAK saying reason (static text).
 */
void ib_dhcp4_refuse(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d,
		     const char *reason);

/*
 * The store cannot take ACK decision d's binding (its database is down),
 * but the client already holds d->address until expires (> now), stored:
 * d stays an ACK for what is left of that lease, which needs no new row.
 */
void ib_dhcp4_keep_until(struct ib_dhcp4_decision *d, int64_t now, int64_t expires);

/*
 * Lays out the reply of decision d (decided from in) into d->reply: an
 * OFFER, ACK, NAK, INFORM's ACK or proxy answer; nothing for the other
 * actions.  0, or -ENOBUFS when the options do not fit (nothing to send).
 */
int ib_dhcp4_lay_out(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d);

/* The boot answer for a message (and an optional reservation). */
void ib_boot_decide(const struct ib_config *cfg, const struct ib_dhcp4_msg *m,
		    const struct ib_reservation4 *resv, struct ib_boot_answer *ret);

/* Short names for logs and the journal. */
const char *ib_dhcp4_type_str(uint8_t type);
const char *ib_boot_client_str(enum ib_boot_client c);

/* The holds one source may keep in sn: IB_D4_HOLD_SHARE percent of its
 * pool addresses, at least 1. */
size_t ib_dhcp4_hold_cap(const struct ib_subnet4 *sn);

/* Finds the reservation of the message's client in sn, or NULL. */
const struct ib_reservation4 *ib_dhcp4_find_reservation(const struct ib_subnet4 *sn,
							 const struct ib_dhcp4_msg *m);
/* The subnet a request belongs to (relay, link selection, or arrival link).
 * A relay's word (giaddr, RFC 3527 link selection, RFC 3011 subnet
 * selection) is taken as given: ib_dhcp4_decide() checks the relay first. */
const struct ib_subnet4 *ib_dhcp4_select_subnet(const struct ib_config *cfg,
						const struct ib_dhcp4_msg *m,
						uint32_t server_addr);

#endif
