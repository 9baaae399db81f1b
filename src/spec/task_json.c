/*
 * task_json: struct task to JSON and back, for the state database and
 * the agent. Every field is written (strings only when set) so that
 * to_json(from_json(to_json(t))) == to_json(t). Secret values are never
 * written, only the names. See task.h.
 *
 * {"version": 1, "name": "mnist", "run": "...", "num_nodes": 1,
 *  "resources": {"accel_mode": "one", "accelerators": [{"name": "A100",
 *  "count": 1}], "cpus": 4.0, "cpus_at_least": true, "spot": "spot", ...},
 *  "envs": {"LR": "0.001"}, "secrets": ["WANDB_API_KEY"],
 *  "file_mounts": {"/data": {"source": "file:///d", "local": false,
 *  "mode": "COPY", "dataset": "<sha256>"}}, "volumes" (only when there are
 *  any): {"/data": {"kind": "ebs", "ref": "snap-1", "read_only": true,
 *  "size_gb": 200, "type": "gp3"}}, "checkpoint": {...}, "outputs": {...},
 *  "stop": {...}, "recovery": {...}, "budget": 20.0, "sweep": {...}}
 */
#include "spec/task.h"

#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"

#define TASK_JSON_VERSION 1

static const char *const accel_mode_names[] = { "none", "one", "any_of", "ordered" };
static const char *const spot_names[] = { "on-demand", "spot", "auto" };
static const char *const sweep_names[] = { "none", "grid", "random" };

/* ---- writing ----------------------------------------------------------- */

/* obj[key] = s, when s is set. */
static void put_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		json_object_set_new(obj, key, json_string(s));
}

/* obj[key] = v. */
static void put_int(json_t *obj, const char *key, long long v)
{
	json_object_set_new(obj, key, json_integer(v));
}

/* obj[key] = v as a real (always with a fraction, so it reads back as one). */
static void put_real(json_t *obj, const char *key, double v)
{
	json_object_set_new(obj, key, json_real(v));
}

/* A kvlist as an object; NULL values as null. */
static json_t *kv_to_json(const struct kvlist *l)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_object_set_new(o, l->items[i].key,
				    l->items[i].value ? json_string(l->items[i].value) : json_null());
	return o;
}

/* file_mounts as an object of REMOTE: {source, local, mode, dataset}. */
static json_t *mounts_to_json(const struct mount_list *l)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct file_mount *m = &l->items[i];
		json_t *e = json_object();

		json_object_set_new(e, "source", json_string(m->source));
		json_object_set_new(e, "local", json_boolean(m->local));
		json_object_set_new(e, "mode", json_string(mount_mode_name(m->mode)));
		if (m->dataset)
			json_object_set_new(e, "dataset", json_string(m->dataset));
		json_object_set_new(o, m->dst, e);
	}
	return o;
}

/* volumes as an object of MOUNT_PATH: {kind, ref, read_only[, size_gb, type]}. */
static json_t *volumes_to_json(const struct volume_list *l)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct volume *v = &l->items[i];
		json_t *e = json_object();

		json_object_set_new(e, "kind", json_string(v->kind));
		json_object_set_new(e, "ref", json_string(v->ref));
		json_object_set_new(e, "read_only", json_boolean(v->read_only));
		if (v->size_gb)
			json_object_set_new(e, "size_gb", json_integer(v->size_gb));
		if (v->type)
			json_object_set_new(e, "type", json_string(v->type));
		json_object_set_new(o, v->dst, e);
	}
	return o;
}

