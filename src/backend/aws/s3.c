/*
 * The s3:// storage driver (see backend/aws/s3.h).
 */
#define _GNU_SOURCE	/* strptime */
#include "backend/aws/s3.h"
#include "backend/common/fusemount.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/aws/creds.h"
#include "backend/aws/request.h"
#include "backend/aws/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LIST_MAX_RESPONSE (16u << 20)
#define GET_DEFAULT_MAX (1ULL << 32)	/* into memory: 4 GiB at most */
#define MAX_PARTS 10000
#define LONG_TIMEOUT_MS (30L * 60 * 1000)	/* a large object over a slow link */

struct s3 {
	char *bucket;
	char *root;		/* "" or "a/b" (no leading or trailing '/') */
	struct aws_creds creds;
	int loaded;		/* creds, region and endpoint known */
	char *region;
	char *endpoint;		/* "https://host[:port]" */
	int path_style;		/* the bucket is the first path segment */
	int fixed_endpoint;	/* an override: never follow region redirects */
	char *append_key;	/* the object append() holds in memory */
	struct strbuf append_buf;
	int append_valid;
};

/* An S3 call: the object key (NULL for the bucket) and the rest. */
struct s3_call {
	const char *method;
	const char *obj;		/* full object key under the bucket, or NULL */
	const char *query;
	const char *const *headers;
	const void *body;
	size_t body_len;
	const char *upload_file;
	const char *download_file;
	size_t max_response;
	long timeout_ms;
};

static struct s3 *priv_of(struct storage *s)
{
	return s->priv;
}

/* 1 when s is an s3:// storage (see s3.h). */
int s3_is(const struct storage *s)
{
	return s && s->ops == &storage_s3_ops;
}

/* A DNS name for virtual-hosted addressing: 3-63 of [a-z0-9-], no dots. */
static int bucket_dns_ok(const char *b)
{
	size_t n = strlen(b), i;

	if (n < 3 || n > 63)
		return 0;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)b[i]) || isdigit((unsigned char)b[i]) || b[i] == '-'))
			return 0;
	return 1;
}

/* Endpoint and addressing for the current region. */
static void set_endpoint(struct s3 *s3)
{
	free(s3->endpoint);
	if (s3->creds.endpoint_url) {
		size_t n = strlen(s3->creds.endpoint_url);

		while (n && s3->creds.endpoint_url[n - 1] == '/')
			n--;
		s3->endpoint = xstrndup(s3->creds.endpoint_url, n);
		s3->path_style = 1;
		s3->fixed_endpoint = 1;
	} else if (bucket_dns_ok(s3->bucket)) {
		s3->endpoint = xasprintf("https://%s.s3.%s.amazonaws.com", s3->bucket, s3->region);
		s3->path_style = 0;
	} else {
		s3->endpoint = xasprintf("https://s3.%s.amazonaws.com", s3->region);
		s3->path_style = 1;
	}
}

/* Credentials, region and endpoint, on first use. */
static int s3_ready(struct storage *s, struct error *err)
{
	struct s3 *s3 = priv_of(s);
	int r;

	if (s3->loaded)
		return 0;
	if ((r = aws_creds_load("s3", &s3->creds, err)) < 0) {
		error_prefix(err, "storage '%s'", s->url);
		return r;
	}
	s3->region = xstrdup(s3->creds.region ? s3->creds.region : "us-east-1");
	set_endpoint(s3);
	s3->loaded = 1;
	return 0;
}

/* The object key of key: ROOT/KEY. Caller frees. */
static char *obj_key(struct storage *s, const char *key)
{
	struct s3 *s3 = priv_of(s);

	return *s3->root ? xasprintf("%s/%s", s3->root, key) : xstrdup(key);
}

/* The request path of an object (or of the bucket, obj NULL). Caller frees. */
static char *req_path(struct s3 *s3, const char *obj)
{
	if (s3->path_style)
		return obj ? xasprintf("/%s/%s", s3->bucket, obj) : xasprintf("/%s", s3->bucket);
	return obj ? xasprintf("/%s", obj) : xstrdup("/");
}

/*
 * Send one call (aws_request_do retries throttling and 5xx). When S3
 * says the bucket lives in another region, switch to it and send again.
 */
static int s3_send(struct storage *s, const struct s3_call *c, struct http_response *ret,
		   struct error *err)
{
	struct s3 *s3 = priv_of(s);
	int tries, r;

