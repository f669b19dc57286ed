/* zstd images (RFC 8878), with libzstd's streaming decoder: agent_stream.h. */
#include "agent/agent_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <zstd.h>

struct zs {
	ZSTD_DCtx *d;		/* libzstd's decoder */
	bool started;		/* input arrived */
	size_t last;		/* the last ZSTD_decompressStream() hint: 0 = a
				 * frame ended and everything is flushed */
};

static int zs_init(void **ret_state)
{
	struct zs *z = calloc(1, sizeof(*z));

	if (!z)
		return -ENOMEM;
	z->d = ZSTD_createDCtx();
	if (!z->d) {
		free(z);
		return -ENOMEM;
	}
	*ret_state = z;
	return 0;
}

static int zs_feed(void *state, const uint8_t *p, size_t n, struct ib_agent_stream_out *o)
{
	struct zs *z = state;
	ZSTD_inBuffer in = { p, n, 0 };
	ZSTD_outBuffer out;

	if (n == 0)
		return 0;
	z->started = true;
	/* a full output buffer may leave more inside the decoder (zstd.h) */
	do {
		size_t r;
		int e;
		out = (ZSTD_outBuffer){ o->buf, IB_AGENT_STREAM_OUT, 0 };
		r = ZSTD_decompressStream(z->d, &out, &in);
		if (ZSTD_isError(r))
			return -EBADMSG;
		z->last = r;
		e = ib_agent_stream_emit(o, o->buf, out.pos);
		if (e < 0)
			return e;
	} while (in.pos < in.size || out.pos == out.size);
	return 0;
}

static int zs_finish(void *state, struct ib_agent_stream_out *o)
{
	struct zs *z = state;

	return z->started && z->last == 0 ? 0 : -EBADMSG;
}

static void zs_free(void *state)
{
	struct zs *z = state;

	if (!z)
		return;
	ZSTD_freeDCtx(z->d);
	free(z);
}

const struct ib_agent_decoder ib_agent_decoder_zstd = {
	zs_init, zs_feed, zs_finish, zs_free,
};
