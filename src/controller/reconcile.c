#include "controller/reconcile.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "base/money.h"
#include "catalog/billing.h"
#include "contract/key.h"
#include "contract/status.h"
#include "backend/provider.h"
#include "spec/config.h"
#include "spec/task.h"
#include "storage/storage.h"
#include "store/store.h"
#include "util/secretbox.h"

#include <jansson.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

/* How long a cancelled job's agent gets to stop before a hard teardown. */
#define CANCEL_GRACE_MS 3000

/* How often a storage that cannot be opened is tried again. */
#define STORAGE_RETRY_MS (30 * 1000)

/* How long a location that had no capacity stays out of the choices. */
#define CAPACITY_BLOCK_MS (15 * 60 * 1000)

struct stopping {
	char job_id[JOB_ID_MAX];
	int64_t since;
};

/* A storage a job was submitted with, other than config.yaml's. */
struct pinned_storage {
	char *url;
	struct storage *st;
};

struct reconciler {
	struct home home;
	struct config cfg;
	struct store *st;
	struct storage *storage;	/* NULL while it cannot be opened: rec_storage() */
	int64_t storage_retry_at;	/* time_mono_ms() of the next try */
	char *storage_url;
	struct provider *providers[8];
	size_t n_providers;
	struct stopping *stops;
	size_t n_stops, alloc_stops;
	struct pinned_storage *job_st;	/* storages jobs were submitted with */
	size_t n_job_st, alloc_job_st;
	int resolved;		/* creating rows looked at */
	int again;		/* capacity freed or a job needs relaunch: pass again */
};

/* What the agent last reported for an attempt (status.json). */
struct agent_status {
	char *phase;
	char *outcome;
	char *reason;
	char *metrics;		/* JSON object text, or NULL */
	int has_exit;
	int exit_code;
	int64_t heartbeat_at;
};

static void agent_status_release(struct agent_status *s)
{
	free(s->phase);
	free(s->outcome);
	free(s->reason);
	free(s->metrics);
	memset(s, 0, sizeof(*s));
}

/*
 * The storage, opened on first use and, while that fails, again every
 * STORAGE_RETRY_MS (each failure logged); NULL until it opens. Only what
 * reads the storage waits for it: jobs of other backends, cancel and
 * teardown go on.
 */
static struct storage *rec_storage(struct reconciler *rec)
{
	struct error err = ERROR_INIT;
	int64_t now = time_mono_ms();

	if (rec->storage || now < rec->storage_retry_at)
		return rec->storage;
	if (storage_open(rec->storage_url, &rec->storage, &err) < 0) {
		rec->storage = NULL;
		rec->storage_retry_at = now + STORAGE_RETRY_MS;
		log_error("storage %s cannot be opened (trying again in %d s): %s",
			  rec->storage_url, STORAGE_RETRY_MS / 1000, error_msg(&err));
	}
	return rec->storage;
}

int reconciler_new(const struct home *h, struct reconciler **ret, struct error *err)
{
	struct reconciler *rec = xcalloc(1, sizeof(*rec));
	struct diag_list diags = DIAG_LIST_INIT;
	int r;

	rec->home.dir = xstrdup(h->dir);
	rec->home.db = xstrdup(h->db);
	rec->home.config = xstrdup(h->config);
	rec->home.key = xstrdup(h->key);
	rec->home.socket = xstrdup(h->socket);
	rec->home.lock = xstrdup(h->lock);
	rec->home.pidfile = xstrdup(h->pidfile);
	rec->home.controller_log = xstrdup(h->controller_log);
	rec->home.instances = xstrdup(h->instances);
	rec->home.storage_url = xstrdup(h->storage_url);
	config_init(&rec->cfg);
	if ((r = config_load(h->config, &rec->cfg, &diags)) < 0) {
		struct strbuf sb = STRBUF_INIT;
		diag_list_format(&diags, &sb);
		error_set(err, r, "%s", sb.buf);
		strbuf_release(&sb);
		goto fail;
	}
	if ((r = store_open(h->db, &rec->st, err)) < 0)
		goto fail;
	rec->storage_url = xstrdup(rec->cfg.storage_url ? rec->cfg.storage_url : h->storage_url);
	/* An unreachable storage (gs:// without credentials) must not stop
	 * the controller: it is logged and tried again (rec_storage). */
	rec_storage(rec);
	diag_list_release(&diags);
	*ret = rec;
	return 0;
fail:
	diag_list_release(&diags);
	reconciler_free(rec);
	return r;
}

void reconciler_free(struct reconciler *rec)
{
	size_t i;

	if (!rec)
		return;
	for (i = 0; i < rec->n_providers; i++)
		provider_free(rec->providers[i]);
	storage_free(rec->storage);
	for (i = 0; i < rec->n_job_st; i++) {
		storage_free(rec->job_st[i].st);
		free(rec->job_st[i].url);
	}
	free(rec->job_st);
	store_free(rec->st);
	config_release(&rec->cfg);
	home_release(&rec->home);
	free(rec->storage_url);
	free(rec->stops);
	free(rec);
}

static struct provider *get_provider(struct reconciler *rec, const char *name,
				     struct error *err)
{
	struct provider *p;
	size_t i;

