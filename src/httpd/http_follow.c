/*
 * The live follow of the journal: GET /api/v1/events?follow=1[&mac=M][&proto=P]
 * answers with server-sent events (text/event-stream; WHATWG HTML,
 * "Server-sent events"), one per journal event as it is stored: "id:" the
 * event's id, "data:" its JSON (the listing's shape plus "stage" and
 * "since_prev_stage_ms", as `ironboot --json events --follow` prints).
 *
 * Events are pushed from the journal's flush (ib_journal_set_listener),
 * never read back from the store in a loop.  The store is read once, at
 * the start of a follow that sends Last-Event-ID: the events after that
 * id, so a client that reconnects misses nothing the journal kept; at
 * most FOLLOW_RESUME_MAX, the newest, and when more are missing a "gap"
 * event first says so (docs/METRICS.md).
 *
 * Bounded for a hostile network: at most http.max_followers streams at
 * once, http.max_followers_per_client of them from one address (then 503
 * with Retry-After).  A follower that read nothing since
 * the last check (the journal's previous batch of events, or heartbeat)
 * while more than FOLLOW_BACKLOG_MAX bytes wait for it is dropped as
 * stuck; one that reads, however slowly, may have up to FOLLOW_BUF_MAX
 * queued and is dropped past it: a slow or stuck reader costs that much
 * memory, never more.  So is one whose
 * writes wait FOLLOW_WRITE_TIMEOUT_S; what a follower sends after its
 * request is not buffered (quiet_reads); a comment every
 * FOLLOW_HEARTBEAT_S keeps proxies from closing an idle stream.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "common/log.h"
#include "journal/timeline.h"
#include "journal/timeline_json.h"
#include "httpd/http_server_int.h"

#define FOLLOW_BACKLOG_MAX (64 * 1024) /* bytes still queued when the next
					 * batch of events comes: slow reader */
#define FOLLOW_BUF_MAX (1024 * 1024)	/* bytes queued to one follower, ever */
#define FOLLOW_HEARTBEAT_S 10		/* a comment this often */
#define FOLLOW_WRITE_TIMEOUT_S 60	/* a write waiting this long ends the stream */
#define FOLLOW_RESUME_MAX 40		/* events replayed after Last-Event-ID */
#define FOLLOW_EVENT_MAX 2048		/* bytes of one event's message, at most */
#define FOLLOW_RETRY_MS 3000		/* the client's reconnection delay */
#define FOLLOW_RETRY_AFTER "5"		/* seconds, with 503 at the cap */

/* One open stream. */
struct ib_httpd_follower {
	struct ib_http_server *srv;	/* its server */
	struct evhttp_request *req;	/* the request being answered */
	struct evhttp_connection *evcon; /* its connection */
	char mac[IB_HTTP_MAC_STRLEN];	/* only this machine's events, or "" */
	char proto[sizeof(((struct ib_event *)0)->proto)]; /* only this protocol's, or "" */
	char peer[64];			/* the client's address, for the log */
	char host[64];			/* its address alone: the per-client cap */
	int64_t last_id;		/* the newest event id sent */
	uint64_t queued;		/* bytes queued to it, ever */
	uint64_t sent_at_check;		/* of those, written out at the last check */
	struct ib_timeline tl;		/* the stages of the events sent */
	struct ib_httpd_follower *prev, *next;	/* srv->follow.list */
};

static void unlink_follower(struct ib_httpd_follow *fw, struct ib_httpd_follower *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		fw->list = f->next;
	if (f->next)
		f->next->prev = f->prev;
	fw->n--;
}

/* Ends f and its connection now, without a word (the reply is cut). */
static void drop(struct ib_httpd_follower *f, const char *why)
{
	struct ib_httpd_follow *fw = &f->srv->follow;

	if (why) {
		fw->dropped++;
		ib_warn("http: event follower %s dropped: %s", f->peer, why);
	}
	unlink_follower(fw, f);
	evhttp_connection_set_closecb(f->evcon, NULL, NULL);
	/* frees the request too: it is still the connection's */
	evhttp_connection_free(f->evcon);
	free(f);
}

/*
 * The connection went away (the peer closed it, a write failed or timed
 * out).  evhttp has detached the unfinished request from it: ending the
 * reply frees it.
 */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
	struct ib_httpd_follower *f = arg;

	unlink_follower(&f->srv->follow, f);
	if (!evhttp_request_get_connection(f->req))
		evhttp_send_reply_end(f->req);
	free(f);
}

