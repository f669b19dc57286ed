/*
 * The REST API under /api/v1: DHCPv4 and DHCPv6 leases and journal events
 * (read-only), the
 * snapshot's profiles, groups and machines (read here, written by
 * http_api_inventory.c), and a machine's boot plan (what `ironboot
 * explain` shows).  JSON via jansson.
 *
 * Authentication: when http.api_token_file is set, every API request
 * needs "Authorization: Bearer <token>"; tokens are compared as SHA-256
 * digests with CRYPTO_memcmp, so the comparison takes the same time
 * whatever the guess.  Without a token file reads are open and writes
 * are refused.  The file is read at start and on SIGHUP; a reload that
 * cannot read it is refused and the token in force stays in force.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "common/util.h"
#include "httpd/http_server_int.h"
#include "inventory/inventory_json.h"
#include "journal/timeline.h"
#include "journal/timeline_json.h"
#include "store/lease_json.h"

#define EVENTS_DEFAULT 100		/* events listed without ?limit */
#define EVENTS_MAX 1000			/* most events one request lists */

/* An API route: segments matched exactly, "*" matches one segment. */
struct api_route {
	const char *pattern;		/* "leases/ *" without the blank */
	void (*fn)(struct ib_http_req *rq, const char *arg);	/* GET; arg: the "*" segment */
	int kind;			/* enum ib_config_kind written here, or -1 */
	const char *allow;		/* the methods, for 405's Allow */
	/* POST of an action on the object ("leases/ * /release"), or NULL */
	void (*action)(struct ib_http_req *rq, const char *arg);
};

int ib_http_token_read(const char *path, unsigned char ret_sha[32])
{
	char buf[IB_HTTP_TOKEN_MAX + 1];
	struct stat st;
	ssize_t n = 0;
	int fd, r = 0;

	/* O_NONBLOCK: a FIFO put there must not hang the loop; it is refused */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	else if ((n = read(fd, buf, sizeof(buf))) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n == 0 || n > IB_HTTP_TOKEN_MAX)
		r = n == 0 ? -ENODATA : -EMSGSIZE;
	else
		SHA256((const unsigned char *)buf, (size_t)n, ret_sha);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}

const char *ib_http_token_strerror(int r)
{
	switch (r) {
	case -EINVAL: return "not a regular file";
	case -ENODATA: return "empty: the token must be 1..256 bytes";
	case -EMSGSIZE: return "too long: the token must be 1..256 bytes";
	case -ELOOP: return "a symlink (not followed)";
	default: return strerror(-r);
	}
}

const char *ib_http_token_exposure(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return NULL;
	if (st.st_mode & S_IWOTH)
		return "writable by every user";
	if (st.st_mode & S_IROTH)
		return "readable by every user";
	return NULL;
}

int ib_httpd_api_token_load(const struct ib_config *cfg, struct ib_httpd_token *ret)
{
	struct ib_httpd_token t = { .set = cfg->http.api_token_file != NULL };
	const char *why;
	int r;

	if (t.set && (r = ib_http_token_read(cfg->http.api_token_file, t.sha)) < 0) {
		ib_err("http: cannot read api_token_file %s: %s", cfg->http.api_token_file,
		       ib_http_token_strerror(r));
		return r;
	}
	if (t.set && (why = ib_http_token_exposure(cfg->http.api_token_file)))
		ib_warn("http: api_token_file %s is %s: anyone on this host can use the API "
			"(chmod o-rwx)", cfg->http.api_token_file, why);
	*ret = t;
	OPENSSL_cleanse(&t, sizeof(t));
	return 0;
}

/* Whether rq carries the token (or the API needs none).  The control
 * socket reads without it (http_control.c; its lease release is let
 * through by ib_httpd_serve_api); its other writes need the token as
 * over the network (docs/SECURITY.md). */
static bool authorized(struct ib_http_req *rq)
{
	const char *h = ib_httpd_req_header(rq, "Authorization");
	unsigned char sha[32];

	if (!rq->srv->token.set || (rq->local && (rq->method == EVHTTP_REQ_GET ||
						  rq->method == EVHTTP_REQ_HEAD)))
		return true;
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	SHA256((const unsigned char *)h + 7, strlen(h + 7), sha);
	return CRYPTO_memcmp(sha, rq->srv->token.sha, sizeof(sha)) == 0;
}

