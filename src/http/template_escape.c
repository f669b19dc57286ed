/*
 * The output side of a template render: the growable buffer with its cap,
 * and the escaping of values per output context.  Pure: no I/O, no
 * logging, no globals.
 *
 * Escaping is the security core: a value from the inventory (or from the
 * query string of a boot request) must never change the structure of the
 * document it lands in.  Per context:
 *
 * IPXE.  How iPXE reads a script (ipxe.git, src/image/script.c
 * process_script(), src/core/exec.c system(), split_command(),
 * command_terminator(), src/core/settings.c expand_settings()):
 *   - the script is split at '\n'; one trailing '\r' is dropped; a line
 *     ending in '\\' continues on the next one (the two are joined);
 *   - after leading blanks, a line starting with ':' is a label, up to the
 *     next blank; the command follows on the same line;
 *   - the command is split into tokens at isspace() (' ' \t \n \v \f \r).
 *     There is NO quoting and NO escape character of any kind;
 *   - a token that is exactly "||", "&&" or ";" ends the command and
 *     chains the next; a token starting with '#' starts a comment;
 *   - each token is then expanded: the innermost "${...}" is replaced by
 *     the setting it names, repeatedly, rescanning the result, so a
 *     setting whose value holds "${" is expanded again.  A literal "${"
 *     cannot be written at all;
 *   - commands parse options with getopt: an argument starting with '-'
 *     is an option.
 * Since nothing can be quoted, values are refused (-EINVAL) rather than
 * escaped.  A value must be printable ASCII other than blanks (0x21-0x7e),
 * must not hold '$', '{', '}' (setting expansion) or '\\' (continuation),
 * must not consist only of '|', '&' and ';' when the token it lands in
 * could still be exactly "||", "&&" or ";" (with the template text next
 * to it), must not start a token with
 * '#' or '-', and must not land in a command name or label.  The last two
 * need to know where the value lands: the renderer feeds every byte it
 * writes through a small model of the parser above (struct ipxe_lex).
 * The model also refuses a rendered line continuation.
 *
 * YAML.  A value becomes a double-quoted scalar (YAML 1.1 5.1, 9.1.3).
 * '"' and '\\' are escaped; tab, LF, CR as \t \n \r; the characters
 * libyaml's reader refuses raw (C0, DEL, C1) as \xNN; NEL (U+0085), LS
 * (U+2028) and PS (U+2029), which YAML 1.1 treats as line breaks, and
 * U+FEFF, U+FFFE, U+FFFF as \uNNNN.  Input must be valid UTF-8.
 *
 * JSON.  A value becomes a string literal (RFC 8259 7): '"', '\\' and C0
 * are escaped, and also DEL, U+2028 and U+2029 (line terminators to
 * JavaScript).  Input must be valid UTF-8.  Integers, reals and booleans
 * are written as JSON literals.
 *
 * TEXT.  Raw, but control characters (C0 except tab, DEL, C1) and the
 * Unicode line separators are refused, and input must be valid UTF-8: a
 * value cannot start a new line in any reader.
 *
 * SHELL.  A value becomes one single-quoted word; a ' inside becomes
 * '\'' (POSIX XCU 2.2.2: nothing is special between single quotes).
 *
 * A NUL byte is refused in every context: C consumers would truncate.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "http/template_escape.h"

/* ---- the iPXE parser model ------------------------------------------------ */

/* A new line: blanks, then a label or a command. */
static void lex_line(struct ipxe_lex *x)
{
	x->line_start = true;
	x->cmd_next = true;
	x->in_tok = false;
	x->comment = false;
}

/* iPXE's isspace() (include/ctype.h). */
static bool ipxe_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void lex_token_end(struct ipxe_lex *x)
{
	/* exec.c command_terminator(): "||", "&&", ";" chain a command */
	bool term = (x->tok_len == 2 && x->tok[0] == x->tok[1] &&
		     (x->tok[0] == '|' || x->tok[0] == '&')) ||
		    (x->tok_len == 1 && x->tok[0] == ';');

	if (term && !x->comment)
		x->cmd_next = true;
	x->in_tok = false;
}

