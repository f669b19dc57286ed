/*
 * The PostgreSQL store's connection (issue #16): the connection string
 * and password checks, the first connect at open, and what happens when
 * the connection is lost.
 *
 * Loss: a statement that fails on a connection libpq reports as
 * CONNECTION_BAD marks the store down.  From then on every statement
 * fails at once with -EIO (nothing waits on a dead socket); a
 * transaction the caller had open is lost (its COMMIT fails: no ACK
 * without its row).  Outside a transaction the store reconnects, with
 * libpq's non-blocking connect (PQconnectStartParams, PQconnectPoll with
 * a zero-timeout poll()), so neither a statement nor the daemon's
 * periodic ib_store_link_check() waits on the network for the connect
 * itself.  Attempts are spaced by an exponential backoff (BACKOFF_MIN_US
 * doubling to BACKOFF_MAX_US, a quarter of jitter so that several daemons
 * do not knock together).  Once connected, the session settings and the
 * prepared statements are sent synchronously (a server that just
 * accepted us answers them at once; a server that hangs there is held
 * by tcp_user_timeout).
 *
 * Nothing here logs (lower layers never do): the state is read through
 * ib_store_link_check() and the daemon says what it found.
 */
#include "store/store_pg_int.h"
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD_MAX 1024
#define BACKOFF_MIN_US 200000		/* first retry after a loss */
#define BACKOFF_MAX_US 5000000		/* the cap: a restarted server is found within it */
/* A reconnect still pending after this is abandoned: libpq's
 * connect_timeout does not apply to PQconnectPoll, and a server whose
 * packets are dropped would hold it for the kernel's SYN retries
 * (about two minutes) with no new attempt. */
#define CONNECT_DEADLINE_US 5000000

/* libpq's message without its trailing newline, into buf[cap]. */
static void conn_msg(PGconn *c, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", c ? PQerrorMessage(c) : "out of memory");
	buf[strcspn(buf, "\n")] = '\0';
}

/* -EINVAL when conninfo does not parse or carries a password. */
static int check_conninfo(const char *conninfo, char *err)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	int r = 0;

	if (!opts) {
		ib_store_set_err(err, "bad connection string: %s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return -EINVAL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (!strcmp(o->keyword, "password") && o->val && o->val[0]) {
			ib_store_set_err(err, "the connection string carries a password: put it in "
				"server.store_password_file or PGPASSFILE instead");
			r = -EINVAL;
		}
	PQconninfoFree(opts);
	return r;
}

