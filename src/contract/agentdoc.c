/*
 * agentdoc: writing and checking agent.json (see agentdoc.h).
 */
#include "contract/agentdoc.h"
#include "contract/key.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void agent_doc_release(struct agent_doc *d)
{
	size_t i;

	free(d->job_id);
	free(d->backend);
	free(d->storage_url);
	free(d->job_prefix);
	free(d->controller_socket);
	for (i = 0; i < d->n_gpus; i++)
		free(d->gpus[i]);
	free(d->gpus);
	free(d->gpus_env);
	free(d->work_dir);
	free(d->checkpoint_dir);
	free(d->output_dir);
	free(d->outputs_url);
	free(d->controller_key);
	free(d->container_image);
	free(d->container_runtime);
	free(d->container_name);
	free(d->task_json);
	free(d->node_ip);
	memset(d, 0, sizeof(*d));
}

void agent_doc_set_gpus(struct agent_doc *d, const char *list)
{
	const char *g = list ? list : "";
	size_t i;

	for (i = 0; i < d->n_gpus; i++)
		free(d->gpus[i]);
	free(d->gpus);
	d->gpus = NULL;
	d->n_gpus = 0;
	while (*g) {
		size_t len = strcspn(g, ",");

		d->gpus = xrealloc(d->gpus, (d->n_gpus + 1) * sizeof(*d->gpus));
		d->gpus[d->n_gpus++] = xstrndup(g, len);
		g += len + (g[len] == ',');
	}
}

/* The task object of d (a new reference; {} when there is none). */
static json_t *task_object(const struct agent_doc *d)
{
	json_t *t = d->task_json ? json_loads(d->task_json, 0, NULL) : NULL;

	if (json_is_object(t))
		return t;
	json_decref(t);
	return json_object();
}

void agent_doc_set_task_workdir(struct agent_doc *d, const char *path)
{
	json_t *t = task_object(d);

	json_object_set_new(t, "workdir", path ? json_string(path) : json_null());
	free(d->task_json);
	d->task_json = json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(t);
	if (!d->task_json)
		abort();	/* only on out-of-memory */
}

/* Set name to s when s is given. */
static void set_str(json_t *o, const char *name, const char *s)
{
	if (s)
		json_object_set_new(o, name, json_string(s));
}

char *agent_doc_to_json(const struct agent_doc *d)
{
	json_t *o = json_object(), *gpus = json_array();
	char *text;
	size_t i;

	for (i = 0; i < d->n_gpus; i++)
		json_array_append_new(gpus, json_string(d->gpus[i]));
	set_str(o, "job_id", d->job_id);
	json_object_set_new(o, "attempt", json_integer(d->attempt));
	json_object_set_new(o, "restart_count", json_integer(d->restart_count));
	set_str(o, "backend", d->backend);
	set_str(o, "storage_url", d->storage_url);
	set_str(o, "job_prefix", d->job_prefix);
	set_str(o, "controller_socket", d->controller_socket);
	json_object_set_new(o, "gpus", gpus);
	set_str(o, "gpus_env", d->gpus_env);
	set_str(o, "work_dir", d->work_dir);
	set_str(o, "checkpoint_dir", d->checkpoint_dir);
	set_str(o, "output_dir", d->output_dir);
	set_str(o, "outputs_url", d->outputs_url);
	set_str(o, "controller_key", d->controller_key);
	if (d->own_machine)
		json_object_set_new(o, "own_machine", json_true());
	set_str(o, "container_image", d->container_image);
	set_str(o, "container_runtime", d->container_runtime);
	set_str(o, "container_name", d->container_name);
	if (d->num_nodes > 1) {
		json_object_set_new(o, "rank", json_integer(d->rank));
		json_object_set_new(o, "num_nodes", json_integer(d->num_nodes));
	}
	set_str(o, "node_ip", d->node_ip);
	json_object_set_new(o, "task", task_object(d));
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		abort();	/* only on out-of-memory */
	return text;
}

