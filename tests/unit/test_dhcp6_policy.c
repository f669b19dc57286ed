/*
 * DHCPv6 policy, table-driven: a client message built with the codec
 * (optionally wrapped in a relay), decided against a lab config and a
 * small in-memory binding view, the reply laid out and parsed back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dhcp4/hold_ledger.h"
#include "dhcp6/dhcp6_codec.h"
#include "dhcp6/dhcp6_policy.h"
#include "dhcp6/dhcp6_pool.h"

#define NOW 1700000000

static const char lab_yaml[] =
	"server: { state_dir: /tmp/ib-policy6-test }\n"
	"dhcp4: { enabled: false }\n"
	"dhcp6:\n"
	"  interfaces: [srv0]\n"
	"  relays: [\"fd00:b007::3\"]\n"
	"  subnets:\n"
	"    - subnet: fd00:b007::/64\n"
	"      interface: srv0\n"
	"      relays: [\"fd00:b007::2\"]\n"
	"      pools: [ { start: \"fd00:b007::1000\", end: \"fd00:b007::1001\" } ]\n"
	"      dns: [\"fd00:b007::1\"]\n"
	"      domain_search: [lab.example]\n"
	"      preferred_lifetime: 1800\n"
	"      valid_lifetime: 3600\n"
	"      reservations:\n"
	"        - { mac: \"52:54:00:00:00:10\", address: \"fd00:b007::10\", hostname: node10 }\n"
	"        - { duid: \"00:04:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00\",\n"
	"            address: \"fd00:b007::11\", bootfile_param: [root=/dev/nfs, ip=dhcp] }\n"
	"    - subnet: fd00:b007:1::/64\n"
	"      relays: [\"fd00:b007:1::2\"]\n"
	"      pools: [ { start: \"fd00:b007:1::1000\", end: \"fd00:b007:1::10ff\" } ]\n"
	"boot:\n"
	"  efi_x64: ipxe.efi\n"
	"  ipxe_script6: \"http://[fd00:b007::1]:8080/boot.ipxe?mac=${net0/mac}\"\n"
	"  http6_x64: \"http://[fd00:b007::1]:8080/assets/ipxe.efi\"\n"
	"  bootfile_param6: [console=ttyS0]\n";

static struct ib_config *cfg;
static const uint8_t srv_duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 1 };	/* DUID-LL */

/* ---- a binding view over a few rows ---- */

static struct ib_lease6 rows[8];
static size_t n_rows;

/* ADVERTISE holds, as the shell's table and ledger keep them. */
struct fhold {
	uint8_t addr[16];
	uint64_t source;
	int64_t since;
	const uint8_t *duid;		/* the holder */
	size_t duid_len;
};
static struct fhold fholds[4];
static size_t n_fholds;

static bool fhold_mine(const struct fhold *h, const struct ib_dhcp6_blob *duid)
{
	return h->duid_len == duid->len && !memcmp(h->duid, duid->p, duid->len);
}

static int v_find(void *ctx, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		  struct ib_lease6 *ret)
{
	for (size_t i = 0; i < n_fholds; i++)
		if (fhold_mine(&fholds[i], duid)) {
			memset(ret, 0, sizeof(*ret));
			memcpy(ret->address, fholds[i].addr, 16);
			ret->state = IB_LEASE_ACTIVE;
			ret->expires = NOW + 30;
			return 0;
		}
	for (size_t i = 0; i < n_rows; i++)
		if (rows[i].duid_len == duid->len && !memcmp(rows[i].duid, duid->p, duid->len) &&
		    rows[i].iaid == iaid) {
			*ret = rows[i];
			return 0;
		}
	return -ENOENT;
}

static bool v_unbound(void *ctx, const uint8_t a[16], const struct ib_dhcp6_blob *duid,
		      uint32_t iaid)
{
	for (size_t i = 0; i < n_rows; i++)
		if (!memcmp(rows[i].address, a, 16))
			return rows[i].duid_len == duid->len &&
			       !memcmp(rows[i].duid, duid->p, duid->len) && rows[i].iaid == iaid;
	return true;
}

static bool v_is_free(void *ctx, const uint8_t a[16], const struct ib_dhcp6_blob *duid,
		      uint32_t iaid)
{
	for (size_t i = 0; i < n_fholds; i++)
		if (!memcmp(fholds[i].addr, a, 16))
			return fhold_mine(&fholds[i], duid);
	for (size_t i = 0; i < n_rows; i++)
		if (!memcmp(rows[i].address, a, 16))
			return rows[i].duid_len == duid->len &&
			       !memcmp(rows[i].duid, duid->p, duid->len) && rows[i].iaid == iaid;
	return true;
}

static int v_pick(void *ctx, const struct ib_subnet6 *sn, const struct ib_dhcp6_blob *duid,
		  uint32_t iaid, uint8_t ret[16])
{
	uint8_t a[16];

	memcpy(a, sn->pools[0].start, 16);
	for (; memcmp(a, sn->pools[0].end, 16) <= 0; a[15]++)
		if (v_is_free(ctx, a, duid, iaid)) {
			memcpy(ret, a, 16);
			return 0;
		}
	return -ENOSPC;
}

static const struct ib_lease6_view view = { v_find, v_is_free, v_pick, NULL };

static size_t h_holds(void *ctx, const struct ib_subnet6 *sn, uint64_t source)
{
	size_t n = 0;

	for (size_t i = 0; i < n_fholds; i++)
		n += fholds[i].source == source;
	return n;
}

