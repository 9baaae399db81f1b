/*
 * yamltree: libyaml's event stream folded into a tree of ynodes with
 * positions. See yamltree.h.
 */
#include "spec/yamltree.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

/* One open list or mapping while the events of its children arrive. */
struct frame {
	struct ynode *node;
	struct ynode *pending_key;	/* mapping: key read, value not yet */
	char *path;			/* dotted path of node; NULL at the top */
};

struct loader {
	const char *file;
	struct diag_list *diags;
	struct frame stack[YAMLTREE_MAX_DEPTH];
	size_t depth;
	size_t n_nodes;
	struct ynode *root;
	int failed;
};

/* A new node of type at the event's start mark. */
static struct ynode *node_new(enum ynode_type type, const yaml_mark_t *mark)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = (int)mark->line + 1;
	n->col = (int)mark->column + 1;
	return n;
}

void yamltree_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	free(n->str);
	for (i = 0; i < n->n_items; i++)
		yamltree_free(n->items[i]);
	free(n->items);
	for (i = 0; i < n->n_pairs; i++) {
		yamltree_free(n->pairs[i].key);
		yamltree_free(n->pairs[i].value);
	}
	free(n->pairs);
	free(n);
}

/* Longest key shown in a path built while loading (keeps hostile, huge
 * keys from being copied into every path below them). */
#define PATH_KEY_MAX 128

/* The dotted path of the next node to arrive ("resources.cpus",
 * "outputs.paths[1]"), for diagnostics raised while loading. Caller
 * frees; NULL at the top. */
static char *loader_path(const struct loader *ld)
{
	const struct frame *f;
	const char *base;

	if (!ld->depth)
		return NULL;
	f = &ld->stack[ld->depth - 1];
	base = f->path ? f->path : "";
	if (f->node->type == YNODE_SEQ)
		return xasprintf("%s[%zu]", base, f->node->n_items);
	if (!f->pending_key)
		return xstrdup(f->path);
	return xasprintf("%s%s%.*s%s", base, *base ? "." : "", PATH_KEY_MAX,
			 f->pending_key->str, f->pending_key->len > PATH_KEY_MAX ? "..." : "");
}

/* A mapping key and its index, sorted to find repeats. */
struct keyref {
	const struct ynode *key;
	size_t index;
};

/* Order of two keys by text, then by position in the mapping. */
static int cmp_keyref(const void *a, const void *b)
{
	const struct keyref *ra = a, *rb = b;
	size_t n = ra->key->len < rb->key->len ? ra->key->len : rb->key->len;
	int c = memcmp(ra->key->str, rb->key->str, n);

	if (c)
		return c;
	if (ra->key->len != rb->key->len)
		return ra->key->len < rb->key->len ? -1 : 1;
	return ra->index < rb->index ? -1 : ra->index > rb->index;
}

/*
 * Report every key of the finished mapping map that repeats an earlier
 * one, and drop the repeats (the first stays). Sorting keeps this
 * O(n log n) on hostile input.
 */
static void check_duplicates(struct loader *ld, struct ynode *map, const char *path)
{
	struct keyref *refs;
	const struct ynode *first = NULL;
	char *drop;
	size_t i, kept = 0;

	if (map->n_pairs < 2)
		return;
	refs = xmalloc(map->n_pairs * sizeof(*refs));
	drop = xcalloc(map->n_pairs, 1);
	for (i = 0; i < map->n_pairs; i++) {
		refs[i].key = map->pairs[i].key;
		refs[i].index = i;
	}
	qsort(refs, map->n_pairs, sizeof(*refs), cmp_keyref);
	for (i = 0; i < map->n_pairs; i++) {
		const struct ynode *k = refs[i].key;
		char *full;

		if (!first || first->len != k->len || memcmp(first->str, k->str, k->len)) {
			first = k;	/* a new run of equal keys starts */
			continue;
		}
		full = path ? xasprintf("%s.%s", path, k->str) : xstrdup(k->str);
		diag_add(ld->diags, ld->file, k->line, k->col, full,
			 "duplicate key '%s' (first given at line %d)", k->str, first->line);
		free(full);
		drop[refs[i].index] = 1;
	}
	for (i = 0; i < map->n_pairs; i++) {
		if (drop[i]) {
			yamltree_free(map->pairs[i].key);
			yamltree_free(map->pairs[i].value);
		} else {
			map->pairs[kept++] = map->pairs[i];
		}
	}
	map->n_pairs = kept;
	free(drop);
	free(refs);
}

