/*
 * runpod_v1: Runpod's REST API v1 (https://rest.runpod.io/v1), after the
 * published api-reference/openapi.json: POST /pods (PodCreateInput),
 * GET /pods?name=, GET /pods/{podId}, DELETE /pods/{podId}. Plus the
 * pieces every version shares: GPU type ids, the key file, capacity
 * errors, and the version table.
 */
#define _GNU_SOURCE	/* strcasestr */
#include "backend/runpod/api.h"
#include "base/xalloc.h"
#include "util/http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void runpod_pod_release(struct runpod_pod *p)
{
	free(p->id);
	free(p->name);
	free(p->status);
	free(p->ip);
	memset(p, 0, sizeof(*p));
}

/* ---- shared by every version -------------------------------------------------- */

/* The catalog's accelerator names and Runpod's gpuTypeIds (the v1 spec's
 * enum of PodCreateInput.gpuTypeIds). */
static const struct { const char *accel, *id; } gpu_ids[] = {
	{ "A100-80GB", "NVIDIA A100 80GB PCIe" },
	{ "A100-80GB-SXM", "NVIDIA A100-SXM4-80GB" },
	{ "A40", "NVIDIA A40" },
	{ "B200", "NVIDIA B200" },
	{ "H100", "NVIDIA H100 PCIe" },
	{ "H100-NVL", "NVIDIA H100 NVL" },
	{ "H100-SXM", "NVIDIA H100 80GB HBM3" },
	{ "H200-SXM", "NVIDIA H200" },
	{ "L4", "NVIDIA L4" },
	{ "L40", "NVIDIA L40" },
	{ "L40S", "NVIDIA L40S" },
	{ "MI300X", "AMD Instinct MI300X OAM" },
	{ "NVIDIA-H200-NVL", "NVIDIA H200 NVL" },
	{ "RTX2000-Ada", "NVIDIA RTX 2000 Ada Generation" },
	{ "RTX3090", "NVIDIA GeForce RTX 3090" },
	{ "RTX4000-Ada", "NVIDIA RTX 4000 Ada Generation" },
	{ "RTX4090", "NVIDIA GeForce RTX 4090" },
	{ "RTX5090", "NVIDIA GeForce RTX 5090" },
	{ "RTX6000-Ada", "NVIDIA RTX 6000 Ada Generation" },
	{ "RTXA4000", "NVIDIA RTX A4000" },
	{ "RTXA4500", "NVIDIA RTX A4500" },
	{ "RTXA5000", "NVIDIA RTX A5000" },
	{ "RTXA6000", "NVIDIA RTX A6000" },
	{ "RTXPRO6000", "NVIDIA RTX PRO 6000 Blackwell Server Edition" },
	{ "RTXPRO6000-WK", "NVIDIA RTX PRO 6000 Blackwell Workstation Edition" },
};

const char *runpod_gpu_type_id(const char *accel)
{
	size_t i;

	for (i = 0; accel && i < sizeof(gpu_ids) / sizeof(gpu_ids[0]); i++)
		if (!strcasecmp(gpu_ids[i].accel, accel))
			return gpu_ids[i].id;
	return NULL;
}

