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
 *
 * Scripts and configs are served only to the machine they are for
 * (http.machine_auth; boot/machine_auth.h decides, http_auth.h finds the
 * facts): from the address of its lease, reservation or neighbour entry,
 * or with its token; else 403, journalled under the MAC asked for.  The
 * machine secret the tokens are made from is read from the store (made
 * there on first start) when the server starts.
 */
#ifndef IB_HTTPD_HTTP_SERVER_H
#define IB_HTTPD_HTTP_SERVER_H

#include <event2/event.h>
#include <jansson.h>

#include "config/config.h"
#include "dhcp/pool_usage.h"
#include "inventory/inventory.h"
#include "journal/journal.h"
#include "store/store.h"

struct ib_http_server;

/*
 * Binds cfg->http's listen addresses (IPv4 and IPv6) on its port and
 * starts serving on base.  cfg must stay valid until the next
 * ib_http_server_reconfigure() or ib_http_server_free(); store and
 * journal are not owned.  Reads (or makes) the machine secret in store.
 * Returns 0 and *ret, or a negative errno (logged once, naming what
 * failed).
 */
int ib_http_server_new(struct event_base *base, const struct ib_config *cfg,
		       struct ib_store *store, struct ib_journal *journal,
		       struct ib_http_server **ret);

/*
 * Switches to a new snapshot (SIGHUP): templates, profiles, groups,
 * machines, the assets directory and the API token take effect at once;
 * changed listen addresses, port or TLS files need a restart (warned).
 * The token file is read on SIGHUP, not when an API write swaps the
 * snapshot (its file text is the one last loaded).
 *
 * Returns 0, or a negative errno when the token file cannot be read
 * (logged): then nothing changes, the token in force stays in force, so a
 * failed read never opens the API.  A snapshot without api_token_file
 * drops the token (warned).  Reconfiguring to the snapshot already served
 * changes nothing.
 */
int ib_http_server_reconfigure(struct ib_http_server *srv, const struct ib_config *cfg);

/*
 * Serves again the snapshot and token served before the last
 * ib_http_server_reconfigure() that changed them (another service refused
 * the reload), and reopens its assets directory.  Reads no file, cannot
 * fail; a no-op when that reconfigure changed nothing or failed.
 */
void ib_http_server_rollback(struct ib_http_server *srv);

#define IB_HTTP_TOKEN_MAX 256		/* bytes of the API bearer token */

/*
 * Reads the API bearer token in path: a regular file (no symlink, no
 * FIFO) of 1..IB_HTTP_TOKEN_MAX bytes, trailing blanks and newlines
 * dropped.  *ret_sha receives its SHA-256.  Returns 0, or -errno (the
 * open's or read's), -EINVAL (not a regular file), -ENODATA (empty) or
 * -EMSGSIZE (too long); ib_http_token_strerror() says it in words.  Used
 * by the server, and by the daemon to check that server.user can read
 * it.  Does not log.
 */
int ib_http_token_read(const char *path, unsigned char ret_sha[32]);
/* Words for an ib_http_token_read() error. */
const char *ib_http_token_strerror(int r);

/* Why the token file at path is exposed to other users of this host
 * ("readable by every user"), or NULL if it is not (or cannot be seen). */
const char *ib_http_token_exposure(const char *path);

/*
 * How the REST API changes the inventory: fn stores change c and swaps in
 * the snapshot it makes (which reconfigures srv), or refuses it: 0, or
 * -ENOENT, -EINVAL (err says why, IB_CONFIG_ERRLEN bytes), -EIO.
 * *ret_created says whether a put made a new object.
 */
typedef int (*ib_http_inventory_fn)(void *ctx, const struct ib_inventory_change *c,
				    bool *ret_created, char *err);

