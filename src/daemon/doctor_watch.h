/*
 * The daemon runs the doctor's machine rules (src/doctor) on the machines
 * whose journal moved, and logs one warning per machine and failure
 * pattern ("doctor: 52:54:..: chainload-loop: ..."), repeated at most
 * every IB_WATCH_REPEAT_SEC.  The rules are the ones `ironboot doctor
 * --mac M` runs, without the file probe.
 *
 * The work of a run is bounded and incremental: it reads the events
 * stored since the last run (the oldest IB_WATCH_SCAN after the last id
 * it read; a storm's rest is read by the next runs), marks their
 * machines due, and runs the rules on at most IB_WATCH_CHECKS due
 * machines (their newest 256 events); the others wait for the next run.  A machine is due again, without new events, when the
 * rules' clocks pass (IB_DOCTOR_QUIET_US, IB_DOCTOR_AGENT_WAIT_US after its
 * newest event), since a stall is a verdict of time.  Each machine's
 * latest verdict is kept for /metrics (ironboot_doctor_findings).
 */
#ifndef IB_DAEMON_DOCTOR_WATCH_H
#define IB_DAEMON_DOCTOR_WATCH_H

#include <event2/event.h>

#include "common/metrics.h"
#include "config/config.h"
#include "journal/journal.h"
#include "store/store.h"

#define IB_WATCH_INTERVAL_SEC 2		/* how often the rules run */
#define IB_WATCH_WINDOW_SEC 60		/* at start: machines with events this recent */
#define IB_WATCH_REPEAT_SEC 600		/* one warning per machine and rule this often */
#define IB_WATCH_SCAN 512		/* events read per run, at most */
#define IB_WATCH_CHECKS 16		/* machines whose rules run per run, at most */
#define IB_WATCH_TRACK 1024		/* machines whose verdict is kept */
#define IB_WATCH_FORGET_SEC 86400	/* a verdict kept this long after the
					 * machine's newest event */

struct ib_doctor_watch;

/* What the watch did since it started (tests, docs). */
struct ib_doctor_watch_stats {
	uint64_t runs;			/* runs of the rules' timer */
	uint64_t events_read;		/* events read from the store by the scan */
	uint64_t checks;		/* machines whose rules ran */
	uint64_t warnings;		/* warnings logged */
};

/* Starts the watch on base, reading store (the journal is flushed first).
 * cfg is the snapshot served (see ib_doctor_watch_set_config).  With base
 * NULL no timer runs: the caller calls ib_doctor_watch_run (tests). */
int ib_doctor_watch_new(struct event_base *base, struct ib_store *store,
			struct ib_journal *journal, const struct ib_config *cfg,
			struct ib_doctor_watch **ret);
/* The snapshot a reload swapped in: every machine followed is due again. */
void ib_doctor_watch_set_config(struct ib_doctor_watch *w, const struct ib_config *cfg);
/* One run at now_us (unix microseconds): what the timer does. */
void ib_doctor_watch_run(struct ib_doctor_watch *w, int64_t now_us);
/* Its counters. */
const struct ib_doctor_watch_stats *ib_doctor_watch_stats(const struct ib_doctor_watch *w);
/* Writes ironboot_doctor_findings{rule,severity}: per machine rule, the
 * machines followed whose latest run found it.  Accepts NULL (no series). */
void ib_doctor_watch_metrics(const struct ib_doctor_watch *w, struct ib_mx *m);
/* Stops and frees; accepts NULL. */
void ib_doctor_watch_free(struct ib_doctor_watch *w);

#endif
