/*
 * Unit tests for util/http: finding the CA bundle an https request trusts
 * when it names none (the environment first, then the usual places, and
 * an error naming them all when nothing is there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "util/http.h"

struct fixture {
	char dir[64];
	char *a, *b, *missing, *subdir;
};

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/frugal-test-http.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->a = xasprintf("%s/a.pem", fx->dir);
	fx->b = xasprintf("%s/b.pem", fx->dir);
	fx->missing = xasprintf("%s/none.pem", fx->dir);
	fx->subdir = xasprintf("%s/certs", fx->dir);
	touch(fx->a);
	touch(fx->b);
	assert_int_equal(mkdir(fx->subdir, 0700), 0);
	unsetenv("SSL_CERT_FILE");
	unsetenv("CURL_CA_BUNDLE");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	unsetenv("SSL_CERT_FILE");
	unsetenv("CURL_CA_BUNDLE");
	fs_remove_tree(fx->dir, NULL);
	free(fx->a);
	free(fx->b);
	free(fx->missing);
	free(fx->subdir);
	free(fx);
	return 0;
}

/* The first readable regular file of the list wins; directories and
 * missing files are passed over. */
static void test_first_readable_place(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->missing, fx->subdir, fx->b, fx->a, NULL };
	struct error err = ERROR_INIT;
	char *got = NULL;

	assert_int_equal(http_ca_bundle_find(paths, &got, &err), 0);
	assert_string_equal(got, fx->b);
	free(got);
}

/* SSL_CERT_FILE comes before CURL_CA_BUNDLE, both before the list. */
static void test_environment_first(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->a, NULL };
	struct error err = ERROR_INIT;
	char *got = NULL;

	setenv("CURL_CA_BUNDLE", fx->b, 1);
	assert_int_equal(http_ca_bundle_find(paths, &got, &err), 0);
	assert_string_equal(got, fx->b);
	free(got);

	setenv("SSL_CERT_FILE", fx->a, 1);
	assert_int_equal(http_ca_bundle_find(paths, &got, &err), 0);
	assert_string_equal(got, fx->a);
	free(got);

	/* Set but empty is unset. */
	setenv("SSL_CERT_FILE", "", 1);
	unsetenv("CURL_CA_BUNDLE");
	assert_int_equal(http_ca_bundle_find(paths, &got, &err), 0);
	assert_string_equal(got, fx->a);
	free(got);
}

/* A bundle the environment names but that is not there is an error, not
 * a quiet fallback to some other trust. */
static void test_environment_names_missing_file(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->a, NULL };
	struct error err = ERROR_INIT;
	char *got = NULL;

	setenv("SSL_CERT_FILE", fx->missing, 1);
	assert_int_equal(http_ca_bundle_find(paths, &got, &err), FRUGAL_ENOTFOUND);
	assert_null(got);
	assert_non_null(strstr(err.msg, fx->missing));
	assert_non_null(strstr(err.msg, "SSL_CERT_FILE"));
}

/* Nothing anywhere: the message names every place looked. */
static void test_none_found_names_places(void **state)
{
	struct fixture *fx = *state;
	const char *paths[] = { fx->missing, fx->subdir, NULL };
	struct error err = ERROR_INIT;
	char *got = NULL;

	assert_int_equal(http_ca_bundle_find(paths, &got, &err), FRUGAL_ENOTFOUND);
	assert_null(got);
	assert_non_null(strstr(err.msg, "$SSL_CERT_FILE"));
	assert_non_null(strstr(err.msg, "$CURL_CA_BUNDLE"));
	assert_non_null(strstr(err.msg, fx->missing));
	assert_non_null(strstr(err.msg, fx->subdir));
	assert_non_null(strstr(err.msg, "ca-certificates"));
}

/* The default list has the places of the distributions we run on. */
static void test_default_places(void **state)
{
	static const char *const want[] = {
		"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu */
		"/etc/pki/tls/certs/ca-bundle.crt",	/* RHEL, Amazon Linux */
		"/etc/ssl/cert.pem",			/* Alpine */
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (j = 0; http_ca_default_paths[j]; j++)
			if (!strcmp(http_ca_default_paths[j], want[i]))
				break;
		assert_non_null(http_ca_default_paths[j]);
	}
	assert_string_equal(http_ca_default_paths[0], want[0]);
}

/* An https request with no bundle anywhere fails before connecting, with
 * that message; a plain http one does not need a bundle. */
static void test_https_without_bundle_fails_clearly(void **state)
{
	struct fixture *fx = *state;
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct error err = ERROR_INIT;

	setenv("SSL_CERT_FILE", fx->missing, 1);
	rq.method = "GET";
	rq.url = "https://127.0.0.1:9/x";
	rq.timeout_ms = 2000;
	assert_int_equal(http_do(&rq, &rs, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "CA bundle"));

	rq.url = "http://127.0.0.1:9/x";
	assert_int_equal(http_do(&rq, &rs, &err), FRUGAL_ENET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_readable_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_environment_names_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_found_names_places, setup, teardown),
		cmocka_unit_test(test_default_places),
		cmocka_unit_test_setup_teardown(test_https_without_bundle_fails_clearly, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
