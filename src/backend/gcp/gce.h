/*
 * gce: a small client of the Compute Engine REST API v1
 * (https://compute.googleapis.com/compute/v1, the resources of
 * the discovery document compute-v1.json): instances insert, get,
 * aggregated list, delete and simulateMaintenanceEvent, firewalls (the
 * bodies; gcp.c calls insert and delete), and zone and global
 * operations. The gcp provider (gcp.c) is built on it; so is the agent's
 * way to end its own VM (gce_delete_self).
 *
 * Errors are classified once, here, for every caller:
 *   FRUGAL_ENOTFOUND  HTTP 404 (the instance, the operation is gone)
 *   FRUGAL_EEXIST     HTTP 409 alreadyExists (a deterministic name taken)
 *   FRUGAL_ECAPACITY  no capacity or no quota: ZONE_RESOURCE_POOL_EXHAUSTED
 *                     (and _WITH_DETAILS), QUOTA_EXCEEDED, quotaExceeded,
 *                     resourceExhausted, "does not have enough resources",
 *                     an accelerator type the zone lacks; *_REGION_QUOTA /
 *                     regional quotas set gce_error_regional()
 *   FRUGAL_EPROVIDER  any other refusal (code and message in err)
 *   FRUGAL_ENET       no answer (after retries of 429/5xx)
 * The API's own message is kept in err; a request body never is.
 *
 * The endpoint is https://compute.googleapis.com/compute/v1 unless
 * given (config backends.gcp.compute_endpoint, or FRUGAL_GCP_COMPUTE_URL
 * for tests and for the agent of an emulated VM).
 */
#ifndef FRUGAL_PROVIDER_GCE_H
#define FRUGAL_PROVIDER_GCE_H

#include <jansson.h>
#include <stdint.h>

#include "base/error.h"
#include "spec/task.h"
#include "backend/gcp/auth.h"

#define GCE_DEFAULT_ENDPOINT "https://compute.googleapis.com/compute/v1"
#define GCE_ENDPOINT_ENV "FRUGAL_GCP_COMPUTE_URL"

struct gce {
	char *endpoint;		/* no trailing '/' */
	char *project;
	struct gauth *auth;	/* borrowed */
	int last_regional;	/* the last ECAPACITY was a regional quota */
};

/* endpoint NULL: FRUGAL_GCP_COMPUTE_URL, else the default. */
void gce_init(struct gce *g, const char *endpoint, const char *project, struct gauth *auth);
void gce_release(struct gce *g);

/*
 * One request: METHOD endpoint/projects/PROJECT/PATH (path may carry a
 * query). body (not consumed) is sent as JSON when not NULL. On success
 * *ret is the answer's JSON (caller decrefs; NULL for an empty body).
 */
int gce_call(struct gce *g, const char *method, const char *path, json_t *body, json_t **ret,
	     struct error *err);

/*
 * Wait for the zone operation op until it is DONE or timeout_ms has
 * passed (FRUGAL_ETIMEOUT), with zoneOperations.wait. A DONE operation
 * with an error returns that error, classified as above.
 */
int gce_wait(struct gce *g, json_t *op, int64_t timeout_ms, struct error *err);

/* 1 when the last FRUGAL_ECAPACITY came from a regional quota. */
int gce_error_regional(const struct gce *g);

/* The instances of every zone matching filter (aggregatedList, every
 * page), as one JSON array (caller decrefs). fields, when not NULL,
 * limits what each instance carries ("name,zone,status,labels"). */
int gce_list(struct gce *g, const char *filter, const char *fields, json_t **ret,
	     struct error *err);

/* The project's firewall rules (firewalls.list, every page), as one JSON
 * array (caller decrefs); fields as for gce_list ("name,description"). */
int gce_firewall_list(struct gce *g, const char *fields, json_t **ret, struct error *err);

/* ---- building requests (pure) ------------------------------------------------ */

/* The volume kind of an existing persistent disk (gce-disk://ZONE/NAME
 * or gce-disk://NAME in volumes:), attached READ_ONLY. */
#define GCE_DISK_KIND "gce-disk"

/* An existing disk attached to an instance: source
 * "projects/P/zones/Z/disks/NAME", device name (by-id google-DEVICE). */
struct gce_attached_disk {
	const char *source;
	const char *device;
};

/* The zone and name of a gce-disk volume's ref ("ZONE/NAME", or "NAME"
 * with default_zone, which may be NULL): 0, or -1 when ref is neither
 * (a name that is not [a-z]([-a-z0-9]*[a-z0-9])?, at most 63) or NAME
 * comes without a zone. Caller frees both. */
