/* The Prometheus text exposition format: see metrics.h. */
#include "common/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MX_CHUNK 4096			/* growth step of the buffer */

void ib_mx_init(struct ib_mx *m)
{
	memset(m, 0, sizeof(*m));
}

void ib_mx_done(struct ib_mx *m)
{
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

/* Makes room for need more bytes and the NUL. */
static bool reserve(struct ib_mx *m, size_t need)
{
	size_t cap;
	char *p;

	if (m->oom)
		return false;
	if (m->len + need + 1 <= m->cap)
		return true;
	cap = m->cap + need + 1 + MX_CHUNK;
	if (!(p = realloc(m->buf, cap))) {
		m->oom = true;
		return false;
	}
	m->buf = p;
	m->cap = cap;
	return true;
}

static void put(struct ib_mx *m, const char *s, size_t n)
{
	if (!reserve(m, n))
		return;
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
}

static void puts_(struct ib_mx *m, const char *s)
{
	put(m, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct ib_mx *m, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(m, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A label value or HELP text: \\, \" (labels only) and \n escaped. */
static void put_escaped(struct ib_mx *m, const char *s, bool quote)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\')
			puts_(m, "\\\\");
		else if (c == '\n')
			puts_(m, "\\n");
		else if (c == '"' && quote)
			puts_(m, "\\\"");
		else
			put(m, c >= 0x20 && c < 0x7f ? (const char *)s : "?", 1);
	}
}

void ib_mx_family(struct ib_mx *m, const char *name, const char *type, const char *help)
{
	puts_(m, "# HELP ");
	puts_(m, name);
	puts_(m, " ");
	put_escaped(m, help, false);
	puts_(m, "\n# TYPE ");
	puts_(m, name);
	puts_(m, " ");
	puts_(m, type);
	puts_(m, "\n");
}

/* name{a="x",b="y"  (the closing brace is the caller's, after any le). */
static void put_labels(struct ib_mx *m, const char *name, const char *suffix,
		       const struct ib_mx_label *l, size_t n, bool more)
{
	puts_(m, name);
	puts_(m, suffix);
	if (n == 0 && !more)
		return;
	puts_(m, "{");
	for (size_t i = 0; i < n && i < IB_MX_LABELS_MAX; i++) {
		if (i)
			puts_(m, ",");
		puts_(m, l[i].name);
		puts_(m, "=\"");
		put_escaped(m, l[i].value, true);
		puts_(m, "\"");
	}
	if (!more)
		puts_(m, "}");
}

/* A float as the format takes it: +Inf, -Inf, NaN, or the shorter of
 * %.15g and %.17g that reads back as v. */
static void put_f64(struct ib_mx *m, double v)
{
	char tmp[40];

	if (isnan(v)) {
		puts_(m, "NaN");
	} else if (isinf(v)) {
		puts_(m, v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(tmp, sizeof(tmp), "%.15g", v);
		if (strtod(tmp, NULL) != v)
			snprintf(tmp, sizeof(tmp), "%.17g", v);
		puts_(m, tmp);
	}
}

void ib_mx_u64(struct ib_mx *m, const char *name, const struct ib_mx_label *l, size_t n,
	       uint64_t v)
{
	put_labels(m, name, "", l, n, false);
	putf(m, " %llu\n", (unsigned long long)v);
}

void ib_mx_one(struct ib_mx *m, const char *name, const char *type, const char *help,
	       uint64_t v)
{
	ib_mx_family(m, name, type, help);
	ib_mx_u64(m, name, NULL, 0, v);
}

void ib_mx_f64(struct ib_mx *m, const char *name, const struct ib_mx_label *l, size_t n,
	       double v)
{
	put_labels(m, name, "", l, n, false);
	puts_(m, " ");
	put_f64(m, v);
	puts_(m, "\n");
}

void ib_mx_hist(struct ib_mx *m, const char *name, const struct ib_mx_label *l, size_t n,
		const struct ib_mx_hist *h)
{
	size_t nb = h->n < IB_MX_BUCKETS_MAX ? h->n : IB_MX_BUCKETS_MAX;
	uint64_t cum = 0;

	for (size_t i = 0; i <= nb; i++) {
		cum += h->count[i];
		put_labels(m, name, "_bucket", l, n, true);
		puts_(m, n ? ",le=\"" : "le=\"");
		if (i < nb)
			put_f64(m, h->le[i]);
		else
			puts_(m, "+Inf");
		putf(m, "\"} %llu\n", (unsigned long long)cum);
	}
	put_labels(m, name, "_sum", l, n, false);
	puts_(m, " ");
	put_f64(m, h->sum);
	puts_(m, "\n");
	put_labels(m, name, "_count", l, n, false);
	putf(m, " %llu\n", (unsigned long long)cum);
}

void ib_mx_raw(struct ib_mx *m, const char *text, size_t n)
{
	put(m, text, n);
}

void ib_mx_hist_observe(struct ib_mx_hist *h, double v)
{
	size_t nb = h->n < IB_MX_BUCKETS_MAX ? h->n : IB_MX_BUCKETS_MAX;
	size_t i = 0;

	while (i < nb && v > h->le[i])
		i++;
	h->count[i]++;
	h->sum += v;
}
