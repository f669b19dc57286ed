/*
 * The DHCPv4 lease cache (dhcp4_leases.h) over the shared binding table
 * (src/dhcp/bind_table.h, narrow: 40-byte slots): a client's key is
 * 'C' + client-id or 'H' + htype + chaddr, one address per client.
 */
#include "dhcp4/dhcp4_leases.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"
#include "common/util.h"
#include "dhcp/bind_table.h"
#include "dhcp/pool_tally.h"
#include "dhcp/pool_usage.h"
#include "dhcp4/hold_ledger.h"

#define LEDGER_CAP 65536		/* OFFER holds filed at once */

/* A subnet whose stored rows the cache holds: [lo, hi]. */
struct span {
	uint32_t lo;			/* network address */
	uint32_t hi;			/* last address */
};

struct ib_d4_leases {
	struct ib_bind_table *t;	/* narrow: by address and by client */
	struct ib_pool_watch pools;	/* the config's pools: counts, bitmaps */
	struct span *spans;		/* subnets loaded from the store */
	size_t n_spans;
	bool stale;			/* the config changed: reconcile */
	bool stale_before;		/* stale before the reload in flight */
	struct ib_ledger *ledger;	/* the OFFER holds of pool addresses */
	const int64_t *now;		/* the shell's clock, for the view */
	bool scatter;			/* pool searches start at a random place */
	uint8_t key[IB_SIPHASH_KEY_LEN]; /* random: that place, this daemon's own */
	uint32_t share_rank, share_n;	/* load balancing: ib_d4_leases_share() */
};

/* An address as the table files it: 4 bytes, network order. */
static const uint8_t *a4(uint32_t a, uint8_t b[4])
{
	b[0] = (uint8_t)(a >> 24);
	b[1] = (uint8_t)(a >> 16);
	b[2] = (uint8_t)(a >> 8);
	b[3] = (uint8_t)a;
	return b;
}

static uint32_t a4_of(const uint8_t b[4])
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* addr's binding, if any, into *ret. */
static bool get4(const struct ib_d4_leases *c, uint32_t addr, struct ib_bind *ret)
{
	uint8_t b[4];

	return ib_bind_get(c->t, a4(addr, b), ret);
}

/* key's own binding, if any, into *ret. */
static bool of_key(const struct ib_d4_leases *c, const struct ib_d4_key *k, struct ib_bind *ret)
{
	return ib_bind_of(c->t, k->b, k->len, ret);
}

