/*
 * backend: what frugal knows of one backend, in one descriptor. Each
 * backend folder (src/backend/<name>/) defines its own in descriptor.c,
 * and src/backend/registry.c lists them, one line each. Everything
 * outside src/backend/ that needs to know something about a backend
 * asks the registry (registry.h) instead of naming it.
 *
 * A descriptor holds:
 *   name, aliases, title   "kubernetes", {"k8s"}, "Kubernetes"
 *   caps                   BACKEND_CAP_* bits: what tasks may ask of it
 *   settings               the keys of backends.<name> in config.yaml,
 *                          typed (spec/config.h), checked when the file
 *                          is read like a task file (file:line:col,
 *                          "did you mean")
 *   credentials            whether its credentials are where it looks,
 *                          and where (a path or a variable name, never
 *                          the value), with a hint to fix it
 *   billing                how running time becomes billed time
 *                          (catalog/billing.h)
 *   preemption_rate        spot preemptions per hour the optimizer
 *                          assumes unless config.yaml says otherwise
 *   table_offers           how its price table (catalog/<name>/vms.csv)
 *                          becomes offers, when a row is not one offer
 *   provider               the controller's operations (provider.h)
 *   agent                  the agent's: notice sources and how the
 *                          machine ends itself (agentops.h)
 *   volume_kinds           the kinds of `volumes:` it gives (spec/volume.h:
 *                          a scheme such as "ebs", or "dir", "name")
 *   storage                its storage driver (storage/storage.h), or NULL
 *   storage_check          whether its machines can use a storage URL
 *   probe                  one cheap read-only call that shows the
 *                          credentials work (`frugal backends NAME`)
 */
#ifndef FRUGAL_BACKEND_BACKEND_H
#define FRUGAL_BACKEND_BACKEND_H

#include <stddef.h>

#include "base/error.h"
#include "catalog/billing.h"
#include "catalog/catalog.h"
#include "spec/config.h"
#include "spec/volume.h"

struct provider_ops;
struct agent_ops;
struct storage_ops;

/* What a backend can do, for planning and for messages. */
enum backend_cap {
	BACKEND_CAP_SPOT = 1u << 0,		/* spot / preemptible capacity */
	BACKEND_CAP_STOP = 1u << 1,		/* an instance can be stopped and resumed
						 * (unset: terminate only) */
	BACKEND_CAP_NOTICE = 1u << 2,		/* the agent hears preemption notices */
	BACKEND_CAP_VOLUMES = 1u << 3,		/* shared or persistent volumes */
	BACKEND_CAP_PORTS = 1u << 4,		/* inbound ports to the job */
	BACKEND_CAP_IMAGES = 1u << 5,		/* a machine or container image is chosen */
	BACKEND_CAP_MULTI_NODE = 1u << 6,	/* several nodes per attempt */
	BACKEND_CAP_PRICE_TABLE = 1u << 7,	/* catalog/<name>/vms.csv */
	BACKEND_CAP_CONTAINER = 1u << 8,	/* the machine is a container: image_id
						 * docker:IMAGE is its image */
	BACKEND_CAP_CONTEXT_REGION = 1u << 9,	/* the region is a context name that may
						 * hold '/' (infra: NAME/CONTEXT) */
	BACKEND_CAP_THIS_MACHINE = 1u << 10,	/* jobs are processes of this machine,
						 * ended by frugal itself */
	BACKEND_CAP_CGROUPS = 1u << 11,		/* ... found and ended through their
						 * cgroup (unset: a scan of the processes
						 * for the attempt's marker) */
	BACKEND_CAP_DOCKER_ON_VM = 1u << 12,	/* its machines run docker (and the NVIDIA
						 * container toolkit): image_id
						 * docker:IMAGE runs setup and run in a
						 * container there (agent/container.h) */
};

/* The outcome of a credential check. where names the place the
 * credentials were found (a file path or an environment variable name),
 * never their value; hint says how to provide them; scope, when the
 * settings say, the account, project, cluster or region the backend
 * would use ("" when only asking would tell). */
struct backend_credentials {
	int found;
	char where[256];
	const char *hint;
	char scope[256];
};
#define BACKEND_CREDENTIALS_INIT { 0, "", "", "" }

/* What a probe (backend.probe) saw: scope names the account, project,
 * cluster or region it used; detail what the call answered ("17 regions
 * enabled"). Neither holds a secret. */
struct backend_probe {
	char scope[256];
	char detail[256];
};

/* How long a probe may take, all calls together. */
#define BACKEND_PROBE_TIMEOUT_MS 10000L

