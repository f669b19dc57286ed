/*
 * Mustache-like templates: the compiler (source -> flat node array) and
 * the renderer (node array + json_t context stack -> bytes).  Values go
 * out through template_escape.c, which holds the escaping rules per
 * context.  Pure: no I/O, no logging, no globals.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "http/template.h"
#include "http/template_escape.h"

enum node_kind {
	NODE_TEXT,		/* literal bytes */
	NODE_VAR,		/* {{name}} */
	NODE_SECTION,		/* {{#name}} */
	NODE_INVERTED,		/* {{^name}} */
};

/* One element of a compiled template, in document order. */
struct tpl_node {
	enum node_kind kind;	/* what the node is */
	uint32_t off;		/* text bytes or tag name: offset in src */
	uint32_t len;		/* ... and length */
	uint32_t end;		/* sections: index of the node after the close */
	uint32_t line;		/* tags: line of the "{{" (1-based) */
	uint32_t col;		/* tags: column of the "{{" (1-based, bytes) */
};

struct ib_tpl {
	char name[64];			/* for messages, sanitised */
	enum ib_tpl_context ctx;	/* escaping of values */
	char *src;			/* copy of the source; nodes point into it */
	struct tpl_node *nodes;		/* the document */
	size_t n;			/* nodes used */
	size_t cap;			/* nodes allocated */
};

/* State of one compilation. */
struct parser {
	struct ib_tpl *t;		/* template being built */
	size_t len;			/* bytes of t->src */
	size_t text_start;		/* start of pending literal text */
	size_t lc_off;			/* offset line/col were counted up to */
	uint32_t line, col;		/* position of lc_off */
	uint32_t open[IB_TPL_DEPTH_MAX];	/* node index of open sections */
	unsigned depth;			/* open sections */
	char *err;			/* caller's message buffer, or NULL */
};

/* ---- compiling ---------------------------------------------------------- */

