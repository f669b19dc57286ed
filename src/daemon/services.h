/*
 * The services beside DHCPv4 (TFTP now; HTTP and DHCPv6 later), started
 * from the snapshot and reconfigured on reload.  Which services exist is
 * chosen by which files are compiled (services_tftp.c).
 *
 * The daemon's journal retention lives here too, since this object exists
 * whatever services run: journal.max_events and journal.max_age_days are
 * applied when ib_services_new() starts, when a reconfigure changes them,
 * and every 5 minutes.
 */
#ifndef IB_DAEMON_SERVICES_H
#define IB_DAEMON_SERVICES_H

#include <event2/event.h>

#include "config/config.h"
#include "httpd/http_server.h"
#include "journal/journal.h"
#include "store/store.h"

struct ib_services;

int ib_services_new(struct event_base *base, const struct ib_config *cfg,
		    struct ib_store *store, struct ib_journal *journal,
		    struct ib_services **ret);
int ib_services_reconfigure(struct ib_services *s, const struct ib_config *cfg);
/* Hands the HTTP API the DHCPv4 shell's operator release (http_server.h). */
void ib_services_set_dhcp(struct ib_services *s, const struct ib_http_dhcp *h);
/* Hands the HTTP API and the lifecycle the daemon's power control. */
void ib_services_set_power(struct ib_services *s, const struct ib_http_power *p);
/* Hands the HTTP server what writes the daemon's part of GET /metrics. */
void ib_services_set_metrics(struct ib_services *s, ib_http_metrics_fn fn, void *ctx);
/* Writes the TFTP service's metrics (transfers, bytes, retransmits) and the
 * doctor watch's findings by rule to m. */
void ib_services_metrics(const struct ib_services *s, struct ib_mx *m);
/* Hands the HTTP API its inventory writer (see http_server.h). */
void ib_services_set_inventory(struct ib_services *s, ib_http_inventory_fn fn, void *ctx);
/* Hands GET /readyz the daemon's readiness checks (http_server.h). */
void ib_services_set_readiness(struct ib_services *s, ib_http_ready_fn fn, void *ctx);
/* Adds "tftp" to checks when cfg enables it: "ok" while it listens.
 * Returns whether it passed (true when TFTP is off). */
bool ib_services_check_tftp(const struct ib_services *s, const struct ib_config *cfg,
			    json_t *checks);
/* Whether this daemon applies the journal's retention and the lifecycle's
 * timeouts (the leader does; a new one does until told otherwise). */
void ib_services_set_leader(struct ib_services *s, bool leader);
void ib_services_free(struct ib_services *s);

#endif
