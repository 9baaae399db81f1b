/*
 * task: parsing and validation of task files. See task.h and
 * docs/TASKFILE.md.
 *
 * The YAML is loaded into a yamltree first; then each mapping is walked
 * against a table of known keys (struct key_rule), each key with its own
 * small handler. Handlers report problems and carry on, so one run finds
 * every problem of a file. Checks that involve several keys (use_spot and
 * spot_policy, infra and cloud, ...) run after their section is walked.
 */
#include "spec/task.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "spec/config.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/yamltree.h"

#define ACCEL_MAX_COUNT 1024
#define ACCEL_MAX_CHOICES 64
#define SWEEP_MAX_GRID 10000
#define SWEEP_MAX_TRIALS 100000
#define NAME_MAX_LEN 64

/* The backends (and clouds) frugal knows, from the registry
 * (config_backend_name), into names; returns how many. */
#define MAX_BACKENDS 64
static size_t known_backends(const char **names)
{
	size_t n = 0;

	while (n < MAX_BACKENDS && (names[n] = config_backend_name(n)))
		n++;
	return n;
}

/* ---- signals ----------------------------------------------------------- */

static const struct {
	int sig;
	const char *name;
} signal_names[] = {
	{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
	{ SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" }, { SIGUSR2, "SIGUSR2" },
	{ SIGTERM, "SIGTERM" }, { SIGCONT, "SIGCONT" }, { SIGSTOP, "SIGSTOP" },
};

const char *signal_to_name(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (signal_names[i].sig == sig)
			return signal_names[i].name;
	return NULL;
}

int signal_from_name(const char *name)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
		const char *n = signal_names[i].name;
		if (!strcasecmp(name, n) || !strcasecmp(name, n + 3))
			return signal_names[i].sig;
	}
	return 0;
}

/* ---- lifecycle --------------------------------------------------------- */

void task_init(struct task *t)
{
	memset(t, 0, sizeof(*t));
	t->num_nodes = 1;
	t->checkpoint.interval = 600;
	t->checkpoint.keep = 3;
	t->stop.orphan_timeout = 1800;
	t->stop.idle_gpu_below = 5;
	t->recovery.preemption_signal = SIGTERM;
	t->recovery.notice_grace = 30;
}

/* Free an array of n strings. */
static void free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void task_release(struct task *t)
{
	size_t i;

	free(t->path);
	free(t->name);
	free(t->workdir);
	free(t->setup);
	free(t->run);
	free(t->backend);
	for (i = 0; i < t->res.n_accels; i++)
		free(t->res.accels[i].name);
	free(t->res.accels);
	free(t->res.cloud);
	free(t->res.region);
	free(t->res.zone);
	free(t->res.image_id);
	free(t->res.instance_type);
	free(t->res.ports);
	kvlist_release(&t->envs);
	kvlist_release(&t->secrets);
	mount_list_release(&t->file_mounts);
	volume_list_release(&t->volumes);
	free(t->checkpoint.dir);
	free(t->checkpoint.verify);
	free_strv(t->outputs.paths, t->outputs.n_paths);
	free(t->outputs.to);
	free(t->stop.on_output);
	free(t->recovery.recover_on_exit_codes);
	for (i = 0; i < t->sweep.n_params; i++) {
		free(t->sweep.params[i].name);
		free_strv(t->sweep.params[i].values, t->sweep.params[i].n_values);
		free(t->sweep.params[i].range);
	}
	free(t->sweep.params);
	task_init(t);
}

/* ---- the parser's state and its reporting helpers ---------------------- */

struct parser {
	struct schema sc;	/* file name and diagnostics */
	const char *base_dir;
	struct task *t;
	const struct ynode *root;
	/* nodes remembered for checks across keys */
	const struct ynode *run_node;
	const struct ynode *backend_node;
	const struct ynode *secrets_node;
	const struct ynode *use_spot_node;
	int use_spot;
	const struct ynode *spot_policy_node;
	int spot_policy_ok;
	enum spot_policy spot_policy;
	const struct ynode *infra_node, *cloud_node, *region_node, *zone_node;
	const struct ynode *max_price_node, *image_map_node;
	const struct ynode *candidates_key, *candidates_node;	/* any_of / ordered */
	int in_candidate;
	const struct ynode *job_recovery_node, *jr_max_restarts_node, *jr_exit_codes_node;
	const struct ynode *max_restarts_node, *exit_codes_node;	/* recovery.* */
	const struct ynode *checkpoint_dir_node;
	const struct ynode *outputs_paths_node;
	const struct ynode *sweep_method_node, *sweep_params_node, *sweep_trials_node;
	struct ypair *ranges;		/* sweep params given as ranges */
	size_t n_ranges;
};

/* ---- walking a mapping against a table of keys ------------------------- */

typedef void (*key_fn)(struct parser *p, const struct ynode *key,
		       const struct ynode *val, const char *path);

struct key_rule {
	const char *name;
	key_fn fn;
};

/* Keys of other tools (SkyPilot) that get a tailored message. */
struct foreign_key {
	const char *name;
	int warn;		/* 1: read and ignored with a warning; 0: refused */
	const char *msg;
};

/*
 * Call the rule of every key of map; report unknown keys at the key's
 * position, with the nearest known key as a suggestion.
 */
static void walk_map(struct parser *p, const struct ynode *map, const char *prefix,
		     const struct key_rule *rules, size_t n_rules,
		     const struct foreign_key *foreign, size_t n_foreign)
{
	const char *names[32];
	size_t i, j;

	for (j = 0; j < n_rules && j < 32; j++)
		names[j] = rules[j].name;
	for (i = 0; i < map->n_pairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		char *path = schema_join_path(prefix, k->str);

		for (j = 0; j < n_rules; j++)
			if (!strcmp(k->str, rules[j].name))
				break;
		if (j < n_rules) {
			rules[j].fn(p, k, map->pairs[i].value, path);
			free(path);
			continue;
		}
		for (j = 0; j < n_foreign; j++)
			if (!strcmp(k->str, foreign[j].name))
				break;
		if (j < n_foreign && foreign[j].warn)
			schema_warn(&p->sc, k, path, "'%s' is ignored: %s", k->str, foreign[j].msg);
		else if (j < n_foreign)
			schema_report(&p->sc, k, path, "'%s' is not supported by frugal; %s",
				      k->str, foreign[j].msg);
		else
			schema_unknown_key(&p->sc, k, path, names, n_rules < 32 ? n_rules : 32);
		free(path);
	}
}

#define WALK(p, map, prefix, rules, foreign) \
	walk_map(p, map, prefix, rules, sizeof(rules) / sizeof(rules[0]), \
		 foreign, sizeof(foreign) / sizeof(foreign[0]))
#define WALK_PLAIN(p, map, prefix, rules) \
	walk_map(p, map, prefix, rules, sizeof(rules) / sizeof(rules[0]), NULL, 0)

/* ---- top-level scalars --------------------------------------------------- */

/* A job name: letters, digits, '.', '_' and '-', starting and ending with
 * a letter or digit, at most NAME_MAX_LEN characters. */
int task_name_valid(const char *s)
{
	size_t len = strlen(s), i;

	if (!len || len > NAME_MAX_LEN || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* name: a SkyPilot-style job name. */
static void key_name(struct parser *p, const struct ynode *k, const struct ynode *v,
		     const char *path)
{
	const char *what = "a name of letters, digits, '.', '_' and '-' that starts and "
			   "ends with a letter or digit (at most 64 characters)";

	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SCALAR || !task_name_valid(v->str)) {
		schema_expected(&p->sc, v, path, what);
		return;
	}
	free(p->t->name);
	p->t->name = xstrdup(v->str);
}

static void key_git_url(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	schema_text(&p->sc, v, path, "a git repository URL");
}

static void key_git_ref(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	if (!ynode_is_null(v))
		schema_text(&p->sc, v, path, "a branch, tag or commit");
}

static const struct key_rule workdir_git_rules[] = {
	{ "url", key_git_url }, { "ref", key_git_ref },
};

/*
 * workdir: {url, ref}: SkyPilot clones the repository (at ref) as the
 * work dir on the machine. Read, and refused for now: frugal would have
 * to clone it on the machine with the user's git credentials.
 */
static void key_workdir_git(struct parser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	size_t before = p->sc.diags->n;
	size_t i;
	int has_url = 0;

	WALK_PLAIN(p, v, path, workdir_git_rules);
	for (i = 0; i < v->n_pairs; i++)
		has_url |= !strcmp(v->pairs[i].key->str, "url");
	if (!has_url)
		schema_report(&p->sc, v, path, "missing 'url': the git repository to clone");
	if (p->sc.diags->n == before)
		schema_report(&p->sc, v, path, "a git repository as workdir is not supported yet; "
			      "clone it here and give its path as workdir, or clone it in 'setup'");
}

/* workdir: resolved against the current directory (as SkyPilot does);
 * must exist. */
static void key_workdir(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	char *dir = NULL, *joined = NULL, *cwd = NULL, *real = NULL;
	const char *home = getenv("HOME");

	if (v->type == YNODE_MAP) {
		key_workdir_git(p, k, v, path);
		return;
	}
	if (schema_string(&p->sc, v, path, "a directory path",
			  &dir) < 0 || !dir)
		goto out;
	if ((dir[0] == '~' && (dir[1] == '/' || !dir[1])) && home)
		joined = xasprintf("%s%s", home, dir + 1);
	else if (dir[0] == '/')
		joined = xstrdup(dir);
	else if (p->base_dir)
		joined = fs_path_join(p->base_dir, dir);
	else if ((cwd = getcwd(NULL, 0)))
		joined = fs_path_join(cwd, dir);
	else
		joined = xstrdup(dir);
	real = fs_realpath(joined, NULL);
	if (!real) {
		if (strcmp(dir, joined))
			schema_report(&p->sc, v, path, "directory '%s' does not exist (looked for '%s')",
				      dir, joined);
		else
			schema_report(&p->sc, v, path, "directory '%s' does not exist", dir);
		goto out;
	}
	if (!fs_is_dir(real)) {
		schema_report(&p->sc, v, path, "'%s' is not a directory", dir);
		goto out;
	}
	free(p->t->workdir);
	p->t->workdir = TAKE_PTR(real);
out:
	free(real);
	free(cwd);
	free(joined);
	free(dir);
}

/* setup: shell commands run before run (may be empty). */
static void key_setup(struct parser *p, const struct ynode *k, const struct ynode *v,
		      const char *path)
{
	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SCALAR) {
		schema_expected(&p->sc, v, path, "a string of shell commands");
		return;
	}
	free(p->t->setup);
	p->t->setup = xstrdup(v->str);
}

