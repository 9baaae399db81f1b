/*
 * http: one HTTP request with libcurl, for the provider and storage
 * drivers. Blocking, with a timeout and a cap on the response size (the
 * body is untrusted input). Errors name the method and the URL without
 * its query string (which may carry signatures or keys), never a header
 * or a body, so nothing secret reaches a log.
 *
 *   struct http_request rq = HTTP_REQUEST_INIT;
 *   struct http_response rs = HTTP_RESPONSE_INIT;
 *   rq.method = "GET"; rq.url = "https://…";
 *   if (http_do(&rq, &rs, &err) == 0 && rs.status == 200) use(rs.body.buf);
 *   http_response_release(&rs);
 *
 * The controller calls providers from its event loop, so every request
 * has a short default timeout (30 s); moving to curl's multi interface is
 * the way to have many in flight (see docs/ARCHITECTURE.md).
 */
#ifndef FRUGAL_UTIL_HTTP_H
#define FRUGAL_UTIL_HTTP_H

#include <stddef.h>

#include "base/error.h"
#include "base/strbuf.h"

struct http_request {
	const char *method;		/* "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH" */
	const char *url;
	const char *const *headers;	/* NULL-terminated "Name: value" lines, or NULL */
	const void *body;		/* may be NULL */
	size_t body_len;
	long timeout_ms;		/* 0: 30 s */
	size_t max_response;		/* 0: 64 MiB */
	const char *userpwd;		/* "user:password", or NULL */
	const char *ca_file;		/* PEM bundle to trust, or NULL for the system's */
	const char *client_cert;	/* PEM client certificate, or NULL */
	const char *client_key;		/* PEM key of the client certificate, or NULL */
	int insecure;			/* skip TLS verification (never by default) */
	const char *upload_file;	/* stream this file as the body (PUT), or NULL */
	const char *download_file;	/* write a 2xx body here instead of into body */
};
#define HTTP_REQUEST_INIT { 0 }

struct http_response {
	long status;			/* HTTP status; 0 when no response came */
	struct strbuf body;
	struct strbuf headers;		/* raw response header lines */
};
#define HTTP_RESPONSE_INIT { 0, STRBUF_INIT, STRBUF_INIT }

/* libcurl's global set-up; http_do does it on first use, but a program
 * that makes requests from several threads calls this first, alone. */
void http_global_init(void);

/* Perform req. 0 when a response came (any status); FRUGAL_ENET when none
 * did; FRUGAL_ETOOBIG when the body passed max_response. */
int http_do(const struct http_request *req, struct http_response *ret, struct error *err);
void http_response_release(struct http_response *r);

/* The value of response header name (case-insensitive), or NULL. Caller frees. */
char *http_header(const struct http_response *r, const char *name);

/* Where the machine's CA bundle is looked for, in order, after
 * $SSL_CERT_FILE and $CURL_CA_BUNDLE: Debian/Ubuntu, RHEL/Amazon Linux,
 * Fedora/RHEL's extracted trust, openSUSE, Alpine. NULL-terminated. */
extern const char *const http_ca_default_paths[];

/* The CA bundle an https request without ca_file verifies the server
 * with: $SSL_CERT_FILE, else $CURL_CA_BUNDLE (a file named there must be
 * readable: no silent fallback), else the first readable file of paths
 * (http_ca_default_paths when NULL). The release binaries have no bundle
 * compiled in, so this is how they trust anything. FRUGAL_ENOTFOUND, with
 * every place looked in the message, when there is none. Caller frees. */
int http_ca_bundle_find(const char *const *paths, char **ret_path, struct error *err);

/* For code that drives libcurl itself (a CURL * as curl): trust the
 * bundle http_ca_bundle_find gives, found once per process. Having none
 * is an error only for an https url; a plain one may go on without. */
int http_ca_setopt(void *curl, const char *url, struct error *err);

/* Percent-encode s (RFC 3986 unreserved kept); keep '/' when keep_slash. Caller frees. */
char *http_urlencode(const char *s, int keep_slash);

#endif
