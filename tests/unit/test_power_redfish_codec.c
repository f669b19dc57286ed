/* Unit tests for the Redfish JSON codec (src/power/redfish_codec.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "power/redfish_codec.h"

#define S(x) x, strlen(x)

/* A ComputerSystem as a real BMC (DSP2046 mockup style) returns it. */
static const char SYSTEM[] =
	"{\"@odata.id\": \"/redfish/v1/Systems/437XR1138R2\","
	" \"@odata.type\": \"#ComputerSystem.v1_13_0.ComputerSystem\","
	" \"PowerState\": \"On\","
	" \"Boot\": {\"BootSourceOverrideEnabled\": \"Disabled\"},"
	" \"Actions\": {\"#ComputerSystem.Reset\": {"
	"   \"target\": \"/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset\","
	"   \"ResetType@Redfish.AllowableValues\": [\"On\", \"ForceOff\", \"GracefulShutdown\","
	"     \"ForceRestart\", \"Nmi\", \"PushPowerButton\"]}}}";

static void test_root(void **state)
{
	struct ib_redfish_root r;

	assert_int_equal(ib_redfish_parse_root(S(
		"{\"Systems\": {\"@odata.id\": \"/redfish/v1/Systems\"},"
		" \"Links\": {\"Sessions\": {\"@odata.id\": \"/redfish/v1/SessionService/Sessions\"}}}"),
		&r), 0);
	assert_string_equal(r.systems, "/redfish/v1/Systems");
	assert_string_equal(r.sessions, "/redfish/v1/SessionService/Sessions");
	/* links that are not Redfish paths are dropped, not followed */
	assert_int_equal(ib_redfish_parse_root(S(
		"{\"Systems\": {\"@odata.id\": \"http://evil/redfish/v1/Systems\"},"
		" \"Links\": {\"Sessions\": {\"@odata.id\": \"/redfish/v1/../../etc\"}}}"), &r), 0);
	assert_string_equal(r.systems, "");
	assert_string_equal(r.sessions, "");
	assert_int_equal(ib_redfish_parse_root(S("[1]"), &r), -EBADMSG);
	assert_int_equal(ib_redfish_parse_root(S("{\"a\": 1, \"a\": 2}"), &r), -EBADMSG);
}

static void test_collection(void **state)
{
	char path[IB_REDFISH_PATHLEN];
	size_t n = 0;

	assert_int_equal(ib_redfish_parse_collection(S(
		"{\"Members\": [{\"@odata.id\": \"/redfish/v1/Systems/1\"},"
		" {\"@odata.id\": \"/redfish/v1/Systems/2\"}]}"), path, &n), 0);
	assert_string_equal(path, "/redfish/v1/Systems/1");
	assert_int_equal(n, 2);
	assert_int_equal(ib_redfish_parse_collection(S("{\"Members\": []}"), path, &n), -ENOENT);
	assert_int_equal(ib_redfish_parse_collection(S("{}"), path, &n), -EBADMSG);
	assert_int_equal(ib_redfish_parse_collection(S("{\"Members\": [{}]}"), path, &n),
			 -EBADMSG);
	assert_int_equal(ib_redfish_parse_collection(S(
		"{\"Members\": [{\"@odata.id\": \"/redfish/v1/Systems/1\\r\\nX: y\"}]}"), path, &n),
		-EBADMSG);
}

static void test_system(void **state)
{
	struct ib_redfish_system s;

	assert_int_equal(ib_redfish_parse_system(S(SYSTEM), &s), 0);
	assert_int_equal(s.power, IB_POWER_STATE_ON);
	assert_string_equal(s.reset_target,
			    "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset");
	assert_true(s.allowed_resets & (1u << IB_REDFISH_RESET_FORCE_RESTART));
	assert_false(s.allowed_resets & (1u << IB_REDFISH_RESET_POWER_CYCLE));
	assert_true(s.has_boot);

	static const struct {
		const char *json;
		int ret;
		enum ib_power_state power;
	} cases[] = {
		{ "{\"PowerState\": \"Off\"}", 0, IB_POWER_STATE_OFF },
		{ "{\"PowerState\": \"PoweringOn\"}", 0, IB_POWER_STATE_ON },
		{ "{\"PowerState\": \"PoweringOff\"}", 0, IB_POWER_STATE_OFF },
		{ "{\"PowerState\": \"Sideways\"}", 0, IB_POWER_STATE_UNKNOWN },
		{ "{\"PowerState\": null}", -EBADMSG, 0 },
		{ "{}", -EBADMSG, 0 },
		{ "{\"PowerState\": \"On\", \"Actions\": {\"#ComputerSystem.Reset\": "
		  "{\"target\": \"/elsewhere\"}}}", -EBADMSG, 0 },
		{ "not json", -EBADMSG, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0xa5, sizeof(s));
		assert_int_equal(ib_redfish_parse_system(S(cases[i].json), &s), cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(s.power, cases[i].power);
			assert_string_equal(s.reset_target, "");
		}
	}
}

