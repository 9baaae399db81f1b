#include "agent/metrics.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define METRICS_LINE_MAX (64u << 10)
#define METRICS_KEYS_MAX 64
#define METRICS_KEY_LEN_MAX 128		/* bytes of a key */
#define METRICS_VALUE_MAX 1024		/* bytes of a string value */
#define METRICS_TOTAL_MAX (64u << 10)	/* of the "metrics" object as JSON */

void metrics_init(struct metrics *m, const char *path)
{
	memset(m, 0, sizeof(*m));
	m->path = xstrdup(path);
	strbuf_init(&m->partial, 0);
	m->last = json_object();
}

void metrics_release(struct metrics *m)
{
	free(m->path);
	strbuf_release(&m->partial);
	json_decref(m->last);
	memset(m, 0, sizeof(*m));
}

/* Bytes of the last values as compact JSON. */
static size_t last_size(const struct metrics *m)
{
	char *text = json_dumps(m->last, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;

	free(text);
	return n;
}

/*
 * Merge one line's scalars into the last values; 1 when one changed.
 * Caps, so status.json stays far below what the controller reads: keys
 * of up to METRICS_KEY_LEN_MAX bytes, strings of up to METRICS_VALUE_MAX
 * bytes, METRICS_KEYS_MAX keys and METRICS_TOTAL_MAX bytes in all; what
 * is over a cap is left out (the value before stays).
 */
static int merge_line(struct metrics *m, const char *line, size_t len)
{
	json_t *o = json_loadb(line, len, 0, NULL), *v;
	const char *k;
	int changed = 0;

	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	json_object_foreach(o, k, v) {
		json_t *old = json_object_get(m->last, k), *keep = NULL;

		if (!(json_is_number(v) || json_is_string(v) || json_is_boolean(v)))
			continue;
		if (strlen(k) > METRICS_KEY_LEN_MAX ||
		    (json_is_string(v) && json_string_length(v) > METRICS_VALUE_MAX))
			continue;
		if (!old && json_object_size(m->last) >= METRICS_KEYS_MAX)
			continue;
		if (old && json_equal(old, v))
			continue;
		if (old)
			keep = json_incref(old);
		json_object_set(m->last, k, v);
		if (last_size(m) > METRICS_TOTAL_MAX) {	/* over the total: undo */
			if (keep)
				json_object_set(m->last, k, keep);
			else
				json_object_del(m->last, k);
			json_decref(keep);
			continue;
		}
		json_decref(keep);
		changed = 1;
	}
	json_decref(o);
	return changed;
}

int metrics_poll(struct metrics *m)
{
	char buf[16384];
	int fd = open(m->path, O_RDONLY | O_CLOEXEC), changed = 0;

	if (fd < 0)
		return 0;
	if (lseek(fd, (off_t)m->offset, SEEK_SET) < 0) {
		close(fd);
		return 0;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		ssize_t i, start = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		m->offset += n;
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n')
				continue;
			if (m->partial.len) {
				strbuf_add(&m->partial, buf + start, (size_t)(i - start));
				changed |= merge_line(m, m->partial.buf, m->partial.len);
				strbuf_reset(&m->partial);
			} else {
				changed |= merge_line(m, buf + start, (size_t)(i - start));
			}
			start = i + 1;
		}
		if (start < n) {
			if (m->partial.len + (size_t)(n - start) > METRICS_LINE_MAX)
				strbuf_reset(&m->partial);	/* an endless line: drop it */
			else
				strbuf_add(&m->partial, buf + start, (size_t)(n - start));
		}
	}
	close(fd);
	return changed;
}

char *metrics_to_json(const struct metrics *m)
{
	if (!m->last || !json_object_size(m->last))
		return NULL;
	return json_dumps(m->last, JSON_COMPACT | JSON_SORT_KEYS);
}
