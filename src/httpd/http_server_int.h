/*
 * Inside the HTTP shell: the server and per-request state shared by
 * http_server.c (listeners, routing, scripts, configs, the journal),
 * http_assets.c (files under the assets directory) and http_api.c (the
 * REST API).  Not a public interface.
 */
#ifndef IB_HTTPD_HTTP_SERVER_INT_H
#define IB_HTTPD_HTTP_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

#include "boot/boot_plan.h"
#include "common/log.h"
#include "http/http_url.h"
#include "httpd/http_auth.h"
#include "httpd/http_server.h"
#include "inventory/lifecycle.h"

#define IB_HTTPD_LISTEN_MAX 16		/* listen addresses */
#define IB_HTTPD_ROUTES_MAX 12		/* entries of the routing table; one more
					 * counts requests no route took */
#define IB_HTTPD_STATUS_MIN 100		/* statuses counted: 100..599 */
#define IB_HTTPD_STATUS_N 500

/* The API's bearer token, as its digest (compared in constant time). */
struct ib_httpd_token {
	bool set;			/* the API needs this token */
	unsigned char sha[32];		/* SHA-256 of the token */
};

struct ib_httpd_follower;

/* The live follows of the journal (http_follow.c). */
struct ib_httpd_follow {
	struct ib_httpd_follower *list;	/* the open streams */
	size_t n;			/* how many */
	uint64_t dropped;		/* slow readers dropped, since start */
	bool in_batch;			/* the journal is telling a batch */
	struct event *heartbeat;	/* the comment that keeps them open */
	struct evbuffer *buf;		/* scratch for one chunk */
};

struct ib_http_server {
	struct event_base *base;	/* not owned */
	const struct ib_config *cfg;	/* current snapshot, not owned */
	const struct ib_config *prev_cfg; /* the one before it while a reload may
					 * still roll back, else NULL */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	struct evhttp *http;		/* owned; holds the listeners */
	struct evhttp *control;		/* owned: the local control socket, or NULL */
	char control_path[108];		/* its path, to unlink; or "" */
	struct ssl_ctx_st *ssl;		/* SSL_CTX when TLS is configured, or NULL */
	int assets_fd;			/* directory fd of http.assets, or -1 */
	struct ib_httpd_token token;	/* the bearer token the API needs, if set */
	struct ib_httpd_token prev_token; /* prev_cfg's, for the rollback */
	bool keep_token;		/* an API write is swapping the snapshot: the
					 * token file is reread on SIGHUP only */
	struct event *flush_timer;	/* journal flush when DHCP does not run */
	struct ib_log_rate flush_warn;	/* its failures, said at most once a minute */
	struct ib_tpl_out out;		/* render buffer, reused by every request */
	struct ib_http_url url;		/* parsed target of the current request */
	ib_http_inventory_fn inventory;	/* applies API writes, or NULL */
	void *inventory_ctx;		/* its context */
	struct ib_http_power power;	/* power control (run NULL: none) */
	struct ib_http_dhcp dhcp;	/* the DHCP servers' release and counts */
	ib_http_ready_fn ready;		/* the other services' readiness, or NULL */
	void *ready_ctx;		/* its context */
	unsigned char machine_secret[IB_HTTPD_SECRET_LEN]; /* the store's: machine tokens */
	struct ib_httpd_neigh neigh;	/* the neighbour table (machine_auth facts) */
	bool auth_off_warned;		/* the snapshot served has machine_auth: off,
					 * and the log said what that means */
	ib_http_metrics_fn metrics;	/* the daemon's part of /metrics, or NULL */
	void *metrics_ctx;		/* its context */
	struct ib_httpd_follow follow;	/* GET /api/v1/events?follow=1 streams */
	/* replies by route (IB_HTTPD_ROUTES_MAX: none) and status - 100 */
	uint64_t (*replies)[IB_HTTPD_STATUS_N];
};

/* One request being answered (lives on the stack of the dispatcher). */
struct ib_http_req {
	struct ib_http_server *srv;	/* the server */
	struct evhttp_request *req;	/* evhttp's request */
	enum evhttp_cmd_type method;	/* GET, HEAD, ... */
	const struct ib_http_url *url;	/* parsed target, or NULL if unparsable */
	const char *target;		/* raw target (evhttp's memory) */
	int64_t start_us;		/* when the dispatcher began */
	const char *kind;		/* journal kind: script, asset, config, api;
					 * NULL: not journalled (monitoring polls,
					 * the UI, the operator's API calls) */
	char mac[IB_HTTP_MAC_STRLEN];	/* normal MAC from the query, or "" */
	const char *group;		/* chosen group (scripts, configs), or NULL */
	const char *profile;		/* its profile, or NULL */
	char error[IB_BOOT_ERRLEN];	/* why it failed (journaled), or "" */
	const char *auth;		/* scripts, configs, assets asked with mac=:
					 * how authorized or why refused (journaled),
					 * or NULL */
	bool local;			/* came through the control socket: the
					 * operator's (http_control.c) */
	bool authorized;		/* the request is the machine's own: its token
					 * and secrets may be rendered */
	bool unverified;		/* a shared route's mac= that the request is
					 * not authorized as (ib_httpd_verify_claim):
					 * journalled as no activity of that machine */
	const char *uuid;		/* the query's uuid= when it is the machine's
					 * word (ib_httpd_verify_uuid), else NULL */
	const char *uuid_refused;	/* why a uuid= was not taken (journalled
					 * with it as uuid_claimed), or NULL */
	bool sent;			/* a reply went out */
	bool deferred;			/* the reply goes out later (a power
					 * operation), from a copy of this */
	size_t route;			/* index in the routing table, or
					 * IB_HTTPD_ROUTES_MAX: counted by it */
};

