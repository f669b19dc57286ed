/*
 * The PostgreSQL store's machine lifecycle rows, hardware reports and
 * power rows: the machine_* and power_* operations of struct
 * ib_store_ops, as store_sqlite_machines.c does them on SQLite.
 *
 * The store never judges a move (inventory/lifecycle.c does); it
 * guarantees that a write lands only on the row its writer read
 * (compare-and-set on state and version, the row count says which) and
 * that each write and its journal event are one transaction.  A NIC
 * already owned is found by ON CONFLICT DO NOTHING, not by a failed
 * INSERT: an error would abort the caller's whole transaction.
 */
#include "store/store_pg_int.h"
#include "store/store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MACHINE_COLS \
	"m.id, m.boot_mac, m.state, m.version, m.profile, m.fail_step," \
	" m.fail_reason, m.local_boots, m.report IS NOT NULL, m.created_us," \
	" m.updated_us, m.since_us"

enum stmt_id {
	M_GET,
	M_NICS,
	M_INSERT,
	M_NIC_INSERT,
	M_NIC_OWNER,
	M_NIC_COUNT,
	M_UPDATE,
	M_REPORT_PUT,
	M_REPORT_GET,
	M_ALL,
	M_POWER_PUT,
	M_POWER_GET,
	M__MAX
};

static const char *const stmt_sql[M__MAX] = {
	[M_GET] = "SELECT " MACHINE_COLS " FROM machine_nics n"
		" JOIN machines_state m ON m.id = n.machine_id WHERE n.mac = $1",
	[M_NICS] = "SELECT mac FROM machine_nics WHERE machine_id = $1"
		" ORDER BY added_us, mac LIMIT $2",
	[M_INSERT] = "INSERT INTO machines_state (boot_mac, state, version, profile,"
		" created_us, updated_us, since_us) VALUES ($1, $2, 1, $3, $4, $4, $4)"
		" RETURNING id",
	/* 0 rows when the NIC is any machine's */
	[M_NIC_INSERT] = "INSERT INTO machine_nics (mac, machine_id, added_us)"
		" VALUES ($1, $2, $3) ON CONFLICT (mac) DO NOTHING",
	[M_NIC_OWNER] = "SELECT machine_id FROM machine_nics WHERE mac = $1",
	[M_NIC_COUNT] = "SELECT count(*) FROM machine_nics WHERE machine_id = $1",
	/* the compare-and-set (store_sqlite_machines.c's STM_UPDATE) */
	[M_UPDATE] = "UPDATE machines_state SET state = $4, version = version + 1,"
		" profile = $5, fail_step = $6, fail_reason = $7, local_boots = $8,"
		" updated_us = $9,"
		" since_us = CASE WHEN state = $4 THEN since_us ELSE $9 END"
		" WHERE id = $1 AND state = $2 AND version = $3",
	[M_REPORT_PUT] = "UPDATE machines_state SET report = $2 WHERE id = $1",
	[M_REPORT_GET] = "SELECT report FROM machines_state WHERE id = $1",
	[M_ALL] = "SELECT " MACHINE_COLS " FROM machines_state m"
		" JOIN machine_nics n ON n.mac = m.boot_mac ORDER BY m.id",
	[M_POWER_PUT] = "INSERT INTO machine_power (mac, state, op, error, checked_us,"
		" changed_us) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (mac) DO UPDATE"
		" SET state = $2, op = $3, error = $4, checked_us = $5, changed_us = $6",
	[M_POWER_GET] = "SELECT state, op, error, checked_us, changed_us"
		" FROM machine_power WHERE mac = $1",
};

const struct ib_pg_stmts ib_pg_machine_stmts = { "n", stmt_sql, M__MAX };

static void row_to_machine(const PGresult *res, int i, struct ib_machine_state *m)
{
	memset(m, 0, sizeof(*m));
	m->id = ib_pg_int(res, i, 0);
	ib_pg_text(res, i, 1, m->mac, sizeof(m->mac));
	m->state = (int)ib_pg_int(res, i, 2);
	m->version = ib_pg_int(res, i, 3);
	ib_pg_text(res, i, 4, m->profile, sizeof(m->profile));
	ib_pg_text(res, i, 5, m->fail_step, sizeof(m->fail_step));
	ib_pg_text(res, i, 6, m->fail_reason, sizeof(m->fail_reason));
	m->local_boots = (uint32_t)ib_pg_int(res, i, 7);
	m->has_report = PQgetvalue(res, i, 8)[0] == 't';
	m->created_us = ib_pg_int(res, i, 9);
	m->updated_us = ib_pg_int(res, i, 10);
	m->since_us = ib_pg_int(res, i, 11);
}

/* Fills m->nics from machine_nics. */
static int load_nics(struct store_pg *pg, struct ib_machine_state *m)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	ib_pg_p_int(&p, m->id);
	ib_pg_p_int(&p, IB_MACHINE_NICS_MAX);
	res = ib_pg_exec(pg, IB_PG_T_MACHINE, M_NICS, &p, &r);
	if (!res)
		return r;
	m->n_nics = 0;
	for (int i = 0; i < PQntuples(res) && m->n_nics < IB_MACHINE_NICS_MAX; i++)
		ib_pg_text(res, i, 0, m->nics[m->n_nics++], IB_MACHINE_MAC_STRLEN);
	PQclear(res);
	return 0;
}

