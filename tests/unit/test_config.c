/*
 * Configuration loader: every class of bad file fails with the exact
 * "name:line:col: key.path: problem" an operator would see; examples/lab.yaml
 * loads with the values it says; defaults are what config.c promises.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "common/log.h"
#include "config/config.h"

/* A file that must not load, and the start of the message it must give. */
struct bad_case {
	const char *name;		/* test name */
	const char *yaml;		/* file contents */
	const char *error;		/* expected message prefix */
};

/* A small valid base that the cases below vary. */
#define SUBNET0 \
	"dhcp4:\n" \
	"  subnets:\n" \
	"    - subnet: 10.0.0.0/24\n" \
	"      pools:\n" \
	"        - { start: 10.0.0.100, end: 10.0.0.199 }\n"

/* A small valid dhcp6 base: one /64 with one pool. */
#define SUBNET6 \
	"dhcp6:\n" \
	"  subnets:\n" \
	"    - subnet: fd00::/64\n" \
	"      pools:\n" \
	"        - { start: \"fd00::1000\", end: \"fd00::1fff\" }\n"
#define RES6 "      reservations:\n"

/* 131 bytes of DUID, one more than RFC 8415 11.1 allows. */
#define HEX16 "00112233445566778899aabbccddeeff"
#define DUID131 HEX16 HEX16 HEX16 HEX16 HEX16 HEX16 HEX16 HEX16 "ffeedd"
/* 224 characters: a long, valid bootfile parameter. */
#define P224 HEX16 HEX16 HEX16 HEX16 HEX16 HEX16 HEX16

/* The HTTP boot service: an http section and one profile named p. */
#define HTTP0 "http: { listen: [198.18.0.1] }\nprofiles:\n"
#define HTTP1 HTTP0 "  - { name: p, kernel: vmlinuz }\n"