static void test_reset_choice(void **state)
{
	const uint32_t no_cycle = (1u << IB_REDFISH_RESET_ON) | (1u << IB_REDFISH_RESET_FORCE_OFF) |
				  (1u << IB_REDFISH_RESET_FORCE_RESTART);
	static const struct {
		enum ib_power_op op;
		uint32_t allowed;
		int ret;
		const char *name;
	} cases[] = {
		{ IB_POWER_ON, 0, 0, "On" },
		{ IB_POWER_OFF, 0, 0, "ForceOff" },
		{ IB_POWER_SOFT, 0, 0, "GracefulShutdown" },
		{ IB_POWER_CYCLE, 0, 0, "PowerCycle" },
		{ IB_POWER_CYCLE, no_cycle, 0, "ForceRestart" },
		{ IB_POWER_SOFT, no_cycle, -EOPNOTSUPP, NULL },
		{ IB_POWER_STATUS, 0, -EINVAL, NULL },
		{ IB_POWER_PXE_ONCE, 0, -EINVAL, NULL },
		{ IB_POWER_OP_COUNT, 0, -EINVAL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum ib_redfish_reset r;

		assert_int_equal(ib_redfish_reset_for(cases[i].op, cases[i].allowed, &r),
				 cases[i].ret);
		if (cases[i].name)
			assert_string_equal(ib_redfish_reset_name(r), cases[i].name);
	}
}

static void test_bodies(void **state)
{
	char b[256];

	assert_int_equal(ib_redfish_reset_body(IB_REDFISH_RESET_POWER_CYCLE, b, sizeof(b)), 0);
	assert_string_equal(b, "{\"ResetType\": \"PowerCycle\"}");
	assert_int_equal(ib_redfish_reset_body(IB_REDFISH_RESET_ON, b, 10), -ENOBUFS);
	assert_int_equal(ib_redfish_boot_body(IB_POWER_PXE_ONCE, 1, b, sizeof(b)), 0);
	assert_string_equal(b, "{\"Boot\": {\"BootSourceOverrideEnabled\": \"Once\", "
			       "\"BootSourceOverrideTarget\": \"Pxe\", "
			       "\"BootSourceOverrideMode\": \"UEFI\"}}");
	assert_int_equal(ib_redfish_boot_body(IB_POWER_DISK_ONCE, 0, b, sizeof(b)), 0);
	assert_non_null(strstr(b, "\"Hdd\""));
	assert_non_null(strstr(b, "\"Legacy\""));
	assert_int_equal(ib_redfish_boot_body(IB_POWER_ON, 0, b, sizeof(b)), -EINVAL);
}

static void test_error_message(void **state)
{
	char m[64];

	ib_redfish_parse_error(S("{\"error\": {\"code\": \"Base.1.8.GeneralError\","
		" \"message\": \"generic\", \"@Message.ExtendedInfo\": [{\"Message\":"
		" \"The property Boot is read only.\\n\\u001b[2J\"}]}}"), m, sizeof(m));
	assert_string_equal(m, "The property Boot is read only.\\x0a\\x1b[2J");
	ib_redfish_parse_error(S("{\"error\": {\"message\": \"generic\"}}"), m, sizeof(m));
	assert_string_equal(m, "generic");
	ib_redfish_parse_error(S("<html>"), m, sizeof(m));
	assert_string_equal(m, "");
}

static void test_paths(void **state)
{
	static const struct {
		const char *p;
		int ok;
	} cases[] = {
		{ "/redfish/v1/Systems/1", 1 },
		{ "/redfish/v1/Systems/System.Embedded.1", 1 },
		{ "/redfish/v1/Systems/a%20b", 1 },
		{ "/redfish/v1/../x", 0 },
		{ "/redfish/v1/x/..", 0 },
		{ "/redfish//v1", 0 },
		{ "/other/v1", 0 },
		{ "redfish/v1", 0 },
		{ "/redfish/v1/a b", 0 },
		{ "/redfish/v1/a\r\nb", 0 },
		{ "/redfish/v1/a?b", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ib_redfish_path_ok(cases[i].p) == 0, cases[i].ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_collection),
		cmocka_unit_test(test_system),
		cmocka_unit_test(test_reset_choice),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_error_message),
		cmocka_unit_test(test_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
