/*
 * TFTP transfers: one connection per transfer, with its own socket (TID),
 * timer and state machine.  Part of the server shell (tftp_server.c takes
 * the requests and starts connections here).
 *
 * A window leaves in as few syscalls as the kernel allows: one UDP GSO
 * sendmsg() per up to 64 packets when its packets fit the path MTU
 * (conn_gso_segs), else one sendmmsg(); the data is gathered straight from
 * the file cache, never copied here.
 */
#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tftp/tftp_server_int.h"

/* The state machines' clock: see tftp_server_int.h. */
uint64_t ib_tftp_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ib_tftp_addr_format(const struct sockaddr_storage *ss, char *out,
			size_t outlen)
{
	char host[INET6_ADDRSTRLEN + 16] = "?";
	char port[8] = "0";

	getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host,
		    sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(out, outlen, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
		 host, port);
}

/* ---- timers ---------------------------------------------------------- */

/* Shares one libevent timeout queue per duration (O(1) re-arming). */
static const struct timeval *timer_tv(struct ib_tftp_server *s, uint32_t ms)
{
	size_t i;

	for (i = 0; i < s->n_tmo; i++)
		if (s->tmo[i].ms == ms)
			return s->tmo[i].common ? s->tmo[i].common : &s->tmo[i].tv;
	if (i == N_COMMON_TMO)
		i = N_COMMON_TMO - 1;	/* full: reuse the last slot */
	else
		s->n_tmo++;
	s->tmo[i].ms = ms;
	s->tmo[i].tv = (struct timeval){ ms / 1000, (ms % 1000) * 1000 };
	s->tmo[i].common = event_base_init_common_timeout(s->base, &s->tmo[i].tv);
	return s->tmo[i].common ? s->tmo[i].common : &s->tmo[i].tv;
}

/* ---- transfers ------------------------------------------------------- */

void ib_tftp_report_emit(struct ib_tftp_server *s, struct ib_tftp_report *r)
{
	r->end_us = ib_now_us();
	if (s->report)
		s->report(r, s->report_ctx);
}

static void conn_free(struct ib_tftp_conn *c)
{
	struct ib_tftp_server *s = c->srv;

	ib_tftp_source_detach(s, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->n_conns--;
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_timer)
		event_free(c->ev_timer);
	if (c->ev_write)
		event_free(c->ev_write);
	if (c->fd >= 0)
		close(c->fd);
	ib_tftp_reader_done(&c->rd);
	ib_tftp_file_put(c->file);
	free(c);
}

static void send_error(int fd, uint16_t code, const char *msg)
{
	uint8_t buf[IB_TFTP_ERRMSG_MAX + 8];
	struct ib_wbuf w;

	ib_wbuf_init(&w, buf, sizeof(buf));
	if (ib_tftp_build_error(&w, code, msg) == 0)
		(void)send(fd, buf, w.len, MSG_DONTWAIT);
}

/* Ends a transfer: see tftp_server_int.h. */
void ib_tftp_conn_end(struct ib_tftp_conn *c, int result)
{
	struct ib_tftp_report *r = &c->rep;
	char peer[ADDRSTR];

	/* Not a word from the client yet, and none in the end: perhaps a
	 * spoofed source; past the first few, only the summary counts it. */
	if (c->unacked &&
	    (result == -ETIMEDOUT || result == -ECONNREFUSED || c->srv->closing) &&
	    ib_tftp_flood_record(c->srv, IB_TFTP_FLOOD_UNANSWERED, &c->peer)) {
		conn_free(c);
		return;
	}
	r->result = result;
	r->retransmits = c->x.retransmits;
	r->bytes = result == 0 ? c->x.p.size : ib_tftp_xfer_bytes_acked(&c->x);
	if (result == -EIO) {
		/* Our side failed: tell the client rather than go silent. */
		send_error(c->fd, IB_TFTP_EUNDEF, "read error");
		snprintf(r->error, sizeof(r->error), "read error");
	} else if (result == -ETIMEDOUT) {
		snprintf(r->error, sizeof(r->error), "no ACK after %u retransmits",
			 c->x.retries);
	} else if (result == -ECONNREFUSED) {
		snprintf(r->error, sizeof(r->error), "client port unreachable");
	} else if (result == -ENOMEM) {
		snprintf(r->error, sizeof(r->error), "out of memory");
	}
	ib_tftp_addr_format(&c->peer, peer, sizeof(peer));
	if (result == 0)
		ib_info("tftp: sent %s to %s (%llu bytes, blksize %u, window %u, "
			"%u retransmits)", r->file, peer,
			(unsigned long long)r->bytes, r->blksize, r->windowsize,
			r->retransmits);
	else
		ib_info("tftp: transfer of %s to %s failed after %llu bytes: %s "
			"(aborted)", r->file, peer, (unsigned long long)r->bytes,
			r->error);
	ib_tftp_report_emit(c->srv, r);
	conn_free(c);
}

