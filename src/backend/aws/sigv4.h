/*
 * sigv4: AWS Signature Version 4, on OpenSSL's SHA-256 and HMAC.
 *
 * Every request frugal sends to AWS (EC2's Query API, S3) is signed here,
 * either in the Authorization header or in the query string (a presigned
 * URL, which the boot script of an EC2 instance fetches with plain curl).
 * The AWS test suites (botocore's aws4_testsuite, aws-c-auth's
 * aws-signing-test-suite/v4) check the canonical request, the string to
 * sign and the signature of every case (tests/unit/test_sigv4.c).
 *
 * libcurl's CURLOPT_AWS_SIGV4 was not used: it exposes neither the
 * canonical request nor the string to sign, so the suites cannot check
 * it, and it cannot presign.
 *
 *   struct sigv4_params sp = SIGV4_PARAMS_INIT;
 *   sp.region = "us-east-1"; sp.service = "ec2"; sigv4_amz_date(now, sp.amz_date);
 *   sigv4_sign(&creds, &sp, &rq, &res, &err);    res.headers: add them to the request
 *
 * The secret key is used only inside sigv4_sign and never copied into a
 * result; the session token is, as the X-Amz-Security-Token header (or
 * query parameter) it must travel in.
 */
#ifndef FRUGAL_UTIL_SIGV4_H
#define FRUGAL_UTIL_SIGV4_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SIGV4_HASH_HEX 65	/* 64 hex digits and a NUL */
#define SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* NULL for long-term keys */
};

/* One request header; a name may repeat (values are joined with ','). */
struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* not percent-encoded: "/bucket/a key" */
	const char *query;		/* as sent ("a=1&b=x%20y"), or NULL */
	const struct sigv4_header *headers;	/* must include Host */
	size_t n_headers;
	/* Hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD; NULL: an empty body. */
	const char *payload_hash;
};

struct sigv4_params {
	const char *region;
	const char *service;
	char amz_date[17];		/* "20150830T123600Z" (sigv4_amz_date) */
	/* Remove "." and ".." segments and empty segments from the path (every
	 * service but S3, whose keys are taken as they are). */
	int normalize_path;
	/* Sign without the session token and add it afterwards (the few
	 * services that want it so); normally it is signed. */
	int omit_session_token;
	/* Send and sign x-amz-content-sha256 (S3 requires it). */
	int content_sha256_header;
	/* Sign the query string (a presigned URL) for expires seconds,
	 * instead of the Authorization header. */
	int presign;
	int64_t expires;
};
#define SIGV4_PARAMS_INIT { NULL, NULL, "", 1, 0, 0, 0, 0 }

struct sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char signature[SIGV4_HASH_HEX];
	char *signed_headers;		/* "host;x-amz-date" */
	/* Header signing: "Name: value" lines to add to the request
	 * (X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token,
	 * Authorization), NULL-terminated. */
	char **headers;
	char *authorization;		/* the Authorization value (also in headers) */
	/* Presigning: the whole query string to send, signature included. */
	char *query;
};
#define SIGV4_RESULT_INIT { NULL, NULL, "", NULL, NULL, NULL, NULL }

/* Sign rq. On success *ret holds the result (release with
 * sigv4_result_release); FRUGAL_EINVAL for a request without a Host
 * header or with a bad date, FRUGAL_ECRYPTO when OpenSSL fails. */
int sigv4_sign(const struct sigv4_credentials *creds, const struct sigv4_params *params,
	       const struct sigv4_request *rq, struct sigv4_result *ret, struct error *err);
void sigv4_result_release(struct sigv4_result *r);

/* The X-Amz-Date form of Unix time secs: "YYYYMMDDTHHMMSSZ" into buf[17]. */
void sigv4_amz_date(int64_t secs, char buf[17]);

/* Hex SHA-256 of data into hex[SIGV4_HASH_HEX]. */
void sigv4_sha256_hex(const void *data, size_t len, char hex[SIGV4_HASH_HEX]);
/* Hex SHA-256 of the file at path; FRUGAL_EIO/FRUGAL_ENOTFOUND when unreadable. */
int sigv4_sha256_file_hex(const char *path, char hex[SIGV4_HASH_HEX], struct error *err);

/* s percent-encoded the SigV4 way: unreserved characters (A-Z a-z 0-9
 * - . _ ~) as they are, every other byte as %XX (upper case); '/' kept
 * when keep_slash. Caller frees. */
char *sigv4_uri_encode(const char *s, size_t len, int keep_slash);

#endif