/* ---- http_server.c: replies (each journals the fetch once) ---- */

/* Sends status with the request's output buffer as the body. */
void ib_httpd_send(struct ib_http_req *rq, int status, uint64_t bytes);
/* Sends a plain-text reason ("...\n"); also recorded as rq->error. */
void ib_httpd_text(struct ib_http_req *rq, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Sends v (reference stolen) as application/json. */
void ib_httpd_json(struct ib_http_req *rq, int status, json_t *v);
/* Sends {"error": msg} as application/json; also recorded as rq->error. */
void ib_httpd_error(struct ib_http_req *rq, int status, const char *msg);
/* 401 with WWW-Authenticate: Bearer, for an API call without the token */
void ib_httpd_unauthorized(struct ib_http_req *rq);
/* Sets a response header. */
void ib_httpd_header(struct ib_http_req *rq, const char *key, const char *value);
/* The value of a request header, or NULL. */
const char *ib_httpd_req_header(struct ib_http_req *rq, const char *key);
/* Builds the boot facts from the query (mac from rq->mac or mac_override). */
int ib_httpd_facts(struct ib_http_req *rq, const char *mac_override, struct ib_facts *ret);

/* ---- http_assets.c ---- */

/* GET/HEAD /assets/<rel>: rel is the decoded path after "/assets/". */
void ib_httpd_serve_asset(struct ib_http_req *rq, const char *rel);
/* Opens dir as the assets root fd (O_DIRECTORY); -errno on failure. */
int ib_httpd_assets_open(const char *dir);
/* Reads the small regular file rel beneath http.assets into buf (at most
 * cap bytes); returns the length, -EFBIG when it holds more, or -errno. */
ssize_t ib_httpd_asset_read(struct ib_http_server *srv, const char *rel, char *buf,
			    size_t cap);

/* The label of route i in the replies' counters ("/boot.ipxe"), or
 * "other" for IB_HTTPD_ROUTES_MAX and past the table. */
const char *ib_httpd_route_label(size_t i);

/* ---- http_ui.c ---- */

/* GET/HEAD /ui/<file>: the web UI's compiled-in files, under a strict
 * Content-Security-Policy; never journalled. */
void ib_httpd_serve_ui(struct ib_http_req *rq, const char *rest);
/* GET /ui: 301 to /ui/. */
void ib_httpd_serve_ui_root(struct ib_http_req *rq, const char *rest);

/* ---- http_metrics.c ---- */

/* GET /metrics: the Prometheus text (docs/METRICS.md); not journalled. */
void ib_httpd_serve_metrics(struct ib_http_req *rq, const char *rest);

/* ---- http_api.c ---- */

/* /api/v1/<rest>: rest is the decoded path after "/api/v1/". */
void ib_httpd_serve_api(struct ib_http_req *rq, const char *rest);
/* The control socket (http_control.c): opened at start under state_dir
 * (a failure is logged and not fatal), closed and unlinked by close. */
int ib_httpd_control_open(struct ib_http_server *srv, const char *state_dir);
void ib_httpd_control_close(struct ib_http_server *srv);
/* evhttp's callback for the control socket: on_request, marked local. */
void ib_httpd_on_local_request(struct evhttp_request *req, void *arg);
/* The limits, timeout, methods and callback every evhttp of srv has. */
void ib_httpd_evhttp_setup(struct evhttp *http, void (*cb)(struct evhttp_request *, void *),
			   struct ib_http_server *srv);

/* GET/HEAD /healthz and /readyz (http_health.c); never journalled. */
void ib_httpd_serve_healthz(struct ib_http_req *rq, const char *rest);
void ib_httpd_serve_readyz(struct ib_http_req *rq, const char *rest);
/* ---- http_lifecycle.c ---- */

/*
 * The lifecycle's part of a script request (issue #12): for a machine
 * with no inventory entry when lifecycle is on, finds (or discovers) its
 * row, applies what the fetch means (allocated -> installing; installed:
 * local-boot-ignored, then failed), and rewrites plan to its allocated
 * profile; *ret_state is its state, IB_LC_NONE when the lifecycle does
 * not apply (plan untouched).  0, or -errno with the reply sent.
 */
int ib_httpd_lifecycle_plan(struct ib_http_req *rq, struct ib_boot_plan *plan,
			    enum ib_lc_state *ret_state);

/* A lifecycle machine's install configs come from its allocated profile:
 * read only (http_lifecycle.c).  0, else the reply is sent. */
int ib_httpd_lifecycle_config_plan(struct ib_http_req *rq, struct ib_boot_plan *plan,
				   enum ib_lc_state *ret_state);
/*
 * /api/v1/<rest> when it is a lifecycle route (agent/..., lifecycle,
 * machines/MAC/{lifecycle,accept,allocate,release,retire,reset}): answers
 * and returns true; else false and nothing is sent.
 */
bool ib_httpd_lifecycle_api(struct ib_http_req *rq, const char *rest);
/* The profile of cfg named name, or NULL (none, or name empty). */
const struct ib_profile *ib_httpd_lc_find_profile(const struct ib_config *cfg,
						  const char *name);
/* The body as a JSON object of at most cap bytes (new reference); else
 * NULL with the reply (413, 400) sent. */
json_t *ib_httpd_body_object(struct ib_http_req *rq, size_t cap);
/* Machine m's stored hardware report (malloc'd text, the caller frees),
 * or NULL: none, or the store failed. */
char *ib_httpd_lc_report_text(struct ib_http_req *rq, const struct ib_machine_state *m);

/* ---- http_agent.c: the lifecycle agent's endpoints (docs/AGENT.md) ---- */

/*
 * /api/v1/agent/<what>: report, progress, installed (POST), instruction
 * (GET); 405 for another method, 404 for another name.  Always answers.
 */
void ib_httpd_agent_api(struct ib_http_req *rq, const char *what);
/*
 * When the operator accepts machine m: with power.default_credential set
 * and no BMC entry of its own, the BMC address its stored report names
 * becomes its power entry, unless another entry's BMC is there
 * (docs/POWER.md "From the agent's report").  Logs; sends nothing.
 */
void ib_httpd_agent_bmc_from_report(struct ib_http_req *rq, const struct ib_machine_state *m);
/* ---- http_power.c ---- */

/*
 * /api/v1/machines/MAC/power/OP (POST, API token): answers when the BMC
 * has (the request is deferred meanwhile) and returns true; false for
 * another route.
 */
bool ib_httpd_power_api(struct ib_http_req *rq, const char *rest);
/* The machine's power row as JSON ({"state", "op", "error", "checked_us",
 * "changed_us"}), or JSON null when there is none. */
json_t *ib_httpd_power_json(struct ib_http_server *srv, const char *mac);

/* Whether rq carries the API's bearer token (or the API needs none). */
bool ib_httpd_api_authorized(struct ib_http_req *rq);

/* ---- http_follow.c ---- */

/* Starts the follows' heartbeat and listens to srv->journal: 0, -ENOMEM. */
int ib_httpd_follow_open(struct ib_http_server *srv);
/* Ends every follow (cut, not finished) and stops listening. */
void ib_httpd_follow_close(struct ib_http_server *srv);
/*
 * GET /api/v1/events?follow=1 (authorized): streams the journal's events,
 * only mac's and proto's when not NULL (a proto no event can carry: 400),
 * from now or after the request's Last-Event-ID; 503 with Retry-After
 * past http.max_followers.
 */
void ib_httpd_follow_start(struct ib_http_req *rq, const char *mac, const char *proto);

/* ---- http_views.c: GET views for people (the web UI) ---- */

/* GET /api/v1/fleet: the machines seen, newest first, with stage,
 * lifecycle state, IPv4 lease and the doctor's verdict. */
void ib_httpd_api_fleet(struct ib_http_req *rq, const char *arg);
/* GET /api/v1/pools: each pool's size, leases in use and declined. */
void ib_httpd_api_pools(struct ib_http_req *rq, const char *arg);
/* GET /api/v1/machines/MAC/doctor: the doctor's report on MAC (arg). */
void ib_httpd_api_doctor(struct ib_http_req *rq, const char *arg);

/* ---- http_api_inventory.c ---- */

/* POST (arg NULL), PUT or DELETE of an inventory object; authorized. */
void ib_httpd_api_write(struct ib_http_req *rq, enum ib_config_kind kind, const char *arg);

/* ---- http_api.c ---- */

/*
 * Reads the bearer token of cfg into *ret (unset when cfg has no
 * api_token_file), logging why when it cannot: 0 or -errno, and then
 * *ret is untouched, so the token in force stays in force.
 */
int ib_httpd_api_token_load(const struct ib_config *cfg, struct ib_httpd_token *ret);

#endif
