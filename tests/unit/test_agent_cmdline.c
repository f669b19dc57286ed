/* Unit tests for the agent's URLs and kernel command line
 * (src/agent/agent_url.c, agent_cmdline.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_cmdline.h"
#include "agent/agent_url.h"

/* malloc that never returns NULL (a test without memory just stops) */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static const struct url_case {
	const char *url;	/* input */
	int rc;			/* expected return */
	const char *host;	/* expected host literal */
	unsigned port;		/* expected port */
	const char *target;	/* expected request target */
} url_cases[] = {
#define BAD(u, e) { .url = (u), .rc = (e) }
	{ "http://198.18.0.1:8080", 0, "198.18.0.1", 8080, "/" },
	{ "http://198.18.0.1", 0, "198.18.0.1", 80, "/" },
	{ "HTTP://198.18.0.1/", 0, "198.18.0.1", 80, "/" },
	{ "http://198.18.0.1:8080/ironboot/", 0, "198.18.0.1", 8080, "/ironboot/" },
	{ "http://198.18.0.1/img/disk.raw.gz?v=2&x=%20", 0, "198.18.0.1", 80,
	  "/img/disk.raw.gz?v=2&x=%20" },
	{ "http://198.18.0.1?q=1", 0, "198.18.0.1", 80, "/?q=1" },
	{ "http://[fd00:b007::1]:8080/x", 0, "fd00:b007::1", 8080, "/x" },
	{ "http://[fd00:b007::1]", 0, "fd00:b007::1", 80, "/" },
	{ "http://198.18.0.1:65535/", 0, "198.18.0.1", 65535, "/" },
	/* refused */
	BAD("https://198.18.0.1/", -EPROTONOSUPPORT),
	BAD("ftp://198.18.0.1/", -EPROTONOSUPPORT),
	BAD("198.18.0.1:8080", -EINVAL),
	BAD("http://boot.example/", -EADDRNOTAVAIL),	/* no resolver */
	BAD("http://198.18.0.256/", -EADDRNOTAVAIL),
	BAD("http://[fd00:b007::1/", -EINVAL),
	BAD("http://[fd00:b007::1]x/", -EINVAL),
	BAD("http:///x", -EINVAL),
	BAD("http://:80/x", -EINVAL),
	BAD("http://198.18.0.1:0/", -EINVAL),
	BAD("http://198.18.0.1:65536/", -EINVAL),
	BAD("http://198.18.0.1:80a/", -EINVAL),
	BAD("http://198.18.0.1:/", -EINVAL),
	BAD("http://user@198.18.0.1/", -EINVAL),
	BAD("http://198.18.0.1/a b", -EINVAL),
	BAD("http://198.18.0.1/a\r\nX-Evil: 1", -EINVAL),
	BAD("http://198.18.0.1/a#frag", -EINVAL),
	BAD("http://198.18.0.1/\x7f", -EINVAL),
	BAD("http://198.18.0.1/caf\xc3\xa9", -EINVAL),
};

static void test_url_table(void **state)
{
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		const struct url_case *c = &url_cases[i];
		struct ib_agent_url u;
		int rc = ib_agent_url_parse(c->url, &u);
		if (rc != c->rc)
			fail_msg("%s: rc %d, want %d", c->url, rc, c->rc);
		if (rc < 0)
			continue;
		assert_string_equal(u.host, c->host);
		assert_int_equal(u.port, c->port);
		assert_string_equal(u.target, c->target);
	}
}

static void test_url_long(void **state)
{
	char *s = xmalloc(IB_AGENT_URL_MAX + 64);
	struct ib_agent_url u;

	strcpy(s, "http://198.18.0.1/");
	memset(s + strlen(s), 'a', IB_AGENT_URL_MAX);
	s[IB_AGENT_URL_MAX + 10] = '\0';
	assert_int_equal(ib_agent_url_parse(s, &u), -ENAMETOOLONG);
	free(s);
}

static void test_url_join(void **state)
{
	static const struct {
		const char *base, *path, *target;
	} cases[] = {
		{ "http://198.18.0.1:8080", "/api/v1/agent/report", "/api/v1/agent/report" },
		{ "http://198.18.0.1:8080/", "/api/v1/agent/report", "/api/v1/agent/report" },
		{ "http://198.18.0.1/ib", "/api/v1/x?mac=a", "/ib/api/v1/x?mac=a" },
		{ "http://198.18.0.1/ib//", "/api", "/ib/api" },
		{ "http://198.18.0.1/ib?x=1", "/api", "/ib/api" },	/* base query dropped */
	};
	char hp[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ib_agent_url b, u;
		assert_int_equal(ib_agent_url_parse(cases[i].base, &b), 0);
		assert_int_equal(ib_agent_url_join(&b, cases[i].path, &u), 0);
		assert_string_equal(u.target, cases[i].target);
		assert_int_equal(u.port, b.port);
	}
	{
		struct ib_agent_url b;
		assert_int_equal(ib_agent_url_parse("http://[fd00:b007::2]:81/", &b), 0);
		ib_agent_url_hostport(&b, hp, sizeof(hp));
		assert_string_equal(hp, "[fd00:b007::2]:81");
		assert_int_equal(ib_agent_url_parse("http://198.18.0.1", &b), 0);
		ib_agent_url_hostport(&b, hp, sizeof(hp));
		assert_string_equal(hp, "198.18.0.1:80");
	}
}

