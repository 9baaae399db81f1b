/*
 * runpod: the Runpod backend. Pods are containers on Runpod's machines,
 * on demand (REST API v2 has no interruptible pods). The API version is
 * one module (api.h: v2.c); this file is the version-independent part.
 *
 *   plan       the catalog's Runpod offers (a region is a country, a zone
 *              a data center), best first, on demand only, restricted to
 *              the network volume's data center; blocked locations
 *              (capacity errors, preemptions) and data centers Runpod's
 *              live GPU catalog shows no stock in skipped. The plan's
 *              price is the GPU catalog's current list price (per GPU, of
 *              the cloud type, times the count; price source
 *              "runpod-gpu-catalog"), the price table's when the catalog
 *              gives none. A create can
 *              still be refused for capacity: FRUGAL_ECAPACITY blocks that
 *              data center and the controller plans again.
 *   launch     find by name first, then create a pod named frugal-TAG-TOKEN
 *              with the GPU type and count, cloud type, data center,
 *              the image, the network volume at
 *              volume_mount (/workspace: the agent's file:// storage), and
 *              an environment holding the secrets (never the image, never
 *              a log), agent.json, tags (FRUGAL_JOB, FRUGAL_ATTEMPT,
 *              FRUGAL_OWNER) and PUBLIC_KEY; its start command waits for
 *              the upload, then execs the agent (PID 1: Runpod's SIGTERM
 *              reaches it and is the preemption notice). 429/5xx/no answer
 *              -> look the name up, then retry.
 *   describe   the pod: RUNNING with an IP and SSH port -> upload the
 *              workdir and frugal over SSH once (the start command then
 *              runs the agent), then RUNNING with status and log mirrored;
 *              EXITED/TERMINATED/unknown -> GONE, and an attempt whose agent
 *              had started and left no final status is recorded as
 *              preempted (a pod that disappears is recovered elsewhere).
 *   stop       SIGINT to the agent over SSH (SIGTERM would be a notice).
 *   terminate  delete the pod; confirmed once the API no longer has it.
 *   list       the pods named frugal-TAG-*.
 *
 * Settings, backends.runpod: api_key_file, base_url, api_version (v2),
 * image, network_volume_id, volume_mount (/workspace), container_disk
 * (50), ssh_public_key (~/.ssh/id_ed25519.pub), ssh_key, ssh_command,
 * start_sshd (true), shared_storage (false), request_interval (0.1), sync_interval (5),
 * boot_timeout (1200), release_wait (600), notice_window (5). The key:
 * RUNPOD_API_KEY, else api_key_file, else ~/.runpod/config.toml.
 */
#include "backend/runpod/api.h"
#include "backend/backend.h"
#include "backend/common/agentbin.h"
#include "backend/common/cloud.h"
#include "backend/common/hometag.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "util/http.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_SYNCS 64
#define DEFAULT_IMAGE "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04"

struct runpod {
	struct cloud_api api;
	const struct runpod_api_ops *v;
	int have_key;
	char *tag;
	const char *image, *volume_id, *volume_mount, *ssh_command;
	char *ssh_key, *public_key;
	int container_disk, start_sshd, shared_storage;
	double sync_interval, boot_timeout, release_wait, notice_window;
	char *volume_dc;		/* of volume_id, looked up once */
	struct storage *ctl;
	struct cloud_sync_mark syncs[MAX_SYNCS];
};

/*
 * The start command: it holds no secret (they are in the environment).
 * A pod whose container exits is started again by Runpod, GPU billing:
 * so the command never idles. When the attempt has run here already (a
 * restarted container), when the agent cannot run on this machine, or
 * when nothing came to start it with, it deletes its own pod
 * (FRUGAL_END_URL + RUNPOD_POD_ID, with the pod-scoped RUNPOD_API_KEY
 * read from a 0600 file by curl, or from the environment by python3:
 * never on a command line); failing that it exits, and the controller's
 * boot deadline ends the pod.
 */
