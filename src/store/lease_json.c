/* Leases as JSON: see lease_json.h. */
#include "store/lease_json.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

const char *ib_lease_state_str(enum ib_lease_state s)
{
	switch (s) {
	case IB_LEASE_ACTIVE: return "active";
	case IB_LEASE_RELEASED: return "released";
	case IB_LEASE_EXPIRED: return "expired";
	case IB_LEASE_DECLINED: return "declined";
	}
	return "unknown";
}

json_t *ib_lease4_json(const struct ib_lease4 *l)
{
	char ip[IB_IP4_STRLEN], net[IB_IP4_STRLEN], mac[IB_MAC_STRLEN], cid[512];

	ib_ip4_format(l->address, ip);
	ib_ip4_format(l->subnet, net);
	ib_mac_format(l->hwaddr, l->hw_len, mac, sizeof(mac));
	ib_hex_format(l->client_id, l->client_id_len, cid, sizeof(cid));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "address", ip,
			 "subnet", net, "mac", mac, "client_id", cid, "hostname", l->hostname,
			 "cltt", (json_int_t)l->cltt, "expires", (json_int_t)l->expires,
			 "state", ib_lease_state_str(l->state));
}

json_t *ib_lease6_json(const struct ib_lease6 *l)
{
	char ip[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 4], mac[IB_MAC_STRLEN] = "";
	char duid[2 * IB_DUID_MAX + 1];
	size_t n;

	inet_ntop(AF_INET6, l->address, ip, sizeof(ip));
	inet_ntop(AF_INET6, l->subnet, net, sizeof(net));
	n = strlen(net);
	snprintf(net + n, sizeof(net) - n, "/%u", l->prefix_len);
	if (l->has_mac)
		ib_mac_format(l->mac, 6, mac, sizeof(mac));
	ib_hex_format(l->duid, l->duid_len, duid, sizeof(duid));
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:s}", "address", ip,
			 "subnet", net, "mac", mac, "duid", duid, "iaid", (json_int_t)l->iaid,
			 "hostname", l->hostname, "cltt", (json_int_t)l->cltt,
			 "preferred", (json_int_t)l->preferred, "expires", (json_int_t)l->expires,
			 "state", ib_lease_state_str(l->state));
}
