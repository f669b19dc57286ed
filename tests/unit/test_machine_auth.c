/*
 * Per-machine data (docs/SECURITY.md): who may read a machine's script and
 * configs, as a table over the facts (boot/machine_auth.c); the address
 * reservations pin; the machine tokens (a fixed vector, constant-time
 * check, any case); the machine secret in the store (made once, shared
 * by two connections, a damaged one never replaced); the neighbour
 * lookup's refusals; and that secrets never appear in the inventory's
 * JSON (API reads, `ironboot ... show`) and cannot be written back
 * redacted.
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
#include <netinet/in.h>

#include <cmocka.h>

#include "boot/machine_auth.h"
#include "config/config.h"
#include "httpd/http_auth.h"
#include "inventory/inventory_json.h"
#include "store/store.h"

#define A "52:54:00:00:00:0a"
#define B "52:54:00:00:00:0b"
#define C "52:54:00:00:00:0c"

/* ---- the decision ---- */

enum { LEASE4 = IB_MACHINE_AUTH_LEASE4, LEASE6 = IB_MACHINE_AUTH_LEASE6,
       RESERVED = IB_MACHINE_AUTH_RESERVATION, NEIGH = IB_MACHINE_AUTH_NEIGHBOUR,
       TOKEN = IB_MACHINE_AUTH_TOKEN, OTHER = IB_MACHINE_AUTH_REFUSED_OTHER,
       UNBOUND = IB_MACHINE_AUTH_REFUSED_UNBOUND, BADTOKEN = IB_MACHINE_AUTH_REFUSED_TOKEN,
       NOMAC = IB_MACHINE_AUTH_REFUSED_NO_MAC };

struct auth_case {
	const char *what;		/* the case, for the failure message */
	const char *asked;		/* MAC in the query, or NULL */
	const char *lease4, *lease6, *reserved, *neighbour;	/* facts, NULL = none */
	bool token_given, token_ok;	/* the query's token */
	bool off;			/* http.machine_auth: off */
	bool serve, authorized;		/* expected */
	int how;
	const char *mac;		/* expected machine served, "" = none */
};

static const struct auth_case auth_cases[] = {
	{ "own v4 lease", A, A, NULL, NULL, NULL, false, false, false, true, true, LEASE4, A },
	{ "another's v4 lease", A, B, NULL, NULL, NULL, false, false, false, false, false, OTHER, A },
	{ "own v6 binding", A, NULL, A, NULL, NULL, false, false, false, true, true, LEASE6, A },
	{ "another's v6 binding", A, NULL, B, NULL, NULL, false, false, false, false, false, OTHER, A },
	{ "own reservation", A, NULL, NULL, A, NULL, false, false, false, true, true, RESERVED, A },
	{ "leased to B, reserved for A", A, B, NULL, A, NULL, false, false, false, true, true,
	  RESERVED, A },
	{ "neighbour entry", A, NULL, NULL, NULL, A, false, false, false, true, true, NEIGH, A },
	{ "another's neighbour entry", A, NULL, NULL, NULL, B, false, false, false, false, false,
	  OTHER, A },
	{ "records win over the link", A, B, NULL, NULL, A, false, false, false, false, false,
	  OTHER, A },
	{ "nothing known", A, NULL, NULL, NULL, NULL, false, false, false, false, false, UNBOUND, A },
	{ "token from anywhere", A, NULL, NULL, NULL, NULL, true, true, false, true, true, TOKEN, A },
	{ "token from another's address", A, B, NULL, NULL, C, true, true, false, true, true,
	  TOKEN, A },
	{ "wrong token", A, NULL, NULL, NULL, NULL, true, false, false, false, false, BADTOKEN, A },
	{ "wrong token, another's address", A, B, NULL, NULL, NULL, true, false, false, false,
	  false, BADTOKEN, A },
	{ "wrong token, own address", A, A, NULL, NULL, NULL, true, false, false, true, true,
	  LEASE4, A },
	{ "token_ok without a token", A, NULL, NULL, NULL, NULL, false, true, false, false, false,
	  UNBOUND, A },
	{ "no mac: the lease's machine", NULL, B, NULL, NULL, NULL, false, false, false, true, true,
	  LEASE4, B },
	{ "no mac: v4 lease first", NULL, B, C, NULL, NULL, false, false, false, true, true,
	  LEASE4, B },
	{ "no mac: the binding's", NULL, NULL, C, NULL, NULL, false, false, false, true, true,
	  LEASE6, C },
	{ "no mac: the reservation's", NULL, NULL, NULL, C, NULL, false, false, false, true, true,
	  RESERVED, C },
	{ "no mac: the neighbour's", NULL, NULL, NULL, NULL, B, false, false, false, true, true,
	  NEIGH, B },
	{ "no mac, nothing known", NULL, NULL, NULL, NULL, NULL, false, false, false, false, false,
	  NOMAC, "" },
	{ "no mac, a token", NULL, NULL, NULL, NULL, NULL, true, true, false, false, false,
	  NOMAC, "" },
	{ "off: another's lease", A, B, NULL, NULL, NULL, false, false, true, true, false, OTHER, A },
	{ "off: nothing known", A, NULL, NULL, NULL, NULL, false, false, true, true, false,
	  UNBOUND, A },
	{ "off: no mac, nothing", NULL, NULL, NULL, NULL, NULL, false, false, true, true, false,
	  NOMAC, "" },
	{ "off: own lease", A, A, NULL, NULL, NULL, false, false, true, true, true, LEASE4, A },
	{ "off: wrong token", A, NULL, NULL, NULL, NULL, true, false, true, true, false,
	  BADTOKEN, A },
	{ "off: token", A, NULL, NULL, NULL, NULL, true, true, true, true, true, TOKEN, A },
};

