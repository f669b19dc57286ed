/*
 * The journal: queueing, flushing to a real SQLite store, overflow,
 * retention, and the flood limits (issue #11): repeats summarised, unknown
 * clients rate-limited with the drops counted in one summary.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "journal/journal.h"

#define T0 1700000000000000LL	/* the gated events' clock, microseconds */

struct fixture {
	char dir[64];
	char db[96];
	struct ib_store *store;
	struct ib_journal *j;
	struct ib_journal_config cfg;
};

static int setup(void **state)
{
	static struct fixture f;
	char err[256];

	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/ib-journal-XXXXXX");
	if (!mkdtemp(f.dir))
		return -1;
	snprintf(f.db, sizeof(f.db), "%s/j.db", f.dir);
	if (ib_store_sqlite_open(f.db, &f.store, err) < 0)
		return -1;
	f.cfg = (struct ib_journal_config){ .max_events = 100, .max_age_days = 1 };
	if (ib_journal_new(f.store, &f.cfg, &f.j) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

	ib_journal_free(f->j);
	ib_store_free(f->store);
	static const char *const suffixes[] = { "", "-wal", "-shm" };

	for (size_t i = 0; i < IB_ARRAY_SIZE(suffixes); i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, suffixes[i]);
		unlink(p);
	}
	rmdir(f->dir);
	return 0;
}

struct collect {
	size_t n;
	struct ib_event last;
};

static int collect_cb(const struct ib_event *e, void *arg)
{
	struct collect *c = arg;

	c->n++;
	c->last = *e;
	return 0;
}

static size_t count(struct fixture *f, const char *mac, struct ib_event *last)
{
	struct ib_event_filter flt = { .mac = mac };
	struct collect c = { 0 };

	assert_int_equal(ib_store_event_foreach(f->store, &flt, collect_cb, &c), 0);
	if (last)
		*last = c.last;
	return c.n;
}

static void test_add_flush_read(void **state)
{
	struct fixture *f = *state;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0xab, 0xcd, 0xef };
	static const uint8_t cid[3] = { 1, 2, 3 };
	struct ib_journal_who who = { mac, 6, cid, 3, "uuid-1" };
	struct ib_event e;

	ib_journal_add(f->j, &who, "dhcp4", "discover", json_pack("{s:s}", "reason", "pool"));
	ib_journal_add(f->j, NULL, "tftp", "transfer", NULL);
	assert_int_equal(ib_journal_pending(f->j), 2);
	/* Nothing reaches the store before a flush. */
	assert_int_equal(count(f, NULL, NULL), 0);
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(ib_journal_pending(f->j), 0);
	assert_int_equal(count(f, "52:54:00:ab:cd:ef", &e), 1);
	assert_string_equal(e.proto, "dhcp4");
	assert_string_equal(e.kind, "discover");
	assert_string_equal(e.client_id, "010203");
	assert_string_equal(e.uuid, "uuid-1");
	assert_string_equal(e.detail, "{\"reason\":\"pool\"}");
	assert_int_equal(count(f, NULL, &e), 2);
	assert_string_equal(e.detail, "{}");
}

static void test_overlong_detail_is_marked(void **state)
{
	struct fixture *f = *state;
	char big[2000];
	struct ib_event e;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ib_journal_add(f->j, NULL, "http", "fetch", json_pack("{s:s}", "path", big));
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(count(f, NULL, &e), 1);
	assert_string_equal(e.detail, "{\"truncated\":true}");
}

static void test_queue_overflow_drops_oldest(void **state)
{
	struct fixture *f = *state;
	struct ib_event e;

	for (int i = 0; i < IB_JOURNAL_QUEUE + 5; i++)
		ib_journal_add(f->j, NULL, "dhcp4", "discover", json_pack("{s:i}", "i", i));
	assert_int_equal(ib_journal_pending(f->j), IB_JOURNAL_QUEUE);
	assert_int_equal(ib_journal_dropped(f->j), 5);
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(count(f, NULL, &e), IB_JOURNAL_QUEUE);
	assert_int_equal(ib_journal_prune(f->j, ib_now_us()), 0);
	/* Retention keeps the newest max_events. */
	assert_int_equal(count(f, NULL, &e), 100);
	assert_non_null(strstr(e.detail, "8196"));
}

static void test_flush_in_caller_tx(void **state)
{
	struct fixture *f = *state;

	ib_journal_add(f->j, NULL, "dhcp4", "request", NULL);
	assert_int_equal(ib_store_begin(f->store), 0);
	assert_int_equal(ib_journal_flush(f->j, true), 0);
	assert_int_equal(ib_store_rollback(f->store), 0);
	/* Rolled back with the caller's transaction, and still queued. */
	ib_journal_settle(f->j, false);
	assert_int_equal(count(f, NULL, NULL), 0);
	assert_int_equal(ib_journal_pending(f->j), 1);
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(count(f, NULL, NULL), 1);
}

