/*
 * libFuzzer target for inventory objects as the store hands them to the
 * loader: profiles, groups and machines in JSON (what the REST API wrote)
 * joined with a config file's own lists by ib_config_load_text_with() and
 * validated as one snapshot.
 *
 * Input: up to 16 objects separated by NUL bytes, each one byte of kind
 * (bits 0-1: profiles, groups, machines, bmcs; the seeds set bit 6 so
 * it is never a NUL), the object's key up to a newline, and its JSON.
 *
 * Properties: a refusal is one line of text; a snapshot has the file's
 * items (from the file) followed by one item per object (from the API);
 * every object shows as JSON (inventory_json.c) and that JSON, as the
 * CLI would put it back, loads again into the same JSON (show, edit, put
 * round-trips); and every machine of the snapshot, and one it does not
 * know, gets a boot plan whose iPXE script renders (starting "#!ipxe") or
 * is refused with a reason.  Any broken property aborts.
 *
 * With FUZZ_INVENTORY_DEBUG set, each refusal is printed to stderr.
 */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "boot/boot_plan.h"
#include "common/util.h"
#include "config/config.h"
#include "inventory/inventory_json.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define OBJS_MAX 16
#define DIR_PREFIX "ib-fuzz-inv-"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The file's inventory: one item of each kind is enough to join with. */
static const char config_fmt[] =
	"server: { state_dir: %1$s/state }\n"
	"dhcp4: { enabled: false }\n"
	"tftp: { enabled: false }\n"
	"http:\n"
	"  listen: [198.18.0.1]\n"
	"  assets: %1$s/assets\n"
	"  templates: %1$s/templates\n"
	"profiles:\n"
	"  - name: linux\n"
	"    kernel: vmlinuz\n"
	"    initrd: [initrd.img]\n"
	"    args: [\"console=ttyS0\", \"host={{hostname}}\"]\n"
	"    configs: [ { name: user-data, template: user-data.yaml, format: yaml } ]\n"
	"    metadata: { distro: debian }\n"
	"  - name: local-disk\n"
	"    boot: local\n"
	"groups:\n"
	"  - name: local\n"
	"    profile: local-disk\n"
	"    selector: { mac: \"52:54:00:00:00:20\" }\n"
	"  - name: default\n"
	"    profile: linux\n"
	"machines:\n"
	"  - mac: \"52:54:00:00:00:10\"\n"
	"    hostname: node10\n"
	"    labels: { rack: r1 }\n";

static char dir[128];
static struct ib_config_text text;
static struct ib_config *file_cfg;	/* the file alone */
static struct ib_tpl_out out;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void cleanup(void)
{
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *rel, const char *s)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs(s, f);
	fclose(f);
}

static void init(void)
{
	const char *parent = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char path[256], err[IB_CONFIG_ERRLEN];
	int n;

	snprintf(dir, sizeof(dir), "%s/" DIR_PREFIX "%ld", parent, (long)getpid());
	cleanup();
	CHECK(mkdir(dir, 0700) == 0);
	atexit(cleanup);
	for (const char *const *d = (const char *const[]){ "state", "assets", "templates", NULL };
	     *d; d++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *d);
		CHECK(mkdir(path, 0700) == 0);
	}
	put("templates/user-data.yaml", "hostname: {{hostname}}\nrole: {{metadata.role}}\n");
	put("templates/ks.cfg", "network --hostname={{hostname}}\n{{#labels.rack}}{{.}}{{/labels.rack}}\n");
	put("templates/custom.ipxe", "#!ipxe\necho {{mac}} {{metadata.role}}\nexit\n");
	n = snprintf(NULL, 0, config_fmt, dir);
	text.name = "fuzz-inventory.yaml";
	CHECK((text.buf = malloc((size_t)n + 1)) != NULL);
	snprintf(text.buf, (size_t)n + 1, config_fmt, dir);
	text.len = (size_t)n;
	if (ib_config_load_text_with(&text, NULL, 0, &file_cfg, err) < 0) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	ib_tpl_out_init(&out, 0);
}

