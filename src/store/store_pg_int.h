/*
 * Internals shared by the PostgreSQL store's files: store_pg.c
 * (connection, transactions, schema, inventory, meta), store_pg_lease.c
 * (IPv4 and IPv6 leases), store_pg_events.c (the journal) and
 * store_pg_machines.c (lifecycle rows, reports, power).  Not for use
 * outside src/store.
 *
 * Phase 1 (docs/SCALE-OUT.md): libpq is called synchronously behind the
 * synchronous store interface, on the caller's thread.  Every statement
 * is prepared once at open under its table's name and index ("s4_3"),
 * and values reach SQL only as parameters: integers and text as text,
 * byte strings (bytea) in binary.  Results come back as text; bytea in
 * hex form (bytea_output is set at connect).
 */
#ifndef IB_STORE_PG_INT_H
#define IB_STORE_PG_INT_H

#include "store/store.h"
#include "common/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <libpq-fe.h>

#define IB_PG_PARAMS_MAX 120	/* parameters of one statement (16 events x 7) */
#define IB_PG_RECLAIM_BATCH 64	/* leases loaded per reclaim round */
/* pg_advisory_xact_lock key of schema changes: "ibschema" */
#define IB_PG_SCHEMA_LOCK "7575621845397677409"

/*
 * Ending a client's other active DHCPv4 leases (store_pg_lease.c), by
 * client-id or by hardware address.  `state + 0` and
 * `octet_length(client_id) IS NULL` keep the planner off the state and
 * client_id indexes: on a leases4 filled faster than autovacuum analyses
 * it (every storm on a fresh database) it took `state = 1` and
 * `client_id IS NULL` for selective and ANDed those two indexes, which
 * match every row, so each call read the whole table (docs/BENCHMARKS.md,
 * the PostgreSQL bench).  test_pg_end_plan (tests/unit/test_store.c)
 * holds them to their client's index.
 */
#define IB_PG_SQL_END4_CID "UPDATE leases4 SET state = 2" \
	" WHERE client_id = $1 AND subnet = $2 AND address <> $3 AND state + 0 = 1"
#define IB_PG_SQL_END4_HW "UPDATE leases4 SET state = 2" \
	" WHERE hwaddr = $1 AND subnet = $2 AND address <> $3" \
	" AND htype = $4 AND octet_length(client_id) IS NULL AND state + 0 = 1"

/* The tables of prepared statements, one per file. */
enum ib_pg_table {
	IB_PG_T_MAIN,		/* store_pg.c */
	IB_PG_T_LEASE,		/* store_pg_lease.c */
	IB_PG_T_EVENT,		/* store_pg_events.c */
	IB_PG_T_MACHINE,	/* store_pg_machines.c */
	IB_PG_T__MAX
};

/* A table of statements: its name prefix, SQL and count. */
struct ib_pg_stmts {
	const char *prefix;		/* "m", "l", "e", "n": the prepared names */
	const char *const *sql;		/* indexed by the file's enum */
	size_t n;			/* entries of sql */
};

/* The connection's life (store_pg_conn.c). */
struct ib_pg_link {
	char *conninfo;			/* as configured, owned */
	char *password;			/* from the password file, or NULL; owned */
	PGconn *pending;		/* a reconnect under way, or NULL */
	int64_t pending_since_us;	/* when it started */
	bool down;			/* the connection was lost */
	bool tx_lost;			/* and with it a transaction the caller
					 * still has to end (commit fails) */
	int64_t down_since_us;		/* when it was lost */
	int64_t next_try_us;		/* the next reconnect attempt */
	int64_t backoff_us;		/* the current backoff (0: none yet) */
	uint64_t attempts;		/* reconnect attempts since the loss */
	uint64_t losses;		/* connections lost since open */
	uint64_t reconnects;		/* and made again */
	char reason[200];		/* libpq's last word on it */
};

