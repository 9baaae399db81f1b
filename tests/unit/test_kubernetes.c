/*
 * Unit tests for provider/k8s_job: the Job and Secret of an attempt (every
 * field the backend promises, no secret value outside the Secret, every
 * property known to the published Kubernetes OpenAPI schema), and the
 * reading of Jobs and pods into pending / running / gone / disrupted, the
 * backends.kubernetes settings (defaults, misspelt keys) and ledger tokens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "backend/kubernetes/k8s_api.h"
#include "backend/kubernetes/k8s_exec.h"
#include "backend/kubernetes/k8s_job.h"
#include "backend/kubernetes/k8s_settings.h"
#include "spec/config.h"

#define SECRET_VALUE "hunter2-very-secret"

/* ---- names and quantities ------------------------------------------------------- */

static void test_names(void **state)
{
	char *s;

	s = k8s_object_name("k3m9xq-2");
	assert_string_equal(s, "frugal-k3m9xq-2");
	free(s);
	assert_null(k8s_object_name("Upper-1"));
	assert_null(k8s_object_name("a_b-1"));
	assert_null(k8s_object_name(""));
	assert_null(k8s_object_name("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh-1"));

	s = k8s_label_value("root@host.example");
	assert_string_equal(s, "root.host.example");
	free(s);
	s = k8s_label_value("@@me@@");
	assert_string_equal(s, "me");
	free(s);
	s = k8s_label_value("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(strlen(s), 63);
	free(s);
}

static void test_quantities(void **state)
{
	char *q;

	q = k8s_cpu_quantity(4);
	assert_string_equal(q, "4");
	free(q);
	q = k8s_cpu_quantity(0.5);
	assert_string_equal(q, "500m");
	free(q);
	q = k8s_cpu_quantity(1.25);
	assert_string_equal(q, "1250m");
	free(q);
	q = k8s_gib_quantity(32);
	assert_string_equal(q, "32Gi");
	free(q);
	q = k8s_gib_quantity(0.5);
	assert_string_equal(q, "512Mi");
	free(q);
}

/* ---- the published schema ---------------------------------------------------------- */

/* The OpenAPI document at FRUGAL_SHARED/specs/kubernetes-client-go/...; NULL
 * when it is not on this machine. */
static json_t *load_spec(const char *file)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *path;
	json_t *doc;

	if (!shared)
		return NULL;
	path = xasprintf("%s/specs/kubernetes-client-go/openapi/openapitest/testdata/%s", shared,
			 file);
	doc = json_load_file(path, 0, NULL);
	free(path);
	return doc;
}

/* The schema a $ref / allOf wrapper stands for. */
static const json_t *resolve(const json_t *spec, const json_t *s)
{
	for (;;) {
		const char *ref = json_string_value(json_object_get(s, "$ref"));
		const json_t *all = json_object_get(s, "allOf");

		if (ref) {
			s = json_object_get(json_object_get(json_object_get(spec, "components"),
							    "schemas"), strrchr(ref, '/') + 1);
		} else if (json_array_size(all) == 1) {
			s = json_array_get(all, 0);
		} else {
			return s;
		}
	}
}

/* The first way value breaks the schema, or NULL: a property the schema
 * does not know, a wrong JSON type, a required property missing (what
 * fieldValidation=Strict and the API server's validation refuse). where
 * names value in the message. Caller frees. */
static char *schema_problem(const json_t *spec, const json_t *schema, const json_t *value,
			    const char *where)
{
	const json_t *s = resolve(spec, schema);
	const char *type = json_string_value(json_object_get(s, "type"));
	const json_t *props = json_object_get(s, "properties");
	const json_t *req = json_object_get(s, "required");
	char *bad = NULL;
	const char *key;
	json_t *v;
	size_t i;

	if (!s)
		return xasprintf("%s: schema not found", where);
	if (type && !strcmp(type, "string") && !json_is_string(value))
		return xasprintf("%s: expected a string", where);
	if (type && !strcmp(type, "integer") && !json_is_integer(value))
		return xasprintf("%s: expected an integer", where);
	if (type && !strcmp(type, "boolean") && !json_is_boolean(value))
		return xasprintf("%s: expected a boolean", where);
	if (type && !strcmp(type, "array")) {
		if (!json_is_array(value))
			return xasprintf("%s: expected an array", where);
		json_array_foreach(value, i, v) {
			char *w = xasprintf("%s[%zu]", where, i);
			bad = schema_problem(spec, json_object_get(s, "items"), v, w);
			free(w);
			if (bad)
				return bad;
		}
	}
	if ((type && !strcmp(type, "object")) || props) {
		if (!json_is_object(value))
			return xasprintf("%s: expected an object", where);
		json_object_foreach((json_t *)value, key, v) {
			const json_t *sub = props ? json_object_get(props, key)
						  : json_object_get(s, "additionalProperties");
			char *w = xasprintf("%s.%s", where, key);

			bad = sub ? schema_problem(spec, sub, v, w)
				  : xasprintf("%s: unknown field", w);
			free(w);
			if (bad)
				return bad;
		}
		for (i = 0; i < json_array_size(req); i++)
			if (!json_object_get(value, json_string_value(json_array_get(req, i))))
				return xasprintf("%s: required field '%s' missing", where,
						 json_string_value(json_array_get(req, i)));
	}
	return NULL;
}