char *runpod_key_from_toml(const char *text)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *v, *end;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		while (len && isspace((unsigned char)*line)) {
			line++;
			len--;
		}
		end = line + len;
		if ((!strncasecmp(line, "apikey", 6) && (isspace((unsigned char)line[6]) ||
							 line[6] == '=')) ||
		    (!strncasecmp(line, "api_key", 7) && (isspace((unsigned char)line[7]) ||
							  line[7] == '='))) {
			v = memchr(line, '=', len);
			if (v) {
				v++;
				while (v < end && (isspace((unsigned char)*v) || *v == '"' ||
						   *v == '\''))
					v++;
				while (end > v && (isspace((unsigned char)end[-1]) ||
						   end[-1] == '"' || end[-1] == '\''))
					end--;
				if (end > v)
					return xstrndup(v, (size_t)(end - v));
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

int runpod_is_capacity_error(long status, json_t *body)
{
	static const char *const words[] = {
		"no longer any instances", "no instances", "not enough", "capacity",
		"unavailable", "not available", "could not be placed", "no gpus", NULL,
	};
	const char *text = cloud_error_text(body);
	size_t i;

	if (status == 429 || status / 100 == 2 || !*text)
		return 0;
	for (i = 0; words[i]; i++)
		if (strcasestr(text, words[i]))
			return 1;
	return 0;
}

const struct runpod_api_ops *runpod_api_for(const char *version)
{
	if (!version || !strcmp(version, "v1"))
		return &runpod_v1_ops;
	return NULL;
}

/* ---- v1 ------------------------------------------------------------------------ */

/* PodCreateInput for c: only properties the v1 spec defines. */
static json_t *v1_create_body(const struct runpod_create *c)
{
	json_t *o = json_object(), *env = json_object(), *cmd = json_array();
	size_t i;

	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "imageName", json_string(c->image));
	json_object_set_new(o, "computeType", json_string("GPU"));
	json_object_set_new(o, "gpuTypeIds", json_pack("[s]", c->gpu_type_id));
	json_object_set_new(o, "gpuTypePriority", json_string("custom"));
	json_object_set_new(o, "gpuCount", json_integer(c->gpu_count));
	json_object_set_new(o, "cloudType", json_string(c->cloud_type));
	if (c->data_center) {
		json_object_set_new(o, "dataCenterIds", json_pack("[s]", c->data_center));
		json_object_set_new(o, "dataCenterPriority", json_string("custom"));
	}
	if (!strcmp(c->cloud_type, "COMMUNITY"))
		json_object_set_new(o, "supportPublicIp", json_true());
	json_object_set_new(o, "interruptible", json_boolean(c->interruptible));
	for (i = 0; c->env && i < c->env->n; i++)
		if (c->env->items[i].value)
			json_object_set_new(env, c->env->items[i].key,
					    json_string(c->env->items[i].value));
	json_object_set_new(o, "env", env);
	if (c->network_volume_id)
		json_object_set_new(o, "networkVolumeId", json_string(c->network_volume_id));
	if (c->volume_mount_path)
		json_object_set_new(o, "volumeMountPath", json_string(c->volume_mount_path));
	if (c->container_disk_gb > 0)
		json_object_set_new(o, "containerDiskInGb", json_integer(c->container_disk_gb));
	json_object_set_new(o, "ports", json_pack("[s]", "22/tcp"));
	for (i = 0; c->start_cmd && c->start_cmd[i]; i++)
		json_array_append_new(cmd, json_string(c->start_cmd[i]));
	json_object_set_new(o, "dockerStartCmd", cmd);
	return o;
}

/* v1's Pod object: desiredStatus, publicIp, portMappings {"22": N}. */
static void v1_parse(json_t *j, struct runpod_pod *ret)
{
	const char *s = json_string_value(json_object_get(j, "desiredStatus"));
	const char *ip = json_string_value(json_object_get(j, "publicIp"));
	json_t *port = json_object_get(json_object_get(j, "portMappings"), "22");

	memset(ret, 0, sizeof(*ret));
	ret->id = xstrdup(json_string_value(json_object_get(j, "id")));
	ret->name = xstrdup(json_string_value(json_object_get(j, "name")));
	ret->status = xstrdup(s ? s : "");
	ret->interruptible = json_is_true(json_object_get(j, "interruptible"));
	if (ip && *ip)
		ret->ip = xstrdup(ip);
	if (json_is_integer(port))
		ret->ssh_port = (int)json_integer_value(port);
	if (!s || !strcmp(s, "EXITED") || !strcmp(s, "TERMINATED"))
		ret->state = INSTANCE_GONE;
	else if (!strcmp(s, "RUNNING") && ret->ip && ret->ssh_port > 0)
		ret->state = INSTANCE_RUNNING;
	else
		ret->state = INSTANCE_PENDING;
}

/* "Runpod API: METHOD PATH: HTTP N: message". */
static int v1_error(const char *method, const char *path, long status, json_t *body,
		    struct error *err)
{
	return error_set(err, FRUGAL_EPROVIDER, "Runpod API: %s %s: HTTP %ld%s%s", method, path,
			 status, *cloud_error_text(body) ? ": " : "", cloud_error_text(body));
}

/* POST /pods, once (the caller looks the name up before a retry). */
static int v1_create(struct cloud_api *api, const struct runpod_create *c,
		     struct runpod_pod *ret, struct error *err)
{
	json_t *body = v1_create_body(c), *reply = NULL, *env, *v;
	const char *k;
	long status = 0;
	int r;

	r = cloud_api_call(api, "POST", "/pods", body, CLOUD_NO_RETRY, &status, &reply, err);
	/* The body held the secrets: wipe jansson's copies. */
	env = json_object_get(body, "env");
	json_object_foreach(env, k, v)
		secure_zero((char *)json_string_value(v), json_string_length(v));
	json_decref(body);
	if (r < 0)
		goto out;
	if (status / 100 == 2 && json_is_string(json_object_get(reply, "id"))) {
		v1_parse(reply, ret);
		goto out;
	}
	if (runpod_is_capacity_error(status, reply))
		r = error_set(err, FRUGAL_ECAPACITY, "Runpod: no %s x%d in %s now: %s",
			      c->gpu_type_id, c->gpu_count, c->data_center ? c->data_center : "any"
			      " data center", cloud_error_text(reply));
	else if (status == 429 || status >= 500)
		r = error_set(err, FRUGAL_ENET, "Runpod API: POST /pods: HTTP %ld", status);
	else
		r = v1_error("POST", "/pods", status, reply, err);
out:
	if (reply) {
		/* The reply echoes the environment too. */
		env = json_object_get(reply, "env");
		json_object_foreach(env, k, v)
			if (json_is_string(v))
				secure_zero((char *)json_string_value(v), json_string_length(v));
	}
	json_decref(reply);
	return r;
}

/* GET /pods/{podId}. */
static int v1_get(struct cloud_api *api, const char *id, struct runpod_pod *ret,
		  int *ret_found, struct error *err)
{
	char *enc = http_urlencode(id, 0), *path = xasprintf("/pods/%s", enc);
	json_t *reply = NULL;
	long status = 0;
	int r;

	*ret_found = 0;
	if ((r = cloud_api_call(api, "GET", path, NULL, 0, &status, &reply, err)) < 0)
		goto out;
	if (status == 404 || (status == 400 && !json_is_object(reply)))
		goto out;
	if (status / 100 != 2 || !json_is_object(reply)) {
		r = v1_error("GET", "/pods/{podId}", status, reply, err);
		goto out;
	}
	v1_parse(reply, ret);
	*ret_found = 1;
out:
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

/* GET /pods, filtered by name when one is given. */
static int v1_list(struct cloud_api *api, const char *name, struct runpod_pod **ret,
		   size_t *ret_n, struct error *err)
{
	char *enc = name ? http_urlencode(name, 0) : NULL;
	char *path = name ? xasprintf("/pods?name=%s", enc) : xstrdup("/pods");
	json_t *reply = NULL, *pod;
	struct runpod_pod *pods = NULL;
	long status = 0;
	size_t i, n = 0;
	int r;

	if ((r = cloud_api_call(api, "GET", path, NULL, 0, &status, &reply, err)) < 0)
		goto out;
	if (status / 100 != 2 || !json_is_array(reply)) {
		r = v1_error("GET", "/pods", status, reply, err);
		goto out;
	}
	pods = xcalloc(json_array_size(reply) + 1, sizeof(*pods));
	json_array_foreach(reply, i, pod) {
		if (!json_is_string(json_object_get(pod, "id")))
			continue;
		v1_parse(pod, &pods[n]);
		if (name && (!pods[n].name || strcmp(pods[n].name, name))) {
			runpod_pod_release(&pods[n]);
			continue;
		}
		n++;
	}
	*ret = pods;
	*ret_n = n;
	pods = NULL;
out:
	free(pods);
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

/* DELETE /pods/{podId}; 404 is success. */
static int v1_remove(struct cloud_api *api, const char *id, struct error *err)
{
	char *enc = http_urlencode(id, 0), *path = xasprintf("/pods/%s", enc);
	json_t *reply = NULL;
	long status = 0;
	int r;

	if ((r = cloud_api_call(api, "DELETE", path, NULL, 0, &status, &reply, err)) < 0)
		goto out;
	if (status / 100 != 2 && status != 404)
		r = v1_error("DELETE", "/pods/{podId}", status, reply, err);
out:
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

const struct runpod_api_ops runpod_v1_ops = {
	.version = "v1",
	.default_url = "https://rest.runpod.io/v1",
	.create_body = v1_create_body,
	.create = v1_create,
	.get = v1_get,
	.list = v1_list,
	.remove = v1_remove,
	.self_method = "DELETE",
	.self_path = "/pods/",
	.parse = v1_parse,
};
