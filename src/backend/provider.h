/*
 * provider: a backend that runs attempts ("instances"), as a table of
 * operations (curl's vtls style). The controller calls these on a worker
 * lane of the backend's own, off its loop; each backend's table is in its
 * folder, src/backend/<name>/, and its descriptor (backend.h, registry.h)
 * points at it.
 *
 * The contract: launch is handed the plan the ledger recorded (never one
 * a backend recovers its own way); describe returns a view that the
 * controller records; a backend never reads or writes the store: blocked
 * locations come in the plan request and new ones go out in `learned`.
 *
 * Every create is idempotent under a token that the controller has
 * committed to the resource ledger first: launching twice with one token
 * never makes two instances, and find(token) tells whether a launch that
 * may or may not have happened did.
 */
#ifndef FRUGAL_PROVIDER_PROVIDER_H
#define FRUGAL_PROVIDER_PROVIDER_H

#include <stdint.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "contract/agentdoc.h"
#include "spec/config.h"
#include "spec/task.h"
#include "store/store.h"

struct provider;

/* Where and at what price an attempt would run. The ledger records it
 * with the attempt; launch is handed exactly that plan. A location
 * without zones has zone ZONE_NONE ("-"). */
struct plan {
	char *backend;
	char *region;
	char *zone;
	char *instance_type;
	char *accelerator;	/* chosen name, NULL for none */
	int gpus;
	int spot;
	double price_per_hour;	/* USD */
	/* Where price_per_hour came from: NULL for the price table (recorded
	 * and shown as "catalog"), or the live source a backend asked at plan
	 * time ("runpod-gpu-catalog", "aws-spot-price-history"). */
	char *price_source;
	char *capacity;		/* human note: "1 of 2 GPUs free" */
	/* The part of price_per_hour that is the volumes frugal makes for the
	 * attempt (provider_makes_volumes): their GiB at the backend's price
	 * per GB-month, per hour (730 h a month). 0: none. */
	double volume_price_per_hour;
};
void plan_release(struct plan *p);
/* A deep copy of src. */
void plan_copy(const struct plan *src, struct plan *ret);

/*
 * What plan is asked. Backends never read or write the store: the
 * reconciler hands them the locations blocked now and writes the ones
 * they learned. A learned block's `until` is a duration in ms from now
 * (the reconciler turns it into a time); zone NULL blocks every zone of
 * the region.
 */
struct plan_request {
	const struct task *task;
	const struct block_list *blocked;	/* in force now; may be NULL */
	struct block_list *learned;		/* out: block these; may be NULL */
};

/* What a launch tells the controller besides the instance's id. */
struct launch_report {
	struct block_list learned;	/* as in plan_request */
	/* The launch failed before it sent anything that could make a
	 * resource (bad settings, refused credentials, the first lookup
	 * failed): the attempt ends without a teardown. A launch runs once
	 * per token, so nothing else can have made one. */
	int nothing_made;
};

/* Everything an instance needs to start the agent. */
struct launch_request {
	const char *job_id;
	int attempt;
	int restart_count;
	const char *token;		/* ledger token: deterministic per attempt */
	const struct plan *plan;	/* where: the plan the ledger recorded */
	const char *task_json;
	const struct task *task;
	const struct kvlist *secrets;	/* name -> value; reach the agent's env only */
	const char *storage_url;
	const char *job_prefix;		/* "jobs/<id>" */
	const char *outputs_url;
	const char *controller_socket;	/* may be NULL */
	const char *controller_key;	/* key_controller of this controller; may be NULL */
	const char *gpus;		/* device ids "0,1" or "" */
	struct launch_report *report;	/* out; may be NULL */
	/* What ports_open made for this attempt (a security group id, a
	 * firewall rule's name), when the backend has ports_open and the
	 * task has resources.ports; else NULL. */
	const char *ports_id;
	/* A multi-node attempt (task num_nodes > 1) is num_nodes launches,
	 * one per rank, each under its own token (provider_node_token) and
	 * with its share of the GPUs; rank 0's token is the attempt's. The
	 * agent gets both (agent.json rank, num_nodes). num_nodes 0 or 1:
	 * one machine. */
	int rank;
	int num_nodes;
};

/* In a launch: fail with r, saying that nothing was made (see
 * launch_report). Returns r. */
int launch_failed_early(const struct launch_request *req, int r);

enum instance_state {
	INSTANCE_PENDING = 0,	/* being created / booting */
	INSTANCE_RUNNING,
	INSTANCE_GONE,		/* terminated, or never existed */
};

/* What describe sees of an instance. The reconciler records a notice
 * (the attempt's notice deadline and an event) when it has none yet. */
