/*
 * xalloc: allocation that aborts on out-of-memory, so callers never check
 * (the redis habit). Also the small string helpers every module needs.
 */
#ifndef FRUGAL_BASE_XALLOC_H
#define FRUGAL_BASE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);		/* xstrdup(NULL) returns NULL */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow an array to hold at least need elements; doubles its capacity. */
#define XGROW(ptr, need, cap) do { \
	if ((size_t)(need) > (size_t)(cap)) { \
		size_t xg_new = (cap) ? (size_t)(cap) * 2 : 8; \
		while (xg_new < (size_t)(need)) xg_new *= 2; \
		(ptr) = xrealloc((ptr), xg_new * sizeof(*(ptr))); \
		(cap) = xg_new; \
	} } while (0)

/* Scope cleanup helpers: char *s __attribute__((cleanup(freep))) = ... */
void freep(void *pp);
#define _cleanup_free_ __attribute__((cleanup(freep)))

/* Hand ownership on out of a cleanup variable: return TAKE_PTR(p); */
#define TAKE_PTR(p) ({ __typeof__(p) take_tmp_ = (p); (p) = NULL; take_tmp_; })

/* Overwrite memory with zeros in a way the compiler keeps (for secrets). */
void secure_zero(void *p, size_t n);
/* Zero a string that may hold a secret, then free it (NULL is fine). */
void secure_free(char *s);
/* secure_free every string of a NULL-terminated array, then the array. */
void secure_free_strv(char **v);

#endif
