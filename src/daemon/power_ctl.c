/*
 * The daemon's power control: see power_ctl.h.  One job per BMC
 * operation; a lifecycle "netboot" job runs STATUS, PXE_ONCE, then ON (the
 * machine was off) or CYCLE, one after the other, each queued from the
 * callback of the one before.
 */
#include "daemon/power_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "inventory/lifecycle.h"
#include "power/power.h"
#include "power/power_secrets.h"

#define RETIRING_MAX 8			/* old pools still draining after reloads */
#define OFF_CHECK_EVERY_S 5		/* the off check reads the state this often */
#define GC_EVERY_MS 500			/* how often drained pools are looked for */

enum job_kind {
	JOB_OPERATOR,			/* one op for the API or the CLI: answered */
	JOB_NETBOOT,			/* lifecycle: status, pxe_once, on | cycle */
	JOB_POLL,			/* reconciliation: status, journalled on change */
	JOB_OFF_CHECK,			/* after "wait": status until off */
};

struct off_check;

/* One BMC operation in flight (queued on a pool, or being run). */
struct job {
	struct ib_powerctl *pc;		/* the owner */
	struct job *next, **pprev;	/* pc->jobs, for cancelling at free */
	enum job_kind kind;		/* what it is part of */
	char mac[IB_MACHINE_MAC_STRLEN];	/* the machine */
	struct ib_bmc bmc;		/* its BMC (a copy: a reload may change the entry) */
	enum ib_power_op op;		/* the operation under way */
	const char *by;			/* who asked: api, cli, lifecycle, poll */
	const char *why;		/* netboot: the lifecycle event (accept...) */
	ib_http_power_done done;	/* JOB_OPERATOR: the answer, or NULL */
	void *done_arg;			/* its argument */
	struct off_check *check;	/* JOB_OFF_CHECK: its check */
	bool was_off;			/* JOB_NETBOOT: STATUS said off (then ON, not CYCLE) */
	int64_t start_us;		/* when the job (all of its steps) began */
};

/* A machine told to "wait", to be seen off. */
struct off_check {
	struct ib_powerctl *pc;		/* the owner */
	struct off_check *next, **pprev; /* pc->checks */
	char mac[IB_MACHINE_MAC_STRLEN];	/* the machine */
	struct event *timer;		/* the next status read */
	int64_t start_us;		/* when "wait" was handed out */
	int64_t deadline_us;		/* off by then, or journalled as failed */
	bool busy;			/* a status read is in flight */
	bool cancelled;			/* powered on again meanwhile: drop it */
};

struct ib_powerctl {
	struct event_base *base;	/* the loop, not owned */
	const struct ib_config *cfg;	/* current snapshot, not owned */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	struct ib_power *pool;		/* current pool, or NULL (it failed to start) */
	char secrets_path[4096];	/* what pool's secrets came from ("" = none) */
	unsigned workers;		/* pool's size */
	struct ib_power *retiring[RETIRING_MAX]; /* old pools draining */
	size_t n_retiring;
	struct event *gc;		/* frees drained pools */
	struct event *poll;		/* reconciliation */
	uint32_t poll_s;		/* its period as armed */
	struct job *jobs;		/* every job in flight */
	struct off_check *checks;	/* every off check waiting */
	bool follower;			/* another daemon polls (leader.c) */
};

static void start_job(struct job *j);

/* ---- the pool ---- */

static struct ib_power *new_pool(struct ib_powerctl *pc, const struct ib_config *cfg)
{
	char err[IB_SECRETS_ERRLEN] = "";
	struct ib_power_secrets *s = NULL;
	struct ib_power *p;
	int r;

