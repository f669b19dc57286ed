/*
 * An image as it streams in: its bytes are hashed (SHA-256 of exactly what
 * the server sent, as `sha256sum` of the file gives) and decompressed
 * (raw, gzip, zstd) into a sink, one buffer at a time.  Pure: no I/O of
 * its own, the sink writes.
 *
 * gzip is zlib's inflate (concatenated members, as gzip -d accepts); zstd
 * is libzstd's streaming decoder (concatenated frames) when the build
 * found a static libzstd, else a zstd stream is refused at the start
 * (-EPROTONOSUPPORT, see ib_agent_stream_supported).  SHA-256 is
 * OpenSSL's (libcrypto, linked statically).
 */
#ifndef IB_AGENT_STREAM_H
#define IB_AGENT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_proto.h"

#define IB_AGENT_STREAM_OUT (256u << 10)	/* bytes per sink call, at most */

/* Receives decoded bytes; a negative return aborts the stream with it. */
typedef int (*ib_agent_sink_fn)(void *ctx, const uint8_t *p, size_t n);

struct ib_agent_stream;

/* Whether this build decodes format f. */
bool ib_agent_stream_supported(enum ib_agent_format f);

/*
 * A new stream of format f writing into sink(ctx, ...); *ret owns it
 * (free with ib_agent_stream_free).  0, -EPROTONOSUPPORT or -ENOMEM.
 */
int ib_agent_stream_new(enum ib_agent_format f, ib_agent_sink_fn sink, void *ctx,
			struct ib_agent_stream **ret);

/* Feeds p[0..n): 0, -EBADMSG for corrupt compressed data, or the sink's error. */
int ib_agent_stream_feed(struct ib_agent_stream *s, const uint8_t *p, size_t n);

/*
 * The input ended: flushes the decoder and writes the SHA-256 of the
 * input into digest.  0, or -EBADMSG when the compressed data stops
 * mid-stream (a truncated download), or the sink's error.
 */
int ib_agent_stream_finish(struct ib_agent_stream *s, uint8_t digest[32]);

/* Bytes fed so far, and bytes handed to the sink. */
uint64_t ib_agent_stream_in(const struct ib_agent_stream *s);
uint64_t ib_agent_stream_out(const struct ib_agent_stream *s);

/* Frees s; NULL is fine. */
void ib_agent_stream_free(struct ib_agent_stream *s);

/* ---- the decoders (one per format; the stream picks by table) ---------- */

/* Hands decoded bytes on; counts them. */
struct ib_agent_stream_out {
	ib_agent_sink_fn sink;		/* where decoded bytes go */
	void *ctx;			/* the sink's */
	uint64_t bytes;			/* handed on so far */
	uint8_t *buf;			/* IB_AGENT_STREAM_OUT bytes of scratch */
};

/* One decoder: state is the decoder's own. */
struct ib_agent_decoder {
	int (*init)(void **ret_state);
	int (*feed)(void *state, const uint8_t *p, size_t n, struct ib_agent_stream_out *o);
	int (*finish)(void *state, struct ib_agent_stream_out *o);
	void (*free)(void *state);
};

/* zstd: agent_stream_zstd.c, or agent_stream_nozstd.c without libzstd. */
extern const struct ib_agent_decoder ib_agent_decoder_zstd;

/* Passes n bytes to the sink and counts them (decoders call this). */
int ib_agent_stream_emit(struct ib_agent_stream_out *o, const uint8_t *p, size_t n);

#endif
