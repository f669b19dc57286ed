/*
 * The interfaces a DHCP family serves, by index (both families: the
 * config lists names; none listed = every interface).
 */
#ifndef IB_DHCP_IFACES_H
#define IB_DHCP_IFACES_H

#include <stdbool.h>
#include <stddef.h>

#define IB_DHCP_IFACES_MAX 64		/* interfaces a family serves at most */

struct ib_dhcp_ifaces {
	int index[IB_DHCP_IFACES_MAX];	/* the served interfaces' indexes */
	size_t n;			/* 0 = every interface */
};

/*
 * Resolves the n names (the config's list) into ifs; a missing one is
 * warned about ("family: interface X not found") and skipped.  -ENODEV,
 * logged, with ifs unchanged, when names are listed and none exists.
 */
int ib_dhcp_ifaces_resolve(struct ib_dhcp_ifaces *ifs, const char *family,
			   char *const *names, size_t n);
/* Whether ifs serves the interface of index. */
bool ib_dhcp_ifaces_serve(const struct ib_dhcp_ifaces *ifs, int index);

#endif
