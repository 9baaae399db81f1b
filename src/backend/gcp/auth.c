/*
 * gauth: access tokens for Google APIs (see gauth.h).
 */
#include "backend/gcp/auth.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/gcp/metadata.h"
#include "util/http.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#define KEY_FILE_MAX (64u << 10)
#define TOKEN_RESPONSE_MAX (64u << 10)
#define DEFAULT_TOKEN_URI "https://oauth2.googleapis.com/token"
#define JWT_LIFETIME_S 3600

struct gauth {
	enum gauth_kind kind;
	char *source;
	char *project;
	char *token_uri;
	/* service_account */
	char *client_email;
	char *private_key;
	char *private_key_id;
	/* authorized_user */
	char *client_id;
	char *client_secret;
	char *refresh_token;
	/* the cache */
	char *token;
	int64_t refresh_ms;	/* fetch again from then on */
};

/* Free a, zeroing its secrets. */
void gauth_free(struct gauth *a)
{
	if (!a)
		return;
	free(a->source);
	free(a->project);
	free(a->token_uri);
	free(a->client_email);
	secure_free(a->private_key);
	free(a->private_key_id);
	free(a->client_id);
	secure_free(a->client_secret);
	secure_free(a->refresh_token);
	secure_free(a->token);
	free(a);
}

/* Which kind of credentials a holds. */
enum gauth_kind gauth_kind(const struct gauth *a)
{
	return a->kind;
}

/* Where a came from, for messages. */
const char *gauth_source(const struct gauth *a)
{
	return a->source;
}

/* The project named by the credentials, or NULL. */
const char *gauth_project(const struct gauth *a)
{
	return a->project;
}

const char *gauth_account(const struct gauth *a)
{
	return a ? a->client_email : NULL;
}

/* Drop the cached token (zeroed). */
void gauth_invalidate(struct gauth *a)
{
	secure_free(a->token);
	a->token = NULL;
	a->refresh_ms = 0;
}

/* ---- encoding ---------------------------------------------------------------- */

/* base64url without padding (RFC 4648 section 5). */
char *gauth_base64url(const void *data, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1, n, i;
	char *out = xmalloc(cap);

	n = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	while (n && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

/* Append k=urlencode(v) to a form body, '&' first unless it is empty. */
static void form_add(struct strbuf *sb, const char *k, const char *v)
{
	char *enc = http_urlencode(v, 0);

	if (sb->len)
		strbuf_addch(sb, '&');
	strbuf_addf(sb, "%s=%s", k, enc);
	secure_free(enc);
}

/* ---- JWT ------------------------------------------------------------------------ */

/* RS256 (RSASSA-PKCS1-v1_5 with SHA-256) of data under the PEM key. */
static int rs256(const char *pem, const char *data, size_t len, unsigned char **ret_sig,
		 size_t *ret_len, struct error *err)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t n = 0;
	int r = 0;

	if (!key) {
		r = error_set(err, FRUGAL_ECRYPTO, "the private_key is not a PEM private key");
		goto out;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		r = error_set(err, FRUGAL_ECRYPTO, "the private_key is not an RSA key");
		goto out;
	}
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &n, (const unsigned char *)data, len) != 1) {
		r = error_set(err, FRUGAL_ECRYPTO, "cannot sign with the private_key");
		goto out;
	}
	sig = xmalloc(n);
	if (EVP_DigestSign(md, sig, &n, (const unsigned char *)data, len) != 1) {
		r = error_set(err, FRUGAL_ECRYPTO, "cannot sign with the private_key");
		goto out;
	}
	*ret_sig = sig;
	*ret_len = n;
	sig = NULL;
out:
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return r;
}

/* base64url of a JSON object's compact text; consumes o. */
static char *b64_json(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *b = gauth_base64url(text, strlen(text));

	free(text);
	json_decref(o);
	return b;
}

