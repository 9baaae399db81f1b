/*
 * submit: what launch and sweep share once a task is planned: sealing the
 * secrets, estimating the cost, checking budgets, and recording jobs and
 * sweeps in the store.
 */
#include "cli/cli.h"
#include "base/money.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"
#include "storage/dataset.h"
#include "util/secretbox.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cli_seal_secrets(struct cli *c, const struct kvlist *values, struct strbuf *ret)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	struct error err = ERROR_INIT;
	json_t *o;
	char *plain;
	size_t i;
	int r;

	if (!values->n)
		return 0;
	if ((r = secretbox_key_load(c->home.key, key, &err)) < 0) {
		cli_error_e(&err);
		return -1;
	}
	o = json_object();
	for (i = 0; i < values->n; i++)
		json_object_set_new(o, values->items[i].key, json_string(values->items[i].value));
	plain = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	r = secretbox_seal(key, plain, strlen(plain), ret, &err);
	secure_free(plain);
	secure_zero(key, sizeof(key));
	if (r < 0) {
		cli_error_e(&err);
		return -1;
	}
	return 0;
}

int64_t cli_estimate_secs(const struct task *t, int64_t given_s, const char **ret_why)
{
	const char *why = "--estimate";
	int64_t secs = given_s;

	if (secs <= 0 && t->stop.max_runtime) {
		secs = t->stop.max_runtime;
		why = "stop.max_runtime";
	} else if (secs <= 0) {
		secs = CLI_DEFAULT_ESTIMATE_S;
		why = "the default, without --estimate or stop.max_runtime";
	}
	if (ret_why)
		*ret_why = why;
	return secs;
}

int64_t cli_estimate(const struct task *t, const struct plan *pl, int64_t given_s,
		     int64_t *ret_secs)
{
	int64_t secs = cli_estimate_secs(t, given_s, NULL);

	if (ret_secs)
		*ret_secs = secs;
	/* num_nodes: every node billed alike. */
	return billing_cost_micro(billing_rule_for(pl->backend), pl->price_per_hour, secs) *
	       (t->num_nodes > 1 ? t->num_nodes : 1);
}

int cli_month_spent(struct cli *c, int64_t *ret_micro)
{
	struct attempt_list live = { 0 };
	int64_t spent = 0, now = time_now_ms();
	size_t i;

	if (!cli_store(c) || store_cost_since(c->st, time_month_start_ms(), &spent, NULL) < 0 ||
	    store_attempt_list_live(c->st, &live, NULL) < 0)
		return -1;
	for (i = 0; i < live.n; i++) {
		struct attempt_cost cost;
		attempt_cost(&live.items[i], now, &cost);
		spent += cost.micro;
	}
	attempt_list_release(&live);
	*ret_micro = spent;
	return 0;
}

int cli_month_left(struct cli *c, int64_t *ret_left_micro)
{
	int64_t spent;

	if (c->cfg.budget_monthly <= 0)
		return 1;
	if (cli_month_spent(c, &spent) < 0)
		return -1;
	*ret_left_micro = money_from_usd(c->cfg.budget_monthly) - spent;
	return 0;
}

int cli_check_budget(struct cli *c, const struct task *t, const struct plan *pl,
		     int64_t given_s)
{
	const char *why;
	int64_t secs = cli_estimate_secs(t, given_s, &why);
	int64_t cost = cli_estimate(t, pl, given_s, NULL), left = 0;
	char d[32], usd[32], bud[32], lft[32], rule[64];

	duration_format(secs, d, sizeof(d));
	money_format(cost, usd, sizeof(usd));
	billing_rule_text(billing_rule_for(pl->backend), rule, sizeof(rule));
	if (t->budget > 0 && cost > money_from_usd(t->budget)) {
		money_format(money_from_usd(t->budget), bud, sizeof(bud));
		cli_error("%s: the estimate %s (%s from %s, at $%.4f/h, %s) is above budget %s;"
			  " %s", t->path ? t->path : "task", usd, d, why, pl->price_per_hour, rule,
			  bud, given_s > 0 ? "raise budget or pass a shorter --estimate" :
			  "raise budget, lower stop.max_runtime, or pass --estimate");
		return -1;
	}
	if (cli_month_left(c, &left) == 0 && cost > left) {
		money_format(left > 0 ? left : 0, lft, sizeof(lft));
		money_format(money_from_usd(c->cfg.budget_monthly), bud, sizeof(bud));
		cli_error("the estimate %s (%s from %s, at $%.4f/h) is above what is left of the"
			  " monthly budget: %s of %s (budgets.monthly in %s)", usd, d, why,
			  pl->price_per_hour, lft, bud, c->home.config);
		return -1;
	}
	return 0;
}

