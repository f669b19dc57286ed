/*
 * The DHCP engine (dhcp_engine.h): one receive loop, one group commit,
 * one outbox and one pair of timers for DHCPv4 and DHCPv6.
 *
 * A wake-up reads up to read_max datagrams; the family decides each and
 * answers at once what changes no binding (OFFER, ADVERTISE, NAK...).
 * Requests that change bindings wait in the batch: batch_max of them, or
 * commit_min, commit in one transaction (one fsync); a smaller batch
 * waits commit_delay_us for more to join.  Their replies are laid out
 * after COMMIT returned and leave with the burst's other replies through
 * one sendmmsg() per socket.
 */
#include "dhcp/dhcp_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "common/log.h"
#include "common/util.h"

#define MAX_FDS 4			/* sockets served */
#define WARN_EVERY 10			/* seconds between two warnings of one kind */
#define AVG_REPLY 1024			/* arena bytes per reply, on average */
#define HELD_MAX 4096			/* the peers' requests kept back, at most */
#define HELD_LEN 1500			/* bytes of one kept; longer ones are not */
#define HELD_US 1000000			/* taken over when a peer leaves: those of the second
					 * before the last listing that held it, and after */
#define HELD_AGE_US 4000000		/* but none older: a DHCPv4 client retransmits after
					 * 4 s (RFC 2131 4.1), DHCPv6 sooner, and the copy
					 * of that is kept too */

/* The engine's timers. */
enum timer {
	T_COMMIT,			/* one-shot: commit a small batch */
	T_RECLAIM,			/* persistent: expire due leases */
	T_JOURNAL,			/* persistent: flush the journal */
	T__MAX
};

/* A reply in the outbox. */
struct outmsg {
	struct ib_dhcp_dest d;		/* where it goes */
	struct iovec iov;		/* into the arena */
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cm;				/* IP_PKTINFO or IPV6_PKTINFO */
	uint8_t tag[IB_DHCP_TAG_MAX];	/* the family's, for ->not_sent() */
};

/* Replies of one burst, sent with one sendmmsg() per socket. */
struct outbox {
	int fd;				/* socket of the queued replies */
	size_t n;			/* queued */
	size_t used;			/* arena bytes taken */
	size_t arena_size;		/* out_max * AVG_REPLY + max_len */
	struct outmsg *m;		/* out_max */
	struct mmsghdr *hdr;		/* out_max, over m */
	uint8_t *arena;			/* the datagrams */
};

/* A request of a peer's client, kept back (load balancing) in case the
 * peer is gone before it answers. */
struct held {
	struct ib_dhcp_rx rx;		/* as read; rx.buf unused */
	int64_t at_us;			/* when */
	unsigned owner;			/* its client's daemon when it arrived: a member
					 * slot (owner_slot), 64 if none */
	uint8_t buf[HELD_LEN];		/* its bytes, rx.len of them */
};

/* A socket served. */
struct reader {
	struct event *ev;		/* its read event */
	int fd;				/* the socket */
	uint32_t dropped;		/* the kernel's drop count, as last read (SO_RXQ_OVFL) */
};

struct ib_dhcp_engine {
	struct ib_dhcp_engine_args a;	/* as given */
	const struct ib_dhcp_family *f;	/* a.family */
	struct reader readers[MAX_FDS];	/* one per socket served */
	size_t n_readers;
	struct event *timers[T__MAX];	/* by enum timer */
	uint8_t *slots;			/* batch_max * slot_size */
	size_t n_batch;			/* waiting for the commit */
	struct ib_dhcp_plan plan;	/* the batch's writes: batch_max * writes_max rows */
	struct ib_dhcp_committer *committer; /* NULL: batches commit on the loop's store */
	struct ib_dhcp_job job;		/* the batch handed to the committer */
	bool in_flight;			/* job runs: the slots and plan are its */
	int64_t batch_now;		/* the clock the in-flight batch was planned at */
	struct outbox out;		/* replies to send */
	struct ib_log_rate send_warn;	/* replies the kernel refused */
	struct ib_log_rate commit_warn;	/* batches the store refused */
	struct ib_log_rate journal_warn; /* journal flushes that failed */
	struct ib_log_rate drop_warn;	/* requests the kernel dropped */
	uint64_t drops_unlogged;	/* dropped since the last such warning */
	struct ib_store_members share;	/* the committer's members as last read; n 0: none */
	struct ib_store_members share_before; /* the listing before share */
	struct held *held;		/* HELD_MAX, a ring; NULL until the first */
	size_t held_first, held_n;	/* its oldest and count */
	size_t replay_left;		/* the oldest this many are being taken over */
	uint64_t gone;			/* the slots of the members whose clients'
					 * requests are being taken over */
	unsigned peer_owner;		/* the owner of the last peer's client
					 * ib_dhcp_engine_peers() saw */
};

