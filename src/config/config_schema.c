/*
 * The schema: one table per YAML mapping, naming each key, the type of its
 * value, the field it fills and its limits (the table types are in
 * config_internal.h; the dhcp6 tables in config_dhcp6.c).  walk_map() reads
 * any mapping through its table; what a table cannot say (a pool's start
 * before its end, defaults that depend on other keys) goes in the section's
 * check.
 */
#include "config/config_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

typedef int field_fn(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		     const struct ib_ynode *v, void *obj);

#define AT(obj, off, type) ((type *)(void *)((char *)(obj) + (off)))

static int walk_map(struct ib_cfg_walk *w, const struct ib_ynode *map,
		    const struct ib_cfg_section *sec, void *obj);

/* ---- scalar fields ---- */

static int read_bool(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		     const struct ib_ynode *v, void *obj)
{
	return ib_cfg_read_bool(w, v, AT(obj, f->off, bool));
}

static int read_int(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		    const struct ib_ynode *v, void *obj)
{
	uint64_t u;
	int r = ib_cfg_read_uint(w, v, f->min, f->max, &u);

	if (r < 0)
		return r;
	if (f->kind == F_U16)
		*AT(obj, f->off, uint16_t) = (uint16_t)u;
	else if (f->kind == F_U32)
		*AT(obj, f->off, uint32_t) = (uint32_t)u;
	else
		*AT(obj, f->off, uint64_t) = u;
	return 0;
}

/* Stores s in the char * at off, freeing a default it replaces. */
static void set_string(void *obj, size_t off, char *s)
{
	char **slot = AT(obj, off, char *);

	free(*slot);
	*slot = s;
}

static int read_string(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		       const struct ib_ynode *v, void *obj)
{
	char *s;
	int r = ib_cfg_read_string(w, v, &s);

	if (r < 0)
		return r;
	if (f->kind == F_ABS_PATH && s[0] != '/') {
		free(s);
		return ib_cfg_fail_at(w, v, "must be an absolute path");
	}
	set_string(obj, f->off, s);
	return 0;
}

static int read_dns_name(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			 const struct ib_ynode *v, void *obj)
{
	char *s;
	int r = ib_cfg_read_dns_name(w, v, &s);

	if (r < 0)
		return r;
	set_string(obj, f->off, s);
	return 0;
}

static int read_ip4(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		    const struct ib_ynode *v, void *obj)
{
	return ib_cfg_read_ip4(w, v, AT(obj, f->off, uint32_t));
}

static int read_cidr(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		     const struct ib_ynode *v, void *obj)
{
	return ib_cfg_read_cidr(w, v, AT(obj, f->off, uint32_t), AT(obj, f->aux, uint8_t));
}

static int read_mac(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		    const struct ib_ynode *v, void *obj)
{
	int r = ib_cfg_read_mac(w, v, AT(obj, f->off, uint8_t));

	if (r == 0)
		*AT(obj, f->aux, bool) = true;
	return r;
}

/* RFC 2132 9.14: a client identifier is at least 2 bytes. */
static int read_client_id(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			  const struct ib_ynode *v, void *obj)
{
	size_t len;
	int r = ib_cfg_read_hex(w, v, 2, IB_CLIENT_ID_MAX, AT(obj, f->off, uint8_t), &len);

	if (r == 0)
		*AT(obj, f->aux, uint8_t) = (uint8_t)len;
	return r;
}

static int read_ip6(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		    const struct ib_ynode *v, void *obj)
{
	int r = ib_cfg_read_ip6(w, v, AT(obj, f->off, uint8_t));

	if (r == 0 && f->kind == F_IP6_SET)
		*AT(obj, f->aux, bool) = true;
	return r;
}

static int read_cidr6(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		      const struct ib_ynode *v, void *obj)
{
	return ib_cfg_read_cidr6(w, v, AT(obj, f->off, uint8_t), AT(obj, f->aux, uint8_t));
}

/* Hex bytes, f->min..f->max of them (a DUID). */
static int read_hex(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		    const struct ib_ynode *v, void *obj)
{
	size_t len;
	int r = ib_cfg_read_hex(w, v, f->min, f->max, AT(obj, f->off, uint8_t), &len);

	if (r == 0)
		*AT(obj, f->aux, uint8_t) = (uint8_t)len;
	return r;
}

static int read_log_level(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			  const struct ib_ynode *v, void *obj)
{
	enum ib_log_level level;
	char *s;
	int r = ib_cfg_read_string(w, v, &s);

	if (r < 0)
		return r;
	r = ib_log_level_parse(s, &level);
	free(s);
	if (r < 0)
		return ib_cfg_fail_at(w, v, "expected err, warning, notice, info or debug");
	*AT(obj, f->off, int) = (int)level;
	return 0;
}

static int read_mode(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		     const struct ib_ynode *v, void *obj)
{
	char *s;
	int r = ib_cfg_read_string(w, v, &s);

	if (r < 0)
		return r;
	if (strcmp(s, "server") == 0)
		*AT(obj, f->off, enum ib_dhcp4_mode) = IB_DHCP4_MODE_SERVER;
	else if (strcmp(s, "proxy") == 0)
		*AT(obj, f->off, enum ib_dhcp4_mode) = IB_DHCP4_MODE_PROXY;
	else
		r = ib_cfg_fail_at(w, v, "expected server or proxy");
	free(s);
	return r;
}

