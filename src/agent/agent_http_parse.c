/* HTTP/1.1 responses and requests of the agent: see agent_http_parse.h. */
#include "agent/agent_http_parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

enum state {
	ST_STATUS,		/* status line */
	ST_HEADER,		/* header lines up to the empty one */
	ST_BODY_LENGTH,		/* Content-Length bytes */
	ST_BODY_CLOSE,		/* until the server closes */
	ST_CHUNK_SIZE,		/* chunk-size [; ext] line */
	ST_CHUNK_DATA,		/* chunk bytes */
	ST_CHUNK_END,		/* the CRLF after chunk data */
	ST_TRAILER,		/* trailer lines up to the empty one */
	ST_DONE,
};

void ib_agent_http_resp_init(struct ib_agent_http_resp *r, bool head,
			     ib_agent_http_body_fn on_body, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	r->head = head;
	r->on_body = on_body;
	r->ctx = ctx;
	r->state = ST_STATUS;
}

/* Strips blanks (OWS, RFC 9110 5.6.3) around s in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* RFC 9112 4: HTTP-version SP 3DIGIT SP [reason-phrase] */
static int parse_status(struct ib_agent_http_resp *r, const char *l)
{
	if (strncmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') ||
	    l[8] != ' ')
		return -EBADMSG;
	if (l[9] < '1' || l[9] > '5' || l[10] < '0' || l[10] > '9' ||
	    l[11] < '0' || l[11] > '9' || (l[12] != ' ' && l[12] != '\0'))
		return -EBADMSG;
	r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	r->conn_close = l[7] == '0';	/* HTTP/1.0: no persistent connections */
	r->content_length = -1;
	r->chunked = false;
	r->nheaders = 0;
	return 0;
}

static int hdr_content_length(struct ib_agent_http_resp *r, char *v)
{
	int64_t n = 0;

	if (*v == '\0')
		return -EBADMSG;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (INT64_MAX - 9) / 10)
			return -EBADMSG;
		n = n * 10 + (*v - '0');
	}
	/* RFC 9110 8.6: repeated values must all be the same */
	if (r->content_length >= 0 && r->content_length != n)
		return -EBADMSG;
	r->content_length = n;
	return 0;
}

static int hdr_transfer_encoding(struct ib_agent_http_resp *r, char *v)
{
	if (strcasecmp(v, "chunked") != 0 || r->chunked)
		return -EOPNOTSUPP;
	r->chunked = true;
	return 0;
}

static int hdr_connection(struct ib_agent_http_resp *r, char *v)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strcasecmp(trim(tok), "close") == 0)
			r->conn_close = true;
	return 0;
}

/* The header fields that change how the agent reads the response. */
static const struct {
	const char *name;
	int (*parse)(struct ib_agent_http_resp *r, char *value);
} header_table[] = {
	{ "Content-Length", hdr_content_length },
	{ "Transfer-Encoding", hdr_transfer_encoding },
	{ "Connection", hdr_connection },
};

static int parse_header(struct ib_agent_http_resp *r, char *l)
{
	char *colon = strchr(l, ':');

	/* RFC 9112 5.2: obs-fold; 5.1: no blank before the colon */
	if (l[0] == ' ' || l[0] == '\t' || !colon || colon == l ||
	    colon[-1] == ' ' || colon[-1] == '\t')
		return -EBADMSG;
	if (++r->nheaders > IB_AGENT_HTTP_HEADERS_MAX)
		return -E2BIG;
	*colon = '\0';
	for (size_t i = 0; i < IB_ARRAY_SIZE(header_table); i++)
		if (strcasecmp(l, header_table[i].name) == 0)
			return header_table[i].parse(r, trim(colon + 1));
	return 0;
}

/* The empty line after the header fields: RFC 9112 6.3 picks the framing. */
static int end_of_headers(struct ib_agent_http_resp *r)
{
	if (r->status < 200) {		/* interim: a final response follows */
		r->state = ST_STATUS;
		return 0;
	}
	if (r->head || r->status == 204 || r->status == 304)
		r->state = ST_DONE;
	else if (r->chunked)
		r->state = ST_CHUNK_SIZE;
	else if (r->content_length >= 0) {
		r->remaining = (uint64_t)r->content_length;
		r->state = r->remaining ? ST_BODY_LENGTH : ST_DONE;
	} else {
		r->conn_close = true;
		r->state = ST_BODY_CLOSE;
	}
	return 0;
}

/* RFC 9112 7.1: chunk-size [ chunk-ext ] */
static int parse_chunk_size(struct ib_agent_http_resp *r, const char *l)
{
	uint64_t n = 0;
	const char *p = l;

	for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
		int d = ib_hex_digit(*p);

		if (d < 0 || n >> 60)
			return -EBADMSG;
		n = n << 4 | (uint64_t)d;
	}
	if (p == l)
		return -EBADMSG;
	r->remaining = n;
	r->state = n ? ST_CHUNK_DATA : ST_TRAILER;
	return 0;
}

