/* Unit tests for the agent's protocol messages: instructions and
 * progress (src/agent/agent_proto.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/agent_proto.h"

#define SHA "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static int parse(const char *json, struct ib_agent_instruction *in, const char **why)
{
	*why = NULL;
	return ib_agent_instruction_parse(json, strlen(json), in, why);
}

static void test_simple_actions(void **state)
{
	static const struct {
		const char *json;
		enum ib_agent_action action;
		uint32_t poll_ms;
		const char *id;
	} cases[] = {
		{ "{\"action\":\"none\"}", IB_AGENT_ACTION_NONE, IB_AGENT_POLL_MS_DEFAULT, "" },
		{ "{\"action\":\"none\",\"poll_ms\":500}", IB_AGENT_ACTION_NONE, 500, "" },
		{ "{\"action\":\"none\",\"poll_ms\":1}", IB_AGENT_ACTION_NONE, IB_AGENT_POLL_MS_MIN, "" },
		{ "{\"action\":\"none\",\"poll_ms\":99999999}", IB_AGENT_ACTION_NONE,
		  IB_AGENT_POLL_MS_MAX, "" },
		{ "{\"action\":\"none\",\"poll_ms\":null}", IB_AGENT_ACTION_NONE,
		  IB_AGENT_POLL_MS_DEFAULT, "" },
		{ "{\"action\":\"wait\",\"id\":\"i-7\"}", IB_AGENT_ACTION_WAIT,
		  IB_AGENT_POLL_MS_DEFAULT, "i-7" },
		{ "{\"action\":\"reboot\",\"future\":{\"x\":[1]}}", IB_AGENT_ACTION_REBOOT,
		  IB_AGENT_POLL_MS_DEFAULT, "" },
		{ " {\"action\" : \"wipe\"} \n", IB_AGENT_ACTION_WIPE, IB_AGENT_POLL_MS_DEFAULT, "" },
	};
	struct ib_agent_instruction in;
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].json, &in, &why);
		if (rc != 0)
			fail_msg("%s: rc %d (%s)", cases[i].json, rc, why ? why : "");
		assert_int_equal(in.action, cases[i].action);
		assert_int_equal(in.poll_ms, cases[i].poll_ms);
		assert_string_equal(in.id, cases[i].id);
	}
	assert_int_equal(in.wipe_ndisks, 0);
	assert_string_equal(ib_agent_action_name(IB_AGENT_ACTION_INSTALL), "install");
}

static void test_wipe_disks(void **state)
{
	struct ib_agent_instruction in;
	const char *why;

	assert_int_equal(parse("{\"action\":\"wipe\",\"disks\":[\"vda\",\"nvme0n1\"]}",
			       &in, &why), 0);
	assert_int_equal(in.wipe_ndisks, 2);
	assert_string_equal(in.wipe_disks[0], "vda");
	assert_string_equal(in.wipe_disks[1], "nvme0n1");
	assert_int_equal(parse("{\"action\":\"wipe\",\"disks\":[\"../sda\"]}", &in, &why), -EINVAL);
	assert_int_equal(parse("{\"action\":\"wipe\",\"disks\":[\"Sda\"]}", &in, &why), -EINVAL);
	assert_int_equal(parse("{\"action\":\"wipe\",\"disks\":[1]}", &in, &why), -EINVAL);
	assert_int_equal(parse("{\"action\":\"wipe\",\"disks\":\"vda\"}", &in, &why), -EBADMSG);
	assert_non_null(why);
}

static void test_install(void **state)
{
	struct ib_agent_instruction in;
	const char *why;

	assert_int_equal(parse("{\"action\":\"install\",\"id\":\"inst-1\","
			       "\"url\":\"http://198.18.0.1:8080/images/deb12.raw.gz\","
			       "\"sha256\":\"" SHA "\",\"format\":\"gzip\",\"disk\":\"vda\","
			       "\"disk_serial\":\"IB-0001\"}", &in, &why), 0);
	assert_int_equal(in.action, IB_AGENT_ACTION_INSTALL);
	assert_string_equal(in.url.host, "198.18.0.1");
	assert_int_equal(in.url.port, 8080);
	assert_string_equal(in.url.target, "/images/deb12.raw.gz");
	assert_int_equal(in.sha256[0], 0x9f);
	assert_int_equal(in.sha256[31], 0x08);
	assert_int_equal(in.format, IB_AGENT_FORMAT_GZIP);
	assert_string_equal(in.disk, "vda");
	assert_string_equal(in.disk_serial, "IB-0001");
	/* format defaults to raw; an upper-case digest is fine */
	assert_int_equal(parse("{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\","
			       "\"sha256\":\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\","
			       "\"disk\":\"sda\"}", &in, &why), 0);
	assert_int_equal(in.format, IB_AGENT_FORMAT_RAW);
	assert_string_equal(in.disk_serial, "");
}

