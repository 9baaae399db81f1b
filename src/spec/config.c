/*
 * config: $FRUGAL_HOME/config.yaml. See config.h.
 *
 * Same approach as task.c: a yamltree walked against tables of keys, every
 * problem reported with its position and, for a misspelt key, the nearest
 * known one.
 */
#include "spec/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fs.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/yamltree.h"

#define CONFIG_MAX_GPUS 1024

/* The names of the backends (registry order, local first) in names[];
 * returns how many. */
static size_t backend_names(const char **names, size_t size)
{
	size_t i, n = config_backend_count();

	for (i = 0; i < n && i < size; i++)
		names[i] = config_backend_name(i);
	return i;
}
#define MAX_BACKENDS 64

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->local.gpus_auto = 1;
	c->local.cgroups = 1;
}

/* Forget the GPU ids. */
static void clear_gpu_ids(struct local_config *l)
{
	size_t i;

	for (i = 0; i < l->n_gpu_ids; i++)
		free(l->gpu_ids[i]);
	free(l->gpu_ids);
	l->gpu_ids = NULL;
	l->n_gpu_ids = 0;
}

void config_release(struct config *c)
{
	size_t i;

	free(c->path);
	free(c->storage_url);
	free(c->default_backend);
	free(c->catalog_url);
	clear_gpu_ids(&c->local);
	free(c->local.gpu_type);
	free(c->local.container_runtime);
	for (i = 0; i < c->n_backends; i++) {
		free(c->backends[i].name);
		kvlist_release(&c->backends[i].settings);
	}
	free(c->backends);
	config_init(c);
}

const char *config_backend_get(const struct config *c, const char *backend, const char *key)
{
	size_t i;

	for (i = 0; i < c->n_backends; i++)
		if (!strcmp(c->backends[i].name, backend))
			return kvlist_get(&c->backends[i].settings, key);
	return NULL;
}

int config_parse_seconds(const char *s, double *ret)
{
	size_t n = strlen(s);
	char buf[64];
	int64_t secs;

	if (n && n < sizeof(buf) && s[n - 1] == 's') {
		memcpy(buf, s, n - 1);
		buf[n - 1] = '\0';
		if (schema_parse_number(buf, ret) == 0 && *ret >= 0)
			return 0;
	}
	if (schema_parse_number(s, ret) == 0 && *ret >= 0)
		return 0;
	if (duration_parse(s, &secs) == 0) {
		*ret = (double)secs;
		return 0;
	}
	return FRUGAL_EINVAL;
}

int config_backend_int(const struct config *c, const char *backend, const char *key,
		       long long def, long long *ret, struct error *err)
{
	const char *v = c ? config_backend_get(c, backend, key) : NULL;

	*ret = def;
	if (!v || !*v)
		return 0;
	if (schema_parse_int(v, ret) < 0 || *ret < 0) {
		*ret = def;
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.%s.%s: expected a"
				 " whole number (0 or more), got '%s'", backend, key, v);
	}
	return 0;
}

int config_backend_number(const struct config *c, const char *backend, const char *key,
			  double def, double *ret, struct error *err)
{
	const char *v = c ? config_backend_get(c, backend, key) : NULL;

	*ret = def;
	if (!v || !*v)
		return 0;
	if (schema_parse_number(v, ret) < 0 || *ret < 0) {
		*ret = def;
		return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.%s.%s: expected a"
				 " number >= 0, got '%s'", backend, key, v);
	}
	return 0;
}

int config_backend_bool(const struct config *c, const char *backend, const char *key,
			int def, int *ret, struct error *err)
{
	const char *v = c ? config_backend_get(c, backend, key) : NULL;
	const char *const t[] = { "true", "yes", "on" }, *const f[] = { "false", "no", "off" };
	size_t i;

	*ret = def;
	if (!v || !*v)
		return 0;
	for (i = 0; i < 3; i++) {
		if (!strcasecmp(v, t[i]) || !strcasecmp(v, f[i])) {
			*ret = !strcasecmp(v, t[i]);
			return 0;
		}
	}
	return error_set(err, FRUGAL_EINVAL, "config.yaml: backends.%s.%s: expected true or"
			 " false, got '%s'", backend, key, v);
}

/* ---- walking --------------------------------------------------------- */

struct cparser {
	struct schema sc;
	struct config *c;
};

