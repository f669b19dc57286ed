/*
 * The configuration snapshot.
 *
 * ib_config_load() reads one YAML file (libyaml), validates it and returns an
 * immutable snapshot.  The daemon holds one snapshot at a time; SIGHUP loads
 * a new one and swaps it in only if it validates, so a bad file never
 * replaces a good one.  Nothing outside src/config writes to a snapshot.
 *
 * Errors name the file, line, column and key:
 *   "lab.yaml:12:7: dhcp4.subnets[0].pools[1]: pool 198.18.1.10-198.18.1.20 is
 *    outside subnet 198.18.0.0/24"
 *
 * IPv4 addresses are uint32_t in host byte order; IPv6 addresses are
 * uint8_t[16] in network order.  All strings are NUL-terminated and owned by
 * the snapshot.
 */
#ifndef IB_CONFIG_CONFIG_H
#define IB_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/template.h"
#include "power/power.h"

#define IB_CONFIG_ERRLEN 512
/* What API reads and `ironboot ... show` print for a secret's value; the
 * loader refuses it as a value, so a read written back fails loudly
 * instead of replacing the secret. */
#define IB_CONFIG_REDACTED "<redacted>"
#define IB_CLIENT_ID_MAX 255

/* A classless static route (option 121). */
struct ib_route4 {
	uint32_t dest;			/* destination network */
	uint8_t prefix_len;		/* 0..32 */
	uint32_t gateway;		/* next hop */
};

/* A dynamic range, inclusive at both ends. */
struct ib_pool4 {
	uint32_t start;			/* first address */
	uint32_t end;			/* last address (>= start) */
};

/*
 * Boot overrides shared by reservations and the global boot section.  NULL
 * fields fall through to the next level (reservation -> boot section).
 */
struct ib_boot_override {
	char *boot_file;		/* firmware boot file (any arch) */
	char *script_url;		/* URL handed to iPXE clients */
};

/* A fixed address for one machine, matched by MAC or by client-id. */
struct ib_reservation4 {
	bool has_mac;			/* mac is set */
	uint8_t mac[6];			/* Ethernet address */
	uint8_t client_id_len;		/* 0 = match by MAC only */
	uint8_t client_id[IB_CLIENT_ID_MAX]; /* option 61, raw bytes */
	uint32_t address;		/* inside the subnet, outside its pools */
	char *hostname;			/* option 12, or NULL */
	struct ib_boot_override boot;	/* per-machine boot file/script */
};

/* One IPv4 subnet served directly or through relays. */
struct ib_subnet4 {
	uint32_t network;		/* network address */
	uint8_t prefix_len;		/* 0..32 */
	uint32_t mask;			/* derived from prefix_len */
	uint32_t broadcast;		/* option 28; derived unless set */
	struct ib_pool4 *pools;		/* dynamic ranges, non-overlapping */
	size_t n_pools;
	uint32_t *routers;		/* option 3 */
	size_t n_routers;
	uint32_t *dns;			/* option 6 */
	size_t n_dns;
	uint32_t *ntp;			/* option 42 */
	size_t n_ntp;
	char *domain_name;		/* option 15, or NULL */
	char **domain_search;		/* option 119 */
	size_t n_domain_search;
	uint16_t mtu;			/* option 26; 0 = not sent */
	struct ib_route4 *routes;	/* option 121 */
	size_t n_routes;
	uint32_t lease_time;		/* seconds (option 51) */
	uint32_t t1;			/* renewal time (option 58) */
	uint32_t t2;			/* rebinding time (option 59) */
	struct ib_reservation4 *reservations;
	size_t n_reservations;
	uint32_t *relays;		/* relays that may forward for this subnet
					 * (besides dhcp4.relays), by source address */
	size_t n_relays;
};

#define IB_DHCP4_RELAYS_MAX 64		/* dhcp4.relays and a subnet's relays */