/* An array of n strings. */
static json_t *strv_to_json(char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* The resources section. */
static json_t *resources_to_json(const struct resources *r)
{
	json_t *o = json_object(), *accels = json_array();
	size_t i;

	put_str(o, "accel_mode", accel_mode_names[r->accel_mode]);
	for (i = 0; i < r->n_accels; i++)
		json_array_append_new(accels, json_pack("{s:s, s:i}", "name", r->accels[i].name,
							"count", r->accels[i].count));
	json_object_set_new(o, "accelerators", accels);
	put_real(o, "cpus", r->cpus);
	json_object_set_new(o, "cpus_at_least", json_boolean(r->cpus_at_least));
	put_real(o, "memory", r->memory);
	json_object_set_new(o, "memory_at_least", json_boolean(r->memory_at_least));
	put_str(o, "spot", spot_names[r->spot]);
	put_str(o, "cloud", r->cloud);
	put_str(o, "region", r->region);
	put_str(o, "zone", r->zone);
	put_int(o, "disk_size", r->disk_size);
	put_real(o, "max_price", r->max_price);
	put_str(o, "image_id", r->image_id);
	if (r->image_docker)
		json_object_set_new(o, "image_docker", json_true());
	put_str(o, "instance_type", r->instance_type);
	if (r->n_ports) {
		json_t *ports = json_array();

		for (i = 0; i < r->n_ports; i++)
			json_array_append_new(ports, json_pack("{s:i, s:i}", "from", r->ports[i].from,
							       "to", r->ports[i].to));
		json_object_set_new(o, "ports", ports);
	}
	return o;
}

/* The sweep section. */
static json_t *sweep_to_json(const struct sweep_spec *s)
{
	json_t *o = json_object(), *params = json_array();
	size_t i;

	put_str(o, "method", sweep_names[s->method]);
	for (i = 0; i < s->n_params; i++) {
		const struct sweep_param *sp = &s->params[i];
		json_t *po = json_object();

		put_str(po, "name", sp->name);
		if (sp->range)
			put_str(po, "range", sp->range);
		else
			json_object_set_new(po, "values", strv_to_json(sp->values, sp->n_values));
		json_array_append_new(params, po);
	}
	json_object_set_new(o, "params", params);
	put_int(o, "max_parallel", s->max_parallel);
	put_int(o, "trials", s->trials);
	if (s->has_seed)
		put_int(o, "seed", s->seed);
	return o;
}

char *task_to_json(const struct task *t)
{
	json_t *o = json_object(), *sec = json_array(), *sub, *codes;
	char *out;
	size_t i;

	put_int(o, "version", TASK_JSON_VERSION);
	put_str(o, "path", t->path);
	put_str(o, "name", t->name);
	put_str(o, "workdir", t->workdir);
	put_str(o, "setup", t->setup);
	put_str(o, "run", t->run);
	put_int(o, "num_nodes", t->num_nodes);
	put_str(o, "backend", t->backend);
	json_object_set_new(o, "resources", resources_to_json(&t->res));
	json_object_set_new(o, "envs", kv_to_json(&t->envs));
	for (i = 0; i < t->secrets.n; i++)
		json_array_append_new(sec, json_string(t->secrets.items[i].key));
	json_object_set_new(o, "secrets", sec);
	json_object_set_new(o, "file_mounts", mounts_to_json(&t->file_mounts));
	if (t->volumes.n)
		json_object_set_new(o, "volumes", volumes_to_json(&t->volumes));

	sub = json_object();
	put_str(sub, "dir", t->checkpoint.dir);
	put_int(sub, "interval", t->checkpoint.interval);
	put_int(sub, "keep", t->checkpoint.keep);
	put_str(sub, "verify", t->checkpoint.verify);
	if (t->checkpoint.per_node)
		json_object_set_new(sub, "per_node", json_true());
	json_object_set_new(o, "checkpoint", sub);

	sub = json_object();
	json_object_set_new(sub, "paths", strv_to_json(t->outputs.paths, t->outputs.n_paths));
	put_str(sub, "to", t->outputs.to);
	json_object_set_new(o, "outputs", sub);

	sub = json_object();
	put_int(sub, "max_runtime", t->stop.max_runtime);
	put_str(sub, "on_output", t->stop.on_output);
	put_int(sub, "idle_gpu", t->stop.idle_gpu);
	put_int(sub, "idle_gpu_below", t->stop.idle_gpu_below);
	put_int(sub, "orphan_timeout", t->stop.orphan_timeout);
	if (t->stop.other_nodes_end)
		put_str(sub, "other_nodes", "end");
	json_object_set_new(o, "stop", sub);

	sub = json_object();
	codes = json_array();
	put_int(sub, "max_restarts_on_errors", t->recovery.max_restarts_on_errors);
	for (i = 0; i < t->recovery.n_recover_on_exit_codes; i++)
		json_array_append_new(codes, json_integer(t->recovery.recover_on_exit_codes[i]));
	json_object_set_new(sub, "recover_on_exit_codes", codes);
	put_str(sub, "preemption_signal", signal_to_name(t->recovery.preemption_signal));
	put_int(sub, "notice_grace", t->recovery.notice_grace);
	json_object_set_new(o, "recovery", sub);

	put_real(o, "budget", t->budget);
	json_object_set_new(o, "sweep", sweep_to_json(&t->sweep));

	out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!out)
		abort();	/* out of memory */
	/* hand out memory the caller can free() */
	{
		char *copy = xstrdup(out);
		free(out);
		return copy;
	}
}

