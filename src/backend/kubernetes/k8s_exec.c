/*
 * k8s_exec: credential plugins of kubeconfigs (see k8s_exec.h).
 */
#define _GNU_SOURCE	/* pipe2 */
#include "backend/kubernetes/k8s_exec.h"
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

/* Overwrite a secret string, then free it. */
static void zfree(char *s)
{
	if (s) {
		secure_zero(s, strlen(s));
		free(s);
	}
}

/* Free a credential, its secrets overwritten. */
void k8s_credential_release(struct k8s_credential *c)
{
	zfree(c->token);
	zfree(c->cert_pem);
	zfree(c->key_pem);
	memset(c, 0, sizeof(*c));
}

/* In the child: the plugin's environment, then exec it. Never returns. */
static void child(const struct kubeconfig_exec *e, int out, int errfd)
{
	char *info = xasprintf("{\"kind\":\"ExecCredential\",\"apiVersion\":\"%s\","
			       "\"spec\":{\"interactive\":false}}", e->api_version);
	char **argv;
	size_t n = 0, i;
	int nul = open("/dev/null", O_RDONLY);

	if (nul >= 0)
		dup2(nul, 0);
	dup2(out, 1);
	dup2(errfd, 2);
	for (i = 0; e->env && e->env[i]; i++)
		putenv(e->env[i]);
	setenv("KUBERNETES_EXEC_INFO", info, 1);
	while (e->args && e->args[n])
		n++;
	argv = xcalloc(n + 2, sizeof(char *));
	argv[0] = e->command;
	for (i = 0; i < n; i++)
		argv[i + 1] = e->args[i];
	execvp(e->command, argv);
	_exit(errno == ENOENT ? 127 : 126);
}

/* Read out and errs until both close or the deadline passes (then the
 * child is killed and FRUGAL_ETIMEOUT returned). Closes both fds. */
static int drain(pid_t pid, int fo, int fe, int64_t deadline, struct strbuf *out,
		 struct strbuf *errs)
{
	int fds[2] = { fo, fe }, open_fds = 2, r = 0;

	while (open_fds > 0) {
		struct pollfd p[2] = { { fds[0], POLLIN, 0 }, { fds[1], POLLIN, 0 } };
		int64_t left = deadline - time_mono_ms();
		int i, n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			r = FRUGAL_ETIMEOUT;
			break;
		}
		n = poll(p, 2, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			r = FRUGAL_EIO;
			break;
		}
		for (i = 0; n > 0 && i < 2; i++) {
			char buf[8192];
			ssize_t got;

			if (fds[i] < 0 || !p[i].revents)
				continue;
			got = read(fds[i], buf, sizeof(buf));
			if (got > 0) {
				/* Past the cap the rest is dropped, the pipe still drained. */
				strbuf_add(i == 0 ? out : errs, buf, (size_t)got);
			} else if (got == 0 || errno != EINTR) {
				close(fds[i]);
				fds[i] = -1;
				open_fds--;
			}
		}
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return r;
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
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status = 0, r;
	pid_t pid;

	memset(ret, 0, sizeof(*ret));
	strbuf_init(&out, OUT_MAX);
	strbuf_init(&errs, ERR_MAX);
	if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		r = error_errno(err, "cannot run kubernetes credential plugin '%s'", e->command);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = error_errno(err, "cannot run kubernetes credential plugin '%s'", e->command);
		goto out;
	}
	if (pid == 0)
		child(e, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	r = drain(pid, po[0], pe[0], time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 30000),
		  &out, &errs);
	po[0] = pe[0] = -1;	/* drain closed them */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == FRUGAL_ETIMEOUT) {
		r = error_set(err, r, "kubernetes credential plugin '%s' did not answer in %lds",
			      e->command, (timeout_ms > 0 ? timeout_ms : 30000) / 1000);
		goto out;
	}
	if (r < 0) {
		r = error_errno(err, "cannot read from kubernetes credential plugin '%s'",
				e->command);
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		r = error_set(err, FRUGAL_ENOTFOUND, "kubernetes credential plugin '%s' not found;"
			      " install it or fix users[].user.exec.command in the kubeconfig",
			      e->command);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errs.buf[strcspn(errs.buf, "\n")] = '\0';
		r = error_set(err, FRUGAL_EPROVIDER, "kubernetes credential plugin '%s' failed"
			      " (exit %d)%s%s", e->command,
			      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			      errs.len ? ": " : "", errs.buf);
		goto out;
	}
	r = parse(e->command, &out, ret, err);
out:
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	secure_zero(out.buf, out.len);
	strbuf_release(&out);
	strbuf_release(&errs);
	return r;
}
