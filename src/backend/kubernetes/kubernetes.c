/*
 * kubernetes: the backend that runs each attempt as a batch/v1 Job on a
 * Kubernetes cluster (docs/KUBERNETES.md: configuration, and what was
 * verified how).
 *
 * Storage is a PersistentVolumeClaim that both sides see: the controller
 * at its file:// storage_url, the pod at backends.kubernetes.pvc_mount_path.
 * launch writes the attempt's directory there (STORAGE/instances/TOKEN:
 * agent.json, a copy of the workdir in src/), stores the task's secrets
 * in a Secret, and creates the Job (k8s_job.h) whose container runs
 *
 *     FRUGAL_BIN agent --instance-dir MOUNT/instances/TOKEN
 *
 * so logs, status.json, checkpoints and outputs reach the controller
 * through the volume, as with every backend. The names are the ledger
 * token with a prefix (frugal-JOB-N): find() after a crash is a GET by
 * name, and a create that already happened answers 409 and is adopted.
 *
 * Preemption: an eviction, a drain or a spot node going away sends the
 * pod SIGTERM, terminationGracePeriodSeconds (recovery.notice_grace)
 * before SIGKILL; the agent takes that SIGTERM as its notice (agent/
 * notice.c, "sigterm"), stores a checkpoint and ends the attempt as
 * preempted. When the pod is gone before the agent could say so,
 * describe() still sees the DisruptionTarget condition (on the pod, or on
 * the Job through its podFailurePolicy) and records it as the attempt's
 * notice, so the controller counts a preemption, not an error.
 *
 * Teardown deletes the Job with propagationPolicy Foreground (the pod
 * first) and the Secret, and is confirmed once neither nor any pod of the
 * attempt is left. When the agent never reported (the image could not be
 * pulled, the binary is missing), the pod's own log (pods/NAME/log) is
 * appended to the attempt's log first, so `frugal logs` shows why.
 */
#include "backend/backend.h"
#include "backend/provider.h"
#include "backend/common/hometag.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/kubernetes/k8s_api.h"
#include "backend/kubernetes/k8s_client.h"
#include "backend/kubernetes/k8s_job.h"
#include "backend/kubernetes/k8s_settings.h"
#include "backend/kubernetes/kubeconfig.h"
#include "contract/key.h"
#include "contract/status.h"
#include "storage/storage.h"
#include "util/tree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE_MARGIN 600		/* s: activeDeadlineSeconds past max_runtime */
#define POD_LOG_MAX (64 * 1024)		/* bytes of a pod's log kept on failure */
#define QUOTA_BACKOFF_MS (60 * 1000)	/* new Jobs wait after a quota refusal */
#define SNAPSHOT_MS 1000		/* how long describe() reuses one listing */

struct kube {
	struct k8s_settings set;
	struct kubeconfig kc;
	struct k8s_ns api;		/* client, namespace, home tag */
	char *owner;			/* label value "user.host" */
	char *home_tag;			/* 8 hex digits of FRUGAL_HOME */
	char *storage_url;		/* the controller's storage */
	char *storage_root;		/* its path (file://), NULL otherwise */
	char *pod_storage_url;		/* the same storage as the pod sees it */
	struct storage *st;		/* opened for the pod-log fallback */
	int64_t quota_since, quota_until;	/* ms: a ResourceQuota refused a Job */
	/* One listing of this home's Jobs and pods, shared by the describes
	 * of a controller pass (two requests a second, however many jobs). */
	json_t *snap_jobs, *snap_pods;
	int64_t snap_at;		/* time_mono_ms(); 0: none */
};

/* What an attempt of a task asks of the cluster. */
struct kreq {
	int spot;
	const char *accel;		/* NULL: no GPU */
	const char *gpu_value;		/* node label value; NULL: any GPU */
	int gpus;
	double price;
	const char *image;
};

/* ---- the backend's state ---------------------------------------------------------- */

/* Forget the listing: the next describe() lists again. */
static void snapshot_drop(struct kube *k)
{
	json_decref(k->snap_jobs);
	json_decref(k->snap_pods);
	k->snap_jobs = k->snap_pods = NULL;
	k->snap_at = 0;
}

/* The provider's state, credentials overwritten. */
static void kube_free(struct provider *p)
{
	struct kube *k = p->priv;

	if (!k)
		return;
	snapshot_drop(k);
	k8s_client_free(k->api.client);
	kubeconfig_release(&k->kc);
	storage_free(k->st);
	free(k->owner);
	free(k->home_tag);
	free(k->storage_url);
	free(k->storage_root);
	free(k->pod_storage_url);
	free(k);
	p->priv = NULL;
}

/* The cluster's address and credentials: backends.kubernetes.kubeconfig,
 * else KUBECONFIG / ~/.kube/config, else the pod's service account. */
static int load_kubeconfig(const struct k8s_settings *s, struct kubeconfig *ret,
			   struct error *err)
{
	char *def = NULL;
	int r;

	if (s->kubeconfig)
		return kubeconfig_load(s->kubeconfig, s->context, ret, err);
	def = kubeconfig_default_path();
	if (def && fs_exists(def)) {
		r = kubeconfig_load(def, s->context, ret, err);
		goto out;
	}
	if ((r = kubeconfig_in_cluster(KUBECONFIG_SA_DIR, ret, NULL)) == 0)
		goto out;
	r = error_set(err, FRUGAL_ENOTFOUND, "no kubeconfig: '%s' does not exist and this is not"
		      " a pod; set KUBECONFIG or backends.kubernetes.kubeconfig",
		      def ? def : "~/.kube/config");
out:
	free(def);
	return r;
}

/* The backend's settings, kubeconfig and client, made once; a bad one is
 * an error each time (nothing is kept until all is well). */
