/*
 * runpod_v2: Runpod's REST API v2 (server https://api.runpod.io, paths
 * /v2/...), after the published api-reference-v2/openapi.json: POST
 * /v2/pods (CreatePodRequest), GET /v2/pods, GET and DELETE
 * /v2/pods/{id}, GET /v2/network-volumes/{id}, GET /v2/catalog/gpus/{id}
 * with include=AVAILABILITY&product=POD. Errors are problem+json
 * ({title, status, detail, errors[]}). Plus the pieces every version
 * shares: GPU type ids, the key file, capacity errors, the version table.
 */
#define _GNU_SOURCE	/* strcasestr */
#include "backend/runpod/api.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "util/http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The container's command. v2 takes it as one string, "args", handed to
 * the image's entrypoint; it is written without quotes or blanks (${IFS}
 * stands for them) so that it means the same whether Runpod splits it at
 * blanks or the way a shell would. It writes the start script from the
 * environment (FRUGAL_START) to a file and execs it, so that the agent
 * the script execs ends up as the container's PID 1.
 */
#define START_ARGS "sh -c printenv${IFS}FRUGAL_START>$HOME/.frugal-start;" \
		   "exec${IFS}sh${IFS}$HOME/.frugal-start"

void runpod_pod_release(struct runpod_pod *p)
{
	free(p->id);
	free(p->name);
	free(p->status);
	free(p->ip);
	memset(p, 0, sizeof(*p));
}

void runpod_stock_release(struct runpod_stock *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->dc[i]);
		free(s->level[i]);
	}
	free(s->dc);
	free(s->level);
	free(s->gpu_type_id);
	free(s->cloud_type);
	free(s->overall);
	memset(s, 0, sizeof(*s));
}

/* ---- shared by every version -------------------------------------------------- */

/* The catalog's accelerator names and Runpod's GPU type ids (GpuType.id). */
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

/*
 * v2's createPod: a 400 is either a broken rule or "this GPU and data
 * center could not be placed" (no machine-readable code, only detail);
 * a 403 is "your account cannot access the requested pool" (skip the
 * candidate). Both of the latter are capacity for frugal.
 */
int runpod_is_capacity_error(long status, json_t *body)
{
	static const char *const words[] = {
		"no longer any instances", "no instances", "not enough", "capacity",
		"unavailable", "not available", "could not be placed", "no gpus", NULL,
	};
	const char *text = cloud_error_text(body);
	size_t i;

	if (status == 403)
		return 1;
	if (status == 429 || status == 402 || status == 422 || status / 100 == 2 || !*text)
		return 0;
	for (i = 0; words[i]; i++)
		if (strcasestr(text, words[i]))
			return 1;
	return 0;
}

const struct runpod_api_ops *runpod_api_for(const char *version)
{
	if (!version || !strcmp(version, "v2"))
		return &runpod_v2_ops;
	return NULL;
}

const char *runpod_stock_level(struct cloud_api *api, const struct runpod_api_ops *v,
			       struct runpod_stock *cache, const char *gpu_type_id, int count,
			       const char *cloud_type, const char *dc)
{
	size_t i;

	if (!cache->gpu_type_id || strcmp(cache->gpu_type_id, gpu_type_id) ||
	    cache->gpu_count != count || strcmp(cache->cloud_type, cloud_type)) {
		runpod_stock_release(cache);
		if (v->stock(api, gpu_type_id, count, cloud_type, cache, NULL) < 0) {
			cache->gpu_type_id = xstrdup(gpu_type_id);
			cache->gpu_count = count;
			cache->cloud_type = xstrdup(cloud_type);
			cache->failed = 1;
		}
	}
	if (cache->failed)
		return NULL;
	if (!dc)
		return cache->overall ? cache->overall : "NONE";
	for (i = 0; i < cache->n; i++)
		if (!strcmp(cache->dc[i], dc))
			return cache->level[i];
	return "NONE";
}

double runpod_stock_price(const struct runpod_stock *cache, int count)
{
	if (!cache || cache->failed || !(cache->gpu_price > 0) || count < 1)
		return 0;
	return cache->gpu_price * count;
}

/* ---- v2 ------------------------------------------------------------------------ */

/* CreatePodRequest for c: only properties the v2 spec defines (it rejects
 * any other by name). */
