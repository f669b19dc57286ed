/*
 * `ironboot explain`: what a machine would receive at each boot stage and
 * why, computed by the daemon's own policy code against the current config
 * and lease table.
 */
#ifndef IB_CLI_EXPLAIN_H
#define IB_CLI_EXPLAIN_H

#include <stdbool.h>

#include "config/config.h"
#include "store/store.h"

/* Runs `explain` with its arguments (argv[0] is "explain"). Exit status. */
int ib_cli_explain(const struct ib_config *cfg, struct ib_store *store, bool json,
		   int argc, char **argv);

#endif