/* A complete line (CR stripped) in the current state. */
static int on_line(struct ib_agent_http_resp *r, char *l)
{
	switch (r->state) {
	case ST_STATUS:
		if (parse_status(r, l) < 0)
			return -EBADMSG;
		r->state = ST_HEADER;
		return 0;
	case ST_HEADER:
		return *l ? parse_header(r, l) : end_of_headers(r);
	case ST_CHUNK_SIZE:
		return parse_chunk_size(r, l);
	case ST_CHUNK_END:
		if (*l)
			return -EBADMSG;
		r->state = ST_CHUNK_SIZE;
		return 0;
	case ST_TRAILER:		/* trailer fields are read and dropped */
		if (*l == '\0')
			r->state = ST_DONE;
		else if (++r->nheaders > IB_AGENT_HTTP_HEADERS_MAX)
			return -E2BIG;
		return 0;
	default:
		return -EBADMSG;
	}
}

/* Takes bytes of a line from p[0..n); *used: how many. */
static int take_line(struct ib_agent_http_resp *r, const uint8_t *p, size_t n,
		     size_t *used)
{
	const uint8_t *lf = memchr(p, '\n', n);
	size_t k = lf ? (size_t)(lf - p) : n;

	if (r->line_len + k >= sizeof(r->line))
		return -E2BIG;
	memcpy(r->line + r->line_len, p, k);
	r->line_len += k;
	*used = lf ? k + 1 : k;
	if (!lf)
		return 0;
	if (r->line_len && r->line[r->line_len - 1] == '\r')
		r->line_len--;
	r->line[r->line_len] = '\0';
	if (memchr(r->line, '\0', r->line_len) || memchr(r->line, '\r', r->line_len))
		return -EBADMSG;	/* NUL or bare CR inside a line */
	r->line_len = 0;
	return on_line(r, r->line);
}

/* Body bytes: of a Content-Length body, a chunk, or a close-delimited one. */
static int take_body(struct ib_agent_http_resp *r, const uint8_t *p, size_t n,
		     size_t *used)
{
	size_t k = n;
	int e;

	if (r->state != ST_BODY_CLOSE && k > r->remaining)
		k = (size_t)r->remaining;
	e = r->on_body ? r->on_body(r->ctx, p, k) : 0;
	if (e < 0)
		return e;
	r->body_bytes += k;
	*used = k;
	if (r->state == ST_BODY_CLOSE)
		return 0;
	r->remaining -= k;
	if (r->remaining == 0)
		r->state = r->state == ST_CHUNK_DATA ? ST_CHUNK_END : ST_DONE;
	return 0;
}

int ib_agent_http_resp_feed(struct ib_agent_http_resp *r, const uint8_t *p,
			    size_t n, size_t *ret_used)
{
	size_t off = 0;

	while (off < n && r->state != ST_DONE) {
		size_t used = 0;
		int e;
		if (r->state == ST_BODY_LENGTH || r->state == ST_BODY_CLOSE ||
		    r->state == ST_CHUNK_DATA)
			e = take_body(r, p + off, n - off, &used);
		else
			e = take_line(r, p + off, n - off, &used);
		if (e < 0)
			return e;
		off += used;
	}
	*ret_used = off;
	return r->state == ST_DONE ? 1 : 0;
}

int ib_agent_http_resp_eof(struct ib_agent_http_resp *r)
{
	if (r->state == ST_BODY_CLOSE)
		r->state = ST_DONE;
	return r->state == ST_DONE ? 1 : -EPIPE;
}

int ib_agent_http_req_format(const struct ib_agent_http_req_head *h,
			     char *out, size_t cap)
{
	int n = snprintf(out, cap,
			 "%s %s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "User-Agent: ironboot-agent/" IB_VERSION "\r\n"
			 "Accept: */*\r\n"
			 "Connection: close\r\n"
			 "%s%s%s",
			 h->method, h->target, h->hostport,
			 h->token ? "Authorization: Bearer " : "",
			 h->token ? h->token : "", h->token ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap)
		return -ENOBUFS;
	if (h->content_type) {
		int m = snprintf(out + n, cap - (size_t)n,
				 "Content-Type: %s\r\nContent-Length: %zu\r\n",
				 h->content_type, h->body_len);
		if (m < 0 || (size_t)m >= cap - (size_t)n)
			return -ENOBUFS;
		n += m;
	}
	if ((size_t)n + 3 > cap)
		return -ENOBUFS;
	memcpy(out + n, "\r\n", 3);
	return n + 2;
}