struct instance_view {
	enum instance_state state;
	int64_t notice_deadline;	/* the provider will take the machine then (Unix ms); 0: none */
	char *reason;			/* why (a disruption, ...), for humans; may be NULL */
};
#define INSTANCE_VIEW_INIT { INSTANCE_PENDING, 0, NULL }
void instance_view_release(struct instance_view *v);

/*
 * Where one entry of resources.ports (from..to) of a running attempt is
 * reachable, as endpoints reports it. Every field but the range may be
 * NULL: a backend fills what it has.
 */
struct endpoint {
	int from, to;		/* the job's ports */
	char *host;		/* a host this machine can reach the ports on directly */
	char *url_fmt;		/* a URL per port, "%P" the port ("https://ID-%P.proxy...") */
	/* A command that forwards one port here: "%L" stands for the local
	 * port and "%P" for the job's (ssh -N -L %L:localhost:%P ...). */
	char **forward_argv;
	char *note;		/* for humans: how it is reached, or why not */
};
struct endpoint_list {
	struct endpoint *items;
	size_t n, alloc;
};
/* A new entry at the end of l, zeroed, for the range from..to. */
struct endpoint *endpoint_list_add(struct endpoint_list *l, int from, int to);
void endpoint_list_release(struct endpoint_list *l);
/* tmpl with "%L" replaced by local and "%P" by port. Caller frees. */
char *endpoint_fill(const char *tmpl, int local, int port);

/*
 * The operations of a backend. The controller runs them off its event
 * loop, one at a time per backend (see controller/worker.h): an
 * operation may block (HTTP, SSH, a fork), but it must not touch the
 * store, and it must be safe to run again after a deadline passed with
 * no answer (idempotent under the token).
 */
struct provider_ops {
	const char *name;
	/* Check the task can run here; fill the plan with the best location
	 * now (skipping req->blocked). Keys this backend does not support yet
	 * are refused with FRUGAL_ENOTSUP; a task that can never fit with
	 * FRUGAL_EINVAL; FRUGAL_ECAPACITY means "not now" (every fitting
	 * location blocked): the job waits and retries. */
	int (*plan)(struct provider *p, const struct plan_request *req, struct plan *ret,
		    struct error *err);
	/* Pick the capacity an attempt of t would use now, given the live
	 * attempts of this backend that hold GPUs (local: free GPUs, in
	 * *ret_gpus as "0,1"). Returns
	 * FRUGAL_EBUSY with a note in err when it must wait. Runs on the
	 * controller's loop: it must not block. */
	int (*reserve)(struct provider *p, const struct task *t,
		       const struct attempt_list *live, char **ret_gpus, struct error *err);
	/* Start an instance that runs the agent at req->plan; *ret_id is the
	 * provider's id. FRUGAL_ECAPACITY (no capacity, quota) makes the
	 * controller block the plan's location (and report->learned) for a while
	 * and plan again: the next candidate. */
	int (*launch)(struct provider *p, const struct launch_request *req, char **ret_id,
		      struct error *err);
	/* The instance created under token, if any (*ret_id NULL when none).
	 * where: the plan the ledger recorded for it (NULL when unknown). */
	int (*find)(struct provider *p, const char *token, const struct plan *where,
		    char **ret_id, struct error *err);
	int (*describe)(struct provider *p, const char *token, const char *id,
			struct instance_view *ret, struct error *err);
	/* Ask the agent to stop the job gracefully (cancel). */
	int (*stop)(struct provider *p, const char *token, const char *id, struct error *err);
	/* Deliver a preemption notice: the machine is taken at deadline_ms
	 * (local backend: frugal debug preempt; clouds send their own).
	 * reason: "budget" for a budget's graceful stop, NULL for a debug
	 * preemption. */
	int (*notice)(struct provider *p, const char *token, const char *id,
		      int64_t deadline_ms, const char *reason, struct error *err);
	/* End the instance and everything in it. Idempotent: gone is success. */
	int (*terminate)(struct provider *p, const char *token, const char *id,
			 struct error *err);
	/* Tokens of every instance this provider holds that frugal made (gc),
	 * token -> what, for humans. A resource of its own that ports_open
	 * made (a security group, a firewall rule) is listed under its ports
	 * token (provider_ports_token), which gc ends with ports_close. */
	int (*list)(struct provider *p, struct kvlist *ret_token_to_id, struct error *err);
	/* Optional (NULL: none): what the machine printed while it booted
	 * (a serial console, a pod's log, the agent's stderr), appended to
	 * out, at most max bytes (its tail when longer). Asked when an agent
	 * never reported: the controller puts it in the attempt's events.
	 * Without it (or when it fails) the controller reads the boot.log a
	 * boot script uploaded under the attempt (key_attempt "boot.log"). */
	int (*boot_log)(struct provider *p, const char *token, const char *id, size_t max,
			struct strbuf *out, struct error *err);
	void (*free)(struct provider *p);

