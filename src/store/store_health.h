/*
 * The SQLite store's health at start: what a damaged write-ahead log
 * would silently lose, the database's own consistency check, and a
 * rotating copy of the last good database for an operator to recover
 * from.  Nothing here logs; the daemon says what it found.
 */
#ifndef IB_STORE_STORE_HEALTH_H
#define IB_STORE_STORE_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the write-ahead log next to a database holds. */
struct ib_wal_report {
	bool present;		/* a non-empty -wal file exists */
	bool unreadable;	/* its header is damaged: SQLite ignores all of it */
	uint32_t frames;	/* whole frames in the file */
	uint32_t valid;		/* frames SQLite will replay (up to the last good commit) */
	uint32_t bad_frame;	/* 1-based index of the first frame that fails, or 0 */
	uint32_t lost_commits;	/* commits of this log's generation after bad_frame:
				 * durable transactions SQLite would drop */
	uint32_t lost_frames;	/* frames of this generation after bad_frame */
};

/*
 * Reads db_path's write-ahead log (db_path + "-wal") without SQLite: the
 * header, then every frame's salts and cumulative checksum (the WAL
 * format of sqlite.org/fileformat2.html#walformat).  SQLite replays
 * frames only up to the first one whose checksum fails, and drops the
 * rest without a word; a commit frame of the same generation after that
 * point is a transaction that was durable and will be lost.  Returns 0
 * (with *ret filled; no log is present = all zero), or -errno.
 */
int ib_wal_check(const char *db_path, struct ib_wal_report *ret);

/*
 * Copies db_path and its -wal file to db_path.damaged-STAMP[-wal] before
 * SQLite recovers (and truncates) the log, so nothing is destroyed.
 * Writes the copy's path into out (len bytes).  0 or -errno.
 */
int ib_store_save_damaged(const char *db_path, const char *stamp, char *out, size_t len);

/*
 * PRAGMA quick_check on its own connection to db_path: 0 if "ok";
 * -EBADMSG with SQLite's first complaint in msg; -EIO if it cannot run.
 */
int ib_store_quick_check(const char *db_path, char *msg, size_t len);

/*
 * Writes a consistent copy of db_path to db_path.good (VACUUM INTO a
 * temporary file, fsync, rename), keeping the previous one as
 * db_path.good.1.  Uses its own connection, so it may run in another
 * thread while the daemon serves.  0, or -errno with a reason in msg.
 */
int ib_store_backup(const char *db_path, char *msg, size_t len);

#endif
