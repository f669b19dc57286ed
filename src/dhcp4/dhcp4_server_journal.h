/*
 * What the DHCPv4 shell writes to the journal: one event per request with
 * the decision and why, one per reply, one per lease change.  Internal to
 * src/dhcp4.
 */
#ifndef IB_DHCP4_SERVER_JOURNAL_H
#define IB_DHCP4_SERVER_JOURNAL_H

#include <netinet/in.h>

#include "dhcp4/dhcp4_policy.h"
#include "journal/journal.h"

/* A copy of a client's identity that outlives the receive buffer. */
struct ib_d4_who {
	uint8_t hw[16];			/* chaddr */
	uint8_t hw_len;
	uint8_t client_id[255];		/* option 61 */
	uint8_t client_id_len;
	char uuid[40];			/* option 97 as text, or "" */
};

void ib_d4_who_from_msg(const struct ib_dhcp4_msg *m, struct ib_d4_who *ret);
void ib_d4_who_from_lease(const struct ib_lease4 *l, struct ib_d4_who *ret);

/* The particulars of a request, copied before the receive buffer is reused. */
struct ib_d4_note {
	uint8_t type;			/* message type */
	uint32_t xid;
	uint32_t src;			/* source address (host order) */
	uint32_t giaddr, ciaddr;	/* 0 = absent */
	uint32_t requested;		/* option 50, 0 = absent */
	char vendor_class[64];		/* sanitised option 60, or "" */
	char user_class[32];		/* sanitised option 77, or "" */
	char hostname[64];		/* sanitised option 12, or "" */
};

void ib_d4_note_from_msg(const struct ib_dhcp4_msg *m, const struct sockaddr_in *from,
			 struct ib_d4_note *ret);

/*
 * The journal gate of an exchange (issue #11): a DISCOVER answered as the
 * last one of the same client was is a repeat; an unknown client's
 * exchange that binds nothing is rate-limited.  known: the client has a
 * reservation, an inventory entry or a binding.
 */
void ib_d4_journal_gate(const struct ib_d4_who *who, const struct ib_d4_note *n,
			const struct ib_dhcp4_decision *d, bool known,
			struct ib_journal_gate *ret);

/*
 * One exchange, one event: the request, the decision and why, and the
 * reply that left (to, from, address, file, lease advertised or committed)
 * or why none did.  err is the send result (0 when nothing was sent).
 * g: the gate (ib_d4_journal_gate), or NULL to journal it whatever.
 */
void ib_d4_journal_exchange(struct ib_journal *j, const struct ib_d4_who *who,
			    const struct ib_d4_note *n,
			    const struct ib_dhcp4_decision *d,
			    const struct sockaddr_in *to, uint32_t src, int err,
			    const struct ib_journal_gate *g);
/* A reply that was built but could not be sent (limited: an unknown
 * client's, rate-limited). */
void ib_d4_journal_send_error(struct ib_journal *j, const struct ib_d4_who *who,
			      const struct sockaddr_in *to, int err, bool limited);
/* A lease change: kind is "lease-commit", "lease-release", ... */
void ib_d4_journal_lease(struct ib_journal *j, const struct ib_d4_who *who,
			 const char *kind, const struct ib_lease4 *l);

#endif
