/*
 * The hold ledger (hold_ledger.h): records in one array with a free list,
 * a chained hash table by address, and per group a doubly linked list of
 * its records oldest first.  Groups live in a small table searched
 * linearly (a handful of subnets and links in practice, at most
 * IB_LEDGER_GROUPS).
 */
#include "dhcp4/hold_ledger.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"

#define NIL (-1)
#define OTHER_ROOM 32			/* group entries kept for IB_LEDGER_SOURCE_OTHER */

struct rec {
	uint8_t addr[16];		/* the held address */
	int64_t since;			/* taken at, unix seconds */
	int64_t until;			/* live until, unix seconds */
	int32_t group;			/* index in groups; NIL = free slot */
	int32_t older, newer;		/* neighbours in the group's age list */
	int32_t next;			/* hash chain, or the free list */
};

struct grp {
	struct ib_ledger_group key;	/* subnet and source */
	int32_t oldest, newest;		/* ends of the age list */
	size_t count;			/* records in the list, expired included */
};

struct ib_ledger {
	struct rec *recs;		/* cap of them */
	size_t cap;
	size_t used;			/* records in use */
	int32_t free_head;		/* first free record, or NIL */
	int32_t *buckets;		/* hash chain heads */
	size_t nbuckets;		/* a power of two, >= cap */
	struct grp groups[IB_LEDGER_GROUPS]; /* count 0 = free for reuse */
	size_t n_groups;		/* entries of groups ever used */
	uint8_t key[IB_SIPHASH_KEY_LEN]; /* random: clients steer which addresses */
};

static size_t bucket(const struct ib_ledger *l, const uint8_t addr[16])
{
	return ib_siphash(l->key, addr, 16) & (l->nbuckets - 1);
}

int ib_ledger_new(size_t cap, struct ib_ledger **ret)
{
	struct ib_ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	if (ib_siphash_key_random(l->key) < 0) {
		free(l);
		return -EIO;
	}
	l->cap = cap ? cap : 1;
	for (l->nbuckets = 1; l->nbuckets < l->cap; l->nbuckets <<= 1)
		;
	l->recs = calloc(l->cap, sizeof(*l->recs));
	l->buckets = malloc(l->nbuckets * sizeof(*l->buckets));
	if (!l->recs || !l->buckets) {
		ib_ledger_free(l);
		return -ENOMEM;
	}
	ib_ledger_clear(l);
	*ret = l;
	return 0;
}

void ib_ledger_free(struct ib_ledger *l)
{
	if (!l)
		return;
	free(l->recs);
	free(l->buckets);
	free(l);
}

void ib_ledger_clear(struct ib_ledger *l)
{
	for (size_t i = 0; i < l->nbuckets; i++)
		l->buckets[i] = NIL;
	for (size_t i = 0; i < l->cap; i++) {
		l->recs[i].group = NIL;
		l->recs[i].next = i + 1 < l->cap ? (int32_t)(i + 1) : NIL;
	}
	l->free_head = 0;
	l->used = 0;
	l->n_groups = 0;
}

size_t ib_ledger_size(const struct ib_ledger *l)
{
	return l->used;
}

void ib_ledger_addr4(uint32_t a, uint8_t ret[16])
{
	memset(ret, 0, 10);
	ret[10] = ret[11] = 0xff;
	ret[12] = (uint8_t)(a >> 24);
	ret[13] = (uint8_t)(a >> 16);
	ret[14] = (uint8_t)(a >> 8);
	ret[15] = (uint8_t)a;
}

