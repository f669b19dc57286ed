/*
 * Fuzz target: the doctor's machine rules (src/doctor/doctor_mac.c) over
 * one machine's journal events as the store hands them back, with the
 * timeline's parsing of each event's detail (doctor_timeline.c) and the
 * boot-file classifier behind the file probe (doctor_file.c).
 *
 * The config snapshot is a shipped example, loaded once: examples/lab.yaml
 * (profiles, one of them `boot: local`) or examples/lifecycle.yaml (the
 * agent image); the input picks one.  Input layout:
 *
 *   byte 0      flags: bit 0 lifecycle.yaml, bit 1 a file probe (its file
 *               is the input's tail), bit 2 host facts (this host is
 *               198.18.0.1), bit 3 timestamps taken raw (any int64, as a
 *               row of another writer may hold), else deltas from now
 *   bytes 1-2   now: seconds after 2026-12-05 10:00Z (big-endian)
 *   then events, up to MAX_EV, each:
 *     proto     index into protos[] (past its end: "x")
 *     kind      index into kinds[]
 *     mac       bit 0..1: one of two MACs, "" or a raw 6 bytes as text
 *     ts        2 bytes signed: seconds before now (or 8 bytes raw)
 *     detail    len byte L; L & 0x80: raw bytes (L & 0x7f of them, the
 *               text as is, NUL-free), else L fields of {key, value}
 *               written as a JSON object (values: table strings, raw
 *               strings of up to 510 bytes escaped as the journal would, integers small and
 *               64-bit, null, true, an array), so the JSON parses but
 *               holds what the rules do not expect
 *
 * Checks (abort when broken):
 *  - every finding's rule is one of the machine rule table, with its
 *    severity; cause and fix are non-empty sentences; cause, fix,
 *    evidence and `stopped` are NUL-terminated in their arrays, valid
 *    UTF-8 (the CLI's --json) and hold no control byte (a terminal);
 *  - the timeline (doctor_timeline.c) alone: counts within
 *    1..IB_DT_COUNT_MAX, times within 0..IB_DT_TIME_MAX, a summary's last
 *    repeat not before its first, arch and status -1 or in range;
 *  - never-seen fires exactly when there are no events, and alone;
 *    at most one finding per rule (two for offer-no-request: v4 and v6,
 *    eight for bootfile-invalid), nothing dropped (more == 0);
 *  - the counts evidence quotes are positive and at most the events'
 *    total count (1 + repeats of each); `stopped` counts the events given;
 *  - the same input twice gives byte-identical reports, and the events
 *    (in an exact-size heap array, so ASan sees a read past them) are not
 *    written;
 *  - the daemon's watch logs cause and evidence through ib_str_sanitize
 *    (doctor_watch.c has no parsing of its own): that text has no control
 *    byte either.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "config/config.h"
#include "doctor/doctor.h"
#include "doctor/doctor_timeline.h"
#include "journal/timeline.h"

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "check failed: %s (%s:%d)\n", #x, \
					   __FILE__, __LINE__); abort(); } } while (0)

#define MAX_EV 64			/* events per input */
#define T0_US 1764928800000000LL	/* 2026-12-05 10:00:00Z */

static const char *const protos[] = { "dhcp4", "dhcp6", "tftp", "http", "machine", "agent" };
static const char *const kinds[] = {
	"discover", "request", "solicit", "release", "inform", "decline", "transfer",
	"transfer-failed", "script", "asset", "config", "api", "fail", "reset",
	"local-boot-ignored", "accept", "report", "x",
};
static const char *const keys[] = {
	"decision", "arch", "user_class", "boot", "file", "reason", "next_server", "from",
	"giaddr", "link", "path", "group", "profile", "error", "step", "by", "status",
	"blksize", "bytes", "tsize", "retransmits", "repeated", "last_us", "address", "to",
	"result",
};
static const char *const values[] = {
	"offer", "ack", "nak", "ignore", "advertise", "reply", "iPXE", "pxe", "ipxe",
	"uefi-http", "ipxe.efi", "undionly.kpxe", "http://198.18.0.1:8080/boot.ipxe",
	"tftp://[fd00:b007::1]/ipxe.efi", "198.18.0.1", "198.18.5.1", "192.0.2.9",
	"fd00:b007::1", "/boot.ipxe", "/assets/vmlinuz", "/assets/initrd.img",
	"/assets/agent/vmlinuz", "/assets/agent/initrd.img", "/api/v1/agent/report",
	"default", "local", "linux", "local-disk", "file not found", "timed out",
	"no subnet for the relay", "agent", "api", "http", "wipe", "",
};
static const char *const macs[] = { "52:54:00:12:34:56", "52:54:00:00:00:44", "" };

