/*
 * The PostgreSQL store's leases, IPv4 (leases4) and IPv6 (leases6): the
 * lease*_* operations of struct ib_store_ops.  As in store_sqlite_lease.c,
 * one get, one conditional commit, one walk, one count and one reclaim
 * serve both families through a small table of what differs (struct fam).
 * The SQL the two backends share is store_sql.h's; here is only what
 * PostgreSQL is told its own way (the planner's "+ 0", LEAST(), paged
 * walks).
 *
 * The database arbitrates conflicts, not our memory: the commit is an
 * INSERT ... ON CONFLICT (address) DO UPDATE ... WHERE <the address is
 * free or the same client's>, and a row count of 0 means another client
 * holds it (-EEXIST).  Under concurrent writers PostgreSQL locks the
 * conflicting row and re-checks the WHERE on its newest version, so of
 * two daemons offering one address only one commit changes a row.
 *
 * Walks page through the table by key (WALK_PAGE rows a query), so a
 * large table never sits whole in memory and callbacks may use the store.
 */
#include "store/store_pg_int.h"
#include "store/store_sql.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WALK_PAGE 512

#define COLS4 IB_SQL_COLS4
#define COLS6 IB_SQL_COLS6
#define P IB_SQL_PG

/* $1 first $2 last $3 now (store_sqlite_int.h's IB_SS_SQL_COUNT) */
#define SQL_COUNT(t) "SELECT state, count(*) FROM " t \
	" WHERE address BETWEEN $1 AND $2 AND expires > $3 AND state IN (1, 4)" \
	" GROUP BY state"

enum stmt_id {
	L4_GET, L4_FIND_CID, L4_FIND_HW, L4_UPSERT, L4_END_CID, L4_END_HW,
	L4_SET_STATE, L4_RANGE, L4_DUE, L4_EXPIRE, L4_COUNT,
	L6_GET, L6_FIND, L6_UPSERT, L6_END, L6_SET_STATE, L6_ALL, L6_DUE,
	L6_EXPIRE, L6_COUNT,
	L__MAX
};

static const char *const stmt_sql[L__MAX] = {
	[L4_GET] = IB_SQL_GET(P, "leases4", COLS4),
	[L4_FIND_CID] = IB_SQL_FIND4_CID(P),
	[L4_FIND_HW] = IB_SQL_FIND4_HW(P),
	[L4_UPSERT] = IB_SQL_UPSERT4(P),	/* the conditional write */
	[L4_END_CID] = IB_PG_SQL_END4_CID,
	[L4_END_HW] = IB_PG_SQL_END4_HW,
	[L4_SET_STATE] = IB_SQL_SET_STATE4(P),
	[L4_RANGE] = "SELECT " COLS4 " FROM leases4"
		" WHERE address BETWEEN $1 AND $2 ORDER BY address LIMIT $3",
	[L4_DUE] = IB_SQL_DUE(P, "leases4", COLS4),
	[L4_EXPIRE] = IB_SQL_EXPIRE(P, "leases4"),
	[L4_COUNT] = SQL_COUNT("leases4"),
	[L6_GET] = IB_SQL_GET(P, "leases6", COLS6),
	[L6_FIND] = IB_SQL_FIND6(P),
	[L6_UPSERT] = IB_SQL_UPSERT6(P),	/* the conditional write */
	[L6_END] = "UPDATE leases6 SET state = 2"
		" WHERE duid = $1 AND iaid = $2 AND subnet = $3"
		" AND prefix_len = $4 AND address <> $5 AND state = 1",
	/* RFC 8415 21.6: preferred never beyond valid */
	[L6_SET_STATE] = "UPDATE leases6 SET state = $2, expires = $3,"
		" preferred = LEAST(preferred, $3) WHERE address = $1",
	/* bytea sorts bytewise: numerical address order; '' before all */
	[L6_ALL] = "SELECT " COLS6 " FROM leases6 WHERE address > $1"
		" ORDER BY address LIMIT $2",
	[L6_DUE] = IB_SQL_DUE(P, "leases6", COLS6),
	[L6_EXPIRE] = IB_SQL_EXPIRE(P, "leases6"),
	[L6_COUNT] = SQL_COUNT("leases6"),
};