/* The PostgreSQL store; embeds the interface base first. */
struct store_pg {
	struct ib_store base;		/* must stay first */
	PGconn *conn;			/* the connection (a dead one while link.down) */
	struct ib_pg_link link;		/* its loss and reconnect */
	bool in_walk4;			/* lease4_foreach running */
	bool in_walk6;			/* lease6_foreach running */
	bool in_reclaim;		/* a reclaim runs */
	bool in_event_walk;		/* event_foreach running */
	bool in_machine_walk;		/* machine_foreach running */
	uint64_t member_gen;		/* link.reconnects + 1 of the session that
					 * holds our member lock (ib_store_members), or 0 */
};

/* The parameters of one statement, built by ib_pg_p_*(). */
struct ib_pg_params {
	const char *v[IB_PG_PARAMS_MAX];	/* values (NULL = SQL NULL) */
	int len[IB_PG_PARAMS_MAX];		/* bytes, for binary ones */
	int fmt[IB_PG_PARAMS_MAX];		/* 0 text, 1 binary */
	char num[IB_PG_PARAMS_MAX][24];		/* text of the integers */
	int n;					/* parameters so far */
};

extern const struct ib_pg_stmts ib_pg_lease_stmts, ib_pg_event_stmts,
	ib_pg_machine_stmts;

static inline struct store_pg *to_pg(struct ib_store *s)
{
	return (struct store_pg *)s;
}

/* Appends an integer, a text (NULL: SQL NULL), a byte string, a NULL. */
void ib_pg_p_int(struct ib_pg_params *p, int64_t v);
void ib_pg_p_text(struct ib_pg_params *p, const char *s);
/* A fixed-size char field: up to its terminator or cap bytes. */
void ib_pg_p_field(struct ib_pg_params *p, const char *s, size_t cap);
void ib_pg_p_blob(struct ib_pg_params *p, const void *b, size_t len);
void ib_pg_p_null(struct ib_pg_params *p);

/*
 * Runs statement idx of table t with p (may be NULL: none).  Returns the
 * result (caller PQclear()s it) with *ret_r 0, or NULL with *ret_r -EIO
 * when the statement failed (the message goes nowhere: lower layers never
 * log; a failed statement aborts the open transaction, as any storage
 * error does).
 */
PGresult *ib_pg_exec(struct store_pg *pg, enum ib_pg_table t, int idx,
		     const struct ib_pg_params *p, int *ret_r);

/* Runs a statement that returns no rows; 0 with the rows it changed in
 * *ret_changed (may be NULL), or -EIO. */
int ib_pg_run(struct store_pg *pg, enum ib_pg_table t, int idx,
	      const struct ib_pg_params *p, uint64_t *ret_changed);

/* Column readers of a text result: an integer, a text into dst[cap]
 * (truncated, terminated), a hex bytea into dst[cap] (returns the bytes
 * kept; 0 for NULL). */
int64_t ib_pg_int(const PGresult *res, int row, int col);
void ib_pg_text(const PGresult *res, int row, int col, char *dst, size_t cap);
size_t ib_pg_blob(const PGresult *res, int row, int col, uint8_t *dst, size_t cap);

/*
 * An atomic scope for a multi-statement operation, as the SQLite store's:
 * its own transaction when the caller has none open, else a savepoint
 * inside the caller's.  ib_pg_scope_close() keeps it when r >= 0, undoes
 * it otherwise, and returns r or -EIO.
 */
int ib_pg_scope_open(struct store_pg *pg, bool *ret_outer);
int ib_pg_scope_close(struct store_pg *pg, bool outer, int r);

/*
 * The connection (store_pg_conn.c).  ib_pg_link_open() checks conninfo
 * (no password in it), reads password_file (may be NULL) and connects,
 * blocking (the daemon's start); 0, -EINVAL or -EIO with the reason in
 * err.  ib_pg_link_done() frees what it kept.
 */
int ib_pg_link_open(struct store_pg *pg, const char *conninfo, const char *password_file,
		    char *err);
void ib_pg_link_done(struct ib_pg_link *l);
/* A statement failed: if the connection is gone, the store goes down
 * (was_in_tx: a transaction was open on it, now lost). */
void ib_pg_link_failed(struct store_pg *pg, bool was_in_tx);
/* Before a statement: 0 when the connection is up (a due reconnect is
 * advanced without waiting), -EIO when it is not. */
