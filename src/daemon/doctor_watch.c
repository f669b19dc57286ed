/* The daemon's doctor: see doctor_watch.h. */
#include "daemon/doctor_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "doctor/doctor.h"
#include "journal/timeline.h"

#define WATCH_MAC_EVENTS 256		/* a machine's newest events read */
#define WATCH_RULES 32			/* machine rules (a bit each in a verdict) */
#define WATCH_RULE_EVERY 10		/* seconds between two warnings of a rule */
#define WATCH_SEEN 512			/* (machine, rule) warnings remembered */
#define WATCH_LOGS 16			/* warnings per run at most */
#define WATCH_PROBE 8			/* slots a machine may sit in (open addressing) */
/* The scan's window starts this long before the last run: a repeat
 * summary is stored up to IB_JOURNAL_REPEAT_SEC after the time it carries
 * (its last repeat's).  The store returns only ids the scan has not read,
 * the window bounds the rows it walks to find them. */
#define WATCH_OVERLAP_US ((IB_JOURNAL_REPEAT_SEC + 2) * 1000000LL)

/* A warning logged: of which machine and rule, when. */
struct seen {
	char mac[48];			/* the machine */
	const char *rule;		/* the rule id (static) */
	int64_t at;			/* unix seconds */
};

/* A machine followed: when its rules run next, and what they found. */
struct tracked {
	char mac[48];			/* "" : a free slot */
	int64_t last_ev_us;		/* its newest event read */
	int64_t due_us;			/* its rules run at the first run from then; 0: not due */
	uint32_t rules;			/* bit i: machine rule i found by its latest run */
};

struct ib_doctor_watch {
	struct event *timer;		/* every IB_WATCH_INTERVAL_SEC, or NULL */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	const struct ib_config *cfg;	/* the snapshot served, not owned */
	struct seen seen[WATCH_SEEN];	/* direct-mapped by (mac, rule) */
	struct ib_log_rate rate[WATCH_RULES]; /* per rule: a flood of machines
					 * failing alike is one warning
					 * per WATCH_RULE_EVERY */
	struct tracked track[IB_WATCH_TRACK]; /* by hash of the MAC */
	size_t cursor;			/* where the next run looks for due machines */
	int64_t scan_from_us;		/* the scan reads events from this time */
	int64_t last_id;		/* the last event id a scan read: the
					 * next goes on after it */
	int64_t scan_last_id;		/* the last of the scan under way (not
					 * the highest: on PostgreSQL a listing
					 * after an id is in commit order) */
	size_t scan_n;			/* events it read */
	struct ib_event *ev;		/* WATCH_MAC_EVENTS events, owned */
	size_t n_ev;			/* used in ev */
	int64_t now_us;			/* of the run under way */
	struct ib_doctor_report rep;	/* the last machine's findings */
	struct ib_doctor_watch_stats stats;
};

