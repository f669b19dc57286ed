/*
 * The journal: per-machine protocol events, the substrate of the boot
 * timeline (`ironboot events --mac M`).
 *
 * Shells describe what happened (message received, decision and why, reply
 * sent, lease committed or expired) with ib_journal_add(); events are kept
 * in a bounded in-memory queue and written to the store by
 * ib_journal_flush(), which the DHCP shell calls inside its group-commit
 * transaction (so an ACK's events are as durable as its lease), or by
 * ib_journal_flush_nowait(), which timers and readers call otherwise.  Retention is bounded by count and age (ib_journal_prune),
 * which the daemon applies whatever services run (src/daemon/services.c).
 */
#ifndef IB_JOURNAL_JOURNAL_H
#define IB_JOURNAL_JOURNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "store/store.h"

#define IB_JOURNAL_QUEUE 8192	/* events buffered between flushes */
/*
 * Under a flood (issue #11) one row per datagram would evict real history.
 * An event repeating one queued less than IB_JOURNAL_REPEAT_SEC ago (same
 * repeat key) is counted, and the count stored as one summary event; the
 * events of clients nobody knows that change no binding are let through
 * at IB_JOURNAL_LIMIT_RATE per second per protocol (bursts of
 * IB_JOURNAL_LIMIT_BURST), the rest counted into one summary event.
 */
#define IB_JOURNAL_REPEAT_SEC 10
#define IB_JOURNAL_REPEATS 1024		/* repeat keys remembered (direct-mapped) */
#define IB_JOURNAL_LIMIT_RATE 50
#define IB_JOURNAL_LIMIT_BURST 256
#define IB_JOURNAL_LIMITED_KIND "journal-limited"	/* kind of a drop summary */
/*
 * Events a gate names a source for (refused HTTP requests: any host may
 * send them naming any MAC) are also let through at IB_JOURNAL_SOURCE_RATE
 * per second per source address (bursts of IB_JOURNAL_SOURCE_BURST), so
 * one host cannot fill the journal; IB_JOURNAL_SOURCES buckets,
 * direct-mapped by address (two addresses sharing one restart its count:
 * the protocol's limit above still holds for both).
 */
#define IB_JOURNAL_SOURCE_RATE 1
#define IB_JOURNAL_SOURCE_BURST 16
#define IB_JOURNAL_SOURCES 256

/* Who an event is about; any field may be empty. */
struct ib_journal_who {
	const uint8_t *hw;		/* hardware address, or NULL */
	size_t hw_len;			/* bytes of hw */
	const uint8_t *client_id;	/* DHCP client-id, or NULL */
	size_t client_id_len;
	const char *uuid;		/* client UUID text, or NULL */
};

struct ib_journal;

/* Room for the lease a peer's identity is read from (ib_journal_who_for_peer). */
struct ib_journal_peer {
	union {
		struct ib_lease4 v4;	/* the IPv4 lease */
		struct ib_lease6 v6;	/* or the IPv6 one */
	} lease;
};

struct sockaddr;

/*
 * Who a TFTP or HTTP peer is: the MAC and client-id (DUID) of the lease,
 * IPv4 or IPv6, holding its address now (active, unexpired; an
 * IPv4-mapped IPv6 address counts as IPv4).  who points into *buf; it is
 * emptied when no lease holds it.
 */
void ib_journal_who_for_peer(struct ib_store *store, const struct sockaddr *sa,
			     struct ib_journal_peer *buf, struct ib_journal_who *who);

/* Creates a journal writing to store (not owned). */
int ib_journal_new(struct ib_store *store, const struct ib_journal_config *cfg,
		   struct ib_journal **ret);
void ib_journal_free(struct ib_journal *j);
/* Switches to a new retention config (reload). cfg must outlive its use. */
void ib_journal_set_config(struct ib_journal *j, const struct ib_journal_config *cfg);

/*
 * Queues one event.  Takes ownership of detail (a JSON object, may be NULL).
 * When the queue is full the oldest unflushed event is dropped and counted.
 */
void ib_journal_add(struct ib_journal *j, const struct ib_journal_who *who,
		    const char *proto, const char *kind, json_t *detail);

/*
 * Queues one event and returns its detail buffer (*ret_cap bytes, holding
 * "{}") for the caller to fill with a JSON object, e.g. with ib_jw: the hot
 * path, without allocations.  Valid until the next call on the journal.
 */
