/* A subnet's pools as one sequence of offsets: see dhcp6_pool.h. */
#include "dhcp6/dhcp6_pool.h"

#include <errno.h>
#include <string.h>

/* Pool size minus one, saturated at 2^64 - 1 when it spans more. */
static uint64_t pool_span(const struct ib_pool6 *p)
{
	uint64_t hi = 0, lo = 0;

	if (memcmp(p->start, p->end, 8) != 0)
		return UINT64_MAX;
	for (int i = 8; i < 16; i++) {
		hi = hi << 8 | p->end[i];
		lo = lo << 8 | p->start[i];
	}
	return hi - lo;
}

static uint64_t pool_size(const struct ib_pool6 *p)
{
	uint64_t span = pool_span(p);

	return span == UINT64_MAX ? UINT64_MAX : span + 1;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* addr = start + off (128-bit add of a 64-bit offset). */
static void addr_add(const uint8_t start[16], uint64_t off, uint8_t out[16])
{
	unsigned carry = 0;

	for (int i = 15; i >= 0; i--) {
		unsigned v = start[i] + (unsigned)(i >= 8 ? (off >> (8 * (15 - i))) & 0xff : 0) +
			     carry;

		out[i] = (uint8_t)v;
		carry = v >> 8;
	}
}

/* The low 64 bits of a - start (a inside a pool of under 2^64 addresses). */
static uint64_t offset_in(const uint8_t start[16], const uint8_t a[16])
{
	uint64_t x = 0, s = 0;

	for (int i = 8; i < 16; i++) {
		x = x << 8 | a[i];
		s = s << 8 | start[i];
	}
	return x - s;
}

uint64_t ib_d6_pool_size(const struct ib_subnet6 *sn)
{
	uint64_t n = 0;

	for (size_t i = 0; i < sn->n_pools; i++)
		n = sat_add(n, pool_size(&sn->pools[i]));
	return n;
}

void ib_d6_pool_addr(const struct ib_subnet6 *sn, uint64_t off, uint8_t ret[16])
{
	for (size_t i = 0; i < sn->n_pools; i++) {
		uint64_t size = pool_size(&sn->pools[i]);

		if (off < size || i + 1 == sn->n_pools) {
			addr_add(sn->pools[i].start, off, ret);
			return;
		}
		off -= size;
	}
}

/* Offset start + k, wrapping at total (k < total). */
static uint64_t wrap(uint64_t start, uint64_t k, uint64_t total)
{
	uint64_t rest = total - start;

	return k < rest ? start + k : k - rest;
}

int ib_d6_pool_next(const struct ib_subnet6 *sn, uint64_t *cursor, uint64_t max_tries,
		    bool (*usable)(void *ctx, const uint8_t a[16]), void *ctx, uint8_t ret[16])
{
	uint64_t total = ib_d6_pool_size(sn);
	uint64_t start, tries;

	if (total == 0)
		return -ENOSPC;
	start = *cursor % total;
	tries = max_tries < total ? max_tries : total;
	for (uint64_t k = 0; k < tries; k++) {
		uint8_t a[16];

		ib_d6_pool_addr(sn, wrap(start, k, total), a);
		if (usable(ctx, a)) {
			*cursor = k + 1 < total ? wrap(start, k + 1, total) : start;
			memcpy(ret, a, 16);
			return 0;
		}
	}
	*cursor = tries < total ? wrap(start, tries, total) : start;
	return -ENOSPC;
}

void ib_d6_gap_init(struct ib_d6_gap *g, const struct ib_subnet6 *sn)
{
	memset(g, 0, sizeof(*g));
	g->sn = sn;
	/* a pool of 2^64 addresses or more is not placed: it has room */
	for (size_t i = 0; i < sn->n_pools && i < IB_D6_GAP_POOLS; i++)
		g->done[i] = pool_span(&sn->pools[i]) == UINT64_MAX;
}

void ib_d6_gap_feed(struct ib_d6_gap *g, const uint8_t addr[16], bool taken)
{
	for (size_t i = 0; i < g->sn->n_pools && i < IB_D6_GAP_POOLS; i++) {
		const struct ib_pool6 *p = &g->sn->pools[i];
		uint64_t off;

		if (memcmp(addr, p->start, 16) < 0 || memcmp(addr, p->end, 16) > 0)
			continue;
		if (g->done[i])
			return;
		off = offset_in(p->start, addr);
		if (off < g->want[i])
			return;			/* not ascending: ignored */
		if (off == g->want[i] && taken)
			g->want[i]++;
		else
			g->done[i] = true;	/* want[i] is free */
		return;
	}
}

int ib_d6_gap_result(const struct ib_d6_gap *g, uint64_t *ret_offset)
{
	uint64_t base = 0;

	for (size_t i = 0; i < g->sn->n_pools; i++) {
		uint64_t size = pool_size(&g->sn->pools[i]);

		if (i >= IB_D6_GAP_POOLS) {
			*ret_offset = base;	/* not placed: its start */
			return 0;
		}
		if (g->done[i] || g->want[i] < size) {
			*ret_offset = sat_add(base, g->want[i]);
			return 0;
		}
		base = sat_add(base, size);
	}
	return -ENOSPC;
}

/* The pool pick: see dhcp6_pool.h. */
int ib_d6_pool_pick(const struct ib_subnet6 *sn, struct ib_d6_cursor *c,
		    const struct ib_d6_pick *how, uint8_t ret[16])
{
	if (ib_d6_pool_next(sn, &c->offset, how->max_tries, how->usable, how->ctx, ret) == 0)
		return 0;
	/* a pool the search covers whole has no gap further on; a cursor
	 * placed a moment ago would land where it is */
	if (ib_d6_pool_size(sn) <= how->max_tries || how->now - c->placed_at < how->every)
		return -ENOSPC;
	how->place(how->ctx, sn, c);
	return ib_d6_pool_next(sn, &c->offset, how->max_tries, how->usable, how->ctx, ret);
}
