/*
 * The boot decision of the HTTP boot service (boot_plan.h): selection of
 * a group by its selector, the template context, and the renders of the
 * iPXE script and install configs.  Pure: the snapshot's compiled
 * templates, jansson values, no I/O.
 */
#include "boot/boot_plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* No group and no default: say so, and leave to the next boot device. */
static const char no_group_script[] =
	"#!ipxe\n"
	"echo ironboot: no group matches this machine (mac {{mac}}) and there is no default group\n"
	"echo ironboot: leaving iPXE, the firmware boots the next device\n"
	"exit\n";

/*
 * The script of a profile that boots a kernel with no script of its own.
 * Each initrd is fetched under an explicit image name, and the kernel line
 * names every one as "initrd=<name>": an iPXE without LoadFile2 initrd
 * support (Debian 12's ipxe.efi, 1.0.0+git-20190125) hands initrds to a
 * Linux EFI stub only as the files the command line names; without them
 * the kernel boots with no initramfs ("VFS: Unable to mount root fs").
 * BIOS kernels ignore the argument.  A profile whose args already name an
 * initrd= gets none added.  The first two lines are config_tpl.c's
 * built-in head, which still compiles the args at load so that a syntax
 * error fails the load.
 */
#define KERNEL_HEAD "#!ipxe\necho ironboot: mac {{mac}} group {{group}} profile {{profile}}\n"
#define KERNEL_INITRD_ARGS "{{#initrds}} initrd={{name}}{{/initrds}}"
#define KERNEL_TAIL "\n{{#initrds}}\ninitrd --name {{name}} {{url}}\n{{/initrds}}\nboot\n"

/* The facts selection and templates see: inventory over request. */
struct merged {
	const char *mac;		/* normal form, or NULL */
	const char *uuid;		/* machine entry's, else the request's */
	const char *hostname;		/* the same */
	const char *serial;		/* the same */
	const char *arch;		/* the request's */
	const char *platform;		/* the request's */
	const struct ib_hw_facts *hw;	/* the lifecycle's report, or NULL */
	const struct ib_machine *m;	/* inventory entry, or NULL */
};

int ib_facts_set_mac(struct ib_facts *f, const char *s)
{
	uint8_t mac[6];

	if (strlen(s) != 17 || ib_mac_parse(s, mac) < 0)
		return -EINVAL;
	ib_mac_format(mac, 6, f->mac, sizeof(f->mac));
	return 0;
}

static const struct ib_machine *find_machine(const struct ib_config *cfg, const char *mac)
{
	uint8_t m[6];

	if (!mac || ib_mac_parse(mac, m) < 0)
		return NULL;
	for (size_t i = 0; i < cfg->n_machines; i++)
		if (memcmp(cfg->machines[i].mac, m, 6) == 0)
			return &cfg->machines[i];
	return NULL;
}

static void merge(const struct ib_config *cfg, const struct ib_facts *f, struct merged *ret)
{
	const struct ib_machine *m = find_machine(cfg, f->mac[0] ? f->mac : NULL);

	*ret = (struct merged){
		.mac = f->mac[0] ? f->mac : NULL,
		.uuid = m && m->uuid ? m->uuid : f->uuid,
		.hostname = m && m->hostname ? m->hostname : f->hostname,
		.serial = m && m->serial ? m->serial : f->serial,
		.arch = f->arch, .platform = f->platform, .hw = f->hw, .m = m,
	};
}

static const char *kv_get(const struct ib_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].value;
	return NULL;
}

/* A constraint want (NULL: none) holds for have. */
static bool holds(const char *want, const char *have, bool nocase)
{
	if (!want)
		return true;
	return have && (nocase ? strcasecmp(want, have) : strcmp(want, have)) == 0;
}

#define GIB ((uint64_t)1 << 30)

/* The hardware constraints of s hold (none set: true; set and no report:
 * false). */
static bool hw_holds(const struct ib_selector *s, const struct ib_hw_facts *hw)
{
	if (!s->vendor && !s->product && !s->disk_min_gib && !s->memory_min_gib)
		return true;
	return hw && holds(s->vendor, hw->vendor[0] ? hw->vendor : NULL, true) &&
	       holds(s->product, hw->product[0] ? hw->product : NULL, true) &&
	       hw->disk_max_bytes >= s->disk_min_gib * GIB &&
	       hw->memory_bytes >= s->memory_min_gib * GIB;
}

