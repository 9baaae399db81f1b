/*
 * strbuf: the one growable byte buffer (git's strbuf). Always
 * NUL-terminated, so buf is usable as a C string. A strbuf fed from the
 * network or a child process gets a cap (max): appends past it fail with
 * FRUGAL_ETOOBIG instead of growing without bound (curl's dynbuf).
 *
 *   struct strbuf sb = STRBUF_INIT;
 *   strbuf_addf(&sb, "job %s", id);
 *   puts(sb.buf);
 *   strbuf_release(&sb);
 */
#ifndef FRUGAL_BASE_STRBUF_H
#define FRUGAL_BASE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;	/* never NULL; "" until something is added */
	size_t len;
	size_t alloc;
	size_t max;	/* 0: no cap */
};

extern char strbuf_empty_[];
#define STRBUF_INIT { strbuf_empty_, 0, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_release(struct strbuf *sb);
/* Give the buffer to the caller (free() it); sb is empty afterwards. */
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);
void strbuf_reset(struct strbuf *sb);

/* Appends return 0, or FRUGAL_ETOOBIG when the cap would be passed. */
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_addvf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Append s with JSON/shell-safe quoting. */
void strbuf_add_shell_quoted(struct strbuf *sb, const char *s);

/* Drop trailing whitespace. */
void strbuf_rtrim(struct strbuf *sb);

#endif