int ib_d4_leases_new(struct ib_d4_leases **ret)
{
	struct ib_d4_leases *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	if ((r = ib_bind_table_new(4, &c->t)) < 0 || (r = ib_ledger_new(LEDGER_CAP, &c->ledger)) < 0 ||
	    (r = ib_siphash_key_random(c->key)) < 0) {
		ib_d4_leases_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void ib_d4_leases_free(struct ib_d4_leases *c)
{
	if (!c)
		return;
	ib_bind_table_free(c->t);
	ib_pool_watch_done(&c->pools);
	free(c->spans);
	ib_ledger_free(c->ledger);
	free(c);
}

void ib_d4_leases_clear(struct ib_d4_leases *c)
{
	ib_bind_table_clear(c->t);
	ib_ledger_clear(c->ledger);
}

size_t ib_d4_leases_count(const struct ib_d4_leases *c)
{
	return ib_bind_table_count(c->t);
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

void ib_d4_leases_remove(struct ib_d4_leases *c, uint32_t addr)
{
	struct ib_bind e;
	uint8_t a16[16];

	if (!get4(c, addr, &e))
		return;
	if (e.state == IB_D4_OFFERED) {
		ib_ledger_addr4(addr, a16);
		ib_ledger_remove(c->ledger, a16);
	}
	ib_bind_remove(c->t, e.addr);
}

int ib_d4_leases_set(struct ib_d4_leases *c, uint32_t addr, enum ib_d4_state st,
		     const struct ib_d4_key *key, int64_t expires)
{
	struct ib_bind e = { .state = (uint8_t)st, .expires = expires, .key = key->b,
			     .key_len = key->len }, own;

	if (addr == 0 || st == IB_D4_FREE || key->len > IB_D4_KEY_MAX)
		return -EINVAL;
	a4(addr, e.addr);
	ib_d4_leases_remove(c, addr);
	/* One address per client: a new binding ends the client's old entry. */
	if (of_key(c, key, &own))
		ib_d4_leases_remove(c, a4_of(own.addr));
	return ib_bind_put(c->t, &e, true);
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
	struct ib_bind e;

	if (of_key(c, key, &e) && e.state == IB_D4_OFFERED)
		ib_d4_leases_remove(c, a4_of(e.addr));
}

int64_t ib_d4_leases_bound_until(const struct ib_d4_leases *c, uint32_t addr,
				 const struct ib_d4_key *key, int64_t now)
{
	struct ib_bind e;

	if (!get4(c, addr, &e) || e.state != IB_D4_BOUND || e.expires <= now ||
	    !ib_bind_held_by(&e, key->b, key->len))
		return 0;
	return e.expires;
}

/* Load balancing's share of the addresses: see dhcp4_leases.h. */
void ib_d4_leases_share(struct ib_d4_leases *c, uint32_t rank, uint32_t n)
{
	c->share_rank = rank;
	c->share_n = n;
}

void ib_d4_leases_scatter(struct ib_d4_leases *c)
{
	c->scatter = true;
	if (c->pools.cur)
		ib_pool_tally_scatter(c->pools.cur, c->key);
}

int ib_d4_leases_follow(struct ib_d4_leases *c, uint32_t addr, const struct ib_lease4 *l,
			int64_t now)
{
	struct ib_bind e;
	bool had = get4(c, addr, &e);
	struct ib_d4_key k;

	if (l && l->expires > now &&
	    (l->state == IB_LEASE_ACTIVE || l->state == IB_LEASE_DECLINED)) {
		ib_d4_key_from_lease(l, &k);
		return ib_d4_leases_set(c, addr, l->state == IB_LEASE_ACTIVE ? IB_D4_BOUND :
					IB_D4_QUARANTINED, &k, l->expires);
	}
	/* an OFFER is this daemon's own and no row's: it stays */
	if (had && e.state != IB_D4_OFFERED)
		ib_d4_leases_remove(c, addr);
	return 0;
}

bool ib_d4_leases_bound(const struct ib_d4_leases *c, const struct ib_d4_key *key,
			int64_t now)
{
	struct ib_bind e;

	return of_key(c, key, &e) && e.state == IB_D4_BOUND && e.expires > now;
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

static int set_spans(struct ib_d4_leases *c, const struct ib_config *cfg);

int ib_d4_leases_load(struct ib_d4_leases *c, struct ib_store *s, const struct ib_config *cfg,
		      int64_t now, struct ib_d4_load_refused *ret)
{
	struct load_ctx lc = { .c = c, .cfg = cfg, .now = now };
	struct ib_lease_count n;
	int r;

	ib_d4_leases_clear(c);
	/* Sized once for what the walk will keep: no growing on the way. */
	r = ib_store_lease4_count(s, 0, UINT32_MAX, now, &n);
	if (r == 0 && ib_bind_table_reserve(c->t, (size_t)(n.active + n.declined)) < 0)
		return -ENOMEM;
	r = ib_store_lease4_foreach(s, 0, UINT32_MAX, load_one, &lc);
	if (ret)
		*ret = lc.refused;
	if (r == 0 && lc.err == 0 && cfg && (r = ib_d4_leases_configure(c, cfg)) == 0)
		r = set_spans(c, cfg);
	return r < 0 ? r : lc.err;
}

/* The subnets of cfg, as the cache's loaded spans; 0 or -ENOMEM. */
static int set_spans(struct ib_d4_leases *c, const struct ib_config *cfg)
{
	const struct ib_dhcp4_config *d = &cfg->dhcp4;
	struct span *sp = calloc(d->n_subnets ? d->n_subnets : 1, sizeof(*sp));

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_subnets; i++)
		sp[i] = (struct span){ d->subnets[i].network,
				       d->subnets[i].network | ~d->subnets[i].mask };
	free(c->spans);
	c->spans = sp;
	c->n_spans = d->n_subnets;
	return 0;
}

int ib_d4_leases_configure(struct ib_d4_leases *c, const struct ib_config *cfg)
{
	struct ib_pool_range *r;
	size_t n;
	int err;

	/* a cache filled by hand, never loaded, holds what its first config's
	 * subnets have: none of theirs is new to it */
	if (!c->spans && set_spans(c, cfg) < 0)
		return -ENOMEM;
	if ((err = ib_pool_ranges(cfg, 4, &r, &n)) < 0)
		return err;
	err = ib_pool_watch_set(&c->pools, c->t, 4, r, n);
	free(r);
	if (err == 0 && c->scatter)
		ib_pool_tally_scatter(c->pools.cur, c->key);
	if (err == 0) {
		c->stale_before = c->stale;
		c->stale = c->pools.prev != NULL;
	}
	return err;
}

void ib_d4_leases_rollback(struct ib_d4_leases *c)
{
	if (!c->pools.prev)
		return;
	ib_pool_watch_rollback(&c->pools, c->t);
	/* A reconcile an accepted reload still owes is owed after a refused
	 * one too; and the restored tallies start where this daemon's own
	 * scatter puts them, not where every daemon's would. */
	c->stale = c->stale_before;
	if (c->scatter)
		ib_pool_tally_scatter(c->pools.cur, c->key);
}

static bool in_spans(const struct span *sp, size_t n, uint32_t lo, uint32_t hi)
{
	for (size_t i = 0; i < n; i++)
		if (sp[i].lo <= lo && hi <= sp[i].hi)
			return true;
	return false;
}

struct outside_ctx {
	const struct ib_config *cfg;
	struct ib_ledger *ledger;
};

/* An entry of no configured subnet; an OFFER's hold leaves the ledger
 * with it, as in ib_d4_leases_remove(). */
static bool outside(void *ctx, const struct ib_bind *b)
{
	struct outside_ctx *o = ctx;
	uint8_t a16[16];

	if (ib_config_subnet_for(o->cfg, a4_of(b->addr)))
		return false;
	if (b->state == IB_D4_OFFERED) {
		ib_ledger_addr4(a4_of(b->addr), a16);
		ib_ledger_remove(o->ledger, a16);
	}
	return true;
}

int ib_d4_leases_reconcile(struct ib_d4_leases *c, struct ib_store *s,
			   const struct ib_config *cfg, int64_t now, size_t *ret_dropped)
{
	const struct ib_dhcp4_config *d = &cfg->dhcp4;
	struct load_ctx lc = { .c = c, .cfg = cfg, .now = now };
	struct outside_ctx o = { cfg, c->ledger };
	int r = 0;

	if (!c->stale)
		return 0;
	*ret_dropped = ib_bind_drop_if(c->t, outside, &o);
	for (size_t i = 0; i < d->n_subnets && r == 0; i++) {
		uint32_t lo = d->subnets[i].network, hi = lo | ~d->subnets[i].mask;

		if (!in_spans(c->spans, c->n_spans, lo, hi))
			r = ib_store_lease4_foreach(s, lo, hi, load_one, &lc);
	}
	if (r == 0 && lc.err == 0 && (r = set_spans(c, cfg)) == 0)
		c->stale = false;
	return r < 0 ? r : lc.err;
}

bool ib_d4_leases_pool_counts(const struct ib_d4_leases *c, size_t i, struct ib_lease_count *ret)
{
	const struct ib_pool_tally *t = c->pools.cur;

	if (!t || i >= ib_pool_tally_pools(t))
		return false;
	memset(ret, 0, sizeof(*ret));
	ret->active = ib_pool_tally_count(t, i, IB_D4_BOUND);
	ret->declined = ib_pool_tally_count(t, i, IB_D4_QUARANTINED);
	return true;
}

/* The lease view. */

static int view_find_client(void *ctx, const struct ib_dhcp4_msg *m,
			    struct ib_lease4 *ret)
{
	struct ib_d4_leases *c = ctx;
	struct ib_d4_key k;
	struct ib_bind e;

	ib_d4_key_from_msg(m, &k);
	if (!of_key(c, &k, &e))
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	ret->address = a4_of(e.addr);
	ret->expires = e.expires;
	ret->state = e.state == IB_D4_QUARANTINED ? IB_LEASE_DECLINED : IB_LEASE_ACTIVE;
	return 0;
}

static bool free_for(const struct ib_d4_leases *c, uint32_t a,
		     const struct ib_d4_key *k)
{
	struct ib_bind e;

	if (!get4(c, a, &e) || e.expires <= *c->now)
		return true;
	return e.state != IB_D4_QUARANTINED && ib_bind_held_by(&e, k->b, k->len);
}

static bool view_is_free(void *ctx, uint32_t a, const struct ib_dhcp4_msg *m)
{
	struct ib_d4_key k;

	ib_d4_key_from_msg(m, &k);
	return free_for(ctx, a, &k);
}

/* What one search of a subnet's pool needs. */
struct pick {
	struct ib_d4_leases *c;		/* the cache */
	const struct ib_subnet4 *sn;	/* the subnet */
	const struct ib_pool4 *pool;	/* the pool */
	const struct ib_d4_key *k;	/* the asking client */
	bool own_share;			/* only this daemon's share of the addresses */
};

static bool not_leasable(void *ctx, uint64_t off)
{
	const struct pick *pk = ctx;
	uint32_t a = (uint32_t)(pk->pool->start + off);

	if (pk->own_share && a % pk->c->share_n != pk->c->share_rank)
		return true;
	return a == pk->sn->network || a == pk->sn->broadcast;
}

/*
 * One pass over the whole pool from *from, for the first address free for
 * the client (past its expiry, or its own); on the way, OFFER holds past
 * their time leave the cache, so their bits clear.  0 or -ENOSPC.
 */
static int sweep(const struct pick *pk, uint64_t *from, uint32_t *ret)
{
	uint64_t size = (uint64_t)pk->pool->end - pk->pool->start + 1, f = *from % size;
	struct ib_bind e;
	bool found = false;

	for (uint64_t i = 0; i < size; i++) {
		uint32_t a = (uint32_t)(pk->pool->start + (f + i) % size);

		if (not_leasable((void *)pk, (f + i) % size))
			continue;
		if (get4(pk->c, a, &e) && e.state == IB_D4_OFFERED && e.expires <= *pk->c->now)
			ib_d4_leases_remove(pk->c, a);
		if (!found && free_for(pk->c, a, pk->k)) {
			*from = (f + i + 1) % size;
			*ret = a;
			found = true;
		}
	}
	return found ? 0 : -ENOSPC;
}

/*
 * A free address of one pool: the tally's bitmap names one no binding
 * holds (a few word reads); when every bit is set (holds and bindings
 * past their time wait for the reclaim), a sweep at most once a second
 * finds one.  A pool without a bitmap is swept every time.
 */
static int pick_in_pool(const struct pick *pk, uint32_t *ret)
{
	struct ib_pool_tally *t = pk->c->pools.cur;
	uint8_t b[4];
	long ti = t ? ib_pool_tally_find(t, a4(pk->pool->start, b)) : -1;
	struct ib_pool_search none = { 0 }, *ps = ti >= 0 ? ib_pool_tally_search(t, (size_t)ti) : &none;
	uint64_t off;
	int r = ti >= 0 ? ib_pool_tally_next_free(t, (size_t)ti, not_leasable, (void *)pk, &off) :
		-ENOTSUP;

	if (ti < 0 && pk->c->scatter)	/* no tally: a random place, this daemon's own */
		none.from = ib_siphash(pk->c->key, b, 4);

	if (r == 0) {
		*ret = (uint32_t)(pk->pool->start + off);
		return 0;
	}
	if (r == -ENOSPC) {
		/* the sweep (once a second) is the pass over every address's */
		if (pk->own_share || ps->swept == *pk->c->now)
			return -ENOSPC;
		ps->swept = *pk->c->now;
	}
	return sweep(pk, &ps->from, ret);
}

static int view_pick_free(void *ctx, const struct ib_subnet4 *sn,
			  const struct ib_dhcp4_msg *m, uint32_t *ret)
{
	struct ib_d4_key k;
	struct pick pk = { .c = ctx, .sn = sn, .k = &k };

	ib_d4_key_from_msg(m, &k);
	/* daemons sharing the clients offer from shares of the addresses
	 * (address modulo their number) while theirs last: two of them never
	 * offer one address to two clients, one of whom the store's
	 * arbitration would NAK */
	for (pk.own_share = pk.c->share_n > 1;; pk.own_share = false) {
		for (size_t p = 0; p < sn->n_pools; p++) {
			pk.pool = &sn->pools[p];
			if (pick_in_pool(&pk, ret) == 0)
				return 0;
		}
		if (!pk.own_share)
			return -ENOSPC;
	}
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
	struct ib_bind e;

	ib_ledger_addr4(sn->network, net);
	if (ib_ledger_oldest(c->ledger, net, source, *c->now, a16) < 0)
		return -ENOENT;
	/* the ledger follows the cache (ib_d4_leases_remove): say so if not */
	if (!get4(c, ib_ledger_to4(a16), &e) || e.state != IB_D4_OFFERED ||
	    e.expires <= *c->now) {
		ib_ledger_remove(c->ledger, a16);
		return -ENOENT;
	}
	*ret = a4_of(e.addr);
	return 0;
}

static bool view_offered_to_other(void *ctx, uint32_t a, const struct ib_dhcp4_msg *m)
{
	struct ib_d4_leases *c = ctx;
	struct ib_d4_key k;
	struct ib_bind e;

	if (!get4(c, a, &e) || e.state != IB_D4_OFFERED || e.expires <= *c->now)
		return false;
	ib_d4_key_from_msg(m, &k);
	return !ib_bind_held_by(&e, k.b, k.len);
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
