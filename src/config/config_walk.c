/*
 * Typed readers for YAML nodes, and the error and key-path helpers every
 * reader reports through.  Each reader checks one node against one type and
 * says at the node what was wrong with it.
 */
#include "config/config_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/util.h"

#define QUOTE_MAX 48	/* characters of a bad value echoed in a message */

static int __attribute__((format(printf, 6, 0)))
vfail(const struct ib_cfg_err *err, const char *name, uint32_t line, uint32_t col,
		 const char *path, const char *fmt, va_list ap)
{
	size_t n;

	if (err->buf[0])
		return -EINVAL;		/* keep the first error */
	snprintf(err->buf, IB_CONFIG_ERRLEN, "%s:%u:%u: ", name, line, col);
	n = strlen(err->buf);
	if (path && path[0]) {
		snprintf(err->buf + n, IB_CONFIG_ERRLEN - n, "%s: ", path);
		n = strlen(err->buf);
	}
	vsnprintf(err->buf + n, IB_CONFIG_ERRLEN - n, fmt, ap);
	return -EINVAL;
}

int ib_cfg_fail(const struct ib_cfg_err *err, uint32_t line, uint32_t col,
		const char *path, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(err, err->name, line, col, path, fmt, ap);
	va_end(ap);
	return r;
}

int ib_cfg_fail_at(struct ib_cfg_walk *w, const struct ib_ynode *n,
		   const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(w->err, n->origin ? n->origin : w->err->name, n->line, n->col,
		  w->path, fmt, ap);
	va_end(ap);
	return r;
}

int ib_cfg_fail_nomem(const struct ib_cfg_err *err)
{
	if (!err->buf[0])
		snprintf(err->buf, IB_CONFIG_ERRLEN, "%s: out of memory", err->name);
	return -ENOMEM;
}

size_t ib_cfg_path_key(struct ib_cfg_walk *w, const char *key)
{
	size_t old = w->path_len;
	int n = snprintf(w->path + old, sizeof(w->path) - old, "%s%s",
			 old ? "." : "", key);

	if (n > 0)
		w->path_len = IB_MIN(old + (size_t)n, sizeof(w->path) - 1);
	return old;
}

size_t ib_cfg_path_index(struct ib_cfg_walk *w, size_t i)
{
	size_t old = w->path_len;
	int n = snprintf(w->path + old, sizeof(w->path) - old, "[%zu]", i);

	if (n > 0)
		w->path_len = IB_MIN(old + (size_t)n, sizeof(w->path) - 1);
	return old;
}

void ib_cfg_path_pop(struct ib_cfg_walk *w, size_t len)
{
	w->path_len = len;
	w->path[len] = '\0';
}

void ib_cfg_quote(const struct ib_ynode *n, char *out, size_t outlen)
{
	size_t len = IB_MIN(n->len, (size_t)QUOTE_MAX);

	ib_str_sanitize((const uint8_t *)n->str, len, out, outlen);
	if (len < n->len && strlen(out) + 4 < outlen)
		strcat(out, "...");
}

/* Checks that n is a scalar (a null counts as a missing value). */
static int need_scalar(struct ib_cfg_walk *w, const struct ib_ynode *n,
		       const char *what)
{
	if (n->kind == IB_YNODE_SCALAR && !ib_ynode_is_null(n))
		return 0;
	return ib_cfg_fail_at(w, n, "expected %s, got %s", what, ib_ynode_describe(n));
}

static int bad_value(struct ib_cfg_walk *w, const struct ib_ynode *n, const char *what)
{
	char q[QUOTE_MAX * 4 + 8];

	ib_cfg_quote(n, q, sizeof(q));
	return ib_cfg_fail_at(w, n, "expected %s, got '%s'", what, q);
}

/* Decimal digits only: no sign, no 0x or 0o, no leading zeros (YAML 1.1
 * would read "010" as octal; say what you mean). */
