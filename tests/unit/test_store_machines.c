/*
 * Unit tests of the machine lifecycle rows of the store, SQLite
 * (store_sqlite_machines.c, migration step 5) and PostgreSQL
 * (store_pg_machines.c, under meson's store_machines_pg test), and of the table applied to
 * them (inventory/lifecycle_store.c): create, NICs, reports, the
 * compare-and-set between two connections (a stale writer loses), four
 * processes racing one transition (exactly one wins), the journal of
 * every write, local boots after an install, the wipe and install
 * timeouts (ib_lifecycle_expire).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config/config.h"
#include "inventory/lifecycle.h"
#include "store/store.h"
#include "store_fixture.h"

#define MAC1 "52:54:00:00:00:01"
#define MAC2 "52:54:00:00:00:02"
#define MAC3 "52:54:00:00:00:03"
#define T0 ((int64_t)NOW * 1000000)


static void discover(struct ib_store *s, const char *mac, struct ib_machine_state *m)
{
	assert_int_equal(ib_lifecycle_discover(s, mac, "http", T0, m), 0);
	assert_int_equal(m->state, IB_LC_DISCOVERED);
}

static int apply(struct ib_store *s, const char *mac, enum ib_lc_event ev,
		 struct ib_machine_state *m)
{
	struct ib_lifecycle_req rq = { .mac = mac, .ev = ev, .by = "api", .now_us = T0 + 1,
				       .profile = "debian", .fail_step = "wipe:vda",
				       .fail_reason = "EIO" };

	return ib_lifecycle_apply(s, &rq, m);
}

/* Counts the journal's events of proto "machine" of kind under mac. */
static int count_cb(const struct ib_event *e, void *ctx)
{
	struct { const char *kind; int n; char last[768]; } *c = ctx;

	if (!strcmp(e->proto, "machine") && (!c->kind || !strcmp(e->kind, c->kind))) {
		c->n++;
		snprintf(c->last, sizeof(c->last), "%s", e->detail);
	}
	return 0;
}

static int count_events(struct ib_store *s, const char *mac, const char *kind, char *last)
{
	struct { const char *kind; int n; char last[768]; } c = { kind, 0, "" };
	struct ib_event_filter f = { .mac = mac };

	assert_int_equal(ib_store_event_foreach(s, &f, count_cb, &c), 0);
	if (last)
		strcpy(last, c.last);
	return c.n;
}

static void test_create_get(void **state)
{
	struct fix *f = *state;
	struct ib_machine_state m, g;
	char last[768];

	discover(f->s, MAC1, &m);
	assert_int_equal(m.version, 1);
	assert_int_equal(ib_store_machine_get(f->s, MAC1, &g), 0);
	assert_int_equal(g.id, m.id);
	assert_string_equal(g.mac, MAC1);
	assert_int_equal(g.n_nics, 1);
	assert_string_equal(g.nics[0], MAC1);
	assert_int_equal(g.created_us, T0);
	assert_false(g.has_report);
	/* discovering again finds it, writes nothing */
	assert_int_equal(ib_lifecycle_discover(f->s, MAC1, "http", T0 + 5, &g), 0);
	assert_int_equal(g.id, m.id);
	assert_int_equal(g.version, 1);
	assert_int_equal(count_events(f->s, MAC1, "discovered", last), 1);
	assert_non_null(strstr(last, "\"by\":\"http\""));
	assert_int_equal(ib_store_machine_get(f->s, MAC2, &g), -ENOENT);
	/* a second create on a known NIC is refused */
	memset(&g, 0, sizeof(g));
	strcpy(g.mac, MAC1);
	g.state = IB_LC_DISCOVERED;
	assert_int_equal(ib_store_machine_create(f->s, &g, &(struct ib_machine_note){
		.by = "api", .kind = "discovered", .now_us = T0 }), -EEXIST);
}

static void test_nics(void **state)
{
	struct fix *f = *state;
	struct ib_machine_state a, b, g;

	discover(f->s, MAC1, &a);
	discover(f->s, MAC2, &b);
	assert_int_equal(ib_store_machine_add_nic(f->s, a.id, MAC3, T0 + 1), 0);
	assert_int_equal(ib_store_machine_add_nic(f->s, a.id, MAC3, T0 + 2), 0);	/* again */
	assert_int_equal(ib_store_machine_add_nic(f->s, a.id, MAC2, T0 + 3), -EEXIST);
	assert_int_equal(ib_store_machine_add_nic(f->s, 999, "52:54:00:00:00:09", T0), -ENOENT);
	/* the machine is found by either NIC, boot NIC first */
	assert_int_equal(ib_store_machine_get(f->s, MAC3, &g), 0);
	assert_int_equal(g.id, a.id);
	assert_string_equal(g.mac, MAC1);
	assert_int_equal(g.n_nics, 2);
	assert_string_equal(g.nics[0], MAC1);
	assert_string_equal(g.nics[1], MAC3);
	for (int i = 4; i < 4 + IB_MACHINE_NICS_MAX - 2; i++) {
		char mac[18];

		snprintf(mac, sizeof(mac), "52:54:00:00:01:%02x", i);
		assert_int_equal(ib_store_machine_add_nic(f->s, a.id, mac, T0), 0);
	}
	assert_int_equal(ib_store_machine_add_nic(f->s, a.id, "52:54:00:00:02:00", T0), -ENOSPC);
}

