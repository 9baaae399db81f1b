/*
 * timeutil: clocks, durations ("90s", "10m", "1h30m", "2d") and
 * timestamps. Durations are whole seconds; times are Unix milliseconds.
 */
#ifndef FRUGAL_BASE_TIMEUTIL_H
#define FRUGAL_BASE_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, Unix epoch milliseconds. */
int64_t time_now_ms(void);
/* Monotonic clock, milliseconds (for timeouts and benchmarks). */
int64_t time_mono_ms(void);

/* Parse "45", "45s", "10m", "1h30m", "2d", "1.5h" into seconds.
 * Returns 0, or FRUGAL_EINVAL for anything else (negative included). */
int duration_parse(const char *s, int64_t *ret_seconds);
/* "1h02m", "45s", "3d04h": compact, for tables. */
void duration_format(int64_t seconds, char *buf, size_t len);

/* ISO 8601 UTC, "2026-11-22T08:15:03Z". */
void time_format_iso(int64_t ms, char *buf, size_t len);
/* Local "2026-11-22 08:15:03" for tables. */
void time_format_local(int64_t ms, char *buf, size_t len);
/* The start of the current month (UTC, the 1st at 00:00), Unix ms. */
int64_t time_month_start_ms(void);
/* Sleep for ms milliseconds (restarts on EINTR). */
void time_sleep_ms(int64_t ms);

#endif
