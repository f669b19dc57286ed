/*
 * The PostgreSQL store's listener (store_listen.h): a second connection in
 * the event loop that LISTENs to the triggers of store_pg_notify.c and
 * holds the leader's session advisory lock.
 *
 * Never blocking the loop: the connection is made with
 * PQconnectStartParams() and PQconnectPoll() driven by socket events,
 * then set non-blocking; queries go out with PQsendQuery() and their
 * results, like the notifications, are read with PQconsumeInput() when
 * the socket is readable.  The parameters are the store's own connection's
 * (PQconninfo(): the same server, user and password), named
 * "ironboot-listen-<pid>" in pg_stat_activity, with TCP keepalives
 * so that a peer that vanished is noticed, not waited for.
 */
#include "store/store_listen.h"
#include "store/store_pg_int.h"
#include "common/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#define CHANNEL "ironboot"
/* pg_try_advisory_lock key of the leader: "ibleader" */
#define LEADER_LOCK "7593751104381543794"
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 8000
#define LEADER_RETRY_MS 2000	/* a follower asks for the lock this often */
/* A connect still pending after this is abandoned (connect_timeout does
 * not apply to PQconnectPoll; see store_pg_conn.c). */
#define CONNECT_DEADLINE_MS 5000
#define PARAMS_MAX 48		/* connection keywords kept */

enum wstate {
	W_DOWN,			/* no connection; the timer reconnects */
	W_CONNECTING,		/* PQconnectPoll() in progress */
	W_UP,			/* connected (LISTEN sent) */
};

struct ib_store_listener {
	struct event_base *base;	/* the loop */
	struct ib_store *store;		/* watched; its connection's pid is "own" */
	struct ib_store_listen_hooks h;	/* the daemon's */
	PGconn *conn;			/* the listener's connection, or NULL */
	struct event *io;		/* its socket, or NULL */
	struct event *timer;		/* reconnect, leader retry, unsent query */
	enum wstate state;		/* see above */
	bool busy;			/* a query's results are still to come */
	bool unflushed;			/* a query is not all sent yet */
	bool was_up;			/* a connection was made before */
	int backoff_ms;			/* the next reconnect's delay */
	char *keys[PARAMS_MAX + 1];	/* connection keywords, NULL-ended */
	char *vals[PARAMS_MAX + 1];	/* and their values */
	struct ib_store_listen_state st; /* for /metrics */
};