	for (i = 0; i < rec->n_providers; i++)
		if (!strcmp(rec->providers[i]->ops->name, name))
			return rec->providers[i];
	if (rec->n_providers == sizeof(rec->providers) / sizeof(rec->providers[0]))
		return NULL;
	if (provider_open(name, &rec->cfg, rec->home.dir, &p, err) < 0)
		return NULL;
	p->st = rec->st;
	rec->providers[rec->n_providers++] = p;
	return p;
}

/* ---- cancel bookkeeping (in memory: a restart just asks again) ---- */

static int64_t stop_since(struct reconciler *rec, const char *id, int add)
{
	size_t i;

	for (i = 0; i < rec->n_stops; i++)
		if (!strcmp(rec->stops[i].job_id, id))
			return rec->stops[i].since;
	if (!add)
		return 0;
	XGROW(rec->stops, rec->n_stops + 1, rec->alloc_stops);
	snprintf(rec->stops[rec->n_stops].job_id, JOB_ID_MAX, "%s", id);
	rec->stops[rec->n_stops].since = time_mono_ms();
	return rec->stops[rec->n_stops++].since;
}

static void stop_forget(struct reconciler *rec, const char *id)
{
	size_t i;

	for (i = 0; i < rec->n_stops; i++)
		if (!strcmp(rec->stops[i].job_id, id)) {
			rec->stops[i] = rec->stops[--rec->n_stops];
			return;
		}
}

/* ---- agent status ---- */

/*
 * The storage of job job_id and its URL: the one it was submitted with
 * (opened once, then kept), whatever config.yaml says now; config.yaml's
 * for jobs recorded before that was. One that cannot be opened is
 * config.yaml's too (logged).
 */
static struct storage *job_storage(struct reconciler *rec, const char *job_id,
				   const char **ret_url)
{
	struct error err = ERROR_INIT;
	struct storage *s = NULL;
	char *url = NULL;
	size_t i;

	if (store_job_storage_url(rec->st, job_id, &url, NULL) < 0 || !url ||
	    !strcmp(url, rec->storage_url))
		goto config;
	for (i = 0; i < rec->n_job_st; i++)
		if (!strcmp(rec->job_st[i].url, url)) {
			free(url);
			*ret_url = rec->job_st[i].url;
			return rec->job_st[i].st;
		}
	if (storage_open(url, &s, &err) < 0) {
		log_error("job %s: cannot open its storage '%s': %s", job_id, url, error_msg(&err));
		goto config;
	}
	XGROW(rec->job_st, rec->n_job_st + 1, rec->alloc_job_st);
	rec->job_st[rec->n_job_st].url = url;
	rec->job_st[rec->n_job_st++].st = s;
	*ret_url = url;
	return s;
config:
	free(url);
	*ret_url = rec->storage_url;
	return rec_storage(rec);
}

/* Read status.json of an attempt (contract/status.h); FRUGAL_ENOTFOUND
 * before the agent wrote it, FRUGAL_EINVAL for a document that is not one. */
static int read_agent_status(struct reconciler *rec, const char *job_id, int n,
			     struct agent_status *ret)
{
	struct attempt_status as = ATTEMPT_STATUS_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *prefix = key_job_prefix(job_id), *key = key_status(prefix, n);
	struct storage *st;
	const char *url;
	int r;

	memset(ret, 0, sizeof(*ret));
	st = job_storage(rec, job_id, &url);
	r = st ? storage_get(st, key, 1 << 20, &sb, NULL) : FRUGAL_ENET;
	if (r == 0)
		r = attempt_status_parse(sb.buf, sb.len, &as, NULL);
	strbuf_release(&sb);
	free(key);
	free(prefix);
	if (r < 0)
		return r;
	ret->phase = xstrdup(attempt_phase_name(as.phase));
	if (as.outcome != OUTCOME_NONE)
		ret->outcome = xstrdup(attempt_outcome_name(as.outcome));
	ret->reason = TAKE_PTR(as.reason);
	ret->has_exit = as.has_exit_code;
	ret->exit_code = as.exit_code;
	ret->heartbeat_at = as.heartbeat_at;
	ret->metrics = TAKE_PTR(as.metrics_json);
	attempt_status_release(&as);
	return 0;
}

/* ---- secrets ---- */

/* Unseal a job's secrets into out (name -> value). */
static int job_secrets(struct reconciler *rec, const char *job_id, struct kvlist *out,
		       struct error *err)
{
	unsigned char key[SECRETBOX_KEY_LEN];
	struct strbuf plain = STRBUF_INIT;
	void *box = NULL;
	size_t len = 0;
	json_t *o = NULL;
	const char *k;
	json_t *v;
	int r;

	if ((r = store_job_secrets(rec->st, job_id, &box, &len, err)) < 0 || !box)
		return r;
	if ((r = secretbox_key_load(rec->home.key, key, err)) < 0)
		goto out;
	if ((r = secretbox_open(key, box, len, &plain, err)) < 0)
		goto out;
	o = json_loadb(plain.buf, plain.len, 0, NULL);
	json_object_foreach(o, k, v)
		if (json_is_string(v))
			kvlist_set(out, k, json_string_value(v));
out:
	json_decref(o);
	secure_zero(key, sizeof(key));
	secure_zero(plain.buf, plain.len);
	strbuf_release(&plain);
	free(box);
	return r;
}

/* ---- steps ---- */

static char *token_of(const char *job_id, int n)
{
	return xasprintf("%s-%d", job_id, n);
}

