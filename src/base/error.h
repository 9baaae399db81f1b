/*
 * error: the one error convention of frugal.
 *
 * Every fallible function returns an int: 0 on success, a negative
 * FRUGAL_E* code on failure. Detail for a human (the file and line, the
 * HTTP status, the resource) goes into a struct error that the caller
 * passes in; callers may pass NULL when they do not want detail. Library
 * code never prints: the top level (cli/) decides what to show.
 */
#ifndef FRUGAL_BASE_ERROR_H
#define FRUGAL_BASE_ERROR_H

#include <stdarg.h>

enum frugal_err {
	FRUGAL_OK = 0,
	FRUGAL_EINVAL = -1,	/* bad input: task file, config, argument */
	FRUGAL_EIO = -2,	/* the operating system refused (errno in detail) */
	FRUGAL_ENOTFOUND = -3,	/* no such job, object, file */
	FRUGAL_EEXIST = -4,	/* already exists (no-overwrite writes) */
	FRUGAL_EDB = -5,	/* SQLite said no */
	FRUGAL_EBUSY = -6,	/* resource held by someone else; try later */
	FRUGAL_ENOTSUP = -7,	/* not supported (by this backend, yet) */
	FRUGAL_EPROVIDER = -8,	/* a backend/provider reported an error */
	FRUGAL_ENET = -9,	/* network or HTTP failure */
	FRUGAL_ECRYPTO = -10,	/* encryption, signing, key errors */
	FRUGAL_ETIMEOUT = -11,	/* gave up waiting */
	FRUGAL_ECAPACITY = -12,	/* no capacity for this offer now */
	FRUGAL_ETOOBIG = -13,	/* input over its size cap */
};

#define ERROR_MSG_MAX 1024

/* Detail for one failure. Zero-initialise with ERROR_INIT. */
struct error {
	int code;
	char msg[ERROR_MSG_MAX];
};
#define ERROR_INIT { 0, "" }

/* A short, stable description of code ("invalid input", ...). */
const char *frugal_strerror(int code);

/*
 * Record code and a printf-style message in err (which may be NULL) and
 * return code, so callers can write: return error_set(err, FRUGAL_EIO, ...).
 * An earlier message is replaced.
 */
int error_set(struct error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int error_setv(struct error *err, int code, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Like error_set, with ": strerror(errno)" appended; code is FRUGAL_EIO. */
int error_errno(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Prefix the existing message with "context: " (err may be NULL; the code
 * stays). It returns nothing: the caller returns the code it already
 * holds, which is right even when it passed no err.
 */
void error_prefix(struct error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The message, or frugal_strerror(code) when there is none. */
const char *error_msg(const struct error *err);

#endif
