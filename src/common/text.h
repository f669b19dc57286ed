/*
 * A bounded text writer: what a codec's decoder writes for people (a
 * search list as on a resolv.conf line), into the caller's buffer, always
 * NUL-terminated, never past its end.
 */
#ifndef IB_COMMON_TEXT_H
#define IB_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Text written into caller-owned storage. */
struct ib_text {
	char *p;		/* storage, owned by the caller */
	size_t cap;		/* its size, NUL included */
	size_t len;		/* characters written so far */
};

/*
 * Starts t over buf[cap] with the empty string.  -ENOBUFS when cap is 0
 * (then buf is not written).
 */
int ib_text_init(struct ib_text *t, char *buf, size_t cap);

/*
 * Appends n bytes of s.  0, or -ENOBUFS when they and the NUL do not fit
 * (then nothing is appended).
 */
int ib_text_put(struct ib_text *t, const void *s, size_t n);

/*
 * Appends one DNS label of a name as dotted text, after a '.' unless first
 * (the name's first label).  -EBADMSG when a byte is no label character
 * (ib_dns_label_char_ok(): nothing reaches a log or a file unchecked),
 * -ENOBUFS when it does not fit.
 */
int ib_text_dns_label(struct ib_text *t, const uint8_t *label, size_t n, bool first);

#endif
