/*
 * sigv4: AWS Signature Version 4 (see sigv4.h). The steps follow AWS's
 * "Create a signed AWS API request": canonical request, string to sign,
 * signing key (an HMAC chain over date, region, service), signature.
 */
#include "backend/aws/sigv4.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ALGORITHM "AWS4-HMAC-SHA256"

/* A name=value pair of the canonical query or the canonical headers. */
struct pair {
	char *name;
	char *value;
	size_t order;		/* position given: keeps duplicate headers in order */
};

struct pairs {
	struct pair *items;
	size_t n, alloc;
};

/* Append a pair (takes name and value). */
static void pairs_add(struct pairs *l, char *name, char *value)
{
	XGROW(l->items, l->n + 1, l->alloc);
	l->items[l->n].name = name;
	l->items[l->n].value = value;
	l->items[l->n].order = l->n;
	l->n++;
}

/* Free every pair. */
static void pairs_release(struct pairs *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].value);
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

/* Query order: by name, then by value (both encoded, byte-wise). */
static int cmp_query(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/* Header order: by lower-case name; repeated names keep their order. */
static int cmp_header(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Lower-case hex of n bytes, NUL-terminated. */
static void to_hex(const unsigned char *bin, size_t n, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		hex[2 * i] = digits[bin[i] >> 4];
		hex[2 * i + 1] = digits[bin[i] & 15];
	}
	hex[2 * n] = '\0';
}

/* Hex SHA-256 of data (see sigv4.h). */
void sigv4_sha256_hex(const void *data, size_t len, char hex[SIGV4_HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	to_hex(md, n, hex);
}

/* Hex SHA-256 of a file, read in 1 MiB blocks (see sigv4.h). */
int sigv4_sha256_file_hex(const char *path, char hex[SIGV4_HASH_HEX], struct error *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char *buf = xmalloc(1 << 20);
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	ssize_t got;

	if (fd < 0) {
		r = errno == ENOENT ? error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", path)
				    : error_errno(err, "cannot read '%s'", path);
		goto out;
	}
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		r = error_set(err, FRUGAL_ECRYPTO, "cannot hash '%s'", path);
		goto out;
	}
	while ((got = read(fd, buf, 1 << 20)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = error_errno(err, "cannot read '%s'", path);
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	}
	EVP_DigestFinal_ex(ctx, md, &n);
	to_hex(md, n, hex);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(ctx);
	free(buf);
	return r;
}

/* The X-Amz-Date form of secs (see sigv4.h). */
void sigv4_amz_date(int64_t secs, char buf[17])
{
	time_t t = (time_t)secs;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* Percent-encoding, the SigV4 way (see sigv4.h). */
char *sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
		    (keep_slash && c == '/'))
			strbuf_addch(&sb, (char)c);
		else
			strbuf_addf(&sb, "%%%02X", c);
	}
	return strbuf_detach(&sb, NULL);
}

/* The value of a hex digit, -1 for another character. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..len) with %XX escapes decoded (a bad escape stays as it is). */
static char *uri_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* ---- the canonical request -------------------------------------------------- */

/*
 * The canonical URI: the path with its dot segments and empty segments
 * removed when normalize is set (keeping a trailing '/'), then encoded
 * once, '/' kept. An empty path is "/".
 */
static char *canonical_uri(const char *path, int normalize)
{
	struct strbuf sb = STRBUF_INIT;
	char **segs = NULL;
	size_t n = 0, alloc = 0, i;
	const char *p = path && *path ? path : "/";
	int trailing = 0;
	char *enc;

	if (!normalize)
		return sigv4_uri_encode(p, strlen(p), 1);
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len) {
			trailing = 1;	/* the path ended with '/' */
			break;
		}
		trailing = p[len] == '/';
		if (len == 1 && p[0] == '.') {
			trailing = 1;
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (n)
				free(segs[--n]);
			trailing = 1;
		} else {
			XGROW(segs, n + 1, alloc);
			segs[n++] = xstrndup(p, len);
		}
		p += len;
	}
	for (i = 0; i < n; i++) {
		strbuf_addch(&sb, '/');
		strbuf_adds(&sb, segs[i]);
		free(segs[i]);
	}
	free(segs);
	if (!n || trailing)
		strbuf_addch(&sb, '/');
	enc = sigv4_uri_encode(sb.buf, sb.len, 1);
	strbuf_release(&sb);
	return enc;
}

/* Parse query (as sent) into pairs, every name and value decoded and
 * encoded again the SigV4 way. */
