/*
 * The TFTP stage: the firmware reads its boot file (RFC 1350) with the
 * options PXE firmware and iPXE ask for: blksize (RFC 2348), tsize (RFC
 * 2349) and windowsize (RFC 7440).  One UDP socket per transfer, bound to
 * the machine's leased address; the server's first answer names its
 * transfer ID (port), and packets from any other port are ignored
 * (RFC 1350 4).  The receiving logic is storm_parse.c's; the RRQ and ACKs
 * are built by ironboot's TFTP codec.  A silent server gets the last ACK
 * (or the RRQ) again after 1, 2, 4, 8 s; then the stage fails.
 */
#include "storm/storm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cursor.h"
#include "tftp/tftp_codec.h"

#define TRIES 5				/* sends of one RRQ or ACK */
#define RX_BATCH 4			/* datagrams per recvmmsg */
#define RX_SLOT 65536			/* bytes of one receive slot */

int ib_storm_bind_lease(const struct ib_storm *st, const struct ib_storm_machine *m, int fd)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	int one = 1;

	/* the address is local through the namespace's AnyIP route; FREEBIND
	 * lets a bench without one still send (its replies then go nowhere) */
	if (st->o.family == AF_INET) {
		memcpy(&a4.sin_addr, m->addr, 4);
		(void)setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		return bind(fd, (void *)&a4, sizeof(a4)) < 0 ? -errno : 0;
	}
	memcpy(&a6.sin6_addr, m->addr, 16);
	(void)setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
	return bind(fd, (void *)&a6, sizeof(a6)) < 0 ? -errno : 0;
}

/* Sends an RRQ (block < 0) or the ACK of block; arms the timeout. */
static void tftp_send(struct ib_storm *st, struct ib_storm_machine *m, int block)
{
	const struct ib_tftp_options opts = {
		.present = IB_TFTP_OPT_BLKSIZE | IB_TFTP_OPT_TSIZE |
			   (st->o.windowsize ? IB_TFTP_OPT_WINDOWSIZE : 0),
		.blksize = st->o.blksize, .tsize = 0, .windowsize = st->o.windowsize,
	};
	uint8_t buf[600];
	struct ib_wbuf w;
	int r;

	ib_wbuf_init(&w, buf, sizeof(buf));
	if (block < 0)
		r = ib_tftp_build_rrq(&w, m->url ? m->url->target : "", IB_TFTP_MODE_OCTET, &opts);
	else
		r = ib_tftp_build_ack(&w, (uint16_t)block);
	if (r == 0 && block < 0) {
		/* requests go to the server's port; the rest to its TID */
		struct sockaddr_in6 to = m->peer;
		to.sin6_port = htons(m->tftp_port);	/* same offset in sockaddr_in */
		(void)sendto(m->fd, buf, w.len, 0, (void *)&to, m->peer_len);
	} else if (r == 0) {
		(void)sendto(m->fd, buf, w.len, 0, (void *)&m->peer, m->peer_len);
	}
	m->tries++;
	(void)ib_storm_timer(st, m, 1000000ull << (m->tries - 1));
}

void ib_storm_tftp_start(struct ib_storm *st, struct ib_storm_machine *m)
{
	struct ib_storm_tftp_url u;
	int fd, r;

	if (!m->bootfile || ib_storm_tftp_url_parse(m->bootfile, strlen(m->bootfile), &u) < 0 ||
	    u.family != st->o.family) {
		ib_storm_stage_fail(st, m, "bad-tftp-url");
		return;
	}
	/* the file name travels in the url slot's target */
	m->url = m->url ? m->url : calloc(1, sizeof(*m->url));
	if (!m->url) {
		ib_storm_stage_fail(st, m, "no-memory");
		return;
	}
	snprintf(m->url->target, sizeof(m->url->target), "%s", u.file);
	m->tftp_port = u.port;
	memset(&m->peer, 0, sizeof(m->peer));
	if (u.family == AF_INET) {
		struct sockaddr_in *p = (void *)&m->peer;
		p->sin_family = AF_INET;
		p->sin_port = htons(u.port);
		memcpy(&p->sin_addr, u.addr, 4);
		m->peer_len = sizeof(*p);
	} else {
		m->peer.sin6_family = AF_INET6;
		m->peer.sin6_port = htons(u.port);
		memcpy(&m->peer.sin6_addr, u.addr, 16);
		m->peer_len = sizeof(m->peer);
	}
	fd = socket(u.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ib_storm_stage_fail(st, m, "socket");
		return;
	}
	r = ib_storm_bind_lease(st, m, fd);
	r = r ? r : ib_storm_watch(st, m, fd, EPOLLIN);
	if (r < 0) {
		close(fd);
		ib_storm_stage_fail(st, m, "bind");
		return;
	}
	m->peer_known = false;
	ib_storm_tftp_rx_init(&m->rx);
	tftp_send(st, m, -1);
}

