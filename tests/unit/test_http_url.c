/* Unit tests for request-target parsing and MAC normalisation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "http/http_url.h"

/* A target as a literal with embedded NULs, and its length. */
#define T(s) .target = (s), .len = sizeof(s) - 1

static const struct url_case {
	const char *target;	/* request target */
	size_t len;		/* its length */
	int rc;			/* expected return */
	const char *path;	/* expected path when rc == 0 */
	const char *params;	/* expected "k=v;k=v" when rc == 0 */
} url_cases[] = {
	{ T("/"), 0, "/", "" },
	{ T("/boot.ipxe"), 0, "/boot.ipxe", "" },
	{ T("/assets/"), 0, "/assets/", "" },
	{ T("/a/./b/."), 0, "/a/b", "" },
	{ T("/./"), 0, "/", "" },
	{ T("/a%20b/%7Euser"), 0, "/a b/~user", "" },
	{ T("/a+b"), 0, "/a+b", "" },			/* '+' is literal in paths */
	{ T("/.../x"), 0, "/.../x", "" },		/* a name, not traversal */
	{ T("/%C3%A9t%C3%A9"), 0, "/\xc3\xa9t\xc3\xa9", "" },
	{ T("/boot.ipxe?mac=52%3A54%3A00%3A12%3A34%3A56"
	    "&uuid=4c4c4544-0042-3510-8057-b4c04f4a4d32&arch=x86_64"
	    "&platform=efi&hostname=&serial=CZ%2012+AB"), 0, "/boot.ipxe",
	  "mac=52:54:00:12:34:56;uuid=4c4c4544-0042-3510-8057-b4c04f4a4d32;"
	  "arch=x86_64;platform=efi;hostname=;serial=CZ 12 AB" },
	{ T("/b?mac=52:54:00:12:34:56&x=a=b"), 0, "/b", "mac=52:54:00:12:34:56;x=a=b" },
	{ T("/b?a=1&a=2&b"), 0, "/b", "a=1;b=" },	/* first duplicate wins */
	{ T("/b?&&a=1&&=skipped&"), 0, "/b", "a=1" },
	{ T("/b?"), 0, "/b", "" },
	{ T("/b?k%3D=v%26w"), 0, "/b", "k==v&w" },
	{ T("/b?x=/../etc"), 0, "/b", "x=/../etc" },	/* the query is data */
	{ T("/b?a=\xc3"), -EBADMSG, NULL, NULL },	/* raw non-ASCII */
	/* traversal and ambiguity */
	{ T("/assets/../etc/passwd"), -EACCES, NULL, NULL },
	{ T("/assets/%2e%2e/x"), -EACCES, NULL, NULL },
	{ T("/assets/%2E%2E"), -EACCES, NULL, NULL },
	{ T("/assets/.%2e/x"), -EACCES, NULL, NULL },
	{ T("/assets/..%2fx"), -EACCES, NULL, NULL },
	{ T("/assets/%2fetc"), -EACCES, NULL, NULL },
	{ T("/.."), -EACCES, NULL, NULL },
	{ T("//etc"), -EACCES, NULL, NULL },
	{ T("/a//b"), -EACCES, NULL, NULL },
	{ T("/a\\b"), -EACCES, NULL, NULL },
	{ T("/a%5cb"), -EACCES, NULL, NULL },
	{ T("/a/..\\..\\x"), -EACCES, NULL, NULL },
	/* malformed */
	{ T(""), -EBADMSG, NULL, NULL },
	{ T("boot.ipxe"), -EBADMSG, NULL, NULL },
	{ T("http://evil/boot.ipxe"), -EBADMSG, NULL, NULL },
	{ T("*"), -EBADMSG, NULL, NULL },
	{ T("/a b"), -EBADMSG, NULL, NULL },
	{ T("/a\0b"), -EBADMSG, NULL, NULL },
	{ T("/a#frag"), -EBADMSG, NULL, NULL },
	{ T("/a%00"), -EBADMSG, NULL, NULL },
	{ T("/a%0a"), -EBADMSG, NULL, NULL },
	{ T("/a%7f"), -EBADMSG, NULL, NULL },
	{ T("/a%"), -EBADMSG, NULL, NULL },
	{ T("/a%4"), -EBADMSG, NULL, NULL },
	{ T("/a%zz"), -EBADMSG, NULL, NULL },
	{ T("/a<b>"), -EBADMSG, NULL, NULL },
	{ T("/a\"b"), -EBADMSG, NULL, NULL },
	{ T("/a\x7f"), -EBADMSG, NULL, NULL },
	{ T("/b?x=%00"), -EBADMSG, NULL, NULL },
	{ T("/b?x=a%0d%0aSet-Cookie:1"), -EBADMSG, NULL, NULL },
	{ T("/b?x%01=1"), -EBADMSG, NULL, NULL },
	{ T("/b?x=%G0"), -EBADMSG, NULL, NULL },
	{ T("/b?x=1\t"), -EBADMSG, NULL, NULL },
};