static int kube_get(struct provider *p, struct kube **ret, struct error *err)
{
	const struct config *cfg = p->config;
	struct kube *k;
	char host[256] = "localhost", *who;
	int r;

	if (p->priv) {
		*ret = p->priv;
		return 0;
	}
	k = xcalloc(1, sizeof(*k));
	if ((r = k8s_settings_read(cfg, &k->set, err)) < 0 ||
	    (r = load_kubeconfig(&k->set, &k->kc, err)) < 0 ||
	    (r = k8s_client_new(&k->kc, (long)k->set.request_timeout * 1000, &k->api.client,
				err)) < 0) {
		kubeconfig_release(&k->kc);
		free(k);
		return r;
	}
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	who = getenv("USER") ? xasprintf("%s@%s", getenv("USER"), host)
			     : xasprintf("%u@%s", (unsigned)getuid(), host);
	k->owner = k8s_label_value(who);
	free(who);
	k->home_tag = home_tag(p->home);
	k->api.ns = k->set.ns ? k->set.ns : k->kc.namespace ? k->kc.namespace : "default";
	k->api.home_tag = k->home_tag;
	k->storage_url = cfg && cfg->storage_url ? xstrdup(cfg->storage_url)
						 : xasprintf("file://%s/storage", p->home);
	if (!strncmp(k->storage_url, "file://", 7))
		k->storage_root = xstrdup(k->storage_url + 7);
	k->pod_storage_url = xasprintf("file://%s", k->set.mount_path);
	p->priv = k;
	*ret = k;
	return 0;
}

/* The attempt's directory as the controller sees it (on the volume). */
static char *inst_local(const struct kube *k, const char *token)
{
	return xasprintf("%s/instances/%s", k->storage_root, token);
}

/* ... and as the pod sees it. */
static char *inst_pod(const struct kube *k, const char *token)
{
	return xasprintf("%s/instances/%s", k->set.mount_path, token);
}

/* The Job (NULL: none of ours) and the pods of token, asked directly. */
static int fetch(struct kube *k, const char *name, const char *token, json_t **ret_job,
		 json_t **ret_pods, struct error *err)
{
	int r;

	*ret_job = *ret_pods = NULL;
	if ((r = k8s_get_ours(&k->api, K8S_API_BATCH, "jobs", name, ret_job, err)) == 0 &&
	    (r = k8s_list_ours(&k->api, K8S_API_CORE, "pods", token, ret_pods, err)) < 0) {
		json_decref(*ret_job);
		*ret_job = NULL;
	}
	return r;
}

/* ---- plan ------------------------------------------------------------------------- */

/* The plan's region: the context and the namespace. */
static char *region_of(const struct kube *k)
{
	return xasprintf("%s/%s", k->kc.context ? k->kc.context : "in-cluster", k->api.ns);
}

/* Is url the storage or under it? */
static int under_storage(const struct kube *k, const char *url)
{
	size_t n = strlen(k->storage_url);

	return !strncmp(url, k->storage_url, n) && (url[n] == '\0' || url[n] == '/');
}

/* The GPU part of a request: the first accelerator the cluster has. */
static int resolve_gpus(const struct config *cfg, const struct kube *k, const struct task *t,
			struct kreq *rq, struct error *err)
{
	const struct accel *pick = NULL;
	int any = 0;
	size_t i;

	for (i = 0; i < t->res.n_accels && !pick; i++) {
		const char *v = k8s_settings_gpu_type(cfg, t->res.accels[i].name, &any);

		if (v || !any) {
			pick = &t->res.accels[i];
			rq->gpu_value = v && *v ? v : NULL;
		}
	}
	if (!pick)
		return error_set(err, FRUGAL_EINVAL, "resources.accelerators asks for %s but the"
				 " cluster's GPU types are those of backends.kubernetes.gpu_types",
				 t->res.accels[0].name);
	rq->accel = pick->name;
	rq->gpus = pick->count;
	rq->price = k8s_settings_price(cfg, pick->name, rq->spot ? k->set.price_spot_gpu
								 : k->set.price_gpu) * pick->count;
	return 0;
}

/* Decide spot, GPU type, image and price for t. */
static int kube_resolve(struct provider *p, struct kube *k, const struct task *t,
			struct kreq *ret, struct error *err)
{
	struct kreq rq;
	const char *ctx = k->kc.context ? k->kc.context : "in-cluster";
	int r;

	memset(&rq, 0, sizeof(rq));
	if (t->res.cloud && strcmp(t->res.cloud, "kubernetes"))
		return error_set(err, FRUGAL_EINVAL, "resources.cloud is '%s' but the backend is"
				 " kubernetes", t->res.cloud);
	if (t->res.region && strcmp(t->res.region, ctx))
		return error_set(err, FRUGAL_EINVAL, "resources.region '%s' names a kubeconfig"
				 " context, but frugal uses '%s' (backends.kubernetes.context)",
				 t->res.region, ctx);
	if (t->res.zone)
		return error_set(err, FRUGAL_ENOTSUP, "'resources.zone' is not used by backend"
				 " kubernetes: the namespace is backends.kubernetes.namespace");
	if (k8s_port_count(t->res.ports, t->res.n_ports) > K8S_MAX_PORTS)
		return error_set(err, FRUGAL_EINVAL, "resources.ports: %zu ports, but a Kubernetes"
				 " Service of frugal has at most %d (one entry per port); open fewer",
				 k8s_port_count(t->res.ports, t->res.n_ports), K8S_MAX_PORTS);
	if (!k->storage_root)
		return error_set(err, FRUGAL_ENOTSUP, "backend kubernetes needs a file:// storage"
				 " on a PersistentVolumeClaim, but the storage is '%s'",
				 k->storage_url);
	if (!k->set.pvc)
		return error_set(err, FRUGAL_EINVAL, "backends.kubernetes.pvc is not set: name the"
				 " PersistentVolumeClaim that holds the storage %s (see"
				 " docs/KUBERNETES.md)", k->storage_url);
	if (t->outputs.to && !strncmp(t->outputs.to, "file://", 7) &&
	    !under_storage(k, t->outputs.to))
		return error_set(err, FRUGAL_EINVAL, "outputs.to '%s' is not on the storage volume"
				 " the pod mounts (%s)", t->outputs.to, k->storage_url);
	rq.image = t->res.image_id ? t->res.image_id : k->set.image;
	if (rq.image && !strncmp(rq.image, "docker:", 7))
		rq.image += 7;
	if (!rq.image || !*rq.image)
		return error_set(err, FRUGAL_EINVAL, "no container image: set resources.image_id in"
				 " the task or backends.kubernetes.image in config.yaml (an image"
				 " with frugal in it, see docs/KUBERNETES.md)");
	if (t->res.spot == SPOT_SPOT && !k->set.spot_label)
		return error_set(err, FRUGAL_ENOTSUP, "'resources.use_spot: true' needs to know the"
				 " cluster's spot nodes: set backends.kubernetes.spot_label (and"
				 " spot_label_value) in config.yaml, or use spot_policy: auto");
	rq.spot = t->res.spot == SPOT_SPOT || (t->res.spot == SPOT_AUTO && k->set.spot_label);
	/*
	 * The one location is the namespace, where the cluster reschedules:
	 * a preempted job goes back at once (the controller's cool-down for a
	 * preempted location is not kept here). A quota refusal holds new
	 * Jobs back for QUOTA_BACKOFF_MS instead.
	 */
	if (time_now_ms() < k->quota_until)
		return error_set(err, FRUGAL_ECAPACITY, "kubernetes namespace %s refused a Job for"
				 " its quota %llds ago; waiting for room", k->api.ns,
				 (long long)(time_now_ms() - k->quota_since) / 1000);
	if (t->res.accel_mode != ACCEL_NONE) {
		if ((r = resolve_gpus(p->config, k, t, &rq, err)) < 0)
			return r;
	} else {
		rq.price = k->set.price_cpu;
	}
	if (t->res.max_price > 0 && rq.price > t->res.max_price)
		return error_set(err, FRUGAL_EINVAL, "the kubernetes price $%.2f/h is above"
				 " resources.max_price $%.2f/h (backends.kubernetes prices)",
				 rq.price, t->res.max_price);
	*ret = rq;
	return 0;
}

