/*
 * The server DUID (dhcp6_duid.h): the store's, else made once from this
 * host's interfaces or a random UUID.
 */
#include "dhcp6/dhcp6_duid.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "common/util.h"
#include "dhcp6/dhcp6_codec.h"

#define DUID_META "server_duid6"
#define EPOCH_2000 946684800		/* RFC 8415 11.2: DUID-LLT time base */

int ib_d6_server_duid(struct ib_store *store, const struct ib_dhcp_ifaces *served,
		      uint8_t duid[IB_DUID_MAX], size_t *ret_len)
{
	char hex[2 * IB_DUID_MAX + 1];
	uint8_t mac[6], uuid[16];
	struct ifaddrs *ifa, *i;
	bool have_mac = false;
	size_t n, len;
	int r;

	if (ib_store_meta_get(store, DUID_META, hex, sizeof(hex)) == 0 &&
	    ib_hex_parse(hex, duid, IB_DUID_MAX, &n) == 0 && n >= 3) {
		*ret_len = n;
		return 0;
	}
	if (getifaddrs(&ifa) == 0) {
		for (i = ifa; i && !have_mac; i = i->ifa_next) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;

			if (ll && ll->sll_family == AF_PACKET && ll->sll_halen == 6 &&
			    !(i->ifa_flags & IFF_LOOPBACK) &&
			    ib_dhcp_ifaces_serve(served, (int)if_nametoindex(i->ifa_name))) {
				memcpy(mac, ll->sll_addr, 6);
				have_mac = true;
			}
		}
		freeifaddrs(ifa);
	}
	if (have_mac)
		r = ib_dhcp6_duid_llt(mac, (uint32_t)(ib_now_sec() - EPOCH_2000), duid,
				      IB_DUID_MAX, &len);
	else if (getrandom(uuid, sizeof(uuid), 0) == (ssize_t)sizeof(uuid))
		r = ib_dhcp6_duid_uuid(uuid, duid, IB_DUID_MAX, &len);
	else
		r = -EIO;
	if (r < 0)
		return r;
	ib_hex_format(duid, len, hex, sizeof(hex));
	if ((r = ib_store_meta_put(store, DUID_META, hex)) == 0)
		*ret_len = len;
	return r;
}
