/*
 * store: frugal's state in SQLite ($FRUGAL_HOME/state.db, WAL mode, 0600).
 *
 * Tables (see the migrations in store.c): jobs, attempts, resources (the
 * ledger: a row is committed BEFORE the resource it names is created),
 * events (what happened to a job, for humans) and costs (one row per
 * ended attempt). Several frugal processes may use the store at once:
 * writes run in IMMEDIATE transactions and wait on a busy timeout.
 *
 * Rows come back as transparent structs that own their strings; release
 * them with the matching _release function.
 */
#ifndef FRUGAL_STORE_STORE_H
#define FRUGAL_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct store;

enum job_status {
	JOB_PENDING = 0,
	JOB_PROVISIONING,
	JOB_STARTING,
	JOB_RUNNING,
	JOB_RECOVERING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELLED,
};

const char *job_status_name(enum job_status s);
/* -1 when name is not a status. */
int job_status_from_name(const char *name);
int job_status_is_terminal(enum job_status s);

#define JOB_ID_MAX 16

/* What the user (or a budget) asked of a live job; stored as 0/1/2 in
 * jobs.cancel_requested (and shown so by status --json). */
enum job_cancel {
	JOB_CANCEL_NONE = 0,
	JOB_CANCEL_NOW = 1,	/* frugal cancel: stop the agent, then tear down */
	JOB_CANCEL_STOP = 2,	/* a budget: stop gracefully (checkpoint, then end) */
};

/* How an attempt ended; stored and shown as its name (attempts.outcome,
 * status --json "outcome", the agent's status.json). New outcomes go at
 * the end, with their name in store.c. */
enum attempt_outcome {
	OUTCOME_NONE = 0,	/* not decided yet */
	OUTCOME_SUCCEEDED,
	OUTCOME_FAILED,
	OUTCOME_PREEMPTED,
	OUTCOME_CANCELLED,
	OUTCOME_TIMED_OUT,
	OUTCOME_LAUNCH_FAILED,
	OUTCOME_OUTPUTS_FAILED,	/* the outputs could not be stored */
	OUTCOME_BUDGET_STOPPED,	/* a budget stopped it (gracefully) */
	OUTCOME_LOST,		/* the controller stopped hearing the agent (its
				 * heartbeat grew too old): the machine was ended */
	OUTCOME_ORPHANED,	/* the agent stopped hearing the controller for
				 * stop.orphan_timeout and ended its machine */
};

/* "succeeded", ...; NULL for OUTCOME_NONE. */
const char *attempt_outcome_name(enum attempt_outcome o);
/* OUTCOME_NONE for NULL; an unknown name reads as OUTCOME_FAILED. */
enum attempt_outcome attempt_outcome_from_name(const char *name);

struct job {
	char id[JOB_ID_MAX];
	char *name;
	int64_t seq;		/* submission order */
	enum job_status status;
	char *task_json;	/* struct task as JSON (no secret values) */
	char *backend;		/* chosen backend */
	char *accelerators;	/* for tables: "A100:1" or "-" */
	int gpus;		/* GPUs per attempt */
	int64_t submitted_at;	/* Unix ms */
	int64_t updated_at;
	int64_t ended_at;	/* 0 while live */
	int restarts;		/* attempts after the first */
	int error_restarts;	/* restarts charged to max_restarts_on_errors */
	double cost_usd;	/* cost_micro in USD, for reading only */
	char *outputs_url;
	char *reason;		/* why it ended / why it waits; may be NULL */
	enum job_cancel cancel_requested;
	char *sweep_id;		/* may be NULL */
	int n_attempts;		/* filled by get, list_live, list_sweep (not list) */
	char *params_json;	/* sweep trial parameters {"LR": "0.001"}; may be NULL */
	char *metrics_json;	/* last values the job reported; may be NULL */
	double budget;		/* USD; 0: none */
	int64_t cost_micro;	/* ended attempts, from the cost ledger (USD * 1e6) */
	int64_t ran_ms;		/* how long its ended attempts ran */
	char *storage_url;	/* the storage at submission; NULL: jobs from before */
};

struct job_list {
	struct job *items;
	size_t n, alloc;
};

void job_release(struct job *j);
void job_list_release(struct job_list *l);

