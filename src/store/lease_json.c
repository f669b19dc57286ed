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

json_t *ib_json_text(const char *s)
{
	char buf[1024];
	json_t *j = json_string(s);

	if (j)
		return j;
	ib_str_sanitize((const uint8_t *)s, strlen(s), buf, sizeof(buf));
	return json_string(buf);
}

json_t *ib_lease4_json(const struct ib_lease4 *l)
{
	char ip[IB_IP4_STRLEN], net[IB_IP4_STRLEN], mac[IB_MAC_STRLEN], cid[512];

	ib_ip4_format(l->address, ip);
	ib_ip4_format(l->subnet, net);
	ib_mac_format(l->hwaddr, l->hw_len, mac, sizeof(mac));
	ib_hex_format(l->client_id, l->client_id_len, cid, sizeof(cid));
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:s}", "address", ip,
			 "subnet", net, "mac", mac, "client_id", cid,
			 "hostname", ib_json_text(l->hostname),
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
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:s}", "address", ip,
			 "subnet", net, "mac", mac, "duid", duid, "iaid", (json_int_t)l->iaid,
			 "hostname", ib_json_text(l->hostname), "cltt", (json_int_t)l->cltt,
			 "preferred", (json_int_t)l->preferred, "expires", (json_int_t)l->expires,
			 "state", ib_lease_state_str(l->state));
}

json_t *ib_event_json(const struct ib_event *e)
{
	json_t *d = json_loads(e->detail, 0, NULL);

	/* Rows may predate the journal's escaping, or come from elsewhere:
	 * each text field alone, so one bad row never fails a listing. */
	return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "id", (json_int_t)e->id, "ts_us", (json_int_t)e->ts_us,
			 "mac", ib_json_text(e->mac), "client_id", ib_json_text(e->client_id),
			 "uuid", ib_json_text(e->uuid), "proto", ib_json_text(e->proto),
			 "kind", ib_json_text(e->kind), "detail", d ? d : json_object());
}
