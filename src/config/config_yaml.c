/*
 * YAML bytes -> node tree, through libyaml's event parser.
 *
 * The event API rather than libyaml's document loader because the loader
 * resolves aliases silently: a few lines of anchors can stand for millions
 * of nodes, and a config has no use for them.  Here an alias is an error at
 * its own mark, and nesting and node counts are capped as the tree grows.
 */
#include "config/config_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* The tree under construction: open collections, innermost last. */
struct builder {
	const struct ib_cfg_err *err;	/* where errors go */
	struct ib_ynode *root;		/* the document node, once seen */
	struct ib_ynode *open[IB_CONFIG_MAX_DEPTH]; /* open collections */
	size_t depth;			/* entries in open */
	size_t n_nodes;			/* nodes made so far */
	size_t n_documents;		/* DOCUMENT-START events seen */
};

void ib_ynode_free(struct ib_ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_items; i++)
		ib_ynode_free(n->items[i]);	/* depth <= IB_CONFIG_MAX_DEPTH */
	free(n->items);
	free(n->str);
	free(n);
}

bool ib_ynode_is_null(const struct ib_ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (!n || n->kind != IB_YNODE_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->str, nulls[i]) == 0)
			return true;
	return false;
}

const struct ib_ynode *ib_ynode_get(const struct ib_ynode *map, const char *key)
{
	if (!map || map->kind != IB_YNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i + 1 < map->n_items; i += 2) {
		const struct ib_ynode *k = map->items[i];

		if (k->kind == IB_YNODE_SCALAR && strcmp(k->str, key) == 0)
			return ib_ynode_is_null(map->items[i + 1]) ? NULL : map->items[i + 1];
	}
	return NULL;
}

const struct ib_ynode *ib_ynode_item(const struct ib_ynode *seq, size_t i)
{
	if (!seq || seq->kind != IB_YNODE_SEQUENCE || i >= seq->n_items)
		return NULL;
	return seq->items[i];
}

const char *ib_ynode_describe(const struct ib_ynode *n)
{
	if (ib_ynode_is_null(n))
		return "null";
	if (n->kind == IB_YNODE_SEQUENCE)
		return "a sequence";
	if (n->kind == IB_YNODE_MAPPING)
		return "a mapping";
	return "a scalar";
}

static int append_child(struct ib_ynode *parent, struct ib_ynode *child)
{
	if (parent->n_items == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ib_ynode **items = reallocarray(parent->items, cap, sizeof(*items));

		if (!items)
			return -ENOMEM;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->n_items++] = child;
	return 0;
}

static struct ib_ynode *plain_node(enum ib_ynode_kind kind, const char *str)
{
	struct ib_ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = n->col = 1;
	if (str) {
		n->plain = true;
		n->len = strlen(str);
		n->str = strdup(str);
		if (!n->str) {
			free(n);
			return NULL;
		}
	}
	return n;
}

struct ib_ynode *ib_ynode_new_mapping(void)
{
	return plain_node(IB_YNODE_MAPPING, NULL);
}

int ib_ynode_append_to(struct ib_ynode *root, const char *key, struct ib_ynode *item)
{
	struct ib_ynode *k, *seq;

	if (!root || root->kind != IB_YNODE_MAPPING)
		return -EINVAL;
	for (size_t i = 0; i + 1 < root->n_items; i += 2) {
		if (root->items[i]->kind != IB_YNODE_SCALAR || strcmp(root->items[i]->str, key))
			continue;
		seq = root->items[i + 1];
		if (ib_ynode_is_null(seq)) {
			/* "machines:" with no value: becomes the sequence */
			free(seq->str);
			seq->str = NULL;
			seq->len = 0;
			seq->kind = IB_YNODE_SEQUENCE;
		}
		if (seq->kind != IB_YNODE_SEQUENCE)
			return -EINVAL;
		return append_child(seq, item);
	}
	k = plain_node(IB_YNODE_SCALAR, key);
	seq = plain_node(IB_YNODE_SEQUENCE, NULL);
	if (!k || !seq || append_child(seq, item) < 0)
		goto err_nomem;
	if (append_child(root, k) < 0)
		goto err_nomem;
	if (append_child(root, seq) < 0) {
		root->n_items--;	/* k goes with the error path */
		goto err_nomem;
	}
	return 0;

err_nomem:
	if (seq)
		seq->n_items = 0;	/* item stays the caller's */
	ib_ynode_free(seq);
	ib_ynode_free(k);
	return -ENOMEM;
}

void ib_ynode_set_origin(struct ib_ynode *n, const char *origin)
{
	if (!n)
		return;
	n->origin = origin;
	for (size_t i = 0; i < n->n_items; i++)
		ib_ynode_set_origin(n->items[i], origin);
}