/* Makes room in the unacked table: see tftp_server_int.h. */
void ib_tftp_conn_evict(struct ib_tftp_conn *c)
{
	/* A real client learns at once, and may ask again. */
	send_error(c->fd, IB_TFTP_EUNDEF, "server busy");
	ib_tftp_flood_record(c->srv, IB_TFTP_FLOOD_EVICTED, &c->peer);
	conn_free(c);
}

static void arm_write(struct ib_tftp_conn *c, bool on)
{
	if (on == c->write_armed || !c->ev_write)
		return;
	if (on)
		event_add(c->ev_write, NULL);
	else
		event_del(c->ev_write);
	c->write_armed = on;
}

/*
 * Fills msgs[0..n) with blocks pend_first..; message k uses iov[2k] (its
 * DATA header) and iov[2k + 1] (its data, pointing into the cache when the
 * file is cached), so iov is also the gather list of a GSO send.  -EIO on
 * a read error.
 */
static int build_batch(struct ib_tftp_conn *c, struct mmsghdr *msgs,
		       struct iovec *iov, uint8_t (*hdr)[4], uint32_t n)
{
	struct ib_tftp_server *s = c->srv;

	for (uint32_t k = 0; k < n; k++) {
		uint64_t i = c->pend_first + k, off;
		uint32_t len;
		const uint8_t *p;

		ib_tftp_xfer_block_span(&c->x, i, &off, &len);
		if (ib_tftp_reader_block(&c->rd, i, len, s->slots + k * SLOT_BYTES,
					 s->rscratch, &p) < 0)
			return -EIO;
		ib_tftp_data_header(ib_tftp_xfer_wire(i), hdr[k]);
		iov[2 * k] = (struct iovec){ hdr[k], IB_TFTP_HDR_LEN };
		iov[2 * k + 1] = (struct iovec){ (void *)p, len };
		msgs[k] = (struct mmsghdr){
			.msg_hdr = { .msg_iov = &iov[2 * k], .msg_iovlen = 2 },
		};
	}
	return 0;
}

/*
 * Sends the n >= 2 blocks of iov (as laid out by build_batch) in one
 * sendmsg() with UDP_SEGMENT: the kernel cuts the super-datagram into
 * packets of 4 + blksize bytes.  Only the last block of a transfer is
 * short, and it is always the last of its window, so every segment but
 * the last is full, as GSO requires.  -1 with errno on failure.
 */
static ssize_t send_gso(const struct ib_tftp_conn *c, struct iovec *iov,
			uint32_t n)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctrl;
	uint16_t seg = (uint16_t)(IB_TFTP_HDR_LEN + c->x.p.blksize);
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2 * (size_t)n,
		.msg_control = ctrl.buf, .msg_controllen = sizeof(ctrl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(&ctrl, 0, sizeof(ctrl));
	cm->cmsg_level = IPPROTO_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(seg));
	memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
	return sendmsg(c->fd, &mh, MSG_DONTWAIT);
}

/* Stops GSO for the whole server, saying so once. */
static void gso_off(struct ib_tftp_server *s, int err)
{
	if (s->gso != IB_TFTP_GSO_OFF)
		ib_warn("tftp: UDP GSO not usable (%s); windows go out with "
			"sendmmsg() from now on", strerror(-err));
	s->gso = IB_TFTP_GSO_OFF;
}

