/*
 * DHCPv4 policy, table-driven: a request built with the codec, decided
 * against the lab config and the real lease cache, the reply checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "config/config.h"
#include "dhcp4/dhcp4_codec.h"
#include "dhcp4/dhcp4_leases.h"
#include "dhcp4/dhcp4_policy.h"
#include "dhcp4/hold_ledger.h"

#define SERVER 0xc6120001u	/* 198.18.0.1 */
#define RELAY 0xc6120101u	/* 198.18.1.1, the relays of 198.18.1.0/24 */
#define RELAY_ANY 0xc6120901u	/* 198.18.9.1, in dhcp4.relays */
#define HOST 0xc6120032u	/* 198.18.0.50, a host no relays list names */
#define NOW 1700000000

static const char lab_yaml[] =
	"server: { state_dir: /tmp/ib-policy-test }\n"
	"dhcp4:\n"
	"  interfaces: [srv0]\n"
	"  relays: [198.18.9.1]\n"
	"  subnets:\n"
	"    - subnet: 198.18.0.0/24\n"
	"      pools: [ { start: 198.18.0.100, end: 198.18.0.102 } ]\n"
	"      routers: [198.18.0.1]\n"
	"      dns: [198.18.0.1]\n"
	"      domain_search: [lab.example]\n"
	"      lease_time: 3600\n"
	"      relays: [198.18.0.254]\n"		/* test_take_over_offers' relay */
	"      reservations:\n"
	"        - { mac: \"52:54:00:00:00:10\", address: 198.18.0.10, hostname: node10 }\n"
	"        - { client_id: \"01:52:54:00:00:00:11\", address: 198.18.0.11 }\n"
	"        - { mac: \"52:54:00:00:00:12\", address: 198.18.0.12, boot_file: special.efi,\n"
	"            script_url: \"http://198.18.0.1:8080/special.ipxe\" }\n"
	"    - subnet: 198.18.1.0/24\n"
	"      pools: [ { start: 198.18.1.100, end: 198.18.1.199 } ]\n"
	"      routers: [198.18.1.1]\n"
	"      relays: [198.18.1.1]\n"
	"boot:\n"
	"  bios: undionly.kpxe\n"
	"  efi_x64: ipxe.efi\n"
	"  http_x64: http://198.18.0.1:8080/assets/ipxe.efi\n"
	"  ipxe_script: \"http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}\"\n";

/* A request to build: type, MAC, and optional fields. */
struct req {
	uint8_t type;
	uint8_t mac_last;		/* 52:54:00:00:00:XX */
	uint32_t ciaddr, giaddr;
	uint32_t requested, server_id;	/* 0 = absent */
	int arch;			/* -1 = absent */
	const char *vendor_class;
	const char *user_class;		/* sent raw, as iPXE does */
	const uint8_t *client_id;
	size_t client_id_len;
	const uint8_t *relay_info;	/* option 82 */
	size_t relay_info_len;
	const uint8_t *prl;
	size_t prl_len;
	int ifindex;			/* arrival interface */
	uint32_t src;			/* datagram source; 0: giaddr (the relay) */
	uint32_t subnet_sel;		/* option 118; 0 = absent */
};

struct fixture {
	struct ib_config *cfg;
	struct ib_d4_leases *leases;
	struct ib_lease_view view;
	int64_t now;
	struct ib_dhcp4_msg msg;
	struct ib_dhcp4_msg reply;
	struct ib_dhcp4_decision d;
};

