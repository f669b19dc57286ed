/*
 * Services beside DHCPv4: the TFTP server, whose transfers are journaled
 * against the machine that holds the client's address (from the lease
 * table), so one timeline shows DHCP then TFTP; router advertisements,
 * which run whether DHCPv6 does or not; and the journal's retention,
 * which is the daemon's whatever services run.
 */
#include "daemon/services.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/doctor_watch.h"
#include "dhcp6/ra_server.h"
#include "httpd/http_server.h"
#include "inventory/lifecycle.h"
#include "journal/timeline.h"
#include "tftp/tftp_server.h"

/*
 * The journal's retention (journal.max_events, journal.max_age_days) is
 * applied at start, when a reload changes it, and every PRUNE_INTERVAL_SEC
 * (between two prunes a busy server may journal past max_events).
 */
#define PRUNE_INTERVAL_SEC 300

/* How a TFTP transfer ended, for the counters (tftp_kind() below). */
enum tftp_result { TFTP_OK, TFTP_FAILED, TFTP_PROBE };

struct ib_services {
	struct event_base *base;	/* not owned */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	struct ib_tftp_server *tftp;	/* or NULL when disabled */
	struct ib_http_server *http;	/* or NULL when disabled */
	struct ib_ra_server *ra;	/* router advertisements, or NULL */
	const char *trusted[8];		/* boot files named in the config */
	size_t n_trusted;
	struct event *prune_timer;	/* journal retention */
	struct event *lc_timer;		/* the lifecycle's timeouts */
	struct ib_lifecycle_config lc;	/* their config, as last applied (the
					 * strings not used) */
	struct ib_doctor_watch *watch;	/* the doctor's rules on active machines */
	struct {
		uint64_t transfers[3];	/* by enum tftp_result */
		uint64_t bytes;		/* acknowledged by clients */
		uint64_t retransmits;	/* packets resent */
	} tftp_stats;			/* GET /metrics, counted from the reports */
	struct ib_journal_config retention;	/* as last applied */
	bool follower;			/* another daemon prunes and expires (leader.c) */
};

/* The boot files named in the config are trusted TFTP names. */
static void collect_trusted(struct ib_services *s, const struct ib_config *cfg)
{
	const char *files[] = { cfg->boot.file_bios, cfg->boot.file_efi_x64,
				cfg->boot.file_efi_ia32, cfg->boot.file_efi_arm64 };

	s->n_trusted = 0;
	for (size_t i = 0; i < IB_ARRAY_SIZE(files); i++)
		if (files[i] && !strstr(files[i], "://"))
			s->trusted[s->n_trusted++] = files[i];
	for (size_t i = 0; i < cfg->dhcp4.n_subnets; i++) {
		const struct ib_subnet4 *sn = &cfg->dhcp4.subnets[i];

		for (size_t j = 0; j < sn->n_reservations && s->n_trusted < IB_ARRAY_SIZE(s->trusted); j++)
			if (sn->reservations[j].boot.boot_file &&
			    !strstr(sn->reservations[j].boot.boot_file, "://"))
				s->trusted[s->n_trusted++] = sn->reservations[j].boot.boot_file;
	}
}

/* Finds the MAC of the machine holding an IPv4 address, for the journal. */
/*
 * RFC 2347: a client may end a transfer after the OACK with error 8.  EDK2
 * does exactly that to learn a file's size (tsize) before fetching it: a
 * probe, not a failure, and the timeline should say so.
 */
static const char *tftp_kind(const struct ib_tftp_report *r)
{
	if (r->result == 0)
		return "transfer";
	if (r->result == -ECONNABORTED && strncmp(r->error, "client error 8:", 15) == 0)
		return "size-probe";
	return "transfer-failed";
}

