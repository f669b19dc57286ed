/*
 * GET/HEAD /healthz and /readyz: for monitoring, not for machines.
 *
 *   /healthz   200 "ok": the event loop answers (liveness).
 *   /readyz    200, or 503 when a service the snapshot enables is not
 *              listening or the store refuses a write; a JSON object
 *              names each check ("ok" or why not).
 *
 * Polls are never journalled (no machine event, no row under the
 * poller's lease) and never count as a machine: a monitor polling every
 * few seconds must not evict the boot history the journal keeps.  Both
 * are open like the assets (a load balancer or kubelet has no token);
 * they say which services are down, nothing about machines.
 */
#include <jansson.h>

#include <event2/buffer.h>

#include "httpd/http_server_int.h"

void ib_http_server_set_readiness(struct ib_http_server *srv, ib_http_ready_fn fn, void *ctx)
{
	srv->ready = fn;
	srv->ready_ctx = ctx;
}

void ib_httpd_serve_healthz(struct ib_http_req *rq, const char *rest)
{
	ib_httpd_text(rq, 200, "ok");
}

void ib_httpd_serve_readyz(struct ib_http_req *rq, const char *rest)
{
	json_t *checks = json_object(), *body = json_object();
	bool ready;

	if (!checks || !body) {
		json_decref(checks);
		json_decref(body);
		ib_httpd_text(rq, 503, "out of memory");
		return;
	}
	/* answering this request is the HTTP service's own check */
	json_object_set_new(checks, "http", json_string("ok"));
	ready = rq->srv->ready ? rq->srv->ready(rq->srv->ready_ctx, checks) : true;
	json_object_set_new(body, "ready", json_boolean(ready));
	json_object_set_new(body, "checks", checks);
	ib_httpd_json(rq, ready ? 200 : 503, body);
}