/* Events as stored, oldest first (up to 8). */
struct all {
	size_t n;
	struct ib_event e[8];
};

static int all_cb(const struct ib_event *e, void *arg)
{
	struct all *a = arg;

	if (a->n < 8)
		a->e[a->n] = *e;
	a->n++;
	return 0;
}

static void stored(struct fixture *f, struct all *a)
{
	struct ib_event_filter flt = { 0 };

	memset(a, 0, sizeof(*a));
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(ib_store_event_foreach(f->store, &flt, all_cb, a), 0);
}

/* Queues a gated event at t seconds; whether it was let through. */
static bool gated(struct fixture *f, const struct ib_journal_who *who, const char *kind,
		  uint64_t key, bool limited, double t)
{
	struct ib_journal_gate g = { key, limited, NULL };
	size_t cap;
	char *buf = ib_journal_add_slot_gated(f->j, who, "dhcp4", kind, &g,
					      T0 + (int64_t)(t * 1e6), &cap);

	if (buf)
		snprintf(buf, cap, "{\"t\":%g}", t);
	return buf != NULL;
}

static void tick(struct fixture *f, double t)
{
	ib_journal_tick(f->j, T0 + (int64_t)(t * 1e6), false);
}

/* A repeat within IB_JOURNAL_REPEAT_SEC is counted; its summary comes once
 * the window closes, with the who, protocol and kind of the event. */
static void test_repeats_summarised(void **state)
{
	struct fixture *f = *state;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x42 };
	struct ib_journal_who who = { .hw = mac, .hw_len = 6 };
	struct all a;

	assert_true(gated(f, &who, "discover", 7, false, 0));
	assert_false(gated(f, &who, "discover", 7, false, 1));
	assert_false(gated(f, &who, "discover", 7, false, 9.5));
	tick(f, 9.9);				/* the window is still open */
	stored(f, &a);
	assert_int_equal(a.n, 1);
	tick(f, IB_JOURNAL_REPEAT_SEC);
	stored(f, &a);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.e[1].mac, "52:54:00:00:00:42");
	assert_string_equal(a.e[1].kind, "discover");
	assert_non_null(strstr(a.e[1].detail, "\"repeated\":2"));
	/* after the window, the same event is a row of its own again */
	assert_true(gated(f, &who, "discover", 7, false, 11));
	/* another key in the same slot ends the count: its summary first */
	assert_false(gated(f, &who, "discover", 7, false, 12));
	assert_true(gated(f, &who, "request", 7 + IB_JOURNAL_REPEATS, false, 13));
	stored(f, &a);
	assert_int_equal(a.n, 5);
	assert_non_null(strstr(a.e[3].detail, "\"repeated\":1"));
	assert_string_equal(a.e[4].kind, "request");
	/* key 0: never a repeat */
	assert_true(gated(f, &who, "offer", 0, false, 14));
	assert_true(gated(f, &who, "offer", 0, false, 14));
	assert_int_equal(ib_journal_thinned(f->j), 3);
}

/* Unknown clients' events pass at the rate limit, bursts of its burst;
 * the drops are one summary event; known clients' pass whatever. */
static void test_unknown_rate_limited(void **state)
{
	struct fixture *f = *state;
	size_t passed = 0;
	struct all a;

	for (int i = 0; i < IB_JOURNAL_LIMIT_BURST + 100; i++)
		passed += gated(f, NULL, "discover", 0, true, 0);
	assert_int_equal(passed, IB_JOURNAL_LIMIT_BURST);
	assert_true(gated(f, NULL, "request", 0, false, 0));	/* known: not limited */
	tick(f, 0.5);			/* drops less than a second ago: not yet */
	stored(f, &a);
	assert_int_equal(a.n, IB_JOURNAL_LIMIT_BURST + 1);
	/* a second later the bucket let IB_JOURNAL_LIMIT_RATE through again */
	passed = 0;
	for (int i = 0; i < IB_JOURNAL_LIMIT_RATE + 10; i++)
		passed += gated(f, NULL, "discover", 0, true, 1);
	assert_int_equal(passed, IB_JOURNAL_LIMIT_RATE);
	tick(f, 2.5);			/* a quiet second: the summary */
	tick(f, 2.6);			/* once */
	memset(&a, 0, sizeof(a));
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	{
		struct ib_event_filter flt = { .proto = "dhcp4", .limit = 1 };

		assert_int_equal(ib_store_event_foreach(f->store, &flt, all_cb, &a), 0);
	}
	assert_string_equal(a.e[0].kind, IB_JOURNAL_LIMITED_KIND);
	assert_string_equal(a.e[0].mac, "");
	assert_non_null(strstr(a.e[0].detail, "\"dropped\":110"));
	assert_int_equal(ib_journal_thinned(f->j), 110);
}