static json_t *v2_create_body(const struct runpod_create *c)
{
	json_t *o = json_object(), *env = json_object();
	size_t i;

	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "image", json_string(c->image));
	json_object_set_new(o, "gpu", json_pack("{s:s, s:i}", "id", c->gpu_type_id, "count",
						c->gpu_count > 0 ? c->gpu_count : 1));
	json_object_set_new(o, "cloud", json_string(c->cloud_type));
	if (c->data_center)
		json_object_set_new(o, "dataCenterIds", json_pack("[s]", c->data_center));
	for (i = 0; c->env && i < c->env->n; i++)
		if (c->env->items[i].value)
			json_object_set_new(env, c->env->items[i].key,
					    json_string(c->env->items[i].value));
	if (c->start_script) {
		json_object_set_new(env, "FRUGAL_START", json_string(c->start_script));
		json_object_set_new(o, "args", json_string(START_ARGS));
	}
	json_object_set_new(o, "env", env);
	if (c->network_volume_id)
		json_object_set_new(o, "mounts", json_pack("{s:[{s:s, s:s}]}", "network",
							   "volumeId", c->network_volume_id,
							   "path", c->volume_mount_path
							   ? c->volume_mount_path : "/workspace"));
	if (c->container_disk_gb > 0)
		json_object_set_new(o, "disk", json_integer(c->container_disk_gb));
	json_object_set_new(o, "ports", json_pack("[s]", "22/tcp"));
	for (i = 0; i < c->n_ports; i++) {
		int port;

		for (port = c->ports[i].from; port <= c->ports[i].to; port++)
			if (port != 22)
				json_array_append_new(json_object_get(o, "ports"),
						      json_sprintf("%d/http", port));
	}
	return o;
}

/* The SSH endpoint of a pod: ssh.direct, else the runtime's public
 * mapping of private port 22. */
static void v2_ssh_of(json_t *j, struct runpod_pod *ret)
{
	json_t *direct = json_object_get(json_object_get(j, "ssh"), "direct"), *port;
	const char *host = json_string_value(json_object_get(direct, "host"));
	size_t i;

	if (host && *host && json_is_integer(json_object_get(direct, "port"))) {
		ret->ip = xstrdup(host);
		ret->ssh_port = (int)json_integer_value(json_object_get(direct, "port"));
		return;
	}
	json_array_foreach(json_object_get(json_object_get(j, "runtime"), "ports"), i, port) {
		const char *ip = json_string_value(json_object_get(port, "ip"));

		if (json_integer_value(json_object_get(port, "private")) == 22 && ip && *ip &&
		    json_is_integer(json_object_get(port, "public"))) {
			ret->ip = xstrdup(ip);
			ret->ssh_port = (int)json_integer_value(json_object_get(port, "public"));
			return;
		}
	}
}

/* v2's Pod: status PROVISIONING -> STARTING -> RUNNING; EXITED (stopped),
 * ERROR (unrecoverable), TERMINATED (deleted) are gone for frugal. */
static void v2_parse(json_t *j, struct runpod_pod *ret)
{
	const char *s = json_string_value(json_object_get(j, "status"));

	memset(ret, 0, sizeof(*ret));
	ret->id = xstrdup(json_string_value(json_object_get(j, "id")));
	ret->name = xstrdup(json_string_value(json_object_get(j, "name")));
	ret->status = xstrdup(s ? s : "");
	v2_ssh_of(j, ret);
	if (!s || !strcmp(s, "EXITED") || !strcmp(s, "ERROR") || !strcmp(s, "TERMINATED"))
		ret->state = INSTANCE_GONE;
	else if (!strcmp(s, "RUNNING") && ret->ip && ret->ssh_port > 0)
		ret->state = INSTANCE_RUNNING;
	else
		ret->state = INSTANCE_PENDING;
}

/* "Runpod API: METHOD PATH: HTTP N: detail (errors...)". */
static int v2_error(const char *method, const char *path, long status, json_t *body,
		    struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *e;
	size_t i;
	int r;

	json_array_foreach(json_object_get(body, "errors"), i, e)
		if (json_is_string(e) && i < 8)
			strbuf_addf(&sb, "%s%s", sb.len ? "; " : " (", json_string_value(e));
	if (sb.len)
		strbuf_addch(&sb, ')');
	r = error_set(err, FRUGAL_EPROVIDER, "Runpod API: %s %s: HTTP %ld%s%s%s", method, path,
		      status, *cloud_error_text(body) ? ": " : "", cloud_error_text(body),
		      sb.len ? sb.buf : "");
	strbuf_release(&sb);
	return r;
}

