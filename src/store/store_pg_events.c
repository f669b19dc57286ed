/*
 * The PostgreSQL store's journal events: the event_* operations of struct
 * ib_store_ops over the events table, as store_sqlite_events.c does them
 * on SQLite.  Ids come from the table's sequence (RETURNING id), never
 * reused after a prune.
 *
 * Ids are handed out in the order rows are inserted, not committed: with
 * several connections (daemons, or a daemon's store thread) a row with id
 * N can commit after N + 1 was read.  A reader paging by id (after_id:
 * doctor_watch, the Last-Event-ID replay) would skip N for ever.  So every
 * row carries the transaction that wrote it (txid, schema version 7), and
 * a reader going on from a cursor gets only rows whose transaction lies
 * below the snapshot's xmin (every transaction below it has ended: no row
 * can still appear there), after the cursor in (txid, id) order, which is
 * the order the rows became visible in.  The cursor stays an event id; it
 * is resolved to its (txid, id) by the primary key.  A transaction left
 * open (idle in transaction, anywhere on the server) holds the xmin back,
 * and with it what a follower is handed: late, never lost.  SQLite has one
 * writer at a time, so its ids are already in commit order.
 */
#include "store/store_pg_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_COLS "id, ts_us, mac, client_id, uuid, proto, kind, detail, txid"

/* Rows of E_INSERT_MANY: seven parameters each. */
#define EVENT_CHUNK 16
/* Rows a listing loads at a time: a listing of every event (`ironboot
 * events` without --limit) walks the table page by page, never all of
 * it in memory. */
#define EVENT_PAGE 512

/*
 * Listing, one page ($3 rows) at a time: $1 since, $2 protocol (NULL:
 * all), $3 the page's rows, $4 the cursor's id (0: none), $5 its txid
 * (NULL: the cursor's row is gone, see resolve_cursor()), and $6 the MAC
 * in the by-MAC forms.  In (ts_us, id) order from after the key ($6, $7;
 * by MAC $7, $8), or, for the oldest form, in (txid, id) order after
 * ($5, $4), the key of the last row read.  The START forms find the key
 * of the newest $3-th row, where a listing of the newest $3 begins.
 */
#define EVENT_XMIN "(SELECT pg_snapshot_xmin(pg_current_snapshot()))"
#define EVENT_FILTER(where) " FROM events WHERE " where \
	" ts_us >= $1 AND ($2::text IS NULL OR proto = $2)"
/* after a cursor, in commit order; a cursor whose row is gone: by id */
#define EVENT_AFTER " AND ($4::bigint = 0 OR (txid < " EVENT_XMIN " AND" \
	" CASE WHEN $5::xid8 IS NULL THEN id > $4 ELSE (txid, id) > ($5::xid8, $4) END))"
#define EVENT_WHERE(where) EVENT_FILTER(where) EVENT_AFTER
#define EVENT_PAGE_SELECT(where, k) \
	"SELECT " EVENT_COLS EVENT_WHERE(where) " AND (ts_us, id) > (" k ")" \
	" ORDER BY ts_us, id LIMIT $3"
#define EVENT_START(where) \
	"SELECT ts_us, id" EVENT_WHERE(where) \
	" ORDER BY ts_us DESC, id DESC OFFSET $3::bigint - 1 LIMIT 1"
/* the (txid, id) index's range, read in its order */
#define EVENT_SELECT_OLDEST(where) \
	"SELECT " EVENT_COLS EVENT_FILTER(where) " AND txid < " EVENT_XMIN \
	" AND (txid, id) > ($5::xid8, $4::bigint) ORDER BY txid, id LIMIT $3"
/* the cursor's row is gone ($5 NULL): by id from there, the first page */
#define EVENT_SELECT_OLDEST_ID(where) \
	"SELECT " EVENT_COLS EVENT_FILTER(where) " AND txid < " EVENT_XMIN \
	" AND id > $4::bigint AND $5::xid8 IS NULL ORDER BY id LIMIT $3"

enum stmt_id {
	E_INSERT,
	E_INSERT_MANY,
	E_ALL,
	E_BY_MAC,
	E_ALL_START,
	E_BY_MAC_START,
	E_ALL_OLDEST,
	E_BY_MAC_OLDEST,
	E_ALL_OLDEST_ID,
	E_BY_MAC_OLDEST_ID,
	E_CURSOR,
	E_PRUNE_COUNT,
	E_PRUNE_AGE,
	E__MAX
};

