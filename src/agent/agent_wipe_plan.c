/* The wipe plan of a disk: see agent_wipe_plan.h. */
#include "agent/agent_wipe_plan.h"

#include "common/util.h"

/* Signatures beyond the first 16 MiB that are not at the end either. */
static const struct {
	uint64_t off;
	uint64_t len;
	const char *why;
} far_signatures[] = {
	{ 64ull << 20, 4096, "btrfs superblock mirror 1" },
	{ 256ull << 30, 4096, "btrfs superblock mirror 2" },
	{ 1ull << 50, 4096, "btrfs superblock mirror 3" },
};

/* Appends [off, off+len) clipped to the disk, merged with the last range
 * when they touch or overlap (ranges arrive sorted by offset). */
static void add(struct ib_agent_range *out, size_t *n, uint64_t size,
		uint64_t off, uint64_t len, const char *why)
{
	uint64_t end;

	if (off >= size)
		return;
	end = len > size - off ? size : off + len;
	if (*n > 0 && out[*n - 1].off + out[*n - 1].len >= off) {
		struct ib_agent_range *last = &out[*n - 1];
		if (end > last->off + last->len)
			last->len = end - last->off;
		return;
	}
	out[*n] = (struct ib_agent_range){ off, end - off, why };
	(*n)++;
}

size_t ib_agent_wipe_plan(uint64_t size, struct ib_agent_range out[IB_AGENT_WIPE_RANGES_MAX])
{
	size_t n = 0;
	uint64_t tail = size > IB_AGENT_WIPE_EDGE ? size - IB_AGENT_WIPE_EDGE : 0;

	if (size == 0)
		return 0;
	add(out, &n, size, 0, IB_AGENT_WIPE_EDGE, "MBR, primary GPT, superblocks");
	for (size_t i = 0; i < IB_ARRAY_SIZE(far_signatures); i++)
		if (far_signatures[i].off < tail)	/* else inside the tail */
			add(out, &n, size, far_signatures[i].off, far_signatures[i].len,
			    far_signatures[i].why);
	add(out, &n, size, tail, IB_AGENT_WIPE_EDGE, "backup GPT, end-of-disk metadata");
	return n;
}

uint64_t ib_agent_wipe_plan_bytes(const struct ib_agent_range *r, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += r[i].len;
	return sum;
}
