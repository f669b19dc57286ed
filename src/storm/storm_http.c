/*
 * The HTTP stages: the script iPXE was pointed at (its settings expanded
 * as iPXE does), then the kernel and initrds the script names, over one
 * keep-alive connection per server (RFC 9112 9.3) from the machine's
 * leased address, so the server's per-machine checks (ironboot's
 * machine_auth) see the machine.  Responses are read by the agent's
 * incremental parser (src/agent/agent_http_parse.c); the script's URLs by
 * storm_parse.c.  No progress for 30 s fails the stage.
 */
#include "storm/storm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"

#define IDLE_US 30000000u		/* no progress for this long fails */
#define READ_MAX (256 * 1024)		/* bytes read per recv */

/* Body bytes: the script is kept, the kernel and initrds only counted. */
static int on_body(void *ctx, const uint8_t *p, size_t n)
{
	struct ib_storm_machine *m = ctx;

	if (!m->script)
		return 0;
	if (m->script_len + n > IB_STORM_SCRIPT_MAX)
		return -E2BIG;
	memcpy(m->script + m->script_len, p, n);
	m->script_len += n;
	return 0;
}

/* Writes what is left of the request; false when m failed. */
static bool write_req(struct ib_storm *st, struct ib_storm_machine *m)
{
	while (m->req_off < m->req_len) {
		ssize_t w = send(m->fd, m->req + m->req_off, m->req_len - m->req_off, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return ib_storm_watch(st, m, m->fd, EPOLLIN | EPOLLOUT) == 0;
		if (w <= 0) {
			ib_storm_stage_fail(st, m, "http-send");
			return false;
		}
		m->req_off += (size_t)w;
	}
	if (ib_storm_watch(st, m, m->fd, EPOLLIN) < 0) {
		ib_storm_stage_fail(st, m, "epoll");
		return false;
	}
	return true;
}

/* Opens a connection to m->url from the machine's address. */
static int http_connect(struct ib_storm *st, struct ib_storm_machine *m)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(m->url->port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(m->url->port) };
	int fd, r;

	if (m->url->family != st->o.family)
		return -EAFNOSUPPORT;
	fd = socket(m->url->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = ib_storm_bind_lease(st, m, fd);
	if (r == 0) {
		memcpy(&a4.sin_addr, m->url->addr, 4);
		memcpy(&a6.sin6_addr, m->url->addr, 16);
		r = m->url->family == AF_INET ? connect(fd, (void *)&a4, sizeof(a4))
					      : connect(fd, (void *)&a6, sizeof(a6));
		r = r < 0 && errno != EINPROGRESS ? -errno : 0;
	}
	r = r ? r : ib_storm_watch(st, m, fd, EPOLLOUT | EPOLLIN);
	if (r < 0) {
		close(fd);
		return r;
	}
	memcpy(m->conn_addr, m->url->addr, 16);
	m->conn_port = m->url->port;
	m->connected = false;
	return 0;
}

/* Starts GET url (NUL-terminated) on m's connection or a new one. */
static void get(struct ib_storm *st, struct ib_storm_machine *m, const char *url)
{
	char hostport[IB_AGENT_HOST_MAX + 8];
	int r;

	if (!m->url)
		m->url = malloc(sizeof(*m->url));
	if (!m->resp)
		m->resp = malloc(sizeof(*m->resp));
	if (!m->url || !m->resp) {
		ib_storm_stage_fail(st, m, "no-memory");
		return;
	}
	if (ib_agent_url_parse(url, m->url) < 0) {
		ib_storm_stage_fail(st, m, "bad-url");
		return;
	}
	ib_agent_url_hostport(m->url, hostport, sizeof(hostport));
	free(m->req);
	m->req = NULL;
	r = asprintf(&m->req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: iPXE/1.21.1 "
		     "(ironboot-storm)\r\nConnection: keep-alive\r\n\r\n", m->url->target, hostport);
	if (r < 0) {
		m->req = NULL;
		ib_storm_stage_fail(st, m, "no-memory");
		return;
	}
	m->req_len = (size_t)r;
	m->req_off = 0;
	ib_agent_http_resp_init(m->resp, false, on_body, m);
	(void)ib_storm_timer(st, m, IDLE_US);
	/* keep-alive: the same server takes the next request on the same connection */
	if (m->fd >= 0 && m->connected && m->conn_port == m->url->port &&
	    memcmp(m->conn_addr, m->url->addr, 16) == 0) {
		(void)write_req(st, m);
		return;
	}
	ib_storm_close(st, m);
	r = http_connect(st, m);
	if (r < 0)
		ib_storm_stage_fail(st, m, "http-connect");
}

void ib_storm_http_start(struct ib_storm *st, struct ib_storm_machine *m)
{
	char url[IB_STORM_URL_MAX], mac[IB_MAC_STRLEN], uuid[40];
	const struct ib_storm_settings set = {
		.mac = mac, .uuid = uuid, .buildarch = "x86_64",
		.platform = st->o.arch == 0 ? "pcbios" : "efi", .hostname = "", .serial = "",
	};

	if (m->stage == IB_STORM_KERNEL) {
		m->fetch_i = 0;
		get(st, m, m->fetch->url[0]);
		return;
	}
	ib_mac_format(m->mac, 6, mac, sizeof(mac));
	snprintf(uuid, sizeof(uuid), "73746f72-6d2d-7575-6964-%02x%02x%02x%02x%02x%02x",
		 m->mac[0], m->mac[1], m->mac[2], m->mac[3], m->mac[4], m->mac[5]);
	m->script = malloc(IB_STORM_SCRIPT_MAX);
	m->script_len = 0;
	if (!m->script || !m->bootfile || ib_storm_expand(m->bootfile, &set, url, sizeof(url)) < 0) {
		ib_storm_stage_fail(st, m, m->script ? "bad-url" : "no-memory");
		return;
	}
	get(st, m, url);
}

/* The response is complete: the next URL, or the end of the stage. */
static void response_done(struct ib_storm *st, struct ib_storm_machine *m)
{
	int status = m->resp->status, r;

	st->s.st[m->stage].exchanges++;
	if (m->resp->conn_close)
		ib_storm_close(st, m);
	if (status != 200) {
		ib_storm_stage_fail(st, m, status == 403 ? "http-403" : status == 404 ? "http-404"
				    : status >= 500 ? "http-5xx" : "http-status");
		return;
	}
	if (m->stage == IB_STORM_SCRIPT) {
		m->fetch = malloc(sizeof(*m->fetch));
		r = m->fetch ? ib_storm_script_scan(m->script, m->script_len, m->fetch) : -ENOMEM;
		free(m->script);
		m->script = NULL;
		if (r < 0) {
			ib_storm_stage_fail(st, m, r == -ENOENT ? "script-no-kernel" : "script-bad");
			return;
		}
		ib_storm_stage_ok(st, m);
		return;
	}
	if (++m->fetch_i < m->fetch->n) {
		get(st, m, m->fetch->url[m->fetch_i]);
		return;
	}
	ib_storm_close(st, m);
	ib_storm_stage_ok(st, m);
}

/* Reads what the socket has; feeds the parser. */
static void readable(struct ib_storm *st, struct ib_storm_machine *m)
{
	for (;;) {
		ssize_t n = recv(m->fd, st->rbuf, READ_MAX, 0);
		size_t used;
		int r;

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			ib_storm_stage_fail(st, m, "http-reset");
			return;
		}
		if (n == 0) {
			r = ib_agent_http_resp_eof(m->resp);
			ib_storm_close(st, m);
			if (r == 1)
				response_done(st, m);
			else
				ib_storm_stage_fail(st, m, "http-closed");
			return;
		}
		(void)ib_storm_timer(st, m, IDLE_US);
		r = ib_agent_http_resp_feed(m->resp, st->rbuf, (size_t)n, &used);
		if (r < 0) {
			ib_storm_stage_fail(st, m, r == -E2BIG && m->script ? "script-too-big"
									  : "http-bad-response");
			return;
		}
		if (r == 1) {
			response_done(st, m);
			return;
		}
	}
}

void ib_storm_http_event(struct ib_storm *st, struct ib_storm_machine *m, uint32_t events)
{
	if (!m->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t l = sizeof(err);
		if (getsockopt(m->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err) {
			ib_storm_stage_fail(st, m, err == ECONNREFUSED ? "http-refused" : "http-connect");
			return;
		}
		m->connected = true;
	}
	if ((events & EPOLLOUT) && m->req_off < m->req_len && !write_req(st, m))
		return;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		readable(st, m);
}

void ib_storm_http_timeout(struct ib_storm *st, struct ib_storm_machine *m)
{
	ib_storm_stage_fail(st, m, "http-timeout");
}
