/*
 * Internals shared by the SQLite store's files: store_sqlite.c
 * (connection, transactions, inventory, meta), store_sqlite_lease.c (the
 * lease code both families share: get, conditional commit, state, walk,
 * reclaim), store_sqlite4.c and store_sqlite6.c (what differs per
 * family: SQL, row codec, client lookup), store_sqlite_events.c (the
 * journal's events) and store_sqlite_machines.c.  Not for use outside
 * src/store.
 *
 * Each file keeps its own table of statements; ib_store_sqlite_open()
 * prepares them all once, and the rules at the top of store_sqlite.c hold
 * for all: values reach SQL only through sqlite3_bind_*(), and every
 * operation resets what it used.
 */
#ifndef IB_STORE_SQLITE_INT_H
#define IB_STORE_SQLITE_INT_H

#include "store/store.h"
#include "store/store_sql.h"
#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#define RECLAIM_BATCH 64	/* leases loaded per reclaim round */

/*
 * ?1 first ?2 last ?3 now: the unexpired ACTIVE (1) and DECLINED (4)
 * rows of an address range, counted per state over the primary key.  The
 * unary + keeps SQLite off the (state, expires) index, which it prefers
 * but which is ordered by expiry: through it, every pool's count read
 * every unexpired lease of the store (a million leases: 55-136 ms per
 * pool, an empty one included); through the key, only the pool's rows.
 */
#define IB_SS_SQL_COUNT(table) "SELECT state, COUNT(*) FROM " table \
	" WHERE address BETWEEN ?1 AND ?2 AND +expires > ?3 AND +state IN (1, 4)" \
	" GROUP BY state"

/* Statements of store_sqlite.c, indexed into stmt_sql[]: after the ones
 * both backends have (store_sql.h), SQLite's own. */
enum stmt_id {
	ST_BEGIN = ST_SHARED__MAX,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_INV_EXISTS,
	ST__MAX
};

/* Statements of store_sqlite4.c, indexed into ib_ss_stmt4_sql[]. */
enum stmt4_id {
	ST4_GET,
	ST4_FIND_CID,
	ST4_FIND_HW,
	ST4_UPSERT,
	ST4_END_CID,
	ST4_END_HW,
	ST4_SET_STATE,
	ST4_RANGE,
	ST4_DUE,
	ST4_EXPIRE,
	ST4_COUNT,
	ST4__MAX
};