/* Where and at what price t would run: no request to the cluster. */
static int kube_plan(struct provider *p, const struct plan_request *req, struct plan *ret,
		     struct error *err)
{
	const struct task *t = req->task;
	struct kube *k;
	struct kreq rq;
	struct plan pl = { 0 };
	int r;

	if ((r = kube_get(p, &k, err)) < 0 || (r = kube_resolve(p, k, t, &rq, err)) < 0)
		return r;
	pl.backend = xstrdup("kubernetes");
	pl.region = region_of(k);
	pl.zone = xstrdup(rq.spot ? "spot" : "on-demand");
	pl.gpus = rq.gpus;
	pl.accelerator = rq.accel ? xstrdup(rq.accel) : NULL;
	if (t->res.instance_type)
		pl.instance_type = xstrdup(t->res.instance_type);
	else if (rq.gpus)
		pl.instance_type = xasprintf("%dx%s", rq.gpus, rq.gpu_value ? rq.gpu_value : rq.accel);
	else
		pl.instance_type = xstrdup("cpu");
	pl.spot = rq.spot;
	pl.price_per_hour = rq.price;
	pl.capacity = xstrdup("queued by Kubernetes");
	*ret = pl;
	return 0;
}

/* ---- launch ----------------------------------------------------------------------- */

/* url on the controller's storage, as the pod sees it. Caller frees. */
static char *pod_url(const struct kube *k, const char *url)
{
	if (url && under_storage(k, url))
		return xasprintf("%s%s", k->pod_storage_url, url + strlen(k->storage_url));
	return xstrdup(url);
}

/*
 * The attempt's directory on the volume: a copy of the workdir in src/
 * and agent.json with every path as the pod sees it (the storage at the
 * mount path, work/checkpoint/outputs in the pod's instance directory,
 * the workdir at src/). The pod's GPUs are 0..n-1: the device plugin
 * gives the container only its own.
 */
static int prepare_dir(struct kube *k, const struct launch_request *req, int gpus,
		       const char *dir, const char *pdir, struct error *err)
{
	struct agent_doc d = AGENT_DOC_INIT;
	char *src = fs_path_join(dir, "src");
	int r;

	if ((r = fs_mkdir_p(dir, 0700, err)) < 0 || (r = fs_remove_tree(src, err)) < 0)
		goto out;
	if (req->task->workdir && (r = tree_copy(req->task->workdir, src, NULL, err)) < 0) {
		error_prefix(err, "cannot copy workdir '%s' to the volume", req->task->workdir);
		goto out;
	}
	provider_agent_doc_remote(req, "kubernetes", gpus, &d);
	free(d.storage_url);
	d.storage_url = xstrdup(k->pod_storage_url);
	free(d.outputs_url);
	d.outputs_url = pod_url(k, req->outputs_url);
	d.work_dir = xasprintf("%s/work", pdir);
	d.checkpoint_dir = xasprintf("%s/checkpoint", pdir);
	d.output_dir = xasprintf("%s/outputs", pdir);
	d.own_machine = 1;
	if (req->task->workdir) {
		char *wd = xasprintf("%s/src", pdir);

		agent_doc_set_task_workdir(&d, wd);
		free(wd);
	}
	r = agent_doc_write(&d, dir, err);
out:
	agent_doc_release(&d);
	free(src);
	return r;
}

/* The Secret of the attempt, when the task has secrets (*ret_made 1). */
static int create_secret(struct kube *k, const struct k8s_attempt *a,
			 const struct kvlist *secrets, int *ret_made, struct error *err)
{
	char *body = NULL;
	json_t *ans = NULL, *old = NULL;
	int r;

	*ret_made = 0;
	if ((r = k8s_secret_manifest(a, secrets, &body, err)) < 0 || !body)
		return r;
	r = k8s_create(&k->api, K8S_API_CORE, "secrets", body, 1, &ans, err);
	if (r == FRUGAL_EEXIST) {
		/* Made by an earlier try of this launch, or not ours. */
		if ((r = k8s_get_ours(&k->api, K8S_API_CORE, "secrets", a->name, &old, err)) == 0 &&
		    !old)
			r = error_set(err, FRUGAL_EEXIST, "kubernetes: a Secret named %s exists in"
				      " namespace %s that this frugal did not make", a->name,
				      k->api.ns);
	}
	if (r == 0)
		*ret_made = 1;
	secure_free(body);
	json_decref(ans);
	json_decref(old);
	return r;
}

/* Make the Job the Secret's owner: the cluster deletes the Secret with
 * the Job even when frugal is gone (teardown deletes it too). */
