/*
 * proc: this process's settings, and fork and exec with a clean set of
 * descriptors (see proc.h).
 */
#define _GNU_SOURCE
#include "base/proc.h"
#include "base/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Close every descriptor from 3 on (close_range, else one by one). */
static void close_from_3(void)
{
	long max, fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++)
		close((int)fd);
}

int proc_protect_secrets(void)
{
	struct rlimit none = { 0, 0 };
	int r = 0;

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		r = -1;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = -1;
	return r;
}

void proc_cloexec_inherited(void)
{
	long max, fd;

#if defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (fd = 3; fd < max; fd++) {
		int flags = fcntl((int)fd, F_GETFD);

		if (flags >= 0 && !(flags & FD_CLOEXEC))
			fcntl((int)fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

/* In the child: descriptors, session, signals, directory; then exec. */
static void child(const struct proc *p, const int fds[3])
{
	static const int sigs[] = { SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD,
				    SIGUSR1, SIGUSR2, SIGALRM };
	int high[3], i;
	sigset_t none;

	/* Move the three sources out of the way first: one of them may be
	 * the number another is about to take. */
	for (i = 0; i < 3; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD, 10)) < 0)
			_exit(127);
	for (i = 0; i < 3; i++)
		if (dup2(high[i], i) < 0)
			_exit(127);
	close_from_3();
	if (p->new_session)
		setsid();
	for (i = 0; i < (int)(sizeof(sigs) / sizeof(sigs[0])); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (p->dir && chdir(p->dir) < 0)
		_exit(127);
	execvpe(p->argv[0], (char *const *)p->argv, p->env ? p->env : environ);
	_exit(127);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Pipes and /dev/null for what the caller did not give. */
struct plumbing {
	int nul;
	int in[2], out[2], err[2];
};

static int plumb(const struct proc *p, struct plumbing *pl, int fds[3], struct error *err)
{
	memset(pl, -1, sizeof(*pl));
	if ((pl->nul = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return error_errno(err, "cannot open /dev/null");
	if ((p->in_data && p->in_fd < 0 && pipe2(pl->in, O_CLOEXEC) < 0) ||
	    (p->out && p->out_fd < 0 && pipe2(pl->out, O_CLOEXEC) < 0) ||
	    (p->errs && p->err_fd < 0 && pipe2(pl->err, O_CLOEXEC) < 0))
		return error_errno(err, "cannot run %s", p->argv[0]);
	fds[0] = p->in_fd >= 0 ? p->in_fd : pl->in[0] >= 0 ? pl->in[0] : pl->nul;
	fds[1] = p->out_fd >= 0 ? p->out_fd : pl->out[1] >= 0 ? pl->out[1] : pl->nul;
	fds[2] = p->err_fd >= 0 ? p->err_fd : pl->err[1] >= 0 ? pl->err[1] : pl->nul;
	return 0;
}

static void unplumb(struct plumbing *pl)
{
	close_fd(&pl->nul);
	close_fd(&pl->in[0]);
	close_fd(&pl->in[1]);
	close_fd(&pl->out[0]);
	close_fd(&pl->out[1]);
	close_fd(&pl->err[0]);
	close_fd(&pl->err[1]);
}

static int status_of(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Feed stdin and read stdout/stderr until both close or the deadline. */
static int pump(const struct proc *p, struct plumbing *pl, pid_t pid, int64_t deadline,
		struct error *err)
{
	size_t sent = 0;

	if (pl->in[1] >= 0)
		fcntl(pl->in[1], F_SETFL, fcntl(pl->in[1], F_GETFL) | O_NONBLOCK);
	if (pl->in[1] >= 0 && !p->in_len)
		close_fd(&pl->in[1]);
	while (pl->out[0] >= 0 || pl->err[0] >= 0 || pl->in[1] >= 0) {
		struct pollfd fds[3] = { { pl->out[0], POLLIN, 0 }, { pl->err[0], POLLIN, 0 },
					 { pl->in[1], POLLOUT, 0 } };
		int wait = 1000, i, n;

		if (deadline) {
			int64_t left = deadline - time_mono_ms();

			if (left <= 0) {
				kill(p->new_session ? -pid : pid, SIGKILL);
				kill(pid, SIGKILL);
				return error_set(err, FRUGAL_ETIMEOUT, "%s did not finish in %lld ms",
						 p->argv[0], (long long)p->timeout_ms);
			}
			wait = left > 1000 ? 1000 : (int)left;
		}
		n = poll(fds, 3, wait);
		if (n < 0 && errno != EINTR) {
			kill(pid, SIGKILL);
			return error_errno(err, "cannot read from %s", p->argv[0]);
		}
		if (n <= 0)
			continue;
		if (pl->in[1] >= 0 && fds[2].revents) {
			ssize_t w = write(pl->in[1], (const char *)p->in_data + sent, p->in_len - sent);

			if (w > 0)
				sent += (size_t)w;
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || sent == p->in_len)
				close_fd(&pl->in[1]);
		}
		for (i = 0; i < 2; i++) {
			int *fd = i == 0 ? &pl->out[0] : &pl->err[0];
			char buf[16384];
			ssize_t got;

			if (*fd < 0 || !fds[i].revents)
				continue;
			got = read(*fd, buf, sizeof(buf));
			if (got > 0 && i == 0 && p->out_max &&
			    p->out->len + (size_t)got > p->out_max) {
				kill(p->new_session ? -pid : pid, SIGKILL);
				kill(pid, SIGKILL);
				return error_set(err, FRUGAL_ETOOBIG, "%s wrote more than %zu bytes",
						 p->argv[0], p->out_max);
			}
			if (got > 0)	/* past a cap the rest is dropped, the pipe drained */
				strbuf_add(i == 0 ? p->out : p->errs, buf, (size_t)got);
			else if (got == 0 || (errno != EINTR && errno != EAGAIN))
				close_fd(fd);
		}
	}
	return 0;
}

/* Wait for pid, killing it when p's deadline passes first. */
static int reap(const struct proc *p, pid_t pid, int64_t deadline, int *status,
		struct error *err)
{
	pid_t w;

	while ((w = waitpid(pid, status, deadline ? WNOHANG : 0)) == 0 ||
	       (w < 0 && errno == EINTR)) {
		if (w == 0 && time_mono_ms() > deadline) {
			kill(p->new_session ? -pid : pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return error_set(err, FRUGAL_ETIMEOUT, "%s did not finish in %lld ms",
					 p->argv[0], (long long)p->timeout_ms);
		}
		if (w == 0)
			time_sleep_ms(10);
	}
	return 0;
}

int proc_run(const struct proc *p, int *ret_status, struct error *err)
{
	struct sigaction ign, old_pipe;
	struct plumbing pl;
	int fds[3], status = 0, r;
	pid_t pid;

	if ((r = plumb(p, &pl, fds, err)) < 0)
		goto out;
	/* A program that exits before reading its input must not kill us
	 * with SIGPIPE: the write fails with EPIPE instead. */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old_pipe);
	pid = fork();
	if (pid == 0)
		child(p, fds);
	if (pid < 0) {
		r = error_errno(err, "cannot run %s", p->argv[0]);
	} else {
		close_fd(&pl.in[0]);
		close_fd(&pl.out[1]);
		close_fd(&pl.err[1]);
		int64_t deadline = p->timeout_ms > 0 ? time_mono_ms() + p->timeout_ms : 0;

		r = pump(p, &pl, pid, deadline, err);
		if (r == 0)
			r = reap(p, pid, deadline, &status, err);
		else
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
		if (r == 0)
			*ret_status = status_of(status);
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
out:
	unplumb(&pl);
	return r;
}

int proc_spawn(const struct proc *p, pid_t *ret_pid, struct error *err)
{
	struct plumbing pl;
	int fds[3], status, r, back[2] = { -1, -1 };
	pid_t pid, grandchild = 0;

	if (p->in_data || (p->out && p->out_fd < 0) || (p->errs && p->err_fd < 0))
		return error_set(err, FRUGAL_EINVAL, "proc_spawn: nothing can be captured");
	if ((r = plumb(p, &pl, fds, err)) < 0)
		goto out;
	/* Detached: the middle child hands the grandchild's pid back. */
	if (p->detach && pipe2(back, O_CLOEXEC) < 0) {
		r = error_errno(err, "cannot run %s", p->argv[0]);
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		/* Into the cgroup first: a failure ends the start (126). */
		if (p->cgroup_fd >= 0 && write(p->cgroup_fd, "0", 1) != 1)
			_exit(126);
		if (p->detach) {
			pid_t g;

			setsid();
			g = fork();
			if (g != 0) {
				ssize_t w = write(back[1], &g, sizeof(g));
				_exit(g > 0 && w == (ssize_t)sizeof(g) ? 0 : 127);
			}
		}
		child(p, fds);
	}
	if (pid < 0) {
		r = error_errno(err, "cannot run %s", p->argv[0]);
		goto out;
	}
	if (p->detach) {
		ssize_t n;

		close(back[1]);
		back[1] = -1;
		while ((n = read(back[0], &grandchild, sizeof(grandchild))) < 0 && errno == EINTR)
			;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (n != (ssize_t)sizeof(grandchild) || grandchild <= 0) {
			if (p->cgroup_fd >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 126)
				r = error_set(err, FRUGAL_EIO, "cannot run %s: it could not enter"
					      " its cgroup", p->argv[0]);
			else
				r = error_set(err, FRUGAL_EIO, "cannot run %s: the detached start"
					      " failed", p->argv[0]);
			goto out;
		}
		pid = grandchild;
	}
	*ret_pid = pid;
out:
	if (back[0] >= 0)
		close(back[0]);
	if (back[1] >= 0)
		close(back[1]);
	unplumb(&pl);
	return r;
}
