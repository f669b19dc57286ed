/*
 * The embedded SQLite store: struct ib_store_ops over one connection.
 *
 * Durability: WAL with synchronous=FULL, so COMMIT returns only after the
 * WAL has been fsync()ed: a lease is on disk before its ACK is sent.  The
 * DHCP shell batches a round of requests into one transaction (group
 * commit) to pay that fsync once per batch.
 *
 * Every statement is prepared once at open (stmt_sql[] below, and
 * ib_ss_stmt6_sql[] of store_sqlite6.c, which holds the IPv6 leases) and
 * reused; values only ever reach SQL through sqlite3_bind_*().  Each
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

/* Column order read by row_to_lease(). */
#define LEASE_COLS \
	"address, subnet, htype, hwaddr, client_id, hostname, cltt, expires, state"
/* Column order read by row_to_event(). */
#define EVENT_COLS "id, ts_us, mac, client_id, uuid, proto, kind, detail"

/*
 * "Same client" as store.h defines it, between the stored row and the
 * proposed one: the same client-id if either has one, else the same
 * hardware type and address.
 */
#define SAME_CLIENT \
	"CASE WHEN leases4.client_id IS NULL AND excluded.client_id IS NULL" \
	" THEN leases4.htype = excluded.htype AND leases4.hwaddr = excluded.hwaddr" \
	" ELSE leases4.client_id IS excluded.client_id END"

/* Rows of ST_EVENT_INSERT_MANY: seven parameters each. */
#define EVENT_CHUNK 16
#define EVENT_ROW " (?, ?, ?, ?, ?, ?, ?)"
#define EVENT_ROWS4 EVENT_ROW "," EVENT_ROW "," EVENT_ROW "," EVENT_ROW
#define EVENT_ROWS16 EVENT_ROWS4 "," EVENT_ROWS4 "," EVENT_ROWS4 "," EVENT_ROWS4

/*
 * Event listing: the newest ?4 matching rows (LIMIT -1 = all), returned
 * oldest first.  ?3 NULL matches every protocol.
 */
