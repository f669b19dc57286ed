/*
 * The DHCP group commit off the event loop (dhcp_committer.h): one
 * thread, a queue of batches in, a queue of batches done out, and an
 * eventfd that wakes the loop for the latter.  The mutex guards both
 * queues, the jobs' finished marks and the link snapshot; a job's rows
 * and outcome are written by the thread before it is queued out and read
 * by the loop after it took it from there (under the mutex both times).
 */
#include "dhcp/dhcp_committer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define LOOK_EVERY_SEC 1		/* an idle thread checks its link this often */

struct ib_dhcp_committer {
	struct ib_store *store;		/* the thread's connection; the loop never uses it */
	pthread_t thread;
	pthread_mutex_t mu;		/* guards everything below but efd, ev, in_flight */
	pthread_cond_t wake;		/* the thread's: a job queued, or stop (CLOCK_MONOTONIC) */
	pthread_cond_t finished;	/* the loop's wait: a job queued out */
	struct ib_dhcp_job *in, **in_tail;	/* queued for the thread */
	struct ib_dhcp_job *out, **out_tail;	/* done, for the loop */
	bool stop;			/* the thread ends once the queue is empty */
	struct ib_store_link link;	/* the thread's link, as it last saw it */
	bool sharing;			/* load balancing asked for */
	struct ib_store_members share;	/* the members as last listed; n 0: none */
	int efd;			/* eventfd: batches done */
	struct event *ev;		/* its read event on the loop */
};

/* BEGIN, the plan, COMMIT on the thread's connection; job's outcome set. */
static void run_job(struct ib_store *s, struct ib_dhcp_job *job)
{
	int r = ib_store_begin(s);

	job->commit_us = -1;
	if (r == 0)
		r = ib_dhcp_plan_run(s, job->w, job->n);
	if (r == 0) {
		int64_t t0 = ib_now_us();

		r = ib_store_commit(s);
		job->commit_us = ib_now_us() - t0;
	}
	if (r < 0)
		ib_store_rollback(s);
	job->err = r;
}

/* The thread's next job, waiting up to LOOK_EVERY_SEC; NULL: none (or stop). */
static struct ib_dhcp_job *next_job(struct ib_dhcp_committer *c)
{
	struct ib_dhcp_job *job;

	if (!c->in && !c->stop) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		if (c->sharing) {
			until.tv_nsec += IB_DHCP_SHARE_EVERY_MS * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
		} else {
			until.tv_sec += LOOK_EVERY_SEC;
		}
		pthread_cond_timedwait(&c->wake, &c->mu, &until);
	}
	job = c->in;
	if (job && !(c->in = job->next))
		c->in_tail = &c->in;
	return job;
}

/*
 * The members, listed when due (between two batches, outside a
 * transaction) into *share; said in the log when this daemon's share
 * changes.  A connection that is down shares nothing.
 */
static void list_members(struct ib_dhcp_committer *c, const struct ib_store_link *link,
			 int64_t *due_us, int64_t *last_us, struct ib_store_members *share)
{
	int64_t now = ib_now_us(), mono = ib_mono_us(), last = *last_us;
	struct ib_store_members m = { .n = 0 };
	int r = -ENOTCONN;

	if (mono < *due_us)
		return;
	*due_us = mono + IB_DHCP_SHARE_EVERY_MS * 1000L;
	*last_us = now;
	if (link->up && (r = ib_store_members(c->store, &m)) < 0)
		m = (struct ib_store_members){ .n = 0 };
	if (m.n == share->n && m.rank == share->rank && m.slots == share->slots)
		return;
	if (m.n)
		ib_notice("dhcp: load balancing: %u daemon(s) share the clients; this one "
			  "answers share %u of %u", m.n, m.rank + 1, m.n);
	else
		ib_warn("dhcp: load balancing: cannot list the daemons sharing the clients "
			"(%s): answering every client", strerror(-r));
	/* the change came between the last listing and this one (which a
	 * slow commit may have delayed): the engine decides the requests
	 * that arrived after this one began under it, and takes over from
	 * a peer gone what arrived shortly before the last one */
	m.since_us = now;
	m.after_us = last ? last : now;
	*share = m;
}

