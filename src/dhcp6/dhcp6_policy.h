/*
 * DHCPv6 policy (RFC 8415 18.3, RFC 5970): decides the answer to one
 * parsed message.
 *
 * Pure: reads the config snapshot, the parsed message (with its relay
 * chain), the arrival facts the shell gives, the clock value and a
 * read-only view of bindings; returns a decision.  The shell applies it
 * (holds an advertised address, commits a binding, releases) and then
 * lays out the reply with ib_dhcp6_reply_build().
 *
 * Identity: a client is its DUID and IAID; the machine behind it is its
 * MAC when one can be learnt: from a DUID-LL/LLT with Ethernet hardware,
 * else from the client link-layer address option 79 (RFC 6939) of the
 * innermost relay, else from an EUI-64 link-local source address.  Firmware,
 * iPXE and the OS use different DUIDs (DUID-UUID among them); the MAC is
 * what ties them into one timeline and lets a MAC reservation hold.
 */
#ifndef IB_DHCP6_POLICY_H
#define IB_DHCP6_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "dhcp6/dhcp6_codec.h"
#include "store/store.h"

#define IB_DHCP6_URL_MAX 512		/* bytes of a bootfile-url, NUL included */
/*
 * Percent of a subnet's pool that ADVERTISEs to one relay or interface may
 * hold at once (issue #11): past it, a new IA of that source takes over
 * the source's oldest ADVERTISE hold, so one link or relay cannot hold the
 * whole pool.
 */
#define IB_D6_HOLD_SHARE 50

/* Read-only access to binding state (store rows plus held advertises). */
struct ib_lease6_view {
	/* The binding (or held advertise) of duid+iaid, any state. -ENOENT. */
	int (*find)(void *ctx, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		    struct ib_lease6 *ret);
	/* Whether addr may be given to duid+iaid: free, expired or its own. */
	bool (*is_free)(void *ctx, const uint8_t addr[16], const struct ib_dhcp6_blob *duid,
			uint32_t iaid);
	/* A free address from the subnet's pools. -ENOSPC when exhausted. */
	int (*pick_free)(void *ctx, const struct ib_subnet6 *sn,
			 const struct ib_dhcp6_blob *duid, uint32_t iaid, uint8_t ret[16]);
	void *ctx;			/* passed to each */
};

/*
 * The ADVERTISE holds as the policy may take them over (issue #11): a
 * view apart, which a caller without holds (`explain`) leaves out.
 */
struct ib_hold6_view {
	/* Live ADVERTISE holds of pool addresses of sn taken through source
	 * (ib_ledger_source_*). */
	size_t (*holds)(void *ctx, const struct ib_subnet6 *sn, uint64_t source);
	/* The oldest live ADVERTISE hold of sn, of source or of any source
	 * when NULL.  -ENOENT. */
	int (*oldest_hold)(void *ctx, const struct ib_subnet6 *sn, const uint64_t *source,
			   uint8_t ret[16]);
	/* is_free without the holds: no binding keeps addr from duid+iaid (a
	 * reservation outranks another client's hold, never a binding). */
	bool (*unbound)(void *ctx, const uint8_t addr[16], const struct ib_dhcp6_blob *duid,
			uint32_t iaid);
	void *ctx;			/* passed to each */
};

/* Inputs besides the message. */
struct ib_dhcp6_input {
	const struct ib_config *cfg;	/* snapshot */
	const struct ib_dhcp6_msg *msg;	/* parsed datagram */
	const char *ifname;		/* arrival interface, or NULL */
	uint8_t src[16];		/* source address of the datagram */
	uint8_t server_addr[16];	/* our address for tftp:// URLs on that link */
	bool multicast;			/* sent to All_DHCP_Relay_Agents_and_Servers */
	int ifindex;			/* arrival interface (0: unknown) */
	struct ib_dhcp6_blob server_duid; /* our DUID */
	int64_t now;			/* unix seconds */
	const struct ib_lease6_view *view;
	const struct ib_hold6_view *holds; /* or NULL: no hold is taken over */
};

enum ib_dhcp6_action {
	IB_D6_DROP,			/* stay silent */
	IB_D6_ADVERTISE,		/* ADVERTISE; hold the addresses */
	IB_D6_COMMIT,			/* REPLY after the bindings are durable */
	IB_D6_RELEASE,			/* end the bindings, then REPLY */
	IB_D6_DECLINE,			/* quarantine the addresses, then REPLY */
	IB_D6_REPLY,			/* REPLY with no binding change */
};

/* What kind of boot client asked (RFC 5970 option 61, user class). */
enum ib_boot6_client {
	IB_BOOT6_NONE,			/* asked for no boot file */
	IB_BOOT6_TFTP,			/* firmware PXE: tftp:// URL of the binary */
	IB_BOOT6_HTTP,			/* UEFI HTTP boot: http(s):// URL */
	IB_BOOT6_IPXE,			/* iPXE: the script URL */
};

/* The bootfile-url answer. */
struct ib_boot6_answer {
	enum ib_boot6_client client;	/* what asked */
	uint16_t arch;			/* option 61 (or the default), 0xffff none */
	bool arch_assumed;		/* no option 61: dhcp6.default_arch used */
	char url[IB_DHCP6_URL_MAX];	/* the URL, or "" */
	char *const *params;		/* option 60 items sent with it (in the snapshot) */
	size_t n_params;
	const char *why;		/* static text: which rule chose it */
};

