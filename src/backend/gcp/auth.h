/*
 * gauth: OAuth 2.0 access tokens for Google APIs (Compute Engine, Cloud
 * Storage), from the credentials Google's own tools use, first found wins:
 *
 *   1. the key file given (config backends.gcp.credentials), else the one
 *      GOOGLE_APPLICATION_CREDENTIALS names;
 *   2. gcloud's application-default credentials,
 *      $CLOUDSDK_CONFIG/application_default_credentials.json or
 *      ~/.config/gcloud/application_default_credentials.json;
 *   3. on a Compute Engine VM (gcemeta_available), the token of the VM's
 *      service account from the metadata server, when the caller allows it.
 *
 * A key file is JSON of one of two types:
 *   "service_account"  a JWT (RFC 7519) signed RS256 with private_key,
 *                      claims iss = client_email, scope, aud = token_uri,
 *                      iat, exp = iat + 1 h; exchanged at token_uri with
 *                      grant_type urn:ietf:params:oauth:grant-type:jwt-bearer
 *                      (RFC 7523), as developers.google.com/identity/
 *                      protocols/oauth2/service-account describes;
 *   "authorized_user"  gcloud's user credentials: refresh_token,
 *                      client_id and client_secret exchanged at
 *                      https://oauth2.googleapis.com/token.
 * token_uri must be https (or http to a loopback address, for tests).
 *
 * A token is kept until GAUTH_MARGIN_S before it expires (half its
 * lifetime when that is shorter), then fetched again. The private key, refresh token, client secret and tokens never
 * reach a message; they are zeroed when freed.
 */
#ifndef FRUGAL_UTIL_GAUTH_H
#define FRUGAL_UTIL_GAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define GAUTH_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define GAUTH_MARGIN_S 300

enum gauth_kind {
	GAUTH_SERVICE_ACCOUNT = 1,
	GAUTH_AUTHORIZED_USER,
	GAUTH_METADATA,
};

struct gauth;

/*
 * Find credentials (the order above; key_file NULL: start at
 * GOOGLE_APPLICATION_CREDENTIALS). allow_metadata lets step 3 be used.
 * FRUGAL_ENOTFOUND when there are none; FRUGAL_EINVAL naming the file and
 * field when a key file is not usable. Makes no request.
 */
int gauth_new(const char *key_file, int allow_metadata, struct gauth **ret,
	      struct error *err);
void gauth_free(struct gauth *a);

enum gauth_kind gauth_kind(const struct gauth *a);
/* Where the credentials came from (a path, or "metadata server"). */
const char *gauth_source(const struct gauth *a);
/* The project of a service account key (project_id) or of user
 * credentials (quota_project_id), or NULL. */
const char *gauth_project(const struct gauth *a);
/* The service account's email of a key file (client_email), or NULL. */
const char *gauth_account(const struct gauth *a);

/*
 * Rewrite err (an HTTP 403 of service, "compute" on the project resource
 * or "storage" on the bucket resource) to say
 * who was denied what and how to fix it: the account (of a, else the
 * one the API names), the permission the error body names
 * (error.details[].metadata.permission, or the quoted
 * 'compute.instances.create' of its message), the roles to grant on
 * project (roles/compute.instanceAdmin.v1 and roles/iam.serviceAccountUser,
 * or roles/storage.objectAdmin on the bucket) with the gcloud command,
 * and that an organization policy (constraints/iam.disableServiceAccount...)
 * may be what denies it. body is the answer's JSON text (may be NULL).
 */
void gauth_explain_denied(struct error *err, const struct gauth *a, const char *service,
			  const char *resource, const char *body, size_t len);

/*
 * An access token, fetched or from the cache; *ret_token points into a
 * (valid until the next call or gauth_free). FRUGAL_ECRYPTO when the key
 * cannot sign, FRUGAL_EPROVIDER when the token endpoint refuses (its
 * error code and description in err), FRUGAL_ENET when it cannot be
 * reached.
 */
int gauth_token(struct gauth *a, const char **ret_token, struct error *err);

/* Forget the cached token (after a 401), so the next call fetches one. */
void gauth_invalidate(struct gauth *a);

/*
 * Sign a service account JWT: base64url(header).base64url(claims).
 * base64url(RS256 signature), header {"alg":"RS256","typ":"JWT","kid":kid}
 * (no kid when NULL), claims {"iss","scope","aud","iat","exp"}, exp =
 * iat + 3600. pem is the PKCS#8 private key of the key file. Caller
 * frees *ret_jwt.
 */
int gauth_jwt_sign(const char *pem, const char *kid, const char *iss, const char *scope,
		   const char *aud, int64_t iat, char **ret_jwt, struct error *err);

/* base64url without padding (RFC 4648 section 5). Caller frees. */
char *gauth_base64url(const void *data, size_t len);

#endif
