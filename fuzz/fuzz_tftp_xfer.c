/*
 * libFuzzer target for the TFTP read-transfer state machine (tftp_xfer.c).
 *
 * The input's first bytes are the request's options and the server's
 * limits, negotiated with ib_tftp_negotiate() as the shell does (so the
 * OACK, blksize, windowsize and timeout are the ones a client could get),
 * the file size and the retry budget.  The rest is a sequence of events:
 * ACKs with arbitrary wire numbers, ACKs of the last block sent or of one
 * inside the window, timer expiries, repeated requests (nudges), client
 * ERRORs, and the clock moving on.  After every action:
 *
 *   - DATA starts right after the highest acknowledged block, holds
 *     1..windowsize blocks, never a block past the end of the file, and
 *     every block's span lies inside the file (only the last one short);
 *   - nothing but the OACK goes out before ACK 0 when an OACK was sent;
 *   - acked <= sent <= nblocks, and acked never goes back;
 *   - a duplicate ACK inside the guard time sends nothing (no Sorcerer's
 *     Apprentice), and resends without progress in between never exceed
 *     max_retries: the next one fails the transfer with -ETIMEDOUT;
 *   - DONE comes only with the last block acknowledged; once DONE or
 *     FAILED, every event answers NONE.
 *
 * At the end, timer expiries alone must end the transfer within
 * max_retries + 1 of them, and a fresh transfer with the same parameters
 * and a client that loses nothing must finish in one round per window.
 * Any broken property aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftp/tftp_codec.h"
#include "tftp/tftp_xfer.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define EVENTS_MAX 4096			/* events taken from one input */
#define CLEAN_ROUNDS_MAX 5000		/* windows the lossless run may take */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the input front to back; zeros once it runs out. */
struct in {
	const uint8_t *p;		/* next byte */
	size_t left;			/* bytes left */
};

static uint32_t take(struct in *in, unsigned bytes)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->left) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

/* What the checks remember between events. */
struct model {
	uint64_t acked;			/* highest block acknowledged seen */
	uint32_t resends;		/* resends since the last progress */
	bool oack_acked;		/* ACK 0 moved past the OACK (progress too) */
	bool over;			/* DONE or FAILED was answered */
};

/* The transfer parameters a client's options and the server's limits give. */
static void negotiate(struct in *in, struct ib_tftp_xfer_params *ret)
{
	uint8_t present = (uint8_t)take(in, 1);
	struct ib_tftp_options req = {
		.present = present & (IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_TSIZE |
				      IB_TFTP_OPT_TIMEOUT | IB_TFTP_OPT_WINDOWSIZE),
		.blksize = take(in, 2), .timeout_s = take(in, 1), .windowsize = take(in, 2),
	};
	struct ib_tftp_limits lim = { .max_blksize = take(in, 2), .max_windowsize = take(in, 1) };
	uint64_t size = take(in, 3);
	uint32_t retries = take(in, 1) % 9, base_ms = 1 + take(in, 2);
	struct ib_tftp_options o;

	/* big files (block numbers that wrap) when the top bit asks */
	if (present & 0x80)
		size <<= 8;
	ib_tftp_negotiate(&req, &lim, size, &o);
	*ret = (struct ib_tftp_xfer_params){
		.size = size, .blksize = o.blksize, .windowsize = o.windowsize,
		.timeout_ms = o.timeout_s ? o.timeout_s * 1000 : base_ms,
		.max_retries = retries, .oack = o.present != 0,
	};
	ret->guard_ms = ib_tftp_xfer_guard_for(ret->timeout_ms);
}

static void check_blocks(const struct ib_tftp_xfer *x, const struct ib_tftp_action *a)
{
	uint64_t off;
	uint32_t len;

	CHECK(a->first >= 1 && a->count >= 1 && a->count <= x->p.windowsize);
	CHECK(a->first + a->count - 1 <= x->nblocks);
	CHECK(a->first == x->acked + 1 && a->first + a->count - 1 <= x->sent);
	CHECK(a->timeout_ms > 0);
	/* the spans of the first and the last block cover the rest */
	for (uint64_t i = a->first; i < a->first + a->count; i += a->count > 1 ? a->count - 1 : 1) {
		ib_tftp_xfer_block_span(x, i, &off, &len);
		CHECK(len <= x->p.blksize && off + len <= x->p.size);
		CHECK(off == (i - 1) * x->p.blksize);
		CHECK(i == x->nblocks ? len == x->p.size % x->p.blksize : len == x->p.blksize);
	}
}

/* Checks action a of an event; resend says whether it was a retry. */
static void check_action(const struct ib_tftp_xfer *x, struct model *md,
			 const struct ib_tftp_action *a, bool resend)
{
	CHECK(x->acked <= x->sent && x->sent <= x->nblocks && x->acked >= md->acked);
	if (md->over) {
		CHECK(a->kind == IB_TFTP_ACT_NONE);
		return;
	}
	if (x->acked > md->acked ||
	    (!md->oack_acked && x->state == IB_TFTP_XFER_SENDING)) {
		md->acked = x->acked;
		md->resends = 0;
		md->oack_acked = x->state == IB_TFTP_XFER_SENDING;
	}
	switch (a->kind) {
	case IB_TFTP_ACT_NONE:
		break;
	case IB_TFTP_ACT_OACK:
		CHECK(x->state == IB_TFTP_XFER_OACK_SENT && x->p.oack && x->sent == 0);
		CHECK(a->timeout_ms > 0);
		md->resends += resend;
		break;
	case IB_TFTP_ACT_DATA:
		CHECK(x->state == IB_TFTP_XFER_SENDING);
		check_blocks(x, a);
		md->resends += resend;
		break;
	case IB_TFTP_ACT_DONE:
		CHECK(x->state == IB_TFTP_XFER_DONE && x->acked == x->nblocks);
		md->over = true;
		break;
	case IB_TFTP_ACT_FAIL:
		CHECK(x->state == IB_TFTP_XFER_FAILED);
		CHECK(a->error == -ETIMEDOUT || a->error == -ECONNABORTED);
		if (a->error == -ETIMEDOUT)
			CHECK(resend && md->resends == x->p.max_retries);
		md->over = true;
		break;
	default:
		CHECK(false);
	}
	CHECK(md->resends <= x->p.max_retries);
}

