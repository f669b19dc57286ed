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
#include "journal/journal.h"
#include "store/store.h"

struct ib_dhcp6_server;

/*
 * Binds and starts serving cfg->dhcp6 on base.  cfg must stay valid until
 * the next reconfigure or free; store and journal are not owned.  Returns
 * 0 and *ret, or a negative errno (logged once, naming what failed).
 */
int ib_dhcp6_server_new(struct event_base *base, const struct ib_config *cfg,
			struct ib_store *store, struct ib_journal *journal,
			struct ib_dhcp6_server **ret);

/* Switches to a new snapshot; the port needs a restart (warned). */
int ib_dhcp6_server_reconfigure(struct ib_dhcp6_server *s, const struct ib_config *cfg);

/* Closes the socket and frees s; accepts NULL. */
void ib_dhcp6_server_free(struct ib_dhcp6_server *s);

#endif
