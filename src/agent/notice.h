/*
 * notice: where the agent learns that its machine is about to be taken
 * away (a spot reclaim, a Slurm preemption, `frugal debug preempt`).
 *
 * A notice source is a small table of operations (curl's vtls style):
 * start watching on the agent's loop, stop watching. When it sees a
 * notice it calls the agent's function once with a struct notice; the
 * agent then signals the job, waits, stores a last checkpoint and records
 * the attempt as preempted. A backend with a notice of its own (the EC2
 * instance-action document, the GCE "preempted" metadata key) adds a
 * source here; notice_sources_for() says which ones a backend watches.
 *
 * The sources there are now:
 *  - "local": the file INSTANCE_DIR/notice.json, written atomically by
 *    `frugal debug preempt JOB --notice S` before it sends SIGUSR2 to the
 *    agent:
 *        {"deadline_ms": <Unix ms when the machine is taken>,
 *         "source": "debug"}
 *    The agent reacts to SIGUSR2 at once and also looks for the file every
 *    NOTICE_POLL_MS, in case the signal is lost. A file without a usable
 *    deadline_ms (or that does not parse) is still a notice, with no
 *    deadline; a SIGUSR2 without a file is one from source "SIGUSR2".
 *  - "sigusr1": SIGUSR1 delivered to the agent itself (what Slurm's
 *    --signal=B:USR1@N sends), a notice with no deadline from source
 *    "SIGUSR1".
 *  - "sigterm" (backend slurm only): SIGTERM delivered to the agent, what
 *    slurmd sends every process of a job that is requeued or preempted
 *    (KillWait seconds before SIGKILL), a notice from source "SIGTERM"
 *    whose window is $FRUGAL_SIGTERM_NOTICE_WINDOW seconds when the batch
 *    script sets it. For such a backend SIGTERM is no longer a cancel:
 *    frugal cancels with SIGINT (notice_sigterm_is_notice()).
 * A notice with no deadline gets recovery.notice_grace as its window.
 */
#ifndef FRUGAL_AGENT_NOTICE_H
#define FRUGAL_AGENT_NOTICE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/error.h"

#define NOTICE_POLL_MS 1000
#define NOTICE_FILE "notice.json"
#define NOTICE_FILE_MAX (64 * 1024)
#define NOTICE_SIGTERM_WINDOW_ENV "FRUGAL_SIGTERM_NOTICE_WINDOW"

struct notice {
	char source[32];	/* "debug", "SIGUSR1", ... */
	int64_t deadline_ms;	/* Unix ms the machine goes; 0: not given */
};

/* Called on the loop when a notice arrives. */
typedef void (*notice_fn)(void *arg, const struct notice *n);

struct notice_source;

struct notice_source_ops {
	const char *name;
	/* Start watching; s->priv is the source's. On failure nothing is
	 * left running and stop is not called. */
	int (*start)(struct notice_source *s, struct error *err);
	/* Stop watching and close the handles; the source frees s->priv
	 * once libuv is done with them. */
	void (*stop)(struct notice_source *s);
};

struct notice_source {
	const struct notice_source_ops *ops;
	uv_loop_t *loop;
	char *instance_dir;
	notice_fn fn;
	void *arg;
	void *priv;
	int started;
};

extern const struct notice_source_ops notice_local_ops;
extern const struct notice_source_ops notice_sigusr1_ops;
extern const struct notice_source_ops notice_sigterm_ops;
/* GCE: the metadata key instance/preempted, long-polled (notice_gce.c). */
extern const struct notice_source_ops notice_gce_ops;

/* The sources a backend's agent watches (NULL-terminated; a NULL or
 * unknown backend gets the local ones). */
const struct notice_source_ops *const *notice_sources_for(const char *backend);

/* 1 when the backend's agent takes SIGTERM as a preemption notice (it
 * watches "sigterm"), so SIGTERM must not cancel the job there. */
int notice_sigterm_is_notice(const char *backend);

/* A source of ops on loop that calls fn(arg, notice); not started. */
struct notice_source *notice_source_new(const struct notice_source_ops *ops, uv_loop_t *loop,
					const char *instance_dir, notice_fn fn, void *arg);
int notice_source_start(struct notice_source *s, struct error *err);
/* Stop it (when started) and free it; its handles are freed once libuv
 * has closed them, so the loop must run on. NULL is fine. */
void notice_source_free(struct notice_source *s);

/*
 * Parse a notice.json document into *ret. Always fills *ret (source
 * "notice.json" and no deadline when it says nothing usable) and returns
 * FRUGAL_EINVAL when the text is not such a document.
 */
int notice_parse(const char *text, size_t len, struct notice *ret, struct error *err);

#endif
