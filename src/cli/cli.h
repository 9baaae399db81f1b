/*
 * cli: the commands users type. One file per command (cmd_*.c); this
 * header holds what they share: opening FRUGAL_HOME, the config and the
 * store, printing diagnostics, and aligned tables.
 */
#ifndef FRUGAL_CLI_CLI_H
#define FRUGAL_CLI_CLI_H

#include <stdio.h>

#include "base/error.h"
#include "spec/config.h"
#include "store/home.h"
#include "store/store.h"
#include "backend/provider.h"
#include "spec/task.h"

struct cli {
	struct home home;
	struct config cfg;
	struct store *st;	/* NULL until cli_store() */
	char *mounts_note;	/* what cli_upload_mounts did, for the job's events */
};

/* Open FRUGAL_HOME and read config.yaml; prints problems and returns -1. */
int cli_open(struct cli *c);
/* The store, opened on first use; NULL (after printing why) on failure. */
struct store *cli_store(struct cli *c);
void cli_close(struct cli *c);

/* "frugal: error: MSG" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_error_e(const struct error *err);

/* The storage URL jobs use (config or the default under FRUGAL_HOME). */
const char *cli_storage_url(const struct cli *c);
/* The storage job j was submitted with (config.yaml's for older jobs). */
const char *cli_job_storage_url(const struct cli *c, const struct job *j);
/* Where a job's outputs go when the task does not say. Caller frees. */
char *cli_outputs_url(const struct cli *c, const struct job *j);

/* Aligned text tables. */
struct table;
struct table *table_new(int ncols, ...);	/* header names */
void table_add(struct table *t, ...);		/* ncols strings */
struct table *table_newv(int ncols, const char **names);
void table_addv(struct table *t, const char **cells);
void table_print(struct table *t, FILE *out);
/* Colour the job states / outcomes in column col when printed to a
 * terminal (cli_color). */
void table_color_status(struct table *t, int col);
/* 1 when out is a terminal that takes colour: not with NO_COLOR set or
 * TERM=dumb. */
int cli_color(FILE *out);
void table_free(struct table *t);

/* Money and durations for tables (money: base/money.h money_format). */
void fmt_usd(double usd, char *buf, size_t len);

/* What a job has cost and how its time went so far: the cost ledger of
 * its ended attempts plus its running attempt from live (every attempt not
 * ended, store_attempt_list_live; may be NULL), priced by
 * catalog/billing.h attempt_cost -- the figure status, cost, sweep status
 * and budgets share. */
struct job_spend {
	int64_t micro;		/* USD * 1e6 */
	int64_t run_s;		/* time its attempts ran */
	int64_t queued_s;	/* the rest of its life: pending, held back, recovering */
	int running;		/* an attempt runs now: micro still grows */
};
void cli_job_spend(const struct job *j, const struct attempt_list *live, int64_t now_ms,
		   struct job_spend *ret);
void fmt_age(int64_t then_ms, char *buf, size_t len);
/* Bytes for people: "512 B", "12.4 MiB", "3.1 GiB". */
void fmt_size(int64_t bytes, char *buf, size_t len);