static const char start_script[] =
	"set -u\n"
	"umask 077\n"
	"d=\"$HOME/.frugal-agent/$FRUGAL_TOKEN\"\n"
	"mkdir -p \"$d\" && cd \"$d\" || exit 1\n"
	"end_pod() {\n"
	"  echo \"frugal: $1: deleting this pod\" >&2\n"
	"  u=\"${FRUGAL_END_URL:-}${RUNPOD_POD_ID:-}\"\n"
	"  if [ -n \"${FRUGAL_END_URL:-}\" ] && [ -n \"${RUNPOD_POD_ID:-}\" ] &&"
	" [ -n \"${RUNPOD_API_KEY:-}\" ]; then\n"
	"    printf 'Authorization: Bearer %s\\n' \"$RUNPOD_API_KEY\" > \"$d/.auth\"\n"
	"    for k in 1 2 3 4 5 6; do\n"
	"      if command -v curl >/dev/null 2>&1; then\n"
	"        curl -fsS -X DELETE -H @\"$d/.auth\" \"$u\" >/dev/null && exit 0\n"
	"      elif command -v python3 >/dev/null 2>&1; then\n"
	"        FRUGAL_U=\"$u\" python3 -c 'import os,urllib.request as r;"
	" r.urlopen(r.Request(os.environ[\"FRUGAL_U\"], method=\"DELETE\", headers={"
	"\"Authorization\": \"Bearer \" + os.environ[\"RUNPOD_API_KEY\"]}), timeout=30)'"
	" && exit 0\n"
	"      fi\n"
	"      sleep 5\n"
	"    done\n"
	"  fi\n"
	"  echo 'frugal: cannot delete this pod from inside: the controller ends it' >&2\n"
	"  exit 1\n"
	"}\n"
	/* One run per attempt, even if the container is started again. */
	"[ -f agent.pid ] && end_pod \"attempt $FRUGAL_TOKEN has run here already\"\n"
	"if [ -n \"${FRUGAL_VOLUME:-}\" ]; then\n"
	"  m=\"$FRUGAL_VOLUME/frugal/.started\"; mkdir -p \"$m\"\n"
	"  if ! mkdir \"$m/$FRUGAL_TOKEN\" 2>/dev/null; then\n"
	"    end_pod \"attempt $FRUGAL_TOKEN has run here already\"\n"
	"  fi\n"
	"fi\n"
	"printf '%s' \"$FRUGAL_AGENT_JSON\" > agent.json\n"
	"printf '%s' \"$FRUGAL_SELF_JSON\" > self.json\n"
	"if [ \"${FRUGAL_START_SSHD:-1}\" = 1 ] && [ -n \"${PUBLIC_KEY:-}\" ]; then\n"
	"  mkdir -p \"$HOME/.ssh\" && chmod 700 \"$HOME/.ssh\"\n"
	"  printf '%s\\n' \"$PUBLIC_KEY\" >> \"$HOME/.ssh/authorized_keys\"\n"
	"  chmod 600 \"$HOME/.ssh/authorized_keys\"\n"
	"  (ssh-keygen -A; mkdir -p /run/sshd; /usr/sbin/sshd || service ssh start)"
	" >/dev/null 2>&1\n"
	"fi\n"
	"i=0\n"
	"while [ ! -f ready ]; do\n"
	"  i=$((i + 1))\n"
	"  if [ \"$i\" -gt \"${FRUGAL_BOOT_WAIT:-1200}\" ]; then\n"
	"    end_pod 'nothing was uploaded to start the agent with'\n"
	"  fi\n"
	"  sleep 1\n"
	"done\n"
	"unset FRUGAL_AGENT_JSON FRUGAL_SELF_JSON\n"
"if ! frugal_agent_check ./bin/frugal \"$FRUGAL_ARCH\"; then\n"
	"  echo \"frugal: $frugal_reason\" > boot.log\n"
	"  end_pod \"$frugal_reason\"\n"
	"fi\n"
	"echo $$ > agent.pid\n"
	"exec ./bin/frugal agent --instance-dir \"$d\"\n";

/* Runpod's pods are x86_64 machines. */
#define RUNPOD_ARCH AGENTBIN_X86_64

/* ---- settings ------------------------------------------------------------------ */

static const char *cfg(const struct provider *p, const char *key)
{
	return cloud_cfg(p->config, "runpod", key);
}

/* The API key: RUNPOD_API_KEY, api_key_file, ~/.runpod/config.toml. */
static char *read_key(const struct provider *p)
{
	struct strbuf sb = STRBUF_INIT;
	char *path, *key = NULL;

	if (getenv("RUNPOD_API_KEY") && *getenv("RUNPOD_API_KEY"))
		return xstrdup(getenv("RUNPOD_API_KEY"));
	path = cloud_expand_home(cfg(p, "api_key_file") ? cfg(p, "api_key_file")
							 : "~/.runpod/config.toml");
	if (path && fs_read_file(path, 64 << 10, &sb, NULL) == 0)
		key = runpod_key_from_toml(sb.buf);
	secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	free(path);
	return key;
}

/* Free the backend's state (the key is wiped). */
static void runpod_free(struct provider *p)
{
	struct runpod *rp = p->priv;

	if (!rp)
		return;
	cloud_api_release(&rp->api);
	free(rp->tag);
	free(rp->ssh_key);
	free(rp->public_key);
	free(rp->volume_dc);
	storage_free(rp->ctl);
	free(rp);
	p->priv = NULL;
}

