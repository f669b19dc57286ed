/*
 * DHCPv4 as a machine's PXE firmware and then its iPXE say it (RFC 2131
 * DORA, RFC 4578 PXE options), relayed (RFC 1542): every message carries
 * our giaddr, so the server answers our relay socket on port 67 by
 * unicast.  Messages are built and parsed by ironboot's own codec
 * (src/dhcp4/dhcp4_codec.c).
 *
 * Retransmits as the firmware does them: the PXE specification's 4, 8,
 * 16 and 32 s for the firmware; iPXE's 1, 2, 4 and 8 s.
 */
#include "storm/storm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp4/dhcp4_codec.h"

#define XID_IDX_MASK (IB_STORM_MAX_MACHINES - 1)	/* xid bits naming the machine */

/* PXE 2.1 and EDK2's UEFI PXE: the parameter request list. */
static const uint8_t prl_pxe[] = { 1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23,
	28, 40, 41, 42, 43, 50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131,
	132, 133, 134, 135 };
/* iPXE's (src/net/udp/dhcp.c dhcp_request_options_data). */
static const uint8_t prl_ipxe[] = { 1, 3, 6, 7, 12, 15, 17, 26, 43, 60, 66, 67,
	119, 128, 129, 130, 131, 132, 133, 134, 135, 175, 203 };
/* iPXE's option 175 feature flags: HTTP, TFTP, DNS, bzImage, EFI. */
static const uint8_t ipxe_features[] = { 0x13, 1, 1, 0x15, 1, 1, 0x17, 1, 1,
	0x18, 1, 1, 0x24, 1, 1 };

/* Seconds before send number `tries` (1-based) times out. */
static uint64_t timeout_us(const struct ib_storm_machine *m)
{
	uint64_t base = m->stage == IB_STORM_DHCP ? 4 : 1;

	return (base << (m->tries - 1)) * 1000000u;
}

/* Lays out the DISCOVER or REQUEST of m's current phase. */
static int build(struct ib_storm *st, struct ib_storm_machine *m,
		 struct ib_dhcp4_out *o)
{
	bool ipxe = m->stage == IB_STORM_DHCP_IPXE;
	char vc[40];
	uint8_t uuid[17] = { 0 }, ndi[3] = { 1, 3, ipxe ? 0x10 : 0x16 }, cid[7] = { 1 };
	int r = 0;

	ib_dhcp4_out_init(o);
	o->op = IB_DHCP4_BOOTREQUEST;
	o->htype = 1;
	o->hlen = 6;
	o->hops = 1;
	o->xid = m->xid;
	o->secs = (uint16_t)((st->now - m->t_power) / 1000000u);
	o->flags = IB_DHCP4_FLAG_BROADCAST;
	o->giaddr = ntohl(st->o.relay4.sin_addr.s_addr);
	memcpy(o->chaddr, m->mac, 6);
	memcpy(uuid + 1, "storm-uuid", 10);
	memcpy(uuid + 11, m->mac, 6);
	memcpy(cid + 1, m->mac, 6);
	/* RFC 4578 2.1: "PXEClient:Arch:xxxxx:UNDI:yyyzzz" */
	snprintf(vc, sizeof(vc), "PXEClient:Arch:%05u:UNDI:%s", st->o.arch,
		 ipxe ? "002001" : "003016");
	r = r ? r : ib_dhcp4_out_add_u8(o, IB_OPT_MSG_TYPE,
					m->phase ? IB_DHCP4_REQUEST : IB_DHCP4_DISCOVER);
	r = r ? r : ib_dhcp4_out_add_u16(o, IB_OPT_MAX_MSG_SIZE, 1472);
	if (m->phase) {
		r = r ? r : ib_dhcp4_out_add_u32(o, IB_OPT_REQUESTED_IP, ntohl(*(uint32_t *)(void *)m->addr));
		r = r ? r : ib_dhcp4_out_add_u32(o, IB_OPT_SERVER_ID, m->server_id4);
	}
	r = r ? r : ib_dhcp4_out_add(o, IB_OPT_PRL, ipxe ? prl_ipxe : prl_pxe,
				     ipxe ? sizeof(prl_ipxe) : sizeof(prl_pxe));
	r = r ? r : ib_dhcp4_out_add_u16(o, IB_OPT_CLIENT_ARCH, st->o.arch);
	r = r ? r : ib_dhcp4_out_add(o, IB_OPT_CLIENT_NDI, ndi, sizeof(ndi));
	r = r ? r : ib_dhcp4_out_add_str(o, IB_OPT_VENDOR_CLASS, vc);
	r = r ? r : ib_dhcp4_out_add(o, IB_OPT_CLIENT_UUID, uuid, sizeof(uuid));
	if (ipxe) {
		r = r ? r : ib_dhcp4_out_add(o, IB_OPT_CLIENT_ID, cid, sizeof(cid));
		r = r ? r : ib_dhcp4_out_add_str(o, IB_OPT_USER_CLASS, "iPXE");
		r = r ? r : ib_dhcp4_out_add(o, IB_OPT_IPXE, ipxe_features, sizeof(ipxe_features));
	}
	/* RFC 3046 2.1: the relay's option 82, last; RFC 5107: 82.11 names
	 * the relay as the server, so the REQUEST comes back through it and
	 * it forwards that to every server it helps */
	if (st->o.sid_override) {
		uint8_t rai[6] = { IB_RAI_SERVER_ID_OVERRIDE, 4 };

		memcpy(rai + 2, &st->o.relay4.sin_addr, 4);
		r = r ? r : ib_dhcp4_out_add(o, IB_OPT_RELAY_AGENT, rai, sizeof(rai));
	}
	return r;
}

