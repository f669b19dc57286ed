/*
 * The configuration snapshot: loading, freeing, lookups (config.h).
 *
 * A load runs in three steps, each its own file: YAML to a node tree that
 * keeps line and column (config_yaml.c), the tree through the key tables
 * into the snapshot (config_schema.c), checks across fields
 * (config_validate.c).  The tree is dropped before the snapshot is handed
 * out.
 */
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "config/config_internal.h"

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n && v; i++)
		free(v[i]);
	free(v);
}

static void free_subnet(struct ib_subnet4 *s)
{
	free(s->pools);
	free(s->routers);
	free(s->dns);
	free(s->ntp);
	free(s->domain_name);
	free_strv(s->domain_search, s->n_domain_search);
	free(s->routes);
	for (size_t i = 0; i < s->n_reservations && s->reservations; i++) {
		free(s->reservations[i].hostname);
		free(s->reservations[i].boot.boot_file);
		free(s->reservations[i].boot.script_url);
	}
	free(s->reservations);
	free(s->relays);
}

static void free_subnet6(struct ib_subnet6 *s)
{
	free(s->interface);
	free(s->pools);
	free(s->dns);
	free_strv(s->domain_search, s->n_domain_search);
	free(s->ntp);
	free(s->relays);
	for (size_t i = 0; i < s->n_reservations && s->reservations; i++) {
		free(s->reservations[i].hostname);
		free(s->reservations[i].boot.boot_file);
		free(s->reservations[i].boot.script_url);
		free_strv(s->reservations[i].bootfile_param, s->reservations[i].n_bootfile_param);
	}
	free(s->reservations);
}

static void free_dhcp6(struct ib_dhcp6_config *d)
{
	free_strv(d->interfaces, d->n_interfaces);
	free(d->relays);
	for (size_t i = 0; i < d->n_subnets && d->subnets; i++)
		free_subnet6(&d->subnets[i]);
	free(d->subnets);
	free_strv(d->ra.interfaces, d->ra.n_interfaces);
}

static void free_boot(struct ib_boot_config *b)
{
	free(b->file_bios);
	free(b->file_efi_x64);
	free(b->file_efi_ia32);
	free(b->file_efi_arm64);
	free(b->http_url_x64);
	free(b->http_url_arm64);
	free(b->ipxe_script_url);
	free(b->ipxe_script_url6);
	free(b->http_url6_x64);
	free(b->http_url6_arm64);
	free_strv(b->bootfile_param6, b->n_bootfile_param6);
}

