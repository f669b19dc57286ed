/*
 * A subnet's shortage of addresses (issue #11), the same for both
 * families: how many requests took over the subnet's oldest hold, how
 * many their source's oldest (at its share of the pool), how many got no
 * address; logged at most every IB_DHCP_SHORTAGE_EVERY seconds, in the
 * family's words.
 */
#ifndef IB_DHCP_SHORTAGE_H
#define IB_DHCP_SHORTAGE_H

#include <stdbool.h>
#include <stdint.h>

#define IB_DHCP_SHORTAGE_EVERY 10	/* seconds between two logs of one subnet */

/* One subnet's counts since its last log. */
struct ib_dhcp_shortage {
	int64_t last;			/* when last logged; 0 = never */
	int64_t since;			/* first count not logged yet */
	uint64_t took_short;		/* took over the subnet's oldest hold */
	uint64_t took_cap;		/* took over their source's oldest */
	uint64_t refused;		/* left without an address */
};

/* How a family says it. */
struct ib_dhcp_shortage_words {
	const char *family;		/* "dhcp4": the log's prefix */
	const char *took;		/* "OFFERs took over the oldest OFFER" */
	const char *refused;		/* "DISCOVERs unanswered (...)" */
	int share;			/* percent of a pool one source may hold */
};

/* Counts one decision's shortage at now, and logs sh when due (subnet:
 * its text, "198.19.0.0/16"). */
void ib_dhcp_shortage_count(struct ib_dhcp_shortage *sh, const struct ib_dhcp_shortage_words *w,
			    const char *subnet, int64_t now, const uint64_t counts[3]);
/* Logs sh's counts if any and due at now (or any, when force). */
void ib_dhcp_shortage_log(struct ib_dhcp_shortage *sh, const struct ib_dhcp_shortage_words *w,
			  const char *subnet, int64_t now, bool force);

#endif