/* run: the shell commands of the job. Optional (a setup-only task, as
 * SkyPilot allows); blank is the same as absent. */
static void key_run(struct parser *p, const struct ynode *k, const struct ynode *v,
		    const char *path)
{
	const char *s;

	p->run_node = v;
	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SCALAR) {
		schema_expected(&p->sc, v, path, "a string of shell commands");
		return;
	}
	for (s = v->str; *s && isspace((unsigned char)*s); s++)
		;
	if (!*s)
		return;		/* blank: no run, as SkyPilot reads it */
	free(p->t->run);
	p->t->run = xstrdup(v->str);
}

/* num_nodes: the machines of one attempt, 1 to TASK_NODES_MAX (whether
 * the backend can place them together is the plan's question). */
static void key_num_nodes(struct parser *p, const struct ynode *k, const struct ynode *v,
			  const char *path)
{
	long long n;

	if (schema_int(&p->sc, v, path, 1, 100000, "a positive integer", &n) < 0)
		return;
	if (n > TASK_NODES_MAX) {
		schema_report(&p->sc, v, path, "at most %d nodes per job (num_nodes: %lld); "
			      "ask for fewer, larger machines", TASK_NODES_MAX, n);
		return;
	}
	p->t->num_nodes = (int)n;
}

/* budget: USD for the job or the sweep. */
static void key_budget(struct parser *p, const struct ynode *k, const struct ynode *v,
		       const char *path)
{
	schema_number(&p->sc, v, path, 1, "a positive amount of US dollars", &p->t->budget);
}

/* backend: pin the job to one backend. */
static void key_backend(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	const char *names[MAX_BACKENDS];
	size_t n = known_backends(names);
	int i;

	if (ynode_is_null(v))
		return;
	i = schema_choice(&p->sc, v, path, names, n, 0);
	if (i < 0)
		return;
	p->backend_node = v;
	free(p->t->backend);
	p->t->backend = xstrdup(names[i]);
}

/* ---- resources ------------------------------------------------------------ */

/* 1 when s is an accelerator name: a letter, then letters, digits, '-',
 * '_', '.', '+'. */
static int is_accel_name(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.+", *s))
			return 0;
	return 1;
}

/* Append one accelerator to the resources. */
static void add_accel(struct resources *r, const char *name, size_t name_len, int count)
{
	r->accels = xrealloc(r->accels, (r->n_accels + 1) * sizeof(*r->accels));
	r->accels[r->n_accels].name = xstrndup(name, name_len);
	r->accels[r->n_accels].count = count;
	r->n_accels++;
}

/* "A100" or "A100:2" at v into r; -1 after a diagnostic. */
static int accel_from_text(struct parser *p, const struct ynode *v, const char *path,
			   struct resources *r)
{
	const char *what = "an accelerator such as 'A100' or 'A100:2'";
	char buf[128], *colon;
	const char *s;
	long long count = 1;

	if (v->type != YNODE_SCALAR || ynode_is_null(v) ||
	    !(s = schema_trim(v->str, buf, sizeof(buf)))) {
		schema_expected(&p->sc, v, path, what);
		return -1;
	}
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (schema_parse_int(colon + 1, &count) < 0 || count < 1 || count > ACCEL_MAX_COUNT) {
			schema_report(&p->sc, v, path, "expected a whole number of accelerators from 1 to %d "
			       "after ':', got '%s'", ACCEL_MAX_COUNT, colon + 1);
			return -1;
		}
	}
	if (!is_accel_name(buf)) {
		schema_expected(&p->sc, v, path, what);
		return -1;
	}
	add_accel(r, buf, strlen(buf), (int)count);
	return 0;
}

/* {A100: 1, H100: 2}: any of these. */
static void accels_from_map(struct parser *p, const struct ynode *v, const char *path,
			    struct resources *r)
{
	size_t i;

	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *k = v->pairs[i].key, *c = v->pairs[i].value;
		char *sub = schema_join_path(path, k->str);
		long long count = 1;

		if (strchr(k->str, ':') && ynode_is_null(c)) {
			/* {A100:1, H100:1} and {'A100:1'}: YAML reads "A100:1" as a
			 * key without a value; SkyPilot means "A100", count 1. */
			accel_from_text(p, k, sub, r);
		} else if (!is_accel_name(k->str))
			schema_expected(&p->sc, k, sub, "an accelerator name such as 'A100' "
					"(or NAME:COUNT)");
		else if (ynode_is_null(c) ||
			 schema_int(&p->sc, c, sub, 1, ACCEL_MAX_COUNT, "a positive number of accelerators",
				 &count) == 0)
			add_accel(r, k->str, strlen(k->str), (int)count);
		free(sub);
	}
}

/* [A100:1, H100:2]: in this order of preference. */
static void accels_from_list(struct parser *p, const struct ynode *v, const char *path,
			     struct resources *r)
{
	size_t i, j;

	for (i = 0; i < v->n_items; i++) {
		char *sub = xasprintf("%s[%zu]", path, i);
		size_t before = r->n_accels;

		if (accel_from_text(p, v->items[i], sub, r) == 0) {
			for (j = 0; j < before; j++) {
				if (!strcasecmp(r->accels[j].name, r->accels[before].name)) {
					schema_report(&p->sc, v->items[i], sub, "accelerator '%s' is listed twice",
					       r->accels[before].name);
					break;
				}
			}
		}
		free(sub);
	}
}

/* resources.accelerators: "A100:1", {A100: 1, H100: 1} or [A100:1, H100:1]. */
static void key_accelerators(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	struct resources *r = &p->t->res;
	size_t i;

	for (i = 0; i < r->n_accels; i++)
		free(r->accels[i].name);
	free(r->accels);
	r->accels = NULL;
	r->n_accels = 0;
	r->accel_mode = ACCEL_NONE;
	if (ynode_is_null(v))
		return;
	if (v->type == YNODE_SCALAR) {
		if (accel_from_text(p, v, path, r) == 0)
			r->accel_mode = ACCEL_ONE;
		return;
	}
	if ((v->type == YNODE_MAP && !v->n_pairs) || (v->type == YNODE_SEQ && !v->n_items)) {
		schema_report(&p->sc, v, path, "expected at least one accelerator, got an empty %s",
		       v->type == YNODE_MAP ? "mapping" : "list");
		return;
	}
	if (v->n_pairs > ACCEL_MAX_CHOICES || v->n_items > ACCEL_MAX_CHOICES) {
		schema_report(&p->sc, v, path, "expected at most %d accelerator choices",
			      ACCEL_MAX_CHOICES);
		return;
	}
	if (v->type == YNODE_MAP) {
		accels_from_map(p, v, path, r);
		r->accel_mode = ACCEL_ANY_OF;
	} else {
		accels_from_list(p, v, path, r);
		r->accel_mode = ACCEL_ORDERED;
	}
	if (r->n_accels == 1)
		r->accel_mode = ACCEL_ONE;
	else if (r->n_accels == 0)
		r->accel_mode = ACCEL_NONE;
}

/*
 * A size with SkyPilot's units, in GiB: "64", "64GB", "1024MB", "1TB"
 * (KB, MB, GB, TB, PB, or K, M, G, T, P: powers of 1024, in any case; no
 * unit is GB). 0 or -1.
 */
static int parse_size_gib(const char *s, double *ret)
{
	static const struct {
		const char *unit;
		double gib;
	} units[] = {
		{ "kb", 1.0 / (1024 * 1024) }, { "k", 1.0 / (1024 * 1024) },
		{ "mb", 1.0 / 1024 }, { "m", 1.0 / 1024 }, { "gb", 1 }, { "g", 1 },
		{ "tb", 1024 }, { "t", 1024 }, { "pb", 1024.0 * 1024 }, { "p", 1024.0 * 1024 },
	};
	char num[64];
	size_t len = strlen(s), n = len, i;
	double x, mult = 1;

	while (n && isalpha((unsigned char)s[n - 1]))
		n--;
	if (n == len) {
		mult = 1;
	} else {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcasecmp(s + n, units[i].unit))
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		mult = units[i].gib;
	}
	if (!n || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	if (schema_parse_number(num, &x) < 0 || x <= 0)
		return -1;
	*ret = x * mult;
	return 0;
}

/* "4", 4, "4+" (at least 4), and with units "64GB", "32GB+": a positive
 * amount and whether it is a floor. */
static void get_amount(struct parser *p, const struct ynode *v, const char *path,
		       int with_units, const char *what, double *ret, int *ret_at_least)
{
	char buf[64];
	const char *s;
	size_t len;
	int at_least = 0;
	double x;

	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SCALAR || !(s = schema_trim(v->str, buf, sizeof(buf))))
		goto bad;
	len = strlen(s);
	if (len && buf[len - 1] == '+') {
		buf[len - 1] = '\0';
		at_least = 1;
	}
	if (with_units ? parse_size_gib(buf, &x) < 0 : schema_parse_number(buf, &x) < 0)
		goto bad;
	if (x <= 0 || x > 1e9)
		goto bad;
	*ret = x;
	*ret_at_least = at_least;
	return;
bad:
	schema_expected(&p->sc, v, path, what);
}

/* resources.cpus: 4 (exactly) or 4+. */
static void key_cpus(struct parser *p, const struct ynode *k, const struct ynode *v,
		     const char *path)
{
	get_amount(p, v, path, 0, "a positive number of CPUs, with '+' for 'at least' (4 or 4+)",
		   &p->t->res.cpus, &p->t->res.cpus_at_least);
}

/* resources.memory: GiB, 32 or 32+, or with a unit (64GB, 1TB+). */
static void key_memory(struct parser *p, const struct ynode *k, const struct ynode *v,
		       const char *path)
{
	get_amount(p, v, path, 1, "a positive number of GiB, with '+' for 'at least' (32 or 32+; "
		   "units such as 64GB allowed)", &p->t->res.memory, &p->t->res.memory_at_least);
}

