/*
 * gcp: the backend that runs each attempt on a Compute Engine VM
 * (standard or spot), through the Compute REST API v1 (gce.h), with its
 * storage on GCS (backend/gcp/gcs.h). docs/GCP.md is the user's guide.
 *
 * plan: the cheapest GCP offer of the shipped catalog that fits
 * (optimizer_candidates restricted to gcp, zones blocked in the store
 * skipped); n1 machine types with T4/V100/P100/P4 as guest accelerators,
 * a2/a3/a4/g2 types with their own GPUs, as the catalog prices them.
 *
 * launch: the VM of attempt TOKEN is named frugal-TOKEN-HOMETAG (one name
 * per attempt and FRUGAL_HOME) and inserted with a requestId derived from
 * it, so an insert sent twice makes one VM and an insert after a crash
 * finds the VM made before (409 alreadyExists: adopted when its labels
 * are ours). Before the insert: the frugal binary goes to the bucket once
 * (frugal/bin/SHA256, content-addressed), the job's workdir as a tar
 * (jobs/JOB/boot/workdir.tar, once per job); the VM gets agent.json,
 * the key of the sealed secrets (stored in the bucket as
 * jobs/JOB/attempts/N/secrets.sealed) and the boot script as metadata
 * (gcp_boot.h), labels
 * frugal-job, frugal-attempt, frugal-owner; spot VMs are SPOT with
 * instanceTerminationAction DELETE; GPUs force onHostMaintenance TERMINATE;
 * stop.max_runtime becomes scheduling.maxRunDuration (plus the notice
 * grace and BOOT_MARGIN_S), a cap the cloud enforces whatever else fails.
 * launch follows the zone operation until it is done
 * (backends.gcp.insert_timeout, 5 min): ZONE_RESOURCE_POOL_EXHAUSTED and
 * quota errors are FRUGAL_ECAPACITY (the controller blocks the zone and
 * plans again; a regional quota blocks the region here too).
 *
 * plan caches what it chose with the task it was for, and launch (which
 * the controller calls right after plan) uses that very plan, so the VM
 * goes where the ledger's attempt row says.
 *
 * find: aggregatedList filtered by the three labels. describe: one
 * aggregatedList of this home's VMs at most SNAPSHOT_MS old serves every
 * live job, instances.get when the list lacks the VM (PROVISIONING/STAGING
 * pending, RUNNING running, anything else or 404 gone). terminate:
 * instances.delete, then confirmed only once
 * instances.get says 404: until then FRUGAL_EBUSY, and the controller asks
 * again on its next pass. notice: simulateMaintenanceEvent (a spot VM is
 * preempted: the agent sees instance/preempted). list: aggregatedList by
 * the frugal-owner label of this FRUGAL_HOME (gc).
 *
 * Secrets are sealed in the bucket (contract/secrets.h); their key goes in
 * the request body of the insert (TLS) and into the VM's metadata; the
 * values are never logged, never in the metadata, and removed from any
 * error message the API sends back.
 */
#include "backend/provider.h"
#include "backend/common/hometag.h"
#include "contract/key.h"
#include "contract/secrets.h"
#include "backend/gcp/gce.h"
#include "backend/gcp/boot.h"
#include "backend/gcp/machine.h"
#include "backend/common/agentbin.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/catalog.h"
#include "catalog/optimizer.h"
#include "backend/gcp/gcs.h"
#include "storage/storage.h"
#include "backend/gcp/auth.h"

#include <ctype.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_PACKAGES "libcurl4 libsqlite3-0 libyaml-0-2 libjansson4 libuv1"
#define DEFAULT_INSERT_TIMEOUT_S 300
#define DEFAULT_DELETE_WAIT_S 10
#define BOOT_MARGIN_S 900	/* boot, setup and uploads beyond max_runtime */
#define BLOCK_MS (15 * 60 * 1000)
#define SNAPSHOT_MS 5000	/* how old a list of the VMs may be for describe */

struct gcp {
	const struct config *cfg;
	char *home_tag;		/* 8 hex digits of FRUGAL_HOME */
	char *owner;		/* frugal-owner label: user-hometag */
	/* The API, once credentials are needed. */
	struct gauth *auth;
	struct gce gce;
	int api_ready;
	/* Plan: the catalog. */
	struct catalog *cat;
	/* Launch: the storage and the binary uploaded to it. */
	struct storage *st;
	char *st_url;
	char *bin_sha;
	char *bin_path;		/* the binary bin_sha is of */
	/* Describe: "zone/name" -> status of this home's VMs, and when listed. */
	json_t *snap;
	int64_t snap_at;
};

/* backends.gcp.KEY of config.yaml, or NULL when unset or empty. */
static const char *cfg_get(const struct gcp *g, const char *key)
{
	const char *v = g->cfg ? config_backend_get(g->cfg, "gcp", key) : NULL;

	return v && *v ? v : NULL;
}

/* A duration setting in seconds, def when unset. */
static int cfg_seconds(const struct gcp *g, const char *key, int64_t def, int64_t *ret,
		       struct error *err)
{
	const char *v = cfg_get(g, key);

	*ret = def;
	if (v && duration_parse(v, ret) < 0)
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.gcp.%s: expected a "
				 "duration such as 90, 10m or 4h, got '%s'", key, v);
	return 0;
}

/* s lowercased, anything but [a-z0-9-] as '-', at most max characters. */
static char *label_safe(const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char *out;

	if (n > max)
		n = max;
	out = xstrndup(s, n);
	for (i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)out[i]);
		out[i] = (isalnum((unsigned char)c) && !(c & 0x80)) ? c : '-';
	}
	return out;
}

/* Free the backend's state (ops.free). */
static void gcp_free(struct provider *p)
{
	struct gcp *g = p->priv;

	if (!g)
		return;
	free(g->home_tag);
	free(g->owner);
	gce_release(&g->gce);
	gauth_free(g->auth);
	catalog_free(g->cat);
	storage_free(g->st);
	free(g->st_url);
	free(g->bin_sha);
	free(g->bin_path);
	json_decref(g->snap);
	free(g);
	p->priv = NULL;
}

/* The backend's state, made on first use (no request). */
static struct gcp *gcp_of(struct provider *p)
{
	struct gcp *g = p->priv;
	char *user;
	const char *u = getenv("USER");

	if (g)
		return g;
	g = xcalloc(1, sizeof(*g));
	g->cfg = p->config;
	g->home_tag = home_tag(p->home);
	user = u && *u ? label_safe(u, 40) : xasprintf("uid%u", (unsigned)getuid());
	g->owner = xasprintf("%s-%s", user, g->home_tag);
	free(user);
	p->priv = g;
	return g;
}

