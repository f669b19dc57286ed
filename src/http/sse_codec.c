/* The server-sent events reader: see sse_codec.h. */
#include "http/sse_codec.h"

#include <errno.h>
#include <string.h>

void ib_sse_init(struct ib_sse *p)
{
	memset(p, 0, sizeof(*p));
}

/* Copies v (n bytes) into dst of cap bytes (NUL included), cut to fit. */
static void keep(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* The blank line: dispatch the event (spec: only when data was seen). */
static int dispatch(struct ib_sse *p, ib_sse_fn fn, void *ctx)
{
	struct ib_sse_event e = { .type = p->type[0] ? p->type : "message",
				  .id = p->id, .data = p->data, .data_len = p->data_len };
	int r = 0;

	if (p->has_data)
		r = fn(ctx, &e);
	p->data_len = 0;
	p->data[0] = '\0';
	p->has_data = 0;
	p->type[0] = '\0';
	return r;
}

/* One field line: name, then the value after ":" and one optional space. */
static int field(struct ib_sse *p, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	size_t name_len = colon ? (size_t)(colon - line) : n;
	const char *v = colon ? colon + 1 : line + n;
	size_t vlen = colon ? n - name_len - 1 : 0;

	if (vlen && *v == ' ') {
		v++;
		vlen--;
	}
	if (name_len == 4 && memcmp(line, "data", 4) == 0) {
		size_t add = vlen + (p->has_data ? 1 : 0);

		if (p->data_len + add > IB_SSE_DATA_MAX)
			return -EMSGSIZE;
		if (p->has_data)
			p->data[p->data_len++] = '\n';
		memcpy(p->data + p->data_len, v, vlen);
		p->data_len += vlen;
		p->data[p->data_len] = '\0';
		p->has_data = 1;
	} else if (name_len == 2 && memcmp(line, "id", 2) == 0) {
		/* spec: an id with a NUL in it is ignored */
		if (!memchr(v, '\0', vlen))
			keep(p->id, sizeof(p->id), v, vlen);
	} else if (name_len == 5 && memcmp(line, "event", 5) == 0) {
		keep(p->type, sizeof(p->type), v, vlen);
	}
	return 0;
}

/* A complete line (without its end). */
static int line_done(struct ib_sse *p, ib_sse_fn fn, void *ctx)
{
	const char *l = p->line;
	size_t n = p->line_len;

	p->line_len = 0;
	if (n == 0)
		return dispatch(p, fn, ctx);
	if (l[0] == ':')
		return 0;		/* a comment: heartbeats */
	return field(p, l, n);
}

int ib_sse_feed(struct ib_sse *p, const char *buf, size_t len, ib_sse_fn fn, void *ctx)
{
	static const char bom[] = "\xef\xbb\xbf";
	int r;

	/* a BOM only whole at the start of the first piece (ours sends none) */
	if (!p->bom_done) {
		p->bom_done = 1;
		if (len >= 3 && memcmp(buf, bom, 3) == 0) {
			buf += 3;
			len -= 3;
		}
	}
	for (size_t i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\n' && p->skip_lf) {
			p->skip_lf = 0;
			continue;
		}
		p->skip_lf = c == '\r';
		if (c == '\r' || c == '\n') {
			if ((r = line_done(p, fn, ctx)) != 0)
				return r;
			continue;
		}
		if (p->line_len >= IB_SSE_LINE_MAX)
			return -EMSGSIZE;
		p->line[p->line_len++] = c;
	}
	return 0;
}
