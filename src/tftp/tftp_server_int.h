/*
 * Internals shared by the TFTP server shell's two files: tftp_server.c
 * (listeners, requests, lifecycle) and tftp_conn.c (running transfers).
 * Not for use outside src/tftp.
 */
#ifndef IB_TFTP_SERVER_INT_H
#define IB_TFTP_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "common/siphash.h"
#include "tftp/tftp_admit.h"
#include "tftp/tftp_codec.h"
#include "tftp/tftp_file.h"
#include "tftp/tftp_server.h"
#include "tftp/tftp_xfer.h"

struct event;

#define LISTEN_MAX 16			/* listening sockets */
#define RECV_BATCH 32			/* requests per recvmmsg */
#define REQ_BUF 1024			/* a request larger than this is refused */
#define CTRL_BUF 128			/* cmsg space for IP(V6)_PKTINFO */
#define ACK_BUF 520			/* an ACK is 4 bytes, an ERROR <= 516 */
#define SEND_BATCH 64			/* DATA packets per sendmmsg */
#define SLOT_BYTES (IB_TFTP_BLKSIZE_MAX + 4) /* one copied block */
#define SNDBUF_MAX (4u << 20)		/* socket buffer asked for a window */
#define RCVBUF_LISTEN (4u << 20)	/* room for a storm of requests */
#define N_COMMON_TMO 16			/* distinct timer durations shared */
#define ADDRSTR 64			/* "[v6%scope]:port" */

/* Limits copied from the config snapshot (the snapshot may go away). */
struct ib_tftp_srv_limits {
	uint16_t port;			/* listening port */
	uint32_t max_transfers;		/* under way (ACKed), all clients */
	uint32_t max_unacked;		/* not yet ACKed, all clients */
	uint32_t max_per_client;	/* both, per client address */
	uint32_t timeout_ms;		/* first retransmit timeout */
	uint32_t max_retries;		/* timeouts in a row */
	uint32_t max_blksize;		/* negotiation cap */
	uint32_t max_windowsize;	/* negotiation cap */
	uint64_t cache_bytes;		/* cache budget */
};

struct ib_tftp_listener {
	struct ib_tftp_server *srv;	/* owner */
	int fd;				/* bound UDP socket, -1 = unused */
	int family;			/* AF_INET or AF_INET6 */
	struct event *ev;		/* EV_READ | EV_PERSIST */
};

/* A client address and its transfers (tftp_sources.c). */
struct ib_tftp_source {
	struct ib_tftp_source *hnext;	/* hash chain */
	uint64_t hash;			/* keyed hash of family and address */
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];		/* address (IPv4: first 4 bytes) */
	struct ib_tftp_conn *conns;	/* its transfers, via snext/sprev */
	uint32_t n_live;		/* under way */
	uint32_t n_unacked;		/* not yet ACKed */
};

/*
 * One transfer: its TID socket, state machine and file.  It starts
 * unacknowledged (on srv's unacked list, oldest first, no write event, a
 * default send buffer: only one packet is ever out) and goes under way
 * on its client's first valid ACK (tftp_conn.c, conn_promote).  The
 * socket is made at once either way: its random port is the TID, the one
 * thing a spoofed source cannot know, so it is what stops a blind ACK
 * from starting a windowed transfer towards someone else.
 */
