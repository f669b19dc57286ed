/*
 * The DHCP group commit off the event loop (issue #16): a thread with its
 * own store connection (PostgreSQL) that runs the batches' plans
 * (dhcp_plan.h) in one transaction each, so that the loop never waits on
 * the database for a DHCP commit; TFTP, HTTP and the timers go on while
 * a batch waits behind a lock or a slow server.
 *
 * A batch goes in with ib_dhcp_committer_submit() (a queue: both
 * families' engines share one thread), the thread runs BEGIN, the plan's
 * writes (each with its verdict) and COMMIT on its connection, and posts
 * the batch back: an eventfd the loop reads calls the batch's done()
 * on the loop.  The thread touches only its own store and the rows of
 * the batch it runs (owned by the batch until done() is called); nothing
 * of the loop's.  Its connection is lost and made again as the store's
 * own (store_pg_conn.c: the same backoff); the loop reads its link state
 * and its commit times through ib_dhcp_committer_link() and the batch.
 */
#ifndef IB_DHCP_COMMITTER_H
#define IB_DHCP_COMMITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "dhcp/dhcp_plan.h"
#include "store/store.h"

/* One batch handed to the thread: the caller's, until done() is called. */
struct ib_dhcp_job {
	struct ib_dhcp_write *w;	/* the plan's rows; the verdicts come back in them */
	size_t n;			/* rows */
	/* On the loop, once the batch ran: err 0 (committed, the verdicts
	 * set) or the -errno that failed it (rolled back). */
	void (*done)(void *ctx, struct ib_dhcp_job *job);
	void *ctx;			/* done()'s */
	int err;			/* the outcome, set before done() */
	int64_t commit_us;		/* microseconds COMMIT took; -1: none ran */
	struct ib_dhcp_job *next;	/* the queue's link: the committer's */
};

struct ib_dhcp_committer;

/*
 * Starts the thread on store (taken: freed by ib_dhcp_committer_free();
 * a connection of its own, never used by the loop), posting back on base.
 * 0, -ENOMEM, or pthread_create()'s or eventfd()'s -errno (store freed).
 */
int ib_dhcp_committer_new(struct event_base *base, struct ib_store *store,
			  struct ib_dhcp_committer **ret);
/* Waits for the batches in flight (their done() run), stops the thread,
 * frees c and its store.  NULL is fine. */
void ib_dhcp_committer_free(struct ib_dhcp_committer *c);
/* Queues job (its w, n, done and ctx set); the thread runs it. */
void ib_dhcp_committer_submit(struct ib_dhcp_committer *c, struct ib_dhcp_job *job);
/*
 * Waits, on the loop, until job is done, and runs its done() (and that
 * of any batch done before it): for a reconfigure, a shutdown and an
 * operator's change, which must not run beside a batch.
 */
void ib_dhcp_committer_wait(struct ib_dhcp_committer *c, const struct ib_dhcp_job *job);
/*
 * The thread's link to its database, as it last saw it (it looks again
 * at least every second, reconnecting when due), into *ret.
 */
void ib_dhcp_committer_link(struct ib_dhcp_committer *c, struct ib_store_link *ret);
/*
 * Load balancing (server.load_balancing): from now on the thread makes
 * its connection a member of the daemons sharing the clients
 * (ib_store_members) and lists them every IB_DHCP_SHARE_EVERY_MS.  Call
 * it once the DHCP sockets are served: the peers leave this daemon its
 * share from then on.
 */
#define IB_DHCP_SHARE_EVERY_MS 50
void ib_dhcp_committer_share_clients(struct ib_dhcp_committer *c);
/*
 * The members as the thread last listed them into *ret; n 0 when this
 * daemon shares nothing (not asked to, or its connection is down: it
 * answers every client it can).
 */
void ib_dhcp_committer_share(struct ib_dhcp_committer *c, struct ib_store_members *ret);

#endif