static const char *const stmt_sql[E__MAX] = {
	[E_INSERT] = "INSERT INTO events (ts_us, mac, client_id, uuid, proto, kind, detail)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
	/* EVENT_CHUNK rows of seven parameters: each row takes its id from
	 * the sequence in VALUES order */
	[E_INSERT_MANY] = "INSERT INTO events"
		" (ts_us, mac, client_id, uuid, proto, kind, detail) VALUES "
		"($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14), "
		"($15, $16, $17, $18, $19, $20, $21), ($22, $23, $24, $25, $26, $27, $28), "
		"($29, $30, $31, $32, $33, $34, $35), ($36, $37, $38, $39, $40, $41, $42), "
		"($43, $44, $45, $46, $47, $48, $49), ($50, $51, $52, $53, $54, $55, $56), "
		"($57, $58, $59, $60, $61, $62, $63), ($64, $65, $66, $67, $68, $69, $70), "
		"($71, $72, $73, $74, $75, $76, $77), ($78, $79, $80, $81, $82, $83, $84), "
		"($85, $86, $87, $88, $89, $90, $91), ($92, $93, $94, $95, $96, $97, $98), "
		"($99, $100, $101, $102, $103, $104, $105), ($106, $107, $108, $109, $110, $111, $112)"
		" RETURNING id",
	[E_ALL] = EVENT_PAGE_SELECT("", "$6::bigint, $7::bigint"),
	[E_BY_MAC] = EVENT_PAGE_SELECT("mac = $6 AND", "$7::bigint, $8::bigint"),
	[E_ALL_START] = EVENT_START(""),
	[E_BY_MAC_START] = EVENT_START("mac = $6 AND"),
	[E_ALL_OLDEST] = EVENT_SELECT_OLDEST(""),
	[E_BY_MAC_OLDEST] = EVENT_SELECT_OLDEST("mac = $6 AND"),
	[E_ALL_OLDEST_ID] = EVENT_SELECT_OLDEST_ID(""),
	[E_BY_MAC_OLDEST_ID] = EVENT_SELECT_OLDEST_ID("mac = $6 AND"),
	/* a gone cursor: just below the oldest transaction of the rows after
	 * it, so that every one of them comes after (resolve_cursor()) */
	[E_CURSOR] = "SELECT coalesce((SELECT txid FROM events WHERE id = $1),"
		" (SELECT (min(txid)::text::bigint - 1)::text::xid8 FROM events WHERE id > $1))",
	[E_PRUNE_COUNT] = "DELETE FROM events WHERE id IN"
		" (SELECT id FROM events ORDER BY ts_us DESC, id DESC OFFSET $1)",
	[E_PRUNE_AGE] = "DELETE FROM events WHERE ts_us < $1",
};

const struct ib_pg_stmts ib_pg_event_stmts = { "e", stmt_sql, E__MAX };

/* Appends ev as one row's seven parameters. */
static void p_event(struct ib_pg_params *p, const struct ib_event *ev)
{
	ib_pg_p_int(p, ev->ts_us);
	ib_pg_p_field(p, ev->mac, sizeof(ev->mac));
	ib_pg_p_field(p, ev->client_id, sizeof(ev->client_id));
	ib_pg_p_field(p, ev->uuid, sizeof(ev->uuid));
	ib_pg_p_field(p, ev->proto, sizeof(ev->proto));
	ib_pg_p_field(p, ev->kind, sizeof(ev->kind));
	ib_pg_p_field(p, ev->detail, sizeof(ev->detail));
}

int ib_pg_event_append(struct ib_store *s, struct ib_event *ev)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	p_event(&p, ev);
	res = ib_pg_exec(to_pg(s), IB_PG_T_EVENT, E_INSERT, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) == 1)
		ev->id = ib_pg_int(res, 0, 0);
	else
		r = -EIO;
	PQclear(res);
	return r;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* One chunk of EVENT_CHUNK events in one statement. */