int agent_doc_write(const struct agent_doc *d, const char *dir, struct error *err)
{
	char *path = fs_path_join(dir, KEY_AGENT_NAME), *text = agent_doc_to_json(d);
	int r = fs_write_atomic(path, text, strlen(text), 0600, 1, err);

	free(text);
	free(path);
	return r;
}

/* ---- reading ---- */

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

/* A missing required field. */
static int missing(const char *path, const char *name, struct error *err)
{
	return error_set(err, FRUGAL_EINVAL, "'%s': field '%s' is missing", path, name);
}

/*
 * Copy the string field name of root into *ret (NULL when absent and not
 * required). A present field must be a non-empty string.
 */
static int get_string(json_t *root, const char *name, int required, const char *path,
		      char **ret, struct error *err)
{
	json_t *v = json_object_get(root, name);

	if (!v || json_is_null(v))
		return required ? missing(path, name, err) : 0;
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
		*ret = def;
		return required ? missing(path, name, err) : 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > 1000000000)
		return error_set(err, FRUGAL_EINVAL, "'%s': field '%s': expected an integer >= %d",
				 path, name, min);
	*ret = (int)json_integer_value(v);
	return 0;
}

/* Read "gpus": an array of strings or non-negative integers. */
static int get_gpus(json_t *root, const char *path, struct agent_doc *d, struct error *err)
{
	json_t *v = json_object_get(root, "gpus");
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'gpus': expected an array", path);
	d->gpus = xcalloc(json_array_size(v) + 1, sizeof(*d->gpus));
	for (i = 0; i < json_array_size(v); i++) {
		json_t *g = json_array_get(v, i);
		if (json_is_string(g) && json_string_length(g) &&
		    !strpbrk(json_string_value(g), ",="))
			d->gpus[d->n_gpus++] = xstrdup(json_string_value(g));
		else if (json_is_integer(g) && json_integer_value(g) >= 0)
			d->gpus[d->n_gpus++] = xasprintf("%lld", (long long)json_integer_value(g));
		else
			return error_set(err, FRUGAL_EINVAL,
					 "'%s': field 'gpus[%zu]': expected a device id", path, i);
	}
	return 0;
}

/* The optional boolean field name (0 when absent or null). */
static int get_bool(json_t *root, const char *name, const char *path, int *ret,
		    struct error *err)
{
	json_t *v = json_object_get(root, name);

	if (v && !json_is_null(v) && !json_is_boolean(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field '%s': expected true or false",
				 path, name);
	*ret = v && json_is_true(v);
	return 0;
}

/* Read "task": an object that task_from_json accepts. */
static int get_task(json_t *root, const char *path, struct agent_doc *d, struct task *ret,
		    struct error *err)
{
	json_t *v = json_object_get(root, "task");
	struct error terr = ERROR_INIT;
	int r;

	if (!v)
		return missing(path, "task", err);
	if (!json_is_object(v))
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'task': expected an object", path);
	d->task_json = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!d->task_json)
		abort();	/* only on out-of-memory */
	r = task_from_json(d->task_json, ret, &terr);
	if (r < 0)
		return error_set(err, FRUGAL_EINVAL, "'%s': field 'task': %s", path,
				 error_msg(&terr));
	return 0;
}

int agent_doc_parse(const char *text, const char *path, struct agent_doc *ret,
		    struct task *ret_task, struct error *err)
{
	struct agent_doc d = AGENT_DOC_INIT;
	struct task t;
	json_error_t jerr;
	json_t *root;
	size_t len;
	int r;

