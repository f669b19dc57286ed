/* Unit tests for TFTP admission and the flood summary (tftp_admit.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "common/util.h"
#include "tftp/tftp_admit.h"
#include "tftp/tftp_server_int.h"

/* lab.yaml's numbers, with a small table of unacknowledged transfers */
static const struct ib_tftp_admit_limits LIM = {
	.max_live = 2000, .max_unacked = 100, .max_per_client = 8,
};

/* Every branch of the request decision. */
static void test_request_verdicts(void **state)
{
	static const struct {
		const char *what;
		struct ib_tftp_admit_counts n;
		enum ib_tftp_admit_verdict want;
	} cases[] = {
		{ "idle server", { 0, 0, 0, 0, 0 }, IB_TFTP_ADMIT_START },
		{ "room in both pools", { 1500, 99, 99, 7, 0 }, IB_TFTP_ADMIT_START },
		{ "source at its share, all under way",
		  { 10, 0, 0, 8, 0 }, IB_TFTP_ADMIT_BUSY_CLIENT },
		{ "source at its share, all waiting",
		  { 0, 8, 8, 0, 8 }, IB_TFTP_ADMIT_BUSY_CLIENT },
		{ "source at its share, mixed",
		  { 10, 10, 5, 3, 5 }, IB_TFTP_ADMIT_BUSY_CLIENT },
		{ "share beats a full table",
		  { 10, 100, 100, 0, 8 }, IB_TFTP_ADMIT_BUSY_CLIENT },
		{ "no slot under way for it, even if ACKed",
		  { 2000, 0, 0, 0, 0 }, IB_TFTP_ADMIT_BUSY_SERVER },
		{ "full under way beats eviction",
		  { 2000, 100, 100, 1, 0 }, IB_TFTP_ADMIT_BUSY_SERVER },
		{ "table full of strangers: oldest stranger goes",
		  { 0, 100, 100, 0, 0 }, IB_TFTP_ADMIT_EVICT_STRANGER },
		{ "a proven source also evicts a stranger first",
		  { 5, 100, 1, 2, 3 }, IB_TFTP_ADMIT_EVICT_STRANGER },
		{ "only proven sources wait: a stranger is refused",
		  { 50, 100, 0, 0, 0 }, IB_TFTP_ADMIT_BUSY_SERVER },
		{ "only proven sources wait: a proven one evicts the oldest",
		  { 50, 100, 0, 1, 0 }, IB_TFTP_ADMIT_EVICT_OLDEST },
		{ "over the table after a reload shrank it",
		  { 0, 150, 150, 0, 0 }, IB_TFTP_ADMIT_EVICT_STRANGER },
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		enum ib_tftp_admit_verdict v = ib_tftp_admit_request(&LIM, &cases[i].n);

		if (v != cases[i].want)
			fail_msg("%s: verdict %d, want %d", cases[i].what, v,
				 cases[i].want);
	}
}

/* The first ACK takes a slot under way only if one is free. */
static void test_promote(void **state)
{
	static const struct {
		struct ib_tftp_admit_counts n;
		bool want;
	} cases[] = {
		{ { 0, 1, 1, 0, 1 }, true },
		{ { 1999, 100, 0, 7, 1 }, true },
		{ { 2000, 1, 0, 0, 1 }, false },
		{ { 2001, 1, 0, 0, 1 }, false },	/* after a reload shrank it */
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++)
		assert_int_equal(ib_tftp_admit_promote(&LIM, &cases[i].n),
				 cases[i].want);
}

/*
 * The flood against a model of the shell: requests from `spoofed`
 * distinct addresses that never ACK, and among them, after `at` of them, a
 * real client that ACKs once `delay` more requests have arrived.  It keeps
 * its request exactly when delay < max_unacked, and once under way no
 * amount of flood takes its slot; no spoofed request ever gets one.
 */
struct model {
	uint32_t live;			/* under way (only the real client) */
	uint32_t *fifo;			/* unacked, oldest first: request ids */
	size_t head, len, cap;
};

static void model_request(struct model *m, const struct ib_tftp_admit_limits *lim,
			  uint32_t id)
{
	struct ib_tftp_admit_counts n = {
		.live = m->live, .unacked = (uint32_t)m->len,
		.stranger_unacked = (uint32_t)m->len,
	};
	enum ib_tftp_admit_verdict v = ib_tftp_admit_request(lim, &n);

	/* the spoofed sources are all strangers; the real client's request is
	 * one too, until it is under way */
	if (v == IB_TFTP_ADMIT_EVICT_STRANGER) {
		m->head = (m->head + 1) % m->cap;
		m->len--;
	} else {
		assert_int_equal(v, IB_TFTP_ADMIT_START);
	}
	m->fifo[(m->head + m->len) % m->cap] = id;
	m->len++;
}