static const struct bad_case bad_cases[] = {
	/* YAML itself */
	{ "syntax_unclosed_flow", "server:\n  log_level: [info\n",
	  "t.yaml:3:1: yaml: did not find expected ',' or ']' (while parsing a flow sequence at line 2)" },
	{ "syntax_tab_indent", "server:\n\tsyslog: true\n",
	  "t.yaml:2:1: yaml: found character that cannot start any token (while scanning for the next token at line 2)" },
	{ "syntax_bad_indent", "server:\n  syslog: true\n user: x\n",
	  "t.yaml:3:2: yaml: did not find expected key (while parsing a block mapping at line 1)" },
	{ "syntax_bad_utf8", "server:\n  user: \"a\xff\"\n",
	  "t.yaml:2:11: yaml: invalid leading UTF-8 octet" },
	{ "alias", "server: &s\n  syslog: true\njournal: *s\n",
	  "t.yaml:3:10: yaml: aliases are not supported" },
	{ "two_documents", "server: {}\n---\njournal: {}\n",
	  "t.yaml:2:1: yaml: only one document is allowed" },
	{ "too_deep", "server: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	  "t.yaml:1:40: nested too deeply (at most 32 levels)" },
	{ "top_level_sequence", "- server\n",
	  "t.yaml:1:1: expected a mapping at the top level, got a sequence" },
	{ "complex_key", "server:\n  ? [a]\n  : b\n",
	  "t.yaml:2:5: server: expected a key, got a sequence" },

	/* keys */
	{ "unknown_top_key", "servr:\n  syslog: true\n", "t.yaml:1:1: servr: unknown key" },
	{ "unknown_subnet_key", SUBNET0 "      leasetime: 60\n",
	  "t.yaml:6:7: dhcp4.subnets[0].leasetime: unknown key" },
	{ "unknown_reservation_key", SUBNET0
	  "      reservations:\n        - { mac: 52:54:00:00:00:01, address: 10.0.0.5, ip: 1 }\n",
	  "t.yaml:7:56: dhcp4.subnets[0].reservations[0].ip: unknown key" },
	{ "unknown_key_sanitised", "server:\n  \"a\\x01b\": 1\n",
	  "t.yaml:2:3: server.a\\x01b: unknown key" },
	{ "duplicate_key", "server:\n  syslog: true\n  syslog: false\n",
	  "t.yaml:3:3: server.syslog: duplicate key (first at 2:3)" },
	{ "duplicate_section", "journal: {}\ntftp: {}\njournal: {}\n",
	  "t.yaml:3:1: journal: duplicate key (first at 1:1)" },
	{ "missing_subnet", "dhcp4:\n  subnets:\n    - pools: []\n",
	  "t.yaml:3:7: dhcp4.subnets[0]: missing subnet" },
	{ "missing_address", SUBNET0 "      reservations:\n        - mac: 52:54:00:00:00:01\n",
	  "t.yaml:7:11: dhcp4.subnets[0].reservations[0]: missing address" },
	{ "missing_pool_end", "dhcp4:\n  subnets:\n    - subnet: 10.0.0.0/24\n      pools: [{start: 10.0.0.1}]\n",
	  "t.yaml:4:15: dhcp4.subnets[0].pools[0]: missing end" },

	/* types */
	{ "section_is_scalar", "dhcp4: yes\n", "t.yaml:1:8: dhcp4: expected a mapping, got a scalar" },
	{ "string_is_sequence", "server:\n  user: [a]\n",
	  "t.yaml:2:9: server.user: expected a string, got a sequence" },
	{ "list_is_scalar", SUBNET0 "      routers: 10.0.0.1\n",
	  "t.yaml:6:16: dhcp4.subnets[0].routers: expected a sequence, got a scalar" },
	{ "list_is_mapping", "dhcp4:\n  subnets:\n    - subnet: 10.0.0.0/24\n      pools: { start: 10.0.0.1, end: 10.0.0.2 }\n",
	  "t.yaml:4:14: dhcp4.subnets[0].pools: expected a sequence, got a mapping" },
	{ "list_item_is_mapping", "dhcp4:\n  interfaces: [{a: b}]\n",
	  "t.yaml:2:16: dhcp4.interfaces[0]: expected a string, got a mapping" },
	{ "map_item_is_scalar", "dhcp4:\n  subnets: [10.0.0.0/24]\n",
	  "t.yaml:2:13: dhcp4.subnets[0]: expected a mapping, got a scalar" },
	{ "not_an_integer", "tftp:\n  port: tftp\n",
	  "t.yaml:2:9: tftp.port: expected an integer, got 'tftp'" },
	{ "integer_hex", "tftp:\n  port: 0x45\n",
	  "t.yaml:2:9: tftp.port: expected an integer, got '0x45'" },
	{ "integer_leading_zero", "tftp:\n  port: 069\n",
	  "t.yaml:2:9: tftp.port: expected an integer, got '069'" },
	{ "integer_quoted", "tftp:\n  port: \"69\"\n",
	  "t.yaml:2:9: tftp.port: expected an integer, got a quoted string" },
	{ "integer_null_item", "tftp:\n  port: [1]\n",
	  "t.yaml:2:9: tftp.port: expected an integer, got a sequence" },
	{ "port_zero", "dhcp4:\n  port: 0\n", "t.yaml:2:9: dhcp4.port: 0 is out of range 1..65535" },
	{ "port_too_big", "tftp:\n  port: 65536\n", "t.yaml:2:9: tftp.port: 65536 is out of range 1..65535" },
	{ "integer_negative", "dhcp4:\n  offer_hold: -5\n",
	  "t.yaml:2:15: dhcp4.offer_hold: -5 is out of range 1..3600" },
	{ "integer_overflow", "journal:\n  max_events: 4294967296\n",
	  "t.yaml:2:15: journal.max_events: 4294967296 is out of range 1..4294967295" },
	{ "mtu_too_small", SUBNET0 "      mtu: 67\n",
	  "t.yaml:6:12: dhcp4.subnets[0].mtu: 67 is out of range 68..65535" },
	{ "lease_time_zero", SUBNET0 "      lease_time: 0\n",
	  "t.yaml:6:19: dhcp4.subnets[0].lease_time: 0 is out of range 10..4294967295" },
	{ "blksize_too_big", "tftp:\n  max_blksize: 65465\n",
	  "t.yaml:2:16: tftp.max_blksize: 65465 is out of range 8..65464" },
	/* 1 MiB unsent per follower: 64 MiB at most in all */
	{ "followers_too_many", "http:\n  max_followers: 65\n",
	  "t.yaml:2:18: http.max_followers: 65 is out of range 0..64" },
	{ "followers_per_client_zero", "http:\n  max_followers_per_client: 0\n",
	  "t.yaml:2:29: http.max_followers_per_client: 0 is out of range 1..64" },
	{ "bool_yes", "server:\n  syslog: yes\n",
	  "t.yaml:2:11: server.syslog: expected true or false, got 'yes'" },
	{ "bool_quoted", "server:\n  syslog: \"true\"\n",
	  "t.yaml:2:11: server.syslog: expected true or false, got a quoted string" },
	{ "mode_relay", "dhcp4:\n  mode: relay\n",
	  "t.yaml:2:9: dhcp4.mode: expected server or proxy" },
	{ "log_level_verbose", "server:\n  log_level: verbose\n",
	  "t.yaml:2:14: server.log_level: expected err, warning, notice, info or debug" },

	/* addresses */
	{ "bad_ip", SUBNET0 "      routers: [10.0.0.1, 10.0.0.256]\n",
	  "t.yaml:6:27: dhcp4.subnets[0].routers[1]: expected an IPv4 address, got '10.0.0.256'" },
	{ "bad_cidr_no_len", "dhcp4:\n  subnets:\n    - subnet: 10.0.0.0\n",
	  "t.yaml:3:15: dhcp4.subnets[0].subnet: expected an IPv4 prefix (a.b.c.d/len), got '10.0.0.0'" },
	{ "bad_cidr_len", "dhcp4:\n  subnets:\n    - subnet: 10.0.0.0/33\n",
	  "t.yaml:3:15: dhcp4.subnets[0].subnet: expected an IPv4 prefix (a.b.c.d/len), got '10.0.0.0/33'" },
	{ "cidr_host_bits", "dhcp4:\n  subnets:\n    - subnet: 10.0.0.1/24\n",
	  "t.yaml:3:15: dhcp4.subnets[0].subnet: 10.0.0.1/24 has host bits set (did you mean 10.0.0.0/24?)" },
	{ "route_host_bits", SUBNET0 "      routes:\n        - { destination: 10.1.2.3/16, gateway: 10.0.0.1 }\n",
	  "t.yaml:7:26: dhcp4.subnets[0].routes[0].destination: 10.1.2.3/16 has host bits set (did you mean 10.1.0.0/16?)" },
	{ "bad_mac", SUBNET0 "      reservations:\n        - { mac: 52:54:00:00:00, address: 10.0.0.5 }\n",
	  "t.yaml:7:18: dhcp4.subnets[0].reservations[0].mac: expected a MAC address (aa:bb:cc:dd:ee:ff), got '52:54:00:00:00'" },
	{ "bad_hex", SUBNET0 "      reservations:\n        - { client_id: \"01:5g\", address: 10.0.0.5 }\n",
	  "t.yaml:7:24: dhcp4.subnets[0].reservations[0].client_id: expected hex bytes (01:02:0a or 01020a), got '01:5g'" },
	{ "client_id_short", SUBNET0 "      reservations:\n        - { client_id: \"01\", address: 10.0.0.5 }\n",
	  "t.yaml:7:24: dhcp4.subnets[0].reservations[0].client_id: 1 bytes, expected 2..255" },
	{ "listen_bad", "tftp:\n  listen: [\"::1\", 10.0.0.300]\n",
	  "t.yaml:2:19: tftp.listen[1]: '10.0.0.300' is not an IPv4 or IPv6 address" },
	{ "ifname_too_long", "dhcp4:\n  interfaces: [abcdefghijklmnop]\n",
	  "t.yaml:2:16: dhcp4.interfaces[0]: 'abcdefghijklmnop' is not an interface name" },

	/* strings and names */
	{ "control_char", "server:\n  user: \"ad\\tmin\"\n",
	  "t.yaml:2:9: server.user: control character 0x09 at offset 2" },
	{ "nul_char", "boot:\n  bios: \"a\\0b\"\n",
	  "t.yaml:2:9: boot.bios: control character 0x00 at offset 1" },
	{ "c1_control_char", "boot:\n  bios: \"a\\x85b\"\n",
	  "t.yaml:2:9: boot.bios: control character 0xc2 at offset 1" },
	{ "empty_string", "server:\n  user: \"\"\n", "t.yaml:2:9: server.user: must not be empty" },
	{ "relative_root", "tftp:\n  root: srv/tftp\n", "t.yaml:2:9: tftp.root: must be an absolute path" },
	{ "hostname_underscore", SUBNET0
	  "      reservations:\n        - { mac: 52:54:00:00:00:01, address: 10.0.0.5, hostname: node_1 }\n",
	  "t.yaml:7:66: dhcp4.subnets[0].reservations[0].hostname: 'node_1' is not a valid DNS name: it may hold only letters, digits, '-' and '.'" },
	{ "hostname_hyphen", SUBNET0
	  "      reservations:\n        - { mac: 52:54:00:00:00:01, address: 10.0.0.5, hostname: node-.lab }\n",
	  "t.yaml:7:66: dhcp4.subnets[0].reservations[0].hostname: 'node-.lab' is not a valid DNS name: it has a label starting or ending with '-'" },
	{ "hostname_long_label", SUBNET0
	  "      reservations:\n        - { mac: 52:54:00:00:00:01, address: 10.0.0.5, hostname: "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa }\n",
	  "t.yaml:7:66: dhcp4.subnets[0].reservations[0].hostname: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not a valid DNS name: it has a label longer than 63 bytes" },
	{ "domain_search_empty_label", SUBNET0 "      domain_search: [lab.example, \"example..com\"]\n",
	  "t.yaml:6:36: dhcp4.subnets[0].domain_search[1]: 'example..com' is not a valid DNS name: it has an empty label" },
	{ "domain_name_space", SUBNET0 "      domain_name: \"lab example\"\n",
	  "t.yaml:6:20: dhcp4.subnets[0].domain_name: 'lab example' is not a valid DNS name: it may hold only letters, digits, '-' and '.'" },

	/* caps */
	{ "too_many_routers", SUBNET0 "      routers: [1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, "
	  "1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1, 1.1.1.1]\n",
	  "t.yaml:6:16: dhcp4.subnets[0].routers: too many items (17, at most 16)" },

	/* pools and subnets */
	{ "pool_reversed", "dhcp4:\n  subnets:\n    - subnet: 10.0.0.0/24\n      pools:\n        - { start: 10.0.0.200, end: 10.0.0.100 }\n",
	  "t.yaml:5:11: dhcp4.subnets[0].pools[0]: pool start 10.0.0.200 is after its end 10.0.0.100" },
	{ "pool_outside_subnet", SUBNET0 "        - { start: 10.0.1.10, end: 10.0.1.20 }\n",
	  "t.yaml:6:11: dhcp4.subnets[0].pools[1]: pool 10.0.1.10-10.0.1.20 is outside subnet 10.0.0.0/24" },
	{ "pool_has_broadcast", SUBNET0 "        - { start: 10.0.0.200, end: 10.0.0.255 }\n",
	  "t.yaml:6:11: dhcp4.subnets[0].pools[1]: pool 10.0.0.200-10.0.0.255 includes the network or broadcast address of 10.0.0.0/24" },
	{ "pools_overlap", SUBNET0 "        - { start: 10.0.0.150, end: 10.0.0.250 }\n",
	  "t.yaml:6:11: dhcp4.subnets[0].pools[1]: pool 10.0.0.150-10.0.0.250 overlaps pool 10.0.0.100-10.0.0.199 of dhcp4.subnets[0].pools[0]" },
	{ "pools_overlap_across_subnets", SUBNET0
	  "    - subnet: 10.0.0.0/16\n      pools:\n        - { start: 10.0.0.180, end: 10.0.0.220 }\n",
	  "t.yaml:8:11: dhcp4.subnets[1].pools[0]: pool 10.0.0.180-10.0.0.220 overlaps pool 10.0.0.100-10.0.0.199 of dhcp4.subnets[0].pools[0]" },
	{ "subnets_overlap", SUBNET0 "    - subnet: 10.0.0.128/25\n",
	  "t.yaml:6:15: dhcp4.subnets[1].subnet: subnet 10.0.0.128/25 overlaps 10.0.0.0/24 of dhcp4.subnets[0]" },
	{ "broadcast_outside", SUBNET0 "      broadcast: 10.0.1.255\n",
	  "t.yaml:6:18: dhcp4.subnets[0].broadcast: broadcast address is outside the subnet" },
	/* server.store: never a password in the file */
	{ "store_uri_password", "server:\n  store: postgresql://ib:pw@db/ib\n",
	  "t.yaml:2:10: server.store: the URI carries a password: put it in "
	  "server.store_password_file (or PGPASSFILE), never in the config" },
	{ "store_query_password", "server:\n  store: postgres://db/ib?sslmode=require&password=x\n",
	  "t.yaml:2:10: server.store: the URI carries a password: put it in "
	  "server.store_password_file (or PGPASSFILE), never in the config" },
	{ "store_unknown", "server:\n  store: mysql://db\n",
	  "t.yaml:2:10: server.store: must be sqlite or a postgresql:// URI" },
	{ "load_balancing_on_sqlite", "server:\n  load_balancing: true\n",
	  "t.yaml:2:19: server.load_balancing: needs a postgresql:// store: the daemons that "
	  "share the clients share their leases there" },
	{ "store_password_file_relative", "server:\n  store_password_file: pw\n",
	  "t.yaml:2:24: server.store_password_file: must be an absolute path" },
	{ "server_without_subnets", "dhcp4:\n  enabled: true\n",
	  "t.yaml:2:12: dhcp4.enabled: enabled in server mode but no subnets are configured" },
	{ "tftp_per_client", "tftp:\n  max_transfers: 10\n  max_per_client: 20\n",
	  "t.yaml:3:19: tftp.max_per_client: max_per_client (20) exceeds max_transfers (10)" },

	/* lease timers */
	{ "t1_not_below_t2", SUBNET0 "      t1: 3000\n      t2: 3000\n",
	  "t.yaml:6:11: dhcp4.subnets[0].t1: t1 (3000) must be less than t2 (3000)" },
	{ "t1_above_default_t2", SUBNET0 "      t1: 3500\n",
	  "t.yaml:6:11: dhcp4.subnets[0].t1: t1 (3500) must be less than t2 (3150, 87.5% of lease_time)" },
	{ "t2_not_below_lease", SUBNET0 "      t2: 3600\n",
	  "t.yaml:6:11: dhcp4.subnets[0].t2: t2 (3600) must be less than lease_time (3600)" },

	/* reservations */
	{ "reservation_no_key", SUBNET0 "      reservations:\n        - { address: 10.0.0.5, hostname: a }\n",
	  "t.yaml:7:11: dhcp4.subnets[0].reservations[0]: a reservation needs a mac or a client_id" },
	{ "reservation_other_subnet", SUBNET0
	  "      reservations:\n        - { mac: 52:54:00:00:00:01, address: 10.0.1.5 }\n"
	  "    - subnet: 10.0.1.0/24\n",
	  "t.yaml:7:46: dhcp4.subnets[0].reservations[0].address: 10.0.1.5 is outside subnet 10.0.0.0/24" },
	{ "reservation_broadcast", SUBNET0
	  "      reservations:\n        - { mac: 52:54:00:00:00:01, address: 10.0.0.255 }\n",
	  "t.yaml:7:46: dhcp4.subnets[0].reservations[0].address: 10.0.0.255 is the network or broadcast address of 10.0.0.0/24" },
	{ "reservation_in_pool", SUBNET0
	  "      reservations:\n        - { mac: 52:54:00:00:00:01, address: 10.0.0.150 }\n",
	  "t.yaml:7:46: dhcp4.subnets[0].reservations[0].address: 10.0.0.150 is inside pool 10.0.0.100-10.0.0.199 (ambiguous: reserve addresses outside the pools)" },
	{ "duplicate_mac", SUBNET0 "      reservations:\n"
	  "        - { mac: 52:54:00:00:00:01, address: 10.0.0.5 }\n"
	  "        - { mac: 52-54-00-00-00-01, address: 10.0.0.6 }\n",
	  "t.yaml:8:18: dhcp4.subnets[0].reservations[1].mac: duplicate mac: also in reservations[0]" },
	{ "duplicate_client_id", SUBNET0 "      reservations:\n"
	  "        - { client_id: \"01:02:03\", address: 10.0.0.5 }\n"
	  "        - { client_id: \"010203\", address: 10.0.0.6 }\n",
	  "t.yaml:8:24: dhcp4.subnets[0].reservations[1].client_id: duplicate client_id: also in reservations[0]" },
	{ "duplicate_address", SUBNET0 "      reservations:\n"
	  "        - { mac: 52:54:00:00:00:01, address: 10.0.0.5 }\n"
	  "        - { mac: 52:54:00:00:00:02, address: 10.0.0.5 }\n",
	  "t.yaml:8:46: dhcp4.subnets[0].reservations[1].address: duplicate address: also in reservations[0]" },

	/* the HTTP boot service */
	{ "group_unknown_profile", HTTP1 "groups:\n  - { name: a, profile: q }\n",
	  "t.yaml:5:25: groups[0].profile: unknown profile 'q'" },
	{ "group_overlap", HTTP1 "groups:\n"
	  "  - { name: a, profile: p, selector: { mac: \"52:54:00:00:00:01\" } }\n"
	  "  - { name: b, profile: p, selector: { labels: { rack: r1 } } }\n",
	  "t.yaml:6:5: groups[1]: group 'b' overlaps group 'a' (t.yaml:5:5): both have specificity 1 "
	  "and a machine could match both; make one more specific or their selectors disjoint" },
	{ "group_two_defaults", HTTP1 "groups:\n"
	  "  - { name: a, profile: p, selector: { platform: efi, arch: x86_64 } }\n"
	  "  - { name: b, profile: p, selector: { platform: pcbios, arch: x86_64 } }\n"
	  "  - { name: c, profile: p }\n  - { name: d, profile: p }\n",
	  "t.yaml:8:5: groups[3]: group 'd' is a second catch-all (empty selector) after group 'c' "
	  "(t.yaml:7:5): at most one default group" },
	{ "group_duplicate_name", HTTP1 "groups:\n  - { name: a, profile: p }\n"
	  "  - { name: a, profile: p, selector: { arch: i386 } }\n",
	  "t.yaml:6:13: groups[1].name: duplicate group name: also in groups[0]" },
	{ "profile_duplicate_name", HTTP1 "  - { name: p, boot: local }\n",
	  "t.yaml:4:13: profiles[1].name: duplicate profile name: also in profiles[0]" },
	{ "profile_bad_name", HTTP0 "  - { name: \"p x\", kernel: v }\n",
	  "t.yaml:3:13: profiles[0].name: a name is 1..64 of A-Z a-z 0-9 . _ -" },
	{ "profile_no_kernel", HTTP0 "  - { name: p }\n",
	  "t.yaml:3:5: profiles[0]: missing kernel (or boot: local, or a script)" },
	{ "profile_bad_boot", HTTP0 "  - { name: p, kernel: v, boot: net }\n",
	  "t.yaml:3:33: profiles[0].boot: expected kernel or local" },
	{ "profile_kernel_dotdot", HTTP0 "  - { name: p, kernel: ../vmlinuz }\n",
	  "t.yaml:3:24: profiles[0].kernel: a path under http.assets must be relative and without '..'" },
	{ "profile_arg_two_words", HTTP0 "  - { name: p, kernel: v, args: [\"a b\"] }\n",
	  "t.yaml:3:34: profiles[0].args[0]: a kernel arg must be one word (no blanks or '\\')" },
	{ "profile_arg_template", HTTP0 "  - { name: p, kernel: v, args: [\"x={{host\"] }\n",
	  "t.yaml:3:34: profiles[0].args[0]: template error: arg:1:3: unterminated tag" },
	{ "template_name_dotdot", HTTP0 "  - { name: p, kernel: v, script: ../x.ipxe }\n",
	  "t.yaml:3:35: profiles[0].script: template name must be relative, without '..' or empty components" },
	{ "template_name_absolute", HTTP0
	  "  - { name: p, kernel: v, configs: [ { name: ks, template: /etc/passwd } ] }\n",
	  "t.yaml:3:60: profiles[0].configs[0].template: template name must be relative, without '..' or empty components" },
	{ "http_wildcard_no_base_url", "http: {}\n",
	  "t.yaml:1:7: http: base_url is required when every listen address is a wildcard" },
	{ "http_wildcard_spelt_otherwise", "http: { listen: [\"::0\", \"0::\"] }\n",
	  "t.yaml:1:17: http.listen: base_url is required when every listen address is a wildcard" },
	{ "http_base_url_v6_unbracketed", "http: { base_url: \"http://fd00::1:8080\" }\n",
	  "t.yaml:1:19: http.base_url: an IPv6 address in a URL goes in brackets" },
	{ "profiles_without_http", "profiles:\n  - { name: p, kernel: v }\n",
	  "t.yaml:2:5: profiles[0]: profiles and groups need an http section" },
	{ "machine_duplicate_mac", "machines:\n  - { mac: \"52:54:00:00:00:01\" }\n"
	  "  - { mac: \"52-54-00-00-00-01\" }\n",
	  "t.yaml:3:12: machines[1].mac: duplicate mac: also in machines[0]" },
	{ "machine_label_control", "machines:\n  - { mac: \"52:54:00:00:00:01\", labels: { r: \"a\\nb\" } }\n",
	  "t.yaml:2:46: machines[0].labels.r: control character 0x0a at offset 1" },
	/* dhcp6: prefixes */
	{ "prefix6_host_bits", "dhcp6:\n  subnets:\n    - subnet: fd00::1/64\n",
	  "t.yaml:3:15: dhcp6.subnets[0].subnet: fd00::1/64 has host bits set (did you mean fd00::/64?)" },
	{ "prefix6_len_zero", "dhcp6:\n  subnets:\n    - subnet: ::/0\n",
	  "t.yaml:3:15: dhcp6.subnets[0].subnet: a subnet's prefix length is 1..128, not 0" },
	{ "prefix6_len_too_big", "dhcp6:\n  subnets:\n    - subnet: fd00::/129\n",
	  "t.yaml:3:15: dhcp6.subnets[0].subnet: expected an IPv6 prefix (addr/len), got 'fd00::/129'" },
	{ "prefix6_is_ipv4", "dhcp6:\n  subnets:\n    - subnet: 10.0.0.0/24\n",
	  "t.yaml:3:15: dhcp6.subnets[0].subnet: expected an IPv6 prefix, got '10.0.0.0/24' (an IPv4 prefix)" },
	{ "prefix6_no_len", "dhcp6:\n  subnets:\n    - subnet: \"fd00::\"\n",
	  "t.yaml:3:15: dhcp6.subnets[0].subnet: expected an IPv6 prefix (addr/len), got 'fd00::'" },
	{ "subnets6_overlap", SUBNET6 "    - subnet: fd00::/56\n",
	  "t.yaml:6:15: dhcp6.subnets[1].subnet: subnet fd00::/56 overlaps fd00::/64 of dhcp6.subnets[0]" },

	/* dhcp6: addresses */
	{ "ip6_is_ipv4", SUBNET6 "      dns: [10.0.0.1]\n",
	  "t.yaml:6:13: dhcp6.subnets[0].dns[0]: expected an IPv6 address, got '10.0.0.1' (an IPv4 address)" },
	{ "ip6_bad", SUBNET6 "      ntp: [\"fd00::1\", \"fd00::g\"]\n",
	  "t.yaml:6:24: dhcp6.subnets[0].ntp[1]: expected an IPv6 address, got 'fd00::g'" },
	{ "pool6_start_ipv4", "dhcp6:\n  subnets:\n    - subnet: fd00::/64\n      pools: [{ start: 10.0.0.1, end: \"fd00::2\" }]\n",
	  "t.yaml:4:24: dhcp6.subnets[0].pools[0].start: expected an IPv6 address, got '10.0.0.1' (an IPv4 address)" },
	{ "next_server6_ipv4", "boot:\n  next_server6: 198.18.0.1\n",
	  "t.yaml:2:17: boot.next_server6: expected an IPv6 address, got '198.18.0.1' (an IPv4 address)" },
	{ "relays6_not_an_address", "dhcp6:\n  relays: [\"fd00::2\", relay1]\n",
	  "t.yaml:2:23: dhcp6.relays[1]: expected an IPv6 address, got 'relay1'" },
	{ "subnet6_relay_ipv4", "dhcp6:\n  subnets:\n    - subnet: fd00::/64\n      relays: [198.18.0.2]\n",
	  "t.yaml:4:16: dhcp6.subnets[0].relays[0]: expected an IPv6 address, got '198.18.0.2' (an IPv4 address)" },

	/* dhcp6: pools */
	{ "pool6_reversed", "dhcp6:\n  subnets:\n    - subnet: fd00::/64\n      pools:\n"
	  "        - { start: \"fd00::2000\", end: \"fd00::1000\" }\n",
	  "t.yaml:5:11: dhcp6.subnets[0].pools[0]: pool start fd00::2000 is after its end fd00::1000" },
	{ "pool6_outside_subnet", SUBNET6 "        - { start: \"fd00:1::1\", end: \"fd00:1::2\" }\n",
	  "t.yaml:6:11: dhcp6.subnets[0].pools[1]: pool fd00:1::1-fd00:1::2 is outside subnet fd00::/64" },
	{ "pool6_anycast", SUBNET6 "        - { start: \"fd00::\", end: \"fd00::5\" }\n",
	  "t.yaml:6:11: dhcp6.subnets[0].pools[1]: pool fd00::-fd00::5 includes the Subnet-Router anycast address of fd00::/64" },
	{ "pools6_overlap", SUBNET6 "        - { start: \"fd00::1800\", end: \"fd00::2fff\" }\n",
	  "t.yaml:6:11: dhcp6.subnets[0].pools[1]: pool fd00::1800-fd00::2fff overlaps pool fd00::1000-fd00::1fff of dhcp6.subnets[0].pools[0]" },
	{ "pools6_overlap_across_subnets", SUBNET6
	  "    - subnet: fd00::/48\n      pools:\n        - { start: \"fd00::1f00\", end: \"fd00::2000\" }\n",
	  "t.yaml:8:11: dhcp6.subnets[1].pools[0]: pool fd00::1f00-fd00::2000 overlaps pool fd00::1000-fd00::1fff of dhcp6.subnets[0].pools[0]" },

	/* dhcp6: reservations */
	{ "reservation6_no_key", SUBNET6 RES6 "        - { address: \"fd00::5\", hostname: a }\n",
	  "t.yaml:7:11: dhcp6.subnets[0].reservations[0]: a reservation needs a mac or a duid" },
	{ "reservation6_outside", SUBNET6 RES6 "        - { mac: 52:54:00:00:00:01, address: \"fd00:1::5\" }\n",
	  "t.yaml:7:46: dhcp6.subnets[0].reservations[0].address: fd00:1::5 is outside subnet fd00::/64" },
	{ "reservation6_in_pool", SUBNET6 RES6 "        - { mac: 52:54:00:00:00:01, address: \"fd00::1234\" }\n",
	  "t.yaml:7:46: dhcp6.subnets[0].reservations[0].address: fd00::1234 is inside pool fd00::1000-fd00::1fff (ambiguous: reserve addresses outside the pools)" },
	{ "reservation6_missing_address", SUBNET6 RES6 "        - { mac: 52:54:00:00:00:01 }\n",
	  "t.yaml:7:11: dhcp6.subnets[0].reservations[0]: missing address" },
	{ "duplicate_mac6", SUBNET6 RES6
	  "        - { mac: 52:54:00:00:00:01, address: \"fd00::5\" }\n"
	  "        - { mac: 52-54-00-00-00-01, address: \"fd00::6\" }\n",
	  "t.yaml:8:18: dhcp6.subnets[0].reservations[1].mac: duplicate mac: also in dhcp6.subnets[0].reservations[0]" },
	{ "duplicate_mac6_across_subnets", SUBNET6 RES6
	  "        - { mac: 52:54:00:00:00:01, address: \"fd00::5\" }\n"
	  "    - subnet: fd00:1::/64\n" RES6
	  "        - { mac: 52:54:00:00:00:01, address: \"fd00:1::5\" }\n",
	  "t.yaml:10:18: dhcp6.subnets[1].reservations[0].mac: duplicate mac: also in dhcp6.subnets[0].reservations[0]" },
	{ "duplicate_duid6", SUBNET6 RES6
	  "        - { duid: \"00:04:01:02\", address: \"fd00::5\" }\n"
	  "        - { duid: \"00040102\", address: \"fd00::6\" }\n",
	  "t.yaml:8:19: dhcp6.subnets[0].reservations[1].duid: duplicate duid: also in dhcp6.subnets[0].reservations[0]" },
	{ "duid_ll_and_mac_same_machine", SUBNET6 RES6
	  "        - { mac: 52:54:00:00:00:01, address: \"fd00::5\" }\n"
	  "        - { duid: \"00:03:00:01:52:54:00:00:00:01\", address: \"fd00::6\" }\n",
	  "t.yaml:8:19: dhcp6.subnets[0].reservations[1].duid: same machine (MAC 52:54:00:00:00:01, from a DUID-LL/LLT) as dhcp6.subnets[0].reservations[0]" },
	{ "duid_llt_then_mac_same_machine", SUBNET6 RES6
	  "        - { duid: \"00:01:00:01:2a:2b:2c:2d:52:54:00:00:00:02\", address: \"fd00::5\" }\n"
	  "        - { mac: 52:54:00:00:00:02, address: \"fd00::6\" }\n",
	  "t.yaml:8:18: dhcp6.subnets[0].reservations[1].mac: same machine (MAC 52:54:00:00:00:02, from a DUID-LL/LLT) as dhcp6.subnets[0].reservations[0]" },
	{ "duplicate_address6", SUBNET6 RES6
	  "        - { mac: 52:54:00:00:00:01, address: \"fd00::5\" }\n"
	  "        - { mac: 52:54:00:00:00:02, address: \"fd00:0::5\" }\n",
	  "t.yaml:8:46: dhcp6.subnets[0].reservations[1].address: duplicate address: also in dhcp6.subnets[0].reservations[0]" },
	{ "duid_too_long", SUBNET6 RES6 "        - { duid: " DUID131 ", address: \"fd00::5\" }\n",
	  "t.yaml:7:19: dhcp6.subnets[0].reservations[0].duid: 131 bytes, expected 3..130" },
	{ "duid_too_short", SUBNET6 RES6 "        - { duid: \"00:01\", address: \"fd00::5\" }\n",
	  "t.yaml:7:19: dhcp6.subnets[0].reservations[0].duid: 2 bytes, expected 3..130" },

	/* dhcp6: lifetimes and timers */
	{ "valid_below_preferred", SUBNET6 "      preferred_lifetime: 3600\n      valid_lifetime: 1800\n",
	  "t.yaml:7:23: dhcp6.subnets[0].valid_lifetime: valid_lifetime (1800) must not be less than preferred_lifetime (3600)" },
	{ "lifetime_infinite", SUBNET6 "      valid_lifetime: 4294967295\n",
	  "t.yaml:6:23: dhcp6.subnets[0].valid_lifetime: 4294967295 is out of range 60..4294967294" },
	{ "lifetime_too_short", SUBNET6 "      preferred_lifetime: 30\n",
	  "t.yaml:6:27: dhcp6.subnets[0].preferred_lifetime: 30 is out of range 60..4294967294" },
	{ "t1_above_t2_6", SUBNET6 "      t1: 2000\n      t2: 1000\n",
	  "t.yaml:6:11: dhcp6.subnets[0].t1: t1 (2000) must not exceed t2 (1000)" },
	{ "t1_above_default_t2_6", SUBNET6 "      t1: 3000\n",
	  "t.yaml:6:11: dhcp6.subnets[0].t1: t1 (3000) must not exceed t2 (2880, 80% of preferred_lifetime)" },
	{ "t2_above_preferred", SUBNET6 "      t2: 4000\n",
	  "t.yaml:6:11: dhcp6.subnets[0].t2: t2 (4000) must not exceed preferred_lifetime (3600)" },

	/* dhcp6: the section */
	{ "unknown_dhcp6_key", "dhcp6:\n  rapid: true\n", "t.yaml:2:3: dhcp6.rapid: unknown key" },
	{ "unknown_subnet6_key", SUBNET6 "      lease_time: 60\n",
	  "t.yaml:6:7: dhcp6.subnets[0].lease_time: unknown key" },
	{ "unknown_ra_key", "dhcp6:\n  router_advertisements:\n    prefix: \"fd00::/64\"\n",
	  "t.yaml:3:5: dhcp6.router_advertisements.prefix: unknown key" },
	{ "dhcp6_without_subnets", "dhcp6:\n  enabled: true\n",
	  "t.yaml:2:12: dhcp6.enabled: enabled but no subnets are configured" },
	{ "subnet6_interface_not_listened", "dhcp6:\n  interfaces: [srv0]\n  subnets:\n"
	  "    - { subnet: \"fd00::/64\", interface: srv1 }\n",
	  "t.yaml:4:41: dhcp6.subnets[0].interface: interface 'srv1' is not in dhcp6.interfaces" },
	{ "subnet6_bad_interface", "dhcp6:\n  subnets:\n    - { subnet: \"fd00::/64\", interface: \"a/b\" }\n",
	  "t.yaml:3:41: dhcp6.subnets[0].interface: 'a/b' is not an interface name" },
	{ "ra_interval_low", "dhcp6:\n  router_advertisements:\n    interval: 3\n",
	  "t.yaml:3:15: dhcp6.router_advertisements.interval: 3 is out of range 4..1800" },
	{ "ra_interval_high", "dhcp6:\n  router_advertisements:\n    interval: 1801\n",
	  "t.yaml:3:15: dhcp6.router_advertisements.interval: 1801 is out of range 4..1800" },
	{ "ra_enabled_yes", "dhcp6:\n  router_advertisements:\n    enabled: yes\n",
	  "t.yaml:3:14: dhcp6.router_advertisements.enabled: expected auto, false or true" },
	{ "ra_no_interfaces", "dhcp6:\n  router_advertisements:\n    enabled: true\n",
	  "t.yaml:3:14: dhcp6.router_advertisements.enabled: router advertisements need interfaces to send them on" },
	{ "ra_router_lifetime", "dhcp6:\n  router_advertisements:\n    interfaces: [srv0]\n    router_lifetime: 10\n",
	  "t.yaml:4:22: dhcp6.router_advertisements.router_lifetime: router_lifetime (10) must be 0 or at least interval (30)" },

	/* boot URLs over IPv6 */
	{ "ipxe_script6_not_http", "boot:\n  ipxe_script6: tftp://x/boot.ipxe\n",
	  "t.yaml:2:17: boot.ipxe_script6: expected an http:// or https:// URL" },
	{ "http6_x64_no_brackets", "boot:\n  http6_x64: http://fd00::1:8080/ipxe.efi\n",
	  "t.yaml:2:14: boot.http6_x64: an IPv6 address in a URL goes in brackets: http://[addr]:port/ (RFC 3986 3.2.2)" },
	{ "http6_arm64_no_host", "boot:\n  http6_arm64: \"https:///ipxe.efi\"\n",
	  "t.yaml:2:16: boot.http6_arm64: expected an http:// or https:// URL with a host" },
	{ "bootfile_param6_too_long", "boot:\n  bootfile_param6: [a, " HEX16 HEX16 HEX16 HEX16
	  HEX16 HEX16 HEX16 HEX16 "]\n",
	  "t.yaml:2:24: boot.bootfile_param6[1]: a bootfile parameter is at most 255 bytes (this one: 256)" },
	{ "bootfile_param6_too_big", "boot:\n  bootfile_param6: [" P224 ", " P224 ", " P224 ", "
	  P224 ", " P224 "]\n",
	  "t.yaml:2:925: boot.bootfile_param6[4]: bootfile parameters take at most 1024 bytes in option 60 (2 per item plus its text); this one makes 1130" },
	{ "bootfile_param6_too_many", "boot:\n  bootfile_param6: [a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a]\n",
	  "t.yaml:2:20: boot.bootfile_param6: too many items (17, at most 16)" },
	{ "bootfile_param_empty", SUBNET6 RES6
	  "        - { mac: 52:54:00:00:00:01, address: \"fd00::5\", bootfile_param: [\"\"] }\n",
	  "t.yaml:7:74: dhcp6.subnets[0].reservations[0].bootfile_param[0]: must not be empty" },
};

