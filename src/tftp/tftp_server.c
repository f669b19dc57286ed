/* The TFTP server shell: see tftp_server.h. */
#include "tftp/tftp_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "tftp/tftp_server_int.h"

/* How a refusal or failure reads on the wire. */
static const struct refusal {
	int err;			/* negative errno */
	uint16_t code;			/* TFTP error code */
	const char *msg;		/* TFTP error text */
} refusals[] = {
	{ -ENOENT, IB_TFTP_ENOTFOUND, "file not found" },
	{ -EACCES, IB_TFTP_EACCESS, "access violation" },
	{ -ENAMETOOLONG, IB_TFTP_EACCESS, "file name too long" },
	{ -EROFS, IB_TFTP_EACCESS, "read-only server" },
	{ -EBUSY, IB_TFTP_EUNDEF, "server busy" },
	{ -EMFILE, IB_TFTP_EUNDEF, "server busy" },
	{ -ENFILE, IB_TFTP_EUNDEF, "server busy" },
	{ -ENOMEM, IB_TFTP_EUNDEF, "server busy" },
	{ -EBADMSG, IB_TFTP_EBADOP, "malformed request" },
	{ -EPROTONOSUPPORT, IB_TFTP_EBADOP, "unsupported mode" },
	{ -EIO, IB_TFTP_EUNDEF, "read error" },
};