static int read_name(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		     const struct ib_ynode *v, void *obj)
{
	char *s;
	int r = ib_cfg_read_string(w, v, &s);

	if (r < 0)
		return r;
	if (!ib_cfg_name_ok(s)) {
		free(s);
		return ib_cfg_fail_at(w, v, "a name is 1..%d of A-Z a-z 0-9 . _ -",
				      IB_CFG_NAME_MAX);
	}
	set_string(obj, f->off, s);
	return 0;
}

/* Seconds: an integer, or one with a unit (s, m, h) as in "60s". */
static int read_seconds(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			const struct ib_ynode *v, void *obj)
{
	uint64_t u = 0, mul = 1;
	size_t len;

	if (v->kind != IB_YNODE_SCALAR || !v->str || v->len == 0 || v->len > 12 ||
	    v->len != strlen(v->str))
		return ib_cfg_fail_at(w, v, "expected seconds (60, 60s, 5m, 1h)");
	len = v->len;
	switch (v->str[len - 1]) {
	case 's': len--; break;
	case 'm': mul = 60; len--; break;
	case 'h': mul = 3600; len--; break;
	default: break;
	}
	for (size_t i = 0; i < len; i++) {
		if (v->str[i] < '0' || v->str[i] > '9')
			return ib_cfg_fail_at(w, v, "expected seconds (60, 60s, 5m, 1h)");
		u = u * 10 + (uint64_t)(v->str[i] - '0');
	}
	if (len == 0)
		return ib_cfg_fail_at(w, v, "expected seconds (60, 60s, 5m, 1h)");
	if (u * mul < f->min || u * mul > f->max)
		return ib_cfg_fail_at(w, v, "%llu seconds is out of range %llu..%llu",
				      (unsigned long long)(u * mul), (unsigned long long)f->min,
				      (unsigned long long)f->max);
	*AT(obj, f->off, uint32_t) = (uint32_t)(u * mul);
	return 0;
}

static int read_enum(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		     const struct ib_ynode *v, void *obj)
{
	return ib_cfg_read_enum(w, v, f->names, AT(obj, f->off, int));
}

static int read_kv_map(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		       const struct ib_ynode *v, void *obj)
{
	return ib_cfg_read_kv_map(w, v, f->max, AT(obj, f->off, struct ib_kv *),
				  AT(obj, f->aux, size_t));
}

/* A secret's value is never the placeholder API reads print instead of it:
 * an object read back and written again must not replace its secrets. */
static int read_secret_map(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			   const struct ib_ynode *v, void *obj)
{
	const struct ib_kv *kv;
	size_t n;
	int r = read_kv_map(w, f, v, obj);

	kv = *AT(obj, f->off, struct ib_kv *);
	n = *AT(obj, f->aux, size_t);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (strcmp(kv[i].value, IB_CONFIG_REDACTED) == 0)
			r = ib_cfg_fail_in(w, v, NULL, 0, kv[i].key, "%s is what reads print "
					   "instead of a secret; give the value itself",
					   IB_CONFIG_REDACTED);
	return r;
}

/* ---- list fields ---- */

static int read_ip4_list(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			 const struct ib_ynode *v, void *obj)
{
	uint32_t *a;
	int r = ib_cfg_read_seq(w, v, f->max);

	if (r < 0 || v->n_items == 0)
		return r;
	a = calloc(v->n_items, sizeof(*a));
	if (!a)
		return ib_cfg_fail_nomem(w->err);
	*AT(obj, f->off, uint32_t *) = a;
	*AT(obj, f->aux, size_t) = v->n_items;
	for (size_t i = 0; i < v->n_items && r == 0; i++) {
		size_t mark = ib_cfg_path_index(w, i);

		r = ib_cfg_read_ip4(w, v->items[i], &a[i]);
		ib_cfg_path_pop(w, mark);
	}
	return r;
}

static int read_ip6_list(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			 const struct ib_ynode *v, void *obj)
{
	uint8_t (*a)[16];
	int r = ib_cfg_read_seq(w, v, f->max);

	if (r < 0 || v->n_items == 0)
		return r;
	a = calloc(v->n_items, sizeof(*a));
	if (!a)
		return ib_cfg_fail_nomem(w->err);
	memcpy((char *)obj + f->off, &a, sizeof(a));
	*AT(obj, f->aux, size_t) = v->n_items;
	for (size_t i = 0; i < v->n_items && r == 0; i++) {
		size_t mark = ib_cfg_path_index(w, i);

		r = ib_cfg_read_ip6(w, v->items[i], a[i]);
		ib_cfg_path_pop(w, mark);
	}
	return r;
}

/* Linux IFNAMSIZ is 16 with the NUL. */
static int check_ifname(struct ib_cfg_walk *w, const struct ib_ynode *v, const char *s)
{
	if (strlen(s) > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strpbrk(s, "/ \t"))
		return ib_cfg_fail_at(w, v, "'%s' is not an interface name", s);
	return 0;
}

