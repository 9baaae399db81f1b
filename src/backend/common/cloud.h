/*
 * cloud: what the Lambda and Runpod backends share. Both are REST APIs
 * with a bearer key, rate limits and no idempotency token; both run the
 * agent on a machine frugal reaches over SSH, whose persistent disk (a
 * Lambda file system, a Runpod network volume) holds the job's storage.
 *
 *  - cloud_api: JSON requests with the key in one header (never logged,
 *    never in a message), a minimum pause between requests, and 429/5xx/
 *    network failures retried with doubling pauses (Retry-After honoured).
 *  - names: every instance is named "frugal-TAG-TOKEN" (TAG: 8 hex digits
 *    of FRUGAL_HOME's path, TOKEN: the ledger's "<job>-<attempt>"), the
 *    idempotency key find() looks up and what gc recognises.
 *  - the stage: $FRUGAL_HOME/cloud/BACKEND/TOKEN (0700) keeps what the
 *    bootstrap needs between launch and boot: agent.json, the secrets
 *    sealed with $FRUGAL_HOME/secret.key (never in clear on disk), the
 *    workdir archive, the recorded host key (known_hosts), markers.
 *  - storage: when config.yaml's storage is file:// (the laptop's disk,
 *    which the machine cannot reach), the agent's storage is
 *    file://ROOT/frugal on the machine's persistent disk and the
 *    controller mirrors status.json, the log and, at the end, the outputs
 *    back over SSH (cloud_mirror). Any other storage (s3://, gs://) is
 *    handed to the agent as it is.
 *  - the dead-man switch on the machine (cloud_self_end): once the final
 *    status is stored, wait for the controller's "released" mark (it has
 *    mirrored the final status) or release_wait, then end the machine
 *    through the provider's API.
 */
#ifndef FRUGAL_PROVIDER_CLOUD_H
#define FRUGAL_PROVIDER_CLOUD_H

#include <jansson.h>
#include <stdint.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "backend/provider.h"
#include "storage/storage.h"
#include "backend/common/ssh.h"

/* ---- REST calls ---- */

struct cloud_api {
	char *base_url;			/* no trailing '/' */
	char *auth_header;		/* "Authorization: Bearer KEY": secret */
	const char *what;		/* "Lambda", "Runpod": for messages */
	int64_t min_interval_ms;	/* between two requests */
	int64_t last_ms;		/* time_mono_ms() of the last request */
	int max_tries;			/* for 429, 5xx and network failures */
	int64_t backoff_ms;		/* first pause, doubled each time */
	int64_t max_backoff_ms;
};

/* Set up api for base_url and key (copied; the caller may wipe its own). */
void cloud_api_init(struct cloud_api *api, const char *what, const char *base_url,
		    const char *key);
/* Wipe the key and free. */
void cloud_api_release(struct cloud_api *api);

enum cloud_call_flags {
	CLOUD_NO_RETRY = 1 << 0,	/* one try: a create must look before it retries */
};

/*
 * METHOD base_url+path with body (JSON, may be NULL). 0 when a response
 * came: its status in *ret_status and its body, parsed, in *ret_json
 * (NULL when empty or not JSON; caller decrefs). 429, 5xx and network
 * failures are tried again up to max_tries (not with CLOUD_NO_RETRY);
 * after the last try a 429/5xx is returned as a response, a network
 * failure as FRUGAL_ENET.
 */
int cloud_api_call(struct cloud_api *api, const char *method, const char *path,
		   json_t *body, unsigned flags, long *ret_status, json_t **ret_json,
		   struct error *err);

/* The provider's message in an error body, for humans: Lambda's
 * {"error": {"code", "message"}}, Runpod's {"error": "..."} or
 * {"detail": "..."}; "" when there is none. Points into j. */
const char *cloud_error_text(json_t *j);
const char *cloud_error_code(json_t *j);

/* ---- settings ---- */

