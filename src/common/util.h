/*
 * Small pure helpers shared by every layer: hardware and IPv4 address text,
 * hex, sanitising of wire strings, time.
 *
 * IPv4 addresses are carried as uint32_t in host byte order everywhere
 * above the socket calls.
 */
#ifndef IB_COMMON_UTIL_H
#define IB_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_MAC_STRLEN 48	/* "aa:bb:..." for up to 16 bytes, NUL */
#define IB_IP4_STRLEN 16
#define IB_IP6_STRLEN 46	/* INET6_ADDRSTRLEN */

#define IB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define IB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IB_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Formats len bytes as lowercase "aa:bb:cc"; always NUL-terminates. */
void ib_mac_format(const uint8_t *mac, size_t len, char *out, size_t outlen);
/* Parses "aa:bb:cc:dd:ee:ff" (or all '-' separated) into 6 bytes. */
int ib_mac_parse(const char *s, uint8_t ret[6]);
/* Formats an address (host order) as dotted quad into out[IB_IP4_STRLEN]. */
void ib_ip4_format(uint32_t addr, char *out);
/*
 * Formats an IPv6 address as RFC 5952 text into out[IB_IP6_STRLEN], as
 * glibc's inet_ntop() does (::ffff:a.b.c.d and ::a.b.c.d included), without
 * its printf: the DHCPv6 journal formats two per exchange.
 */
void ib_ip6_format(const uint8_t a[16], char *out);
/* Parses a dotted quad into host order; -EINVAL when malformed. */
int ib_ip4_parse(const char *s, uint32_t *ret);
/* Parses "a.b.c.d/len"; returns network address (host order) and length. */
int ib_cidr4_parse(const char *s, uint32_t *ret_net, uint8_t *ret_len);
uint32_t ib_prefix_mask(uint8_t len);
/*
 * Whether addr lies in prefix/len (RFC 4291 2.5): their first len bits
 * agree.  Both in network order, at least (len + 7) / 8 bytes long.
 */
bool ib_addr_in_prefix(const uint8_t *addr, const uint8_t *prefix, unsigned len);
/* The value of hex digit c (either case), or -1. */
int ib_hex_digit(char c);
/* Lowercase hex of len bytes; always NUL-terminates (truncates). */
void ib_hex_format(const uint8_t *p, size_t len, char *out, size_t outlen);
/* Parses hex with optional ':' separators; -EINVAL on bad digits. */
int ib_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *ret_len);
/*
 * Copies a wire string for a log, a file or a template: printable ASCII is
 * kept, everything else becomes \xNN.  Always NUL-terminates.
 */
void ib_str_sanitize(const uint8_t *src, size_t len, char *out, size_t outlen);
/* Wall clock, microseconds since the epoch (journal timestamps). */
int64_t ib_now_us(void);
/* Wall clock, seconds (lease and hold arithmetic). */
int64_t ib_now_sec(void);
/* Monotonic clock, microseconds: intervals and deadlines the wall clock
 * must not move. */
int64_t ib_mono_us(void);

#define IB_DNS_NAME_MAX 253		/* RFC 1035 2.3.4: 255 octets on the wire */
#define IB_DNS_LABEL_MAX 63		/* RFC 1035 2.3.4 */

/* A letter, digit, '-' or '_' (underscore for service names like _ldap._tcp). */
bool ib_dns_label_char_ok(unsigned char ch);
/*
 * Checks a dotted name for a DHCP option (RFC 1035 3.1 labels of 1..63
 * octets of ib_dns_label_char_ok() characters, at most IB_DNS_NAME_MAX)
 * and returns its length without one trailing dot.  0 or -EINVAL.
 */
int ib_dns_name_check(const char *name, size_t *ret_len);
/*
 * The Ethernet address a DUID-LLT (type 1) or DUID-LL (type 3) carries
 * (RFC 8415 11.2, 11.4: hardware type 1, then exactly 6 bytes).  0, or
 * -ENOENT for other DUIDs.
 */
int ib_duid_mac(const uint8_t *duid, size_t len, uint8_t ret_mac[6]);

#endif
