/*
 * The DHCPv4 lease cache: two open-addressing tables (by address, and by
 * client key hash -> address), linear probing, backward-shift deletion.
 * See dhcp4_leases.h.
 */
#include "dhcp4/dhcp4_leases.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"
#include "common/util.h"
#include "dhcp4/hold_ledger.h"

#define LEDGER_CAP 65536		/* OFFER holds filed at once */
/*
 * Key bytes kept inside the entry: 'H' + htype + a 6-byte chaddr (8), and
 * 'C' + an RFC 4361 client-id with a DUID-UUID (24), so that nearly every
 * client costs no allocation of its own.  A longer key is allocated.
 */
#define KEY_INLINE 24
#define CAP_MIN 1024
#define CAP_MAX ((size_t)1 << 31)	/* a slot's hash tag is 32 bits */

/*
 * One address, 40 bytes: with a million leases the table is a hundred
 * megabytes, not the six hundred a full struct ib_d4_key per slot took.
 */
struct entry {
	uint32_t addr;			/* the address (key of the table) */
	uint8_t state;			/* enum ib_d4_state; FREE = empty slot */
	uint16_t key_len;		/* bytes of the holder's key */
	int64_t expires;		/* unix seconds */
	union {
		uint8_t in[KEY_INLINE];	/* key_len <= KEY_INLINE */
		uint8_t *out;		/* else: allocated, owned by the entry */
	} key;				/* the holder's key (struct ib_d4_key b) */
};

_Static_assert(sizeof(struct entry) <= 40, "an entry grew past 40 bytes");

/*
 * Client index slot: the low 32 bits of the key's hash -> address, the
 * entry verified against the key.  addr 0 (0.0.0.0, never a lease) marks
 * an empty slot.
 */
struct cslot {
	uint32_t tag;			/* low bits of the key hash */
	uint32_t addr;			/* the entry's address; 0 = empty */
};

/* Where the next search of one pool starts. */
struct pool_pos {
	uint32_t start;			/* the pool's first address */
	uint32_t pos;			/* offset of the next candidate */
};

struct ib_d4_leases {
	struct entry *e;		/* by address */
	struct cslot *cs;		/* by client */
	size_t cap;			/* slots in each table, power of two */
	size_t n;			/* entries in use */
	struct pool_pos *cursor;	/* next-fit position per pool */
	size_t n_cursor;
	struct ib_ledger *ledger;	/* the OFFER holds of pool addresses */
	const int64_t *now;		/* the shell's clock, for the view */
	bool scatter;			/* new cursors start at a random position */
	uint8_t key[IB_SIPHASH_KEY_LEN]; /* random: client keys come from the wire */
};

static uint64_t hash_bytes(const struct ib_d4_leases *c, const uint8_t *p, size_t n)
{
	return ib_siphash(c->key, p, n);
}

/*
 * The home slot of an address: a full 32-bit mix (murmur3's finaliser).
 * The low bits of a bare multiplication put a pool's consecutive
 * addresses in a lattice whose runs made every miss probe far.
 */
static size_t addr_slot(uint32_t a, size_t cap)
{
	a ^= a >> 16;
	a *= 0x85ebca6bu;
	a ^= a >> 13;
	a *= 0xc2b2ae35u;
	a ^= a >> 16;
	return (size_t)a & (cap - 1);
}

static const uint8_t *entry_key(const struct entry *e)
{
	return e->key_len <= KEY_INLINE ? e->key.in : e->key.out;
}

/* Gives e a copy of k; 0 or -ENOMEM. */
static int entry_key_set(struct entry *e, const struct ib_d4_key *k)
{
	uint8_t *p = e->key.in;

	if (k->len > KEY_INLINE && !(p = e->key.out = malloc(k->len)))
		return -ENOMEM;
	memcpy(p, k->b, k->len);
	e->key_len = k->len;
	return 0;
}

static void entry_key_free(struct entry *e)
{
	if (e->key_len > KEY_INLINE)
		free(e->key.out);
	e->key_len = 0;
}