static void fact(char *dst, const char *mac)
{
	snprintf(dst, IB_BOOT_MAC_STRLEN, "%s", mac ? mac : "");
}

static void test_decide(void **state)
{
	for (size_t i = 0; i < sizeof(auth_cases) / sizeof(auth_cases[0]); i++) {
		const struct auth_case *c = &auth_cases[i];
		struct ib_machine_auth_facts f = { .asked = c->asked, .token_given = c->token_given,
						   .token_ok = c->token_ok, .strict = !c->off };
		struct ib_machine_auth d;

		fact(f.lease4, c->lease4);
		fact(f.lease6, c->lease6);
		fact(f.reserved, c->reserved);
		fact(f.neighbour, c->neighbour);
		ib_machine_auth_decide(&f, &d);
		if (d.serve != c->serve || d.authorized != c->authorized || (int)d.how != c->how ||
		    strcmp(d.mac, c->mac) != 0)
			fail_msg("case %zu (%s): serve %d authorized %d how %s mac '%s'; wanted "
				 "%d %d %s '%s'", i, c->what, d.serve, d.authorized,
				 ib_machine_auth_name(d.how), d.mac, c->serve, c->authorized,
				 ib_machine_auth_name((enum ib_machine_auth_how)c->how), c->mac);
	}
}

/* Every outcome has a journal word and words for the 403; a refusal
 * names no MAC (the attacker learns nothing about who holds the address). */
static void test_words(void **state)
{
	for (int h = 0; h < IB_MACHINE_AUTH_N_HOW; h++) {
		const char *name = ib_machine_auth_name((enum ib_machine_auth_how)h);
		const char *text = ib_machine_auth_text((enum ib_machine_auth_how)h);

		assert_non_null(name);
		assert_non_null(text);
		assert_true(strlen(name) > 0 && strlen(text) > 0);
		assert_null(strchr(text, ':'));
	}
	assert_string_equal(ib_machine_auth_name(IB_MACHINE_AUTH_N_HOW), "?");
}

/* ---- reservations pin addresses ---- */

static struct ib_config *load(const char *yaml)
{
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN];

	if (ib_config_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err) < 0)
		fail_msg("load failed: %s", err);
	return cfg;
}

static const char reservations_yaml[] =
	"dhcp4:\n"
	"  subnets:\n"
	"    - subnet: 198.18.0.0/24\n"
	"      pools: [ { start: 198.18.0.100, end: 198.18.0.199 } ]\n"
	"      reservations:\n"
	"        - { mac: \"52:54:00:00:00:0A\", address: 198.18.0.10 }\n"
	"        - { client_id: \"01:52:54:00:00:00:0b\", address: 198.18.0.11 }\n"
	"dhcp6:\n"
	"  subnets:\n"
	"    - subnet: fd00:b007::/64\n"
	"      pools: [ { start: \"fd00:b007::1000\", end: \"fd00:b007::1fff\" } ]\n"
	"      reservations:\n"
	"        - { mac: \"52:54:00:00:00:0c\", address: \"fd00:b007::c\" }\n"
	"        - { duid: \"00:03:00:01:52:54:00:00:00:0d\", address: \"fd00:b007::d\" }\n";