/*
 * evhttp reads while it writes, to notice a close: a follower that goes
 * away frees its slot at once.  But a follower has nothing more to say,
 * and what it sends anyway (requests pipelined after the follow) is
 * discarded, never answered, and cannot pile up: reading pauses after one
 * byte (the high watermark) until the next chunk discards it.  An idle
 * follower is no read timeout; a write that waits FOLLOW_WRITE_TIMEOUT_S
 * is (the reader is stuck).  Set after each chunk, since evhttp sets up
 * the connection's callbacks per write.
 */
static void quiet_reads(struct bufferevent *bev)
{
	struct timeval wr = { FOLLOW_WRITE_TIMEOUT_S, 0 };
	struct evbuffer *in = bufferevent_get_input(bev);

	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_setwatermark(bev, EV_READ, 0, 1);
	bufferevent_set_timeouts(bev, NULL, &wr);
}

/* Queues len bytes of s to f, or drops f when that would put more than
 * FOLLOW_BUF_MAX bytes in its queue: 0, or -ENOBUFS (f is gone). */
static int queue(struct ib_httpd_follower *f, const char *s, size_t len)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(f->evcon);
	struct evbuffer *b = f->srv->follow.buf;
	size_t queued = evbuffer_get_length(bufferevent_get_output(bev));
	char why[96];

	if (queued + len > FOLLOW_BUF_MAX) {
		snprintf(why, sizeof(why), "%zu bytes unread (a slow or stuck reader)", queued);
		drop(f, why);	/* never inside its own request: see replay_one */
		return -ENOBUFS;
	}
	evbuffer_add(b, s, len);
	evhttp_send_reply_chunk(f->req, b);
	/* counted as queued: the chunk with its framing */
	f->queued += evbuffer_get_length(bufferevent_get_output(bev)) - queued;
	evbuffer_drain(b, evbuffer_get_length(b));
	quiet_reads(bev);
	return 0;
}

static int queue_str(struct ib_httpd_follower *f, const char *s)
{
	return queue(f, s, strlen(s));
}

/* Sends e to f as one server-sent event: 0, or -errno (f may be gone). */
static int send_event(struct ib_httpd_follower *f, const struct ib_event *e)
{
	char head[40], *s;
	json_t *o;
	int r;

	if (!(o = ib_timeline_event_json(&f->tl, e)))
		return -ENOMEM;
	/* compact JSON escapes every control byte: one line, no "\n" in it */
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return -ENOMEM;
	snprintf(head, sizeof(head), "id: %" PRId64 "\ndata: ", e->id);
	f->last_id = e->id;
	r = queue(f, head, strlen(head));
	if (r == 0 && (r = queue(f, s, strlen(s))) == 0)
		r = queue(f, "\n\n", 2);
	free(s);
	return r;
}

/*
 * Drops the followers that read nothing since the last check (a batch's
 * start or a heartbeat) while more than FOLLOW_BACKLOG_MAX bytes wait:
 * stuck.  One that reads, however slowly, stays until FOLLOW_BUF_MAX.
 */
static void drop_slow(struct ib_httpd_follow *fw)
{
	struct ib_httpd_follower *f, *next;
	uint64_t sent;
	char why[96];
	size_t q;

	for (f = fw->list; f; f = next) {
		next = f->next;
		q = evbuffer_get_length(bufferevent_get_output(
			evhttp_connection_get_bufferevent(f->evcon)));
		sent = f->queued - q;
		if (q > FOLLOW_BACKLOG_MAX && sent == f->sent_at_check) {
			snprintf(why, sizeof(why), "%zu bytes unread (a slow or stuck reader)", q);
			drop(f, why);
			continue;
		}
		f->sent_at_check = sent;
	}
}

/* Whether f follows e (its filters). */
static bool follows(const struct ib_httpd_follower *f, const struct ib_event *e)
{
	return (!f->mac[0] || strcmp(f->mac, e->mac) == 0) &&
	       (!f->proto[0] || strcmp(f->proto, e->proto) == 0);
}

/* The journal's listener: each stored event to the followers it is for;
 * e NULL ends a batch. */
static void on_event(void *ctx, const struct ib_event *e)
{
	struct ib_httpd_follow *fw = ctx;
	struct ib_httpd_follower *f, *next;

	if (!e) {
		fw->in_batch = false;
		return;
	}
	if (!fw->in_batch) {
		fw->in_batch = true;
		drop_slow(fw);
	}
	for (f = fw->list; f; f = next) {
		next = f->next;		/* send_event may drop f */
		if (e->id <= f->last_id || !follows(f, e))
			continue;
		if (send_event(f, e) == -ENOMEM)
			drop(f, "out of memory");
	}
}