/* The problem value has against schema_name of the document file; ""
 * when the document is not on this machine (the check is skipped). */
static char *problem_against(const char *file, const char *schema_name, const json_t *value)
{
	json_t *spec = load_spec(file), *ref;
	char *bad;

	if (!spec) {
		print_message("schema check skipped: the OpenAPI documents are not here\n");
		return xstrdup("");
	}
	ref = json_pack("{s:s}", "$ref", schema_name);
	bad = schema_problem(spec, ref, value, strrchr(schema_name, '.') + 1);
	json_decref(ref);
	json_decref(spec);
	return bad;
}

static void check_against(const char *file, const char *schema_name, const json_t *value)
{
	char *bad = problem_against(file, schema_name, value);

	if (bad && *bad)
		fail_msg("%s", bad);
	free(bad);
}

/* The checker itself finds what it must. */
static void test_schema_checker(void **state)
{
	static const char *const bad_jobs[] = {
		"{\"spec\":{\"backofLimit\":0}}",			/* misspelt */
		"{\"spec\":{\"backoffLimit\":\"0\"}}",			/* wrong type */
		"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}",
		"{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\","
		"\"env\":[{\"name\":\"X\",\"valueFrom\":{\"secretRef\":{}}}]}]}}}}",
		NULL,
	};
	size_t i;
	char *bad;

	for (i = 0; bad_jobs[i]; i++) {
		json_t *doc = json_loads(bad_jobs[i], 0, NULL);

		assert_non_null(doc);
		bad = problem_against("apis__batch__v1_openapi.json",
				      "#/components/schemas/io.k8s.api.batch.v1.Job", doc);
		if (!bad)
			fail_msg("the checker accepted %s", bad_jobs[i]);
		free(bad);
		json_decref(doc);
	}
}

/* ---- manifests ---------------------------------------------------------------------- */

static const char *const secret_names[] = { "WANDB_API_KEY", NULL };
static const char *const extra_env[] = { "FRUGAL_FAULT=agent.x", NULL };

static void attempt_init(struct k8s_attempt *a)
{
	memset(a, 0, sizeof(*a));
	a->name = "frugal-k3m9xq-2";
	a->namespace = "ml";
	a->token = "k3m9xq-2";
	a->job_id = "k3m9xq";
	a->attempt = 2;
	a->owner = "alice.laptop";
	a->home_tag = "1a2b3c4d";
	a->image = "nvcr.io/nvidia/pytorch:24.05-py3";
	a->frugal_bin = "/usr/local/bin/frugal";
	a->instance_dir = "/frugal/instances/k3m9xq-2";
	a->env = extra_env;
	a->secret_names = secret_names;
	a->gpus = 2;
	a->gpu_resource = "amd.com/gpu";
	a->gpu_label = "cloud.google.com/gke-accelerator";
	a->gpu_value = "nvidia-tesla-a100";
	a->cpus = 4;
	a->memory_gib = 32;
	a->disk_gib = 100;
	a->spot = 1;
	a->spot_label = "cloud.google.com/gke-spot";
	a->spot_value = "true";
	a->grace_s = 45;
	a->deadline_s = 3600;
	a->ttl_s = 600;
	a->pvc = "frugal-data";
	a->mount_path = "/frugal";
	a->sub_path = "team-a";
}

/* The value at a '/'-separated path of objects and array indexes. */
static const json_t *at(const json_t *v, const char *path)
{
	char *copy = xstrdup(path), *save = NULL, *part;

	for (part = strtok_r(copy, "/", &save); part && v; part = strtok_r(NULL, "/", &save)) {
		char *tilde;

		/* JSON Pointer's escape: "~1" is a '/' inside a key. */
		while ((tilde = strstr(part, "~1"))) {
			*tilde = '/';
			memmove(tilde + 1, tilde + 2, strlen(tilde + 2) + 1);
		}
		if (json_is_array(v))
			v = json_array_get(v, (size_t)atoi(part));
		else
			v = json_object_get(v, part);
	}
	free(copy);
	return v;
}

static const char *str(const json_t *v, const char *path)
{
	const char *s = json_string_value(at(v, path));

	if (!s)
		fail_msg("no string at %s", path);
	return s;
}

static json_int_t num(const json_t *v, const char *path)
{
	if (!json_is_integer(at(v, path)))
		fail_msg("no integer at %s", path);
	return json_integer_value(at(v, path));
}

/* volumes: a claim (pvc:// or a bare name) is a pod volume mounted where
 * the agent links it; other kinds are not the pod's. */
