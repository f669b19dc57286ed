/*
 * Request-target parsing: origin-form path and query (see http_url.h for
 * the rules).  Pure: no I/O, no logging, no globals.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "http/http_url.h"

/* RFC 3986 3.3: pchar minus pct-encoded ('%' is handled by the decoder). */
static bool path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("-._~!$&'()*+,;=:@%", c));
}

/*
 * Percent-decodes s[0..len) into out[0..cap), '+' as a space when plus.
 * Decoded NUL and control bytes are refused (-EBADMSG), as are malformed
 * escapes; -ENAMETOOLONG past cap.  Returns the decoded length.
 */
static long pct_decode(const char *s, size_t len, bool plus, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < len ? ib_hex_digit(s[i + 1]) : -1;
			int lo = hi >= 0 ? ib_hex_digit(s[i + 2]) : -1;

			if (lo < 0)
				return -EBADMSG;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f)
			return -EBADMSG;
		if (o == cap)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	return (long)o;
}

/*
 * Decodes the path segment s[0..len) and appends "/segment" to u->path,
 * or nothing for ".".  last: the segment ends the path.
 */
static int add_segment(struct ib_http_url *u, const char *s, size_t len, bool last)
{
	char seg[IB_HTTP_PATH_MAX];
	long n;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\')
			return -EACCES;
		if (!path_char(s[i]))
			return -EBADMSG;
	}
	n = pct_decode(s, len, false, seg, sizeof(seg));
	if (n < 0)
		return (int)n;
	if (memchr(seg, '/', (size_t)n) || memchr(seg, '\\', (size_t)n))
		return -EACCES;		/* "%2F", "%5C": a segment that isn't one */
	if (n == 0 && !last)
		return -EACCES;		/* "//": scheme-relative, or a root escape */
	if (n == 1 && seg[0] == '.')
		return 0;
	if (n == 2 && seg[0] == '.' && seg[1] == '.')
		return -EACCES;
	if ((size_t)n + 1 > IB_HTTP_PATH_MAX - u->path_len)
		return -ENAMETOOLONG;
	u->path[u->path_len++] = '/';
	memcpy(u->path + u->path_len, seg, (size_t)n);
	u->path_len += (size_t)n;
	return 0;
}

static int parse_path(struct ib_http_url *u, const char *s, size_t len)
{
	size_t i = 1;

	if (len == 0 || s[0] != '/')
		return -EBADMSG;	/* RFC 9112 3.2.1: origin-form only */
	for (;;) {
		const char *slash = memchr(s + i, '/', len - i);
		size_t end = slash ? (size_t)(slash - s) : len;
		int r = add_segment(u, s + i, end - i, !slash);

		if (r < 0)
			return r;
		if (!slash)
			break;
		i = end + 1;
	}
	if (u->path_len == 0)
		u->path[u->path_len++] = '/';
	u->path[u->path_len] = '\0';
	return 0;
}

/* Adds the pair s[0..len) ("key=value", "key" or ""). */
static int add_param(struct ib_http_url *u, const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq ? (size_t)(eq - s) : len;
	char key[IB_HTTP_KEY_MAX + 1], value[IB_HTTP_VALUE_MAX + 1];
	long kn, vn = 0;

	kn = pct_decode(s, klen, true, key, IB_HTTP_KEY_MAX);
	if (kn < 0)
		return (int)kn;
	if (eq)
		vn = pct_decode(eq + 1, len - klen - 1, true, value, IB_HTTP_VALUE_MAX);
	if (vn < 0)
		return (int)vn;
	if (kn == 0)
		return 0;
	key[kn] = '\0';
	value[vn] = '\0';
	if (ib_http_url_param(u, key))
		return 0;		/* the first of duplicate keys wins */
	if (u->nparams == IB_HTTP_PARAMS_MAX)
		return -E2BIG;
	memcpy(u->params[u->nparams].key, key, (size_t)kn + 1);
	memcpy(u->params[u->nparams].value, value, (size_t)vn + 1);
	u->nparams++;
	return 0;
}

static int parse_query(struct ib_http_url *u, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *amp = memchr(s + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - s) : len;
		int r = add_param(u, s + i, end - i);

		if (r < 0)
			return r;
		i = end + 1;
	}
	return 0;
}

int ib_http_url_parse(const char *target, size_t len, struct ib_http_url *ret)
{
	struct ib_http_url u;
	const char *q;
	size_t plen;
	int r;

	if (len > IB_HTTP_TARGET_MAX)
		return -ENAMETOOLONG;
	memset(&u, 0, sizeof(u));
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)target[i];

		/* RFC 9110 4.2.4: no fragment in a request; no raw blanks */
		if (c < 0x21 || c > 0x7e || c == '#')
			return -EBADMSG;
	}
	q = len ? memchr(target, '?', len) : NULL;
	plen = q ? (size_t)(q - target) : len;
	r = parse_path(&u, target, plen);
	if (r == 0 && q)
		r = parse_query(&u, q + 1, len - plen - 1);
	if (r < 0)
		return r;
	*ret = u;
	return 0;
}

const char *ib_http_url_param(const struct ib_http_url *u, const char *key)
{
	for (unsigned i = 0; i < u->nparams && i < IB_HTTP_PARAMS_MAX; i++)
		if (strcmp(u->params[i].key, key) == 0)
			return u->params[i].value;
	return NULL;
}

int ib_http_mac_normalize(const char *s, char ret[IB_HTTP_MAC_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strnlen(s, 18);
	char sep = len == 17 ? s[2] : '\0', out[IB_HTTP_MAC_STRLEN];
	size_t step = sep ? 3 : 2;

	if (!(len == 12 || (len == 17 && (sep == ':' || sep == '-'))))
		return -EINVAL;
	for (size_t b = 0; b < 6; b++) {
		const char *p = s + b * step;
		int hi = ib_hex_digit(p[0]), lo = ib_hex_digit(p[1]);

		if (hi < 0 || lo < 0 || (sep && b < 5 && p[2] != sep))
			return -EINVAL;
		out[3 * b] = hex[hi];
		out[3 * b + 1] = hex[lo];
		out[3 * b + 2] = b < 5 ? ':' : '\0';
	}
	memcpy(ret, out, sizeof(out));
	return 0;
}
