/*
 * Unit tests for util/gauth (Google access tokens) and util/gcemeta (the
 * metadata server): base64url vectors, a JWT signed with a key made for
 * the test and verified with OpenSSL, key file errors that name the file
 * and field but never a secret, and token exchange and caching against
 * tests/fakes/gcp_fake.py, which verifies the JWT with the public key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gcp_fake.h"
#include "backend/gcp/auth.h"
#include "backend/gcp/metadata.h"

/* ---- encoding and signing ---------------------------------------------------------- */

static void test_base64url(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} v[] = {
		{ "", 0, "" }, { "f", 1, "Zg" }, { "fo", 2, "Zm8" }, { "foo", 3, "Zm9v" },
		{ "foob", 4, "Zm9vYg" }, { "fooba", 5, "Zm9vYmE" }, { "foobar", 6, "Zm9vYmFy" },
		{ "\xfb\xff", 2, "-_8" }, { "\xff\xfe\xfd", 3, "__79" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *s = gauth_base64url(v[i].in, v[i].len);
		assert_string_equal(s, v[i].out);
		free(s);
	}
}

/* base64url-decode a JWT part. Caller frees. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned char *out = xmalloc(n + 4);
	size_t i;
	int len;

	for (i = 0; i < n; i++)
		strbuf_addch(&sb, s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]);
	while (sb.len % 4)
		strbuf_addch(&sb, '=');
	len = EVP_DecodeBlock(out, (unsigned char *)sb.buf, (int)sb.len);
	assert_true(len >= 0);
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	*ret_len = (size_t)len - (n % 4 == 2 ? 2 : n % 4 == 3 ? 1 : 0);
	strbuf_release(&sb);
	return out;
}

static void test_jwt_sign_verify(void **state)
{
	struct gfake f;
	struct error err = ERROR_INIT;
	char *jwt = NULL, *dot1, *dot2;
	unsigned char *hdr, *claims, *sig;
	size_t hl, cl, sl;
	json_t *h, *c;
	BIO *bio;
	EVP_PKEY *pub;
	EVP_MD_CTX *md;

	(void)state;
	memset(&f, 0, sizeof(f));
	snprintf(f.dir, sizeof(f.dir), "/tmp/frugal-test-gauth-XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	if (gfake_make_key(&f) < 0) {
		gfake_stop(&f);
		skip();
	}
	assert_int_equal(gauth_jwt_sign(f.key_pem, "kid-1", "sa@p.iam.gserviceaccount.com",
					 GAUTH_SCOPE, "https://oauth2.googleapis.com/token",
					 1700000000, &jwt, &err), 0);
	dot1 = strchr(jwt, '.');
	dot2 = strrchr(jwt, '.');
	assert_non_null(dot1);
	assert_true(dot2 > dot1);
	hdr = b64url_decode(jwt, (size_t)(dot1 - jwt), &hl);
	claims = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &cl);
	sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &sl);
	h = json_loadb((char *)hdr, hl, 0, NULL);
	c = json_loadb((char *)claims, cl, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
	assert_string_equal(json_string_value(json_object_get(h, "typ")), "JWT");
	assert_string_equal(json_string_value(json_object_get(h, "kid")), "kid-1");
	assert_string_equal(json_string_value(json_object_get(c, "iss")),
			    "sa@p.iam.gserviceaccount.com");
	assert_string_equal(json_string_value(json_object_get(c, "scope")), GAUTH_SCOPE);
	assert_string_equal(json_string_value(json_object_get(c, "aud")),
			    "https://oauth2.googleapis.com/token");
	assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1700000000);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1700003600);
	assert_int_equal(sl, 256);

	/* The signature verifies with the public half, over "header.claims". */
	bio = BIO_new_file(f.pub_file, "r");
	pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	assert_non_null(pub);
	md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, sl, (unsigned char *)jwt,
					  (size_t)(dot2 - jwt)), 1);
	/* One bit changed in the claims: no longer. */
	jwt[dot1 - jwt + 3] ^= 1;
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub);
	assert_int_not_equal(EVP_DigestVerify(md, sig, sl, (unsigned char *)jwt,
					      (size_t)(dot2 - jwt)), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	BIO_free(bio);
	json_decref(h);
	json_decref(c);
	free(hdr);
	free(claims);
	free(sig);
	free(jwt);
	gfake_stop(&f);
}

