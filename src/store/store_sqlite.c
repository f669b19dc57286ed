/*
 * The embedded SQLite store: struct ib_store_ops over one connection.
 *
 * Durability: WAL with synchronous=FULL, so COMMIT returns only after the
 * WAL has been fsync()ed: a lease is on disk before its ACK is sent.  The
 * DHCP shell batches a round of requests into one transaction (group
 * commit) to pay that fsync once per batch.
 *
 * Every statement is prepared once at open (stmt_sql[] below, and the
 * tables of the other store_sqlite*.c files: leases, events, machines)
 * and reused; values only ever reach SQL through sqlite3_bind_*().  Each
 * operation resets the statements it used before returning, so a failed
 * write leaves the handle usable and ib_store_rollback() works.
 *
 * Callbacks: a callback returns 0 to go on; any other value stops the walk
 * and is returned.  A callback may call other operations of the same
 * store, but not the walk it is inside (-EBUSY).
 *
 * One handle belongs to one thread (SQLITE_OPEN_NOMUTEX); several
 * processes may open the same file (busy_timeout arbitrates the lock).
 */
#include "store/store_sqlite_int.h"
#include "store/store_sql.h"
#include "store/store_int.h"
#include "store/migrations.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000

static const char *const stmt_sql[ST__MAX] = {
	/* IMMEDIATE: take the write lock now, waiting busy_timeout, rather
	 * than fail with SQLITE_BUSY at the first write. */
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	/* deferred: the first read takes the WAL read lock, no write lock */
	[ST_BEGIN_READ] = "BEGIN DEFERRED",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* Makes a multi-statement operation atomic inside the caller's
	 * transaction (see ib_ss_scope_open()). */
	[ST_SAVEPOINT] = "SAVEPOINT ib_op",
	[ST_RELEASE] = "RELEASE ib_op",
	[ST_ROLLBACK_TO] = "ROLLBACK TO ib_op",
	[ST_INV_EXISTS] = "SELECT 1 FROM inventory WHERE kind = ?1 AND name = ?2",
	[ST_INV_UPSERT] = "INSERT INTO inventory (kind, name, body, updated_us)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, name) DO UPDATE SET"
		" body = excluded.body, updated_us = excluded.updated_us",
	[ST_INV_DELETE] = IB_SQL_INV_DELETE(IB_SQL_SQLITE),
	[ST_INV_ALL] = IB_SQL_INV_ALL,
	[ST_META_GET] = IB_SQL_META_GET(IB_SQL_SQLITE),
	[ST_META_PUT] = IB_SQL_META_PUT(IB_SQL_SQLITE),
};

/* ---- transactions ---- */

static int ss_begin(struct ib_store *s)
{
	struct store_sqlite *ss = to_ss(s);

	if (!sqlite3_get_autocommit(ss->db))
		return -EBUSY;		/* already inside a transaction */
	return run(ss->st[ST_BEGIN]);
}

static int ss_begin_nowait(struct ib_store *s)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_BEGIN];
	int rc;

	if (!sqlite3_get_autocommit(ss->db))
		return -EBUSY;
	sqlite3_busy_timeout(ss->db, 0);
	rc = sqlite3_step(st);
	done(st);
	sqlite3_busy_timeout(ss->db, BUSY_TIMEOUT_MS);
	if (rc == SQLITE_DONE)
		return 0;
	return (rc & 0xff) == SQLITE_BUSY ? -EAGAIN : -EIO;
}

static int ss_begin_read(struct ib_store *s)
{
	struct store_sqlite *ss = to_ss(s);

	if (!sqlite3_get_autocommit(ss->db))
		return -EBUSY;
	return run(ss->st[ST_BEGIN_READ]);
}

/*
 * COMMIT, timed into the store's histogram when the transaction wrote
 * (a read transaction's COMMIT writes nothing and would flatter it).
 */
