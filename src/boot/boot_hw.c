/*
 * The facts group selectors read from a lifecycle machine's hardware
 * report (boot_plan.h ib_hw_facts).  The report is the agent's JSON,
 * stored as it came (docs/AGENT.md): hostile input, read defensively.
 */
#include "boot/boot_plan.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A size in bytes: a non-negative JSON integer, else 0. */
static uint64_t bytes_of(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) > 0 ?
	       (uint64_t)json_integer_value(v) : 0;
}

static void str_of(const json_t *v, char *out, size_t len)
{
	snprintf(out, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int ib_hw_facts_parse(const char *report, struct ib_hw_facts *ret)
{
	json_t *r = json_loads(report, JSON_REJECT_DUPLICATES, NULL);
	const json_t *sys, *disks, *d;
	size_t i;

	*ret = (struct ib_hw_facts){ 0 };
	if (!json_is_object(r)) {
		json_decref(r);
		return -EINVAL;
	}
	sys = json_object_get(r, "system");
	str_of(json_object_get(sys, "vendor"), ret->vendor, sizeof(ret->vendor));
	str_of(json_object_get(sys, "product"), ret->product, sizeof(ret->product));
	str_of(json_object_get(sys, "uuid"), ret->uuid, sizeof(ret->uuid));
	ret->memory_bytes = bytes_of(json_object_get(json_object_get(r, "memory"),
						     "total_bytes"));
	disks = json_object_get(r, "disks");
	json_array_foreach(disks, i, d) {
		uint64_t b = bytes_of(json_object_get(d, "size_bytes"));

		if (b > ret->disk_max_bytes)
			ret->disk_max_bytes = b;
	}
	json_decref(r);
	return 0;
}
