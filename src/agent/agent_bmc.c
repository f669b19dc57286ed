/*
 * The BMC's LAN settings through the kernel's IPMI driver (ipmi_si +
 * ipmi_devintf: /dev/ipmi0), for the report.  Channels 1..8 are asked in
 * turn for the IP address until one answers (the LAN channel is 1 on most
 * boards, up to 8 on some); each request waits at most 2 s.
 */
#include "agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/agent_ipmi.h"

#define IPMI_WAIT_MS 2000	/* per request */
#define IPMI_CHANNELS 8		/* LAN channels tried */

/* A response: completion code, then data. */
struct ipmi_resp {
	uint8_t data[64];	/* as the BMC sent it (truncated to fit) */
	size_t len;		/* bytes in data */
};

/* One request/response exchange with the BMC. */
static int ipmi_call(int fd, long msgid, const uint8_t req[4], struct ipmi_resp *resp)
{
	struct ipmi_system_interface_addr bmc = {
		.addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE, .channel = IPMI_BMC_CHANNEL,
	};
	struct ipmi_system_interface_addr from;
	uint8_t data[4];
	struct ipmi_req rq = {
		.addr = (unsigned char *)&bmc, .addr_len = sizeof(bmc), .msgid = msgid,
		.msg = { .netfn = IB_AGENT_IPMI_NETFN_TRANSPORT,
			 .cmd = IB_AGENT_IPMI_CMD_GET_LAN_CONFIG, .data_len = 4, .data = data },
	};
	struct ipmi_recv rv;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	memcpy(data, req, 4);
	if (ioctl(fd, IPMICTL_SEND_COMMAND, &rq) < 0)
		return -errno;
	for (;;) {
		int r = poll(&p, 1, IPMI_WAIT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -ETIMEDOUT;
		memset(&rv, 0, sizeof(rv));
		rv.addr = (unsigned char *)&from;
		rv.addr_len = sizeof(from);
		rv.msg.data = resp->data;
		rv.msg.data_len = sizeof(resp->data);
		if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0)
			return -errno;
		if (rv.msgid == msgid && rv.recv_type == IPMI_RESPONSE_RECV_TYPE)
			break;		/* else: an event or a late answer */
	}
	resp->len = rv.msg.data_len;
	return 0;
}

void ib_agent_bmc_probe(int devfd, struct ib_agent_bmc *ret)
{
	static const enum ib_agent_ipmi_lan_param params[] = {
		IB_AGENT_IPMI_LAN_IP, IB_AGENT_IPMI_LAN_IP_SOURCE, IB_AGENT_IPMI_LAN_MAC,
	};
	struct ib_agent_bmc b = { .present = true };
	uint8_t req[4];
	struct ipmi_resp resp;
	long msgid = 1;
	int fd = openat(devfd, "ipmi0", O_RDWR | O_CLOEXEC), r = -ENOENT;

	memset(ret, 0, sizeof(*ret));
	if (fd < 0) {
		if (errno != ENOENT)
			snprintf(ret->error, sizeof(ret->error), "ipmi0: %s", strerror(errno));
		ret->present = errno != ENOENT;
		return;
	}
	for (uint8_t ch = 1; ch <= IPMI_CHANNELS; ch++) {
		ib_agent_ipmi_lan_request(ch, IB_AGENT_IPMI_LAN_IP, req);
		r = ipmi_call(fd, msgid++, req, &resp);
		if (r == 0)
			r = ib_agent_ipmi_lan_apply(IB_AGENT_IPMI_LAN_IP, resp.data, resp.len, &b);
		if (r == 0) {
			for (size_t i = 1; i < sizeof(params) / sizeof(params[0]); i++) {
				ib_agent_ipmi_lan_request(ch, params[i], req);
				if (ipmi_call(fd, msgid++, req, &resp) == 0)
					ib_agent_ipmi_lan_apply(params[i], resp.data, resp.len, &b);
			}
			break;
		}
		if (r == -ETIMEDOUT)
			break;		/* a BMC that does not answer at all */
	}
	if (r < 0)
		snprintf(b.error, sizeof(b.error), "no LAN channel answered (%s)",
			 r == -EIO ? "completion code not 0" : strerror(-r));
	close(fd);
	*ret = b;
}