/* A string field that check() must accept. */
static int read_checked(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			const struct ib_ynode *v, void *obj,
			int (*check)(struct ib_cfg_walk *, const struct ib_ynode *, const char *))
{
	char *s;
	int r = ib_cfg_read_string(w, v, &s);

	if (r < 0)
		return r;
	r = check(w, v, s);
	if (r < 0) {
		free(s);
		return r;
	}
	set_string(obj, f->off, s);
	return 0;
}

static int read_ifname(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		       const struct ib_ynode *v, void *obj)
{
	return read_checked(w, f, v, obj, check_ifname);
}

/*
 * server.store: "sqlite" or a libpq URI (postgresql:// or postgres://).
 * The password never sits in the YAML (a config is read by the CLI, kept
 * in backups, shown by the REST API): a URI whose user part has
 * ":password" or whose query has password= is refused.
 */
static int check_store(struct ib_cfg_walk *w, const struct ib_ynode *v, const char *s)
{
	const char *auth, *end, *at, *q;
	bool pw;

	if (strcmp(s, "sqlite") == 0)
		return 0;
	if (strncmp(s, "postgresql://", 13) == 0)
		auth = s + 13;
	else if (strncmp(s, "postgres://", 11) == 0)
		auth = s + 11;
	else
		return ib_cfg_fail_at(w, v, "must be sqlite or a postgresql:// URI");
	end = auth + strcspn(auth, "/?");
	at = memrchr(auth, '@', (size_t)(end - auth));
	pw = at && memchr(auth, ':', (size_t)(at - auth));

	for (q = strchr(s, '?'); q && !pw; q = strchr(q + 1, '&'))
		pw = strncmp(q + 1, "password=", 9) == 0;
	if (pw)
		return ib_cfg_fail_at(w, v, "the URI carries a password: put it in "
				      "server.store_password_file (or PGPASSFILE), never "
				      "in the config");
	return 0;
}

static int read_store(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
		      const struct ib_ynode *v, void *obj)
{
	return read_checked(w, f, v, obj, check_store);
}

static int check_listen(struct ib_cfg_walk *w, const struct ib_ynode *v, const char *s)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return 0;
	return ib_cfg_fail_at(w, v, "'%s' is not an IPv4 or IPv6 address", s);
}

static int read_list_item(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			  const struct ib_ynode *v, char **ret)
{
	int r;

	if (f->kind == F_DNS_LIST)
		return ib_cfg_read_dns_name(w, v, ret);
	r = ib_cfg_read_string(w, v, ret);
	if (r < 0 || f->kind == F_STRING_LIST)
		return r;
	return f->kind == F_IFNAME_LIST ? check_ifname(w, v, *ret) : check_listen(w, v, *ret);
}

static int read_string_list(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			    const struct ib_ynode *v, void *obj)
{
	char **a;
	int r = ib_cfg_read_seq(w, v, f->max);

	if (r < 0 || v->n_items == 0)
		return r;
	a = calloc(v->n_items, sizeof(*a));
	if (!a)
		return ib_cfg_fail_nomem(w->err);
	*AT(obj, f->off, char **) = a;
	*AT(obj, f->aux, size_t) = v->n_items;
	for (size_t i = 0; i < v->n_items && r == 0; i++) {
		size_t mark = ib_cfg_path_index(w, i);

		r = read_list_item(w, f, v->items[i], &a[i]);
		ib_cfg_path_pop(w, mark);
	}
	return r;
}

static int read_section(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			const struct ib_ynode *v, void *obj)
{
	return walk_map(w, v, f->sub, AT(obj, f->off, char));
}

static int read_map_list(struct ib_cfg_walk *w, const struct ib_cfg_field *f,
			 const struct ib_ynode *v, void *obj)
{
	char *a;
	int r = ib_cfg_read_seq(w, v, f->max);

	if (r < 0 || v->n_items == 0)
		return r;
	a = calloc(v->n_items, f->sub->elem_size);
	if (!a)
		return ib_cfg_fail_nomem(w->err);
	/* The field is a struct ib_<elem> *: store the pointer without an
	 * lvalue of the wrong pointer type. */
	memcpy((char *)obj + f->off, &a, sizeof(a));
	*AT(obj, f->aux, size_t) = v->n_items;
	for (size_t i = 0; i < v->n_items && r == 0; i++) {
		size_t mark = ib_cfg_path_index(w, i);

		r = walk_map(w, v->items[i], f->sub, a + i * f->sub->elem_size);
		ib_cfg_path_pop(w, mark);
	}
	return r;
}