/* Events naming a source pass at its own rate, bursts of its burst, each
 * source apart; its drops are one summary with the client, no MAC. */
static void test_source_rate_limited(void **state)
{
	struct fixture *f = *state;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x77 };
	struct ib_journal_who who = { .hw = mac, .hw_len = 6 };
	struct ib_journal_gate g = { .source = "198.18.0.50" };
	struct ib_journal_gate other = { .source = "198.18.0.51" };
	size_t passed = 0, cap;
	struct all a;

	for (int i = 0; i < IB_JOURNAL_SOURCE_BURST + 40; i++)
		passed += ib_journal_add_slot_gated(f->j, &who, "http", "script", &g, T0, &cap) != NULL;
	assert_int_equal(passed, IB_JOURNAL_SOURCE_BURST);
	/* another address has its own bucket */
	assert_non_null(ib_journal_add_slot_gated(f->j, &who, "http", "script", &other, T0, &cap));
	/* a second later, IB_JOURNAL_SOURCE_RATE more */
	passed = 0;
	for (int i = 0; i < 10; i++)
		passed += ib_journal_add_slot_gated(f->j, &who, "http", "script", &g, T0 + 1000000,
						    &cap) != NULL;
	assert_int_equal(passed, IB_JOURNAL_SOURCE_RATE);
	tick(f, 3);
	memset(&a, 0, sizeof(a));
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	{
		struct ib_event_filter flt = { .proto = "http", .limit = 1 };

		assert_int_equal(ib_store_event_foreach(f->store, &flt, all_cb, &a), 0);
	}
	assert_string_equal(a.e[0].kind, IB_JOURNAL_LIMITED_KIND);
	assert_string_equal(a.e[0].mac, "");
	assert_non_null(strstr(a.e[0].detail, "\"dropped\":49"));
	assert_non_null(strstr(a.e[0].detail, "\"client\":\"198.18.0.50\""));
	assert_int_equal(ib_journal_thinned(f->j), 49);
}

/* The drop summaries stored, and their counts summed. */
struct drops {
	size_t summaries;
	long long dropped;
	size_t rows;
};

static int drops_cb(const struct ib_event *e, void *arg)
{
	struct drops *d = arg;
	const char *p = strstr(e->detail, "\"dropped\":");

	d->rows++;
	if (strcmp(e->kind, IB_JOURNAL_LIMITED_KIND) == 0 && p) {
		d->summaries++;
		d->dropped += atoll(p + 10);
	}
	return 0;
}

/* During a long flood the drop count is summarised every window, and what
 * is pending when the daemon stops is written by the final tick; a known
 * machine's events are all there. */
static void test_long_flood_and_final_tick(void **state)
{
	struct fixture *f = *state;
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x43 };
	struct ib_journal_who who = { .hw = mac, .hw_len = 6 };
	struct ib_event_filter flt = { 0 };
	struct drops d = { 0 };
	size_t passed = 0;

	for (int s10 = 0; s10 < 250; s10++) {		/* 25 s at 1,000 a second */
		for (int i = 0; i < 100; i++)
			passed += gated(f, NULL, "discover", 0, true, s10 / 10.0);
		if (s10 % 50 == 0)
			assert_true(gated(f, &who, "request", 0, false, s10 / 10.0));
		tick(f, s10 / 10.0);
	}
	ib_journal_tick(f->j, T0 + 25 * 1000000LL, true);
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(ib_store_event_foreach(f->store, &flt, drops_cb, &d), 0);
	assert_int_equal(passed + (size_t)d.dropped, 25000);	/* each one passed or counted */
	assert_true(passed <= IB_JOURNAL_LIMIT_BURST + IB_JOURNAL_LIMIT_RATE * 25 + 1);
	assert_true(d.summaries >= 25 / IB_JOURNAL_REPEAT_SEC);	/* one per window */
	assert_true(d.summaries <= 25 / IB_JOURNAL_REPEAT_SEC + 1);
	assert_int_equal(count(f, "52:54:00:00:00:43", NULL), 5);	/* all the known one's */
}

/* What the listener (the live follow) was told: ids, and batch ends. */
struct told {
	size_t n;
	int64_t id[8];
	size_t batches;
};

static void told_cb(void *ctx, const struct ib_event *e)
{
	struct told *t = ctx;

	if (!e)
		t->batches++;
	else if (t->n < IB_ARRAY_SIZE(t->id))
		t->id[t->n++] = e->id;
}

/*
 * The group commit's path (dhcp_engine.c): events written in its
 * transaction are told only once it commits; a refused commit (rolled
 * back) tells nothing, and the events are told once, in id order, when
 * they are stored.
 */
