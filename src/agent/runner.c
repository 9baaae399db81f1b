/*
 * runner: a step of the job as a child process in its own process group,
 * its output cut into lines (see runner.h).
 */
#include "agent/runner.h"
#include "agent/logship.h"
#include "base/proc_stat.h"
#include "base/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One output pipe of the child. */
struct runner_pipe {
	uv_pipe_t handle;
	struct runner *r;
	int fd;			/* 1 or 2, as the child sees it */
	int open;		/* still being read */
	struct linesplit ls;
};

struct runner {
	uv_process_t proc;
	struct runner_pipe pipes[2];
	uv_timer_t kill_timer;	/* SIGKILL after a stop's grace */
	uv_timer_t drain_timer;	/* waits for EOF after the exit */
	struct runner_cbs cbs;
	void *arg;
	int pid;
	int exited;		/* the main process exited */
	int drained;		/* pipes at EOF, or the drain timer ran out */
	int done;		/* cbs.done was called */
	int closing;
	int64_t exit_status;
	int term_signal;
	int open_handles;	/* handles not closed yet */
	void (*closed)(void *arg);
	void *closed_arg;
	char buf[65536];	/* read buffer, shared by the pipes */
};

/* Pass one line of a pipe on to the caller. */
static void on_pipe_line(void *arg, const char *line, size_t len)
{
	struct runner_pipe *p = arg;

	if (p->r->cbs.line)
		p->r->cbs.line(p->r->arg, p->fd, line, len);
}

/* Call done once the process has exited and its output is in. */
static void maybe_done(struct runner *r)
{
	if (r->done || !r->exited)
		return;
	if (!r->drained && (r->pipes[0].open || r->pipes[1].open))
		return;
	r->done = 1;
	uv_timer_stop(&r->drain_timer);
	uv_timer_stop(&r->kill_timer);
	if (r->cbs.done)
		r->cbs.done(r->arg, r->exit_status, r->term_signal);
}

/* A pipe hit EOF or an error: pass on the partial line, stop reading. */
static void pipe_eof(struct runner_pipe *p)
{
	if (!p->open)
		return;
	p->open = 0;
	linesplit_finish(&p->ls, on_pipe_line, p);
	uv_read_stop((uv_stream_t *)&p->handle);
}

/* libuv wants a buffer to read into. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct runner_pipe *p = h->data;

	(void)suggested;
	*buf = uv_buf_init(p->r->buf, sizeof(p->r->buf));
}

/* Bytes (or EOF) from a pipe. */
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct runner_pipe *p = s->data;

	if (nread > 0) {
		linesplit_feed(&p->ls, buf->base, (size_t)nread, on_pipe_line, p);
		return;
	}
	if (nread == 0)
		return;
	pipe_eof(p);
	maybe_done(p->r);
}

/* The drain timer ran out: a background process still holds the pipes. */
static void on_drain_timer(uv_timer_t *t)
{
	struct runner *r = t->data;

	r->drained = 1;
	maybe_done(r);
}

/* The main process exited. */
static void on_proc_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
	struct runner *r = proc->data;

	r->exited = 1;
	r->exit_status = exit_status;
	r->term_signal = term_signal;
	if (r->pipes[0].open || r->pipes[1].open)
		uv_timer_start(&r->drain_timer, on_drain_timer, RUNNER_DRAIN_MS, 0);
	maybe_done(r);
}

/* A stop's grace ran out. */
static void on_kill_timer(uv_timer_t *t)
{
	struct runner *r = t->data;

	if (!r->done)
		kill(-r->pid, SIGKILL);
}

/* One handle closed; the last one frees the runner. A pipe's data is
 * its struct runner_pipe, the other handles' the runner. */
static void on_handle_closed(uv_handle_t *h)
{
	struct runner *r = h->type == UV_NAMED_PIPE ? ((struct runner_pipe *)h->data)->r
						    : h->data;
	void (*closed)(void *) = r->closed;
	void *closed_arg = r->closed_arg;

	if (--r->open_handles > 0)
		return;
	linesplit_release(&r->pipes[0].ls);
	linesplit_release(&r->pipes[1].ls);
	free(r);
	if (closed)
		closed(closed_arg);
}

/* Close every handle of r (they are all initialised). */
static void close_handles(struct runner *r)
{
	int i;

	r->closing = 1;
	r->open_handles = 5;
	for (i = 0; i < 2; i++) {
		pipe_eof(&r->pipes[i]);
		uv_close((uv_handle_t *)&r->pipes[i].handle, on_handle_closed);
	}
	uv_close((uv_handle_t *)&r->kill_timer, on_handle_closed);
	uv_close((uv_handle_t *)&r->drain_timer, on_handle_closed);
	uv_close((uv_handle_t *)&r->proc, on_handle_closed);
}