/* Wipe the string values of an object (the environment of a request or
 * of a reply holds secrets). */
static void wipe_env(json_t *env)
{
	const char *k;
	json_t *v;

	json_object_foreach(env, k, v)
		if (json_is_string(v))
			secure_zero((char *)json_string_value(v), json_string_length(v));
}

/* POST /v2/pods, once (the caller looks the name up before a retry). */
static int v2_create(struct cloud_api *api, const struct runpod_create *c,
		     struct runpod_pod *ret, struct error *err)
{
	json_t *body = v2_create_body(c), *reply = NULL;
	long status = 0;
	int r;

	r = cloud_api_call(api, "POST", "/v2/pods", body, CLOUD_NO_RETRY, &status, &reply, err);
	wipe_env(json_object_get(body, "env"));
	json_decref(body);
	if (r < 0)
		goto out;
	if (status / 100 == 2 && json_is_string(json_object_get(reply, "id"))) {
		v2_parse(reply, ret);
		goto out;
	}
	if (runpod_is_capacity_error(status, reply))
		r = error_set(err, FRUGAL_ECAPACITY, "Runpod: no %s x%d in %s now: HTTP %ld: %s",
			      c->gpu_type_id, c->gpu_count, c->data_center ? c->data_center : "any"
			      " data center", status, cloud_error_text(reply));
	else if (status == 402)
		r = error_set(err, FRUGAL_EPROVIDER, "Runpod: the account's balance is too low to"
			      " create a pod (HTTP 402: %s); add funds at"
			      " https://www.runpod.io/console/user/billing", cloud_error_text(reply));
	else if (status == 429 || status >= 500)
		r = error_set(err, FRUGAL_ENET, "Runpod API: POST /v2/pods: HTTP %ld", status);
	else
		r = v2_error("POST", "/v2/pods", status, reply, err);
out:
	if (reply)
		wipe_env(json_object_get(reply, "env"));	/* it echoes the environment */
	json_decref(reply);
	return r;
}