static bool parse_decimal(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len != strlen(s) || (len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return true;
}

int ib_cfg_read_uint(struct ib_cfg_walk *w, const struct ib_ynode *n,
		     uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	int r = need_scalar(w, n, "an integer");

	if (r < 0)
		return r;
	if (!parse_decimal(n->str, n->len, &v)) {
		if (n->plain && n->str[0] == '-' && parse_decimal(n->str + 1, n->len - 1, &v))
			return ib_cfg_fail_at(w, n, "%s is out of range %llu..%llu", n->str,
					      (unsigned long long)min, (unsigned long long)max);
		return bad_value(w, n, "an integer");
	}
	if (!n->plain)
		return ib_cfg_fail_at(w, n, "expected an integer, got a quoted string");
	if (v < min || v > max)
		return ib_cfg_fail_at(w, n, "%llu is out of range %llu..%llu",
				      (unsigned long long)v, (unsigned long long)min,
				      (unsigned long long)max);
	*ret = v;
	return 0;
}

int ib_cfg_read_bool(struct ib_cfg_walk *w, const struct ib_ynode *n, bool *ret)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	int r = need_scalar(w, n, "true or false");

	if (r < 0)
		return r;
	for (size_t i = 0; i < IB_ARRAY_SIZE(yes); i++) {
		if (strcmp(n->str, yes[i]) != 0 && strcmp(n->str, no[i]) != 0)
			continue;
		if (!n->plain)
			return ib_cfg_fail_at(w, n, "expected true or false, got a quoted string");
		*ret = strcmp(n->str, yes[i]) == 0;
		return 0;
	}
	return bad_value(w, n, "true or false");
}

/* C0 controls, DEL, and C1 controls as UTF-8 (U+0080..U+009F). */
static ssize_t find_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return (ssize_t)i;
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0)
			return (ssize_t)i;
	}
	return -1;
}

int ib_cfg_read_string(struct ib_cfg_walk *w, const struct ib_ynode *n, char **ret)
{
	ssize_t bad;
	char *s;
	int r = need_scalar(w, n, "a string");

	if (r < 0)
		return r;
	if (n->len == 0)
		return ib_cfg_fail_at(w, n, "must not be empty");
	if (n->len > IB_CONFIG_MAX_STRING)
		return ib_cfg_fail_at(w, n, "string is too long (%zu bytes, at most %d)",
				      n->len, IB_CONFIG_MAX_STRING);
	bad = find_control(n->str, n->len);
	if (bad >= 0)
		return ib_cfg_fail_at(w, n, "control character 0x%02x at offset %zd",
				      (unsigned char)n->str[bad], bad);
	s = strdup(n->str);
	if (!s)
		return ib_cfg_fail_nomem(w->err);
	*ret = s;
	return 0;
}

int ib_cfg_read_ip4(struct ib_cfg_walk *w, const struct ib_ynode *n, uint32_t *ret)
{
	int r = need_scalar(w, n, "an IPv4 address");

	if (r < 0)
		return r;
	if (n->len != strlen(n->str) || ib_ip4_parse(n->str, ret) < 0)
		return bad_value(w, n, "an IPv4 address");
	return 0;
}

int ib_cfg_read_cidr(struct ib_cfg_walk *w, const struct ib_ynode *n,
		     uint32_t *ret_net, uint8_t *ret_len)
{
	char addr[IB_IP4_STRLEN];
	const char *slash;
	uint32_t a;
	uint64_t len;
	int r = need_scalar(w, n, "an IPv4 prefix (a.b.c.d/len)");

	if (r < 0)
		return r;
	slash = strchr(n->str, '/');
	if (n->len != strlen(n->str) || !slash || (size_t)(slash - n->str) >= sizeof(addr))
		return bad_value(w, n, "an IPv4 prefix (a.b.c.d/len)");
	memcpy(addr, n->str, (size_t)(slash - n->str));
	addr[slash - n->str] = '\0';
	if (ib_ip4_parse(addr, &a) < 0 ||
	    !parse_decimal(slash + 1, strlen(slash + 1), &len) || len > 32)
		return bad_value(w, n, "an IPv4 prefix (a.b.c.d/len)");
	if (a & ~ib_prefix_mask((uint8_t)len)) {
		char net[IB_IP4_STRLEN];

		ib_ip4_format(a & ib_prefix_mask((uint8_t)len), net);
		return ib_cfg_fail_at(w, n, "%s has host bits set (did you mean %s/%u?)",
				      n->str, net, (unsigned)len);
	}
	*ret_net = a;
	*ret_len = (uint8_t)len;
	return 0;
}

