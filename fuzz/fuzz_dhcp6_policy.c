/*
 * libFuzzer target for the DHCPv6 decision path: a datagram that parses
 * is decided against a lab config (with a small binding view) as if it had
 * arrived by multicast and by unicast, and the reply is laid out and must
 * parse back with the request's transaction id and relay depth.  Each
 * way it arrives from a relay the config lists and from a host it does
 * not: a relayed message from the latter is dropped with no MAC learnt.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "dhcp6/dhcp6_codec.h"
#include "dhcp6/dhcp6_policy.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char lab[] =
	"server: { state_dir: /tmp/ib-fuzz-policy6 }\n"
	"dhcp4: { enabled: false }\n"
	"dhcp6:\n"
	"  subnets:\n"
	"    - subnet: fd00:b007::/64\n"
	"      interface: srv0\n"
	"      relays: [\"fd00:b007::2\"]\n"
	"      pools: [ { start: \"fd00:b007::1000\", end: \"fd00:b007::1003\" } ]\n"
	"      dns: [\"fd00:b007::1\"]\n"
	"      domain_search: [lab.example]\n"
	"      reservations:\n"
	"        - { mac: \"52:54:00:00:00:10\", address: \"fd00:b007::10\" }\n"
	"    - subnet: fd00:b007:1::/64\n"
	"      pools: [ { start: \"fd00:b007:1::1000\", end: \"fd00:b007:1::10ff\" } ]\n"
	"boot:\n"
	"  efi_x64: ipxe.efi\n"
	"  ipxe_script6: \"http://[fd00:b007::1]:8080/boot.ipxe\"\n"
	"  http6_x64: \"http://[fd00:b007::1]:8080/assets/ipxe.efi\"\n";

static const uint8_t srv_duid[] = { 0, 3, 0, 1, 2, 0, 0, 0, 0, 1 };
static uint8_t bound[16];		/* one address some client holds */

static int v_find(void *ctx, const struct ib_dhcp6_blob *duid, uint32_t iaid,
		  struct ib_lease6 *ret)
{
	if (iaid % 2)
		return -ENOENT;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->address, bound, 16);
	ret->state = IB_LEASE_ACTIVE;
	ret->expires = 1700000100;
	return 0;
}

static bool v_is_free(void *ctx, const uint8_t a[16], const struct ib_dhcp6_blob *duid,
		      uint32_t iaid)
{
	return memcmp(a, bound, 16) != 0 || iaid % 2 == 0;
}

static int v_pick(void *ctx, const struct ib_subnet6 *sn, const struct ib_dhcp6_blob *duid,
		  uint32_t iaid, uint8_t ret[16])
{
	if (iaid % 3 == 0)
		return -ENOSPC;
	memcpy(ret, sn->pools[0].start, 16);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ib_lease6_view view = { v_find, v_is_free, v_pick, NULL };
	static struct ib_config *cfg;
	static uint8_t out[IB_DHCP6_MAX_LEN];
	static struct ib_dhcp6_msg m, back;
	struct ib_dhcp6_decision d;
	struct ib_dhcp6_input in;
	size_t len;

	if (!cfg) {
		CHECK(ib_config_load_buffer("fuzz.yaml", lab, sizeof(lab) - 1, &cfg, NULL) == 0);
		inet_pton(AF_INET6, "fd00:b007::1001", bound);
	}
	if (ib_dhcp6_parse(data, size, &m) < 0)
		return 0;
	for (int way = 0; way < 4; way++) {
		bool listed = way & 2;	/* from the subnet's listed relay */

		in = (struct ib_dhcp6_input){ .cfg = cfg, .msg = &m, .ifname = "srv0",
					      .multicast = !(way & 1), .now = 1700000000,
					      .view = &view,
					      .server_duid = { srv_duid, sizeof(srv_duid) } };
		inet_pton(AF_INET6, listed ? "fd00:b007::2" : "fe80::5054:ff:fe00:10", in.src);
		inet_pton(AF_INET6, "fd00:b007::1", in.server_addr);
		CHECK(ib_dhcp6_decide(&in, &d) == 0);
		CHECK(d.n_ia <= IB_DHCP6_MAX_IA);
		if (m.n_relays && !listed)
			CHECK(d.action == IB_D6_DROP && d.relay_refused && !d.has_mac);
		CHECK(!d.relay_refused || d.action == IB_D6_DROP);
		if (d.action == IB_D6_DROP)
			continue;
		CHECK(d.reply_type == IB_DHCP6_ADVERTISE || d.reply_type == IB_DHCP6_REPLY);
		if (ib_dhcp6_reply_build(&in, &d, out, sizeof(out), &len) < 0)
			continue;	/* e.g. a chain too long to wrap again */
		CHECK(ib_dhcp6_parse(out, len, &back) == 0);
		CHECK(back.xid == m.xid && back.n_relays == m.n_relays);
		CHECK(back.msg_type == d.reply_type);
	}
	return 0;
}
