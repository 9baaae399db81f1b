/*
 * strmap: a hash table from strings to pointers (open addressing, FNV-1a
 * from base/hash.h), for lookups by id that must not be a linear scan:
 * the reconciler's per-job state, the live attempts of a pass, the
 * in-memory provider's instances.
 *
 * Keys are copied; values are the caller's (the map never frees them).
 * A struct strmap is caller-owned: STRMAP_INIT or strmap_init, then
 * strmap_release. Iterate with strmap_next; the map must not change
 * while an iteration runs, except through strmap_remove of the entry
 * just returned.
 */
#ifndef FRUGAL_BASE_STRMAP_H
#define FRUGAL_BASE_STRMAP_H

#include <stddef.h>

struct strmap_entry {
	char *key;	/* NULL: empty; STRMAP_GONE (internal): removed */
	void *value;
};

struct strmap {
	struct strmap_entry *e;
	size_t cap;	/* a power of two, or 0 */
	size_t n;	/* entries held */
	size_t used;	/* held + removed slots */
};
#define STRMAP_INIT { NULL, 0, 0, 0 }

void strmap_init(struct strmap *m);
/* Frees the keys and the table; the values are the caller's. */
void strmap_release(struct strmap *m);

/* The value of key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Set key to value (replacing what it had). */
void strmap_put(struct strmap *m, const char *key, void *value);
/* Remove key; returns the value it had, or NULL. */
void *strmap_remove(struct strmap *m, const char *key);
/* Entries held. */
static inline size_t strmap_count(const struct strmap *m)
{
	return m->n;
}

/* The next entry from *pos (start at 0): 1 and *ret_key, *ret_value
 * set, or 0 at the end. */
int strmap_next(const struct strmap *m, size_t *pos, const char **ret_key, void **ret_value);

#endif
