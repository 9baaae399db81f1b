/*
 * sweep: many jobs from one task, one per parameter set.
 *
 *   frugal sweep TASK.yaml --param LR=1e-3,1e-4 --param BS=16,32
 *                [--max-parallel N] [--method grid|random --trials N --seed S]
 *                [--budget USD] [--estimate 1h] [--env K=V]... [--secret K[=V]]...
 *                [-d] [--json]
 *   frugal sweep status SWEEP [--sort METRIC|-METRIC] [--json]
 *
 * A task file's own `sweep:` section is used by `frugal launch` the same
 * way; --param adds to it or replaces a parameter.
 */
#include "cli/cli.h"
#include "base/money.h"
#include "spec/suggest.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "controller/controller.h"
#include "spec/sweep.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- launching ---- */

/* How many of n trials at each micro-dollars the sweep budget and what is
 * left of budgets.monthly cover; prints why when not all. */
static size_t budget_fit(struct cli *c, const struct task *t, const struct plan *pl,
			 int64_t given_s, size_t n)
{
	int64_t secs, each = cli_estimate(t, pl, given_s, &secs), left = 0;
	int64_t budget = money_from_usd(t->budget);
	size_t fit = n;
	char d[32], usd[32];

	if (t->budget > 0 && each > 0 && (int64_t)fit * each > budget)
		fit = (size_t)(budget / each);
	if (cli_month_left(c, &left) == 0 && each > 0 && (int64_t)fit * each > left)
		fit = left > 0 ? (size_t)(left / each) : 0;
	if (fit < n) {
		duration_format(secs, d, sizeof(d));
		money_format(each, usd, sizeof(usd));
		fprintf(stderr, "frugal: %s covers %zu of %zu trials at %s each (%s at $%.2f/h);"
			" %s\n", t->budget > 0 && (int64_t)n * each > budget ? "the sweep budget" :
			"what is left of the monthly budget", fit, n, usd, d, pl->price_per_hour,
			fit ? "the rest are not launched" : "nothing was launched");
	}
	return fit;
}

int cli_sweep_fit(struct cli *c, const struct task *t, const struct plan *pl, int64_t given_s,
		  size_t *ret_fit, size_t *ret_total)
{
	struct trial_list trials = { 0 };
	struct error err = ERROR_INIT;

	if (sweep_expand(&t->sweep, t->sweep.has_seed ? t->sweep.seed : 1, &trials, &err) < 0) {
		cli_error("%s: %s", t->path ? t->path : "sweep", error_msg(&err));
		return -1;
	}
	*ret_total = trials.n;
	*ret_fit = budget_fit(c, t, pl, given_s, trials.n);
	trial_list_release(&trials);
	return 0;
}

