#include "backend/provider.h"
#include "backend/common/container.h"
#include "backend/registry.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "store/store.h"

#include "util/http.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>

void plan_release(struct plan *p)
{
	free(p->backend);
	free(p->region);
	free(p->zone);
	free(p->instance_type);
	free(p->accelerator);
	free(p->capacity);
	free(p->price_source);
	memset(p, 0, sizeof(*p));
}

void provider_global_init(void)
{
	http_global_init();
	xmlInitParser();
}

int launch_failed_early(const struct launch_request *req, int r)
{
	if (r < 0 && req->report)
		req->report->nothing_made = 1;
	return r;
}

void plan_copy(const struct plan *src, struct plan *ret)
{
	*ret = *src;
	ret->backend = src->backend ? xstrdup(src->backend) : NULL;
	ret->region = src->region ? xstrdup(src->region) : NULL;
	ret->zone = src->zone ? xstrdup(src->zone) : NULL;
	ret->instance_type = src->instance_type ? xstrdup(src->instance_type) : NULL;
	ret->accelerator = src->accelerator ? xstrdup(src->accelerator) : NULL;
	ret->capacity = src->capacity ? xstrdup(src->capacity) : NULL;
	ret->price_source = src->price_source ? xstrdup(src->price_source) : NULL;
}

void instance_view_release(struct instance_view *v)
{
	free(v->reason);
	v->reason = NULL;
}

void provider_free(struct provider *p)
{
	if (!p)
		return;
	if (p->ops->free)
		p->ops->free(p);
	free(p->home);
	free(p->self_exe);
	free(p);
}

const char *provider_choose(const struct task *t, const struct config *cfg,
			    const char *override)
{
	if (override && *override)
		return override;
	if (t && t->backend)
		return t->backend;
	if (t && t->res.cloud)
		return t->res.cloud;
	if (cfg && cfg->default_backend)
		return cfg->default_backend;
	return "local";
}

void provider_agent_doc(const struct launch_request *req, const char *backend,
			struct agent_doc *ret)
{
	struct agent_doc d = AGENT_DOC_INIT;

	d.job_id = xstrdup(req->job_id);
	d.attempt = req->attempt;
	d.restart_count = req->restart_count;
	d.backend = xstrdup(backend);
	d.storage_url = xstrdup(req->storage_url);
	d.job_prefix = xstrdup(req->job_prefix);
	if (req->controller_socket)
		d.controller_socket = xstrdup(req->controller_socket);
	agent_doc_set_gpus(&d, req->gpus);
	d.outputs_url = req->outputs_url ? xstrdup(req->outputs_url) : NULL;
	d.controller_key = req->controller_key ? xstrdup(req->controller_key) : NULL;
	d.task_json = req->task_json ? xstrdup(req->task_json) : NULL;
	if (req->num_nodes > 1) {
		d.rank = req->rank;
		d.num_nodes = req->num_nodes;
	}
	/* Where the machine is not the image, the agent runs the job in it. */
	if (req->task && req->task->res.image_docker && req->task->res.image_id &&
	    !(registry_find(backend) && (registry_find(backend)->caps & BACKEND_CAP_CONTAINER)))
		d.container_image = xstrdup(req->task->res.image_id);
	*ret = d;
}

void provider_agent_doc_remote(const struct launch_request *req, const char *backend,
			       int gpus, struct agent_doc *ret)
{
	struct strbuf ids = STRBUF_INIT;
	int i;

	provider_agent_doc(req, backend, ret);
	free(ret->controller_socket);
	ret->controller_socket = NULL;
	if (gpus < 0)
		return;
	for (i = 0; i < gpus; i++)
		strbuf_addf(&ids, "%s%d", i ? "," : "", i);
	agent_doc_set_gpus(ret, ids.buf);
	strbuf_release(&ids);
}

/* backends.NAME.key, or NULL (cfg may be NULL). */
static const char *setting(const struct config *cfg, const char *name, const char *key)
{
	if (!cfg)
		return NULL;
	if (!strcmp(name, "local"))	/* its section is parsed apart (spec/config.h) */
		return !strcmp(key, "container_runtime") ? cfg->local.container_runtime : NULL;
	return config_backend_get(cfg, name, key);
}

/* 1 when the backend's settings schema has key. */
static int has_setting(const struct backend *b, const char *key)
{
	const struct config_setting *s;

	for (s = b->settings; s && s->key; s++)
		if (!strcmp(s->key, key))
			return 1;
	return 0;
}