static const struct refusal *refusal_for(int err)
{
	static const struct refusal other = { 0, IB_TFTP_EUNDEF, "internal error" };

	for (size_t i = 0; i < IB_ARRAY_SIZE(refusals); i++)
		if (refusals[i].err == err)
			return &refusals[i];
	return &other;
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	       ((const struct sockaddr_in *)ss)->sin_port :
	       ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/* ---- requests -------------------------------------------------------- */

/* Sends an ERROR from the listening socket, from the address asked. */
static void listener_send_error(const struct ib_tftp_rq *rq, uint16_t code,
				const char *msg)
{
	uint8_t buf[IB_TFTP_ERRMSG_MAX + 8];
	union {
		char buf[CTRL_BUF];
		struct cmsghdr align;
	} ctrl;
	struct ib_wbuf w;
	struct iovec iov;
	struct msghdr mh = {
		.msg_name = (void *)&rq->peer, .msg_namelen = rq->peer_len,
		.msg_iov = &iov, .msg_iovlen = 1,
	};

	ib_wbuf_init(&w, buf, sizeof(buf));
	if (ib_tftp_build_error(&w, code, msg) < 0)
		return;
	iov = (struct iovec){ buf, w.len };
	memset(&ctrl, 0, sizeof(ctrl));
	if (rq->has_local && rq->peer.ss_family == AF_INET) {
		struct in_pktinfo pi = {
			.ipi_spec_dst = ((const struct sockaddr_in *)&rq->spec)->sin_addr,
		};
		struct cmsghdr *cm;

		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	} else if (rq->has_local) {
		struct in6_pktinfo pi = {
			.ipi6_addr = ((const struct sockaddr_in6 *)&rq->local)->sin6_addr,
			.ipi6_ifindex = (unsigned)rq->ifindex,
		};
		struct cmsghdr *cm;

		mh.msg_control = ctrl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	(void)sendmsg(rq->l->fd, &mh, MSG_DONTWAIT);
}

/*
 * Answers a request with an ERROR, logs once and reports once; a "busy"
 * beyond the first few of a flood is counted in its summary instead.
 */
static void refuse(struct ib_tftp_server *s, const struct ib_tftp_rq *rq,
		   struct ib_tftp_report *r, int err)
{
	const struct refusal *f = refusal_for(err);
	char peer[ADDRSTR];

	listener_send_error(rq, f->code, f->msg);
	if (err == -EBUSY && ib_tftp_flood_record(s, IB_TFTP_FLOOD_REFUSED, &rq->peer))
		return;
	r->result = err;
	snprintf(r->error, sizeof(r->error), "%s", f->msg);
	ib_tftp_addr_format(&rq->peer, peer, sizeof(peer));
	ib_info("tftp: request for \"%s\" from %s refused: %s (error %u sent)",
		r->file, peer, f->msg, f->code);
	ib_tftp_report_emit(s, r);
}

static bool is_trusted(const struct ib_tftp_server *s, const char *name)
{
	for (size_t i = 0; i < s->n_trusted; i++)
		if (strcmp(s->trusted[i], name) == 0)
			return true;
	return false;
}

/*
 * Duplicates.  A retransmitted RRQ (same address and port) for a transfer
 * that has not got going yet is not a new transfer: it nudges that one
 * (whose OACK or first block was probably lost).  The same client port on
 * a transfer in progress is a new request from a rebooted client: the old
 * transfer is ended.  Returns true when the request was such a repeat.
 */
static bool repeated(struct ib_tftp_server *s, const struct ib_tftp_rq *rq)
{
	struct ib_tftp_source *src = ib_tftp_source_find(s, &rq->peer);

	for (struct ib_tftp_conn *c = src ? src->conns : NULL, *next; c; c = next) {
		next = c->snext;
		if (addr_port(&c->peer) != addr_port(&rq->peer))
			continue;
		if (c->x.acked == 0) {
			ib_tftp_conn_nudge(c);
			return true;
		}
		snprintf(c->rep.error, sizeof(c->rep.error),
			 "superseded by a new request");
		ib_tftp_conn_end(c, -ECONNABORTED);	/* may free src */
		return false;
	}
	return false;
}

/*
 * Caps and the fair share (tftp_admit.h): 0 to start, with *ret_evict set
 * when an unacknowledged transfer must make room first, or -EBUSY.
 */
static int admit(struct ib_tftp_server *s, const struct ib_tftp_rq *rq,
		 struct ib_tftp_conn **ret_evict)
{
	struct ib_tftp_admit_limits lim = ib_tftp_srv_admit_limits(s);
	struct ib_tftp_admit_counts n;

	ib_tftp_admit_counts_for(s, ib_tftp_source_find(s, &rq->peer), &n);
	*ret_evict = NULL;
	switch (ib_tftp_admit_request(&lim, &n)) {
	case IB_TFTP_ADMIT_START:
		return 0;
	case IB_TFTP_ADMIT_EVICT_STRANGER:
		*ret_evict = ib_tftp_unacked_oldest(s, true);
		return 0;
	case IB_TFTP_ADMIT_EVICT_OLDEST:
		*ret_evict = ib_tftp_unacked_oldest(s, false);
		return 0;
	case IB_TFTP_ADMIT_BUSY_CLIENT:
	case IB_TFTP_ADMIT_BUSY_SERVER:
		break;
	}
	return -EBUSY;
}

/* Opens the file a request names, following the trust rules. */
static int open_file(struct ib_tftp_server *s, const struct ib_tftp_request *req,
		     struct ib_tftp_file **ret)
{
	bool trusted = is_trusted(s, req->filename);
	int fd, r;

	r = ib_tftp_name_check(req->filename, req->filename_len);
	if (r < 0 && !trusted)
		return r;
	r = ib_tftp_open_beneath(s->rootfd, req->filename, trusted, s->openat2, &fd);
	if (r < 0)
		return r;
	return ib_tftp_cache_get(s->cache, fd, ret);
}

static void handle_request(struct ib_tftp_server *s, const struct ib_tftp_rq *rq)
{
	struct ib_tftp_request req;
	struct ib_tftp_report rep = { .peer = rq->peer, .peer_len = rq->peer_len,
				      .start_us = ib_now_us() };
	struct ib_tftp_file *file;
	struct ib_tftp_conn *evict;
	uint16_t op;
	int r;

	/* Only requests are answered here: a stray ACK/DATA/ERROR on the
	 * well-known port gets nothing, so two servers can never ping-pong. */
	if (ib_tftp_opcode_peek(rq->buf, rq->len, &op) < 0 ||
	    (op != IB_TFTP_RRQ && op != IB_TFTP_WRQ))
		return;
	if (rq->len > 2)
		ib_str_sanitize(rq->buf + 2, strnlen((const char *)rq->buf + 2,
						     IB_MIN(rq->len - 2, (size_t)64)),
				rep.file, sizeof(rep.file));
	r = rq->truncated ? -EBADMSG : ib_tftp_request_parse(rq->buf, rq->len, &req);
	if (r == 0 && req.opcode == IB_TFTP_WRQ)
		r = -EROFS;
	if (r < 0)
		return refuse(s, rq, &rep, r);
	ib_str_sanitize((const uint8_t *)req.filename, req.filename_len,
			rep.file, sizeof(rep.file));
	if (repeated(s, rq)) {
		ib_debug("tftp: repeated request for \"%s\" joins the transfer in progress",
			 rep.file);
		return;
	}
	r = admit(s, rq, &evict);
	if (r == 0)
		r = open_file(s, &req, &file);
	if (r == 0 && evict)
		ib_tftp_conn_evict(evict);	/* only once the file is there */
	if (r == 0)
		r = ib_tftp_conn_start(s, rq, &req, file, &rep);
	if (r < 0)
		refuse(s, rq, &rep, r);
}

/* Reads IP_PKTINFO / IPV6_PKTINFO: where the request was sent. */
static void request_local(struct ib_tftp_rq *rq, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct sockaddr_in *l = (struct sockaddr_in *)&rq->local;
			struct sockaddr_in *sp = (struct sockaddr_in *)&rq->spec;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			*l = (struct sockaddr_in){ .sin_family = AF_INET,
						   .sin_addr = pi.ipi_addr };
			*sp = (struct sockaddr_in){ .sin_family = AF_INET,
						    .sin_addr = pi.ipi_spec_dst };
			rq->has_local = true;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			   cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			struct sockaddr_in6 *l = (struct sockaddr_in6 *)&rq->local;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			*l = (struct sockaddr_in6){ .sin6_family = AF_INET6,
						    .sin6_addr = pi.ipi6_addr };
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				l->sin6_scope_id = (uint32_t)pi.ipi6_ifindex;
			rq->ifindex = (int)pi.ipi6_ifindex;
			rq->has_local = true;
		}
	}
}

