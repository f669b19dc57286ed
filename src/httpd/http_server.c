/*
 * The HTTP boot service on evhttp (http_server.h): listeners (HTTP or
 * HTTPS), the routing table, iPXE scripts and install configs, and the
 * journal of every fetch.  Files under /assets/ are http_assets.c, the
 * REST API is http_api.c; who may read a machine's script and configs is
 * http_auth.c's (boot/machine_auth.c decides).
 */
#include "httpd/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/jsonw.h"
#include "common/log.h"
#include "common/util.h"
#include "boot/boot_lifecycle.h"
#include "httpd/http_server_int.h"
#include "journal/timeline.h"

#define HTTP_HEADERS_MAX 16384		/* request line + headers; longer: 413 */
#define HTTP_BODY_MAX IB_INVENTORY_BODY_MAX /* request bodies: API objects */
#define HTTP_TIMEOUT_S 60		/* idle connection timeout */
#define JOURNAL_PATH_MAX 160		/* bytes of the path kept in the journal */

/* A route: a path (exact) or a prefix (ending '/') and its handler. */
struct route {
	const char *path;		/* "/boot.ipxe", or a prefix "/assets/" */
	bool prefix;			/* path is a prefix; the rest goes to fn */
	const char *kind;		/* journal kind */
	bool machine;			/* the query's mac names the machine */
	bool per_machine;		/* only that machine may read it (http_auth.c) */
	void (*fn)(struct ib_http_req *rq, const char *rest);
};

/* ---- replies and the journal ---- */

void ib_httpd_header(struct ib_http_req *rq, const char *key, const char *value)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(rq->req);

	evhttp_remove_header(h, key);
	evhttp_add_header(h, key, value);
}

const char *ib_httpd_req_header(struct ib_http_req *rq, const char *key)
{
	return evhttp_find_header(evhttp_request_get_input_headers(rq->req), key);
}

/*
 * The peer's address as text and, when lease is not NULL, the MAC of the
 * machine holding that IPv4 address (from its lease) in *who.
 */
/* The peer's address text, and who it is by the lease holding it (who may
 * be NULL: text only). */
static void who_for_peer(struct ib_http_req *rq, struct ib_journal_peer *buf,
			 struct ib_journal_who *who, char *host, size_t hostlen)
{
	struct evhttp_connection *c = evhttp_request_get_connection(rq->req);
	const struct sockaddr *sa = c ? evhttp_connection_get_addr(c) : NULL;

	snprintf(host, hostlen, "?");
	if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, hostlen);
	else if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, hostlen);
	if (who)
		ib_journal_who_for_peer(rq->srv->store, sa, buf, who);
}

/* One event per fetch: path, status, bytes, ms, and the plan of scripts. */
static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "other";
	}
}

