/*
 * The pools' tally (pool_tally.h): pools sorted by first address for a
 * binary search, counts per state, and a bitmap of held addresses per
 * small DHCPv4 pool.
 */
#include "dhcp/pool_tally.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"
#include "dhcp/bind_table.h"

/* One pool. */
struct pool {
	struct ib_pool_range r;		/* its range */
	uint64_t count[IB_TALLY_STATES]; /* addresses per state */
	uint64_t *bits;			/* held addresses, bit (off % 64) of word
					 * off / 64; NULL: no bitmap */
	uint64_t size;			/* addresses in it (bitmap pools) */
	uint64_t cursor;		/* word where the next search starts */
	struct ib_pool_search search;	/* the family's */
};

struct ib_pool_tally {
	size_t alen;			/* bytes of an address: 4 or 16 */
	size_t n;			/* pools */
	struct pool *p;			/* in the caller's order */
	size_t *order;			/* pool indexes by first address */
};

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Sorting context: qsort has none, so the order sorts pairs. */
struct keyed {
	const uint8_t *first;		/* the pool's first address */
	size_t alen;			/* its length */
	size_t i;			/* the pool's index */
};

static int by_first(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	return memcmp(x->first, y->first, x->alen);
}

static int make_order(struct ib_pool_tally *t)
{
	struct keyed *k = calloc(t->n ? t->n : 1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		k[i] = (struct keyed){ t->p[i].r.first, t->alen, i };
	qsort(k, t->n, sizeof(*k), by_first);
	for (size_t i = 0; i < t->n; i++)
		t->order[i] = k[i].i;
	free(k);
	return 0;
}

/* A bitmap for a DHCPv4 pool small enough; 0 or -ENOMEM. */
static int make_bits(struct pool *p)
{
	uint32_t a = be32(p->r.first), b = be32(p->r.last);

	p->size = (uint64_t)b - a + 1;
	if (p->size > IB_TALLY_BITMAP_MAX)
		return 0;
	p->bits = calloc((p->size + 63) / 64, sizeof(uint64_t));
	return p->bits ? 0 : -ENOMEM;
}

int ib_pool_tally_new(size_t addr_len, const struct ib_pool_range *r, size_t n,
		      struct ib_pool_tally **ret)
{
	struct ib_pool_tally *t;

	if (addr_len != 4 && addr_len != 16)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (memcmp(r[i].first, r[i].last, addr_len) > 0)
			return -EINVAL;
	if (!(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	t->alen = addr_len;
	t->n = n;
	t->p = calloc(n ? n : 1, sizeof(*t->p));
	t->order = calloc(n ? n : 1, sizeof(*t->order));
	if (!t->p || !t->order)
		goto err;
	for (size_t i = 0; i < n; i++) {
		t->p[i].r = r[i];
		if (addr_len == 4 && make_bits(&t->p[i]) < 0)
			goto err;
	}
	if (make_order(t) < 0)
		goto err;
	*ret = t;
	return 0;
err:
	ib_pool_tally_free(t);
	return -ENOMEM;
}

void ib_pool_tally_free(struct ib_pool_tally *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->p && i < t->n; i++)
		free(t->p[i].bits);
	free(t->p);
	free(t->order);
	free(t);
}

void ib_pool_tally_reset(struct ib_pool_tally *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct pool *p = &t->p[i];

		memset(p->count, 0, sizeof(p->count));
		if (p->bits)
			memset(p->bits, 0, (p->size + 63) / 64 * sizeof(uint64_t));
		p->cursor = 0;
		p->search = (struct ib_pool_search){ 0 };
	}
}

void ib_pool_tally_scatter(struct ib_pool_tally *t, const uint8_t key[16])
{
	for (size_t i = 0; i < t->n; i++) {
		struct pool *p = &t->p[i];
		uint64_t off = ib_siphash(key, p->r.first, t->alen);

		if (!p->size)
			continue;
		off %= p->size;
		p->cursor = off / 64;
		p->search.from = off;
	}
}

struct ib_pool_search *ib_pool_tally_search(struct ib_pool_tally *t, size_t i)
{
	return &t->p[i].search;
}

static void feed(void *ctx, const struct ib_bind *b)
{
	ib_pool_tally_change(ctx, b->addr, 0, b->state);
}

int ib_pool_watch_set(struct ib_pool_watch *w, struct ib_bind_table *t, size_t addr_len,
		      const struct ib_pool_range *r, size_t n)
{
	struct ib_pool_tally *nt;
	int err = ib_pool_tally_new(addr_len, r, n, &nt);

	if (err < 0)
		return err;
	ib_bind_foreach(t, feed, nt);
	ib_bind_table_watch(t, ib_pool_tally_change, nt);
	ib_pool_tally_free(w->prev);
	w->prev = w->cur;
	w->cur = nt;
	return 0;
}

void ib_pool_watch_rollback(struct ib_pool_watch *w, struct ib_bind_table *t)
{
	if (!w->prev)
		return;
	ib_pool_tally_free(w->cur);
	w->cur = w->prev;
	w->prev = NULL;
	/* fed again: the table may have moved since it last watched */
	ib_pool_tally_reset(w->cur);
	ib_bind_foreach(t, feed, w->cur);
	ib_bind_table_watch(t, ib_pool_tally_change, w->cur);
}

void ib_pool_watch_done(struct ib_pool_watch *w)
{
	ib_pool_tally_free(w->cur);
	ib_pool_tally_free(w->prev);
	*w = (struct ib_pool_watch){ 0 };
}

size_t ib_pool_tally_pools(const struct ib_pool_tally *t)
{
	return t->n;
}

long ib_pool_tally_find(const struct ib_pool_tally *t, const uint8_t *addr)
{
	size_t lo = 0, hi = t->n;	/* the pools with first <= addr: [0, lo) */
	const struct pool *p;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(t->p[t->order[mid]].r.first, addr, t->alen) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	p = &t->p[t->order[lo - 1]];
	return memcmp(addr, p->r.last, t->alen) <= 0 ? (long)t->order[lo - 1] : -1;
}

void ib_pool_tally_change(void *ctx, const uint8_t *addr, uint8_t was, uint8_t now)
{
	struct ib_pool_tally *t = ctx;
	long i = ib_pool_tally_find(t, addr);
	struct pool *p;
	uint64_t off;

	if (i < 0)
		return;
	p = &t->p[i];
	if (was && was < IB_TALLY_STATES && p->count[was])
		p->count[was]--;
	if (now && now < IB_TALLY_STATES)
		p->count[now]++;
	if (!p->bits)
		return;
	off = be32(addr) - be32(p->r.first);
	if (now)
		p->bits[off / 64] |= (uint64_t)1 << (off % 64);
	else
		p->bits[off / 64] &= ~((uint64_t)1 << (off % 64));
}

uint64_t ib_pool_tally_count(const struct ib_pool_tally *t, size_t i, uint8_t st)
{
	return i < t->n && st < IB_TALLY_STATES ? t->p[i].count[st] : 0;
}

/* The free bits of word w of p: past the pool's end counts as held. */
static uint64_t free_bits(const struct pool *p, uint64_t w)
{
	uint64_t f = ~p->bits[w];
	uint64_t tail = p->size - w * 64;

	return tail < 64 ? f & (((uint64_t)1 << tail) - 1) : f;
}

int ib_pool_tally_next_free(struct ib_pool_tally *t, size_t i,
			    bool (*skip)(void *ctx, uint64_t off), void *ctx, uint64_t *ret_off)
{
	struct pool *p = i < t->n ? &t->p[i] : NULL;
	uint64_t words;

	if (!p || !p->bits)
		return -ENOTSUP;
	words = (p->size + 63) / 64;
	for (uint64_t k = 0; k < words; k++) {
		uint64_t w = (p->cursor + k) % words, f = free_bits(p, w);

		for (; f; f &= f - 1) {
			uint64_t off = w * 64 + (uint64_t)__builtin_ctzll(f);

			if (skip && skip(ctx, off))
				continue;
			p->cursor = w;
			*ret_off = off;
			return 0;
		}
	}
	return -ENOSPC;
}