static int setup(void **state)
{
	static struct fixture f;
	char err[IB_CONFIG_ERRLEN];

	memset(&f, 0, sizeof(f));
	if (ib_config_load_buffer("lab", lab_yaml, sizeof(lab_yaml) - 1, &f.cfg, err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (ib_d4_leases_new(&f.leases) < 0)
		return -1;
	f.now = NOW;
	ib_d4_leases_view(f.leases, &f.now, &f.view);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ib_d4_leases_free(f->leases);
	ib_config_free(f->cfg);
	return 0;
}

static void build_req(const struct req *r, struct ib_dhcp4_msg *ret)
{
	struct ib_dhcp4_out o;
	uint8_t buf[IB_DHCP4_MAX_LEN];
	size_t len;

	ib_dhcp4_out_init(&o);
	o.op = IB_DHCP4_BOOTREQUEST;
	o.htype = 1;
	o.hlen = 6;
	o.xid = 0x1234;
	o.ciaddr = r->ciaddr;
	o.giaddr = r->giaddr;
	memcpy(o.chaddr, (uint8_t[]){ 0x52, 0x54, 0, 0, 0, r->mac_last }, 6);
	ib_dhcp4_out_add_u8(&o, IB_OPT_MSG_TYPE, r->type);
	if (r->server_id)
		ib_dhcp4_out_add_u32(&o, IB_OPT_SERVER_ID, r->server_id);
	if (r->requested)
		ib_dhcp4_out_add_u32(&o, IB_OPT_REQUESTED_IP, r->requested);
	if (r->arch >= 0)
		ib_dhcp4_out_add_u16(&o, IB_OPT_CLIENT_ARCH, (uint16_t)r->arch);
	if (r->vendor_class)
		ib_dhcp4_out_add_str(&o, IB_OPT_VENDOR_CLASS, r->vendor_class);
	if (r->user_class)
		ib_dhcp4_out_add_str(&o, IB_OPT_USER_CLASS, r->user_class);
	if (r->client_id)
		ib_dhcp4_out_add(&o, IB_OPT_CLIENT_ID, r->client_id, r->client_id_len);
	if (r->prl)
		ib_dhcp4_out_add(&o, IB_OPT_PRL, r->prl, r->prl_len);
	if (r->relay_info)
		ib_dhcp4_out_add(&o, IB_OPT_RELAY_AGENT, r->relay_info, r->relay_info_len);
	if (r->subnet_sel)
		ib_dhcp4_out_add_u32(&o, IB_OPT_SUBNET_SELECTION, r->subnet_sel);
	assert_int_equal(ib_dhcp4_build(&o, 1500, buf, sizeof(buf), &len), 0);
	assert_int_equal(ib_dhcp4_parse(buf, len, ret), 0);
}

/* Decides r (arriving at server_addr) and re-parses the built reply. */
static void decide(struct fixture *f, const struct req *r, uint32_t server_addr,
		   bool proxy_port)
{
	struct ib_dhcp4_input in = {
		.cfg = f->cfg, .msg = &f->msg, .server_addr = server_addr,
		.to_us = r->ciaddr != 0, .proxy_port = proxy_port, .ifindex = r->ifindex,
		.now = f->now, .view = &f->view, .src_addr = r->src ? r->src : r->giaddr,
	};
	uint8_t buf[IB_DHCP4_MAX_LEN];
	size_t len;

	build_req(r, &f->msg);
	assert_int_equal(ib_dhcp4_decide(&in, &f->d), 0);
	assert_int_equal(ib_dhcp4_lay_out(&in, &f->d), 0);
	memset(&f->reply, 0, sizeof(f->reply));
	if (f->d.action == IB_D4_DROP || f->d.action == IB_D4_RELEASE ||
	    f->d.action == IB_D4_DECLINE)
		return;
	assert_int_equal(ib_dhcp4_build(&f->d.reply, f->d.max_len, buf, sizeof(buf), &len), 0);
	assert_int_equal(ib_dhcp4_parse(buf, len, &f->reply), 0);
}

static void assert_opt_str(const struct ib_dhcp4_msg *m, uint8_t code, const char *want)
{
	const uint8_t *p;
	size_t len;

	assert_true(ib_dhcp4_opt(m, code, &p, &len));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(p, want, len);
}

static void assert_no_opt(const struct ib_dhcp4_msg *m, uint8_t code)
{
	const uint8_t *p;
	size_t len;

	assert_false(ib_dhcp4_opt(m, code, &p, &len));
}

/* Boot file by client kind: one row per firmware. */
static void test_boot_files(void **state)
{
	static const struct {
		int arch;
		const char *vendor_class, *user_class, *want_file;
		uint32_t want_siaddr;
		const char *want_60;
	} rows[] = {
		{ 0, "PXEClient:Arch:00000:UNDI:002001", NULL, "undionly.kpxe", SERVER, "PXEClient" },
		{ 7, "PXEClient:Arch:00007:UNDI:003016", NULL, "ipxe.efi", SERVER, "PXEClient" },
		{ 9, "PXEClient:Arch:00009:UNDI:003016", NULL, "ipxe.efi", SERVER, "PXEClient" },
		{ 16, "HTTPClient:Arch:00016:UNDI:003001", NULL,
		  "http://198.18.0.1:8080/assets/ipxe.efi", 0, "HTTPClient" },
		{ 7, "PXEClient:Arch:00007:UNDI:003016", "iPXE",
		  "http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}", SERVER, NULL },
		{ -1, NULL, NULL, NULL, 0, NULL },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < IB_ARRAY_SIZE(rows); i++) {
		struct req r = { .type = IB_DHCP4_DISCOVER, .mac_last = (uint8_t)(0x40 + i),
				 .arch = rows[i].arch, .vendor_class = rows[i].vendor_class,
				 .user_class = rows[i].user_class };

		decide(f, &r, SERVER, false);
		assert_int_equal(f->d.action, IB_D4_OFFER);
		assert_int_equal(f->reply.siaddr, rows[i].want_siaddr);
		if (rows[i].want_file) {
			assert_string_equal((const char *)f->reply.file, rows[i].want_file);
			assert_opt_str(&f->reply, IB_OPT_BOOTFILE, rows[i].want_file);
		} else {
			assert_int_equal(f->reply.file[0], 0);
			assert_no_opt(&f->reply, IB_OPT_BOOTFILE);
		}
		if (rows[i].want_60)
			assert_opt_str(&f->reply, IB_OPT_VENDOR_CLASS, rows[i].want_60);
		else
			assert_no_opt(&f->reply, IB_OPT_VENDOR_CLASS);
	}
}

static void test_pxe_and_ipxe_options(void **state)
{
	struct fixture *f = *state;
	struct req pxe = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x50, .arch = 0,
			   .vendor_class = "PXEClient:Arch:00000:UNDI:002001" };
	struct req ipxe = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x51, .arch = 0,
			    .user_class = "iPXE" };
	const uint8_t *p;
	size_t len;

	decide(f, &pxe, SERVER, false);
	assert_opt_str(&f->reply, IB_OPT_TFTP_SERVER, "198.18.0.1");
	/* PXE_DISCOVERY_CONTROL = 8: take the boot file, no menu. */
	assert_int_equal(ib_dhcp4_subopt(&f->reply, IB_OPT_VENDOR, 6, &p, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(p[0], 8);
	assert_no_opt(&f->reply, IB_OPT_IPXE);

	decide(f, &ipxe, SERVER, false);
	assert_int_equal(ib_dhcp4_subopt(&f->reply, IB_OPT_IPXE, 176, &p, &len), 0);
	assert_int_equal(p[0], 1);
	assert_no_opt(&f->reply, IB_OPT_VENDOR);
}

static void test_reservations(void **state)
{
	struct fixture *f = *state;
	static const uint8_t cid11[] = { 1, 0x52, 0x54, 0, 0, 0, 0x11 };
	struct req by_mac = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x10, .arch = -1 };
	struct req by_cid = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x99, .arch = -1,
			      .client_id = cid11, .client_id_len = sizeof(cid11) };
	struct req override_fw = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x12, .arch = 7,
				   .vendor_class = "PXEClient:Arch:00007:UNDI:003016" };
	struct req override_ipxe = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x12, .arch = 7,
				     .user_class = "iPXE" };

	decide(f, &by_mac, SERVER, false);
	assert_int_equal(f->reply.yiaddr, 0xc612000au);
	assert_opt_str(&f->reply, IB_OPT_HOSTNAME, "node10");
	decide(f, &by_cid, SERVER, false);
	assert_int_equal(f->reply.yiaddr, 0xc612000bu);
	decide(f, &override_fw, SERVER, false);
	assert_string_equal((const char *)f->reply.file, "special.efi");
	decide(f, &override_ipxe, SERVER, false);
	assert_string_equal((const char *)f->reply.file, "http://198.18.0.1:8080/special.ipxe");
}

