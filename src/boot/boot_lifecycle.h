/*
 * The boot decision of a machine in the lifecycle (issue #12): what the
 * state of a machine with no inventory entry makes it boot.  Pure, like
 * boot_plan.c: the HTTP shell reads the state from the store and calls
 * this; the tests drive it with a table.
 *
 *   discovered, accepted, wiping, releasing, ready   the agent (ib.mode=
 *                     discover, wipe, wipe, wipe, wait), its kernel and
 *                     initrd from lifecycle.agent_kernel/_initrd
 *   allocated, installing   the allocated profile's script; the agent
 *                           (ib.mode=install) when the profile has an image
 *   installed               its disk (exit, or sanboot per the profile's
 *                           local_method)
 *   failed, retired         its disk (exit), saying why on the console
 */
#ifndef IB_BOOT_BOOT_LIFECYCLE_H
#define IB_BOOT_BOOT_LIFECYCLE_H

#include <jansson.h>

#include "boot/boot_plan.h"
#include "config/config.h"
#include "inventory/lifecycle.h"

/* What a state boots. */
enum ib_lc_boot {
	IB_LC_BOOT_AGENT,		/* the agent, with ib.mode */
	IB_LC_BOOT_PROFILE,		/* the allocated profile */
	IB_LC_BOOT_DISK,		/* the local disk */
};

/* What state s boots, and for the agent its ib.mode in *ret_mode
 * ("discover", "wipe", "wait"; may be NULL). */
enum ib_lc_boot ib_boot_lifecycle_kind(enum ib_lc_state s, const char **ret_mode);

/*
 * Renders the script of a machine in state s into out.  values are
 * ib_boot_values() of a plan whose profile is `profile` (and no group),
 * with the private values added: the agent's command line carries
 * {{token}}.  profile is the allocated profile (allocated, installing,
 * installed), or NULL.  Adds lc_state (and for the agent lc_mode,
 * agent_kernel_url, agent_initrd_url) to values.  Returns 0; -EINVAL (err
 * says why: a value the iPXE context refuses, no token, no profile);
 * -E2BIG or -ENOMEM.
 */
int ib_boot_lifecycle_render(const struct ib_config *cfg, enum ib_lc_state s,
			     const struct ib_profile *profile, json_t *values,
			     struct ib_tpl_out *out, char *err);

/*
 * The digest of a sha256sum(1) line in text (len bytes, not terminated):
 * the first word, 64 hex digits followed by a blank or the end, written
 * lowercase into out.  Returns 0, or -EBADMSG.  (An image's sha256_file.)
 */
int ib_boot_lifecycle_sha256sum(const char *text, size_t len, char out[65]);

#endif