enum ib_dhcp4_mode {
	IB_DHCP4_MODE_SERVER,		/* leases addresses and boots */
	IB_DHCP4_MODE_PROXY,		/* proxyDHCP: boot information only */
};

struct ib_dhcp4_config {
	bool enabled;			/* serve DHCPv4 at all */
	enum ib_dhcp4_mode mode;	/* server or proxyDHCP */
	char **interfaces;		/* names to listen on; none = all */
	size_t n_interfaces;
	uint16_t port;			/* server port, 67 */
	uint16_t client_port;		/* client port, 68 */
	uint16_t proxy_port;		/* PXE boot server port, 4011 */
	bool authoritative;		/* NAK requests for unknown addresses */
	uint32_t offer_hold;		/* seconds an OFFER reserves its address */
	uint32_t decline_hold;		/* seconds a DECLINEd address is quarantined */
	uint32_t *relays;		/* relays that may forward for any subnet,
					 * by source address; a relayed request
					 * (giaddr) from any other is dropped
					 * (docs/SECURITY.md) */
	size_t n_relays;
	struct ib_subnet4 *subnets;
	size_t n_subnets;
};

/* An IPv6 dynamic range, inclusive at both ends. */
struct ib_pool6 {
	uint8_t start[16];		/* first address */
	uint8_t end[16];		/* last address (>= start, bytewise) */
};

#define IB_DUID_MAX 130			/* RFC 8415 11.1: 2-byte type + up to 128 */
#define IB_DHCP6_RELAYS_MAX 64		/* dhcp6.relays and a subnet's relays */
#define IB_BOOTFILE_PARAM_MAX 16	/* option 60 items per list */
#define IB_BOOTFILE_PARAM_LEN 255	/* bytes per item */
#define IB_BOOTFILE_PARAM_TOTAL 1024	/* bytes of option 60 (items + their lengths) */

/* A fixed IPv6 address for one machine: by DUID, or by MAC (learnt from
 * DUID-LL/LLT, relay option 79, or an EUI-64 link-local source). */
struct ib_reservation6 {
	uint8_t duid_len;		/* 0 = match by MAC only */
	uint8_t duid[IB_DUID_MAX];	/* raw DUID bytes (hex in YAML) */
	bool has_mac;			/* mac is set */
	uint8_t mac[6];			/* Ethernet address */
	uint8_t address[16];		/* inside the subnet, outside its pools */
	char *hostname;			/* or NULL */
	struct ib_boot_override boot;	/* per-machine boot file/script */
	char **bootfile_param;		/* option 60 items, replacing boot.bootfile_param6 */
	size_t n_bootfile_param;	/* 0: the boot section's */
};

/* One IPv6 subnet (a /64 normally) served directly or through relays. */
struct ib_subnet6 {
	uint8_t prefix[16];		/* network prefix, host bits zero */
	uint8_t prefix_len;		/* 1..128 */
	char *interface;		/* link served directly (name), or NULL: matched by address */
	struct ib_pool6 *pools;		/* dynamic ranges, non-overlapping */
	size_t n_pools;
	uint8_t (*dns)[16];		/* option 23 */
	size_t n_dns;
	char **domain_search;		/* option 24 */
	size_t n_domain_search;
	uint8_t (*ntp)[16];		/* option 56 */
	size_t n_ntp;
	uint8_t (*relays)[16];		/* relays that may forward for this link
					 * (besides dhcp6.relays), by source address */
	size_t n_relays;
	uint32_t preferred_lifetime;	/* seconds */
	uint32_t valid_lifetime;	/* seconds, >= preferred */
	uint32_t t1;			/* renew, default 0.5 x preferred (RFC 8415 21.4) */
	uint32_t t2;			/* rebind, default 0.8 x preferred */
	struct ib_reservation6 *reservations;
	size_t n_reservations;
};

/* dhcp6.router_advertisements.enabled: auto, false or true. */
enum ib_ra_mode {
	IB_RA_AUTO,			/* the default (the zero value): on each boot
					 * link where no other router advertises */
	IB_RA_OFF,			/* false: never */
	IB_RA_ON,			/* true: always, on the listed interfaces */
};

