/* Unit tests for the power module's inputs: the secrets file
 * (power_secrets.c, parse and the mode check) and BMC entries
 * (power_bmc.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "power/power_bmc.h"
#include "power/power_secrets.h"

#define S(x) x, strlen(x)

static void test_secrets_parse(void **state)
{
	struct ib_power_secrets *s;
	char err[IB_SECRETS_ERRLEN];
	const char *u, *p;

	assert_int_equal(ib_power_secrets_parse(S(
		"{\"lab\": {\"user\": \"admin\", \"password\": \"p@ss word\"},"
		" \"r2\": {\"password\": \"x\", \"user\": \"root\"}}"), &s, err), 0);
	assert_int_equal(ib_power_secrets_get(s, "lab", &u, &p), 0);
	assert_string_equal(u, "admin");
	assert_string_equal(p, "p@ss word");
	assert_int_equal(ib_power_secrets_get(s, "r2", &u, &p), 0);
	assert_string_equal(u, "root");
	assert_int_equal(ib_power_secrets_get(s, "nope", &u, &p), -ENOENT);
	ib_power_secrets_free(s);
	ib_power_secrets_free(NULL);

	static const char *const bad[] = {
		"[]",
		"{\"a\": {\"user\": \"u\"}}",
		"{\"a\": {\"user\": \"u\", \"password\": 1}}",
		"{\"a\": {\"user\": \"u\", \"password\": \"p\", \"extra\": 1}}",
		"{\"a\": {\"user\": \"u\", \"password\": \"p\\u0000q\"}}",
		"{\"a\\n\": {\"user\": \"u\", \"password\": \"p\"}}",
		"{\"a\": {\"user\": \"u\", \"password\": \"p\"}, \"a\": {\"user\": \"v\", \"password\": \"q\"}}",
		"{\"a\": {\"user\": \"u\", \"password\": \"SECRETVALUE\"} ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ib_power_secrets_parse(S(bad[i]), &s, err), -EINVAL);
		assert_true(err[0]);
		/* an error never quotes a value */
		assert_null(strstr(err, "SECRETVALUE"));
		assert_null(strstr(err, "\"p\""));
	}
}

static void test_secrets_mode(void **state)
{
	char path[] = "/tmp/ib-secrets-XXXXXX", err[IB_SECRETS_ERRLEN];
	static const char text[] = "{\"lab\": {\"user\": \"u\", \"password\": \"p\"}}";
	struct ib_power_secrets *s = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	static const struct {
		mode_t mode;
		int ret;
	} cases[] = {
		{ 0600, 0 }, { 0400, 0 }, { 0640, -EPERM }, { 0604, -EPERM }, { 0660, -EPERM },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(chmod(path, cases[i].mode), 0);
		assert_int_equal(ib_power_secrets_load(path, &s, err), cases[i].ret);
		if (cases[i].ret == 0) {
			ib_power_secrets_free(s);
		} else {
			assert_non_null(strstr(err, "refused"));
		}
	}
	unlink(path);
	assert_int_equal(ib_power_secrets_load(path, &s, err), -ENOENT);
}

static int bmc(const char *json, struct ib_bmc *b, char err[IB_BMC_ERRLEN])
{
	json_t *o = json_loads(json, 0, NULL);
	int r = ib_power_bmc_from_json(o, b, err);

	json_decref(o);
	return r;
}