static void test_bad(void **state)
{
	const struct bad_case *c = *state;
	struct ib_config *cfg = (struct ib_config *)(uintptr_t)1;	/* untouched on failure */
	char err[IB_CONFIG_ERRLEN];
	int r = ib_config_load_buffer("t.yaml", c->yaml, strlen(c->yaml), &cfg, err);

	if (r != -EINVAL || strncmp(err, c->error, strlen(c->error)) != 0)
		fail_msg("%s: got %d\n  \"%s\"\nwanted\n  \"%s\"", c->name, r, err, c->error);
	assert_ptr_equal(cfg, (struct ib_config *)(uintptr_t)1);
}

/* ---- good files ---- */

static struct ib_config *load_ok(const char *yaml)
{
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN];
	int r = ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err);

	if (r < 0)
		fail_msg("load failed (%d): %s", r, err);
	return cfg;
}

/* IB_TEST_DATA is tests/unit/data (which need not exist): the examples are
 * three levels up, resolved as text. */
static void example_path(const char *file, char *out, size_t outlen)
{
	const char *data = getenv("IB_TEST_DATA");
	size_t len;

	assert_non_null(data);
	len = strlen(data);
	for (int up = 0; up < 3; up++) {
		while (len > 0 && data[len - 1] == '/')
			len--;
		while (len > 0 && data[len - 1] != '/')
			len--;
	}
	snprintf(out, outlen, "%.*sexamples/%s", (int)len, data, file);
}