	/* resources.ports (backends with BACKEND_CAP_PORTS). ports_open and
	 * ports_close are for backends whose opened ports are a resource of
	 * their own (a security group, a firewall rule, a Service): the
	 * controller commits a ledger row of kind "ports" (token
	 * provider_ports_token(token)) with the instance's, calls ports_open
	 * before launch and hands its id to launch (req->ports_id), and
	 * ports_close with the instance's teardown. ports_open is idempotent
	 * under req->token (a deterministic name); ports_close finds what was
	 * made by the token when id is NULL, and gone is success. NULL when
	 * the instance itself carries its ports (a pod's ports) or nothing
	 * needs opening (this machine). */
	int (*ports_open)(struct provider *p, const struct launch_request *req, char **ret_id,
			  struct error *err);
	int (*ports_close)(struct provider *p, const char *token, const char *id,
			   struct error *err);
	/* Where each of t's ports is reachable on the instance id of token:
	 * one entry per resources.ports entry, in order. Read-only; the CLI
	 * calls it (frugal endpoints, frugal forward). FRUGAL_EBUSY while the
	 * instance has no address yet. */
	int (*endpoints)(struct provider *p, const char *token, const char *id,
			 const struct task *t, struct endpoint_list *ret, struct error *err);

	/* volumes: (backends with BACKEND_CAP_VOLUMES). volumes_end is for
	 * backends that make a volume per attempt (a volume_kind with made
	 * set: an EBS volume from a snapshot): the controller commits a
	 * ledger row of kind "volume" (token provider_volume_token(token))
	 * in the same commit as the instance's; launch makes the volumes
	 * with the instance, tagged with the token; volumes_end ends every
	 * volume made under token (id: the instance's, or NULL) and is called
	 * with the instance's teardown, and when a resolve finds the instance
	 * was never made. Gone is success; FRUGAL_EBUSY while the instance
	 * still holds them (the teardown asks again). NULL: the volumes are
	 * the user's (a directory, a claim, a network volume): nothing is
	 * made, and nothing ended. */
	int (*volumes_end)(struct provider *p, const char *token, const char *id,
			   struct error *err);
	/* `frugal volume copy`: a copy of the volume source ref (a kind this
	 * backend gives) in region to, so that plans can go there; an
	 * existing copy is returned as it is (*ret_made 0). *ret_id the
	 * copy's id. NULL: the kind is not regional, or cannot be copied. */
	int (*volume_copy)(struct provider *p, const char *ref, const char *to,
			   char **ret_id, int *ret_made, struct error *err);
};

struct provider {
	const struct provider_ops *ops;
	const struct config *config;
	char *home;		/* FRUGAL_HOME */
	char *self_exe;		/* path of the frugal binary, to start agents */
	void *priv;
};

/* The controller's limits for a backend's attempts, from config.yaml
 * (backends.NAME.boot_timeout, .heartbeat_timeout) or the defaults:
 * the descriptor's boot_timeout_s, and 3 heartbeats. */
struct backend_liveness {
	int64_t boot_timeout_ms;	/* 0: no limit */
	int64_t heartbeat_timeout_ms;	/* never under 2 heartbeats */
};
/* The limits of backend name (known or not) under cfg (may be NULL). */
void backend_liveness_get(const char *name, const struct config *cfg,
			  struct backend_liveness *ret);

/* Split a ledger token "JOB-N" (or a node's "JOB-N.rR") into JOB (size
 * bytes at most) and N >= 1; 0 or FRUGAL_EINVAL. */
int provider_token_split(const char *token, char *job, size_t size, int *ret_n);

/* The ledger token of node rank of the attempt whose token is token:
 * token itself for rank 0, "TOKEN.rR" for rank R >= 1. Caller frees. */
char *provider_node_token(const char *token, int rank);
/* The rank in a node's token ("JOB-N.rR"), 0 for any other token. */
int provider_token_rank(const char *token);
/* Rank's share of the GPUs reserve handed an attempt of num_nodes nodes
 * ("0,1,2,3", rank 1 of 2: "2,3"): split evenly in rank order. Caller
 * frees. */
char *provider_node_gpus(const char *gpus, int rank, int num_nodes);

/* The notice.json document (agent/notice.h) for a notice whose machine
 * goes at deadline_ms: with "reason": "budget" when reason says so (a
 * budget's graceful stop), else a notice from "debug". Caller frees. */
char *provider_notice_json(int64_t deadline_ms, const char *reason);

/* ops.reserve for backends whose own scheduler or cloud hands out
 * capacity (nothing to reserve here): always room, no local GPU ids. */
