/* The agent's http URLs: see agent_url.h. */
#include "agent/agent_url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 3986 3: the target keeps visible ASCII only; '#' starts a fragment,
 * which a client never sends. */
static bool target_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '#')
			return false;
	return true;
}

/* Port digits [p, end): 1..65535. */
static int parse_port(const char *p, const char *end, uint16_t *ret)
{
	unsigned long v = 0;

	if (p == end || end - p > 5)
		return -EINVAL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

/* The authority [p, end): "a.b.c.d[:port]" or "[v6][:port]". */
static int parse_authority(const char *p, const char *end, struct ib_agent_url *u)
{
	const char *host = p, *host_end, *colon = NULL;
	size_t len;

	if (p == end)
		return -EINVAL;
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return -EINVAL;
		if (host_end + 1 < end) {
			if (host_end[1] != ':')
				return -EINVAL;
			colon = host_end + 1;
		}
		u->family = AF_INET6;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		host_end = colon ? colon : end;
		u->family = AF_INET;
	}
	len = (size_t)(host_end - host);
	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(u->host))
		return -EADDRNOTAVAIL;
	memcpy(u->host, host, len);
	u->host[len] = '\0';
	if (inet_pton(u->family, u->host, u->addr) != 1)
		return -EADDRNOTAVAIL;
	u->port = 80;
	if (colon)
		return parse_port(colon + 1, end, &u->port);
	return 0;
}

int ib_agent_url_parse(const char *url, struct ib_agent_url *ret)
{
	static const char scheme[] = "http://";
	struct ib_agent_url u;
	const char *auth, *slash;
	int r;

	if (strlen(url) >= IB_AGENT_URL_MAX)
		return -ENAMETOOLONG;
	if (strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
		return strstr(url, "://") ? -EPROTONOSUPPORT : -EINVAL;
	if (!target_ok(url))
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	auth = url + sizeof(scheme) - 1;
	slash = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(slash - auth)))
		return -EINVAL;		/* userinfo: never in our URLs */
	r = parse_authority(auth, slash, &u);
	if (r < 0)
		return r;
	/* RFC 9112 3.2.1: an empty path is sent as "/" */
	snprintf(u.target, sizeof(u.target), "%s%s", *slash == '/' ? "" : "/", slash);
	*ret = u;
	return 0;
}

int ib_agent_url_join(const struct ib_agent_url *base, const char *path,
		      struct ib_agent_url *ret)
{
	struct ib_agent_url u = *base;
	size_t blen = strcspn(base->target, "?");

	while (blen > 0 && base->target[blen - 1] == '/')
		blen--;
	if (path[0] != '/')
		return -EINVAL;
	if (blen + strlen(path) >= sizeof(u.target))
		return -ENAMETOOLONG;
	memcpy(u.target, base->target, blen);
	strcpy(u.target + blen, path);
	*ret = u;
	return 0;
}

void ib_agent_url_hostport(const struct ib_agent_url *u, char *out, size_t outlen)
{
	if (u->family == AF_INET6)
		snprintf(out, outlen, "[%s]:%u", u->host, u->port);
	else
		snprintf(out, outlen, "%s:%u", u->host, u->port);
}
