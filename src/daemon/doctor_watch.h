/*
 * The daemon runs the doctor's machine rules (src/doctor) on the machines
 * active in the last minute, every few seconds, and logs one warning per
 * machine and failure pattern ("doctor: 52:54:..: chainload-loop: ..."),
 * repeated at most every IB_WATCH_REPEAT_SEC.  The rules are the ones
 * `ironboot doctor --mac M` runs, without the file probe.
 */
#ifndef IB_DAEMON_DOCTOR_WATCH_H
#define IB_DAEMON_DOCTOR_WATCH_H

#include <event2/event.h>

#include "config/config.h"
#include "journal/journal.h"
#include "store/store.h"

#define IB_WATCH_INTERVAL_SEC 5		/* how often the rules run */
#define IB_WATCH_WINDOW_SEC 60		/* machines with events this recent */
#define IB_WATCH_REPEAT_SEC 600		/* one warning per machine and rule this often */

struct ib_doctor_watch;

/* Starts the watch on base, reading store (the journal is flushed first).
 * cfg is the snapshot served (see ib_doctor_watch_set_config). */
int ib_doctor_watch_new(struct event_base *base, struct ib_store *store,
			struct ib_journal *journal, const struct ib_config *cfg,
			struct ib_doctor_watch **ret);
/* The snapshot a reload swapped in. */
void ib_doctor_watch_set_config(struct ib_doctor_watch *w, const struct ib_config *cfg);
/* Stops and frees; accepts NULL. */
void ib_doctor_watch_free(struct ib_doctor_watch *w);

#endif
