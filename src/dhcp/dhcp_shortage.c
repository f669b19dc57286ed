/*
 * A subnet's shortage of addresses, counted and logged (dhcp_shortage.h).
 */
#include "dhcp/dhcp_shortage.h"

#include <inttypes.h>

#include "common/log.h"

/* Logs sh: see dhcp_shortage.h. */
void ib_dhcp_shortage_log(struct ib_dhcp_shortage *sh, const struct ib_dhcp_shortage_words *w,
			  const char *subnet, int64_t now, bool force)
{
	if (!(sh->took_short || sh->took_cap || sh->refused) ||
	    (!force && sh->last && now - sh->last < IB_DHCP_SHORTAGE_EVERY))
		return;
	ib_warn("%s: subnet %s short of addresses over %" PRId64 " s: %" PRIu64 " %s (no free "
		"address), %" PRIu64 " took their relay's or link's oldest (at its %d%% share "
		"of the pool), %" PRIu64 " %s", w->family, subnet, now - sh->since,
		sh->took_short, w->took, sh->took_cap, w->share, sh->refused, w->refused);
	sh->last = now;
	sh->took_short = sh->took_cap = sh->refused = 0;
}

/* Counts a decision's shortage: see dhcp_shortage.h. */
void ib_dhcp_shortage_count(struct ib_dhcp_shortage *sh, const struct ib_dhcp_shortage_words *w,
			    const char *subnet, int64_t now, const uint64_t counts[3])
{
	if (!(sh->took_short || sh->took_cap || sh->refused))
		sh->since = now;
	sh->took_short += counts[0];
	sh->took_cap += counts[1];
	sh->refused += counts[2];
	ib_dhcp_shortage_log(sh, w, subnet, now, false);
}