static int h_oldest(void *ctx, const struct ib_subnet6 *sn, const uint64_t *source,
		    uint8_t ret[16])
{
	const struct fhold *best = NULL;

	for (size_t i = 0; i < n_fholds; i++)
		if ((!source || fholds[i].source == *source) &&
		    (!best || fholds[i].since < best->since))
			best = &fholds[i];
	if (!best)
		return -ENOENT;
	memcpy(ret, best->addr, 16);
	return 0;
}

static const struct ib_hold6_view hold_view = { h_holds, h_oldest, v_unbound, NULL };

static void add_row(const char *addr, const uint8_t *duid, size_t len, uint32_t iaid)
{
	struct ib_lease6 *l = &rows[n_rows++];

	memset(l, 0, sizeof(*l));
	inet_pton(AF_INET6, addr, l->address);
	memcpy(l->duid, duid, len);
	l->duid_len = (uint8_t)len;
	l->iaid = iaid;
	l->state = IB_LEASE_ACTIVE;
	l->expires = NOW + 100;
}

/* ---- cases ---- */

static const uint8_t duid_ll10[] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, 0x10 };
static const uint8_t duid_ll20[] = { 0, 3, 0, 1, 0x52, 0x54, 0, 0, 0, 0x20 };
static const uint8_t duid_uuid[] = { 0, 4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t duid_resv[] = { 0, 4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				     0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0 };
static const uint8_t duid_en[] = { 0, 2, 0, 0, 0, 9, 1, 2, 3, 4 };

struct tcase {
	const char *name;
	uint8_t type;
	const uint8_t *duid;
	size_t duid_len;
	bool our_server_id;		/* carry our server id */
	bool wrong_server_id;		/* carry another */
	int arch;			/* -1: no option 61 */
	bool ipxe;			/* user class "iPXE" */
	bool http_client;		/* vendor class HTTPClient */
	bool rapid;			/* Rapid Commit */
	bool unicast;			/* not to ff02::1:2 */
	const char *hint;		/* IA address the client names, or NULL */
	int relay_mac;			/* relayed with option 79 52:54:00:00:00:XX; -1 direct */
	bool relay_repl;		/* wrapped in a Relay-reply, not a Relay-forward */
	bool relay_refused;		/* expected: dropped, the relay not listed */
	const char *src;		/* source address (default fe80::1) */
	int bound;			/* 1: a binding exists for the client at ::1000 */
	int fill;			/* 1: the pool is exhausted by others */
	/* expected */
	enum ib_dhcp6_action action;
	const char *addr;		/* address in the first IA, or NULL */
	int ia_status;			/* -1 none */
	int msg_status;			/* -1 none */
	const char *url;		/* bootfile-url, or NULL */
	const char *params;		/* option 60 items joined by spaces (default: the
					 * boot section's with a boot file, none without) */
	const char *mac_from;		/* or NULL: no MAC */
};

#define TFTP_URL "tftp://[fd00:b007::1]/ipxe.efi"
#define IPXE_URL "http://[fd00:b007::1]:8080/boot.ipxe?mac=${net0/mac}"
#define HTTP_URL "http://[fd00:b007::1]:8080/assets/ipxe.efi"

static const struct tcase cases[] = {
	{ "solicit: MAC reservation from DUID-LL, UEFI PXE", IB_DHCP6_SOLICIT, duid_ll10,
	  sizeof(duid_ll10), .arch = 7, .relay_mac = -1, .action = IB_D6_ADVERTISE,
	  .addr = "fd00:b007::10", .ia_status = -1, .msg_status = -1, .url = TFTP_URL,
	  .mac_from = "duid" },
	{ "solicit: iPXE gets the script", IB_DHCP6_SOLICIT, duid_ll20, sizeof(duid_ll20),
	  .arch = 7, .ipxe = true, .relay_mac = -1, .action = IB_D6_ADVERTISE,
	  .addr = "fd00:b007::1000", .ia_status = -1, .msg_status = -1, .url = IPXE_URL,
	  .mac_from = "duid" },
	{ "solicit: UEFI HTTP boot", IB_DHCP6_SOLICIT, duid_ll20, sizeof(duid_ll20),
	  .arch = 16, .http_client = true, .relay_mac = -1, .action = IB_D6_ADVERTISE,
	  .addr = "fd00:b007::1000", .ia_status = -1, .msg_status = -1, .url = HTTP_URL,
	  .mac_from = "duid" },
	{ "solicit: no option 61 -> default arch 7", IB_DHCP6_SOLICIT, duid_en, sizeof(duid_en),
	  .arch = -1, .relay_mac = -1, .src = "fe80::5054:ff:fe00:30",
	  .action = IB_D6_ADVERTISE, .addr = "fd00:b007::1000", .ia_status = -1,
	  .msg_status = -1, .url = TFTP_URL, .mac_from = "eui-64" },
	{ "solicit: DUID reservation (DUID-UUID)", IB_DHCP6_SOLICIT, duid_resv, sizeof(duid_resv),
	  .arch = 7, .relay_mac = -1, .action = IB_D6_ADVERTISE, .addr = "fd00:b007::11",
	  .ia_status = -1, .msg_status = -1, .url = TFTP_URL, .params = "root=/dev/nfs ip=dhcp" },
	{ "solicit: rapid commit", IB_DHCP6_SOLICIT, duid_ll20, sizeof(duid_ll20), .arch = -1,
	  .rapid = true, .relay_mac = -1, .action = IB_D6_COMMIT, .addr = "fd00:b007::1000",
	  .ia_status = -1, .msg_status = -1, .mac_from = "duid" },
	{ "solicit: hint honoured", IB_DHCP6_SOLICIT, duid_ll20, sizeof(duid_ll20), .arch = -1,
	  .hint = "fd00:b007::1001", .relay_mac = -1, .action = IB_D6_ADVERTISE,
	  .addr = "fd00:b007::1001", .ia_status = -1, .msg_status = -1, .mac_from = "duid" },
	{ "solicit: pool exhausted", IB_DHCP6_SOLICIT, duid_ll20, sizeof(duid_ll20), .arch = -1,
	  .fill = 1, .relay_mac = -1, .action = IB_D6_ADVERTISE, .ia_status = -1,
	  .msg_status = IB_DHCP6_NO_ADDRS_AVAIL, .mac_from = "duid" },
	{ "solicit: server id not allowed", IB_DHCP6_SOLICIT, duid_ll20, sizeof(duid_ll20),
	  .our_server_id = true, .arch = -1, .relay_mac = -1, .action = IB_D6_DROP },
	{ "relayed solicit: DUID-UUID, MAC from option 79 reservation", IB_DHCP6_SOLICIT,
	  duid_uuid, sizeof(duid_uuid), .arch = 7, .relay_mac = 0x10, .src = "fd00:b007::2",
	  .action = IB_D6_ADVERTISE, .addr = "fd00:b007::10", .ia_status = -1, .msg_status = -1,
	  .url = TFTP_URL, .mac_from = "option-79" },
	{ "relayed solicit: a relay of dhcp6.relays speaks for any subnet", IB_DHCP6_SOLICIT,
	  duid_uuid, sizeof(duid_uuid), .arch = 7, .relay_mac = 0x10, .src = "fd00:b007::3",
	  .action = IB_D6_ADVERTISE, .addr = "fd00:b007::10", .ia_status = -1, .msg_status = -1,
	  .url = TFTP_URL, .mac_from = "option-79" },
	{ "relayed solicit from a host no relays list names: dropped, no MAC (issue #11)",
	  IB_DHCP6_SOLICIT, duid_uuid, sizeof(duid_uuid), .arch = 7, .relay_mac = 0x10,
	  .src = "fe80::1", .relay_refused = true, .action = IB_D6_DROP },
	{ "relayed solicit from another subnet's relay: dropped, no MAC", IB_DHCP6_SOLICIT,
	  duid_uuid, sizeof(duid_uuid), .arch = 7, .relay_mac = 0x10, .src = "fd00:b007:1::2",
	  .relay_refused = true, .action = IB_D6_DROP },
	{ "relay-reply sent to the server: dropped (RFC 8415 16)", IB_DHCP6_SOLICIT,
	  duid_uuid, sizeof(duid_uuid), .arch = 7, .relay_mac = 0x10, .relay_repl = true,
	  .src = "fd00:b007::2", .action = IB_D6_DROP },
	{ "request: ours", IB_DHCP6_REQUEST, duid_ll20, sizeof(duid_ll20), .our_server_id = true,
	  .arch = -1, .relay_mac = -1, .action = IB_D6_COMMIT, .addr = "fd00:b007::1000",
	  .ia_status = -1, .msg_status = -1, .mac_from = "duid" },
	{ "request: for another server", IB_DHCP6_REQUEST, duid_ll20, sizeof(duid_ll20),
	  .wrong_server_id = true, .arch = -1, .relay_mac = -1, .action = IB_D6_DROP },
	{ "request: unicast -> UseMulticast", IB_DHCP6_REQUEST, duid_ll20, sizeof(duid_ll20),
	  .our_server_id = true, .unicast = true, .arch = -1, .relay_mac = -1,
	  .action = IB_D6_REPLY, .ia_status = -1, .msg_status = IB_DHCP6_USE_MULTICAST,
	  .mac_from = "duid" },
	{ "renew: bound", IB_DHCP6_RENEW, duid_ll20, sizeof(duid_ll20), .our_server_id = true,
	  .arch = -1, .relay_mac = -1, .bound = 1, .hint = "fd00:b007::1000",
	  .action = IB_D6_COMMIT, .addr = "fd00:b007::1000", .ia_status = -1, .msg_status = -1,
	  .mac_from = "duid" },
	{ "renew: no binding", IB_DHCP6_RENEW, duid_ll20, sizeof(duid_ll20), .our_server_id = true,
	  .arch = -1, .relay_mac = -1, .hint = "fd00:b007::1000", .action = IB_D6_COMMIT,
	  .ia_status = IB_DHCP6_NO_BINDING, .msg_status = -1, .mac_from = "duid" },
	{ "rebind: bound, no server id", IB_DHCP6_REBIND, duid_ll20, sizeof(duid_ll20),
	  .arch = -1, .relay_mac = -1, .bound = 1, .hint = "fd00:b007::1000",
	  .action = IB_D6_COMMIT, .addr = "fd00:b007::1000", .ia_status = -1, .msg_status = -1,
	  .mac_from = "duid" },
	{ "release", IB_DHCP6_RELEASE, duid_ll20, sizeof(duid_ll20), .our_server_id = true,
	  .arch = -1, .relay_mac = -1, .bound = 1, .hint = "fd00:b007::1000",
	  .action = IB_D6_RELEASE, .addr = "fd00:b007::1000", .ia_status = -1,
	  .msg_status = IB_DHCP6_SUCCESS, .mac_from = "duid" },
	{ "decline of what it does not hold", IB_DHCP6_DECLINE, duid_ll20, sizeof(duid_ll20),
	  .our_server_id = true, .arch = -1, .relay_mac = -1, .hint = "fd00:b007::1001",
	  .action = IB_D6_DECLINE, .ia_status = IB_DHCP6_NO_BINDING,
	  .msg_status = IB_DHCP6_SUCCESS, .mac_from = "duid" },
	{ "confirm: on link", IB_DHCP6_CONFIRM, duid_ll20, sizeof(duid_ll20), .arch = -1,
	  .relay_mac = -1, .hint = "fd00:b007::1234", .action = IB_D6_REPLY, .ia_status = -1,
	  .msg_status = IB_DHCP6_SUCCESS, .mac_from = "duid" },
	{ "confirm: not on link", IB_DHCP6_CONFIRM, duid_ll20, sizeof(duid_ll20), .arch = -1,
	  .relay_mac = -1, .hint = "fd00:dead::1", .action = IB_D6_REPLY, .ia_status = -1,
	  .msg_status = IB_DHCP6_NOT_ON_LINK, .mac_from = "duid" },
	{ "information-request", IB_DHCP6_INFORMATION_REQUEST, duid_ll20, sizeof(duid_ll20),
	  .arch = -1, .relay_mac = -1, .action = IB_D6_REPLY, .ia_status = -1, .msg_status = -1,
	  .mac_from = "duid" },
	{ "solicit without client id", IB_DHCP6_SOLICIT, NULL, 0, .arch = -1, .relay_mac = -1,
	  .action = IB_D6_DROP },
};

/* Builds the client message of c (relayed when c->relay_mac >= 0) into buf. */
static size_t build_request(const struct tcase *c, uint8_t *buf)
{
	static const uint8_t other_duid[] = { 0, 3, 0, 1, 9, 9, 9, 9, 9, 9 };
	static const uint16_t oro[] = { IB_OPT6_DNS_SERVERS, IB_OPT6_BOOTFILE_URL };
	static const uint8_t ipxe[] = "iPXE", http[] = "HTTPClient:Arch:00016";
	struct ib_dhcp6_blob uc = { ipxe, 4 }, vc = { http, sizeof(http) - 1 };
	uint16_t arch = (uint16_t)c->arch;
	struct ib_dhcp6_ia_na ia = { .iaid = 7 };
	struct ib_dhcp6_out o = { .msg_type = c->type, .xid = 0x123456,
				  .client_id = { c->duid, c->duid_len },
				  .has_oro = true, .oro = oro, .n_oro = 2,
				  .rapid_commit = c->rapid };
	uint8_t inner[1024];
	size_t len;

	if (c->type != IB_DHCP6_INFORMATION_REQUEST) {
		o.ia_na = &ia;
		o.n_ia_na = 1;
	}
	if (c->hint) {
		inet_pton(AF_INET6, c->hint, ia.addrs[0].addr);
		ia.n_addrs = 1;
	}
	if (c->our_server_id)
		o.server_id = (struct ib_dhcp6_blob){ srv_duid, sizeof(srv_duid) };
	if (c->wrong_server_id)
		o.server_id = (struct ib_dhcp6_blob){ other_duid, sizeof(other_duid) };
	if (c->arch >= 0) {
		o.arch = &arch;
		o.n_arch = 1;
	}
	if (c->ipxe) {
		o.user_class = &uc;
		o.n_user_class = 1;
	}
	if (c->http_client) {
		o.has_vendor_class = true;
		o.vendor_class_enterprise = 343;
		o.vendor_class = &vc;
		o.n_vendor_class = 1;
	}
	assert_int_equal(ib_dhcp6_build(&o, c->relay_mac >= 0 ? inner : buf, 1024, &len), 0);
	if (c->relay_mac >= 0) {
		static const uint8_t iface[] = "port7";
		uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, (uint8_t)c->relay_mac };
		uint8_t type = c->relay_repl ? IB_DHCP6_RELAY_REPL : IB_DHCP6_RELAY_FORW;
		struct ib_dhcp6_relay r = { .msg_type = type,
					    .interface_id = { iface, 5 },
					    .lladdr_type = 1, .lladdr = { mac, 6 } };
		size_t out;

		inet_pton(AF_INET6, "fd00:b007::2", r.link_address);
		inet_pton(AF_INET6, "fe80::99", r.peer_address);
		assert_int_equal(ib_dhcp6_build_relay(&(struct ib_dhcp6_wrap){
			type, &r, 1, { inner, len } }, buf, 2048, &out), 0);
		return out;
	}
	return len;
}