/* ---- reading ------------------------------------------------------------- */

/* Reading state: the first problem stops the reading. */
struct reader {
	struct error *err;
	int failed;
};

/* Record the first problem. */
__attribute__((format(printf, 2, 3)))
static void bad(struct reader *rd, const char *fmt, ...)
{
	va_list ap;

	if (rd->failed++)
		return;
	va_start(ap, fmt);
	error_setv(rd->err, FRUGAL_EINVAL, fmt, ap);
	va_end(ap);
	error_prefix(rd->err, "task JSON");
}

/* o[key] as a string into *out (absent or null: unchanged). */
static void get_str(struct reader *rd, const json_t *o, const char *key, char **out)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return;
	if (!json_is_string(v)) {
		bad(rd, "'%s' is not a string", key);
		return;
	}
	free(*out);
	*out = xstrdup(json_string_value(v));
}

/* o[key] as an integer in [min, max]. */
static void get_int(struct reader *rd, const json_t *o, const char *key,
		    long long min, long long max, long long *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		bad(rd, "'%s' is not an integer from %lld to %lld", key, min, max);
		return;
	}
	*out = json_integer_value(v);
}

/* Same, into an int. */
static void get_int32(struct reader *rd, const json_t *o, const char *key,
		      long long min, long long max, int *out)
{
	long long v = *out;

	get_int(rd, o, key, min, max, &v);
	*out = (int)v;
}

/* Same, into an int64_t. */
static void get_int64(struct reader *rd, const json_t *o, const char *key,
		      long long min, int64_t *out)
{
	long long v = *out;

	get_int(rd, o, key, min, INT64_MAX, &v);
	*out = v;
}

/* o[key] as a non-negative number. */
static void get_real(struct reader *rd, const json_t *o, const char *key, double *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return;
	if (!json_is_number(v) || json_number_value(v) < 0) {
		bad(rd, "'%s' is not a non-negative number", key);
		return;
	}
	*out = json_number_value(v);
}

/* o[key] as a boolean. */
static void get_bool(struct reader *rd, const json_t *o, const char *key, int *out)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return;
	if (!json_is_boolean(v)) {
		bad(rd, "'%s' is not a boolean", key);
		return;
	}
	*out = json_is_true(v);
}

/* o[key] as one of names (its index into *out). */
static void get_enum(struct reader *rd, const json_t *o, const char *key,
		     const char *const *names, size_t n, int *out)
{
	char *s = NULL;
	size_t i;

	get_str(rd, o, key, &s);
	if (!s)
		return;
	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			break;
	if (i == n)
		bad(rd, "'%s' has an unknown value '%s'", key, s);
	else
		*out = (int)i;
	free(s);
}

/* o[key]: an object (NULL if absent; a failure if another type). */
static const json_t *get_obj(struct reader *rd, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		bad(rd, "'%s' is not an object", key);
		return NULL;
	}
	return v;
}

/* o[key]: an array (NULL if absent; a failure if another type). */
static const json_t *get_array(struct reader *rd, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		bad(rd, "'%s' is not an array", key);
		return NULL;
	}
	return v;
}

/* An array of strings into a new vector. */
static void get_strv(struct reader *rd, const json_t *o, const char *key,
		     char ***ret, size_t *ret_n)
{
	const json_t *a = get_array(rd, o, key);
	size_t i;

	if (!a)
		return;
	*ret = xcalloc(json_array_size(a) + 1, sizeof(char *));
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *v = json_array_get(a, i);

		if (!json_is_string(v)) {
			bad(rd, "'%s' has an item that is not a string", key);
			return;
		}
		(*ret)[(*ret_n)++] = xstrdup(json_string_value(v));
	}
}

