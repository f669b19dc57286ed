/*
 * The interfaces a DHCP family serves (dhcp_ifaces.h).
 */
#include "dhcp/dhcp_ifaces.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>

#include "common/log.h"

/* Resolves the config's names: see dhcp_ifaces.h. */
int ib_dhcp_ifaces_resolve(struct ib_dhcp_ifaces *ifs, const char *family,
			   char *const *names, size_t n)
{
	struct ib_dhcp_ifaces got = { .n = 0 };

	for (size_t i = 0; i < n && got.n < IB_DHCP_IFACES_MAX; i++) {
		unsigned v = if_nametoindex(names[i]);

		if (v)
			got.index[got.n++] = (int)v;
		else
			ib_warn("%s: interface %s not found; not serving it", family, names[i]);
	}
	if (n && got.n == 0) {
		ib_err("%s: none of the configured interfaces exists", family);
		return -ENODEV;
	}
	*ifs = got;
	return 0;
}

/* Whether ifs serves index: see dhcp_ifaces.h. */
bool ib_dhcp_ifaces_serve(const struct ib_dhcp_ifaces *ifs, int index)
{
	for (size_t i = 0; i < ifs->n; i++)
		if (ifs->index[i] == index)
			return true;
	return ifs->n == 0;
}
