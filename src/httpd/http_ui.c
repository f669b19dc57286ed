/*
 * GET /ui/: the read-only web UI (docs/UI.md), static files compiled in
 * (ui_files.h).  The page itself holds no data and no secret: it asks the
 * token-protected API for everything, with the token the operator types
 * (kept in the browser's sessionStorage, sent as a header, never in a
 * URL).  So these files are served to anyone, like /assets/, and never
 * journalled.
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles
 * and connections from this origin only, no inline script or style, no
 * plugins, no framing, no form posts; with nosniff and no referrer.  The
 * script builds the page with textContent and DOM calls only, so a
 * hostname or vendor string a client sent is shown as text.
 */
#include <string.h>

#include <event2/buffer.h>

#include "httpd/http_server_int.h"
#include "httpd/ui_files.h"

/* The policy: nothing from elsewhere, nothing inline, nothing framing us. */
static const char csp[] =
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

static void security_headers(struct ib_http_req *rq)
{
	ib_httpd_header(rq, "Content-Security-Policy", csp);
	ib_httpd_header(rq, "X-Content-Type-Options", "nosniff");
	ib_httpd_header(rq, "X-Frame-Options", "DENY");
	ib_httpd_header(rq, "Referrer-Policy", "no-referrer");
	ib_httpd_header(rq, "Cross-Origin-Opener-Policy", "same-origin");
	ib_httpd_header(rq, "Cache-Control", "no-cache");
}

static const struct ib_ui_file *find(const char *name)
{
	for (size_t i = 0; i < ib_ui_n_files; i++)
		if (strcmp(ib_ui_files[i].name, name) == 0)
			return &ib_ui_files[i];
	return NULL;
}

void ib_httpd_serve_ui(struct ib_http_req *rq, const char *rest)
{
	const struct ib_ui_file *f = find(*rest ? rest : "index.html");
	struct evbuffer *b = evhttp_request_get_output_buffer(rq->req);

	security_headers(rq);
	if (!f) {
		ib_httpd_text(rq, 404, "not found");
		return;
	}
	if (rq->method != EVHTTP_REQ_HEAD)
		evbuffer_add_reference(b, f->data, f->len, NULL, NULL);
	ib_httpd_header(rq, "Content-Type", f->type);
	ib_httpd_send(rq, 200, f->len);
}

/* GET /ui: the UI's address ends in '/' (its files are relative to it). */
void ib_httpd_serve_ui_root(struct ib_http_req *rq, const char *rest)
{
	security_headers(rq);
	ib_httpd_header(rq, "Location", "/ui/");
	ib_httpd_text(rq, 301, "moved to /ui/");
}