static void test_bmc_entries(void **state)
{
	char err[IB_BMC_ERRLEN];
	struct ib_bmc b;

	assert_int_equal(bmc("{\"name\": \"n1\", \"driver\": \"ipmi\", \"address\": \"198.18.0.2\","
			     " \"credential\": \"lab\", \"cipher_suite\": 17, \"efi\": true,"
			     " \"ipmi_workarounds\": [\"opensesspriv\", \"sun20\"]}", &b, err), 0);
	assert_int_equal(b.driver, IB_BMC_IPMI);
	assert_int_equal(b.cipher_suite, 17);
	assert_true(b.efi);
	assert_int_equal(b.ipmi_workarounds, IB_IPMI_WA_OPENSESSPRIV | IB_IPMI_WA_SUN20);
	assert_int_equal(b.timeout_ms, 5000);
	assert_int_equal(b.retries, 1);

	assert_int_equal(bmc("{\"name\": \"r\", \"driver\": \"redfish\", \"address\":"
			     " \"https://198.18.0.2\", \"credential\": \"lab\", \"auth\": \"basic\","
			     " \"insecure\": true, \"ca_file\": \"/etc/ca.pem\", \"timeout_ms\": 800,"
			     " \"retries\": 0, \"deadline_ms\": 20000}", &b, err), 0);
	assert_int_equal(b.driver, IB_BMC_REDFISH);
	assert_true(b.basic_auth && b.insecure);
	assert_string_equal(b.ca_file, "/etc/ca.pem");
	assert_int_equal(b.timeout_ms, 800);
	assert_int_equal(b.retries, 0);
	assert_int_equal(b.deadline_ms, 20000);

	static const struct {
		const char *json;
		const char *err;
	} bad[] = {
		{ "[]", "must be an object" },
		{ "{\"name\": \"n\", \"driver\": \"ipmi\", \"address\": \"a\"}", "required" },
		{ "{\"name\": \"n\", \"driver\": \"snmp\", \"address\": \"a\", \"credential\": \"c\"}",
		  "bad value for \"driver\"" },
		{ "{\"name\": \"n\", \"driver\": \"ipmi\", \"address\": \"a\", \"credential\": \"c\","
		  " \"cipher_suite\": 0}", "bad value for \"cipher_suite\"" },
		{ "{\"name\": \"n\", \"driver\": \"ipmi\", \"address\": \"a\", \"credential\": \"c\","
		  " \"password\": \"x\"}", "unknown key \"password\"" },
		{ "{\"name\": \"n\", \"driver\": \"ipmi\", \"address\": \"a\", \"credential\": \"c\","
		  " \"insecure\": \"yes\"}", "bad value for \"insecure\"" },
		{ "{\"name\": \"n\\n\", \"driver\": \"ipmi\", \"address\": \"a\", \"credential\": \"c\"}",
		  "bad value for \"name\"" },
		{ "{\"name\": \"n\", \"driver\": \"ipmi\", \"address\": \"a\", \"credential\": \"c\","
		  " \"timeout_ms\": 0}", "timeout_ms must be positive" },
		{ "{\"name\": \"n\", \"driver\": \"ipmi\", \"address\": \"a\", \"credential\": \"c\","
		  " \"retries\": 11}", "bad value for \"retries\"" },
		{ "{\"name\": \"n\", \"driver\": \"ipmi\", \"address\": \"a\", \"credential\": \"c\","
		  " \"ipmi_workarounds\": [\"nope\"]}", "bad value for \"ipmi_workarounds\"" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(bmc(bad[i].json, &b, err), -EINVAL);
		assert_non_null(strstr(err, bad[i].err));
	}
}

static void test_op_names(void **state)
{
	static const char *const names[] = { "status", "on", "off", "cycle", "soft",
					     "pxe_once", "disk_once" };
	enum ib_power_op op;

	for (int i = 0; i < IB_POWER_OP_COUNT; i++) {
		assert_int_equal(ib_power_op_parse(names[i], &op), 0);
		assert_int_equal(op, i);
		assert_string_equal(ib_power_op_name(op), names[i]);
	}
	assert_int_equal(ib_power_op_parse("reboot", &op), -EINVAL);
	assert_null(ib_power_op_name(IB_POWER_OP_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secrets_parse),
		cmocka_unit_test(test_secrets_mode),
		cmocka_unit_test(test_bmc_entries),
		cmocka_unit_test(test_op_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