/* Commands: argv[0] is the command name. Return the exit status. */
int cmd_launch(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_cost(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_controller(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_offers(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_backends(int argc, char **argv);
int cmd_endpoints(int argc, char **argv);
int cmd_volume(int argc, char **argv);
int cmd_forward(int argc, char **argv);

/* A job's live attempt and where its ports are (cmd_endpoints.c). */
struct job_endpoints {
	struct job job;
	int attempt;
	char *backend, *token, *instance_id;
	struct provider *p;
	struct endpoint_list list;	/* one per resources.ports entry */
};
/* Fill ret for job (id or name); prints why not and returns -1. */
int cli_job_endpoints(struct cli *c, const char *job, struct job_endpoints *ret);
void job_endpoints_release(struct job_endpoints *je);
/* HOST:PORT or the URL of port of e, or NULL when it has neither. Caller frees. */
char *endpoint_address(const struct endpoint *e, int port);

struct task;
struct plan;
/* Parse a task file, printing every diagnostic; 0 or -1. */
int cli_parse_task(const char *path, struct task *ret);
/* Choose the backend and make the plan; prints why not and returns -1. */
int cli_plan(struct cli *c, const struct task *t, const char *backend, struct plan *ret);
/* The plan as a few human lines on out. */
void cli_print_plan(const struct task *t, const struct plan *pl, FILE *out);

struct catalog;
struct candidate;
/* The price tables (catalog/catalog.h) plus the local offers of the
 * config; prints why not and returns -1. Caller catalog_free()s. */
int cli_load_catalog(struct cli *c, struct catalog **ret);
/* The estimate of pl (NULL: none) for cli_estimate_secs(t, given_s)
 * with the backend's billing rule, then the optimizer's candidates for t
 * on the backends frugal can use, best first, with notes (on-demand
 * cheaper in expectation, cheaper offers on backends without
 * credentials). For check and launch --dry-run; never fails the command. */
void cli_print_estimate(struct cli *c, const struct task *t, const struct plan *pl,
			int64_t given_s, FILE *out);
/* A candidate of the optimizer as a provider plan (for launch). */
int cli_plan_from_candidate(const struct candidate *cd, struct plan *ret);

/* submit.c: what launch and sweep share. */
struct strbuf;
/* Seal name -> value pairs as one box (ret untouched when there are none). */
int cli_seal_secrets(struct cli *c, const struct kvlist *values, struct strbuf *ret);
/* What an estimate assumes when none is given: one hour. */
#define CLI_DEFAULT_ESTIMATE_S 3600
/* The run time estimates assume, the same in check, launch --dry-run,
 * launch and sweep: given_s (--estimate) when > 0, else stop.max_runtime,
 * else CLI_DEFAULT_ESTIMATE_S; *ret_why (may be NULL) says which. */
int64_t cli_estimate_secs(const struct task *t, int64_t given_s, const char **ret_why);
/* Micro-dollars of one run of t on the plan for cli_estimate_secs(),
 * billed by the backend's rule; the seconds used in *ret_secs. */
int64_t cli_estimate(const struct task *t, const struct plan *pl, int64_t given_s,
		     int64_t *ret_secs);
/* Micro-dollars spent this month (UTC): ended attempts and running ones so
 * far. 0, or -1 after printing why not. */
int cli_month_spent(struct cli *c, int64_t *ret_micro);
/* Micro-dollars left of budgets.monthly this month (negative: overspent);
 * 1 when there is no monthly budget, -1 on error. */
int cli_month_left(struct cli *c, int64_t *ret_left_micro);
/* Refuse (printing why, with the numbers) a job whose estimate is above
 * its budget or what is left of budgets.monthly: 0 or -1. */
int cli_check_budget(struct cli *c, const struct task *t, const struct plan *pl,
		     int64_t given_s);
/* Upload every local file_mounts source of t to the job storage
 * (storage/dataset.h: content-addressed, so data stored before is not
 * sent again) and set each one's dataset id. Says what it sent on stderr
 * (unless quiet). 0, or -1 after printing why not. */
int cli_upload_mounts(struct cli *c, struct task *t, int quiet);
/* Record one job of t (a sweep trial when sweep_id is set, with params). */
int cli_record_job(struct cli *c, const struct task *t, const struct plan *pl,
		   const struct strbuf *box, const char *sweep_id, const struct kvlist *params,
		   struct job *ret);

/* cmd_sweep.c */
int cli_launch_sweep(struct cli *c, struct task *t, const struct plan *pl,
		     const struct strbuf *box, int64_t estimate_secs, int detach, int json);
/* How many of t's trials the budgets let start (printing why not all):
 * *ret_fit of *ret_total. -1 when the sweep cannot be expanded. */
int cli_sweep_fit(struct cli *c, const struct task *t, const struct plan *pl, int64_t given_s,
		  size_t *ret_fit, size_t *ret_total);
int cli_sweep_status(struct cli *c, const char *id, const char *sort, int json);
int cli_follow_sweep(struct cli *c, const char *sweep_id);
/* What `launch` options replace in the task's resources; NULL (spot -1):
 * keep the task's. */
struct launch_overrides {
	const char *gpus;	/* "A100:8", "none" */
	const char *cpus;	/* "8", "8+" */
	const char *memory;	/* "32", "32+" GiB */
	const char *infra;	/* "CLOUD[/REGION[/ZONE]]" */
	const char *cloud;
	const char *region;
	const char *zone;
	const char *max_price;
	int spot;		/* 1 --spot, 0 --on-demand, -1 unset */
};
#define LAUNCH_OVERRIDES_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1 }
/* Apply o to t; prints what is wrong and returns -1. */
int cli_apply_overrides(struct task *t, const struct launch_overrides *o);

/* launch and sweep: one main; sweep = 1 takes --param & co. */
int cli_launch_main(int argc, char **argv, int sweep);
int cmd_sweep(int argc, char **argv);

/* Follow a job's logs until it ends (launch, logs -f). Returns the exit
 * status: 0 when it SUCCEEDED. from_attempt: first attempt to show. */
int follow_job(struct cli *c, const char *job_id, int from_attempt, int timestamps,
	       int follow);
/* The same from byte from_offset of attempt from_attempt's log. */
int follow_job_at(struct cli *c, const char *job_id, int from_attempt, int64_t from_offset,
		  int timestamps, int follow);

#endif
