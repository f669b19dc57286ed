/*
 * Leases as JSON objects, the one shape the REST API (/api/v1/leases,
 * /api/v1/leases6) and `ironboot --json leases|leases6` both print.
 */
#ifndef IB_STORE_LEASE_JSON_H
#define IB_STORE_LEASE_JSON_H

#include <jansson.h>

#include "store/store.h"

/* "active", "released", "expired", "declined" (or "unknown"). */
const char *ib_lease_state_str(enum ib_lease_state s);

/* A new reference, or NULL when out of memory. */
json_t *ib_lease4_json(const struct ib_lease4 *l);
json_t *ib_lease6_json(const struct ib_lease6 *l);

#endif