/* resources.use_spot: remembered; resolved with spot_policy in check_resources. */
static void key_use_spot(struct parser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	if (ynode_is_null(v))
		return;
	if (schema_bool(&p->sc, v, path, &p->use_spot) == 0)
		p->use_spot_node = v;
}

static const char *const spot_policy_names[] = { "on-demand", "spot", "auto" };

/* resources.spot_policy: spot, on-demand or auto. */
static void key_spot_policy(struct parser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	int i;

	if (ynode_is_null(v))
		return;
	p->spot_policy_node = v;
	i = schema_choice(&p->sc, v, path, spot_policy_names, 3, 0);
	if (i < 0)
		return;
	p->spot_policy_ok = 1;
	p->spot_policy = i == 0 ? SPOT_ON_DEMAND : i == 1 ? SPOT_SPOT : SPOT_AUTO;
}

/* A backend name or alias, in any case, at v in canonical form
 * (config_backend_lookup), or NULL after a diagnostic. */
static const char *cloud_name(struct parser *p, const struct ynode *v, const char *text,
			      const char *path)
{
	const char *names[MAX_BACKENDS];
	size_t n, i;
	const char *canon = config_backend_lookup(text);

	if (canon)
		return canon;
	n = known_backends(names);
	{
		const char *near = suggest_nearest(text, names, n);
		struct strbuf sb = STRBUF_INIT;

		for (i = 0; i < n; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", names[i]);
		if (near)
			schema_report(&p->sc, v, path, "unknown cloud '%s': expected one of %s; "
				      "did you mean '%s'?", text, sb.buf, near);
		else
			schema_report(&p->sc, v, path, "unknown cloud '%s': expected one of %s",
				      text, sb.buf);
		strbuf_release(&sb);
	}
	return NULL;
}

/* resources.cloud: a known backend name. */
static void key_cloud(struct parser *p, const struct ynode *k, const struct ynode *v,
		      const char *path)
{
	const char *s, *c;

	if (ynode_is_null(v))
		return;
	p->cloud_node = v;
	s = schema_text(&p->sc, v, path, "a cloud name such as aws");
	if (!s || !(c = cloud_name(p, v, s, path)))
		return;
	free(p->t->res.cloud);
	p->t->res.cloud = xstrdup(c);
}

/* resources.region */
static void key_region(struct parser *p, const struct ynode *k, const struct ynode *v,
		       const char *path)
{
	if (ynode_is_null(v))
		return;
	p->region_node = v;
	schema_string(&p->sc, v, path, "a region name such as us-east-1", &p->t->res.region);
}

/* resources.zone */
static void key_zone(struct parser *p, const struct ynode *k, const struct ynode *v,
		     const char *path)
{
	if (ynode_is_null(v))
		return;
	p->zone_node = v;
	schema_string(&p->sc, v, path, "a zone name such as us-east-1a", &p->t->res.zone);
}

/*
 * infra: CLOUD[/REGION[/ZONE]], where '*' in any part means "any"
 * ("CLOUD/STAR/ZONE" with STAR a '*': any region), and CLOUD/CONTEXT for a
 * backend whose regions are contexts that may hold '/'
 * (config_backend_region_is_context): all of it is kept as the region.
 */
static void key_infra(struct parser *p, const struct ynode *k, const struct ynode *v,
		      const char *path)
{
	const char *what = "CLOUD, CLOUD/REGION or CLOUD/REGION/ZONE ('*' for any part)";
	struct resources *r = &p->t->res;
	char *parts[3] = { NULL, NULL, NULL };
	const char *s, *slash, *cloud = NULL;
	size_t n = 0, i;

	if (ynode_is_null(v))
		return;
	p->infra_node = v;
	s = schema_text(&p->sc, v, path, what);
	if (!s)
		return;
	slash = strchr(s, '/');
	if (slash && config_backend_region_is_context(s, (size_t)(slash - s))) {
		parts[n++] = xstrndup(s, (size_t)(slash - s));
		parts[n++] = xstrdup(slash + 1);
	} else {
		while (n < 3) {
			slash = strchr(s, '/');
			parts[n++] = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
			if (!slash)
				break;
			s = slash + 1;
			if (n == 3)
				goto bad;	/* a fourth part */
		}
	}
	for (i = 0; i < n; i++)
		if (!*parts[i])
			goto bad;
	if (strcmp(parts[0], "*") && !(cloud = cloud_name(p, v, parts[0], path)))
		goto out;
	free(r->cloud);
	r->cloud = cloud ? xstrdup(cloud) : NULL;
	if (n > 1 && strcmp(parts[1], "*")) {
		free(r->region);
		r->region = TAKE_PTR(parts[1]);
	}
	if (n > 2 && strcmp(parts[2], "*")) {
		free(r->zone);
		r->zone = TAKE_PTR(parts[2]);
	}
	goto out;
bad:
	schema_expected(&p->sc, v, path, what);
out:
	for (i = 0; i < 3; i++)
		free(parts[i]);
}

/* resources.disk_size (and SkyPilot's older ephemeral_storage): GiB, or
 * with a unit (256GB, 1TB), rounded down to whole GiB as SkyPilot does. */
static void key_disk_size(struct parser *p, const struct ynode *k, const struct ynode *v,
			  const char *path)
{
	const char *what = "a positive integer (GiB)";
	char buf[64];
	const char *s;
	long long n;
	double x;

	if (ynode_is_null(v))
		return;
	if (v->type == YNODE_SCALAR && (s = schema_trim(v->str, buf, sizeof(buf))) &&
	    schema_parse_int(s, &n) < 0 && isalpha((unsigned char)s[strlen(s) ? strlen(s) - 1 : 0])) {
		if (parse_size_gib(s, &x) < 0 || x < 1 || x > 65536) {
			schema_report(&p->sc, v, path, "expected a size from 1GB to 64TB such as "
				      "256GB, got '%s'", s);
			return;
		}
		p->t->res.disk_size = (int)x;
		return;
	}
	if (schema_int(&p->sc, v, path, 1, 65536, what, &n) == 0)
		p->t->res.disk_size = (int)n;
}

/* resources.max_price (and SkyPilot's max_hourly_cost): USD per hour. */
static void key_max_price(struct parser *p, const struct ynode *k, const struct ynode *v,
			  const char *path)
{
	if (ynode_is_null(v))
		return;
	if (p->max_price_node) {
		schema_report(&p->sc, k, path, "give max_price or max_hourly_cost, not both");
		return;
	}
	p->max_price_node = v;
	schema_number(&p->sc, v, path, 1, "a positive price in US dollars per hour", &p->t->res.max_price);
}

/* Set the image of r: "docker:IMAGE" is a container image, anything
 * else a machine image id. */
static void set_image(struct resources *r, const char *s)
{
	free(r->image_id);
	r->image_docker = !strncmp(s, "docker:", 7);
	r->image_id = xstrdup(r->image_docker ? s + 7 : s);
}

/*
 * resources.image_id: an image id, docker:IMAGE, or SkyPilot's per-region
 * mapping {us-east-1: ami-1, us-west-2: ami-2} (only those regions may be
 * used). A mapping of one region pins that region; with several regions
 * the task must pin one of them (region: or infra:).
 */
static void key_image_id(struct parser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	const char *what = "an image id string, docker:IMAGE, or a mapping REGION: IMAGE";
	size_t i;

	if (ynode_is_null(v))
		return;
	if (v->type == YNODE_SCALAR) {
		const char *s = schema_text(&p->sc, v, path, what);

		if (!s)
			return;
		if (!*s || !strcmp(s, "docker:")) {
			schema_expected(&p->sc, v, path, what);
			return;
		}
		set_image(&p->t->res, s);
		return;
	}
	if (v->type != YNODE_MAP || !v->n_pairs) {
		schema_expected(&p->sc, v, path, what);
		return;
	}
	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *val = v->pairs[i].value;
		char *sub = schema_join_path(path, v->pairs[i].key->str);

		if (val->type != YNODE_SCALAR || ynode_is_null(val) || !*val->str)
			schema_expected(&p->sc, val, sub, "an image id string");
		free(sub);
	}
	p->image_map_node = v;	/* resolved against the region in check_resources */
}

/* The image of a per-region image_id mapping for the task's region. */
static void check_image_map(struct parser *p)
{
	const struct ynode *m = p->image_map_node;
	struct resources *r = &p->t->res;
	size_t i;

	if (!m)
		return;
	if (!r->region && m->n_pairs == 1) {
		r->region = xstrdup(m->pairs[0].key->str);
		set_image(r, m->pairs[0].value->str);
		return;
	}
	if (!r->region) {
		schema_report(&p->sc, m, "resources.image_id", "an image per region with %zu regions "
			      "is not supported yet; pin one of them with region: (or infra: "
			      "CLOUD/REGION)", m->n_pairs);
		return;
	}
	for (i = 0; i < m->n_pairs; i++) {
		if (!strcmp(m->pairs[i].key->str, r->region)) {
			if (m->pairs[i].value->type == YNODE_SCALAR && m->pairs[i].value->str)
				set_image(r, m->pairs[i].value->str);
			return;
		}
	}
	schema_report(&p->sc, m, "resources.image_id", "no image for region '%s': the mapping "
		      "names the regions the task may use", r->region);
}

/* resources.instance_type */
static void key_instance_type(struct parser *p, const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	schema_string(&p->sc, v, path, "an instance type such as p4d.24xlarge", &p->t->res.instance_type);
}

/* One port "8080" / 8080 or range "10022-10040" at v into r; -1 after a
 * diagnostic. */
static int port_from_node(struct parser *p, const struct ynode *v, const char *path,
			  struct resources *r)
{
	const char *what = "a port from 1 to 65535 or a range such as 10022-10040";
	char buf[32], *dash;
	long long from, to;
	const char *s;