/* The answer's option 60 items joined by spaces. */
static void join_params(const struct ib_boot6_answer *b, char *out, size_t cap)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < b->n_params && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? " " : "", b->params[i]);
}

static void check_case(const struct tcase *c)
{
	uint8_t req[2048], rep[4096], want[16];
	char params[512];
	const char *want_params;
	struct ib_dhcp6_msg m, back;
	struct ib_dhcp6_decision d;
	struct ib_dhcp6_input in = {
		.cfg = cfg, .msg = &m, .ifname = "srv0", .multicast = !c->unicast,
		.server_duid = { srv_duid, sizeof(srv_duid) }, .now = NOW, .view = &view,
	};
	size_t len = build_request(c, req), rlen;

	n_rows = 0;
	if (c->bound)
		add_row("fd00:b007::1000", c->duid, c->duid_len, 7);
	if (c->fill) {
		add_row("fd00:b007::1000", duid_ll10, sizeof(duid_ll10), 1);
		add_row("fd00:b007::1001", duid_ll10, sizeof(duid_ll10), 2);
	}
	inet_pton(AF_INET6, c->src ? c->src : "fe80::1", in.src);
	inet_pton(AF_INET6, "fd00:b007::1", in.server_addr);
	assert_int_equal(ib_dhcp6_parse(req, len, &m), 0);
	assert_int_equal(ib_dhcp6_decide(&in, &d), 0);
	if (d.action != c->action)
		fail_msg("%s: action %d, wanted %d (%s)", c->name, d.action, c->action, d.reason);
	if (d.relay_refused != c->relay_refused)
		fail_msg("%s: relay_refused %d (%s)", c->name, d.relay_refused, d.reason);
	if (c->relay_refused)
		assert_false(d.has_mac);
	if (c->action == IB_D6_DROP)
		return;
	if (c->addr) {
		inet_pton(AF_INET6, c->addr, want);
		assert_true(d.n_ia >= 1 && d.ia[0].has_addr);
		if (memcmp(d.ia[0].addr, want, 16) != 0)
			fail_msg("%s: wrong address", c->name);
	}
	if (c->ia_status >= 0) {
		assert_true(d.n_ia >= 1 && d.ia[0].has_status);
		assert_int_equal(d.ia[0].status, c->ia_status);
	}
	if (c->msg_status >= 0) {
		assert_true(d.has_status);
		assert_int_equal(d.status, c->msg_status);
	} else {
		assert_false(d.has_status);
	}
	if (c->url)
		assert_string_equal(d.boot.url, c->url);
	want_params = c->params ? c->params :
		      d.boot.client != IB_BOOT6_NONE ? "console=ttyS0" : "";
	join_params(&d.boot, params, sizeof(params));
	assert_string_equal(params, want_params);
	if (c->mac_from)
		assert_string_equal(d.mac_from, c->mac_from);
	else
		assert_false(d.has_mac);
	/* the reply parses back, relayed back through the chain */
	assert_int_equal(ib_dhcp6_reply_build(&in, &d, rep, sizeof(rep), &rlen), 0);
	assert_int_equal(ib_dhcp6_parse(rep, rlen, &back), 0);
	assert_int_equal(back.msg_type, d.reply_type);
	assert_int_equal(back.xid, 0x123456);
	assert_int_equal(back.n_relays, c->relay_mac >= 0 ? 1 : 0);
	if (c->relay_mac >= 0) {
		assert_int_equal(back.relays[0].msg_type, IB_DHCP6_RELAY_REPL);
		assert_int_equal(back.relays[0].interface_id.len, 5);
		assert_memory_equal(back.relays[0].interface_id.p, "port7", 5);
	}
	assert_int_equal(back.server_id.len, sizeof(srv_duid));
	assert_int_equal(back.client_id.len, c->duid_len);
	assert_int_equal(back.rapid_commit, c->rapid && c->action == IB_D6_COMMIT);
	if (c->url) {
		assert_int_equal(back.bootfile_url.len, strlen(c->url));
		assert_memory_equal(back.bootfile_url.p, c->url, strlen(c->url));
	}
	/* option 60 on the wire: the items, each length-prefixed (RFC 5970 3.2) */
	assert_int_equal(back.n_bootfile_param, d.boot.n_params);
	if (d.boot.n_params) {
		struct ib_dhcp6_blob items[IB_BOOTFILE_PARAM_MAX];
		size_t k;

		assert_int_equal(ib_dhcp6_items(back.bootfile_param, items, IB_BOOTFILE_PARAM_MAX,
						&k), 0);
		assert_int_equal(k, d.boot.n_params);
		for (size_t i = 0; i < k; i++) {
			assert_int_equal(items[i].len, strlen(d.boot.params[i]));
			assert_memory_equal(items[i].p, d.boot.params[i], items[i].len);
		}
	}
	assert_int_equal(back.n_vendor_class, c->http_client ? 1 : 0);
	if (c->addr && c->action != IB_D6_RELEASE) {
		assert_int_equal(back.n_ia_na, 1);
		assert_int_equal(back.ia_na[0].n_addrs, 1);
		assert_memory_equal(back.ia_na[0].addrs[0].addr, want, 16);
		assert_int_equal(back.ia_na[0].addrs[0].valid, 3600);
		assert_int_equal(back.ia_na[0].t1, 900);		/* 0.5 x preferred */
	}
	if (c->type == IB_DHCP6_INFORMATION_REQUEST)
		assert_int_equal(back.n_dns, 1);
}

