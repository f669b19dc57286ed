/* Bounds-checked cursors over wire bytes: see cursor.h. */
#include "common/cursor.h"

#include <errno.h>
#include <string.h>

void ib_cursor_init(struct ib_cursor *c, const void *p, size_t len)
{
	c->p = p;
	c->len = p ? len : 0;
	c->off = 0;
}

size_t ib_cursor_remaining(const struct ib_cursor *c)
{
	return c->len - c->off;
}

int ib_cursor_bytes(struct ib_cursor *c, size_t n, const uint8_t **ret)
{
	if (n > ib_cursor_remaining(c))
		return -EBADMSG;
	*ret = c->p + c->off;
	c->off += n;
	return 0;
}

int ib_cursor_u8(struct ib_cursor *c, uint8_t *ret)
{
	const uint8_t *b;

	if (ib_cursor_bytes(c, 1, &b) < 0)
		return -EBADMSG;
	*ret = b[0];
	return 0;
}

int ib_cursor_u16be(struct ib_cursor *c, uint16_t *ret)
{
	const uint8_t *b;

	if (ib_cursor_bytes(c, 2, &b) < 0)
		return -EBADMSG;
	*ret = (uint16_t)(b[0] << 8 | b[1]);
	return 0;
}

int ib_cursor_u32be(struct ib_cursor *c, uint32_t *ret)
{
	const uint8_t *b;

	if (ib_cursor_bytes(c, 4, &b) < 0)
		return -EBADMSG;
	*ret = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
	return 0;
}

int ib_cursor_copy(struct ib_cursor *c, void *dst, size_t n)
{
	const uint8_t *b;

	if (ib_cursor_bytes(c, n, &b) < 0)
		return -EBADMSG;
	if (n)
		memcpy(dst, b, n);
	return 0;
}

int ib_cursor_skip(struct ib_cursor *c, size_t n)
{
	const uint8_t *b;

	return ib_cursor_bytes(c, n, &b);
}

int ib_cursor_sub(struct ib_cursor *c, size_t n, struct ib_cursor *ret)
{
	const uint8_t *b;

	if (ib_cursor_bytes(c, n, &b) < 0)
		return -EBADMSG;
	ib_cursor_init(ret, b, n);
	return 0;
}

void ib_wbuf_init(struct ib_wbuf *w, void *p, size_t cap)
{
	w->p = p;
	w->cap = p ? cap : 0;
	w->len = 0;
	w->overflow = false;
}

int ib_wbuf_bytes(struct ib_wbuf *w, const void *p, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return -ENOBUFS;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
	return 0;
}

int ib_wbuf_zero(struct ib_wbuf *w, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return -ENOBUFS;
	}
	memset(w->p + w->len, 0, n);
	w->len += n;
	return 0;
}

int ib_wbuf_u8(struct ib_wbuf *w, uint8_t v)
{
	return ib_wbuf_bytes(w, &v, 1);
}

int ib_wbuf_u16be(struct ib_wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return ib_wbuf_bytes(w, b, sizeof(b));
}

int ib_wbuf_u32be(struct ib_wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	return ib_wbuf_bytes(w, b, sizeof(b));
}

int ib_wbuf_patch_u8(struct ib_wbuf *w, size_t off, uint8_t v)
{
	if (off >= w->len)
		return -EINVAL;
	w->p[off] = v;
	return 0;
}

int ib_wbuf_status(const struct ib_wbuf *w)
{
	return w->overflow ? -ENOBUFS : 0;
}
