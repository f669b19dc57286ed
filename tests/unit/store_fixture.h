/*
 * The fixture of the store's unit tests (test_store.c, test_store6.c,
 * test_store_machines.c), on both backends: a fresh SQLite database in its
 * own mkdtemp() directory under /tmp per test, removed afterwards; or,
 * when IB_TEST_PG names a PostgreSQL URI (tests/lib/pglab.py starts a
 * server for meson's *_pg tests), that database emptied before each test
 * (its public schema dropped and made again).  fix_run() runs a file's
 * tests of the interface on the backend chosen, and its SQLite-only tests
 * (a side connection for what the interface cannot do: corrupt a schema,
 * count rows) on SQLite.  Include after <cmocka.h>.
 */
#ifndef IB_TESTS_STORE_FIXTURE_H
#define IB_TESTS_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite_int.h"

/* The PostgreSQL URI the tests run on (IB_TEST_PG), or NULL: SQLite. */
static const char *fix_pg;

#define NOW 1700000000
#define SUBNET 0x0a000000u	/* 10.0.0.0: the IPv4 tests' subnet */

/*
 * The reclaim tests' six leases, IPv4 and IPv6 alike: a state and expiry
 * before the reclaim at NOW, and the state after it.
 */
static const struct reclaim_row {
	enum ib_lease_state st;
	int64_t exp;
	enum ib_lease_state want;
} reclaim_rows[6] = {
	{ IB_LEASE_ACTIVE, NOW - 10, IB_LEASE_EXPIRED },	/* active, past */
	{ IB_LEASE_ACTIVE, NOW + 10, IB_LEASE_ACTIVE },		/* active, future */
	{ IB_LEASE_DECLINED, NOW - 10, IB_LEASE_EXPIRED },	/* declined, past */
	{ IB_LEASE_DECLINED, NOW + 10, IB_LEASE_DECLINED },	/* declined, future */
	{ IB_LEASE_RELEASED, NOW - 10, IB_LEASE_RELEASED },	/* released, past */
	{ IB_LEASE_ACTIVE, NOW, IB_LEASE_EXPIRED },		/* active, expiring now */
};

/* Per-test fixture: a temp directory and a store open in it. */
struct fix {
	char dir[64];		/* mkdtemp() result */
	char path[96];		/* dir/ib.db */
	struct ib_store *s;	/* open store, or NULL */
};

static inline void rm_db(const char *dir)
{
	static const char *const names[] = { "ib.db", "ib.db-wal", "ib.db-shm",
					     "ib.db-journal" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
}

static inline struct fix *fix_new_dir(void)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/ib-store-test-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ib.db", f->dir);
	return f;
}

/* Runs sql on the PostgreSQL test database through its own connection. */
static inline void fix_pg_exec(const char *sql)
{
	PGconn *c = PQconnectdb(fix_pg);
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK)
		print_error("%s: %s\n", fix_pg, PQerrorMessage(c));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		print_error("%s: %s\n", sql, PQerrorMessage(c));
	assert_true(PQresultStatus(res) == PGRES_COMMAND_OK ||
		    PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	PQfinish(c);
}

/* Whether sql fails on f's database, run through a side connection of
 * its backend (a CHECK that refuses a bad row). */
static inline bool fix_side_fails(const struct fix *f, const char *sql)
{
	bool failed;

	if (fix_pg) {
		PGconn *c = PQconnectdb(fix_pg);
		PGresult *res = PQexec(c, sql);

		failed = PQresultStatus(res) != PGRES_COMMAND_OK;
		PQclear(res);
		PQfinish(c);
	} else {
		sqlite3 *db;

		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		failed = sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK;
		sqlite3_close(db);
	}
	return failed;
}

/* Another connection to f's store, of its backend (a second daemon). */
static inline struct ib_store *fix_open_other(struct fix *f)
{
	struct ib_store *s = NULL;
	char err[256] = "";
	int r = fix_pg ? ib_store_pg_open(fix_pg, NULL, &s, err)
		       : ib_store_sqlite_open(f->path, &s, err);

	if (r < 0)
		print_error("open: %s\n", err);
	assert_int_equal(r, 0);
	return s;
}

static inline void fix_open(struct fix *f)
{
	f->s = fix_open_other(f);
}

static inline int setup(void **state)
{
	struct fix *f = fix_new_dir();

	if (fix_pg)
		fix_pg_exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	fix_open(f);
	*state = f;
	return 0;
}

static inline int setup_dir_only(void **state)
{
	*state = fix_new_dir();
	return 0;
}

static inline int teardown(void **state)
{
	struct fix *f = *state;

	ib_store_free(f->s);
	rm_db(f->dir);
	rmdir(f->dir);
	free(f);
	return 0;
}

/*
 * Races n processes (at most 16), each with its own connection to f's
 * store (a daemon each): racer i runs race(s, i, arg) once all have
 * connected, and returns 0 when it won, 1 when the store turned it away.
 * Asserts that exactly one won; returns its index.
 */
