/*
 * k8s_job: Job and Secret manifests of an attempt, and the reading of a
 * Job and its pods (see k8s_job.h).
 */
#include "backend/kubernetes/k8s_job.h"
#include "backend/common/agentbin.h"
#include "backend/provider.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- names and quantities ------------------------------------------------------ */

char *k8s_object_name(const char *token)
{
	char *name = xasprintf(K8S_NAME_PREFIX "%s", token ? token : "");
	size_t len = strlen(name), i;

	if (!token || !*token || len > 63 || name[len - 1] == '-')
		goto bad;
	for (i = 0; i < len; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '-'))
			goto bad;
	return name;
bad:
	free(name);
	return NULL;
}

/* s made a valid label value (see k8s_job.h). */
char *k8s_label_value(const char *s)
{
	char *v = xstrndup(s, strlen(s) > 63 ? 63 : strlen(s));
	size_t len, i, start = 0;

	for (i = 0; v[i]; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '-' || v[i] == '_' || v[i] == '.'))
			v[i] = '.';
	len = strlen(v);
	while (start < len && !isalnum((unsigned char)v[start]))
		start++;
	while (len > start && !isalnum((unsigned char)v[len - 1]))
		len--;
	memmove(v, v + start, len - start);
	v[len - start] = '\0';
	return v;
}

/* CPUs as a quantity, in millicores when not whole. */
char *k8s_cpu_quantity(double cpus)
{
	double milli = ceil(cpus * 1000 - 1e-6);

	if (fmod(milli, 1000) == 0)
		return xasprintf("%.0f", milli / 1000);
	return xasprintf("%.0fm", milli);
}

/* GiB as a quantity, in MiB when not whole. */
char *k8s_gib_quantity(double gib)
{
	double mib = ceil(gib * 1024 - 1e-6);

	if (fmod(mib, 1024) == 0)
		return xasprintf("%.0fGi", mib / 1024);
	return xasprintf("%.0fMi", mib);
}

/* ---- the Job -------------------------------------------------------------------- */

size_t k8s_port_count(const struct port_range *ports, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += (size_t)(ports[i].to - ports[i].from) + 1;
	return c;
}

static json_t *labels_of(const struct k8s_attempt *a)
{
	json_t *l = json_object();
	char n[16];

	/* Label values are strings. */
	snprintf(n, sizeof(n), "%d", a->attempt);
	json_object_set_new(l, K8S_LABEL_JOB, json_string(a->job_id));
	json_object_set_new(l, K8S_LABEL_ATTEMPT, json_string(n));
	if (a->owner && *a->owner)
		json_object_set_new(l, K8S_LABEL_OWNER, json_string(a->owner));
	if (a->home_tag)
		json_object_set_new(l, K8S_LABEL_HOME, json_string(a->home_tag));
	json_object_set_new(l, "app.kubernetes.io/managed-by", json_string("frugal"));
	return l;
}

/* name, namespace and labels of the attempt's objects. */
static json_t *metadata_of(const struct k8s_attempt *a)
{
	json_t *m = json_object();

	json_object_set_new(m, "name", json_string(a->name));
	if (a->namespace)
		json_object_set_new(m, "namespace", json_string(a->namespace));
	json_object_set_new(m, "labels", labels_of(a));
	return m;
}

/* The agent's environment: the notice window, extra pairs, the secrets. */
static json_t *env_of(const struct k8s_attempt *a)
{
	json_t *env = json_array();
	char window[32];
	size_t i;

	/* SIGTERM is the preemption notice; the grace period is its window. */
	snprintf(window, sizeof(window), "%lld", (long long)a->grace_s);
	json_array_append_new(env, json_pack("{s:s, s:s}", "name", "FRUGAL_SIGTERM_NOTICE_WINDOW",
					     "value", window));
	for (i = 0; a->env && a->env[i]; i++) {
		const char *eq = strchr(a->env[i], '=');
		char *name;

		if (!eq)
			continue;
		name = xstrndup(a->env[i], (size_t)(eq - a->env[i]));
		json_array_append_new(env, json_pack("{s:s, s:s}", "name", name, "value", eq + 1));
		free(name);
	}
	for (i = 0; a->secret_names && a->secret_names[i]; i++)
		json_array_append_new(env, json_pack("{s:s, s:{s:{s:s, s:s}}}", "name",
						     a->secret_names[i], "valueFrom",
						     "secretKeyRef", "name", a->name, "key",
						     a->secret_names[i]));
	return env;
}