int provider_write_agent_json(const struct provider *p, const char *dir,
			      const struct launch_request *req, const char *backend,
			      const char *gpus_env, struct error *err)
{
	struct agent_doc d;
	int r;

	provider_agent_doc(req, backend, &d);
	if (d.container_image) {
		/* This home's name, which its teardown and gc look for. */
		const char *rt = setting(p->config, backend, "container_runtime");

		d.container_name = container_name(p->home, req->token);
		d.container_runtime = rt ? xstrdup(rt) : NULL;
		if (container_mark_home(p->home, err) < 0) {
			agent_doc_release(&d);
			return FRUGAL_EIO;
		}
	}
	if (gpus_env)
		d.gpus_env = xstrdup(gpus_env);
	d.work_dir = fs_path_join(dir, "work");
	d.checkpoint_dir = fs_path_join(dir, "checkpoint");
	d.output_dir = fs_path_join(dir, "outputs");
	/* Nodes that are processes of this machine reach each other here. */
	if (d.num_nodes > 1 && registry_find(backend) &&
	    (registry_find(backend)->caps & BACKEND_CAP_THIS_MACHINE))
		d.node_ip = xstrdup("127.0.0.1");
	r = agent_doc_write(&d, dir, err);
	agent_doc_release(&d);
	return r;
}

char *provider_node_token(const char *token, int rank)
{
	return rank <= 0 ? xstrdup(token) : xasprintf("%s.r%d", token, rank);
}

int provider_token_rank(const char *token)
{
	const char *dot = token ? strrchr(token, '.') : NULL;
	char *end = NULL;
	long r;

	if (!dot || dot[1] != 'r' || dot[2] < '1' || dot[2] > '9')
		return 0;
	r = strtol(dot + 2, &end, 10);
	return *end || r >= TASK_NODES_MAX ? 0 : (int)r;
}

char *provider_node_gpus(const char *gpus, int rank, int num_nodes)
{
	struct strbuf sb = STRBUF_INIT;
	const char *g = gpus ? gpus : "";
	int n = 0, per, i = 0;

	if (num_nodes <= 1)
		return xstrdup(g);
	if (*g)
		for (n = 1; *g; g++)
			n += *g == ',';
	per = n / num_nodes;
	for (g = gpus ? gpus : ""; *g && i < (rank + 1) * per; i++) {
		size_t len = strcspn(g, ",");

		if (i >= rank * per) {
			if (sb.len)
				strbuf_addch(&sb, ',');
			strbuf_add(&sb, g, len);
		}
		g += len;
		if (*g == ',')
			g++;
	}
	return strbuf_detach(&sb, NULL);
}

int provider_token_split(const char *token, char *job, size_t size, int *ret_n)
{
	const char *dash = token ? strrchr(token, '-') : NULL;
	char *end = NULL;
	long n;

	if (!dash || dash == token || (size_t)(dash - token) >= size || !dash[1])
		return FRUGAL_EINVAL;
	n = strtol(dash + 1, &end, 10);
	if (*end && provider_token_rank(token) < 1)	/* only a node's ".rR" may follow */
		return FRUGAL_EINVAL;
	if (n < 1 || n > 1000000)
		return FRUGAL_EINVAL;
	memcpy(job, token, (size_t)(dash - token));
	job[dash - token] = '\0';
	*ret_n = (int)n;
	return 0;
}

int provider_reserve_none(struct provider *p, const struct task *t,
			  const struct attempt_list *live, char **ret_gpus, struct error *err)
{
	*ret_gpus = xstrdup("");
	return 0;
}

int provider_is_paid(const char *name)
{
	/* This machine, and a Slurm cluster the user runs, bill nobody. */
	return name && strcmp(name, "local") && strcmp(name, "slurm");
}

char *provider_notice_json(int64_t deadline_ms, const char *reason)
{
	if (reason && !strcmp(reason, "budget"))
		return xasprintf("{\"deadline_ms\": %lld, \"source\": \"budget\","
				 " \"reason\": \"budget\"}\n", (long long)deadline_ms);
	return xasprintf("{\"deadline_ms\": %lld, \"source\": \"debug\"}\n",
			 (long long)deadline_ms);
}

