/*
 * Watching a shared store (issue #16 phase 2, docs/SCALE-OUT.md): the
 * other daemons' writes, and which daemon is the leader.
 *
 * On PostgreSQL a listener is a second connection of its own, kept in the
 * event loop (non-blocking: its socket is a libevent event, libpq is
 * polled, never waited on).  It LISTENs on the channel the store's
 * triggers notify (one notification per written row: a DHCPv4 or
 * DHCPv6 lease address, an inventory kind, a machine id), and hands each
 * change that another connection made to the daemon, which re-reads that
 * row into its cache.  The same connection holds a session advisory lock:
 * the daemon that holds it is the leader (journal retention, lease
 * reclaim, power polling, lifecycle timeouts); losing the connection loses
 * the lock with it, and another daemon's next try takes it.
 *
 * A lost connection is reconnected with backoff (0.25 s doubling to 8 s).
 * Notifications sent while it was down are lost, so after every connect
 * (the first one too: rows written between the caches' load and the
 * LISTEN would otherwise be missed) the daemon is told to resync, that is
 * to reload its caches from the store.
 *
 * SQLite has no listener: one daemon per file (state_dir is locked), always
 * the leader.
 */
#ifndef IB_STORE_STORE_LISTEN_H
#define IB_STORE_STORE_LISTEN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "store/store.h"

/* What a notification names. */
enum ib_store_topic {
	IB_STORE_TOPIC_LEASE4,		/* one leases4 row: addr4 */
	IB_STORE_TOPIC_LEASE6,		/* one leases6 row: addr6 */
	IB_STORE_TOPIC_INVENTORY,	/* an inventory object of some kind */
	IB_STORE_TOPIC_MACHINE,		/* a machine's lifecycle row: machine_id */
};

/* One row another writer changed (committed). */
struct ib_store_change {
	enum ib_store_topic topic;	/* which table */
	uint32_t addr4;			/* LEASE4: the address, host order */
	uint8_t addr6[16];		/* LEASE6: the address */
	int64_t machine_id;		/* MACHINE: the row's id */
};

/*
 * Parses a notification's payload (NUL-terminated): "4 <address as an
 * integer>", "6 <32 hex digits>", "i <kind>", "m <id>" (store_pg_notify.c).
 * 0 and *ret, or -EBADMSG (*ret then undefined).
 */
int ib_store_change_parse(const char *payload, struct ib_store_change *ret);

/* What the daemon does with what the listener learns.  Called on the loop. */
struct ib_store_listen_hooks {
	/* another connection committed a change to one row */
	void (*change)(void *ctx, const struct ib_store_change *c);
	/* notifications may have been missed: reload every cache */
	void (*resync)(void *ctx);
	/* this daemon became the leader (true) or stopped being it */
	void (*leader)(void *ctx, bool leader);
	/* NULL, or the server process of another connection of this daemon
	 * whose notifications are its own too (the DHCP committer's, which
	 * its caches follow by the verdicts); 0: none now (down) */
	int (*also_own)(void *ctx);
	void *ctx;			/* the hooks' argument */
};

/* A listener's state, for /metrics and /readyz. */
struct ib_store_listen_state {
	bool connected;			/* LISTENing now */
	bool leader;			/* holds the leader lock */
	uint64_t changes;		/* notifications handed to the daemon */
	uint64_t own;			/* ... and those of its own writes, skipped */
	uint64_t reconnects;		/* connections made after the first */
	uint64_t resyncs;		/* caches reloaded */
};

struct ib_store_listener;

/*
 * Starts listening to store s (PostgreSQL: a second connection with the same
 * parameters, made in the background; the hooks run once it is up).
 * The store must outlive the listener.  0, -EOPNOTSUPP for a store that has
 * no listener (SQLite: the caller is the only daemon and the leader), or
 * -ENOMEM.
 */
int ib_store_listen_new(struct event_base *base, struct ib_store *s,
		       const struct ib_store_listen_hooks *hooks, struct ib_store_listener **ret);
/* Stops listening (the leader lock goes with the connection); accepts NULL. */
void ib_store_listen_free(struct ib_store_listener *w);
/* The listener's state now. */
void ib_store_listen_status(const struct ib_store_listener *w, struct ib_store_listen_state *ret);

#endif