/* Credentials, project and the API client, on first need. */
static int gcp_api(struct provider *p, struct gcp **ret, struct error *err)
{
	struct gcp *g = gcp_of(p);
	const char *project;
	int r;

	if (g->api_ready) {
		*ret = g;
		return 0;
	}
	if (!g->auth && (r = gauth_new(cfg_get(g, "credentials"), 1, &g->auth, err)) < 0) {
		error_prefix(err, "backend gcp");
		return r;
	}
	project = cfg_get(g, "project");
	if (!project)
		project = gauth_project(g->auth);
	if (!project)
		project = getenv("GOOGLE_CLOUD_PROJECT") && *getenv("GOOGLE_CLOUD_PROJECT") ?
			  getenv("GOOGLE_CLOUD_PROJECT") : getenv("CLOUDSDK_CORE_PROJECT");
	if (!project || !*project)
		return error_set(err, FRUGAL_EINVAL, "backend gcp: no project: set backends.gcp."
				 "project in config.yaml (credentials %s name none)",
				 gauth_source(g->auth));
	gce_init(&g->gce, cfg_get(g, "compute_endpoint"), project, g->auth);
	g->api_ready = 1;
	*ret = g;
	return 0;
}

/* ---- names -------------------------------------------------------------------------- */

/* frugal-TOKEN-HOMETAG, a valid instance name (at most 63 characters). */
static char *instance_name(struct gcp *g, const char *token)
{
	char *safe = label_safe(token, 63 - 7 - 9);
	char *name = xasprintf("frugal-%s-%s", safe, g->home_tag);

	free(safe);
	return name;
}

/* A UUID made from the name and owner, the same for every try of one insert. */
static char *request_id(struct gcp *g, const char *name, const char *what)
{
	unsigned char md[32];
	unsigned int len = 0;
	char *in = xasprintf("%s/%s/%s", g->owner, name, what);

	EVP_Digest(in, strlen(in), md, &len, EVP_sha256(), NULL);
	free(in);
	md[6] = (md[6] & 0x0f) | 0x50;	/* version 5 layout */
	md[8] = (md[8] & 0x3f) | 0x80;
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5],
			 md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13], md[14],
			 md[15]);
}

/* "zone/name" -> its parts; 0, or -1 when id is not of that form. */
static int split_id(const char *id, char **ret_zone, char **ret_name)
{
	const char *slash = id ? strchr(id, '/') : NULL;

	if (!slash || slash == id || !slash[1] || strchr(slash + 1, '/'))
		return -1;
	*ret_zone = xstrndup(id, (size_t)(slash - id));
	*ret_name = xstrdup(slash + 1);
	return 0;
}

/* ---- plan ------------------------------------------------------------------------------ */

/* Optimizer callback: only gcp offers. */
static int backend_is_gcp(void *ctx, enum backend_id b)
{
	return b == (enum backend_id)backend_id_from_name("gcp");
}

/* Optimizer callback: a location the reconciler says is blocked (no
 * capacity lately). */
static int zone_blocked(void *ctx, const char *backend, const char *region, const char *zone)
{
	return block_list_covers(ctx, backend, region, zone);
}

/* The zone of a data disk URL ("projects/P/zones/Z/disks/D"), or NULL. */
static char *disk_zone(const char *disk)
{
	const char *z = strstr(disk, "zones/"), *end;

	if (!z)
		return NULL;
	z += 6;
	end = strchr(z, '/');
	return end ? xstrndup(z, (size_t)(end - z)) : NULL;
}

/*
 * The task's gce-disk volumes (docs/DATA.md "volumes"): each an existing
 * persistent disk of the project, attached READ_ONLY (Compute Engine
 * attaches a disk read-write to one VM only, and an attempt's VM may
 * overlap the last one's), so read_only: true is required. The zone is
 * the ref's (gce-disk://ZONE/NAME) or resources.zone's; every disk must
 * be in one zone, and each is looked up with disks.get there. *ret_zone
 * is that zone (NULL without such volumes; caller frees).
 */
static int task_disks(struct provider *p, struct gcp *g, const struct task *t,
		      char **ret_zone, struct error *err)
{
	char *zone = NULL, *dz = NULL, *name = NULL, *path;
	json_t *disk = NULL;
	size_t i;
	int r = 0;

	*ret_zone = NULL;
	for (i = 0; i < t->volumes.n && r == 0; i++) {
		const struct volume *v = &t->volumes.items[i];

		if (strcmp(v->kind, GCE_DISK_KIND))
			continue;
		if (!v->read_only) {
			r = error_set(err, FRUGAL_EINVAL, "volumes.%s: a Compute Engine disk is "
				      "attached read-write to one VM only, and frugal's attempts may "
				      "overlap: write {source: gce-disk://%s, read_only: true}",
				      v->dst, v->ref);
			break;
		}
		if (gce_disk_ref(v->ref, t->res.zone, &dz, &name) < 0) {
			r = error_set(err, FRUGAL_EINVAL, "volumes.%s: '%s' is not a disk of a zone:"
				      " write gce-disk://ZONE/NAME (a disk is zonal), or set "
				      "resources.zone", v->dst, v->ref);
			break;
		}
		if (zone && strcmp(zone, dz)) {
			r = error_set(err, FRUGAL_EINVAL, "volumes.%s: disk %s is in %s but another "
				      "of the task's is in %s; a VM is in one zone: give disks of one "
				      "zone", v->dst, name, dz, zone);
		} else if ((r = gcp_api(p, &g, err)) == 0) {
			path = xasprintf("zones/%s/disks/%s", dz, name);
			r = gce_call(&g->gce, "GET", path, NULL, &disk, err);
			free(path);
			json_decref(disk);
			disk = NULL;
			if (r == FRUGAL_ENOTFOUND)
				r = error_set(err, FRUGAL_EINVAL, "volumes.%s: project %s has no disk "
					      "%s in zone %s; create it (gcloud compute disks create) "
					      "or name one that 'gcloud compute disks list' shows",
					      v->dst, g->gce.project, name, dz);
			if (!zone && r == 0) {
				zone = dz;
				dz = NULL;
			}
		}
		free(dz);
		free(name);
		dz = name = NULL;
	}
	if (r < 0) {
		free(zone);
		return r;
	}
	*ret_zone = zone;
	return 0;
}

