/*
 * launch: validate, plan, record the job (secrets sealed), wake the
 * controller, then follow the logs unless -d.
 */
#include "cli/cli.h"
#include "base/money.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"
#include "controller/controller.h"
#include "spec/sweep.h"
#include "util/secretbox.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: frugal launch TASK.yaml [-d|--detach] [--dry-run] [--backend NAME]\n"
		"                     [--name NAME] [--env K=V]... [--secret K[=V]]... [--json]\n"
		"                     [--estimate 6h] [--budget USD]\n"
		"       frugal sweep TASK.yaml --param NAME=v1,v2 ... [--max-parallel N]\n"
		"                     [--method grid|random --trials N --seed S] (and launch's options)\n");
}

#define SECRET_MAX (64 * 1024)	/* bytes of one secret value */

/* A value that can travel as a secret: at most SECRET_MAX bytes of UTF-8
 * text; otherwise an error that names the secret and the limit. */
static int secret_value_ok(const char *k, const char *v)
{
	size_t len = strlen(v);
	json_t *utf8;

	if (len > SECRET_MAX) {
		cli_error("secret '%s' is %zu bytes, over the limit of %d KiB (%d bytes): put a large "
			  "credential in a file (file_mounts) and pass its path as the secret",
			  k, len, SECRET_MAX / 1024, SECRET_MAX);
		return 0;
	}
	utf8 = json_string(v);
	if (!utf8) {
		cli_error("secret '%s' is not UTF-8 text: secrets are environment variables; "
			  "pass binary credentials base64-encoded", k);
		return 0;
	}
	json_decref(utf8);
	return 1;
}

/* Every secret the task names gets its value: --secret K=V, the task
 * file's literal, or the launching environment. */
static int collect_secrets(struct task *t, const struct kvlist *given, struct kvlist *values)
{
	size_t i;

	task_take_secret_values(t, values);
	for (i = 0; i < given->n; i++) {
		const char *k = given->items[i].key;
		char *from_envs = kvlist_get(&t->envs, k) ? xstrdup(kvlist_get(&t->envs, k)) : NULL;

		/* --secret NAME for a key of envs: it becomes a secret (its value
		 * from --secret, this shell, or else the task file's envs). */
		kvlist_remove(&t->envs, k);
		kvlist_set(&t->secrets, k, NULL);
		if (given->items[i].value)
			kvlist_set(values, k, given->items[i].value);
		else if (!getenv(k) && from_envs)
			kvlist_set(values, k, from_envs);
		if (from_envs)
			secure_zero(from_envs, strlen(from_envs));
		free(from_envs);
	}
	for (i = 0; i < t->secrets.n; i++) {
		const char *k = t->secrets.items[i].key;
		if (kvlist_get(values, k))
			continue;
		if (!getenv(k)) {
			cli_error("secret '%s' has no value: export %s in this shell, or pass"
				  " --secret %s=VALUE", k, k, k);
			return -1;
		}
		kvlist_set(values, k, getenv(k));
	}
	for (i = 0; i < values->n; i++)
		if (!secret_value_ok(values->items[i].key, values->items[i].value))
			return -1;
	return 0;
}

/* launch --dry-run: every check the launch makes, budgets included, then
 * what the launch would do. 0 when it would launch. */
static int dry_run(struct cli *c, struct task *t, const struct plan *pl, int64_t given_s,
		   int json)
{
	const char *why;
	int64_t secs = cli_estimate_secs(t, given_s, &why);
	int64_t cost = cli_estimate(t, pl, given_s, NULL);
	size_t fit = 1, total = 1;
	int sweep = t->sweep.method != SWEEP_NONE, ok;
	char usd[32], d[32];

	if (!cli_store(c))
		return 1;
	if (sweep)
		ok = cli_sweep_fit(c, t, pl, given_s, &fit, &total) == 0 && fit > 0;
	else
		ok = cli_check_budget(c, t, pl, given_s) == 0;
	if (json) {
		json_t *o = json_pack("{s:b, s:s, s:s?, s:s?, s:s, s:i, s:f, s:I, s:s, s:f, s:I, s:b}",
				      "dry_run", 1, "backend", pl->backend, "region", pl->region,
				      "zone", pl->zone, "instance_type", pl->instance_type,
				      "gpus", pl->gpus, "price_per_hour", pl->price_per_hour,
				      "estimate_seconds", (json_int_t)secs, "estimate_from", why,
				      "estimated_cost_usd", money_to_usd(cost),
				      "estimated_cost_micro", (json_int_t)cost, "would_launch", ok);
		json_object_set_new(o, "price_source", json_string(pl->price_source ?
								   pl->price_source : "catalog"));
		if (sweep) {
			json_object_set_new(o, "trials", json_integer((json_int_t)fit));
			json_object_set_new(o, "trials_total", json_integer((json_int_t)total));
		}
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		cli_print_plan(t, pl, stdout);
		cli_print_estimate(c, t, pl, given_s, stdout);
		money_format(cost, usd, sizeof(usd));
		duration_format(secs, d, sizeof(d));
		if (!ok)
			printf("Dry run: the launch would be refused (see above).\n");
		else if (sweep)
			printf("Dry run: the launch would start a sweep of %zu of %zu trials on %s,"
			       " %s each (%s).\n", fit, total, pl->backend, usd, d);
		else
			printf("Dry run: the launch would submit one job on %s, estimated %s (%s).\n",
			       pl->backend, usd, d);
		printf("Dry run: nothing was launched.\n");
	}
	return ok ? 0 : 1;
}