static field_fn *const readers[F_KIND_COUNT] = {
	[F_BOOL] = read_bool, [F_U16] = read_int, [F_U32] = read_int,
	[F_U64] = read_int, [F_STRING] = read_string, [F_ABS_PATH] = read_string,
	[F_DNS_NAME] = read_dns_name, [F_IP4] = read_ip4, [F_CIDR] = read_cidr,
	[F_MAC] = read_mac, [F_CLIENT_ID] = read_client_id,
	[F_LOG_LEVEL] = read_log_level, [F_MODE] = read_mode,
	[F_IP4_LIST] = read_ip4_list, [F_DNS_LIST] = read_string_list,
	[F_IFNAME_LIST] = read_string_list, [F_ADDR_LIST] = read_string_list,
	[F_NAME] = read_name, [F_ENUM] = read_enum, [F_STRING_LIST] = read_string_list,
	[F_KV_MAP] = read_kv_map,
	[F_SECTION] = read_section, [F_MAP_LIST] = read_map_list,
	[F_IP6] = read_ip6, [F_IP6_SET] = read_ip6, [F_CIDR6] = read_cidr6,
	[F_IP6_LIST] = read_ip6_list, [F_HEX] = read_hex, [F_IFNAME] = read_ifname,
	[F_SECRET_MAP] = read_secret_map, [F_SECONDS] = read_seconds,
	[F_STORE] = read_store,
};

/* ---- the mapping walker ---- */

static const struct ib_cfg_field *find_field(const struct ib_cfg_section *sec,
				      const struct ib_ynode *key, size_t *ret_i)
{
	for (size_t i = 0; i < sec->n_fields; i++) {
		if (strlen(sec->fields[i].key) == key->len &&
		    memcmp(sec->fields[i].key, key->str, key->len) == 0) {
			*ret_i = i;
			return &sec->fields[i];
		}
	}
	return NULL;
}

static int unknown_key(struct ib_cfg_walk *w, const struct ib_ynode *key)
{
	char q[256];
	size_t mark;
	int r;

	ib_cfg_quote(key, q, sizeof(q));
	mark = ib_cfg_path_key(w, q);
	r = ib_cfg_fail_at(w, key, "unknown key");
	ib_cfg_path_pop(w, mark);
	return r;
}

/* Reads one key: value pair; seen[] remembers each key for duplicates. */
static int walk_pair(struct ib_cfg_walk *w, const struct ib_cfg_section *sec,
		     const struct ib_ynode *key, const struct ib_ynode *v,
		     void *obj, const struct ib_ynode **seen)
{
	const struct ib_cfg_field *f;
	size_t i, mark;
	int r = 0;

	if (key->kind != IB_YNODE_SCALAR)
		return ib_cfg_fail_at(w, key, "expected a key, got %s", ib_ynode_describe(key));
	f = find_field(sec, key, &i);
	if (!f)
		return unknown_key(w, key);
	mark = ib_cfg_path_key(w, f->key);
	if (seen[i])
		r = ib_cfg_fail_at(w, key, "duplicate key (first at %u:%u)",
				   seen[i]->line, seen[i]->col);
	else if (!ib_ynode_is_null(v))
		r = readers[f->kind](w, f, v, obj);
	seen[i] = key;
	ib_cfg_path_pop(w, mark);
	return r;
}

static int check_required(struct ib_cfg_walk *w, const struct ib_ynode *map,
			  const struct ib_cfg_section *sec)
{
	for (size_t i = 0; i < sec->n_fields; i++)
		if (sec->fields[i].required && !ib_ynode_get(map, sec->fields[i].key))
			return ib_cfg_fail_at(w, map, "missing %s", sec->fields[i].key);
	return 0;
}

static int walk_map(struct ib_cfg_walk *w, const struct ib_ynode *map,
		    const struct ib_cfg_section *sec, void *obj)
{
	const struct ib_ynode *seen[IB_CFG_MAX_FIELDS] = { 0 };
	int r = 0;

	if (map->kind != IB_YNODE_MAPPING)
		return ib_cfg_fail_at(w, map, "expected a mapping, got %s",
				      ib_ynode_describe(map));
	if (sec->init)
		sec->init(obj);
	for (size_t i = 0; i + 1 < map->n_items && r == 0; i += 2)
		r = walk_pair(w, sec, map->items[i], map->items[i + 1], obj, seen);
	if (r == 0)
		r = check_required(w, map, sec);
	if (r == 0 && sec->check)
		r = sec->check(w, map, obj);
	return r;
}

/* ---- section checks ---- */

static int pool_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_pool4 *p = obj;
	char a[IB_IP4_STRLEN], b[IB_IP4_STRLEN];

	if (p->start <= p->end)
		return 0;
	ib_ip4_format(p->start, a);
	ib_ip4_format(p->end, b);
	return ib_cfg_fail_at(w, map, "pool start %s is after its end %s", a, b);
}

static int reservation_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_reservation4 *r = obj;

	if (r->has_mac || r->client_id_len)
		return 0;
	return ib_cfg_fail_at(w, map, "a reservation needs a mac or a client_id");
}

static void subnet_init(void *obj)
{
	struct ib_subnet4 *s = obj;

	s->lease_time = 3600;
}

static int subnet_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	return ib_cfg_check_subnet(w, map, obj);
}

/* Enabled by default when there is something to serve: subnets to lease
 * from, or proxyDHCP (which needs none). */
static int dhcp4_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	struct ib_dhcp4_config *d = obj;
	const struct ib_ynode *enabled = ib_ynode_get(map, "enabled");

	if (!enabled)
		d->enabled = d->n_subnets > 0 || d->mode == IB_DHCP4_MODE_PROXY;
	else if (d->enabled && d->mode == IB_DHCP4_MODE_SERVER && d->n_subnets == 0)
		return ib_cfg_fail_in(w, map, NULL, 0, "enabled",
				      "enabled in server mode but no subnets are configured");
	return ib_cfg_check_dhcp4(w, map, d);
}

