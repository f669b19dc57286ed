/*
 * The power section and the bmcs list (docs/POWER.md): which BMC powers
 * which machine, and how the daemon's pool polls them.  Each bmcs item is
 * read through its table, then checked and turned into the struct ib_bmc
 * the power module runs, so a bad entry is refused at load (or with 422
 * when the API writes it), never at the first power operation.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "power/power_bmc.h"

static const char *const driver_names[] = IB_CFG_BMC_DRIVERS;

#define P struct ib_power_config
static const struct ib_cfg_field power_fields[] = {
	FIELD(P, "secrets_file", F_ABS_PATH, secrets_file),
	FIELD(P, "poll_interval", F_SECONDS, poll_interval, .min = 0, .max = 86400),
	FIELD(P, "concurrency", F_U32, concurrency, .min = 1, .max = IB_POWER_WORKERS_MAX),
	FIELD(P, "off_check_grace", F_SECONDS, off_check_grace, .min = 0, .max = 3600),
	FIELD(P, "off_check_timeout", F_SECONDS, off_check_timeout, .min = 5, .max = 3600),
	FIELD(P, "default_credential", F_NAME, default_credential),
	FIELD(P, "default_driver", F_ENUM, default_driver, .names = driver_names),
};
#undef P
const struct ib_cfg_section ib_cfg_power_section = SECTION(power_fields);
static const char *const auth_names[] = { "session", "basic", NULL };

static int check_bmc(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj);

static void bmc_init(void *obj)
{
	struct ib_bmc_config *b = obj;

	b->driver = -1;
	b->cipher_suite = 3;
	b->timeout_ms = 5000;
	b->retries = 1;
}

#define B struct ib_bmc_config
static const struct ib_cfg_field bmc_fields[] = {
	FIELD(B, "mac", F_MAC, mac, .aux = offsetof(B, has_mac), .required = true),
	FIELD(B, "name", F_STRING, name),
	FIELD(B, "driver", F_ENUM, driver, .names = driver_names, .required = true),
	FIELD(B, "address", F_STRING, address, .required = true),
	FIELD(B, "port", F_U16, port, .min = 1, .max = 65535),
	FIELD(B, "credential", F_NAME, credential, .required = true),
	FIELD(B, "cipher_suite", F_U32, cipher_suite, .min = 3, .max = 17),
	FIELD(B, "efi", F_BOOL, efi),
	FIELD(B, "insecure", F_BOOL, insecure),
	FIELD(B, "auth", F_ENUM, auth, .names = auth_names),
	FIELD(B, "ca_file", F_ABS_PATH, ca_file),
	FIELD(B, "system", F_STRING, system),
	FIELD(B, "timeout_ms", F_U32, timeout_ms, .min = 1, .max = 600000),
	FIELD(B, "retries", F_U32, retries, .min = 0, .max = 10),
	FIELD(B, "deadline_ms", F_U32, deadline_ms, .min = 0, .max = 3600000),
	LIST(B, "ipmi_workarounds", F_STRING_LIST, ipmi_workarounds, n_ipmi_workarounds, 8),
};
#undef B
const struct ib_cfg_section ib_cfg_bmc_section =
	SECTION(bmc_fields, .elem_size = sizeof(struct ib_bmc_config), .init = bmc_init,
		.check = check_bmc);

/* Copies s into dst[cap]; false if it does not fit. */
static bool copy(char *dst, size_t cap, const char *s)
{
	return (size_t)snprintf(dst, cap, "%s", s ? s : "") < cap;
}

/* The address the driver gets: IPMI "host" or "host:port"; Redfish a base
 * URL, "https://" added to a bare host.  0, or a message. */
