/*
 * The agent's settings from the kernel command line (docs/AGENT.md):
 *
 *   ib.server=http://HOST:PORT[/BASE]  the daemon's API base (required)
 *   ib.token=TOKEN                     the machine's bearer token (required)
 *   ib.mac=aa:bb:cc:dd:ee:ff           the boot NIC (optional)
 *   ib.mode=discover|wipe|wait|install why the daemon booted it (optional,
 *                                      default discover; echoed in the report)
 *
 * Pure.  Words are split at blanks outside double quotes as the kernel
 * does (a quoted value loses its quotes); other words are ignored; a
 * repeated ib.* key keeps its last value, as the kernel's own parameters.
 */
#ifndef IB_AGENT_CMDLINE_H
#define IB_AGENT_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/agent_url.h"

#define IB_AGENT_TOKEN_MAX 128		/* bytes of a token */
#define IB_AGENT_CMDLINE_MAX 4096	/* bytes of a command line read */

/* ib.mode=: why the daemon booted the agent (informational, see AGENT.md). */
enum ib_agent_mode {
	IB_AGENT_MODE_DISCOVER,
	IB_AGENT_MODE_WIPE,
	IB_AGENT_MODE_WAIT,
	IB_AGENT_MODE_INSTALL,
};

/* The parsed command line. */
struct ib_agent_cmdline {
	struct ib_agent_url server;		/* ib.server= */
	char server_text[IB_AGENT_URL_MAX];	/* ib.server= as written */
	char token[IB_AGENT_TOKEN_MAX + 1];	/* ib.token= */
	bool has_mac;				/* ib.mac= given */
	char mac[18];				/* ib.mac=, lowercase "aa:..:ff" */
	enum ib_agent_mode mode;		/* ib.mode=, default discover */
};

/*
 * Parses text[0..len) (a /proc/cmdline) into *ret, written only on success.
 * Returns 0; -ENOENT when ib.server= or ib.token= is missing; -EINVAL for a
 * malformed value (the URL's own errors from ib_agent_url_parse pass
 * through: -EPROTONOSUPPORT, -EADDRNOTAVAIL, -ENAMETOOLONG); -E2BIG over
 * IB_AGENT_CMDLINE_MAX.  On error *ret_key (if not NULL) names the key.
 */
int ib_agent_cmdline_parse(const char *text, size_t len,
			   struct ib_agent_cmdline *ret, const char **ret_key);

/* "discover", "wipe", "wait", "install". */
const char *ib_agent_mode_name(enum ib_agent_mode m);

/*
 * A token is 1..IB_AGENT_TOKEN_MAX bytes of RFC 6750 2.1 b64token
 * characters (ALPHA DIGIT "-._~+/" and trailing "="): it goes into a
 * header line as is.
 */
bool ib_agent_token_ok(const char *token);

#endif