static uint32_t ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

static void check_lab_subnet0(const struct ib_subnet4 *s)
{
	static const uint8_t cid[] = { 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x11 };
	static const uint8_t mac[] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x10 };

	assert_int_equal(s->network, ip(198, 18, 0, 0));
	assert_int_equal(s->prefix_len, 24);
	assert_int_equal(s->mask, 0xffffff00u);
	assert_int_equal(s->broadcast, ip(198, 18, 0, 255));
	assert_int_equal(s->n_pools, 1);
	assert_int_equal(s->pools[0].start, ip(198, 18, 0, 100));
	assert_int_equal(s->pools[0].end, ip(198, 18, 0, 199));
	assert_int_equal(s->n_routers, 1);
	assert_int_equal(s->routers[0], ip(198, 18, 0, 1));
	assert_int_equal(s->n_dns, 1);
	assert_int_equal(s->n_ntp, 1);
	assert_string_equal(s->domain_name, "lab.example");
	assert_int_equal(s->n_domain_search, 2);
	assert_string_equal(s->domain_search[1], "example");
	assert_int_equal(s->mtu, 1500);
	assert_int_equal(s->n_routes, 1);
	assert_int_equal(s->routes[0].dest, ip(198, 19, 0, 0));
	assert_int_equal(s->routes[0].prefix_len, 16);
	assert_int_equal(s->routes[0].gateway, ip(198, 18, 0, 1));
	assert_int_equal(s->lease_time, 3600);
	assert_int_equal(s->t1, 1800);
	assert_int_equal(s->t2, 3150);
	assert_int_equal(s->n_reservations, 2);
	assert_true(s->reservations[0].has_mac);
	assert_memory_equal(s->reservations[0].mac, mac, 6);
	assert_int_equal(s->reservations[0].client_id_len, 0);
	assert_int_equal(s->reservations[0].address, ip(198, 18, 0, 10));
	assert_string_equal(s->reservations[0].hostname, "node10");
	assert_null(s->reservations[0].boot.boot_file);
	assert_false(s->reservations[1].has_mac);
	assert_int_equal(s->reservations[1].client_id_len, sizeof(cid));
	assert_memory_equal(s->reservations[1].client_id, cid, sizeof(cid));
	assert_string_equal(s->reservations[1].hostname, "node11");
}