	if (v->type != YNODE_SCALAR || ynode_is_null(v) ||
	    !(s = schema_trim(v->str, buf, sizeof(buf)))) {
		schema_expected(&p->sc, v, path, what);
		return -1;
	}
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (schema_parse_int(buf, &from) < 0 || (dash && schema_parse_int(dash + 1, &to) < 0)) {
		if (dash)
			*dash = '-';
		schema_expected(&p->sc, v, path, what);
		return -1;
	}
	if (!dash)
		to = from;
	if (from < 1 || to > 65535 || from > to) {
		schema_report(&p->sc, v, path, "expected ports from 1 to 65535 (a range low-high), "
			      "got '%s'", v->str);
		return -1;
	}
	r->ports = xrealloc(r->ports, (r->n_ports + 1) * sizeof(*r->ports));
	r->ports[r->n_ports].from = (int)from;
	r->ports[r->n_ports].to = (int)to;
	r->n_ports++;
	return 0;
}

/* resources.ports: 8080, "10022-10040", or a list of them. Recorded for
 * every backend; opened where the job runs (see task_check_backend). */
static void key_ports(struct parser *p, const struct ynode *k, const struct ynode *v,
		      const char *path)
{
	struct resources *r = &p->t->res;
	size_t i;

	free(r->ports);
	r->ports = NULL;
	r->n_ports = 0;
	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SEQ) {
		port_from_node(p, v, path, r);
		return;
	}
	if (v->n_items > 1024) {
		schema_report(&p->sc, v, path, "expected at most 1024 ports or ranges");
		return;
	}
	for (i = 0; i < v->n_items; i++) {
		char *sub = xasprintf("%s[%zu]", path, i);

		port_from_node(p, v->items[i], sub, r);
		free(sub);
	}
}

/*
 * resources.job_recovery (and the older spot_recovery): SkyPilot's
 * managed-job recovery. A strategy (FAILOVER, EAGER_NEXT_REGION: frugal
 * brings a preempted job back on the best offer, which is what both mean
 * here; none: a warning, frugal always brings it back), or a mapping
 * {strategy, max_restarts_on_errors, recover_on_exit_codes}: the last two
 * are frugal's recovery keys of the same name.
 */
static void key_strategy(struct parser *p, const struct ynode *v, const char *path)
{
	static const char *const names[] = { "FAILOVER", "EAGER_NEXT_REGION", "none" };
	int i;

	if (ynode_is_null(v))
		return;
	i = schema_choice(&p->sc, v, path, names, 3, 1);
	if (i == 2)
		schema_warn(&p->sc, v, path, "'none' is ignored: frugal always brings a preempted "
			    "job back (sky launch does not read job_recovery)");
}

static void key_jr_strategy(struct parser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	key_strategy(p, v, path);
}

static void key_max_restarts(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path);
static void key_exit_codes(struct parser *p, const struct ynode *k, const struct ynode *v,
			   const char *path);

static void key_jr_max_restarts(struct parser *p, const struct ynode *k,
				const struct ynode *v, const char *path)
{
	p->jr_max_restarts_node = v;
	key_max_restarts(p, k, v, path);
}

static void key_jr_exit_codes(struct parser *p, const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	p->jr_exit_codes_node = v;
	key_exit_codes(p, k, v, path);
}

static const struct key_rule job_recovery_rules[] = {
	{ "strategy", key_jr_strategy }, { "max_restarts_on_errors", key_jr_max_restarts },
	{ "recover_on_exit_codes", key_jr_exit_codes },
};

static void key_job_recovery(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	if (ynode_is_null(v))
		return;
	if (p->job_recovery_node) {
		schema_report(&p->sc, k, path, "give job_recovery or spot_recovery, not both");
		return;
	}
	p->job_recovery_node = v;
	if (v->type == YNODE_SCALAR) {
		key_strategy(p, v, path);
		return;
	}
	if (schema_want_map(&p->sc, v, path, "a strategy (FAILOVER, EAGER_NEXT_REGION) or a "
			    "mapping {strategy, max_restarts_on_errors, recover_on_exit_codes}") <= 0)
		return;
	WALK_PLAIN(p, v, path, job_recovery_rules);
}

/* resources.autostop: frugal ends the machine when the job ends, which
 * is what autostop is for; a hook (commands run before the stop) would
 * not run, so it is refused. */
static void key_autostop(struct parser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	size_t i;

	if (v->type == YNODE_MAP) {
		for (i = 0; i < v->n_pairs; i++) {
			const char *name = v->pairs[i].key->str;

			if (!strcmp(name, "hook") || !strcmp(name, "hook_timeout")) {
				char *sub = schema_join_path(path, name);

				schema_report(&p->sc, v->pairs[i].key, sub, "autostop hooks are not "
					      "run by frugal; put the commands at the end of 'run'");
				free(sub);
				return;
			}
		}
	}
	schema_warn(&p->sc, k, path, "'autostop' is ignored: frugal ends the machine as soon as "
		    "the job ends (for a limit use stop: {max_runtime: 2h})");
}

/* resources.network_tier: 'standard' is what every backend gives. */
static void key_network_tier(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	static const char *const names[] = { "standard", "best" };
	int i;

	if (ynode_is_null(v))
		return;
	i = schema_choice(&p->sc, v, path, names, 2, 1);
	if (i == 1)
		schema_report(&p->sc, v, path, "network_tier 'best' (GPUDirect, InfiniBand) is not "
			      "supported yet; remove it for the standard network");
}

/* resources.priority: only SkyPilot's managed-job queue reads it. */
static void key_priority(struct parser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	long long n;

	if (ynode_is_null(v) || schema_int(&p->sc, v, path, 0, 1000, "an integer from 0 to 1000", &n) < 0)
		return;
	schema_warn(&p->sc, k, path, "'priority' is ignored: frugal starts each job as soon as "
		    "it has an offer (sky launch does not read it either)");
}

/* resources.any_of / resources.ordered: remembered; see check_candidates. */
static void key_any_of(struct parser *p, const struct ynode *k, const struct ynode *v,
		       const char *path)
{
	if (p->in_candidate) {
		schema_report(&p->sc, k, path, "'%s' cannot be nested in a candidate", k->str);
		return;
	}
	if (p->candidates_node) {
		schema_report(&p->sc, k, path, "give any_of or ordered, not both");
		return;
	}
	p->candidates_key = k;
	p->candidates_node = v;
}

static const struct key_rule resources_rules[] = {
	{ "accelerators", key_accelerators }, { "cpus", key_cpus },
	{ "memory", key_memory }, { "use_spot", key_use_spot },
	{ "spot_policy", key_spot_policy }, { "cloud", key_cloud },
	{ "infra", key_infra }, { "region", key_region }, { "zone", key_zone },
	{ "disk_size", key_disk_size }, { "ephemeral_storage", key_disk_size },
	{ "max_price", key_max_price }, { "max_hourly_cost", key_max_price },
	{ "image_id", key_image_id }, { "instance_type", key_instance_type },
	{ "ports", key_ports }, { "job_recovery", key_job_recovery },
	{ "spot_recovery", key_job_recovery }, { "autostop", key_autostop },
	{ "network_tier", key_network_tier }, { "priority", key_priority },
	{ "any_of", key_any_of }, { "ordered", key_any_of },
};

static const struct foreign_key resources_foreign[] = {
	{ "labels", 0, "instance labels and tags are not applied yet; remove it" },
	{ "disk_tier", 0, "disk tiers are not chosen yet; remove it for the provider's default disk" },
	{ "accelerator_args", 0, "it is for TPUs, which frugal does not offer; remove it" },
	{ "local_disk", 0, "local disks are not chosen yet; remove it" },
	{ "priority_class", 0, "pod priority classes are not set yet; remove it" },
	{ "volumes", 0, "volumes go at the top level of the task (volumes: {/data: VOLUME}), "
			"not under resources" },
	{ "_no_missing_accel_warnings", 1, "it only silences SkyPilot warnings" },
	{ "_cluster_config_overrides", 0, "SkyPilot cluster templates do not apply; remove it" },
	{ "_docker_login_config", 0, "it is set by SkyPilot itself; remove it" },
	{ "_is_image_managed", 0, "it is set by SkyPilot itself; remove it" },
	{ "_requires_fuse", 0, "it is set by SkyPilot itself; remove it" },
};

/* Checks across the keys of resources, once they are all read. */
static void check_resources(struct parser *p)
{
	struct resources *r = &p->t->res;

	if (p->use_spot_node)
		r->spot = p->use_spot ? SPOT_SPOT : SPOT_ON_DEMAND;
	if (p->spot_policy_ok) {
		if (p->use_spot_node && r->spot != p->spot_policy)
			schema_report(&p->sc, p->spot_policy_node, "resources.spot_policy",
			       "spot_policy '%s' conflicts with use_spot: %s; give only one of them",
			       spot_policy_names[p->spot_policy == SPOT_ON_DEMAND ? 0 :
						 p->spot_policy == SPOT_SPOT ? 1 : 2],
			       p->use_spot ? "true" : "false");
		r->spot = p->spot_policy;
	}
	if (p->infra_node && (p->cloud_node || p->region_node || p->zone_node))
		schema_report(&p->sc, p->infra_node, "resources.infra",
		       "give either infra or cloud/region/zone, not both");
	check_image_map(p);
}

/* What one resources mapping (the section, or one candidate of any_of /
 * ordered) set, besides the values in its struct resources. */
struct res_seen {
	int spot;	/* use_spot or spot_policy given */
	const struct ynode *infra, *cloud, *region, *zone, *max_price, *image_map;
};

static void res_seen_take(struct parser *p, struct res_seen *ret)
{
	ret->spot = p->use_spot_node || p->spot_policy_ok;
	ret->infra = p->infra_node;
	ret->cloud = p->cloud_node;
	ret->region = p->region_node;
	ret->zone = p->zone_node;
	ret->max_price = p->max_price_node;
	ret->image_map = p->image_map_node;
	p->use_spot_node = p->spot_policy_node = NULL;
	p->spot_policy_ok = 0;
	p->infra_node = p->cloud_node = p->region_node = p->zone_node = NULL;
	p->max_price_node = p->image_map_node = NULL;
}

static void res_seen_restore(struct parser *p, const struct res_seen *s)
{
	p->infra_node = s->infra;
	p->cloud_node = s->cloud;
	p->region_node = s->region;
	p->zone_node = s->zone;
	p->max_price_node = s->max_price;
	p->image_map_node = s->image_map;
}

