/*
 * A minimal JSON object writer into a caller-owned buffer: the journal's
 * hot path (one event per DHCP exchange) without allocations.  Strings are
 * escaped per RFC 8259 7; bytes that are not printable ASCII are written as
 * \u00XX, so the output is always valid JSON and valid UTF-8.
 */
#ifndef IB_COMMON_JSONW_H
#define IB_COMMON_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ib_jw {
	char *p;		/* buffer, owned by the caller */
	size_t cap;		/* its size */
	size_t len;		/* bytes written */
	bool first;		/* no member written yet */
	bool overflow;		/* something did not fit (sticky) */
};

/* Starts an object ("{") in buf. */
void ib_jw_init(struct ib_jw *w, char *buf, size_t cap);
/* Members; a NULL or empty string value is skipped by ib_jw_str_opt. */
void ib_jw_str(struct ib_jw *w, const char *key, const char *val);
void ib_jw_str_opt(struct ib_jw *w, const char *key, const char *val);
void ib_jw_int(struct ib_jw *w, const char *key, int64_t val);
void ib_jw_ip4(struct ib_jw *w, const char *key, uint32_t addr);
/*
 * Closes the object and NUL-terminates.  Returns 0, or -ENOBUFS when the
 * object did not fit (the buffer then holds {"truncated":true}).
 */
int ib_jw_end(struct ib_jw *w);

#endif