static void own_secret(struct kube *k, const char *name, const json_t *job)
{
	json_t *patch = json_pack("{s:{s:[{s:s, s:s, s:s, s:s, s:b}]}}", "metadata",
				  "ownerReferences", "apiVersion", "batch/v1", "kind", "Job",
				  "name", name, "uid", k8s_meta_str(job, "uid"),
				  "blockOwnerDeletion", 0);
	char *body = patch ? json_dumps(patch, JSON_COMPACT) : NULL;

	if (body)
		k8s_merge_patch(&k->api, K8S_API_CORE, "secrets", name, body, NULL);
	json_decref(patch);
	free(body);
}

/* The names of the secrets that have a value, NULL-ended. */
static const char **secret_names(const struct kvlist *secrets)
{
	const char **names = xcalloc((secrets ? secrets->n : 0) + 1, sizeof(char *));
	size_t i, n = 0;

	for (i = 0; secrets && i < secrets->n; i++)
		if (secrets->items[i].value)
			names[n++] = secrets->items[i].key;
	return names;
}

/* The description of the attempt's objects (strings borrowed from k,
 * req, rq and the arguments). */
static void attempt_of(const struct kube *k, const struct launch_request *req,
		       const struct kreq *rq, const char *name, const char *pdir,
		       const char *const *env, const char *const *names, struct k8s_attempt *a)
{
	const struct task *t = req->task;

	memset(a, 0, sizeof(*a));
	a->name = name;
	a->namespace = k->api.ns;
	a->token = req->token;
	a->job_id = req->job_id;
	a->attempt = req->attempt;
	a->owner = k->owner;
	a->home_tag = k->home_tag;
	a->image = rq->image;
	a->frugal_bin = k->set.frugal_bin;
	a->arch = k->set.arch;
	a->instance_dir = pdir;
	a->env = env;
	a->secret_names = names;
	a->gpus = rq->gpus;
	a->gpu_resource = k->set.gpu_resource;
	a->gpu_label = k->set.gpu_label;
	a->gpu_value = rq->gpu_value;
	a->instance_type = t->res.instance_type;
	a->cpus = t->res.cpus;
	a->memory_gib = t->res.memory;
	a->disk_gib = t->res.disk_size;
	a->spot = rq->spot;
	a->spot_label = k->set.spot_label;
	a->spot_value = k->set.spot_value;
	a->spot_taint = k->set.spot_taint;
	a->grace_s = t->recovery.notice_grace > 0 ? t->recovery.notice_grace : 1;
	/* The agent ends the job at max_runtime itself; the deadline is the
	 * cluster's backstop (it counts the pod's start too, hence the margin). */
	a->deadline_s = t->stop.max_runtime > 0
			? t->stop.max_runtime + t->recovery.notice_grace + DEADLINE_MARGIN : 0;
	a->ttl_s = k->set.ttl;
	a->pvc = k->set.pvc;
	a->mount_path = k->set.mount_path;
	a->sub_path = k->set.sub_path;
	a->service_account = k->set.service_account;
}

/* Attempt req as a Secret and a Job (once: a Job made before under the
 * token is adopted); *ret_id is the Job's uid. */
static int kube_launch(struct provider *p, const struct launch_request *req, char **ret_id,
		       struct error *err)
{
	struct kube *k;
	struct kreq rq;
	struct k8s_attempt a;
	const char **names = NULL;
	const char *env[2] = { NULL, NULL };
	char *name = NULL, *dir = NULL, *pdir = NULL, *body = NULL, *fault_env = NULL;
	json_t *job = NULL, *manifest = NULL;
	int r, made_secret = 0;

	if ((r = kube_get(p, &k, err)) < 0 || (r = kube_resolve(p, k, req->task, &rq, err)) < 0)
		return launch_failed_early(req, r);
	snapshot_drop(k);
	if (!(name = k8s_object_name(req->token))) {
		r = launch_failed_early(req, error_set(err, FRUGAL_EINVAL, "'%s' cannot name a"
						       " Kubernetes object", req->token));
		goto out;
	}
	/* Idempotent: a Job already made under this token is adopted. */
	if ((r = k8s_get_ours(&k->api, K8S_API_BATCH, "jobs", name, &job, err)) < 0) {
		launch_failed_early(req, r);	/* refused before anything was sent */
		goto out;
	}
	if (job)
		goto done;

	dir = inst_local(k, req->token);
	pdir = inst_pod(k, req->token);
	if ((r = prepare_dir(k, req, rq.gpus, dir, pdir, err)) < 0)
		goto out;
	/* Crash tests: a fault point for the agent. */
	if (getenv("FRUGAL_AGENT_FAULT")) {
		fault_env = xasprintf("FRUGAL_FAULT=%s", getenv("FRUGAL_AGENT_FAULT"));
		env[0] = fault_env;
	}
	names = secret_names(req->secrets);
	attempt_of(k, req, &rq, name, pdir, env, names, &a);

	/* The Secret first: the pod must find it when it starts. */
	if ((r = create_secret(k, &a, req->secrets, &made_secret, err)) < 0)
		goto out;
	fault_point("kubernetes.after_secret");
	a.volumes = &req->task->volumes;
	manifest = k8s_job_manifest(&a);
	body = json_dumps(manifest, JSON_COMPACT);
	r = k8s_create(&k->api, K8S_API_BATCH, "jobs", body, 0, &job, err);
	if (r == FRUGAL_EEXIST) {
		/* Made meanwhile: ours to adopt, or someone else's name. */
		if ((r = k8s_get_ours(&k->api, K8S_API_BATCH, "jobs", name, &job, err)) == 0 && !job)
			r = error_set(err, FRUGAL_EEXIST, "kubernetes: a Job named %s exists in"
				      " namespace %s that this frugal did not make", name, k->api.ns);
	}
	if (r < 0)
		goto out;
	fault_point("kubernetes.after_job");
	if (made_secret && k8s_meta_str(job, "uid"))
		own_secret(k, name, job);
done:
	if (r == 0 && !k8s_meta_str(job, "uid"))
		r = error_set(err, FRUGAL_EPROVIDER, "kubernetes: Job %s has no uid", name);
	if (r == 0)
		*ret_id = xstrdup(k8s_meta_str(job, "uid"));
out:
	if (r == FRUGAL_ECAPACITY) {
		k->quota_since = time_now_ms();
		k->quota_until = k->quota_since + QUOTA_BACKOFF_MS;
	}
	json_decref(job);
	json_decref(manifest);
	free(names);
	free(name);
	free(dir);
	free(pdir);
	free(body);
	free(fault_env);
	return r;
}

