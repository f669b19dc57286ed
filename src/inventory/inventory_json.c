/*
 * Inventory objects as JSON: what the REST API answers and `ironboot
 * profiles|groups|machines` prints.  One shape for both, built from the
 * snapshot, with "source": "file" or "api".  Secrets are listed by key
 * only, each value IB_CONFIG_REDACTED (which the loader refuses, so an
 * object read and written back fails instead of losing its secrets);
 * "secrets" is left out when there are none.
 */
#include "inventory/inventory_json.h"

#include <string.h>

#include "common/util.h"

static json_t *kv_json(const struct ib_kv *kv, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, kv[i].key, json_string(kv[i].value));
	return o;
}

/* Adds "secrets": { key: IB_CONFIG_REDACTED ... } to o when there are
 * any; o (may be NULL) is returned, or NULL on ENOMEM. */
static json_t *with_secrets(json_t *o, const struct ib_kv *kv, size_t n)
{
	json_t *red = n ? json_object() : NULL;

	if (!o || !n)
		return o;
	for (size_t i = 0; red && i < n; i++)
		if (json_object_set_new(red, kv[i].key, json_string(IB_CONFIG_REDACTED)) < 0)
			break;
	if (!red || json_object_size(red) != n || json_object_set_new(o, "secrets", red) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *strs_json(char *const *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(s[i]));
	return a;
}

json_t *ib_inventory_profile_json(const struct ib_profile *p)
{
	json_t *configs = json_array();

	for (size_t i = 0; configs && i < p->n_configs; i++)
		json_array_append_new(configs, json_pack("{s:s, s:s, s:s}",
			"name", p->configs[i].name, "template", p->configs[i].template,
			"format", ib_tpl_context_name(p->configs[i].format)));
	return with_secrets(json_pack("{s:s, s:s, s:s, s:s?, s:o, s:o, s:s?, s:o, s:o}",
			 "name", p->name, "source", p->api ? "api" : "file",
			 "boot", p->boot == IB_BOOT_LOCAL ? "local" : "kernel",
			 "kernel", p->kernel, "initrd", strs_json(p->initrd, p->n_initrd),
			 "args", strs_json(p->args, p->n_args), "script", p->script,
			 "configs", configs, "metadata", kv_json(p->metadata, p->n_metadata)),
			    p->secrets, p->n_secrets);
}

static json_t *selector_json(const struct ib_selector *s)
{
	char mac[IB_MAC_STRLEN] = "";

	if (s->has_mac)
		ib_mac_format(s->mac, 6, mac, sizeof(mac));
	json_t *o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o, s:s?, s:s?}",
			      "mac", s->has_mac ? mac : NULL, "uuid", s->uuid,
			      "hostname", s->hostname, "serial", s->serial, "arch", s->arch,
			      "platform", s->platform, "labels", kv_json(s->labels, s->n_labels),
			      "vendor", s->vendor, "product", s->product);

	if (o && s->disk_min_gib)
		json_object_set_new(o, "disk_min_gib", json_integer(s->disk_min_gib));
	if (o && s->memory_min_gib)
		json_object_set_new(o, "memory_min_gib", json_integer(s->memory_min_gib));
	return o;
}

json_t *ib_inventory_group_json(const struct ib_group *g)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "name", g->name,
			 "source", g->api ? "api" : "file", "profile", g->profile,
			 "specificity", (int)g->specificity, "selector", selector_json(&g->selector),
			 "metadata", kv_json(g->metadata, g->n_metadata));
}

json_t *ib_inventory_machine_json(const struct ib_machine *m)
{
	char mac[IB_MAC_STRLEN];

	ib_mac_format(m->mac, 6, mac, sizeof(mac));
	return with_secrets(json_pack("{s:s, s:s, s:s?, s:s?, s:s?, s:o, s:o}", "mac", mac,
			 "source", m->api ? "api" : "file", "hostname", m->hostname,
			 "uuid", m->uuid, "serial", m->serial,
			 "labels", kv_json(m->labels, m->n_labels),
			 "metadata", kv_json(m->metadata, m->n_metadata)),
			    m->secrets, m->n_secrets);
}

json_t *ib_inventory_bmc_json(const struct ib_bmc_config *b)
{
	static const char *const drivers[] = IB_CFG_BMC_DRIVERS;
	char mac[IB_MAC_STRLEN];
	json_t *o;

	ib_mac_format(b->mac, 6, mac, sizeof(mac));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:s, s:i, s:i, s:i, s:o}",
		      "mac", mac, "source", b->api ? "api" : "file", "name", b->name,
		      "driver", drivers[b->driver == IB_BMC_REDFISH], "address", b->address,
		      "credential", b->credential, "cipher_suite", (int)b->cipher_suite,
		      "efi", b->efi, "insecure", b->insecure,
		      "auth", b->auth == 1 ? "basic" : "session", "timeout_ms", (int)b->timeout_ms,
		      "retries", (int)b->retries, "deadline_ms", (int)b->deadline_ms,
		      "ipmi_workarounds", strs_json(b->ipmi_workarounds, b->n_ipmi_workarounds));
	if (o && b->port)
		json_object_set_new(o, "port", json_integer(b->port));
	if (o && b->ca_file)
		json_object_set_new(o, "ca_file", json_string(b->ca_file));
	if (o && b->system)
		json_object_set_new(o, "system", json_string(b->system));
	return o;
}

json_t *ib_inventory_object_json(const struct ib_config *cfg, enum ib_config_kind kind,
			    const char *name)
{
	uint8_t mac[6];

	for (size_t i = 0; kind == IB_CONFIG_PROFILES && i < cfg->n_profiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return ib_inventory_profile_json(&cfg->profiles[i]);
	for (size_t i = 0; kind == IB_CONFIG_GROUPS && i < cfg->n_groups; i++)
		if (strcmp(cfg->groups[i].name, name) == 0)
			return ib_inventory_group_json(&cfg->groups[i]);
	if (kind == IB_CONFIG_MACHINES && ib_mac_parse(name, mac) == 0)
		for (size_t i = 0; i < cfg->n_machines; i++)
			if (memcmp(cfg->machines[i].mac, mac, 6) == 0)
				return ib_inventory_machine_json(&cfg->machines[i]);
	if (kind == IB_CONFIG_BMCS && ib_mac_parse(name, mac) == 0 &&
	    ib_config_bmc_for(cfg, mac))
		return ib_inventory_bmc_json(ib_config_bmc_for(cfg, mac));
	return NULL;
}
