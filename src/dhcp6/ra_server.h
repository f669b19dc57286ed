/*
 * Router advertisements (ra_server.c), per dhcp6.router_advertisements:
 * auto (the default) advertises on each boot link where no other router
 * does, true on the listed interfaces always, false never (no server).
 * Started by the daemon beside its services, so RAs run whether DHCPv6
 * does or not.
 */
#ifndef IB_DHCP6_RA_SERVER_H
#define IB_DHCP6_RA_SERVER_H

#include <event2/event.h>
#include <net/if.h>

#include "config/config.h"
#include "journal/journal.h"

struct ib_ra_server;

/*
 * Starts per cfg->dhcp6.ra (cfg valid until the next reconfigure or free);
 * phase changes are journalled as proto "ra" events without a MAC
 * (journal not owned, may be NULL).  0 and *ret, or a negative errno
 * (logged).
 */
int ib_ra_server_new(struct event_base *base, const struct ib_config *cfg,
		     struct ib_journal *journal, struct ib_ra_server **ret);
/* Switches to a new snapshot (links, flags, prefixes, interval); links
 * that stay keep their state (listening, advertising or quiet). */
void ib_ra_server_reconfigure(struct ib_ra_server *s, const struct ib_config *cfg);
/* Stops and frees; accepts NULL. */
void ib_ra_server_free(struct ib_ra_server *s);

/*
 * The names of the links cfg makes RAs concern, into ret (at most cap):
 * ib_ra_links(), or with boot set ib_ra_boot_links(); "every interface"
 * (DHCPv4 on all) becomes each up, multicast, non-loopback interface with
 * an IPv4 address.  Serves the server and `ironboot explain`.
 */
size_t ib_ra_server_links(const struct ib_config *cfg, bool boot, char (*ret)[IF_NAMESIZE],
			  size_t cap);

#endif