static void test_cases(void **state)
{
	n_fholds = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("  %s\n", cases[i].name);
		check_case(&cases[i]);
	}
}

/*
 * Taking over ADVERTISE holds (issue #11), in the 2-address pool ::1000,
 * ::1001, where one source's share (50%) is one hold.  Sources: links 1, 2
 * and 3 by ifindex, and the relay of fd00:b007::2.
 */
enum { L1 = 1, L2, L3, RELAY };

struct take_case {
	const char *name;
	struct { const char *addr; int src; int64_t since; const uint8_t *duid; } held[2];
	const char *bound[2];		/* bound to another client */
	const uint8_t *duid;		/* the asking client (default duid_ll20) */
	int src;			/* where it asks from */
	bool no_hold_view;		/* as `explain` asks: no holds to take */
	const char *want;		/* address of the IA, or NULL: NoAddrsAvail */
	enum ib_d6_take take;
};

static const struct take_case take_cases[] = {
	{ "a free pool: the first address", .src = L1, .want = "fd00:b007::1000" },
	{ "a source at its share takes its own oldest hold",
	  .held = { { "fd00:b007::1000", L1, 10, duid_ll10 } }, .src = L1,
	  .want = "fd00:b007::1000", .take = IB_D6_TAKE_CAP },
	{ "another link gets the free address",
	  .held = { { "fd00:b007::1000", L1, 10, duid_ll10 } }, .src = L2,
	  .want = "fd00:b007::1001" },
	{ "a relay is a source of its own",
	  .held = { { "fd00:b007::1000", RELAY, 10, duid_ll10 } }, .src = RELAY,
	  .want = "fd00:b007::1000", .take = IB_D6_TAKE_CAP },
	{ "pool short: the subnet's oldest hold, whoever's",
	  .held = { { "fd00:b007::1000", L1, 10, duid_ll10 }, { "fd00:b007::1001", L2, 5, duid_uuid } },
	  .src = L3, .want = "fd00:b007::1001", .take = IB_D6_TAKE_SHORT },
	{ "a binding is never taken, a hold is",
	  .held = { { "fd00:b007::1001", L1, 10, duid_ll10 } }, .bound = { "fd00:b007::1000" },
	  .src = L2, .want = "fd00:b007::1001", .take = IB_D6_TAKE_SHORT },
	{ "bindings only: NoAddrsAvail",
	  .bound = { "fd00:b007::1000", "fd00:b007::1001" }, .src = L1 },
	{ "its own hold, even at the share",
	  .held = { { "fd00:b007::1001", L1, 10, duid_ll20 } }, .src = L1,
	  .want = "fd00:b007::1001" },
	{ "the reservation outranks another's hold on its address",
	  .held = { { "fd00:b007::10", L1, 10, duid_uuid } }, .duid = duid_ll10, .src = L1,
	  .want = "fd00:b007::10" },
	{ "no hold view (explain): nothing taken",
	  .held = { { "fd00:b007::1000", L1, 10, duid_ll10 }, { "fd00:b007::1001", L2, 5, duid_uuid } },
	  .src = L3, .no_hold_view = true },
};