/* GPU limits; CPU, memory and disk requests. */
static json_t *resources_of(const struct k8s_attempt *a)
{
	json_t *res = json_object(), *req = json_object(), *lim = json_object();
	char *q;

	if (a->gpus > 0) {
		/* Extended resources: the limit is the request. */
		q = xasprintf("%d", a->gpus);
		json_object_set_new(lim, a->gpu_resource, json_string(q));
		free(q);
	}
	if (a->cpus > 0) {
		q = k8s_cpu_quantity(a->cpus);
		json_object_set_new(req, "cpu", json_string(q));
		free(q);
	}
	if (a->memory_gib > 0) {
		q = k8s_gib_quantity(a->memory_gib);
		json_object_set_new(req, "memory", json_string(q));
		free(q);
	}
	if (a->disk_gib > 0) {
		q = k8s_gib_quantity(a->disk_gib);
		json_object_set_new(req, "ephemeral-storage", json_string(q));
		free(q);
	}
	if (json_object_size(lim))
		json_object_set(res, "limits", lim);
	if (json_object_size(req))
		json_object_set(res, "requests", req);
	json_decref(lim);
	json_decref(req);
	return res;
}

const char *k8s_node_arch(const char *arch)
{
	const char *n = agentbin_arch_normalize(arch);

	if (n && !strcmp(n, AGENTBIN_AARCH64))
		return "arm64";
	return n ? "amd64" : NULL;
}

/* 1 when v is a claim the pod mounts (kind pvc, or a bare name). */
static int is_claim(const struct volume *v)
{
	return !strcmp(v->kind, "pvc") || !strcmp(v->kind, VOLUME_KIND_NAME);
}

/* The task's claims appended to the container's mounts and to the pod's
 * volumes (either may be NULL). */
static void claims_of(const struct k8s_attempt *a, json_t *mounts, json_t *volumes)
{
	size_t i;

	for (i = 0; a->volumes && i < a->volumes->n; i++) {
		const struct volume *v = &a->volumes->items[i];
		char name[32], path[64];

		if (!is_claim(v))
			continue;
		snprintf(name, sizeof(name), "frugal-vol-%zu", i);
		snprintf(path, sizeof(path), "%s/%zu", PROVIDER_VOLUME_ROOT, i);
		if (mounts)
			json_array_append_new(mounts, json_pack("{s:s, s:s, s:b}", "name", name,
								"mountPath", path, "readOnly",
								v->read_only));
		if (volumes)
			json_array_append_new(volumes, json_pack("{s:s, s:{s:s, s:b}}", "name", name,
								 "persistentVolumeClaim", "claimName",
								 v->ref, "readOnly", v->read_only));
	}
}

/* The one container: the agent on the attempt's directory. */
static json_t *container_of(const struct k8s_attempt *a)
{
	json_t *c = json_object(), *mount;

	json_object_set_new(c, "name", json_string(K8S_CONTAINER));
	json_object_set_new(c, "image", json_string(a->image));
	if (a->arch) {
		/* The node's architecture and that the agent starts, checked
		 * first: a mismatch ends the pod with the reason in its log
		 * and termination message (the controller's boot_log reads it). */
		struct strbuf sb = STRBUF_INIT;

		agentbin_boot_check(&sb);
		strbuf_addf(&sb, "if ! frugal_agent_check \"$1\" %s; then\n"
			    "\techo \"frugal: $frugal_reason\" >&2\n"
			    "\tif [ -w /dev/termination-log ]; then\n"
			    "\t\techo \"frugal: $frugal_reason\" > /dev/termination-log\n"
			    "\tfi\n"
			    "\texit %d\nfi\n"
			    "exec \"$1\" agent --instance-dir \"$2\"\n", a->arch, K8S_BOOT_CHECK_STATUS);
		json_object_set_new(c, "command", json_pack("[s, s, s, s, s, s]", "/bin/sh", "-c",
							    sb.buf, "frugal-boot", a->frugal_bin,
							    a->instance_dir));
		strbuf_release(&sb);
	} else {
		json_object_set_new(c, "command", json_pack("[s, s, s, s]", a->frugal_bin, "agent",
							    "--instance-dir", a->instance_dir));
	}
	json_object_set_new(c, "env", env_of(a));
	json_object_set_new(c, "resources", resources_of(a));
	mount = json_pack("{s:s, s:s}", "name", K8S_VOLUME, "mountPath", a->mount_path);
	if (a->sub_path && *a->sub_path)
		json_object_set_new(mount, "subPath", json_string(a->sub_path));
	json_object_set_new(c, "volumeMounts", json_pack("[o]", mount));
	claims_of(a, json_object_get(c, "volumeMounts"), NULL);
	return c;
}