static int str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Fill candidate c with outer's value of every field it did not set. */
static void candidate_inherit(struct resources *c, const struct resources *outer)
{
	if (!c->cpus) {
		c->cpus = outer->cpus;
		c->cpus_at_least = outer->cpus_at_least;
	}
	if (!c->memory) {
		c->memory = outer->memory;
		c->memory_at_least = outer->memory_at_least;
	}
#define INHERIT_STR(f) do { if (!c->f && outer->f) c->f = xstrdup(outer->f); } while (0)
	INHERIT_STR(cloud);
	INHERIT_STR(region);
	INHERIT_STR(zone);
	INHERIT_STR(instance_type);
	if (!c->image_id && outer->image_id) {
		c->image_id = xstrdup(outer->image_id);
		c->image_docker = outer->image_docker;
	}
#undef INHERIT_STR
	if (!c->disk_size)
		c->disk_size = outer->disk_size;
	if (!c->max_price)
		c->max_price = outer->max_price;
	if (!c->n_ports && outer->n_ports) {
		c->ports = xmalloc(outer->n_ports * sizeof(*c->ports));
		memcpy(c->ports, outer->ports, outer->n_ports * sizeof(*c->ports));
		c->n_ports = outer->n_ports;
	}
	if (!c->n_accels && outer->n_accels) {
		size_t i;

		c->accel_mode = outer->accel_mode;
		for (i = 0; i < outer->n_accels; i++)
			add_accel(c, outer->accels[i].name, strlen(outer->accels[i].name),
				  outer->accels[i].count);
	}
}

/* The first field other than accelerators and the spot policy in which a
 * and b differ, or NULL. */
static const char *candidate_differs(const struct resources *a, const struct resources *b)
{
	if (a->cpus != b->cpus || a->cpus_at_least != b->cpus_at_least)
		return "cpus";
	if (a->memory != b->memory || a->memory_at_least != b->memory_at_least)
		return "memory";
	if (!str_eq(a->cloud, b->cloud) || !str_eq(a->region, b->region) || !str_eq(a->zone, b->zone))
		return "infra";
	if (!str_eq(a->instance_type, b->instance_type))
		return "instance_type";
	if (!str_eq(a->image_id, b->image_id) || a->image_docker != b->image_docker)
		return "image_id";
	if (a->disk_size != b->disk_size)
		return "disk_size";
	if (a->max_price != b->max_price)
		return "max_price";
	if (a->n_ports != b->n_ports ||
	    (a->n_ports && memcmp(a->ports, b->ports, a->n_ports * sizeof(*a->ports))))
		return "ports";
	return NULL;
}

/* 1 when a and b ask for the same accelerators. */
static int accels_equal(const struct resources *a, const struct resources *b)
{
	size_t i;

	if (a->accel_mode != b->accel_mode || a->n_accels != b->n_accels)
		return 0;
	for (i = 0; i < a->n_accels; i++)
		if (strcasecmp(a->accels[i].name, b->accels[i].name) ||
		    a->accels[i].count != b->accels[i].count)
			return 0;
	return 1;
}

static void resources_release(struct resources *r)
{
	size_t i;

	for (i = 0; i < r->n_accels; i++)
		free(r->accels[i].name);
	free(r->accels);
	free(r->cloud);
	free(r->region);
	free(r->zone);
	free(r->image_id);
	free(r->instance_type);
	free(r->ports);
	memset(r, 0, sizeof(*r));
}

/*
 * resources.any_of / resources.ordered: candidate resources, each a
 * resources mapping over the section's values. frugal plans one set of
 * resources with a choice of accelerators and a spot policy, so the
 * candidates may differ in their accelerator (one each: the choices of
 * accelerators, any of them or in this order) or in use_spot (spot and
 * on-demand: spot_policy auto), not in anything else yet.
 */
static void check_candidates(struct parser *p, const struct ynode *v, const char *key)
{
	struct resources *outer = &p->t->res, *c;
	struct task *saved_t = p->t;
	struct res_seen outer_seen;
	int ordered = !strcmp(key, "ordered"), *spot_set, vary_accel = 0, vary_spot = 0;
	char path[32];
	size_t i, n;

	snprintf(path, sizeof(path), "resources.%s", key);
	if (ynode_is_null(v))
		return;
	if (v->type != YNODE_SEQ || !v->n_items) {
		schema_expected(&p->sc, v, path, "a non-empty list of resources mappings "
				"(such as - {accelerators: A100} or - {use_spot: true})");
		return;
	}
	if (v->n_items > ACCEL_MAX_CHOICES) {
		schema_report(&p->sc, v, path, "expected at most %d candidates", ACCEL_MAX_CHOICES);
		return;
	}
	n = v->n_items;
	c = xcalloc(n, sizeof(*c));
	spot_set = xcalloc(n, sizeof(*spot_set));
	res_seen_take(p, &outer_seen);
	p->in_candidate = 1;
	for (i = 0; i < n; i++) {
		struct task tt;
		struct res_seen seen;
		char *sub = xasprintf("%s[%zu]", path, i);

		if (schema_want_map(&p->sc, v->items[i], sub, "a resources mapping") > 0) {
			task_init(&tt);
			p->t = &tt;
			WALK(p, v->items[i], sub, resources_rules, resources_foreign);
			check_resources(p);
			p->t = saved_t;
			if (tt.res.n_accels > 1)
				schema_report(&p->sc, v->items[i], sub, "a candidate takes one "
					      "accelerator; write the choices as candidates");
			res_seen_take(p, &seen);
			spot_set[i] = seen.spot;
			c[i] = tt.res;
			memset(&tt.res, 0, sizeof(tt.res));
			task_release(&tt);
			if (!spot_set[i])
				c[i].spot = outer->spot;
			candidate_inherit(&c[i], outer);
		} else {
			candidate_inherit(&c[i], outer);
		}
		free(sub);
	}
	p->in_candidate = 0;
	res_seen_restore(p, &outer_seen);
	for (i = 1; i < n; i++) {
		const char *what = candidate_differs(&c[0], &c[i]);

		if (what) {
			schema_report(&p->sc, v->items[i], path, "candidates that differ in %s are not "
				      "supported yet; they may differ in accelerators or use_spot", what);
			goto out;
		}
		vary_accel |= !accels_equal(&c[0], &c[i]);
		vary_spot |= c[0].spot != c[i].spot;
	}
	if (vary_accel && vary_spot) {
		schema_report(&p->sc, v, path, "candidates that differ in both accelerators and "
			      "use_spot are not supported yet");
		goto out;
	}
	if (vary_spot && ordered && c[0].spot == SPOT_ON_DEMAND) {
		schema_report(&p->sc, v, path, "on-demand before spot is not supported yet; frugal "
			      "takes spot or on-demand by expected cost with spot_policy: auto");
		goto out;
	}
	if (vary_accel) {
		for (i = 0; i < n; i++) {
			if (c[i].n_accels != 1) {
				schema_report(&p->sc, v->items[i], path, "every candidate needs one "
					      "accelerator when the candidates differ in accelerators");
				goto out;
			}
		}
	}
	/* Everything agrees but the accelerators and the spot policy: take it. */
	{
		struct resources merged;
		struct accel *choices = NULL;
		size_t n_choices = 0, j;

		for (i = 0; vary_accel && i < n; i++) {
			for (j = 0; j < n_choices; j++)
				if (!strcasecmp(choices[j].name, c[i].accels[0].name) &&
				    choices[j].count == c[i].accels[0].count)
					break;
			if (j < n_choices)
				continue;	/* the same choice twice */
			choices = xrealloc(choices, (n_choices + 1) * sizeof(*choices));
			choices[n_choices].name = xstrdup(c[i].accels[0].name);
			choices[n_choices].count = c[i].accels[0].count;
			n_choices++;
		}
		merged = c[0];
		memset(&c[0], 0, sizeof(c[0]));
		if (vary_accel) {
			for (j = 0; j < merged.n_accels; j++)
				free(merged.accels[j].name);
			free(merged.accels);
			merged.accels = choices;
			merged.n_accels = n_choices;
			merged.accel_mode = n_choices == 1 ? ACCEL_ONE :
					    ordered ? ACCEL_ORDERED : ACCEL_ANY_OF;
		}
		if (vary_spot)
			merged.spot = SPOT_AUTO;
		resources_release(outer);
		*outer = merged;
	}
out:
	for (i = 0; i < n; i++)
		resources_release(&c[i]);
	free(c);
	free(spot_set);
}

/* resources: its keys, then the checks across them. */
static void key_resources(struct parser *p, const struct ynode *k, const struct ynode *v,
			  const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping of resource keys (accelerators, cpus, ...)") <= 0)
		return;
	WALK(p, v, path, resources_rules, resources_foreign);
	check_resources(p);
	if (p->candidates_node)
		check_candidates(p, p->candidates_node, p->candidates_key->str);
}

/* ---- envs, secrets, file_mounts --------------------------------------------- */

/*
 * A mapping of NAME: value into l (the loader has dropped repeated keys,
 * so each is new). Names must be environment variable
 * names when env_names. Null values are kept as NULL when null_ok.
 */
static void get_kv_map(struct parser *p, const struct ynode *v, const char *path,
		       struct kvlist *l, int env_names, int null_ok, const char *what)
{
	size_t i;

	if (schema_want_map(&p->sc, v, path, what) <= 0)
		return;
	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
		char *sub = schema_join_path(path, k->str);

		if (env_names && !schema_is_env_name(k->str)) {
			schema_expected(&p->sc, k, sub, "an environment variable name "
				 "(letters, digits and '_', not starting with a digit)");
		} else if (env_names && env_name_reserved(k->str, (size_t)-1)) {
			schema_report(&p->sc, k, sub, "'%s' is one of frugal's own variables ("
				      ENV_RESERVED_PREFIX "*: the job's identity, which teardown"
				      " relies on); frugal sets it, pick another name", k->str);
		} else if (!*k->str) {
			schema_expected(&p->sc, k, sub, "a non-empty key");
		} else if (ynode_is_null(val) && null_ok) {
			kvlist_append(l, k->str, NULL);
		} else if (val->type != YNODE_SCALAR || ynode_is_null(val)) {
			schema_expected(&p->sc, val, sub, null_ok ? "a string or null" : "a string");
		} else {
			kvlist_append(l, k->str, val->str);
		}
		free(sub);
	}
}

