/*
 * Versioned schema of the SQLite store (private to src/store).
 *
 * The schema is an ordered table of steps {version, SQL}.  PRAGMA
 * user_version holds the version a database has reached; opening it
 * applies the missing steps in order, all in one transaction, so a
 * database is either fully at the old version or fully at the new one.
 */
#ifndef IB_STORE_MIGRATIONS_H
#define IB_STORE_MIGRATIONS_H

#include <stddef.h>

#include <sqlite3.h>

/* One schema step: the SQL that takes version - 1 to version. */
struct ib_store_migration {
	int version;		/* reached after sql runs; 1, 2, 3 ... */
	const char *sql;	/* constant DDL, several statements */
};

/* Runs one step's SQL on db: 0, or -EPROTO with the reason in err. */
typedef int (*ib_store_migration_exec)(void *db, const char *sql, char *err);

/*
 * The logic both stores share (SQLite's user_version, PostgreSQL's
 * ib_schema row): -EPROTO with the text in err when a database at
 * version have is newer than this build; else runs the steps[0..n) after
 * have, in order, through exec, stopping at the first that fails
 * (-EPROTO, "schema step N failed: ...").  The caller holds the
 * transaction that makes them all or nothing.
 */
int ib_store_migrations_check(int have, char *err);
int ib_store_migrations_apply(const struct ib_store_migration *steps, size_t n, int have,
			      ib_store_migration_exec exec, void *db, char *err);

/*
 * The PostgreSQL schema's steps (store_pg_schema.c): the same versions as
 * SQLite's, so "schema version N" means the same tables on both.
 */
extern const struct ib_store_migration ib_store_pg_migrations[];
extern const size_t ib_store_pg_n_migrations;

/*
 * Brings db to ib_store_schema_version().  An up-to-date database is only
 * read; an upgrade runs in its own IMMEDIATE transaction (call this
 * outside any transaction), so two processes opening the same old file do
 * not both migrate it.
 * Returns 0, -EPROTO when the database is newer than this build or a step
 * fails (text in err, 256 bytes, may be NULL), -EIO on storage errors.
 */
int ib_store_migrate(sqlite3 *db, char *err);

#endif