const struct ib_pg_stmts ib_pg_lease_stmts = { "l", stmt_sql, L__MAX };

/* What differs between the two lease tables. */
struct fam {
	size_t size;			/* sizeof the lease struct */
	size_t addr_off;		/* offsetof(lease, address) */
	int get, upsert, set_state, due, expire, count; /* statements */
	/* reads row i of res (the family's columns) into lease */
	void (*row)(const PGresult *res, int i, void *lease);
	/* appends the address addr points at */
	void (*p_addr)(struct ib_pg_params *p, const void *addr);
	/* appends the upsert's parameters but the last (now) */
	void (*p_upsert)(struct ib_pg_params *p, const void *lease);
	/* appends the parameters that end lease's client's others and
	 * returns that statement */
	int (*p_end)(struct ib_pg_params *p, const void *lease);
};

/* Any lease, for a row on the stack. */
union any_lease {
	struct ib_lease4 l4;
	struct ib_lease6 l6;
};

/* ---- IPv4 ---- */

static void row4(const PGresult *res, int i, void *lease)
{
	struct ib_lease4 *l = lease;

	memset(l, 0, sizeof(*l));
	l->address = (uint32_t)ib_pg_int(res, i, 0);
	l->subnet = (uint32_t)ib_pg_int(res, i, 1);
	l->htype = (uint8_t)ib_pg_int(res, i, 2);
	l->hw_len = (uint8_t)ib_pg_blob(res, i, 3, l->hwaddr, sizeof(l->hwaddr));
	l->client_id_len = (uint8_t)ib_pg_blob(res, i, 4, l->client_id,
					       sizeof(l->client_id));
	ib_pg_text(res, i, 5, l->hostname, sizeof(l->hostname));
	l->cltt = ib_pg_int(res, i, 6);
	l->expires = ib_pg_int(res, i, 7);
	l->state = (enum ib_lease_state)ib_pg_int(res, i, 8);
}

static void p_addr4(struct ib_pg_params *p, const void *addr)
{
	uint32_t a;

	memcpy(&a, addr, sizeof(a));
	ib_pg_p_int(p, a);
}

static void p_upsert4(struct ib_pg_params *p, const void *lease)
{
	const struct ib_lease4 *l = lease;

	ib_pg_p_int(p, l->address);
	ib_pg_p_int(p, l->subnet);
	ib_pg_p_int(p, l->htype);
	ib_pg_p_blob(p, l->hwaddr, l->hw_len);
	if (l->client_id_len > 0)
		ib_pg_p_blob(p, l->client_id, l->client_id_len);
	else
		ib_pg_p_null(p);
	ib_pg_p_text(p, l->hostname);
	ib_pg_p_int(p, l->cltt);
	ib_pg_p_int(p, l->expires);
}

static int p_end4(struct ib_pg_params *p, const void *lease)
{
	const struct ib_lease4 *l = lease;

	if (l->client_id_len > 0)
		ib_pg_p_blob(p, l->client_id, l->client_id_len);
	else
		ib_pg_p_blob(p, l->hwaddr, l->hw_len);
	ib_pg_p_int(p, l->subnet);
	ib_pg_p_int(p, l->address);
	if (l->client_id_len > 0)
		return L4_END_CID;
	ib_pg_p_int(p, l->htype);
	return L4_END_HW;
}

static const struct fam fam4 = {
	.size = sizeof(struct ib_lease4), .addr_off = offsetof(struct ib_lease4, address),
	.get = L4_GET, .upsert = L4_UPSERT, .set_state = L4_SET_STATE, .due = L4_DUE,
	.expire = L4_EXPIRE, .count = L4_COUNT, .row = row4, .p_addr = p_addr4,
	.p_upsert = p_upsert4, .p_end = p_end4,
};