	if ((r = s3_ready(s, err)) < 0)
		return r;
	for (tries = 0; tries < 2; tries++) {
		struct aws_request rq = AWS_REQUEST_INIT;
		char *path = req_path(s3, c->obj), *region = NULL;

		rq.service = "s3";
		rq.region = s3->region;
		rq.endpoint = s3->endpoint;
		rq.method = c->method;
		rq.path = path;
		rq.query = c->query;
		rq.headers = c->headers;
		rq.body = c->body;
		rq.body_len = c->body_len;
		rq.upload_file = c->upload_file;
		rq.download_file = c->download_file;
		rq.max_response = c->max_response;
		rq.timeout_ms = c->timeout_ms;
		rq.s3 = 1;
		r = aws_request_do(&s3->creds, &rq, ret, err);
		free(path);
		if (r < 0) {
			error_prefix(err, "storage '%s'", s->url);
			return r;
		}
		if ((ret->status == 301 || ret->status == 400 || ret->status == 307) &&
		    !s3->fixed_endpoint && (region = http_header(ret, "x-amz-bucket-region")) &&
		    strcmp(region, s3->region)) {
			free(s3->region);
			s3->region = region;
			set_endpoint(s3);
			http_response_release(ret);
			continue;
		}
		free(region);
		return 0;
	}
	return 0;
}

/* The error of an unexpected answer, naming the object and S3's code. */
static int s3_fail(struct storage *s, const char *what, const char *key,
		   const struct http_response *rs, struct error *err)
{
	char code[128], msg[256];
	int r = FRUGAL_EPROVIDER;

	aws_xml_error(rs, code, sizeof(code), msg, sizeof(msg));
	if (rs->status == 404)
		r = FRUGAL_ENOTFOUND;
	else if (rs->status == 412)
		r = FRUGAL_EEXIST;
	return error_set(err, r, "storage '%s': %s '%s': HTTP %ld%s%s%s%s", s->url, what,
			 key ? key : "", rs->status, code[0] ? " " : "", code, msg[0] ? ": " : "",
			 msg);
}

/* ---- open, close -------------------------------------------------------------- */

/* rest is "BUCKET[/PREFIX]". Credentials are looked for on first use. */
static int s3_open(struct storage *s, const char *rest, struct error *err)
{
	struct s3 *s3;
	const char *slash = strchr(rest, '/');
	size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *prefix = slash ? slash + 1 : "";
	size_t plen = strlen(prefix), i;

	if (blen < 3 || blen > 63)
		return error_set(err, FRUGAL_EINVAL, "storage URL '%s': a bucket name has 3 to 63 "
				 "characters: use s3://bucket/prefix", s->url);
	for (i = 0; i < blen; i++)
		if (!(islower((unsigned char)rest[i]) || isdigit((unsigned char)rest[i]) ||
		      rest[i] == '-' || rest[i] == '.'))
			return error_set(err, FRUGAL_EINVAL, "storage URL '%s': bucket names have"
					 " lower-case letters, digits, '-' and '.' only", s->url);
	while (plen && prefix[plen - 1] == '/')
		plen--;
	if (plen && (prefix[0] == '/' || strstr(prefix, "//")))
		return error_set(err, FRUGAL_EINVAL, "storage URL '%s': the prefix has an empty "
				 "path segment", s->url);
	s3 = xcalloc(1, sizeof(*s3));
	s3->bucket = xstrndup(rest, blen);
	s3->root = xstrndup(prefix, plen);
	strbuf_init(&s3->append_buf, 0);
	s->priv = s3;
	return 0;
}

/* Free the driver state, credentials wiped. */
static void s3_close(struct storage *s)
{
	struct s3 *s3 = priv_of(s);

	if (!s3)
		return;
	aws_creds_release(&s3->creds);
	free(s3->bucket);
	free(s3->root);
	free(s3->region);
	free(s3->endpoint);
	free(s3->append_key);
	strbuf_release(&s3->append_buf);
	free(s3);
	s->priv = NULL;
}

/* ---- stat, get ------------------------------------------------------------------ */

/* Unix ms of an HTTP date ("Wed, 12 Oct 2009 17:50:00 GMT"); 0 if not one. */
static int64_t http_date_ms(const char *v)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	if (!v || !(end = strptime(v, "%a, %d %b %Y %H:%M:%S", &tm)))
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

