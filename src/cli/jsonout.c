/*
 * jsonout: a streaming JSON writer. See jsonout.h.
 */
#include "cli/jsonout.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonout_init(struct jsonout *w, struct strbuf *buf)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
}

static void indent(struct jsonout *w, int depth)
{
	static const char spaces[] = "                                ";
	int n = 2 * depth;

	strbuf_addch(w->buf, '\n');
	while (n > 0) {
		int k = n < (int)sizeof(spaces) - 1 ? n : (int)sizeof(spaces) - 1;
		strbuf_add(w->buf, spaces, (size_t)k);
		n -= k;
	}
}

static void put_string(struct strbuf *b, const char *s)
{
	const char *run = s;

	strbuf_addch(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *esc = NULL;
		char u[8];

		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(u, sizeof(u), "\\u%04X", c);
				esc = u;
			}
		}
		if (!esc)
			continue;
		strbuf_add(b, run, (size_t)(s - run));
		strbuf_adds(b, esc);
		run = s + 1;
	}
	strbuf_add(b, run, (size_t)(s - run));
	strbuf_addch(b, '"');
}

/* What goes before a value: the separator, the line, the key. */
static void value_start(struct jsonout *w, const char *key)
{
	if (w->depth > 0) {
		if (w->used[w->depth])
			strbuf_addch(w->buf, ',');
		w->used[w->depth] = 1;
		indent(w, w->depth);
	}
	if (key) {
		put_string(w->buf, key);
		strbuf_add(w->buf, ": ", 2);
	}
}

static void open_container(struct jsonout *w, const char *key, char c)
{
	value_start(w, key);
	strbuf_addch(w->buf, c);
	if (w->depth + 1 < JSONOUT_MAX_DEPTH)
		w->depth++;
	w->used[w->depth] = 0;
}

static void close_container(struct jsonout *w, char c)
{
	if (w->used[w->depth])
		indent(w, w->depth - 1);
	strbuf_addch(w->buf, c);
	if (w->depth > 0)
		w->depth--;
}

void jsonout_begin_object(struct jsonout *w, const char *key) { open_container(w, key, '{'); }
void jsonout_end_object(struct jsonout *w) { close_container(w, '}'); }
void jsonout_begin_array(struct jsonout *w, const char *key) { open_container(w, key, '['); }
void jsonout_end_array(struct jsonout *w) { close_container(w, ']'); }

void jsonout_string(struct jsonout *w, const char *key, const char *s)
{
	value_start(w, key);
	if (s)
		put_string(w->buf, s);
	else
		strbuf_add(w->buf, "null", 4);
}

void jsonout_int(struct jsonout *w, const char *key, int64_t v)
{
	value_start(w, key);
	strbuf_addf(w->buf, "%" PRId64, v);
}

void jsonout_real(struct jsonout *w, const char *key, double v)
{
	char num[40];

	value_start(w, key);
	if (!isfinite(v)) {
		strbuf_add(w->buf, "null", 4);	/* JSON has no inf or nan */
		return;
	}
	char *e;

	snprintf(num, sizeof(num), "%.17g", v);
	if ((e = strchr(num, 'e'))) {
		/* The exponent bare, as jansson writes it: 1e-05 -> 1e-5, 1e+300 -> 1e300. */
		char *d = e + 1, *p = e + 1;

		if (*p == '+')
			p++;
		else if (*p == '-')
			*d++ = *p++;
		while (*p == '0' && p[1])
			p++;
		memmove(d, p, strlen(p) + 1);
	}
	strbuf_adds(w->buf, num);
	if (!strpbrk(num, ".e"))
		strbuf_add(w->buf, ".0", 2);	/* still a real when read back */
}

void jsonout_bool(struct jsonout *w, const char *key, int v)
{
	value_start(w, key);
	strbuf_adds(w->buf, v ? "true" : "false");
}

void jsonout_null(struct jsonout *w, const char *key)
{
	value_start(w, key);
	strbuf_add(w->buf, "null", 4);
}

void jsonout_json(struct jsonout *w, const char *key, const json_t *v)
{
	char *text = v ? json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY) : NULL;
	const char *p, *nl;

	value_start(w, key);
	if (!text) {
		strbuf_add(w->buf, "null", 4);
		return;
	}
	/* Its lines, one level deeper each for every level it sits in. */
	for (p = text; (nl = strchr(p, '\n')); p = nl + 1) {
		strbuf_add(w->buf, p, (size_t)(nl - p));
		indent(w, w->depth);
	}
	strbuf_adds(w->buf, p);
	free(text);
}
