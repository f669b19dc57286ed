/*
 * Boot files by their bytes, and the report helpers both rule tables use.
 * Pure: the caller reads the file (ib_doctor_probe_fn).
 *
 * A PE image (Microsoft PE/COFF specification): "MZ", the offset of the
 * PE header at 0x3c, "PE\0\0", the COFF header (machine type, section
 * count, optional header size), the optional header (magic 0x10b PE32,
 * 0x20b PE32+), then the section table, 40 bytes a section, whose raw
 * data must lie inside the file: a cut download ends before it does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "boot/boot_arch.h"
#include "doctor/doctor.h"

#define PE_X64 0x8664
#define PE_ARM64 0xaa64
#define PE_I386 0x14c

const char *ib_doctor_sev_str(enum ib_doctor_sev s)
{
	static const char *const names[] = {
		[IB_DOCTOR_INFO] = "info", [IB_DOCTOR_WARNING] = "warning",
		[IB_DOCTOR_ERROR] = "error",
	};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int ib_doctor_status(const struct ib_doctor_report *r)
{
	int st = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (r->v[i].severity == IB_DOCTOR_ERROR)
			return 2;
		if (r->v[i].severity == IB_DOCTOR_WARNING)
			st = 1;
	}
	return st;
}

struct ib_doctor_finding *ib_doctor_add(struct ib_doctor_report *r, const char *rule,
					enum ib_doctor_sev sev)
{
	struct ib_doctor_finding *f;

	if (r->n >= IB_DOCTOR_MAX) {
		r->more++;
		return NULL;
	}
	f = &r->v[r->n++];
	memset(f, 0, sizeof(*f));
	f->rule = rule;
	f->severity = sev;
	return f;
}

/* Length of the UTF-8 sequence at s (RFC 3629 4: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0 when it is not one. */
static size_t utf8_len(const uint8_t *s)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (s[0] > 0xf4 || (s[0] >= 0x80 && !n))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n ? n : 1;
}

/* Replaces control bytes and bytes not part of UTF-8 with '?'. */
static void scrub(char *text)
{
	uint8_t *s = (uint8_t *)text;

	while (*s) {
		size_t n = utf8_len(s);

		if (!n || *s < 0x20 || *s == 0x7f) {
			*s++ = '?';
			continue;
		}
		s += n;
	}
}

void ib_doctor_scrub(struct ib_doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		scrub(r->v[i].cause);
		scrub(r->v[i].fix);
		scrub(r->v[i].evidence);
	}
	scrub(r->stopped);
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool looks_html(const uint8_t *p, size_t len)
{
	static const char *const starts[] = { "<!doctype", "<html", "<head", "<?xml", "<body" };
	size_t i = 0;

	if (len >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;	/* UTF-8 BOM */
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		size_t n = strlen(starts[k]);

		if (len - i >= n && strncasecmp((const char *)p + i, starts[k], n) == 0)
			return true;
	}
	return false;
}

/* The PE's sections end inside the file?  true when they do, or when the
 * section table lies beyond the bytes we have (nothing to say). */
static bool pe_sections_fit(const uint8_t *p, size_t len, size_t pe, uint64_t size)
{
	size_t nsec = le16(p + pe + 6), opt = le16(p + pe + 20);
	size_t tab = pe + 24 + opt;

	if (nsec > 96)
		return false;	/* the format's limit: not a real image */
	for (size_t i = 0; i < nsec; i++) {
		const uint8_t *s = p + tab + 40 * i;

		if (tab + 40 * (i + 1) > len)
			return true;
		if ((uint64_t)le32(s + 20) + le32(s + 16) > size)
			return false;
	}
	return true;
}

enum ib_doctor_file_kind ib_doctor_file_classify(const uint8_t *head, size_t len,
						 uint64_t size)
{
	size_t pe;
	uint16_t machine, magic;

	if (size == 0 || len == 0)
		return IB_DF_EMPTY;
	if (looks_html(head, len))
		return IB_DF_HTML;
	if (len < 0x40 || head[0] != 'M' || head[1] != 'Z')
		return IB_DF_OTHER;
	pe = le32(head + 0x3c);
	if (pe > len - 24 || pe + 26 > len)
		return pe >= size ? IB_DF_PE_TRUNCATED : IB_DF_OTHER;
	if (memcmp(head + pe, "PE\0\0", 4) != 0)
		return IB_DF_OTHER;
	if (!pe_sections_fit(head, len, pe, size))
		return IB_DF_PE_TRUNCATED;
	machine = le16(head + pe + 4);
	magic = le16(head + pe + 24);
	if (machine == PE_X64 && magic == 0x20b)
		return IB_DF_PE_X64;
	if (machine == PE_ARM64 && magic == 0x20b)
		return IB_DF_PE_ARM64;
	if (machine == PE_I386 && magic == 0x10b)
		return IB_DF_PE_IA32;
	return IB_DF_PE_OTHER;
}

const char *ib_doctor_file_kind_str(enum ib_doctor_file_kind k)
{
	static const char *const names[] = {
		[IB_DF_EMPTY] = "an empty file", [IB_DF_HTML] = "an HTML page",
		[IB_DF_PE_X64] = "a PE32+ image for x86-64",
		[IB_DF_PE_ARM64] = "a PE32+ image for arm64",
		[IB_DF_PE_IA32] = "a PE32 image for i386",
		[IB_DF_PE_OTHER] = "a PE image of another machine type",
		[IB_DF_PE_TRUNCATED] = "a truncated PE image",
		[IB_DF_OTHER] = "not a PE image",
	};

	return (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

int ib_doctor_arch_firmware(int arch)
{
	static const enum ib_doctor_firmware by_cpu[] = {
		[IB_BOOT_CPU_BIOS] = IB_DFW_BIOS, [IB_BOOT_CPU_X64] = IB_DFW_EFI_X64,
		[IB_BOOT_CPU_IA32] = IB_DFW_EFI_IA32, [IB_BOOT_CPU_ARM64] = IB_DFW_EFI_ARM64,
	};
	const struct ib_boot_arch *a = arch >= 0 && arch <= 0xffff ?
				       ib_boot_arch_find((uint16_t)arch) : NULL;

	return a ? (int)by_cpu[a->cpu] : -1;
}

bool ib_doctor_file_suits(enum ib_doctor_file_kind k, enum ib_doctor_firmware fw,
			  const char **why)
{
	static const enum ib_doctor_file_kind want[] = {
		[IB_DFW_EFI_X64] = IB_DF_PE_X64, [IB_DFW_EFI_IA32] = IB_DF_PE_IA32,
		[IB_DFW_EFI_ARM64] = IB_DF_PE_ARM64,
	};

	switch (k) {
	case IB_DF_EMPTY:
		*why = "the file is empty";
		return false;
	case IB_DF_HTML:
		*why = "the file is an HTML page, not a boot loader (a failed download saved "
		       "as the file)";
		return false;
	case IB_DF_PE_TRUNCATED:
		*why = "the file is a truncated PE image (its sections run past its end)";
		return false;
	default:
		break;
	}
	if (fw == IB_DFW_ANY)
		return true;
	if (fw == IB_DFW_BIOS) {
		*why = "BIOS PXE loads a PXE NBP (e.g. undionly.kpxe), but the file is a "
		       "UEFI PE image";
		return k == IB_DF_OTHER;
	}
	*why = k == IB_DF_OTHER ? "UEFI firmware loads only PE images, and the file is none" :
	       "the file is a PE image for another CPU";
	return k == want[fw];
}