static void test_job_manifest_claims(void **state)
{
	struct volume_list vl = VOLUME_LIST_INIT;
	struct volume v = { 0 };
	struct k8s_attempt a;
	const json_t *pod, *c;
	json_t *job;

	(void)state;
	v.dst = "/data";
	v.kind = "pvc";
	v.ref = "datasets";
	v.read_only = 1;
	volume_list_append(&vl, &v);
	v.dst = "ckpt";
	v.kind = "dir";
	v.ref = "/srv/x";
	v.read_only = 0;
	volume_list_append(&vl, &v);
	v.dst = "/out";
	v.kind = VOLUME_KIND_NAME;
	v.ref = "outputs-efs";
	volume_list_append(&vl, &v);
	attempt_init(&a);
	a.volumes = &vl;
	job = k8s_job_manifest(&a);
	pod = at(job, "spec/template/spec");
	c = at(pod, "containers/0");
	assert_int_equal(json_array_size(at(pod, "volumes")), 3);	/* storage + 2 claims */
	assert_string_equal(str(pod, "volumes/1/name"), "frugal-vol-0");
	assert_string_equal(str(pod, "volumes/1/persistentVolumeClaim/claimName"), "datasets");
	assert_true(json_is_true(at(pod, "volumes/1/persistentVolumeClaim/readOnly")));
	assert_string_equal(str(pod, "volumes/2/name"), "frugal-vol-2");
	assert_string_equal(str(pod, "volumes/2/persistentVolumeClaim/claimName"), "outputs-efs");
	assert_true(json_is_false(at(pod, "volumes/2/persistentVolumeClaim/readOnly")));
	assert_int_equal(json_array_size(at(c, "volumeMounts")), 3);
	assert_string_equal(str(c, "volumeMounts/1/name"), "frugal-vol-0");
	assert_string_equal(str(c, "volumeMounts/1/mountPath"), PROVIDER_VOLUME_ROOT "/0");
	assert_true(json_is_true(at(c, "volumeMounts/1/readOnly")));
	assert_string_equal(str(c, "volumeMounts/2/mountPath"), PROVIDER_VOLUME_ROOT "/2");
	json_decref(job);
	volume_list_release(&vl);
}

static void test_job_manifest(void **state)
{
	struct k8s_attempt a;
	json_t *job;
	const json_t *pod, *c;
	char *text;

	attempt_init(&a);
	job = k8s_job_manifest(&a);
	assert_string_equal(str(job, "apiVersion"), "batch/v1");
	assert_string_equal(str(job, "kind"), "Job");
	assert_string_equal(str(job, "metadata/name"), "frugal-k3m9xq-2");
	assert_string_equal(str(job, "metadata/namespace"), "ml");
	assert_string_equal(str(job, "metadata/labels/frugal-job"), "k3m9xq");
	assert_string_equal(str(job, "metadata/labels/frugal-attempt"), "2");
	assert_string_equal(str(job, "metadata/labels/frugal-owner"), "alice.laptop");
	assert_string_equal(str(job, "metadata/labels/frugal-home"), "1a2b3c4d");
	assert_int_equal(num(job, "spec/backoffLimit"), 0);
	assert_int_equal(num(job, "spec/activeDeadlineSeconds"), 3600);
	assert_int_equal(num(job, "spec/ttlSecondsAfterFinished"), 600);
	assert_string_equal(str(job, "spec/podFailurePolicy/rules/0/action"), "FailJob");
	assert_string_equal(str(job, "spec/podFailurePolicy/rules/0/onPodConditions/0/type"),
			    "DisruptionTarget");
	assert_string_equal(str(job, "spec/template/metadata/labels/frugal-job"), "k3m9xq");

	pod = at(job, "spec/template/spec");
	assert_string_equal(str(pod, "restartPolicy"), "Never");
	assert_int_equal(num(pod, "terminationGracePeriodSeconds"), 45);
	assert_true(json_is_false(at(pod, "automountServiceAccountToken")));
	assert_string_equal(str(pod, "nodeSelector/cloud.google.com~1gke-accelerator"),
			    "nvidia-tesla-a100");
	assert_string_equal(str(pod, "affinity/nodeAffinity/requiredDuringSchedulingIgnored"
				"DuringExecution/nodeSelectorTerms/0/matchExpressions/0/operator"),
			    "In");
	assert_string_equal(str(pod, "affinity/nodeAffinity/requiredDuringSchedulingIgnored"
				"DuringExecution/nodeSelectorTerms/0/matchExpressions/0/key"),
			    "cloud.google.com/gke-spot");
	assert_string_equal(str(pod, "tolerations/0/key"), "amd.com/gpu");
	assert_string_equal(str(pod, "tolerations/1/key"), "cloud.google.com/gke-spot");
	assert_string_equal(str(pod, "tolerations/1/operator"), "Exists");
	assert_string_equal(str(pod, "volumes/0/persistentVolumeClaim/claimName"), "frugal-data");

	c = at(pod, "containers/0");
	assert_string_equal(str(c, "name"), "job");
	assert_string_equal(str(c, "image"), "nvcr.io/nvidia/pytorch:24.05-py3");
	assert_string_equal(str(c, "command/0"), "/usr/local/bin/frugal");
	assert_string_equal(str(c, "command/1"), "agent");
	assert_string_equal(str(c, "command/2"), "--instance-dir");
	assert_string_equal(str(c, "command/3"), "/frugal/instances/k3m9xq-2");
	assert_string_equal(str(c, "resources/limits/amd.com~1gpu"), "2");
	assert_string_equal(str(c, "resources/requests/cpu"), "4");
	assert_string_equal(str(c, "resources/requests/memory"), "32Gi");
	assert_string_equal(str(c, "resources/requests/ephemeral-storage"), "100Gi");
	assert_string_equal(str(c, "env/0/name"), "FRUGAL_SIGTERM_NOTICE_WINDOW");
	assert_string_equal(str(c, "env/0/value"), "45");
	assert_string_equal(str(c, "env/1/name"), "FRUGAL_FAULT");
	assert_string_equal(str(c, "env/1/value"), "agent.x");
	assert_string_equal(str(c, "env/2/name"), "WANDB_API_KEY");
	assert_string_equal(str(c, "env/2/valueFrom/secretKeyRef/name"), "frugal-k3m9xq-2");
	assert_string_equal(str(c, "env/2/valueFrom/secretKeyRef/key"), "WANDB_API_KEY");
	assert_string_equal(str(c, "volumeMounts/0/mountPath"), "/frugal");
	assert_string_equal(str(c, "volumeMounts/0/subPath"), "team-a");
	assert_string_equal(str(c, "volumeMounts/0/name"), str(pod, "volumes/0/name"));

	check_against("apis__batch__v1_openapi.json", "#/components/schemas/io.k8s.api.batch.v1.Job",
		      job);
	text = json_dumps(job, 0);
	assert_null(strstr(text, SECRET_VALUE));
	free(text);
	json_decref(job);

	/* On-demand with a spot config: kept off spot nodes, no toleration;
	 * no GPU: no GPU limit, selector or toleration; no deadline, no TTL. */
	a.spot = 0;
	a.gpus = 0;
	a.deadline_s = 0;
	a.ttl_s = -1;
	a.sub_path = NULL;
	a.service_account = "runner";
	a.cpus = 0.5;
	job = k8s_job_manifest(&a);
	pod = at(job, "spec/template/spec");
	assert_string_equal(str(pod, "affinity/nodeAffinity/requiredDuringSchedulingIgnored"
				"DuringExecution/nodeSelectorTerms/0/matchExpressions/0/operator"),
			    "NotIn");
	assert_null(at(pod, "tolerations"));
	assert_null(at(pod, "nodeSelector"));
	assert_null(at(pod, "containers/0/resources/limits"));
	assert_string_equal(str(pod, "containers/0/resources/requests/cpu"), "500m");
	assert_null(at(pod, "containers/0/volumeMounts/0/subPath"));
	assert_null(at(job, "spec/activeDeadlineSeconds"));
	assert_null(at(job, "spec/ttlSecondsAfterFinished"));
	assert_string_equal(str(pod, "serviceAccountName"), "runner");
	assert_null(at(pod, "automountServiceAccountToken"));
	check_against("apis__batch__v1_openapi.json", "#/components/schemas/io.k8s.api.batch.v1.Job",
		      job);
	json_decref(job);

	/* No spot config at all: no affinity. */
	a.spot_label = NULL;
	job = k8s_job_manifest(&a);
	assert_null(at(job, "spec/template/spec/affinity"));
	json_decref(job);
}

