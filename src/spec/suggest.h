/*
 * suggest: "did you mean ...?" for misspelt keys and values. The distance
 * is Damerau-Levenshtein in its optimal-string-alignment form (an edit is
 * an insertion, a deletion, a substitution or a swap of two neighbours),
 * ignoring ASCII case.
 */
#ifndef FRUGAL_SPEC_SUGGEST_H
#define FRUGAL_SPEC_SUGGEST_H

#include <stddef.h>

/* Edits between a and b, ignoring ASCII case. Gives up early: any result
 * above cap is returned as cap + 1. */
size_t suggest_distance(const char *a, const char *b, size_t cap);

/*
 * The candidate nearest to word, when it is at most max(2, len/3) edits
 * away (len: the length of word), else NULL. Ties go to the earlier
 * candidate. candidates has n entries; NULL entries are skipped.
 */
const char *suggest_nearest(const char *word, const char *const *candidates, size_t n);

#endif
