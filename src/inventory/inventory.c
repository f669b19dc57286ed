/*
 * Joins the config file and the store's inventory objects (inventory.h).
 */
#include "inventory/inventory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"


/* The store's objects, copied out of its rows. */
struct objects {
	struct ib_config_object *v;	/* the objects; strings owned */
	size_t n;			/* in use */
	size_t cap;			/* allocated */
};

static void objects_done(struct objects *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free((char *)o->v[i].name);
		free((char *)o->v[i].json);
	}
	free(o->v);
}

static int add_row(const struct ib_inv_row *row, void *ctx)
{
	struct objects *o = ctx;
	struct ib_config_object *obj;
	enum ib_config_kind kind;

	if (ib_config_kind_parse(row->kind, &kind) < 0)
		return -EPROTO;		/* the schema's CHECK forbids it */
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct ib_config_object *v = reallocarray(o->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	obj = &o->v[o->n];
	obj->kind = kind;
	obj->name = strdup(row->name);
	obj->json = strdup(row->body);
	if (!obj->name || !obj->json) {
		free((char *)obj->name);
		free((char *)obj->json);
		return -ENOMEM;
	}
	o->n++;
	return 0;
}

static void refuse(struct ib_inventory_refused *rf, const struct ib_config_object *o,
		   const char *reason)
{
	if (!rf)
		return;
	if (rf->n == IB_INVENTORY_REFUSED_MAX) {
		rf->more++;
		return;
	}
	rf->v[rf->n].kind = o->kind;
	snprintf(rf->v[rf->n].name, sizeof(rf->v[rf->n].name), "%s", o->name);
	snprintf(rf->v[rf->n].reason, sizeof(rf->v[rf->n].reason), "%s", reason);
	rf->n++;
}

/*
 * The file with as many of the objects as validate: each object in turn
 * joins those accepted before it, and stays out if the snapshot would not
 * load with it.  Kinds go in the order they name each other (profiles,
 * then the groups that name them, then machines), each in the store's
 * order.  Only reached when the whole set does not load, so the
 * quadratic walk costs nothing on a healthy store.
 */
static int load_each(const struct ib_config_text *t, struct objects *o,
		     struct ib_config **ret, struct ib_inventory_refused *rf, char *err)
{
	struct ib_config_object *acc = calloc(o->n ? o->n : 1, sizeof(*acc));
	struct ib_config *best = NULL, *next;
	char why[IB_CONFIG_ERRLEN];
	size_t k = 0;
	int r;

	if (!acc)
		return -ENOMEM;
	if ((r = ib_config_load_text_with(t, NULL, 0, &best, err)) < 0)
		goto out;		/* the file itself is wrong */
	for (int kind = 0; kind < IB_CONFIG_N_KINDS; kind++) {
		for (size_t i = 0; i < o->n; i++) {
			if ((int)o->v[i].kind != kind)
				continue;
			acc[k] = o->v[i];
			if (ib_config_load_text_with(t, acc, k + 1, &next, why) < 0) {
				refuse(rf, &o->v[i], why);
				continue;
			}
			ib_config_free(best);
			best = next;
			k++;
		}
	}
	*ret = best;
	best = NULL;
out:
	ib_config_free(best);
	free(acc);
	return r;
}

int ib_inventory_load(const struct ib_config_text *t, struct ib_store *store,
		      struct ib_config **ret, struct ib_inventory_refused *refused,
		      char *err)
{
	struct objects o = { 0 };
	int r;

	if (refused)
		refused->n = refused->more = 0;
	r = ib_store_inv_foreach(store, add_row, &o);
	if (r < 0) {
		snprintf(err, IB_CONFIG_ERRLEN, "cannot read the stored inventory: %s",
			 strerror(-r));
		objects_done(&o);
		return r;
	}
	r = ib_config_load_text_with(t, o.v, o.n, ret, err);
	if (r < 0 && o.n > 0)
		r = load_each(t, &o, ret, refused, err);
	objects_done(&o);
	return r;
}

/* Is (kind, name) in rf? */
static bool was_refused(const struct ib_inventory_refused *rf, enum ib_config_kind kind,
			const char *name)
{
	for (size_t i = 0; i < rf->n; i++)
		if (rf->v[i].kind == kind && strcmp(rf->v[i].name, name) == 0)
			return true;
	return false;
}

/*
 * 0 if the change may stand: neither the changed object nor any object
 * served before (not in *before) is refused in *after; else -EINVAL with
 * the reason in err.
 */
static int check_refusals(const struct ib_inventory_change *c,
			  const struct ib_inventory_refused *before,
			  const struct ib_inventory_refused *after, char *err)
{
	for (size_t i = 0; i < after->n; i++) {
		bool self = after->v[i].kind == c->kind && strcmp(after->v[i].name, c->name) == 0;

		if (self || !was_refused(before, after->v[i].kind, after->v[i].name)) {
			snprintf(err, IB_CONFIG_ERRLEN, "%s", after->v[i].reason);
			return -EINVAL;
		}
	}
	if (after->more > before->more) {
		snprintf(err, IB_CONFIG_ERRLEN, "the change leaves stored objects out");
		return -EINVAL;
	}
	return 0;
}

int ib_inventory_apply(const struct ib_config_text *t, struct ib_store *store,
		       const struct ib_inventory_change *c, int64_t now_us,
		       struct ib_config **ret, bool *ret_created, char *err)
{
	const char *kind = ib_config_kind_name(c->kind);
	struct ib_inventory_refused *rf = NULL;	/* before and after the change */
	struct ib_config *next = NULL;
	bool created = false;
	int r;

	err[0] = '\0';
	r = ib_store_begin(store);
	if (r < 0)
		goto err_storage;
	rf = malloc(2 * sizeof(*rf));
	if (!rf) {
		r = -ENOMEM;
		goto err_rollback;
	}
	r = ib_inventory_load(t, store, &next, &rf[0], err);
	ib_config_free(next);
	next = NULL;
	if (r < 0)
		goto err_rollback;
	if (c->json) {
		struct ib_inv_row row = { .kind = kind, .name = c->name, .body = c->json,
					  .updated_us = now_us };

		r = ib_store_inv_put(store, &row, &created);
	} else {
		r = ib_store_inv_delete(store, kind, c->name);
	}
	if (r < 0)
		goto err_rollback;
	r = ib_inventory_load(t, store, &next, &rf[1], err);
	if (r == 0 && (r = check_refusals(c, &rf[0], &rf[1], err)) < 0)
		ib_config_free(next);
	if (r < 0)
		goto err_rollback;
	free(rf);
	r = ib_store_commit(store);
	if (r < 0) {
		ib_config_free(next);
		goto err_storage;
	}
	*ret = next;
	if (ret_created)
		*ret_created = created;
	return 0;

err_rollback:
	free(rf);
	ib_store_rollback(store);
	if (r == -ENOENT && !err[0])
		snprintf(err, IB_CONFIG_ERRLEN, "no stored %s object %s", kind, c->name);
	if (r == -EIO && !err[0])
		snprintf(err, IB_CONFIG_ERRLEN, "the store failed");
	return r == -ENOENT || r == -EIO || r == -ENOMEM ? r : -EINVAL;
err_storage:
	snprintf(err, IB_CONFIG_ERRLEN, "the store failed: %s", strerror(-r));
	return -EIO;
}

int ib_inventory_lookup(const struct ib_config *cfg, enum ib_config_kind kind,
			const char *name)
{
	uint8_t mac[6];

	switch (kind) {
	case IB_CONFIG_PROFILES:
		for (size_t i = 0; i < cfg->n_profiles; i++)
			if (strcmp(cfg->profiles[i].name, name) == 0)
				return cfg->profiles[i].api;
		break;
	case IB_CONFIG_GROUPS:
		for (size_t i = 0; i < cfg->n_groups; i++)
			if (strcmp(cfg->groups[i].name, name) == 0)
				return cfg->groups[i].api;
		break;
	case IB_CONFIG_MACHINES:
		if (ib_mac_parse(name, mac) < 0)
			return -ENOENT;
		for (size_t i = 0; i < cfg->n_machines; i++)
			if (memcmp(cfg->machines[i].mac, mac, 6) == 0)
				return cfg->machines[i].api;
		break;
	case IB_CONFIG_BMCS:
		if (ib_mac_parse(name, mac) < 0 || !ib_config_bmc_for(cfg, mac))
			return -ENOENT;
		return ib_config_bmc_for(cfg, mac)->api;
	case IB_CONFIG_N_KINDS:
		break;
	}
	return -ENOENT;
}