/* The same value read as IPv4, for "expected an IPv6 address" messages
 * that say what was given instead. */
static bool looks_ip4(const char *s)
{
	uint32_t a;

	return ib_ip4_parse(s, &a) == 0;
}

int ib_cfg_read_ip6(struct ib_cfg_walk *w, const struct ib_ynode *n, uint8_t ret[16])
{
	uint8_t a[16];
	char q[QUOTE_MAX * 4 + 8];
	int r = need_scalar(w, n, "an IPv6 address");

	if (r < 0)
		return r;
	if (n->len != strlen(n->str) || inet_pton(AF_INET6, n->str, a) != 1) {
		if (n->len != strlen(n->str) || !looks_ip4(n->str))
			return bad_value(w, n, "an IPv6 address");
		ib_cfg_quote(n, q, sizeof(q));
		return ib_cfg_fail_at(w, n, "expected an IPv6 address, got '%s' (an IPv4 address)", q);
	}
	memcpy(ret, a, sizeof(a));
	return 0;
}

/* Clears the bits of a past its first len. */
static void mask6(uint8_t a[16], unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;

		a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int ib_cfg_read_cidr6(struct ib_cfg_walk *w, const struct ib_ynode *n,
		      uint8_t ret_prefix[16], uint8_t *ret_len)
{
	static const char what[] = "an IPv6 prefix (addr/len)";
	char addr[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	const char *slash;
	uint8_t a[16], m[16];
	uint64_t len;
	int r = need_scalar(w, n, what);

	if (r < 0)
		return r;
	slash = strchr(n->str, '/');
	if (n->len != strlen(n->str) || !slash || (size_t)(slash - n->str) >= sizeof(addr))
		return bad_value(w, n, what);
	memcpy(addr, n->str, (size_t)(slash - n->str));
	addr[slash - n->str] = '\0';
	if (inet_pton(AF_INET6, addr, a) != 1) {
		char q[QUOTE_MAX * 4 + 8];

		if (!looks_ip4(addr))
			return bad_value(w, n, what);
		ib_cfg_quote(n, q, sizeof(q));
		return ib_cfg_fail_at(w, n, "expected an IPv6 prefix, got '%s' (an IPv4 prefix)", q);
	}
	if (!parse_decimal(slash + 1, strlen(slash + 1), &len) || len > 128)
		return bad_value(w, n, what);
	memcpy(m, a, sizeof(m));
	mask6(m, (unsigned)len);
	if (memcmp(m, a, sizeof(a)) != 0) {
		inet_ntop(AF_INET6, m, net, sizeof(net));
		return ib_cfg_fail_at(w, n, "%s has host bits set (did you mean %s/%u?)",
				      n->str, net, (unsigned)len);
	}
	memcpy(ret_prefix, a, sizeof(a));
	*ret_len = (uint8_t)len;
	return 0;
}

static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

/* RFC 1035 2.3.4 / RFC 1123 2.1: labels of 1..63 letters, digits and
 * hyphens, not starting or ending with a hyphen; 253 bytes in all. */
static const char *dns_name_problem(const char *s, size_t len)
{
	size_t label = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;			/* a fully qualified name */
	if (len == 0)
		return "is empty";
	if (len > 253)
		return "is longer than 253 bytes";
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0)
				return "has an empty label";
			if (label > 63)
				return "has a label longer than 63 bytes";
			if (s[i - 1] == '-' || s[i - label] == '-')
				return "has a label starting or ending with '-'";
			label = 0;
		} else if (!ldh(s[i])) {
			return "may hold only letters, digits, '-' and '.'";
		} else {
			label++;
		}
	}
	return NULL;
}

int ib_cfg_read_dns_name(struct ib_cfg_walk *w, const struct ib_ynode *n, char **ret)
{
	const char *problem;
	char q[QUOTE_MAX * 4 + 8];
	int r = need_scalar(w, n, "a DNS name");

	if (r < 0)
		return r;
	problem = n->len != strlen(n->str) ? "holds a NUL byte" : dns_name_problem(n->str, n->len);
	if (problem) {
		ib_cfg_quote(n, q, sizeof(q));
		return ib_cfg_fail_at(w, n, "'%s' is not a valid DNS name: it %s", q, problem);
	}
	return ib_cfg_read_string(w, n, ret);
}