/* ---- IPv6 ---- */

static void row6(const PGresult *res, int i, void *lease)
{
	struct ib_lease6 *l = lease;

	memset(l, 0, sizeof(*l));
	ib_pg_blob(res, i, 0, l->address, sizeof(l->address));
	ib_pg_blob(res, i, 1, l->subnet, sizeof(l->subnet));
	l->prefix_len = (uint8_t)ib_pg_int(res, i, 2);
	l->duid_len = (uint8_t)ib_pg_blob(res, i, 3, l->duid, sizeof(l->duid));
	l->iaid = (uint32_t)ib_pg_int(res, i, 4);
	/* NULL = unknown; anything but 6 bytes too */
	l->has_mac = ib_pg_blob(res, i, 5, l->mac, sizeof(l->mac)) == sizeof(l->mac);
	ib_pg_text(res, i, 6, l->hostname, sizeof(l->hostname));
	l->cltt = ib_pg_int(res, i, 7);
	l->preferred = ib_pg_int(res, i, 8);
	l->expires = ib_pg_int(res, i, 9);
	l->state = (enum ib_lease_state)ib_pg_int(res, i, 10);
}

static void p_addr6(struct ib_pg_params *p, const void *addr)
{
	ib_pg_p_blob(p, addr, 16);
}

static void p_upsert6(struct ib_pg_params *p, const void *lease)
{
	const struct ib_lease6 *l = lease;

	ib_pg_p_blob(p, l->address, sizeof(l->address));
	ib_pg_p_blob(p, l->subnet, sizeof(l->subnet));
	ib_pg_p_int(p, l->prefix_len);
	ib_pg_p_blob(p, l->duid, l->duid_len);
	ib_pg_p_int(p, l->iaid);
	if (l->has_mac)
		ib_pg_p_blob(p, l->mac, sizeof(l->mac));
	else
		ib_pg_p_null(p);
	ib_pg_p_text(p, l->hostname);
	ib_pg_p_int(p, l->cltt);
	ib_pg_p_int(p, l->preferred);
	ib_pg_p_int(p, l->expires);
}

static int p_end6(struct ib_pg_params *p, const void *lease)
{
	const struct ib_lease6 *l = lease;

	ib_pg_p_blob(p, l->duid, l->duid_len);
	ib_pg_p_int(p, l->iaid);
	ib_pg_p_blob(p, l->subnet, sizeof(l->subnet));
	ib_pg_p_int(p, l->prefix_len);
	ib_pg_p_blob(p, l->address, sizeof(l->address));
	return L6_END;
}

static const struct fam fam6 = {
	.size = sizeof(struct ib_lease6), .addr_off = offsetof(struct ib_lease6, address),
	.get = L6_GET, .upsert = L6_UPSERT, .set_state = L6_SET_STATE, .due = L6_DUE,
	.expire = L6_EXPIRE, .count = L6_COUNT, .row = row6, .p_addr = p_addr6,
	.p_upsert = p_upsert6, .p_end = p_end6,
};

/* ---- shared by both families ---- */

/* Runs a single-row lease query into ret; -ENOENT when no row. */
static int fetch(struct store_pg *pg, const struct fam *f, int idx,
		 const struct ib_pg_params *p, void *ret)
{
	int r;
	PGresult *res = ib_pg_exec(pg, IB_PG_T_LEASE, idx, p, &r);

	if (!res)
		return r;
	if (PQntuples(res) == 0)
		r = -ENOENT;
	else
		f->row(res, 0, ret);
	PQclear(res);
	return r;
}

static int lease_get(struct store_pg *pg, const struct fam *f, const void *addr, void *ret)
{
	struct ib_pg_params p = { .n = 0 };

	f->p_addr(&p, addr);
	return fetch(pg, f, f->get, &p, ret);
}