/* 1 for a setting written false/no/0. */
static int is_false(const char *v)
{
	return v && (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0"));
}

/* The backend's settings, read once. */
static int runpod_get(struct provider *p, struct runpod **ret, struct error *err)
{
	struct runpod *rp;
	struct strbuf pub = STRBUF_INIT;
	double req_iv, disk;
	char *key, *pubpath;
	int r;

	if (p->priv) {
		*ret = p->priv;
		return 0;
	}
	rp = xcalloc(1, sizeof(*rp));
	rp->v = runpod_api_for(cfg(p, "api_version"));
	if (!rp->v) {
		free(rp);
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.runpod.api_version: '%s'"
				 " is not supported (this frugal speaks v2; Runpod retired"
				 " v1 on December 1, 2026)", cfg(p, "api_version"));
	}
	if ((r = cloud_cfg_seconds(p->config, "runpod", "request_interval", 0.1, &req_iv,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "runpod", "sync_interval", 5, &rp->sync_interval,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "runpod", "boot_timeout", 1200, &rp->boot_timeout,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "runpod", "release_wait", 600, &rp->release_wait,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "runpod", "notice_window", 5, &rp->notice_window,
				   err)) < 0 ||
	    (r = cloud_cfg_seconds(p->config, "runpod", "container_disk", 50, &disk, err)) < 0) {
		free(rp);
		return r;
	}
	key = read_key(p);
	rp->have_key = key != NULL;
	cloud_api_init(&rp->api, "Runpod", cfg(p, "base_url") ? cfg(p, "base_url")
							     : rp->v->default_url, key);
	if (key) {
		secure_free(key);
	}
	rp->api.min_interval_ms = (int64_t)(req_iv * 1000);
	rp->tag = home_tag(p->home);
	rp->image = cfg(p, "image") ? cfg(p, "image") : DEFAULT_IMAGE;
	rp->volume_id = cfg(p, "network_volume_id");
	rp->volume_mount = cfg(p, "volume_mount") ? cfg(p, "volume_mount") : "/workspace";
	rp->ssh_command = cfg(p, "ssh_command");
	rp->ssh_key = cfg(p, "ssh_key") ? cloud_expand_home(cfg(p, "ssh_key")) : NULL;
	rp->container_disk = (int)disk;
	rp->start_sshd = !is_false(cfg(p, "start_sshd"));
	rp->shared_storage = cfg(p, "shared_storage") && !is_false(cfg(p, "shared_storage"));
	pubpath = cloud_expand_home(cfg(p, "ssh_public_key") ? cfg(p, "ssh_public_key")
							     : "~/.ssh/id_ed25519.pub");
	if (pubpath && fs_read_file(pubpath, 16 << 10, &pub, NULL) == 0) {
		strbuf_rtrim(&pub);
		rp->public_key = strbuf_detach(&pub, NULL);
	}
	strbuf_release(&pub);
	free(pubpath);
	p->priv = rp;
	*ret = rp;
	return 0;
}

/* FRUGAL_EINVAL, saying where to put it, when there is no API key. */
static int need_key(const struct runpod *rp, struct error *err)
{
	if (rp->have_key)
		return 0;
	return error_set(err, FRUGAL_EINVAL, "no Runpod API key: set RUNPOD_API_KEY or run"
			 " 'runpodctl config --apiKey KEY' (~/.runpod/config.toml)");
}

/* The network volume's data center, once. */
static int volume_info(struct runpod *rp, struct error *err)
{
	if (!rp->volume_id || rp->volume_dc)
		return 0;
	return rp->v->volume_dc(&rp->api, rp->volume_id, &rp->volume_dc, err);
}

/* The task's network volume (volumes: {PATH: VOLUME_ID}, a bare name),
 * its index in the task's list in *ret_i; NULL: none. */
static const struct volume *task_volume(const struct task *t, size_t *ret_i)
{
	size_t i;

	for (i = 0; i < t->volumes.n; i++)
		if (!strcmp(t->volumes.items[i].kind, VOLUME_KIND_NAME)) {
			*ret_i = i;
			return &t->volumes.items[i];
		}
	return NULL;
}

/* ---- plan ------------------------------------------------------------------------ */

/* FRUGAL_ENOTSUP for a task key this backend cannot honour. */
static int refuse(struct error *err, const char *key, const char *why)
{
	return error_set(err, FRUGAL_ENOTSUP, "'%s' is not supported by backend runpod%s%s", key,
			 why ? ": " : "", why ? why : "");
}

/* "SECURE" or "COMMUNITY" from a catalog instance type "1x_A40_SECURE". */
static const char *cloud_type_of(const char *type)
{
	return strstr(type, "_COMMUNITY") ? "COMMUNITY" : "SECURE";
}

/* plan: see the top of this file. */
/* resources.ports: every port an HTTP port of the proxy, 10 at most. */
static int ports_fit(const struct task *t, struct error *err)
{
	size_t i, n = 0;

	for (i = 0; i < t->res.n_ports; i++) {
		if (t->res.ports[i].from <= 22 && t->res.ports[i].to >= 22)
			return error_set(err, FRUGAL_ENOTSUP, "'resources.ports' has 22: on "
					 "Runpod it is the pod's SSH port; serve on another port");
		n += (size_t)(t->res.ports[i].to - t->res.ports[i].from + 1);
	}
	if (n > RUNPOD_HTTP_PORTS_MAX)
		return error_set(err, FRUGAL_ENOTSUP, "'resources.ports' has %zu ports; Runpod "
				 "exposes %d HTTP ports of a pod at most: list fewer", n,
				 RUNPOD_HTTP_PORTS_MAX);
	return 0;
}

static int runpod_plan(struct provider *p, const struct plan_request *req, struct plan *ret,
		       struct error *err)
{
	const struct task *t = req->task;
	struct runpod *rp;
	struct catalog *cat = NULL;
	struct candidate_list cl = CANDIDATE_LIST_INIT;
	struct resources res;
	struct plan pl = { 0 };
	struct runpod_stock stock = RUNPOD_STOCK_INIT;
	const char *level;
	const struct volume *tv;
	char *tv_dc = NULL;
	double live;
	size_t i, n_none = 0, n_over = 0, tv_i = 0;
	int r;