void ib_storm_dhcp4_send(struct ib_storm *st, struct ib_storm_machine *m)
{
	struct ib_dhcp4_out o;
	uint8_t buf[1500];
	size_t len;

	m->tries++;
	if (build(st, m, &o) < 0 || ib_dhcp4_build(&o, 1472, buf, sizeof(buf), &len) < 0 ||
	    ib_storm_queue(st, buf, len) < 0) {
		ib_storm_stage_fail(st, m, "build");
		return;
	}
	(void)ib_storm_timer(st, m, timeout_us(m));
}

/* The boot file of an ACK as a URL: tftp://SERVER/FILE for the firmware. */
static int take_bootfile(struct ib_storm *st, struct ib_storm_machine *m,
			 const struct ib_dhcp4_msg *a)
{
	const uint8_t *p;
	size_t len = 0;
	char file[256], srv[INET_ADDRSTRLEN], *url;
	uint32_t next = a->siaddr;

	if (ib_dhcp4_opt(a, IB_OPT_BOOTFILE, &p, &len) && len && len < sizeof(file)) {
		memcpy(file, p, len);
		file[len] = '\0';
	} else {
		memcpy(file, a->file, sizeof(a->file));
		file[sizeof(a->file)] = '\0';
	}
	if (!file[0])
		return -ENOENT;
	if (m->stage == IB_STORM_DHCP_IPXE) {
		url = strdup(file);	/* the script's http:// URL */
	} else {
		/* RFC 2132 9.4: option 66 names the server when siaddr does not */
		if (!next && ib_dhcp4_opt_ip(a, IB_OPT_TFTP_SERVER, &next) < 0)
			next = m->server_id4;
		uint32_t n = htonl(next);
		inet_ntop(AF_INET, &n, srv, sizeof(srv));
		url = NULL;
		if (asprintf(&url, "tftp://%s/%s", srv, file[0] == '/' ? file + 1 : file) < 0)
			url = NULL;
	}
	if (!url)
		return -ENOMEM;
	free(m->bootfile);
	m->bootfile = url;
	return 0;
}

static void on_offer(struct ib_storm *st, struct ib_storm_machine *m,
		     const struct ib_dhcp4_msg *a)
{
	uint32_t sid, yi = htonl(a->yiaddr);

	if (m->phase != 0)
		return;		/* a second OFFER: the first one was taken */
	if (ib_dhcp4_opt_ip(a, IB_OPT_SERVER_ID, &sid) < 0 || !a->yiaddr) {
		ib_storm_stage_fail(st, m, "bad-offer");
		return;
	}
	st->s.st[m->stage].exchanges++;
	memcpy(m->addr, &yi, 4);
	m->server_id4 = sid;
	m->phase = 1;
	m->tries = 0;
	ib_storm_dhcp4_send(st, m);
}

static void on_ack(struct ib_storm *st, struct ib_storm_machine *m,
		   const struct ib_dhcp4_msg *a)
{
	uint32_t yi = htonl(a->yiaddr);

	if (m->phase != 1)
		return;
	st->s.st[m->stage].exchanges++;
	if (memcmp(m->addr, &yi, 4) != 0) {
		ib_storm_stage_fail(st, m, "ack-other-address");
		return;
	}
	ib_storm_note_ack(st, m);
	if (m->stage != st->o.until && take_bootfile(st, m, a) < 0) {
		ib_storm_stage_fail(st, m, "no-bootfile");
		return;
	}
	ib_storm_stage_ok(st, m);
}

void ib_storm_dhcp4_input(struct ib_storm *st, const uint8_t *p, size_t len)
{
	struct ib_dhcp4_msg *a = st->scratch;	/* large: not on the stack */
	struct ib_storm_machine *m;

	if (ib_dhcp4_parse(p, len, a) < 0 || a->op != IB_DHCP4_BOOTREPLY ||
	    (a->xid & XID_IDX_MASK) >= st->o.machines)
		goto bad;
	m = &st->m[a->xid & XID_IDX_MASK];
	if (m->xid != a->xid || memcmp(a->chaddr, m->mac, 6) != 0 ||
	    (m->stage != IB_STORM_DHCP && m->stage != IB_STORM_DHCP_IPXE))
		goto bad;
	switch (a->type) {
	case IB_DHCP4_OFFER:
		on_offer(st, m, a);
		return;
	case IB_DHCP4_ACK:
		on_ack(st, m, a);
		return;
	case IB_DHCP4_NAK:
		/* RFC 2131 3.1.5: a NAKed client starts again with a DISCOVER */
		ib_storm_dhcp_restart(st, m, "nak");
		return;
	default:
		break;
	}
bad:
	st->s.bad_replies++;
}
