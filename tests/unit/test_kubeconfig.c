/*
 * Unit tests for spec/kubeconfig: contexts, clusters and users resolved
 * the way kubectl does, inline *-data decoded, relative paths, token and
 * tokenFile, exec credential plugins, the in-cluster service account,
 * KUBECONFIG, base64, and the errors (which never quote a token or a key).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "backend/kubernetes/kubeconfig.h"

#define SECRET_TOKEN "s3cr3t-t0ken-value"

static const char full[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: dev\n"
	"clusters:\n"
	"- name: devc\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: Q0EtUEVN\n"	/* "CA-PEM" */
	"    certificate-authority: ignored-because-data.crt\n"
	"- name: prodc\n"
	"  cluster:\n"
	"    server: https://prod.example:443/k8s/clusters/c-1\n"
	"    certificate-authority: certs/ca.crt\n"
	"    insecure-skip-tls-verify: true\n"
	"users:\n"
	"- name: devu\n"
	"  user:\n"
	"    token: " SECRET_TOKEN "\n"
	"    tokenFile: /nonexistent/token\n"
	"- name: produ\n"
	"  user:\n"
	"    client-certificate: certs/me.crt\n"
	"    client-key: /abs/me.key\n"
	"- name: datau\n"
	"  user:\n"
	"    client-certificate-data: Q0VSVA==\n"	/* "CERT" */
	"    client-key-data: S0VZ\n"			/* "KEY" */
	"contexts:\n"
	"- name: dev\n"
	"  context: {cluster: devc, user: devu, namespace: ml}\n"
	"- name: prod\n"
	"  context: {cluster: prodc, user: produ}\n"
	"- name: data\n"
	"  context: {cluster: devc, user: datau}\n"
	"- name: nouser\n"
	"  context: {cluster: devc}\n";

static int parse(const char *text, const char *context, struct kubeconfig *k, struct error *err)
{
	return kubeconfig_parse(text, strlen(text), "/home/u/.kube/config", context, k, err);
}

static void test_current_context(void **state)
{
	struct kubeconfig k = KUBECONFIG_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(parse(full, NULL, &k, &err), 0);
	assert_string_equal(k.context, "dev");
	assert_string_equal(k.path, "/home/u/.kube/config");
	assert_string_equal(k.server, "https://10.0.0.1:6443");
	assert_string_equal(k.namespace, "ml");
	assert_false(k.insecure);
	/* Inline data wins over the file beside it. */
	assert_non_null(k.ca_data.data);
	assert_int_equal(k.ca_data.len, 6);
	assert_memory_equal(k.ca_data.data, "CA-PEM", 6);
	assert_null(k.ca_file);
	/* token wins over tokenFile (which does not exist). */
	assert_string_equal(k.token, SECRET_TOKEN);
	assert_null(k.cert_file);
	assert_null(k.key_data.data);
	kubeconfig_release(&k);
	assert_null(k.token);
}

static void test_named_context_files(void **state)
{
	struct kubeconfig k = KUBECONFIG_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(parse(full, "prod", &k, &err), 0);
	assert_string_equal(k.server, "https://prod.example:443/k8s/clusters/c-1");
	assert_null(k.namespace);
	assert_true(k.insecure);
	/* Relative paths are relative to the kubeconfig's directory. */
	assert_string_equal(k.ca_file, "/home/u/.kube/certs/ca.crt");
	assert_string_equal(k.cert_file, "/home/u/.kube/certs/me.crt");
	assert_string_equal(k.key_file, "/abs/me.key");
	assert_null(k.token);
	kubeconfig_release(&k);

	assert_int_equal(parse(full, "data", &k, &err), 0);
	assert_int_equal(k.cert_data.len, 4);
	assert_memory_equal(k.cert_data.data, "CERT", 4);
	assert_int_equal(k.key_data.len, 3);
	assert_memory_equal(k.key_data.data, "KEY", 3);
	kubeconfig_release(&k);

	/* A context without a user: anonymous (the server decides). */
	assert_int_equal(parse(full, "nouser", &k, &err), 0);
	assert_null(k.token);
	assert_null(k.cert_file);
	kubeconfig_release(&k);
}

/* parse must fail with code and every NULL-terminated substring in the
 * message, and never show the token. */
static void fails(const char *text, const char *context, int code, ...)
{
	struct kubeconfig k = KUBECONFIG_INIT;
	struct error err = ERROR_INIT;
	const char *want;
	va_list ap;

	if (parse(text, context, &k, &err) != code)
		fail_msg("expected %d for context %s, got message: %s", code,
			 context ? context : "(current)", error_msg(&err));
	va_start(ap, code);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(error_msg(&err), want))
			fail_msg("missing '%s' in: %s", want, error_msg(&err));
	va_end(ap);
	assert_null(strstr(error_msg(&err), SECRET_TOKEN));
	assert_null(k.server);
}

