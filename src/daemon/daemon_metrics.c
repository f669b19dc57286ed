/* The daemon's part of GET /metrics: see daemon_metrics.h. */
#include "daemon/daemon_metrics.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "daemon/store_watch.h"
#include "dhcp/pool_usage.h"
#include "dhcp4/dhcp4_policy.h"
#include "dhcp6/dhcp6_policy.h"
#include "inventory/lifecycle.h"


/*
 * One family of counters indexed by DHCP message type.  The types a client
 * sends (the bits of always) have a series from the start; any other
 * once it was seen, type 0 as "unknown".
 */
static void by_type(struct ib_mx *m, const char *name, const char *help, const uint64_t *v,
		    size_t n, uint32_t always, const char *(*type_str)(uint8_t))
{
	ib_mx_family(m, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		if (v[i] || (always >> i & 1))
			ib_mx_u64(m, name, &(struct ib_mx_label){ "type", i ? type_str((uint8_t)i) :
				  "unknown" }, 1, v[i]);
}

static void drop(struct ib_mx *m, const char *name, const char *reason, uint64_t v)
{
	ib_mx_u64(m, name, &(struct ib_mx_label){ "reason", reason }, 1, v);
}

/* Load balancing's gauge and counters of family fam ("dhcp4"). */
static void share_counters(struct ib_mx *m, const char *fam, const struct ib_dhcp_share_stats *st)
{
	char name[64];

	snprintf(name, sizeof(name), "ironboot_%s_share_daemons", fam);
	ib_mx_one(m, name, "gauge", "Daemons sharing the clients (server.load_balancing), this "
		  "one included, as last listed; 0: not sharing.", st->daemons);
	snprintf(name, sizeof(name), "ironboot_%s_peer_requests_total", fam);
	ib_mx_one(m, name, "counter", "Requests of clients that are another daemon's to "
		  "answer (load balancing), kept back for a second in case it is gone.", st->held);
	snprintf(name, sizeof(name), "ironboot_%s_peer_requests_taken_over_total", fam);
	ib_mx_one(m, name, "counter", "Of those, requests this daemon decided after their "
		  "daemon left (died, stopped or lost its database).", st->taken_over);
}

static void dhcp4_counters(struct ib_mx *m, const struct ib_dhcp4_stats *st)
{
	static const char drops[] = "ironboot_dhcp4_drops_total";
	static const char replies[] = "ironboot_dhcp4_replies_total";

	by_type(m, "ironboot_dhcp4_requests_total",
		"DHCPv4 messages received and parsed, by message type (option 53).",
		st->requests, IB_DHCP4_STATS_TYPES, 1u << IB_DHCP4_DISCOVER | 1u << IB_DHCP4_REQUEST |
		1u << IB_DHCP4_DECLINE | 1u << IB_DHCP4_RELEASE | 1u << IB_DHCP4_INFORM,
		ib_dhcp4_type_str);
	ib_mx_family(m, replies, "counter", "DHCPv4 replies sent, by message type "
		     "(proxy: a proxyDHCP answer).");
	ib_mx_u64(m, replies, &(struct ib_mx_label){ "type", "offer" }, 1, st->offers);
	ib_mx_u64(m, replies, &(struct ib_mx_label){ "type", "ack" }, 1, st->acks);
	ib_mx_u64(m, replies, &(struct ib_mx_label){ "type", "nak" }, 1, st->naks);
	ib_mx_u64(m, replies, &(struct ib_mx_label){ "type", "inform-ack" }, 1, st->informs);
	ib_mx_u64(m, replies, &(struct ib_mx_label){ "type", "proxy" }, 1, st->proxies);
	ib_mx_family(m, drops, "counter", "DHCPv4 datagrams not answered, by reason: "
		     "malformed ones by what was wrong, not-served (an interface not served), "
		     "relay-not-allowed (relayed from a source no relays list names), "
		     "ignored (the policy chose silence), send-error (a reply not sent), "
		     "receive-buffer (dropped by the kernel before the daemon read them: "
		     "more arrived than it served).");
	for (size_t i = 1; i < IB_DHCP4_REJ__MAX; i++)
		drop(m, drops, ib_dhcp4_reject_str((enum ib_dhcp4_reject)i), st->rejected[i]);
	drop(m, drops, "not-served", st->not_served);
	drop(m, drops, "relay-not-allowed", st->relay_refused);
	drop(m, drops, "ignored", st->ignored - st->not_served - st->relay_refused);
	drop(m, drops, "send-error", st->send_errors);
	drop(m, drops, "receive-buffer", st->rx_overflow);
	ib_mx_one(m, "ironboot_dhcp4_group_commits_total", "counter",
		  "DHCPv4 group commits (one store transaction for a batch of bindings).",
		  st->commit_batches);
	ib_mx_one(m, "ironboot_dhcp4_kept_while_down_total", "counter",
		  "DHCPv4 ACKs of a binding the daemon holds, for the rest of its stored "
		  "lease, sent while the store's database was down.", st->kept_while_down);
	share_counters(m, "dhcp4", &st->share);
}

static void dhcp6_counters(struct ib_mx *m, const struct ib_dhcp6_stats *st)
{
	static const char drops[] = "ironboot_dhcp6_drops_total";

	by_type(m, "ironboot_dhcp6_requests_total",
		"DHCPv6 messages received and parsed, by (innermost) message type.",
		st->requests, IB_DHCP6_STATS_TYPES, 1u << IB_DHCP6_SOLICIT | 1u << IB_DHCP6_REQUEST |
		1u << IB_DHCP6_CONFIRM | 1u << IB_DHCP6_RENEW | 1u << IB_DHCP6_REBIND |
		1u << IB_DHCP6_RELEASE | 1u << IB_DHCP6_DECLINE |
		1u << IB_DHCP6_INFORMATION_REQUEST, ib_dhcp6_type_str);
	ib_mx_family(m, "ironboot_dhcp6_replies_total", "counter",
		     "DHCPv6 replies laid out for sending, by message type.");
	ib_mx_u64(m, "ironboot_dhcp6_replies_total", &(struct ib_mx_label){ "type", "advertise" },
		  1, st->replies[IB_DHCP6_ADVERTISE]);
	ib_mx_u64(m, "ironboot_dhcp6_replies_total", &(struct ib_mx_label){ "type", "reply" },
		  1, st->replies[IB_DHCP6_REPLY]);
	ib_mx_family(m, drops, "counter", "DHCPv6 datagrams not answered, by reason "
		     "(as for DHCPv4; relay-not-allowed: a RELAY-FORW from a source "
		     "no relays list names).");
	for (size_t i = 1; i < IB_DHCP6_REJ__MAX; i++)
		drop(m, drops, ib_dhcp6_reject_str((enum ib_dhcp6_reject)i), st->rejected[i]);
	drop(m, drops, "not-served", st->not_served);
	drop(m, drops, "relay-not-allowed", st->relay_refused);
	drop(m, drops, "ignored", st->ignored - st->relay_refused);
	drop(m, drops, "send-error", st->not_sent);
	drop(m, drops, "receive-buffer", st->rx_overflow);
	ib_mx_one(m, "ironboot_dhcp6_kept_while_down_total", "counter",
		  "DHCPv6 REPLYs renewing bindings the daemon holds, for the rest of their "
		  "stored leases, sent while the store's database was down.",
		  st->kept_while_down);
	share_counters(m, "dhcp6", &st->share);
}

/* ---- leases per pool ---- */

/* The three gauges of one pool (dhcp/pool_usage.h): size, in use, free. */
static int pool_gauges(void *ctx, const struct ib_pool_usage *u)
{
	struct ib_mx **m = ctx;
	struct ib_mx_label l[2] = { { "subnet", u->subnet }, { "pool", u->pool } };
	double used = (double)u->active, free_ = u->size - used - (double)u->declined;

	ib_mx_f64(m[0], "ironboot_pool_addresses", l, 2, u->size);
	ib_mx_f64(m[1], "ironboot_pool_leases_in_use", l, 2, used);
	ib_mx_f64(m[2], "ironboot_pool_free", l, 2, free_ < 0 ? 0 : free_);
	return 0;
}

static bool count4(const void *ctx, const struct ib_config *cfg, size_t i,
		   struct ib_lease_count *ret)
{
	return ib_dhcp4_server_pool_counts(ctx, cfg, i, ret);
}

static bool count6(const void *ctx, const struct ib_config *cfg, size_t i,
		   struct ib_lease_count *ret)
{
	return ib_dhcp6_server_pool_counts(ctx, cfg, i, ret);
}

void ib_daemon_pool_counters(const struct ib_dhcp4_server *d4, const struct ib_dhcp6_server *d6,
			     struct ib_pool_usage_src *src)
{
	if (d4)
		src->c4 = (struct ib_pool_counter){ count4, d4 };
	if (d6)
		src->c6 = (struct ib_pool_counter){ count6, d6 };
}

/*
 * The pool gauges, each family's samples together as the format wants:
 * written into three buffers, then appended.  Returns the store's error
 * of the first walk that failed, or 0.
 */
static int pools(const struct ib_metrics_sources *src, struct ib_mx *m)
{
	static const char *const fam[3][2] = {
		{ "ironboot_pool_addresses", "Addresses in a dynamic pool (subnet, first-last)." },
		{ "ironboot_pool_leases_in_use", "Unexpired active leases in a pool." },
		{ "ironboot_pool_free", "Addresses of a pool neither leased nor declined "
		  "(OFFER holds are not counted)." },
	};
	struct ib_mx part[3];
	struct ib_mx *g[3] = { &part[0], &part[1], &part[2] };
	struct ib_pool_usage_src us = {
		.cfg = src->cfg, .store = src->store, .now = src->now,
		.v4 = src->dhcp4 != NULL, .v6 = src->dhcp6 != NULL,
	};
	int r = 0;

	ib_daemon_pool_counters(src->dhcp4, src->dhcp6, &us);
	for (int i = 0; i < 3; i++)
		ib_mx_init(&part[i]);
	r = ib_pool_usage(&us, pool_gauges, g);
	for (int i = 0; i < 3; i++) {
		ib_mx_family(m, fam[i][0], "gauge", fam[i][1]);
		if (r == 0 && part[i].buf && !part[i].oom)
			ib_mx_raw(m, part[i].buf, part[i].len);
		m->oom |= part[i].oom;
		ib_mx_done(&part[i]);
	}
	return r;
}

/* ---- the store, the journal, the machines ---- */

static int count_machine(const struct ib_machine_state *ms, void *ctx)
{
	uint64_t *n = ctx;

	if (ms->state > 0 && ms->state < IB_LC_N_STATES)
		n[ms->state]++;
	return 0;
}

static int machines(const struct ib_metrics_sources *src, struct ib_mx *m)
{
	uint64_t n[IB_LC_N_STATES] = { 0 };
	int r = ib_store_machine_foreach(src->store, count_machine, n);

	if (r < 0)
		return r;
	ib_mx_family(m, "ironboot_machines", "gauge",
		     "Machines of the lifecycle (docs/LIFECYCLE.md), by state.");
	for (int s = 1; s < IB_LC_N_STATES; s++)
		ib_mx_u64(m, "ironboot_machines", &(struct ib_mx_label){ "state",
			  ib_lc_state_name((enum ib_lc_state)s) }, 1, n[s]);
	return 0;
}

/* The store's link to its database, now (a due reconnect attempt too),
 * and the DHCP committer's as its thread last saw it. */
static struct ib_store_link link_now(const struct ib_metrics_sources *src)
{
	struct ib_store_link l;

	ib_store_watch_link(src->store, src->committer, &l);
	return l;
}

static void store_and_journal(const struct ib_metrics_sources *src, struct ib_mx *m)
{
	const struct ib_store_stats *st = ib_store_stats(src->store);
	const struct ib_journal *j = src->journal;
	const struct ib_store_link link = link_now(src);
	const struct {
		const char *name, *type, *help;
		uint64_t v;
	} one[] = {
		{ "ironboot_store_up", "gauge", "1 while the store can run statements; 0 while "
		  "its database connection is lost and being made again.", link.up },
		{ "ironboot_store_connection_losses_total", "counter",
		  "Database connections the store lost (PostgreSQL).", link.losses },
		{ "ironboot_store_reconnects_total", "counter",
		  "Database connections the store made again by itself (PostgreSQL).",
		  link.reconnects },
		{ "ironboot_store_commit_errors_total", "counter",
		  "COMMITs of write transactions that failed.", st->commit_errors },
		{ "ironboot_journal_events_total", "counter",
		  "Journal events queued for the store (summaries included).", ib_journal_added(j) },
		{ "ironboot_journal_thinned_total", "counter", "Events counted into a summary "
		  "instead of stored (repeats, rate limit).", ib_journal_thinned(j) },
		{ "ironboot_journal_dropped_total", "counter",
		  "Events lost because the journal's queue was full.", ib_journal_dropped(j) },
		{ "ironboot_journal_pending", "gauge",
		  "Events queued and not yet written to the store.", ib_journal_pending(j) },
	};

	ib_mx_family(m, "ironboot_store_commit_seconds", "histogram",
		     "Time the store took to COMMIT a write transaction (the durable write).");
	ib_mx_hist(m, "ironboot_store_commit_seconds", NULL, 0, &st->commit);
	for (size_t i = 0; i < IB_ARRAY_SIZE(one); i++)
		ib_mx_one(m, one[i].name, one[i].type, one[i].help, one[i].v);
}

void ib_metrics_cache_clear(struct ib_metrics_cache *c)
{
	ib_mx_done(&c->text);
	*c = (struct ib_metrics_cache){ 0 };
}

/* The families read from the store into m, through src->cache when it is
 * fresh (ib_metrics_cache); returns the reads that failed. */
static uint64_t store_walks(const struct ib_metrics_sources *src, struct ib_mx *m)
{
	struct ib_metrics_cache *c = src->cache;
	int64_t now = ib_mono_us();
	struct ib_mx part;
	uint64_t errors = 0;

	if (c && c->text.buf && now - c->at_us < IB_METRICS_CACHE_US) {
		ib_mx_raw(m, c->text.buf, c->text.len);
		return c->errors;
	}
	ib_mx_init(&part);
	errors += pools(src, &part) < 0;
	errors += machines(src, &part) < 0;
	if (part.buf && !part.oom)
		ib_mx_raw(m, part.buf, part.len);
	m->oom |= part.oom;
	if (c && !part.oom) {
		ib_metrics_cache_clear(c);
		c->text = part;
		c->at_us = now;
		c->errors = errors;
	} else {
		ib_mx_done(&part);
	}
	return errors;
}

void ib_daemon_metrics_write(const struct ib_metrics_sources *src, struct ib_mx *m)
{
	uint64_t errors = 0;

	ib_mx_family(m, "ironboot_build_info", "gauge", "The ironbootd that answers (always 1).");
	ib_mx_u64(m, "ironboot_build_info", &(struct ib_mx_label){ "version", IB_VERSION }, 1, 1);
	if (src->dhcp4)
		dhcp4_counters(m, ib_dhcp4_server_stats(src->dhcp4));
	if (src->dhcp6)
		dhcp6_counters(m, ib_dhcp6_server_stats(src->dhcp6));
	if (src->services)
		ib_services_metrics(src->services, m);
	store_and_journal(src, m);
	errors += store_walks(src, m);
	ib_mx_one(m, "ironboot_scrape_errors", "gauge",
		  "Store reads of this scrape that failed (their families are incomplete).", errors);
}