static int append_chunk(struct store_pg *pg, struct ib_event *ev)
{
	struct ib_pg_params *p = malloc(sizeof(*p));
	int64_t ids[EVENT_CHUNK];
	PGresult *res = NULL;
	int r = -ENOMEM;

	if (!p)
		return r;
	p->n = 0;
	for (int i = 0; i < EVENT_CHUNK; i++)
		p_event(p, &ev[i]);
	res = ib_pg_exec(pg, IB_PG_T_EVENT, E_INSERT_MANY, p, &r);
	if (res && PQntuples(res) != EVENT_CHUNK)
		r = -EIO;
	if (r == 0) {
		/* RETURNING's order is not promised; the sequence's is:
		 * sorted, the ids are the rows' in VALUES order */
		for (int i = 0; i < EVENT_CHUNK; i++)
			ids[i] = ib_pg_int(res, i, 0);
		qsort(ids, EVENT_CHUNK, sizeof(ids[0]), cmp_id);
		for (int i = 0; i < EVENT_CHUNK; i++)
			ev[i].id = ids[i];
	}
	PQclear(res);
	free(p);
	return r;
}

int ib_pg_event_append_many(struct ib_store *s, struct ib_event *ev, size_t n)
{
	int r;

	for (; n >= EVENT_CHUNK; ev += EVENT_CHUNK, n -= EVENT_CHUNK)
		if ((r = append_chunk(to_pg(s), ev)) < 0)
			return r;
	for (size_t i = 0; i < n; i++)
		if ((r = ib_pg_event_append(s, &ev[i])) < 0)
			return r;
	return 0;
}

static void row_to_event(const PGresult *res, int i, struct ib_event *e)
{
	memset(e, 0, sizeof(*e));
	e->id = ib_pg_int(res, i, 0);
	e->ts_us = ib_pg_int(res, i, 1);
	ib_pg_text(res, i, 2, e->mac, sizeof(e->mac));
	ib_pg_text(res, i, 3, e->client_id, sizeof(e->client_id));
	ib_pg_text(res, i, 4, e->uuid, sizeof(e->uuid));
	ib_pg_text(res, i, 5, e->proto, sizeof(e->proto));
	ib_pg_text(res, i, 6, e->kind, sizeof(e->kind));
	ib_pg_text(res, i, 7, e->detail, sizeof(e->detail));
}

/* A listing under way: its filter and where its next page starts. */
struct listing {
	const struct ib_event_filter *f;	/* may be NULL: every event */
	bool by_mac;			/* f names a MAC */
	bool oldest;			/* id order (f->oldest), else (ts_us, id) */
	uint64_t left;			/* rows still to hand out (UINT64_MAX: all) */
	int64_t key_ts, key_id;		/* (ts_us, id) order: after this key */
	int64_t after_id;		/* the cursor's id: after this row */
	char after_tx[24];		/* and its txid, "" when its row is gone */
};

/* The xid8 text of a row's txid (up to 20 digits). */
#define TXID_COL 8

/* The parameters every listing statement starts with ($1 to $4, and $5
 * the MAC), rows the page's size. */
static void p_listing(struct ib_pg_params *p, const struct listing *l, int64_t rows)
{
	ib_pg_p_int(p, l->f ? l->f->since_us : 0);
	if (l->f && l->f->proto && l->f->proto[0])
		ib_pg_p_text(p, l->f->proto);
	else
		ib_pg_p_null(p);
	ib_pg_p_int(p, rows);
	ib_pg_p_int(p, l->after_id);
	if (l->after_tx[0])
		ib_pg_p_text(p, l->after_tx);
	else
		ib_pg_p_null(p);
	if (l->by_mac)
		ib_pg_p_text(p, l->f->mac);
}

/*
 * The cursor's (txid, id), by its primary key; 0 or -errno.  No cursor
 * (id 0) is the start of the commit order for the oldest form.  A cursor
 * whose row is gone (pruned by retention, or not visible yet) has no
 * place in the commit order: it is placed just below the oldest
 * transaction of the rows with a higher id, so none of those is skipped
 * (a row with a lower id written by a later transaction may come again).
 * With no row after it either, the listing goes on by id from there.
 */
static int resolve_cursor(struct store_pg *pg, struct listing *l)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	l->after_tx[0] = '\0';
	if (l->after_id <= 0) {
		l->after_id = 0;
		if (l->oldest)
			strcpy(l->after_tx, "0");
		return 0;
	}
	ib_pg_p_int(&p, l->after_id);
	res = ib_pg_exec(pg, IB_PG_T_EVENT, E_CURSOR, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		ib_pg_text(res, 0, 0, l->after_tx, sizeof(l->after_tx));
	PQclear(res);
	return 0;
}

/* A listing of the newest l->left starts just before the left-th newest
 * row (fewer rows than that: at the beginning); 0 or -errno. */
