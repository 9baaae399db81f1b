/*
 * kubernetes: the descriptor (backend.h). Each attempt is a batch/v1 Job;
 * see kubernetes.c, k8s_settings.h and docs/KUBERNETES.md.
 */
#include "backend/agentops.h"
#include "backend/backend.h"

#include <stdio.h>
#include "backend/kubernetes/k8s_settings.h"

extern const struct provider_ops kubernetes_provider_ops;


static const char *const kubernetes_aliases[] = { "k8s", NULL };

static const struct config_setting kubernetes_settings[] = {
	{ "kubeconfig", CONFIG_STRING, "the kubeconfig file (default: KUBECONFIG, ~/.kube/config)" },
	{ "context", CONFIG_STRING, "the kubeconfig context (default: its current-context)" },
	{ "namespace", CONFIG_STRING, "namespace of the Jobs" },
	{ "image", CONFIG_STRING, "container image that has frugal" },
	{ "frugal_bin", CONFIG_STRING, "frugal in the image (default frugal)" },
	{ "arch", CONFIG_STRING, "the architecture frugal_bin is built for: amd64 (default) or arm64;"
	  " pods run only on nodes of it" },
	{ "pvc", CONFIG_STRING, "the PersistentVolumeClaim storage is on (required)" },
	{ "pvc_mount_path", CONFIG_STRING, "where the claim is mounted, an absolute path" },
	{ "pvc_sub_path", CONFIG_STRING, "a relative directory within the claim" },
	{ "gpu_resource", CONFIG_STRING, "the extended resource of GPUs (nvidia.com/gpu)" },
	{ "gpu_label", CONFIG_STRING, "node label that names a node's GPU type" },
	{ "gpu_types", CONFIG_MAP, "accelerator name -> gpu_label value" },
	{ "spot_label", CONFIG_STRING, "node label of spot nodes" },
	{ "spot_label_value", CONFIG_STRING, "its value (default true)" },
	{ "spot_taint", CONFIG_STRING, "taint of spot nodes the Jobs tolerate" },
	{ "service_account", CONFIG_STRING, "service account of the pods" },
	{ "service_type", CONFIG_STRING, "the Service of resources.ports: NodePort (default),"
	  " ClusterIP or LoadBalancer" },
	{ "price_per_gpu_hour", CONFIG_NUMBER, "USD per GPU hour, for the cost ledger" },
	{ "spot_price_per_gpu_hour", CONFIG_NUMBER, "USD per GPU hour on spot nodes" },
	{ "price_per_hour", CONFIG_NUMBER, "USD per hour for a job with no GPU" },
	{ "prices", CONFIG_MAP, "accelerator name -> USD per GPU hour" },
	{ "ttl_seconds_after_finished", CONFIG_DURATION, "how long a finished Job is kept" },
	{ "start_timeout", CONFIG_DURATION, "how long a pod may take to start" },
	{ "request_timeout", CONFIG_DURATION, "limit of one API request" },
	BACKEND_COMMON_SETTINGS,
	{ NULL, 0, NULL },
};

static void kubernetes_credentials(const struct config *cfg, struct backend_credentials *ret)
{
	ret->hint = "add a section for it under backends: in config.yaml";
	const char *ctx = cfg ? config_backend_get(cfg, "kubernetes", "context") : NULL;
	const char *ns = cfg ? config_backend_get(cfg, "kubernetes", "namespace") : NULL;

	backend_credentials_section(ret, cfg, "kubernetes");
	if ((ctx && *ctx) || (ns && *ns))
		snprintf(ret->scope, sizeof(ret->scope), "context %s, namespace %s",
			 ctx && *ctx ? ctx : "(current)", ns && *ns ? ns : "(the context's)");
}

/* SIGTERM to the container (the agent is its PID 1) when the pod is
 * evicted, its node drained or its spot node reclaimed, the grace period
 * ($FRUGAL_SIGTERM_NOTICE_WINDOW) before SIGKILL; notice.json on the
 * volume from a budget stop or `frugal debug preempt`. */
static const struct notice_source_ops *const kubernetes_sources[] = {
	&notice_local_ops, &notice_sigterm_ops, NULL,
};

/* The pod ends as the agent (the container's command) exits (backoffLimit
 * 0, restartPolicy Never); what is left to end is the attempt's directory
 * on the volume. */
static const struct machine_ops kubernetes_machine = {
	"removing the attempt's directory; the pod ends as the agent exits",
	machine_remove_instance_dir,
};

static const struct agent_ops kubernetes_agent = { kubernetes_sources, &kubernetes_machine };

/* A PersistentVolumeClaim of the namespace, mounted into the pod
 * (k8s_job.h); the claim is the user's: frugal never makes or deletes it. */
static const struct volume_kind kubernetes_volume_kinds[] = {
	{ "pvc", "a PersistentVolumeClaim of the namespace (pvc://CLAIM)", 0, 0 },
	{ VOLUME_KIND_NAME, "a claim by name (SkyPilot's form, volumes: {PATH: CLAIM})", 0, 0 },
	{ NULL, NULL, 0, 0 },
};

const struct backend kubernetes_backend = {
	.name = "kubernetes",
	.aliases = kubernetes_aliases,
	.title = "Kubernetes cluster",
	.caps = BACKEND_CAP_CONTAINER | BACKEND_CAP_CONTEXT_REGION | BACKEND_CAP_SPOT | BACKEND_CAP_NOTICE | BACKEND_CAP_VOLUMES | BACKEND_CAP_IMAGES |
		BACKEND_CAP_PORTS,
	.settings = kubernetes_settings,
	.credentials = kubernetes_credentials,
	.billing = { 0, 1 },
	.boot_timeout_s = 1200,	/* big images take a while to pull */
	.heartbeat_timeout_s = 120,
	.provider = &kubernetes_provider_ops,
	.agent = &kubernetes_agent,
	.volume_kinds = kubernetes_volume_kinds,
	.probe = kubernetes_probe,
};
