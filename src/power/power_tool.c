/*
 * ironboot-power: runs one power operation on BMCs through the power
 * module, on a libevent loop, as the daemon's lifecycle will.  A test and
 * operator's tool (not installed):
 *
 *   ironboot-power --secrets FILE --bmcs FILE [--workers N] OP [NAME...]
 *
 * --bmcs is a JSON array of BMC entries (power_bmc.h); without NAMEs, OP
 * runs on every one of them at once.  One JSON line per result, then a
 * summary line with the wall time and how regularly a 20 ms timer fired
 * on the loop meanwhile (its largest gap): a loop blocked by a BMC shows
 * there.  Exit 0 if every operation succeeded, 1 otherwise, 2 on misuse.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "power/power.h"
#include "power/power_bmc.h"
#include "power/power_int.h"
#include "power/power_secrets.h"

#define TICK_MS 20

struct tool {
	struct event_base *base;	/* the loop */
	struct event *tick;		/* the responsiveness probe */
	unsigned count;			/* operations queued */
	unsigned left;			/* results still to come */
	unsigned failed;		/* results with an error */
	uint64_t last_tick_ms;		/* when the probe last fired */
	uint64_t max_gap_ms;		/* the largest interval between firings */
	unsigned ticks;			/* firings */
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct tool *t = arg;
	uint64_t now = ib_power_now_ms();

	if (now - t->last_tick_ms > t->max_gap_ms)
		t->max_gap_ms = now - t->last_tick_ms;
	t->last_tick_ms = now;
	t->ticks++;
}

static void on_result(const struct ib_bmc *bmc, enum ib_power_op op,
		      const struct ib_power_result *res, void *arg)
{
	struct tool *t = arg;
	json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:I, s:i}", "bmc", bmc->name, "op",
			      ib_power_op_name(op), "ok", res->err == 0, "state",
			      ib_power_state_name(res->state), "elapsed_ms",
			      (json_int_t)res->elapsed_ms, "attempts", (int)res->attempts);

	if (res->err) {
		json_object_set_new(o, "error", json_string(res->msg));
		json_object_set_new(o, "errno", json_string(strerror(-res->err)));
		t->failed++;
	}
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	fflush(stdout);
	json_decref(o);
	if (--t->left == 0)
		event_base_loopbreak(t->base);
}

static int load_bmcs(const char *path, struct ib_bmc **ret, size_t *ret_n)
{
	char err[IB_BMC_ERRLEN];
	json_error_t je;
	json_t *a = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *v;
	struct ib_bmc *bmcs;
	size_t i;

	if (!json_is_array(a)) {
		fprintf(stderr, "ironboot-power: %s: not a JSON array\n", path);
		json_decref(a);
		return -EINVAL;
	}
	bmcs = calloc(json_array_size(a) + 1, sizeof(*bmcs));
	if (!bmcs)
		return -ENOMEM;
	json_array_foreach(a, i, v) {
		if (ib_power_bmc_from_json(v, &bmcs[i], err) < 0) {
			fprintf(stderr, "ironboot-power: %s: entry %zu: %s\n", path, i + 1, err);
			free(bmcs);
			json_decref(a);
			return -EINVAL;
		}
	}
	*ret_n = json_array_size(a);
	*ret = bmcs;
	json_decref(a);
	return 0;
}

/* Queues op on the BMCs named (all when none is). */
static int queue_ops(struct tool *t, struct ib_power *p, struct ib_bmc *bmcs, size_t n,
		     enum ib_power_op op, int argc, char **argv)
{
	for (size_t i = 0; i < n; i++) {
		bool want = argc == 0;

		for (int k = 0; k < argc; k++)
			want |= strcmp(argv[k], bmcs[i].name) == 0;
		if (!want)
			continue;
		if (ib_power_op(p, &bmcs[i], op, on_result, t) < 0)
			return -EINVAL;
		t->left++;
		t->count++;
	}
	if (t->left == 0 || (argc > 0 && t->left != (unsigned)argc)) {
		fprintf(stderr, "ironboot-power: a NAME is not in the BMC file\n");
		return -ENOENT;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "secrets", required_argument, NULL, 's' },
		{ "bmcs", required_argument, NULL, 'b' },
		{ "workers", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *secrets_path = NULL, *bmcs_path = NULL;
	struct tool t = { 0 };
	struct ib_power_secrets *secrets;
	struct ib_power *p = NULL;
	struct ib_bmc *bmcs = NULL;
	char err[IB_SECRETS_ERRLEN];
	struct timeval tv = { 0, TICK_MS * 1000 };
	enum ib_power_op op;
	unsigned workers = 0;
	size_t n = 0;
	uint64_t t0;
	int o, r = 2;

	while ((o = getopt_long(argc, argv, "s:b:w:", opts, NULL)) != -1) {
		switch (o) {
		case 's': secrets_path = optarg; break;
		case 'b': bmcs_path = optarg; break;
		case 'w': workers = (unsigned)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!secrets_path || !bmcs_path || optind >= argc ||
	    ib_power_op_parse(argv[optind], &op) < 0) {
		fprintf(stderr, "usage: ironboot-power --secrets FILE --bmcs FILE [--workers N] "
			"status|on|off|cycle|soft|pxe_once|disk_once [NAME...]\n");
		return 2;
	}
	if (ib_power_secrets_load(secrets_path, &secrets, err) < 0) {
		fprintf(stderr, "ironboot-power: secrets file %s: %s\n", secrets_path, err);
		return 1;
	}
	t.base = event_base_new();
	if (load_bmcs(bmcs_path, &bmcs, &n) < 0 || ib_power_new(t.base, secrets, workers, &p) < 0) {
		ib_power_secrets_free(secrets);
		goto out;
	}
	t0 = t.last_tick_ms = ib_power_now_ms();
	if (queue_ops(&t, p, bmcs, n, op, argc - optind - 1, argv + optind + 1) < 0)
		goto out;
	t.tick = event_new(t.base, -1, EV_PERSIST, on_tick, &t);
	event_add(t.tick, &tv);
	event_base_dispatch(t.base);
	on_tick(-1, 0, &t);
	printf("{\"summary\": {\"count\": %u, \"failed\": %u, \"wall_ms\": %llu, \"ticks\": %u, "
	       "\"max_tick_gap_ms\": %llu}}\n", t.count, t.failed,
	       (unsigned long long)(ib_power_now_ms() - t0), t.ticks,
	       (unsigned long long)t.max_gap_ms);
	r = t.failed ? 1 : 0;
out:
	ib_power_free(p);
	if (t.tick)
		event_free(t.tick);
	event_base_free(t.base);
	free(bmcs);
	return r;
}