/* An object of strings (or nulls) into l. */
static void get_kv(struct reader *rd, const json_t *o, const char *key, struct kvlist *l)
{
	const json_t *obj = get_obj(rd, o, key);
	const char *k;
	json_t *v;

	if (!obj)
		return;
	json_object_foreach((json_t *)obj, k, v) {
		/* keys are unique: JSON_REJECT_DUPLICATES */
		if (json_is_null(v)) {
			kvlist_append(l, k, NULL);
		} else if (json_is_string(v)) {
			kvlist_append(l, k, json_string_value(v));
		} else {
			bad(rd, "'%s.%s' is not a string", key, k);
			return;
		}
	}
}

/* volumes (volumes_to_json) into l. */
static void get_volumes(struct reader *rd, const json_t *o, const char *key,
			struct volume_list *l)
{
	const json_t *obj = get_obj(rd, o, key);
	const char *k;
	json_t *v;

	if (!obj)
		return;
	json_object_foreach((json_t *)obj, k, v) {
		const json_t *kind = json_object_get(v, "kind"), *ref = json_object_get(v, "ref");
		const json_t *ro = json_object_get(v, "read_only"), *sz = json_object_get(v, "size_gb");
		const json_t *ty = json_object_get(v, "type");
		struct volume vol = { 0 };

		if (!json_is_object(v) || !json_is_string(kind) || !json_is_string(ref) ||
		    !json_is_boolean(ro) || (sz && (!json_is_integer(sz) ||
						   json_integer_value(sz) < 1 ||
						   json_integer_value(sz) > INT32_MAX)) ||
		    (ty && !json_is_string(ty)) || !*k) {
			bad(rd, "'%s.%s' is not {kind, ref, read_only[, size_gb, type]}", key, k);
			return;
		}
		vol.dst = (char *)k;
		vol.kind = (char *)json_string_value(kind);
		vol.ref = (char *)json_string_value(ref);
		vol.read_only = json_is_true(ro);
		vol.size_gb = sz ? (int)json_integer_value(sz) : 0;
		vol.type = ty ? (char *)json_string_value(ty) : NULL;
		volume_list_append(l, &vol);
	}
}

/* file_mounts (mounts_to_json) into l. */
static void get_mounts(struct reader *rd, const json_t *o, const char *key,
		       struct mount_list *l)
{
	const json_t *obj = get_obj(rd, o, key);
	const char *k;
	json_t *v;

	if (!obj)
		return;
	json_object_foreach((json_t *)obj, k, v) {
		const json_t *src = json_object_get(v, "source"), *loc = json_object_get(v, "local");
		const json_t *mode = json_object_get(v, "mode"), *ds = json_object_get(v, "dataset");
		enum mount_mode m;

		if (!json_is_object(v) || !json_is_string(src) || !json_is_boolean(loc) ||
		    !json_is_string(mode) || mount_mode_from_name(json_string_value(mode), &m) < 0 ||
		    (ds && !json_is_string(ds))) {
			bad(rd, "'%s.%s' is not {source, local, mode[, dataset]}", key, k);
			return;
		}
		mount_list_append(l, k, json_string_value(src), json_is_true(loc), m,
				  ds ? json_string_value(ds) : NULL);
	}
}

