/*
 * ironboot machines: the inventory's machines with their lifecycle state,
 * and the operator's lifecycle moves (issue #12).
 */
#ifndef IB_CLI_MACHINES_CMD_H
#define IB_CLI_MACHINES_CMD_H

#include <stdbool.h>

#include "config/config.h"
#include "store/store.h"

/*
 * `ironboot machines ...` (argv[0] is "machines").  Handles list (with a
 * STATE column, --state S), show MAC (the lifecycle row and report when
 * there is one), accept|release|retire|reset MAC and allocate PROFILE MAC
 * (through the daemon's API, journalled as by "cli"); anything else goes
 * to ib_cli_inventory().  Returns the exit status.
 */
int ib_cli_machines(const struct ib_config *cfg, struct ib_store *store, bool json,
		    int argc, char **argv);

#endif
