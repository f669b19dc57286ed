/*
 * ironboot profiles|groups|machines: the inventory, as the REST API has it.
 *
 *   ironboot [--json] KIND [list]               the snapshot's objects
 *   ironboot KIND show NAME                     one object (JSON)
 *   ironboot KIND put NAME FILE|-               create or replace (API PUT)
 *   ironboot KIND create FILE|-                 create (API POST)
 *   ironboot KIND delete NAME                   delete (API DELETE)
 *
 * Reads come from the config file and the store, like the daemon's own
 * snapshot.  Writes go through the running daemon's REST API, so it
 * validates them, stores them and serves them at once: the base URL is
 * http.base_url (or --api URL), the token http.api_token_file (or
 * --token-file F); --cacert F trusts a private CA for HTTPS.
 */
#include "cli/inventory_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/util.h"
#include "inventory/inventory_json.h"

#define TOKEN_MAX 256		/* bytes of a bearer token */
#define REPLY_MAX (4u << 20)	/* bytes of an API answer kept */

/* Where API writes go. */
struct api_target {
	const char *base;		/* "http://host:port" */
	const char *token_file;		/* or NULL */
	const char *cacert;		/* or NULL */
	const char *unix_path;		/* the daemon's control socket, or NULL: TCP */
};

size_t ib_cli_collect(char *p, size_t size, size_t n, void *ctx)
{
	struct ib_cli_reply *rp = ctx;
	size_t add = size * n;
	char *nb;

	if (rp->len + add > REPLY_MAX || !(nb = realloc(rp->buf, rp->len + add + 1)))
		return 0;
	memcpy(nb + rp->len, p, add);
	rp->buf = nb;
	rp->len += add;
	rp->buf[rp->len] = '\0';
	return add;
}

int ib_cli_read_token(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(out, 1, cap - 1, f);
	fclose(f);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return n ? 0 : -EINVAL;
}

/* Reads FILE (or stdin for "-") whole. */
static char *read_input(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	struct ib_cli_reply rp = { 0 };
	char chunk[8192];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (ib_cli_collect(chunk, 1, n, &rp) != n) {
			free(rp.buf);
			rp.buf = NULL;
			break;
		}
	if (f != stdin)
		fclose(f);
	return rp.buf ? rp.buf : strdup("");
}

/* Sends method to /api/v1/<path> with body (or NULL); prints the answer.
 * Returns the exit status: 0 for a 2xx answer, 1 otherwise. */
static int api_call(const struct api_target *t, const char *method, const char *path,
		    const char *body)
{
	char url[1024], auth[TOKEN_MAX + 32], token[TOKEN_MAX] = "";
	struct curl_slist *hdrs = NULL;
	struct ib_cli_reply rp = { 0 };
	long status = 0;
	CURLcode rc;
	CURL *h;

	if (t->token_file && ib_cli_read_token(t->token_file, token, sizeof(token)) < 0) {
		fprintf(stderr, "ironboot: cannot read the API token from %s\n", t->token_file);
		return 1;
	}
	if (!(h = curl_easy_init()))
		return 1;
	snprintf(url, sizeof(url), "%s/api/v1/%s", t->base, path);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (t->token_file) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, ib_cli_collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &rp);
	/* a power operation is answered when the BMC has: its deadline */
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L);
	if (body)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	if (t->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, t->cacert);
	if (t->unix_path)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, t->unix_path);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	explicit_bzero(token, sizeof(token));
	if (rc != CURLE_OK) {
		fprintf(stderr, "ironboot: %s %s: %s\n", method, url, curl_easy_strerror(rc));
		free(rp.buf);
		return 1;
	}
	if (rp.len)
		fprintf(status / 100 == 2 ? stdout : stderr, "%s%s", rp.buf,
			rp.buf[rp.len - 1] == '\n' ? "" : "\n");
	if (status / 100 != 2)
		fprintf(stderr, "ironboot: %s %s: HTTP %ld\n", method, url, status);
	free(rp.buf);
	return status / 100 == 2 ? 0 : 1;
}

/* One line of the human listing. */
static void print_row(enum ib_config_kind kind, const json_t *o)
{
	const char *key = json_string_value(json_object_get(o, kind == IB_CONFIG_MACHINES ||
							 kind == IB_CONFIG_BMCS ? "mac" : "name"));
	const char *src = json_string_value(json_object_get(o, "source"));
	char *what = NULL;

	switch (kind) {
	case IB_CONFIG_PROFILES:
		printf("%-24s %-5s %-7s %s\n", key, src,
		       json_string_value(json_object_get(o, "boot")),
		       json_string_value(json_object_get(o, "kernel")) ?: "-");
		break;
	case IB_CONFIG_GROUPS:
		what = json_dumps(json_object_get(o, "selector"), JSON_COMPACT);
		printf("%-24s %-5s %-16s %s\n", key, src,
		       json_string_value(json_object_get(o, "profile")), what);
		break;
	case IB_CONFIG_BMCS:
		printf("%-17s %-5s %-8s %-32s %s\n", key, src,
		       json_string_value(json_object_get(o, "driver")),
		       json_string_value(json_object_get(o, "address")),
		       json_string_value(json_object_get(o, "credential")));
		break;
	default:
		what = json_dumps(json_object_get(o, "labels"), JSON_COMPACT);
		printf("%-17s %-5s %-20s %s\n", key, src,
		       json_string_value(json_object_get(o, "hostname")) ?: "-", what);
		break;
	}
	free(what);
}