static int perr(struct parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes "name:line:col: message" to p->err; returns -EINVAL. */
static int perr(struct parser *p, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!p->err)
		return -EINVAL;
	n = snprintf(p->err, IB_TPL_ERRLEN, "%s:%u:%u: ", p->t->name, line, col);
	if (n < 0 || n >= IB_TPL_ERRLEN)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(p->err + n, IB_TPL_ERRLEN - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Line and column of src offset off; offsets asked only ever grow. */
static void line_col(struct parser *p, size_t off, uint32_t *line, uint32_t *col)
{
	for (; p->lc_off < off; p->lc_off++) {
		if (p->t->src[p->lc_off] == '\n') {
			p->line++;
			p->col = 1;
		} else {
			p->col++;
		}
	}
	*line = p->line;
	*col = p->col;
}

static int add_node(struct parser *p, enum node_kind kind, size_t off, size_t len,
		    uint32_t line, uint32_t col)
{
	struct ib_tpl *t = p->t;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		struct tpl_node *nodes = realloc(t->nodes, cap * sizeof(*nodes));

		if (!nodes)
			return -ENOMEM;
		t->nodes = nodes;
		t->cap = cap;
	}
	t->nodes[t->n++] = (struct tpl_node){ .kind = kind, .off = (uint32_t)off,
		.len = (uint32_t)len, .line = line, .col = col };
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Shows byte c in a message: itself if printable, else \xNN. */
static const char *show_byte(char c, char buf[8])
{
	ib_str_sanitize((const uint8_t *)&c, 1, buf, 8);
	return buf;
}

/*
 * Checks the name in src[*off..*off+*len), trimming blanks: "." or
 * dot-separated segments of [A-Za-z0-9_-].
 */
static int check_name(struct parser *p, size_t *off, size_t *len,
		      uint32_t line, uint32_t col)
{
	const char *s = p->t->src;
	size_t a = *off, b = *off + *len;
	char buf[8];

	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (a == b)
		return perr(p, line, col, "empty tag name");
	if (b - a > IB_TPL_TAG_NAME_MAX)
		return perr(p, line, col, "tag name longer than %u bytes",
			    IB_TPL_TAG_NAME_MAX);
	if (!(b - a == 1 && s[a] == '.')) {
		for (size_t i = a; i < b; i++) {
			bool dot_ok = s[i] == '.' && i > a && i + 1 < b && s[i - 1] != '.';

			if (!name_char(s[i]) && !dot_ok)
				return perr(p, line, col, "bad character '%s' in tag name",
					    show_byte(s[i], buf));
		}
	}
	*off = a;
	*len = b - a;
	return 0;
}

/*
 * Mustache "standalone" tags: a section, inverted, close or comment tag
 * with only blanks before it on its line and only blanks and the line end
 * after it takes the whole line away.  Sets *ret_lo (where the literal
 * text before the tag stops) and *ret_hi (where the next text starts).
 */
static void standalone(struct parser *p, size_t tag, size_t after,
		       size_t *ret_lo, size_t *ret_hi)
{
	const char *s = p->t->src;
	size_t lo = tag, hi = after;

	*ret_lo = tag;
	*ret_hi = after;
	while (lo > p->text_start && (s[lo - 1] == ' ' || s[lo - 1] == '\t'))
		lo--;
	if (lo > 0 && s[lo - 1] != '\n')
		return;			/* text or another tag before it */
	while (hi < p->len && (s[hi] == ' ' || s[hi] == '\t'))
		hi++;
	if (hi < p->len && s[hi] == '\r' && hi + 1 < p->len && s[hi + 1] == '\n')
		hi++;
	if (hi < p->len && s[hi] != '\n')
		return;			/* something else after it */
	*ret_lo = lo;
	*ret_hi = hi < p->len ? hi + 1 : hi;
}

static int open_section(struct parser *p, enum node_kind kind, size_t off, size_t len,
			uint32_t line, uint32_t col)
{
	if (p->depth == IB_TPL_DEPTH_MAX)
		return perr(p, line, col, "nesting too deep (max %u)", IB_TPL_DEPTH_MAX);
	p->open[p->depth++] = (uint32_t)p->t->n;
	return add_node(p, kind, off, len, line, col);
}

static int close_section(struct parser *p, size_t off, size_t len,
			 uint32_t line, uint32_t col)
{
	const char *s = p->t->src;
	struct tpl_node *open;

	if (p->depth == 0)
		return perr(p, line, col, "close tag '/%.*s' without an open section",
			    (int)len, s + off);
	open = &p->t->nodes[p->open[p->depth - 1]];
	if (open->len != len || memcmp(s + open->off, s + off, len) != 0)
		return perr(p, line, col, "mismatched close tag '/%.*s', expected '/%.*s'",
			    (int)len, s + off, (int)open->len, s + open->off);
	open->end = (uint32_t)p->t->n;
	p->depth--;
	return 0;
}

/* Handles the tag whose body is src[off..off+len); the "{{" is at line:col. */
static int tag(struct parser *p, size_t off, size_t len, uint32_t line, uint32_t col)
{
	char kind = len ? p->t->src[off] : '\0';
	char buf[8];
	int r;

	if (kind == '!')
		return 0;
	if (kind == '{' || kind == '&')
		return perr(p, line, col, "raw output tag '{{%c' is not allowed: "
			    "all output is escaped", kind);
	if (kind == '#' || kind == '^' || kind == '/') {
		off++;
		len--;
	} else if (len && !name_char(kind) && kind != '.' && kind != ' ' && kind != '\t') {
		return perr(p, line, col, "unknown tag kind '%s'", show_byte(kind, buf));
	}
	r = check_name(p, &off, &len, line, col);
	if (r < 0)
		return r;
	if (kind == '#')
		return open_section(p, NODE_SECTION, off, len, line, col);
	if (kind == '^')
		return open_section(p, NODE_INVERTED, off, len, line, col);
	if (kind == '/')
		return close_section(p, off, len, line, col);
	return add_node(p, NODE_VAR, off, len, line, col);
}

static int add_text(struct parser *p, size_t lo, size_t hi)
{
	return hi > lo ? add_node(p, NODE_TEXT, lo, hi - lo, 0, 0) : 0;
}

/* Finds and handles the next tag; *done when the source is used up. */
static int next_tag(struct parser *p, bool *done)
{
	const char *s = p->t->src, *open, *close;
	size_t at, body, after, lo, hi;
	uint32_t line, col;
	int r;

	open = memmem(s + p->text_start, p->len - p->text_start, "{{", 2);
	if (!open) {
		*done = true;
		return add_text(p, p->text_start, p->len);
	}
	at = (size_t)(open - s);
	body = at + 2;
	line_col(p, at, &line, &col);
	close = memmem(s + body, p->len - body, "}}", 2);
	if (!close)
		return perr(p, line, col, "unterminated tag");
	after = (size_t)(close - s) + 2;
	lo = at;
	hi = after;
	if (body < p->len && strchr("#^/!", s[body]) && s[body] != '\0')
		standalone(p, at, after, &lo, &hi);
	r = add_text(p, p->text_start, lo);
	if (r == 0)
		r = tag(p, body, (size_t)(close - s) - body, line, col);
	p->text_start = hi;
	return r;
}

static int parse(struct parser *p)
{
	bool done = false;
	uint32_t line, col;
	int r;

	if (memchr(p->t->src, '\0', p->len)) {
		line_col(p, (size_t)((char *)memchr(p->t->src, '\0', p->len) - p->t->src),
			 &line, &col);
		return perr(p, line, col, "NUL byte in template");
	}
	while (!done) {
		r = next_tag(p, &done);
		if (r < 0)
			return r;
	}
	if (p->depth) {
		const struct tpl_node *n = &p->t->nodes[p->open[p->depth - 1]];

		return perr(p, n->line, n->col, "unclosed section '%.*s'",
			    (int)n->len, p->t->src + n->off);
	}
	return 0;
}

int ib_tpl_compile(const char *name, const char *src, size_t len,
		   enum ib_tpl_context ctx, struct ib_tpl **ret, char *err)
{
	struct parser p = { .len = len, .line = 1, .col = 1, .err = err };
	struct ib_tpl *t;
	int r;

	if (err)
		err[0] = '\0';
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	name = name ? name : "template";
	ib_str_sanitize((const uint8_t *)name, strlen(name), t->name, sizeof(t->name));
	t->ctx = ctx;
	p.t = t;
	if (len > IB_TPL_SRC_MAX) {
		perr(&p, 1, 1, "template too large (max %u bytes)", IB_TPL_SRC_MAX);
		r = -EFBIG;
		goto err_free;
	}
	if ((unsigned)ctx > IB_TPL_SHELL) {
		r = perr(&p, 1, 1, "unknown output context %u", (unsigned)ctx);
		goto err_free;
	}
	t->src = malloc(len ? len : 1);
	if (!t->src) {
		r = -ENOMEM;
		goto err_free;
	}
	if (len)
		memcpy(t->src, src, len);
	r = parse(&p);
	if (r < 0)
		goto err_free;
	*ret = t;
	return 0;

err_free:
	ib_tpl_free(t);
	return r;
}

void ib_tpl_free(struct ib_tpl *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->src);
	free(t);
}

enum ib_tpl_context ib_tpl_context(const struct ib_tpl *t)
{
	return t->ctx;
}

const char *ib_tpl_context_name(enum ib_tpl_context ctx)
{
	static const char *const names[] = {
		[IB_TPL_TEXT] = "text", [IB_TPL_IPXE] = "ipxe", [IB_TPL_YAML] = "yaml",
		[IB_TPL_JSON] = "json", [IB_TPL_SHELL] = "shell",
	};

	return (unsigned)ctx < IB_ARRAY_SIZE(names) ? names[ctx] : "?";
}

/* ---- rendering ---------------------------------------------------------- */

/* State of one render. */
struct render {
	const struct ib_tpl *t;		/* what is rendered */
	struct ib_tpl_writer w;		/* where to, escaped how */
	const json_t *stack[IB_TPL_DEPTH_MAX + 1];	/* context stack */
	unsigned depth;			/* entries on the stack */
	uint64_t steps;			/* nodes and iterations so far */
	const struct tpl_node *node;	/* the tag being rendered (messages) */
};

/* Writes "name:line:col: problem" about the current tag to out->err. */
static int rerr(struct render *r, int e, const char *what)
{
	const struct tpl_node *n = r->node;

	snprintf(r->w.out->err, IB_TPL_ERRLEN, "%s:%u:%u: value of '%.*s' %s (%s)",
		 r->t->name, n->line, n->col, (int)n->len, r->t->src + n->off,
		 what, ib_tpl_context_name(r->t->ctx));
	return e;
}

/* Finds the dotted name of node n through the context stack, or NULL. */
static const json_t *lookup(const struct render *r, const struct tpl_node *n)
{
	const char *s = r->t->src + n->off, *dot;
	size_t len = n->len, seg;
	const json_t *v = NULL;

	if (len == 1 && s[0] == '.')
		return r->depth ? r->stack[r->depth - 1] : NULL;
	dot = memchr(s, '.', len);
	seg = dot ? (size_t)(dot - s) : len;
	for (unsigned d = r->depth; d-- > 0 && !v;)
		if (json_is_object(r->stack[d]))
			v = json_object_getn(r->stack[d], s, seg);
	while (v && seg < len) {
		s += seg + 1;
		len -= seg + 1;
		dot = memchr(s, '.', len);
		seg = dot ? (size_t)(dot - s) : len;
		v = json_is_object(v) ? json_object_getn(v, s, seg) : NULL;
	}
	return v;
}

static bool truthy(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: return json_object_size(v) > 0;
	case JSON_ARRAY: return json_array_size(v) > 0;
	case JSON_STRING: return json_string_length(v) > 0;
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE: return true;
	default: return false;
	}
}

