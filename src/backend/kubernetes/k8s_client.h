/*
 * k8s_client: requests to a Kubernetes API server, authenticated the way
 * a kubeconfig says (backend/kubernetes/kubeconfig.h), over util/http (libcurl).
 *
 *   struct k8s_client *c;
 *   k8s_client_new(&kc, 30000, &c, &err);
 *   k8s_call(c, "GET", "/apis/batch/v1/namespaces/ns/jobs/x", NULL, NULL,
 *            &status, &obj, &err);
 *   k8s_client_free(c);
 *
 * Credentials: a bearer token goes in the Authorization header of each
 * request; a credential plugin (users[].user.exec, backend/kubernetes/k8s_exec.h)
 * is run before the first request, again a minute before its credential
 * expires, and once more when the server answers 401; a client
 * certificate and key, and a CA, given inline in the kubeconfig (*-data)
 * or by a plugin, are handed to libcurl as paths of memory-only files
 * (memfd_create, /proc/self/fd/N) that vanish with the process, or, where
 * there is no memfd, as 0600 temporary files removed by k8s_client_free.
 * Nothing secret is put in a message: errors name the method, the path
 * and the API server's status (its reason and message, except for
 * requests that carry secrets, whose message is left out).
 */
#ifndef FRUGAL_PROVIDER_K8S_CLIENT_H
#define FRUGAL_PROVIDER_K8S_CLIENT_H

#include <jansson.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "backend/kubernetes/kubeconfig.h"

#define K8S_RESPONSE_MAX (64 << 20)	/* one answer of the API server (a long list) */

struct k8s_client;

/* A client for kc's server with credentials (copied; kc may be released
 * after). timeout_ms bounds each request (0: 30 s). */
int k8s_client_new(const struct kubeconfig *kc, long timeout_ms, struct k8s_client **ret,
		   struct error *err);
void k8s_client_free(struct k8s_client *c);

/* The server URL ("https://host:6443"). */
const char *k8s_client_server(const struct k8s_client *c);

/*
 * One request: method on path (starting with '/', without the server),
 * query (already encoded, without '?', or NULL), body (JSON text or
 * NULL; content_type NULL means application/json). 0 when the server
 * answered, whatever the status: the status in *ret_status and, when the
 * answer is JSON, the document in *ret_json (else NULL; caller decrefs).
 * FRUGAL_ENET when no answer came.
 */
int k8s_call(struct k8s_client *c, const char *method, const char *path, const char *query,
	     const char *body, const char *content_type, long *ret_status, json_t **ret_json,
	     struct error *err);

/* Same, for an answer that is text (pods/log): appended to out, at most
 * max bytes (more is FRUGAL_ETOOBIG). */
int k8s_call_text(struct k8s_client *c, const char *method, const char *path,
		  const char *query, size_t max, long *ret_status, struct strbuf *out,
		  struct error *err);

/*
 * Turn a failed answer into err and return its code: 404 FRUGAL_ENOTFOUND,
 * 409 FRUGAL_EEXIST, 400/422 FRUGAL_EINVAL, 403 for an exceeded quota
 * FRUGAL_ECAPACITY, 429 and 5xx FRUGAL_EBUSY, anything else
 * FRUGAL_EPROVIDER. The message reads "kubernetes: METHOD PATH: STATUS
 * REASON: MESSAGE"; with quiet the server's message is left out (it may
 * quote a body that held secrets).
 */
int k8s_error(struct error *err, const char *method, const char *path, long status,
	      const json_t *answer, int quiet);

#endif