/* End the job (terminal status), forget its secrets. */
static void job_finish(struct reconciler *rec, const struct job *j, enum job_status s,
		       const char *reason)
{
	store_job_set_status(rec->st, j->id, s, reason, NULL);
	store_job_drop_secrets(rec->st, j->id, NULL);
	store_event_add(rec->st, j->id, "finished", "%s%s%s", job_status_name(s),
			reason ? ": " : "", reason ? reason : "");
	stop_forget(rec, j->id);
	rec->again = 1;
	fault_point("controller.after_finish");
	log_info("job %s %s%s%s", j->id, job_status_name(s), reason ? ": " : "",
		 reason ? reason : "");
}

static void attempt_record_end(struct reconciler *rec, const struct job *j,
			       const struct attempt *a, const char *outcome, int has_exit,
			       int exit_code);

/*
 * Tear an attempt's instance down (retried on every pass until the
 * provider confirms), then record the attempt's outcome and cost.
 * Returns 0 once the teardown is confirmed.
 */
static int attempt_close(struct reconciler *rec, struct provider *p, const struct job *j,
			 const struct attempt *a, const char *outcome, int has_exit,
			 int exit_code)
{
	struct resource_list open = { 0 };
	struct error err = ERROR_INIT;
	size_t i;
	int r = 0;

	if (store_resource_list_open(rec->st, j->id, &open, &err) < 0) {
		log_error("%s", error_msg(&err));
		return -1;
	}
	for (i = 0; i < open.n; i++) {
		struct resource *res = &open.items[i];

		if (res->attempt != a->n)
			continue;
		store_resource_set(rec->st, res->id, NULL, RES_DELETING, NULL);
		fault_point("controller.before_terminate");
		if (p->ops->terminate(p, res->token, res->provider_id, &err) < 0) {
			log_warn("job %s: teardown of %s not confirmed yet: %s", j->id, res->token,
				 error_msg(&err));
			r = -1;
			continue;
		}
		fault_point("controller.after_terminate");
		store_resource_set(rec->st, res->id, NULL, RES_GONE, NULL);
	}
	resource_list_release(&open);
	if (r < 0)
		return r;
	attempt_record_end(rec, j, a, outcome, has_exit, exit_code);
	return 0;
}

/* Record an attempt's end, outcome and cost (billing.h attempt_cost: the
 * price recorded at launch, never re-priced). */
static void attempt_record_end(struct reconciler *rec, const struct job *j,
			       const struct attempt *a, const char *outcome, int has_exit,
			       int exit_code)
{
	struct attempt ended = *a;
	struct attempt_cost cost;

	ended.ended_at = time_now_ms();
	ended.outcome = (char *)outcome;
	attempt_cost(&ended, ended.ended_at, &cost);
	store_attempt_end(rec->st, j->id, a->n, outcome, has_exit, exit_code, ended.ended_at,
			  NULL);
	store_cost_record(rec->st, j->id, a->n, a->backend, cost.billed_seconds, cost.micro,
			  NULL);
	if (has_exit)
		store_event_add(rec->st, j->id, "attempt", "attempt %d ended: %s, exit code %d",
				a->n, outcome, exit_code);
	else
		store_event_add(rec->st, j->id, "attempt", "attempt %d ended: %s", a->n, outcome);
	fault_point("controller.after_attempt_end");
}

/*
 * End an attempt whose launch failed, billed for what it ran: a machine
 * the provider has (or may have: it cannot say) is billed at least the
 * minimum; one it never had costs nothing (billing.h). The attempt ends
 * even when the teardown is not confirmed: the ledger row stays open for
 * `frugal gc`, and the attempt no longer reads as running.
 */
static void launch_failed_close(struct reconciler *rec, struct provider *p,
				const struct job *j, struct attempt *a, const char *token)
{
	char *id = NULL;

	if (p->ops->find(p, token, &id, NULL) < 0)
		id = xstrdup(token);	/* unknown: count it as existing */
	if (id)
		store_attempt_set_instance(rec->st, j->id, a->n, id, NULL);
	a->instance_id = id;
	if (attempt_close(rec, p, j, a, "launch_failed", 0, 0) < 0) {
		store_event_add(rec->st, j->id, "teardown", "teardown of attempt %d not confirmed;"
				" `frugal gc` ends it", a->n);
		attempt_record_end(rec, j, a, "launch_failed", 0, 0);
	}
	a->instance_id = NULL;
	free(id);
}

/* Launch a new attempt of a PENDING job when its backend has capacity.
 * Returns FRUGAL_EBUSY when it must wait (and later jobs with it). */
