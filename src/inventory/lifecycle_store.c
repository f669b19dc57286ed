/*
 * The lifecycle table (lifecycle.c) applied to the store: read, decide,
 * compare-and-set, journal.  See lifecycle.h.  No retry on a lost
 * compare-and-set: the loser is told the state that won, as an operator
 * or agent would be after any refused move.
 */
#include "inventory/lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonw.h"
#include "config/config.h"
#include "store/store.h"

/* Copies the members of object text obj ("{...}") without its braces. */
static void strip_braces(const char *obj, char *out, size_t cap)
{
	size_t n = strlen(obj);

	if (n < 2 || cap == 0) {
		if (cap)
			out[0] = '\0';
		return;
	}
	snprintf(out, cap, "%.*s", (int)(n - 2), obj + 1);
}

/* What a move does to the row besides the state (see lifecycle.h). */
static void shape(const struct ib_lifecycle_req *rq, struct ib_machine_state *m)
{
	if (m->state == IB_LC_FAILED) {
		snprintf(m->fail_step, sizeof(m->fail_step), "%s",
			 rq->fail_step ? rq->fail_step : "");
		snprintf(m->fail_reason, sizeof(m->fail_reason), "%s",
			 rq->fail_reason ? rq->fail_reason : "");
	} else {
		m->fail_step[0] = m->fail_reason[0] = '\0';
	}
	if (rq->ev == IB_LC_EV_ALLOCATE)
		snprintf(m->profile, sizeof(m->profile), "%s", rq->profile ? rq->profile : "");
	if (m->state == IB_LC_READY || m->state == IB_LC_DISCOVERED)
		m->profile[0] = '\0';
	m->local_boots = 0;
}

int ib_lifecycle_apply(struct ib_store *s, const struct ib_lifecycle_req *rq,
		       struct ib_machine_state *ret)
{
	struct ib_machine_state old, m;
	enum ib_lc_state to;
	char det[256], extra[256] = "";
	struct ib_jw w;
	int r;

	if ((r = ib_store_machine_get(s, rq->mac, &old)) < 0)
		return r;
	if (rq->expect_version && old.version != rq->expect_version) {
		if (ret)
			*ret = old;
		return -EEXIST;
	}
	if ((r = ib_lc_next((enum ib_lc_state)old.state, rq->ev, &to)) < 0) {
		if (ret)
			*ret = old;
		return r == -EINVAL ? -EIO : r;	/* a state out of range: a bad row */
	}
	m = old;
	m.state = to;
	shape(rq, &m);
	ib_jw_init(&w, det, sizeof(det));
	ib_jw_str_opt(&w, "profile", rq->ev == IB_LC_EV_ALLOCATE ? m.profile : NULL);
	ib_jw_str_opt(&w, "step", m.fail_step);
	ib_jw_str_opt(&w, "reason", m.fail_reason);
	if (ib_jw_end(&w) == 0)
		strip_braces(det, extra, sizeof(extra));
	r = ib_store_machine_update(s, &old, &m, &(struct ib_machine_note){
		.by = rq->by, .kind = ib_lc_event_name(rq->ev),
		.from = ib_lc_state_name((enum ib_lc_state)old.state),
		.to = ib_lc_state_name(to), .now_us = rq->now_us,
		.extra = extra[0] ? extra : NULL });
	if (r == -EEXIST && ret && ib_store_machine_get(s, rq->mac, &m) == 0)
		*ret = m;	/* the winner's state */
	else if (r == 0 && ret)
		*ret = m;
	return r;
}

int ib_lifecycle_discover(struct ib_store *s, const char *mac, const char *by,
			  int64_t now_us, struct ib_machine_state *ret)
{
	struct ib_machine_state m = { .state = IB_LC_DISCOVERED };
	int r = ib_store_machine_get(s, mac, ret);

	if (r != -ENOENT)
		return r;
	snprintf(m.mac, sizeof(m.mac), "%s", mac);
	r = ib_store_machine_create(s, &m, &(struct ib_machine_note){
		.by = by, .kind = "discovered", .from = "none",
		.to = ib_lc_state_name(IB_LC_DISCOVERED), .now_us = now_us });
	if (r == -EEXIST)	/* another writer made it meanwhile */
		return ib_store_machine_get(s, mac, ret);
	if (r == 0)
		*ret = m;
	return r;
}