/* backends.NAME.KEY, NULL when absent or empty. */
const char *cloud_cfg(const struct config *cfg, const char *backend, const char *key);
/* backends.NAME.KEY as seconds (a number, fractions allowed), or def. */
int cloud_cfg_seconds(const struct config *cfg, const char *backend, const char *key,
		      double def, double *ret, struct error *err);

/* "~/x" -> "$HOME/x"; others copied. Caller frees. */
char *cloud_expand_home(const char *path);

/* ---- names ---- */

/* "frugal-TAG-TOKEN". */
char *cloud_name(const char *tag, const char *token);
/* The token in a name made by cloud_name with tag, or NULL. */
const char *cloud_token_of(const char *tag, const char *name);

/* ---- the stage ---- */

/* $home/cloud/BACKEND/TOKEN. Caller frees. */
char *cloud_stage_dir(const char *home, const char *backend, const char *token);
/* Create it (0700) with agent.json (the remote form, see below) and the
 * secrets sealed in secrets.box. */
int cloud_stage_write(const char *dir, const char *home, const char *agent_json,
		      const struct kvlist *secrets, struct error *err);
/* The staged secrets, unsealed into ret (name -> value; kvlist_release
 * zeroes the values). */
int cloud_stage_secrets(const char *dir, const char *home, struct kvlist *ret,
			struct error *err);

/*
 * The agent.json an instance gets: provider_agent_doc's, with
 * work, checkpoint and output directories left to their defaults under
 * the instance directory, no controller socket, storage_url and
 * outputs_url given, and task.workdir "workdir" (relative: the bootstrap
 * unpacks the workdir there) when the task has one.
 */
int cloud_agent_json(const struct launch_request *req, const char *backend,
		     const char *storage_url, const char *outputs_url, char **ret,
		     struct error *err);

/*
 * Where the agent stores: *ret_storage and *ret_outputs for a launch of
 * req when the machine's persistent disk is mounted at mount (NULL: none).
 * *ret_mirror_root gets the path of the storage root on the machine when
 * the controller must mirror (controller storage is file://), else NULL.
 * FRUGAL_EINVAL when the controller's storage is file:// and there is no
 * mount: the machine could reach neither -- unless shared is set
 * (backends.NAME.shared_storage: the path is mounted at the same place on
 * the machines; the tests' machines are this machine).
 */
int cloud_storage_plan(const struct launch_request *req, const char *mount, int shared,
		       const char *backend, char **ret_storage, char **ret_outputs,
		       char **ret_mirror_root, struct error *err);

/* The controller's storage URL: config.yaml's storage or file://HOME/storage. */
char *cloud_controller_storage(const struct config *cfg, const char *home);

/*
 * Pack the workdir (task->workdir, .gitignore/.frugalignore honoured) and,
 * when bin is given, that program as bin/frugal into DIR/upload.tar, for
 * the bootstrap to unpack. Without a workdir or bin, an empty archive.
 */
int cloud_pack(const char *dir, const char *workdir, const char *bin, struct error *err);

/* ---- over SSH ---- */

/* The remote instance directory, relative to the login's home. */
#define CLOUD_REMOTE_BASE ".frugal-agent"

/*
 * Mirror attempt N of job from the machine (t) into the controller's
 * storage st: status.json (replaced when it changed), the new part of
 * the log, and, once the status has an outcome, the outputs it lists
 * (stored without overwriting; once, marked in stage_dir) and then the
 * "released" mark that lets the agent end its machine. remote_root is
 * the agent's storage root on the machine; outputs_root where its outputs
 * went (NULL: not mirrored). *ret_final is set when the mirrored status
 * has an outcome.
 */
int cloud_mirror(const struct ssh_target *t, struct storage *st, const char *stage_dir,
		 const char *remote_root, const char *outputs_root, const char *job,
		 int attempt, const char *token, int *ret_final, struct error *err);

/* The phase and outcome of the status the controller holds for an
 * attempt (NULL when none; caller frees). */
void cloud_local_status(struct storage *st, const char *job, int attempt, char **ret_phase,
			char **ret_outcome);