static void test_report(void **state)
{
	struct fix *f = *state;
	struct ib_machine_state m, g;
	char buf[64], *big;

	discover(f->s, MAC1, &m);
	assert_int_equal(ib_store_machine_report_get(f->s, m.id, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ib_store_machine_report_put(f->s, m.id, "{\"a\":1}"), 0);
	assert_int_equal(ib_store_machine_report_get(f->s, m.id, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "{\"a\":1}");
	assert_int_equal(ib_store_machine_report_get(f->s, m.id, buf, 4), -ENOBUFS);
	assert_int_equal(ib_store_machine_get(f->s, MAC1, &g), 0);
	assert_true(g.has_report);
	assert_int_equal(ib_store_machine_report_put(f->s, 999, "{}"), -ENOENT);
	big = malloc(IB_MACHINE_REPORT_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', IB_MACHINE_REPORT_MAX + 1);
	big[IB_MACHINE_REPORT_MAX + 1] = '\0';
	assert_int_equal(ib_store_machine_report_put(f->s, m.id, big), -E2BIG);
	free(big);
}

/* The whole cycle, with what each step keeps and journals. */
static void test_cycle(void **state)
{
	static const struct { enum ib_lc_event ev; enum ib_lc_state want; } steps[] = {
		{ IB_LC_EV_ACCEPT, IB_LC_ACCEPTED }, { IB_LC_EV_WIPE, IB_LC_WIPING },
		{ IB_LC_EV_WIPED, IB_LC_READY }, { IB_LC_EV_ALLOCATE, IB_LC_ALLOCATED },
		{ IB_LC_EV_INSTALL, IB_LC_INSTALLING }, { IB_LC_EV_INSTALLED, IB_LC_INSTALLED },
		{ IB_LC_EV_RELEASE, IB_LC_RELEASING }, { IB_LC_EV_WIPE, IB_LC_WIPING },
		{ IB_LC_EV_WIPED, IB_LC_READY },
	};
	struct fix *f = *state;
	struct ib_machine_state m;
	char last[768];

	discover(f->s, MAC1, &m);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(apply(f->s, MAC1, steps[i].ev, &m), 0);
		assert_int_equal(m.state, steps[i].want);
		assert_int_equal(m.version, (int64_t)i + 2);
		if (m.state == IB_LC_ALLOCATED || m.state == IB_LC_INSTALLED)
			assert_string_equal(m.profile, "debian");
	}
	assert_string_equal(m.profile, "");	/* ready again: no profile */
	assert_int_equal(count_events(f->s, MAC1, NULL, NULL), 10);
	assert_int_equal(count_events(f->s, MAC1, "allocate", last), 1);
	assert_string_equal(last, "{\"by\":\"api\",\"from\":\"ready\",\"to\":\"allocated\","
			    "\"version\":5,\"profile\":\"debian\"}");
	/* refused: ready cannot be accepted; the row and journal stay */
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_ACCEPT, &m), -EPERM);
	assert_int_equal(m.state, IB_LC_READY);
	assert_int_equal(m.version, 10);
	assert_int_equal(count_events(f->s, MAC1, NULL, NULL), 10);
	assert_int_equal(apply(f->s, MAC2, IB_LC_EV_ACCEPT, &m), -ENOENT);
}

static void test_fail_reset(void **state)
{
	struct fix *f = *state;
	struct ib_machine_state m;
	char last[768];

	discover(f->s, MAC1, &m);
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_ACCEPT, &m), 0);
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_FAIL, &m), 0);
	assert_int_equal(m.state, IB_LC_FAILED);
	assert_string_equal(m.fail_step, "wipe:vda");
	assert_string_equal(m.fail_reason, "EIO");
	assert_int_equal(count_events(f->s, MAC1, "fail", last), 1);
	assert_non_null(strstr(last, "\"step\":\"wipe:vda\",\"reason\":\"EIO\""));
	assert_int_equal(ib_store_machine_get(f->s, MAC1, &m), 0);
	assert_string_equal(m.fail_reason, "EIO");
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_RESET, &m), 0);
	assert_int_equal(m.state, IB_LC_DISCOVERED);
	assert_string_equal(m.fail_step, "");
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_RETIRE, &m), 0);
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_ACCEPT, &m), -EPERM);
	assert_int_equal(m.state, IB_LC_RETIRED);
}