/* ---- the outbox ---- */

/* Says (rate-limited) that the kernel refused a reply, and tells the family. */
static void not_sent(struct ib_dhcp_engine *e, const struct outmsg *m, int err)
{
	char to[INET6_ADDRSTRLEN] = "?";
	const void *a = m->d.to.sa.sa_family == AF_INET ? (const void *)&m->d.to.in.sin_addr
							 : (const void *)&m->d.to.in6.sin6_addr;

	if (ib_log_rate_due(&e->send_warn, *e->a.now, WARN_EVERY)) {
		inet_ntop(m->d.to.sa.sa_family, a, to, sizeof(to));
		ib_warn("%s: reply to %s not sent: %s (%" PRIu64 " more since the last such "
			"warning)", e->f->name, to, strerror(-err), e->send_warn.held);
		ib_log_rate_logged(&e->send_warn, *e->a.now);
	}
	e->f->not_sent(e->a.ctx, m->tag, &m->d, err);
}

/*
 * Says (rate-limited, or now when forced) that the kernel dropped requests
 * before we read them: the daemon fell behind what arrives; those clients
 * retransmit.
 */
static void log_drops(struct ib_dhcp_engine *e, bool force)
{
	if (!e->drops_unlogged || !(force || ib_log_rate_due(&e->drop_warn, *e->a.now, WARN_EVERY)))
		return;
	ib_warn("%s: %" PRIu64 " requests dropped by the kernel before they were read "
		"(the receive buffer was full: more arrived than the daemon serves); "
		"their clients retransmit", e->f->name, e->drops_unlogged);
	e->drops_unlogged = 0;
	ib_log_rate_logged(&e->drop_warn, *e->a.now);
}

/* The warnings held back whose period is over (or all): logged now. */
static void log_held(struct ib_dhcp_engine *e, bool force)
{
	if (e->send_warn.held && (force || *e->a.now - e->send_warn.last >= WARN_EVERY)) {
		ib_warn("%s: %" PRIu64 " more replies not sent since the last such warning",
			e->f->name, e->send_warn.held);
		ib_log_rate_logged(&e->send_warn, *e->a.now);
	}
	if (force || *e->a.now - e->drop_warn.last >= WARN_EVERY)
		log_drops(e, true);
}

/* Sends the queued replies; one that fails goes to ->not_sent(), skipped. */
static void outbox_flush(struct ib_dhcp_engine *e)
{
	struct outbox *ob = &e->out;
	size_t done = 0;

	while (done < ob->n) {
		int r = sendmmsg(ob->fd, ob->hdr + done, (unsigned)(ob->n - done), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			not_sent(e, &ob->m[done], r < 0 ? -errno : -EIO);
			done++;
			continue;
		}
		done += (size_t)r;
	}
	ob->n = 0;
	ob->used = 0;
}

/* Room for the next reply: see dhcp_engine.h. */
uint8_t *ib_dhcp_out_room(struct ib_dhcp_engine *e, int fd, size_t *ret_cap)
{
	struct outbox *ob = &e->out;

	if (ob->n == e->f->out_max || ob->arena_size - ob->used < e->f->max_len ||
	    (ob->n && ob->fd != fd))
		outbox_flush(e);
	ob->fd = fd;
	*ret_cap = e->f->max_len;
	return ob->arena + ob->used;
}

/* The packet info of d: the interface it leaves by (and our IPv4 source). */
static void set_pktinfo(struct outmsg *m, struct msghdr *mh)
{
	struct cmsghdr *c;

	mh->msg_control = m->cm.buf;
	mh->msg_controllen = sizeof(m->cm.buf);	/* for CMSG_FIRSTHDR(), cut below */
	c = CMSG_FIRSTHDR(mh);
	if (m->d.to.sa.sa_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_ifindex = m->d.ifindex,
					 .ipi_spec_dst.s_addr = htonl(m->d.src4) };

		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_ifindex = (unsigned)m->d.ifindex };

		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

