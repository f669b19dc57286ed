/*
 * Internal to the template module: the writer a render goes through.  It
 * appends to an ib_tpl_out under its cap and escapes values for the
 * template's context; for iPXE it also models the script parser, so it
 * can tell where a value lands (see template_escape.c).
 */
#ifndef IB_HTTP_TEMPLATE_ESCAPE_H
#define IB_HTTP_TEMPLATE_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

#include "http/template.h"

/* What iPXE's script parser makes of the bytes rendered so far. */
struct ipxe_lex {
	bool line_start;	/* only blanks so far on this line */
	bool cmd_next;		/* the next token is a command name */
	bool in_tok;		/* inside a token */
	bool tok_fixed;		/* the current token is a command name or label */
	bool comment;		/* the rest of the line is a comment */
	bool continued;		/* a line continuation was rendered */
	char tok[2];		/* first bytes of the current token */
	size_t tok_len;		/* bytes in the current token */
	char prev, prev2;	/* the last two bytes */
};

/* The output of one render. */
struct ib_tpl_writer {
	struct ib_tpl_out *out;		/* buffer, cap and error text */
	enum ib_tpl_context ctx;	/* escaping of values */
	struct ipxe_lex lex;		/* IPXE: the parser model */
};

/* Starts writing into out (emptied) for context ctx. */
void ib_tpl_writer_init(struct ib_tpl_writer *w, struct ib_tpl_out *out,
			enum ib_tpl_context ctx);

/*
 * Appends template bytes as they are.  0, -E2BIG past out->max, -ENOMEM.
 * Keeps room for a NUL after the bytes.
 */
int ib_tpl_put(struct ib_tpl_writer *w, const char *p, size_t n);

/*
 * Appends the string value s[0..len) escaped for the context.  On -EINVAL
 * *why says what about the value was refused (never the value itself).
 */
int ib_tpl_put_value(struct ib_tpl_writer *w, const char *s, size_t len,
		     const char **why);

#endif
