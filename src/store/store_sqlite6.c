/*
 * The SQLite store's IPv6 leases (DHCPv6 IA_NA addresses, RFC 8415): the
 * lease6_* operations of struct ib_store_ops over the leases6 table
 * (migration step 4).  Same rules as store_sqlite.c: statements prepared
 * once at open from ib_ss_stmt6_sql[], values bound, every statement reset
 * before an operation returns, multi-statement writes atomic in a scope.
 *
 * A lease belongs to one IA: the client's DUID plus the IAID of its IA_NA
 * (RFC 8415 12: an IAID names an IA within its client).  DUIDs are opaque
 * and only compared for equality, as bytes (RFC 8415 11).
 */
#include "store/store_sqlite_int.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

/* Column order read by row_to_lease6() and bound by bind_upsert6(). */
#define LEASE6_COLS \
	"address, subnet, prefix_len, duid, iaid, mac, hostname, cltt," \
	" preferred, expires, state"

/* See store_sqlite_int.h; indexed by enum stmt6_id. */
const char *const ib_ss_stmt6_sql[ST6__MAX] = {
	[ST6_GET] = "SELECT " LEASE6_COLS " FROM leases6 WHERE address = ?1",
	/* leases6_client (duid, iaid, cltt) yields the newest first */
	[ST6_FIND] = "SELECT " LEASE6_COLS " FROM leases6"
		" WHERE duid = ?1 AND iaid = ?2"
		" ORDER BY cltt DESC, address DESC LIMIT 1",
	/*
	 * The conditional write, as for leases4: the DO UPDATE runs only when
	 * the address is free (released or expired state, or past its
	 * valid-until) or ACTIVE for the same IA (same DUID and IAID); else
	 * nothing changes and changes() is 0.  A DECLINED address (RFC 8415
	 * 18.3.8) stays quarantined until it expires, for its decliner too.
	 * Works unchanged on PostgreSQL (ON CONFLICT ... DO UPDATE ... WHERE,
	 * then the row count).
	 */
	[ST6_UPSERT] = "INSERT INTO leases6 (" LEASE6_COLS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)"
		" ON CONFLICT (address) DO UPDATE SET"
		" subnet = excluded.subnet, prefix_len = excluded.prefix_len,"
		" duid = excluded.duid, iaid = excluded.iaid, mac = excluded.mac,"
		" hostname = excluded.hostname, cltt = excluded.cltt,"
		" preferred = excluded.preferred, expires = excluded.expires,"
		" state = 1"
		" WHERE leases6.state IN (2, 3) OR leases6.expires <= ?11"
		" OR (leases6.state = 1 AND leases6.duid = excluded.duid"
		" AND leases6.iaid = excluded.iaid)",
	/*
	 * One address per IA and subnet: end the IA's others.  The unary +
	 * keeps the planner off leases6_state_expires and on leases6_client.
	 */
	[ST6_END_OTHERS] = "UPDATE leases6 SET state = 2"
		" WHERE duid = ?1 AND iaid = ?2 AND subnet = ?3"
		" AND prefix_len = ?4 AND address <> ?5 AND +state = 1",
	/* RFC 8415 21.6: preferred never beyond valid (LEAST() on
	 * PostgreSQL) */
	[ST6_SET_STATE] = "UPDATE leases6 SET state = ?2, expires = ?3,"
		" preferred = min(preferred, ?3) WHERE address = ?1",
	/* a BLOB key sorts with memcmp(): numerical address order */
	[ST6_ALL] = "SELECT " LEASE6_COLS " FROM leases6 ORDER BY address",
	/* No ORDER BY, as for leases4: leases6_state_expires yields them. */
	[ST6_DUE] = "SELECT " LEASE6_COLS " FROM leases6"
		" WHERE state IN (1, 4) AND expires <= ?1 LIMIT ?2",
	[ST6_EXPIRE] = "UPDATE leases6 SET state = 3"
		" WHERE address = ?1 AND state IN (1, 4) AND expires <= ?2",
};