static void test_secret_manifest(void **state)
{
	struct k8s_attempt a;
	struct kvlist secrets = { 0 };
	struct error err = ERROR_INIT;
	json_t *doc;
	char *text = NULL;

	attempt_init(&a);
	/* Nothing with a value: no Secret. */
	kvlist_set(&secrets, "EMPTY", NULL);
	assert_int_equal(k8s_secret_manifest(&a, &secrets, &text, &err), 0);
	assert_null(text);

	kvlist_set(&secrets, "WANDB_API_KEY", SECRET_VALUE);
	kvlist_set(&secrets, "B", "ab");
	assert_int_equal(k8s_secret_manifest(&a, &secrets, &text, &err), 0);
	assert_non_null(text);
	/* Base64 only: the value never appears in clear. */
	assert_null(strstr(text, SECRET_VALUE));
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(str(doc, "kind"), "Secret");
	assert_string_equal(str(doc, "type"), "Opaque");
	assert_string_equal(str(doc, "metadata/name"), "frugal-k3m9xq-2");
	assert_string_equal(str(doc, "metadata/labels/frugal-home"), "1a2b3c4d");
	assert_string_equal(str(doc, "data/WANDB_API_KEY"), "aHVudGVyMi12ZXJ5LXNlY3JldA==");
	assert_string_equal(str(doc, "data/B"), "YWI=");
	assert_null(at(doc, "data/EMPTY"));
	check_against("api__v1_openapi.json", "#/components/schemas/io.k8s.api.core.v1.Secret", doc);
	json_decref(doc);
	free(text);

	kvlist_set(&secrets, "BAD-NAME", "x");
	assert_int_equal(k8s_secret_manifest(&a, &secrets, &text, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(error_msg(&err), "BAD-NAME"));
	assert_null(text);
	kvlist_release(&secrets);
}

/* ---- reading the cluster ------------------------------------------------------------ */

#define NOW 1800000000000LL	/* 2027-01-15T08:00:00Z */

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);

	if (!v)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return v;
}

static void view(const char *job, const char *pods, struct k8s_view *v)
{
	json_t *j = job ? J(job) : NULL, *p = pods ? J(pods) : NULL;

	k8s_view_of(j, p, NOW, 600, v);
	json_decref(j);
	json_decref(p);
}

#define JOB_ACTIVE "{\"metadata\":{\"name\":\"frugal-a-1\"},\"spec\":{\"template\":{\"spec\":" \
		   "{\"terminationGracePeriodSeconds\":20}}},\"status\":{\"active\":1}}"
#define POD(phase, extra) "{\"items\":[{\"metadata\":{\"name\":\"frugal-a-1-x\"," \
	"\"creationTimestamp\":\"2027-01-15T07:55:00Z\"},\"status\":{\"phase\":\"" phase "\"" \
	extra "}}]}"