const char *provider_container_runtime(const struct config *cfg, const char *backend)
{
	const struct backend *b = registry_find(backend);
	const char *rt;

	if (!b)
		return NULL;
	if (b->caps & BACKEND_CAP_CONTAINER)
		return "the pod's image";
	if (b->caps & BACKEND_CAP_DOCKER_ON_VM)
		return "docker on the VM";
	rt = setting(cfg, b->name, "container_runtime");
	if (b->caps & BACKEND_CAP_THIS_MACHINE)
		return container_runtime_find(rt);
	/* A cluster's nodes: what the settings say they have. */
	return rt && (!strcmp(rt, "docker") || !strcmp(rt, "podman")) ? rt : NULL;
}

/* The kind of b called kind, or NULL. */
static const struct volume_kind *backend_volume_kind(const struct backend *b, const char *kind)
{
	size_t k;

	for (k = 0; b->volume_kinds && b->volume_kinds[k].kind; k++)
		if (!strcmp(b->volume_kinds[k].kind, kind))
			return &b->volume_kinds[k];
	return NULL;
}

/* Every volume of t is of a kind b gives; else one line naming it, what
 * b gives and the backends that give it. */
static int check_volumes(const struct task *t, const struct backend *b, struct error *err)
{
	struct strbuf gives = STRBUF_INIT, others = STRBUF_INIT;
	const struct volume *v = NULL;
	char src[512];
	size_t i, k;
	int r;

	for (i = 0; i < t->volumes.n && !v; i++)
		if (!(b->caps & BACKEND_CAP_VOLUMES) || !backend_volume_kind(b, t->volumes.items[i].kind))
			v = &t->volumes.items[i];
	if (!v)
		return 0;
	for (k = 0; b->volume_kinds && b->volume_kinds[k].kind; k++)
		strbuf_addf(&gives, "%s%s", k ? ", " : "", b->volume_kinds[k].what);
	for (k = 0; k < registry_count(); k++) {
		const struct backend *o = registry_at(k);

		if ((o->caps & BACKEND_CAP_VOLUMES) && backend_volume_kind(o, v->kind))
			strbuf_addf(&others, "%s%s", others.len ? ", " : "", o->name);
	}
	volume_source_text(v, src, sizeof(src));
	r = error_set(err, FRUGAL_ENOTSUP, "volumes: '%s: %s' cannot be given by backend %s "
		      "(it gives %s); %s%s", v->dst, src, b->name,
		      gives.len ? gives.buf : "no volumes",
		      others.len ? "run on backend " : "remove it",
		      others.len ? others.buf : "");
	strbuf_release(&gives);
	strbuf_release(&others);
	return r;
}

int provider_check_task(const struct task *t, const char *backend, const struct config *cfg,
			struct error *err)
{
	const struct backend *b = registry_find(backend);
	char names[256];
	int r;

	if (!b)
		return 0;	/* provider_open says what is wrong with the name */
	if (t->num_nodes > 1 && !(b->caps & BACKEND_CAP_MULTI_NODE))
		return error_set(err, FRUGAL_ENOTSUP, "'num_nodes: %d' is not supported by backend"
				 " %s yet: it cannot place several machines together; use "
				 "num_nodes: 1, or run on backend %s", t->num_nodes, backend,
				 registry_names(BACKEND_CAP_MULTI_NODE, names, sizeof(names)));
	if (t->res.n_ports && !(b->caps & BACKEND_CAP_PORTS))
		return error_set(err, FRUGAL_ENOTSUP, "'resources.ports' is not supported by "
				 "backend %s yet: it cannot open ports; remove ports, or run on "
				 "backend %s", backend,
				 registry_names(BACKEND_CAP_PORTS, names, sizeof(names)));
	if (t->volumes.n && (r = check_volumes(t, b, err)) < 0)
		return r;
	if (t->res.image_docker && !provider_container_runtime(cfg, b->name)) {
		const char *rt = setting(cfg, b->name, "container_runtime");

		if (rt && strcmp(rt, "docker") && strcmp(rt, "podman"))
			return error_set(err, FRUGAL_EINVAL, "backends.%s.container_runtime is "
					 "'%s'; expected docker or podman", b->name, rt);
		if (rt)
			return error_set(err, FRUGAL_ENOTSUP, "%s: image_id docker:%s needs a "
					 "container runtime, and %s (backends.%s.container_runtime)"
					 " is not on PATH or does not answer; install it or remove "
					 "image_id", b->name, t->res.image_id, rt, b->name);
		if (b->caps & BACKEND_CAP_THIS_MACHINE)
			return error_set(err, FRUGAL_ENOTSUP, "%s: image_id docker:%s needs a "
					 "container runtime, and no working docker or podman is on "
					 "PATH (docker needs its daemon); install one (apt-get "
					 "install podman) or remove image_id", b->name,
					 t->res.image_id);
		if (has_setting(b, "container_runtime"))
			return error_set(err, FRUGAL_ENOTSUP, "%s: image_id docker:%s needs a "
					 "container runtime; set backends.%s.container_runtime "
					 "(docker or podman on its nodes) or remove image_id",
					 b->name, t->res.image_id, b->name);
		return error_set(err, FRUGAL_ENOTSUP, "%s: image_id docker:%s needs a container "
				 "runtime, which backend %s cannot run; remove image_id, or use "
				 "backend %s", b->name, t->res.image_id, b->name,
				 registry_names(BACKEND_CAP_CONTAINER, names, sizeof(names)));
	}
	return 0;
}