/* How an IA got its address when it took another client's (issue #11). */
enum ib_d6_take {
	IB_D6_TAKE_NONE,		/* a free, own, hinted or reserved address */
	IB_D6_TAKE_CAP,			/* its source's oldest hold: the source is at its share */
	IB_D6_TAKE_SHORT,		/* the subnet's oldest hold: no free address */
};

/* The answer for one IA_NA. */
struct ib_dhcp6_ia_answer {
	uint32_t iaid;			/* the client's IAID */
	bool has_addr;			/* an address is given (or released) */
	uint8_t addr[16];		/* that address */
	uint32_t preferred;		/* lifetimes, seconds (0 on NotOnLink answers) */
	uint32_t valid;
	uint32_t t1;			/* renew time */
	uint32_t t2;			/* rebind time */
	bool has_status;		/* a status code goes in the IA */
	uint16_t status;		/* enum ib_dhcp6_status_code */
	const char *status_msg;		/* its static text */
	enum ib_d6_take take;		/* the address was another client's hold */
};

/* A decision: what to do, and what the reply says. */
struct ib_dhcp6_decision {
	enum ib_dhcp6_action action;
	const char *reason;		/* static text for the journal */
	uint8_t reply_type;		/* ADVERTISE or REPLY */
	const struct ib_subnet6 *subnet; /* chosen subnet, or NULL */
	const struct ib_reservation6 *resv; /* matched reservation, or NULL */
	bool has_mac;			/* the machine's MAC is known */
	uint8_t mac[6];			/* it */
	const char *mac_from;		/* "duid", "option-79", "eui-64" */
	struct ib_dhcp6_ia_answer ia[IB_DHCP6_MAX_IA];
	size_t n_ia;			/* entries used in ia */
	bool has_status;		/* a message-level status code */
	uint16_t status;		/* enum ib_dhcp6_status_code */
	const char *status_msg;		/* its static text */
	bool rapid_commit;		/* the REPLY answers a Rapid Commit SOLICIT */
	bool send_config;		/* DNS, domains, NTP, boot in the reply */
	struct ib_boot6_answer boot;	/* bootfile-url */
	uint64_t source;		/* relay or interface the request came
					 * through (ib_ledger_source_*), where
					 * an ADVERTISE's holds are filed */
	bool exhausted;			/* an IA got NoAddrsAvail: no free
					 * address and no hold to take over */
	bool relay_refused;		/* a RELAY-FORW from a source neither
					 * dhcp6.relays nor its subnet's relays
					 * list: dropped, no MAC learnt */
};

/*
 * Decides the answer to in->msg into *ret (always filled; action DROP with
 * a reason when the message is to be ignored).  Returns 0.
 */
int ib_dhcp6_decide(const struct ib_dhcp6_input *in, struct ib_dhcp6_decision *ret);

/*
 * The boot answer alone (shared by DHCPv6 and `explain`): by user class
 * "iPXE", client arch (option 61, else cfg->dhcp6.default_arch) and a
 * reservation's override.  server_addr is used in tftp:// URLs.
 */
void ib_boot6_decide(const struct ib_config *cfg, const struct ib_dhcp6_msg *m,
		     const struct ib_reservation6 *resv, const uint8_t server_addr[16],
		     struct ib_boot6_answer *ret);

/*
 * The store cannot take IA answer a's binding (its database is down), but
 * the client already holds a->addr until expires (> now), stored: the
 * answer's lifetimes shrink to what is left of it (preferred never above
 * valid, RFC 8415 21.6; T1 and T2 at most 0.5 and 0.8 of preferred,
 * 21.4), which needs no new row.
 */
void ib_dhcp6_keep_until(struct ib_dhcp6_ia_answer *a, int64_t now, int64_t expires);

/*
 * Lays out the reply of decision d to in->msg into buf: the client
 * message, wrapped in RELAY-REPL levels when the request was relayed.
 * Returns 0 and *ret_len, or -ENOBUFS / -EINVAL from the codec.
 */
int ib_dhcp6_reply_build(const struct ib_dhcp6_input *in, const struct ib_dhcp6_decision *d,
			 uint8_t *buf, size_t cap, size_t *ret_len);


/*
 * Whether a stored binding leaves its address to duid+iaid at now: released,
 * expired or past its lifetime, or ACTIVE for that same IA.  A DECLINEd
 * address stays out until it expires, for its decliner too (RFC 8415
 * 18.3.8).  The store's conditional commit applies the same rule; views
 * use this to predict it.
 */
bool ib_dhcp6_lease_usable(const struct ib_lease6 *l, const struct ib_dhcp6_blob *duid,
			   uint32_t iaid, int64_t now);

/* The holds one source may keep in sn: IB_D6_HOLD_SHARE percent of its
 * pool addresses (saturated), at least 1. */
uint64_t ib_dhcp6_hold_cap(const struct ib_subnet6 *sn);

/* Turns a COMMIT decision's IA whose store write lost into NoAddrsAvail. */
void ib_dhcp6_ia_lost(struct ib_dhcp6_ia_answer *ia);

/* Short names for logs and the journal. */
const char *ib_dhcp6_type_str(uint8_t type);
const char *ib_boot6_client_str(enum ib_boot6_client c);

const char *ib_dhcp6_status_str(uint16_t code);

#endif
