/*
 * reaper: no process the job starts outlives the attempt, however it
 * detaches (a double fork, setsid, nohup, a cleared environment).
 *
 * reaper_new makes the agent a child subreaper (Linux:
 * prctl(PR_SET_CHILD_SUBREAPER)), so a process whose parent dies is
 * reparented to the agent instead of init: everything the job starts
 * stays a descendant of the agent, found through /proc by parentage.
 * reaper_end ends every descendant that is not the agent's own: SIGTERM
 * (and SIGCONT, for a stopped one), SIGKILL after a grace, and reaps
 * them, until none is left. reaper_reap, called periodically, reaps the
 * zombies of orphans reparented to the agent while the job runs.
 *
 * Never waitpid(-1): libuv reaps the children it spawned itself (it
 * calls waitpid on the pid of each of its process handles on SIGCHLD),
 * so the reaper waits only for the pids it chose, and leaves alone the
 * pids of the loop's process handles and those given to reaper_keep
 * (the agent's own helpers, with their descendants).
 *
 * What it cannot see: a process that leaves the agent's tree by other
 * means (handed to systemd with systemd-run, an at or cron job, a
 * container runtime). Only cgroups or the machine's end catch those.
 * Elsewhere than Linux every call does nothing.
 */
#ifndef FRUGAL_AGENT_REAPER_H
#define FRUGAL_AGENT_REAPER_H

#include <stdint.h>

#include <uv.h>

#include "base/error.h"

/* The most reaper_end waits after the SIGKILLs for the last to go. */
#define REAPER_KILL_WAIT_MS 2000
/* The cap of the SIGTERM -> SIGKILL grace. */
#define REAPER_GRACE_MAX_MS 5000

struct reaper;

/*
 * Make this process a child subreaper and return the reaper for loop
 * (whose process handles it leaves to libuv). On failure (not Linux, or
 * the prctl refused) *ret is still a reaper, whose calls do nothing
 * useful beyond the agent's own children, and the error says why.
 */
int reaper_new(uv_loop_t *loop, struct reaper **ret, struct error *err);

/* pid and everything under it are the agent's own: never signalled,
 * never reaped here (its owner waits for it). */
void reaper_keep(struct reaper *r, int pid);

/* Every live child the agent has now is its own, with its descendants:
 * the helpers it started before the job, such as a daemonized FUSE tool.
 * Never signalled; reaped here once it exits (nobody else waits). */
void reaper_keep_children(struct reaper *r);

/* Reap the zombie children nobody else waits for (not libuv's, not
 * reaper_keep's); returns how many. Cheap when there is none. */
int reaper_reap(struct reaper *r);

/*
 * End every descendant of this process that is not kept and not one of
 * the loop's process handles (their descendants are ended): SIGTERM,
 * SIGKILL after grace_ms (capped at REAPER_GRACE_MAX_MS; 0: at once),
 * reaped. Blocks until none is left, or REAPER_KILL_WAIT_MS after the
 * SIGKILLs. Returns how many processes it signalled; *ret_left (may be
 * NULL) is how many still lived when it gave up.
 */
int reaper_end(struct reaper *r, int64_t grace_ms, int *ret_left);

void reaper_free(struct reaper *r);

#endif
