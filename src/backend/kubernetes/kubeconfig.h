/*
 * kubeconfig: where a Kubernetes API server is and how to prove who we
 * are to it, read the way kubectl reads it.
 *
 * A kubeconfig file (YAML) names clusters, users and contexts; a context
 * pairs a cluster with a user and a namespace, and current-context picks
 * one. kubeconfig_load() reads one file and resolves one context into a
 * struct kubeconfig: the server URL, the namespace, the CA to trust, and
 * the credentials (a bearer token, or a client certificate and key).
 *
 * Rules kept from client-go:
 *  - *-data fields (base64 PEM inline) win over the file fields beside
 *    them; token wins over tokenFile;
 *  - relative file paths are relative to the kubeconfig's directory (an
 *    exec plugin's command too, when it has a '/'; a bare name is looked
 *    up on PATH);
 *  - KUBECONFIG may list several files (':'): the first that exists is
 *    read (client-go merges them; frugal reads one, see docs/KUBERNETES.md).
 * kubeconfig_in_cluster() is the other source: the service account a
 * pod gets (token, ca.crt and namespace under SA_DIR, the server from
 * KUBERNETES_SERVICE_HOST/PORT), for a controller that runs in the cluster.
 *
 * Secrets (token, client key) live only in the struct; error messages
 * name files, contexts and fields, never a value. kubeconfig_release()
 * overwrites them.
 */
#ifndef FRUGAL_SPEC_KUBECONFIG_H
#define FRUGAL_SPEC_KUBECONFIG_H

#include <stddef.h>

#include "base/error.h"

#define KUBECONFIG_MAX_SIZE (1024 * 1024)	/* the YAML loader's cap */
#define KUBECONFIG_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* A credential plugin (users[].user.exec): a command that prints an
 * ExecCredential, run by backend/kubernetes/k8s_exec.h. */
struct kubeconfig_exec {
	char *api_version;		/* client.authentication.k8s.io/v1 or v1beta1 */
	char *command;			/* as written, or made absolute (see below) */
	char **args;			/* NULL-terminated */
	char **env;			/* "NAME=value", NULL-terminated */
};

/* Bytes of a PEM document given inline (decoded *-data), or none. */
struct kubeconfig_blob {
	char *data;
	size_t len;
};

struct kubeconfig {
	char *path;			/* the file read; NULL for in-cluster */
	char *context;			/* the context used; NULL for in-cluster */
	char *server;			/* "https://host:6443[/prefix]", no trailing '/' */
	char *namespace;		/* the context's; NULL when it names none */
	int insecure;			/* insecure-skip-tls-verify: true */
	char *ca_file;			/* certificate-authority, absolute; or NULL */
	struct kubeconfig_blob ca_data;	/* certificate-authority-data, decoded */
	char *cert_file;		/* client-certificate */
	struct kubeconfig_blob cert_data;	/* client-certificate-data */
	char *key_file;			/* client-key */
	struct kubeconfig_blob key_data;	/* client-key-data (secret) */
	char *token;			/* token, or tokenFile's content (secret) */
	struct kubeconfig_exec *exec;	/* a credential plugin, or NULL */
};
#define KUBECONFIG_INIT { 0 }

/*
 * The kubeconfig file kubectl would read: the first existing entry of
 * $KUBECONFIG (':'-separated), else $HOME/.kube/config (returned even when
 * it does not exist, for messages); NULL when neither can be named.
 * Caller frees.
 */
char *kubeconfig_default_path(void);

/*
 * Read path and resolve context (NULL: its current-context) into *ret.
 * FRUGAL_ENOTFOUND when the file does not exist; FRUGAL_EINVAL for a
 * file that is not a kubeconfig, a context, cluster or user it names
 * that is not there, or bad base64; FRUGAL_ENOTSUP for credentials
 * frugal cannot use (an auth-provider, a username/password); FRUGAL_EIO
 * when a tokenFile cannot be read. *ret is untouched on failure.
 */
int kubeconfig_load(const char *path, const char *context, struct kubeconfig *ret,
		    struct error *err);

/* Same from text (len bytes); path names it in messages and anchors
 * relative file paths. */
int kubeconfig_parse(const char *text, size_t len, const char *path, const char *context,
		     struct kubeconfig *ret, struct error *err);

/*
 * The in-cluster configuration: server https://$KUBERNETES_SERVICE_HOST:
 * $KUBERNETES_SERVICE_PORT, token and CA from sa_dir (KUBECONFIG_SA_DIR in
 * a pod), namespace from sa_dir/namespace when present. FRUGAL_ENOTFOUND
 * when not in a pod (no KUBERNETES_SERVICE_HOST or no token file).
 */
int kubeconfig_in_cluster(const char *sa_dir, struct kubeconfig *ret, struct error *err);

/* Free the contents, overwriting the secrets first. */
void kubeconfig_release(struct kubeconfig *k);

/*
 * Decode base64 (standard alphabet, '=' padding, whitespace ignored) into
 * *ret_data (NUL-terminated, *ret_len bytes, caller frees).
 * FRUGAL_EINVAL when text is not base64.
 */
int kubeconfig_base64_decode(const char *text, char **ret_data, size_t *ret_len);

#endif