/* stat: HEAD; size and Last-Modified. */
static int s3_stat(struct storage *s, const char *key, int64_t *ret_size, int64_t *ret_mtime_ms,
		   struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	char *obj = obj_key(s, key), *v;
	int r;

	c.method = "HEAD";
	c.obj = obj;
	if ((r = s3_send(s, &c, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		r = rs.status == 404 ? error_set(err, FRUGAL_ENOTFOUND, "no object '%s' in '%s'",
						 key, s->url)
				     : s3_fail(s, "HEAD", key, &rs, err);
		goto out;
	}
	if (ret_size) {
		v = http_header(&rs, "Content-Length");
		*ret_size = v ? strtoll(v, NULL, 10) : 0;
		free(v);
	}
	if (ret_mtime_ms) {
		v = http_header(&rs, "Last-Modified");
		*ret_mtime_ms = http_date_ms(v);
		free(v);
	}
out:
	http_response_release(&rs);
	free(obj);
	return r;
}

/* get: GET into memory, FRUGAL_ETOOBIG past max. */
static int s3_get(struct storage *s, const char *key, size_t max, struct strbuf *out,
		  struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	char *obj = obj_key(s, key);
	int r;

	c.method = "GET";
	c.obj = obj;
	c.max_response = max ? max : (size_t)GET_DEFAULT_MAX;
	c.timeout_ms = LONG_TIMEOUT_MS;
	r = s3_send(s, &c, &rs, err);
	if (r == FRUGAL_ETOOBIG) {
		r = error_set(err, FRUGAL_ETOOBIG, "object '%s' in '%s' is larger than %zu bytes",
			      key, s->url, max);
		goto out;
	}
	if (r < 0)
		goto out;
	if (rs.status != 200) {
		r = rs.status == 404 ? error_set(err, FRUGAL_ENOTFOUND, "no object '%s' in '%s'",
						 key, s->url)
				     : s3_fail(s, "GET", key, &rs, err);
		goto out;
	}
	strbuf_add(out, rs.body.buf, rs.body.len);
out:
	http_response_release(&rs);
	free(obj);
	return r;
}

/* Download into a temporary file beside local_path, then rename it. */
static int s3_get_file(struct storage *s, const char *key, const char *local_path,
		       struct error *err)
{
	static unsigned counter;
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	char *obj = obj_key(s, key);
	char *tmp = xasprintf("%s.tmp-%d-%u", local_path, (int)getpid(), ++counter);
	char *dir = xstrdup(local_path), *slash = strrchr(dir, '/');
	int r = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		if (!fs_is_dir(dir) && (r = fs_mkdir_p(dir, 0700, err)) < 0)
			goto out;
	}
	c.method = "GET";
	c.obj = obj;
	c.download_file = tmp;
	c.timeout_ms = LONG_TIMEOUT_MS;
	if ((r = s3_send(s, &c, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		r = rs.status == 404 ? error_set(err, FRUGAL_ENOTFOUND, "no object '%s' in '%s'",
						 key, s->url)
				     : s3_fail(s, "GET", key, &rs, err);
		goto out;
	}
	if (rename(tmp, local_path) < 0) {
		r = error_errno(err, "cannot write '%s'", local_path);
		goto out;
	}
out:
	if (r < 0)
		unlink(tmp);
	http_response_release(&rs);
	free(obj);
	free(tmp);
	free(dir);
	return r;
}

/* ---- put ------------------------------------------------------------------------- */

/* FRUGAL_EEXIST when key exists (the HEAD of a no-overwrite put). */
static int refuse_existing(struct storage *s, const char *key, struct error *err)
{
	struct error e = ERROR_INIT;
	int r = s3_stat(s, key, NULL, NULL, &e);

	if (r == 0)
		return error_set(err, FRUGAL_EEXIST, "object '%s' exists in '%s'", key, s->url);
	if (r == FRUGAL_ENOTFOUND)
		return 0;
	return error_set(err, r, "%s", e.msg);
}

/* One PUT of a body or a file; flags as storage_ops.put. */
static int put_one(struct storage *s, const char *key, const void *data, size_t len,
		   const char *file, unsigned flags, struct error *err)
{
	/* A type of our own: with none, curl says form data, which some
	 * servers (moto's Flask) read as a form and lose. */
	static const char *const plain[] = { "Content-Type: application/octet-stream", NULL };
	static const char *const cond[] = { "Content-Type: application/octet-stream",
					    "If-None-Match: *", NULL };
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	char *obj = obj_key(s, key);
	int r;

	c.headers = plain;
	c.method = "PUT";
	c.obj = obj;
	c.body = data;
	c.body_len = len;
	c.upload_file = file;
	c.timeout_ms = LONG_TIMEOUT_MS;
	if (flags & STORAGE_NO_OVERWRITE)
		c.headers = cond;
	if ((r = s3_send(s, &c, &rs, err)) < 0)
		goto out;
	if (rs.status == 412 || ((flags & STORAGE_NO_OVERWRITE) && rs.status == 409)) {
		/* 409: a conditional write of the same key is in flight; it wins. */
		r = error_set(err, FRUGAL_EEXIST, "object '%s' exists in '%s'", key, s->url);
		goto out;
	}
	if (rs.status != 200)
		r = s3_fail(s, "PUT", key, &rs, err);
out:
	http_response_release(&rs);
	free(obj);
	return r;
}

/* put: one PUT (no-overwrite: HEAD, then a conditional PUT). */
static int s3_put(struct storage *s, const char *key, const void *data, size_t len,
		  unsigned flags, struct error *err)
{
	struct s3 *s3 = priv_of(s);
	int r;

	if ((flags & STORAGE_NO_OVERWRITE) && (r = refuse_existing(s, key, err)) < 0)
		return r;
	if (s3->append_key && !strcmp(s3->append_key, key))
		s3->append_valid = 0;	/* the append copy is stale now */
	return put_one(s, key, data, len, NULL, flags, err);
}

/* ---- multipart upload ------------------------------------------------------------- */

struct mp {
	struct storage *s;
	const char *obj;
	const char *upload_id;
	const char *path;	/* the local file */
	int64_t size, part_size;
	int n_parts;
	char **etags;		/* per part */
	pthread_mutex_t lock;
	int next;		/* next part to send, 1-based */
	int failed;
	struct error err;
};

/* Send part n (1-based) of the file; its ETag in mp->etags. */
static int send_part(struct mp *mp, struct aws_creds *creds, int n, char *buf,
		     struct error *err)
{
	static const char *const octet[] = { "Content-Type: application/octet-stream", NULL };
	struct s3 *s3 = priv_of(mp->s);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct aws_request rq = AWS_REQUEST_INIT;
	int64_t off = (int64_t)(n - 1) * mp->part_size;
	size_t len = (size_t)(mp->size - off < mp->part_size ? mp->size - off : mp->part_size);
	char *path = req_path(s3, mp->obj);
	char *id = sigv4_uri_encode(mp->upload_id, strlen(mp->upload_id), 0);
	char *query = xasprintf("partNumber=%d&uploadId=%s", n, id);
	size_t got = 0;
	int fd = open(mp->path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0) {
		r = error_errno(err, "cannot read '%s'", mp->path);
		goto out;
	}
	while (got < len) {
		ssize_t k = pread(fd, buf + got, len - got, (off_t)(off + (int64_t)got));
		if (k <= 0) {
			if (k < 0 && errno == EINTR)
				continue;
			r = k < 0 ? error_errno(err, "cannot read '%s'", mp->path)
				  : error_set(err, FRUGAL_EIO, "'%s' shrank while it was stored",
					      mp->path);
			goto out;
		}
		got += (size_t)k;
	}
	rq.service = "s3";
	rq.region = s3->region;
	rq.endpoint = s3->endpoint;
	rq.method = "PUT";
	rq.path = path;
	rq.query = query;
	rq.body = buf;
	rq.body_len = len;
	rq.headers = octet;
	rq.s3 = 1;
	rq.timeout_ms = LONG_TIMEOUT_MS;
	if ((r = aws_request_do(creds, &rq, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		r = s3_fail(mp->s, "upload part of", mp->obj, &rs, err);
		goto out;
	}
	mp->etags[n - 1] = http_header(&rs, "ETag");
	if (!mp->etags[n - 1])
		r = error_set(err, FRUGAL_EPROVIDER, "storage '%s': part %d of '%s' came back "
			      "without an ETag", mp->s->url, n, mp->obj);
out:
	if (fd >= 0)
		close(fd);
	http_response_release(&rs);
	free(path);
	free(id);
	free(query);
	return r;
}

/* A sender thread: take the next part until none is left or one failed. */
static void *part_worker(void *arg)
{
	struct mp *mp = arg;
	struct aws_creds creds = AWS_CREDS_INIT;
	char *buf = xmalloc((size_t)mp->part_size);

	pthread_mutex_lock(&mp->lock);
	aws_creds_copy(&priv_of(mp->s)->creds, &creds);
	pthread_mutex_unlock(&mp->lock);
	for (;;) {
		struct error e = ERROR_INIT;
		int n;

		pthread_mutex_lock(&mp->lock);
		n = mp->failed || mp->next > mp->n_parts ? 0 : mp->next++;
		pthread_mutex_unlock(&mp->lock);
		if (!n)
			break;
		if (send_part(mp, &creds, n, buf, &e) < 0) {
			pthread_mutex_lock(&mp->lock);
			if (!mp->failed)
				mp->err = e;
			mp->failed = 1;
			pthread_mutex_unlock(&mp->lock);
			break;
		}
	}
	aws_creds_release(&creds);
	free(buf);
	return NULL;
}

/* Abort an upload: its parts are no longer stored (nor billed). */
static void mp_abort(struct storage *s, const char *obj, const char *upload_id)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	char *id = sigv4_uri_encode(upload_id, strlen(upload_id), 0);
	char *query = xasprintf("uploadId=%s", id);

	c.method = "DELETE";
	c.obj = obj;
	c.query = query;
	s3_send(s, &c, &rs, NULL);
	http_response_release(&rs);
	free(id);
	free(query);
}

/* Store a large file as a multipart upload (see s3.h). */
static int put_multipart(struct storage *s, const char *key, const char *local_path,
			 int64_t size, unsigned flags, struct error *err)
{
	static const char *const xml_type[] = { "Content-Type: application/xml", NULL };
	static const char *const cond[] = { "Content-Type: application/xml", "If-None-Match: *",
					    NULL };
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	struct strbuf xml = STRBUF_INIT;
	struct mp mp;
	pthread_t threads[S3_PARALLEL];
	char *obj = obj_key(s, key), *upload_id = NULL, *id = NULL, *query = NULL;
	int n_threads = 0, i, r;

	memset(&mp, 0, sizeof(mp));
	c.method = "POST";
	c.obj = obj;
	c.query = "uploads";
	if ((r = s3_send(s, &c, &rs, err)) < 0)
		goto out;
	if (rs.status != 200 || !(upload_id = aws_xml_value(&rs, "UploadId"))) {
		r = s3_fail(s, "start a multipart upload of", key, &rs, err);
		goto out;
	}
	http_response_release(&rs);
	mp.s = s;
	mp.obj = obj;
	mp.upload_id = upload_id;
	mp.path = local_path;
	mp.size = size;
	mp.part_size = S3_PART_SIZE;
	while ((size + mp.part_size - 1) / mp.part_size > MAX_PARTS)
		mp.part_size *= 2;
	mp.n_parts = (int)((size + mp.part_size - 1) / mp.part_size);
	mp.etags = xcalloc((size_t)mp.n_parts, sizeof(char *));
	mp.next = 1;
	pthread_mutex_init(&mp.lock, NULL);
	for (i = 0; i < S3_PARALLEL && i < mp.n_parts; i++)
		if (pthread_create(&threads[n_threads], NULL, part_worker, &mp) == 0)
			n_threads++;
	if (!n_threads)
		part_worker(&mp);
	for (i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&mp.lock);
	if (mp.failed) {
		r = error_set(err, mp.err.code ? mp.err.code : FRUGAL_EPROVIDER, "%s", mp.err.msg);
		goto out;
	}
	strbuf_adds(&xml, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (i = 0; i < mp.n_parts; i++)
		strbuf_addf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1,
			    mp.etags[i]);
	strbuf_adds(&xml, "</CompleteMultipartUpload>");
	id = sigv4_uri_encode(upload_id, strlen(upload_id), 0);
	query = xasprintf("uploadId=%s", id);
	c.query = query;
	c.body = xml.buf;
	c.body_len = xml.len;
	c.headers = flags & STORAGE_NO_OVERWRITE ? cond : xml_type;
	c.timeout_ms = LONG_TIMEOUT_MS;
	if ((r = s3_send(s, &c, &rs, err)) < 0)
		goto out;
	if (rs.status == 412) {
		r = error_set(err, FRUGAL_EEXIST, "object '%s' exists in '%s'", key, s->url);
		goto out;
	}
	/* S3 may answer 200 with an <Error> document for a completion. */
	if (rs.status != 200 || strstr(rs.body.buf, "<Error>")) {
		r = s3_fail(s, "complete the multipart upload of", key, &rs, err);
		goto out;
	}
out:
	if (r < 0 && upload_id)
		mp_abort(s, obj, upload_id);
	for (i = 0; mp.etags && i < mp.n_parts; i++)
		free(mp.etags[i]);
	free(mp.etags);
	http_response_release(&rs);
	strbuf_release(&xml);
	free(obj);
	free(upload_id);
	free(id);
	free(query);
	return r;
}

/* put_file: one PUT of the file, or a multipart upload when it is large. */
static int s3_put_file(struct storage *s, const char *key, const char *local_path,
		       unsigned flags, struct error *err)
{
	struct s3 *s3 = priv_of(s);
	struct stat st;
	int r;

	if (stat(local_path, &st) < 0)
		return errno == ENOENT ? error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist",
						   local_path)
				       : error_errno(err, "cannot read '%s'", local_path);
	if (!S_ISREG(st.st_mode))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a regular file", local_path);
	if ((flags & STORAGE_NO_OVERWRITE) && (r = refuse_existing(s, key, err)) < 0)
		return r;
	if (s3->append_key && !strcmp(s3->append_key, key))
		s3->append_valid = 0;
	if ((int64_t)st.st_size >= S3_MULTIPART_THRESHOLD)
		return put_multipart(s, key, local_path, (int64_t)st.st_size, flags, err);
	return put_one(s, key, NULL, 0, local_path, flags, err);
}

/* ---- append, read_at ----------------------------------------------------------- */

static int s3_append(struct storage *s, const char *key, const void *data, size_t len,
		     struct error *err)
{
	struct s3 *s3 = priv_of(s);
	size_t before;
	int r;

	if (!s3->append_key || strcmp(s3->append_key, key) || !s3->append_valid) {
		free(s3->append_key);
		s3->append_key = xstrdup(key);
		strbuf_reset(&s3->append_buf);
		s3->append_valid = 0;
		r = s3_get(s, key, 0, &s3->append_buf, err);
		if (r < 0 && r != FRUGAL_ENOTFOUND)
			return r;
		s3->append_valid = 1;
	}
	before = s3->append_buf.len;
	strbuf_add(&s3->append_buf, data, len);
	r = put_one(s, key, s3->append_buf.buf, s3->append_buf.len, NULL, 0, err);
	if (r < 0) {
		s3->append_buf.len = before;
		s3->append_buf.buf[before] = '\0';
	}
	return r;
}

/* read_at: a ranged GET. */
static int s3_read_at(struct storage *s, const char *key, int64_t offset, size_t max,
		      struct strbuf *out, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	char *obj = obj_key(s, key), *range;
	const char *headers[2];
	int r;

	range = max ? xasprintf("Range: bytes=%lld-%lld", (long long)offset,
				(long long)offset + (long long)max - 1)
		    : xasprintf("Range: bytes=%lld-", (long long)offset);
	headers[0] = range;
	headers[1] = NULL;
	c.method = "GET";
	c.obj = obj;
	c.headers = headers;
	c.timeout_ms = LONG_TIMEOUT_MS;
	if ((r = s3_send(s, &c, &rs, err)) < 0)
		goto out;
	if (rs.status == 416)
		goto out;	/* at or past the end: nothing more yet */
	if (rs.status == 206) {
		strbuf_add(out, rs.body.buf, max && rs.body.len > max ? max : rs.body.len);
	} else if (rs.status == 200) {
		/* A peer that ignores Range sends it all. */
		if ((size_t)offset < rs.body.len) {
			size_t n = rs.body.len - (size_t)offset;
			strbuf_add(out, rs.body.buf + offset, max && n > max ? max : n);
		}
	} else {
		r = rs.status == 404 ? error_set(err, FRUGAL_ENOTFOUND, "no object '%s' in '%s'",
						 key, s->url)
				     : s3_fail(s, "GET", key, &rs, err);
	}
out:
	http_response_release(&rs);
	free(obj);
	free(range);
	return r;
}

/* ---- list, del ------------------------------------------------------------------- */

/* The text of child element name of n, or NULL (libxml2 memory). */
static xmlChar *child_text(xmlNode *n, const char *name)
{
	for (n = n->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name))
			return xmlNodeGetContent(n);
	return NULL;
}

/* Listing order: by key. */
static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct storage_entry *)a)->key,
		      ((const struct storage_entry *)b)->key);
}

