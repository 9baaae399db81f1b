/*
 * status: what the agent reports about its attempt, as the JSON document
 * JOB_PREFIX/attempts/N/status.json (key_status) that the controller
 * reads and that backends mirror from machines they reach over SSH:
 *
 *   {"job_id": "k3m9xq", "attempt": 1,
 *    "phase": "starting|setup|running|stopping|uploading|exited",
 *    "agent_pid": 123, "job_pgid": 456 | null,
 *    "started_at": MS, "heartbeat_at": MS, "ended_at": MS | null,
 *    "outcome": null | "succeeded|failed|cancelled|timed_out|preempted|budget_stopped|
 *               outputs_failed|orphaned",
 *    "busy": null | "prepare|checkpoint|outputs",
 *    "exit_code": null | int, "reason": "...", "outputs": ["key", ...],
 *    "metrics": {"loss": 0.31, ...}}     (only when the job reported some)
 *
 * Times are Unix milliseconds. outcome, exit_code and ended_at are set
 * only in the final document (phase "exited"): once a reader sees an
 * outcome, the outputs are stored and nothing else will change. The
 * heartbeat is heartbeat_at, refreshed every STATUS_HEARTBEAT_MS; "busy"
 * names a synchronous step (the workdir copy and checkpoint restore,
 * a checkpoint upload, the outputs) during which the heartbeat pauses:
 * the controller then waits STATUS_BUSY_LIMIT_MS before it takes the
 * agent for lost.
 *
 * A value type: the agent fills it in and renders it on every write
 * (attempt_status_to_json); readers check a document with
 * attempt_status_parse. Keys a reader does not know are ignored (a newer
 * agent may add some); a known key of the wrong type is an error.
 */
#ifndef FRUGAL_CONTRACT_STATUS_H
#define FRUGAL_CONTRACT_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "store/store.h"

enum attempt_phase {
	PHASE_STARTING = 0,	/* preparing dirs, copying the workdir */
	PHASE_SETUP,		/* setup is running */
	PHASE_RUNNING,		/* run is running */
	PHASE_STOPPING,		/* the job was told to stop */
	PHASE_UPLOADING,	/* storing outputs */
	PHASE_EXITED,		/* final: outcome is set */
};

/* enum attempt_outcome and its names (attempt_outcome_name) are the
 * store's (store/store.h): the ledger and status.json spell them alike. */

/* How often the agent refreshes heartbeat_at. */
#define STATUS_HEARTBEAT_MS 5000
/* How long a heartbeat may pause while the agent says it is busy. */
#define STATUS_BUSY_LIMIT_MS (30LL * 60 * 1000)

struct attempt_status {
	char *job_id;
	int attempt;
	enum attempt_phase phase;
	int agent_pid;
	int job_pgid;		/* 0: none yet */
	int64_t started_at;
	int64_t heartbeat_at;
	int64_t ended_at;	/* 0: not yet */
	enum attempt_outcome outcome;
	int has_exit_code;
	int exit_code;
	char *reason;		/* NULL: "" */
	char **outputs;		/* keys stored under outputs_url */
	size_t n_outputs, alloc_outputs;
	char *metrics_json;	/* last values the job reported (an object); NULL: none */
	const char *busy;	/* a static name, or NULL; parsed: one of status_busy_names */
};
#define ATTEMPT_STATUS_INIT { NULL, 0, PHASE_STARTING, 0, 0, 0, 0, 0, OUTCOME_NONE, \
			    0, 0, NULL, NULL, 0, 0, NULL, NULL }

void attempt_status_release(struct attempt_status *s);
/* Replace the reason (printf-style). */
void attempt_status_set_reason(struct attempt_status *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Record one stored output key (copied). */
void attempt_status_add_output(struct attempt_status *s, const char *key);

/* The JSON document (caller frees). */
char *attempt_status_to_json(const struct attempt_status *s);

/*
 * Check the document text (len bytes) into *ret (release with
 * attempt_status_release). Required: an object with a known "phase";
 * "outcome", when not null, a known one and only with phase "exited".
 * FRUGAL_EINVAL naming the field otherwise ("status.json: field
 * 'attempt': expected an integer >= 1"); *ret is untouched on failure.
 */
int attempt_status_parse(const char *text, size_t len, struct attempt_status *ret,
			 struct error *err);

const char *attempt_phase_name(enum attempt_phase p);
/* The phase or outcome named name; FRUGAL_EINVAL for an unknown name. */
int attempt_phase_from_name(const char *name, enum attempt_phase *ret);
int attempt_outcome_parse(const char *name, enum attempt_outcome *ret);

#endif
