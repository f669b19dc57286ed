/*
 * ironboot-storm's loop: epoll, one timer heap, the DHCP relay socket with
 * recvmmsg()/sendmmsg(), and the stage machine every simulated machine
 * walks.  See storm.h for the shape.
 */
#include "storm/storm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define DHCP_BATCH 64			/* datagrams per recvmmsg/sendmmsg */
#define DHCP_DGRAM 4096			/* bytes of one DHCP datagram */
#define RBUF_SIZE (DHCP_BATCH * DHCP_DGRAM)
#define SCRATCH_SIZE (64 * 1024)	/* >= struct ib_dhcp4_msg, ib_dhcp6_msg */
#define EV_BATCH 256			/* epoll events per wake-up */
#define KIND_DHCP 1ull			/* epoll data: the relay socket */
#define KIND_MACHINE 2ull		/* epoll data: a machine's socket */

const char *const ib_storm_stage_names[IB_STORM__STAGES] = {
	"dhcp", "tftp", "dhcp-ipxe", "script", "kernel",
};

/* One entry of the timer heap. */
struct ib_storm_timer {
	uint64_t due;			/* loop microseconds */
	uint32_t idx;			/* machine */
	uint32_t gen;			/* the machine's timer_gen when armed */
};

/* What differs between the DHCP families for the loop. */
struct dhcp_family {
	void (*send)(struct ib_storm *st, struct ib_storm_machine *m); /* (re)send */
	void (*input)(struct ib_storm *st, const uint8_t *p, size_t len); /* a reply */
	uint32_t xid_free;		/* xid bits free to vary (the rest name the machine) */
	const char *no_reply[2];	/* failure after the last try, per phase */
};

#define SLOW_US 1000000		/* a stage this long is named with -v */
#define DHCP_TRIES 4			/* sends of one request before failing */

static const struct dhcp_family dhcp4 = {
	ib_storm_dhcp4_send, ib_storm_dhcp4_input, ~(IB_STORM_MAX_MACHINES - 1),
	{ "no-offer", "no-ack" },
};
/* RFC 8415 8: a 24-bit transaction id */
static const struct dhcp_family dhcp6 = {
	ib_storm_dhcp6_send, ib_storm_dhcp6_input, 0xffffffu & ~(IB_STORM_MAX_MACHINES - 1),
	{ "no-advertise", "no-reply" },
};

static const struct dhcp_family *family(const struct ib_storm *st)
{
	return st->o.family == AF_INET ? &dhcp4 : &dhcp6;
}

/* One queued DHCP datagram. */
struct ib_storm_out {
	size_t len;			/* bytes in buf */
	uint8_t buf[DHCP_DGRAM];	/* the datagram */
};

static uint64_t clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint32_t ib_storm_rand(struct ib_storm *st)
{
	/* xorshift64*: reproducible per --seed, no syscall */
	st->rng ^= st->rng >> 12;
	st->rng ^= st->rng << 25;
	st->rng ^= st->rng >> 27;
	return (uint32_t)((st->rng * 2685821657736338717ull) >> 32);
}

/* ---- timers ------------------------------------------------------------ */

static bool tm_less(const struct ib_storm_timer *a, const struct ib_storm_timer *b)
{
	return a->due < b->due;
}

int ib_storm_timer(struct ib_storm *st, struct ib_storm_machine *m, uint64_t us)
{
	struct ib_storm_timer t = { st->now + us, m->idx, ++m->timer_gen };
	size_t i;

	if (st->heap_n == st->heap_cap) {
		size_t cap = st->heap_cap ? st->heap_cap * 2 : 1024;
		struct ib_storm_timer *h = realloc(st->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		st->heap = h;
		st->heap_cap = cap;
	}
	for (i = st->heap_n++; i > 0; i = (i - 1) / 2) {
		if (!tm_less(&t, &st->heap[(i - 1) / 2]))
			break;
		st->heap[i] = st->heap[(i - 1) / 2];
	}
	st->heap[i] = t;
	return 0;
}

void ib_storm_timer_cancel(struct ib_storm_machine *m)
{
	m->timer_gen++;		/* the heap entry goes stale */
}

static struct ib_storm_timer heap_pop(struct ib_storm *st)
{
	struct ib_storm_timer top = st->heap[0], last = st->heap[--st->heap_n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= st->heap_n)
			break;
		if (c + 1 < st->heap_n && tm_less(&st->heap[c + 1], &st->heap[c]))
			c++;
		if (!tm_less(&st->heap[c], &last))
			break;
		st->heap[i] = st->heap[c];
		i = c;
	}
	if (st->heap_n)
		st->heap[i] = last;
	return top;
}