	if ((r = runpod_get(p, &rp, err)) < 0)
		return r;
	if (t->res.cloud && strcmp(t->res.cloud, "runpod"))
		return error_set(err, FRUGAL_EINVAL, "resources.cloud is '%s' but the backend is"
				 " runpod", t->res.cloud);
	if (t->res.accel_mode == ACCEL_NONE)
		return refuse(err, "a task without accelerators", "Runpod's GPU pods need one");
	if ((r = ports_fit(t, err)) < 0)
		return r;
	if (mount_list_find_local(&t->file_mounts) && (!p->config || !p->config->storage_url ||
						       !strncmp(p->config->storage_url, "file:", 5)))
		return error_set(err, FRUGAL_ENOTSUP, "file_mounts.%s: a local source is uploaded to "
				 "the storage, which %s machines cannot read when it is file://: set "
				 "storage: to an s3:// or gs:// URL in config.yaml, or give a bucket URL",
				 mount_list_find_local(&t->file_mounts)->dst, "runpod");
	if ((r = need_key(rp, err)) < 0 || (r = volume_info(rp, err)) < 0)
		return r;
	if (t->res.spot == SPOT_SPOT)
		return refuse(err, "use_spot: true", "Runpod's REST API v2 creates on-demand pods"
			      " only (use spot_policy: auto or on-demand)");
	res = t->res;
	res.spot = SPOT_ON_DEMAND;
	if ((tv = task_volume(t, &tv_i))) {
		/* A pod has one network volume, and is in its data center. */
		if (t->volumes.n > 1)
			return error_set(err, FRUGAL_EINVAL, "volumes: a Runpod pod has one network "
					 "volume; give one");
		if (rp->volume_id)
			return error_set(err, FRUGAL_EINVAL, "volumes.%s: a Runpod pod has one "
					 "network volume, and backends.runpod.network_volume_id (%s) "
					 "is set; remove one of them", tv->dst, rp->volume_id);
		if ((r = rp->v->volume_dc(&rp->api, tv->ref, &tv_dc, err)) < 0) {
			error_prefix(err, "volumes.%s", tv->dst);
			return r;
		}
		if (t->res.zone && strcmp(t->res.zone, tv_dc)) {
			r = error_set(err, FRUGAL_EINVAL, "resources.zone is %s but network volume"
				      " %s is in %s", t->res.zone, tv->ref, tv_dc);
			free(tv_dc);
			return r;
		}
		res.zone = tv_dc;
	}
	if (rp->volume_dc) {
		if (t->res.zone && strcmp(t->res.zone, rp->volume_dc))
			return error_set(err, FRUGAL_EINVAL, "resources.zone is %s but network volume"
					 " %s is in %s", t->res.zone, rp->volume_id, rp->volume_dc);
		res.zone = rp->volume_dc;
	}
	if ((r = cloud_candidates(p, (enum backend_id)backend_id_from_name("runpod"), t, &res,
				  req->blocked, &cat, &cl, err)) < 0)
		return r;
	for (i = 0; i < cl.n; i++) {
		const struct offer *o = cl.items[i].offer;
		const char *gpu = runpod_gpu_type_id(o->accel);

		if (!gpu)
			continue;	/* a GPU frugal cannot name to the API */
		level = runpod_stock_level(&rp->api, rp->v, &stock, gpu, (int)ceil(o->accel_count),
					   cloud_type_of(o->instance_type), *o->zone ? o->zone : NULL);
		if (level && !strcmp(level, "NONE")) {
			n_none++;	/* Runpod's catalog: none there now */
			continue;
		}
		/* The GPU catalog's list price is the current one; the price
		 * table's may be old. Over max_price now: not this one. */
		live = runpod_stock_price(&stock, (int)ceil(o->accel_count));
		if (live > 0 && t->res.max_price > 0 && live > t->res.max_price) {
			n_over++;
			continue;
		}
		pl.backend = xstrdup("runpod");
		pl.region = xstrdup(o->region);
		pl.zone = xstrdup(*o->zone ? o->zone : "-");
		pl.instance_type = xstrdup(o->instance_type);
		pl.accelerator = xstrdup(o->accel);
		pl.gpus = (int)ceil(o->accel_count);
		pl.spot = cl.items[i].spot;
		pl.price_per_hour = live > 0 ? live : cl.items[i].price;
		pl.price_source = live > 0 ? xstrdup(RUNPOD_PRICE_SOURCE) : NULL;
		pl.capacity = level ? xasprintf("Runpod's catalog: %s stock", level)
				    : xstrdup("catalog not readable; capacity is known at create");
		break;
	}
	if (!pl.backend && n_over && !n_none) {
		r = error_set(err, FRUGAL_EINVAL, "Runpod's GPU catalog prices every offer that"
			      " fits above resources.max_price $%.2f/h now (%zu of them)",
			      t->res.max_price, n_over);
		goto out;
	}
	if (!pl.backend && n_none) {
		r = error_set(err, FRUGAL_ECAPACITY, "Runpod's GPU catalog shows no stock now in"
			      " any of the %zu data centers that fit; waiting", n_none);
		goto out;
	}
	if (!pl.backend) {
		r = error_set(err, FRUGAL_EINVAL, "none of the %zu Runpod offers that fit has a GPU"
			      " type frugal knows the API name of", cl.n);
		goto out;
	}
	*ret = pl;
out:
	runpod_stock_release(&stock);
	candidate_list_release(&cl);
	catalog_free(cat);
	free(tv_dc);
	return r;
}

/* ---- find, launch -------------------------------------------------------------------- */

/* The pod named for token that is not terminated, into *ret (found: 1). */
static int find_pod(struct runpod *rp, const char *token, struct runpod_pod *ret, int *found,
		    struct error *err)
{
	struct runpod_pod *pods = NULL;
	char *name = cloud_name(rp->tag, token);
	size_t n = 0, i;
	int r;

	*found = 0;
	r = rp->v->list(&rp->api, name, &pods, &n, err);
	for (i = 0; r == 0 && i < n; i++) {
		if (!*found && strcmp(pods[i].status, "TERMINATED")) {
			*ret = pods[i];
			memset(&pods[i], 0, sizeof(pods[i]));
			*found = 1;
		}
		runpod_pod_release(&pods[i]);
	}
	free(pods);
	free(name);
	return r;
}

