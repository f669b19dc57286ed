/*
 * Logic-less, mustache-like templates for boot scripts and install configs.
 *
 * A template is compiled once (ib_tpl_compile) and rendered many times
 * (ib_tpl_render) against a tree of values.  The value tree is jansson's
 * json_t, built by the caller: objects for lookups, arrays for lists,
 * strings, integers, reals, booleans and null.  jansson is already a
 * dependency, and the caller usually has the machine as JSON anyway.
 *
 * Syntax:
 *   {{name}} {{a.b}}        a value, looked up through the context stack
 *                           (first segment: innermost context that has it;
 *                           further segments: inside what was found)
 *   {{.}}                   the current context (the item of a list)
 *   {{#name}}...{{/name}}   once per item of a non-empty array (the item is
 *                           pushed as context); once for any other truthy
 *                           value (pushed as context)
 *   {{^name}}...{{/name}}   once, when the value is falsy
 *   {{! comment }}          nothing
 * Falsy: missing, null, false, "", [] and {}.  Numbers are always truthy.
 * A section, inverted section, close or comment tag alone on its line
 * (only blanks around it) removes the whole line, as mustache does.
 * There are no partials, lambdas, delimiter changes or raw output:
 * "{{{" and "{{&" are compile errors, every value goes through the
 * escaping of the template's context (see template.c for the rules).
 *
 * Rendering a missing or null value gives nothing in the TEXT and IPXE
 * contexts and an empty literal ("" in YAML and JSON, '' in SHELL), so
 * the document stays well formed.  A value that is an array or
 * an object cannot be rendered as a variable (-EINVAL).
 */
#ifndef IB_HTTP_TEMPLATE_H
#define IB_HTTP_TEMPLATE_H

#include <stddef.h>

#include <jansson.h>

#define IB_TPL_ERRLEN 256		/* bytes of an error message, NUL included */
#define IB_TPL_SRC_MAX (1u << 20)	/* bytes of template source */
#define IB_TPL_DEPTH_MAX 16		/* sections open at once */
#define IB_TPL_TAG_NAME_MAX 128		/* bytes of a tag name */
#define IB_TPL_OUT_MAX (4u << 20)	/* default cap on rendered bytes */
#define IB_TPL_STEPS_MAX (1u << 22)	/* nodes visited by one render */

/* The language of the rendered document: chooses the escaping of values. */
enum ib_tpl_context {
	IB_TPL_TEXT,		/* plain text (kickstart): controls refused */
	IB_TPL_IPXE,		/* iPXE script: values stay inside one argument */
	IB_TPL_YAML,		/* YAML: values become double-quoted scalars */
	IB_TPL_JSON,		/* JSON (Ignition): values become string literals */
	IB_TPL_SHELL,		/* POSIX shell: values become single-quoted words */
};

/* A compiled template (opaque, immutable once compiled). */
struct ib_tpl;

/* A growable output buffer for renders, with a cap. */
struct ib_tpl_out {
	char *buf;			/* rendered bytes, NUL-terminated on success; owned */
	size_t len;			/* bytes rendered, NUL excluded */
	size_t cap;			/* bytes allocated at buf */
	size_t max;			/* most bytes a render may produce */
	char err[IB_TPL_ERRLEN];	/* why the last render failed, or "" */
};

/* Returns "text", "ipxe", "yaml", "json", "shell" (or "?"). */
const char *ib_tpl_context_name(enum ib_tpl_context ctx);

/*
 * Compiles src[0..len) into *ret.  name (e.g. the file name) prefixes
 * error messages.  On failure, err (IB_TPL_ERRLEN bytes, may be NULL)
 * receives "name:line:col: problem" and *ret is untouched.
 * Returns 0, -EINVAL (syntax), -EFBIG (longer than IB_TPL_SRC_MAX) or
 * -ENOMEM.  The template copies what it needs of src; free with
 * ib_tpl_free().
 */
int ib_tpl_compile(const char *name, const char *src, size_t len,
		   enum ib_tpl_context ctx, struct ib_tpl **ret, char *err);

/* Frees a compiled template; accepts NULL. */
void ib_tpl_free(struct ib_tpl *t);

/* Context the template was compiled for. */
enum ib_tpl_context ib_tpl_context(const struct ib_tpl *t);

/*
 * Prepares an empty output buffer; max caps the rendered size
 * (0: IB_TPL_OUT_MAX).  Allocates nothing until the first render.
 */
void ib_tpl_out_init(struct ib_tpl_out *out, size_t max);

/* Frees the buffer of out; the struct itself is the caller's. */
void ib_tpl_out_done(struct ib_tpl_out *out);

/*
 * Renders t with root as the outermost context (root may be NULL) into
 * out, replacing what out held.  root is only read.  On failure out->err
 * holds "name:line:col: problem", naming the tag but never echoing the
 * value, and out->len is 0.  Returns 0, -EINVAL (a value the context
 * refuses, or an array/object used as a value), -E2BIG (more than
 * out->max bytes or IB_TPL_STEPS_MAX steps) or -ENOMEM.
 */
int ib_tpl_render(const struct ib_tpl *t, const json_t *root,
		  struct ib_tpl_out *out);

#endif
