/*
 * ironboot power: power operations on machines' BMCs through the running
 * daemon's API (issue #13; docs/POWER.md).
 */
#ifndef IB_CLI_POWER_CMD_H
#define IB_CLI_POWER_CMD_H

#include "config/config.h"
#include "store/store.h"

/*
 * `ironboot power OP MAC|--all|--state S` (argv[0] is "power"); OP is
 * status, on, off, cycle, soft, pxe-once or disk-once.  Each machine's
 * operation is one POST /api/v1/machines/MAC/power/OP?by=cli, answered
 * when its BMC has; --all: every machine with a BMC entry; --state S:
 * the lifecycle's machines in S that have one.  Returns the exit status:
 * 0 when every operation succeeded.
 */
int ib_cli_power(const struct ib_config *cfg, struct ib_store *store, int argc, char **argv);

#endif