/* The resources section. */
static void resources_from_json(struct reader *rd, const json_t *o, struct resources *r)
{
	const json_t *accels = get_array(rd, o, "accelerators"), *ports;
	int mode = 0, spot = 0;
	size_t i;

	get_enum(rd, o, "accel_mode", accel_mode_names, 4, &mode);
	r->accel_mode = (enum accel_mode)mode;
	if (accels) {
		r->accels = xcalloc(json_array_size(accels) + 1, sizeof(*r->accels));
		for (i = 0; i < json_array_size(accels); i++) {
			const json_t *a = json_array_get(accels, i);
			const json_t *name = json_object_get(a, "name");
			const json_t *count = json_object_get(a, "count");

			if (!json_is_string(name) || !json_is_integer(count) ||
			    json_integer_value(count) < 1 || json_integer_value(count) > 1 << 20) {
				bad(rd, "'resources.accelerators' item %zu is not {name, count}", i);
				return;
			}
			r->accels[r->n_accels].name = xstrdup(json_string_value(name));
			r->accels[r->n_accels].count = (int)json_integer_value(count);
			r->n_accels++;
		}
	}
	if ((r->accel_mode == ACCEL_NONE) != (r->n_accels == 0))
		bad(rd, "'resources.accel_mode' does not match the accelerators");
	get_real(rd, o, "cpus", &r->cpus);
	get_bool(rd, o, "cpus_at_least", &r->cpus_at_least);
	get_real(rd, o, "memory", &r->memory);
	get_bool(rd, o, "memory_at_least", &r->memory_at_least);
	get_enum(rd, o, "spot", spot_names, 3, &spot);
	r->spot = (enum spot_policy)spot;
	get_str(rd, o, "cloud", &r->cloud);
	get_str(rd, o, "region", &r->region);
	get_str(rd, o, "zone", &r->zone);
	get_int32(rd, o, "disk_size", 0, INT32_MAX, &r->disk_size);
	get_real(rd, o, "max_price", &r->max_price);
	get_str(rd, o, "image_id", &r->image_id);
	get_bool(rd, o, "image_docker", &r->image_docker);
	get_str(rd, o, "instance_type", &r->instance_type);
	if ((ports = get_array(rd, o, "ports"))) {
		r->ports = xcalloc(json_array_size(ports) + 1, sizeof(*r->ports));
		for (i = 0; i < json_array_size(ports); i++) {
			const json_t *pr = json_array_get(ports, i);
			json_int_t from = json_integer_value(json_object_get(pr, "from"));
			json_int_t to = json_integer_value(json_object_get(pr, "to"));

			if (from < 1 || to < from || to > 65535) {
				bad(rd, "'resources.ports' item %zu is not {from, to} in 1..65535", i);
				return;
			}
			r->ports[r->n_ports].from = (int)from;
			r->ports[r->n_ports].to = (int)to;
			r->n_ports++;
		}
	}
}

/* The sweep section. */
static void sweep_from_json(struct reader *rd, const json_t *o, struct sweep_spec *s)
{
	const json_t *params = get_array(rd, o, "params");
	int method = 0;
	size_t i;

	get_enum(rd, o, "method", sweep_names, 3, &method);
	s->method = (enum sweep_method)method;
	if (params) {
		s->params = xcalloc(json_array_size(params) + 1, sizeof(*s->params));
		for (i = 0; i < json_array_size(params) && !rd->failed; i++) {
			const json_t *po = json_array_get(params, i);
			struct sweep_param *sp = &s->params[s->n_params++];

			if (!json_is_object(po)) {
				bad(rd, "'sweep.params' item %zu is not an object", i);
				return;
			}
			get_str(rd, po, "name", &sp->name);
			get_str(rd, po, "range", &sp->range);
			get_strv(rd, po, "values", &sp->values, &sp->n_values);
			if (!sp->name || (!sp->range && !sp->values))
				bad(rd, "'sweep.params' item %zu needs a name and values or a range", i);
		}
	}
	get_int32(rd, o, "max_parallel", 0, INT32_MAX, &s->max_parallel);
	get_int32(rd, o, "trials", 0, INT32_MAX, &s->trials);
	if (json_object_get(o, "seed")) {
		get_int64(rd, o, "seed", INT64_MIN, &s->seed);
		s->has_seed = 1;
	}
}

static const char *const other_nodes_names[] = { "wait", "end" };