	task_init(&t);
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
	if ((r = get_string(root, "job_id", 1, path, &d.job_id, err)) < 0)
		goto out;
	if (!job_id_valid(d.job_id)) {
		r = error_set(err, FRUGAL_EINVAL,
			      "'%s': field 'job_id': expected letters, digits, '-' or '_'", path);
		goto out;
	}
	if ((r = get_int(root, "attempt", 1, 1, 1, path, &d.attempt, err)) < 0 ||
	    (r = get_int(root, "restart_count", 0, 0, 0, path, &d.restart_count, err)) < 0 ||
	    (r = get_string(root, "backend", 0, path, &d.backend, err)) < 0 ||
	    (r = get_string(root, "storage_url", 1, path, &d.storage_url, err)) < 0 ||
	    (r = get_string(root, "job_prefix", 1, path, &d.job_prefix, err)) < 0 ||
	    (r = get_string(root, "controller_socket", 0, path, &d.controller_socket, err)) < 0 ||
	    (r = get_gpus(root, path, &d, err)) < 0)
		goto out;
	if ((r = get_string(root, "gpus_env", 0, path, &d.gpus_env, err)) < 0) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': field 'gpus_env': expected the name "
			      "of an environment variable", path);
		goto out;
	}
	if ((r = get_string(root, "work_dir", 0, path, &d.work_dir, err)) < 0 ||
	    (r = get_string(root, "checkpoint_dir", 0, path, &d.checkpoint_dir, err)) < 0 ||
	    (r = get_string(root, "output_dir", 0, path, &d.output_dir, err)) < 0 ||
	    (r = get_string(root, "outputs_url", 0, path, &d.outputs_url, err)) < 0 ||
	    (r = get_string(root, "controller_key", 0, path, &d.controller_key, err)) < 0 ||
	    (r = get_bool(root, "own_machine", path, &d.own_machine, err)) < 0 ||
	    (r = get_string(root, "container_image", 0, path, &d.container_image, err)) < 0 ||
	    (r = get_string(root, "container_runtime", 0, path, &d.container_runtime, err)) < 0 ||
	    (r = get_string(root, "container_name", 0, path, &d.container_name, err)) < 0 ||
	    (r = get_int(root, "rank", 0, 0, 0, path, &d.rank, err)) < 0 ||
	    (r = get_int(root, "num_nodes", 0, 1, 1, path, &d.num_nodes, err)) < 0 ||
	    (r = get_string(root, "node_ip", 0, path, &d.node_ip, err)) < 0 ||
	    (r = get_task(root, path, &d, &t, err)) < 0)
		goto out;
	if (d.num_nodes > TASK_NODES_MAX || d.rank >= d.num_nodes) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': field 'rank': expected 0 to num_nodes - 1"
			      " (num_nodes at most %d)", path, TASK_NODES_MAX);
		goto out;
	}

	if (d.container_runtime && strcmp(d.container_runtime, "docker") &&
	    strcmp(d.container_runtime, "podman")) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': field 'container_runtime': expected "
			      "'docker' or 'podman'", path);
		goto out;
	}
	if (d.container_name && strspn(d.container_name, "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
				strlen(d.container_name)) {
		r = error_set(err, FRUGAL_EINVAL, "'%s': field 'container_name': expected "
			      "letters, digits, '_', '.' or '-'", path);
		goto out;
	}
	len = strlen(d.job_prefix);
	while (len > 1 && d.job_prefix[len - 1] == '/')
		d.job_prefix[--len] = '\0';
	if (!key_valid(d.job_prefix)) {
		r = error_set(err, FRUGAL_EINVAL,
			      "'%s': field 'job_prefix': expected a relative storage key", path);
		goto out;
	}
	if (d.controller_key && !key_valid(d.controller_key)) {
		r = error_set(err, FRUGAL_EINVAL,
			      "'%s': field 'controller_key': expected a relative storage key", path);
		goto out;
	}
	*ret = d;
	memset(&d, 0, sizeof(d));
	if (ret_task) {
		*ret_task = t;
		task_init(&t);
	}
	r = 0;
out:
	json_decref(root);
	agent_doc_release(&d);
	task_release(&t);
	return r;
}