struct backend {
	const char *name;
	const char *const *aliases;	/* NULL-terminated, or NULL */
	const char *title;		/* for humans: "Amazon EC2" */
	unsigned caps;			/* enum backend_cap bits */
	const struct config_setting *settings;	/* ends with { NULL } */
	/* Fill *ret (found, where, hint). Never fails; reads no secret. */
	void (*credentials)(const struct config *cfg, struct backend_credentials *ret);
	struct billing_rule billing;
	double preemption_rate;		/* per hour, on spot capacity */
	/* Default boot_timeout: seconds from the launch until the agent's
	 * first report (status.json); 0: none (a queue, say, where waiting
	 * is no boot). backends.NAME.boot_timeout overrides it. */
	int boot_timeout_s;
	/* heartbeat_timeout's default; 0: three heartbeats. A machine whose
	 * status travels through a cloud's storage gets longer, so that a
	 * storage hiccup of a minute does not end a healthy job. */
	int heartbeat_timeout_s;
	catalog_table_offers_fn table_offers;	/* NULL: one offer per priced row */
	const struct provider_ops *provider;
	const struct agent_ops *agent;
	const struct storage_ops *storage;	/* NULL: none of its own */
	/* The kinds of volume it gives (with BACKEND_CAP_VOLUMES), ending
	 * with { NULL }; NULL: none. */
	const struct volume_kind *volume_kinds;
	/* 0 when the backend's machines can use the storage at url (the
	 * config's storage:), else FRUGAL_EINVAL saying what to set. Reads
	 * settings only; asks no one. NULL: any storage. */
	int (*storage_check)(const struct config *cfg, const char *url, struct error *err);
	/* One cheap read-only call with the credentials the backend would use
	 * (DescribeRegions, zones.list, GET /version, ...), within
	 * BACKEND_PROBE_TIMEOUT_MS; 0 with *ret filled, else negative with
	 * the provider's answer in err. home is FRUGAL_HOME. */
	int (*probe)(const struct config *cfg, const char *home, struct backend_probe *ret,
		     struct error *err);
	/* Capability bits only this machine can decide at run time (local:
	 * BACKEND_CAP_CGROUPS when a cgroup v2 tree is mounted and writable
	 * and the settings do not turn it off); cheap, asks no one. NULL:
	 * caps is all there is. */
	unsigned (*caps_here)(const struct config *cfg, const char *home);
};

/* b->caps with what caps_here says for this machine, cfg and home. */
unsigned backend_caps(const struct backend *b, const struct config *cfg, const char *home);

/* Settings every backend takes: the optimizer's (catalog/optimizer.h)
 * preemption_rate, restart_overhead; the controller's liveness limits
 * boot_timeout, heartbeat_timeout (backend_liveness_get). A descriptor's
 * settings list them with BACKEND_COMMON_SETTINGS (local's are read by
 * spec/config.c, which knows these two). */
#define BACKEND_COMMON_SETTINGS \
	{ "preemption_rate", CONFIG_NUMBER, "spot preemptions per hour the optimizer assumes" }, \
	{ "restart_overhead", CONFIG_DURATION, "time a restart costs (boot, restore)" }, \
	BACKEND_LIVENESS_SETTINGS
#define BACKEND_LIVENESS_SETTINGS \
	{ "boot_timeout", CONFIG_SECONDS, "how long a new machine's agent may take to report" \
	  " before the machine is ended and the job planned again (0: no limit)" }, \
	{ "heartbeat_timeout", CONFIG_SECONDS, "how old the agent's heartbeat may grow before" \
	  " its attempt is lost: the machine is ended and the job recovers" }


/* Helpers for credential checks; each returns 1 and fills ret->where
 * when found, else 0. */
/* The environment variable name is set and not empty. */
int backend_credentials_env(struct backend_credentials *ret, const char *name);
/* $HOME/rel is readable. */
int backend_credentials_home_file(struct backend_credentials *ret, const char *rel);
/* A file named by the environment variable name is readable. */
int backend_credentials_env_file(struct backend_credentials *ret, const char *name);
/* backends.<backend>.<key> is set in config.yaml. */
int backend_credentials_setting(struct backend_credentials *ret, const struct config *cfg,
				const char *backend, const char *key);
/* This machine is a VM whose DMI vendor or product name starts with
 * vendor ("Amazon EC2", "Google"): its metadata server hands out
 * credentials; where says so ("instance profile (metadata service)"). */
int backend_credentials_machine(struct backend_credentials *ret, const char *vendor,
				const char *where);
/* cfg has a backends.<backend> section. */
int backend_credentials_section(struct backend_credentials *ret, const struct config *cfg,
				const char *backend);

#endif
