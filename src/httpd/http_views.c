/*
 * Read-only views of the API for people (the web UI, docs/UI.md), each
 * behind the token like the rest of the API:
 *
 *   GET /api/v1/fleet[?offset=K]    the machines seen: last event, stage,
 *                                   lifecycle state, lease, doctor's verdict;
 *                                   FLEET_PAGE of them from the K-th, most
 *                                   recent first (fewer: the last page)
 *   GET /api/v1/pools               each DHCP pool's size, leases, declines
 *   GET /api/v1/machines/MAC/doctor the doctor's findings for one machine
 *
 * The doctor runs its pure machine rules (src/doctor) over the machine's
 * newest journal events, as the daemon's watch does: no file probes and
 * no host facts here (`ironboot doctor --mac M` adds them).  Every walk is
 * bounded: FLEET_EVENTS events, FLEET_MAX machines, VIEW_MAC_EVENTS each,
 * and the doctor runs for one page of FLEET_PAGE machines per request, so
 * a visit of the machines page is several short turns of the loop, with
 * DHCP served between them, not one long one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "dhcp/pool_usage.h"
#include "doctor/doctor.h"
#include "httpd/http_server_int.h"
#include "journal/timeline.h"
#include "store/lease_json.h"

#define FLEET_EVENTS 4000		/* newest events read for the list */
#define FLEET_MAX 128			/* machines listed, most recent first */
#define FLEET_PAGE 16			/* machines diagnosed per request */
#define VIEW_MAC_EVENTS 256		/* a machine's newest events the doctor reads */

/* Events read from the store, oldest first. */
struct evlist {
	struct ib_event *v;		/* owned */
	size_t n, cap;
};

/* One machine of the list. */
struct fleet_mac {
	char mac[IB_MACHINE_MAC_STRLEN];	/* normal MAC */
	int64_t last_us;		/* its newest event, or its lifecycle write */
	enum ib_stage stage;		/* the stage of that event */
	bool seen;			/* it has events among those read */
};

struct fleet {
	struct fleet_mac m[FLEET_MAX];	/* distinct machines */
	size_t n;
};

static int collect(const struct ib_event *e, void *arg)
{
	struct evlist *l = arg;

	if (l->n < l->cap)
		l->v[l->n++] = *e;
	return 0;
}

/* Reads the newest cap events (of mac, or all) into *l: 0 or -errno. */
static int read_events(struct ib_store *store, const char *mac, size_t cap, struct evlist *l)
{
	struct ib_event_filter f = { .mac = mac, .limit = cap };

	l->n = 0;
	l->cap = cap;
	if (!(l->v = calloc(cap, sizeof(*l->v))))
		return -ENOMEM;
	return ib_store_event_foreach(store, &f, collect, l);
}

/* The machine's doctor report over its newest events: 0 or -errno. */
static int diagnose(struct ib_http_server *srv, const char *mac, struct ib_doctor_report *ret)
{
	struct evlist l;
	int r = read_events(srv->store, mac, VIEW_MAC_EVENTS, &l);

	if (r == 0)
		ib_doctor_mac(&(struct ib_doctor_mac_input){ .cfg = srv->cfg, .ev = l.v,
			      .n_ev = l.n, .now_us = ib_now_us() }, ret);
	free(l.v);
	return r;
}

/* GET /api/v1/machines/MAC/doctor. */
void ib_httpd_api_doctor(struct ib_http_req *rq, const char *arg)
{
	struct ib_doctor_report *rep = calloc(1, sizeof(*rep));	/* ~60 KiB */
	char mac[IB_HTTP_MAC_STRLEN];
	json_t *o;

	if (!rep) {
		ib_httpd_error(rq, 500, "out of memory");
	} else if (ib_http_mac_normalize(arg, mac) < 0) {
		ib_httpd_error(rq, 400, "not a MAC address");
	} else {
		ib_journal_flush_nowait(rq->srv->journal);
		if (diagnose(rq->srv, mac, rep) < 0)
			ib_httpd_error(rq, 500, "cannot read the events");
		else if (!(o = ib_doctor_report_json(rep, mac)))
			ib_httpd_error(rq, 500, "out of memory");
		else
			ib_httpd_json(rq, 200, o);
	}
	free(rep);
}

/* The list's entry for mac (added when there is room), or NULL. */
static struct fleet_mac *fleet_slot(struct fleet *fl, const char *mac)
{
	for (size_t i = 0; i < fl->n; i++)
		if (strcmp(fl->m[i].mac, mac) == 0)
			return &fl->m[i];
	if (fl->n == FLEET_MAX)
		return NULL;
	snprintf(fl->m[fl->n].mac, sizeof(fl->m[0].mac), "%s", mac);
	return &fl->m[fl->n++];
}

/* Each machine's stage and last event, from the newest events (the
 * newest machines first, since the oldest are the ones left out). */
static int fleet_from_events(struct ib_http_server *srv, struct fleet *fl)
{
	struct ib_timeline *tl = malloc(sizeof(*tl));
	enum ib_stage *stage;
	struct evlist l;
	int64_t since;
	int r;

	if (!tl || (r = read_events(srv->store, NULL, FLEET_EVENTS, &l)) < 0) {
		free(tl);
		return -ENOMEM;
	}
	stage = calloc(l.n ? l.n : 1, sizeof(*stage));
	ib_timeline_init(tl);
	for (size_t i = 0; stage && i < l.n; i++)
		ib_timeline_step(tl, &l.v[i], &stage[i], &since);
	for (size_t i = l.n; stage && i-- > 0;) {
		struct fleet_mac *m;

		if (!l.v[i].mac[0] || strlen(l.v[i].mac) >= IB_MACHINE_MAC_STRLEN ||
		    ib_timeline_unverified(&l.v[i]) ||
		    !(m = fleet_slot(fl, l.v[i].mac)) || m->seen)
			continue;
		m->seen = true;
		m->last_us = l.v[i].ts_us;
		m->stage = stage[i];
	}
	r = stage ? 0 : -ENOMEM;
	free(stage);
	free(l.v);
	free(tl);
	return r;
}