int ib_cfg_read_seq(struct ib_cfg_walk *w, const struct ib_ynode *n, size_t max)
{
	if (n->kind != IB_YNODE_SEQUENCE)
		return ib_cfg_fail_at(w, n, "expected a sequence, got %s",
				      ib_ynode_describe(n));
	if (n->n_items > max)
		return ib_cfg_fail_at(w, n, "too many items (%zu, at most %zu)",
				      n->n_items, max);
	return 0;
}

int ib_cfg_read_mac(struct ib_cfg_walk *w, const struct ib_ynode *n, uint8_t ret[6])
{
	int r = need_scalar(w, n, "a MAC address");

	if (r < 0)
		return r;
	if (n->len != strlen(n->str) || ib_mac_parse(n->str, ret) < 0)
		return bad_value(w, n, "a MAC address (aa:bb:cc:dd:ee:ff)");
	return 0;
}

int ib_cfg_read_hex(struct ib_cfg_walk *w, const struct ib_ynode *n, size_t min,
		    size_t max, uint8_t *out, size_t *ret_len)
{
	uint8_t buf[256];
	size_t len;
	int r = need_scalar(w, n, "hex bytes");

	if (r < 0)
		return r;
	if (n->len != strlen(n->str) || ib_hex_parse(n->str, buf, sizeof(buf), &len) < 0)
		return bad_value(w, n, "hex bytes (01:02:0a or 01020a)");
	if (len < min || len > max)
		return ib_cfg_fail_at(w, n, "%zu bytes, expected %zu..%zu", len, min, max);
	memcpy(out, buf, len);
	*ret_len = len;
	return 0;
}

int ib_cfg_read_enum(struct ib_cfg_walk *w, const struct ib_ynode *n,
		     const char *const *names, int *ret)
{
	char expected[128] = "";
	char *s;
	int r = ib_cfg_read_string(w, n, &s);

	if (r < 0)
		return r;
	for (int i = 0; names[i]; i++) {
		size_t len = strlen(expected);

		if (strcmp(s, names[i]) == 0) {
			free(s);
			*ret = i;
			return 0;
		}
		snprintf(expected + len, sizeof(expected) - len, "%s%s",
			 i ? (names[i + 1] ? ", " : " or ") : "", names[i]);
	}
	free(s);
	return ib_cfg_fail_at(w, n, "expected %s", expected);
}

int ib_cfg_read_kv_map(struct ib_cfg_walk *w, const struct ib_ynode *n, size_t max,
		       struct ib_kv **ret, size_t *ret_n)
{
	size_t count = n->n_items / 2;
	struct ib_kv *a;
	int r = 0;

	if (n->kind != IB_YNODE_MAPPING)
		return ib_cfg_fail_at(w, n, "expected a mapping, got %s", ib_ynode_describe(n));
	if (count > max)
		return ib_cfg_fail_at(w, n, "too many keys (%zu, at most %zu)", count, max);
	if (count == 0)
		return 0;
	a = calloc(count, sizeof(*a));
	if (!a)
		return ib_cfg_fail_nomem(w->err);
	/* Stored before the items are read: the snapshot frees what was read. */
	*ret = a;
	*ret_n = count;
	for (size_t i = 0; i < count && r == 0; i++) {
		const struct ib_ynode *k = n->items[2 * i], *v = n->items[2 * i + 1];

		r = ib_cfg_read_string(w, k, &a[i].key);
		for (size_t j = 0; j < i && r == 0; j++)
			if (strcmp(a[j].key, a[i].key) == 0)
				r = ib_cfg_fail_at(w, k, "duplicate key '%s'", a[i].key);
		if (r == 0) {
			size_t mark = ib_cfg_path_key(w, a[i].key);

			r = ib_cfg_read_string(w, v, &a[i].value);
			ib_cfg_path_pop(w, mark);
		}
	}
	return r;
}