static void test_reserved(void **state)
{
	struct ib_config *cfg = load(reservations_yaml);
	char mac[IB_BOOT_MAC_STRLEN];
	uint8_t a6[16];

	assert_int_equal(ib_machine_auth_reserved4(cfg, 0xc612000a, mac), 0);
	assert_string_equal(mac, A);
	/* by client-id only: the reservation names no MAC */
	assert_int_equal(ib_machine_auth_reserved4(cfg, 0xc612000b, mac), -ENOENT);
	assert_string_equal(mac, "");
	assert_int_equal(ib_machine_auth_reserved4(cfg, 0xc6120064, mac), -ENOENT);
	assert_int_equal(ib_machine_auth_reserved4(cfg, 0xc613000a, mac), -ENOENT);
	assert_int_equal(inet_pton(AF_INET6, "fd00:b007::c", a6), 1);
	assert_int_equal(ib_machine_auth_reserved6(cfg, a6, mac), 0);
	assert_string_equal(mac, C);
	assert_int_equal(inet_pton(AF_INET6, "fd00:b007::d", a6), 1);
	assert_int_equal(ib_machine_auth_reserved6(cfg, a6, mac), -ENOENT);
	assert_int_equal(inet_pton(AF_INET6, "fd00:b007::1000", a6), 1);
	assert_int_equal(ib_machine_auth_reserved6(cfg, a6, mac), -ENOENT);
	ib_config_free(cfg);
}

/* ---- tokens ---- */

