/*
 * The gs:// storage driver (see backend/gcp/gcs.h).
 */
#define _GNU_SOURCE	/* timegm */
#include "backend/gcp/gcs.h"
#include "backend/common/fusemount.h"
#include "base/fs.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/gcp/auth.h"
#include "spec/config.h"
#include "util/http.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TRIES 4
#define META_MAX (1u << 20)
#define LIST_PAGE_MAX (16u << 20)
#define GET_DEFAULT_MAX (1u << 30)
#define SMALL_TIMEOUT_MS 60000L
#define TRANSFER_TIMEOUT_MS (4L * 3600 * 1000)
#define APPEND_EVERY_MS 1000	/* one write a second per object */
#define PENDING_MAX (64u << 20)
#define TMP_DIR ".frugal-tmp"
#define REWRITE_MAX (1u << 20)	/* appends rewrite objects up to this size */

struct gcs {
	char *endpoint;
	char *bucket;
	char *prefix;		/* "" or "a/b", no slash at either end */
	struct gauth *auth;
	/* Appends held back (one key at a time). */
	char *pend_key;
	struct strbuf pend;
	char *last_key;		/* the key last appended to, and when */
	int64_t last_ms;
};

/* The driver state of s. */
static struct gcs *priv_of(struct storage *s)
{
	return s->priv;
}

/* FRUGAL_GCS_ENDPOINT, STORAGE_EMULATOR_HOST, or the service. */
const char *gcs_endpoint(void)
{
	static char buf[512];
	const char *v = getenv(GCS_ENDPOINT_ENV);

	if (v && *v)
		return v;
	v = getenv("STORAGE_EMULATOR_HOST");
	if (v && *v) {
		/* Client libraries take "host:port" there, without a scheme. */
		if (strstr(v, "://"))
			return v;
		snprintf(buf, sizeof(buf), "http://%s", v);
		return buf;
	}
	return GCS_DEFAULT_ENDPOINT;
}

/* The object name of key. Caller frees. */
static char *obj_name(struct gcs *g, const char *key)
{
	return *g->prefix ? xasprintf("%s/%s", g->prefix, key) : xstrdup(key);
}

/* endpoint/storage/v1/b/BUCKET/o/NAME (encoded, '/' too) + suffix. */
static char *obj_url(struct gcs *g, const char *key, const char *suffix)
{
	char *name = obj_name(g, key), *enc = http_urlencode(name, 0);
	char *url = xasprintf("%s/storage/v1/b/%s/o/%s%s", g->endpoint, g->bucket, enc,
			      suffix ? suffix : "");

	free(name);
	free(enc);
	return url;
}

/* endpoint/upload/storage/v1/b/BUCKET/o?uploadType=TYPE&name=NAME, with
 * &ifGenerationMatch=GEN when gen >= 0 (0: only if the object is absent). */
static char *upload_url(struct gcs *g, const char *name, const char *type, int64_t gen)
{
	char *enc = http_urlencode(name, 0);
	char cond[48] = "";
	char *url;

	if (gen >= 0)
		snprintf(cond, sizeof(cond), "&ifGenerationMatch=%lld", (long long)gen);
	url = xasprintf("%s/upload/storage/v1/b/%s/o?uploadType=%s&name=%s%s", g->endpoint,
			g->bucket, type, enc, cond);
	free(enc);
	return url;
}

/* The generation precondition of storage flags: 0 (absent) or none (-1). */
static int64_t flags_gen(unsigned flags)
{
	return flags & STORAGE_NO_OVERWRITE ? 0 : -1;
}

/* ---- requests ------------------------------------------------------------------- */

/* 1 for an answer worth asking again: throttled, timed out, a server error. */
static int retryable(long status)
{
	return status == 429 || status == 408 || (status >= 500 && status <= 599);
}

/*
 * Perform rq with the token added (and the extra headers), asking again
 * after a 401 (with a fresh token), a 429, a 5xx or no answer. 0 when an
 * answer came (any status; *rs filled), else the last failure.
 */
static int request(struct gcs *g, struct http_request *rq, const char *const *extra,
		   struct http_response *rs, struct error *err)
{
	struct strbuf auth = STRBUF_INIT;
	const char *headers[12];
	int64_t pause = 500;
	int tries, r = 0, renewed = 0;

	for (tries = 1;; tries++) {
		const char *token;
		size_t n = 0, i;

		if ((r = gauth_token(g->auth, &token, err)) < 0)
			break;
		strbuf_reset(&auth);
		strbuf_addf(&auth, "Authorization: Bearer %s", token);
		headers[n++] = auth.buf;
		for (i = 0; extra && extra[i] && n < 11; i++)
			headers[n++] = extra[i];
		headers[n] = NULL;
		rq->headers = headers;
		r = http_do(rq, rs, err);
		secure_zero(auth.buf, auth.len);
		if (r == 0 && rs->status == 401 && !renewed) {
			gauth_invalidate(g->auth);
			renewed = 1;
			http_response_release(rs);
			continue;
		}
		if ((r == 0 && !retryable(rs->status)) || (r < 0 && r != FRUGAL_ENET) ||
		    tries >= TRIES)
			break;
		if (r == 0)
			http_response_release(rs);
		time_sleep_ms(pause);
		pause *= 2;
	}
	rq->headers = NULL;
	strbuf_release(&auth);
	return r;
}