static json_t *list_json(const struct ib_config *cfg, enum ib_config_kind kind)
{
	json_t *a = json_array();

	for (size_t i = 0; a && kind == IB_CONFIG_PROFILES && i < cfg->n_profiles; i++)
		json_array_append_new(a, ib_inventory_profile_json(&cfg->profiles[i]));
	for (size_t i = 0; a && kind == IB_CONFIG_GROUPS && i < cfg->n_groups; i++)
		json_array_append_new(a, ib_inventory_group_json(&cfg->groups[i]));
	for (size_t i = 0; a && kind == IB_CONFIG_MACHINES && i < cfg->n_machines; i++)
		json_array_append_new(a, ib_inventory_machine_json(&cfg->machines[i]));
	for (size_t i = 0; a && kind == IB_CONFIG_BMCS && i < cfg->n_bmcs; i++)
		json_array_append_new(a, ib_inventory_bmc_json(&cfg->bmcs[i]));
	return a;
}

static int cmd_list(const struct ib_config *cfg, enum ib_config_kind kind, bool json)
{
	json_t *a = list_json(cfg, kind);
	size_t i;
	json_t *o;

	if (!a)
		return 1;
	if (json) {
		json_dumpf(a, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		json_array_foreach(a, i, o)
			print_row(kind, o);
	}
	json_decref(a);
	return 0;
}

static int cmd_show(const struct ib_config *cfg, enum ib_config_kind kind, const char *name)
{
	json_t *o = ib_inventory_object_json(cfg, kind, name);

	if (!o) {
		fprintf(stderr, "ironboot: no %s object %s\n", ib_config_kind_name(kind), name);
		return 1;
	}
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
	return 0;
}

/* put / create / delete through the daemon's API. */
static int cmd_write(const struct api_target *t, enum ib_config_kind kind,
		     const char *verb, int argc, char **argv)
{
	const char *k = ib_config_kind_name(kind);
	bool create = strcmp(verb, "create") == 0, del = strcmp(verb, "delete") == 0;
	int want = create ? 1 : del ? 1 : 2;
	char path[512], *body = NULL;
	int r;

	if (argc != want) {
		fprintf(stderr, "ironboot: usage: %s %s%s\n", k, verb,
			create ? " FILE|-" : del ? " NAME" : " NAME FILE|-");
		return 2;
	}
	if (!del && !(body = read_input(argv[want - 1]))) {
		fprintf(stderr, "ironboot: cannot read %s\n", argv[want - 1]);
		return 1;
	}
	if (create)
		snprintf(path, sizeof(path), "%s", k);
	else
		snprintf(path, sizeof(path), "%s/%s", k, argv[0]);
	r = api_call(t, create ? "POST" : del ? "DELETE" : "PUT", path, body);
	free(body);
	return r;
}

int ib_cli_api_post(const struct ib_config *cfg, const char *path)
{
	return ib_cli_api_post_body(cfg, path, "");
}

int ib_cli_api_post_local(const struct ib_config *cfg, const char *path)
{
	char sock[4200];
	/* the daemon's control socket: http_control.c, IB_HTTP_CONTROL_NAME */
	struct api_target t = { .base = "http://localhost", .unix_path = sock };

	snprintf(sock, sizeof(sock), "%s/ironbootd.sock", cfg->server.state_dir);
	return api_call(&t, "POST", path, "");
}

int ib_cli_api_post_body(const struct ib_config *cfg, const char *path, const char *body)
{
	struct api_target t = { .base = cfg->http.base_url,
				.token_file = cfg->http.api_token_file };

	if (!t.base) {
		fprintf(stderr, "ironboot: no API address: set http.base_url\n");
		return 2;
	}
	return api_call(&t, "POST", path, body);
}

int ib_cli_inventory(const struct ib_config *cfg, enum ib_config_kind kind, bool json,
		     int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "token-file", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct api_target t = { .base = cfg->http.base_url,
				.token_file = cfg->http.api_token_file };
	const char *verb;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (o) {
		case 'a': t.base = optarg; break;
		case 't': t.token_file = optarg; break;
		case 'k': t.cacert = optarg; break;
		default: return 2;
		}
	}
	argc -= optind;
	argv += optind;
	verb = argc ? argv[0] : "list";
	if (strcmp(verb, "list") == 0 && argc <= 1)
		return cmd_list(cfg, kind, json);
	if (strcmp(verb, "show") == 0 && argc == 2)
		return cmd_show(cfg, kind, argv[1]);
	if (strcmp(verb, "put") == 0 || strcmp(verb, "create") == 0 ||
	    strcmp(verb, "delete") == 0) {
		if (!t.base) {
			fprintf(stderr, "ironboot: no API address: set http.base_url or --api URL\n");
			return 2;
		}
		return cmd_write(&t, kind, verb, argc - 1, argv + 1);
	}
	fprintf(stderr, "ironboot: %s: expected list, show NAME, put NAME FILE, create FILE "
		"or delete NAME\n", ib_config_kind_name(kind));
	return 2;
}
