/*
 * The firmware boot table: what a client of each architecture (RFC 4578
 * option 93, RFC 5970 option 61; the IANA processor architecture types)
 * is handed, over DHCPv4 and over DHCPv6, and by which key of the boot
 * section.  One table for both families: the DHCPv4 boot decision
 * (src/dhcp4/dhcp4_boot.c), the DHCPv6 one (src/dhcp6/dhcp6_policy.c)
 * and the doctor (src/doctor) read it, so an arch is added in one place.
 * Pure.  The pointers callers pass back are rows the two lookups returned.
 */
#ifndef IB_BOOT_BOOT_ARCH_H
#define IB_BOOT_BOOT_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* The machine code a firmware runs (what its boot file must be built for). */
enum ib_boot_cpu {
	IB_BOOT_CPU_BIOS,		/* x86 real mode: a PXE NBP, not a PE */
	IB_BOOT_CPU_X64,		/* UEFI x86-64: PE32+ machine 0x8664 */
	IB_BOOT_CPU_IA32,		/* UEFI i386: PE32 machine 0x14c */
	IB_BOOT_CPU_ARM64,		/* UEFI arm64: PE32+ machine 0xaa64 */
};

/* One architecture's row. */
struct ib_boot_arch {
	uint16_t arch;			/* the IANA processor architecture type */
	const char *name;		/* "UEFI x64", for sentences */
	enum ib_boot_cpu cpu;		/* what its boot file is built for */
	bool http;			/* UEFI HTTP boot: handed a URL, not a TFTP file */
	const char *v4_key;		/* its boot section key over DHCPv4 */
	const char *v4_why;		/* the decision's reason, static text */
	const char *v6_key;		/* over DHCPv6, or NULL: none (BIOS PXE has no IPv6) */
	const char *v6_why;		/* the DHCPv6 decision's reason, or NULL */
};

/* The row of arch, or NULL for an architecture ironboot has no file for. */
const struct ib_boot_arch *ib_boot_arch_find(uint16_t arch);
/* Row i in the table's order, or NULL past the last: for docs and the doctor. */
const struct ib_boot_arch *ib_boot_arch_at(size_t i);
/*
 * The file (TFTP name) or URL the boot section b gives architecture a over
 * DHCPv6 (v6) or DHCPv4, or NULL when that key is not set or the family
 * has none for it.  Points into b.
 */
const char *ib_boot_arch_file(const struct ib_boot_config *b, const struct ib_boot_arch *a,
			      bool v6);

#endif