char *ib_journal_add_slot(struct ib_journal *j, const struct ib_journal_who *who,
			  const char *proto, const char *kind, size_t *ret_cap);

/* How the journal may thin out an event under a flood. */
struct ib_journal_gate {
	uint64_t repeat_key;		/* same key as an event queued less than
					 * IB_JOURNAL_REPEAT_SEC ago: counted in
					 * that one's summary, not stored; 0 =
					 * never a repeat */
	bool limited;			/* about a client no reservation,
					 * inventory entry or binding knows, and
					 * changing no binding: rate-limited */
	const char *source;		/* the client's address: rate-limited per
					 * address as well; NULL = not */
};

/*
 * ib_journal_add_slot() through the gate g at now_us (the event's time):
 * the detail buffer, or NULL when the event is a repeat or over the rate
 * limit (then counted, and the caller writes nothing).  Summaries of what
 * was counted are queued by ib_journal_tick(), or before the next event
 * that replaces a repeat key.
 */
char *ib_journal_add_slot_gated(struct ib_journal *j, const struct ib_journal_who *who,
				const char *proto, const char *kind,
				const struct ib_journal_gate *g, int64_t now_us, size_t *ret_cap);

/*
 * Queues the summaries that are due at now_us: repeat counts whose
 * IB_JOURNAL_REPEAT_SEC window closed ({"repeated": n, "last_us": t},
 * same who, protocol and kind as the event repeated), and each
 * protocol's (and source's) count of events dropped by the rate limit
 * once none was dropped for a second, or every IB_JOURNAL_REPEAT_SEC
 * during a long flood (kind IB_JOURNAL_LIMITED_KIND, no MAC, {"dropped":
 * n, "first_us", "last_us"}, and "client" for a source's).  all: every pending summary now (before stopping).
 */
void ib_journal_tick(struct ib_journal *j, int64_t now_us, bool all);
/* Events counted as repeats or dropped by the rate limit, since start. */
uint64_t ib_journal_thinned(const struct ib_journal *j);

/*
 * Writes queued events to the store.  With in_tx the caller has an open
 * transaction (group commit); otherwise the journal opens its own.  The
 * events written in the caller's transaction stay queued until the caller
 * says how it ended (ib_journal_settle); until then a flush without in_tx
 * is refused (-EBUSY).  Returns 0 or a negative errno (events stay queued
 * on failure).
 */
int ib_journal_flush(struct ib_journal *j, bool in_tx);
/*
 * ib_journal_flush() in its own transaction, unless another connection
 * (the CLI, a second daemon) holds the store's write lock: then -EAGAIN at
 * once, not the store's busy timeout on the loop, and the events stay
 * queued for a later flush.  For every caller on the loop but the DHCP
 * engines (whose flushes wait for the lock as their lease writes do) and
 * the final flush at exit.
 */
int ib_journal_flush_nowait(struct ib_journal *j);
/*
 * The caller's transaction holding an in_tx flush's events has ended:
 * committed, they are durable (logged, told to the listener, dropped from
 * the queue); else they stay queued for a later flush, which stores and
 * tells them.  Nothing when no in_tx flush is pending.
 */
void ib_journal_settle(struct ib_journal *j, bool committed);
/* Number of events waiting to be flushed. */
size_t ib_journal_pending(const struct ib_journal *j);
/* Events queued (summaries included), since start. */
uint64_t ib_journal_added(const struct ib_journal *j);
/* Events dropped because the queue was full, since start. */
uint64_t ib_journal_dropped(const struct ib_journal *j);
/*
 * Who hears of each event as it is stored: fn(ctx, e) for every event a
 * flush writes, in order, with its id set, then fn(ctx, NULL) when that
 * flush's batch is over (the live follow of GET /api/v1/events?follow=1).
 * One listener; fn NULL: none.  Only durable events are told, once each,
 * in id order: those of a flush inside the caller's transaction (group
 * commit) when ib_journal_settle() says it committed; after a refused
 * commit they are told when a later flush stores them.
 */
typedef void (*ib_journal_listen_fn)(void *ctx, const struct ib_event *e);
void ib_journal_set_listener(struct ib_journal *j, ib_journal_listen_fn fn, void *ctx);

/*
 * Applies retention (count and age) to the stored events, in a transaction
 * of its own; -EAGAIN at once when another connection holds the write lock.
 */
int ib_journal_prune(struct ib_journal *j, int64_t now_us);

#endif
