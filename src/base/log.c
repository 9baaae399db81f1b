#include "base/log.h"
#include "base/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static const char *log_prefix = "frugal";
static enum log_level log_level = LOG_INFO;

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	char ts[32], line[4096];
	va_list ap;
	int n;

	if (level < log_level)
		return;
	time_format_iso(time_now_ms(), ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "%s %s[%d] %s: ", ts, log_prefix, (int)getpid(),
		     names[level]);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0)
		return;
}
