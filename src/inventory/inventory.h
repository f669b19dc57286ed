/*
 * The inventory: profiles, groups and machines from the config file plus
 * those written through the REST API, which live in the store.  The
 * snapshot the daemon serves (and `ironboot explain` reasons over) is
 * always both, validated as one; this module joins them and applies one
 * API change atomically.
 */
#ifndef IB_INVENTORY_INVENTORY_H
#define IB_INVENTORY_INVENTORY_H

#include <stdbool.h>

#include "config/config.h"
#include "store/store.h"

#define IB_INVENTORY_BODY_MAX (1u << 20)	/* bytes of one object's JSON */

/* One change the API asks for. */
struct ib_inventory_change {
	enum ib_config_kind kind;	/* which list */
	const char *name;		/* the object's key (normal MAC for machines) */
	const char *json;		/* the new object (JSON text), or NULL: delete */
};

#define IB_INVENTORY_REFUSED_MAX 32	/* refusals kept by name; more are counted */

/* Stored objects that a snapshot leaves out, and why. */
struct ib_inventory_refused {
	size_t n;			/* entries of v in use */
	size_t more;			/* refused beyond IB_INVENTORY_REFUSED_MAX */
	struct {
		enum ib_config_kind kind;	/* its list */
		char name[128];			/* its key (truncated) */
		char reason[IB_CONFIG_ERRLEN];	/* the loader's error */
	} v[IB_INVENTORY_REFUSED_MAX];
};

/*
 * Loads the config file's text t with the store's inventory objects
 * (ib_config_load_text_with).  A stored object that does not validate
 * with the file and the objects before it (in the order they were
 * made), such as a group naming a profile since removed from the file,
 * is left out and listed in *refused (may be NULL): one bad object never
 * stops the daemon from serving everything else.  Returns 0 and *ret;
 * a negative errno with the reason in err (IB_CONFIG_ERRLEN bytes) when
 * the file itself does not load or the store cannot be read.
 */
int ib_inventory_load(const struct ib_config_text *t, struct ib_store *store,
		      struct ib_config **ret, struct ib_inventory_refused *refused,
		      char *err);

/*
 * Writes change c inside a store transaction, loads the snapshot it makes
 * (with the file's text t as last loaded: an API write is no reload)
 * and, only if that validates, commits.  The caller owns *ret (the new
 * snapshot) and swaps it in; on any failure nothing is stored.  The
 * change is refused if the object it writes would be left out, or if it
 * would leave out an object that was served before (deleting a profile a
 * stored group names); objects already refused stay refused and do not
 * block unrelated writes.  Returns 0; -ENOENT (delete of an object that
 * is not stored); -EINVAL (the new inventory does not validate: err says
 * why); -EIO (storage).
 * *ret_created (may be NULL) says whether a put made a new object.
 */
int ib_inventory_apply(const struct ib_config_text *t, struct ib_store *store,
		       const struct ib_inventory_change *c, int64_t now_us,
		       struct ib_config **ret, bool *ret_created, char *err);

/* The snapshot's entry for (kind, name) and whether it came from the
 * API: 1 = from the API, 0 = from the file, -ENOENT = none. */
int ib_inventory_lookup(const struct ib_config *cfg, enum ib_config_kind kind,
			const char *name);

#endif