static void test_jwt_bad_keys(void **state)
{
	struct error err = ERROR_INIT;
	char *jwt = NULL, dir[64], *cmd, *path;
	struct strbuf ec = STRBUF_INIT;

	(void)state;
	assert_int_equal(gauth_jwt_sign("not a key", NULL, "i", GAUTH_SCOPE, "a", 1, &jwt, &err),
			 FRUGAL_ECRYPTO);
	assert_null(jwt);
	assert_null(strstr(err.msg, "not a key"));
	snprintf(dir, sizeof(dir), "/tmp/frugal-test-gauth-XXXXXX");
	assert_non_null(mkdtemp(dir));
	cmd = xasprintf("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
			"-out %s/ec.pem 2>/dev/null", dir);
	path = xasprintf("%s/ec.pem", dir);
	if (gfake_sh(cmd) == 0 && fs_read_file(path, 1 << 16, &ec, NULL) == 0) {
		assert_int_equal(gauth_jwt_sign(ec.buf, NULL, "i", GAUTH_SCOPE, "a", 1, &jwt, &err),
				 FRUGAL_ECRYPTO);
		assert_non_null(strstr(err.msg, "not an RSA key"));
	}
	fs_remove_tree(dir, NULL);
	strbuf_release(&ec);
	free(cmd);
	free(path);
}

/* ---- key files ------------------------------------------------------------------------ */

/* gauth_new on a key file with this text; its result, the message in err. */
static int try_key(const char *dir, const char *text, struct error *err)
{
	char *path = xasprintf("%s/key.json", dir);
	struct gauth *a = NULL;
	int r;

	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600, 1, NULL), 0);
	r = gauth_new(path, 0, &a, err);
	gauth_free(a);
	free(path);
	return r;
}

