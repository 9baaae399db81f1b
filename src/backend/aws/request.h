/*
 * awsreq: one signed request to an AWS service, retried the way the AWS
 * SDKs retry: throttling (RequestLimitExceeded, Throttling, SlowDown),
 * 5xx answers and network failures are tried again, up to max_attempts
 * times, after an exponential backoff with full jitter (100 ms doubling,
 * at most 5 s a wait). Every attempt is signed afresh (sigv4.h) with
 * credentials refreshed when they expire (awscreds.h). AWS_CA_BUNDLE, as
 * for the AWS CLI, names the CA certificates to trust instead of the
 * system's.
 *
 * Errors name the method, the service and the path, never a header, a
 * query string or a body: nothing secret reaches a message.
 *
 * aws_xml_error reads the error document of an answer: EC2's
 * <Response><Errors><Error><Code>...</Code><Message>... and S3's
 * <Error><Code>...; libxml2 parses them (network input: no entities,
 * no network, size-capped by the HTTP layer).
 */
#ifndef FRUGAL_UTIL_AWSREQ_H
#define FRUGAL_UTIL_AWSREQ_H

#include <stddef.h>

#include "base/error.h"
#include "backend/aws/creds.h"
#include "util/http.h"

struct aws_request {
	const char *service;		/* signing name: "ec2", "s3" */
	const char *region;
	const char *endpoint;		/* "https://ec2.us-east-1.amazonaws.com" (no path) */
	const char *method;
	const char *path;		/* not encoded: "/" or "/bucket/key" */
	const char *query;		/* encoded, or NULL */
	const char *const *headers;	/* more "Name: value" lines, signed; or NULL */
	const void *body;
	size_t body_len;
	const char *upload_file;	/* the body from this file (PUT), or NULL */
	const char *download_file;	/* a 2xx body into this file, or NULL */
	const char *payload_hash;	/* NULL: computed (or UNSIGNED-PAYLOAD for a file over https) */
	size_t max_response;		/* 0: http's default */
	long timeout_ms;		/* 0: http's default */
	int s3;				/* S3 rules: keys as they are, x-amz-content-sha256 */
	int max_attempts;		/* 0: AWSREQ_ATTEMPTS */
};
#define AWS_REQUEST_INIT { 0 }

#define AWSREQ_ATTEMPTS 5

/*
 * Send rq, signed with c (refreshed first when it expires soon). 0 when
 * an answer came, whatever its status, after retrying the retryable
 * ones: the caller looks at ret->status. FRUGAL_ENET when no answer came
 * after every attempt.
 */
int aws_request_do(struct aws_creds *c, const struct aws_request *rq, struct http_response *ret,
		   struct error *err);

/* 1 when an answer with this status and error code is worth retrying. */
int aws_retryable(long status, const char *code);

/*
 * The Code and Message of an AWS error document into code/msg (either
 * may be NULL); "" when the body is no such document. Message is cut to
 * msg_len and stripped of control characters.
 */
void aws_xml_error(const struct http_response *rs, char *code, size_t code_len, char *msg,
		   size_t msg_len);

/* The text of the first element called name in an XML answer, or NULL.
 * Caller frees. */
char *aws_xml_value(const struct http_response *rs, const char *name);

/* "host[:port]" of an endpoint URL, as curl sends it in Host. Caller frees. */
char *aws_endpoint_host(const char *endpoint);

#endif
