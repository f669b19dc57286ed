/* TFTP read-transfer state machine: see tftp_xfer.h. */
#include "tftp/tftp_xfer.h"

#include <errno.h>

#include "common/util.h"

void ib_tftp_xfer_init(struct ib_tftp_xfer *x,
		       const struct ib_tftp_xfer_params *p)
{
	*x = (struct ib_tftp_xfer){ .p = *p };
	if (x->p.blksize == 0)
		x->p.blksize = 512;
	if (x->p.windowsize == 0)
		x->p.windowsize = 1;
	if (x->p.timeout_ms == 0)
		x->p.timeout_ms = 1000;
	x->nblocks = x->p.size / x->p.blksize + 1;
	x->state = x->p.oack ? IB_TFTP_XFER_OACK_SENT : IB_TFTP_XFER_SENDING;
	x->cur_timeout_ms = x->p.timeout_ms;
}

/* Sends a window starting at block first: up to windowsize blocks. */
static void send_window(struct ib_tftp_xfer *x, uint64_t first,
			struct ib_tftp_action *ret)
{
	uint64_t left = x->nblocks - first + 1;
	uint32_t count = (uint32_t)IB_MIN((uint64_t)x->p.windowsize, left);

	/* Blocks at or below the highest already sent are resends. */
	if (x->sent >= first)
		x->retransmits += (uint32_t)IB_MIN(x->sent - first + 1,
						   (uint64_t)count);
	if (first + count - 1 > x->sent)
		x->sent = first + count - 1;
	*ret = (struct ib_tftp_action){
		.kind = IB_TFTP_ACT_DATA, .first = first, .count = count,
		.timeout_ms = x->cur_timeout_ms,
	};
}

static void finish(struct ib_tftp_xfer *x, enum ib_tftp_xfer_state st,
		   int error, struct ib_tftp_action *ret)
{
	x->state = st;
	*ret = (struct ib_tftp_action){
		.kind = st == IB_TFTP_XFER_DONE ? IB_TFTP_ACT_DONE : IB_TFTP_ACT_FAIL,
		.error = error,
	};
}

void ib_tftp_xfer_start(struct ib_tftp_xfer *x, uint64_t now_ms,
			struct ib_tftp_action *ret)
{
	x->last_send_ms = now_ms;
	if (x->state == IB_TFTP_XFER_OACK_SENT)
		*ret = (struct ib_tftp_action){
			.kind = IB_TFTP_ACT_OACK, .timeout_ms = x->cur_timeout_ms,
		};
	else
		send_window(x, 1, ret);
}

/* Progress resets the retry budget and the backoff. */
static void progress(struct ib_tftp_xfer *x)
{
	x->retries = 0;
	x->cur_timeout_ms = x->p.timeout_ms;
}

/*
 * Resends what is outstanding (the OACK, or acked+1 .. sent): at most one
 * window.  Counts against the retry budget; past it, the transfer fails.
 */
static void resend(struct ib_tftp_xfer *x, uint64_t now_ms,
		   struct ib_tftp_action *ret)
{
	if (x->retries >= x->p.max_retries) {
		finish(x, IB_TFTP_XFER_FAILED, -ETIMEDOUT, ret);
		return;
	}
	x->retries++;
	x->last_send_ms = now_ms;
	if (x->state == IB_TFTP_XFER_OACK_SENT) {
		x->retransmits++;
		*ret = (struct ib_tftp_action){
			.kind = IB_TFTP_ACT_OACK, .timeout_ms = x->cur_timeout_ms,
		};
		return;
	}
	send_window(x, x->acked + 1, ret);
	ret->count = (uint32_t)IB_MIN((uint64_t)ret->count, x->sent - x->acked);
}

/* A repeat from the client: resend only if we have been quiet a while. */
static void guarded_resend(struct ib_tftp_xfer *x, uint64_t now_ms,
			   struct ib_tftp_action *ret)
{
	*ret = (struct ib_tftp_action){ .kind = IB_TFTP_ACT_NONE };
	if (x->p.guard_ms == 0 || now_ms < x->last_send_ms + x->p.guard_ms)
		return;	/* fresh duplicate: ignored (no SAS) */
	resend(x, now_ms, ret);
}

