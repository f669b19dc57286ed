/*
 * The ADVERTISE holds (dhcp6_holds.h) on the binding table both DHCP
 * families' caches use (src/dhcp/bind_table.h, wide): an address's hold
 * is a binding in state HELD until its expiry, its holder's key the IA's
 * (DUID + IAID, ib_d6_key()), at most one per IA.
 */
#include "dhcp6/dhcp6_holds.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp/bind_table.h"
#include "dhcp6/dhcp6_leases.h"

#define HELD 1				/* the table's state of a hold */

struct ib_d6_holds {
	struct ib_bind_table *t;	/* the holds, by address and by IA */
	size_t cap;			/* at most this many at once */
	struct ib_ledger *ledger;	/* the holds filed by subnet and source */
};

int ib_d6_holds_new(size_t cap, struct ib_d6_holds **ret)
{
	struct ib_d6_holds *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return -ENOMEM;
	h->cap = cap;
	if ((r = ib_bind_table_new(16, &h->t)) < 0 || (r = ib_bind_table_reserve(h->t, cap)) < 0 ||
	    (r = ib_ledger_new(cap, &h->ledger)) < 0) {
		ib_d6_holds_free(h);
		return r;
	}
	*ret = h;
	return 0;
}

void ib_d6_holds_free(struct ib_d6_holds *h)
{
	if (!h)
		return;
	ib_bind_table_free(h->t);
	ib_ledger_free(h->ledger);
	free(h);
}

int ib_d6_holds_find(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		     int64_t now, uint8_t ret_addr[16], int64_t *ret_until)
{
	struct ib_bind_key k;
	struct ib_bind b;

	if (duid->len == 0 || !ib_d6_key(duid->p, duid->len, iaid, &k) ||
	    !ib_bind_of(h->t, k.b, k.len, &b) || b.expires <= now)
		return -ENOENT;
	memcpy(ret_addr, b.addr, 16);
	*ret_until = b.expires;
	return 0;
}

enum ib_d6_holder ib_d6_holds_holder(struct ib_d6_holds *h, const uint8_t addr[16],
				     const struct ib_dhcp6_blob *duid, uint32_t iaid,
				     int64_t now)
{
	struct ib_bind_key k;
	struct ib_bind b;

	if (!ib_bind_get(h->t, addr, &b) || b.expires <= now)
		return IB_D6_HELD_NONE;
	return ib_d6_key(duid->p, duid->len, iaid, &k) && ib_bind_held_by(&b, k.b, k.len) ?
	       IB_D6_HELD_MINE : IB_D6_HELD_OTHER;
}

void ib_d6_holds_drop_addr(struct ib_d6_holds *h, const uint8_t addr[16])
{
	ib_ledger_remove(h->ledger, addr);
	ib_bind_remove(h->t, addr);
}

void ib_d6_holds_put(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		     const uint8_t addr[16], int64_t until, int64_t now,
		     const struct ib_ledger_group *g)
{
	struct ib_bind_key k;
	struct ib_bind b = { .state = HELD, .expires = until };

	if (duid->len == 0 || !ib_d6_key(duid->p, duid->len, iaid, &k))
		return;
	ib_d6_holds_drop(h, duid, iaid);
	ib_d6_holds_drop_addr(h, addr);		/* taken over, if another's */
	if (ib_bind_table_count(h->t) >= h->cap)
		ib_d6_holds_expire(h, now);
	if (ib_bind_table_count(h->t) >= h->cap)
		return;
	memcpy(b.addr, addr, 16);
	b.key = k.b;
	b.key_len = k.len;
	if (ib_bind_put(h->t, &b, true) < 0)
		return;
	/* a full ledger leaves the hold uncounted: it still expires */
	if (g)
		ib_ledger_add(h->ledger, addr, g, now, until);
}

size_t ib_d6_holds_in(struct ib_d6_holds *h, const struct ib_ledger_group *g, int64_t now)
{
	return ib_ledger_count(h->ledger, g, now);
}

int ib_d6_holds_oldest(struct ib_d6_holds *h, const uint8_t subnet[16], const uint64_t *source,
		       int64_t now, uint8_t ret_addr[16])
{
	return ib_ledger_oldest(h->ledger, subnet, source, now, ret_addr);
}

void ib_d6_holds_drop(struct ib_d6_holds *h, const struct ib_dhcp6_blob *duid, uint32_t iaid)
{
	struct ib_bind_key k;
	struct ib_bind b;

	if (duid->len && ib_d6_key(duid->p, duid->len, iaid, &k) &&
	    ib_bind_of(h->t, k.b, k.len, &b))
		ib_d6_holds_drop_addr(h, b.addr);
}

/* What ib_d6_holds_expire() drops: the holds past now, out of the ledger
 * too (the table forgets them once this says so). */
struct expiry {
	struct ib_d6_holds *h;		/* the holds */
	int64_t now;			/* unix seconds */
};

static bool expired(void *ctx, const struct ib_bind *b)
{
	const struct expiry *x = ctx;

	if (b->expires > x->now)
		return false;
	ib_ledger_remove(x->h->ledger, b->addr);
	return true;
}

void ib_d6_holds_expire(struct ib_d6_holds *h, int64_t now)
{
	struct expiry x = { h, now };

	ib_bind_drop_if(h->t, expired, &x);
}

/* The live holds' count at now. */
struct live {
	size_t n;			/* counted so far */
	int64_t now;			/* unix seconds */
};

static void count_live(void *ctx, const struct ib_bind *b)
{
	struct live *l = ctx;

	l->n += b->expires > l->now;
}

size_t ib_d6_holds_count(const struct ib_d6_holds *h, int64_t now)
{
	struct live l = { 0, now };

	ib_bind_foreach(h->t, count_live, &l);
	return l.n;
}
