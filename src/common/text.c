/* The bounded text writer: see text.h. */
#include "common/text.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

int ib_text_init(struct ib_text *t, char *buf, size_t cap)
{
	if (cap == 0)
		return -ENOBUFS;
	*t = (struct ib_text){ buf, cap, 0 };
	buf[0] = '\0';
	return 0;
}

int ib_text_put(struct ib_text *t, const void *s, size_t n)
{
	if (n >= t->cap - t->len)
		return -ENOBUFS;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return 0;
}

int ib_text_dns_label(struct ib_text *t, const uint8_t *label, size_t n, bool first)
{
	for (size_t i = 0; i < n; i++)
		if (!ib_dns_label_char_ok(label[i]))
			return -EBADMSG;
	if (!first && ib_text_put(t, ".", 1) < 0)
		return -ENOBUFS;
	return ib_text_put(t, label, n);
}
