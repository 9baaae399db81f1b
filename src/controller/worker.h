/*
 * worker: where the controller runs provider operations, off its event
 * loop, so that a slow or hung cloud API delays nothing but its own
 * backend.
 *
 * A pool has one lane per backend. A lane is a thread that runs its
 * backend's operations one at a time, highest priority first (teardown
 * and cancel before looks, launches and plans), in submission order
 * within a priority. One thread per backend means a backend's private
 * state (API clients, caches, paced request times) needs no locks, and
 * operations of one attempt never overlap. A finished operation is handed
 * back to the loop thread (uv_async) and its done callback runs there.
 *
 * The store stays on the loop thread: operations never touch SQLite.
 *
 * A pool made without a loop has no threads: worker_pool_run runs what is
 * queued in the caller's thread (unit tests, benchmarks).
 */
#ifndef FRUGAL_CONTROLLER_WORKER_H
#define FRUGAL_CONTROLLER_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct worker_pool;
struct worker_lane;

/* Priorities of work: 0 (last) to WORK_PRIORITIES - 1 (first). */
#define WORK_PRIORITIES 8

/* One operation. The caller owns it; it must stay valid until done runs. */
struct work {
	void (*run)(struct work *w);	/* on the lane's thread */
	void (*done)(struct work *w);	/* on the loop thread, once, after run */
	int priority;			/* higher runs first; 0 to WORK_PRIORITIES - 1 */
	/* Owned by the pool. */
	struct work *next;
	struct worker_lane *lane;
	int64_t started_ms;		/* time_mono_ms() when run began; 0 while queued */
};

/* A pool whose results come back on loop; NULL: no threads. */
struct worker_pool *worker_pool_new(uv_loop_t *loop);

/*
 * Stop the lanes: queued operations are dropped (their done never runs),
 * running ones are waited for up to wait_ms. Returns the number of lanes
 * still running an operation (their threads are left behind; what those
 * operations use must not be freed). Results not delivered yet are
 * dropped. With a loop, the pool's memory goes when the loop has closed
 * its handle (run the loop once more, as one does before uv_loop_close).
 */
size_t worker_pool_free(struct worker_pool *wp, int64_t wait_ms);

/* Queue w on the lane called name (made on first use). */
void worker_submit(struct worker_pool *wp, const char *name, struct work *w);

/* When w began to run (time_mono_ms()), or 0 while it is queued. */
int64_t worker_started(struct worker_pool *wp, struct work *w);

/* Operations queued or running, not yet done. */
size_t worker_pending(const struct worker_pool *wp);

/* Without a loop: run every queued operation, then its done, until none
 * is queued. Returns how many ran. */
size_t worker_pool_run(struct worker_pool *wp);

#endif
