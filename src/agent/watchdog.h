/*
 * watchdog: stop.max_runtime enforced by a process of its own, so that it
 * holds when the agent's loop does not (a SIGSTOPped agent, one blocked
 * in a storage call, one spinning). The agent forks it before its loop
 * and storage exist and tells it, over a pipe, the process groups of the
 * job's steps and when the job was stopped. When max_runtime + the stop
 * grace + WATCHDOG_SLACK_S have passed since the agent started and the
 * job was not stopped, the watchdog SIGKILLs the agent, ends the job's
 * process groups (SIGTERM, SIGKILL after the grace), stores the final
 * status.json (timed_out, saying the watchdog ended it) and ends the
 * machine the backend's way (the dead-man switch, machine.h).
 *
 * It also outlives the agent: when the agent dies (SIGKILL, a crash, the
 * OOM killer) before the job was stopped, the pipe's end of file tells
 * the watchdog, which ends the job's process groups, stores a final
 * status (lost: the controller recovers the job from its checkpoint) and
 * ends the machine, so a job never runs, and bills, unwatched.
 *
 * Why a child and a pipe rather than timerfd + prctl(PR_SET_PDEATHSIG):
 * the timer must fire while the agent is alive but stuck, which only
 * another process can see; and the pipe's end of file tells the
 * watchdog that the agent exited, however it exited, where
 * PR_SET_PDEATHSIG fires on the death of the forking thread and races a
 * parent that dies before the prctl.
 */
#ifndef FRUGAL_AGENT_WATCHDOG_H
#define FRUGAL_AGENT_WATCHDOG_H

#include <stdint.h>

#include "agent/conf.h"
#include "base/error.h"

/* Seconds the watchdog leaves the agent past max_runtime and its grace. */
#define WATCHDOG_SLACK_S 5

struct watchdog;

/*
 * Fork the watchdog for the attempt of conf (which must outlive nothing:
 * the child has its own copy). grace_ms: the agent's SIGTERM -> SIGKILL
 * grace. Every attempt has one (with no max_runtime it only watches for
 * the agent's death).
 */
int watchdog_start(const struct agent_conf *conf, int64_t grace_ms, struct watchdog **ret,
		   struct error *err);
/* A step started in process group pgid. */
void watchdog_job(struct watchdog *w, int pgid);
/* The watchdog's pid (0 for NULL w): watchdog_free waits for it. */
int watchdog_pid(const struct watchdog *w);
/* The job was stopped (or ended): the watchdog exits. */
void watchdog_done(struct watchdog *w);
/* Close the pipe (the watchdog exits if it has not) and reap it. */
void watchdog_free(struct watchdog *w);

#endif
