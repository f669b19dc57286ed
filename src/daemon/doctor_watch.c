/* The daemon's doctor: see doctor_watch.h. */
#include "daemon/doctor_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "doctor/doctor.h"

#define WATCH_MACS 64			/* machines examined per run */
#define WATCH_EVENTS 2000		/* events read per scan */
#define WATCH_MAC_EVENTS 256		/* a machine's newest events read */
#define WATCH_RULES 32			/* rules with a rate limit of their own */
#define WATCH_RULE_EVERY 10		/* seconds between two warnings of a rule */
#define WATCH_SEEN 512			/* (machine, rule) warnings remembered */
#define WATCH_LOGS 16			/* warnings per run at most */

/* A warning logged: of which machine and rule, when. */
struct seen {
	char mac[48];			/* the machine */
	const char *rule;		/* the rule id (static) */
	int64_t at;			/* unix seconds */
};

struct ib_doctor_watch {
	struct event *timer;		/* every IB_WATCH_INTERVAL_SEC */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	const struct ib_config *cfg;	/* the snapshot served, not owned */
	struct seen seen[WATCH_SEEN];	/* direct-mapped by (mac, rule) */
	struct ib_log_rate rate[WATCH_RULES]; /* per rule: a flood of machines
					 * failing alike is one warning
					 * per WATCH_RULE_EVERY */
	struct ib_event *ev;		/* WATCH_EVENTS events, owned */
	size_t n_ev;			/* used in ev */
	char macs[WATCH_MACS][48];	/* machines active in the window */
	size_t n_macs;
	struct ib_doctor_report rep;	/* the last machine's findings */
};

static int collect(const struct ib_event *e, void *arg)
{
	struct ib_doctor_watch *w = arg;

	if (w->n_ev < WATCH_EVENTS)
		w->ev[w->n_ev++] = *e;
	return 0;
}

/* The distinct MACs of the events read, up to WATCH_MACS. */
static void active_macs(struct ib_doctor_watch *w)
{
	w->n_macs = 0;
	for (size_t i = w->n_ev; i-- > 0 && w->n_macs < WATCH_MACS;) {
		bool dup = false;

		if (!w->ev[i].mac[0])
			continue;
		for (size_t k = 0; k < w->n_macs && !dup; k++)
			dup = strcmp(w->macs[k], w->ev[i].mac) == 0;
		if (!dup)
			memcpy(w->macs[w->n_macs++], w->ev[i].mac, sizeof(w->macs[0]));
	}
}

static size_t slot(const char *mac, const char *rule)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = mac; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	for (const char *p = rule; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return (size_t)(h % WATCH_SEEN);
}

/* The rate limit of rule (by its place in the machine rule table). */
static struct ib_log_rate *rule_rate(struct ib_doctor_watch *w, const char *rule)
{
	const struct ib_doctor_rule_info *t;

	for (size_t i = 0; i < WATCH_RULES - 1 && (t = ib_doctor_mac_rule(i)); i++)
		if (strcmp(t->id, rule) == 0)
			return &w->rate[i];
	return &w->rate[WATCH_RULES - 1];
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
		struct seen *s = &w->seen[slot(mac, f->rule)];
		struct ib_log_rate *rate = rule_rate(w, f->rule);
		char cause[4 * IB_DOCTOR_TEXT], ev[4 * IB_DOCTOR_TEXT], more[80] = "";
		bool due;

		if (f->severity < IB_DOCTOR_WARNING ||
		    (s->rule == f->rule && strcmp(s->mac, mac) == 0 &&
		     now - s->at < IB_WATCH_REPEAT_SEC))
			continue;
		/* this machine is said now, or counted in the rule's next warning */
		memcpy(s->mac, mac, sizeof(s->mac));
		s->rule = f->rule;
		s->at = now;
		due = ib_log_rate_due(rate, now, WATCH_RULE_EVERY);
		if (!due)
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

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct ib_doctor_watch *w = arg;
	int64_t now_us = ib_now_us();
	struct ib_event_filter f = { .since_us = now_us - IB_WATCH_WINDOW_SEC * 1000000LL,
				     .limit = WATCH_EVENTS };
	size_t logged = 0;
	int r;

	if ((r = ib_journal_flush(w->journal, false)) < 0)
		return;		/* the journal's own timer says why */
	w->n_ev = 0;
	if (ib_store_event_foreach(w->store, &f, collect, w) < 0)
		return;
	active_macs(w);
	for (size_t i = 0; i < w->n_macs && logged < WATCH_LOGS; i++) {
		struct ib_event_filter mf = { .mac = w->macs[i], .limit = WATCH_MAC_EVENTS };
		char mac[48];

		memcpy(mac, w->macs[i], sizeof(mac));
		w->n_ev = 0;
		if (ib_store_event_foreach(w->store, &mf, collect, w) < 0)
			continue;
		ib_doctor_mac(&(struct ib_doctor_mac_input){ .cfg = w->cfg, .ev = w->ev,
			      .n_ev = w->n_ev, .now_us = now_us }, &w->rep);
		logged += warn_findings(w, mac, now_us / 1000000, WATCH_LOGS - logged);
	}
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
	w->ev = calloc(WATCH_EVENTS, sizeof(*w->ev));
	w->timer = event_new(base, -1, EV_PERSIST, on_tick, w);
	if (!w->ev || !w->timer || event_add(w->timer, &tv) < 0) {
		ib_doctor_watch_free(w);
		return -ENOMEM;
	}
	*ret = w;
	return 0;
}

void ib_doctor_watch_set_config(struct ib_doctor_watch *w, const struct ib_config *cfg)
{
	if (w)
		w->cfg = cfg;
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
