/*
 * Checks of the HTTP boot service across sections (http, profiles, groups,
 * machines), once the whole file is read:
 *
 *   - http: relative directories resolve against the config file's
 *     directory; listen defaults to 0.0.0.0 and ::; base_url defaults to
 *     http://<first listen address that is not a wildcard>:<port> (https
 *     with tls) and is required when every listen address is a wildcard
 *     and HTTP is enabled (a client cannot be sent to 0.0.0.0);
 *   - names of profiles and groups are unique, and so are machine MACs;
 *   - a group's profile exists; its specificity is the number of selector
 *     constraints (each label counts one); there is at most one catch-all
 *     (empty selector), and no two groups of equal specificity have
 *     compatible selectors: when every key both constrain has the same
 *     value, a machine could match both and neither would win.
 */
#include "config/config_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/util.h"

bool ib_cfg_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IB_CFG_NAME_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789._-") == n;
}

/* Bytes iPXE would read as a blank, an expansion or a continuation: never
 * in a URL, an asset path or a kernel arg. */
static bool script_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("${}\\", *s))
			return false;
	return true;
}

static bool is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* A kernel or initrd: an http(s) URL or a path under http.assets. */
static const char *asset_problem(const char *s)
{
	if (!script_safe(s))
		return "may not hold blanks, '$', '{', '}', '\\' or non-ASCII bytes";
	if (is_url(s))
		return NULL;
	if (strstr(s, "://"))
		return "must be an http:// or https:// URL or a path under http.assets";
	if (s[0] == '/' || strcmp(s, "..") == 0 || strncmp(s, "../", 3) == 0 ||
	    strstr(s, "/../") || (strlen(s) >= 3 && strcmp(s + strlen(s) - 3, "/..") == 0))
		return "a path under http.assets must be relative and without '..'";
	if (strpbrk(s, "?#"))
		return "a path under http.assets may not hold '?' or '#'";
	return NULL;
}

int ib_cfg_check_lifecycle(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	struct ib_lifecycle_config *l = obj;
	const char *problem = NULL;

	if (!l->agent_kernel && !(l->agent_kernel = strdup("agent/vmlinuz")))
		return ib_cfg_fail_nomem(w->err);
	if (!l->agent_initrd && !(l->agent_initrd = strdup("agent/initrd.img")))
		return ib_cfg_fail_nomem(w->err);
	/* the agent is served from http.assets: no URL, no '..' */
	if (is_url(l->agent_kernel) || (problem = asset_problem(l->agent_kernel)))
		return ib_cfg_fail_in(w, map, NULL, 0, "agent_kernel", "%s",
				      problem ? problem : "must be a path under http.assets");
	problem = NULL;
	if (is_url(l->agent_initrd) || (problem = asset_problem(l->agent_initrd)))
		return ib_cfg_fail_in(w, map, NULL, 0, "agent_initrd", "%s",
				      problem ? problem : "must be a path under http.assets");
	return 0;
}

/* The host of an http:// URL is an IPv4 literal or a bracketed IPv6 one
 * (docs/AGENT.md: the agent has no resolver). */
static bool url_host_literal(const char *url)
{
	const char *h = url + 7, *e;
	char host[64];
	struct in6_addr a6;
	struct in_addr a4;

	if (*h == '[') {
		e = strchr(h, ']');
		if (!e || (size_t)(e - h - 1) >= sizeof(host))
			return false;
		snprintf(host, sizeof(host), "%.*s", (int)(e - h - 1), h + 1);
		return inet_pton(AF_INET6, host, &a6) == 1;
	}
	e = h + strcspn(h, ":/");
	if ((size_t)(e - h) >= sizeof(host))
		return false;
	snprintf(host, sizeof(host), "%.*s", (int)(e - h), h);
	return inet_pton(AF_INET, host, &a4) == 1;
}

