/*
 * conf: reading and checking agent.json (see conf.h).
 */
#include "agent/conf.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "storage/storage.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_JSON_MAX (16 * 1024 * 1024)

/* 1 if id is a usable job id: [A-Za-z0-9_-], 1..64 characters. */
static int job_id_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (!n || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/*
 * Copy the string field name of root into *ret (NULL when absent and not
 * required). A present field must be a non-empty string.
 */
static int get_string(json_t *root, const char *name, int required, const char *path,
		      char **ret, struct error *err)
{
	json_t *v = json_object_get(root, name);

	if (!v || json_is_null(v)) {
		if (required)
			return error_set(err, FRUGAL_EINVAL, "'%s': field '%s' is missing", path,
					 name);
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v) || !json_string_length(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field '%s': expected a non-empty string",
				 path, name);
	*ret = xstrdup(json_string_value(v));
	return 0;
}

/* Read the integer field name (>= min) into *ret; def when absent and
 * not required. */
static int get_int(json_t *root, const char *name, int required, int def, int min,
		   const char *path, int *ret, struct error *err)
{
	json_t *v = json_object_get(root, name);

	if (!v || json_is_null(v)) {
		if (required)
			return error_set(err, FRUGAL_EINVAL, "'%s': field '%s' is missing", path,
					 name);
		*ret = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > 1000000000)
		return error_set(err, FRUGAL_EINVAL, "'%s': field '%s': expected an integer >= %d",
				 path, name, min);
	*ret = (int)json_integer_value(v);
	return 0;
}

/* Read "gpus": an array of strings or non-negative integers. */
static int get_gpus(json_t *root, const char *path, struct agent_conf *c, struct error *err)
{
	json_t *v = json_object_get(root, "gpus");
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'gpus': expected an array", path);
	c->gpus = xcalloc(json_array_size(v) + 1, sizeof(*c->gpus));
	for (i = 0; i < json_array_size(v); i++) {
		json_t *g = json_array_get(v, i);
		if (json_is_string(g) && json_string_length(g) &&
		    !strpbrk(json_string_value(g), ",="))
			c->gpus[c->n_gpus++] = xstrdup(json_string_value(g));
		else if (json_is_integer(g) && json_integer_value(g) >= 0)
			c->gpus[c->n_gpus++] = xasprintf("%lld", (long long)json_integer_value(g));
		else
			return error_set(err, FRUGAL_EINVAL,
					 "'%s': field 'gpus[%zu]': expected a device id", path, i);
	}
	return 0;
}

/* Read "gpus_env": with no "gpus" given, the device ids come from that
 * variable of the agent's environment ("0,1"), where the scheduler put
 * what it allocated (a batch scheduler's CUDA_VISIBLE_DEVICES); unset or empty: none. */
static int get_gpus_env(json_t *root, const char *path, struct agent_conf *c,
			struct error *err)
{
	json_t *v = json_object_get(root, "gpus_env");
	const char *val, *g;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || !json_string_length(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'gpus_env': expected the name "
				 "of an environment variable", path);
	if (c->n_gpus || !(val = getenv(json_string_value(v))))
		return 0;
	for (g = val; *g; ) {
		size_t len = strcspn(g, ",");

		if (len && !memchr(g, '=', len)) {
			c->gpus = xrealloc(c->gpus, (c->n_gpus + 2) * sizeof(*c->gpus));
			c->gpus[c->n_gpus++] = xstrndup(g, len);
			c->gpus[c->n_gpus] = NULL;
		}
		g += len + (g[len] == ',');
	}
	return 0;
}

/* A directory field: given (relative to the instance dir) or DIR/def. */
static int get_dir(json_t *root, const char *name, const char *def, const char *path,
		   const char *instance_dir, char **ret, struct error *err)
{
	char *v = NULL;
	int r = get_string(root, name, 0, path, &v, err);

	if (r < 0)
		return r;
	if (!v)
		*ret = fs_path_join(instance_dir, def);
	else if (v[0] != '/')
		*ret = fs_path_join(instance_dir, v);
	else
		*ret = xstrdup(v);
	free(v);
	return 0;
}

/* The optional boolean field name (0 when absent). */
static int get_bool(json_t *root, const char *name, const char *path, int *ret,
		    struct error *err)
{
	json_t *v = json_object_get(root, name);

	if (v && !json_is_boolean(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field '%s': expected true or false",
				 path, name);
	*ret = v && json_is_true(v);
	return 0;
}

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

/* Parse the "task" object with task_from_json. */
static int get_task(json_t *root, const char *path, struct task *ret, struct error *err)
{
	json_t *v = json_object_get(root, "task");
	struct error terr = ERROR_INIT;
	char *text;
	int r;

	if (!v)
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'task' is missing", path);
	if (!json_is_object(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'task': expected an object", path);
	text = json_dumps(v, JSON_COMPACT);
	if (!text)
		abort();	/* only on out-of-memory */
	r = task_from_json(text, ret, &terr);
	free(text);
	if (r < 0)
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'task': %s", path,
				 error_msg(&terr));
	return 0;
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
	free(c->metrics_file);
	task_release(&c->task);
	memset(c, 0, sizeof(*c));
}

/* Check every field of the document into a local struct; hand it over
 * only when all of it is good. */
int agent_conf_parse(const char *text, const char *path, const char *instance_dir,
		     struct agent_conf *ret, struct error *err)
{
	struct agent_conf c;
	json_error_t jerr;
	json_t *root;
	size_t len;
	int r;

	memset(&c, 0, sizeof(c));
	task_init(&c.task);
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		r = error_set(err, FRUGAL_EINVAL, "'%s':%d:%d: not valid JSON: %s", path,
			      jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root)) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': expected a JSON object", path);
		goto out;
	}
	c.instance_dir = xstrdup(instance_dir);
	if ((r = get_string(root, "job_id", 1, path, &c.job_id, err)) < 0)
		goto out;
	if (!job_id_valid(c.job_id)) {
		r = error_set(err, FRUGAL_EINVAL,
			      "'%s': field 'job_id': expected letters, digits, '-' or '_'", path);
		goto out;
	}
	if ((r = get_int(root, "attempt", 1, 1, 1, path, &c.attempt, err)) < 0 ||
	    (r = get_int(root, "restart_count", 0, 0, 0, path, &c.restart_count, err)) < 0 ||
	    (r = get_string(root, "backend", 0, path, &c.backend, err)) < 0 ||
	    (r = get_string(root, "storage_url", 1, path, &c.storage_url, err)) < 0 ||
	    (r = get_string(root, "job_prefix", 1, path, &c.job_prefix, err)) < 0 ||
	    (r = get_string(root, "controller_socket", 0, path, &c.controller_socket, err)) < 0 ||
	    (r = get_gpus(root, path, &c, err)) < 0 ||
	    (r = get_gpus_env(root, path, &c, err)) < 0 ||
	    (r = get_dir(root, "work_dir", "work", path, instance_dir, &c.work_dir, err)) < 0 ||
	    (r = get_dir(root, "checkpoint_dir", "checkpoint", path, instance_dir,
			 &c.checkpoint_dir, err)) < 0 ||
	    (r = get_dir(root, "output_dir", "outputs", path, instance_dir, &c.output_dir,
			 err)) < 0 ||
	    (r = get_string(root, "outputs_url", 0, path, &c.outputs_url, err)) < 0 ||
	    (r = get_bool(root, "own_machine", path, &c.own_machine, err)) < 0 ||
	    (r = get_task(root, path, &c.task, err)) < 0)
		goto out;
	resolve_checkpoint_dir(&c);

	len = strlen(c.job_prefix);
	while (len > 1 && c.job_prefix[len - 1] == '/')
		c.job_prefix[--len] = '\0';
	if (!storage_key_valid(c.job_prefix)) {
		r = error_set(err, FRUGAL_EINVAL,
			      "'%s': field 'job_prefix': expected a relative storage key", path);
		goto out;
	}
	if (!c.outputs_url && c.task.outputs.to)
		c.outputs_url = xstrdup(c.task.outputs.to);
	if (!c.outputs_url)
		c.outputs_url = xasprintf("%s/%s/outputs", c.storage_url, c.job_prefix);
	c.metrics_file = fs_path_join(instance_dir, "metrics.jsonl");
	*ret = c;
	memset(&c, 0, sizeof(c));
	task_init(&c.task);
	r = 0;
out:
	json_decref(root);
	agent_conf_release(&c);
	return r;
}

/* Resolve the instance directory, read its agent.json, parse it. */
int agent_conf_load(const char *instance_dir, struct agent_conf *ret, struct error *err)
{
	struct strbuf text = STRBUF_INIT;
	char *dir = NULL, *path = NULL;
	int r;

	dir = fs_realpath(instance_dir, err);
	if (!dir) {
		r = error_prefix(err, "instance directory '%s' cannot be used", instance_dir);
		goto out;
	}
	path = fs_path_join(dir, "agent.json");
	r = fs_read_file(path, AGENT_JSON_MAX, &text, err);
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