static void on_tftp_report(const struct ib_tftp_report *r, void *ctx)
{
	struct ib_services *s = ctx;
	struct ib_journal_who who;
	struct ib_journal_peer peer;
	char host[INET6_ADDRSTRLEN] = "?";
	const char *kind = tftp_kind(r);
	struct ib_journal_gate g = { .limited = true, .source = host };
	struct ib_jw w;
	size_t cap;
	char *slot;
	const void *a = r->peer.ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)&r->peer)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)&r->peer)->sin_addr;

	s->tftp_stats.transfers[r->result == 0 ? TFTP_OK :
				strcmp(kind, "size-probe") == 0 ? TFTP_PROBE : TFTP_FAILED]++;
	s->tftp_stats.bytes += r->bytes;
	s->tftp_stats.retransmits += r->retransmits;
	inet_ntop(r->peer.ss_family, a, host, sizeof(host));
	ib_journal_who_for_peer(s->store, (const struct sockaddr *)&r->peer, &peer, &who);
	/* A UDP source can be forged: until the client ACKs our reply on the
	 * transfer's port, a request (refused, or never ACKed) is journalled
	 * at the rate refused HTTP requests are, per address and in all, so
	 * one host sending RRQs for a missing file cannot fill the journal,
	 * and marked unverified: under the machine of that address, but not
	 * its activity (no stage, not seen by the doctor: issue #11), since
	 * any host could have sent it in that machine's name. */
	if (r->answered)
		slot = ib_journal_add_slot(s->journal, &who, "tftp", kind, &cap);
	else if (!(slot = ib_journal_add_slot_gated(s->journal, &who, "tftp", kind, &g,
						     ib_now_us(), &cap)))
		return;
	ib_jw_init(&w, slot, cap);
	if (!r->answered)
		ib_jw_int(&w, IB_TIMELINE_UNVERIFIED, 1);
	ib_jw_str(&w, "file", r->file);
	ib_jw_str(&w, "client", host);
	ib_jw_int(&w, "bytes", (int64_t)r->bytes);
	if (r->tsize)
		ib_jw_int(&w, "tsize", (int64_t)r->tsize);
	ib_jw_int(&w, "blksize", r->blksize);
	ib_jw_int(&w, "windowsize", r->windowsize);
	ib_jw_int(&w, "ms", (r->end_us - r->start_us) / 1000);
	ib_jw_int(&w, "retransmits", r->retransmits);
	ib_jw_str(&w, "result", r->result == 0 ? "ok" : kind);
	ib_jw_str_opt(&w, "error", r->error);
	ib_jw_end(&w);
}

/*
 * Applies the journal's retention to the stored events; the queued ones are
 * written first, so the count covers everything journalled so far.
 */
static void prune_journal(struct ib_services *s)
{
	int r;

	if ((r = ib_journal_flush_nowait(s->journal)) >= 0 && !s->follower)
		r = ib_journal_prune(s->journal, ib_now_us());
	if (r == -EAGAIN)	/* the CLI or another daemon is writing */
		ib_debug("journal: the store is busy; retention next in %d s",
			 PRUNE_INTERVAL_SEC);
	else if (r < 0)
		ib_warn("journal: retention failed: %s; events kept queued, retrying in %d s",
			strerror(-r), PRUNE_INTERVAL_SEC);
}

static void on_prune(evutil_socket_t fd, short what, void *arg)
{
	prune_journal(arg);
}

/* How often the lifecycle's timeouts are checked (a walk of the machines). */
#define LC_EXPIRE_INTERVAL_SEC 5

/*
 * A wiping or installing machine whose agent (or installer) never says it
 * is done: failed after lifecycle.wipe_timeout / install_timeout, so the
 * operator sees where it stopped instead of a machine wiping forever.
 */
static void on_lc_expire(evutil_socket_t fd, short what, void *arg)
{
	struct ib_services *s = arg;
	struct ib_lc_expired out[16];
	int n;

	(void)fd;
	(void)what;
	/* the journal's summaries due (the DHCP engines tick it too, but
	 * HTTP's refused requests are limited when no DHCP runs as well) */
	ib_journal_tick(s->journal, ib_now_us(), false);
	if (!s->lc.enabled || s->follower)
		return;
	n = ib_lifecycle_expire(s->store, &s->lc, ib_now_us(), out, IB_ARRAY_SIZE(out));
	if (n < 0)
		ib_warn("lifecycle: cannot check the wipe and install timeouts: %s",
			strerror(-n));
	for (int i = 0; i < n; i++)
		ib_notice("lifecycle: %s: no %s result within %u s (lifecycle.%s_timeout): "
			  "failed, step %s", out[i].mac, out[i].step, out[i].limit_s,
			  out[i].step, out[i].step);
}

