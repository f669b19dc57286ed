/*
 * DHCPv6 as a machine's UEFI firmware and then its iPXE say it: SOLICIT,
 * ADVERTISE, REQUEST, REPLY (RFC 8415 18), with client arch type 61 and
 * the bootfile URL 59 asked for (RFC 5970), relayed (RFC 8415 19): each
 * message goes out in a RELAY-FORW from our relay socket with the
 * configured link-address, the machine's EUI-64 link-local address as
 * peer-address and its MAC in option 79 (RFC 6939); the server answers
 * with RELAY-REPL to our socket.  Messages are built and parsed by
 * ironboot's codec (src/dhcp6).  Retransmits: RFC 8415 15's SOL_TIMEOUT
 * and REQ_TIMEOUT of 1 s, doubled on each try, 4 tries.
 */
#include "storm/storm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cursor.h"
#include "dhcp6/dhcp6_codec.h"

#define XID_IDX_MASK (IB_STORM_MAX_MACHINES - 1)	/* xid bits naming the machine */
#define ENTERPRISE_INTEL 343		/* the PXE vendor class's enterprise */

static const uint16_t oro[] = { IB_OPT6_BOOTFILE_URL, IB_OPT6_BOOTFILE_PARAM,
	IB_OPT6_DNS_SERVERS, IB_OPT6_DOMAIN_LIST };

/* DUID-LL (RFC 8415 11.4) of m: type 3, hardware type 1, the MAC. */
static void duid_ll(const struct ib_storm_machine *m, uint8_t out[10])
{
	out[0] = 0;
	out[1] = IB_DUID_LL;
	out[2] = 0;
	out[3] = 1;
	memcpy(out + 4, m->mac, 6);
}

/* The relay level around each message (RFC 8415 19.1.1). */
static void relay_level(const struct ib_storm *st, const struct ib_storm_machine *m,
			struct ib_dhcp6_relay *rl)
{
	static const uint8_t ll_prefix[8] = { 0xfe, 0x80 };

	memset(rl, 0, sizeof(*rl));
	rl->msg_type = IB_DHCP6_RELAY_FORW;
	memcpy(rl->link_address, st->o.link6, 16);
	/* the EUI-64 link-local address the machine would send from */
	memcpy(rl->peer_address, ll_prefix, 8);
	rl->peer_address[8] = m->mac[0] ^ 0x02;
	rl->peer_address[9] = m->mac[1];
	rl->peer_address[10] = m->mac[2];
	rl->peer_address[11] = 0xff;
	rl->peer_address[12] = 0xfe;
	memcpy(rl->peer_address + 13, m->mac + 3, 3);
	rl->lladdr_type = 1;
	rl->lladdr = (struct ib_dhcp6_blob){ m->mac, 6 };
}

/* Builds m's SOLICIT or REQUEST in its relay level into buf. */
static int build(struct ib_storm *st, struct ib_storm_machine *m, uint8_t *buf,
		 size_t cap, size_t *ret_len)
{
	bool ipxe = m->stage == IB_STORM_DHCP_IPXE;
	uint8_t duid[10], inner[1024];
	char vc[40];
	struct ib_dhcp6_blob vcb, uc = { (const uint8_t *)"iPXE", 4 };
	struct ib_dhcp6_ia_na ia = { .iaid = m->idx + 1 };
	struct ib_dhcp6_out o = { 0 };
	struct ib_dhcp6_relay rl;
	size_t ilen;
	uint64_t cs = (st->now - m->t_sent) / 10000u;
	int r;

	duid_ll(m, duid);
	snprintf(vc, sizeof(vc), "PXEClient:Arch:%05u:UNDI:%s", st->o.arch,
		 ipxe ? "002001" : "003016");
	vcb = (struct ib_dhcp6_blob){ (const uint8_t *)vc, strlen(vc) };
	o.msg_type = m->phase ? IB_DHCP6_REQUEST : IB_DHCP6_SOLICIT;
	o.xid = m->xid;
	o.client_id = (struct ib_dhcp6_blob){ duid, sizeof(duid) };
	if (m->phase) {
		o.server_id = (struct ib_dhcp6_blob){ m->server_duid, m->server_duid_len };
		memcpy(ia.addrs[0].addr, m->addr, 16);
		ia.n_addrs = 1;
	}
	o.has_elapsed = true;
	o.elapsed = (uint16_t)(cs > 0xffff ? 0xffff : cs);	/* RFC 8415 21.9 */
	o.has_oro = true;
	o.oro = oro;
	o.n_oro = sizeof(oro) / sizeof(oro[0]);
	o.ia_na = &ia;
	o.n_ia_na = 1;
	o.has_vendor_class = true;
	o.vendor_class_enterprise = ENTERPRISE_INTEL;
	o.vendor_class = &vcb;
	o.n_vendor_class = 1;
	if (ipxe) {
		o.user_class = &uc;
		o.n_user_class = 1;
	}
	o.arch = &st->o.arch;
	o.n_arch = 1;
	o.has_nii = true;
	o.nii = (struct ib_dhcp6_nii){ 1, 3, ipxe ? 0x10 : 0x16 };
	r = ib_dhcp6_build(&o, inner, sizeof(inner), &ilen);
	if (r < 0)
		return r;
	relay_level(st, m, &rl);
	return ib_dhcp6_build_relay(&(struct ib_dhcp6_wrap){ IB_DHCP6_RELAY_FORW, &rl, 1,
							     { inner, ilen } },
				    buf, cap, ret_len);
}

