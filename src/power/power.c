/*
 * The power module's shell: a queue, a pool of worker threads that run the
 * drivers' blocking calls under deadlines, and a pipe that wakes the
 * libevent loop to deliver results.  Only the loop thread touches the
 * event base and runs callbacks; workers touch only their job and the two
 * locked lists.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "power/power.h"
#include "power/power_int.h"
#include "power/power_secrets.h"

struct job {
	struct ib_bmc bmc;		/* the caller's BMC, copied */
	enum ib_power_op op;		/* what to do */
	ib_power_cb cb;			/* the caller's callback */
	void *arg;			/* its argument */
	uint64_t queued_ms;		/* when ib_power_op() ran */
	struct ib_power_result res;	/* filled by the worker */
	struct job *next;		/* in the queue or the done list */
};

struct ib_power {
	struct event_base *base;	/* the loop results are delivered on */
	struct event *wake;		/* read end of the pipe */
	int pipe[2];			/* workers -> loop */
	struct ib_power_secrets *secrets; /* owned, read-only after new */
	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t cond;		/* a job was queued, or stop */
	struct job *queue, **queue_tail; /* jobs not yet started, in order */
	struct job *done, **done_tail;	/* finished, not yet delivered */
	unsigned pending;		/* queued + running + undelivered */
	bool stop;			/* workers exit */
	unsigned nthreads;		/* threads started */
	pthread_t *threads;		/* nthreads */
};

uint64_t ib_power_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

unsigned ib_power_attempt_ms(const struct ib_power_call *c)
{
	uint64_t now = ib_power_now_ms();
	uint64_t left = c->deadline_ms > now ? c->deadline_ms - now : 0;
	unsigned t = c->bmc->timeout_ms;

	if (left == 0)
		return 0;
	return left < t ? (unsigned)left : t;
}

/* Runs one job on a worker: look up the credential, call the driver. */
static void run_job(struct ib_power *p, struct job *j)
{
	struct ib_power_call c = { .bmc = &j->bmc, .op = j->op };
	unsigned attempts_max = j->bmc.retries + 1;

	c.deadline_ms = ib_power_now_ms() + (j->bmc.deadline_ms ? j->bmc.deadline_ms :
					     (uint64_t)j->bmc.timeout_ms * attempts_max);
	if (ib_power_secrets_get(p->secrets, j->bmc.credential, &c.user, &c.password) < 0) {
		j->res.err = -ENOKEY;
		snprintf(j->res.msg, sizeof(j->res.msg),
			 "bmc %s: credential \"%s\" is not in the secrets file",
			 j->bmc.name, j->bmc.credential);
		return;
	}
	if (j->bmc.driver == IB_BMC_IPMI)
		ib_power_ipmi_run(&c, &j->res);
	else
		ib_power_redfish_run(&c, &j->res);
}

/* How much nicer than the loop a worker runs (Linux: per thread). */
#define WORKER_NICE 19

static void *worker(void *arg)
{
	struct ib_power *p = arg;

	/* A BMC call is I/O bound, but 32 of them at once (curl, RMCP+
	 * crypto) compete with the loop for the CPU; niced, they never hold
	 * up a DHCP answer.  Failure only costs that preference. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *j;
		bool was_empty;

		while (!p->stop && !p->queue)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		j = p->queue;
		p->queue = j->next;
		if (!p->queue)
			p->queue_tail = &p->queue;
		pthread_mutex_unlock(&p->lock);

		run_job(p, j);
		j->res.elapsed_ms = ib_power_now_ms() - j->queued_ms;

		pthread_mutex_lock(&p->lock);
		j->next = NULL;
		was_empty = !p->done;
		*p->done_tail = j;
		p->done_tail = &j->next;
		/* one byte per batch: the loop drains the whole list */
		if (was_empty && write(p->pipe[1], "", 1) < 0) {
			/* the pipe is non-blocking and holds a byte already */
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* On the loop: deliver every finished job. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct ib_power *p = arg;
	struct job *list, *next;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&p->lock);
	list = p->done;
	p->done = NULL;
	p->done_tail = &p->done;
	pthread_mutex_unlock(&p->lock);
	for (; list; list = next) {
		next = list->next;
		list->cb(&list->bmc, list->op, &list->res, list->arg);
		pthread_mutex_lock(&p->lock);
		p->pending--;
		pthread_mutex_unlock(&p->lock);
		free(list);
	}
}

int ib_power_new(struct event_base *base, struct ib_power_secrets *secrets,
		 unsigned workers, struct ib_power **ret)
{
	struct ib_power *p;
	int r;

	if (workers == 0)
		workers = 32;
	if (workers > IB_POWER_WORKERS_MAX)
		return -EINVAL;
	if ((r = ib_power_redfish_init()) < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->base = base;
	p->queue_tail = &p->queue;
	p->done_tail = &p->done;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto err_pipe;
	}
	p->wake = event_new(base, p->pipe[0], EV_READ | EV_PERSIST, on_wake, p);
	if (!p->wake || event_add(p->wake, NULL) < 0) {
		r = -ENOMEM;
		goto err_event;
	}
	p->threads = calloc(workers, sizeof(*p->threads));
	if (!p->threads) {
		r = -ENOMEM;
		goto err_event;
	}
	for (; p->nthreads < workers; p->nthreads++)
		if ((r = -pthread_create(&p->threads[p->nthreads], NULL, worker, p)) < 0)
			goto err_threads;
	p->secrets = secrets;
	*ret = p;
	return 0;
err_threads:
	p->secrets = NULL;
	ib_power_free(p);
	return r;
err_event:
	if (p->wake)
		event_free(p->wake);
	close(p->pipe[0]);
	close(p->pipe[1]);
err_pipe:
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return r;
}

int ib_power_op(struct ib_power *p, const struct ib_bmc *bmc, enum ib_power_op op,
		ib_power_cb cb, void *arg)
{
	struct job *j;

	if ((unsigned)op >= IB_POWER_OP_COUNT || !cb ||
	    (bmc->driver != IB_BMC_IPMI && bmc->driver != IB_BMC_REDFISH))
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->bmc = *bmc;
	if (j->bmc.timeout_ms == 0)
		j->bmc.timeout_ms = IB_POWER_TIMEOUT_MS_DEFAULT;
	if (j->bmc.cipher_suite == 0)
		j->bmc.cipher_suite = 3;
	j->op = op;
	j->cb = cb;
	j->arg = arg;
	j->queued_ms = ib_power_now_ms();
	pthread_mutex_lock(&p->lock);
	*p->queue_tail = j;
	p->queue_tail = &j->next;
	p->pending++;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

unsigned ib_power_pending(const struct ib_power *p)
{
	unsigned n;

	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
	n = p->pending;
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
	return n;
}

static void free_list(struct job *j)
{
	while (j) {
		struct job *next = j->next;

		free(j);
		j = next;
	}
}

void ib_power_free(struct ib_power *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	free_list(p->queue);
	free_list(p->done);
	event_free(p->wake);
	close(p->pipe[0]);
	close(p->pipe[1]);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	ib_power_secrets_free(p->secrets);
	free(p);
}
