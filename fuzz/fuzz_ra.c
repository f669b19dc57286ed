/*
 * libFuzzer target for the Router Advertisement codec.
 *
 * The input is tried as an RA and as an RS.  An RA that parses must
 * rebuild into bytes that parse back to the same advertisement (flags,
 * lifetime, prefixes); an RS the check accepts must have whole options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp6/ra_codec.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[IB_RA_MAX_LEN];
	struct ib_ra ra, back;
	size_t len;

	if (ib_ra_parse(data, size, &ra) == 0) {
		CHECK(ra.n_prefixes <= IB_RA_MAX_PREFIXES);
		CHECK(ib_ra_build(&ra, out, sizeof(out), &len) == 0);
		CHECK(ib_ra_parse(out, len, &back) == 0);
		CHECK(back.managed == ra.managed && back.other == ra.other);
		CHECK(back.router_lifetime == ra.router_lifetime);
		CHECK(back.n_prefixes == ra.n_prefixes);
		for (size_t i = 0; i < ra.n_prefixes; i++)
			CHECK(memcmp(&back.prefixes[i], &ra.prefixes[i], sizeof(ra.prefixes[i])) == 0);
	}
	if (ib_rs_valid(data, size))
		CHECK(size >= 8 && data[0] == IB_ICMP6_RS);
	return 0;
}
