/*
 * runner: one step of the job (setup or run) as a child process.
 *
 * The script runs as `bash -c SCRIPT` (`/bin/sh -c` where there is no
 * bash, as SkyPilot task files expect bash) in a session and process
 * group of its own (the group id is the child's pid), with stdin from
 * /dev/null and stdout/stderr on pipes that are cut into lines for the
 * caller.
 *
 * The step is "done" once its main process has exited and its pipes have
 * reached EOF, or RUNNER_DRAIN_MS after the exit when a background
 * process it left still holds them (those pipes are read on, until
 * runner_close). Everything that is still alive in the group is the
 * caller's to end: runner_kill_group.
 *
 * Lifecycle: runner_start -> (lines..., done) -> runner_close; the struct
 * is freed once libuv has closed its handles, and the caller is told.
 */
#ifndef FRUGAL_AGENT_RUNNER_H
#define FRUGAL_AGENT_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/error.h"

#define RUNNER_DRAIN_MS 100

struct runner;

struct runner_cbs {
	/* One line of output; fd is 1 (stdout) or 2 (stderr). */
	void (*line)(void *arg, int fd, const char *text, size_t len);
	/* The step is done: exit_status is the exit code when term_signal
	 * is 0, else the process was killed by term_signal. Called once. */
	void (*done)(void *arg, int64_t exit_status, int term_signal);
};

/*
 * Start script with env ("K=V", NULL-terminated) in cwd. On success
 * *ret is the runner; on failure nothing was started and no callback
 * will run.
 */
int runner_start(uv_loop_t *loop, const char *script, char *const *env, const char *cwd,
		 const struct runner_cbs *cbs, void *arg, struct runner **ret,
		 struct error *err);

/* The child's pid, which is also its process group id. */
int runner_pgid(const struct runner *r);

/*
 * Send sig to the whole process group now and, when grace_ms >= 0,
 * SIGKILL to the group grace_ms later unless the step is done by then.
 * A later call with a shorter grace brings the SIGKILL forward.
 */
void runner_stop(struct runner *r, int sig, int64_t grace_ms);

/* SIGKILL whatever is left in the process group; returns how many live
 * processes were there (read from /proc; where there is none, 1 if
 * anything was there). */
int runner_kill_group(struct runner *r);

/*
 * Stop reading, pass on any partial lines (cbs.line runs once more
 * from inside this call, so what it writes to must still be there),
 * close the handles. closed
 * (may be NULL) is called with arg once the runner is freed. A step that
 * is not done yet has its group killed first. NULL r is fine.
 */
void runner_close(struct runner *r, void (*closed)(void *arg), void *arg);

#endif