static void journal_fetch(struct ib_http_req *rq, int status, uint64_t bytes)
{
	struct ib_journal_who who = { 0 };
	struct ib_journal_peer peer;
	uint8_t hw[6];
	char host[INET6_ADDRSTRLEN], path[JOURNAL_PATH_MAX + 1];
	const char *p = rq->url ? rq->url->path : rq->target;
	const char *claim = rq->url ? ib_http_url_param(rq->url, "uuid") : NULL;
	struct ib_journal_gate g = { .limited = true };
	bool refused = status == 401 || status == 403;
	bool unverified = refused || rq->unverified;
	struct ib_jw w;
	size_t cap;
	char *slot;

	/* the query names the machine; else the lease of the peer's address does */
	if (rq->mac[0] && ib_mac_parse(rq->mac, hw) == 0) {
		who_for_peer(rq, NULL, NULL, host, sizeof(host));
		who = (struct ib_journal_who){ .hw = hw, .hw_len = 6 };
	} else {
		who_for_peer(rq, &peer, &who, host, sizeof(host));
	}
	/* the uuid= only once checked as the machine's (ib_httpd_verify_uuid) */
	who.uuid = rq->uuid;
	ib_str_sanitize((const uint8_t *)p, strnlen(p, JOURNAL_PATH_MAX), path, sizeof(path));
	/* two statements: an argument list does not order the write of cap */
	if (unverified) {
		/* any host may ask for any MAC: a refused request, or a shared
		 * file asked under a MAC the request is not authorized as, is
		 * journalled under the MAC asked for (issue #11), but at a
		 * bounded rate per client address and in all, and marked, so
		 * it is not that machine's activity (journal/timeline.h) */
		g.source = host;
		slot = ib_journal_add_slot_gated(rq->srv->journal, &who, "http", rq->kind, &g,
						 ib_now_us(), &cap);
		if (!slot)
			return;
	} else {
		slot = ib_journal_add_slot(rq->srv->journal, &who, "http", rq->kind, &cap);
	}
	ib_jw_init(&w, slot, cap);
	ib_jw_str(&w, "path", path);
	ib_jw_str(&w, "method", method_name(rq->method));
	ib_jw_str(&w, "client", host);
	ib_jw_int(&w, "status", status);
	ib_jw_int(&w, "bytes", (int64_t)bytes);
	ib_jw_int(&w, "ms", (ib_now_us() - rq->start_us) / 1000);
	ib_jw_str_opt(&w, "group", rq->group);
	ib_jw_str_opt(&w, "profile", rq->profile);
	ib_jw_str_opt(&w, "auth", rq->auth);
	ib_jw_str_opt(&w, "error", rq->error);
	if (claim && *claim && !rq->uuid) {
		char clean[IB_UUID_TEXT_MAX];

		ib_str_sanitize((const uint8_t *)claim, strnlen(claim, sizeof(clean) - 1), clean,
				sizeof(clean));
		ib_jw_str(&w, "uuid_claimed", clean);
		ib_jw_str(&w, "uuid_refused", rq->uuid_refused ? rq->uuid_refused : "unverified");
	}
	if (refused)
		ib_jw_int(&w, IB_TIMELINE_REFUSED, 1);
	else if (unverified)
		ib_jw_int(&w, IB_TIMELINE_UNVERIFIED, 1);
	if (ib_jw_end(&w) < 0 && unverified) {
		/* cut short ({"truncated":true}): the mark must survive, or the
		 * event would pass for the machine's own */
		ib_jw_init(&w, slot, cap);
		ib_jw_int(&w, "status", status);
		ib_jw_int(&w, refused ? IB_TIMELINE_REFUSED : IB_TIMELINE_UNVERIFIED, 1);
		ib_jw_end(&w);
	}
	if (ib_journal_pending(rq->srv->journal) > IB_JOURNAL_QUEUE / 2)
		ib_journal_flush_nowait(rq->srv->journal);
}

/*
 * A client may send its request and then shut down its sending side
 * (`curl`/`nc -N`, a shell's `printf ... | nc`): legal, and it still reads
 * the answer.  evhttp keeps reading while it writes a reply, only to
 * notice a close, and on that EOF frees the connection with whatever is
 * still queued: a body sent by sendfile (a separate write after the head)
 * never left: the client got the head, then the close (fuzz finding 5,
 * docs/FUZZING.md).  So reading stops once the reply is queued; a client
 * that goes away entirely is still noticed, by the failing write (EPIPE,
 * ECONNRESET) or the write timeout.  evhttp reads again when the reply is
 * written: the next request of a kept-alive connection, or the EOF.
 */
static void finish_before_eof(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;

	if (bev)
		bufferevent_disable(bev, EV_READ);
}

void ib_httpd_send(struct ib_http_req *rq, int status, uint64_t bytes)
{
	struct evhttp_connection *evcon;

	if (rq->sent)
		return;
	rq->sent = true;
	evcon = evhttp_request_get_connection(rq->req);
	evhttp_send_reply(rq->req, status, NULL, NULL);
	finish_before_eof(evcon);
	if (status >= IB_HTTPD_STATUS_MIN && status < IB_HTTPD_STATUS_MIN + IB_HTTPD_STATUS_N)
		rq->srv->replies[rq->route][status - IB_HTTPD_STATUS_MIN]++;
	if (rq->kind)
		journal_fetch(rq, status, rq->method == EVHTTP_REQ_HEAD ? 0 : bytes);
}