/* What the REST API asks of the daemon's running DHCP servers. */
struct ib_http_dhcp {
	/* Ends the active DHCPv4 lease of addr (POST /api/v1/leases/ADDR/
	 * release): 0 with the released lease in *ret, -ENOENT, or -errno.
	 * NULL: DHCPv4 is not served. */
	int (*release4)(void *ctx, uint32_t addr, struct ib_lease4 *ret);
	/* The same for the active DHCPv6 binding of addr. */
	int (*release6)(void *ctx, const uint8_t addr[16], struct ib_lease6 *ret);
	/* Sets src's counters to the running servers' caches (GET
	 * /api/v1/pools counts no store row); NULL: the store counts. */
	void (*pool_counters)(void *ctx, struct ib_pool_usage_src *src);
	void *ctx;			/* their context */
};

/*
 * A power operation's outcome, on the loop (power/power.h); bmc NULL: it
 * was cancelled (the daemon is stopping) and arg is only to be freed.
 */
typedef void (*ib_http_power_done)(void *arg, const struct ib_bmc *bmc, enum ib_power_op op,
				   const struct ib_power_result *res);

/* How the API and the lifecycle reach the daemon's power control. */
struct ib_http_power {
	/* Runs op on the BMC of mac (by: "api", "cli"): 0, then done(arg, ...)
	 * once; -ENOENT when mac has no BMC, -errno (done never called). */
	int (*run)(void *ctx, const char *mac, enum ib_power_op op, const char *by,
		   ib_http_power_done done, void *arg);
	/* The lifecycle moved mac by "accept", "allocate" or "release", or
	 * handed its agent "wait": the BMC's part (nothing without a BMC). */
	void (*lifecycle)(void *ctx, const char *mac, const char *what);
	/* Whether the lifecycle is sending mac into the network right now
	 * (one-time PXE, then on or cycle): its running agent must not start
	 * a wipe the cycle would cut short. */
	bool (*netbooting)(void *ctx, const char *mac);
	void *ctx;			/* their context */
};

/* Lets the API run power operations and the lifecycle power machines
 * through p (copied); without it power routes answer 503. */
void ib_http_server_set_power(struct ib_http_server *srv, const struct ib_http_power *p);

/* Lets the API reach the DHCP servers through h (copied): lease release
 * (without it the route answers 503) and the pools' counts. */
void ib_http_server_set_dhcp(struct ib_http_server *srv, const struct ib_http_dhcp *h);

/*
 * Readiness of what the daemon runs besides HTTP, for GET /readyz: fn adds
 * one member per check to the JSON object checks ("dhcp4": "ok", "tftp":
 * "not listening: ...", "store": ...) and returns whether all passed.
 * Called on the loop; must not block for long.
 */
typedef bool (*ib_http_ready_fn)(void *ctx, json_t *checks);

/* The local control socket in the state directory (http_control.c). */
#define IB_HTTP_CONTROL_NAME "ironbootd.sock"
/* Its path for state_dir into out (len bytes): 0, or -ENAMETOOLONG when
 * it does not fit an AF_UNIX address. */
int ib_http_control_path(const char *state_dir, char *out, size_t len);

/* Lets GET /readyz ask fn; without it /readyz checks HTTP only. */
void ib_http_server_set_readiness(struct ib_http_server *srv, ib_http_ready_fn fn, void *ctx);

struct ib_mx;

/* Writes the daemon's part of GET /metrics (every service but HTTP, whose
 * own counters the server adds) into m. */
typedef void (*ib_http_metrics_fn)(void *ctx, struct ib_mx *m);

/* Lets GET /metrics include what fn writes; without it only HTTP's own. */
void ib_http_server_set_metrics(struct ib_http_server *srv, ib_http_metrics_fn fn,
				void *ctx);

/* Lets the API write the inventory through fn; without it writes get 503. */
void ib_http_server_set_inventory(struct ib_http_server *srv, ib_http_inventory_fn fn,
				  void *ctx);

/* Closes the listeners and frees srv; accepts NULL. */
void ib_http_server_free(struct ib_http_server *srv);

#endif