void ib_tftp_xfer_ack(struct ib_tftp_xfer *x, uint16_t block, uint64_t now_ms,
		      struct ib_tftp_action *ret)
{
	uint64_t i;

	*ret = (struct ib_tftp_action){ .kind = IB_TFTP_ACT_NONE };
	if (x->state == IB_TFTP_XFER_OACK_SENT) {
		/* RFC 2347: the client acknowledges the OACK with ACK 0. */
		if (block != 0)
			return;
		x->state = IB_TFTP_XFER_SENDING;
		progress(x);
		x->last_send_ms = now_ms;
		send_window(x, 1, ret);
		return;
	}
	if (x->state != IB_TFTP_XFER_SENDING)
		return;
	/* The one index in [acked, acked + 65535] with this wire number:
	 * outstanding blocks never span more than a window (<= 65535). */
	i = x->acked + (uint16_t)(block - ib_tftp_xfer_wire(x->acked));
	if (i == x->acked) {
		guarded_resend(x, now_ms, ret);
		return;
	}
	if (i > x->sent)
		return;	/* stale, from before a wrap, or bogus */
	x->acked = i;
	progress(x);
	if (i == x->nblocks) {
		finish(x, IB_TFTP_XFER_DONE, 0, ret);
		return;
	}
	/* RFC 7440 section 4: the next window starts after the acked block,
	 * whether it ended the window or the client saw a gap. */
	x->last_send_ms = now_ms;
	send_window(x, i + 1, ret);
}

void ib_tftp_xfer_timeout(struct ib_tftp_xfer *x, uint64_t now_ms,
			  struct ib_tftp_action *ret)
{
	uint32_t cap = IB_MAX(x->p.timeout_ms, IB_TFTP_XFER_BACKOFF_CAP_MS);

	*ret = (struct ib_tftp_action){ .kind = IB_TFTP_ACT_NONE };
	if (x->state != IB_TFTP_XFER_OACK_SENT &&
	    x->state != IB_TFTP_XFER_SENDING)
		return;
	x->cur_timeout_ms = (uint32_t)IB_MIN((uint64_t)x->cur_timeout_ms * 2,
					     (uint64_t)cap);
	resend(x, now_ms, ret);
}

void ib_tftp_xfer_nudge(struct ib_tftp_xfer *x, uint64_t now_ms,
			struct ib_tftp_action *ret)
{
	*ret = (struct ib_tftp_action){ .kind = IB_TFTP_ACT_NONE };
	if (x->state == IB_TFTP_XFER_OACK_SENT || x->state == IB_TFTP_XFER_SENDING)
		guarded_resend(x, now_ms, ret);
}

void ib_tftp_xfer_client_error(struct ib_tftp_xfer *x,
			       struct ib_tftp_action *ret)
{
	if (x->state == IB_TFTP_XFER_DONE || x->state == IB_TFTP_XFER_FAILED) {
		*ret = (struct ib_tftp_action){ .kind = IB_TFTP_ACT_NONE };
		return;
	}
	finish(x, IB_TFTP_XFER_FAILED, -ECONNABORTED, ret);
}

void ib_tftp_xfer_block_span(const struct ib_tftp_xfer *x, uint64_t i,
			     uint64_t *ret_off, uint32_t *ret_len)
{
	uint64_t off = (i - 1) * x->p.blksize;

	*ret_off = off;
	*ret_len = off >= x->p.size ? 0 :
		   (uint32_t)IB_MIN((uint64_t)x->p.blksize, x->p.size - off);
}

uint64_t ib_tftp_xfer_bytes_acked(const struct ib_tftp_xfer *x)
{
	return IB_MIN(x->acked * x->p.blksize, x->p.size);
}

uint32_t ib_tftp_xfer_guard_for(uint32_t timeout_ms)
{
	return IB_MAX(timeout_ms / 4, 1u);
}