/* Queues a built reply: see dhcp_engine.h. */
void ib_dhcp_out_push(struct ib_dhcp_engine *e, const struct ib_dhcp_dest *d, size_t len,
		      const void *tag, size_t tag_len)
{
	struct outbox *ob = &e->out;
	struct outmsg *m = &ob->m[ob->n];
	struct mmsghdr *h = &ob->hdr[ob->n];

	m->d = *d;
	m->iov = (struct iovec){ ob->arena + ob->used, len };
	memcpy(m->tag, tag, IB_MIN(tag_len, sizeof(m->tag)));
	memset(&m->cm, 0, sizeof(m->cm));
	memset(h, 0, sizeof(*h));
	h->msg_hdr = (struct msghdr){
		.msg_name = &m->d.to,
		.msg_namelen = d->to.sa.sa_family == AF_INET ? sizeof(d->to.in) : sizeof(d->to.in6),
		.msg_iov = &m->iov, .msg_iovlen = 1,
	};
	set_pktinfo(m, &h->msg_hdr);
	ob->used += len;
	ob->n++;
}

static int outbox_init(struct outbox *ob, const struct ib_dhcp_family *f)
{
	ob->fd = -1;
	ob->arena_size = f->out_max * AVG_REPLY + f->max_len;
	ob->m = calloc(f->out_max, sizeof(*ob->m));
	ob->hdr = calloc(f->out_max, sizeof(*ob->hdr));
	ob->arena = malloc(ob->arena_size);
	return ob->m && ob->hdr && ob->arena ? 0 : -ENOMEM;
}

static void outbox_done(struct outbox *ob)
{
	free(ob->m);
	free(ob->hdr);
	free(ob->arena);
}

/* ---- the group commit ---- */

static void *slot_at(const struct ib_dhcp_engine *e, size_t i)
{
	return e->slots + i * e->f->slot_size;
}

/* Each slot's writes, planned by the family on the loop. */
static void plan_batch(struct ib_dhcp_engine *e)
{
	e->plan.n = 0;
	for (size_t i = 0; i < e->n_batch; i++) {
		e->plan.slot = (uint32_t)i;
		e->f->plan(e->a.ctx, slot_at(e, i), &e->plan);
	}
}

/* The plan ran: each write's verdict to its slot's family, in order. */
static void give_verdicts(struct ib_dhcp_engine *e)
{
	for (size_t i = 0; i < e->plan.n; i++) {
		const struct ib_dhcp_write *w = &e->plan.w[i];

		e->f->verdict(e->a.ctx, slot_at(e, w->slot), w);
	}
}

/* Stops (pause) or starts again reading the DHCP sockets: while a batch
 * is in flight it must not grow; the kernel's buffers hold the requests. */
static void reading(struct ib_dhcp_engine *e, bool on)
{
	for (size_t i = 0; i < e->n_readers; i++)
		if (on)
			event_add(e->readers[i].ev, NULL);
		else
			event_del(e->readers[i].ev);
}

/*
 * The batch ran (r its outcome): ->committed() lays out the replies only
 * once it is durable, and they leave after it.
 */
static void batch_over(struct ib_dhcp_engine *e, int r)
{
	bool ok = r == 0;

	/* a store that is down fails every batch: said once a period */
	if (!ok && ib_log_rate_due(&e->commit_warn, *e->a.now, WARN_EVERY)) {
		ib_err("%s: store commit failed (%s); %zu requests not stored, "
		       "clients will retry (%" PRIu64 " more failed batches since the "
		       "last such error)", e->f->name, strerror(-r), e->n_batch,
		       e->commit_warn.held);
		ib_log_rate_logged(&e->commit_warn, *e->a.now);
	}
	/* the events flushed in the transaction are told to followers only
	 * once durable */
	if (e->a.journal)
		ib_journal_settle(e->a.journal, ok);
	for (size_t i = 0; i < e->n_batch; i++)
		e->f->committed(e->a.ctx, slot_at(e, i), ok);
	e->n_batch = 0;
	e->f->batch_done(e->a.ctx, r);
}

