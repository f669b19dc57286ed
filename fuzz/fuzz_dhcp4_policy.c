/*
 * libFuzzer target for the DHCPv4 decision path: a datagram that parses is
 * decided against the lab config (examples/lab.yaml's DHCPv4 and boot
 * sections) with the real lease cache holding a few bindings, as if it had
 * arrived broadcast and unicast, and against a proxyDHCP config on ports 67
 * and 4011.  Every reply is laid out and must parse back as a BOOTREPLY of
 * the request's xid and chaddr, of the type the action says, within the
 * client's maximum size; an OFFER or ACK carries an address of its subnet,
 * and an ACK turned into a NAK (a refused commit) must do the same.
 * An OFFER is then held as the shell holds it and the same request decided
 * again: it must be offered the same address.  Each way it arrives from
 * the relay the relayed subnet lists and from a host no relays list names:
 * a relayed request (giaddr) from the latter is dropped, relay_refused.
 * Every reply names this server, or the relay whose Server Identifier
 * Override (RFC 5107, 82.11) asked for it.  Any broken property aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dhcp4/dhcp4_codec.h"
#include "dhcp4/dhcp4_leases.h"
#include "dhcp4/dhcp4_policy.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define NOW 1700000000
#define SERVER 0xc6120001u		/* 198.18.0.1, on the lab's first link */
#define RELAY 0xc6120101u		/* 198.18.1.1, the relayed subnet's relay */
#define HOST 0xc6120032u		/* 198.18.0.50, listed nowhere */
#define UDP_IP_OVERHEAD 28

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* examples/lab.yaml, DHCPv4 and boot parts, with a reservation for every
 * boot override and a small pool so exhaustion is reachable. */
static const char lab[] =
	"server: { state_dir: /tmp/ib-fuzz-policy4 }\n"
	"dhcp4:\n"
	"  interfaces: [srv0]\n"
	"  authoritative: true\n"
	"  subnets:\n"
	"    - subnet: 198.18.0.0/24\n"
	"      pools: [ { start: 198.18.0.100, end: 198.18.0.103 } ]\n"
	"      routers: [198.18.0.1]\n"
	"      dns: [198.18.0.1]\n"
	"      ntp: [198.18.0.1]\n"
	"      domain_name: lab.example\n"
	"      domain_search: [lab.example, example]\n"
	"      mtu: 1500\n"
	"      routes: [ { destination: 198.19.0.0/16, gateway: 198.18.0.1 } ]\n"
	"      lease_time: 3600\n"
	"      reservations:\n"
	"        - { mac: \"52:54:00:00:00:10\", address: 198.18.0.10, hostname: node10 }\n"
	"        - { client_id: \"01:52:54:00:00:00:11\", address: 198.18.0.11, hostname: node11 }\n"
	"        - { mac: \"52:54:00:00:00:12\", address: 198.18.0.12, boot_file: special.efi,\n"
	"            script_url: \"http://198.18.0.1:8080/special.ipxe\" }\n"
	"    - subnet: 198.18.1.0/24\n"
	"      pools: [ { start: 198.18.1.100, end: 198.18.1.199 } ]\n"
	"      routers: [198.18.1.1]\n"
	"      relays: [198.18.1.1]\n"
	"      lease_time: 3600\n"
	"    - subnet: 198.18.42.0/24\n"
	"      pools: [ { start: 198.18.42.100, end: 198.18.42.100 } ]\n"
	"boot:\n"
	"  bios: undionly.kpxe\n"
	"  efi_x64: ipxe.efi\n"
	"  efi_arm64: ipxe-arm64.efi\n"
	"  http_x64: http://198.18.0.1:8080/assets/ipxe.efi\n"
	"  ipxe_script: \"http://198.18.0.1:8080/boot.ipxe?mac=${net0/mac}&uuid=${uuid}\"\n";

static const char proxy[] =
	"server: { state_dir: /tmp/ib-fuzz-policy4 }\n"
	"dhcp4:\n"
	"  mode: proxy\n"
	"  interfaces: [srv0]\n"
	"boot:\n"
	"  bios: undionly.kpxe\n"
	"  efi_x64: ipxe.efi\n"
	"  http_x64: http://198.18.0.1:8080/assets/ipxe.efi\n"
	"  ipxe_script: \"http://198.18.0.1:8080/boot.ipxe\"\n";