struct attempt {
	char job_id[JOB_ID_MAX];
	int n;			/* 1, 2, ... */
	char *backend;
	char *region;
	char *zone;
	char *instance_type;
	int spot;
	double price_per_hour;	/* as of launch; never re-priced */
	char *gpus;		/* "0,1": devices held (local backend) */
	char *instance_id;	/* provider's id once known */
	int64_t started_at;
	int64_t ended_at;	/* 0 while live */
	char *outcome;		/* NULL while live */
	int exit_code;
	int has_exit_code;
	int64_t notice_deadline;	/* a preemption notice ends the machine then; 0: none */
	char *price_source;	/* where price_per_hour came from ("catalog", ...); may be NULL */
	double volume_price_per_hour;	/* the part of price_per_hour that is its volumes */
	/* From the cost ledger, once the attempt ended (has_cost). */
	int has_cost;
	int64_t billed_seconds;
	int64_t cost_micro;
};

struct attempt_list {
	struct attempt *items;
	size_t n, alloc;
};

void attempt_release(struct attempt *a);
void attempt_list_release(struct attempt_list *l);

/* Ledger row of one resource a provider creates. */
enum resource_state {
	RES_CREATING = 0,	/* row committed, create call may or may not have happened */
	RES_LIVE,		/* the provider has it under provider_id */
	RES_DELETING,		/* teardown asked, not yet confirmed */
	RES_GONE,		/* the provider confirmed it is gone */
};

const char *resource_state_name(enum resource_state s);

struct resource {
	int64_t id;
	char job_id[JOB_ID_MAX];
	int attempt;
	char *provider;
	char *kind;		/* "instance", "volume", ... */
	char *token;		/* idempotency token / deterministic name (unique) */
	char *provider_id;	/* NULL until known */
	enum resource_state state;
	int64_t created_at;
	int64_t updated_at;
};

struct resource_list {
	struct resource *items;
	size_t n, alloc;
};

void resource_release(struct resource *r);
void resource_list_release(struct resource_list *l);

/* Open (creating and migrating) the database at path. */
int store_open(const char *path, struct store **ret, struct error *err);
void store_free(struct store *st);
/* The schema version this build writes. */
int store_schema_version(void);

/* Transactions (IMMEDIATE): group several writes into one commit. */
int store_begin(struct store *st, struct error *err);
int store_commit(struct store *st, struct error *err);
void store_rollback(struct store *st);

/* ---- jobs ---- */

/* Insert j as a new PENDING job; a fresh short id is written into j->id
 * and j->seq. secrets_box (may be NULL) is the sealed secret values. */
int store_job_insert(struct store *st, struct job *j, const void *secrets_box,
		     size_t secrets_len, struct error *err);
/* Look a job up by id, or by name (the newest job of that name). */
int store_job_get(struct store *st, const char *id_or_name, struct job *ret,
		  struct error *err);
/* Jobs in submission order. live_only: only non-terminal ones.
 * recent: with live_only, also the newest `recent` finished jobs. */
int store_job_list(struct store *st, int live_only, int recent, struct job_list *ret,
		   struct error *err);
/*
 * Stream the jobs of store_job_list (same live_only and recent) from one
 * query: fn is called once per job, in submission order, with the job
 * (task_json NULL; ran_ms filled) and, with_attempts, its attempts in order
 * with their ledger costs and n_attempts counted (else an empty list and
 * n_attempts 0, as store_job_list). Both are the store's and valid during
 * the call only. fn returns non-zero to stop early. Memory stays that of
 * one job, whatever the number of jobs.
 */
typedef int store_job_fn(const struct job *j, const struct attempt_list *attempts, void *ctx);
int store_job_each(struct store *st, int live_only, int recent, int with_attempts,
		   store_job_fn *fn, void *ctx, struct error *err);
/* How many jobs have finished (status shows the newest of them). */
int store_job_count(struct store *st, int64_t *ret_finished, struct error *err);
/* Live jobs of one backend in submission order (the controller's queue). */
int store_job_list_live(struct store *st, struct job_list *ret, struct error *err);
/* The sealed secrets of a job (caller frees *ret; NULL/0 when none). */
int store_job_secrets(struct store *st, const char *id, void **ret, size_t *ret_len,
		      struct error *err);