static void test_view(void **state)
{
	struct k8s_view v;

	view(NULL, NULL, &v);
	assert_false(v.exists);
	assert_int_equal(v.state, INSTANCE_GONE);

	/* Job made, pod not yet. */
	view(JOB_ACTIVE, "{\"items\":[]}", &v);
	assert_true(v.exists);
	assert_int_equal(v.state, INSTANCE_PENDING);
	assert_int_equal(v.grace_s, 20);

	view(JOB_ACTIVE, POD("Running", ""), &v);
	assert_int_equal(v.state, INSTANCE_RUNNING);
	assert_string_equal(v.pod, "frugal-a-1-x");
	assert_false(v.disrupted);

	/* Unschedulable: pending, with the scheduler's word. */
	view(JOB_ACTIVE, POD("Pending", ",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"
			      "\"False\",\"reason\":\"Unschedulable\",\"message\":\"0/3 nodes are"
			      " available: 3 Insufficient nvidia.com/gpu.\"}]"), &v);
	assert_int_equal(v.state, INSTANCE_PENDING);
	assert_non_null(strstr(v.reason, "Insufficient nvidia.com/gpu"));

	/* Image pull back-off: pending while young (5 min < 10 min) ... */
	view(JOB_ACTIVE, POD("Pending", ",\"containerStatuses\":[{\"name\":\"job\",\"state\":"
			      "{\"waiting\":{\"reason\":\"ImagePullBackOff\",\"message\":\"Back-off"
			      " pulling image\"}}}]"), &v);
	assert_int_equal(v.state, INSTANCE_PENDING);
	assert_non_null(strstr(v.reason, "ImagePullBackOff"));
	/* ... gone once older than start_timeout. */
	{
		json_t *j = J(JOB_ACTIVE), *p = J(POD("Pending", ",\"containerStatuses\":[{\"state\":"
						     "{\"waiting\":{\"reason\":\"ErrImagePull\"}}}]"));
		k8s_view_of(j, p, NOW + 6 * 60 * 1000, 600, &v);
		assert_int_equal(v.state, INSTANCE_GONE);
		json_decref(j);
		json_decref(p);
	}
	/* A bad image name never starts. */
	view(JOB_ACTIVE, POD("Pending", ",\"containerStatuses\":[{\"state\":{\"waiting\":"
			      "{\"reason\":\"InvalidImageName\"}}}]"), &v);
	assert_int_equal(v.state, INSTANCE_GONE);

	/* Evicted: DisruptionTarget on a pod still terminating. */
	view(JOB_ACTIVE, POD("Running", ",\"conditions\":[{\"type\":\"DisruptionTarget\","
			      "\"status\":\"True\",\"reason\":\"EvictionByEvictionAPI\"}]"), &v);
	assert_int_equal(v.state, INSTANCE_RUNNING);
	assert_true(v.disrupted);
	assert_non_null(strstr(v.reason, "EvictionByEvictionAPI"));
	/* A condition that is False is no disruption. */
	view(JOB_ACTIVE, POD("Running", ",\"conditions\":[{\"type\":\"DisruptionTarget\","
			      "\"status\":\"False\"}]"), &v);
	assert_false(v.disrupted);

	/* The kubelet's own eviction. */
	view(JOB_ACTIVE, POD("Failed", ",\"reason\":\"Evicted\""), &v);
	assert_true(v.disrupted);
	assert_int_equal(v.state, INSTANCE_GONE);

	/* Pod gone, the Job failed by its podFailurePolicy: still a preemption. */
	view("{\"metadata\":{\"name\":\"frugal-a-1\"},\"status\":{\"conditions\":[{\"type\":"
	     "\"Failed\",\"status\":\"True\",\"reason\":\"PodFailurePolicy\",\"message\":"
	     "\"Container job for pod ml/frugal-a-1-x failed with exit code 143 matching FailJob"
	     " rule at index 0; Pod ml/frugal-a-1-x has condition DisruptionTarget matching"
	     " FailJob rule at index 0\"}]}}", "{\"items\":[]}", &v);
	assert_true(v.finished);
	assert_true(v.disrupted);
	assert_int_equal(v.state, INSTANCE_GONE);

	/* An ordinary failure is no preemption. */
	view("{\"metadata\":{\"name\":\"frugal-a-1\"},\"status\":{\"conditions\":[{\"type\":"
	     "\"Failed\",\"status\":\"True\",\"reason\":\"BackoffLimitExceeded\"}]}}",
	     POD("Failed", ""), &v);
	assert_false(v.disrupted);
	assert_int_equal(v.state, INSTANCE_GONE);

	/* Done: the pod Succeeded (even before the Job says Complete). */
	view(JOB_ACTIVE, POD("Succeeded", ""), &v);
	assert_int_equal(v.state, INSTANCE_GONE);
	view("{\"metadata\":{\"name\":\"frugal-a-1\"},\"status\":{\"conditions\":[{\"type\":"
	     "\"Complete\",\"status\":\"True\"}]}}", "{\"items\":[]}", &v);
	assert_true(v.finished);
	assert_int_equal(v.state, INSTANCE_GONE);

	/* Being deleted (Foreground) with its pod still terminating. */
	view("{\"metadata\":{\"name\":\"frugal-a-1\",\"deletionTimestamp\":"
	     "\"2027-01-15T07:59:00Z\"},\"status\":{}}", POD("Running", ""), &v);
	assert_true(v.deleting);
	assert_int_equal(v.state, INSTANCE_RUNNING);
	assert_int_equal(v.n_pods, 1);
	view("{\"metadata\":{\"name\":\"frugal-a-1\",\"deletionTimestamp\":"
	     "\"2027-01-15T07:59:00Z\"},\"status\":{}}", "{\"items\":[]}", &v);
	assert_int_equal(v.state, INSTANCE_GONE);
}