static void test_key_file_errors(void **state)
{
	struct error err = ERROR_INIT;
	struct gauth *a = NULL;
	char dir[64];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/frugal-test-gauth-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(try_key(dir, "[1]", &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	assert_int_equal(try_key(dir, "{\"type\": \"external_account\"}", &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "field 'type'"));
	assert_int_equal(try_key(dir, "{\"type\": \"service_account\", \"client_email\": \"e\", "
				 "\"token_uri\": \"https://oauth2.googleapis.com/token\"}", &err),
			 FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "field 'private_key' is missing"));
	assert_non_null(strstr(err.msg, "key.json"));
	/* A token URI that would send the assertion in clear: refused. */
	assert_int_equal(try_key(dir, "{\"type\": \"service_account\", \"client_email\": \"e\", "
				 "\"private_key\": \"SECRET-KEY-TEXT\", "
				 "\"token_uri\": \"http://example.com/token\"}", &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "token_uri"));
	assert_null(strstr(err.msg, "SECRET-KEY-TEXT"));
	assert_int_equal(try_key(dir, "{\"type\": \"authorized_user\", \"client_id\": \"c\", "
				 "\"client_secret\": \"SECRET-CS\"}", &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "refresh_token"));
	assert_null(strstr(err.msg, "SECRET-CS"));
	assert_int_equal(gauth_new("/nonexistent/key.json", 0, &a, &err), FRUGAL_ENOTFOUND);
	assert_null(a);

	/* No credentials anywhere (and no metadata server allowed). */
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	setenv("CLOUDSDK_CONFIG", dir, 1);
	assert_int_equal(gauth_new(NULL, 0, &a, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "GOOGLE_APPLICATION_CREDENTIALS"));
	/* gcloud's application-default file is found there. */
	{
		char *adc = xasprintf("%s/application_default_credentials.json", dir);
		const char *doc = "{\"type\": \"authorized_user\", \"client_id\": \"c\", "
				  "\"client_secret\": \"s\", \"refresh_token\": \"r\", "
				  "\"quota_project_id\": \"qp\"}";
		assert_int_equal(fs_write_atomic(adc, doc, strlen(doc), 0600, 1, NULL), 0);
		assert_int_equal(gauth_new(NULL, 0, &a, &err), 0);
		assert_int_equal(gauth_kind(a), GAUTH_AUTHORIZED_USER);
		assert_string_equal(gauth_project(a), "qp");
		assert_string_equal(gauth_source(a), adc);
		gauth_free(a);
		free(adc);
	}
	unsetenv("CLOUDSDK_CONFIG");
	fs_remove_tree(dir, NULL);
}

/* ---- against the fake ---------------------------------------------------------------- */

static void test_exchange_and_cache(void **state)
{
	struct gfake f;
	struct error err = ERROR_INIT;
	struct gauth *a = NULL;
	const char *t1, *t2;
	char *first;

	(void)state;
	if (gfake_start(&f, "--token-ttl 2") < 0) {
		gfake_stop(&f);
		skip();
	}
	assert_int_equal(gauth_new(f.key_file, 0, &a, &err), 0);
	assert_int_equal(gauth_kind(a), GAUTH_SERVICE_ACCOUNT);
	assert_string_equal(gauth_project(a), "frugal-test");
	assert_int_equal(gauth_token(a, &t1, &err), 0);
	assert_true(!strncmp(t1, "ya29.fake-", 10));
	first = xstrdup(t1);
	/* Cached: the same token, no second exchange. */
	assert_int_equal(gauth_token(a, &t2, &err), 0);
	assert_string_equal(t2, first);
	assert_int_equal(gfake_counter(&f, "token_exchanges"), 1);
	/* A 2 s token is renewed after half its life. */
	time_sleep_ms(1100);
	assert_int_equal(gauth_token(a, &t2, &err), 0);
	assert_string_not_equal(t2, first);
	assert_int_equal(gfake_counter(&f, "token_exchanges"), 2);
	/* After a 401 the caller invalidates: a fresh one. */
	gauth_invalidate(a);
	assert_int_equal(gauth_token(a, &t2, &err), 0);
	assert_int_equal(gfake_counter(&f, "token_exchanges"), 3);
	free(first);
	gauth_free(a);
	gfake_stop(&f);
}

static void test_exchange_refused(void **state)
{
	struct gfake f;
	struct error err = ERROR_INIT;
	struct gauth *a = NULL;
	const char *t;
	char *pem_line;

	(void)state;
	if (gfake_start(&f, NULL) < 0) {
		gfake_stop(&f);
		skip();
	}
	/* Another key signs: the fake's public key says no. */
	free(f.key_pem);
	f.key_pem = NULL;
	gfake_make_key(&f);
	gfake_write_key_file(&f);
	assert_int_equal(gauth_new(f.key_file, 0, &a, &err), 0);
	assert_int_equal(gauth_token(a, &t, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(err.msg, "invalid_grant"));
	assert_non_null(strstr(err.msg, "Invalid JWT Signature"));
	/* Nothing of the key in the message. */
	pem_line = xstrndup(strchr(f.key_pem, '\n') + 1, 40);
	assert_null(strstr(err.msg, pem_line));
	assert_int_equal(gfake_counter(&f, "token_exchanges"), 0);
	free(pem_line);
	gauth_free(a);
	gfake_stop(&f);
}

static void test_authorized_user(void **state)
{
	struct gfake f;
	struct error err = ERROR_INIT;
	struct gauth *a = NULL;
	char *path, *doc;
	const char *t;

	(void)state;
	if (gfake_start(&f, "--refresh-token rt-1 --client-secret cs-1") < 0) {
		gfake_stop(&f);
		skip();
	}
	path = xasprintf("%s/adc.json", f.dir);
	doc = xasprintf("{\"type\": \"authorized_user\", \"client_id\": \"c\", \"client_secret\": "
			"\"cs-1\", \"refresh_token\": \"rt-1\", \"token_uri\": \"%s/token\"}", f.url);
	assert_int_equal(fs_write_atomic(path, doc, strlen(doc), 0600, 1, NULL), 0);
	assert_int_equal(gauth_new(path, 0, &a, &err), 0);
	assert_int_equal(gauth_token(a, &t, &err), 0);
	assert_true(!strncmp(t, "ya29.fake-", 10));
	gauth_free(a);
	free(doc);
	doc = xasprintf("{\"type\": \"authorized_user\", \"client_id\": \"c\", \"client_secret\": "
			"\"cs-1\", \"refresh_token\": \"WRONG-rt\", \"token_uri\": \"%s/token\"}",
			f.url);
	assert_int_equal(fs_write_atomic(path, doc, strlen(doc), 0600, 1, NULL), 0);
	assert_int_equal(gauth_new(path, 0, &a, &err), 0);
	assert_int_equal(gauth_token(a, &t, &err), FRUGAL_EPROVIDER);
	assert_null(strstr(err.msg, "WRONG-rt"));
	gauth_free(a);
	free(doc);
	free(path);
	gfake_stop(&f);
}

static void test_metadata_server(void **state)
{
	struct gfake f;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct gauth *a = NULL;
	char *url, *etag = NULL, *z;
	const char *t;

	(void)state;
	if (gfake_start(&f, NULL) < 0) {
		gfake_stop(&f);
		skip();
	}
	assert_int_equal(gfake_admin(&f, "POST", "/_fake/vm?zone=us-central1-a&name=vm-1",
				     "[{\"key\": \"k\", \"value\": \"v\"}]", NULL), 200);
	url = xasprintf("%s/vm/us-central1-a/vm-1/computeMetadata/v1", f.url);
	setenv(GCEMETA_URL_ENV, url, 1);
	assert_true(gcemeta_overridden());
	assert_true(gcemeta_available());
	assert_int_equal(gcemeta_get("instance/zone", 0, &sb, NULL, &err), 0);
	z = gcemeta_basename(sb.buf);
	assert_string_equal(z, "us-central1-a");
	strbuf_reset(&sb);
	assert_int_equal(gcemeta_get("instance/attributes/k", 0, &sb, NULL, &err), 0);
	assert_string_equal(sb.buf, "v");
	strbuf_reset(&sb);
	assert_int_equal(gcemeta_get("instance/attributes/none", 0, &sb, NULL, &err),
			 FRUGAL_ENOTFOUND);
	assert_int_equal(gcemeta_get("instance/preempted", 0, &sb, &etag, &err), 0);
	assert_string_equal(sb.buf, "FALSE");
	assert_non_null(etag);
	/* With no key file the VM's token comes from the metadata server. */
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	setenv("CLOUDSDK_CONFIG", f.dir, 1);
	assert_int_equal(gauth_new(NULL, 1, &a, &err), 0);
	assert_int_equal(gauth_kind(a), GAUTH_METADATA);
	assert_int_equal(gauth_token(a, &t, &err), 0);
	assert_true(!strncmp(t, "ya29.fake-", 10));
	assert_int_equal(gfake_counter(&f, "metadata_tokens"), 1);
	gauth_free(a);
	unsetenv("CLOUDSDK_CONFIG");
	unsetenv(GCEMETA_URL_ENV);
	assert_false(gcemeta_overridden());
	strbuf_release(&sb);
	free(etag);
	free(z);
	free(url);
	gfake_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64url),
		cmocka_unit_test(test_jwt_sign_verify),
		cmocka_unit_test(test_jwt_bad_keys),
		cmocka_unit_test(test_key_file_errors),
		cmocka_unit_test(test_exchange_and_cache),
		cmocka_unit_test(test_exchange_refused),
		cmocka_unit_test(test_authorized_user),
		cmocka_unit_test(test_metadata_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
