/*
 * What others ask of a running DHCPv4 server (dhcp4_server.h): an
 * operator's release, a lease another daemon wrote, a resync, the
 * leadership, the counters and the pools' counts.  Each goes through the
 * engine's transaction or reads the cache; see dhcp4_server_int.h.
 */
#include <errno.h>

#include "common/util.h"
#include "dhcp4/dhcp4_server_int.h"
#include "dhcp4/dhcp4_server_journal.h"

/* An operator's release, in the store: the active lease of o->l.address. */
struct op_release {
	struct ib_lease4 l;		/* address in; the row out */
	int64_t now;			/* unix seconds */
};

static int release_txn(void *ctx, struct ib_store *st)
{
	struct op_release *o = ctx;
	int r = ib_store_lease4_get(st, o->l.address, &o->l);

	if (r == 0 && (o->l.state != IB_LEASE_ACTIVE || o->l.expires <= o->now))
		r = -ENOENT;
	return r ? r : ib_store_lease4_set_state(st, o->l.address, IB_LEASE_RELEASED, o->now);
}

int ib_dhcp4_server_release(struct ib_dhcp4_server *s, uint32_t addr,
			    struct ib_lease4 *ret)
{
	struct op_release o = { .l.address = addr, .now = ib_now_sec() };
	struct ib_lease4 l;
	struct ib_d4_who who;
	int r;

	if ((r = ib_dhcp_engine_operate(s->eng, release_txn, &o)) < 0)
		return r;
	l = o.l;
	ib_d4_leases_remove(s->leases, addr);	/* the cache follows the store */
	ib_d4_who_from_lease(&l, &who);
	ib_d4_journal_lease(s->journal, &who, "lease-release-operator", &l);
	l.state = IB_LEASE_RELEASED;
	if (ret)
		*ret = l;
	return 0;
}

bool ib_dhcp4_server_pool_counts(const struct ib_dhcp4_server *s, const struct ib_config *cfg,
				  size_t i, struct ib_lease_count *ret)
{
	return s->cfg == cfg && ib_d4_leases_pool_counts(s->leases, i, ret);
}

const struct ib_dhcp4_stats *ib_dhcp4_server_stats(const struct ib_dhcp4_server *s)
{
	return &s->stats;
}

int ib_dhcp4_server_follow(struct ib_dhcp4_server *s, uint32_t addr)
{
	struct ib_lease4 l;
	int r = ib_store_lease4_get(s->store, addr, &l);

	/* Unread (the store is down): the entry stays as it is, a binding
	 * renew_while_down() may still renew; the caller resyncs. */
	if (r != 0 && r != -ENOENT)
		return r;
	/* A clock of its own, never s->now: a follow runs inside a group
	 * commit (committed(), a refused ACK) and between a batch's decisions
	 * and its commit (peers.c), and the batch keeps the clock it decided
	 * with. */
	return ib_d4_leases_follow(s->leases, addr, r == 0 ? &l : NULL, ib_now_sec());
}

int ib_dhcp4_server_resync(struct ib_dhcp4_server *s)
{
	ib_dhcp_engine_flush(s->eng);	/* decisions already made commit first */
	s->now = ib_now_sec();
	ib_d4_leases_clear(s->leases);
	return ib_d4_leases_load(s->leases, s->store, s->cfg, s->now, NULL);
}

void ib_dhcp4_server_set_leader(struct ib_dhcp4_server *s, bool leader)
{
	s->follower = !leader;
}

void ib_dhcp4_server_shared(struct ib_dhcp4_server *s)
{
	ib_d4_leases_scatter(s->leases);
}

/* Commits on c's thread: see dhcp4_server.h. */
void ib_dhcp4_server_commit_on(struct ib_dhcp4_server *s, struct ib_dhcp_committer *c)
{
	ib_dhcp_engine_commit_on(s->eng, c);
}
