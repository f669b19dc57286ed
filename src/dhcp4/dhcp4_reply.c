/* Laying out DHCPv4 replies: see dhcp4_reply.h. */
#include "dhcp4/dhcp4_reply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

void ib_dhcp4_reply_start(const struct ib_dhcp4_msg *m, uint8_t type,
			  uint32_t server_addr, struct ib_dhcp4_out *o)
{
	ib_dhcp4_out_init(o);
	o->op = IB_DHCP4_BOOTREPLY;
	o->htype = m->htype;
	o->hlen = m->hlen;
	o->xid = m->xid;
	/* RFC 2131 4.3.1 table 3: flags from the client, giaddr from the request. */
	o->flags = m->flags;
	o->giaddr = m->giaddr;
	memcpy(o->chaddr, m->chaddr, sizeof(o->chaddr));
	ib_dhcp4_out_add_u8(o, IB_OPT_MSG_TYPE, type);
	ib_dhcp4_out_add_u32(o, IB_OPT_SERVER_ID, server_addr);
}

int ib_dhcp4_reply_times(struct ib_dhcp4_out *o, const struct ib_subnet4 *sn,
			 uint32_t lease_time)
{
	uint32_t lease = sn->lease_time, t1 = sn->t1, t2 = sn->t2;
	int r = 0;

	/* RFC 2131 4.4.5: T1 0.5 and T2 0.875 of a lease cut short, never
	 * more than the subnet's own */
	if (lease_time && lease_time < lease) {
		lease = lease_time;
		t1 = IB_MIN(t1, lease / 2);
		t2 = IB_MIN(t2, (uint32_t)((uint64_t)lease * 7 / 8));
	}
	r |= ib_dhcp4_out_add_u32(o, IB_OPT_LEASE_TIME, lease);
	r |= ib_dhcp4_out_add_u32(o, IB_OPT_T1, t1);
	r |= ib_dhcp4_out_add_u32(o, IB_OPT_T2, t2);
	return r ? -ENOBUFS : 0;
}

/* Whether the client asked for code; without a PRL, send what we have. */
static bool requested(const struct ib_dhcp4_msg *m, uint8_t code)
{
	const uint8_t *p;
	size_t len;

	if (!ib_dhcp4_opt(m, IB_OPT_PRL, &p, &len))
		return true;
	return memchr(p, code, len) != NULL;
}

/* RFC 3442: routes, and the default route too since 121 overrides 3. */
static int add_routes(struct ib_dhcp4_out *o, const struct ib_subnet4 *sn)
{
	uint32_t dest[65], gw[65];
	uint8_t plen[65], buf[65 * 9];
	size_t n = 0, len;

	for (size_t i = 0; i < sn->n_routes && n < 64; i++, n++) {
		dest[n] = sn->routes[i].dest;
		plen[n] = sn->routes[i].prefix_len;
		gw[n] = sn->routes[i].gateway;
	}
	if (sn->n_routers) {
		dest[n] = 0;
		plen[n] = 0;
		gw[n++] = sn->routers[0];
	}
	if (ib_dhcp4_encode_routes(dest, plen, gw, n, buf, sizeof(buf), &len) < 0)
		return -ENOBUFS;
	return ib_dhcp4_out_add(o, IB_OPT_CLASSLESS_ROUTES, buf, len);
}

static int add_search(struct ib_dhcp4_out *o, const struct ib_subnet4 *sn)
{
	uint8_t buf[1024];
	size_t len;

	if (ib_dhcp4_encode_search((const char *const *)sn->domain_search,
				   sn->n_domain_search, buf, sizeof(buf), &len) < 0)
		return -ENOBUFS;
	return ib_dhcp4_out_add(o, IB_OPT_DOMAIN_SEARCH, buf, len);
}

int ib_dhcp4_reply_subnet(struct ib_dhcp4_out *o, const struct ib_subnet4 *sn,
			  const struct ib_reservation4 *resv,
			  const struct ib_dhcp4_msg *m)
{
	int r = 0;

	/* The mask and routers are needed by every client: always sent. */
	r |= ib_dhcp4_out_add_u32(o, IB_OPT_SUBNET_MASK, sn->mask);
	if (sn->n_routers)
		r |= ib_dhcp4_out_add_ips(o, IB_OPT_ROUTER, sn->routers, sn->n_routers);
	if (sn->n_dns && requested(m, IB_OPT_DNS))
		r |= ib_dhcp4_out_add_ips(o, IB_OPT_DNS, sn->dns, sn->n_dns);
	if (resv && resv->hostname && requested(m, IB_OPT_HOSTNAME))
		r |= ib_dhcp4_out_add_str(o, IB_OPT_HOSTNAME, resv->hostname);
	if (sn->domain_name && requested(m, IB_OPT_DOMAIN_NAME))
		r |= ib_dhcp4_out_add_str(o, IB_OPT_DOMAIN_NAME, sn->domain_name);
	if (sn->n_domain_search && requested(m, IB_OPT_DOMAIN_SEARCH))
		r |= add_search(o, sn);
	if (sn->mtu && requested(m, IB_OPT_MTU))
		r |= ib_dhcp4_out_add_u16(o, IB_OPT_MTU, sn->mtu);
	if (requested(m, IB_OPT_BROADCAST))
		r |= ib_dhcp4_out_add_u32(o, IB_OPT_BROADCAST, sn->broadcast);
	if (sn->n_ntp && requested(m, IB_OPT_NTP))
		r |= ib_dhcp4_out_add_ips(o, IB_OPT_NTP, sn->ntp, sn->n_ntp);
	if (sn->n_routes && requested(m, IB_OPT_CLASSLESS_ROUTES))
		r |= add_routes(o, sn);
	return r ? -ENOBUFS : 0;
}