static struct ib_config *cfg_lab, *cfg_proxy;
static struct ib_d4_leases *cache;
static struct ib_lease_view view;
static int64_t now = NOW;

/* A client key from a MAC 52:54:00:00:00:<last>, as the cache keys it. */
static void key_for(uint8_t last, struct ib_d4_key *k)
{
	static const uint8_t hw[] = { 'H', 1, 0x52, 0x54, 0, 0, 0, 0 };

	memcpy(k->b, hw, sizeof(hw));
	k->b[sizeof(hw) - 1] = last;
	k->len = sizeof(hw);
}

/* The cache as a running server might have it: a binding, an expired
 * binding, a held offer and a quarantined address. */
static void seed_cache(void)
{
	struct ib_d4_key k;

	ib_d4_leases_clear(cache);
	key_for(0x20, &k);
	ib_d4_leases_set(cache, 0xc6120064u, IB_D4_BOUND, &k, NOW + 1800);	/* .100 */
	key_for(0x21, &k);
	ib_d4_leases_set(cache, 0xc6120065u, IB_D4_BOUND, &k, NOW - 10);	/* .101 expired */
	key_for(0x22, &k);
	ib_d4_leases_set(cache, 0xc6120066u, IB_D4_OFFERED, &k, NOW + 30);	/* .102 */
	key_for(0x23, &k);
	ib_d4_leases_set(cache, 0xc6120067u, IB_D4_QUARANTINED, &k, NOW + 600); /* .103 */
}

static void init(void)
{
	CHECK(ib_config_load_buffer("fuzz-lab.yaml", lab, sizeof(lab) - 1, &cfg_lab, NULL) == 0);
	CHECK(ib_config_load_buffer("fuzz-proxy.yaml", proxy, sizeof(proxy) - 1, &cfg_proxy,
				    NULL) == 0);
	CHECK(ib_d4_leases_new(&cache) == 0);
	ib_d4_leases_view(cache, &now, &view);
}

/* The message type a reply of action a carries (0: no reply). */
static uint8_t reply_type(const struct ib_dhcp4_decision *d)
{
	switch (d->action) {
	case IB_D4_OFFER: return IB_DHCP4_OFFER;
	case IB_D4_ACK: return IB_DHCP4_ACK;
	case IB_D4_NAK: return IB_DHCP4_NAK;
	case IB_D4_INFORM: return IB_DHCP4_ACK;
	case IB_D4_PROXY: return 0xff;		/* OFFER or ACK */
	default: return 0;
	}
}

/* A relayed request's RFC 5107 Server Identifier Override (82.11) that a
 * server (not proxy) may name its replies by: an address a client can
 * send to (not 0, 127/8, class D/E); else 0. */
static uint32_t override_of(const struct ib_dhcp4_input *in)
{
	const struct ib_dhcp4_msg *m = in->msg;
	const uint8_t *p;
	size_t len;
	uint32_t a;

	if (in->cfg->dhcp4.mode == IB_DHCP4_MODE_PROXY || !m->giaddr ||
	    ib_dhcp4_subopt(m, IB_OPT_RELAY_AGENT, IB_RAI_SERVER_ID_OVERRIDE, &p, &len) < 0 ||
	    len != 4)
		return 0;
	a = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return a == 0 || (a >> 24) == 127 || a >= 0xe0000000u ? 0 : a;
}

/* Lays out d's reply and parses it back; returns the parsed type. */
static uint8_t check_reply(const struct ib_dhcp4_input *in, const struct ib_dhcp4_decision *d)
{
	const struct ib_dhcp4_msg *m = in->msg;
	static uint8_t buf[IB_DHCP4_MAX_LEN];
	static struct ib_dhcp4_msg back;
	size_t len, limit = (d->max_len > 576 ? d->max_len : 576) - UDP_IP_OVERHEAD;
	uint32_t sid;

	CHECK(ib_dhcp4_build(&d->reply, d->max_len, buf, sizeof(buf), &len) == 0);
	CHECK(len <= limit && len <= IB_DHCP4_MAX_LEN);
	CHECK(ib_dhcp4_parse(buf, len, &back) == 0);
	CHECK(back.op == IB_DHCP4_BOOTREPLY && back.xid == m->xid);
	CHECK(back.htype == m->htype && back.hlen == m->hlen);
	CHECK(memcmp(back.chaddr, m->chaddr, sizeof(m->chaddr)) == 0);
	CHECK(back.giaddr == m->giaddr);
	/* RFC 2131 4.3.1: every reply names its server: us, or the relay
	 * whose 82.11 asked for it (RFC 5107) */
	CHECK(ib_dhcp4_opt_ip(&back, IB_OPT_SERVER_ID, &sid) == 0);
	CHECK(sid == in->server_addr || (sid != 0 && sid == override_of(in)));
	if (back.type == IB_DHCP4_NAK)
		CHECK(back.yiaddr == 0 && back.siaddr == 0);
	return back.type;
}