/*
 * The machine of attempt N is gone without a final status the controller
 * saw. When its agent had started (a status with a phase was mirrored),
 * record the attempt as preempted ("the machine disappeared: WHY"), so
 * the job recovers elsewhere; an agent that never reported is left to
 * the controller (failed). Never replaces a status that has an outcome.
 */
int cloud_mark_vanished(struct storage *st, const char *job, int attempt, const char *why,
			struct error *err);

/*
 * The machine of attempt N failed its boot check (an agent built for
 * another architecture, one that cannot start): record the attempt as
 * exited launch_failed with why (the check's reason), as the boot
 * scripts of AWS and GCP do on the machine, so the controller puts the
 * reason in the job's events and plans again. Never replaces a status
 * that has an outcome.
 */
int cloud_mark_boot_failed(struct storage *st, const char *job, int attempt, const char *why,
			   struct error *err);

/* SIGINT (cancel) or, with notice_deadline_ms, notice.json + SIGUSR2 (a
 * preemption notice; reason "budget" for a budget's graceful stop) to the
 * agent of token on the machine. */
int cloud_signal_agent(const struct ssh_target *t, const char *token, int64_t notice_deadline_ms,
		       const char *reason, struct error *err);

/* ---- on the machine: the agent's dead-man switch ---- */

/*
 * End the machine the agent in instance_dir runs on: wait (polling) for
 * instance_dir/released or self.json's release_wait seconds, then make
 * the one API call self.json describes (written by the backend):
 *   {"api_url": URL, "method": "POST"|"DELETE", "path": "/x/",
 *    "path_env": NAME,       appended to path: the pod id Runpod sets
 *    "body": {...},          optional JSON body
 *    "key_file": "self.key"  or "key_env": NAME (a key scoped to the pod),
 *    "release_wait": 600}
 * Returns 0 once the provider accepted it (the machine goes soon).
 */
int cloud_self_end(const char *instance_dir, struct error *err);


/* ---- plans ---- */

#include "catalog/optimizer.h"

/*
 * The catalog's candidates for res on backend b, best first, locations
 * in blocked (capacity errors, preemptions; may be NULL) left out. *ret_cat
 * holds the offers the candidates point into: catalog_free it after.
 * An empty list is FRUGAL_EINVAL (nothing fits: the counters say why)
 * or FRUGAL_ECAPACITY (everything that fits is blocked for now).
 */
int cloud_candidates(struct provider *p, enum backend_id b, const struct task *t,
		     const struct resources *res, const struct block_list *blocked,
		     struct catalog **ret_cat,
		     struct candidate_list *ret, struct error *err);

/* Report backend's location as out of capacity for secs into learned
 * (a plan's req->learned; NULL: nothing). zone NULL: every
 * zone of region. The reconciler writes it to the store. */
void cloud_block(struct block_list *learned, const char *backend, const char *region,
		 const char *zone, int64_t secs, const char *why);


/* ---- the mirror, from what the stage records ---- */

/* Record in the stage (mirror.json) where the agent's storage and
 * outputs are on the machine (both may be NULL: nothing to mirror). */
int cloud_stage_mirror_info(const char *dir, const char *remote_root, const char *outputs_url,
			    struct error *err);

/*
 * Mirror token's attempt as the stage says (cloud_mirror), at most every
 * interval_s per token (marks kept in marks, n of them). The controller's
 * storage is opened into *st on first use.
 */
struct cloud_sync_mark {
	char token[128];
	int64_t at;
};
void cloud_mirror_stage(const struct ssh_target *t, struct storage **st,
			const struct provider *p, const char *dir, const char *token,
			double interval_s, struct cloud_sync_mark *marks, size_t n);

/* Seconds since the stage was written (its agent.json), 0 if unknown. */
int64_t cloud_stage_age(const char *dir);

/* The controller's storage, opened into *st on first use (NULL on failure). */
struct storage *cloud_ctl_storage(const struct provider *p, struct storage **st);

#endif
