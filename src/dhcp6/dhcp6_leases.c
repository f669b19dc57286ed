/*
 * The DHCPv6 binding cache (dhcp6_leases.h) over the shared binding table:
 * a client's key is its DUID followed by the IAID (big-endian).
 */
#include "dhcp6/dhcp6_leases.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "dhcp/bind_table.h"
#include "dhcp/pool_tally.h"
#include "dhcp/pool_usage.h"
#include "dhcp6/dhcp6_policy.h"

struct ib_d6_leases {
	struct ib_bind_table *t;	/* every row, by address and by DUID + IAID */
	struct ib_pool_watch pools;	/* the config's pools: counts by state */
};

_Static_assert(IB_DUID_MAX + 4 <= IB_BIND_KEY_MAX, "a DUID + IAID key fits");

int ib_d6_leases_new(struct ib_d6_leases **ret)
{
	struct ib_d6_leases *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	if ((r = ib_bind_table_new(16, &c->t)) < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void ib_d6_leases_free(struct ib_d6_leases *c)
{
	if (!c)
		return;
	ib_bind_table_free(c->t);
	ib_pool_watch_done(&c->pools);
	free(c);
}

size_t ib_d6_leases_count(const struct ib_d6_leases *c)
{
	return ib_bind_table_count(c->t);
}

bool ib_d6_key(const uint8_t *duid, size_t duid_len, uint32_t iaid, struct ib_bind_key *k)
{
	if (duid_len > IB_DUID_MAX)
		return false;
	memcpy(k->b, duid, duid_len);
	k->b[duid_len] = (uint8_t)(iaid >> 24);
	k->b[duid_len + 1] = (uint8_t)(iaid >> 16);
	k->b[duid_len + 2] = (uint8_t)(iaid >> 8);
	k->b[duid_len + 3] = (uint8_t)iaid;
	k->len = (uint16_t)(duid_len + 4);
	return true;
}

/* The table's entry of row l (a stored row: its DUID fits), its key in k. */
static void entry_of(const struct ib_lease6 *l, struct ib_bind_key *k, struct ib_bind *e)
{
	memcpy(e->addr, l->address, 16);
	e->state = (uint8_t)l->state;
	e->expires = l->expires;
	e->since = l->cltt;
	if (!ib_d6_key(l->duid, l->duid_len, l->iaid, k))
		k->len = 0;	/* never: a stored DUID fits */
	e->key = k->b;
	e->key_len = k->len;
}

/* Whether b is newer than a, in the store's find_client order (cltt, then
 * address, descending). */
static bool newer(const struct ib_bind *b, const struct ib_bind *a)
{
	if (b->since != a->since)
		return b->since > a->since;
	return memcmp(b->addr, a->addr, 16) >= 0;
}

int ib_d6_leases_file(struct ib_d6_leases *c, const struct ib_lease6 *l)
{
	struct ib_bind_key k;
	struct ib_bind e, own;

	if (l->state < IB_LEASE_ACTIVE || l->state > IB_LEASE_DECLINED)
		return 0;	/* no state of ours: nobody's */
	entry_of(l, &k, &e);
	if (!ib_bind_of(c->t, k.b, k.len, &own))
		return ib_bind_put(c->t, &e, true);
	return ib_bind_put(c->t, &e, newer(&e, &own));
}

int ib_d6_leases_bound(struct ib_d6_leases *c, const struct ib_lease6 *l)
{
	struct ib_bind_key k;
	struct ib_bind e, own;

	entry_of(l, &k, &e);
	/* the store's ST6_END_OTHERS: one ACTIVE address per IA and subnet */
	if (ib_bind_of(c->t, k.b, k.len, &own) && memcmp(own.addr, e.addr, 16) != 0 &&
	    own.state == IB_LEASE_ACTIVE && ib_addr_in_prefix(own.addr, l->subnet, l->prefix_len))
		ib_bind_set_state(c->t, own.addr, IB_LEASE_RELEASED, own.expires);
	return ib_bind_put(c->t, &e, true);
}

void ib_d6_leases_forget(struct ib_d6_leases *c, const uint8_t addr[16])
{
	ib_bind_remove(c->t, addr);
}

void ib_d6_leases_set_state(struct ib_d6_leases *c, const uint8_t addr[16],
			    enum ib_lease_state st, int64_t expires)
{
	ib_bind_set_state(c->t, addr, (uint8_t)st, expires);
}

static int load_one(const struct ib_lease6 *l, void *ctx)
{
	return ib_d6_leases_file(ctx, l);
}

int ib_d6_leases_load(struct ib_d6_leases *c, struct ib_store *s)
{
	int r;

	ib_bind_table_clear(c->t);
	r = ib_store_lease6_foreach(s, load_one, c);
	if (r < 0)
		ib_bind_table_clear(c->t);
	return r;
}

int ib_d6_leases_find(const struct ib_d6_leases *c, const struct ib_dhcp6_blob *duid,
		      uint32_t iaid, struct ib_lease6 *ret)
{
	struct ib_bind_key k;
	struct ib_bind e;

	if (!ib_d6_key(duid->p, duid->len, iaid, &k) || !ib_bind_of(c->t, k.b, k.len, &e))
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->address, e.addr, 16);
	ret->state = (enum ib_lease_state)e.state;
	ret->expires = e.expires;
	ret->cltt = e.since;
	memcpy(ret->duid, duid->p, duid->len);
	ret->duid_len = (uint8_t)duid->len;
	ret->iaid = iaid;
	return 0;
}

bool ib_d6_leases_usable(const struct ib_d6_leases *c, const uint8_t addr[16],
			 const struct ib_dhcp6_blob *duid, uint32_t iaid, int64_t now)
{
	struct ib_bind_key k;
	struct ib_bind e;

	if (!ib_bind_get(c->t, addr, &e) || e.state == IB_LEASE_RELEASED ||
	    e.state == IB_LEASE_EXPIRED || e.expires <= now)
		return true;
	return e.state == IB_LEASE_ACTIVE && ib_d6_key(duid->p, duid->len, iaid, &k) &&
	       ib_bind_held_by(&e, k.b, k.len);
}

int ib_d6_leases_configure(struct ib_d6_leases *c, const struct ib_config *cfg)
{
	struct ib_pool_range *r;
	size_t n;
	int err;

	if ((err = ib_pool_ranges(cfg, 6, &r, &n)) < 0)
		return err;
	err = ib_pool_watch_set(&c->pools, c->t, 16, r, n);
	free(r);
	return err;
}

void ib_d6_leases_rollback(struct ib_d6_leases *c)
{
	ib_pool_watch_rollback(&c->pools, c->t);
}

bool ib_d6_leases_pool_counts(const struct ib_d6_leases *c, size_t i, struct ib_lease_count *ret)
{
	const struct ib_pool_tally *t = c->pools.cur;

	if (!t || i >= ib_pool_tally_pools(t))
		return false;
	ret->active = ib_pool_tally_count(t, i, IB_LEASE_ACTIVE);
	ret->declined = ib_pool_tally_count(t, i, IB_LEASE_DECLINED);
	return true;
}

int ib_d6_release_txn(void *ctx, struct ib_store *st)
{
	struct ib_d6_release *o = ctx;
	int r = ib_store_lease6_get(st, o->l.address, &o->l);

	if (r == 0 && (o->l.state != IB_LEASE_ACTIVE || o->l.expires <= o->now))
		r = -ENOENT;
	if (r == 0)
		r = ib_store_lease6_set_state(st, o->l.address, IB_LEASE_RELEASED, o->now);
	if (r == 0)
		o->l.state = IB_LEASE_RELEASED;
	return r;
}