/* What frugal does not do on gcp yet, and what cannot work there. */
static int check_task(struct gcp *g, const struct task *t, struct error *err)
{
	const char *storage = g->cfg ? g->cfg->storage_url : NULL;

	if (t->res.cloud && strcmp(t->res.cloud, "gcp"))
		return error_set(err, FRUGAL_EINVAL, "resources.cloud is '%s' but the backend is gcp",
				 t->res.cloud);
	if (!storage || strncmp(storage, "gs://", 5))
		return error_set(err, FRUGAL_EINVAL, "backend gcp needs its storage on GCS (a VM "
				 "cannot reach %s): set storage: gs://BUCKET/PREFIX in config.yaml",
				 storage ? storage : "file:// storage");
	if (t->outputs.to && strncmp(t->outputs.to, "gs://", 5))
		return error_set(err, FRUGAL_EINVAL, "outputs.to '%s': backend gcp stores outputs on "
				 "GCS only (gs://BUCKET/PREFIX)", t->outputs.to);
	return 0;
}

/* ops.plan: the cheapest GCP offer that fits now (see the top of this file). */
static int agent_binary(struct provider *p, struct gcp *g, const struct plan *pl, char **ret,
			struct error *err);

static int gcp_plan(struct provider *p, const struct plan_request *req, struct plan *ret,
		    struct error *err)
{
	const struct task *t = req->task;
	struct gcp *g = gcp_of(p);
	struct optimizer_settings set;
	struct optimizer_request rq;
	struct candidate_list l = CANDIDATE_LIST_INIT;
	struct resources res = t->res;
	const struct candidate *cd;
	struct plan pl = { 0 };
	char *dz = NULL, *vz = NULL;
	int r;

	if ((r = check_task(g, t, err)) < 0)
		goto out;
	if (cfg_get(g, "data_disk") && (dz = disk_zone(cfg_get(g, "data_disk")))) {
		/* A zonal disk attaches only to VMs of its zone. */
		if (t->res.zone && strcmp(t->res.zone, dz)) {
			r = error_set(err, FRUGAL_EINVAL, "resources.zone is %s but the data disk "
				      "(backends.gcp.data_disk) is in %s", t->res.zone, dz);
			goto out;
		}
		res.zone = dz;
	}
	/* The task's disks: the VM in their zone. */
	if ((r = task_disks(p, g, t, &vz, err)) < 0)
		goto out;
	if (vz) {
		if (res.zone && strcmp(res.zone, vz)) {
			r = error_set(err, FRUGAL_EINVAL, "volumes: the task's disk is in %s but %s "
				      "is %s; give one zone", vz, dz ? "backends.gcp.data_disk's zone"
				      : "resources.zone", res.zone);
			goto out;
		}
		res.zone = vz;
	}
	if (!g->cat) {
		g->cat = catalog_new();
		if ((r = catalog_load(g->cat, p->home, err)) < 0) {
			catalog_free(g->cat);
			g->cat = NULL;
			goto out;
		}
	}
	if ((r = optimizer_settings_from_config(p->config, &set, err)) < 0)
		goto out;
	memset(&rq, 0, sizeof(rq));
	rq.res = &res;
	rq.nodes = t->num_nodes;
	rq.runtime_s = t->stop.max_runtime > 0 ? t->stop.max_runtime : 3600;
	rq.checkpoint_s = t->checkpoint.dir ? t->checkpoint.interval : 0;
	rq.settings = &set;
	rq.backend_ok = backend_is_gcp;
	rq.blocked = req->blocked ? zone_blocked : NULL;
	rq.ctx = (void *)req->blocked;
	rq.max_candidates = 1;
	if ((r = optimizer_candidates(g->cat, &rq, &l, err)) < 0)
		goto out;
	if (!l.n) {
		if (l.n_blocked)
			r = error_set(err, FRUGAL_ECAPACITY, "every GCP zone that fits is out of "
				      "capacity for now (%zu blocked); waiting", l.n_blocked);
		else
			r = error_set(err, FRUGAL_EINVAL, "no GCP offer fits the task (%zu of the "
				      "right shape, %zu over max_price, %zu not offered %s)", l.n_fit,
				      l.n_over_price, l.n_no_price,
				      t->res.spot == SPOT_SPOT ? "as spot" : "at that spot policy");
		goto out;
	}
	cd = &l.items[0];
	pl.backend = xstrdup("gcp");
	pl.region = xstrdup(cd->offer->region);
	pl.zone = xstrdup(cd->offer->zone);
	pl.instance_type = xstrdup(cd->offer->instance_type);
	pl.accelerator = *cd->offer->accel ? xstrdup(cd->offer->accel) : NULL;
	pl.gpus = (int)ceil(cd->offer->accel_count);
	pl.spot = cd->spot;
	pl.price_per_hour = cd->price;
	pl.capacity = xstrdup(cd->spot ? "spot VM, price from the catalog"
				       : "standard VM, price from the catalog");
	/* Say now, not at boot, when the machine has no binary or image. */
	{
		char *bin = NULL;
		const char *image = NULL;

		if ((r = agent_binary(p, g, &pl, &bin, err)) < 0 ||
		    (!req->task->res.image_id && !cfg_get(g, pl.gpus ? "image_gpu" : "image") &&
		     (r = gcp_machine_default_image(pl.instance_type, pl.accelerator, pl.gpus,
						    &image, err)) < 0)) {
			free(bin);
			plan_release(&pl);
			r = FRUGAL_EINVAL;
			goto out;
		}
		free(bin);
	}
	*ret = pl;
	r = 0;
out:
	candidate_list_release(&l);
	free(dz);
	free(vz);
	return r;
}

/* ---- launch ------------------------------------------------------------------------------ */

/* The job's storage (gs://), opened once per URL. */
static int job_storage(struct gcp *g, const char *url, struct storage **ret, struct error *err)
{
	int r;

	if (!url || strncmp(url, "gs://", 5))
		return error_set(err, FRUGAL_EINVAL, "backend gcp needs its storage on GCS: set "
				 "storage: gs://BUCKET/PREFIX in config.yaml");
	if (!g->st || strcmp(g->st_url, url)) {
		storage_free(g->st);
		g->st = NULL;
		free(g->st_url);
		g->st_url = NULL;
		if ((r = storage_open(url, &g->st, err)) < 0)
			return r;
		g->st_url = xstrdup(url);
	}
	*ret = g->st;
	return 0;
}

/* Replace every secret value in err's message by "[secret]". */
static void redact(struct error *err, const struct kvlist *secrets)
{
	size_t i;

	for (i = 0; err && secrets && i < secrets->n; i++) {
		const char *v = secrets->items[i].value;
		size_t vl = v ? strlen(v) : 0;
		char *at;

		if (vl < 3)
			continue;
		while ((at = strstr(err->msg, v))) {
			struct strbuf sb = STRBUF_INIT;
			strbuf_add(&sb, err->msg, (size_t)(at - err->msg));
			strbuf_adds(&sb, "[secret]");
			strbuf_adds(&sb, at + vl);
			snprintf(err->msg, sizeof(err->msg), "%s", sb.buf);
			strbuf_release(&sb);
		}
	}
}

/* ---- instances ----------------------------------------------------------------------------- */

