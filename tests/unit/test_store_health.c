/*
 * The store's health checks (store_health.c): a write-ahead log damaged
 * in the middle is seen before SQLite silently drops what follows, with
 * the count of durable transactions that would be lost; quick_check and
 * the rotating good copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_health.h"

#define TXNS 12

struct fx {
	char dir[64];		/* mkdtemp */
	char db[128];		/* the live database */
	char copy[128];		/* a crash-time copy of db and its log */
	sqlite3 *h;		/* the live connection, never closed cleanly */
};

static void copy(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

/* TXNS transactions of one row each, all still in the log (no
 * checkpoint), copied as a crash would leave them. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char from[160], to[160];

	strcpy(f->dir, "/tmp/ib-health-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ironboot.db", f->dir);
	snprintf(f->copy, sizeof(f->copy), "%s/crash.db", f->dir);
	assert_int_equal(sqlite3_open(f->db, &f->h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(f->h, "PRAGMA journal_mode=WAL; PRAGMA "
				      "wal_autocheckpoint=0; CREATE TABLE t (x INTEGER, "
				      "pad BLOB)", NULL, NULL, NULL), SQLITE_OK);
	for (int i = 0; i < TXNS; i++)
		assert_int_equal(sqlite3_exec(f->h, "INSERT INTO t VALUES (1, "
					      "zeroblob(100))", NULL, NULL, NULL), SQLITE_OK);
	copy(f->db, f->copy);
	snprintf(from, sizeof(from), "%s-wal", f->db);
	snprintf(to, sizeof(to), "%s-wal", f->copy);
	copy(from, to);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	sqlite3_close(f->h);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static long rows(const char *db)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	long n = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	if (sqlite3_prepare_v2(h, "SELECT count(*) FROM t", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static void flip(const char *db, uint32_t frame, uint32_t page)
{
	char wal[160];
	uint8_t b;
	off_t off = 32 + (off_t)(frame - 1) * (24 + page) + 24 + 7;
	int fd;

	snprintf(wal, sizeof(wal), "%s-wal", db);
	fd = open(wal, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void test_intact_log(void **state)
{
	struct fx *f = *state;
	struct ib_wal_report w;

	assert_int_equal(ib_wal_check(f->copy, &w), 0);
	assert_true(w.present && !w.unreadable);
	assert_int_equal(w.bad_frame, 0);
	assert_int_equal(w.valid, w.frames);
	assert_true(w.frames >= TXNS);
	assert_int_equal(w.lost_commits, 0);
	assert_int_equal(rows(f->copy), TXNS);
}

/* A bit flipped in the middle: what ib_wal_check says is lost is what
 * SQLite then drops without a word. */
static void test_damaged_frame_counts_what_sqlite_drops(void **state)
{
	struct fx *f = *state;
	struct ib_wal_report w, after;
	uint32_t page = 4096, mid;

	assert_int_equal(ib_wal_check(f->copy, &w), 0);
	mid = w.frames / 2 + 1;
	flip(f->copy, mid, page);
	assert_int_equal(ib_wal_check(f->copy, &after), 0);
	assert_int_equal(after.bad_frame, mid);
	assert_true(after.lost_commits > 0);
	assert_int_equal(after.lost_frames, w.frames - mid + 1);	/* itself too */
	assert_int_equal(rows(f->copy), TXNS - (long)after.lost_commits);
}

static void test_no_log_and_torn_tail(void **state)
{
	struct fx *f = *state;
	struct ib_wal_report w, torn;
	char wal[160];
	struct stat st;

	assert_int_equal(ib_wal_check("/nonexistent/x.db", &w), 0);
	assert_false(w.present);
	/* a torn last frame (the crash hit mid-write, before the commit
	 * returned): nothing durable is lost, nothing is reported */
	snprintf(wal, sizeof(wal), "%s-wal", f->copy);
	assert_int_equal(ib_wal_check(f->copy, &w), 0);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(truncate(wal, st.st_size - 1000), 0);
	assert_int_equal(ib_wal_check(f->copy, &torn), 0);
	assert_int_equal(torn.frames, w.frames - 1);
	assert_int_equal(torn.bad_frame, 0);
	assert_int_equal(torn.lost_commits, 0);
	assert_int_equal(rows(f->copy), TXNS - 1);
}

static void test_unreadable_header(void **state)
{
	struct fx *f = *state;
	struct ib_wal_report w;
	char wal[160];
	uint8_t b;
	int fd;

	snprintf(wal, sizeof(wal), "%s-wal", f->copy);
	fd = open(wal, O_RDWR);
	/* flip a bit of the header checksum (writing a fixed byte could
	 * write the value already there) */
	assert_int_equal(pread(fd, &b, 1, 28), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, 28), 1);
	close(fd);
	assert_int_equal(ib_wal_check(f->copy, &w), 0);
	assert_true(w.unreadable);
	assert_true(w.lost_commits >= TXNS);
}

static void test_save_quick_check_backup(void **state)
{
	struct fx *f = *state;
	char saved[256], msg[256], path[300];
	struct stat st;

	assert_int_equal(ib_store_save_damaged(f->copy, "1", saved, sizeof(saved)), 0);
	snprintf(path, sizeof(path), "%s-wal", saved);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(ib_store_quick_check(f->db, msg, sizeof(msg)), 0);
	assert_int_equal(ib_store_backup(f->db, msg, sizeof(msg)), 0);
	assert_int_equal(ib_store_backup(f->db, msg, sizeof(msg)), 0);
	snprintf(path, sizeof(path), "%s.good", f->db);
	assert_int_equal(rows(path), TXNS);
	snprintf(path, sizeof(path), "%s.good.1", f->db);
	assert_int_equal(stat(path, &st), 0);
	/* a damaged database file: quick_check names the problem */
	{
		uint8_t junk[4096];
		int fd;

		snprintf(path, sizeof(path), "%s.good", f->db);
		fd = open(path, O_RDWR);
		memset(junk, 0xa5, sizeof(junk));
		assert_int_equal(pwrite(fd, junk, sizeof(junk), 4096), (ssize_t)sizeof(junk));
		close(fd);
		assert_true(ib_store_quick_check(path, msg, sizeof(msg)) < 0);
		assert_true(msg[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intact_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_frame_counts_what_sqlite_drops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_log_and_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_quick_check_backup, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