/* envs: NAME: value; a null value must come from --env at launch. */
static void key_envs(struct parser *p, const struct ynode *k, const struct ynode *v,
		     const char *path)
{
	get_kv_map(p, v, path, &p->t->envs, 1, 1, "a mapping of NAME: value");
}

/* secrets: NAME: null (from the launching environment) or NAME: literal. */
static void key_secrets(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	p->secrets_node = v;
	if (v->type == YNODE_SEQ) {
		schema_report(&p->sc, v, path, "a list of SkyPilot managed secret names is not "
			      "supported; give secrets: {NAME: null} (the value from your environment)");
		return;
	}
	get_kv_map(p, v, path, &p->t->secrets, 1, 1,
		   "a mapping of NAME: null (from your environment) or NAME: value");
}

/* volumes: MOUNT_PATH: a volume, a directory or a name (volume.h). */
static void key_volumes(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	volume_parse(&p->sc, v, path, p->base_dir, &p->t->volumes);
}

/* file_mounts: REMOTE: local path, bucket URL or storage object (mount.h). */
static void key_file_mounts(struct parser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	mount_parse(&p->sc, v, path, p->base_dir, &p->t->file_mounts);
}

/* ---- checkpoint, outputs, stop, recovery ------------------------------------ */

static void key_ckpt_dir(struct parser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	p->checkpoint_dir_node = v;
	if (ynode_is_null(v)) {
		schema_expected(&p->sc, v, path, "a directory path such as /ckpt");
		return;
	}
	schema_string(&p->sc, v, path, "a directory path such as /ckpt", &p->t->checkpoint.dir);
}

/* checkpoint.interval: a positive duration. */
static void key_ckpt_interval(struct parser *p, const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	schema_duration(&p->sc, v, path, 0, &p->t->checkpoint.interval);
}

/* checkpoint.keep: how many saved checkpoints to keep. */
static void key_ckpt_keep(struct parser *p, const struct ynode *k, const struct ynode *v,
			  const char *path)
{
	long long n;

	if (schema_int(&p->sc, v, path, 1, 1000, "a positive integer (checkpoints to keep)", &n) == 0)
		p->t->checkpoint.keep = (int)n;
}

/* checkpoint.verify: a shell command that checks a restored copy. */
static void key_ckpt_verify(struct parser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	const char *want = "a shell command such as 'python3 check.py $FRUGAL_CHECKPOINT_DIR'";

	if (ynode_is_null(v) || (v->type == YNODE_SCALAR && !*v->str)) {
		schema_expected(&p->sc, v, path, want);
		return;
	}
	schema_string(&p->sc, v, path, want, &p->t->checkpoint.verify);
}

/* checkpoint.per_node: with num_nodes > 1, every rank keeps its own. */
static void key_ckpt_per_node(struct parser *p, const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	schema_bool(&p->sc, v, path, &p->t->checkpoint.per_node);
}

static const struct key_rule checkpoint_rules[] = {
	{ "dir", key_ckpt_dir }, { "interval", key_ckpt_interval }, { "keep", key_ckpt_keep },
	{ "verify", key_ckpt_verify }, { "per_node", key_ckpt_per_node },
};

/* checkpoint: {dir, interval, keep, verify, per_node}; dir is required. */
static void key_checkpoint(struct parser *p, const struct ynode *k, const struct ynode *v,
			   const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping {dir, interval, keep, verify, per_node}") <= 0)
		return;
	WALK_PLAIN(p, v, path, checkpoint_rules);
	if (!p->checkpoint_dir_node)
		schema_report(&p->sc, k, path, "missing 'dir': the directory the job saves checkpoints in");
}

/* One output path: relative to the work dir, no "..". */
static int is_relative_glob(const char *s)
{
	const char *c = s;

	if (!*s || *s == '/')
		return 0;
	while (c) {
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			return 0;
		c = strchr(c, '/');
		if (c)
			c++;
	}
	return 1;
}

/* outputs.paths: one relative glob or a list of them. */
static void key_outputs_paths(struct parser *p, const struct ynode *k, const struct ynode *v,
			      const char *path)
{
	const char *what = "a path or glob relative to the work dir, such as weights/*.pth";
	struct outputs_spec *o = &p->t->outputs;
	size_t i;

	p->outputs_paths_node = v;
	free_strv(o->paths, o->n_paths);
	o->paths = NULL;
	o->n_paths = 0;
	if (v->type == YNODE_SCALAR && !ynode_is_null(v)) {
		if (!is_relative_glob(v->str)) {
			schema_expected(&p->sc, v, path, what);
			return;
		}
		o->paths = xmalloc(sizeof(char *));
		o->paths[o->n_paths++] = xstrdup(v->str);
		return;
	}
	if (v->type != YNODE_SEQ || !v->n_items) {
		schema_expected(&p->sc, v, path, "a list of paths relative to the work dir");
		return;
	}
	o->paths = xcalloc(v->n_items, sizeof(char *));
	for (i = 0; i < v->n_items; i++) {
		const struct ynode *item = v->items[i];
		char *sub = xasprintf("%s[%zu]", path, i);

		if (item->type != YNODE_SCALAR || ynode_is_null(item) ||
		    !is_relative_glob(item->str))
			schema_expected(&p->sc, item, sub, what);
		else
			o->paths[o->n_paths++] = xstrdup(item->str);
		free(sub);
	}
}

/* outputs.to: a storage URL. */
static void key_outputs_to(struct parser *p, const struct ynode *k, const struct ynode *v,
			   const char *path)
{
	schema_url(&p->sc, v, path, &p->t->outputs.to);
}

static const struct key_rule outputs_rules[] = {
	{ "paths", key_outputs_paths }, { "to", key_outputs_to },
};

/* outputs: {paths, to}; paths is required. */
static void key_outputs(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping {paths, to}") <= 0)
		return;
	if (v->n_pairs == 1 && strcmp(v->pairs[0].key->str, "paths") &&
	    strcmp(v->pairs[0].key->str, "to") && v->pairs[0].value->type == YNODE_SCALAR &&
	    schema_parse_number(v->pairs[0].value->str, &(double){ 0 }) == 0) {
		/* SkyPilot's experimental {URL: GB}: only an egress cost estimate */
		schema_warn(&p->sc, k, path, "SkyPilot's outputs {URL: size} is ignored: it only "
			    "estimates egress costs (frugal's outputs is {paths, to})");
		return;
	}
	WALK_PLAIN(p, v, path, outputs_rules);
	if (!p->outputs_paths_node)
		schema_report(&p->sc, k, path, "missing 'paths': the files to keep, such as [\"weights/*.pth\"]");
}

/* stop.max_runtime */
static void key_max_runtime(struct parser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	schema_duration(&p->sc, v, path, 0, &p->t->stop.max_runtime);
}

/* stop.on_output: a glob relative to the work dir. */
static void key_on_output(struct parser *p, const struct ynode *k, const struct ynode *v,
			  const char *path)
{
	if (v->type != YNODE_SCALAR || ynode_is_null(v) || !is_relative_glob(v->str)) {
		schema_expected(&p->sc, v, path, "a path or glob relative to the work dir");
		return;
	}
	free(p->t->stop.on_output);
	p->t->stop.on_output = xstrdup(v->str);
}

/* stop.idle_gpu */
static void key_idle_gpu(struct parser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	schema_duration(&p->sc, v, path, 0, &p->t->stop.idle_gpu);
}

/* stop.idle_gpu_below: the percent under which a GPU is idle. */
static void key_idle_gpu_below(struct parser *p, const struct ynode *k, const struct ynode *v,
			       const char *path)
{
	long long n;

	if (schema_int(&p->sc, v, path, 1, 100, "a percent from 1 to 100", &n) == 0)
		p->t->stop.idle_gpu_below = (int)n;
}

/* stop.orphan_timeout */
static void key_orphan_timeout(struct parser *p, const struct ynode *k, const struct ynode *v,
			       const char *path)
{
	schema_duration(&p->sc, v, path, 0, &p->t->stop.orphan_timeout);
}

/* stop.other_nodes: wait (ranks >= 1 must exit 0 too) or end (they are
 * ended once rank 0 succeeded). */
static void key_other_nodes(struct parser *p, const struct ynode *k, const struct ynode *v,
			    const char *path)
{
	static const char *const names[] = { "wait", "end" };
	int i = schema_choice(&p->sc, v, path, names, 2, 0);

	if (i >= 0)
		p->t->stop.other_nodes_end = i == 1;
}

static const struct key_rule stop_rules[] = {
	{ "max_runtime", key_max_runtime }, { "on_output", key_on_output },
	{ "idle_gpu", key_idle_gpu }, { "idle_gpu_below", key_idle_gpu_below },
	{ "orphan_timeout", key_orphan_timeout }, { "other_nodes", key_other_nodes },
};

/* stop: {max_runtime, on_output, idle_gpu, orphan_timeout, other_nodes}. */
static void key_stop(struct parser *p, const struct ynode *k, const struct ynode *v,
		     const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping {max_runtime, on_output, idle_gpu, idle_gpu_below, orphan_timeout, other_nodes}") <= 0)
		return;
	WALK_PLAIN(p, v, path, stop_rules);
}

/* recovery.max_restarts_on_errors */
static void key_max_restarts(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	long long n;

	if (schema_int(&p->sc, v, path, 0, 1000, "an integer from 0 to 1000", &n) == 0)
		p->t->recovery.max_restarts_on_errors = (int)n;
}

/* recovery.recover_on_exit_codes: one code or a list, 1..255. */
static void key_exit_codes(struct parser *p, const struct ynode *k, const struct ynode *v,
			   const char *path)
{
	const char *what = "an exit code from 1 to 255";
	struct recovery_spec *r = &p->t->recovery;
	long long n;
	size_t i;

	free(r->recover_on_exit_codes);
	r->recover_on_exit_codes = NULL;
	r->n_recover_on_exit_codes = 0;
	if (ynode_is_null(v))
		return;
	if (v->type == YNODE_SCALAR) {
		if (schema_int(&p->sc, v, path, 1, 255, what, &n) == 0) {
			r->recover_on_exit_codes = xmalloc(sizeof(int));
			r->recover_on_exit_codes[r->n_recover_on_exit_codes++] = (int)n;
		}
		return;
	}
	if (v->type != YNODE_SEQ) {
		schema_expected(&p->sc, v, path, "a list of exit codes from 1 to 255");
		return;
	}
	r->recover_on_exit_codes = xcalloc(v->n_items ? v->n_items : 1, sizeof(int));
	for (i = 0; i < v->n_items; i++) {
		char *sub = xasprintf("%s[%zu]", path, i);

		if (schema_int(&p->sc, v->items[i], sub, 1, 255, what, &n) == 0)
			r->recover_on_exit_codes[r->n_recover_on_exit_codes++] = (int)n;
		free(sub);
	}
}