/* Router advertisements ironboot sends itself (RFC 4861), for labs with no router. */
struct ib_ra_config {
	enum ib_ra_mode mode;		/* YAML key "enabled"; default auto */
	char **interfaces;		/* where to send them (required when true; in
					 * auto mode default: the boot interfaces) */
	size_t n_interfaces;
	uint32_t interval;		/* seconds between unsolicited RAs (4..1800, default 30) */
	uint32_t router_lifetime;	/* seconds; 0 = not a default router (default 0;
					 * auto mode always sends 0) */
	bool managed;			/* M flag: addresses by DHCPv6 (default true; in
					 * auto mode only where DHCPv6 serves the link) */
	bool other;			/* O flag: other config by DHCPv6 (default true; idem) */
};

struct ib_dhcp6_config {
	bool enabled;			/* serve DHCPv6 (default: the section has subnets, like dhcp4) */
	char **interfaces;		/* names to listen on; none = all */
	size_t n_interfaces;
	uint16_t port;			/* server port, 547 */
	uint16_t client_port;		/* client port, 546 */
	bool rapid_commit;		/* honour Rapid Commit (default true) */
	uint32_t advertise_hold;	/* seconds an ADVERTISE reserves its address (default 30) */
	uint32_t decline_hold;		/* seconds a DECLINEd address is quarantined (default 600) */
	uint16_t default_arch;		/* client arch (RFC 5970 / IANA) assumed without option 61; default 7 */
	uint8_t (*relays)[16];		/* relays that may forward for any subnet,
					 * by source address; a RELAY-FORW from
					 * any other is dropped (docs/SECURITY.md) */
	size_t n_relays;
	struct ib_subnet6 *subnets;	/* disjoint prefixes */
	size_t n_subnets;
	struct ib_ra_config ra;		/* router advertisements */
};

/* Firmware boot files by client architecture (option 93), and iPXE. */
struct ib_boot_config {
	uint32_t next_server;		/* siaddr; 0 = receiving interface address */
	char *file_bios;		/* arch 0: e.g. undionly.kpxe */
	char *file_efi_x64;		/* arch 7 and 9: e.g. ipxe.efi */
	char *file_efi_ia32;		/* arch 6, or NULL */
	char *file_efi_arm64;		/* arch 11, or NULL */
	char *http_url_x64;		/* arch 16 (UEFI HTTP x64), or NULL */
	char *http_url_arm64;		/* arch 19 (UEFI HTTP arm64), or NULL */
	char *ipxe_script_url;		/* handed to iPXE (user-class "iPXE") */
	char *ipxe_script_url6;		/* URL handed to iPXE over DHCPv6, or NULL: derived */
	char *http_url6_x64;		/* UEFI HTTP boot x64 (arch 16) over IPv6, or NULL */
	char *http_url6_arm64;		/* arch 19 over IPv6, or NULL */
	char **bootfile_param6;		/* RFC 5970 option 60 items sent with a bootfile-url */
	size_t n_bootfile_param6;
	uint8_t next_server6[16];	/* TFTP server in tftp:// URLs */
	bool has_next_server6;		/* next_server6 is set; unset = the receiving
					 * interface's address */
};

struct ib_tftp_config {
	bool enabled;			/* serve TFTP */
	char *root;			/* directory client names resolve under */
	uint16_t port;			/* 69 */
	char **listen;			/* addresses to bind; none = any (v4+v6) */
	size_t n_listen;
	uint32_t max_transfers;		/* concurrent transfers under way (ACKed), all clients */
	uint32_t max_per_client;	/* concurrent transfers per client address */
	uint32_t max_unacked;		/* answered, awaiting the first ACK (kept
					 * apart from max_transfers); 0 = as
					 * many as max_transfers */
	uint32_t timeout_ms;		/* initial retransmit timeout */
	uint32_t max_retries;		/* retransmits before giving up */
	uint32_t max_blksize;		/* cap on negotiated blksize */
	uint32_t max_windowsize;	/* cap on negotiated windowsize */
	uint64_t cache_bytes;		/* hot-file cache budget */
};