int gce_disk_ref(const char *ref, const char *default_zone, char **ret_zone, char **ret_name);

/* What an instance is made of (gce_instance_body). */
struct gce_instance_spec {
	const char *name;
	const char *description;
	const char *zone;		/* "us-central1-a" */
	const char *machine_type;	/* "n1-standard-8" */
	const char *accelerator;	/* GCE accelerator type ("nvidia-tesla-t4"), or NULL */
	int accelerator_count;
	int spot;			/* provisioningModel SPOT, terminationAction DELETE */
	int gpus;			/* any GPU (guest or built in): onHostMaintenance TERMINATE */
	int64_t max_run_s;		/* scheduling.maxRunDuration; 0: none */
	const char *image;		/* source image or family URL */
	int disk_gb;
	const char *disk_type;		/* "pd-balanced" */
	const char *network;		/* "global/networks/default" */
	const char *subnetwork;		/* NULL: the network's */
	int external_ip;		/* an ephemeral external address (ONE_TO_ONE_NAT) */
	const char *service_account;	/* "default" or an e-mail */
	const char *data_disk;		/* an existing disk URL, attached READ_ONLY, or NULL */
	const char *data_device;	/* its device name */
	/* The task's gce-disk volumes (docs/DATA.md): each an existing disk
	 * attached READ_ONLY, never deleted with the VM. */
	const struct gce_attached_disk *volumes;
	size_t n_volumes;
	const struct kvlist *labels;
	const struct kvlist *metadata;	/* key -> value items */
	const char *network_tag;	/* tags.items (a firewall rule's target), or NULL */
};

/* The instances.insert body (an Instance) for s. Caller decrefs. */
json_t *gce_instance_body(const struct gce_instance_spec *s);

/* A firewall rule that opens resources.ports to one network tag:
 * INGRESS, TCP on every range, from 0.0.0.0/0 (what SkyPilot opens). */
struct gce_firewall_spec {
	const char *name;
	const char *description;
	const char *network;		/* "global/networks/default" when NULL */
	const char *target_tag;
	const struct port_range *ports;
	size_t n_ports;
};

/* The firewalls.insert body (a Firewall) for s. Caller decrefs. */
json_t *gce_firewall_body(const struct gce_firewall_spec *s);

/* The GCE accelerator type of a catalog accelerator name ("T4" ->
 * "nvidia-tesla-t4"), or NULL when it has none. */
const char *gce_accelerator_type(const char *catalog_name);

/* 1 when the machine type carries its GPUs itself (a2, a3, a4, g2):
 * no guestAccelerators then. */
int gce_machine_has_gpus(const char *machine_type);

/* ---- reading answers (pure) ------------------------------------------------------ */

/* status of an Instance ("RUNNING", ...), or "" when it has none. */
const char *gce_instance_status(json_t *inst);
/* The last path component of a URL field ("zone": ".../zones/us-central1-a"),
 * or NULL. Caller frees. */
char *gce_url_tail(json_t *o, const char *field);
/* A label of an Instance, or NULL. */
const char *gce_label(json_t *inst, const char *key);

/*
 * Classify an error document: the "error" of an HTTP answer
 * ({"error": {"code", "message", "errors": [{"reason", "message"}]}}) or
 * of a DONE operation ({"errors": [{"code", "message"}]}). Sets err with
 * what (the action) and the API's message; returns the code above
 * (FRUGAL_EPROVIDER when nothing more is known). *ret_regional is set to
 * 1 for a regional quota.
 */
int gce_classify_error(json_t *error, long http_status, const char *what, int *ret_regional,
		       struct error *err);

/* ---- on the VM ---------------------------------------------------------------------- */

/* Delete the VM this runs on (project, zone and name from the metadata
 * server, the token of the VM's service account), waiting for nothing. */
int gce_delete_self(struct error *err);

/* The agent's end of its VM: gce_delete_self; when that fails on a real
 * VM (no FRUGAL_GCE_METADATA_URL), `shutdown -h now` as a last resort (the
 * VM stops; maxRunDuration or the controller deletes it). Returns the
 * delete's result. */
int gce_end_self(struct error *err);

struct backend_probe;
struct config;
/* backend.storage_check: a VM reaches only GCS (probe.c). */
int gcp_storage_check(const struct config *cfg, const char *url, struct error *err);
/* backend.probe: zones.list with the credentials Compute would use (probe.c). */
int gcp_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
	      struct error *err);

#endif
