/*
 * The agent's URLs: "http://HOST[:PORT][/PATH[?QUERY]]" with HOST an IPv4
 * literal or a bracketed IPv6 literal.  Pure.
 *
 * Only plain http: the agent carries no TLS (docs/AGENT.md, "Limits").
 * Only address literals: the initramfs has no resolver, and the daemon
 * renders ib.server= and image URLs with its own address.  The path and
 * query are kept as written (no percent-decoding: they go back on the wire
 * as the request target); bytes outside visible ASCII are refused, so a
 * URL can never inject a header line.
 */
#ifndef IB_AGENT_URL_H
#define IB_AGENT_URL_H

#include <stdint.h>
#include <sys/socket.h>

#define IB_AGENT_URL_MAX 2048		/* bytes of a whole URL */
#define IB_AGENT_HOST_MAX 48		/* an IPv6 literal and NUL */

/* A parsed http URL (no pointers; embed it). */
struct ib_agent_url {
	int family;				/* AF_INET or AF_INET6 */
	char host[IB_AGENT_HOST_MAX];		/* the literal, no brackets */
	uint8_t addr[16];			/* the address, network order
						 * (4 bytes used for AF_INET) */
	uint16_t port;				/* host order; 80 by default */
	char target[IB_AGENT_URL_MAX];		/* path [?query], starts '/' */
};

/*
 * Parses url (NUL-terminated) into *ret, written only on success.
 * Returns 0; -EPROTONOSUPPORT for a scheme other than http (https
 * included); -EADDRNOTAVAIL for a host that is not an address literal;
 * -EINVAL for anything else malformed (port 0 or over 65535, empty host,
 * control bytes, spaces, a fragment); -ENAMETOOLONG over IB_AGENT_URL_MAX.
 */
int ib_agent_url_parse(const char *url, struct ib_agent_url *ret);

/*
 * The base URL with path appended: "http://h:p/base" + "/api/v1/x" ->
 * target "/base/api/v1/x" (one '/' between them whatever the base ends
 * with).  path must start with '/'.  0 or -ENAMETOOLONG.
 */
int ib_agent_url_join(const struct ib_agent_url *base, const char *path,
		      struct ib_agent_url *ret);

/* "HOST:PORT" for the Host header ("[v6]:port" for IPv6); NUL-terminated. */
void ib_agent_url_hostport(const struct ib_agent_url *u, char *out, size_t outlen);

#endif