/* The id of the pod named for token, not terminated. */
static int runpod_find(struct provider *p, const char *token, const struct plan *where,
		       char **ret_id, struct error *err)
{
	struct runpod *rp;
	struct runpod_pod pod;
	int found, r;

	*ret_id = NULL;
	if ((r = runpod_get(p, &rp, err)) < 0 || (r = need_key(rp, err)) < 0 ||
	    (r = find_pod(rp, token, &pod, &found, err)) < 0)
		return r;
	if (found) {
		*ret_id = xstrdup(pod.id);
		runpod_pod_release(&pod);
	}
	return 0;
}

/* The pod's environment: secrets, agent.json, tags and boot settings. */
static void pod_env(const struct runpod *rp, const struct launch_request *req,
		    const char *agent_json, const char *self_json, struct kvlist *env)
{
	char num[32];
	size_t i;

	for (i = 0; req->secrets && i < req->secrets->n; i++)
		if (req->secrets->items[i].value)
			kvlist_set(env, req->secrets->items[i].key, req->secrets->items[i].value);
	kvlist_set(env, "FRUGAL_TOKEN", req->token);
	kvlist_set(env, "FRUGAL_JOB", req->job_id);
	snprintf(num, sizeof(num), "%d", req->attempt);
	kvlist_set(env, "FRUGAL_ATTEMPT", num);
	kvlist_set(env, "FRUGAL_OWNER", rp->tag);
	kvlist_set(env, "FRUGAL_AGENT_JSON", agent_json);
	kvlist_set(env, "FRUGAL_SELF_JSON", self_json);
	snprintf(num, sizeof(num), "%lld", (long long)rp->notice_window);
	kvlist_set(env, "FRUGAL_SIGTERM_NOTICE_WINDOW", num);
	snprintf(num, sizeof(num), "%lld", (long long)rp->boot_timeout);
	kvlist_set(env, "FRUGAL_BOOT_WAIT", num);
	kvlist_set(env, "FRUGAL_START_SSHD", rp->start_sshd ? "1" : "0");
	{
		char *end = xasprintf("%s%s", rp->api.base_url, rp->v->self_path);

		kvlist_set(env, "FRUGAL_END_URL", end);
		free(end);
	}
	if (rp->volume_id)
		kvlist_set(env, "FRUGAL_VOLUME", rp->volume_mount);
	if (rp->public_key)
		kvlist_set(env, "PUBLIC_KEY", rp->public_key);
}

/* self.json for the agent's dead-man switch: delete its own pod. */
static char *self_json(const struct runpod *rp)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "api_url", rp->api.base_url,
			      "method", rp->v->self_method, "path", rp->v->self_path, "path_env",
			      "RUNPOD_POD_ID", "key_env", "RUNPOD_API_KEY", "release_wait",
			      (json_int_t)rp->release_wait);
	char *text = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return text;
}

/* launch: find by name, stage, create (retried safely). */
static int runpod_launch(struct provider *p, const struct launch_request *req, char **ret_id,
			 struct error *err)
{
	struct runpod *rp;
	struct runpod_create c;
	struct runpod_pod pod = { 0 };
	struct kvlist env = { 0 };
	char *storage = NULL, *outputs = NULL, *root = NULL, *json = NULL, *self = NULL;
	char *name = NULL, *dir = NULL, *id = NULL, *idpath = NULL, *bin = NULL;
	struct strbuf start = STRBUF_INIT;
	const struct volume *tv;
	char *tv_path = NULL;
	size_t tv_i = 0;
	const char *gpu;
	int64_t pause = 2000;
	int r, i;