static void test_parse_time(void **state)
{
	assert_true(k8s_parse_time("2027-01-15T08:00:00Z") == NOW);
	assert_true(k8s_parse_time("2027-01-15T08:00:00.250Z") == NOW + 250);
	assert_true(k8s_parse_time("2027-01-15T08:00:00.123456789Z") == NOW + 123);
	assert_true(k8s_parse_time("2027-01-15T09:30:00+01:30") == NOW);
	assert_true(k8s_parse_time("2027-01-15T06:00:00-02:00") == NOW);
	assert_true(k8s_parse_time("2027-01-15 08:00:00") == -1);
	assert_true(k8s_parse_time("yesterday") == -1);
	assert_true(k8s_parse_time(NULL) == -1);
}

/* ---- settings and tokens ------------------------------------------------------------ */

/* Read backends.kubernetes of yaml; the error message in *ret_msg. */
static int settings(const char *yaml, struct config *c, struct k8s_settings *s, char *msg,
		    size_t size)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct error err = ERROR_INIT;
	int r;

	config_init(c);
	/* Keys and types are checked when config.yaml is read (the settings
	 * schema): the diagnostics are the message then. */
	if (config_parse_buffer(yaml, strlen(yaml), "config.yaml", c, &dl) < 0) {
		struct strbuf sb = STRBUF_INIT;

		diag_list_format(&dl, &sb);
		snprintf(msg, size, "%s", sb.buf);
		strbuf_release(&sb);
		diag_list_release(&dl);
		config_init(c);
		return FRUGAL_EINVAL;
	}
	diag_list_release(&dl);
	r = k8s_settings_read(c, s, &err);
	snprintf(msg, size, "%s", error_msg(&err));
	return r;
}

/* The pod lands on a node of the architecture its frugal is built for,
 * and its command checks `uname -m` before it runs the agent. */
static void test_job_manifest_arch_selector(void **state)
{
	struct k8s_attempt a;
	json_t *m;
	const json_t *pod, *c;

	(void)state;
	assert_string_equal(k8s_node_arch("aarch64"), "arm64");
	assert_string_equal(k8s_node_arch("arm64"), "arm64");
	assert_string_equal(k8s_node_arch("x86_64"), "amd64");
	assert_string_equal(k8s_node_arch("amd64"), "amd64");
	assert_null(k8s_node_arch("sparc64"));

	attempt_init(&a);
	a.arch = "aarch64";
	m = k8s_job_manifest(&a);
	pod = at(m, "spec/template/spec");
	assert_string_equal(str(pod, "nodeSelector/kubernetes.io~1arch"), "arm64");
	/* The other selectors stay. */
	assert_string_equal(str(pod, "nodeSelector/cloud.google.com~1gke-accelerator"),
			    "nvidia-tesla-a100");
	c = at(pod, "containers/0");
	assert_string_equal(str(c, "command/0"), "/bin/sh");
	assert_string_equal(str(c, "command/1"), "-c");
	assert_non_null(strstr(str(c, "command/2"), "uname -m"));
	assert_non_null(strstr(str(c, "command/2"), "frugal_agent_check \"$1\" aarch64"));
	assert_non_null(strstr(str(c, "command/2"), "/dev/termination-log"));
	assert_non_null(strstr(str(c, "command/2"),
			       "exec \"$1\" agent --instance-dir \"$2\""));
	assert_string_equal(str(c, "command/4"), "/usr/local/bin/frugal");
	assert_string_equal(str(c, "command/5"), "/frugal/instances/k3m9xq-2");
	json_decref(m);

	a.arch = "x86_64";
	m = k8s_job_manifest(&a);
	assert_string_equal(str(m, "spec/template/spec/nodeSelector/kubernetes.io~1arch"), "amd64");
	json_decref(m);

	a.arch = NULL;
	m = k8s_job_manifest(&a);
	assert_null(at(m, "spec/template/spec/nodeSelector/kubernetes.io~1arch"));
	json_decref(m);
}

/* resources.ports as the attempt's Service: one TCP entry per port (a
 * range expanded), selecting the attempt's pod, the Job's labels; the
 * body valid against the published schema of a v1 Service. */
