/*
 * Schema steps of the SQLite store; see migrations.h.
 *
 * Rules for editing this table: never change a step that has shipped (a
 * database at that version already ran it); add a new step at the end.
 * tests/unit/test_store.c keeps a frozen copy of version 1 and upgrades it.
 *
 * Column types are chosen so the PostgreSQL store can mirror them: leases4
 * keys on the IPv4 address (host order, fits a bigint), hardware address
 * and client-id are byte strings (bytea), times are unix seconds or
 * microseconds (bigint).  leases6 keys on the 16-byte IPv6 address as a
 * byte string (bytea, which sorts bytewise like SQLite's BLOB: address
 * order), DUID and MAC are bytea, the IAID an unsigned 32-bit value
 * (bigint), times bigint.
 */
#include "store/migrations.h"
#include "store/store_int.h"
#include "store/store.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static const struct ib_store_migration migrations[] = {
	{ 1,
	  /* state: 1 active, 2 released, 3 expired, 4 declined (store.h) */
	  "CREATE TABLE leases4 ("
	  "  address   INTEGER PRIMARY KEY,"
	  "  subnet    INTEGER NOT NULL,"
	  "  htype     INTEGER NOT NULL,"
	  "  hwaddr    BLOB NOT NULL,"
	  "  client_id BLOB,"			/* NULL = none */
	  "  hostname  TEXT NOT NULL DEFAULT '',"
	  "  cltt      INTEGER NOT NULL,"
	  "  expires   INTEGER NOT NULL,"
	  "  state     INTEGER NOT NULL CHECK (state BETWEEN 1 AND 4)"
	  ");"
	  "CREATE INDEX leases4_hwaddr ON leases4 (hwaddr, cltt);"
	  "CREATE INDEX leases4_client_id ON leases4 (client_id, cltt);"
	  /* AUTOINCREMENT: ids are never reused after a prune, so a reader
	   * may page through the journal by id. */
	  "CREATE TABLE events ("
	  "  id        INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  ts_us     INTEGER NOT NULL,"
	  "  mac       TEXT NOT NULL DEFAULT '',"
	  "  client_id TEXT NOT NULL DEFAULT '',"
	  "  uuid      TEXT NOT NULL DEFAULT '',"
	  "  proto     TEXT NOT NULL,"
	  "  kind      TEXT NOT NULL,"
	  "  detail    TEXT NOT NULL DEFAULT '{}'"
	  ");"
	  "CREATE INDEX events_mac_ts ON events (mac, ts_us);"
	  "CREATE INDEX events_ts ON events (ts_us);" },
	{ 2,
	  /* Server identity, so several daemons sharing a PostgreSQL store
	   * (and the operator) can tell which database they are looking at;
	   * and an index so reclaim finds due leases without a table scan. */
	  "CREATE TABLE meta ("
	  "  key   TEXT PRIMARY KEY,"
	  "  value TEXT NOT NULL"
	  ") WITHOUT ROWID;"
	  "INSERT INTO meta (key, value) VALUES"
	  "  ('server_id', lower(hex(randomblob(16)))),"
	  "  ('created_at', CAST(strftime('%s', 'now') AS TEXT));"
	  "CREATE INDEX leases4_state_expires ON leases4 (state, expires);" },
	{ 3,
	  /* Inventory objects written through the REST API: the config
	   * snapshot is the file plus these (config.h ib_config_load_text_with).
	   * body is the object's JSON; id keeps the order they were made in. */
	  "CREATE TABLE inventory ("
	  "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  kind       TEXT NOT NULL"
	  "             CHECK (kind IN ('profiles', 'groups', 'machines')),"
	  "  name       TEXT NOT NULL,"
	  "  body       TEXT NOT NULL,"
	  "  updated_us INTEGER NOT NULL,"
	  "  UNIQUE (kind, name)"
	  ");" },
	{ 4,
	  /* DHCPv6 (RFC 8415) IA_NA leases; state as in leases4.  The
	   * CHECKs mirror store_sqlite6.c's limits (IB_DUID_MAX = 130, RFC
	   * 8415 11.1) so a row from elsewhere cannot break them.
	   * leases6_client serves find_client (newest by cltt) and the "one
	   * address per IA per subnet" update; leases6_state_expires lets
	   * reclaim find due leases without a table scan. */
	  "CREATE TABLE leases6 ("
	  "  address    BLOB PRIMARY KEY CHECK (length(address) = 16),"
	  "  subnet     BLOB NOT NULL CHECK (length(subnet) = 16),"
	  "  prefix_len INTEGER NOT NULL CHECK (prefix_len BETWEEN 0 AND 128),"
	  "  duid       BLOB NOT NULL CHECK (length(duid) BETWEEN 1 AND 130),"
	  "  iaid       INTEGER NOT NULL CHECK (iaid BETWEEN 0 AND 4294967295),"
	  "  mac        BLOB CHECK (mac IS NULL OR length(mac) = 6)," /* NULL = unknown */
	  "  hostname   TEXT NOT NULL DEFAULT '',"
	  "  cltt       INTEGER NOT NULL,"
	  "  preferred  INTEGER NOT NULL,"
	  "  expires    INTEGER NOT NULL,"
	  "  state      INTEGER NOT NULL CHECK (state BETWEEN 1 AND 4)"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX leases6_client ON leases6 (duid, iaid, cltt);"
	  "CREATE INDEX leases6_state_expires ON leases6 (state, expires);" },
	{ 5,
	  /* The machine lifecycle (issue #12; the states are
	   * inventory/lifecycle.h's numbers).  A machine is one row of
	   * machines_state; each of its NICs is one row of machine_nics
	   * naming it.  version is the compare-and-set counter: every write
	   * is "UPDATE ... WHERE id = ? AND state = ? AND version = ?", so of
	   * two daemons sharing the store only one moves a machine.  report
	   * is the agent's last hardware report (JSON), NULL until one. */
	  "CREATE TABLE machines_state ("
	  "  id          INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  boot_mac    TEXT NOT NULL,"
	  "  state       INTEGER NOT NULL CHECK (state BETWEEN 1 AND 10),"
	  "  version     INTEGER NOT NULL,"
	  "  profile     TEXT NOT NULL DEFAULT '',"
	  "  fail_step   TEXT NOT NULL DEFAULT '',"
	  "  fail_reason TEXT NOT NULL DEFAULT '',"
	  "  local_boots INTEGER NOT NULL DEFAULT 0,"
	  "  report      TEXT,"
	  "  created_us  INTEGER NOT NULL,"
	  "  updated_us  INTEGER NOT NULL,"
	  "  since_us    INTEGER NOT NULL"
	  ");"
	  "CREATE TABLE machine_nics ("
	  "  mac        TEXT PRIMARY KEY,"
	  "  machine_id INTEGER NOT NULL REFERENCES machines_state (id) ON DELETE CASCADE,"
	  "  added_us   INTEGER NOT NULL"
	  ") WITHOUT ROWID;"
	  "CREATE INDEX machine_nics_machine ON machine_nics (machine_id, added_us);" },
	{ 6,
	  /* Power control (issue #13; docs/POWER.md).  The REST API keeps BMC
	   * entries as inventory objects of kind "bmcs" (SQLite cannot widen a
	   * CHECK in place: the table is copied, ids and so order kept).
	   * machine_power is what the daemon last learnt from a machine's
	   * BMC: its state ("on", "off", "unknown"), the last operation and
	   * its error ("" when it succeeded), never a credential. */
	  "CREATE TABLE inventory_v6 ("
	  "  id         INTEGER PRIMARY KEY AUTOINCREMENT,"
	  "  kind       TEXT NOT NULL"
	  "             CHECK (kind IN ('profiles', 'groups', 'machines', 'bmcs')),"
	  "  name       TEXT NOT NULL,"
	  "  body       TEXT NOT NULL,"
	  "  updated_us INTEGER NOT NULL,"
	  "  UNIQUE (kind, name)"
	  ");"
	  "INSERT INTO inventory_v6 (id, kind, name, body, updated_us)"
	  "  SELECT id, kind, name, body, updated_us FROM inventory;"
	  "DROP TABLE inventory;"
	  "ALTER TABLE inventory_v6 RENAME TO inventory;"
	  "CREATE TABLE machine_power ("
	  "  mac        TEXT PRIMARY KEY,"
	  "  state      TEXT NOT NULL,"
	  "  op         TEXT NOT NULL,"
	  "  error      TEXT NOT NULL,"
	  "  checked_us INTEGER NOT NULL,"
	  "  changed_us INTEGER NOT NULL"
	  ") WITHOUT ROWID;" },
	{ 7,
	  /* PostgreSQL's events.txid (store_pg_schema.c): nothing here.
	   * SQLite has one writer at a time, so its event ids are already in
	   * commit order; the step keeps the versions the same on both */
	  "SELECT 1;" },
};