static void test_relay(void **state)
{
	struct fixture *f = *state;
	/* circuit-id "eth1", remote-id "sw1" */
	static const uint8_t rai[] = { 1, 4, 'e', 't', 'h', '1', 2, 3, 's', 'w', '1' };
	/* link selection names 198.18.0.0/24 although giaddr is on 198.18.1.0/24 */
	static const uint8_t rai_link[] = { 1, 1, 'x', 5, 4, 198, 18, 0, 0 };
	struct req r = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x60, .arch = -1,
			 .giaddr = RELAY, .relay_info = rai, .relay_info_len = sizeof(rai) };
	const uint8_t *p;
	size_t len;

	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_OFFER);
	assert_int_equal(f->d.dest, IB_D4_TO_RELAY);
	assert_int_equal(f->reply.yiaddr & 0xffffff00u, 0xc6120100u);
	assert_int_equal(f->reply.giaddr, RELAY);
	assert_true(ib_dhcp4_opt(&f->reply, IB_OPT_RELAY_AGENT, &p, &len));
	assert_int_equal(len, sizeof(rai));
	assert_memory_equal(p, rai, sizeof(rai));

	r.mac_last = 0x61;
	r.relay_info = rai_link;
	r.relay_info_len = sizeof(rai_link);
	r.src = RELAY_ANY;	/* 198.18.0.0/24 lists no relay: dhcp4.relays' */
	decide(f, &r, SERVER, false);
	assert_int_equal(f->reply.yiaddr & 0xffffff00u, 0xc6120000u);
	assert_int_equal(f->d.dest, IB_D4_TO_RELAY);
}