/* The committer ran the batch (on the loop): verdicts, journal, replies. */
static void on_batch_done(void *ctx, struct ib_dhcp_job *job)
{
	struct ib_dhcp_engine *e = ctx;

	e->in_flight = false;
	/* the rows were written with the clock of their decisions: the
	 * verdicts, the cache and the journal follow that clock, not the
	 * time the commit took */
	*e->a.now = e->batch_now;
	if (job->commit_us >= 0)	/* a COMMIT ran: the store's histogram */
		ib_store_count_commit(e->a.store, job->commit_us, job->err == 0);
	if (job->err == 0) {
		give_verdicts(e);
		/* the exchanges are journalled after the verdicts; their
		 * events leave with the journal's timer (not in the batch's
		 * transaction, which is over) */
		if (e->f->seal)
			e->f->seal(e->a.ctx, e->slots, e->n_batch);
	}
	batch_over(e, job->err);
	*e->a.now = ib_now_sec();
	reading(e, true);
	outbox_flush(e);
}

/*
 * One transaction for the batch's binding changes: on the committer's
 * thread when there is one (the loop goes on; ->committed() comes from
 * on_batch_done()), else on the loop's store, here.
 */
static void commit_batch(struct ib_dhcp_engine *e)
{
	struct ib_store *st = e->a.store;
	int r;

	if (e->n_batch == 0 || e->in_flight)
		return;
	plan_batch(e);
	if (e->committer) {
		e->job = (struct ib_dhcp_job){ .w = e->plan.w, .n = e->plan.n,
					       .done = on_batch_done, .ctx = e };
		e->in_flight = true;
		e->batch_now = *e->a.now;
		reading(e, false);
		ib_dhcp_committer_submit(e->committer, &e->job);
		return;
	}
	r = ib_store_begin(st);
	if (r == 0)
		r = ib_dhcp_plan_run(st, e->plan.w, e->plan.n);
	if (r == 0)
		give_verdicts(e);
	if (r == 0 && e->f->seal)
		e->f->seal(e->a.ctx, e->slots, e->n_batch);
	/* the batch's journal events join its transaction, before COMMIT */
	if (r == 0 && e->f->journal_in_commit)
		r = ib_journal_flush(e->a.journal, true);
	if (r == 0)
		r = ib_store_commit(st);
	if (r < 0)
		ib_store_rollback(st);
	batch_over(e, r);
}

/* Waits for the batch in flight, if any (its replies queued). */
static void wait_batch(struct ib_dhcp_engine *e)
{
	if (e->in_flight)
		ib_dhcp_committer_wait(e->committer, &e->job);
}

/* Commits the waiting batch and sends every queued reply: see dhcp_engine.h. */
void ib_dhcp_engine_flush(struct ib_dhcp_engine *e)
{
	wait_batch(e);
	commit_batch(e);
	wait_batch(e);
	outbox_flush(e);
}

/* Runs the batches on c's thread from now on: see dhcp_engine.h. */
void ib_dhcp_engine_commit_on(struct ib_dhcp_engine *e, struct ib_dhcp_committer *c)
{
	ib_dhcp_engine_flush(e);
	e->committer = c;
}

/* The link of the store the batches are written to: see dhcp_engine.h. */
void ib_dhcp_engine_link(struct ib_dhcp_engine *e, struct ib_store_link *ret)
{
	if (e->committer)
		ib_dhcp_committer_link(e->committer, ret);
	else
		ib_store_link_check(e->a.store, ret);
}

/*
 * fn(ctx, store) in one transaction: committed on 0, else rolled back.
 * nowait: a transaction that waits on no lock another connection holds
 * (store.h: ib_store_begin_nowait), -EAGAIN rather than hold the loop
 * while the committer's batch waits behind one.
 */
static int in_txn(struct ib_dhcp_engine *e, bool nowait,
		  int (*fn)(void *ctx, struct ib_store *s), void *ctx)
{
	int r = nowait ? ib_store_begin_nowait(e->a.store) : ib_store_begin(e->a.store);

	if (r == 0)
		r = fn(ctx, e->a.store);
	if (r == 0)
		r = ib_store_commit(e->a.store);
	if (r < 0)
		ib_store_rollback(e->a.store);
	return r;
}

