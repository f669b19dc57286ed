/*
 * The daemon's local control socket: state_dir/ironbootd.sock, an AF_UNIX
 * stream socket, mode 0600, served by an evhttp of its own with the same
 * routes as the network listeners.  Reaching it takes the state
 * directory's owner (the daemon's user) or root, who owns the store
 * anyway, so a request that arrives here is the operator's: it reads the
 * API without the token and may end a lease (POST
 * /api/v1/leases/ADDR/release) even when the daemon runs without
 * http.api_token_file.  That is how `ironboot leases release` reaches a
 * running daemon without a token (issue #11, item 9).  Other writes still
 * need the token.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/http.h>

#include "common/log.h"
#include "httpd/http_server_int.h"

/* The control socket's path for state_dir; -ENAMETOOLONG past sun_path. */
int ib_http_control_path(const char *state_dir, char *out, size_t len)
{
	struct sockaddr_un sun;
	int n = snprintf(out, len, "%s/" IB_HTTP_CONTROL_NAME, state_dir);

	return n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sun.sun_path) ?
	       -ENAMETOOLONG : 0;
}

/* Binds path (a stale socket of an earlier run goes first: the state
 * directory's lock says no other daemon uses it) and listens, 0600. */
static int bind_control(const char *path, int *ret)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;
	mode_t mask;

	if (fd < 0)
		return -errno;
	strcpy(sun.sun_path, path);
	if (unlink(path) < 0 && errno != ENOENT)
		goto fail;
	/* created 0600 by bind itself: a chmod after it would leave a window
	 * in which the umask's mode lets others connect */
	mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (r < 0 || listen(fd, 64) < 0)
		goto fail;
	*ret = fd;
	return 0;
fail:
	r = -errno;
	close(fd);
	return r;
}

int ib_httpd_control_open(struct ib_http_server *srv, const char *state_dir)
{
	int fd = -1, r;

	if ((r = ib_http_control_path(state_dir, srv->control_path,
				      sizeof(srv->control_path))) < 0 ||
	    (r = bind_control(srv->control_path, &fd)) < 0) {
		ib_warn("http: no control socket %s/" IB_HTTP_CONTROL_NAME " (%s): `ironboot "
			"leases release` needs http.api_token_file to reach this daemon",
			state_dir, strerror(-r));
		srv->control_path[0] = '\0';
		return r;
	}
	if (!(srv->control = evhttp_new(srv->base)) ||
	    !evhttp_accept_socket_with_handle(srv->control, fd)) {
		close(fd);
		ib_httpd_control_close(srv);
		return -ENOMEM;
	}
	ib_httpd_evhttp_setup(srv->control, ib_httpd_on_local_request, srv);
	return 0;
}

void ib_httpd_control_close(struct ib_http_server *srv)
{
	if (srv->control)
		evhttp_free(srv->control);
	srv->control = NULL;
	if (srv->control_path[0])
		unlink(srv->control_path);
	srv->control_path[0] = '\0';
}
