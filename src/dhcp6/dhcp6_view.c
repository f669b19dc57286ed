/*
 * The DHCPv6 binding view (dhcp6_view.h): ADVERTISE holds over the
 * binding cache (dhcp6_leases.c), and the pool search's cursors.
 */
#include "dhcp6/dhcp6_view.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dhcp6/dhcp6_pool.h"

#define PICK_TRIES 4096			/* pool addresses tried per allocation */
#define REPLACE_EVERY 1			/* seconds between two cursor placements of a subnet */


struct ib_d6_view {
	const struct ib_config *cfg;	/* current snapshot, not owned */
	struct ib_store *store;		/* not owned */
	struct ib_d6_holds *holds;	/* not owned */
	const int64_t *now;		/* the shell's clock */
	struct ib_d6_cursor *subnets;		/* one per subnet of cfg */
	const struct ib_config *prev_cfg;	/* the snapshot before, for a rollback, or NULL */
	struct ib_d6_cursor *prev_subnets;	/* its cursors, kept as they were */
	struct ib_d6_leases *leases;	/* the binding cache, not owned */
	uint32_t share_rank, share_n;	/* load balancing: ib_d6_view_share() */
};

static int view_find(void *ctx, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		     struct ib_lease6 *ret)
{
	struct ib_d6_view *s = ctx;
	uint8_t addr[16];
	int64_t until;

	if (ib_d6_holds_find(s->holds, duid, iaid, *s->now, addr, &until) == 0) {
		memset(ret, 0, sizeof(*ret));
		memcpy(ret->address, addr, 16);
		ret->state = IB_LEASE_ACTIVE;
		ret->expires = until;
		return 0;
	}
	return ib_d6_leases_find(s->leases, duid, iaid, ret);
}

/* Whether the bindings leave addr to duid+iaid (no binding of another). */
static bool store_usable(struct ib_d6_view *s, const uint8_t addr[16],
			 const struct ib_dhcp6_blob *duid, uint32_t iaid)
{
	return ib_d6_leases_usable(s->leases, addr, duid, iaid, *s->now);
}

static bool view_is_free(void *ctx, const uint8_t addr[16], const struct ib_dhcp6_blob *duid,
			 uint32_t iaid)
{
	struct ib_d6_view *s = ctx;

	switch (ib_d6_holds_holder(s->holds, addr, duid, iaid, *s->now)) {
	case IB_D6_HELD_OTHER:
		return false;
	case IB_D6_HELD_MINE:
		/* checked against the store when advertised; the commit is
		 * conditional and checks again (ib_store_lease6_commit) */
		return true;
	case IB_D6_HELD_NONE:
		break;
	}
	return store_usable(s, addr, duid, iaid);
}

static bool view_unbound(void *ctx, const uint8_t addr[16], const struct ib_dhcp6_blob *duid,
			 uint32_t iaid)
{
	return store_usable(ctx, addr, duid, iaid);
}

/* The cursor of subnet sn of the current snapshot. */
static struct ib_d6_cursor *state_of(struct ib_d6_view *s, const struct ib_subnet6 *sn)
{
	return &s->subnets[sn - s->cfg->dhcp6.subnets];
}

/* The ledger group of sn and source: see dhcp6_view.h. */
void ib_d6_group_of(const struct ib_subnet6 *sn, uint64_t source, struct ib_ledger_group *g)
{
	memcpy(g->subnet, sn->prefix, 16);
	g->source = source;
}

static size_t view_holds(void *ctx, const struct ib_subnet6 *sn, uint64_t source)
{
	struct ib_d6_view *s = ctx;
	struct ib_ledger_group g;

	ib_d6_group_of(sn, source, &g);
	return ib_d6_holds_in(s->holds, &g, *s->now);
}

static int view_oldest_hold(void *ctx, const struct ib_subnet6 *sn, const uint64_t *source,
			    uint8_t ret[16])
{
	struct ib_d6_view *s = ctx;

	return ib_d6_holds_oldest(s->holds, sn->prefix, source, *s->now, ret);
}

/* The rows of the store, walked for the first gap of some subnets. */
struct gap_walk {
	struct ib_d6_view *s;
	struct ib_d6_gap *gaps;		/* one per subnet of the snapshot */
	const struct ib_subnet6 *only;	/* the one subnet placed, or NULL: all */
	size_t hint;			/* subnet of the previous row */
};

static int gap_row(const struct ib_lease6 *l, void *arg)
{
	static const struct ib_dhcp6_blob nobody = { NULL, 0 };
	struct gap_walk *gw = arg;
	const struct ib_dhcp6_config *c = &gw->s->cfg->dhcp6;
	bool taken = !ib_dhcp6_lease_usable(l, &nobody, 0, *gw->s->now);

	/* rows come in address order: mostly the previous row's subnet */
	for (size_t k = 0; k < c->n_subnets; k++) {
		size_t i = (gw->hint + k) % c->n_subnets;
		const struct ib_subnet6 *sn = &c->subnets[i];

		if ((gw->only && sn != gw->only) || l->prefix_len != sn->prefix_len ||
		    memcmp(l->subnet, sn->prefix, 16) != 0)
			continue;
		ib_d6_gap_feed(&gw->gaps[i], l->address, taken);
		gw->hint = i;
		break;
	}
	return 0;
}

/*
 * Puts the allocation cursor of sn (NULL: of every subnet) at the first
 * address of its pools no binding of the store takes (issue #11: after a
 * restart, a cursor at 0 walked into more contiguous bindings than a
 * search tries).  One walk of the store's rows.
 */