/* The API's message of an error answer, or "HTTP N". Caller frees. */
static char *api_message(const struct http_response *rs)
{
	json_t *o = json_loadb(rs->body.buf, rs->body.len, 0, NULL);
	const char *m = json_string_value(json_object_get(json_object_get(o, "error"), "message"));
	char *s = m ? xasprintf("HTTP %ld: %s", rs->status, m) : xasprintf("HTTP %ld", rs->status);

	json_decref(o);
	return s;
}

/* The error for a non-2xx answer about key. */
static int status_error(struct storage *s, const char *what, const char *key,
			const struct http_response *rs, struct error *err)
{
	char *m = api_message(rs);
	int r;

	/* "No such object: B/O" vs "The specified bucket does not exist." */
	if (rs->status == 404 && !strstr(m, "bucket does not exist"))
		r = error_set(err, FRUGAL_ENOTFOUND, "no object '%s' in '%s'", key, s->url);
	else if (rs->status == 412)
		r = error_set(err, FRUGAL_EEXIST, "'%s' already exists in '%s'", key, s->url);
	else if (rs->status == 401 || rs->status == 403) {
		r = error_set(err, FRUGAL_EPROVIDER, "%s '%s' in '%s': %s", what, key, s->url, m);
		if (rs->status == 403)
			gauth_explain_denied(err, priv_of(s)->auth, "storage", priv_of(s)->bucket,
					     rs->body.buf,
					     rs->body.len);
	}
	else if (retryable(rs->status))
		r = error_set(err, FRUGAL_ENET, "%s '%s' in '%s': %s", what, key, s->url, m);
	else
		r = error_set(err, FRUGAL_EPROVIDER, "%s '%s' in '%s': %s", what, key, s->url, m);
	free(m);
	return r;
}

/* ---- open, close ------------------------------------------------------------------- */

static int flush_pending(struct storage *s, struct error *err);

/* 1 for a bucket name GCS accepts (3-222 of [a-z0-9._-], alnum at both ends). */
static int bucket_valid(const char *b, size_t n)
{
	size_t i;

	if (n < 3 || n > 222)
		return 0;
	for (i = 0; i < n; i++)
		if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') ||
		      b[i] == '-' || b[i] == '_' || b[i] == '.'))
			return 0;
	return b[0] != '-' && b[0] != '.' && b[n - 1] != '-' && b[n - 1] != '.';
}

/*
 * backends.gcp.credentials of $FRUGAL_HOME/config.yaml (~/.frugal when
 * unset), "~/" expanded, or NULL: the key file Compute uses, so that
 * Compute and GCS find credentials the same way (gcp.c passes the same
 * setting to gauth_new). The file is only read, never created.
 */
static char *config_credentials(void)
{
	const char *home = getenv("FRUGAL_HOME"), *v;
	char *dir = home && *home ? xstrdup(home) : getenv("HOME") ?
		    xasprintf("%s/.frugal", getenv("HOME")) : NULL;
	char *path = dir ? xasprintf("%s/config.yaml", dir) : NULL, *ret = NULL;
	struct diag_list diags = DIAG_LIST_INIT;
	struct config cfg;

	config_init(&cfg);
	if (path && fs_exists(path) && config_load(path, &cfg, &diags) == 0 &&
	    (v = config_backend_get(&cfg, "gcp", "credentials")) && *v)
		ret = !strncmp(v, "~/", 2) && getenv("HOME")
		      ? xasprintf("%s/%s", getenv("HOME"), v + 2) : xstrdup(v);
	config_release(&cfg);
	diag_list_release(&diags);
	free(path);
	free(dir);
	return ret;
}