void ib_httpd_text(struct ib_http_req *rq, int status, const char *fmt, ...)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(rq->req);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->error, sizeof(rq->error), fmt, ap);
	va_end(ap);
	evbuffer_drain(b, evbuffer_get_length(b));
	evbuffer_add_printf(b, "%s\n", rq->error);
	ib_httpd_header(rq, "Content-Type", "text/plain; charset=utf-8");
	ib_httpd_header(rq, "Cache-Control", "no-store");
	ib_httpd_send(rq, status, evbuffer_get_length(b));
}

void ib_httpd_json(struct ib_http_req *rq, int status, json_t *v)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(rq->req);
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_t *e;

	if (v && json_is_object(v) && (e = json_object_get(v, "error")) && json_is_string(e))
		snprintf(rq->error, sizeof(rq->error), "%s", json_string_value(e));
	json_decref(v);
	if (!s) {
		ib_httpd_text(rq, 500, "out of memory");
		return;
	}
	evbuffer_add(b, s, strlen(s));
	evbuffer_add(b, "\n", 1);
	free(s);
	ib_httpd_header(rq, "Content-Type", "application/json");
	ib_httpd_header(rq, "Cache-Control", "no-store");
	ib_httpd_send(rq, status, evbuffer_get_length(b));
}

void ib_httpd_error(struct ib_http_req *rq, int status, const char *msg)
{
	ib_httpd_json(rq, status, json_pack("{s:s}", "error", msg));
}

void ib_httpd_unauthorized(struct ib_http_req *rq)
{
	ib_httpd_header(rq, "WWW-Authenticate", "Bearer");
	ib_httpd_error(rq, 401, "a valid bearer token is required");
}

/* ---- scripts and configs ---- */

/* A query value, or NULL when absent or empty (iPXE sends unset as ""). */
static const char *param(const struct ib_http_req *rq, const char *key)
{
	const char *v = ib_http_url_param(rq->url, key);

	return v && *v ? v : NULL;
}

int ib_httpd_facts(struct ib_http_req *rq, const char *mac_override, struct ib_facts *ret)
{
	const char *mac = mac_override ? mac_override : rq->mac;

	memset(ret, 0, sizeof(*ret));
	if (mac[0] && ib_facts_set_mac(ret, mac) < 0)
		return -EINVAL;
	/* the operator's API takes uuid= at its word; a boot request's is
	 * the machine's only once checked (ib_httpd_verify_uuid) */
	ret->uuid = mac_override ? param(rq, "uuid") : rq->uuid;
	ret->hostname = param(rq, "hostname");
	ret->serial = param(rq, "serial");
	ret->arch = param(rq, "arch");
	ret->platform = param(rq, "platform");
	return 0;
}

/* Plans for the request's facts; on failure the reply is sent. */
static int plan_request(struct ib_http_req *rq, struct ib_facts *f, struct ib_boot_plan *plan)
{
	if (ib_httpd_facts(rq, NULL, f) < 0) {
		ib_httpd_text(rq, 400, "bad request: mac is not a MAC address");
		return -EINVAL;
	}
	if (ib_boot_plan(rq->srv->cfg, f, plan) < 0) {
		ib_httpd_text(rq, 400, "bad request: a fact is longer than %d bytes",
			      IB_BOOT_FACT_MAX);
		return -EINVAL;
	}
	rq->group = plan->group ? plan->group->name : NULL;
	rq->profile = plan->profile ? plan->profile->name : NULL;
	return 0;
}

/* Sends the render in srv->out (r from the renderer, err its reason). */
static void send_render(struct ib_http_req *rq, int r, const char *err, const char *ctype)
{
	struct ib_tpl_out *out = &rq->srv->out;
	struct evbuffer *b = evhttp_request_get_output_buffer(rq->req);

	if (r == -EINVAL) {
		ib_httpd_text(rq, 422, "cannot render: %s", err);
		return;
	}
	if (r == -ENOENT) {
		ib_httpd_text(rq, 404, "not found: the profile has no such config");
		return;
	}
	if (r < 0) {
		ib_httpd_text(rq, 500, "cannot render: %s", err && *err ? err : strerror(-r));
		return;
	}
	evbuffer_add(b, out->buf, out->len);
	ib_httpd_header(rq, "Content-Type", ctype);
	ib_httpd_header(rq, "Cache-Control", "no-store");
	ib_httpd_send(rq, 200, out->len);
}