/* Writes a number or boolean: a literal in JSON (and YAML, but reals). */
static int put_literal(struct render *r, const json_t *v, const char **why)
{
	enum ib_tpl_context ctx = r->t->ctx;
	char buf[40];

	if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (isfinite(json_real_value(v)))
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	else
		return (*why = "is not a finite number"), -EINVAL;
	if (ctx == IB_TPL_JSON || (ctx == IB_TPL_YAML && !json_is_real(v)))
		return ib_tpl_put(&r->w, buf, strlen(buf));
	return ib_tpl_put_value(&r->w, buf, strlen(buf), why);
}

static int render_var(struct render *r, const struct tpl_node *n)
{
	const json_t *v = lookup(r, n);
	enum ib_tpl_context ctx = r->t->ctx;
	const char *why = "is refused";
	int e;

	r->node = n;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_NULL:
		e = ctx == IB_TPL_YAML || ctx == IB_TPL_JSON ? ib_tpl_put(&r->w, "\"\"", 2) :
		    ctx == IB_TPL_SHELL ? ib_tpl_put(&r->w, "''", 2) : 0;
		break;
	case JSON_STRING:
		e = ib_tpl_put_value(&r->w, json_string_value(v), json_string_length(v), &why);
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		e = -EINVAL;
		why = "is a list or object, not a scalar";
		break;
	default:
		e = put_literal(r, v, &why);
		break;
	}
	if (e == -EINVAL)
		return rerr(r, e, why);
	return e;
}

