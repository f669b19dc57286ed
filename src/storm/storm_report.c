/*
 * What ironboot-storm reports: per stage the machines through it, the
 * failures by reason, retransmits and latency percentiles; the fleet's
 * time to its last stage; the simulator's own CPU.  As a table, as JSON,
 * and as a latency histogram (TSV) that bench/storm/plot.py draws.
 */
#include "storm/storm.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ib_storm_sample(struct ib_storm_samples *s, uint64_t us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t ib_storm_quantile(struct ib_storm_samples *s, double q)
{
	size_t i;

	if (!s->n)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
	/* nearest rank: the smallest sample with at least q of them at or below */
	i = (size_t)ceil(q * (double)s->n);
	return s->v[i ? i - 1 : 0];
}

void ib_storm_reason(struct ib_storm_stage_stats *ss, const char *reason)
{
	size_t i;

	for (i = 0; i < IB_STORM_MAX_REASONS && ss->reason[i]; i++)
		if (strcmp(ss->reason[i], reason) == 0)
			break;
	if (i == IB_STORM_MAX_REASONS)
		i--, reason = "other";	/* the last slot collects the rest */
	ss->reason[i] = ss->reason[i] ? ss->reason[i] : reason;
	ss->reason_n[i]++;
}

/* Microseconds as milliseconds with 3 decimals. */
static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

/* Exchanges of the DHCP stages (the per-exchange CPU's denominator). */
static uint64_t dhcp_exchanges(const struct ib_storm *st)
{
	return st->s.st[IB_STORM_DHCP].exchanges + st->s.st[IB_STORM_DHCP_IPXE].exchanges;
}

static uint64_t all_exchanges(const struct ib_storm *st)
{
	uint64_t n = 0;

	for (size_t i = 0; i < IB_STORM__STAGES; i++)
		n += st->s.st[i].exchanges;
	return n;
}

/* Seconds this process spent runnable but waiting for a CPU (the second
 * field of /proc/self/schedstat, in ns); 0 where the kernel has none.  On
 * a loaded host a single-process client can be starved while its own CPU
 * stays low: lock-step TFTP then waits one run-queue delay per block. */
static double runq_wait_s(void)
{
	unsigned long long run_ns, wait_ns;
	FILE *f = fopen("/proc/self/schedstat", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &run_ns, &wait_ns);
	fclose(f);
	return n == 2 ? (double)wait_ns / 1e9 : 0;
}

void ib_storm_report_table(struct ib_storm *st, FILE *f, uint64_t cpu_us, uint64_t wall_us)
{
	uint64_t ex = all_exchanges(st), dex = dhcp_exchanges(st);

	fprintf(f, "%-10s %8s %8s %8s %9s %9s %9s %9s %9s\n", "stage", "ok", "failed",
		"retrans", "exch", "p50 ms", "p95 ms", "p99 ms", "max ms");
	for (size_t i = 0; i <= (size_t)st->o.until; i++) {
		struct ib_storm_stage_stats *ss = &st->s.st[i];
		fprintf(f, "%-10s %8llu %8llu %8llu %9llu %9.3f %9.3f %9.3f %9.3f\n",
			ib_storm_stage_names[i], (unsigned long long)ss->ok,
			(unsigned long long)ss->failed, (unsigned long long)ss->retransmits,
			(unsigned long long)ss->exchanges, ms(ib_storm_quantile(&ss->lat, 0.5)),
			ms(ib_storm_quantile(&ss->lat, 0.95)), ms(ib_storm_quantile(&ss->lat, 0.99)),
			ms(ib_storm_quantile(&ss->lat, 1.0)));
	}
	for (size_t i = 0; i <= (size_t)st->o.until; i++)
		for (size_t j = 0; j < IB_STORM_MAX_REASONS && st->s.st[i].reason[j]; j++)
			fprintf(f, "failed %s: %s x %llu\n", ib_storm_stage_names[i],
				st->s.st[i].reason[j], (unsigned long long)st->s.st[i].reason_n[j]);
	fprintf(f, "machines %u, reached %s: %llu; first %.3f s, last %.3f s after the start\n",
		st->o.machines, ib_storm_stage_names[st->o.until], (unsigned long long)st->s.done,
		ms(st->s.first_done_us) / 1000, ms(st->s.last_done_us) / 1000);
	fprintf(f, "time to %s per machine: p50 %.3f s, p99 %.3f s, max %.3f s\n",
		ib_storm_stage_names[st->o.until], ms(ib_storm_quantile(&st->s.ttk, 0.5)) / 1000,
		ms(ib_storm_quantile(&st->s.ttk, 0.99)) / 1000,
		ms(ib_storm_quantile(&st->s.ttk, 1.0)) / 1000);
	fprintf(f, "simulator CPU %.3f s in %.3f s wall (%.1f %%); %.2f us per exchange "
		"(%llu), %.2f us per DHCP exchange (%llu); unmatched replies %llu; "
		"waited %.3f s runnable for a CPU\n",
		ms(cpu_us) / 1000, ms(wall_us) / 1000,
		wall_us ? 100.0 * (double)cpu_us / (double)wall_us : 0.0,
		ex ? (double)cpu_us / (double)ex : 0.0, (unsigned long long)ex,
		dex ? (double)cpu_us / (double)dex : 0.0, (unsigned long long)dex,
		(unsigned long long)st->s.bad_replies, runq_wait_s());
}