static int commit_timed(struct store_sqlite *ss)
{
	bool wrote = sqlite3_txn_state(ss->db, NULL) == SQLITE_TXN_WRITE;
	int64_t t0 = wrote ? ib_now_us() : 0;
	int r = run(ss->st[ST_COMMIT]);

	if (!wrote)
		return r;
	if (r < 0)
		ss->base.stats.commit_errors++;
	else
		ib_mx_hist_observe(&ss->base.stats.commit, (double)(ib_now_us() - t0) / 1e6);
	return r;
}

static int ss_commit(struct ib_store *s)
{
	struct store_sqlite *ss = to_ss(s);

	if (sqlite3_get_autocommit(ss->db))
		return -EINVAL;		/* no transaction to commit */
	return commit_timed(ss);
}

static int ss_rollback(struct ib_store *s)
{
	struct store_sqlite *ss = to_ss(s);

	/* SQLite may already have rolled back after an I/O error. */
	if (sqlite3_get_autocommit(ss->db))
		return 0;
	return run(ss->st[ST_ROLLBACK]);
}

/* Opens an atomic scope: see store_sqlite_int.h. */
int ib_ss_scope_open(struct store_sqlite *ss, bool *ret_outer)
{
	bool outer = sqlite3_get_autocommit(ss->db);
	int r = run(ss->st[outer ? ST_BEGIN : ST_SAVEPOINT]);

	if (r == 0)
		*ret_outer = outer;
	return r;
}

/* Closes an atomic scope: see store_sqlite_int.h. */
int ib_ss_scope_close(struct store_sqlite *ss, bool outer, int r)
{
	if (outer) {
		if (r >= 0 && commit_timed(ss) == 0)
			return r;
		ss_rollback(&ss->base);
		return r < 0 ? r : -EIO;
	}
	if (r < 0)
		run(ss->st[ST_ROLLBACK_TO]);
	if (run(ss->st[ST_RELEASE]) < 0 && r >= 0)
		r = -EIO;
	return r;
}

/* ---- inventory ---- */

static int ss_inv_put(struct ib_store *s, const struct ib_inv_row *row, bool *ret_created)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_INV_EXISTS];
	bool outer, created;
	int rc, r;

	r = ib_ss_scope_open(ss, &outer);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, row->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	created = rc == SQLITE_DONE;
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
	done(st);
	if (r == 0) {
		st = ss->st[ST_INV_UPSERT];
		sqlite3_bind_text(st, 1, row->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, row->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, row->body, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, row->updated_us);
		r = run(st);
	}
	r = ib_ss_scope_close(ss, outer, r);
	if (r == 0 && ret_created)
		*ret_created = created;
	return r;
}

static int ss_inv_delete(struct ib_store *s, const char *kind, const char *name)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_INV_DELETE];
	int r;

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	r = run(st);
	if (r == 0 && sqlite3_changes(ss->db) == 0)
		r = -ENOENT;
	return r;
}

static int ss_inv_foreach(struct ib_store *s,
			  int (*cb)(const struct ib_inv_row *row, void *ctx), void *ctx)
{
	sqlite3_stmt *st = to_ss(s)->st[ST_INV_ALL];
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ib_inv_row row = {
			.kind = (const char *)sqlite3_column_text(st, 0),
			.name = (const char *)sqlite3_column_text(st, 1),
			.body = (const char *)sqlite3_column_text(st, 2),
			.updated_us = sqlite3_column_int64(st, 3),
		};

		if (!row.kind || !row.name || !row.body)
			r = -EIO;
		else
			r = cb(&row, ctx);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	done(st);
	return r;
}

/* ---- meta ---- */