struct ib_journal_config {
	uint32_t max_events;		/* oldest events pruned past this count */
	uint32_t max_age_days;		/* and past this age; 0 = no age limit */
};

struct ib_server_config {
	char *state_dir;		/* store and runtime files; created */
	char *store;			/* "sqlite" (state_dir/ironboot.db) or a
					 * postgresql:// URI without a password */
	char *store_password_file;	/* the PostgreSQL password's file, or NULL */
	char *user;			/* drop privileges to this user, or NULL */
	char *group;			/* and group, or NULL (user's group) */
	int log_level;			/* enum ib_log_level */
	bool syslog;			/* log to syslog instead of stderr */
	bool load_balancing;		/* share the DHCP clients with the other daemons
					 * on the same PostgreSQL store (SCALE-OUT.md) */
};

/* A free-form "key: value" pair (labels, metadata); both strings. */
struct ib_kv {
	char *key;			/* non-empty, no control characters */
	char *value;			/* non-empty, no control characters */
};

struct ib_http_tls {
	char *cert;			/* PEM certificate chain, or NULL */
	char *key;			/* PEM private key, or NULL */
};

/*
 * Who may read a machine's boot script and install configs (/boot.ipxe,
 * /configs/<name>): docs/SECURITY.md, "Per-machine data".
 */
enum ib_machine_auth_mode {
	IB_MACHINE_AUTH_STRICT,		/* the machine itself: its address or its token */
	IB_MACHINE_AUTH_OFF,		/* any host (warned at start); secrets and the
					 * token still only for the machine itself */
};

/*
 * Who may read GET /metrics (docs/METRICS.md): anyone who reaches the HTTP
 * port (open, the default: scrapers on a management network rarely carry
 * tokens), only with the API's bearer token, or nobody (404).
 */
enum ib_http_metrics_mode {
	IB_METRICS_OPEN,		/* no token needed */
	IB_METRICS_TOKEN,		/* the API's bearer token, when it has one */
	IB_METRICS_OFF,			/* not served */
};

/*
 * The HTTP boot service.  Relative directories are resolved against the
 * directory of the config file at load, so the snapshot holds absolute
 * paths (when the config path itself was relative: relative to the
 * current directory at load time).
 */
struct ib_http_config {
	bool enabled;			/* serve HTTP (default: section present) */
	char **listen;			/* addresses to bind; default 0.0.0.0 and :: */
	size_t n_listen;
	uint16_t port;			/* 8080 */
	char *base_url;			/* "http://host:port", no trailing '/'; see below */
	char *assets;			/* directory served at /assets/ */
	char *templates;		/* directory template names resolve under */
	char *api_token_file;		/* bearer token for the REST API, or NULL */
	struct ib_http_tls tls;		/* both set or both NULL */
	enum ib_machine_auth_mode machine_auth;	/* http.machine_auth, default strict */
	enum ib_http_metrics_mode metrics;	/* http.metrics, default open */
	uint16_t max_followers;		/* live event streams at once (GET
					 * /api/v1/events?follow=1), default 8 */
	uint16_t max_followers_per_client; /* of those, from one address, default 2 */
};

/*
 * The machine lifecycle (issue #12; docs/LIFECYCLE.md): machines with no
 * inventory entry are tracked in the store from their first boot script
 * fetch and boot the agent until they are allocated.  Off without a
 * lifecycle section: then every machine boots as its group says.
 */
struct ib_lifecycle_config {
	bool enabled;			/* default: the section is present */
	bool auto_discover;		/* an unknown machine's first script fetch makes
					 * it "discovered" (default true) */
	char *agent_kernel;		/* path under http.assets (agent/vmlinuz) */
	char *agent_initrd;		/* path under http.assets (agent/initrd.img) */
	uint32_t wipe_timeout;		/* seconds a machine may stay wiping before
					 * it fails (step wipe, reason timeout) */
	uint32_t install_timeout;	/* the same for installing (step install) */
};