/* A tftp section means TFTP is wanted. */
static void tftp_init(void *obj)
{
	struct ib_tftp_config *t = obj;

	t->enabled = true;
}

static int tftp_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_tftp_config *t = obj;

	if (t->max_per_client <= t->max_transfers)
		return 0;
	return ib_cfg_fail_in(w, map, NULL, 0,
			      ib_ynode_get(map, "max_per_client") ? "max_per_client" : "max_transfers",
			      "max_per_client (%u) exceeds max_transfers (%u)",
			      t->max_per_client, t->max_transfers);
}

/* Without a boot section, the files Debian's ipxe package ships. */
static int root_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	struct ib_config *cfg = obj;

	if (!ib_ynode_get(map, "boot")) {
		cfg->boot.file_bios = strdup("undionly.kpxe");
		cfg->boot.file_efi_x64 = strdup("ipxe.efi");
		if (!cfg->boot.file_bios || !cfg->boot.file_efi_x64)
			return ib_cfg_fail_nomem(w->err);
	}
	if (ib_cfg_check_bmcs(w, map, cfg) < 0)
		return -EINVAL;
	return ib_cfg_check_boot(w, map, cfg);
}

/* A http section means HTTP is wanted. */
static void http_init(void *obj)
{
	struct ib_http_config *h = obj;

	h->enabled = true;
}

/* ---- the tables ---- */

#define P struct ib_pool4
static const struct ib_cfg_field pool_fields[] = {
	FIELD(P, "start", F_IP4, start, .required = true),
	FIELD(P, "end", F_IP4, end, .required = true),
};
#undef P
static const struct ib_cfg_section pool_section =
	SECTION(pool_fields, .elem_size = sizeof(struct ib_pool4), .check = pool_check);

#define R struct ib_route4
static const struct ib_cfg_field route_fields[] = {
	FIELD(R, "destination", F_CIDR, dest, .aux = offsetof(R, prefix_len), .required = true),
	FIELD(R, "gateway", F_IP4, gateway, .required = true),
};
#undef R
static const struct ib_cfg_section route_section =
	SECTION(route_fields, .elem_size = sizeof(struct ib_route4));

#define R struct ib_reservation4
static const struct ib_cfg_field reservation_fields[] = {
	FIELD(R, "mac", F_MAC, mac, .aux = offsetof(R, has_mac)),
	FIELD(R, "client_id", F_CLIENT_ID, client_id, .aux = offsetof(R, client_id_len)),
	FIELD(R, "address", F_IP4, address, .required = true),
	FIELD(R, "hostname", F_DNS_NAME, hostname),
	FIELD(R, "boot_file", F_STRING, boot.boot_file),
	FIELD(R, "script_url", F_STRING, boot.script_url),
};
#undef R
static const struct ib_cfg_section reservation_section =
	SECTION(reservation_fields, .elem_size = sizeof(struct ib_reservation4),
		.check = reservation_check);

#define S struct ib_subnet4
static const struct ib_cfg_field subnet_fields[] = {
	FIELD(S, "subnet", F_CIDR, network, .aux = offsetof(S, prefix_len), .required = true),
	LIST(S, "pools", F_MAP_LIST, pools, n_pools, 256, .sub = &pool_section),
	LIST(S, "routers", F_IP4_LIST, routers, n_routers, 16),
	LIST(S, "dns", F_IP4_LIST, dns, n_dns, 16),
	LIST(S, "ntp", F_IP4_LIST, ntp, n_ntp, 16),
	FIELD(S, "domain_name", F_DNS_NAME, domain_name),
	LIST(S, "domain_search", F_DNS_LIST, domain_search, n_domain_search, 32),
	FIELD(S, "mtu", F_U16, mtu, .min = 68, .max = 65535),	/* RFC 2132 5.1 */
	LIST(S, "routes", F_MAP_LIST, routes, n_routes, 64, .sub = &route_section),
	FIELD(S, "lease_time", F_U32, lease_time, .min = 10, .max = UINT32_MAX),
	FIELD(S, "t1", F_U32, t1, .min = 1, .max = UINT32_MAX),
	FIELD(S, "t2", F_U32, t2, .min = 1, .max = UINT32_MAX),
	FIELD(S, "broadcast", F_IP4, broadcast),
	LIST(S, "reservations", F_MAP_LIST, reservations, n_reservations, 65536,
	     .sub = &reservation_section),
	LIST(S, "relays", F_IP4_LIST, relays, n_relays, IB_DHCP4_RELAYS_MAX),
};
#undef S
_Static_assert(IB_ARRAY_SIZE(subnet_fields) <= IB_CFG_MAX_FIELDS, "raise IB_CFG_MAX_FIELDS");
static const struct ib_cfg_section subnet_section =
	SECTION(subnet_fields, .elem_size = sizeof(struct ib_subnet4),
		.init = subnet_init, .check = subnet_check);