/* Two connections read the same row; the second writer's read is stale. */
static void test_cas_two_connections(void **state)
{
	struct fix *f = *state;
	struct ib_store *b = fix_open_other(f);
	struct ib_machine_state m, ra, rb, wa, wb;
	struct ib_machine_note note = { .by = "api", .kind = "accept", .now_us = T0 };

	discover(f->s, MAC1, &m);
	assert_int_equal(ib_store_machine_get(f->s, MAC1, &ra), 0);
	assert_int_equal(ib_store_machine_get(b, MAC1, &rb), 0);
	wa = ra;
	wa.state = IB_LC_ACCEPTED;
	wb = rb;
	wb.state = IB_LC_RETIRED;
	assert_int_equal(ib_store_machine_update(f->s, &ra, &wa, &note), 0);
	assert_int_equal(ib_store_machine_update(b, &rb, &wb, &note), -EEXIST);
	assert_int_equal(ib_store_machine_get(b, MAC1, &rb), 0);
	assert_int_equal(rb.state, IB_LC_ACCEPTED);
	assert_int_equal(rb.version, 2);
	/* the same state but an old version loses too */
	wa.state = IB_LC_WIPING;
	assert_int_equal(ib_store_machine_update(f->s, &ra, &wa, &note), -EEXIST);
	/* the loser journalled nothing */
	assert_int_equal(count_events(b, MAC1, "accept", NULL), 1);
	ib_store_free(b);
}

#define RACERS 4

/* A racer: accepts MAC1's machine. */
static int race_accept(struct ib_store *s, int i, void *arg)
{
	struct ib_machine_state m;
	int r = apply(s, MAC1, IB_LC_EV_ACCEPT, &m);

	return r == 0 ? 0 : r == -EPERM || r == -EEXIST ? 1 : 12;
}

/* RACERS processes, each with its own connection, accept at once. */
static void test_race_processes(void **state)
{
	struct fix *f = *state;
	struct ib_machine_state m;

	discover(f->s, MAC1, &m);
	fix_race(f, RACERS, race_accept, NULL);
	assert_int_equal(ib_store_machine_get(f->s, MAC1, &m), 0);
	assert_int_equal(m.state, IB_LC_ACCEPTED);
	assert_int_equal(m.version, 2);
	assert_int_equal(count_events(f->s, MAC1, "accept", NULL), 1);
}

static void test_local_boot(void **state)
{
	static const enum ib_lc_event to_installed[] = {
		IB_LC_EV_ACCEPT, IB_LC_EV_WIPE, IB_LC_EV_WIPED, IB_LC_EV_ALLOCATE,
		IB_LC_EV_INSTALL, IB_LC_EV_INSTALLED,
	};
	struct fix *f = *state;
	struct ib_machine_state m, n;
	char last[768];

	discover(f->s, MAC1, &m);
	assert_int_equal(ib_lifecycle_local_boot(f->s, &m, T0, &n), -EPERM);
	for (size_t i = 0; i < sizeof(to_installed) / sizeof(to_installed[0]); i++)
		assert_int_equal(apply(f->s, MAC1, to_installed[i], &m), 0);
	/* the netboot that is told to boot from the disk */
	assert_int_equal(ib_lifecycle_local_boot(f->s, &m, T0 + 61000000, &n), 0);
	assert_int_equal(n.state, IB_LC_INSTALLED);
	assert_int_equal(n.local_boots, 1);
	assert_int_equal(count_events(f->s, MAC1, "local-boot", last), 1);
	assert_int_equal(count_events(f->s, MAC1, "local-boot-ignored", NULL), 0);
	/* long after: the installed system rebooted; a first again */
	assert_int_equal(ib_lifecycle_local_boot(f->s, &n, T0 + 61000000 +
						 IB_LC_LOCAL_BOOT_WINDOW_US + 1000000, &m), 0);
	assert_int_equal(m.local_boots, 1);
	assert_int_equal(count_events(f->s, MAC1, "local-boot", NULL), 2);
	/* back soon after: the disk did not boot */
	assert_int_equal(ib_lifecycle_local_boot(f->s, &m, m.updated_us + 30000000, &n), 0);
	assert_int_equal(n.state, IB_LC_INSTALLED);
	assert_int_equal(n.local_boots, 2);
	assert_int_equal(count_events(f->s, MAC1, "local-boot-ignored", last), 1);
	assert_non_null(strstr(last, "\"since_install_s\":"));
	assert_int_equal(ib_lifecycle_local_boot(f->s, &n, n.updated_us + 1000000, &m), 0);
	assert_int_equal(m.state, IB_LC_FAILED);
	assert_string_equal(m.fail_step, "local-boot");
	assert_int_equal(ib_store_machine_get(f->s, MAC1, &n), 0);
	assert_int_equal(n.state, IB_LC_FAILED);
}

