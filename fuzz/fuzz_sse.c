/*
 * libFuzzer target for the server-sent events reader (http/sse_codec.h),
 * what `ironboot events --follow` parses of the daemon's stream.
 *
 * Properties: the stream fed whole and fed in pieces split at a place the
 * input chooses (its first byte) gives the same events, in order, or the
 * same error; every event's data is NUL-terminated at data_len, within
 * IB_SSE_DATA_MAX, and its id and type within their caps.  Any broken
 * property aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/sse_codec.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define EVENTS_KEPT 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the events of one run hashed to, and how many there were. */
struct seen {
	uint64_t hash[EVENTS_KEPT];
	size_t n;
};

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static int on_event(void *ctx, const struct ib_sse_event *e)
{
	struct seen *s = ctx;
	uint64_t h = 0xcbf29ce484222325ULL;

	CHECK(e->data_len <= IB_SSE_DATA_MAX && e->data[e->data_len] == '\0');
	CHECK(strlen(e->id) <= IB_SSE_ID_MAX && strlen(e->type) <= IB_SSE_EVENT_MAX);
	h = fnv(h, e->data, e->data_len + 1);
	h = fnv(h, e->id, strlen(e->id) + 1);
	h = fnv(h, e->type, strlen(e->type) + 1);
	if (s->n < EVENTS_KEPT)
		s->hash[s->n] = h;
	s->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ib_sse a, b;	/* ~24 KiB each */
	struct seen sa = { 0 }, sb = { 0 };
	const char *s = (const char *)data;
	size_t cut;
	int ra, rb;

	if (size == 0)
		return 0;
	cut = data[0] % size;
	ib_sse_init(&a);
	ra = ib_sse_feed(&a, s, size, on_event, &sa);
	ib_sse_init(&b);
	rb = ib_sse_feed(&b, s, cut, on_event, &sb);
	if (rb == 0)
		rb = ib_sse_feed(&b, s + cut, size - cut, on_event, &sb);
	/* a BOM is taken only whole at the start of the first piece */
	if (cut >= 3 || size < 3 || memcmp(s, "\xef\xbb\xbf", 3) != 0) {
		CHECK(ra == rb);
		if (ra == 0) {
			CHECK(sa.n == sb.n);
			for (size_t i = 0; i < sa.n && i < EVENTS_KEPT; i++)
				CHECK(sa.hash[i] == sb.hash[i]);
		}
	}
	return 0;
}