#define D struct ib_dhcp4_config
static const struct ib_cfg_field dhcp4_fields[] = {
	FIELD(D, "enabled", F_BOOL, enabled),
	FIELD(D, "mode", F_MODE, mode),
	LIST(D, "interfaces", F_IFNAME_LIST, interfaces, n_interfaces, 64),
	FIELD(D, "port", F_U16, port, .min = 1, .max = 65535),
	FIELD(D, "client_port", F_U16, client_port, .min = 1, .max = 65535),
	FIELD(D, "proxy_port", F_U16, proxy_port, .min = 1, .max = 65535),
	FIELD(D, "authoritative", F_BOOL, authoritative),
	FIELD(D, "offer_hold", F_U32, offer_hold, .min = 1, .max = 3600),
	FIELD(D, "decline_hold", F_U32, decline_hold, .min = 0, .max = 30 * 86400),
	LIST(D, "relays", F_IP4_LIST, relays, n_relays, IB_DHCP4_RELAYS_MAX),
	LIST(D, "subnets", F_MAP_LIST, subnets, n_subnets, 4096, .sub = &subnet_section),
};
#undef D
static const struct ib_cfg_section dhcp4_section =
	SECTION(dhcp4_fields, .check = dhcp4_check);

#define B struct ib_boot_config
static const struct ib_cfg_field boot_fields[] = {
	FIELD(B, "next_server", F_IP4, next_server),
	FIELD(B, "bios", F_STRING, file_bios),
	FIELD(B, "efi_x64", F_STRING, file_efi_x64),
	FIELD(B, "efi_ia32", F_STRING, file_efi_ia32),
	FIELD(B, "efi_arm64", F_STRING, file_efi_arm64),
	FIELD(B, "http_x64", F_STRING, http_url_x64),
	FIELD(B, "http_arm64", F_STRING, http_url_arm64),
	FIELD(B, "ipxe_script", F_STRING, ipxe_script_url),
	FIELD(B, "ipxe_script6", F_STRING, ipxe_script_url6),
	FIELD(B, "http6_x64", F_STRING, http_url6_x64),
	FIELD(B, "http6_arm64", F_STRING, http_url6_arm64),
	LIST(B, "bootfile_param6", F_STRING_LIST, bootfile_param6, n_bootfile_param6,
	     IB_BOOTFILE_PARAM_MAX),
	FIELD(B, "next_server6", F_IP6_SET, next_server6, .aux = offsetof(B, has_next_server6)),
};
#undef B
static const struct ib_cfg_section boot_section =
	SECTION(boot_fields, .check = ib_cfg_check_boot6);

#define T struct ib_tftp_config
static const struct ib_cfg_field tftp_fields[] = {
	FIELD(T, "enabled", F_BOOL, enabled),
	FIELD(T, "root", F_ABS_PATH, root),
	FIELD(T, "port", F_U16, port, .min = 1, .max = 65535),
	LIST(T, "listen", F_ADDR_LIST, listen, n_listen, 64),
	FIELD(T, "max_transfers", F_U32, max_transfers, .min = 1, .max = 1000000),
	FIELD(T, "max_per_client", F_U32, max_per_client, .min = 1, .max = 1000000),
	FIELD(T, "max_unacked", F_U32, max_unacked, .min = 1, .max = 1000000),
	FIELD(T, "timeout_ms", F_U32, timeout_ms, .min = 10, .max = 255000),
	FIELD(T, "max_retries", F_U32, max_retries, .min = 0, .max = 255),
	/* RFC 2348: blksize 8..65464; RFC 7440: windowsize 1..65535 */
	FIELD(T, "max_blksize", F_U32, max_blksize, .min = 8, .max = 65464),
	FIELD(T, "max_windowsize", F_U32, max_windowsize, .min = 1, .max = 65535),
	FIELD(T, "cache_bytes", F_U64, cache_bytes, .min = 0, .max = 1ull << 40),
};
#undef T
static const struct ib_cfg_section tftp_section =
	SECTION(tftp_fields, .init = tftp_init, .check = tftp_check);

#define J struct ib_journal_config
static const struct ib_cfg_field journal_fields[] = {
	FIELD(J, "max_events", F_U32, max_events, .min = 1, .max = UINT32_MAX),
	FIELD(J, "max_age_days", F_U32, max_age_days, .min = 0, .max = 36500),
};
#undef J
static const struct ib_cfg_section journal_section = SECTION(journal_fields);

#define H struct ib_http_tls
static const struct ib_cfg_field tls_fields[] = {
	FIELD(H, "cert", F_ABS_PATH, cert, .required = true),
	FIELD(H, "key", F_ABS_PATH, key, .required = true),
};
#undef H
static const struct ib_cfg_section tls_section = SECTION(tls_fields);

/* In the order of enum ib_machine_auth_mode. */
static const char *const machine_auth_names[] = { "strict", "off", NULL };
/* In the order of enum ib_http_metrics_mode. */
static const char *const metrics_names[] = { "open", "token", "off", NULL };

