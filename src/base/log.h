/*
 * log: timestamped lines on stderr for the long-running roles (controller,
 * agent). Library modules do not log; they return errors.
 */
#ifndef FRUGAL_BASE_LOG_H
#define FRUGAL_BASE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Prefix for every line ("controller", "agent"); the string is not copied. */
void log_set_prefix(const char *prefix);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
