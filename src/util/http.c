#include "util/http.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX (64u << 20)

struct sink {
	struct strbuf *sb;
	FILE *file;
	int too_big;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (s->file)
		return fwrite(data, 1, len, s->file);
	if (strbuf_add(s->sb, data, len) < 0) {
		s->too_big = 1;
		return 0;
	}
	return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct strbuf *sb = arg;

	strbuf_add(sb, data, size * n);
	return size * n;
}

/* The URL without its query string, for messages. Caller frees. */
static char *url_for_humans(const char *url)
{
	const char *q = strchr(url, '?');

	return q ? xstrndup(url, (size_t)(q - url)) : xstrdup(url);
}

const char *const http_ca_default_paths[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
	"/etc/ssl/ca-bundle.pem",
	"/etc/ssl/cert.pem",
	NULL
};

static int readable_file(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, R_OK);
}

int http_ca_bundle_find(const char *const *paths, char **ret_path, struct error *err)
{
	static const char *const envs[] = { "SSL_CERT_FILE", "CURL_CA_BUNDLE" };
	struct strbuf looked = STRBUF_INIT;
	size_t i;
	int r;

	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		const char *v = getenv(envs[i]);
		if (v && v[0]) {
			if (!readable_file(v))
				return error_set(err, FRUGAL_ENOTFOUND,
						 "CA bundle '%s' (from $%s) is not a readable file", v, envs[i]);
			*ret_path = xstrdup(v);
			return 0;
		}
	}
	if (!paths)
		paths = http_ca_default_paths;
	for (i = 0; paths[i]; i++) {
		if (readable_file(paths[i])) {
			strbuf_release(&looked);
			*ret_path = xstrdup(paths[i]);
			return 0;
		}
		strbuf_addf(&looked, ", %s", paths[i]);
	}
	r = error_set(err, FRUGAL_ENOTFOUND,
		      "no CA certificate bundle to verify https servers with; looked at $SSL_CERT_FILE, "
		      "$CURL_CA_BUNDLE%s; install the ca-certificates package or set SSL_CERT_FILE",
		      looked.buf);
	strbuf_release(&looked);
	return r;
}

/* The CA bundle, found once (by http_global_init before threads start). */
static char *ca_found;

int http_ca_setopt(void *curl, const char *url, struct error *err)
{
	struct error none = ERROR_INIT;
	int r;

	if (!ca_found && (r = http_ca_bundle_find(NULL, &ca_found, strncasecmp(url, "https:", 6) ?
						   &none : err)) < 0)
		return strncasecmp(url, "https:", 6) ? 0 : r;
	curl_easy_setopt(curl, CURLOPT_CAINFO, ca_found);
	return 0;
}

void http_global_init(void)
{
	static int done;

	if (!done) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if (!ca_found)
			http_ca_bundle_find(NULL, &ca_found, NULL);
		done = 1;
	}
}

int http_do(const struct http_request *req, struct http_response *ret, struct error *err)
{
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct curl_slist *hdrs = NULL;
	struct sink sink = { NULL, NULL, 0 };
	FILE *up = NULL;
	CURL *c;
	CURLcode rc;
	char errbuf[CURL_ERROR_SIZE] = "";
	char *where = url_for_humans(req->url);
	size_t i;
	int r = 0;

	http_global_init();
	strbuf_init(&rs.body, req->max_response ? req->max_response : DEFAULT_MAX);
	strbuf_init(&rs.headers, 1 << 20);
	sink.sb = &rs.body;
	c = curl_easy_init();
	if (!c) {
		r = error_set(err, FRUGAL_ENET, "cannot start an HTTP request");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &rs.headers);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "frugal/" FRUGAL_VERSION);
	if (req->ca_file) {
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	} else if (!req->insecure && (r = http_ca_setopt(c, req->url, err)) < 0) {
		goto out;
	}
	if (req->client_cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, req->client_cert);
	if (req->client_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, req->client_key);
	if (req->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	for (i = 0; req->headers && req->headers[i]; i++)
		hdrs = curl_slist_append(hdrs, req->headers[i]);
	/* No "Expect: 100-continue" round trip on uploads. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (req->userpwd)
		curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd);
	if (req->upload_file) {
		long size;
		up = fopen(req->upload_file, "rbe");
		if (!up) {
			r = error_errno(err, "cannot read '%s'", req->upload_file);
			goto out;
		}
		fseek(up, 0, SEEK_END);
		size = ftell(up);
		rewind(up);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, up);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	} else if (req->body || (req->method && (!strcmp(req->method, "POST") ||
						  !strcmp(req->method, "PUT") ||
						  !strcmp(req->method, "PATCH")))) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (req->method && !strcmp(req->method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (req->method && strcmp(req->method, "GET") && strcmp(req->method, "POST"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->download_file) {
		sink.file = fopen(req->download_file, "wbe");
		if (!sink.file) {
			r = error_errno(err, "cannot write '%s'", req->download_file);
			goto out;
		}
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rs.status);
	if (sink.too_big) {
		r = error_set(err, FRUGAL_ETOOBIG, "%s %s: the response is larger than %zu bytes",
			      req->method ? req->method : "GET", where, rs.body.max);
		goto out;
	}
	if (rc != CURLE_OK) {
		r = error_set(err, FRUGAL_ENET, "%s %s: %s", req->method ? req->method : "GET", where,
			      errbuf[0] ? errbuf : curl_easy_strerror(rc));
		goto out;
	}
out:
	if (sink.file && fclose(sink.file) != 0 && r == 0)
		r = error_errno(err, "cannot write '%s'", req->download_file);
	if (up)
		fclose(up);
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	free(where);
	if (r < 0) {
		http_response_release(&rs);
		return r;
	}
	*ret = rs;
	return 0;
}

void http_response_release(struct http_response *r)
{
	strbuf_release(&r->body);
	strbuf_release(&r->headers);
	r->status = 0;
}

char *http_header(const struct http_response *r, const char *name)
{
	size_t nl = strlen(name);
	const char *p = r->headers.buf;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1;
			const char *end = p + len;
			while (v < end && (*v == ' ' || *v == '\t'))
				v++;
			while (end > v && (end[-1] == '\r' || end[-1] == ' '))
				end--;
			return xstrndup(v, (size_t)(end - v));
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

char *http_urlencode(const char *s, int keep_slash)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~' ||
		    (keep_slash && ch == '/'))
			strbuf_addch(&sb, (char)ch);
		else
			strbuf_addf(&sb, "%%%02X", ch);
	}
	return strbuf_detach(&sb, NULL);
}
