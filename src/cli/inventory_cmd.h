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

/*
 * POSTs an empty body to the daemon's /api/v1/<path> (http.base_url, with
 * http.api_token_file's token) and prints the answer: the exit status, 0
 * for a 2xx answer.
 */
int ib_cli_api_post(const struct ib_config *cfg, const char *path);
/* The same through the running daemon's control socket
 * (state_dir/ironbootd.sock, root's), which needs no token. */
int ib_cli_api_post_local(const struct ib_config *cfg, const char *path);
/* The same with a JSON body (text). */
int ib_cli_api_post_body(const struct ib_config *cfg, const char *path, const char *body);

#endif
