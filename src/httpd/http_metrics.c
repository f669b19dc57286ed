/*
 * GET /metrics: the Prometheus text exposition format (docs/METRICS.md).
 * The daemon writes what its services counted (ib_http_metrics_fn), this
 * file adds the HTTP service's replies by route and status.  Monitoring
 * is not a machine's event: the request is counted but not journalled
 * (its route has no journal kind, as /healthz's and /readyz's).
 * http.metrics says who may read it: anyone (open), the API's token
 * holders (token), or nobody (off: 404, as if there were no such path).
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/metrics.h"
#include "common/util.h"
#include "httpd/http_server_int.h"

/* The replies of every route and status that has any. */
static void write_replies(const struct ib_http_server *srv, struct ib_mx *m)
{
	char code[8];

	ib_mx_family(m, "ironboot_http_requests_total", "counter",
		     "HTTP requests answered, by route (the path or prefix that took it; "
		     "other: none did) and status.");
	for (size_t r = 0; r <= IB_HTTPD_ROUTES_MAX; r++) {
		for (size_t i = 0; i < IB_HTTPD_STATUS_N; i++) {
			uint64_t n = srv->replies[r][i];
			struct ib_mx_label l[2] = { { "route", ib_httpd_route_label(r) },
						    { "code", code } };

			if (!n)
				continue;
			snprintf(code, sizeof(code), "%zu", i + IB_HTTPD_STATUS_MIN);
			ib_mx_u64(m, "ironboot_http_requests_total", l, 2, n);
		}
	}
}

void ib_httpd_serve_metrics(struct ib_http_req *rq, const char *rest)
{
	struct ib_http_server *srv = rq->srv;
	struct evbuffer *b = evhttp_request_get_output_buffer(rq->req);
	struct ib_mx m;

	if (srv->cfg->http.metrics == IB_METRICS_OFF) {
		ib_httpd_text(rq, 404, "not found");
		return;
	}
	if (srv->cfg->http.metrics == IB_METRICS_TOKEN && !ib_httpd_api_authorized(rq)) {
		ib_httpd_header(rq, "WWW-Authenticate", "Bearer");
		ib_httpd_text(rq, 401, "a valid bearer token is required (http.metrics: token)");
		return;
	}
	ib_mx_init(&m);
	if (srv->metrics)
		srv->metrics(srv->metrics_ctx, &m);
	write_replies(srv, &m);
	if (m.oom) {
		ib_mx_done(&m);
		ib_httpd_text(rq, 500, "out of memory");
		return;
	}
	evbuffer_add(b, m.buf, m.len);
	ib_httpd_header(rq, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ib_httpd_header(rq, "Cache-Control", "no-store");
	ib_httpd_send(rq, 200, m.len);
	ib_mx_done(&m);
}
