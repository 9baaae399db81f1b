/*
 * runpod_api: one version of Runpod's REST API behind a small table, so
 * that the backend (runpod.c) does not change with the API version. The
 * version spoken is v2 (server https://api.runpod.io, paths /v2/..., the
 * published api-reference-v2/openapi.json); v1 (rest.runpod.io/v1) was
 * retired on December 1, 2026 and is gone. v2 has no interruptible (spot)
 * pods, no vCPU/RAM minimum per GPU and no pagination; see docs/RUNPOD.md.
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
	const struct kvlist *env;	/* secrets among them: never logged */
	const char *network_volume_id;	/* or NULL */
	const char *volume_mount_path;	/* where it is mounted */
	int container_disk_gb;
	const char *start_script;	/* sh script the container runs (no secret) */
	/* resources.ports: each port exposed as PORT/http (Runpod's proxy,
	 * at most RUNPOD_HTTP_PORTS_MAX), beside 22/tcp for SSH. */
	const struct port_range *ports;
	size_t n_ports;
};
#define RUNPOD_HTTP_PORTS_MAX 10	/* "Expose HTTP Ports (Max 10)" */

/* A pod as frugal needs it. */
struct runpod_pod {
	char *id;
	char *name;
	char *status;			/* the API's word: PROVISIONING, RUNNING, ... */
	enum instance_state state;	/* RUNNING once it has an IP and SSH port */
	char *ip;
	int ssh_port;
};
void runpod_pod_release(struct runpod_pod *p);

/*
 * What the GPU catalog says of one GPU type, count and cloud: the stock
 * level ("NONE", "LOW", "MEDIUM", "HIGH") overall and per data center.
 * RUNPOD_STOCK_INIT; runpod_stock_release.
 */
struct runpod_stock {
	char *gpu_type_id;		/* what was asked */
	int gpu_count;
	char *cloud_type;
	char *overall;			/* NULL: not reported */
	size_t n;
	char **dc, **level;		/* n data centers and their levels */
	int failed;			/* the catalog could not be read */
	/* The list price of one GPU of the type in that cloud (GpuType.price
	 * .secure or .community), USD per hour; 0: not reported. */
	double gpu_price;
};
#define RUNPOD_STOCK_INIT { NULL, 0, NULL, NULL, 0, NULL, NULL, 0, 0 }
void runpod_stock_release(struct runpod_stock *s);

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
	/* Every pod (name given: only those with that name). */
	int (*list)(struct cloud_api *api, const char *name, struct runpod_pod **ret,
		    size_t *ret_n, struct error *err);
	/* End it for good; gone already is success. */
	int (*remove)(struct cloud_api *api, const char *id, struct error *err);
	/* The data center of a network volume; FRUGAL_EINVAL when unknown. */
	int (*volume_dc)(struct cloud_api *api, const char *id, char **ret_dc,
			 struct error *err);
	/* Live stock of a GPU type (count, cloud) from the catalog into *ret. */
	int (*stock)(struct cloud_api *api, const char *gpu_type_id, int count,
		     const char *cloud_type, struct runpod_stock *ret, struct error *err);
	/* How a pod ends itself: method and path prefix for its own id. */
	const char *self_method;
	const char *self_path;
	/* Parse one pod object of a reply. */
	void (*parse)(json_t *j, struct runpod_pod *ret);
};

extern const struct runpod_api_ops runpod_v2_ops;

/* The ops of version ("v2"), or NULL. */
const struct runpod_api_ops *runpod_api_for(const char *version);

/*
 * The stock level of a GPU type in a data center (dc NULL: overall),
 * reading the catalog into *cache when it holds another GPU type, count
 * or cloud. NULL when the catalog could not be read (capacity is then
 * learnt at create), "NONE" when the data center is not listed.
 */
const char *runpod_stock_level(struct cloud_api *api, const struct runpod_api_ops *v,
			       struct runpod_stock *cache, const char *gpu_type_id, int count,
			       const char *cloud_type, const char *dc);

/* attempts.price_source of a price read from Runpod's GPU catalog. */
#define RUNPOD_PRICE_SOURCE "runpod-gpu-catalog"

/*
 * The hourly price of a pod of `count` GPUs from what the GPU catalog said
 * (cache, filled by runpod_stock_level): the cloud's per-GPU list price
 * times count. 0 when the catalog could not be read or gave no price.
 */
double runpod_stock_price(const struct runpod_stock *cache, int count);

/* Runpod's GPU type id for a catalog accelerator name ("RTX4090" ->
 * "NVIDIA GeForce RTX 4090"), or NULL. */
const char *runpod_gpu_type_id(const char *accel);

/* ~/.runpod/config.toml text -> the API key ("apikey" or "api_key"), or NULL. */
char *runpod_key_from_toml(const char *text);

/* 1 when an error reply (status, body) of a create means "no capacity". */
int runpod_is_capacity_error(long status, json_t *body);

struct backend_probe;
/* backend.probe: GET /v2/catalog/gpus with the key the backend would use. */
int runpod_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		 struct error *err);

#endif