static void check_lab_rest(const struct ib_config *cfg)
{
	assert_string_equal(cfg->server.state_dir, "/tmp/ironboot-lab");
	assert_int_equal(cfg->server.log_level, IB_LOG_INFO);
	assert_false(cfg->server.syslog);
	assert_null(cfg->server.user);
	assert_true(cfg->dhcp4.enabled);
	assert_int_equal(cfg->dhcp4.mode, IB_DHCP4_MODE_SERVER);
	assert_int_equal(cfg->dhcp4.n_interfaces, 1);
	assert_string_equal(cfg->dhcp4.interfaces[0], "srv0");
	assert_int_equal(cfg->dhcp4.port, 67);
	assert_int_equal(cfg->dhcp4.offer_hold, 30);
	assert_int_equal(cfg->dhcp4.decline_hold, 600);
	assert_int_equal(cfg->boot.next_server, 0);
	assert_string_equal(cfg->boot.file_bios, "undionly.kpxe");
	assert_string_equal(cfg->boot.file_efi_x64, "ipxe.efi");
	assert_null(cfg->boot.file_efi_arm64);
	assert_string_equal(cfg->boot.http_url_x64, "http://198.18.0.1:8080/assets/ipxe.efi");
	assert_string_equal(cfg->boot.ipxe_script_url,
			    "http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}&platform=${platform}&hostname=${hostname}&serial=${serial}");
	assert_true(cfg->tftp.enabled);
	assert_string_equal(cfg->tftp.root, "/usr/lib/ipxe");
	assert_int_equal(cfg->tftp.max_per_client, 8);
	assert_int_equal(cfg->tftp.max_blksize, 65464);
	assert_int_equal(cfg->tftp.cache_bytes, 268435456);
	assert_int_equal(cfg->journal.max_events, 1000000);
	assert_int_equal(cfg->journal.max_age_days, 30);
}