typedef void (*ckey_fn)(struct cparser *p, const struct ynode *key,
			const struct ynode *val, const char *path);

struct ckey_rule {
	const char *name;
	ckey_fn fn;
};

/* Call the rule of every key of map; report the others. */
static void walk(struct cparser *p, const struct ynode *map, const char *prefix,
		 const struct ckey_rule *rules, size_t n_rules)
{
	const char *names[16];
	size_t i, j;

	for (j = 0; j < n_rules && j < 16; j++)
		names[j] = rules[j].name;
	for (i = 0; i < map->n_pairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		char *path = schema_join_path(prefix, k->str);

		for (j = 0; j < n_rules; j++)
			if (!strcmp(k->str, rules[j].name))
				break;
		if (j < n_rules)
			rules[j].fn(p, k, map->pairs[i].value, path);
		else
			schema_unknown_key(&p->sc, k, path, names, j < 16 ? j : 16);
		free(path);
	}
}

#define WALK(p, map, prefix, rules) \
	walk(p, map, prefix, rules, sizeof(rules) / sizeof(rules[0]))

/* ---- backends.local ---------------------------------------------------- */

/* gpus: N, [ids...] or "auto". */
static void key_gpus(struct cparser *p, const struct ynode *k, const struct ynode *v,
		     const char *path)
{
	const char *what = "a number of GPUs, a list of device ids such as [0, 1], or auto";
	struct local_config *l = &p->c->local;
	long long n;
	size_t i, j;

	if (v->type == YNODE_SCALAR && !strcmp(v->str, "auto")) {
		clear_gpu_ids(l);
		l->gpus_auto = 1;
		return;
	}
	if (v->type == YNODE_SCALAR) {
		if (schema_int(&p->sc, v, path, 0, CONFIG_MAX_GPUS, what, &n) < 0)
			return;
		clear_gpu_ids(l);
		l->gpus_auto = 0;
		l->gpu_ids = xcalloc((size_t)n + 1, sizeof(char *));
		for (i = 0; i < (size_t)n; i++)
			l->gpu_ids[l->n_gpu_ids++] = xasprintf("%zu", i);
		return;
	}
	if (v->type != YNODE_SEQ || v->n_items > CONFIG_MAX_GPUS) {
		schema_expected(&p->sc, v, path, what);
		return;
	}
	clear_gpu_ids(l);
	l->gpus_auto = 0;
	l->gpu_ids = xcalloc(v->n_items + 1, sizeof(char *));
	for (i = 0; i < v->n_items; i++) {
		const struct ynode *item = v->items[i];
		char *sub = xasprintf("%s[%zu]", path, i);

		if (item->type != YNODE_SCALAR || ynode_is_null(item) || !*item->str ||
		    strchr(item->str, ',') || strchr(item->str, ' ')) {
			schema_expected(&p->sc, item, sub, "a device id such as 0 or GPU-<uuid>");
			free(sub);
			continue;
		}
		for (j = 0; j < l->n_gpu_ids; j++)
			if (!strcmp(l->gpu_ids[j], item->str))
				break;
		if (j < l->n_gpu_ids)
			schema_report(&p->sc, item, sub, "device '%s' is listed twice", item->str);
		else
			l->gpu_ids[l->n_gpu_ids++] = xstrdup(item->str);
		free(sub);
	}
}

/* backends.local.gpu_type: the name local GPUs match. */
static void key_gpu_type(struct cparser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	schema_string(&p->sc, v, path, "a GPU name such as RTX4090", &p->c->local.gpu_type);
}

/* backends.local.price_per_gpu_hour: USD per GPU-hour for the ledger. */
static void key_price_per_gpu_hour(struct cparser *p, const struct ynode *k,
				   const struct ynode *v, const char *path)
{
	schema_number(&p->sc, v, path, 0, "a price in US dollars (0 or more)",
		      &p->c->local.price_per_gpu_hour);
}

/* backends.local.price_per_hour: USD per hour for a job without GPU. */
static void key_price_per_hour(struct cparser *p, const struct ynode *k,
			       const struct ynode *v, const char *path)
{
	schema_number(&p->sc, v, path, 0, "a price in US dollars (0 or more)",
		      &p->c->local.price_per_hour);
}

