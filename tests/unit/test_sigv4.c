/*
 * Unit tests for util/sigv4 against the AWS Signature Version 4 test
 * suites in ../shared/specs (read where they are, never copied):
 *
 *   botocore/aws4_testsuite/              every case: .creq, .sts, .authz
 *   aws-c-auth/aws-signing-test-suite/v4/ every case, header signing and
 *                                         query signing (presigned URLs):
 *                                         canonical request, string to
 *                                         sign, signature
 *
 * A missing suite is skipped with a message. Plus hand-written checks of
 * the pieces the suites do not reach (S3 paths, dates, file hashes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "backend/aws/sigv4.h"

#define MAX_HEADERS 32
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
/* botocore's runner gives its get-vanilla-with-session-token case this
 * token (the aws-c-auth context.json of the same case lists it too). */
#define BOTOCORE_TOKEN "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"

/* A request.txt / .req parsed: "METHOD PATH?QUERY HTTP/1.1", headers
 * (folded lines joined with '\n'), a blank line, the body. */
struct req {
	char *method, *path, *query;
	struct sigv4_header headers[MAX_HEADERS];
	char *names[MAX_HEADERS], *values[MAX_HEADERS];
	size_t n;
	char *body;
	size_t body_len;
};

static void req_release(struct req *r)
{
	size_t i;

	free(r->method);
	free(r->path);
	free(r->query);
	for (i = 0; i < r->n; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
	free(r->body);
}

static void parse_req(const char *text, struct req *r)
{
	const char *p = text, *eol, *sp1, *sp2, *q;
	struct strbuf v = STRBUF_INIT;

	memset(r, 0, sizeof(*r));
	eol = strchr(p, '\n');
	if (!eol)
		eol = p + strlen(p);
	sp1 = memchr(p, ' ', (size_t)(eol - p));
	assert_non_null(sp1);
	/* The path may hold spaces: the protocol is after the last one. */
	for (sp2 = eol; sp2 > sp1 && *sp2 != ' '; sp2--)
		;
	r->method = xstrndup(p, (size_t)(sp1 - p));
	q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	r->path = xstrndup(sp1 + 1, (size_t)((q ? q : sp2) - sp1 - 1));
	r->query = q ? xstrndup(q + 1, (size_t)(sp2 - q - 1)) : NULL;
	p = *eol ? eol + 1 : eol;
	while (*p && *p != '\n') {
		const char *colon;

		eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if ((*p == ' ' || *p == '\t') && r->n) {
			/* A folded line continues the previous header. */
			strbuf_adds(&v, r->values[r->n - 1]);
			strbuf_addch(&v, '\n');
			strbuf_add(&v, p, (size_t)(eol - p));
			free(r->values[r->n - 1]);
			r->values[r->n - 1] = strbuf_detach(&v, NULL);
		} else {
			colon = memchr(p, ':', (size_t)(eol - p));
			assert_non_null(colon);
			assert_true(r->n < MAX_HEADERS);
			r->names[r->n] = xstrndup(p, (size_t)(colon - p));
			r->values[r->n] = xstrndup(colon + 1, (size_t)(eol - colon - 1));
			r->n++;
		}
		p = *eol ? eol + 1 : eol;
	}
	if (*p == '\n')
		p++;
	r->body_len = strlen(p);
	r->body = xstrdup(p);
	for (size_t i = 0; i < r->n; i++) {
		r->headers[i].name = r->names[i];
		r->headers[i].value = r->values[i];
	}
}

/* The file dir/name, or NULL when it does not exist. Caller frees. */
static char *slurp(const char *dir, const char *name)
{
	char *path = fs_path_join(dir, name);
	struct strbuf sb = STRBUF_INIT;
	char *text = NULL;

	if (fs_read_file(path, 1 << 20, &sb, NULL) == 0)
		text = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	free(path);
	return text;
}

/* Compare, naming the case and the part on failure. */
static int same(const char *name, const char *what, const char *want, const char *got)
{
	if (!strcmp(want, got))
		return 1;
	print_error("%s: %s differs\n--- want\n%s\n--- got\n%s\n", name, what, want, got);
	return 0;
}

static char *suite_dir(const char *rel)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *dir = xasprintf("%s/%s", shared ? shared : "../shared", rel);

	if (!fs_is_dir(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* ---- aws-c-auth: context.json + request.txt + header-* and query-* ---------- */

static int run_crt_mode(const char *name, const char *dir, const struct req *rq,
			json_t *ctx, int presign)
{
	json_t *c = json_object_get(ctx, "credentials");
	struct sigv4_credentials cr = {
		json_string_value(json_object_get(c, "access_key_id")),
		json_string_value(json_object_get(c, "secret_access_key")),
		json_string_value(json_object_get(c, "token")),
	};
	struct sigv4_params sp = SIGV4_PARAMS_INIT;
	struct sigv4_request sr = { rq->method, rq->path, rq->query, rq->headers, rq->n, NULL };
	struct sigv4_result res = SIGV4_RESULT_INIT;
	struct error err = ERROR_INIT;
	const char *ts = json_string_value(json_object_get(ctx, "timestamp"));
	const char *pre = presign ? "query" : "header";
	char hash[SIGV4_HASH_HEX], *want_creq, *want_sts, *want_sig, file[64];
	int ok = 1, i, o = 0;

	sp.region = json_string_value(json_object_get(ctx, "region"));
	sp.service = json_string_value(json_object_get(ctx, "service"));
	/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
	for (i = 0; ts[i] && o < 16; i++)
		if (ts[i] != '-' && ts[i] != ':')
			sp.amz_date[o++] = ts[i];
	sp.amz_date[o] = '\0';
	sp.normalize_path = json_is_true(json_object_get(ctx, "normalize"));
	sp.omit_session_token = json_is_true(json_object_get(ctx, "omit_session_token"));
	sp.content_sha256_header = !presign && json_is_true(json_object_get(ctx, "sign_body"));
	sp.presign = presign;
	sp.expires = json_integer_value(json_object_get(ctx, "expiration_in_seconds"));
	sigv4_sha256_hex(rq->body, rq->body_len, hash);
	sr.payload_hash = hash;
	assert_int_equal(sigv4_sign(&cr, &sp, &sr, &res, &err), 0);

	snprintf(file, sizeof(file), "%s-canonical-request.txt", pre);
	want_creq = slurp(dir, file);
	snprintf(file, sizeof(file), "%s-string-to-sign.txt", pre);
	want_sts = slurp(dir, file);
	snprintf(file, sizeof(file), "%s-signature.txt", pre);
	want_sig = slurp(dir, file);
	assert_non_null(want_creq);
	assert_non_null(want_sts);
	assert_non_null(want_sig);
	ok &= same(name, presign ? "query canonical request" : "canonical request", want_creq,
		   res.canonical_request);
	ok &= same(name, presign ? "query string to sign" : "string to sign", want_sts,
		   res.string_to_sign);
	ok &= same(name, presign ? "query signature" : "signature", want_sig, res.signature);
	if (presign) {
		/* The signature travels in the query; so does an omitted token. */
		char *sig = xasprintf("X-Amz-Signature=%s", want_sig);
		ok &= strstr(res.query, sig) != NULL;
		free(sig);
	} else {
		char *signed_req = slurp(dir, "header-signed-request.txt");
		char *line = xasprintf("Authorization:%s\n", res.authorization);
		size_t k;
		int tok = 0;

		if (!signed_req || !strstr(signed_req, line)) {
			print_error("%s: signed request lacks %s", name, line);
			ok = 0;
		}
		/* A session token travels in a header, signed or not. */
		for (k = 0; res.headers[k]; k++)
			tok += !strncmp(res.headers[k], "X-Amz-Security-Token: ", 22);
		ok &= tok == (cr.session_token ? 1 : 0);
		free(line);
		free(signed_req);
	}
	free(want_creq);
	free(want_sts);
	free(want_sig);
	sigv4_result_release(&res);
	return ok;
}

static void test_crt_suite(void **state)
{
	char *root = suite_dir("specs/aws-c-auth/aws-signing-test-suite/v4");
	char **names = NULL;
	size_t n = 0, i;
	int cases = 0, failed = 0;

	(void)state;
	if (!root) {
		print_message("skipped: ../shared/specs/aws-c-auth/aws-signing-test-suite/v4 not"
			      " available\n");
		skip();
	}
	assert_int_equal(fs_list_names(root, &names, &n, NULL), 0);
	for (i = 0; i < n; i++) {
		char *dir = fs_path_join(root, names[i]);
		char *text = slurp(dir, "request.txt"), *ctx_text = slurp(dir, "context.json");
		json_t *ctx;
		struct req rq;

		if (!text || !ctx_text) {
			free(text);
			free(ctx_text);
			free(dir);
			continue;
		}
		ctx = json_loads(ctx_text, 0, NULL);
		assert_non_null(ctx);
		parse_req(text, &rq);
		if (!run_crt_mode(names[i], dir, &rq, ctx, 0))
			failed++;
		if (!run_crt_mode(names[i], dir, &rq, ctx, 1))
			failed++;
		cases++;
		req_release(&rq);
		json_decref(ctx);
		free(text);
		free(ctx_text);
		free(dir);
	}
	fs_free_names(names, n);
	free(root);
	print_message("aws-c-auth v4 suite: %d cases, header and query signing, %d failure(s)\n",
		      cases, failed);
	assert_true(cases >= 30);
	assert_int_equal(failed, 0);
}

/* ---- botocore: NAME/NAME.{req,creq,sts,authz}, nested one level -------------- */

static int run_botocore_case(const char *dir, const char *name)
{
	char file[256];
	char *text, *want_creq, *want_sts, *want_authz;
	struct sigv4_credentials cr = { "AKIDEXAMPLE", SECRET, NULL };
	struct sigv4_params sp = SIGV4_PARAMS_INIT;
	struct sigv4_result res = SIGV4_RESULT_INIT;
	struct error err = ERROR_INIT;
	char hash[SIGV4_HASH_HEX];
	struct req rq;
	int ok = 1;

	snprintf(file, sizeof(file), "%s.req", name);
	text = slurp(dir, file);
	snprintf(file, sizeof(file), "%s.creq", name);
	want_creq = slurp(dir, file);
	snprintf(file, sizeof(file), "%s.sts", name);
	want_sts = slurp(dir, file);
	snprintf(file, sizeof(file), "%s.authz", name);
	want_authz = slurp(dir, file);
	if (!text || !want_creq || !want_sts || !want_authz) {
		ok = -1;	/* not a case */
		goto out;
	}
	parse_req(text, &rq);
	if (strstr(name, "session-token"))
		cr.session_token = BOTOCORE_TOKEN;
	sp.region = "us-east-1";
	sp.service = "service";
	snprintf(sp.amz_date, sizeof(sp.amz_date), "20150830T123600Z");
	sigv4_sha256_hex(rq.body, rq.body_len, hash);
	{
		struct sigv4_request sr = { rq.method, rq.path, rq.query, rq.headers, rq.n, hash };
		assert_int_equal(sigv4_sign(&cr, &sp, &sr, &res, &err), 0);
	}
	ok &= same(name, "canonical request", want_creq, res.canonical_request);
	ok &= same(name, "string to sign", want_sts, res.string_to_sign);
	ok &= same(name, "Authorization", want_authz, res.authorization);
	sigv4_result_release(&res);
	req_release(&rq);
out:
	free(text);
	free(want_creq);
	free(want_sts);
	free(want_authz);
	return ok;
}

static void botocore_walk(const char *dir, int depth, int *cases, int *failed)
{
	char **names = NULL;
	size_t n = 0, i;

	if (fs_list_names(dir, &names, &n, NULL) < 0)
		return;
	for (i = 0; i < n; i++) {
		char *sub = fs_path_join(dir, names[i]);
		int r;

		if (!fs_is_dir(sub)) {
			free(sub);
			continue;
		}
		r = run_botocore_case(sub, names[i]);
		if (r < 0 && depth < 2)
			botocore_walk(sub, depth + 1, cases, failed);
		else if (r >= 0) {
			(*cases)++;
			if (!r)
				(*failed)++;
		}
		free(sub);
	}
	fs_free_names(names, n);
}

static void test_botocore_suite(void **state)
{
	char *root = suite_dir("specs/botocore/aws4_testsuite");
	int cases = 0, failed = 0;

	(void)state;
	if (!root) {
		print_message("skipped: ../shared/specs/botocore/aws4_testsuite not available\n");
		skip();
	}
	botocore_walk(root, 0, &cases, &failed);
	free(root);
	print_message("botocore aws4_testsuite: %d cases, %d failure(s)\n", cases, failed);
	assert_true(cases >= 30);
	assert_int_equal(failed, 0);
}

/* ---- the pieces the suites do not reach ----------------------------------------- */

static void test_s3_style(void **state)
{
	struct sigv4_credentials cr = { "AKIDEXAMPLE", SECRET, "tok/en+=" };
	struct sigv4_params sp = SIGV4_PARAMS_INIT;
	struct sigv4_header h[] = { { "Host", "127.0.0.1:9000" } };
	struct sigv4_request rq = { "PUT", "/bucket/a//b/../c d.txt", NULL, h, 1,
				    SIGV4_UNSIGNED_PAYLOAD };
	struct sigv4_result res = SIGV4_RESULT_INIT;
	size_t i;
	int auth = 0, token = 0, sha = 0;

	(void)state;
	sp.region = "us-east-1";
	sp.service = "s3";
	sp.normalize_path = 0;
	sp.content_sha256_header = 1;
	sigv4_amz_date(1440938160, sp.amz_date);
	assert_string_equal(sp.amz_date, "20150830T123600Z");
	assert_int_equal(sigv4_sign(&cr, &sp, &rq, &res, NULL), 0);
	/* S3 keys are not normalized, and are encoded once. */
	assert_non_null(strstr(res.canonical_request, "\n/bucket/a//b/../c%20d.txt\n"));
	assert_string_equal(res.signed_headers, "host;x-amz-content-sha256;x-amz-date;"
			    "x-amz-security-token");
	for (i = 0; res.headers[i]; i++) {
		auth += !strncmp(res.headers[i], "Authorization: AWS4-HMAC-SHA256 ", 32);
		token += !strcmp(res.headers[i], "X-Amz-Security-Token: tok/en+=");
		sha += !strcmp(res.headers[i], "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD");
		/* The secret never appears in what goes on the wire. */
		assert_null(strstr(res.headers[i], SECRET));
	}
	assert_int_equal(auth + token + sha, 3);
	sigv4_result_release(&res);

	/* A presigned GET: the token is encoded in the query. */
	sp.presign = 1;
	sp.expires = 3600;
	sp.content_sha256_header = 0;
	rq.method = "GET";
	assert_int_equal(sigv4_sign(&cr, &sp, &rq, &res, NULL), 0);
	assert_non_null(strstr(res.query, "X-Amz-Security-Token=tok%2Fen%2B%3D"));
	assert_non_null(strstr(res.query, "X-Amz-Expires=3600"));
	assert_non_null(strstr(res.query, "&X-Amz-Signature="));
	assert_null(res.headers);
	sigv4_result_release(&res);

	/* No Host header, no signature. */
	rq.n_headers = 0;
	assert_int_equal(sigv4_sign(&cr, &sp, &rq, &res, NULL), FRUGAL_EINVAL);
}

static void test_encode_and_hash(void **state)
{
	char hex[SIGV4_HASH_HEX], *e;
	char path[] = "/tmp/frugal-test-sigv4-XXXXXX";
	int fd;

	(void)state;
	e = sigv4_uri_encode("a b/c~d+é", strlen("a b/c~d+é"), 1);
	assert_string_equal(e, "a%20b/c~d%2B%C3%A9");
	free(e);
	e = sigv4_uri_encode("a/b", 3, 0);
	assert_string_equal(e, "a%2Fb");
	free(e);
	sigv4_sha256_hex("", 0, hex);
	assert_string_equal(hex, SIGV4_EMPTY_SHA256);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "Param1=value1", 13), 13);
	close(fd);
	assert_int_equal(sigv4_sha256_file_hex(path, hex, NULL), 0);
	assert_string_equal(hex, "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
	unlink(path);
	assert_int_equal(sigv4_sha256_file_hex(path, hex, NULL), FRUGAL_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_botocore_suite),
		cmocka_unit_test(test_crt_suite),
		cmocka_unit_test(test_s3_style),
		cmocka_unit_test(test_encode_and_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
