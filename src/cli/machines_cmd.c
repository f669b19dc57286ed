/*
 * ironboot machines: the inventory's machines and the lifecycle's.
 *
 *   ironboot [--json] machines [list] [--state S]   every machine: the
 *        config's and the API's (STATE "-": they netboot as their group
 *        says) and the lifecycle's, from the store
 *   ironboot machines show MAC             the lifecycle row and report, or
 *                                          the inventory object
 *   ironboot machines accept|release|retire|reset MAC
 *   ironboot machines allocate [PROFILE] MAC  through the daemon's API
 *
 * Reads come from the store; moves go through the running daemon (POST
 * /api/v1/machines/MAC/<verb>?by=cli), which applies the lifecycle's
 * table with compare-and-set and journals the CLI as the cause.
 */
#include "cli/machines_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/inventory_cmd.h"
#include "common/util.h"
#include "inventory/inventory_json.h"
#include "inventory/lifecycle.h"

/* The machine's last power state and error (docs/POWER.md), or null. */
static json_t *power_json(struct ib_store *store, const char *mac)
{
	struct ib_power_row row;

	if (!mac || ib_store_power_get(store, mac, &row) < 0)
		return json_null();
	return ib_power_row_json(&row);
}

/* Adds "power" to every row of rows. */
static void add_power(struct ib_store *store, json_t *rows)
{
	size_t i;
	json_t *o;

	json_array_foreach(rows, i, o)
		json_object_set_new(o, "power", power_json(store,
				    json_string_value(json_object_get(o, "mac"))));
}

/* The POWER column: the state, "!" after it when the last operation
 * failed, "-" without a BMC row. */
static void power_cell(const json_t *o, char *out, size_t cap)
{
	const json_t *p = json_object_get(o, "power");
	const char *st = json_string_value(json_object_get(p, "state"));

	snprintf(out, cap, "%s%s", st ? st : "-",
		 json_is_string(json_object_get(p, "error")) ? "!" : "");
}

/* A listing being gathered. */
struct listing {
	json_t *rows;			/* the JSON rows */
	enum ib_lc_state want;		/* --state, or IB_LC_NONE for all */
	bool filter;			/* --state was given */
};

static int add_lc(const struct ib_machine_state *m, void *ctx)
{
	struct listing *l = ctx;

	if (l->filter && m->state != (int)l->want)
		return 0;
	return json_array_append_new(l->rows, ib_lifecycle_json(m, NULL)) < 0 ? -ENOMEM : 0;
}

static void print_rows(const json_t *rows)
{
	char safe[4 * 80], power[16];
	size_t i;
	json_t *o;

	printf("%-17s  %-10s  %-9s  %-8s  %s\n", "MAC", "STATE", "SOURCE", "POWER",
	       "PROFILE / HOSTNAME");
	json_array_foreach(rows, i, o) {
		const char *what = json_string_value(json_object_get(o, "profile"));
		const char *state = json_string_value(json_object_get(o, "state"));

		power_cell(o, power, sizeof(power));
		if (!what)
			what = json_string_value(json_object_get(o, "hostname"));
		/* stored strings are escaped before they reach the terminal */
		ib_str_sanitize((const uint8_t *)(what ? what : "-"), strlen(what ? what : "-"),
				safe, sizeof(safe));
		printf("%-17s  %-10s  %-9s  %-8s  %s\n", json_string_value(json_object_get(o, "mac")),
		       state ? state : "-", state ? "lifecycle" :
		       json_string_value(json_object_get(o, "source")), power, safe);
	}
}

static int cmd_list(const struct ib_config *cfg, struct ib_store *store, bool json,
		    int argc, char **argv)
{
	struct listing l = { .rows = json_array() };
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			l.filter = true;
			if ((l.want = ib_lc_state_parse(argv[++i])) == IB_LC_NONE &&
			    strcmp(argv[i], "none") != 0) {
				fprintf(stderr, "ironboot: machines: no state %s\n", argv[i]);
				json_decref(l.rows);
				return 2;
			}
		} else if (strcmp(argv[i], "list") != 0 || i != 1) {
			fprintf(stderr, "ironboot: machines [list] [--state S]\n");
			json_decref(l.rows);
			return 2;
		}
	}
	/* the inventory's machines have no lifecycle state: "--state none" */
	for (size_t i = 0; (!l.filter || l.want == IB_LC_NONE) && i < cfg->n_machines; i++)
		json_array_append_new(l.rows, ib_inventory_machine_json(&cfg->machines[i]));
	r = ib_store_machine_foreach(store, add_lc, &l);
	if (r < 0) {
		fprintf(stderr, "ironboot: cannot read the machines: %s\n", strerror(-r));
		json_decref(l.rows);
		return 1;
	}
	add_power(store, l.rows);
	if (json) {
		json_dumpf(l.rows, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_rows(l.rows);
	}
	json_decref(l.rows);
	return 0;
}