#define IB_LC_WIPE_TIMEOUT_DEFAULT 1800		/* 30 min */
#define IB_LC_INSTALL_TIMEOUT_DEFAULT 7200	/* 2 h */

/* What a profile boots. */
enum ib_boot_mode {
	IB_BOOT_KERNEL,			/* kernel + initrds + args over HTTP */
	IB_BOOT_LOCAL,			/* hand back to the firmware / local disk */
};

/* How IB_BOOT_LOCAL leaves iPXE: firmwares differ in what works. */
enum ib_local_method {
	IB_LOCAL_EXIT,			/* "exit": firmware tries the next device */
	IB_LOCAL_SANBOOT,		/* "sanboot --no-describe --drive 0x80" (BIOS) */
};

/* An install config served at /configs/<name> (kickstart, user-data...). */
struct ib_install_config {
	char *name;			/* URL name, [A-Za-z0-9._-] */
	char *template;			/* file name under http.templates */
	enum ib_tpl_context format;	/* escaping: text, yaml, json or shell */
	struct ib_tpl *tpl;		/* compiled at load; owned */
};

/* An OS image the lifecycle's agent writes to a disk (docs/AGENT.md
 * "Install"); url NULL: the profile has none. */
struct ib_profile_image {
	char *url;			/* http://ADDRESS-LITERAL[:port]/...: the agent has
					 * no resolver and no TLS */
	char *sha256;			/* 64 hex digits, of the bytes at url; or */
	char *sha256_file;		/* under http.assets: sha256sum's output for
					 * the image, read at each install */
	char *disk;			/* the disk's kernel name ("vda", "nvme0n1") */
	char *format;			/* raw (default), gzip or zstd */
};

struct ib_profile {
	char *name;			/* [A-Za-z0-9._-] */
	char *kernel;			/* path under assets, or an http(s) URL */
	char **initrd;			/* the same, in order */
	size_t n_initrd;
	char **args;			/* kernel args, one word each, templates */
	size_t n_args;
	enum ib_boot_mode boot;		/* kernel or local */
	enum ib_local_method local_method; /* for IB_BOOT_LOCAL */
	char *script;			/* custom script template name, or NULL */
	struct ib_install_config *configs;
	size_t n_configs;
	struct ib_kv *metadata;		/* free key: value, for templates */
	size_t n_metadata;
	struct ib_kv *secrets;		/* {{secrets.KEY}}, rendered only for the machine
					 * itself; never in API reads or the journal */
	size_t n_secrets;
	struct ib_tpl *script_tpl;	/* compiled script (custom or built-in); owned */
	struct ib_profile_image image;	/* image: for the lifecycle's agent */
	bool api;			/* stored through the REST API, not in the file */
};

/* Which machines a group takes.  Unset fields match anything. */
struct ib_selector {
	bool has_mac;			/* mac is set */
	uint8_t mac[6];			/* Ethernet address */
	char *uuid;			/* SMBIOS UUID, compared case-insensitively */
	char *hostname;			/* compared case-insensitively */
	char *serial;			/* exact */
	char *arch;			/* iPXE ${buildarch}: i386, x86_64, arm64 */
	char *platform;			/* iPXE ${platform}: pcbios, efi */
	struct ib_kv *labels;		/* every one must be on the machine entry */
	size_t n_labels;
	/* On the lifecycle's hardware report (docs/LIFECYCLE.md): a machine
	 * without one matches none of these. */
	char *vendor;			/* system vendor (DMI), case-insensitive */
	char *product;			/* system product (DMI), case-insensitive */
	uint32_t disk_min_gib;		/* some disk of at least this size, or 0 */
	uint32_t memory_min_gib;	/* memory (MemTotal) at least this, or 0 */
};