static void on_heartbeat(evutil_socket_t fd, short what, void *arg)
{
	struct ib_httpd_follow *fw = arg;
	struct ib_httpd_follower *f, *next;

	drop_slow(fw);
	for (f = fw->list; f; f = next) {
		next = f->next;
		queue_str(f, ":\n\n");
	}
}

int ib_httpd_follow_open(struct ib_http_server *srv)
{
	struct ib_httpd_follow *fw = &srv->follow;
	struct timeval tv = { FOLLOW_HEARTBEAT_S, 0 };

	fw->buf = evbuffer_new();
	fw->heartbeat = event_new(srv->base, -1, EV_PERSIST, on_heartbeat, fw);
	if (!fw->buf || !fw->heartbeat || event_add(fw->heartbeat, &tv) < 0)
		return -ENOMEM;
	ib_journal_set_listener(srv->journal, on_event, fw);
	return 0;
}

void ib_httpd_follow_close(struct ib_http_server *srv)
{
	struct ib_httpd_follow *fw = &srv->follow;

	if (srv->journal)
		ib_journal_set_listener(srv->journal, NULL, NULL);
	while (fw->list)
		drop(fw->list, NULL);
	if (fw->heartbeat)
		event_free(fw->heartbeat);
	if (fw->buf)
		evbuffer_free(fw->buf);
	fw->heartbeat = NULL;
	fw->buf = NULL;
}

/* Sends one stored event while its queue has room for the largest;
 * else stops the replay (1): dropping f here, inside its own request's
 * callback, would free the connection under evhttp's feet. */
static int replay_one(const struct ib_event *e, void *ctx)
{
	struct ib_httpd_follower *f = ctx;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(f->evcon);

	if (evbuffer_get_length(bufferevent_get_output(bev)) + FOLLOW_EVENT_MAX > FOLLOW_BACKLOG_MAX) {
		queue_str(f, ": replay cut short: read GET /api/v1/events\n\n");
		return 1;
	}
	return send_event(f, e) < 0 ? 1 : 0;
}

/* The oldest events after Last-Event-ID: how many (up to the bound
 * read), and the first one's id. */
struct missed {
	size_t n;
	int64_t first_id;
};

static int count_missed(const struct ib_event *e, void *ctx)
{
	struct missed *m = ctx;

	if (m->n++ == 0)
		m->first_id = e->id;
	return 0;
}

/* Tells f that the events from first_id on, before the replay's, are not
 * replayed: an SSE event of type "gap" (a journal event is a "message"). */
static void send_gap(struct ib_httpd_follower *f, int64_t after_id, int64_t first_id)
{
	char s[256];

	snprintf(s, sizeof(s), "event: gap\ndata: {\"after_id\":%" PRId64 ",\"first_skipped_id\":%"
		 PRId64 ",\"replayed\":%d}\n\n", after_id, first_id, FOLLOW_RESUME_MAX);
	queue_str(f, s);
}

/* replay()'s reads, inside its read transaction. */
static int replay_read(struct ib_httpd_follower *f, struct ib_event_filter *flt, int64_t after_id)
{
	struct missed m = { 0 };
	int r = ib_store_event_foreach(f->srv->store, flt, count_missed, &m);

	if (r < 0)
		return r;
	if (m.n > FOLLOW_RESUME_MAX)
		send_gap(f, after_id, m.first_id);
	flt->limit = FOLLOW_RESUME_MAX;
	flt->oldest = false;
	return ib_store_event_foreach(f->srv->store, flt, replay_one, f);
}

/*
 * Sends the newest FOLLOW_RESUME_MAX events the store holds after
 * Last-Event-ID, after a "gap" event when more are missing; the journal
 * was flushed by the caller.  The count and the rows are read in one
 * snapshot: an event another connection stores between the two reads (a
 * second daemon on the PostgreSQL store) would otherwise push one out of
 * the newest without a gap said for it.
 */
static void replay(struct ib_httpd_follower *f, int64_t after_id)
{
	struct ib_event_filter flt = { .mac = f->mac[0] ? f->mac : NULL,
				       .proto = f->proto[0] ? f->proto : NULL,
				       .after_id = after_id, .limit = FOLLOW_RESUME_MAX + 1,
				       .oldest = true };
	int r;

	f->last_id = after_id;
	r = ib_store_begin_read(f->srv->store);
	if (r == 0) {
		r = replay_read(f, &flt, after_id);
		ib_store_rollback(f->srv->store);	/* read only: nothing to keep */
	}
	if (r < 0)
		queue_str(f, ": cannot read the store: some events are not replayed\n\n");
}

