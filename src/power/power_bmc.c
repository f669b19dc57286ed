/*
 * A BMC entry from JSON (see power_bmc.h): every key from a table, each
 * value checked for type, length and range.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "power/power_bmc.h"
#include "power/power_int.h"

enum kind { STR, BOOL, UINT };

struct field {
	const char *key;	/* JSON key */
	enum kind kind;		/* its type */
	size_t off;		/* where in struct ib_bmc */
	size_t len;		/* STR: buffer size; UINT: maximum */
};

#define F(k, t, m, l) { k, t, offsetof(struct ib_bmc, m), l }
static const struct field fields[] = {
	F("name", STR, name, IB_POWER_NAMELEN),
	F("address", STR, address, IB_POWER_ADDRLEN),
	F("credential", STR, credential, IB_POWER_NAMELEN),
	F("ca_file", STR, ca_file, IB_POWER_PATHLEN),
	F("system", STR, system, IB_POWER_ADDRLEN),
	F("efi", BOOL, efi, 0),
	F("insecure", BOOL, insecure, 0),
	F("timeout_ms", UINT, timeout_ms, 600000),
	F("retries", UINT, retries, 10),
	F("deadline_ms", UINT, deadline_ms, 3600000),
};

static int set_field(const struct field *f, json_t *v, struct ib_bmc *b)
{
	char *p = (char *)b + f->off;
	const char *s;

	switch (f->kind) {
	case STR:
		s = json_string_value(v);
		if (!s || json_string_length(v) != strlen(s) || strlen(s) >= f->len)
			return -EINVAL;
		for (const char *q = s; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				return -EINVAL;
		memcpy(p, s, strlen(s) + 1);
		return 0;
	case BOOL:
		if (!json_is_boolean(v))
			return -EINVAL;
		*(bool *)p = json_is_true(v);
		return 0;
	case UINT:
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    (size_t)json_integer_value(v) > f->len)
			return -EINVAL;
		*(unsigned *)p = (unsigned)json_integer_value(v);
		return 0;
	}
	return -EINVAL;
}

static const struct {
	const char *name;	/* as freeipmi's tools spell it (-W) */
	uint32_t bit;		/* IB_IPMI_WA_* */
} workarounds[] = {
	{ "opensesspriv", IB_IPMI_WA_OPENSESSPRIV },
	{ "authcap", IB_IPMI_WA_AUTHCAP },
	{ "intel20", IB_IPMI_WA_INTEL20 },
	{ "supermicro20", IB_IPMI_WA_SUPERMICRO20 },
	{ "sun20", IB_IPMI_WA_SUN20 },
	{ "integritycheckvalue", IB_IPMI_WA_INTEGRITYCHECKVALUE },
	{ "nochecksumcheck", IB_IPMI_WA_NOCHECKSUMCHECK },
};

int ib_power_bmc_workaround(const char *name, uint32_t *ret)
{
	for (size_t k = 0; name && k < sizeof(workarounds) / sizeof(workarounds[0]); k++)
		if (strcmp(name, workarounds[k].name) == 0) {
			*ret = workarounds[k].bit;
			return 0;
		}
	return -EINVAL;
}

static int set_workarounds(json_t *v, struct ib_bmc *b)
{
	uint32_t bit;
	size_t i;
	json_t *w;

	if (!json_is_array(v))
		return -EINVAL;
	json_array_foreach(v, i, w) {
		if (ib_power_bmc_workaround(json_string_value(w), &bit) < 0)
			return -EINVAL;
		b->ipmi_workarounds |= bit;
	}
	return 0;
}

/* The keys that are not plain fields: driver, auth, cipher_suite,
 * ipmi_workarounds. */
static int set_special(const char *k, json_t *v, struct ib_bmc *b)
{
	const char *s = json_string_value(v);

	if (strcmp(k, "driver") == 0 && s) {
		if (strcmp(s, "ipmi") == 0)
			b->driver = IB_BMC_IPMI;
		else if (strcmp(s, "redfish") == 0)
			b->driver = IB_BMC_REDFISH;
		else
			return -EINVAL;
		return 0;
	}
	if (strcmp(k, "auth") == 0 && s) {
		if (strcmp(s, "basic") != 0 && strcmp(s, "session") != 0)
			return -EINVAL;
		b->basic_auth = strcmp(s, "basic") == 0;
		return 0;
	}
	if (strcmp(k, "cipher_suite") == 0 && json_is_integer(v)) {
		/* 3: HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128; 17: the SHA-256 forms */
		if (json_integer_value(v) != 3 && json_integer_value(v) != 17)
			return -EINVAL;
		b->cipher_suite = (uint8_t)json_integer_value(v);
		return 0;
	}
	if (strcmp(k, "ipmi_workarounds") == 0)
		return set_workarounds(v, b);
	return -ENOENT;
}

int ib_power_bmc_from_json(json_t *o, struct ib_bmc *ret, char err[IB_BMC_ERRLEN])
{
	struct ib_bmc b = { .cipher_suite = 3, .timeout_ms = IB_POWER_TIMEOUT_MS_DEFAULT,
			    .retries = IB_POWER_RETRIES_DEFAULT };
	bool has_driver = false;
	const char *k;
	json_t *v;

	if (!json_is_object(o)) {
		snprintf(err, IB_BMC_ERRLEN, "a BMC must be an object");
		return -EINVAL;
	}
	json_object_foreach(o, k, v) {
		size_t i;
		int r = set_special(k, v, &b);

		has_driver |= strcmp(k, "driver") == 0;
		if (r == -ENOENT) {
			for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
				if (strcmp(k, fields[i].key) == 0)
					break;
			r = i < sizeof(fields) / sizeof(fields[0]) ? set_field(&fields[i], v, &b)
								   : -ENOENT;
		}
		if (r < 0) {
			snprintf(err, IB_BMC_ERRLEN, r == -ENOENT ? "unknown key \"%.64s\"" :
				 "bad value for \"%.64s\"", k);
			return -EINVAL;
		}
	}
	if (!b.name[0] || !b.address[0] || !b.credential[0] || !has_driver) {
		snprintf(err, IB_BMC_ERRLEN, "name, driver, address and credential are required");
		return -EINVAL;
	}
	if (b.timeout_ms == 0) {
		snprintf(err, IB_BMC_ERRLEN, "%s: timeout_ms must be positive", b.name);
		return -EINVAL;
	}
	*ret = b;
	return 0;
}

/* The op and state names (power.h): pure, so they live with the codecs. */
static const char *const op_names[IB_POWER_OP_COUNT] = {
	[IB_POWER_STATUS] = "status",
	[IB_POWER_ON] = "on",
	[IB_POWER_OFF] = "off",
	[IB_POWER_CYCLE] = "cycle",
	[IB_POWER_SOFT] = "soft",
	[IB_POWER_PXE_ONCE] = "pxe_once",
	[IB_POWER_DISK_ONCE] = "disk_once",
};

const char *ib_power_op_name(enum ib_power_op op)
{
	return (unsigned)op < IB_POWER_OP_COUNT ? op_names[op] : NULL;
}

int ib_power_op_parse(const char *s, enum ib_power_op *ret)
{
	for (int i = 0; i < IB_POWER_OP_COUNT; i++)
		if (strcmp(s, op_names[i]) == 0) {
			*ret = (enum ib_power_op)i;
			return 0;
		}
	return -EINVAL;
}

const char *ib_power_state_name(enum ib_power_state s)
{
	return s == IB_POWER_STATE_ON ? "on" : s == IB_POWER_STATE_OFF ? "off" : "unknown";
}