/* ---- ports ---- */

struct endpoint *endpoint_list_add(struct endpoint_list *l, int from, int to)
{
	struct endpoint *e;

	XGROW(l->items, l->n + 1, l->alloc);
	e = &l->items[l->n++];
	memset(e, 0, sizeof(*e));
	e->from = from;
	e->to = to;
	return e;
}

void endpoint_list_release(struct endpoint_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct endpoint *e = &l->items[i];

		free(e->host);
		free(e->url_fmt);
		free(e->note);
		if (e->forward_argv) {
			char **a;

			for (a = e->forward_argv; *a; a++)
				free(*a);
			free(e->forward_argv);
		}
	}
	free(l->items);
	memset(l, 0, sizeof(*l));
}

char *endpoint_fill(const char *tmpl, int local, int port)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s;

	for (s = tmpl; *s; s++) {
		if (s[0] == '%' && (s[1] == 'L' || s[1] == 'P')) {
			strbuf_addf(&sb, "%d", s[1] == 'L' ? local : port);
			s++;
		} else {
			strbuf_addch(&sb, *s);
		}
	}
	return strbuf_detach(&sb, NULL);
}

#define PORTS_SUFFIX ":ports"
#define VOLUME_SUFFIX ":volume"

char *provider_ports_token(const char *token)
{
	return xasprintf("%s" PORTS_SUFFIX, token);
}

int provider_opens_ports(const struct provider *p, const struct task *t)
{
	return p && p->ops->ports_open && t && t->res.n_ports > 0;
}

int provider_ports_token_split(const char *token, char **ret_attempt)
{
	size_t len = strlen(token), slen = strlen(PORTS_SUFFIX);

	if (len <= slen || strcmp(token + len - slen, PORTS_SUFFIX))
		return 0;
	if (ret_attempt)
		*ret_attempt = xstrndup(token, len - slen);
	return 1;
}

char *provider_volume_token(const char *token)
{
	return xasprintf("%s" VOLUME_SUFFIX, token);
}

int provider_makes_volumes(const struct provider *p, const struct task *t)
{
	const struct backend *b;
	size_t i, k;

	if (!p || !p->ops->volumes_end || !t || !t->volumes.n ||
	    !(b = registry_find(p->ops->name)) || !b->volume_kinds)
		return 0;
	for (i = 0; i < t->volumes.n; i++)
		for (k = 0; b->volume_kinds[k].kind; k++)
			if (b->volume_kinds[k].made &&
			    !strcmp(b->volume_kinds[k].kind, t->volumes.items[i].kind))
				return 1;
	return 0;
}

/* token without suffix (when it ends with it). Caller frees. */
static char *strip_suffix(const char *token, const char *suffix)
{
	size_t len = strlen(token), slen = strlen(suffix);

	return len > slen && !strcmp(token + len - slen, suffix) ? xstrndup(token, len - slen)
								 : xstrdup(token);
}

int provider_resource_end(struct provider *p, const char *kind, const char *token,
			  const char *provider_id, struct error *err)
{
	char *attempt_token = NULL;
	int r;

	if (kind && !strcmp(kind, "volume")) {
		if (!p->ops->volumes_end)
			return 0;	/* nothing of its own to end */
		attempt_token = strip_suffix(token, VOLUME_SUFFIX);
		r = p->ops->volumes_end(p, attempt_token, provider_id, err);
		free(attempt_token);
		return r;
	}
	if (!kind || strcmp(kind, "ports"))
		return p->ops->terminate(p, token, provider_id, err);
	if (!p->ops->ports_close)
		return 0;	/* nothing of its own to end */
	if (!provider_ports_token_split(token, &attempt_token))
		attempt_token = xstrdup(token);
	r = p->ops->ports_close(p, attempt_token, provider_id, err);
	free(attempt_token);
	return r;
}