/* A launch that spends money, from a terminal: show the plan and ask
 * (`-y` skips; scripts without a terminal are never asked). 1: go. */
static int confirm(const struct task *t, const struct plan *pl)
{
	char line[64];

	cli_print_plan(t, pl, stderr);
	fprintf(stderr, "Launch on %s at $%.4f/h%s? [Y/n] ", pl->backend, pl->price_per_hour,
		t->sweep.method != SWEEP_NONE ? " per trial" : "");
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == '\n' || line[0] == 'y' || line[0] == 'Y';
}

int cmd_launch(int argc, char **argv)
{
	return cli_launch_main(argc, argv, 0);
}

int cli_launch_main(int argc, char **argv, int sweep)
{
	static const struct option opts[] = {
		{ "param", required_argument, NULL, 'P' },
		{ "max-parallel", required_argument, NULL, 'M' },
		{ "method", required_argument, NULL, 'm' },
		{ "trials", required_argument, NULL, 'T' },
		{ "seed", required_argument, NULL, 'S' },
		{ "budget", required_argument, NULL, 'B' },
		{ "detach", no_argument, NULL, 'd' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "backend", required_argument, NULL, 'b' },
		{ "name", required_argument, NULL, 'N' },
		{ "env", required_argument, NULL, 'e' },
		{ "secret", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "estimate", required_argument, NULL, 'E' },
		{ "gpus", required_argument, NULL, 'G' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "memory", required_argument, NULL, 'R' },
		{ "spot", no_argument, NULL, 'o' },
		{ "on-demand", no_argument, NULL, 'O' },
		{ "infra", required_argument, NULL, 'I' },
		{ "cloud", required_argument, NULL, 'c' },
		{ "region", required_argument, NULL, 'r' },
		{ "zone", required_argument, NULL, 'z' },
		{ "max-price", required_argument, NULL, 'x' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct launch_overrides ov = LAUNCH_OVERRIDES_INIT;
	struct kvlist envs = { 0 }, given = { 0 }, values = { 0 };
	struct strbuf box = STRBUF_INIT;
	struct sweep_spec over = { 0 };
	struct error err = ERROR_INIT;
	const char *backend = NULL, *name = NULL;
	int max_parallel = -1, trials = -1, method = -1, has_seed = 0;
	long long seed = 0;
	double budget = -1;
	int detach = 0, dry = 0, json = 0, yes = 0, opt, r = 1, opened = 0;
	int64_t estimate = 0;	/* not given: cli_estimate_secs decides */
	struct cli c;
	struct task t;
	struct plan pl = { 0 };
	struct job j;
	size_t i;

	memset(&j, 0, sizeof(j));
	task_init(&t);
	while ((opt = getopt_long(argc, argv, "dhy", opts, NULL)) != -1) {
		const char *eq = optarg ? strchr(optarg, '=') : NULL;
		switch (opt) {
		case 'P':
		case 'M':
		case 'm':
		case 'T':
		case 'S':
			if (!sweep) {
				cli_error("--%s is for 'frugal sweep' (or a task file's sweep: section)",
					  opt == 'P' ? "param" : opt == 'M' ? "max-parallel" :
					  opt == 'm' ? "method" : opt == 'T' ? "trials" : "seed");
				r = 2;
				goto out;
			}
			if (opt == 'P' && sweep_add_param(&over, optarg, &err) < 0) {
				cli_error_e(&err);
				r = 2;
				goto out;
			}
			if ((opt == 'M' && (max_parallel = atoi(optarg)) < 1) ||
			    (opt == 'T' && (trials = atoi(optarg)) < 1)) {
				cli_error("--%s wants a number from 1", opt == 'M' ? "max-parallel" :
					  "trials");
				r = 2;
				goto out;
			}
			if (opt == 'm') {
				if (strcmp(optarg, "grid") && strcmp(optarg, "random")) {
					cli_error("--method is grid or random, not '%s'", optarg);
					r = 2;
					goto out;
				}
				method = optarg[0] == 'g' ? SWEEP_GRID : SWEEP_RANDOM;
			}
			if (opt == 'S') {
				seed = atoll(optarg);
				has_seed = 1;
			}
			break;
		case 'B': {
			char *end;
			budget = strtod(optarg, &end);
			if (*end || !(budget > 0)) {
				cli_error("--budget wants a positive number of USD, got '%s'", optarg);
				r = 2;
				goto out;
			}
			break;
		}
		case 'G': ov.gpus = optarg; break;
		case 'C': ov.cpus = optarg; break;
		case 'R': ov.memory = optarg; break;
		case 'o': ov.spot = 1; break;
		case 'O': ov.spot = 0; break;
		case 'I': ov.infra = optarg; break;
		case 'c': ov.cloud = optarg; break;
		case 'r': ov.region = optarg; break;
		case 'z': ov.zone = optarg; break;
		case 'x': ov.max_price = optarg; break;
		case 'y': yes = 1; break;
		case 'd': detach = 1; break;
		case 'n': dry = 1; break;
		case 'b': backend = optarg; break;
		case 'N':
			if (!task_name_valid(optarg)) {
				cli_error("--name '%s': a name is letters, digits, '.', '_' and '-',"
					  " starting and ending with a letter or digit, at most 64"
					  " characters", optarg);
				r = 2;
				goto out;
			}
			name = optarg;
			break;
		case 'j': json = 1; break;
		case 'E':
			if (duration_parse(optarg, &estimate) < 0 || estimate < 1) {
				cli_error("--estimate wants a duration such as 6h, got '%s'", optarg);
				r = 2;
				goto out;
			}
			break;
		case 'e': {
			/* NAME=VALUE, or NAME alone: the value of NAME in this shell
			 * (as sky launch --env NAME does). */
			size_t klen = eq ? (size_t)(eq - optarg) : strlen(optarg);
			const char *val = eq ? eq + 1 : getenv(optarg);
			char *k;

			if (!env_name_valid(optarg, klen)) {
				cli_error("--env wants NAME=VALUE or NAME, got '%s'", optarg);
				goto out;
			}
			if (env_name_reserved(optarg, klen)) {
				cli_error("--env %.*s: " ENV_RESERVED_PREFIX "* names are frugal's own"
					  " variables (the job's identity, which teardown relies on);"
					  " frugal sets them, pick another name", (int)klen, optarg);
				goto out;
			}
			if (!val) {
				cli_error("--env %s: %s is not set in this shell; export it or pass"
					  " --env %s=VALUE", optarg, optarg, optarg);
				goto out;
			}
			k = xstrndup(optarg, klen);
			kvlist_set(&envs, k, val);
			free(k);
			break;
		}
		case 's': {
			size_t klen = eq ? (size_t)(eq - optarg) : strlen(optarg);
			char *k;
			if (!env_name_valid(optarg, klen)) {
				cli_error("--secret wants NAME or NAME=VALUE with NAME a variable name");
				goto out;
			}
			if (env_name_reserved(optarg, klen)) {
				cli_error("--secret %.*s: " ENV_RESERVED_PREFIX "* names are frugal's own"
					  " variables; pick another name", (int)klen, optarg);
				goto out;
			}
			k = xstrndup(optarg, klen);
			kvlist_set(&given, k, eq ? eq + 1 : NULL);
			if (eq) {
				fprintf(stderr, "frugal: warning: --secret %s=VALUE puts the value in your "
					"shell history and, while this runs, in 'ps' for every user of "
					"this machine; export %s and pass --secret %s instead\n", k, k, k);
				/* Out of /proc/PID/cmdline from now on. */
				memset(optarg + klen + 1, 0, strlen(eq + 1));
			}
			free(k);
			break;
		}
		case 'h': usage(stdout); r = 0; goto out;
		default: usage(stderr); r = 2; goto out;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		r = 2;
		goto out;
	}
	if (cli_parse_task(argv[optind], &t) < 0 || cli_apply_overrides(&t, &ov) < 0)
		goto out;
	if (cli_open(&c) < 0)
		goto out;
	opened = 1;
	if (name) {
		free(t.name);
		t.name = xstrdup(name);
	}
	for (i = 0; i < envs.n; i++)
		kvlist_set(&t.envs, envs.items[i].key, envs.items[i].value);
	for (i = 0; i < t.envs.n; i++) {
		if (!t.envs.items[i].value && !kvlist_has(&given, t.envs.items[i].key)) {
			cli_error("%s: envs.%s has no value: pass --env %s=VALUE", argv[optind],
				  t.envs.items[i].key, t.envs.items[i].key);
			goto out;
		}
	}
	if (budget > 0)
		t.budget = budget;
	if (sweep) {
		/* Command-line sweep settings over the task file's sweep: section. */
		size_t k;
		for (k = 0; k < over.n_params; k++) {
			struct strbuf arg = STRBUF_INIT;
			const struct sweep_param *sp = &over.params[k];
			size_t v;
			strbuf_addf(&arg, "%s=", sp->name);
			if (sp->range)
				strbuf_adds(&arg, sp->range);
			for (v = 0; v < sp->n_values; v++)
				strbuf_addf(&arg, "%s%s", v ? "," : "", sp->values[v]);
			sweep_add_param(&t.sweep, arg.buf, NULL);
			strbuf_release(&arg);
		}
		if (method >= 0)
			t.sweep.method = (enum sweep_method)method;
		else if (!t.sweep.method)
			t.sweep.method = SWEEP_GRID;
		if (max_parallel > 0)
			t.sweep.max_parallel = max_parallel;
		if (trials > 0)
			t.sweep.trials = trials;
		if (has_seed) {
			t.sweep.seed = seed;
			t.sweep.has_seed = 1;
		}
		if (!t.sweep.n_params) {
			cli_error("a sweep needs parameters: --param NAME=v1,v2 or a sweep: section");
			r = 2;
			goto out;
		}
		if (t.sweep.method == SWEEP_RANDOM && t.sweep.trials < 1) {
			cli_error("--method random needs --trials N");
			r = 2;
			goto out;
		}
	}
	if (collect_secrets(&t, &given, &values) < 0)
		goto out;
	if (cli_plan(&c, &t, backend, &pl) < 0)
		goto out;
	if (dry) {
		r = dry_run(&c, &t, &pl, estimate, json);
		goto out;
	}
	/* Budgets before the question: never ask about a launch that would be
	 * refused anyway. */
	if (t.sweep.method == SWEEP_NONE && cli_check_budget(&c, &t, &pl, estimate) < 0)
		goto out;
	if (!yes && !json && provider_is_paid(pl.backend) && isatty(STDIN_FILENO) &&
	    isatty(STDERR_FILENO) && !confirm(&t, &pl)) {
		fprintf(stderr, "Not launched.\n");
		goto out;
	}
	if (cli_seal_secrets(&c, &values, &box) < 0 || !cli_store(&c) ||
	    cli_upload_mounts(&c, &t, json) < 0)
		goto out;
	if (t.sweep.method != SWEEP_NONE) {
		r = cli_launch_sweep(&c, &t, &pl, &box, estimate, detach, json);
		goto out;
	}
	if (cli_record_job(&c, &t, &pl, &box, NULL, NULL, &j) < 0)
		goto out;
	if (controller_ensure(&c.home, &err) < 0) {
		cli_error("job %s is recorded but %s", j.id, error_msg(&err));
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s?, s:s, s:s}", "job_id", j.id, "name", j.name,
				      "status", "PENDING", "backend", pl.backend);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		fflush(stdout);
	} else {
		if (!detach)
			cli_print_plan(&t, &pl, stderr);
		printf("%s\n", j.id);
		fflush(stdout);
		if (!detach)
			fprintf(stderr, "Job %s submitted. Following its logs (Ctrl-C stops following;"
				" the job keeps running).\n", j.id);
	}
	if (detach || json) {
		r = 0;
		goto out;
	}
	r = follow_job(&c, j.id, 1, 0, 1);
out:
	kvlist_release(&values);	/* values are zeroed */
	kvlist_release(&given);
	kvlist_release(&envs);
	strbuf_release(&box);
	{
		size_t k, v;
		for (k = 0; k < over.n_params; k++) {
			free(over.params[k].name);
			for (v = 0; v < over.params[k].n_values; v++)
				free(over.params[k].values[v]);
			free(over.params[k].values);
			free(over.params[k].range);
		}
		free(over.params);
	}
	job_release(&j);
	plan_release(&pl);
	task_release(&t);
	if (opened)
		cli_close(&c);
	return r;
}
