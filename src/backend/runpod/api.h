/*
 * runpod_api: one version of Runpod's REST API behind a small table, so
 * that the backend (runpod.c) does not change when Runpod retires v1
 * (announced) for v2: a new version is a new runpod_vN.c with the same
 * operations. Only v1 (https://rest.runpod.io/v1, the published
 * api-reference/openapi.json) is implemented: v2's pod has no
 * interruptible (spot) setting and its create request differs (gpu:
 * {id, count}, mounts.network[], cloud, args); see docs/RUNPOD.md.
 */
#ifndef FRUGAL_PROVIDER_RUNPOD_API_H
#define FRUGAL_PROVIDER_RUNPOD_API_H

#include <jansson.h>

#include "base/error.h"
#include "backend/common/cloud.h"
#include "backend/provider.h"

/* What frugal asks of a new pod. */
struct runpod_create {
	const char *name;
	const char *image;
	const char *gpu_type_id;	/* Runpod's id: "NVIDIA GeForce RTX 4090" */
	int gpu_count;
	const char *cloud_type;		/* "SECURE" or "COMMUNITY" */
	const char *data_center;	/* "US-TX-3", or NULL: any */
	int interruptible;		/* spot */
	const struct kvlist *env;	/* secrets among them: never logged */
	const char *network_volume_id;	/* or NULL */
	const char *volume_mount_path;	/* where it is mounted */
	int container_disk_gb;
	const char *const *start_cmd;	/* NULL-terminated argv */
};

/* A pod as frugal needs it. */
struct runpod_pod {
	char *id;
	char *name;
	char *status;			/* the API's word: RUNNING, EXITED, ... */
	enum instance_state state;	/* RUNNING once it has an IP and SSH port */
	char *ip;
	int ssh_port;
	int interruptible;
};
void runpod_pod_release(struct runpod_pod *p);

struct runpod_api_ops {
	const char *version;
	const char *default_url;
	/* The request body of a create (for tests and for create). */
	json_t *(*create_body)(const struct runpod_create *c);
	/* Create; 0 with *ret filled on success. A refusal for capacity is
	 * FRUGAL_ECAPACITY; 429/5xx/no answer FRUGAL_ENET (it may exist). */
	int (*create)(struct cloud_api *api, const struct runpod_create *c,
		      struct runpod_pod *ret, struct error *err);
	/* One pod; *ret_found 0 when the API does not know it (404). */
	int (*get)(struct cloud_api *api, const char *id, struct runpod_pod *ret,
		   int *ret_found, struct error *err);
	/* Every pod (name given: only those the API says have it). */
	int (*list)(struct cloud_api *api, const char *name, struct runpod_pod **ret,
		    size_t *ret_n, struct error *err);
	/* End it for good; gone already is success. */
	int (*remove)(struct cloud_api *api, const char *id, struct error *err);
	/* How a pod ends itself: method and path prefix for its own id. */
	const char *self_method;
	const char *self_path;
	/* Parse one pod object of a reply. */
	void (*parse)(json_t *j, struct runpod_pod *ret);
};

extern const struct runpod_api_ops runpod_v1_ops;

/* The ops of version ("v1"), or NULL. */
const struct runpod_api_ops *runpod_api_for(const char *version);

/* Runpod's GPU type id for a catalog accelerator name ("RTX4090" ->
 * "NVIDIA GeForce RTX 4090"), or NULL. */
const char *runpod_gpu_type_id(const char *accel);

/* ~/.runpod/config.toml text -> the API key ("apikey" or "api_key"), or NULL. */
char *runpod_key_from_toml(const char *text);

/* 1 when an error reply (status, body) of a create means "no capacity". */
int runpod_is_capacity_error(long status, json_t *body);

#endif
