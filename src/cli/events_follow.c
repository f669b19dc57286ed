/*
 * ironboot events --follow against the running daemon: the listing, then
 * the live stream of GET /api/v1/events?follow=1 (src/httpd/http_follow.c),
 * read with the server-sent events codec (http/sse_codec.h).  The stream's
 * JSON events are turned back into struct ib_event, so the table and the
 * JSON lines print exactly as the local mode prints them.
 */
#include "cli/events_follow.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/inventory_cmd.h"
#include "http/sse_codec.h"

#define TOKEN_MAX 256			/* bytes of a bearer token */
#define RECONNECT_S 3			/* wait before following again */
#define STALL_S 35			/* no byte for this long (the daemon sends a
					 * comment every 10 s): reconnect */

/* One follow in progress. */
struct follow {
	ib_cli_event_fn fn;		/* the printer */
	void *ctx;			/* its context */
	int64_t last_id;		/* the newest id printed */
	int status;			/* fn's non-zero return, or 0 */
	struct ib_sse sse;		/* the stream's reader */
	struct ib_cli_reply list;	/* the listing being received */
};

/* Copies string member k of o into dst (cap bytes), "" when absent. */
static void member(json_t *o, const char *k, char *dst, size_t cap)
{
	const char *v = json_string_value(json_object_get(o, k));

	snprintf(dst, cap, "%s", v ? v : "");
}

/* One event of the API to fl->fn; of the stream (live), only one newer
 * than every event printed (the listing's are in time order, not ids'). */
static int take(struct follow *fl, json_t *o, bool live)
{
	struct ib_event e = { 0 };
	char *detail;

	if (!json_is_object(o))
		return 0;
	e.id = json_integer_value(json_object_get(o, "id"));
	if (live && e.id <= fl->last_id)
		return 0;
	e.ts_us = json_integer_value(json_object_get(o, "ts_us"));
	member(o, "mac", e.mac, sizeof(e.mac));
	member(o, "client_id", e.client_id, sizeof(e.client_id));
	member(o, "uuid", e.uuid, sizeof(e.uuid));
	member(o, "proto", e.proto, sizeof(e.proto));
	member(o, "kind", e.kind, sizeof(e.kind));
	detail = json_dumps(json_object_get(o, "detail"), JSON_COMPACT | JSON_PRESERVE_ORDER);
	snprintf(e.detail, sizeof(e.detail), "%s", detail ? detail : "{}");
	free(detail);
	if (e.id > fl->last_id)
		fl->last_id = e.id;
	return fl->fn(&e, fl->ctx);
}

static int on_sse(void *ctx, const struct ib_sse_event *ev)
{
	struct follow *fl = ctx;
	json_t *o = json_loadb(ev->data, ev->data_len, 0, NULL);
	int r;

	if (strcmp(ev->type, "gap") == 0) {
		/* the daemon's replay after a reconnect left events out */
		fprintf(stderr, "ironboot: events from id %" PRId64 " on were missed while"
			" reconnecting (list them: ironboot events)\n",
			(int64_t)json_integer_value(json_object_get(o, "first_skipped_id")));
		json_decref(o);
		return 0;
	}
	r = take(fl, o, true);

	json_decref(o);
	if (r)
		fl->status = r;
	return r;
}

static size_t on_stream(char *p, size_t size, size_t n, void *ctx)
{
	struct follow *fl = ctx;

	/* a stream we cannot read, or the printer said stop: end this one */
	return ib_sse_feed(&fl->sse, p, size * n, on_sse, fl) ? 0 : size * n;
}

/* A handle for url with the token and CA; hdrs receives the list to free. */
static CURL *handle(const struct ib_cli_api *api, const char *url, const char *token,
		    struct curl_slist **hdrs)
{
	char auth[TOKEN_MAX + 32];
	CURL *h = curl_easy_init();