/*
 * A refused GSO send.  ENOPROTOOPT / EOPNOTSUPP: the kernel has no UDP GSO,
 * so it stops for the whole server, said once.  EINVAL / EMSGSIZE / EIO are
 * about this path (a smaller path MTU learnt since, a route through xfrm,
 * a device without checksum offload): only this transfer stops using it.
 * Returns whether err was such a refusal.
 */
static bool gso_refused(struct ib_tftp_conn *c, int err)
{
	struct ib_tftp_server *s = c->srv;

	if (err == -ENOPROTOOPT || err == -EOPNOTSUPP) {
		gso_off(s, err);
		return true;
	}
	if (err == -EINVAL || err == -EMSGSIZE || err == -EIO) {
		ib_debug("tftp: UDP GSO refused on one transfer (%s); it goes on "
			 "with sendmmsg()", strerror(-err));
		c->gso_segs = 0;
		return true;
	}
	return false;
}

/*
 * Sends blocks msgs[0..n) of a batch: up to c->gso_segs in one GSO send
 * when the transfer has GSO, else sendmsg() (one block) or sendmmsg().
 * Returns the blocks consumed (sent, or dropped with ENOBUFS: the timer
 * resends them), 0 to call again (EINTR, or GSO just refused), or a
 * negative errno (-EAGAIN: the socket buffer is full).
 */
static int send_blocks(struct ib_tftp_conn *c, struct mmsghdr *msgs,
		       struct iovec *iov, uint32_t n)
{
	uint32_t m = 1;
	int r;

	if (n >= 2 && c->gso_segs >= 2 && c->srv->gso == IB_TFTP_GSO_ON) {
		m = IB_MIN(n, c->gso_segs);
		r = send_gso(c, iov, m) < 0 ? -errno : (int)m;
		if (gso_refused(c, r))
			return 0;
	} else if (n == 1) {
		/* a lone block (window 1) skips sendmmsg()'s per-call overhead */
		r = sendmsg(c->fd, &msgs[0].msg_hdr, MSG_DONTWAIT) < 0 ? -errno : 1;
	} else {
		r = sendmmsg(c->fd, msgs, n, MSG_DONTWAIT);
		if (r < 0)
			r = -errno;
	}
	if (r == -EINTR)
		return 0;
	if (r == -ENOBUFS)
		return (int)m;	/* lost; the timer resends them */
	return r;
}

/*
 * Sends the pending blocks.  A full socket buffer parks the rest until the
 * socket is writable; a dropped packet (ENOBUFS) is left to the timer.
 * Returns 0, or a negative errno that ends the transfer.
 */
static int conn_flush(struct ib_tftp_conn *c)
{
	struct mmsghdr msgs[SEND_BATCH];
	struct iovec iov[2 * SEND_BATCH];
	uint8_t hdr[SEND_BATCH][4];

	while (c->pend_count > 0) {
		uint32_t n = IB_MIN(c->pend_count, (uint32_t)SEND_BATCH);

		if (build_batch(c, msgs, iov, hdr, n) < 0)
			return -EIO;
		for (uint32_t k = 0; k < n;) {
			int sent = send_blocks(c, msgs + k, iov + 2 * k, n - k);

			if (sent == -EAGAIN && !c->ev_write) {
				/* unacknowledged: one packet, the timer
				 * resends it */
				c->pend_count = 0;
				return 0;
			}
			if (sent == -EAGAIN) {
				arm_write(c, true);
				return 0;
			}
			if (sent < 0)
				return sent;
			k += (uint32_t)sent;
			c->pend_first += (uint32_t)sent;
			c->pend_count -= (uint32_t)sent;
		}
	}
	arm_write(c, false);
	return 0;
}