struct ib_tftp_conn {
	struct ib_tftp_server *srv;	/* owner */
	struct ib_tftp_conn *prev, *next;	/* srv->conns */
	struct ib_tftp_source *src;	/* its client address */
	struct ib_tftp_conn *sprev, *snext;	/* src->conns */
	bool unacked;			/* no valid ACK yet */
	struct ib_tftp_conn *uprev, *unext;	/* srv unacked list, if so */
	int fd;				/* ephemeral socket, connected */
	struct event *ev_read;		/* ACKs and ERRORs */
	struct event *ev_timer;		/* retransmit timer */
	struct event *ev_write;		/* armed while a window waits for room;
					 * NULL while unacked */
	bool write_armed;		/* ev_write added */
	struct sockaddr_storage peer;	/* client */
	socklen_t peer_len;		/* bytes of peer */
	struct ib_tftp_xfer x;		/* the state machine */
	struct ib_tftp_file *file;	/* one reference held */
	struct ib_tftp_reader rd;	/* block producer */
	uint8_t oack[IB_TFTP_OACK_MAX];	/* built once, resent as is */
	size_t oack_len;		/* bytes of oack */
	uint32_t gso_segs;		/* blocks per UDP GSO send, 0 = no GSO */
	uint64_t pend_first;		/* next block still to send */
	uint32_t pend_count;		/* blocks still to send */
	struct ib_tftp_report rep;	/* filled as we go */
};

/* Whether the kernel takes UDP GSO sends (probed on first use). */
enum ib_tftp_gso {
	IB_TFTP_GSO_UNKNOWN,		/* not probed yet */
	IB_TFTP_GSO_ON,			/* UDP_SEGMENT known to the kernel */
	IB_TFTP_GSO_OFF,		/* unknown option, or a send refused it */
};

struct ib_tftp_server {
	struct event_base *base;	/* caller's loop */
	enum ib_tftp_gso gso;		/* UDP GSO for windows, server-wide */
	struct ib_tftp_srv_limits lim;		/* current limits */
	int rootfd;			/* O_PATH root directory */
	bool openat2;			/* resolver available */
	char **trusted;			/* copied trusted names */
	size_t n_trusted;
	char **listen_cfg;		/* copied cfg->listen, for reconfigure */
	size_t n_listen_cfg;
	ib_tftp_report_fn report;	/* or NULL */
	void *report_ctx;
	struct ib_tftp_listener ls[LISTEN_MAX];	/* listening sockets */
	size_t n_ls;
	struct ib_tftp_conn *conns;		/* transfers in flight */
	size_t n_conns;			/* = n_live + n_unacked */
	uint32_t n_live;		/* under way */
	uint32_t n_unacked;		/* not yet ACKed */
	uint32_t n_stranger_unacked;	/* of those, from sources with none
					 * under way */
	struct ib_tftp_conn *unacked_old;	/* unacked list: oldest */
	struct ib_tftp_conn *unacked_new;	/* and newest */
	struct ib_tftp_source **src_tab;	/* hash of sources */
	size_t src_buckets;		/* power of two */
	size_t n_src;			/* sources in the table */
	uint8_t src_key[IB_SIPHASH_KEY_LEN];	/* keys src_tab */
	struct ib_tftp_flood flood;	/* summary of silent ends and refusals */
	struct event *ev_flood;		/* logs the summary at window end */
	bool closing;			/* ib_tftp_server_free is ending all */
	struct ib_tftp_cache *cache;	/* hot files */
	uint8_t *slots;			/* SEND_BATCH copied blocks */
	uint8_t *rscratch;		/* reader scratch */
	uint8_t *reqbuf;		/* RECV_BATCH request buffers */
	struct {
		uint32_t ms;		/* duration */
		struct timeval tv;	/* plain form */
		const struct timeval *common; /* libevent common timeout */
	} tmo[N_COMMON_TMO];
	size_t n_tmo;
};

/* The pools' limits of tftp_admit.h, from s's current limits. */
static inline struct ib_tftp_admit_limits
ib_tftp_srv_admit_limits(const struct ib_tftp_server *s)
{
	return (struct ib_tftp_admit_limits){
		.max_live = s->lim.max_transfers,
		.max_unacked = s->lim.max_unacked,
		.max_per_client = s->lim.max_per_client,
	};
}