/* The shell that runs scripts: bash when there is one. */
static const char *script_shell(void)
{
	return access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
}

/* Set up the handles, spawn the shell detached (its own session and
 * group) with two output pipes, start reading them. */
int runner_start(uv_loop_t *loop, const char *script, char *const *env, const char *cwd,
		 const struct runner_cbs *cbs, void *arg, struct runner **ret,
		 struct error *err)
{
	struct runner *r = xcalloc(1, sizeof(*r));
	uv_process_options_t opts;
	uv_stdio_container_t stdio[3];
	char *args[4];
	int i, rc;

	r->cbs = *cbs;
	r->arg = arg;
	r->proc.data = r;
	uv_timer_init(loop, &r->kill_timer);
	uv_timer_init(loop, &r->drain_timer);
	r->kill_timer.data = r;
	r->drain_timer.data = r;
	for (i = 0; i < 2; i++) {
		struct runner_pipe *p = &r->pipes[i];
		p->r = r;
		p->fd = i + 1;
		linesplit_init(&p->ls, LINESPLIT_MAX);
		uv_pipe_init(loop, &p->handle, 0);
		p->handle.data = p;
	}

	args[0] = (char *)script_shell();
	args[1] = (char *)"-c";
	args[2] = (char *)script;
	args[3] = NULL;
	memset(&opts, 0, sizeof(opts));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	for (i = 0; i < 2; i++) {
		stdio[i + 1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
		stdio[i + 1].data.stream = (uv_stream_t *)&r->pipes[i].handle;
	}
	opts.exit_cb = on_proc_exit;
	opts.file = args[0];
	opts.args = args;
	opts.env = (char **)env;
	opts.cwd = cwd;
	opts.flags = UV_PROCESS_DETACHED;	/* setsid(): a group of its own */
	opts.stdio_count = 3;
	opts.stdio = stdio;

	rc = uv_spawn(loop, &r->proc, &opts);
	r->proc.data = r;
	if (rc < 0) {
		close_handles(r);
		return error_set(err, FRUGAL_EIO, "cannot start %s in '%s': %s", args[0], cwd,
				 uv_strerror(rc));
	}
	r->pid = r->proc.pid;
	for (i = 0; i < 2; i++) {
		r->pipes[i].open = 1;
		uv_read_start((uv_stream_t *)&r->pipes[i].handle, on_alloc, on_read);
	}
	*ret = r;
	return 0;
}

/* The group id, which setsid() made the child's pid. */
int runner_pgid(const struct runner *r)
{
	return r->pid;
}

/* Signal the group; arm (or bring forward) the SIGKILL timer. */
void runner_stop(struct runner *r, int sig, int64_t grace_ms)
{
	if (r->done)
		return;
	kill(-r->pid, sig);
	if (grace_ms < 0)
		return;
	if (uv_is_active((uv_handle_t *)&r->kill_timer) &&
	    uv_timer_get_due_in(&r->kill_timer) <= (uint64_t)grace_ms)
		return;
	uv_timer_start(&r->kill_timer, on_kill_timer, (uint64_t)grace_ms, 0);
}

static int count_one(const struct proc_stat *st, void *arg)
{
	int *c = arg;	/* { pgid, count } */

	if (st->pgid == c[0] && !proc_stat_exited(st))
		c[1]++;
	return 0;
}

/*
 * Number of live (not zombie) processes in the process group pgid, from
 * /proc; -1 when /proc cannot be read.
 */
static int count_group(int pgid)
{
	int c[2] = { pgid, 0 };

	return proc_stat_each(count_one, c) < 0 ? -1 : c[1];
}

/* Count the live members, then SIGKILL the group regardless. */
int runner_kill_group(struct runner *r)
{
	int n = count_group(r->pid);

	if (n < 0)
		n = kill(-r->pid, 0) == 0;
	kill(-r->pid, SIGKILL);
	return n;
}

/* Close every handle; on_handle_closed frees r and calls closed. */
void runner_close(struct runner *r, void (*closed)(void *arg), void *arg)
{
	if (!r || r->closing)
		return;
	if (!r->exited)
		kill(-r->pid, SIGKILL);
	r->closed = closed;
	r->closed_arg = arg;
	close_handles(r);
}
