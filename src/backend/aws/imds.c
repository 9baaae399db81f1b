/*
 * imds: EC2 instance metadata, IMDSv2 (see imds.h).
 */
#include "backend/aws/imds.h"
#include "base/xalloc.h"
#include "util/http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_ENDPOINT "http://169.254.169.254"
#define DEFAULT_TIMEOUT_MS 1000L
#define MAX_BODY (1 << 20)

/* 1 unless AWS_EC2_METADATA_DISABLED is "true". */
int imds_enabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");

	return !(v && !strcasecmp(v, "true"));
}

/* The endpoint, from the environment or the link-local default. */
char *imds_base_url(void)
{
	const char *v = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	size_t n;

	if (!v || !*v)
		v = DEFAULT_ENDPOINT;
	n = strlen(v);
	while (n && v[n - 1] == '/')
		n--;
	return xstrndup(v, n);
}

/* PUT /latest/api/token with the TTL header; the body is the token. */
int imds_token(long timeout_ms, char **ret, struct error *err)
{
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *base = NULL, *url = NULL;
	const char *headers[] = { "X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL };
	int r;

	if (!imds_enabled())
		return error_set(err, FRUGAL_ENOTSUP, "the instance metadata service is disabled"
				 " (AWS_EC2_METADATA_DISABLED)");
	base = imds_base_url();
	url = xasprintf("%s/latest/api/token", base);
	rq.method = "PUT";
	rq.url = url;
	rq.headers = headers;
	rq.timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
	rq.max_response = 4096;
	if ((r = http_do(&rq, &rs, err)) < 0)
		goto out;
	if (rs.status != 200 || !rs.body.len) {
		r = error_set(err, FRUGAL_EPROVIDER, "instance metadata: PUT /latest/api/token: "
			      "HTTP %ld", rs.status);
		goto out;
	}
	strbuf_rtrim(&rs.body);
	*ret = strbuf_detach(&rs.body, NULL);
out:
	http_response_release(&rs);
	free(base);
	free(url);
	return r;
}

/* GET /latest/PATH with the token (see imds.h). */
int imds_get(const char *token, const char *path, long timeout_ms, struct strbuf *out,
	     long *ret_status, struct error *err)
{
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	char *base = imds_base_url();
	char *url = xasprintf("%s/latest/%s", base, path);
	char *hdr = xasprintf("X-aws-ec2-metadata-token: %s", token ? token : "");
	const char *headers[] = { hdr, NULL };
	int r;

	rq.method = "GET";
	rq.url = url;
	rq.headers = headers;
	rq.timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
	rq.max_response = MAX_BODY;
	if ((r = http_do(&rq, &rs, err)) < 0)
		goto out;
	*ret_status = rs.status;
	if (rs.status == 200)
		strbuf_add(out, rs.body.buf, rs.body.len);
out:
	http_response_release(&rs);
	free(base);
	free(url);
	secure_free(hdr);
	return r;
}