#define EVENT_SELECT(where) \
	"SELECT * FROM (SELECT " EVENT_COLS " FROM events WHERE " where \
	" ts_us >= ?2 AND (?3 IS NULL OR proto = ?3) AND id > ?5" \
	" ORDER BY ts_us DESC, id DESC LIMIT ?4) ORDER BY ts_us, id"

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
	[ST_LEASE_GET] = "SELECT " LEASE_COLS " FROM leases4 WHERE address = ?1",
	[ST_LEASE_FIND_CID] = "SELECT " LEASE_COLS " FROM leases4"
		" WHERE client_id = ?1 ORDER BY cltt DESC, address DESC LIMIT 1",
	/* Without a client-id only rows without one are the same client. */
	[ST_LEASE_FIND_HW] = "SELECT " LEASE_COLS " FROM leases4"
		" WHERE hwaddr = ?1 AND client_id IS NULL"
		" ORDER BY cltt DESC, address DESC LIMIT 1",
	/*
	 * The conditional write: the database arbitrates, not our memory.
	 * The DO UPDATE runs only when the address is free (released or
	 * expired state, or past its expiry) or ACTIVE for the same client;
	 * otherwise nothing changes and changes() is 0.  A DECLINED address
	 * stays quarantined until it expires, for its decliner too (RFC 2131
	 * 4.3.3).  The same statement works on PostgreSQL (ON CONFLICT ...
	 * DO UPDATE ... WHERE, then the row count).
	 */
	[ST_LEASE_UPSERT] = "INSERT INTO leases4 (" LEASE_COLS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1)"
		" ON CONFLICT (address) DO UPDATE SET"
		" subnet = excluded.subnet, htype = excluded.htype,"
		" hwaddr = excluded.hwaddr, client_id = excluded.client_id,"
		" hostname = excluded.hostname, cltt = excluded.cltt,"
		" expires = excluded.expires, state = 1"
		" WHERE leases4.state IN (2, 3) OR leases4.expires <= ?9"
		" OR (leases4.state = 1 AND (" SAME_CLIENT "))",
	/*
	 * One address per client and subnet: end the client's others.  The
	 * unary + keeps the planner off leases4_state_expires (a walk over
	 * every active lease, on each commit) and on the client's index.
	 */
	[ST_LEASE_END_CID] = "UPDATE leases4 SET state = 2"
		" WHERE client_id = ?1 AND subnet = ?2 AND address <> ?3"
		" AND +state = 1",
	[ST_LEASE_END_HW] = "UPDATE leases4 SET state = 2"
		" WHERE hwaddr = ?1 AND subnet = ?2 AND address <> ?3"
		" AND htype = ?4 AND client_id IS NULL AND +state = 1",
	[ST_LEASE_SET_STATE] = "UPDATE leases4 SET state = ?2, expires = ?3"
		" WHERE address = ?1",
	[ST_LEASE_RANGE] = "SELECT " LEASE_COLS " FROM leases4"
		" WHERE address BETWEEN ?1 AND ?2 ORDER BY address",
	/* No ORDER BY: sorting every due row on each round is quadratic
	 * after a long downtime; the index yields them by expiry anyway. */
	[ST_LEASE_DUE] = "SELECT " LEASE_COLS " FROM leases4"
		" WHERE state IN (1, 4) AND expires <= ?1 LIMIT ?2",
	[ST_LEASE_EXPIRE] = "UPDATE leases4 SET state = 3"
		" WHERE address = ?1 AND state IN (1, 4) AND expires <= ?2",
	[ST_EVENT_INSERT] = "INSERT INTO events"
		" (ts_us, mac, client_id, uuid, proto, kind, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* EVENT_CHUNK rows: one statement's overhead (and one update of
	 * AUTOINCREMENT's sqlite_sequence) shared by all of them */
	[ST_EVENT_INSERT_MANY] = "INSERT INTO events"
		" (ts_us, mac, client_id, uuid, proto, kind, detail) VALUES"
		EVENT_ROWS16,
	/* Two forms so each can use its index (events_ts, events_mac_ts). */
	[ST_EVENT_ALL] = EVENT_SELECT("?1 IS NULL AND"),
	[ST_EVENT_BY_MAC] = EVENT_SELECT("mac = ?1 AND"),
	[ST_EVENT_PRUNE_COUNT] = "DELETE FROM events WHERE id IN"
		" (SELECT id FROM events ORDER BY ts_us DESC, id DESC"
		" LIMIT -1 OFFSET ?1)",
	[ST_EVENT_PRUNE_AGE] = "DELETE FROM events WHERE ts_us < ?1",
	[ST_INV_EXISTS] = "SELECT 1 FROM inventory WHERE kind = ?1 AND name = ?2",
	[ST_INV_UPSERT] = "INSERT INTO inventory (kind, name, body, updated_us)"
		" VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, name) DO UPDATE SET"
		" body = excluded.body, updated_us = excluded.updated_us",
	[ST_INV_DELETE] = "DELETE FROM inventory WHERE kind = ?1 AND name = ?2",
	[ST_INV_ALL] = "SELECT kind, name, body, updated_us FROM inventory"
		" ORDER BY kind, id",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_PUT] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value",
};

static void set_err(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, 256, fmt, ap);
	va_end(ap);
}

/* Binds a fixed-size char field, up to its terminator or its size. */
static int bind_field(sqlite3_stmt *st, int idx, const char *s, size_t cap)
{
	return sqlite3_bind_text(st, idx, s, (int)strnlen(s, cap), SQLITE_STATIC);
}

static void row_to_lease(sqlite3_stmt *st, struct ib_lease4 *l)
{
	memset(l, 0, sizeof(*l));
	l->address = (uint32_t)sqlite3_column_int64(st, 0);
	l->subnet = (uint32_t)sqlite3_column_int64(st, 1);
	l->htype = (uint8_t)sqlite3_column_int(st, 2);
	l->hw_len = (uint8_t)col_blob(st, 3, l->hwaddr, sizeof(l->hwaddr));
	l->client_id_len = (uint8_t)col_blob(st, 4, l->client_id,
					     sizeof(l->client_id));
	col_text(st, 5, l->hostname, sizeof(l->hostname));
	l->cltt = sqlite3_column_int64(st, 6);
	l->expires = sqlite3_column_int64(st, 7);
	l->state = (enum ib_lease_state)sqlite3_column_int(st, 8);
}

static void row_to_event(sqlite3_stmt *st, struct ib_event *e)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	e->ts_us = sqlite3_column_int64(st, 1);
	col_text(st, 2, e->mac, sizeof(e->mac));
	col_text(st, 3, e->client_id, sizeof(e->client_id));
	col_text(st, 4, e->uuid, sizeof(e->uuid));
	col_text(st, 5, e->proto, sizeof(e->proto));
	col_text(st, 6, e->kind, sizeof(e->kind));
	col_text(st, 7, e->detail, sizeof(e->detail));
}

