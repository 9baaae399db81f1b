/*
 * reconcile: the job state machine. A pass looks at every live job and,
 * from (job state, attempt phase, event), picks one action in a table
 * (see `transitions` in reconcile.c). Actions that talk to a provider are
 * operations run off the loop (controller/worker.h), at most one per job
 * at a time, each with a deadline; their results are events that go
 * through the same table. Every step is committed to the store before the
 * side effect it leads to, and the store is only touched on the caller's
 * thread: the reconciler is its only writer, backends never touch it.
 */
#ifndef FRUGAL_CONTROLLER_RECONCILE_H
#define FRUGAL_CONTROLLER_RECONCILE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/error.h"
#include "store/home.h"

struct reconciler;
struct provider;
struct config;
struct backend_liveness;

struct reconciler_hooks {
	/* Where operations run: worker threads whose results come back on
	 * loop; NULL: no threads, reconciler_run_ops runs them (tests). */
	uv_loop_t *loop;
	/* Open backend name; NULL: provider_open. Tests hand in an
	 * in-memory provider (backend/memory). */
	int (*open)(const char *name, const struct config *cfg, const char *home,
		    struct provider **ret, struct error *err);
	/* Called on the loop thread when a result changed what a pass would
	 * do (a job ended, capacity was freed): pass again soon. May be NULL. */
	void (*wake)(void *ctx);
	void *ctx;
	/* Boot and heartbeat limits for every backend; NULL: each backend's
	 * (backend_liveness_get). Tests give short ones. */
	const struct backend_liveness *liveness;
	/* A running job is looked at (status.json, describe) at most this
	 * often by passes unless a wake names it (reconciler_wake_job), a
	 * cancel, a stop or a notice concerns it; a quarter of its backend's
	 * heartbeat_timeout and boot_timeout when smaller, at least 1 s.
	 * 0: on every pass (tests). */
	int64_t look_every_ms;
};

int reconciler_new(const struct home *h, const struct reconciler_hooks *hooks,
		   struct reconciler **ret, struct error *err);
/* Stops the workers (waiting a little for operations that run). */
void reconciler_free(struct reconciler *rec);

/* One pass over every live job: decisions, and operations submitted.
 * Returns the number of live jobs (negative on a store error, after
 * logging it). Rows left "creating" by a crash are resolved by asking the
 * provider before anything else happens to their job. The first passes
 * of a reconciler (a controller that starts, or restarts after a crash)
 * look at every live attempt first: no job plans or launches until each
 * attempt alive at the start had its look, resolve or teardown answered
 * (or STARTUP_LOOK_MAX_MS passed). */
int reconciler_step(struct reconciler *rec);

/* A wake named job_id (its agent wrote a status): the next
 * reconciler_step_woken, or pass, looks at it whatever the pacing. */
void reconciler_wake_job(struct reconciler *rec, const char *job_id);

/* Reconcile only the jobs named since the last call (a look for a running
 * one; waiting jobs are left to the passes, which plan in queue order).
 * The first call of a reconciler is a pass. Returns how many were named. */
int reconciler_step_woken(struct reconciler *rec);

/* The agent of attempt n of job_id told a heartbeat over the socket and
 * nothing else changed ("beat JOB N"): its liveness is updated here, with
 * no look. The job is then looked at on its deadlines only (heartbeat
 * limit, max_runtime backstop, the background sweep every 30 s at most)
 * and when a wake names it. Returns 1 when the beat was taken as a wake
 * instead (the attempt was not looked at since it reported: the caller
 * runs reconciler_step_woken), else 0. */
int reconciler_beat(struct reconciler *rec, const char *job_id, int n);

/* Once a second: a full pass (reconciler_step) when something needs one
 * (a job waits, is cancelled, stopped or under notice, its agent does not
 * beat, a budget is in force, or 30 s since the last); otherwise only the
 * jobs whose deadline came are looked at. Returns the live jobs of the
 * last full pass. */
int reconciler_tick(struct reconciler *rec);

/* Operations submitted and not answered yet (the daemon stays up while
 * there are any). */
size_t reconciler_busy(const struct reconciler *rec);

/* Without a loop: run the queued operations and hand their results to
 * the state machine, until none is queued. Returns how many ran. */
size_t reconciler_run_ops(struct reconciler *rec);

/* The transition table's size, and how often row matched in this process
 * (with the row's phase and event, for messages): the unit tests check
 * that every row is reached. */
size_t reconcile_transition_count(void);
unsigned long reconcile_transition_hits(size_t row, int *ret_phase, int *ret_event);

#endif