/* GET /boot.ipxe?mac=..&uuid=..: the iPXE script of the machine's plan. */
static void serve_script(struct ib_http_req *rq, const char *rest)
{
	const struct ib_config *cfg = rq->srv->cfg;
	char err[IB_BOOT_ERRLEN] = "";
	struct ib_boot_plan plan;
	enum ib_lc_state lc;
	struct ib_facts f;
	json_t *v;
	int r;

	if (plan_request(rq, &f, &plan) < 0)
		return;
	/* a machine in the lifecycle boots as its state says (issue #12) */
	if (ib_httpd_lifecycle_plan(rq, &plan, &lc) < 0)
		return;
	if (!(v = ib_boot_values(cfg, &f, &plan)) || ib_httpd_add_private(rq, v, &plan) < 0) {
		json_decref(v);
		ib_httpd_text(rq, 500, "out of memory");
		return;
	}
	if (lc != IB_LC_NONE)
		r = ib_boot_lifecycle_render(cfg, lc, plan.profile, v, &rq->srv->out, err);
	else
		r = ib_boot_render_script(cfg, &plan, v, &rq->srv->out, err);
	json_decref(v);
	send_render(rq, r, err, "text/plain; charset=utf-8");
}

static const char *config_ctype(enum ib_tpl_context c)
{
	switch (c) {
	case IB_TPL_YAML: return "application/yaml";
	case IB_TPL_JSON: return "application/json";
	case IB_TPL_SHELL: return "text/x-shellscript; charset=utf-8";
	default: return "text/plain; charset=utf-8";
	}
}

/*
 * {{install_done_url}} of an installing (or allocated) lifecycle machine:
 * what its installer POSTs when done (docs/LIFECYCLE.md), with its token
 * (machine_query, only in the machine's own renders).
 */
static int install_done_url(json_t *v, const struct ib_config *cfg, enum ib_lc_state lc)
{
	const char *q = json_string_value(json_object_get(v, "machine_query"));
	char *url = NULL;
	int r;

	if ((lc != IB_LC_INSTALLING && lc != IB_LC_ALLOCATED) || !q || !cfg->http.base_url)
		return 0;
	if (asprintf(&url, "%s/api/v1/agent/installed?%s", cfg->http.base_url, q) < 0)
		return -ENOMEM;
	r = json_object_set_new(v, "install_done_url", json_string(url));
	free(url);
	return r < 0 ? -ENOMEM : 0;
}

/* GET /configs/<name>?mac=..: an install config of the machine's profile. */
static void serve_config(struct ib_http_req *rq, const char *name)
{
	const struct ib_config *cfg = rq->srv->cfg;
	enum ib_lc_state lc;
	char err[IB_BOOT_ERRLEN] = "";
	enum ib_tpl_context ctx = IB_TPL_TEXT;
	struct ib_boot_plan plan;
	struct ib_facts f;
	json_t *v;
	int r;

	if (!*name || strchr(name, '/')) {
		ib_httpd_text(rq, 404, "not found");
		return;
	}
	if (plan_request(rq, &f, &plan) < 0)
		return;
	/* a lifecycle machine's: its allocated profile's (issue #12) */
	if (ib_httpd_lifecycle_config_plan(rq, &plan, &lc) < 0)
		return;
	for (size_t i = 0; plan.profile && i < plan.profile->n_configs; i++)
		if (strcmp(plan.profile->configs[i].name, name) == 0)
			ctx = plan.profile->configs[i].format;
	if (!(v = ib_boot_values(cfg, &f, &plan)) || ib_httpd_add_private(rq, v, &plan) < 0 ||
	    install_done_url(v, cfg, lc) < 0) {
		json_decref(v);
		ib_httpd_text(rq, 500, "out of memory");
		return;
	}
	r = ib_boot_render_config(cfg, &plan, v, name, &rq->srv->out, err);
	json_decref(v);
	send_render(rq, r, err, config_ctype(ctx));
}

