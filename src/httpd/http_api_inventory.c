/*
 * Writes of the REST API: create, replace and delete the profiles, groups
 * and machines the API keeps in the store.
 *
 *   POST   /api/v1/<kind>           create; the body names it ("name", or
 *                                   "mac" for machines); 409 if it exists
 *   PUT    /api/v1/<kind>/<name>    create or replace (201 or 200)
 *   DELETE /api/v1/<kind>/<name>    204
 *
 * A body is the object as it would stand in the config file's list, in
 * JSON.  The daemon stores it and rebuilds the snapshot from the file and
 * every stored object; a change that does not validate as a whole (an
 * unknown profile, a second catch-all group, a template name outside
 * http.templates, a kernel path outside http.assets) is refused with 422
 * and the loader's reason, and nothing is stored.  Objects defined in
 * the config file are changed there, not here (409).
 *
 * Writes need a bearer token: without http.api_token_file they are
 * refused (403) even though reads are open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/util.h"
#include "httpd/http_server_int.h"
#include "inventory/inventory_json.h"

#define KEY_LEN 80		/* a name (at most 64 bytes) or a MAC, and NUL */

/* The key field of an object of kind: what its URL names. */
static const char *key_field(enum ib_config_kind kind)
{
	return kind == IB_CONFIG_MACHINES || kind == IB_CONFIG_BMCS ? "mac" : "name";
}

/* Normal form of a key: a machine's MAC as aa:bb:cc:dd:ee:ff, a name as
 * it is (the loader checks its characters).  -EINVAL if unusable. */
static int normal_key(enum ib_config_kind kind, const char *s, char out[KEY_LEN])
{
	uint8_t mac[6];

	if (kind == IB_CONFIG_MACHINES || kind == IB_CONFIG_BMCS) {
		if (ib_mac_parse(s, mac) < 0)
			return -EINVAL;
		ib_mac_format(mac, 6, out, IB_MAC_STRLEN);
		return 0;
	}
	if (!s[0] || strlen(s) >= KEY_LEN)
		return -EINVAL;	/* the loader refuses other bad names */
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			return -EINVAL;	/* names are printable ASCII (and JSON strings) */
	strcpy(out, s);
	return 0;
}

/* The request body as a JSON object, or NULL with the reply sent. */
static json_t *read_body(struct ib_http_req *rq)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(rq->req);
	size_t len = evbuffer_get_length(in);
	char msg[256];
	json_error_t jerr;
	json_t *v;

	if (len > IB_INVENTORY_BODY_MAX) {
		ib_httpd_error(rq, 413, "the body is larger than 1 MiB");
		return NULL;
	}
	v = json_loadb((const char *)evbuffer_pullup(in, -1), len, JSON_REJECT_DUPLICATES,
		       &jerr);
	if (!v) {
		snprintf(msg, sizeof(msg), "the body is not JSON: %d:%d: %s", jerr.line,
			 jerr.column, jerr.text);
		ib_httpd_error(rq, 400, msg);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		ib_httpd_error(rq, 400, "the body must be a JSON object");
		return NULL;
	}
	return v;
}

/*
 * Settles the object's key between the URL (arg, NULL for POST) and the
 * body, writing the normal form into key and into the body.  Returns 0,
 * or -EINVAL with the reply sent.
 */
