/*
 * The SQLite store's machine lifecycle rows (issue #12): the machine_*
 * operations of struct ib_store_ops over machines_state and machine_nics
 * (migration step 5).  Same rules as store_sqlite.c: statements prepared
 * once at open from ib_ss_stmtm_sql[], values bound, every statement reset
 * before an operation returns, multi-statement writes atomic in a scope.
 *
 * The store keeps states as numbers and never judges a move: which moves
 * are allowed is inventory/lifecycle.c's table.  What the store
 * guarantees is that a write lands only on the row its writer read
 * (compare-and-set on state and version), so two daemons sharing the
 * store cannot both move one machine, and that each write and its journal
 * event are one transaction.
 */
#include "store/store_sqlite_int.h"
#include "store/store_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>


/* Column order read by row_to_machine(). */
#define MACHINE_COLS \
	"m.id, m.boot_mac, m.state, m.version, m.profile, m.fail_step," \
	" m.fail_reason, m.local_boots, m.report IS NOT NULL, m.created_us," \
	" m.updated_us, m.since_us"

/* See store_sqlite_int.h; indexed by enum stmtm_id. */
const char *const ib_ss_stmtm_sql[STM__MAX] = {
	[STM_GET] = "SELECT " MACHINE_COLS " FROM machine_nics n"
		" JOIN machines_state m ON m.id = n.machine_id WHERE n.mac = ?1",
	[STM_NICS] = "SELECT mac FROM machine_nics WHERE machine_id = ?1"
		" ORDER BY added_us, mac LIMIT ?2",
	[STM_INSERT] = "INSERT INTO machines_state (boot_mac, state, version, profile,"
		" created_us, updated_us, since_us) VALUES (?1, ?2, 1, ?3, ?4, ?4, ?4)",
	/* -EEXIST through the primary key when the NIC is any machine's */
	[STM_NIC_INSERT] = "INSERT INTO machine_nics (mac, machine_id, added_us)"
		" VALUES (?1, ?2, ?3)",
	[STM_NIC_OWNER] = "SELECT machine_id FROM machine_nics WHERE mac = ?1",
	[STM_NIC_COUNT] = "SELECT count(*) FROM machine_nics WHERE machine_id = ?1",
	/*
	 * The compare-and-set: the row changes only if it is still in the
	 * state and at the version its writer read (changes() says which).
	 * since_us moves only with the state.  Works unchanged on
	 * PostgreSQL (then the row count).
	 */
	[STM_UPDATE] = "UPDATE machines_state SET state = ?4, version = version + 1,"
		" profile = ?5, fail_step = ?6, fail_reason = ?7, local_boots = ?8,"
		" updated_us = ?9,"
		" since_us = CASE WHEN state = ?4 THEN since_us ELSE ?9 END"
		" WHERE id = ?1 AND state = ?2 AND version = ?3",
	[STM_REPORT_PUT] = "UPDATE machines_state SET report = ?2 WHERE id = ?1",
	[STM_REPORT_GET] = "SELECT report FROM machines_state WHERE id = ?1",
	[STM_ALL] = "SELECT " MACHINE_COLS ", n.mac FROM machines_state m"
		" JOIN machine_nics n ON n.mac = m.boot_mac ORDER BY m.id",
	[STM_POWER_PUT] = "INSERT INTO machine_power (mac, state, op, error, checked_us,"
		" changed_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (mac) DO UPDATE"
		" SET state = ?2, op = ?3, error = ?4, checked_us = ?5, changed_us = ?6",
	[STM_POWER_GET] = "SELECT state, op, error, checked_us, changed_us"
		" FROM machine_power WHERE mac = ?1",
};

static void row_to_machine(sqlite3_stmt *st, struct ib_machine_state *m)
{
	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(st, 0);
	col_text(st, 1, m->mac, sizeof(m->mac));
	m->state = sqlite3_column_int(st, 2);
	m->version = sqlite3_column_int64(st, 3);
	col_text(st, 4, m->profile, sizeof(m->profile));
	col_text(st, 5, m->fail_step, sizeof(m->fail_step));
	col_text(st, 6, m->fail_reason, sizeof(m->fail_reason));
	m->local_boots = (uint32_t)sqlite3_column_int64(st, 7);
	m->has_report = sqlite3_column_int(st, 8) != 0;
	m->created_us = sqlite3_column_int64(st, 9);
	m->updated_us = sqlite3_column_int64(st, 10);
	m->since_us = sqlite3_column_int64(st, 11);
}