/* ---- sockets ----------------------------------------------------------- */

int ib_storm_watch(struct ib_storm *st, struct ib_storm_machine *m, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events,
				  .data.u64 = KIND_MACHINE << 32 | m->idx };

	if (epoll_ctl(st->ep, m->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	if (m->fd != fd)
		st->open_fds++;
	m->fd = fd;
	return 0;
}

void ib_storm_close(struct ib_storm *st, struct ib_storm_machine *m)
{
	if (m->fd < 0)
		return;
	close(m->fd);	/* leaves the epoll set with it */
	m->fd = -1;
	m->connected = false;
	st->open_fds--;
}

/*
 * Sends the queued DHCP datagrams: one sendmmsg() per DHCP_BATCH, each to
 * the server and, with --helper, to the second server too (a relay with
 * two helper addresses: the client takes the first answer).
 */
static void flush_out(struct ib_storm *st)
{
	struct mmsghdr mh[2 * DHCP_BATCH];
	struct iovec iov[DHCP_BATCH];
	bool v4 = st->o.family == AF_INET;
	void *dst[2] = { v4 ? (void *)&st->o.server4 : (void *)&st->o.server6,
			 v4 ? (void *)&st->o.helper4 : (void *)&st->o.helper6 };
	socklen_t dlen = v4 ? sizeof(st->o.server4) : sizeof(st->o.server6);
	size_t i, n = 0, sent = 0, copies = st->o.has_helper ? 2 : 1;

	memset(mh, 0, sizeof(mh));
	for (i = 0; i < st->out_n; i++) {
		iov[i] = (struct iovec){ st->out[i].buf, st->out[i].len };
		for (size_t c = 0; c < copies; c++)
			mh[n++].msg_hdr = (struct msghdr){ .msg_name = dst[c], .msg_namelen = dlen,
							   .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	while (sent < n) {
		int r = sendmmsg(st->dhcp_fd, mh + sent, (unsigned)(n - sent), 0);
		if (r <= 0)
			break;	/* a lost datagram is retransmitted like a lost reply */
		sent += (size_t)r;
	}
	st->out_n = 0;
}

int ib_storm_queue(struct ib_storm *st, const void *p, size_t len)
{
	if (len > DHCP_DGRAM)
		return -EMSGSIZE;
	if (st->out_n == DHCP_BATCH)
		flush_out(st);
	memcpy(st->out[st->out_n].buf, p, len);
	st->out[st->out_n++].len = len;
	return 0;
}

/* One recvmmsg() batch into st->rbuf's slots: see storm.h. */
int ib_storm_recv(struct ib_storm *st, int fd, const struct ib_storm_rx *rx)
{
	if (rx->n > UINT_MAX || rx->n * rx->slot > RBUF_SIZE) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < rx->n; i++) {
		struct sockaddr_in6 *from = rx->from ? &rx->from[i] : NULL;

		rx->iov[i] = (struct iovec){ st->rbuf + i * rx->slot, rx->slot };
		rx->mh[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = from,
			.msg_namelen = from ? sizeof(*from) : 0, .msg_iov = &rx->iov[i],
			.msg_iovlen = 1 } };
	}
	return recvmmsg(fd, rx->mh, (unsigned)rx->n, MSG_DONTWAIT, NULL);
}

/* The relay socket is readable: every datagram queued, DHCP_BATCH at a time. */
static void dhcp_readable(struct ib_storm *st)
{
	struct mmsghdr mh[DHCP_BATCH];
	struct iovec iov[DHCP_BATCH];
	const struct ib_storm_rx rx = { mh, iov, NULL, DHCP_BATCH, DHCP_DGRAM };
	int n;

	do {
		n = ib_storm_recv(st, st->dhcp_fd, &rx);
		for (int i = 0; i < n; i++)
			family(st)->input(st, iov[i].iov_base, mh[i].msg_len);
	} while (n == DHCP_BATCH);
}

/* ---- stages ------------------------------------------------------------ */

static void dhcp_start(struct ib_storm *st, struct ib_storm_machine *m)
{
	/* the low bits name the machine; the others change per exchange */
	m->xid = (ib_storm_rand(st) & family(st)->xid_free) | m->idx;
	m->phase = 0;
	m->t_sent = st->now;
	family(st)->send(st, m);
}

void ib_storm_dhcp_restart(struct ib_storm *st, struct ib_storm_machine *m, const char *reason)
{
	if (++m->restarts > DHCP_TRIES) {
		ib_storm_stage_fail(st, m, reason);
		return;
	}
	ib_storm_retransmit(st, m);
	m->tries = 0;
	dhcp_start(st, m);
}

static void dhcp_timeout(struct ib_storm *st, struct ib_storm_machine *m)
{
	if (m->tries >= DHCP_TRIES) {
		ib_storm_stage_fail(st, m, family(st)->no_reply[m->phase ? 1 : 0]);
		return;
	}
	ib_storm_retransmit(st, m);
	family(st)->send(st, m);
}

/* What each stage does when it begins and when its timer fires. */
static const struct {
	void (*start)(struct ib_storm *st, struct ib_storm_machine *m);
	void (*timeout)(struct ib_storm *st, struct ib_storm_machine *m);
} stages[IB_STORM__STAGES] = {
	[IB_STORM_DHCP] = { dhcp_start, dhcp_timeout },
	[IB_STORM_TFTP] = { ib_storm_tftp_start, ib_storm_tftp_timeout },
	[IB_STORM_DHCP_IPXE] = { dhcp_start, dhcp_timeout },
	[IB_STORM_SCRIPT] = { ib_storm_http_start, ib_storm_http_timeout },
	[IB_STORM_KERNEL] = { ib_storm_http_start, ib_storm_http_timeout },
};

/* m enters its stage (one of the IB_STORM__STAGES). */
static void stage_start(struct ib_storm *st, struct ib_storm_machine *m)
{
	m->t_stage = st->now;
	m->tries = 0;
	m->restarts = 0;
	stages[m->stage].start(st, m);
}

/* m leaves the race: done or failed; its resources go. */
static void machine_end(struct ib_storm *st, struct ib_storm_machine *m,
			enum ib_storm_stage how)
{
	ib_storm_timer_cancel(m);
	ib_storm_close(st, m);
	free(m->bootfile);
	free(m->fetch);
	free(m->url);
	free(m->resp);
	free(m->script);
	free(m->req);
	m->bootfile = NULL;
	m->fetch = NULL;
	m->url = NULL;
	m->resp = NULL;
	m->script = NULL;
	m->req = NULL;
	m->stage = how;
	st->running--;
}

void ib_storm_note_ack(struct ib_storm *st, const struct ib_storm_machine *m)
{
	char a[INET6_ADDRSTRLEN], mac[IB_MAC_STRLEN];

	if (!st->acks)
		return;
	inet_ntop(st->o.family, m->addr, a, sizeof(a));
	ib_mac_format(m->mac, 6, mac, sizeof(mac));
	fprintf(st->acks, "%s %s\n", mac, a);
}

void ib_storm_stage_ok(struct ib_storm *st, struct ib_storm_machine *m)
{
	struct ib_storm_stage_stats *ss = &st->s.st[m->stage];
	char mac[IB_MAC_STRLEN];

	ss->ok++;
	(void)ib_storm_sample(&ss->lat, st->now - m->t_stage);
	if (st->o.verbose && st->now - m->t_stage >= SLOW_US) {
		ib_mac_format(m->mac, 6, mac, sizeof(mac));
		fprintf(stderr, "ironboot-storm: %s slow %s: %llu ms from monotonic %.3f s\n",
			mac, ib_storm_stage_names[m->stage],
			(unsigned long long)(st->now - m->t_stage) / 1000, m->t_stage / 1e6);
	}
	ib_storm_timer_cancel(m);
	if (m->stage == st->o.until) {
		uint64_t since = st->now - st->t0;
		if (!st->s.done)
			st->s.first_done_us = since;
		st->s.last_done_us = since;
		st->s.done++;
		(void)ib_storm_sample(&st->s.ttk, st->now - m->t_power);
		machine_end(st, m, IB_STORM_DONE);
		return;
	}
	m->stage++;
	stage_start(st, m);
}

void ib_storm_stage_fail(struct ib_storm *st, struct ib_storm_machine *m, const char *reason)
{
	struct ib_storm_stage_stats *ss = &st->s.st[m->stage];
	char mac[IB_MAC_STRLEN];

	ss->failed++;
	ib_storm_reason(ss, reason);
	if (st->o.verbose) {
		ib_mac_format(m->mac, 6, mac, sizeof(mac));
		fprintf(stderr, "ironboot-storm: %s failed %s: %s\n", mac,
			ib_storm_stage_names[m->stage], reason);
	}
	machine_end(st, m, IB_STORM_FAILED);
}

void ib_storm_retransmit(struct ib_storm *st, struct ib_storm_machine *m)
{
	st->s.st[m->stage].retransmits++;
}

static void timer_fired(struct ib_storm *st, struct ib_storm_machine *m)
{
	if (m->stage == IB_STORM_IDLE) {
		m->t_power = st->now;
		m->stage = IB_STORM_DHCP;
		stage_start(st, m);
	} else if (m->stage < IB_STORM__STAGES) {
		stages[m->stage].timeout(st, m);
	}
}

static void run_timers(struct ib_storm *st)
{
	while (st->heap_n && st->heap[0].due <= st->now) {
		struct ib_storm_timer t = heap_pop(st);
		struct ib_storm_machine *m = &st->m[t.idx];
		if (t.gen == m->timer_gen)
			timer_fired(st, m);
	}
}

static void machine_event(struct ib_storm *st, struct ib_storm_machine *m, uint32_t events)
{
	if (m->stage == IB_STORM_TFTP)
		ib_storm_tftp_readable(st, m);
	else if (m->stage == IB_STORM_SCRIPT || m->stage == IB_STORM_KERNEL)
		ib_storm_http_event(st, m, events);
}

/* Every machine still running at the deadline fails with "deadline". */
static void deadline(struct ib_storm *st)
{
	for (uint32_t i = 0; i < st->o.machines; i++) {
		struct ib_storm_machine *m = &st->m[i];
		if (m->stage < IB_STORM__STAGES)
			ib_storm_stage_fail(st, m, "deadline");
		else if (m->stage == IB_STORM_IDLE)
			machine_end(st, m, IB_STORM_FAILED);
	}
}

int ib_storm_run(struct ib_storm *st)
{
	struct epoll_event ev[EV_BATCH];
	uint64_t end = st->t0 + (uint64_t)(st->o.deadline_s * 1e6);

	while (st->running) {
		int n, wait_ms = -1;

		flush_out(st);
		st->now = clock_us();
		if (st->now >= end) {
			deadline(st);
			break;
		}
		wait_ms = (int)((end - st->now + 999) / 1000);
		if (st->heap_n) {
			uint64_t d = st->heap[0].due > st->now ? st->heap[0].due - st->now : 0;
			if ((d + 999) / 1000 < (uint64_t)wait_ms)
				wait_ms = (int)((d + 999) / 1000);
		}
		n = epoll_wait(st->ep, ev, EV_BATCH, wait_ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		st->now = clock_us();
		for (int i = 0; i < n; i++) {
			uint64_t kind = ev[i].data.u64 >> 32;
			uint32_t idx = (uint32_t)ev[i].data.u64;
			if (kind == KIND_DHCP)
				dhcp_readable(st);
			else if (idx < st->o.machines && st->m[idx].fd >= 0)
				machine_event(st, &st->m[idx], ev[i].events);
		}
		run_timers(st);
	}
	flush_out(st);
	return 0;
}

/* ---- set-up ------------------------------------------------------------ */

/* The relay socket: bound to our relay address and the DHCP server port. */
static int relay_socket(const struct ib_storm_opts *o)
{
	int one = 1, size = 8 << 20;
	const struct sockaddr *a = o->family == AF_INET ? (const void *)&o->relay4
							 : (const void *)&o->relay6;
	socklen_t alen = o->family == AF_INET ? sizeof(o->relay4) : sizeof(o->relay6);
	int fd = socket(o->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	/* a burst of replies must not be lost in our own buffer (issue #15:
	 * that was perfdhcp's limit) */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, a, alen) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* Power-on times: evenly spaced (--rate) or uniformly random (--within). */
static int schedule(struct ib_storm *st)
{
	for (uint32_t i = 0; i < st->o.machines; i++) {
		struct ib_storm_machine *m = &st->m[i];
		uint64_t at;

		m->idx = i;
		m->fd = -1;
		m->stage = IB_STORM_IDLE;
		memcpy(m->mac, st->o.mac_base, 6);
		m->mac[3] = (uint8_t)(m->mac[3] + (i >> 16));
		m->mac[4] = (uint8_t)(m->mac[4] + (i >> 8));
		m->mac[5] = (uint8_t)(m->mac[5] + i);
		if (st->o.rate > 0)
			at = (uint64_t)((double)i * 1e6 / st->o.rate);
		else
			at = (uint64_t)(st->o.within_s * 1e6 * ib_storm_rand(st) / 4294967296.0);
		if (ib_storm_timer(st, m, at) < 0)
			return -ENOMEM;
	}
	return 0;
}

int ib_storm_init(struct ib_storm *st, const struct ib_storm_opts *o)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = KIND_DHCP << 32 };
	struct rlimit rl;
	int r;

	memset(st, 0, sizeof(*st));
	st->o = *o;
	st->ep = st->dhcp_fd = -1;
	st->rng = o->seed ? o->seed : 0x9e3779b97f4a7c15ull;
	/* a TFTP or HTTP socket per machine in flight */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	st->m = calloc(o->machines, sizeof(*st->m));
	st->out = malloc(DHCP_BATCH * sizeof(*st->out));
	st->rbuf = malloc(RBUF_SIZE);
	st->scratch = malloc(SCRATCH_SIZE);
	if (!st->m || !st->out || !st->rbuf || !st->scratch)
		return -ENOMEM;
	st->ep = epoll_create1(EPOLL_CLOEXEC);
	if (st->ep < 0)
		return -errno;
	r = relay_socket(o);
	if (r < 0)
		return r;
	st->dhcp_fd = r;
	if (epoll_ctl(st->ep, EPOLL_CTL_ADD, st->dhcp_fd, &ev) < 0)
		return -errno;
	st->now = st->t0 = clock_us();
	st->running = o->machines;
	return schedule(st);
}

void ib_storm_done(struct ib_storm *st)
{
	if (st->m) {
		for (uint32_t i = 0; i < st->o.machines; i++)
			if (st->m[i].stage < IB_STORM_DONE)
				machine_end(st, &st->m[i], IB_STORM_FAILED);
	}
	for (size_t i = 0; i < IB_STORM__STAGES; i++)
		free(st->s.st[i].lat.v);
	free(st->s.ttk.v);
	free(st->m);
	free(st->out);
	free(st->rbuf);
	free(st->scratch);
	free(st->heap);
	if (st->dhcp_fd >= 0)
		close(st->dhcp_fd);
	if (st->ep >= 0)
		close(st->ep);
}