static void lex_token_start(struct ipxe_lex *x, char c)
{
	x->in_tok = true;
	x->tok_len = 0;
	x->tok_fixed = false;
	if (x->comment)
		;
	else if (c == '#')
		x->comment = true;		/* exec.c: comment token */
	else if (x->line_start && c == ':')
		x->tok_fixed = true;		/* script.c: label; command follows */
	else if (x->cmd_next) {
		x->tok_fixed = true;
		x->cmd_next = false;
	}
	x->line_start = false;
}

static void lex_feed(struct ipxe_lex *x, char c)
{
	if (c == '\n') {
		/* script.c: "\\\n" or "\\\r\n" joins lines; we refuse it */
		if (x->prev == '\\' || (x->prev == '\r' && x->prev2 == '\\'))
			x->continued = true;
		lex_line(x);
	} else if (ipxe_space(c)) {
		if (x->in_tok)
			lex_token_end(x);
	} else {
		if (!x->in_tok)
			lex_token_start(x, c);
		if (x->tok_len < sizeof(x->tok))
			x->tok[x->tok_len] = c;
		if (x->tok_len < SIZE_MAX)
			x->tok_len++;
	}
	x->prev2 = x->prev;
	x->prev = c;
}

/* Whether the current token could still become "||", "&&" or ";". */
static bool ipxe_tok_may_chain(const struct ipxe_lex *x)
{
	if (x->tok_len > 2)
		return false;
	for (size_t i = 0; i < x->tok_len; i++)
		if (x->tok[i] != '|' && x->tok[i] != '&' && x->tok[i] != ';')
			return false;
	return true;
}

/* Why an iPXE value is refused, or NULL; see the top of the file. */
static const char *ipxe_refusal(const struct ipxe_lex *x, const char *v, size_t len)
{
	bool all_term = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e)
			return "holds a blank, control or non-ASCII byte";
		if (c == '$' || c == '{' || c == '}')
			return "holds '$', '{' or '}' (iPXE setting expansion)";
		if (c == '\\')
			return "holds '\\' (iPXE line continuation)";
		all_term = all_term && (c == '|' || c == '&' || c == ';');
	}
	if (len == 0 || x->comment)
		return NULL;
	if (all_term && (!x->in_tok || ipxe_tok_may_chain(x)))
		return "is made of '|', '&', ';' only (iPXE command chaining)";
	if (x->in_tok ? x->tok_fixed : (x->line_start || x->cmd_next))
		return "would be part of an iPXE command name or label";
	if (!x->in_tok && (v[0] == '#' || v[0] == '-'))
		return "starts an argument with '#' or '-'";
	return NULL;
}

/* ---- output ------------------------------------------------------------- */

void ib_tpl_writer_init(struct ib_tpl_writer *w, struct ib_tpl_out *out,
			enum ib_tpl_context ctx)
{
	out->len = 0;
	out->err[0] = '\0';
	w->out = out;
	w->ctx = ctx;
	memset(&w->lex, 0, sizeof(w->lex));
	lex_line(&w->lex);
}

int ib_tpl_put(struct ib_tpl_writer *w, const char *p, size_t n)
{
	struct ib_tpl_out *o = w->out;

	if (n > o->max - o->len)
		return -E2BIG;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		char *buf;

		while (cap < o->len + n + 1)
			cap *= 2;
		cap = IB_MIN(cap, o->max + 1);
		buf = realloc(o->buf, cap);
		if (!buf)
			return -ENOMEM;
		o->buf = buf;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	if (w->ctx == IB_TPL_IPXE)
		for (size_t i = 0; i < n; i++)
			lex_feed(&w->lex, p[i]);
	return 0;
}

static int puts_(struct ib_tpl_writer *w, const char *s)
{
	return ib_tpl_put(w, s, strlen(s));
}

/*
 * Decodes one UTF-8 sequence at s[*i] (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and advances; -EINVAL if invalid.
 */
