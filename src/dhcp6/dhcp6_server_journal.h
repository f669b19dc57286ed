/*
 * What the DHCPv6 shell writes to the journal: one event per exchange with
 * the decision and why, one per reply the kernel refused; and the gate
 * that thins a flood out (issue #11).  Internal to src/dhcp6.
 */
#ifndef IB_DHCP6_DHCP6_SERVER_JOURNAL_H
#define IB_DHCP6_DHCP6_SERVER_JOURNAL_H

#include <netinet/in.h>

#include "dhcp6/dhcp6_policy.h"
#include "journal/journal.h"

/* One exchange, as the shell has it. */
struct ib_d6_exchange {
	const struct ib_dhcp6_msg *msg;		/* the request (innermost message) */
	const struct ib_dhcp6_decision *d;	/* its decision */
	const struct sockaddr_in6 *from;	/* the client, or the relay */
	const char *ifname;			/* arrival interface */
};

/*
 * The journal gate of an exchange: a SOLICIT answered as the last one of
 * the same client was is a repeat; the exchange of a client with no
 * reservation or inventory entry that binds nothing is rate-limited.
 */
void ib_d6_journal_gate(const struct ib_config *cfg, const struct ib_dhcp6_msg *m,
			const struct ib_dhcp6_decision *d, struct ib_journal_gate *ret);

/*
 * One exchange, one event: the request, the decision and why, the address
 * and what happened to the lease ("advertised", "committed", "released",
 * "declined", or "none" when no IA got an address), the boot answer; err
 * is the send result (0 when sent or nothing to send).  g: the gate.
 */
void ib_d6_journal_exchange(struct ib_journal *j, const struct ib_d6_exchange *x,
			    const struct ib_journal_gate *g, int err);

/* A reply to a request of type `type` that the kernel refused; to is the
 * destination's text.  limited: an unknown client's (rate-limited). */
/* A binding's event without an exchange (event: "lease-expire",
 * "lease-release-operator"), under its DUID and MAC, with its address. */
void ib_d6_journal_lease(struct ib_journal *j, const struct ib_lease6 *l, const char *event);
void ib_d6_journal_not_sent(struct ib_journal *j, const struct ib_journal_who *who,
			    uint8_t type, const char *to, uint16_t port, int err, bool limited);

#endif
