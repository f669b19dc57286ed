/* TFTP admission and the flood summary: see tftp_admit.h. */
#include "tftp/tftp_admit.h"

#include <string.h>

enum ib_tftp_admit_verdict
ib_tftp_admit_request(const struct ib_tftp_admit_limits *lim,
		      const struct ib_tftp_admit_counts *c)
{
	/* The fair share first: one address cannot crowd out the others,
	 * whichever pool its transfers sit in. */
	if ((uint64_t)c->src_live + c->src_unacked >= lim->max_per_client)
		return IB_TFTP_ADMIT_BUSY_CLIENT;
	/* Not even an ACK could get it a slot under way. */
	if (c->live >= lim->max_live)
		return IB_TFTP_ADMIT_BUSY_SERVER;
	if (c->unacked < lim->max_unacked)
		return IB_TFTP_ADMIT_START;
	/* Full: the oldest unanswered request has had the longest chance to
	 * be ACKed, and a spoofed one never will be. */
	if (c->stranger_unacked > 0)
		return IB_TFTP_ADMIT_EVICT_STRANGER;
	/* Only requests of sources with transfers under way are waiting: a
	 * stranger does not displace them, another such source may. */
	if (c->src_live > 0 && c->unacked > 0)
		return IB_TFTP_ADMIT_EVICT_OLDEST;
	return IB_TFTP_ADMIT_BUSY_SERVER;
}

bool ib_tftp_admit_promote(const struct ib_tftp_admit_limits *lim,
			   const struct ib_tftp_admit_counts *c)
{
	/* Admission checked the pool was not full, but it may have filled
	 * while this client took its time to ACK. */
	return c->live < lim->max_live;
}

/* Adds a source to the window's set; exact until the set is 3/4 full. */
static void count_source(struct ib_tftp_flood *f, uint64_t h)
{
	size_t mask = IB_TFTP_FLOOD_SET - 1, i;

	if (h == 0)
		h = 1;	/* 0 marks an empty slot */
	for (i = (size_t)h & mask; f->set[i] != 0; i = (i + 1) & mask)
		if (f->set[i] == h)
			return;
	if (f->sum.sources >= IB_TFTP_FLOOD_SET / 4 * 3) {
		f->sum.sources_capped = true;
		return;
	}
	f->set[i] = h;
	f->sum.sources++;
}

struct ib_tftp_flood_note ib_tftp_flood_note(struct ib_tftp_flood *f,
					     enum ib_tftp_flood_kind kind,
					     uint64_t src_hash, uint64_t now_ms)
{
	struct ib_tftp_flood_note n = { .fold = true };

	if (kind != IB_TFTP_FLOOD_EVICTED && !f->open) {
		if (f->singles == 0 ||
		    now_ms - f->singles_since_ms >= IB_TFTP_FLOOD_WINDOW_MS) {
			f->singles_since_ms = now_ms;
			f->singles = 0;
		}
		if (f->singles < IB_TFTP_FLOOD_SINGLES) {
			f->singles++;
			return (struct ib_tftp_flood_note){ .fold = false };
		}
	}
	f->sum.n[kind]++;
	if (kind == IB_TFTP_FLOOD_EVICTED)
		count_source(f, src_hash);
	if (!f->open) {
		f->open = true;
		f->opened_ms = now_ms;
		n.arm = true;
	}
	return n;
}

void ib_tftp_flood_close(struct ib_tftp_flood *f, uint64_t now_ms,
			 struct ib_tftp_flood_summary *ret)
{
	*ret = f->sum;
	if (!f->open)
		return;
	ret->ms = now_ms - f->opened_ms;
	f->open = false;
	f->sum = (struct ib_tftp_flood_summary){ 0 };
	memset(f->set, 0, sizeof(f->set));
	/* A flood that goes on folds straight into the next window: the
	 * singles allowance comes back only after a quiet period. */
	f->singles_since_ms = now_ms;
	f->singles = IB_TFTP_FLOOD_SINGLES;
}