/* recovery.preemption_signal: SIGTERM, SIGINT or SIGUSR1 (any case, SIG optional). */
static void key_preemption_signal(struct parser *p, const struct ynode *k, const struct ynode *v,
				  const char *path)
{
	static const char *const names[] = { "SIGTERM", "SIGINT", "SIGUSR1" };
	int sig = 0;

	if (v->type == YNODE_SCALAR)
		sig = signal_from_name(v->str);
	if (sig != SIGTERM && sig != SIGINT && sig != SIGUSR1) {
		schema_expected_one_of(&p->sc, v, path, names, 3);
		return;
	}
	p->t->recovery.preemption_signal = sig;
}

/* recovery.notice_grace: a duration, 0 allowed. */
static void key_notice_grace(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	schema_duration(&p->sc, v, path, 1, &p->t->recovery.notice_grace);
}

/* recovery.max_restarts_on_errors / recover_on_exit_codes, remembered
 * against resources.job_recovery's keys of the same name. */
static void key_rec_max_restarts(struct parser *p, const struct ynode *k,
				 const struct ynode *v, const char *path)
{
	p->max_restarts_node = v;
	key_max_restarts(p, k, v, path);
}

static void key_rec_exit_codes(struct parser *p, const struct ynode *k, const struct ynode *v,
			       const char *path)
{
	p->exit_codes_node = v;
	key_exit_codes(p, k, v, path);
}

static const struct key_rule recovery_rules[] = {
	{ "max_restarts_on_errors", key_rec_max_restarts },
	{ "recover_on_exit_codes", key_rec_exit_codes },
	{ "preemption_signal", key_preemption_signal },
	{ "notice_grace", key_notice_grace },
};

/* recovery: its keys. */
static void key_recovery(struct parser *p, const struct ynode *k, const struct ynode *v,
			 const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping {max_restarts_on_errors, recover_on_exit_codes, "
		     "preemption_signal, notice_grace}") <= 0)
		return;
	WALK_PLAIN(p, v, path, recovery_rules);
}

/* ---- sweep ------------------------------------------------------------------ */

/*
 * "uniform(a,b)", "loguniform(a,b)" or "int(a,b)": check it and return it
 * without blanks (caller frees), or NULL with the reason in *why.
 */
static char *parse_range(const char *s, const char **why)
{
	char fn[16], a[64], b[64];
	const char *open, *comma, *close, *ta, *tb;
	char ba[64], bb[64];
	double x, y;
	long long ix, iy;
	size_t n;

	*why = "expected a list of values, uniform(a,b), loguniform(a,b) or int(a,b)";
	while (*s == ' ')
		s++;
	open = strchr(s, '(');
	comma = open ? strchr(open, ',') : NULL;
	close = comma ? strchr(comma, ')') : NULL;
	if (!close)
		return NULL;
	n = (size_t)(open - s);
	while (n && s[n - 1] == ' ')
		n--;
	if (n >= sizeof(fn) || (size_t)(comma - open - 1) >= sizeof(a) ||
	    (size_t)(close - comma - 1) >= sizeof(b))
		return NULL;
	memcpy(fn, s, n);
	fn[n] = '\0';
	memcpy(a, open + 1, (size_t)(comma - open - 1));
	a[comma - open - 1] = '\0';
	memcpy(b, comma + 1, (size_t)(close - comma - 1));
	b[close - comma - 1] = '\0';
	for (s = close + 1; *s == ' '; s++)
		;
	if (*s || !(ta = schema_trim(a, ba, sizeof(ba))) || !(tb = schema_trim(b, bb, sizeof(bb))))
		return NULL;
	if (!strcmp(fn, "int")) {
		if (schema_parse_int(ta, &ix) < 0 || schema_parse_int(tb, &iy) < 0)
			return NULL;
		if (ix >= iy) {
			*why = "int(a,b) needs a < b";
			return NULL;
		}
	} else if (!strcmp(fn, "uniform") || !strcmp(fn, "loguniform")) {
		if (schema_parse_number(ta, &x) < 0 || schema_parse_number(tb, &y) < 0)
			return NULL;
		if (x >= y) {
			*why = "the range needs a < b";
			return NULL;
		}
		if (fn[0] == 'l' && x <= 0) {
			*why = "loguniform(a,b) needs 0 < a < b";
			return NULL;
		}
	} else {
		return NULL;
	}
	return xasprintf("%s(%s,%s)", fn, ta, tb);
}

/* One parameter NAME: [values] | "uniform(a,b)" into *sp. */
static int sweep_param(struct parser *p, const struct ynode *k, const struct ynode *v,
		       const char *path, struct sweep_param *sp)
{
	size_t i;
	int ok = 1;

	if (!schema_is_env_name(k->str)) {
		schema_expected(&p->sc, k, path, "a parameter name usable as an environment variable "
			 "(letters, digits and '_')");
		return -1;
	}
	if (env_name_reserved(k->str, (size_t)-1)) {
		schema_report(&p->sc, k, path, "'%s' is one of frugal's own variables ("
			      ENV_RESERVED_PREFIX "*); pick another parameter name", k->str);
		return -1;
	}
	if (v->type == YNODE_SCALAR && !ynode_is_null(v)) {
		const char *why;
		char *range = parse_range(v->str, &why);
		char buf[80];

		if (!range) {
			schema_report(&p->sc, v, path, "%s, got %s", why, schema_describe(v, buf, sizeof(buf)));
			return -1;
		}
		sp->name = xstrdup(k->str);
		sp->range = range;
		p->ranges = xrealloc(p->ranges, (p->n_ranges + 1) * sizeof(*p->ranges));
		p->ranges[p->n_ranges].key = (struct ynode *)k;
		p->ranges[p->n_ranges].value = (struct ynode *)v;
		p->n_ranges++;
		return 0;
	}
	if (v->type != YNODE_SEQ || !v->n_items) {
		schema_expected(&p->sc, v, path, "a non-empty list of values, uniform(a,b), "
			 "loguniform(a,b) or int(a,b)");
		return -1;
	}
	sp->values = xcalloc(v->n_items, sizeof(char *));
	for (i = 0; i < v->n_items; i++) {
		const struct ynode *item = v->items[i];
		char *sub = xasprintf("%s[%zu]", path, i);

		if (item->type != YNODE_SCALAR || ynode_is_null(item)) {
			schema_expected(&p->sc, item, sub, "a value (a number or a string)");
			ok = 0;
		} else {
			sp->values[sp->n_values++] = xstrdup(item->str);
		}
		free(sub);
	}
	sp->name = xstrdup(k->str);
	return ok ? 0 : -1;
}

/* sweep.params: NAME: [values] or NAME: range, one sweep_param each. */
static void key_sweep_params(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	struct sweep_spec *s = &p->t->sweep;
	size_t i;

	p->sweep_params_node = v;
	if (v->type != YNODE_MAP || !v->n_pairs) {
		schema_expected(&p->sc, v, path, "a mapping of NAME: [values] or NAME: uniform(a,b)");
		return;
	}
	s->params = xcalloc(v->n_pairs, sizeof(*s->params));
	for (i = 0; i < v->n_pairs; i++) {
		char *sub = schema_join_path(path, v->pairs[i].key->str);
		struct sweep_param *sp = &s->params[s->n_params];

		if (sweep_param(p, v->pairs[i].key, v->pairs[i].value, sub, sp) == 0) {
			s->n_params++;
		} else {
			free(sp->name);
			free_strv(sp->values, sp->n_values);
			free(sp->range);
			memset(sp, 0, sizeof(*sp));
		}
		free(sub);
	}
}

/* sweep.method: grid or random. */
static void key_sweep_method(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	static const char *const methods[] = { "grid", "random" };
	int i = schema_choice(&p->sc, v, path, methods, 2, 0);

	p->sweep_method_node = v;
	if (i >= 0)
		p->t->sweep.method = i == 0 ? SWEEP_GRID : SWEEP_RANDOM;
}

/* sweep.max_parallel: trials at once. */
static void key_sweep_max_parallel(struct parser *p, const struct ynode *k,
				   const struct ynode *v, const char *path)
{
	long long n;

	if (schema_int(&p->sc, v, path, 1, 100000, "a positive integer", &n) == 0)
		p->t->sweep.max_parallel = (int)n;
}

/* sweep.trials: draws of a random sweep. */
static void key_sweep_trials(struct parser *p, const struct ynode *k, const struct ynode *v,
			     const char *path)
{
	long long n;

	p->sweep_trials_node = v;
	if (schema_int(&p->sc, v, path, 1, SWEEP_MAX_TRIALS, "a positive integer (at most 100000)", &n) == 0)
		p->t->sweep.trials = (int)n;
}

/* sweep.seed: a non-negative integer. */
static void key_sweep_seed(struct parser *p, const struct ynode *k, const struct ynode *v,
			   const char *path)
{
	long long n;

	if (schema_int(&p->sc, v, path, 0, INT64_MAX, "a non-negative integer", &n) == 0) {
		p->t->sweep.seed = n;
		p->t->sweep.has_seed = 1;
	}
}

static const struct key_rule sweep_rules[] = {
	{ "method", key_sweep_method }, { "params", key_sweep_params },
	{ "max_parallel", key_sweep_max_parallel }, { "trials", key_sweep_trials },
	{ "seed", key_sweep_seed },
};

