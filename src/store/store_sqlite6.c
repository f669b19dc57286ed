/*
 * The SQLite store's IPv6 leases (DHCPv6 IA_NA addresses, RFC 8415): the
 * lease6_* operations of struct ib_store_ops over the leases6 table
 * (migration step 4).  Same rules as store_sqlite.c: statements prepared
 * once at open from ib_ss_stmt6_sql[], values bound, every statement reset
 * before an operation returns, multi-statement writes atomic in a scope.
 * What is IPv6's own lives here (SQL, row codec, checks); the get,
 * commit, walk and reclaim are store_sqlite_lease.c's, shared with IPv4.
 *
 * A lease belongs to one IA: the client's DUID plus the IAID of its IA_NA
 * (RFC 8415 12: an IAID names an IA within its client).  DUIDs are opaque
 * and only compared for equality, as bytes (RFC 8415 11).
 */
#include "store/store_sqlite_int.h"
#include "store/store_sql.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#define LEASE6_COLS IB_SQL_COLS6	/* read by row6(), bound by bind_upsert6() */
#define P IB_SQL_SQLITE

/* See store_sqlite_int.h; indexed by enum stmt6_id. */
const char *const ib_ss_stmt6_sql[ST6__MAX] = {
	[ST6_GET] = IB_SQL_GET(P, "leases6", LEASE6_COLS),
	[ST6_FIND] = IB_SQL_FIND6(P),
	[ST6_UPSERT] = IB_SQL_UPSERT6(P),	/* the conditional write */
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
	[ST6_DUE] = IB_SQL_DUE(P, "leases6", LEASE6_COLS),
	[ST6_EXPIRE] = IB_SQL_EXPIRE(P, "leases6"),
	[ST6_COUNT] = IB_SS_SQL_COUNT("leases6"),
};

static void row6(sqlite3_stmt *st, void *lease)
{
	struct ib_lease6 *l = lease;

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

static void bind_addr6(sqlite3_stmt *st, int idx, const void *addr)
{
	sqlite3_bind_blob(st, idx, addr, 16, SQLITE_STATIC);
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

/* Binds ?1..?11 of the upsert from l (state is always ACTIVE). */
static void bind_upsert6(sqlite3_stmt *st, const void *lease, int64_t now)
{
	const struct ib_lease6 *l = lease;

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

/* The IA's other ACTIVE leases in l's subnet. */
static sqlite3_stmt *bind_end6(sqlite3_stmt *const *sts, const void *lease)
{
	const struct ib_lease6 *l = lease;
	sqlite3_stmt *st = sts[ST6_END_OTHERS];

	sqlite3_bind_blob(st, 1, l->duid, l->duid_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, l->iaid);
	sqlite3_bind_blob(st, 3, l->subnet, sizeof(l->subnet), SQLITE_STATIC);
	sqlite3_bind_int(st, 4, l->prefix_len);
	sqlite3_bind_blob(st, 5, l->address, sizeof(l->address), SQLITE_STATIC);
	return st;
}

/* See store_sqlite_int.h. */
const struct ib_ss_family_ops ib_ss_family6 = IB_SS_FAMILY_OPS(6);

/* Looks up a lease by address: see store_sqlite_int.h. */
int ib_ss_lease6_get(struct ib_store *s, const uint8_t address[16],
		     struct ib_lease6 *ret)
{
	if (!address)
		return -EINVAL;
	return ib_ss_lease_get(&to_ss(s)->f6, address, ret);
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
	return ib_ss_lease_fetch(&to_ss(s)->f6, st, ret);
}

/* Commits a lease if its address is free: see store_sqlite_int.h. */
int ib_ss_lease6_commit(struct ib_store *s, const struct ib_lease6 *l,
			int64_t now)
{
	if (!lease6_valid(l))
		return -EINVAL;
	return ib_ss_lease_commit(to_ss(s), &to_ss(s)->f6, l, now);
}

/* Sets a lease's state and expiry: see store_sqlite_int.h. */
int ib_ss_lease6_set_state(struct ib_store *s, const uint8_t address[16],
			   enum ib_lease_state state, int64_t expires)
{
	return ib_ss_lease_set_state(to_ss(s), &to_ss(s)->f6, address, state, expires);
}

/* Walks every lease in address order: see store_sqlite_int.h. */
int ib_ss_lease6_foreach(struct ib_store *s,
			 int (*cb)(const struct ib_lease6 *l, void *ctx),
			 void *ctx)
{
	struct ib_ss_lease_cb c = { .cb6 = cb, .ctx = ctx };

	return ib_ss_lease_walk(&to_ss(s)->f6, to_ss(s)->st6[ST6_ALL], &c);
}

/* Counts a range's unexpired leases: see store.h. */
int ib_ss_lease6_count(struct ib_store *s, const uint8_t first[16],
		       const uint8_t last[16], int64_t now, struct ib_lease_count *ret)
{
	return ib_ss_lease_count(&to_ss(s)->f6, first, last, now, ret);
}

/* Expires due leases: see store_sqlite_int.h. */
int ib_ss_lease6_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease6 *l, void *ctx),
			 void *ctx)
{
	struct ib_ss_lease_cb c = { .cb6 = cb, .ctx = ctx };

	return ib_ss_lease_reclaim(to_ss(s), &to_ss(s)->f6, now, &c);
}
