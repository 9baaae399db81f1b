/*
 * submit: what launch and sweep share once a task is planned: sealing the
 * secrets, estimating the cost, checking budgets, and recording jobs and
 * sweeps in the store.
 */
#include "cli/cli.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "catalog/billing.h"
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
	secure_zero(plain, strlen(plain));
	free(plain);
	secure_zero(key, sizeof(key));
	if (r < 0) {
		cli_error_e(&err);
		return -1;
	}
	return 0;
}

double cli_estimate(const struct task *t, const struct plan *pl, int64_t default_secs,
		    int64_t *ret_secs)
{
	int64_t secs = t->stop.max_runtime ? t->stop.max_runtime : default_secs;

	if (ret_secs)
		*ret_secs = secs;
	return billing_cost(pl->backend, pl->price_per_hour, secs);
}

int cli_month_left(struct cli *c, double *ret_left)
{
	struct attempt_list live = { 0 };
	double spent = 0;
	size_t i;

	if (c->cfg.budget_monthly <= 0) {
		*ret_left = -1;
		return 0;
	}
	if (store_cost_since(c->st, time_month_start_ms(), &spent, NULL) < 0 ||
	    store_attempt_list_live(c->st, &live, NULL) < 0)
		return -1;
	for (i = 0; i < live.n; i++)
		spent += billing_cost(live.items[i].backend, live.items[i].price_per_hour,
				      (time_now_ms() - live.items[i].started_at) / 1000);
	attempt_list_release(&live);
	*ret_left = c->cfg.budget_monthly - spent;
	return 0;
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
	*ret = j;
	return 0;
}
