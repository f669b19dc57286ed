/* IPMI LAN configuration messages: see agent_ipmi.h. */
#include "agent/agent_ipmi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

void ib_agent_ipmi_lan_request(uint8_t channel, enum ib_agent_ipmi_lan_param param,
			       uint8_t out[4])
{
	out[0] = channel & 0x0f;	/* bit 7 clear: the value, not the revision */
	out[1] = (uint8_t)param;
	out[2] = 0;			/* set selector */
	out[3] = 0;			/* block selector */
}

/* IPMI v2.0 table 23-4, parameter 4 */
static const char *const ip_sources[] = {
	"unspecified", "static", "dhcp", "bios", "other",
};

int ib_agent_ipmi_lan_apply(enum ib_agent_ipmi_lan_param param, const uint8_t *resp,
			    size_t len, struct ib_agent_bmc *b)
{
	static const size_t need[] = {
		[IB_AGENT_IPMI_LAN_IP] = 4, [IB_AGENT_IPMI_LAN_IP_SOURCE] = 1,
		[IB_AGENT_IPMI_LAN_MAC] = 6,
	};
	const uint8_t *d = resp + 2;	/* after completion code and revision */

	if (len < 1)
		return -EBADMSG;
	if (resp[0] != 0)
		return -EIO;
	if ((size_t)param >= IB_ARRAY_SIZE(need) || need[param] == 0 || len < 2 + need[param])
		return -EBADMSG;
	switch (param) {
	case IB_AGENT_IPMI_LAN_IP:
		snprintf(b->ipv4, sizeof(b->ipv4), "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
		break;
	case IB_AGENT_IPMI_LAN_IP_SOURCE:
		snprintf(b->source, sizeof(b->source), "%s",
			 (d[0] & 0x0f) < IB_ARRAY_SIZE(ip_sources) ? ip_sources[d[0] & 0x0f] : "other");
		break;
	case IB_AGENT_IPMI_LAN_MAC:
		ib_mac_format(d, 6, b->mac, sizeof(b->mac));
		break;
	}
	return 0;
}