/* Open: rest is "BUCKET[/PREFIX]"; credentials are found now, used later. */
static int gcs_open(struct storage *s, const char *rest, struct error *err)
{
	struct gcs *g = NULL;
	const char *slash = strchr(rest, '/');
	size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *prefix = slash ? slash + 1 : "";
	char *key_file;
	size_t n;
	int r;

	if (!bucket_valid(rest, blen)) {
		r = error_set(err, FRUGAL_EINVAL, "storage URL '%s': expected gs://BUCKET or "
			      "gs://BUCKET/PREFIX with a valid bucket name", s->url);
		goto out;
	}
	g = xcalloc(1, sizeof(*g));
	g->bucket = xstrndup(rest, blen);
	while (*prefix == '/')
		prefix++;
	g->prefix = xstrdup(prefix);
	n = strlen(g->prefix);
	while (n && g->prefix[n - 1] == '/')
		g->prefix[--n] = '\0';
	if (*g->prefix && !storage_key_valid(g->prefix)) {
		r = error_set(err, FRUGAL_EINVAL, "storage URL '%s': the prefix is not a valid "
			      "object name prefix", s->url);
		goto out;
	}
	g->endpoint = xstrdup(gcs_endpoint());
	n = strlen(g->endpoint);
	while (n && g->endpoint[n - 1] == '/')
		g->endpoint[--n] = '\0';
	strbuf_init(&g->pend, 0);
	key_file = config_credentials();
	r = gauth_new(key_file, 1, &g->auth, err);
	free(key_file);
	if (r < 0) {
		error_prefix(err, "cannot open storage '%s'", s->url);
		goto out;
	}
	s->priv = g;
	g = NULL;
out:
	if (g) {
		free(g->bucket);
		free(g->prefix);
		free(g->endpoint);
		strbuf_release(&g->pend);
		free(g);
	}
	return r;
}

/* Write what is held back, then free the driver state. */
static void gcs_close(struct storage *s)
{
	struct gcs *g = priv_of(s);

	if (!g)
		return;
	flush_pending(s, NULL);
	gauth_free(g->auth);
	free(g->endpoint);
	free(g->bucket);
	free(g->prefix);
	free(g->pend_key);
	strbuf_release(&g->pend);
	free(g->last_key);
	free(g);
	s->priv = NULL;
}

/* ---- uploads ----------------------------------------------------------------------- */

/* Where upload bytes come from: memory or a file. */
struct source {
	const char *data;
	FILE *f;
	int64_t size;
};

/* Read n bytes at off into buf. */
static int source_read(struct source *src, int64_t off, char *buf, size_t n, const char *what,
		       struct error *err)
{
	if (src->data) {
		memcpy(buf, src->data + off, n);
		return 0;
	}
	if (fseeko(src->f, (off_t)off, SEEK_SET) != 0 || fread(buf, 1, n, src->f) != n)
		return error_errno(err, "cannot read '%s'", what);
	return 0;
}

/* One simple (media) upload of the whole source, if the object is at
 * generation gen (-1: whatever it is). */
static int upload_simple(struct storage *s, const char *key, struct source *src, int64_t gen,
			 struct error *err)
{
	static const char *const extra[] = { "Content-Type: application/octet-stream", NULL };
	struct gcs *g = priv_of(s);
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *name = obj_name(g, key), *url = upload_url(g, name, "media", gen);
	char *buf = NULL;
	int r;

	if (!src->data && src->size) {
		buf = xmalloc((size_t)src->size);
		if ((r = source_read(src, 0, buf, (size_t)src->size, key, err)) < 0)
			goto out;
	}
	rq.method = "POST";
	rq.url = url;
	rq.body = src->data ? src->data : buf ? buf : "";
	rq.body_len = (size_t)src->size;
	rq.timeout_ms = TRANSFER_TIMEOUT_MS;
	rq.max_response = META_MAX;
	if ((r = request(g, &rq, extra, &rs, err)) < 0)
		goto out;
	if (rs.status != 200 && rs.status != 201)
		r = status_error(s, "cannot store", key, &rs, err);
out:
	http_response_release(&rs);
	free(buf);
	free(name);
	free(url);
	return r;
}

/* The offset after "Range: bytes=0-N" of a 308 answer (N + 1), or 0. */
static int64_t committed(const struct http_response *rs)
{
	char *range = http_header(rs, "Range");
	long long last = -1;

	if (range && sscanf(range, "bytes=0-%lld", &last) != 1)
		last = -1;
	free(range);
	return last + 1;
}

/* Start a resumable session; *ret_session is its URL. */
static int session_start(struct storage *s, const char *key, int64_t size, unsigned flags,
			 char **ret_session, struct error *err)
{
	struct gcs *g = priv_of(s);
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *name = obj_name(g, key), *url = upload_url(g, name, "resumable", flags_gen(flags));
	char len_hdr[64], *loc = NULL;
	const char *extra[] = { "Content-Type: application/json; charset=UTF-8",
				"X-Upload-Content-Type: application/octet-stream", len_hdr, NULL };
	int r;

	snprintf(len_hdr, sizeof(len_hdr), "X-Upload-Content-Length: %lld", (long long)size);
	rq.method = "POST";
	rq.url = url;
	rq.body = "{}";
	rq.body_len = 2;
	rq.timeout_ms = SMALL_TIMEOUT_MS;
	rq.max_response = META_MAX;
	if ((r = request(g, &rq, extra, &rs, err)) < 0)
		goto out;
	if (rs.status != 200 && rs.status != 201) {
		r = status_error(s, "cannot store", key, &rs, err);
		goto out;
	}
	loc = http_header(&rs, "Location");
	/* The session must be on the service we talk to. */
	if (!loc || strncmp(loc, g->endpoint, strlen(g->endpoint))) {
		r = error_set(err, FRUGAL_EPROVIDER, "cannot store '%s' in '%s': the upload session "
			      "is not on %s", key, s->url, g->endpoint);
		goto out;
	}
	*ret_session = loc;
	loc = NULL;
out:
	free(loc);
	http_response_release(&rs);
	free(name);
	free(url);
	return r;
}