static void test_errors(void **state)
{
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	      "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
	      "contexts: [{name: a, context: {cluster: c, user: u}}]\n", NULL, FRUGAL_ENOTSUP,
	      "'auth-provider'", "exec plugin", NULL);
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	      "users: [{name: u, user: {exec: {args: [x]}}}]\n"
	      "contexts: [{name: a, context: {cluster: c, user: u}}]\n", NULL, FRUGAL_EINVAL,
	      "exec has no command", NULL);
	fails(full, "staging", FRUGAL_EINVAL, "context 'staging' not found",
	      "contexts: dev, prod, data, nouser", NULL);
	fails("clusters: []\ncontexts: [{name: a, context: {cluster: a}}]\n", NULL, FRUGAL_EINVAL,
	      "no current-context", "backends.kubernetes.context", "a", NULL);
	fails("current-context: a\ncontexts: [{name: a, context: {cluster: gone}}]\n", NULL,
	      FRUGAL_EINVAL, "cluster 'gone'", NULL);
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	      "contexts: [{name: a, context: {cluster: c, user: who}}]\n", NULL, FRUGAL_EINVAL,
	      "user 'who'", NULL);
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {certificate-authority: x}}]\n"
	      "contexts: [{name: a, context: {cluster: c}}]\n", NULL, FRUGAL_EINVAL,
	      "has no server", NULL);
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {server: 'ftp://x'}}]\n"
	      "contexts: [{name: a, context: {cluster: c}}]\n", NULL, FRUGAL_EINVAL,
	      "https://", NULL);
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {server: 'https://x', certificate-authority-data: '@@'}}]\n"
	      "contexts: [{name: a, context: {cluster: c}}]\n", NULL, FRUGAL_EINVAL,
	      "certificate-authority-data is not valid base64", NULL);
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
	      "users: [{name: u, user: {client-certificate: c.crt}}]\n"
	      "contexts: [{name: a, context: {cluster: c, user: u}}]\n", NULL, FRUGAL_EINVAL,
	      "without its key", NULL);
	fails("- just\n- a list\n", NULL, FRUGAL_EINVAL, "not a kubeconfig", NULL);
	fails("a: [unclosed\n", NULL, FRUGAL_EINVAL, "not valid YAML", NULL);
	fails("current-context: a\n"
	      "clusters: [{name: c, cluster: {server: 'https://x', insecure-skip-tls-verify: maybe}}]\n"
	      "contexts: [{name: a, context: {cluster: c}}]\n", NULL, FRUGAL_EINVAL,
	      "insecure-skip-tls-verify", NULL);
}

static void test_exec(void **state)
{
	struct kubeconfig k = KUBECONFIG_INIT;
	struct error err = ERROR_INIT;
	static const char text[] =
		"current-context: eks\n"
		"clusters: [{name: c, cluster: {server: 'https://eks.example'}}]\n"
		"users:\n"
		"- name: u\n"
		"  user:\n"
		"    exec:\n"
		"      apiVersion: client.authentication.k8s.io/v1beta1\n"
		"      command: aws\n"
		"      args: [--region, eu-west-1, eks, get-token, --cluster-name, ml]\n"
		"      env: [{name: AWS_PROFILE, value: work}]\n"
		"      interactiveMode: Never\n"
		"- name: local\n"
		"  user:\n"
		"    exec: {command: ./bin/get-token}\n"
		"contexts:\n"
		"- {name: eks, context: {cluster: c, user: u}}\n"
		"- {name: local, context: {cluster: c, user: local}}\n";

	assert_int_equal(parse(text, NULL, &k, &err), 0);
	assert_non_null(k.exec);
	assert_null(k.token);
	assert_string_equal(k.exec->command, "aws");	/* looked up on PATH */
	assert_string_equal(k.exec->api_version, "client.authentication.k8s.io/v1beta1");
	assert_string_equal(k.exec->args[0], "--region");
	assert_string_equal(k.exec->args[5], "ml");
	assert_null(k.exec->args[6]);
	assert_string_equal(k.exec->env[0], "AWS_PROFILE=work");
	assert_null(k.exec->env[1]);
	kubeconfig_release(&k);

	assert_int_equal(parse(text, "local", &k, &err), 0);
	/* A path: relative to the kubeconfig; the default apiVersion. */
	assert_string_equal(k.exec->command, "/home/u/.kube/bin/get-token");
	assert_string_equal(k.exec->api_version, "client.authentication.k8s.io/v1");
	assert_null(k.exec->args[0]);
	kubeconfig_release(&k);
}