/* Sends v (reference stolen) with 200, or msg with status when v is NULL. */
static void reply_or_error(struct ib_http_req *rq, json_t *v, int status, const char *msg)
{
	if (v)
		ib_httpd_json(rq, 200, v);
	else
		ib_httpd_error(rq, status, msg);
}

/* ---- leases ---- */

/*
 * Answers a single-lease lookup: r is the store's return, json the row
 * (built by the caller only when r >= 0, NULL otherwise).  Takes json.
 */
static void reply_lease(struct ib_http_req *rq, int r, json_t *json)
{
	if (r == -ENOENT)
		ib_httpd_error(rq, 404, "no lease for this address");
	else if (r < 0)
		ib_httpd_error(rq, 500, "cannot read the lease");
	else
		ib_httpd_json(rq, 200, json);
}

/*
 * Answers a lease listing: r is the foreach's return (-ENOMEM when the
 * array could not be made), array the rows gathered.  Takes array.
 */
static void reply_list(struct ib_http_req *rq, int r, json_t *array)
{
	if (r < 0) {
		json_decref(array);
		ib_httpd_error(rq, 500, "cannot read the leases");
		return;
	}
	ib_httpd_json(rq, 200, array);
}

/*
 * The ?mac= of a listing, in normal form in norm[IB_HTTP_MAC_STRLEN]: 0
 * with *ret that or NULL when absent or empty; -1 when it is no MAC (the
 * 400 is sent).
 */
static int mac_param(struct ib_http_req *rq, char *norm, const char **ret)
{
	const char *mac = ib_http_url_param(rq->url, "mac");

	*ret = NULL;
	if (!mac || !*mac)
		return 0;
	if (ib_http_mac_normalize(mac, norm) < 0) {
		ib_httpd_error(rq, 400, "mac is not a MAC address");
		return -1;
	}
	*ret = norm;
	return 0;
}

/* A lease listing being built: the rows of mac (normal form), or all. */
struct lease_list {
	json_t *a;
	const char *mac;		/* NULL: every lease */
};

/* Whether a lease of MAC bytes hw (len bytes, NULL: unknown) is wanted. */
static bool lease_wanted(const struct lease_list *l, const uint8_t *hw, size_t len)
{
	char mac[IB_MAC_STRLEN];

	if (!l->mac)
		return true;
	if (!hw || len != 6)
		return false;
	ib_mac_format(hw, len, mac, sizeof(mac));
	return strcmp(mac, l->mac) == 0;
}

static int add_lease(const struct ib_lease4 *l, void *ctx)
{
	struct lease_list *ll = ctx;

	if (!lease_wanted(ll, l->htype == 1 ? l->hwaddr : NULL, l->hw_len))
		return 0;
	return json_array_append_new(ll->a, ib_lease4_json(l)) < 0 ? -ENOMEM : 0;
}

static void api_lease(struct ib_http_req *rq, const char *arg)
{
	struct ib_lease4 l;
	uint32_t ip;
	int r;

	if (ib_ip4_parse(arg, &ip) < 0) {
		ib_httpd_error(rq, 400, "not an IPv4 address");
		return;
	}
	r = ib_store_lease4_get(rq->srv->store, ip, &l);
	reply_lease(rq, r, r < 0 ? NULL : ib_lease4_json(&l));
}

static int add_lease6(const struct ib_lease6 *l, void *ctx)
{
	struct lease_list *ll = ctx;

	if (!lease_wanted(ll, l->has_mac ? l->mac : NULL, 6))
		return 0;
	return json_array_append_new(ll->a, ib_lease6_json(l)) < 0 ? -ENOMEM : 0;
}

/*
 * GET /api/v1/leases[?mac=M] and leases6[?mac=M]: every lease of the
 * family, or M's: IPv4 by chaddr, IPv6 by the MAC stored for the lease
 * (DUID-LL/LLT, option 79 or EUI-64: its "mac"), so a lease of a DUID
 * naming no MAC is in no filtered answer.
 */
static void list_leases(struct ib_http_req *rq, bool v6)
{
	char norm[IB_HTTP_MAC_STRLEN];
	struct lease_list ll = { 0 };
	int r;

	if (mac_param(rq, norm, &ll.mac) < 0)
		return;
	if (!(ll.a = json_array()))
		r = -ENOMEM;
	else if (v6)
		r = ib_store_lease6_foreach(rq->srv->store, add_lease6, &ll);
	else
		r = ib_store_lease4_foreach(rq->srv->store, 0, UINT32_MAX, add_lease, &ll);
	reply_list(rq, r, ll.a);
}

