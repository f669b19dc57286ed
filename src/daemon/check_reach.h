/*
 * `ironbootd --check-config`: subnets no client can ever reach.  A DHCP
 * subnet is served either to clients on a local link (an address of a
 * served interface lies in it, or for DHCPv6 its `interface:`) or to
 * clients behind a relay the config lists (dhcp4.relays / dhcp6.relays or
 * the subnet's own relays): a relayed request from any other source is
 * dropped (docs/SECURITY.md).
 */
#ifndef IB_CHECK_REACH_H
#define IB_CHECK_REACH_H

#include <stdio.h>

#include "config/config.h"

/*
 * Writes a warning line to out for each subnet of cfg that neither a local
 * interface serves (this host's addresses now, from getifaddrs) nor a
 * listed relay may forward for.  Returns how many were warned about.
 */
size_t ib_check_unreachable_subnets(const struct ib_config *cfg, FILE *out);

#endif