int ib_cfg_check_image(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_profile_image *im = obj;
	size_t n = im->sha256 ? strlen(im->sha256) : 0, d = strlen(im->disk);
	const char *f = im->sha256_file;

	if (strncmp(im->url, "http://", 7) != 0 || !script_safe(im->url) ||
	    !url_host_literal(im->url))
		return ib_cfg_fail_in(w, map, NULL, 0, "url", "must be an http:// URL with an "
				      "IPv4 or [IPv6] address literal (the agent has no resolver)");
	if (!im->sha256 == !f)
		return ib_cfg_fail_in(w, map, NULL, 0, "sha256", "give sha256 or sha256_file "
				      "(exactly one)");
	if (im->sha256 && (n != 64 || strspn(im->sha256, "0123456789abcdefABCDEF") != n))
		return ib_cfg_fail_in(w, map, NULL, 0, "sha256", "must be 64 hex digits");
	/* read under http.assets when the install is handed out: a relative
	 * path that stays there */
	if (f && (!f[0] || f[0] == '/' || strstr(f, "..") || !script_safe(f)))
		return ib_cfg_fail_in(w, map, NULL, 0, "sha256_file", "must be a path under "
				      "http.assets (relative, no '..')");
	if (d == 0 || d > 32 || strspn(im->disk, "abcdefghijklmnopqrstuvwxyz0123456789_-") != d)
		return ib_cfg_fail_in(w, map, NULL, 0, "disk", "must be a disk's kernel name "
				      "([a-z0-9_-], at most 32 bytes)");
	if (im->format && strcmp(im->format, "raw") && strcmp(im->format, "gzip") &&
	    strcmp(im->format, "zstd"))
		return ib_cfg_fail_in(w, map, NULL, 0, "format", "must be raw, gzip or zstd");
	return 0;
}

/* A kernel arg is one word (a template): no blanks, nothing that ends or
 * chains the command line. */
static const char *arg_problem(const char *s)
{
	if (strpbrk(s, " \t\\"))
		return "a kernel arg must be one word (no blanks or '\\')";
	if (s[0] == '#')
		return "a kernel arg may not start with '#' (an iPXE comment)";
	if (strspn(s, "|&;") == strlen(s))
		return "a kernel arg may not be made of '|', '&', ';' only";
	return NULL;
}

static int check_args(struct ib_cfg_walk *w, const struct ib_ynode *map,
		      const struct ib_profile *p)
{
	for (size_t i = 0; i < p->n_args; i++) {
		char terr[IB_TPL_ERRLEN];
		const char *problem = arg_problem(p->args[i]);
		struct ib_tpl *t = NULL;
		int r;

		if (problem)
			return ib_cfg_fail_in(w, map, "args", i, NULL, "%s", problem);
		r = ib_tpl_compile("arg", p->args[i], strlen(p->args[i]), IB_TPL_IPXE, &t, terr);
		ib_tpl_free(t);
		if (r == -ENOMEM)
			return ib_cfg_fail_nomem(w->err);
		if (r < 0)
			return ib_cfg_fail_in(w, map, "args", i, NULL, "template error: %s", terr);
	}
	return 0;
}

int ib_cfg_check_profile(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_profile *p = obj;
	const char *problem;

	if (p->boot == IB_BOOT_KERNEL && !p->kernel && !p->script && !p->image.url)
		return ib_cfg_fail_at(w, map, "missing kernel (or boot: local, or a script)");
	if (p->kernel && (problem = asset_problem(p->kernel)))
		return ib_cfg_fail_in(w, map, NULL, 0, "kernel", "%s", problem);
	for (size_t i = 0; i < p->n_initrd; i++)
		if ((problem = asset_problem(p->initrd[i])))
			return ib_cfg_fail_in(w, map, "initrd", i, NULL, "%s", problem);
	for (size_t i = 0; i < p->n_configs; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->configs[i].name, p->configs[j].name) == 0)
				return ib_cfg_fail_in(w, map, "configs", i, "name",
						      "duplicate config name: also in configs[%zu]", j);
	return check_args(w, map, p);
}

/* ---- http ---- */

/* The directory of the config file, absolute; malloc'ed. */
static char *config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	char cwd[4096], *s;

	if (slash == path)
		return strdup("/");
	if (path[0] == '/')
		return strndup(path, n);
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	if (asprintf(&s, "%s%s%.*s", cwd, n ? "/" : "", (int)n, path) < 0)
		return NULL;
	return s;
}

/* Makes *slot absolute against dir (a NULL *slot becomes dir/dflt). */
static int resolve_dir(const char *dir, char **slot, const char *dflt)
{
	const char *rel = *slot ? *slot : dflt;
	char *s;

	if (rel[0] == '/')
		return 0;
	if (asprintf(&s, "%s/%s", strcmp(dir, "/") ? dir : "", rel) < 0)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

/* 0.0.0.0 or :: in any spelling ("::0", "0::"): parsed, not compared as text. */
static bool is_wildcard(const char *a)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, a, &a4) == 1)
		return a4.s_addr == INADDR_ANY;
	return inet_pton(AF_INET6, a, &a6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a6);
}

/* RFC 3986 3.2.2: an IPv6 literal host is bracketed; a host part with more
 * than one ':' outside brackets is an unbracketed literal. */
static bool host_ok(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	size_t len = strcspn(host, "/");
	size_t colons = 0;

	if (host[0] == '[')
		return memchr(host, ']', len) != NULL;
	for (size_t i = 0; i < len; i++)
		colons += host[i] == ':';
	return colons <= 1;
}

