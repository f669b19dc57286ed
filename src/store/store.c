/*
 * What every store shares: the choice of backend from the config's
 * server.store, the commit histogram's buckets, ib_store_free(), and the
 * helpers of store_int.h.
 */
#include "store/store_int.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool ib_store_is_pg(const char *store)
{
	return store && (!strncmp(store, "postgresql://", 13) ||
			 !strncmp(store, "postgres://", 11));
}

int ib_store_open(const char *store, const char *sqlite_path, const char *password_file,
		  struct ib_store **ret, char *err)
{
	if (ib_store_is_pg(store))
		return ib_store_pg_open(store, password_file, ret, err);
	if (store && strcmp(store, "sqlite") != 0) {
		snprintf(err, 256, "unknown store \"%.64s\" (sqlite or postgresql://...)",
			 store);
		return -EINVAL;
	}
	return ib_store_sqlite_open(sqlite_path, ret, err);
}

void ib_store_stats_init(struct ib_store_stats *st)
{
	/* seconds: 0.25 ms (a page cache write) to 2.5 s (a stalled disk) */
	static const double le[] = { 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
				     0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };

	memset(st, 0, sizeof(*st));
	st->commit.n = IB_ARRAY_SIZE(le);
	memcpy(st->commit.le, le, sizeof(le));
}

void ib_store_count_commit(struct ib_store *s, int64_t commit_us, bool ok)
{
	if (ok)
		ib_mx_hist_observe(&s->stats.commit, (double)commit_us / 1e6);
	else
		s->stats.commit_errors++;
}

void ib_store_free(struct ib_store *s)
{
	if (s)
		s->ops->close(s);
}

void ib_store_set_err(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, 256, fmt, ap);
	va_end(ap);
}

void ib_store_machine_event(const char *mac, const struct ib_machine_note *note,
			    int64_t version, struct ib_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_us = note->now_us;
	snprintf(ev->mac, sizeof(ev->mac), "%s", mac);
	snprintf(ev->proto, sizeof(ev->proto), "machine");
	snprintf(ev->kind, sizeof(ev->kind), "%s", note->kind);
	/* every string here is the caller's own word (a state or event
	 * name, "api"...): never wire text, so nothing to escape */
	snprintf(ev->detail, sizeof(ev->detail),
		 "{\"by\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"version\":%lld%s%s}",
		 note->by, note->from ? note->from : "", note->to ? note->to : "",
		 (long long)version, note->extra ? "," : "", note->extra ? note->extra : "");
}

void ib_store_machine_created(struct ib_machine_state *m, int64_t now)
{
	m->version = 1;
	m->created_us = m->updated_us = m->since_us = now;
	m->local_boots = 0;
	m->has_report = false;
	m->n_nics = 1;
	memcpy(m->nics[0], m->mac, sizeof(m->mac));
}

void ib_store_machine_updated(const struct ib_machine_state *old,
			      struct ib_machine_state *m, int64_t now)
{
	m->id = old->id;
	m->version = old->version + 1;
	m->updated_us = now;
	m->since_us = m->state == old->state ? old->since_us : now;
}