/*
 * Points the journal at cfg's retention (the journal reads it from the
 * snapshot being served) and applies it at once if it changed.
 */
static void set_retention(struct ib_services *s, const struct ib_config *cfg, bool force)
{
	bool changed = cfg->journal.max_events != s->retention.max_events ||
		       cfg->journal.max_age_days != s->retention.max_age_days;

	ib_journal_set_config(s->journal, &cfg->journal);
	s->retention = cfg->journal;
	if (changed || force)
		prune_journal(s);
}

static void tftp_opts(struct ib_services *s, const struct ib_config *cfg,
		      struct ib_tftp_server_opts *o)
{
	collect_trusted(s, cfg);
	*o = (struct ib_tftp_server_opts){
		.cfg = &cfg->tftp, .trusted = s->trusted, .n_trusted = s->n_trusted,
		.report = on_tftp_report, .report_ctx = s,
	};
}

/*
 * Router advertisements: none when off, nor in auto mode without a boot
 * link.  Auto mode that cannot open its raw socket serves on without them
 * (ib_ra_server_new() says so); true fails the start.
 */
static int start_ra(struct ib_services *s, const struct ib_config *cfg)
{
	char one[1][IF_NAMESIZE];
	enum ib_ra_mode mode = cfg->dhcp6.ra.mode;
	int r;

	if (mode == IB_RA_OFF || (mode == IB_RA_AUTO && !ib_ra_server_links(cfg, false, one, 1)))
		return 0;
	r = ib_ra_server_new(s->base, cfg, s->journal, &s->ra);
	return mode == IB_RA_AUTO ? 0 : r;
}

int ib_services_new(struct event_base *base, const struct ib_config *cfg,
		    struct ib_store *store, struct ib_journal *journal,
		    struct ib_services **ret)
{
	struct ib_services *s = calloc(1, sizeof(*s));
	struct timeval prune_tv = { PRUNE_INTERVAL_SEC, 0 };
	struct timeval lc_tv = { LC_EXPIRE_INTERVAL_SEC, 0 };
	struct ib_tftp_server_opts o;
	int r;