/* ---- find, describe ---------------------------------------------------------------- */

static int kube_find(struct provider *p, const char *token, const struct plan *where,
		     char **ret_id, struct error *err)
{
	struct kube *k;
	json_t *job = NULL;
	char *name;
	int r;

	*ret_id = NULL;
	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!(name = k8s_object_name(token)))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	r = k8s_get_ours(&k->api, K8S_API_BATCH, "jobs", name, &job, err);
	if (r == 0 && k8s_meta_str(job, "uid"))
		*ret_id = xstrdup(k8s_meta_str(job, "uid"));
	json_decref(job);
	free(name);
	return r;
}

/* This home's Jobs and pods, listed at most once every SNAPSHOT_MS. */
static int snapshot(struct kube *k, struct error *err)
{
	int r;

	if (k->snap_at && time_mono_ms() - k->snap_at < SNAPSHOT_MS)
		return 0;
	snapshot_drop(k);
	if ((r = k8s_list_ours(&k->api, K8S_API_BATCH, "jobs", NULL, &k->snap_jobs, err)) < 0 ||
	    (r = k8s_list_ours(&k->api, K8S_API_CORE, "pods", NULL, &k->snap_pods, err)) < 0) {
		snapshot_drop(k);
		return r;
	}
	k->snap_at = time_mono_ms();
	return 0;
}

/*
 * The Job called name and the pods of token from the snapshot. A Job the
 * snapshot does not have is asked for directly: a listing may predate a
 * create, and "gone" must never come from a stale one (the rest of a
 * stale view only lags: a pod still running, a Job not yet finished).
 */
static int view_of(struct kube *k, const char *name, const char *token, json_t **ret_job,
		   json_t **ret_pods, struct error *err)
{
	const json_t *items;
	json_t *o;
	char job[128], n[16];
	size_t i;
	int a, r;

	*ret_job = *ret_pods = NULL;
	if (provider_token_split(token, job, sizeof(job), &a) < 0)
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	if ((r = snapshot(k, err)) < 0)
		return fetch(k, name, token, ret_job, ret_pods, err);
	json_array_foreach(json_object_get(k->snap_jobs, "items"), i, o)
		if (!strcmp(k8s_meta_str(o, "name") ? k8s_meta_str(o, "name") : "", name))
			*ret_job = json_incref(o);
	if (!*ret_job)
		return fetch(k, name, token, ret_job, ret_pods, err);
	snprintf(n, sizeof(n), "%d", a);
	*ret_pods = json_pack("{s:[]}", "items");
	items = json_object_get(*ret_pods, "items");
	json_array_foreach(json_object_get(k->snap_pods, "items"), i, o) {
		const json_t *l = json_object_get(json_object_get(o, "metadata"), "labels");
		const char *pj = json_string_value(json_object_get(l, K8S_LABEL_JOB));
		const char *pa = json_string_value(json_object_get(l, K8S_LABEL_ATTEMPT));

		if (pj && pa && !strcmp(pj, job) && !strcmp(pa, n))
			json_array_append((json_t *)items, o);
	}
	return 0;
}

/*
 * Pending, running or gone, from the Job and its pods. The cluster saying
 * the attempt's pod was disrupted (evicted, drained, its node reclaimed)
 * is the attempt's preemption notice, with the pod's grace period as its
 * window: the reconciler records it (once), and once the pod is gone
 * without the agent having reported, ends the attempt as preempted, not
 * failed.
 */
static int kube_describe(struct provider *p, const char *token, const char *id,
			 struct instance_view *ret, struct error *err)
{
	struct kube *k;
	struct k8s_view v;
	json_t *job = NULL, *pods = NULL;
	char *name;
	int r;

	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!(name = k8s_object_name(token)))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	if ((r = view_of(k, name, token, &job, &pods, err)) < 0)
		goto out;
	k8s_view_of(job, pods, time_now_ms(), k->set.start_timeout, &v);
	ret->state = v.state;
	if (v.disrupted) {
		ret->notice_deadline = time_now_ms() + v.grace_s * 1000;
		ret->reason = xstrdup(v.reason[0] ? v.reason : "the pod was disrupted");
	}
out:
	json_decref(job);
	json_decref(pods);
	free(name);
	return r;
}

/* boot_log: the log of the attempt's newest pod (where the pod command's
 * architecture check and an agent that cannot start write why), read
 * through the API. */
static int kube_boot_log(struct provider *p, const char *token, const char *id, size_t max,
			 struct strbuf *out, struct error *err)
{
	struct kube *k;
	struct k8s_view v;
	json_t *job = NULL, *pods = NULL;
	char *name;
	int r;

	(void)id;
	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!(name = k8s_object_name(token)))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	if ((r = view_of(k, name, token, &job, &pods, err)) < 0)
		goto out;
	k8s_view_of(job, pods, time_now_ms(), k->set.start_timeout, &v);
	if (!v.pod[0]) {
		r = error_set(err, FRUGAL_ENOTFOUND, "attempt %s has no pod", token);
		goto out;
	}
	r = k8s_pod_log(&k->api, v.pod, K8S_CONTAINER, max, out, err);
out:
	json_decref(job);
	json_decref(pods);
	free(name);
	return r;
}

/* ---- stop, notice, terminate -------------------------------------------------------- */

/* Cancel: delete the Job; its pod gets SIGTERM and the grace period, in
 * which the agent stores a last checkpoint (it cannot tell a cancel from
 * an eviction: the controller knows it was a cancel). */
static int kube_stop(struct provider *p, const char *token, const char *id, struct error *err)
{
	struct kube *k;
	json_t *job = NULL;
	char *name;
	int r;

	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!(name = k8s_object_name(token)))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	snapshot_drop(k);
	r = k8s_get_ours(&k->api, K8S_API_BATCH, "jobs", name, &job, err);
	if (r == 0 && job)
		r = k8s_delete(&k->api, K8S_API_BATCH, "jobs", name, k8s_meta_str(job, "uid"),
			       "Foreground", err);
	json_decref(job);
	free(name);
	return r;
}