/* Hang n under the innermost open list or mapping (or make it the root).
 * Returns 0, or -1 after a diagnostic (n is freed then). */
static int attach(struct loader *ld, struct ynode *n)
{
	struct frame *f;

	if (ld->depth == 0) {
		ld->root = n;
		return 0;
	}
	f = &ld->stack[ld->depth - 1];
	if (f->node->type == YNODE_SEQ) {
		XGROW(f->node->items, f->node->n_items + 1, f->node->alloc_items);
		f->node->items[f->node->n_items++] = n;
		return 0;
	}
	if (!f->pending_key) {
		if (n->type != YNODE_SCALAR) {
			diag_add(ld->diags, ld->file, n->line, n->col, NULL,
				 "a mapping key must be a plain string, not %s",
				 ynode_kind(n));
			yamltree_free(n);
			return -1;
		}
		f->pending_key = n;
		return 0;
	}
	XGROW(f->node->pairs, f->node->n_pairs + 1, f->node->alloc_pairs);
	f->node->pairs[f->node->n_pairs].key = f->pending_key;
	f->node->pairs[f->node->n_pairs].value = n;
	f->node->n_pairs++;
	f->pending_key = NULL;
	return 0;
}

/* Count one more node against the cap. Returns 0 or -1 after a diag. */
static int count_node(struct loader *ld, const yaml_mark_t *mark)
{
	if (++ld->n_nodes <= YAMLTREE_MAX_NODES)
		return 0;
	diag_add(ld->diags, ld->file, (int)mark->line + 1, (int)mark->column + 1,
		 NULL, "document has more than %d values", YAMLTREE_MAX_NODES);
	return -1;
}

/* A scalar event becomes a leaf. */
static int on_scalar(struct loader *ld, const yaml_event_t *ev)
{
	struct ynode *n;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (count_node(ld, &ev->start_mark) < 0)
		return -1;
	n = node_new(YNODE_SCALAR, &ev->start_mark);
	/* all len bytes, NULs included (xstrndup would stop at one) */
	n->len = ev->data.scalar.length;
	n->str = xmalloc(n->len + 1);
	memcpy(n->str, ev->data.scalar.value, n->len);
	n->str[n->len] = '\0';
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (tag && (!strcmp(tag, YAML_STR_TAG) || !strcmp(tag, "!")))
		n->plain = 0;
	if (strlen(n->str) != n->len) {
		char *path = loader_path(ld);
		diag_add(ld->diags, ld->file, n->line, n->col, path,
			 "strings may not contain NUL characters");
		free(path);
	}
	return attach(ld, n);
}

/* A list or mapping opens: attach it and push a frame. */
static int on_open(struct loader *ld, const yaml_event_t *ev, enum ynode_type type)
{
	struct ynode *n;
	char *path;

	if (ld->depth >= YAMLTREE_MAX_DEPTH) {
		diag_add(ld->diags, ld->file, (int)ev->start_mark.line + 1,
			 (int)ev->start_mark.column + 1, NULL,
			 "values nested deeper than %d levels", YAMLTREE_MAX_DEPTH);
		return -1;
	}
	if (count_node(ld, &ev->start_mark) < 0)
		return -1;
	n = node_new(type, &ev->start_mark);
	path = loader_path(ld);
	if (attach(ld, n) < 0) {
		free(path);
		return -1;
	}
	ld->stack[ld->depth].node = n;
	ld->stack[ld->depth].pending_key = NULL;
	ld->stack[ld->depth].path = path;
	ld->depth++;
	return 0;
}

/* A list or mapping closes. */
static void on_close(struct loader *ld)
{
	struct frame *f;

	if (!ld->depth)
		return;
	f = &ld->stack[ld->depth - 1];
	/* a key without a value cannot come from libyaml, but be safe */
	yamltree_free(f->pending_key);
	f->pending_key = NULL;
	ld->depth--;
	if (f->node->type == YNODE_MAP)
		check_duplicates(ld, f->node, f->path);
	free(f->path);
	f->path = NULL;
}