/* Node selector, affinity and tolerations: which nodes may run the pod. */
static void placement_of(const struct k8s_attempt *a, json_t *spec)
{
	json_t *sel = json_object(), *tol = json_array();

	if (a->gpus > 0 && a->gpu_label && a->gpu_value)
		json_object_set_new(sel, a->gpu_label, json_string(a->gpu_value));
	if (a->arch)
		json_object_set_new(sel, "kubernetes.io/arch", json_string(k8s_node_arch(a->arch)));
	if (a->instance_type)
		json_object_set_new(sel, "node.kubernetes.io/instance-type",
				    json_string(a->instance_type));
	if (a->gpus > 0)
		/* GPU nodes are commonly tainted with the resource name. */
		json_array_append_new(tol, json_pack("{s:s, s:s, s:s}", "key", a->gpu_resource,
						     "operator", "Exists", "effect", "NoSchedule"));
	if (a->spot_label) {
		/* Spot: only spot nodes, their taint tolerated. On-demand: never
		 * a spot node (a reclaim would be a surprise there). */
		json_t *expr = json_pack("{s:s, s:s, s:[s]}", "key", a->spot_label, "operator",
					 a->spot ? "In" : "NotIn", "values",
					 a->spot_value ? a->spot_value : "true");
		json_object_set_new(spec, "affinity", json_pack(
			"{s:{s:{s:[{s:[o]}]}}}", "nodeAffinity",
			"requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms",
			"matchExpressions", expr));
		if (a->spot)
			json_array_append_new(tol, json_pack("{s:s, s:s}", "key",
							     a->spot_taint ? a->spot_taint
									   : a->spot_label,
							     "operator", "Exists"));
	}
	if (json_object_size(sel))
		json_object_set(spec, "nodeSelector", sel);
	if (json_array_size(tol))
		json_object_set(spec, "tolerations", tol);
	json_decref(sel);
	json_decref(tol);
}

/* The v1 Service of the attempt's ports (see k8s_job.h). */
json_t *k8s_service_manifest(const struct k8s_attempt *a, const char *type,
			     const struct port_range *ports, size_t n)
{
	json_t *svc = json_object(), *spec = json_object(), *sel = json_object();
	json_t *list = json_array();
	char num[16];
	size_t i;
	int port;

	snprintf(num, sizeof(num), "%d", a->attempt);
	json_object_set_new(sel, K8S_LABEL_JOB, json_string(a->job_id));
	json_object_set_new(sel, K8S_LABEL_ATTEMPT, json_string(num));
	if (a->home_tag)
		json_object_set_new(sel, K8S_LABEL_HOME, json_string(a->home_tag));
	for (i = 0; i < n && json_array_size(list) < K8S_MAX_PORTS; i++)
		for (port = ports[i].from; port <= ports[i].to &&
		     json_array_size(list) < K8S_MAX_PORTS; port++) {
			char pname[16];

			snprintf(pname, sizeof(pname), "p%d", port);
			json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:i}", "name", pname,
							      "protocol", "TCP", "port", port,
							      "targetPort", port));
		}
	json_object_set_new(spec, "type", json_string(type));
	json_object_set_new(spec, "selector", sel);
	json_object_set_new(spec, "ports", list);
	json_object_set_new(svc, "apiVersion", json_string("v1"));
	json_object_set_new(svc, "kind", json_string("Service"));
	json_object_set_new(svc, "metadata", metadata_of(a));
	json_object_set_new(svc, "spec", spec);
	return svc;
}