/* Splits the input into objects (strings copied, NUL-terminated). */
static size_t split(const uint8_t *data, size_t size, struct ib_config_object *objs,
		    char *store, size_t cap)
{
	const uint8_t *p = data, *end = data + size;
	size_t n = 0, used = 0;

	while (p < end && n < OBJS_MAX) {
		const uint8_t *rec = memchr(p, '\0', (size_t)(end - p));
		const uint8_t *nl;
		uint8_t kind = *p;

		if (!rec)
			rec = end;
		p = p + 1 < rec ? p + 1 : rec;
		nl = memchr(p, '\n', (size_t)(rec - p));
		if (!nl)
			nl = rec;
		CHECK(used + (size_t)(rec - p) + 2 <= cap);
		objs[n].kind = (enum ib_config_kind)(kind & 3);
		objs[n].name = store + used;
		memcpy(store + used, p, (size_t)(nl - p));
		used += (size_t)(nl - p);
		store[used++] = '\0';
		objs[n].json = store + used;
		if (nl < rec) {
			memcpy(store + used, nl + 1, (size_t)(rec - nl - 1));
			used += (size_t)(rec - nl - 1);
		}
		store[used++] = '\0';
		n++;
		p = rec < end ? rec + 1 : end;
	}
	return n;
}

/* The snapshot's JSON of one item of kind (index i). */
static json_t *item_json(const struct ib_config *cfg, enum ib_config_kind kind, size_t i)
{
	switch (kind) {
	case IB_CONFIG_PROFILES: return ib_inventory_profile_json(&cfg->profiles[i]);
	case IB_CONFIG_GROUPS: return ib_inventory_group_json(&cfg->groups[i]);
	case IB_CONFIG_BMCS: return ib_inventory_bmc_json(&cfg->bmcs[i]);
	default: return ib_inventory_machine_json(&cfg->machines[i]);
	}
}

static size_t count(const struct ib_config *cfg, enum ib_config_kind kind)
{
	return kind == IB_CONFIG_PROFILES ? cfg->n_profiles :
	       kind == IB_CONFIG_GROUPS ? cfg->n_groups :
	       kind == IB_CONFIG_BMCS ? cfg->n_bmcs : cfg->n_machines;
}

static bool is_api(const struct ib_config *cfg, enum ib_config_kind kind, size_t i)
{
	return kind == IB_CONFIG_PROFILES ? cfg->profiles[i].api :
	       kind == IB_CONFIG_GROUPS ? cfg->groups[i].api :
	       kind == IB_CONFIG_BMCS ? cfg->bmcs[i].api : cfg->machines[i].api;
}

/* Drops the null members, at every depth. */
static void strip_nulls(json_t *o)
{
	const char *k;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(o, tmp, k, v) {
		if (json_is_null(v))
			json_object_del(o, k);
		else if (json_is_object(v))
			strip_nulls(v);
	}
}

/* Drops what the API adds on output ("source", "specificity": at the top
 * only; a metadata or label key may be called so too) and the null
 * members, leaving what a client would put. */
static void strip(json_t *o)
{
	json_object_del(o, "source");
	json_object_del(o, "specificity");
	strip_nulls(o);
}

