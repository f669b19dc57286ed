/*
 * The PostgreSQL store: struct ib_store_ops over one libpq connection
 * (issue #16, phase 1; docs/SCALE-OUT.md says what works and what not yet).
 *
 * The database arbitrates, as SQLite does: every lease write is a
 * conditional INSERT ... ON CONFLICT ... DO UPDATE ... WHERE, every
 * lifecycle write a compare-and-set, so two daemons sharing one database
 * cannot both hand out an address or move one machine.
 *
 * Durability: synchronous_commit is set on for the session, so COMMIT
 * returns once the server has flushed its WAL (its fsync setting is the
 * server operator's).  The DHCP shell's group commit is one transaction,
 * as with SQLite.
 *
 * libpq is called synchronously behind the synchronous interface: a
 * slow database stalls the caller's loop.  A lost connection is made
 * again by itself, without waiting (store_pg_conn.c); meanwhile every
 * statement fails at once.  Every statement is prepared at
 * open; values only reach SQL as parameters (store_pg_int.h).  A failed
 * statement inside a transaction aborts it (PostgreSQL's rule); the
 * caller's rollback ends it, as after any storage error.
 *
 * The password is never in the connection string: ib_store_pg_open()
 * refuses one that carries it.  It comes from a file the config names,
 * or libpq reads PGPASSFILE / ~/.pgpass itself.
 */
#include "store/store_pg_int.h"
#include "store/store_sql.h"
#include "store/store_int.h"
#include "store/migrations.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a begin_nowait transaction waits for a lock another connection
 * holds before its statement fails with 55P03 (-EAGAIN): long enough for
 * no ordinary write to trip it, short enough not to hold the loop. */
#define NOWAIT_LOCK_TIMEOUT "10ms"
/* How long any other write transaction's statement waits for one. */
#define LOCK_TIMEOUT "5s"
/* SQLSTATE lock_not_available: a lock_timeout ran out */
#define SQLSTATE_LOCK_NOT_AVAILABLE "55P03"

/* The members' session advisory locks (ib_store_members): the two-key
 * form, classid "ibmb", objid the slot (objsubid 2 in pg_locks). */
#define MEMBER_CLASS "1768058210"
#define MEMBER_SLOTS "64"

/* This backend's own statements, after the shared ones. */
enum {
	ST_MEMBER_JOIN = ST_SHARED__MAX,
	ST_MEMBERS,
	ST__MAX
};

/* The main table holds what both backends have (store_sql.h), then ours. */
static const char *const stmt_sql[ST__MAX] = {
	/* xmax = 0 only on a row this statement inserted: created or not,
	 * in the one statement */
	[ST_INV_UPSERT] = "INSERT INTO inventory (kind, name, body, updated_us)"
		" VALUES ($1, $2, $3, $4) ON CONFLICT (kind, name) DO UPDATE SET"
		" body = excluded.body, updated_us = excluded.updated_us"
		" RETURNING (xmax = 0)",
	[ST_INV_DELETE] = IB_SQL_INV_DELETE(IB_SQL_PG),
	[ST_INV_ALL] = IB_SQL_INV_ALL,
	[ST_META_GET] = IB_SQL_META_GET(IB_SQL_PG),
	[ST_META_PUT] = IB_SQL_META_PUT(IB_SQL_PG),
	/* the first free slot, taken: the scan stops at the first lock won */
	[ST_MEMBER_JOIN] = "SELECT k FROM generate_series(0, " MEMBER_SLOTS " - 1) AS k"
		" WHERE pg_try_advisory_lock(" MEMBER_CLASS ", k) LIMIT 1",
	[ST_MEMBERS] = "SELECT objid, pid = pg_backend_pid() FROM pg_locks WHERE locktype = 'advisory'"
		" AND classid = " MEMBER_CLASS " AND objsubid = 2 AND granted"
		" AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
		" ORDER BY objid",
};

static const struct ib_pg_stmts main_stmts = { "m", stmt_sql, ST__MAX };

static const struct ib_pg_stmts *const tables[IB_PG_T__MAX] = {
	[IB_PG_T_MAIN] = &main_stmts,
	[IB_PG_T_LEASE] = &ib_pg_lease_stmts,
	[IB_PG_T_EVENT] = &ib_pg_event_stmts,
	[IB_PG_T_MACHINE] = &ib_pg_machine_stmts,
};