/*
 * PUT one chunk [off, off + n) of size bytes to the session (n 0: ask how
 * far the upload got). *ret_next: the next offset to send, or size when
 * the object is complete.
 */
static int session_put(struct storage *s, const char *key, const char *session,
		       const char *chunk, int64_t off, size_t n, int64_t size, int64_t *ret_next,
		       struct error *err)
{
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char range[96];
	const char *extra[] = { range, NULL };
	int r;

	if (n)
		snprintf(range, sizeof(range), "Content-Range: bytes %lld-%lld/%lld",
			 (long long)off, (long long)(off + (int64_t)n - 1), (long long)size);
	else
		snprintf(range, sizeof(range), "Content-Range: bytes */%lld", (long long)size);
	rq.method = "PUT";
	rq.url = session;
	rq.headers = extra;
	rq.body = n ? chunk : "";
	rq.body_len = n;
	rq.timeout_ms = TRANSFER_TIMEOUT_MS;
	rq.max_response = META_MAX;
	/* The session URL is the credential of the upload: no token on it. */
	if ((r = http_do(&rq, &rs, err)) < 0)
		goto out;
	if (rs.status == 200 || rs.status == 201)
		*ret_next = size;
	else if (rs.status == 308)
		*ret_next = committed(&rs);
	else if (rs.status == 412)
		r = error_set(err, FRUGAL_EEXIST, "'%s' already exists in '%s'", key, s->url);
	else if (retryable(rs.status))
		r = error_set(err, FRUGAL_ENET, "cannot store '%s' in '%s': HTTP %ld", key, s->url,
			      rs.status);
	else
		r = status_error(s, "cannot store", key, &rs, err);
out:
	http_response_release(&rs);
	return r;
}

/*
 * A resumable upload in GCS_CHUNK pieces. After a failed piece it asks
 * the session how much it holds and goes on from there (up to TRIES
 * failures in a row).
 */
static int upload_resumable(struct storage *s, const char *key, struct source *src,
			    unsigned flags, struct error *err)
{
	char *session = NULL, *buf = xmalloc(GCS_CHUNK);
	int64_t off = 0, next = 0;
	int r, fails = 0;

	if ((r = session_start(s, key, src->size, flags, &session, err)) < 0)
		goto out;
	while (off < src->size) {
		size_t n = (size_t)(src->size - off < GCS_CHUNK ? src->size - off : GCS_CHUNK);

		if ((r = source_read(src, off, buf, n, key, err)) < 0)
			goto out;
		r = session_put(s, key, session, buf, off, n, src->size, &next, err);
		if (r == FRUGAL_ENET && ++fails < TRIES) {
			time_sleep_ms(500LL << fails);
			if (session_put(s, key, session, NULL, 0, 0, src->size, &next, NULL) < 0)
				continue;	/* send the same piece again */
			off = next;
			continue;
		}
		if (r < 0)
			goto out;
		fails = 0;
		if (next <= off && next < src->size) {
			r = error_set(err, FRUGAL_EPROVIDER, "cannot store '%s' in '%s': the upload "
				      "made no progress", key, s->url);
			goto out;
		}
		off = next;
	}
	r = 0;
out:
	secure_free(session);
	free(buf);
	return r;
}

/* Store a source under key: simple up to one chunk, resumable above. */
static int upload(struct storage *s, const char *key, struct source *src, unsigned flags,
		  struct error *err)
{
	if (src->size <= (int64_t)GCS_CHUNK)
		return upload_simple(s, key, src, flags_gen(flags), err);
	return upload_resumable(s, key, src, flags, err);
}

/* ops.put: store data under key (simple or resumable upload). */
static int gcs_put(struct storage *s, const char *key, const void *data, size_t len,
		   unsigned flags, struct error *err)
{
	struct source src = { data ? data : "", NULL, (int64_t)len };
	int r;

	if ((r = flush_pending(s, err)) < 0)
		return r;
	return upload(s, key, &src, flags, err);
}

