/*
 * Router Advertisement and Router Solicitation wire format (RFC 4861 4.1,
 * 4.2, 4.6.1, 4.6.2).  Pure: bytes <-> structs.
 *
 * ironboot advertises only to make hosts ask DHCPv6: the Managed and
 * Other flags, and each served prefix as on-link but not for SLAAC (A = 0),
 * so addresses come from the DHCPv6 pools and nowhere else.
 */
#ifndef IB_DHCP6_RA_CODEC_H
#define IB_DHCP6_RA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_ICMP6_RS 133			/* Router Solicitation */
#define IB_ICMP6_RA 134			/* Router Advertisement */
#define IB_RA_MAX_PREFIXES 8		/* prefix options in one RA */
#define IB_RA_MAX_LEN (16 + 8 + IB_RA_MAX_PREFIXES * 32)

/* One Prefix Information option. */
struct ib_ra_prefix {
	uint8_t prefix[16];		/* host bits zero */
	uint8_t len;			/* prefix length */
	bool on_link;			/* L flag */
	bool autonomous;		/* A flag (SLAAC) */
	uint32_t valid;			/* seconds */
	uint32_t preferred;		/* seconds */
};

/* A Router Advertisement to build (or as parsed, for tests). */
struct ib_ra {
	uint8_t hop_limit;		/* Cur Hop Limit for hosts, 0 = unspecified */
	bool managed;			/* M: addresses by DHCPv6 */
	bool other;			/* O: other configuration by DHCPv6 */
	uint16_t router_lifetime;	/* seconds; 0 = not a default router */
	bool has_lladdr;		/* send the Source Link-Layer Address option */
	uint8_t lladdr[6];		/* our MAC */
	struct ib_ra_prefix prefixes[IB_RA_MAX_PREFIXES];
	size_t n_prefixes;		/* entries used */
};

/*
 * Writes ra as an ICMPv6 message (checksum 0: the kernel fills it for raw
 * ICMPv6 sockets, RFC 3542 3.1).  0 and *ret_len, or -ENOBUFS.
 */
int ib_ra_build(const struct ib_ra *ra, uint8_t *buf, size_t cap, size_t *ret_len);

/* Parses an RA (for tests and for seeing other routers).  0 or -EBADMSG. */
int ib_ra_parse(const uint8_t *buf, size_t len, struct ib_ra *ret);

/* Whether buf is a well-formed Router Solicitation (RFC 4861 6.1.1). */
bool ib_rs_valid(const uint8_t *buf, size_t len);

#endif