static int http_defaults(struct ib_config *cfg)
{
	struct ib_http_config *h = &cfg->http;
	char *dir;
	int r;

	if (h->n_listen == 0) {
		h->listen = calloc(2, sizeof(*h->listen));
		if (!h->listen)
			return -ENOMEM;
		h->n_listen = 2;
		h->listen[0] = strdup("0.0.0.0");
		h->listen[1] = strdup("::");
		if (!h->listen[0] || !h->listen[1])
			return -ENOMEM;
	}
	dir = config_dir(cfg->path);
	if (!dir)
		return -ENOMEM;
	r = resolve_dir(dir, &h->assets, "assets");
	if (r == 0)
		r = resolve_dir(dir, &h->templates, "templates");
	free(dir);
	return r;
}

static int check_base_url(struct ib_cfg_walk *w, const struct ib_ynode *hmap,
			  struct ib_http_config *h)
{
	size_t n;

	if (h->base_url) {
		if (!is_url(h->base_url) || !script_safe(h->base_url) || strpbrk(h->base_url, "?#"))
			return ib_cfg_fail_in(w, hmap, NULL, 0, "base_url",
					      "expected http://host[:port][/path] without blanks, '?', '#', '$', '{', '}' or '\\'");
		if (!host_ok(h->base_url))
			return ib_cfg_fail_in(w, hmap, NULL, 0, "base_url",
					      "an IPv6 address in a URL goes in brackets: http://[fd00::1]:8080");
		n = strlen(h->base_url);
		while (n > 8 && h->base_url[n - 1] == '/')
			h->base_url[--n] = '\0';
		return 0;
	}
	for (size_t i = 0; i < h->n_listen; i++) {
		const char *a = h->listen[i];

		if (is_wildcard(a))
			continue;
		if (asprintf(&h->base_url, strchr(a, ':') ? "http%s://[%s]:%u" : "http%s://%s:%u",
			     h->tls.cert ? "s" : "", a, h->port) < 0) {
			h->base_url = NULL;
			return ib_cfg_fail_nomem(w->err);
		}
		return 0;
	}
	if (!h->enabled)
		return 0;	/* nothing is served: URLs stay relative */
	return ib_cfg_fail_in(w, hmap, NULL, 0, ib_ynode_get(hmap, "listen") ? "listen" : NULL,
			      "base_url is required when every listen address is a wildcard "
			      "(clients cannot be sent to 0.0.0.0 or ::)");
}

static int check_http(struct ib_cfg_walk *w, const struct ib_ynode *root, struct ib_config *cfg)
{
	const struct ib_ynode *hmap = ib_ynode_get(root, "http");
	size_t mark = w->path_len;
	int r;

	if (http_defaults(cfg) < 0)
		return ib_cfg_fail_nomem(w->err);
	if (!hmap) {
		if (cfg->n_profiles || cfg->n_groups)
			return ib_cfg_fail_in(w, root, "profiles", 0, NULL,
					      "profiles and groups need an http section");
		return 0;
	}
	ib_cfg_path_key(w, "http");
	r = check_base_url(w, hmap, &cfg->http);
	ib_cfg_path_pop(w, mark);
	return r;
}

/* ---- names, groups, machines ---- */

/* The first duplicate name in a list of structs whose first field is the
 * name; its index, or n. */
static size_t find_dup_name(const void *items, size_t n, size_t size, size_t *ret_first)
{
	for (size_t i = 1; i < n; i++) {
		const char *a = *(char *const *)(const void *)((const char *)items + i * size);

		for (size_t j = 0; j < i; j++) {
			const char *b = *(char *const *)(const void *)((const char *)items + j * size);

			if (strcmp(a, b) == 0) {
				*ret_first = j;
				return i;
			}
		}
	}
	return n;
}

static unsigned specificity(const struct ib_selector *s)
{
	return (unsigned)s->has_mac + !!s->uuid + !!s->hostname + !!s->serial + !!s->arch +
	       !!s->platform + (unsigned)s->n_labels + !!s->vendor + !!s->product +
	       !!s->disk_min_gib + !!s->memory_min_gib;
}

/* Both set and different: then no machine matches both selectors. */
static bool differ(const char *a, const char *b, bool nocase)
{
	return a && b && (nocase ? strcasecmp(a, b) : strcmp(a, b)) != 0;
}

