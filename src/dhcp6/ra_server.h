/*
 * Router advertisements for labs with no router (ra_server.c): off by
 * default; dhcp6.router_advertisements turns them on per interface.
 * Started by the daemon beside its services (src/daemon/services.c), so
 * RAs run whether DHCPv6 does or not.
 */
#ifndef IB_DHCP6_RA_SERVER_H
#define IB_DHCP6_RA_SERVER_H

#include <event2/event.h>

#include "config/config.h"

struct ib_ra_server;

/* Starts advertising per cfg->dhcp6.ra (cfg valid until the next
 * reconfigure or free).  0 and *ret, or a negative errno (logged). */
int ib_ra_server_new(struct event_base *base, const struct ib_config *cfg,
		     struct ib_ra_server **ret);
/* Switches to a new snapshot (interfaces, flags, prefixes, interval). */
void ib_ra_server_reconfigure(struct ib_ra_server *s, const struct ib_config *cfg);
/* Stops and frees; accepts NULL. */
void ib_ra_server_free(struct ib_ra_server *s);

#endif
