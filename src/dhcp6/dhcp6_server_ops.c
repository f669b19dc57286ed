/*
 * What others ask of a running DHCPv6 server (dhcp6_server.h): an
 * operator's release, a binding another daemon wrote, a resync, the
 * leadership, the counters and the pools' counts.  See
 * dhcp6_server_int.h.
 */
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "dhcp6/dhcp6_server_int.h"
#include "dhcp6/dhcp6_server_journal.h"

int ib_dhcp6_server_release(struct ib_dhcp6_server *s, const uint8_t addr[16],
			    struct ib_lease6 *ret)
{
	struct ib_d6_release o = { .now = ib_now_sec() };
	int r;

	memcpy(o.l.address, addr, 16);
	if ((r = ib_dhcp_engine_operate(s->eng, ib_d6_release_txn, &o)) < 0)
		return r;
	/* the cache follows the store: the client's RENEW now meets NoBinding */
	ib_d6_leases_set_state(s->leases, addr, IB_LEASE_RELEASED, o.now);
	ib_d6_journal_lease(s->journal, &o.l, "lease-release-operator");
	*ret = o.l;
	return 0;
}

bool ib_dhcp6_server_pool_counts(const struct ib_dhcp6_server *s, const struct ib_config *cfg,
				 size_t i, struct ib_lease_count *ret)
{
	return s->cfg == cfg && ib_d6_leases_pool_counts(s->leases, i, ret);
}

const struct ib_dhcp6_stats *ib_dhcp6_server_stats(const struct ib_dhcp6_server *s)
{
	return &s->stats;
}

int ib_dhcp6_server_follow(struct ib_dhcp6_server *s, const uint8_t addr[16])
{
	struct ib_lease6 l;
	int r = ib_store_lease6_get(s->store, addr, &l);

	/* Unread (the store is down): the entry stays as it is, a binding
	 * renew_while_down() may still renew; the caller resyncs. */
	if (r != 0 && r != -ENOENT)
		return r;
	if (r == 0 && (r = ib_d6_leases_file(s->leases, &l)) == 0)
		return 0;
	ib_d6_leases_forget(s->leases, addr);	/* no row, or not filed: the store arbitrates */
	return r == -ENOENT ? 0 : r;
}

int ib_dhcp6_server_resync(struct ib_dhcp6_server *s)
{
	ib_dhcp_engine_flush(s->eng);	/* decisions already made commit first */
	return ib_d6_leases_load(s->leases, s->store);
}

void ib_dhcp6_server_set_leader(struct ib_dhcp6_server *s, bool leader)
{
	s->follower = !leader;
}

/* Commits on c's thread: see dhcp6_server.h. */
void ib_dhcp6_server_commit_on(struct ib_dhcp6_server *s, struct ib_dhcp_committer *c)
{
	ib_dhcp_engine_commit_on(s->eng, c);
}