int ib_dhcp_engine_operate(struct ib_dhcp_engine *e,
			   int (*fn)(void *ctx, struct ib_store *s), void *ctx)
{
	ib_dhcp_engine_flush(e);	/* decisions already made commit first */
	*e->a.now = ib_now_sec();
	return in_txn(e, false, fn, ctx);
}

/* A small batch waited long enough: it commits (on the committer's
 * thread without waiting for it: its replies leave from on_batch_done()). */
static void on_commit_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ib_dhcp_engine *e = arg;

	commit_batch(e);
	outbox_flush(e);
}

/* ---- receiving ---- */

static void on_journal(evutil_socket_t fd, short what, void *arg);

static bool batch_full(const struct ib_dhcp_engine *e)
{
	return e->n_batch == e->f->batch_max || (e->f->room && !e->f->room(e->a.ctx));
}

/* The kernel's drop count of r's socket, read with a datagram: counted. */
static void note_dropped(struct ib_dhcp_engine *e, struct reader *r, uint32_t dropped)
{
	uint32_t n = dropped - r->dropped;	/* modulo 2^32, as the kernel counts */

	if (!n)
		return;
	r->dropped = dropped;
	if (e->a.rx_overflow)
		*e->a.rx_overflow += n;
	e->drops_unlogged += n;
	log_drops(e, false);
}

/*
 * Reads one datagram of r's socket into the family's buffer, with its
 * source and the arrival interface and address (IP_PKTINFO or
 * IPV6_PKTINFO, which the family's socket asked for), and notes the
 * socket's drop count (SO_RXQ_OVFL).  A datagram longer than the buffer
 * counts cap + 1 bytes: the codecs refuse it as oversize, never parse a
 * truncated one.  0, -EAGAIN when the socket is drained, or -errno.
 */
static int receive_one(struct ib_dhcp_engine *e, struct reader *r, struct ib_dhcp_rx *rx)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) +
			 CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint32_t)) +
			 CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cm;
	size_t cap = 0;
	struct iovec iov = { e->f->rx_buf(e->a.ctx, &cap), 0 };
	struct msghdr mh = { .msg_name = &rx->from, .msg_namelen = sizeof(rx->from),
			     .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	ssize_t n;

	iov.iov_len = cap;
	n = recvmsg(r->fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	rx->buf = iov.iov_base;
	rx->len = mh.msg_flags & MSG_TRUNC ? cap + 1 : (size_t)n;
	rx->fd = r->fd;
	rx->ifindex = 0;
	rx->at_us = 0;
	rx->again = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			rx->at_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t dropped;

			memcpy(&dropped, CMSG_DATA(c), sizeof(dropped));
			note_dropped(e, r, dropped);
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			memcpy(&rx->pi.in, CMSG_DATA(c), sizeof(rx->pi.in));
			rx->ifindex = rx->pi.in.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			memcpy(&rx->pi.in6, CMSG_DATA(c), sizeof(rx->pi.in6));
			rx->ifindex = (int)rx->pi.in6.ipi6_ifindex;
		}
	}
	return 0;
}

/* Room in the batch for one more request: a full batch commits first;
 * false while a batch is in flight (the committer's). */
static bool room_for_one(struct ib_dhcp_engine *e)
{
	if (batch_full(e))
		commit_batch(e);
	return !e->in_flight;
}

/* ---- load balancing ---- */

/* FNV-1a: the same on every daemon (not seeded), so that all agree on
 * whose client a request is. */
