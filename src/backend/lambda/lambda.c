/*
 * lambda: the Lambda Cloud backend, after Lambda's published API
 * document (Lambda Cloud API 1.5.1, ../shared/specs/.../openapi.yaml).
 *
 *   plan       the catalog's Lambda offers, best first, restricted to the
 *              file system's region; the first whose instance type lists
 *              its region in GET /instance-types regions_with_capacity_
 *              available (cached capacity_cache seconds) wins, at the live
 *              price; the ones without capacity are blocked for a while.
 *              Lambda has no spot market: use_spot: true is refused.
 *   launch     stage (agent.json, sealed secrets, workdir + frugal archive)
 *              under $FRUGAL_HOME/cloud/lambda/TOKEN; find by name first;
 *              POST /instance-operations/launch with region, type, the SSH
 *              key name, the file system and the name frugal-TAG-TOKEN;
 *              insufficient capacity / quota / wrong region ->
 *              FRUGAL_ECAPACITY (the controller blocks the region and plans
 *              again); 429/5xx/no answer -> look the name up, then retry.
 *              At most one launch every launch_interval (12 s), one request
 *              every request_interval (1 s): pauses, never failures.
 *   describe   GET /instances/{id}: booting -> PENDING; active -> the SSH
 *              bootstrap once (upload, then start the agent; the remote
 *              side starts it at most once per token), then RUNNING, with
 *              status/log mirrored every sync_interval; terminated, or 404
 *              -> GONE (an attempt whose agent had started is recorded as
 *              preempted: the machine was lost, not the job).
 *   stop/notice  SIGINT / notice.json + SIGUSR2 to the agent over SSH.
 *   terminate  POST /instance-operations/terminate, then GONE once GET
 *              says terminated (FRUGAL_EBUSY until then: retried).
 *   list       GET /instances, names frugal-TAG-*.
 *
 * Settings, backends.lambda in config.yaml: ssh_key_name (required to
 * launch), ssh_key (private key file), ssh_user (ubuntu), ssh_command
 * (ssh), file_system, base_url, api_key_file, request_interval (1),
 * launch_interval (12), capacity_cache (30), capacity_block (120),
 * sync_interval (5), boot_timeout (1200), release_wait (600),
 * self_terminate (true), shared_storage (false), remote_frugal (a frugal already on the machine:
 * no upload). The key: LAMBDA_API_KEY, else api_key_file, else
 * ~/.lambda_cloud/lambda_keys.
 */
#include "backend/lambda/lambda.h"
#include "backend/provider.h"
#include "backend/backend.h"
#include "backend/common/agentbin.h"
#include "backend/common/cloud.h"
#include "backend/common/hometag.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/secrets.h"
#include "util/http.h"

#include <openssl/evp.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_SYNCS 64
/* The bootstrap's exit status when the machine's boot check refuses. */
#define BOOT_CHECK_STATUS 3

struct lambda {
	struct cloud_api api;
	int have_key;
	char *tag;
	const char *ssh_key_name, *ssh_user, *ssh_command, *file_system, *remote_frugal;
	char *ssh_key;
	double launch_interval, capacity_cache, capacity_block, sync_interval, boot_timeout;
	double release_wait;
	int self_terminate;
	int shared_storage;
	int64_t last_launch;	/* time_mono_ms() */
	json_t *types;		/* GET /instance-types, cached */
	int64_t types_at;
	char *fs_mount, *fs_region;	/* of file_system, looked up once */
	struct storage *ctl;	/* the controller's storage (mirror) */
	struct cloud_sync_mark syncs[MAX_SYNCS];
};

/* ---- pure pieces (lambda.h) -------------------------------------------------- */