/* Reads the password file's first line into pw[PASSWORD_MAX]. */
static int read_password(const char *path, char *pw, char *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0) {
		ib_store_set_err(err, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	n = read(fd, pw, PASSWORD_MAX - 1);
	close(fd);
	if (n < 0) {
		ib_store_set_err(err, "cannot read %s: %s", path, strerror(errno));
		return -EIO;
	}
	pw[n] = '\0';
	pw[strcspn(pw, "\r\n")] = '\0';
	if (!pw[0]) {
		ib_store_set_err(err, "%s: empty password file", path);
		return -EINVAL;
	}
	return 0;
}

/*
 * The connect parameters: keywords before dbname are defaults the URI may
 * override; after it they win.  The keepalives and tcp_user_timeout bound
 * how long a statement can wait on a server that vanished without a word
 * (a TCP connection; a Unix socket fails at once).
 */
#define N_KEYS 8
static void conn_params(const struct ib_pg_link *l, const char **keys, const char **vals)
{
	static const char *const k[N_KEYS] = { "connect_timeout", "application_name",
		"keepalives_idle", "keepalives_interval", "keepalives_count",
		"tcp_user_timeout", "dbname", "password" };
	const char *v[N_KEYS] = { "10", "ironboot", "5", "2", "3", "10000", l->conninfo,
				  l->password };

	for (size_t i = 0; i < N_KEYS; i++) {
		keys[i] = k[i];
		vals[i] = v[i];
	}
	keys[N_KEYS - 1 + (l->password != NULL)] = NULL;
	vals[N_KEYS] = NULL;
}

/*
 * The session settings; 0 or -EIO.  The server's own keepalives (as the
 * client's above) end the session of a daemon whose host vanished within
 * about 20 s, not the kernel's two hours: its locks (the leader's, a load
 * balancing member's) go with it (ignored on a Unix socket).
 */
static int setup_session(PGconn *c)
{
	PGresult *res = PQexec(c, "SET bytea_output = 'hex'; SET client_encoding = 'UTF8';"
			       " SET synchronous_commit = on; SET client_min_messages = warning");
	int r = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -EIO;

	PQclear(res);
	if (r < 0)
		return r;
	/* best effort: tcp_user_timeout is PostgreSQL 12's */
	PQclear(PQexec(c, "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2;"
		       " SET tcp_keepalives_count = 3"));
	if (PQserverVersion(c) >= 120000)
		PQclear(PQexec(c, "SET tcp_user_timeout = 10000"));
	return 0;
}

int ib_pg_link_open(struct store_pg *pg, const char *conninfo, const char *password_file,
		    char *err)
{
	struct ib_pg_link *l = &pg->link;
	const char *keys[N_KEYS + 1], *vals[N_KEYS + 1];
	char pw[PASSWORD_MAX], msg[200];
	int r;

	if ((r = check_conninfo(conninfo, err)) < 0)
		return r;
	if (password_file && (r = read_password(password_file, pw, err)) < 0)
		return r;
	l->conninfo = strdup(conninfo);
	l->password = password_file ? strdup(pw) : NULL;
	explicit_bzero(pw, sizeof(pw));
	if (!l->conninfo || (password_file && !l->password)) {
		ib_store_set_err(err, "out of memory");
		return -ENOMEM;
	}
	conn_params(l, keys, vals);
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		conn_msg(pg->conn, msg, sizeof(msg));
		ib_store_set_err(err, "cannot connect: %s", msg);
		return -EIO;
	}
	if (setup_session(pg->conn) < 0) {
		conn_msg(pg->conn, msg, sizeof(msg));
		ib_store_set_err(err, "cannot set the session up: %s", msg);
		return -EIO;
	}
	return 0;
}

void ib_pg_link_done(struct ib_pg_link *l)
{
	if (l->pending)
		PQfinish(l->pending);
	if (l->password) {
		explicit_bzero(l->password, strlen(l->password));
		free(l->password);
	}
	free(l->conninfo);
}

/* The next attempt's time: the backoff doubles up to its cap, with up
 * to a quarter of it added at random. */
static void schedule(struct ib_pg_link *l, int64_t now)
{
	int64_t jitter;

	l->backoff_us = l->backoff_us ? IB_MIN(l->backoff_us * 2, BACKOFF_MAX_US)
				      : BACKOFF_MIN_US;
	jitter = (int64_t)((uint64_t)random() % (uint64_t)(l->backoff_us / 4 + 1));
	l->next_try_us = now + l->backoff_us + jitter;
}

void ib_pg_link_failed(struct store_pg *pg, bool was_in_tx)
{
	struct ib_pg_link *l = &pg->link;

	if (l->down || PQstatus(pg->conn) != CONNECTION_BAD)
		return;		/* a statement's own error: the connection is fine */
	conn_msg(pg->conn, l->reason, sizeof(l->reason));
	if (!l->reason[0])
		snprintf(l->reason, sizeof(l->reason), "connection lost");
	l->down = true;
	l->tx_lost = was_in_tx;
	l->losses++;
	l->attempts = 0;
	l->backoff_us = 0;
	l->down_since_us = ib_now_us();
	schedule(l, l->down_since_us);
}

/* The connect finished: the session and statements on it, then it
 * replaces the dead one.  0 or -EIO (reason kept). */
