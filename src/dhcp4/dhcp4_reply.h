/*
 * Laying out DHCPv4 replies: the header copied from the request, then the
 * options in order of importance (ib_dhcp4_build drops from the end when the
 * client's maximum message size is reached).  Internal to src/dhcp4.
 */
#ifndef IB_DHCP4_REPLY_H
#define IB_DHCP4_REPLY_H

#include "dhcp4/dhcp4_policy.h"

/* Starts a reply of the given type: header from m, options 53 and 54. */
void ib_dhcp4_reply_start(const struct ib_dhcp4_msg *m, uint8_t type,
			  uint32_t server_addr, struct ib_dhcp4_out *o);
/* Lease times 51, 58, 59: sn's, or lease_time when it is shorter (then
 * T1 and T2 shrink with it); lease_time 0: sn's. */
int ib_dhcp4_reply_times(struct ib_dhcp4_out *o, const struct ib_subnet4 *sn,
			 uint32_t lease_time);
/* Subnet options (1, 3, 6, 12, 15, 26, 28, 42, 119, 121) honouring the PRL. */
int ib_dhcp4_reply_subnet(struct ib_dhcp4_out *o, const struct ib_subnet4 *sn,
			  const struct ib_reservation4 *resv,
			  const struct ib_dhcp4_msg *m);
/* Boot options (siaddr, file, 43, 60, 66, 67, 175) for a boot answer. */
int ib_dhcp4_reply_boot(struct ib_dhcp4_out *o, const struct ib_config *cfg,
			const struct ib_boot_answer *a, uint32_t server_addr,
			bool proxy);
/* RFC 3046 2.2: option 82 echoed, last. */
int ib_dhcp4_reply_relay(struct ib_dhcp4_out *o, const struct ib_dhcp4_msg *m);
/* The client's maximum datagram (option 57, at least 576). */
size_t ib_dhcp4_reply_max_len(const struct ib_dhcp4_msg *m);

#endif
