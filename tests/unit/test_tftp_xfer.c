/* Unit tests for the TFTP transfer state machine. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "tftp/tftp_xfer.h"

static void init(struct ib_tftp_xfer *x, uint64_t size, uint32_t blksize,
		 uint32_t window, bool oack)
{
	struct ib_tftp_xfer_params p = {
		.size = size, .blksize = blksize, .windowsize = window,
		.timeout_ms = 1000, .max_retries = 5, .oack = oack,
	};

	ib_tftp_xfer_init(x, &p);
}

static void expect(const struct ib_tftp_action *a, enum ib_tftp_act_kind kind,
		   uint64_t first, uint32_t count)
{
	assert_int_equal(a->kind, kind);
	if (kind == IB_TFTP_ACT_DATA) {
		assert_int_equal(a->first, first);
		assert_int_equal(a->count, count);
	}
}

/* Block counts and spans: the last block is short, empty on a multiple. */
static void test_block_count_and_span(void **state)
{
	static const struct {
		uint64_t size;
		uint32_t blksize;
		uint64_t nblocks;
		uint32_t last_len;
	} cases[] = {
		{ 0, 512, 1, 0 },
		{ 1, 512, 1, 1 },
		{ 511, 512, 1, 511 },
		{ 512, 512, 2, 0 },
		{ 1000, 512, 2, 488 },
		{ 1024, 512, 3, 0 },
		{ 33554432, 512, 65537, 0 },
		{ 850528, 1468, 580, 556 },
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		struct ib_tftp_xfer x;
		uint64_t off;
		uint32_t len;

		init(&x, cases[i].size, cases[i].blksize, 1, false);
		assert_int_equal(x.nblocks, cases[i].nblocks);
		ib_tftp_xfer_block_span(&x, x.nblocks, &off, &len);
		assert_int_equal(len, cases[i].last_len);
		assert_int_equal(off, (x.nblocks - 1) * cases[i].blksize);
		if (x.nblocks > 1) {
			ib_tftp_xfer_block_span(&x, 1, &off, &len);
			assert_int_equal(off, 0);
			assert_int_equal(len, cases[i].blksize);
		}
	}
}