/* Checks across the keys of sweep. */
static void check_sweep(struct parser *p, const struct ynode *k)
{
	struct sweep_spec *s = &p->t->sweep;
	double grid = 1;
	size_t i;

	if (!p->sweep_params_node) {
		schema_report(&p->sc, k, "sweep", "missing 'params': the parameters to sweep, "
		       "such as {LR: [1e-3, 1e-4]}");
		return;
	}
	if (!s->method)
		s->method = p->sweep_method_node ? SWEEP_NONE : SWEEP_GRID;
	if (s->method == SWEEP_RANDOM && !p->sweep_trials_node)
		schema_report(&p->sc, p->sweep_method_node, "sweep.method",
		       "method random needs 'trials': how many trials to draw");
	if (s->method != SWEEP_GRID)
		return;
	if (p->sweep_trials_node)
		schema_report(&p->sc, p->sweep_trials_node, "sweep.trials",
		       "'trials' is only for method: random (a grid runs every combination)");
	for (i = 0; i < p->n_ranges; i++) {
		const struct ynode *v = p->ranges[i].value;
		char *sub = schema_join_path("sweep.params", p->ranges[i].key->str);
		char buf[80];

		schema_report(&p->sc, v, sub, "%s is a range, which needs method: random; "
			      "a grid needs a list of values", schema_describe(v, buf, sizeof(buf)));
		free(sub);
	}
	for (i = 0; i < s->n_params; i++)
		if (!s->params[i].range)
			grid *= (double)s->params[i].n_values;
	if (grid > SWEEP_MAX_GRID)
		schema_report(&p->sc, p->sweep_params_node, "sweep.params",
		       "the grid has %.0f combinations, more than %d; use method: random",
		       grid, SWEEP_MAX_GRID);
}

/* sweep: its keys, then the checks across them. */
static void key_sweep(struct parser *p, const struct ynode *k, const struct ynode *v,
		      const char *path)
{
	if (schema_want_map(&p->sc, v, path, "a mapping {method, params, max_parallel, trials, seed}") <= 0)
		return;
	WALK_PLAIN(p, v, path, sweep_rules);
	check_sweep(p, k);
}

/* ---- the whole file ------------------------------------------------------------ */


/* config: SkyPilot's per-task overrides of its own config (cluster
 * pod_config, docker run_options, hooks, ...): each one is refused with
 * its own line; an empty mapping is fine. */
static void key_config(struct parser *p, const struct ynode *k, const struct ynode *v,
		       const char *path)
{
	size_t i;

	if (schema_want_map(&p->sc, v, path, "a mapping of SkyPilot config overrides") <= 0)
		return;
	for (i = 0; i < v->n_pairs; i++) {
		const struct ynode *key = v->pairs[i].key;
		char *sub = schema_join_path(path, key->str);

		schema_report(&p->sc, key, sub, "SkyPilot config overrides are not supported; "
			      "put frugal settings in $FRUGAL_HOME/config.yaml or remove it");
		free(sub);
	}
}

/* service / pool: read only by `sky serve` and `sky jobs pool`, which
 * sky launch (and frugal launch) ignore. */
static void key_service(struct parser *p, const struct ynode *k, const struct ynode *v,
			const char *path)
{
	schema_warn(&p->sc, k, path, "'%s' is ignored: it is read only by sky %s, not by "
		    "launch", k->str, strcmp(k->str, "service") ? "jobs pool" : "serve");
}

static const struct key_rule task_rules[] = {
	{ "name", key_name }, { "workdir", key_workdir }, { "resources", key_resources },
	{ "num_nodes", key_num_nodes }, { "envs", key_envs }, { "secrets", key_secrets },
	{ "file_mounts", key_file_mounts }, { "volumes", key_volumes },
	{ "setup", key_setup }, { "run", key_run },
	{ "checkpoint", key_checkpoint }, { "outputs", key_outputs }, { "stop", key_stop },
	{ "recovery", key_recovery }, { "budget", key_budget }, { "sweep", key_sweep },
	{ "backend", key_backend }, { "config", key_config }, { "service", key_service },
	{ "pool", key_service },
};

static const struct foreign_key task_foreign[] = {
	{ "inputs", 1, "SkyPilot uses it only to estimate data egress costs" },
	{ "_metadata", 1, "it is metadata of SkyPilot's own" },
	{ "event_callback", 0, "event callbacks are not run; put the command at the end of "
			       "'run'" },
	{ "experimental", 0, "SkyPilot config overrides are not supported; put frugal settings "
			     "in $FRUGAL_HOME/config.yaml or remove it" },
	{ "volume_mounts", 0, "it is set by SkyPilot itself; remove it" },
	{ "file_mounts_mapping", 0, "it is set by SkyPilot itself; remove it" },
	{ "managed_secrets", 0, "secrets of a SkyPilot API server are not available; give them "
				"as secrets: {NAME: null} from your environment" },
	{ "api_server_access", 0, "there is no SkyPilot API server to reach; remove it" },
	{ "docker_image", 0, "use resources.image_id: docker:IMAGE" },
};

/* strcmp for qsort/bsearch over an array of strings. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Report every secret that is also in envs (sorted names: no quadratic
 * time on hostile files). */
static void check_secrets_vs_envs(struct parser *p)
{
	const struct ynode *sec = p->secrets_node;
	const char **names;
	size_t i;

	if (!sec || sec->type != YNODE_MAP || !p->t->envs.n)
		return;
	names = xmalloc(p->t->envs.n * sizeof(*names));
	for (i = 0; i < p->t->envs.n; i++)
		names[i] = p->t->envs.items[i].key;
	qsort(names, p->t->envs.n, sizeof(*names), cmp_str);
	for (i = 0; i < sec->n_pairs; i++) {
		const struct ynode *k = sec->pairs[i].key;
		const char *key = k->str;
		char *sub;

		if (!bsearch(&key, names, p->t->envs.n, sizeof(*names), cmp_str))
			continue;
		sub = schema_join_path("secrets", k->str);
		schema_report(&p->sc, k, sub, "'%s' is in both envs and secrets; keep one", k->str);
		free(sub);
	}
	free(names);
}

/* Checks across the top-level keys, once they are all read. */
static void check_task(struct parser *p)
{
	struct task *t = p->t;

	if (!t->run && !t->setup)
		schema_report(&p->sc, p->run_node ? p->run_node : p->root, p->run_node ? "run" : NULL,
			      "missing 'run': the commands the job runs (a task needs 'run' or "
			      "'setup')");
	if (p->jr_max_restarts_node && p->max_restarts_node)
		schema_report(&p->sc, p->jr_max_restarts_node,
			      "resources.job_recovery.max_restarts_on_errors", "give it in "
			      "recovery or in resources.job_recovery, not both");
	if (p->jr_exit_codes_node && p->exit_codes_node)
		schema_report(&p->sc, p->jr_exit_codes_node,
			      "resources.job_recovery.recover_on_exit_codes", "give it in "
			      "recovery or in resources.job_recovery, not both");
	if (t->backend && t->res.cloud && strcmp(t->backend, t->res.cloud))
		schema_report(&p->sc, p->backend_node, "backend",
			      "backend '%s' conflicts with resources.cloud '%s'; give only one of them",
			      t->backend, t->res.cloud);
	check_secrets_vs_envs(p);
}

int task_parse_buffer(const char *buf, size_t len, const char *name,
		      const char *base_dir, struct task *ret, struct diag_list *diags)
{
	struct parser p;
	struct task t;
	struct ynode *root = NULL;
	size_t before = diags->n;
	int r;

	memset(&p, 0, sizeof(p));
	task_init(&t);
	p.sc.file = name ? name : "<task>";
	p.sc.diags = diags;
	p.base_dir = base_dir;
	p.t = &t;
	r = yamltree_load(buf, len, p.sc.file, &root, diags);
	if (r < 0)
		goto out;
	p.root = root;
	if (!root) {
		schema_report(&p.sc, NULL, NULL, "the task file is empty: it needs at least 'run'");
	} else if (root->type != YNODE_MAP) {
		schema_expected(&p.sc, root, NULL, "a mapping of task keys (name, resources, run, ...)");
	} else {
		WALK(&p, root, NULL, task_rules, task_foreign);
		check_task(&p);
	}
	diag_list_sort(diags, before);
	if (diag_list_errors(diags, before)) {
		r = FRUGAL_EINVAL;
		goto out;
	}
	*ret = t;
	task_init(&t);
out:
	free(p.ranges);
	task_release(&t);
	yamltree_free(root);
	return r;
}

int task_parse_file(const char *path, struct task *ret, struct diag_list *diags)
{
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	int r;

	r = fs_read_regular_file(path, YAMLTREE_MAX_INPUT, &sb, &err);
	if (r < 0) {
		diag_add(diags, path, 0, 0, NULL, "%s", error_msg(&err));
		goto out;
	}
	/* A relative workdir is relative to the current directory, as in
	 * SkyPilot, not to the task file's directory. */
	r = task_parse_buffer(sb.buf, sb.len, path, NULL, ret, diags);
	if (r == 0)
		ret->path = xstrdup(path);
out:
	strbuf_release(&sb);
	return r;
}

/* ---- using a parsed task ----------------------------------------------------------- */

void task_take_secret_values(struct task *t, struct kvlist *out)
{
	size_t i;

	for (i = 0; i < t->secrets.n; i++) {
		char *v = t->secrets.items[i].value;

		if (!v)
			continue;
		kvlist_set(out, t->secrets.items[i].key, v);
		secure_free(v);
		t->secrets.items[i].value = NULL;
	}
}

void task_format_accels(const struct resources *r, struct strbuf *out)
{
	size_t i;

	if (r->accel_mode == ACCEL_NONE || !r->n_accels) {
		strbuf_adds(out, "-");
		return;
	}
	if (r->accel_mode == ACCEL_ONE) {
		strbuf_addf(out, "%s:%d", r->accels[0].name, r->accels[0].count);
		return;
	}
	strbuf_addch(out, r->accel_mode == ACCEL_ANY_OF ? '{' : '[');
	for (i = 0; i < r->n_accels; i++)
		strbuf_addf(out, "%s%s:%d", i ? ", " : "", r->accels[i].name, r->accels[i].count);
	strbuf_addch(out, r->accel_mode == ACCEL_ANY_OF ? '}' : ']');
}

int task_gpu_count(const struct task *t)
{
	if (t->res.accel_mode == ACCEL_NONE || !t->res.n_accels)
		return 0;
	return t->res.accels[0].count;
}

char *task_sweep_range(const char *s, const char **why)
{
	return parse_range(s, why);
}