/* Carries out an action of the state machine.  Returns false if c ended. */
static bool conn_act(struct ib_tftp_conn *c, const struct ib_tftp_action *a)
{
	int r;

	switch (a->kind) {
	case IB_TFTP_ACT_NONE:
		return true;
	case IB_TFTP_ACT_OACK:
		(void)send(c->fd, c->oack, c->oack_len, MSG_DONTWAIT);
		break;
	case IB_TFTP_ACT_DATA:
		/* A new window replaces whatever was still parked. */
		c->pend_first = a->first;
		c->pend_count = a->count;
		r = conn_flush(c);
		if (r < 0) {
			ib_tftp_conn_end(c, r);
			return false;
		}
		break;
	case IB_TFTP_ACT_DONE:
	case IB_TFTP_ACT_FAIL:
		ib_tftp_conn_end(c, a->error);
		return false;
	}
	event_add(c->ev_timer, timer_tv(c->srv, a->timeout_ms));
	return true;
}

static const char *act_name(enum ib_tftp_act_kind k)
{
	static const char *const names[] = {
		[IB_TFTP_ACT_NONE] = "none", [IB_TFTP_ACT_OACK] = "oack",
		[IB_TFTP_ACT_DATA] = "data", [IB_TFTP_ACT_DONE] = "done",
		[IB_TFTP_ACT_FAIL] = "fail",
	};

	return names[k];
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ib_tftp_conn *c = arg;
	int r = conn_flush(c);

	if (r < 0)
		ib_tftp_conn_end(c, r);
}

/*
 * Blocks per GSO send for c (0: none).  GSO needs a window, and DATA
 * packets that leave unfragmented: 4 + blksize plus the IP and UDP headers
 * within the path MTU the kernel knows for the connected peer.  The first
 * windowed transfer also probes whether the kernel knows UDP_SEGMENT at
 * all (older kernels would ignore the cmsg and send one huge datagram).
 */
static uint32_t conn_gso_segs(struct ib_tftp_conn *c)
{
	struct ib_tftp_server *s = c->srv;
	bool v4 = c->peer.ss_family == AF_INET;
	int mtu = 0, off = 0;
	socklen_t len = sizeof(mtu);

	if (c->x.p.windowsize < 2 || s->gso == IB_TFTP_GSO_OFF)
		return 0;	/* (saves the syscalls) */
	if (s->gso == IB_TFTP_GSO_UNKNOWN) {
		if (setsockopt(c->fd, IPPROTO_UDP, UDP_SEGMENT, &off, sizeof(off)) < 0) {
			gso_off(s, -errno);
			return 0;
		}
		s->gso = IB_TFTP_GSO_ON;
	}
	if (getsockopt(c->fd, v4 ? IPPROTO_IP : IPPROTO_IPV6,
		       v4 ? IP_MTU : IPV6_MTU, &mtu, &len) < 0 || mtu <= 0)
		return 0;
	return ib_tftp_gso_segs(c->x.p.blksize, c->x.p.windowsize, (uint32_t)mtu,
				v4 ? 20 + 8 : 40 + 8);
}

/*
 * The client ACKed the first packet (the OACK, or DATA 1) of unacknowledged
 * transfer c: it gets a slot under way if there is one (tftp_admit.h), and
 * what a window needs: a send buffer that holds it, UDP GSO, a write event.
 * Returns 0, or a negative errno once c has been ended.
 */
