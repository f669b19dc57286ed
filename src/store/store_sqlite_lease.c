/*
 * The lease code both families share (store_sqlite_int.h): one get, one
 * conditional commit, one state change, one walk and one reclaim over a
 * lease table described by struct ib_ss_family_ops.  store_sqlite4.c and
 * store_sqlite6.c give only their SQL, their row codec and the checks of
 * their own fields.
 *
 * The database arbitrates conflicts, not our memory: the commit is the
 * family's conditional upsert, and "no row changed" means another client
 * holds the address (-EEXIST).
 */
#include "store/store_sqlite_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* The address of lease, as f's bind_addr() takes it. */
static const void *lease_addr(const struct ib_ss_family *f, const void *lease)
{
	return (const uint8_t *)lease + f->ops->addr_off;
}

/* The i-th lease of reclaim's round. */
static void *due_at(const struct ib_ss_family *f, size_t i)
{
	return (uint8_t *)f->due + i * f->ops->size;
}

/* Sets up a family: see store_sqlite_int.h. */
int ib_ss_family_init(struct ib_ss_family *f, const struct ib_ss_family_ops *ops,
		      sqlite3_stmt **st)
{
	*f = (struct ib_ss_family){ .ops = ops, .st = st };
	f->due = calloc(RECLAIM_BATCH, ops->size);
	return f->due ? 0 : -ENOMEM;
}

/* Releases a family: see store_sqlite_int.h. */
void ib_ss_family_done(struct ib_ss_family *f)
{
	free(f->due);
	f->due = NULL;
}

/* Steps a single-row query: see store_sqlite_int.h. */
int ib_ss_lease_fetch(struct ib_ss_family *f, sqlite3_stmt *st, void *ret)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		f->ops->row(st, ret);
	done(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

/* Fetches by address: see store_sqlite_int.h. */
int ib_ss_lease_get(struct ib_ss_family *f, const void *addr, void *ret)
{
	sqlite3_stmt *st = f->st[f->ops->get];

	f->ops->bind_addr(st, 1, addr);
	return ib_ss_lease_fetch(f, st, ret);
}

/* The conditional write: see store_sqlite_int.h. */
int ib_ss_lease_commit(struct store_sqlite *ss, struct ib_ss_family *f,
		       const void *lease, int64_t now)
{
	sqlite3_stmt *st = f->st[f->ops->upsert];
	bool outer;
	int r;

	r = ib_ss_scope_open(ss, &outer);
	if (r < 0)
		return r;
	f->ops->bind_upsert(st, lease, now);
	r = run(st);
	if (r == 0 && sqlite3_changes(ss->db) == 0)
		r = -EEXIST;		/* held by another client: unchanged */
	if (r == 0)
		r = run(f->ops->bind_end(f->st, lease));
	return ib_ss_scope_close(ss, outer, r);
}

/* Sets state and expiry: see store_sqlite_int.h. */
int ib_ss_lease_set_state(struct store_sqlite *ss, struct ib_ss_family *f,
			  const void *addr, enum ib_lease_state state, int64_t expires)
{
	sqlite3_stmt *st = f->st[f->ops->set_state];
	int r;

	if (!addr || state < IB_LEASE_ACTIVE || state > IB_LEASE_DECLINED)
		return -EINVAL;
	f->ops->bind_addr(st, 1, addr);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, expires);
	r = run(st);
	if (r == 0 && sqlite3_changes(ss->db) == 0)
		r = -ENOENT;
	return r;
}

/* The one walk: see store_sqlite_int.h. */
int ib_ss_walk(sqlite3_stmt *st, bool *busy, ib_ss_row_fn each, void *arg)
{
	int rc, r = 0;

	if (*busy)
		return -EBUSY;
	*busy = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && (r = each(st, arg)) == 0)
		;
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	done(st);
	*busy = false;
	return r;
}

