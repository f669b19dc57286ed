/*
 * The boot decision of the HTTP boot service: which group, profile and
 * inventory entry a machine asking for its iPXE script gets, and the
 * script and install configs rendered for it.  Pure policy: no I/O, no
 * clock, no logging; the HTTP shell, `ironboot explain` and the tests call
 * the same functions.
 *
 * Selection.  Facts are what the request says (mac, uuid, hostname, serial,
 * arch, platform), with the machine entry of the same MAC winning over the
 * request for uuid, hostname and serial, and supplying the labels.  Every
 * group whose selector constraints all hold matches; the one with the most
 * constraints (specificity; each label counts one) wins.  The loader
 * refuses two groups of equal specificity that some machine could match
 * both, so there is never a tie.  The catch-all group (empty selector,
 * specificity 0) is the default.
 *
 * No group and no default.  The plan has no group and no profile, and the
 * script is a built-in one that says so on the console and exits iPXE, so
 * the firmware goes on to its next boot device (usually the local disk):
 * an unknown machine is never installed over.
 *
 * Values.  A value that the template's context refuses (for scripts, any
 * value that could change an iPXE command line: blanks, '$', '{', "||"...)
 * fails the render with -EINVAL and err naming the key: the HTTP shell
 * answers 422 and journals it.
 */
#ifndef IB_BOOT_BOOT_PLAN_H
#define IB_BOOT_BOOT_PLAN_H

#include <stdbool.h>

#include <jansson.h>

#include "config/config.h"
#include "http/template.h"

#define IB_BOOT_MAC_STRLEN 18		/* "aa:bb:cc:dd:ee:ff" and NUL */
#define IB_BOOT_FACT_MAX 255		/* bytes of one fact from a request */
#define IB_BOOT_WHY_LEN 256		/* bytes of plan.why, NUL included */
#define IB_BOOT_ERRLEN (IB_TPL_ERRLEN + 64) /* bytes of a render error */

/* A machine's hardware as its lifecycle report gives it (ib_hw_facts_parse),
 * for the selectors vendor, product, disk_min_gib and memory_min_gib. */
struct ib_hw_facts {
	char vendor[128];		/* system.vendor, or "" */
	char product[128];		/* system.product, or "" */
	uint64_t memory_bytes;		/* memory.total_bytes, or 0 */
	uint64_t disk_max_bytes;	/* the largest disks[].size_bytes, or 0 */
	char uuid[64];			/* system.uuid (SMBIOS), or "" */
};

/*
 * Reads the facts of a hardware report (JSON text, docs/AGENT.md) into
 * *ret; members the report lacks or gives in another type stay empty.
 * Returns 0, or -EINVAL when report is not a JSON object.
 */
int ib_hw_facts_parse(const char *report, struct ib_hw_facts *ret);

/* What a boot request says about the machine (iPXE settings). */
struct ib_facts {
	char mac[IB_BOOT_MAC_STRLEN];	/* lowercase colon form, or "" unknown */
	const char *uuid;		/* ${uuid}, or NULL; caller's memory */
	const char *hostname;		/* ${hostname}, or NULL */
	const char *serial;		/* ${serial}, or NULL */
	const char *arch;		/* ${buildarch}: i386, x86_64, arm64..., or NULL */
	const char *platform;		/* ${platform}: pcbios, efi, or NULL */
	const struct ib_hw_facts *hw;	/* its hardware report, or NULL */
};

/* What a machine boots, and why.  Pointers into the config snapshot:
 * valid as long as it is. */
struct ib_boot_plan {
	const struct ib_group *group;	/* chosen group, or NULL: none and no default */
	const struct ib_profile *profile; /* its profile, or NULL with group */
	const struct ib_machine *machine; /* inventory entry of the MAC, or NULL */
	char why[IB_BOOT_WHY_LEN];	/* "group rack1 (mac=..., labels.rack=r1; specificity 2)" */
};

/*
 * Parses a MAC ("aa:bb:..", '-' separated, any case) into f->mac in the
 * normal form.  Returns 0 or -EINVAL (f untouched).
 */
int ib_facts_set_mac(struct ib_facts *f, const char *s);

/*
 * Chooses group, profile and machine entry for facts f (see the top of
 * this file) into *ret.  Returns 0, or -EINVAL when a fact is longer than
 * IB_BOOT_FACT_MAX bytes (*ret untouched).
 */
int ib_boot_plan(const struct ib_config *cfg, const struct ib_facts *f,
		 struct ib_boot_plan *ret);

/*
 * Builds the template context of plan: mac, uuid, hostname, serial, arch,
 * platform (machine entry over request), base_url, group, profile, labels
 * (the machine's), metadata (machine over group over profile), kernel_url,
 * initrd_urls (asset paths become base_url/assets/<path>) and initrds, the
 * same in order as {url, name}: name is the image name the built-in script
 * fetches it under and names on the kernel line (the last segment of its
 * path; unique).  Missing values are null.  Never the machine's token or
 * secrets (ib_boot_values_add_private()).  Returns a new reference, or
 * NULL on ENOMEM.
 */
json_t *ib_boot_values(const struct ib_config *cfg, const struct ib_facts *f,
		       const struct ib_boot_plan *plan);

/*
 * Adds to values v of plan what only the machine itself may see, for a
 * request authorized as that machine (boot/machine_auth.h): "token" (the
 * machine's token, or null without one), "machine_query" ("mac=<mac>&
 * token=<token>", ready for a URL, or null), and "secrets": the profile's
 * secrets with the machine entry's over them.  ib_boot_values() never
 * holds them, so explain, the API and every unauthorized render lack them.
 * Returns 0, or -ENOMEM.
 */
int ib_boot_values_add_private(json_t *v, const struct ib_boot_plan *plan, const char *token);

/*
 * Renders the iPXE script of plan into out (ib_tpl_out_init'ed by the
 * caller).  The script always starts with the line "#!ipxe".  A profile
 * that boots a kernel without a script of its own gets
 *
 *   #!ipxe
 *   echo ironboot: mac {{mac}} group {{group}} profile {{profile}}
 *   kernel {{kernel_url}} <args> initrd=<name> ...   (one per initrd)
 *   initrd --name <name> <url>                        (each initrd)
 *   boot
 *
 * where the initrd= arguments let the Linux EFI stub of an iPXE without
 * LoadFile2 find its initrds (none are added when the args name one).
 * Returns 0;
 * -EINVAL when a value is refused or a custom script does not start with
 * "#!ipxe" (err, IB_BOOT_ERRLEN bytes, says which key or why); -E2BIG or
 * -ENOMEM.
 */
int ib_boot_render_script(const struct ib_config *cfg, const struct ib_boot_plan *plan,
			  const json_t *values, struct ib_tpl_out *out, char *err);

/*
 * Renders install config name of plan's profile into out.  Returns 0,
 * -ENOENT when the profile has no such config (or there is no profile),
 * else as ib_boot_render_script().
 */
int ib_boot_render_config(const struct ib_config *cfg, const struct ib_boot_plan *plan,
			  const json_t *values, const char *name, struct ib_tpl_out *out,
			  char *err);

#endif
