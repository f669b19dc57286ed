/* ironboot events --follow through the daemon's API (events_follow.c). */
#ifndef IB_CLI_EVENTS_FOLLOW_H
#define IB_CLI_EVENTS_FOLLOW_H

#include <stdint.h>

#include "store/store.h"

/* The daemon's API: where and with what. */
struct ib_cli_api {
	const char *base;		/* "http://host:port" */
	const char *token_file;		/* or NULL */
	const char *cacert;		/* a private CA for HTTPS, or NULL */
};

/* ib_cli_events_follow(): nothing answers at the API's address (no
 * daemon runs there); nothing was printed. */
#define IB_CLI_FOLLOW_NO_DAEMON (-1)

/* Called per event, in order; non-zero stops the follow with that status. */
typedef int (*ib_cli_event_fn)(const struct ib_event *e, void *ctx);

/*
 * Prints through fn the newest `limit` events (of mac, or all machines
 * when mac is NULL) from GET /api/v1/events, then follows
 * GET /api/v1/events?follow=1 (server-sent events) until killed,
 * reconnecting with Last-Event-ID when the stream ends, so no event is
 * printed twice or missed while the journal keeps it.  Returns the exit
 * status: 1 when the API refuses (a missing or wrong token, 4xx), or
 * IB_CLI_FOLLOW_NO_DAEMON when the first connection finds nobody.
 */
int ib_cli_events_follow(const struct ib_cli_api *api, const char *mac, size_t limit,
			 ib_cli_event_fn fn, void *ctx);

#endif