static int ss_meta_get(struct ib_store *s, const char *key, char *value, size_t cap)
{
	sqlite3_stmt *st = to_ss(s)->st[ST_META_GET];
	const unsigned char *t;
	size_t n;
	int rc, r;

	if (!key || !value)
		return -EINVAL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		t = sqlite3_column_text(st, 0);
		n = t ? (size_t)sqlite3_column_bytes(st, 0) : 0;
		/* all or nothing: a cut server DUID would be a wrong one */
		r = n < cap ? 0 : -ENOBUFS;
		if (r == 0) {
			if (n)
				memcpy(value, t, n);
			value[n] = '\0';
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	done(st);
	return r;
}

static int ss_meta_put(struct ib_store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = to_ss(s)->st[ST_META_PUT];

	if (!key || !value)
		return -EINVAL;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return run(st);
}

/* ---- open / close ---- */

static void ss_close(struct ib_store *s)
{
	struct store_sqlite *ss = to_ss(s);

	for (size_t i = 0; i < ST__MAX; i++)
		sqlite3_finalize(ss->st[i]);
	for (size_t i = 0; i < ST4__MAX; i++)
		sqlite3_finalize(ss->st4[i]);
	for (size_t i = 0; i < ST6__MAX; i++)
		sqlite3_finalize(ss->st6[i]);
	for (size_t i = 0; i < STE__MAX; i++)
		sqlite3_finalize(ss->ste[i]);
	for (size_t i = 0; i < STM__MAX; i++)
		sqlite3_finalize(ss->stm[i]);
	ib_ss_family_done(&ss->f4);
	ib_ss_family_done(&ss->f6);
	/* an open transaction is rolled back by close: never half-committed */
	sqlite3_close(ss->db);
	free(ss);
}

static const struct ib_store_ops sqlite_ops = {
	.name = "sqlite",
	.begin = ss_begin,
	.begin_read = ss_begin_read,
	.begin_nowait = ss_begin_nowait,
	.commit = ss_commit,
	.rollback = ss_rollback,
	.lease4_get = ib_ss_lease4_get,
	.lease4_find_client = ib_ss_lease4_find_client,
	.lease4_commit = ib_ss_lease4_commit,
	.lease4_set_state = ib_ss_lease4_set_state,
	.lease4_foreach = ib_ss_lease4_foreach,
	.lease4_count = ib_ss_lease4_count,
	.lease4_reclaim = ib_ss_lease4_reclaim,
	.lease6_get = ib_ss_lease6_get,
	.lease6_find_client = ib_ss_lease6_find_client,
	.lease6_commit = ib_ss_lease6_commit,
	.lease6_set_state = ib_ss_lease6_set_state,
	.lease6_foreach = ib_ss_lease6_foreach,
	.lease6_count = ib_ss_lease6_count,
	.lease6_reclaim = ib_ss_lease6_reclaim,
	.event_append = ib_ss_event_append,
	.event_append_many = ib_ss_event_append_many,
	.event_foreach = ib_ss_event_foreach,
	.event_prune = ib_ss_event_prune,
	.inv_put = ss_inv_put,
	.inv_delete = ss_inv_delete,
	.inv_foreach = ss_inv_foreach,
	.meta_get = ss_meta_get,
	.meta_put = ss_meta_put,
	.machine_get = ib_ss_machine_get,
	.machine_create = ib_ss_machine_create,
	.machine_update = ib_ss_machine_update,
	.machine_add_nic = ib_ss_machine_add_nic,
	.machine_report_put = ib_ss_machine_report_put,
	.machine_report_get = ib_ss_machine_report_get,
	.machine_foreach = ib_ss_machine_foreach,
	.power_put = ib_ss_power_put,
	.power_get = ib_ss_power_get,
	.close = ss_close,
};

/* Runs a PRAGMA and checks its one-row answer when expect is set. */
static int pragma(sqlite3 *db, const char *sql, const char *expect, char *err)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		ib_store_set_err(err, "%s: %s", sql, sqlite3_errmsg(db));
		return -EIO;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ib_store_set_err(err, "%s: %s", sql, sqlite3_errmsg(db));
		r = -EIO;
	} else if (expect && (rc != SQLITE_ROW ||
		   sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), expect))) {
		ib_store_set_err(err, "%s: not in effect", sql);
		r = -EIO;
	}
	sqlite3_finalize(st);
	return r;
}

