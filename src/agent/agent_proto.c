/* The agent's protocol messages: see agent_proto.h. */
#include "agent/agent_proto.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const action_names[] = {
	[IB_AGENT_ACTION_NONE] = "none",
	[IB_AGENT_ACTION_WAIT] = "wait",
	[IB_AGENT_ACTION_REBOOT] = "reboot",
	[IB_AGENT_ACTION_WIPE] = "wipe",
	[IB_AGENT_ACTION_INSTALL] = "install",
};

static const char *const format_names[] = {
	[IB_AGENT_FORMAT_RAW] = "raw",
	[IB_AGENT_FORMAT_GZIP] = "gzip",
	[IB_AGENT_FORMAT_ZSTD] = "zstd",
};

const char *ib_agent_action_name(enum ib_agent_action a)
{
	return (size_t)a < IB_ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

const char *ib_agent_format_name(enum ib_agent_format f)
{
	return (size_t)f < IB_ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

/* Index of s in names[n], or -1. */
static int lookup(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

bool ib_agent_disk_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > IB_AGENT_DISK_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Member key of o as a string: 0 (absent: *ret NULL), or -EBADMSG. */
static int opt_string(json_t *o, const char *key, const char **ret)
{
	json_t *v = json_object_get(o, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EBADMSG;
	*ret = json_string_value(v);
	return 0;
}

struct parse {
	json_t *o;			/* the instruction object */
	struct ib_agent_instruction *in;	/* being filled */
	const char **why;		/* what was wrong */
};

static int fail(struct parse *p, int err, const char *why)
{
	*p->why = why;
	return err;
}

static int parse_wipe(struct parse *p)
{
	json_t *disks = json_object_get(p->o, "disks"), *d;
	size_t i;

	if (!disks || json_is_null(disks))
		return 0;
	if (!json_is_array(disks))
		return fail(p, -EBADMSG, "disks is not an array");
	if (json_array_size(disks) > IB_AGENT_WIPE_DISKS_MAX)
		return fail(p, -EINVAL, "too many disks");
	json_array_foreach(disks, i, d) {
		if (!json_is_string(d) || !ib_agent_disk_name_ok(json_string_value(d)))
			return fail(p, -EINVAL, "disks holds a bad disk name");
		strcpy(p->in->wipe_disks[i], json_string_value(d));
	}
	p->in->wipe_ndisks = (unsigned)json_array_size(disks);
	return 0;
}

static int parse_install(struct parse *p)
{
	struct ib_agent_instruction *in = p->in;
	const char *url, *sha, *fmt, *disk, *serial;
	size_t n = 0;
	int r;

	if (opt_string(p->o, "url", &url) < 0 || opt_string(p->o, "sha256", &sha) < 0 ||
	    opt_string(p->o, "format", &fmt) < 0 || opt_string(p->o, "disk", &disk) < 0 ||
	    opt_string(p->o, "disk_serial", &serial) < 0)
		return fail(p, -EBADMSG, "an install member is not a string");
	if (!url || !sha || !disk)
		return fail(p, -EINVAL, "install needs url, sha256 and disk");
	r = ib_agent_url_parse(url, &in->url);
	if (r < 0)
		return fail(p, r, "url is not an http:// URL with an address literal");
	if (strlen(sha) != 64 || ib_hex_parse(sha, in->sha256, sizeof(in->sha256), &n) < 0 ||
	    n != 32 || strchr(sha, ':'))
		return fail(p, -EINVAL, "sha256 is not 64 hex digits");
	r = fmt ? lookup(format_names, IB_ARRAY_SIZE(format_names), fmt) : 0;
	if (r < 0)
		return fail(p, -EINVAL, "format is not raw, gzip or zstd");
	in->format = (enum ib_agent_format)r;
	if (!ib_agent_disk_name_ok(disk))
		return fail(p, -EINVAL, "disk is not a kernel disk name");
	strcpy(in->disk, disk);
	if (serial && strlen(serial) > IB_AGENT_SERIAL_MAX)
		return fail(p, -EINVAL, "disk_serial is too long");
	strcpy(in->disk_serial, serial ? serial : "");
	return 0;
}

/* What an instruction id may hold: the daemon's own are "wipe-N" and
 * "install-N". */
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"

/* "action", "id" and "poll_ms", common to every action. */
static int parse_common(struct parse *p)
{
	const char *action, *id;
	json_t *poll = json_object_get(p->o, "poll_ms");
	int a;

	if (opt_string(p->o, "action", &action) < 0 || opt_string(p->o, "id", &id) < 0)
		return fail(p, -EBADMSG, "action or id is not a string");
	if (!action)
		return fail(p, -EINVAL, "no action");
	a = lookup(action_names, IB_ARRAY_SIZE(action_names), action);
	if (a < 0)
		return fail(p, -EINVAL, "unknown action");
	p->in->action = (enum ib_agent_action)a;
	if (id && strlen(id) > IB_AGENT_ID_MAX)
		return fail(p, -EINVAL, "id is too long");
	/* echoed verbatim in every progress report, which the daemon matches
	 * to the instruction: a byte the report would sanitise loses them all */
	if (id && id[strspn(id, ID_CHARS)])
		return fail(p, -EINVAL, "id has a character other than A-Z a-z 0-9 . _ : -");
	strcpy(p->in->id, id ? id : "");
	p->in->poll_ms = IB_AGENT_POLL_MS_DEFAULT;
	if (poll && !json_is_null(poll)) {
		json_int_t v;
		if (!json_is_integer(poll))
			return fail(p, -EBADMSG, "poll_ms is not an integer");
		v = json_integer_value(poll);
		p->in->poll_ms = (uint32_t)(v < IB_AGENT_POLL_MS_MIN ? IB_AGENT_POLL_MS_MIN :
					    v > IB_AGENT_POLL_MS_MAX ? IB_AGENT_POLL_MS_MAX : v);
	}
	return 0;
}

int ib_agent_instruction_parse(const char *body, size_t len,
			       struct ib_agent_instruction *ret,
			       const char **ret_why)
{
	struct ib_agent_instruction *in = calloc(1, sizeof(*in));
	const char *why = NULL;
	struct parse p = { .in = in, .why = &why };
	int r;

	if (!in)
		return -ENOMEM;
	p.o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(p.o))
		r = fail(&p, -EBADMSG, "not a JSON object");
	else if ((r = parse_common(&p)) == 0) {
		if (in->action == IB_AGENT_ACTION_WIPE)
			r = parse_wipe(&p);
		else if (in->action == IB_AGENT_ACTION_INSTALL)
			r = parse_install(&p);
	}
	if (r == 0)
		*ret = *in;
	else if (ret_why)
		*ret_why = why;
	json_decref(p.o);
	free(in);
	return r;
}

/* Sets key to s (sanitised: it may come from the wire) unless s is NULL/"". */
static void set_text(json_t *o, const char *key, const char *s)
{
	char buf[512];

	if (!s || !*s)
		return;
	ib_str_sanitize((const uint8_t *)s, strlen(s), buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

char *ib_agent_progress_json(const struct ib_agent_progress *p)
{
	json_t *o = json_object();
	char *s;

	if (!o)
		return NULL;
	set_text(o, "mac", p->mac);
	set_text(o, "instruction", p->instruction);
	set_text(o, "step", p->step);
	set_text(o, "status", p->status);
	json_object_set_new(o, "bytes", json_integer((json_int_t)p->bytes));
	if (p->total)
		json_object_set_new(o, "total", json_integer((json_int_t)p->total));
	json_object_set_new(o, "rate_bps", json_integer((json_int_t)p->rate_bps));
	json_object_set_new(o, "duration_ms", json_integer((json_int_t)p->duration_ms));
	set_text(o, "detail", p->detail);
	set_text(o, "error", p->error);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}