static json_t *stage_json(struct ib_storm_stage_stats *ss)
{
	json_t *why = json_object();

	for (size_t j = 0; j < IB_STORM_MAX_REASONS && ss->reason[j]; j++)
		json_object_set_new(why, ss->reason[j], json_integer((json_int_t)ss->reason_n[j]));
	return json_pack("{s:I,s:I,s:I,s:I,s:o,s:f,s:f,s:f,s:f}",
			 "ok", (json_int_t)ss->ok, "failed", (json_int_t)ss->failed,
			 "retransmits", (json_int_t)ss->retransmits,
			 "exchanges", (json_int_t)ss->exchanges, "failures", why,
			 "p50_ms", ms(ib_storm_quantile(&ss->lat, 0.5)),
			 "p95_ms", ms(ib_storm_quantile(&ss->lat, 0.95)),
			 "p99_ms", ms(ib_storm_quantile(&ss->lat, 0.99)),
			 "max_ms", ms(ib_storm_quantile(&ss->lat, 1.0)));
}

int ib_storm_report_json(struct ib_storm *st, FILE *f, uint64_t cpu_us, uint64_t wall_us)
{
	json_t *stages = json_object(), *root;
	uint64_t ex = all_exchanges(st), dex = dhcp_exchanges(st);
	int r;

	for (size_t i = 0; i <= (size_t)st->o.until; i++)
		json_object_set_new(stages, ib_storm_stage_names[i], stage_json(&st->s.st[i]));
	root = json_pack("{s:i,s:I,s:s,s:f,s:f,s:o,s:I,s:f,s:f,s:f,s:f,s:f,"
			 "s:f,s:f,s:f,s:I,s:I,s:f,s:f,s:I}",
		"family", st->o.family == AF_INET ? 4 : 6, "machines", (json_int_t)st->o.machines,
		"until", ib_storm_stage_names[st->o.until], "within_s", st->o.within_s,
		"rate", st->o.rate, "stages", stages, "done", (json_int_t)st->s.done,
		"first_done_s", ms(st->s.first_done_us) / 1000,
		"last_done_s", ms(st->s.last_done_us) / 1000,
		"ttk_p50_s", ms(ib_storm_quantile(&st->s.ttk, 0.5)) / 1000,
		"ttk_p99_s", ms(ib_storm_quantile(&st->s.ttk, 0.99)) / 1000,
		"ttk_max_s", ms(ib_storm_quantile(&st->s.ttk, 1.0)) / 1000,
		"cpu_s", ms(cpu_us) / 1000, "wall_s", ms(wall_us) / 1000,
		"runq_wait_s", runq_wait_s(),
		"exchanges", (json_int_t)ex, "dhcp_exchanges", (json_int_t)dex,
		"cpu_us_per_exchange", ex ? (double)cpu_us / (double)ex : 0.0,
		"cpu_us_per_dhcp_exchange", dex ? (double)cpu_us / (double)dex : 0.0,
		"unmatched_replies", (json_int_t)st->s.bad_replies);
	if (!root)
		return -ENOMEM;
	r = json_dumpf(root, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
	fputc('\n', f);
	json_decref(root);
	return r;
}

/* Latency buckets: 8 per power of two, from 1 us. */
#define SUB 8
#define BUCKETS (32 * SUB)

static size_t bucket(uint32_t us)
{
	unsigned e;

	if (us < SUB)
		return us;
	e = 31u - (unsigned)__builtin_clz(us);	/* us >= 2^e */
	return (size_t)(e - 2) * SUB + ((us >> (e - 3)) & (SUB - 1));
}

static uint64_t bucket_lo(size_t b)
{
	if (b < SUB)
		return b;
	return (uint64_t)(SUB + b % SUB) << (b / SUB + 2 - 3);
}

int ib_storm_report_hist(struct ib_storm *st, FILE *f)
{
	fprintf(f, "stage\tlo_ms\thi_ms\tcount\n");
	for (size_t i = 0; i <= (size_t)st->o.until + 1; i++) {
		struct ib_storm_samples *s = i <= (size_t)st->o.until ? &st->s.st[i].lat : &st->s.ttk;
		const char *name = i <= (size_t)st->o.until ? ib_storm_stage_names[i] : "time-to-done";
		uint64_t *cnt = calloc(BUCKETS, sizeof(*cnt));

		if (!cnt)
			return -ENOMEM;
		for (size_t k = 0; k < s->n; k++)
			cnt[bucket(s->v[k])]++;
		for (size_t b = 0; b < BUCKETS; b++)
			if (cnt[b])
				fprintf(f, "%s\t%.3f\t%.3f\t%llu\n", name, ms(bucket_lo(b)),
					ms(bucket_lo(b + 1)), (unsigned long long)cnt[b]);
		free(cnt);
	}
	return ferror(f) ? -EIO : 0;
}