/* Lifecycle machines without recent events join the list. */
static int add_lifecycle(const struct ib_machine_state *ms, void *ctx)
{
	struct fleet *fl = ctx;
	struct fleet_mac *m = fleet_slot(fl, ms->mac);

	if (m && !m->seen && ms->updated_us > m->last_us)
		m->last_us = ms->updated_us;
	return 0;
}

/* The JSON of one machine: lifecycle state, its IPv4 lease, the verdict. */
static json_t *fleet_json(struct ib_http_server *srv, const struct fleet_mac *m,
			  struct ib_doctor_report *rep)
{
	struct ib_machine_state ms;
	struct ib_lease4 lease;
	uint8_t hw[6];
	char ip[IB_IP4_STRLEN];
	json_t *o, *v;

	o = json_pack("{s:s, s:I, s:s}", "mac", m->mac, "last_seen_us", (json_int_t)m->last_us,
		      "stage", m->seen ? ib_stage_name(m->stage) : "other");
	if (!o)
		return NULL;
	json_object_set_new(o, "state", ib_store_machine_get(srv->store, m->mac, &ms) == 0 ?
			    json_string(ib_lc_state_name(ms.state)) : json_null());
	if (ib_mac_parse(m->mac, hw) == 0 &&
	    ib_store_lease4_find_client(srv->store, hw, 6, NULL, 0, &lease) == 0) {
		ib_ip4_format(lease.address, ip);
		json_object_set_new(o, "address", json_string(ip));
		json_object_set_new(o, "hostname", ib_json_text(lease.hostname));
	}
	if (diagnose(srv, m->mac, rep) == 0) {
		v = json_pack("{s:i, s:s}", "status", ib_doctor_status(rep), "stopped", rep->stopped);
		if (v && rep->n)
			json_object_set_new(v, "most_likely", json_string(rep->v[0].rule));
		json_object_set_new(o, "verdict", v ? v : json_null());
	}
	return o;
}

static int by_last_seen(const void *a, const void *b)
{
	const struct fleet_mac *x = a, *y = b;

	return (x->last_us < y->last_us) - (x->last_us > y->last_us);
}

/* GET /api/v1/fleet. */
void ib_httpd_api_fleet(struct ib_http_req *rq, const char *arg)
{
	struct fleet *fl = calloc(1, sizeof(*fl));
	struct ib_doctor_report *rep = calloc(1, sizeof(*rep));
	json_t *a = json_array();
	int r = fl && rep && a ? 0 : -ENOMEM;
	const char *off = ib_http_url_param(rq->url, "offset");
	unsigned long first = 0;
	char *end;

	if (off && (!*off || (first = strtoul(off, &end, 10), *end) || first >= FLEET_MAX)) {
		ib_httpd_error(rq, 400, "offset must be 0..127");
		goto out;
	}
	ib_journal_flush_nowait(rq->srv->journal);
	if (r == 0)
		r = fleet_from_events(rq->srv, fl);
	if (r == 0)
		r = ib_store_machine_foreach(rq->srv->store, add_lifecycle, fl);
	if (r == 0)
		qsort(fl->m, fl->n, sizeof(fl->m[0]), by_last_seen);
	for (size_t i = first; r == 0 && i < fl->n && i < first + FLEET_PAGE; i++)
		if (json_array_append_new(a, fleet_json(rq->srv, &fl->m[i], rep)) < 0)
			r = -ENOMEM;
	if (r < 0) {
		ib_httpd_error(rq, 500, "cannot read the store");
	} else {
		ib_httpd_json(rq, 200, a);
		a = NULL;		/* ib_httpd_json() took it */
	}
out:
	json_decref(a);
	free(rep);
	free(fl);
}

static int add_pool(void *ctx, const struct ib_pool_usage *u)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:f, s:I, s:I}", "family", u->family,
			      "subnet", u->subnet, "pool", u->pool, "size", u->size,
			      "in_use", (json_int_t)u->active, "declined", (json_int_t)u->declined);

	return json_array_append_new(ctx, o) < 0 ? -ENOMEM : 0;
}

/* GET /api/v1/pools. */
void ib_httpd_api_pools(struct ib_http_req *rq, const char *arg)
{
	const struct ib_config *cfg = rq->srv->cfg;
	struct ib_pool_usage_src src = {
		.cfg = cfg, .store = rq->srv->store, .now = ib_now_us() / 1000000,
		.v4 = cfg->dhcp4.enabled, .v6 = cfg->dhcp6.enabled,
	};
	json_t *a = json_array();
	int r;

	if (rq->srv->dhcp.pool_counters)
		rq->srv->dhcp.pool_counters(rq->srv->dhcp.ctx, &src);
	r = a ? ib_pool_usage(&src, add_pool, a) : -ENOMEM;

	if (r < 0) {
		json_decref(a);
		ib_httpd_error(rq, 500, "cannot read the leases");
		return;
	}
	ib_httpd_json(rq, 200, a);
}