static uint64_t source_of(int src)
{
	uint8_t link[16];

	if (src != RELAY)
		return ib_ledger_source_link(src);
	inet_pton(AF_INET6, "fd00:b007::2", link);
	return ib_ledger_source_relay6(link);
}

static void check_take(const struct take_case *t)
{
	const uint8_t *duid = t->duid ? t->duid : duid_ll20;
	struct tcase c = { t->name, IB_DHCP6_SOLICIT, duid, 10, .arch = -1,
			   .relay_mac = t->src == RELAY ? 0x30 : -1 };
	uint8_t req[2048], want[16];
	struct ib_dhcp6_msg m;
	struct ib_dhcp6_decision d;
	struct ib_dhcp6_input in = {
		.cfg = cfg, .msg = &m, .ifname = "srv0", .multicast = true,
		.ifindex = t->src == RELAY ? 9 : t->src,
		.server_duid = { srv_duid, sizeof(srv_duid) }, .now = NOW, .view = &view,
		.holds = t->no_hold_view ? NULL : &hold_view,
	};

	n_rows = n_fholds = 0;
	for (size_t i = 0; i < 2 && t->held[i].addr; i++) {
		struct fhold *h = &fholds[n_fholds++];

		inet_pton(AF_INET6, t->held[i].addr, h->addr);
		h->source = source_of(t->held[i].src);
		h->since = t->held[i].since;
		h->duid = t->held[i].duid;
		h->duid_len = t->held[i].duid == duid_uuid ? sizeof(duid_uuid) : 10;
	}
	for (size_t i = 0; i < 2 && t->bound[i]; i++)
		add_row(t->bound[i], duid_en, sizeof(duid_en), 1);
	/* a relayed one from the subnet's listed relay */
	inet_pton(AF_INET6, t->src == RELAY ? "fd00:b007::2" : "fe80::1", in.src);
	inet_pton(AF_INET6, "fd00:b007::1", in.server_addr);
	assert_int_equal(ib_dhcp6_parse(req, build_request(&c, req), &m), 0);
	assert_int_equal(ib_dhcp6_decide(&in, &d), 0);
	assert_int_equal(d.action, IB_D6_ADVERTISE);
	assert_int_equal(d.source, source_of(t->src));
	if (!t->want) {
		assert_true(d.has_status && d.status == IB_DHCP6_NO_ADDRS_AVAIL);
		assert_true(d.exhausted);
		assert_int_equal(d.n_ia, 0);
		return;
	}
	inet_pton(AF_INET6, t->want, want);
	if (d.n_ia != 1 || !d.ia[0].has_addr || memcmp(d.ia[0].addr, want, 16) != 0)
		fail_msg("%s: not %s (%s)", t->name, t->want, d.reason);
	assert_int_equal(d.ia[0].take, t->take);
	assert_false(d.exhausted);
}