/* The sections other than resources and sweep. */
static void sections_from_json(struct reader *rd, const json_t *root, struct task *t)
{
	const json_t *o, *a;
	char *sig = NULL;
	size_t i;

	if ((o = get_obj(rd, root, "checkpoint"))) {
		get_str(rd, o, "dir", &t->checkpoint.dir);
		get_int64(rd, o, "interval", 0, &t->checkpoint.interval);
		get_int32(rd, o, "keep", 0, INT32_MAX, &t->checkpoint.keep);
		get_str(rd, o, "verify", &t->checkpoint.verify);
		get_bool(rd, o, "per_node", &t->checkpoint.per_node);
	}
	if ((o = get_obj(rd, root, "outputs"))) {
		get_strv(rd, o, "paths", &t->outputs.paths, &t->outputs.n_paths);
		get_str(rd, o, "to", &t->outputs.to);
	}
	if ((o = get_obj(rd, root, "stop"))) {
		get_int64(rd, o, "max_runtime", 0, &t->stop.max_runtime);
		get_str(rd, o, "on_output", &t->stop.on_output);
		get_int64(rd, o, "idle_gpu", 0, &t->stop.idle_gpu);
		get_int32(rd, o, "idle_gpu_below", 1, 100, &t->stop.idle_gpu_below);
		get_int64(rd, o, "orphan_timeout", 0, &t->stop.orphan_timeout);
		get_enum(rd, o, "other_nodes", other_nodes_names, 2, &t->stop.other_nodes_end);
	}
	if ((o = get_obj(rd, root, "recovery"))) {
		struct recovery_spec *r = &t->recovery;

		get_int32(rd, o, "max_restarts_on_errors", 0, INT32_MAX,
			  &r->max_restarts_on_errors);
		if ((a = get_array(rd, o, "recover_on_exit_codes"))) {
			r->recover_on_exit_codes = xcalloc(json_array_size(a) + 1, sizeof(int));
			for (i = 0; i < json_array_size(a); i++) {
				const json_t *c = json_array_get(a, i);

				if (!json_is_integer(c) || json_integer_value(c) < 0 ||
				    json_integer_value(c) > 255) {
					bad(rd, "'recovery.recover_on_exit_codes' has a bad item");
					break;
				}
				r->recover_on_exit_codes[r->n_recover_on_exit_codes++] =
					(int)json_integer_value(c);
			}
		}
		get_str(rd, o, "preemption_signal", &sig);
		if (sig && !(r->preemption_signal = signal_from_name(sig)))
			bad(rd, "'recovery.preemption_signal' is not a signal: '%s'", sig);
		free(sig);
		get_int64(rd, o, "notice_grace", 0, &r->notice_grace);
	}
}

int task_from_json(const char *json, struct task *ret, struct error *err)
{
	struct reader rd = { err, 0 };
	json_error_t jerr;
	json_t *root;
	struct task t;
	const json_t *o, *a;
	size_t i;

	root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return error_set(err, FRUGAL_EINVAL, "task JSON: %s (line %d)", jerr.text, jerr.line);
	task_init(&t);
	if (!json_is_object(root)) {
		bad(&rd, "not an object");
		goto out;
	}
	get_str(&rd, root, "path", &t.path);
	get_str(&rd, root, "name", &t.name);
	get_str(&rd, root, "workdir", &t.workdir);
	get_str(&rd, root, "setup", &t.setup);
	get_str(&rd, root, "run", &t.run);
	get_int32(&rd, root, "num_nodes", 1, TASK_NODES_MAX, &t.num_nodes);
	get_str(&rd, root, "backend", &t.backend);
	if ((o = get_obj(&rd, root, "resources")))
		resources_from_json(&rd, o, &t.res);
	get_kv(&rd, root, "envs", &t.envs);
	if ((a = get_array(&rd, root, "secrets"))) {
		for (i = 0; i < json_array_size(a); i++) {
			const json_t *s = json_array_get(a, i);

			if (!json_is_string(s)) {
				bad(&rd, "'secrets' has an item that is not a string");
				break;
			}
			kvlist_set(&t.secrets, json_string_value(s), NULL);
		}
	}
	get_mounts(&rd, root, "file_mounts", &t.file_mounts);
	get_volumes(&rd, root, "volumes", &t.volumes);
	sections_from_json(&rd, root, &t);
	get_real(&rd, root, "budget", &t.budget);
	if ((o = get_obj(&rd, root, "sweep")))
		sweep_from_json(&rd, o, &t.sweep);
out:
	json_decref(root);
	if (rd.failed) {
		task_release(&t);
		return FRUGAL_EINVAL;
	}
	*ret = t;
	return 0;
}