static void listener_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ib_tftp_listener *l = arg;
	struct ib_tftp_server *s = l->srv;
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct sockaddr_storage peers[RECV_BATCH];
	union {
		char buf[CTRL_BUF];
		struct cmsghdr align;
	} ctrl[RECV_BATCH];
	int n;

	for (int i = 0; i < RECV_BATCH; i++) {
		iov[i] = (struct iovec){ s->reqbuf + (size_t)i * REQ_BUF, REQ_BUF };
		msgs[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &peers[i], .msg_namelen = sizeof(peers[i]),
			.msg_iov = &iov[i], .msg_iovlen = 1,
			.msg_control = ctrl[i].buf, .msg_controllen = CTRL_BUF,
		} };
	}
	n = recvmmsg(fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct ib_tftp_rq rq = {
			.l = l, .peer = peers[i], .peer_len = msgs[i].msg_hdr.msg_namelen,
			.buf = iov[i].iov_base, .len = msgs[i].msg_len,
			.truncated = msgs[i].msg_hdr.msg_flags & MSG_TRUNC,
		};

		if (rq.peer.ss_family != AF_INET && rq.peer.ss_family != AF_INET6)
			continue;
		request_local(&rq, &msgs[i].msg_hdr);
		handle_request(s, &rq);
	}
}

/* ---- the flood summary ---------------------------------------------- */

/* Counts an event of a flood: see tftp_server_int.h. */
bool ib_tftp_flood_record(struct ib_tftp_server *s, enum ib_tftp_flood_kind kind,
			  const struct sockaddr_storage *peer)
{
	struct ib_tftp_flood_note n = ib_tftp_flood_note(
		&s->flood, kind, ib_tftp_source_hash(s, peer), ib_tftp_mono_ms());
	struct timeval tv = { IB_TFTP_FLOOD_WINDOW_MS / 1000,
			      IB_TFTP_FLOOD_WINDOW_MS % 1000 * 1000 };

	if (n.arm && !s->closing)
		event_add(s->ev_flood, &tv);
	return n.fold;
}

