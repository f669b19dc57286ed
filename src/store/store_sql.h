/*
 * The SQL both stores run, spelled once: above all the conditional writes
 * that arbitrate every lease (the rule one daemon on SQLite and several on
 * one PostgreSQL must share), the reads that find a client's lease, the
 * reclaim's, and the inventory and meta statements.
 *
 * P is the backend's placeholder prefix, "?" for SQLite (?NNN) or "$" for
 * PostgreSQL ($n): the parameters are numbered alike on both, so the two
 * backends bind the same positions.  What each planner needs told
 * differently (SQLite's unary +, PostgreSQL's "+ 0"), and what one dialect
 * spells its own way (min() and LEAST()), stays in the backend's file.
 */
#ifndef IB_STORE_SQL_H
#define IB_STORE_SQL_H

#define IB_SQL_SQLITE "?"
#define IB_SQL_PG "$"

/* Column order of a lease row, read and bound by each backend's codec. */
#define IB_SQL_COLS4 \
	"address, subnet, htype, hwaddr, client_id, hostname, cltt, expires, state"
#define IB_SQL_COLS6 \
	"address, subnet, prefix_len, duid, iaid, mac, hostname, cltt," \
	" preferred, expires, state"

#define IB_SQL_GET(P, t, cols) "SELECT " cols " FROM " t " WHERE address = " P "1"
#define IB_SQL_FIND4_CID(P) "SELECT " IB_SQL_COLS4 " FROM leases4" \
	" WHERE client_id = " P "1 ORDER BY cltt DESC, address DESC LIMIT 1"
/* Without a client-id only rows without one are the same client. */
#define IB_SQL_FIND4_HW(P) "SELECT " IB_SQL_COLS4 " FROM leases4" \
	" WHERE hwaddr = " P "1 AND client_id IS NULL" \
	" ORDER BY cltt DESC, address DESC LIMIT 1"
/* leases6_client (duid, iaid, cltt) yields the newest first */
#define IB_SQL_FIND6(P) "SELECT " IB_SQL_COLS6 " FROM leases6" \
	" WHERE duid = " P "1 AND iaid = " P "2" \
	" ORDER BY cltt DESC, address DESC LIMIT 1"

/*
 * "Same client" as store.h defines it, between the stored row and the
 * proposed one: the same client-id if either has one, else the same
 * hardware type and address.
 */
#define IB_SQL_SAME_CLIENT4 \
	"CASE WHEN leases4.client_id IS NULL AND excluded.client_id IS NULL" \
	" THEN leases4.htype = excluded.htype AND leases4.hwaddr = excluded.hwaddr" \
	" ELSE leases4.client_id IS NOT DISTINCT FROM excluded.client_id END"

/*
 * The conditional writes: the database arbitrates, not our memory.  The
 * DO UPDATE runs only when the address is free (released or expired
 * state, or past its expiry: the last parameter is now) or ACTIVE for the
 * same client (IPv6: the same IA, DUID and IAID); otherwise nothing
 * changes and the row count is 0 (-EEXIST).  A DECLINED address stays
 * quarantined until it expires, for its decliner too (RFC 2131 4.3.3, RFC
 * 8415 18.3.8).  Under concurrent writers PostgreSQL locks the conflicting
 * row and re-checks the WHERE on its newest version, so of two daemons
 * offering one address only one commit changes a row.
 */
#define IB_SQL_UPSERT4(P) "INSERT INTO leases4 (" IB_SQL_COLS4 ")" \
	" VALUES (" P "1, " P "2, " P "3, " P "4, " P "5, " P "6, " P "7, " P "8, 1)" \
	" ON CONFLICT (address) DO UPDATE SET" \
	" subnet = excluded.subnet, htype = excluded.htype," \
	" hwaddr = excluded.hwaddr, client_id = excluded.client_id," \
	" hostname = excluded.hostname, cltt = excluded.cltt," \
	" expires = excluded.expires, state = 1" \
	" WHERE leases4.state IN (2, 3) OR leases4.expires <= " P "9" \
	" OR (leases4.state = 1 AND (" IB_SQL_SAME_CLIENT4 "))"
#define IB_SQL_UPSERT6(P) "INSERT INTO leases6 (" IB_SQL_COLS6 ")" \
	" VALUES (" P "1, " P "2, " P "3, " P "4, " P "5, " P "6, " P "7, " P "8, " \
	P "9, " P "10, 1)" \
	" ON CONFLICT (address) DO UPDATE SET" \
	" subnet = excluded.subnet, prefix_len = excluded.prefix_len," \
	" duid = excluded.duid, iaid = excluded.iaid, mac = excluded.mac," \
	" hostname = excluded.hostname, cltt = excluded.cltt," \
	" preferred = excluded.preferred, expires = excluded.expires," \
	" state = 1" \
	" WHERE leases6.state IN (2, 3) OR leases6.expires <= " P "11" \
	" OR (leases6.state = 1 AND leases6.duid = excluded.duid" \
	" AND leases6.iaid = excluded.iaid)"

#define IB_SQL_SET_STATE4(P) "UPDATE leases4 SET state = " P "2, expires = " P "3" \
	" WHERE address = " P "1"

/*
 * The reclaim's two statements, one text for both lease tables.  No
 * ORDER BY in the first: sorting every due row on each round is
 * quadratic after a long downtime; the (state, expires) index yields them
 * by expiry anyway.
 */
#define IB_SQL_DUE(P, t, cols) "SELECT " cols " FROM " t \
	" WHERE state IN (1, 4) AND expires <= " P "1 LIMIT " P "2"
#define IB_SQL_EXPIRE(P, t) "UPDATE " t " SET state = 3" \
	" WHERE address = " P "1 AND state IN (1, 4) AND expires <= " P "2"

#define IB_SQL_INV_DELETE(P) "DELETE FROM inventory WHERE kind = " P "1 AND name = " P "2"
#define IB_SQL_INV_ALL "SELECT kind, name, body, updated_us FROM inventory ORDER BY kind, id"
#define IB_SQL_META_GET(P) "SELECT value FROM meta WHERE key = " P "1"
#define IB_SQL_META_PUT(P) "INSERT INTO meta (key, value) VALUES (" P "1, " P "2)" \
	" ON CONFLICT (key) DO UPDATE SET value = excluded.value"

/*
 * The ids of the inventory and meta statements, the first entries of each
 * backend's main statement table (store_sqlite.c's and store_pg.c's
 * stmt_sql[]); a backend's own statements follow from ST_SHARED__MAX.
 */
enum ib_sql_main_stmt {
	ST_INV_UPSERT,
	ST_INV_DELETE,
	ST_INV_ALL,
	ST_META_GET,
	ST_META_PUT,
	ST_SHARED__MAX
};

#endif