/* wiping or installing past its timeout: failed (step, reason, by timer);
 * in time, or in another state: left; a stale version read: left. */
static void test_expire(void **state)
{
	const struct ib_lifecycle_config lc = { .enabled = true, .wipe_timeout = 60,
						.install_timeout = 600 };
	static const enum ib_lc_event to_installing[] = {
		IB_LC_EV_ACCEPT, IB_LC_EV_WIPE, IB_LC_EV_WIPED, IB_LC_EV_ALLOCATE,
		IB_LC_EV_INSTALL };
	struct fix *f = *state;
	struct ib_machine_state m;
	struct ib_lc_expired out[4];
	char last[768];

	discover(f->s, MAC1, &m);
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_ACCEPT, &m), 0);
	assert_int_equal(apply(f->s, MAC1, IB_LC_EV_WIPE, &m), 0);	/* since T0 + 1 */
	discover(f->s, MAC2, &m);
	for (size_t i = 0; i < sizeof(to_installing) / sizeof(to_installing[0]); i++)
		assert_int_equal(apply(f->s, MAC2, to_installing[i], &m), 0);
	discover(f->s, MAC3, &m);					/* no timeout */
	/* at the limit: nothing; past the wipe's: MAC1 only */
	assert_int_equal(ib_lifecycle_expire(f->s, &lc, T0 + 1 + 60000000, out, 4), 0);
	assert_int_equal(ib_lifecycle_expire(f->s, &lc, T0 + 2 + 60000000, out, 4), 1);
	assert_string_equal(out[0].mac, MAC1);
	assert_string_equal(out[0].step, "wipe");
	assert_int_equal(out[0].limit_s, 60);
	assert_int_equal(ib_store_machine_get(f->s, MAC1, &m), 0);
	assert_int_equal(m.state, IB_LC_FAILED);
	assert_string_equal(m.fail_step, "wipe");
	assert_string_equal(m.fail_reason,
			    "timeout: no wipe result within 60 s (lifecycle.wipe_timeout)");
	assert_int_equal(count_events(f->s, MAC1, "fail", last), 1);
	assert_non_null(strstr(last, "\"by\":\"timer\",\"from\":\"wiping\""));
	/* a decision on a stale row loses: MAC2's version moved on */
	assert_int_equal(ib_lifecycle_apply(f->s, &(struct ib_lifecycle_req){
		.mac = MAC2, .ev = IB_LC_EV_FAIL, .by = "timer", .now_us = T0 + 3,
		.expect_version = m.version - 1 }, &m), -EEXIST);
	assert_int_equal(ib_store_machine_get(f->s, MAC2, &m), 0);
	assert_int_equal(m.state, IB_LC_INSTALLING);
	/* past the install's: MAC2; then nothing is left to expire */
	assert_int_equal(ib_lifecycle_expire(f->s, &lc, T0 + 2 + 600000000, out, 4), 1);
	assert_string_equal(out[0].mac, MAC2);
	assert_string_equal(out[0].step, "install");
	assert_int_equal(ib_lifecycle_expire(f->s, &lc, T0 + 2 + 900000000, out, 4), 0);
	assert_int_equal(ib_store_machine_get(f->s, MAC3, &m), 0);
	assert_int_equal(m.state, IB_LC_DISCOVERED);
}

static int list_cb(const struct ib_machine_state *m, void *ctx)
{
	int *n = ctx;

	assert_int_equal(m->n_nics, *n == 0 ? 2 : 1);
	(*n)++;
	return 0;
}

static void test_foreach_and_schema(void **state)
{
	struct fix *f = *state;
	struct ib_machine_state a, b;
	int n = 0;

	discover(f->s, MAC1, &a);
	discover(f->s, MAC2, &b);
	assert_int_equal(ib_store_machine_add_nic(f->s, a.id, MAC3, T0), 0);
	assert_int_equal(ib_store_machine_foreach(f->s, list_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_true(ib_store_schema_version() >= 5);
	/* the CHECK refuses a state outside the table's */
	assert_true(fix_side_fails(f, "UPDATE machines_state SET state = 11"));
}

int main(void)
{
	const struct CMUnitTest both[] = {
		cmocka_unit_test_setup_teardown(test_create_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cas_two_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_and_schema, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return fix_run_groups(both, sizeof(both) / sizeof(both[0]), NULL, 0);
}
