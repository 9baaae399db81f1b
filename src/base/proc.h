/*
 * proc: processes -- the settings of this one (proc_protect_secrets,
 * proc_cloexec_inherited) and running another program, the one place
 * frugal forks and execs (the job itself is started through libuv by
 * agent/runner.c).
 *
 * The child gets exactly three descriptors, 0, 1 and 2 (each from a
 * given fd, a pipe to us, or /dev/null); every other descriptor is
 * closed before exec, so nothing of ours (controller.log, the database,
 * sockets) reaches the program or what it starts. Signals are back at
 * their defaults and unblocked. argv[0] without a '/' is looked up on
 * PATH.
 *
 *   struct proc p = PROC_INIT;
 *   const char *argv[] = { "uname", "-r", NULL };
 *   p.argv = argv;
 *   p.out = &out;           captured (the strbuf's cap applies)
 *   p.timeout_ms = 30000;
 *   r = proc_run(&p, &status, err);
 *
 * Exit statuses are the program's exit code, 128+N when signal N ended
 * it, and 127 when it could not be executed (not found, not executable).
 */
#ifndef FRUGAL_BASE_PROC_H
#define FRUGAL_BASE_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/strbuf.h"

struct proc {
	const char *const *argv;	/* NULL-terminated */
	char *const *env;		/* NULL: this process's environment */
	const char *dir;		/* chdir there first; NULL: stay */
	int new_session;		/* setsid() in the child */
	int detach;			/* proc_spawn: double fork, not our child */
	int in_fd;			/* stdin from this fd; -1: in_data or /dev/null */
	const void *in_data;		/* proc_run: fed to stdin */
	size_t in_len;
	int out_fd, err_fd;		/* stdout/stderr to these fds; -1: captured */
	struct strbuf *out, *errs;	/* captured output; NULL: /dev/null */
	int64_t timeout_ms;		/* proc_run: 0 none; past it the child is killed */
	size_t out_max;			/* proc_run: 0 none; more stdout kills the child */
	int cgroup_fd;			/* proc_spawn: a cgroup's cgroup.procs, open for
					 * writing: the child moves itself in before
					 * anything else (so all it starts is born
					 * there); -1: stay */
};
#define PROC_INIT { NULL, NULL, NULL, 0, 0, -1, NULL, 0, -1, -1, NULL, NULL, 0, 0, -1 }

/*
 * Run p and wait for it: stdin fed from in_data, stdout and stderr read
 * into out and errs while it runs. *ret_status is set when it ran (any
 * exit status is success here). FRUGAL_ETIMEOUT when it ran past
 * timeout_ms (killed, with its session when it has one of its own),
 * FRUGAL_ETOOBIG when it wrote more than out_max bytes to stdout (killed),
 * FRUGAL_EIO when it could not be started or read. Without out_max, what
 * passes the cap of out or errs is dropped and the pipe still drained.
 */
int proc_run(const struct proc *p, int *ret_status, struct error *err);

/*
 * The memory of this process holds secrets (the controller unseals them,
 * the agent hands them to the job): no core dump of it is ever written
 * (RLIMIT_CORE 0, whatever `ulimit -c` said) and it is not dumpable
 * (PR_SET_DUMPABLE 0: no core through a core_pattern pipe, no ptrace or
 * /proc/PID/mem by other processes of the same user). Children that exec
 * another program are dumpable again, as the kernel does. 0, or -1 when
 * a setting was refused (the caller may warn; it is not fatal).
 */
int proc_protect_secrets(void);

/*
 * Mark every descriptor from 3 on close-on-exec, so what a launcher (a
 * scheduler, a boot script, a shell) left open reaches nothing this
 * process starts. The agent and the controller call it first thing.
 */
void proc_cloexec_inherited(void);

/*
 * Start p and return at once (no captures, no in_data). *ret_pid is the
 * child's pid; with p->detach the program runs as a grandchild that init
 * reaps (not this process's child), and *ret_pid is the grandchild's pid.
 */
int proc_spawn(const struct proc *p, pid_t *ret_pid, struct error *err);

#endif
