/*
 * Redfish through libcurl (easy handles, blocking, on a worker thread) and
 * the pure codec redfish_codec.c.  One operation is a short sequence of
 * requests: [session login] -> [discover the system] -> GET the system ->
 * the action (POST Reset, or PATCH Boot) -> [logout].  Each request is
 * bounded by min(bmc timeout, time left to the operation's deadline);
 * a request that failed before any answer is tried again while the
 * attempts and the deadline allow (an action only when it never connected).
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "power/power.h"
#include "power/power_int.h"
#include "power/redfish_codec.h"

#define TOKEN_MAX 512

struct rf {
	const struct ib_power_call *c;	/* the operation */
	struct ib_power_result *res;	/* its result */
	CURL *h;			/* one handle, reused (keep-alive) */
	char token[TOKEN_MAX];		/* X-Auth-Token of our session, or "" */
	char session[IB_REDFISH_PATHLEN]; /* the session's path, for logout */
	char *body;			/* last response body */
	size_t body_len;		/* its length */
	long status;			/* last HTTP status */
	char hdr_token[TOKEN_MAX];	/* X-Auth-Token seen in the last response */
	char hdr_location[IB_POWER_ADDRLEN]; /* Location seen in the last response */
};

int ib_power_redfish_init(void)
{
	/* not thread-safe: called by ib_power_new() before any worker */
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct rf *rf = arg;
	size_t len = size * n;
	char *b;

	if (rf->body_len + len > IB_REDFISH_BODY_MAX)
		return 0;	/* too large: curl fails the transfer */
	b = realloc(rf->body, rf->body_len + len + 1);
	if (!b)
		return 0;
	memcpy(b + rf->body_len, ptr, len);
	rf->body = b;
	rf->body_len += len;
	rf->body[rf->body_len] = '\0';
	return len;
}

/* Keeps "Name: value" of X-Auth-Token and Location. */
static void header_copy(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), v;

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	for (v = nl + 1; v < len && (line[v] == ' ' || line[v] == '\t'); v++)
		;
	while (len > v && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	if (len - v >= outlen)
		return;
	memcpy(out, line + v, len - v);
	out[len - v] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
	struct rf *rf = arg;

	header_copy(ptr, size * n, "X-Auth-Token", rf->hdr_token, sizeof(rf->hdr_token));
	header_copy(ptr, size * n, "Location", rf->hdr_location, sizeof(rf->hdr_location));
	return size * n;
}

/* Sets up the handle for the BMC: TLS, auth, callbacks. */
static int rf_setup(struct rf *rf)
{
	const struct ib_bmc *b = rf->c->bmc;
	CURL *h = curl_easy_init();

	if (!h)
		return -ENOMEM;
	rf->h = h;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);	/* threads: no SIGALRM */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, rf);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, rf);
	if (b->ca_file[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, b->ca_file);
	if (b->insecure) {
		/* only when the BMC's entry says insecure: true */
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (b->basic_auth) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, rf->c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, rf->c->password);
	}
	return 0;
}

/* A transport failure: no HTTP answer.  Never includes the URL's query
 * or any header (there is no secret in a URL we build anyway). */
static int rf_transport_fail(struct rf *rf, CURLcode cc, const char *method, const char *path,
			     const char *errbuf)
{
	const struct ib_bmc *b = rf->c->bmc;

	if (cc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(rf->res->msg, sizeof(rf->res->msg),
			 "bmc %s: no answer to %s %s within %u ms (%u attempts)", b->name, method,
			 path, b->timeout_ms, rf->res->attempts);
		return -ETIMEDOUT;
	}
	snprintf(rf->res->msg, sizeof(rf->res->msg), "bmc %s: %s %s: %s", b->name, method, path,
		 errbuf[0] ? errbuf : curl_easy_strerror(cc));
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
	    cc == CURLE_SSL_CONNECT_ERROR)
		return -EKEYREJECTED;
	return cc == CURLE_COULDNT_CONNECT ? -ECONNREFUSED : -EIO;
}

/* An HTTP error status, with the Redfish message if the body has one. */
static int rf_http_fail(struct rf *rf, const char *method, const char *path)
{
	const struct ib_bmc *b = rf->c->bmc;
	char m[160] = "";

	if (rf->body)
		ib_redfish_parse_error(rf->body, rf->body_len, m, sizeof(m));
	if (rf->status == 401 || rf->status == 403) {
		snprintf(rf->res->msg, sizeof(rf->res->msg),
			 "bmc %s: authentication refused (wrong user or password): HTTP %ld on %s %s",
			 b->name, rf->status, method, path);
		return -EACCES;
	}
	snprintf(rf->res->msg, sizeof(rf->res->msg), "bmc %s: %s %s: HTTP %ld%s%s", b->name, method,
		 path, rf->status, m[0] ? ": " : "", m);
	return rf->status == 404 ? -ENOENT : -EREMOTEIO;
}

