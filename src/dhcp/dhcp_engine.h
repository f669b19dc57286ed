/*
 * The DHCP engine both families share: the receive loop over a family's
 * sockets, the batch of binding changes and its group commit with a
 * delay, the sendmmsg() outbox, and the reclaim and journal timers.  A
 * family (dhcp4_server.c, dhcp6_server.c) gives its codec and policy
 * through struct ib_dhcp_family; it never calls recvmsg() or sendmsg(),
 * opens the batch's transaction or arms a timer itself.
 *
 * The guarantee: a reply queued from ->committed() with ok set leaves
 * only after the transaction holding its binding is durable (the outbox
 * is flushed after COMMIT returned); after a failed commit ->committed()
 * is told so and sends nothing, and the clients retry.  The transaction
 * runs on the loop's store, or on a committer's thread and its own
 * connection (dhcp_committer.h, PostgreSQL): the loop then goes on
 * (TFTP, HTTP, timers) and reads no DHCP socket until the batch is back.
 */
#ifndef IB_DHCP_ENGINE_H
#define IB_DHCP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dhcp/dhcp_committer.h"
#include "dhcp/dhcp_plan.h"
#include "journal/journal.h"
#include "store/store.h"

#define IB_DHCP_TAG_MAX 320		/* bytes a reply carries for ->not_sent() */

/* Where a reply goes and how it leaves. */
struct ib_dhcp_dest {
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} to;				/* destination; its family picks the pktinfo */
	int fd;				/* socket to send on */
	int ifindex;			/* leave by this interface; 0 = by route */
	uint32_t src4;			/* IPv4: our address (host order), 0 = any */
};

/* One datagram as the engine received it. */
struct ib_dhcp_rx {
	uint8_t *buf;			/* its bytes, in the family's ->rx_buf() */
	size_t len;			/* bytes; the buffer's cap + 1 when it was longer */
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} from;				/* source: the client or the relay */
	int fd;				/* socket it came on */
	int ifindex;			/* arrival interface; 0: unknown (no pktinfo) */
	int64_t at_us;			/* arrival (the kernel's stamp, unix us); 0: unknown */
	bool again;			/* a kept request decided again (a take-over):
					 * counted when it was read */
	union {
		struct in_pktinfo in;	/* IPv4: ipi_spec_dst our address on it */
		struct in6_pktinfo in6;	/* IPv6: ipi6_addr the destination */
	} pi;				/* the pktinfo, valid when ifindex is set */
};

/* What a family gives the engine: its sizes, pace and callbacks.  ctx is
 * the family's server, passed back to every callback. */
struct ib_dhcp_family {
	const char *name;		/* "dhcp4": the log's prefix */
	size_t slot_size;		/* bytes of one request waiting for the commit */
	size_t batch_max;		/* requests per group commit at most */
	size_t writes_max;		/* rows of the plan one request adds at most */
	size_t commit_min;		/* commit at once from this many */
	long commit_delay_us;		/* else wait this long for more to join */
	size_t read_max;		/* datagrams read per wake-up */
	size_t max_len;			/* largest reply the family builds */
	size_t out_max;			/* replies per sendmmsg() */
	int rcvbuf;			/* receive buffer bytes each socket asks for */
	long reclaim_sec;		/* between two lease reclaims */
	long journal_us;		/* between two journal flushes */
	/* Where the next datagram is read: a buffer of *ret_cap bytes, at
	 * least the family's largest request. */
	uint8_t *(*rx_buf)(void *ctx, size_t *ret_cap);
	/*
	 * Decides one datagram the engine read, using slot (slot_size bytes,
	 * the batch's next free one).  Returns 1 when slot joins the batch
	 * (it changes bindings), 0 when it was answered or dropped,
	 * IB_DHCP_RX_PEER when it is a peer's client's (ib_dhcp_engine_peers):
	 * the engine keeps it back, and decides it again should the peer go.
	 */
	int (*receive)(void *ctx, const struct ib_dhcp_rx *rx, void *slot);
	/* NULL, or told when the daemons sharing the clients change (load
	 * balancing): this one answers share rank of n (n 0: every client). */
	void (*share)(void *ctx, uint32_t rank, uint32_t n);
	/* Whether the batch can take one more request; NULL: always. */
	bool (*room)(void *ctx);
	/*
	 * Plans slot's binding changes: at most writes_max rows added to pl
	 * with ib_dhcp_plan_add(), owning all they need (times fixed now).
	 * Runs on the loop, before the batch's transaction.
	 */
	void (*plan)(void *ctx, void *slot, struct ib_dhcp_plan *pl);
	/* The store's verdict on one row w of slot's plan (w->verdict: 0
	 * applied, or the op's refusal), on the loop, in plan order, once
	 * every row ran and before COMMIT; not called when the run failed. */
	void (*verdict)(void *ctx, void *slot, const struct ib_dhcp_write *w);
	/* NULL, or journals the batch's exchanges (all n slots) once the
	 * verdicts are in: before COMMIT on the loop's store, after it on
	 * the committer's thread.  Not called when the batch failed. */
	void (*seal)(void *ctx, void *slots, size_t n);
	bool journal_in_commit;		/* on the loop's store, the journal's queued
					 * events are flushed in the batch's transaction */
	/* After COMMIT (ok) or its failure (!ok), for each slot in order. */
	void (*committed)(void *ctx, void *slot, bool ok);
	/* After a batch: its slots are free again; err is its outcome. */
	void (*batch_done)(void *ctx, int err);
	/* Housekeeping of the reclaim timer, before the reclaim; NULL: none. */
	void (*tick)(void *ctx);
	/* Expires the family's due leases, inside a transaction. */
	int (*reclaim)(void *ctx, int64_t now);
	/* A reply the kernel refused (the engine logged it, rate-limited):
	 * tag as pushed, err a negative errno. */
	void (*not_sent)(void *ctx, const void *tag, const struct ib_dhcp_dest *d, int err);
};