/*
 * PXE vendor options (option 43, PXE spec 2.1 table 2-1): sub-option 6
 * PXE_DISCOVERY_CONTROL = 8 ("download the boot file named in the offer, no
 * menu, no boot server discovery"), so firmware accepts the offer as is.
 */
static int add_pxe_vendor(struct ib_dhcp4_out *o)
{
	static const uint8_t pxe[] = { 6, 1, 8, 255 };

	return ib_dhcp4_out_add(o, IB_OPT_VENDOR, pxe, sizeof(pxe));
}

/*
 * iPXE's encapsulated options (175): 176 "no-pxedhcp" = 1 tells iPXE not to
 * wait for a proxyDHCP offer, which saves about 3 s on every iPXE DHCP.
 */
static int add_ipxe_opts(struct ib_dhcp4_out *o)
{
	static const uint8_t ipxe[] = { 176, 1, 1 };

	return ib_dhcp4_out_add(o, IB_OPT_IPXE, ipxe, sizeof(ipxe));
}

int ib_dhcp4_reply_boot(struct ib_dhcp4_out *o, const struct ib_config *cfg,
			const struct ib_boot_answer *a, uint32_t server_addr,
			bool proxy)
{
	uint32_t next = cfg->boot.next_server ? cfg->boot.next_server : server_addr;
	char ip[IB_IP4_STRLEN];
	int r = 0;

	if (a->client == IB_BOOT_NONE || !a->file)
		return 0;
	/* RFC 2132 9.5: option 67 names the boot file; the 128-byte file field
	 * carries a copy only when the whole name fits: a cut URL there would
	 * be fetched by firmware that reads the header, and fail. */
	if (strlen(a->file) < sizeof(o->file))
		memcpy(o->file, a->file, strlen(a->file) + 1);
	switch (a->client) {
	case IB_BOOT_PXE:
		o->siaddr = next;
		ib_ip4_format(next, ip);
		r |= ib_dhcp4_out_add_str(o, IB_OPT_TFTP_SERVER, ip);
		r |= ib_dhcp4_out_add_str(o, IB_OPT_BOOTFILE, a->file);
		/* PXE spec 2.1: proxy offers and PXE answers carry "PXEClient". */
		r |= ib_dhcp4_out_add_str(o, IB_OPT_VENDOR_CLASS, "PXEClient");
		r |= add_pxe_vendor(o);
		break;
	case IB_BOOT_HTTP:
		/* UEFI 2.5+ HTTP boot: the offer must echo "HTTPClient". */
		r |= ib_dhcp4_out_add_str(o, IB_OPT_VENDOR_CLASS, "HTTPClient");
		r |= ib_dhcp4_out_add_str(o, IB_OPT_BOOTFILE, a->file);
		break;
	case IB_BOOT_IPXE:
		o->siaddr = next;
		r |= ib_dhcp4_out_add_str(o, IB_OPT_BOOTFILE, a->file);
		r |= add_ipxe_opts(o);
		if (proxy)
			r |= ib_dhcp4_out_add_str(o, IB_OPT_VENDOR_CLASS, "PXEClient");
		break;
	case IB_BOOT_NONE:
		break;
	}
	return r ? -ENOBUFS : 0;
}

int ib_dhcp4_reply_relay(struct ib_dhcp4_out *o, const struct ib_dhcp4_msg *m)
{
	const uint8_t *p;
	size_t len;

	if (!m->giaddr || !ib_dhcp4_opt(m, IB_OPT_RELAY_AGENT, &p, &len))
		return 0;
	return ib_dhcp4_out_add(o, IB_OPT_RELAY_AGENT, p, len);
}

size_t ib_dhcp4_reply_max_len(const struct ib_dhcp4_msg *m)
{
	uint16_t v;

	/* RFC 2132 9.10: the minimum legal value is 576. */
	if (ib_dhcp4_opt_u16(m, IB_OPT_MAX_MSG_SIZE, &v) == 0 &&
	    v >= IB_DHCP4_DEFAULT_MAX_MSG)
		return v;
	return IB_DHCP4_DEFAULT_MAX_MSG;
}