uint32_t ib_ledger_to4(const uint8_t a[16])
{
	return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static bool same_group(const struct ib_ledger_group *a, const struct ib_ledger_group *b)
{
	return a->source == b->source && memcmp(a->subnet, b->subnet, 16) == 0;
}

/* The index of group g, or NIL. */
static int32_t find_group(const struct ib_ledger *l, const struct ib_ledger_group *g)
{
	for (size_t i = 0; i < l->n_groups; i++)
		if (l->groups[i].count && same_group(&l->groups[i].key, g))
			return (int32_t)i;
	return NIL;
}

/* A new group g in the first free entry below limit, or NIL. */
static int32_t new_group(struct ib_ledger *l, const struct ib_ledger_group *g, size_t limit)
{
	for (size_t k = 0; k < limit; k++) {
		if (k < l->n_groups && l->groups[k].count)
			continue;
		l->groups[k] = (struct grp){ .key = *g, .oldest = NIL, .newest = NIL };
		if (k >= l->n_groups)
			l->n_groups = k + 1;
		return (int32_t)k;
	}
	return NIL;
}

/*
 * The index of group g, made when missing.  Sources past the room of the
 * table share their subnet's IB_LEDGER_SOURCE_OTHER group, for which the
 * last OTHER_ROOM entries are kept (a flood from many spoofed relay
 * addresses is still capped and taken over, as one source).  NIL when
 * even that is full.
 */
static int32_t get_group(struct ib_ledger *l, const struct ib_ledger_group *g)
{
	struct ib_ledger_group other;
	int32_t i = find_group(l, g);

	if (i != NIL)
		return i;
	if (g->source == IB_LEDGER_SOURCE_OTHER)
		return new_group(l, g, IB_LEDGER_GROUPS);
	i = new_group(l, g, IB_LEDGER_GROUPS - OTHER_ROOM);
	if (i != NIL)
		return i;
	other = *g;
	other.source = IB_LEDGER_SOURCE_OTHER;
	return get_group(l, &other);
}

static int32_t find_rec(const struct ib_ledger *l, const uint8_t addr[16], int32_t **ret_link)
{
	int32_t *link = &l->buckets[bucket(l, addr)];

	for (; *link != NIL; link = &l->recs[*link].next) {
		if (memcmp(l->recs[*link].addr, addr, 16) == 0) {
			if (ret_link)
				*ret_link = link;
			return *link;
		}
	}
	return NIL;
}

/* Unlinks record i (found through *link in its hash chain) and frees it. */
static void drop_rec(struct ib_ledger *l, int32_t i, int32_t *link)
{
	struct rec *r = &l->recs[i];
	struct grp *g = &l->groups[r->group];

	*link = r->next;
	if (r->older != NIL)
		l->recs[r->older].newer = r->newer;
	else
		g->oldest = r->newer;
	if (r->newer != NIL)
		l->recs[r->newer].older = r->older;
	else
		g->newest = r->older;
	g->count--;
	r->group = NIL;
	r->next = l->free_head;
	l->free_head = i;
	l->used--;
}

void ib_ledger_remove(struct ib_ledger *l, const uint8_t addr[16])
{
	int32_t *link = NULL;
	int32_t i = find_rec(l, addr, &link);

	if (i != NIL)
		drop_rec(l, i, link);
}

/* Drops the expired records at the old end of group gi. */
static void trim(struct ib_ledger *l, int32_t gi, int64_t now)
{
	struct grp *g = &l->groups[gi];

	while (g->count && l->recs[g->oldest].until <= now)
		ib_ledger_remove(l, l->recs[g->oldest].addr);
}

int ib_ledger_add(struct ib_ledger *l, const uint8_t addr[16], const struct ib_ledger_group *g,
		  int64_t since, int64_t until)
{
	struct rec *r;
	struct grp *gp;
	int32_t i, gi;
	size_t b;

	ib_ledger_remove(l, addr);
	gi = get_group(l, g);
	if (gi == NIL)
		return -ENOSPC;
	trim(l, gi, since);
	if (l->free_head == NIL)
		return -ENOSPC;
	i = l->free_head;
	r = &l->recs[i];
	l->free_head = r->next;
	gp = &l->groups[gi];
	memcpy(r->addr, addr, 16);
	r->since = since;
	r->until = until;
	r->group = gi;
	r->newer = NIL;
	r->older = gp->newest;
	if (gp->newest != NIL)
		l->recs[gp->newest].newer = i;
	else
		gp->oldest = i;
	gp->newest = i;
	gp->count++;
	b = bucket(l, addr);
	r->next = l->buckets[b];
	l->buckets[b] = i;
	l->used++;
	return 0;
}

size_t ib_ledger_count(struct ib_ledger *l, const struct ib_ledger_group *g, int64_t now)
{
	int32_t gi = find_group(l, g);

	if (gi == NIL)
		return 0;
	trim(l, gi, now);
	return l->groups[gi].count;
}

int ib_ledger_oldest(struct ib_ledger *l, const uint8_t subnet[16], const uint64_t *source,
		     int64_t now, uint8_t ret_addr[16])
{
	const struct rec *best = NULL;

	for (size_t i = 0; i < l->n_groups; i++) {
		struct grp *g = &l->groups[i];
		const struct rec *r;

		if (!g->count || memcmp(g->key.subnet, subnet, 16) != 0 ||
		    (source && g->key.source != *source))
			continue;
		trim(l, (int32_t)i, now);
		if (!g->count)
			continue;
		r = &l->recs[g->oldest];
		if (!best || r->since < best->since)
			best = r;
	}
	if (!best)
		return -ENOENT;
	memcpy(ret_addr, best->addr, 16);
	return 0;
}