/* Hangs a new node under the innermost open collection (or makes it the
 * root) and, for a collection, opens it.  Takes ownership of n. */
static int builder_add(struct builder *b, struct ib_ynode *n, const yaml_event_t *ev)
{
	uint32_t line = (uint32_t)ev->start_mark.line + 1;
	uint32_t col = (uint32_t)ev->start_mark.column + 1;

	if (++b->n_nodes > IB_CONFIG_MAX_NODES) {
		ib_ynode_free(n);
		return ib_cfg_fail(b->err, line, col, NULL,
				   "too many YAML nodes (at most %u)", IB_CONFIG_MAX_NODES);
	}
	if (b->depth == 0)
		b->root = n;
	else if (append_child(b->open[b->depth - 1], n) < 0) {
		ib_ynode_free(n);
		return -ENOMEM;
	}
	if (n->kind == IB_YNODE_SCALAR)
		return 0;
	if (b->depth == IB_CONFIG_MAX_DEPTH)
		return ib_cfg_fail(b->err, line, col, NULL,
				   "nested too deeply (at most %d levels)", IB_CONFIG_MAX_DEPTH);
	b->open[b->depth++] = n;
	return 0;
}

static struct ib_ynode *node_new(enum ib_ynode_kind kind, const yaml_event_t *ev)
{
	struct ib_ynode *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (uint32_t)ev->start_mark.line + 1;
	n->col = (uint32_t)ev->start_mark.column + 1;
	return n;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ib_ynode *n = node_new(IB_YNODE_SCALAR, ev);

	if (!n)
		return -ENOMEM;
	n->len = ev->data.scalar.length;
	n->str = malloc(n->len + 1);
	if (!n->str) {
		ib_ynode_free(n);
		return -ENOMEM;
	}
	memcpy(n->str, ev->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	n->plain = ev->data.scalar.plain_implicit &&
		   ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return builder_add(b, n, ev);
}

static int on_collection(struct builder *b, const yaml_event_t *ev,
			 enum ib_ynode_kind kind)
{
	struct ib_ynode *n = node_new(kind, ev);

	if (!n)
		return -ENOMEM;
	return builder_add(b, n, ev);
}

/* Feeds one event to the builder. */
static int on_event(struct builder *b, const yaml_event_t *ev)
{
	uint32_t line = (uint32_t)ev->start_mark.line + 1;
	uint32_t col = (uint32_t)ev->start_mark.column + 1;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->n_documents++ > 0)
			return ib_cfg_fail(b->err, line, col, NULL,
					   "yaml: only one document is allowed");
		return 0;
	case YAML_ALIAS_EVENT:
		return ib_cfg_fail(b->err, line, col, NULL,
				   "yaml: aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection(b, ev, IB_YNODE_SEQUENCE);
	case YAML_MAPPING_START_EVENT:
		return on_collection(b, ev, IB_YNODE_MAPPING);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	default:
		return 0;
	}
}

/* Reader errors (bad UTF-8) carry a byte offset, not a mark. */
static void offset_to_mark(const unsigned char *buf, size_t len, size_t off,
			   uint32_t *line, uint32_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int syntax_error(const struct ib_cfg_err *err, const yaml_parser_t *p,
			const void *buf, size_t len)
{
	uint32_t line = (uint32_t)p->problem_mark.line + 1;
	uint32_t col = (uint32_t)p->problem_mark.column + 1;
	const char *problem = p->problem ? p->problem : "syntax error";

	if (p->error == YAML_MEMORY_ERROR)
		return ib_cfg_fail_nomem(err);
	if (p->error == YAML_READER_ERROR) {
		offset_to_mark(buf, len, p->problem_offset, &line, &col);
		return ib_cfg_fail(err, line, col, NULL, "yaml: %s", problem);
	}
	if (p->context)
		return ib_cfg_fail(err, line, col, NULL, "yaml: %s (%s at line %zu)",
				   problem, p->context, p->context_mark.line + 1);
	return ib_cfg_fail(err, line, col, NULL, "yaml: %s", problem);
}

int ib_yaml_parse(const struct ib_cfg_err *err, const void *buf, size_t len,
		  struct ib_ynode **ret)
{
	struct builder b = { .err = err };
	yaml_parser_t parser;
	bool done = false;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return ib_cfg_fail_nomem(err);
	yaml_parser_set_input_string(&parser, buf, len);
	while (!done && r == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			r = syntax_error(err, &parser, buf, len);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (r < 0) {
		if (r == -ENOMEM)
			ib_cfg_fail_nomem(err);
		ib_ynode_free(b.root);
		return r;
	}
	*ret = b.root;
	return 0;
}
