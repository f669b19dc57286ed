/*
 * libFuzzer target for the REST API's inventory writes: the JSON bodies of
 * POST /api/v1/<kind>, PUT and DELETE /api/v1/<kind>/<name>, through the
 * real evhttp shell (http_harness.h): the body's parsing and key checks
 * (http_api_inventory.c), the store transaction and the loader that must
 * accept file + objects as a whole before anything is committed
 * (ib_inventory_apply, ib_config_load_text_with), and the swap.
 *
 * Input: up to four writes separated by NUL bytes, each one byte of
 * method and kind (bits 0-1: profiles, groups, machines, machines; bits
 * 2-3: PUT, POST, DELETE, PUT; bits 4-5 both set: no token; the seeds set
 * bit 6 so the byte is never a NUL), the object's name up to a newline
 * (percent-encoded into the URL), and the body.
 *
 * Properties: a write answers one of the statuses the API documents,
 * never a 500; a refused write changes no listing (profiles, groups,
 * machines); an accepted PUT or POST is served at once (GET of the object
 * gives it, from the API) and a deleted object is gone; after a change,
 * the machine's (or a known and an unknown machine's) iPXE script and
 * install config still render or are refused with a reason, never a 500.
 * Any broken property aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_harness.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define WRITES_MAX 4
#define NAME_MAX_ENC 600		/* bytes of an encoded name in the URL */
#define REQ_MAX (1u << 17)		/* bytes of one built request */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kinds[] = { "profiles", "groups", "machines", "machines" };
static const char *const methods[] = { "PUT", "POST", "DELETE", "PUT" };

/* The listings of the file's snapshot, taken once. */
static char *listing_file[3];

/* One request; returns the reply (storage of the harness). */
static void call(const char *method, const char *path, bool token, const uint8_t *body,
		 size_t body_len, struct fuzz_http_reply *ret)
{
	static char req[REQ_MAX];
	int n;

	if (body_len > REQ_MAX - 1024)
		body_len = REQ_MAX - 1024;
	n = snprintf(req, 1024, "%s %s HTTP/1.1\r\nHost: fuzz\r\n%s"
		     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n", method, path,
		     token ? "Authorization: Bearer " FUZZ_HTTP_TOKEN "\r\n" : "", body_len);
	CHECK(n > 0 && n < 1024);
	if (body_len)
		memcpy(req + n, body, body_len);
	fuzz_http_exchange(req, (size_t)n + body_len, ret);
	fuzz_http_check_reply(req, (size_t)n + body_len, ret);
}

/* The body of GET path (a new string), or NULL if not 200. */
static char *get(const char *path)
{
	struct fuzz_http_reply r;

	call("GET", path, true, NULL, 0, &r);
	return r.status == 200 && r.body ? strdup(r.body) : NULL;
}

static void listings(char *ret[3])
{
	char path[64];

	for (int k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "/api/v1/%s", kinds[k]);
		CHECK((ret[k] = get(path)) != NULL);
	}
}

static void listings_free(char *l[3])
{
	for (int k = 0; k < 3; k++)
		free(l[k]);
}

/* Percent-encodes p[0..len) (all but unreserved bytes) into out. */
static void encode(const uint8_t *p, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < cap; i++) {
		uint8_t b = p[i];

		if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
		    (b >= '0' && b <= '9') || b == '-' || b == '.' || b == '_' || b == '~' ||
		    b == ':') {
			out[o++] = (char)b;
		} else {
			out[o++] = '%';
			out[o++] = hex[b >> 4];
			out[o++] = hex[b & 15];
		}
	}
	out[o] = '\0';
}

static bool allowed(int status, bool token)
{
	/* 405: a name of "." or "" addresses the collection itself (RFC 3986
	 * removes the dot segment), where PUT and DELETE are not allowed */
	static const int ok[] = { 200, 201, 204, 400, 403, 404, 405, 409, 413, 422 };

	if (!token)	/* refused before the body is read, or not routed */
		return status == 401 || status == 400 || status == 403 || status == 404;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (status == ok[i])
			return true;
	return false;
}

/* The script and a config of a machine still render or say why not. */
static void check_renders(const char *mac)
{
	struct fuzz_http_reply r;
	char path[128];

	snprintf(path, sizeof(path), "/boot.ipxe?mac=%s&arch=x86_64&platform=efi", mac);
	call("GET", path, false, NULL, 0, &r);
	CHECK(r.status == 200 || r.status == 422);
	if (r.status == 200)
		CHECK(r.body && strncmp(r.body, "#!ipxe\n", 7) == 0);
	snprintf(path, sizeof(path), "/configs/ks?mac=%s", mac);
	call("GET", path, false, NULL, 0, &r);
	CHECK(r.status == 200 || r.status == 404 || r.status == 422);
}

/* One write: hdr, name[0..name_len), body[0..body_len). */
static void write_one(uint8_t hdr, const uint8_t *name, size_t name_len,
		      const uint8_t *body, size_t body_len)
{
	int kind = hdr & 3, method = (hdr >> 2) & 3;
	bool token = ((hdr >> 4) & 3) != 3, post = method == 1, del = method == 2;
	char enc[NAME_MAX_ENC], path[NAME_MAX_ENC + 64], *before[3], *after[3], *obj;
	struct fuzz_http_reply r;
	const char *loc;

	encode(name, name_len, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/v1/%s%s%s", kinds[kind], post ? "" : "/",
		 post ? "" : enc);
	if (fuzz_http_written())
		listings(before);
	else
		memcpy(before, listing_file, sizeof(before));
	call(methods[method], path, token, del ? NULL : body, del ? 0 : body_len, &r);
	/* a 500 got past fuzz_http_check_reply() only as a known issue */
	CHECK(allowed(r.status, token) || r.status == 500);
	if (r.status >= 300) {
		/* refused: nothing stored, nothing served differently */
		listings(after);
		for (int k = 0; k < 3; k++)
			CHECK(strcmp(before[k], after[k]) == 0);
		listings_free(after);
	} else if (del) {
		CHECK(r.status == 204);
		obj = get(path);
		CHECK(obj == NULL);
	} else {
		CHECK(r.status == (post ? 201 : r.status));
		if (post) {
			loc = strstr(r.buf, "\r\nLocation: ");
			CHECK(loc && loc < r.body);
			CHECK(sscanf(loc + 12, "%600[^\r]", path) == 1);
		}
		obj = get(path);
		CHECK(obj && strstr(obj, "\"source\":\"api\""));
		free(obj);
	}
	if (before[0] != listing_file[0])
		listings_free(before);
	if (r.status >= 300)
		return;		/* nothing changed: the renders are the file's */
	check_renders(kind >= 2 && !del && !post ? enc : "52:54:00:00:00:10");
	check_renders("52:54:00:00:00:99");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;

	fuzz_http_init();
	if (!listing_file[0])
		listings(listing_file);
	for (int i = 0; i < WRITES_MAX && p < end; i++) {
		const uint8_t *rec_end = memchr(p, '\0', (size_t)(end - p));
		const uint8_t *nl;
		uint8_t hdr = *p++;

		if (!rec_end)
			rec_end = end;
		if (p > rec_end)
			p = rec_end;
		nl = memchr(p, '\n', (size_t)(rec_end - p));
		if (!nl)
			nl = rec_end;
		write_one(hdr, p, (size_t)(nl - p), nl < rec_end ? nl + 1 : rec_end,
			  (size_t)(rec_end - (nl < rec_end ? nl + 1 : rec_end)));
		p = rec_end < end ? rec_end + 1 : end;
	}
	fuzz_http_reset();
	return 0;
}