/* A notice (budget stop, frugal debug preempt): notice.json in the
 * attempt's directory on the volume, which the agent looks for every
 * second (agent/notice.h, source "local"). */
static int kube_notice(struct provider *p, const char *token, const char *id,
		       int64_t deadline_ms, const char *reason, struct error *err)
{
	struct kube *k;
	char *dir = NULL, *path = NULL, *doc = NULL;
	int r;

	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!k->storage_root)
		return error_set(err, FRUGAL_ENOTSUP, "no file:// storage to deliver a notice");
	dir = inst_local(k, token);
	if (!fs_is_dir(dir)) {
		r = error_set(err, FRUGAL_ENOTFOUND, "the agent of %s is not running (no '%s')",
			      token, dir);
		goto out;
	}
	path = fs_path_join(dir, "notice.json");
	doc = provider_notice_json(deadline_ms, reason);
	r = fs_write_atomic(path, doc, strlen(doc), 0600, 1, err);
out:
	free(dir);
	free(path);
	free(doc);
	return r;
}

/* A line of the attempt's log: "2026-11-22T08:15:03.123Z TEXT\n". */
static void log_line(struct strbuf *sb, const char *text, size_t len)
{
	int64_t now = time_now_ms();
	char ts[40];
	size_t n;

	time_format_iso(now, ts, sizeof(ts));
	n = strlen(ts);
	if (n && ts[n - 1] == 'Z')
		snprintf(ts + n - 1, sizeof(ts) - n + 1, ".%03dZ", (int)(now % 1000));
	strbuf_addf(sb, "%s %.*s\n", ts, (int)len, text);
}

/*
 * The agent of token never reported an outcome (its image did not pull,
 * its binary is missing, it was killed): append the cluster's reason and
 * the pod's own log to the attempt's log, once (a marker object made only
 * if absent guards it), so `frugal logs` shows why.
 */
static void pod_log_fallback(struct kube *k, const char *token, const struct k8s_view *v)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT, status = STRBUF_INIT;
	char job[128], *prefix = NULL, *key = NULL, *marker = NULL, *note = NULL;
	const char *line;
	int n;

	if (!v->pod[0] || !k->storage_root || provider_token_split(token, job, sizeof(job), &n) < 0)
		return;
	if (!k->st && storage_open(k->storage_url, &k->st, NULL) < 0)
		return;
	prefix = key_job_prefix(job);
	key = key_status(prefix, n);
	if (storage_get(k->st, key, 1 << 20, &status, NULL) == 0) {
		struct attempt_status s = ATTEMPT_STATUS_INIT;
		int done = attempt_status_parse(status.buf, status.len, &s, NULL) == 0 &&
			   s.outcome != OUTCOME_NONE;

		attempt_status_release(&s);
		if (done)
			goto out;
	}
	marker = key_attempt(prefix, n, "pod-log-copied");
	if (storage_put(k->st, marker, "1\n", 2, STORAGE_NO_OVERWRITE, NULL) < 0)
		goto out;
	strbuf_init(&text, POD_LOG_MAX + 8192);
	if (k8s_pod_log(&k->api, v->pod, K8S_CONTAINER, POD_LOG_MAX, &text, NULL) < 0)
		strbuf_reset(&text);
	note = xasprintf("frugal: the agent reported no outcome; kubernetes says %s%s",
			 v->reason[0] ? v->reason : "the pod ended",
			 text.len ? "; the pod's log follows" : "");
	log_line(&out, note, strlen(note));
	for (line = text.buf; line && *line; ) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		log_line(&out, line, len);
		line = nl ? nl + 1 : NULL;
	}
	free(key);
	key = key_log(prefix, n);
	storage_append(k->st, key, out.buf, out.len, NULL);
out:
	strbuf_release(&text);
	strbuf_release(&out);
	strbuf_release(&status);
	free(prefix);
	free(key);
	free(marker);
	free(note);
}

/*
 * End attempt token: delete its Job (Foreground: the pod first) and its
 * Secret, and any pod of it left behind. Confirmed (0) once none of them
 * exists; FRUGAL_EBUSY while the cluster is still deleting. Objects with
 * the name but not this home's label are never touched.
 */
/* Delete the Service name when it is this home's (its uid the
 * precondition: one made since under the name is left alone); none is
 * success. */
static int delete_service(struct kube *k, const char *name, struct error *err)
{
	json_t *svc = NULL;
	int r;

	if ((r = k8s_get_ours(&k->api, K8S_API_CORE, "services", name, &svc, err)) == 0 && svc)
		r = k8s_delete(&k->api, K8S_API_CORE, "services", name, k8s_meta_str(svc, "uid"),
			       NULL, err);
	if (r < 0)
		error_prefix(err, "Service %s", name);
	json_decref(svc);
	return r;
}

static int kube_terminate(struct provider *p, const char *token, const char *id,
			  struct error *err)
{
	struct kube *k;
	struct k8s_view v;
	json_t *job = NULL, *pods = NULL, *secret = NULL, *pod;
	char *name = NULL, *dir = NULL;
	size_t i, left;
	int r;

	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!(name = k8s_object_name(token)))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	snapshot_drop(k);
	if ((r = fetch(k, name, token, &job, &pods, err)) < 0)
		goto out;
	k8s_view_of(job, pods, time_now_ms(), k->set.start_timeout, &v);
	pod_log_fallback(k, token, &v);
	if (job && !v.deleting &&
	    (r = k8s_delete(&k->api, K8S_API_BATCH, "jobs", name, k8s_meta_str(job, "uid"),
			    "Foreground", err)) < 0)
		goto out;
	if ((r = k8s_get_ours(&k->api, K8S_API_CORE, "secrets", name, &secret, err)) < 0 ||
	    (secret && (r = k8s_delete(&k->api, K8S_API_CORE, "secrets", name,
				       k8s_meta_str(secret, "uid"), NULL, err)) < 0))
		goto out;
	/* The Service of resources.ports: its ledger row ends it too (ports_
	 * close); here for one gc found without a row. */
	if ((r = delete_service(k, name, err)) < 0)
		goto out;
	/* Pods left without their Job (deleted with orphans) go one by one. */
	left = json_array_size(json_object_get(pods, "items"));
	json_array_foreach(json_object_get(pods, "items"), i, pod) {
		const char *pname = k8s_meta_str(pod, "name");

		if (!job && pname && !k8s_meta_str(pod, "deletionTimestamp") &&
		    (r = k8s_delete(&k->api, K8S_API_CORE, "pods", pname, k8s_meta_str(pod, "uid"),
				    NULL, err)) < 0)
			goto out;
	}
	if (job || left) {
		r = error_set(err, FRUGAL_EBUSY, "kubernetes Job %s is being deleted (%zu pod%s"
			      " left)", name, left, left == 1 ? "" : "s");
		goto out;
	}
	/* Nothing left in the cluster: the attempt's directory goes too. */
	if (k->storage_root) {
		dir = inst_local(k, token);
		fs_remove_tree(dir, NULL);
	}
	r = 0;
