/* ironboot profiles|groups|machines (inventory_cmd.c). */
#ifndef IB_CLI_INVENTORY_CMD_H
#define IB_CLI_INVENTORY_CMD_H

#include <stdbool.h>
#include <stddef.h>

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

/* An API answer being received (ib_cli_collect). */
struct ib_cli_reply {
	char *buf;			/* NUL-terminated, owned, or NULL */
	size_t len;
};
/* A libcurl write callback keeping at most 4 MiB of the answer in ctx
 * (a struct ib_cli_reply); past that it stops the transfer. */
size_t ib_cli_collect(char *p, size_t size, size_t n, void *ctx);

/* Reads the bearer token in path into out (cap bytes), trailing blanks
 * and newlines dropped: 0, -errno, or -EINVAL when it is empty. */
int ib_cli_read_token(const char *path, char *out, size_t cap);

#endif
