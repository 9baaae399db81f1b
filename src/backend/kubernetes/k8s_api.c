/*
 * k8s_api: a home's objects in a namespace (see k8s_api.h).
 */
#include "backend/kubernetes/k8s_api.h"
#include "base/xalloc.h"
#include "backend/kubernetes/k8s_job.h"
#include "util/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* metadata.KEY as a string. */
const char *k8s_meta_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), key));
}

/* "API/namespaces/NS/KIND[/NAME]". Caller frees. */
static char *path_of(const struct k8s_ns *n, const char *api, const char *kind,
		     const char *name)
{
	return name ? xasprintf("%s/namespaces/%s/%s/%s", api, n->ns, kind, name)
		    : xasprintf("%s/namespaces/%s/%s", api, n->ns, kind);
}

/* 1 when obj carries this home's label. */
static int is_ours(const struct k8s_ns *n, const json_t *obj)
{
	const char *home = json_string_value(json_object_get(json_object_get(json_object_get(
		obj, "metadata"), "labels"), K8S_LABEL_HOME));

	return home && !strcmp(home, n->home_tag);
}

/* GET by name; only an object with this home's label is returned. */
int k8s_get_ours(const struct k8s_ns *n, const char *api, const char *kind, const char *name,
		 json_t **ret, struct error *err)
{
	char *path = path_of(n, api, kind, name);
	json_t *obj = NULL;
	long status = 0;
	int r;

	*ret = NULL;
	if ((r = k8s_call(n->client, "GET", path, NULL, NULL, NULL, &status, &obj, err)) < 0)
		goto out;
	if (status == 404)
		goto out;
	if (status != 200) {
		r = k8s_error(err, "GET", path, status, obj, 0);
		goto out;
	}
	if (is_ours(n, obj))
		*ret = json_incref(obj);
out:
	json_decref(obj);
	free(path);
	return r;
}

/* labelSelector=... (encoded) for an attempt, or the whole home. */
static char *selector_of(const struct k8s_ns *n, const char *token)
{
	char job[128], *sel, *enc, *q;
	int a;

	if (token && provider_token_split(token, job, sizeof(job), &a) == 0)
		sel = xasprintf(K8S_LABEL_JOB "=%s," K8S_LABEL_ATTEMPT "=%d," K8S_LABEL_HOME "=%s",
				job, a, n->home_tag);
	else
		sel = xasprintf(K8S_LABEL_HOME "=%s," K8S_LABEL_JOB, n->home_tag);
	enc = http_urlencode(sel, 0);
	q = xasprintf("labelSelector=%s", enc);
	free(sel);
	free(enc);
	return q;
}

/* GET the list with the labelSelector of an attempt or of the home. */
int k8s_list_ours(const struct k8s_ns *n, const char *api, const char *kind, const char *token,
		  json_t **ret, struct error *err)
{
	char *path = path_of(n, api, kind, NULL), *q = selector_of(n, token);
	json_t *obj = NULL;
	long status = 0;
	int r;

	*ret = NULL;
	if ((r = k8s_call(n->client, "GET", path, q, NULL, NULL, &status, &obj, err)) < 0)
		goto out;
	if (status != 200 || !json_is_array(json_object_get(obj, "items"))) {
		r = k8s_error(err, "GET", path, status, obj, 0);
		goto out;
	}
	*ret = json_incref(obj);
out:
	json_decref(obj);
	free(path);
	free(q);
	return r;
}

/* POST with fieldValidation=Strict; a taken name is FRUGAL_EEXIST. */
int k8s_create(const struct k8s_ns *n, const char *api, const char *kind, const char *body,
	       int quiet, json_t **ret, struct error *err)
{
	char *path = path_of(n, api, kind, NULL);
	json_t *ans = NULL;
	long status = 0;
	int r;

	*ret = NULL;
	/* Strict: the API server refuses a field it does not know rather than
	 * drop it (a typo would silently change the job). */
	r = k8s_call(n->client, "POST", path, "fieldValidation=Strict", body, NULL, &status, &ans,
		     err);
	if (r == 0 && status == 409)
		r = FRUGAL_EEXIST;
	else if (r == 0 && status != 200 && status != 201 && status != 202)
		r = k8s_error(err, "POST", path, status, ans, quiet);
	if (r == 0)
		*ret = json_incref(ans);
	json_decref(ans);
	free(path);
	return r;
}

/* DELETE with DeleteOptions (propagation, uid precondition). */
int k8s_delete(const struct k8s_ns *n, const char *api, const char *kind, const char *name,
	       const char *uid, const char *propagation, struct error *err)
{
	char *path = path_of(n, api, kind, name), *body;
	json_t *opts = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "DeleteOptions");
	json_t *ans = NULL;
	long status = 0;
	int r;

	if (propagation)
		json_object_set_new(opts, "propagationPolicy", json_string(propagation));
	if (uid)
		json_object_set_new(opts, "preconditions", json_pack("{s:s}", "uid", uid));
	body = json_dumps(opts, JSON_COMPACT);
	r = k8s_call(n->client, "DELETE", path, NULL, body, NULL, &status, &ans, err);
	/* 404: gone already; 409: the uid precondition failed, that object is
	 * another one now (not ours to delete). */
	if (r == 0 && status != 200 && status != 202 && status != 404 && status != 409)
		r = k8s_error(err, "DELETE", path, status, ans, 0);
	json_decref(ans);
	json_decref(opts);
	free(body);
	free(path);
	return r;
}

/* PATCH with application/merge-patch+json. */
int k8s_merge_patch(const struct k8s_ns *n, const char *api, const char *kind, const char *name,
		    const char *body, struct error *err)
{
	char *path = path_of(n, api, kind, name);
	json_t *ans = NULL;
	long status = 0;
	int r;

	r = k8s_call(n->client, "PATCH", path, NULL, body, "application/merge-patch+json", &status,
		     &ans, err);
	if (r == 0 && status != 200 && status != 201)
		r = k8s_error(err, "PATCH", path, status, ans, 0);
	json_decref(ans);
	free(path);
	return r;
}

/* GET pods/NAME/log of one container, at most max bytes. */
int k8s_pod_log(const struct k8s_ns *n, const char *pod, const char *container, size_t max,
		struct strbuf *out, struct error *err)
{
	char *base = path_of(n, K8S_API_CORE, "pods", pod);
	char *path = xasprintf("%s/log", base);
	char *q = xasprintf("container=%s&limitBytes=%zu", container, max);
	long status = 0;
	int r;

	r = k8s_call_text(n->client, "GET", path, q, max + 4096, &status, out, err);
	if (r == 0 && status != 200) {
		strbuf_reset(out);
		r = k8s_error(err, "GET", path, status, NULL, 0);
	}
	free(base);
	free(path);
	free(q);
	return r;
}