static int find_start(struct store_pg *pg, struct listing *l)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	l->key_ts = l->key_id = INT64_MIN;
	if (l->oldest || l->left == UINT64_MAX)
		return 0;
	p_listing(&p, l, l->left > INT64_MAX ? INT64_MAX : (int64_t)l->left);
	res = ib_pg_exec(pg, IB_PG_T_EVENT, l->by_mac ? E_BY_MAC_START : E_ALL_START, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) == 1) {
		l->key_ts = ib_pg_int(res, 0, 0);
		l->key_id = ib_pg_int(res, 0, 1) - 1;	/* (ts, id) itself is in */
	}
	PQclear(res);
	return 0;
}

/* The listing's next page of at most rows rows; NULL with *ret_r on error. */
static PGresult *next_page(struct store_pg *pg, const struct listing *l, int64_t rows,
			   int *ret_r)
{
	struct ib_pg_params p = { .n = 0 };
	int idx;

	p_listing(&p, l, rows);
	if (l->oldest && l->after_tx[0]) {
		idx = l->by_mac ? E_BY_MAC_OLDEST : E_ALL_OLDEST;
	} else if (l->oldest) {
		idx = l->by_mac ? E_BY_MAC_OLDEST_ID : E_ALL_OLDEST_ID;
	} else {
		ib_pg_p_int(&p, l->key_ts);
		ib_pg_p_int(&p, l->key_id);
		idx = l->by_mac ? E_BY_MAC : E_ALL;
	}
	return ib_pg_exec(pg, IB_PG_T_EVENT, idx, &p, ret_r);
}

/* Hands a page's rows to cb, moving the listing's key along; 0, or what
 * cb returned to stop. */
static int walk_page(const PGresult *res, struct listing *l, struct ib_event *e,
		     int (*cb)(const struct ib_event *e, void *ctx), void *ctx)
{
	int r = 0;

	for (int i = 0; r == 0 && i < PQntuples(res); i++) {
		row_to_event(res, i, e);
		l->key_ts = e->ts_us;
		l->key_id = e->id;
		if (l->oldest) {	/* the next page goes on from this row */
			l->after_id = e->id;
			ib_pg_text(res, i, TXID_COL, l->after_tx, sizeof(l->after_tx));
		}
		if (l->left != UINT64_MAX)
			l->left--;
		r = cb(e, ctx);
	}
	return r;
}

int ib_pg_event_foreach(struct ib_store *s, const struct ib_event_filter *f,
			int (*cb)(const struct ib_event *e, void *ctx), void *ctx)
{
	struct store_pg *pg = to_pg(s);
	struct listing l = {
		.f = f, .by_mac = f && f->mac && f->mac[0], .oldest = f && f->oldest,
		.left = f && f->limit ? f->limit : UINT64_MAX, .after_id = f ? f->after_id : 0,
	};
	struct ib_event *e;
	PGresult *res;
	int64_t rows;
	int r;

	if (pg->in_event_walk)
		return -EBUSY;
	e = malloc(sizeof(*e));		/* ~2 KiB: kept off the stack */
	if (!e)
		return -ENOMEM;
	pg->in_event_walk = true;
	r = resolve_cursor(pg, &l);
	if (r == 0)
		r = find_start(pg, &l);
	/* page by page, never one snapshot (as the lease walks) */
	while (r == 0 && l.left > 0) {
		rows = (int64_t)IB_MIN(l.left, (uint64_t)EVENT_PAGE);
		if (!(res = next_page(pg, &l, rows, &r)))
			break;
		r = walk_page(res, &l, e, cb, ctx);
		if (PQntuples(res) < rows)
			l.left = 0;	/* the last page */
		PQclear(res);
	}
	pg->in_event_walk = false;
	free(e);
	return r;
}

int ib_pg_event_prune(struct ib_store *s, uint32_t max_events, int64_t older_than_us)
{
	struct store_pg *pg = to_pg(s);
	struct ib_pg_params p = { .n = 0 };
	bool outer;
	int r = ib_pg_scope_open(pg, &outer);

	if (r < 0)
		return r;
	if (max_events > 0) {
		ib_pg_p_int(&p, max_events);
		r = ib_pg_run(pg, IB_PG_T_EVENT, E_PRUNE_COUNT, &p, NULL);
	}
	if (r == 0 && older_than_us > 0) {
		p.n = 0;
		ib_pg_p_int(&p, older_than_us);
		r = ib_pg_run(pg, IB_PG_T_EVENT, E_PRUNE_AGE, &p, NULL);
	}
	return ib_pg_scope_close(pg, outer, r);
}
