/*
 * The DHCPv6 server's DUID (RFC 8415 11): kept in the store's meta table,
 * made once as a DUID-LLT of the first served interface with a MAC, else
 * a random DUID-UUID (RFC 6355).  Part of the shell: reads the host's
 * interfaces and the kernel's random numbers.
 */
#ifndef IB_DHCP6_DHCP6_DUID_H
#define IB_DHCP6_DHCP6_DUID_H

#include <stddef.h>
#include <stdint.h>

#include "dhcp/dhcp_ifaces.h"
#include "store/store.h"

/*
 * The server DUID into duid (IB_DUID_MAX bytes) and *ret_len: the stored
 * one, else a new one, stored.  served: the interfaces whose MAC may name
 * it.  0 or -errno (the store's, or -EIO without randomness).
 */
int ib_d6_server_duid(struct ib_store *store, const struct ib_dhcp_ifaces *served,
		      uint8_t duid[IB_DUID_MAX], size_t *ret_len);

#endif
