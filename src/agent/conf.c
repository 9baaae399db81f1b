/*
 * conf: reading and checking agent.json (see conf.h).
 */
#include "agent/conf.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "contract/agentdoc.h"
#include "contract/key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where checkpoints live: the task's checkpoint.dir (see conf.h). */
static void resolve_checkpoint_dir(struct agent_conf *c)
{
	const char *dir = c->task.checkpoint.dir;

	if (!dir || !*dir)
		return;
	if (dir[0] == '/' && !c->own_machine) {
		c->checkpoint_dir_moved = 1;
		return;
	}
	free(c->checkpoint_dir);
	c->checkpoint_dir = dir[0] == '/' ? xstrdup(dir) : fs_path_join(c->work_dir, dir);
}

/* Move s into *ret (NULL stays NULL). */
static char *take(char **s)
{
	char *v = *s;

	*s = NULL;
	return v;
}

/* With no "gpus", the device ids come from the agent's environment
 * variable gpus_env ("0,1"), where the scheduler put what it allocated
 * (a batch scheduler's CUDA_VISIBLE_DEVICES); unset or empty: none. */
static void gpus_from_env(const char *gpus_env, struct agent_conf *c)
{
	const char *val, *g;

	if (!gpus_env || c->n_gpus || !(val = getenv(gpus_env)))
		return;
	for (g = val; *g; ) {
		size_t len = strcspn(g, ",");

		if (len && !memchr(g, '=', len)) {
			c->gpus = xrealloc(c->gpus, (c->n_gpus + 2) * sizeof(*c->gpus));
			c->gpus[c->n_gpus++] = xstrndup(g, len);
			c->gpus[c->n_gpus] = NULL;
		}
		g += len + (g[len] == ',');
	}
}

/* A directory: given (relative to the instance dir) or DIR/def. */
static char *dir_of(const char *v, const char *def, const char *instance_dir)
{
	if (!v)
		return fs_path_join(instance_dir, def);
	if (v[0] != '/')
		return fs_path_join(instance_dir, v);
	return xstrdup(v);
}

/* Free everything c holds and zero it. */
void agent_conf_release(struct agent_conf *c)
{
	size_t i;

	free(c->instance_dir);
	free(c->job_id);
	free(c->backend);
	free(c->storage_url);
	free(c->job_prefix);
	free(c->controller_socket);
	for (i = 0; i < c->n_gpus; i++)
		free(c->gpus[i]);
	free(c->gpus);
	free(c->work_dir);
	free(c->checkpoint_dir);
	free(c->output_dir);
	free(c->outputs_url);
	free(c->controller_key);
	free(c->metrics_file);
	free(c->container_image);
	free(c->container_runtime);
	free(c->container_name);
	free(c->node_ip);
	task_release(&c->task);
	memset(c, 0, sizeof(*c));
}

/* The contract checks the document (contract/agentdoc.h); what is left
 * is this machine's: directories, the scheduler's devices, defaults. */
int agent_conf_parse(const char *text, const char *path, const char *instance_dir,
		     struct agent_conf *ret, struct error *err)
{
	struct agent_doc d = AGENT_DOC_INIT;
	struct agent_conf c;
	int r;

	memset(&c, 0, sizeof(c));
	task_init(&c.task);
	if ((r = agent_doc_parse(text, path, &d, &c.task, err)) < 0)
		return r;
	c.instance_dir = xstrdup(instance_dir);
	c.job_id = take(&d.job_id);
	c.attempt = d.attempt;
	c.restart_count = d.restart_count;
	c.backend = take(&d.backend);
	c.storage_url = take(&d.storage_url);
	c.job_prefix = take(&d.job_prefix);
	c.controller_socket = take(&d.controller_socket);
	c.gpus = d.gpus;
	c.n_gpus = d.n_gpus;
	d.gpus = NULL;
	d.n_gpus = 0;
	gpus_from_env(d.gpus_env, &c);
	c.work_dir = dir_of(d.work_dir, "work", instance_dir);
	c.checkpoint_dir = dir_of(d.checkpoint_dir, "checkpoint", instance_dir);
	c.output_dir = dir_of(d.output_dir, "outputs", instance_dir);
	c.outputs_url = take(&d.outputs_url);
	c.controller_key = take(&d.controller_key);
	c.own_machine = d.own_machine;
	c.container_image = take(&d.container_image);
	c.container_runtime = take(&d.container_runtime);
	c.container_name = take(&d.container_name);
	c.rank = d.rank;
	c.num_nodes = d.num_nodes > 1 ? d.num_nodes : 1;
	c.node_ip = take(&d.node_ip);
	resolve_checkpoint_dir(&c);
	if (!c.outputs_url && c.task.outputs.to)
		c.outputs_url = xstrdup(c.task.outputs.to);
	if (!c.outputs_url)
		c.outputs_url = key_outputs_url(c.storage_url, c.job_prefix);
	c.metrics_file = fs_path_join(instance_dir, "metrics.jsonl");
	agent_doc_release(&d);
	*ret = c;
	return 0;
}

/* Resolve the instance directory, read its agent.json, parse it. */
int agent_conf_load(const char *instance_dir, struct agent_conf *ret, struct error *err)
{
	struct strbuf text = STRBUF_INIT;
	char *dir = NULL, *path = NULL;
	int r;

	dir = fs_realpath(instance_dir, err);
	if (!dir) {
		error_prefix(err, "instance directory '%s' cannot be used", instance_dir);
		r = FRUGAL_EIO;
		goto out;
	}
	path = fs_path_join(dir, KEY_AGENT_NAME);
	r = fs_read_file(path, AGENT_DOC_MAX, &text, err);
	if (r < 0) {
		error_prefix(err, "cannot read agent instructions");
		goto out;
	}
	r = agent_conf_parse(text.buf, path, dir, ret, err);
out:
	strbuf_release(&text);
	free(path);
	free(dir);
	return r;
}
