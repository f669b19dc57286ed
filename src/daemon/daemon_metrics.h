/*
 * The daemon's part of GET /metrics (docs/METRICS.md): what the DHCP
 * servers, the TFTP service, the store and the journal counted, and what
 * the store holds (leases per pool, machines per lifecycle state), read
 * at scrape time.  The HTTP server adds its own counters.
 */
#ifndef IB_DAEMON_DAEMON_METRICS_H
#define IB_DAEMON_DAEMON_METRICS_H

#include "common/metrics.h"
#include "config/config.h"
#include "daemon/services.h"
#include "dhcp/dhcp_committer.h"
#include "dhcp/pool_usage.h"
#include "dhcp4/dhcp4_server.h"
#include "dhcp6/dhcp6_server.h"
#include "journal/journal.h"
#include "store/store.h"

/* Where the metrics come from; NULL servers are not running. */
struct ib_metrics_sources {
	const struct ib_config *cfg;		/* the snapshot served */
	struct ib_store *store;			/* read: leases, machines */
	const struct ib_journal *journal;
	const struct ib_dhcp4_server *dhcp4;	/* or NULL */
	const struct ib_dhcp6_server *dhcp6;	/* or NULL */
	const struct ib_services *services;	/* TFTP */
	int64_t now;				/* unix seconds: what is unexpired */
	struct ib_metrics_cache *cache;		/* the store's part, or NULL */
	struct ib_dhcp_committer *committer;	/* the DHCP commit thread, or NULL */
};

/* Sets src's counters to the running servers' lease caches (either may
 * be NULL: that family is counted by the store). */
void ib_daemon_pool_counters(const struct ib_dhcp4_server *d4, const struct ib_dhcp6_server *d6,
			     struct ib_pool_usage_src *src);

/*
 * The families read from the store (pools, machines) walk every lease and
 * machine: a scrape from anyone on the network, repeated, would hold the
 * loop.  They are read at most once a second; scrapes in between get the
 * same text.
 */
struct ib_metrics_cache {
	struct ib_mx text;			/* the families, or buf NULL */
	int64_t at_us;				/* when they were read (monotonic) */
	uint64_t errors;			/* store reads of that time that failed */
};

#define IB_METRICS_CACHE_US 1000000

/* Frees what the cache holds (a zeroed cache is empty). */
void ib_metrics_cache_clear(struct ib_metrics_cache *c);

/* Writes every family of src into m (the store is read; a failed read
 * leaves its family out, and ironboot_scrape_errors_total says so). */
void ib_daemon_metrics_write(const struct ib_metrics_sources *src, struct ib_mx *m);

#endif