/* The peer's address text into f->peer. */
static void peer_name(struct ib_httpd_follower *f)
{
	char *host = NULL;
	uint16_t port = 0;

	evhttp_connection_get_peer(f->evcon, &host, &port);
	snprintf(f->peer, sizeof(f->peer), "%s:%u", host ? host : "?", port);
	snprintf(f->host, sizeof(f->host), "%s", host ? host : "?");
}

/* How many open streams the address host holds (a walk of at most
 * http.max_followers). */
static size_t followers_of(const struct ib_httpd_follow *fw, const char *host)
{
	size_t n = 0;

	for (const struct ib_httpd_follower *f = fw->list; f; f = f->next)
		n += strcmp(f->host, host) == 0;
	return n;
}

/* Refuses a follow over a cap: 503, come back after FOLLOW_RETRY_AFTER s. */
static void refuse_busy(struct ib_http_req *rq, const char *why)
{
	ib_httpd_header(rq, "Retry-After", FOLLOW_RETRY_AFTER);
	ib_httpd_error(rq, 503, why);
}

/* Parses Last-Event-ID (absent: 0): 0, or -EINVAL. */
static int last_event_id(struct ib_http_req *rq, int64_t *ret)
{
	const char *h = ib_httpd_req_header(rq, "Last-Event-ID");
	char *end;
	long long v;

	*ret = 0;
	if (!h || !*h)
		return 0;
	errno = 0;
	v = strtoll(h, &end, 10);
	if (*end || v < 0 || errno)
		return -EINVAL;
	*ret = v;
	return 0;
}

void ib_httpd_follow_start(struct ib_http_req *rq, const char *mac, const char *proto)
{
	struct ib_httpd_follow *fw = &rq->srv->follow;
	struct ib_httpd_follower *f;
	int64_t after = 0;
	char hello[64];

	if (last_event_id(rq, &after) < 0) {
		ib_httpd_error(rq, 400, "Last-Event-ID must be an event id");
		return;
	}
	/* longer than any stored protocol's: the stream would stay silent */
	if (proto && strlen(proto) >= sizeof(((struct ib_event *)0)->proto)) {
		ib_httpd_error(rq, 400, "proto is not a journal protocol");
		return;
	}
	if (fw->n >= rq->srv->cfg->http.max_followers || !fw->buf) {
		refuse_busy(rq, "too many event followers (http.max_followers)");
		return;
	}
	if (!(f = calloc(1, sizeof(*f)))) {
		ib_httpd_error(rq, 500, "out of memory");
		return;
	}
	f->srv = rq->srv;
	f->req = rq->req;
	f->evcon = evhttp_request_get_connection(rq->req);
	peer_name(f);
	/* one host must not hold every slot */
	if (followers_of(fw, f->host) >= rq->srv->cfg->http.max_followers_per_client) {
		free(f);
		refuse_busy(rq, "too many event followers from this address "
			    "(http.max_followers_per_client)");
		return;
	}
	snprintf(f->mac, sizeof(f->mac), "%s", mac ? mac : "");
	snprintf(f->proto, sizeof(f->proto), "%s", proto ? proto : "");
	ib_timeline_init(&f->tl);
	/* what is still queued is stored now: the replay reads it, and the
	 * listener is not told of it twice (f is not listening yet); if the
	 * write lock is busy it stays queued and comes live once flushed */
	if (after > 0)
		ib_journal_flush_nowait(rq->srv->journal);
	ib_httpd_header(rq, "Content-Type", "text/event-stream; charset=utf-8");
	ib_httpd_header(rq, "Cache-Control", "no-store");
	ib_httpd_header(rq, "X-Accel-Buffering", "no");
	evhttp_send_reply_start(rq->req, 200, "OK");
	rq->deferred = true;
	rq->srv->replies[rq->route][200 - IB_HTTPD_STATUS_MIN]++;
	evhttp_connection_set_closecb(f->evcon, on_close, f);
	f->next = fw->list;
	if (fw->list)
		fw->list->prev = f;
	fw->list = f;
	fw->n++;
	snprintf(hello, sizeof(hello), "retry: %d\n: following\n\n", FOLLOW_RETRY_MS);
	queue_str(f, hello);
	if (after > 0)
		replay(f, after);
}
