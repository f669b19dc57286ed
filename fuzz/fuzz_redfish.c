/*
 * libFuzzer target for the Redfish JSON codec (src/power/redfish_codec.c):
 * every body a BMC sends us goes through one of its parsers, so each input
 * is fed to all of them: the service root, a collection, a ComputerSystem,
 * an error body; and, as a BMC entry, to ib_power_bmc_from_json().
 *
 * Properties: every path a parser returns passes ib_redfish_path_ok() (so
 * it can go into a URL: no CR/LF, no "..", under /redfish/); a system's
 * allowed resets are known bits; an error message is printable ASCII; the
 * reset chosen for any op is one the system allows (or any, if it lists
 * none).  Any broken property aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "power/power_bmc.h"
#include "power/redfish_codec.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_system(const struct ib_redfish_system *s)
{
	CHECK(s->reset_target[0] == '\0' || ib_redfish_path_ok(s->reset_target) == 0);
	CHECK((s->allowed_resets >> IB_REDFISH_RESET_COUNT) == 0);
	CHECK(s->power <= IB_POWER_STATE_OFF);
	for (int op = 0; op < IB_POWER_OP_COUNT; op++) {
		enum ib_redfish_reset r;
		char body[128];

		if (ib_redfish_reset_for((enum ib_power_op)op, s->allowed_resets, &r) < 0)
			continue;
		CHECK(s->allowed_resets == 0 || (s->allowed_resets & (1u << r)));
		CHECK(ib_redfish_reset_body(r, body, sizeof(body)) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct ib_redfish_root root;
	struct ib_redfish_system sys;
	char path[IB_REDFISH_PATHLEN], msg[128], err[IB_BMC_ERRLEN];
	struct ib_bmc bmc;
	size_t n;
	json_t *o;

	if (ib_redfish_parse_root(buf, size, &root) == 0) {
		CHECK(root.systems[0] == '\0' || ib_redfish_path_ok(root.systems) == 0);
		CHECK(root.sessions[0] == '\0' || ib_redfish_path_ok(root.sessions) == 0);
	}
	if (ib_redfish_parse_collection(buf, size, path, &n) == 0) {
		CHECK(ib_redfish_path_ok(path) == 0);
		CHECK(n >= 1);
	}
	if (ib_redfish_parse_system(buf, size, &sys) == 0)
		check_system(&sys);
	ib_redfish_parse_error(buf, size, msg, sizeof(msg));
	for (size_t i = 0; msg[i]; i++)
		CHECK(msg[i] >= 0x20 && msg[i] < 0x7f);

	o = json_loadb(buf, size, 0, NULL);
	if (o && ib_power_bmc_from_json(o, &bmc, err) == 0) {
		CHECK(bmc.name[0] && bmc.address[0] && bmc.credential[0]);
		CHECK(bmc.cipher_suite == 3 || bmc.cipher_suite == 17);
		CHECK(bmc.timeout_ms > 0);
	}
	json_decref(o);
	return 0;
}