/* /assets without a file: there are no directory listings. */
static void serve_assets_root(struct ib_http_req *rq, const char *rest)
{
	ib_httpd_text(rq, 403, "forbidden: no directory listings");
}

/* Scripts and configs are per machine; assets are shared, open to all
 * (their mac= names the machine only when the request is authorized as
 * it: ib_httpd_verify_claim). */
static const struct route routes[] = {
	{ "/boot.ipxe", false, "script", true, true, serve_script },
	{ "/configs/", true, "config", true, true, serve_config },
	{ "/assets/", true, "asset", true, false, ib_httpd_serve_asset },
	{ "/assets", false, "asset", true, false, serve_assets_root },
	{ "/api/v1/", true, "api", false, false, ib_httpd_serve_api },
	/* monitoring: no journal kind, so never journalled */
	{ "/healthz", false, NULL, false, false, ib_httpd_serve_healthz },
	{ "/readyz", false, NULL, false, false, ib_httpd_serve_readyz },
	{ "/metrics", false, NULL, false, false, ib_httpd_serve_metrics },
	/* the web UI: static files, its data from the API; not journalled */
	{ "/ui/", true, NULL, false, false, ib_httpd_serve_ui },
	{ "/ui", false, NULL, false, false, ib_httpd_serve_ui_root },
};

_Static_assert(IB_ARRAY_SIZE(routes) <= IB_HTTPD_ROUTES_MAX, "IB_HTTPD_ROUTES_MAX");

const char *ib_httpd_route_label(size_t i)
{
	return i < IB_ARRAY_SIZE(routes) ? routes[i].path : "other";
}

static const struct route *route_for(const char *path, const char **rest, size_t *ret_index)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(routes); i++) {
		const struct route *rt = &routes[i];
		size_t n = strlen(rt->path);

		if (rt->prefix ? strncmp(path, rt->path, n) == 0 : strcmp(path, rt->path) == 0) {
			*rest = path + (rt->prefix ? n : strlen(path));
			*ret_index = i;
			return rt;
		}
	}
	return NULL;
}

/* Status of a refused target: traversal is forbidden, the rest is malformed. */
static void refuse_target(struct ib_http_req *rq, int r)
{
	if (r == -EACCES)
		ib_httpd_text(rq, 403, "forbidden: path traversal or ambiguous path");
	else if (r == -ENAMETOOLONG || r == -E2BIG)
		ib_httpd_text(rq, 400, "bad request: target too long or too many parameters");
	else
		ib_httpd_text(rq, 400, "bad request: malformed request target");
}

static void dispatch(struct ib_http_server *srv, struct evhttp_request *req, bool local)
{
	struct ib_http_req rq = {
		.srv = srv, .req = req, .method = evhttp_request_get_command(req),
		.target = evhttp_request_get_uri(req), .start_us = ib_now_us(), .kind = "other",
		.local = local,
		.route = IB_HTTPD_ROUTES_MAX,
	};
	const struct route *rt;
	const char *rest = "", *mac;
	int r;

	if (!rq.target)
		rq.target = "";
	if ((r = ib_http_url_parse(rq.target, strlen(rq.target), &srv->url)) < 0) {
		refuse_target(&rq, r);
		return;
	}
	rq.url = &srv->url;
	rt = route_for(rq.url->path, &rest, &rq.route);
	if (rt) {
		rq.kind = rt->kind;
		mac = ib_http_url_param(rq.url, "mac");
		if (rt->machine && mac && *mac && ib_http_mac_normalize(mac, rq.mac) < 0) {
			ib_httpd_text(&rq, 400, "bad request: mac is not a MAC address");
			return;
		}
	}
	if (!rt) {
		ib_httpd_text(&rq, 404, "not found");
	} else if (rt->fn != ib_httpd_serve_api && rq.method != EVHTTP_REQ_GET &&
		   rq.method != EVHTTP_REQ_HEAD) {
		ib_httpd_header(&rq, "Allow", "GET, HEAD");
		ib_httpd_text(&rq, 405, "method not allowed");
	} else if (rt->per_machine && ib_httpd_authorize(&rq) < 0) {
		/* refused: the 403 is sent and journalled under the MAC asked for */
	} else {
		/* a shared file is served to any host, but its mac= is only a
		 * claim until the same facts back it (http_auth.h) */
		if (rt->machine && !rt->per_machine)
			ib_httpd_verify_claim(&rq);
		if (rt->machine)
			ib_httpd_verify_uuid(&rq);
		rt->fn(&rq, rest);
	}
	if (!rq.sent && !rq.deferred)
		ib_httpd_text(&rq, 500, "internal error: no reply");
}