out:
	json_decref(job);
	json_decref(pods);
	json_decref(secret);
	free(name);
	free(dir);
	return r;
}

/* ---- list (gc) ---------------------------------------------------------------------- */

/* Add the token of each object of list to ret (what: "job", "secret", ...). */
static void collect(const json_t *list, const char *what, struct kvlist *ret)
{
	const json_t *o;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, o) {
		const json_t *labels = json_object_get(json_object_get(o, "metadata"), "labels");
		const char *job = json_string_value(json_object_get(labels, K8S_LABEL_JOB));
		const char *n = json_string_value(json_object_get(labels, K8S_LABEL_ATTEMPT));
		const char *name = k8s_meta_str(o, "name");
		char *token, *desc;

		if (!job || !n || !name)
			continue;
		token = xasprintf("%s-%s", job, n);
		desc = xasprintf("kubernetes %s %s", what, name);
		if (!kvlist_get(ret, token))
			kvlist_set(ret, token, desc);
		free(token);
		free(desc);
	}
}

/* Tokens of this home's Jobs, Secrets, Services and pods (gc). */
static int kube_list(struct provider *p, struct kvlist *ret, struct error *err)
{
	struct kube *k;
	json_t *jobs = NULL, *secrets = NULL, *pods = NULL, *services = NULL;
	int r;

	/* Not configured: nothing of ours can be there. */
	if (!k8s_settings_configured(p->config))
		return 0;
	if ((r = kube_get(p, &k, err)) < 0 ||
	    (r = k8s_list_ours(&k->api, K8S_API_BATCH, "jobs", NULL, &jobs, err)) < 0 ||
	    (r = k8s_list_ours(&k->api, K8S_API_CORE, "secrets", NULL, &secrets, err)) < 0 ||
	    (r = k8s_list_ours(&k->api, K8S_API_CORE, "pods", NULL, &pods, err)) < 0 ||
	    (r = k8s_list_ours(&k->api, K8S_API_CORE, "services", NULL, &services, err)) < 0)
		goto out;
	collect(jobs, "job", ret);
	collect(secrets, "secret", ret);
	collect(pods, "pod", ret);
	collect(services, "service", ret);
out:
	json_decref(services);
	json_decref(jobs);
	json_decref(secrets);
	json_decref(pods);
	return r;
}

/* ---- ports (a Service per attempt) ------------------------------------------------ */

/* ports_open: the attempt's Service (k8s_service_manifest), before its
 * Job; one made before under the name and ours is adopted. Id: its name. */
static int kube_ports_open(struct provider *p, const struct launch_request *req, char **ret_id,
			   struct error *err)
{
	struct kube *k;
	struct k8s_attempt a;
	json_t *manifest = NULL, *svc = NULL;
	char *name = NULL, *body = NULL;
	int r;

	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!(name = k8s_object_name(req->token)))
		return error_set(err, FRUGAL_EINVAL, "'%s' cannot name a Kubernetes object",
				 req->token);
	memset(&a, 0, sizeof(a));
	a.name = name;
	a.namespace = k->api.ns;
	a.token = req->token;
	a.job_id = req->job_id;
	a.attempt = req->attempt;
	a.owner = k->owner;
	a.home_tag = k->home_tag;
	manifest = k8s_service_manifest(&a, k->set.service_type, req->task->res.ports,
					req->task->res.n_ports);
	body = json_dumps(manifest, JSON_COMPACT);
	r = k8s_create(&k->api, K8S_API_CORE, "services", body, 0, &svc, err);
	if (r == FRUGAL_EEXIST) {
		/* Made before (a crash, a retry): ours when it has our labels. */
		json_decref(svc);
		svc = NULL;
		if ((r = k8s_get_ours(&k->api, K8S_API_CORE, "services", name, &svc, err)) == 0 &&
		    !svc)
			r = error_set(err, FRUGAL_EEXIST, "kubernetes: a Service named %s exists in"
				      " namespace %s that this frugal did not make", name, k->api.ns);
	}
	if (r < 0) {
		error_prefix(err, "Service %s", name);
		goto out;
	}
	*ret_id = name;
	name = NULL;
out:
	json_decref(manifest);
	json_decref(svc);
	free(body);
	free(name);
	return r;
}

/* ports_close: delete the attempt's Service (by name); gone is success. */
static int kube_ports_close(struct provider *p, const char *token, const char *id,
			    struct error *err)
{
	struct kube *k;
	char *name;
	int r;

	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	name = id && *id ? xstrdup(id) : k8s_object_name(token);
	if (!name)
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	r = delete_service(k, name, err);
	free(name);
	return r;
}

/* The nodePort of port in a Service's spec.ports; 0: none. */
static int node_port(const json_t *svc, int port)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, e)
		if (json_integer_value(json_object_get(e, "port")) == port)
			return (int)json_integer_value(json_object_get(e, "nodePort"));
	return 0;
}

/* The node address of the attempt's pod (status.hostIP), or NULL. */
static const char *host_ip(const json_t *pods)
{
	const json_t *pod;
	size_t i;

	json_array_foreach(json_object_get(pods, "items"), i, pod) {
		const char *ip = json_string_value(json_object_get(json_object_get(pod, "status"),
								   "hostIP"));
		if (ip && *ip)
			return ip;
	}
	return NULL;
}

