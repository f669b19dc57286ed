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

/* The reasons the decisions journal: "arch N (name): key", made from the
 * row's own number, name and key so they cannot disagree with it. */
#define WHY(n, name, key) "arch " #n " (" name "): " key
/* A row served over DHCPv4 only. */
#define ROW4(n, name, cpu, http, key, f) \
	{ { n, name, cpu, http, key, WHY(n, name, key), NULL, NULL }, OFF(f), NONE }
/* A row served over both families, by key4 (field f4) and key6 (f6). */
#define ROW(n, name, cpu, http, key4, f4, key6, f6) \
	{ { n, name, cpu, http, key4, WHY(n, name, key4), key6, WHY(n, name, key6) }, \
	  OFF(f4), OFF(f6) }
/* A TFTP row reading the same key over both families. */
#define ROW46(n, name, cpu, key, f) ROW(n, name, cpu, false, key, f, key, f)

/* RFC 4578 2.1 and the IANA registry; BIOS has no DHCPv6 PXE (RFC 5970
 * defines option 61 for UEFI); HTTP boot (16, 19) is handed a URL. */
static const struct row rows[] = {
	ROW4(0, "BIOS", IB_BOOT_CPU_BIOS, false, "boot.bios", file_bios),
	ROW46(6, "UEFI ia32", IB_BOOT_CPU_IA32, "boot.efi_ia32", file_efi_ia32),
	ROW46(7, "UEFI x64", IB_BOOT_CPU_X64, "boot.efi_x64", file_efi_x64),
	ROW46(9, "UEFI x64 (EBC)", IB_BOOT_CPU_X64, "boot.efi_x64", file_efi_x64),
	ROW46(11, "UEFI arm64", IB_BOOT_CPU_ARM64, "boot.efi_arm64", file_efi_arm64),
	ROW(16, "UEFI HTTP x64", IB_BOOT_CPU_X64, true, "boot.http_x64", http_url_x64,
	    "boot.http6_x64", http_url6_x64),
	ROW(19, "UEFI HTTP arm64", IB_BOOT_CPU_ARM64, true, "boot.http_arm64", http_url_arm64,
	    "boot.http6_arm64", http_url6_arm64),
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