	if (!h)
		return NULL;
	if (token[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		*hdrs = curl_slist_append(*hdrs, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
	if (api->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, api->cacert);
	return h;
}

/* GET url; 0 and the HTTP status in *ret_status, or -EIO (said why). */
static int get(CURL *h, const char *url, long *ret_status)
{
	CURLcode rc = curl_easy_perform(h);

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, ret_status);
	if (rc == CURLE_COULDNT_CONNECT)
		return -ECONNREFUSED;	/* no daemon there: the caller says what next */
	if (rc != CURLE_OK && *ret_status == 0) {
		fprintf(stderr, "ironboot: GET %s: %s\n", url, curl_easy_strerror(rc));
		return -EIO;
	}
	return 0;
}

/* The listing: the newest `limit` events, printed; 0, or the exit status. */
static int list(const struct ib_cli_api *api, const char *query, size_t limit,
		const char *token, struct follow *fl)
{
	struct curl_slist *hdrs = NULL;
	char url[1024];
	long status = 0;
	json_t *a, *o;
	size_t i;
	int r;
	CURL *h;

	snprintf(url, sizeof(url), "%s/api/v1/events?limit=%zu%s", api->base, limit, query);
	if (!(h = handle(api, url, token, &hdrs)))
		return 1;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ib_cli_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &fl->list);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	r = get(h, url, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (r == -ECONNREFUSED) {
		free(fl->list.buf);
		fl->list = (struct ib_cli_reply){ 0 };
		return IB_CLI_FOLLOW_NO_DAEMON;
	}
	if (r == 0 && status != 200)
		fprintf(stderr, "ironboot: GET %s: HTTP %ld: %s", url, status,
			fl->list.buf ? fl->list.buf : "\n");
	a = r == 0 && status == 200 ? json_loads(fl->list.buf ? fl->list.buf : "", 0, NULL) : NULL;
	free(fl->list.buf);
	fl->list = (struct ib_cli_reply){ 0 };
	if (!json_is_array(a)) {
		json_decref(a);
		return 1;
	}
	json_array_foreach(a, i, o)
		if ((r = take(fl, o, false)) != 0)
			break;
	json_decref(a);
	return r;
}

/* One stream, until it ends: 0 (ended or broke: follow again), or the
 * exit status (refused, or the printer stopped). */
static int stream(const struct ib_cli_api *api, const char *query, const char *token,
		  struct follow *fl)
{
	struct curl_slist *hdrs = NULL;
	char url[1024], last[64];
	long status = 0;
	CURL *h;

	snprintf(url, sizeof(url), "%s/api/v1/events?follow=1%s", api->base, query);
	snprintf(last, sizeof(last), "Last-Event-ID: %" PRId64, fl->last_id);
	hdrs = curl_slist_append(hdrs, last);
	if (!(h = handle(api, url, token, &hdrs))) {
		curl_slist_free_all(hdrs);
		return 1;
	}
	ib_sse_init(&fl->sse);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, fl);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)STALL_S);
	if (get(h, url, &status) == -ECONNREFUSED)
		fprintf(stderr, "ironboot: GET %s: no daemon answers; trying again\n", url);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (fl->status)
		return fl->status;
	if (status >= 400 && status < 500 && status != 429) {
		fprintf(stderr, "ironboot: GET %s: HTTP %ld\n", url, status);
		return 1;
	}
	return 0;
}

int ib_cli_events_follow(const struct ib_cli_api *api, const char *mac, size_t limit,
			 ib_cli_event_fn fn, void *ctx)
{
	struct follow *fl = calloc(1, sizeof(*fl));	/* the reader: ~24 KiB */
	char token[TOKEN_MAX] = "", query[64] = "";
	int r;

	if (!fl)
		return 1;
	fl->fn = fn;
	fl->ctx = ctx;
	if (api->token_file && ib_cli_read_token(api->token_file, token, sizeof(token)) < 0) {
		fprintf(stderr, "ironboot: cannot read the API token from %s\n", api->token_file);
		free(fl);
		return 1;
	}
	if (mac)
		snprintf(query, sizeof(query), "&mac=%s", mac);
	r = list(api, query, limit ? limit : 1000, token, fl);
	while (r == 0) {
		fflush(stdout);
		if ((r = stream(api, query, token, fl)) == 0)
			sleep(RECONNECT_S);
	}
	explicit_bzero(token, sizeof(token));
	free(fl);
	return r;
}