/* A command line as /proc/cmdline has it (ends with a newline). */
static int parse(const char *text, struct ib_agent_cmdline *c, const char **key)
{
	*key = NULL;
	return ib_agent_cmdline_parse(text, strlen(text), c, key);
}

static void test_cmdline_full(void **state)
{
	struct ib_agent_cmdline c;
	const char *key;

	assert_int_equal(parse("BOOT_IMAGE=vmlinuz console=ttyS0 quiet "
			       "ib.server=http://198.18.0.1:8080 ib.mac=52-54-00-AB-CD-EF "
			       "ib.token=s3cr3t-Tok_en.1~+/== ib.mode=wipe initrd=initrd.img\n",
			       &c, &key), 0);
	assert_string_equal(c.server_text, "http://198.18.0.1:8080");
	assert_string_equal(c.server.host, "198.18.0.1");
	assert_int_equal(c.server.port, 8080);
	assert_string_equal(c.token, "s3cr3t-Tok_en.1~+/==");
	assert_true(c.has_mac);
	assert_string_equal(c.mac, "52:54:00:ab:cd:ef");
	assert_int_equal(c.mode, IB_AGENT_MODE_WIPE);
	assert_string_equal(ib_agent_mode_name(c.mode), "wipe");
}

static void test_cmdline_defaults_and_quotes(void **state)
{
	struct ib_agent_cmdline c;
	const char *key;

	/* minimal: no mac, mode discover; quotes dropped; tabs; last wins */
	assert_int_equal(parse("ib.token=a\tib.server=\"http://198.18.0.9/\" "
			       "ib.token=b x=\"a b\" ib.unknown=1", &c, &key), 0);
	assert_false(c.has_mac);
	assert_int_equal(c.mode, IB_AGENT_MODE_DISCOVER);
	assert_string_equal(c.token, "b");
	assert_string_equal(c.server.host, "198.18.0.9");
	assert_int_equal(c.server.port, 80);
	/* NUL-separated (as /proc/PID/cmdline) also splits */
	{
		static const char nul[] = "ib.server=http://198.18.0.1\0ib.token=t";
		assert_int_equal(ib_agent_cmdline_parse(nul, sizeof(nul) - 1, &c, &key), 0);
		assert_string_equal(c.token, "t");
	}
}

static void test_cmdline_refused(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *key;
	} cases[] = {
		{ "ib.token=t", -ENOENT, "ib.server" },
		{ "ib.server=http://198.18.0.1", -ENOENT, "ib.token" },
		{ "", -ENOENT, "ib.server" },
		{ "ib.server=https://198.18.0.1 ib.token=t", -EPROTONOSUPPORT, "ib.server" },
		{ "ib.server=http://ironboot.lan ib.token=t", -EADDRNOTAVAIL, "ib.server" },
		{ "ib.server= ib.token=t", -EINVAL, "ib.server" },
		{ "ib.server=http://198.18.0.1 ib.token=", -EINVAL, "ib.token" },
		{ "ib.server=http://198.18.0.1 ib.token=\"a b\"", -EINVAL, "ib.token" },
		{ "ib.server=http://198.18.0.1 ib.token=a=b", -EINVAL, "ib.token" },
		{ "ib.server=http://198.18.0.1 ib.token==", -EINVAL, "ib.token" },
		{ "ib.server=http://198.18.0.1 ib.token=a\"\r\"b", -EINVAL, "ib.token" },
		{ "ib.server=http://198.18.0.1 ib.token=t ib.mac=52:54:00", -EINVAL, "ib.mac" },
		{ "ib.server=http://198.18.0.1 ib.token=t ib.mode=erase", -EINVAL, "ib.mode" },
	};
	struct ib_agent_cmdline c;
	const char *key;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text, &c, &key);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d", cases[i].text, rc, cases[i].rc);
		assert_non_null(key);
		assert_string_equal(key, cases[i].key);
	}
}

static void test_cmdline_limits(void **state)
{
	char *text = xmalloc(IB_AGENT_CMDLINE_MAX + 64);
	struct ib_agent_cmdline c;
	const char *key;
	size_t n;

	/* a token one byte over its cap */
	n = (size_t)sprintf(text, "ib.server=http://198.18.0.1 ib.token=");
	memset(text + n, 'a', IB_AGENT_TOKEN_MAX + 1);
	text[n + IB_AGENT_TOKEN_MAX + 1] = '\0';
	assert_int_equal(parse(text, &c, &key), -EINVAL);
	/* at the cap */
	text[n + IB_AGENT_TOKEN_MAX] = '\0';
	assert_int_equal(parse(text, &c, &key), 0);
	assert_int_equal(strlen(c.token), IB_AGENT_TOKEN_MAX);
	/* a whole command line over the cap */
	memset(text, ' ', IB_AGENT_CMDLINE_MAX + 1);
	assert_int_equal(ib_agent_cmdline_parse(text, IB_AGENT_CMDLINE_MAX + 1, &c, &key), -E2BIG);
	/* a server URL longer than the word buffer */
	n = (size_t)sprintf(text, "ib.token=t ib.server=http://198.18.0.1/");
	memset(text + n, 'p', IB_AGENT_CMDLINE_MAX - n - 1);
	text[IB_AGENT_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(parse(text, &c, &key), -ENAMETOOLONG);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_table),
		cmocka_unit_test(test_url_long),
		cmocka_unit_test(test_url_join),
		cmocka_unit_test(test_cmdline_full),
		cmocka_unit_test(test_cmdline_defaults_and_quotes),
		cmocka_unit_test(test_cmdline_refused),
		cmocka_unit_test(test_cmdline_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
