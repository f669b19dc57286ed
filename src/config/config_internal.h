/*
 * Internals of the configuration loader, shared by its files and by nothing
 * else:
 *
 *   config_yaml.c      YAML bytes -> a small node tree that keeps marks
 *   config_walk.c      typed readers for nodes, error and key-path helpers
 *   config_schema.c    the key tables: which key fills which field
 *   config_validate.c  checks across fields: pools, overlaps, reservations
 *   config_dhcp6.c     the dhcp6 tables and checks (IPv6 subnets, RA)
 *   config.c           the public API (config.h)
 *
 * The tree lives only while a file loads; the snapshot never points into it.
 */
#ifndef IB_CONFIG_CONFIG_INTERNAL_H
#define IB_CONFIG_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "config/config.h"

#define IB_CONFIG_MAX_BYTES (16u << 20)	/* largest file accepted */
#define IB_CONFIG_MAX_DEPTH 32		/* nesting; the schema needs 6 */
#define IB_CONFIG_MAX_NODES (2u << 20)	/* nodes in one document: ~100 MiB of tree */
#define IB_CONFIG_MAX_STRING 4096	/* bytes in one string value */
#define IB_CFG_NAME_MAX 64		/* bytes of a profile, group or config name */
#define IB_CFG_PROFILES_MAX 1024	/* profiles in one file */
#define IB_CFG_GROUPS_MAX 4096		/* groups: the overlap check is quadratic per specificity */
#define IB_CFG_MACHINES_MAX 65536	/* machines in one file */
#define IB_CONFIG_PATH_MAX 192		/* "dhcp4.subnets[4095].reservations[65535].script_url" */

enum ib_ynode_kind {
	IB_YNODE_SCALAR,
	IB_YNODE_SEQUENCE,
	IB_YNODE_MAPPING,
};

/* One YAML node, with where it starts in the file. */
struct ib_ynode {
	enum ib_ynode_kind kind;	/* scalar, sequence or mapping */
	bool plain;			/* untagged plain scalar: may be int, bool, null */
	uint32_t line;			/* 1-based line of the node's first character */
	uint32_t col;			/* 1-based column of it */
	char *str;			/* scalar text, NUL-terminated; NULL otherwise */
	size_t len;			/* scalar length (the text may hold NULs) */
	struct ib_ynode **items;	/* sequence items; mapping keys and values alternate */
	size_t n_items;			/* entries in items (2 per mapping pair) */
	size_t cap;			/* allocated entries in items */
	const char *origin;		/* errors name this instead of the file
					 * (an API object), or NULL; not owned */
};

/* Where errors go: "name:line:col: path: problem" into buf. */
struct ib_cfg_err {
	const char *name;		/* file name for messages */
	char *buf;			/* IB_CONFIG_ERRLEN bytes */
};

/* State of one walk over the tree: the key path of the node being read. */
struct ib_cfg_walk {
	const struct ib_cfg_err *err;	/* where the first error goes */
	char path[IB_CONFIG_PATH_MAX];	/* "dhcp4.subnets[0].pools[1]" */
	size_t path_len;		/* strlen(path) */
};

/* ---- config_yaml.c ---- */

/*
 * Parses buf into a node tree.  *ret is NULL for an empty stream.  Refuses
 * aliases, several documents, nesting past IB_CONFIG_MAX_DEPTH and more than
 * IB_CONFIG_MAX_NODES nodes.  Returns 0, -EINVAL (message in err) or
 * -ENOMEM.  The caller owns *ret (ib_ynode_free).
 */
int ib_yaml_parse(const struct ib_cfg_err *err, const void *buf, size_t len,
		  struct ib_ynode **ret);
void ib_ynode_free(struct ib_ynode *n);
/* True for a plain "", "~" or "null": a key given no value. */
bool ib_ynode_is_null(const struct ib_ynode *n);
/* The value of key in mapping map, NULL when map is not a mapping, the key
 * is absent or its value is null. */
const struct ib_ynode *ib_ynode_get(const struct ib_ynode *map, const char *key);
/* Item i of a sequence, or NULL. */
const struct ib_ynode *ib_ynode_item(const struct ib_ynode *seq, size_t i);
/* "a scalar", "a sequence", "a mapping" or "null", for messages. */
const char *ib_ynode_describe(const struct ib_ynode *n);
/*
 * Appends item to the sequence stored under key in mapping root, making
 * the key (a new sequence) when absent.  Takes ownership of item on
 * success.  Returns 0, -EINVAL when root is not a mapping or key holds
 * something other than a sequence or null, or -ENOMEM.
 */
