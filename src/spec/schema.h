/*
 * schema: the small readers that task.c and config.c validate YAML with.
 * Each reads one value of a yamltree, and either stores it or appends one
 * diagnostic saying what was expected and what was found
 * ("expected a positive integer, got 'abc'", "... got a list") and
 * returns -1, so a caller can go on and find every problem of a file.
 *
 * Paths are dotted key paths ("resources.accelerators[1]") for the
 * diagnostic's key; positions are the node's.
 */
#ifndef FRUGAL_SPEC_SCHEMA_H
#define FRUGAL_SPEC_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "spec/task.h"
#include "spec/yamltree.h"

/* Where diagnostics go. */
struct schema {
	const char *file;
	struct diag_list *diags;
};

/* A diagnostic at node n (0:0 when n is NULL). */
void schema_report(struct schema *sc, const struct ynode *n, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A warning at node n: the key is read but has no effect. */
void schema_warn(struct schema *sc, const struct ynode *n, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* "expected WHAT, got VALUE". */
void schema_expected(struct schema *sc, const struct ynode *n, const char *path,
		     const char *what);
/* "expected one of a, b, got 'x'; did you mean 'y'?" */
void schema_expected_one_of(struct schema *sc, const struct ynode *n, const char *path,
			    const char *const *choices, size_t n_choices);
/* "unknown key 'x'; did you mean 'y'?" at the key k. */
void schema_unknown_key(struct schema *sc, const struct ynode *k, const char *path,
			const char *const *known, size_t n_known);

/* A node for messages: "a list", "a mapping", "null" or its text in
 * quotes, shortened and sanitised, in buf. */
const char *schema_describe(const struct ynode *n, char *buf, size_t size);
/* "prefix.key" (or "key" when prefix is NULL). Caller frees. */
char *schema_join_path(const char *prefix, const char *key);
/* s without surrounding blanks, copied into buf; NULL when it does not fit. */
const char *schema_trim(const char *s, char *buf, size_t size);
/* Whole decimal integer / finite decimal number (no hex, inf, nan).
 * 0 or -1. */
int schema_parse_int(const char *s, long long *ret);
int schema_parse_number(const char *s, double *ret);
/* [A-Za-z_][A-Za-z0-9_]* */
int schema_is_env_name(const char *s);
/* scheme://something */
int schema_is_url(const char *s);

/*
 * Readers: 0 with the value stored, or -1 after a diagnostic. what is the
 * expectation in words ("a positive integer").
 */
/* The text of a non-null scalar (not copied), or NULL after a diag. */
const char *schema_text(struct schema *sc, const struct ynode *v, const char *path,
			const char *what);
/* A non-empty string into *out (replacing it); null leaves *out alone. */
int schema_string(struct schema *sc, const struct ynode *v, const char *path,
		  const char *what, char **out);
/* An integer in [min, max]. */
int schema_int(struct schema *sc, const struct ynode *v, const char *path,
	       long long min, long long max, const char *what, long long *ret);
/* A number > 0 (positive) or >= 0, at most 1e12. */
int schema_number(struct schema *sc, const struct ynode *v, const char *path,
		  int positive, const char *what, double *ret);
/* A duration ("90s", "10m", "1h30m", or seconds); 0 only when allow_zero. */
int schema_duration(struct schema *sc, const struct ynode *v, const char *path,
		    int allow_zero, int64_t *ret);
/* true/false, yes/no, on/off (quoted too). */
int schema_bool(struct schema *sc, const struct ynode *v, const char *path, int *ret);
/* The index of v's text among choices (exactly, or ignoring case), or -1
 * after "expected one of". */
int schema_choice(struct schema *sc, const struct ynode *v, const char *path,
		  const char *const *choices, size_t n, int icase);
/* 1 for a mapping, 0 for null (absent), -1 after a diagnostic. */
int schema_want_map(struct schema *sc, const struct ynode *v, const char *path,
		    const char *what);
/* A storage URL (scheme://...) into *out. */
int schema_url(struct schema *sc, const struct ynode *v, const char *path, char **out);

#endif