/* ops.put_file: store a local file under key, streamed in chunks when large. */
static int gcs_put_file(struct storage *s, const char *key, const char *local_path,
			unsigned flags, struct error *err)
{
	struct source src = { NULL, NULL, 0 };
	struct stat st;
	int r;

	if ((r = flush_pending(s, err)) < 0)
		return r;
	src.f = fopen(local_path, "rbe");
	if (!src.f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return error_set(err, FRUGAL_ENOTFOUND, "no file '%s'", local_path);
		return error_errno(err, "cannot read '%s'", local_path);
	}
	if (fstat(fileno(src.f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(src.f);
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a regular file", local_path);
	}
	src.size = (int64_t)st.st_size;
	r = upload(s, key, &src, flags, err);
	fclose(src.f);
	return r;
}

/* ---- downloads ----------------------------------------------------------------------- */

/* GET the object's bytes (Range when range is not NULL; generation gen
 * when gen > 0) into rs. */
static int download(struct storage *s, const char *key, const char *range, int64_t gen,
		    size_t max, struct http_response *rs, struct error *err)
{
	struct gcs *g = priv_of(s);
	struct http_request rq = HTTP_REQUEST_INIT;
	char suffix[64];
	char *url;
	const char *extra[] = { range, NULL };
	int r;

	if (gen > 0)
		snprintf(suffix, sizeof(suffix), "?alt=media&generation=%lld", (long long)gen);
	else
		snprintf(suffix, sizeof(suffix), "?alt=media");
	url = obj_url(g, key, suffix);
	rq.method = "GET";
	rq.url = url;
	rq.timeout_ms = TRANSFER_TIMEOUT_MS;
	rq.max_response = max;
	r = request(g, &rq, range ? extra : NULL, rs, err);
	free(url);
	return r;
}

/* ops.get: the whole object into out; more than max is FRUGAL_ETOOBIG. */
static int gcs_get(struct storage *s, const char *key, size_t max, struct strbuf *out,
		   struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	int r;

	if ((r = flush_pending(s, err)) < 0)
		return r;
	r = download(s, key, NULL, 0, max ? max : GET_DEFAULT_MAX, &rs, err);
	if (r == FRUGAL_ETOOBIG)
		r = error_set(err, FRUGAL_ETOOBIG, "'%s' is larger than %zu bytes", key, max);
	if (r < 0)
		goto out;
	if (rs.status != 200) {
		r = status_error(s, "cannot read", key, &rs, err);
		goto out;
	}
	if (strbuf_add(out, rs.body.buf, rs.body.len) < 0)
		r = error_set(err, FRUGAL_ETOOBIG, "'%s' does not fit in the buffer", key);
out:
	http_response_release(&rs);
	return r;
}

/* Download into a temporary file beside local_path, then rename it there. */
static int gcs_get_file(struct storage *s, const char *key, const char *local_path,
			struct error *err)
{
	struct gcs *g = priv_of(s);
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *url = obj_url(g, key, "?alt=media");
	char *tmp = xasprintf("%s.tmp-%d-gcs", local_path, (int)getpid());
	char *dir = xstrdup(local_path), *slash = strrchr(dir, '/');
	int r;

	if ((r = flush_pending(s, err)) < 0)
		goto out;
	if (slash && slash != dir) {
		*slash = '\0';
		if (!fs_is_dir(dir) && (r = fs_mkdir_p(dir, 0777, err)) < 0)
			goto out;
	}
	rq.method = "GET";
	rq.url = url;
	rq.timeout_ms = TRANSFER_TIMEOUT_MS;
	rq.max_response = META_MAX;
	rq.download_file = tmp;
	if ((r = request(g, &rq, NULL, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		r = status_error(s, "cannot read", key, &rs, err);
		goto out;
	}
	if (rename(tmp, local_path) < 0) {
		r = error_errno(err, "cannot write '%s'", local_path);
		goto out;
	}
	r = 0;
out:
	unlink(tmp);
	http_response_release(&rs);
	free(url);
	free(tmp);
	free(dir);
	return r;
}

/* ops.read_at: at most max bytes from offset (a Range request); past the end: none. */
static int gcs_read_at(struct storage *s, const char *key, int64_t offset, size_t max,
		       struct strbuf *out, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	char range[80];
	int r;

	if ((r = flush_pending(s, err)) < 0)
		return r;
	if (max)
		snprintf(range, sizeof(range), "Range: bytes=%lld-%lld", (long long)offset,
			 (long long)(offset + (int64_t)max - 1));
	else
		snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)offset);
	if ((r = download(s, key, range, 0, max ? max + META_MAX : GET_DEFAULT_MAX, &rs, err)) < 0)
		goto out;
	if (rs.status == 416)		/* offset at or past the end */
		goto out;
	if (rs.status == 200) {		/* the whole object: take the part asked */
		size_t from = offset < (int64_t)rs.body.len ? (size_t)offset : rs.body.len;
		size_t n = rs.body.len - from;
		if (max && n > max)
			n = max;
		strbuf_add(out, rs.body.buf + from, n);
		goto out;
	}
	if (rs.status != 206) {
		r = status_error(s, "cannot read", key, &rs, err);
		goto out;
	}
	strbuf_add(out, rs.body.buf, max && rs.body.len > max ? max : rs.body.len);
out:
	http_response_release(&rs);
	return r;
}

/* ---- metadata ------------------------------------------------------------------------- */

/* RFC 3339 "2024-05-01T12:34:56.789Z" -> Unix ms (0 when it does not parse). */
static int64_t parse_time(const char *s)
{
	struct tm tm;
	int ms = 0;
	const char *p;

	if (!s)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	p = strchr(s, '.');
	if (p) {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits++ < 3)
				ms = ms * 10 + (*p - '0');
		while (digits++ < 3)
			ms *= 10;
	}
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* The object's metadata (size, updated, generation) as JSON. */
static int object_meta(struct storage *s, const char *key, json_t **ret, struct error *err)
{
	struct gcs *g = priv_of(s);
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *url = obj_url(g, key, "?fields=size,updated,generation");
	int r;

	rq.method = "GET";
	rq.url = url;
	rq.timeout_ms = SMALL_TIMEOUT_MS;
	rq.max_response = META_MAX;
	if ((r = request(g, &rq, NULL, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		r = status_error(s, "cannot read", key, &rs, err);
		goto out;
	}
	*ret = json_loadb(rs.body.buf, rs.body.len, 0, NULL);
	if (!*ret)
		r = error_set(err, FRUGAL_EPROVIDER, "metadata of '%s' in '%s' is not JSON", key,
			      s->url);
out:
	http_response_release(&rs);
	free(url);
	return r;
}

/* A JSON field that GCS writes as a decimal string ("size": "123"). */
static int64_t num_field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	if (json_is_integer(v))
		return json_integer_value(v);
	return json_is_string(v) ? strtoll(json_string_value(v), NULL, 10) : 0;
}

/* ops.stat: size and last update of an object. */
static int gcs_stat(struct storage *s, const char *key, int64_t *ret_size,
		    int64_t *ret_mtime_ms, struct error *err)
{
	json_t *o = NULL;
	int r;

	if ((r = flush_pending(s, err)) < 0)
		return r;
	if ((r = object_meta(s, key, &o, err)) < 0)
		return r;
	if (ret_size)
		*ret_size = num_field(o, "size");
	if (ret_mtime_ms)
		*ret_mtime_ms = parse_time(json_string_value(json_object_get(o, "updated")));
	json_decref(o);
	return 0;
}

/* DELETE an object; 404 is success. */
static int delete_object(struct storage *s, const char *key, struct error *err)
{
	struct gcs *g = priv_of(s);
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *url = obj_url(g, key, NULL);
	int r;

	rq.method = "DELETE";
	rq.url = url;
	rq.timeout_ms = SMALL_TIMEOUT_MS;
	rq.max_response = META_MAX;
	if ((r = request(g, &rq, NULL, &rs, err)) < 0)
		goto out;
	if (rs.status != 200 && rs.status != 204 && rs.status != 404)
		r = status_error(s, "cannot delete", key, &rs, err);
out:
	http_response_release(&rs);
	free(url);
	return r;
}

/* ops.del: delete key; a missing one is no error. */
static int gcs_del(struct storage *s, const char *key, struct error *err)
{
	int r;

	if ((r = flush_pending(s, err)) < 0)
		return r;
	return delete_object(s, key, err);
}

/* ---- list ----------------------------------------------------------------------------- */

/* qsort order of listing entries: by key, strcmp. */
static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct storage_entry *)a)->key,
		      ((const struct storage_entry *)b)->key);
}