static int job_launch(struct reconciler *rec, const struct job *j,
		      const struct attempt_list *live)
{
	struct error err = ERROR_INIT;
	struct provider *p;
	struct task t;
	struct plan pl = { 0 };
	struct attempt a = { 0 };
	struct kvlist secrets = { 0 };
	struct launch_request req = { 0 };
	char *gpus = NULL, *token = NULL, *job_prefix = NULL, *id = NULL, *sock = NULL;
	char *outputs = NULL;
	int64_t res_id = 0;
	int n = j->n_attempts + 1, r;

	task_init(&t);
	if ((r = task_from_json(j->task_json, &t, &err)) < 0) {
		job_finish(rec, j, JOB_FAILED, "the stored task cannot be read");
		goto out;
	}
	p = get_provider(rec, j->backend, &err);
	if (!p) {
		job_finish(rec, j, JOB_FAILED, error_msg(&err));
		r = FRUGAL_ENOTSUP;
		goto out;
	}
	if ((r = p->ops->plan(p, &t, &pl, &err)) < 0) {
		if (r == FRUGAL_ECAPACITY) {
			/* Every fitting location is blocked for now: wait. */
			if (!j->reason || strcmp(j->reason, error_msg(&err)))
				store_job_set_status(rec->st, j->id, j->status, error_msg(&err), NULL);
			r = FRUGAL_EBUSY;
			goto out;
		}
		job_finish(rec, j, JOB_FAILED, error_msg(&err));
		goto out;
	}
	if ((r = p->ops->reserve(p, &t, live, &gpus, &err)) < 0) {
		if (!j->reason || strcmp(j->reason, error_msg(&err)))
			store_job_set_status(rec->st, j->id, j->status, error_msg(&err), NULL);
		r = FRUGAL_EBUSY;
		goto out;
	}
	if ((r = job_secrets(rec, j->id, &secrets, &err)) < 0) {
		job_finish(rec, j, JOB_FAILED, error_msg(&err));
		goto out;
	}

	/* Ledger row and attempt first, in one commit; then the launch. */
	token = token_of(j->id, n);
	snprintf(a.job_id, sizeof(a.job_id), "%s", j->id);
	a.n = n;
	a.backend = pl.backend;
	a.region = pl.region;
	a.zone = pl.zone;
	a.instance_type = pl.instance_type;
	a.spot = pl.spot;
	a.price_per_hour = pl.price_per_hour;
	a.gpus = gpus;
	a.started_at = time_now_ms();
	if ((r = store_begin(rec->st, &err)) < 0)
		goto out;
	if ((r = store_resource_begin(rec->st, j->id, n, p->ops->name, "instance", token,
				      &res_id, &err)) < 0 ||
	    (r = store_attempt_insert(rec->st, &a, &err)) < 0 ||
	    (r = store_job_set_status(rec->st, j->id, JOB_PROVISIONING, "", &err)) < 0) {
		store_rollback(rec->st);
		goto out;
	}
	if ((r = store_commit(rec->st, &err)) < 0)
		goto out;
	fault_point("controller.after_ledger");

	job_prefix = key_job_prefix(j->id);
	sock = xstrdup(rec->home.socket);
	req.job_id = j->id;
	req.attempt = n;
	req.restart_count = j->restarts;
	req.token = token;
	req.task_json = j->task_json;
	req.task = &t;
	req.secrets = &secrets;
	job_storage(rec, j->id, &req.storage_url);
	req.job_prefix = job_prefix;
	outputs = j->outputs_url ? xstrdup(j->outputs_url)
				 : key_outputs_url(req.storage_url, job_prefix);
	req.outputs_url = outputs;
	req.controller_socket = sock;
	req.gpus = gpus;
	if ((r = p->ops->launch(p, &req, &id, &err)) < 0) {
		log_error("job %s: launch failed: %s", j->id, error_msg(&err));
		store_event_add(rec->st, j->id, "launch_failed", "%s", error_msg(&err));
		launch_failed_close(rec, p, j, &a, token);
		if (r == FRUGAL_ECAPACITY) {
			/* No capacity there: keep that location out for a while and
			 * plan again, which picks the next candidate. */
			char why[ERROR_MSG_MAX + 64];

			store_block_add(rec->st, pl.backend, pl.region, pl.zone,
					time_now_ms() + CAPACITY_BLOCK_MS, error_msg(&err), NULL);
			snprintf(why, sizeof(why), "no capacity in %s %s/%s; trying elsewhere",
				 pl.backend, pl.region ? pl.region : "-", pl.zone ? pl.zone : "-");
			store_job_set_status(rec->st, j->id, JOB_PENDING, why, NULL);
			rec->again = 1;
			goto out;
		}
		job_finish(rec, j, JOB_FAILED, error_msg(&err));
		goto out;
	}
	fault_point("controller.after_launch");
	if ((r = store_begin(rec->st, &err)) < 0 ||
	    (r = store_resource_set(rec->st, res_id, id, RES_LIVE, &err)) < 0 ||
	    (r = store_attempt_set_instance(rec->st, j->id, n, id, &err)) < 0 ||
	    (r = store_job_set_status(rec->st, j->id, JOB_STARTING, "", &err)) < 0 ||
	    (r = store_commit(rec->st, &err)) < 0) {
		/* The ledger row stays "creating": adopted by its token next pass. */
		store_rollback(rec->st);
		rec->resolved = 0;
		log_error("job %s: attempt %d launched as %s, not recorded yet: %s", j->id, n, id,
			  error_msg(&err));
		goto out;
	}
	fault_point("controller.after_launch_recorded");
	store_event_add(rec->st, j->id, "launched", "attempt %d on %s (%s) gpus [%s]", n,
			pl.backend, pl.instance_type, gpus ? gpus : "");
	log_info("job %s: attempt %d launched on %s, instance %s", j->id, n, pl.backend, id);
	r = 0;
out:
	kvlist_release(&secrets);	/* values are zeroed */
	plan_release(&pl);
	task_release(&t);
	free(gpus);
	free(token);
	free(job_prefix);
	free(id);
	free(sock);
	free(outputs);
	return r;
}

/* Cool-down that keeps a preempted location out of the next choices. */
#define PREEMPT_COOLDOWN_MS (10 * 60 * 1000)