	if (cfg->power.secrets_file &&
	    (r = ib_power_secrets_load(cfg->power.secrets_file, &s, err)) < 0)
		ib_err("power: cannot use the secrets file %s: %s; every BMC operation will "
		       "fail for want of its credential", cfg->power.secrets_file, err);
	else if (!cfg->power.secrets_file && cfg->n_bmcs)
		ib_warn("power: %zu BMCs but no power.secrets_file: their operations will "
			"fail for want of credentials", cfg->n_bmcs);
	r = ib_power_new(pc->base, s, cfg->power.concurrency, &p);
	if (r < 0) {
		ib_power_secrets_free(s);
		ib_err("power: cannot start the BMC workers: %s", strerror(-r));
		return NULL;
	}
	snprintf(pc->secrets_path, sizeof(pc->secrets_path), "%s",
		 cfg->power.secrets_file ? cfg->power.secrets_file : "");
	pc->workers = cfg->power.concurrency;
	return p;
}

static void on_gc(evutil_socket_t fd, short what, void *arg)
{
	struct ib_powerctl *pc = arg;
	struct timeval tv = { 0, GC_EVERY_MS * 1000 };
	size_t k = 0;

	for (size_t i = 0; i < pc->n_retiring; i++) {
		if (ib_power_pending(pc->retiring[i]) == 0)
			ib_power_free(pc->retiring[i]);	/* nothing runs: no wait */
		else
			pc->retiring[k++] = pc->retiring[i];
	}
	pc->n_retiring = k;
	if (k)
		evtimer_add(pc->gc, &tv);
}

/* ---- what an operation leaves behind: the store's row, the journal ---- */

static const char *state_after(enum ib_power_op op, const struct ib_power_result *res,
			       const char *before)
{
	if (res->err < 0)
		return before;
	switch (op) {
	case IB_POWER_STATUS: return ib_power_state_name(res->state);
	case IB_POWER_ON: case IB_POWER_CYCLE: return "on";
	case IB_POWER_OFF: return "off";
	default: return before;	/* soft: on until it is off; overrides: unchanged */
	}
}

static void journal_power(struct ib_powerctl *pc, const char *mac, const char *kind,
			  json_t *detail)
{
	uint8_t hw[6];
	struct ib_journal_who who = { .hw = hw, .hw_len = 6 };

	if (ib_mac_parse(mac, hw) < 0) {
		json_decref(detail);
		return;
	}
	ib_journal_add(pc->journal, &who, "power", kind, detail);
}

/* The op's name as the API and the CLI spell it ("pxe-once"). */
static const char *op_word(enum ib_power_op op)
{
	static const char *const words[IB_POWER_OP_COUNT] = {
		"status", "on", "off", "cycle", "soft", "pxe-once", "disk-once",
	};
	return (unsigned)op < IB_POWER_OP_COUNT ? words[op] : "?";
}

/*
 * Stores what res says about j's machine and journals it: every operation
 * but reconciliation's and the off check's reads, which are journalled
 * only when the state changed ("power-changed") or an error is new.
 */
static void record(struct job *j, const struct ib_power_result *res)
{
	struct ib_powerctl *pc = j->pc;
	struct ib_power_row row = { 0 }, old = { 0 };
	bool had = ib_store_power_get(pc->store, j->mac, &old) == 0;
	const char *from = had ? old.state : "unknown";
	const char *to = state_after(j->op, res, from);
	bool quiet = j->kind == JOB_POLL || j->kind == JOB_OFF_CHECK;
	int64_t now = ib_now_us();
	char msg[IB_POWER_MSGLEN];

	ib_str_sanitize((const uint8_t *)res->msg, strnlen(res->msg, sizeof(res->msg)), msg,
			sizeof(msg));
	snprintf(row.mac, sizeof(row.mac), "%s", j->mac);
	snprintf(row.state, sizeof(row.state), "%s", to);
	snprintf(row.op, sizeof(row.op), "%s", op_word(j->op));
	snprintf(row.error, sizeof(row.error), "%s", res->err < 0 ? msg : "");
	row.checked_us = now;
	row.changed_us = had && strcmp(from, to) == 0 ? old.changed_us : now;
	if (!had || strcmp(old.state, row.state) || strcmp(old.op, row.op) ||
	    strcmp(old.error, row.error) || !quiet)
		if (ib_store_power_put(pc->store, &row) < 0)
			ib_warn("power: cannot store the power state of %s", j->mac);
	if (quiet && res->err == 0 && res->state != IB_POWER_STATE_UNKNOWN &&
	    strcmp(from, to) != 0) {
		journal_power(pc, j->mac, "power-changed", json_pack("{s:s, s:s, s:s, s:s, s:s}",
			      "from", from, "to", to, "bmc", j->bmc.name,
			      "driver", j->bmc.driver == IB_BMC_IPMI ? "ipmi" : "redfish",
			      "by", j->by));
		if (j->kind == JOB_POLL)
			ib_notice("power: %s (bmc %s) is %s, was %s: changed outside ironboot",
				  j->mac, j->bmc.name, to, from);
	}
	if (quiet && (res->err == 0 || (had && strcmp(old.error, row.error) == 0)))
		return;
	journal_power(pc, j->mac, op_word(j->op), json_pack(
		"{s:s, s:s, s:s, s:s, s:I, s:i, s:s, s:s, s:s?}",
		"driver", j->bmc.driver == IB_BMC_IPMI ? "ipmi" : "redfish", "bmc", j->bmc.name,
		"by", j->by, "result", res->err < 0 ? "error" : "ok",
		"ms", (json_int_t)res->elapsed_ms, "attempts", (int)res->attempts,
		"state", to, "msg", res->err < 0 ? msg : "ok", "for", j->why));
}