/* Add the items of one page to out; *ret_next is its nextPageToken. */
static int list_page(struct storage *s, json_t *page, struct storage_list *out,
		     char **ret_next)
{
	struct gcs *g = priv_of(s);
	json_t *items = json_object_get(page, "items"), *it;
	const char *next = json_string_value(json_object_get(page, "nextPageToken"));
	size_t i, plen = strlen(g->prefix);

	json_array_foreach(items, i, it) {
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *key;
		struct storage_entry *e;

		if (!name)
			continue;
		if (plen && (strncmp(name, g->prefix, plen) || name[plen] != '/'))
			continue;
		key = plen ? name + plen + 1 : name;
		if (!storage_key_valid(key) || !strncmp(key, TMP_DIR "/", sizeof(TMP_DIR)))
			continue;
		XGROW(out->items, out->n + 1, out->alloc);
		e = &out->items[out->n++];
		e->key = xstrdup(key);
		e->size = num_field(it, "size");
		e->mtime_ms = parse_time(json_string_value(json_object_get(it, "updated")));
	}
	*ret_next = next && *next ? xstrdup(next) : NULL;
	return 0;
}

/* ops.list: every object under prefix, all pages, sorted by key. */
static int gcs_list(struct storage *s, const char *prefix, struct storage_list *out,
		    struct error *err)
{
	struct gcs *g = priv_of(s);
	char *full = *g->prefix ? xasprintf("%s/%s", g->prefix, prefix ? prefix : "")
			       : xstrdup(prefix ? prefix : "");
	char *enc = http_urlencode(full, 0), *token = NULL;
	size_t n0 = out->n;
	int r;