/* A fresh temporary directory. Caller frees. */
static char *tmpdir(void)
{
	char *d = xstrdup("/tmp/frugal-test-kubeconfig.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = fs_path_join(dir, name);

	assert_int_equal(fs_write_atomic(p, text, strlen(text), 0600, 1, NULL), 0);
	free(p);
}

static void test_token_file_and_load(void **state)
{
	struct kubeconfig k = KUBECONFIG_INIT;
	struct error err = ERROR_INIT;
	char *dir = tmpdir(), *cfg = fs_path_join(dir, "config"), *missing;

	write_file(dir, "token", SECRET_TOKEN "\n");
	write_file(dir, "config",
		   "current-context: a\n"
		   "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\n"
		   "users: [{name: u, user: {tokenFile: token}}]\n"
		   "contexts: [{name: a, context: {cluster: c, user: u}}]\n");
	assert_int_equal(kubeconfig_load(cfg, NULL, &k, &err), 0);
	/* Read relative to the file, trailing newline dropped. */
	assert_string_equal(k.token, SECRET_TOKEN);
	assert_string_equal(k.server, "http://127.0.0.1:1");
	kubeconfig_release(&k);

	/* A tokenFile that is not there. */
	write_file(dir, "config2",
		   "current-context: a\n"
		   "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
		   "users: [{name: u, user: {tokenFile: nope}}]\n"
		   "contexts: [{name: a, context: {cluster: c, user: u}}]\n");
	free(cfg);
	cfg = fs_path_join(dir, "config2");
	assert_int_equal(kubeconfig_load(cfg, NULL, &k, &err), FRUGAL_EIO);
	assert_non_null(strstr(error_msg(&err), "tokenFile"));

	missing = fs_path_join(dir, "absent");
	assert_int_equal(kubeconfig_load(missing, NULL, &k, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(error_msg(&err), "does not exist"));

	assert_int_equal(fs_remove_tree(dir, NULL), 0);
	free(missing);
	free(cfg);
	free(dir);
}

static void test_default_path(void **state)
{
	char *dir = tmpdir(), *two = fs_path_join(dir, "two"), *env, *p;
	const char *old_home = getenv("HOME"), *old_kc = getenv("KUBECONFIG");
	char *save_home = old_home ? xstrdup(old_home) : NULL;
	char *save_kc = old_kc ? xstrdup(old_kc) : NULL;

	write_file(dir, "two", "x: 1\n");
	/* The first entry of KUBECONFIG that exists. */
	env = xasprintf("%s/one::%s", dir, two);
	setenv("KUBECONFIG", env, 1);
	p = kubeconfig_default_path();
	assert_string_equal(p, two);
	free(p);
	/* None exists: ~/.kube/config. */
	setenv("KUBECONFIG", "/nonexistent/a:/nonexistent/b", 1);
	setenv("HOME", "/home/someone", 1);
	p = kubeconfig_default_path();
	assert_string_equal(p, "/home/someone/.kube/config");
	free(p);
	unsetenv("KUBECONFIG");
	unsetenv("HOME");
	assert_null(kubeconfig_default_path());

	if (save_home)
		setenv("HOME", save_home, 1);
	if (save_kc)
		setenv("KUBECONFIG", save_kc, 1);
	assert_int_equal(fs_remove_tree(dir, NULL), 0);
	free(save_home);
	free(save_kc);
	free(env);
	free(two);
	free(dir);
}

static void test_in_cluster(void **state)
{
	struct kubeconfig k = KUBECONFIG_INIT;
	struct error err = ERROR_INIT;
	char *dir = tmpdir(), *ca;

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(kubeconfig_in_cluster(dir, &k, &err), FRUGAL_ENOTFOUND);
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	/* No token file: not a pod either. */
	assert_int_equal(kubeconfig_in_cluster(dir, &k, &err), FRUGAL_ENOTFOUND);
	write_file(dir, "token", SECRET_TOKEN "\n");
	write_file(dir, "ca.crt", "PEM\n");
	write_file(dir, "namespace", "team-a\n");
	assert_int_equal(kubeconfig_in_cluster(dir, &k, &err), 0);
	assert_string_equal(k.server, "https://10.96.0.1:443");
	assert_string_equal(k.token, SECRET_TOKEN);
	assert_string_equal(k.namespace, "team-a");
	ca = fs_path_join(dir, "ca.crt");
	assert_string_equal(k.ca_file, ca);
	assert_null(k.context);
	kubeconfig_release(&k);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(kubeconfig_in_cluster(dir, &k, &err), 0);
	assert_string_equal(k.server, "https://[fd00::1]:443");
	kubeconfig_release(&k);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_int_equal(fs_remove_tree(dir, NULL), 0);
	free(ca);
	free(dir);
}

static void b64(const char *in, int want_r, const char *want, size_t want_len)
{
	char *out = NULL;
	size_t len = 0;
	int r = kubeconfig_base64_decode(in, &out, &len);

	assert_int_equal(r, want_r);
	if (r == 0) {
		assert_int_equal(len, want_len);
		assert_memory_equal(out, want, want_len);
		assert_int_equal(out[len], '\0');
		free(out);
	}
}

static void test_base64(void **state)
{
	b64("", 0, "", 0);
	b64("Zg==", 0, "f", 1);
	b64("Zm8=", 0, "fo", 2);
	b64("Zm9v", 0, "foo", 3);
	b64("Zm9v\nYmFy\n", 0, "foobar", 6);
	b64("AAEC/w==", 0, "\x00\x01\x02\xff", 4);
	b64("Zm9v!", FRUGAL_EINVAL, NULL, 0);
	b64("Zg==Zg", FRUGAL_EINVAL, NULL, 0);	/* data after padding */
	b64("Zh==", FRUGAL_EINVAL, NULL, 0);	/* leftover bits not zero */
	b64("Z", FRUGAL_EINVAL, NULL, 0);	/* 6 bits: not a byte */
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_context),
		cmocka_unit_test(test_named_context_files),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_token_file_and_load),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