static void test_token(void **state)
{
	unsigned char secret[IB_HTTPD_SECRET_LEN];
	char tok[IB_HTTPD_MACHINE_TOKEN_LEN + 1], other[IB_HTTPD_MACHINE_TOKEN_LEN + 1];
	char upper[IB_HTTPD_MACHINE_TOKEN_LEN + 1], longer[IB_HTTPD_MACHINE_TOKEN_LEN + 2];

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (unsigned char)i;
	/* python3: hmac.new(bytes(range(32)), b"machine:52:54:00:00:00:10",
	 *                   hashlib.sha256).hexdigest()[:32] */
	ib_httpd_machine_token(secret, "52:54:00:00:00:10", tok);
	assert_string_equal(tok, "d434fb7fc2539a3d761ecdb27d58284d");
	assert_true(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", tok));
	for (size_t i = 0; i <= IB_HTTPD_MACHINE_TOKEN_LEN; i++)
		upper[i] = (char)(tok[i] >= 'a' && tok[i] <= 'f' ? tok[i] - 0x20 : tok[i]);
	assert_true(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", upper));
	/* another machine's token, one digit off, too short, too long, none */
	ib_httpd_machine_token(secret, "52:54:00:00:00:11", other);
	assert_string_not_equal(tok, other);
	assert_false(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", other));
	tok[31] = tok[31] == '0' ? '1' : '0';
	assert_false(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", tok));
	tok[31] = '\0';
	assert_false(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", tok));
	snprintf(longer, sizeof(longer), "%s0", upper);
	assert_false(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", longer));
	assert_false(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", ""));
	assert_false(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", NULL));
	/* another secret: another token */
	secret[0] ^= 1;
	assert_false(ib_httpd_machine_token_ok(secret, "52:54:00:00:00:10", upper));
}

/* ---- the machine secret in the store ---- */

static void test_secret(void **state)
{
	char dir[] = "/tmp/ib-machine-auth-XXXXXX", path[64], err[256], hex[80];
	unsigned char s1[IB_HTTPD_SECRET_LEN], s2[IB_HTTPD_SECRET_LEN], zero[IB_HTTPD_SECRET_LEN] = { 0 };
	struct ib_store *a, *b;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ib.db", dir);
	assert_int_equal(ib_store_sqlite_open(path, &a, err), 0);
	assert_int_equal(ib_store_meta_get(a, IB_HTTPD_SECRET_META, hex, sizeof(hex)), -ENOENT);
	assert_int_equal(ib_httpd_secret_load(a, s1), 0);
	assert_memory_not_equal(s1, zero, sizeof(zero));
	assert_int_equal(ib_store_meta_get(a, IB_HTTPD_SECRET_META, hex, sizeof(hex)), 0);
	assert_int_equal(strlen(hex), 64);
	/* a second daemon on the same store gets the same secret */
	assert_int_equal(ib_store_sqlite_open(path, &b, err), 0);
	assert_int_equal(ib_httpd_secret_load(b, s2), 0);
	assert_memory_equal(s1, s2, sizeof(s1));
	ib_store_free(b);
	/* a damaged value is refused and left as it is */
	assert_int_equal(ib_store_meta_put(a, IB_HTTPD_SECRET_META, "not-hex"), 0);
	memset(s2, 0x5a, sizeof(s2));
	assert_int_equal(ib_httpd_secret_load(a, s2), -EBADMSG);
	assert_int_equal(s2[0], 0x5a);
	assert_int_equal(ib_store_meta_get(a, IB_HTTPD_SECRET_META, hex, sizeof(hex)), 0);
	assert_string_equal(hex, "not-hex");
	ib_store_free(a);
	for (const char *n = "ib.db\0ib.db-wal\0ib.db-shm\0"; *n; n += strlen(n) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	rmdir(dir);
}

/* ---- the neighbour lookup refuses what is not on a link of ours ---- */

static void test_neigh_refusals(void **state)
{
	struct ib_httpd_neigh n;
	struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_in6 lo6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr un = { .sa_family = AF_UNIX };
	uint8_t mac[6];

	assert_int_equal(ib_httpd_neigh_open(&n), 0);
	/* our own addresses: a local route, no neighbour */
	assert_int_equal(ib_httpd_neigh_lookup(&n, (struct sockaddr *)&lo, mac), -ENOENT);
	assert_true(ib_httpd_neigh_lookup(&n, (struct sockaddr *)&lo6, mac) < 0);
	assert_int_equal(ib_httpd_neigh_lookup(&n, &un, mac), -ENOENT);
	assert_int_equal(ib_httpd_neigh_lookup(&n, NULL, mac), -ENOENT);
	ib_httpd_neigh_close(&n);
	ib_httpd_neigh_close(&n);		/* closing twice is fine */
	assert_int_equal(ib_httpd_neigh_lookup(&n, (struct sockaddr *)&lo, mac), -ENOENT);
}

/* ---- secrets never in the inventory's JSON ---- */

static const char secrets_yaml[] =
	"http: { listen: [198.18.0.1] }\n"
	"profiles:\n"
	"  - { name: p, kernel: vmlinuz, metadata: { m: visible },\n"
	"      secrets: { root_pw: s3cr3t-profile, api_key: s3cr3t-key } }\n"
	"  - { name: q, kernel: vmlinuz }\n"
	"groups:\n  - { name: d, profile: p }\n"
	"machines:\n"
	"  - { mac: \"52:54:00:00:00:0a\", secrets: { root_pw: s3cr3t-machine } }\n"
	"  - { mac: \"52:54:00:00:00:0b\", hostname: plain }\n";

static void assert_no_secret(json_t *o)
{
	char *s = json_dumps(o, JSON_SORT_KEYS);

	assert_non_null(s);
	assert_null(strstr(s, "s3cr3t"));
	free(s);
	json_decref(o);
}

static void test_inventory_redacts(void **state)
{
	struct ib_config *cfg = load(secrets_yaml);
	json_t *o, *sec;

	o = ib_inventory_profile_json(&cfg->profiles[0]);
	assert_non_null(o);
	sec = json_object_get(o, "secrets");
	assert_int_equal(json_object_size(sec), 2);
	assert_string_equal(json_string_value(json_object_get(sec, "root_pw")), IB_CONFIG_REDACTED);
	assert_string_equal(json_string_value(json_object_get(sec, "api_key")), IB_CONFIG_REDACTED);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "metadata"), "m")),
			    "visible");
	assert_no_secret(o);
	o = ib_inventory_object_json(cfg, IB_CONFIG_MACHINES, "52-54-00-00-00-0A");
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "secrets"),
							      "root_pw")), IB_CONFIG_REDACTED);
	assert_no_secret(o);
	/* no secrets: no "secrets" key, so a read written back stays valid */
	o = ib_inventory_profile_json(&cfg->profiles[1]);
	assert_null(json_object_get(o, "secrets"));
	json_decref(o);
	o = ib_inventory_machine_json(&cfg->machines[1]);
	assert_null(json_object_get(o, "secrets"));
	json_decref(o);
	ib_config_free(cfg);
}

/* A read with redacted secrets, written back, is refused, naming the key. */
static void test_redacted_refused(void **state)
{
	static const char *const docs[] = {
		"profiles:\n  - { name: p, kernel: k, secrets: { pw: \"<redacted>\" } }\n",
		"machines:\n  - { mac: \"52:54:00:00:00:0a\", secrets: { a: b, pw: \"<redacted>\" } }\n",
	};
	struct ib_config *cfg = NULL;
	char err[IB_CONFIG_ERRLEN];

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_int_equal(ib_config_load_buffer("t.yaml", docs[i], strlen(docs[i]), &cfg, err),
				 -EINVAL);
		assert_non_null(strstr(err, "secrets.pw"));
		assert_non_null(strstr(err, "give the value itself"));
	}
	cfg = load("machines:\n  - { mac: \"52:54:00:00:00:0a\", secrets: { pw: \"x<redacted>\" } }\n");
	assert_string_equal(cfg->machines[0].secrets[0].value, "x<redacted>");
	ib_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_reserved),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_neigh_refusals),
		cmocka_unit_test(test_inventory_redacts),
		cmocka_unit_test(test_redacted_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
