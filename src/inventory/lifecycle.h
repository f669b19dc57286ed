/*
 * The machine lifecycle (issue #12): which event moves a machine from
 * which state to which.  Pure: a table and lookups, no I/O; the store
 * (ib_store_machine_*) keeps the state and the shells (REST API, agent
 * endpoints, the boot script) apply events through
 * ib_lifecycle_apply() (lifecycle_store.c).
 *
 *   discovered -accept-> accepted -wipe-> wiping -wiped-> ready
 *   ready -allocate-> allocated -install-> installing -installed-> installed
 *   installed -release-> releasing -wipe-> wiping -wiped-> ready
 *
 * plus: fail (to failed, with step and reason) from a state where the
 * machine or its agent is working; retire from any state but retired;
 * reset (an operator's way out) from failed and retired to discovered;
 * release of a machine allocated but not yet installing goes straight
 * back to ready (nothing was written to its disks).
 */
#ifndef IB_INVENTORY_LIFECYCLE_H
#define IB_INVENTORY_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A machine's state.  The numbers are stored: never renumber. */
enum ib_lc_state {
	IB_LC_NONE = 0,			/* no lifecycle entry (not stored) */
	IB_LC_DISCOVERED = 1,		/* PXE-booted, unknown to the operator */
	IB_LC_ACCEPTED = 2,		/* the operator took it in; to be wiped */
	IB_LC_WIPING = 3,		/* its agent was told to wipe */
	IB_LC_READY = 4,		/* wiped, powered off, free to allocate */
	IB_LC_ALLOCATED = 5,		/* given a profile; to boot the installer */
	IB_LC_INSTALLING = 6,		/* installing its profile */
	IB_LC_INSTALLED = 7,		/* boots from its own disk */
	IB_LC_RELEASING = 8,		/* given back; to be wiped */
	IB_LC_FAILED = 9,		/* a step failed (step and reason kept) */
	IB_LC_RETIRED = 10,		/* out of service; never booted again */
	IB_LC_N_STATES
};

/* What happens to a machine. */
enum ib_lc_event {
	IB_LC_EV_ACCEPT,		/* operator: take a discovered machine in */
	IB_LC_EV_WIPE,			/* agent: a wipe instruction handed out */
	IB_LC_EV_WIPED,			/* agent: the wipe succeeded */
	IB_LC_EV_ALLOCATE,		/* operator: give it a profile */
	IB_LC_EV_INSTALL,		/* the installer (or an install) began */
	IB_LC_EV_INSTALLED,		/* the install succeeded */
	IB_LC_EV_RELEASE,		/* operator: give it back */
	IB_LC_EV_FAIL,			/* a step failed */
	IB_LC_EV_RETIRE,		/* operator: take it out of service */
	IB_LC_EV_RESET,			/* operator: start over as discovered */
	IB_LC_N_EVENTS
};

/*
 * The state event ev moves a machine in state from to, in *ret.
 * 0, or -EPERM when the table refuses ev in that state (*ret untouched),
 * -EINVAL for a state or event out of range.
 */
int ib_lc_next(enum ib_lc_state from, enum ib_lc_event ev, enum ib_lc_state *ret);

/* "discovered", ... "retired"; "none" for IB_LC_NONE, NULL out of range. */
const char *ib_lc_state_name(enum ib_lc_state s);
/* The state named s, or IB_LC_NONE when s names none (or "none"). */
enum ib_lc_state ib_lc_state_parse(const char *s);

/* "accept", "wipe", "wiped", "allocate", "install", "installed",
 * "release", "fail", "retire", "reset"; NULL out of range. */
const char *ib_lc_event_name(enum ib_lc_event ev);
/* The event named s into *ret: 0 or -EINVAL. */
int ib_lc_event_parse(const char *s, enum ib_lc_event *ret);

/* Whether the machine in state s boots the agent (discovered, accepted,
 * wiping, ready, releasing). */
bool ib_lc_boots_agent(enum ib_lc_state s);

/* ---- lifecycle_store.c: the table applied to the store ---- */

struct ib_store;
struct ib_machine_state;