static void row_to_lease6(sqlite3_stmt *st, struct ib_lease6 *l)
{
	memset(l, 0, sizeof(*l));
	col_blob(st, 0, l->address, sizeof(l->address));
	col_blob(st, 1, l->subnet, sizeof(l->subnet));
	l->prefix_len = (uint8_t)sqlite3_column_int(st, 2);
	l->duid_len = (uint8_t)col_blob(st, 3, l->duid, sizeof(l->duid));
	l->iaid = (uint32_t)sqlite3_column_int64(st, 4);
	/* NULL = unknown; anything but 6 bytes (a tampered row) too */
	if (sqlite3_column_type(st, 5) == SQLITE_BLOB &&
	    sqlite3_column_bytes(st, 5) == (int)sizeof(l->mac))
		l->has_mac = col_blob(st, 5, l->mac, sizeof(l->mac)) == sizeof(l->mac);
	col_text(st, 6, l->hostname, sizeof(l->hostname));
	l->cltt = sqlite3_column_int64(st, 7);
	l->preferred = sqlite3_column_int64(st, 8);
	l->expires = sqlite3_column_int64(st, 9);
	l->state = (enum ib_lease_state)sqlite3_column_int(st, 10);
}

/* Steps a single-row lease query into ret; -ENOENT when no row. */
static int fetch_lease6(sqlite3_stmt *st, struct ib_lease6 *ret)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		row_to_lease6(st, ret);
	done(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static bool duid_valid(const uint8_t *duid, uint8_t duid_len)
{
	return duid && duid_len >= 1 && duid_len <= IB_DUID_MAX;
}

/* Caps what the schema's CHECKs would refuse, and an unterminated name. */
static bool lease6_valid(const struct ib_lease6 *l)
{
	return duid_valid(l->duid, l->duid_len) && l->prefix_len <= 128 &&
	       memchr(l->hostname, '\0', sizeof(l->hostname)) != NULL;
}

/* Looks up a lease by address: see store_sqlite_int.h. */
int ib_ss_lease6_get(struct ib_store *s, const uint8_t address[16],
		     struct ib_lease6 *ret)
{
	sqlite3_stmt *st = to_ss(s)->st6[ST6_GET];

	if (!address)
		return -EINVAL;
	sqlite3_bind_blob(st, 1, address, 16, SQLITE_STATIC);
	return fetch_lease6(st, ret);
}

/* Finds an IA's newest lease: see store_sqlite_int.h. */
int ib_ss_lease6_find_client(struct ib_store *s, const uint8_t *duid,
			     uint8_t duid_len, uint32_t iaid,
			     struct ib_lease6 *ret)
{
	sqlite3_stmt *st = to_ss(s)->st6[ST6_FIND];

	if (!duid_valid(duid, duid_len))
		return -EINVAL;
	sqlite3_bind_blob(st, 1, duid, duid_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, iaid);
	return fetch_lease6(st, ret);
}

/* Binds ?1..?11 of the upsert from l (state is always ACTIVE). */
static void bind_upsert6(sqlite3_stmt *st, const struct ib_lease6 *l, int64_t now)
{
	sqlite3_bind_blob(st, 1, l->address, sizeof(l->address), SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, l->subnet, sizeof(l->subnet), SQLITE_STATIC);
	sqlite3_bind_int(st, 3, l->prefix_len);
	sqlite3_bind_blob(st, 4, l->duid, l->duid_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, l->iaid);
	if (l->has_mac)
		sqlite3_bind_blob(st, 6, l->mac, sizeof(l->mac), SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	sqlite3_bind_text(st, 7, l->hostname, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, l->cltt);
	sqlite3_bind_int64(st, 9, l->preferred);
	sqlite3_bind_int64(st, 10, l->expires);
	sqlite3_bind_int64(st, 11, now);
}

/* Releases the IA's other ACTIVE leases in l's subnet. */
static int end_other_leases6(struct store_sqlite *ss, const struct ib_lease6 *l)
{
	sqlite3_stmt *st = ss->st6[ST6_END_OTHERS];

	sqlite3_bind_blob(st, 1, l->duid, l->duid_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, l->iaid);
	sqlite3_bind_blob(st, 3, l->subnet, sizeof(l->subnet), SQLITE_STATIC);
	sqlite3_bind_int(st, 4, l->prefix_len);
	sqlite3_bind_blob(st, 5, l->address, sizeof(l->address), SQLITE_STATIC);
	return run(st);
}

/* Commits a lease if its address is free: see store_sqlite_int.h. */
int ib_ss_lease6_commit(struct ib_store *s, const struct ib_lease6 *l,
			int64_t now)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st6[ST6_UPSERT];
	bool outer;
	int r;

	if (!lease6_valid(l))
		return -EINVAL;
	r = ib_ss_scope_open(ss, &outer);
	if (r < 0)
		return r;
	bind_upsert6(st, l, now);
	r = run(st);
	if (r == 0 && sqlite3_changes(ss->db) == 0)
		r = -EEXIST;		/* held by another IA: unchanged */
	if (r == 0)
		r = end_other_leases6(ss, l);
	return ib_ss_scope_close(ss, outer, r);
}

/* Sets a lease's state and expiry: see store_sqlite_int.h. */
int ib_ss_lease6_set_state(struct ib_store *s, const uint8_t address[16],
			   enum ib_lease_state state, int64_t expires)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st6[ST6_SET_STATE];
	int r;

	if (!address || state < IB_LEASE_ACTIVE || state > IB_LEASE_DECLINED)
		return -EINVAL;
	sqlite3_bind_blob(st, 1, address, 16, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)state);
	sqlite3_bind_int64(st, 3, expires);
	r = run(st);
	if (r == 0 && sqlite3_changes(ss->db) == 0)
		r = -ENOENT;
	return r;
}

