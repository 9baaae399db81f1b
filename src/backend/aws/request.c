/*
 * awsreq: signed, retried requests to AWS (see awsreq.h).
 */
#include "backend/aws/request.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/aws/sigv4.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADERS 32
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 5000

/* "host[:port]" of endpoint (see awsreq.h). */
char *aws_endpoint_host(const char *endpoint)
{
	const char *p = strstr(endpoint, "://");

	p = p ? p + 3 : endpoint;
	return xstrndup(p, strcspn(p, "/?#"));
}

/* 1 for the answers the SDKs retry (see awsreq.h). */
int aws_retryable(long status, const char *code)
{
	static const char *const codes[] = {
		"RequestLimitExceeded", "Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottled", "RequestThrottledException", "SlowDown", "TooManyRequestsException",
		"RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
		"ServiceUnavailable", "Unavailable", "PriorRequestNotComplete", NULL,
	};
	/* Server errors that another try does not fix: the caller moves on. */
	static const char *const final[] = {
		"InsufficientInstanceCapacity", "InsufficientHostCapacity", "InsufficientCapacity",
		"InsufficientReservedInstanceCapacity", NULL,
	};
	size_t i;

	for (i = 0; code && final[i]; i++)
		if (!strcmp(code, final[i]))
			return 0;
	if (status == 500 || status == 502 || status == 503 || status == 504 || status == 429)
		return 1;
	for (i = 0; code && *code && codes[i]; i++)
		if (!strcmp(code, codes[i]))
			return 1;
	return 0;
}

/* First element named name below n (depth first), or NULL. */
static xmlNode *find_element(xmlNode *n, const char *name)
{
	for (; n; n = n->next) {
		xmlNode *found;

		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name))
			return n;
		if ((found = find_element(n->children, name)))
			return found;
	}
	return NULL;
}

/* The text of element name into buf, control characters as '?'. */
static void element_text(xmlNode *root, const char *name, char *buf, size_t len)
{
	xmlNode *e;
	xmlChar *text;
	size_t i;

	if (!buf || !len)
		return;
	buf[0] = '\0';
	if (!(e = find_element(root, name)) || !(text = xmlNodeGetContent(e)))
		return;
	snprintf(buf, len, "%s", (const char *)text);
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20)
			buf[i] = '?';
	xmlFree(text);
}