/* Fills m->nics from machine_nics. */
static int load_nics(struct store_sqlite *ss, struct ib_machine_state *m)
{
	sqlite3_stmt *st = ss->stm[STM_NICS];
	int rc;

	m->n_nics = 0;
	sqlite3_bind_int64(st, 1, m->id);
	sqlite3_bind_int(st, 2, IB_MACHINE_NICS_MAX);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && m->n_nics < IB_MACHINE_NICS_MAX)
		col_text(st, 0, m->nics[m->n_nics++], IB_MACHINE_MAC_STRLEN);
	done(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -EIO;
}

int ib_ss_machine_get(struct ib_store *s, const char *mac, struct ib_machine_state *ret)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->stm[STM_GET];
	struct ib_machine_state m;
	int rc;

	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_machine(st, &m);
	done(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return -EIO;
	if (load_nics(ss, &m) < 0)
		return -EIO;
	*ret = m;
	return 0;
}

/* Appends the journal event of a lifecycle write, under mac. */
static int journal(struct ib_store *s, const char *mac, const struct ib_machine_note *note,
		   const struct ib_machine_state *m)
{
	struct ib_event ev;

	ib_store_machine_event(mac, note, m->version, &ev);
	return s->ops->event_append(s, &ev);
}

/* Inserts NIC mac of machine id; -EEXIST when it is any machine's. */
static int nic_insert(struct store_sqlite *ss, int64_t id, const char *mac, int64_t now_us)
{
	sqlite3_stmt *st = ss->stm[STM_NIC_INSERT];
	int rc;

	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, now_us);
	rc = sqlite3_step(st);
	done(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)	/* extended codes are on */
		return -EEXIST;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int ib_ss_machine_create(struct ib_store *s, struct ib_machine_state *m,
			 const struct ib_machine_note *note)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->stm[STM_INSERT];
	int64_t now = note->now_us;
	bool outer;
	int r;

	if (strnlen(m->mac, sizeof(m->mac)) != IB_MACHINE_MAC_STRLEN - 1)
		return -EINVAL;
	if ((r = ib_ss_scope_open(ss, &outer)) < 0)
		return r;
	sqlite3_bind_text(st, 1, m->mac, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, m->state);
	sqlite3_bind_text(st, 3, m->profile, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	r = run(st);
	if (r == 0) {
		m->id = sqlite3_last_insert_rowid(ss->db);
		r = nic_insert(ss, m->id, m->mac, now);
	}
	if (r == 0) {
		ib_store_machine_created(m, now);
		r = journal(s, m->mac, note, m);
	}
	return ib_ss_scope_close(ss, outer, r);
}

int ib_ss_machine_update(struct ib_store *s, const struct ib_machine_state *old,
			 struct ib_machine_state *m, const struct ib_machine_note *note)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->stm[STM_UPDATE];
	int64_t now = note->now_us;
	bool outer;
	int r, rc;

	if ((r = ib_ss_scope_open(ss, &outer)) < 0)
		return r;
	sqlite3_bind_int64(st, 1, old->id);
	sqlite3_bind_int(st, 2, old->state);
	sqlite3_bind_int64(st, 3, old->version);
	sqlite3_bind_int(st, 4, m->state);
	sqlite3_bind_text(st, 5, m->profile, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->fail_step, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->fail_reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, m->local_boots);
	sqlite3_bind_int64(st, 9, now);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		r = -EIO;
	else if (sqlite3_changes(ss->db) != 1)
		r = -EEXIST;	/* moved meanwhile (or deleted: the caller reads again) */
	if (r == 0) {
		ib_store_machine_updated(old, m, now);
		r = journal(s, m->mac[0] ? m->mac : old->mac, note, m);
	}
	return ib_ss_scope_close(ss, outer, r);
}

