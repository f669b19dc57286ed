/*
 * A group commit's plan (dhcp_plan.h): rows planned by the families, run
 * against one store in the batch's transaction.
 */
#include "dhcp/dhcp_plan.h"

#include <errno.h>
#include <string.h>

/* The next row of the plan: see dhcp_plan.h. */
struct ib_dhcp_write *ib_dhcp_plan_add(struct ib_dhcp_plan *pl, enum ib_dhcp_write_op op)
{
	struct ib_dhcp_write *w;

	if (pl->n == pl->cap)
		return NULL;
	w = &pl->w[pl->n++];
	memset(w, 0, sizeof(*w));
	w->op = op;
	w->slot = pl->slot;
	return w;
}

/* One row: the store's answer, which may be the op's verdict errno. */
static int run_one(struct ib_store *s, const struct ib_dhcp_write *w, int *ret_verdict)
{
	int r;

	switch (w->op) {
	case IB_DHCP_W4_COMMIT:
		r = ib_store_lease4_commit(s, &w->row.l4, w->now);
		*ret_verdict = -EEXIST;
		return r;
	case IB_DHCP_W4_STATE:
		*ret_verdict = -ENOENT;
		return ib_store_lease4_set_state(s, w->row.l4.address, w->state, w->expires);
	case IB_DHCP_W4_DECLINE:
		*ret_verdict = -EEXIST;
		r = ib_store_lease4_commit(s, &w->row.l4, w->now);
		if (r == 0)
			r = ib_store_lease4_set_state(s, w->row.l4.address, IB_LEASE_DECLINED,
						      w->expires);
		return r;	/* -ENOENT of the row just written: a failure */
	case IB_DHCP_W6_COMMIT:
		*ret_verdict = -EEXIST;
		return ib_store_lease6_commit(s, &w->row.l6, w->now);
	case IB_DHCP_W6_STATE:
		*ret_verdict = -ENOENT;
		return ib_store_lease6_set_state(s, w->row.l6.address, w->state, w->expires);
	}
	return -EINVAL;
}

/* Runs the plan: see dhcp_plan.h. */
int ib_dhcp_plan_run(struct ib_store *s, struct ib_dhcp_write *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int verdict = 0, r = run_one(s, &w[i], &verdict);

		if (r < 0 && r != verdict)
			return r;
		w[i].verdict = r;
	}
	return 0;
}