/* Add one page of ListObjectsV2 to out; *ret_next gets the continuation
 * token when the listing goes on (caller frees). */
static int list_page(struct storage *s, const struct http_response *rs, size_t root_len,
		     struct storage_list *out, char **ret_next, struct error *err)
{
	xmlDoc *doc;
	xmlNode *root, *n;
	int truncated = 0;

	xmlInitParser();
	doc = xmlReadMemory(rs->body.buf, (int)rs->body.len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc || !(root = xmlDocGetRootElement(doc)) ||
	    strcmp((const char *)root->name, "ListBucketResult")) {
		xmlFreeDoc(doc);
		return error_set(err, FRUGAL_EPROVIDER, "storage '%s': the object listing does "
				 "not parse", s->url);
	}
	for (n = root->children; n; n = n->next) {
		xmlChar *k, *size, *mtime;
		const char *rel;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!strcmp((const char *)n->name, "IsTruncated")) {
			xmlChar *t = xmlNodeGetContent(n);
			truncated = t && !strcmp((const char *)t, "true");
			xmlFree(t);
		} else if (!strcmp((const char *)n->name, "NextContinuationToken")) {
			xmlChar *t = xmlNodeGetContent(n);
			free(*ret_next);
			*ret_next = xstrdup((const char *)t);
			xmlFree(t);
		}
		if (strcmp((const char *)n->name, "Contents") || !(k = child_text(n, "Key")))
			continue;
		rel = (const char *)k + root_len;
		if (strlen((const char *)k) > root_len && storage_key_valid(rel)) {
			struct storage_entry *e;
			int64_t ms = 0;

			XGROW(out->items, out->n + 1, out->alloc);
			e = &out->items[out->n++];
			size = child_text(n, "Size");
			mtime = child_text(n, "LastModified");
			e->key = xstrdup(rel);
			e->size = size ? strtoll((const char *)size, NULL, 10) : 0;
			aws_parse_time((const char *)mtime, &ms);
			e->mtime_ms = ms;
			xmlFree(size);
			xmlFree(mtime);
		}
		xmlFree(k);
	}
	xmlFreeDoc(doc);
	if (!truncated) {
		free(*ret_next);
		*ret_next = NULL;
	} else if (!*ret_next) {
		return error_set(err, FRUGAL_EPROVIDER, "storage '%s': a truncated listing without"
				 " a continuation token", s->url);
	}
	return 0;
}

