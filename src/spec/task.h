/*
 * task: the task file (SkyPilot-compatible YAML plus frugal's own keys),
 * parsed and validated into struct task.
 *
 * Every key of the contract in docs/TASKFILE.md is parsed and validated,
 * including keys whose behaviour a backend does not have yet: those are
 * stored here and refused at plan time by the backend that lacks them.
 *
 * Parsing reports every problem of a file at once, as a list of
 * diagnostics with file:line:column, the key, what was expected and, for
 * an unknown key, the nearest known key ("did you mean").
 *
 * A struct task round-trips through JSON (task_to_json/task_from_json):
 * that is how it is stored in the database and handed to the agent.
 * Secret VALUES are never part of a struct task: only their names (the
 * values travel separately, see store/ and agent/).
 */
#ifndef FRUGAL_SPEC_TASK_H
#define FRUGAL_SPEC_TASK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "spec/mount.h"
#include "spec/volume.h"

/* ---- diagnostics ------------------------------------------------------ */

struct diag {
	char *file;	/* as given to the parser */
	int line;	/* 1-based; 0 when unknown */
	int col;	/* 1-based; 0 when unknown */
	char *key;	/* dotted path, e.g. "resources.accelerators"; may be NULL */
	char *msg;	/* what is wrong, what was expected, "did you mean 'x'?" */
	int warning;	/* 1: a warning (a key that is read but ignored), not an error */
};

struct diag_list {
	struct diag *items;
	size_t n, alloc;
};
#define DIAG_LIST_INIT { NULL, 0, 0 }

/* Append a diagnostic. Key and message are stored printable (control
 * characters as '?') and at most 512 bytes long: they quote the file. */