/* Every API item, shown, stripped and put back, shows the same. */
static void check_round_trip(const struct ib_config *cfg)
{
	static struct ib_config_object objs[IB_CONFIG_N_KINDS * OBJS_MAX];
	static char *shown[IB_CONFIG_N_KINDS * OBJS_MAX], *names[IB_CONFIG_N_KINDS * OBJS_MAX];
	char err[IB_CONFIG_ERRLEN];
	struct ib_config *again;
	size_t n = 0, m = 0;

	for (int k = 0; k < IB_CONFIG_N_KINDS; k++)
		for (size_t i = 0; i < count(cfg, (enum ib_config_kind)k); i++) {
			json_t *o;

			if (!is_api(cfg, (enum ib_config_kind)k, i))
				continue;
			CHECK((o = item_json(cfg, (enum ib_config_kind)k, i)) != NULL);
			CHECK((shown[n] = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) != NULL);
			names[n] = strdup(json_string_value(json_object_get(o,
					k == IB_CONFIG_MACHINES || k == IB_CONFIG_BMCS ?
					"mac" : "name")));
			strip(o);
			objs[n] = (struct ib_config_object){ .kind = (enum ib_config_kind)k,
							     .name = names[n] };
			CHECK((objs[n].json = json_dumps(o, JSON_COMPACT)) != NULL);
			json_decref(o);
			n++;
		}
	if (ib_config_load_text_with(&text, objs, n, &again, err) < 0) {
		fprintf(stderr, "round trip refused: %s\n", err);
		abort();
	}
	for (int k = 0; k < IB_CONFIG_N_KINDS; k++)
		for (size_t i = 0; i < count(again, (enum ib_config_kind)k); i++) {
			json_t *o;
			char *s;

			if (!is_api(again, (enum ib_config_kind)k, i))
				continue;
			CHECK(m < n);
			CHECK((o = item_json(again, (enum ib_config_kind)k, i)) != NULL);
			CHECK((s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) != NULL);
			if (strcmp(s, shown[m]) != 0) {
				fprintf(stderr, "shown:  %s\nagain:  %s\n", shown[m], s);
				abort();
			}
			free(s);
			json_decref(o);
			m++;
		}
	CHECK(m == n);
	ib_config_free(again);
	for (size_t i = 0; i < n; i++) {
		free(shown[i]);
		free(names[i]);
		free((char *)objs[i].json);
	}
}

/* A machine's plan and script, as /boot.ipxe and `explain` get them. */
static void check_plan(const struct ib_config *cfg, const char *mac)
{
	char err[IB_BOOT_ERRLEN] = "";
	struct ib_boot_plan plan;
	struct ib_facts f = { .arch = "x86_64", .platform = "efi", .uuid = "u-1" };
	json_t *v;
	int r;

	CHECK(ib_facts_set_mac(&f, mac) == 0);
	CHECK(ib_boot_plan(cfg, &f, &plan) == 0);
	CHECK(!plan.group || plan.profile);
	CHECK(strlen(plan.why) < sizeof(plan.why));
	CHECK((v = ib_boot_values(cfg, &f, &plan)) != NULL);
	r = ib_boot_render_script(cfg, &plan, v, &out, err);
	CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	if (r == 0)
		CHECK(out.len >= 7 && memcmp(out.buf, "#!ipxe\n", 7) == 0);
	else
		CHECK(err[0] != '\0');
	for (size_t i = 0; plan.profile && i < plan.profile->n_configs; i++) {
		r = ib_boot_render_config(cfg, &plan, v, plan.profile->configs[i].name, &out, err);
		CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	}
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ib_config_object objs[OBJS_MAX];
	static char store[2 * (1u << 20)];
	char err[IB_CONFIG_ERRLEN], mac[IB_MAC_STRLEN];
	size_t n, added[IB_CONFIG_N_KINDS] = { 0 };
	struct ib_config *cfg;

	if (!file_cfg)
		init();
	if (size > sizeof(store) - 2 * OBJS_MAX - 2)
		return 0;
	n = split(data, size, objs, store, sizeof(store));
	if (ib_config_load_text_with(&text, objs, n, &cfg, err) < 0) {
		if (getenv("FUZZ_INVENTORY_DEBUG"))
			fprintf(stderr, "refused: %s\n", err);
		CHECK(err[0] != '\0' && !strchr(err, '\n'));
		CHECK(strnlen(err, sizeof(err)) < sizeof(err));
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		added[objs[i].kind]++;
	for (int k = 0; k < IB_CONFIG_N_KINDS; k++) {
		size_t file_n = count(file_cfg, (enum ib_config_kind)k);

		CHECK(count(cfg, (enum ib_config_kind)k) == file_n + added[k]);
		for (size_t i = 0; i < count(cfg, (enum ib_config_kind)k); i++)
			CHECK(is_api(cfg, (enum ib_config_kind)k, i) == (i >= file_n));
	}
	check_round_trip(cfg);
	for (size_t i = 0; i < cfg->n_machines; i++) {
		ib_mac_format(cfg->machines[i].mac, 6, mac, sizeof(mac));
		check_plan(cfg, mac);
	}
	check_plan(cfg, "52:54:00:00:00:99");
	ib_config_free(cfg);
	return 0;
}
