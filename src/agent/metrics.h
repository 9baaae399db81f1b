/*
 * metrics: what a job reports about itself. The job appends JSON lines to
 * $FRUGAL_METRICS_FILE ({"step": 100, "loss": 0.31}); the agent reads the
 * new lines at every status write and keeps the last value of each key
 * (numbers, strings, booleans), which go into status.json as "metrics"
 * and from there into the database. Lines that are not JSON objects are
 * skipped; a line is capped at 64 KiB; keys at 128 bytes, string values
 * at 1 KiB, the object at 64 keys and 64 KiB as JSON (what is over a cap
 * is left out), so status.json never outgrows what the controller reads.
 */
#ifndef FRUGAL_AGENT_METRICS_H
#define FRUGAL_AGENT_METRICS_H

#include <stdint.h>

#include "base/strbuf.h"

struct metrics {
	char *path;
	int64_t offset;		/* bytes of the file already read */
	struct strbuf partial;	/* a line not yet ended */
	void *last;		/* json_t object: key -> last value */
};

void metrics_init(struct metrics *m, const char *path);
void metrics_release(struct metrics *m);
/* Read what was appended since the last call; 1 when a value changed. */
int metrics_poll(struct metrics *m);
/* The last values as a JSON object text (caller frees); NULL when none. */
char *metrics_to_json(const struct metrics *m);

#endif
