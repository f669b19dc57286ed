/* The boot timeline's stages (src/journal/timeline.c), table-driven. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "journal/timeline.h"

#define A "52:54:00:00:00:0a"
#define B "52:54:00:00:00:0b"

/* One machine's netboot, a second machine beside it, refused requests
 * naming both and unverified claims naming B, then a reboot. */
static void test_netboot_stages(void **state)
{
	static const struct {
		int64_t ms;
		const char *mac, *proto, *kind, *detail;
		const char *stage;
		int64_t since_ms;	/* -1: no stage before */
	} steps[] = {
		{ 0, A, "dhcp4", "discover", "{\"xid\":1,\"arch\":0}", "firmware", -1 },
		{ 100, A, "dhcp4", "request", "{\"xid\":1,\"arch\":0}", "firmware", -1 },
		{ 150, A, "dhcp4", "lease-commit", "{\"address\":\"198.18.0.100\"}", "firmware", -1 },
		{ 200, B, "dhcp4", "discover", "{\"xid\":2}", "firmware", -1 },
		{ 1000, A, "tftp", "transfer", "{\"file\":\"undionly.kpxe\"}", "loader", 1000 },
		{ 3000, A, "dhcp4", "discover", "{\"xid\":3,\"user_class\":\"iPXE\"}", "ipxe", 2000 },
		{ 3100, A, "dhcp4", "lease-commit", "{\"address\":\"198.18.0.100\"}", "ipxe", 2100 },
		{ 3200, A, "dhcp4", "request", "{\"xid\":3,\"boot\":\"ipxe\"}", "ipxe", 2200 },
		{ 3500, A, "http", "script", "{\"status\":200}", "script", 500 },
		/* refused requests naming A and B (any host may send them):
		 * no stage, and neither machine's stage moves */
		{ 3550, A, "http", "config", "{\"status\":403,\"refused\":1}", "other", -1 },
		{ 3560, B, "http", "script", "{\"status\":401,\"refused\":1}", "other", -1 },
		/* a kernel (and a 404) asked in B's name by a host that is not
		 * B: served, but no stage of B's */
		{ 3570, B, "http", "asset", "{\"status\":200,\"auth\":\"unbound\",\"unverified\":1}",
		  "other", -1 },
		{ 3580, B, "http", "asset", "{\"status\":404,\"unverified\":1}", "other", -1 },
		/* a TFTP request from B's leased address its client never
		 * answered (any host may forge the source): no stage of B's */
		{ 3590, B, "tftp", "transfer-failed",
		  "{\"file\":\"absent.efi\",\"unverified\":1}", "other", -1 },
		{ 3600, A, "http", "asset", "{\"status\":200}", "kernel", 100 },
		{ 3700, A, "http", "asset", "{\"status\":200}", "kernel", 200 },
		{ 4000, B, "tftp", "size-probe", "{}", "loader", 3800 },
		{ 9000, A, "machine", "discover", "{}", "lifecycle", 5400 },
		{ 100000, A, "dhcp4", "discover", "{\"xid\":4}", "firmware", 91000 },
		{ 100500, "", "ra", "advertise", "{}", "other", -1 },
	};
	struct ib_timeline t;

	ib_timeline_init(&t);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ib_event e = { .ts_us = steps[i].ms * 1000 };
		enum ib_stage st;
		int64_t since;

		snprintf(e.mac, sizeof(e.mac), "%s", steps[i].mac);
		snprintf(e.proto, sizeof(e.proto), "%s", steps[i].proto);
		snprintf(e.kind, sizeof(e.kind), "%s", steps[i].kind);
		snprintf(e.detail, sizeof(e.detail), "%s", steps[i].detail);
		ib_timeline_step(&t, &e, &st, &since);
		assert_string_equal(ib_stage_name(st), steps[i].stage);
		if (steps[i].since_ms < 0)
			assert_int_equal(since, -1);
		else
			assert_int_equal(since, steps[i].since_ms * 1000);
	}
}

/* More machines than slots: the oldest slot is taken over, nothing breaks. */
static void test_many_machines(void **state)
{
	struct ib_timeline t;

	ib_timeline_init(&t);
	for (int i = 0; i < 3 * IB_TIMELINE_MACS; i++) {
		struct ib_event e = { .ts_us = i };
		enum ib_stage st;
		int64_t since;

		snprintf(e.mac, sizeof(e.mac), "52:54:00:00:%02x:%02x", i / 256, i % 256);
		snprintf(e.proto, sizeof(e.proto), "tftp");
		ib_timeline_step(&t, &e, &st, &since);
		assert_int_equal(st, IB_STAGE_LOADER);
		assert_int_equal(since, -1);
	}
	assert_string_equal(ib_stage_name((enum ib_stage)99), "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netboot_stages),
		cmocka_unit_test(test_many_machines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
