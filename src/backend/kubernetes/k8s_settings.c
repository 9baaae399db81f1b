/*
 * k8s_settings: backends.kubernetes of config.yaml (see k8s_settings.h).
 */
#include "backend/common/agentbin.h"
#include "backend/kubernetes/k8s_settings.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "spec/suggest.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MOUNT_PATH "/frugal"
#define DEFAULT_GPU_RESOURCE "nvidia.com/gpu"
#define DEFAULT_GPU_LABEL "nvidia.com/gpu.product"
#define DEFAULT_TTL 3600		/* s: the cluster's own cleanup, a backstop */
#define DEFAULT_START_TIMEOUT 600	/* s: an image that keeps failing to pull */
#define DEFAULT_REQUEST_TIMEOUT 30	/* s: one API request */

/* The backends.kubernetes section, or NULL. */
static const struct backend_settings *section(const struct config *cfg)
{
	size_t i;

	for (i = 0; cfg && i < cfg->n_backends; i++)
		if (!strcmp(cfg->backends[i].name, "kubernetes"))
			return &cfg->backends[i];
	return NULL;
}

/* 1 when there is a backends.kubernetes section. */
int k8s_settings_configured(const struct config *cfg)
{
	return section(cfg) != NULL;
}

/* A setting as written, NULL when absent or empty. */
static const char *get(const struct config *cfg, const char *key)
{
	const char *v = cfg ? config_backend_get(cfg, "kubernetes", key) : NULL;

	return v && *v ? v : NULL;
}

/* A setting, or def. */
static const char *get_or(const struct config *cfg, const char *key, const char *def)
{
	const char *v = get(cfg, key);

	return v ? v : def;
}

/* Every key of the section is one of the descriptor's settings
 * (descriptor.c), a mapping (NAME.SUB) exactly where the schema says so.
 * config.yaml is checked so when it is read; this catches a config made
 * some other way. */
static int check_keys(const struct config *cfg, struct error *err)
{
	const struct backend_settings *sec = section(cfg);
	const struct config_setting *schema = config_backend_settings("kubernetes");
	const char *known[64];
	size_t i, j, n_known = 0;

	for (j = 0; schema && schema[j].key && n_known < 64; j++)
		known[n_known++] = schema[j].key;
	for (i = 0; sec && i < sec->settings.n; i++) {
		const char *key = sec->settings.items[i].key;
		size_t base = strcspn(key, ".");
		char *head = xstrndup(key, base);
		const char *near;
		int found = 0, mapping = 0;

		for (j = 0; schema && schema[j].key && !found; j++) {
			found = !strcmp(head, schema[j].key);
			mapping = found && schema[j].type == CONFIG_MAP;
		}
		if (!found || mapping != (key[base] == '.')) {
			near = found ? NULL : suggest_nearest(head, known, n_known);
			error_set(err, FRUGAL_EINVAL, "config.yaml: backends.kubernetes.%s: %s%s%s%s"
				  " (see docs/KUBERNETES.md)", key,
				  !found ? "unknown setting" : mapping ? "expected a mapping"
								       : "expected a value",
				  near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
			free(head);
			return FRUGAL_EINVAL;
		}
		free(head);
	}
	return 0;
}

/* A number >= 0, or def when not set. */
static int get_number(const struct config *cfg, const char *key, double def, double *ret,
		      struct error *err)
{
	return config_backend_number(cfg, "kubernetes", key, def, ret, err);
}

/* A duration in seconds ("90", "10m"), or def when not set. */
static int get_duration(const struct config *cfg, const char *key, int64_t def, int64_t *ret,
			struct error *err)
{
	const char *v = get(cfg, key);

	*ret = def;
	if (v && duration_parse(v, ret) < 0)
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.kubernetes.%s: expected"
				 " a duration such as 90, 10m or 4h, got '%s'", key, v);
	return 0;
}

