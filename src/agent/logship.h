/*
 * logship: the job's log, from pipe bytes to the storage object
 * JOB_PREFIX/logs/attempt-N.log.
 *
 * Three small pieces:
 *  - linesplit cuts a byte stream (one pipe) into lines: a line ends at
 *    '\n' (a '\r' before it is dropped); a '\r' that no '\n' follows (a
 *    progress bar such as tqdm's redrawing itself) ends a "progress
 *    record", passed on with its '\r' so that it reaches `frugal logs` at
 *    once instead of waiting for a newline; a line longer than the cap is
 *    cut at the cap and passed on as is; what is left at EOF is a line.
 *  - logship_format_line renders one line of the log:
 *    "2026-11-22T08:15:03.123Z TEXT\n" (UTC, milliseconds), and a
 *    progress record as "2026-11-22T08:15:03.123Z TEXT\r".
 *  - struct logship appends lines to the log object. Job output is
 *    batched (written at most LOGSHIP_BATCH_MS after it was read, or at
 *    once past LOGSHIP_BATCH_MAX bytes); the agent's own "frugal: " notes
 *    are written at once, after whatever job output came before them,
 *    and are also logged to stderr.
 * A failing append is reported on stderr once and the log goes on.
 */
#ifndef FRUGAL_AGENT_LOGSHIP_H
#define FRUGAL_AGENT_LOGSHIP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/strbuf.h"
#include "storage/storage.h"

#define LINESPLIT_MAX (64 * 1024)	/* longest line kept whole */
#define LOGSHIP_BATCH_MS 100
#define LOGSHIP_BATCH_MAX (256 * 1024)

/* ---- linesplit ----------------------------------------------------------- */

struct linesplit {
	struct strbuf part;	/* bytes of the line not yet ended */
	int cr_pending;		/* part was ended by a '\r' that ended the data */
	size_t cap;		/* a line is passed on when it reaches cap bytes */
};

/* Called for each line, without its '\n'. */
typedef void (*linesplit_fn)(void *arg, const char *line, size_t len);

void linesplit_init(struct linesplit *ls, size_t cap);
void linesplit_release(struct linesplit *ls);
/* Feed len bytes; calls fn for every line they complete. */
void linesplit_feed(struct linesplit *ls, const char *data, size_t len,
		    linesplit_fn fn, void *arg);
/* End of stream: pass on a partial line, if any. */
void linesplit_finish(struct linesplit *ls, linesplit_fn fn, void *arg);

/* ---- formatting ---------------------------------------------------------- */

/* "2026-11-22T08:15:03.123Z" into buf (at least 25 bytes). */
void logship_format_time(int64_t ms, char *buf, size_t size);
/* Append "TIMESTAMP TEXT\n" to out. */
void logship_format_line(struct strbuf *out, int64_t ms, const char *text, size_t len);

/* ---- the shipper ----------------------------------------------------------- */

struct logship;

/* Ship to key in st (borrowed: it must outlive the logship). */
struct logship *logship_new(uv_loop_t *loop, struct storage *st, const char *key);
/* One line of job output (batched). */
void logship_line(struct logship *ls, const char *text, size_t len);
/* A "frugal: ..." line, written at once and echoed to stderr. */
void logship_note(struct logship *ls, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Write out batched lines now. */
void logship_flush(struct logship *ls);
/* Flush, close the timer; the struct is freed once libuv has closed it.
 * NULL is fine. */
void logship_close(struct logship *ls);

#endif