/* list: ListObjectsV2, every page, keys relative to the root, sorted. */
static int s3_list(struct storage *s, const char *prefix, struct storage_list *out,
		   struct error *err)
{
	struct s3 *s3 = priv_of(s);
	char *full = *s3->root ? xasprintf("%s/%s", s3->root, prefix) : xstrdup(prefix);
	char *enc = sigv4_uri_encode(full, strlen(full), 0), *next = NULL;
	size_t root_len = *s3->root ? strlen(s3->root) + 1 : 0, first = out->n;
	int r = 0;

	do {
		struct http_response rs = HTTP_RESPONSE_INIT;
		struct s3_call c = { 0 };
		char *tok = next ? sigv4_uri_encode(next, strlen(next), 0) : NULL;
		char *query = tok ? xasprintf("continuation-token=%s&list-type=2&prefix=%s", tok, enc)
				  : xasprintf("list-type=2&prefix=%s", enc);

		c.method = "GET";
		c.query = query;
		c.max_response = LIST_MAX_RESPONSE;
		r = s3_send(s, &c, &rs, err);
		if (r == 0 && rs.status != 200)
			r = s3_fail(s, "list", full, &rs, err);
		if (r == 0)
			r = list_page(s, &rs, root_len, out, &next, err);
		http_response_release(&rs);
		free(tok);
		free(query);
	} while (r == 0 && next);
	if (r == 0 && out->n - first > 1)
		qsort(out->items + first, out->n - first, sizeof(out->items[0]), entry_cmp);
	free(next);
	free(full);
	free(enc);
	return r;
}

