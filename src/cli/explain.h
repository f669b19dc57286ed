/*
 * `ironboot explain`: what a machine would receive at each boot stage and
 * why, computed by the daemon's own policy code against the current config
 * and lease table.
 */
#ifndef IB_CLI_EXPLAIN_H
#define IB_CLI_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "store/store.h"

/* Runs `explain` with its arguments (argv[0] is "explain"). Exit status. */
int ib_cli_explain(const struct ib_config *cfg, struct ib_store *store, bool json,
		   int argc, char **argv);

/*
 * The DHCPv6 stages (UEFI firmware, then iPXE) of the machine with this
 * MAC (explain6.c): printed when print is set, and returned as a JSON
 * array (new reference, NULL on ENOMEM).  arch -1: no option 61.
 */
json_t *ib_cli_explain6(const struct ib_config *cfg, struct ib_store *store,
			const uint8_t mac[6], int arch, bool print);

/*
 * The router advertisements on each boot link (explain6.c), from the
 * config and the daemon's "ra" journal events: whether a client there
 * waits for IPv6 configuration before it boots (no RA: iPXE waits ~16 s).
 * relayed: the client is behind a relay (its link's router advertises).
 * Printed when print is set; returned as a JSON array (new reference).
 */
json_t *ib_cli_explain_ra(const struct ib_config *cfg, struct ib_store *store, bool relayed,
			  bool print);

#endif