/* The storage URL job id was submitted with (*ret NULL for jobs recorded
 * before it was; caller frees). */
int store_job_storage_url(struct store *st, const char *id, char **ret, struct error *err);
/* Store the last metric values a job reported (a JSON object). */
int store_job_set_metrics(struct store *st, const char *id, const char *metrics_json,
			  struct error *err);
/* The trials of a sweep in submission order. */
int store_job_list_sweep(struct store *st, const char *sweep_id, struct job_list *ret,
			 struct error *err);

/* ---- sweeps ---- */

struct sweep_row {
	char id[JOB_ID_MAX];	/* "sw" + 5 characters */
	char *name;
	char *method;		/* "grid" or "random" */
	int max_parallel;	/* 0: no limit */
	double budget;		/* USD for the whole sweep; 0: none */
	int64_t seed;
	int trials;		/* trials launched */
	int refused;		/* trials refused by the budget */
	int64_t submitted_at;
};
void sweep_row_release(struct sweep_row *s);
/* Insert s; a fresh id is written into s->id. */
int store_sweep_insert(struct store *st, struct sweep_row *s, struct error *err);
/* By id, or by name (the newest sweep of that name). */
int store_sweep_get(struct store *st, const char *id, struct sweep_row *ret,
		    struct error *err);

/* Forget the sealed secrets (when the job is over). */
int store_job_drop_secrets(struct store *st, const char *id, struct error *err);

/* Set status (and reason, which may be NULL to keep the old one); sets
 * ended_at when the status is terminal. */
int store_job_set_status(struct store *st, const char *id, enum job_status s,
			 const char *reason, struct error *err);
int store_job_request_cancel(struct store *st, const char *id, struct error *err);
/* Ask for a graceful stop (checkpoint, then end): cancel_requested = 2,
 * with the reason shown to the user. A job already being cancelled keeps
 * its request. */
int store_job_request_stop(struct store *st, const char *id, const char *reason,
			   struct error *err);
/* What a sweep's trials cost so far (ended attempts), in micro-dollars. */
int store_sweep_spent(struct store *st, const char *sweep_id, int64_t *ret_micro,
		      struct error *err);
/* What every attempt that ended since since_ms cost, in micro-dollars. */
int store_cost_since(struct store *st, int64_t since_ms, int64_t *ret_micro,
		     struct error *err);
int store_job_set_counts(struct store *st, const char *id, int restarts,
			 int error_restarts, struct error *err);
int store_job_add_cost(struct store *st, const char *id, int64_t micro, struct error *err);
int store_job_set_outputs_url(struct store *st, const char *id, const char *url,
			      struct error *err);

/* ---- attempts ---- */

int store_attempt_insert(struct store *st, const struct attempt *a, struct error *err);
int store_attempt_get(struct store *st, const char *job_id, int n, struct attempt *ret,
		      struct error *err);
int store_attempt_list(struct store *st, const char *job_id, struct attempt_list *ret,
		       struct error *err);
/* Every attempt not yet ended, any job. */
int store_attempt_list_live(struct store *st, struct attempt_list *ret, struct error *err);
/* The live attempts of backend that hold GPUs (what ops.reserve reads):
 * a launch does not list every live attempt. */
int store_attempt_list_live_gpus(struct store *st, const char *backend,
				 struct attempt_list *ret, struct error *err);
int store_attempt_set_instance(struct store *st, const char *job_id, int n,
			       const char *instance_id, struct error *err);
/* Record the outcome decided for a live attempt whose teardown is not
 * confirmed yet (ended_at stays 0: the attempt is still live). */
int store_attempt_set_outcome(struct store *st, const char *job_id, int n, const char *outcome,
			      int has_exit, int exit_code, struct error *err);
/* End an attempt: outcome, exit code (has_exit 0: none), ended_at. */
int store_attempt_end(struct store *st, const char *job_id, int n, const char *outcome,
		      int has_exit, int exit_code, int64_t ended_at, struct error *err);

/* Record that a preemption notice was given: the machine goes at deadline. */
int store_attempt_set_notice(struct store *st, const char *job_id, int n, int64_t deadline,
			     struct error *err);