int cli_launch_sweep(struct cli *c, struct task *t, const struct plan *pl,
		     const struct strbuf *box, int64_t estimate_secs, int detach, int json)
{
	struct trial_list trials = { 0 };
	struct error err = ERROR_INIT;
	struct sweep_row sw;
	struct strbuf ids = STRBUF_INIT;
	int64_t seed;
	size_t fit, i;
	int r = 1;

	memset(&sw, 0, sizeof(sw));
	seed = t->sweep.has_seed ? t->sweep.seed : (int64_t)(time_now_ms() & 0x7fffffff);
	if (sweep_expand(&t->sweep, seed, &trials, &err) < 0) {
		cli_error("%s: %s", t->path ? t->path : "sweep", error_msg(&err));
		return 1;
	}
	fit = budget_fit(c, t, pl, estimate_secs, trials.n);
	if (!fit)
		goto out;
	sw.name = t->name ? xstrdup(t->name) : NULL;
	sw.method = xstrdup(t->sweep.method == SWEEP_RANDOM ? "random" : "grid");
	sw.max_parallel = t->sweep.max_parallel;
	sw.budget = t->budget;
	sw.seed = seed;
	sw.trials = (int)fit;
	sw.refused = (int)(trials.n - fit);
	if (store_sweep_insert(c->st, &sw, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	for (i = 0; i < fit; i++) {
		struct task trial = *t;
		struct kvlist envs = { 0 };
		struct job j;
		char *name = xasprintf("%s-%zu", t->name ? t->name : sw.id, i + 1);
		size_t k;

		/* The trial: the task with the parameters in its environment. */
		for (k = 0; k < t->envs.n; k++)
			kvlist_set(&envs, t->envs.items[k].key, t->envs.items[k].value);
		for (k = 0; k < trials.items[i].n; k++)
			kvlist_set(&envs, trials.items[i].items[k].key, trials.items[i].items[k].value);
		trial.envs = envs;
		trial.name = name;
		memset(&trial.sweep, 0, sizeof(trial.sweep));
		trial.budget = 0;
		r = cli_record_job(c, &trial, pl, box, sw.id, &trials.items[i], &j);
		kvlist_release(&envs);
		free(name);
		if (r < 0) {
			r = 1;
			goto out;
		}
		strbuf_addf(&ids, "%s%s", ids.len ? " " : "", j.id);
		job_release(&j);
	}
	if (controller_ensure(&c->home, &err) < 0) {
		cli_error("sweep %s is recorded but %s", sw.id, error_msg(&err));
		r = 1;
		goto out;
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:i, s:i, s:s}", "sweep_id", sw.id, "trials", (int)fit,
				      "refused", sw.refused, "jobs", ids.buf);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	} else {
		char par[32];

		snprintf(par, sizeof(par), "%d", sw.max_parallel);
		printf("%s\n", sw.id);
		fprintf(stderr, "Sweep %s: %zu trials (%s, seed %lld, at most %s at once): %s\n",
			sw.id, fit, sw.method, (long long)seed, sw.max_parallel ? par : "all",
			ids.buf);
	}
	fflush(stdout);
	r = 0;
	if (!detach && !json)
		r = cli_follow_sweep(c, sw.id);
out:
	strbuf_release(&ids);
	sweep_row_release(&sw);
	trial_list_release(&trials);
	return r;
}

/* ---- the table of trials ---- */

struct row {
	const struct job *j;
	json_t *params;
	json_t *metrics;
	double key;		/* the sort metric, NAN when absent */
	struct job_spend spend;	/* cost so far (cli_job_spend) */
};

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (isnan(x->key) != isnan(y->key))
		return isnan(x->key) ? 1 : -1;
	if (isnan(x->key) || x->key == y->key)
		return x->j->seq < y->j->seq ? -1 : 1;
	return x->key < y->key ? -1 : 1;
}

static void add_keys(json_t *obj, json_t *set)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
		json_object_set_new(set, k, json_true());
}

static char *value_text(json_t *v)
{
	if (!v)
		return xstrdup("-");
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return xasprintf("%.6g", json_real_value(v));
	return xstrdup(json_is_true(v) ? "true" : "false");
}

