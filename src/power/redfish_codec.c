/*
 * Redfish JSON codec (see redfish_codec.h).  Every string taken from a
 * body is length-checked and every path is checked before it reaches a URL.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "power/redfish_codec.h"

/* DSP8010 ResetType enumeration, in enum ib_redfish_reset order. */
static const char *const reset_names[IB_REDFISH_RESET_COUNT] = {
	[IB_REDFISH_RESET_ON] = "On",
	[IB_REDFISH_RESET_FORCE_OFF] = "ForceOff",
	[IB_REDFISH_RESET_GRACEFUL_SHUTDOWN] = "GracefulShutdown",
	[IB_REDFISH_RESET_FORCE_RESTART] = "ForceRestart",
	[IB_REDFISH_RESET_POWER_CYCLE] = "PowerCycle",
	[IB_REDFISH_RESET_GRACEFUL_RESTART] = "GracefulRestart",
};

/* Which resets do an op, best first (-1 ends a row). */
static const int op_resets[IB_POWER_OP_COUNT][3] = {
	[IB_POWER_STATUS] = { -1 },
	[IB_POWER_ON] = { IB_REDFISH_RESET_ON, -1 },
	[IB_POWER_OFF] = { IB_REDFISH_RESET_FORCE_OFF, -1 },
	[IB_POWER_CYCLE] = { IB_REDFISH_RESET_POWER_CYCLE, IB_REDFISH_RESET_FORCE_RESTART, -1 },
	[IB_POWER_SOFT] = { IB_REDFISH_RESET_GRACEFUL_SHUTDOWN, -1 },
	[IB_POWER_PXE_ONCE] = { -1 },
	[IB_POWER_DISK_ONCE] = { -1 },
};

static json_t *load(const char *buf, size_t len)
{
	if (len > IB_REDFISH_BODY_MAX)
		return NULL;
	/* JSON_REJECT_DUPLICATES: two PowerStates are a malformed body */
	return json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
}

int ib_redfish_path_ok(const char *path)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789-._~!$&'()*+,;=:@/%";
	size_t n = strlen(path);

	if (n == 0 || n >= IB_REDFISH_PATHLEN || strncmp(path, "/redfish/", 9) != 0)
		return -EINVAL;
	if (strspn(path, ok) != n || strstr(path, "/../") || strstr(path, "//") ||
	    (n >= 3 && strcmp(path + n - 3, "/..") == 0))
		return -EINVAL;
	return 0;
}