/* A relayed request is served only from a relay the config lists (issue #11). */
static void test_relay_allow_list(void **state)
{
	struct fixture *f = *state;
	static const uint8_t rai_link[] = { 5, 4, 198, 18, 0, 0 };
	static const struct { uint32_t src; const uint8_t *rai; uint32_t sel; bool served; }
	cases[] = {
		{ HOST, NULL, 0, false },		/* listed nowhere */
		{ SERVER + 1, NULL, 0, false },		/* a host on the served link */
		{ RELAY, NULL, 0, true },		/* the subnet's own relay */
		{ RELAY_ANY, NULL, 0, true },		/* dhcp4.relays: any subnet */
		{ RELAY, rai_link, 0, false },		/* another subnet's relay (82.5) */
		{ RELAY, NULL, 0xc6120000u, false },	/* ... (option 118) */
		{ RELAY_ANY, rai_link, 0, true },
		{ HOST, rai_link, 0, false },
	};

	for (size_t i = 0; i < IB_ARRAY_SIZE(cases); i++) {
		struct req r = { .type = IB_DHCP4_DISCOVER, .mac_last = (uint8_t)(0x70 + i),
				 .arch = -1, .giaddr = RELAY, .src = cases[i].src,
				 .relay_info = cases[i].rai,
				 .relay_info_len = cases[i].rai ? sizeof(rai_link) : 0,
				 .subnet_sel = cases[i].sel };

		decide(f, &r, SERVER, false);
		assert_int_equal(f->d.action, cases[i].served ? IB_D4_OFFER : IB_D4_DROP);
		assert_int_equal(f->d.relay_refused, !cases[i].served);
		if (!cases[i].served)
			assert_null(f->d.subnet);
	}
	/* REQUEST and INFORM alike: nothing from an unlisted relay */
	decide(f, &(struct req){ .type = IB_DHCP4_REQUEST, .mac_last = 0x80, .arch = -1,
				 .giaddr = RELAY, .src = HOST, .requested = 0xc6120164u },
	       SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
	assert_true(f->d.relay_refused);
	/* direct clients are not relays: served on the arrival link, and a
	 * subnet selection option of their own picks no other subnet */
	decide(f, &(struct req){ .type = IB_DHCP4_DISCOVER, .mac_last = 0x81, .arch = -1,
				 .src = HOST, .subnet_sel = 0xc6120100u }, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_OFFER);
	assert_false(f->d.relay_refused);
	assert_int_equal(f->d.address & 0xffffff00u, 0xc6120000u);
}

static void test_request_states(void **state)
{
	struct fixture *f = *state;
	struct req disc = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x70, .arch = -1 };
	struct req sel = { .type = IB_DHCP4_REQUEST, .mac_last = 0x70, .arch = -1,
			   .server_id = SERVER };
	struct req other = sel;
	struct req reboot_wrong = { .type = IB_DHCP4_REQUEST, .mac_last = 0x70, .arch = -1,
				    .requested = 0xc6130005u };
	struct req thief = { .type = IB_DHCP4_REQUEST, .mac_last = 0x71, .arch = -1 };
	struct req renew = { .type = IB_DHCP4_REQUEST, .mac_last = 0x70, .arch = -1 };
	struct ib_d4_key k;
	uint32_t a;

	decide(f, &disc, SERVER, false);
	a = f->reply.yiaddr;
	build_req(&disc, &f->msg);
	ib_d4_key_from_msg(&f->msg, &k);
	ib_d4_leases_set(f->leases, a, IB_D4_OFFERED, &k, NOW + 30);

	other.requested = a;
	other.server_id = 0xc6120002u;
	decide(f, &other, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
	assert_true(f->d.forget_offer);

	sel.requested = a;
	decide(f, &sel, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_ACK);
	assert_int_equal(f->reply.yiaddr, a);
	assert_int_equal(f->d.dest, IB_D4_TO_BROADCAST);
	ib_d4_leases_set(f->leases, a, IB_D4_BOUND, &k, NOW + 3600);

	/* INIT-REBOOT on the wrong network: NAK, broadcast. */
	decide(f, &reboot_wrong, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_NAK);
	assert_int_equal(f->d.dest, IB_D4_TO_BROADCAST);
	assert_int_equal(f->reply.yiaddr, 0);

	/* Another client asking for that address is refused. */
	thief.requested = a;
	decide(f, &thief, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_NAK);

	/* RENEWING: ciaddr, unicast back to it. */
	renew.ciaddr = a;
	decide(f, &renew, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_ACK);
	assert_int_equal(f->d.dest, IB_D4_TO_CIADDR);
	assert_string_equal(f->d.reason, "renewing");
}

static void test_inform_release_decline(void **state)
{
	struct fixture *f = *state;
	struct req inform = { .type = IB_DHCP4_INFORM, .mac_last = 0x80, .arch = -1,
			      .ciaddr = 0xc6120032u };
	struct req release = { .type = IB_DHCP4_RELEASE, .mac_last = 0x81, .arch = -1,
			       .ciaddr = 0xc6120065u, .server_id = SERVER };
	struct req decline = { .type = IB_DHCP4_DECLINE, .mac_last = 0x82, .arch = -1,
			       .requested = 0xc6120064u, .server_id = SERVER };
	struct ib_d4_key k;
	uint32_t lt;

	decide(f, &inform, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_INFORM);
	assert_int_equal(f->reply.yiaddr, 0);
	assert_int_equal(ib_dhcp4_opt_u32(&f->reply, IB_OPT_LEASE_TIME, &lt), -ENOENT);
	assert_int_equal(f->d.dest, IB_D4_TO_CIADDR);

	/* A RELEASE of an address the client does not hold is ignored. */
	decide(f, &release, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);

	/* Only the holder may decline; anyone else is ignored. */
	decide(f, &decline, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
	ib_d4_key_from_msg(&f->msg, &k);
	ib_d4_leases_set(f->leases, 0xc6120064u, IB_D4_BOUND, &k, NOW + 3600);
	decide(f, &decline, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DECLINE);
	assert_int_equal(f->d.address, 0xc6120064u);
	decline.mac_last = 0x83;
	decide(f, &decline, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
}

static void test_prl_honoured(void **state)
{
	struct fixture *f = *state;
	static const uint8_t prl_min[] = { 1, 3 };
	static const uint8_t prl_all[] = { 1, 3, 6, 119 };
	struct req r = { .type = IB_DHCP4_DISCOVER, .mac_last = 0x90, .arch = -1,
			 .prl = prl_min, .prl_len = sizeof(prl_min) };
	char names[256];
	const uint8_t *p;
	size_t len;

	decide(f, &r, SERVER, false);
	assert_no_opt(&f->reply, IB_OPT_DNS);
	assert_no_opt(&f->reply, IB_OPT_DOMAIN_SEARCH);
	r.prl = prl_all;
	r.prl_len = sizeof(prl_all);
	decide(f, &r, SERVER, false);
	assert_true(ib_dhcp4_opt(&f->reply, IB_OPT_DNS, &p, &len));
	assert_true(ib_dhcp4_opt(&f->reply, IB_OPT_DOMAIN_SEARCH, &p, &len));
	assert_int_equal(ib_dhcp4_decode_search(p, len, names, sizeof(names)), 0);
	assert_non_null(strstr(names, "lab.example"));
}

static void test_pool_exhaustion(void **state)
{
	struct fixture *f = *state;
	struct ib_d4_key k;

	/* Fill 198.18.0.100-102 with other clients. */
	for (uint8_t i = 0; i < 3; i++) {
		struct req r = { .type = IB_DHCP4_DISCOVER, .mac_last = (uint8_t)(0xa0 + i), .arch = -1 };

		decide(f, &r, SERVER, false);
		assert_int_equal(f->d.action, IB_D4_OFFER);
		ib_d4_key_from_msg(&f->msg, &k);
		ib_d4_leases_set(f->leases, f->d.address, IB_D4_BOUND, &k, NOW + 3600);
	}
	struct req late = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xaf, .arch = -1 };

	decide(f, &late, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
	assert_string_equal(f->d.reason, "pool exhausted");
	/* Expired bindings are free again. */
	f->now = NOW + 7200;
	decide(f, &late, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_OFFER);
	f->now = NOW;
}

static void test_nak_from_ack(void **state)
{
	struct fixture *f = *state;
	static const uint8_t rai[] = { 1, 2, 'p', '1' };
	struct req r = { .type = IB_DHCP4_REQUEST, .mac_last = 0xb0, .arch = -1,
			 .requested = 0xc6120164u, .giaddr = RELAY,
			 .relay_info = rai, .relay_info_len = sizeof(rai) };
	uint8_t buf[IB_DHCP4_MAX_LEN];
	size_t len;

	struct ib_dhcp4_input in = {
		.cfg = f->cfg, .msg = &f->msg, .server_addr = SERVER, .now = f->now,
		.view = &f->view,
	};

	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_ACK);
	/* decide, commit (refused), then lay out: the NAK is laid out afresh */
	ib_dhcp4_refuse(&in, &f->d, "address is bound to another client");
	assert_int_equal(ib_dhcp4_lay_out(&in, &f->d), 0);
	assert_int_equal(ib_dhcp4_build(&f->d.reply, f->d.max_len, buf, sizeof(buf), &len), 0);
	assert_int_equal(ib_dhcp4_parse(buf, len, &f->reply), 0);
	assert_int_equal(f->reply.type, IB_DHCP4_NAK);
	assert_int_equal(f->reply.yiaddr, 0);
	assert_int_equal(f->reply.flags & IB_DHCP4_FLAG_BROADCAST, IB_DHCP4_FLAG_BROADCAST);
	assert_true(ib_dhcp4_opt(&f->reply, IB_OPT_RELAY_AGENT, &(const uint8_t *){ 0 }, &len));
	assert_int_equal(f->d.dest, IB_D4_TO_RELAY);
}

/* The store is down, the client holds the address for 100 s more: the ACK
 * is for those 100 s, T1 and T2 cut with it; a longer stored lease never
 * lengthens the subnet's. */
static void test_keep_until(void **state)
{
	struct fixture *f = *state;
	struct req r = { .type = IB_DHCP4_REQUEST, .mac_last = 0xb0, .arch = -1,
			 .requested = 0xc6120164u, .giaddr = RELAY };
	struct ib_dhcp4_input in = {
		.cfg = f->cfg, .msg = &f->msg, .server_addr = SERVER, .now = f->now,
		.view = &f->view,
	};
	uint8_t buf[IB_DHCP4_MAX_LEN];
	uint32_t lt, t1, t2, full;
	size_t len;

	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_ACK);
	full = f->d.lease_time;
	assert_true(full > 100);
	ib_dhcp4_keep_until(&f->d, f->now, f->now + 100);
	assert_int_equal(f->d.action, IB_D4_ACK);
	assert_int_equal(ib_dhcp4_lay_out(&in, &f->d), 0);
	assert_int_equal(ib_dhcp4_build(&f->d.reply, f->d.max_len, buf, sizeof(buf), &len), 0);
	assert_int_equal(ib_dhcp4_parse(buf, len, &f->reply), 0);
	assert_int_equal(f->reply.type, IB_DHCP4_ACK);
	assert_int_equal(f->reply.yiaddr, 0xc6120164u);
	assert_int_equal(ib_dhcp4_opt_u32(&f->reply, IB_OPT_LEASE_TIME, &lt), 0);
	assert_int_equal(ib_dhcp4_opt_u32(&f->reply, IB_OPT_T1, &t1), 0);
	assert_int_equal(ib_dhcp4_opt_u32(&f->reply, IB_OPT_T2, &t2), 0);
	assert_int_equal(lt, 100);
	assert_true(t1 <= 50 && t1 < t2 && t2 <= 87);

	decide(f, &r, SERVER, false);
	ib_dhcp4_keep_until(&f->d, f->now, f->now + 10 * (int64_t)full);
	assert_int_equal(f->d.lease_time, full);
}

/* Firmware sends no client-id, iPXE sends 01:<mac>: one machine, one lease. */
static void test_chainload_keeps_one_lease(void **state)
{
	struct fixture *f = *state;
	static const uint8_t cid_mac[] = { 1, 0x52, 0x54, 0, 0, 0, 0xd0 };
	static const uint8_t cid_other[] = { 0xff, 1, 2, 3, 4 };
	struct req fw = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xd0, .arch = 7,
			  .vendor_class = "PXEClient:Arch:00007:UNDI:003016" };
	struct req ipxe = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xd0, .arch = 7,
			    .user_class = "iPXE", .client_id = cid_mac,
			    .client_id_len = sizeof(cid_mac) };
	struct req os = ipxe;
	struct ib_d4_key k;
	uint32_t a;

	decide(f, &fw, SERVER, false);
	a = f->d.address;
	ib_d4_key_from_msg(&f->msg, &k);
	ib_d4_leases_set(f->leases, a, IB_D4_BOUND, &k, NOW + 3600);
	decide(f, &ipxe, SERVER, false);
	assert_int_equal(f->d.address, a);
	assert_string_equal(f->d.reason, "client's previous address");
	/* A real client-id (DUID-style) is another identity. */
	os.client_id = cid_other;
	os.client_id_len = sizeof(cid_other);
	os.user_class = NULL;
	decide(f, &os, SERVER, false);
	assert_int_not_equal(f->d.address, a);
}

