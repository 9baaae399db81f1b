/*
 * ssh: one remote command through the system ssh client (see ssh.h).
 * The child gets three pipes; one poll loop feeds its stdin and drains
 * its stdout and stderr, so neither side can block the other.
 */
#define _GNU_SOURCE	/* pipe2 */
#include "backend/common/ssh.h"
#include "base/timeutil.h"
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
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int in_fd = -1, status = 0, r = 0;
	int64_t deadline = time_mono_ms() + 1000LL * (t->timeout_s > 0 ? t->timeout_s
								   : DEFAULT_TIMEOUT_S);
	struct strbuf errs = STRBUF_INIT;
	char **owned = NULL, **argv = NULL;
	size_t sent = 0;
	pid_t pid = -1;
	struct sigaction ign, old_pipe;

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
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	    pipe2(perr, O_CLOEXEC) < 0) {
		r = error_errno(err, "cannot run ssh");
		goto out;
	}
	argv = ssh_argv(t, remote_cmd, &owned);
	/* A remote side that exits before reading its input must not kill
	 * us with SIGPIPE: the write fails with EPIPE instead. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	pid = fork();
	if (pid < 0) {
		r = error_errno(err, "cannot run ssh");
		goto out;
	}
	if (pid == 0) {
		dup2(in_fd >= 0 ? in_fd : pin[0], 0);
		dup2(out_fd >= 0 ? out_fd : pout[1], 1);
		dup2(perr[1], 2);
		sigaction(SIGPIPE, &old_pipe, NULL);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	if (in_fd >= 0 || !stdin_data) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, fcntl(pin[1], F_GETFL) | O_NONBLOCK);
	}
	while (pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd fds[3] = { { pout[0], POLLIN, 0 }, { perr[0], POLLIN, 0 },
					 { pin[1], POLLOUT, 0 } };
		int64_t left = deadline - time_mono_ms();
		int i, n;

		if (left <= 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			pid = -1;
			r = error_set(err, FRUGAL_ETIMEOUT, "ssh to %s did not finish in time",
				      t->alias);
			goto out;
		}
		n = poll(fds, 3, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR) {
			r = error_errno(err, "ssh");
			goto out;
		}
		if (n <= 0)
			continue;
		if (pin[1] >= 0 && fds[2].revents) {
			ssize_t w = write(pin[1], (const char *)stdin_data + sent, stdin_len - sent);

			if (w > 0)
				sent += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == stdin_len) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		for (i = 0; i < 2; i++) {
			char buf[16384];
			ssize_t got;
			int *fd = i == 0 ? &pout[0] : &perr[0];

			if (*fd < 0 || !fds[i].revents)
				continue;
			got = read(*fd, buf, sizeof(buf));
			if (got > 0) {
				if (i == 0 && out)
					strbuf_add(out, buf, (size_t)got);
				else if (i == 1)
					strbuf_add(&errs, buf, (size_t)got);
			} else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(*fd);
				*fd = -1;
			}
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	pid = -1;
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (*ret_status == 127 && !errs.len)
		r = error_set(err, FRUGAL_EIO, "cannot run '%s'", argv[0]);
	else if (*ret_status != 0)
		error_set(err, 0, "%s", last_line(&errs));
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (argv)
		sigaction(SIGPIPE, &old_pipe, NULL);
	if (in_fd >= 0)
		close(in_fd);
	if (pin[0] >= 0)
		close(pin[0]);
	if (pin[1] >= 0)
		close(pin[1]);
	if (pout[0] >= 0)
		close(pout[0]);
	if (pout[1] >= 0)
		close(pout[1]);
	if (perr[0] >= 0)
		close(perr[0]);
	if (perr[1] >= 0)
		close(perr[1]);
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