static uint64_t fnv(const char *s, uint64_t h)
{
	for (const char *p = s; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h;
}

static size_t seen_slot(const char *mac, const char *rule)
{
	return (size_t)(fnv(rule, fnv(mac, 0xcbf29ce484222325ull)) % WATCH_SEEN);
}

/* The index of rule in the machine rule table (its bit in a verdict). */
static size_t rule_index(const char *rule)
{
	const struct ib_doctor_rule_info *t;

	for (size_t i = 0; i < WATCH_RULES - 1 && (t = ib_doctor_mac_rule(i)); i++)
		if (strcmp(t->id, rule) == 0)
			return i;
	return WATCH_RULES - 1;
}

/*
 * The slot of mac, taken if it is not followed yet: among its
 * WATCH_PROBE slots, its own, else a free one, else the one whose machine
 * was quiet the longest (its verdict is dropped).
 */
static struct tracked *follow(struct ib_doctor_watch *w, const char *mac)
{
	size_t h = (size_t)(fnv(mac, 0xcbf29ce484222325ull) % IB_WATCH_TRACK);
	struct tracked *victim = NULL;

	for (size_t i = 0; i < WATCH_PROBE; i++) {
		struct tracked *t = &w->track[(h + i) % IB_WATCH_TRACK];

		if (strcmp(t->mac, mac) == 0)
			return t;
		if (!victim || (victim->mac[0] && (!t->mac[0] || t->last_ev_us < victim->last_ev_us)))
			victim = t;
	}
	memset(victim, 0, sizeof(*victim));
	snprintf(victim->mac, sizeof(victim->mac), "%s", mac);
	return victim;
}

/* An event the scan read: its machine is due now. */
static int scanned(const struct ib_event *e, void *arg)
{
	struct ib_doctor_watch *w = arg;
	struct tracked *t;

	w->stats.events_read++;
	w->scan_n++;
	w->scan_last_id = e->id;
	/* a refused request or an unverified claim names a MAC any host
	 * may send: no machine's activity (journal/timeline.h), so it takes
	 * no slot from a machine followed and makes none due */
	if (!e->mac[0] || ib_timeline_unverified(e))
		return 0;
	t = follow(w, e->mac);
	if (e->ts_us > t->last_ev_us)
		t->last_ev_us = e->ts_us;
	t->due_us = w->now_us;
	return 0;
}

static int collect(const struct ib_event *e, void *arg)
{
	struct ib_doctor_watch *w = arg;

	if (w->n_ev < WATCH_MAC_EVENTS)
		w->ev[w->n_ev++] = *e;
	return 0;
}

/* When t's verdict can next change with no new event: when one of the
 * rules' clocks passes; 0 when none is left. */
static int64_t next_due(const struct tracked *t, int64_t now_us)
{
	static const int64_t clocks[] = { IB_DOCTOR_QUIET_US, IB_DOCTOR_AGENT_WAIT_US };

	for (size_t i = 0; i < IB_ARRAY_SIZE(clocks); i++)
		if (now_us < t->last_ev_us + clocks[i])
			return t->last_ev_us + clocks[i];
	return 0;
}

/* Logs the findings of mac not logged in the last IB_WATCH_REPEAT_SEC,
 * each rule at most every WATCH_RULE_EVERY seconds (the others counted
 * and said with the next); returns how many it logged. */
static size_t warn_findings(struct ib_doctor_watch *w, const char *mac, int64_t now,
			    size_t budget)
{
	size_t logged = 0;

	for (size_t i = 0; i < w->rep.n && logged < budget; i++) {
		const struct ib_doctor_finding *f = &w->rep.v[i];
		struct seen *s = &w->seen[seen_slot(mac, f->rule)];
		struct ib_log_rate *rate = &w->rate[rule_index(f->rule)];
		char cause[4 * IB_DOCTOR_TEXT], ev[4 * IB_DOCTOR_TEXT], more[80] = "";

		if (f->severity < IB_DOCTOR_WARNING ||
		    (s->rule == f->rule && strcmp(s->mac, mac) == 0 &&
		     now - s->at < IB_WATCH_REPEAT_SEC))
			continue;
		/* this machine is said now, or counted in the rule's next warning */
		memcpy(s->mac, mac, sizeof(s->mac));
		s->rule = f->rule;
		s->at = now;
		if (!ib_log_rate_due(rate, now, WATCH_RULE_EVERY))
			continue;
		if (rate->held)
			snprintf(more, sizeof(more), "; %llu more machine(s) with it since the "
				 "last warning", (unsigned long long)rate->held);
		/* evidence holds names clients sent (TFTP files): sanitised */
		ib_str_sanitize((const uint8_t *)f->cause, strlen(f->cause), cause, sizeof(cause));
		ib_str_sanitize((const uint8_t *)f->evidence, strlen(f->evidence), ev, sizeof(ev));
		ib_warn("doctor: %s: %s: %s (%s); `ironboot doctor --mac %s` for the fix%s",
			mac, f->rule, cause, ev, mac, more);
		ib_log_rate_logged(rate, now);
		logged++;
	}
	return logged;
}

/* Runs the rules on t's newest events; keeps the verdict, logs what is new. */
static size_t check(struct ib_doctor_watch *w, struct tracked *t, size_t budget)
{
	struct ib_event_filter mf = { .mac = t->mac, .limit = WATCH_MAC_EVENTS };
	size_t logged;

	w->n_ev = 0;
	if (ib_store_event_foreach(w->store, &mf, collect, w) < 0)
		return 0;	/* due again at the next run */
	w->stats.checks++;
	ib_doctor_mac(&(struct ib_doctor_mac_input){ .cfg = w->cfg, .ev = w->ev,
		      .n_ev = w->n_ev, .now_us = w->now_us }, &w->rep);
	t->rules = 0;
	for (size_t i = 0; i < w->rep.n; i++)
		t->rules |= 1u << rule_index(w->rep.v[i].rule);
	t->due_us = next_due(t, w->now_us);
	logged = warn_findings(w, t->mac, w->now_us / 1000000, budget);
	w->stats.warnings += logged;
	return logged;
}

/*
 * The events stored since the last run mark their machines due: the
 * oldest IB_WATCH_SCAN after the last id read.  A full page leaves the
 * rest to the next run, from where this one stopped (and from the same
 * time: the rest may be older than the overlap).
 */
static void scan(struct ib_doctor_watch *w)
{
	struct ib_event_filter f = { .since_us = w->scan_from_us, .limit = IB_WATCH_SCAN,
				     .after_id = w->last_id, .oldest = true };

	w->scan_last_id = w->last_id;
	w->scan_n = 0;
	if (ib_store_event_foreach(w->store, &f, scanned, w) == 0) {
		w->last_id = w->scan_last_id;
		if (w->scan_n < IB_WATCH_SCAN)
			w->scan_from_us = w->now_us - WATCH_OVERLAP_US;
	}
}

void ib_doctor_watch_run(struct ib_doctor_watch *w, int64_t now_us)
{
	size_t checks = 0, logged = 0;

	w->now_us = now_us;
	w->stats.runs++;
	/* the run sees the newest events, unless another connection holds
	 * the write lock: then it reads what is stored, and the rest is
	 * flushed by the shells' timers once the lock is free */
	ib_journal_flush_nowait(w->journal);
	scan(w);
	/* due machines from where the last run stopped, so none starves */
	for (size_t k = 0; k < IB_WATCH_TRACK && checks < IB_WATCH_CHECKS; k++) {
		struct tracked *t = &w->track[(w->cursor + k) % IB_WATCH_TRACK];

		if (!t->mac[0])
			continue;
		if (now_us - t->last_ev_us > IB_WATCH_FORGET_SEC * 1000000LL) {
			memset(t, 0, sizeof(*t));	/* long quiet: its verdict is old news */
			continue;
		}
		if (!t->due_us || t->due_us > now_us)
			continue;
		logged += check(w, t, logged < WATCH_LOGS ? WATCH_LOGS - logged : 0);
		if (++checks == IB_WATCH_CHECKS)
			w->cursor = (w->cursor + k + 1) % IB_WATCH_TRACK;
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ib_doctor_watch_run(arg, ib_now_us());
}

int ib_doctor_watch_new(struct event_base *base, struct ib_store *store,
			struct ib_journal *journal, const struct ib_config *cfg,
			struct ib_doctor_watch **ret)
{
	struct ib_doctor_watch *w = calloc(1, sizeof(*w));
	struct timeval tv = { IB_WATCH_INTERVAL_SEC, 0 };

	if (!w)
		return -ENOMEM;
	w->store = store;
	w->journal = journal;
	w->cfg = cfg;
	w->scan_from_us = ib_now_us() - IB_WATCH_WINDOW_SEC * 1000000LL;
	w->ev = calloc(WATCH_MAC_EVENTS, sizeof(*w->ev));
	if (base)
		w->timer = event_new(base, -1, EV_PERSIST, on_tick, w);
	if (!w->ev || (base && (!w->timer || event_add(w->timer, &tv) < 0))) {
		ib_doctor_watch_free(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

void ib_doctor_watch_set_config(struct ib_doctor_watch *w, const struct ib_config *cfg)
{
	if (!w)
		return;
	w->cfg = cfg;
	for (size_t i = 0; i < IB_WATCH_TRACK; i++)
		if (w->track[i].mac[0])
			w->track[i].due_us = 1;
}

const struct ib_doctor_watch_stats *ib_doctor_watch_stats(const struct ib_doctor_watch *w)
{
	return &w->stats;
}

void ib_doctor_watch_metrics(const struct ib_doctor_watch *w, struct ib_mx *m)
{
	static const char name[] = "ironboot_doctor_findings";
	const struct ib_doctor_rule_info *r;

	if (!w)
		return;
	ib_mx_family(m, name, "gauge", "Machines whose latest doctor run names this rule "
		     "(machines with journal events in the last day, up to 1024).");
	for (size_t i = 0; i < WATCH_RULES - 1 && (r = ib_doctor_mac_rule(i)); i++) {
		const struct ib_mx_label l[2] = { { "rule", r->id },
						  { "severity", ib_doctor_sev_str(r->severity) } };
		uint64_t n = 0;

		for (size_t k = 0; k < IB_WATCH_TRACK; k++)
			n += w->track[k].mac[0] && (w->track[k].rules >> i & 1);
		ib_mx_u64(m, name, l, 2, n);
	}
}

void ib_doctor_watch_free(struct ib_doctor_watch *w)
{
	if (!w)
		return;
	if (w->timer)
		event_free(w->timer);
	free(w->ev);
	free(w);
}
