/*
 * logship: line splitting, log line format and the batched writer of the
 * job's log (see logship.h).
 */
#include "agent/logship.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "base/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- linesplit ----------------------------------------------------------- */

/* An empty splitter; cap 0 means LINESPLIT_MAX. */
void linesplit_init(struct linesplit *ls, size_t cap)
{
	strbuf_init(&ls->part, 0);
	ls->cap = cap ? cap : LINESPLIT_MAX;
	ls->cr_pending = 0;
}

/* Free the partial line buffer. */
void linesplit_release(struct linesplit *ls)
{
	strbuf_release(&ls->part);
}

/* Pass one ended line on, dropping a '\r' before its '\n'. */
static void emit_line(const char *line, size_t len, linesplit_fn fn, void *arg)
{
	if (len && line[len - 1] == '\r')
		len--;
	fn(arg, line, len);
}

/* Pass part on as a progress record: its text and the bare '\r' that
 * ended it (an empty one, the '\r' a progress bar starts with, is
 * dropped). */
static void emit_cr(struct linesplit *ls, linesplit_fn fn, void *arg)
{
	if (ls->part.len) {
		strbuf_addch(&ls->part, '\r');
		fn(arg, ls->part.buf, ls->part.len);
	}
	strbuf_reset(&ls->part);
}

/* Walk data line end by line end: whole lines go out straight from data,
 * the start of an unfinished one waits in part. A '\r' not followed by
 * '\n' (a progress bar redrawing itself) ends a record too, passed on
 * with the '\r'; one that ends data waits for the next byte. */
void linesplit_feed(struct linesplit *ls, const char *data, size_t len,
		    linesplit_fn fn, void *arg)
{
	while (len) {
		const char *nl, *cr;
		size_t room, take;

		if (ls->cr_pending) {
			ls->cr_pending = 0;
			if (data[0] == '\n') {
				emit_line(ls->part.buf, ls->part.len, fn, arg);
				strbuf_reset(&ls->part);
				data++;
				len--;
			} else {
				emit_cr(ls, fn, arg);
			}
			continue;
		}
		nl = memchr(data, '\n', len);
		cr = memchr(data, '\r', nl ? (size_t)(nl - data) : len);
		if (cr)
			nl = cr;
		room = ls->cap - ls->part.len;
		take = nl ? (size_t)(nl - data) : len;
		if (take > room) {
			/* The line is longer than the cap: pass on cap bytes. */
			strbuf_add(&ls->part, data, room);
			fn(arg, ls->part.buf, ls->part.len);
			strbuf_reset(&ls->part);
			data += room;
			len -= room;
			continue;
		}
		if (!nl) {
			strbuf_add(&ls->part, data, len);
			return;
		}
		if (*nl == '\r') {
			strbuf_add(&ls->part, data, take);
			if (take + 1 == len) {
				ls->cr_pending = 1;	/* CRLF split across reads? */
				return;
			}
			if (nl[1] == '\n') {
				emit_line(ls->part.buf, ls->part.len, fn, arg);
				strbuf_reset(&ls->part);
				take++;
			} else {
				emit_cr(ls, fn, arg);
			}
		} else if (ls->part.len) {
			strbuf_add(&ls->part, data, take);
			emit_line(ls->part.buf, ls->part.len, fn, arg);
			strbuf_reset(&ls->part);
		} else {
			emit_line(data, take, fn, arg);
		}
		data += take + 1;
		len -= take + 1;
	}
}

/* Pass on whatever is left as the last line. */
void linesplit_finish(struct linesplit *ls, linesplit_fn fn, void *arg)
{
	ls->cr_pending = 0;
	if (ls->part.len)
		fn(arg, ls->part.buf, ls->part.len);
	strbuf_reset(&ls->part);
}

/* ---- formatting ---------------------------------------------------------- */

/* ISO 8601 UTC with milliseconds. */
void logship_format_time(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char sec[24];

	gmtime_r(&t, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03dZ", sec, (int)(ms % 1000));
}

/* Timestamp, space, text, newline; a progress record (text ending in
 * '\r') keeps its '\r' as the record's end instead. */
void logship_format_line(struct strbuf *out, int64_t ms, const char *text, size_t len)
{
	char ts[32];
	int cr = len && text[len - 1] == '\r';

	logship_format_time(ms, ts, sizeof(ts));
	strbuf_adds(out, ts);
	strbuf_addch(out, ' ');
	strbuf_add(out, text, len - (size_t)cr);
	strbuf_addch(out, cr ? '\r' : '\n');
}

/* ---- the shipper ----------------------------------------------------------- */

struct logship {
	uv_timer_t timer;	/* first member: the handle's address is ours */
	struct storage *st;
	char *key;
	struct strbuf pending;	/* formatted lines not yet appended */
	int failed;		/* an append failed (reported once) */
};

/* Append the pending lines to the log object. */
void logship_flush(struct logship *ls)
{
	struct error err = ERROR_INIT;

	if (!ls || !ls->pending.len)
		return;
	uv_timer_stop(&ls->timer);
	if (storage_append(ls->st, ls->key, ls->pending.buf, ls->pending.len, &err) < 0 &&
	    !ls->failed) {
		log_error("cannot append to the job log '%s': %s", ls->key, error_msg(&err));
		ls->failed = 1;
	}
	strbuf_reset(&ls->pending);
}

/* The batch timer ran out. */
static void on_batch_timer(uv_timer_t *t)
{
	logship_flush((struct logship *)t);
}

/* A shipper with an idle batch timer on loop. */
struct logship *logship_new(uv_loop_t *loop, struct storage *st, const char *key)
{
	struct logship *ls = xcalloc(1, sizeof(*ls));

	uv_timer_init(loop, &ls->timer);
	ls->st = st;
	ls->key = xstrdup(key);
	strbuf_init(&ls->pending, 0);
	return ls;
}

/* Stamp the line now and batch it; arm the batch timer if it is idle. */
void logship_line(struct logship *ls, const char *text, size_t len)
{
	logship_format_line(&ls->pending, time_now_ms(), text, len);
	if (ls->pending.len >= LOGSHIP_BATCH_MAX)
		logship_flush(ls);
	else if (!uv_is_active((uv_handle_t *)&ls->timer))
		uv_timer_start(&ls->timer, on_batch_timer, LOGSHIP_BATCH_MS, 0);
}

/* Format "frugal: ...", echo it to stderr, append it after the batch. */
void logship_note(struct logship *ls, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	strbuf_adds(&msg, "frugal: ");
	va_start(ap, fmt);
	strbuf_addvf(&msg, fmt, ap);
	va_end(ap);
	log_info("%s", msg.buf + 8);
	logship_format_line(&ls->pending, time_now_ms(), msg.buf, msg.len);
	logship_flush(ls);
	strbuf_release(&msg);
}

/* libuv is done with the timer: free the rest. */
static void on_logship_closed(uv_handle_t *h)
{
	struct logship *ls = (struct logship *)h;

	strbuf_release(&ls->pending);
	free(ls->key);
	free(ls);
}

/* Flush and close; on_logship_closed frees. */
void logship_close(struct logship *ls)
{
	if (!ls)
		return;
	logship_flush(ls);
	uv_close((uv_handle_t *)&ls->timer, on_logship_closed);
}
