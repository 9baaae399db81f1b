/*
 * csv: a small, fast, in-place reader of RFC 4180 CSV (the SkyPilot
 * catalog tables). The caller owns a writable buffer; the reader cuts it
 * into NUL-terminated fields where they lie, unquoting quoted fields
 * ("a, b" and doubled "" quotes) in place, so a row costs no allocation.
 *
 * Lines end in LF or CRLF. A quoted field may hold commas, quotes and line
 * breaks. Blank lines are skipped. Every error names NAME:LINE, the line
 * being the physical line (1-based) where the row starts.
 *
 *   struct csv_reader r;
 *   char *f[16];
 *   size_t n;
 *   csv_reader_init(&r, buf, len, "cloud/vms.csv");
 *   while ((rc = csv_next_row(&r, f, 16, &n, &err)) > 0)
 *           use(f, n);
 */
#ifndef FRUGAL_CATALOG_CSV_H
#define FRUGAL_CATALOG_CSV_H

#include <stddef.h>

#include "base/error.h"

struct csv_reader {
	char *buf;		/* the text; modified in place */
	size_t len;
	size_t pos;		/* next byte to read */
	int line;		/* physical line of pos (1-based) */
	int row_line;		/* line where the last row returned started */
	const char *name;	/* for messages; not copied */
};

/* Read buf[0..len), which must stay alive and writable while rows are
 * used and must be followed by a NUL byte (buf[len] == '\0', as a strbuf
 * is). A NUL byte inside the text is an error when its row is read. */
void csv_reader_init(struct csv_reader *r, char *buf, size_t len, const char *name);

/*
 * Cut the next row into fields[0..*ret_n). Returns 1 for a row, 0 at the
 * end of the text, FRUGAL_EINVAL for malformed text (an unterminated
 * quote, a character after a closing quote, a NUL byte, more than
 * max_fields fields) with "NAME:LINE: what" in err. Field pointers point
 * into the buffer and stay valid until it is freed.
 */
int csv_next_row(struct csv_reader *r, char **fields, size_t max_fields, size_t *ret_n,
		 struct error *err);

#endif