	if (!s)
		return -ENOMEM;
	s->base = base;
	s->store = store;
	s->journal = journal;
	set_retention(s, cfg, true);
	s->lc = cfg->lifecycle;
	s->prune_timer = event_new(base, -1, EV_PERSIST, on_prune, s);
	s->lc_timer = event_new(base, -1, EV_PERSIST, on_lc_expire, s);
	if (!s->prune_timer || event_add(s->prune_timer, &prune_tv) < 0 ||
	    !s->lc_timer || event_add(s->lc_timer, &lc_tv) < 0) {
		ib_services_free(s);
		return -ENOMEM;
	}
	if (cfg->tftp.enabled) {
		tftp_opts(s, cfg, &o);
		if ((r = ib_tftp_server_new(base, &o, &s->tftp)) < 0) {
			ib_err("tftp: cannot start: %s", strerror(-r));
			ib_services_free(s);
			return r;
		}
	}
	/* the HTTP shell journals its fetches itself (MAC or lease, as above) */
	if (cfg->http.enabled &&
	    (r = ib_http_server_new(base, cfg, store, journal, &s->http)) < 0) {
		ib_err("http: cannot start: %s", strerror(-r));
		ib_services_free(s);
		return r;
	}
	if ((r = start_ra(s, cfg)) < 0) {
		ib_services_free(s);
		return r;
	}
	if ((r = ib_doctor_watch_new(base, store, journal, cfg, &s->watch)) < 0) {
		ib_services_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int ib_services_reconfigure(struct ib_services *s, const struct ib_config *cfg)
{
	struct ib_tftp_server_opts o;
	int r;

	if (s->http && (r = ib_http_server_reconfigure(s->http, cfg)) < 0)
		return r;
	if (!s->http && cfg->http.enabled)
		ib_warn("reload: enabling HTTP needs a restart");
	if (s->tftp) {
		tftp_opts(s, cfg, &o);
		if ((r = ib_tftp_server_reconfigure(s->tftp, &o)) < 0) {
			if (s->http)	/* refused with nothing changed */
				ib_http_server_rollback(s->http);
			return r;
		}
	} else if (cfg->tftp.enabled) {
		ib_warn("reload: enabling TFTP needs a restart");
	}
	if (s->ra)
		ib_ra_server_reconfigure(s->ra, cfg);
	else if (cfg->dhcp6.ra.mode == IB_RA_ON)
		ib_warn("reload: enabling router advertisements needs a restart");
	/* last, once cfg is accepted: a refused reload prunes nothing */
	set_retention(s, cfg, false);
	s->lc = cfg->lifecycle;
	ib_doctor_watch_set_config(s->watch, cfg);
	return 0;
}

void ib_services_set_dhcp(struct ib_services *s, const struct ib_http_dhcp *h)
{
	if (s->http)
		ib_http_server_set_dhcp(s->http, h);
}

void ib_services_set_power(struct ib_services *s, const struct ib_http_power *p)
{
	if (s->http)
		ib_http_server_set_power(s->http, p);
}

void ib_services_set_metrics(struct ib_services *s, ib_http_metrics_fn fn, void *ctx)
{
	if (s->http)
		ib_http_server_set_metrics(s->http, fn, ctx);
}

void ib_services_metrics(const struct ib_services *s, struct ib_mx *m)
{
	static const char *const results[] = {
		[TFTP_OK] = "ok", [TFTP_FAILED] = "failed", [TFTP_PROBE] = "size-probe",
	};

	ib_doctor_watch_metrics(s->watch, m);
	if (!s->tftp)
		return;
	ib_mx_family(m, "ironboot_tftp_transfers_total", "counter",
		     "TFTP read requests ended, by result (failed: refused, timed out or "
		     "aborted; size-probe: a client that ended after the OACK, RFC 2347).");
	for (size_t i = 0; i < IB_ARRAY_SIZE(results); i++)
		ib_mx_u64(m, "ironboot_tftp_transfers_total",
			  &(struct ib_mx_label){ "result", results[i] }, 1,
			  s->tftp_stats.transfers[i]);
	ib_mx_one(m, "ironboot_tftp_errors_total", "counter",
		  "TFTP transfers that failed (refused, timed out or aborted).",
		  s->tftp_stats.transfers[TFTP_FAILED]);
	ib_mx_one(m, "ironboot_tftp_bytes_total", "counter",
		  "Bytes of TFTP transfers acknowledged by their clients.", s->tftp_stats.bytes);
	ib_mx_one(m, "ironboot_tftp_retransmits_total", "counter",
		  "TFTP packets sent again after a timeout.", s->tftp_stats.retransmits);
}

void ib_services_set_inventory(struct ib_services *s, ib_http_inventory_fn fn, void *ctx)
{
	if (s->http)
		ib_http_server_set_inventory(s->http, fn, ctx);
}

void ib_services_set_readiness(struct ib_services *s, ib_http_ready_fn fn, void *ctx)
{
	if (s->http)
		ib_http_server_set_readiness(s->http, fn, ctx);
}

bool ib_services_check_tftp(const struct ib_services *s, const struct ib_config *cfg,
			    json_t *checks)
{
	const char *why = NULL;

	if (!cfg->tftp.enabled)
		return true;
	if (!s->tftp)
		why = "not listening: enabled by a reload, needs a restart";
	else if (ib_tftp_server_listening(s->tftp) == 0)
		why = "not listening: its sockets were lost (see the log)";
	json_object_set_new(checks, "tftp", json_string(why ? why : "ok"));
	return !why;
}

void ib_services_set_leader(struct ib_services *s, bool leader)
{
	s->follower = !leader;
}

void ib_services_free(struct ib_services *s)
{
	if (!s)
		return;
	ib_http_server_free(s->http);
	ib_tftp_server_free(s->tftp);
	ib_ra_server_free(s->ra);
	ib_doctor_watch_free(s->watch);
	if (s->prune_timer)
		event_free(s->prune_timer);
	if (s->lc_timer)
		event_free(s->lc_timer);
	free(s);
}
