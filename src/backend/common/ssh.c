/*
 * ssh: one remote command through the system ssh client (see ssh.h).
 * The child gets three pipes; one poll loop feeds its stdin and drains
 * its stdout and stderr, so neither side can block the other.
 */
#define _GNU_SOURCE	/* pipe2 */
#include "backend/common/ssh.h"
#include "base/timeutil.h"
#include "base/proc.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERR_MAX (64 << 10)
#define DEFAULT_TIMEOUT_S 60

/* Append one owned string to the argv under construction. */
static void push(char **argv, size_t *n, char ***owned, size_t *n_owned, char *s)
{
	argv[(*n)++] = s;
	*owned = xrealloc(*owned, (*n_owned + 2) * sizeof(char *));
	(*owned)[(*n_owned)++] = s;
	(*owned)[*n_owned] = NULL;
}

char **ssh_argv(const struct ssh_target *t, const char *remote_cmd, char ***ret_owned)
{
	char **argv = xcalloc(32, sizeof(char *)), **owned = NULL;
	size_t n = 0, k = 0;

	argv[n++] = (char *)(t->command && *t->command ? t->command : "ssh");
	argv[n++] = "-o";
	argv[n++] = "BatchMode=yes";
	argv[n++] = "-o";
	argv[n++] = "StrictHostKeyChecking=accept-new";
	argv[n++] = "-o";
	push(argv, &n, &owned, &k, xasprintf("UserKnownHostsFile=%s", t->known_hosts));
	argv[n++] = "-o";
	push(argv, &n, &owned, &k, xasprintf("HostKeyAlias=%s", t->alias));
	argv[n++] = "-o";
	argv[n++] = "ConnectTimeout=10";
	argv[n++] = "-o";
	argv[n++] = "ServerAliveInterval=15";
	argv[n++] = "-o";
	argv[n++] = "LogLevel=ERROR";
	if (t->identity) {
		argv[n++] = "-o";
		argv[n++] = "IdentitiesOnly=yes";
		argv[n++] = "-i";
		argv[n++] = (char *)t->identity;
	}
	if (t->port > 0 && t->port != 22) {
		argv[n++] = "-p";
		push(argv, &n, &owned, &k, xasprintf("%d", t->port));
	}
	if (t->user) {
		argv[n++] = "-l";
		argv[n++] = (char *)t->user;
	}
	/* "--" keeps a host that starts with '-' from being an option. */
	argv[n++] = "--";
	argv[n++] = (char *)t->host;
	argv[n++] = (char *)remote_cmd;
	argv[n] = NULL;
	*ret_owned = owned;
	return argv;
}

void ssh_argv_free(char **argv, char **owned)
{
	size_t i;

	for (i = 0; owned && owned[i]; i++)
		free(owned[i]);
	free(owned);
	free(argv);
}

/* The last non-empty line of text (cut in place). */
static const char *last_line(struct strbuf *sb)
{
	char *end;

	strbuf_rtrim(sb);
	if (!sb->len)
		return "(no message)";
	end = strrchr(sb->buf, '\n');
	return end ? end + 1 : sb->buf;
}

/* ssh_run, with standard output to out_fd when it is >= 0. */
static int run(const struct ssh_target *t, const char *remote_cmd, const void *stdin_data,
	       size_t stdin_len, const char *stdin_file, struct strbuf *out, int out_fd,
	       int *ret_status, struct error *err)
{
	struct strbuf errs = STRBUF_INIT;
	struct proc pr = PROC_INIT;
	char **owned = NULL, **argv = NULL;
	int in_fd = -1, r;

	strbuf_init(&errs, ERR_MAX);
	if (!t->host || !t->known_hosts || !t->alias) {
		r = error_set(err, FRUGAL_EINVAL, "ssh: a host, a known_hosts file and an alias "
			      "are required");
		goto out;
	}
	if (stdin_file && !stdin_data) {
		in_fd = open(stdin_file, O_RDONLY | O_CLOEXEC);
		if (in_fd < 0) {
			r = error_errno(err, "cannot read '%s'", stdin_file);
			goto out;
		}
	}
	argv = ssh_argv(t, remote_cmd, &owned);
	pr.argv = (const char *const *)argv;
	pr.in_fd = in_fd;
	pr.in_data = stdin_data;
	pr.in_len = stdin_len;
	pr.out_fd = out_fd;
	pr.out = out;
	pr.errs = &errs;
	pr.timeout_ms = 1000LL * (t->timeout_s > 0 ? t->timeout_s : DEFAULT_TIMEOUT_S);
	r = proc_run(&pr, ret_status, err);
	if (r == FRUGAL_ETIMEOUT)
		r = error_set(err, FRUGAL_ETIMEOUT, "ssh to %s did not finish in time", t->alias);
	if (r < 0)
		goto out;
	if (*ret_status == 127 && !errs.len)
		r = error_set(err, FRUGAL_EIO, "cannot run '%s'", argv[0]);
	else if (*ret_status != 0)
		error_set(err, 0, "%s", last_line(&errs));
out:
	if (in_fd >= 0)
		close(in_fd);
	if (argv)
		ssh_argv_free(argv, owned);
	strbuf_release(&errs);
	return r;
}

int ssh_run(const struct ssh_target *t, const char *remote_cmd, const void *stdin_data,
	    size_t stdin_len, const char *stdin_file, struct strbuf *out, int *ret_status,
	    struct error *err)
{
	return run(t, remote_cmd, stdin_data, stdin_len, stdin_file, out, -1, ret_status, err);
}

/* A non-zero status as FRUGAL_EPROVIDER with ssh's last stderr line. */
static int check_status(const struct ssh_target *t, int r, int status, struct error *err)
{
	if (r == 0 && status != 0) {
		const char *why = err && err->msg[0] ? err->msg : "(no message)";
		char copy[ERROR_MSG_MAX];

		snprintf(copy, sizeof(copy), "%s", why);
		r = error_set(err, FRUGAL_EPROVIDER, "ssh to %s failed (exit %d): %s", t->alias,
			      status, copy);
	}
	return r;
}

int ssh_check(const struct ssh_target *t, const char *remote_cmd, const void *stdin_data,
	      size_t stdin_len, const char *stdin_file, struct strbuf *out, struct error *err)
{
	int status = 0, r;

	r = run(t, remote_cmd, stdin_data, stdin_len, stdin_file, out, -1, &status, err);
	return check_status(t, r, status, err);
}

int ssh_fetch(const struct ssh_target *t, const char *remote_cmd, const char *local_path,
	      struct error *err)
{
	int fd = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int status = 0, r;

	if (fd < 0)
		return error_errno(err, "cannot write '%s'", local_path);
	r = run(t, remote_cmd, NULL, 0, NULL, NULL, fd, &status, err);
	if (close(fd) < 0 && r == 0)
		r = error_errno(err, "cannot write '%s'", local_path);
	return check_status(t, r, status, err);
}