int ib_store_schema_version(void)
{
	return migrations[IB_ARRAY_SIZE(migrations) - 1].version;
}

static int read_user_version(sqlite3 *db, int *ret)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*ret = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : -EIO;
}

/* Runs one SQLite step (ib_store_migration_exec). */
static int exec_sqlite(void *db, const char *sql, char *err)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	ib_store_set_err(err, "%s", sqlite3_errmsg(db));
	return -EPROTO;
}

int ib_store_migrations_apply(const struct ib_store_migration *steps, size_t n, int have,
			      ib_store_migration_exec exec, void *db, char *err)
{
	char why[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (steps[i].version <= have)
			continue;
		if (exec(db, steps[i].sql, why) < 0) {
			ib_store_set_err(err, "schema step %d failed: %s", steps[i].version, why);
			return -EPROTO;
		}
	}
	return 0;
}

/* Runs the steps after version `from`, then records the new version. */
static int apply_steps(sqlite3 *db, int from, char *err)
{
	char sql[64];
	int r = ib_store_migrations_apply(migrations, IB_ARRAY_SIZE(migrations), from,
					  exec_sqlite, db, err);

	if (r < 0)
		return r;
	/* PRAGMA takes no parameters; the number is ours, not data. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 ib_store_schema_version());
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		ib_store_set_err(err, "cannot record schema version: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

/* -EPROTO with the text when the database is from a newer ironboot. */
int ib_store_migrations_check(int have, char *err)
{
	int want = ib_store_schema_version();

	if (have <= want)
		return 0;
	ib_store_set_err(err, "database schema version %d is newer than this "
		"ironboot (%d); refusing to open", have, want);
	return -EPROTO;
}

int ib_store_migrate(sqlite3 *db, char *err)
{
	int have, r;

	/* The common case, up to date, takes no write lock: the CLI opening
	 * the database never waits behind the daemon's group commits. */
	if (read_user_version(db, &have) < 0) {
		ib_store_set_err(err, "cannot read schema version: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	r = ib_store_migrations_check(have, err);
	if (r < 0 || have == ib_store_schema_version())
		return r;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		ib_store_set_err(err, "cannot lock database: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	/* again under the lock: another process may have upgraded it */
	r = read_user_version(db, &have);
	if (r < 0)
		ib_store_set_err(err, "cannot read schema version: %s", sqlite3_errmsg(db));
	if (r == 0)
		r = ib_store_migrations_check(have, err);
	if (r == 0 && have < ib_store_schema_version())
		r = apply_steps(db, have, err);
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		ib_store_set_err(err, "cannot commit schema upgrade: %s", sqlite3_errmsg(db));
		r = -EIO;
	}
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}