/* ---- blocked locations (capacity errors, preemptions) ---- */

/*
 * One convention for zones: a location without zones has zone "-" (in
 * plans, attempts and blocks); a block whose region or zone is "" (or
 * NULL when added) covers every region or zone.
 */
#define ZONE_NONE "-"

struct block {
	char *backend;
	char *region;		/* "": every region */
	char *zone;		/* "": every zone of the region; "-": no zone */
	int64_t until;		/* Unix ms; a learned block: seconds from now (see provider.h) */
	char *reason;
};
struct block_list {
	struct block *items;
	size_t n, alloc;
};
void block_list_add(struct block_list *l, const char *backend, const char *region,
		    const char *zone, int64_t until, const char *reason);
void block_list_release(struct block_list *l);
/* 1 when a block of l covers the location (zone NULL or "" reads as "-"). */
int block_list_covers(const struct block_list *l, const char *backend, const char *region,
		      const char *zone);
/* The blocks of backend in force at now. */
int store_block_list_active(struct store *st, const char *backend, int64_t now,
			    struct block_list *ret, struct error *err);

/* Keep a location out until `until` (ms); region/zone "" or NULL: all. */
int store_block_add(struct store *st, const char *backend, const char *region,
		    const char *zone, int64_t until, const char *reason, struct error *err);
/* 1 when the location is blocked at now, 0 when not, negative on error. */
int store_block_active(struct store *st, const char *backend, const char *region,
		       const char *zone, int64_t now, struct error *err);

/* ---- resource ledger ---- */

/* Commit a CREATING row before the resource exists; *ret_id is its id.
 * A token already in the ledger returns that row's id (idempotent). */
int store_resource_begin(struct store *st, const char *job_id, int attempt,
			 const char *provider, const char *kind, const char *token,
			 int64_t *ret_id, struct error *err);
int store_resource_set(struct store *st, int64_t id, const char *provider_id,
		       enum resource_state state, struct error *err);
/* When attempt's row of kind became GONE (ms; *at 0 when it has no such
 * row or it is not gone yet). */
int store_resource_gone_at(struct store *st, const char *job_id, int attempt,
			   const char *kind, int64_t *at, struct error *err);
/* Rows whose state is not GONE; job_id NULL for every job. */
int store_resource_list_open(struct store *st, const char *job_id,
			     struct resource_list *ret, struct error *err);

/* ---- events and costs ---- */

int store_event_add(struct store *st, const char *job_id, const char *kind,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct event {
	int64_t at;
	char *kind;
	char *message;
};
struct event_list {
	struct event *items;
	size_t n, alloc;
};
void event_list_release(struct event_list *l);
int store_event_list(struct store *st, const char *job_id, struct event_list *ret,
		     struct error *err);

struct cost_row {
	char *key;		/* job id, sweep id, backend, day or month */
	char *label;		/* job name, sweep name; may be NULL */
	int attempts;
	int64_t billed_seconds;
	int64_t micro;		/* USD * 1e6 */
	int running;		/* includes an attempt still running (set by the caller) */
};
struct cost_list {
	struct cost_row *items;
	size_t n, alloc;
};
void cost_list_release(struct cost_list *l);

/* Record the cost of an ended attempt (and add it to the job's total);
 * a second record of the same attempt changes nothing. */
int store_cost_record(struct store *st, const char *job_id, int attempt,
		      const char *backend, int64_t billed_seconds, int64_t usd_micro,
		      struct error *err);
/* Ledger totals of the attempts that ended in [since_ms, until_ms)
 * (until_ms 0: no end), grouped by "job", "sweep", "backend", "day" or
 * "month" (UTC). Running attempts are not in the ledger: the caller adds
 * them (catalog/billing.h attempt_cost). */
int store_cost_report(struct store *st, const char *by, int64_t since_ms, int64_t until_ms,
		      struct cost_list *ret, struct error *err);
/* The same rows streamed from one query: fn gets each (the store's, valid
 * during the call only) in report order; non-zero from fn stops. */
typedef int store_cost_fn(const struct cost_row *row, void *ctx);
int store_cost_each(struct store *st, const char *by, int64_t since_ms, int64_t until_ms,
		    store_cost_fn *fn, void *ctx, struct error *err);

#endif