static void api_leases(struct ib_http_req *rq, const char *arg)
{
	list_leases(rq, false);
}

static void api_leases6(struct ib_http_req *rq, const char *arg)
{
	list_leases(rq, true);
}

static void api_lease6(struct ib_http_req *rq, const char *arg)
{
	struct ib_lease6 l;
	uint8_t ip[16];
	int r;

	if (inet_pton(AF_INET6, arg, ip) != 1) {
		ib_httpd_error(rq, 400, "not an IPv6 address");
		return;
	}
	r = ib_store_lease6_get(rq->srv->store, ip, &l);
	reply_lease(rq, r, r < 0 ? NULL : ib_lease6_json(&l));
}

/* ---- events ---- */

/* A listing being built: the events, each with its stage as the
 * timeline of the events before it in the listing says. */
struct event_list {
	json_t *a;			/* the array */
	struct ib_timeline tl;		/* stages so far */
};

static int add_event(const struct ib_event *e, void *ctx)
{
	struct event_list *l = ctx;

	return json_array_append_new(l->a, ib_timeline_event_json(&l->tl, e)) < 0 ? -ENOMEM : 0;
}

static void api_events(struct ib_http_req *rq, const char *arg)
{
	const char *limit = ib_http_url_param(rq->url, "limit");
	const char *follow;
	struct event_list *l;
	char norm[IB_HTTP_MAC_STRLEN];
	struct ib_event_filter f = { .limit = EVENTS_DEFAULT };
	char *end;
	json_t *a;

	if (mac_param(rq, norm, &f.mac) < 0)
		return;
	if (limit) {
		unsigned long n = strtoul(limit, &end, 10);

		if (!*limit || *end || n == 0 || n > EVENTS_MAX) {
			ib_httpd_error(rq, 400, "limit must be 1..1000");
			return;
		}
		f.limit = n;
	}
	f.proto = ib_http_url_param(rq->url, "proto");
	follow = ib_http_url_param(rq->url, "follow");
	if (follow && strcmp(follow, "1") == 0 && rq->method == EVHTTP_REQ_GET) {
		ib_httpd_follow_start(rq, f.mac, f.proto);	/* http_follow.c */
		return;
	}
	/* what is still queued belongs in the answer, unless another
	 * connection holds the write lock: then what is stored, at once */
	ib_journal_flush_nowait(rq->srv->journal);
	l = malloc(sizeof(*l));
	a = json_array();
	if (l) {
		l->a = a;
		ib_timeline_init(&l->tl);
	}
	if (!l || !a || ib_store_event_foreach(rq->srv->store, &f, add_event, l) < 0) {
		free(l);
		json_decref(a);
		ib_httpd_error(rq, 500, "cannot read the events");
		return;
	}
	free(l);
	ib_httpd_json(rq, 200, a);
}

/* ---- the config snapshot ---- */

static void api_profiles(struct ib_http_req *rq, const char *arg)
{
	const struct ib_config *cfg = rq->srv->cfg;
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_profiles; i++)
		json_array_append_new(a, ib_inventory_profile_json(&cfg->profiles[i]));
	reply_or_error(rq, a, 500, "out of memory");
}

static void api_groups(struct ib_http_req *rq, const char *arg)
{
	const struct ib_config *cfg = rq->srv->cfg;
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_groups; i++)
		json_array_append_new(a, ib_inventory_group_json(&cfg->groups[i]));
	reply_or_error(rq, a, 500, "out of memory");
}

static void api_machines(struct ib_http_req *rq, const char *arg)
{
	const struct ib_config *cfg = rq->srv->cfg;
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_machines; i++)
		json_array_append_new(a, ib_inventory_machine_json(&cfg->machines[i]));
	reply_or_error(rq, a, 500, "out of memory");
}

/* GET /api/v1/<kind>/<name>: one object of the snapshot. */
static void api_object(struct ib_http_req *rq, const char *arg, enum ib_config_kind kind)
{
	json_t *o = ib_inventory_object_json(rq->srv->cfg, kind, arg);

	reply_or_error(rq, o, 404, "no such object");
}

static void api_profile(struct ib_http_req *rq, const char *arg)
{
	api_object(rq, arg, IB_CONFIG_PROFILES);
}

static void api_group(struct ib_http_req *rq, const char *arg)
{
	api_object(rq, arg, IB_CONFIG_GROUPS);
}

