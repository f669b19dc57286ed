/*
 * The firmware table (src/boot/boot_arch.c): each client arch reads its
 * own key of the boot section over DHCPv4 and over DHCPv6, BIOS has
 * nothing over DHCPv6, an arch outside the table has no row.  Both DHCP
 * decisions and the doctor read these rows, so a wrong offset here would
 * hand one arch another's file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "boot/boot_arch.h"

static const struct {
	uint16_t arch;
	const char *v4, *v6;		/* the value read, NULL: none */
	enum ib_boot_cpu cpu;
	bool http;
} want[] = {
	{ 0, "bios.kpxe", NULL, IB_BOOT_CPU_BIOS, false },
	{ 6, "ia32.efi", "ia32.efi", IB_BOOT_CPU_IA32, false },
	{ 7, "x64.efi", "x64.efi", IB_BOOT_CPU_X64, false },
	{ 9, "x64.efi", "x64.efi", IB_BOOT_CPU_X64, false },
	{ 11, "arm64.efi", "arm64.efi", IB_BOOT_CPU_ARM64, false },
	{ 16, "http://4/x64.efi", "http://6/x64.efi", IB_BOOT_CPU_X64, true },
	{ 19, "http://4/arm64.efi", "http://6/arm64.efi", IB_BOOT_CPU_ARM64, true },
};

static void test_rows(void **state)
{
	struct ib_boot_config b = {
		.file_bios = "bios.kpxe", .file_efi_x64 = "x64.efi", .file_efi_ia32 = "ia32.efi",
		.file_efi_arm64 = "arm64.efi", .http_url_x64 = "http://4/x64.efi",
		.http_url_arm64 = "http://4/arm64.efi", .http_url6_x64 = "http://6/x64.efi",
		.http_url6_arm64 = "http://6/arm64.efi",
	};
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct ib_boot_arch *a = ib_boot_arch_find(want[i].arch);
		const char *v6 = NULL;
		char why[128];

		assert_non_null(a);
		assert_int_equal(a->arch, want[i].arch);
		assert_int_equal(a->cpu, want[i].cpu);
		assert_int_equal(a->http, want[i].http);
		assert_string_equal(ib_boot_arch_file(&b, a, false), want[i].v4);
		v6 = ib_boot_arch_file(&b, a, true);
		if (want[i].v6) {
			assert_string_equal(v6, want[i].v6);
			assert_non_null(a->v6_key);
			assert_non_null(strstr(a->v6_why, a->v6_key));
			/* the DHCPv6 reason names this row, not a neighbour's */
			snprintf(why, sizeof(why), "arch %u (%s): %s", a->arch, a->name, a->v6_key);
			assert_string_equal(a->v6_why, why);
		} else {
			assert_null(v6);
			assert_null(a->v6_key);
		}
		/* the reasons the decisions journal name the key they read */
		assert_non_null(strstr(a->v4_why, a->v4_key));
		snprintf(why, sizeof(why), "arch %u (%s): %s", a->arch, a->name, a->v4_key);
		assert_string_equal(a->v4_why, why);
	}
	while (ib_boot_arch_at(n))
		n++;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	/* a key left unset reads NULL */
	b.file_efi_arm64 = NULL;
	assert_null(ib_boot_arch_file(&b, ib_boot_arch_find(11), false));
	assert_null(ib_boot_arch_find(10));
	assert_null(ib_boot_arch_find(0xffff));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
