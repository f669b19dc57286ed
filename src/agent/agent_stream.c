/* Image streams: hash, decompress, hand on.  See agent_stream.h. */
#define OPENSSL_SUPPRESS_DEPRECATED	/* SHA256_*: see below */
#include "agent/agent_stream.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/util.h"

/*
 * OpenSSL's one-shot digest API (SHA256_Init/Update/Final) is deprecated in
 * 3.0 in favour of EVP, but it is the same vetted implementation, and with
 * a static link EVP would pull the whole provider machinery (about 4 MB)
 * into the agent for one hash.
 */
struct ib_agent_stream {
	const struct ib_agent_decoder *dec;	/* the format's decoder */
	void *state;				/* the decoder's */
	struct ib_agent_stream_out out;		/* sink and counters */
	SHA256_CTX sha;				/* of the input */
	uint64_t in;				/* bytes fed */
};

int ib_agent_stream_emit(struct ib_agent_stream_out *o, const uint8_t *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	r = o->sink(o->ctx, p, n);
	if (r < 0)
		return r;
	o->bytes += n;
	return 0;
}

/* ---- raw ----------------------------------------------------------------- */

static int raw_init(void **ret_state)
{
	*ret_state = NULL;
	return 0;
}

static int raw_feed(void *state, const uint8_t *p, size_t n, struct ib_agent_stream_out *o)
{
	return ib_agent_stream_emit(o, p, n);
}

static int raw_finish(void *state, struct ib_agent_stream_out *o)
{
	return 0;
}

static void raw_free(void *state)
{
}

static const struct ib_agent_decoder decoder_raw = {
	raw_init, raw_feed, raw_finish, raw_free,
};

/* ---- gzip (RFC 1952) ------------------------------------------------------ */

struct gz {
	z_stream z;		/* zlib's inflate state */
	bool started;		/* a member began */
	bool member_end;	/* the last member ended (Z_STREAM_END) */
};

static int gz_init(void **ret_state)
{
	struct gz *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	/* 16 + MAX_WBITS: a gzip wrapper, not zlib's */
	if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
		free(g);
		return -ENOMEM;
	}
	*ret_state = g;
	return 0;
}

/*
 * One inflate() into o's buffer, its output emitted: 0 with zlib's
 * answer in *ret_zr, or -errno (-EBADMSG for a corrupt stream).
 */
static int gz_step(struct gz *g, struct ib_agent_stream_out *o, int *ret_zr)
{
	int zr, r;

	g->z.next_out = o->buf;
	g->z.avail_out = IB_AGENT_STREAM_OUT;
	zr = inflate(&g->z, Z_NO_FLUSH);
	if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
		return -EBADMSG;
	r = ib_agent_stream_emit(o, o->buf, IB_AGENT_STREAM_OUT - g->z.avail_out);
	if (r < 0)
		return r;
	if (zr == Z_STREAM_END)
		g->member_end = true;
	*ret_zr = zr;
	return 0;
}

static int gz_feed(void *state, const uint8_t *p, size_t n, struct ib_agent_stream_out *o)
{
	struct gz *g = state;
	int zr, r;

	g->z.next_in = (Bytef *)p;
	g->z.avail_in = (uInt)n;	/* n <= the caller's buffer, < 4 GiB */
	while (g->z.avail_in > 0) {
		if (g->member_end) {	/* RFC 1952 2.2: members one after another */
			inflateReset(&g->z);
			g->member_end = false;
		}
		g->started = true;
		if ((r = gz_step(g, o, &zr)) < 0)
			return r;
		if (zr == Z_BUF_ERROR && g->z.avail_out == IB_AGENT_STREAM_OUT)
			return -EBADMSG;	/* no progress with input left */
	}
	/* output zlib still holds once the input is used up */
	while (!g->member_end) {
		if ((r = gz_step(g, o, &zr)) < 0)
			return r;
		if (g->z.avail_out != 0)
			break;
	}
	return 0;
}

static int gz_finish(void *state, struct ib_agent_stream_out *o)
{
	struct gz *g = state;

	return g->started && g->member_end ? 0 : -EBADMSG;
}

static void gz_free(void *state)
{
	struct gz *g = state;

	if (!g)
		return;
	inflateEnd(&g->z);
	free(g);
}

static const struct ib_agent_decoder decoder_gzip = {
	gz_init, gz_feed, gz_finish, gz_free,
};

/* ---- the stream ----------------------------------------------------------- */

static const struct ib_agent_decoder *const decoders[] = {
	[IB_AGENT_FORMAT_RAW] = &decoder_raw,
	[IB_AGENT_FORMAT_GZIP] = &decoder_gzip,
	[IB_AGENT_FORMAT_ZSTD] = &ib_agent_decoder_zstd,
};

bool ib_agent_stream_supported(enum ib_agent_format f)
{
	void *state = NULL;
	const struct ib_agent_decoder *d;

	if ((size_t)f >= IB_ARRAY_SIZE(decoders))
		return false;
	d = decoders[f];
	if (d->init(&state) < 0)
		return false;
	d->free(state);
	return true;
}

int ib_agent_stream_new(enum ib_agent_format f, ib_agent_sink_fn sink, void *ctx,
			struct ib_agent_stream **ret)
{
	struct ib_agent_stream *s;
	int r;

	if ((size_t)f >= IB_ARRAY_SIZE(decoders))
		return -EPROTONOSUPPORT;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->out.buf = malloc(IB_AGENT_STREAM_OUT);
	if (!s->out.buf) {
		free(s);
		return -ENOMEM;
	}
	s->dec = decoders[f];
	r = s->dec->init(&s->state);
	if (r < 0) {
		free(s->out.buf);
		free(s);
		return r;
	}
	s->out.sink = sink;
	s->out.ctx = ctx;
	SHA256_Init(&s->sha);
	*ret = s;
	return 0;
}

int ib_agent_stream_feed(struct ib_agent_stream *s, const uint8_t *p, size_t n)
{
	SHA256_Update(&s->sha, p, n);
	s->in += n;
	return s->dec->feed(s->state, p, n, &s->out);
}

int ib_agent_stream_finish(struct ib_agent_stream *s, uint8_t digest[32])
{
	int r = s->dec->finish(s->state, &s->out);

	if (r < 0)
		return r;
	SHA256_Final(digest, &s->sha);
	return 0;
}

uint64_t ib_agent_stream_in(const struct ib_agent_stream *s)
{
	return s->in;
}

uint64_t ib_agent_stream_out(const struct ib_agent_stream *s)
{
	return s->out.bytes;
}

void ib_agent_stream_free(struct ib_agent_stream *s)
{
	if (!s)
		return;
	s->dec->free(s->state);
	free(s->out.buf);
	free(s);
}
