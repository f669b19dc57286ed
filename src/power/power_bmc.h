/*
 * A BMC's entry as JSON (the shape the inventory and the API will carry,
 * docs/POWER.md), parsed into struct ib_bmc.  Pure.
 *
 *   { "name": "node1-bmc", "driver": "ipmi" | "redfish",
 *     "address": "198.18.0.2" | "https://198.18.0.2",
 *     "credential": "lab-admin", "cipher_suite": 3 | 17, "efi": false,
 *     "insecure": false, "auth": "session" | "basic", "ca_file": "/path",
 *     "system": "/redfish/v1/Systems/1", "timeout_ms": 5000, "retries": 1 }
 */
#ifndef IB_POWER_BMC_H
#define IB_POWER_BMC_H

#include <jansson.h>

#include "power/power.h"

#define IB_BMC_ERRLEN 256

/* Fills ret from o; unknown keys and bad values are -EINVAL with err. */
int ib_power_bmc_from_json(json_t *o, struct ib_bmc *ret, char err[IB_BMC_ERRLEN]);

/* The IB_IPMI_WA_* bit of a freeipmi workaround name ("opensesspriv"):
 * 0, or -EINVAL for an unknown (or NULL) name. */
int ib_power_bmc_workaround(const char *name, uint32_t *ret);

#endif
