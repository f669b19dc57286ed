/* The agent's HTTP client over a socket: see agent_http.h. */
#include "agent/agent_http.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64u << 10)	/* bytes per read() */

/* Waits for events on fd; 0, or -ETIMEDOUT. */
static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int connect_to(const struct ib_agent_url *u, int timeout_ms)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, r, err = 0, one = 1;
	socklen_t el = sizeof(err);

	if (u->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(u->port);
		memcpy(&s6->sin6_addr, u->addr, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(u->port);
		memcpy(&s4->sin_addr, u->addr, 4);
		sl = sizeof(*s4);
	}
	fd = socket(u->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		if (errno != EINPROGRESS) {
			r = -errno;
			goto err;
		}
		r = wait_fd(fd, POLLOUT, timeout_ms);
		if (r < 0)
			goto err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			r = err ? -err : -errno;
			goto err;
		}
	}
	return fd;
err:
	close(fd);
	return r;
}

static int send_all(int fd, const char *p, size_t n, int timeout_ms)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			int r;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			r = wait_fd(fd, POLLOUT, timeout_ms);
			if (r < 0)
				return r;
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_request(int fd, const struct ib_agent_http_call *c)
{
	char head[IB_AGENT_URL_MAX + 1024], hostport[IB_AGENT_HOST_MAX + 8];
	struct ib_agent_http_req_head h = {
		.method = c->method, .target = c->url->target, .hostport = hostport,
		.token = c->token, .content_type = c->body ? "application/json" : NULL,
		.body_len = c->body_len,
	};
	int n, r;

	ib_agent_url_hostport(c->url, hostport, sizeof(hostport));
	n = ib_agent_http_req_format(&h, head, sizeof(head));
	if (n < 0)
		return n;
	r = send_all(fd, head, (size_t)n, c->timeout_ms);
	if (r == 0 && c->body)
		r = send_all(fd, c->body, c->body_len, c->timeout_ms);
	return r;
}

/* Between the parser and the caller: on_head before the first body byte. */
struct relay {
	const struct ib_agent_http_call *c;	/* the caller's callbacks */
	const struct ib_agent_http_resp *resp;	/* status and framing */
	bool headed;				/* on_head was called */
};

static int relay_head(struct relay *rl)
{
	if (rl->headed)
		return 0;
	rl->headed = true;
	return rl->c->on_head ? rl->c->on_head(rl->c->ctx, rl->resp) : 0;
}

static int relay_body(void *ctx, const uint8_t *p, size_t n)
{
	struct relay *rl = ctx;
	int r = relay_head(rl);

	if (r < 0)
		return r;
	return rl->c->on_body ? rl->c->on_body(rl->c->ctx, p, n) : 0;
}

static int read_response(int fd, const struct ib_agent_http_call *c,
			 struct ib_agent_http_resp *resp)
{
	struct relay rl = { .c = c, .resp = resp };
	uint8_t *buf = malloc(READ_CHUNK);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	ib_agent_http_resp_init(resp, strcmp(c->method, "HEAD") == 0, relay_body, &rl);
	for (;;) {
		size_t used;
		ssize_t n = read(fd, buf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				r = -errno;
				break;
			}
			r = wait_fd(fd, POLLIN, c->timeout_ms);
			if (r < 0)
				break;
			continue;
		}
		if (n == 0) {
			r = ib_agent_http_resp_eof(resp);
			break;
		}
		r = ib_agent_http_resp_feed(resp, buf, (size_t)n, &used);
		if (r != 0)
			break;
	}
	free(buf);
	if (r > 0)		/* complete; a response without a body too */
		r = relay_head(&rl);
	return r < 0 ? r : 0;
}

int ib_agent_http_call(const struct ib_agent_http_call *c, int *ret_status)
{
	struct ib_agent_http_resp *resp = malloc(sizeof(*resp));
	int fd, r;

	if (!resp)
		return -ENOMEM;
	fd = connect_to(c->url, c->timeout_ms);
	if (fd < 0) {
		free(resp);
		return fd;
	}
	r = send_request(fd, c);
	if (r == 0)
		r = read_response(fd, c, resp);
	if (r == 0)
		*ret_status = resp->status;
	close(fd);
	free(resp);
	return r;
}

/* Collects a body into a growing buffer. */
struct collect {
	char *buf;		/* NUL-terminated so far */
	size_t len;		/* bytes in buf */
	size_t cap;		/* the caller's cap */
};

static int collect_cb(void *ctx, const uint8_t *p, size_t n)
{
	struct collect *c = ctx;
	char *nb;

	if (c->len + n > c->cap)
		return -EFBIG;
	nb = realloc(c->buf, c->len + n + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + c->len, p, n);
	c->len += n;
	nb[c->len] = '\0';
	c->buf = nb;
	return 0;
}

int ib_agent_http_fetch(const struct ib_agent_http_call *c, size_t cap,
			int *ret_status, char **ret_body, size_t *ret_len)
{
	struct ib_agent_http_call call = *c;
	struct collect col = { .buf = calloc(1, 1), .cap = cap };
	int r;

	if (!col.buf)
		return -ENOMEM;
	call.on_body = collect_cb;
	call.ctx = &col;
	r = ib_agent_http_call(&call, ret_status);
	if (r < 0) {
		free(col.buf);
		return r;
	}
	*ret_body = col.buf;
	*ret_len = col.len;
	return 0;
}