/* The kubectl command that forwards the Service's port %P to %L here. */
static char **forward_argv(const struct kube *k, const char *name)
{
	char **v = xcalloc(12, sizeof(*v));
	int n = 0;

	v[n++] = xstrdup("kubectl");
	v[n++] = xstrdup("port-forward");
	if (k->kc.path)
		v[n++] = xasprintf("--kubeconfig=%s", k->kc.path);
	if (k->kc.context)
		v[n++] = xasprintf("--context=%s", k->kc.context);
	v[n++] = xstrdup("-n");
	v[n++] = xstrdup(k->api.ns);
	v[n++] = xasprintf("svc/%s", name);
	v[n++] = xstrdup("%L:%P");
	return v;
}

/* endpoints: by the Service's type. NodePort: NODE_IP:NODEPORT (the
 * pod's node); ClusterIP: NAME.NS.svc:PORT inside the cluster;
 * LoadBalancer: its ingress address once assigned. Forwarded by kubectl
 * port-forward to the Service (LoadBalancer with an address: a relay). */
static int kube_endpoints(struct provider *p, const char *token, const char *id,
			  const struct task *t, struct endpoint_list *ret, struct error *err)
{
	struct kube *k;
	json_t *svc = NULL, *pods = NULL, *ing;
	const char *type, *ip = NULL;
	char *name = NULL;
	size_t i;
	int r;

	(void)id;
	if ((r = kube_get(p, &k, err)) < 0)
		return r;
	if (!(name = k8s_object_name(token)))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a frugal token", token);
	if ((r = k8s_get_ours(&k->api, K8S_API_CORE, "services", name, &svc, err)) < 0)
		goto out;
	if (!svc) {
		r = error_set(err, FRUGAL_EBUSY, "%s has no Service %s (yet)", token, name);
		goto out;
	}
	type = json_string_value(json_object_get(json_object_get(svc, "spec"), "type"));
	type = type ? type : "ClusterIP";
	if (!strcmp(type, "NodePort")) {
		if ((r = k8s_list_ours(&k->api, K8S_API_CORE, "pods", token, &pods, err)) < 0)
			goto out;
		if (!(ip = host_ip(pods))) {
			r = error_set(err, FRUGAL_EBUSY, "the pod of %s is on no node yet; try again in"
				      " a few seconds", token);
			goto out;
		}
	} else if (!strcmp(type, "LoadBalancer")) {
		ing = json_array_get(json_object_get(json_object_get(json_object_get(svc, "status"),
								     "loadBalancer"), "ingress"), 0);
		ip = json_string_value(json_object_get(ing, "ip"));
		if (!ip || !*ip)
			ip = json_string_value(json_object_get(ing, "hostname"));
		if (ip && !*ip)
			ip = NULL;
	}
	for (i = 0; i < t->res.n_ports; i++) {
		const struct port_range *pr = &t->res.ports[i];
		struct endpoint *ep = endpoint_list_add(ret, pr->from, pr->to);
		struct strbuf sb = STRBUF_INIT;
		int port;

		if (!strcmp(type, "NodePort")) {
			for (port = pr->from; port <= pr->to; port++)
				strbuf_addf(&sb, "%s%s:%d", port == pr->from ? "" : " ", ip,
					    node_port(svc, port));
			strbuf_addf(&sb, " (NodePort of Service %s)", name);
		} else if (!strcmp(type, "LoadBalancer") && ip) {
			ep->host = xstrdup(ip);
			continue;
		} else if (!strcmp(type, "LoadBalancer")) {
			strbuf_addf(&sb, "LoadBalancer Service %s has no address yet;"
				    " frugal forward runs kubectl port-forward", name);
		} else {
			strbuf_addf(&sb, "in the cluster: %s.%s.svc:%d%s (ClusterIP)", name,
				    k->api.ns, pr->from, pr->from == pr->to ? "" : "...");
		}
		ep->note = strbuf_detach(&sb, NULL);
		ep->forward_argv = forward_argv(k, name);
	}
out:
	json_decref(svc);
	json_decref(pods);
	free(name);
	return r;
}

const struct provider_ops kubernetes_provider_ops = {
	.name = "kubernetes",
	.plan = kube_plan,
	.reserve = provider_reserve_none,
	.launch = kube_launch,
	.find = kube_find,
	.describe = kube_describe,
	.stop = kube_stop,
	.notice = kube_notice,
	.terminate = kube_terminate,
	.list = kube_list,
	.boot_log = kube_boot_log,
	.free = kube_free,
	.ports_open = kube_ports_open,
	.ports_close = kube_ports_close,
	.endpoints = kube_endpoints,
};

/* ---- probe (backend.h) ------------------------------------------------------------- */

/* `frugal backends kubernetes`: GET /version of the cluster the
 * kubeconfig it would use points at. */
int kubernetes_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		     struct error *err)
{
	struct k8s_settings set;
	struct kubeconfig kc;
	struct k8s_client *c = NULL;
	json_t *reply = NULL;
	long status = 0;
	int r;

	memset(&kc, 0, sizeof(kc));
	if ((r = k8s_settings_read(cfg, &set, err)) < 0 || (r = load_kubeconfig(&set, &kc, err)) < 0)
		return r;
	if ((r = k8s_client_new(&kc, BACKEND_PROBE_TIMEOUT_MS, &c, err)) < 0)
		goto out;
	if ((r = k8s_call(c, "GET", "/version", NULL, NULL, NULL, &status, &reply, err)) < 0)
		goto out;
	if (status != 200) {
		r = k8s_error(err, "GET", "/version", status, reply, 0);
		goto out;
	}
	snprintf(ret->scope, sizeof(ret->scope), "%s%s%s", kc.server,
		 kc.context ? ", context " : "", kc.context ? kc.context : "");
	snprintf(ret->detail, sizeof(ret->detail), "GET /version: Kubernetes %s",
		 json_string_value(json_object_get(reply, "gitVersion")) ?
		 json_string_value(json_object_get(reply, "gitVersion")) : "(no gitVersion)");
out:
	json_decref(reply);
	k8s_client_free(c);
	kubeconfig_release(&kc);
	return r;
}