/* Steps a single-row lease query into ret; -ENOENT when no row. */
static int fetch_lease(sqlite3_stmt *st, struct ib_lease4 *ret)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		row_to_lease(st, ret);
	done(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

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

/* ---- leases ---- */

static int ss_lease4_get(struct ib_store *s, uint32_t address, struct ib_lease4 *ret)
{
	sqlite3_stmt *st = to_ss(s)->st[ST_LEASE_GET];

	sqlite3_bind_int64(st, 1, address);
	return fetch_lease(st, ret);
}

static int ss_lease4_find_client(struct ib_store *s, const uint8_t *hwaddr,
				 uint8_t hw_len, const uint8_t *client_id,
				 uint8_t client_id_len, struct ib_lease4 *ret)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st;

	if (client_id && client_id_len > 0) {
		st = ss->st[ST_LEASE_FIND_CID];
		sqlite3_bind_blob(st, 1, client_id, client_id_len, SQLITE_STATIC);
	} else {
		if (!hwaddr || hw_len == 0 || hw_len > IB_HWADDR_MAX)
			return -EINVAL;
		st = ss->st[ST_LEASE_FIND_HW];
		sqlite3_bind_blob(st, 1, hwaddr, hw_len, SQLITE_STATIC);
	}
	return fetch_lease(st, ret);
}

static bool lease_valid(const struct ib_lease4 *l)
{
	return l->hw_len <= IB_HWADDR_MAX &&
	       memchr(l->hostname, '\0', sizeof(l->hostname)) != NULL;
}

/* Binds ?1..?8 of the upsert from l (state is always ACTIVE). */
static void bind_upsert(sqlite3_stmt *st, const struct ib_lease4 *l, int64_t now)
{
	sqlite3_bind_int64(st, 1, l->address);
	sqlite3_bind_int64(st, 2, l->subnet);
	sqlite3_bind_int(st, 3, l->htype);
	/* hwaddr is an array, never NULL: a zero-length blob, not SQL NULL */
	sqlite3_bind_blob(st, 4, l->hwaddr, l->hw_len, SQLITE_STATIC);
	if (l->client_id_len > 0)
		sqlite3_bind_blob(st, 5, l->client_id, l->client_id_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_text(st, 6, l->hostname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, l->cltt);
	sqlite3_bind_int64(st, 8, l->expires);
	sqlite3_bind_int64(st, 9, now);
}

/* Releases the client's other ACTIVE leases in l's subnet. */
static int end_other_leases(struct store_sqlite *ss, const struct ib_lease4 *l)
{
	sqlite3_stmt *st;

	if (l->client_id_len > 0) {
		st = ss->st[ST_LEASE_END_CID];
		sqlite3_bind_blob(st, 1, l->client_id, l->client_id_len, SQLITE_STATIC);
	} else {
		st = ss->st[ST_LEASE_END_HW];
		sqlite3_bind_blob(st, 1, l->hwaddr, l->hw_len, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, l->htype);
	}
	sqlite3_bind_int64(st, 2, l->subnet);
	sqlite3_bind_int64(st, 3, l->address);
	return run(st);
}

static int ss_lease4_commit(struct ib_store *s, const struct ib_lease4 *l, int64_t now)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_LEASE_UPSERT];
	bool outer;
	int r;

	if (!lease_valid(l))
		return -EINVAL;
	r = ib_ss_scope_open(ss, &outer);
	if (r < 0)
		return r;
	bind_upsert(st, l, now);
	r = run(st);
	if (r == 0 && sqlite3_changes(ss->db) == 0)
		r = -EEXIST;		/* held by another client: unchanged */
	if (r == 0)
		r = end_other_leases(ss, l);
	return ib_ss_scope_close(ss, outer, r);
}

static int ss_lease4_set_state(struct ib_store *s, uint32_t address,
			       enum ib_lease_state state, int64_t expires)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_LEASE_SET_STATE];
	int r;

	if (state < IB_LEASE_ACTIVE || state > IB_LEASE_DECLINED)
		return -EINVAL;
	sqlite3_bind_int64(st, 1, address);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, expires);
	r = run(st);
	if (r == 0 && sqlite3_changes(ss->db) == 0)
		r = -ENOENT;
	return r;
}

static int ss_lease4_foreach(struct ib_store *s, uint32_t first, uint32_t last,
			     int (*cb)(const struct ib_lease4 *l, void *ctx),
			     void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_LEASE_RANGE];
	struct ib_lease4 l;
	int rc, r = 0;

	if (ss->in_lease_walk)
		return -EBUSY;
	ss->in_lease_walk = true;
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_lease(st, &l);
		r = cb(&l, ctx);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	done(st);
	ss->in_lease_walk = false;
	return r;
}

/*
 * Loads up to RECLAIM_BATCH due leases into ss->due.  The statement is
 * reset before the callbacks run, so they may use the store freely.
 */