/*
 * The conditional write, then the end of the client's others; atomic.
 * Inside the caller's transaction no savepoint is needed: an upsert that
 * loses changes nothing, and a failed statement aborts the caller's whole
 * transaction (its commit fails), so nothing half-done is ever kept.
 */
static int lease_commit(struct store_pg *pg, const struct fam *f, const void *lease,
			int64_t now)
{
	struct ib_pg_params p = { .n = 0 };
	bool outer = !ib_pg_in_tx(pg);
	uint64_t changed = 0;
	int r = 0, end;

	if (outer && (r = ib_pg_scope_open(pg, &outer)) < 0)
		return r;
	f->p_upsert(&p, lease);
	ib_pg_p_int(&p, now);
	r = ib_pg_run(pg, IB_PG_T_LEASE, f->upsert, &p, &changed);
	if (r == 0 && changed == 0)
		r = -EEXIST;		/* held by another client: unchanged */
	if (r == 0) {
		p.n = 0;
		end = f->p_end(&p, lease);
		r = ib_pg_run(pg, IB_PG_T_LEASE, end, &p, NULL);
	}
	return outer ? ib_pg_scope_close(pg, true, r) : r;
}

static int lease_set_state(struct store_pg *pg, const struct fam *f, const void *addr,
			   enum ib_lease_state state, int64_t expires)
{
	struct ib_pg_params p = { .n = 0 };
	uint64_t changed = 0;
	int r;

	if (!addr || state < IB_LEASE_ACTIVE || state > IB_LEASE_DECLINED)
		return -EINVAL;
	f->p_addr(&p, addr);
	ib_pg_p_int(&p, state);
	ib_pg_p_int(&p, expires);
	r = ib_pg_run(pg, IB_PG_T_LEASE, f->set_state, &p, &changed);
	return r == 0 && changed == 0 ? -ENOENT : r;
}

/* Calls the caller's typed callback (either may be NULL). */
static int call(int (*cb4)(const struct ib_lease4 *, void *),
		int (*cb6)(const struct ib_lease6 *, void *), const void *l, void *ctx)
{
	if (cb4)
		return cb4(l, ctx);
	return cb6 ? cb6(l, ctx) : 0;
}

static int lease_count(struct store_pg *pg, const struct fam *f, const void *first,
		       const void *last, int64_t now, struct ib_lease_count *ret)
{
	struct ib_pg_params p = { .n = 0 };
	struct ib_lease_count c = { 0 };
	PGresult *res;
	int r;

	f->p_addr(&p, first);
	f->p_addr(&p, last);
	ib_pg_p_int(&p, now);
	res = ib_pg_exec(pg, IB_PG_T_LEASE, f->count, &p, &r);
	if (!res)
		return r;
	for (int i = 0; i < PQntuples(res); i++) {
		uint64_t n = (uint64_t)ib_pg_int(res, i, 1);

		if (ib_pg_int(res, i, 0) == IB_LEASE_ACTIVE)
			c.active = n;
		else
			c.declined = n;
	}
	PQclear(res);
	*ret = c;
	return 0;
}

/* A reclaim's one round: loads due leases, calls cb and expires each. */
static int reclaim_round(struct store_pg *pg, const struct fam *f, int64_t now,
			 int (*cb4)(const struct ib_lease4 *, void *),
			 int (*cb6)(const struct ib_lease6 *, void *), void *ctx,
			 size_t *ret_n, uint64_t *ret_changed)
{
	struct ib_pg_params p = { .n = 0 };
	union any_lease l;
	uint64_t changed = 0, c = 0;
	PGresult *res;
	int r = 0, n;

	ib_pg_p_int(&p, now);
	ib_pg_p_int(&p, IB_PG_RECLAIM_BATCH);
	res = ib_pg_exec(pg, IB_PG_T_LEASE, f->due, &p, &r);
	if (!res)
		return r;
	n = PQntuples(res);
	for (int i = 0; r == 0 && i < n; i++) {
		f->row(res, i, &l);
		r = call(cb4, cb6, &l, ctx);
		if (r != 0)
			break;
		p.n = 0;
		f->p_addr(&p, (const uint8_t *)&l + f->addr_off);
		ib_pg_p_int(&p, now);
		r = ib_pg_run(pg, IB_PG_T_LEASE, f->expire, &p, &c);
		changed += c;
	}
	PQclear(res);
	*ret_n = (size_t)n;
	*ret_changed = changed;
	return r;
}

