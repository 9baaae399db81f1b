/*
 * imds: the EC2 instance metadata service, version 2 (session tokens).
 *
 * Used on an EC2 instance by the agent (the spot/instance-action notice,
 * the rebalance recommendation) and by awscreds (the instance profile's
 * credentials). Every call is a short HTTP request to
 *
 *   $AWS_EC2_METADATA_SERVICE_ENDPOINT   (the AWS SDKs' variable; tests
 *                                          point it at a fake server)
 *   http://169.254.169.254               otherwise
 *
 * with a one-second default timeout: off EC2 the address does not answer
 * and callers must not hang. AWS_EC2_METADATA_DISABLED=true turns it off
 * (FRUGAL_ENOTSUP), as it does for the AWS CLI.
 */
#ifndef FRUGAL_UTIL_IMDS_H
#define FRUGAL_UTIL_IMDS_H

#include "base/error.h"
#include "base/strbuf.h"

/* Seconds a session token lives (the IMDS maximum is 21600). */
#define IMDS_TOKEN_TTL 21600

/* 1 when the metadata service may be used (not disabled). */
int imds_enabled(void);

/* The service's base URL, without a trailing '/'. Caller frees. */
char *imds_base_url(void);

/* A session token (PUT /latest/api/token). Caller frees *ret. */
int imds_token(long timeout_ms, char **ret, struct error *err);

/*
 * GET /latest/PATH ("meta-data/spot/instance-action") with the token,
 * appending the body to out. *ret_status gets the HTTP status (404: the
 * item does not exist now, which is not an error); FRUGAL_ENET when the
 * service does not answer.
 */
int imds_get(const char *token, const char *path, long timeout_ms, struct strbuf *out,
	     long *ret_status, struct error *err);

#endif
