#include "base/error.h"
#include "base/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *frugal_strerror(int code)
{
	switch (code) {
	case FRUGAL_OK: return "success";
	case FRUGAL_EINVAL: return "invalid input";
	case FRUGAL_EIO: return "input/output error";
	case FRUGAL_ENOTFOUND: return "not found";
	case FRUGAL_EEXIST: return "already exists";
	case FRUGAL_EDB: return "database error";
	case FRUGAL_EBUSY: return "busy";
	case FRUGAL_ENOTSUP: return "not supported";
	case FRUGAL_EPROVIDER: return "provider error";
	case FRUGAL_ENET: return "network error";
	case FRUGAL_ECRYPTO: return "cryptography error";
	case FRUGAL_ETIMEOUT: return "timed out";
	case FRUGAL_ECAPACITY: return "no capacity";
	case FRUGAL_ETOOBIG: return "too big";
	}
	return "unknown error";
}

int error_setv(struct error *err, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int error_set(struct error *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	error_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int error_errno(struct error *err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!err)
		return FRUGAL_EIO;
	va_start(ap, fmt);
	error_setv(err, FRUGAL_EIO, fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(saved));
	errno = saved;
	return FRUGAL_EIO;
}

void error_prefix(struct error *err, const char *fmt, ...)
{
	char head[ERROR_MSG_MAX], old[ERROR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	{
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "%s: %s", head, old);
		memcpy(err->msg, sb.buf, sb.len < sizeof(err->msg) ? sb.len + 1 : sizeof(err->msg));
		err->msg[sizeof(err->msg) - 1] = '\0';
		strbuf_release(&sb);
	}
}

const char *error_msg(const struct error *err)
{
	if (!err)
		return "";
	if (err->msg[0])
		return err->msg;
	return frugal_strerror(err->code);
}