static bool selectors_compatible(const struct ib_selector *a, const struct ib_selector *b)
{
	if (a->has_mac && b->has_mac && memcmp(a->mac, b->mac, 6) != 0)
		return false;
	if (differ(a->uuid, b->uuid, true) || differ(a->hostname, b->hostname, true) ||
	    differ(a->serial, b->serial, false) || differ(a->arch, b->arch, false) ||
	    differ(a->platform, b->platform, false) || differ(a->vendor, b->vendor, true) ||
	    differ(a->product, b->product, true))
		return false;	/* (minimum sizes never make two selectors disjoint) */
	for (size_t i = 0; i < a->n_labels; i++)
		for (size_t j = 0; j < b->n_labels; j++)
			if (strcmp(a->labels[i].key, b->labels[j].key) == 0 &&
			    strcmp(a->labels[i].value, b->labels[j].value) != 0)
				return false;
	return true;
}

static int check_overlaps(struct ib_cfg_walk *w, const struct ib_ynode *root,
			  const struct ib_config *cfg)
{
	const struct ib_ynode *list = ib_ynode_get(root, "groups");

	for (size_t i = 1; i < cfg->n_groups; i++) {
		const struct ib_group *g = &cfg->groups[i];

		for (size_t j = 0; j < i; j++) {
			const struct ib_group *o = &cfg->groups[j];
			const struct ib_ynode *on = ib_ynode_item(list, j);

			if (o->specificity != g->specificity ||
			    !selectors_compatible(&g->selector, &o->selector))
				continue;
			if (g->specificity == 0)
				return ib_cfg_fail_in(w, root, "groups", i, NULL,
					"group '%s' is a second catch-all (empty selector) after "
					"group '%s' (%s:%u:%u): at most one default group",
					g->name, o->name, w->err->name, on->line, on->col);
			return ib_cfg_fail_in(w, root, "groups", i, NULL,
				"group '%s' overlaps group '%s' (%s:%u:%u): both have specificity %u "
				"and a machine could match both; make one more specific or "
				"their selectors disjoint", g->name, o->name, w->err->name,
				on->line, on->col, g->specificity);
		}
	}
	return 0;
}

static int check_groups(struct ib_cfg_walk *w, const struct ib_ynode *root,
			struct ib_config *cfg)
{
	size_t first, dup = find_dup_name(cfg->groups, cfg->n_groups, sizeof(*cfg->groups), &first);

	if (dup < cfg->n_groups)
		return ib_cfg_fail_in(w, root, "groups", dup, "name",
				      "duplicate group name: also in groups[%zu]", first);
	for (size_t i = 0; i < cfg->n_groups; i++) {
		struct ib_group *g = &cfg->groups[i];
		size_t k = 0;

		while (k < cfg->n_profiles && strcmp(cfg->profiles[k].name, g->profile) != 0)
			k++;
		if (k == cfg->n_profiles)
			return ib_cfg_fail_in(w, root, "groups", i, "profile",
					      "unknown profile '%s'", g->profile);
		g->profile_idx = k;
		g->specificity = specificity(&g->selector);
	}
	return check_overlaps(w, root, cfg);
}

static int cmp_machine_mac(const void *pa, const void *pb, void *arg)
{
	const struct ib_machine *m = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = memcmp(m[a].mac, m[b].mac, 6);

	return c ? c : (a > b) - (a < b);
}

static int check_machines(struct ib_cfg_walk *w, const struct ib_ynode *root,
			  const struct ib_config *cfg)
{
	/* Quadratic is too slow for 65536 machines: sort indices by MAC. */
	size_t n = cfg->n_machines;
	size_t *idx;
	int r = 0;

	if (n < 2)
		return 0;
	idx = calloc(n, sizeof(*idx));
	if (!idx)
		return ib_cfg_fail_nomem(w->err);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_machine_mac, (void *)cfg->machines);
	for (size_t i = 1; i < n && r == 0; i++) {
		size_t a = idx[i - 1], b = idx[i];

		if (memcmp(cfg->machines[a].mac, cfg->machines[b].mac, 6) == 0)
			r = ib_cfg_fail_in(w, root, "machines", IB_MAX(a, b), "mac",
					   "duplicate mac: also in machines[%zu]", IB_MIN(a, b));
	}
	free(idx);
	return r;
}

int ib_cfg_check_boot(struct ib_cfg_walk *w, const struct ib_ynode *root,
		      struct ib_config *cfg)
{
	size_t first, dup;
	int r = check_http(w, root, cfg);

	if (r < 0)
		return r;
	dup = find_dup_name(cfg->profiles, cfg->n_profiles, sizeof(*cfg->profiles), &first);
	if (dup < cfg->n_profiles)
		return ib_cfg_fail_in(w, root, "profiles", dup, "name",
				      "duplicate profile name: also in profiles[%zu]", first);
	r = check_groups(w, root, cfg);
	if (r == 0)
		r = check_machines(w, root, cfg);
	if (r == 0)
		r = ib_cfg_compile_templates(w, root, cfg);
	return r;
}