/* Code and Message of an error answer (see awsreq.h). */
void aws_xml_error(const struct http_response *rs, char *code, size_t code_len, char *msg,
		   size_t msg_len)
{
	xmlDoc *doc;

	if (code && code_len)
		code[0] = '\0';
	if (msg && msg_len)
		msg[0] = '\0';
	if (!rs->body.len || rs->body.len > (64u << 20))
		return;
	xmlInitParser();
	doc = xmlReadMemory(rs->body.buf, (int)rs->body.len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return;
	element_text(xmlDocGetRootElement(doc), "Code", code, code_len);
	element_text(xmlDocGetRootElement(doc), "Message", msg, msg_len);
	xmlFreeDoc(doc);
}

/* The text of the first element name (see awsreq.h). */
char *aws_xml_value(const struct http_response *rs, const char *name)
{
	xmlDoc *doc;
	xmlNode *e;
	xmlChar *t;
	char *v = NULL;

	if (!rs->body.len || rs->body.len > (64u << 20))
		return NULL;
	xmlInitParser();
	doc = xmlReadMemory(rs->body.buf, (int)rs->body.len, NULL, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return NULL;
	if ((e = find_element(xmlDocGetRootElement(doc), name)) && (t = xmlNodeGetContent(e))) {
		v = xstrdup((const char *)t);
		xmlFree(t);
	}
	xmlFreeDoc(doc);
	return v;
}

/* A wait of the n-th retry (n >= 1): full jitter over base * 2^(n-1). */
static int64_t backoff_ms(int n)
{
	static unsigned seed;
	int64_t cap = BACKOFF_BASE_MS;

	if (!seed)
		seed = (unsigned)time(NULL) ^ (unsigned)getpid() << 16;
	while (--n > 0 && cap < BACKOFF_CAP_MS)
		cap *= 2;
	if (cap > BACKOFF_CAP_MS)
		cap = BACKOFF_CAP_MS;
	return cap / 2 + rand_r(&seed) % (cap / 2 + 1);
}

/* One signed attempt of rq; the answer in *ret. */
static int attempt(struct aws_creds *c, const struct aws_request *rq, const char *payload,
		   struct http_response *ret, struct error *err)
{
	struct sigv4_header sh[MAX_HEADERS];
	struct sigv4_credentials cr = { c->access_key_id, c->secret_access_key, c->session_token };
	struct sigv4_params sp = SIGV4_PARAMS_INIT;
	struct sigv4_request sr = { rq->method, rq->path, rq->query, sh, 0, payload };
	struct sigv4_result res = SIGV4_RESULT_INIT;
	struct http_request hr = HTTP_REQUEST_INIT;
	const char *lines[MAX_HEADERS * 2];
	char *names[MAX_HEADERS], *host = aws_endpoint_host(rq->endpoint);
	char *host_line = xasprintf("Host: %s", host), *path, *url;
	size_t n = 0, nl = 0, i;
	int r;

	sh[n].name = "Host";
	sh[n++].value = host;
	lines[nl++] = host_line;
	for (i = 0; rq->headers && rq->headers[i] && n < MAX_HEADERS; i++) {
		const char *colon = strchr(rq->headers[i], ':');

		if (!colon)
			continue;
		names[n] = xstrndup(rq->headers[i], (size_t)(colon - rq->headers[i]));
		sh[n].name = names[n];
		sh[n++].value = colon + 1;
		lines[nl++] = rq->headers[i];
	}
	sr.n_headers = n;
	sp.region = rq->region;
	sp.service = rq->service;
	sp.normalize_path = !rq->s3;
	sp.content_sha256_header = rq->s3;
	sigv4_amz_date(time_now_ms() / 1000, sp.amz_date);
	path = sigv4_uri_encode(rq->path, strlen(rq->path), 1);
	url = xasprintf("%s%s%s%s", rq->endpoint, path, rq->query && *rq->query ? "?" : "",
			rq->query ? rq->query : "");
	if ((r = sigv4_sign(&cr, &sp, &sr, &res, err)) < 0)
		goto out;
	for (i = 0; res.headers[i] && nl < MAX_HEADERS * 2 - 1; i++)
		lines[nl++] = res.headers[i];
	lines[nl] = NULL;
	hr.method = rq->method;
	hr.url = url;
	hr.headers = lines;
	hr.body = rq->body;
	hr.body_len = rq->body_len;
	hr.upload_file = rq->upload_file;
	hr.download_file = rq->download_file;
	hr.max_response = rq->max_response;
	hr.timeout_ms = rq->timeout_ms;
	/* The AWS CLI's variable for a private CA (a proxy, an S3 appliance). */
	if (getenv("AWS_CA_BUNDLE") && *getenv("AWS_CA_BUNDLE"))
		hr.ca_file = getenv("AWS_CA_BUNDLE");
	r = http_do(&hr, ret, err);
out:
	for (i = 1; i < n; i++)
		free(names[i]);
	sigv4_result_release(&res);
	free(host);
	free(host_line);
	free(path);
	free(url);
	return r;
}

/* Send rq with retries (see awsreq.h). */
int aws_request_do(struct aws_creds *c, const struct aws_request *rq, struct http_response *ret,
		   struct error *err)
{
	int max = rq->max_attempts > 0 ? rq->max_attempts : AWSREQ_ATTEMPTS;
	char hash[SIGV4_HASH_HEX];
	const char *payload = rq->payload_hash;
	int n, r = 0;

	if (!payload && rq->upload_file) {
		if (!strncmp(rq->endpoint, "https://", 8))
			payload = SIGV4_UNSIGNED_PAYLOAD;
		else if ((r = sigv4_sha256_file_hex(rq->upload_file, hash, err)) < 0)
			return r;
		else
			payload = hash;
	} else if (!payload) {
		sigv4_sha256_hex(rq->body ? rq->body : "", rq->body ? rq->body_len : 0, hash);
		payload = hash;
	}
	for (n = 1; ; n++) {
		struct http_response rs = HTTP_RESPONSE_INIT;
		char code[128] = "";

		if ((r = aws_creds_refresh(rq->service, c, err)) < 0)
			return r;
		r = attempt(c, rq, payload, &rs, err);
		if (r == 0 && rs.status >= 400)
			aws_xml_error(&rs, code, sizeof(code), NULL, 0);
		if (r == 0 && !aws_retryable(rs.status, code)) {
			*ret = rs;
			return 0;
		}
		if (r < 0 && r != FRUGAL_ENET)
			return r;
		if (n >= max) {
			if (r == 0) {
				*ret = rs;	/* the last answer: the caller reports it */
				return 0;
			}
			error_prefix(err, "%s %s %s: no answer after %d attempts", rq->service,
				     rq->method, rq->path, n);
			return r;
		}
		http_response_release(&rs);
		time_sleep_ms(backoff_ms(n));
	}
}
