/*
 * status: what the agent reports about its attempt, as the JSON document
 * JOB_PREFIX/attempts/N/status.json that the controller reads:
 *
 *   {"job_id": "k3m9xq", "attempt": 1,
 *    "phase": "starting|setup|running|stopping|uploading|exited",
 *    "agent_pid": 123, "job_pgid": 456 | null,
 *    "started_at": MS, "heartbeat_at": MS, "ended_at": MS | null,
 *    "outcome": null | "succeeded|failed|cancelled|timed_out|preempted|budget_stopped",
 *    "exit_code": null | int, "reason": "...", "outputs": ["key", ...],
 *    "metrics": {"loss": 0.31, ...}}     (only when the job reported some)
 *
 * Times are Unix milliseconds. outcome, exit_code and ended_at are set
 * only in the final document (phase "exited"): once a reader sees an
 * outcome, the outputs are stored and nothing else will change. A value
 * type: the agent fills it in and renders it on every write.
 */
#ifndef FRUGAL_AGENT_STATUS_H
#define FRUGAL_AGENT_STATUS_H

#include <stddef.h>
#include <stdint.h>

enum agent_phase {
	PHASE_STARTING = 0,	/* preparing dirs, copying the workdir */
	PHASE_SETUP,		/* setup is running */
	PHASE_RUNNING,		/* run is running */
	PHASE_STOPPING,		/* the job was told to stop */
	PHASE_UPLOADING,	/* storing outputs */
	PHASE_EXITED,		/* final: outcome is set */
};

enum agent_outcome {
	OUTCOME_NONE = 0,
	OUTCOME_SUCCEEDED,
	OUTCOME_FAILED,
	OUTCOME_CANCELLED,
	OUTCOME_TIMED_OUT,
	OUTCOME_PREEMPTED,
	OUTCOME_BUDGET_STOPPED,	/* a notice that a budget is reached */
	OUTCOME_OUTPUTS_FAILED,	/* the job succeeded, its outputs could not all be stored */
};

struct agent_status {
	char *job_id;
	int attempt;
	enum agent_phase phase;
	int agent_pid;
	int job_pgid;		/* 0: none yet */
	int64_t started_at;
	int64_t heartbeat_at;
	int64_t ended_at;	/* 0: not yet */
	enum agent_outcome outcome;
	int has_exit_code;
	int exit_code;
	char *reason;		/* NULL: "" */
	char **outputs;		/* keys stored under outputs_url */
	size_t n_outputs, alloc_outputs;
	char *metrics_json;	/* last values the job reported (an object); NULL: none */
};
#define AGENT_STATUS_INIT { NULL, 0, PHASE_STARTING, 0, 0, 0, 0, 0, OUTCOME_NONE, \
			    0, 0, NULL, NULL, 0, 0, NULL }

void agent_status_release(struct agent_status *s);
/* Replace the reason (printf-style). */
void agent_status_set_reason(struct agent_status *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Record one stored output key (copied). */
void agent_status_add_output(struct agent_status *s, const char *key);

/* The JSON document (caller frees). */
char *agent_status_to_json(const struct agent_status *s);

const char *agent_phase_name(enum agent_phase p);
/* "succeeded", ...; NULL for OUTCOME_NONE. */
const char *agent_outcome_name(enum agent_outcome o);

#endif