/* The first instance of a filtered list that is ours: *ret_id "zone/name", or NULL. */
static int find_ours(struct gcp *g, const char *filter, char **ret_id, struct error *err)
{
	json_t *list = NULL, *inst;
	size_t i;
	int r;

	*ret_id = NULL;
	r = gce_list(&g->gce, filter, "name,zone,status,labels", &list, err);
	if (r < 0)
		return r;
	json_array_foreach(list, i, inst) {
		const char *n = json_string_value(json_object_get(inst, "name"));
		const char *owner = gce_label(inst, "frugal-owner");
		char *zone = gce_url_tail(inst, "zone");

		if (n && zone && owner && !strcmp(owner, g->owner)) {
			*ret_id = xasprintf("%s/%s", zone, n);
			free(zone);
			break;
		}
		free(zone);
	}
	json_decref(list);
	return 0;
}

/* The instance with this name, when it is ours. */
static int find_by_name(struct gcp *g, const char *name, char **ret_id, struct error *err)
{
	char *filter = xasprintf("name = \"%s\"", name);
	int r = find_ours(g, filter, ret_id, err);

	free(filter);
	return r;
}

/* The VM of attempt token ("JOB-N"): by its labels, so a VM of the
 * attempt is found whatever its name. */
static int gcp_find(struct provider *p, const char *token, const struct plan *where,
		    char **ret_id, struct error *err)
{
	const char *dash = strrchr(token, '-');
	struct gcp *g;
	char *job, *filter;
	int r;

	*ret_id = NULL;
	if ((r = gcp_api(p, &g, err)) < 0)
		return r;
	if (!dash || dash == token || !dash[1])
		return error_set(err, FRUGAL_EINVAL, "'%s' is not an attempt token", token);
	job = label_safe(token, (size_t)(dash - token));
	filter = xasprintf("(labels.frugal-owner = \"%s\") AND (labels.frugal-job = \"%s\") AND "
			   "(labels.frugal-attempt = \"%s\")", g->owner, job, dash + 1);
	r = find_ours(g, filter, ret_id, err);
	free(filter);
	free(job);
	return r;
}

/* Ask for the deletion of a VM that should not exist, ignoring the answer. */
static void delete_quietly(struct gcp *g, const char *zone, const char *name)
{
	char *path = xasprintf("zones/%s/instances/%s", zone, name);

	gce_call(&g->gce, "DELETE", path, NULL, NULL, NULL);
	free(path);
}

/* Insert the VM and follow the operation; *ret_id "zone/name". */
static int insert_vm(struct provider *p, struct gcp *g, const struct plan *pl, const char *name,
		     json_t *body, struct block_list *learned, char **ret_id, struct error *err)
{
	char *rid = request_id(g, name, "insert");
	char *path = xasprintf("zones/%s/instances?requestId=%s", pl->zone, rid);
	json_t *op = NULL;
	int64_t timeout_s;
	int r;

	if ((r = cfg_seconds(g, "insert_timeout", DEFAULT_INSERT_TIMEOUT_S, &timeout_s, err)) < 0)
		goto out;
	r = gce_call(&g->gce, "POST", path, body, &op, err);
	if (r == FRUGAL_EEXIST) {
		/* Made before (a crash, a retry): ours when its labels say so. */
		if ((r = find_by_name(g, name, ret_id, err)) == 0 && !*ret_id)
			r = error_set(err, FRUGAL_EEXIST, "an instance named %s exists in %s but is "
				      "not this FRUGAL_HOME's", name, pl->zone);
		goto out;
	}
	if (r == 0)
		r = gce_wait(&g->gce, op, timeout_s * 1000, err);
	if (r == FRUGAL_ETIMEOUT) {
		/* Still being made: it exists; describe follows it from here. */
		r = 0;
	}
	if (r < 0) {
		/* A regional quota: every zone of the region (the reconciler
		 * blocks the zone by itself). */
		if (r == FRUGAL_ECAPACITY && gce_error_regional(&g->gce) && learned)
			block_list_add(learned, "gcp", pl->region, NULL, BLOCK_MS, "regional quota");
		/* A failed insert leaves nothing, but make sure: no VM may leak. */
		delete_quietly(g, pl->zone, name);
		goto out;
	}
	*ret_id = xasprintf("%s/%s", pl->zone, name);
out:
	json_decref(op);
	free(rid);
	free(path);
	return r;
}

/* The frugal binary for pl's machines: backends.gcp.agent_binary as it
 * is, else the one built for the machine's architecture (agentbin.h). */
static int agent_binary(struct provider *p, struct gcp *g, const struct plan *pl, char **ret,
			struct error *err)
{
	if (cfg_get(g, "agent_binary")) {
		*ret = xstrdup(cfg_get(g, "agent_binary"));
		return 0;
	}
	return agentbin_find(gcp_machine_arch(pl->instance_type), p->self_exe,
			     cfg_get(g, "agent_dist"), "gcp", pl->instance_type, ret, err);
}