/* ---- jobs ---- */

static void unlink_job(struct job *j)
{
	if (j->next)
		j->next->pprev = j->pprev;
	*j->pprev = j->next;
}

static void link_job(struct ib_powerctl *pc, struct job *j)
{
	j->next = pc->jobs;
	if (pc->jobs)
		pc->jobs->pprev = &j->next;
	j->pprev = &pc->jobs;
	pc->jobs = j;
}

static bool busy(const struct ib_powerctl *pc, const char *mac, enum job_kind kind)
{
	for (const struct job *j = pc->jobs; j; j = j->next)
		if (strcmp(j->mac, mac) == 0 && j->kind == kind)
			return true;
	return false;
}

/* A lifecycle step that failed: the machine goes to failed with the BMC's
 * message (when its state allows; else the journal has it). */
static void fail_machine(struct job *j, const struct ib_power_result *res)
{
	char step[IB_MACHINE_STEP_MAX], why[IB_MACHINE_REASON_MAX];
	struct ib_lifecycle_req lr = { .mac = j->mac, .ev = IB_LC_EV_FAIL, .by = "power",
				       .fail_step = step, .fail_reason = why,
				       .now_us = ib_now_us() };
	struct ib_machine_state m;
	int r;

	snprintf(step, sizeof(step), "power:%s", op_word(j->op));
	ib_str_sanitize((const uint8_t *)res->msg, strnlen(res->msg, sizeof(res->msg)), why,
			sizeof(why));
	r = ib_lifecycle_apply(j->pc->store, &lr, &m);
	ib_err("power: %s: %s after %s failed: %s%s", j->mac, op_word(j->op), j->why, why,
	       r == 0 ? "; the machine is failed" :
	       r == -EPERM ? "; its state cannot fail, left as it is" : "");
}

static void job_free(struct job *j)
{
	unlink_job(j);
	free(j);
}

static void on_result(const struct ib_bmc *bmc, enum ib_power_op op,
		      const struct ib_power_result *res, void *arg);

/* The netboot sequence's next step after op succeeded, or -1: done. */
static int netboot_next(enum ib_power_op op, const struct ib_power_result *res,
			bool *was_off)
{
	switch (op) {
	case IB_POWER_STATUS:
		*was_off = res->state == IB_POWER_STATE_OFF;
		return IB_POWER_PXE_ONCE;
	case IB_POWER_PXE_ONCE:
		return *was_off ? IB_POWER_ON : IB_POWER_CYCLE;
	default:
		return -1;
	}
}

static void off_check_result(struct off_check *c, const struct ib_power_result *res);