/* RFC 1350 lock-step: one block, its ACK, the next block. */
static void test_lockstep(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	init(&x, 1024, 512, 1, false);
	ib_tftp_xfer_start(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 1, 1);
	assert_int_equal(a.timeout_ms, 1000);
	ib_tftp_xfer_ack(&x, 1, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 2, 1);
	assert_int_equal(ib_tftp_xfer_bytes_acked(&x), 512);
	ib_tftp_xfer_ack(&x, 2, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 3, 1);	/* the empty block */
	ib_tftp_xfer_ack(&x, 3, 0, &a);
	expect(&a, IB_TFTP_ACT_DONE, 0, 0);
	assert_int_equal(a.error, 0);
	assert_int_equal(x.state, IB_TFTP_XFER_DONE);
	assert_int_equal(ib_tftp_xfer_bytes_acked(&x), 1024);
	assert_int_equal(x.retransmits, 0);
	/* After the end, nothing moves it. */
	ib_tftp_xfer_ack(&x, 3, 0, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_timeout(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
}

/* RFC 1123 4.2.3.1: a duplicate ACK must not trigger a duplicate block. */
static void test_no_sorcerers_apprentice(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	init(&x, 5000, 512, 1, false);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_timeout(&x, 0, &a);		/* block 1 resent */
	expect(&a, IB_TFTP_ACT_DATA, 1, 1);
	ib_tftp_xfer_ack(&x, 1, 0, &a);		/* ACK of the original */
	expect(&a, IB_TFTP_ACT_DATA, 2, 1);
	ib_tftp_xfer_ack(&x, 1, 0, &a);		/* ACK of the resend */
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 2, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 3, 1);
	for (int i = 0; i < 10; i++) {
		ib_tftp_xfer_ack(&x, 2, 0, &a);
		expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	}
	/* An ACK for a block not sent yet, or long gone, is ignored too. */
	ib_tftp_xfer_ack(&x, 4, 0, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 60000, 0, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 0, 0, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	assert_int_equal(x.retransmits, 1);
}

/* RFC 2347: OACK first; only ACK 0 starts the data. */
static void test_oack_then_data(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	init(&x, 3000, 1428, 4, true);
	ib_tftp_xfer_start(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_OACK, 0, 0);
	assert_int_equal(a.timeout_ms, 1000);
	ib_tftp_xfer_ack(&x, 1, 0, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 0, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 1, 3);	/* 3 blocks only exist */
	ib_tftp_xfer_ack(&x, 0, 0, &a);		/* duplicate ACK 0 */
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 3, 0, &a);
	expect(&a, IB_TFTP_ACT_DONE, 0, 0);
}

/* A client that answers the OACK with an ERROR ends the transfer. */
static void test_oack_refused(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	init(&x, 3000, 1428, 1, true);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_client_error(&x, &a);
	expect(&a, IB_TFTP_ACT_FAIL, 0, 0);
	assert_int_equal(a.error, -ECONNABORTED);
	assert_int_equal(x.state, IB_TFTP_XFER_FAILED);
	ib_tftp_xfer_ack(&x, 0, 0, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_client_error(&x, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
}

/* A client that never acks the OACK gets max_retries resends, backing off. */
static void test_oack_never_acked(void **state)
{
	static const uint32_t backoff[] = { 2000, 4000, 8000, 16000, 16000 };
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	init(&x, 3000, 1428, 1, true);
	ib_tftp_xfer_start(&x, 0, &a);
	for (size_t i = 0; i < IB_ARRAY_SIZE(backoff); i++) {
		ib_tftp_xfer_timeout(&x, 0, &a);
		expect(&a, IB_TFTP_ACT_OACK, 0, 0);
		assert_int_equal(a.timeout_ms, backoff[i]);
	}
	ib_tftp_xfer_timeout(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_FAIL, 0, 0);
	assert_int_equal(a.error, -ETIMEDOUT);
	assert_int_equal(x.retransmits, 5);
}

/* Timeouts resend only what is outstanding; progress resets the backoff. */
static void test_timeout_resends_window_only(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;
	uint32_t sent = 0;

	init(&x, 100 * 512, 512, 8, false);
	ib_tftp_xfer_start(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 1, 8);
	sent += a.count;
	for (int i = 0; i < 5; i++) {
		ib_tftp_xfer_timeout(&x, 0, &a);
		expect(&a, IB_TFTP_ACT_DATA, 1, 8);	/* never more than W */
		sent += a.count;
	}
	ib_tftp_xfer_timeout(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_FAIL, 0, 0);
	/* Bounded amplification: (1 + max_retries) windows in all. */
	assert_int_equal(sent, 6 * 8);
	assert_int_equal(x.retransmits, 5 * 8);

	init(&x, 100 * 512, 512, 8, false);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_timeout(&x, 0, &a);
	ib_tftp_xfer_timeout(&x, 0, &a);
	assert_int_equal(a.timeout_ms, 4000);
	ib_tftp_xfer_ack(&x, 8, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 9, 8);
	assert_int_equal(a.timeout_ms, 1000);
	assert_int_equal(x.retries, 0);
	/* A window that got partly acked resends from the gap only. */
	ib_tftp_xfer_ack(&x, 12, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 13, 8);
	ib_tftp_xfer_timeout(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 13, 8);
}

/* RFC 7440: windows, early ACKs after a gap, the final short window. */
static void test_window(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	init(&x, 10 * 512 - 1, 512, 4, true);	/* 10 blocks */
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_ack(&x, 0, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 1, 4);
	ib_tftp_xfer_ack(&x, 4, 0, &a);		/* end of window */
	expect(&a, IB_TFTP_ACT_DATA, 5, 4);
	assert_int_equal(x.retransmits, 0);
	ib_tftp_xfer_ack(&x, 6, 0, &a);		/* 7 lost: restart after 6 */
	expect(&a, IB_TFTP_ACT_DATA, 7, 4);
	assert_int_equal(x.retransmits, 2);	/* 7 and 8 again */
	ib_tftp_xfer_ack(&x, 6, 0, &a);		/* client repeats itself */
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 9, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 10, 1);	/* only one block left */
	ib_tftp_xfer_ack(&x, 10, 0, &a);
	expect(&a, IB_TFTP_ACT_DONE, 0, 0);
	assert_int_equal(ib_tftp_xfer_bytes_acked(&x), 10 * 512 - 1);
}

/*
 * Block numbers wrap from 65535 to 0 (tftp-hpa, atftp and curl expect
 * that): a 32 MiB file at blksize 512 is 65537 blocks.
 */
static void test_rollover_lockstep(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;
	uint64_t size = 32ull << 20;

	init(&x, size, 512, 1, true);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_ack(&x, 0, 0, &a);
	for (uint64_t i = 1; i <= x.nblocks; i++) {
		uint16_t wire;

		expect(&a, IB_TFTP_ACT_DATA, i, 1);
		wire = ib_tftp_xfer_wire(a.first);
		if (i == 65536)
			assert_int_equal(wire, 0);
		if (i == 65537)
			assert_int_equal(wire, 1);
		/* A stale duplicate of the previous ACK is ignored. */
		if (i > 1) {
			struct ib_tftp_action dup;

			ib_tftp_xfer_ack(&x, (uint16_t)(wire - 1), 0, &dup);
			expect(&dup, IB_TFTP_ACT_NONE, 0, 0);
		}
		ib_tftp_xfer_ack(&x, wire, 0, &a);
	}
	expect(&a, IB_TFTP_ACT_DONE, 0, 0);
	assert_int_equal(ib_tftp_xfer_bytes_acked(&x), size);
	assert_int_equal(x.retransmits, 0);
}

/* Windows straddling the wrap, with a gap right at it. */
static void test_rollover_window(void **state)
{
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	init(&x, 70000ull * 8, 8, 16, false);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_ack(&x, 5, 0, &a);		/* shifts windows off the grid */
	expect(&a, IB_TFTP_ACT_DATA, 6, 16);
	/* Jump ahead: the client acks window by window up to the wrap. */
	while (x.acked + 16 < 65530) {
		ib_tftp_xfer_ack(&x, ib_tftp_xfer_wire(x.sent), 0, &a);
		assert_int_equal(a.kind, IB_TFTP_ACT_DATA);
	}
	expect(&a, IB_TFTP_ACT_DATA, 65526, 16);
	assert_true(a.first < 65536 && a.first + a.count - 1 > 65536);
	/* The client got up to 65535 and missed wire 0 (block 65536). */
	ib_tftp_xfer_ack(&x, 65535, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 65536, 16);
	assert_int_equal(ib_tftp_xfer_wire(a.first), 0);
	/* Then an ACK of wire 3 is block 65539, not block 3. */
	ib_tftp_xfer_ack(&x, 3, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 65540, 16);
	assert_int_equal(x.acked, 65539);
}

/* Zero parameters get the documented defaults. */
static void test_defaults(void **state)
{
	struct ib_tftp_xfer_params p = { .size = 100 };
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	ib_tftp_xfer_init(&x, &p);
	assert_int_equal(x.p.blksize, 512);
	assert_int_equal(x.p.windowsize, 1);
	assert_int_equal(x.p.timeout_ms, 1000);
	ib_tftp_xfer_start(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_DATA, 1, 1);
	/* max_retries 0: the first timeout gives up, nothing resent. */
	ib_tftp_xfer_timeout(&x, 0, &a);
	expect(&a, IB_TFTP_ACT_FAIL, 0, 0);
	assert_int_equal(x.retransmits, 0);
}

/* A long negotiated timeout is never shortened by the backoff cap. */
static void test_long_timeout(void **state)
{
	struct ib_tftp_xfer_params p = {
		.size = 100, .timeout_ms = 30000, .max_retries = 3,
	};
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	ib_tftp_xfer_init(&x, &p);
	ib_tftp_xfer_start(&x, 0, &a);
	assert_int_equal(a.timeout_ms, 30000);
	ib_tftp_xfer_timeout(&x, 0, &a);
	assert_int_equal(a.timeout_ms, 30000);
}

/*
 * A duplicate ACK after guard_ms of silence means the client lost what we
 * sent: the window is resent once; duplicates inside the guard are not.
 */
static void test_duplicate_ack_guard(void **state)
{
	struct ib_tftp_xfer_params p = {
		.size = 100 * 512, .blksize = 512, .windowsize = 4,
		.timeout_ms = 60000, .max_retries = 2, .guard_ms = 1000,
	};
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	ib_tftp_xfer_init(&x, &p);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_ack(&x, 4, 100, &a);
	expect(&a, IB_TFTP_ACT_DATA, 5, 4);
	ib_tftp_xfer_ack(&x, 4, 500, &a);	/* within the guard */
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 4, 1100, &a);	/* quiet for 1000 ms */
	expect(&a, IB_TFTP_ACT_DATA, 5, 4);
	assert_int_equal(x.retransmits, 4);
	ib_tftp_xfer_ack(&x, 4, 1101, &a);	/* burst of repeats: one resend */
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_ack(&x, 4, 2100, &a);
	expect(&a, IB_TFTP_ACT_DATA, 5, 4);
	ib_tftp_xfer_ack(&x, 4, 3100, &a);	/* over max_retries: give up */
	expect(&a, IB_TFTP_ACT_FAIL, 0, 0);
	assert_int_equal(a.error, -ETIMEDOUT);
	assert_int_equal(x.retransmits, 8);

	/* Progress resets the budget. */
	ib_tftp_xfer_init(&x, &p);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_ack(&x, 0 + 4, 10, &a);
	ib_tftp_xfer_ack(&x, 4, 2000, &a);
	ib_tftp_xfer_ack(&x, 4, 4000, &a);
	assert_int_equal(x.retries, 2);
	ib_tftp_xfer_ack(&x, 8, 4001, &a);
	expect(&a, IB_TFTP_ACT_DATA, 9, 4);
	assert_int_equal(x.retries, 0);

	/* guard_ms 0: duplicates never resend. */
	p.guard_ms = 0;
	ib_tftp_xfer_init(&x, &p);
	ib_tftp_xfer_start(&x, 0, &a);
	ib_tftp_xfer_ack(&x, 0, 99999, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
}

/* The server's guard: a quarter of its timeout, never 0 (= "never"). */
static void test_guard_for(void **state)
{
	assert_int_equal(ib_tftp_xfer_guard_for(1000), 250);
	assert_int_equal(ib_tftp_xfer_guard_for(200), 50);
	assert_int_equal(ib_tftp_xfer_guard_for(3), 1);
	assert_int_equal(ib_tftp_xfer_guard_for(0), 1);
	assert_int_equal(ib_tftp_xfer_guard_for(UINT32_MAX), UINT32_MAX / 4);
}

/* A repeated request resends the OACK (or first window), guarded. */
static void test_nudge(void **state)
{
	struct ib_tftp_xfer_params p = {
		.size = 5000, .blksize = 512, .windowsize = 1,
		.timeout_ms = 10000, .max_retries = 3, .guard_ms = 500, .oack = true,
	};
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;

	ib_tftp_xfer_init(&x, &p);
	ib_tftp_xfer_start(&x, 1000, &a);
	expect(&a, IB_TFTP_ACT_OACK, 0, 0);
	ib_tftp_xfer_nudge(&x, 1200, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
	ib_tftp_xfer_nudge(&x, 1500, &a);
	expect(&a, IB_TFTP_ACT_OACK, 0, 0);
	assert_int_equal(x.retransmits, 1);
	ib_tftp_xfer_ack(&x, 0, 1600, &a);
	expect(&a, IB_TFTP_ACT_DATA, 1, 1);
	ib_tftp_xfer_nudge(&x, 2200, &a);	/* first block lost too */
	expect(&a, IB_TFTP_ACT_DATA, 1, 1);
	ib_tftp_xfer_ack(&x, 0, 2800, &a);	/* or the client re-acks 0 */
	expect(&a, IB_TFTP_ACT_DATA, 1, 1);
	ib_tftp_xfer_client_error(&x, &a);
	ib_tftp_xfer_nudge(&x, 9000, &a);
	expect(&a, IB_TFTP_ACT_NONE, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_block_count_and_span),
		cmocka_unit_test(test_lockstep),
		cmocka_unit_test(test_no_sorcerers_apprentice),
		cmocka_unit_test(test_oack_then_data),
		cmocka_unit_test(test_oack_refused),
		cmocka_unit_test(test_oack_never_acked),
		cmocka_unit_test(test_timeout_resends_window_only),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_rollover_lockstep),
		cmocka_unit_test(test_rollover_window),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_long_timeout),
		cmocka_unit_test(test_duplicate_ack_guard),
		cmocka_unit_test(test_guard_for),
		cmocka_unit_test(test_nudge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