static void check_lab_http(const struct ib_config *cfg, const char *path)
{
	char dir[4200];

	assert_true(cfg->http.enabled);
	assert_int_equal(cfg->http.n_listen, 2);
	assert_string_equal(cfg->http.listen[0], "198.18.0.1");
	assert_string_equal(cfg->http.listen[1], "fd00:b007::1");
	assert_int_equal(cfg->http.port, 8080);
	assert_string_equal(cfg->http.base_url, "http://198.18.0.1:8080");
	assert_string_equal(cfg->http.assets, "/tmp/ironboot-lab/assets");
	snprintf(dir, sizeof(dir), "%.*s/templates", (int)(strrchr(path, '/') - path), path);
	assert_string_equal(cfg->http.templates, dir);
	assert_int_equal(cfg->n_profiles, 2);
	assert_string_equal(cfg->profiles[0].name, "linux");
	assert_string_equal(cfg->profiles[0].kernel, "vmlinuz");
	assert_int_equal(cfg->profiles[0].n_initrd, 1);
	assert_int_equal(cfg->profiles[0].n_args, 3);
	assert_string_equal(cfg->profiles[0].args[1], "ib.marker=booted-{{hostname}}");
	assert_int_equal(cfg->profiles[0].boot, IB_BOOT_KERNEL);
	assert_non_null(cfg->profiles[0].script_tpl);
	assert_int_equal(cfg->profiles[0].n_configs, 1);
	assert_int_equal(cfg->profiles[0].configs[0].format, IB_TPL_YAML);
	assert_non_null(cfg->profiles[0].configs[0].tpl);
	assert_int_equal(cfg->profiles[1].boot, IB_BOOT_LOCAL);
	assert_int_equal(cfg->profiles[1].local_method, IB_LOCAL_EXIT);
	assert_int_equal(cfg->n_groups, 2);
	assert_int_equal(cfg->groups[0].profile_idx, 1);
	assert_int_equal(cfg->groups[0].specificity, 1);
	assert_int_equal(cfg->groups[1].specificity, 0);
	assert_int_equal(cfg->n_machines, 1);
	assert_string_equal(cfg->machines[0].hostname, "node10");
}

/* An IPv6 literal parsed into out (16 bytes), for comparisons. */
static const uint8_t *ip6_into(const char *s, uint8_t *out)
{
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
	return out;
}
#define ip6(s) ip6_into(s, (uint8_t[16]){ 0 })

/* examples/lab.yaml and lab-ipv6.yaml share their dhcp6 subnet. */
static void check_lab_subnet6(const struct ib_subnet6 *s)
{
	static const uint8_t mac[] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x10 };
	static const uint8_t duid[] = { 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					0x52, 0x54, 0x00, 0x00, 0x00, 0x11 };

	assert_memory_equal(s->prefix, ip6("fd00:b007::"), 16);
	assert_int_equal(s->prefix_len, 64);
	assert_string_equal(s->interface, "srv0");
	assert_int_equal(s->n_pools, 1);
	assert_memory_equal(s->pools[0].start, ip6("fd00:b007::1000"), 16);
	assert_memory_equal(s->pools[0].end, ip6("fd00:b007::1fff"), 16);
	assert_int_equal(s->n_dns, 1);
	assert_memory_equal(s->dns[0], ip6("fd00:b007::1"), 16);
	assert_int_equal(s->n_ntp, 1);
	assert_memory_equal(s->ntp[0], ip6("fd00:b007::1"), 16);
	assert_int_equal(s->n_domain_search, 1);
	assert_string_equal(s->domain_search[0], "lab.example");
	assert_int_equal(s->preferred_lifetime, 1800);
	assert_int_equal(s->valid_lifetime, 3600);
	assert_int_equal(s->t1, 900);
	assert_int_equal(s->t2, 1440);
	assert_int_equal(s->n_reservations, 2);
	assert_true(s->reservations[0].has_mac);
	assert_memory_equal(s->reservations[0].mac, mac, 6);
	assert_int_equal(s->reservations[0].duid_len, 0);
	assert_memory_equal(s->reservations[0].address, ip6("fd00:b007::10"), 16);
	assert_string_equal(s->reservations[0].hostname, "node10");
	assert_false(s->reservations[1].has_mac);
	assert_int_equal(s->reservations[1].duid_len, sizeof(duid));
	assert_memory_equal(s->reservations[1].duid, duid, sizeof(duid));
	assert_string_equal(s->reservations[1].hostname, "node11");
}

/* ra: the file's router advertisements (auto in lab.yaml, true in lab-ipv6.yaml) */
static void check_lab_dhcp6(const struct ib_config *cfg, enum ib_ra_mode ra)
{
	const struct ib_dhcp6_config *d = &cfg->dhcp6;

	assert_true(d->enabled);
	assert_int_equal(d->n_interfaces, 1);
	assert_string_equal(d->interfaces[0], "srv0");
	assert_int_equal(d->port, 547);
	assert_int_equal(d->client_port, 546);
	assert_true(d->rapid_commit);
	assert_int_equal(d->advertise_hold, 30);
	assert_int_equal(d->decline_hold, 600);
	assert_int_equal(d->default_arch, 7);
	assert_int_equal(d->n_subnets, 1);
	check_lab_subnet6(&d->subnets[0]);
	assert_int_equal(d->ra.mode, ra);
	assert_int_equal(d->ra.n_interfaces, 1);
	assert_string_equal(d->ra.interfaces[0], "srv0");
	assert_int_equal(d->ra.interval, 30);
	assert_int_equal(d->ra.router_lifetime, 0);
	assert_true(d->ra.managed && d->ra.other);
	assert_string_equal(cfg->boot.ipxe_script_url6,
			    "http://[fd00:b007::1]:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}&arch=${buildarch}&platform=${platform}&hostname=${hostname}&serial=${serial}");
	assert_string_equal(cfg->boot.http_url6_x64, "http://[fd00:b007::1]:8080/assets/ipxe.efi");
	assert_null(cfg->boot.http_url6_arm64);
	assert_false(cfg->boot.has_next_server6);
}