static uint32_t client_hash(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Whether share m leaves the client of hash h to another daemon. */
static bool peers_in(const struct ib_store_members *m, uint32_t h)
{
	return m->n > 1 && h % m->n != m->rank;
}

/* The slot of the member that m gave the client of hash h, or 64. */
static unsigned owner_slot(const struct ib_store_members *m, uint32_t h)
{
	uint32_t i = h % m->n;

	for (unsigned k = 0; k < 64; k++)
		if (m->slots >> k & 1 && i-- == 0)
			return k;
	return 64;
}

/* Whose client: see dhcp_engine.h.  The owner of a peer's client, by
 * the share in force when it arrived, is kept for hold(), which the
 * family's IB_DHCP_RX_PEER leads to. */
bool ib_dhcp_engine_peers(struct ib_dhcp_engine *e, const struct ib_dhcp_rx *rx,
			  const void *key, size_t len)
{
	uint32_t h = client_hash(key, len);
	const struct ib_store_members *then = &e->share;

	if (!peers_in(&e->share, h))
		return false;
	if (rx->at_us && rx->at_us < e->share.since_us) {
		if (!peers_in(&e->share_before, h))
			return false;	/* ours when it arrived: a peer was gone then */
		then = &e->share_before;
	}
	e->peer_owner = owner_slot(then, h);
	return true;
}

/* The ring's oldest entry, taken out. */
static struct held *held_pop(struct ib_dhcp_engine *e)
{
	struct held *h = &e->held[e->held_first];

	e->held_first = (e->held_first + 1) % HELD_MAX;
	e->held_n--;
	if (e->replay_left)
		e->replay_left--;
	return h;
}

/* Keeps a copy of rx, a peer's client's request, in the ring (the
 * oldest goes when it is full). */
static void hold(struct ib_dhcp_engine *e, const struct ib_dhcp_rx *rx)
{
	struct held *h;

	if (rx->len > HELD_LEN || (!e->held && !(e->held = malloc(HELD_MAX * sizeof(*e->held)))))
		return;
	if (e->held_n == HELD_MAX)
		(void)held_pop(e);
	h = &e->held[(e->held_first + e->held_n++) % HELD_MAX];
	h->rx = *rx;
	h->rx.buf = NULL;
	h->at_us = rx->at_us ? rx->at_us : ib_now_us();
	h->owner = e->peer_owner;
	memcpy(h->buf, rx->buf, rx->len);
	if (e->a.share)
		e->a.share->held++;
}

/* What ->receive() said of rx (r): a slot of the batch, or kept back. */
static void take(struct ib_dhcp_engine *e, const struct ib_dhcp_rx *rx, int r)
{
	if (r == IB_DHCP_RX_PEER)
		hold(e, rx);
	else
		e->n_batch += (size_t)r;
}

/* Whether h was left to a member that is gone (e->gone). */
static bool owner_gone(const struct ib_dhcp_engine *e, const struct held *h)
{
	return h->owner < 64 && e->gone >> h->owner & 1;
}

/*
 * The members as the committer last listed them.  When one is gone, the
 * requests of its clients kept back since HELD_US before the last
 * listing that held it may have gone unanswered: they are taken over
 * (decided again, under the new share); those of the members still here
 * are theirs.
 */
static void refresh_share(struct ib_dhcp_engine *e)
{
	struct ib_store_members m = { .n = 0 };
	uint64_t gone;
	int64_t from;
	size_t n = 0;

	if (e->committer)
		ib_dhcp_committer_share(e->committer, &m);
	if (m.n == e->share.n && m.rank == e->share.rank && m.slots == e->share.slots)
		return;
	gone = e->share.n > 1 ? e->share.slots & ~m.slots : 0;
	e->share_before = e->share;
	e->share = m;
	if (e->a.share)
		e->a.share->daemons = m.n;
	if (e->f->share)
		e->f->share(e->a.ctx, m.rank, m.n);
	if (!gone)
		return;		/* a replay under way goes on as it was */
	/* what arrived within HELD_US before the last listing that saw it:
	 * it may have died just after that one, and a slow commit may have
	 * delayed the one that saw it gone */
	from = m.after_us - HELD_US;
	if (from < m.since_us - HELD_AGE_US)
		from = m.since_us - HELD_AGE_US;	/* a commit stalled for seconds */
	if (e->replay_left) {
		/* a member gone while the replay of another's runs: both are
		 * taken over, and the first's window is kept */
		e->gone |= gone;
	} else {
		e->gone = gone;
		while (e->held_n && e->held[e->held_first].at_us < from)
			(void)held_pop(e);
	}
	e->replay_left = e->held_n;
	for (size_t i = 0; i < e->held_n; i++)
		n += owner_gone(e, &e->held[(e->held_first + i) % HELD_MAX]);
	if (n)
		ib_notice("%s: load balancing: a peer left; taking over the %zu request(s) of "
			  "its clients kept back in the last %.1f s (of %zu)", e->f->name, n,
			  (double)(ib_now_us() - from) / 1e6, e->held_n);
}

/* Decides the requests of the gone members' clients being taken over,
 * until the batch is full and in flight (the next wake-up goes on). */
static void take_over(struct ib_dhcp_engine *e)
{
	while (e->replay_left) {
		struct ib_dhcp_rx rx;
		struct held *h;
		size_t cap = 0;
		int r;

		if (!room_for_one(e))
			return;
		h = held_pop(e);
		rx = h->rx;
		rx.again = true;
		if (!owner_gone(e, h))
			continue;	/* a member still here answered it */
		rx.buf = e->f->rx_buf(e->a.ctx, &cap);
		if (rx.len > cap)
			continue;
		memcpy(rx.buf, h->buf, rx.len);
		r = e->f->receive(e->a.ctx, &rx, slot_at(e, e->n_batch));
		if (r != IB_DHCP_RX_PEER && e->a.share)
			e->a.share->taken_over++;
		take(e, &rx, r);
	}
}

/*
 * After a wake-up's requests: a full enough batch commits now; a small
 * one waits up to commit_delay_us for more bindings to share its fsync.
 */
static void batch_tail(struct ib_dhcp_engine *e)
{
	if (e->n_batch >= e->f->commit_min) {
		commit_batch(e);
	} else if (e->n_batch && !evtimer_pending(e->timers[T_COMMIT], NULL)) {
		struct timeval tv = { 0, e->f->commit_delay_us };

		evtimer_add(e->timers[T_COMMIT], &tv);
	}
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ib_dhcp_engine *e = arg;
	struct reader *rd = e->readers;

	while (rd->fd != fd)		/* one of n_readers <= MAX_FDS */
		rd++;
	*e->a.now = ib_now_sec();
	refresh_share(e);
	take_over(e);
	for (size_t i = 0; i < e->f->read_max; i++) {
		struct ib_dhcp_rx rx;
		int r;

		if (!room_for_one(e))
			break;		/* the batch is the committer's: read no more */
		r = receive_one(e, rd, &rx);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			ib_warn("%s: recvmsg: %s", e->f->name, strerror(-r));
			break;
		}
		take(e, &rx, e->f->receive(e->a.ctx, &rx, slot_at(e, e->n_batch)));
	}
	batch_tail(e);
	outbox_flush(e);
	/* Under a storm the timer alone would let the journal queue overflow. */
	if (ib_journal_pending(e->a.journal) > IB_JOURNAL_QUEUE / 2)
		on_journal(-1, 0, e);
}

