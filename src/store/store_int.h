/*
 * What both store implementations (store_sqlite*.c, store_pg*.c) share
 * beyond the interface; not for use outside src/store.
 */
#ifndef IB_STORE_STORE_INT_H
#define IB_STORE_STORE_INT_H

#include "store/store.h"

/* Writes a message into err (256 bytes; may be NULL). */
void ib_store_set_err(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The journal event of a lifecycle write: note under mac, with the row's
 * new version, at note->now_us.  Appended by the caller, in the write's
 * transaction.
 */
void ib_store_machine_event(const char *mac, const struct ib_machine_note *note,
			    int64_t version, struct ib_event *ev);

/* Fills m's fields after its row was created at now (id already set). */
void ib_store_machine_created(struct ib_machine_state *m, int64_t now);

/* Fills m's fields after the compare-and-set on old succeeded at now. */
void ib_store_machine_updated(const struct ib_machine_state *old,
			      struct ib_machine_state *m, int64_t now);

#endif
