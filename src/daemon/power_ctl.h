/*
 * The daemon's power control (issue #13; docs/POWER.md): one pool of BMC
 * workers (src/power) for the whole daemon, and what runs on it:
 *
 *   - the operator's operations (POST /api/v1/machines/MAC/power/OP,
 *     `ironboot power`), answered when the BMC has answered;
 *   - the lifecycle's: accept, release and allocate set a one-time PXE
 *     boot and power the machine on (cycle when it is on); the agent's
 *     "wait" is followed by a check that the machine really went off;
 *     an operation that fails moves the machine to failed, step
 *     "power:<op>", with the BMC's message;
 *   - reconciliation: every power.poll_interval, STATUS of every BMC
 *     (at most power.concurrency at once), journalling a state that
 *     changed behind ironboot's back (power-changed).
 *
 * Every operation lands in the machine's journal (proto "power", kind the
 * operation) and its outcome in the store's machine_power row.  Nothing
 * here ever sees a password: the pool holds the secrets.  Runs on the
 * loop; the BMC calls run on the pool's threads.
 */
#ifndef IB_DAEMON_POWER_CTL_H
#define IB_DAEMON_POWER_CTL_H

#include <event2/event.h>

#include "config/config.h"
#include "httpd/http_server.h"
#include "journal/journal.h"
#include "store/store.h"

struct ib_powerctl;

/*
 * Starts the pool for cfg (power.secrets_file read now; a file that cannot
 * be read is logged, and every operation then fails naming it) and the
 * reconciliation timer.  store and journal are not owned; cfg must stay
 * valid until the next ib_powerctl_reconfigure().  0 or -errno.
 */
int ib_powerctl_new(struct event_base *base, const struct ib_config *cfg,
		    struct ib_store *store, struct ib_journal *journal,
		    struct ib_powerctl **ret);
/*
 * Serves cfg from now on: a new pool when power.secrets_file or
 * power.concurrency changed, or reread_secrets (SIGHUP); the old pool is
 * freed once its running operations have ended, never blocking the loop.
 */
void ib_powerctl_reconfigure(struct ib_powerctl *pc, const struct ib_config *cfg,
			     bool reread_secrets);
/* The HTTP API's hooks (http_server.h) bound to pc. */
void ib_powerctl_http(struct ib_powerctl *pc, struct ib_http_power *ret);
/* Whether this daemon polls the BMCs (power.poll_interval): the leader
 * does; a new one does until told otherwise.  Operations asked through the
 * API run on the daemon asked, leader or not. */
void ib_powerctl_set_leader(struct ib_powerctl *pc, bool leader);
/* Stops: waits for running operations, cancels queued ones (their HTTP
 * requests are dropped by the server), frees.  NULL is accepted. */
void ib_powerctl_free(struct ib_powerctl *pc);

#endif