	if ((r = runpod_get(p, &rp, err)) < 0 || (r = need_key(rp, err)) < 0)
		return launch_failed_early(req, r);
	/* Where: the plan the ledger recorded. */
	if (!req->plan || !req->plan->instance_type || !req->plan->zone ||
	    !(gpu = runpod_gpu_type_id(req->plan->accelerator)))
		return launch_failed_early(req, error_set(err, FRUGAL_EINVAL, "launch of %s"
							  " without a Runpod plan", req->token));
	/* Idempotent: a pod already made under this token is adopted. */
	if ((r = runpod_find(p, req->token, req->plan, &id, err)) < 0)
		return launch_failed_early(req, r);
	if (id) {
		*ret_id = id;
		return 0;
	}
	name = cloud_name(rp->tag, req->token);
	dir = cloud_stage_dir(p->home, "runpod", req->token);
	if ((r = cloud_storage_plan(req, rp->volume_id ? rp->volume_mount : NULL,
				    rp->shared_storage, "runpod",
				    &storage, &outputs, &root, err)) < 0 ||
	    (r = cloud_agent_json(req, "runpod", storage, outputs, &json, err)) < 0 ||
	    (r = cloud_stage_write(dir, p->home, json, NULL, err)) < 0 ||
	    (r = cloud_stage_mirror_info(dir, root, outputs, err)) < 0 ||
	    (r = agentbin_find(RUNPOD_ARCH, p->self_exe, cfg(p, "agent_dist"), "runpod",
			       req->plan->instance_type, &bin, err)) < 0 ||
	    (r = cloud_pack(dir, req->task->workdir, bin, err)) < 0) {
		launch_failed_early(req, r);	/* the stage goes below */
		goto out;
	}
	self = self_json(rp);
	pod_env(rp, req, json, self, &env);
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.image = req->task->res.image_id ? req->task->res.image_id : rp->image;
	if (!strncmp(c.image, "docker:", 7))
		c.image += 7;	/* SkyPilot's spelling */
	c.gpu_type_id = gpu;
	c.gpu_count = req->plan->gpus > 0 ? req->plan->gpus : 1;
	c.cloud_type = cloud_type_of(req->plan->instance_type);
	c.data_center = strcmp(req->plan->zone, ZONE_NONE) ? req->plan->zone : NULL;
	c.env = &env;
	c.network_volume_id = rp->volume_id;
	c.volume_mount_path = rp->volume_id ? rp->volume_mount : NULL;
	if ((tv = task_volume(req->task, &tv_i))) {
		/* The task's: where the agent links it from (agent/volumes.h). */
		tv_path = xasprintf("%s/%zu", PROVIDER_VOLUME_ROOT, tv_i);
		c.network_volume_id = tv->ref;
		c.volume_mount_path = tv_path;
	}
	c.container_disk_gb = req->task->res.disk_size > 0 ? req->task->res.disk_size
							   : rp->container_disk;
	agentbin_boot_check(&start);
	strbuf_addf(&start, "FRUGAL_ARCH=%s\n%s", RUNPOD_ARCH, start_script);
	c.start_script = start.buf;
	c.ports = req->task->res.ports;
	c.n_ports = req->task->res.n_ports;
	for (i = 0; i < 6; i++) {
		r = rp->v->create(&rp->api, &c, &pod, err);
		if (r == 0) {
			id = xstrdup(pod.id);
			break;
		}
		if (r != FRUGAL_ENET)
			goto out;
		/* No answer, 429 or 5xx: it may exist all the same. */
		if ((r = runpod_find(p, req->token, req->plan, &id, err)) == 0 && id)
			break;
		time_sleep_ms(pause);
		pause *= 2;
	}
	if (!id) {
		r = error_set(err, FRUGAL_ENET, "Runpod API: create did not succeed after %d tries",
			      i);
		goto out;
	}
	idpath = fs_path_join(dir, "pod-id");
	fs_write_atomic(idpath, id, strlen(id), 0600, 1, NULL);
	*ret_id = id;
	id = NULL;
	r = 0;
out:
	if (r < 0 && dir)
		fs_remove_tree(dir, NULL);
	kvlist_release(&env);
	runpod_pod_release(&pod);
	free(storage);
	free(outputs);
	free(root);
	free(json);
	free(self);
	free(name);
	free(dir);
	free(id);
	free(idpath);
	free(bin);
	free(tv_path);
	strbuf_release(&start);
	return r;
}

/* ---- describe, over SSH ------------------------------------------------------------------ */

/* The SSH target of a running pod; strings point into pod. */
static void target_of(const struct runpod *rp, const struct runpod_pod *pod,
		      const char *known_hosts, struct ssh_target *ret)
{
	struct ssh_target t = SSH_TARGET_INIT;

	t.command = rp->ssh_command;
	t.user = "root";
	t.host = pod->ip;
	t.port = pod->ssh_port;
	t.identity = rp->ssh_key;
	t.known_hosts = known_hosts;
	t.alias = pod->id;
	t.timeout_s = 300;
	*ret = t;
}

/* The upload's exit status when the pod's boot check refuses. */
#define BOOT_CHECK_STATUS 3

/* Upload the workdir and frugal; the start command then runs the agent.
 * The pod's architecture and that the agent starts are checked first,
 * over the same connection: when they fail, *ret_refused is set, err
 * holds the reason and `ready` is not made (trying again cannot help). */
static int upload(const struct ssh_target *t, const char *token, const char *dir,
		  int *ret_refused, struct error *err)
{
	struct strbuf cmd = STRBUF_INIT, out = STRBUF_INIT;
	char *tar = fs_path_join(dir, "upload.tar"), *done = fs_path_join(dir, "bootstrapped");
	int r, status = 0;

	agentbin_boot_check(&cmd);
	strbuf_addf(&cmd, "d=%s/", CLOUD_REMOTE_BASE);
	strbuf_add_shell_quoted(&cmd, token);
	strbuf_addf(&cmd, "\nmkdir -p \"$d\" && tar -C \"$d\" -xf - || exit 1\n"
		    "if ! frugal_agent_check \"$d/bin/frugal\" %s; then\n"
		    "\techo \"frugal: $frugal_reason\" > \"$d/boot.log\"\n"
		    "\tcat \"$d/boot.log\"; exit %d\nfi\n"
		    "touch \"$d/ready\"\n", RUNPOD_ARCH, BOOT_CHECK_STATUS);
	r = ssh_run(t, cmd.buf, NULL, 0, tar, &out, &status, err);
	if (r == 0 && status == BOOT_CHECK_STATUS && !strncmp(out.buf, "frugal: ", 8)) {
		strbuf_rtrim(&out);
		r = error_set(err, FRUGAL_EINVAL, "%s", out.buf + 8);
		*ret_refused = 1;
	} else if (r == 0 && status != 0) {
		r = error_set(err, FRUGAL_EPROVIDER, "the upload exited with status %d%s%s", status,
			      error_msg(err)[0] ? ": " : "", error_msg(err));
	} else if (r == 0) {
		fs_write_atomic(done, "", 0, 0600, 1, NULL);
		unlink(tar);
	}
	strbuf_release(&out);
	strbuf_release(&cmd);
	free(tar);
	free(done);
	return r;
}

