/*
 * The SQLite store's IPv4 leases: the lease4_* operations of struct
 * ib_store_ops over the leases4 table.  What is IPv4's own lives here
 * (its SQL, its row codec, "same client" by client-id or hardware
 * address); the get, commit, walk and reclaim are store_sqlite_lease.c's,
 * shared with IPv6.
 */
#include "store/store_sqlite_int.h"
#include "store/store_sql.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#define LEASE_COLS IB_SQL_COLS4	/* read by row4(), bound by bind_upsert4() */
#define P IB_SQL_SQLITE

/* See store_sqlite_int.h; indexed by enum stmt4_id. */
const char *const ib_ss_stmt4_sql[ST4__MAX] = {
	[ST4_GET] = IB_SQL_GET(P, "leases4", LEASE_COLS),
	[ST4_FIND_CID] = IB_SQL_FIND4_CID(P),
	[ST4_FIND_HW] = IB_SQL_FIND4_HW(P),
	[ST4_UPSERT] = IB_SQL_UPSERT4(P),	/* the conditional write */
	/*
	 * One address per client and subnet: end the client's others.  The
	 * unary + keeps the planner off leases4_state_expires (a walk over
	 * every active lease, on each commit) and on the client's index.
	 */
	[ST4_END_CID] = "UPDATE leases4 SET state = 2"
		" WHERE client_id = ?1 AND subnet = ?2 AND address <> ?3"
		" AND +state = 1",
	[ST4_END_HW] = "UPDATE leases4 SET state = 2"
		" WHERE hwaddr = ?1 AND subnet = ?2 AND address <> ?3"
		" AND htype = ?4 AND client_id IS NULL AND +state = 1",
	[ST4_SET_STATE] = IB_SQL_SET_STATE4(P),
	[ST4_RANGE] = "SELECT " LEASE_COLS " FROM leases4"
		" WHERE address BETWEEN ?1 AND ?2 ORDER BY address",
	[ST4_DUE] = IB_SQL_DUE(P, "leases4", LEASE_COLS),
	[ST4_EXPIRE] = IB_SQL_EXPIRE(P, "leases4"),
	[ST4_COUNT] = IB_SS_SQL_COUNT("leases4"),
};

static void row4(sqlite3_stmt *st, void *lease)
{
	struct ib_lease4 *l = lease;

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

static void bind_addr4(sqlite3_stmt *st, int idx, const void *addr)
{
	uint32_t a;

	memcpy(&a, addr, sizeof(a));
	sqlite3_bind_int64(st, idx, a);
}

/* Binds ?1..?9 of the upsert from l (state is always ACTIVE). */
static void bind_upsert4(sqlite3_stmt *st, const void *lease, int64_t now)
{
	const struct ib_lease4 *l = lease;

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

/* The client's other ACTIVE leases in l's subnet: by client-id or hwaddr. */
static sqlite3_stmt *bind_end4(sqlite3_stmt *const *sts, const void *lease)
{
	const struct ib_lease4 *l = lease;
	sqlite3_stmt *st;

	if (l->client_id_len > 0) {
		st = sts[ST4_END_CID];
		sqlite3_bind_blob(st, 1, l->client_id, l->client_id_len, SQLITE_STATIC);
	} else {
		st = sts[ST4_END_HW];
		sqlite3_bind_blob(st, 1, l->hwaddr, l->hw_len, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, l->htype);
	}
	sqlite3_bind_int64(st, 2, l->subnet);
	sqlite3_bind_int64(st, 3, l->address);
	return st;
}

/* See store_sqlite_int.h. */
const struct ib_ss_family_ops ib_ss_family4 = IB_SS_FAMILY_OPS(4);

/* Fetches by address: see store.h. */
int ib_ss_lease4_get(struct ib_store *s, uint32_t address, struct ib_lease4 *ret)
{
	return ib_ss_lease_get(&to_ss(s)->f4, &address, ret);
}

/* The client's newest lease: see store.h. */
int ib_ss_lease4_find_client(struct ib_store *s, const uint8_t *hwaddr,
			     uint8_t hw_len, const uint8_t *client_id,
			     uint8_t client_id_len, struct ib_lease4 *ret)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st;

	if (client_id && client_id_len > 0) {
		st = ss->st4[ST4_FIND_CID];
		sqlite3_bind_blob(st, 1, client_id, client_id_len, SQLITE_STATIC);
	} else {
		if (!hwaddr || hw_len == 0 || hw_len > IB_HWADDR_MAX)
			return -EINVAL;
		st = ss->st4[ST4_FIND_HW];
		sqlite3_bind_blob(st, 1, hwaddr, hw_len, SQLITE_STATIC);
	}
	return ib_ss_lease_fetch(&ss->f4, st, ret);
}

/* Commits l if its address is free: see store.h. */
int ib_ss_lease4_commit(struct ib_store *s, const struct ib_lease4 *l, int64_t now)
{
	if (l->hw_len > IB_HWADDR_MAX || !memchr(l->hostname, '\0', sizeof(l->hostname)))
		return -EINVAL;
	return ib_ss_lease_commit(to_ss(s), &to_ss(s)->f4, l, now);
}

/* Sets state and expiry: see store.h. */
int ib_ss_lease4_set_state(struct ib_store *s, uint32_t address,
			   enum ib_lease_state state, int64_t expires)
{
	return ib_ss_lease_set_state(to_ss(s), &to_ss(s)->f4, &address, state, expires);
}

/* Walks a range in address order: see store.h. */
int ib_ss_lease4_foreach(struct ib_store *s, uint32_t first, uint32_t last,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->st4[ST4_RANGE];
	struct ib_ss_lease_cb c = { .cb4 = cb, .ctx = ctx };

	if (ss->f4.in_walk)
		return -EBUSY;
	sqlite3_bind_int64(st, 1, first);
	sqlite3_bind_int64(st, 2, last);
	return ib_ss_lease_walk(&ss->f4, st, &c);
}

/* Counts a range's unexpired leases: see store.h. */
int ib_ss_lease4_count(struct ib_store *s, uint32_t first, uint32_t last, int64_t now,
		       struct ib_lease_count *ret)
{
	return ib_ss_lease_count(&to_ss(s)->f4, &first, &last, now, ret);
}

/* Expires due leases: see store.h. */
int ib_ss_lease4_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx)
{
	struct ib_ss_lease_cb c = { .cb4 = cb, .ctx = ctx };

	return ib_ss_lease_reclaim(to_ss(s), &to_ss(s)->f4, now, &c);
}