static void api_machine(struct ib_http_req *rq, const char *arg)
{
	api_object(rq, arg, IB_CONFIG_MACHINES);
}

/* GET /api/v1/bmcs: every machine's BMC entry (no credential value: the
 * entries name theirs). */
static void api_bmcs(struct ib_http_req *rq, const char *arg)
{
	const struct ib_config *cfg = rq->srv->cfg;
	json_t *a = json_array();

	for (size_t i = 0; a && i < cfg->n_bmcs; i++)
		json_array_append_new(a, ib_inventory_bmc_json(&cfg->bmcs[i]));
	reply_or_error(rq, a, 500, "out of memory");
}

/* GET /api/v1/machines/MAC/bmc and /api/v1/bmcs/MAC. */
static void api_bmc(struct ib_http_req *rq, const char *arg)
{
	api_object(rq, arg, IB_CONFIG_BMCS);
}

/* GET /api/v1/machines/<mac>/plan[?arch=..&platform=..]: what explain shows. */
static void api_plan(struct ib_http_req *rq, const char *arg)
{
	const struct ib_config *cfg = rq->srv->cfg;
	char mac[IB_HTTP_MAC_STRLEN], err[IB_BOOT_ERRLEN] = "";
	struct ib_boot_plan plan;
	struct ib_facts f;
	json_t *v, *o;
	int r;

	if (ib_http_mac_normalize(arg, mac) < 0 || ib_httpd_facts(rq, mac, &f) < 0) {
		ib_httpd_error(rq, 400, "not a MAC address");
		return;
	}
	if (ib_boot_plan(cfg, &f, &plan) < 0) {
		ib_httpd_error(rq, 400, "a fact is too long");
		return;
	}
	if (!(v = ib_boot_values(cfg, &f, &plan))) {
		ib_httpd_error(rq, 500, "out of memory");
		return;
	}
	r = ib_boot_render_script(cfg, &plan, v, &rq->srv->out, err);
	json_decref(v);
	o = json_pack("{s:s, s:s?, s:s?, s:b, s:s}", "mac", mac,
		      "group", plan.group ? plan.group->name : NULL,
		      "profile", plan.profile ? plan.profile->name : NULL,
		      "inventory", plan.machine != NULL, "why", plan.why);
	if (o && r == 0)
		json_object_set_new(o, "script", json_stringn(rq->srv->out.buf, rq->srv->out.len));
	else if (o)
		json_object_set_new(o, "error", json_string(err[0] ? err : strerror(-r)));
	reply_or_error(rq, o, 500, "out of memory");
}

/*
 * POST /api/v1/leases/ADDR/release: an operator ends a lease now, through
 * the daemon, so its cache frees the address at once (a direct store
 * write would be unseen until a restart).  Needs the token file, like
 * every write, except through the control socket (http_control.c).
 */
static void api_lease_release(struct ib_http_req *rq, const char *arg)
{
	const struct ib_http_dhcp *h = &rq->srv->dhcp;
	struct ib_lease4 l;
	struct ib_lease6 l6;
	uint8_t a6[16];
	uint32_t ip;
	bool v4 = ib_ip4_parse(arg, &ip) == 0;
	int r;

	if (!rq->srv->token.set && !rq->local) {
		ib_httpd_error(rq, 403, "API writes need http.api_token_file");
		return;
	}
	if (!v4 && inet_pton(AF_INET6, arg, a6) != 1) {
		ib_httpd_error(rq, 400, "not an IPv4 or IPv6 address");
		return;
	}
	if (v4 ? !h->release4 : !h->release6) {
		ib_httpd_error(rq, 503, v4 ? "DHCPv4 is not served here" :
			       "DHCPv6 is not served here");
		return;
	}
	r = v4 ? h->release4(h->ctx, ip, &l) : h->release6(h->ctx, a6, &l6);
	if (r == -ENOENT)
		ib_httpd_error(rq, 404, "no active lease for this address");
	else if (r < 0)
		ib_httpd_error(rq, 500, "the store failed");
	else
		ib_httpd_json(rq, 200, v4 ? ib_lease4_json(&l) : ib_lease6_json(&l6));
}

void ib_http_server_set_dhcp(struct ib_http_server *srv, const struct ib_http_dhcp *h)
{
	srv->dhcp = *h;
}

#define READ "GET, HEAD"
#define LIST READ ", POST"
#define ITEM READ ", PUT, DELETE"

