/*
 * key: the storage key layout that the controller, the agent and the
 * backends share. Everything of a job lives under its prefix, "jobs/ID":
 *
 *   jobs/ID/attempts/N/status.json   the agent's report (contract/status.h)
 *   jobs/ID/attempts/N/NAME          other files of attempt N: agent.json,
 *                                    secrets.sealed, boot.log, markers
 *   jobs/ID/attempts/N/nodes/R.json  node R's address (num_nodes > 1;
 *                                    contract/node.h)
 *   jobs/ID/attempts/N/nodes/R.status.json   node R's report (R >= 1;
 *                                    rank 0's is status.json)
 *   jobs/ID/logs/attempt-N.log       timestamped lines of attempt N (rank 0)
 *   jobs/ID/logs/attempt-N.rank-R.log   those of node R >= 1
 *   jobs/ID/checkpoints/...          manifests/ and objects/ (agent/checkpoint.h)
 *   jobs/ID/outputs/NAME             outputs when the task names no outputs.to
 *   jobs/ID/NAME                     job-wide files (the workdir archive)
 *
 * and, shared by every job of the storage (content-addressed, so the same
 * data launched again is not sent again):
 *
 *   data/objects/<sha256>            one object per distinct file content
 *   data/manifests/<id>.json         a stored file or tree (storage/dataset.h)
 *
 * The agent gets its prefix in agent.json (job_prefix) and builds every
 * key from it; nobody else spells a key. A key is a relative path with
 * '/' separators, no empty, "." or ".." component and no control
 * character (key_valid); storage drivers refuse anything else.
 *
 * Every function returns a new string the caller frees.
 */
#ifndef FRUGAL_CONTRACT_KEY_H
#define FRUGAL_CONTRACT_KEY_H

#define KEY_MAX 1024

#define KEY_STATUS_NAME "status.json"
#define KEY_AGENT_NAME "agent.json"
/* The sealed secrets (contract/secrets.h); secrets.env: where frugal 0.x
 * kept them in clear, only ever deleted now. */
#define KEY_SECRETS_NAME "secrets.sealed"
#define KEY_SECRETS_OLD_NAME "secrets.env"

/* "jobs/ID". */
char *key_job_prefix(const char *job_id);
/* PREFIX/NAME: a job-wide object. */
char *key_job(const char *job_prefix, const char *name);
/* PREFIX/attempts/N/NAME. */
char *key_attempt(const char *job_prefix, int attempt, const char *name);
/* PREFIX/attempts/N/status.json. */
char *key_status(const char *job_prefix, int attempt);
/* PREFIX/logs/attempt-N.log. */
char *key_log(const char *job_prefix, int attempt);
/* PREFIX/checkpoints: the root of the job's checkpoints. */
char *key_checkpoints(const char *job_prefix);

/* Multi-node attempts (num_nodes > 1). Rank 0 keeps the keys above; a
 * rank R >= 1 has its own status and log:
 * PREFIX/attempts/N/nodes/R.status.json and PREFIX/logs/attempt-N.rank-R.log
 * (rank 0: key_status, key_log). */
char *key_node_status(const char *job_prefix, int attempt, int rank);
char *key_node_log(const char *job_prefix, int attempt, int rank);
/* PREFIX/attempts/N/nodes/R.json: node R's address for the rendezvous. */
char *key_node(const char *job_prefix, int attempt, int rank);
/* The checkpoint root of rank R with checkpoint.per_node: rank 0's is
 * key_checkpoints, rank R's PREFIX/checkpoints/rank-R. */
char *key_node_checkpoints(const char *job_prefix, int rank);
/* PREFIX/outputs, or PREFIX/outputs/NAME when name is not NULL. */
char *key_outputs(const char *job_prefix, const char *name);

/* data/objects/SHA256 and data/manifests/ID.json (storage/dataset.h). */
char *key_data_object(const char *sha256);
char *key_data_manifest(const char *id);

/* STORAGE_URL/PREFIX/outputs: where outputs go when the task names no
 * outputs.to. */
char *key_outputs_url(const char *storage_url, const char *job_prefix);

/* 1 when key is a usable storage key (see above), else 0. */
int key_valid(const char *key);

/* "controllers/TAG.json": the key a controller rewrites every
 * KEY_CONTROLLER_EVERY_S while it runs, so its agents know it is alive
 * (stop.orphan_timeout). One per controller (tag: its FRUGAL_HOME) and
 * storage, whatever the number of jobs. */
char *key_controller(const char *tag);
#define KEY_CONTROLLER_EVERY_S 30

#endif