/* Logs the open window's summary, if any, and closes it. */
static void flood_log(struct ib_tftp_server *s)
{
	struct ib_tftp_flood_summary f;

	ib_tftp_flood_close(&s->flood, ib_tftp_mono_ms(), &f);
	if (!f.n[IB_TFTP_FLOOD_EVICTED] && !f.n[IB_TFTP_FLOOD_UNANSWERED] &&
	    !f.n[IB_TFTP_FLOOD_REFUSED])
		return;
	ib_warn("tftp: %llu unacknowledged transfers from %s%u sources evicted "
		"(oldest first, max_unacked %u), %llu ended unanswered and %llu "
		"requests were refused busy in %.1f s; %u transfers under way "
		"kept their slots, %u unacknowledged now",
		(unsigned long long)f.n[IB_TFTP_FLOOD_EVICTED],
		f.sources_capped ? "at least " : "", f.sources,
		s->lim.max_unacked,
		(unsigned long long)f.n[IB_TFTP_FLOOD_UNANSWERED],
		(unsigned long long)f.n[IB_TFTP_FLOOD_REFUSED],
		(double)f.ms / 1000, s->n_live, s->n_unacked);
}

static void flood_cb(evutil_socket_t fd, short what, void *arg)
{
	flood_log(arg);
}

/* ---- listeners, lifecycle -------------------------------------------- */

static void limits_from(const struct ib_tftp_config *cfg, struct ib_tftp_srv_limits *ret)
{
	*ret = (struct ib_tftp_srv_limits){
		.port = cfg->port ? cfg->port : 69,
		.max_transfers = cfg->max_transfers ? cfg->max_transfers : 1000,
		.max_per_client = cfg->max_per_client ? cfg->max_per_client : 16,
		.max_unacked = cfg->max_unacked ? cfg->max_unacked :
			       cfg->max_transfers ? cfg->max_transfers : 1000,
		.timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1000,
		.max_retries = cfg->max_retries,
		.max_blksize = cfg->max_blksize ? cfg->max_blksize : IB_TFTP_BLKSIZE_MAX,
		.max_windowsize = cfg->max_windowsize ? cfg->max_windowsize : 64,
		.cache_bytes = cfg->cache_bytes,
	};
}

static void listeners_close(struct ib_tftp_listener *ls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ls[i].ev)
			event_free(ls[i].ev);
		if (ls[i].fd >= 0)
			close(ls[i].fd);
		ls[i] = (struct ib_tftp_listener){ .fd = -1 };
	}
}

/* Binds one listening socket on a numeric address. */
static int listener_open(struct ib_tftp_server *s, const char *addr,
			 uint16_t port, struct ib_tftp_listener *ret)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
				  .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai;
	char portstr[8];
	int one = 1, rcvbuf = RCVBUF_LISTEN, fd, r;

	snprintf(portstr, sizeof(portstr), "%u", port);
	if (getaddrinfo(addr, portstr, &hints, &ai) != 0)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err_ai;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (ai->ai_family == AF_INET6 &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0))
		goto err_fd;
	if (ai->ai_family == AF_INET &&
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
		goto err_fd;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		goto err_fd;
	*ret = (struct ib_tftp_listener){ .srv = s, .fd = fd, .family = ai->ai_family };
	freeaddrinfo(ai);
	return 0;
err_fd:
	r = -errno;
	close(fd);
	freeaddrinfo(ai);
	return r;
err_ai:
	r = -errno;
	freeaddrinfo(ai);
	return r;
}

/*
 * Opens the listeners of cfg into ls.  Without addresses: 0.0.0.0, and ::
 * when the host has IPv6.  Logs and returns a negative errno on failure.
 */
static int listeners_open(struct ib_tftp_server *s,
			  const struct ib_tftp_config *cfg, uint16_t port,
			  struct ib_tftp_listener *ls, size_t *ret_n)
{
	static const char *const any[] = { "0.0.0.0", "::" };
	const char *const *addrs = cfg->n_listen ? (const char *const *)cfg->listen : any;
	size_t n = cfg->n_listen ? cfg->n_listen : IB_ARRAY_SIZE(any), k = 0;

	if (n > LISTEN_MAX) {
		ib_err("tftp: %zu listen addresses, at most %d", n, LISTEN_MAX);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		int r = listener_open(s, addrs[i], port, &ls[k]);

		if (r == -EAFNOSUPPORT && !cfg->n_listen) {
			ib_notice("tftp: no IPv6 here, serving IPv4 only");
			continue;
		}
		if (r < 0) {
			ib_err("tftp: cannot listen on %s port %u: %s", addrs[i],
			       port, strerror(-r));
			listeners_close(ls, k);
			return r;
		}
		k++;
	}
	*ret_n = k;
	return 0;
}