static struct ib_config *cfgs[2];

/* The file the probe reports: the input's tail. */
struct probe {
	const uint8_t *data;
	size_t len;
};

static int probe(void *ctx, const char *root, const char *name, struct ib_doctor_file *ret)
{
	const struct probe *p = ctx;

	(void)root;
	if (name[0] == 'm')		/* "missing..." */
		return -1;
	ret->exists = name[0] != 'n';
	ret->size = p->len + (name[0] == 'b' ? 1u << 20 : 0);
	ret->head_len = p->len < IB_DOCTOR_HEAD ? p->len : IB_DOCTOR_HEAD;
	memcpy(ret->head, p->data, ret->head_len);
	return 0;
}

/* A cursor over the input; reads past the end give zeros. */
struct cur {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct cur *c)
{
	if (!c->n)
		return 0;
	c->n--;
	return *c->p++;
}

static uint64_t be(struct cur *c, int bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | u8(c);
	return v;
}

/* Appends s to a detail of cap bytes (silently stops when full). */
static void put(char *out, size_t cap, const char *s)
{
	size_t len = strlen(out);

	if (len < cap)
		snprintf(out + len, cap - len, "%s", s);
}

/* A string value of the input, escaped as JSON (control bytes as \u00XX,
 * other bytes as they are: not always UTF-8). */
static void raw_string(struct cur *c, char *out, size_t cap)
{
	size_t n = (size_t)u8(c) * 2;	/* past the timeline's 256-byte fields */
	char s[510 * 6 + 3] = "\"", *w = s + 1;

	while (n-- && c->n) {
		uint8_t b = u8(c);

		if (b < 0x20 || b == 0x7f)
			w += sprintf(w, "\\u%04x", b);
		else if (b == '"' || b == '\\')
			w += sprintf(w, "\\%c", b);
		else
			*w++ = (char)b;
	}
	*w++ = '"';
	*w = 0;
	put(out, cap, s);
}

static void value(struct cur *c, char *out, size_t cap)
{
	uint8_t t = u8(c);
	char num[32];

	switch (t % 8) {
	case 0: case 1:
		put(out, cap, "\"");
		put(out, cap, values[u8(c) % (sizeof(values) / sizeof(values[0]))]);
		put(out, cap, "\"");
		break;
	case 2:
		raw_string(c, out, cap);
		break;
	case 3:
		snprintf(num, sizeof(num), "%d", (int)(int8_t)u8(c) * (t >> 3));
		put(out, cap, num);
		break;
	case 4:
		snprintf(num, sizeof(num), "%lld", (long long)be(c, 8));
		put(out, cap, num);
		break;
	case 5:
		put(out, cap, t & 8 ? "null" : "true");
		break;
	case 6:
		put(out, cap, t & 8 ? "[1,2]" : "{\"a\":1}");
		break;
	default:
		snprintf(num, sizeof(num), "%lld", (long long)(T0_US - (int64_t)be(c, 3) * 1000));
		put(out, cap, num);
		break;
	}
}

static void detail(struct cur *c, char *out, size_t cap)
{
	uint8_t l = u8(c);

	out[0] = 0;
	if (l & 0x80) {
		size_t n = 0;

		for (size_t k = l & 0x7f; k-- && c->n && n + 1 < cap;) {
			uint8_t b = u8(c);

			if (b)
				out[n++] = (char)b;
		}
		out[n] = 0;
		return;
	}
	put(out, cap, "{");
	for (size_t k = 0; k < l % 16 && c->n; k++) {
		put(out, cap, k ? ",\"" : "\"");
		put(out, cap, keys[u8(c) % (sizeof(keys) / sizeof(keys[0]))]);
		put(out, cap, "\":");
		value(c, out, cap);
	}
	put(out, cap, "}");
}