static void test_take_over_holds(void **state)
{
	for (size_t i = 0; i < sizeof(take_cases) / sizeof(take_cases[0]); i++) {
		print_message("  %s\n", take_cases[i].name);
		check_take(&take_cases[i]);
	}
	n_fholds = n_rows = 0;
}

/* ---- the pool as one sequence (dhcp6_pool.c) ---- */

/* Pools fd00::10-13 and fd00::20-21: offsets 0-3, then 4-5. */
static struct ib_pool6 two_pools[2];
static struct ib_subnet6 two = { .pools = two_pools, .n_pools = 2 };
static const bool *taken_map;		/* by offset */

static bool off_usable(void *ctx, const uint8_t a[16])
{
	unsigned last = a[15];

	return !taken_map[last >= 0x20 ? 4 + last - 0x20 : last - 0x10];
}

static void test_pool_next(void **state)
{
	static const struct {
		const char *name;
		bool taken[6];
		uint64_t cursor, tries;
		int want;		/* offset found, or -1: -ENOSPC */
		uint64_t cursor_after;
	} rows6[] = {
		{ "first free from the cursor", { 0 }, 0, 8, 0, 1 },
		{ "skips the taken", { 1, 1, 0 }, 0, 8, 2, 3 },
		{ "crosses into the next pool", { 0, 0, 0, 1 }, 3, 8, 4, 5 },
		{ "wraps at the end", { 0, 1, 1, 1, 1, 1 }, 5, 8, 0, 1 },
		{ "a cursor past the end wraps", { 0 }, 13, 8, 1, 2 },
		{ "full: ENOSPC, cursor unchanged after a whole turn", { 1, 1, 1, 1, 1, 1 }, 2, 8, -1, 2 },
		{ "tries run out: the cursor moves past them", { 1, 1, 1, 0, 0, 0 }, 0, 2, -1, 2 },
	};

	inet_pton(AF_INET6, "fd00::10", two_pools[0].start);
	inet_pton(AF_INET6, "fd00::13", two_pools[0].end);
	inet_pton(AF_INET6, "fd00::20", two_pools[1].start);
	inet_pton(AF_INET6, "fd00::21", two_pools[1].end);
	assert_int_equal(ib_d6_pool_size(&two), 6);
	for (size_t i = 0; i < sizeof(rows6) / sizeof(rows6[0]); i++) {
		uint64_t cur = rows6[i].cursor;
		uint8_t got[16], want[16];
		int r;

		print_message("  %s\n", rows6[i].name);
		taken_map = rows6[i].taken;
		r = ib_d6_pool_next(&two, &cur, rows6[i].tries, off_usable, NULL, got);
		assert_int_equal(r, rows6[i].want < 0 ? -ENOSPC : 0);
		assert_int_equal(cur, rows6[i].cursor_after);
		if (rows6[i].want >= 0) {
			ib_d6_pool_addr(&two, (uint64_t)rows6[i].want, want);
			assert_memory_equal(got, want, 16);
		}
	}
	two.n_pools = 0;
	assert_int_equal(ib_d6_pool_next(&two, &(uint64_t){ 0 }, 8, off_usable, NULL,
					 (uint8_t[16]){ 0 }), -ENOSPC);
	two.n_pools = 2;
}