/* Watches the listeners (once they sit at their final address). */
static int listeners_arm(struct ib_tftp_server *s)
{
	for (size_t i = 0; i < s->n_ls; i++) {
		struct ib_tftp_listener *l = &s->ls[i];

		l->ev = event_new(s->base, l->fd, EV_READ | EV_PERSIST,
				  listener_cb, l);
		if (!l->ev || event_add(l->ev, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int strv_copy(const char *const *src, size_t n, char ***ret)
{
	char **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(src[i]);
		if (!v[i]) {
			strv_free(v, i);
			return -ENOMEM;
		}
	}
	*ret = v;
	return 0;
}

static bool listen_changed(const struct ib_tftp_server *s,
			   const struct ib_tftp_config *cfg, uint16_t port)
{
	if (port != s->lim.port || cfg->n_listen != s->n_listen_cfg)
		return true;
	for (size_t i = 0; i < cfg->n_listen; i++)
		if (strcmp(cfg->listen[i], s->listen_cfg[i]) != 0)
			return true;
	return false;
}

/* Everything reconfigurable, opened before anything is swapped in. */
struct settings {
	struct ib_tftp_srv_limits lim;		/* new limits */
	int rootfd;			/* new root */
	char **trusted;			/* new trusted names */
	char **listen_cfg;		/* new listen list */
};

static void settings_done(struct settings *st, size_t n_trusted, size_t n_listen)
{
	if (st->rootfd >= 0)
		close(st->rootfd);
	strv_free(st->trusted, n_trusted);
	strv_free(st->listen_cfg, n_listen);
}

static int settings_load(const struct ib_tftp_server_opts *o,
			 struct settings *ret)
{
	const struct ib_tftp_config *cfg = o->cfg;
	struct settings st = { .rootfd = -1 };
	int r;

	limits_from(cfg, &st.lim);
	st.rootfd = open(cfg->root ? cfg->root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st.rootfd < 0) {
		r = -errno;
		ib_err("tftp: cannot open root %s: %s", cfg->root ? cfg->root : "/",
		       strerror(errno));
		return r;
	}
	if (strv_copy(o->trusted, o->n_trusted, &st.trusted) < 0 ||
	    strv_copy((const char *const *)cfg->listen, cfg->n_listen,
		      &st.listen_cfg) < 0) {
		settings_done(&st, st.trusted ? o->n_trusted : 0, 0);
		return -ENOMEM;
	}
	*ret = st;
	return 0;
}

/* Takes st into s, releasing what s held. */
static void settings_apply(struct ib_tftp_server *s,
			   const struct ib_tftp_server_opts *o,
			   struct settings *st)
{
	if (s->rootfd >= 0)
		close(s->rootfd);
	strv_free(s->trusted, s->n_trusted);
	strv_free(s->listen_cfg, s->n_listen_cfg);
	s->lim = st->lim;
	s->rootfd = st->rootfd;
	s->openat2 = ib_tftp_openat2_available(s->rootfd);
	s->trusted = st->trusted;
	s->n_trusted = o->n_trusted;
	s->listen_cfg = st->listen_cfg;
	s->n_listen_cfg = o->cfg->n_listen;
	s->report = o->report;
	s->report_ctx = o->report_ctx;
	ib_tftp_cache_set_budget(s->cache, s->lim.cache_bytes);
}

/* A transfer holds a socket and maybe a file: make room for the caps. */
static void raise_nofile(uint64_t transfers)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)transfers * 2 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : IB_MIN(need, rl.rlim_max);
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < need)
		ib_warn("tftp: file descriptor limit %llu is low for %llu transfers",
			(unsigned long long)rl.rlim_cur, (unsigned long long)transfers);
}

