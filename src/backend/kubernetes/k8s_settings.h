/*
 * k8s_settings: backends.kubernetes of config.yaml, read and checked.
 *
 *   backends:
 *     kubernetes:
 *       kubeconfig: ~/.kube/config     # default: $KUBECONFIG, ~/.kube/config, the pod's
 *       context: gpu-cluster           # default: the kubeconfig's current-context
 *       namespace: ml                  # default: the context's, else "default"
 *       image: ghcr.io/me/trainer:1    # default image (the task's resources.image_id wins)
 *       frugal_bin: /usr/local/bin/frugal   # frugal in the image (default "frugal")
 *       arch: arm64                    # what frugal_bin is built for (default amd64): the
 *                                      # pod's nodeSelector kubernetes.io/arch, and the pod
 *                                      # command checks `uname -m` before it runs the agent
 *       pvc: frugal-data               # the claim holding the file:// storage
 *       pvc_mount_path: /frugal        # where pods mount it (default /frugal)
 *       pvc_sub_path: team-a           # the storage's directory in the volume
 *       gpu_resource: nvidia.com/gpu   # the extended resource of a GPU
 *       gpu_label: nvidia.com/gpu.product   # node label naming the GPU type
 *       gpu_types: {A100: NVIDIA-A100-SXM4-80GB}   # frugal name -> label value
 *       spot_label: cloud.google.com/gke-spot      # spot nodes carry this label ...
 *       spot_label_value: "true"                   # ... with this value
 *       spot_taint: cloud.google.com/gke-spot      # ... and are tainted so (default: spot_label)
 *       service_account: runner        # default: none, and no API token in the pod
 *       service_type: NodePort         # the Service of resources.ports: NodePort (default),
 *                                      # ClusterIP or LoadBalancer
 *       price_per_gpu_hour: 2.0        # USD, what a GPU-hour costs you (default 0)
 *       spot_price_per_gpu_hour: 0.8   # default price_per_gpu_hour
 *       price_per_hour: 0.1            # a job without GPU
 *       prices: {H100: 4.0}            # per GPU type
 *       ttl_seconds_after_finished: 1h # the cluster's own cleanup of ended Jobs
 *       start_timeout: 10m             # a pod that keeps failing to start is ended
 *       request_timeout: 30s           # one API request
 * plus the optimizer's preemption_rate and restart_overhead. A key that
 * is none of these is an error with the nearest known one suggested.
 */
#ifndef FRUGAL_PROVIDER_K8S_SETTINGS_H
#define FRUGAL_PROVIDER_K8S_SETTINGS_H

#include <stdint.h>

#include "base/error.h"
#include "spec/config.h"

/* Strings point into the config (or are static defaults); NULL: not set. */
struct k8s_settings {
	const char *kubeconfig, *context, *ns;
	const char *image, *frugal_bin;
	const char *arch;		/* the kernel's name: "x86_64" or "aarch64" */
	const char *pvc, *mount_path, *sub_path;
	const char *gpu_resource, *gpu_label;
	const char *spot_label, *spot_value, *spot_taint;
	const char *service_account;
	const char *service_type;	/* "NodePort", "ClusterIP" or "LoadBalancer" */
	double price_gpu, price_spot_gpu, price_cpu;	/* USD per hour */
	int64_t ttl, start_timeout, request_timeout;	/* seconds */
};

/* 1 when config.yaml has a backends.kubernetes section. */
int k8s_settings_configured(const struct config *cfg);

/* Read and check backends.kubernetes into *ret (defaults filled in).
 * FRUGAL_EINVAL naming the key for a bad or unknown setting. */
int k8s_settings_read(const struct config *cfg, struct k8s_settings *ret, struct error *err);

/* gpu_types.NAME for an accelerator name (case-insensitive), or NULL;
 * *ret_any says whether gpu_types has any entry. */
const char *k8s_settings_gpu_type(const struct config *cfg, const char *name, int *ret_any);

/* prices.NAME, else def. */
double k8s_settings_price(const struct config *cfg, const char *name, double def);

struct backend_probe;
/* backend.probe: GET /version of the cluster of the kubeconfig the
 * backend would use (kubernetes.c). */
int kubernetes_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		     struct error *err);

#endif