static void test_pool_gap(void **state)
{
	static const struct {
		const char *name;
		struct { const char *addr; bool taken; } rows[6];
		int want;		/* offset, or -1: -ENOSPC */
	} rows6[] = {
		{ "no rows: the first address", { { NULL } }, 0 },
		{ "a run of bindings: just past it",
		  { { "fd00::10", 1 }, { "fd00::11", 1 }, { "fd00::12", 1 } }, 3 },
		{ "a hole in the run", { { "fd00::10", 1 }, { "fd00::12", 1 } }, 1 },
		{ "an expired or released row is a gap", { { "fd00::10", 1 }, { "fd00::11", 0 } }, 1 },
		{ "a row outside the pools is not in the way",
		  { { "fd00::5", 1 }, { "fd00::10", 1 }, { "fd00::30", 1 } }, 1 },
		{ "a full first pool: the second's first gap",
		  { { "fd00::10", 1 }, { "fd00::11", 1 }, { "fd00::12", 1 }, { "fd00::13", 1 },
		    { "fd00::20", 1 } }, 5 },
		{ "all taken", { { "fd00::10", 1 }, { "fd00::11", 1 }, { "fd00::12", 1 },
				 { "fd00::13", 1 }, { "fd00::20", 1 }, { "fd00::21", 1 } }, -1 },
	};

	for (size_t i = 0; i < sizeof(rows6) / sizeof(rows6[0]); i++) {
		struct ib_d6_gap g;
		uint64_t off = 99;

		print_message("  %s\n", rows6[i].name);
		ib_d6_gap_init(&g, &two);
		for (size_t k = 0; k < 6 && rows6[i].rows[k].addr; k++) {
			uint8_t a[16];

			inet_pton(AF_INET6, rows6[i].rows[k].addr, a);
			ib_d6_gap_feed(&g, a, rows6[i].rows[k].taken);
		}
		if (rows6[i].want < 0) {
			assert_int_equal(ib_d6_gap_result(&g, &off), -ENOSPC);
		} else {
			assert_int_equal(ib_d6_gap_result(&g, &off), 0);
			assert_int_equal(off, rows6[i].want);
		}
	}
}

/*
 * Issue #11: 5,000 bindings at the start of an 8,192-address pool.  A
 * search from offset 0 (the cursor a restart used to start from) gives up
 * after 4,096 tries; the cursor placed at the store's first gap finds the
 * first free address at once.
 */
static bool *big_taken;

static bool big_usable(void *ctx, const uint8_t a[16])
{
	return !big_taken[(a[14] << 8 | a[15]) - 0x1000];
}

static void test_pool_restart(void **state)
{
	struct ib_pool6 pool;
	struct ib_subnet6 sn = { .pools = &pool, .n_pools = 1 };
	uint64_t cur = 0, off;
	struct ib_d6_gap g;
	uint8_t a[16], got[16];

	inet_pton(AF_INET6, "fd00::1000", pool.start);
	inet_pton(AF_INET6, "fd00::2fff", pool.end);
	assert_int_equal(ib_d6_pool_size(&sn), 8192);
	big_taken = calloc(8192, 1);
	assert_non_null(big_taken);
	ib_d6_gap_init(&g, &sn);
	for (unsigned i = 0; i < 5000; i++) {
		big_taken[i] = true;
		ib_d6_pool_addr(&sn, i, a);
		ib_d6_gap_feed(&g, a, true);
	}
	assert_int_equal(ib_d6_pool_next(&sn, &cur, 4096, big_usable, NULL, got), -ENOSPC);
	assert_int_equal(ib_d6_gap_result(&g, &off), 0);
	assert_int_equal(off, 5000);
	assert_int_equal(ib_d6_pool_next(&sn, &off, 4096, big_usable, NULL, got), 0);
	ib_d6_pool_addr(&sn, 5000, a);
	assert_memory_equal(got, a, 16);
	free(big_taken);
}

