/*
 * The DISCOVER a firmware (and then iPXE) sends, built and parsed by the
 * codec: what `ironboot explain` and `ironboot doctor` run through the
 * daemon's own decisions.  See dhcp4_codec.h.
 */
#include <stdio.h>
#include <string.h>

#include "boot/boot_arch.h"
#include "dhcp4/dhcp4_codec.h"

int ib_dhcp4_sample_discover(const struct ib_dhcp4_sample *s, struct ib_dhcp4_msg *ret)
{
	struct ib_dhcp4_out o;
	uint8_t buf[IB_DHCP4_MAX_LEN];
	char vc[64];
	size_t len;
	int r;

	ib_dhcp4_out_init(&o);
	o.op = IB_DHCP4_BOOTREQUEST;
	o.htype = 1;
	o.hlen = 6;
	o.giaddr = s->giaddr;
	memcpy(o.chaddr, s->mac, 6);
	ib_dhcp4_out_add_u8(&o, IB_OPT_MSG_TYPE, IB_DHCP4_DISCOVER);
	if (s->arch >= 0) {
		const struct ib_boot_arch *a = ib_boot_arch_find((uint16_t)s->arch);

		/* PXE 2.1 / UEFI 2.5: the vendor class names the client's kind,
		 * HTTPClient for the firmware table's UEFI HTTP boot rows */
		ib_dhcp4_out_add_u16(&o, IB_OPT_CLIENT_ARCH, (uint16_t)s->arch);
		snprintf(vc, sizeof(vc), "%s:Arch:%05d:UNDI:003016",
			 a && a->http ? "HTTPClient" : "PXEClient", s->arch);
		ib_dhcp4_out_add_str(&o, IB_OPT_VENDOR_CLASS, s->vendor_class ? s->vendor_class : vc);
	} else if (s->vendor_class) {
		ib_dhcp4_out_add_str(&o, IB_OPT_VENDOR_CLASS, s->vendor_class);
	}
	if (s->ipxe)
		ib_dhcp4_out_add_str(&o, IB_OPT_USER_CLASS, "iPXE");
	r = ib_dhcp4_build(&o, 1500, buf, sizeof(buf), &len);
	return r < 0 ? r : ib_dhcp4_parse(buf, len, ret);
}
