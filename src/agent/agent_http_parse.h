/*
 * HTTP/1.1 responses as the agent reads them (RFC 9112), parsed
 * incrementally from whatever the socket delivers, and the requests it
 * writes.  Pure: no I/O; the body goes to a callback as it arrives.
 *
 * Framing follows RFC 9112 6.3: no body after HEAD, 1xx, 204 and 304;
 * Transfer-Encoding: chunked (the only transfer coding the agent accepts:
 * it sends no TE) wins over Content-Length; several Content-Length values
 * must agree; without either the body ends when the server closes.
 * Interim 1xx responses are skipped.  Lines are capped, and so is the
 * number of header fields; obsolete line folding is refused.
 */
#ifndef IB_AGENT_HTTP_PARSE_H
#define IB_AGENT_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_AGENT_HTTP_LINE_MAX 8192	/* bytes of a status or header line */
#define IB_AGENT_HTTP_HEADERS_MAX 100	/* header fields of one response */

/* Receives body bytes; a negative return aborts the parse with it. */
typedef int (*ib_agent_http_body_fn)(void *ctx, const uint8_t *p, size_t n);

/* A response being parsed (embed it; no pointers outside itself). */
struct ib_agent_http_resp {
	int status;			/* the final status code, 200..599 */
	int64_t content_length;		/* Content-Length, -1 when absent */
	bool chunked;			/* Transfer-Encoding: chunked */
	bool conn_close;		/* Connection: close, or HTTP/1.0 */
	uint64_t body_bytes;		/* body bytes handed to the callback */
	ib_agent_http_body_fn on_body;	/* receives the body, or NULL */
	void *ctx;			/* on_body's */
	/* private to the parser */
	int state;			/* where the next byte goes */
	bool head;			/* the request was HEAD: no body */
	uint64_t remaining;		/* of the body or of the current chunk */
	unsigned nheaders;		/* header fields seen */
	size_t line_len;		/* bytes in line */
	char line[IB_AGENT_HTTP_LINE_MAX];	/* the line being read */
};

/*
 * Starts a parse; head: the request was a HEAD.  Body bytes will go to
 * on_body(ctx, ...) (NULL: dropped).
 */
void ib_agent_http_resp_init(struct ib_agent_http_resp *r, bool head,
			     ib_agent_http_body_fn on_body, void *ctx);

/*
 * Feeds p[0..n).  Returns 1 once the response is complete (*ret_used:
 * bytes of p it took; the rest is not part of it), 0 when it needs more,
 * or a negative errno: -EBADMSG for a malformed response, -E2BIG for a
 * line or header count over its cap, -EOPNOTSUPP for a transfer coding
 * other than chunked, or on_body's error.
 */
int ib_agent_http_resp_feed(struct ib_agent_http_resp *r, const uint8_t *p,
			    size_t n, size_t *ret_used);

/*
 * The server closed the connection: 1 if that completes the response (a
 * body delimited by the close), -EPIPE if the response was cut short.
 */
int ib_agent_http_resp_eof(struct ib_agent_http_resp *r);

/* One request to write. */
struct ib_agent_http_req_head {
	const char *method;		/* "GET", "POST" */
	const char *target;		/* origin-form, starts '/' */
	const char *hostport;		/* Host header value */
	const char *token;		/* bearer token, or NULL for none */
	const char *content_type;	/* or NULL when there is no body */
	size_t body_len;		/* Content-Length when content_type */
};

/*
 * Lays out the request line and header fields (ending with the empty
 * line) into out[cap].  Connection: close; User-Agent: ironboot-agent.
 * Returns the length, or -ENOBUFS when it does not fit.
 */
int ib_agent_http_req_format(const struct ib_agent_http_req_head *h,
			     char *out, size_t cap);

#endif