/* del: DELETE; a missing key is fine. */
static int s3_del(struct storage *s, const char *key, struct error *err)
{
	struct s3 *s3 = priv_of(s);
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct s3_call c = { 0 };
	char *obj = obj_key(s, key);
	int r;

	c.method = "DELETE";
	c.obj = obj;
	if ((r = s3_send(s, &c, &rs, err)) == 0 && rs.status != 204 && rs.status != 200 &&
	    rs.status != 404)
		r = s3_fail(s, "DELETE", key, &rs, err);
	if (s3->append_key && !strcmp(s3->append_key, key))
		s3->append_valid = 0;
	http_response_release(&rs);
	free(obj);
	return r;
}

/* ---- presigned URLs -------------------------------------------------------------- */

/* A presigned URL of key for method (GET, PUT). */
static int presign(struct storage *s, const char *method, const char *key, int64_t expires,
		   char **ret, struct error *err)
{
	struct s3 *s3 = priv_of(s);
	struct sigv4_result res = SIGV4_RESULT_INIT;
	struct sigv4_params sp = SIGV4_PARAMS_INIT;
	char *obj = NULL, *path = NULL, *host = NULL, *enc = NULL;
	int r;

	if (!s3_is(s))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not an s3:// storage", s->url);
	if ((r = s3_ready(s, err)) < 0 || (r = aws_creds_refresh("s3", &s3->creds, err)) < 0)
		return r;
	obj = obj_key(s, key);
	path = req_path(s3, obj);
	host = aws_endpoint_host(s3->endpoint);
	{
		struct sigv4_credentials cr = { s3->creds.access_key_id,
						s3->creds.secret_access_key,
						s3->creds.session_token };
		struct sigv4_header h[] = { { "Host", host } };
		struct sigv4_request rq = { method, path, NULL, h, 1, SIGV4_UNSIGNED_PAYLOAD };

		sp.region = s3->region;
		sp.service = "s3";
		sp.normalize_path = 0;
		sp.presign = 1;
		sp.expires = expires < 1 ? 1 : expires > 604800 ? 604800 : expires;
		sigv4_amz_date(time_now_ms() / 1000, sp.amz_date);
		if ((r = sigv4_sign(&cr, &sp, &rq, &res, err)) < 0)
			goto out;
	}
	enc = sigv4_uri_encode(path, strlen(path), 1);
	*ret = xasprintf("%s%s?%s", s3->endpoint, enc, res.query);
out:
	sigv4_result_release(&res);
	free(obj);
	free(path);
	free(host);
	free(enc);
	return r;
}

