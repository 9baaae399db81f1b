/*
 * config: $FRUGAL_HOME/config.yaml, the user's settings: the default
 * storage URL, the backends and their settings, budgets. A missing file is
 * an empty config with defaults. Errors use the same diagnostics as task
 * files (file:line:col, key, expectation, did-you-mean).
 *
 *   storage: file:///mnt/shared/frugal       # default: file://$FRUGAL_HOME/storage
 *   default_backend: local
 *   backends:
 *     local:
 *       gpus: 2              # a count, a list of device ids [0, 1], or "auto" (nvidia-smi -L)
 *       gpu_type: RTX4090    # name used to match accelerators (default "GPU")
 *       price_per_gpu_hour: 0.40   # USD, feeds the cost ledger (default 0)
 *       price_per_hour: 0.0        # USD for a job with no GPU (default 0)
 *       cpus: 8              # advertised vCPUs (default: this machine's)
 *       memory: 32           # advertised GiB (default: this machine's)
 *   budgets:
 *     monthly: 100.0
 *   catalog:
 *     url: https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/catalogs/v8/
 *
 * Every other backend's section holds the keys its descriptor lists
 * (src/backend/<name>/descriptor.c), among them the optimizer's
 * (catalog/optimizer.h): {preemption_rate: 0.05, restart_overhead: 10m}.
 */
#ifndef FRUGAL_SPEC_CONFIG_H
#define FRUGAL_SPEC_CONFIG_H

#include "spec/task.h"

struct local_config {
	int gpus_auto;		/* detect with nvidia-smi -L */
	char **gpu_ids;		/* device ids handed out in CUDA_VISIBLE_DEVICES */
	size_t n_gpu_ids;
	char *gpu_type;		/* default "GPU" */
	double price_per_gpu_hour;
	double price_per_hour;
	double cpus;		/* 0: detect */
	double memory;		/* GiB; 0: detect */
	int cgroups;		/* 1 (default): each instance in a cgroup v2 of its
				 * own where this machine has one; 0: the
				 * process scan (cgroups: false) */
	char *container_runtime;	/* "docker", "podman"; NULL: the first that works */
};

/* The settings of a backend other than local, checked against its
 * schema (struct config_setting) and kept as text (flat NAME: scalar
 * pairs; a null value is kept as NULL; a mapping of scalars becomes
 * NAME.SUB pairs; a list becomes "a,b"; a boolean "true" or "false"):
 *   backends:
 *     NAME: {partition: gpu, account: lab, gres_map: {A100: a100}}
 * gives partition, account and gres_map.A100.
 */
struct backend_settings {
	char *name;		/* a backend's name (config_backend_name) */
	struct kvlist settings;
};

/* The type of a backend setting, checked with the schema readers
 * (spec/schema.h) when config.yaml is read. */
enum config_type {
	CONFIG_STRING = 0,	/* a non-empty scalar */
	CONFIG_INT,		/* a whole number >= 0 */
	CONFIG_NUMBER,		/* a number >= 0 */
	CONFIG_BOOL,		/* true/false, yes/no, on/off */
	CONFIG_DURATION,	/* 90s, 10m, 1h30m, or whole seconds */
	CONFIG_SECONDS,		/* a duration, or seconds with a fraction (0.5) */
	CONFIG_LIST,		/* a list of scalars, or one "a, b" scalar */
	CONFIG_MAP,		/* a mapping of scalars (NAME.SUB) */
};

/* One key of a backend's settings; a schema is an array of them that
 * ends with { NULL }. */
struct config_setting {
	const char *key;
	enum config_type type;
	const char *doc;	/* one line for humans */
};

struct config {
	char *path;		/* the file read, or NULL */
	char *storage_url;	/* NULL: file://$FRUGAL_HOME/storage */
	char *default_backend;	/* NULL: "local" */
	struct local_config local;
	double budget_monthly;	/* 0: none */
	char *catalog_url;	/* catalog.url: base URL for `frugal catalog update`; NULL: upstream */
	struct backend_settings *backends;	/* other backends' sections */
	size_t n_backends;
};

/* Defaults, no allocation: local.gpus_auto = 1, everything else unset. */
void config_init(struct config *c);
void config_release(struct config *c);

/* Read path; a missing file gives defaults and returns 0. Problems go to
 * diags with FRUGAL_EINVAL returned. */
int config_load(const char *path, struct config *ret, struct diag_list *diags);
int config_parse_buffer(const char *buf, size_t len, const char *name,
			struct config *ret, struct diag_list *diags);
/* After a successful load local.gpu_type is set ("GPU" unless given). */

/* backends.BACKEND.KEY as written, or NULL (absent or null). */
const char *config_backend_get(const struct config *c, const char *backend, const char *key);

/* Typed getters for backends.BACKEND.KEY: *ret gets def when the key is
 * unset; FRUGAL_EINVAL with "config.yaml: backends.B.K: expected ..." in
 * err when its text is not of the type (only possible for a config not
 * read by config_load, which checks every key). */
int config_backend_int(const struct config *c, const char *backend, const char *key,
		       long long def, long long *ret, struct error *err);
int config_backend_number(const struct config *c, const char *backend, const char *key,
			  double def, double *ret, struct error *err);
int config_backend_bool(const struct config *c, const char *backend, const char *key,
			int def, int *ret, struct error *err);
/* Seconds from "12", "0.5", "0.5s" or a duration ("5m"): 0, or
 * FRUGAL_EINVAL (a CONFIG_SECONDS setting). */
int config_parse_seconds(const char *s, double *ret);

/*
 * Hooks: what the spec layer needs to know of the backends. spec sits
 * below src/backend/, so it declares them here and src/backend/registry.c
 * defines them from the backends' descriptors.
 */
/* Backends known, and the name of the i-th (NULL past the end). */
size_t config_backend_count(void);
const char *config_backend_name(size_t i);
/* The backend a name or alias (any case) stands for, or NULL. */
const char *config_backend_lookup(const char *name);
/* 1 when the backend named by the first len bytes of name (an alias is
 * fine) takes a context as its region, which may hold '/'
 * (infra: NAME/CONTEXT keeps all of CONTEXT). */
int config_backend_region_is_context(const char *name, size_t len);
/* The settings schema of backend name (ends with { NULL }), or NULL. */
const struct config_setting *config_backend_settings(const char *name);

#endif