static int code_in(const struct task *t, int code)
{
	size_t i;

	for (i = 0; i < t->recovery.n_recover_on_exit_codes; i++)
		if (t->recovery.recover_on_exit_codes[i] == code)
			return 1;
	return 0;
}

/*
 * An attempt ended with outcome: end the job, or send it to RECOVERING
 * for a new attempt. Preemptions never count against
 * recovery.max_restarts_on_errors; exit codes in recover_on_exit_codes
 * do not either; any other failure does.
 */
static void job_after_attempt(struct reconciler *rec, const struct job *j,
			      const struct attempt *a, const char *outcome, int has_exit,
			      int exit_code, const char *reason)
{
	struct error err = ERROR_INIT;
	struct task t;
	int restart = 0, charged = 0;
	char why[256];

	if (j->cancel_requested == 2) {
		if (!strcmp(outcome, "succeeded"))
			job_finish(rec, j, JOB_SUCCEEDED, reason);
		else
			job_finish(rec, j, JOB_CANCELLED, j->reason);
		return;
	}
	if (j->cancel_requested || !strcmp(outcome, "cancelled")) {
		job_finish(rec, j, !strcmp(outcome, "succeeded") ? JOB_SUCCEEDED : JOB_CANCELLED,
			   reason);
		return;
	}
	if (!strcmp(outcome, "succeeded")) {
		job_finish(rec, j, JOB_SUCCEEDED, reason);
		return;
	}
	task_init(&t);
	if (task_from_json(j->task_json, &t, NULL) < 0) {
		job_finish(rec, j, JOB_FAILED, reason);
		task_release(&t);
		return;
	}
	if (!strcmp(outcome, "preempted")) {
		restart = 1;
		snprintf(why, sizeof(why), "preempted on attempt %d; recovering", a->n);
		store_block_add(rec->st, a->backend, a->region, a->zone,
				time_now_ms() + PREEMPT_COOLDOWN_MS, "preempted", NULL);
	} else if (!strcmp(outcome, "failed") && has_exit && code_in(&t, exit_code)) {
		restart = 1;
		snprintf(why, sizeof(why), "exit code %d is in recover_on_exit_codes; recovering",
			 exit_code);
	} else if ((!strcmp(outcome, "failed") || !strcmp(outcome, "outputs_failed")) &&
		   j->error_restarts < t.recovery.max_restarts_on_errors) {
		restart = charged = 1;
		snprintf(why, sizeof(why), "failed (%s); restart %d of %d on errors",
			 reason ? reason : outcome, j->error_restarts + 1,
			 t.recovery.max_restarts_on_errors);
	}
	task_release(&t);
	if (!restart) {
		job_finish(rec, j, JOB_FAILED, reason);
		return;
	}
	if (store_begin(rec->st, &err) < 0 ||
	    store_job_set_counts(rec->st, j->id, j->restarts + 1, j->error_restarts + charged,
				 &err) < 0 ||
	    store_job_set_status(rec->st, j->id, JOB_RECOVERING, why, &err) < 0 ||
	    store_commit(rec->st, &err) < 0) {
		/* Nothing changed: the next pass decides again. */
		store_rollback(rec->st);
		rec->again = 1;
		log_error("job %s: %s: %s", j->id, why, error_msg(&err));
		return;
	}
	store_event_add(rec->st, j->id, "recovering", "%s", why);
	rec->again = 1;
	log_info("job %s: %s", j->id, why);
	fault_point("controller.after_recovering");
}

static enum job_status status_of_phase(const char *phase)
{
	if (!phase || !strcmp(phase, "starting") || !strcmp(phase, "setup"))
		return JOB_STARTING;
	return JOB_RUNNING;
}

/* A budget stop reaches the agent as a notice; the attempt it ends is
 * budget_stopped, not preempted, whatever the agent could tell. */
static const char *budget_outcome(const struct job *j, const char *outcome)
{
	if (j->cancel_requested == 2 && !strcmp(outcome, "preempted"))
		return "budget_stopped";
	return outcome;
}

/* Follow a job whose attempt runs: phase changes, the end, cancel, and a
 * preemption notice whose deadline has come (the machine is taken). */
