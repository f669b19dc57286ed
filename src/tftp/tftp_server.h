/*
 * The TFTP server: a thin libevent shell around tftp_codec (wire),
 * tftp_xfer (what to send when) and tftp_file (what the bytes are).
 *
 * Read-only (WRQ is refused).  Requests arrive on the configured port; each
 * transfer then runs from its own ephemeral UDP socket (its TID, RFC 1350
 * section 4), bound to the address the request was sent to and connected
 * to the client, all on the caller's event loop.  Every transfer, and every
 * refused request, is reported once through the report callback -- except
 * in a flood: unacknowledged transfers evicted to make room, and past the
 * first few those that end unanswered and "busy" refusals, are only
 * counted in one summary line per window (tftp_admit.h), so spoofed
 * requests cannot flood the log and the journal.
 *
 * A transfer is unacknowledged until its client ACKs the OACK or DATA 1,
 * and only then takes one of max_transfers' slots; unacknowledged ones
 * wait in a table of max_unacked, the oldest evicted when it is full.
 */
#ifndef IB_TFTP_SERVER_H
#define IB_TFTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/config.h"

struct event_base;
struct ib_tftp_server;

/* How one transfer (or refused request) went. */
struct ib_tftp_report {
	struct sockaddr_storage peer;	/* client address and port */
	socklen_t peer_len;		/* bytes of peer used */
	char file[256];			/* requested name, sanitised */
	uint64_t bytes;			/* octets acknowledged by the client */
	uint64_t tsize;			/* octets the transfer carries (netascii:
					 * encoded), 0 when refused */
	uint32_t blksize;		/* negotiated block size */
	uint32_t windowsize;		/* negotiated window */
	uint32_t timeout_s;		/* negotiated timeout, 0 = server default */
	int64_t start_us;		/* request received, wall clock */
	int64_t end_us;			/* transfer ended, wall clock */
	uint32_t retransmits;		/* packets resent */
	int result;			/* 0, or -errno: -ENOENT, -EACCES,
					 * -EROFS (WRQ), -EBUSY (caps),
					 * -ETIMEDOUT, -ECONNABORTED (client
					 * error), -ECONNREFUSED, -EBADMSG,
					 * -EPROTONOSUPPORT, -ENAMETOOLONG, -EIO */
	char error[128];		/* human text for result, "" on success */
	bool answered;			/* the client ACKed a block we sent (or
					 * ACK 0 to the OACK) from the RRQ's exact
					 * address and port, to the transfer's own
					 * port, which it could only learn from our
					 * reply: it receives at its address (a
					 * forged source must guess the port: one
					 * of ~28k, per request).  An ERROR is no
					 * answer: it names no block */
};

/* Called once per finished or refused transfer, on the event loop. */
typedef void (*ib_tftp_report_fn)(const struct ib_tftp_report *r, void *ctx);

struct ib_tftp_server_opts {
	const struct ib_tftp_config *cfg; /* read during the call only */
	const char *const *trusted;	/* names that may follow symlinks out */
	size_t n_trusted;		/* (copied) */
	ib_tftp_report_fn report;	/* or NULL */
	void *report_ctx;		/* passed to report */
};

/*
 * Opens the root directory and binds cfg->port on each cfg->listen address
 * (none: 0.0.0.0 and ::, the latter optional when IPv6 is unavailable).
 * Zero limits in cfg take built-in defaults (port 69, 1000 transfers, 16
 * per client, as many unacknowledged as transfers, 1000 ms, blksize 65464,
 * window 64); cache_bytes 0 disables the cache and max_retries 0 means no
 * retransmission.  Returns 0 and
 * *ret, or a negative errno (root missing, bind failed).
 */
int ib_tftp_server_new(struct event_base *base,
		       const struct ib_tftp_server_opts *opts,
		       struct ib_tftp_server **ret);

/* Aborts all transfers (reporting them), closes sockets.  Accepts NULL. */
void ib_tftp_server_free(struct ib_tftp_server *s);

/* Listening sockets open and watched (0 after a reload lost them). */
size_t ib_tftp_server_listening(const struct ib_tftp_server *s);

/*
 * Applies a new configuration (SIGHUP): limits, root, trusted names and
 * cache budget apply to new transfers; transfers in flight finish under the
 * old ones.  Listening sockets are rebound when port or addresses changed.
 * On error (e.g. root missing) nothing changes and a negative errno is
 * returned.
 */
int ib_tftp_server_reconfigure(struct ib_tftp_server *s,
			       const struct ib_tftp_server_opts *opts);

/* Transfers in flight (for status pages and tests). */
size_t ib_tftp_server_active(const struct ib_tftp_server *s);

#endif
