/* Unit tests for the agent's HTTP response parser and request layout
 * (src/agent/agent_http_parse.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_http_parse.h"

/* The body collected by the callback. */
struct body {
	char buf[4096];		/* bytes so far */
	size_t len;		/* in buf */
	int fail_after;		/* >0: fail once this many bytes arrived */
};

/* malloc that never returns NULL (a test without memory just stops) */
static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static int on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct body *b = ctx;

	if (b->len + n > sizeof(b->buf))
		return -EFBIG;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	if (b->fail_after && b->len >= (size_t)b->fail_after)
		return -ECANCELED;
	return 0;
}

#define R(s) .raw = (s), .rawlen = sizeof(s) - 1

static const struct resp_case {
	const char *what;
	const char *raw;	/* the bytes from the server */
	size_t rawlen;		/* their length */
	bool head;		/* the request was HEAD */
	int rc;			/* feed's final return (1 complete, 0 needs EOF) */
	int eof_rc;		/* when rc == 0: what EOF gives */
	int status;		/* expected */
	const char *body;	/* expected */
	size_t used;		/* bytes taken when complete (0: all) */
} cases[] = {
	{ "content-length", R("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
	  false, 1, 0, 200, "hello" },
	{ "lf only, no reason", R("HTTP/1.1 404\nContent-Length: 2\n\nno"),
	  false, 1, 0, 404, "no" },
	{ "zero length", R("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
	  false, 1, 0, 200, "" },
	{ "bytes after the body are not taken",
	  R("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"),
	  false, 1, 0, 200, "ok", 40 },
	{ "chunked with extension and trailer",
	  R("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
	    "5;name=x\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n"),
	  false, 1, 0, 200, "hello 0123456789" },
	{ "chunked wins over content-length",
	  R("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "2\r\nok\r\n0\r\n\r\n"), false, 1, 0, 200, "ok" },
	{ "repeated equal content-length",
	  R("HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length:2\r\n\r\nok"),
	  false, 1, 0, 200, "ok" },
	{ "interim 100 skipped",
	  R("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx"),
	  false, 1, 0, 201, "x" },
	{ "204 has no body", R("HTTP/1.1 204 No Content\r\n\r\n"), false, 1, 0, 204, "" },
	{ "304 has no body", R("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"),
	  false, 1, 0, 304, "" },
	{ "HEAD has no body", R("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
	  true, 1, 0, 200, "" },
	{ "close-delimited", R("HTTP/1.0 200 OK\r\n\r\nuntil close"),
	  false, 0, 1, 200, "until close" },
	{ "truncated content-length", R("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"),
	  false, 0, -EPIPE, 200, "short" },
	{ "truncated chunked", R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
	  false, 0, -EPIPE, 200, "hel" },
	{ "truncated headers", R("HTTP/1.1 200 OK\r\nContent-Le"), false, 0, -EPIPE, 200, "" },
	/* refused */
	{ "not http", R("SSH-2.0-OpenSSH\r\n"), false, -EBADMSG },
	{ "http/2 status line", R("HTTP/2 200\r\n\r\n"), false, -EBADMSG },
	{ "status 99", R("HTTP/1.1 099 x\r\n\r\n"), false, -EBADMSG },
	{ "status 600", R("HTTP/1.1 600 x\r\n\r\n"), false, -EBADMSG },
	{ "status four digits", R("HTTP/1.1 2000 x\r\n\r\n"), false, -EBADMSG },
	{ "bad content-length", R("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"),
	  false, -EBADMSG },
	{ "negative content-length", R("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
	  false, -EBADMSG },
	{ "huge content-length",
	  R("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"), false, -EBADMSG },
	{ "conflicting content-length",
	  R("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), false, -EBADMSG },
	{ "gzip transfer coding",
	  R("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), false, -EOPNOTSUPP },
	{ "obs-fold", R("HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n"), false, -EBADMSG },
	{ "space before colon", R("HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx"),
	  false, -EBADMSG },
	{ "no colon", R("HTTP/1.1 200 OK\r\nnonsense\r\n\r\n"), false, -EBADMSG },
	{ "NUL in a header", R("HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n"), false, -EBADMSG },
	{ "bare CR in a header", R("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n"), false, -EBADMSG },
	{ "bad chunk size", R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
	  false, -EBADMSG },
	{ "empty chunk size", R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"),
	  false, -EBADMSG },
	{ "chunk size overflow",
	  R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n"),
	  false, -EBADMSG },
	{ "chunk without CRLF after data",
	  R("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX\r\n0\r\n\r\n"),
	  false, -EBADMSG },
};

/* Feeds raw in pieces of step bytes (0: all at once). */
static int feed_steps(const struct resp_case *c, size_t step, struct ib_agent_http_resp *r,
		      struct body *b, size_t *ret_used)
{
	size_t off = 0, used = 0;
	int rc = 0;

	ib_agent_http_resp_init(r, c->head, on_body, b);
	while (off < c->rawlen) {
		size_t n = step ? step : c->rawlen;
		if (n > c->rawlen - off)
			n = c->rawlen - off;
		rc = ib_agent_http_resp_feed(r, (const uint8_t *)c->raw + off, n, &used);
		if (rc != 0) {
			*ret_used = off + used;
			return rc;
		}
		assert_int_equal(used, n);
		off += n;
	}
	*ret_used = off;
	return rc;
}

static void check_case(const struct resp_case *c, size_t step)
{
	struct ib_agent_http_resp *r = xmalloc(sizeof(*r));
	struct body b = { .len = 0 };
	size_t used = 0;
	int rc;

	rc = feed_steps(c, step, r, &b, &used);

	if (rc != c->rc)
		fail_msg("%s (step %zu): rc %d, want %d", c->what, step, rc, c->rc);
	if (rc == 0) {
		rc = ib_agent_http_resp_eof(r);
		if (rc != c->eof_rc)
			fail_msg("%s: eof rc %d, want %d", c->what, rc, c->eof_rc);
	}
	if (c->rc >= 0) {
		if (c->status && r->status && r->status != c->status)
			fail_msg("%s: status %d, want %d", c->what, r->status, c->status);
		if (b.len != strlen(c->body) || memcmp(b.buf, c->body, b.len) != 0)
			fail_msg("%s (step %zu): body \"%.*s\"", c->what, step, (int)b.len, b.buf);
		assert_int_equal(r->body_bytes, b.len);
		if (c->used)
			assert_int_equal(used, c->used);
	}
	free(r);
}

static void test_responses(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_case(&cases[i], 0);
		check_case(&cases[i], 1);	/* a byte at a time */
		check_case(&cases[i], 7);
	}
}

static void test_body_callback_error(void **state)
{
	static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	struct ib_agent_http_resp *r = xmalloc(sizeof(*r));
	struct body b = { .fail_after = 4 };
	size_t used;

	ib_agent_http_resp_init(r, false, on_body, &b);
	assert_int_equal(ib_agent_http_resp_feed(r, (const uint8_t *)raw, sizeof(raw) - 1,
						 &used), -ECANCELED);
	free(r);
}

static void test_limits(void **state)
{
	struct ib_agent_http_resp *r = xmalloc(sizeof(*r));
	char *raw = xmalloc(IB_AGENT_HTTP_LINE_MAX * 2);
	size_t used, n;

	/* a header line over the cap */
	ib_agent_http_resp_init(r, false, NULL, NULL);
	n = (size_t)sprintf(raw, "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(raw + n, 'a', IB_AGENT_HTTP_LINE_MAX);
	n += IB_AGENT_HTTP_LINE_MAX;
	assert_int_equal(ib_agent_http_resp_feed(r, (uint8_t *)raw, n, &used), -E2BIG);
	/* one header field too many */
	ib_agent_http_resp_init(r, false, NULL, NULL);
	n = (size_t)sprintf(raw, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= IB_AGENT_HTTP_HEADERS_MAX; i++)
		n += (size_t)sprintf(raw + n, "X-%d: 1\r\n", i);
	assert_int_equal(ib_agent_http_resp_feed(r, (uint8_t *)raw, n, &used), -E2BIG);
	/* exactly the cap is fine; Connection: close noted */
	ib_agent_http_resp_init(r, false, NULL, NULL);
	n = (size_t)sprintf(raw, "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n");
	for (int i = 2; i < IB_AGENT_HTTP_HEADERS_MAX; i++)
		n += (size_t)sprintf(raw + n, "X-%d: 1\r\n", i);
	n += (size_t)sprintf(raw + n, "Content-Length: 0\r\n\r\n");
	assert_int_equal(ib_agent_http_resp_feed(r, (uint8_t *)raw, n, &used), 1);
	assert_true(r->conn_close);
	assert_int_equal(r->content_length, 0);
	free(raw);
	free(r);
}

static void test_request_format(void **state)
{
	struct ib_agent_http_req_head h = {
		.method = "POST", .target = "/api/v1/agent/report", .hostport = "198.18.0.1:8080",
		.token = "tok", .content_type = "application/json", .body_len = 42,
	};
	char out[512], small[64];
	int n = ib_agent_http_req_format(&h, out, sizeof(out));

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_string_equal(out,
		"POST /api/v1/agent/report HTTP/1.1\r\n"
		"Host: 198.18.0.1:8080\r\n"
		"User-Agent: ironboot-agent/" IB_VERSION "\r\n"
		"Accept: */*\r\n"
		"Connection: close\r\n"
		"Authorization: Bearer tok\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: 42\r\n\r\n");
	h = (struct ib_agent_http_req_head){ .method = "GET", .target = "/img", .hostport = "h:1" };
	n = ib_agent_http_req_format(&h, out, sizeof(out));
	assert_true(n > 0);
	assert_null(strstr(out, "Authorization"));
	assert_null(strstr(out, "Content-Length"));
	assert_int_equal(memcmp(out + n - 4, "\r\n\r\n", 4), 0);
	assert_int_equal(ib_agent_http_req_format(&h, small, 40), -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_body_callback_error),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_request_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