/* A request as received on a listening socket. */
struct ib_tftp_rq {
	struct ib_tftp_listener *l;		/* where it came in */
	struct sockaddr_storage peer;	/* client */
	socklen_t peer_len;
	struct sockaddr_storage local;	/* address it was sent to, port 0 */
	struct sockaddr_storage spec;	/* kernel's choice of source (v4) */
	bool has_local;			/* pktinfo was present */
	int ifindex;			/* interface it came in on (v6) */
	const uint8_t *buf;		/* packet */
	size_t len;
	bool truncated;			/* larger than REQ_BUF */
};

/*
 * Starts a transfer of file (one reference, taken over) for request rq
 * whose report so far is rep, unacknowledged.  0, or a negative errno for
 * the caller to refuse the request with (the file reference is then
 * released).
 */
int ib_tftp_conn_start(struct ib_tftp_server *s, const struct ib_tftp_rq *rq,
		       const struct ib_tftp_request *req, struct ib_tftp_file *file,
		       const struct ib_tftp_report *rep);
/*
 * The client repeated the request of transfer c: resend what is
 * outstanding if it has been quiet a while (may end c).
 */
void ib_tftp_conn_nudge(struct ib_tftp_conn *c);
/*
 * Ends a transfer: logs once, reports once, frees c.  An unacknowledged
 * transfer that ends without a word from its client (-ETIMEDOUT,
 * -ECONNREFUSED, shutdown) goes to the flood summary instead when
 * ib_tftp_flood_note says so.
 */
void ib_tftp_conn_end(struct ib_tftp_conn *c, int result);
/*
 * Ends an unacknowledged transfer to make room: ERROR "server busy" to
 * the client, counted in the flood summary, freed.
 */
void ib_tftp_conn_evict(struct ib_tftp_conn *c);
/*
 * Notes an event for the flood summary (arming its timer when a window
 * opens).  Returns true when the event is folded into the summary, false
 * when the caller logs and reports it by itself.
 */
bool ib_tftp_flood_record(struct ib_tftp_server *s, enum ib_tftp_flood_kind kind,
			  const struct sockaddr_storage *peer);
/* The monotonic clock of the state machines and the summary, in ms. */
uint64_t ib_tftp_mono_ms(void);

/* ---- sources and the unacked list (tftp_sources.c) ---- */

/* Sets up the source table.  0, -EIO (no random key) or -ENOMEM. */
int ib_tftp_sources_init(struct ib_tftp_server *s);
/* Frees it (all transfers gone). */
void ib_tftp_sources_done(struct ib_tftp_server *s);
/* The keyed hash of a peer's address (port ignored). */
uint64_t ib_tftp_source_hash(const struct ib_tftp_server *s,
			     const struct sockaddr_storage *peer);
/* The source of peer's address, or NULL. */
struct ib_tftp_source *ib_tftp_source_find(struct ib_tftp_server *s,
					   const struct sockaddr_storage *peer);
/* The admission counts for a request from src (NULL: a new source). */
void ib_tftp_admit_counts_for(const struct ib_tftp_server *s,
			      const struct ib_tftp_source *src,
			      struct ib_tftp_admit_counts *ret);
/* Files new transfer c (c->peer set) under its source, unacked, newest. */
int ib_tftp_source_attach(struct ib_tftp_server *s, struct ib_tftp_conn *c);
/* c got its first valid ACK: off the unacked list, under way. */
void ib_tftp_source_promote(struct ib_tftp_server *s, struct ib_tftp_conn *c);
/* Takes c out of its source and the counts (before freeing it). */
void ib_tftp_source_detach(struct ib_tftp_server *s, struct ib_tftp_conn *c);
/*
 * The oldest unacked transfer (of a source with none under way, if
 * stranger), or NULL.
 */
struct ib_tftp_conn *ib_tftp_unacked_oldest(const struct ib_tftp_server *s,
					    bool stranger);
/* Stamps the end time and hands r to the report callback. */
void ib_tftp_report_emit(struct ib_tftp_server *s, struct ib_tftp_report *r);
/* "1.2.3.4:69" or "[fd00::1]:69". */
void ib_tftp_addr_format(const struct sockaddr_storage *ss, char *out,
			 size_t outlen);

#endif