/* Statements of store_sqlite_events.c, indexed into ib_ss_stmte_sql[]. */
enum stmte_id {
	STE_INSERT,
	STE_INSERT_MANY,
	STE_ALL,
	STE_BY_MAC,
	STE_ALL_OLDEST,
	STE_BY_MAC_OLDEST,
	STE_PRUNE_COUNT,
	STE_PRUNE_AGE,
	STE__MAX
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
	ST6_COUNT,
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

/* A caller's lease callback, typed by family: one of cb4 and cb6 is set
 * (or neither: nothing to call). */
struct ib_ss_lease_cb {
	int (*cb4)(const struct ib_lease4 *l, void *ctx);
	int (*cb6)(const struct ib_lease6 *l, void *ctx);
	void *ctx;			/* passed to it */
};

/* One row of a walk (ib_ss_walk()): read it from st, hand it on; non-zero
 * stops the walk and is returned. */
typedef int (*ib_ss_row_fn)(sqlite3_stmt *st, void *arg);

/*
 * The one walk of the store's tables: steps st (bound by the caller) and
 * calls each(st, arg) per row.  -EBUSY when *busy (the walk's statement
 * is in use: a bind while it runs changed nothing), -EIO on a failed
 * step; st is reset at the end.
 */
int ib_ss_walk(sqlite3_stmt *st, bool *busy, ib_ss_row_fn each, void *arg);

/*
 * One lease table (leases4, leases6) as store_sqlite_lease.c sees it: the
 * size and key of its rows, its statements by role, and how its rows are
 * read and bound.  One walk, one reclaim, one conditional commit serve
 * both families; each family file says only what differs.
 */
struct ib_ss_family_ops {
	size_t size;			/* sizeof the lease struct */
	size_t addr_off;		/* offsetof(lease, address) */
	int get, upsert, set_state;	/* statement indexes into the family's table */
	int due, expire;		/* ?1 now ?2 limit; ?1 address ?2 now */
	int count;			/* ?1 first ?2 last ?3 now (IB_SS_SQL_COUNT) */
	/* reads a row (the family's column order) into lease */
	void (*row)(sqlite3_stmt *st, void *lease);
	/* binds the address addr points at as parameter idx */
	void (*bind_addr)(sqlite3_stmt *st, int idx, const void *addr);
	/* binds the upsert from lease; now is the last parameter */
	void (*bind_upsert)(sqlite3_stmt *st, const void *lease, int64_t now);
	/* binds and returns the statement that ends lease's client's other
	 * ACTIVE leases in its subnet */
	sqlite3_stmt *(*bind_end)(sqlite3_stmt *const *st, const void *lease);
};

/*
 * The ops of lease family n (4 or 6), whose file names its statements
 * STn_GET... and its functions rown(), bind_addrn(), bind_upsertn() and
 * bind_endn().
 */
#define IB_SS_FAMILY_OPS(n) { \
	.size = sizeof(struct ib_lease##n), \
	.addr_off = offsetof(struct ib_lease##n, address), \
	.get = ST##n##_GET, .upsert = ST##n##_UPSERT, .set_state = ST##n##_SET_STATE, \
	.due = ST##n##_DUE, .expire = ST##n##_EXPIRE, .count = ST##n##_COUNT, .row = row##n, \
	.bind_addr = bind_addr##n, .bind_upsert = bind_upsert##n, .bind_end = bind_end##n, \
}

/* A lease table of one connection: its ops, statements and walk state. */
struct ib_ss_family {
	const struct ib_ss_family_ops *ops; /* what differs by family */
	sqlite3_stmt **st;		/* its prepared statements */
	bool in_walk;			/* a foreach runs */
	bool in_reclaim;		/* a reclaim runs (uses due) */
	void *due;			/* RECLAIM_BATCH leases: reclaim's round */
};

/* The SQLite store; embeds the interface base first. */
struct store_sqlite {
	struct ib_store base;		/* must stay first */
	sqlite3 *db;			/* the connection */
	sqlite3_stmt *st[ST__MAX];	/* prepared once, indexed by stmt_id */
	sqlite3_stmt *st4[ST4__MAX];	/* prepared once, indexed by stmt4_id */
	sqlite3_stmt *st6[ST6__MAX];	/* prepared once, indexed by stmt6_id */
	sqlite3_stmt *ste[STE__MAX];	/* prepared once, indexed by stmte_id */
	sqlite3_stmt *stm[STM__MAX];	/* prepared once, indexed by stmtm_id */
	bool in_machine_walk;		/* machine_foreach running (uses STM_ALL) */
	bool in_event_walk;		/* event_foreach running */
	struct ib_ss_family f4;		/* leases4 (store_sqlite4.c) */
	struct ib_ss_family f6;		/* leases6 (store_sqlite6.c) */
};

/* The SQL of store_sqlite4.c's statements, for ib_store_sqlite_open(). */
extern const char *const ib_ss_stmt4_sql[ST4__MAX];
/* The SQL of store_sqlite6.c's statements. */
extern const char *const ib_ss_stmt6_sql[ST6__MAX];
/* The SQL of store_sqlite_events.c's statements. */
extern const char *const ib_ss_stmte_sql[STE__MAX];
/* The two lease families, for ib_ss_family_init(). */
extern const struct ib_ss_family_ops ib_ss_family4, ib_ss_family6;
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

/*
 * Sets up f over ops and the statements st; 0 or -ENOMEM.  Released by
 * ib_ss_family_done() (which accepts a family never set up).
 */
int ib_ss_family_init(struct ib_ss_family *f, const struct ib_ss_family_ops *ops,
		      sqlite3_stmt **st);
void ib_ss_family_done(struct ib_ss_family *f);

/* Steps a single-row lease query of f into ret; -ENOENT when no row. */
int ib_ss_lease_fetch(struct ib_ss_family *f, sqlite3_stmt *st, void *ret);

/* Fetches the lease at the address addr points at; -ENOENT when none. */
int ib_ss_lease_get(struct ib_ss_family *f, const void *addr, void *ret);

/*
 * The conditional write, atomic: lease (already validated) becomes ACTIVE
 * if the family's upsert lets it, and its client's others end.  -EEXIST
 * when another client holds the address (nothing changes).
 */
int ib_ss_lease_commit(struct store_sqlite *ss, struct ib_ss_family *f,
		       const void *lease, int64_t now);

/* Sets the state and expiry of the lease at addr; -ENOENT when none. */
int ib_ss_lease_set_state(struct store_sqlite *ss, struct ib_ss_family *f,
			  const void *addr, enum ib_lease_state state, int64_t expires);

/*
 * ib_ss_walk() over f's rows: cb with each.  -EBUSY inside another walk
 * of f.
 */
int ib_ss_lease_walk(struct ib_ss_family *f, sqlite3_stmt *st,
		     const struct ib_ss_lease_cb *cb);

/*
 * Counts f's unexpired ACTIVE and DECLINED rows with first <= address <=
 * last (the family's key, as bind_addr binds it) into *ret: 0, or -EIO.
 */
int ib_ss_lease_count(struct ib_ss_family *f, const void *first, const void *last,
		      int64_t now, struct ib_lease_count *ret);

/*
 * ACTIVE and DECLINED leases whose expiry has passed become EXPIRED, cb
 * (may be NULL) called for each before.  All or nothing: one scope, undone
 * if cb returns < 0 or a write fails; cb > 0 stops early, keeping what
 * was done.
 */
int ib_ss_lease_reclaim(struct store_sqlite *ss, struct ib_ss_family *f, int64_t now,
			const struct ib_ss_lease_cb *cb);

/* The IPv4 lease operations (store.h says what each does). */
int ib_ss_lease4_get(struct ib_store *s, uint32_t address, struct ib_lease4 *ret);
int ib_ss_lease4_find_client(struct ib_store *s, const uint8_t *hwaddr,
			     uint8_t hw_len, const uint8_t *client_id,
			     uint8_t client_id_len, struct ib_lease4 *ret);
int ib_ss_lease4_commit(struct ib_store *s, const struct ib_lease4 *l, int64_t now);
int ib_ss_lease4_set_state(struct ib_store *s, uint32_t address,
			   enum ib_lease_state state, int64_t expires);
int ib_ss_lease4_foreach(struct ib_store *s, uint32_t first, uint32_t last,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx);
int ib_ss_lease4_count(struct ib_store *s, uint32_t first, uint32_t last, int64_t now,
		       struct ib_lease_count *ret);
int ib_ss_lease4_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx);

/* The event operations (store.h says what each does). */
int ib_ss_event_append(struct ib_store *s, struct ib_event *ev);
int ib_ss_event_append_many(struct ib_store *s, struct ib_event *ev, size_t n);
int ib_ss_event_foreach(struct ib_store *s, const struct ib_event_filter *f,
			int (*cb)(const struct ib_event *e, void *ctx), void *ctx);
int ib_ss_event_prune(struct ib_store *s, uint32_t max_events, int64_t older_than_us);

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
int ib_ss_lease6_count(struct ib_store *s, const uint8_t first[16],
		       const uint8_t last[16], int64_t now, struct ib_lease_count *ret);
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
