/*
 * Bounds-checked reading and writing of wire bytes.
 *
 * Every codec reads through an ib_cursor and writes through an ib_wbuf.
 * Wire bytes are never cast to structs.  Reads past the end fail with
 * -EBADMSG and leave the output untouched; writes past the capacity fail
 * with -ENOBUFS and set a sticky overflow flag, so a builder may write a
 * whole message and check once at the end.
 */
#ifndef IB_COMMON_CURSOR_H
#define IB_COMMON_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A read-only view over a byte range. */
struct ib_cursor {
	const uint8_t *p;	/* first byte of the range */
	size_t len;		/* bytes in the range */
	size_t off;		/* next byte to read */
};

/* A write buffer over caller-owned storage. */
struct ib_wbuf {
	uint8_t *p;		/* storage, owned by the caller */
	size_t cap;		/* bytes of storage */
	size_t len;		/* bytes written so far */
	bool overflow;		/* a write did not fit (sticky) */
};

void ib_cursor_init(struct ib_cursor *c, const void *p, size_t len);
size_t ib_cursor_remaining(const struct ib_cursor *c);
int ib_cursor_u8(struct ib_cursor *c, uint8_t *ret);
int ib_cursor_u16be(struct ib_cursor *c, uint16_t *ret);
int ib_cursor_u32be(struct ib_cursor *c, uint32_t *ret);
/* Points *ret at the next n bytes (no copy) and advances. */
int ib_cursor_bytes(struct ib_cursor *c, size_t n, const uint8_t **ret);
/* Copies the next n bytes into dst and advances. */
int ib_cursor_copy(struct ib_cursor *c, void *dst, size_t n);
int ib_cursor_skip(struct ib_cursor *c, size_t n);
/* Splits off the next n bytes as a cursor of their own and advances. */
int ib_cursor_sub(struct ib_cursor *c, size_t n, struct ib_cursor *ret);

void ib_wbuf_init(struct ib_wbuf *w, void *p, size_t cap);
int ib_wbuf_u8(struct ib_wbuf *w, uint8_t v);
int ib_wbuf_u16be(struct ib_wbuf *w, uint16_t v);
int ib_wbuf_u32be(struct ib_wbuf *w, uint32_t v);
int ib_wbuf_bytes(struct ib_wbuf *w, const void *p, size_t n);
int ib_wbuf_zero(struct ib_wbuf *w, size_t n);
/* Overwrites one byte already written at offset off (length fix-ups). */
int ib_wbuf_patch_u8(struct ib_wbuf *w, size_t off, uint8_t v);
/* 0, or -ENOBUFS if any write so far did not fit. */
int ib_wbuf_status(const struct ib_wbuf *w);

#endif
