/*
 * conf: the agent's instructions, DIR/agent.json, read into struct
 * agent_conf. The document and its checks are the contract's
 * (contract/agentdoc.h); conf adds what belongs to this machine: the
 * directories resolved (default DIR/work, DIR/checkpoint, DIR/outputs;
 * relative paths taken relative to DIR), the device ids from gpus_env
 * when no gpus are given (the name of an environment variable of the
 * agent that lists what the scheduler allocated, "0,1"; a batch
 * scheduler's CUDA_VISIBLE_DEVICES), and outputs_url (default: task outputs.to,
 * else STORAGE_URL/JOB_PREFIX/outputs).
 *
 * The checkpoint directory is the task's checkpoint.dir when it has one:
 * a relative dir is taken relative to work_dir; an absolute one is used
 * as written on its own machine (own_machine: true where the job has the
 * machine, VM or container to itself), but not where other jobs share the
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
	char *controller_key;	/* agent.json controller_key, or NULL */
	char *metrics_file;	/* DIR/metrics.jsonl */
	char *container_image;	/* NULL: setup and run on this machine (agent/container.h) */
	char *container_runtime;	/* NULL: the first of docker, podman on PATH */
	char *container_name;	/* NULL: frugal-JOB-ATTEMPT */
	int rank;		/* this node of the attempt, 0..num_nodes-1 */
	int num_nodes;		/* 1: a single machine */
	char *node_ip;		/* agent.json node_ip; NULL: found (agent/rendezvous.h) */
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
