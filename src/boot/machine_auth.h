/*
 * Who may read a machine's boot script and install configs: the decision
 * of http.machine_auth (docs/SECURITY.md, "Per-machine data").  Pure: the
 * HTTP shell (httpd/http_auth.c) finds the facts about the request's
 * source address and token, this file decides, and the tests drive it
 * through a table.
 *
 * The machine asked for is the MAC in the query.  A request may read it
 * when one of these names that MAC:
 *
 *   lease4       the active, unexpired DHCPv4 lease of the source address
 *   lease6       the active, unexpired DHCPv6 binding of the source address
 *   reservation  a dhcp4 or dhcp6 reservation pinning the source address
 *   neighbour    the kernel's neighbour entry (ARP / NDP) of the source
 *                address on the link it is on, when none of the three
 *                above knows the address (proxyDHCP, static addresses)
 *   token        the query's token= is the machine's (ib_httpd_machine_token)
 *
 * ironboot's own records of an address (lease4, lease6, reservation) win
 * over the neighbour table: an address they give to another machine is
 * that machine's, whatever the link layer says.  A wrong token refuses
 * only where the address does not already authorize the request.
 * Without a MAC in the query the machine is the one the source address
 * resolves to (same order), else the request is refused.
 *
 * With http.machine_auth: off every request is served, but only one that
 * strict mode would serve is "authorized": only those get the machine's
 * token and secrets in their render.
 */
#ifndef IB_BOOT_MACHINE_AUTH_H
#define IB_BOOT_MACHINE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "boot/boot_plan.h"
#include "config/config.h"

/* How a request was authorized, or why it was refused. */
enum ib_machine_auth_how {
	IB_MACHINE_AUTH_LEASE4,		/* the address's DHCPv4 lease names the machine */
	IB_MACHINE_AUTH_LEASE6,		/* its DHCPv6 binding does */
	IB_MACHINE_AUTH_RESERVATION,	/* a reservation pins the address to it */
	IB_MACHINE_AUTH_NEIGHBOUR,	/* the neighbour entry of the address does */
	IB_MACHINE_AUTH_TOKEN,		/* the query carries the machine's token */
	IB_MACHINE_AUTH_REFUSED_OTHER,	/* refused: the address is another machine's */
	IB_MACHINE_AUTH_REFUSED_UNBOUND,	/* refused: nothing ties the address to the MAC */
	IB_MACHINE_AUTH_REFUSED_TOKEN,	/* refused: a token that is not the machine's */
	IB_MACHINE_AUTH_REFUSED_NO_MAC,	/* refused: no MAC asked, the address is no machine's */
	IB_MACHINE_AUTH_N_HOW,
};

/* What the shell found out about one request.  MACs are in the normal
 * form of ib_facts_set_mac(), "" when unknown. */
struct ib_machine_auth_facts {
	const char *asked;		/* MAC in the query (normal form), or NULL */
	char lease4[IB_BOOT_MAC_STRLEN];	/* active DHCPv4 lease of the address */
	char lease6[IB_BOOT_MAC_STRLEN];	/* active DHCPv6 binding, with a MAC */
	char reserved[IB_BOOT_MAC_STRLEN];	/* reservation of the address */
	char neighbour[IB_BOOT_MAC_STRLEN];	/* neighbour entry of the address */
	bool token_given;		/* the query has a token= */
	bool token_ok;			/* and it is asked's (checked by the shell) */
	bool strict;			/* http.machine_auth is strict */
};

/* The decision. */
struct ib_machine_auth {
	bool serve;			/* answer the request (else 403) */
	bool authorized;		/* strict mode would serve it: the machine's
					 * token and secrets may be rendered */
	enum ib_machine_auth_how how;	/* how authorized, or why not */
	char mac[IB_BOOT_MAC_STRLEN];	/* the machine served: asked, else the one the
					 * address resolves to; "" when none */
};

/* Decides request f (see the top of this file) into *ret.  Always succeeds. */
void ib_machine_auth_decide(const struct ib_machine_auth_facts *f, struct ib_machine_auth *ret);

/* "lease4", "lease6", "reservation", "neighbour", "token", "other-machine",
 * "unbound", "wrong-token", "no-machine": the journal's word for how. */
const char *ib_machine_auth_name(enum ib_machine_auth_how how);

/* The reason of a refusal in words, for the 403 body (names no other MAC). */
const char *ib_machine_auth_text(enum ib_machine_auth_how how);

/*
 * The MAC a reservation of cfg pins IPv4 address addr (host order) or
 * IPv6 address addr6 to, in *ret (IB_BOOT_MAC_STRLEN bytes): dhcp4 and
 * dhcp6 reservations by mac; one by client-id or DUID only names no MAC.
 * Returns 0, or -ENOENT (ret set to "").
 */
int ib_machine_auth_reserved4(const struct ib_config *cfg, uint32_t addr, char *ret);
int ib_machine_auth_reserved6(const struct ib_config *cfg, const uint8_t addr6[16], char *ret);

#endif