static int conn_promote(struct ib_tftp_conn *c)
{
	struct ib_tftp_server *s = c->srv;
	struct ib_tftp_admit_limits lim = ib_tftp_srv_admit_limits(s);
	struct ib_tftp_admit_counts n;
	uint64_t want = (uint64_t)c->x.p.windowsize * (c->x.p.blksize + 64);

	ib_tftp_admit_counts_for(s, c->src, &n);
	if (!ib_tftp_admit_promote(&lim, &n)) {
		send_error(c->fd, IB_TFTP_EUNDEF, "server busy");
		snprintf(c->rep.error, sizeof(c->rep.error), "server busy");
		ib_tftp_conn_end(c, -EBUSY);
		return -EBUSY;
	}
	c->ev_write = event_new(s->base, c->fd, EV_WRITE | EV_PERSIST,
				conn_write_cb, c);
	if (!c->ev_write) {
		ib_tftp_conn_end(c, -ENOMEM);
		return -ENOMEM;
	}
	/* Room for a whole window, so a window is one burst. */
	if (want > 200000) {
		int sndbuf = (int)IB_MIN(want, (uint64_t)SNDBUF_MAX);

		setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	c->gso_segs = conn_gso_segs(c);
	ib_tftp_source_promote(s, c);
	return 0;
}

/* Whether ACK processing moved c past its first packet. */
static bool first_acked(const struct ib_tftp_conn *c, bool was_oack,
			uint64_t was_acked)
{
	return c->x.acked > was_acked ||
	       (was_oack && c->x.state != IB_TFTP_XFER_OACK_SENT);
}

/* One packet from the client on the transfer's socket. */
static bool conn_packet(struct ib_tftp_conn *c, const uint8_t *buf, size_t len)
{
	struct ib_tftp_action a;
	uint16_t op, block, code;
	char msg[96], clean[96];

	if (ib_tftp_opcode_peek(buf, len, &op) < 0)
		return true;
	if (op == IB_TFTP_ACK && ib_tftp_ack_parse(buf, len, &block) == 0) {
		bool was_oack = c->x.state == IB_TFTP_XFER_OACK_SENT;
		uint64_t was_acked = c->x.acked;

		ib_tftp_xfer_ack(&c->x, block, ib_tftp_mono_ms(), &a);
		/* Answered: an ACK that moved the transfer (ACK 0 to the
		 * OACK, or a block we sent), read on this socket, which is
		 * connected to the RRQ's address and port (issue #11); a
		 * stale or bogus block proves nothing. */
		if (first_acked(c, was_oack, was_acked))
			c->rep.answered = true;
		ib_debug("tftp: %s: ACK %u -> %s %llu+%u (acked %llu, retries %u)",
			 c->rep.file, block, act_name(a.kind),
			 (unsigned long long)a.first, a.count,
			 (unsigned long long)c->x.acked, c->x.retries);
		/* (a transfer done with its first ACK needs no slot) */
		if (c->unacked && a.kind == IB_TFTP_ACT_DATA &&
		    first_acked(c, was_oack, was_acked) && conn_promote(c) < 0)
			return false;
		return conn_act(c, &a);
	}
	if (op == IB_TFTP_ERROR &&
	    ib_tftp_error_parse(buf, len, &code, msg, sizeof(msg)) == 0) {
		/* not an answer: an ERROR names no block, so any host that
		 * guesses the port could send it (issue #11) */
		ib_str_sanitize((const uint8_t *)msg, strlen(msg), clean,
				sizeof(clean));
		snprintf(c->rep.error, sizeof(c->rep.error),
			 "client error %u: %s", code, clean);
		ib_tftp_xfer_client_error(&c->x, &a);
		return conn_act(c, &a);
	}
	return true;	/* anything else on a read TID is ignored */
}

/*
 * One datagram per callback: a client sends one ACK per window, so a batch
 * is almost always one, and recvmmsg()'s machinery plus the second empty
 * queue probe cost ~5 % of a storm's CPU (docs/BENCHMARKS.md, TFTP).  The
 * event is level-triggered, so queued duplicates fire it again.
 */
static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ib_tftp_conn *c = arg;
	uint8_t buf[ACK_BUF];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0) {
		if (errno == ECONNREFUSED)
			ib_tftp_conn_end(c, -ECONNREFUSED);
		return;
	}
	conn_packet(c, buf, (size_t)n);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ib_tftp_conn *c = arg;
	struct ib_tftp_action a;

	ib_tftp_xfer_timeout(&c->x, ib_tftp_mono_ms(), &a);
	ib_debug("tftp: %s: timeout -> %s %llu+%u (acked %llu, retries %u)",
		 c->rep.file, act_name(a.kind), (unsigned long long)a.first,
		 a.count, (unsigned long long)c->x.acked, c->x.retries);
	conn_act(c, &a);
}

void ib_tftp_conn_nudge(struct ib_tftp_conn *c)
{
	struct ib_tftp_action a;

	ib_tftp_xfer_nudge(&c->x, ib_tftp_mono_ms(), &a);
	conn_act(c, &a);
}