/* Connection settings; see the top of the file for why. */
static int configure(sqlite3 *db, char *err)
{
	int r;

	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	/* refuse schema tricks from a tampered file */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	r = pragma(db, "PRAGMA journal_mode = WAL", "wal", err);
	if (r == 0)
		r = pragma(db, "PRAGMA synchronous = FULL", NULL, err);
	/* setting it answers nothing: read it back (2 = FULL) */
	if (r == 0)
		r = pragma(db, "PRAGMA synchronous", "2", err);
	if (r == 0)
		r = pragma(db, "PRAGMA foreign_keys = ON", NULL, err);
	return r;
}

/* Prepares the n statements sql[] into st[]; what names the table. */
static int prepare_table(sqlite3 *db, const char *const *sql, sqlite3_stmt **st,
			 size_t n, const char *what, char *err)
{
	for (size_t i = 0; i < n; i++) {
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
				       &st[i], NULL) != SQLITE_OK) {
			ib_store_set_err(err, "cannot prepare %sstatement %zu: %s", what, i,
				sqlite3_errmsg(db));
			return -EPROTO;
		}
	}
	return 0;
}

static int prepare_all(struct store_sqlite *ss, char *err)
{
	int r = prepare_table(ss->db, stmt_sql, ss->st, ST__MAX, "", err);

	if (r == 0)
		r = prepare_table(ss->db, ib_ss_stmt4_sql, ss->st4, ST4__MAX,
				  "IPv4 ", err);
	if (r == 0)
		r = prepare_table(ss->db, ib_ss_stmt6_sql, ss->st6, ST6__MAX,
				  "IPv6 ", err);
	if (r == 0)
		r = prepare_table(ss->db, ib_ss_stmte_sql, ss->ste, STE__MAX,
				  "event ", err);
	if (r == 0)
		r = prepare_table(ss->db, ib_ss_stmtm_sql, ss->stm, STM__MAX,
				  "machine ", err);
	return r;
}

int ib_store_sqlite_open(const char *path, struct ib_store **ret, char *err)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			  SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	struct store_sqlite *ss;
	int r;

	ss = calloc(1, sizeof(*ss));
	if (!ss) {
		ib_store_set_err(err, "out of memory");
		return -ENOMEM;
	}
	ib_store_stats_init(&ss->base.stats);
	if (ib_ss_family_init(&ss->f4, &ib_ss_family4, ss->st4) < 0 ||
	    ib_ss_family_init(&ss->f6, &ib_ss_family6, ss->st6) < 0) {
		ib_store_set_err(err, "out of memory");
		r = -ENOMEM;
		goto err_close;
	}
	if (sqlite3_open_v2(path, &ss->db, flags, NULL) != SQLITE_OK) {
		ib_store_set_err(err, "cannot open %s: %s", path,
			ss->db ? sqlite3_errmsg(ss->db) : "out of memory");
		r = -EIO;
		goto err_close;
	}
	r = configure(ss->db, err);
	if (r < 0)
		goto err_close;
	r = ib_store_migrate(ss->db, err);
	if (r < 0)
		goto err_close;
	r = prepare_all(ss, err);
	if (r < 0)
		goto err_close;
	ss->base.ops = &sqlite_ops;
	*ret = &ss->base;
	return 0;

err_close:
	ss_close(&ss->base);
	return r;
}

int ib_store_sqlite_synchronous(struct ib_store *s, int *ret)
{
	sqlite3_stmt *st;
	int r = -EIO;

	if (s->ops != &sqlite_ops)
		return -EOPNOTSUPP;
	if (sqlite3_prepare_v2(to_ss(s)->db, "PRAGMA synchronous", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret = sqlite3_column_int(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}
