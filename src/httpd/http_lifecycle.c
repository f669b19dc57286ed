/*
 * The machine lifecycle in the HTTP shell (issue #12): what a lifecycle
 * machine's boot script is, and the operator's moves and reads under
 * /api/v1/machines/MAC/...; the agent's endpoints are http_agent.c's.
 * The moves are inventory/lifecycle.c's table, applied with
 * compare-and-set by lifecycle_store.c; the scripts are
 * boot/boot_lifecycle.c's.  This file gathers facts, applies, answers.
 *
 *   POST /api/v1/machines/MAC/{accept,allocate,release,retire,reset}
 *        API token; allocate takes {"profile": P}; 409 with "state" when
 *        the move is not allowed from the current state (or another
 *        writer moved it first); ?by=cli journals the CLI as the cause
 *   GET  /api/v1/machines/MAC/lifecycle, /api/v1/lifecycle   API token
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <openssl/crypto.h>

#include "boot/boot_lifecycle.h"
#include "common/log.h"
#include "common/util.h"
#include "httpd/http_server_int.h"
#include "inventory/lifecycle.h"
#include "store/store.h"

/* The profile of cfg named name, or NULL (none, or name empty). */
const struct ib_profile *ib_httpd_lc_find_profile(const struct ib_config *cfg, const char *name)
{
	for (size_t i = 0; name && name[0] && i < cfg->n_profiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

/* The plan of lifecycle machine m (its allocated profile when
 * use_profile) and the request's names for the journal. */
static void set_plan(struct ib_http_req *rq, struct ib_boot_plan *plan,
		     const struct ib_machine_state *m, bool use_profile,
		     enum ib_lc_state *ret_state)
{
	memset(plan, 0, sizeof(*plan));
	if (use_profile)
		plan->profile = ib_httpd_lc_find_profile(rq->srv->cfg, m->profile);
	snprintf(plan->why, sizeof(plan->why), "lifecycle: %s",
		 ib_lc_state_name((enum ib_lc_state)m->state));
	rq->group = NULL;
	rq->profile = plan->profile ? plan->profile->name : NULL;
	*ret_state = (enum ib_lc_state)m->state;
}

/* ---- the boot script ---- */

int ib_httpd_lifecycle_plan(struct ib_http_req *rq, struct ib_boot_plan *plan,
			    enum ib_lc_state *ret_state)
{
	const struct ib_config *cfg = rq->srv->cfg;
	struct ib_store *store = rq->srv->store;
	struct ib_lifecycle_req lr = { .mac = rq->mac, .ev = IB_LC_EV_INSTALL, .by = "http" };
	struct ib_machine_state m, n;
	int64_t now = ib_now_us();
	int r;

	*ret_state = IB_LC_NONE;
	/* machines of the inventory boot as their group says: no lifecycle */
	if (!cfg->lifecycle.enabled || plan->machine || !rq->mac[0])
		return 0;
	r = ib_store_machine_get(store, rq->mac, &m);
	/* only the machine itself moves its state: with machine_auth: off a
	 * request that strict mode would refuse reads it but writes nothing
	 * (no rows for made-up MACs, no installed machine failed by others) */
	if (r == -ENOENT && (!cfg->lifecycle.auto_discover || !rq->authorized))
		return 0;
	if (r == -ENOENT)
		r = ib_lifecycle_discover(store, rq->mac, "http", now, &m);
	if (r < 0) {
		ib_httpd_text(rq, 500, "internal error: the store failed (%s)", strerror(-r));
		return r;
	}
	lr.now_us = now;
	/* the installer's boot: allocated -> installing (once; a loser of the
	 * compare-and-set gets the state that won) */
	n = m;
	if (rq->authorized && m.state == IB_LC_ALLOCATED &&
	    ib_lifecycle_apply(store, &lr, &n) != -EIO)
		m = n;
	else if (rq->authorized && m.state == IB_LC_INSTALLED &&
		 ib_lifecycle_local_boot(store, &m, now, &n) == 0)
		m = n;
	set_plan(rq, plan, &m, ib_boot_lifecycle_kind((enum ib_lc_state)m.state, NULL) !=
			       IB_LC_BOOT_AGENT, ret_state);
	return 0;
}

/*
 * The plan of a lifecycle machine's install configs (GET /configs/NAME):
 * its allocated profile's, read only (no discovery, no move).  *ret_state
 * IB_LC_NONE when the request is not a lifecycle machine's.  0, else the
 * reply is sent.
 */
int ib_httpd_lifecycle_config_plan(struct ib_http_req *rq, struct ib_boot_plan *plan,
				   enum ib_lc_state *ret_state)
{
	const struct ib_config *cfg = rq->srv->cfg;
	struct ib_machine_state m;
	int r;

	*ret_state = IB_LC_NONE;
	if (!cfg->lifecycle.enabled || plan->machine || !rq->mac[0])
		return 0;
	r = ib_store_machine_get(rq->srv->store, rq->mac, &m);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		ib_httpd_text(rq, 500, "internal error: the store failed (%s)", strerror(-r));
		return r;
	}
	set_plan(rq, plan, &m, m.state == IB_LC_ALLOCATED || m.state == IB_LC_INSTALLING ||
			       m.state == IB_LC_INSTALLED, ret_state);
	return 0;
}

/* ---- request bodies and reports (http_agent.c too) ---- */

/* The body as a JSON object of at most cap bytes; else the reply is sent. */
json_t *ib_httpd_body_object(struct ib_http_req *rq, size_t cap)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(rq->req);
	size_t len = evbuffer_get_length(in);
	json_t *v;

	if (len > cap) {
		ib_httpd_error(rq, 413, "the body is too large");
		return NULL;
	}
	v = len ? json_loadb((const char *)evbuffer_pullup(in, -1), len,
			     JSON_REJECT_DUPLICATES, NULL) : json_object();
	if (!json_is_object(v)) {
		json_decref(v);
		ib_httpd_error(rq, 400, "the body is not a JSON object");
		return NULL;
	}
	return v;
}

