/*
 * csv: the in-place CSV reader. See csv.h.
 */
#include "catalog/csv.h"

#include <string.h>

/* Bytes that end an unquoted field: ',', '\n', '\r' and NUL. */
static const unsigned char stop[256] = {
	[0] = 1, [','] = 1, ['\n'] = 1, ['\r'] = 1,
};

void csv_reader_init(struct csv_reader *r, char *buf, size_t len, const char *name)
{
	r->buf = buf;
	r->len = len;
	r->pos = 0;
	r->line = 1;
	r->row_line = 0;
	r->name = name ? name : "<csv>";
}

static int bad(struct csv_reader *r, struct error *err, int line, const char *what)
{
	return error_set(err, FRUGAL_EINVAL, "%s:%d: %s", r->name, line, what);
}

/* At p, one line end (LF, CRLF or a bare CR): its length, 0 if none. */
static size_t eol_len(const struct csv_reader *r, size_t p)
{
	if (p >= r->len)
		return 0;
	if (r->buf[p] == '\n')
		return 1;
	if (r->buf[p] == '\r')
		return p + 1 < r->len && r->buf[p + 1] == '\n' ? 2 : 1;
	return 0;
}

int csv_next_row(struct csv_reader *r, char **fields, size_t max_fields, size_t *ret_n,
		 struct error *err)
{
	char *buf = r->buf;
	size_t len = r->len, p = r->pos, n = 0, e;

	/* Blank lines. */
	while ((e = eol_len(r, p))) {
		p += e;
		r->line++;
	}
	if (p >= len) {
		r->pos = len;
		return 0;
	}
	r->row_line = r->line;
	for (;;) {
		if (n == max_fields)
			return bad(r, err, r->row_line, "too many fields");
		if (p < len && buf[p] == '"') {
			size_t w = p + 1, start = p + 1;

			/* Whole runs up to the next quote at a time (memchr), moved
			 * down only after a doubled quote. */
			p++;
			for (;;) {
				char *q = memchr(buf + p, '"', len - p), *nl;
				size_t end, run;

				if (!q)
					return bad(r, err, r->row_line, "a quoted field is not closed"
						   " (missing '\"')");
				end = (size_t)(q - buf);
				run = end - p;
				if (memchr(buf + p, '\0', run))
					return bad(r, err, r->line, "NUL byte in the text");
				for (nl = memchr(buf + p, '\n', run); nl;
				     nl = memchr(nl + 1, '\n', (size_t)(q - nl - 1)))
					r->line++;
				if (w != p)
					memmove(buf + w, buf + p, run);
				w += run;
				if (end + 1 < len && buf[end + 1] == '"') {
					buf[w++] = '"';
					p = end + 2;
					continue;
				}
				p = end + 1;
				break;
			}
			buf[w] = '\0';	/* w < p: the closing quote was not copied */
			fields[n++] = buf + start;
			if (p >= len)
				break;
			if (buf[p] == ',') {
				p++;
				continue;
			}
			if ((e = eol_len(r, p))) {
				p += e;
				r->line++;
				break;
			}
			return bad(r, err, r->line, "unexpected character after a closing quote");
		}
		{
			size_t start = p;

			while (p < len && !stop[(unsigned char)buf[p]])
				p++;
			fields[n++] = buf + start;
			if (p >= len)
				break;	/* buf[len] is the caller's NUL */
			if (buf[p] == ',') {
				buf[p++] = '\0';
				continue;
			}
			if (buf[p] == '\0')
				return bad(r, err, r->line, "NUL byte in the text");
			e = eol_len(r, p);
			buf[p] = '\0';
			p += e;
			r->line++;
			break;
		}
	}
	r->pos = p;
	*ret_n = n;
	return 1;
}