/*
 * The transfer's own socket: bound to the address asked, connected.  Its
 * send buffer stays the default until the transfer is under way.
 */
static int tid_socket(const struct ib_tftp_rq *rq, int *ret_fd)
{
	int fd = socket(rq->peer.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t alen = rq->peer.ss_family == AF_INET ?
			 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int r;

	if (fd < 0)
		return -errno;
	if (rq->has_local &&
	    bind(fd, (const struct sockaddr *)&rq->local, alen) < 0 &&
	    (rq->peer.ss_family != AF_INET ||
	     bind(fd, (const struct sockaddr *)&rq->spec, alen) < 0))
		goto err;
	if (connect(fd, (const struct sockaddr *)&rq->peer, rq->peer_len) < 0)
		goto err;
	*ret_fd = fd;
	return 0;
err:
	r = -errno;
	close(fd);
	return r;
}

/* Sets up the state machine, OACK and socket of a new transfer. */
static int conn_setup(struct ib_tftp_conn *c, const struct ib_tftp_rq *rq,
		      const struct ib_tftp_request *req)
{
	struct ib_tftp_server *s = c->srv;
	struct ib_tftp_limits lim = { s->lim.max_blksize, s->lim.max_windowsize };
	struct ib_tftp_options o;
	struct ib_tftp_xfer_params p;
	struct ib_wbuf w;
	uint32_t timeout_ms;
	int r;

	ib_tftp_negotiate(&req->opts, &lim, UINT64_MAX, &o);
	r = ib_tftp_reader_init(&c->rd, c->file,
				req->mode == IB_TFTP_MODE_NETASCII, o.blksize,
				o.windowsize);
	if (r < 0)
		return r;
	ib_tftp_negotiate(&req->opts, &lim, c->rd.size, &o);
	/* the guard follows the transfer's timeout, the one the client asked */
	timeout_ms = o.timeout_s ? o.timeout_s * 1000 : s->lim.timeout_ms;
	p = (struct ib_tftp_xfer_params){
		.size = c->rd.size, .blksize = o.blksize, .windowsize = o.windowsize,
		.timeout_ms = timeout_ms, .max_retries = s->lim.max_retries,
		.guard_ms = ib_tftp_xfer_guard_for(timeout_ms), .oack = o.present != 0,
	};
	ib_tftp_xfer_init(&c->x, &p);
	ib_wbuf_init(&w, c->oack, sizeof(c->oack));
	if (p.oack && ib_tftp_build_oack(&w, &o) < 0)
		return -ENOBUFS;
	c->oack_len = w.len;
	c->rep.tsize = c->rd.size;
	c->rep.blksize = o.blksize;
	c->rep.windowsize = o.windowsize;
	c->rep.timeout_s = o.timeout_s;
	return tid_socket(rq, &c->fd);
}

/* Starts a transfer: see tftp_server_int.h. */
int ib_tftp_conn_start(struct ib_tftp_server *s, const struct ib_tftp_rq *rq,
		      const struct ib_tftp_request *req, struct ib_tftp_file *file,
		      const struct ib_tftp_report *rep)
{
	struct ib_tftp_action a;
	struct ib_tftp_conn *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		ib_tftp_file_put(file);
		return -ENOMEM;
	}
	c->srv = s;
	c->fd = -1;
	c->file = file;
	c->rep = *rep;
	c->peer = rq->peer;
	c->peer_len = rq->peer_len;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->n_conns++;
	r = ib_tftp_source_attach(s, c);
	if (r == 0)
		r = conn_setup(c, rq, req);
	if (r < 0)
		goto err_conn;
	c->ev_read = event_new(s->base, c->fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->ev_timer = evtimer_new(s->base, conn_timer_cb, c);
	r = -ENOMEM;
	if (!c->ev_read || !c->ev_timer || event_add(c->ev_read, NULL) < 0)
		goto err_conn;
	ib_tftp_xfer_start(&c->x, ib_tftp_mono_ms(), &a);
	conn_act(c, &a);
	return 0;
err_conn:
	conn_free(c);	/* also drops the file reference */
	return r;
}

