/*
 * suggest: nearest known word by edit distance. See suggest.h.
 */
#include "spec/suggest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* Words longer than this are never close to a key. */
#define SUGGEST_MAX_LEN 256

/* ASCII case folding without the locale. */
static int fold(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* The smallest of three. */
static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t suggest_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j, r;
	size_t *prev2, *prev, *cur;

	if ((la > lb ? la - lb : lb - la) > cap || la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return cap + 1;
	/* three rows of the (la+1) x (lb+1) table */
	prev2 = xcalloc(lb + 1, sizeof(size_t));
	prev = xcalloc(lb + 1, sizeof(size_t));
	cur = xcalloc(lb + 1, sizeof(size_t));
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t *tmp;

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = fold(a[i - 1]) != fold(b[j - 1]);

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) &&
			    fold(a[i - 2]) == fold(b[j - 1]) && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	r = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return r > cap ? cap + 1 : r;
}

const char *suggest_nearest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word), limit = len / 3 > 2 ? len / 3 : 2;
	size_t best_d = limit + 1, i;
	const char *best = NULL;

	if (!len)
		return NULL;
	for (i = 0; i < n; i++) {
		size_t d;

		if (!candidates[i] || !strcmp(word, candidates[i]))
			continue;
		d = suggest_distance(word, candidates[i], limit);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}
