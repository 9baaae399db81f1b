/*
 * awscreds: AWS credentials, region and endpoint, found where the AWS CLI
 * finds them, in the same order:
 *
 *   credentials  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
 *                2. the profile (AWS_PROFILE, else AWS_DEFAULT_PROFILE, else
 *                   "default") of ~/.aws/config and ~/.aws/credentials
 *                   ... for the profile, in the AWS CLI's order:
 *                   a. role_arn + source_profile: STS AssumeRole (Query
 *                      API, signed by sigv4.c) with the source profile's
 *                      credentials; assumed again before they expire
 *                   b. SSO: sso_session (or the legacy sso_start_url),
 *                      sso_account_id, sso_role_name; the token 'aws sso
 *                      login' cached in ~/.aws/sso/cache/<sha1>.json is
 *                      exchanged at the SSO portal (GetRoleCredentials)
 *                   c. keys in AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials)
 *                   d. credential_process: the command run without a shell,
 *                      its JSON (Version 1) read; Expiration honoured
 *                   e. keys in AWS_CONFIG_FILE (~/.aws/config, section
 *                      "[profile NAME]" or "[default]")
 *                4. on EC2: the instance profile's role through the metadata
 *                   service (imds.h), refreshed before it expires
 *   region       AWS_REGION, AWS_DEFAULT_REGION, the profile's "region" in
 *                ~/.aws/config, on EC2 the instance's own region
 *   endpoint     AWS_ENDPOINT_URL_<SERVICE> (AWS_ENDPOINT_URL_EC2,
 *                AWS_ENDPOINT_URL_S3, _STS, _SSO), AWS_ENDPOINT_URL, the profile's
 *                "endpoint_url"; otherwise the public endpoint of the
 *                service in the region. Tests point these at moto.
 *
 * Secrets stay in struct aws_creds: they are never put in a message (a
 * message names where credentials were looked for, not what they are),
 * and aws_creds_release wipes them.
 */
#ifndef FRUGAL_UTIL_AWSCREDS_H
#define FRUGAL_UTIL_AWSCREDS_H

#include <stdint.h>

#include "base/error.h"

#include <stddef.h>

struct aws_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;	/* NULL for long-term keys */
	int64_t expires_ms;	/* Unix ms; 0: does not expire */
	char *region;		/* NULL when nothing says */
	char *endpoint_url;	/* override for the service, or NULL */
	char *profile;		/* the profile used ("default") */
	const char *source;	/* "environment", "shared credentials file", ... */
};
#define AWS_CREDS_INIT { NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL }

/*
 * Find credentials, region and endpoint for service ("ec2", "s3"). A
 * missing key pair is FRUGAL_ENOTFOUND with a message saying where it
 * was looked for and what to do. *ret is filled on success only.
 */
int aws_creds_load(const char *service, struct aws_creds *ret, struct error *err);

/* Load again when the credentials expire within five minutes (instance
 * profile credentials rotate); 0 when nothing had to be done. */
int aws_creds_refresh(const char *service, struct aws_creds *c, struct error *err);

void aws_creds_release(struct aws_creds *c);

/* A deep copy of c into *ret (for a thread of its own). */
void aws_creds_copy(const struct aws_creds *c, struct aws_creds *ret);

/* 1 when credentials are in the environment or a profile file (the
 * metadata service is not asked): cheap, for "is aws configured". */
int aws_creds_available(void);
/* The same, with where they are in where (size bytes): the variable
 * name or the file and profile, never a value. */
int aws_creds_where(char *where, size_t size);

/* cmd split into words as a POSIX shell splits them (quotes, backslash),
 * with no expansion; NULL-terminated, caller frees each and the array.
 * FRUGAL_EINVAL for an unclosed quote or no word. */
int aws_shell_split(const char *cmd, char ***ret_argv);

/* Unix ms of an ISO 8601 UTC time ("2017-09-18T08:22:00Z", fractions
 * allowed); FRUGAL_EINVAL when it is not one. */
int aws_parse_time(const char *s, int64_t *ret_ms);

#endif