static void place_cursors(struct ib_d6_view *s, const struct ib_subnet6 *only)
{
	const struct ib_dhcp6_config *c = &s->cfg->dhcp6;
	struct gap_walk gw = { .s = s, .only = only };
	uint64_t off;
	int r;

	if (c->n_subnets == 0 || !(gw.gaps = calloc(c->n_subnets, sizeof(*gw.gaps))))
		return;
	for (size_t i = 0; i < c->n_subnets; i++)
		ib_d6_gap_init(&gw.gaps[i], &c->subnets[i]);
	r = ib_store_lease6_foreach(s->store, gap_row, &gw);
	for (size_t i = 0; r == 0 && i < c->n_subnets; i++) {
		if (only && &c->subnets[i] != only)
			continue;
		if (ib_d6_gap_result(&gw.gaps[i], &off) == 0)
			s->subnets[i].offset = off;
		s->subnets[i].placed_at = *s->now;
	}
	if (r < 0)
		ib_warn("dhcp6: cannot read the bindings to place the address search: %s",
			strerror(-r));
	free(gw.gaps);
}

/* What the allocation search asks of each candidate. */
struct pick {
	struct ib_d6_view *s;
	const struct ib_dhcp6_blob *duid;
	uint32_t iaid;
	bool own_share;			/* only this daemon's share of the addresses */
};

static bool pick_usable(void *ctx, const uint8_t a[16])
{
	const struct pick *pk = ctx;
	uint32_t low = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];

	if (pk->own_share && low % pk->s->share_n != pk->s->share_rank)
		return false;
	return view_is_free(pk->s, a, pk->duid, pk->iaid);
}

/* The pick's placement of sn's cursor: one walk of the store's rows. */
static void place_one(void *ctx, const struct ib_subnet6 *sn, struct ib_d6_cursor *c)
{
	const struct pick *pk = ctx;

	place_cursors(pk->s, sn);
}

/* A free address of sn's pools for the IA: the pure pick (dhcp6_pool.c). */
static int view_pick_free(void *ctx, const struct ib_subnet6 *sn,
			  const struct ib_dhcp6_blob *duid, uint32_t iaid, uint8_t ret[16])
{
	struct ib_d6_view *s = ctx;
	struct pick pk = { s, duid, iaid, s->share_n > 1 };
	const struct ib_d6_pick how = {
		.max_tries = PICK_TRIES, .now = *s->now, .every = REPLACE_EVERY,
		.usable = pick_usable, .place = place_one, .ctx = &pk,
	};

	/* daemons sharing the clients pick from shares of the addresses (the
	 * low 32 bits modulo their number) first, as DHCPv4 does */
	if (pk.own_share && ib_d6_pool_pick(sn, state_of(s, sn), &how, ret) == 0)
		return 0;
	pk.own_share = false;
	return ib_d6_pool_pick(sn, state_of(s, sn), &how, ret);
}

/* Load balancing's share of the addresses: see dhcp6_view.h. */
void ib_d6_view_share(struct ib_d6_view *v, uint32_t rank, uint32_t n)
{
	v->share_rank = rank;
	v->share_n = n;
}

/* Makes a view: see dhcp6_view.h. */
int ib_d6_view_new(const struct ib_d6_view_args *a, const struct ib_config *cfg,
		   struct ib_d6_view **ret)
{
	struct ib_d6_view *v = calloc(1, sizeof(*v));
	int r;

	if (!v)
		return -ENOMEM;
	*v = (struct ib_d6_view){ .store = a->store, .holds = a->holds, .leases = a->leases,
				  .now = a->now };
	r = ib_d6_view_configure(v, cfg);
	if (r == 0)
		*ret = v;
	else
		free(v);
	return r;
}

void ib_d6_view_free(struct ib_d6_view *v)
{
	if (!v)
		return;
	free(v->subnets);
	free(v->prev_subnets);
	free(v);
}

/* Serves a new snapshot: see dhcp6_view.h. */
int ib_d6_view_configure(struct ib_d6_view *v, const struct ib_config *cfg)
{
	struct ib_d6_cursor *c = calloc(cfg->dhcp6.n_subnets ? cfg->dhcp6.n_subnets : 1, sizeof(*c));

	if (!c || ib_d6_leases_configure(v->leases, cfg) < 0) {
		free(c);
		return -ENOMEM;
	}
	free(v->prev_subnets);
	v->prev_subnets = v->subnets;
	v->prev_cfg = v->cfg;
	v->subnets = c;
	v->cfg = cfg;
	place_cursors(v, NULL);
	return 0;
}

/* Back to the snapshot before: see dhcp6_view.h. */
void ib_d6_view_rollback(struct ib_d6_view *v)
{
	struct ib_d6_cursor *c = v->subnets;

	if (!v->prev_cfg)
		return;
	ib_d6_leases_rollback(v->leases);
	v->subnets = v->prev_subnets;
	v->prev_subnets = c;
	v->cfg = v->prev_cfg;
	v->prev_cfg = NULL;
}

/* The policy's views: see dhcp6_view.h. */
void ib_d6_view_get(struct ib_d6_view *v, struct ib_lease6_view *ret_leases,
		    struct ib_hold6_view *ret_holds)
{
	*ret_leases = (struct ib_lease6_view){ view_find, view_is_free, view_pick_free, v };
	*ret_holds = (struct ib_hold6_view){ view_holds, view_oldest_hold, view_unbound, v };
}