void diag_add(struct diag_list *dl, const char *file, int line, int col,
	      const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void diag_addv(struct diag_list *dl, const char *file, int line, int col,
	       const char *key, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
/* Mark the diagnostic added last as a warning. */
void diag_mark_warning(struct diag_list *dl);
/* How many of the diagnostics from index from on are errors. */
size_t diag_list_errors(const struct diag_list *dl, size_t from);
void diag_list_release(struct diag_list *dl);
/* Order the diagnostics from index from on by line and column (stable). */
void diag_list_sort(struct diag_list *dl, size_t from);
/* One line per diagnostic: "FILE:LINE:COL: error: KEY: MSG\n" (or
 * "warning:"). Without a position (line 0) "FILE: error: ..."; without a
 * key "...: error: MSG". */
void diag_list_format(const struct diag_list *dl, struct strbuf *out);

/* ---- the task --------------------------------------------------------- */

/* One key/value pair of envs or secrets. For secrets the
 * value is NULL ("take it from the launching environment") or a literal
 * that the parser takes out of the struct before storing (see
 * task_take_secret_values). */
struct kv {
	char *key;
	char *value;
};

struct kvlist {
	struct kv *items;
	size_t n, alloc;
};

void kvlist_set(struct kvlist *l, const char *key, const char *value);	/* replaces */
const char *kvlist_get(const struct kvlist *l, const char *key);	/* NULL if absent */
int kvlist_has(const struct kvlist *l, const char *key);	/* 1 if present (even with a NULL value) */
/* Take key out of the list (keeping the order of the rest); 1 when it
 * was there. */
int kvlist_remove(struct kvlist *l, const char *key);
/* Append without looking for key first: for callers that know it is new
 * (kvlist_set is linear in the list's length). */
void kvlist_append(struct kvlist *l, const char *key, const char *value);
/* Free the list; every value is zeroed first (values may be secrets). */
void kvlist_release(struct kvlist *l);

struct accel {
	char *name;	/* as written, e.g. "A100", "A100-80GB" */
	int count;	/* >= 1 */
};

enum accel_mode {
	ACCEL_NONE = 0,	/* no accelerators asked */
	ACCEL_ONE,	/* "A100:1" */
	ACCEL_ANY_OF,	/* {A100: 1, H100: 1}: cheapest of these */
	ACCEL_ORDERED,	/* [A100:1, H100:1]: in order of preference */
};

enum spot_policy {
	SPOT_ON_DEMAND = 0,	/* default; use_spot: false */
	SPOT_SPOT,		/* use_spot: true / spot_policy: spot */
	SPOT_AUTO,		/* spot first, then on-demand */
};

/* One port or a range of ports to open where the job runs (TCP). */
struct port_range {
	int from, to;	/* 1..65535, from <= to; one port: from == to */
};

struct resources {
	enum accel_mode accel_mode;
	struct accel *accels;
	size_t n_accels;
	double cpus;		/* 0: unset */
	int cpus_at_least;	/* "4+" */
	double memory;		/* GiB; 0: unset */
	int memory_at_least;
	enum spot_policy spot;
	char *cloud;		/* a backend name; from cloud: or infra: */
	char *region;
	char *zone;
	int disk_size;		/* GiB; 0: unset */
	double max_price;	/* USD/h; 0: unset */
	char *image_id;		/* optional; for docker:IMAGE the IMAGE (see image_docker) */
	int image_docker;	/* 1: image_id was "docker:IMAGE": run setup and run in it */
	char *instance_type;	/* optional */
	struct port_range *ports;	/* resources.ports, in the order written */
	size_t n_ports;
};

struct checkpoint_spec {
	char *dir;		/* NULL: no checkpointing */
	int64_t interval;	/* seconds; default 600 */
	int keep;		/* default 3 */
	char *verify;		/* shell command run on a restored copy; NULL: none */
	int per_node;		/* num_nodes > 1: one checkpoint per rank (default: rank 0's) */
};

struct outputs_spec {
	char **paths;		/* globs relative to the work dir */
	size_t n_paths;
	char *to;		/* storage URL; NULL: the job's own prefix */
};

struct stop_spec {
	int64_t max_runtime;	/* seconds; 0: none */
	char *on_output;	/* glob; NULL: none */
	int64_t idle_gpu;	/* seconds; 0: none */
	int idle_gpu_below;	/* percent; default 5 */
	int64_t orphan_timeout;	/* seconds; default 1800 */
	int other_nodes_end;	/* num_nodes > 1: end ranks >= 1 once rank 0 succeeded
				 * (stop.other_nodes: end); default 0: wait for their exit 0 */
};

struct recovery_spec {
	int max_restarts_on_errors;	/* default 0 */
	int *recover_on_exit_codes;
	size_t n_recover_on_exit_codes;
	int preemption_signal;		/* SIGTERM (default), SIGINT or SIGUSR1 */
	int64_t notice_grace;		/* seconds; default 30 */
};

enum sweep_method { SWEEP_NONE = 0, SWEEP_GRID, SWEEP_RANDOM };

struct sweep_param {
	char *name;
	char **values;		/* list form; NULL when range is used */
	size_t n_values;
	char *range;		/* "uniform(1e-5,1e-3)", "loguniform(..)", "int(1,8)" */
};

struct sweep_spec {
	enum sweep_method method;
	struct sweep_param *params;
	size_t n_params;
	int max_parallel;	/* 0: unlimited */
	int trials;		/* random: number of trials */
	int64_t seed;
	int has_seed;
};

/* The most nodes one attempt may have (num_nodes). */
#define TASK_NODES_MAX 64

struct task {
	char *path;		/* task file path as given; NULL when from a string */
	char *name;		/* NULL: none given */
	char *workdir;		/* absolute (resolved against the task file's dir); NULL: none */
	char *setup;
	char *run;
	int num_nodes;		/* default 1, at most TASK_NODES_MAX */
	char *backend;		/* frugal key "backend:"; NULL: choose */
	struct resources res;
	struct kvlist envs;
	struct kvlist secrets;	/* names; values stripped (see above) */
	struct mount_list file_mounts;	/* spec/mount.h */
	struct volume_list volumes;	/* spec/volume.h */
	struct checkpoint_spec checkpoint;
	struct outputs_spec outputs;
	struct stop_spec stop;
	struct recovery_spec recovery;
	double budget;		/* USD; 0: none */
	struct sweep_spec sweep;
};

/* Zero the struct and set the documented defaults. */
void task_init(struct task *t);
void task_release(struct task *t);

/*
 * Parse and validate a task file. On success returns 0 and fills *ret
 * (which the caller task_release()s). On any problem returns FRUGAL_EINVAL
 * with every problem appended to diags and *ret untouched. I/O failures
 * are one diagnostic too.
 */
int task_parse_file(const char *path, struct task *ret, struct diag_list *diags);
/* Same, from memory; name is used in diagnostics; base_dir resolves
 * workdir (NULL: the current directory). */
int task_parse_buffer(const char *buf, size_t len, const char *name,
		      const char *base_dir, struct task *ret, struct diag_list *diags);

/*
 * Move the literal secret values that the task file gave into out (key ->
 * value) and leave only the names in t->secrets (values NULL).
 */
void task_take_secret_values(struct task *t, struct kvlist *out);

/* Serialise to a JSON document (caller frees) and back. */
char *task_to_json(const struct task *t);
int task_from_json(const char *json, struct task *ret, struct error *err);

/* "A100:1" / "{A100:1, H100:1}" / "[A100:1, H100:1]" / "-" for tables. */
void task_format_accels(const struct resources *r, struct strbuf *out);

/* Total GPUs the first accelerator choice asks for (0 if none). A plan
 * carries the count of the choice it picked (struct plan.gpus). */
int task_gpu_count(const struct task *t);

/* Check a sweep range ("uniform(a,b)", "loguniform(a,b)", "int(a,b)") and
 * return it normalised (caller frees), or NULL with the reason in *why. */
char *task_sweep_range(const char *s, const char **why);

/* 1 when the first len bytes of s are an environment variable name
 * ([A-Za-z_][A-Za-z0-9_]*); len (size_t)-1: all of s. */
int env_name_valid(const char *s, size_t len);

/* 1 when the first len bytes of s (len (size_t)-1: all of s) name one of
 * frugal's own variables (FRUGAL_...: the job's identity, FRUGAL_HOME and
 * FRUGAL_INSTANCE among them, which teardown and gc rely on): task envs,
 * secrets and --env may not set them. */
int env_name_reserved(const char *s, size_t len);
#define ENV_RESERVED_PREFIX "FRUGAL_"

/* 1 when s is a job name: letters, digits, '.', '_' and '-', starting and
 * ending with a letter or digit, at most 64 characters. */
int task_name_valid(const char *s);

/* Signal name ("SIGTERM") of a signal number, and back (0 if unknown). */
const char *signal_to_name(int sig);
int signal_from_name(const char *name);

#endif
