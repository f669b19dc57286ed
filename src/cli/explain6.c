/*
 * The DHCPv6 stages of `ironboot explain`: the SOLICIT that UEFI firmware
 * and then iPXE would send (DUID-LL of the MAC, option 61 when --arch is
 * given, user class "iPXE" for the second), decided by ib_dhcp6_decide()
 * against the bindings in the store, as the daemon would on the first
 * served link.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/explain.h"
#include "common/util.h"
#include "dhcp6/dhcp6_codec.h"
#include "dhcp6/dhcp6_policy.h"

struct view6 {
	struct ib_store *store;		/* not owned */
	int64_t now;			/* unix seconds */
};

static int v_find(void *ctx, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		  struct ib_lease6 *ret)
{
	struct view6 *v = ctx;

	return ib_store_lease6_find_client(v->store, duid->p, (uint8_t)duid->len, iaid, ret);
}

static bool v_is_free(void *ctx, const uint8_t a[16], const struct ib_dhcp6_blob *duid,
		      uint32_t iaid)
{
	struct view6 *v = ctx;
	struct ib_lease6 l;

	return ib_store_lease6_get(v->store, a, &l) < 0 ||
	       ib_dhcp6_lease_usable(&l, duid, iaid, v->now);
}

/* The first pool address, or the next ones while taken (a few hundred). */
static int v_pick(void *ctx, const struct ib_subnet6 *sn, const struct ib_dhcp6_blob *duid,
		  uint32_t iaid, uint8_t ret[16])
{
	uint8_t a[16];

	for (size_t p = 0; p < sn->n_pools; p++) {
		memcpy(a, sn->pools[p].start, 16);
		for (int k = 0; k < 512 && memcmp(a, sn->pools[p].end, 16) <= 0; k++) {
			if (v_is_free(ctx, a, duid, iaid)) {
				memcpy(ret, a, 16);
				return 0;
			}
			for (int i = 15; i >= 0 && ++a[i] == 0; i--)
				;
		}
	}
	return -ENOSPC;
}

/* Builds and parses the SOLICIT of one stage into *m (buf holds it). */
static int solicit(const uint8_t mac[6], int arch, bool ipxe, uint8_t *buf, size_t cap,
		   struct ib_dhcp6_msg *m)
{
	static const uint16_t oro[] = { IB_OPT6_DNS_SERVERS, IB_OPT6_BOOTFILE_URL };
	static const uint8_t ipxe_uc[] = "iPXE";
	const struct ib_dhcp6_blob uc = { ipxe_uc, 4 };
	uint8_t duid[10] = { 0, 3, 0, 1 };	/* DUID-LL, Ethernet */
	uint16_t a = (uint16_t)arch;
	struct ib_dhcp6_ia_na ia = { .iaid = ipxe ? 2 : 1 };
	struct ib_dhcp6_out o = { .msg_type = IB_DHCP6_SOLICIT, .xid = 1,
				  .client_id = { duid, sizeof(duid) }, .has_oro = true,
				  .oro = oro, .n_oro = 2, .ia_na = &ia, .n_ia_na = 1,
				  .arch = arch >= 0 ? &a : NULL, .n_arch = arch >= 0,
				  .user_class = ipxe ? &uc : NULL, .n_user_class = ipxe };
	size_t len;
	int r;

	memcpy(duid + 4, mac, 6);
	r = ib_dhcp6_build(&o, buf, cap, &len);
	return r < 0 ? r : ib_dhcp6_parse(buf, len, m);
}

/* Our address for tftp:// URLs: next_server6, else ::1 in the first subnet. */
static void server6(const struct ib_config *cfg, uint8_t out[16])
{
	memset(out, 0, 16);
	if (cfg->boot.has_next_server6) {
		memcpy(out, cfg->boot.next_server6, 16);
	} else if (cfg->dhcp6.n_subnets) {
		memcpy(out, cfg->dhcp6.subnets[0].prefix, 16);
		out[15] |= 1;
	}
}

json_t *ib_cli_explain6(const struct ib_config *cfg, struct ib_store *store,
			const uint8_t mac[6], int arch, bool print)
{
	static const char *const names[2] = { "firmware6", "ipxe6" };
	struct view6 v = { store, ib_now_sec() };
	const struct ib_lease6_view view = { v_find, v_is_free, v_pick, &v };
	const struct ib_subnet6 *sn = cfg->dhcp6.n_subnets ? &cfg->dhcp6.subnets[0] : NULL;
	json_t *stages = json_array();
	static struct ib_dhcp6_msg m;
	uint8_t buf[512];

	for (int i = 0; stages && i < 2; i++) {
		struct ib_dhcp6_input in = { .cfg = cfg, .msg = &m, .multicast = true,
					     .ifname = sn ? sn->interface : NULL,
					     .now = v.now, .view = &view };
		char addr[INET6_ADDRSTRLEN] = "";
		json_t *params;
		struct ib_dhcp6_decision d;

		if (solicit(mac, arch, i == 1, buf, sizeof(buf), &m) < 0)
			break;
		server6(cfg, in.server_addr);
		ib_dhcp6_decide(&in, &d);
		if (d.n_ia && d.ia[0].has_addr)
			inet_ntop(AF_INET6, d.ia[0].addr, addr, sizeof(addr));
		params = json_array();
		for (size_t k = 0; k < d.boot.n_params; k++)
			json_array_append_new(params, json_string(d.boot.params[k]));
		if (print) {
			printf("%-9s DHCPv6 %-6s address %-15s boot %-9s %s\n", names[i],
			       d.action == IB_D6_DROP ? "silent" : "answer", addr[0] ? addr : "-",
			       ib_boot6_client_str(d.boot.client), d.boot.url[0] ? d.boot.url : "-");
			printf("          why: %s%s; boot rule: %s\n", d.reason,
			       d.resv ? " (reservation)" : "", d.boot.why[0] ? d.boot.why : "-");
			for (size_t k = 0; k < d.boot.n_params; k++)
				printf("%s%s%s", k ? " " : "          bootfile-param: ",
				       d.boot.params[k], k + 1 == d.boot.n_params ? "\n" : "");
		}
		json_array_append_new(stages, json_pack("{s:s, s:b, s:s, s:b, s:s, s:s, s:o, s:s, s:s}",
			"stage", names[i], "answered", d.action != IB_D6_DROP, "address", addr,
			"reservation", d.resv != NULL, "boot", ib_boot6_client_str(d.boot.client),
			"file", d.boot.url, "bootfile_param", params, "reason", d.reason,
			"boot_rule", d.boot.why));
	}
	return stages;
}
