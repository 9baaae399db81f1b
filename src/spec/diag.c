/*
 * diag: the diagnostics list of task and config parsing, and kvlist, the
 * ordered string map of envs and secrets. See task.h.
 */
#include "spec/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

/* Longest key or message kept; longer ones end in "...". */
#define DIAG_TEXT_MAX 512

/*
 * A copy of s that is safe to print on a terminal and not too long:
 * control characters become '?', and text past DIAG_TEXT_MAX bytes is cut
 * (at a UTF-8 character boundary) and ends in "...". Task files are
 * untrusted; their keys and values end up in messages.
 */
static char *clean_text(const char *s)
{
	size_t len = strlen(s), keep = len, i;
	char *out;

	if (len > DIAG_TEXT_MAX) {
		keep = DIAG_TEXT_MAX;
		while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
			keep--;
	}
	out = xmalloc(keep + 4);
	for (i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (keep < len) {
		memcpy(out + keep, "...", 3);
		keep += 3;
	}
	out[keep] = '\0';
	return out;
}

void diag_addv(struct diag_list *dl, const char *file, int line, int col,
	       const char *key, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	struct diag *d;

	XGROW(dl->items, dl->n + 1, dl->alloc);
	d = &dl->items[dl->n++];
	d->file = xstrdup(file);
	d->line = line;
	d->col = col;
	d->warning = 0;
	d->key = key && *key ? clean_text(key) : NULL;
	strbuf_addvf(&sb, fmt, ap);
	d->msg = clean_text(sb.buf);
	strbuf_release(&sb);
}

void diag_add(struct diag_list *dl, const char *file, int line, int col,
	      const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(dl, file, line, col, key, fmt, ap);
	va_end(ap);
}

void diag_mark_warning(struct diag_list *dl)
{
	if (dl->n)
		dl->items[dl->n - 1].warning = 1;
}

size_t diag_list_errors(const struct diag_list *dl, size_t from)
{
	size_t i, n = 0;

	for (i = from; i < dl->n; i++)
		n += !dl->items[i].warning;
	return n;
}

void diag_list_release(struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++) {
		free(dl->items[i].file);
		free(dl->items[i].key);
		free(dl->items[i].msg);
	}
	free(dl->items);
	dl->items = NULL;
	dl->n = dl->alloc = 0;
}

void diag_list_format(const struct diag_list *dl, struct strbuf *out)
{
	size_t i;

	for (i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->items[i];

		strbuf_adds(out, d->file ? d->file : "<input>");
		if (d->line > 0)
			strbuf_addf(out, ":%d:%d", d->line, d->col);
		strbuf_adds(out, d->warning ? ": warning: " : ": error: ");
		if (d->key)
			strbuf_addf(out, "%s: ", d->key);
		strbuf_adds(out, d->msg);
		strbuf_addch(out, '\n');
	}
}


void kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->items[i].key, key)) {
			secure_free(l->items[i].value);
			l->items[i].value = xstrdup(value);
			return;
		}
	}
	kvlist_append(l, key, value);
}

void kvlist_append(struct kvlist *l, const char *key, const char *value)
{
	XGROW(l->items, l->n + 1, l->alloc);
	l->items[l->n].key = xstrdup(key);
	l->items[l->n].value = xstrdup(value);
	l->n++;
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].key, key))
			return l->items[i].value;
	return NULL;
}

void kvlist_release(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].key);
		secure_free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

int kvlist_remove(struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key))
			continue;
		free(l->items[i].key);
		secure_free(l->items[i].value);
		memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof(l->items[0]));
		l->n--;
		return 1;
	}
	return 0;
}

int kvlist_has(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].key, key))
			return 1;
	return 0;
}

/* A diagnostic and where it was in the list, for a stable sort. */
struct diag_ref {
	struct diag d;
	size_t index;
};

/* By line, then column, then the order they were added. */
static int cmp_diag_ref(const void *a, const void *b)
{
	const struct diag_ref *x = a, *y = b;

	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void diag_list_sort(struct diag_list *dl, size_t from)
{
	struct diag_ref *refs;
	size_t i, n;

	if (from >= dl->n || dl->n - from < 2)
		return;
	n = dl->n - from;
	refs = xmalloc(n * sizeof(*refs));
	for (i = 0; i < n; i++) {
		refs[i].d = dl->items[from + i];
		refs[i].index = i;
	}
	qsort(refs, n, sizeof(*refs), cmp_diag_ref);
	for (i = 0; i < n; i++)
		dl->items[from + i] = refs[i].d;
	free(refs);
}