static void check_decision(const struct ib_dhcp4_input *in, struct ib_dhcp4_decision *d)
{
	uint8_t want = reply_type(d), got;

	CHECK(d->action <= IB_D4_PROXY && d->reason != NULL);
	CHECK(d->max_len >= IB_DHCP4_DEFAULT_MAX_MSG);
	if (!want)
		return;
	got = check_reply(in, d);
	if (want == 0xff)
		CHECK(got == IB_DHCP4_OFFER || got == IB_DHCP4_ACK);
	else
		CHECK(got == want);
	if (d->action == IB_D4_OFFER || d->action == IB_D4_ACK) {
		const struct ib_subnet4 *sn = d->subnet;

		CHECK(sn && (d->address & sn->mask) == sn->network);
		CHECK(d->address != sn->network && d->address != (sn->network | ~sn->mask));
		CHECK(d->reply.yiaddr == d->address);
	}
	if (d->action == IB_D4_INFORM)
		CHECK(d->reply.yiaddr == 0);
	if (d->action == IB_D4_ACK) {
		static struct ib_dhcp4_decision nak;

		/* the store refused the binding: a NAK, laid out afresh */
		nak = *d;
		ib_dhcp4_refuse(in, &nak, "address taken meanwhile");
		CHECK(nak.action == IB_D4_NAK);
		CHECK(ib_dhcp4_lay_out(in, &nak) == 0);
		CHECK(check_reply(in, &nak) == IB_DHCP4_NAK);
	}
}

/* The shell holds an OFFER's address; the same DISCOVER again gets it. */
static void check_offer_stable(const struct ib_dhcp4_input *in,
			       const struct ib_dhcp4_decision *d)
{
	static struct ib_dhcp4_decision again;
	struct ib_d4_key k;

	ib_d4_key_from_msg(in->msg, &k);
	CHECK(ib_d4_leases_set(cache, d->address, IB_D4_OFFERED, &k, NOW + 30) == 0);
	CHECK(ib_dhcp4_decide(in, &again) == 0);
	CHECK(again.action == IB_D4_OFFER && again.address == d->address);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ib_dhcp4_msg m;
	static struct ib_dhcp4_decision d;
	static const struct { bool proxy, to_us, port4011; } ways[] = {
		{ false, false, false }, { false, true, false },
		{ true, false, false }, { true, true, true },
	};
	int r;

	if (!cfg_lab)
		init();
	if (ib_dhcp4_parse(data, size, &m) < 0)
		return 0;
	for (size_t i = 0; i < 2 * sizeof(ways) / sizeof(ways[0]); i++) {
		bool listed = i & 1;	/* from the relayed subnet's relay */
		struct ib_dhcp4_input in = {
			.cfg = ways[i / 2].proxy ? cfg_proxy : cfg_lab, .msg = &m,
			.server_addr = SERVER, .to_us = ways[i / 2].to_us,
			.proxy_port = ways[i / 2].port4011, .now = NOW, .view = &view,
			.src_addr = listed ? RELAY : HOST,
		};

		seed_cache();
		CHECK(ib_dhcp4_decide(&in, &d) == 0);
		if (m.giaddr && !listed)
			CHECK(d.action == IB_D4_DROP && d.relay_refused);
		CHECK(!d.relay_refused || d.action == IB_D4_DROP);
		r = ib_dhcp4_lay_out(&in, &d);
		CHECK(r == 0 || r == -ENOBUFS);
		if (r < 0)
			continue;	/* the shell drops: "reply does not fit" */
		check_decision(&in, &d);
		if (d.action == IB_D4_OFFER && m.type == IB_DHCP4_DISCOVER)
			check_offer_stable(&in, &d);
	}
	return 0;
}
