/*
 * jobenv: the environment that setup and run see.
 *
 * It is built in three layers, later layers replacing same-named
 * variables of earlier ones:
 *   1. the agent's own environment (PATH, HOME, the secrets: whoever
 *      launched the agent gave it a clean environment holding them);
 *   2. the task's envs;
 *   3. frugal's own variables (FRUGAL_*, CUDA_VISIBLE_DEVICES and the
 *      SKYPILOT_* compatibility variables of docs/product.md).
 * The result is a NULL-terminated "KEY=VALUE" array for execve/uv_spawn.
 * Nothing here logs: values may be secrets.
 */
#ifndef FRUGAL_AGENT_JOBENV_H
#define FRUGAL_AGENT_JOBENV_H

#include <stddef.h>

#include "spec/task.h"

/* What frugal's own variables are made of. */
struct jobenv_params {
	const char *job_id;
	int attempt;			/* 1, 2, ... */
	int restart_count;
	const char *checkpoint_dir;
	const char *output_dir;
	const char *metrics_file;
	char *const *gpus;		/* device ids for CUDA_VISIBLE_DEVICES */
	size_t n_gpus;
	/* The nodes of the attempt (num_nodes > 1): this one's rank, every
	 * node's IP in rank order, and rank 0's MASTER_PORT. n_nodes 0: one
	 * node, 127.0.0.1, and no MASTER_ADDR/MASTER_PORT (a task's envs
	 * may set them). */
	int rank;
	char *const *node_ips;
	size_t n_nodes;
	int master_port;
};

/*
 * Build the job environment from base (an environ-style array, may be
 * NULL), the task's envs (may be NULL) and p. Entries of base without '='
 * are dropped. Order is kept: a replaced variable stays where it first
 * appeared. Returns a NULL-terminated array; free it with jobenv_free.
 */
char **jobenv_build(char *const *base, const struct kvlist *envs,
		    const struct jobenv_params *p);

/* The value of key in env, or NULL (for tests and checks). */
const char *jobenv_get(char *const *env, const char *key);

/* Free an array from jobenv_build; NULL is fine. Values are zeroed first
 * (they may hold secrets). */
void jobenv_free(char **env);

#endif