static void job_watch(struct reconciler *rec, const struct job *j, const struct attempt *a)
{
	struct error err = ERROR_INIT;
	struct agent_status s = { 0 };
	struct provider *p = get_provider(rec, a->backend, &err);
	enum instance_state state = INSTANCE_RUNNING;
	char *token = token_of(j->id, a->n);
	int have = read_agent_status(rec, j->id, a->n, &s) == 0;

	if (!p) {
		log_error("job %s: %s", j->id, error_msg(&err));
		goto out;
	}
	if (have && s.metrics && (!j->metrics_json || strcmp(s.metrics, j->metrics_json)))
		store_job_set_metrics(rec->st, j->id, s.metrics, NULL);
	if (have && s.outcome) {
		/* A cancel some backends can only deliver as SIGTERM reads as a
		 * preemption to the agent: it was the user's cancel. */
		const char *outcome = budget_outcome(j, s.outcome);
		const char *reason = s.reason;

		if (j->cancel_requested == 1 && !strcmp(s.outcome, "preempted")) {
			outcome = "cancelled";
			reason = "cancelled";
		}

		if (attempt_close(rec, p, j, a, outcome, s.has_exit, s.exit_code) == 0)
			job_after_attempt(rec, j, a, outcome, s.has_exit, s.exit_code, reason);
		goto out;
	}
	p->ops->describe(p, token, a->instance_id, &state, NULL);
	if (state == INSTANCE_RUNNING && a->notice_deadline &&
	    time_now_ms() > a->notice_deadline + 1000) {
		log_info("job %s: notice deadline passed: the machine is taken", j->id);
		state = INSTANCE_GONE;
	}
	/* Without the storage its outcome cannot be read: wait for it. */
	if (state == INSTANCE_GONE && !j->cancel_requested) {
		const char *url;

		if (!job_storage(rec, j->id, &url))
			goto out;
	}
	if (state == INSTANCE_GONE) {
		/* Read once more: the agent may have finished just now. */
		agent_status_release(&s);
		if (read_agent_status(rec, j->id, a->n, &s) == 0 && s.outcome) {
			const char *outcome = budget_outcome(j, s.outcome);
			if (attempt_close(rec, p, j, a, outcome, s.has_exit, s.exit_code) == 0)
				job_after_attempt(rec, j, a, outcome, s.has_exit, s.exit_code,
						  s.reason);
		} else {
			const char *outcome = j->cancel_requested == 2 ? "budget_stopped" :
					      j->cancel_requested ? "cancelled" :
					      a->notice_deadline ? "preempted" : "failed";
			const char *why = j->cancel_requested ? "cancelled" :
					  a->notice_deadline ? "preempted: the machine was taken" :
					  "the agent exited without reporting an outcome";
			if (attempt_close(rec, p, j, a, outcome, 0, 0) == 0)
				job_after_attempt(rec, j, a, outcome, 0, 0, why);
		}
		goto out;
	}
	if (j->cancel_requested == 2) {
		/* Budget: the graceful way, as a preemption notice (checkpoint,
		 * then end); the machine is taken at the deadline. */
		if (!a->notice_deadline && p->ops->notice) {
			struct task t;
			int64_t grace = 30, deadline;

			task_init(&t);
			if (task_from_json(j->task_json, &t, NULL) == 0)
				grace = t.recovery.notice_grace;
			task_release(&t);
			deadline = time_now_ms() + grace * 1000;
			store_attempt_set_notice(rec->st, j->id, a->n, deadline, NULL);
			p->ops->notice(p, token, a->instance_id, deadline, NULL);
			store_event_add(rec->st, j->id, "budget", "budget stop: %s; stopping"
					" gracefully (checkpoint, then end)",
					j->reason ? j->reason : "budget reached");
		}
		goto out;
	}
	if (j->cancel_requested) {
		int64_t since = stop_since(rec, j->id, 0);
		if (!since) {
			stop_since(rec, j->id, 1);
			p->ops->stop(p, token, a->instance_id, NULL);
			store_event_add(rec->st, j->id, "cancel", "asked the agent to stop");
		} else if (time_mono_ms() - since > CANCEL_GRACE_MS) {
			if (attempt_close(rec, p, j, a, "cancelled", 0, 0) == 0)
				job_finish(rec, j, JOB_CANCELLED, "cancelled (agent did not stop in time)");
		}
		goto out;
	}
	if (have && status_of_phase(s.phase) != j->status &&
	    !(j->status == JOB_RUNNING && status_of_phase(s.phase) == JOB_STARTING))
		store_job_set_status(rec->st, j->id, status_of_phase(s.phase), NULL, NULL);
out:
	agent_status_release(&s);
	free(token);
}

/*
 * After a crash: resources still "creating" may or may not exist at the
 * provider. Ask it under the token and adopt what exists; a launch that
 * never happened is marked gone and its attempt ended, so the job is
 * launched again.
 */
static void resolve_creating(struct reconciler *rec)
{
	struct resource_list open = { 0 };
	struct error err = ERROR_INIT;
	size_t i;

	if (store_resource_list_open(rec->st, NULL, &open, &err) < 0) {
		log_error("%s", error_msg(&err));
		return;
	}
	for (i = 0; i < open.n; i++) {
		struct resource *res = &open.items[i];
		struct provider *p;
		char *id = NULL;

		if (res->state != RES_CREATING)
			continue;
		p = get_provider(rec, res->provider, &err);
		if (!p || p->ops->find(p, res->token, &id, &err) < 0) {
			log_warn("cannot resolve %s yet: %s", res->token, error_msg(&err));
			continue;
		}
		if (!id) {
			/* Gone already, but did it run? An agent that started wrote
			 * its status: then it existed, and its outcome counts. */
			struct agent_status as;
			if (read_agent_status(rec, res->job_id, res->attempt, &as) == 0) {
				id = xstrdup("finished");
				agent_status_release(&as);
			}
		}
		if (id) {
			log_info("adopting %s (instance %s) created before a crash", res->token, id);
			if (store_begin(rec->st, &err) < 0 ||
			    store_resource_set(rec->st, res->id, id, RES_LIVE, &err) < 0 ||
			    store_attempt_set_instance(rec->st, res->job_id, res->attempt, id,
						       &err) < 0 ||
			    store_commit(rec->st, &err) < 0) {
				store_rollback(rec->st);
				rec->resolved = 0;
				log_error("cannot record %s: %s", res->token, error_msg(&err));
			}
		} else {
			log_info("%s was never created: launching again", res->token);
			p->ops->terminate(p, res->token, NULL, NULL);
			if (store_begin(rec->st, &err) < 0 ||
			    store_resource_set(rec->st, res->id, NULL, RES_GONE, &err) < 0 ||
			    store_attempt_end(rec->st, res->job_id, res->attempt, "launch_failed",
					      0, 0, time_now_ms(), &err) < 0 ||
			    store_job_set_status(rec->st, res->job_id, JOB_PENDING,
						 "relaunching after a controller crash", &err) < 0 ||
			    store_commit(rec->st, &err) < 0) {
				/* Still "creating": looked at again next pass. */
				store_rollback(rec->st);
				rec->resolved = 0;
				log_error("cannot record that %s was never created: %s",
					  res->token, error_msg(&err));
			}
		}
		free(id);
	}
	resource_list_release(&open);
}

