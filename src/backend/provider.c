#include "backend/provider.h"
#include "backend/registry.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "store/store.h"

#include <jansson.h>
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
	memset(p, 0, sizeof(*p));
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

int provider_write_agent_json(const char *dir, const struct launch_request *req,
			      const char *backend, const char *gpus_env, struct error *err)
{
	json_t *o = json_object(), *gpus = json_array(), *task;
	json_error_t jerr;
	char *path = fs_path_join(dir, "agent.json"), *text = NULL;
	char *work = fs_path_join(dir, "work"), *ckpt = fs_path_join(dir, "checkpoint");
	char *outd = fs_path_join(dir, "outputs");
	const char *g = req->gpus ? req->gpus : "";
	int r;

	while (*g) {
		const char *c = strchr(g, ',');
		size_t len = c ? (size_t)(c - g) : strlen(g);
		json_array_append_new(gpus, json_stringn(g, len));
		g += len + (c ? 1 : 0);
	}
	task = json_loads(req->task_json, 0, &jerr);
	json_object_set_new(o, "job_id", json_string(req->job_id));
	json_object_set_new(o, "attempt", json_integer(req->attempt));
	json_object_set_new(o, "restart_count", json_integer(req->restart_count));
	json_object_set_new(o, "backend", json_string(backend));
	json_object_set_new(o, "storage_url", json_string(req->storage_url));
	json_object_set_new(o, "job_prefix", json_string(req->job_prefix));
	if (req->controller_socket)
		json_object_set_new(o, "controller_socket", json_string(req->controller_socket));
	json_object_set_new(o, "gpus", gpus);
	if (gpus_env)
		json_object_set_new(o, "gpus_env", json_string(gpus_env));
	json_object_set_new(o, "work_dir", json_string(work));
	json_object_set_new(o, "checkpoint_dir", json_string(ckpt));
	json_object_set_new(o, "output_dir", json_string(outd));
	json_object_set_new(o, "outputs_url", json_string(req->outputs_url));
	json_object_set_new(o, "task", task ? task : json_object());
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	r = fs_write_atomic(path, text, strlen(text), 0600, 1, err);
	free(text);
	json_decref(o);
	free(path);
	free(work);
	free(ckpt);
	free(outd);
	return r;
}

int provider_token_split(const char *token, char *job, size_t size, int *ret_n)
{
	const char *dash = token ? strrchr(token, '-') : NULL;
	char *end = NULL;
	long n;

	if (!dash || dash == token || (size_t)(dash - token) >= size || !dash[1])
		return FRUGAL_EINVAL;
	n = strtol(dash + 1, &end, 10);
	if (*end || n < 1 || n > 1000000)
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

char *provider_notice_json(struct provider *p, const char *token, int64_t deadline_ms)
{
	char job[JOB_ID_MAX];
	struct job j;
	int n, budget = 0;

	if (p->st && provider_token_split(token, job, sizeof(job), &n) == 0 &&
	    store_job_get(p->st, job, &j, NULL) == 0) {
		budget = j.cancel_requested == 2;
		job_release(&j);
	}
	if (budget)
		return xasprintf("{\"deadline_ms\": %lld, \"source\": \"budget\","
				 " \"reason\": \"budget\"}\n", (long long)deadline_ms);
	return xasprintf("{\"deadline_ms\": %lld, \"source\": \"debug\"}\n",
			 (long long)deadline_ms);
}

int provider_check_task(const struct task *t, const char *backend, struct error *err)
{
	const struct backend *b = registry_find(backend);
	char names[256];

	if (!b)
		return 0;	/* provider_open says what is wrong with the name */
	if (t->res.n_ports && !(b->caps & BACKEND_CAP_PORTS))
		return error_set(err, FRUGAL_ENOTSUP, "'resources.ports' is not supported by "
				 "backend %s yet: it cannot open ports; remove ports, or run on "
				 "backend %s", backend,
				 registry_names(BACKEND_CAP_PORTS, names, sizeof(names)));
	if (t->res.image_docker && !(b->caps & BACKEND_CAP_CONTAINER))
		return error_set(err, FRUGAL_ENOTSUP, "'resources.image_id: docker:%s' is not "
				 "supported by backend %s yet: setup and run cannot run in a "
				 "container there; remove image_id for the provider's image, or use "
				 "backend %s", t->res.image_id, backend,
				 registry_names(BACKEND_CAP_CONTAINER, names, sizeof(names)));
	return 0;
}