struct ib_group {
	char *name;			/* [A-Za-z0-9._-] */
	char *profile;			/* name of a profile */
	size_t profile_idx;		/* its index in profiles (resolved at load) */
	struct ib_selector selector;	/* empty: the catch-all default group */
	unsigned specificity;		/* constraints in selector, labels one each */
	struct ib_kv *metadata;		/* overrides the profile's keys */
	size_t n_metadata;
	bool api;			/* stored through the REST API, not in the file */
};

/* What the inventory knows about a machine, keyed by MAC. */
struct ib_machine {
	bool has_mac;			/* always true once loaded (required) */
	uint8_t mac[6];			/* Ethernet address */
	char *hostname;			/* wins over the request's, or NULL */
	char *uuid;			/* or NULL */
	char *serial;			/* or NULL */
	struct ib_kv *labels;		/* matched by group selectors */
	size_t n_labels;
	struct ib_kv *metadata;		/* for templates, over group and profile */
	size_t n_metadata;
	struct ib_kv *secrets;		/* as the profile's, over them */
	size_t n_secrets;
	bool api;			/* stored through the REST API, not in the file */
};

/*
 * Power control through BMCs (docs/POWER.md): the daemon's pool and its
 * reconciliation.  Without secrets_file no operation can authenticate:
 * every BMC's operations fail with -ENOKEY, naming the BMC.
 */
struct ib_power_config {
	char *secrets_file;		/* the 0600 secrets file (absolute), or NULL */
	uint32_t poll_interval;		/* seconds between STATUS polls of every BMC;
					 * 0 = no reconciliation (default 60) */
	uint32_t concurrency;		/* BMCs talked to at once: the pool's workers
					 * (1..256, default 32) */
	uint32_t off_check_grace;	/* seconds after a "wait" instruction before
					 * checking the machine is off (default 10) */
	uint32_t off_check_timeout;	/* seconds it may take to be off (default 120) */
	char *default_credential;	/* a machine whose agent reports a BMC address
					 * and that has no entry gets one with this
					 * credential, or NULL: reports add none */
	int default_driver;		/* and this driver (enum ib_bmc_driver; ipmi) */
};

/* enum ib_bmc_driver's names in the config, in its order. */
#define IB_CFG_BMC_DRIVERS { "ipmi", "redfish", NULL }

/*
 * One machine's BMC (the bmcs list, or PUT /api/v1/machines/MAC/bmc).
 * The keys are read into the fields below; the section's check turns
 * them into bmc, the entry the power module runs (power.h), so the
 * daemon never parses anything again.
 */
struct ib_bmc_config {
	bool has_mac;			/* mac is set (required) */
	uint8_t mac[6];			/* the machine's boot NIC */
	char *name;			/* for logs and errors; default: the MAC */
	int driver;			/* enum ib_bmc_driver */
	char *address;			/* IPMI host; Redfish URL or host (https:// added) */
	uint16_t port;			/* 0 = the protocol's (623, 443) */
	char *credential;		/* a name in power.secrets_file (never a password) */
	uint32_t cipher_suite;		/* IPMI: 3 or 17 (default 3) */
	bool efi;			/* boot overrides ask for UEFI */
	bool insecure;			/* Redfish: no TLS verification (explicit) */
	int auth;			/* Redfish: 0 session (default), 1 basic */
	char *ca_file;			/* Redfish: CA bundle (absolute), or NULL */
	char *system;			/* Redfish: the system's path, or NULL: discover */
	uint32_t timeout_ms;		/* one attempt (default 5000) */
	uint32_t retries;		/* further attempts after a timeout (default 1) */
	uint32_t deadline_ms;		/* the whole operation; 0 = derived */
	char **ipmi_workarounds;	/* freeipmi workaround names */
	size_t n_ipmi_workarounds;
	struct ib_bmc bmc;		/* all of the above, checked (power.h) */
	bool api;			/* stored through the REST API, not in the file */
};