/* Walks every lease in address order: see store_sqlite_int.h. */
int ib_ss_lease6_foreach(struct ib_store *s,
			 int (*cb)(const struct ib_lease6 *l, void *ctx),
			 void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st6[ST6_ALL];
	struct ib_lease6 l;
	int rc, r = 0;

	if (ss->in_lease6_walk)
		return -EBUSY;
	ss->in_lease6_walk = true;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_to_lease6(st, &l);
		r = cb(&l, ctx);
		if (r != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	done(st);
	ss->in_lease6_walk = false;
	return r;
}

/*
 * Loads up to RECLAIM_BATCH due leases into ss->due6.  The statement is
 * reset before the callbacks run, so they may use the store freely.
 */
static int load_due6(struct store_sqlite *ss, int64_t now, size_t *ret_n)
{
	sqlite3_stmt *st = ss->st6[ST6_DUE];
	size_t n = 0;
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int(st, 2, RECLAIM_BATCH);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < RECLAIM_BATCH)
		row_to_lease6(st, &ss->due6[n++]);
	done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -EIO;
	*ret_n = n;
	return 0;
}

/* One round: cb then expire each loaded lease; counts rows changed. */
static int expire_due6(struct store_sqlite *ss, size_t n, int64_t now,
		       int (*cb)(const struct ib_lease6 *l, void *ctx),
		       void *ctx, size_t *ret_changed)
{
	sqlite3_stmt *st = ss->st6[ST6_EXPIRE];
	size_t changed = 0;
	int r;

	for (size_t i = 0; i < n; i++) {
		r = cb ? cb(&ss->due6[i], ctx) : 0;
		if (r != 0)
			return r;
		sqlite3_bind_blob(st, 1, ss->due6[i].address,
				  sizeof(ss->due6[i].address), SQLITE_STATIC);
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
 * Expires due leases: see store_sqlite_int.h.  All or nothing, as for
 * leases4: one scope, undone if a callback returns < 0 or a write fails;
 * a callback returning > 0 stops early and keeps what was done.
 */
int ib_ss_lease6_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease6 *l, void *ctx),
			 void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	size_t n, changed;
	bool outer;
	int r;

	if (ss->in_reclaim6)
		return -EBUSY;
	r = ib_ss_scope_open(ss, &outer);
	if (r < 0)
		return r;
	ss->in_reclaim6 = true;
	do {
		r = load_due6(ss, now, &n);
		if (r == 0)
			r = expire_due6(ss, n, now, cb, ctx, &changed);
		/* stop on a full round that changed nothing (a callback kept
		 * re-arming its lease in the past): no endless loop */
	} while (r == 0 && n == RECLAIM_BATCH && changed > 0);
	ss->in_reclaim6 = false;
	return ib_ss_scope_close(ss, outer, r);
}