static void event(struct cur *c, bool raw_ts, int64_t now, struct ib_event *e)
{
	uint8_t p = u8(c), m = u8(c);

	snprintf(e->proto, sizeof(e->proto), "%s",
		 p < sizeof(protos) / sizeof(protos[0]) ? protos[p] : "x");
	snprintf(e->kind, sizeof(e->kind), "%s", kinds[u8(c) % (sizeof(kinds) / sizeof(kinds[0]))]);
	if (m & 4) {
		uint8_t b[6];

		for (int i = 0; i < 6; i++)
			b[i] = u8(c);
		ib_str_sanitize(b, 6, e->mac, sizeof(e->mac));
	} else {
		snprintf(e->mac, sizeof(e->mac), "%s", macs[m % 3]);
	}
	e->ts_us = raw_ts ? (int64_t)be(c, 8) : now - (int64_t)(int16_t)be(c, 2) * 1000000;
	detail(c, e->detail, sizeof(e->detail));
}

/* The rule table's entry for id, by pointer (ids are static). */
static const struct ib_doctor_rule_info *rule_of(const char *id, size_t *ret_i)
{
	const struct ib_doctor_rule_info *r;

	for (size_t i = 0; (r = ib_doctor_mac_rule(i)); i++)
		if (r->id == id) {
			*ret_i = i;
			return r;
		}
	return NULL;
}