/* The whole section, checked (see k8s_settings.h). */
int k8s_settings_read(const struct config *cfg, struct k8s_settings *ret, struct error *err)
{
	struct k8s_settings s;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = check_keys(cfg, err)) < 0 ||
	    (r = get_number(cfg, "price_per_gpu_hour", 0, &s.price_gpu, err)) < 0 ||
	    (r = get_number(cfg, "price_per_hour", 0, &s.price_cpu, err)) < 0 ||
	    (r = get_number(cfg, "spot_price_per_gpu_hour", s.price_gpu, &s.price_spot_gpu,
			    err)) < 0 ||
	    (r = get_duration(cfg, "ttl_seconds_after_finished", DEFAULT_TTL, &s.ttl, err)) < 0 ||
	    (r = get_duration(cfg, "start_timeout", DEFAULT_START_TIMEOUT, &s.start_timeout,
			      err)) < 0 ||
	    (r = get_duration(cfg, "request_timeout", DEFAULT_REQUEST_TIMEOUT, &s.request_timeout,
			      err)) < 0)
		return r;
	if (s.request_timeout <= 0)
		s.request_timeout = DEFAULT_REQUEST_TIMEOUT;
	s.kubeconfig = get(cfg, "kubeconfig");
	s.context = get(cfg, "context");
	s.ns = get(cfg, "namespace");
	s.image = get(cfg, "image");
	s.frugal_bin = get_or(cfg, "frugal_bin", "frugal");
	s.arch = agentbin_arch_normalize(get_or(cfg, "arch", "amd64"));
	if (!s.arch)
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.kubernetes.arch: expected"
				 " amd64 or arm64 (what frugal_bin in the image is built for), got '%s'",
				 get(cfg, "arch"));
	s.pvc = get(cfg, "pvc");
	s.mount_path = get_or(cfg, "pvc_mount_path", DEFAULT_MOUNT_PATH);
	s.sub_path = get(cfg, "pvc_sub_path");
	s.gpu_resource = get_or(cfg, "gpu_resource", DEFAULT_GPU_RESOURCE);
	s.gpu_label = get_or(cfg, "gpu_label", DEFAULT_GPU_LABEL);
	s.spot_label = get(cfg, "spot_label");
	s.spot_value = get_or(cfg, "spot_label_value", "true");
	s.spot_taint = get(cfg, "spot_taint");
	s.service_account = get(cfg, "service_account");
	s.service_type = get_or(cfg, "service_type", "NodePort");
	if (strcmp(s.service_type, "NodePort") && strcmp(s.service_type, "ClusterIP") &&
	    strcmp(s.service_type, "LoadBalancer"))
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.kubernetes.service_type:"
				 " expected NodePort, ClusterIP or LoadBalancer (the Service of"
				 " resources.ports), got '%s'", s.service_type);
	if (s.mount_path[0] != '/')
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.kubernetes.pvc_mount_path:"
				 " expected an absolute path, got '%s'", s.mount_path);
	if (s.sub_path && (s.sub_path[0] == '/' || strstr(s.sub_path, "..")))
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.kubernetes.pvc_sub_path:"
				 " expected a relative path without '..', got '%s'", s.sub_path);
	*ret = s;
	return 0;
}

/* gpu_types.NAME, case-insensitive. */
const char *k8s_settings_gpu_type(const struct config *cfg, const char *name, int *ret_any)
{
	const struct backend_settings *sec = section(cfg);
	size_t j;

	*ret_any = 0;
	for (j = 0; sec && j < sec->settings.n; j++) {
		const struct kv *kv = &sec->settings.items[j];

		if (strncmp(kv->key, "gpu_types.", 10))
			continue;
		*ret_any = 1;
		if (!strcasecmp(kv->key + 10, name))
			return kv->value ? kv->value : "";
	}
	return NULL;
}

/* prices.NAME, else def. */
double k8s_settings_price(const struct config *cfg, const char *name, double def)
{
	char *key = xasprintf("prices.%s", name);
	double d = def;

	config_backend_number(cfg, "kubernetes", key, def, &d, NULL);
	free(key);
	return d;
}