/* The batch/v1 Job of the attempt (see k8s_job.h). */
json_t *k8s_job_manifest(const struct k8s_attempt *a)
{
	json_t *job = json_object(), *spec = json_object(), *pod = json_object();
	json_t *pmeta = json_object();

	json_object_set_new(pod, "restartPolicy", json_string("Never"));
	json_object_set_new(pod, "terminationGracePeriodSeconds", json_integer(a->grace_s));
	if (a->service_account) {
		json_object_set_new(pod, "serviceAccountName", json_string(a->service_account));
	} else {
		/* The job's code gets no credentials for the cluster. */
		json_object_set_new(pod, "automountServiceAccountToken", json_false());
	}
	json_object_set_new(pod, "enableServiceLinks", json_false());
	placement_of(a, pod);
	json_object_set_new(pod, "containers", json_pack("[o]", container_of(a)));
	json_object_set_new(pod, "volumes", json_pack("[{s:s, s:{s:s}}]", "name", K8S_VOLUME,
						      "persistentVolumeClaim", "claimName",
						      a->pvc));
	claims_of(a, NULL, json_object_get(pod, "volumes"));
	json_object_set_new(pmeta, "labels", labels_of(a));

	json_object_set_new(spec, "backoffLimit", json_integer(0));
	json_object_set_new(spec, "completions", json_integer(1));
	json_object_set_new(spec, "parallelism", json_integer(1));
	if (a->deadline_s > 0)
		json_object_set_new(spec, "activeDeadlineSeconds", json_integer(a->deadline_s));
	if (a->ttl_s >= 0)
		json_object_set_new(spec, "ttlSecondsAfterFinished", json_integer(a->ttl_s));
	/* A disrupted pod fails the Job with reason PodFailurePolicy, so a
	 * preemption is still told from an error once the pod is gone. */
	json_object_set_new(spec, "podFailurePolicy", json_pack(
		"{s:[{s:s, s:[{s:s, s:s}]}]}", "rules", "action", "FailJob", "onPodConditions",
		"type", "DisruptionTarget", "status", "True"));
	json_object_set_new(spec, "template", json_pack("{s:o, s:o}", "metadata", pmeta,
							"spec", pod));

	json_object_set_new(job, "apiVersion", json_string("batch/v1"));
	json_object_set_new(job, "kind", json_string("Job"));
	json_object_set_new(job, "metadata", metadata_of(a));
	json_object_set_new(job, "spec", spec);
	return job;
}

/* ---- the Secret ---------------------------------------------------------------- */

static void base64_add(struct strbuf *sb, const char *data, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)data;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		strbuf_addch(sb, tab[p[i] >> 2]);
		strbuf_addch(sb, tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		strbuf_addch(sb, tab[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
		strbuf_addch(sb, tab[p[i + 2] & 63]);
	}
	if (len - i == 1) {
		strbuf_addch(sb, tab[p[i] >> 2]);
		strbuf_addch(sb, tab[(p[i] & 3) << 4]);
		strbuf_adds(sb, "==");
	} else if (len - i == 2) {
		strbuf_addch(sb, tab[p[i] >> 2]);
		strbuf_addch(sb, tab[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		strbuf_addch(sb, tab[(p[i + 1] & 15) << 2]);
		strbuf_addch(sb, '=');
	}
}

/* The v1 Secret of the attempt as text (see k8s_job.h). */
int k8s_secret_manifest(const struct k8s_attempt *a, const struct kvlist *secrets,
			char **ret_text, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *meta = metadata_of(a);
	char *mtext = json_dumps(meta, JSON_COMPACT | JSON_SORT_KEYS);
	size_t i, n = 0;
	int r = 0;

	*ret_text = NULL;
	/* Built by hand, so that no copy of a value is left in a JSON tree:
	 * names are checked environment names and base64 needs no escapes. */
	strbuf_addf(&sb, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":%s,"
		    "\"type\":\"Opaque\",\"data\":{", mtext);
	for (i = 0; secrets && i < secrets->n; i++) {
		const struct kv *kv = &secrets->items[i];

		if (!kv->value)
			continue;
		if (!env_name_valid(kv->key, (size_t)-1)) {
			r = error_set(err, FRUGAL_EINVAL, "secret name '%s' is not a valid"
				      " environment variable name", kv->key);
			goto out;
		}
		strbuf_addf(&sb, "%s\"%s\":\"", n++ ? "," : "", kv->key);
		base64_add(&sb, kv->value, strlen(kv->value));
		strbuf_addch(&sb, '"');
	}
	strbuf_adds(&sb, "}}");
	if (n)
		*ret_text = strbuf_detach(&sb, NULL);
out:
	secure_zero(sb.buf, sb.len);
	strbuf_release(&sb);
	free(mtext);
	json_decref(meta);
	return r;
}

/* ---- reading the cluster's answers ------------------------------------------------ */

int64_t k8s_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	int64_t ms = 0, off = 0;
	const char *p;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	p = s + n;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		while (digits++ < 3)
			ms *= 10;
	}
	if (*p == '+' || *p == '-') {
		int oh, om;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			return -1;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
	} else if (*p != 'Z' && *p != 'z') {
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return ((int64_t)timegm(&tm) - off) * 1000 + ms;
}

/* The condition of type in obj.status.conditions with status "True". */
static const json_t *condition_true(const json_t *obj, const char *type)
{
	const json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions");
	size_t i;

	for (i = 0; i < json_array_size(conds); i++) {
		const json_t *c = json_array_get(conds, i);
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));

		if (t && st && !strcmp(t, type) && !strcmp(st, "True"))
			return c;
	}
	return NULL;
}