	if ((r = flush_pending(s, err)) < 0)
		goto out;
	do {
		struct http_request rq = HTTP_REQUEST_INIT;
		struct http_response rs = HTTP_RESPONSE_INIT;
		char *tok = token ? http_urlencode(token, 0) : NULL;
		char *url = xasprintf("%s/storage/v1/b/%s/o?prefix=%s&fields=%s%s%s", g->endpoint,
				      g->bucket, enc, "items(name,size,updated),nextPageToken",
				      tok ? "&pageToken=" : "", tok ? tok : "");
		json_t *page;

		free(tok);
		free(token);
		token = NULL;
		rq.method = "GET";
		rq.url = url;
		rq.timeout_ms = SMALL_TIMEOUT_MS;
		rq.max_response = LIST_PAGE_MAX;
		r = request(g, &rq, NULL, &rs, err);
		free(url);
		if (r == 0 && rs.status != 200) {
			char *m = api_message(&rs);
			r = error_set(err, rs.status == 404 ? FRUGAL_EPROVIDER : FRUGAL_ENET,
				      "cannot list '%s' in '%s': %s", prefix ? prefix : "", s->url, m);
			free(m);
		}
		if (r < 0) {
			http_response_release(&rs);
			goto out;
		}
		page = json_loadb(rs.body.buf, rs.body.len, 0, NULL);
		http_response_release(&rs);
		list_page(s, page, out, &token);
		json_decref(page);
	} while (token);
	if (out->n > n0)
		qsort(out->items + n0, out->n - n0, sizeof(*out->items), entry_cmp);
out:
	if (r < 0) {
		while (out->n > n0)
			free(out->items[--out->n].key);
	}
	free(token);
	free(enc);
	free(full);
	return r;
}

/* ---- append ---------------------------------------------------------------------------- */

/* A fresh temporary key for an append's bytes. Caller frees. */
static char *tmp_key(void)
{
	unsigned char rnd[8];
	char hex[17];
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0, sizeof(rnd));
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	return xasprintf("%s/%d-%lld-%s", TMP_DIR, (int)getpid(), (long long)time_now_ms(), hex);
}

/* objects.compose [key, part] -> key, if key is still at generation gen. */
static int compose(struct storage *s, const char *key, const char *part, int64_t gen,
		   struct error *err)
{
	static const char *const extra[] = { "Content-Type: application/json", NULL };
	struct gcs *g = priv_of(s);
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *suffix = xasprintf("/compose?ifGenerationMatch=%lld", (long long)gen);
	char *url = obj_url(g, key, suffix);
	char *a = obj_name(g, key), *b = obj_name(g, part);
	json_t *body = json_pack("{s:[{s:s},{s:s}], s:{s:s}}", "sourceObjects", "name", a,
				 "name", b, "destination", "contentType",
				 "application/octet-stream");
	char *text = json_dumps(body, JSON_COMPACT);
	int r;

	rq.method = "POST";
	rq.url = url;
	rq.body = text;
	rq.body_len = strlen(text);
	rq.timeout_ms = SMALL_TIMEOUT_MS;
	rq.max_response = META_MAX;
	if ((r = request(g, &rq, extra, &rs, err)) < 0)
		goto out;
	if (rs.status != 200)
		r = status_error(s, "cannot append to", key, &rs, err);
out:
	http_response_release(&rs);
	json_decref(body);
	free(text);
	free(suffix);
	free(url);
	free(a);
	free(b);
	return r;
}

/*
 * Rewrite the object (generation gen, size bytes) with data added, if it
 * is still at that generation: FRUGAL_EEXIST when it changed meanwhile.
 * No temporary object: nothing is left behind when the writer dies.
 */
