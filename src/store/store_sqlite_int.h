/*
 * Internals shared by the SQLite store's two files: store_sqlite.c
 * (connection, transactions, IPv4 leases, events, inventory, meta) and
 * store_sqlite6.c (IPv6 leases).  Not for use outside src/store.
 *
 * Each file keeps its own table of statements (stmt_sql[] and
 * ib_ss_stmt6_sql[]); ib_store_sqlite_open() prepares both once, and the
 * rules at the top of store_sqlite.c hold for both: values reach SQL only
 * through sqlite3_bind_*(), and every operation resets what it used.
 */
#ifndef IB_STORE_SQLITE_INT_H
#define IB_STORE_SQLITE_INT_H

#include "store/store.h"
#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#define RECLAIM_BATCH 64	/* leases loaded per reclaim round */

/* Statements of store_sqlite.c, indexed into stmt_sql[]. */
enum stmt_id {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_LEASE_GET,
	ST_LEASE_FIND_CID,
	ST_LEASE_FIND_HW,
	ST_LEASE_UPSERT,
	ST_LEASE_END_CID,
	ST_LEASE_END_HW,
	ST_LEASE_SET_STATE,
	ST_LEASE_RANGE,
	ST_LEASE_DUE,
	ST_LEASE_EXPIRE,
	ST_EVENT_INSERT,
	ST_EVENT_INSERT_MANY,
	ST_EVENT_ALL,
	ST_EVENT_BY_MAC,
	ST_EVENT_PRUNE_COUNT,
	ST_EVENT_PRUNE_AGE,
	ST_INV_EXISTS,
	ST_INV_UPSERT,
	ST_INV_DELETE,
	ST_INV_ALL,
	ST_META_GET,
	ST_META_PUT,
	ST__MAX
};

/* Statements of store_sqlite6.c, indexed into ib_ss_stmt6_sql[]. */
enum stmt6_id {
	ST6_GET,
	ST6_FIND,
	ST6_UPSERT,
	ST6_END_OTHERS,
	ST6_SET_STATE,
	ST6_ALL,
	ST6_DUE,
	ST6_EXPIRE,
	ST6__MAX
};

/* Statements of store_sqlite_machines.c, indexed into ib_ss_stmtm_sql[]. */
enum stmtm_id {
	STM_GET,
	STM_NICS,
	STM_INSERT,
	STM_NIC_INSERT,
	STM_NIC_OWNER,
	STM_NIC_COUNT,
	STM_UPDATE,
	STM_REPORT_PUT,
	STM_REPORT_GET,
	STM_ALL,
	STM_POWER_PUT,
	STM_POWER_GET,
	STM__MAX
};

/* The SQLite store; embeds the interface base first. */
struct store_sqlite {
	struct ib_store base;		/* must stay first */
	sqlite3 *db;			/* the connection */
	sqlite3_stmt *st[ST__MAX];	/* prepared once, indexed by stmt_id */
	sqlite3_stmt *st6[ST6__MAX];	/* prepared once, indexed by stmt6_id */
	sqlite3_stmt *stm[STM__MAX];	/* prepared once, indexed by stmtm_id */
	bool in_machine_walk;		/* machine_foreach running (uses STM_ALL) */
	bool in_lease_walk;		/* lease4_foreach running */
	bool in_lease6_walk;		/* lease6_foreach running */
	bool in_event_walk;		/* event_foreach running */
	bool in_reclaim;		/* lease4_reclaim running (uses due[]) */
	bool in_reclaim6;		/* lease6_reclaim running (uses due6[]) */
	struct ib_lease4 due[RECLAIM_BATCH]; /* lease4_reclaim's current round */
	struct ib_lease6 due6[RECLAIM_BATCH]; /* lease6_reclaim's current round */
};

/* The SQL of store_sqlite6.c's statements, for ib_store_sqlite_open(). */
extern const char *const ib_ss_stmt6_sql[ST6__MAX];
/* The SQL of store_sqlite_machines.c's statements. */
extern const char *const ib_ss_stmtm_sql[STM__MAX];

static inline struct store_sqlite *to_ss(struct ib_store *s)
{
	return (struct store_sqlite *)s;
}

/* Returns a statement to its pristine state for the next user. */
static inline void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no rows; 0 or -EIO. Always resets. */
static inline int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	done(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Copies a TEXT column into dst[cap], truncating, always terminated. */
static inline void col_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t ? (size_t)sqlite3_column_bytes(st, col) : 0;

	n = IB_MIN(n, cap - 1);
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

/* Copies a BLOB column into dst[cap]; returns the length kept. */
static inline size_t col_blob(sqlite3_stmt *st, int col, uint8_t *dst, size_t cap)
{
	const void *b = sqlite3_column_blob(st, col);
	size_t n = b ? (size_t)sqlite3_column_bytes(st, col) : 0;

	n = IB_MIN(n, cap);
	if (n)
		memcpy(dst, b, n);
	return n;
}

/*
 * Opens an atomic scope for a multi-statement operation: its own
 * IMMEDIATE transaction when the caller has none open, else a savepoint
 * inside the caller's.  *ret_outer says which, for ib_ss_scope_close().
 * 0 or -EIO.
 */
int ib_ss_scope_open(struct store_sqlite *ss, bool *ret_outer);

/*
 * Closes the scope ib_ss_scope_open() opened: kept when r >= 0, undone
 * otherwise.  Returns r, or -EIO when keeping it failed.
 */
int ib_ss_scope_close(struct store_sqlite *ss, bool outer, int r);

/* The IPv6 lease operations (store.h says what each does). */
int ib_ss_lease6_get(struct ib_store *s, const uint8_t address[16],
		     struct ib_lease6 *ret);
int ib_ss_lease6_find_client(struct ib_store *s, const uint8_t *duid,
			     uint8_t duid_len, uint32_t iaid,
			     struct ib_lease6 *ret);
int ib_ss_lease6_commit(struct ib_store *s, const struct ib_lease6 *l,
			int64_t now);
int ib_ss_lease6_set_state(struct ib_store *s, const uint8_t address[16],
			   enum ib_lease_state state, int64_t expires);
int ib_ss_lease6_foreach(struct ib_store *s,
			 int (*cb)(const struct ib_lease6 *l, void *ctx),
			 void *ctx);
int ib_ss_lease6_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease6 *l, void *ctx),
			 void *ctx);

/* The machine lifecycle operations (store.h says what each does). */
int ib_ss_machine_get(struct ib_store *s, const char *mac, struct ib_machine_state *ret);
int ib_ss_machine_create(struct ib_store *s, struct ib_machine_state *m,
			 const struct ib_machine_note *note);
int ib_ss_machine_update(struct ib_store *s, const struct ib_machine_state *old,
			 struct ib_machine_state *m, const struct ib_machine_note *note);
int ib_ss_machine_add_nic(struct ib_store *s, int64_t id, const char *mac, int64_t now_us);
int ib_ss_machine_report_put(struct ib_store *s, int64_t id, const char *json);
int ib_ss_machine_report_get(struct ib_store *s, int64_t id, char *buf, size_t cap);
int ib_ss_machine_foreach(struct ib_store *s,
			  int (*cb)(const struct ib_machine_state *m, void *ctx), void *ctx);
int ib_ss_power_put(struct ib_store *s, const struct ib_power_row *row);
int ib_ss_power_get(struct ib_store *s, const char *mac, struct ib_power_row *ret);

#endif
