/* The firmware boot table: see boot_arch.h. */
#include "boot/boot_arch.h"

#include <string.h>

#define NONE SIZE_MAX

/* A row and where its keys are in struct ib_boot_config. */
struct row {
	struct ib_boot_arch a;		/* what callers see */
	size_t v4_off;			/* offsetof the char * of v4_key */
	size_t v6_off;			/* of v6_key, or NONE */
};

#define OFF(f) offsetof(struct ib_boot_config, f)

/* RFC 4578 2.1 and the IANA registry; BIOS has no DHCPv6 PXE (RFC 5970
 * defines option 61 for UEFI); HTTP boot (16, 19) is handed a URL. */
static const struct row rows[] = {
	{ { 0, "BIOS", IB_BOOT_CPU_BIOS, false, "boot.bios", "arch 0 (BIOS): boot.bios",
	    NULL, NULL }, OFF(file_bios), NONE },
	{ { 6, "UEFI ia32", IB_BOOT_CPU_IA32, false, "boot.efi_ia32",
	    "arch 6 (UEFI ia32): boot.efi_ia32", "boot.efi_ia32",
	    "arch 6 (UEFI ia32): boot.efi_ia32" }, OFF(file_efi_ia32), OFF(file_efi_ia32) },
	{ { 7, "UEFI x64", IB_BOOT_CPU_X64, false, "boot.efi_x64",
	    "arch 7 (UEFI x64): boot.efi_x64", "boot.efi_x64",
	    "arch 7/9 (UEFI x64): boot.efi_x64" }, OFF(file_efi_x64), OFF(file_efi_x64) },
	{ { 9, "UEFI x64 (EBC)", IB_BOOT_CPU_X64, false, "boot.efi_x64",
	    "arch 9 (UEFI x64 BC): boot.efi_x64", "boot.efi_x64",
	    "arch 7/9 (UEFI x64): boot.efi_x64" }, OFF(file_efi_x64), OFF(file_efi_x64) },
	{ { 11, "UEFI arm64", IB_BOOT_CPU_ARM64, false, "boot.efi_arm64",
	    "arch 11 (UEFI arm64): boot.efi_arm64", "boot.efi_arm64",
	    "arch 11 (UEFI arm64): boot.efi_arm64" }, OFF(file_efi_arm64), OFF(file_efi_arm64) },
	{ { 16, "UEFI HTTP x64", IB_BOOT_CPU_X64, true, "boot.http_x64",
	    "arch 16 (UEFI HTTP x64): boot.http_x64", "boot.http6_x64",
	    "arch 16 (UEFI HTTP x64): boot.http6_x64" }, OFF(http_url_x64), OFF(http_url6_x64) },
	{ { 19, "UEFI HTTP arm64", IB_BOOT_CPU_ARM64, true, "boot.http_arm64",
	    "arch 19 (UEFI HTTP arm64): boot.http_arm64", "boot.http6_arm64",
	    "arch 19 (UEFI HTTP arm64): boot.http6_arm64" }, OFF(http_url_arm64),
	  OFF(http_url6_arm64) },
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

const struct ib_boot_arch *ib_boot_arch_find(uint16_t arch)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (rows[i].a.arch == arch)
			return &rows[i].a;
	return NULL;
}

const struct ib_boot_arch *ib_boot_arch_at(size_t i)
{
	return i < N_ROWS ? &rows[i].a : NULL;
}

const char *ib_boot_arch_file(const struct ib_boot_config *b, const struct ib_boot_arch *a,
			      bool v6)
{
	/* a is the first member of its row */
	const struct row *r = (const struct row *)(const void *)a;
	size_t off = v6 ? r->v6_off : r->v4_off;

	if (off == NONE)
		return NULL;
	return *(char *const *)(const void *)((const char *)b + off);
}
