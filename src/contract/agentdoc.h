/*
 * agentdoc: agent.json, the agent's instructions, written by whoever
 * launches an attempt (a backend, a boot script's stager) and read by the
 * agent on the machine (agent/conf.h turns it into the agent's settings):
 *
 *   {
 *     "job_id": "k3m9xq", "attempt": 1, "restart_count": 0,
 *     "backend": "local",
 *     "storage_url": "file:///home/u/.frugal/storage",
 *     "job_prefix": "jobs/k3m9xq",             storage prefix of the job
 *     "controller_socket": "/home/u/.frugal/controller.sock",   optional
 *     "gpus": ["0", "1"],                        CUDA_VISIBLE_DEVICES
 *     "gpus_env": "CUDA_VISIBLE_DEVICES",        optional, instead of gpus:
 *                                                what the scheduler allocated
 *     "work_dir": "DIR/work",                    cwd of setup and run
 *     "checkpoint_dir": "DIR/checkpoint",        $FRUGAL_CHECKPOINT_DIR
 *     "output_dir": "DIR/outputs",               $FRUGAL_OUTPUT_DIR
 *     "outputs_url": "file:///…/jobs/k3m9xq/outputs",   where outputs go
 *     "controller_key": "controllers/1f2e….json", optional: a key of the
 *                                                storage the controller
 *                                                rewrites while it runs
 *                                                (stop.orphan_timeout)
 *     "own_machine": true,                       optional: the job has the
 *                                                machine, VM or container
 *                                                to itself
 *     "container_image": "pytorch/pytorch:2.3",  optional: run setup and run
 *                                                in a container of this image
 *                                                on the machine (agent/container.h)
 *     "container_runtime": "podman",             optional: docker or podman
 *                                                (absent: the first on PATH)
 *     "container_name": "frugal-1a2b3c4d-k3m9xq-1",   optional (absent:
 *                                                frugal-JOB-ATTEMPT)
 *     "rank": 1, "num_nodes": 2,                 optional (0 and 1): this
 *                                                node of a multi-node attempt
 *     "node_ip": "127.0.0.1",                    optional: the address the
 *                                                other nodes reach it at
 *                                                (absent: the agent finds it)
 *     "task": { …task_to_json()… }
 *   }
 *
 * Required: job_id (letters, digits, '-', '_', at most 64), attempt
 * (>= 1), storage_url, job_prefix (a storage key, key_valid; trailing
 * '/' dropped), task (an object task_from_json accepts). Optional:
 * restart_count (0), backend, controller_socket, gpus (strings or
 * integers), gpus_env, the three directories (absent: the agent's
 * defaults under its instance directory; relative: relative to it),
 * outputs_url, controller_key (a storage key), own_machine (false) and the
 * three container fields. Secret values are never in it.
 *
 * A value type: a writer fills a struct agent_doc (every string owned,
 * NULL for absent) and renders it with agent_doc_to_json or
 * agent_doc_write; a reader checks a document with agent_doc_parse,
 * which names the file and the field in its errors:
 * "'/x/agent.json': field 'attempt': expected an integer >= 1".
 */
#ifndef FRUGAL_CONTRACT_AGENTDOC_H
#define FRUGAL_CONTRACT_AGENTDOC_H

#include <stddef.h>

#include "base/error.h"
#include "spec/task.h"

#define AGENT_DOC_MAX (16 * 1024 * 1024)

struct agent_doc {
	char *job_id;
	int attempt;
	int restart_count;
	char *backend;
	char *storage_url;
	char *job_prefix;
	char *controller_socket;
	char **gpus;		/* device ids */
	size_t n_gpus;
	char *gpus_env;
	char *work_dir;
	char *checkpoint_dir;
	char *output_dir;
	char *outputs_url;
	int own_machine;	/* the job has the machine to itself */
	char *container_image;	/* NULL: setup and run run on the machine itself */
	char *container_runtime;	/* "docker", "podman"; NULL: the agent looks */
	char *container_name;	/* NULL: frugal-JOB-ATTEMPT */
	char *task_json;	/* the task object, task_to_json's text */
	char *controller_key;	/* key_controller: the controller refreshes it */
	int rank;		/* this node, 0..num_nodes-1 */
	int num_nodes;		/* nodes of the attempt; 0 or 1: one */
	char *node_ip;		/* NULL: the agent finds its address */
};
#define AGENT_DOC_INIT { NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, \
			 NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL }

void agent_doc_release(struct agent_doc *d);

/* Replace the device ids with those of a "0,1" list (empty: none). */
void agent_doc_set_gpus(struct agent_doc *d, const char *list);
/* Replace task.workdir in task_json: where the workdir copy is on the
 * machine; NULL makes it null (no workdir). */
void agent_doc_set_task_workdir(struct agent_doc *d, const char *path);

/* The document, indented, keys sorted (caller frees). */
char *agent_doc_to_json(const struct agent_doc *d);
/* Write it to dir/agent.json (mode 0600, atomically). */
int agent_doc_write(const struct agent_doc *d, const char *dir, struct error *err);

/*
 * Check text into *ret (release with agent_doc_release); path is used in
 * messages only. ret_task, when not NULL, receives the parsed task (the
 * caller task_release()s it). FRUGAL_EINVAL for a bad document; *ret and
 * *ret_task are untouched on failure.
 */
int agent_doc_parse(const char *text, const char *path, struct agent_doc *ret,
		    struct task *ret_task, struct error *err);

#endif
