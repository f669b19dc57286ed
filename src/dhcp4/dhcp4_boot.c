/*
 * The boot decision for DHCPv4: which file or URL a client gets, from its
 * architecture (option 93), vendor class (60) and user class (77).
 *
 * Firmware PXE gets a TFTP file chosen by architecture; iPXE (user class
 * "iPXE", or iPXE's own option 175) gets the HTTP script URL instead, which
 * breaks the chainload loop; UEFI HTTP boot gets a URL.  A reservation may
 * override the file (firmware) or the script URL (iPXE) for one machine.
 */
#include "dhcp4/dhcp4_policy.h"

#include <string.h>

#include "boot/boot_arch.h"
#include "common/util.h"

/* No option 93 (RFC 4578 2.1); the architectures are src/boot/boot_arch.c's. */
#define ARCH_NONE 0xffff

static bool vendor_class_is(const struct ib_dhcp4_msg *m, const char *prefix)
{
	const uint8_t *p;
	size_t len, plen = strlen(prefix);

	return ib_dhcp4_opt(m, IB_OPT_VENDOR_CLASS, &p, &len) && len >= plen &&
	       memcmp(p, prefix, plen) == 0;
}

static uint16_t client_arch(const struct ib_dhcp4_msg *m)
{
	uint16_t arch;
	const uint8_t *p;
	size_t len;

	/* RFC 4578 2.1: a list of u16; the first is the preferred one. */
	if (ib_dhcp4_opt(m, IB_OPT_CLIENT_ARCH, &p, &len) && len >= 2) {
		arch = (uint16_t)(p[0] << 8 | p[1]);
		return arch;
	}
	return ARCH_NONE;
}

static enum ib_boot_client classify(const struct ib_dhcp4_msg *m, uint16_t arch)
{
	const uint8_t *p;
	size_t len;

	if (ib_dhcp4_user_class_has(m, "iPXE") ||
	    ib_dhcp4_opt(m, IB_OPT_IPXE, &p, &len))
		return IB_BOOT_IPXE;
	if (vendor_class_is(m, "HTTPClient"))
		return IB_BOOT_HTTP;
	if (vendor_class_is(m, "PXEClient") || arch != ARCH_NONE)
		return IB_BOOT_PXE;
	return IB_BOOT_NONE;
}

static void decide_firmware(const struct ib_config *cfg, uint16_t arch,
			    const struct ib_reservation4 *resv,
			    struct ib_boot_answer *a)
{
	const struct ib_boot_arch *r;

	if (resv && resv->boot.boot_file && a->client == IB_BOOT_PXE) {
		a->file = resv->boot.boot_file;
		a->why = "reservation boot_file";
		return;
	}
	/* the one firmware table (src/boot/boot_arch.c); HTTP clients get
	 * URLs only, PXE clients TFTP files only */
	r = ib_boot_arch_find(arch);
	if (r && (a->client == IB_BOOT_HTTP) == r->http) {
		a->file = ib_boot_arch_file(&cfg->boot, r, false);
		a->why = a->file ? r->v4_why : "no boot file configured for this arch";
		return;
	}
	a->why = arch == ARCH_NONE ? "no client architecture (option 93)" :
		 "unsupported client architecture";
}

void ib_boot_decide(const struct ib_config *cfg, const struct ib_dhcp4_msg *m,
		    const struct ib_reservation4 *resv, struct ib_boot_answer *ret)
{
	struct ib_boot_answer a = { .arch = client_arch(m) };

	a.client = classify(m, a.arch);
	switch (a.client) {
	case IB_BOOT_NONE:
		a.why = "not a network-boot client";
		break;
	case IB_BOOT_IPXE:
		if (resv && resv->boot.script_url) {
			a.file = resv->boot.script_url;
			a.why = "iPXE: reservation script_url";
		} else {
			a.file = cfg->boot.ipxe_script_url;
			a.why = a.file ? "iPXE: boot.ipxe_script" : "iPXE: no boot.ipxe_script configured";
		}
		break;
	case IB_BOOT_HTTP:
	case IB_BOOT_PXE:
		decide_firmware(cfg, a.arch, resv, &a);
		break;
	}
	*ret = a;
}

const char *ib_boot_client_str(enum ib_boot_client c)
{
	static const char *const names[] = {
		[IB_BOOT_NONE] = "none", [IB_BOOT_PXE] = "pxe",
		[IB_BOOT_HTTP] = "uefi-http", [IB_BOOT_IPXE] = "ipxe",
	};

	return c < IB_ARRAY_SIZE(names) ? names[c] : "?";
}