static void test_service_manifest_ports(void **state)
{
	struct port_range ports[] = { { 8080, 8080 }, { 9000, 9002 } }, many = { 1, 500 };
	struct k8s_attempt a;
	json_t *svc, *job;

	(void)state;
	attempt_init(&a);
	assert_int_equal(k8s_port_count(ports, 2), 4);
	assert_int_equal(k8s_port_count(&many, 1), 500);
	svc = k8s_service_manifest(&a, "NodePort", ports, 2);
	job = k8s_job_manifest(&a);
	assert_string_equal(str(svc, "apiVersion"), "v1");
	assert_string_equal(str(svc, "kind"), "Service");
	assert_string_equal(str(svc, "metadata/name"), "frugal-k3m9xq-2");
	assert_string_equal(str(svc, "metadata/namespace"), "ml");
	assert_true(json_equal(at(svc, "metadata/labels"), at(job, "metadata/labels")));
	assert_string_equal(str(svc, "spec/type"), "NodePort");
	assert_int_equal(json_object_size(at(svc, "spec/selector")), 3);
	assert_string_equal(str(svc, "spec/selector/frugal-job"), "k3m9xq");
	assert_string_equal(str(svc, "spec/selector/frugal-attempt"), "2");
	assert_string_equal(str(svc, "spec/selector/frugal-home"),
			    str(job, "spec/template/metadata/labels/frugal-home"));
	assert_string_equal(str(job, "spec/template/metadata/labels/frugal-attempt"), "2");
	assert_int_equal(json_array_size(at(svc, "spec/ports")), 4);
	assert_string_equal(str(svc, "spec/ports/0/name"), "p8080");
	assert_int_equal(num(svc, "spec/ports/0/port"), 8080);
	assert_int_equal(num(svc, "spec/ports/0/targetPort"), 8080);
	assert_string_equal(str(svc, "spec/ports/0/protocol"), "TCP");
	assert_int_equal(num(svc, "spec/ports/3/port"), 9002);
	assert_string_equal(str(svc, "spec/ports/3/name"), "p9002");
	check_against("api__v1_openapi.json", "#/components/schemas/io.k8s.api.core.v1.Service", svc);
	json_decref(svc);
	svc = k8s_service_manifest(&a, "ClusterIP", &many, 1);
	assert_string_equal(str(svc, "spec/type"), "ClusterIP");
	assert_int_equal(json_array_size(at(svc, "spec/ports")), K8S_MAX_PORTS);
	json_decref(svc);
	json_decref(job);
}

static void test_settings(void **state)
{
	struct config c;
	struct k8s_settings s;
	char msg[ERROR_MSG_MAX];
	int any;

	/* Defaults. */
	assert_int_equal(settings("backends: {kubernetes: {pvc: data}}\n", &c, &s, msg,
				  sizeof(msg)), 0);
	assert_true(k8s_settings_configured(&c));
	assert_string_equal(s.pvc, "data");
	assert_string_equal(s.mount_path, "/frugal");
	assert_string_equal(s.frugal_bin, "frugal");
	assert_string_equal(s.arch, "x86_64");
	assert_string_equal(s.gpu_resource, "nvidia.com/gpu");
	assert_string_equal(s.gpu_label, "nvidia.com/gpu.product");
	assert_string_equal(s.spot_value, "true");
	assert_null(s.spot_label);
	assert_null(s.image);
	assert_true(s.ttl == 3600 && s.start_timeout == 600 && s.request_timeout == 30);
	assert_true(s.price_gpu == 0 && s.price_spot_gpu == 0);
	assert_string_equal(s.service_type, "NodePort");
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {service_type: LoadBalancer}}\n", &c, &s,
				  msg, sizeof(msg)), 0);
	assert_string_equal(s.service_type, "LoadBalancer");
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {service_type: nodeport}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "backends.kubernetes.service_type: expected NodePort, ClusterIP"
			       " or LoadBalancer"));
	config_release(&c);

	assert_int_equal(settings("backends:\n  kubernetes:\n    price_per_gpu_hour: 2.5\n"
				  "    gpu_types: {A100: nvidia-tesla-a100}\n"
				  "    prices: {H100: 4}\n    ttl_seconds_after_finished: 10m\n"
				  "    spot_label: karpenter.sh/capacity-type\n"
				  "    spot_label_value: spot\n", &c, &s, msg, sizeof(msg)), 0);
	assert_true(s.price_gpu == 2.5 && s.price_spot_gpu == 2.5);
	assert_true(s.ttl == 600);
	assert_string_equal(s.spot_value, "spot");
	assert_string_equal(k8s_settings_gpu_type(&c, "a100", &any), "nvidia-tesla-a100");
	assert_true(any);
	assert_null(k8s_settings_gpu_type(&c, "H100", &any));
	assert_true(k8s_settings_price(&c, "H100", 1) == 4);
	assert_true(k8s_settings_price(&c, "A100", 1) == 1);
	config_release(&c);

	/* Not configured at all. */
	assert_int_equal(settings("storage: file:///x\n", &c, &s, msg, sizeof(msg)), 0);
	assert_false(k8s_settings_configured(&c));
	assert_null(k8s_settings_gpu_type(&c, "A100", &any));
	assert_false(any);
	config_release(&c);

	/* Errors name the key and say what to do. */
	assert_int_equal(settings("backends: {kubernetes: {pvc_mountpath: /x}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "backends.kubernetes.pvc_mountpath: unknown setting; did you"
			       " mean 'pvc_mount_path'?"));
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {gpu_types: A100}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "gpu_types: expected a mapping"));
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {image: {a: b}}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "image.a: expected a value"));
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {price_per_hour: cheap}}\n", &c, &s,
				  msg, sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "price_per_hour: expected a number"));
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {start_timeout: soon}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "start_timeout: expected a duration"));
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {arch: sparc64}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "backends.kubernetes.arch: expected amd64 or arm64"));
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {arch: arm64}}\n", &c, &s, msg,
				  sizeof(msg)), 0);
	assert_string_equal(s.arch, "aarch64");
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {pvc_mount_path: data}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	assert_non_null(strstr(msg, "expected an absolute path"));
	config_release(&c);
	assert_int_equal(settings("backends: {kubernetes: {pvc_sub_path: ../x}}\n", &c, &s, msg,
				  sizeof(msg)), FRUGAL_EINVAL);
	config_release(&c);
}