struct ib_config {
	char *path;			/* file this snapshot was loaded from */
	struct ib_server_config server;
	struct ib_dhcp4_config dhcp4;
	struct ib_dhcp6_config dhcp6;
	struct ib_boot_config boot;
	struct ib_tftp_config tftp;
	struct ib_journal_config journal;
	struct ib_http_config http;
	struct ib_lifecycle_config lifecycle;
	struct ib_power_config power;	/* the power section */
	struct ib_profile *profiles;
	size_t n_profiles;
	struct ib_group *groups;	/* in file order */
	size_t n_groups;
	struct ib_machine *machines;	/* in file order, MACs unique */
	size_t n_machines;
	struct ib_bmc_config *bmcs;	/* in file order, then the API's; MACs unique */
	size_t n_bmcs;
};

/*
 * Loads and validates path into a new snapshot.  On failure returns a
 * negative errno and writes one line "file:line:col: key: problem" into
 * err (IB_CONFIG_ERRLEN bytes).  The caller owns *ret (ib_config_free).
 */
int ib_config_load(const char *path, struct ib_config **ret, char *err);
/* The same from a buffer; name is used in error messages. */
int ib_config_load_buffer(const char *name, const void *buf, size_t len,
			  struct ib_config **ret, char *err);
void ib_config_free(struct ib_config *cfg);

/* The inventory lists an API object can join. */
enum ib_config_kind {
	IB_CONFIG_PROFILES,		/* "profiles" */
	IB_CONFIG_GROUPS,		/* "groups" */
	IB_CONFIG_MACHINES,		/* "machines" */
	IB_CONFIG_BMCS,			/* "bmcs": a machine's BMC, keyed by its MAC */
	IB_CONFIG_N_KINDS,
};

/* An inventory object kept in the store, as the REST API wrote it. */
struct ib_config_object {
	enum ib_config_kind kind;	/* which list it joins */
	const char *name;		/* its key: a profile or group name, a machine's MAC */
	const char *json;		/* the object, JSON text (a YAML flow mapping) */
};

/* A config file's bytes, read once, so the inventory can be joined with
 * the file as it was loaded, not as it may have been edited since. */
struct ib_config_text {
	const char *name;		/* file name for messages (not owned) */
	char *buf;			/* its bytes, owned (free()) */
	size_t len;			/* bytes in buf */
};

/* Reads path (at most 16 MiB) into *ret.  0, or -errno with err set. */
int ib_config_read(const char *path, struct ib_config_text *ret, char *err);

/* ib_config_load_with() over text already read. */
int ib_config_load_text_with(const struct ib_config_text *t,
			     const struct ib_config_object *objs, size_t n_objs,
			     struct ib_config **ret, char *err);

/*
 * ib_config_load() with inventory objects appended after the file's own
 * items of their lists, then validated as one: a group may select an API
 * profile, a duplicate name is an error.  An error inside an object names
 * "api:<kind>/<name>" instead of the file.  Items from objects get
 * api = true.
 */
int ib_config_load_with(const char *path, const struct ib_config_object *objs,
			size_t n_objs, struct ib_config **ret, char *err);

/* The BMC entry of the machine with mac, or NULL. */
const struct ib_bmc_config *ib_config_bmc_for(const struct ib_config *cfg,
					      const uint8_t mac[6]);

/* "profiles", "groups", "machines" or "bmcs"; and back (-EINVAL for others). */
const char *ib_config_kind_name(enum ib_config_kind kind);
int ib_config_kind_parse(const char *s, enum ib_config_kind *ret);

/* Finds the subnet containing addr, or NULL. */
const struct ib_subnet4 *ib_config_subnet_for(const struct ib_config *cfg,
					      uint32_t addr);
/* Finds the IPv6 subnet containing addr (network order), or NULL. */
const struct ib_subnet6 *ib_config_subnet6_for(const struct ib_config *cfg,
					       const uint8_t addr[16]);

#endif