/* The live attempt of a job, if any. */
static const struct attempt *live_attempt(const struct attempt_list *live, const char *id)
{
	size_t i;

	for (i = 0; i < live->n; i++)
		if (!strcmp(live->items[i].job_id, id))
			return &live->items[i];
	return NULL;
}

static int reconcile_pass(struct reconciler *rec);

/* Accrued cost of a live attempt so far in micro-dollars (attempt_cost). */
static int64_t attempt_accrued(const struct attempt *a)
{
	struct attempt_cost c;

	attempt_cost(a, time_now_ms(), &c);
	return c.micro;
}

/*
 * What a live attempt may still cost once we decide to stop it: the notice
 * window, one controller pass and one billing increment -- or, when
 * stop.max_runtime ends it sooner, the time left until then (the agent
 * ends the job there itself) and one increment. Stopping
 * when spent + this reaches a budget keeps every budget within one
 * billing increment.
 */
static int64_t stop_margin(const struct job *j, const struct attempt *a)
{
	struct task t;
	int64_t stop_secs = 32, left = -1;

	task_init(&t);
	if (task_from_json(j->task_json, &t, NULL) == 0) {
		stop_secs = t.recovery.notice_grace + 2;
		if (t.stop.max_runtime)
			/* Seconds as attempt_accrued counts them (rounded up). */
			left = t.stop.max_runtime - (time_now_ms() - a->started_at + 999) / 1000;
	}
	task_release(&t);
	if (left >= 0 && left < stop_secs)
		stop_secs = left;
	stop_secs += billing_increment(billing_rule_for(a->backend));
	return (money_from_usd(a->price_per_hour) * stop_secs + 3599) / 3600;
}

/* Stop a job because a budget is reached: gracefully when it runs, at
 * once when it has not started. */
static int budget_stop(struct reconciler *rec, const struct job *j, const struct attempt *a,
		       const char *why)
{
	if (j->cancel_requested)
		return 0;
	if (a) {
		store_job_request_stop(rec->st, j->id, why, NULL);
		log_info("job %s: %s", j->id, why);
	} else {
		store_job_request_stop(rec->st, j->id, why, NULL);
		job_finish(rec, j, JOB_CANCELLED, why);
	}
	return 1;
}

/*
 * Budgets: a job's own, its sweep's, and budgets.monthly of config.yaml.
 * Each is compared with what was spent (ended attempts) plus what live
 * attempts have accrued plus what stopping them still costs.
 */
static int enforce_budgets(struct reconciler *rec, const struct job_list *jobs,
			   const struct attempt_list *live)
{
	char why[256], bud[32], sp[32];
	size_t i, k;
	int changed = 0;

	if (rec->cfg.budget_monthly > 0) {
		int64_t spent = 0, margin = 0;

		store_cost_since(rec->st, time_month_start_ms(), &spent, NULL);
		for (i = 0; i < live->n; i++)
			spent += attempt_accrued(&live->items[i]);
		for (i = 0; i < jobs->n; i++) {
			const struct attempt *a = live_attempt(live, jobs->items[i].id);
			if (a)
				margin += stop_margin(&jobs->items[i], a);
		}
		if (spent + margin >= money_from_usd(rec->cfg.budget_monthly)) {
			money_format(money_from_usd(rec->cfg.budget_monthly), bud, sizeof(bud));
			money_format(spent, sp, sizeof(sp));
			snprintf(why, sizeof(why), "monthly budget %s reached (%s spent)", bud, sp);
			for (i = 0; i < jobs->n; i++)
				changed += budget_stop(rec, &jobs->items[i],
						       live_attempt(live, jobs->items[i].id), why);
			return changed;
		}
	}
	for (i = 0; i < jobs->n; i++) {
		const struct job *j = &jobs->items[i];
		const struct attempt *a = live_attempt(live, j->id);
		int64_t spent = j->cost_micro + (a ? attempt_accrued(a) : 0);

		if (j->budget > 0 && a && spent + stop_margin(j, a) >= money_from_usd(j->budget)) {
			money_format(money_from_usd(j->budget), bud, sizeof(bud));
			money_format(spent, sp, sizeof(sp));
			snprintf(why, sizeof(why), "budget %s reached (%s spent)", bud, sp);
			changed += budget_stop(rec, j, a, why);
		}
		if (j->sweep_id && (i == 0 || !jobs->items[i - 1].sweep_id ||
				    strcmp(jobs->items[i - 1].sweep_id, j->sweep_id))) {
			struct sweep_row sw;
			int64_t sspent = 0, margin = 0;

			if (store_sweep_get(rec->st, j->sweep_id, &sw, NULL) < 0)
				continue;
			if (sw.budget > 0) {
				store_sweep_spent(rec->st, sw.id, &sspent, NULL);
				for (k = 0; k < jobs->n; k++) {
					const struct attempt *b;
					if (!jobs->items[k].sweep_id ||
					    strcmp(jobs->items[k].sweep_id, sw.id))
						continue;
					b = live_attempt(live, jobs->items[k].id);
					if (b) {
						sspent += attempt_accrued(b);
						margin += stop_margin(&jobs->items[k], b);
					}
				}
				if (sspent + margin >= money_from_usd(sw.budget)) {
					money_format(money_from_usd(sw.budget), bud, sizeof(bud));
					money_format(sspent, sp, sizeof(sp));
					snprintf(why, sizeof(why), "sweep %s budget %s reached"
						 " (%s spent)", sw.id, bud, sp);
					for (k = 0; k < jobs->n; k++)
						if (jobs->items[k].sweep_id &&
						    !strcmp(jobs->items[k].sweep_id, sw.id))
							changed += budget_stop(rec, &jobs->items[k],
								live_attempt(live, jobs->items[k].id), why);
				}
			}
			sweep_row_release(&sw);
		}
	}
	return changed;
}