int provider_reserve_none(struct provider *p, const struct task *t,
			  const struct attempt_list *live, char **ret_gpus, struct error *err);

/* Set up the libraries backends share (libcurl, libxml2) once, before
 * provider operations run on several threads. */
void provider_global_init(void);

/* Open backend name (registry.c; the names are the registry's);
 * FRUGAL_ENOTSUP for a backend not built yet. */
int provider_open(const char *name, const struct config *cfg, const char *home,
		  struct provider **ret, struct error *err);
void provider_free(struct provider *p);

/*
 * The agent.json of req (contract/agentdoc.h) into *ret: its ids, storage,
 * controller socket, the GPUs of req->gpus, the task, and backend (it
 * picks the agent's notice sources and how it ends its machine). The
 * directories are left to the agent's defaults; a backend changes what
 * its machines need before it renders the document.
 */
void provider_agent_doc(const struct launch_request *req, const char *backend,
			struct agent_doc *ret);

/*
 * provider_agent_doc for an agent on a machine of its own (a VM, a pod),
 * which cannot reach the controller's socket: none is given, and when
 * gpus >= 0 the device ids are 0..gpus-1 (the machine sees only its own).
 */
void provider_agent_doc_remote(const struct launch_request *req, const char *backend,
			       int gpus, struct agent_doc *ret);

/*
 * Write DIR/agent.json (mode 0600, atomically) for req: provider_agent_doc
 * with the work, checkpoint and outputs directories under dir. gpus_env,
 * when not NULL, names the variable of the agent's environment that lists
 * the GPUs a scheduler allocated (Slurm: "CUDA_VISIBLE_DEVICES"). With a
 * container (image_id docker:IMAGE) it is named for p's home
 * (backend/common/container.h) and run with backends.NAME.container_runtime
 * when that is set.
 */
int provider_write_agent_json(const struct provider *p, const char *dir,
			      const struct launch_request *req, const char *backend,
			      const char *gpus_env, struct error *err);

/*
 * Plan-time checks that do not depend on a backend's own code: keys the
 * parser records for every backend but only backends with the capability
 * can honour (resources.ports: BACKEND_CAP_PORTS; image_id: docker:IMAGE:
 * a container runtime, provider_container_runtime; cfg may be NULL). 0,
 * or FRUGAL_ENOTSUP with one line naming the key, the backend and what to
 * do.
 */
int provider_check_task(const struct task *t, const char *backend, const struct config *cfg,
			struct error *err);

/*
 * Where image_id docker:IMAGE runs on backend, for humans: "the pod's
 * image" (BACKEND_CAP_CONTAINER), "docker on the VM"
 * (BACKEND_CAP_DOCKER_ON_VM), the runtime found on PATH for this machine
 * ("docker", "podman"; backends.NAME.container_runtime narrows it), the
 * configured one for a cluster; NULL: nowhere.
 */
const char *provider_container_runtime(const struct config *cfg, const char *backend);

/* The ledger token of an attempt's ports row: "TOKEN:ports". Caller frees. */
char *provider_ports_token(const char *token);
/* 1 when token is a ports token "TOKEN:ports", with TOKEN (the attempt's)
 * into *ret_attempt when that is not NULL (caller frees); else 0. */
int provider_ports_token_split(const char *token, char **ret_attempt);
/* 1 when backend p makes a ports resource for task t (ports_open). */
int provider_opens_ports(const struct provider *p, const struct task *t);

/* The ledger token of an attempt's volume row: "TOKEN:volume". Caller
 * frees. */
char *provider_volume_token(const char *token);
/* 1 when backend p makes a volume for task t (volumes_end, and a volume of
 * a kind the backend marks made). */
int provider_makes_volumes(const struct provider *p, const struct task *t);

/* Where the agent finds volume i of a task on the machine, when a backend
 * attached and mounted it before the agent started (a made volume, a
 * disk): PROVIDER_VOLUME_ROOT/i. */
#define PROVIDER_VOLUME_ROOT "/mnt/frugal-volumes"

/*
 * End one ledger row's resource: ports_close for a row of kind "ports"
 * (with the attempt's token), volumes_end for one of kind "volume",
 * terminate for anything else. Gone is success.
 */
int provider_resource_end(struct provider *p, const char *kind, const char *token,
			  const char *provider_id, struct error *err);

/* 1 when a launch on backend name spends money at a provider (a cloud),
 * so `frugal launch` on a terminal asks first. */
int provider_is_paid(const char *name);

/* Backend a task goes to: task.backend, else resources.cloud, else the
 * config's default_backend, else "local"; override wins when given. */
const char *provider_choose(const struct task *t, const struct config *cfg,
			    const char *override);

#endif