static bool terminated(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

/* Valid UTF-8, as jansson (the CLI's --json) takes it. */
static bool utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

static bool no_control(const char *s)
{
	for (; *s; s++)
		if ((uint8_t)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* The count evidence starts with ("%ld ..."), checked against the total. */
static void check_count(const char *evidence, long total)
{
	char *end;
	long v = strtol(evidence, &end, 10);

	CHECK(end != evidence && v >= 1 && v <= total);
}

static void check_report(const struct ib_doctor_report *r, size_t n_ev, long total)
{
	unsigned per_rule[32] = { 0 };
	char in_events[64], text[4 * IB_DOCTOR_TEXT];

	CHECK(r->n <= IB_DOCTOR_MAX && r->more == 0);
	CHECK(terminated(r->stopped, sizeof(r->stopped)) && r->stopped[0]);
	snprintf(in_events, sizeof(in_events), " in %zu events)", n_ev);
	CHECK(n_ev == 0 || strstr(r->stopped, in_events));
	CHECK(no_control(r->stopped) && utf8(r->stopped));
	for (size_t i = 0; i < r->n; i++) {
		const struct ib_doctor_finding *f = &r->v[i];
		const struct ib_doctor_rule_info *info;
		size_t k;

		CHECK((info = rule_of(f->rule, &k)) && k < 32);
		CHECK(f->severity == info->severity);
		CHECK(f->severity >= IB_DOCTOR_INFO && f->severity <= IB_DOCTOR_ERROR);
		CHECK(terminated(f->cause, sizeof(f->cause)) && f->cause[0]);
		CHECK(terminated(f->fix, sizeof(f->fix)) && f->fix[0]);
		CHECK(terminated(f->evidence, sizeof(f->evidence)));
		CHECK(no_control(f->cause) && no_control(f->fix) && no_control(f->evidence));
		CHECK(utf8(f->cause) && utf8(f->fix) && utf8(f->evidence));
		per_rule[k]++;
		/* never-seen: exactly when nothing was seen, and alone */
		CHECK(strcmp(f->rule, "never-seen") != 0 || (n_ev == 0 && r->n == 1));
		CHECK(per_rule[k] <= (strcmp(f->rule, "bootfile-invalid") == 0 ? 8u :
				      strcmp(f->rule, "offer-no-request") == 0 ? 2u : 1u));
		if (!strcmp(f->rule, "relay-no-subnet") || !strcmp(f->rule, "offer-no-request") ||
		    !strcmp(f->rule, "chainload-loop") || !strcmp(f->rule, "local-boot-ignored"))
			check_count(f->evidence, total);
		/* what the daemon's watch logs */
		ib_str_sanitize((const uint8_t *)f->cause, strlen(f->cause), text, sizeof(text));
		CHECK(no_control(text));
		ib_str_sanitize((const uint8_t *)f->evidence, strlen(f->evidence), text, sizeof(text));
		CHECK(no_control(text));
	}
	CHECK((n_ev == 0) == (per_rule[0] == 1));
}

/* The timeline alone: counts and times within their bounds; returns the
 * events' total count (what rules may quote at most), and the number of
 * events the rules see in *ret_n: a refused or unverified event is no
 * activity of the machine (journal/timeline.h), kept out of the timeline. */
static long timeline(const struct ib_event *ev, size_t n, size_t *ret_n)
{
	struct ib_dt t;
	long total = 0;
	size_t j = 0;

	CHECK(ib_dt_parse(ev, n, &t) == 0 && t.n <= n);
	for (size_t i = 0; i < n; i++) {
		const struct ib_dt_ev *e;

		if (ib_timeline_unverified(&ev[i]))
			continue;
		CHECK(j < t.n);
		e = &t.v[j++];

		CHECK(e->count >= 1 && e->count <= IB_DT_COUNT_MAX);
		CHECK(e->ts_us >= 0 && e->ts_us <= IB_DT_TIME_MAX);
		CHECK(e->last_us >= e->ts_us && e->last_us <= IB_DT_TIME_MAX);
		CHECK(e->proto == ev[i].proto && e->kind == ev[i].kind);
		CHECK(e->v4 + e->v6 <= 1 && e->arch >= -1 && e->arch <= 0xffff);
		CHECK(e->status == -1 || (e->status >= 100 && e->status <= 999));
		total += e->count;
	}
	CHECK(j == t.n);
	*ret_n = t.n;
	ib_dt_done(&t);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_configs(void)
{
	static const char *const names[] = { "lab.yaml", "lifecycle.yaml" };
	char path[4096], err[IB_CONFIG_ERRLEN];

	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", IB_FUZZ_EXAMPLES, names[i]);
		if (ib_config_load(path, &cfgs[i], err) < 0) {
			fprintf(stderr, "fuzz_doctor: %s\n", err);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cur c = { data, size };
	uint8_t flags = u8(&c);
	int64_t now = T0_US + (int64_t)be(&c, 2) * 1000000;
	struct ib_event *ev, *copy;
	struct ib_doctor_report *r1, *r2;
	struct probe pr;
	struct ib_doctor_addr addr = { .ifname = "lab0", .family = AF_INET,
				       .addr = { 198, 18, 0, 1 }, .prefix_len = 24 };
	struct ib_doctor_host host = { .addrs = &addr, .n_addrs = 1 };
	struct ib_doctor_mac_input in = { .now_us = now };
	size_t n = 0;
	long total = 0;
	size_t seen;

	if (!cfgs[0])
		load_configs();
	/* the events first into a scratch array, then an exact-size copy */
	ev = calloc(MAX_EV, sizeof(*ev));
	CHECK(ev);
	while (c.n && n < MAX_EV) {
		event(&c, flags & 8, now, &ev[n]);
		n++;
	}
	copy = malloc(n ? n * sizeof(*ev) : 1);
	CHECK(copy);
	memcpy(copy, ev, n * sizeof(*ev));
	/* the probe's file: the last quarter of the input */
	pr.data = data + size - size / 4;
	pr.len = size / 4;
	in.cfg = cfgs[flags & 1];
	in.ev = copy;
	in.n_ev = n;
	in.probe = flags & 2 ? probe : NULL;
	in.probe_ctx = &pr;
	in.host = flags & 4 ? &host : NULL;
	r1 = malloc(sizeof(*r1));
	r2 = malloc(sizeof(*r2));
	CHECK(r1 && r2);
	CHECK(ib_doctor_mac(&in, r1) == r1->n);
	total = timeline(copy, n, &seen);
	check_report(r1, seen, total);
	CHECK(ib_doctor_mac(&in, r2) == r2->n);
	CHECK(memcmp(r1, r2, sizeof(*r1)) == 0);
	CHECK(memcmp(copy, ev, n * sizeof(*ev)) == 0);
	free(r1);
	free(r2);
	free(copy);
	free(ev);
	return 0;
}