static int rewrite_with(struct storage *s, const char *key, int64_t gen, int64_t size,
			const char *data, size_t len, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct source src = { NULL, NULL, 0 };
	int r;

	if ((r = download(s, key, NULL, gen, (size_t)size + META_MAX, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		r = rs.status == 404 ? FRUGAL_EEXIST : status_error(s, "cannot read", key, &rs, err);
		goto out;
	}
	strbuf_add(&rs.body, data, len);
	src.data = rs.body.buf;
	src.size = (int64_t)rs.body.len;
	r = upload_simple(s, key, &src, gen, err);
out:
	http_response_release(&rs);
	return r;
}

/*
 * Append data to key now: create it; rewrite it with the data added while
 * it is small (REWRITE_MAX); else compose a temporary part onto it. Both
 * are conditional on the object's generation and tried again when it
 * changed meanwhile.
 */
static int append_now(struct storage *s, const char *key, const char *data, size_t len,
		      struct error *err)
{
	struct source src = { data, NULL, (int64_t)len };
	char *part = NULL;
	int r, tries;

	for (tries = 0; tries < TRIES; tries++) {
		json_t *meta = NULL;
		int64_t gen, size;

		r = object_meta(s, key, &meta, err);
		if (r == FRUGAL_ENOTFOUND) {
			r = upload(s, key, &src, STORAGE_NO_OVERWRITE, err);
			if (r == FRUGAL_EEXIST)
				continue;	/* made meanwhile: add to it */
			goto out;
		}
		if (r < 0)
			goto out;
		gen = num_field(meta, "generation");
		size = num_field(meta, "size");
		json_decref(meta);
		if (size + (int64_t)len <= REWRITE_MAX) {
			r = rewrite_with(s, key, gen, size, data, len, err);
			if (r != FRUGAL_EEXIST)
				goto out;
			continue;
		}
		if (!part) {
			part = tmp_key();
			if ((r = upload(s, part, &src, 0, err)) < 0)
				goto out;
		}
		r = compose(s, key, part, gen, err);
		if (r != FRUGAL_EEXIST)	/* 412: the object changed under us; again */
			goto out;
	}
	r = error_set(err, FRUGAL_EBUSY, "cannot append to '%s' in '%s': it keeps changing", key,
		      s->url);
out:
	if (part)
		delete_object(s, part, NULL);
	free(part);
	return r;
}

/* Write the appends held back, if any. */
static int flush_pending(struct storage *s, struct error *err)
{
	struct gcs *g = priv_of(s);
	int r;

	if (!g->pend_key)
		return 0;
	if ((r = append_now(s, g->pend_key, g->pend.buf, g->pend.len, err)) < 0)
		return r;	/* kept: the next flush tries again */
	free(g->last_key);
	g->last_key = g->pend_key;
	g->pend_key = NULL;
	g->last_ms = time_mono_ms();
	strbuf_reset(&g->pend);
	return 0;
}

/* ops.append: add data to key, held back within a second of the last write. */
static int gcs_append(struct storage *s, const char *key, const void *data, size_t len,
		      struct error *err)
{
	struct gcs *g = priv_of(s);

	if (g->pend_key && strcmp(g->pend_key, key)) {
		int r = flush_pending(s, err);
		if (r < 0)
			return r;
	}
	if (g->pend.len + len > PENDING_MAX)
		return error_set(err, FRUGAL_ETOOBIG, "cannot append to '%s' in '%s': %u bytes are "
				 "waiting to be written already", key, s->url, PENDING_MAX);
	if (!g->pend_key)
		g->pend_key = xstrdup(key);
	strbuf_add(&g->pend, data, len);
	/* One write a second per object: later appends wait for the next. */
	if (g->last_key && !strcmp(g->last_key, key) &&
	    time_mono_ms() - g->last_ms < APPEND_EVERY_MS)
		return 0;
	return flush_pending(s, err);
}

/* ops.local_path: objects have no local path. */
static char *gcs_local_path(struct storage *s, const char *key)
{
	return NULL;
}

/* file_mounts MOUNT: gcsfuse or rclone, whichever the machine has. */
static int gcs_mount(const char *url, const char *dir, struct error *err)
{
	char *bucket, *prefix;
	int r;

	fusemount_split(url, &bucket, &prefix);
	if (fusemount_have("gcsfuse")) {
		const char *argv[] = { "gcsfuse", "--only-dir", prefix, bucket, dir, NULL };
		const char *plain[] = { "gcsfuse", bucket, dir, NULL };

		r = fusemount_run(prefix ? argv : plain, err);
	} else if (fusemount_have("rclone")) {
		r = fusemount_rclone("gcs", bucket, prefix, dir, err);
	} else {
		r = error_set(err, FRUGAL_ENOTSUP, "MOUNT of %s needs gcsfuse or rclone on the machine, and "
			      "neither is on PATH: install one in the machine's image "
			      "(resources.image_id), or use mode: COPY or MOUNT_CACHED", url);
	}
	free(bucket);
	free(prefix);
	return r;
}

const struct storage_ops storage_gcs_ops = {
	.store_name = "gcs",
	.mount = gcs_mount,
	.scheme = "gs",
	.open = gcs_open,
	.close = gcs_close,
	.put = gcs_put,
	.put_file = gcs_put_file,
	.get = gcs_get,
	.get_file = gcs_get_file,
	.append = gcs_append,
	.read_at = gcs_read_at,
	.list = gcs_list,
	.del = gcs_del,
	.stat = gcs_stat,
	.local_path = gcs_local_path,
};