int cli_sweep_status(struct cli *c, const char *id, const char *sort, int json)
{
	struct error err = ERROR_INIT;
	struct job_list jobs = { 0 };
	struct sweep_row sw;
	struct row *rows = NULL;
	json_t *pkeys = json_object(), *mkeys = json_object();
	const char *metric = sort, *k;
	json_t *v;
	int desc = 0, r = 1, done = 0, ok = 0, running = 0;
	struct attempt_list live = { 0 };
	int64_t total = 0, now = time_now_ms();
	size_t i;

	if (store_sweep_get(c->st, id, &sw, &err) < 0) {
		cli_error_e(&err);
		json_decref(pkeys);
		json_decref(mkeys);
		return 1;
	}
	if (store_job_list_sweep(c->st, sw.id, &jobs, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	if (store_attempt_list_live(c->st, &live, &err) < 0) {
		cli_error_e(&err);
		goto out;
	}
	rows = xcalloc(jobs.n + 1, sizeof(*rows));
	for (i = 0; i < jobs.n; i++) {
		rows[i].j = &jobs.items[i];
		rows[i].params = jobs.items[i].params_json ?
				 json_loads(jobs.items[i].params_json, 0, NULL) : NULL;
		rows[i].metrics = jobs.items[i].metrics_json ?
				  json_loads(jobs.items[i].metrics_json, 0, NULL) : NULL;
		if (rows[i].params)
			add_keys(rows[i].params, pkeys);
		if (rows[i].metrics)
			add_keys(rows[i].metrics, mkeys);
		cli_job_spend(&jobs.items[i], &live, now, &rows[i].spend);
		total += rows[i].spend.micro;
		running |= rows[i].spend.running;
		done += job_status_is_terminal(jobs.items[i].status);
		ok += jobs.items[i].status == JOB_SUCCEEDED;
	}
	if (metric && *metric == '-') {
		desc = 1;
		metric++;
	}
	if (!metric && json_object_get(mkeys, "loss"))
		metric = "loss";
	if (metric && sort && !json_object_get(mkeys, metric)) {
		/* A metric no trial reported: say so rather than drop "best". */
		struct strbuf names = STRBUF_INIT;
		const char *near;
		const char *list[64];
		size_t n = 0;
		json_object_foreach(mkeys, k, v) {
			strbuf_addf(&names, "%s%s", names.len ? ", " : "", k);
			if (n < 64)
				list[n++] = k;
		}
		near = suggest_nearest(metric, list, n);
		cli_error("--sort: no trial of sweep %s reported '%s'%s%s%s; the metrics are: %s",
			  sw.id, metric, near ? " (did you mean '" : "", near ? near : "",
			  near ? "'?)" : "", names.len ? names.buf : "none yet");
		strbuf_release(&names);
		goto out;
	}
	for (i = 0; i < jobs.n; i++) {
		json_t *m = metric && rows[i].metrics ? json_object_get(rows[i].metrics, metric) : NULL;
		rows[i].key = json_is_number(m) ? json_number_value(m) : NAN;
		if (desc && !isnan(rows[i].key))
			rows[i].key = -rows[i].key;
	}
	qsort(rows, jobs.n, sizeof(*rows), cmp_rows);
	if (json) {
		json_t *arr = json_array(), *doc;
		for (i = 0; i < jobs.n; i++) {
			json_t *o = json_pack("{s:s, s:s, s:i, s:f}", "id", rows[i].j->id, "status",
					      job_status_name(rows[i].j->status), "attempts",
					      rows[i].j->n_attempts, "cost_usd",
					      money_to_usd(rows[i].spend.micro));
			json_object_set_new(o, "cost_micro", json_integer(rows[i].spend.micro));
			json_object_set_new(o, "cost_running", json_boolean(rows[i].spend.running));
			json_object_set_new(o, "params", rows[i].params ? json_incref(rows[i].params) :
					    json_object());
			json_object_set_new(o, "metrics", rows[i].metrics ? json_incref(rows[i].metrics) :
					    json_object());
			json_array_append_new(arr, o);
		}
		doc = json_pack("{s:s, s:s?, s:s, s:I, s:i, s:i, s:f, s:f, s:o}", "sweep_id", sw.id,
				"name", sw.name, "method", sw.method, "seed", (json_int_t)sw.seed,
				"max_parallel", sw.max_parallel, "refused", sw.refused, "budget_usd",
				sw.budget, "cost_usd", money_to_usd(total), "trials", arr);
		json_object_set_new(doc, "cost_micro", json_integer(total));
		json_object_set_new(doc, "cost_running", json_boolean(running));
		if (metric && jobs.n && !isnan(rows[0].key))
			json_object_set_new(doc, "best", json_string(rows[0].j->id));
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
	} else {
		size_t np = json_object_size(pkeys), nm = json_object_size(mkeys);
		size_t ncols = 4 + np + nm, col;
		const char **hdr = xcalloc(ncols, sizeof(char *));
		char **cells = xcalloc(ncols, sizeof(char *));
		struct table *t;
		char cost[32];

		col = 0;
		hdr[col++] = "TRIAL";
		json_object_foreach(pkeys, k, v)
			hdr[col++] = k;
		hdr[col++] = "STATUS";
		hdr[col++] = "ATTEMPTS";
		hdr[col++] = "COST";
		json_object_foreach(mkeys, k, v)
			hdr[col++] = k;
		t = table_newv((int)ncols, hdr);
		for (i = 0; i < jobs.n; i++) {
			col = 0;
			cells[col++] = xstrdup(rows[i].j->id);
			json_object_foreach(pkeys, k, v)
				cells[col++] = value_text(rows[i].params ?
							  json_object_get(rows[i].params, k) : NULL);
			cells[col++] = xstrdup(job_status_name(rows[i].j->status));
			cells[col++] = xasprintf("%d", rows[i].j->n_attempts);
			money_format(rows[i].spend.micro, cost, sizeof(cost));
			cells[col++] = xasprintf("%s%s", cost, rows[i].spend.running ? " (running)" : "");
			json_object_foreach(mkeys, k, v)
				cells[col++] = value_text(rows[i].metrics ?
							  json_object_get(rows[i].metrics, k) : NULL);
			table_addv(t, (const char **)cells);
			for (col = 0; col < ncols; col++)
				free(cells[col]);
		}
		money_format(total, cost, sizeof(cost));
		printf("Sweep %s%s%s: %s, %zu trials (%d done, %d succeeded%s), cost %s%s", sw.id,
		       sw.name ? " " : "", sw.name ? sw.name : "", sw.method, jobs.n, done, ok,
		       sw.refused ? ", more refused by the budget" : "", cost,
		       running ? " (running)" : "");
		if (sw.budget > 0) {
			money_format(money_from_usd(sw.budget), cost, sizeof(cost));
			printf(" of budget %s", cost);
		}
		printf("\n");
		table_print(t, stdout);
		table_free(t);
		free(hdr);
		free(cells);
		if (metric && jobs.n && !isnan(rows[0].key)) {
			char *params = rows[0].params ? json_dumps(rows[0].params, JSON_COMPACT |
								   JSON_SORT_KEYS) : xstrdup("{}");
			printf("best: %s %s %s=%.6g\n", rows[0].j->id, params, metric,
			       desc ? -rows[0].key : rows[0].key);
			free(params);
		}
	}
	r = 0;
out:
	for (i = 0; rows && i < jobs.n; i++) {
		json_decref(rows[i].params);
		json_decref(rows[i].metrics);
	}
	free(rows);
	json_decref(pkeys);
	json_decref(mkeys);
	job_list_release(&jobs);
	attempt_list_release(&live);
	sweep_row_release(&sw);
	return r;
}

/* Wait until every trial ends, a line per trial as it does. */
int cli_follow_sweep(struct cli *c, const char *sweep_id)
{
	struct job_list jobs = { 0 };
	char *seen = NULL;
	size_t n_seen = 0, i, left;
	int failed = 0;

	for (;;) {
		if (store_job_list_sweep(c->st, sweep_id, &jobs, NULL) < 0)
			return 1;
		if (jobs.n > n_seen) {
			seen = xrealloc(seen, jobs.n);
			memset(seen + n_seen, 0, jobs.n - n_seen);
			n_seen = jobs.n;
		}
		left = 0;
		for (i = 0; i < jobs.n; i++) {
			const struct job *j = &jobs.items[i];
			char cost[32];

			if (!job_status_is_terminal(j->status)) {
				left++;
				continue;
			}
			if (seen[i])
				continue;
			seen[i] = 1;
			failed += j->status != JOB_SUCCEEDED;
			money_format(j->cost_micro, cost, sizeof(cost));
			fprintf(stderr, "trial %s %s %s %s %s\n", j->id, j->params_json ?
				j->params_json : "", job_status_name(j->status), cost,
				j->metrics_json ? j->metrics_json : "");
		}
		job_list_release(&jobs);
		if (!left)
			break;
		time_sleep_ms(200);
	}
	free(seen);
	cli_sweep_status(c, sweep_id, NULL, 0);
	return failed ? 1 : 0;
}

/* ---- the command ---- */

static int sweep_status_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sort", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sort = NULL;
	int json = 0, opt, r = 1;
	struct cli c;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 's')
			sort = optarg;
		else if (opt == 'j')
			json = 1;
		else
			return 2;
	}
	if (optind != argc - 1) {
		cli_error("usage: frugal sweep status SWEEP [--sort METRIC|-METRIC] [--json]");
		return 2;
	}
	if (cli_open(&c) == 0 && cli_store(&c))
		r = cli_sweep_status(&c, argv[optind], sort, json);
	cli_close(&c);
	return r;
}

int cmd_sweep(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return sweep_status_cmd(argc - 1, argv + 1);
	return cli_launch_main(argc, argv, 1);
}