/* GET /v2/pods/{id}. */
static int v2_get(struct cloud_api *api, const char *id, struct runpod_pod *ret,
		  int *ret_found, struct error *err)
{
	char *enc = http_urlencode(id, 0), *path = xasprintf("/v2/pods/%s", enc);
	json_t *reply = NULL;
	long status = 0;
	int r;

	*ret_found = 0;
	if ((r = cloud_api_call(api, "GET", path, NULL, 0, &status, &reply, err)) < 0)
		goto out;
	if (status == 404)
		goto out;
	if (status / 100 != 2 || !json_is_object(reply)) {
		r = v2_error("GET", "/v2/pods/{id}", status, reply, err);
		goto out;
	}
	v2_parse(reply, ret);
	*ret_found = 1;
out:
	if (reply)
		wipe_env(json_object_get(reply, "env"));
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

/* GET /v2/pods ({"pods": [...]}, no name filter and no pages in v2):
 * filtered by name here when one is given. */
static int v2_list(struct cloud_api *api, const char *name, struct runpod_pod **ret,
		   size_t *ret_n, struct error *err)
{
	json_t *reply = NULL, *arr, *pod;
	struct runpod_pod *pods = NULL;
	long status = 0;
	size_t i, n = 0;
	int r;

	if ((r = cloud_api_call(api, "GET", "/v2/pods", NULL, 0, &status, &reply, err)) < 0)
		goto out;
	arr = json_object_get(reply, "pods");
	if (status / 100 != 2 || !json_is_array(arr)) {
		r = v2_error("GET", "/v2/pods", status, reply, err);
		goto out;
	}
	pods = xcalloc(json_array_size(arr) + 1, sizeof(*pods));
	json_array_foreach(arr, i, pod) {
		wipe_env(json_object_get(pod, "env"));
		if (!json_is_string(json_object_get(pod, "id")))
			continue;
		v2_parse(pod, &pods[n]);
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
	return r;
}

/* DELETE /v2/pods/{id} (204); 404 is success. */
static int v2_remove(struct cloud_api *api, const char *id, struct error *err)
{
	char *enc = http_urlencode(id, 0), *path = xasprintf("/v2/pods/%s", enc);
	json_t *reply = NULL;
	long status = 0;
	int r;

	if ((r = cloud_api_call(api, "DELETE", path, NULL, 0, &status, &reply, err)) < 0)
		goto out;
	if (status / 100 != 2 && status != 404)
		r = v2_error("DELETE", "/v2/pods/{id}", status, reply, err);
out:
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

/* GET /v2/network-volumes/{id} -> its dataCenter. */
static int v2_volume_dc(struct cloud_api *api, const char *id, char **ret_dc,
			struct error *err)
{
	char *enc = http_urlencode(id, 0), *path = xasprintf("/v2/network-volumes/%s", enc);
	json_t *reply = NULL;
	long status = 0;
	int r;

	if ((r = cloud_api_call(api, "GET", path, NULL, 0, &status, &reply, err)) < 0)
		goto out;
	if (status / 100 == 2 && json_is_string(json_object_get(reply, "dataCenter")))
		*ret_dc = xstrdup(json_string_value(json_object_get(reply, "dataCenter")));
	else
		r = error_set(err, FRUGAL_EINVAL, "Runpod network volume '%s'"
			      " (backends.runpod.network_volume_id): HTTP %ld %s", id, status,
			      cloud_error_text(reply));
out:
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

/* GET /v2/catalog/gpus/{id}?include=AVAILABILITY&product=POD&count=N&cloud=C. */
static int v2_stock(struct cloud_api *api, const char *gpu_type_id, int count,
		    const char *cloud_type, struct runpod_stock *ret, struct error *err)
{
	struct runpod_stock s = RUNPOD_STOCK_INIT;
	char *enc = http_urlencode(gpu_type_id, 0), *path;
	json_t *reply = NULL, *dcs, *dc, *price;
	long status = 0;
	size_t i;
	int r;

	path = xasprintf("/v2/catalog/gpus/%s?include=AVAILABILITY&product=POD&count=%d"
			 "&cloud=%s", enc, count > 0 ? count : 1, cloud_type);
	if ((r = cloud_api_call(api, "GET", path, NULL, 0, &status, &reply, err)) < 0)
		goto out;
	if (status / 100 != 2 || !json_is_object(reply)) {
		r = v2_error("GET", "/v2/catalog/gpus/{id}", status, reply, err);
		goto out;
	}
	s.gpu_type_id = xstrdup(gpu_type_id);
	s.gpu_count = count;
	s.cloud_type = xstrdup(cloud_type);
	s.overall = xstrdup(json_string_value(json_object_get(reply, "availability")));
	/* GpuType.price: per GPU and hour, quoted per cloud. */
	price = json_object_get(json_object_get(reply, "price"),
				!strcmp(cloud_type, "COMMUNITY") ? "community" : "secure");
	if (json_is_number(price) && json_number_value(price) > 0)
		s.gpu_price = json_number_value(price);
	dcs = json_object_get(reply, "dataCenters");	/* absent: none anywhere */
	s.dc = xcalloc(json_array_size(dcs) + 1, sizeof(*s.dc));
	s.level = xcalloc(json_array_size(dcs) + 1, sizeof(*s.level));
	json_array_foreach(dcs, i, dc) {
		const char *id = json_string_value(json_object_get(dc, "id"));
		const char *lvl = json_string_value(json_object_get(dc, "availability"));

		if (!id || !lvl)
			continue;
		s.dc[s.n] = xstrdup(id);
		s.level[s.n] = xstrdup(lvl);
		s.n++;
	}
	*ret = s;
	memset(&s, 0, sizeof(s));
out:
	runpod_stock_release(&s);
	json_decref(reply);
	free(path);
	free(enc);
	return r;
}

const struct runpod_api_ops runpod_v2_ops = {
	.version = "v2",
	.default_url = "https://api.runpod.io",
	.create_body = v2_create_body,
	.create = v2_create,
	.get = v2_get,
	.list = v2_list,
	.remove = v2_remove,
	.volume_dc = v2_volume_dc,
	.stock = v2_stock,
	.self_method = "DELETE",
	.self_path = "/v2/pods/",
	.parse = v2_parse,
};