static inline int fix_race(struct fix *f, int n, int (*race)(struct ib_store *, int, void *),
			   void *arg)
{
	int go[2], wins = 0, losses = 0, winner = -1;
	pid_t pid[16];

	assert_true(n <= 16);
	assert_int_equal(pipe(go), 0);
	for (int i = 0; i < n; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0) {
			struct ib_store *s = NULL;
			char err[256], c;
			int r;

			close(go[1]);
			if ((fix_pg ? ib_store_pg_open(fix_pg, NULL, &s, err)
				    : ib_store_sqlite_open(f->path, &s, err)) < 0)
				_exit(10);
			if (read(go[0], &c, 1) != 0)	/* the close: all start at once */
				_exit(11);
			r = race(s, i, arg);
			ib_store_free(s);
			_exit(r == 0 || r == 1 ? r : 12);
		}
	}
	close(go[0]);
	close(go[1]);
	for (int i = 0; i < n; i++) {
		int st;

		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) == 0) {
			wins++;
			winner = i;
		} else if (WEXITSTATUS(st) == 1) {
			losses++;
		} else {
			fail_msg("racer %d: exit %d", i, WEXITSTATUS(st));
		}
	}
	assert_int_equal(wins, 1);
	assert_int_equal(losses, n - 1);
	return winner;
}

/*
 * Runs a test file's groups on the backend IB_TEST_PG chooses: both[]
 * (the interface's tests), then only[] (that backend's own: the caller
 * picks the list by fix_backend_pg()).  The number of failed tests.
 */
#define fix_run(both, only) \
	fix_run_groups(both, sizeof(both) / sizeof(both[0]), \
		       only, sizeof(only) / sizeof(only[0]))

/* Whether this run is on PostgreSQL (IB_TEST_PG is set). */
static inline bool fix_backend_pg(void)
{
	const char *pg = getenv("IB_TEST_PG");

	return pg && pg[0];
}

static inline int fix_run_groups(const struct CMUnitTest *both, size_t n_both,
				 const struct CMUnitTest *only, size_t n_only)
{
	int failed;

	if (fix_backend_pg())
		fix_pg = getenv("IB_TEST_PG");
	failed = _cmocka_run_group_tests(fix_pg ? "postgresql" : "sqlite", both, n_both,
					 NULL, NULL);
	if (n_only)
		failed += _cmocka_run_group_tests(fix_pg ? "postgresql-only" : "sqlite-only",
						  only, n_only, NULL, NULL);
	return failed;
}

static inline sqlite3 *side_open(const char *path)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static inline void side_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		print_error("%s: %s\n", sql, msg ? msg : "?");
	assert_null(msg);
}

static inline int64_t side_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * A pool's count (IB_SS_SQL_COUNT) reads the table through its primary
 * key, not through the (state, expires) index, which would read every
 * unexpired lease for every pool: asserted on SQLite's query plan.
 */
static inline void assert_count_plan(const char *path, const char *count_sql)
{
	char sql[512];
	sqlite3 *db = side_open(path);
	sqlite3_stmt *st;
	bool by_key = false;

	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", count_sql);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		assert_null(strstr(d, "state_expires"));
		by_key |= strstr(d, "PRIMARY KEY (") != NULL;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(by_key);
}

/*
 * Addresses fd00:b007:0:<sub>::<host> (the tests' /48), subnet its /64.
 * A client n has DUID-LL (RFC 8415 11.4) of MAC 52:54:00:00:00:<n>.
 */
static inline void mk_addr6(uint8_t out[16], uint8_t sub, uint16_t host)
{
	static const uint8_t net[6] = { 0xfd, 0x00, 0xb0, 0x07, 0x00, 0x00 };

	memset(out, 0, 16);
	memcpy(out, net, sizeof(net));
	out[7] = sub;
	out[14] = (uint8_t)(host >> 8);
	out[15] = (uint8_t)host;
}

static inline struct ib_lease6 mk_lease6_at(const uint8_t addr[16], uint8_t client,
					    uint32_t iaid, int64_t cltt, int64_t expires)
{
	static const uint8_t duid_ll[4] = { 0x00, 0x03, 0x00, 0x01 };
	struct ib_lease6 l;

	memset(&l, 0, sizeof(l));
	memcpy(l.address, addr, 16);
	memcpy(l.subnet, addr, 8);		/* the /64 */
	l.prefix_len = 64;
	memcpy(l.mac, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, client }, 6);
	l.has_mac = true;
	memcpy(l.duid, duid_ll, sizeof(duid_ll));
	memcpy(l.duid + sizeof(duid_ll), l.mac, 6);
	l.duid_len = sizeof(duid_ll) + 6;
	l.iaid = iaid;
	snprintf(l.hostname, sizeof(l.hostname), "host6-%u", client);
	l.cltt = cltt;
	l.preferred = expires - 30;
	l.expires = expires;
	l.state = IB_LEASE_ACTIVE;
	return l;
}

static inline struct ib_lease6 mk_lease6(uint8_t sub, uint16_t host, uint8_t client,
					 uint32_t iaid, int64_t cltt, int64_t expires)
{
	uint8_t a[16];

	mk_addr6(a, sub, host);
	return mk_lease6_at(a, client, iaid, cltt, expires);
}

static inline void assert_lease6_equal(const struct ib_lease6 *a, const struct ib_lease6 *b)
{
	assert_memory_equal(a->address, b->address, 16);
	assert_memory_equal(a->subnet, b->subnet, 16);
	assert_int_equal(a->prefix_len, b->prefix_len);
	assert_int_equal(a->duid_len, b->duid_len);
	assert_memory_equal(a->duid, b->duid, a->duid_len);
	assert_int_equal(a->iaid, b->iaid);
	assert_int_equal(a->has_mac, b->has_mac);
	if (a->has_mac)
		assert_memory_equal(a->mac, b->mac, 6);
	assert_string_equal(a->hostname, b->hostname);
	assert_int_equal(a->cltt, b->cltt);
	assert_int_equal(a->preferred, b->preferred);
	assert_int_equal(a->expires, b->expires);
	assert_int_equal(a->state, b->state);
}

#endif