/* obj.a(.b) as a string, or NULL. */
static const char *str_at(const json_t *obj, const char *a, const char *b)
{
	const json_t *v = json_object_get(obj, a);

	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

/* A waiting reason that ends a pod's start for good. */
static int waiting_fatal(const char *reason)
{
	return !strcmp(reason, "InvalidImageName") || !strcmp(reason, "ErrImageNeverPull");
}

/* A waiting reason that may still clear (it gets start_timeout). */
static int waiting_stuck(const char *reason)
{
	return !strcmp(reason, "ErrImagePull") || !strcmp(reason, "ImagePullBackOff") ||
	       !strcmp(reason, "CreateContainerConfigError") ||
	       !strcmp(reason, "CreateContainerError") || !strcmp(reason, "RunContainerError");
}

/* Pods counted by what they are doing. */
struct pod_tally {
	int running, pending, done, stuck;
	int64_t newest;
};

/* One pod into the view: counts, disruption, why it is stuck. */
static void view_pod(const json_t *pod, int64_t now_ms, int64_t start_timeout_s,
		     struct k8s_view *v, struct pod_tally *t)
{
	const char *name = str_at(pod, "metadata", "name");
	const char *phase = str_at(pod, "status", "phase");
	const char *preason = str_at(pod, "status", "reason");
	const json_t *cs = json_object_get(json_object_get(pod, "status"), "containerStatuses");
	const json_t *dt = condition_true(pod, "DisruptionTarget");
	int64_t created = k8s_parse_time(str_at(pod, "metadata", "creationTimestamp"));
	size_t i;

	v->n_pods++;
	if (name && created >= t->newest) {
		t->newest = created;
		snprintf(v->pod, sizeof(v->pod), "%s", name);
	}
	if (dt) {
		v->disrupted = 1;
		snprintf(v->reason, sizeof(v->reason), "pod %s: DisruptionTarget: %s", name ? name : "?",
			 str_at(dt, "reason", NULL) ? str_at(dt, "reason", NULL) : "disrupted");
	}
	/* The kubelet's own evictions (node pressure) and node shutdowns. */
	if (preason && (!strcmp(preason, "Evicted") || !strcmp(preason, "Terminated") ||
			!strcmp(preason, "Shutdown") || !strcmp(preason, "NodeShutdown"))) {
		v->disrupted = 1;
		snprintf(v->reason, sizeof(v->reason), "pod %s: %s", name ? name : "?", preason);
	}
	if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))) {
		t->done++;
		/* Why the container ended, when it did not end well. */
		for (i = 0; i < json_array_size(cs); i++) {
			const json_t *term = json_object_get(json_object_get(json_array_get(cs, i),
									   "state"), "terminated");
			const char *tr = str_at(term, "reason", NULL);
			const char *tm = str_at(term, "message", NULL);
			json_int_t code = json_integer_value(json_object_get(term, "exitCode"));

			if (term && code != 0 && !v->disrupted)
				snprintf(v->reason, sizeof(v->reason), "pod %s: container terminated:"
					 " %s (exit code %lld)%s%s", name ? name : "?",
					 tr ? tr : "Error", (long long)code, tm ? ": " : "",
					 tm ? tm : "");
		}
		return;
	}
	if (phase && !strcmp(phase, "Running")) {
		t->running++;
		return;
	}
	t->pending++;
	for (i = 0; i < json_array_size(cs); i++) {
		const json_t *w = json_object_get(json_object_get(json_array_get(cs, i), "state"),
						  "waiting");
		const char *wr = str_at(w, "reason", NULL);
		const char *wm = str_at(w, "message", NULL);

		if (!wr)
			continue;
		snprintf(v->reason, sizeof(v->reason), "pod %s: %s%s%s", name ? name : "?", wr,
			 wm ? ": " : "", wm ? wm : "");
		if (waiting_fatal(wr) ||
		    (waiting_stuck(wr) && created > 0 && start_timeout_s > 0 &&
		     now_ms - created > start_timeout_s * 1000))
			t->stuck++;
	}
	if (!cs || !json_array_size(cs)) {
		/* Not scheduled yet: say why (no GPU node free, ...). */
		const json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
		for (i = 0; i < json_array_size(conds); i++) {
			const json_t *c = json_array_get(conds, i);
			const char *ty = str_at(c, "type", NULL), *st = str_at(c, "status", NULL);
			const char *msg = str_at(c, "message", NULL);

			if (ty && st && !strcmp(ty, "PodScheduled") && !strcmp(st, "False") && msg)
				snprintf(v->reason, sizeof(v->reason), "pod %s: not scheduled: %s",
					 name ? name : "?", msg);
		}
	}
}

