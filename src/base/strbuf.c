#include "base/strbuf.h"
#include "base/error.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char strbuf_empty_[1];

void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->buf = strbuf_empty_;
	sb->len = 0;
	sb->alloc = 0;
	sb->max = max;
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, sb->max);
}

char *strbuf_detach(struct strbuf *sb, size_t *ret_len)
{
	char *p = sb->alloc ? sb->buf : xstrdup("");

	if (ret_len)
		*ret_len = sb->len;
	strbuf_init(sb, sb->max);
	return p;
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->buf[0] = '\0';
}

static int grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (sb->max && sb->len + extra > sb->max)
		return FRUGAL_ETOOBIG;
	if (need <= sb->alloc)
		return 0;
	if (!sb->alloc) {
		size_t cap = need < 64 ? 64 : need;
		sb->buf = xmalloc(cap);
		sb->buf[0] = '\0';
		sb->alloc = cap;
		return 0;
	}
	{
		size_t cap = sb->alloc * 2;
		while (cap < need)
			cap *= 2;
		sb->buf = xrealloc(sb->buf, cap);
		sb->alloc = cap;
	}
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	int r = grow(sb, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_adds(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_addvf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return FRUGAL_EINVAL;
	r = grow(sb, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_addvf(sb, fmt, ap);
	va_end(ap);
	return r;
}

void strbuf_add_shell_quoted(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_adds(sb, "'\\''");
		else
			strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '\'');
}

void strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len && isspace((unsigned char)sb->buf[sb->len - 1]))
		sb->len--;
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
}
