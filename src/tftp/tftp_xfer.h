/*
 * The sending side of one TFTP read transfer, as a pure state machine.
 *
 * No syscalls, no clock: the shell feeds events (start, ACK received,
 * timer fired, client error) and gets back an action saying which packets
 * to send and how long to arm the retransmit timer.  The shell reads the
 * blocks, sends them and arms the timer; the machine never sees a byte of
 * file data.
 *
 * Blocks are numbered internally from 1 as 64-bit indices; the wire number
 * is the low 16 bits, so after 65535 the wire number wraps to 0 (what
 * tftp-hpa, atftp and curl expect).  A transfer of size bytes has
 * size / blksize + 1 blocks: the last is short, and is empty when size is a
 * multiple of blksize (RFC 1350 section 6).
 *
 * RFC 7440 windows: the machine sends windowsize blocks and waits.  An ACK
 * of the last block sent advances to the next window; an ACK of an earlier
 * block (the client saw a gap) restarts the window just after it.  An ACK
 * that acknowledges nothing new (a duplicate, or stale) sends nothing, which
 * rules out the Sorcerer's Apprentice syndrome (RFC 1123 4.2.3.1) -- with
 * one exception that keeps lossy links moving when the client negotiated a
 * long timeout: a duplicate ACK (or a repeated request, ib_tftp_xfer_nudge)
 * arriving when nothing was sent for guard_ms means the client is waiting
 * for a block that got lost, and resends what is outstanding.  The guard
 * bounds that to one window per guard_ms, so duplicates can never multiply.
 * A timeout resends the blocks outstanding (at most one window, never more)
 * with the timer doubled.  Resends without progress in between count
 * against max_retries; one more and the transfer fails.
 *
 * Time comes in as now_ms (any monotonic millisecond clock).
 */
#ifndef IB_TFTP_XFER_H
#define IB_TFTP_XFER_H

#include <stdbool.h>
#include <stdint.h>

#define IB_TFTP_XFER_BACKOFF_CAP_MS 16000	/* longest timer after doubling */

/* Parameters fixed when a transfer starts. */
struct ib_tftp_xfer_params {
	uint64_t size;			/* octets to send (after any conversion) */
	uint32_t blksize;		/* negotiated, 8..65464 */
	uint32_t windowsize;		/* negotiated, 1..65535 */
	uint32_t timeout_ms;		/* first retransmit timeout, > 0 */
	uint32_t max_retries;		/* resends in a row before giving up */
	uint32_t guard_ms;		/* duplicate-ACK resend guard; 0 = never */
	bool oack;			/* an OACK goes first, awaiting ACK 0 */
};

enum ib_tftp_xfer_state {
	IB_TFTP_XFER_OACK_SENT,		/* waiting for ACK 0 */
	IB_TFTP_XFER_SENDING,		/* data windows in flight */
	IB_TFTP_XFER_DONE,		/* last block acknowledged */
	IB_TFTP_XFER_FAILED,		/* gave up or client aborted */
};

enum ib_tftp_act_kind {
	IB_TFTP_ACT_NONE,		/* nothing to send; timer unchanged */
	IB_TFTP_ACT_OACK,		/* (re)send the OACK */
	IB_TFTP_ACT_DATA,		/* send blocks first .. first+count-1 */
	IB_TFTP_ACT_DONE,		/* finished; disarm the timer */
	IB_TFTP_ACT_FAIL,		/* give up with error; disarm the timer */
};

/* What the shell does after an event. */
struct ib_tftp_action {
	enum ib_tftp_act_kind kind;	/* what to send */
	uint64_t first;			/* DATA: first block index (>= 1) */
	uint32_t count;			/* DATA: number of blocks */
	uint32_t timeout_ms;		/* OACK/DATA: arm the timer for this */
	int error;			/* FAIL: -ETIMEDOUT or -ECONNABORTED */
};

/* One transfer.  Embedded in the shell's connection; no heap. */
struct ib_tftp_xfer {
	struct ib_tftp_xfer_params p;	/* as given to init */
	enum ib_tftp_xfer_state state;	/* where we are */
	uint64_t nblocks;		/* size / blksize + 1 */
	uint64_t acked;			/* highest block acknowledged (0 = none) */
	uint64_t sent;			/* highest block sent */
	uint32_t retries;		/* resends since the last progress */
	uint64_t last_send_ms;		/* when packets were last sent */
	uint32_t cur_timeout_ms;	/* timer after backoff */
	uint32_t retransmits;		/* packets resent, whole transfer */
};

/* Sets up x; blksize/windowsize/timeout of 0 are taken as 512/1/1000. */
void ib_tftp_xfer_init(struct ib_tftp_xfer *x,
		       const struct ib_tftp_xfer_params *p);
/* First packets: the OACK, or the first window. */
void ib_tftp_xfer_start(struct ib_tftp_xfer *x, uint64_t now_ms,
			struct ib_tftp_action *ret);
/* An ACK with wire block number block arrived. */
void ib_tftp_xfer_ack(struct ib_tftp_xfer *x, uint16_t block, uint64_t now_ms,
		      struct ib_tftp_action *ret);
/* The retransmit timer fired. */
void ib_tftp_xfer_timeout(struct ib_tftp_xfer *x, uint64_t now_ms,
			  struct ib_tftp_action *ret);
/*
 * The client repeated its request (its OACK or first block got lost):
 * resends what is outstanding, under the same guard as a duplicate ACK.
 */
void ib_tftp_xfer_nudge(struct ib_tftp_xfer *x, uint64_t now_ms,
			struct ib_tftp_action *ret);
/* The client sent an ERROR (e.g. refusing the OACK): the transfer ends. */
void ib_tftp_xfer_client_error(struct ib_tftp_xfer *x,
			       struct ib_tftp_action *ret);

/*
 * The duplicate-ACK guard the server uses for a retransmit timeout of
 * timeout_ms: a quarter of it (at least 1 ms).  A client that re-ACKs
 * because a resent window lost its first block again is followed after a
 * quarter of the timeout instead of a whole one, and resends stay bounded
 * at one window per guard however many duplicates arrive.
 */
uint32_t ib_tftp_xfer_guard_for(uint32_t timeout_ms);

/* Wire number of block index i. */
static inline uint16_t ib_tftp_xfer_wire(uint64_t i)
{
	return (uint16_t)(i & 0xffff);
}

/* Byte offset and length of block index i (1-based) of the transfer. */
void ib_tftp_xfer_block_span(const struct ib_tftp_xfer *x, uint64_t i,
			     uint64_t *ret_off, uint32_t *ret_len);

/* Octets acknowledged so far (for reports). */
uint64_t ib_tftp_xfer_bytes_acked(const struct ib_tftp_xfer *x);

#endif
