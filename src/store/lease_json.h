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

/*
 * A stored string as JSON: itself when it is UTF-8, else escaped
 * (ib_str_sanitize: bytes outside printable ASCII as \xNN), so one row
 * with bytes from the wire never breaks a whole listing.  New reference,
 * or NULL only when out of memory.
 */
json_t *ib_json_text(const char *s);

/* A journal event as the API and the CLI list it, its detail parsed (an
 * empty object if it does not parse).  New reference, NULL when out of
 * memory. */
json_t *ib_event_json(const struct ib_event *e);

#endif