/*
 * Sizes fd's receive buffer for a storm: requests arriving while the loop
 * stalls (a group commit's fdatasync) wait there.  Beyond
 * net.core.rmem_max only with CAP_NET_ADMIN (SO_RCVBUFFORCE); without it
 * (the shipped unit runs as its own user) the kernel caps the size
 * silently, so a smaller buffer is logged with what to change.
 */
static void set_rcvbuf(const struct ib_dhcp_engine *e, int fd)
{
	int want = e->f->rcvbuf, got = 0;
	socklen_t len = sizeof(got);

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	/* the kernel reports (and grants) twice the size asked for */
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got / 2 < want)
		ib_warn("%s: receive buffer %d KiB, not the %d KiB asked for (no CAP_NET_ADMIN, "
			"and net.core.rmem_max is lower): a storm's requests may be dropped while "
			"a commit syncs; set net.core.rmem_max to %d", e->f->name, got / 2048,
			want / 1024, want);
}

/* Serves fd: see dhcp_engine.h. */
int ib_dhcp_engine_listen(struct ib_dhcp_engine *e, int fd)
{
	struct event *ev;
	int one = 1;

	if (e->n_readers == MAX_FDS)
		return -ENOSPC;
	if (e->f->rcvbuf)
		set_rcvbuf(e, fd);
	/* each datagram then carries the socket's drop count, and the
	 * moment it arrived (load balancing decides by that moment) */
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
		return -errno;
	/* without it (never seen) requests count as arriving when read */
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	ev = event_new(e->a.base, fd, EV_READ | EV_PERSIST, on_readable, e);
	if (!ev || event_add(ev, NULL) < 0) {
		if (ev)
			event_free(ev);
		return -ENOMEM;
	}
	e->readers[e->n_readers++] = (struct reader){ ev, fd, 0 };
	return 0;
}

