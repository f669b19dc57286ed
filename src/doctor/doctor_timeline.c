/* A machine's journal events parsed for the machine rules: see doctor_timeline.h. */
#include "doctor/doctor_timeline.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal/timeline.h"

static void get_str(json_t *o, const char *key, char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(out, cap, "%s", s ? s : "");
}

static long get_int(json_t *o, const char *key, long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

/* An integer field within lo..hi, else -1 (absent, another type, out of range). */
static long get_int_in(json_t *o, const char *key, long lo, long hi)
{
	long v = get_int(o, key, -1);

	return v >= lo && v <= hi ? v : -1;
}

/* A time of a row or detail within 0..IB_DT_TIME_MAX. */
static int64_t clamp_time(int64_t us)
{
	return us < 0 ? 0 : us > IB_DT_TIME_MAX ? IB_DT_TIME_MAX : us;
}

static void parse_one(const struct ib_event *in, struct ib_dt_ev *e)
{
	json_t *o = json_loads(in->detail, 0, NULL);
	char uc[32];
	long rep;

	e->ts_us = e->last_us = clamp_time(in->ts_us);
	e->proto = in->proto;
	e->kind = in->kind;
	e->v4 = strcmp(in->proto, "dhcp4") == 0;
	e->v6 = strcmp(in->proto, "dhcp6") == 0;
	e->count = 1;
	e->arch = -1;
	e->status = -1;
	if (!o)
		return;
	/* a summary of repeats (journal.h): {"repeated": n, "last_us": t};
	 * capped, and the last repeat not before the first, so the rules'
	 * sums and ages stay in range whatever the row says */
	if ((rep = get_int(o, "repeated", 0)) > 0) {
		e->count = rep < IB_DT_COUNT_MAX ? rep : IB_DT_COUNT_MAX;
		e->last_us = clamp_time(get_int(o, "last_us", e->ts_us));
		if (e->last_us < e->ts_us)
			e->last_us = e->ts_us;
	}
	get_str(o, "user_class", uc, sizeof(uc));
	e->ipxe = strcmp(uc, "iPXE") == 0;
	/* RFC 4578 2.1: the arch is 16 bits; HTTP statuses have 3 digits */
	e->arch = (int)get_int_in(o, "arch", 0, 0xffff);
	e->status = (int)get_int_in(o, "status", 100, 999);
	get_str(o, "decision", e->decision, sizeof(e->decision));
	get_str(o, "file", e->file, sizeof(e->file));
	get_str(o, "boot", e->boot, sizeof(e->boot));
	get_str(o, "reason", e->reason, sizeof(e->reason));
	get_str(o, "next_server", e->next_server, sizeof(e->next_server));
	get_str(o, "from", e->from, sizeof(e->from));
	get_str(o, e->v6 ? "link" : "giaddr", e->relay, sizeof(e->relay));
	get_str(o, "path", e->path, sizeof(e->path));
	get_str(o, "group", e->group, sizeof(e->group));
	get_str(o, "profile", e->profile, sizeof(e->profile));
	get_str(o, "error", e->error, sizeof(e->error));
	get_str(o, "client", e->client, sizeof(e->client));
	get_str(o, "step", e->step, sizeof(e->step));
	get_str(o, "by", e->by, sizeof(e->by));
	e->blksize = get_int(o, "blksize", -1);
	e->bytes = get_int(o, "bytes", -1);
	e->tsize = get_int(o, "tsize", -1);
	e->retransmits = get_int(o, "retransmits", -1);
	json_decref(o);
}

/*
 * A summary of repeats carries only the count: the answer was the one of
 * the event it repeats (the journal keys repeats by answer), the latest
 * earlier event of the same protocol and kind.
 */
static void inherit(struct ib_dt_ev *v, size_t i)
{
	struct ib_dt_ev *e = &v[i];

	if (e->count == 1 || e->decision[0])
		return;
	for (size_t k = i; k-- > 0;) {
		const struct ib_dt_ev *p = &v[k];

		if (strcmp(p->proto, e->proto) || strcmp(p->kind, e->kind))
			continue;
		e->ipxe = p->ipxe;
		e->arch = p->arch;
		e->status = p->status;
		memcpy(e->decision, p->decision, sizeof(e->decision));
		memcpy(e->file, p->file, sizeof(e->file));
		memcpy(e->boot, p->boot, sizeof(e->boot));
		memcpy(e->reason, p->reason, sizeof(e->reason));
		memcpy(e->next_server, p->next_server, sizeof(e->next_server));
		memcpy(e->relay, p->relay, sizeof(e->relay));
		memcpy(e->path, p->path, sizeof(e->path));
		return;
	}
}

/*
 * An unverified failed TFTP request is kept apart, the latest one only: a
 * machine told "file not found" never ACKs, so its refusal is never
 * verified, and the rule tftp-refused-unverified shows it for what it is
 * (doctor_mac.c).
 */
static void keep_unverified(const struct ib_event *in, struct ib_dt *t)
{
	if (strcmp(in->proto, "tftp") != 0 || strcmp(in->kind, "transfer-failed") != 0)
		return;
	parse_one(in, &t->unv_tftp);
	t->n_unv_tftp += t->unv_tftp.count;
	if (t->n_unv_tftp > IB_DT_COUNT_MAX)
		t->n_unv_tftp = IB_DT_COUNT_MAX;
	t->unv_tftp_at = t->n;
}

int ib_dt_parse(const struct ib_event *ev, size_t n, struct ib_dt *ret)
{
	ret->n = 0;
	ret->n_unv_tftp = 0;
	ret->unv_tftp_at = 0;
	/* one element at least: rules point one past the last (&v[n]) */
	ret->v = calloc(n ? n : 1, sizeof(*ret->v));
	if (!ret->v)
		return -ENOMEM;
	/* a refused request or an unverified claim is no activity of the
	 * machine it names (journal/timeline.h): the rules do not see it */
	for (size_t i = 0; i < n; i++) {
		if (ib_timeline_unverified(&ev[i])) {
			keep_unverified(&ev[i], ret);
			continue;
		}
		parse_one(&ev[i], &ret->v[ret->n]);
		inherit(ret->v, ret->n++);
	}
	return 0;
}

void ib_dt_done(struct ib_dt *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

void ib_dt_time(int64_t us, char *out, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}