/* Whether request id is still waiting; removes it if so (it is ACKed). */
static bool model_ack(struct model *m, uint32_t id)
{
	for (size_t k = 0; k < m->len; k++) {
		size_t i = (m->head + k) % m->cap;

		if (m->fifo[i] != id)
			continue;
		for (; k + 1 < m->len; k++)	/* close the gap, order kept */
			m->fifo[(m->head + k) % m->cap] =
				m->fifo[(m->head + k + 1) % m->cap];
		m->len--;
		return true;
	}
	return false;
}

/* The real client ACKs request id: under way if it was still waiting. */
static bool model_serve(struct model *m, const struct ib_tftp_admit_limits *lim,
			uint32_t id)
{
	struct ib_tftp_admit_counts n = { .live = m->live };

	if (!model_ack(m, id) || !ib_tftp_admit_promote(lim, &n))
		return false;
	m->live++;
	return true;
}

static void test_flood_model(void **state)
{
	static const struct {
		uint32_t max_unacked, spoofed, at, delay;
		bool served;
	} cases[] = {
		{ 100, 2008, 1000, 0, true },
		{ 100, 2008, 1000, 99, true },
		{ 100, 2008, 1000, 100, false },	/* evicted just before */
		{ 2000, 2008, 1990, 1999, true },	/* lab.yaml: table = 2000 */
		{ 2000, 2008, 2007, 0, true },		/* last of the flood */
		{ 1, 50, 10, 0, true },
		{ 1, 50, 10, 1, false },
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		struct ib_tftp_admit_limits lim = {
			.max_live = 2000, .max_unacked = cases[i].max_unacked,
			.max_per_client = 8,
		};
		struct model m = { .cap = cases[i].max_unacked + 1 };
		uint32_t real = UINT32_MAX, id = 0;
		bool served = false;

		m.fifo = calloc(m.cap, sizeof(*m.fifo));
		assert_non_null(m.fifo);
		for (uint32_t k = 0; k < cases[i].spoofed; k++) {
			if (k == cases[i].at) {
				real = id++;
				model_request(&m, &lim, real);
			}
			if (real != UINT32_MAX && k == cases[i].at + cases[i].delay)
				served = model_serve(&m, &lim, real);
			model_request(&m, &lim, id++);
			assert_true(m.len <= cases[i].max_unacked);
		}
		if (cases[i].at + cases[i].delay >= cases[i].spoofed)
			served = model_serve(&m, &lim, real);
		if (served != cases[i].served)
			fail_msg("case %zu: served %d, want %d", i, served,
				 cases[i].served);
		assert_int_equal(m.live, served ? 1 : 0);
		free(m.fifo);
	}
}

/* One event fed to the summary, and what the shell must do with it. */
struct step {
	enum ib_tftp_flood_kind kind;
	uint64_t hash;
	uint64_t now_ms;
	bool fold, arm;
};

static void run_steps(struct ib_tftp_flood *f, const struct step *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ib_tftp_flood_note r = ib_tftp_flood_note(f, st[i].kind,
								 st[i].hash,
								 st[i].now_ms);

		if (r.fold != st[i].fold || r.arm != st[i].arm)
			fail_msg("step %zu: fold %d arm %d, want %d %d", i,
				 r.fold, r.arm, st[i].fold, st[i].arm);
	}
}

#define EV IB_TFTP_FLOOD_EVICTED
#define UN IB_TFTP_FLOOD_UNANSWERED
#define RF IB_TFTP_FLOOD_REFUSED

/* A few silent ends are logged one by one; a flood of them folds. */
static void test_flood_singles_then_fold(void **state)
{
	static const struct step steps[] = {
		{ UN, 1, 1000, false, false },
		{ RF, 2, 1001, false, false },
		{ UN, 3, 1002, false, false },
		{ UN, 4, 1003, false, false },
		{ UN, 5, 1004, false, false },
		{ UN, 6, 1005, false, false },
		{ RF, 7, 1006, false, false },
		{ UN, 8, 1007, false, false },	/* the 8th single */
		{ UN, 9, 1008, true, true },	/* the 9th opens a window */
		{ RF, 10, 1009, true, false },
		{ UN, 11, 9000, true, false },	/* window still open */
	};
	struct ib_tftp_flood *f = calloc(1, sizeof(*f));
	struct ib_tftp_flood_summary sum;

	assert_non_null(f);
	run_steps(f, steps, IB_ARRAY_SIZE(steps));
	ib_tftp_flood_close(f, 9001, &sum);
	assert_int_equal(sum.ms, 9001 - 1008);
	assert_int_equal(sum.n[UN], 2);
	assert_int_equal(sum.n[RF], 1);
	assert_int_equal(sum.n[EV], 0);
	assert_int_equal(sum.sources, 0);	/* counted for evictions only */
	free(f);
}

