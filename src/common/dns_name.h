/*
 * DNS names on the wire (RFC 1035 3.1), as the DHCP options that carry
 * lists of them want them: DHCPv4's domain search (option 119, RFC 3397,
 * with compression) and DHCPv6's domain lists (options 24 and others,
 * RFC 8415 10, without).
 */
#ifndef IB_COMMON_DNS_NAME_H
#define IB_COMMON_DNS_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Encodes the dotted names (each as ib_dns_name_check() accepts it) one
 * after another into buf[cap]: each label as its length and octets, then
 * the root label.  With compress, the longest suffix already written is
 * a pointer to it instead (RFC 1035 4.1.4, offsets from buf's first byte
 * as RFC 3397 2 counts them).  0 and *ret_len; -EINVAL for a missing or
 * malformed name, -ENOBUFS when the result does not fit.
 */
int ib_dns_names_encode(const char *const *names, size_t n, bool compress, uint8_t *buf,
			size_t cap, size_t *ret_len);

#endif