/* Whether from is the server: its address, and its TID once known. */
static bool from_server(struct ib_storm_machine *m, const struct sockaddr_in6 *from)
{
	const struct sockaddr_in *f4 = (const void *)from, *p4 = (const void *)&m->peer;

	if (from->sin6_family == AF_INET) {
		if (f4->sin_addr.s_addr != p4->sin_addr.s_addr)
			return false;
		if (!m->peer_known)
			((struct sockaddr_in *)(void *)&m->peer)->sin_port = f4->sin_port;
		m->peer_known = true;
		return f4->sin_port == p4->sin_port;
	}
	if (memcmp(&from->sin6_addr, &m->peer.sin6_addr, 16) != 0)
		return false;
	if (!m->peer_known)
		m->peer.sin6_port = from->sin6_port;
	m->peer_known = true;
	return from->sin6_port == m->peer.sin6_port;
}

/* One datagram of the transfer; false when m left the stage. */
static bool tftp_packet(struct ib_storm *st, struct ib_storm_machine *m,
			const uint8_t *p, size_t len)
{
	uint16_t block;
	int act = ib_storm_tftp_rx_input(&m->rx, p, len, &block);

	if (act == -ECONNREFUSED) {
		ib_storm_stage_fail(st, m, m->rx.err_code == IB_TFTP_ENOTFOUND ? "tftp-not-found"
						: "tftp-error");
		return false;
	}
	if (act == -EPROTO) {
		ib_storm_stage_fail(st, m, "tftp-bad-oack");
		return false;
	}
	if (act < 0 || act == IB_STORM_TFTP_NONE) {
		if (act == IB_STORM_TFTP_NONE) {
			m->tries = 0;	/* progress: the timeout starts again */
			(void)ib_storm_timer(st, m, 1000000u);
		}
		return true;
	}
	m->tries = 0;
	m->last_ack = block;
	tftp_send(st, m, block);
	if (act == IB_STORM_TFTP_DONE) {
		st->s.st[IB_STORM_TFTP].exchanges++;
		ib_storm_close(st, m);
		ib_storm_stage_ok(st, m);
		return false;
	}
	return true;
}

void ib_storm_tftp_readable(struct ib_storm *st, struct ib_storm_machine *m)
{
	struct mmsghdr mh[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_in6 from[RX_BATCH];
	const struct ib_storm_rx rx = { mh, iov, from, RX_BATCH, RX_SLOT };
	int n;

	do {
		n = ib_storm_recv(st, m->fd, &rx);
		for (int i = 0; i < n; i++) {
			if (!from_server(m, &from[i]))
				continue;	/* RFC 1350 4: another TID */
			if (!tftp_packet(st, m, iov[i].iov_base, mh[i].msg_len))
				return;
		}
	} while (n == RX_BATCH);
}

void ib_storm_tftp_timeout(struct ib_storm *st, struct ib_storm_machine *m)
{
	if (m->tries >= TRIES) {
		ib_storm_stage_fail(st, m, m->rx.started ? "tftp-timeout" : "tftp-no-answer");
		return;
	}
	ib_storm_retransmit(st, m);
	if (!m->rx.started)
		tftp_send(st, m, -1);
	else
		tftp_send(st, m, m->last_ack);
}
