/*
 * The daemon's doctor watch (src/daemon/doctor_watch.c) on a real SQLite
 * store and journal: each run reads only the events stored since the last
 * one, runs the rules on at most IB_WATCH_CHECKS machines (the rest wait
 * their turn), runs them again when the rules' clocks pass, warns once for
 * a flood of machines failing alike, keeps each machine's verdict for
 * ironboot_doctor_findings, never waits for another connection's write
 * lock, and follows no machine for a refused or unverified request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/doctor_watch.h"
#include "doctor/doctor.h"

#define MACHINES 40			/* more than two runs' worth of checks */

static const char cfg_yaml[] =
	"server: { state_dir: /tmp/ib-doctor-watch-unit }\n"
	"dhcp4:\n  subnets:\n    - { subnet: 198.18.0.0/24, pools: [{ start: 198.18.0.100, "
	"end: 198.18.0.199 }] }\n";

struct fixture {
	char dir[64];
	char db[96];
	struct ib_store *store;
	struct ib_journal *j;
	struct ib_journal_config jcfg;
	struct ib_config *cfg;
	struct ib_doctor_watch *w;
};

static int setup(void **state)
{
	static struct fixture f;
	char err[IB_CONFIG_ERRLEN];

	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/ib-doctor-watch-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.db, sizeof(f.db), "%s/w.db", f.dir);
	if (ib_store_sqlite_open(f.db, &f.store, err) < 0)
		return -1;
	f.jcfg = (struct ib_journal_config){ .max_events = 10000, .max_age_days = 1 };
	if (ib_journal_new(f.store, &f.jcfg, &f.j) < 0 ||
	    ib_config_load_buffer("w.yaml", cfg_yaml, strlen(cfg_yaml), &f.cfg, err) < 0 ||
	    ib_doctor_watch_new(NULL, f.store, f.j, f.cfg, &f.w) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	char p[128];

	ib_doctor_watch_free(f->w);
	ib_journal_free(f->j);
	ib_store_free(f->store);
	ib_config_free(f->cfg);
	for (size_t i = 0; i < IB_ARRAY_SIZE(suffixes); i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	return 0;
}

/* A DISCOVER relayed from a link without a subnet, from machine i:
 * relay-no-subnet names it at once (no clock). */
static void relayed(struct fixture *f, unsigned i)
{
	uint8_t hw[6] = { 0x52, 0x54, 0, (uint8_t)(i >> 8), 0xd2, (uint8_t)i };
	struct ib_journal_who who = { .hw = hw, .hw_len = 6 };

	ib_journal_add(f->j, &who, "dhcp4", "discover",
		       json_pack("{s:s, s:s, s:s}", "decision", "ignore", "giaddr", "198.18.77.1",
				 "reason", "no subnet configured for this link"));
}

static const struct ib_doctor_watch_stats *run(struct fixture *f, int64_t now_us)
{
	ib_doctor_watch_run(f->w, now_us);
	return ib_doctor_watch_stats(f->w);
}

/* The gauge's value for rule relay-no-subnet. */
static unsigned long findings(struct fixture *f)
{
	static const char key[] =
		"ironboot_doctor_findings{rule=\"relay-no-subnet\",severity=\"error\"} ";
	struct ib_mx m;
	const char *p;
	unsigned long n = 999;

	ib_mx_init(&m);
	ib_doctor_watch_metrics(f->w, &m);
	assert_non_null(m.buf);
	p = strstr(m.buf, key);
	if (p)
		n = strtoul(p + strlen(key), NULL, 10);
	ib_mx_done(&m);
	return n;
}

static void test_incremental_bounded(void **state)
{
	struct fixture *f = *state;
	const struct ib_doctor_watch_stats *st;
	int64_t now;

	for (unsigned i = 0; i < MACHINES; i++)
		relayed(f, i);
	now = ib_now_us() + 1000;
	/* the scan reads the 40 new events once; 16 machines a run */
	st = run(f, now);
	assert_int_equal(st->events_read, MACHINES);
	assert_int_equal(st->checks, IB_WATCH_CHECKS);
	/* 40 machines failing alike: one warning (the rule's rate limit) */
	assert_int_equal(st->warnings, 1);
	st = run(f, now + 1);
	assert_int_equal(st->events_read, MACHINES);	/* nothing read again */
	assert_int_equal(st->checks, 2 * IB_WATCH_CHECKS);
	st = run(f, now + 2);
	assert_int_equal(st->checks, MACHINES);
	assert_int_equal(findings(f), MACHINES);
	/* nothing new, no clock passed: no work */
	st = run(f, now + 3);
	assert_int_equal(st->events_read, MACHINES);
	assert_int_equal(st->checks, MACHINES);
	/* one new event: that machine alone */
	relayed(f, 7);
	st = run(f, now + 4);
	assert_int_equal(st->events_read, MACHINES + 1);
	assert_int_equal(st->checks, MACHINES + 1);
	/* the quiet clock passed: every machine is due again, 16 a run */
	st = run(f, now + IB_DOCTOR_QUIET_US + 10);
	assert_int_equal(st->checks, MACHINES + 1 + IB_WATCH_CHECKS);
	assert_int_equal(st->events_read, MACHINES + 1);
	assert_int_equal(findings(f), MACHINES);
	/* a reload: all due again */
	ib_doctor_watch_set_config(f->w, f->cfg);
	st = run(f, now + IB_DOCTOR_QUIET_US + 20);
	assert_int_equal(st->checks, MACHINES + 1 + 2 * IB_WATCH_CHECKS);
}

/* A storm stores more than a run reads: the run reads the oldest page,
 * the next goes on from there (it used to read the newest page and skip
 * the older rest for good). */
static void test_storm_read_in_pages(void **state)
{
	struct fixture *f = *state;
	const struct ib_doctor_watch_stats *st;
	int64_t now;

	for (unsigned i = 0; i < 2 * IB_WATCH_SCAN + 100; i++)
		relayed(f, i);
	now = ib_now_us() + 1000;
	st = run(f, now);
	assert_int_equal(st->events_read, IB_WATCH_SCAN);
	/* runs far past the scan's overlap: the rest is read all the same */
	st = run(f, now + 600 * 1000000LL);
	assert_int_equal(st->events_read, 2 * IB_WATCH_SCAN);
	st = run(f, now + 1200 * 1000000LL);
	assert_int_equal(st->events_read, 2 * IB_WATCH_SCAN + 100);
	st = run(f, now + 1201 * 1000000LL);
	assert_int_equal(st->events_read, 2 * IB_WATCH_SCAN + 100);
}

/* Another connection holds the store's write lock: a run neither waits
 * for it (the store's busy timeout is 5 s) nor loses the queued events. */
static void test_locked_store(void **state)
{
	struct fixture *f = *state;
	const struct ib_doctor_watch_stats *st;
	sqlite3 *db;
	int64_t t0;

	relayed(f, 1);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	t0 = ib_now_us();
	st = run(f, t0);
	assert_true(ib_now_us() - t0 < 2000000);
	assert_int_equal(st->events_read, 0);		/* still queued */
	assert_int_equal(ib_journal_pending(f->j), 1);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	st = run(f, ib_now_us());
	assert_int_equal(st->events_read, 1);
	assert_int_equal(st->checks, 1);
}

/* A fetch in machine i's name from a host that is not i: refused (403)
 * or an asset's unverified claim (http_server.c). */
static void claimed(struct fixture *f, unsigned i, bool refused)
{
	uint8_t hw[6] = { 0x52, 0x54, 0, (uint8_t)(i >> 8), 0xd2, (uint8_t)i };
	struct ib_journal_who who = { .hw = hw, .hw_len = 6 };

	ib_journal_add(f->j, &who, "http", refused ? "script" : "asset",
		       json_pack("{s:i, s:s, s:i}", "status", refused ? 403 : 404,
				 "client", "198.18.0.50", refused ? "refused" : "unverified", 1));
}

/* Events any host may send naming any MAC are read but follow no
 * machine and make none due: a flood of them neither takes the slots of
 * the machines followed (their verdicts stay in the gauge) nor the
 * checks of a run. */
static void test_unverified_not_followed(void **state)
{
	struct fixture *f = *state;
	const struct ib_doctor_watch_stats *st;
	int64_t now = ib_now_us() + 1000;

	for (unsigned i = 0; i < 3; i++)
		relayed(f, i);
	st = run(f, now);
	assert_int_equal(st->checks, 3);
	assert_int_equal(findings(f), 3);
	for (unsigned i = 0; i < 2 * IB_WATCH_TRACK; i++)
		claimed(f, i, i % 2);
	for (unsigned k = 1; k <= 2 * 2 * IB_WATCH_TRACK / IB_WATCH_SCAN + 1; k++)
		st = run(f, now + k);
	assert_int_equal(st->events_read, 3 + 2 * IB_WATCH_TRACK);
	assert_int_equal(st->checks, 3);
	assert_int_equal(findings(f), 3);
}

/* Every machine rule has its series, 0 when no machine has it. */
static void test_metrics_every_rule(void **state)
{
	struct fixture *f = *state;
	struct ib_mx m;
	const struct ib_doctor_rule_info *r;

	ib_mx_init(&m);
	ib_doctor_watch_metrics(f->w, &m);
	assert_non_null(strstr(m.buf, "# TYPE ironboot_doctor_findings gauge\n"));
	for (size_t i = 0; (r = ib_doctor_mac_rule(i)); i++) {
		char want[128];

		snprintf(want, sizeof(want), "ironboot_doctor_findings{rule=\"%s\",severity=\"%s\"} 0\n",
			 r->id, ib_doctor_sev_str(r->severity));
		assert_non_null(strstr(m.buf, want));
	}
	ib_mx_done(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics_every_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incremental_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storm_read_in_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unverified_not_followed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