static bool selector_matches(const struct ib_selector *s, const struct merged *mf)
{
	if (s->has_mac) {
		uint8_t mac[6];

		if (!mf->mac || ib_mac_parse(mf->mac, mac) < 0 || memcmp(mac, s->mac, 6) != 0)
			return false;
	}
	if (!holds(s->uuid, mf->uuid, true) || !holds(s->hostname, mf->hostname, true) ||
	    !holds(s->serial, mf->serial, false) || !holds(s->arch, mf->arch, false) ||
	    !holds(s->platform, mf->platform, false) || !hw_holds(s, mf->hw))
		return false;
	for (size_t i = 0; i < s->n_labels; i++) {
		const char *v = mf->m ? kv_get(mf->m->labels, mf->m->n_labels, s->labels[i].key) : NULL;

		if (!v || strcmp(v, s->labels[i].value) != 0)
			return false;
	}
	return true;
}

/* Appends "key=value" to why, comma separated; truncates quietly. */
static void why_add(char *why, const char *key, const char *value)
{
	size_t n = strlen(why);

	if (value && n < IB_BOOT_WHY_LEN)
		snprintf(why + n, IB_BOOT_WHY_LEN - n, "%s%s=%s", n ? ", " : "", key, value);
}

static void explain_group(const struct ib_group *g, char *out)
{
	const struct ib_selector *s = &g->selector;
	char why[IB_BOOT_WHY_LEN] = "", mac[IB_BOOT_MAC_STRLEN], key[IB_BOOT_WHY_LEN];
	char num[16];

	if (s->has_mac) {
		ib_mac_format(s->mac, 6, mac, sizeof(mac));
		why_add(why, "mac", mac);
	}
	why_add(why, "uuid", s->uuid);
	why_add(why, "hostname", s->hostname);
	why_add(why, "serial", s->serial);
	why_add(why, "arch", s->arch);
	why_add(why, "platform", s->platform);
	for (size_t i = 0; i < s->n_labels; i++) {
		snprintf(key, sizeof(key), "labels.%s", s->labels[i].key);
		why_add(why, key, s->labels[i].value);
	}
	why_add(why, "vendor", s->vendor);
	why_add(why, "product", s->product);
	if (s->disk_min_gib) {
		snprintf(num, sizeof(num), "%u", s->disk_min_gib);
		why_add(why, "disk_min_gib", num);
	}
	if (s->memory_min_gib) {
		snprintf(num, sizeof(num), "%u", s->memory_min_gib);
		why_add(why, "memory_min_gib", num);
	}
	snprintf(out, IB_BOOT_WHY_LEN, "group %s (%s; specificity %u)", g->name, why,
		 g->specificity);
}

static bool fact_ok(const char *s)
{
	return !s || strlen(s) <= IB_BOOT_FACT_MAX;
}

int ib_boot_plan(const struct ib_config *cfg, const struct ib_facts *f,
		 struct ib_boot_plan *ret)
{
	const struct ib_group *best = NULL;
	struct merged mf;

	if (!fact_ok(f->uuid) || !fact_ok(f->hostname) || !fact_ok(f->serial) ||
	    !fact_ok(f->arch) || !fact_ok(f->platform))
		return -EINVAL;
	merge(cfg, f, &mf);
	/* Equal specificities never both match (config load): first is only. */
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const struct ib_group *g = &cfg->groups[i];

		if ((!best || g->specificity > best->specificity) &&
		    selector_matches(&g->selector, &mf))
			best = g;
	}
	*ret = (struct ib_boot_plan){ .group = best, .machine = mf.m };
	if (!best) {
		snprintf(ret->why, sizeof(ret->why), "no group matched and no default");
		return 0;
	}
	ret->profile = &cfg->profiles[best->profile_idx];
	if (best->specificity == 0)
		snprintf(ret->why, sizeof(ret->why), "no group matched; default group %s",
			 best->name);
	else
		explain_group(best, ret->why);
	return 0;
}

/* ---- values ---- */

/* Sets key to s (NULL: null).  A string that is not UTF-8 is sanitised to
 * \xNN escapes, which every script context refuses anyway. */
static int set_str(json_t *o, const char *key, const char *s)
{
	json_t *v;

	if (!s)
		return json_object_set_new(o, key, json_null());
	v = json_string(s);
	if (!v) {
		char buf[IB_BOOT_FACT_MAX * 4 + 1];

		ib_str_sanitize((const uint8_t *)s, strlen(s), buf, sizeof(buf));
		v = json_string(buf);
	}
	return json_object_set_new(o, key, v);
}

/* An asset reference as a URL: URLs as they are, paths under base_url/assets. */
static int set_url(json_t *o, const char *key, const char *base, const char *ref)
{
	char *url;
	int r;

	if (!ref || strncmp(ref, "http://", 7) == 0 || strncmp(ref, "https://", 8) == 0)
		return set_str(o, key, ref);
	if (asprintf(&url, "%s/assets/%s", base ? base : "", ref) < 0)
		return -1;
	r = set_str(o, key, url);
	free(url);
	return r;
}