int ib_tftp_server_new(struct event_base *base,
		       const struct ib_tftp_server_opts *opts,
		       struct ib_tftp_server **ret)
{
	struct ib_tftp_server *s;
	struct settings st;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->base = base;
	s->rootfd = -1;
	r = -ENOMEM;
	s->slots = malloc((size_t)SEND_BATCH * SLOT_BYTES);
	s->rscratch = malloc(IB_TFTP_READER_SCRATCH);
	s->reqbuf = malloc((size_t)RECV_BATCH * REQ_BUF);
	s->ev_flood = evtimer_new(base, flood_cb, s);
	if (!s->slots || !s->rscratch || !s->reqbuf || !s->ev_flood ||
	    ib_tftp_sources_init(s) < 0 ||
	    ib_tftp_cache_new(opts->cfg->cache_bytes, &s->cache) < 0)
		goto err_free;
	r = settings_load(opts, &st);
	if (r < 0)
		goto err_free;
	settings_apply(s, opts, &st);
	r = listeners_open(s, opts->cfg, s->lim.port, s->ls, &s->n_ls);
	if (r == 0)
		r = listeners_arm(s);
	if (r < 0)
		goto err_free;
	raise_nofile((uint64_t)s->lim.max_transfers + s->lim.max_unacked);
	ib_info("tftp: serving %s on port %u (%s resolver)",
		opts->cfg->root ? opts->cfg->root : "/", s->lim.port,
		s->openat2 ? "openat2" : "O_NOFOLLOW walk");
	*ret = s;
	return 0;
err_free:
	ib_tftp_server_free(s);
	return r;
}

void ib_tftp_server_free(struct ib_tftp_server *s)
{
	if (!s)
		return;
	s->closing = true;
	while (s->conns) {
		snprintf(s->conns->rep.error, sizeof(s->conns->rep.error),
			 "server shutting down");
		ib_tftp_conn_end(s->conns, -ECONNABORTED);
	}
	if (s->ev_flood) {
		flood_log(s);
		event_free(s->ev_flood);
	}
	ib_tftp_sources_done(s);
	listeners_close(s->ls, s->n_ls);
	if (s->rootfd >= 0)
		close(s->rootfd);
	strv_free(s->trusted, s->n_trusted);
	strv_free(s->listen_cfg, s->n_listen_cfg);
	ib_tftp_cache_free(s->cache);
	free(s->slots);
	free(s->rscratch);
	free(s->reqbuf);
	free(s);
}

size_t ib_tftp_server_listening(const struct ib_tftp_server *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_ls; i++)
		n += s->ls[i].fd >= 0 && s->ls[i].ev != NULL;
	return n;
}

int ib_tftp_server_reconfigure(struct ib_tftp_server *s,
			       const struct ib_tftp_server_opts *opts)
{
	struct ib_tftp_listener ls[LISTEN_MAX];
	size_t n_ls = 0;
	struct settings st;
	bool relisten;
	int r;

	r = settings_load(opts, &st);
	if (r < 0)
		return r;
	relisten = listen_changed(s, opts->cfg, st.lim.port);
	if (relisten) {
		/* Rebinding the same port needs the old sockets gone first;
		 * if the new set fails, the old one is reopened. */
		listeners_close(s->ls, s->n_ls);
		r = listeners_open(s, opts->cfg, st.lim.port, ls, &n_ls);
		if (r < 0) {
			struct ib_tftp_config old = *opts->cfg;

			old.port = s->lim.port;
			old.listen = s->listen_cfg;
			old.n_listen = s->n_listen_cfg;
			if (listeners_open(s, &old, s->lim.port, s->ls, &s->n_ls) < 0 ||
			    listeners_arm(s) < 0)
				ib_err("tftp: old listeners lost too; not serving");
			settings_done(&st, opts->n_trusted, opts->cfg->n_listen);
			return r;
		}
	}
	settings_apply(s, opts, &st);
	if (relisten) {
		memcpy(s->ls, ls, sizeof(ls));
		s->n_ls = n_ls;
		if (listeners_arm(s) < 0)
			ib_err("tftp: cannot watch listeners; not serving");
	}
	ib_info("tftp: reconfigured (root %s, port %u)",
		opts->cfg->root ? opts->cfg->root : "/", s->lim.port);
	return 0;
}

size_t ib_tftp_server_active(const struct ib_tftp_server *s)
{
	return s->n_conns;
}