static void test_tokens(void **state)
{
	char job[16];
	int n = 0;

	assert_int_equal(provider_token_split("k3m9xq-12", job, sizeof(job), &n), 0);
	assert_string_equal(job, "k3m9xq");
	assert_int_equal(n, 12);
	assert_int_equal(provider_token_split("k3m9xq", job, sizeof(job), &n), FRUGAL_EINVAL);
	assert_int_equal(provider_token_split("-1", job, sizeof(job), &n), FRUGAL_EINVAL);
	assert_int_equal(provider_token_split("a-0", job, sizeof(job), &n), FRUGAL_EINVAL);
	assert_int_equal(provider_token_split("a-1x", job, sizeof(job), &n), FRUGAL_EINVAL);
	assert_int_equal(provider_token_split("waytoolongforthebuffer-1", job, sizeof(job), &n),
			 FRUGAL_EINVAL);
}

/* ---- credential plugins ------------------------------------------------------------- */

/* A plugin script in dir printing body (after checks of its env). */
static char *plugin(const char *dir, const char *name, const char *body)
{
	char *path = fs_path_join(dir, name);
	char *text = xasprintf("#!/bin/sh\n%s\n", body);

	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0700, 1, NULL), 0);
	free(text);
	return path;
}

static void test_exec_plugin(void **state)
{
	char dir[] = "/tmp/frugal-test-k8s-exec.XXXXXX";
	char *args[] = { "one", "two words", NULL }, *env[] = { "PLUGIN_MODE=ok", NULL };
	char *noargs[] = { NULL };
	struct kubeconfig_exec e = { "client.authentication.k8s.io/v1", NULL, args, env };
	struct k8s_credential c = K8S_CREDENTIAL_INIT;
	struct error err = ERROR_INIT;

	assert_non_null(mkdtemp(dir));
	/* The token, the expiry; args, env and KUBERNETES_EXEC_INFO as kubectl gives them. */
	e.command = plugin(dir, "ok",
		"[ \"$1\" = one ] && [ \"$2\" = 'two words' ] && [ \"$PLUGIN_MODE\" = ok ] || exit 9\n"
		"case $KUBERNETES_EXEC_INFO in *'\"interactive\":false'*) ;; *) exit 8;; esac\n"
		"echo '{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
		"\"status\":{\"token\":\"tok-" SECRET_VALUE "\","
		"\"expirationTimestamp\":\"2027-01-15T08:00:00Z\"}}'");
	assert_int_equal(k8s_exec_credential(&e, 5000, &c, &err), 0);
	assert_string_equal(c.token, "tok-" SECRET_VALUE);
	assert_true(c.expires_ms == NOW);
	assert_null(c.cert_pem);
	k8s_credential_release(&c);
	free(e.command);

	/* A client certificate instead; no expiry. */
	e.args = noargs;
	e.command = plugin(dir, "cert",
		"echo '{\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":"
		"\"CERT\",\"clientKeyData\":\"KEY\"}}'");
	assert_int_equal(k8s_exec_credential(&e, 5000, &c, &err), 0);
	assert_null(c.token);
	assert_string_equal(c.cert_pem, "CERT");
	assert_string_equal(c.key_pem, "KEY");
	assert_true(c.expires_ms == 0);
	k8s_credential_release(&c);
	free(e.command);

	/* It fails: its stderr says why, its stdout is never quoted. */
	e.command = plugin(dir, "fails", "echo '" SECRET_VALUE "'; echo 'run aws sso login' >&2;"
			   " echo second >&2; exit 3");
	assert_int_equal(k8s_exec_credential(&e, 5000, &c, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(error_msg(&err), "failed (exit 3): run aws sso login"));
	assert_null(strstr(error_msg(&err), SECRET_VALUE));
	assert_null(strstr(error_msg(&err), "second"));
	free(e.command);

	e.command = plugin(dir, "garbage", "echo 'not json " SECRET_VALUE "'");
	assert_int_equal(k8s_exec_credential(&e, 5000, &c, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(error_msg(&err), "printed no ExecCredential"));
	assert_null(strstr(error_msg(&err), SECRET_VALUE));
	free(e.command);

	e.command = plugin(dir, "slow", "exec sleep 10");
	assert_int_equal(k8s_exec_credential(&e, 300, &c, &err), FRUGAL_ETIMEOUT);
	free(e.command);

	e.command = xstrdup("frugal-no-such-plugin-anywhere");
	assert_int_equal(k8s_exec_credential(&e, 5000, &c, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(error_msg(&err), "not found"));
	free(e.command);

	assert_int_equal(fs_remove_tree(dir, NULL), 0);
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_quantities),
		cmocka_unit_test(test_schema_checker),
		cmocka_unit_test(test_service_manifest_ports),
		cmocka_unit_test(test_job_manifest),
		cmocka_unit_test(test_job_manifest_claims),
		cmocka_unit_test(test_job_manifest_arch_selector),
		cmocka_unit_test(test_secret_manifest),
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_exec_plugin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
