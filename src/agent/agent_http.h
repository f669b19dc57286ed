/*
 * The agent's HTTP/1.1 client: one request per connection (Connection:
 * close), plain TCP to an address literal, a timeout on the connect and on
 * every wait for the socket.  Retries are the caller's (agent_client.c).
 */
#ifndef IB_AGENT_HTTP_H
#define IB_AGENT_HTTP_H

#include <stddef.h>

#include "agent/agent_http_parse.h"
#include "agent/agent_url.h"

/* One request. */
struct ib_agent_http_call {
	const char *method;		/* "GET", "POST" */
	const struct ib_agent_url *url;	/* where */
	const char *token;		/* bearer token, or NULL */
	const char *body;		/* JSON body, or NULL */
	size_t body_len;		/* bytes of body */
	int timeout_ms;			/* connect, and each wait for the socket */
	/* called once the final status and header fields are read, before
	 * any body byte; a negative return aborts the call with it */
	int (*on_head)(void *ctx, const struct ib_agent_http_resp *r);
	ib_agent_http_body_fn on_body;	/* receives the response body, or NULL */
	void *ctx;			/* on_head's and on_body's */
};

/*
 * Sends the request and reads the whole response, its body into
 * on_body.  Returns 0 with the final status in *ret_status (any status:
 * the caller judges), or -errno: the connect's (-ECONNREFUSED,
 * -ENETUNREACH, ...), -ETIMEDOUT, the parser's (-EBADMSG, ...), -EPIPE when
 * the response was cut short, or on_body's error.
 */
int ib_agent_http_call(const struct ib_agent_http_call *c, int *ret_status);

/*
 * The same, collecting the body (at most cap bytes, else -EFBIG) into
 * *ret_body (NUL-terminated; free() it) and *ret_len.
 */
int ib_agent_http_fetch(const struct ib_agent_http_call *c, size_t cap,
			int *ret_status, char **ret_body, size_t *ret_len);

#endif
