#include "base/strmap.h"
#include "base/hash.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

/* A removed slot: probing goes on past it. */
static char gone_mark;
#define GONE (&gone_mark)

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof(*m));
}

void strmap_release(struct strmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->e[i].key && m->e[i].key != GONE)
			free(m->e[i].key);
	free(m->e);
	strmap_init(m);
}

/* The slot of key, or (when absent) NULL. */
static struct strmap_entry *find(const struct strmap *m, const char *key)
{
	size_t i, mask = m->cap - 1;

	if (!m->cap)
		return NULL;
	for (i = hash_fnv1a(key) & mask;; i = (i + 1) & mask) {
		struct strmap_entry *e = &m->e[i];

		if (!e->key)
			return NULL;
		if (e->key != GONE && !strcmp(e->key, key))
			return e;
	}
}

/* Put an owned key into a table known not to hold it, with room. */
static void insert(struct strmap *m, char *key, void *value)
{
	size_t i, mask = m->cap - 1;

	for (i = hash_fnv1a(key) & mask; m->e[i].key && m->e[i].key != GONE; i = (i + 1) & mask)
		;
	if (!m->e[i].key)
		m->used++;
	m->e[i].key = key;
	m->e[i].value = value;
	m->n++;
}

/* Grow (or clean out removed slots) so that one more entry keeps the
 * table at most 3/4 used. */
static void make_room(struct strmap *m)
{
	struct strmap_entry *old = m->e;
	size_t i, old_cap = m->cap, cap = m->cap ? m->cap : 16;

	if ((m->used + 1) * 4 <= m->cap * 3)
		return;
	while ((m->n + 1) * 2 > cap)
		cap *= 2;
	m->e = xcalloc(cap, sizeof(*m->e));
	m->cap = cap;
	m->n = m->used = 0;
	for (i = 0; i < old_cap; i++)
		if (old[i].key && old[i].key != GONE)
			insert(m, old[i].key, old[i].value);
	free(old);
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_entry *e = find(m, key);

	return e ? e->value : NULL;
}

void strmap_put(struct strmap *m, const char *key, void *value)
{
	struct strmap_entry *e = find(m, key);

	if (e) {
		e->value = value;
		return;
	}
	make_room(m);
	insert(m, xstrdup(key), value);
}

void *strmap_remove(struct strmap *m, const char *key)
{
	struct strmap_entry *e = find(m, key);
	void *v;

	if (!e)
		return NULL;
	v = e->value;
	free(e->key);
	e->key = GONE;
	e->value = NULL;
	m->n--;
	return v;
}

int strmap_next(const struct strmap *m, size_t *pos, const char **ret_key, void **ret_value)
{
	for (; *pos < m->cap; (*pos)++) {
		struct strmap_entry *e = &m->e[*pos];

		if (e->key && e->key != GONE) {
			*ret_key = e->key;
			*ret_value = e->value;
			(*pos)++;
			return 1;
		}
	}
	return 0;
}