static void test_lab_example(void **state)
{
	struct ib_config *cfg = NULL;
	char path[4096], err[IB_CONFIG_ERRLEN];

	example_path("lab.yaml", path, sizeof(path));
	if (ib_config_load(path, &cfg, err) < 0)
		fail_msg("%s", err);
	assert_string_equal(cfg->path, path);
	assert_int_equal(cfg->dhcp4.n_subnets, 2);
	check_lab_subnet0(&cfg->dhcp4.subnets[0]);
	assert_int_equal(cfg->dhcp4.subnets[1].network, ip(198, 18, 1, 0));
	assert_int_equal(cfg->dhcp4.subnets[1].n_reservations, 0);
	check_lab_rest(cfg);
	check_lab_http(cfg, path);
	check_lab_dhcp6(cfg, IB_RA_AUTO);
	ib_config_free(cfg);
}

/* The same lab over IPv6 only: no DHCPv4, HTTP on the IPv6 address with a
 * bracketed base_url, the same inventory. */
static void test_lab_ipv6_example(void **state)
{
	struct ib_config *cfg = NULL;
	char path[4096], err[IB_CONFIG_ERRLEN];

	example_path("lab-ipv6.yaml", path, sizeof(path));
	if (ib_config_load(path, &cfg, err) < 0)
		fail_msg("%s", err);
	assert_string_equal(cfg->server.state_dir, "/tmp/ironboot-lab6");
	assert_false(cfg->dhcp4.enabled);
	assert_int_equal(cfg->dhcp4.n_subnets, 0);
	check_lab_dhcp6(cfg, IB_RA_ON);
	assert_null(cfg->boot.file_bios);
	assert_string_equal(cfg->boot.file_efi_x64, "ipxe.efi");
	assert_true(cfg->tftp.enabled);
	assert_true(cfg->http.enabled);
	assert_int_equal(cfg->http.n_listen, 1);
	assert_string_equal(cfg->http.listen[0], "fd00:b007::1");
	assert_string_equal(cfg->http.base_url, "http://[fd00:b007::1]:8080");
	assert_string_equal(cfg->http.assets, "/tmp/ironboot-lab6/assets");
	assert_int_equal(cfg->n_profiles, 2);
	assert_int_equal(cfg->n_groups, 2);
	assert_int_equal(cfg->groups[0].profile_idx, 1);
	assert_int_equal(cfg->n_machines, 1);
	assert_string_equal(cfg->machines[0].hostname, "node10");
	ib_config_free(cfg);
}

/* Template files: a syntax error names the template file, line and column
 * after the key that names it; a missing file says so. */
static void test_template_files(void **state)
{
	char dir[] = "/tmp/ib-config-tpl-XXXXXX", path[128], yaml[512], err[IB_CONFIG_ERRLEN];
	struct ib_config *cfg = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.ipxe", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!ipxe\necho {{#x}}\nkernel {{y}\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml), "http: { listen: [198.18.0.1], templates: %s }\n"
		 "profiles:\n  - { name: p, script: bad.ipxe }\n", dir);
	assert_int_equal(ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err), -EINVAL);
	snprintf(yaml, sizeof(yaml),
		 "t.yaml:3:24: profiles[0].script: template error: %s/bad.ipxe:3:8: unterminated tag",
		 dir);
	if (strcmp(err, yaml) != 0)
		fail_msg("got \"%s\"\nwanted \"%s\"", err, yaml);
	snprintf(yaml, sizeof(yaml), "http: { listen: [198.18.0.1], templates: %s }\n"
		 "profiles:\n  - { name: p, kernel: v, configs: [ { name: c, template: nope } ] }\n", dir);
	assert_int_equal(ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "profiles[0].configs[0].template: cannot read template 'nope' under"));
	assert_non_null(strstr(err, "No such file or directory"));
	assert_null(cfg);
	/* A symlink out of the templates directory is refused. */
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(yaml, sizeof(yaml), "http: { listen: [198.18.0.1], templates: %s }\n"
		 "profiles:\n  - { name: p, kernel: v, configs: [ { name: c, template: out } ] }\n", dir);
	assert_int_equal(ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "profiles[0].configs[0].template: cannot read template 'out' under"));
	assert_null(cfg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bad.ipxe", dir);
	unlink(path);
	rmdir(dir);
}

/* API objects join the file's lists, are validated with them, and an
 * error inside one names it instead of the file. */
static void test_objects_joined(void **state)
{
	char path[] = "/tmp/ib-config-objs-XXXXXX", err[IB_CONFIG_ERRLEN];
	const char *yaml = HTTP1 "groups:\n  - { name: all, profile: p }\n";
	const struct ib_config_object ok[] = {
		{ IB_CONFIG_PROFILES, "q", "{\"name\":\"q\",\"kernel\":\"k\"}" },
		{ IB_CONFIG_GROUPS, "r9", "{\"name\":\"r9\",\"profile\":\"q\","
					  "\"selector\":{\"labels\":{\"rack\":\"r9\"}}}" },
		{ IB_CONFIG_MACHINES, "52:54:00:00:00:01",
		  "{\"mac\":\"52:54:00:00:00:01\",\"labels\":{\"rack\":\"r9\"}}" },
	};
	const struct ib_config_object bad[] = {
		{ IB_CONFIG_GROUPS, "g", "{\"name\":\"g\",\"profile\":\"nope\"}" },
	};
	const struct ib_config_object dup[] = {
		{ IB_CONFIG_PROFILES, "p", "{\"name\":\"p\",\"kernel\":\"k\"}" },
	};
	const struct ib_config_object notmap[] = { { IB_CONFIG_PROFILES, "x", "[1]" } };
	/* fuzz finding 4: a body naming another key than its row */
	const struct ib_config_object renamed[] = {
		{ IB_CONFIG_PROFILES, "a", "{\"name\":\"b\",\"kernel\":\"k\"}" },
	};
	const struct ib_config_object other_mac[] = {
		{ IB_CONFIG_MACHINES, "52:54:00:00:00:01", "{\"mac\":\"52:54:00:00:00:02\"}" },
	};
	const struct ib_config_object same_mac[] = {
		{ IB_CONFIG_MACHINES, "52:54:00:00:00:01", "{\"mac\":\"52-54-00-00-00-01\"}" },
	};
	struct ib_config *cfg = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	if (ib_config_load_with(path, ok, 3, &cfg, err) < 0)
		fail_msg("%s", err);
	assert_int_equal(cfg->n_profiles, 2);
	assert_false(cfg->profiles[0].api);
	assert_true(cfg->profiles[1].api);
	assert_string_equal(cfg->groups[1].profile, "q");
	assert_true(cfg->groups[1].api && !cfg->groups[0].api);
	assert_int_equal(cfg->n_machines, 1);
	assert_true(cfg->machines[0].api);
	ib_config_free(cfg);
	cfg = NULL;
	assert_int_equal(ib_config_load_with(path, bad, 1, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "api:groups/g:1:"));
	assert_non_null(strstr(err, "unknown profile 'nope'"));
	assert_int_equal(ib_config_load_with(path, dup, 1, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "api:profiles/p:"));
	assert_int_equal(ib_config_load_with(path, notmap, 1, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "api:profiles/x:1:1: expected a mapping"));
	assert_int_equal(ib_config_load_with(path, renamed, 1, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "api:profiles/a:1:"));
	assert_non_null(strstr(err, "'b' differs from the key the object is stored under"));
	assert_int_equal(ib_config_load_with(path, other_mac, 1, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "api:machines/52:54:00:00:00:01:1:"));
	assert_non_null(strstr(err, "differs from the key"));
	assert_null(cfg);
	/* the same MAC in another spelling is the same key */
	if (ib_config_load_with(path, same_mac, 1, &cfg, err) < 0)
		fail_msg("%s", err);
	ib_config_free(cfg);
	cfg = NULL;
	unlink(path);
}

static void test_empty_defaults(void **state)
{
	struct ib_config *cfg = load_ok("# nothing here\n");

	assert_string_equal(cfg->path, "t.yaml");
	assert_string_equal(cfg->server.state_dir, "/var/lib/ironboot");
	assert_int_equal(cfg->server.log_level, IB_LOG_INFO);
	assert_false(cfg->dhcp4.enabled);
	assert_int_equal(cfg->dhcp4.port, 67);
	assert_int_equal(cfg->dhcp4.client_port, 68);
	assert_int_equal(cfg->dhcp4.proxy_port, 4011);
	assert_true(cfg->dhcp4.authoritative);
	assert_string_equal(cfg->boot.file_bios, "undionly.kpxe");
	assert_string_equal(cfg->boot.file_efi_x64, "ipxe.efi");
	assert_false(cfg->tftp.enabled);
	assert_string_equal(cfg->tftp.root, "/usr/lib/ipxe");
	assert_int_equal(cfg->tftp.port, 69);
	assert_int_equal(cfg->tftp.max_transfers, 2000);
	assert_int_equal(cfg->tftp.max_per_client, 16);
	assert_int_equal(cfg->tftp.timeout_ms, 1000);
	assert_int_equal(cfg->tftp.max_retries, 5);
	assert_int_equal(cfg->tftp.max_windowsize, 64);
	assert_int_equal(cfg->tftp.cache_bytes, 256u << 20);
	assert_int_equal(cfg->journal.max_events, 1000000);
	assert_int_equal(cfg->journal.max_age_days, 30);
	ib_config_free(cfg);
}