/* A service account JWT signed RS256 (see gauth.h). */
int gauth_jwt_sign(const char *pem, const char *kid, const char *iss, const char *scope,
		   const char *aud, int64_t iat, char **ret_jwt, struct error *err)
{
	json_t *hdr = json_object(), *claims = json_object();
	struct strbuf sb = STRBUF_INIT;
	unsigned char *sig = NULL;
	char *h, *c, *s;
	size_t sig_len = 0;
	int r;

	json_object_set_new(hdr, "alg", json_string("RS256"));
	json_object_set_new(hdr, "typ", json_string("JWT"));
	if (kid)
		json_object_set_new(hdr, "kid", json_string(kid));
	json_object_set_new(claims, "iss", json_string(iss));
	json_object_set_new(claims, "scope", json_string(scope));
	json_object_set_new(claims, "aud", json_string(aud));
	json_object_set_new(claims, "iat", json_integer(iat));
	json_object_set_new(claims, "exp", json_integer(iat + JWT_LIFETIME_S));
	h = b64_json(hdr);
	c = b64_json(claims);
	strbuf_addf(&sb, "%s.%s", h, c);
	free(h);
	free(c);
	if ((r = rs256(pem, sb.buf, sb.len, &sig, &sig_len, err)) < 0) {
		strbuf_release(&sb);
		return r;
	}
	s = gauth_base64url(sig, sig_len);
	strbuf_addf(&sb, ".%s", s);
	free(s);
	free(sig);
	*ret_jwt = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- key files ------------------------------------------------------------------- */

/* A string field of o (copied), or NULL. */
static char *str_field(json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);

	return json_is_string(v) && json_string_length(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* 1 when uri is https, or http to a loopback host (tests). */
static int uri_acceptable(const char *uri)
{
	if (!strncmp(uri, "https://", 8))
		return 1;
	return !strncmp(uri, "http://127.0.0.1", 16) || !strncmp(uri, "http://localhost", 16) ||
	       !strncmp(uri, "http://[::1]", 12);
}

/* Read a key file into a (kind, fields). */
static int load_key_file(struct gauth *a, const char *path, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *o = NULL;
	char *type = NULL;
	const char *missing = NULL;
	int r;

	if ((r = fs_read_file(path, KEY_FILE_MAX, &sb, err)) < 0) {
		error_prefix(err, "Google credentials");
		goto out;
	}
	o = json_loadb(sb.buf, sb.len, 0, NULL);
	if (!json_is_object(o)) {
		r = error_set(err, FRUGAL_EINVAL, "Google credentials '%s': not a JSON object", path);
		goto out;
	}
	type = str_field(o, "type");
	a->source = xstrdup(path);
	a->token_uri = str_field(o, "token_uri");
	if (type && !strcmp(type, "service_account")) {
		a->kind = GAUTH_SERVICE_ACCOUNT;
		a->client_email = str_field(o, "client_email");
		a->private_key = str_field(o, "private_key");
		a->private_key_id = str_field(o, "private_key_id");
		a->project = str_field(o, "project_id");
		missing = !a->client_email ? "client_email" : !a->private_key ? "private_key" :
			  !a->token_uri ? "token_uri" : NULL;
	} else if (type && !strcmp(type, "authorized_user")) {
		a->kind = GAUTH_AUTHORIZED_USER;
		a->client_id = str_field(o, "client_id");
		a->client_secret = str_field(o, "client_secret");
		a->refresh_token = str_field(o, "refresh_token");
		a->project = str_field(o, "quota_project_id");
		if (!a->token_uri)
			a->token_uri = xstrdup(DEFAULT_TOKEN_URI);
		missing = !a->client_id ? "client_id" : !a->client_secret ? "client_secret" :
			  !a->refresh_token ? "refresh_token" : NULL;
	} else {
		r = error_set(err, FRUGAL_EINVAL, "Google credentials '%s': field 'type': expected "
			      "'service_account' or 'authorized_user'", path);
		goto out;
	}
	if (missing) {
		r = error_set(err, FRUGAL_EINVAL, "Google credentials '%s': field '%s' is missing",
			      path, missing);
		goto out;
	}
	if (!uri_acceptable(a->token_uri)) {
		r = error_set(err, FRUGAL_EINVAL, "Google credentials '%s': field 'token_uri': "
			      "expected an https URL", path);
		goto out;
	}
	r = 0;
out:
	free(type);
	json_decref(o);
	secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	return r;
}

/* gcloud's application-default file, or NULL when HOME is unknown. */
static char *adc_path(void)
{
	const char *cfg = getenv("CLOUDSDK_CONFIG"), *home = getenv("HOME");

	if (cfg && *cfg)
		return fs_path_join(cfg, "application_default_credentials.json");
	if (home && *home)
		return xasprintf("%s/.config/gcloud/application_default_credentials.json", home);
	return NULL;
}

/* Find credentials in the order of gauth.h. */
int gauth_new(const char *key_file, int allow_metadata, struct gauth **ret,
	      struct error *err)
{
	struct gauth *a = xcalloc(1, sizeof(*a));
	const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	char *adc = NULL;
	int r;

	if (!key_file || !*key_file)
		key_file = env && *env ? env : NULL;
	if (!key_file) {
		adc = adc_path();
		if (adc && fs_exists(adc))
			key_file = adc;
	}
	if (key_file) {
		if ((r = load_key_file(a, key_file, err)) < 0)
			goto fail;
	} else if (allow_metadata && gcemeta_available()) {
		a->kind = GAUTH_METADATA;
		a->source = xstrdup("the metadata server");
	} else {
		r = error_set(err, FRUGAL_ENOTFOUND, "no Google credentials: set "
			      "GOOGLE_APPLICATION_CREDENTIALS to a service account key file or run "
			      "'gcloud auth application-default login'");
		goto fail;
	}
	free(adc);
	*ret = a;
	return 0;
fail:
	free(adc);
	gauth_free(a);
	return r;
}

/* ---- tokens ----------------------------------------------------------------------- */

/* Take access_token and expires_in out of a token response. */
static int parse_token(struct gauth *a, const char *body, size_t len, struct error *err)
{
	json_t *o = json_loadb(body, len, 0, NULL);
	json_t *tok = json_object_get(o, "access_token");
	json_t *exp = json_object_get(o, "expires_in");
	int64_t secs = json_is_integer(exp) ? json_integer_value(exp) : 3600;
	int r = 0;

	if (!json_is_string(tok) || !json_string_length(tok)) {
		r = error_set(err, FRUGAL_EPROVIDER, "token from %s: no access_token in the answer",
			      a->source);
		goto out;
	}
	gauth_invalidate(a);
	a->token = xstrdup(json_string_value(tok));
	/* GAUTH_MARGIN_S before it expires; half its life when that is short. */
	a->refresh_ms = time_now_ms() +
			(secs > 2 * GAUTH_MARGIN_S ? secs - GAUTH_MARGIN_S : secs / 2) * 1000;
out:
	/* The document holds the token: zero jansson's copy too. */
	if (json_is_string(tok))
		secure_zero((char *)json_string_value(tok), json_string_length(tok));
	json_decref(o);
	return r;
}

/* POST a form to the token URI and keep the token it answers. */
static int exchange(struct gauth *a, struct strbuf *form, struct error *err)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL,
	};
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	int r;

	rq.method = "POST";
	rq.url = a->token_uri;
	rq.headers = headers;
	rq.body = form->buf;
	rq.body_len = form->len;
	rq.max_response = TOKEN_RESPONSE_MAX;
	if ((r = http_do(&rq, &rs, err)) < 0)
		goto out;
	if (rs.status != 200) {
		json_t *o = json_loadb(rs.body.buf, rs.body.len, 0, NULL);
		json_t *code = json_object_get(o, "error"), *desc = json_object_get(o, "error_description");

		r = error_set(err, FRUGAL_EPROVIDER, "token endpoint refused the credentials of %s: "
			      "HTTP %ld%s%s%s%s", a->source, rs.status,
			      json_is_string(code) ? ": " : "",
			      json_is_string(code) ? json_string_value(code) : "",
			      json_is_string(desc) ? ": " : "",
			      json_is_string(desc) ? json_string_value(desc) : "");
		json_decref(o);
		goto out;
	}
	r = parse_token(a, rs.body.buf, rs.body.len, err);
out:
	secure_zero(rs.body.buf, rs.body.len);
	http_response_release(&rs);
	return r;
}

