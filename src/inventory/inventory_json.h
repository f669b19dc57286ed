/*
 * Inventory objects as JSON (the REST API's and the CLI's shape).  Each
 * returns a new reference, or NULL on ENOMEM.
 */
#ifndef IB_INVENTORY_INVENTORY_JSON_H
#define IB_INVENTORY_INVENTORY_JSON_H

#include <jansson.h>

#include "config/config.h"

json_t *ib_inventory_profile_json(const struct ib_profile *p);
json_t *ib_inventory_group_json(const struct ib_group *g);
json_t *ib_inventory_machine_json(const struct ib_machine *m);
/* A BMC entry as its keys were given (docs/POWER.md): the credential by
 * name only (the entry holds no secret); the address as written. */
json_t *ib_inventory_bmc_json(const struct ib_bmc_config *b);

/* The snapshot's object (kind, name) (a MAC in any form for machines),
 * or NULL when there is none. */
json_t *ib_inventory_object_json(const struct ib_config *cfg, enum ib_config_kind kind,
				 const char *name);

#endif
