/*
 * Schema steps of the PostgreSQL store; see migrations.h.  The versions
 * are SQLite's (migrations.c), step for step, so a version names the same
 * tables on both; the column types are the ones migrations.c's header
 * promised: bigint for addresses, times and ids, bytea for byte strings
 * (bytea sorts bytewise, so leases6 is in address order as on SQLite).
 *
 * Same rules as migrations.c: never change a step that has shipped; add
 * new steps at the end of both lists.  The version reached is the one row
 * of ib_schema; store_pg.c applies the steps in one transaction under an
 * advisory lock, so two daemons starting on one empty database do not
 * both create it.
 */
#include "store/migrations.h"
#include "common/util.h"

const struct ib_store_migration ib_store_pg_migrations[] = {
	{ 1,
	  /* state: 1 active, 2 released, 3 expired, 4 declined (store.h) */
	  "CREATE TABLE leases4 ("
	  "  address   bigint PRIMARY KEY,"
	  "  subnet    bigint NOT NULL,"
	  "  htype     integer NOT NULL,"
	  "  hwaddr    bytea NOT NULL,"
	  "  client_id bytea,"
	  "  hostname  text NOT NULL DEFAULT '',"
	  "  cltt      bigint NOT NULL,"
	  "  expires   bigint NOT NULL,"
	  "  state     integer NOT NULL CHECK (state BETWEEN 1 AND 4)"
	  ");"
	  "CREATE INDEX leases4_hwaddr ON leases4 (hwaddr, cltt);"
	  "CREATE INDEX leases4_client_id ON leases4 (client_id, cltt);"
	  /* a sequence never hands an id out twice: readers page by id */
	  "CREATE TABLE events ("
	  "  id        bigserial PRIMARY KEY,"
	  "  ts_us     bigint NOT NULL,"
	  "  mac       text NOT NULL DEFAULT '',"
	  "  client_id text NOT NULL DEFAULT '',"
	  "  uuid      text NOT NULL DEFAULT '',"
	  "  proto     text NOT NULL,"
	  "  kind      text NOT NULL,"
	  "  detail    text NOT NULL DEFAULT '{}'"
	  ");"
	  "CREATE INDEX events_mac_ts ON events (mac, ts_us);"
	  "CREATE INDEX events_ts ON events (ts_us);" },
	{ 2,
	  "CREATE TABLE meta ("
	  "  key   text PRIMARY KEY,"
	  "  value text NOT NULL"
	  ");"
	  "INSERT INTO meta (key, value) VALUES"
	  "  ('server_id', replace(gen_random_uuid()::text, '-', '')),"
	  "  ('created_at', extract(epoch FROM now())::bigint::text);"
	  "CREATE INDEX leases4_state_expires ON leases4 (state, expires);" },
	{ 3,
	  "CREATE TABLE inventory ("
	  "  id         bigserial PRIMARY KEY,"
	  "  kind       text NOT NULL"
	  "             CHECK (kind IN ('profiles', 'groups', 'machines')),"
	  "  name       text NOT NULL,"
	  "  body       text NOT NULL,"
	  "  updated_us bigint NOT NULL,"
	  "  UNIQUE (kind, name)"
	  ");" },
	{ 4,
	  "CREATE TABLE leases6 ("
	  "  address    bytea PRIMARY KEY CHECK (length(address) = 16),"
	  "  subnet     bytea NOT NULL CHECK (length(subnet) = 16),"
	  "  prefix_len integer NOT NULL CHECK (prefix_len BETWEEN 0 AND 128),"
	  "  duid       bytea NOT NULL CHECK (length(duid) BETWEEN 1 AND 130),"
	  "  iaid       bigint NOT NULL CHECK (iaid BETWEEN 0 AND 4294967295),"
	  "  mac        bytea CHECK (mac IS NULL OR length(mac) = 6),"
	  "  hostname   text NOT NULL DEFAULT '',"
	  "  cltt       bigint NOT NULL,"
	  "  preferred  bigint NOT NULL,"
	  "  expires    bigint NOT NULL,"
	  "  state      integer NOT NULL CHECK (state BETWEEN 1 AND 4)"
	  ");"
	  "CREATE INDEX leases6_client ON leases6 (duid, iaid, cltt);"
	  "CREATE INDEX leases6_state_expires ON leases6 (state, expires);" },
	{ 5,
	  "CREATE TABLE machines_state ("
	  "  id          bigserial PRIMARY KEY,"
	  "  boot_mac    text NOT NULL,"
	  "  state       integer NOT NULL CHECK (state BETWEEN 1 AND 10),"
	  "  version     bigint NOT NULL,"
	  "  profile     text NOT NULL DEFAULT '',"
	  "  fail_step   text NOT NULL DEFAULT '',"
	  "  fail_reason text NOT NULL DEFAULT '',"
	  "  local_boots bigint NOT NULL DEFAULT 0,"
	  "  report      text,"
	  "  created_us  bigint NOT NULL,"
	  "  updated_us  bigint NOT NULL,"
	  "  since_us    bigint NOT NULL"
	  ");"
	  "CREATE TABLE machine_nics ("
	  "  mac        text PRIMARY KEY,"
	  "  machine_id bigint NOT NULL REFERENCES machines_state (id) ON DELETE CASCADE,"
	  "  added_us   bigint NOT NULL"
	  ");"
	  "CREATE INDEX machine_nics_machine ON machine_nics (machine_id, added_us);" },
	{ 6,
	  /* PostgreSQL widens a CHECK in place (SQLite copies the table) */
	  "ALTER TABLE inventory DROP CONSTRAINT inventory_kind_check;"
	  "ALTER TABLE inventory ADD CONSTRAINT inventory_kind_check"
	  "  CHECK (kind IN ('profiles', 'groups', 'machines', 'bmcs'));"
	  "CREATE TABLE machine_power ("
	  "  mac        text PRIMARY KEY,"
	  "  state      text NOT NULL,"
	  "  op         text NOT NULL,"
	  "  error      text NOT NULL,"
	  "  checked_us bigint NOT NULL,"
	  "  changed_us bigint NOT NULL"
	  ");" },
	{ 7,
	  /* the transaction that wrote each event: readers going on from an
	   * id page in commit order below the snapshot's xmin, not in the
	   * sequence's insertion order (store_pg_events.c).  Rows already
	   * stored take this migration's own id: all committed, in id order */
	  "ALTER TABLE events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();"
	  "CREATE INDEX events_txid_id ON events (txid, id);" },
};

const size_t ib_store_pg_n_migrations = IB_ARRAY_SIZE(ib_store_pg_migrations);