/* Machine m's stored hardware report (malloc'd text), or NULL: none, or
 * the store failed. */
char *ib_httpd_lc_report_text(struct ib_http_req *rq, const struct ib_machine_state *m)
{
	char *text;

	if (!m->has_report || !(text = malloc(IB_MACHINE_REPORT_MAX + 1)))
		return NULL;
	if (ib_store_machine_report_get(rq->srv->store, m->id, text,
					IB_MACHINE_REPORT_MAX + 1) < 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- the operator ---- */

/* Reads the machine of mac with its report: 0, else the reply is sent. */
static json_t *machine_json(struct ib_http_req *rq, const struct ib_machine_state *m)
{
	char *report = ib_httpd_lc_report_text(rq, m);
	json_t *o;

	o = ib_lifecycle_json(m, report);
	free(report);
	if (o)
		json_object_set_new(o, "power", ib_httpd_power_json(rq->srv, m->mac));
	return o;
}

static void op_show(struct ib_http_req *rq, const char *mac)
{
	struct ib_machine_state m;
	int r = ib_store_machine_get(rq->srv->store, mac, &m);

	if (r == -ENOENT)
		ib_httpd_error(rq, 404, "this machine is not in the lifecycle");
	else if (r < 0)
		ib_httpd_error(rq, 500, "the store failed");
	else
		ib_httpd_json(rq, 200, machine_json(rq, &m));
}

static int add_machine(const struct ib_machine_state *m, void *ctx)
{
	return json_array_append_new(ctx, ib_lifecycle_json(m, NULL)) < 0 ? -ENOMEM : 0;
}

static void op_list(struct ib_http_req *rq)
{
	json_t *a = json_array();

	if (!a || ib_store_machine_foreach(rq->srv->store, add_machine, a) < 0) {
		json_decref(a);
		ib_httpd_error(rq, 500, "cannot read the machines");
		return;
	}
	ib_httpd_json(rq, 200, a);
}

/* allocate without a profile: the profile of the most specific group that
 * mac and its hardware report match (boot_plan.c; the catch-all does not
 * count: an operator who names no profile wants a selector to decide).
 * NULL when none does. */
static const char *profile_by_report(struct ib_http_req *rq, const char *mac)
{
	struct ib_machine_state m;
	struct ib_hw_facts hw;
	struct ib_facts f = { .hw = &hw };
	struct ib_boot_plan plan;
	char *text;
	int r;

	if (ib_store_machine_get(rq->srv->store, mac, &m) < 0 ||
	    !(text = ib_httpd_lc_report_text(rq, &m)))
		return NULL;
	r = ib_hw_facts_parse(text, &hw);
	free(text);
	if (r < 0 || ib_facts_set_mac(&f, mac) < 0 || ib_boot_plan(rq->srv->cfg, &f, &plan) < 0 ||
	    !plan.group || plan.group->specificity == 0)
		return NULL;
	return plan.profile->name;
}

static void op_move(struct ib_http_req *rq, const char *mac, enum ib_lc_event ev)
{
	const char *by = ib_http_url_param(rq->url, "by");
	struct ib_lifecycle_req lr = { .mac = mac, .ev = ev, .now_us = ib_now_us(),
				       .by = by && strcmp(by, "cli") == 0 ? "cli" : "api" };
	struct ib_machine_state m = { 0 };	/* "none" if a lost race cannot re-read */
	json_t *body = NULL;
	int r;

	if (!rq->srv->token.set) {
		ib_httpd_error(rq, 403, "API writes need http.api_token_file");
		return;
	}
	if (ev == IB_LC_EV_ALLOCATE) {
		if (!(body = ib_httpd_body_object(rq, 4096)))
			return;
		lr.profile = json_string_value(json_object_get(body, "profile"));
		if (!json_object_get(body, "profile"))
			lr.profile = profile_by_report(rq, mac);
		if (!ib_httpd_lc_find_profile(rq->srv->cfg, lr.profile)) {
			json_decref(body);
			ib_httpd_error(rq, 422, "allocate needs {\"profile\": P} naming a "
				       "profile, or a hardware report that a group's "
				       "selector matches");
			return;
		}
	}
	r = ib_lifecycle_apply(rq->srv->store, &lr, &m);
	json_decref(body);
	if (r == -ENOENT)
		ib_httpd_error(rq, 404, "this machine is not in the lifecycle");
	else if (r == -EPERM || r == -EEXIST)
		ib_httpd_json(rq, 409, json_pack("{s:s, s:s, s:s}",
			"error", r == -EPERM ? "not allowed from the current state"
					     : "another request moved the machine first",
			"state", ib_lc_state_name((enum ib_lc_state)m.state),
			"event", ib_lc_event_name(ev)));
	else if (r < 0)
		ib_httpd_error(rq, 500, "the store failed");
	else
		ib_httpd_json(rq, 200, machine_json(rq, &m));
	/* the operator vouches for the machine: its reported BMC may serve */
	if (r == 0 && ev == IB_LC_EV_ACCEPT)
		ib_httpd_agent_bmc_from_report(rq, &m);
	/* docs/POWER.md: accept, release and allocate boot the machine once
	 * from the network and power it on, through its BMC if it has one */
	if (r == 0 && rq->srv->power.lifecycle &&
	    (ev == IB_LC_EV_ACCEPT || ev == IB_LC_EV_ALLOCATE || ev == IB_LC_EV_RELEASE))
		rq->srv->power.lifecycle(rq->srv->power.ctx, mac, ib_lc_event_name(ev));
}

/* ---- routing ---- */

bool ib_httpd_lifecycle_api(struct ib_http_req *rq, const char *rest)
{
	char mac[IB_HTTP_MAC_STRLEN], seg[24], verb[24];
	bool post = rq->method == EVHTTP_REQ_POST;
	bool get = rq->method == EVHTTP_REQ_GET || rq->method == EVHTTP_REQ_HEAD;
	enum ib_lc_event ev;
	int n = 0;

	if (strncmp(rest, "agent/", 6) == 0) {
		ib_httpd_agent_api(rq, rest + 6);	/* http_agent.c */
		return true;
	}
	if (strcmp(rest, "lifecycle") != 0 &&
	    (sscanf(rest, "machines/%23[^/]/%23[a-z]%n", seg, verb, &n) != 2 || rest[n] ||
	     (strcmp(verb, "lifecycle") && ib_lc_event_parse(verb, &ev) < 0)))
		return false;
	if (!ib_httpd_api_authorized(rq)) {
		ib_httpd_unauthorized(rq);
	} else if (strcmp(rest, "lifecycle") == 0) {
		get ? op_list(rq) : ib_httpd_error(rq, 405, "method not allowed");
	} else if (ib_http_mac_normalize(seg, mac) < 0) {
		ib_httpd_error(rq, 400, "not a MAC address");
	} else if (strcmp(verb, "lifecycle") == 0) {
		get ? op_show(rq, mac) : ib_httpd_error(rq, 405, "method not allowed");
	} else if (ev != IB_LC_EV_ACCEPT && ev != IB_LC_EV_ALLOCATE && ev != IB_LC_EV_RELEASE &&
		   ev != IB_LC_EV_RETIRE && ev != IB_LC_EV_RESET) {
		return false;		/* the agent's events are not the operator's */
	} else if (!post) {
		ib_httpd_header(rq, "Allow", "POST");
		ib_httpd_error(rq, 405, "method not allowed");
	} else {
		op_move(rq, mac, ev);
	}
	return true;
}
