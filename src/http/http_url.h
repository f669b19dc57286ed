/*
 * HTTP request targets (RFC 9112 3.2.1 origin-form: absolute-path
 * ["?" query]) parsed into a decoded, normalised path and query
 * parameters.  Pure; all storage is inside struct ib_http_url.
 *
 * Path: percent-decoded per segment (RFC 3986 2.1); "." segments are
 * dropped; refused are "..", empty segments ("//") except a trailing
 * "/", backslashes raw or decoded, a decoded '/' inside a segment
 * ("%2F"), %00 and other decoded control bytes, raw bytes outside RFC
 * 3986 pchar, and paths longer than IB_HTTP_PATH_MAX once decoded.  The
 * result starts with '/' and may be joined under a root directory as is
 * (the file layer still opens it confined under its root fd).
 *
 * Query (application/x-www-form-urlencoded): pairs split at '&', key and
 * value at the first '='; '+' is a space; percent-decoded; empty pairs
 * and empty keys are skipped; a duplicate key keeps its first value;
 * decoded NUL or control bytes are refused.
 */
#ifndef IB_HTTP_URL_H
#define IB_HTTP_URL_H

#include <stddef.h>

#define IB_HTTP_TARGET_MAX 4096		/* bytes of a request target */
#define IB_HTTP_PATH_MAX 2048		/* bytes of the decoded path */
#define IB_HTTP_PARAMS_MAX 32		/* distinct query keys */
#define IB_HTTP_KEY_MAX 64		/* bytes of a decoded key */
#define IB_HTTP_VALUE_MAX 256		/* bytes of a decoded value */
#define IB_HTTP_MAC_STRLEN 18		/* "aa:bb:cc:dd:ee:ff" and NUL */

/* One query parameter, decoded. */
struct ib_http_param {
	char key[IB_HTTP_KEY_MAX + 1];		/* NUL-terminated, non-empty */
	char value[IB_HTTP_VALUE_MAX + 1];	/* NUL-terminated, may be "" */
};

/* A parsed request target (about 14 KiB: embed or allocate, no pointers). */
struct ib_http_url {
	char path[IB_HTTP_PATH_MAX + 1];	/* decoded, normalised, starts '/' */
	size_t path_len;			/* bytes in path, NUL excluded */
	struct ib_http_param params[IB_HTTP_PARAMS_MAX];	/* in arrival order */
	unsigned nparams;			/* params used */
};

/*
 * Parses target[0..len) (need not be NUL-terminated) into *ret, written
 * only on success.  Returns 0; -EBADMSG when malformed (not origin-form,
 * a fragment, a bad or NUL/control percent escape, a raw byte not allowed
 * there); -EACCES for traversal or ambiguity ("..", "//", '\\', "%2F");
 * -ENAMETOOLONG when the target, the path, a key or a value is over its
 * cap; -E2BIG for more than IB_HTTP_PARAMS_MAX distinct keys.
 */
int ib_http_url_parse(const char *target, size_t len, struct ib_http_url *ret);

/* The value of query key (exact, case-sensitive), or NULL if absent. */
const char *ib_http_url_param(const struct ib_http_url *u, const char *key);

/*
 * Normalises a MAC address as iPXE may send it ("52:54:00:12:34:56",
 * "52-54-00-12-34-56" from ${mac:hexhyp}, "525400123456" from
 * ${mac:hexraw}, any case) to lowercase "52:54:00:12:34:56" in
 * ret[IB_HTTP_MAC_STRLEN].  Separators must be consistent.  0 or -EINVAL.
 */
int ib_http_mac_normalize(const char *s, char ret[IB_HTTP_MAC_STRLEN]);

#endif