static int load_due(struct store_sqlite *ss, int64_t now, size_t *ret_n)
{
	sqlite3_stmt *st = ss->st[ST_LEASE_DUE];
	size_t n = 0;
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, RECLAIM_BATCH);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < RECLAIM_BATCH)
		row_to_lease(st, &ss->due[n++]);
	done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -EIO;
	*ret_n = n;
	return 0;
}

/* One round: cb then expire each loaded lease; counts rows changed. */
static int expire_due(struct store_sqlite *ss, size_t n, int64_t now,
		      int (*cb)(const struct ib_lease4 *l, void *ctx),
		      void *ctx, size_t *ret_changed)
{
	sqlite3_stmt *st = ss->st[ST_LEASE_EXPIRE];
	size_t changed = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		r = cb ? cb(&ss->due[i], ctx) : 0;
		if (r != 0)
			return r;
		sqlite3_bind_int64(st, 1, ss->due[i].address);
		sqlite3_bind_int64(st, 2, now);
		r = run(st);
		if (r < 0)
			return r;
		changed += (size_t)sqlite3_changes(ss->db);
	}
	*ret_changed = changed;
	return 0;
}

/*
 * ACTIVE and DECLINED leases whose expiry has passed become EXPIRED.  All
 * or nothing: one scope, undone if a callback returns < 0 or a write
 * fails; a callback returning > 0 stops early and keeps what was done.
 */
static int ss_lease4_reclaim(struct ib_store *s, int64_t now,
			     int (*cb)(const struct ib_lease4 *l, void *ctx),
			     void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	size_t n, changed;
	bool outer;
	int r;

	if (ss->in_reclaim)
		return -EBUSY;
	r = ib_ss_scope_open(ss, &outer);
	if (r < 0)
		return r;
	ss->in_reclaim = true;
	do {
		r = load_due(ss, now, &n);
		if (r == 0)
			r = expire_due(ss, n, now, cb, ctx, &changed);
		/* stop on a full round that changed nothing (a callback kept
		 * re-arming its lease in the past): no endless loop */
	} while (r == 0 && n == RECLAIM_BATCH && changed > 0);
	ss->in_reclaim = false;
	return ib_ss_scope_close(ss, outer, r);
}

/* ---- events ---- */

/* Binds ev as the row whose first parameter is first. */
static void bind_event(sqlite3_stmt *st, int first, const struct ib_event *ev)
{
	sqlite3_bind_int64(st, first, ev->ts_us);
	bind_field(st, first + 1, ev->mac, sizeof(ev->mac));
	bind_field(st, first + 2, ev->client_id, sizeof(ev->client_id));
	bind_field(st, first + 3, ev->uuid, sizeof(ev->uuid));
	bind_field(st, first + 4, ev->proto, sizeof(ev->proto));
	bind_field(st, first + 5, ev->kind, sizeof(ev->kind));
	bind_field(st, first + 6, ev->detail, sizeof(ev->detail));
}

static int ss_event_append(struct ib_store *s, struct ib_event *ev)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_EVENT_INSERT];
	int r;

	bind_event(st, 1, ev);
	r = run(st);
	if (r == 0)
		ev->id = sqlite3_last_insert_rowid(ss->db);
	return r;
}

static int ss_event_append_many(struct ib_store *s, struct ib_event *ev, size_t n)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st[ST_EVENT_INSERT_MANY];
	int r;

	for (; n >= EVENT_CHUNK; ev += EVENT_CHUNK, n -= EVENT_CHUNK) {
		int64_t last;

		for (int i = 0; i < EVENT_CHUNK; i++)
			bind_event(st, 1 + 7 * i, &ev[i]);
		if ((r = run(st)) < 0)
			return r;
		/* one statement's rows take consecutive ids: nobody else
		 * writes between them */
		last = sqlite3_last_insert_rowid(ss->db);
		for (int i = 0; i < EVENT_CHUNK; i++)
			ev[i].id = last - (EVENT_CHUNK - 1 - i);
	}
	for (size_t i = 0; i < n; i++)
		if ((r = ss_event_append(s, &ev[i])) < 0)
			return r;
	return 0;
}