/* libpq's message without its trailing newline, for err. */
static const char *conn_msg(PGconn *c)
{
	static __thread char buf[200];
	const char *m = c ? PQerrorMessage(c) : "out of memory";

	snprintf(buf, sizeof(buf), "%s", m);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* ---- parameters and results ---- */

/* The errno of a failed result: -EAGAIN when it waited out lock_timeout
 * (another connection holds the lock), else -EIO. */
static int result_errno(const PGresult *res)
{
	const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return st && !strcmp(st, SQLSTATE_LOCK_NOT_AVAILABLE) ? -EAGAIN : -EIO;
}

void ib_pg_p_int(struct ib_pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%" PRId64, v);
	p->v[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void ib_pg_p_text(struct ib_pg_params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void ib_pg_p_field(struct ib_pg_params *p, const char *s, size_t cap)
{
	/* a text's binary form is its bytes, counted: a field that fills
	 * its array without a terminator is sent whole, never read past */
	p->v[p->n] = s;
	p->len[p->n] = (int)strnlen(s, cap);
	p->fmt[p->n++] = 1;
}

void ib_pg_p_blob(struct ib_pg_params *p, const void *b, size_t len)
{
	/* a zero-length byte string is '' (not NULL): any non-NULL pointer */
	p->v[p->n] = len ? b : "";
	p->len[p->n] = (int)len;
	p->fmt[p->n++] = 1;
}

void ib_pg_p_null(struct ib_pg_params *p)
{
	p->v[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

PGresult *ib_pg_exec(struct store_pg *pg, enum ib_pg_table t, int idx,
		     const struct ib_pg_params *p, int *ret_r)
{
	char name[32];
	PGresult *res;
	ExecStatusType st;

	bool was_tx = ib_pg_in_tx(pg);

	if ((*ret_r = ib_pg_link_ready(pg)) < 0)
		return NULL;
	snprintf(name, sizeof(name), "%s%d", tables[t]->prefix, idx);
	res = PQexecPrepared(pg->conn, name, p ? p->n : 0, p ? p->v : NULL,
			     p ? p->len : NULL, p ? p->fmt : NULL, 0);
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		*ret_r = 0;
		return res;
	}
	*ret_r = result_errno(res);
	PQclear(res);
	ib_pg_link_failed(pg, was_tx);
	return NULL;
}

int ib_pg_run(struct store_pg *pg, enum ib_pg_table t, int idx,
	      const struct ib_pg_params *p, uint64_t *ret_changed)
{
	int r;
	PGresult *res = ib_pg_exec(pg, t, idx, p, &r);

	if (!res)
		return r;
	if (ret_changed)
		*ret_changed = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return 0;
}

int64_t ib_pg_int(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void ib_pg_text(const PGresult *res, int row, int col, char *dst, size_t cap)
{
	const char *t = PQgetvalue(res, row, col);
	size_t n = IB_MIN((size_t)PQgetlength(res, row, col), cap - 1);

	memcpy(dst, t, n);
	dst[n] = '\0';
}

size_t ib_pg_blob(const PGresult *res, int row, int col, uint8_t *dst, size_t cap)
{
	const char *t = PQgetvalue(res, row, col);
	size_t n = 0, len = (size_t)PQgetlength(res, row, col);

	/* bytea_output = hex: "\x" then two digits a byte */
	if (PQgetisnull(res, row, col) || len < 2 || t[0] != '\\' || t[1] != 'x')
		return 0;
	if (ib_hex_parse(t + 2, dst, cap, &n) < 0)
		return 0;
	return n;
}

/* Runs fixed SQL (no parameters; rows are dropped); 0 or -EIO. */
static int simple(struct store_pg *pg, const char *sql)
{
	bool was_tx = ib_pg_in_tx(pg);
	PGresult *res;
	ExecStatusType st;
	int r;

	if ((r = ib_pg_link_ready(pg)) < 0)
		return r;
	res = PQexec(pg->conn, sql);
	st = PQresultStatus(res);
	r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : result_errno(res);
	PQclear(res);
	if (r < 0)
		ib_pg_link_failed(pg, was_tx);
	return r;
}

bool ib_pg_in_tx(const struct store_pg *pg)
{
	if (pg->link.down)
		return pg->link.tx_lost;
	return PQtransactionStatus(pg->conn) != PQTRANS_IDLE;
}

static bool in_tx(const struct store_pg *pg)
{
	return ib_pg_in_tx(pg);
}

/* ---- transactions ---- */

static int pg_rollback(struct ib_store *s);

/*
 * A write transaction waits for a row another connection holds at most
 * LOCK_TIMEOUT, as SQLite's writers wait busy_timeout (5 s) for its lock;
 * then its statement fails with 55P03, -EAGAIN.  Without it a lock held
 * by a session left idle in a transaction held the DHCP commit thread,
 * and every loop path that waits for its batch (reload, shutdown), for
 * ever.
 */
static int pg_begin(struct ib_store *s)
{
	int r;

	if (in_tx(to_pg(s)))
		return -EBUSY;
	r = simple(to_pg(s), "BEGIN; SET LOCAL lock_timeout = '" LOCK_TIMEOUT "'");
	if (r < 0)
		pg_rollback(s);
	return r;
}

/*
 * No database-wide write lock on PostgreSQL: rows lock as they are
 * written.  So the transaction starts at once, and a statement in it that
 * would wait for a row another connection holds (two daemons' /readyz
 * probes on one meta row, journal flushes) gives up after lock_timeout
 * with 55P03, -EAGAIN: the caller rolls back and tries at its next tick,
 * as after SQLite's refused BEGIN IMMEDIATE.
 */
static int pg_begin_nowait(struct ib_store *s)
{
	int r;

	if (in_tx(to_pg(s)))
		return -EBUSY;
	r = simple(to_pg(s), "BEGIN; SET LOCAL lock_timeout = '" NOWAIT_LOCK_TIMEOUT "'");
	if (r < 0)
		pg_rollback(s);
	return r;
}

static int pg_begin_read(struct ib_store *s)
{
	if (in_tx(to_pg(s)))
		return -EBUSY;
	/* one snapshot for every read, as SQLite's deferred transaction */
	return simple(to_pg(s), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

/* COMMIT, timed into the store's histogram. */
static int commit_timed(struct store_pg *pg)
{
	int64_t t0 = ib_now_us();
	int r = simple(pg, "COMMIT");

	/* COMMIT of an aborted transaction answers ROLLBACK: not durable */
	if (r < 0 || in_tx(pg)) {
		pg->base.stats.commit_errors++;
		return -EIO;
	}
	ib_mx_hist_observe(&pg->base.stats.commit, (double)(ib_now_us() - t0) / 1e6);
	return 0;
}

static int pg_commit(struct ib_store *s)
{
	struct store_pg *pg = to_pg(s);
	PGTransactionStatusType ts = PQtransactionStatus(pg->conn);
	PGresult *res;
	int r;

	if (pg->link.down) {
		if (!pg->link.tx_lost)
			return -EINVAL;
		/* the connection went with the transaction: nothing durable */
		ib_pg_link_end_tx(pg);
		pg->base.stats.commit_errors++;
		return -EIO;
	}
	if (ts == PQTRANS_IDLE)
		return -EINVAL;
	if (ts == PQTRANS_INERROR) {
		/* a statement failed: what it was part of is lost */
		simple(pg, "ROLLBACK");
		pg->base.stats.commit_errors++;
		return -EIO;
	}
	r = commit_timed(pg);
	if (pg->link.down)
		ib_pg_link_end_tx(pg);	/* lost with the connection */
	else if (r < 0 && in_tx(pg)) {
		res = PQexec(pg->conn, "ROLLBACK");
		PQclear(res);
	}
	return r;
}

static int pg_rollback(struct ib_store *s)
{
	ib_pg_link_end_tx(to_pg(s));
	if (!in_tx(to_pg(s)))
		return 0;
	return simple(to_pg(s), "ROLLBACK");
}

int ib_pg_scope_open(struct store_pg *pg, bool *ret_outer)
{
	bool outer = !in_tx(pg);
	int r = simple(pg, outer ? "BEGIN" : "SAVEPOINT ib_op");

	if (r == 0)
		*ret_outer = outer;
	return r;
}

int ib_pg_scope_close(struct store_pg *pg, bool outer, int r)
{
	if (outer) {
		if (r >= 0 && PQtransactionStatus(pg->conn) == PQTRANS_INTRANS &&
		    commit_timed(pg) == 0)
			return r;
		pg_rollback(&pg->base);
		return r < 0 ? r : -EIO;
	}
	if (r < 0 && simple(pg, "ROLLBACK TO SAVEPOINT ib_op") < 0)
		return r;
	if (simple(pg, "RELEASE SAVEPOINT ib_op") < 0 && r >= 0)
		r = -EIO;
	return r;
}

/* ---- inventory ---- */

static int pg_inv_put(struct ib_store *s, const struct ib_inv_row *row, bool *ret_created)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	ib_pg_p_text(&p, row->kind);
	ib_pg_p_text(&p, row->name);
	ib_pg_p_text(&p, row->body);
	ib_pg_p_int(&p, row->updated_us);
	res = ib_pg_exec(to_pg(s), IB_PG_T_MAIN, ST_INV_UPSERT, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) != 1)
		r = -EIO;
	else if (ret_created)
		*ret_created = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return r;
}

static int pg_inv_delete(struct ib_store *s, const char *kind, const char *name)
{
	struct ib_pg_params p = { .n = 0 };
	uint64_t n = 0;
	int r;

	ib_pg_p_text(&p, kind);
	ib_pg_p_text(&p, name);
	r = ib_pg_run(to_pg(s), IB_PG_T_MAIN, ST_INV_DELETE, &p, &n);
	return r == 0 && n == 0 ? -ENOENT : r;
}

static int pg_inv_foreach(struct ib_store *s,
			  int (*cb)(const struct ib_inv_row *row, void *ctx), void *ctx)
{
	int r;
	PGresult *res = ib_pg_exec(to_pg(s), IB_PG_T_MAIN, ST_INV_ALL, NULL, &r);

	for (int i = 0; res && r == 0 && i < PQntuples(res); i++) {
		struct ib_inv_row row = {
			.kind = PQgetvalue(res, i, 0),
			.name = PQgetvalue(res, i, 1),
			.body = PQgetvalue(res, i, 2),
			.updated_us = ib_pg_int(res, i, 3),
		};

		r = cb(&row, ctx);
	}
	PQclear(res);
	return r;
}

/* ---- meta ---- */

static int pg_meta_get(struct ib_store *s, const char *key, char *value, size_t cap)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	size_t n;
	int r;

	if (!key || !value)
		return -EINVAL;
	ib_pg_p_text(&p, key);
	res = ib_pg_exec(to_pg(s), IB_PG_T_MAIN, ST_META_GET, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) == 0) {
		r = -ENOENT;
	} else {
		n = (size_t)PQgetlength(res, 0, 0);
		/* all or nothing: a cut server DUID would be a wrong one */
		r = n < cap ? 0 : -ENOBUFS;
		if (r == 0)
			ib_pg_text(res, 0, 0, value, cap);
	}
	PQclear(res);
	return r;
}

static int pg_meta_put(struct ib_store *s, const char *key, const char *value)
{
	struct ib_pg_params p = { .n = 0 };

	if (!key || !value)
		return -EINVAL;
	ib_pg_p_text(&p, key);
	ib_pg_p_text(&p, value);
	return ib_pg_run(to_pg(s), IB_PG_T_MAIN, ST_META_PUT, &p, NULL);
}

/* ---- members (load balancing) ---- */

/* This session's member slot: taken once per session (a reconnect is a
 * new session, whose lock is gone with the old one). */
static int member_join(struct store_pg *pg)
{
	PGresult *res;
	int r;

	if (pg->member_gen == pg->link.reconnects + 1)
		return 0;
	res = ib_pg_exec(pg, IB_PG_T_MAIN, ST_MEMBER_JOIN, NULL, &r);
	if (!res)
		return r;
	r = PQntuples(res) == 1 ? 0 : -EBUSY;
	if (r == 0)
		pg->member_gen = pg->link.reconnects + 1;
	PQclear(res);
	return r;
}

static int pg_members(struct ib_store *s, struct ib_store_members *ret)
{
	struct store_pg *pg = to_pg(s);
	PGresult *res;
	int r, n;

	if (pg->link.down)
		return -ENOTCONN;
	if ((r = member_join(pg)) < 0)
		return r;
	res = ib_pg_exec(pg, IB_PG_T_MAIN, ST_MEMBERS, NULL, &r);
	if (!res)
		return r;
	n = PQntuples(res);
	r = -ENOENT;		/* our own lock not listed: taken again next time */
	*ret = (struct ib_store_members){ .n = (uint32_t)n };
	for (int i = 0; i < n; i++) {
		ret->slots |= UINT64_C(1) << (ib_pg_int(res, i, 0) & 63);
		if (PQgetvalue(res, i, 1)[0] == 't') {
			ret->rank = (uint32_t)i;
			r = 0;
		}
	}
	PQclear(res);
	if (r < 0)
		pg->member_gen = 0;
	return r;
}

/* ---- schema ---- */

/* Runs one step's SQL (ib_store_migration_exec). */
static int exec_step(void *db, const char *sql, char *err)
{
	PGresult *res = PQexec(db, sql);
	int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -EPROTO;

	if (r < 0)
		ib_store_set_err(err, "%s", conn_msg(db));
	PQclear(res);
	return r;
}

/* The version in ib_schema into *ret (0: an empty database). */
static int read_version(struct store_pg *pg, int *ret)
{
	PGresult *res = PQexec(pg->conn, "SELECT max(version) FROM ib_schema");
	int r = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? 0 : -EIO;

	if (r == 0)
		*ret = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return r;
}

/* Applies the missing steps under the advisory lock, in one transaction. */
static int upgrade(struct store_pg *pg, char *err)
{
	char sql[96];
	int have = 0, r;

	r = simple(pg, "BEGIN");
	if (r == 0)
		r = simple(pg, "SELECT pg_advisory_xact_lock(" IB_PG_SCHEMA_LOCK ")");
	if (r == 0)
		r = simple(pg, "CREATE TABLE IF NOT EXISTS ib_schema (version integer NOT NULL)");
	if (r == 0)
		r = read_version(pg, &have);	/* again, under the lock */
	if (r < 0)
		ib_store_set_err(err, "cannot lock the schema: %s", conn_msg(pg->conn));
	if (r == 0)
		r = ib_store_migrations_check(have, err);
	if (r == 0)
		r = ib_store_migrations_apply(ib_store_pg_migrations, ib_store_pg_n_migrations,
					      have, exec_step, pg->conn, err);
	snprintf(sql, sizeof(sql), "DELETE FROM ib_schema; INSERT INTO ib_schema VALUES (%d)",
		 ib_store_schema_version());
	if (r == 0 && (simple(pg, sql) < 0 || simple(pg, "COMMIT") < 0 || in_tx(pg))) {
		ib_store_set_err(err, "cannot commit the schema upgrade: %s", conn_msg(pg->conn));
		r = -EIO;
	}
	if (r < 0)
		pg_rollback(&pg->base);
	return r;
}

/* Brings the database to ib_store_schema_version(); an up-to-date one
 * is only read (no lock). */
static int migrate(struct store_pg *pg, char *err)
{
	int have = 0;

	if (read_version(pg, &have) == 0) {
		int r = ib_store_migrations_check(have, err);

		if (r < 0 || have == ib_store_schema_version())
			return r;
	}
	return upgrade(pg, err);
}

int ib_pg_prepare_all(struct store_pg *pg, char *err)
{
	char name[32];

	for (size_t t = 0; t < IB_PG_T__MAX; t++) {
		for (size_t i = 0; i < tables[t]->n; i++) {
			PGresult *res;
			bool ok;

			snprintf(name, sizeof(name), "%s%zu", tables[t]->prefix, i);
			res = PQprepare(pg->conn, name, tables[t]->sql[i], 0, NULL);
			ok = PQresultStatus(res) == PGRES_COMMAND_OK;
			PQclear(res);
			if (!ok) {
				ib_store_set_err(err, "cannot prepare statement %s: %s", name,
					conn_msg(pg->conn));
				return -EPROTO;
			}
		}
	}
	return 0;
}

/* ---- open / close ---- */

static void pg_close(struct ib_store *s)
{
	struct store_pg *pg = to_pg(s);

	/* an open transaction ends with the connection: never half-committed */
	PQfinish(pg->conn);
	ib_pg_link_done(&pg->link);
	free(pg);
}

static const struct ib_store_ops pg_ops = {
	.name = "postgresql",
	.begin = pg_begin,
	.begin_read = pg_begin_read,
	.begin_nowait = pg_begin_nowait,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.lease4_get = ib_pg_lease4_get,
	.lease4_find_client = ib_pg_lease4_find_client,
	.lease4_commit = ib_pg_lease4_commit,
	.lease4_set_state = ib_pg_lease4_set_state,
	.lease4_foreach = ib_pg_lease4_foreach,
	.lease4_count = ib_pg_lease4_count,
	.lease4_reclaim = ib_pg_lease4_reclaim,
	.lease6_get = ib_pg_lease6_get,
	.lease6_find_client = ib_pg_lease6_find_client,
	.lease6_commit = ib_pg_lease6_commit,
	.lease6_set_state = ib_pg_lease6_set_state,
	.lease6_foreach = ib_pg_lease6_foreach,
	.lease6_count = ib_pg_lease6_count,
	.lease6_reclaim = ib_pg_lease6_reclaim,
	.event_append = ib_pg_event_append,
	.event_append_many = ib_pg_event_append_many,
	.event_foreach = ib_pg_event_foreach,
	.event_prune = ib_pg_event_prune,
	.inv_put = pg_inv_put,
	.inv_delete = pg_inv_delete,
	.inv_foreach = pg_inv_foreach,
	.meta_get = pg_meta_get,
	.meta_put = pg_meta_put,
	.machine_get = ib_pg_machine_get,
	.machine_create = ib_pg_machine_create,
	.machine_update = ib_pg_machine_update,
	.machine_add_nic = ib_pg_machine_add_nic,
	.machine_report_put = ib_pg_machine_report_put,
	.machine_report_get = ib_pg_machine_report_get,
	.machine_foreach = ib_pg_machine_foreach,
	.power_put = ib_pg_power_put,
	.power_get = ib_pg_power_get,
	.link = ib_pg_link_state,
	.members = pg_members,
	.close = pg_close,
};

int ib_store_pg_check(const char *conninfo, const char *password_file, int *ret_version,
		      char *err)
{
	struct store_pg *pg = calloc(1, sizeof(*pg));
	PGresult *res;
	int have = 0, r;

	if (!pg) {
		ib_store_set_err(err, "out of memory");
		return -ENOMEM;
	}
	r = ib_pg_link_open(pg, conninfo, password_file, err);
	if (r == 0) {
		/* no ib_schema table: an empty database, version 0 */
		res = PQexec(pg->conn, "SELECT to_regclass('ib_schema') IS NOT NULL");
		if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
		    (PQgetvalue(res, 0, 0)[0] == 't' && read_version(pg, &have) < 0)) {
			ib_store_set_err(err, "cannot read the schema version: %s",
					 conn_msg(pg->conn));
			r = -EIO;
		}
		PQclear(res);
	}
	if (r == 0)
		r = ib_store_migrations_check(have, err);
	if (r == 0)
		*ret_version = have;
	pg_close(&pg->base);
	return r;
}

int ib_store_pg_open(const char *conninfo, const char *password_file,
		     struct ib_store **ret, char *err)
{
	struct store_pg *pg = calloc(1, sizeof(*pg));
	int r;

	if (!pg) {
		ib_store_set_err(err, "out of memory");
		return -ENOMEM;
	}
	ib_store_stats_init(&pg->base.stats);
	r = ib_pg_link_open(pg, conninfo, password_file, err);
	if (r == 0)
		r = migrate(pg, err);
	if (r == 0)
		r = ib_pg_prepare_all(pg, err);
	if (r == 0)
		r = ib_pg_notify_install(pg, err);
	if (r < 0) {
		pg_close(&pg->base);
		return r;
	}
	pg->base.ops = &pg_ops;
	*ret = &pg->base;
	return 0;
}