static int utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *ret)
{
	static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
	unsigned char c = s[*i];
	size_t n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 :
		   (c & 0xf0) == 0xe0 ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 4;
	uint32_t cp;

	if (n == 4 || n >= len - *i)
		return -EINVAL;
	cp = n == 0 ? c : c & (0x3f >> n);
	for (size_t k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -EINVAL;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -EINVAL;
	*i += n + 1;
	*ret = cp;
	return 0;
}

/*
 * How code point cp is escaped in a quoted YAML or JSON string: writes the
 * escape to buf and returns it, or NULL to copy the bytes unchanged.
 */
static const char *quote_escape(enum ib_tpl_context ctx, uint32_t cp, char buf[12])
{
	bool yaml = ctx == IB_TPL_YAML;

	switch (cp) {
	case '"': return "\\\"";
	case '\\': return "\\\\";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case '\b': return "\\b";
	case '\f': return "\\f";
	default: break;
	}
	if (cp < 0x20 || cp == 0x7f || (yaml && cp >= 0x80 && cp <= 0x9f)) {
		snprintf(buf, 12, yaml ? "\\x%02X" : "\\u%04x", (unsigned)cp);
		return buf;
	}
	if (cp == 0x2028 || cp == 0x2029 ||
	    (yaml && (cp == 0xfeff || cp == 0xfffe || cp == 0xffff))) {
		snprintf(buf, 12, "\\u%04X", (unsigned)cp);
		return buf;
	}
	return NULL;
}

/* Writes s as a YAML double-quoted scalar or a JSON string literal. */
static int put_quoted(struct ib_tpl_writer *w, const char *s, size_t len, const char **why)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;
	char buf[12];
	int e = ib_tpl_put(w, "\"", 1);

	while (e == 0 && i < len) {
		size_t at = i;
		uint32_t cp;
		const char *esc;

		if (utf8_next(u, len, &i, &cp) < 0) {
			*why = "is not valid UTF-8";
			return -EINVAL;
		}
		esc = quote_escape(w->ctx, cp, buf);
		if (!esc)
			continue;
		e = ib_tpl_put(w, s + run, at - run);
		if (e == 0)
			e = puts_(w, esc);
		run = i;
	}
	if (e == 0)
		e = ib_tpl_put(w, s + run, len - run);
	return e ? e : ib_tpl_put(w, "\"", 1);
}

/* TEXT: raw, refusing anything a reader could take as a line break. */
static int put_text(struct ib_tpl_writer *w, const char *s, size_t len, const char **why)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		if (utf8_next(u, len, &i, &cp) < 0) {
			*why = "is not valid UTF-8";
			return -EINVAL;
		}
		if ((cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029) {
			*why = "holds a control character or line separator";
			return -EINVAL;
		}
	}
	return ib_tpl_put(w, s, len);
}

/* SHELL: one single-quoted word; ' becomes '\''. */
static int put_shell(struct ib_tpl_writer *w, const char *s, size_t len)
{
	const char *q;
	int e = ib_tpl_put(w, "'", 1);

	while (e == 0 && (q = memchr(s, '\'', len)) != NULL) {
		e = ib_tpl_put(w, s, (size_t)(q - s));
		if (e == 0)
			e = ib_tpl_put(w, "'\\''", 4);
		len -= (size_t)(q - s) + 1;
		s = q + 1;
	}
	if (e == 0)
		e = ib_tpl_put(w, s, len);
	return e ? e : ib_tpl_put(w, "'", 1);
}

/* Writes the string value s in the template's context. */
int ib_tpl_put_value(struct ib_tpl_writer *w, const char *s, size_t len, const char **why)
{
	if (memchr(s, '\0', len)) {
		*why = "holds a NUL byte";
		return -EINVAL;
	}
	switch (w->ctx) {
	case IB_TPL_IPXE:
		*why = ipxe_refusal(&w->lex, s, len);
		return *why ? -EINVAL : ib_tpl_put(w, s, len);
	case IB_TPL_YAML:
	case IB_TPL_JSON:
		return put_quoted(w, s, len, why);
	case IB_TPL_SHELL:
		return put_shell(w, s, len);
	case IB_TPL_TEXT:
	default:
		return put_text(w, s, len, why);
	}
}