static const struct api_route api_routes[] = {
	{ "leases", api_leases, -1, READ, NULL },
	{ "leases/*", api_lease, -1, READ, NULL },
	{ "leases/*/release", NULL, -1, "POST", api_lease_release },
	{ "leases6", api_leases6, -1, READ, NULL },
	{ "leases6/*", api_lease6, -1, READ, NULL },
	{ "events", api_events, -1, READ, NULL },
	{ "profiles", api_profiles, IB_CONFIG_PROFILES, LIST, NULL },
	{ "profiles/*", api_profile, IB_CONFIG_PROFILES, ITEM, NULL },
	{ "groups", api_groups, IB_CONFIG_GROUPS, LIST, NULL },
	{ "groups/*", api_group, IB_CONFIG_GROUPS, ITEM, NULL },
	{ "machines", api_machines, IB_CONFIG_MACHINES, LIST, NULL },
	{ "machines/*", api_machine, IB_CONFIG_MACHINES, ITEM, NULL },
	{ "machines/*/plan", api_plan, -1, READ, NULL },
	{ "machines/*/bmc", api_bmc, IB_CONFIG_BMCS, ITEM, NULL },
	{ "bmcs", api_bmcs, IB_CONFIG_BMCS, LIST, NULL },
	{ "bmcs/*", api_bmc, IB_CONFIG_BMCS, ITEM, NULL },
	/* views for people (the web UI): http_views.c */
	{ "fleet", ib_httpd_api_fleet, -1, READ, NULL },
	{ "pools", ib_httpd_api_pools, -1, READ, NULL },
	{ "machines/*/doctor", ib_httpd_api_doctor, -1, READ, NULL },
};

/* Matches path against pattern; *arg receives the "*" segment. */
static bool api_match(const char *pattern, const char *path, char *arg, size_t argcap)
{
	while (*pattern) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= argcap)
				return false;
			memcpy(arg, path, n);
			arg[n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == '\0';
}

/* Whether the route takes the request's method. */
static bool method_allowed(const struct api_route *rt, enum evhttp_cmd_type m, bool item)
{
	if (rt->action)
		return m == EVHTTP_REQ_POST;
	if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD)
		return true;
	if (rt->kind < 0)
		return false;
	return item ? m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_DELETE : m == EVHTTP_REQ_POST;
}

bool ib_httpd_api_authorized(struct ib_http_req *rq)
{
	return authorized(rq);
}

void ib_httpd_serve_api(struct ib_http_req *rq, const char *rest)
{
	char arg[IB_HTTP_PATH_MAX + 1] = "";

	/*
	 * Only the agent's calls, about its own machine (http_agent.c's
	 * agent_auth), are events of a machine's boot.  The operator's reads
	 * and writes (the CLI, the web UI, scripts with the API token) are
	 * not: journalled under the lease of the caller's address they would
	 * put a desk's browser into a machine's timeline and the doctor's
	 * verdict.  Lifecycle moves journal their own "machine" events.
	 */
	rq->kind = strncmp(rest, "agent/", 6) == 0 ? "api" : NULL;
	/* the machine lifecycle: http_lifecycle.c, the agent's http_agent.c */
	if (ib_httpd_lifecycle_api(rq, rest))
		return;
	/* power operations on a machine's BMC: http_power.c */
	if (ib_httpd_power_api(rq, rest))
		return;

	for (size_t i = 0; i < IB_ARRAY_SIZE(api_routes); i++) {
		const struct api_route *rt = &api_routes[i];
		bool item = strchr(rt->pattern, '*') != NULL;

		if (!api_match(rt->pattern, rest, arg, sizeof(arg)))
			continue;
		/* the token first: a caller without it learns no route's methods */
		if (!authorized(rq) && !(rq->local && rt->action == api_lease_release)) {
			ib_httpd_unauthorized(rq);
		} else if (!method_allowed(rt, rq->method, item)) {
			ib_httpd_header(rq, "Allow", rt->allow);
			ib_httpd_error(rq, 405, "method not allowed");
		} else if (rt->action) {
			rt->action(rq, arg);
		} else if (rq->method == EVHTTP_REQ_GET || rq->method == EVHTTP_REQ_HEAD) {
			rt->fn(rq, arg);
		} else {
			ib_httpd_api_write(rq, (enum ib_config_kind)rt->kind, item ? arg : NULL);
		}
		return;
	}
	ib_httpd_error(rq, 404, "no such API endpoint");
}