/* Adds kv to object o, replacing keys o already has. */
static int merge_kv(json_t *o, const struct ib_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set_str(o, kv[i].key, kv[i].value) < 0)
			return -1;
	return 0;
}

/*
 * The image name of p's initrd i, malloc'ed (NULL: ENOMEM): the last
 * segment of its path, query and fragment left out (the name iPXE would
 * pick itself); "initrd<i>" when that is empty; "<i>-<name>" when an
 * earlier item of items has the name (iPXE looks names up ignoring case).
 */
static char *initrd_name(const struct ib_profile *p, size_t i, const json_t *items)
{
	const char *ref = p->initrd[i];
	size_t end = strcspn(ref, "?#"), start = end, k;
	json_t *it;
	char *name;

	while (start > 0 && ref[start - 1] != '/')
		start--;
	if (start == end)
		return asprintf(&name, "initrd%zu", i) < 0 ? NULL : name;
	name = strndup(ref + start, end - start);
	json_array_foreach(items, k, it) {
		const char *other = json_string_value(json_object_get(it, "name"));

		if (name && other && strcasecmp(other, name) == 0) {
			char *unique;

			if (asprintf(&unique, "%zu-%s", i, name) < 0)
				unique = NULL;
			free(name);
			return unique;
		}
	}
	return name;
}

/* Appends p's initrd i to urls (its URL) and to items ({url, name}). */
static int add_initrd(json_t *urls, json_t *items, const char *base,
		      const struct ib_profile *p, size_t i)
{
	json_t *it = json_object();
	char *name = it ? initrd_name(p, i, items) : NULL;
	int r = name ? set_url(it, "url", base, p->initrd[i]) : -1;

	r = r ? r : set_str(it, "name", name);
	r = r ? r : json_array_append(urls, json_object_get(it, "url"));
	r = r ? r : json_array_append(items, it);
	free(name);
	json_decref(it);
	return r;
}

static int add_profile_values(json_t *v, const struct ib_config *cfg,
			      const struct ib_boot_plan *plan)
{
	const struct ib_profile *p = plan->profile;
	json_t *meta = json_object(), *urls = json_array(), *items = json_array();
	int r = meta && urls && items ? 0 : -1;

	if (p && r == 0) {
		r = merge_kv(meta, p->metadata, p->n_metadata);
		for (size_t i = 0; i < p->n_initrd && r == 0; i++)
			r = add_initrd(urls, items, cfg->http.base_url, p, i);
	}
	if (plan->group && r == 0)
		r = merge_kv(meta, plan->group->metadata, plan->group->n_metadata);
	if (plan->machine && r == 0)
		r = merge_kv(meta, plan->machine->metadata, plan->machine->n_metadata);
	if (r == 0)
		r = set_url(v, "kernel_url", cfg->http.base_url, p ? p->kernel : NULL);
	r = r ? r : json_object_set(v, "metadata", meta);
	r = r ? r : json_object_set(v, "initrd_urls", urls);
	r = r ? r : json_object_set(v, "initrds", items);
	json_decref(meta);
	json_decref(urls);
	json_decref(items);
	return r;
}

