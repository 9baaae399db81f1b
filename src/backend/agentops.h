/*
 * agentops: what a backend gives the agent that runs on its machines,
 * declared here at the backend layer so that each backend folder can
 * implement it and the agent (a later layer) can use it through the
 * registry: where the agent learns that its machine is about to be
 * taken away (notice sources) and how it ends its own machine (the
 * dead-man switch).
 *
 * A notice source is a small table of operations (curl's vtls style):
 * start watching on the agent's loop, stop watching. When it sees a
 * notice it calls the agent's function once with a struct notice; the
 * agent then signals the job, waits, stores a last checkpoint and records
 * the attempt as preempted. A backend with a notice of its own (a cloud's
 * metadata service) defines a source in its folder and lists it in its
 * struct agent_ops.
 *
 * The generic sources (src/backend/common/notice.c):
 *  - "local": the file INSTANCE_DIR/notice.json, written atomically by
 *    `frugal debug preempt JOB --notice S` before it sends SIGUSR2 to the
 *    agent:
 *        {"deadline_ms": <Unix ms when the machine is taken>,
 *         "source": "debug"}
 *    The agent reacts to SIGUSR2 at once and also looks for the file every
 *    NOTICE_POLL_MS, in case the signal is lost. A file without a usable
 *    deadline_ms (or that does not parse) is still a notice, with no
 *    deadline; a SIGUSR2 without a file is one from source "SIGUSR2".
 *  - "sigusr1": SIGUSR1 delivered to the agent itself (what a batch
 *    scheduler's --signal=B:USR1@N sends), a notice with no deadline from
 *    source "SIGUSR1".
 *  - "sigterm": SIGTERM delivered to the agent, what a scheduler or
 *    container runtime sends before it kills a job it preempts, a notice
 *    from source "SIGTERM" whose window is $FRUGAL_SIGTERM_NOTICE_WINDOW
 *    seconds when the launcher sets it. For a backend that watches it
 *    SIGTERM is no longer a cancel: frugal cancels with SIGINT.
 * A notice with no deadline gets recovery.notice_grace as its window.
 *
 * The machine: once the attempt's final status is stored (or
 * stop.orphan_timeout after it could not be), the agent ends its own
 * machine with its backend's machine_ops, so that no machine outlives its
 * job even when the controller is gone.
 */
#ifndef FRUGAL_BACKEND_AGENTOPS_H
#define FRUGAL_BACKEND_AGENTOPS_H

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

/* The source of a notice whose "reason" is "budget": a budget stop, not a
 * preemption ({"deadline_ms": ..., "source": "budget", "reason": "budget"}
 * in notice.json, written by the controller when a budget is reached). */
#define NOTICE_SOURCE_BUDGET "budget"
int notice_is_budget(const struct notice *n);

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

/* The generic sources (src/backend/common/notice.c). */
extern const struct notice_source_ops notice_local_ops;
extern const struct notice_source_ops notice_sigusr1_ops;
extern const struct notice_source_ops notice_sigterm_ops;

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

/* ---- the machine ---- */

/* What the agent knows of the machine it ends. */
struct machine_self {
	const char *instance_dir;	/* the attempt's directory */
	const char *storage_url;	/* the job's storage */
	const char *outcome;		/* the attempt's ("succeeded", ...), or NULL */
};

struct machine_ops {
	/* What end() does, for the log ("removing the instance directory"). */
	const char *action;
	/* End the machine. May not return on success (a power-off); returns 0
	 * when it has and the agent should exit. */
	int (*end)(const struct machine_self *self, struct error *err);
};

/* Remove the instance directory, the "machine" of the local backend and
 * what is left to end where a scheduler ends the rest as the agent exits
 * (src/backend/common/machine.c). Leaves it first; refuses a directory
 * that is not absolute, is "/", or holds the job's file:// storage. */
int machine_remove_instance_dir(const struct machine_self *self, struct error *err);

/* What a backend gives its agent: the notice sources it watches
 * (NULL-terminated) and how it ends its machine (NULL: the agent ends
 * nothing; the controller's teardown does). */
struct agent_ops {
	const struct notice_source_ops *const *notice_sources;
	const struct machine_ops *machine;
};

#endif