/* Fetch a new token the way the credentials say. */
static int fetch(struct gauth *a, struct error *err)
{
	struct strbuf form = STRBUF_INIT, body = STRBUF_INIT;
	char *jwt = NULL;
	int r;

	switch (a->kind) {
	case GAUTH_SERVICE_ACCOUNT:
		if ((r = gauth_jwt_sign(a->private_key, a->private_key_id, a->client_email,
					GAUTH_SCOPE, a->token_uri, time_now_ms() / 1000, &jwt,
					err)) < 0) {
			error_prefix(err, "Google credentials '%s'", a->source);
			goto out;
		}
		form_add(&form, "grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
		form_add(&form, "assertion", jwt);
		r = exchange(a, &form, err);
		break;
	case GAUTH_AUTHORIZED_USER:
		form_add(&form, "grant_type", "refresh_token");
		form_add(&form, "client_id", a->client_id);
		form_add(&form, "client_secret", a->client_secret);
		form_add(&form, "refresh_token", a->refresh_token);
		r = exchange(a, &form, err);
		break;
	case GAUTH_METADATA:
	default:
		if ((r = gcemeta_get("instance/service-accounts/default/token", 0, &body, NULL,
				     err)) < 0) {
			error_prefix(err, "no token for the VM's service account");
			goto out;
		}
		r = parse_token(a, body.buf, body.len, err);
		break;
	}
out:
	secure_free(jwt);
	secure_zero(form.buf, form.len);
	secure_zero(body.buf, body.len);
	strbuf_release(&form);
	strbuf_release(&body);
	return r;
}

/* A token from the cache, or a fresh one when it is due. */
int gauth_token(struct gauth *a, const char **ret_token, struct error *err)
{
	int r;

	if (!a->token || time_now_ms() >= a->refresh_ms) {
		if ((r = fetch(a, err)) < 0)
			return r;
	}
	*ret_token = a->token;
	return 0;
}

/* ---- permission denied ------------------------------------------------------------- */

/* The permission an error names: details[].metadata.permission, else the
 * first 'a.b.c' quoted in message. Caller frees; NULL when none. */
static char *denied_permission(json_t *error, const char *message)
{
	json_t *details = json_object_get(error, "details"), *d;
	const char *q;
	size_t i;

	json_array_foreach(details, i, d) {
		const char *perm = json_string_value(json_object_get(json_object_get(d, "metadata"),
								     "permission"));
		if (perm && *perm)
			return xstrdup(perm);
	}
	for (q = message ? strchr(message, '\'') : NULL; q; q = strchr(q + 1, '\'')) {
		size_t n = strcspn(q + 1, "' ");

		if (q[1 + n] == '\'' && n > 4 && memchr(q + 1, '.', n) &&
		    (!strncmp(q + 1, "compute.", 8) || !strncmp(q + 1, "storage.", 8) ||
		     !strncmp(q + 1, "iam.", 4)))
			return xstrndup(q + 1, n);
	}
	return NULL;
}

/* The account an error names ("x@p.iam.gserviceaccount.com does not have"). */
static char *denied_account(const char *message)
{
	const char *at = message ? strstr(message, ".gserviceaccount.com") : NULL;
	const char *start;

	if (!at)
		return NULL;
	for (start = at; start > message && start[-1] != ' ' && start[-1] != '\''; start--)
		;
	return xstrndup(start, (size_t)(at - start) + strlen(".gserviceaccount.com"));
}

void gauth_explain_denied(struct error *err, const struct gauth *a, const char *service,
			  const char *resource, const char *body, size_t len)
{
	json_t *doc = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *error = json_object_get(doc, "error");
	const char *message = json_string_value(json_object_get(error, "message"));
	char was[ERROR_MSG_MAX], *perm = denied_permission(error, message);
	char *named = denied_account(message), member[320];
	const char *account = gauth_account(a) ? gauth_account(a) : named;
	const char *res = resource && *resource ? resource : "PROJECT";

	if (!err)
		goto out;
	snprintf(was, sizeof(was), "%s", err->msg);
	snprintf(member, sizeof(member), "%s%s",
		 !account ? "" : strstr(account, "gserviceaccount.com") ? "serviceAccount:" : "user:",
		 account ? account : "ACCOUNT");
	if (service && !strcmp(service, "storage"))
		error_set(err, FRUGAL_EPROVIDER,
			  "%s -- permission denied: %s%s lacks %s%s%s. Grant it roles/storage."
			  "objectAdmin on the bucket: gcloud storage buckets add-iam-policy-binding "
			  "gs://%s --member=%s --role=roles/storage.objectAdmin; if it has the role, "
			  "an organization policy may deny it (constraints/iam.disableServiceAccount"
			  "..., constraints/storage.*)", was,
			  account ? "the account " : "the credentials of ",
			  account ? account : a ? gauth_source(a) : "frugal",
			  perm ? "the permission '" : "a permission", perm ? perm : "", perm ? "'" : "",
			  resource && *resource ? resource : "BUCKET", member);
	else
		error_set(err, FRUGAL_EPROVIDER,
			  "%s -- permission denied: %s%s lacks %s%s%s. Grant it roles/compute."
			  "instanceAdmin.v1 and roles/iam.serviceAccountUser: gcloud projects "
			  "add-iam-policy-binding %s --member=%s --role=roles/compute.instanceAdmin.v1 "
			  "(and again with --role=roles/iam.serviceAccountUser); if it has the roles, "
			  "an organization policy may deny it (constraints/iam.disableServiceAccount"
			  "..., constraints/compute.*): gcloud resource-manager org-policies list "
			  "--project=%s", was,
			  account ? "the account " : "the credentials of ",
			  account ? account : a ? gauth_source(a) : "frugal",
			  perm ? "the permission '" : "a permission", perm ? perm : "", perm ? "'" : "",
			  res, member, res);
out:
	free(perm);
	free(named);
	json_decref(doc);
}
