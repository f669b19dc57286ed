/* The journal: queueing, flushing to a real SQLite store, overflow, retention. */
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
	/* Rolled back with the caller's transaction. */
	assert_int_equal(count(f, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_flush_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong_detail_is_marked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_overflow_drops_oldest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_in_caller_tx, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