static bool entry_key_eq(const struct entry *e, const struct ib_d4_key *k)
{
	return e->key_len == k->len && memcmp(entry_key(e), k->b, k->len) == 0;
}

/*
 * Writes one byte of each page of a fresh calloc() block.  A large block
 * is mapped lazily: the probes' first read of a page maps the shared zero
 * page, and the write after it faults again to copy it, flushing the TLB
 * of every CPU the other threads run on.  Written first, each page faults
 * once, cheaply.  (A million leases: about half a second less at start.)
 */
static void touch_pages(void *p, size_t n)
{
	volatile uint8_t *b = p;

	for (size_t i = 0; i < n; i += 4096)
		b[i] = 0;
}

/* Both tables with cap slots, empty; 0 or -ENOMEM (then c is unchanged). */
static int tables_alloc(struct ib_d4_leases *c, size_t cap)
{
	struct entry *e = calloc(cap, sizeof(*e));
	struct cslot *cs = calloc(cap, sizeof(*cs));

	if (!e || !cs) {
		free(e);
		free(cs);
		return -ENOMEM;
	}
	touch_pages(e, cap * sizeof(*e));
	touch_pages(cs, cap * sizeof(*cs));
	free(c->e);
	free(c->cs);
	c->e = e;
	c->cs = cs;
	c->cap = cap;
	c->n = 0;
	return 0;
}