static void free_kv(struct ib_kv *kv, size_t n)
{
	for (size_t i = 0; i < n && kv; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* free_kv() for secrets: their values are wiped before they are freed. */
static void free_secrets(struct ib_kv *kv, size_t n)
{
	for (size_t i = 0; i < n && kv; i++)
		if (kv[i].value)
			explicit_bzero(kv[i].value, strlen(kv[i].value));
	free_kv(kv, n);
}

static void free_http(struct ib_http_config *h)
{
	free_strv(h->listen, h->n_listen);
	free(h->base_url);
	free(h->assets);
	free(h->templates);
	free(h->api_token_file);
	free(h->tls.cert);
	free(h->tls.key);
}

static void free_profile(struct ib_profile *p)
{
	free(p->image.url);
	free(p->image.sha256);
	free(p->image.sha256_file);
	free(p->image.disk);
	free(p->image.format);
	free(p->name);
	free(p->kernel);
	free_strv(p->initrd, p->n_initrd);
	free_strv(p->args, p->n_args);
	free(p->script);
	for (size_t i = 0; i < p->n_configs && p->configs; i++) {
		free(p->configs[i].name);
		free(p->configs[i].template);
		ib_tpl_free(p->configs[i].tpl);
	}
	free(p->configs);
	free_kv(p->metadata, p->n_metadata);
	free_secrets(p->secrets, p->n_secrets);
	ib_tpl_free(p->script_tpl);
}

static void free_selector(struct ib_selector *s)
{
	free(s->uuid);
	free(s->hostname);
	free(s->serial);
	free(s->arch);
	free(s->platform);
	free_kv(s->labels, s->n_labels);
	free(s->vendor);
	free(s->product);
}

static void free_inventory(struct ib_config *cfg)
{
	for (size_t i = 0; i < cfg->n_profiles && cfg->profiles; i++)
		free_profile(&cfg->profiles[i]);
	free(cfg->profiles);
	for (size_t i = 0; i < cfg->n_groups && cfg->groups; i++) {
		free(cfg->groups[i].name);
		free(cfg->groups[i].profile);
		free_selector(&cfg->groups[i].selector);
		free_kv(cfg->groups[i].metadata, cfg->groups[i].n_metadata);
	}
	free(cfg->groups);
	for (size_t i = 0; i < cfg->n_machines && cfg->machines; i++) {
		struct ib_machine *m = &cfg->machines[i];

		free(m->hostname);
		free(m->uuid);
		free(m->serial);
		free_kv(m->labels, m->n_labels);
		free_kv(m->metadata, m->n_metadata);
		free_secrets(m->secrets, m->n_secrets);
	}
	free(cfg->machines);
	for (size_t i = 0; i < cfg->n_bmcs && cfg->bmcs; i++) {
		struct ib_bmc_config *b = &cfg->bmcs[i];

		free(b->name);
		free(b->address);
		free(b->credential);
		free(b->ca_file);
		free(b->system);
		free_strv(b->ipmi_workarounds, b->n_ipmi_workarounds);
	}
	free(cfg->bmcs);
}

void ib_config_free(struct ib_config *cfg)
{
	if (!cfg)
		return;
	free_http(&cfg->http);
	free(cfg->lifecycle.agent_kernel);
	free(cfg->lifecycle.agent_initrd);
	free(cfg->power.secrets_file);
	free(cfg->power.default_credential);
	free_inventory(cfg);
	free(cfg->path);
	free(cfg->server.state_dir);
	free(cfg->server.store);
	free(cfg->server.store_password_file);
	free(cfg->server.user);
	free(cfg->server.group);
	free_strv(cfg->dhcp4.interfaces, cfg->dhcp4.n_interfaces);
	free(cfg->dhcp4.relays);
	for (size_t i = 0; i < cfg->dhcp4.n_subnets && cfg->dhcp4.subnets; i++)
		free_subnet(&cfg->dhcp4.subnets[i]);
	free(cfg->dhcp4.subnets);
	free_dhcp6(&cfg->dhcp6);
	free_boot(&cfg->boot);
	free(cfg->tftp.root);
	free_strv(cfg->tftp.listen, cfg->tftp.n_listen);
	free(cfg);
}

/* What an operator expects when a key is left out.  Sections that exist
 * add their own (config_schema.c: tftp enabled, subnet lease time, boot
 * files when there is no boot section; config_dhcp6.c: lifetimes). */
static struct ib_config *config_new(const char *name)
{
	struct ib_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return NULL;
	cfg->path = strdup(name);
	cfg->server.state_dir = strdup("/var/lib/ironboot");
	cfg->server.log_level = IB_LOG_INFO;
	cfg->dhcp4.mode = IB_DHCP4_MODE_SERVER;
	cfg->dhcp4.port = 67;			/* RFC 2131 4.1 */
	cfg->dhcp4.client_port = 68;
	cfg->dhcp4.proxy_port = 4011;		/* PXE 2.1 boot server */
	cfg->dhcp4.authoritative = true;
	cfg->dhcp4.offer_hold = 30;
	cfg->dhcp4.decline_hold = 600;
	cfg->dhcp6.port = 547;			/* RFC 8415 7.2 */
	cfg->dhcp6.client_port = 546;
	cfg->dhcp6.rapid_commit = true;		/* RFC 8415 18.3.1 */
	cfg->dhcp6.advertise_hold = 30;
	cfg->dhcp6.decline_hold = 600;
	cfg->dhcp6.default_arch = 7;		/* EFI x64 (RFC 4578 2.1, IANA) */
	cfg->dhcp6.ra.interval = 30;		/* RFC 4861 6.2.1: 4..1800 */
	cfg->dhcp6.ra.managed = true;		/* M: addresses from DHCPv6 */
	cfg->dhcp6.ra.other = true;		/* O: boot URL and DNS too */
	cfg->tftp.root = strdup("/usr/lib/ipxe");
	cfg->tftp.port = 69;			/* RFC 1350 */
	cfg->tftp.max_transfers = 2000;
	cfg->tftp.max_per_client = 16;
	cfg->tftp.timeout_ms = 1000;
	cfg->tftp.max_retries = 5;
	cfg->tftp.max_blksize = 65464;		/* RFC 2348 */
	cfg->tftp.max_windowsize = 64;		/* RFC 7440 */
	cfg->tftp.cache_bytes = 256ull << 20;
	cfg->journal.max_events = 1000000;
	cfg->journal.max_age_days = 30;
	cfg->http.port = 8080;
	cfg->http.max_followers = 8;
	cfg->http.max_followers_per_client = 2;
	cfg->power.poll_interval = 60;
	cfg->power.concurrency = 32;
	cfg->power.off_check_grace = 10;
	cfg->power.off_check_timeout = 120;
	cfg->http.assets = strdup("/var/lib/ironboot/assets");
	if (!cfg->path || !cfg->server.state_dir || !cfg->tftp.root || !cfg->http.assets) {
		ib_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static const char *const kind_names[IB_CONFIG_N_KINDS] = {
	[IB_CONFIG_PROFILES] = "profiles",
	[IB_CONFIG_GROUPS] = "groups",
	[IB_CONFIG_MACHINES] = "machines",
	[IB_CONFIG_BMCS] = "bmcs",
};

const char *ib_config_kind_name(enum ib_config_kind kind)
{
	return kind < IB_CONFIG_N_KINDS ? kind_names[kind] : "?";
}

int ib_config_kind_parse(const char *s, enum ib_config_kind *ret)
{
	for (int k = 0; k < IB_CONFIG_N_KINDS; k++)
		if (strcmp(s, kind_names[k]) == 0) {
			*ret = (enum ib_config_kind)k;
			return 0;
		}
	return -EINVAL;
}

#define ORIGIN_MAX 96		/* "api:machines/aa:bb:cc:dd:ee:ff" and more */

/*
 * An object is stored under its key (a profile or group name, a machine's
 * MAC) and names itself in its body ("name", "mac").  The API writes both
 * alike; a row written otherwise (a hand edit, another writer) would be
 * served under the body's key, where the API could not find it to delete
 * it (fuzz finding 4, docs/FUZZING.md).  Such an object is refused, under
 * its stored key, so the operator sees it and can delete it.  A body
 * without its key, or with a key of the wrong type, is left to the
 * loader, which refuses it with its own reason.
 */
static int check_object_key(const struct ib_cfg_err *oe, const struct ib_config_object *obj,
			    const struct ib_ynode *n)
{
	bool by_mac = obj->kind == IB_CONFIG_MACHINES || obj->kind == IB_CONFIG_BMCS;
	const char *field = by_mac ? "mac" : "name";
	const struct ib_ynode *k = ib_ynode_get(n, field);
	uint8_t a[6], b[6];
	char shown[80];
	bool same;

	if (!k || k->kind != IB_YNODE_SCALAR)
		return 0;
	if (by_mac)
		same = ib_mac_parse(k->str, a) == 0 && ib_mac_parse(obj->name, b) == 0 &&
		       memcmp(a, b, sizeof(a)) == 0;
	else
		same = k->len == strlen(obj->name) && strcmp(k->str, obj->name) == 0;
	if (same)
		return 0;
	ib_cfg_quote(k, shown, sizeof(shown));
	return ib_cfg_fail(oe, k->line, k->col, field,
			   "'%s' differs from the key the object is stored under; "
			   "delete it and store it again", shown);
}

/* Parses the objects and hangs each under its list in root (made when the
 * file was empty).  origins holds n_objs names the nodes point to. */
static int graft_objects(const struct ib_cfg_err *e, struct ib_ynode **root,
			 const struct ib_config_object *objs, size_t n_objs,
			 char (*origins)[ORIGIN_MAX])
{
	if (!*root && n_objs && !(*root = ib_ynode_new_mapping()))
		return ib_cfg_fail_nomem(e);
	for (size_t i = 0; i < n_objs; i++) {
		const char *kind = ib_config_kind_name(objs[i].kind);
		struct ib_cfg_err oe = { .name = origins[i], .buf = e->buf };
		struct ib_ynode *n = NULL;
		int r;

		snprintf(origins[i], ORIGIN_MAX, "api:%s/%s", kind, objs[i].name);
		r = ib_yaml_parse(&oe, objs[i].json, strlen(objs[i].json), &n);
		if (r < 0)
			return r;
		if (!n || n->kind != IB_YNODE_MAPPING) {
			ib_ynode_free(n);
			return ib_cfg_fail(&oe, 1, 1, NULL, "expected a mapping");
		}
		r = check_object_key(&oe, &objs[i], n);
		if (r < 0) {
			ib_ynode_free(n);
			return r;
		}
		ib_ynode_set_origin(n, origins[i]);
		r = ib_ynode_append_to(*root, kind, n);
		if (r < 0) {
			ib_ynode_free(n);
			return r == -ENOMEM ? ib_cfg_fail_nomem(e) :
			       ib_cfg_fail(e, (*root)->line, (*root)->col, kind,
					   "expected a sequence to add API objects to");
		}
	}
	return 0;
}

/* Items past the file's own in each inventory list came from objects. */
static void mark_api_items(struct ib_config *cfg, const size_t n_file[IB_CONFIG_N_KINDS])
{
	for (size_t i = n_file[IB_CONFIG_PROFILES]; i < cfg->n_profiles; i++)
		cfg->profiles[i].api = true;
	for (size_t i = n_file[IB_CONFIG_GROUPS]; i < cfg->n_groups; i++)
		cfg->groups[i].api = true;
	for (size_t i = n_file[IB_CONFIG_MACHINES]; i < cfg->n_machines; i++)
		cfg->machines[i].api = true;
	for (size_t i = n_file[IB_CONFIG_BMCS]; i < cfg->n_bmcs; i++)
		cfg->bmcs[i].api = true;
}

static int load(const char *name, const void *buf, size_t len,
		const struct ib_config_object *objs, size_t n_objs,
		struct ib_config **ret, char *err)
{
	char scratch[IB_CONFIG_ERRLEN];
	struct ib_cfg_err e = { .name = name, .buf = err ? err : scratch };
	size_t n_file[IB_CONFIG_N_KINDS] = { 0 };
	char (*origins)[ORIGIN_MAX] = NULL;
	struct ib_ynode *root = NULL;
	struct ib_config *cfg;
	int r;

	e.buf[0] = '\0';
	if (len > IB_CONFIG_MAX_BYTES) {
		snprintf(e.buf, IB_CONFIG_ERRLEN, "%s: file is too large (%zu bytes, at most %u)",
			 name, len, IB_CONFIG_MAX_BYTES);
		return -EFBIG;
	}
	cfg = config_new(name);
	if (!cfg)
		return ib_cfg_fail_nomem(&e);
	if (n_objs && !(origins = calloc(n_objs, sizeof(*origins)))) {
		ib_config_free(cfg);
		return ib_cfg_fail_nomem(&e);
	}
	r = ib_yaml_parse(&e, buf, len, &root);
	for (int k = 0; r == 0 && k < IB_CONFIG_N_KINDS; k++) {
		const struct ib_ynode *seq = ib_ynode_get(root, kind_names[k]);

		n_file[k] = seq && seq->kind == IB_YNODE_SEQUENCE ? seq->n_items : 0;
	}
	if (r == 0)
		r = graft_objects(&e, &root, objs, n_objs, origins);
	if (r == 0)
		r = ib_cfg_apply(&e, root, cfg);
	ib_ynode_free(root);
	free(origins);
	if (r < 0) {
		ib_config_free(cfg);
		return r;
	}
	mark_api_items(cfg, n_file);
	*ret = cfg;
	return 0;
}

int ib_config_load_buffer(const char *name, const void *buf, size_t len,
			  struct ib_config **ret, char *err)
{
	return load(name, buf, len, NULL, 0, ret, err);
}

/* Reads at most IB_CONFIG_MAX_BYTES + 1 bytes: one more says "too large". */
static int read_file(int fd, char **ret_buf, size_t *ret_len)
{
	size_t cap = 64 << 10, len = 0;
	char *buf = NULL;

	for (;;) {
		char *nbuf;
		ssize_t n;

		if (len == cap)
			cap = IB_MIN(cap * 2, (size_t)IB_CONFIG_MAX_BYTES + 1);
		nbuf = realloc(buf, cap);
		if (!nbuf) {
			free(buf);
			return -ENOMEM;
		}
		buf = nbuf;
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		len += (size_t)n;
		if (n == 0 || len > IB_CONFIG_MAX_BYTES)
			break;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int ib_config_read(const char *path, struct ib_config_text *ret, char *err)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		snprintf(err, IB_CONFIG_ERRLEN, "%s: %s", path, strerror(-r));
		return r;
	}
	r = read_file(fd, &buf, &len);
	close(fd);
	if (r < 0) {
		snprintf(err, IB_CONFIG_ERRLEN, "%s: %s", path, strerror(-r));
		return r;
	}
	*ret = (struct ib_config_text){ .name = path, .buf = buf, .len = len };
	return 0;
}

int ib_config_load_text_with(const struct ib_config_text *t,
			     const struct ib_config_object *objs, size_t n_objs,
			     struct ib_config **ret, char *err)
{
	return load(t->name, t->buf, t->len, objs, n_objs, ret, err);
}

int ib_config_load_with(const char *path, const struct ib_config_object *objs,
			size_t n_objs, struct ib_config **ret, char *err)
{
	char scratch[IB_CONFIG_ERRLEN];
	struct ib_config_text t;
	int r;

	if (!err)
		err = scratch;
	r = ib_config_read(path, &t, err);
	if (r < 0)
		return r;
	r = ib_config_load_text_with(&t, objs, n_objs, ret, err);
	free(t.buf);
	return r;
}

int ib_config_load(const char *path, struct ib_config **ret, char *err)
{
	return ib_config_load_with(path, NULL, 0, ret, err);
}

const struct ib_subnet4 *ib_config_subnet_for(const struct ib_config *cfg, uint32_t addr)
{
	/* Subnets are disjoint (validated), so the first match is the only one. */
	for (size_t i = 0; i < cfg->dhcp4.n_subnets; i++) {
		const struct ib_subnet4 *s = &cfg->dhcp4.subnets[i];

		if ((addr & s->mask) == s->network)
			return s;
	}
	return NULL;
}

const struct ib_subnet6 *ib_config_subnet6_for(const struct ib_config *cfg,
					       const uint8_t addr[16])
{
	/* Disjoint as well (validated): the first match is the only one. */
	for (size_t i = 0; i < cfg->dhcp6.n_subnets; i++) {
		const struct ib_subnet6 *s = &cfg->dhcp6.subnets[i];

		if (ib_addr_in_prefix(addr, s->prefix, s->prefix_len))
			return s;
	}
	return NULL;
}

const struct ib_bmc_config *ib_config_bmc_for(const struct ib_config *cfg,
					      const uint8_t mac[6])
{
	for (size_t i = 0; i < cfg->n_bmcs; i++)
		if (memcmp(cfg->bmcs[i].mac, mac, 6) == 0)
			return &cfg->bmcs[i];
	return NULL;
}