/* What the Job and its pods say of the attempt (see k8s_job.h). */
void k8s_view_of(const json_t *job, const json_t *pods, int64_t now_ms, int64_t start_timeout_s,
		 struct k8s_view *ret)
{
	struct k8s_view v;
	struct pod_tally t = { 0, 0, 0, 0, -1 };
	const json_t *items = json_object_get(pods, "items");
	const json_t *failed, *grace;
	size_t i;

	memset(&v, 0, sizeof(v));
	v.state = INSTANCE_GONE;
	v.grace_s = 30;
	for (i = 0; i < json_array_size(items); i++)
		view_pod(json_array_get(items, i), now_ms, start_timeout_s, &v, &t);
	if (!job) {
		*ret = v;
		return;
	}
	v.exists = 1;
	grace = json_object_get(json_object_get(json_object_get(json_object_get(job, "spec"),
					"template"), "spec"), "terminationGracePeriodSeconds");
	if (json_is_integer(grace))
		v.grace_s = json_integer_value(grace);
	v.deleting = json_object_get(json_object_get(job, "metadata"), "deletionTimestamp") != NULL;
	failed = condition_true(job, "Failed");
	if (!failed)
		failed = condition_true(job, "FailureTarget");
	v.finished = failed || condition_true(job, "Complete");
	if (failed) {
		const char *reason = str_at(failed, "reason", NULL);
		const char *msg = str_at(failed, "message", NULL);

		if (reason && !strcmp(reason, "PodFailurePolicy") && msg &&
		    strstr(msg, "DisruptionTarget"))
			v.disrupted = 1;
		if (!v.reason[0] || (v.disrupted && strstr(v.reason, "DisruptionTarget") == NULL))
			snprintf(v.reason, sizeof(v.reason), "job failed: %s%s%s",
				 reason ? reason : "?", msg ? ": " : "", msg ? msg : "");
	}
	if (t.running)
		v.state = INSTANCE_RUNNING;
	else if (t.pending && t.stuck < t.pending)
		v.state = INSTANCE_PENDING;
	else if (t.pending)
		v.state = INSTANCE_GONE;	/* cannot start: let the controller end it */
	else if (!t.done && !v.finished && !v.deleting)
		v.state = INSTANCE_PENDING;	/* the Job has not made its pod yet */
	else
		v.state = INSTANCE_GONE;
	*ret = v;
}
