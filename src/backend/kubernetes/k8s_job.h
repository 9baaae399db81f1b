/*
 * k8s_job: the Kubernetes objects of one attempt, as data. Pure functions
 * (no I/O), so the manifests and the reading of the cluster's answers are
 * unit-tested on their own (tests/unit/test_kubernetes.c).
 *
 * An attempt is a batch/v1 Job named "frugal-JOB-N" (the ledger token
 * with a prefix: deterministic, so a create after a crash finds the first
 * one) and, when the task has secrets, a v1 Secret of the same name that
 * the pod reads with secretKeyRef. The Job runs one pod, never restarted
 * by Kubernetes (restartPolicy Never, backoffLimit 0: frugal's controller
 * owns retries), whose one container runs the frugal agent on the
 * attempt's directory on the storage volume (a PersistentVolumeClaim).
 *
 * k8s_view_of() reads a Job and its pods into what the controller asks:
 * is the attempt's machine pending, running or gone, and was it
 * disrupted (evicted, drained, its spot node reclaimed) -- a preemption.
 */
#ifndef FRUGAL_PROVIDER_K8S_JOB_H
#define FRUGAL_PROVIDER_K8S_JOB_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "spec/volume.h"

#include "backend/provider.h"

#define K8S_NAME_PREFIX "frugal-"
#define K8S_CONTAINER "job"
#define K8S_VOLUME "frugal-storage"

/* The pod command's exit status when its architecture check fails. */
#define K8S_BOOT_CHECK_STATUS 3

/* The value of the node label kubernetes.io/arch ("amd64", "arm64") for
 * an architecture name (x86_64, aarch64, amd64, arm64); NULL for others. */
const char *k8s_node_arch(const char *arch);

/* Labels every object of an attempt carries (gc and find select on them). */
#define K8S_LABEL_JOB "frugal-job"
#define K8S_LABEL_ATTEMPT "frugal-attempt"
#define K8S_LABEL_OWNER "frugal-owner"
#define K8S_LABEL_HOME "frugal-home"

/* Everything the manifests of one attempt are made from. Strings are
 * borrowed; NULL (0) leaves a field out. */
struct k8s_attempt {
	const char *name;		/* Job, Secret: k8s_object_name(token) */
	const char *namespace;
	const char *token;		/* "JOB-N" */
	const char *job_id;
	int attempt;
	const char *owner;		/* a label value: k8s_label_value("user.host") */
	const char *home_tag;		/* 8 hex digits of FRUGAL_HOME */

	const char *image;
	const char *frugal_bin;		/* the agent binary in the image */
	const char *arch;		/* what it is built for ("x86_64", "aarch64"): the
					 * pod's nodeSelector kubernetes.io/arch, and the pod
					 * command checks `uname -m` first; NULL: neither */
	const char *instance_dir;	/* the attempt's directory, as the pod sees it */
	const char *const *env;		/* extra NAME=value pairs for the agent, NULL-ended */
	const char *const *secret_names;	/* env read from the Secret, NULL-ended */

	int gpus;
	const char *gpu_resource;	/* "nvidia.com/gpu" */
	const char *gpu_label;		/* node label of the GPU type ... */
	const char *gpu_value;		/* ... and its value; NULL: any GPU node */
	const char *instance_type;	/* node.kubernetes.io/instance-type */
	double cpus;			/* requests.cpu; 0: none */
	double memory_gib;		/* requests.memory */
	int disk_gib;			/* requests.ephemeral-storage */

	int spot;			/* 1: run on spot nodes, 0: keep off them */
	const char *spot_label;		/* NULL: the cluster has no spot config */
	const char *spot_value;
	const char *spot_taint;		/* key spot nodes are tainted with */

	int64_t grace_s;		/* terminationGracePeriodSeconds */
	int64_t deadline_s;		/* activeDeadlineSeconds; 0: none */
	int64_t ttl_s;			/* ttlSecondsAfterFinished; < 0: none */

	const char *pvc;		/* claim holding the storage */
	const char *mount_path;		/* where the pod mounts it */
	const char *sub_path;		/* sub-directory of the volume, or NULL */
	const char *service_account;	/* NULL: none, no token mounted */
	/* The task's volumes: each claim (kind pvc, or a bare name) is a pod
	 * volume persistentVolumeClaim {claimName, readOnly} mounted at
	 * PROVIDER_VOLUME_ROOT/INDEX, where the agent links it. May be NULL. */
	const struct volume_list *volumes;
};

/* "frugal-" + token, when that is a DNS-1123 label (lower-case letters,
 * digits, '-', at most 63); NULL otherwise. Caller frees. */
char *k8s_object_name(const char *token);

/* s made into a valid label value: characters other than [A-Za-z0-9._-]
 * become '.', at most 63, starting and ending alphanumeric ("" stays "").
 * Caller frees. */
char *k8s_label_value(const char *s);

/* Resource quantities: CPUs (2 -> "2", 0.5 -> "500m") and GiB
 * (32 -> "32Gi", 0.5 -> "512Mi"). Caller frees. */
char *k8s_cpu_quantity(double cpus);
char *k8s_gib_quantity(double gib);

/* The batch/v1 Job of an attempt. Caller decrefs. */
json_t *k8s_job_manifest(const struct k8s_attempt *a);

/*
 * The v1 Secret of an attempt as JSON text: the values of secrets (only
 * those with a value; names must be valid environment names, else
 * FRUGAL_EINVAL naming the one) base64-encoded under data. The text holds
 * secrets: the caller overwrites it (secure_zero) before freeing.
 * *ret_text is NULL when there is no secret to store.
 */
int k8s_secret_manifest(const struct k8s_attempt *a, const struct kvlist *secrets,
			char **ret_text, struct error *err);

/* resources.ports as Service ports: how many single ports (a range
 * counts each of its ports); at most K8S_MAX_PORTS are made. */
#define K8S_MAX_PORTS 100
size_t k8s_port_count(const struct port_range *ports, size_t n);
/*
 * The v1 Service of an attempt's resources.ports: named, labelled as its
 * Job, of type (NodePort, ClusterIP, LoadBalancer), selecting the
 * attempt's pod (frugal-home, frugal-job, frugal-attempt), one TCP port
 * entry "pPORT" per port (a range expanded), targetPort the same port.
 * Caller decrefs.
 */
json_t *k8s_service_manifest(const struct k8s_attempt *a, const char *type,
			     const struct port_range *ports, size_t n);

/* What the cluster says of an attempt. */
struct k8s_view {
	int exists;			/* the Job exists */
	int deleting;			/* ... and is being deleted */
	int finished;			/* Complete or Failed */
	enum instance_state state;
	int disrupted;			/* evicted, drained, node reclaimed: a preemption */
	int n_pods;			/* pods that still exist */
	int64_t grace_s;		/* the pod's termination grace period */
	char pod[256];			/* the newest pod's name, "" when none */
	char reason[512];		/* a note for humans: "pod x: ErrImagePull: ..." */
};

/*
 * Read job (the Job object, NULL when there is none) and pods (a PodList,
 * may be NULL) at now_ms into *ret. A pod still starting is pending; one
 * whose container cannot start (bad image name) is gone at once, one that
 * keeps failing to (image pull back-off, missing secret) is gone once it
 * is older than start_timeout_s.
 */
void k8s_view_of(const json_t *job, const json_t *pods, int64_t now_ms, int64_t start_timeout_s,
		 struct k8s_view *ret);

/* An RFC 3339 time ("2026-11-22T08:15:03Z", fractions and offsets too) in
 * Unix ms; -1 when it is not one. */
int64_t k8s_parse_time(const char *s);

#endif