static void on_request(struct evhttp_request *req, void *arg)
{
	dispatch(arg, req, false);
}

void ib_httpd_on_local_request(struct evhttp_request *req, void *arg)
{
	dispatch(arg, req, true);
}

void ib_httpd_evhttp_setup(struct evhttp *http, void (*cb)(struct evhttp_request *, void *),
			   struct ib_http_server *srv)
{
	evhttp_set_max_headers_size(http, HTTP_HEADERS_MAX);
	evhttp_set_max_body_size(http, HTTP_BODY_MAX);
	evhttp_set_timeout(http, HTTP_TIMEOUT_S);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
				   EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
				   EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(http, cb, srv);
}

/* ---- TLS ---- */

static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct ib_http_server *srv = arg;
	SSL *ssl = SSL_new(srv->ssl);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

/* A server context for cert (chain) and key, TLS 1.2 or later. */
static int tls_open(const struct ib_http_tls *t, SSL_CTX **ret)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];

	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, t->cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, t->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		ib_err("http: tls: cannot use %s / %s: %s", t->cert, t->key, why);
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	*ret = ctx;
	return 0;
}

/* ---- listeners ---- */

/* Whether a socket could bind ss without IP_FREEBIND: the address is up. */
static bool address_up(const struct sockaddr_storage *ss, socklen_t len)
{
	struct sockaddr_storage probe = *ss;
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool up;

	if (fd < 0)
		return true;	/* cannot tell: no warning */
	((struct sockaddr_in *)&probe)->sin_port = 0;	/* same offset in sockaddr_in6 */
	up = bind(fd, (struct sockaddr *)&probe, len) == 0 || errno != EADDRNOTAVAIL;
	close(fd);
	return up;
}

/*
 * A listening TCP socket on addr:port; IPv6 sockets are IPv6-only.  The
 * address may not be on an interface yet (IPv6 ones come up after DAD, a
 * lab's bridge after the daemon): the socket binds anyway (IP_FREEBIND),
 * accepts once it is, and the log says so, since a mistyped address binds
 * too.
 */
static int listen_on(const char *addr, uint16_t port, int *ret)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	int one = 1, fd, r;

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ?
		 sizeof(*sin6) : sizeof(*sin)) < 0 || listen(fd, 1024) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (!address_up(&ss, ss.ss_family == AF_INET6 ? sizeof(*sin6) : sizeof(*sin)))
		ib_warn("http: %s is on no interface yet; listening for when it is", addr);
	*ret = fd;
	return 0;
}

