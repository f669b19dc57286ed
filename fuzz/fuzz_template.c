/*
 * libFuzzer target for templates.
 *
 * The first half of the input is compiled as a template in every context;
 * the second half, split at '\n', gives string values (any bytes) under
 * the keys a..h, as a list "l", inside an object "o", or, if it parses as
 * JSON, the root itself.  Each template renders under a small output cap.
 * Properties, any broken one aborts:
 *   - compile and render return only their documented errors, messages
 *     carry the template name, output never exceeds the cap nor holds NUL;
 *   - IPXE: rendering again with every string replaced by a benign one of
 *     the same emptiness gives a script of the same shape to iPXE (lines,
 *     first words, chaining and comment tokens, "${", leading '-');
 *   - each value alone renders in JSON, YAML and SHELL to something that
 *     parses back (jansson, libyaml, POSIX quoting) to exactly the value,
 *     or is refused; in TEXT and IPXE it is copied as is, or refused, and
 *     refused exactly when the context's rule says so.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "http/template.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)
#define OUT_MAX (64u << 10)	/* rendered bytes per render */
#define PIECES_MAX 16		/* values taken from the input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* iPXE's view of a script; see tests/unit/test_template.c. */
struct shape {
	uint64_t hash;		/* lines and their first words */
	unsigned lines, chains, comments, expansions, dashes;
};

static bool ipxe_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Tokenises s[0..len) as iPXE's script.c and exec.c do. */
static void shape_of(const char *s, size_t len, struct shape *sh)
{
	size_t i = 0;

	memset(sh, 0, sizeof(*sh));
	while (i < len) {
		size_t e = i, k = 0;

		while (e < len && s[e] != '\n')
			e++;
		sh->lines++;
		sh->hash = sh->hash * 1000003u + 7;
		for (size_t t = i; t < e; k++) {
			size_t b;

			while (t < e && ipxe_space(s[t]))
				t++;
			if (t == e)
				break;
			/* the first word, unless a comment (whose text is inert) */
			for (b = t; t < e && !ipxe_space(s[t]); t++)
				if (k == 0 && s[b] != '#')
					sh->hash = sh->hash * 31 + (unsigned char)s[t];
			sh->chains += (t - b == 2 && s[b] == s[b + 1] &&
				       (s[b] == '|' || s[b] == '&')) ||
				      (t - b == 1 && s[b] == ';');
			sh->dashes += s[b] == '-';
			for (size_t d = b; d + 1 < t; d++)
				sh->expansions += s[d] == '$' && s[d + 1] == '{';
			if (s[b] == '#') {
				sh->comments++;
				break;
			}
		}
		i = e + 1;
	}
}

/* A deep copy of v with every string replaced by "x" (or "" if empty). */
static json_t *benign(const json_t *v)
{
	const char *key;
	json_t *c, *item;
	size_t i;

	if (json_is_string(v))
		return json_string(json_string_length(v) ? "x" : "");
	if (json_is_array(v)) {
		c = json_array();
		json_array_foreach(v, i, item)
			json_array_append_new(c, benign(item));
		return c;
	}
	if (json_is_object(v)) {
		c = json_object();
		json_object_foreach((json_t *)v, key, item)
			json_object_set_new(c, key, benign(item));
		return c;
	}
	return json_deep_copy(v);
}

static int render(const struct ib_tpl *t, const json_t *root, struct ib_tpl_out *out)
{
	int r = ib_tpl_render(t, root, out);

	CHECK(r == 0 || r == -EINVAL || r == -E2BIG);
	CHECK(out->len <= OUT_MAX);
	if (r == 0)
		CHECK(strlen(out->buf) == out->len);
	else
		CHECK(out->len == 0 && strncmp(out->err, "f", 1) == 0);
	return r;
}

static void check_template(const char *src, size_t len, const json_t *root)
{
	for (int ctx = IB_TPL_TEXT; ctx <= IB_TPL_SHELL; ctx++) {
		struct ib_tpl_out out, out2;
		struct shape a, b;
		char err[IB_TPL_ERRLEN];
		struct ib_tpl *t;
		json_t *plain;
		int r = ib_tpl_compile("f", src, len, ctx, &t, err);

		CHECK(r == 0 || r == -EINVAL);
		if (r < 0) {
			CHECK(strncmp(err, "f:", 2) == 0);
			return;		/* the same in every context */
		}
		ib_tpl_out_init(&out, OUT_MAX);
		if (render(t, root, &out) == 0 && ctx == IB_TPL_IPXE) {
			ib_tpl_out_init(&out2, OUT_MAX);
			plain = benign(root);
			CHECK(render(t, plain, &out2) == 0);
			shape_of(out.buf, out.len, &a);
			shape_of(out2.buf, out2.len, &b);
			CHECK(memcmp(&a, &b, sizeof(a)) == 0);
			json_decref(plain);
			ib_tpl_out_done(&out2);
		}
		ib_tpl_out_done(&out);
		ib_tpl_free(t);
	}
}