#define IB_DHCP_RX_PEER 2		/* ->receive(): a peer's client's request */

/* What load balancing did, for /metrics (the family's). */
struct ib_dhcp_share_stats {
	uint32_t daemons;		/* sharing the clients; 0: not sharing */
	uint64_t held;			/* requests of peers' clients kept back */
	uint64_t taken_over;		/* of those, decided here after a peer left */
};

/* What ib_dhcp_engine_new() needs. */
struct ib_dhcp_engine_args {
	struct event_base *base;	/* not owned */
	struct ib_store *store;		/* not owned */
	struct ib_journal *journal;	/* not owned */
	const struct ib_dhcp_family *family; /* static, not owned */
	void *ctx;			/* the family's server */
	int64_t *now;			/* the family's clock: unix seconds, set per wake-up */
	uint64_t *rx_overflow;		/* NULL or the family's counter of requests the
					 * kernel dropped before they were read (its
					 * receive buffer was full: SO_RXQ_OVFL) */
	struct ib_dhcp_share_stats *share; /* NULL or the family's */
};

struct ib_dhcp_engine;

/* Makes an engine and arms its timers; 0 or -ENOMEM. */
int ib_dhcp_engine_new(const struct ib_dhcp_engine_args *a, struct ib_dhcp_engine **ret);
/* Commits what waits, sends what is queued, frees e (NULL is fine). */
void ib_dhcp_engine_free(struct ib_dhcp_engine *e);
/*
 * Serves fd (non-blocking, bound): its datagrams go to ->receive().  Its
 * receive buffer is set to the family's rcvbuf (beyond net.core.rmem_max
 * with CAP_NET_ADMIN; without it, capped there, and said so).  The
 * datagrams the kernel drops on fd because its receive buffer is full are
 * counted into *rx_overflow and logged (rate-limited) when the next
 * datagram queued after them is read (each carries the count as it was
 * when it was queued).  0, -ENOSPC (more
 * than 4 sockets), -ENOMEM or the setsockopt() error.
 */
int ib_dhcp_engine_listen(struct ib_dhcp_engine *e, int fd);
/* Commits the waiting batch now and sends every queued reply. */
void ib_dhcp_engine_flush(struct ib_dhcp_engine *e);
/*
 * Runs the batches on c's thread from now on (c not owned; it outlives
 * e): the batch is planned on the loop, written and committed on c's own
 * connection, and while it is in flight e reads no DHCP socket.  What
 * waits commits first, on the loop's store.
 */
void ib_dhcp_engine_commit_on(struct ib_dhcp_engine *e, struct ib_dhcp_committer *c);
/*
 * The link of the connection e's batches are written on into *ret: the
 * committer's when e has one, else the store's (ib_store_link_check).
 */
void ib_dhcp_engine_link(struct ib_dhcp_engine *e, struct ib_store_link *ret);
/*
 * An operator's change between group commits (a lease released through
 * the API): what waits in the batch commits first, then fn(ctx, store)
 * runs in a transaction of its own, committed when it returns 0, else
 * rolled back.  0, or fn's or the store's -errno.
 */
int ib_dhcp_engine_operate(struct ib_dhcp_engine *e,
			   int (*fn)(void *ctx, struct ib_store *s), void *ctx);

/*
 * Load balancing (server.load_balancing, docs/SCALE-OUT.md): whether the
 * client named by key (len bytes: a DHCPv4 chaddr, a DHCPv6 DUID), whose
 * request rx is, is another daemon's: a hash of key modulo the members
 * the committer last listed (ib_dhcp_committer_share), against this
 * daemon's rank.  A request that arrived before that listing is ours
 * under the listing before it too: one that waited in the socket while a
 * peer was gone is answered here, even when the peer is back by the time
 * it is read.  Never when e shares nothing.
 */
bool ib_dhcp_engine_peers(struct ib_dhcp_engine *e, const struct ib_dhcp_rx *rx,
			  const void *key, size_t len);

/*
 * Room in the outbox for the next reply on fd: at least the family's
 * max_len bytes.  Sends what is queued first when the outbox is full or
 * queued for another socket.
 */
uint8_t *ib_dhcp_out_room(struct ib_dhcp_engine *e, int fd, size_t *ret_cap);
/*
 * Queues the len bytes just built at ib_dhcp_out_room() for d; tag
 * (tag_len <= IB_DHCP_TAG_MAX bytes, copied) comes back to ->not_sent()
 * if the kernel refuses the datagram.
 */
void ib_dhcp_out_push(struct ib_dhcp_engine *e, const struct ib_dhcp_dest *d, size_t len,
		      const void *tag, size_t tag_len);

#endif
