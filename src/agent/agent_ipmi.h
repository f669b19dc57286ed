/*
 * The IPMI messages the agent sends its BMC, as bytes (IPMI v2.0 23.2,
 * "Get LAN Configuration Parameters", NetFn Transport 0x0C, command 0x02).
 * Pure: agent_bmc.c moves them through the kernel's /dev/ipmi0.
 */
#ifndef IB_AGENT_IPMI_H
#define IB_AGENT_IPMI_H

#include <stddef.h>
#include <stdint.h>

#include "agent/agent_report.h"

#define IB_AGENT_IPMI_NETFN_TRANSPORT 0x0c
#define IB_AGENT_IPMI_CMD_GET_LAN_CONFIG 0x02

/* LAN configuration parameters the report uses (IPMI v2.0 table 23-4). */
enum ib_agent_ipmi_lan_param {
	IB_AGENT_IPMI_LAN_IP = 3,		/* IP address, 4 bytes */
	IB_AGENT_IPMI_LAN_IP_SOURCE = 4,	/* 1 byte, low 4 bits */
	IB_AGENT_IPMI_LAN_MAC = 5,		/* MAC address, 6 bytes */
};

/* The request's data bytes for param on channel (out[4]). */
void ib_agent_ipmi_lan_request(uint8_t channel, enum ib_agent_ipmi_lan_param param,
			       uint8_t out[4]);

/*
 * Applies a response (completion code, parameter revision, data) to *b.
 * 0; -EIO with a non-zero completion code; -EBADMSG when too short.
 */
int ib_agent_ipmi_lan_apply(enum ib_agent_ipmi_lan_param param, const uint8_t *resp,
			    size_t len, struct ib_agent_bmc *b);

#endif