/* The pick's placement, as a shell's walk of its rows would do it. */
static int placed;

static void place_at_gap(void *ctx, const struct ib_subnet6 *sn, struct ib_d6_cursor *c)
{
	placed++;
	c->offset = 5000;		/* the first gap of big_taken below */
	c->placed_at = *(const int64_t *)ctx;
}

/*
 * The pure pool pick (issue #15): a search that finds PICK's tries taken
 * places the cursor at the first gap and finds it; a pool taken whole is
 * not walked again within `every` seconds of the last placement.
 */
static void test_pool_pick(void **state)
{
	struct ib_pool6 pool;
	struct ib_subnet6 sn = { .pools = &pool, .n_pools = 1 };
	struct ib_d6_cursor c = { 0, 0 };
	int64_t now = 100;
	struct ib_d6_pick how = { .max_tries = 4096, .now = now, .every = 1,
				  .usable = big_usable, .place = place_at_gap, .ctx = &now };
	uint8_t a[16], got[16];

	inet_pton(AF_INET6, "fd00::1000", pool.start);
	inet_pton(AF_INET6, "fd00::2fff", pool.end);
	big_taken = calloc(8192, 1);
	assert_non_null(big_taken);
	memset(big_taken, 1, 5000);
	placed = 0;
	assert_int_equal(ib_d6_pool_pick(&sn, &c, &how, got), 0);
	assert_int_equal(placed, 1);
	ib_d6_pool_addr(&sn, 5000, a);
	assert_memory_equal(got, a, 16);
	/* taken whole: placed a moment ago, no second walk */
	memset(big_taken, 1, 8192);
	assert_int_equal(ib_d6_pool_pick(&sn, &c, &how, got), -ENOSPC);
	assert_int_equal(placed, 1);
	/* a second later it walks again, and still finds none */
	how.now = now = 101;
	assert_int_equal(ib_d6_pool_pick(&sn, &c, &how, got), -ENOSPC);
	assert_int_equal(placed, 2);
	/* a pool the search covers whole has no gap further on: never walked */
	how.max_tries = 8192;
	how.now = now = 200;
	assert_int_equal(ib_d6_pool_pick(&sn, &c, &how, got), -ENOSPC);
	assert_int_equal(placed, 2);
	free(big_taken);
}

/* The boot answer alone, as `explain` asks for it. */
static void test_boot_alone(void **state)
{
	struct ib_dhcp6_msg m = { .n_arch = 1, .arch = { 11 } };
	struct ib_boot6_answer b;
	uint8_t srv[16];

	inet_pton(AF_INET6, "fd00:b007::1", srv);
	ib_boot6_decide(cfg, &m, NULL, srv, &b);
	assert_int_equal(b.client, IB_BOOT6_NONE);	/* no efi_arm64 configured */
	assert_int_equal(b.n_params, 0);		/* no parameters without a file */
	m.arch[0] = 0;
	ib_boot6_decide(cfg, &m, NULL, srv, &b);
	assert_int_equal(b.client, IB_BOOT6_NONE);	/* BIOS PXE has no IPv6 */
	m.arch[0] = 9;
	ib_boot6_decide(cfg, &m, NULL, srv, &b);
	assert_string_equal(b.url, TFTP_URL);
}

static int setup(void **state)
{
	char err[IB_CONFIG_ERRLEN];

	if (ib_config_load_buffer("policy6.yaml", lab_yaml, sizeof(lab_yaml) - 1, &cfg, err) < 0) {
		print_error("%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	ib_config_free(cfg);
	return 0;
}

/* The store is down, the IA's address is held 100 s more: lifetimes and
 * T1/T2 shrink to fit (RFC 8415 21.4, 21.6); a longer stored lease never
 * lengthens them. */
static void test_keep_until(void **state)
{
	struct ib_dhcp6_ia_answer a = { .iaid = 1, .has_addr = true, .preferred = 1800,
					.valid = 3600, .t1 = 900, .t2 = 1440 };

	(void)state;
	ib_dhcp6_keep_until(&a, 1000, 1100);
	assert_int_equal(a.valid, 100);
	assert_int_equal(a.preferred, 100);
	assert_int_equal(a.t1, 50);
	assert_int_equal(a.t2, 80);
	a = (struct ib_dhcp6_ia_answer){ .preferred = 1800, .valid = 3600, .t1 = 900,
					 .t2 = 1440 };
	ib_dhcp6_keep_until(&a, 1000, 1000 + 2000);
	assert_int_equal(a.valid, 2000);
	assert_int_equal(a.preferred, 1800);
	assert_int_equal(a.t1, 900);
	assert_int_equal(a.t2, 1440);
	ib_dhcp6_keep_until(&a, 1000, 1000 + 100000);
	assert_int_equal(a.valid, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_take_over_holds),
		cmocka_unit_test(test_pool_next),
		cmocka_unit_test(test_keep_until),
		cmocka_unit_test(test_pool_gap),
		cmocka_unit_test(test_pool_restart),
		cmocka_unit_test(test_pool_pick),
		cmocka_unit_test(test_boot_alone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