static void on_result(const struct ib_bmc *bmc, enum ib_power_op op,
		      const struct ib_power_result *res, void *arg)
{
	struct job *j = arg;
	int next;

	record(j, res);
	switch (j->kind) {
	case JOB_OPERATOR:
		if (j->done)
			j->done(j->done_arg, bmc, op, res);
		break;
	case JOB_NETBOOT:
		/* A BMC that answers it has no boot override (an IPMI completion
		 * code, an HTTP refusal: OpenIPMI's ipmi_sim driving a VM) is
		 * powered on anyway: the machine boots in its firmware's order,
		 * network first as ironboot's scripts expect (installed machines
		 * are sent to their disk by their script).  Journalled above. */
		if (res->err < 0 && op == IB_POWER_PXE_ONCE &&
		    (res->err == -EREMOTEIO || res->err == -EIO || res->err == -EOPNOTSUPP))
			ib_warn("power: %s: %s; powering on without a one-time PXE boot",
				j->mac, res->msg);
		else if (res->err < 0) {
			fail_machine(j, res);
			break;
		}
		next = netboot_next(op, res, &j->was_off);
		if (next >= 0) {
			j->op = (enum ib_power_op)next;
			start_job(j);
			return;
		}
		break;
	case JOB_OFF_CHECK:
		off_check_result(j->check, res);
		break;
	case JOB_POLL:
		break;
	}
	job_free(j);
}

/* Queues j's op; a pool that is gone or refuses answers at once. */
static void start_job(struct job *j)
{
	struct ib_power_result res = { .err = -EIO };
	int r = j->pc->pool ? ib_power_op(j->pc->pool, &j->bmc, j->op, on_result, j) : -EIO;

	if (r == 0)
		return;
	res.err = r;
	snprintf(res.msg, sizeof(res.msg), "bmc %s: %s", j->bmc.name, j->pc->pool ?
		 "the operation was refused" : "the BMC workers are not running");
	on_result(&j->bmc, j->op, &res, j);
}

static struct job *new_job(struct ib_powerctl *pc, const struct ib_bmc_config *b,
			   enum job_kind kind, enum ib_power_op op, const char *by)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->pc = pc;
	j->kind = kind;
	j->bmc = b->bmc;
	j->op = op;
	j->by = by;
	j->start_us = ib_now_us();
	ib_mac_format(b->mac, 6, j->mac, sizeof(j->mac));
	link_job(pc, j);
	return j;
}

static const struct ib_bmc_config *bmc_of(const struct ib_powerctl *pc, const char *mac)
{
	uint8_t hw[6];

	return ib_mac_parse(mac, hw) == 0 ? ib_config_bmc_for(pc->cfg, hw) : NULL;
}

/* ---- the off check ---- */

static void off_check_free(struct off_check *c)
{
	if (c->next)
		c->next->pprev = c->pprev;
	*c->pprev = c->next;
	event_free(c->timer);
	free(c);
}

static void off_check_arm(struct off_check *c, uint32_t s)
{
	struct timeval tv = { (time_t)s, 0 };

	evtimer_add(c->timer, &tv);
}

static void on_off_check(evutil_socket_t fd, short what, void *arg)
{
	struct off_check *c = arg;
	const struct ib_bmc_config *b = bmc_of(c->pc, c->mac);
	struct job *j;

	if (!b) {			/* its BMC entry went away */
		off_check_free(c);
		return;
	}
	if (!(j = new_job(c->pc, b, JOB_OFF_CHECK, IB_POWER_STATUS, "off-check"))) {
		off_check_arm(c, OFF_CHECK_EVERY_S);
		return;
	}
	j->check = c;
	j->why = "wait";
	c->busy = true;
	start_job(j);
}