#define H struct ib_http_config
static const struct ib_cfg_field http_fields[] = {
	FIELD(H, "enabled", F_BOOL, enabled),
	LIST(H, "listen", F_ADDR_LIST, listen, n_listen, 64),
	FIELD(H, "port", F_U16, port, .min = 1, .max = 65535),
	FIELD(H, "base_url", F_STRING, base_url),
	FIELD(H, "assets", F_STRING, assets),
	FIELD(H, "templates", F_STRING, templates),
	FIELD(H, "api_token_file", F_ABS_PATH, api_token_file),
	FIELD(H, "tls", F_SECTION, tls, .sub = &tls_section),
	FIELD(H, "machine_auth", F_ENUM, machine_auth, .names = machine_auth_names),
	FIELD(H, "metrics", F_ENUM, metrics, .names = metrics_names),
	/* each follower may hold 1 MiB unsent (http_follow.c): 64 MiB at most */
	FIELD(H, "max_followers", F_U16, max_followers, .min = 0, .max = 64),
	FIELD(H, "max_followers_per_client", F_U16, max_followers_per_client, .min = 1, .max = 64),
};
#undef H
static const struct ib_cfg_section http_section =
	SECTION(http_fields, .init = http_init);

/* A lifecycle section turns the lifecycle on; unknown machines are
 * discovered unless it says not to. */
static void lifecycle_init(void *obj)
{
	struct ib_lifecycle_config *l = obj;

	l->enabled = true;
	l->auto_discover = true;
	l->wipe_timeout = IB_LC_WIPE_TIMEOUT_DEFAULT;
	l->install_timeout = IB_LC_INSTALL_TIMEOUT_DEFAULT;
}

#define L struct ib_lifecycle_config
static const struct ib_cfg_field lifecycle_fields[] = {
	FIELD(L, "enabled", F_BOOL, enabled),
	FIELD(L, "auto_discover", F_BOOL, auto_discover),
	FIELD(L, "agent_kernel", F_STRING, agent_kernel),
	FIELD(L, "agent_initrd", F_STRING, agent_initrd),
	FIELD(L, "wipe_timeout", F_SECONDS, wipe_timeout, .min = 5, .max = 7 * 86400),
	FIELD(L, "install_timeout", F_SECONDS, install_timeout, .min = 5, .max = 7 * 86400),
};
#undef L
static const struct ib_cfg_section lifecycle_section =
	SECTION(lifecycle_fields, .init = lifecycle_init, .check = ib_cfg_check_lifecycle);

static const char *const boot_mode_names[] = { "kernel", "local", NULL };
static const char *const local_method_names[] = { "exit", "sanboot", NULL };
/* In the order of enum ib_tpl_context. */
static const char *const format_names[] = { "text", "ipxe", "yaml", "json", "shell", NULL };

#define I struct ib_install_config
static const struct ib_cfg_field install_config_fields[] = {
	FIELD(I, "name", F_NAME, name, .required = true),
	FIELD(I, "template", F_STRING, template, .required = true),
	FIELD(I, "format", F_ENUM, format, .names = format_names),
};
#undef I
static const struct ib_cfg_section install_config_section =
	SECTION(install_config_fields, .elem_size = sizeof(struct ib_install_config));

#define I struct ib_profile_image
static const struct ib_cfg_field image_fields[] = {
	FIELD(I, "url", F_STRING, url, .required = true),
	FIELD(I, "sha256", F_STRING, sha256),
	FIELD(I, "sha256_file", F_STRING, sha256_file),
	FIELD(I, "disk", F_STRING, disk, .required = true),
	FIELD(I, "format", F_STRING, format),
};
#undef I
static const struct ib_cfg_section image_section =
	SECTION(image_fields, .check = ib_cfg_check_image);

#define P struct ib_profile
static const struct ib_cfg_field profile_fields[] = {
	FIELD(P, "name", F_NAME, name, .required = true),
	FIELD(P, "kernel", F_STRING, kernel),
	LIST(P, "initrd", F_STRING_LIST, initrd, n_initrd, 16),
	LIST(P, "args", F_STRING_LIST, args, n_args, 256),
	FIELD(P, "boot", F_ENUM, boot, .names = boot_mode_names),
	FIELD(P, "local_method", F_ENUM, local_method, .names = local_method_names),
	FIELD(P, "script", F_STRING, script),
	LIST(P, "configs", F_MAP_LIST, configs, n_configs, 64, .sub = &install_config_section),
	LIST(P, "metadata", F_KV_MAP, metadata, n_metadata, 256),
	LIST(P, "secrets", F_SECRET_MAP, secrets, n_secrets, 256),
	FIELD(P, "image", F_SECTION, image, .sub = &image_section),
};
#undef P
static const struct ib_cfg_section profile_section =
	SECTION(profile_fields, .elem_size = sizeof(struct ib_profile),
		.check = ib_cfg_check_profile);

#define S struct ib_selector
static const struct ib_cfg_field selector_fields[] = {
	FIELD(S, "mac", F_MAC, mac, .aux = offsetof(S, has_mac)),
	FIELD(S, "uuid", F_STRING, uuid),
	FIELD(S, "hostname", F_STRING, hostname),
	FIELD(S, "serial", F_STRING, serial),
	FIELD(S, "arch", F_STRING, arch),
	FIELD(S, "platform", F_STRING, platform),
	LIST(S, "labels", F_KV_MAP, labels, n_labels, 64),
	FIELD(S, "vendor", F_STRING, vendor),
	FIELD(S, "product", F_STRING, product),
	FIELD(S, "disk_min_gib", F_U32, disk_min_gib, .min = 1, .max = 1u << 30),
	FIELD(S, "memory_min_gib", F_U32, memory_min_gib, .min = 1, .max = 1u << 30),
};
#undef S
static const struct ib_cfg_section selector_section = SECTION(selector_fields);