static void test_listener_told_only_durable(void **state)
{
	struct fixture *f = *state;
	struct told t = { 0 };
	struct all a = { 0 };

	ib_journal_set_listener(f->j, told_cb, &t);
	ib_journal_add(f->j, NULL, "dhcp6", "solicit", NULL);
	ib_journal_add(f->j, NULL, "dhcp6", "request", NULL);
	assert_int_equal(ib_store_begin(f->store), 0);
	assert_int_equal(ib_journal_flush(f->j, true), 0);
	assert_int_equal(t.n, 0);			/* not durable yet */
	assert_int_equal(ib_journal_flush(f->j, false), -EBUSY);
	assert_int_equal(ib_store_rollback(f->store), 0);	/* the refusal */
	ib_journal_settle(f->j, false);
	assert_int_equal(t.n, 0);
	assert_int_equal(t.batches, 0);

	ib_journal_add(f->j, NULL, "dhcp6", "renew", NULL);
	assert_int_equal(ib_store_begin(f->store), 0);
	assert_int_equal(ib_journal_flush(f->j, true), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(ib_store_commit(f->store), 0);
	ib_journal_settle(f->j, true);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.batches, 1);
	assert_int_equal(ib_journal_pending(f->j), 0);
	stored(f, &a);
	assert_int_equal(a.n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_true(t.id[i] > 0);
		assert_int_equal(t.id[i], a.e[i].id);	/* the stored ids, in order */
		if (i)
			assert_true(t.id[i] > t.id[i - 1]);
	}
	assert_string_equal(a.e[0].kind, "solicit");
	assert_string_equal(a.e[2].kind, "renew");
	/* nothing told twice */
	ib_journal_settle(f->j, true);
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(t.n, 3);
	ib_journal_set_listener(f->j, NULL, NULL);
}

/*
 * Another connection (the CLI, a second daemon) holds the write lock: a
 * flush without waiting answers -EAGAIN at once, not after the store's
 * 5 s busy timeout, and keeps the events queued; once the lock is free
 * it stores them, each told once.
 */
static void test_flush_nowait_locked(void **state)
{
	struct fixture *f = *state;
	struct told t = { 0 };
	struct ib_store *other;
	char err[256];
	int64_t t0;

	ib_journal_set_listener(f->j, told_cb, &t);
	ib_journal_add(f->j, NULL, "http", "request", NULL);
	ib_journal_add(f->j, NULL, "tftp", "transfer", NULL);
	assert_int_equal(ib_store_sqlite_open(f->db, &other, err), 0);
	assert_int_equal(ib_store_begin(other), 0);	/* BEGIN IMMEDIATE */
	t0 = ib_now_us();
	assert_int_equal(ib_journal_flush_nowait(f->j), -EAGAIN);
	assert_true(ib_now_us() - t0 < 1000000);
	assert_int_equal(ib_journal_pending(f->j), 2);
	assert_int_equal(t.n, 0);
	assert_int_equal(count(f, NULL, NULL), 0);
	assert_int_equal(ib_store_rollback(other), 0);
	ib_store_free(other);
	assert_int_equal(ib_journal_flush_nowait(f->j), 0);
	assert_int_equal(ib_journal_pending(f->j), 0);
	assert_int_equal(count(f, NULL, NULL), 2);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.batches, 1);
	ib_journal_set_listener(f->j, NULL, NULL);
}

/* Retention, too, answers -EAGAIN at once under another writer's lock. */
static void test_prune_nowait_locked(void **state)
{
	struct fixture *f = *state;
	struct ib_store *other;
	char err[256];
	int64_t t0;

	for (int i = 0; i < 150; i++)
		ib_journal_add(f->j, NULL, "dhcp4", "discover", json_pack("{s:i}", "i", i));
	assert_int_equal(ib_journal_flush(f->j, false), 0);
	assert_int_equal(ib_store_sqlite_open(f->db, &other, err), 0);
	assert_int_equal(ib_store_begin(other), 0);	/* BEGIN IMMEDIATE */
	t0 = ib_now_us();
	assert_int_equal(ib_journal_prune(f->j, ib_now_us()), -EAGAIN);
	assert_true(ib_now_us() - t0 < 1000000);
	assert_int_equal(ib_store_rollback(other), 0);
	ib_store_free(other);
	assert_int_equal(count(f, NULL, NULL), 150);
	assert_int_equal(ib_journal_prune(f->j, ib_now_us()), 0);
	assert_int_equal(count(f, NULL, NULL), 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repeats_summarised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_flood_and_final_tick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_flush_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong_detail_is_marked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_overflow_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_in_caller_tx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listener_told_only_durable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_nowait_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_nowait_locked, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
