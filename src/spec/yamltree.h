/*
 * yamltree: a YAML document loaded into a small tree of scalars, lists
 * and mappings that remembers where every node (and every mapping key)
 * was written, so that task and config errors can point at file:line:col.
 *
 * The loader is built for untrusted input: the text is capped at
 * YAMLTREE_MAX_INPUT bytes, nesting at YAMLTREE_MAX_DEPTH levels and the
 * tree at YAMLTREE_MAX_NODES nodes; aliases (*name) are refused, so no
 * "billion laughs"; duplicate mapping keys are reported. Only the first
 * document of a stream is accepted.
 *
 * Scalars keep their text exactly as written; the loader does not guess
 * types. ynode_is_null() tells the YAML null (an empty plain value, "~",
 * "null") from a string, and ynode_kind() names a node's YAML type for
 * messages ("a list", "a mapping", "null", "a string", ...).
 */
#ifndef FRUGAL_SPEC_YAMLTREE_H
#define FRUGAL_SPEC_YAMLTREE_H

#include <stddef.h>

#include "spec/task.h"

#define YAMLTREE_MAX_INPUT (1024 * 1024)
#define YAMLTREE_MAX_DEPTH 64
#define YAMLTREE_MAX_NODES 100000

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode;

/* One key: value pair of a mapping. The key is always a scalar. */
struct ypair {
	struct ynode *key;
	struct ynode *value;
};

struct ynode {
	enum ynode_type type;
	int line;		/* 1-based */
	int col;		/* 1-based, in characters */
	/* YNODE_SCALAR */
	char *str;		/* the text, NUL-terminated, never NULL */
	size_t len;
	int plain;		/* written without quotes or |/> block style */
	/* YNODE_SEQ */
	struct ynode **items;
	size_t n_items, alloc_items;
	/* YNODE_MAP, in the order written */
	struct ypair *pairs;
	size_t n_pairs, alloc_pairs;
};

/*
 * Parse buf (len bytes; file names it in diagnostics) into a tree. On
 * success returns 0 and sets *ret_root, which is NULL for an empty
 * document; free it with yamltree_free(). Problems that do not stop the
 * loading (a duplicate key, which is dropped keeping the first; a NUL
 * inside a string) are appended to diags with 0 still returned: a caller
 * that wants all problems compares diags->n before and after. A syntax
 * error, an alias or a limit passed is one diagnostic and FRUGAL_EINVAL
 * (FRUGAL_ETOOBIG for the size cap), with *ret_root untouched.
 */
int yamltree_load(const char *buf, size_t len, const char *file,
		  struct ynode **ret_root, struct diag_list *diags);

/* Free a tree (NULL is fine). */
void yamltree_free(struct ynode *n);

/* The value for key in mapping map, or NULL (also when map is not a map). */
const struct ynode *ynode_get(const struct ynode *map, const char *key);

/* 1 when n is the YAML null: an empty plain scalar, "~", "null", "Null",
 * "NULL" (or n itself is NULL). */
int ynode_is_null(const struct ynode *n);

/* 1 when n is a plain scalar spelling a YAML 1.1 boolean (true/false,
 * yes/no, on/off in any of their usual cases); its value in *ret. */
int ynode_bool(const struct ynode *n, int *ret);

/* The YAML type of n for messages: "a list", "a mapping", "null",
 * "a boolean", "a number" or "a string". */
const char *ynode_kind(const struct ynode *n);

#endif