#define G struct ib_group
static const struct ib_cfg_field group_fields[] = {
	FIELD(G, "name", F_NAME, name, .required = true),
	FIELD(G, "profile", F_NAME, profile, .required = true),
	FIELD(G, "selector", F_SECTION, selector, .sub = &selector_section),
	LIST(G, "metadata", F_KV_MAP, metadata, n_metadata, 256),
};
#undef G
static const struct ib_cfg_section group_section =
	SECTION(group_fields, .elem_size = sizeof(struct ib_group));

#define M struct ib_machine
static const struct ib_cfg_field machine_fields[] = {
	FIELD(M, "mac", F_MAC, mac, .aux = offsetof(M, has_mac), .required = true),
	FIELD(M, "hostname", F_DNS_NAME, hostname),
	FIELD(M, "uuid", F_STRING, uuid),
	FIELD(M, "serial", F_STRING, serial),
	LIST(M, "labels", F_KV_MAP, labels, n_labels, 64),
	LIST(M, "metadata", F_KV_MAP, metadata, n_metadata, 256),
	LIST(M, "secrets", F_SECRET_MAP, secrets, n_secrets, 256),
};
#undef M
static const struct ib_cfg_section machine_section =
	SECTION(machine_fields, .elem_size = sizeof(struct ib_machine));

#define V struct ib_server_config
static const struct ib_cfg_field server_fields[] = {
	FIELD(V, "state_dir", F_ABS_PATH, state_dir),
	FIELD(V, "store", F_STORE, store),
	FIELD(V, "store_password_file", F_ABS_PATH, store_password_file),
	FIELD(V, "user", F_STRING, user),
	FIELD(V, "group", F_STRING, group),
	FIELD(V, "log_level", F_LOG_LEVEL, log_level),
	FIELD(V, "syslog", F_BOOL, syslog),
	FIELD(V, "load_balancing", F_BOOL, load_balancing),
};
#undef V

/* Load balancing splits the clients among daemons that share one
 * PostgreSQL store: on SQLite there is no one to share with. */
static int server_check(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	const struct ib_server_config *sc = obj;

	if (sc->load_balancing && (!sc->store || strcmp(sc->store, "sqlite") == 0))
		return ib_cfg_fail_in(w, map, NULL, 0, "load_balancing",
				      "needs a postgresql:// store: the daemons that share the "
				      "clients share their leases there");
	return 0;
}
static const struct ib_cfg_section server_section =
	SECTION(server_fields, .check = server_check);

#define C struct ib_config
static const struct ib_cfg_field root_fields[] = {
	FIELD(C, "server", F_SECTION, server, .sub = &server_section),
	FIELD(C, "dhcp4", F_SECTION, dhcp4, .sub = &dhcp4_section),
	FIELD(C, "dhcp6", F_SECTION, dhcp6, .sub = &ib_cfg_dhcp6_section),
	FIELD(C, "boot", F_SECTION, boot, .sub = &boot_section),
	FIELD(C, "tftp", F_SECTION, tftp, .sub = &tftp_section),
	FIELD(C, "journal", F_SECTION, journal, .sub = &journal_section),
	FIELD(C, "http", F_SECTION, http, .sub = &http_section),
	FIELD(C, "lifecycle", F_SECTION, lifecycle, .sub = &lifecycle_section),
	FIELD(C, "power", F_SECTION, power, .sub = &ib_cfg_power_section),
	LIST(C, "profiles", F_MAP_LIST, profiles, n_profiles, IB_CFG_PROFILES_MAX,
	     .sub = &profile_section),
	LIST(C, "groups", F_MAP_LIST, groups, n_groups, IB_CFG_GROUPS_MAX, .sub = &group_section),
	LIST(C, "machines", F_MAP_LIST, machines, n_machines, IB_CFG_MACHINES_MAX,
	     .sub = &machine_section),
	LIST(C, "bmcs", F_MAP_LIST, bmcs, n_bmcs, IB_CFG_MACHINES_MAX, .sub = &ib_cfg_bmc_section),
};
#undef C
static const struct ib_cfg_section root_section = SECTION(root_fields, .check = root_check);

int ib_cfg_apply(const struct ib_cfg_err *err, const struct ib_ynode *root,
		 struct ib_config *cfg)
{
	struct ib_cfg_walk w = { .err = err };
	struct ib_ynode empty = { .kind = IB_YNODE_MAPPING, .line = 1, .col = 1 };

	if (!root || ib_ynode_is_null(root))
		root = &empty;		/* an empty file: all defaults */
	if (root->kind != IB_YNODE_MAPPING)
		return ib_cfg_fail(err, root->line, root->col, NULL,
				   "expected a mapping at the top level, got %s",
				   ib_ynode_describe(root));
	return walk_map(&w, root, &root_section, cfg);
}