/* Picks and binds the listing statement for filter f (NULL = all). */
static sqlite3_stmt *bind_event_filter(struct store_sqlite *ss,
				       const struct ib_event_filter *f)
{
	bool by_mac = f && f->mac && f->mac[0];
	sqlite3_stmt *st = ss->st[by_mac ? ST_EVENT_BY_MAC : ST_EVENT_ALL];
	int64_t limit = -1;

	if (by_mac)
		sqlite3_bind_text(st, 1, f->mac, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int64(st, 2, f ? f->since_us : 0);
	if (f && f->proto && f->proto[0])
		sqlite3_bind_text(st, 3, f->proto, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	if (f && f->limit > 0)
		limit = f->limit > INT64_MAX ? INT64_MAX : (int64_t)f->limit;
	sqlite3_bind_int64(st, 4, limit);
	sqlite3_bind_int64(st, 5, f ? f->after_id : 0);
	return st;
}

static int ss_event_foreach(struct ib_store *s, const struct ib_event_filter *f,
			    int (*cb)(const struct ib_event *e, void *ctx),
			    void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st;
	struct ib_event *e;
	int rc, r = 0;

	if (ss->in_event_walk)
		return -EBUSY;
	e = malloc(sizeof(*e));		/* ~2 KiB: keep it off the stack */
	if (!e)
		return -ENOMEM;
	ss->in_event_walk = true;
	st = bind_event_filter(ss, f);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_event(st, e);
		r = cb(e, ctx);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	done(st);
	ss->in_event_walk = false;
	free(e);
	return r;
}

/*
 * Keeps the newest max_events (0 = no count limit) and deletes those older
 * than older_than_us (0 = no age limit).  Atomic.
 */
static int ss_event_prune(struct ib_store *s, uint32_t max_events,
			  int64_t older_than_us)
{
	struct store_sqlite *ss = to_ss(s);
	bool outer;
	int r = ib_ss_scope_open(ss, &outer);

	if (r < 0)
		return r;
	if (max_events > 0) {
		sqlite3_bind_int64(ss->st[ST_EVENT_PRUNE_COUNT], 1, max_events);
		r = run(ss->st[ST_EVENT_PRUNE_COUNT]);
	}
	if (r == 0 && older_than_us > 0) {
		sqlite3_bind_int64(ss->st[ST_EVENT_PRUNE_AGE], 1, older_than_us);
		r = run(ss->st[ST_EVENT_PRUNE_AGE]);
	}
	return ib_ss_scope_close(ss, outer, r);
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
	for (size_t i = 0; i < ST6__MAX; i++)
		sqlite3_finalize(ss->st6[i]);
	for (size_t i = 0; i < STM__MAX; i++)
		sqlite3_finalize(ss->stm[i]);
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
	.lease4_get = ss_lease4_get,
	.lease4_find_client = ss_lease4_find_client,
	.lease4_commit = ss_lease4_commit,
	.lease4_set_state = ss_lease4_set_state,
	.lease4_foreach = ss_lease4_foreach,
	.lease4_reclaim = ss_lease4_reclaim,
	.lease6_get = ib_ss_lease6_get,
	.lease6_find_client = ib_ss_lease6_find_client,
	.lease6_commit = ib_ss_lease6_commit,
	.lease6_set_state = ib_ss_lease6_set_state,
	.lease6_foreach = ib_ss_lease6_foreach,
	.lease6_reclaim = ib_ss_lease6_reclaim,
	.event_append = ss_event_append,
	.event_append_many = ss_event_append_many,
	.event_foreach = ss_event_foreach,
	.event_prune = ss_event_prune,
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
		set_err(err, "%s: %s", sql, sqlite3_errmsg(db));
		return -EIO;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		set_err(err, "%s: %s", sql, sqlite3_errmsg(db));
		r = -EIO;
	} else if (expect && (rc != SQLITE_ROW ||
		   sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), expect))) {
		set_err(err, "%s: not in effect", sql);
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
			set_err(err, "cannot prepare %sstatement %zu: %s", what, i,
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
		r = prepare_table(ss->db, ib_ss_stmt6_sql, ss->st6, ST6__MAX,
				  "IPv6 ", err);
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
		set_err(err, "out of memory");
		return -ENOMEM;
	}
	ib_store_stats_init(&ss->base.stats);
	if (sqlite3_open_v2(path, &ss->db, flags, NULL) != SQLITE_OK) {
		set_err(err, "cannot open %s: %s", path,
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

/* Generic, not SQLite's: moves to store.c when a second store lands. */
void ib_store_stats_init(struct ib_store_stats *st)
{
	/* seconds: 0.25 ms (a page cache write) to 2.5 s (a stalled disk) */
	static const double le[] = { 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
				     0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };

	memset(st, 0, sizeof(*st));
	st->commit.n = IB_ARRAY_SIZE(le);
	memcpy(st->commit.le, le, sizeof(le));
}

/* Generic, not SQLite's: moves to store.c when a second store lands. */
void ib_store_free(struct ib_store *s)
{
	if (s)
		s->ops->close(s);
}
