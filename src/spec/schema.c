/*
 * schema: readers that validate one YAML value each. See schema.h.
 */
#include "spec/schema.h"
#include "spec/task.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "spec/suggest.h"

/* Report a problem at node n (its position; 0:0 when n is NULL). */
void schema_report(struct schema *sc, const struct ynode *n, const char *path,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(sc->diags, sc->file, n ? n->line : 0, n ? n->col : 0, path, fmt, ap);
	va_end(ap);
}

void schema_warn(struct schema *sc, const struct ynode *n, const char *path,
		 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(sc->diags, sc->file, n ? n->line : 0, n ? n->col : 0, path, fmt, ap);
	va_end(ap);
	diag_mark_warning(sc->diags);
}

/*
 * How a value is shown in a message: "a list", "a mapping", "null", or
 * the scalar's text in quotes, shortened and with control characters
 * replaced, into buf.
 */
const char *schema_describe(const struct ynode *n, char *buf, size_t size)
{
	size_t i, o = 0;

	if (ynode_is_null(n) || n->type != YNODE_SCALAR)
		return ynode_kind(n);
	buf[o++] = '\'';
	for (i = 0; n->str[i] && o + 5 < size; i++) {
		unsigned char c = (unsigned char)n->str[i];
		buf[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (n->str[i]) {
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/* "expected WHAT, got VALUE" at n. */
void schema_expected(struct schema *sc, const struct ynode *n, const char *path,
		     const char *what)
{
	char buf[80];

	schema_report(sc, n, path, "expected %s, got %s", what, schema_describe(n, buf, sizeof(buf)));
}

/* "expected one of a, b, c, got 'x'; did you mean 'y'?" at n. */
void schema_expected_one_of(struct schema *sc, const struct ynode *n, const char *path,
			    const char *const *choices, size_t n_choices)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[80];
	const char *near = NULL;
	size_t i;

	for (i = 0; i < n_choices; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", choices[i]);
	if (n->type == YNODE_SCALAR)
		near = suggest_nearest(n->str, choices, n_choices);
	if (near)
		schema_report(sc, n, path, "expected one of %s, got %s; did you mean '%s'?",
		       sb.buf, schema_describe(n, buf, sizeof(buf)), near);
	else
		schema_report(sc, n, path, "expected one of %s, got %s", sb.buf,
		       schema_describe(n, buf, sizeof(buf)));
	strbuf_release(&sb);
}

void schema_unknown_key(struct schema *sc, const struct ynode *k, const char *path,
			const char *const *known, size_t n_known)
{
	const char *near = suggest_nearest(k->str, known, n_known);
	char buf[80];

	if (near)
		schema_report(sc, k, path, "unknown key %s; did you mean '%s'?",
			      schema_describe(k, buf, sizeof(buf)), near);
	else
		schema_report(sc, k, path, "unknown key %s", schema_describe(k, buf, sizeof(buf)));
}

/* "a.b" from prefix "a" and key "b" (prefix may be NULL). Caller frees. */
char *schema_join_path(const char *prefix, const char *key)
{
	return prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);
}

/* Text of s without leading and trailing blanks, in buf (NULL if too long). */
const char *schema_trim(const char *s, char *buf, size_t size)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len >= size)
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/* Parse a whole decimal integer. */
int schema_parse_int(const char *s, long long *ret)
{
	char buf[32], *end;
	const char *t = schema_trim(s, buf, sizeof(buf));
	const char *d;
	long long v;

	if (!t || !*t)
		return -1;
	d = (*t == '+' || *t == '-') ? t + 1 : t;
	if (!*d)
		return -1;
	for (; *d; d++)
		if (!isdigit((unsigned char)*d))
			return -1;
	errno = 0;
	v = strtoll(t, &end, 10);
	if (errno || *end)
		return -1;
	*ret = v;
	return 0;
}

/* Parse a whole finite decimal number (no hex, inf or nan). */
int schema_parse_number(const char *s, double *ret)
{
	char buf[64], *end;
	const char *t = schema_trim(s, buf, sizeof(buf));
	const char *c;
	double v;

	if (!t || !*t)
		return -1;
	for (c = t; *c; c++)
		if (!isdigit((unsigned char)*c) && !strchr(".eE+-", *c))
			return -1;
	errno = 0;
	v = strtod(t, &end);
	if (errno || *end || !isfinite(v))
		return -1;
	*ret = v;
	return 0;
}

/* The text of a non-null scalar, or NULL after "expected WHAT". */
const char *schema_text(struct schema *sc, const struct ynode *v, const char *path,
			       const char *what)
{
	if (v->type != YNODE_SCALAR || ynode_is_null(v)) {
		schema_expected(sc, v, path, what);
		return NULL;
	}
	return v->str;
}

/* A non-empty string into *out (replacing it). Null leaves *out alone. */
int schema_string(struct schema *sc, const struct ynode *v, const char *path,
		      const char *what, char **out)
{
	const char *s;

	if (ynode_is_null(v))
		return 0;
	s = schema_text(sc, v, path, what);
	if (!s)
		return -1;
	if (!*s) {
		schema_expected(sc, v, path, what);
		return -1;
	}
	free(*out);
	*out = xstrdup(s);
	return 0;
}

/* An integer in [min, max]; what says so in words. */
int schema_int(struct schema *sc, const struct ynode *v, const char *path,
		   long long min, long long max, const char *what, long long *ret)
{
	long long x;

	if (v->type != YNODE_SCALAR || ynode_is_null(v) || schema_parse_int(v->str, &x) < 0 ||
	    x < min || x > max) {
		schema_expected(sc, v, path, what);
		return -1;
	}
	*ret = x;
	return 0;
}

/* A number > 0 (positive) or >= 0. */
int schema_number(struct schema *sc, const struct ynode *v, const char *path,
		      int positive, const char *what, double *ret)
{
	double x;

	if (v->type != YNODE_SCALAR || ynode_is_null(v) || schema_parse_number(v->str, &x) < 0 ||
	    x < 0 || (positive && x == 0) || x > 1e12) {
		schema_expected(sc, v, path, what);
		return -1;
	}
	*ret = x;
	return 0;
}

/* A duration ("90s", "10m", "1h30m", a number of seconds); zero only
 * when allow_zero. */
int schema_duration(struct schema *sc, const struct ynode *v, const char *path,
			int allow_zero, int64_t *ret)
{
	const char *what = allow_zero ? "a duration such as 30s, 10m or 1h30m"
				      : "a positive duration such as 90s, 10m or 1h30m";
	int64_t x;

	if (v->type != YNODE_SCALAR || ynode_is_null(v) || duration_parse(v->str, &x) < 0 ||
	    (!allow_zero && x == 0)) {
		schema_expected(sc, v, path, what);
		return -1;
	}
	*ret = x;
	return 0;
}

/* true/false (also yes/no, on/off, quoted or not). */
int schema_bool(struct schema *sc, const struct ynode *v, const char *path, int *ret)
{
	const char *const t[] = { "true", "yes", "on" };
	const char *const f[] = { "false", "no", "off" };
	size_t i;

	if (ynode_bool(v, ret))
		return 0;
	if (v->type == YNODE_SCALAR && !v->plain) {
		for (i = 0; i < 3; i++) {
			if (!strcasecmp(v->str, t[i])) {
				*ret = 1;
				return 0;
			}
			if (!strcasecmp(v->str, f[i])) {
				*ret = 0;
				return 0;
			}
		}
	}
	schema_expected(sc, v, path, "true or false");
	return -1;
}

/* The index of v's text in choices (exact, or ignoring case when icase),
 * or -1 after "expected one of". */
int schema_choice(struct schema *sc, const struct ynode *v, const char *path,
		      const char *const *choices, size_t n, int icase)
{
	size_t i;

	if (v->type == YNODE_SCALAR && !ynode_is_null(v))
		for (i = 0; i < n; i++)
			if (icase ? !strcasecmp(v->str, choices[i]) : !strcmp(v->str, choices[i]))
				return (int)i;
	schema_expected_one_of(sc, v, path, choices, n);
	return -1;
}

/* A mapping (1), null (0, treated as absent) or -1 after a diagnostic. */
int schema_want_map(struct schema *sc, const struct ynode *v, const char *path,
		    const char *what)
{
	if (ynode_is_null(v))
		return 0;
	if (v->type != YNODE_MAP) {
		schema_expected(sc, v, path, what);
		return -1;
	}
	return 1;
}

int env_name_valid(const char *s, size_t len)
{
	size_t i;

	if (!s)
		return 0;
	if (len == (size_t)-1)
		len = strlen(s);
	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

int env_name_reserved(const char *s, size_t len)
{
	size_t plen = strlen(ENV_RESERVED_PREFIX);

	if (!s)
		return 0;
	if (len == (size_t)-1)
		len = strlen(s);
	return len >= plen && !memcmp(s, ENV_RESERVED_PREFIX, plen);
}

/* 1 when s is a valid environment variable name. */
int schema_is_env_name(const char *s)
{
	return env_name_valid(s, (size_t)-1);
}

/* 1 when s looks like a storage URL: scheme://rest. */
int schema_is_url(const char *s)
{
	const char *c = s;

	if (!isalpha((unsigned char)*c))
		return 0;
	while (isalnum((unsigned char)*c) || *c == '+' || *c == '.' || *c == '-')
		c++;
	return !strncmp(c, "://", 3) && c[3];
}

/* A storage URL into *out. */
int schema_url(struct schema *sc, const struct ynode *v, const char *path, char **out)
{
	const char *what = "a storage URL such as s3://bucket/prefix or file:///path";

	if (v->type != YNODE_SCALAR || ynode_is_null(v) || !schema_is_url(v->str)) {
		schema_expected(sc, v, path, what);
		return -1;
	}
	free(*out);
	*out = xstrdup(v->str);
	return 0;
}