/* Calls the caller's typed callback with lease. */
static int call(const struct ib_ss_lease_cb *c, const void *lease)
{
	if (c->cb4)
		return c->cb4(lease, c->ctx);
	return c->cb6 ? c->cb6(lease, c->ctx) : 0;
}

/* A lease walk's state: its family and callback. */
struct lease_walk {
	struct ib_ss_family *f;
	const struct ib_ss_lease_cb *cb;
};

static int lease_row(sqlite3_stmt *st, void *arg)
{
	const struct lease_walk *w = arg;
	union {
		struct ib_lease4 l4;
		struct ib_lease6 l6;
	} l;

	w->f->ops->row(st, &l);
	return call(w->cb, &l);
}

/* Walks f's rows of st: see store_sqlite_int.h. */
int ib_ss_lease_walk(struct ib_ss_family *f, sqlite3_stmt *st,
		     const struct ib_ss_lease_cb *cb)
{
	struct lease_walk w = { f, cb };

	return ib_ss_walk(st, &f->in_walk, lease_row, &w);
}

/* Counts a range's unexpired leases: see store_sqlite_int.h. */
int ib_ss_lease_count(struct ib_ss_family *f, const void *first, const void *last,
		      int64_t now, struct ib_lease_count *ret)
{
	sqlite3_stmt *st = f->st[f->ops->count];
	struct ib_lease_count c = { 0 };
	int rc;

	f->ops->bind_addr(st, 1, first);
	f->ops->bind_addr(st, 2, last);
	sqlite3_bind_int64(st, 3, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t n = (uint64_t)sqlite3_column_int64(st, 1);

		if (sqlite3_column_int(st, 0) == IB_LEASE_ACTIVE)
			c.active = n;
		else
			c.declined = n;
	}
	done(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	*ret = c;
	return 0;
}

/*
 * Loads up to RECLAIM_BATCH due leases into f->due.  The statement is
 * reset before the callbacks run, so they may use the store freely.
 */
static int load_due(struct ib_ss_family *f, int64_t now, size_t *ret_n)
{
	sqlite3_stmt *st = f->st[f->ops->due];
	size_t n = 0;
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, RECLAIM_BATCH);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < RECLAIM_BATCH)
		f->ops->row(st, due_at(f, n++));
	done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -EIO;
	*ret_n = n;
	return 0;
}

/* One round: cb then expire each loaded lease; counts rows changed. */
static int expire_due(struct store_sqlite *ss, struct ib_ss_family *f, size_t n,
		      int64_t now, const struct ib_ss_lease_cb *cb, size_t *ret_changed)
{
	sqlite3_stmt *st = f->st[f->ops->expire];
	size_t changed = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		r = call(cb, due_at(f, i));
		if (r != 0)
			return r;
		f->ops->bind_addr(st, 1, lease_addr(f, due_at(f, i)));
		sqlite3_bind_int64(st, 2, now);
		r = run(st);
		if (r < 0)
			return r;
		changed += (size_t)sqlite3_changes(ss->db);
	}
	*ret_changed = changed;
	return 0;
}

/* Expires due leases: see store_sqlite_int.h. */
int ib_ss_lease_reclaim(struct store_sqlite *ss, struct ib_ss_family *f, int64_t now,
			const struct ib_ss_lease_cb *cb)
{
	size_t n, changed;
	bool outer;
	int r;

	if (f->in_reclaim)
		return -EBUSY;
	r = ib_ss_scope_open(ss, &outer);
	if (r < 0)
		return r;
	f->in_reclaim = true;
	do {
		r = load_due(f, now, &n);
		if (r == 0)
			r = expire_due(ss, f, n, now, cb, &changed);
		/* stop on a full round that changed nothing (a callback kept
		 * re-arming its lease in the past): no endless loop */
	} while (r == 0 && n == RECLAIM_BATCH && changed > 0);
	f->in_reclaim = false;
	return ib_ss_scope_close(ss, outer, r);
}