static int adopt(struct store_pg *pg, PGconn *c)
{
	struct ib_pg_link *l = &pg->link;
	PGconn *dead = pg->conn;
	char err[256];

	if (setup_session(c) < 0) {
		conn_msg(c, l->reason, sizeof(l->reason));
		PQfinish(c);
		return -EIO;
	}
	pg->conn = c;
	if (ib_pg_prepare_all(pg, err) < 0) {
		snprintf(l->reason, sizeof(l->reason), "%.190s", err);
		pg->conn = dead;
		PQfinish(c);
		return -EIO;
	}
	PQfinish(dead);
	l->down = false;
	l->tx_lost = false;
	l->backoff_us = 0;
	l->reconnects++;
	return 0;
}

/* Advances a pending connect as far as its socket allows without
 * waiting: 1 still pending, 0 connected, -EIO failed. */
static int poll_pending(struct store_pg *pg)
{
	struct ib_pg_link *l = &pg->link;

	for (;;) {
		PostgresPollingStatusType st = PQconnectPoll(l->pending);
		struct pollfd pfd = { .fd = PQsocket(l->pending) };
		PGconn *c = l->pending;

		if (st == PGRES_POLLING_OK) {
			l->pending = NULL;
			return adopt(pg, c);
		}
		if (st == PGRES_POLLING_FAILED || pfd.fd < 0) {
			conn_msg(c, l->reason, sizeof(l->reason));
			PQfinish(c);
			l->pending = NULL;
			return -EIO;
		}
		pfd.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		if (poll(&pfd, 1, 0) <= 0)
			return 1;	/* not yet: the next check goes on */
	}
}

int ib_pg_link_ready(struct store_pg *pg)
{
	struct ib_pg_link *l = &pg->link;
	const char *keys[N_KEYS + 1], *vals[N_KEYS + 1];
	int64_t now;
	int r;

	if (!l->down)
		return 0;
	if (l->tx_lost)
		return -EIO;	/* the caller's transaction is gone: it must end it */
	now = ib_now_us();
	if (!l->pending) {
		if (now < l->next_try_us)
			return -EIO;
		conn_params(l, keys, vals);
		l->pending = PQconnectStartParams(keys, vals, 1);
		l->pending_since_us = now;
		l->attempts++;
		if (!l->pending || PQstatus(l->pending) == CONNECTION_BAD) {
			conn_msg(l->pending, l->reason, sizeof(l->reason));
			PQfinish(l->pending);
			l->pending = NULL;
			schedule(l, now);
			return -EIO;
		}
	}
	r = poll_pending(pg);
	if (r > 0 && now - l->pending_since_us >= CONNECT_DEADLINE_US) {
		snprintf(l->reason, sizeof(l->reason), "no answer to connecting within %d s",
			 CONNECT_DEADLINE_US / 1000000);
		PQfinish(l->pending);
		l->pending = NULL;
		r = -EIO;
	}
	if (r < 0)
		schedule(l, now);
	return r == 0 ? 0 : -EIO;
}

void ib_pg_link_end_tx(struct store_pg *pg)
{
	pg->link.tx_lost = false;
}

void ib_pg_link_state(struct ib_store *s, struct ib_store_link *ret)
{
	struct store_pg *pg = to_pg(s);
	const struct ib_pg_link *l = &pg->link;

	/* a server that closed the connection between statements (a
	 * shutdown's notice) is noticed here, not by the next request */
	if (!l->down && !ib_pg_in_tx(pg) && !PQconsumeInput(pg->conn))
		ib_pg_link_failed(pg, false);
	ib_pg_link_ready(pg);		/* a due attempt, without waiting */
	memset(ret, 0, sizeof(*ret));
	ret->up = !l->down;
	ret->down_since_us = l->down ? l->down_since_us : 0;
	ret->next_try_us = l->down && !l->pending ? l->next_try_us : 0;
	ret->attempts = l->attempts;
	ret->losses = l->losses;
	ret->reconnects = l->reconnects;
	snprintf(ret->reason, sizeof(ret->reason), "%s", l->down ? l->reason : "");
	ret->session = l->down ? 0 : PQbackendPID(pg->conn);
}