/* The pod of token: by id when given, else by name. */
static int lookup(struct runpod *rp, const char *token, const char *id, struct runpod_pod *ret,
		  int *found, struct error *err)
{
	if (id && *id)
		return rp->v->get(&rp->api, id, ret, found, err);
	return find_pod(rp, token, ret, found, err);
}

static int runpod_terminate(struct provider *p, const char *token, const char *id,
			    struct error *err);

/* The pod's boot check refused it (why): the attempt is recorded
 * launch_failed with the reason (the job's events have it), and the pod
 * is ended now rather than at the boot deadline. */
static int boot_refused(struct provider *p, struct runpod *rp, const char *token,
			const char *id, const char *why, enum instance_state *ret)
{
	struct storage *st = cloud_ctl_storage(p, &rp->ctl);
	struct error terr = ERROR_INIT;
	char job[128];
	int n;

	log_warn("runpod: %s: the boot check failed: %s; ending pod %s", token, why, id);
	if (!st || provider_token_split(token, job, sizeof(job), &n) < 0 ||
	    cloud_mark_boot_failed(st, job, n, why, &terr) < 0)
		log_warn("runpod: %s: cannot record the boot failure: %s", token,
			 terr.code ? error_msg(&terr) : "no storage");
	terr = (struct error)ERROR_INIT;
	if (runpod_terminate(p, token, id, &terr) < 0 && terr.code != FRUGAL_EBUSY)
		log_warn("runpod: %s: %s", token, error_msg(&terr));	/* teardown retries */
	*ret = INSTANCE_GONE;
	return 0;
}

/* describe: the pod's state; uploads and mirrors as it goes. */
static int runpod_describe(struct provider *p, const char *token, const char *id,
			   struct instance_view *view, struct error *err)
{
	enum instance_state *ret = &view->state;
	struct runpod *rp;
	struct runpod_pod pod = { 0 };
	struct ssh_target t;
	char *dir = NULL, *kh = NULL, *done = NULL;
	char job[128];
	int found = 0, n, r;

	if ((r = runpod_get(p, &rp, err)) < 0 || (r = need_key(rp, err)) < 0 ||
	    (r = lookup(rp, token, id, &pod, &found, err)) < 0)
		return r;
	*ret = found ? pod.state : INSTANCE_GONE;
	dir = cloud_stage_dir(p->home, "runpod", token);
	if (*ret == INSTANCE_GONE) {
		struct storage *st = cloud_ctl_storage(p, &rp->ctl);
		char why[160];

		snprintf(why, sizeof(why), "the machine disappeared: the Runpod pod is %s",
			 found ? pod.status : "gone");
		if (st && provider_token_split(token, job, sizeof(job), &n) == 0)
			cloud_mark_vanished(st, job, n, why, NULL);
		goto out;
	}
	if (*ret != INSTANCE_RUNNING)
		goto out;
	kh = fs_path_join(dir, "known_hosts");
	done = fs_path_join(dir, "bootstrapped");
	target_of(rp, &pod, kh, &t);
	if (!fs_exists(done)) {
		struct error uerr = ERROR_INIT;

		*ret = INSTANCE_PENDING;
		if (!fs_is_dir(dir))
			goto out;
		int refused = 0;

		if (upload(&t, token, dir, &refused, &uerr) < 0) {
			if (refused) {
				r = boot_refused(p, rp, token, pod.id, error_msg(&uerr), ret);
				goto out;
			}
			if (cloud_stage_age(dir) > (int64_t)rp->boot_timeout) {
				*ret = INSTANCE_GONE;
				r = error_set(err, FRUGAL_ETIMEOUT, "upload to %s: %s", token,
					      error_msg(&uerr));
			}
			goto out;
		}
		*ret = INSTANCE_RUNNING;
	}
	cloud_mirror_stage(&t, &rp->ctl, p, dir, token, rp->sync_interval, rp->syncs, MAX_SYNCS);
out:
	runpod_pod_release(&pod);
	free(dir);
	free(kh);
	free(done);
	return r;
}

/* SIGINT or a notice to the agent of token's pod over SSH. */
static int signal_agent(struct provider *p, const char *token, const char *id,
			int64_t deadline_ms, const char *reason, struct error *err)
{
	struct runpod *rp;
	struct runpod_pod pod = { 0 };
	struct ssh_target t;
	char *dir = NULL, *kh = NULL, *done = NULL;
	int found = 0, r;

	if ((r = runpod_get(p, &rp, err)) < 0 || (r = need_key(rp, err)) < 0 ||
	    (r = lookup(rp, token, id, &pod, &found, err)) < 0)
		return r;
	dir = cloud_stage_dir(p->home, "runpod", token);
	done = fs_path_join(dir, "bootstrapped");
	if (!found || pod.state != INSTANCE_RUNNING || !fs_exists(done)) {
		r = error_set(err, FRUGAL_ENOTFOUND, "the agent of %s is not running", token);
		goto out;
	}
	kh = fs_path_join(dir, "known_hosts");
	target_of(rp, &pod, kh, &t);
	r = cloud_signal_agent(&t, token, deadline_ms, reason, err);
out:
	runpod_pod_release(&pod);
	free(dir);
	free(kh);
	free(done);
	return r;
}