static void test_proxy_mode(void **state)
{
	struct fixture *f = *state;
	struct req pxe = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xc0, .arch = 7,
			   .vendor_class = "PXEClient:Arch:00007:UNDI:003016" };
	struct req pxe_req = pxe;
	struct req plain = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xc1, .arch = -1 };

	f->cfg->dhcp4.mode = IB_DHCP4_MODE_PROXY;
	decide(f, &pxe, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_PROXY);
	assert_int_equal(f->reply.type, IB_DHCP4_OFFER);
	assert_int_equal(f->reply.yiaddr, 0);
	assert_opt_str(&f->reply, IB_OPT_VENDOR_CLASS, "PXEClient");
	assert_string_equal((const char *)f->reply.file, "ipxe.efi");

	pxe_req.type = IB_DHCP4_REQUEST;
	pxe_req.ciaddr = 0xc6120099u;
	decide(f, &pxe_req, SERVER, true);
	assert_int_equal(f->d.action, IB_D4_PROXY);
	assert_int_equal(f->reply.type, IB_DHCP4_ACK);
	assert_int_equal(f->d.dest, IB_D4_TO_SOURCE);

	decide(f, &plain, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
	/* A REQUEST on port 67 belongs to the network's DHCP server. */
	decide(f, &pxe_req, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
	f->cfg->dhcp4.mode = IB_DHCP4_MODE_SERVER;
}

/*
 * Taking over OFFER holds (issue #11), in the 3-address pool .100-.102,
 * where one source's share (50%) is one hold.  Sources: links 1, 2 and 3
 * by ifindex, and the relay 198.18.0.254 (giaddr on the first subnet).
 */
enum { L1 = 1, L2, L3, RELAY0 };
#define A(last) (0xc6120000u | (last))
#define ANY_FREE 1u		/* an address of the pool no case holds (next-fit moves on) */

struct take_case {
	const char *name;
	struct { uint32_t addr; uint8_t mac_last; int src; int64_t since; } held[3];
	struct { uint32_t addr; uint8_t mac_last; } bound[3];
	uint8_t mac_last;		/* the asking client (default 0xc0) */
	int src;			/* where it asks from */
	uint32_t requested;		/* option 50, or 0 */
	uint32_t want;			/* offered, ANY_FREE, or 0: dropped, pool exhausted */
	enum ib_d4_take take;
};

static const struct take_case take_cases[] = {
	{ "a free pool: next-fit", .src = L1, .want = ANY_FREE },
	{ "a source at its share takes its own oldest OFFER",
	  .held = { { A(101), 0xa1, L1, NOW - 5 } }, .src = L1, .want = A(101),
	  .take = IB_D4_TAKE_CAP },
	{ "... even when the client asks for a free address",
	  .held = { { A(101), 0xa1, L1, NOW - 5 } }, .src = L1, .requested = A(102),
	  .want = A(101), .take = IB_D4_TAKE_CAP },
	{ "another link gets a free address",
	  .held = { { A(101), 0xa1, L1, NOW - 5 } }, .src = L2, .want = ANY_FREE },
	{ "a relay is a source of its own",
	  .held = { { A(101), 0xa1, RELAY0, NOW - 5 } }, .src = RELAY0, .want = A(101),
	  .take = IB_D4_TAKE_CAP },
	{ "pool short: the subnet's oldest OFFER, whoever's",
	  .held = { { A(100), 0xa1, L1, NOW - 2 }, { A(101), 0xa2, L2, NOW - 9 } },
	  .bound = { { A(102), 0xb1 } }, .src = L3, .want = A(101), .take = IB_D4_TAKE_SHORT },
	{ "bindings are never taken",
	  .bound = { { A(100), 0xb1 }, { A(101), 0xb2 }, { A(102), 0xb3 } }, .src = L1 },
	{ "its own OFFER again, even at the share",
	  .held = { { A(102), 0xc0, L1, NOW - 5 } }, .src = L1, .want = A(102) },
	{ "the reserved machine gets its address in a pool full of OFFERs",
	  .held = { { A(100), 0xa1, L1, NOW - 2 }, { A(101), 0xa2, L2, NOW - 3 },
		    { A(102), 0xa3, L3, NOW - 4 } }, .mac_last = 0x10, .src = L1,
	  .want = A(10) },
	{ "an expired OFFER is free, not taken",
	  .held = { { A(100), 0xa1, L1, NOW - 40 } }, .requested = A(100), .src = L1,
	  .want = A(100) },
};

static void test_take_over_offers(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < IB_ARRAY_SIZE(take_cases); i++) {
		const struct take_case *t = &take_cases[i];
		struct req r = { .type = IB_DHCP4_DISCOVER, .arch = -1,
				 .mac_last = t->mac_last ? t->mac_last : 0xc0,
				 .requested = t->requested,
				 .ifindex = t->src == RELAY0 ? 9 : t->src,
				 .giaddr = t->src == RELAY0 ? A(254) : 0 };
		uint64_t src = t->src == RELAY0 ? ib_ledger_source_relay4(A(254)) :
			       ib_ledger_source_link(t->src);
		struct ib_d4_key k;

		print_message("  %s\n", t->name);
		ib_d4_leases_clear(f->leases);
		for (size_t j = 0; j < 3 && t->held[j].addr; j++) {
			struct req h = { .type = IB_DHCP4_DISCOVER, .mac_last = t->held[j].mac_last };
			uint64_t hs = t->held[j].src == RELAY0 ? ib_ledger_source_relay4(A(254)) :
				      ib_ledger_source_link(t->held[j].src);

			build_req(&h, &f->msg);
			ib_d4_key_from_msg(&f->msg, &k);
			assert_int_equal(ib_d4_leases_offer(f->leases, t->held[j].addr, &k,
							    A(0), hs, t->held[j].since,
							    t->held[j].since + 30), 0);
		}
		for (size_t j = 0; j < 3 && t->bound[j].addr; j++) {
			struct req b = { .type = IB_DHCP4_DISCOVER, .mac_last = t->bound[j].mac_last };

			build_req(&b, &f->msg);
			ib_d4_key_from_msg(&f->msg, &k);
			ib_d4_leases_set(f->leases, t->bound[j].addr, IB_D4_BOUND, &k, NOW + 3600);
		}
		decide(f, &r, SERVER, false);
		if (!t->want) {
			assert_int_equal(f->d.action, IB_D4_DROP);
			assert_string_equal(f->d.reason, "pool exhausted");
			assert_true(f->d.exhausted);
			continue;
		}
		if (t->want == ANY_FREE && f->d.action == IB_D4_OFFER &&
		    f->d.address >= A(100) && f->d.address <= A(102))
			for (size_t j = 0; j < 3; j++)
				assert_int_not_equal(f->d.address, t->held[j].addr);
		else if (f->d.action != IB_D4_OFFER || f->d.address != t->want)
			fail_msg("%s: %s %#x (%s)", t->name, f->d.action == IB_D4_OFFER ?
				 "offered" : "not offered", f->d.address, f->d.reason);
		assert_int_equal(f->d.take, t->take);
		assert_int_equal(f->d.source, src);
		assert_false(f->d.exhausted);
	}
	ib_d4_leases_clear(f->leases);
}

