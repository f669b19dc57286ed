/*
 * The Prometheus text exposition format (version 0.0.4), written into a
 * growing buffer: the body of GET /metrics (docs/METRICS.md).  Pure: no
 * I/O, no clock, no globals; the shells gather their counters and call
 * these.
 *
 * A family is announced once (# HELP, # TYPE) and its samples follow it.
 * Label values are escaped as the format says (backslash, double quote,
 * newline); bytes that are not printable ASCII become '?', so a wire
 * string in a label (never today, but pool and route names are the
 * operator's) cannot break a line.  Metric and label names are the
 * caller's constants and are not checked here; the unit test and
 * `promtool check metrics` in the integration test hold them to the
 * grammar.
 */
#ifndef IB_COMMON_METRICS_H
#define IB_COMMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IB_MX_LABELS_MAX 4		/* labels of one sample */
#define IB_MX_BUCKETS_MAX 16		/* finite buckets of a histogram */

/* The output: a heap buffer that grows; oom is sticky. */
struct ib_mx {
	char *buf;			/* the text, NUL-terminated, or NULL */
	size_t len;			/* bytes written */
	size_t cap;			/* bytes allocated */
	bool oom;			/* an allocation failed: the text is incomplete */
};

/* One label of a sample. */
struct ib_mx_label {
	const char *name;		/* [a-zA-Z_][a-zA-Z0-9_]* */
	const char *value;		/* any text; escaped */
};

/* A histogram: counts per bucket (not cumulative), by upper bound. */
struct ib_mx_hist {
	size_t n;			/* finite buckets used, <= IB_MX_BUCKETS_MAX */
	double le[IB_MX_BUCKETS_MAX];	/* upper bounds, ascending */
	uint64_t count[IB_MX_BUCKETS_MAX + 1]; /* per bucket; [n] is above the last */
	double sum;			/* of every observation */
};

/* An empty output; ib_mx_done() frees it. */
void ib_mx_init(struct ib_mx *m);
void ib_mx_done(struct ib_mx *m);

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void ib_mx_family(struct ib_mx *m, const char *name, const char *type, const char *help);
/* One sample: name{labels} value; n labels (0..IB_MX_LABELS_MAX). */
void ib_mx_u64(struct ib_mx *m, const char *name, const struct ib_mx_label *l, size_t n,
	       uint64_t v);
void ib_mx_f64(struct ib_mx *m, const char *name, const struct ib_mx_label *l, size_t n,
	       double v);
/* A family of one sample without labels: ib_mx_family() and ib_mx_u64(). */
void ib_mx_one(struct ib_mx *m, const char *name, const char *type, const char *help,
	       uint64_t v);
/* A histogram's _bucket (cumulative, with le="+Inf"), _sum and _count
 * samples; the family is announced by the caller. */
void ib_mx_hist(struct ib_mx *m, const char *name, const struct ib_mx_label *l, size_t n,
		const struct ib_mx_hist *h);
/* Appends text already in the format (n bytes), e.g. another ib_mx's. */
void ib_mx_raw(struct ib_mx *m, const char *text, size_t n);
/* Adds one observation v to h. */
void ib_mx_hist_observe(struct ib_mx_hist *h, double v);

#endif