int ib_pg_machine_get(struct ib_store *s, const char *mac, struct ib_machine_state *ret)
{
	struct store_pg *pg = to_pg(s);
	struct ib_pg_params p = { .n = 0 };
	struct ib_machine_state m;
	PGresult *res;
	int r;

	ib_pg_p_text(&p, mac);
	res = ib_pg_exec(pg, IB_PG_T_MACHINE, M_GET, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) == 0)
		r = -ENOENT;
	else
		row_to_machine(res, 0, &m);
	PQclear(res);
	if (r == 0)
		r = load_nics(pg, &m);
	if (r == 0)
		*ret = m;
	return r;
}

/* Appends the journal event of a lifecycle write, under mac. */
static int journal(struct ib_store *s, const char *mac, const struct ib_machine_note *note,
		   const struct ib_machine_state *m)
{
	struct ib_event ev;

	ib_store_machine_event(mac, note, m->version, &ev);
	return ib_pg_event_append(s, &ev);
}

/* Inserts NIC mac of machine id; -EEXIST when it is any machine's. */
static int nic_insert(struct store_pg *pg, int64_t id, const char *mac, int64_t now_us)
{
	struct ib_pg_params p = { .n = 0 };
	uint64_t n = 0;
	int r;

	ib_pg_p_text(&p, mac);
	ib_pg_p_int(&p, id);
	ib_pg_p_int(&p, now_us);
	r = ib_pg_run(pg, IB_PG_T_MACHINE, M_NIC_INSERT, &p, &n);
	return r == 0 && n == 0 ? -EEXIST : r;
}

/* Inserts the machines_state row of m into m->id. */
static int machine_insert(struct store_pg *pg, struct ib_machine_state *m, int64_t now)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	int r;

	ib_pg_p_text(&p, m->mac);
	ib_pg_p_int(&p, m->state);
	ib_pg_p_field(&p, m->profile, sizeof(m->profile));
	ib_pg_p_int(&p, now);
	res = ib_pg_exec(pg, IB_PG_T_MACHINE, M_INSERT, &p, &r);
	if (res && PQntuples(res) == 1)
		m->id = ib_pg_int(res, 0, 0);
	else if (res)
		r = -EIO;
	PQclear(res);
	return r;
}

int ib_pg_machine_create(struct ib_store *s, struct ib_machine_state *m,
			 const struct ib_machine_note *note)
{
	struct store_pg *pg = to_pg(s);
	int64_t now = note->now_us;
	bool outer;
	int r;

	if (strnlen(m->mac, sizeof(m->mac)) != IB_MACHINE_MAC_STRLEN - 1)
		return -EINVAL;
	if ((r = ib_pg_scope_open(pg, &outer)) < 0)
		return r;
	r = machine_insert(pg, m, now);
	if (r == 0)
		r = nic_insert(pg, m->id, m->mac, now);
	if (r == 0) {
		ib_store_machine_created(m, now);
		r = journal(s, m->mac, note, m);
	}
	return ib_pg_scope_close(pg, outer, r);
}

int ib_pg_machine_update(struct ib_store *s, const struct ib_machine_state *old,
			 struct ib_machine_state *m, const struct ib_machine_note *note)
{
	struct store_pg *pg = to_pg(s);
	struct ib_pg_params p = { .n = 0 };
	int64_t now = note->now_us;
	uint64_t changed = 0;
	bool outer;
	int r;

	if ((r = ib_pg_scope_open(pg, &outer)) < 0)
		return r;
	ib_pg_p_int(&p, old->id);
	ib_pg_p_int(&p, old->state);
	ib_pg_p_int(&p, old->version);
	ib_pg_p_int(&p, m->state);
	ib_pg_p_field(&p, m->profile, sizeof(m->profile));
	ib_pg_p_field(&p, m->fail_step, sizeof(m->fail_step));
	ib_pg_p_field(&p, m->fail_reason, sizeof(m->fail_reason));
	ib_pg_p_int(&p, m->local_boots);
	ib_pg_p_int(&p, now);
	r = ib_pg_run(pg, IB_PG_T_MACHINE, M_UPDATE, &p, &changed);
	if (r == 0 && changed != 1)
		r = -EEXIST;	/* moved meanwhile (or deleted: the caller reads again) */
	if (r == 0) {
		ib_store_machine_updated(old, m, now);
		r = journal(s, m->mac[0] ? m->mac : old->mac, note, m);
	}
	return ib_pg_scope_close(pg, outer, r);
}