static int bind_all(struct ib_http_server *srv, const struct ib_http_config *h)
{
	static const char *const dflt[] = { "0.0.0.0", "::" };
	const char *const *addrs = h->n_listen ? (const char *const *)h->listen : dflt;
	size_t n = h->n_listen ? h->n_listen : IB_ARRAY_SIZE(dflt);
	int fd = -1, r;

	for (size_t i = 0; i < n; i++) {
		if ((r = listen_on(addrs[i], h->port, &fd)) < 0) {
			ib_err("http: cannot listen on [%s]:%u: %s", addrs[i], h->port,
			       strerror(-r));
			return r;
		}
		if (!evhttp_accept_socket_with_handle(srv->http, fd)) {
			close(fd);
			return -ENOMEM;
		}
		ib_info("http: listening on %s://[%s]:%u", srv->ssl ? "https" : "http",
			addrs[i], h->port);
	}
	return 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct ib_http_server *srv = arg;

	int r;

	/* -EAGAIN: another connection holds the write lock; the next tick.
	 * A store that is down fails every tick: said once a minute. */
	if (ib_journal_pending(srv->journal) &&
	    (r = ib_journal_flush_nowait(srv->journal)) < 0 && r != -EAGAIN &&
	    ib_log_rate_due(&srv->flush_warn, ib_now_sec(), 60)) {
		ib_warn("http: journal flush failed: %s; events kept queued (%llu more "
			"failures since the last such warning)", strerror(-r),
			(unsigned long long)srv->flush_warn.held);
		ib_log_rate_logged(&srv->flush_warn, ib_now_sec());
	}
}

/* Says, once per switch to it, what http.machine_auth: off gives away. */
static void warn_machine_auth(struct ib_http_server *srv, const struct ib_config *cfg)
{
	bool off = cfg->http.machine_auth == IB_MACHINE_AUTH_OFF;

	if (off && !srv->auth_off_warned)
		ib_warn("http: machine_auth is off: any host that reaches the HTTP service reads "
			"the boot script and install configs of every machine (only secrets and "
			"tokens stay the machine's own); set http.machine_auth: strict");
	srv->auth_off_warned = off;
}

/* The assets directory of cfg, replacing the one open (a missing
 * directory is not fatal: /assets/ answers 404 until it exists). */
static void open_assets(struct ib_http_server *srv, const struct ib_config *cfg)
{
	int fd = -1;

	if (cfg->http.assets && (fd = ib_httpd_assets_open(cfg->http.assets)) < 0)
		ib_warn("http: cannot open assets directory %s: %s; /assets/ answers 404 until it exists",
			cfg->http.assets, strerror(-fd));
	if (srv->assets_fd >= 0)
		close(srv->assets_fd);
	srv->assets_fd = fd;
}

/*
 * Per-snapshot state: the assets directory and the API token.  The token
 * is read into a temporary and takes over only when the read succeeds: a
 * failed read keeps the token and the snapshot in force and changes
 * nothing, so no reload ever opens the API.  What was served before is
 * kept until the next snapshot, for ib_http_server_rollback().
 */
static int load_snapshot(struct ib_http_server *srv, const struct ib_config *cfg)
{
	struct ib_httpd_token tok = srv->token;
	int r = 0;

	if (!srv->keep_token && (r = ib_httpd_api_token_load(cfg, &tok)) < 0) {
		OPENSSL_cleanse(&tok, sizeof(tok));
		srv->prev_cfg = NULL;		/* nothing to roll back */
		return r;
	}
	open_assets(srv, cfg);
	if (srv->token.set && !tok.set)
		ib_warn("http: no http.api_token_file any more: API reads are open, writes refused");
	warn_machine_auth(srv, cfg);
	srv->prev_token = srv->token;
	srv->token = tok;
	OPENSSL_cleanse(&tok, sizeof(tok));
	srv->prev_cfg = srv->cfg;
	srv->cfg = cfg;
	return 0;
}

static int start(struct ib_http_server *srv, const struct ib_config *cfg)
{
	struct timeval tv = { 1, 0 };
	int r;

	if ((r = load_snapshot(srv, cfg)) < 0)
		return r;
	if (cfg->http.tls.cert && (r = tls_open(&cfg->http.tls, &srv->ssl)) < 0)
		return r;
	if (!(srv->http = evhttp_new(srv->base)))
		return -ENOMEM;
	ib_httpd_evhttp_setup(srv->http, on_request, srv);
	if (srv->ssl)
		evhttp_set_bevcb(srv->http, tls_bev, srv);
	if ((r = bind_all(srv, &cfg->http)) < 0)
		return r;
	ib_httpd_control_open(srv, cfg->server.state_dir);
	srv->flush_timer = event_new(srv->base, -1, EV_PERSIST, on_flush, srv);
	if (!srv->flush_timer || event_add(srv->flush_timer, &tv) < 0)
		return -ENOMEM;
	return ib_httpd_follow_open(srv);
}