/* Line and column of a byte offset, for reader errors that carry no mark. */
static void offset_position(const char *buf, size_t len, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* libyaml's error as one diagnostic. */
static void syntax_error(struct loader *ld, const yaml_parser_t *p, const char *buf, size_t len)
{
	int line, col;
	const char *problem = p->problem ? p->problem : "cannot parse";

	if (p->error == YAML_READER_ERROR) {
		offset_position(buf, len, p->problem_offset, &line, &col);
		diag_add(ld->diags, ld->file, line, col, NULL,
			 "invalid YAML: %s", problem);
		return;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		diag_add(ld->diags, ld->file, line, col, NULL,
			 "invalid YAML: %s (%s at line %d)", problem, p->context,
			 (int)p->context_mark.line + 1);
	else
		diag_add(ld->diags, ld->file, line, col, NULL,
			 "invalid YAML: %s", problem);
}

/* Hand one event to the tree. Returns 1 when the document is done, 0 to
 * go on, -1 after a diagnostic. */
static int on_event(struct loader *ld, const yaml_event_t *ev, int *docs)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			diag_add(ld->diags, ld->file, (int)ev->start_mark.line + 1,
				 (int)ev->start_mark.column + 1, NULL,
				 "only one YAML document is allowed, found a second '---'");
			return -1;
		}
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(ld, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(ld, ev, YNODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_open(ld, ev, YNODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_close(ld);
		return 0;
	case YAML_ALIAS_EVENT:
		diag_add(ld->diags, ld->file, (int)ev->start_mark.line + 1,
			 (int)ev->start_mark.column + 1, NULL,
			 "aliases ('*%s') are not supported; write the value out",
			 (const char *)ev->data.alias.anchor);
		return -1;
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

int yamltree_load(const char *buf, size_t len, const char *file,
		  struct ynode **ret_root, struct diag_list *diags)
{
	yaml_parser_t parser;
	struct loader ld;
	int docs = 0, r = 0;

	if (len > YAMLTREE_MAX_INPUT) {
		diag_add(diags, file, 0, 0, NULL, "file is larger than %d bytes",
			 YAMLTREE_MAX_INPUT);
		return FRUGAL_ETOOBIG;
	}
	memset(&ld, 0, sizeof(ld));
	ld.file = file;
	ld.diags = diags;
	if (!yaml_parser_initialize(&parser))
		abort();	/* out of memory */
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_event_t ev;
		int done;

		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&ld, &parser, buf, len);
			r = FRUGAL_EINVAL;
			break;
		}
		done = on_event(&ld, &ev, &docs);
		yaml_event_delete(&ev);
		if (done < 0) {
			r = FRUGAL_EINVAL;
			break;
		}
		if (done)
			break;
	}
	yaml_parser_delete(&parser);
	if (r < 0) {
		/* open lists and mappings hang from the root already; only
		 * keys still waiting for their value are loose */
		size_t i;

		for (i = 0; i < ld.depth; i++) {
			yamltree_free(ld.stack[i].pending_key);
			free(ld.stack[i].path);
		}
		yamltree_free(ld.root);
		return r;
	}
	*ret_root = ld.root;
	return 0;
}

const struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	size_t i;

	if (!map || map->type != YNODE_MAP)
		return NULL;
	for (i = 0; i < map->n_pairs; i++)
		if (!strcmp(map->pairs[i].key->str, key))
			return map->pairs[i].value;
	return NULL;
}

int ynode_is_null(const struct ynode *n)
{
	if (!n)
		return 1;
	if (n->type != YNODE_SCALAR || !n->plain)
		return 0;
	return !strcmp(n->str, "") || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

int ynode_bool(const struct ynode *n, int *ret)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					   "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO",
					  "off", "Off", "OFF" };
	size_t i;

	if (!n || n->type != YNODE_SCALAR || !n->plain)
		return 0;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(n->str, yes[i])) {
			*ret = 1;
			return 1;
		}
		if (!strcmp(n->str, no[i])) {
			*ret = 0;
			return 1;
		}
	}
	return 0;
}

/* 1 when s reads as a YAML number (decimal, with optional fraction and
 * exponent, or .inf/.nan). */
static int looks_numeric(const char *s)
{
	int digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF"))
		return 1;
	while ((*s >= '0' && *s <= '9') || *s == '_') {
		digits++;
		s++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			digits++;
			s++;
		}
	}
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

const char *ynode_kind(const struct ynode *n)
{
	int b;

	if (ynode_is_null(n))
		return "null";
	if (n->type == YNODE_SEQ)
		return "a list";
	if (n->type == YNODE_MAP)
		return "a mapping";
	if (ynode_bool(n, &b))
		return "a boolean";
	if (n->plain && looks_numeric(n->str))
		return "a number";
	return "a string";
}