/* Formats the parameters of u as "k=v;k=v". */
static void params_str(const struct ib_http_url *u, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < u->nparams; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s=%s", i ? ";" : "",
				      u->params[i].key, u->params[i].value);
}

static void test_url_table(void **state)
{
	static struct ib_http_url u;
	char buf[1024];

	for (size_t i = 0; i < IB_ARRAY_SIZE(url_cases); i++) {
		const struct url_case *c = &url_cases[i];
		int rc;

		memset(&u, 0xa5, sizeof(u));
		rc = ib_http_url_parse(c->target, c->len, &u);
		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d, want %d", i, c->target, rc, c->rc);
		if (rc < 0) {
			assert_int_equal(((unsigned char *)&u)[0], 0xa5);	/* untouched */
			continue;
		}
		assert_string_equal(u.path, c->path);
		assert_int_equal(u.path_len, strlen(c->path));
		params_str(&u, buf, sizeof(buf));
		if (strcmp(buf, c->params) != 0)
			fail_msg("case %zu: params \"%s\"", i, buf);
	}
}

static void test_url_lookup(void **state)
{
	static const char t[] = "/boot.ipxe?mac=52%3A54%3A00%3A12%3A34%3A56&uuid=x&arch=";
	static struct ib_http_url u;

	assert_int_equal(ib_http_url_parse(t, sizeof(t) - 1, &u), 0);
	assert_string_equal(ib_http_url_param(&u, "mac"), "52:54:00:12:34:56");
	assert_string_equal(ib_http_url_param(&u, "uuid"), "x");
	assert_string_equal(ib_http_url_param(&u, "arch"), "");
	assert_null(ib_http_url_param(&u, "MAC"));
	assert_null(ib_http_url_param(&u, "serial"));
}