int ib_http_server_new(struct event_base *base, const struct ib_config *cfg,
		       struct ib_store *store, struct ib_journal *journal,
		       struct ib_http_server **ret)
{
	struct ib_http_server *srv = calloc(1, sizeof(*srv));
	int r;

	if (!srv)
		return -ENOMEM;
	srv->base = base;
	srv->store = store;
	srv->journal = journal;
	srv->assets_fd = -1;
	srv->neigh.fd = -1;
	srv->replies = calloc(IB_HTTPD_ROUTES_MAX + 1, sizeof(*srv->replies));
	if (!srv->replies) {
		free(srv);
		return -ENOMEM;
	}
	ib_tpl_out_init(&srv->out, 0);
	if ((r = ib_httpd_secret_load(store, srv->machine_secret)) < 0) {
		ib_err("http: cannot read or make the machine secret (store meta %s): %s",
		       IB_HTTPD_SECRET_META, r == -EBADMSG ? "not 64 hex digits" : strerror(-r));
		ib_http_server_free(srv);
		return r;
	}
	if ((r = ib_httpd_neigh_open(&srv->neigh)) < 0)
		ib_warn("http: no rtnetlink socket (%s): the neighbour table authorizes no "
			"machine", strerror(-r));
	if ((r = start(srv, cfg)) < 0) {
		ib_http_server_free(srv);
		return r;
	}
	*ret = srv;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int ib_http_server_reconfigure(struct ib_http_server *srv, const struct ib_config *cfg)
{
	const struct ib_http_config *o = &srv->cfg->http, *n = &cfg->http;
	bool same = o->port == n->port && o->n_listen == n->n_listen &&
		same_str(o->tls.cert, n->tls.cert) && same_str(o->tls.key, n->tls.key);

	if (cfg == srv->cfg) {
		srv->prev_cfg = NULL;		/* nothing to roll back */
		return 0;
	}
	for (size_t i = 0; same && i < n->n_listen; i++)
		same = strcmp(o->listen[i], n->listen[i]) == 0;
	if (!same)
		ib_warn("reload: http listen addresses, port or TLS changed: needs a restart");
	return load_snapshot(srv, cfg);
}

void ib_http_server_rollback(struct ib_http_server *srv)
{
	if (!srv->prev_cfg)
		return;
	srv->cfg = srv->prev_cfg;
	srv->prev_cfg = NULL;
	srv->token = srv->prev_token;
	OPENSSL_cleanse(&srv->prev_token, sizeof(srv->prev_token));
	open_assets(srv, srv->cfg);
}

void ib_http_server_set_power(struct ib_http_server *srv, const struct ib_http_power *p)
{
	srv->power = *p;
}

void ib_http_server_set_metrics(struct ib_http_server *srv, ib_http_metrics_fn fn,
				void *ctx)
{
	srv->metrics = fn;
	srv->metrics_ctx = ctx;
}

void ib_http_server_set_inventory(struct ib_http_server *srv, ib_http_inventory_fn fn,
				  void *ctx)
{
	srv->inventory = fn;
	srv->inventory_ctx = ctx;
}

void ib_http_server_free(struct ib_http_server *srv)
{
	if (!srv)
		return;
	if (srv->flush_timer)
		event_free(srv->flush_timer);
	ib_httpd_follow_close(srv);
	if (srv->http)
		evhttp_free(srv->http);
	ib_httpd_control_close(srv);
	if (srv->ssl)
		SSL_CTX_free(srv->ssl);
	if (srv->assets_fd >= 0)
		close(srv->assets_fd);
	ib_tpl_out_done(&srv->out);
	free(srv->replies);
	ib_httpd_neigh_close(&srv->neigh);
	OPENSSL_cleanse(&srv->token, sizeof(srv->token));
	OPENSSL_cleanse(srv->machine_secret, sizeof(srv->machine_secret));
	free(srv);
}