static const char *bmc_address(const struct ib_bmc_config *b, char *out, size_t cap)
{
	bool url = strstr(b->address, "://") != NULL;
	size_t n;

	if (strchr(b->address, '/') && !url)
		return "must be a host, or for redfish a URL";
	if (b->driver == IB_BMC_IPMI) {
		if (url)
			return "ipmi takes a host, not a URL";
		if (b->port && strchr(b->address, ':'))
			return "give the port in port, not in the address";
		n = b->port ? (size_t)snprintf(out, cap, "%s:%u", b->address, b->port)
			    : (size_t)snprintf(out, cap, "%s", b->address);
		return n < cap ? NULL : "too long";
	}
	if (url && strncmp(b->address, "https://", 8) != 0 &&
	    strncmp(b->address, "http://", 7) != 0)
		return "redfish takes https:// (or http:// for a lab) URLs";
	if (url && b->port)
		return "give the port inside the URL";
	if (url)
		n = (size_t)snprintf(out, cap, "%s", b->address);
	else if (b->port)
		n = (size_t)snprintf(out, cap, strchr(b->address, ':') ? "https://[%s]:%u" :
				     "https://%s:%u", b->address, b->port);
	else
		n = (size_t)snprintf(out, cap, strchr(b->address, ':') ? "https://[%s]" :
				     "https://%s", b->address);
	while (n > 0 && n < cap && out[n - 1] == '/')
		out[--n] = '\0';	/* the driver appends /redfish/v1/ */
	return n < cap ? NULL : "too long";
}

static int check_bmc(struct ib_cfg_walk *w, const struct ib_ynode *map, void *obj)
{
	struct ib_bmc_config *b = obj;
	struct ib_bmc *d = &b->bmc;
	char mac[IB_MAC_STRLEN];
	const char *problem;
	uint32_t bit;

	memset(d, 0, sizeof(*d));
	ib_mac_format(b->mac, 6, mac, sizeof(mac));
	if (!b->name && !(b->name = strdup(mac)))
		return ib_cfg_fail_nomem(w->err);
	if (!copy(d->name, sizeof(d->name), b->name))
		return ib_cfg_fail_in(w, map, NULL, 0, "name", "at most %d bytes",
				      IB_POWER_NAMELEN - 1);
	d->driver = (enum ib_bmc_driver)b->driver;
	if ((problem = bmc_address(b, d->address, sizeof(d->address))))
		return ib_cfg_fail_in(w, map, NULL, 0, "address", "%s", problem);
	copy(d->credential, sizeof(d->credential), b->credential);
	if (b->cipher_suite != 3 && b->cipher_suite != 17)
		return ib_cfg_fail_in(w, map, NULL, 0, "cipher_suite", "3 or 17");
	d->cipher_suite = (uint8_t)b->cipher_suite;
	for (size_t i = 0; i < b->n_ipmi_workarounds; i++) {
		if (ib_power_bmc_workaround(b->ipmi_workarounds[i], &bit) < 0)
			return ib_cfg_fail_in(w, map, "ipmi_workarounds", i, NULL,
					      "unknown workaround (opensesspriv, authcap, "
					      "intel20, supermicro20, sun20, "
					      "integritycheckvalue, nochecksumcheck)");
		d->ipmi_workarounds |= bit;
	}
	d->efi = b->efi;
	d->insecure = b->insecure;
	d->basic_auth = b->auth == 1;
	if (!copy(d->ca_file, sizeof(d->ca_file), b->ca_file))
		return ib_cfg_fail_in(w, map, NULL, 0, "ca_file", "too long");
	if (b->system && (b->system[0] != '/' || !copy(d->system, sizeof(d->system), b->system)))
		return ib_cfg_fail_in(w, map, NULL, 0, "system",
				      "a Redfish path such as /redfish/v1/Systems/1");
	d->timeout_ms = b->timeout_ms;
	d->retries = b->retries;
	d->deadline_ms = b->deadline_ms;
	return 0;
}

int ib_cfg_check_bmcs(struct ib_cfg_walk *w, const struct ib_ynode *root,
		      const struct ib_config *cfg)
{
	for (size_t i = 1; i < cfg->n_bmcs; i++)
		for (size_t k = 0; k < i; k++)
			if (memcmp(cfg->bmcs[i].mac, cfg->bmcs[k].mac, 6) == 0)
				return ib_cfg_fail_in(w, root, "bmcs", i, "mac",
						      "a second BMC for this machine "
						      "(bmcs[%zu] has it)", k);
	return 0;
}