/* backends.local.cpus: advertised vCPUs. */
static void key_local_cpus(struct cparser *p, const struct ynode *k, const struct ynode *v,
			   const char *path)
{
	schema_number(&p->sc, v, path, 1, "a positive number of CPUs", &p->c->local.cpus);
}

/* backends.local.memory: advertised GiB. */
static void key_local_memory(struct cparser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	schema_number(&p->sc, v, path, 1, "a positive number of GiB", &p->c->local.memory);
}

/* backends.local.cgroups: false forces the process scan. */
static void key_local_cgroups(struct cparser *p, const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	schema_bool(&p->sc, v, path, &p->c->local.cgroups);
}
static void key_local_liveness(struct cparser *p, const struct ynode *k, const struct ynode *v,
			       const char *path);
/* backends.local.container_runtime: docker or podman, for image_id docker:. */
static void key_local_runtime(struct cparser *p, const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	static const char *const names[] = { "docker", "podman" };
	int i = schema_choice(&p->sc, v, path, names, 2, 0);

	if (i >= 0) {
		free(p->c->local.container_runtime);
		p->c->local.container_runtime = xstrdup(names[i]);
	}
}

static const struct ckey_rule local_rules[] = {
	{ "gpus", key_gpus }, { "gpu_type", key_gpu_type },
	{ "price_per_gpu_hour", key_price_per_gpu_hour },
	{ "price_per_hour", key_price_per_hour },
	{ "cpus", key_local_cpus }, { "memory", key_local_memory },
	{ "cgroups", key_local_cgroups },
	{ "boot_timeout", key_local_liveness }, { "heartbeat_timeout", key_local_liveness },
	{ "container_runtime", key_local_runtime },
};

/* ---- other backends: settings checked against their schema ----------- */

/* A mapping of scalars under a backend setting, kept flat as KEY.SUB:
 * {gres_map: {A100: a100}} gives "gres_map.A100" = "a100". */
static void backend_submap(struct cparser *p, struct backend_settings *b, const char *key,
			   const struct ynode *v, const char *path)
{
	size_t i;

	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
		char *sub = schema_join_path(path, k->str);

		if (val->type != YNODE_SCALAR) {
			schema_expected(&p->sc, val, sub, "a string or a number");
		} else {
			char *name = xasprintf("%s.%s", key, k->str);
			kvlist_append(&b->settings, name, ynode_is_null(val) ? NULL : val->str);
			free(name);
		}
		free(sub);
	}
}

/* A list of scalars, kept as "a,b". */
static void backend_list(struct cparser *p, struct backend_settings *b, const char *key,
			 const struct ynode *v, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < v->n_items; i++) {
		const struct ynode *it = v->items[i];
		char *sub = xasprintf("%s[%zu]", path, i);

		if (it->type != YNODE_SCALAR || ynode_is_null(it) || !*it->str)
			schema_expected(&p->sc, it, sub, "a string");
		else
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "", it->str);
		free(sub);
	}
	kvlist_append(&b->settings, key, sb.buf);
	strbuf_release(&sb);
}

/* One setting of a backend other than local, checked as its schema says. */
static void backend_setting(struct cparser *p, struct backend_settings *b,
			    const struct config_setting *set, const struct ynode *v,
			    const char *path)
{
	const char *text = ynode_is_null(v) ? NULL : v->str;
	long long n;
	double d;
	int64_t secs;
	int yes;

	if (set->type == CONFIG_MAP) {
		if (v->type != YNODE_MAP) {
			if (!ynode_is_null(v))
				schema_expected(&p->sc, v, path, "a mapping");
			return;
		}
		backend_submap(p, b, set->key, v, path);
		return;
	}
	if (set->type == CONFIG_LIST && v->type == YNODE_SEQ) {
		backend_list(p, b, set->key, v, path);
		return;
	}
	if (v->type == YNODE_MAP && v->n_pairs) {
		/* NAME.SUB: what the setting takes is a value, not a mapping. */
		char *sub = schema_join_path(path, v->pairs[0].key->str);
		schema_report(&p->sc, v->pairs[0].key, sub, "expected a value for '%s', not a mapping",
			      set->key);
		free(sub);
		return;
	}
	if (v->type != YNODE_SCALAR) {
		schema_expected(&p->sc, v, path, "a string or a number");
		return;
	}
	if (text) {
		switch (set->type) {
		case CONFIG_INT:
			if (schema_int(&p->sc, v, path, 0, 1LL << 53, "a whole number (0 or more)",
				       &n) < 0)
				return;
			break;
		case CONFIG_NUMBER:
			if (schema_number(&p->sc, v, path, 0, "a number >= 0", &d) < 0)
				return;
			break;
		case CONFIG_DURATION:
			if (schema_duration(&p->sc, v, path, 1, &secs) < 0)
				return;
			break;
		case CONFIG_SECONDS:
			if (config_parse_seconds(text, &d) == 0)
				break;
			if (schema_duration(&p->sc, v, path, 1, &secs) < 0)
				return;
			break;
		case CONFIG_BOOL:
			if (!strcmp(text, "0") || !strcmp(text, "1"))
				yes = text[0] == '1';
			else if (schema_bool(&p->sc, v, path, &yes) < 0)
				return;
			text = yes ? "true" : "false";
			break;
		case CONFIG_STRING:
		case CONFIG_LIST:
		case CONFIG_MAP:
			break;
		}
	}
	kvlist_append(&b->settings, set->key, text);
}