/* o.key."@odata.id" (or o.key itself when key is NULL) into out. */
static int odata_id(json_t *o, const char *key, char out[IB_REDFISH_PATHLEN])
{
	json_t *link = key ? json_object_get(o, key) : o;
	json_t *id = json_object_get(link, "@odata.id");
	const char *s = json_string_value(id);

	if (!s || json_string_length(id) != strlen(s) || ib_redfish_path_ok(s) < 0)
		return -EBADMSG;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int ib_redfish_parse_root(const char *buf, size_t len, struct ib_redfish_root *ret)
{
	json_t *o = load(buf, len);
	struct ib_redfish_root r = { 0 };

	if (!json_is_object(o)) {
		json_decref(o);
		return -EBADMSG;
	}
	if (odata_id(o, "Systems", r.systems) < 0)
		r.systems[0] = '\0';
	if (odata_id(json_object_get(o, "Links"), "Sessions", r.sessions) < 0)
		r.sessions[0] = '\0';
	json_decref(o);
	*ret = r;
	return 0;
}

int ib_redfish_parse_collection(const char *buf, size_t len, char ret_path[IB_REDFISH_PATHLEN],
				size_t *ret_count)
{
	json_t *o = load(buf, len), *m;
	char path[IB_REDFISH_PATHLEN];
	int r = -EBADMSG;

	m = json_object_get(o, "Members");
	if (!json_is_array(m))
		goto out;
	if (json_array_size(m) == 0) {
		r = -ENOENT;
		goto out;
	}
	if (odata_id(json_array_get(m, 0), NULL, path) < 0)
		goto out;
	memcpy(ret_path, path, sizeof(path));
	*ret_count = json_array_size(m);
	r = 0;
out:
	json_decref(o);
	return r;
}

static int reset_parse(const char *s)
{
	for (int i = 0; i < IB_REDFISH_RESET_COUNT; i++)
		if (strcmp(s, reset_names[i]) == 0)
			return i;
	return -1;
}

/* Actions."#ComputerSystem.Reset": its target and allowed values. */
static int parse_reset_action(json_t *sys, struct ib_redfish_system *r)
{
	json_t *act = json_object_get(json_object_get(sys, "Actions"), "#ComputerSystem.Reset");
	json_t *t = json_object_get(act, "target");
	json_t *allowed = json_object_get(act, "ResetType@Redfish.AllowableValues");
	const char *s = json_string_value(t);
	size_t i;
	json_t *v;

	if (!act)
		return 0;	/* no reset action: power actions will fail clearly */
	if (!s || json_string_length(t) != strlen(s) || ib_redfish_path_ok(s) < 0)
		return -EBADMSG;
	memcpy(r->reset_target, s, strlen(s) + 1);
	json_array_foreach(allowed, i, v) {
		int k = json_is_string(v) ? reset_parse(json_string_value(v)) : -1;

		if (k >= 0)
			r->allowed_resets |= 1u << k;
	}
	return 0;
}

int ib_redfish_parse_system(const char *buf, size_t len, struct ib_redfish_system *ret)
{
	json_t *o = load(buf, len);
	struct ib_redfish_system r = { 0 };
	const char *ps;
	int e = -EBADMSG;

	if (!json_is_object(o))
		goto out;
	ps = json_string_value(json_object_get(o, "PowerState"));
	if (!ps)
		goto out;
	/* DSP8010 PowerState: On, Off, PoweringOn, PoweringOff, Paused */
	if (strcmp(ps, "On") == 0 || strcmp(ps, "PoweringOn") == 0 || strcmp(ps, "Paused") == 0)
		r.power = IB_POWER_STATE_ON;
	else if (strcmp(ps, "Off") == 0 || strcmp(ps, "PoweringOff") == 0)
		r.power = IB_POWER_STATE_OFF;
	else
		r.power = IB_POWER_STATE_UNKNOWN;
	if (parse_reset_action(o, &r) < 0)
		goto out;
	r.has_boot = json_is_object(json_object_get(o, "Boot"));
	*ret = r;
	e = 0;
out:
	json_decref(o);
	return e;
}

void ib_redfish_parse_error(const char *buf, size_t len, char *out, size_t outlen)
{
	json_t *o = load(buf, len), *err, *info;
	const char *m;
	json_t *mv;

	out[0] = '\0';
	err = json_object_get(o, "error");
	info = json_array_get(json_object_get(err, "@Message.ExtendedInfo"), 0);
	/* the extended message is the specific one; error.message is generic */
	mv = json_object_get(info, "Message");
	if (!json_is_string(mv))
		mv = json_object_get(err, "message");
	m = json_string_value(mv);
	if (m)
		ib_str_sanitize((const uint8_t *)m, json_string_length(mv), out, outlen);
	json_decref(o);
}

int ib_redfish_reset_for(enum ib_power_op op, uint32_t allowed, enum ib_redfish_reset *ret)
{
	if ((unsigned)op >= IB_POWER_OP_COUNT || op_resets[op][0] < 0)
		return -EINVAL;
	for (int i = 0; i < 3 && op_resets[op][i] >= 0; i++) {
		int k = op_resets[op][i];

		/* a system that lists nothing is taken to allow everything */
		if (allowed == 0 || (allowed & (1u << k))) {
			*ret = (enum ib_redfish_reset)k;
			return 0;
		}
	}
	return -EOPNOTSUPP;
}

const char *ib_redfish_reset_name(enum ib_redfish_reset r)
{
	return (unsigned)r < IB_REDFISH_RESET_COUNT ? reset_names[r] : NULL;
}

int ib_redfish_reset_body(enum ib_redfish_reset r, char *out, size_t outlen)
{
	const char *n = ib_redfish_reset_name(r);
	int w;

	if (!n)
		return -EINVAL;
	w = snprintf(out, outlen, "{\"ResetType\": \"%s\"}", n);
	return w < 0 || (size_t)w >= outlen ? -ENOBUFS : 0;
}

int ib_redfish_boot_body(enum ib_power_op op, int efi, char *out, size_t outlen)
{
	const char *target = op == IB_POWER_PXE_ONCE ? "Pxe" : op == IB_POWER_DISK_ONCE ? "Hdd" : NULL;
	int w;

	if (!target)
		return -EINVAL;
	w = snprintf(out, outlen,
		     "{\"Boot\": {\"BootSourceOverrideEnabled\": \"Once\", "
		     "\"BootSourceOverrideTarget\": \"%s\", \"BootSourceOverrideMode\": \"%s\"}}",
		     target, efi ? "UEFI" : "Legacy");
	return w < 0 || (size_t)w >= outlen ? -ENOBUFS : 0;
}