int cli_upload_mounts(struct cli *c, struct task *t, int quiet)
{
	struct strbuf note = STRBUF_INIT;
	struct storage *st = NULL;
	struct error err = ERROR_INIT;
	size_t i;
	int r = 0;

	for (i = 0; i < t->file_mounts.n; i++) {
		struct file_mount *m = &t->file_mounts.items[i];
		struct dataset_stats ds = DATASET_STATS_INIT;
		char id[DATASET_ID_LEN + 1];

		if (!m->local)
			continue;
		if (!st && storage_open(cli_storage_url(c), &st, &err) < 0) {
			cli_error("file_mounts.%s: cannot open the storage %s: %s", m->dst,
				  cli_storage_url(c), error_msg(&err));
			r = -1;
			goto out;
		}
		if (dataset_upload(st, m->source, id, &ds, &err) < 0) {
			cli_error("file_mounts.%s: cannot upload '%s': %s", m->dst, m->source,
				  error_msg(&err));
			r = -1;
			goto out;
		}
		free(m->dataset);
		m->dataset = xstrdup(id);
		strbuf_addf(&note, "%s%s: %llu files, %llu bytes, %llu files (%llu bytes) uploaded, "
			    "%llu already stored%s", note.len ? "; " : "", m->dst,
			    (unsigned long long)ds.files, (unsigned long long)ds.bytes,
			    (unsigned long long)ds.sent_files, (unsigned long long)ds.sent_bytes,
			    (unsigned long long)(ds.files - ds.sent_files),
			    ds.skipped ? " (links and special files left out)" : "");
	}
	if (note.len) {
		if (!quiet)
			fprintf(stderr, "file_mounts: %s\n", note.buf);
		free(c->mounts_note);
		c->mounts_note = strbuf_detach(&note, NULL);
	}
out:
	strbuf_release(&note);
	storage_free(st);
	return r;
}

int cli_record_job(struct cli *c, const struct task *t, const struct plan *pl,
		   const struct strbuf *box, const char *sweep_id, const struct kvlist *params,
		   struct job *ret)
{
	struct strbuf acc = STRBUF_INIT;
	struct error err = ERROR_INIT;
	struct job j;
	int r;

	memset(&j, 0, sizeof(j));
	task_format_accels(&t->res, &acc);
	j.name = t->name ? xstrdup(t->name) : NULL;
	j.task_json = task_to_json(t);
	j.backend = xstrdup(pl->backend);
	j.accelerators = xstrdup(acc.len ? acc.buf : "-");
	j.gpus = pl->gpus;
	j.outputs_url = t->outputs.to ? xstrdup(t->outputs.to) : NULL;
	j.storage_url = xstrdup(cli_storage_url(c));
	j.sweep_id = sweep_id ? xstrdup(sweep_id) : NULL;
	j.budget = sweep_id ? 0 : t->budget;
	if (params && params->n) {
		json_t *o = json_object();
		size_t i;
		for (i = 0; i < params->n; i++)
			json_object_set_new(o, params->items[i].key,
					    json_string(params->items[i].value));
		j.params_json = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	r = store_job_insert(c->st, &j, box && box->len ? box->buf : NULL, box ? box->len : 0,
			     &err);
	strbuf_release(&acc);
	if (r < 0) {
		cli_error_e(&err);
		job_release(&j);
		return -1;
	}
	store_event_add(c->st, j.id, "submitted", "on %s, %s at $%.4f/h%s%s", pl->backend,
			pl->instance_type, pl->price_per_hour, sweep_id ? ", sweep " : "",
			sweep_id ? sweep_id : "");
	if (c->mounts_note)
		store_event_add(c->st, j.id, "file_mounts", "%s", c->mounts_note);
	*ret = j;
	return 0;
}