/* Every setting of the VM for req on plan pl, as an Instance body. */
static int build_body(struct provider *p, struct gcp *g, const struct launch_request *req,
		      const struct plan *pl, const char *name, json_t **ret, struct error *err)
{
	struct storage *st = NULL;
	struct gce_instance_spec s;
	struct gcp_boot b;
	struct kvlist labels = { 0 }, meta = { 0 };
	char *bin_key = NULL, *wd_key = NULL, *bucket = NULL, *bin_obj = NULL, *wd_obj = NULL;
	char *script = NULL, *agent = NULL, *desc = NULL, *attempt = NULL;
	char *sec_key = NULL, *sec_obj = NULL, seal_hex[SEAL_KEY_HEX_LEN + 1] = "";
	unsigned char seal_key[SEAL_KEY_LEN];
	struct strbuf sealed = STRBUF_INIT;
	struct gce_attached_disk *vols = xcalloc(req->task->volumes.n + 1, sizeof(*vols));
	size_t *vol_index = xcalloc(req->task->volumes.n + 1, sizeof(*vol_index)), vi, n_vols = 0;
	const char *gcs_ep = gcs_endpoint(), *cmp_ep = g->gce.endpoint;
	char *tmp_dir = xasprintf("%s/tmp", p->home), *boot_key = NULL, *boot_log = NULL;
	char *bin = NULL, *status_key = NULL, *status_obj = NULL;
	const char *image = NULL;
	int64_t max_run = 0, disk_gb = 0;
	int r;

	memset(&s, 0, sizeof(s));
	memset(&b, 0, sizeof(b));
	if ((r = job_storage(g, req->storage_url, &st, err)) < 0 ||
	    (r = agent_binary(p, g, pl, &bin, err)) < 0)
		goto out;
	/* The hash cached is the last binary's: the next may be another arch. */
	if (!g->bin_path || strcmp(g->bin_path, bin)) {
		free(g->bin_sha);
		g->bin_sha = NULL;
		free(g->bin_path);
		g->bin_path = xstrdup(bin);
	}
	if ((r = gcp_boot_put_binary(st, bin, &g->bin_sha, &bin_key, err)) < 0)
		goto out;
	if (req->task->workdir && (r = gcp_boot_put_workdir(st, tmp_dir, req, &wd_key, err)) < 0)
		goto out;
	/* The secrets sealed in the bucket under the attempt's key (derived:
	 * an insert made again seals under the same key); the key goes in
	 * the metadata, never beside the file (docs/SECRETS.md). */
	if ((r = secrets_key_of(p->home, req->job_id, req->attempt, seal_key, err)) < 0 ||
	    (r = secrets_seal(seal_key, req->secrets, &sealed, err)) < 0)
		goto out;
	if (sealed.len) {
		sec_key = key_attempt(req->job_prefix, req->attempt, KEY_SECRETS_NAME);
		if ((r = storage_put(st, sec_key, sealed.buf, sealed.len, 0, err)) < 0)
			goto out;
		sec_obj = gcp_boot_object(req->storage_url, sec_key);
		seal_key_hex(seal_key, seal_hex);
	}
	if ((r = cfg_seconds(g, "max_run_duration", 0, &max_run, err)) < 0)
		goto out;
	/* The cloud's own cap: past the agent's max_runtime stop, its notice
	 * grace and the time to boot and store the last checkpoint. */
	if (req->task->stop.max_runtime > 0)
		max_run = req->task->stop.max_runtime + req->task->recovery.notice_grace +
			  BOOT_MARGIN_S;
	if (cfg_get(g, "disk_size")) {
		long long gb = 0;

		config_backend_int(g->cfg, "gcp", "disk_size", 0, &gb, NULL);
		disk_gb = gb <= 65536 ? (long)gb : 0;
	}
	if (req->task->res.disk_size)
		disk_gb = req->task->res.disk_size;
	if (disk_gb <= 0)
		disk_gb = pl->gpus ? 100 : 50;

	bucket = gcp_boot_bucket(req->storage_url);
	bin_obj = gcp_boot_object(req->storage_url, bin_key);
	wd_obj = wd_key ? gcp_boot_object(req->storage_url, wd_key) : NULL;
	boot_key = key_attempt(req->job_prefix, req->attempt, "boot.log");
	boot_log = gcp_boot_object(req->storage_url, boot_key);
	status_key = key_status(req->job_prefix, req->attempt);
	status_obj = gcp_boot_object(req->storage_url, status_key);
	b.status_object = status_obj;
	b.job_id = req->job_id;
	b.attempt = req->attempt;
	b.arch = gcp_machine_arch(pl->instance_type);
	b.token = req->token;
	b.gcs_endpoint = strcmp(gcs_ep, GCS_DEFAULT_ENDPOINT) ? gcs_ep : NULL;
	b.compute_endpoint = strcmp(cmp_ep, GCE_DEFAULT_ENDPOINT) ? cmp_ep : NULL;
	b.bucket = bucket;
	b.bin_object = bin_obj;
	b.bin_sha256 = g->bin_sha;
	b.workdir_object = wd_obj;
	b.boot_log_object = boot_log;
	b.secrets_object = sec_obj;
	b.data_device = cfg_get(g, "data_disk") ? "frugal-data" : NULL;
	b.data_mount = cfg_get(g, "data_mount");
	/* The task's disks, device frugal-vol-INDEX, in the plan's zone (the
	 * plan went to theirs). */
	for (vi = 0; vi < req->task->volumes.n; vi++) {
		const struct volume *v = &req->task->volumes.items[vi];
		char *vzone = NULL, *vname = NULL;

		if (strcmp(v->kind, GCE_DISK_KIND) || gce_disk_ref(v->ref, pl->zone, &vzone, &vname) < 0)
			continue;
		vols[n_vols].source = xasprintf("projects/%s/zones/%s/disks/%s", g->gce.project,
						vzone, vname);
		vols[n_vols].device = xasprintf("frugal-vol-%zu", vi);
		vol_index[n_vols++] = vi;
		free(vzone);
		free(vname);
	}
	b.volumes = vol_index;
	b.n_volumes = n_vols;
	b.packages = cfg_get(g, "agent_packages") ? cfg_get(g, "agent_packages") : DEFAULT_PACKAGES;
	script = gcp_boot_script(&b);
	agent = gcp_boot_agent_json(req, pl->gpus, wd_obj != NULL);

	attempt = xasprintf("%d", req->attempt);
	kvlist_set(&labels, "frugal-job", req->job_id);
	kvlist_set(&labels, "frugal-attempt", attempt);
	kvlist_set(&labels, "frugal-owner", g->owner);
	kvlist_set(&meta, "startup-script", script);
	kvlist_set(&meta, "frugal-agent-json", agent);
	if (sec_obj)
		kvlist_set(&meta, "frugal-secrets-key", seal_hex);
	if (pl->gpus)
		kvlist_set(&meta, "install-nvidia-driver", "True");

	desc = xasprintf("frugal job %s attempt %d", req->job_id, req->attempt);
	s.name = name;
	s.description = desc;
	s.zone = pl->zone;
	s.machine_type = pl->instance_type;
	s.gpus = pl->gpus;
	if (pl->gpus && !gce_machine_has_gpus(pl->instance_type)) {
		s.accelerator = gce_accelerator_type(pl->accelerator);
		s.accelerator_count = pl->gpus;
		if (!s.accelerator) {
			r = error_set(err, FRUGAL_EINVAL, "no GCE accelerator type for %s",
				      pl->accelerator ? pl->accelerator : "?");
			goto out;
		}
	}
	s.spot = pl->spot;
	s.max_run_s = max_run;
	/* image_id docker:IMAGE is the container's, not the machine's. */
	image = req->task->res.image_id && !req->task->res.image_docker ? req->task->res.image_id :
		pl->gpus ? cfg_get(g, "image_gpu") : cfg_get(g, "image");
	if (!image && (r = gcp_machine_default_image(pl->instance_type, pl->accelerator, pl->gpus,
						     &image, err)) < 0)
		goto out;
	s.image = image;
	s.disk_gb = (int)disk_gb;
	s.disk_type = cfg_get(g, "disk_type") ? cfg_get(g, "disk_type") : "pd-balanced";
	s.network = cfg_get(g, "network");
	s.subnetwork = cfg_get(g, "subnetwork");
	s.external_ip = !cfg_get(g, "external_ip") || strcmp(cfg_get(g, "external_ip"), "false");
	s.service_account = cfg_get(g, "service_account");
	s.data_disk = cfg_get(g, "data_disk");
	s.data_device = b.data_device;
	s.volumes = vols;
	s.n_volumes = n_vols;
	s.labels = &labels;
	s.metadata = &meta;
	s.network_tag = req->ports_id;	/* the target of the attempt's firewall rule */
	*ret = gce_instance_body(&s);
	r = 0;
out:
	secure_zero(seal_key, sizeof(seal_key));
	secure_zero(seal_hex, sizeof(seal_hex));
	/* meta holds a copy of the key too. */
	if (meta.n && kvlist_get(&meta, "frugal-secrets-key")) {
		char *v = (char *)kvlist_get(&meta, "frugal-secrets-key");
		secure_zero(v, strlen(v));
	}
	strbuf_release(&sealed);
	free(sec_key);
	free(sec_obj);
	kvlist_release(&labels);
	kvlist_release(&meta);
	free(bin_key);
	free(wd_key);
	free(bucket);
	free(bin_obj);
	free(wd_obj);
	free(script);
	free(agent);
	free(desc);
	free(attempt);
	free(tmp_dir);
	free(boot_key);
	free(boot_log);
	free(bin);
	free(status_key);
	free(status_obj);
	for (vi = 0; vi < n_vols; vi++) {
		free((char *)vols[vi].source);
		free((char *)vols[vi].device);
	}
	free(vols);
	free(vol_index);
	return r;
}