static void off_check_result(struct off_check *c, const struct ib_power_result *res)
{
	int64_t now = ib_now_us();
	const struct ib_bmc_config *b = bmc_of(c->pc, c->mac);
	char msg[IB_POWER_MSGLEN];

	if (c->cancelled) {
		off_check_free(c);
		return;
	}
	/* the BMC's words, as record() stores them: never raw */
	ib_str_sanitize((const uint8_t *)res->msg, strnlen(res->msg, sizeof(res->msg)), msg,
			sizeof(msg));

	c->busy = false;
	if (res->err == 0 && res->state == IB_POWER_STATE_OFF) {
		journal_power(c->pc, c->mac, "off-confirmed", json_pack("{s:I, s:s}",
			      "after_s", (json_int_t)((now - c->start_us) / 1000000),
			      "bmc", b ? b->bmc.name : ""));
		off_check_free(c);
	} else if (now >= c->deadline_us) {
		journal_power(c->pc, c->mac, "off-check-failed", json_pack("{s:I, s:s, s:s}",
			      "after_s", (json_int_t)((now - c->start_us) / 1000000),
			      "state", res->err < 0 ? "unknown" : ib_power_state_name(res->state),
			      "msg", res->err < 0 ? msg : "the machine is still on"));
		ib_warn("power: %s was told to wait (power off) but is %s after %lld s",
			c->mac, res->err < 0 ? "unknown" : ib_power_state_name(res->state),
			(long long)((now - c->start_us) / 1000000));
		off_check_free(c);
	} else {
		off_check_arm(c, OFF_CHECK_EVERY_S);
	}
}

static void start_off_check(struct ib_powerctl *pc, const char *mac)
{
	struct off_check *c;

	for (c = pc->checks; c; c = c->next)
		if (strcmp(c->mac, mac) == 0)
			return;		/* one at a time per machine */
	if (!(c = calloc(1, sizeof(*c))))
		return;
	c->pc = pc;
	snprintf(c->mac, sizeof(c->mac), "%s", mac);
	c->start_us = ib_now_us();
	c->deadline_us = c->start_us + (int64_t)(pc->cfg->power.off_check_grace +
						 pc->cfg->power.off_check_timeout) * 1000000;
	if (!(c->timer = evtimer_new(pc->base, on_off_check, c))) {
		free(c);
		return;
	}
	c->next = pc->checks;
	if (pc->checks)
		pc->checks->pprev = &c->next;
	c->pprev = &pc->checks;
	pc->checks = c;
	off_check_arm(c, pc->cfg->power.off_check_grace);
}

/* The lifecycle powers mac on again (allocate, accept, release): its
 * off check, if any, is over; a status read in flight ends it. */
static void off_check_cancel(struct ib_powerctl *pc, const char *mac)
{
	for (struct off_check *c = pc->checks; c; c = c->next) {
		if (strcmp(c->mac, mac) != 0)
			continue;
		if (c->busy)
			c->cancelled = true;
		else
			off_check_free(c);
		return;
	}
}

/* ---- reconciliation ---- */

static void arm_poll(struct ib_powerctl *pc)
{
	struct timeval tv = { (time_t)pc->cfg->power.poll_interval, 0 };

	pc->poll_s = pc->cfg->power.poll_interval;
	if (pc->poll_s)
		evtimer_add(pc->poll, &tv);
	else
		evtimer_del(pc->poll);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct ib_powerctl *pc = arg;
	size_t queued = 0;

	for (size_t i = 0; !pc->follower && i < pc->cfg->n_bmcs; i++) {
		const struct ib_bmc_config *b = &pc->cfg->bmcs[i];
		char mac[IB_MAC_STRLEN];
		struct job *j;

		ib_mac_format(b->mac, 6, mac, sizeof(mac));
		/* a machine still answering the last round is not asked twice */
		if (busy(pc, mac, JOB_POLL) || !(j = new_job(pc, b, JOB_POLL, IB_POWER_STATUS,
							      "poll")))
			continue;
		start_job(j);
		queued++;
	}
	ib_debug("power: reconciliation: %zu BMCs asked", queued);
	arm_poll(pc);
}

/* ---- the API's hooks ---- */

static int http_run(void *ctx, const char *mac, enum ib_power_op op, const char *by,
		    ib_http_power_done done, void *arg)
{
	struct ib_powerctl *pc = ctx;
	const struct ib_bmc_config *b = bmc_of(pc, mac);
	struct job *j;

	if (!b)
		return -ENOENT;
	if (!(j = new_job(pc, b, JOB_OPERATOR, op, by)))
		return -ENOMEM;
	j->done = done;
	j->done_arg = arg;
	start_job(j);
	return 0;
}

/* The lifecycle moved mac (accept, allocate, release) or its agent got
 * "wait": what the BMC must do.  A machine without a BMC waits for its
 * next netboot, as before. */