static void test_section_defaults(void **state)
{
	struct ib_config *cfg = load_ok(SUBNET0 "      lease_time: 1000\n"
					"boot:\n  efi_arm64: arm.efi\ntftp: {}\n"
					"server:\n  user:\n  log_level: debug\n");

	assert_true(cfg->dhcp4.enabled);
	assert_int_equal(cfg->dhcp4.subnets[0].t1, 500);
	assert_int_equal(cfg->dhcp4.subnets[0].t2, 875);
	assert_null(cfg->boot.file_bios);	/* a boot section replaces the defaults */
	assert_string_equal(cfg->boot.file_efi_arm64, "arm.efi");
	assert_true(cfg->tftp.enabled);
	assert_null(cfg->server.user);		/* null is as good as absent */
	assert_int_equal(cfg->server.log_level, IB_LOG_DEBUG);
	ib_config_free(cfg);
}

static void test_proxy_without_subnets(void **state)
{
	struct ib_config *cfg = load_ok("dhcp4:\n  mode: proxy\ntftp:\n  enabled: false\n");

	assert_true(cfg->dhcp4.enabled);
	assert_int_equal(cfg->dhcp4.mode, IB_DHCP4_MODE_PROXY);
	assert_false(cfg->tftp.enabled);
	ib_config_free(cfg);
}

static void test_subnet_for(void **state)
{
	struct ib_config *cfg = load_ok(SUBNET0 "    - subnet: 10.0.4.0/22\n");

	assert_ptr_equal(ib_config_subnet_for(cfg, ip(10, 0, 0, 7)), &cfg->dhcp4.subnets[0]);
	assert_ptr_equal(ib_config_subnet_for(cfg, ip(10, 0, 7, 255)), &cfg->dhcp4.subnets[1]);
	assert_null(ib_config_subnet_for(cfg, ip(10, 0, 1, 1)));
	assert_null(ib_config_subnet_for(cfg, ip(10, 0, 8, 0)));
	ib_config_free(cfg);
}

/* dhcp6 defaults: config_new()'s section keys, subnet lifetimes and the
 * timers derived from them (RFC 8415 21.4: 0.5 and 0.8). */
static void test_dhcp6_defaults(void **state)
{
	struct ib_config *cfg = load_ok("# nothing\n");

	assert_false(cfg->dhcp6.enabled);
	assert_int_equal(cfg->dhcp6.port, 547);
	assert_int_equal(cfg->dhcp6.client_port, 546);
	assert_true(cfg->dhcp6.rapid_commit);
	assert_int_equal(cfg->dhcp6.advertise_hold, 30);
	assert_int_equal(cfg->dhcp6.decline_hold, 600);
	assert_int_equal(cfg->dhcp6.default_arch, 7);
	assert_int_equal(cfg->dhcp6.ra.mode, IB_RA_AUTO);	/* issue #11 */
	assert_int_equal(cfg->dhcp6.ra.interval, 30);
	assert_int_equal(cfg->dhcp6.ra.router_lifetime, 0);
	assert_true(cfg->dhcp6.ra.managed && cfg->dhcp6.ra.other);
	assert_null(cfg->boot.ipxe_script_url6);
	ib_config_free(cfg);

	cfg = load_ok(SUBNET6 "    - { subnet: \"fd00:1::/64\", preferred_lifetime: 1000 }\n"
		      "    - { subnet: \"fd00:2::/64\", valid_lifetime: 1000 }\n"
		      "    - { subnet: \"fd00:3::/64\", t1: 0, t2: 0 }\n"
		      "boot:\n  next_server6: \"fd00::1\"\n");
	assert_true(cfg->dhcp6.enabled);	/* subnets given */
	assert_int_equal(cfg->dhcp6.ra.mode, IB_RA_AUTO);
	assert_int_equal(cfg->dhcp6.subnets[0].preferred_lifetime, 3600);
	assert_int_equal(cfg->dhcp6.subnets[0].valid_lifetime, 7200);
	assert_int_equal(cfg->dhcp6.subnets[0].t1, 1800);
	assert_int_equal(cfg->dhcp6.subnets[0].t2, 2880);
	assert_null(cfg->dhcp6.subnets[0].interface);
	assert_int_equal(cfg->dhcp6.subnets[1].valid_lifetime, 2000);
	assert_int_equal(cfg->dhcp6.subnets[1].t1, 500);
	assert_int_equal(cfg->dhcp6.subnets[1].t2, 800);
	assert_int_equal(cfg->dhcp6.subnets[2].preferred_lifetime, 500);
	assert_int_equal(cfg->dhcp6.subnets[3].t1, 0);	/* the client's choice */
	assert_int_equal(cfg->dhcp6.subnets[3].t2, 0);
	assert_true(cfg->boot.has_next_server6);
	assert_memory_equal(cfg->boot.next_server6, ip6("fd00::1"), 16);
	ib_config_free(cfg);
}

static void test_subnet6_for(void **state)
{
	struct ib_config *cfg = load_ok(SUBNET6 "    - subnet: fd00:0:0:10::/60\n"
					"    - subnet: fd00:1::2/127\n");

	assert_ptr_equal(ib_config_subnet6_for(cfg, ip6("fd00::7")), &cfg->dhcp6.subnets[0]);
	assert_ptr_equal(ib_config_subnet6_for(cfg, ip6("fd00::ffff:ffff:ffff:ffff")),
			 &cfg->dhcp6.subnets[0]);
	assert_null(ib_config_subnet6_for(cfg, ip6("fd00:0:0:1::")));
	assert_ptr_equal(ib_config_subnet6_for(cfg, ip6("fd00:0:0:1f:ffff::1")),
			 &cfg->dhcp6.subnets[1]);
	assert_null(ib_config_subnet6_for(cfg, ip6("fd00:0:0:20::")));
	assert_ptr_equal(ib_config_subnet6_for(cfg, ip6("fd00:1::3")), &cfg->dhcp6.subnets[2]);
	assert_null(ib_config_subnet6_for(cfg, ip6("fd00:1::1")));
	assert_null(ib_config_subnet6_for(cfg, ip6("::")));
	ib_config_free(cfg);
}

static void test_limits(void **state)
{
	size_t big = (16u << 20) + 1;
	char *buf = calloc(1, big);
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN];

	assert_non_null(buf);
	assert_int_equal(ib_config_load_buffer("big.yaml", buf, big, &cfg, err), -EFBIG);
	assert_string_equal(err, "big.yaml: file is too large (16777217 bytes, at most 16777216)");
	free(buf);
	assert_int_equal(ib_config_load("/nonexistent/ironboot.yaml", &cfg, err), -ENOENT);
	assert_string_equal(err, "/nonexistent/ironboot.yaml: No such file or directory");
	assert_null(cfg);
	ib_config_free(NULL);
	/* err may be NULL */
	assert_int_equal(ib_config_load_buffer("t.yaml", "x: 1\n", 5, &cfg, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest good[] = {
		cmocka_unit_test(test_lab_example),
		cmocka_unit_test(test_lab_ipv6_example),
		cmocka_unit_test(test_template_files),
		cmocka_unit_test(test_objects_joined),
		cmocka_unit_test(test_empty_defaults),
		cmocka_unit_test(test_section_defaults),
		cmocka_unit_test(test_proxy_without_subnets),
		cmocka_unit_test(test_subnet_for),
		cmocka_unit_test(test_dhcp6_defaults),
		cmocka_unit_test(test_subnet6_for),
		cmocka_unit_test(test_limits),
	};
	struct CMUnitTest bad[sizeof(bad_cases) / sizeof(bad_cases[0])];
	int failed;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		bad[i] = (struct CMUnitTest){ .name = bad_cases[i].name, .test_func = test_bad,
					      .initial_state = (void *)&bad_cases[i] };
	failed = cmocka_run_group_tests_name("config_good", good, NULL, NULL);
	failed += _cmocka_run_group_tests("config_bad", bad, sizeof(bad) / sizeof(bad[0]),
					  NULL, NULL);
	return failed ? 1 : 0;
}