/*
 * A client that selected our OFFER gets the address even if another
 * client's OFFER holds it now (its own was taken over meanwhile); other
 * states do not take an address offered to another, and nobody takes a
 * bound one.
 */
static void test_request_supersedes_offer(void **state)
{
	static const struct {
		const char *name;
		bool selecting;
		bool bound;		/* the other client's is a binding, not an OFFER */
		enum ib_dhcp4_action want;
	} rows[] = {
		{ "selecting over another's OFFER: ACK", true, false, IB_D4_ACK },
		{ "init-reboot over another's OFFER: NAK", false, false, IB_D4_NAK },
		{ "selecting over another's binding: NAK", true, true, IB_D4_NAK },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < IB_ARRAY_SIZE(rows); i++) {
		struct req other = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xd1 };
		struct req r = { .type = IB_DHCP4_REQUEST, .mac_last = 0xd2, .arch = -1,
				 .requested = A(101), .server_id = rows[i].selecting ? SERVER : 0 };
		struct ib_d4_key k;

		print_message("  %s\n", rows[i].name);
		ib_d4_leases_clear(f->leases);
		build_req(&other, &f->msg);
		ib_d4_key_from_msg(&f->msg, &k);
		if (rows[i].bound)
			ib_d4_leases_set(f->leases, A(101), IB_D4_BOUND, &k, NOW + 3600);
		else
			ib_d4_leases_offer(f->leases, A(101), &k, A(0),
					   ib_ledger_source_link(1), NOW, NOW + 30);
		decide(f, &r, SERVER, false);
		assert_int_equal(f->d.action, rows[i].want);
		assert_int_equal(f->d.superseded, rows[i].want == IB_D4_ACK);
	}
	ib_d4_leases_clear(f->leases);
}

