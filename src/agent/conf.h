/*
 * conf: the agent's instructions, DIR/agent.json (its fields are listed
 * in agent.h), read and checked into struct agent_conf.
 *
 * Required: job_id (letters, digits, '-', '_'), attempt (>= 1),
 * storage_url, job_prefix (a valid storage key), task (an object that
 * task_from_json accepts). Optional: restart_count (0), backend,
 * controller_socket, gpus (strings or integers), gpus_env (with no gpus:
 * the name of an environment variable of the agent that lists the device
 * ids the scheduler allocated, "0,1"; a batch scheduler's CUDA_VISIBLE_DEVICES),
 * work_dir, checkpoint_dir,
 * output_dir (default DIR/work, DIR/checkpoint, DIR/outputs; relative
 * paths are taken relative to DIR), outputs_url (default: task
 * outputs.to, else STORAGE_URL/JOB_PREFIX/outputs) and own_machine
 * (false; true where the job has the machine, VM or container to itself).
 *
 * The checkpoint directory is the task's checkpoint.dir when it has one:
 * a relative dir is taken relative to work_dir; an absolute one is used
 * as written on its own machine, but not where other jobs share the
 * filesystem (this machine, a cluster node), where /ckpt of one job would
 * be every job's: there it stays checkpoint_dir (checkpoint_dir_moved
 * says so). Either way $FRUGAL_CHECKPOINT_DIR names it.
 *
 * Errors name the file and the field: "'/x/agent.json': field 'attempt':
 * expected an integer >= 1".
 */
#ifndef FRUGAL_AGENT_CONF_H
#define FRUGAL_AGENT_CONF_H

#include <stddef.h>

#include "base/error.h"
#include "spec/task.h"

struct agent_conf {
	char *instance_dir;	/* absolute */
	char *job_id;
	int attempt;
	int restart_count;
	char *backend;		/* NULL: not given */
	char *storage_url;
	char *job_prefix;	/* no trailing '/' */
	char *controller_socket;	/* NULL: none */
	char **gpus;
	size_t n_gpus;
	char *work_dir;
	char *checkpoint_dir;
	int checkpoint_dir_moved;	/* an absolute checkpoint.dir kept in the instance */
	int own_machine;
	char *output_dir;
	char *outputs_url;
	char *metrics_file;	/* DIR/metrics.jsonl */
	struct task task;
};

/*
 * Read instance_dir/agent.json into *ret (release with agent_conf_release).
 * FRUGAL_EINVAL for a bad document, FRUGAL_ENOTFOUND/FRUGAL_EIO when it
 * cannot be read; *ret is untouched on failure.
 */
int agent_conf_load(const char *instance_dir, struct agent_conf *ret, struct error *err);

/* Same from the document text; path is used in messages only. */
int agent_conf_parse(const char *text, const char *path, const char *instance_dir,
		     struct agent_conf *ret, struct error *err);

void agent_conf_release(struct agent_conf *c);

#endif
