/*
 * ironboot power OP MAC|--all|--state S: see power_cmd.h.  The daemon
 * runs the operation (it holds the secrets and the pool); this prints
 * each answer (JSON, one line per machine) and says which failed.
 */
#include "cli/power_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/inventory_cmd.h"
#include "common/util.h"
#include "inventory/lifecycle.h"

static const char *const ops[] = {
	"status", "on", "off", "cycle", "soft", "pxe-once", "disk-once",
};

/* The machines --state S names: in the lifecycle in S, with a BMC. */
struct pick {
	const struct ib_config *cfg;	/* for the BMC entries */
	enum ib_lc_state want;		/* S */
	char (*macs)[IB_MACHINE_MAC_STRLEN]; /* chosen, up to n_max */
	size_t n, n_max;
};

static int pick_state(const struct ib_machine_state *m, void *ctx)
{
	struct pick *p = ctx;
	uint8_t hw[6];

	if (m->state != (int)p->want || p->n == p->n_max)
		return 0;
	for (size_t i = 0; i < m->n_nics; i++)
		if (ib_mac_parse(m->nics[i], hw) == 0 && ib_config_bmc_for(p->cfg, hw)) {
			snprintf(p->macs[p->n++], IB_MACHINE_MAC_STRLEN, "%s", m->nics[i]);
			break;
		}
	return 0;
}

static int run_one(const struct ib_config *cfg, const char *op, const char *mac)
{
	char path[128];
	int n = snprintf(path, sizeof(path), "machines/%s/power/%s?by=cli", mac, op);

	/* mac is a formatted MAC and op one of ops[]: this never cuts */
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	return ib_cli_api_post(cfg, path);
}

static int usage(void)
{
	fprintf(stderr, "usage: ironboot power status|on|off|cycle|soft|pxe-once|disk-once "
		"MAC|--all|--state S\n");
	return 2;
}

int ib_cli_power(const struct ib_config *cfg, struct ib_store *store, int argc, char **argv)
{
	static char macs[4096][IB_MACHINE_MAC_STRLEN];
	struct pick p = { .cfg = cfg, .macs = macs, .n_max = IB_ARRAY_SIZE(macs) };
	size_t failed = 0, i;
	uint8_t hw[6];

	if (argc < 3)
		return usage();
	for (i = 0; i < IB_ARRAY_SIZE(ops) && strcmp(argv[1], ops[i]) != 0; i++)
		;
	if (i == IB_ARRAY_SIZE(ops))
		return usage();
	if (strcmp(argv[2], "--all") == 0 && argc == 3) {
		for (size_t k = 0; k < cfg->n_bmcs && p.n < p.n_max; k++)
			ib_mac_format(cfg->bmcs[k].mac, 6, macs[p.n++], IB_MACHINE_MAC_STRLEN);
	} else if (strcmp(argv[2], "--state") == 0 && argc == 4) {
		if ((p.want = ib_lc_state_parse(argv[3])) == IB_LC_NONE) {
			fprintf(stderr, "ironboot: power: no state %s\n", argv[3]);
			return 2;
		}
		if (ib_store_machine_foreach(store, pick_state, &p) < 0) {
			fprintf(stderr, "ironboot: power: cannot read the machines\n");
			return 1;
		}
	} else if (argc == 3 && ib_mac_parse(argv[2], hw) == 0) {
		ib_mac_format(hw, 6, macs[p.n++], IB_MACHINE_MAC_STRLEN);
	} else {
		return usage();
	}
	if (p.n == 0)
		fprintf(stderr, "ironboot: power: no machine with a BMC entry matches\n");
	for (i = 0; i < p.n; i++)
		failed += run_one(cfg, argv[1], macs[i]) != 0;
	if (failed)
		fprintf(stderr, "ironboot: power %s: %zu of %zu failed\n", argv[1], failed, p.n);
	return failed ? 1 : 0;
}