/* Zero every string of a JSON document that holds a secret (the metadata values). */
static void zero_body(json_t *body)
{
	json_t *items = json_object_get(json_object_get(body, "metadata"), "items"), *it;
	size_t i;

	json_array_foreach(items, i, it) {
		json_t *v = json_object_get(it, "value");
		if (json_is_string(v))
			secure_zero((char *)json_string_value(v), json_string_length(v));
	}
}

/* ops.launch: make the attempt's VM, or adopt the one made before. */
static int gcp_launch(struct provider *p, const struct launch_request *req, char **ret_id,
		      struct error *err)
{
	struct gcp *g;
	const struct plan *pl = req->plan;
	json_t *body = NULL;
	char *name = NULL, *existing = NULL;
	int r, made = 0;

	if ((r = gcp_api(p, &g, err)) < 0)
		goto out;
	if (!pl || !pl->zone || !pl->region || !pl->instance_type) {
		r = error_set(err, FRUGAL_EINVAL, "launch of %s without a plan", req->token);
		goto out;
	}
	name = instance_name(g, req->token);
	/* Idempotent: a VM of this attempt that exists already is adopted. */
	if ((r = gcp_find(p, req->token, pl, &existing, err)) < 0)
		goto out;
	if (existing) {
		*ret_id = existing;
		goto out;
	}
	if ((r = build_body(p, g, req, pl, name, &body, err)) < 0)
		goto out;
	r = insert_vm(p, g, pl, name, body, req->report ? &req->report->learned : NULL, ret_id,
		      err);
	made = 1;
out:
	if (!made)
		launch_failed_early(req, r);	/* no insert was sent */
	if (body) {
		zero_body(body);
		json_decref(body);
	}
	redact(err, req->secrets);
	free(name);
	return r;
}

/* zone and name of the attempt's VM: from id, else found by token. 1 when
 * there is none. */
static int locate(struct provider *p, struct gcp *g, const char *token, const char *id,
		  char **ret_zone, char **ret_name, struct error *err)
{
	char *found = NULL;
	int r;

	if (split_id(id, ret_zone, ret_name) == 0)
		return 0;
	if ((r = gcp_find(p, token, NULL, &found, err)) < 0)
		return r;
	if (!found)
		return 1;
	r = split_id(found, ret_zone, ret_name);
	free(found);
	return r < 0 ? 1 : 0;
}

/* The status of VM zone/name in a list of this home's VMs at most
 * SNAPSHOT_MS old, so that one aggregatedList serves every live job; NULL
 * when the list lacks it (just made, gone, or the list failed). */
static const char *snapshot_status(struct gcp *g, const char *zone, const char *name)
{
	char *key;
	const char *status;

	if (!g->snap || time_mono_ms() - g->snap_at > SNAPSHOT_MS) {
		char *filter = xasprintf("labels.frugal-owner = \"%s\"", g->owner);
		json_t *list = NULL, *inst;
		size_t i;

		json_decref(g->snap);
		g->snap = NULL;
		if (gce_list(&g->gce, filter, "name,zone,status", &list, NULL) == 0) {
			g->snap = json_object();
			g->snap_at = time_mono_ms();
			json_array_foreach(list, i, inst) {
				char *z = gce_url_tail(inst, "zone");
				const char *n = json_string_value(json_object_get(inst, "name"));
				if (z && n) {
					char *k = xasprintf("%s/%s", z, n);
					json_object_set_new(g->snap, k, json_string(gce_instance_status(inst)));
					free(k);
				}
				free(z);
			}
		}
		json_decref(list);
		free(filter);
	}
	key = xasprintf("%s/%s", zone, name);
	status = json_string_value(json_object_get(g->snap, key));
	free(key);
	return status;
}

/* ops.describe: the VM's status as the controller's three states, from the
 * shared list when it has the VM, else from instances.get (a VM is gone
 * only when the API answers 404 for it). */
static int gcp_describe(struct provider *p, const char *token, const char *id,
			struct instance_view *view, struct error *err)
{
	enum instance_state *ret = &view->state;
	struct gcp *g;
	char *zone = NULL, *name = NULL, *path = NULL;
	json_t *inst = NULL;
	const char *status;
	int r;

	if ((r = gcp_api(p, &g, err)) < 0)
		return r;
	if ((r = locate(p, g, token, id, &zone, &name, err)) != 0) {
		if (r == 1) {
			*ret = INSTANCE_GONE;
			r = 0;
		}
		goto out;
	}
	status = snapshot_status(g, zone, name);
	if (!status) {
		path = xasprintf("zones/%s/instances/%s?fields=name,status", zone, name);
		r = gce_call(&g->gce, "GET", path, NULL, &inst, err);
		if (r == FRUGAL_ENOTFOUND) {
			*ret = INSTANCE_GONE;
			r = 0;
			goto out;
		}
		if (r < 0)
			goto out;
		status = gce_instance_status(inst);
	}
	if (!strcmp(status, "PROVISIONING") || !strcmp(status, "STAGING") ||
	    !strcmp(status, "PENDING"))
		*ret = INSTANCE_PENDING;
	else if (!strcmp(status, "RUNNING"))
		*ret = INSTANCE_RUNNING;
	else
		*ret = INSTANCE_GONE;	/* STOPPING, TERMINATED, SUSPENDED: no agent runs */
out:
	json_decref(inst);
	free(zone);
	free(name);
	free(path);
	return r;
}

