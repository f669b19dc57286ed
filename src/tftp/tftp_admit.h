/*
 * Who gets a TFTP transfer slot, as pure decisions (no I/O, no clock, no
 * globals): the server shell counts, asks, and carries out the answer.
 *
 * A read request costs the server a socket, a timer and a retransmitted
 * first packet before anyone has shown it can hear the answer: a spoofed
 * source never will.  So transfers live in two pools:
 *
 *   - unacknowledged: answered (OACK or DATA 1 sent) but not yet ACKed.
 *     At most max_unacked; when full, the oldest makes room for a new
 *     request, first the oldest of a source with nothing under way (a
 *     "stranger"), and only a source with a transfer under way may
 *     displace the oldest of all.
 *   - under way: the client ACKed the first packet, proving it receives
 *     at its address.  At most max_live; these slots are reserved for
 *     such transfers, so a flood of requests from addresses that never
 *     answer cannot take them.
 *
 * Each source address holds at most max_per_client transfers in both pools
 * together (its fair share); a request over it, or one that could not get
 * a slot under way when ACKed, is refused "busy".
 *
 * Transfers that end without a word from their client, and refusals, are
 * logged one by one only while they are few: ib_tftp_flood folds the rest
 * into one summary per window, so a flood leaves one line, not thousands.
 */
#ifndef IB_TFTP_ADMIT_H
#define IB_TFTP_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

/* The three limits of the pools. */
struct ib_tftp_admit_limits {
	uint32_t max_live;		/* transfers under way, all sources */
	uint32_t max_unacked;		/* transfers not yet ACKed, all sources */
	uint32_t max_per_client;	/* both pools, per source address */
};

/* What the shell holds when a request arrives (or an ACK, for promote). */
struct ib_tftp_admit_counts {
	uint32_t live;			/* under way, all sources */
	uint32_t unacked;		/* not yet ACKed, all sources */
	uint32_t stranger_unacked;	/* of those, from sources with nothing
					 * under way */
	uint32_t src_live;		/* under way, this source */
	uint32_t src_unacked;		/* not yet ACKed, this source */
};

enum ib_tftp_admit_verdict {
	IB_TFTP_ADMIT_START,		/* start it, unacknowledged */
	IB_TFTP_ADMIT_EVICT_STRANGER,	/* first end the oldest unacknowledged
					 * transfer of a source with nothing
					 * under way, then start it */
	IB_TFTP_ADMIT_EVICT_OLDEST,	/* first end the oldest unacknowledged
					 * transfer of all, then start it */
	IB_TFTP_ADMIT_BUSY_CLIENT,	/* refuse: source over its share */
	IB_TFTP_ADMIT_BUSY_SERVER,	/* refuse: no room */
};

/* Whether a new request from a source with counts c may start. */
enum ib_tftp_admit_verdict
ib_tftp_admit_request(const struct ib_tftp_admit_limits *lim,
		      const struct ib_tftp_admit_counts *c);

/*
 * The first valid ACK of an unacknowledged transfer arrived: true if it
 * may take a slot under way, false if the transfer is refused "busy".
 */
bool ib_tftp_admit_promote(const struct ib_tftp_admit_limits *lim,
			   const struct ib_tftp_admit_counts *c);

/* ---- the flood summary ------------------------------------------------- */

#define IB_TFTP_FLOOD_WINDOW_MS 5000	/* one summary line per window */
#define IB_TFTP_FLOOD_SINGLES 8		/* quiet-time events logged singly per
					 * window before folding starts */
#define IB_TFTP_FLOOD_SET 4096		/* distinct sources counted exactly
					 * (slots; 3/4 used at most) */

enum ib_tftp_flood_kind {
	IB_TFTP_FLOOD_EVICTED,		/* unacknowledged, evicted for room */
	IB_TFTP_FLOOD_UNANSWERED,	/* unacknowledged, ended without a word
					 * from the client (timed out, port
					 * unreachable, shutdown) */
	IB_TFTP_FLOOD_REFUSED,		/* request refused busy */
	IB_TFTP_FLOOD_KINDS,
};

/* One window's counts, for the summary line. */
struct ib_tftp_flood_summary {
	uint64_t n[IB_TFTP_FLOOD_KINDS]; /* events folded, per kind */
	uint32_t sources;		/* distinct source addresses of the
					 * evicted */
	bool sources_capped;		/* more sources than could be counted:
					 * sources is a lower bound */
	uint64_t ms;			/* how long the window was open */
};

/* The state of the summary.  Embedded in the server; zero is ready. */
struct ib_tftp_flood {
	bool open;			/* a window is open (its timer armed) */
	uint64_t opened_ms;		/* when it opened */
	struct ib_tftp_flood_summary sum; /* the open window's counts */
	uint64_t singles_since_ms;	/* start of the singles period */
	uint32_t singles;		/* logged singly in that period */
	uint64_t set[IB_TFTP_FLOOD_SET]; /* source hashes seen, 0 = empty */
};

/* What the shell does with one event. */
struct ib_tftp_flood_note {
	bool fold;			/* count it in the summary, do not log
					 * or report it by itself */
	bool arm;			/* a window opened: log the summary
					 * IB_TFTP_FLOOD_WINDOW_MS from now */
};

/*
 * Notes an event of kind from the source whose keyed hash is src_hash, at
 * now_ms (monotonic).  Evictions are always folded.  The other kinds are
 * logged singly while no window is open and fewer than
 * IB_TFTP_FLOOD_SINGLES were in the last IB_TFTP_FLOOD_WINDOW_MS; past
 * that they fold, and the first folded event opens a window.
 */
struct ib_tftp_flood_note ib_tftp_flood_note(struct ib_tftp_flood *f,
					     enum ib_tftp_flood_kind kind,
					     uint64_t src_hash, uint64_t now_ms);

/*
 * Closes the open window at now_ms: *ret gets its counts (all zero if none
 * was open).  Events of the next IB_TFTP_FLOOD_WINDOW_MS fold into a new
 * window (a flood that goes on gives one line per window); after that,
 * singles are logged again.
 */
void ib_tftp_flood_close(struct ib_tftp_flood *f, uint64_t now_ms,
			 struct ib_tftp_flood_summary *ret);

#endif
