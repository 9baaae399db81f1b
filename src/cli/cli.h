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
#include "provider/provider.h"
#include "spec/task.h"

struct cli {
	struct home home;
	struct config cfg;
	struct store *st;	/* NULL until cli_store() */
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
/* Where a job's outputs go when the task does not say. Caller frees. */
char *cli_outputs_url(const struct cli *c, const struct job *j);

/* Aligned text tables. */
struct table;
struct table *table_new(int ncols, ...);	/* header names */
void table_add(struct table *t, ...);		/* ncols strings */
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);

/* Money and durations for tables. */
void fmt_usd(double usd, char *buf, size_t len);
void fmt_age(int64_t then_ms, char *buf, size_t len);

/* Commands: argv[0] is the command name. Return the exit status. */
int cmd_launch(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_cost(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_controller(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_gc(int argc, char **argv);

struct task;
struct plan;
/* Parse a task file, printing every diagnostic; 0 or -1. */
int cli_parse_task(const char *path, struct task *ret);
/* Choose the backend and make the plan; prints why not and returns -1. */
int cli_plan(struct cli *c, const struct task *t, const char *backend, struct plan *ret);
/* The plan as a few human lines on out. */
void cli_print_plan(const struct task *t, const struct plan *pl, FILE *out);

/* Follow a job's logs until it ends (launch, logs -f). Returns the exit
 * status: 0 when it SUCCEEDED. from_attempt: first attempt to show. */
int follow_job(struct cli *c, const char *job_id, int from_attempt, int timestamps,
	       int follow);

#endif
