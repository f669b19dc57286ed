/*
 * The SQLite store's journal events: the event_* operations of struct
 * ib_store_ops over the events table.  Same rules as store_sqlite.c:
 * statements prepared once at open from ib_ss_stmte_sql[], values bound,
 * every statement reset before an operation returns.
 */
#include "store/store_sqlite_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* Column order read by row_to_event(). */
#define EVENT_COLS "id, ts_us, mac, client_id, uuid, proto, kind, detail"

/* Rows of STE_INSERT_MANY: seven parameters each. */
#define EVENT_CHUNK 16
#define EVENT_ROW " (?, ?, ?, ?, ?, ?, ?)"
#define EVENT_ROWS4 EVENT_ROW "," EVENT_ROW "," EVENT_ROW "," EVENT_ROW
#define EVENT_ROWS16 EVENT_ROWS4 "," EVENT_ROWS4 "," EVENT_ROWS4 "," EVENT_ROWS4

/*
 * Event listing: the newest ?4 matching rows (LIMIT -1 = all), returned
 * oldest first.  ?3 NULL matches every protocol.
 */
#define EVENT_WHERE(where) \
	" FROM events WHERE " where \
	" ts_us >= ?2 AND (?3 IS NULL OR proto = ?3) AND id > ?5"
#define EVENT_SELECT(where) \
	"SELECT * FROM (SELECT " EVENT_COLS EVENT_WHERE(where) \
	" ORDER BY ts_us DESC, id DESC LIMIT ?4) ORDER BY ts_us, id"
/* The oldest ?4 after ?5, by id: an incremental reader's next page. */
#define EVENT_SELECT_OLDEST(where) \
	"SELECT " EVENT_COLS EVENT_WHERE(where) " ORDER BY id LIMIT ?4"

/* See store_sqlite_int.h; indexed by enum stmte_id. */
const char *const ib_ss_stmte_sql[STE__MAX] = {
	[STE_INSERT] = "INSERT INTO events"
		" (ts_us, mac, client_id, uuid, proto, kind, detail)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* EVENT_CHUNK rows: one statement's overhead (and one update of
	 * AUTOINCREMENT's sqlite_sequence) shared by all of them */
	[STE_INSERT_MANY] = "INSERT INTO events"
		" (ts_us, mac, client_id, uuid, proto, kind, detail) VALUES"
		EVENT_ROWS16,
	/* Two forms so each can use its index (events_ts, events_mac_ts). */
	[STE_ALL] = EVENT_SELECT("?1 IS NULL AND"),
	[STE_BY_MAC] = EVENT_SELECT("mac = ?1 AND"),
	[STE_ALL_OLDEST] = EVENT_SELECT_OLDEST("?1 IS NULL AND"),
	[STE_BY_MAC_OLDEST] = EVENT_SELECT_OLDEST("mac = ?1 AND"),
	[STE_PRUNE_COUNT] = "DELETE FROM events WHERE id IN"
		" (SELECT id FROM events ORDER BY ts_us DESC, id DESC"
		" LIMIT -1 OFFSET ?1)",
	[STE_PRUNE_AGE] = "DELETE FROM events WHERE ts_us < ?1",
};

/* Binds a fixed-size char field, up to its terminator or its size. */
static int bind_field(sqlite3_stmt *st, int idx, const char *s, size_t cap)
{
	return sqlite3_bind_text(st, idx, s, (int)strnlen(s, cap), SQLITE_STATIC);
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

/* See store.h. */
int ib_ss_event_append(struct ib_store *s, struct ib_event *ev)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->ste[STE_INSERT];
	int r;

	bind_event(st, 1, ev);
	r = run(st);
	if (r == 0)
		ev->id = sqlite3_last_insert_rowid(ss->db);
	return r;
}

/* See store.h. */
int ib_ss_event_append_many(struct ib_store *s, struct ib_event *ev, size_t n)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->ste[STE_INSERT_MANY];
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
		if ((r = ib_ss_event_append(s, &ev[i])) < 0)
			return r;
	return 0;
}

/* Picks and binds the listing statement for filter f (NULL = all). */
static sqlite3_stmt *bind_event_filter(struct store_sqlite *ss,
				       const struct ib_event_filter *f)
{
	bool by_mac = f && f->mac && f->mac[0];
	bool oldest = f && f->oldest;
	sqlite3_stmt *st = ss->ste[by_mac ? (oldest ? STE_BY_MAC_OLDEST : STE_BY_MAC)
					  : (oldest ? STE_ALL_OLDEST : STE_ALL)];
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

/* An event walk's row buffer and callback. */
struct event_walk {
	struct ib_event *e;		/* ~2 KiB: kept off the stack */
	int (*cb)(const struct ib_event *e, void *ctx);
	void *ctx;
};

static int event_row(sqlite3_stmt *st, void *arg)
{
	const struct event_walk *w = arg;

	row_to_event(st, w->e);
	return w->cb(w->e, w->ctx);
}

/* See store.h. */
int ib_ss_event_foreach(struct ib_store *s, const struct ib_event_filter *f,
			int (*cb)(const struct ib_event *e, void *ctx), void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	struct event_walk w = { NULL, cb, ctx };
	int r;

	if (ss->in_event_walk)
		return -EBUSY;
	w.e = malloc(sizeof(*w.e));
	if (!w.e)
		return -ENOMEM;
	r = ib_ss_walk(bind_event_filter(ss, f), &ss->in_event_walk, event_row, &w);
	free(w.e);
	return r;
}

/*
 * Keeps the newest max_events (0 = no count limit) and deletes those older
 * than older_than_us (0 = no age limit).  Atomic.
 */
/* See store.h. */
int ib_ss_event_prune(struct ib_store *s, uint32_t max_events,
			  int64_t older_than_us)
{
	struct store_sqlite *ss = to_ss(s);
	bool outer;
	int r = ib_ss_scope_open(ss, &outer);

	if (r < 0)
		return r;
	if (max_events > 0) {
		sqlite3_bind_int64(ss->ste[STE_PRUNE_COUNT], 1, max_events);
		r = run(ss->ste[STE_PRUNE_COUNT]);
	}
	if (r == 0 && older_than_us > 0) {
		sqlite3_bind_int64(ss->ste[STE_PRUNE_AGE], 1, older_than_us);
		r = run(ss->ste[STE_PRUNE_AGE]);
	}
	return ib_ss_scope_close(ss, outer, r);
}
