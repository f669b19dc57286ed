/* ironboot profiles|groups|machines (inventory_cmd.c). */
#ifndef IB_CLI_INVENTORY_CMD_H
#define IB_CLI_INVENTORY_CMD_H

#include <stdbool.h>

#include "config/config.h"

/*
 * Runs "KIND [list | show NAME | put NAME FILE | create FILE | delete NAME]"
 * with argv[0] the kind's word.  cfg is the snapshot with the store's
 * objects.  Returns the exit status.
 */
int ib_cli_inventory(const struct ib_config *cfg, enum ib_config_kind kind, bool json,
		     int argc, char **argv);

#endif
