/*
 * libFuzzer target for the HTTP boot service as a client meets it: the
 * input is the raw bytes of one connection (request heads, possibly
 * several pipelined, possibly with bodies), sent to the real evhttp shell
 * (http_harness.h).  That covers evhttp's head parsing, ironboot's routing,
 * its request-target and query parsing, the MAC and the other facts taken
 * from the query (ib_httpd_facts; its uuid= once ib_httpd_verify_uuid has
 * checked it against the inventory and the stored reports), the boot plan and the rendered scripts
 * and install configs, the asset headers it reads itself (Range, If-Range,
 * If-None-Match, If-Modified-Since), the API's Authorization check, its
 * listings and lookups, and the journal of every fetch.
 *
 * Properties: every answer is HTTP and never a 500 (a failure of ours,
 * or a request left unanswered); no request path reaches /etc/passwd
 * out of the assets directory; the first answer arrives whole, body
 * included, although the client half-closed its side once the input was
 * sent (an asset's sendfile body used to be dropped: docs/FUZZING.md,
 * finding 5); the server answers or closes the connection within 10
 * seconds; and, with ASan, no memory error or leak.  Any broken property
 * aborts.
 *
 * Of pipelined requests only the first is sure to be answered: evhttp
 * reads on after each answer and closes on the client's EOF.
 */
#include <stddef.h>
#include <stdint.h>

#include "http_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_http_reply r;

	fuzz_http_init();
	fuzz_http_exchange(data, size, &r);
	fuzz_http_check_reply(data, size, &r);
	fuzz_http_reset();
	return 0;
}