json_t *ib_boot_values(const struct ib_config *cfg, const struct ib_facts *f,
		       const struct ib_boot_plan *plan)
{
	json_t *v = json_object(), *labels = json_object();
	struct merged mf;
	int r = v && labels ? 0 : -1;

	merge(cfg, f, &mf);
	r = r ? r : set_str(v, "mac", mf.mac);
	r = r ? r : set_str(v, "uuid", mf.uuid);
	r = r ? r : set_str(v, "hostname", mf.hostname);
	r = r ? r : set_str(v, "serial", mf.serial);
	r = r ? r : set_str(v, "arch", mf.arch);
	r = r ? r : set_str(v, "platform", mf.platform);
	r = r ? r : set_str(v, "base_url", cfg->http.base_url);
	r = r ? r : set_str(v, "group", plan->group ? plan->group->name : NULL);
	r = r ? r : set_str(v, "profile", plan->profile ? plan->profile->name : NULL);
	if (r == 0 && plan->machine)
		r = merge_kv(labels, plan->machine->labels, plan->machine->n_labels);
	r = r ? r : json_object_set(v, "labels", labels);
	r = r ? r : add_profile_values(v, cfg, plan);
	json_decref(labels);
	if (r) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int ib_boot_values_add_private(json_t *v, const struct ib_boot_plan *plan, const char *token)
{
	const char *mac = json_string_value(json_object_get(v, "mac"));
	json_t *secrets = json_object();
	char *query = NULL;
	int r = secrets ? 0 : -1;

	if (r == 0 && token && mac && asprintf(&query, "mac=%s&token=%s", mac, token) < 0)
		r = -1;
	if (r == 0 && plan->profile)
		r = merge_kv(secrets, plan->profile->secrets, plan->profile->n_secrets);
	if (r == 0 && plan->machine)
		r = merge_kv(secrets, plan->machine->secrets, plan->machine->n_secrets);
	r = r ? r : set_str(v, "token", token);
	r = r ? r : set_str(v, "machine_query", query);
	r = r ? r : json_object_set(v, "secrets", secrets);
	free(query);
	json_decref(secrets);
	return r ? -ENOMEM : 0;
}

/* ---- renders ---- */

static int render(const struct ib_tpl *t, const json_t *values, struct ib_tpl_out *out,
		  char *err)
{
	int r = ib_tpl_render(t, values, out);

	if (r < 0)
		snprintf(err, IB_BOOT_ERRLEN, "%s", out->err[0] ? out->err : strerror(-r));
	return r;
}

/* iPXE's script magic: "#!ipxe" and then a blank or the end of the line. */
static bool ipxe_magic(const struct ib_tpl_out *out)
{
	return out->len >= 7 && memcmp(out->buf, "#!ipxe", 6) == 0 &&
	       strchr(" \t\r\n", out->buf[6]);
}

/* The source of kernel profile p's script (top of the file), malloc'ed. */
static char *kernel_source(const struct ib_profile *p)
{
	size_t len = sizeof(KERNEL_HEAD) + sizeof(KERNEL_INITRD_ARGS) + sizeof(KERNEL_TAIL) + 32;
	bool named = false;
	char *s, *e;

	for (size_t i = 0; i < p->n_args; i++) {
		len += strlen(p->args[i]) + 1;
		named |= strncmp(p->args[i], "initrd=", 7) == 0;
	}
	s = malloc(len);
	if (!s)
		return NULL;
	e = s + sprintf(s, "%skernel {{kernel_url}}", KERNEL_HEAD);
	for (size_t i = 0; i < p->n_args; i++)
		e += sprintf(e, " %s", p->args[i]);
	sprintf(e, "%s%s", named ? "" : KERNEL_INITRD_ARGS, KERNEL_TAIL);
	return s;
}

/*
 * The template of plan's script into *ret: the profile's own (custom, or
 * config_tpl.c's built-in for boot: local), or one compiled here into
 * *ret_own for the caller to free (no group; a kernel without a script).
 */
static int script_template(const struct ib_boot_plan *plan, const struct ib_tpl **ret,
			   struct ib_tpl **ret_own, char *err)
{
	const struct ib_profile *p = plan->profile;
	char name[128];
	char *src;
	int r;

	if (p && (p->script || p->boot != IB_BOOT_KERNEL)) {
		*ret = p->script_tpl;
		if (!*ret)
			snprintf(err, IB_BOOT_ERRLEN, "profile %s has no compiled script", p->name);
		return *ret ? 0 : -EINVAL;
	}
	if (!p)
		return ib_tpl_compile("no-group script", no_group_script,
				      sizeof(no_group_script) - 1, IB_TPL_IPXE, ret_own, err);
	src = kernel_source(p);
	if (!src)
		return -ENOMEM;
	snprintf(name, sizeof(name), "built-in script of %s", p->name);
	r = ib_tpl_compile(name, src, strlen(src), IB_TPL_IPXE, ret_own, err);
	free(src);
	return r;
}

int ib_boot_render_script(const struct ib_config *cfg, const struct ib_boot_plan *plan,
			  const json_t *values, struct ib_tpl_out *out, char *err)
{
	struct ib_tpl *own = NULL;
	const struct ib_tpl *t = NULL;
	int r;

	err[0] = '\0';
	r = script_template(plan, &t, &own, err);
	if (r == 0)
		r = render(own ? own : t, values, out, err);
	if (r == 0 && !ipxe_magic(out)) {
		snprintf(err, IB_BOOT_ERRLEN, "script of profile %s does not start with the line "
			 "\"#!ipxe\"", plan->profile ? plan->profile->name : "-");
		out->len = 0;
		r = -EINVAL;
	}
	ib_tpl_free(own);
	return r;
}

int ib_boot_render_config(const struct ib_config *cfg, const struct ib_boot_plan *plan,
			  const json_t *values, const char *name, struct ib_tpl_out *out,
			  char *err)
{
	const struct ib_profile *p = plan->profile;

	err[0] = '\0';
	for (size_t i = 0; p && i < p->n_configs; i++)
		if (strcmp(p->configs[i].name, name) == 0)
			return render(p->configs[i].tpl, values, out, err);
	snprintf(err, IB_BOOT_ERRLEN, "profile %s has no config named by the request",
		 p ? p->name : "(none)");
	return -ENOENT;
}
