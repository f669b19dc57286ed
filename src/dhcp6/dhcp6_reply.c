/*
 * Lays out a DHCPv6 decision as ADVERTISE or REPLY (RFC 8415 18.3.9,
 * 18.3.10) and wraps it back through the relay chain (RFC 8415 19.3).
 */
#include <errno.h>
#include <string.h>

#include "common/util.h"
#include "dhcp6/dhcp6_policy.h"

#define ENTERPRISE_UEFI 343		/* IANA: the UEFI Forum (HTTPClient) */

/* The IA_NA options of the reply, from the decision's answers. */
static size_t lay_out_ias(const struct ib_dhcp6_decision *d, struct ib_dhcp6_ia_na *out)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_ia; i++) {
		const struct ib_dhcp6_ia_answer *a = &d->ia[i];
		struct ib_dhcp6_ia_na *ia = &out[n++];

		memset(ia, 0, sizeof(*ia));
		ia->iaid = a->iaid;
		if (a->has_status) {
			ia->status.present = true;
			ia->status.code = a->status;
			ia->status.msg.p = (const uint8_t *)a->status_msg;
			ia->status.msg.len = strlen(a->status_msg);
		}
		/* RELEASE/DECLINE replies name no addresses (RFC 8415 18.3.7) */
		if (!a->has_addr || d->action == IB_D6_RELEASE || d->action == IB_D6_DECLINE)
			continue;
		ia->t1 = a->t1;
		ia->t2 = a->t2;
		memcpy(ia->addrs[0].addr, a->addr, 16);
		ia->addrs[0].preferred = a->preferred;
		ia->addrs[0].valid = a->valid;
		ia->n_addrs = 1;
	}
	return n;
}

int ib_dhcp6_reply_build(const struct ib_dhcp6_input *in, const struct ib_dhcp6_decision *d,
			 uint8_t *buf, size_t cap, size_t *ret_len)
{
	static const uint8_t http_client[] = "HTTPClient";
	const struct ib_dhcp6_msg *m = in->msg;
	const struct ib_subnet6 *sn = d->subnet;
	struct ib_dhcp6_ia_na ias[IB_DHCP6_MAX_IA];
	struct ib_dhcp6_blob vc = { http_client, sizeof(http_client) - 1 };
	struct ib_dhcp6_blob params[IB_BOOTFILE_PARAM_MAX];
	struct ib_dhcp6_out o = {
		.msg_type = d->reply_type,
		.xid = m->xid,
		.server_id = in->server_duid,
		.client_id = m->client_id,
		.rapid_commit = d->rapid_commit,
	};
	uint8_t inner[4096];
	size_t len;
	int r;

	if (d->has_status) {
		o.status.present = true;
		o.status.code = d->status;
		o.status.msg.p = (const uint8_t *)d->status_msg;
		o.status.msg.len = strlen(d->status_msg);
	}
	o.n_ia_na = lay_out_ias(d, ias);
	o.ia_na = ias;
	if (d->send_config && sn) {
		o.dns = (const uint8_t (*)[16])sn->dns;
		o.n_dns = sn->n_dns;
		o.domains = (const char *const *)sn->domain_search;
		o.n_domains = sn->n_domain_search;
		o.ntp = (const uint8_t (*)[16])sn->ntp;
		o.n_ntp = sn->n_ntp;
	}
	if (d->boot.client != IB_BOOT6_NONE) {
		o.bootfile_url.p = (const uint8_t *)d->boot.url;
		o.bootfile_url.len = strlen(d->boot.url);
		/* the config holds at most IB_BOOTFILE_PARAM_MAX */
		o.n_bootfile_param = IB_MIN(d->boot.n_params, (size_t)IB_BOOTFILE_PARAM_MAX);
		for (size_t i = 0; i < o.n_bootfile_param; i++) {
			params[i].p = (const uint8_t *)d->boot.params[i];
			params[i].len = strlen(d->boot.params[i]);
		}
		o.bootfile_param = params;
	}
	/* UEFI 2.5+ 24.7: an HTTP boot offer carries vendor class "HTTPClient" */
	if (d->boot.client == IB_BOOT6_HTTP) {
		o.has_vendor_class = true;
		o.vendor_class_enterprise = ENTERPRISE_UEFI;
		o.vendor_class = &vc;
		o.n_vendor_class = 1;
	}
	if (!m->n_relays)
		return ib_dhcp6_build(&o, buf, cap, ret_len);
	r = ib_dhcp6_build(&o, inner, sizeof(inner), &len);
	if (r < 0)
		return r;
	return ib_dhcp6_build_relay(&(struct ib_dhcp6_wrap){
			.msg_type = IB_DHCP6_RELAY_REPL, .chain = m->relays,
			.n_relays = m->n_relays, .inner = { inner, len } },
		buf, cap, ret_len);
}