int ib_pg_link_ready(struct store_pg *pg);
/* The caller ended its transaction (commit or rollback). */
void ib_pg_link_end_tx(struct store_pg *pg);
/* The ib_store_ops link operation (store.h). */
void ib_pg_link_state(struct ib_store *s, struct ib_store_link *ret);
/* Prepares every statement on pg->conn; 0 or -EPROTO (reason in err). */
int ib_pg_prepare_all(struct store_pg *pg, char *err);
/* Whether a transaction is open on the connection (a lost one counts
 * until the caller ends it). */
bool ib_pg_in_tx(const struct store_pg *pg);

/* The lease operations (store.h says what each does). */
int ib_pg_lease4_get(struct ib_store *s, uint32_t address, struct ib_lease4 *ret);
int ib_pg_lease4_find_client(struct ib_store *s, const uint8_t *hwaddr, uint8_t hw_len,
			     const uint8_t *client_id, uint8_t client_id_len,
			     struct ib_lease4 *ret);
int ib_pg_lease4_commit(struct ib_store *s, const struct ib_lease4 *l, int64_t now);
int ib_pg_lease4_set_state(struct ib_store *s, uint32_t address,
			   enum ib_lease_state state, int64_t expires);
int ib_pg_lease4_foreach(struct ib_store *s, uint32_t first, uint32_t last,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx);
int ib_pg_lease4_count(struct ib_store *s, uint32_t first, uint32_t last, int64_t now,
		       struct ib_lease_count *ret);
int ib_pg_lease4_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx);
int ib_pg_lease6_get(struct ib_store *s, const uint8_t address[16], struct ib_lease6 *ret);
int ib_pg_lease6_find_client(struct ib_store *s, const uint8_t *duid, uint8_t duid_len,
			     uint32_t iaid, struct ib_lease6 *ret);
int ib_pg_lease6_commit(struct ib_store *s, const struct ib_lease6 *l, int64_t now);
int ib_pg_lease6_set_state(struct ib_store *s, const uint8_t address[16],
			   enum ib_lease_state state, int64_t expires);
int ib_pg_lease6_foreach(struct ib_store *s,
			 int (*cb)(const struct ib_lease6 *l, void *ctx), void *ctx);
int ib_pg_lease6_count(struct ib_store *s, const uint8_t first[16], const uint8_t last[16],
		       int64_t now, struct ib_lease_count *ret);
int ib_pg_lease6_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease6 *l, void *ctx), void *ctx);

/*
 * Installs the change notification triggers (store_pg_notify.c) when
 * they are missing; 0, or -EIO with the reason in err.
 */
int ib_pg_notify_install(struct store_pg *pg, char *err);

/* The event operations. */
int ib_pg_event_append(struct ib_store *s, struct ib_event *ev);
int ib_pg_event_append_many(struct ib_store *s, struct ib_event *ev, size_t n);
int ib_pg_event_foreach(struct ib_store *s, const struct ib_event_filter *f,
			int (*cb)(const struct ib_event *e, void *ctx), void *ctx);
int ib_pg_event_prune(struct ib_store *s, uint32_t max_events, int64_t older_than_us);

/* The machine lifecycle and power operations. */
int ib_pg_machine_get(struct ib_store *s, const char *mac, struct ib_machine_state *ret);
int ib_pg_machine_create(struct ib_store *s, struct ib_machine_state *m,
			 const struct ib_machine_note *note);
int ib_pg_machine_update(struct ib_store *s, const struct ib_machine_state *old,
			 struct ib_machine_state *m, const struct ib_machine_note *note);
int ib_pg_machine_add_nic(struct ib_store *s, int64_t id, const char *mac, int64_t now_us);
int ib_pg_machine_report_put(struct ib_store *s, int64_t id, const char *json);
int ib_pg_machine_report_get(struct ib_store *s, int64_t id, char *buf, size_t cap);
int ib_pg_machine_foreach(struct ib_store *s,
			  int (*cb)(const struct ib_machine_state *m, void *ctx), void *ctx);
int ib_pg_power_put(struct ib_store *s, const struct ib_power_row *row);
int ib_pg_power_get(struct ib_store *s, const char *mac, struct ib_power_row *ret);

#endif
