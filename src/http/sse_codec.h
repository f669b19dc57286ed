/*
 * A reader of server-sent events (text/event-stream, WHATWG HTML
 * "Server-sent events", 9.2.6 "Interpreting an event stream"), as
 * `ironboot events --follow` receives them from GET
 * /api/v1/events?follow=1.  A codec: bytes in, events out through a
 * callback; no I/O, no clock, no logging.
 *
 * The stream is fed in pieces of any size; lines end in LF, CR or CRLF
 * (a CR at the end of one piece and an LF at the start of the next are
 * one end).  Lines longer than IB_SSE_LINE_MAX fail the stream (-EMSGSIZE),
 * as do events whose data exceed IB_SSE_DATA_MAX: the state is bounded
 * whatever the server sends.  Comments (":...") and fields other than
 * data, id and event are skipped; "retry" is too, the caller has its own.
 */
#ifndef IB_HTTP_SSE_CODEC_H
#define IB_HTTP_SSE_CODEC_H

#include <stddef.h>

#define IB_SSE_LINE_MAX 8192		/* bytes of one line */
#define IB_SSE_DATA_MAX 16384		/* bytes of one event's data */
#define IB_SSE_ID_MAX 64		/* bytes of an id kept */
#define IB_SSE_EVENT_MAX 64		/* bytes of an event type kept */

/* One event, handed to the callback; valid during the call only. */
struct ib_sse_event {
	const char *type;		/* "message" unless an event: field said */
	const char *id;			/* the last event id (may be ""), as the
					 * spec carries it over from earlier events */
	const char *data;		/* data lines joined by "\n", NUL-terminated */
	size_t data_len;		/* bytes of data */
};

/* Called per event; a non-zero return stops ib_sse_feed(), which returns it. */
typedef int (*ib_sse_fn)(void *ctx, const struct ib_sse_event *e);

/* The reader's state between pieces. */
struct ib_sse {
	char line[IB_SSE_LINE_MAX + 1];	/* the line being read */
	size_t line_len;		/* its bytes so far */
	int skip_lf;			/* the last byte was CR: an LF next is its pair */
	int bom_done;			/* the optional U+FEFF at the start is past */
	char data[IB_SSE_DATA_MAX + 1];	/* the event's data so far */
	size_t data_len;
	int has_data;			/* a data field was seen */
	char id[IB_SSE_ID_MAX + 1];	/* the last event id */
	char type[IB_SSE_EVENT_MAX + 1]; /* the event's type, or "" */
};

/* An empty reader. */
void ib_sse_init(struct ib_sse *p);

/*
 * Reads len bytes of the stream, calling fn for each complete event.
 * Returns 0, -EMSGSIZE (a line or an event's data too long: the stream
 * cannot be read further), or fn's non-zero return.
 */
int ib_sse_feed(struct ib_sse *p, const char *buf, size_t len, ib_sse_fn fn, void *ctx);

#endif
