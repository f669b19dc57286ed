/*
 * The machine lifecycle's transition table; see lifecycle.h.
 */
#include "inventory/lifecycle.h"

#include <errno.h>
#include <string.h>

#include "common/util.h"

/*
 * next[state][event]: the new state, or IB_LC_NONE (0) for a refusal.
 * A row lists only what is allowed; everything else is refused.
 */
static const enum ib_lc_state next[IB_LC_N_STATES][IB_LC_N_EVENTS] = {
	[IB_LC_DISCOVERED] = {
		[IB_LC_EV_ACCEPT] = IB_LC_ACCEPTED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_ACCEPTED] = {
		[IB_LC_EV_WIPE] = IB_LC_WIPING,
		[IB_LC_EV_FAIL] = IB_LC_FAILED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_WIPING] = {
		[IB_LC_EV_WIPED] = IB_LC_READY,
		[IB_LC_EV_FAIL] = IB_LC_FAILED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_READY] = {
		[IB_LC_EV_ALLOCATE] = IB_LC_ALLOCATED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_ALLOCATED] = {
		[IB_LC_EV_INSTALL] = IB_LC_INSTALLING,
		/* nothing was written yet: straight back */
		[IB_LC_EV_RELEASE] = IB_LC_READY,
		[IB_LC_EV_FAIL] = IB_LC_FAILED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_INSTALLING] = {
		[IB_LC_EV_INSTALLED] = IB_LC_INSTALLED,
		[IB_LC_EV_RELEASE] = IB_LC_RELEASING,
		[IB_LC_EV_FAIL] = IB_LC_FAILED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_INSTALLED] = {
		[IB_LC_EV_RELEASE] = IB_LC_RELEASING,
		/* a second netboot after the install: its disk does not boot */
		[IB_LC_EV_FAIL] = IB_LC_FAILED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_RELEASING] = {
		[IB_LC_EV_WIPE] = IB_LC_WIPING,
		[IB_LC_EV_FAIL] = IB_LC_FAILED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_FAILED] = {
		[IB_LC_EV_RESET] = IB_LC_DISCOVERED,
		[IB_LC_EV_RETIRE] = IB_LC_RETIRED,
	},
	[IB_LC_RETIRED] = {
		[IB_LC_EV_RESET] = IB_LC_DISCOVERED,
	},
};

static const char *const state_names[IB_LC_N_STATES] = {
	[IB_LC_NONE] = "none",
	[IB_LC_DISCOVERED] = "discovered",
	[IB_LC_ACCEPTED] = "accepted",
	[IB_LC_WIPING] = "wiping",
	[IB_LC_READY] = "ready",
	[IB_LC_ALLOCATED] = "allocated",
	[IB_LC_INSTALLING] = "installing",
	[IB_LC_INSTALLED] = "installed",
	[IB_LC_RELEASING] = "releasing",
	[IB_LC_FAILED] = "failed",
	[IB_LC_RETIRED] = "retired",
};

static const char *const event_names[IB_LC_N_EVENTS] = {
	[IB_LC_EV_ACCEPT] = "accept",
	[IB_LC_EV_WIPE] = "wipe",
	[IB_LC_EV_WIPED] = "wiped",
	[IB_LC_EV_ALLOCATE] = "allocate",
	[IB_LC_EV_INSTALL] = "install",
	[IB_LC_EV_INSTALLED] = "installed",
	[IB_LC_EV_RELEASE] = "release",
	[IB_LC_EV_FAIL] = "fail",
	[IB_LC_EV_RETIRE] = "retire",
	[IB_LC_EV_RESET] = "reset",
};

int ib_lc_next(enum ib_lc_state from, enum ib_lc_event ev, enum ib_lc_state *ret)
{
	enum ib_lc_state to;

	if ((unsigned)from >= IB_LC_N_STATES || (unsigned)ev >= IB_LC_N_EVENTS)
		return -EINVAL;
	to = next[from][ev];
	if (to == IB_LC_NONE)
		return -EPERM;
	*ret = to;
	return 0;
}

const char *ib_lc_state_name(enum ib_lc_state s)
{
	return (unsigned)s < IB_LC_N_STATES ? state_names[s] : NULL;
}

enum ib_lc_state ib_lc_state_parse(const char *s)
{
	for (size_t i = 1; s && i < IB_LC_N_STATES; i++)
		if (strcmp(s, state_names[i]) == 0)
			return (enum ib_lc_state)i;
	return IB_LC_NONE;
}

const char *ib_lc_event_name(enum ib_lc_event ev)
{
	return (unsigned)ev < IB_LC_N_EVENTS ? event_names[ev] : NULL;
}

int ib_lc_event_parse(const char *s, enum ib_lc_event *ret)
{
	for (size_t i = 0; s && i < IB_LC_N_EVENTS; i++)
		if (strcmp(s, event_names[i]) == 0) {
			*ret = (enum ib_lc_event)i;
			return 0;
		}
	return -EINVAL;
}

bool ib_lc_boots_agent(enum ib_lc_state s)
{
	return s == IB_LC_DISCOVERED || s == IB_LC_ACCEPTED || s == IB_LC_WIPING ||
	       s == IB_LC_READY || s == IB_LC_RELEASING;
}
