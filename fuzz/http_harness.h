/*
 * An ironboot HTTP service inside a fuzz target: the real evhttp shell
 * (http_server.c, http_assets.c, http_api.c, http_api_inventory.c) with a
 * SQLite store and journal in a private directory (under /dev/shm when it
 * exists), assets, templates and an API token of its own, and an inventory
 * writer that swaps snapshots as the daemon does.  Requests reach it over
 * an abstract AF_UNIX listener added to the server's evhttp, so a run
 * neither depends on nor disturbs the network: the TCP listener the config
 * needs is bound to a loopback address of this process's own (127.x.y.z
 * from its pid) and never used.
 *
 * With FUZZ_HTTP_DEBUG set in the environment, every exchange is printed
 * to stderr and the service logs at debug level.
 *
 * Shared by fuzz_http_request.c and fuzz_api_body.c.
 */
#ifndef IB_FUZZ_HTTP_HARNESS_H
#define IB_FUZZ_HTTP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#define FUZZ_HTTP_TOKEN "fuzz-token"	/* the API bearer token */
#define FUZZ_HTTP_REPLY_MAX (1u << 20)	/* bytes of replies kept per exchange */

/* What came back on one connection. */
struct fuzz_http_reply {
	char *buf;			/* the bytes, NUL-terminated (static storage) */
	size_t len;			/* bytes in buf */
	int status;			/* of the first response, 0 if none */
	const char *body;		/* the first response's body, or NULL */
};

/* Starts the service once; aborts if it cannot. */
void fuzz_http_init(void);

/*
 * Sends req[0..len) on a new connection, half-closes it, and runs the
 * loop until the server closes it; aborts if the server neither answers
 * nor closes within 10 seconds.  *ret points into storage reused by the
 * next call.
 */
void fuzz_http_exchange(const void *req, size_t len, struct fuzz_http_reply *ret);

/*
 * After each input: drops every inventory object the API stored (back to
 * the file's snapshot) if any write succeeded, and prunes the journal now
 * and then.  Keeps inputs independent of the ones before them.
 */
void fuzz_http_reset(void);

/* Whether an API write was applied since the last reset. */
bool fuzz_http_written(void);

/*
 * Aborts if reply r to request req[0..len) is not HTTP, is a 500 (a
 * failure of ours, or a request the dispatcher left unanswered), or
 * shows /etc/passwd (a request path that escaped the assets directory).
 */
void fuzz_http_check_reply(const void *req, size_t len, const struct fuzz_http_reply *r);

/* The per-machine token of MAC mac (normal form), as the agent gets it
 * on its kernel command line: 32 hex digits and a NUL. */
void fuzz_http_machine_token(const char *mac, char ret[33]);

#endif