/* show MAC: the lifecycle row with its report; else the inventory's. */
static int cmd_show(const struct ib_config *cfg, struct ib_store *store, int argc,
		    char **argv)
{
	struct ib_machine_state m;
	char mac[IB_MAC_STRLEN], *report = NULL;
	uint8_t hw[6];
	json_t *o;

	if (ib_mac_parse(argv[2], hw) < 0 ||
	    (ib_mac_format(hw, 6, mac, sizeof(mac)), ib_store_machine_get(store, mac, &m) < 0))
		return ib_cli_inventory(cfg, IB_CONFIG_MACHINES, true, argc, argv);
	if (m.has_report && (report = malloc(IB_MACHINE_REPORT_MAX + 1)) &&
	    ib_store_machine_report_get(store, m.id, report, IB_MACHINE_REPORT_MAX + 1) < 0) {
		free(report);
		report = NULL;
	}
	o = ib_lifecycle_json(&m, report);
	free(report);
	if (!o)
		return 1;
	json_object_set_new(o, "power", power_json(store, m.mac));
	/* JSON escapes every stored string: safe for the terminal */
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	putchar('\n');
	json_decref(o);
	return 0;
}

/* A move through the daemon's API. */
static int cmd_move(const struct ib_config *cfg, const char *verb, const char *profile,
		    const char *arg)
{
	char path[256], body[256] = "";
	uint8_t hw[6];
	char mac[IB_MAC_STRLEN];
	json_t *b;

	if (ib_mac_parse(arg, hw) < 0) {
		fprintf(stderr, "ironboot: machines %s: %s is not a MAC address\n", verb, arg);
		return 2;
	}
	ib_mac_format(hw, 6, mac, sizeof(mac));
	snprintf(path, sizeof(path), "machines/%s/%s?by=cli", mac, verb);
	if (profile) {
		b = json_pack("{s:s}", "profile", profile);
		char *s = b ? json_dumps(b, JSON_COMPACT) : NULL;

		json_decref(b);
		if (!s || strlen(s) >= sizeof(body)) {
			free(s);
			fprintf(stderr, "ironboot: machines allocate: profile name too long\n");
			return 2;
		}
		strcpy(body, s);
		free(s);
	}
	return ib_cli_api_post_body(cfg, path, body);
}

int ib_cli_machines(const struct ib_config *cfg, struct ib_store *store, bool json,
		    int argc, char **argv)
{
	static const char *const moves[] = { "accept", "release", "retire", "reset" };
	const char *verb = argc > 1 ? argv[1] : "list";

	if (strcmp(verb, "list") == 0 || strcmp(verb, "--state") == 0)
		return cmd_list(cfg, store, json, argc, argv);
	if (strcmp(verb, "show") == 0 && argc == 3)
		return cmd_show(cfg, store, argc, argv);
	for (size_t i = 0; i < IB_ARRAY_SIZE(moves); i++)
		if (strcmp(verb, moves[i]) == 0) {
			if (argc != 3) {
				fprintf(stderr, "ironboot: usage: machines %s MAC\n", verb);
				return 2;
			}
			return cmd_move(cfg, verb, NULL, argv[2]);
		}
	if (strcmp(verb, "allocate") == 0) {
		if (argc != 3 && argc != 4) {
			fprintf(stderr, "ironboot: usage: machines allocate [PROFILE] MAC\n");
			return 2;
		}
		/* no PROFILE: the daemon takes the group its report matches */
		return argc == 4 ? cmd_move(cfg, verb, argv[2], argv[3]) :
				   cmd_move(cfg, verb, NULL, argv[2]);
	}
	return ib_cli_inventory(cfg, IB_CONFIG_MACHINES, json, argc, argv);
}
