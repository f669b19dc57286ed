/* Minimal JSON object writer: see jsonw.h. */
#include "common/jsonw.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

static void put(struct ib_jw *w, const char *s, size_t n)
{
	/* Keep one byte for the closing brace and one for the NUL. */
	if (w->overflow || n + 2 > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
}

static void put_escaped(struct ib_jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		char e[6] = { '\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15] };

		if (*c == '"' || *c == '\\') {
			char q[2] = { '\\', (char)*c };

			put(w, q, 2);
		} else if (*c < 0x20 || *c >= 0x7f) {
			put(w, e, sizeof(e));
		} else {
			put(w, (const char *)c, 1);
		}
	}
}

static void key(struct ib_jw *w, const char *k)
{
	if (!w->first)
		put(w, ",", 1);
	w->first = false;
	put(w, "\"", 1);
	put_escaped(w, k);
	put(w, "\":", 2);
}

void ib_jw_init(struct ib_jw *w, char *buf, size_t cap)
{
	*w = (struct ib_jw){ .p = buf, .cap = cap, .first = true };
	put(w, "{", 1);
}

void ib_jw_str(struct ib_jw *w, const char *k, const char *val)
{
	key(w, k);
	put(w, "\"", 1);
	put_escaped(w, val ? val : "");
	put(w, "\"", 1);
}

void ib_jw_str_opt(struct ib_jw *w, const char *k, const char *val)
{
	if (val && val[0])
		ib_jw_str(w, k, val);
}

void ib_jw_int(struct ib_jw *w, const char *k, int64_t val)
{
	char buf[24], *e = buf + sizeof(buf), *p = e;
	uint64_t u = val < 0 ? 0 - (uint64_t)val : (uint64_t)val;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (val < 0)
		*--p = '-';
	key(w, k);
	put(w, p, (size_t)(e - p));
}

void ib_jw_ip4(struct ib_jw *w, const char *k, uint32_t addr)
{
	char s[IB_IP4_STRLEN];

	ib_ip4_format(addr, s);
	ib_jw_str(w, k, s);
}

int ib_jw_end(struct ib_jw *w)
{
	static const char marker[] = "{\"truncated\":true}";

	if (!w->overflow) {
		w->p[w->len++] = '}';
		w->p[w->len] = '\0';
		return 0;
	}
	if (w->cap >= sizeof(marker))
		memcpy(w->p, marker, sizeof(marker));
	else if (w->cap)
		w->p[0] = '\0';
	return -ENOBUFS;
}