static void query_pairs(const char *query, struct pairs *out)
{
	const char *p = query;

	while (p && *p) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;

		if (len) {
			char *name = uri_decode(p, nlen);
			char *value = eq ? uri_decode(eq + 1, len - nlen - 1) : xstrdup("");

			pairs_add(out, sigv4_uri_encode(name, strlen(name), 0),
				  sigv4_uri_encode(value, strlen(value), 0));
			free(name);
			free(value);
		}
		p += len;
		if (*p == '&')
			p++;
	}
}

/* A header value the canonical way: trimmed, runs of whitespace (folded
 * lines included) as one space. */
static char *header_value(const char *v)
{
	struct strbuf sb = STRBUF_INIT;
	int space = 0;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = 1;
			continue;
		}
		if (space && sb.len)
			strbuf_addch(&sb, ' ');
		space = 0;
		strbuf_addch(&sb, *v);
	}
	return strbuf_detach(&sb, NULL);
}

/* A lower-case copy of s. Caller frees. */
static char *lower(const char *s)
{
	char *l = xstrdup(s), *c;

	for (c = l; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return l;
}

/* 1 when rq has a header called name (case-insensitive). */
static int has_header(const struct sigv4_request *rq, const char *name)
{
	size_t i;

	for (i = 0; i < rq->n_headers; i++)
		if (!strcasecmp(rq->headers[i].name, name))
			return 1;
	return 0;
}

/* ---- signing ------------------------------------------------------------------ */

static int hmac(const void *key, size_t klen, const char *data, unsigned char out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)data, strlen(data), out,
		    &n) ? 0 : -1;
}

