/*
 * libFuzzer target for request targets.
 *
 * A target that parses must give a path that starts with '/', holds no
 * "..", "." or empty segment (a trailing '/' aside), no backslash and no
 * control byte, fits its cap, and parameters within their caps with
 * unique non-empty keys free of control bytes, each found by lookup.
 * Re-encoding the result and parsing it again must give the same path and
 * parameters.  The input is also tried as a MAC address: a normalised
 * MAC is lowercase "xx:xx:xx:xx:xx:xx" and normalises to itself.
 * Any broken property aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_url.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool clean(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void check_path(const struct ib_http_url *u)
{
	const char *p = u->path;
	size_t len = u->path_len;

	CHECK(len >= 1 && len <= IB_HTTP_PATH_MAX && strlen(p) == len && p[0] == '/');
	CHECK(clean(p, len) && !memchr(p, '\\', len));
	for (size_t i = 1; i <= len; i++) {
		size_t e = i;

		while (e < len && p[e] != '/')
			e++;
		CHECK(e > i || e == len);			/* no "//" */
		CHECK(!(e - i == 1 && p[i] == '.'));
		CHECK(!(e - i == 2 && p[i] == '.' && p[i + 1] == '.'));
		i = e;
	}
}

static void check_params(const struct ib_http_url *u)
{
	CHECK(u->nparams <= IB_HTTP_PARAMS_MAX);
	for (unsigned i = 0; i < u->nparams; i++) {
		const struct ib_http_param *pa = &u->params[i];
		size_t kl = strnlen(pa->key, sizeof(pa->key));
		size_t vl = strnlen(pa->value, sizeof(pa->value));

		CHECK(kl >= 1 && kl <= IB_HTTP_KEY_MAX && vl <= IB_HTTP_VALUE_MAX);
		CHECK(clean(pa->key, kl) && clean(pa->value, vl));
		CHECK(ib_http_url_param(u, pa->key) == pa->value);
	}
}

/* Percent-encodes s[0..len) into out at *o, keeping unreserved and keep. */
static void encode(const char *s, size_t len, const char *keep, char *out, size_t *o)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c && strchr("-._~", c)) ||
		    (c && strchr(keep, c))) {
			out[(*o)++] = (char)c;
		} else {
			out[(*o)++] = '%';
			out[(*o)++] = hex[c >> 4];
			out[(*o)++] = hex[c & 15];
		}
	}
}

static void check_round_trip(const struct ib_http_url *u)
{
	static char buf[3 * (IB_HTTP_PATH_MAX + IB_HTTP_PARAMS_MAX *
			     (IB_HTTP_KEY_MAX + IB_HTTP_VALUE_MAX + 2))];
	static struct ib_http_url back;
	size_t o = 0;
	int r;

	encode(u->path, u->path_len, "/", buf, &o);
	for (unsigned i = 0; i < u->nparams; i++) {
		buf[o++] = i ? '&' : '?';
		encode(u->params[i].key, strlen(u->params[i].key), "", buf, &o);
		buf[o++] = '=';
		encode(u->params[i].value, strlen(u->params[i].value), "", buf, &o);
	}
	r = ib_http_url_parse(buf, o, &back);
	CHECK(r == 0 || (r == -ENAMETOOLONG && o > IB_HTTP_TARGET_MAX));
	if (r < 0)
		return;
	CHECK(back.path_len == u->path_len && strcmp(back.path, u->path) == 0);
	CHECK(back.nparams == u->nparams);
	for (unsigned i = 0; i < u->nparams; i++) {
		CHECK(strcmp(back.params[i].key, u->params[i].key) == 0);
		CHECK(strcmp(back.params[i].value, u->params[i].value) == 0);
	}
}

static void check_mac(const uint8_t *data, size_t size)
{
	char in[24], out[IB_HTTP_MAC_STRLEN], again[IB_HTTP_MAC_STRLEN];
	size_t n = size < sizeof(in) - 1 ? size : sizeof(in) - 1;

	memcpy(in, data, n);
	in[n] = '\0';
	if (ib_http_mac_normalize(in, out) < 0)
		return;
	CHECK(strlen(out) == 17);
	for (size_t i = 0; i < 17; i++)
		CHECK(i % 3 == 2 ? out[i] == ':' :
		      ((out[i] >= '0' && out[i] <= '9') || (out[i] >= 'a' && out[i] <= 'f')));
	CHECK(ib_http_mac_normalize(out, again) == 0 && strcmp(out, again) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ib_http_url u;
	int r = ib_http_url_parse((const char *)data, size, &u);

	CHECK(r == 0 || r == -EBADMSG || r == -EACCES || r == -ENAMETOOLONG || r == -E2BIG);
	if (r == 0) {
		check_path(&u);
		check_params(&u);
		check_round_trip(&u);
	}
	check_mac(data, size);
	return 0;
}
