/*
 * k8s_api: the objects one frugal home keeps in one namespace (Jobs,
 * pods, Secrets), by name and by label, over k8s_client.
 *
 * Everything frugal makes carries the label frugal-home=TAG (8 hex digits
 * of the FRUGAL_HOME path): a get or a list answers only objects with
 * this home's label, so two homes sharing a namespace never see, adopt or
 * delete each other's objects, and neither does a name that happens to be
 * taken by someone else.
 */
#ifndef FRUGAL_PROVIDER_K8S_API_H
#define FRUGAL_PROVIDER_K8S_API_H

#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "backend/kubernetes/k8s_client.h"

#define K8S_API_BATCH "/apis/batch/v1"
#define K8S_API_CORE "/api/v1"

/* One namespace as one home sees it (all borrowed). */
struct k8s_ns {
	struct k8s_client *client;
	const char *ns;
	const char *home_tag;
};


/* metadata.KEY of obj as a string, or NULL. */
const char *k8s_meta_str(const json_t *obj, const char *key);

/* GET api/namespaces/NS/kind/name: *ret NULL when there is none or it is
 * not this home's. Caller decrefs. */
int k8s_get_ours(const struct k8s_ns *n, const char *api, const char *kind, const char *name,
		 json_t **ret, struct error *err);

/* The list of kind with the labels of token (an attempt), or of every
 * attempt of this home when token is NULL. Caller decrefs. */
int k8s_list_ours(const struct k8s_ns *n, const char *api, const char *kind, const char *token,
		  json_t **ret, struct error *err);

/* POST body (JSON text) with fieldValidation=Strict; the created object
 * in *ret. FRUGAL_EEXIST (no message) when the name is taken; quiet
 * keeps the server's message out of errors (the body held secrets). */
int k8s_create(const struct k8s_ns *n, const char *api, const char *kind, const char *body,
	       int quiet, json_t **ret, struct error *err);

/* DELETE with DeleteOptions: the uid as precondition when given (an
 * object made since under the name is left alone), propagation (NULL,
 * "Foreground", "Background"). A missing object is success. */
int k8s_delete(const struct k8s_ns *n, const char *api, const char *kind, const char *name,
	       const char *uid, const char *propagation, struct error *err);

/* PATCH with a JSON merge patch (RFC 7386). */
int k8s_merge_patch(const struct k8s_ns *n, const char *api, const char *kind, const char *name,
		    const char *body, struct error *err);

/* The log of a pod's container: at most max bytes appended to out. */
int k8s_pod_log(const struct k8s_ns *n, const char *pod, const char *container, size_t max,
		struct strbuf *out, struct error *err);

#endif