int ib_lifecycle_local_boot(struct ib_store *s, const struct ib_machine_state *m,
			    int64_t now_us, struct ib_machine_state *ret)
{
	struct ib_machine_state n = *m;
	const char *installed = ib_lc_state_name(IB_LC_INSTALLED);
	uint32_t boots = m->local_boots;
	char extra[64];
	int r;

	if (m->state != IB_LC_INSTALLED)
		return -EPERM;
	/* long after the last one: the installed system rebooted, and its
	 * firmware netboots first; that boot counts from the start */
	if (boots && now_us - m->updated_us > IB_LC_LOCAL_BOOT_WINDOW_US)
		boots = 0;
	snprintf(extra, sizeof(extra), "\"since_install_s\":%lld",
		 (long long)((now_us - m->since_us) / 1000000));
	if (boots < 2) {
		/* the first: told to boot from its disk; the second: it did not */
		n.local_boots = boots + 1;
		r = ib_store_machine_update(s, m, &n, &(struct ib_machine_note){
			.by = "http", .kind = boots ? "local-boot-ignored" : "local-boot",
			.from = installed, .to = installed, .now_us = now_us, .extra = extra });
	} else {
		n.state = IB_LC_FAILED;
		n.local_boots = 0;
		snprintf(n.fail_step, sizeof(n.fail_step), "local-boot");
		snprintf(n.fail_reason, sizeof(n.fail_reason),
			 "netbooted again after it was told to boot from its disk: "
			 "its disk does not boot");
		r = ib_store_machine_update(s, m, &n, &(struct ib_machine_note){
			.by = "http", .kind = ib_lc_event_name(IB_LC_EV_FAIL), .from = installed,
			.to = ib_lc_state_name(IB_LC_FAILED), .now_us = now_us,
			.extra = extra });
	}
	if (r == 0)
		*ret = n;
	return r;
}

/* A machine due to fail, found by the walk; failed after it. */
struct overdue {
	struct ib_lc_expired *out;	/* the caller's list */
	int64_t *version;		/* the version read, per entry of out */
	size_t n, max;
	const struct ib_lifecycle_config *lc;
	int64_t now_us;
};

static int find_overdue(const struct ib_machine_state *m, void *arg)
{
	struct overdue *o = arg;
	uint32_t limit;
	const char *step;

	if (m->state == IB_LC_WIPING) {
		limit = o->lc->wipe_timeout;
		step = "wipe";
	} else if (m->state == IB_LC_INSTALLING) {
		limit = o->lc->install_timeout;
		step = "install";
	} else {
		return 0;
	}
	if (!limit || o->now_us - m->since_us <= (int64_t)limit * 1000000)
		return 0;
	snprintf(o->out[o->n].mac, sizeof(o->out[o->n].mac), "%s", m->mac);
	o->out[o->n].step = step;
	o->out[o->n].limit_s = limit;
	o->version[o->n] = m->version;
	return ++o->n == o->max;		/* stops the walk when full */
}

int ib_lifecycle_expire(struct ib_store *s, const struct ib_lifecycle_config *lc,
			int64_t now_us, struct ib_lc_expired *ret, size_t max)
{
	int64_t version[64];
	struct overdue o = { .out = ret, .version = version, .lc = lc, .now_us = now_us,
			     .max = max < 64 ? max : 64 };
	size_t moved = 0;
	char reason[96];
	int r;

	if (o.max == 0 || (r = ib_store_machine_foreach(s, find_overdue, &o)) < 0)
		return o.max == 0 ? 0 : r;
	for (size_t i = 0; i < o.n; i++) {
		snprintf(reason, sizeof(reason), "timeout: no %s result within %u s "
			 "(lifecycle.%s_timeout)", ret[i].step, ret[i].limit_s, ret[i].step);
		r = ib_lifecycle_apply(s, &(struct ib_lifecycle_req){
			.mac = ret[i].mac, .ev = IB_LC_EV_FAIL, .by = "timer",
			.fail_step = ret[i].step, .fail_reason = reason, .now_us = now_us,
			.expect_version = version[i] }, NULL);
		if (r == -EEXIST || r == -EPERM || r == -ENOENT)
			continue;	/* moved meanwhile: the newer state stands */
		if (r < 0)
			return r;
		ret[moved++] = ret[i];
	}
	return (int)moved;
}