static int render_range(struct render *r, size_t from, size_t to);

/* Renders the body of section n once with ctx pushed. */
static int render_body(struct render *r, const struct tpl_node *n, const json_t *ctx)
{
	size_t i = (size_t)(n - r->t->nodes);
	int e;

	if (++r->steps > IB_TPL_STEPS_MAX)
		return -E2BIG;
	r->stack[r->depth++] = ctx;
	e = render_range(r, i + 1, n->end);
	r->depth--;
	return e;
}

static int render_section(struct render *r, const struct tpl_node *n)
{
	const json_t *v = lookup(r, n);
	bool yes = truthy(v);
	int e = 0;

	if (n->kind == NODE_INVERTED)
		return yes ? 0 : render_body(r, n, r->depth ? r->stack[r->depth - 1] : NULL);
	if (!yes)
		return 0;
	if (!json_is_array(v))
		return render_body(r, n, v);
	for (size_t k = 0; k < json_array_size(v) && e == 0; k++)
		e = render_body(r, n, json_array_get(v, k));
	return e;
}

static int render_range(struct render *r, size_t from, size_t to)
{
	const struct ib_tpl *t = r->t;
	int e = 0;

	for (size_t i = from; i < to && e == 0; i++) {
		const struct tpl_node *n = &t->nodes[i];

		if (++r->steps > IB_TPL_STEPS_MAX)
			return -E2BIG;
		switch (n->kind) {
		case NODE_TEXT:
			e = ib_tpl_put(&r->w, t->src + n->off, n->len);
			break;
		case NODE_VAR:
			e = render_var(r, n);
			break;
		default:
			e = render_section(r, n);
			i = n->end - 1;
			break;
		}
	}
	return e;
}

void ib_tpl_out_init(struct ib_tpl_out *out, size_t max)
{
	memset(out, 0, sizeof(*out));
	out->max = max ? max : IB_TPL_OUT_MAX;
}

void ib_tpl_out_done(struct ib_tpl_out *out)
{
	free(out->buf);
	out->buf = NULL;
	out->len = out->cap = 0;
}

int ib_tpl_render(const struct ib_tpl *t, const json_t *root, struct ib_tpl_out *out)
{
	struct render r = { .t = t };
	int e;

	ib_tpl_writer_init(&r.w, out, t->ctx);
	r.stack[r.depth++] = root;
	e = render_range(&r, 0, t->n);
	if (e == 0 && r.w.lex.continued) {
		snprintf(out->err, IB_TPL_ERRLEN, "%s: renders an iPXE line continuation",
			 t->name);
		e = -EINVAL;
	}
	if (e == 0)
		e = ib_tpl_put(&r.w, "", 0);	/* makes room for the NUL */
	if (e < 0) {
		if (!out->err[0])
			snprintf(out->err, IB_TPL_ERRLEN, "%s: %s", t->name, e == -E2BIG ?
				 "output or work over the cap" : "out of memory");
		out->len = 0;
		return e;
	}
	out->buf[out->len] = '\0';
	return 0;
}
