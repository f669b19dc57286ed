/*
 * The agent's protocol messages (docs/AGENT.md): the instruction it polls
 * for and the progress it posts.  Pure (jansson in memory).
 *
 * An instruction is one JSON object with "action" one of none, wait,
 * reboot, wipe, install.  Unknown members are ignored (the daemon may add
 * some); a known member of the wrong type, an unknown action, or an
 * install without url, sha256 or disk is refused: the agent does nothing
 * destructive on a half-understood instruction.
 */
#ifndef IB_AGENT_PROTO_H
#define IB_AGENT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_url.h"

#define IB_AGENT_ID_MAX 64		/* bytes of an instruction id */
#define IB_AGENT_DISK_NAME_MAX 32	/* bytes of a kernel disk name */
#define IB_AGENT_SERIAL_MAX 64		/* bytes of a disk serial */
#define IB_AGENT_WIPE_DISKS_MAX 64	/* disks named by one wipe */
#define IB_AGENT_POLL_MS_DEFAULT 2000	/* between polls when not told */
#define IB_AGENT_POLL_MS_MIN 200
#define IB_AGENT_POLL_MS_MAX 60000
#define IB_AGENT_INSTRUCTION_MAX 65536	/* bytes of an instruction body */

enum ib_agent_action {
	IB_AGENT_ACTION_NONE,		/* nothing yet: poll again */
	IB_AGENT_ACTION_WAIT,		/* power off */
	IB_AGENT_ACTION_REBOOT,		/* reboot */
	IB_AGENT_ACTION_WIPE,		/* wipe disks */
	IB_AGENT_ACTION_INSTALL,	/* write an image to a disk */
};

/* How an image is compressed. */
enum ib_agent_format {
	IB_AGENT_FORMAT_RAW,
	IB_AGENT_FORMAT_GZIP,
	IB_AGENT_FORMAT_ZSTD,
};

/* A parsed instruction (no pointers; ~3 KiB). */
struct ib_agent_instruction {
	enum ib_agent_action action;
	char id[IB_AGENT_ID_MAX + 1];		/* "id", echoed in progress; "" */
	uint32_t poll_ms;			/* "poll_ms", clamped; default */
	/* wipe: "disks" (kernel names); none listed = every eligible disk */
	unsigned wipe_ndisks;
	char wipe_disks[IB_AGENT_WIPE_DISKS_MAX][IB_AGENT_DISK_NAME_MAX + 1];
	/* install */
	struct ib_agent_url url;		/* "url" */
	uint8_t sha256[32];			/* "sha256" of the bytes at url */
	enum ib_agent_format format;		/* "format", default raw */
	char disk[IB_AGENT_DISK_NAME_MAX + 1];	/* "disk", a kernel name */
	char disk_serial[IB_AGENT_SERIAL_MAX + 1];	/* "disk_serial" or "" */
};

/*
 * Parses an instruction body into *ret (written only on success).
 * Returns 0, or -EBADMSG (not JSON, not an object, a known member of the
 * wrong type), -EINVAL (unknown action or format, bad sha256 or disk
 * name, missing install member), or the URL parser's error for "url".
 * *ret_why (if not NULL) says what, for the progress report; static text.
 */
int ib_agent_instruction_parse(const char *body, size_t len,
			       struct ib_agent_instruction *ret,
			       const char **ret_why);

/* "none", "wait", "reboot", "wipe", "install". */
const char *ib_agent_action_name(enum ib_agent_action a);
/* "raw", "gzip", "zstd". */
const char *ib_agent_format_name(enum ib_agent_format f);

/* A kernel disk name: [a-z0-9_-], 1..32 bytes, not starting with '.' */
bool ib_agent_disk_name_ok(const char *name);

/* One progress report. */
struct ib_agent_progress {
	const char *mac;		/* the boot NIC */
	const char *instruction;	/* the instruction's id, or NULL/"" */
	const char *step;		/* "wipe:vda", "install:vda", "poweroff" */
	const char *status;		/* "running", "ok", "failed" */
	uint64_t bytes;			/* bytes done so far */
	uint64_t total;			/* bytes expected, 0 when unknown */
	uint64_t rate_bps;		/* bytes per second, recent */
	uint64_t duration_ms;		/* since the step started */
	const char *detail;		/* human text, or NULL */
	const char *error;		/* why it failed, or NULL */
};

/* The progress body (JSON text; free() it), or NULL without memory. */
char *ib_agent_progress_json(const struct ib_agent_progress *p);

#endif