/* One event from the input; returns false when the input is used up. */
static bool step(struct ib_tftp_xfer *x, struct model *md, struct in *in, uint64_t *now)
{
	struct ib_tftp_action a;
	uint8_t op;
	uint16_t block;
	bool dup, fresh;

	if (!in->left)
		return false;
	op = (uint8_t)take(in, 1);
	*now += (op >> 3) * (uint64_t)(op & 4 ? 97 : 1);
	switch (op % 8) {
	case 0:				/* an arbitrary ACK */
	case 1:				/* an ACK of the last block sent */
	case 2:				/* an ACK inside the window */
		block = op % 8 == 0 ? (uint16_t)take(in, 2) :
			op % 8 == 1 ? ib_tftp_xfer_wire(x->sent) :
			ib_tftp_xfer_wire(x->acked + take(in, 1) % (x->p.windowsize + 1));
		dup = x->state == IB_TFTP_XFER_SENDING && block == ib_tftp_xfer_wire(x->acked);
		fresh = *now < x->last_send_ms + x->p.guard_ms;
		ib_tftp_xfer_ack(x, block, *now, &a);
		if (dup && fresh)
			CHECK(a.kind == IB_TFTP_ACT_NONE);	/* RFC 1123 4.2.3.1 */
		check_action(x, md, &a, dup);
		break;
	case 3:
	case 4:
		ib_tftp_xfer_timeout(x, *now, &a);
		check_action(x, md, &a, true);
		break;
	case 5:
		fresh = *now < x->last_send_ms + x->p.guard_ms;
		ib_tftp_xfer_nudge(x, *now, &a);
		if (fresh)
			CHECK(a.kind == IB_TFTP_ACT_NONE);
		check_action(x, md, &a, true);
		break;
	case 6:
		if (take(in, 1) % 4 == 0) {	/* an ERROR is rare */
			ib_tftp_xfer_client_error(x, &a);
			CHECK(md->over ? a.kind == IB_TFTP_ACT_NONE :
			      a.kind == IB_TFTP_ACT_FAIL && a.error == -ECONNABORTED);
			check_action(x, md, &a, false);
		}
		break;
	default:			/* time passes */
		*now += take(in, 2);
		break;
	}
	return true;
}

/* Timer expiries alone end the transfer within max_retries + 1 of them. */
static void check_gives_up(struct ib_tftp_xfer *x, struct model *md, uint64_t now)
{
	struct ib_tftp_action a;

	for (uint32_t i = 0; !md->over; i++) {
		CHECK(i <= x->p.max_retries);
		now += x->cur_timeout_ms;
		ib_tftp_xfer_timeout(x, now, &a);
		check_action(x, md, &a, true);
	}
	CHECK(x->state == IB_TFTP_XFER_DONE || x->state == IB_TFTP_XFER_FAILED);
}

/* A client that loses nothing: ACK 0 for the OACK, then the last block of
 * each window; the transfer ends after one round per window. */
static void check_clean_run(const struct ib_tftp_xfer_params *p)
{
	struct ib_tftp_xfer x;
	struct model md = { 0 };
	struct ib_tftp_action a;
	uint64_t now = 0, rounds = 0, windows;

	ib_tftp_xfer_init(&x, p);
	windows = (x.nblocks + x.p.windowsize - 1) / x.p.windowsize;
	if (windows > CLEAN_ROUNDS_MAX)
		return;
	ib_tftp_xfer_start(&x, now, &a);
	check_action(&x, &md, &a, false);
	if (a.kind == IB_TFTP_ACT_OACK) {
		ib_tftp_xfer_ack(&x, 0, ++now, &a);
		check_action(&x, &md, &a, false);
	}
	while (a.kind == IB_TFTP_ACT_DATA) {
		rounds++;
		ib_tftp_xfer_ack(&x, ib_tftp_xfer_wire(a.first + a.count - 1), ++now, &a);
		check_action(&x, &md, &a, false);
	}
	CHECK(a.kind == IB_TFTP_ACT_DONE && rounds == windows);
	CHECK(x.retransmits == 0 && ib_tftp_xfer_bytes_acked(&x) == p->size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct ib_tftp_xfer_params p;
	struct ib_tftp_xfer x;
	struct ib_tftp_action a;
	struct model md = { 0 };
	uint64_t now = 1000;

	negotiate(&in, &p);
	ib_tftp_xfer_init(&x, &p);
	CHECK(x.nblocks == p.size / p.blksize + 1);
	ib_tftp_xfer_start(&x, now, &a);
	CHECK(a.kind == (p.oack ? IB_TFTP_ACT_OACK : IB_TFTP_ACT_DATA));
	check_action(&x, &md, &a, false);
	for (int i = 0; i < EVENTS_MAX && step(&x, &md, &in, &now); i++)
		;
	check_gives_up(&x, &md, now);
	check_clean_run(&p);
	return 0;
}
