/*
 * Address ranges of the DHCP sections, either family, for the checks that
 * no two pools or subnets overlap and that no reservation sits in a pool
 * (config_validate.c for dhcp4, config_dhcp6.c for dhcp6).  See
 * config_internal.h.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config_internal.h"

void ib_cfg_span4(struct ib_cfg_span *s, uint32_t start, uint32_t end, size_t subnet,
		  size_t item)
{
	*s = (struct ib_cfg_span){ .subnet = (uint32_t)subnet, .item = (uint32_t)item };
	ib_cfg_addr4(start, s->start);
	ib_cfg_addr4(end, s->end);
}

void ib_cfg_span6(struct ib_cfg_span *s, const uint8_t start[16], const uint8_t end[16],
		  size_t subnet, size_t item)
{
	*s = (struct ib_cfg_span){ .subnet = (uint32_t)subnet, .item = (uint32_t)item };
	memcpy(s->start, start, 16);
	memcpy(s->end, end, 16);
}

void ib_cfg_addr4(uint32_t a, uint8_t out[16])
{
	memset(out, 0, 12);
	out[12] = (uint8_t)(a >> 24);
	out[13] = (uint8_t)(a >> 16);
	out[14] = (uint8_t)(a >> 8);
	out[15] = (uint8_t)a;
}

uint32_t ib_cfg_span_ip4(const uint8_t a[16])
{
	return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

static int cmp_span(const void *pa, const void *pb)
{
	const struct ib_cfg_span *a = pa, *b = pb;
	int c = memcmp(a->start, b->start, 16);

	if (c)
		return c;
	if (a->subnet != b->subnet)
		return a->subnet < b->subnet ? -1 : 1;
	return a->item < b->item ? -1 : a->item > b->item;
}

/* Whether a comes before b in the file. */
static bool span_before(const struct ib_cfg_span *a, const struct ib_cfg_span *b)
{
	return a->subnet < b->subnet || (a->subnet == b->subnet && a->item < b->item);
}

bool ib_cfg_span_overlap(struct ib_cfg_span *sp, size_t n, const struct ib_cfg_span **ret_later,
			 const struct ib_cfg_span **ret_other)
{
	qsort(sp, n, sizeof(*sp), cmp_span);
	for (size_t i = 1; i < n; i++) {
		if (memcmp(sp[i].start, sp[i - 1].end, 16) <= 0) {
			bool later = span_before(&sp[i - 1], &sp[i]);

			*ret_later = later ? &sp[i] : &sp[i - 1];
			*ret_other = later ? &sp[i - 1] : &sp[i];
			return true;
		}
	}
	return false;
}

const struct ib_cfg_span *ib_cfg_span_holding(const struct ib_cfg_span *sp, size_t n,
					      const uint8_t addr[16])
{
	size_t lo = 0, hi = n;

	while (lo < hi) {		/* first span starting after addr */
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(sp[mid].start, addr, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && memcmp(addr, sp[lo - 1].end, 16) <= 0 ? &sp[lo - 1] : NULL;
}