/* Expires due leases, all or nothing (store.h's lease6_reclaim rules). */
static int lease_reclaim(struct store_pg *pg, const struct fam *f, int64_t now,
			 int (*cb4)(const struct ib_lease4 *, void *),
			 int (*cb6)(const struct ib_lease6 *, void *), void *ctx)
{
	size_t n = 0;
	uint64_t changed = 0;
	bool outer;
	int r;

	if (pg->in_reclaim)
		return -EBUSY;
	if ((r = ib_pg_scope_open(pg, &outer)) < 0)
		return r;
	pg->in_reclaim = true;
	do {
		r = reclaim_round(pg, f, now, cb4, cb6, ctx, &n, &changed);
		/* a full round that changed nothing ends it: no endless loop */
	} while (r == 0 && n == IB_PG_RECLAIM_BATCH && changed > 0);
	pg->in_reclaim = false;
	return ib_pg_scope_close(pg, outer, r);
}

/* ---- IPv4 operations ---- */

int ib_pg_lease4_get(struct ib_store *s, uint32_t address, struct ib_lease4 *ret)
{
	return lease_get(to_pg(s), &fam4, &address, ret);
}

int ib_pg_lease4_find_client(struct ib_store *s, const uint8_t *hwaddr, uint8_t hw_len,
			     const uint8_t *client_id, uint8_t client_id_len,
			     struct ib_lease4 *ret)
{
	struct ib_pg_params p = { .n = 0 };

	if (client_id && client_id_len > 0) {
		ib_pg_p_blob(&p, client_id, client_id_len);
		return fetch(to_pg(s), &fam4, L4_FIND_CID, &p, ret);
	}
	if (!hwaddr || hw_len == 0 || hw_len > IB_HWADDR_MAX)
		return -EINVAL;
	ib_pg_p_blob(&p, hwaddr, hw_len);
	return fetch(to_pg(s), &fam4, L4_FIND_HW, &p, ret);
}

int ib_pg_lease4_commit(struct ib_store *s, const struct ib_lease4 *l, int64_t now)
{
	if (l->hw_len > IB_HWADDR_MAX || !memchr(l->hostname, '\0', sizeof(l->hostname)))
		return -EINVAL;
	return lease_commit(to_pg(s), &fam4, l, now);
}

int ib_pg_lease4_set_state(struct ib_store *s, uint32_t address,
			   enum ib_lease_state state, int64_t expires)
{
	return lease_set_state(to_pg(s), &fam4, &address, state, expires);
}

int ib_pg_lease4_foreach(struct ib_store *s, uint32_t first, uint32_t last,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx)
{
	struct store_pg *pg = to_pg(s);
	int64_t from = first;
	int r = 0, n;

	if (pg->in_walk4)
		return -EBUSY;
	pg->in_walk4 = true;
	do {
		struct ib_pg_params p = { .n = 0 };
		PGresult *res;
		struct ib_lease4 l;

		ib_pg_p_int(&p, from);
		ib_pg_p_int(&p, last);
		ib_pg_p_int(&p, WALK_PAGE);
		res = ib_pg_exec(pg, IB_PG_T_LEASE, L4_RANGE, &p, &r);
		n = res ? PQntuples(res) : 0;
		for (int i = 0; r == 0 && i < n; i++) {
			row4(res, i, &l);
			from = (int64_t)l.address + 1;
			r = cb(&l, ctx);
		}
		PQclear(res);
	} while (r == 0 && n == WALK_PAGE);
	pg->in_walk4 = false;
	return r;
}