/* A cancel: the VM is deleted after the controller's grace; its guest
 * shutdown reaches the agent as a notice (it stores a last checkpoint). */
static int gcp_stop(struct provider *p, const char *token, const char *id, struct error *err)
{
	return 0;
}

/* ops.notice: preempt the attempt's spot VM (simulateMaintenanceEvent). */
static int gcp_notice(struct provider *p, const char *token, const char *id,
		      int64_t deadline_ms, const char *reason, struct error *err)
{
	struct gcp *g;
	char *zone = NULL, *name = NULL, *path = NULL, *rid = NULL;
	json_t *op = NULL;
	int r;

	if ((r = gcp_api(p, &g, err)) < 0)
		return r;
	if ((r = locate(p, g, token, id, &zone, &name, err)) != 0) {
		if (r == 1)
			r = error_set(err, FRUGAL_ENOTFOUND, "no VM of %s", token);
		goto out;
	}
	/* On a spot VM a simulated maintenance event is a preemption. */
	rid = request_id(g, name, "notice");
	path = xasprintf("zones/%s/instances/%s/simulateMaintenanceEvent?requestId=%s", zone, name,
			 rid);
	r = gce_call(&g->gce, "POST", path, NULL, &op, err);
out:
	json_decref(op);
	free(zone);
	free(name);
	free(path);
	free(rid);
	return r;
}

/* The attempt's sealed secrets in the configured storage are deleted
 * (best effort: without its key, which went with the VM, the file opens
 * for nobody). */
static void delete_secrets(struct provider *p, struct gcp *g, const char *token)
{
	struct storage *st = NULL;
	const char *url = p->config ? p->config->storage_url : NULL;
	char job[JOB_ID_MAX], *prefix, *key;
	int n;

	if (!url || provider_token_split(token, job, sizeof(job), &n) < 0 ||
	    job_storage(g, url, &st, NULL) < 0)
		return;
	prefix = key_job_prefix(job);
	key = key_attempt(prefix, n, KEY_SECRETS_NAME);
	storage_del(st, key, NULL);
	free(key);
	free(prefix);
}

/* ops.terminate: delete the VM; 0 only once the API no longer knows it;
 * then the attempt's sealed secrets. */
static int gcp_terminate(struct provider *p, const char *token, const char *id,
			 struct error *err)
{
	struct gcp *g;
	char *zone = NULL, *name = NULL, *path = NULL;
	json_t *inst = NULL, *op = NULL;
	int64_t wait_s;
	int r;

	if ((r = gcp_api(p, &g, err)) < 0)
		return r;
	if ((r = cfg_seconds(g, "delete_wait", DEFAULT_DELETE_WAIT_S, &wait_s, err)) < 0)
		return r;
	if ((r = locate(p, g, token, id, &zone, &name, err)) != 0) {
		if (r == 1)
			r = 0;	/* no VM: gone */
		goto out;
	}
	path = xasprintf("zones/%s/instances/%s", zone, name);
	r = gce_call(&g->gce, "GET", path, NULL, &inst, err);
	if (r == FRUGAL_ENOTFOUND) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	if (strcmp(gce_instance_status(inst), "STOPPING")) {
		/* STOPPING: a delete (or a guest shutdown) is under way already. */
		r = gce_call(&g->gce, "DELETE", path, NULL, &op, err);
		if (r == FRUGAL_ENOTFOUND) {
			r = 0;
			goto out;
		}
		if (r < 0)
			goto out;
		gce_wait(&g->gce, op, wait_s * 1000, NULL);
	}
	/* Confirmed only when the API no longer knows the VM. */
	json_decref(inst);
	inst = NULL;
	r = gce_call(&g->gce, "GET", path, NULL, &inst, err);
	if (r == FRUGAL_ENOTFOUND)
		r = 0;
	else if (r == 0)
		r = error_set(err, FRUGAL_EBUSY, "VM %s in %s is %s; deletion not confirmed yet", name,
			      zone, gce_instance_status(inst));
out:
	if (r == 0)
		delete_secrets(p, g, token);
	json_decref(inst);
	json_decref(op);
	free(zone);
	free(name);
	free(path);
	return r;
}

/* The description ports_open gives an attempt's rule (a rule has no
 * labels: this says whose it is). Caller frees. */
static char *firewall_description(struct gcp *g, const char *job, int attempt)
{
	return xasprintf("frugal job %s attempt %d owner %s", job, attempt, g->owner);
}

/* This FRUGAL_HOME's firewall rules (their description names its owner)
 * into ret under their attempt's ports token (gc). */
static int list_firewalls(struct gcp *g, struct kvlist *ret, struct error *err)
{
	json_t *list = NULL, *fw;
	size_t i;
	int r;

	if ((r = gce_firewall_list(&g->gce, "name,description", &list, err)) < 0) {
		error_prefix(err, "firewall rules");
		return r;
	}
	json_array_foreach(list, i, fw) {
		const char *name = json_string_value(json_object_get(fw, "name"));
		const char *desc = json_string_value(json_object_get(fw, "description"));
		char job[128], *token, *key, *what, *want;
		int attempt, end = 0;

		if (!name || !desc || strncmp(name, "frugal-", 7) ||
		    sscanf(desc, "frugal job %127s attempt %d owner %*s%n", job, &attempt, &end) != 2 ||
		    !end || desc[end])
			continue;
		want = firewall_description(g, job, attempt);
		if (!strcmp(desc, want)) {
			token = xasprintf("%s-%d", job, attempt);
			key = provider_ports_token(token);
			what = xasprintf("firewall rule %s", name);
			kvlist_set(ret, key, what);
			free(token);
			free(key);
			free(what);
		}
		free(want);
	}
	json_decref(list);
	return 0;
}

/* ops.list: this FRUGAL_HOME's VMs (label frugal-owner) and firewall
 * rules (under their ports token), token -> what (gc). */
static int gcp_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct gcp *g;
	char *filter;
	json_t *list = NULL, *inst;
	size_t i;
	int r;

	if ((r = gcp_api(p, &g, err)) < 0)
		return r;
	filter = xasprintf("labels.frugal-owner = \"%s\"", g->owner);
	r = gce_list(&g->gce, filter, "name,zone,status,labels", &list, err);
	free(filter);
	if (r < 0)
		return r;
	json_array_foreach(list, i, inst) {
		const char *job = gce_label(inst, "frugal-job");
		const char *attempt = gce_label(inst, "frugal-attempt");
		const char *owner = gce_label(inst, "frugal-owner");
		char *zone = gce_url_tail(inst, "zone");

		if (job && attempt && owner && !strcmp(owner, g->owner) && zone) {
			char *token = xasprintf("%s-%s", job, attempt);
			char *what = xasprintf("VM %s/%s (%s)", zone,
					       json_string_value(json_object_get(inst, "name")),
					       gce_instance_status(inst));
			kvlist_set(ret, token, what);
			free(token);
			free(what);
		}
		free(zone);
	}
	json_decref(list);
	return list_firewalls(g, ret, err);
}