int ib_ss_machine_add_nic(struct ib_store *s, int64_t id, const char *mac, int64_t now_us)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->stm[STM_NIC_OWNER];
	int64_t owner = 0, count = 0;
	bool outer;
	int r, rc;

	if ((r = ib_ss_scope_open(ss, &outer)) < 0)
		return r;
	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		owner = sqlite3_column_int64(st, 0);
	done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = -EIO;
	else if (rc == SQLITE_ROW)
		r = owner == id ? 1 : -EEXIST;
	if (r == 0) {
		st = ss->stm[STM_NIC_COUNT];
		sqlite3_bind_int64(st, 1, id);
		rc = sqlite3_step(st);
		count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
		done(st);
		if (count < 0)
			r = -EIO;
		else if (count == 0)
			r = -ENOENT;
		else if (count >= IB_MACHINE_NICS_MAX)
			r = -ENOSPC;
	}
	if (r == 0)
		r = nic_insert(ss, id, mac, now_us);
	r = ib_ss_scope_close(ss, outer, r);
	return r > 0 ? 0 : r;
}

int ib_ss_machine_report_put(struct ib_store *s, int64_t id, const char *json)
{
	struct store_sqlite *ss = to_ss(s);
	sqlite3_stmt *st = ss->stm[STM_REPORT_PUT];
	size_t n = strlen(json);
	int rc;

	if (n > IB_MACHINE_REPORT_MAX)
		return -E2BIG;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, json, (int)n, SQLITE_STATIC);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(ss->db) == 1 ? 0 : -ENOENT;
}

int ib_ss_machine_report_get(struct ib_store *s, int64_t id, char *buf, size_t cap)
{
	sqlite3_stmt *st = to_ss(s)->stm[STM_REPORT_GET];
	const unsigned char *t;
	size_t n;
	int rc, r = -ENOENT;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (t = sqlite3_column_text(st, 0))) {
		n = (size_t)sqlite3_column_bytes(st, 0);
		if (n >= cap) {
			r = -ENOBUFS;
		} else {
			memcpy(buf, t, n);
			buf[n] = '\0';
			r = 0;
		}
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = -EIO;
	}
	done(st);
	return r;
}

/* A machine walk's connection and callback. */
struct machine_walk {
	struct store_sqlite *ss;
	int (*cb)(const struct ib_machine_state *m, void *ctx);
	void *ctx;
};

static int machine_row(sqlite3_stmt *st, void *arg)
{
	const struct machine_walk *w = arg;
	struct ib_machine_state m;
	int r;

	row_to_machine(st, &m);
	/* STM_NICS is a second statement: safe while STM_ALL steps */
	r = load_nics(w->ss, &m);
	return r < 0 ? r : w->cb(&m, w->ctx);
}

int ib_ss_machine_foreach(struct ib_store *s,
			  int (*cb)(const struct ib_machine_state *m, void *ctx), void *ctx)
{
	struct store_sqlite *ss = to_ss(s);
	struct machine_walk w = { ss, cb, ctx };

	/* -EBUSY while STM_ALL is in use */
	return ib_ss_walk(ss->stm[STM_ALL], &ss->in_machine_walk, machine_row, &w);
}

/* ---- power rows (migration 6) ---- */

int ib_ss_power_put(struct ib_store *s, const struct ib_power_row *row)
{
	sqlite3_stmt *st = to_ss(s)->stm[STM_POWER_PUT];

	sqlite3_bind_text(st, 1, row->mac, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, row->op, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, row->checked_us);
	sqlite3_bind_int64(st, 6, row->changed_us);
	return run(st);
}

int ib_ss_power_get(struct ib_store *s, const char *mac, struct ib_power_row *ret)
{
	sqlite3_stmt *st = to_ss(s)->stm[STM_POWER_GET];
	struct ib_power_row p = { 0 };
	int rc;

	sqlite3_bind_text(st, 1, mac, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(p.mac, sizeof(p.mac), "%s", mac);
		col_text(st, 0, p.state, sizeof(p.state));
		col_text(st, 1, p.op, sizeof(p.op));
		col_text(st, 2, p.error, sizeof(p.error));
		p.checked_us = sqlite3_column_int64(st, 3);
		p.changed_us = sqlite3_column_int64(st, 4);
	}
	done(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return -EIO;
	*ret = p;
	return 0;
}