static void http_lifecycle(void *ctx, const char *mac, const char *what)
{
	struct ib_powerctl *pc = ctx;
	const struct ib_bmc_config *b = bmc_of(pc, mac);
	struct job *j;

	if (!b)
		return;
	if (strcmp(what, "wait") == 0) {
		start_off_check(pc, mac);
		return;
	}
	off_check_cancel(pc, mac);
	if (busy(pc, mac, JOB_NETBOOT) ||
	    !(j = new_job(pc, b, JOB_NETBOOT, IB_POWER_STATUS, "lifecycle")))
		return;
	j->why = strcmp(what, "accept") == 0 ? "accept" :
		 strcmp(what, "allocate") == 0 ? "allocate" : "release";
	ib_info("power: %s %s: one-time PXE boot and power on through bmc %s", j->why, mac,
		b->bmc.name);
	start_job(j);
}

static bool http_netbooting(void *ctx, const char *mac)
{
	return busy(ctx, mac, JOB_NETBOOT);
}

void ib_powerctl_http(struct ib_powerctl *pc, struct ib_http_power *ret)
{
	*ret = (struct ib_http_power){ .run = http_run, .lifecycle = http_lifecycle,
				       .netbooting = http_netbooting, .ctx = pc };
}

/* ---- life ---- */

int ib_powerctl_new(struct event_base *base, const struct ib_config *cfg,
		    struct ib_store *store, struct ib_journal *journal,
		    struct ib_powerctl **ret)
{
	struct ib_powerctl *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return -ENOMEM;
	pc->base = base;
	pc->cfg = cfg;
	pc->store = store;
	pc->journal = journal;
	pc->gc = evtimer_new(base, on_gc, pc);
	pc->poll = evtimer_new(base, on_poll, pc);
	if (!pc->gc || !pc->poll) {
		ib_powerctl_free(pc);
		return -ENOMEM;
	}
	pc->pool = new_pool(pc, cfg);
	arm_poll(pc);
	*ret = pc;
	return 0;
}

void ib_powerctl_reconfigure(struct ib_powerctl *pc, const struct ib_config *cfg,
			     bool reread_secrets)
{
	const char *path = cfg->power.secrets_file ? cfg->power.secrets_file : "";
	struct timeval tv = { 0, GC_EVERY_MS * 1000 };
	struct ib_power *next;

	pc->cfg = cfg;
	if (pc->poll_s != cfg->power.poll_interval)
		arm_poll(pc);
	if (!reread_secrets && pc->pool && strcmp(path, pc->secrets_path) == 0 &&
	    pc->workers == cfg->power.concurrency)
		return;
	if (!(next = new_pool(pc, cfg)))
		return;		/* logged; the old pool keeps serving */
	if (pc->pool && pc->n_retiring == RETIRING_MAX) {
		ib_power_free(next);	/* reloads faster than BMCs answer: keep the old */
		ib_warn("power: too many reloads while BMC operations run; pool kept");
		return;
	}
	if (pc->pool)
		pc->retiring[pc->n_retiring++] = pc->pool;
	pc->pool = next;
	if (pc->n_retiring)
		evtimer_add(pc->gc, &tv);
}

void ib_powerctl_set_leader(struct ib_powerctl *pc, bool leader)
{
	pc->follower = !leader;
}

void ib_powerctl_free(struct ib_powerctl *pc)
{
	if (!pc)
		return;
	/* no callback runs after these: each waits for its running calls */
	ib_power_free(pc->pool);
	for (size_t i = 0; i < pc->n_retiring; i++)
		ib_power_free(pc->retiring[i]);
	while (pc->jobs) {
		struct job *j = pc->jobs;

		if (j->kind == JOB_OPERATOR && j->done)
			j->done(j->done_arg, NULL, j->op, NULL);	/* cancelled */
		job_free(j);
	}
	while (pc->checks)
		off_check_free(pc->checks);
	if (pc->gc)
		event_free(pc->gc);
	if (pc->poll)
		event_free(pc->poll);
	free(pc);
}