/* One event to apply to a machine. */
struct ib_lifecycle_req {
	const char *mac;		/* any NIC of the machine, normal form */
	enum ib_lc_event ev;		/* what happens */
	const char *by;			/* who: "api", "cli", "agent", "http", "dhcp" */
	const char *profile;		/* allocate: the profile (checked by the caller) */
	const char *fail_step;		/* fail: the step ("wipe:vda"), sanitised */
	const char *fail_reason;	/* fail: why, sanitised */
	int64_t now_us;			/* unix microseconds */
	int64_t expect_version;		/* non-zero: move only the machine at this
					 * version, else -EEXIST (a decision made
					 * on a row read earlier) */
};

/*
 * Applies rq to the store: reads the machine, asks the table, writes the
 * new state with compare-and-set and journals it (proto "machine", kind
 * the event's name, detail by/from/to).  Entering failed keeps step and
 * reason; entering any other state clears them; allocate sets the
 * profile; ready and discovered clear it.
 *
 * Returns 0 with *ret the machine as moved; -ENOENT when no machine has
 * that NIC; -EPERM when the table refuses the event in the machine's
 * state, -EEXIST when another writer moved the machine between the read
 * and the write: both with *ret the machine as it stands (for a 409 that
 * names the current state); -EIO.  ret may be NULL.
 */
int ib_lifecycle_apply(struct ib_store *s, const struct ib_lifecycle_req *rq,
		       struct ib_machine_state *ret);

/*
 * The machine with NIC mac, made `discovered` when there is none (journal
 * kind "discovered", by).  0 and *ret (found or made), or the store's
 * -errno.
 */
int ib_lifecycle_discover(struct ib_store *s, const char *mac, const char *by,
			  int64_t now_us, struct ib_machine_state *ret);

/* Netboots of an installed machine further apart than this count afresh. */
#define IB_LC_LOCAL_BOOT_WINDOW_US (15 * 60 * 1000000LL)

/*
 * An installed machine fetched its boot script (whose answer is: boot from
 * your disk).  The first time after the install it is journalled
 * "local-boot" (the way a machine that netboots first reaches its disk);
 * a second fetch within IB_LC_LOCAL_BOOT_WINDOW_US of the one before means
 * the disk did not boot: journalled "local-boot-ignored"; a third moves the
 * machine to failed (step "local-boot").  Each carries the seconds since
 * it was installed.  A fetch longer than the window after the last one
 * (the installed system rebooted) counts as a first.  0 with *ret
 * updated; -EPERM when m is not installed; -EEXIST as ib_lifecycle_apply().
 */
int ib_lifecycle_local_boot(struct ib_store *s, const struct ib_machine_state *m,
			    int64_t now_us, struct ib_machine_state *ret);

/* A machine ib_lifecycle_expire() moved to failed. */
struct ib_lc_expired {
	char mac[18];			/* its first NIC (IB_MACHINE_MAC_STRLEN) */
	const char *step;		/* "wipe" or "install" (static) */
	uint32_t limit_s;		/* the timeout it outlived */
};

struct ib_lifecycle_config;

/*
 * The lifecycle's timeouts (docs/LIFECYCLE.md): every machine wiping for
 * longer than lc->wipe_timeout, or installing for longer than
 * lc->install_timeout (since it entered that state), moves to failed with
 * step "wipe" or "install" and reason "timeout: ..." (by "timer";
 * compare-and-set on the version read, so an agent's result that lands
 * meanwhile wins).  At most max machines per call, listed in ret[].
 * Returns how many moved, or the store's -errno.
 */
int ib_lifecycle_expire(struct ib_store *s, const struct ib_lifecycle_config *lc,
			int64_t now_us, struct ib_lc_expired *ret, size_t max);

/* ---- lifecycle_json.c ---- */

/*
 * The JSON shape of a machine's lifecycle row, for the API and the CLI:
 * {"mac", "nics", "state", "version", "profile", "failure": {"step",
 * "reason"} or null, "local_boots", "created_us", "updated_us",
 * "since_us", "report"}; report is the stored report's text parsed
 * (NULL or unparsable: null).  A new reference, or NULL on ENOMEM.
 */
struct json_t;
struct json_t *ib_lifecycle_json(const struct ib_machine_state *m, const char *report);

/*
 * A machine's power row (store.h; docs/POWER.md) for the API and the CLI:
 * {"state", "op", "error" (null when the last operation succeeded),
 * "checked_us", "changed_us"}.  A new reference, or NULL on ENOMEM.
 */
struct ib_power_row;
struct json_t *ib_power_row_json(const struct ib_power_row *row);

#endif