static void *thread_main(void *arg)
{
	struct ib_dhcp_committer *c = arg;
	const uint64_t one = 1;
	struct ib_store_members share = { .n = 0 };
	int64_t share_due = 0, share_last = 0;

	pthread_mutex_lock(&c->mu);
	while (c->in || !c->stop) {
		struct ib_dhcp_job *job = next_job(c);
		bool sharing = c->sharing;
		struct ib_store_link link;

		pthread_mutex_unlock(&c->mu);
		if (job)
			run_job(c->store, job);
		/* the link as this connection sees it; a due reconnect is
		 * made here, on the thread, never on the loop */
		ib_store_link_check(c->store, &link);
		if (sharing)
			list_members(c, &link, &share_due, &share_last, &share);
		pthread_mutex_lock(&c->mu);
		c->link = link;
		c->share = share;
		if (!job)
			continue;
		job->next = NULL;
		*c->out_tail = job;
		c->out_tail = &job->next;
		pthread_cond_broadcast(&c->finished);
		/* the loop reads it; a full counter (never: 2^64 - 2) only delays */
		(void)!write(c->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* On the loop: runs done() of every batch the thread finished, in order. */
static void deliver(struct ib_dhcp_committer *c)
{
	struct ib_dhcp_job *job;

	pthread_mutex_lock(&c->mu);
	job = c->out;
	c->out = NULL;
	c->out_tail = &c->out;
	pthread_mutex_unlock(&c->mu);
	while (job) {
		struct ib_dhcp_job *next = job->next;

		job->next = NULL;
		job->done(job->ctx, job);	/* may submit again: job is the caller's */
		job = next;
	}
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
	deliver(arg);
}

/* Starts the thread: see dhcp_committer.h. */
int ib_dhcp_committer_new(struct event_base *base, struct ib_store *store,
			  struct ib_dhcp_committer **ret)
{
	struct ib_dhcp_committer *c = calloc(1, sizeof(*c));
	int r;

	if (!c) {
		ib_store_free(store);
		return -ENOMEM;
	}
	c->store = store;
	c->in_tail = &c->in;
	c->out_tail = &c->out;
	pthread_mutex_init(&c->mu, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->wake, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_cond_init(&c->finished, NULL);
	c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->efd < 0) {
		r = -errno;
		goto err;
	}
	c->ev = event_new(base, c->efd, EV_READ | EV_PERSIST, on_done, c);
	if (!c->ev || event_add(c->ev, NULL) < 0) {
		r = -ENOMEM;
		goto err;
	}
	/* the link (its backend pid: our own notifications) from the start,
	 * before any job; the connection is fresh, nothing to reconnect */
	ib_store_link_check(store, &c->link);
	if ((r = -pthread_create(&c->thread, NULL, thread_main, c)) < 0)
		goto err;
	*ret = c;
	return 0;
err:
	if (c->ev)
		event_free(c->ev);
	if (c->efd >= 0)
		close(c->efd);
	pthread_cond_destroy(&c->finished);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->mu);
	ib_store_free(store);
	free(c);
	return r;
}

/* Stops and frees c: see dhcp_committer.h. */
void ib_dhcp_committer_free(struct ib_dhcp_committer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	deliver(c);
	event_free(c->ev);
	close(c->efd);
	pthread_cond_destroy(&c->finished);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->mu);
	ib_store_free(c->store);
	free(c);
}

/* Queues a batch: see dhcp_committer.h. */
void ib_dhcp_committer_submit(struct ib_dhcp_committer *c, struct ib_dhcp_job *job)
{
	job->next = NULL;
	job->err = 0;
	pthread_mutex_lock(&c->mu);
	*c->in_tail = job;
	c->in_tail = &job->next;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->mu);
}

/* Whether job waits in the out queue. */
static bool is_out(const struct ib_dhcp_committer *c, const struct ib_dhcp_job *job)
{
	for (const struct ib_dhcp_job *j = c->out; j; j = j->next)
		if (j == job)
			return true;
	return false;
}

/* Waits for a batch on the loop: see dhcp_committer.h. */
void ib_dhcp_committer_wait(struct ib_dhcp_committer *c, const struct ib_dhcp_job *job)
{
	pthread_mutex_lock(&c->mu);
	while (!is_out(c, job))
		pthread_cond_wait(&c->finished, &c->mu);
	pthread_mutex_unlock(&c->mu);
	deliver(c);
}

/* The thread's link: see dhcp_committer.h. */
void ib_dhcp_committer_link(struct ib_dhcp_committer *c, struct ib_store_link *ret)
{
	pthread_mutex_lock(&c->mu);
	*ret = c->link;
	pthread_mutex_unlock(&c->mu);
}

/* Load balancing from now on: see dhcp_committer.h. */
void ib_dhcp_committer_share_clients(struct ib_dhcp_committer *c)
{
	pthread_mutex_lock(&c->mu);
	c->sharing = true;
	pthread_cond_signal(&c->wake);	/* join now, not after the wait */
	pthread_mutex_unlock(&c->mu);
}

/* The members as last listed: see dhcp_committer.h. */
void ib_dhcp_committer_share(struct ib_dhcp_committer *c, struct ib_store_members *ret)
{
	pthread_mutex_lock(&c->mu);
	*ret = c->share;
	pthread_mutex_unlock(&c->mu);
}
