/*
 * Power operations through the REST API (issue #13; docs/POWER.md):
 *
 *   POST /api/v1/machines/MAC/power/{status,on,off,cycle,soft,pxe-once,disk-once}
 *        API token (writes need http.api_token_file, as every write);
 *        ?by=cli journals the CLI as the cause.  200 with the result once
 *        the BMC has answered; 404 when the machine has no BMC entry; 502
 *        with the BMC's message when the operation failed.
 *
 * The request is deferred: the daemon's power control runs the operation
 * on its worker pool and the answer leaves from its callback, on the
 * loop, from a copy of the request's state (the dispatcher's is gone by
 * then).  A client that hangs up meanwhile costs nothing: evhttp frees
 * the request when the late reply is sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "httpd/http_server_int.h"
#include "inventory/lifecycle.h"
#include "store/store.h"

#define OP_WORD_MAX 16

/* "pxe-once" (the URL's spelling) or "pxe_once" into *ret. */
static int parse_op(const char *word, enum ib_power_op *ret)
{
	char s[OP_WORD_MAX];

	if (strlen(word) >= sizeof(s))
		return -EINVAL;
	for (size_t i = 0; i <= strlen(word); i++)
		s[i] = word[i] == '-' ? '_' : word[i];
	return ib_power_op_parse(s, ret);
}

json_t *ib_httpd_power_json(struct ib_http_server *srv, const char *mac)
{
	struct ib_power_row row;

	if (ib_store_power_get(srv->store, mac, &row) < 0)
		return json_null();
	return ib_power_row_json(&row);
}

/* The operation's answer, from the copy of the request. */
static void on_done(void *arg, const struct ib_bmc *bmc, enum ib_power_op op,
		    const struct ib_power_result *res)
{
	struct ib_http_req *rq = arg;
	json_t *o;

	if (!bmc) {		/* cancelled: evhttp_free() takes the request */
		free(rq);
		return;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:i}", "mac", rq->mac,
		      "bmc", bmc->name, "driver", bmc->driver == IB_BMC_IPMI ? "ipmi" : "redfish",
		      "op", ib_power_op_name(op), "result", res->err < 0 ? "error" : "ok",
		      "state", ib_power_state_name(res->state),
		      "ms", (json_int_t)res->elapsed_ms, "attempts", (int)res->attempts);
	if (o && res->err < 0)
		json_object_set_new(o, "error", json_string(res->msg));
	ib_httpd_json(rq, res->err < 0 ? 502 : 200, o);
	free(rq);
}

static void run(struct ib_http_req *rq, const char *mac, enum ib_power_op op)
{
	const char *by = ib_http_url_param(rq->url, "by");
	struct ib_http_req *copy;
	int r;

	if (!rq->srv->token.set) {
		ib_httpd_error(rq, 403, "API writes need http.api_token_file");
		return;
	}
	if (!rq->srv->power.run) {
		ib_httpd_error(rq, 503, "power control does not run here");
		return;
	}
	if (!(copy = malloc(sizeof(*copy)))) {
		ib_httpd_error(rq, 500, "out of memory");
		return;
	}
	*copy = *rq;
	copy->url = NULL;	/* srv->url is the next request's; the journal
				 * takes the path from the raw target */
	snprintf(copy->mac, sizeof(copy->mac), "%s", mac);
	r = rq->srv->power.run(rq->srv->power.ctx, mac, op,
			       by && strcmp(by, "cli") == 0 ? "cli" : "api", on_done, copy);
	if (r < 0) {
		free(copy);
		if (r == -ENOENT)
			ib_httpd_error(rq, 404, "this machine has no BMC entry (bmcs, or PUT "
				       "/api/v1/machines/MAC/bmc)");
		else
			ib_httpd_error(rq, 500, strerror(-r));
		return;
	}
	rq->deferred = true;
}

bool ib_httpd_power_api(struct ib_http_req *rq, const char *rest)
{
	char seg[24], word[OP_WORD_MAX + 1], mac[IB_HTTP_MAC_STRLEN];
	enum ib_power_op op;
	int n = 0;

	if (sscanf(rest, "machines/%23[^/]/power/%16[a-z_-]%n", seg, word, &n) != 2 || rest[n])
		return false;
	if (!ib_httpd_api_authorized(rq)) {
		ib_httpd_unauthorized(rq);
	} else if (rq->method != EVHTTP_REQ_POST) {
		ib_httpd_header(rq, "Allow", "POST");
		ib_httpd_error(rq, 405, "method not allowed");
	} else if (ib_http_mac_normalize(seg, mac) < 0) {
		ib_httpd_error(rq, 400, "not a MAC address");
	} else if (parse_op(word, &op) < 0) {
		ib_httpd_error(rq, 404, "no such power operation (status, on, off, cycle, soft, "
			       "pxe-once, disk-once)");
	} else {
		run(rq, mac, op);
	}
	return true;
}