/* backends.local.boot_timeout, .heartbeat_timeout: the controller's
 * liveness limits every backend takes (its schema lists them), kept as
 * text in a "local" backend_settings like the others' settings. */
static void key_local_liveness(struct cparser *p, const struct ynode *k, const struct ynode *v,
			       const char *path)
{
	const struct config_setting *schema = config_backend_settings("local");
	struct config_setting set = { k->str, CONFIG_SECONDS, "" };
	struct backend_settings *b = NULL;
	size_t i;

	for (i = 0; schema && schema[i].key; i++)
		if (!strcmp(schema[i].key, k->str))
			set = schema[i];
	for (i = 0; i < p->c->n_backends && !b; i++)
		if (!strcmp(p->c->backends[i].name, "local"))
			b = &p->c->backends[i];
	if (!b) {
		p->c->backends = xrealloc(p->c->backends,
					  (p->c->n_backends + 1) * sizeof(*p->c->backends));
		b = &p->c->backends[p->c->n_backends++];
		memset(b, 0, sizeof(*b));
		b->name = xstrdup("local");
	}
	backend_setting(p, b, &set, v, path);
}

/* backends.NAME for a backend other than local: every key one its schema
 * lists, of the type it says; kept as text (struct backend_settings). */
static void other_backend(struct cparser *p, const char *name, const struct ynode *v,
			  const char *path)
{
	const struct config_setting *schema = config_backend_settings(name);
	struct config *c = p->c;
	struct backend_settings *b;
	size_t i, j;

	if (schema_want_map(&p->sc, v, path, "a mapping of settings") < 0)
		return;
	c->backends = xrealloc(c->backends, (c->n_backends + 1) * sizeof(*c->backends));
	b = &c->backends[c->n_backends++];
	memset(b, 0, sizeof(*b));
	b->name = xstrdup(name);
	if (ynode_is_null(v))
		return;
	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *key = v->pairs[i].key, *val = v->pairs[i].value;
		char *sub = schema_join_path(path, key->str);
		const struct config_setting *set = NULL;

		for (j = 0; schema && schema[j].key && !set; j++)
			if (!strcmp(schema[j].key, key->str))
				set = &schema[j];
		if (set) {
			backend_setting(p, b, set, val, sub);
		} else {
			const char *known[256];
			const char *near;
			size_t n = 0;

			for (j = 0; schema && schema[j].key && n < 256; j++)
				known[n++] = schema[j].key;
			near = suggest_nearest(key->str, known, n);
			if (near)
				schema_report(&p->sc, key, sub, "unknown setting; did you mean '%s'?",
					      near);
			else
				schema_report(&p->sc, key, sub, "unknown setting");
		}
		free(sub);
	}
}

/* backends: local has its own keys; the other known backends take flat settings. */
static void key_backends(struct cparser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	size_t i;

	if (schema_want_map(&p->sc, v, path, "a mapping of backend names to settings") <= 0)
		return;
	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *key = v->pairs[i].key, *val = v->pairs[i].value;
		char *sub = schema_join_path(path, key->str);
		const char *names[MAX_BACKENDS];
		size_t n = backend_names(names, MAX_BACKENDS), j;

		for (j = 0; j < n; j++)
			if (!strcmp(key->str, names[j]))
				break;
		if (j == n) {
			schema_unknown_key(&p->sc, key, sub, names, n);
		} else if (j == 0) {
			if (schema_want_map(&p->sc, val, sub, "a mapping of local backend settings") > 0)
				WALK(p, val, sub, local_rules);
		} else {
			other_backend(p, key->str, val, sub);
		}
		free(sub);
	}
}