char *lambda_key_from_text(const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *eq, *v;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		while (len && isspace((unsigned char)*line)) {
			line++;
			len--;
		}
		eq = memchr(line, '=', len);
		if (eq && !strncmp(line, "api_key", 7) &&
		    (line[7] == '=' || isspace((unsigned char)line[7]))) {
			const char *end = line + len;
			v = eq + 1;
			while (v < end && isspace((unsigned char)*v))
				v++;
			while (end > v && isspace((unsigned char)end[-1]))
				end--;
			if (end > v)
				return xstrndup(v, (size_t)(end - v));
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

json_t *lambda_launch_body(const char *region, const char *type, const char *ssh_key_name,
			   const char *const *fs, size_t n_fs, const char *name)
{
	json_t *o = json_object(), *names = json_array();
	size_t i, j;

	json_object_set_new(o, "region_name", json_string(region));
	json_object_set_new(o, "instance_type_name", json_string(type));
	json_object_set_new(o, "ssh_key_names", json_pack("[s]", ssh_key_name));
	for (i = 0; i < n_fs; i++) {
		for (j = 0; j < i && strcmp(fs[j], fs[i]); j++)
			;
		if (j == i)
			json_array_append_new(names, json_string(fs[i]));
	}
	if (json_array_size(names))
		json_object_set(o, "file_system_names", names);
	json_decref(names);
	json_object_set_new(o, "quantity", json_integer(1));
	json_object_set_new(o, "name", json_string(name));
	return o;
}

int lambda_has_capacity(json_t *types, const char *type, const char *region,
			double *ret_price)
{
	json_t *entry = json_object_get(json_object_get(types, "data"), type), *regions, *r;
	json_t *price;
	size_t i;

	if (!json_is_object(entry))
		return 0;
	/* The spec says integer cents; its own example has a string. */
	price = json_object_get(json_object_get(entry, "instance_type"), "price_cents_per_hour");
	if (ret_price && json_is_number(price))
		*ret_price = json_number_value(price) / 100.0;
	else if (ret_price && json_is_string(price) && atof(json_string_value(price)) > 0)
		*ret_price = atof(json_string_value(price)) / 100.0;
	regions = json_object_get(entry, "regions_with_capacity_available");
	json_array_foreach(regions, i, r)
		if (json_is_string(json_object_get(r, "name")) &&
		    !strcmp(json_string_value(json_object_get(r, "name")), region))
			return 1;
	return 0;
}

void lambda_instance_state(json_t *inst, enum instance_state *ret, const char **ret_ip)
{
	const char *s = json_string_value(json_object_get(inst, "status"));
	const char *ip = json_string_value(json_object_get(inst, "ip"));

	*ret_ip = ip && *ip ? ip : NULL;
	if (!s || !strcmp(s, "terminated") || !strcmp(s, "terminating"))
		*ret = INSTANCE_GONE;
	else if (!strcmp(s, "active") || !strcmp(s, "unhealthy"))
		*ret = INSTANCE_RUNNING;
	else
		*ret = INSTANCE_PENDING;	/* booting, and states added later */
}

const char *lambda_find_named(json_t *reply, const char *name)
{
	json_t *inst;
	size_t i;

	json_array_foreach(json_object_get(reply, "data"), i, inst) {
		const char *n = json_string_value(json_object_get(inst, "name"));
		const char *s = json_string_value(json_object_get(inst, "status"));

		if (n && !strcmp(n, name) && (!s || strcmp(s, "terminated")) &&
		    json_is_string(json_object_get(inst, "id")))
			return json_string_value(json_object_get(inst, "id"));
	}
	return NULL;
}

int lambda_is_capacity_error(long status, json_t *body)
{
	const char *code = cloud_error_code(body);

	return (status == 400 || status == 403 || status == 409 || status == 503) &&
	       (!strcmp(code, "instance-operations/launch/insufficient-capacity") ||
		!strcmp(code, "global/quota-exceeded") ||
		!strcmp(code, "instance-operations/launch/file-system-in-wrong-region"));
}

/* ---- settings ---------------------------------------------------------------- */

static const char *cfg(const struct provider *p, const char *key)
{
	return cloud_cfg(p->config, "lambda", key);
}

/* The API key: LAMBDA_API_KEY, api_key_file, ~/.lambda_cloud/lambda_keys. */
static char *read_key(const struct provider *p)
{
	struct strbuf sb = STRBUF_INIT;
	char *path, *key = NULL;

	if (getenv("LAMBDA_API_KEY") && *getenv("LAMBDA_API_KEY"))
		return xstrdup(getenv("LAMBDA_API_KEY"));
	path = cfg(p, "api_key_file") ? cloud_expand_home(cfg(p, "api_key_file"))
				      : cloud_expand_home("~/.lambda_cloud/lambda_keys");
	if (path && fs_read_file(path, 64 << 10, &sb, NULL) == 0)
		key = lambda_key_from_text(sb.buf);
	secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	free(path);
	return key;
}

/* Free the backend's state (the key is wiped). */
static void lambda_free(struct provider *p)
{
	struct lambda *l = p->priv;

	if (!l)
		return;
	cloud_api_release(&l->api);
	free(l->tag);
	free(l->ssh_key);
	json_decref(l->types);
	free(l->fs_mount);
	free(l->fs_region);
	storage_free(l->ctl);
	free(l);
	p->priv = NULL;
}

/* The backend's settings, read once. */
static int lambda_get(struct provider *p, struct lambda **ret, struct error *err)
{
	struct lambda *l;
	double req_iv;
	char *key;
	const char *v;
	int r;

	if (p->priv) {
		*ret = p->priv;
		return 0;
	}
	l = xcalloc(1, sizeof(*l));
	if ((r = cloud_cfg_seconds(p->config, "lambda", "request_interval", 1, &req_iv, err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "lambda", "launch_interval", 12, &l->launch_interval,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "lambda", "capacity_cache", 30, &l->capacity_cache,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "lambda", "capacity_block", 120, &l->capacity_block,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "lambda", "sync_interval", 5, &l->sync_interval,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "lambda", "boot_timeout", 1200, &l->boot_timeout,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "lambda", "release_wait", 600, &l->release_wait,
				   err)) < 0) {
		free(l);
		return r;
	}
	key = read_key(p);
	l->have_key = key != NULL;
	cloud_api_init(&l->api, "Lambda", cfg(p, "base_url") ? cfg(p, "base_url")
							    : LAMBDA_DEFAULT_URL, key);
	if (key) {
		secure_free(key);
	}
	l->api.min_interval_ms = (int64_t)(req_iv * 1000);
	l->tag = home_tag(p->home);
	l->ssh_key_name = cfg(p, "ssh_key_name");
	l->ssh_user = cfg(p, "ssh_user") ? cfg(p, "ssh_user") : "ubuntu";
	l->ssh_command = cfg(p, "ssh_command");
	l->ssh_key = cfg(p, "ssh_key") ? cloud_expand_home(cfg(p, "ssh_key")) : NULL;
	l->file_system = cfg(p, "file_system");
	l->remote_frugal = cfg(p, "remote_frugal");
	v = cfg(p, "self_terminate");
	l->self_terminate = !v || !(!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
				    !strcmp(v, "0"));
	v = cfg(p, "shared_storage");
	l->shared_storage = v && (!strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
				  !strcmp(v, "1"));
	p->priv = l;
	*ret = l;
	return 0;
}

/* FRUGAL_EINVAL, saying where to put it, when there is no API key. */
static int need_key(const struct lambda *l, struct error *err)
{
	if (l->have_key)
		return 0;
	return error_set(err, FRUGAL_EINVAL, "no Lambda Cloud API key: set LAMBDA_API_KEY or"
			 " write 'api_key = KEY' to ~/.lambda_cloud/lambda_keys");
}

/* A failed reply as an error: "Lambda API: GET /x: HTTP 403 message". */
static int api_error(const char *method, const char *path, long status, json_t *body,
		     struct error *err)
{
	return error_set(err, FRUGAL_EPROVIDER, "Lambda API: %s %s: HTTP %ld%s%s", method, path,
			 status, *cloud_error_text(body) ? ": " : "", cloud_error_text(body));
}

/* GET path into *ret (2xx only). */
static int api_get(struct lambda *l, const char *path, json_t **ret, struct error *err)
{
	long status = 0;
	json_t *j = NULL;
	int r;

	if ((r = cloud_api_call(&l->api, "GET", path, NULL, 0, &status, &j, err)) < 0)
		return r;
	if (status / 100 != 2) {
		r = api_error("GET", path, status, j, err);
		json_decref(j);
		return r;
	}
	*ret = j;
	return 0;
}

/* The configured file system's mount point and region, once. */
static int file_system_info(struct lambda *l, struct error *err)
{
	json_t *reply = NULL, *fs;
	size_t i;
	int r;

	if (!l->file_system || l->fs_mount)
		return 0;
	if ((r = api_get(l, "/file-systems", &reply, err)) < 0)
		return r;
	json_array_foreach(json_object_get(reply, "data"), i, fs) {
		const char *name = json_string_value(json_object_get(fs, "name"));
		const char *mount = json_string_value(json_object_get(fs, "mount_point"));
		const char *region = json_string_value(
			json_object_get(json_object_get(fs, "region"), "name"));

		if (name && !strcmp(name, l->file_system) && mount && region) {
			l->fs_mount = xstrdup(mount);
			l->fs_region = xstrdup(region);
		}
	}
	json_decref(reply);
	if (!l->fs_mount)
		return error_set(err, FRUGAL_EINVAL, "Lambda has no file system named '%s'"
				 " (backends.lambda.file_system); create it in the Lambda console",
				 l->file_system);
	return 0;
}

/* 1 when v is a Lambda file system: lambda-fs://NAME, or SkyPilot's bare
 * name (volumes: {PATH: NAME}). */
static int is_file_system(const struct volume *v)
{
	return !strcmp(v->kind, LAMBDA_FS_KIND) || !strcmp(v->kind, VOLUME_KIND_NAME);
}

/* The task's file systems (one GET /file-systems): each one's mount point
 * in (*ret_mounts)[i] (NULL for a volume that is not one; n = the task's
 * volumes; caller frees each and the array) and their one region in
 * *ret_region (NULL without any). A name Lambda does not have, or two in
 * different regions: FRUGAL_EINVAL naming the volume. */
static int task_file_systems(struct lambda *l, const struct task *t, char ***ret_mounts,
			     char **ret_region, struct error *err)
{
	json_t *reply = NULL, *fs;
	char **mounts, *region = NULL;
	size_t i, j;
	int r = 0;

	*ret_mounts = NULL;
	*ret_region = NULL;
	for (i = 0; i < t->volumes.n && !is_file_system(&t->volumes.items[i]); i++)
		;
	if (i == t->volumes.n)
		return 0;
	if ((r = api_get(l, "/file-systems", &reply, err)) < 0)
		return r;
	mounts = xcalloc(t->volumes.n + 1, sizeof(*mounts));
	for (i = 0; i < t->volumes.n && r == 0; i++) {
		const struct volume *v = &t->volumes.items[i];
		const char *reg = NULL;

		if (!is_file_system(v))
			continue;
		json_array_foreach(json_object_get(reply, "data"), j, fs) {
			const char *name = json_string_value(json_object_get(fs, "name"));
			const char *mount = json_string_value(json_object_get(fs, "mount_point"));
			const char *fr = json_string_value(
				json_object_get(json_object_get(fs, "region"), "name"));

			if (name && mount && fr && !strcmp(name, v->ref)) {
				mounts[i] = xstrdup(mount);
				reg = fr;
				break;
			}
		}
		if (!mounts[i])
			r = error_set(err, FRUGAL_EINVAL, "volumes.%s: Lambda has no file system "
				      "named '%s'; create it in the Lambda console (Storage) or "
				      "name one that GET /file-systems lists", v->dst, v->ref);
		else if (region && strcmp(region, reg))
			r = error_set(err, FRUGAL_EINVAL, "volumes.%s: file system '%s' is in %s "
				      "but another of the task's is in %s; an instance is in one "
				      "region: give file systems of one region", v->dst, v->ref, reg,
				      region);
		else if (!region)
			region = xstrdup(reg);
	}
	json_decref(reply);
	if (r < 0) {
		for (i = 0; i < t->volumes.n; i++)
			free(mounts[i]);
		free(mounts);
		free(region);
		return r;
	}
	*ret_mounts = mounts;
	*ret_region = region;
	return 0;
}

static void mounts_free(char **mounts, size_t n)
{
	size_t i;

	for (i = 0; mounts && i < n; i++)
		free(mounts[i]);
	free(mounts);
}

/* GH200 and GB200 machines are Grace: aarch64 (lambda.h). */
const char *lambda_instance_arch(const char *instance_type)
{
	return instance_type && (strstr(instance_type, "gh200") || strstr(instance_type, "gb200"))
		       ? AGENTBIN_AARCH64 : AGENTBIN_X86_64;
}

/* GET /instance-types, at most every capacity_cache seconds. */
static int instance_types(struct lambda *l, struct error *err)
{
	json_t *reply = NULL;
	int r;

	if (l->types && time_mono_ms() - l->types_at < (int64_t)(l->capacity_cache * 1000))
		return 0;
	if ((r = api_get(l, "/instance-types", &reply, err)) < 0)
		return r;
	json_decref(l->types);
	l->types = reply;
	l->types_at = time_mono_ms();
	return 0;
}

/* ---- plan ---------------------------------------------------------------------- */

/* FRUGAL_ENOTSUP for a task key this backend cannot honour. */
static int refuse(struct error *err, const char *key, const char *why)
{
	return error_set(err, FRUGAL_ENOTSUP, "'%s' is not supported by backend lambda%s%s", key,
			 why ? ": " : "", why ? why : "");
}

/* plan: see the top of this file. */
static int lambda_plan(struct provider *p, const struct plan_request *req, struct plan *ret,
		       struct error *err)
{
	const struct task *t = req->task;
	struct lambda *l;
	struct catalog *cat = NULL;
	struct candidate_list cl = CANDIDATE_LIST_INIT;
	struct resources res;
	struct plan pl = { 0 };
	char **fs_mounts = NULL, *fs_region = NULL;
	const char *region_of = "resources.region";
	size_t i, none = 0, n_fs = 0;
	int r;

	if ((r = lambda_get(p, &l, err)) < 0)
		return r;
	if (t->res.cloud && strcmp(t->res.cloud, "lambda"))
		return error_set(err, FRUGAL_EINVAL, "resources.cloud is '%s' but the backend is"
				 " lambda", t->res.cloud);
	if (t->res.spot == SPOT_SPOT)
		return error_set(err, FRUGAL_ENOTSUP, "'resources.use_spot: true': Lambda Cloud has"
				 " no spot instances; use spot_policy: auto or on-demand");
	if (t->res.zone)
		return refuse(err, "resources.zone", "Lambda has regions only");
	if (t->res.image_id && !t->res.image_docker)	/* docker:IMAGE runs on Lambda Stack */
		return refuse(err, "resources.image_id", "instances run Lambda Stack");
	if (t->res.disk_size)
		return refuse(err, "resources.disk_size", "instance types have fixed disks");
	if (mount_list_find_local(&t->file_mounts) && (!p->config || !p->config->storage_url ||
						       !strncmp(p->config->storage_url, "file:", 5)))
		return error_set(err, FRUGAL_ENOTSUP, "file_mounts.%s: a local source is uploaded to "
				 "the storage, which %s machines cannot read when it is file://: set "
				 "storage: to an s3:// or gs:// URL in config.yaml, or give a bucket URL",
				 mount_list_find_local(&t->file_mounts)->dst, "lambda");
	/* One file system per instance: the launch request's
	 * file_system_names holds one (maxItems 1). */
	for (i = 0; i < t->volumes.n; i++) {
		const struct volume *v = &t->volumes.items[i];

		if (!is_file_system(v))
			continue;
		if (l->file_system && strcmp(l->file_system, v->ref))
			return error_set(err, FRUGAL_EINVAL, "volumes.%s: a Lambda instance has one "
					 "file system, and backends.lambda.file_system (%s) is set; "
					 "remove one of them, or name the same", v->dst,
					 l->file_system);
		if (++n_fs > 1)
			return error_set(err, FRUGAL_EINVAL, "volumes.%s: a Lambda instance has one "
					 "file system (the launch request's file_system_names holds "
					 "one); give one", v->dst);
	}
	if ((r = need_key(l, err)) < 0 || (r = file_system_info(l, err)) < 0)
		return r;
	res = t->res;
	res.spot = SPOT_ON_DEMAND;
	if (l->fs_region) {
		if (t->res.region && strcmp(t->res.region, l->fs_region))
			return error_set(err, FRUGAL_EINVAL, "resources.region is %s but file system"
					 " '%s' is in %s", t->res.region, l->file_system,
					 l->fs_region);
		res.region = l->fs_region;
		region_of = "backends.lambda.file_system's region";
	}
	/* The task's file system: the instance in its region. */
	if ((r = task_file_systems(l, t, &fs_mounts, &fs_region, err)) < 0)
		return r;
	if (fs_region) {
		if (res.region && strcmp(res.region, fs_region)) {
			r = error_set(err, FRUGAL_EINVAL, "volumes: the task's file system is in %s"
				      " but %s is %s; give one region", fs_region,
				      region_of, res.region);
			goto out;
		}
		res.region = fs_region;
	}
	if ((r = cloud_candidates(p, (enum backend_id)backend_id_from_name("lambda"), t, &res,
				  req->blocked, &cat, &cl, err)) < 0)
		return r;
	if ((r = instance_types(l, err)) < 0)
		goto out;
	for (i = 0; i < cl.n; i++) {
		const struct offer *o = cl.items[i].offer;
		double price = cl.items[i].price;

		if (!lambda_has_capacity(l->types, o->instance_type, o->region, &price)) {
			none++;
			cloud_block(req->learned, "lambda", o->region, NULL, (int64_t)l->capacity_block,
				    "no capacity (instance-types)");
			continue;
		}
		if (t->res.max_price > 0 && price > t->res.max_price)
			continue;
		pl.backend = xstrdup("lambda");
		pl.region = xstrdup(o->region);
		pl.zone = xstrdup("-");
		pl.instance_type = xstrdup(o->instance_type);
		pl.accelerator = *o->accel ? xstrdup(o->accel) : NULL;
		pl.gpus = (int)ceil(o->accel_count);
		pl.spot = 0;
		pl.price_per_hour = price;
		pl.capacity = xasprintf("capacity in %s (instance-types)", o->region);
		break;
	}
	/* The machine gets the binary built for its architecture: say now,
	 * not at boot, when there is none. */
	if (pl.backend && !l->remote_frugal) {
		char *bin = NULL;

		if ((r = agentbin_find(lambda_instance_arch(pl.instance_type), p->self_exe,
				       cloud_cfg(p->config, "lambda", "agent_dist"), "lambda",
				       pl.instance_type, &bin, err)) < 0) {
			r = FRUGAL_EINVAL;
			plan_release(&pl);
			goto out;
		}
		free(bin);
	}
	if (!pl.backend) {
		r = error_set(err, FRUGAL_ECAPACITY, "no Lambda capacity now for the %zu instance"
			      " type%s that fit%s; waiting", cl.n, cl.n == 1 ? "" : "s",
			      l->fs_region || fs_region ? " in the file system's region" : "");
		goto out;
	}
	*ret = pl;
out:
	mounts_free(fs_mounts, t->volumes.n);
	free(fs_region);
	candidate_list_release(&cl);
	catalog_free(cat);
	return r;
}

/* ---- find, launch ----------------------------------------------------------------- */

/* The instance named for token that is not terminated (GET /instances). */
static int lambda_find(struct provider *p, const char *token, const struct plan *where,
		       char **ret_id, struct error *err)
{
	struct lambda *l;
	json_t *reply = NULL;
	char *name;
	const char *id;
	int r;

	*ret_id = NULL;
	if ((r = lambda_get(p, &l, err)) < 0 || (r = need_key(l, err)) < 0 ||
	    (r = api_get(l, "/instances", &reply, err)) < 0)
		return r;
	name = cloud_name(l->tag, token);
	id = lambda_find_named(reply, name);
	if (id)
		*ret_id = xstrdup(id);
	free(name);
	json_decref(reply);
	return 0;
}

/* Stage everything the bootstrap needs (see cloud.h), the machine's
 * architecture (stage file "arch": the bootstrap checks it), and where the
 * task's file systems are mounted (stage file "volumes", "INDEX MOUNT"
 * lines from fs_mounts, the task's volumes long: the bootstrap links
 * PROVIDER_VOLUME_ROOT/INDEX to each). */
static int stage(struct provider *p, struct lambda *l, const struct launch_request *req,
		 char **fs_mounts, const char *dir, struct error *err)
{
	char *storage = NULL, *outputs = NULL, *root = NULL, *json = NULL, *bin = NULL;
	char *arch_file = NULL;
	const char *arch = lambda_instance_arch(req->plan ? req->plan->instance_type : NULL);
	int r;

	if ((r = cloud_storage_plan(req, l->fs_mount, l->shared_storage, "lambda", &storage, &outputs, &root,
				    err)) < 0 ||
	    (r = cloud_agent_json(req, "lambda", storage, outputs, &json, err)) < 0 ||
	    (r = cloud_stage_write(dir, p->home, json, req->secrets, err)) < 0)
		goto out;
	if (!l->remote_frugal &&
	    (r = agentbin_find(arch, p->self_exe, cloud_cfg(p->config, "lambda", "agent_dist"),
			       "lambda", req->plan ? req->plan->instance_type : NULL, &bin,
			       err)) < 0)
		goto out;
	arch_file = fs_path_join(dir, "arch");
	if (fs_mounts) {
		struct strbuf vols = STRBUF_INIT;
		char *vpath = fs_path_join(dir, "volumes");
		size_t i;

		for (i = 0; i < req->task->volumes.n; i++)
			if (fs_mounts[i])
				strbuf_addf(&vols, "%zu %s\n", i, fs_mounts[i]);
		r = fs_write_atomic(vpath, vols.buf, vols.len, 0600, 1, err);
		strbuf_release(&vols);
		free(vpath);
		if (r < 0)
			goto out;
	}
	if ((r = cloud_stage_mirror_info(dir, root, outputs, err)) < 0 ||
	    (r = fs_write_atomic(arch_file, arch, strlen(arch), 0600, 1, err)) < 0 ||
	    (r = cloud_pack(dir, req->task->workdir, bin, err)) < 0)
		goto out;
out:
	free(bin);
	free(arch_file);
	free(storage);
	free(outputs);
	free(root);
	free(json);
	return r;
}

/* launch: find by name, stage, POST launch (paced, retried safely). */
static int lambda_launch(struct provider *p, const struct launch_request *req, char **ret_id,
			 struct error *err)
{
	struct lambda *l;
	char *name = NULL, *dir = NULL, *id = NULL, *idpath = NULL;
	char **fs_mounts = NULL, *fs_region = NULL;
	const char **fs_names = NULL;
	size_t n_fs = 0, k;
	json_t *body = NULL, *reply = NULL;
	int64_t pause = 2000, wait;
	int r, i;

	if ((r = lambda_get(p, &l, err)) < 0 || (r = need_key(l, err)) < 0)
		return launch_failed_early(req, r);
	if (!l->ssh_key_name)
		return launch_failed_early(req, error_set(err, FRUGAL_EINVAL,
				"backends.lambda.ssh_key_name is not set: name the SSH key"
				" registered with Lambda that frugal may use"));
	if (!req->plan || !req->plan->region || !req->plan->instance_type)
		return launch_failed_early(req, error_set(err, FRUGAL_EINVAL, "launch of %s"
							  " without a plan", req->token));
	/* Idempotent: an instance already made under this token is adopted. */
	if ((r = lambda_find(p, req->token, req->plan, &id, err)) < 0)
		return launch_failed_early(req, r);
	if (id) {
		*ret_id = id;
		return 0;
	}
	name = cloud_name(l->tag, req->token);
	dir = cloud_stage_dir(p->home, "lambda", req->token);
	if ((r = file_system_info(l, err)) < 0 ||
	    (r = task_file_systems(l, req->task, &fs_mounts, &fs_region, err)) < 0 ||
	    (r = stage(p, l, req, fs_mounts, dir, err)) < 0) {
		launch_failed_early(req, r);	/* the stage goes below */
		goto out;
	}
	/* The configured file system and the task's, each attached once. */
	fs_names = xcalloc(req->task->volumes.n + 1, sizeof(*fs_names));
	if (l->file_system)
		fs_names[n_fs++] = l->file_system;
	for (k = 0; fs_mounts && k < req->task->volumes.n; k++)
		if (fs_mounts[k])
			fs_names[n_fs++] = req->task->volumes.items[k].ref;
	body = lambda_launch_body(req->plan->region, req->plan->instance_type, l->ssh_key_name,
				  fs_names, n_fs, name);
	for (i = 0; i < 6; i++) {
		long status = 0;

		/* Lambda allows one launch every 12 s: wait, do not fail. */
		wait = l->last_launch + (int64_t)(l->launch_interval * 1000) - time_mono_ms();
		if (l->last_launch && wait > 0)
			time_sleep_ms(wait);
		l->last_launch = time_mono_ms();
		json_decref(reply);
		reply = NULL;
		r = cloud_api_call(&l->api, "POST", "/instance-operations/launch", body,
				   CLOUD_NO_RETRY, &status, &reply, err);
		if (r == 0 && status / 100 == 2) {
			json_t *ids = json_object_get(json_object_get(reply, "data"), "instance_ids");
			if (!json_is_string(json_array_get(ids, 0))) {
				r = error_set(err, FRUGAL_EPROVIDER, "Lambda API: launch answered"
					      " without an instance id");
				goto out;
			}
			id = xstrdup(json_string_value(json_array_get(ids, 0)));
			break;
		}
		if (r == 0 && lambda_is_capacity_error(status, reply)) {
			r = error_set(err, FRUGAL_ECAPACITY, "Lambda: no %s in %s now: %s",
				      req->plan->instance_type, req->plan->region,
				      cloud_error_text(reply));
			goto out;
		}
		if (r == 0 && status != 429 && status < 500) {
			r = api_error("POST", "/instance-operations/launch", status, reply, err);
			goto out;
		}
		/* No answer, 429 or 5xx: it may have launched all the same. */
		if ((r = lambda_find(p, req->token, req->plan, &id, err)) == 0 && id)
			break;
		time_sleep_ms(pause);
		pause *= 2;
	}
	if (!id) {
		r = error_set(err, FRUGAL_ENET, "Lambda API: launch did not succeed after %d tries",
			      i);
		goto out;
	}
	idpath = fs_path_join(dir, "instance-id");
	fs_write_atomic(idpath, id, strlen(id), 0600, 1, NULL);
	*ret_id = id;
	id = NULL;
	r = 0;
out:
	if (r < 0 && dir)
		fs_remove_tree(dir, NULL);
	json_decref(body);
	json_decref(reply);
	free(name);
	free(dir);
	free(id);
	free(idpath);
	mounts_free(fs_mounts, req->task->volumes.n);
	free(fs_region);
	free(fs_names);
	return r;
}

/* ---- the machine over SSH ------------------------------------------------------------ */

/* The SSH target of instance id at ip; strings point into l, dir, id. */
static void target_of(const struct lambda *l, const char *ip, const char *id,
		      const char *known_hosts, struct ssh_target *ret)
{
	struct ssh_target t = SSH_TARGET_INIT;

	t.command = l->ssh_command;
	t.user = l->ssh_user;
	t.host = ip;
	t.identity = l->ssh_key;
	t.known_hosts = known_hosts;
	t.alias = id;
	t.timeout_s = 300;
	*ret = t;
}

/* A heredoc delimiter that occurs in none of the texts. */
static void heredoc_tag(char *buf, size_t size)
{
	unsigned long long x = (unsigned long long)time_now_ms() * 6364136223846793005ULL ^
			       (unsigned long long)getpid();

	snprintf(buf, size, "FRUGAL_EOF_%016llx", x);
}

/* Append "cat > FILE <<'TAG'\nTEXT\nTAG\n" to sb. */
static void add_file(struct strbuf *sb, const char *file, const char *text, const char *tag)
{
	strbuf_addf(sb, "cat > \"$d/%s\" <<'%s'\n%s%s%s\n", file, tag, text,
		    *text && text[strlen(text) - 1] != '\n' ? "\n" : "", tag);
}

/* sealed in base64 lines of 76, for a here-document that `base64 -d` reads. */
static void add_base64(struct strbuf *sb, const struct strbuf *sealed)
{
	size_t off;

	for (off = 0; off < sealed->len; off += 57) {
		size_t n = sealed->len - off < 57 ? sealed->len - off : 57;
		unsigned char line[80];
		int len = EVP_EncodeBlock(line, (const unsigned char *)sealed->buf + off, (int)n);

		strbuf_add(sb, line, (size_t)len);
		strbuf_addch(sb, '\n');
	}
}

/*
 * The script the machine runs with `sh -s` (it arrives on standard input:
 * nothing of it is on a command line). The secrets in it are sealed
 * (contract/secrets.h) and written so, as secrets.sealed; their key goes
 * only into the agent's environment (an assignment before nohup), so the
 * values are never on the machine's disk in clear: the agent opens the
 * file and deletes it. It starts the agent at most once per token: mkdir
 * of the instance directory is the lock.
 */
/* The task's file systems, which Lambda mounts at their mount_point
 * (/lambda/nfs/NAME): PROVIDER_VOLUME_ROOT/INDEX made a link to each (the
 * agent links the task's mount path there, agent/volumes.h), with sudo
 * unless root; a file system that is not mounted fails the bootstrap
 * naming it. volumes: the stage's "INDEX MOUNT" lines. */
static void volume_links(struct strbuf *sb, const char *volumes)
{
	const char *line = volumes;

	strbuf_adds(sb, "if [ \"$(id -u)\" = 0 ]; then su=; else su='sudo -n'; fi\n"
		    "$su mkdir -p " PROVIDER_VOLUME_ROOT "\n");
	while (*line) {
		const char *nl = strchr(line, '\n'), *sp = strchr(line, ' ');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *mount;

		if (!sp || sp > line + len || sp == line ||
		    strspn(line, "0123456789") != (size_t)(sp - line)) {
			line += len + (nl ? 1 : 0);
			continue;
		}
		mount = xstrndup(sp + 1, len - (size_t)(sp + 1 - line));
		strbuf_adds(sb, "m=");
		strbuf_add_shell_quoted(sb, mount);
		strbuf_addf(sb, "\nif [ ! -d \"$m\" ]; then w=\"frugal: the Lambda file system is"
			    " not mounted at $m\"; echo \"$w\"; echo \"$w\" >&2; exit 1; fi\n"
			    "$su ln -sfn \"$m\" " PROVIDER_VOLUME_ROOT "/%.*s\n",
			    (int)(sp - line), line);
		free(mount);
		line += len + (nl ? 1 : 0);
	}
}

static int bootstrap_script(const struct provider *p, const struct lambda *l,
			    const char *token, const char *id, const char *agent_json,
			    const struct kvlist *secrets, const char *arch, const char *volumes,
			    char **ret, struct error *err)
{
	struct strbuf sb = STRBUF_INIT, sealed = STRBUF_INIT;
	unsigned char key[SEAL_KEY_LEN];
	char tag[64], hex[SEAL_KEY_HEX_LEN + 1] = "", job[64];
	int n, r;

	if (provider_token_split(token, job, sizeof(job), &n) < 0)
		return error_set(err, FRUGAL_EINVAL, "'%s' is not an attempt token", token);
	if ((r = secrets_key_of(p->home, job, n, key, err)) < 0 ||
	    (r = secrets_seal(key, secrets, &sealed, err)) < 0) {
		secure_zero(key, sizeof(key));
		return r;
	}
	if (sealed.len)
		seal_key_hex(key, hex);
	secure_zero(key, sizeof(key));

	heredoc_tag(tag, sizeof(tag));
	strbuf_addf(&sb, "set -eu\numask 077\ncd \"$HOME\"\nb=%s\nd=\"$b\"/", CLOUD_REMOTE_BASE);
	strbuf_add_shell_quoted(&sb, token);
	strbuf_addf(&sb, "\ns=\"$b\"/stage-");
	strbuf_add_shell_quoted(&sb, token);
	strbuf_adds(&sb, "\nmkdir -p \"$b\"\n"
		    "if ! mkdir \"$d\" 2>/dev/null; then echo 'frugal: agent already started'; "
		    "exit 0; fi\n"
		    "if [ -d \"$s/workdir\" ]; then mv \"$s/workdir\" \"$d/workdir\"; fi\n"
		    "if [ -f \"$s/bin/frugal\" ]; then mv \"$s/bin/frugal\" \"$d/frugal\"; fi\n"
		    "rm -rf \"$s\"\n");
	add_file(&sb, "agent.json", agent_json, tag);
	if (sealed.len) {
		strbuf_addf(&sb, "base64 -d > \"$d/%s\" <<'%s'\n", SECRETS_SEALED_NAME, tag);
		add_base64(&sb, &sealed);
		strbuf_addf(&sb, "%s\n", tag);
	}
	if (l->self_terminate) {
		json_t *self = json_pack("{s:s, s:s, s:s, s:{s:[s]}, s:s, s:I}", "api_url",
					 l->api.base_url, "method", "POST", "path",
					 "/instance-operations/terminate", "body", "instance_ids",
					 id, "key_file", "self.key", "release_wait",
					 (json_int_t)l->release_wait);
		char *text = json_dumps(self, JSON_COMPACT);
		const char *api_key = l->api.auth_header + strlen("Authorization: Bearer ");

		add_file(&sb, "self.json", text, tag);
		add_file(&sb, "self.key", api_key, tag);
		free(text);
		json_decref(self);
	}
	if (volumes && *volumes)
		volume_links(&sb, volumes);
	strbuf_adds(&sb, "cd \"$d\"\n");
	if (l->remote_frugal) {
		strbuf_adds(&sb, "f=");
		strbuf_add_shell_quoted(&sb, l->remote_frugal);
		strbuf_addch(&sb, '\n');
	} else {
		strbuf_adds(&sb, "f=\"$PWD/frugal\"\n");
	}
	if (arch && !l->remote_frugal) {
		/* An agent that cannot start fails the bootstrap with the reason. */
		agentbin_boot_check(&sb);
		strbuf_addf(&sb, "if ! frugal_agent_check \"$f\" %s; then\n"
			    "\techo \"frugal: $frugal_reason\" > agent.log\n"
			    "\tcat agent.log; cat agent.log >&2\n"
			    "\texit %d\nfi\n", arch, BOOT_CHECK_STATUS);
	}
	if (hex[0])
		strbuf_addf(&sb, "%s=%s ", SECRETS_KEY_ENV, hex);
	strbuf_adds(&sb, "nohup setsid sh -c 'echo $$ > agent.pid; "
		    "exec \"$0\" agent --instance-dir \"$PWD\"' \"$f\""
		    " > agent.log 2>&1 < /dev/null &\n"
		    "echo 'frugal: agent started'\n");
	secure_zero(hex, sizeof(hex));
	strbuf_release(&sealed);
	*ret = strbuf_detach(&sb, NULL);
	return 0;
}

/* Upload the archive, then start the agent; once done, mark it. When the
 * machine's boot check refuses (the agent is built for another
 * architecture, or cannot start), *ret_refused is set and err holds the
 * check's reason: trying again cannot help. */
static int bootstrap(struct provider *p, struct lambda *l, const char *token, const char *id,
		     const struct ssh_target *t, const char *dir, int *ret_refused,
		     struct error *err)
{
	struct kvlist secrets = { 0 };
	struct strbuf json = STRBUF_INIT, cmd = STRBUF_INIT, out = STRBUF_INIT;
	int status = 0;
	char *tar = fs_path_join(dir, "upload.tar"), *uploaded = fs_path_join(dir, "uploaded");
	char *done = fs_path_join(dir, "bootstrapped"), *jpath = fs_path_join(dir, "agent.json");
	char *box = fs_path_join(dir, "secrets.box"), *script = NULL;
	int r;

	if (!fs_exists(uploaded)) {
		strbuf_addf(&cmd, "mkdir -p %s/stage-", CLOUD_REMOTE_BASE);
		strbuf_add_shell_quoted(&cmd, token);
		strbuf_addf(&cmd, " && tar -C %s/stage-", CLOUD_REMOTE_BASE);
		strbuf_add_shell_quoted(&cmd, token);
		strbuf_adds(&cmd, " -xf -");
		if ((r = ssh_check(t, cmd.buf, NULL, 0, tar, NULL, err)) < 0)
			goto out;
		fs_write_atomic(uploaded, "", 0, 0600, 1, NULL);
	}
	if ((r = fs_read_file(jpath, 64 << 20, &json, err)) < 0 ||
	    (r = cloud_stage_secrets(dir, p->home, &secrets, err)) < 0)
		goto out;
	{
		struct strbuf arch = STRBUF_INIT;
		char *apath = fs_path_join(dir, "arch");

		struct strbuf vols = STRBUF_INIT;
		char *vpath = fs_path_join(dir, "volumes");

		fs_read_file(apath, 64, &arch, NULL);
		fs_read_file(vpath, 1 << 20, &vols, NULL);
		r = bootstrap_script(p, l, token, id, json.buf, &secrets,
				     arch.len ? arch.buf : NULL, vols.buf, &script, err);
		strbuf_release(&arch);
		strbuf_release(&vols);
		free(apath);
		free(vpath);
		if (r < 0)
			goto out;
	}
	if ((r = ssh_run(t, "sh -s", script, strlen(script), NULL, &out, &status, err)) < 0)
		goto out;
	if (status == BOOT_CHECK_STATUS && !strncmp(out.buf, "frugal: ", 8)) {
		/* The machine is not one the agent can run on: final. */
		strbuf_rtrim(&out);
		r = error_set(err, FRUGAL_EINVAL, "%s", out.buf + 8);
		*ret_refused = 1;
		goto out;
	}
	if (status != 0) {
		r = error_set(err, FRUGAL_EPROVIDER, "the bootstrap exited with status %d: %s",
			      status, error_msg(err)[0] ? error_msg(err) : out.buf);
		goto out;
	}
	fs_write_atomic(done, "", 0, 0600, 1, NULL);
	/* Nothing secret stays behind once the machine has it. */
	unlink(box);
	unlink(tar);
out:
	if (script) {
		secure_free(script);
	}
	kvlist_release(&secrets);
	strbuf_release(&json);
	strbuf_release(&cmd);
	strbuf_release(&out);
	free(tar);
	free(uploaded);
	free(done);
	free(jpath);
	free(box);
	return r;
}

/* GET /instances/{id}: its object in *ret (NULL on 404). */
static int get_instance(struct lambda *l, const char *id, json_t **ret, struct error *err)
{
	char *enc = http_urlencode(id, 0);
	char *path = xasprintf("/instances/%s", enc);
	json_t *reply = NULL;
	long status = 0;
	int r;

	*ret = NULL;
	r = cloud_api_call(&l->api, "GET", path, NULL, 0, &status, &reply, err);
	if (r == 0 && status == 404)
		goto out;
	if (r == 0 && status / 100 != 2)
		r = api_error("GET", "/instances/{id}", status, reply, err);
	if (r == 0) {
		*ret = json_incref(json_object_get(reply, "data"));
		if (!json_is_object(*ret))
			r = error_set(err, FRUGAL_EPROVIDER, "Lambda API: instance %s: no data", id);
	}
out:
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

static int lambda_terminate(struct provider *p, const char *token, const char *id,
			    struct error *err);

/* The boot check refused the machine (why): the attempt is recorded
 * launch_failed with the reason (the job's events have it), and the
 * instance is ended now rather than at the boot deadline. */
static int boot_refused(struct provider *p, struct lambda *l, const char *token, const char *id,
			const char *why, enum instance_state *ret, struct error *err)
{
	struct storage *st = cloud_ctl_storage(p, &l->ctl);
	struct error terr = ERROR_INIT;
	char job[128];
	int n;

	log_warn("lambda: %s: the boot check failed: %s; ending instance %s", token, why, id);
	if (!st || provider_token_split(token, job, sizeof(job), &n) < 0 ||
	    cloud_mark_boot_failed(st, job, n, why, &terr) < 0)
		log_warn("lambda: %s: cannot record the boot failure: %s", token,
			 terr.code ? error_msg(&terr) : "no storage");
	terr = (struct error)ERROR_INIT;
	if (lambda_terminate(p, token, id, &terr) < 0 && terr.code != FRUGAL_EBUSY) {
		/* The controller's teardown tries again. */
		log_warn("lambda: %s: %s", token, error_msg(&terr));
	}
	*ret = INSTANCE_GONE;
	(void)err;
	return 0;
}

/* describe: the instance's state; bootstraps and mirrors as it goes. */
static int lambda_describe(struct provider *p, const char *token, const char *id,
			   struct instance_view *view, struct error *err)
{
	enum instance_state *ret = &view->state;
	struct lambda *l;
	json_t *inst = NULL;
	char *found = NULL, *dir = NULL, *kh = NULL, *done = NULL, *idcopy = NULL;
	const char *ip = NULL;
	struct ssh_target t;
	char job[128];
	int n, r;

	if ((r = lambda_get(p, &l, err)) < 0 || (r = need_key(l, err)) < 0)
		return r;
	if (!id || !*id) {
		if ((r = lambda_find(p, token, NULL, &found, err)) < 0)
			return r;
		id = found;
	}
	*ret = INSTANCE_GONE;
	if (id && (r = get_instance(l, id, &inst, err)) < 0)
		goto out;
	if (inst)
		lambda_instance_state(inst, ret, &ip);
	dir = cloud_stage_dir(p->home, "lambda", token);
	if (*ret == INSTANCE_GONE) {
		/* Lost without a final status: the machine, not the job. */
		struct storage *st = cloud_ctl_storage(p, &l->ctl);
		if (st && provider_token_split(token, job, sizeof(job), &n) == 0)
			cloud_mark_vanished(st, job, n, "the machine disappeared: the Lambda instance"
					    " was terminated outside frugal", NULL);
		goto out;
	}
	if (*ret != INSTANCE_RUNNING)
		goto out;
	if (!ip) {
		*ret = INSTANCE_PENDING;
		goto out;
	}
	kh = fs_path_join(dir, "known_hosts");
	done = fs_path_join(dir, "bootstrapped");
	idcopy = xstrdup(id);
	target_of(l, ip, idcopy, kh, &t);
	if (!fs_exists(done)) {
		struct error berr = ERROR_INIT;

		*ret = INSTANCE_PENDING;
		if (!fs_is_dir(dir))
			goto out;	/* not ours to start (no stage) */
		int refused = 0;

		if (bootstrap(p, l, token, idcopy, &t, dir, &refused, &berr) < 0) {
			if (refused) {
				r = boot_refused(p, l, token, idcopy, error_msg(&berr), ret, err);
				goto out;
			}
			/* sshd may not be up yet: the next pass tries again. */
			if (cloud_stage_age(dir) > (int64_t)l->boot_timeout) {
				/* Give up: the attempt ends, the machine is ended. */
				*ret = INSTANCE_GONE;
				r = error_set(err, FRUGAL_ETIMEOUT, "bootstrap of %s: %s", token,
					      error_msg(&berr));
			}
			goto out;
		}
		*ret = INSTANCE_RUNNING;
	}
	cloud_mirror_stage(&t, &l->ctl, p, dir, token, l->sync_interval, l->syncs, MAX_SYNCS);
out:
	json_decref(inst);
	free(found);
	free(dir);
	free(kh);
	free(done);
	free(idcopy);
	return r;
}

/* The SSH target of token's instance, when it is up and bootstrapped. */
static int live_target(struct provider *p, struct lambda *l, const char *token, const char *id,
		       struct ssh_target *t, char **ret_kh, char **ret_id, struct error *err)
{
	json_t *inst = NULL;
	enum instance_state s;
	const char *ip = NULL;
	char *dir = cloud_stage_dir(p->home, "lambda", token);
	char *done = fs_path_join(dir, "bootstrapped");
	int r;

	*ret_kh = *ret_id = NULL;
	if (!id || !fs_exists(done)) {
		r = error_set(err, FRUGAL_ENOTFOUND, "the agent of %s has not been started", token);
		goto out;
	}
	if ((r = get_instance(l, id, &inst, err)) < 0)
		goto out;
	if (inst)
		lambda_instance_state(inst, &s, &ip);
	if (!inst || !ip) {
		r = error_set(err, FRUGAL_ENOTFOUND, "instance %s is gone", id);
		goto out;
	}
	*ret_kh = fs_path_join(dir, "known_hosts");
	*ret_id = xstrdup(id);
	/* The target's host points into a copy that outlives inst. */
	target_of(l, xstrdup(ip), *ret_id, *ret_kh, t);
out:
	json_decref(inst);
	free(dir);
	free(done);
	return r;
}

/* SIGINT (deadline_ms 0) or a notice to the agent of token, over SSH. */
static int signal_agent(struct provider *p, const char *token, const char *id,
			int64_t deadline_ms, const char *reason, struct error *err)
{
	struct lambda *l;
	struct ssh_target t;
	char *kh = NULL, *idc = NULL;
	int r;

	if ((r = lambda_get(p, &l, err)) < 0 ||
	    (r = live_target(p, l, token, id, &t, &kh, &idc, err)) < 0)
		return r;
	r = cloud_signal_agent(&t, token, deadline_ms, reason, err);
	free((char *)t.host);
	free(kh);
	free(idc);
	return r;
}

/* Cancel: SIGINT to the agent (the controller ends the machine after). */
static int lambda_stop(struct provider *p, const char *token, const char *id,
		       struct error *err)
{
	int r = signal_agent(p, token, id, 0, NULL, err);

	return r == FRUGAL_ENOTFOUND ? 0 : r;
}

/* frugal debug preempt: notice.json + SIGUSR2 to the agent. */
static int lambda_notice(struct provider *p, const char *token, const char *id,
			 int64_t deadline_ms, const char *reason, struct error *err)
{
	return signal_agent(p, token, id, deadline_ms > 0 ? deadline_ms : 1, reason, err);
}

/* End the instance; 0 once Lambda says terminated (or forgets it). */
static int lambda_terminate(struct provider *p, const char *token, const char *id,
			    struct error *err)
{
	struct lambda *l;
	json_t *inst = NULL, *body = NULL, *reply = NULL;
	char *found = NULL, *dir = NULL;
	enum instance_state s = INSTANCE_GONE;
	const char *ip;
	long status = 0;
	int r, i;

	if ((r = lambda_get(p, &l, err)) < 0 || (r = need_key(l, err)) < 0)
		return r;
	dir = cloud_stage_dir(p->home, "lambda", token);
	if (!id || !*id) {
		if ((r = lambda_find(p, token, NULL, &found, err)) < 0)
			goto out;
		id = found;
	}
	if (id && (r = get_instance(l, id, &inst, err)) < 0)
		goto out;
	if (inst)
		lambda_instance_state(inst, &s, &ip);
	if (!inst || !strcmp(json_string_value(json_object_get(inst, "status")) ?
			     json_string_value(json_object_get(inst, "status")) : "",
			     "terminated")) {
		fs_remove_tree(dir, NULL);	/* gone: confirmed */
		goto out;
	}
	if (s != INSTANCE_GONE || strcmp(json_string_value(json_object_get(inst, "status")),
					 "terminating")) {
		body = json_pack("{s:[s]}", "instance_ids", id);
		if ((r = cloud_api_call(&l->api, "POST", "/instance-operations/terminate", body, 0,
					&status, &reply, err)) < 0)
			goto out;
		if (status == 404 || (status == 400 && !strcmp(cloud_error_code(reply),
							"global/object-does-not-exist"))) {
			fs_remove_tree(dir, NULL);
			goto out;
		}
		if (status / 100 != 2) {
			r = api_error("POST", "/instance-operations/terminate", status, reply, err);
			goto out;
		}
	}
	/* Termination takes a moment: look again for two seconds before
	 * leaving it to the next pass (the controller's loop waits meanwhile). */
	for (i = 0; i < 8; i++) {
		json_decref(inst);
		inst = NULL;
		time_sleep_ms(250);
		if ((r = get_instance(l, id, &inst, err)) < 0)
			goto out;
		if (!inst || !strcmp(json_string_value(json_object_get(inst, "status")) ?
				     json_string_value(json_object_get(inst, "status")) : "",
				     "terminated")) {
			fs_remove_tree(dir, NULL);
			goto out;
		}
	}
	r = error_set(err, FRUGAL_EBUSY, "Lambda instance %s is terminating", id);
out:
	json_decref(inst);
	json_decref(body);
	json_decref(reply);
	free(found);
	free(dir);
	return r;
}

/* boot_log: the tail of the agent's log on the machine (where the
 * bootstrap's boot check and an agent that cannot start write why), read
 * over the SSH connection the bootstrap used. */
static int lambda_boot_log(struct provider *p, const char *token, const char *id, size_t max,
			   struct strbuf *out, struct error *err)
{
	struct lambda *l;
	json_t *inst = NULL;
	enum instance_state s = INSTANCE_GONE;
	const char *ip = NULL;
	struct strbuf cmd = STRBUF_INIT;
	struct ssh_target t;
	char *dir = NULL, *kh = NULL, *idcopy = NULL;
	int r, status = 0;

	if ((r = lambda_get(p, &l, err)) < 0 || (r = need_key(l, err)) < 0)
		return r;
	if (!id || !*id)
		return error_set(err, FRUGAL_ENOTFOUND, "no instance for %s", token);
	if ((r = get_instance(l, id, &inst, err)) < 0)
		goto out;
	if (inst)
		lambda_instance_state(inst, &s, &ip);
	if (!inst || !ip) {
		r = error_set(err, FRUGAL_ENOTFOUND, "instance %s is not up", id);
		goto out;
	}
	dir = cloud_stage_dir(p->home, "lambda", token);
	kh = fs_path_join(dir, "known_hosts");
	idcopy = xstrdup(id);
	target_of(l, ip, idcopy, kh, &t);
	strbuf_addf(&cmd, "tail -c %zu %s/", max, CLOUD_REMOTE_BASE);
	strbuf_add_shell_quoted(&cmd, token);
	strbuf_adds(&cmd, "/agent.log");
	if ((r = ssh_run(&t, cmd.buf, NULL, 0, NULL, out, &status, err)) == 0 && status != 0)
		r = error_set(err, FRUGAL_ENOTFOUND, "no agent.log on instance %s", id);
out:
	json_decref(inst);
	strbuf_release(&cmd);
	free(dir);
	free(kh);
	free(idcopy);
	return r;
}

/* Tokens of the instances named frugal-TAG-* (for gc). */
static int lambda_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct lambda *l;
	json_t *reply = NULL, *inst;
	size_t i;
	int r;

	if ((r = lambda_get(p, &l, err)) < 0 || (r = need_key(l, err)) < 0 ||
	    (r = api_get(l, "/instances", &reply, err)) < 0)
		return r;
	json_array_foreach(json_object_get(reply, "data"), i, inst) {
		const char *tok = cloud_token_of(l->tag, json_string_value(
							 json_object_get(inst, "name")));
		const char *s = json_string_value(json_object_get(inst, "status"));
		char what[160];

		if (!tok || (s && !strcmp(s, "terminated")) || kvlist_get(ret, tok))
			continue;
		snprintf(what, sizeof(what), "lambda instance %s (%s)",
			 json_string_value(json_object_get(inst, "id")) ?
			 json_string_value(json_object_get(inst, "id")) : "?", s ? s : "?");
		kvlist_set(ret, tok, what);
	}
	json_decref(reply);
	return 0;
}

const struct provider_ops lambda_provider_ops = {
	.name = "lambda",
	.plan = lambda_plan,
	.reserve = provider_reserve_none,
	.launch = lambda_launch,
	.find = lambda_find,
	.describe = lambda_describe,
	.stop = lambda_stop,
	.notice = lambda_notice,
	.terminate = lambda_terminate,
	.list = lambda_list,
	.boot_log = lambda_boot_log,
	.free = lambda_free,
};

/* ---- probe (backend.h) ------------------------------------------------------------- */

/* `frugal backends lambda`: GET /instance-types with the key it would use. */
int lambda_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		 struct error *err)
{
	struct provider p = { .ops = &lambda_provider_ops, .config = cfg, .home = (char *)home };
	struct lambda *l;
	json_t *reply = NULL;
	int r;

	if ((r = lambda_get(&p, &l, err)) < 0)
		return r;
	l->api.max_tries = 2;
	if ((r = need_key(l, err)) == 0 && (r = api_get(l, "/instance-types", &reply, err)) == 0) {
		size_t n = json_object_size(json_object_get(reply, "data"));

		snprintf(ret->scope, sizeof(ret->scope), "%s", l->api.base_url);
		snprintf(ret->detail, sizeof(ret->detail), "GET /instance-types: %zu instance type%s",
			 n, n == 1 ? "" : "s");
	}
	json_decref(reply);
	lambda_free(&p);
	return r;
}
