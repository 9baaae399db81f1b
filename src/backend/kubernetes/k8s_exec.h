/*
 * k8s_exec: a kubeconfig's credential plugin (users[].user.exec), run the
 * way kubectl runs it: what EKS (`aws eks get-token`), GKE
 * (`gke-gcloud-auth-plugin`), AKS (`kubelogin`) and OIDC helpers write
 * into kubeconfigs.
 *
 * The command runs with this process's environment plus the plugin's env
 * and KUBERNETES_EXEC_INFO ({"kind": "ExecCredential", "apiVersion": ...,
 * "spec": {"interactive": false}}), stdin from /dev/null, for at most a
 * timeout; it prints an ExecCredential whose status holds a token or a
 * client certificate and key (PEM), and maybe an expirationTimestamp.
 * Errors name the command and quote the first line of its stderr (where
 * plugins say "run aws sso login"), never its stdout (the credential).
 */
#ifndef FRUGAL_PROVIDER_K8S_EXEC_H
#define FRUGAL_PROVIDER_K8S_EXEC_H

#include <stdint.h>

#include "base/error.h"
#include "backend/kubernetes/kubeconfig.h"

struct k8s_credential {
	char *token;			/* bearer token (secret), or NULL */
	char *cert_pem;			/* client certificate, or NULL */
	char *key_pem;			/* its key (secret), or NULL */
	int64_t expires_ms;		/* Unix ms; 0: no expiry given */
};
#define K8S_CREDENTIAL_INIT { NULL, NULL, NULL, 0 }

/* Run plugin e and read the credential it prints into *ret. FRUGAL_ENOTFOUND when the command is not there, FRUGAL_ETIMEOUT
 * past timeout_ms, FRUGAL_EPROVIDER when it fails or prints no credential. */
int k8s_exec_credential(const struct kubeconfig_exec *e, long timeout_ms,
			struct k8s_credential *ret, struct error *err);

/* Free the contents, overwriting the secrets first. */
void k8s_credential_release(struct k8s_credential *c);

#endif