/* Cancel: SIGINT (on Runpod SIGTERM is the preemption notice). */
static int runpod_stop(struct provider *p, const char *token, const char *id,
		       struct error *err)
{
	int r = signal_agent(p, token, id, 0, NULL, err);

	return r == FRUGAL_ENOTFOUND ? 0 : r;
}

/* frugal debug preempt: notice.json + SIGUSR2 to the agent. */
static int runpod_notice(struct provider *p, const char *token, const char *id,
			 int64_t deadline_ms, const char *reason, struct error *err)
{
	return signal_agent(p, token, id, deadline_ms > 0 ? deadline_ms : 1, reason, err);
}

/* Delete the pod; 0 once the API no longer has it. */
static int runpod_terminate(struct provider *p, const char *token, const char *id,
			    struct error *err)
{
	struct runpod *rp;
	struct runpod_pod pod = { 0 };
	char *dir = NULL;
	int found = 0, r;

	if ((r = runpod_get(p, &rp, err)) < 0 || (r = need_key(rp, err)) < 0 ||
	    (r = lookup(rp, token, id, &pod, &found, err)) < 0)
		return r;
	dir = cloud_stage_dir(p->home, "runpod", token);
	if (found && strcmp(pod.status, "TERMINATED")) {
		char *pid = xstrdup(pod.id);

		r = rp->v->remove(&rp->api, pid, err);
		runpod_pod_release(&pod);
		if (r == 0)
			r = rp->v->get(&rp->api, pid, &pod, &found, err);
		free(pid);
		if (r < 0)
			goto out;
		if (found && strcmp(pod.status, "TERMINATED")) {
			r = error_set(err, FRUGAL_EBUSY, "Runpod pod %s is being deleted (%s)", pod.id,
				      pod.status);
			goto out;
		}
	}
	fs_remove_tree(dir, NULL);	/* gone: confirmed */
out:
	runpod_pod_release(&pod);
	free(dir);
	return r;
}

/* Tokens of the pods named frugal-TAG-* (for gc). */
static int runpod_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct runpod *rp;
	struct runpod_pod *pods = NULL;
	size_t n = 0, i;
	int r;

	if ((r = runpod_get(p, &rp, err)) < 0 || (r = need_key(rp, err)) < 0 ||
	    (r = rp->v->list(&rp->api, NULL, &pods, &n, err)) < 0)
		return r;
	for (i = 0; i < n; i++) {
		const char *tok = cloud_token_of(rp->tag, pods[i].name);
		char what[160];

		if (tok && strcmp(pods[i].status, "TERMINATED") && !kvlist_get(ret, tok)) {
			snprintf(what, sizeof(what), "runpod pod %s (%s)", pods[i].id, pods[i].status);
			kvlist_set(ret, tok, what);
		}
		runpod_pod_release(&pods[i]);
	}
	free(pods);
	return 0;
}

/* endpoints: each port behind Runpod's HTTP proxy,
 * https://POD-PORT.proxy.runpod.net (the pod id is the provider id). */
static int runpod_endpoints(struct provider *p, const char *token, const char *id,
			    const struct task *t, struct endpoint_list *ret, struct error *err)
{
	size_t i;

	if (!id || !*id)
		return error_set(err, FRUGAL_EBUSY, "%s has no pod yet", token);
	for (i = 0; i < t->res.n_ports; i++) {
		struct endpoint *e = endpoint_list_add(ret, t->res.ports[i].from,
						       t->res.ports[i].to);

		e->url_fmt = xasprintf("https://%s-%%P.proxy.runpod.net", id);
		e->note = xstrdup("Runpod's HTTP proxy: open the URL");
	}
	return 0;
}

const struct provider_ops runpod_provider_ops = {
	.name = "runpod",
	.plan = runpod_plan,
	.reserve = provider_reserve_none,
	.launch = runpod_launch,
	.find = runpod_find,
	.describe = runpod_describe,
	.stop = runpod_stop,
	.notice = runpod_notice,
	.terminate = runpod_terminate,
	.list = runpod_list,
	.free = runpod_free,
	.endpoints = runpod_endpoints,
};

/* ---- probe (backend.h) ------------------------------------------------------------- */

/* `frugal backends runpod`: GET /v2/catalog/gpus with the key it would use. */
int runpod_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		 struct error *err)
{
	struct provider p = { .ops = &runpod_provider_ops, .config = cfg, .home = (char *)home };
	struct runpod *rp;
	json_t *reply = NULL;
	long status = 0;
	int r;

	if ((r = runpod_get(&p, &rp, err)) < 0)
		return r;
	rp->api.max_tries = 2;
	if ((r = need_key(rp, err)) == 0 &&
	    (r = cloud_api_call(&rp->api, "GET", "/v2/catalog/gpus", NULL, 0, &status, &reply,
				err)) == 0) {
		if (status / 100 != 2) {
			r = error_set(err, FRUGAL_EPROVIDER, "Runpod API: GET /v2/catalog/gpus: HTTP %ld"
				      " %s", status, cloud_error_text(reply));
		} else {
			json_t *list = json_object_get(reply, "gpus");
			size_t n = json_array_size(list);

			snprintf(ret->scope, sizeof(ret->scope), "%s", rp->api.base_url);
			snprintf(ret->detail, sizeof(ret->detail), "GET /v2/catalog/gpus: %zu GPU "
				 "type%s", n, n == 1 ? "" : "s");
		}
	}
	json_decref(reply);
	runpod_free(&p);
	return r;
}