/* ---- ports: a firewall rule per attempt (gce.h) ---------------------------------------- */

/* The attempt's firewall rule name, also the network tag its VM carries:
 * frugal-HOMETAG-TOKEN (RFC 1035, at most 63). Caller frees. */
static char *firewall_name(struct gcp *g, const char *token)
{
	char *safe = label_safe(token, 63 - 7 - 9);
	char *name;
	size_t n = strlen(safe);

	while (n && safe[n - 1] == '-')
		safe[--n] = '\0';
	name = xasprintf("frugal-%s-%s", g->home_tag, safe);
	free(safe);
	return name;
}

/* Follow a global operation (a firewall's); gone during a delete is fine. */
static int follow(struct gcp *g, json_t *op, struct error *err)
{
	int64_t timeout_s;
	int r;

	if ((r = cfg_seconds(g, "insert_timeout", DEFAULT_INSERT_TIMEOUT_S, &timeout_s, err)) < 0)
		return r;
	return gce_wait(&g->gce, op, timeout_s * 1000, err);
}

/* ports_open: the attempt's firewall rule (TCP on every resources.ports
 * entry from 0.0.0.0/0 to the tag of its name), before the VM, which
 * carries the tag (build_body). Id: the rule's name. */
static int gcp_ports_open(struct provider *p, const struct launch_request *req, char **ret_id,
			  struct error *err)
{
	struct gce_firewall_spec fs;
	struct gcp *g;
	json_t *body = NULL, *op = NULL, *have = NULL;
	char *name = NULL, *desc = NULL, *path = NULL, *rid = NULL;
	int r;

	if ((r = gcp_api(p, &g, err)) < 0)
		return r;
	name = firewall_name(g, req->token);
	desc = firewall_description(g, req->job_id, req->attempt);
	memset(&fs, 0, sizeof(fs));
	fs.name = name;
	fs.description = desc;
	fs.network = cfg_get(g, "network");
	fs.target_tag = name;
	fs.ports = req->task->res.ports;
	fs.n_ports = req->task->res.n_ports;
	body = gce_firewall_body(&fs);
	rid = request_id(g, name, "firewall");
	path = xasprintf("global/firewalls?requestId=%s", rid);
	r = gce_call(&g->gce, "POST", path, body, &op, err);
	if (r == FRUGAL_EEXIST) {
		/* Made before (a crash, a retry): ours when its description says so. */
		free(path);
		path = xasprintf("global/firewalls/%s", name);
		if ((r = gce_call(&g->gce, "GET", path, NULL, &have, err)) < 0)
			goto out;
		if (!json_is_string(json_object_get(have, "description")) ||
		    strcmp(json_string_value(json_object_get(have, "description")), desc)) {
			r = error_set(err, FRUGAL_EEXIST, "a firewall rule named %s exists but is not "
				      "this FRUGAL_HOME's", name);
			goto out;
		}
	} else if (r == 0 && (r = follow(g, op, err)) < 0) {
		error_prefix(err, "firewall rule %s", name);
		goto out;
	} else if (r < 0) {
		goto out;
	}
	fault_point("gcp.after_firewall");
	*ret_id = name;
	name = NULL;
out:
	json_decref(body);
	json_decref(op);
	json_decref(have);
	free(name);
	free(desc);
	free(path);
	free(rid);
	return r;
}

/* ports_close: delete the attempt's rule (its name from the token when
 * id is not known); gone is success. */
static int gcp_ports_close(struct provider *p, const char *token, const char *id,
			   struct error *err)
{
	struct gcp *g;
	json_t *op = NULL;
	char *name = NULL, *path;
	int r;

	if ((r = gcp_api(p, &g, err)) < 0)
		return r;
	name = id && *id ? xstrdup(id) : firewall_name(g, token);
	path = xasprintf("global/firewalls/%s", name);
	r = gce_call(&g->gce, "DELETE", path, NULL, &op, err);
	if (r == 0)
		r = follow(g, op, err);
	if (r == FRUGAL_ENOTFOUND)
		r = 0;
	else if (r < 0)
		error_prefix(err, "firewall rule %s", name);
	json_decref(op);
	free(path);
	free(name);
	return r;
}

/* endpoints: the VM's external address (else its internal one), every
 * port opened there by its rule; forwarded by a TCP relay. */
static int gcp_endpoints(struct provider *p, const char *token, const char *id,
			 const struct task *t, struct endpoint_list *ret, struct error *err)
{
	struct gcp *g;
	json_t *inst = NULL, *nic, *ac;
	char *zone = NULL, *name = NULL, *path = NULL;
	const char *ip = NULL;
	size_t i;
	int r;

	if (split_id(id, &zone, &name) < 0)
		return error_set(err, FRUGAL_EBUSY, "%s has no VM yet", token);
	if ((r = gcp_api(p, &g, err)) < 0)
		goto out;
	path = xasprintf("zones/%s/instances/%s", zone, name);
	if ((r = gce_call(&g->gce, "GET", path, NULL, &inst, err)) < 0)
		goto out;
	nic = json_array_get(json_object_get(inst, "networkInterfaces"), 0);
	ac = json_array_get(json_object_get(nic, "accessConfigs"), 0);
	ip = json_string_value(json_object_get(ac, "natIP"));
	if (!ip || !*ip)
		ip = json_string_value(json_object_get(nic, "networkIP"));
	if (!ip || !*ip) {
		r = error_set(err, FRUGAL_EBUSY, "VM %s has no address yet; try again in a few "
			      "seconds", id);
		goto out;
	}
	for (i = 0; i < t->res.n_ports; i++) {
		struct endpoint *ep = endpoint_list_add(ret, t->res.ports[i].from,
							t->res.ports[i].to);

		ep->host = xstrdup(ip);
	}
out:
	json_decref(inst);
	free(zone);
	free(name);
	free(path);
	return r;
}

const struct provider_ops gcp_provider_ops = {
	.name = "gcp",
	.plan = gcp_plan,
	.reserve = provider_reserve_none,
	.launch = gcp_launch,
	.find = gcp_find,
	.describe = gcp_describe,
	.stop = gcp_stop,
	.notice = gcp_notice,
	.terminate = gcp_terminate,
	.list = gcp_list,
	.free = gcp_free,
	.ports_open = gcp_ports_open,
	.ports_close = gcp_ports_close,
	.endpoints = gcp_endpoints,
};