int ib_pg_lease4_count(struct ib_store *s, uint32_t first, uint32_t last, int64_t now,
		       struct ib_lease_count *ret)
{
	return lease_count(to_pg(s), &fam4, &first, &last, now, ret);
}

int ib_pg_lease4_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease4 *l, void *ctx), void *ctx)
{
	return lease_reclaim(to_pg(s), &fam4, now, cb, NULL, ctx);
}

/* ---- IPv6 operations ---- */

static bool duid_valid(const uint8_t *duid, uint8_t duid_len)
{
	return duid && duid_len >= 1 && duid_len <= IB_DUID_MAX;
}

int ib_pg_lease6_get(struct ib_store *s, const uint8_t address[16], struct ib_lease6 *ret)
{
	if (!address)
		return -EINVAL;
	return lease_get(to_pg(s), &fam6, address, ret);
}

int ib_pg_lease6_find_client(struct ib_store *s, const uint8_t *duid, uint8_t duid_len,
			     uint32_t iaid, struct ib_lease6 *ret)
{
	struct ib_pg_params p = { .n = 0 };

	if (!duid_valid(duid, duid_len))
		return -EINVAL;
	ib_pg_p_blob(&p, duid, duid_len);
	ib_pg_p_int(&p, iaid);
	return fetch(to_pg(s), &fam6, L6_FIND, &p, ret);
}

int ib_pg_lease6_commit(struct ib_store *s, const struct ib_lease6 *l, int64_t now)
{
	if (!duid_valid(l->duid, l->duid_len) || l->prefix_len > 128 ||
	    !memchr(l->hostname, '\0', sizeof(l->hostname)))
		return -EINVAL;
	return lease_commit(to_pg(s), &fam6, l, now);
}

int ib_pg_lease6_set_state(struct ib_store *s, const uint8_t address[16],
			   enum ib_lease_state state, int64_t expires)
{
	return lease_set_state(to_pg(s), &fam6, address, state, expires);
}

int ib_pg_lease6_foreach(struct ib_store *s,
			 int (*cb)(const struct ib_lease6 *l, void *ctx), void *ctx)
{
	struct store_pg *pg = to_pg(s);
	uint8_t from[16];
	size_t from_len = 0;	/* '': before every address */
	int r = 0, n;

	if (pg->in_walk6)
		return -EBUSY;
	pg->in_walk6 = true;
	do {
		struct ib_pg_params p = { .n = 0 };
		PGresult *res;
		struct ib_lease6 l;

		ib_pg_p_blob(&p, from, from_len);
		ib_pg_p_int(&p, WALK_PAGE);
		res = ib_pg_exec(pg, IB_PG_T_LEASE, L6_ALL, &p, &r);
		n = res ? PQntuples(res) : 0;
		for (int i = 0; r == 0 && i < n; i++) {
			row6(res, i, &l);
			memcpy(from, l.address, sizeof(from));
			from_len = sizeof(from);
			r = cb(&l, ctx);
		}
		PQclear(res);
	} while (r == 0 && n == WALK_PAGE);
	pg->in_walk6 = false;
	return r;
}

int ib_pg_lease6_count(struct ib_store *s, const uint8_t first[16], const uint8_t last[16],
		       int64_t now, struct ib_lease_count *ret)
{
	return lease_count(to_pg(s), &fam6, first, last, now, ret);
}

int ib_pg_lease6_reclaim(struct ib_store *s, int64_t now,
			 int (*cb)(const struct ib_lease6 *l, void *ctx), void *ctx)
{
	return lease_reclaim(to_pg(s), &fam6, now, NULL, cb, ctx);
}