int ib_d4_leases_new(struct ib_d4_leases **ret)
{
	struct ib_d4_leases *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (ib_siphash_key_random(c->key) < 0) {
		free(c);
		return -EIO;
	}
	if (tables_alloc(c, CAP_MIN) < 0 || ib_ledger_new(LEDGER_CAP, &c->ledger) < 0) {
		ib_d4_leases_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

static void free_keys(struct ib_d4_leases *c)
{
	for (size_t i = 0; i < c->cap && c->e; i++)
		if (c->e[i].state != IB_D4_FREE)
			entry_key_free(&c->e[i]);
}

void ib_d4_leases_free(struct ib_d4_leases *c)
{
	if (!c)
		return;
	free_keys(c);
	free(c->e);
	free(c->cs);
	free(c->cursor);
	ib_ledger_free(c->ledger);
	free(c);
}

void ib_d4_leases_clear(struct ib_d4_leases *c)
{
	free_keys(c);
	memset(c->e, 0, c->cap * sizeof(*c->e));
	memset(c->cs, 0, c->cap * sizeof(*c->cs));
	c->n = 0;
	ib_ledger_clear(c->ledger);
}

size_t ib_d4_leases_count(const struct ib_d4_leases *c)
{
	return c->n;
}

const uint8_t *ib_d4_client_id(const struct ib_dhcp4_msg *m, size_t *ret_len)
{
	const uint8_t *cid;
	size_t len;

	/* A client-id longer than a lease row holds (RFC 3396 joins pieces
	 * past 255 bytes) names no one: the row and the cache both fall back
	 * to chaddr, or the client's own renewal would meet "another". */
	if (!ib_dhcp4_opt(m, IB_OPT_CLIENT_ID, &cid, &len) || len == 0 ||
	    len > IB_STORE_CLIENT_ID_MAX)
		return NULL;
	if (len == 1u + m->hlen && cid[0] == m->htype &&
	    memcmp(cid + 1, m->chaddr, m->hlen) == 0)
		return NULL;
	*ret_len = len;
	return cid;
}

void ib_d4_key_from_msg(const struct ib_dhcp4_msg *m, struct ib_d4_key *ret)
{
	const uint8_t *cid;
	size_t len = 0;

	cid = ib_d4_client_id(m, &len);
	if (cid && len < IB_D4_KEY_MAX) {
		ret->b[0] = 'C';
		memcpy(ret->b + 1, cid, len);
		ret->len = (uint16_t)(len + 1);
		return;
	}
	ret->b[0] = 'H';
	ret->b[1] = m->htype;
	memcpy(ret->b + 2, m->chaddr, m->hlen);
	ret->len = (uint16_t)(2 + m->hlen);
}

void ib_d4_key_from_lease(const struct ib_lease4 *l, struct ib_d4_key *ret)
{
	if (l->client_id_len) {
		ret->b[0] = 'C';
		memcpy(ret->b + 1, l->client_id, l->client_id_len);
		ret->len = (uint16_t)(l->client_id_len + 1);
		return;
	}
	ret->b[0] = 'H';
	ret->b[1] = l->htype;
	memcpy(ret->b + 2, l->hwaddr, l->hw_len);
	ret->len = (uint16_t)(2 + l->hw_len);
}

static struct entry *find_addr(const struct ib_d4_leases *c, uint32_t a)
{
	for (size_t i = addr_slot(a, c->cap);; i = (i + 1) & (c->cap - 1)) {
		if (c->e[i].state == IB_D4_FREE)
			return NULL;
		if (c->e[i].addr == a)
			return &c->e[i];
	}
}

static struct cslot *find_client(const struct ib_d4_leases *c,
				 const struct ib_d4_key *k, uint64_t h)
{
	for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
		struct cslot *s = &c->cs[i];
		struct entry *e;

		if (!s->addr)
			return NULL;
		if (s->tag != (uint32_t)h)
			continue;
		e = find_addr(c, s->addr);
		if (e && entry_key_eq(e, k))
			return s;
	}
}

/* Whether slot j, whose home is home, moves back to the hole at i: unless
 * its home lies cyclically in (i, j]. */
static bool shifts_back(size_t i, size_t j, size_t home)
{
	return (j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j));
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void cslot_delete(struct ib_d4_leases *c, struct cslot *s)
{
	size_t i = (size_t)(s - c->cs), j = i;

	c->cs[i].addr = 0;
	for (;;) {
		j = (j + 1) & (c->cap - 1);
		if (!c->cs[j].addr)
			return;
		if (shifts_back(i, j, c->cs[j].tag & (c->cap - 1))) {
			c->cs[i] = c->cs[j];
			c->cs[j].addr = 0;
			i = j;
		}
	}
}

/* Empties e's slot (its key already freed or moved). */
static void entry_delete(struct ib_d4_leases *c, struct entry *e)
{
	size_t i = (size_t)(e - c->e), j = i;

	c->e[i].state = IB_D4_FREE;
	c->n--;
	for (;;) {
		j = (j + 1) & (c->cap - 1);
		if (c->e[j].state == IB_D4_FREE)
			return;
		if (shifts_back(i, j, addr_slot(c->e[j].addr, c->cap))) {
			c->e[i] = c->e[j];
			c->e[j].state = IB_D4_FREE;
			i = j;
		}
	}
}

void ib_d4_leases_remove(struct ib_d4_leases *c, uint32_t addr)
{
	struct entry *e = find_addr(c, addr);
	struct ib_d4_key k;
	struct cslot *s;
	uint8_t a16[16];

	if (!e)
		return;
	if (e->state == IB_D4_OFFERED) {
		ib_ledger_addr4(addr, a16);
		ib_ledger_remove(c->ledger, a16);
	}
	k.len = e->key_len;
	memcpy(k.b, entry_key(e), k.len);
	s = find_client(c, &k, hash_bytes(c, k.b, k.len));
	if (s && s->addr == addr)
		cslot_delete(c, s);
	entry_key_free(e);
	entry_delete(c, e);
}

/* Files src (taking its key) under its address, and tag under the client. */
static void insert_raw(struct ib_d4_leases *c, const struct entry *src, uint32_t tag)
{
	size_t i = addr_slot(src->addr, c->cap);
	size_t k = tag & (c->cap - 1);

	while (c->e[i].state != IB_D4_FREE)
		i = (i + 1) & (c->cap - 1);
	c->e[i] = *src;
	c->n++;
	while (c->cs[k].addr)
		k = (k + 1) & (c->cap - 1);
	c->cs[k] = (struct cslot){ tag, src->addr };
}

/*
 * Moves everything into tables of cap slots (a power of two, > c->n * 2).
 * The client index keeps its tags, so no key is hashed again; entries keep
 * their keys.  0 or -ENOMEM (then nothing changed).
 */
static int resize(struct ib_d4_leases *c, size_t cap)
{
	struct ib_d4_leases old = *c;

	c->e = NULL;
	c->cs = NULL;
	if (cap > CAP_MAX || tables_alloc(c, cap) < 0) {
		free(c->e);
		c->e = old.e;
		c->cs = old.cs;
		return -ENOMEM;
	}
	for (size_t i = 0; i < old.cap; i++) {
		const struct cslot *s = &old.cs[i];
		const struct entry *e;

		if (s->addr && (e = find_addr(&old, s->addr)))
			insert_raw(c, e, s->tag);
	}
	free(old.e);
	free(old.cs);
	return 0;
}

/* Room for n entries at a load of at most one half. */
static int reserve(struct ib_d4_leases *c, size_t n)
{
	size_t cap = c->cap;

	while (n * 2 > cap && cap <= CAP_MAX)
		cap *= 2;
	return cap == c->cap ? 0 : resize(c, cap);
}

int ib_d4_leases_set(struct ib_d4_leases *c, uint32_t addr, enum ib_d4_state st,
		     const struct ib_d4_key *key, int64_t expires)
{
	struct entry e = { .addr = addr, .state = (uint8_t)st, .expires = expires };
	struct cslot *s;
	uint64_t h;

	if (addr == 0 || st == IB_D4_FREE || key->len > IB_D4_KEY_MAX)
		return -EINVAL;
	h = hash_bytes(c, key->b, key->len);
	ib_d4_leases_remove(c, addr);
	/* One address per client: a new binding ends the client's old entry. */
	s = find_client(c, key, h);
	if (s)
		ib_d4_leases_remove(c, s->addr);
	if (reserve(c, c->n + 1) < 0 || entry_key_set(&e, key) < 0)
		return -ENOMEM;
	insert_raw(c, &e, (uint32_t)h);
	return 0;
}

int ib_d4_leases_offer(struct ib_d4_leases *c, uint32_t addr, const struct ib_d4_key *key,
		       uint32_t subnet, uint64_t source, int64_t now, int64_t until)
{
	struct ib_ledger_group g = { .source = source };
	uint8_t a16[16];
	int r = ib_d4_leases_set(c, addr, IB_D4_OFFERED, key, until);

	if (r < 0)
		return r;
	ib_ledger_addr4(subnet, g.subnet);
	ib_ledger_addr4(addr, a16);
	/* a full ledger leaves the hold uncounted: it still expires */
	ib_ledger_add(c->ledger, a16, &g, now, until);
	return 0;
}

void ib_d4_leases_forget_offer(struct ib_d4_leases *c, const struct ib_d4_key *key)
{
	struct cslot *s = find_client(c, key, hash_bytes(c, key->b, key->len));
	struct entry *e = s ? find_addr(c, s->addr) : NULL;

	if (e && e->state == IB_D4_OFFERED)
		ib_d4_leases_remove(c, e->addr);
}

int64_t ib_d4_leases_bound_until(const struct ib_d4_leases *c, uint32_t addr,
				 const struct ib_d4_key *key, int64_t now)
{
	const struct entry *e = find_addr(c, addr);

	if (!e || e->state != IB_D4_BOUND || e->expires <= now || !entry_key_eq(e, key))
		return 0;
	return e->expires;
}

void ib_d4_leases_scatter(struct ib_d4_leases *c)
{
	c->scatter = true;
	for (size_t i = 0; i < c->n_cursor; i++)
		c->cursor[i].pos = (uint32_t)ib_siphash(c->key, (const uint8_t *)&c->cursor[i].start,
							 sizeof(c->cursor[i].start));
}

int ib_d4_leases_follow(struct ib_d4_leases *c, uint32_t addr, const struct ib_lease4 *l,
			int64_t now)
{
	const struct entry *e = find_addr(c, addr);
	struct ib_d4_key k;

	if (l && l->expires > now &&
	    (l->state == IB_LEASE_ACTIVE || l->state == IB_LEASE_DECLINED)) {
		ib_d4_key_from_lease(l, &k);
		return ib_d4_leases_set(c, addr, l->state == IB_LEASE_ACTIVE ? IB_D4_BOUND :
					IB_D4_QUARANTINED, &k, l->expires);
	}
	/* an OFFER is this daemon's own and no row's: it stays */
	if (e && e->state != IB_D4_OFFERED)
		ib_d4_leases_remove(c, addr);
	return 0;
}

bool ib_d4_leases_bound(const struct ib_d4_leases *c, const struct ib_d4_key *key,
			int64_t now)
{
	struct cslot *s = find_client(c, key, hash_bytes(c, key->b, key->len));
	const struct entry *e = s ? find_addr(c, s->addr) : NULL;

	return e && e->state == IB_D4_BOUND && e->expires > now;
}

struct load_ctx {
	struct ib_d4_leases *c;
	const struct ib_config *cfg;	/* or NULL */
	int64_t now;
	struct ib_d4_load_refused refused;
	int err;
};

/* Why a stored row cannot be one of ours, or NULL. */
static const char *row_refused(const struct load_ctx *lc, const struct ib_lease4 *l)
{
	if (l->htype == 1 && l->hw_len != 6)
		return "an Ethernet hardware address that is not 6 bytes";
	if (lc->cfg && !ib_config_subnet_for(lc->cfg, l->address))
		return "an address in no configured subnet";
	return NULL;
}

static int load_one(const struct ib_lease4 *l, void *ctx)
{
	struct load_ctx *lc = ctx;
	struct ib_d4_key k;
	enum ib_d4_state st;
	const char *why;

	if (l->expires <= lc->now)
		return 0;
	if (l->state == IB_LEASE_ACTIVE)
		st = IB_D4_BOUND;
	else if (l->state == IB_LEASE_DECLINED)
		st = IB_D4_QUARANTINED;
	else
		return 0;
	if ((why = row_refused(lc, l))) {
		if (lc->refused.n++ == 0) {
			lc->refused.first = l->address;
			lc->refused.why = why;
		}
		return 0;
	}
	ib_d4_key_from_lease(l, &k);
	lc->err = ib_d4_leases_set(lc->c, l->address, st, &k, l->expires);
	return lc->err;
}

int ib_d4_leases_load(struct ib_d4_leases *c, struct ib_store *s, const struct ib_config *cfg,
		      int64_t now, struct ib_d4_load_refused *ret)
{
	struct load_ctx lc = { .c = c, .cfg = cfg, .now = now };
	struct ib_lease_count n;
	int r;

	ib_d4_leases_clear(c);
	/* Sized once for what the walk will keep: no growing on the way. */
	r = ib_store_lease4_count(s, 0, UINT32_MAX, now, &n);
	if (r == 0 && reserve(c, (size_t)(n.active + n.declined)) < 0)
		return -ENOMEM;
	r = ib_store_lease4_foreach(s, 0, UINT32_MAX, load_one, &lc);
	if (ret)
		*ret = lc.refused;
	return r < 0 ? r : lc.err;
}

/* The lease view. */

static int view_find_client(void *ctx, const struct ib_dhcp4_msg *m,
			    struct ib_lease4 *ret)
{
	struct ib_d4_leases *c = ctx;
	struct ib_d4_key k;
	struct cslot *s;
	struct entry *e;

	ib_d4_key_from_msg(m, &k);
	s = find_client(c, &k, hash_bytes(c, k.b, k.len));
	if (!s || !(e = find_addr(c, s->addr)))
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->address = e->addr;
	ret->expires = e->expires;
	ret->state = e->state == IB_D4_QUARANTINED ? IB_LEASE_DECLINED : IB_LEASE_ACTIVE;
	return 0;
}

static bool free_for(const struct ib_d4_leases *c, uint32_t a,
		     const struct ib_d4_key *k)
{
	const struct entry *e = find_addr(c, a);

	if (!e || e->expires <= *c->now)
		return true;
	return e->state != IB_D4_QUARANTINED && entry_key_eq(e, k);
}

static bool view_is_free(void *ctx, uint32_t a, const struct ib_dhcp4_msg *m)
{
	struct ib_d4_key k;

	ib_d4_key_from_msg(m, &k);
	return free_for(ctx, a, &k);
}

/* The next-fit position of the pool starting at start (created on demand). */
static uint32_t *pool_cursor(struct ib_d4_leases *c, uint32_t start)
{
	struct pool_pos *np;

	for (size_t i = 0; i < c->n_cursor; i++)
		if (c->cursor[i].start == start)
			return &c->cursor[i].pos;
	np = realloc(c->cursor, (c->n_cursor + 1) * sizeof(*c->cursor));
	if (!np)
		return NULL;
	c->cursor = np;
	/* the random key makes a random start: another daemon's differs */
	c->cursor[c->n_cursor] = (struct pool_pos){ start, c->scatter ?
		(uint32_t)ib_siphash(c->key, (const uint8_t *)&start, sizeof(start)) : 0 };
	return &c->cursor[c->n_cursor++].pos;
}

/* Next-fit over the subnet's pools, skipping network and broadcast. */
static int view_pick_free(void *ctx, const struct ib_subnet4 *sn,
			  const struct ib_dhcp4_msg *m, uint32_t *ret)
{
	struct ib_d4_leases *c = ctx;
	struct ib_d4_key k;

	ib_d4_key_from_msg(m, &k);
	for (size_t p = 0; p < sn->n_pools; p++) {
		const struct ib_pool4 *pool = &sn->pools[p];
		uint64_t size = (uint64_t)pool->end - pool->start + 1;
		uint32_t *cur = pool_cursor(c, pool->start);
		uint64_t from = cur ? *cur % size : 0;

		for (uint64_t i = 0; i < size; i++) {
			uint32_t a = (uint32_t)(pool->start + (from + i) % size);

			if (a == sn->network || a == sn->broadcast)
				continue;
			if (free_for(c, a, &k)) {
				if (cur)
					*cur = (uint32_t)((from + i + 1) % size);
				*ret = a;
				return 0;
			}
		}
	}
	return -ENOSPC;
}

static size_t view_holds(void *ctx, const struct ib_subnet4 *sn, uint64_t source)
{
	struct ib_d4_leases *c = ctx;
	struct ib_ledger_group g = { .source = source };

	ib_ledger_addr4(sn->network, g.subnet);
	return ib_ledger_count(c->ledger, &g, *c->now);
}

static int view_oldest_hold(void *ctx, const struct ib_subnet4 *sn, const uint64_t *source,
			    uint32_t *ret)
{
	struct ib_d4_leases *c = ctx;
	uint8_t net[16], a16[16];
	const struct entry *e;

	ib_ledger_addr4(sn->network, net);
	if (ib_ledger_oldest(c->ledger, net, source, *c->now, a16) < 0)
		return -ENOENT;
	/* the ledger follows the cache (ib_d4_leases_remove): say so if not */
	e = find_addr(c, ib_ledger_to4(a16));
	if (!e || e->state != IB_D4_OFFERED || e->expires <= *c->now) {
		ib_ledger_remove(c->ledger, a16);
		return -ENOENT;
	}
	*ret = e->addr;
	return 0;
}

static bool view_offered_to_other(void *ctx, uint32_t a, const struct ib_dhcp4_msg *m)
{
	struct ib_d4_leases *c = ctx;
	const struct entry *e = find_addr(c, a);
	struct ib_d4_key k;

	if (!e || e->state != IB_D4_OFFERED || e->expires <= *c->now)
		return false;
	ib_d4_key_from_msg(m, &k);
	return !entry_key_eq(e, &k);
}

void ib_d4_leases_view(struct ib_d4_leases *c, const int64_t *now,
		       struct ib_lease_view *ret)
{
	c->now = now;
	*ret = (struct ib_lease_view){
		.find_client = view_find_client, .is_free = view_is_free,
		.pick_free = view_pick_free, .holds = view_holds,
		.oldest_hold = view_oldest_hold, .offered_to_other = view_offered_to_other,
		.ctx = c,
	};
}
