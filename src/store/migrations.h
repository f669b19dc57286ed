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

#include <sqlite3.h>

/* One schema step: the SQL that takes version - 1 to version. */
struct ib_store_migration {
	int version;		/* reached after sql runs; 1, 2, 3 ... */
	const char *sql;	/* constant DDL, several statements */
};

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
