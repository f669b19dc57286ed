/*
 * libFuzzer target for the store watch's notification payloads
 * (src/store/store_change.c): the text another writer of the shared
 * database had its triggers send.  Properties: a parsed LEASE4 payload
 * printed back as "4 %u" is the input, a MACHINE one as "m %lld"; a LEASE6 one is "6 " and 32 hex
 * digits that are its address; anything accepted starts with one of the
 * four topic letters and a blank.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_listen.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[256], out[64];
	struct ib_store_change c;

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (ib_store_change_parse(in, &c) < 0)
		return 0;
	CHECK(strchr("46im", in[0]) && in[1] == ' ');
	if (c.topic == IB_STORE_TOPIC_LEASE4) {
		snprintf(out, sizeof(out), "4 %" PRIu32, c.addr4);
		CHECK(strcmp(out, in) == 0);	/* one spelling per address */
	} else if (c.topic == IB_STORE_TOPIC_MACHINE) {
		snprintf(out, sizeof(out), "m %" PRId64, c.machine_id);
		CHECK(strcmp(out, in) == 0 && c.machine_id >= 0);
	} else if (c.topic == IB_STORE_TOPIC_LEASE6) {
		for (size_t i = 0; i < 16; i++) {
			snprintf(out, sizeof(out), "%02x", c.addr6[i]);
			CHECK(strncasecmp(out, in + 2 + 2 * i, 2) == 0);
		}
	}
	return 0;
}
