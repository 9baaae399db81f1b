/*
 * k8s_exec: credential plugins of kubeconfigs (see k8s_exec.h).
 */
#include "backend/kubernetes/k8s_exec.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/kubernetes/k8s_job.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_MAX (1 << 20)
#define ERR_MAX (16 << 10)

extern char **environ;

/* Free a credential, its secrets overwritten. */
void k8s_credential_release(struct k8s_credential *c)
{
	secure_free(c->token);
	secure_free(c->cert_pem);
	secure_free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

/* The plugin's environment: ours, then its env entries, then
 * KUBERNETES_EXEC_INFO (a later entry of a name wins; caller frees the
 * array and *ret_info). */
static char **plugin_env(const struct kubeconfig_exec *e, char **ret_info)
{
	size_t n = 0, k = 0, i, j;
	char **env;

	while (environ[n])
		n++;
	while (e->env && e->env[k])
		k++;
	env = xcalloc(n + k + 2, sizeof(*env));
	*ret_info = xasprintf("KUBERNETES_EXEC_INFO={\"kind\":\"ExecCredential\","
			      "\"apiVersion\":\"%s\",\"spec\":{\"interactive\":false}}",
			      e->api_version);
	for (i = 0, j = 0; i < n; i++) {
		size_t len = strcspn(environ[i], "=");
		size_t m;
		int replaced = !strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21);

		for (m = 0; !replaced && m < k; m++)
			replaced = !strncmp(e->env[m], environ[i], len + 1);
		if (!replaced)
			env[j++] = environ[i];
	}
	for (i = 0; i < k; i++)
		env[j++] = e->env[i];
	env[j] = *ret_info;
	return env;
}

/* The ExecCredential's status into *ret. */
static int parse(const char *cmd, const struct strbuf *out, struct k8s_credential *ret,
		 struct error *err)
{
	json_t *doc = json_loadb(out->buf, out->len, 0, NULL);
	const json_t *st = json_object_get(doc, "status");
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const char *token = json_string_value(json_object_get(st, "token"));
	const char *cert = json_string_value(json_object_get(st, "clientCertificateData"));
	const char *key = json_string_value(json_object_get(st, "clientKeyData"));
	const char *exp = json_string_value(json_object_get(st, "expirationTimestamp"));
	int r = 0;

	if (!kind || strcmp(kind, "ExecCredential") || (!token && !(cert && key))) {
		r = error_set(err, FRUGAL_EPROVIDER, "kubernetes credential plugin '%s' printed no"
			      " ExecCredential with a token or a client certificate", cmd);
		goto out;
	}
	ret->token = token && *token ? xstrdup(token) : NULL;
	ret->cert_pem = cert ? xstrdup(cert) : NULL;
	ret->key_pem = key ? xstrdup(key) : NULL;
	ret->expires_ms = exp ? k8s_parse_time(exp) : 0;
	if (ret->expires_ms < 0)
		ret->expires_ms = 0;
out:
	/* The document holds the credential: jansson's copy goes with it. */
	json_decref(doc);
	return r;
}

/* Run the plugin; its ExecCredential into *ret (see k8s_exec.h). */
int k8s_exec_credential(const struct kubeconfig_exec *e, long timeout_ms,
			struct k8s_credential *ret, struct error *err)
{
	struct strbuf out = STRBUF_INIT, errs = STRBUF_INIT;
	long timeout = timeout_ms > 0 ? timeout_ms : 30000;
	struct proc pr = PROC_INIT;
	const char **argv;
	char **env, *info;
	size_t n = 0, i;
	int status = 0, r;

	memset(ret, 0, sizeof(*ret));
	strbuf_init(&out, OUT_MAX);
	strbuf_init(&errs, ERR_MAX);
	while (e->args && e->args[n])
		n++;
	argv = xcalloc(n + 2, sizeof(*argv));
	argv[0] = e->command;
	for (i = 0; i < n; i++)
		argv[i + 1] = e->args[i];
	env = plugin_env(e, &info);
	pr.argv = argv;
	pr.env = env;
	pr.out = &out;
	pr.errs = &errs;
	pr.timeout_ms = timeout;
	r = proc_run(&pr, &status, err);
	if (r == FRUGAL_ETIMEOUT) {
		r = error_set(err, r, "kubernetes credential plugin '%s' did not answer in %lds",
			      e->command, timeout / 1000);
		goto out;
	}
	if (r < 0) {
		error_prefix(err, "cannot run kubernetes credential plugin '%s'", e->command);
		goto out;
	}
	if (status == 127) {
		r = error_set(err, FRUGAL_ENOTFOUND, "kubernetes credential plugin '%s' not found;"
			      " install it or fix users[].user.exec.command in the kubeconfig",
			      e->command);
		goto out;
	}
	if (status != 0) {
		errs.buf[strcspn(errs.buf, "\n")] = '\0';
		r = error_set(err, FRUGAL_EPROVIDER, "kubernetes credential plugin '%s' failed"
			      " (exit %d)%s%s", e->command, status, errs.len ? ": " : "", errs.buf);
		goto out;
	}
	r = parse(e->command, &out, ret, err);
out:
	secure_zero(out.buf, out.len);
	strbuf_release(&out);
	strbuf_release(&errs);
	free(argv);
	free(env);
	free(info);
	return r;
}