/*
 * One request: method on path (absolute Redfish path), with a JSON body
 * or NULL.  idempotent: may be retried after a timeout.  Leaves the
 * answer in rf->body / rf->status; returns 0 for a 2xx answer.
 */
static int rf_request(struct rf *rf, const char *method, const char *path, const char *body,
		      bool idempotent)
{
	const struct ib_bmc *b = rf->c->bmc;
	char url[IB_POWER_ADDRLEN + IB_REDFISH_PATHLEN], errbuf[CURL_ERROR_SIZE];
	char tokhdr[TOKEN_MAX + 16];
	struct curl_slist *hdrs = NULL;
	CURLcode cc = CURLE_OPERATION_TIMEDOUT;	/* if no attempt fits */
	unsigned tries = 0;

	snprintf(url, sizeof(url), "%s%s", b->address, path);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "OData-Version: 4.0");
	if (body)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (rf->token[0]) {
		snprintf(tokhdr, sizeof(tokhdr), "X-Auth-Token: %s", rf->token);
		hdrs = curl_slist_append(hdrs, tokhdr);
	}
	curl_easy_setopt(rf->h, CURLOPT_URL, url);
	curl_easy_setopt(rf->h, CURLOPT_HTTPHEADER, hdrs);
	/* GET resets the handle's verb; a body makes it a POST; then the
	 * custom verb (PATCH, DELETE) names it on the wire */
	curl_easy_setopt(rf->h, CURLOPT_HTTPGET, 1L);
	if (body)
		curl_easy_setopt(rf->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(rf->h, CURLOPT_CUSTOMREQUEST,
			 strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 ? NULL : method);
	curl_easy_setopt(rf->h, CURLOPT_ERRORBUFFER, errbuf);
	for (;;) {
		unsigned ms = ib_power_attempt_ms(rf->c);

		if (ms == 0)
			break;
		free(rf->body);
		rf->body = NULL;
		rf->body_len = 0;
		rf->hdr_token[0] = rf->hdr_location[0] = '\0';
		errbuf[0] = '\0';
		tries++;
		if (tries > rf->res->attempts)
			rf->res->attempts = tries;	/* the most any request needed */
		curl_easy_setopt(rf->h, CURLOPT_TIMEOUT_MS, (long)ms);
		curl_easy_setopt(rf->h, CURLOPT_CONNECTTIMEOUT_MS, (long)ms);
		cc = curl_easy_perform(rf->h);
		if (cc == CURLE_OK)
			break;
		if (!(cc == CURLE_COULDNT_CONNECT ||
		      (idempotent && (cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_GOT_NOTHING))))
			break;
		if (tries > b->retries)
			break;
	}
	curl_easy_setopt(rf->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(rf->h, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	if (cc != CURLE_OK)
		return rf_transport_fail(rf, cc, method, path, errbuf);
	curl_easy_getinfo(rf->h, CURLINFO_RESPONSE_CODE, &rf->status);
	if (rf->status < 200 || rf->status > 299)
		return rf_http_fail(rf, method, path);
	return 0;
}

/* A Location header as a path: absolute URLs lose scheme and authority. */
static void location_path(const char *loc, char out[IB_REDFISH_PATHLEN])
{
	const char *p = strstr(loc, "://");

	if (p) {
		p = strchr(p + 3, '/');
		loc = p ? p : "";
	}
	if (ib_redfish_path_ok(loc) == 0)
		memcpy(out, loc, strlen(loc) + 1);
	else
		out[0] = '\0';
}

/* DSP0266 13.3.4: POST the credentials to the Sessions collection; the
 * token comes back in X-Auth-Token, the session's URI in Location. */
static int rf_login(struct rf *rf, const char *sessions)
{
	json_t *o = json_pack("{s:s, s:s}", "UserName", rf->c->user, "Password", rf->c->password);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int r;

	json_decref(o);
	if (!body)
		return -ENOMEM;
	r = rf_request(rf, "POST", sessions, body, true);
	explicit_bzero(body, strlen(body));
	free(body);
	if (r < 0)
		return r;
	if (!rf->hdr_token[0]) {
		snprintf(rf->res->msg, sizeof(rf->res->msg),
			 "bmc %s: session created without an X-Auth-Token", rf->c->bmc->name);
		return -EPROTO;
	}
	memcpy(rf->token, rf->hdr_token, sizeof(rf->token));
	location_path(rf->hdr_location, rf->session);
	return 0;
}

static void rf_logout(struct rf *rf)
{
	char path[IB_REDFISH_PATHLEN];
	struct ib_power_result scratch = { 0 };
	struct ib_power_result *keep = rf->res;

	if (!rf->token[0] || !rf->session[0])
		return;
	memcpy(path, rf->session, sizeof(path));
	rf->res = &scratch;	/* a failed logout does not change the result */
	(void)rf_request(rf, "DELETE", path, NULL, false);
	rf->res = keep;
	explicit_bzero(rf->token, sizeof(rf->token));
}

/* The service root, the session, and the system's path. */
static int rf_start(struct rf *rf, char system[IB_REDFISH_PATHLEN])
{
	const struct ib_bmc *b = rf->c->bmc;
	struct ib_redfish_root root = { "/redfish/v1/Systems", "/redfish/v1/SessionService/Sessions" };
	size_t count;
	int r;

	if (!b->basic_auth || !b->system[0]) {
		/* the service root needs no authentication (DSP0266 13.3.1) */
		if ((r = rf_request(rf, "GET", "/redfish/v1/", NULL, true)) < 0)
			return r;
		if (ib_redfish_parse_root(rf->body, rf->body_len, &root) < 0)
			goto bad;
		if (!root.systems[0])
			snprintf(root.systems, sizeof(root.systems), "/redfish/v1/Systems");
		if (!root.sessions[0])
			snprintf(root.sessions, sizeof(root.sessions),
				 "/redfish/v1/SessionService/Sessions");
	}
	if (!b->basic_auth && (r = rf_login(rf, root.sessions)) < 0)
		return r;
	if (b->system[0]) {
		if (ib_redfish_path_ok(b->system) < 0)
			goto bad;
		memcpy(system, b->system, strlen(b->system) + 1);
		return 0;
	}
	if ((r = rf_request(rf, "GET", root.systems, NULL, true)) < 0)
		return r;
	r = ib_redfish_parse_collection(rf->body, rf->body_len, system, &count);
	if (r == -ENOENT) {
		snprintf(rf->res->msg, sizeof(rf->res->msg), "bmc %s: %.96s lists no system", b->name,
			 root.systems);
		return r;
	}
	if (r == 0)
		return 0;
bad:
	snprintf(rf->res->msg, sizeof(rf->res->msg), "bmc %s: malformed Redfish answer", b->name);
	return -EBADMSG;
}

/* The operation itself, on the system at path. */
static int rf_act(struct rf *rf, const char *path)
{
	const struct ib_bmc *b = rf->c->bmc;
	struct ib_redfish_system sys;
	enum ib_redfish_reset rt;
	char body[256];
	int r;

	if ((r = rf_request(rf, "GET", path, NULL, true)) < 0)
		return r;
	if (ib_redfish_parse_system(rf->body, rf->body_len, &sys) < 0) {
		snprintf(rf->res->msg, sizeof(rf->res->msg),
			 "bmc %s: %s is not a ComputerSystem", b->name, path);
		return -EBADMSG;
	}
	switch (rf->c->op) {
	case IB_POWER_STATUS:
		rf->res->state = sys.power;
		return 0;
	case IB_POWER_PXE_ONCE:
	case IB_POWER_DISK_ONCE:
		if ((r = ib_redfish_boot_body(rf->c->op, b->efi, body, sizeof(body))) < 0)
			return r;
		return rf_request(rf, "PATCH", path, body, false);
	default:
		break;
	}
	if (!sys.reset_target[0]) {
		snprintf(rf->res->msg, sizeof(rf->res->msg),
			 "bmc %s: %s has no ComputerSystem.Reset action", b->name, path);
		return -EOPNOTSUPP;
	}
	if ((r = ib_redfish_reset_for(rf->c->op, sys.allowed_resets, &rt)) < 0) {
		snprintf(rf->res->msg, sizeof(rf->res->msg),
			 "bmc %s: no ResetType for %s among those allowed", b->name,
			 ib_power_op_name(rf->c->op));
		return r;
	}
	if ((r = ib_redfish_reset_body(rt, body, sizeof(body))) < 0)
		return r;
	return rf_request(rf, "POST", sys.reset_target, body, false);
}

void ib_power_redfish_run(const struct ib_power_call *c, struct ib_power_result *res)
{
	struct rf rf = { .c = c, .res = res };
	char system[IB_REDFISH_PATHLEN];
	int r;

	if (strncmp(c->bmc->address, "https://", 8) != 0 &&
	    strncmp(c->bmc->address, "http://", 7) != 0) {
		res->err = -EINVAL;
		snprintf(res->msg, sizeof(res->msg), "bmc %s: address must be an http(s) URL",
			 c->bmc->name);
		return;
	}
	if ((r = rf_setup(&rf)) == 0) {
		r = rf_start(&rf, system);
		if (r == 0)
			r = rf_act(&rf, system);
		rf_logout(&rf);
		curl_easy_cleanup(rf.h);
	}
	free(rf.body);
	if (r < 0 && !res->msg[0])
		snprintf(res->msg, sizeof(res->msg), "bmc %s: %s", c->bmc->name, strerror(-r));
	res->err = r;
}
