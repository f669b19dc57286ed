/*
 * The HTTP boot service shell: iPXE scripts (/boot.ipxe), install configs
 * (/configs/<name>), kernels and initrds (/assets/<path>) and the
 * REST API (/api/v1/...), on libevent's evhttp.
 *
 * The shell parses the request target (http/http_url.h), asks the boot
 * policy (boot/boot_plan.h) what the machine gets, answers, and journals
 * every fetch against the machine: the MAC named in the query, else the
 * one holding the client's IPv4 lease.  HTTPS is used on every listener
 * when the config names a TLS certificate and key.
 */
#ifndef IB_HTTPD_HTTP_SERVER_H
#define IB_HTTPD_HTTP_SERVER_H

#include <event2/event.h>

#include "config/config.h"
#include "inventory/inventory.h"
#include "journal/journal.h"
#include "store/store.h"

struct ib_http_server;

/*
 * Binds cfg->http's listen addresses (IPv4 and IPv6) on its port and
 * starts serving on base.  cfg must stay valid until the next
 * ib_http_server_reconfigure() or ib_http_server_free(); store and
 * journal are not owned.  Returns 0 and *ret, or a negative errno
 * (logged once, naming what failed).
 */
int ib_http_server_new(struct event_base *base, const struct ib_config *cfg,
		       struct ib_store *store, struct ib_journal *journal,
		       struct ib_http_server **ret);

/*
 * Switches to a new snapshot (SIGHUP): templates, profiles, groups,
 * machines, the assets directory and the API token take effect at once;
 * changed listen addresses, port or TLS files need a restart (warned).
 * Returns 0, or a negative errno with the old snapshot kept.
 */
int ib_http_server_reconfigure(struct ib_http_server *srv, const struct ib_config *cfg);

/*
 * How the REST API changes the inventory: fn stores change c and swaps in
 * the snapshot it makes (which reconfigures srv), or refuses it: 0, or
 * -ENOENT, -EINVAL (err says why, IB_CONFIG_ERRLEN bytes), -EIO.
 * *ret_created says whether a put made a new object.
 */
typedef int (*ib_http_inventory_fn)(void *ctx, const struct ib_inventory_change *c,
				    bool *ret_created, char *err);

/* Lets the API write the inventory through fn; without it writes get 503. */
void ib_http_server_set_inventory(struct ib_http_server *srv, ib_http_inventory_fn fn,
				  void *ctx);

/* Closes the listeners and frees srv; accepts NULL. */
void ib_http_server_free(struct ib_http_server *srv);

#endif
