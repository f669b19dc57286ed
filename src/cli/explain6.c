/*
 * The DHCPv6 stages of `ironboot explain`: the SOLICIT that UEFI firmware
 * and then iPXE would send (DUID-LL of the MAC, option 61 when --arch is
 * given, user class "iPXE" for the second), decided by ib_dhcp6_decide()
 * against the bindings in the store, as the daemon would on the first
 * served link.  And the router advertisements on the client's link, which
 * decide whether it waits for IPv6 configuration before it boots.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/explain.h"
#include "common/util.h"
#include "dhcp6/dhcp6_codec.h"
#include "dhcp6/dhcp6_policy.h"
#include "dhcp6/ra_codec.h"
#include "dhcp6/ra_server.h"

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

/* ---- router advertisements: does the client wait for IPv6? ---- */

#define WAIT_NOTE "the client waits for IPv6 configuration before it boots (iPXE: ~16 s " \
		  "at \"Configuring\")"

/* The daemon's newest "ra" journal event of one link. */
struct ra_seen {
	const char *link;		/* the link asked about */
	char kind[32];			/* "listening", "advertising", "quiet", or "" */
	char router[IB_IP6_STRLEN];	/* quiet: who advertises instead */
	int router_lifetime;		/* its router lifetime */
	int64_t ts_us;			/* when */
};

static int on_ra_event(const struct ib_event *e, void *ctx)
{
	struct ra_seen *rs = ctx;
	json_t *d = json_loads(e->detail, 0, NULL);
	const char *ifname = json_string_value(json_object_get(d, "interface"));
	const char *router = json_string_value(json_object_get(d, "router"));

	if (ifname && strcmp(ifname, rs->link) == 0) {	/* oldest first: the last wins */
		snprintf(rs->kind, sizeof(rs->kind), "%s", e->kind);
		snprintf(rs->router, sizeof(rs->router), "%s", router ? router : "");
		rs->router_lifetime = (int)json_integer_value(json_object_get(d, "router_lifetime"));
		rs->ts_us = e->ts_us;
	}
	json_decref(d);
	return 0;
}

static void utc(int64_t us, char *out, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/*
 * One link: what ironboot does there (state and a summary line), why,
 * and whether a client there waits for IPv6 (then a note says how long).
 */
static json_t *ra_link(const struct ib_config *cfg, struct ib_store *store, const char *link,
		       bool advertised, bool print)
{
	const struct ib_event_filter f = { .proto = "ra", .limit = 1000 };
	struct ra_seen rs = { .link = link };
	enum ib_ra_mode mode = cfg->dhcp6.ra.mode;
	const char *state = "sends", *why;
	char when[32] = "", line[256], note[256] = "";
	struct ib_ra ra;

	ib_ra_layout(cfg, link, &ra);
	if (mode != IB_RA_OFF && advertised && store)
		ib_store_event_foreach(store, &f, on_ra_event, &rs);
	if (rs.ts_us)
		utc(rs.ts_us, when, sizeof(when));
	if (mode == IB_RA_OFF || !advertised) {
		state = "none";
		why = mode == IB_RA_OFF ? "dhcp6.router_advertisements.enabled is false"
					: "not in dhcp6.router_advertisements.interfaces";
		snprintf(line, sizeof(line), "%s", WAIT_NOTE);
	} else if (strcmp(rs.kind, "quiet") == 0) {
		state = "quiet";
		why = "auto: another router advertises there, and its RAs configure the client";
		snprintf(line, sizeof(line), "%s advertised there (router lifetime %d s, %s)",
			 rs.router, rs.router_lifetime, when);
		snprintf(note, sizeof(note), "if that router has gone, %s, until ironboot "
			 "solicits again (%d min after the last RA it heard) and advertises",
			 WAIT_NOTE, IB_RA_PROBE_MS / 60000);
	} else {
		why = mode == IB_RA_ON ? "enabled: true" :
		      strcmp(rs.kind, "advertising") == 0 ? "auto: no other router heard there" :
		      strcmp(rs.kind, "listening") == 0 ? "auto: listening for another router first" :
		      "auto: unless another router advertises there";
		snprintf(line, sizeof(line), "M=%d O=%d, router lifetime %u, %zu prefix(es)",
			 ra.managed, ra.other, ra.router_lifetime, ra.n_prefixes);
		if (when[0])
			snprintf(line + strlen(line), sizeof(line) - strlen(line),
				 " (journal: %s since %s)", rs.kind, when);
	}
	if (print) {
		printf("%-9s RA     %-6s on %s: %s\n", "ipv6", state, link, line);
		printf("          why: %s\n", why);
		if (note[0])
			printf("          %s\n", note);
	}
	return json_pack("{s:s, s:s, s:b, s:s, s:s, s:s?, s:b, s:b, s:i, s:s?}", "link", link,
			 "state", state, "waits", strcmp(state, "sends") != 0, "why", why,
			 "detail", line, "note", note[0] ? note : NULL, "managed", ra.managed,
			 "other", ra.other,
			 "router_lifetime", ra.router_lifetime,
			 "router", rs.router[0] ? rs.router : NULL);
}

json_t *ib_cli_explain_ra(const struct ib_config *cfg, struct ib_store *store, bool relayed,
			  bool print)
{
	char boot[IB_RA_MAX_LINKS][IF_NAMESIZE], sent[IB_RA_MAX_LINKS][IF_NAMESIZE];
	size_t n_boot = ib_ra_server_links(cfg, true, boot, IB_RA_MAX_LINKS);
	size_t n_sent = ib_ra_server_links(cfg, false, sent, IB_RA_MAX_LINKS);
	json_t *links = json_array();

	if (relayed) {
		if (print)
			printf("%-9s RA     -      relayed: the client's link has its own router, "
			       "whose RAs it waits for\n", "ipv6");
		return links;
	}
	for (size_t i = 0; links && i < n_boot; i++) {
		bool advertised = false;

		for (size_t k = 0; k < n_sent && !advertised; k++)
			advertised = strcmp(sent[k], boot[i]) == 0;
		json_array_append_new(links, ra_link(cfg, store, boot[i], advertised, print));
	}
	return links;
}