static void on_io(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static void arm_timer(struct ib_store_listener *w, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(w->timer, &tv);
}

/* Points the socket event at the connection's socket for what. */
static int watch_socket(struct ib_store_listener *w, short what)
{
	if (w->io)
		event_free(w->io);
	w->io = event_new(w->base, PQsocket(w->conn), what, on_io, w);
	if (!w->io || event_add(w->io, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* Drops the connection (and the lock with it), then reconnects later. */
static void lose(struct ib_store_listener *w, const char *why)
{
	bool was_leader = w->st.leader;
	char msg[160];

	snprintf(msg, sizeof(msg), "%s", w->conn ? PQerrorMessage(w->conn) : "");
	msg[strcspn(msg, "\n")] = '\0';
	if (w->io)
		event_free(w->io);
	w->io = NULL;
	PQfinish(w->conn);
	w->conn = NULL;
	w->state = W_DOWN;
	w->busy = w->unflushed = false;
	w->st.connected = w->st.leader = false;
	ib_warn("store listener: %s%s%s; %sreconnecting in %d ms", why, msg[0] ? ": " : "", msg,
		was_leader ? "no longer the leader; " : "", w->backoff_ms);
	if (was_leader && w->h.leader)
		w->h.leader(w->h.ctx, false);
	arm_timer(w, w->backoff_ms);
	w->backoff_ms = w->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : w->backoff_ms * 2;
}

/* Sends a query whose results on_io() reads; false when it could not. */
static bool send_query(struct ib_store_listener *w, const char *sql)
{
	int f;

	if (!PQsendQuery(w->conn, sql))
		return false;
	w->busy = true;
	if ((f = PQflush(w->conn)) < 0)
		return false;
	w->unflushed = f == 1;	/* the timer sends the rest */
	return true;
}

static void ask_lock(struct ib_store_listener *w)
{
	if (!send_query(w, "SELECT pg_try_advisory_lock(" LEADER_LOCK ")"))
		lose(w, "cannot ask for the leader lock");
}

/* The connection is made: LISTEN, then ask for the lock. */
static void connected(struct ib_store_listener *w)
{
	w->state = W_UP;
	if (PQsetnonblocking(w->conn, 1) < 0 || watch_socket(w, EV_READ | EV_PERSIST) < 0 ||
	    !send_query(w, "LISTEN " CHANNEL "; SELECT pg_try_advisory_lock(" LEADER_LOCK ")")) {
		lose(w, "cannot LISTEN");
		return;
	}
	arm_timer(w, LEADER_RETRY_MS);
}

/* One result of the listener's queries: LISTEN's, or the lock's answer. */
static void take_result(struct ib_store_listener *w, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	if (st == PGRES_COMMAND_OK && !w->st.connected) {
		/* listening from here on: what was written before is read again */
		w->st.connected = true;
		w->backoff_ms = BACKOFF_MIN_MS;
		if (w->was_up)
			w->st.reconnects++;
		ib_notice("store listener: listening for other daemons' writes%s",
			  w->was_up ? " again; caches reloaded (notifications were missed)" : "");
		w->was_up = true;
		w->st.resyncs++;
		if (w->h.resync)
			w->h.resync(w->h.ctx);
	} else if (st == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 1) {
		bool got = PQgetvalue(res, 0, 0)[0] == 't';

		if (got && !w->st.leader) {
			w->st.leader = true;
			ib_notice("store listener: this daemon is the leader now (journal retention, "
				  "lease reclaim, power polling)");
			if (w->h.leader)
				w->h.leader(w->h.ctx, true);
		}
	} else if (st != PGRES_COMMAND_OK && !w->st.connected) {
		/* LISTEN failed (a hot standby, say): the rest of the query,
		 * the lock, was skipped; never lead without listening */
		lose(w, "cannot LISTEN");
	} else if (st != PGRES_COMMAND_OK) {
		ib_warn("store listener: query failed: %.160s", PQresultErrorMessage(res));
	}
}

/* Hands the notifications received to the daemon; its own are skipped
 * (its cache followed its own commit already), except while its store
 * connection is down: a COMMIT cut off by the loss may have landed, and
 * its cache did not follow an answer it never had. */
static void take_notifies(struct ib_store_listener *w)
{
	const struct store_pg *pg = to_pg(w->store);
	int own_pid = pg->conn && !pg->link.down ? PQbackendPID(pg->conn) : 0;
	int also = w->h.also_own ? w->h.also_own(w->h.ctx) : 0;
	PGnotify *n;

	while ((n = PQnotifies(w->conn))) {
		struct ib_store_change c;

		if (n->be_pid == own_pid || (also && n->be_pid == also))
			w->st.own++;
		else if (strcmp(n->relname, CHANNEL) == 0 && ib_store_change_parse(n->extra, &c) == 0) {
			w->st.changes++;
			w->h.change(w->h.ctx, &c);
		}
		PQfreemem(n);
	}
}

/* The connection's poll while it is made. */
static void connect_step(struct ib_store_listener *w)
{
	switch (PQconnectPoll(w->conn)) {
	case PGRES_POLLING_READING:
		if (watch_socket(w, EV_READ) < 0)
			lose(w, "out of memory");
		return;
	case PGRES_POLLING_WRITING:
		if (watch_socket(w, EV_WRITE) < 0)
			lose(w, "out of memory");
		return;
	case PGRES_POLLING_OK:
		connected(w);
		return;
	default:
		lose(w, "cannot connect");
		return;
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct ib_store_listener *w = arg;
	PGresult *res;

	(void)fd;
	(void)what;
	if (w->state == W_CONNECTING) {
		connect_step(w);
		return;
	}
	if (!PQconsumeInput(w->conn) || PQstatus(w->conn) != CONNECTION_OK) {
		lose(w, "connection lost");
		return;
	}
	while (w->busy && !PQisBusy(w->conn)) {
		if (!(res = PQgetResult(w->conn))) {
			w->busy = false;
			break;
		}
		take_result(w, res);
		PQclear(res);
	}
	take_notifies(w);
}

static void start_connect(struct ib_store_listener *w)
{
	w->conn = PQconnectStartParams((const char *const *)w->keys,
				       (const char *const *)w->vals, 0);
	if (!w->conn || PQstatus(w->conn) == CONNECTION_BAD) {
		lose(w, "cannot connect");
		return;
	}
	w->state = W_CONNECTING;
	if (watch_socket(w, EV_WRITE) < 0) {
		lose(w, "out of memory");
		return;
	}
	arm_timer(w, CONNECT_DEADLINE_MS);	/* connected() arms it anew */
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct ib_store_listener *w = arg;
	int f;

	(void)fd;
	(void)what;
	if (w->state == W_DOWN) {
		start_connect(w);
		return;
	}
	if (w->state == W_CONNECTING) {
		lose(w, "no answer to connecting within 5 s");
		return;
	}
	arm_timer(w, LEADER_RETRY_MS);
	if (w->unflushed) {
		if ((f = PQflush(w->conn)) < 0)
			lose(w, "connection lost");
		w->unflushed = f == 1;
	} else if (!w->busy && !w->st.leader && w->st.connected) {
		ask_lock(w);	/* a follower asks again: the leader may be gone */
	}
}

/* Copies the store connection's parameters, with the listener's own name
 * and keepalives; 0 or -ENOMEM. */
static int copy_params(struct ib_store_listener *w, PGconn *from)
{
	char name[40];
	const char *const ours[][2] = {
		{ "application_name", name }, { "keepalives", "1" },
		{ "keepalives_idle", "5" }, { "keepalives_interval", "2" },
		{ "keepalives_count", "3" }, { "connect_timeout", "5" },
	};
	PQconninfoOption *opts = PQconninfo(from);
	size_t n = 0;

	if (!opts)
		return -ENOMEM;
	/* pg_stat_activity tells the daemons' listeners apart */
	snprintf(name, sizeof(name), "ironboot-listen-%ld", (long)getpid());
	for (size_t i = 0; i < IB_ARRAY_SIZE(ours); i++) {
		w->keys[n] = strdup(ours[i][0]);
		w->vals[n++] = strdup(ours[i][1]);
	}
	for (PQconninfoOption *o = opts; o->keyword && n < PARAMS_MAX; o++) {
		bool mine = false;

		for (size_t i = 0; i < IB_ARRAY_SIZE(ours); i++)
			mine |= strcmp(o->keyword, ours[i][0]) == 0;
		if (mine || !o->val || !o->val[0])
			continue;
		w->keys[n] = strdup(o->keyword);
		w->vals[n++] = strdup(o->val);
	}
	PQconninfoFree(opts);
	for (size_t i = 0; i < n; i++)
		if (!w->keys[i] || !w->vals[i])
			return -ENOMEM;
	return 0;
}

int ib_store_listen_new(struct event_base *base, struct ib_store *s,
		       const struct ib_store_listen_hooks *hooks, struct ib_store_listener **ret)
{
	struct ib_store_listener *w;

	if (strcmp(s->ops->name, "postgresql") != 0)
		return -EOPNOTSUPP;
	if (!(w = calloc(1, sizeof(*w))))
		return -ENOMEM;
	w->base = base;
	w->store = s;
	w->h = *hooks;
	w->backoff_ms = BACKOFF_MIN_MS;
	if (copy_params(w, to_pg(s)->conn) < 0 || !(w->timer = evtimer_new(base, on_timer, w))) {
		ib_store_listen_free(w);
		return -ENOMEM;
	}
	start_connect(w);
	*ret = w;
	return 0;
}

void ib_store_listen_free(struct ib_store_listener *w)
{
	if (!w)
		return;
	if (w->io)
		event_free(w->io);
	if (w->timer)
		event_free(w->timer);
	PQfinish(w->conn);
	for (size_t i = 0; i < PARAMS_MAX && w->keys[i]; i++) {
		if (w->vals[i])
			explicit_bzero(w->vals[i], strlen(w->vals[i]));	/* the password */
		free(w->keys[i]);
		free(w->vals[i]);
	}
	free(w);
}

void ib_store_listen_status(const struct ib_store_listener *w, struct ib_store_listen_state *ret)
{
	*ret = w->st;
}