static void test_refused(void **state)
{
	static const struct {
		const char *json;
		int rc;
	} cases[] = {
		{ "", -EBADMSG },
		{ "not json", -EBADMSG },
		{ "[\"wipe\"]", -EBADMSG },
		{ "{\"action\":\"wipe\",\"action\":\"none\"}", -EBADMSG },	/* duplicate key */
		{ "{}", -EINVAL },
		{ "{\"action\":null}", -EINVAL },
		{ "{\"action\":\"erase\"}", -EINVAL },
		{ "{\"action\":\"WIPE\"}", -EINVAL },
		{ "{\"action\":7}", -EBADMSG },
		{ "{\"action\":\"none\",\"poll_ms\":\"5\"}", -EBADMSG },
		{ "{\"action\":\"none\",\"id\":5}", -EBADMSG },
		{ "{\"action\":\"none\",\"id\":\"" "0123456789012345678901234567890123456789"
		  "01234567890123456789012345\"}", -EINVAL },
		/* fuzz_agent_proto: the progress report could not echo it back */
		{ "{\"action\":\"wipe\",\"id\":\"wipe-3\\u007f\",\"disks\":[\"sdb\"]}", -EINVAL },
		{ "{\"action\":\"none\",\"id\":\"a\\\\b\"}", -EINVAL },
		{ "{\"action\":\"none\",\"id\":\"a b\"}", -EINVAL },
		{ "{\"action\":\"none\",\"id\":\"\\u00e9\"}", -EINVAL },
		/* install: every member checked before anything is written */
		{ "{\"action\":\"install\"}", -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"disk\":\"vda\"}", -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"sha256\":\"" SHA "\"}",
		  -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"https://198.18.0.1/x\",\"sha256\":\"" SHA "\","
		  "\"disk\":\"vda\"}", -EPROTONOSUPPORT },
		{ "{\"action\":\"install\",\"url\":\"http://images.lan/x\",\"sha256\":\"" SHA "\","
		  "\"disk\":\"vda\"}", -EADDRNOTAVAIL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"sha256\":\"abc\","
		  "\"disk\":\"vda\"}", -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"sha256\":"
		  "\"9f:86:d0:81:88:4c:7d:65:9a:2f:ea:a0:c5:5a:d0:15:a3:bf\",\"disk\":\"vda\"}", -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"sha256\":"
		  "\"zz86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
		  "\"disk\":\"vda\"}", -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"sha256\":\"" SHA "\","
		  "\"disk\":\"vda\",\"format\":\"xz\"}", -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"sha256\":\"" SHA "\","
		  "\"disk\":\"/dev/vda\"}", -EINVAL },
		{ "{\"action\":\"install\",\"url\":\"http://198.18.0.1/x\",\"sha256\":\"" SHA "\","
		  "\"disk\":\"vda\",\"disk_serial\":5}", -EBADMSG },
	};
	struct ib_agent_instruction in;
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].json, &in, &why);
		if (rc != cases[i].rc)
			fail_msg("%s: rc %d, want %d", cases[i].json, rc, cases[i].rc);
		assert_non_null(why);
	}
}

static void test_progress_json(void **state)
{
	struct ib_agent_progress p = {
		.mac = "52:54:00:00:00:30", .instruction = "i-1", .step = "install:vda",
		.status = "failed", .bytes = 123456789012ull, .total = 5, .rate_bps = 1000,
		.duration_ms = 77, .error = "sha256 mismatch\n\x01",
	};
	char *s = ib_agent_progress_json(&p);
	json_t *o;

	assert_non_null(s);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "mac")), "52:54:00:00:00:30");
	assert_string_equal(json_string_value(json_object_get(o, "instruction")), "i-1");
	assert_string_equal(json_string_value(json_object_get(o, "step")), "install:vda");
	assert_string_equal(json_string_value(json_object_get(o, "status")), "failed");
	assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 123456789012ll);
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 5);
	assert_int_equal(json_integer_value(json_object_get(o, "rate_bps")), 1000);
	assert_int_equal(json_integer_value(json_object_get(o, "duration_ms")), 77);
	assert_string_equal(json_string_value(json_object_get(o, "error")),
			    "sha256 mismatch\\x0a\\x01");
	assert_null(json_object_get(o, "detail"));
	json_decref(o);
	free(s);
	/* the minimum: no id, no error, no total */
	p = (struct ib_agent_progress){ .mac = "m", .step = "wipe", .status = "ok" };
	s = ib_agent_progress_json(&p);
	assert_string_equal(s, "{\"bytes\":0,\"duration_ms\":0,\"mac\":\"m\",\"rate_bps\":0,"
			       "\"status\":\"ok\",\"step\":\"wipe\"}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_actions),
		cmocka_unit_test(test_wipe_disks),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_progress_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