/* The scalar after "k: " in a YAML document, or -1. */
static long yaml_value(const char *doc, size_t len, char *buf, size_t cap)
{
	yaml_parser_t p;
	yaml_event_t e;
	int scalars = 0;
	long r = -1;
	bool done = false;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, len);
	while (!done && yaml_parser_parse(&p, &e)) {
		if (e.type == YAML_SCALAR_EVENT && ++scalars == 2 &&
		    e.data.scalar.length <= cap) {
			memcpy(buf, e.data.scalar.value, e.data.scalar.length);
			r = (long)e.data.scalar.length;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return done && scalars == 2 ? r : -1;
}

/* Undoes the SHELL quoting of one word; -1 if it is not one. */
static long shell_word(const char *s, size_t len, char *buf)
{
	size_t i = 0, o = 0;

	while (i < len) {
		const char *q;

		if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\'') {
			buf[o++] = '\'';
			i += 2;
			continue;
		}
		if (s[i] != '\'' || !(q = memchr(s + i + 1, '\'', len - i - 1)))
			return -1;
		memcpy(buf + o, s + i + 1, (size_t)(q - s) - i - 1);
		o += (size_t)(q - s) - i - 1;
		i = (size_t)(q - s) + 1;
	}
	return (long)o;
}

/* What the IPXE rule says about value v at the start of an argument. */
static bool ipxe_allowed(const char *v, size_t len)
{
	bool all_term = true;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x21 || c > 0x7e || strchr("${}\\", c))
			return false;
		all_term = all_term && strchr("|&;", c);
	}
	return len == 0 || (!all_term && v[0] != '#' && v[0] != '-');
}

/* Renders "<prefix>{{a}}" in ctx with a = v; the rc, output in out. */
static int render_one(enum ib_tpl_context ctx, const char *src, json_t *root,
		      struct ib_tpl_out *out)
{
	struct ib_tpl *t;
	int r;

	CHECK(ib_tpl_compile("f", src, strlen(src), ctx, &t, NULL) == 0);
	r = render(t, root, out);
	ib_tpl_free(t);
	return r;
}

static void check_value(const char *v, size_t len, char *buf)
{
	json_t *root = json_object(), *s = json_stringn(v, len), *back;
	bool nul = memchr(v, '\0', len) != NULL, utf8 = s != NULL;
	struct ib_tpl_out out;
	long n;

	json_decref(s);
	json_object_set_new(root, "a", json_stringn_nocheck(v, len));
	ib_tpl_out_init(&out, OUT_MAX);
	if (render_one(IB_TPL_JSON, "{{a}}", root, &out) == 0) {
		back = json_loadb(out.buf, out.len, JSON_DECODE_ANY, NULL);
		CHECK(json_is_string(back) && json_string_length(back) == len &&
		      memcmp(json_string_value(back), v, len) == 0);
		json_decref(back);
	} else {
		CHECK(nul || !utf8);
	}
	if (render_one(IB_TPL_YAML, "k: {{a}}", root, &out) == 0) {
		n = yaml_value(out.buf, out.len, buf, 4 * len + 8);
		CHECK(n == (long)len && memcmp(buf, v, len) == 0);
	} else {
		CHECK(nul || !utf8);
	}
	if (render_one(IB_TPL_SHELL, "{{a}}", root, &out) == 0)
		CHECK(shell_word(out.buf, out.len, buf) == (long)len && memcmp(buf, v, len) == 0);
	else
		CHECK(nul);
	if (render_one(IB_TPL_TEXT, "{{a}}", root, &out) == 0)
		CHECK(out.len == len && memcmp(out.buf, v, len) == 0 && utf8);
	if (render_one(IB_TPL_IPXE, "echo {{a}}", root, &out) == 0)
		CHECK(out.len == len + 5 && memcmp(out.buf + 5, v, len) == 0 &&
		      ipxe_allowed(v, len));
	else
		CHECK(!ipxe_allowed(v, len));
	ib_tpl_out_done(&out);
	json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *half = (const char *)data + size / 2, *end = (const char *)data + size;
	json_t *root = json_object(), *list = json_array(), *obj = json_object();
	char key[2] = "a", *buf = malloc(4 * size + 16);
	unsigned k = 0;

	CHECK(buf != NULL);
	for (const char *p = half; p <= end && k < PIECES_MAX; k++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		check_value(p, len, buf);
		key[0] = (char)('a' + k % 8);
		json_object_set_new(root, key, json_stringn_nocheck(p, len));
		json_object_set_new(obj, key, json_stringn_nocheck(p, len));
		json_array_append_new(list, json_stringn_nocheck(p, len));
		p += len + 1;
	}
	json_object_set_new(obj, "l", json_deep_copy(list));
	json_object_set_new(root, "l", list);
	json_object_set_new(root, "o", obj);
	json_object_set_new(root, "t", json_true());
	json_object_set_new(root, "n", json_integer(-7));
	check_template((const char *)data, size / 2, root);
	json_decref(root);
	root = json_loadb(half, (size_t)(end - half), 0, NULL);
	if (root)
		check_template((const char *)data, size / 2, root);
	json_decref(root);
	free(buf);
	return 0;
}