int ib_ynode_append_to(struct ib_ynode *root, const char *key, struct ib_ynode *item);
/* Sets origin on n and everything under it. */
void ib_ynode_set_origin(struct ib_ynode *n, const char *origin);
/* A new empty mapping node at line 1, column 1, or NULL. */
struct ib_ynode *ib_ynode_new_mapping(void);

/* ---- config_walk.c ---- */

/* Writes the error (first one wins) and returns -EINVAL.  path may be NULL. */
int ib_cfg_fail(const struct ib_cfg_err *err, uint32_t line, uint32_t col,
		const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The same at node n, with the walk's current path. */
int ib_cfg_fail_at(struct ib_cfg_walk *w, const struct ib_ynode *n,
		   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "out of memory" with no position; returns -ENOMEM. */
int ib_cfg_fail_nomem(const struct ib_cfg_err *err);

/* Appends ".key" / "[i]" to the path; returns the length to pop back to. */
size_t ib_cfg_path_key(struct ib_cfg_walk *w, const char *key);
size_t ib_cfg_path_index(struct ib_cfg_walk *w, size_t i);
void ib_cfg_path_pop(struct ib_cfg_walk *w, size_t len);

/* Sanitised, shortened copy of a scalar for a message. */
void ib_cfg_quote(const struct ib_ynode *n, char *out, size_t outlen);

/* Typed readers: each checks n, writes *ret only on success and otherwise
 * reports at n and returns -EINVAL (or -ENOMEM). */
int ib_cfg_read_uint(struct ib_cfg_walk *w, const struct ib_ynode *n,
		     uint64_t min, uint64_t max, uint64_t *ret);
int ib_cfg_read_bool(struct ib_cfg_walk *w, const struct ib_ynode *n, bool *ret);
/* A non-empty string without control characters; *ret is malloc'ed. */
int ib_cfg_read_string(struct ib_cfg_walk *w, const struct ib_ynode *n, char **ret);
int ib_cfg_read_ip4(struct ib_cfg_walk *w, const struct ib_ynode *n, uint32_t *ret);
/* "a.b.c.d/len" with no host bits set. */
int ib_cfg_read_cidr(struct ib_cfg_walk *w, const struct ib_ynode *n,
		     uint32_t *ret_net, uint8_t *ret_len);
/* An IPv6 address (inet_pton AF_INET6), network order; an IPv4 address
 * gets "expected an IPv6 address". */
int ib_cfg_read_ip6(struct ib_cfg_walk *w, const struct ib_ynode *n, uint8_t ret[16]);
/* "addr/len" (len 0..128) with no host bits set. */
int ib_cfg_read_cidr6(struct ib_cfg_walk *w, const struct ib_ynode *n,
		      uint8_t ret_prefix[16], uint8_t *ret_len);
/* A DNS name: dot-separated LDH labels (RFC 1123 2.1), optional final dot. */
int ib_cfg_read_dns_name(struct ib_cfg_walk *w, const struct ib_ynode *n, char **ret);
/* "aa:bb:cc:dd:ee:ff" (or '-' separated). */
int ib_cfg_read_mac(struct ib_cfg_walk *w, const struct ib_ynode *n, uint8_t ret[6]);
/* Hex bytes with optional ':' separators, min..max (<= 256) of them. */
int ib_cfg_read_hex(struct ib_cfg_walk *w, const struct ib_ynode *n, size_t min,
		    size_t max, uint8_t *out, size_t *ret_len);
/* Checks that n is a sequence of at most max items. */
int ib_cfg_read_seq(struct ib_cfg_walk *w, const struct ib_ynode *n, size_t max);
/* One of names (NULL-terminated); *ret is its index. */
int ib_cfg_read_enum(struct ib_cfg_walk *w, const struct ib_ynode *n,
		     const char *const *names, int *ret);
/* A mapping of at most max free keys (unique) to string values; *ret is
 * calloc'ed and stored before its items are read, so the snapshot frees a
 * half-read map. */
int ib_cfg_read_kv_map(struct ib_cfg_walk *w, const struct ib_ynode *n, size_t max,
		       struct ib_kv **ret, size_t *ret_n);

/* ---- config_validate.c ---- */

/*
 * Reports at base's list[i].key, with those appended to the path: list and
 * key may be NULL; the node is the key's value, else the item, else base.
 */
int ib_cfg_fail_in(struct ib_cfg_walk *w, const struct ib_ynode *base,
		   const char *list, size_t i, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* ---- config_span.c ---- */

/*
 * An address range of a DHCP section and where it came from: a pool
 * (subnet and item: its index in the subnet's pools) or a subnet (item 0).
 * Addresses are 16 bytes in network order, an IPv4 one in the last 4
 * (ib_cfg_addr4()), so one sort and one search serve both families
 * (config_span.c).
 */
struct ib_cfg_span {
	uint8_t start[16];		/* first address */
	uint8_t end[16];		/* last address */
	uint32_t subnet;		/* index in the section's subnets */
	uint32_t item;			/* index in that subnet's pools, or 0 */
};

/* The IPv4 range start..end (host order) of subnet, item into s. */
void ib_cfg_span4(struct ib_cfg_span *s, uint32_t start, uint32_t end, size_t subnet,
		  size_t item);
/* The IPv6 range start..end of subnet, item into s. */
void ib_cfg_span6(struct ib_cfg_span *s, const uint8_t start[16], const uint8_t end[16],
		  size_t subnet, size_t item);
/* An IPv4 address (host order) as a span's 16 bytes, and back. */
void ib_cfg_addr4(uint32_t a, uint8_t out[16]);
uint32_t ib_cfg_span_ip4(const uint8_t a[16]);
/*
 * Sorts sp[n] by start (then by their order in the file); on an overlap
 * returns true with *ret_later the one that comes later in the file and
 * *ret_other the one it overlaps.  sp stays sorted.
 */
bool ib_cfg_span_overlap(struct ib_cfg_span *sp, size_t n, const struct ib_cfg_span **ret_later,
			 const struct ib_cfg_span **ret_other);
/* The span holding addr, of sp[n] sorted and disjoint; NULL if none. */
const struct ib_cfg_span *ib_cfg_span_holding(const struct ib_cfg_span *sp, size_t n,
					      const uint8_t addr[16]);

/* ---- config_boot.c ---- */

/* True for 1..IB_CFG_NAME_MAX of A-Z a-z 0-9 . _ - (safe in URLs and scripts). */
bool ib_cfg_name_ok(const char *s);
/* Checks one profile after its keys are read: kernel, initrds and args. */
int ib_cfg_check_profile(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj);
/* The lifecycle section: the agent's kernel and initrd (defaults
 * agent/vmlinuz and agent/initrd.img) are paths under http.assets. */
int ib_cfg_check_lifecycle(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj);
/* A profile's image: an http:// URL with an address literal, 64 hex
 * digits of SHA-256, a disk name, a known format (docs/AGENT.md). */
int ib_cfg_check_image(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj);
/*
 * The HTTP boot service across sections, once everything is read: resolves
 * http's directories against the config file's, derives base_url, checks
 * names, group profiles and overlaps, machine MACs, and compiles every
 * template (read from http.templates).  root is the document's mapping.
 */
int ib_cfg_check_boot(struct ib_cfg_walk *w, const struct ib_ynode *root,
		      struct ib_config *cfg);

/* ---- config_tpl.c ---- */

/* Compiles every profile's script (custom or built-in) and install configs
 * from http.templates; errors name the key and the template's line:col. */
int ib_cfg_compile_templates(struct ib_cfg_walk *w, const struct ib_ynode *root,
			     struct ib_config *cfg);

/* ---- config_schema.c: the key tables ----
 *
 * One table per YAML mapping, naming each key, the type of its value, the
 * field it fills and its limits.  The tables live in config_schema.c, the
 * dhcp6 ones in config_dhcp6.c.
 */

#define IB_CFG_MAX_FIELDS 24	/* keys in the largest table */

enum ib_cfg_field_kind {
	F_BOOL,			/* bool */
	F_U16,			/* uint16_t in min..max */
	F_U32,			/* uint32_t in min..max */
	F_U64,			/* uint64_t in min..max */
	F_STRING,		/* char *, no control characters */
	F_ABS_PATH,		/* char *, starting with '/' */
	F_DNS_NAME,		/* char *, RFC 1123 host or domain name */
	F_IP4,			/* uint32_t */
	F_CIDR,			/* uint32_t network at off, uint8_t length at aux */
	F_MAC,			/* uint8_t[6] at off, bool has_mac at aux */
	F_CLIENT_ID,		/* uint8_t[] at off, uint8_t length at aux */
	F_LOG_LEVEL,		/* int (enum ib_log_level) */
	F_MODE,			/* enum ib_dhcp4_mode */
	F_IP4_LIST,		/* uint32_t * at off, size_t count at aux */
	F_DNS_LIST,		/* char ** at off, size_t count at aux */
	F_IFNAME_LIST,		/* char ** at off, size_t count at aux */
	F_ADDR_LIST,		/* char ** (IPv4 or IPv6 literals), count at aux */
	F_NAME,			/* char *, [A-Za-z0-9._-], at most IB_CFG_NAME_MAX */
	F_ENUM,			/* int-sized enum at off: index of the value in names */
	F_STRING_LIST,		/* char ** at off (any strings), count at aux */
	F_KV_MAP,		/* struct ib_kv * at off, count at aux: free key: value */
	F_SECTION,		/* a nested struct at off, read through sub */
	F_MAP_LIST,		/* array of sub->elem_size at off, count at aux */
	F_IP6,			/* uint8_t[16], network order */
	F_IP6_SET,		/* uint8_t[16] at off, bool set at aux */
	F_CIDR6,		/* uint8_t[16] prefix at off, uint8_t length at aux */
	F_IP6_LIST,		/* uint8_t (*)[16] at off, size_t count at aux */
	F_HEX,			/* uint8_t[] at off, uint8_t length at aux, min..max bytes */
	F_IFNAME,		/* char *, an interface name */
	F_SECRET_MAP,		/* F_KV_MAP whose values may not be the redaction
				 * placeholder of API reads (IB_CONFIG_REDACTED) */
	F_SECONDS,		/* uint32_t seconds in min..max: "90", "90s", "5m", "1h" */
	F_STORE,		/* char *: "sqlite" or a postgresql:// URI, no password */
	F_KIND_COUNT,
};

struct ib_cfg_section;

/* One key of a mapping. */
struct ib_cfg_field {
	const char *key;		/* YAML key */
	enum ib_cfg_field_kind kind;	/* type of the value */
	bool required;			/* an error when absent */
	size_t off;			/* offset of the field in the target */
	size_t aux;			/* offset of its count, length or flag */
	uint64_t min;			/* integer minimum */
	uint64_t max;			/* integer maximum, or most list items */
	const struct ib_cfg_section *sub; /* F_SECTION, F_MAP_LIST: the nested table */
	const char *const *names;	/* F_ENUM: value names, NULL-terminated */
};

/* One mapping type. */
struct ib_cfg_section {
	const struct ib_cfg_field *fields; /* its keys */
	size_t n_fields;
	size_t elem_size;		/* F_MAP_LIST element size */
	void (*init)(void *obj);	/* defaults, before the keys are read */
	int (*check)(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj);
};

/* Table rows: FIELD(struct, "key", F_KIND, member, .more = ...),
 * LIST(struct, "key", F_KIND, member, count member, most items, ...),
 * SECTION(fields, .elem_size = ..., .init = ..., .check = ...). */
#define FIELD(type, k, kind_, member, ...) \
	{ .key = k, .kind = kind_, .off = offsetof(type, member), __VA_ARGS__ }
#define LIST(type, k, kind_, member, count, most, ...) \
	{ .key = k, .kind = kind_, .off = offsetof(type, member), \
	  .aux = offsetof(type, count), .max = most, __VA_ARGS__ }
#define SECTION(fields_, ...) \
	{ .fields = fields_, .n_fields = IB_ARRAY_SIZE(fields_), __VA_ARGS__ }

/* ---- config_dhcp6.c ---- */

/* The dhcp6 section's table: subnets, pools, reservations, RA. */
extern const struct ib_cfg_section ib_cfg_dhcp6_section;
/* The boot section's check: the IPv6 boot URLs (ipxe_script6, http6_*)
 * are http:// or https:// with IPv6 literals in brackets, and the
 * bootfile_param6 items fit option 60. */
int ib_cfg_check_boot6(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj);

/* ---- config_power.c ---- */

/* The power section and the items of the bmcs list (docs/POWER.md). */
extern const struct ib_cfg_section ib_cfg_power_section;
extern const struct ib_cfg_section ib_cfg_bmc_section;
/* Across the bmcs list, once read: one BMC per MAC. */
int ib_cfg_check_bmcs(struct ib_cfg_walk *w, const struct ib_ynode *root,
		      const struct ib_config *cfg);

/* ---- config_schema.c ---- */

/* Fills cfg (already holding the defaults) from the document root, which
 * may be NULL (an empty file), and validates it. */
int ib_cfg_apply(const struct ib_cfg_err *err, const struct ib_ynode *root,
		 struct ib_config *cfg);

/* Checks one subnet after all its keys are read; derives mask, broadcast,
 * t1 and t2.  map is the subnet's mapping node. */
int ib_cfg_check_subnet(struct ib_cfg_walk *w, const struct ib_ynode *map,
			struct ib_subnet4 *s);
/* Checks pools and subnets for overlaps across the whole dhcp4 section. */
int ib_cfg_check_dhcp4(struct ib_cfg_walk *w, const struct ib_ynode *map,
		       const struct ib_dhcp4_config *d);

#endif