/*
 * A daemon restarted since its OFFER (its holds are gone: an empty
 * cache) gets the client's SELECTING REQUEST naming its server id.  RFC
 * 2131 4.3.2: the request is ours, so ACK an address free for the client
 * and NAK one that is not, authoritative or not; silence left the client
 * to its retransmissions (4 s, then 8, then 16).  A request that names
 * no server stays unanswered by a server that is not authoritative and
 * has no record of the client.
 */
static void test_selecting_without_offer(void **state)
{
	static const struct {
		const char *name;
		bool authoritative;
		uint32_t server_id;	/* 0: INIT-REBOOT */
		bool taken;		/* the address is bound to another client */
		enum ib_dhcp4_action want;
	} rows[] = {
		{ "selecting, free address: ACK", true, SERVER, false, IB_D4_ACK },
		{ "selecting, not authoritative: ACK", false, SERVER, false, IB_D4_ACK },
		{ "selecting, taken: NAK", true, SERVER, true, IB_D4_NAK },
		{ "selecting, taken, not authoritative: NAK", false, SERVER, true, IB_D4_NAK },
		{ "init-reboot, no record, not authoritative: silent", false, 0, false,
		  IB_D4_DROP },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < IB_ARRAY_SIZE(rows); i++) {
		struct req other = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xe1 };
		struct req r = { .type = IB_DHCP4_REQUEST, .mac_last = 0xe2, .arch = -1,
				 .requested = A(101), .server_id = rows[i].server_id };
		struct ib_d4_key k;

		print_message("  %s\n", rows[i].name);
		ib_d4_leases_clear(f->leases);
		f->cfg->dhcp4.authoritative = rows[i].authoritative;
		build_req(&other, &f->msg);
		ib_d4_key_from_msg(&f->msg, &k);
		if (rows[i].taken)
			ib_d4_leases_set(f->leases, A(101), IB_D4_BOUND, &k, NOW + 3600);
		decide(f, &r, SERVER, false);
		assert_int_equal(f->d.action, rows[i].want);
		if (rows[i].want == IB_D4_ACK)
			assert_int_equal(f->reply.yiaddr, A(101));
		if (rows[i].want != IB_D4_DROP)
			assert_int_equal(f->reply.type, rows[i].want == IB_D4_ACK ? IB_DHCP4_ACK :
					 IB_DHCP4_NAK);
	}
	f->cfg->dhcp4.authoritative = true;
	ib_d4_leases_clear(f->leases);
}

/* The reply's option 54. */
static uint32_t reply_sid(const struct fixture *f)
{
	uint32_t sid = 0;

	assert_int_equal(ib_dhcp4_opt_ip(&f->reply, IB_OPT_SERVER_ID, &sid), 0);
	return sid;
}

/*
 * RFC 5107: a listed relay's Server Identifier Override (82.11) is the
 * server identifier of the replies, and a REQUEST, RENEW or RELEASE
 * naming it is ours, whichever daemon behind the relay offered; a
 * client's own option 82 or a malformed sub-option changes nothing.
 */