/* Trials of sweep_id running now (with a live attempt). */
static int sweep_running(const struct job_list *jobs, const struct attempt_list *live,
			 const char *sweep_id)
{
	size_t i;
	int n = 0;

	for (i = 0; i < jobs->n; i++)
		if (jobs->items[i].sweep_id && !strcmp(jobs->items[i].sweep_id, sweep_id) &&
		    live_attempt(live, jobs->items[i].id))
			n++;
	return n;
}

int reconciler_step(struct reconciler *rec)
{
	int passes = 0, n;

	do {
		rec->again = 0;
		n = reconcile_pass(rec);
	} while (n > 0 && rec->again && ++passes < 4);
	return n;
}

static int reconcile_pass(struct reconciler *rec)
{
	struct job_list jobs = { 0 };
	struct attempt_list live = { 0 };
	struct error err = ERROR_INIT;
	int blocked_local = 0, n_live = 0;
	size_t i;

	if (!rec->resolved) {
		rec->resolved = 1;	/* set again when a row could not be recorded */
		resolve_creating(rec);
	}
	if (store_job_list_live(rec->st, &jobs, &err) < 0 ||
	    store_attempt_list_live(rec->st, &live, &err) < 0) {
		log_error("%s", error_msg(&err));
		job_list_release(&jobs);
		return -1;
	}
	if (enforce_budgets(rec, &jobs, &live) > 0) {
		/* Jobs were stopped or ended: look at the new state. */
		job_list_release(&jobs);
		attempt_list_release(&live);
		if (store_job_list_live(rec->st, &jobs, &err) < 0 ||
		    store_attempt_list_live(rec->st, &live, &err) < 0) {
			log_error("%s", error_msg(&err));
			job_list_release(&jobs);
			return -1;
		}
	}
	/* Two passes: jobs that lost their machine (RECOVERING) get capacity
	 * before new ones; within each, submission order. */
	for (i = 0; i < 2 * jobs.n; i++) {
		struct job *j = &jobs.items[i % jobs.n];
		const struct attempt *a = live_attempt(&live, j->id);
		int recovering = j->status == JOB_RECOVERING;

		if ((i < jobs.n) != recovering)
			continue;

		if (a) {
			job_watch(rec, j, a);
			continue;
		}
		if (j->cancel_requested) {
			job_finish(rec, j, JOB_CANCELLED, j->cancel_requested == 2 && j->reason ?
				   j->reason : "cancelled before it started");
			continue;
		}
		if (j->status != JOB_PENDING && j->status != JOB_RECOVERING &&
		    j->n_attempts > 0) {
			/* No live attempt but a running status: a crash after the
			 * attempt ended and before the job moved on. Decide now. */
			struct attempt last;
			if (store_attempt_get(rec->st, j->id, j->n_attempts, &last, NULL) == 0) {
				job_after_attempt(rec, j, &last, last.outcome ? last.outcome : "failed",
						  last.has_exit_code, last.exit_code,
						  "decided after a controller restart");
				attempt_release(&last);
				continue;
			}
		}
		/* A sweep runs at most max_parallel trials at once. */
		if (j->sweep_id) {
			struct sweep_row sw;
			int full = 0;

			if (store_sweep_get(rec->st, j->sweep_id, &sw, NULL) == 0) {
				full = sw.max_parallel > 0 &&
				       sweep_running(&jobs, &live, j->sweep_id) >= sw.max_parallel;
				sweep_row_release(&sw);
			}
			if (full)
				continue;
		}
		/* Submission order: once a job waits, later ones wait too. */
		if (blocked_local)
			continue;
		if (job_launch(rec, j, &live) == FRUGAL_EBUSY)
			blocked_local = 1;
		else {
			/* The set of live attempts changed: read it again. */
			attempt_list_release(&live);
			store_attempt_list_live(rec->st, &live, NULL);
		}
	}
	attempt_list_release(&live);
	job_list_release(&jobs);
	if (store_job_list_live(rec->st, &jobs, &err) == 0)
		n_live = (int)jobs.n;
	job_list_release(&jobs);
	return n_live;
}