/* One integer of a one-row query on id or mac; -ENOENT when no row. */
static int query_int(struct store_pg *pg, int idx, const struct ib_pg_params *p,
		     int64_t *ret)
{
	int r;
	PGresult *res = ib_pg_exec(pg, IB_PG_T_MACHINE, idx, p, &r);

	if (!res)
		return r;
	if (PQntuples(res) == 0)
		r = -ENOENT;
	else
		*ret = ib_pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

int ib_pg_machine_add_nic(struct ib_store *s, int64_t id, const char *mac, int64_t now_us)
{
	struct store_pg *pg = to_pg(s);
	struct ib_pg_params p = { .n = 0 };
	int64_t owner = 0, count = 0;
	bool outer;
	int r;

	if ((r = ib_pg_scope_open(pg, &outer)) < 0)
		return r;
	ib_pg_p_text(&p, mac);
	r = query_int(pg, M_NIC_OWNER, &p, &owner);
	if (r == 0)
		r = owner == id ? 1 : -EEXIST;
	else if (r == -ENOENT)
		r = 0;
	if (r == 0) {
		p.n = 0;
		ib_pg_p_int(&p, id);
		r = query_int(pg, M_NIC_COUNT, &p, &count);
		if (r == 0 && count == 0)
			r = -ENOENT;
		else if (r == 0 && count >= IB_MACHINE_NICS_MAX)
			r = -ENOSPC;
	}
	if (r == 0)
		r = nic_insert(pg, id, mac, now_us);
	r = ib_pg_scope_close(pg, outer, r);
	return r > 0 ? 0 : r;
}

int ib_pg_machine_report_put(struct ib_store *s, int64_t id, const char *json)
{
	struct ib_pg_params p = { .n = 0 };
	uint64_t changed = 0;
	int r;

	if (strlen(json) > IB_MACHINE_REPORT_MAX)
		return -E2BIG;
	ib_pg_p_int(&p, id);
	ib_pg_p_text(&p, json);
	r = ib_pg_run(to_pg(s), IB_PG_T_MACHINE, M_REPORT_PUT, &p, &changed);
	return r == 0 && changed != 1 ? -ENOENT : r;
}

int ib_pg_machine_report_get(struct ib_store *s, int64_t id, char *buf, size_t cap)
{
	struct ib_pg_params p = { .n = 0 };
	PGresult *res;
	size_t n;
	int r;

	ib_pg_p_int(&p, id);
	res = ib_pg_exec(to_pg(s), IB_PG_T_MACHINE, M_REPORT_GET, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
		r = -ENOENT;
	} else {
		n = (size_t)PQgetlength(res, 0, 0);
		if (n >= cap)
			r = -ENOBUFS;
		else
			ib_pg_text(res, 0, 0, buf, cap);
	}
	PQclear(res);
	return r;
}

int ib_pg_machine_foreach(struct ib_store *s,
			  int (*cb)(const struct ib_machine_state *m, void *ctx), void *ctx)
{
	struct store_pg *pg = to_pg(s);
	struct ib_machine_state m;
	PGresult *res;
	int r;

	if (pg->in_machine_walk)
		return -EBUSY;
	pg->in_machine_walk = true;
	res = ib_pg_exec(pg, IB_PG_T_MACHINE, M_ALL, NULL, &r);
	for (int i = 0; res && r == 0 && i < PQntuples(res); i++) {
		row_to_machine(res, i, &m);
		r = load_nics(pg, &m);
		if (r == 0)
			r = cb(&m, ctx);
	}
	PQclear(res);
	pg->in_machine_walk = false;
	return r;
}

int ib_pg_power_put(struct ib_store *s, const struct ib_power_row *row)
{
	struct ib_pg_params p = { .n = 0 };

	ib_pg_p_field(&p, row->mac, sizeof(row->mac));
	ib_pg_p_field(&p, row->state, sizeof(row->state));
	ib_pg_p_field(&p, row->op, sizeof(row->op));
	ib_pg_p_field(&p, row->error, sizeof(row->error));
	ib_pg_p_int(&p, row->checked_us);
	ib_pg_p_int(&p, row->changed_us);
	return ib_pg_run(to_pg(s), IB_PG_T_MACHINE, M_POWER_PUT, &p, NULL);
}

int ib_pg_power_get(struct ib_store *s, const char *mac, struct ib_power_row *ret)
{
	struct ib_pg_params p = { .n = 0 };
	struct ib_power_row row = { 0 };
	PGresult *res;
	int r;

	ib_pg_p_text(&p, mac);
	res = ib_pg_exec(to_pg(s), IB_PG_T_MACHINE, M_POWER_GET, &p, &r);
	if (!res)
		return r;
	if (PQntuples(res) == 0) {
		r = -ENOENT;
	} else {
		snprintf(row.mac, sizeof(row.mac), "%s", mac);
		ib_pg_text(res, 0, 0, row.state, sizeof(row.state));
		ib_pg_text(res, 0, 1, row.op, sizeof(row.op));
		ib_pg_text(res, 0, 2, row.error, sizeof(row.error));
		row.checked_us = ib_pg_int(res, 0, 3);
		row.changed_us = ib_pg_int(res, 0, 4);
		*ret = row;
	}
	PQclear(res);
	return r;
}