/* Builds "/p?" and n params k0=v&k1=v... into buf. */
static size_t many_params(char *buf, size_t cap, unsigned n)
{
	size_t o = (size_t)snprintf(buf, cap, "/p?");

	for (unsigned i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%sk%u=v", i ? "&" : "", i);
	return o;
}

static void test_url_limits(void **state)
{
	static struct ib_http_url u;
	static char buf[IB_HTTP_TARGET_MAX + 16];
	size_t n;

	n = many_params(buf, sizeof(buf), IB_HTTP_PARAMS_MAX);
	assert_int_equal(ib_http_url_parse(buf, n, &u), 0);
	assert_int_equal(u.nparams, IB_HTTP_PARAMS_MAX);
	n = many_params(buf, sizeof(buf), IB_HTTP_PARAMS_MAX + 1);
	assert_int_equal(ib_http_url_parse(buf, n, &u), -E2BIG);
	/* duplicates do not count */
	n = many_params(buf, sizeof(buf), IB_HTTP_PARAMS_MAX);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "&k0=again");
	assert_int_equal(ib_http_url_parse(buf, n, &u), 0);

	/* path: exactly at the cap, then one over */
	buf[0] = '/';
	memset(buf + 1, 'a', IB_HTTP_PATH_MAX - 1);
	assert_int_equal(ib_http_url_parse(buf, IB_HTTP_PATH_MAX, &u), 0);
	assert_int_equal(u.path_len, IB_HTTP_PATH_MAX);
	buf[IB_HTTP_PATH_MAX] = 'a';
	assert_int_equal(ib_http_url_parse(buf, IB_HTTP_PATH_MAX + 1, &u), -ENAMETOOLONG);
	memset(buf, '/', 1);
	memset(buf + 1, 'a', IB_HTTP_TARGET_MAX);
	assert_int_equal(ib_http_url_parse(buf, IB_HTTP_TARGET_MAX + 1, &u), -ENAMETOOLONG);

	/* key and value caps, decoded lengths */
	n = (size_t)snprintf(buf, sizeof(buf), "/p?%0*d=v", IB_HTTP_KEY_MAX, 0);
	assert_int_equal(ib_http_url_parse(buf, n, &u), 0);
	n = (size_t)snprintf(buf, sizeof(buf), "/p?%0*d=v", IB_HTTP_KEY_MAX + 1, 0);
	assert_int_equal(ib_http_url_parse(buf, n, &u), -ENAMETOOLONG);
	n = (size_t)snprintf(buf, sizeof(buf), "/p?k=%0*d", IB_HTTP_VALUE_MAX, 0);
	assert_int_equal(ib_http_url_parse(buf, n, &u), 0);
	assert_int_equal(strlen(ib_http_url_param(&u, "k")), IB_HTTP_VALUE_MAX);
	n = (size_t)snprintf(buf, sizeof(buf), "/p?k=%0*d", IB_HTTP_VALUE_MAX + 1, 0);
	assert_int_equal(ib_http_url_parse(buf, n, &u), -ENAMETOOLONG);
	n = 5;
	memcpy(buf, "/p?k=", 5);
	for (unsigned i = 0; i < IB_HTTP_VALUE_MAX; i++, n += 3)
		memcpy(buf + n, "%41", 3);
	assert_int_equal(ib_http_url_parse(buf, n, &u), 0);
}

static const struct mac_case {
	const char *in;		/* as sent */
	const char *out;	/* normalised, or NULL when refused */
} mac_cases[] = {
	{ "52:54:00:12:34:56", "52:54:00:12:34:56" },
	{ "52:54:00:AB:cd:EF", "52:54:00:ab:cd:ef" },
	{ "52-54-00-ab-cd-ef", "52:54:00:ab:cd:ef" },
	{ "525400ABCDEF", "52:54:00:ab:cd:ef" },
	{ "52:54:00-ab:cd:ef", NULL },
	{ "52:54:00:ab:cd", NULL },
	{ "52:54:00:ab:cd:ef:", NULL },
	{ "52:54:00:ab:cd:eg", NULL },
	{ "5254.00ab.cdef", NULL },
	{ "525400ABCDE", NULL },
	{ "525400ABCDEF0", NULL },
	{ "52 54 00 ab cd ef", NULL },
	{ "", NULL },
	{ "${net0/mac}", NULL },
};

static void test_mac_normalize(void **state)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(mac_cases); i++) {
		char out[IB_HTTP_MAC_STRLEN] = "untouched";
		int rc = ib_http_mac_normalize(mac_cases[i].in, out);

		if (mac_cases[i].out) {
			assert_int_equal(rc, 0);
			assert_string_equal(out, mac_cases[i].out);
		} else {
			assert_int_equal(rc, -EINVAL);
			assert_string_equal(out, "untouched");
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_table),
		cmocka_unit_test(test_url_lookup),
		cmocka_unit_test(test_url_limits),
		cmocka_unit_test(test_mac_normalize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