static void test_server_id_override(void **state)
{
	static const uint8_t sio[] = { 11, 4, 198, 18, 1, 1 };		/* RELAY */
	static const uint8_t bad_len[] = { 11, 3, 198, 18, 1 };
	static const uint8_t bad_mcast[] = { 11, 4, 224, 0, 0, 1 };
	static const uint8_t bad_zero[] = { 11, 4, 0, 0, 0, 0 };
	static const uint8_t bad_loop[] = { 11, 4, 127, 0, 0, 1 };
	static const struct { const uint8_t *rai; size_t len; uint32_t giaddr, want; } ids[] = {
		{ sio, sizeof(sio), RELAY, RELAY },
		{ sio, sizeof(sio), 0, SERVER },		/* a client's option 82 */
		{ bad_len, sizeof(bad_len), RELAY, SERVER },
		{ bad_mcast, sizeof(bad_mcast), RELAY, SERVER },
		{ bad_zero, sizeof(bad_zero), RELAY, SERVER },
		{ bad_loop, sizeof(bad_loop), RELAY, SERVER },
	};
	struct fixture *f = *state;
	struct req r = { .type = IB_DHCP4_DISCOVER, .mac_last = 0xf0, .arch = 7,
			 .vendor_class = "PXEClient:Arch:00007:UNDI:003016" };
	struct ib_d4_key k;
	uint32_t own, x = 0xc6120196u;	/* 198.18.1.150, offered by the other daemon */
	const uint8_t *p;
	size_t len;

	for (size_t i = 0; i < IB_ARRAY_SIZE(ids); i++) {
		r.giaddr = ids[i].giaddr;
		r.relay_info = ids[i].rai;
		r.relay_info_len = ids[i].len;
		decide(f, &r, SERVER, false);
		assert_int_equal(f->d.action, IB_D4_OFFER);
		assert_int_equal(reply_sid(f), ids[i].want);
		assert_int_equal(f->reply.siaddr, SERVER);	/* next-server stays ours */
	}
	assert_true(ib_dhcp4_opt(&f->reply, IB_OPT_RELAY_AGENT, &p, &len));

	/* this daemon holds its own OFFER for the client; the client took
	 * the other daemon's, x, and its REQUEST names the relay: ACK x */
	r = (struct req){ .type = IB_DHCP4_DISCOVER, .mac_last = 0xf1, .arch = -1,
			  .giaddr = RELAY, .relay_info = sio, .relay_info_len = sizeof(sio) };
	decide(f, &r, SERVER, false);
	own = f->d.address;
	assert_int_not_equal(own, x);
	ib_d4_key_from_msg(&f->msg, &k);
	ib_d4_leases_offer(f->leases, own, &k, 0xc6120100u, ib_ledger_source_relay4(RELAY),
			   NOW, NOW + 30);
	r.type = IB_DHCP4_REQUEST;
	r.server_id = RELAY;
	r.requested = x;
	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_ACK);
	assert_int_equal(f->reply.yiaddr, x);
	assert_int_equal(reply_sid(f), RELAY);
	/* its binding ends the client's own OFFER (the shell's apply_cache) */
	ib_d4_leases_set(f->leases, x, IB_D4_BOUND, &k, NOW + 3600);
	assert_true(f->view.is_free(f->view.ctx, own, &f->msg));
	assert_int_equal(f->view.holds(f->view.ctx, ib_config_subnet_for(f->cfg, x),
				       ib_ledger_source_relay4(RELAY)), 0);

	/* our own address still names us; without 82.11 the relay does not */
	r.server_id = SERVER;
	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_ACK);
	r.server_id = RELAY;
	r.relay_info = NULL;
	r.relay_info_len = 0;
	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_DROP);
	assert_true(f->d.forget_offer);

	/* RENEWING through the relay: ACK with the relay as server id */
	r = (struct req){ .type = IB_DHCP4_REQUEST, .mac_last = 0xf1, .arch = -1, .ciaddr = x,
			  .giaddr = RELAY, .relay_info = sio, .relay_info_len = sizeof(sio) };
	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_ACK);
	assert_int_equal(reply_sid(f), RELAY);
	/* RELEASE naming the relay is ours */
	r.type = IB_DHCP4_RELEASE;
	r.server_id = RELAY;
	decide(f, &r, SERVER, false);
	assert_int_equal(f->d.action, IB_D4_RELEASE);
	ib_d4_leases_clear(f->leases);
}

/*
 * Another DHCP server behind the same RFC 5107 relay offered the client an
 * address this daemon cannot give (outside its pools): the client's
 * REQUEST names the relay, which names this daemon too.  Not
 * authoritative: silent (the NAK would race the other server's ACK);
 * authoritative: NAK.  Either way this daemon's own OFFER to the client
 * is over.  The same REQUEST naming our own address is NAKed either way.
 */
static void test_server_id_override_not_authoritative(void **state)
{
	static const uint8_t sio[] = { 11, 4, 198, 18, 1, 1 };		/* RELAY */
	static const struct {
		bool authoritative;
		uint32_t server_id;
		enum ib_dhcp4_action want;
	} rows[] = {
		{ false, RELAY, IB_D4_DROP },
		{ true, RELAY, IB_D4_NAK },
		{ false, SERVER, IB_D4_NAK },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < IB_ARRAY_SIZE(rows); i++) {
		struct req r = { .type = IB_DHCP4_REQUEST, .mac_last = 0xf2, .arch = -1,
				 .giaddr = RELAY, .relay_info = sio,
				 .relay_info_len = sizeof(sio),
				 .server_id = rows[i].server_id,
				 .requested = 0xc6120132u };	/* 198.18.1.50: no pool */

		f->cfg->dhcp4.authoritative = rows[i].authoritative;
		decide(f, &r, SERVER, false);
		assert_int_equal(f->d.action, rows[i].want);
		assert_true(f->d.forget_offer);
	}
	f->cfg->dhcp4.authoritative = true;
	ib_d4_leases_clear(f->leases);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_take_over_offers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_supersedes_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selecting_without_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_id_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_id_override_not_authoritative, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_boot_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pxe_and_ipxe_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_allow_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inform_release_decline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prl_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nak_from_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_until, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chainload_keeps_one_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_mode, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
