/*
 * Subnets no client can reach, for `ironbootd --check-config`
 * (check_reach.h).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"
#include "daemon/check_reach.h"

/* Whether ifname is one dhcp4 listens on (none listed: all). */
static bool listened4(const struct ib_dhcp4_config *d, const char *ifname)
{
	for (size_t i = 0; i < d->n_interfaces; i++)
		if (strcmp(d->interfaces[i], ifname) == 0)
			return true;
	return d->n_interfaces == 0;
}

/*
 * Whether a non-loopback interface has an address of family (AF_INET or
 * AF_INET6) in prefix/len (network order); with d4, only an interface
 * dhcp4 listens on counts.
 */
static bool local(const struct ifaddrs *ifa, int family, const uint8_t *prefix, unsigned len,
		  const struct ib_dhcp4_config *d4)
{
	for (const struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;
		const uint8_t *a;

		if (!sa || sa->sa_family != family || (i->ifa_flags & IFF_LOOPBACK) ||
		    (d4 && !listened4(d4, i->ifa_name)))
			continue;
		a = family == AF_INET ? (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr
				      : ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (ib_addr_in_prefix(a, prefix, len))
			return true;
	}
	return false;
}

static size_t check4(const struct ib_config *cfg, const struct ifaddrs *ifa, FILE *out)
{
	const struct ib_dhcp4_config *d = &cfg->dhcp4;
	char net[IB_IP4_STRLEN];
	size_t n = 0;

	if (!d->enabled || d->mode != IB_DHCP4_MODE_SERVER || d->n_relays)
		return 0;
	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet4 *sn = &d->subnets[i];
		uint32_t be = htonl(sn->network);

		if (sn->n_relays || local(ifa, AF_INET, (const uint8_t *)&be, sn->prefix_len, d))
			continue;
		ib_ip4_format(sn->network, net);
		fprintf(out, "warning: dhcp4 subnet %s/%u: no interface dhcp4 serves here has an "
			"address in it and no relay may forward for it (dhcp4.relays, or its "
			"relays): it can never be served\n", net, sn->prefix_len);
		n++;
	}
	return n;
}

static size_t check6(const struct ib_config *cfg, const struct ifaddrs *ifa, FILE *out)
{
	const struct ib_dhcp6_config *d = &cfg->dhcp6;
	char net[INET6_ADDRSTRLEN];
	size_t n = 0;

	if (!d->enabled || d->n_relays)
		return 0;
	for (size_t i = 0; i < d->n_subnets; i++) {
		const struct ib_subnet6 *sn = &d->subnets[i];

		/* a subnet without `interface:` is matched by the arrival address */
		if (sn->interface || sn->n_relays ||
		    local(ifa, AF_INET6, sn->prefix, sn->prefix_len, NULL))
			continue;
		inet_ntop(AF_INET6, sn->prefix, net, sizeof(net));
		fprintf(out, "warning: dhcp6 subnet %s/%u: it names no interface, no local "
			"address lies in it and no relay may forward for it (dhcp6.relays, or its relays): it can never be "
			"served\n", net, sn->prefix_len);
		n++;
	}
	return n;
}

size_t ib_check_unreachable_subnets(const struct ib_config *cfg, FILE *out)
{
	struct ifaddrs *ifa = NULL;
	size_t n;

	if (getifaddrs(&ifa) < 0)
		ifa = NULL;
	n = check4(cfg, ifa, out) + check6(cfg, ifa, out);
	if (ifa)
		freeifaddrs(ifa);
	return n;
}