int s3_presign_get(struct storage *s, const char *key, int64_t expires, char **ret,
		   struct error *err)
{
	return presign(s, "GET", key, expires, ret, err);
}

int s3_presign_put(struct storage *s, const char *key, int64_t expires, char **ret,
		   struct error *err)
{
	return presign(s, "PUT", key, expires, ret, err);
}

/* file_mounts MOUNT: mountpoint-s3 (mount-s3) or rclone, whichever the machine has. */
static int s3_mount(const char *url, const char *dir, struct error *err)
{
	char *bucket, *prefix;
	int r;

	fusemount_split(url, &bucket, &prefix);
	if (fusemount_have("mount-s3")) {
		char *pfx = prefix ? xasprintf("--prefix=%s/", prefix) : NULL;
		const char *argv[] = { "mount-s3", bucket, dir, pfx, NULL };

		r = fusemount_run(argv, err);
		free(pfx);
	} else if (fusemount_have("rclone")) {
		r = fusemount_rclone("s3", bucket, prefix, dir, err);
	} else {
		r = error_set(err, FRUGAL_ENOTSUP, "MOUNT of %s needs mountpoint-s3 (mount-s3) or rclone on the machine, and "
			      "neither is on PATH: install one in the machine's image "
			      "(resources.image_id), or use mode: COPY or MOUNT_CACHED", url);
	}
	free(bucket);
	free(prefix);
	return r;
}

const struct storage_ops storage_s3_ops = {
	.store_name = "s3",
	.mount = s3_mount,
	.scheme = "s3",
	.open = s3_open,
	.close = s3_close,
	.put = s3_put,
	.put_file = s3_put_file,
	.get = s3_get,
	.get_file = s3_get_file,
	.append = s3_append,
	.read_at = s3_read_at,
	.list = s3_list,
	.del = s3_del,
	.stat = s3_stat,
	.local_path = NULL,
};