/* signature = HMAC(signing key, string to sign), the key being
 * HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
static int signature(const char *secret, const char *date, const char *region,
		     const char *service, const char *sts, char hex[SIGV4_HASH_HEX])
{
	unsigned char k[32], k2[32];
	char *seed = xasprintf("AWS4%s", secret);
	int r = 0;

	if (hmac(seed, strlen(seed), date, k) < 0 || hmac(k, 32, region, k2) < 0 ||
	    hmac(k2, 32, service, k) < 0 || hmac(k, 32, "aws4_request", k2) < 0 ||
	    hmac(k2, 32, sts, k) < 0)
		r = -1;
	else
		to_hex(k, 32, hex);
	secure_zero(seed, strlen(seed));
	secure_zero(k2, sizeof(k2));
	secure_zero(k, sizeof(k));
	free(seed);
	return r;
}

static void add_line(char ***lines, size_t *n, char *line)
{
	*lines = xrealloc(*lines, (*n + 2) * sizeof(char *));
	(*lines)[(*n)++] = line;
	(*lines)[*n] = NULL;
}

/* Sign rq (see sigv4.h). */
int sigv4_sign(const struct sigv4_credentials *creds, const struct sigv4_params *params,
	       const struct sigv4_request *rq, struct sigv4_result *ret, struct error *err)
{
	struct sigv4_result res = SIGV4_RESULT_INIT;
	struct pairs query = { 0 }, hdrs = { 0 };
	struct strbuf creq = STRBUF_INIT, sh = STRBUF_INIT, q = STRBUF_INIT;
	const char *payload = rq->payload_hash ? rq->payload_hash : SIGV4_EMPTY_SHA256;
	const char *token = creds->session_token && *creds->session_token ?
			    creds->session_token : NULL;
	int sign_token = token && !params->omit_session_token;
	char date[9], chash[SIGV4_HASH_HEX], *scope = NULL, *uri = NULL;
	size_t i, nlines = 0;
	int r = 0;

	if (strlen(params->amz_date) != 16 || params->amz_date[8] != 'T') {
		r = error_set(err, FRUGAL_EINVAL, "sigv4: bad date '%s'", params->amz_date);
		goto out;
	}
	if (!has_header(rq, "host")) {
		r = error_set(err, FRUGAL_EINVAL, "sigv4: the request has no Host header");
		goto out;
	}
	memcpy(date, params->amz_date, 8);
	date[8] = '\0';
	scope = xasprintf("%s/%s/%s/aws4_request", date, params->region, params->service);

	/* Headers: the request's, then what signing adds. */
	for (i = 0; i < rq->n_headers; i++)
		pairs_add(&hdrs, lower(rq->headers[i].name), header_value(rq->headers[i].value));
	if (!params->presign) {
		if (!has_header(rq, "x-amz-date"))
			pairs_add(&hdrs, xstrdup("x-amz-date"), xstrdup(params->amz_date));
		if (params->content_sha256_header && !has_header(rq, "x-amz-content-sha256"))
			pairs_add(&hdrs, xstrdup("x-amz-content-sha256"), xstrdup(payload));
		if (sign_token && !has_header(rq, "x-amz-security-token"))
			pairs_add(&hdrs, xstrdup("x-amz-security-token"), xstrdup(token));
	}
	if (hdrs.n > 1)
		qsort(hdrs.items, hdrs.n, sizeof(hdrs.items[0]), cmp_header);
	for (i = 0; i < hdrs.n; i++)
		if (!i || strcmp(hdrs.items[i].name, hdrs.items[i - 1].name))
			strbuf_addf(&sh, "%s%s", sh.len ? ";" : "", hdrs.items[i].name);

	/* Query: the request's, plus the X-Amz-* parameters of a presigned URL. */
	query_pairs(rq->query, &query);
	if (params->presign) {
		char *cred = xasprintf("%s/%s", creds->access_key_id, scope);

		pairs_add(&query, xstrdup("X-Amz-Algorithm"), xstrdup(ALGORITHM));
		pairs_add(&query, xstrdup("X-Amz-Credential"), sigv4_uri_encode(cred, strlen(cred), 0));
		pairs_add(&query, xstrdup("X-Amz-Date"), xstrdup(params->amz_date));
		pairs_add(&query, xstrdup("X-Amz-Expires"), xasprintf("%lld", (long long)params->expires));
		pairs_add(&query, xstrdup("X-Amz-SignedHeaders"), sigv4_uri_encode(sh.buf, sh.len, 0));
		if (sign_token)
			pairs_add(&query, xstrdup("X-Amz-Security-Token"),
				  sigv4_uri_encode(token, strlen(token), 0));
		free(cred);
	}
	if (query.n > 1)
		qsort(query.items, query.n, sizeof(query.items[0]), cmp_query);
	for (i = 0; i < query.n; i++)
		strbuf_addf(&q, "%s%s=%s", i ? "&" : "", query.items[i].name, query.items[i].value);

	uri = canonical_uri(rq->path, params->normalize_path);
	strbuf_addf(&creq, "%s\n%s\n%s\n", rq->method, uri, q.buf);
	for (i = 0; i < hdrs.n; i++) {
		if (i && !strcmp(hdrs.items[i].name, hdrs.items[i - 1].name)) {
			strbuf_addf(&creq, ",%s", hdrs.items[i].value);
			continue;
		}
		strbuf_addf(&creq, "%s%s:%s", i ? "\n" : "", hdrs.items[i].name,
			    hdrs.items[i].value);
	}
	strbuf_addf(&creq, "\n\n%s\n%s", sh.buf, payload);

	sigv4_sha256_hex(creq.buf, creq.len, chash);
	res.string_to_sign = xasprintf(ALGORITHM "\n%s\n%s\n%s", params->amz_date, scope, chash);
	if (signature(creds->secret_access_key ? creds->secret_access_key : "", date,
		      params->region, params->service, res.string_to_sign, res.signature) < 0) {
		r = error_set(err, FRUGAL_ECRYPTO, "sigv4: HMAC-SHA256 failed");
		goto out;
	}
	res.canonical_request = strbuf_detach(&creq, NULL);
	res.signed_headers = xstrdup(sh.buf);
	if (params->presign) {
		strbuf_addf(&q, "&X-Amz-Signature=%s", res.signature);
		if (token && !sign_token) {
			char *t = sigv4_uri_encode(token, strlen(token), 0);
			strbuf_addf(&q, "&X-Amz-Security-Token=%s", t);
			free(t);
		}
		res.query = strbuf_detach(&q, NULL);
	} else {
		res.authorization = xasprintf(ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
					      "Signature=%s", creds->access_key_id, scope, sh.buf,
					      res.signature);
		if (!has_header(rq, "x-amz-date"))
			add_line(&res.headers, &nlines, xasprintf("X-Amz-Date: %s", params->amz_date));
		if (params->content_sha256_header && !has_header(rq, "x-amz-content-sha256"))
			add_line(&res.headers, &nlines, xasprintf("X-Amz-Content-Sha256: %s", payload));
		if (token && !has_header(rq, "x-amz-security-token"))
			add_line(&res.headers, &nlines, xasprintf("X-Amz-Security-Token: %s", token));
		add_line(&res.headers, &nlines, xasprintf("Authorization: %s", res.authorization));
	}
	*ret = res;
	memset(&res, 0, sizeof(res));
out:
	sigv4_result_release(&res);
	pairs_release(&query);
	pairs_release(&hdrs);
	strbuf_release(&creq);
	strbuf_release(&sh);
	strbuf_release(&q);
	free(scope);
	free(uri);
	return r;
}

/* Free what sigv4_sign allocated; r is empty afterwards. */
void sigv4_result_release(struct sigv4_result *r)
{
	size_t i;

	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->signed_headers);
	free(r->authorization);
	free(r->query);
	for (i = 0; r->headers && r->headers[i]; i++) {
		secure_free(r->headers[i]);
	}
	free(r->headers);
	memset(r, 0, sizeof(*r));
}