/* ---- top level ----------------------------------------------------------- */

static void key_storage(struct cparser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	if (!ynode_is_null(v))
		schema_url(&p->sc, v, path, &p->c->storage_url);
}

/* default_backend: one of the known backends. */
static void key_default_backend(struct cparser *p, const struct ynode *k,
				const struct ynode *v, const char *path)
{
	const char *names[MAX_BACKENDS];
	size_t n = backend_names(names, MAX_BACKENDS);
	int i;

	if (ynode_is_null(v))
		return;
	i = schema_choice(&p->sc, v, path, names, n, 0);
	if (i < 0)
		return;
	free(p->c->default_backend);
	p->c->default_backend = xstrdup(names[i]);
}

/* budgets.monthly: USD per calendar month. */
static void key_monthly(struct cparser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	schema_number(&p->sc, v, path, 1, "a positive amount of US dollars",
		      &p->c->budget_monthly);
}

static const struct ckey_rule budgets_rules[] = {
	{ "monthly", key_monthly },
};

/* budgets: {monthly}. */
static void key_budgets(struct cparser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping {monthly}") > 0)
		WALK(p, v, path, budgets_rules);
}

/* catalog.url: where `frugal catalog update` fetches the price tables. */
static void key_catalog_url(struct cparser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SCALAR || (strncmp(v->str, "http://", 7) &&
					strncmp(v->str, "https://", 8) &&
					strncmp(v->str, "file://", 7))) {
		schema_expected(&p->sc, v, path, "an http://, https:// or file:// URL of a"
				" SkyPilot catalog v8 directory");
		return;
	}
	free(p->c->catalog_url);
	p->c->catalog_url = xstrdup(v->str);
}

static const struct ckey_rule catalog_rules[] = {
	{ "url", key_catalog_url },
};

/* catalog: {url}. */
static void key_catalog(struct cparser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping {url}") > 0)
		WALK(p, v, path, catalog_rules);
}

static const struct ckey_rule config_rules[] = {
	{ "storage", key_storage }, { "default_backend", key_default_backend },
	{ "backends", key_backends }, { "budgets", key_budgets },
	{ "catalog", key_catalog },
};

int config_parse_buffer(const char *buf, size_t len, const char *name,
			struct config *ret, struct diag_list *diags)
{
	struct cparser p;
	struct config c;
	struct ynode *root = NULL;
	size_t before = diags->n;
	int r;

	config_init(&c);
	p.sc.file = name ? name : "<config>";
	p.sc.diags = diags;
	p.c = &c;
	r = yamltree_load(buf, len, p.sc.file, &root, diags);
	if (r < 0)
		goto out;
	if (root && !ynode_is_null(root)) {
		if (root->type != YNODE_MAP)
			schema_expected(&p.sc, root, NULL, "a mapping of settings");
		else
			WALK(&p, root, NULL, config_rules);
	}
	if (diags->n > before) {
		diag_list_sort(diags, before);
		r = FRUGAL_EINVAL;
		goto out;
	}
	if (!c.local.gpu_type)
		c.local.gpu_type = xstrdup("GPU");
	*ret = c;
	config_init(&c);
out:
	config_release(&c);
	yamltree_free(root);
	return r;
}

int config_load(const char *path, struct config *ret, struct diag_list *diags)
{
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	int r;

	r = fs_read_regular_file(path, YAMLTREE_MAX_INPUT, &sb, &err);
	if (r == FRUGAL_ENOTFOUND) {
		r = config_parse_buffer("", 0, path, ret, diags);
		goto out;
	}
	if (r < 0) {
		diag_add(diags, path, 0, 0, NULL, "%s", error_msg(&err));
		goto out;
	}
	r = config_parse_buffer(sb.buf, sb.len, path, ret, diags);
	if (r == 0)
		ret->path = xstrdup(path);
out:
	strbuf_release(&sb);
	return r;
}
