/*
 * Redfish JSON, both ways, as a pure codec (no I/O, no clock, no log):
 * the service root, the Systems collection, a ComputerSystem, an error
 * body; the Reset and Boot-override request bodies.  DMTF DSP0266 (the
 * protocol) and DSP8010 (schemas: ServiceRoot, ComputerSystem v1.x).
 * fuzz/fuzz_redfish.c drives every parser.
 */
#ifndef IB_POWER_REDFISH_CODEC_H
#define IB_POWER_REDFISH_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "power/power.h"

#define IB_REDFISH_PATHLEN 256		/* an @odata.id, with NUL */
#define IB_REDFISH_BODY_MAX (1 << 20)	/* a response body we read at most */

/* ResetType values (ComputerSystem.Reset), as bits of allowed_resets. */
enum ib_redfish_reset {
	IB_REDFISH_RESET_ON,
	IB_REDFISH_RESET_FORCE_OFF,
	IB_REDFISH_RESET_GRACEFUL_SHUTDOWN,
	IB_REDFISH_RESET_FORCE_RESTART,
	IB_REDFISH_RESET_POWER_CYCLE,
	IB_REDFISH_RESET_GRACEFUL_RESTART,
	IB_REDFISH_RESET_COUNT,
};

struct ib_redfish_root {
	char systems[IB_REDFISH_PATHLEN];	/* Systems collection ("" if absent) */
	char sessions[IB_REDFISH_PATHLEN];	/* Links.Sessions ("" if absent) */
};

struct ib_redfish_system {
	enum ib_power_state power;		/* PowerState On/Off (PoweringOn counts On) */
	char reset_target[IB_REDFISH_PATHLEN];	/* Actions."#ComputerSystem.Reset".target */
	uint32_t allowed_resets;		/* bits of enum ib_redfish_reset; 0 = not said */
	int has_boot;				/* the Boot object is there */
};

/* Parses the service root (/redfish/v1/).  -EBADMSG if it is not an object. */
int ib_redfish_parse_root(const char *buf, size_t len, struct ib_redfish_root *ret);
/* The first member of a collection (Members[0]."@odata.id"); -ENOENT for an
 * empty one, -EBADMSG for a malformed one.  ret_count: the member count. */
int ib_redfish_parse_collection(const char *buf, size_t len, char ret_path[IB_REDFISH_PATHLEN],
				size_t *ret_count);
/* A ComputerSystem.  -EBADMSG if it has no PowerState or a bad Reset target. */
int ib_redfish_parse_system(const char *buf, size_t len, struct ib_redfish_system *ret);
/* A Redfish error body's message (error.message, or the first
 * @Message.ExtendedInfo Message), sanitised; "" when there is none. */
void ib_redfish_parse_error(const char *buf, size_t len, char *out, size_t outlen);

/* The ResetType for op given what the system allows: -EINVAL for an op
 * without a reset, -EOPNOTSUPP if the system allows none that does it.
 * A cycle is PowerCycle, else ForceRestart. */
int ib_redfish_reset_for(enum ib_power_op op, uint32_t allowed, enum ib_redfish_reset *ret);
const char *ib_redfish_reset_name(enum ib_redfish_reset r);
/* {"ResetType": "..."} into out; -ENOBUFS if it does not fit. */
int ib_redfish_reset_body(enum ib_redfish_reset r, char *out, size_t outlen);
/* The PATCH body of a one-time boot override (PXE_ONCE / DISK_ONCE):
 * {"Boot": {"BootSourceOverrideEnabled": "Once", "BootSourceOverrideTarget":
 * "Pxe"|"Hdd", "BootSourceOverrideMode": "UEFI"|"Legacy"}}. */
int ib_redfish_boot_body(enum ib_power_op op, int efi, char *out, size_t outlen);
/* 0 if path is an absolute Redfish path we may put in a URL: starts with
 * "/redfish/", only RFC 3986 path characters, no "..". */
int ib_redfish_path_ok(const char *path);

#endif