/* Evictions always fold; singles come back only after a quiet period. */
static void test_flood_windows(void **state)
{
	static const struct step steps[] = {
		{ EV, 1, 0, true, true },	/* first eviction opens a window */
		{ UN, 2, 1, true, false },	/* while open, all fold */
		{ EV, 3, 2, true, false },
	};
	static const struct step after_close[] = {
		{ UN, 4, 5000, true, true },	/* flood goes on: folds at once */
		{ EV, 5, 5001, true, false },
	};
	static const struct step after_quiet[] = {
		{ UN, 6, 20001, false, false },	/* > a window after the close */
		{ EV, 7, 20002, true, true },
	};
	struct ib_tftp_flood *f = calloc(1, sizeof(*f));
	struct ib_tftp_flood_summary sum;

	assert_non_null(f);
	ib_tftp_flood_close(f, 0, &sum);	/* none open: all zero */
	assert_int_equal(sum.n[EV] + sum.n[UN] + sum.n[RF], 0);
	run_steps(f, steps, IB_ARRAY_SIZE(steps));
	ib_tftp_flood_close(f, 5000, &sum);
	assert_int_equal(sum.n[EV], 2);
	assert_int_equal(sum.n[UN], 1);
	assert_int_equal(sum.sources, 2);
	run_steps(f, after_close, IB_ARRAY_SIZE(after_close));
	ib_tftp_flood_close(f, 15000, &sum);
	assert_int_equal(sum.n[EV], 1);
	assert_int_equal(sum.n[UN], 1);
	assert_int_equal(sum.sources, 1);	/* a new window, a new count */
	run_steps(f, after_quiet, IB_ARRAY_SIZE(after_quiet));
	free(f);
}

/* Sources are counted once each, exactly, up to 3/4 of the set. */
static void test_flood_sources(void **state)
{
	static const struct {
		uint32_t distinct, repeats;
		uint32_t want;
		bool capped;
	} cases[] = {
		{ 1, 5, 1, false },
		{ 2008, 1, 2008, false },
		{ 2008, 3, 2008, false },
		{ IB_TFTP_FLOOD_SET / 4 * 3, 2, IB_TFTP_FLOOD_SET / 4 * 3, false },
		{ IB_TFTP_FLOOD_SET, 1, IB_TFTP_FLOOD_SET / 4 * 3, true },
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		struct ib_tftp_flood *f = calloc(1, sizeof(*f));
		struct ib_tftp_flood_summary sum;

		assert_non_null(f);
		for (uint32_t r = 0; r < cases[i].repeats; r++)
			for (uint32_t k = 0; k < cases[i].distinct; k++) {
				/* hash 0 (the empty mark) is a source too */
				uint64_t h = (uint64_t)k * 0x9e3779b97f4a7c15ull;

				ib_tftp_flood_note(f, EV, h, r);
			}
		ib_tftp_flood_close(f, 10, &sum);
		assert_int_equal(sum.n[EV],
				 (uint64_t)cases[i].distinct * cases[i].repeats);
		assert_int_equal(sum.sources, cases[i].want);
		assert_int_equal(sum.sources_capped, cases[i].capped);
		free(f);
	}
}

/*
 * The shell's bookkeeping behind the counts (tftp_sources.c): per address,
 * per pool, who is a stranger, and which waiting transfer is the oldest,
 * through a sequence of arrivals, first ACKs and ends.
 */
enum op { ARRIVE, ACKED, END };