static int settle_key(struct ib_http_req *rq, enum ib_config_kind kind, const char *arg,
		      json_t *body, char key[KEY_LEN])
{
	const char *field = key_field(kind);
	json_t *given = json_object_get(body, field);
	char in_body[KEY_LEN];
	char msg[128];

	if (given && (!json_is_string(given) ||
		      normal_key(kind, json_string_value(given), in_body) < 0)) {
		snprintf(msg, sizeof(msg), "\"%s\" must be %s", field,
			 !strcmp(field, "mac") ? "a MAC address" : "a non-empty name");
		ib_httpd_error(rq, 400, msg);
		return -EINVAL;
	}
	if (!arg && !given) {
		snprintf(msg, sizeof(msg), "the body needs \"%s\"", field);
		ib_httpd_error(rq, 400, msg);
		return -EINVAL;
	}
	if (arg && normal_key(kind, arg, key) < 0) {
		ib_httpd_error(rq, 400, !strcmp(field, "mac") ?
			       "the URL does not name a MAC address" :
			       "the URL does not name an object");
		return -EINVAL;
	}
	if (arg && given && strcmp(key, in_body) != 0) {
		snprintf(msg, sizeof(msg), "\"%s\" in the body differs from the URL", field);
		ib_httpd_error(rq, 400, msg);
		return -EINVAL;
	}
	if (!arg)
		strcpy(key, in_body);
	if (json_object_set_new(body, field, json_string(key)) < 0) {
		ib_httpd_error(rq, 500, "out of memory");
		return -EINVAL;
	}
	return 0;
}

/* Hands the change to the daemon and answers with its outcome. */
static void apply(struct ib_http_req *rq, const struct ib_inventory_change *c, int ok_status)
{
	char err[IB_CONFIG_ERRLEN] = "", loc[256];
	bool created = false;
	json_t *obj;
	int r;

	/* the snapshot swap this makes rereads no token file: that is SIGHUP's */
	rq->srv->keep_token = true;
	r = rq->srv->inventory(rq->srv->inventory_ctx, c, &created, err);
	rq->srv->keep_token = false;
	if (r == -EINVAL) {
		ib_httpd_error(rq, 422, err[0] ? err : "the inventory would not validate");
		return;
	}
	if (r == -ENOENT) {
		ib_httpd_error(rq, 404, "no such object");
		return;
	}
	if (r < 0) {
		ib_httpd_error(rq, 500, err[0] ? err : strerror(-r));
		return;
	}
	if (!c->json) {
		ib_httpd_send(rq, 204, 0);
		return;
	}
	/* the snapshot has been swapped: answer from the new one */
	obj = ib_inventory_object_json(rq->srv->cfg, c->kind, c->name);
	if (created) {
		snprintf(loc, sizeof(loc), "/api/v1/%s/%s", ib_config_kind_name(c->kind), c->name);
		ib_httpd_header(rq, "Location", loc);
	}
	ib_httpd_json(rq, created ? 201 : ok_status, obj ? obj : json_object());
}

void ib_httpd_api_write(struct ib_http_req *rq, enum ib_config_kind kind, const char *arg)
{
	struct ib_inventory_change c = { .kind = kind };
	char key[KEY_LEN];
	json_t *body = NULL;
	int found;

	if (!rq->srv->token.set) {
		ib_httpd_error(rq, 403, "API writes need http.api_token_file");
		return;
	}
	if (!rq->srv->inventory) {
		ib_httpd_error(rq, 503, "the inventory cannot be written here");
		return;
	}
	if (rq->method == EVHTTP_REQ_DELETE) {
		if (normal_key(kind, arg, key) < 0) {
			ib_httpd_error(rq, 404, "no such object");
			return;
		}
	} else if (!(body = read_body(rq)) || settle_key(rq, kind, arg, body, key) < 0) {
		json_decref(body);
		return;
	}
	found = ib_inventory_lookup(rq->srv->cfg, kind, key);
	if (found == 0) {
		ib_httpd_error(rq, 409, "defined in the config file: change it there");
	} else if (found == 1 && rq->method == EVHTTP_REQ_POST) {
		ib_httpd_error(rq, 409, "exists already: PUT replaces it");
	} else {
		/* A DELETE of an object the snapshot does not serve still goes
		 * to the store: a stored object the loader refused can only be
		 * removed this way (-ENOENT there answers 404). */
		c.name = key;
		if (body && !(c.json = json_dumps(body, JSON_COMPACT)))
			ib_httpd_error(rq, 500, "out of memory");
		else
			apply(rq, &c, 200);
		free((char *)c.json);
	}
	json_decref(body);
}
