/*
 * The PostgreSQL store's change notification (store_watch.h): triggers
 * that NOTIFY the channel "ironboot" from the writing transaction, one
 * notification per written row, so that every writer (each ironbootd, the
 * ironboot command, a hand-run SQL statement) is heard, and only once its
 * transaction commits (PostgreSQL delivers a NOTIFY at COMMIT, in commit
 * order, and drops it on ROLLBACK).
 *
 * Payloads (parsed by store_pg_listen.c):
 *   "4 <address as an integer>"    a leases4 row
 *   "6 <address, 32 hex digits>"   a leases6 row
 *   "i <kind>"                     an inventory row (the watcher reloads it all)
 *   "m <id>"                       a machines_state row
 * A transaction that writes one row twice sends one notification
 * (PostgreSQL folds identical payloads of one transaction).
 *
 * The triggers are not a schema version: the schema's steps mirror
 * SQLite's one for one (store_pg_schema.c), and SQLite has no triggers to
 * match.  They are installed at open when missing, under the schema's
 * advisory lock so that two daemons starting together do not race, and
 * their names carry a version ("_v1") so that a later payload can replace
 * them beside the old ones.
 */
#include "store/store_pg_int.h"
#include "store/store_int.h"

#include <stdio.h>
#include <stdlib.h>

#define TRIGGERS 4	/* tables watched */

static const char install_sql[] =
	"CREATE OR REPLACE FUNCTION ib_notify_v1() RETURNS trigger"
	" LANGUAGE plpgsql AS $f$ DECLARE r record; BEGIN"
	"  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;"
	"  IF TG_TABLE_NAME = 'leases4' THEN"
	"   PERFORM pg_notify('ironboot', '4 ' || r.address);"
	"  ELSIF TG_TABLE_NAME = 'leases6' THEN"
	"   PERFORM pg_notify('ironboot', '6 ' || encode(r.address, 'hex'));"
	"  ELSIF TG_TABLE_NAME = 'inventory' THEN"
	"   PERFORM pg_notify('ironboot', 'i ' || r.kind);"
	"  ELSE"
	"   PERFORM pg_notify('ironboot', 'm ' || r.id);"
	"  END IF;"
	"  RETURN NULL; END $f$;"
	"CREATE OR REPLACE TRIGGER ib_notify_v1 AFTER INSERT OR UPDATE OR DELETE"
	" ON leases4 FOR EACH ROW EXECUTE FUNCTION ib_notify_v1();"
	"CREATE OR REPLACE TRIGGER ib_notify_v1 AFTER INSERT OR UPDATE OR DELETE"
	" ON leases6 FOR EACH ROW EXECUTE FUNCTION ib_notify_v1();"
	"CREATE OR REPLACE TRIGGER ib_notify_v1 AFTER INSERT OR UPDATE OR DELETE"
	" ON inventory FOR EACH ROW EXECUTE FUNCTION ib_notify_v1();"
	"CREATE OR REPLACE TRIGGER ib_notify_v1 AFTER INSERT OR UPDATE OR DELETE"
	" ON machines_state FOR EACH ROW EXECUTE FUNCTION ib_notify_v1();";

static const char count_sql[] =
	"SELECT count(*) FROM pg_trigger WHERE tgname = 'ib_notify_v1' AND NOT tgisinternal";

/* Runs fixed SQL; 0 or -EIO. */
static int run(PGconn *c, const char *sql, int64_t *ret_first)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	int r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -EIO;

	if (r == 0 && ret_first)
		*ret_first = PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
	PQclear(res);
	return r;
}

int ib_pg_notify_install(struct store_pg *pg, char *err)
{
	int64_t n = -1;
	int r;

	/* present (the usual case): read only, no lock on the tables */
	if (run(pg->conn, count_sql, &n) == 0 && n == TRIGGERS)
		return 0;
	r = run(pg->conn, "BEGIN; SELECT pg_advisory_xact_lock(" IB_PG_SCHEMA_LOCK ")", NULL);
	if (r == 0)
		r = run(pg->conn, install_sql, NULL);
	if (r == 0)
		r = run(pg->conn, "COMMIT", NULL);
	if (r < 0 || PQtransactionStatus(pg->conn) != PQTRANS_IDLE) {
		ib_store_set_err(err, "cannot install the change notification triggers: %.160s",
				 PQerrorMessage(pg->conn));
		run(pg->conn, "ROLLBACK", NULL);
		return -EIO;
	}
	return 0;
}