static const struct {
	enum op op;
	int conn;			/* index into the test's transfers */
	int host;			/* its address: 198.18.0.<host> */
	uint32_t live, unacked, strangers, sources;	/* counts after */
	int oldest, oldest_stranger;	/* conn, or -1 for none */
} book[] = {
	{ ARRIVE, 0, 1, 0, 1, 1, 1, 0, 0 },
	{ ARRIVE, 1, 2, 0, 2, 2, 2, 0, 0 },
	{ ARRIVE, 2, 1, 0, 3, 3, 2, 0, 0 },	/* same address as 0 */
	{ ACKED, 1, 2, 1, 2, 2, 2, 0, 0 },
	{ ACKED, 0, 1, 2, 1, 0, 2, 2, -1 },	/* 2's address is proven now */
	{ ARRIVE, 3, 3, 2, 2, 1, 3, 2, 3 },
	{ END, 0, 1, 1, 2, 2, 3, 2, 2 },	/* host 1 a stranger again */
	{ END, 2, 1, 1, 1, 1, 2, 3, 3 },	/* host 1 gone from the table */
	{ ARRIVE, 4, 2, 1, 2, 1, 2, 3, 3 },	/* proven host 2 waits too */
	{ END, 1, 2, 0, 2, 2, 2, 3, 3 },	/* host 2 back to stranger */
	{ END, 3, 3, 0, 1, 1, 1, 4, 4 },
	{ END, 4, 2, 0, 0, 0, 0, -1, -1 },
};

static void test_sources_bookkeeping(void **state)
{
	struct ib_tftp_server *s = calloc(1, sizeof(*s));
	struct ib_tftp_conn c[5];

	assert_non_null(s);
	memset(c, 0, sizeof(c));
	assert_int_equal(ib_tftp_sources_init(s), 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(book); i++) {
		struct ib_tftp_conn *x = &c[book[i].conn];
		struct sockaddr_in *sin = (struct sockaddr_in *)&x->peer;
		struct ib_tftp_conn *old;

		switch (book[i].op) {
		case ARRIVE:
			*sin = (struct sockaddr_in){
				.sin_family = AF_INET,
				.sin_port = htons((uint16_t)(1000 + book[i].conn)),
				.sin_addr.s_addr = htonl(0xc6120000u | (uint32_t)book[i].host),
			};
			assert_int_equal(ib_tftp_source_attach(s, x), 0);
			break;
		case ACKED:
			ib_tftp_source_promote(s, x);
			break;
		case END:
			ib_tftp_source_detach(s, x);
			break;
		}
		if (s->n_live != book[i].live || s->n_unacked != book[i].unacked ||
		    s->n_stranger_unacked != book[i].strangers ||
		    s->n_src != book[i].sources)
			fail_msg("step %zu: live %u unacked %u strangers %u sources %zu",
				 i, s->n_live, s->n_unacked, s->n_stranger_unacked,
				 s->n_src);
		old = ib_tftp_unacked_oldest(s, false);
		assert_ptr_equal(old, book[i].oldest < 0 ? NULL : &c[book[i].oldest]);
		old = ib_tftp_unacked_oldest(s, true);
		assert_ptr_equal(old, book[i].oldest_stranger < 0 ? NULL :
				 &c[book[i].oldest_stranger]);
	}
	assert_null(ib_tftp_source_find(s, &c[0].peer));
	ib_tftp_sources_done(s);
	free(s);
}

/* Thousands of addresses: the table grows and finds each again. */
static void test_sources_many(void **state)
{
	enum { N = 3000 };
	struct ib_tftp_server *s = calloc(1, sizeof(*s));
	struct ib_tftp_conn *c = calloc(N, sizeof(*c));

	assert_non_null(s);
	assert_non_null(c);
	assert_int_equal(ib_tftp_sources_init(s), 0);
	for (uint32_t i = 0; i < N; i++) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&c[i].peer;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr.s6_addr[0] = 0xfd;
		sin6->sin6_addr.s6_addr[14] = (uint8_t)(i >> 8);
		sin6->sin6_addr.s6_addr[15] = (uint8_t)i;
		assert_int_equal(ib_tftp_source_attach(s, &c[i]), 0);
	}
	assert_int_equal(s->n_src, N);
	assert_true(s->src_buckets >= N);
	for (uint32_t i = 0; i < N; i++)
		assert_ptr_equal(ib_tftp_source_find(s, &c[i].peer), c[i].src);
	for (uint32_t i = 0; i < N; i++) {
		assert_ptr_equal(ib_tftp_unacked_oldest(s, true), &c[i]);
		ib_tftp_source_detach(s, &c[i]);
	}
	assert_int_equal(s->n_src, 0);
	assert_int_equal(s->n_unacked, 0);
	ib_tftp_sources_done(s);
	free(c);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_verdicts),
		cmocka_unit_test(test_promote),
		cmocka_unit_test(test_flood_model),
		cmocka_unit_test(test_flood_singles_then_fold),
		cmocka_unit_test(test_flood_windows),
		cmocka_unit_test(test_flood_sources),
		cmocka_unit_test(test_sources_bookkeeping),
		cmocka_unit_test(test_sources_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