void ib_storm_dhcp6_send(struct ib_storm *st, struct ib_storm_machine *m)
{
	uint8_t buf[1500];
	size_t len;

	m->tries++;
	if (build(st, m, buf, sizeof(buf), &len) < 0 || ib_storm_queue(st, buf, len) < 0) {
		ib_storm_stage_fail(st, m, "build");
		return;
	}
	(void)ib_storm_timer(st, m, (1000000ull << (m->tries - 1)));
}

/* The address of the reply's first IA_NA, or a failure reason. */
static const char *take_address(struct ib_storm_machine *m, const struct ib_dhcp6_msg *a)
{
	if (a->status.present && a->status.code != IB_DHCP6_SUCCESS)
		return "status";
	if (a->n_ia_na < 1 || a->ia_na[0].iaid != m->idx + 1)
		return "no-ia";
	if (a->ia_na[0].status.present && a->ia_na[0].status.code != IB_DHCP6_SUCCESS)
		return a->ia_na[0].status.code == IB_DHCP6_NO_ADDRS_AVAIL ? "no-addrs-avail" : "ia-status";
	if (a->ia_na[0].n_addrs < 1 || a->ia_na[0].addrs[0].valid == 0)
		return "no-address";
	memcpy(m->addr, a->ia_na[0].addrs[0].addr, 16);
	return NULL;
}

static void on_advertise(struct ib_storm *st, struct ib_storm_machine *m,
			 const struct ib_dhcp6_msg *a)
{
	const char *why;

	if (m->phase != 0)
		return;
	st->s.st[m->stage].exchanges++;
	why = take_address(m, a);
	if (!why && (!a->server_id.p || a->server_id.len > sizeof(m->server_duid)))
		why = "no-server-id";
	if (why) {
		ib_storm_stage_fail(st, m, why);
		return;
	}
	memcpy(m->server_duid, a->server_id.p, a->server_id.len);
	m->server_duid_len = (uint8_t)a->server_id.len;
	m->phase = 1;
	m->tries = 0;
	m->t_sent = st->now;
	ib_storm_dhcp6_send(st, m);
}

static void on_reply(struct ib_storm *st, struct ib_storm_machine *m,
		     const struct ib_dhcp6_msg *a)
{
	uint8_t offered[16];
	const char *why;
	char *url;

	if (m->phase != 1)
		return;
	st->s.st[m->stage].exchanges++;
	memcpy(offered, m->addr, 16);
	why = take_address(m, a);
	if (!why && memcmp(offered, m->addr, 16) != 0)
		why = "reply-other-address";
	if (!why)
		ib_storm_note_ack(st, m);
	if (!why && m->stage != st->o.until && !a->bootfile_url.p)
		why = "no-bootfile";
	if (why) {
		ib_storm_stage_fail(st, m, why);
		return;
	}
	if (m->stage != st->o.until) {
		url = strndup((const char *)a->bootfile_url.p, a->bootfile_url.len);
		if (!url) {
			ib_storm_stage_fail(st, m, "no-memory");
			return;
		}
		free(m->bootfile);
		m->bootfile = url;
	}
	ib_storm_stage_ok(st, m);
}

void ib_storm_dhcp6_input(struct ib_storm *st, const uint8_t *p, size_t len)
{
	struct ib_dhcp6_msg *a = st->scratch;	/* large: not on the stack */
	struct ib_storm_machine *m;
	uint8_t duid[10];

	if (ib_dhcp6_parse(p, len, a) < 0 || a->n_relays != 1 ||
	    a->relays[0].msg_type != IB_DHCP6_RELAY_REPL ||
	    (a->xid & XID_IDX_MASK) >= st->o.machines)
		goto bad;
	m = &st->m[a->xid & XID_IDX_MASK];
	duid_ll(m, duid);
	if (m->xid != a->xid || a->client_id.len != sizeof(duid) ||
	    memcmp(a->client_id.p, duid, sizeof(duid)) != 0 ||
	    (m->stage != IB_STORM_DHCP && m->stage != IB_STORM_DHCP_IPXE))
		goto bad;
	if (a->msg_type == IB_DHCP6_ADVERTISE) {
		on_advertise(st, m, a);
		return;
	}
	if (a->msg_type == IB_DHCP6_REPLY) {
		on_reply(st, m, a);
		return;
	}
bad:
	st->s.bad_replies++;
}
