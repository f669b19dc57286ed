/* DNS names on the wire: see dns_name.h. */
#include "common/dns_name.h"

#include <errno.h>
#include <string.h>

#include "common/cursor.h"
#include "common/util.h"

#define PTR_MAX 0x3fff		/* RFC 1035 4.1.4: 14-bit offsets */
#define SUFFIX_MAX 256		/* suffixes remembered for compression */

/* A name suffix already on the wire, a target for compression pointers. */
struct suffix {
	const char *text;	/* the suffix in the caller's name */
	size_t len;		/* its length, no trailing dot */
	uint16_t off;		/* where its first label starts in the output */
};

/* The suffixes written so far: compression's memory. */
struct suffixes {
	struct suffix s[SUFFIX_MAX];	/* the first n */
	size_t n;			/* how many */
};

static const struct suffix *suffix_find(const struct suffixes *t, const char *s, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->s[i].len == len && memcmp(t->s[i].text, s, len) == 0)
			return &t->s[i];
	return NULL;
}

/*
 * One name of len characters, labels as length and octets up to the root
 * label; with t (compression), the longest suffix already in t is a
 * pointer to it, and each suffix written is remembered in t.
 */
static void encode_name(struct ib_wbuf *w, const char *name, size_t len, struct suffixes *t)
{
	size_t i = 0;

	while (i < len) {
		const struct suffix *hit = t ? suffix_find(t, name + i, len - i) : NULL;
		const char *dot;
		size_t label;

		if (hit) {
			ib_wbuf_u16be(w, (uint16_t)(0xc000 | hit->off));
			return;
		}
		if (t && t->n < SUFFIX_MAX && w->len <= PTR_MAX && !w->overflow)
			t->s[t->n++] = (struct suffix){ name + i, len - i, (uint16_t)w->len };
		dot = memchr(name + i, '.', len - i);
		label = dot ? (size_t)(dot - (name + i)) : len - i;
		ib_wbuf_u8(w, (uint8_t)label);
		ib_wbuf_bytes(w, name + i, label);
		i += label + 1;
	}
	ib_wbuf_u8(w, 0);
}

int ib_dns_names_encode(const char *const *names, size_t n, bool compress, uint8_t *buf,
			size_t cap, size_t *ret_len)
{
	struct suffixes t;
	struct ib_wbuf w;
	size_t len;

	for (size_t i = 0; i < n; i++)
		if (!names[i] || ib_dns_name_check(names[i], &len) < 0)
			return -EINVAL;
	t.n = 0;
	ib_wbuf_init(&w, buf, cap);
	for (size_t i = 0; i < n; i++) {
		(void)ib_dns_name_check(names[i], &len);
		encode_name(&w, names[i], len, compress ? &t : NULL);
	}
	if (ib_wbuf_status(&w) < 0)
		return -ENOBUFS;
	*ret_len = w.len;
	return 0;
}
