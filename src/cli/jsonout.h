/*
 * jsonout: a JSON writer that appends to a strbuf as it goes, for listings
 * too long to build as one jansson document (status --all --json, cost
 * --json at 100,000 jobs). The layout is json_dumpf's with JSON_INDENT(2)
 * (two spaces a level, "key": value, empty containers as {} and []), so a
 * streamed document reads the same as a built one; reals are written with
 * 17 significant digits, as jansson writes them.
 *
 * Values inside an object take a key; inside an array or at the top the
 * key is NULL. The caller may take out what is in the buffer (write it,
 * reset it) between any two calls.
 */
#ifndef FRUGAL_CLI_JSONOUT_H
#define FRUGAL_CLI_JSONOUT_H

#include <jansson.h>
#include <stdint.h>

#include "base/strbuf.h"

#define JSONOUT_MAX_DEPTH 32

struct jsonout {
	struct strbuf *buf;
	int depth;
	unsigned char used[JSONOUT_MAX_DEPTH];	/* the level has a value already */
};

void jsonout_init(struct jsonout *w, struct strbuf *buf);
void jsonout_begin_object(struct jsonout *w, const char *key);
void jsonout_end_object(struct jsonout *w);
void jsonout_begin_array(struct jsonout *w, const char *key);
void jsonout_end_array(struct jsonout *w);
/* s NULL writes null. */
void jsonout_string(struct jsonout *w, const char *key, const char *s);
void jsonout_int(struct jsonout *w, const char *key, int64_t v);
void jsonout_real(struct jsonout *w, const char *key, double v);
void jsonout_bool(struct jsonout *w, const char *key, int v);
void jsonout_null(struct jsonout *w, const char *key);
/* A jansson value, laid out at this place (NULL writes null). */
void jsonout_json(struct jsonout *w, const char *key, const json_t *v);

#endif