/* ---- timers ---- */

static int reclaim_now(void *arg, struct ib_store *s)
{
	struct ib_dhcp_engine *e = arg;

	(void)s;
	return e->f->reclaim(e->a.ctx, *e->a.now);
}

static void on_reclaim(evutil_socket_t fd, short what, void *arg)
{
	struct ib_dhcp_engine *e = arg;
	int r;

	*e->a.now = ib_now_sec();
	log_held(e, false);
	if (e->f->tick)
		e->f->tick(e->a.ctx);
	r = in_txn(e, e->committer != NULL, reclaim_now, e);
	/* -EAGAIN: rows another connection locks (a batch of the committer,
	 * another daemon's); the next tick tries again */
	if (r < 0 && r != -EAGAIN && ib_log_rate_due(&e->commit_warn, *e->a.now, WARN_EVERY)) {
		ib_warn("%s: lease reclaim failed: %s; retrying later", e->f->name, strerror(-r));
		ib_log_rate_logged(&e->commit_warn, *e->a.now);
	}
}

static void on_journal(evutil_socket_t fd, short what, void *arg)
{
	struct ib_dhcp_engine *e = arg;
	int r;

	/* a peer that left is noticed here too when no request comes */
	if (e->committer && !e->in_flight) {
		*e->a.now = ib_now_sec();
		refresh_share(e);
		take_over(e);
		batch_tail(e);
		outbox_flush(e);
	}
	ib_journal_tick(e->a.journal, ib_now_us(), false);
	if (!ib_journal_pending(e->a.journal))
		return;
	r = ib_journal_flush(e->a.journal, false);
	if (r < 0 && ib_log_rate_due(&e->journal_warn, ib_now_sec(), WARN_EVERY)) {
		ib_warn("journal: flush failed: %s; events kept queued", strerror(-r));
		ib_log_rate_logged(&e->journal_warn, ib_now_sec());
	}
}

static struct event *add_timer(struct ib_dhcp_engine *e, event_callback_fn cb, long us)
{
	struct timeval tv = { us / 1000000, us % 1000000 };
	struct event *ev = event_new(e->a.base, -1, EV_PERSIST, cb, e);

	if (ev && event_add(ev, &tv) < 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

/* ---- life ---- */

/* Makes an engine: see dhcp_engine.h. */
int ib_dhcp_engine_new(const struct ib_dhcp_engine_args *a, struct ib_dhcp_engine **ret)
{
	struct ib_dhcp_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->a = *a;
	e->f = a->family;
	e->slots = calloc(e->f->batch_max, e->f->slot_size);
	e->plan.cap = e->f->batch_max * e->f->writes_max;
	e->plan.w = calloc(e->plan.cap, sizeof(*e->plan.w));
	e->timers[T_COMMIT] = evtimer_new(a->base, on_commit_timer, e);
	e->timers[T_RECLAIM] = add_timer(e, on_reclaim, e->f->reclaim_sec * 1000000);
	e->timers[T_JOURNAL] = add_timer(e, on_journal, e->f->journal_us);
	if (!e->slots || !e->plan.w || outbox_init(&e->out, e->f) < 0)
		goto err;
	for (size_t i = 0; i < T__MAX; i++)
		if (!e->timers[i])
			goto err;
	*ret = e;
	return 0;
err:
	ib_dhcp_engine_free(e);
	return -ENOMEM;
}

/* Frees e after its last commit and sends: see dhcp_engine.h. */
void ib_dhcp_engine_free(struct ib_dhcp_engine *e)
{
	if (!e)
		return;
	if (e->slots && e->plan.w && e->out.arena)
		ib_dhcp_engine_flush(e);	/* waits for a batch in flight */
	log_held(e, true);
	for (size_t i = 0; i < e->n_readers; i++)
		event_free(e->readers[i].ev);
	for (size_t i = 0; i < T__MAX; i++)
		if (e->timers[i])
			event_free(e->timers[i]);
	outbox_done(&e->out);
	free(e->held);
	free(e->plan.w);
	free(e->slots);
	free(e);
}
