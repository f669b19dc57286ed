/* Unit tests for the config's power section and bmcs list
 * (src/config/config_power.c): each entry becomes the struct ib_bmc the
 * power module runs, and bad ones are refused at load with the key. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"

#define HEAD "server: { state_dir: /tmp/ib-unit }\ndhcp4: { enabled: false }\n" \
	     "tftp: { enabled: false }\n"

static int load(const char *yaml, struct ib_config **cfg, char err[IB_CONFIG_ERRLEN])
{
	char buf[2048];

	snprintf(buf, sizeof(buf), HEAD "%s", yaml);
	return ib_config_load_buffer("t.yaml", buf, strlen(buf), cfg, err);
}

static void test_power_section(void **state)
{
	static const struct { const char *v; uint32_t s; } ok[] = {
		{ "60", 60 }, { "60s", 60 }, { "5m", 300 }, { "1h", 3600 }, { "0", 0 },
	};
	static const char *const bad[] = { "6x", "-1", "s", "1.5s", "25h", "\"\"" };
	char yaml[256], err[IB_CONFIG_ERRLEN];
	struct ib_config *cfg;

	assert_int_equal(load("", &cfg, err), 0);
	assert_int_equal(cfg->power.poll_interval, 60);	/* the defaults */
	assert_int_equal(cfg->power.concurrency, 32);
	assert_null(cfg->power.secrets_file);
	ib_config_free(cfg);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(yaml, sizeof(yaml), "power: { poll_interval: %s, concurrency: 4, "
			 "secrets_file: /etc/s.json }\n", ok[i].v);
		assert_int_equal(load(yaml, &cfg, err), 0);
		assert_int_equal(cfg->power.poll_interval, ok[i].s);
		assert_int_equal(cfg->power.concurrency, 4);
		assert_string_equal(cfg->power.secrets_file, "/etc/s.json");
		ib_config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "power: { poll_interval: %s }\n", bad[i]);
		assert_int_equal(load(yaml, &cfg, err), -EINVAL);
		assert_non_null(strstr(err, "power.poll_interval"));
	}
	assert_int_equal(load("power: { concurrency: 257 }\n", &cfg, err), -EINVAL);
	assert_int_equal(load("power: { secrets_file: rel.json }\n", &cfg, err), -EINVAL);
}

static void test_bmc_entries(void **state)
{
	char err[IB_CONFIG_ERRLEN];
	struct ib_config *cfg;
	const struct ib_bmc *b;
	uint8_t mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

	assert_int_equal(load(
		"bmcs:\n"
		"  - { mac: 52:54:00:12:34:56, driver: ipmi, address: 198.18.0.2, port: 6230,\n"
		"      credential: lab, ipmi_workarounds: [opensesspriv, intel20], efi: true }\n"
		"  - { mac: 52:54:00:12:34:57, name: rack3, driver: redfish, address: 198.18.1.3,\n"
		"      port: 8443, credential: r3, auth: basic, insecure: true, cipher_suite: 17,\n"
		"      timeout_ms: 1500, retries: 0, deadline_ms: 9000 }\n"
		"  - { mac: 52:54:00:12:34:58, driver: redfish, address: \"https://h.example/\",\n"
		"      credential: r3, system: /redfish/v1/Systems/2, ca_file: /etc/ca.pem }\n",
		&cfg, err), 0);
	assert_int_equal(cfg->n_bmcs, 3);
	b = &ib_config_bmc_for(cfg, mac)->bmc;
	assert_string_equal(b->name, "52:54:00:12:34:56");	/* default: the MAC */
	assert_int_equal(b->driver, IB_BMC_IPMI);
	assert_string_equal(b->address, "198.18.0.2:6230");
	assert_string_equal(b->credential, "lab");
	assert_int_equal(b->cipher_suite, 3);
	assert_int_equal(b->ipmi_workarounds, IB_IPMI_WA_OPENSESSPRIV | IB_IPMI_WA_INTEL20);
	assert_true(b->efi);
	assert_int_equal(b->timeout_ms, 5000);
	assert_int_equal(b->retries, 1);
	b = &cfg->bmcs[1].bmc;
	assert_string_equal(b->name, "rack3");
	assert_string_equal(b->address, "https://198.18.1.3:8443");
	assert_true(b->basic_auth && b->insecure);
	assert_int_equal(b->cipher_suite, 17);
	assert_int_equal(b->deadline_ms, 9000);
	assert_int_equal(b->retries, 0);
	b = &cfg->bmcs[2].bmc;
	assert_string_equal(b->address, "https://h.example");	/* no trailing / */
	assert_string_equal(b->system, "/redfish/v1/Systems/2");
	assert_string_equal(b->ca_file, "/etc/ca.pem");
	mac[5] = 0x99;
	assert_null(ib_config_bmc_for(cfg, mac));
	ib_config_free(cfg);
}

static void test_bad_entries(void **state)
{
	static const struct { const char *entry, *says; } bad[] = {
		{ "{ driver: ipmi, address: h, credential: c }", "mac" },
		{ "{ mac: 52:54:00:00:00:01, driver: telnet, address: h, credential: c }",
		  "driver" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, credential: c }", "address" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, address: h }", "credential" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, address: h, credential: c, "
		  "password: x }", "password" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, address: https://h, credential: c }",
		  "not a URL" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, address: \"h:623\", port: 623, "
		  "credential: c }", "port" },
		{ "{ mac: 52:54:00:00:00:01, driver: redfish, address: https://h, port: 1, "
		  "credential: c }", "inside the URL" },
		{ "{ mac: 52:54:00:00:00:01, driver: redfish, address: ftp://h, credential: c }",
		  "https://" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, address: h, credential: c, "
		  "cipher_suite: 5 }", "cipher_suite" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, address: h, credential: c, "
		  "ipmi_workarounds: [nosuch] }", "ipmi_workarounds[0]" },
		{ "{ mac: 52:54:00:00:00:01, driver: redfish, address: h, credential: c, "
		  "system: Systems/1 }", "system" },
		{ "{ mac: 52:54:00:00:00:01, driver: ipmi, address: h, credential: c, "
		  "timeout_ms: 0 }", "timeout_ms" },
	};
	char yaml[512], err[IB_CONFIG_ERRLEN];
	struct ib_config *cfg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "bmcs:\n  - %s\n", bad[i].entry);
		assert_int_equal(load(yaml, &cfg, err), -EINVAL);
		if (!strstr(err, bad[i].says))
			fail_msg("%s: \"%s\" does not say %s", bad[i].entry, err, bad[i].says);
	}
	/* one BMC per machine */
	assert_int_equal(load("bmcs:\n"
		"  - { mac: 52:54:00:00:00:01, driver: ipmi, address: a, credential: c }\n"
		"  - { mac: 52-54-00-00-00-01, driver: ipmi, address: b, credential: c }\n",
		&cfg, err), -EINVAL);
	assert_non_null(strstr(err, "bmcs[1].mac: a second BMC for this machine"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_section),
		cmocka_unit_test(test_bmc_entries),
		cmocka_unit_test(test_bad_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
