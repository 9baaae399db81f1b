#include "controller/reconcile.h"
#include "controller/worker.h"
#include "base/fault.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "base/money.h"
#include "catalog/billing.h"
#include "backend/provider.h"
#include "base/hash.h"
#include "base/strmap.h"
#include "contract/key.h"
#include "contract/status.h"
#include "spec/config.h"
#include "spec/task.h"
#include "storage/storage.h"
#include "store/store.h"
#include "util/secretbox.h"

#include <jansson.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Threads: the store (SQLite) is used on the caller's thread only (the
 * controller's loop). Provider operations run on one worker lane per
 * backend; each lane has its own handle on the controller's storage (to
 * read status.json), so nothing an operation touches is shared with the
 * loop or with another lane, except the read-only config.
 */

/* How long a cancelled job's agent gets to stop before a hard teardown. */
#define CANCEL_GRACE_MS 3000

/* How long a location that had no capacity stays out of the choices. */
#define CAPACITY_BLOCK_MS (15 * 60 * 1000)

/* Cool-down that keeps a preempted location out of the next choices. */
#define PREEMPT_COOLDOWN_MS (10 * 60 * 1000)

/* Lost or orphaned attempts recovered without counting against
 * recovery.max_restarts_on_errors (the machine or the link failed, not
 * the job); past these they count as errors. */
#define LOST_RESTARTS_MAX 3

/* Machines whose agent never reported that a job replaces before it
 * fails (each one is billed). */
#define BOOT_FAILURES_MAX 3

/* The controller's max_runtime backstop: it ends a machine this long
 * after max_runtime + the stop grace when the agent did not (after the
 * agent's own watchdog, agent/watchdog.h, had its turn). */
#define BACKSTOP_SLACK_MS (20 * 1000)

/* The boot log tail kept in an attempt's event. */
#define BOOT_LOG_TAIL 2000

/* At most this long after a start the reconciler waits for the first
 * answers about the attempts alive then before it plans anything new. */
#define STARTUP_LOOK_MAX_MS (120 * 1000)

/* The background sweep: a job whose agent beats over the socket
 * (reconciler_beat) is looked at at least this often (each period drawn
 * in [SWEEP_LOOK_MS / 2, SWEEP_LOOK_MS] per job, so the looks spread
 * over the period), and a full pass over every live job of the store
 * runs this often at least. */
#define SWEEP_LOOK_MS (30 * 1000)

/* A look on a liveness deadline comes this long after it, so that the
 * check it runs sees the deadline passed. */
#define DUE_SLACK_MS 250

/* ---- operations ---- */

enum op_kind {
	OP_PLAN,
	OP_LAUNCH,
	OP_LOOK,	/* status.json, then describe */
	OP_STOP,
	OP_NOTICE,
	OP_TEARDOWN,
	OP_RESOLVE,	/* find a row left "creating" */
};

static const char *const op_names[] = {
	[OP_PLAN] = "plan", [OP_LAUNCH] = "launch", [OP_LOOK] = "describe",
	[OP_STOP] = "stop", [OP_NOTICE] = "notice", [OP_TEARDOWN] = "teardown",
	[OP_RESOLVE] = "find",
};

/* Deadline of each kind (seconds): an operation still running past it is
 * taken as failed with an unknown result; what it did is found again
 * under its idempotency token. FRUGAL_CONTROLLER_OP_DEADLINE overrides
 * them all (tests). */
static const int64_t op_deadline_s[] = {
	[OP_PLAN] = 120, [OP_LAUNCH] = 900, [OP_LOOK] = 300, [OP_STOP] = 120,
	[OP_NOTICE] = 120, [OP_TEARDOWN] = 300, [OP_RESOLVE] = 120,
};

/* Teardown and cancel go first in a backend's lane, then what a job
 * waits for (plan, launch, find); the periodic looks at running jobs come
 * last, so that many of them never starve a launch. */
static const int op_priority[] = {
	[OP_PLAN] = 2, [OP_LAUNCH] = 2, [OP_LOOK] = 1, [OP_STOP] = 3,
	[OP_NOTICE] = 3, [OP_TEARDOWN] = 4, [OP_RESOLVE] = 2,
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
	int64_t started_at;	/* the agent's start (its clock) */
	const char *busy;	/* static, or NULL */
};

/* A storage the lane opened, by URL (jobs keep the storage they were
 * submitted with). */
struct lane_storage {
	char *url;
	struct storage *st;	/* NULL: it could not be opened */
	int64_t retry_at;	/* then: time_mono_ms() of the next try */
	int64_t alive_at;	/* time_mono_ms() key_controller was last written; 0: never */
};

#define STORAGE_RETRY_MS 30000	/* a storage that cannot be opened is tried again */

/* One backend in use: its provider and the lane's storage handles. */
struct backend {
	char *name;
	struct provider *p;
	struct lane_storage *storages;	/* used on the lane only */
	size_t n_storages, alloc_storages;
	int turn_taken;		/* this pass: a job of this backend had its turn */
	char launching[JOB_ID_MAX];	/* the job planning or launching now, or "" */
	/* The last pass's waiting jobs of this backend behind the one with
	 * the turn, in queue order: when the turn frees, the next plans at
	 * once (plan_next), not on the next pass. */
	char (*queue)[JOB_ID_MAX];
	size_t n_queue, alloc_queue, queue_pos;
};

struct op {
	struct work work;
	struct reconciler *rec;
	struct backend *b;
	enum op_kind kind;
	char job_id[JOB_ID_MAX];
	int attempt;
	char *token;
	char *instance_id;
	int abandoned;		/* its deadline passed: the answer is ignored */
	int r;
	struct error err;
	/* plan, launch */
	struct task task;
	struct block_list blocked, learned;	/* plan */
	struct launch_report report;		/* launch */
	struct plan plan;
	struct kvlist secrets;
	char *task_json, *job_prefix, *outputs_url, *gpus, *socket;
	char *storage_url;		/* the job's (pinned at submission) */
	char *config_storage_url;	/* config.yaml's */
	int restart_count;
	char *new_id;		/* launch, find: the provider's id */
	int ports;		/* launch, resolve: the attempt has a ports ledger row */
	char *ports_id;		/* launch: what ports_open made */
	/* num_nodes > 1 (nodes.c of the design in ARCHITECTURE.md): the
	 * attempt's nodes, and rank r's instance id (node_ids[0] unused:
	 * rank 0 is token/instance_id/new_id). */
	int nodes;
	char **node_ids;
	int64_t forward_deadline;	/* look: give every node this notice (Unix ms) */
	int64_t notice_grace_ms;	/* look: a node failed: the others' notice */
	int other_nodes_end;		/* look: stop.other_nodes: end */
	int volume;		/* launch, resolve: the attempt has a volume ledger row */
	/* look */
	struct agent_status status;
	int have_status;
	int no_storage;		/* the job's storage could not be opened */
	int described;		/* describe answered */
	struct instance_view view;
	int64_t boot_deadline;	/* Unix ms: no status by then is a boot failure; 0: none */
	struct strbuf boot_log;	/* its tail, when the boot failed */
	int64_t alive_every_ms;	/* key_controller rewritten this often */
	char *controller_key;	/* launch, look */
	/* notice */
	int64_t deadline_ms;
	/* teardown */
	struct resource_list res;
	int *res_ok;
	struct op *next_all, *prev_all;	/* rec->ops */
};

/* What the reconciler remembers of a job between passes (not stored: a
 * restart starts from the store alone). */
struct track {
	char job_id[JOB_ID_MAX];
	struct op *op;		/* in flight, or NULL */
	int64_t stop_since;	/* time_mono_ms() the agent was asked to stop; 0: not yet */
	char *close_reason;	/* why the attempt being torn down ended */
	int startup;		/* live at the start: its first answer is awaited */
	/* The agent's heartbeat as this controller saw it change. */
	int hb_attempt;
	int64_t hb_value;	/* heartbeat_at last read */
	int64_t hb_seen;	/* time_mono_ms() it was first read */
	/* From the task, read once (a job's task_json never changes). */
	int task_read;
	int task_ok;		/* task parsed */
	struct task task;
	int64_t max_runtime_s, stop_grace_s, orphan_timeout_s;
	char *storage_url;	/* the job's, pinned at submission; NULL: not read yet */
	/* Looks paced (reconciler_hooks.look_every_ms): */
	int64_t looked_at;	/* time_mono_ms() of the last look; 0: none yet */
	int woken;		/* a wake named the job since: look at once */
	int forwarded;		/* num_nodes > 1: the attempt whose notice went to every node */
	/* Beats (reconciler_beat): the agent of attempt beat_attempt tells
	 * its heartbeats over the socket, so the job is looked at on its
	 * deadlines (track_due), not on every period. */
	int beat_attempt;
	int64_t hb_limit_ms;	/* heartbeat limit for the status last read */
	int64_t backstop_at;	/* Unix ms of the max_runtime backstop; 0: none */
	int64_t due_at;		/* time_mono_ms() of its entry in rec->dues; 0: none */
};

/* An entry of the deadline heap (rec->dues): job_id is looked at at due,
 * unless its track's due_at says otherwise by then (entries are never
 * removed, only passed over). */
struct due {
	int64_t due;
	char job_id[JOB_ID_MAX];
};

struct reconciler {
	struct home home;
	struct config cfg;
	struct store *st;
	char *storage_url;
	struct reconciler_hooks hooks;
	struct worker_pool *pool;
	struct backend *backends[16];
	size_t n_backends;
	struct strmap tracks;	/* job id -> struct track * */
	/* During a pass: job id -> its live attempt (in the pass's list),
	 * sweep id -> trials with a live attempt. */
	struct strmap live_by_job, sweep_live;
	struct strmap woken_new;	/* named by wakes, not tracked yet */
	struct op *ops;		/* every op submitted and not done */
	int64_t deadline_override_s;
	char *controller_key;	/* key_controller of this home */
	int started;		/* the first pass happened */
	size_t startup_pending;	/* tracks with startup set */
	int64_t started_mono;	/* time_mono_ms() of the first pass */
	/* Ticks (reconciler_tick) between full passes: */
	struct due *dues;	/* min-heap by due */
	size_t n_dues, alloc_dues;
	int64_t full_at;	/* time_mono_ms() of the last full pass */
	int full_needed;	/* it saw a job that only full passes serve */
	int budgets_seen;	/* it saw a sweep with a budget */
	int n_live;		/* live jobs it counted */
};

static void agent_status_release(struct agent_status *s)
{
	free(s->phase);
	free(s->outcome);
	free(s->reason);
	free(s->metrics);
	memset(s, 0, sizeof(*s));
}

static void wake(struct reconciler *rec)
{
	if (rec->hooks.wake)
		rec->hooks.wake(rec->hooks.ctx);
}

int reconciler_new(const struct home *h, const struct reconciler_hooks *hooks,
		   struct reconciler **ret, struct error *err)
{
	struct reconciler *rec = xcalloc(1, sizeof(*rec));
	struct diag_list diags = DIAG_LIST_INIT;
	const char *dl = getenv("FRUGAL_CONTROLLER_OP_DEADLINE");
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
	if (hooks)
		rec->hooks = *hooks;
	if (dl && duration_parse(dl, &rec->deadline_override_s) < 0)
		rec->deadline_override_s = 0;
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
	{
		char tag[17];

		snprintf(tag, sizeof(tag), "%016llx", (unsigned long long)hash_fnv1a(h->dir));
		rec->controller_key = key_controller(tag);
	}
	if (rec->hooks.loop)
		provider_global_init();	/* before the lanes' threads */
	rec->pool = worker_pool_new(rec->hooks.loop);
	diag_list_release(&diags);
	*ret = rec;
	return 0;
fail:
	diag_list_release(&diags);
	reconciler_free(rec);
	return r;
}

static void op_free(struct op *op);
static void track_free(struct track *t);

void reconciler_free(struct reconciler *rec)
{
	size_t i, stuck;

	if (!rec)
		return;
	/* An operation hung in a cloud API may hold a lane: give it a moment,
	 * then leave its thread (and what it uses) to the exit. */
	stuck = worker_pool_free(rec->pool, 2000);
	if (stuck) {
		log_warn("%zu backend operation%s still running at exit: left to the next"
			 " controller (found again by token)", stuck, stuck == 1 ? "" : "s");
		return;
	}
	while (rec->ops) {
		struct op *op = rec->ops;
		rec->ops = op->next_all;
		op_free(op);
	}
	for (i = 0; i < rec->n_backends; i++) {
		size_t k;

		provider_free(rec->backends[i]->p);
		for (k = 0; k < rec->backends[i]->n_storages; k++) {
			storage_free(rec->backends[i]->storages[k].st);
			free(rec->backends[i]->storages[k].url);
		}
		free(rec->backends[i]->storages);
		free(rec->backends[i]->queue);
		free(rec->backends[i]->name);
		free(rec->backends[i]);
	}
	{
		size_t pos = 0;
		const char *k;
		void *v;

		while (strmap_next(&rec->tracks, &pos, &k, &v))
			track_free(v);
	}
	strmap_release(&rec->tracks);
	strmap_release(&rec->live_by_job);
	strmap_release(&rec->sweep_live);
	strmap_release(&rec->woken_new);
	free(rec->dues);
	store_free(rec->st);
	config_release(&rec->cfg);
	home_release(&rec->home);
	free(rec->storage_url);
	free(rec->controller_key);
	free(rec);
}

static struct backend *backend_get(struct reconciler *rec, const char *name,
				   struct error *err)
{
	struct backend *b;
	struct provider *p;
	size_t i;
	int r;

	for (i = 0; i < rec->n_backends; i++)
		if (!strcmp(rec->backends[i]->name, name))
			return rec->backends[i];
	if (rec->n_backends == sizeof(rec->backends) / sizeof(rec->backends[0])) {
		error_set(err, FRUGAL_EINVAL, "too many backends in use at once");
		return NULL;
	}
	r = rec->hooks.open ? rec->hooks.open(name, &rec->cfg, rec->home.dir, &p, err)
			    : provider_open(name, &rec->cfg, rec->home.dir, &p, err);
	if (r < 0)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->name = xstrdup(name);
	b->p = p;
	rec->backends[rec->n_backends++] = b;
	return b;
}

/* ---- what the reconciler remembers of a job ---- */

static struct track *track_find(struct reconciler *rec, const char *job_id)
{
	return strmap_get(&rec->tracks, job_id);
}

static void track_free(struct track *t)
{
	if (!t)
		return;
	free(t->close_reason);
	free(t->storage_url);
	task_release(&t->task);
	free(t);
}

static struct track *track_get(struct reconciler *rec, const char *job_id)
{
	struct track *t = track_find(rec, job_id);

	if (t)
		return t;
	t = xcalloc(1, sizeof(*t));
	snprintf(t->job_id, sizeof(t->job_id), "%s", job_id);
	task_init(&t->task);
	strmap_put(&rec->tracks, t->job_id, t);
	return t;
}

/* Forget a job that ended (its op, if any, was abandoned or is done). */
static void track_forget(struct reconciler *rec, const char *job_id)
{
	struct track *t = track_find(rec, job_id);

	if (!t)
		return;
	if (t->op)
		t->op->abandoned = 1;
	if (t->startup)
		rec->startup_pending--;
	strmap_remove(&rec->tracks, job_id);
	track_free(t);
}

static struct track *track_task(struct reconciler *rec, const struct job *j);

/* The first answer about an attempt alive at the start came. */
static void track_startup_done(struct reconciler *rec, struct track *t)
{
	if (!t || !t->startup)
		return;
	t->startup = 0;
	if (!--rec->startup_pending)
		log_info("every attempt alive at the start was looked at: planning again");
}

static void track_set_reason(struct track *t, const char *reason)
{
	free(t->close_reason);
	t->close_reason = reason ? xstrdup(reason) : NULL;
}

/* ---- transactions ---- */

/*
 * Begin a transaction for job id's writes. When the database does not
 * take it (locked past the busy timeout, an I/O error) nothing is written
 * and the step is skipped: the job is looked at again on a later pass (a
 * ledger row left `creating` is adopted by its token then).
 */
static int tx_begin(struct reconciler *rec, const char *id)
{
	struct error err = ERROR_INIT;

	if (store_begin(rec->st, &err) < 0) {
		log_warn("job %s: not recorded yet: %s; trying again later", id, error_msg(&err));
		return -1;
	}
	return 0;
}

/* Commit, or roll back and say so (the step is done again later). */
static int tx_commit(struct reconciler *rec, const char *id)
{
	struct error err = ERROR_INIT;

	if (store_commit(rec->st, &err) < 0) {
		store_rollback(rec->st);
		log_warn("job %s: not recorded yet: %s; rolled back, trying again later", id,
			 error_msg(&err));
		return -1;
	}
	return 0;
}

/* ---- agent status (on a lane) ---- */

/* Read status.json of an attempt (contract/status.h); FRUGAL_ENOTFOUND
 * before the agent wrote it, FRUGAL_EINVAL for a document that is not
 * one, FRUGAL_EIO without a storage. */
static int read_node_status(struct storage *storage, const char *job_id, int n, int rank,
			    struct agent_status *ret)
{
	struct attempt_status as = ATTEMPT_STATUS_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *prefix, *key;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!storage)
		return FRUGAL_EIO;
	prefix = key_job_prefix(job_id);
	key = key_node_status(prefix, n, rank);
	r = storage_get(storage, key, 1 << 20, &sb, NULL);
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
	ret->started_at = as.started_at;
	ret->busy = as.busy;
	ret->metrics = TAKE_PTR(as.metrics_json);
	attempt_status_release(&as);
	return 0;
}

/* Rank 0's status.json: the attempt's. */
static int read_agent_status(struct storage *storage, const char *job_id, int n,
			     struct agent_status *ret)
{
	return read_node_status(storage, job_id, n, 0, ret);
}

/* The lane's own handle on url (opened on the lane, on first use). */
/*
 * The lane's handle on the storage at url, opened on first use. One that
 * cannot be opened (gs:// without credentials, a bucket that is not
 * there) is logged and tried again every STORAGE_RETRY_MS: it never stops
 * the controller, and jobs of other storages, cancels and teardowns go
 * on. NULL while it cannot be opened.
 */
static struct storage *lane_open(struct backend *b, const char *url)
{
	struct error err = ERROR_INIT;
	struct lane_storage *ls = NULL;
	int64_t now = time_mono_ms();
	size_t i;

	for (i = 0; i < b->n_storages && !ls; i++)
		if (!strcmp(b->storages[i].url, url))
			ls = &b->storages[i];
	if (ls && (ls->st || now < ls->retry_at))
		return ls->st;
	if (!ls) {
		XGROW(b->storages, b->n_storages + 1, b->alloc_storages);
		ls = &b->storages[b->n_storages++];
		memset(ls, 0, sizeof(*ls));
		ls->url = xstrdup(url);
	}
	if (storage_open(url, &ls->st, &err) < 0) {
		ls->st = NULL;
		ls->retry_at = now + STORAGE_RETRY_MS;
		log_error("storage %s cannot be opened (trying again in %d s): %s", url,
			  STORAGE_RETRY_MS / 1000, error_msg(&err));
	}
	return ls->st;
}

/* The storage of op's job: the one it was submitted with; config.yaml's
 * when that cannot be opened. */
static struct storage *lane_storage(struct op *op)
{
	struct storage *st = lane_open(op->b, op->storage_url);

	return st ? st : lane_open(op->b, op->config_storage_url);
}

/*
 * Tell the agents on st that this controller lives: rewrite its
 * key_controller every op->alive_every_ms (agents that stop seeing it
 * change for stop.orphan_timeout end their machines). Written from the
 * looks, so only while there are live attempts to look at, and once per
 * storage and lane whatever the number of jobs.
 */
static void lane_alive(struct op *op, struct storage *st)
{
	struct error err = ERROR_INIT;
	struct lane_storage *ls = NULL;
	int64_t now = time_mono_ms();
	char doc[128];
	size_t i;
	int n;

	if (!st || !op->controller_key || op->alive_every_ms <= 0)
		return;
	for (i = 0; i < op->b->n_storages && !ls; i++)
		if (op->b->storages[i].st == st)
			ls = &op->b->storages[i];
	if (!ls || (ls->alive_at && now - ls->alive_at < op->alive_every_ms))
		return;
	n = snprintf(doc, sizeof(doc), "{\"pid\": %d, \"at\": %lld}\n", (int)getpid(),
		     (long long)time_now_ms());
	if (storage_put(st, op->controller_key, doc, (size_t)n, 0, &err) < 0) {
		log_warn("cannot store '%s' (agents take the controller for gone after"
			 " stop.orphan_timeout without it): %s", op->controller_key, error_msg(&err));
		return;
	}
	ls->alive_at = now;
}

/* What the machine of op printed while it booted: the provider's boot
 * log, else the boot.log a boot script stored under the attempt. */
static void lane_boot_log(struct op *op, struct storage *st)
{
	struct provider *p = op->b->p;
	char *prefix, *key;

	if (p->ops->boot_log &&
	    p->ops->boot_log(p, op->token, op->instance_id, BOOT_LOG_TAIL, &op->boot_log, NULL) == 0 &&
	    op->boot_log.len)
		return;
	strbuf_reset(&op->boot_log);
	if (!st)
		return;
	prefix = key_job_prefix(op->job_id);
	key = key_attempt(prefix, op->attempt, "boot.log");
	if (storage_get(st, key, 1 << 20, &op->boot_log, NULL) < 0)
		strbuf_reset(&op->boot_log);
	else if (op->boot_log.len > BOOT_LOG_TAIL) {
		memmove(op->boot_log.buf, op->boot_log.buf + op->boot_log.len - BOOT_LOG_TAIL,
			BOOT_LOG_TAIL);
		op->boot_log.len = BOOT_LOG_TAIL;
		op->boot_log.buf[BOOT_LOG_TAIL] = '\0';
	}
	free(key);
	free(prefix);
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


/* ---- operations: what runs on a lane ---- */

/*
 * A multi-node attempt (num_nodes > 1): after rank 0, ranks 1..N-1, each
 * under its own token (its ledger row was committed with rank 0's) and
 * with its share of the GPUs. A failure stops there: the close ends
 * every row of the attempt, made or not (all or nothing).
 */
static int launch_nodes(struct op *op, struct launch_request *rq)
{
	struct provider *p = op->b->p;
	int r, ret = 0;

	op->node_ids = xcalloc((size_t)op->nodes, sizeof(char *));
	for (r = 1; r < op->nodes && ret == 0; r++) {
		char *tok = provider_node_token(op->token, r);
		char *g = provider_node_gpus(op->gpus, r, op->nodes);

		rq->token = tok;
		rq->rank = r;
		rq->gpus = g;
		ret = p->ops->launch(p, rq, &op->node_ids[r], &op->err);
		fault_point("controller.after_node_launch");
		free(tok);
		free(g);
	}
	rq->token = op->token;
	rq->rank = 0;
	rq->gpus = op->gpus;
	return ret;
}

/* How much an outcome says about a multi-node attempt: a failure
 * outranks a stop (preempted, budget, cancel), a stop a success. */
static int outcome_weight(const char *o)
{
	if (!o)
		return 0;
	if (!strcmp(o, "succeeded"))
		return 1;
	if (!strcmp(o, "preempted") || !strcmp(o, "budget_stopped") || !strcmp(o, "cancelled"))
		return 2;
	return 3;
}

/* Give every node of op's attempt that has not ended a notice for
 * deadline (errors ignored: a node that went already needs none). */
static void nodes_notice(struct op *op, const struct agent_status *S, int64_t deadline,
			 const char *reason)
{
	struct provider *p = op->b->p;
	int r;

	if (!p->ops->notice)
		return;
	for (r = 0; r < op->nodes; r++) {
		char *tok = provider_node_token(op->token, r);

		if (!S[r].outcome)
			p->ops->notice(p, tok, r ? op->node_ids[r] : op->instance_id, deadline,
				       reason, NULL);
		free(tok);
	}
}

/*
 * OP_LOOK of a multi-node attempt: every node's status and instance,
 * merged into what a single machine's look answers (op->status, view),
 * so the reconciler's table decides the same way:
 *   - decided (an outcome) once rank 0 has ended and either another node
 *     failed or was stopped (the worst outcome wins, "node R: ..."), or
 *     every node succeeded (stop.other_nodes: end: rank 0 did);
 *   - a node that ended badly while rank 0 runs: every node gets a
 *     notice of recovery.notice_grace (rank 0 stores its checkpoint),
 *     reported as the provider's notice;
 *   - otherwise alive: the heartbeat is the oldest of the nodes still
 *     running, a status only once every node reported (else the boot
 *     deadline applies), gone when a node's machine ended without an
 *     outcome.
 */
static void look_nodes(struct op *op)
{
	struct provider *p = op->b->p;
	struct storage *st = lane_storage(op);
	int n = op->nodes, r, worst = -1, all_have = 1, all_ok = 1, decided = 0;
	struct agent_status *S = xcalloc((size_t)n, sizeof(*S));

	op->no_storage = !st;
	lane_alive(op, st);
	for (r = 0; r < n; r++) {
		int have = read_node_status(st, op->job_id, op->attempt, r, &S[r]) == 0;

		all_have &= have;
		all_ok &= have && S[r].outcome && !strcmp(S[r].outcome, "succeeded");
		if (outcome_weight(S[r].outcome) >= 2 &&
		    (worst < 0 || outcome_weight(S[r].outcome) > outcome_weight(S[worst].outcome)))
			worst = r;
	}
	if (S[0].outcome && worst >= 0) {
		op->status = S[worst];
		memset(&S[worst], 0, sizeof(S[worst]));
		if (worst) {
			char *why = xasprintf("node %d: %s", worst,
					      op->status.reason ? op->status.reason : op->status.outcome);

			free(op->status.reason);
			op->status.reason = why;
		}
		decided = 1;
	} else if (S[0].outcome && (all_ok || op->other_nodes_end)) {
		op->status = S[0];
		memset(&S[0], 0, sizeof(S[0]));
		decided = 1;
	}
	if (decided) {
		op->have_status = 1;
		goto out;
	}
	/* Alive: rank 0's view of the attempt, without an outcome, with
	 * the oldest heartbeat of the nodes still running. */
	if (all_have) {
		int64_t hb = 0;

		for (r = 0; r < n; r++) {
			if (!S[r].outcome && S[r].heartbeat_at && (!hb || S[r].heartbeat_at < hb))
				hb = S[r].heartbeat_at;
			if (r && S[r].busy && !S[0].busy)
				S[0].busy = S[r].busy;
		}
		op->status.phase = xstrdup(S[0].outcome ? "running" : S[0].phase);
		op->status.reason = S[0].reason ? xstrdup(S[0].reason) : NULL;
		op->status.metrics = S[0].metrics ? xstrdup(S[0].metrics) : NULL;
		op->status.started_at = S[0].started_at;
		op->status.busy = S[0].busy;
		op->status.heartbeat_at = hb ? hb : S[0].heartbeat_at;
		op->have_status = 1;
	}
	op->described = 1;
	for (r = 0; r < n; r++) {
		struct instance_view v = INSTANCE_VIEW_INIT;
		char *tok = provider_node_token(op->token, r);
		int d = p->ops->describe(p, tok, r ? op->node_ids[r] : op->instance_id, &v,
					 r ? NULL : &op->err);

		free(tok);
		if (d < 0) {
			op->described = 0;
			op->r = d;
			instance_view_release(&v);
			continue;
		}
		if (v.state == INSTANCE_GONE && !S[r].outcome)
			op->view.state = INSTANCE_GONE;
		if (v.notice_deadline && (!op->view.notice_deadline ||
					  v.notice_deadline < op->view.notice_deadline)) {
			op->view.notice_deadline = v.notice_deadline;
			free(op->view.reason);
			op->view.reason = xasprintf("node %d: %s", r, v.reason ? v.reason : "notice");
		}
		instance_view_release(&v);
	}
	if (worst >= 0 && !op->forward_deadline && !op->view.notice_deadline) {
		/* A node ended badly while rank 0 runs: stop every node the
		 * graceful way, so rank 0 stores its checkpoint. */
		int64_t deadline = time_now_ms() + op->notice_grace_ms;

		nodes_notice(op, S, deadline, NULL);
		op->view.notice_deadline = deadline;
		free(op->view.reason);
		op->view.reason = xasprintf("node %d %s (%s): every node stops (checkpoint, then"
					    " end)", worst, S[worst].outcome,
					    S[worst].reason ? S[worst].reason : "no reason");
	}
	if (op->forward_deadline)
		nodes_notice(op, S, op->forward_deadline, op->deadline_ms ? "budget" : NULL);
	if (!op->have_status && !op->no_storage && op->boot_deadline &&
	    time_now_ms() > op->boot_deadline)
		lane_boot_log(op, st);
out:
	for (r = 0; r < n; r++)
		agent_status_release(&S[r]);
	free(S);
}

/* Find every rank >= 1 of a multi-node attempt whose rank 0 was found
 * (into op->node_ids). All found: 0. One missing: the attempt was never
 * all made: every node is ended (never made for the ledger: op->new_id
 * NULL), or an error when one could not be. */
static int resolve_nodes(struct op *op)
{
	struct provider *p = op->b->p;
	int r, missing = 0, ret = 0;

	op->node_ids = xcalloc((size_t)op->nodes, sizeof(char *));
	for (r = 1; r < op->nodes && ret == 0; r++) {
		char *tok = provider_node_token(op->token, r);

		ret = p->ops->find(p, tok, &op->plan, &op->node_ids[r], &op->err);
		missing |= ret == 0 && !op->node_ids[r];
		free(tok);
	}
	if (ret < 0 || !missing)
		return ret;
	for (r = 0; r < op->nodes && ret == 0; r++) {
		char *tok = provider_node_token(op->token, r);

		ret = p->ops->terminate(p, tok, r ? op->node_ids[r] : op->new_id, &op->err);
		free(tok);
	}
	if (ret == 0) {
		free(op->new_id);
		op->new_id = NULL;
	}
	return ret;
}

static void op_run(struct work *w)
{
	struct op *op = (struct op *)w;
	struct provider *p = op->b->p;
	size_t i;

	switch (op->kind) {
	case OP_PLAN: {
		struct plan_request rq = { &op->task, &op->blocked, &op->learned };

		op->r = p->ops->plan(p, &rq, &op->plan, &op->err);
		break;
	}
	case OP_LAUNCH: {
		struct launch_request rq = { 0 };
		char *node_gpus = NULL;

		rq.job_id = op->job_id;
		rq.attempt = op->attempt;
		rq.restart_count = op->restart_count;
		rq.token = op->token;
		rq.plan = &op->plan;
		rq.task_json = op->task_json;
		rq.task = &op->task;
		rq.secrets = &op->secrets;
		rq.storage_url = op->storage_url;
		rq.job_prefix = op->job_prefix;
		rq.outputs_url = op->outputs_url;
		rq.controller_socket = op->socket;
		rq.controller_key = op->controller_key;
		rq.gpus = op->gpus;
		rq.report = &op->report;
		rq.num_nodes = op->nodes;
		if (op->nodes > 1)
			rq.gpus = node_gpus = provider_node_gpus(op->gpus, 0, op->nodes);
		if (op->ports) {
			/* The ports first (the ledger row is committed): the
			 * machine starts with them open. */
			op->r = p->ops->ports_open(p, &rq, &op->ports_id, &op->err);
			fault_point("controller.after_ports_open");
			if (op->r < 0)
				break;	/* the teardown ends what may have been made */
			rq.ports_id = op->ports_id;
		}
		op->r = p->ops->launch(p, &rq, &op->new_id, &op->err);
		if (op->r == 0 && op->nodes > 1 && (op->r = launch_nodes(op, &rq)) < 0)
			op->report.nothing_made = 0;	/* rank 0 was made */
		free(node_gpus);
		rq.gpus = op->gpus;
		if (op->ports)
			op->report.nothing_made = 0;	/* the ports were made */
		if (op->r < 0 && !op->report.nothing_made) {
			/* For the bill: a machine the provider has (or may have:
			 * it cannot say) is billed at least the minimum. */
			free(op->new_id);
			op->new_id = NULL;
			if (p->ops->find(p, op->token, &op->plan, &op->new_id, NULL) < 0)
				op->new_id = xstrdup(op->token);
		}
		break;
	}
	case OP_LOOK: {
		struct storage *st;

		if (op->nodes > 1) {
			look_nodes(op);
			break;
		}
		st = lane_storage(op);

		op->no_storage = !st;
		lane_alive(op, st);
		op->have_status = read_agent_status(st, op->job_id, op->attempt,
						    &op->status) == 0;
		if (op->have_status && op->status.outcome)
			break;
		op->r = p->ops->describe(p, op->token, op->instance_id, &op->view, &op->err);
		op->described = op->r == 0;
		if (op->described && op->view.state == INSTANCE_GONE) {
			/* Read once more: the agent may have finished just now. */
			agent_status_release(&op->status);
			op->have_status = read_agent_status(lane_storage(op), op->job_id,
							    op->attempt, &op->status) == 0;
		}
		/* Never reported: gone, or past its boot deadline. */
		if (!op->have_status && !op->no_storage &&
		    ((op->described && op->view.state == INSTANCE_GONE) ||
		     (op->boot_deadline && time_now_ms() > op->boot_deadline)))
			lane_boot_log(op, st);
		break;
	}
	case OP_STOP:
		op->r = p->ops->stop(p, op->token, op->instance_id, &op->err);
		break;
	case OP_NOTICE:
		/* The reconciler gives notice only for a budget's stop. */
		op->r = p->ops->notice(p, op->token, op->instance_id, op->deadline_ms, "budget",
				       &op->err);
		break;
	case OP_TEARDOWN:
		op->r = 0;
		for (i = 0; i < op->res.n; i++) {
			const struct resource *res = &op->res.items[i];
			struct error e = ERROR_INIT;

			op->res_ok[i] = provider_resource_end(p, res->kind, res->token,
							      res->provider_id, &e) == 0;
			if (!op->res_ok[i]) {
				op->r = e.code ? e.code : FRUGAL_EPROVIDER;
				op->err = e;
			}
		}
		break;
	case OP_RESOLVE:
		op->r = p->ops->find(p, op->token, &op->plan, &op->new_id, &op->err);
		if (op->r == 0 && op->new_id && op->nodes > 1)
			op->r = resolve_nodes(op);
		if (op->r == 0 && !op->new_id) {
			/* Gone already, but did it run? An agent that started wrote
			 * its status: then it existed, and its outcome counts. */
			op->have_status = read_agent_status(lane_storage(op), op->job_id,
							    op->attempt, &op->status) == 0;
			if (op->have_status)
				op->new_id = xstrdup("finished");
			else
				/* Never made: make sure nothing half-made is left. */
				p->ops->terminate(p, op->token, NULL, NULL);
		}
		if (op->r == 0 && !op->new_id && op->nodes > 1) {
			/* Nor any other node: each ended before the row goes. */
			int r;

			for (r = 1; r < op->nodes && op->r == 0; r++) {
				char *tok = provider_node_token(op->token, r);

				op->r = p->ops->terminate(p, tok, NULL, &op->err);
				free(tok);
			}
		}
		if (op->r == 0 && !op->new_id && op->ports) {
			/* Never made, so its ports go too; until that is
			 * confirmed the row stays and this is asked again. */
			char *pt = provider_ports_token(op->token);

			op->r = provider_resource_end(p, "ports", pt, NULL, &op->err);
			free(pt);
		}
		if (op->r == 0 && !op->new_id && op->volume) {
			/* Never made, so its volumes go too (the same rule). */
			char *vt = provider_volume_token(op->token);

			op->r = provider_resource_end(p, "volume", vt, NULL, &op->err);
			free(vt);
		}
		break;
	}
}

static void op_free(struct op *op)
{
	if (!op)
		return;
	task_release(&op->task);
	block_list_release(&op->blocked);
	block_list_release(&op->learned);
	block_list_release(&op->report.learned);
	plan_release(&op->plan);
	kvlist_release(&op->secrets);	/* zeroes the values */
	agent_status_release(&op->status);
	instance_view_release(&op->view);
	resource_list_release(&op->res);
	strbuf_release(&op->boot_log);
	free(op->controller_key);
	free(op->res_ok);
	free(op->token);
	free(op->instance_id);
	free(op->task_json);
	free(op->job_prefix);
	free(op->outputs_url);
	free(op->gpus);
	free(op->socket);
	free(op->storage_url);
	free(op->config_storage_url);
	free(op->new_id);
	free(op->ports_id);
	if (op->node_ids) {
		int r;

		for (r = 0; r < op->nodes; r++)
			free(op->node_ids[r]);
		free(op->node_ids);
	}
	free(op);
}

static void op_done(struct work *w);

static struct op *op_new(struct reconciler *rec, struct backend *b, enum op_kind kind,
			 const char *job_id, int attempt, const char *instance_id)
{
	struct op *op = xcalloc(1, sizeof(*op));

	op->rec = rec;
	op->b = b;
	op->kind = kind;
	snprintf(op->job_id, sizeof(op->job_id), "%s", job_id);
	op->attempt = attempt;
	op->token = attempt ? xasprintf("%s-%d", job_id, attempt) : NULL;
	op->instance_id = xstrdup(instance_id);
	/* The storage the job was submitted with, whatever config.yaml
	 * says now; config.yaml's for jobs recorded before that was. */
	{
		struct track *t = track_get(rec, job_id);

		if (!t->storage_url &&
		    (store_job_storage_url(rec->st, job_id, &t->storage_url, NULL) < 0 ||
		     !t->storage_url))
			t->storage_url = xstrdup(rec->storage_url);
		op->storage_url = xstrdup(t->storage_url);
	}
	op->config_storage_url = xstrdup(rec->storage_url);
	op->view.state = INSTANCE_RUNNING;
	strbuf_init(&op->boot_log, 0);
	task_init(&op->task);
	op->work.run = op_run;
	op->work.done = op_done;
	op->work.priority = op_priority[kind];
	return op;
}

/* Hand op to its backend's lane; the job has it in flight until it is
 * answered or its deadline passes. */
static void op_submit(struct reconciler *rec, struct op *op)
{
	struct track *t = track_get(rec, op->job_id);

	t->op = op;
	op->next_all = rec->ops;
	op->prev_all = NULL;
	if (rec->ops)
		rec->ops->prev_all = op;
	rec->ops = op;
	worker_submit(rec->pool, op->b->name, &op->work);
}

static int64_t op_deadline_ms(const struct reconciler *rec, const struct op *op)
{
	return 1000 * (rec->deadline_override_s > 0 ? rec->deadline_override_s
						   : op_deadline_s[op->kind]);
}

size_t reconciler_busy(const struct reconciler *rec)
{
	return worker_pending(rec->pool);
}

size_t reconciler_run_ops(struct reconciler *rec)
{
	return worker_pool_run(rec->pool);
}

/* ---- the state machine ---- */

/* Job states as the table matches them. */
#define J(s) (1u << (s))
#define J_WAITING (J(JOB_PENDING) | J(JOB_RECOVERING))
#define J_ACTIVE (J(JOB_PROVISIONING) | J(JOB_STARTING) | J(JOB_RUNNING))
#define J_LIVE (J_WAITING | J_ACTIVE)

/* Where a job's live attempt is in the ledger (not the agent's phase of
 * contract/status.h). */
enum ledger_phase {
	PHASE_NONE,		/* no live attempt */
	PHASE_CREATING,		/* ledger row committed; the instance is not known yet */
	PHASE_LIVE,		/* the instance is known: watched */
	PHASE_CLOSING,		/* outcome decided, teardown not confirmed yet */
};

enum rec_event {
	EV_PASS,		/* a pass, nothing in flight for the job */
	EV_CANCEL,		/* a pass, frugal cancel asked */
	EV_BUDGET_STOP,		/* a pass, a budget asked for a graceful stop */
	EV_PLANNED,		/* plan: a location */
	EV_PLAN_WAIT,		/* plan or reserve: not now */
	EV_PLAN_FAILED,		/* plan: never */
	EV_LAUNCHED,
	EV_LAUNCH_FAILED,
	EV_REPORTED,		/* look: the agent reported an outcome */
	EV_GONE,		/* look: the machine is gone (or its notice ran out) */
	EV_LOST,		/* look: it runs, but its agent never reported in
				 * boot_timeout, its heartbeat is too old, or
				 * max_runtime passed long ago: end it */
	EV_ALIVE,		/* look: it runs */
	EV_ALIVE_CANCEL,	/* look: it runs, frugal cancel asked */
	EV_ALIVE_STOP,		/* look: it runs, a budget stop asked */
	EV_FOUND,		/* find: the row left creating has an instance */
	EV_NOT_FOUND,		/* find: it was never made */
	EV_TORN_DOWN,		/* terminate confirmed for every open row */
	EV_TEARDOWN_FAILED,
	EV_OP_FAILED,		/* find failed: ask again on the next pass */
};

enum rec_action {
	ACT_NONE,
	ACT_PLAN,		/* ask for a plan (one job per backend at a time, FIFO) */
	ACT_FINISH_CANCELLED,	/* nothing runs: the job is CANCELLED */
	ACT_DECIDE_LAST,	/* crashed between ending an attempt and moving the job on */
	ACT_LAUNCH,		/* reserve, commit ledger row + attempt, launch */
	ACT_WAIT,		/* keep waiting, saying why */
	ACT_FAIL,		/* the job is FAILED */
	ACT_RECORD_LAUNCH,	/* the instance's id into the ledger; STARTING */
	ACT_CLOSE,		/* record the outcome, then tear down */
	ACT_LOOK,		/* read status.json, describe */
	ACT_TRACK,		/* phase and metrics from the agent */
	ACT_STOP_AGENT,		/* cancel: ask the agent; after a grace, close */
	ACT_NOTICE,		/* budget: a preemption notice, once */
	ACT_RESOLVE,		/* ask the provider for a row left creating */
	ACT_ADOPT,
	ACT_RELAUNCH,		/* never made: end the attempt, PENDING again */
	ACT_TEARDOWN,		/* terminate every open row of the attempt */
	ACT_END_ATTEMPT,	/* teardown confirmed: end the attempt, then the job */
	ACT_RETRY,		/* nothing now: the next pass tries again */
};

struct transition {
	unsigned jobs;		/* J() mask */
	enum ledger_phase phase;
	enum rec_event event;
	enum rec_action action;
};

/*
 * The whole state machine. The first row that matches wins; a job is
 * finished (SUCCEEDED, FAILED, CANCELLED) only from PHASE_NONE, or by
 * ACT_END_ATTEMPT, that is once its teardown is confirmed. An operation
 * that passes its deadline is no event: its job is free again, and the
 * next pass takes the phase's action once more (a launch whose answer
 * never came is a row left creating: it is resolved by token).
 */
static const struct transition transitions[] = {
	/* No live attempt: plan, launch, or end. */
	{ J_WAITING, PHASE_NONE, EV_PASS, ACT_PLAN },
	{ J_LIVE, PHASE_NONE, EV_CANCEL, ACT_FINISH_CANCELLED },
	{ J_LIVE, PHASE_NONE, EV_BUDGET_STOP, ACT_FINISH_CANCELLED },
	{ J_ACTIVE, PHASE_NONE, EV_PASS, ACT_DECIDE_LAST },
	{ J_WAITING, PHASE_NONE, EV_PLANNED, ACT_LAUNCH },
	{ J_WAITING, PHASE_NONE, EV_PLAN_WAIT, ACT_WAIT },
	{ J_WAITING, PHASE_NONE, EV_PLAN_FAILED, ACT_FAIL },

	/* Ledger row committed, launch in flight or its answer unknown. */
	{ J_ACTIVE, PHASE_CREATING, EV_LAUNCHED, ACT_RECORD_LAUNCH },
	{ J_ACTIVE, PHASE_CREATING, EV_LAUNCH_FAILED, ACT_CLOSE },
	{ J_LIVE, PHASE_CREATING, EV_PASS, ACT_RESOLVE },
	{ J_LIVE, PHASE_CREATING, EV_CANCEL, ACT_RESOLVE },
	{ J_LIVE, PHASE_CREATING, EV_BUDGET_STOP, ACT_RESOLVE },
	{ J_LIVE, PHASE_CREATING, EV_FOUND, ACT_ADOPT },
	{ J_LIVE, PHASE_CREATING, EV_NOT_FOUND, ACT_RELAUNCH },
	{ J_LIVE, PHASE_CREATING, EV_OP_FAILED, ACT_RETRY },

	/* The instance is known: watch it. */
	{ J_LIVE, PHASE_LIVE, EV_PASS, ACT_LOOK },
	{ J_LIVE, PHASE_LIVE, EV_CANCEL, ACT_LOOK },
	{ J_LIVE, PHASE_LIVE, EV_BUDGET_STOP, ACT_LOOK },
	{ J_LIVE, PHASE_LIVE, EV_REPORTED, ACT_CLOSE },
	{ J_LIVE, PHASE_LIVE, EV_GONE, ACT_CLOSE },
	{ J_LIVE, PHASE_LIVE, EV_LOST, ACT_CLOSE },
	{ J_LIVE, PHASE_LIVE, EV_ALIVE, ACT_TRACK },
	{ J_LIVE, PHASE_LIVE, EV_ALIVE_CANCEL, ACT_STOP_AGENT },
	{ J_LIVE, PHASE_LIVE, EV_ALIVE_STOP, ACT_NOTICE },

	/* Outcome decided: tear down until the provider confirms. */
	{ J_LIVE, PHASE_CLOSING, EV_PASS, ACT_TEARDOWN },
	{ J_LIVE, PHASE_CLOSING, EV_CANCEL, ACT_TEARDOWN },
	{ J_LIVE, PHASE_CLOSING, EV_BUDGET_STOP, ACT_TEARDOWN },
	{ J_LIVE, PHASE_CLOSING, EV_TORN_DOWN, ACT_END_ATTEMPT },
	{ J_LIVE, PHASE_CLOSING, EV_TEARDOWN_FAILED, ACT_RETRY },
};

#define N_TRANSITIONS (sizeof(transitions) / sizeof(transitions[0]))

/* How often each row matched in this process (tests: every row is reached). */
static unsigned long transition_hits[N_TRANSITIONS];

static enum rec_action transition_find(enum job_status s, enum ledger_phase phase,
				       enum rec_event ev)
{
	size_t i;

	for (i = 0; i < N_TRANSITIONS; i++)
		if ((transitions[i].jobs & J(s)) && transitions[i].phase == phase &&
		    transitions[i].event == ev) {
			transition_hits[i]++;
			return transitions[i].action;
		}
	return ACT_NONE;
}

size_t reconcile_transition_count(void)
{
	return N_TRANSITIONS;
}

unsigned long reconcile_transition_hits(size_t row, int *ret_phase, int *ret_event)
{
	if (row >= N_TRANSITIONS)
		return 0;
	*ret_phase = (int)transitions[row].phase;
	*ret_event = (int)transitions[row].event;
	return transition_hits[row];
}

static enum ledger_phase phase_of(const struct attempt *a)
{
	if (!a || a->ended_at)
		return PHASE_NONE;
	if (a->outcome)
		return PHASE_CLOSING;
	if (!a->instance_id)
		return PHASE_CREATING;
	return PHASE_LIVE;
}

/* How an attempt ended, as the close action records it. */
struct close_args {
	enum attempt_outcome outcome;
	int has_exit;
	int exit_code;
	const char *reason;
	int capacity;		/* a launch without capacity: plan again elsewhere */
	int nothing_made;	/* a launch that sent nothing: no teardown */
	int boot_failed;	/* its agent never reported: plan again (a few times) */
};

/* Everything an action looks at. */
struct step {
	struct reconciler *rec;
	const struct job *j;
	const struct attempt *a;	/* the live attempt, or NULL */
	const struct attempt_list *live;	/* every live attempt (reserve) */
	const struct job_list *jobs;	/* the pass's jobs, or NULL for an answer */
	struct op *op;			/* the answer that is this event, or NULL */
	struct close_args close;
	char reason[512];		/* close.reason's text, when made here */
};

static void run_action(struct step *s, enum rec_action act);

/* Apply the table to one event of a job. */
static void dispatch(struct step *s, enum rec_event ev)
{
	enum ledger_phase phase = phase_of(s->a);
	enum rec_action act = transition_find(s->j->status, phase, ev);

	if (act == ACT_NONE && ev != EV_OP_FAILED)
		log_warn("job %s: no transition from %s, phase %d, event %d", s->j->id,
			 job_status_name(s->j->status), (int)phase, (int)ev);
	run_action(s, act);
}

/* ---- actions ---- */

/* No job of backend b is planning or launching any more. */
static void turn_release(struct reconciler *rec, const char *job_id)
{
	size_t i;

	for (i = 0; i < rec->n_backends; i++)
		if (!strcmp(rec->backends[i]->launching, job_id))
			rec->backends[i]->launching[0] = '\0';
}

/* End the job (terminal status), forget its secrets. */
static void job_finish(struct reconciler *rec, const struct job *j, enum job_status s,
		       const char *reason)
{
	store_job_set_status(rec->st, j->id, s, reason, NULL);
	store_job_drop_secrets(rec->st, j->id, NULL);
	store_event_add(rec->st, j->id, "finished", "%s%s%s", job_status_name(s),
			reason ? ": " : "", reason ? reason : "");
	turn_release(rec, j->id);
	track_forget(rec, j->id);
	wake(rec);
	fault_point("controller.after_finish");
	log_info("job %s %s%s%s", j->id, job_status_name(s), reason ? ": " : "",
		 reason ? reason : "");
}

/* A job waits (no capacity now): say why, once. */
static void job_wait(struct reconciler *rec, const struct job *j, const char *why)
{
	if (!j->reason || strcmp(j->reason, why))
		store_job_set_status(rec->st, j->id, j->status, why, NULL);
}

static int lost_attempts(struct reconciler *rec, const char *id);

static int code_in(const struct task *t, int code)
{
	size_t i;

	for (i = 0; i < t->recovery.n_recover_on_exit_codes; i++)
		if (t->recovery.recover_on_exit_codes[i] == code)
			return 1;
	return 0;
}

/*
 * An attempt ended with outcome (its teardown confirmed): end the job, or
 * send it to RECOVERING for a new attempt. This is where a job's end is
 * decided. Preemptions never count against recovery.max_restarts_on_errors;
 * exit codes in recover_on_exit_codes do not either; any other failure
 * does. A cancel or a budget stop ends the job CANCELLED unless the work
 * succeeded first.
 */
static void job_after_attempt(struct reconciler *rec, const struct job *j,
			      const struct attempt *a, enum attempt_outcome outcome, int has_exit,
			      int exit_code, const char *reason)
{
	struct task t;
	int restart = 0, charged = 0;
	char why[256];

	if (j->cancel_requested == JOB_CANCEL_STOP) {
		if (outcome == OUTCOME_SUCCEEDED)
			job_finish(rec, j, JOB_SUCCEEDED, reason);
		else
			job_finish(rec, j, JOB_CANCELLED, j->reason);
		return;
	}
	if (j->cancel_requested || outcome == OUTCOME_CANCELLED) {
		job_finish(rec, j, outcome == OUTCOME_SUCCEEDED ? JOB_SUCCEEDED : JOB_CANCELLED,
			   reason);
		return;
	}
	if (outcome == OUTCOME_SUCCEEDED) {
		job_finish(rec, j, JOB_SUCCEEDED, reason);
		return;
	}
	task_init(&t);
	if (task_from_json(j->task_json, &t, NULL) < 0) {
		job_finish(rec, j, JOB_FAILED, reason);
		task_release(&t);
		return;
	}
	if (outcome == OUTCOME_PREEMPTED) {
		restart = 1;
		snprintf(why, sizeof(why), "preempted on attempt %d; recovering", a->n);
		store_block_add(rec->st, a->backend, a->region, a->zone,
				time_now_ms() + PREEMPT_COOLDOWN_MS, "preempted", NULL);
	} else if (outcome == OUTCOME_FAILED && has_exit && code_in(&t, exit_code)) {
		restart = 1;
		snprintf(why, sizeof(why), "exit code %d is in recover_on_exit_codes; recovering",
			 exit_code);
	} else if ((outcome == OUTCOME_LOST || outcome == OUTCOME_ORPHANED) &&
		   lost_attempts(rec, j->id) <= LOST_RESTARTS_MAX) {
		/* The machine or the link to it failed, not the job: like a
		 * preemption (from the last checkpoint), a few times. */
		restart = 1;
		snprintf(why, sizeof(why), "attempt %d %s (%s); recovering", a->n,
			 attempt_outcome_name(outcome), reason ? reason : "");
	} else if ((outcome == OUTCOME_FAILED || outcome == OUTCOME_OUTPUTS_FAILED ||
		    outcome == OUTCOME_LOST || outcome == OUTCOME_ORPHANED) &&
		   j->error_restarts < t.recovery.max_restarts_on_errors) {
		restart = charged = 1;
		snprintf(why, sizeof(why), "failed (%s); restart %d of %d on errors",
			 reason ? reason : "failed", j->error_restarts + 1,
			 t.recovery.max_restarts_on_errors);
	}
	task_release(&t);
	if (!restart) {
		job_finish(rec, j, JOB_FAILED, reason);
		return;
	}
	if (tx_begin(rec, j->id) < 0)
		return;
	store_job_set_counts(rec->st, j->id, j->restarts + 1, j->error_restarts + charged, NULL);
	store_job_set_status(rec->st, j->id, JOB_RECOVERING, why, NULL);
	if (tx_commit(rec, j->id) < 0)
		return;
	store_event_add(rec->st, j->id, "recovering", "%s", why);
	wake(rec);
	log_info("job %s: %s", j->id, why);
	fault_point("controller.after_recovering");
}

static enum job_status status_of_phase(const char *phase)
{
	if (!phase || !strcmp(phase, "starting") || !strcmp(phase, "setup"))
		return JOB_STARTING;
	return JOB_RUNNING;
}

/* Trials of sweep_id running now (with a live attempt). */
static int sweep_running(struct reconciler *rec, const char *sweep_id);

/* A sweep runs at most max_parallel trials at once. */
static int sweep_full(struct reconciler *rec, const struct job *j, const struct job_list *jobs,
		      const struct attempt_list *live)
{
	struct sweep_row sw;
	int full = 0;

	if (!j->sweep_id || !jobs || store_sweep_get(rec->st, j->sweep_id, &sw, NULL) < 0)
		return 0;
	full = sw.max_parallel > 0 && sweep_running(rec, j->sweep_id) >= sw.max_parallel;
	sweep_row_release(&sw);
	return full;
}

/* ACT_PLAN: the first waiting job of each backend, in queue order, plans;
 * the others of that backend wait their turn (and no other backend's). */
static void act_plan(struct step *s, const struct job_list *jobs)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	struct error err = ERROR_INIT;
	struct backend *b;
	struct op *op;

	if (sweep_full(rec, j, jobs, s->live))
		return;
	if (!(b = backend_get(rec, j->backend, &err))) {
		job_finish(rec, j, JOB_FAILED, error_msg(&err));
		return;
	}
	if (b->turn_taken || b->launching[0]) {
		if (jobs) {	/* a pass: its turn comes in plan_next */
			XGROW(b->queue, b->n_queue + 1, b->alloc_queue);
			snprintf(b->queue[b->n_queue++], JOB_ID_MAX, "%s", j->id);
		}
		return;
	}
	b->turn_taken = 1;
	op = op_new(rec, b, OP_PLAN, j->id, 0, NULL);
	if (task_from_json(j->task_json, &op->task, &err) < 0) {
		op_free(op);
		job_finish(rec, j, JOB_FAILED, "the stored task cannot be read");
		return;
	}
	store_block_list_active(rec->st, b->name, time_now_ms(), &op->blocked, NULL);
	snprintf(b->launching, sizeof(b->launching), "%s", j->id);
	op_submit(rec, op);
}

/* Unseal a job's secrets into out (name -> value). */
static int job_secrets(struct reconciler *rec, const char *job_id, struct kvlist *out,
		       struct error *err);

/* The ledger row of an attempt's ports (provider.h ports_open), committed
 * with the instance's row, before either is made. */
static int ports_row_begin(struct reconciler *rec, const char *job_id, int n,
			   const char *backend, const char *token, struct error *err)
{
	char *pt = provider_ports_token(token);
	int64_t id;
	int r = store_resource_begin(rec->st, job_id, n, backend, "ports", pt, &id, err);

	free(pt);
	return r;
}

/* The same for its volumes (provider.h volumes_end). */
static int volume_row_begin(struct reconciler *rec, const char *job_id, int n,
			    const char *backend, const char *token, struct error *err)
{
	char *vt = provider_volume_token(token);
	int64_t id;
	int r = store_resource_begin(rec->st, job_id, n, backend, "volume", vt, &id, err);

	free(vt);
	return r;
}

static void kind_rows_set(struct reconciler *rec, const char *job_id, int n, const char *kind,
			  const char *provider_id, enum resource_state state);
static int kind_row_open(struct reconciler *rec, const char *job_id, int n, const char *kind);

/* Set every open ports row of attempt n to state (provider_id when not
 * NULL). */
static void ports_rows_set(struct reconciler *rec, const char *job_id, int n,
			   const char *provider_id, enum resource_state state)
{
	kind_rows_set(rec, job_id, n, "ports", provider_id, state);
}

/* 1 when attempt n of job_id has an open ports row. */
static int ports_row_open(struct reconciler *rec, const char *job_id, int n)
{
	return kind_row_open(rec, job_id, n, "ports");
}

/* Set every open row of kind of attempt n to state (provider_id when not
 * NULL). */
static void kind_rows_set(struct reconciler *rec, const char *job_id, int n, const char *kind,
			  const char *provider_id, enum resource_state state)
{
	struct resource_list open = { 0 };
	size_t i;

	if (store_resource_list_open(rec->st, job_id, &open, NULL) < 0)
		return;
	for (i = 0; i < open.n; i++)
		if (open.items[i].attempt == n && open.items[i].kind &&
		    !strcmp(open.items[i].kind, kind))
			store_resource_set(rec->st, open.items[i].id, provider_id, state, NULL);
	resource_list_release(&open);
}

/* 1 when attempt n of job_id has an open row of kind. */
static int kind_row_open(struct reconciler *rec, const char *job_id, int n, const char *kind)
{
	struct resource_list open = { 0 };
	size_t i;
	int found = 0;

	if (store_resource_list_open(rec->st, job_id, &open, NULL) < 0)
		return 0;
	for (i = 0; i < open.n; i++)
		if (open.items[i].attempt == n && open.items[i].kind &&
		    !strcmp(open.items[i].kind, kind))
			found = 1;
	resource_list_release(&open);
	return found;
}

/* The ledger rows of ranks 1..nodes-1 of a multi-node attempt (tokens
 * provider_node_token), committed with rank 0's, before any is made. */
static int node_rows_begin(struct reconciler *rec, const char *job_id, int n,
			   const char *backend, const char *token, int nodes, struct error *err)
{
	int rank, r = 0;

	for (rank = 1; rank < nodes && r == 0; rank++) {
		char *tok = provider_node_token(token, rank);
		int64_t id;

		r = store_resource_begin(rec->st, job_id, n, backend, "instance", tok, &id, err);
		free(tok);
	}
	return r;
}

/* Set the open rows of ranks >= 1 of attempt n to state, with the ids
 * (rank r's ids[r]; NULL: none) when given. */
static void node_rows_set(struct reconciler *rec, const char *job_id, int n, char **ids,
			  int nodes, enum resource_state state)
{
	struct resource_list open = { 0 };
	size_t i;

	if (store_resource_list_open(rec->st, job_id, &open, NULL) < 0)
		return;
	for (i = 0; i < open.n; i++) {
		int rank = provider_token_rank(open.items[i].token);

		if (open.items[i].attempt == n && rank > 0 && rank < nodes && open.items[i].kind &&
		    !strcmp(open.items[i].kind, "instance"))
			store_resource_set(rec->st, open.items[i].id, ids ? ids[rank] : NULL, state,
					   NULL);
	}
	resource_list_release(&open);
}

/* ACT_LAUNCH: capacity, then the ledger row and the attempt in one commit,
 * then the launch (with the plan just recorded). */
static void act_launch(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	struct op *pop = s->op, *op;
	struct backend *b = pop->b;
	struct error err = ERROR_INIT;
	struct attempt a = { 0 };
	char *gpus = NULL;
	int64_t res_id = 0;
	int n = j->n_attempts + 1, r;

	if (b->p->ops->reserve(b->p, &pop->task, s->live, &gpus, &err) < 0) {
		job_wait(rec, j, error_msg(&err));
		return;
	}
	op = op_new(rec, b, OP_LAUNCH, j->id, n, NULL);
	if (job_secrets(rec, j->id, &op->secrets, &err) < 0 ||
	    task_from_json(j->task_json, &op->task, &err) < 0) {
		op_free(op);
		free(gpus);
		job_finish(rec, j, JOB_FAILED, error_msg(&err));
		return;
	}
	plan_copy(&pop->plan, &op->plan);
	snprintf(a.job_id, sizeof(a.job_id), "%s", j->id);
	a.n = n;
	a.backend = op->plan.backend;
	a.region = op->plan.region;
	a.zone = op->plan.zone;
	a.instance_type = op->plan.instance_type;
	a.spot = op->plan.spot;
	/* num_nodes: N nodes billed alike, each at the plan's price. */
	op->nodes = op->task.num_nodes > 1 ? op->task.num_nodes : 1;
	a.price_per_hour = op->plan.price_per_hour * op->nodes;
	a.price_source = op->plan.price_source;
	a.volume_price_per_hour = op->plan.volume_price_per_hour;
	a.gpus = gpus;
	a.started_at = time_now_ms();
	if ((r = store_begin(rec->st, &err)) < 0)
		goto fail;
	op->ports = provider_opens_ports(b->p, &op->task);
	op->volume = provider_makes_volumes(b->p, &op->task);
	if ((r = store_resource_begin(rec->st, j->id, n, b->name, "instance", op->token,
				      &res_id, &err)) < 0 ||
	    (op->ports && (r = ports_row_begin(rec, j->id, n, b->name, op->token, &err)) < 0) ||
	    (r = node_rows_begin(rec, j->id, n, b->name, op->token, op->nodes, &err)) < 0 ||
	    (op->volume && (r = volume_row_begin(rec, j->id, n, b->name, op->token, &err)) < 0) ||
	    (r = store_attempt_insert(rec->st, &a, &err)) < 0 ||
	    (r = store_job_set_status(rec->st, j->id, JOB_PROVISIONING, "", &err)) < 0) {
		store_rollback(rec->st);
		goto fail;
	}
	if ((r = store_commit(rec->st, &err)) < 0)
		goto fail;
	fault_point("controller.after_ledger");
	if (j->sweep_id)	/* a trial more runs (plan_next; passes count again) */
		strmap_put(&rec->sweep_live, j->sweep_id,
			   (void *)((intptr_t)strmap_get(&rec->sweep_live, j->sweep_id) + 1));

	op->task_json = xstrdup(j->task_json);
	op->job_prefix = key_job_prefix(j->id);
	op->outputs_url = j->outputs_url ? xstrdup(j->outputs_url)
					 : key_outputs_url(op->storage_url, op->job_prefix);
	op->socket = xstrdup(rec->home.socket);
	op->controller_key = xstrdup(rec->controller_key);
	op->gpus = gpus;
	op->restart_count = j->restarts;
	snprintf(b->launching, sizeof(b->launching), "%s", j->id);
	op_submit(rec, op);
	return;
fail:
	log_error("job %s: %s", j->id, error_msg(&err));
	free(gpus);
	op_free(op);
}

/* The ledger row of token, or NULL. */
static int resource_of(struct reconciler *rec, const char *job_id, const char *token,
		       struct resource *ret)
{
	struct resource_list open = { 0 };
	size_t i;
	int r = FRUGAL_ENOTFOUND;

	if (store_resource_list_open(rec->st, job_id, &open, NULL) < 0)
		return FRUGAL_EDB;
	for (i = 0; i < open.n; i++)
		if (!strcmp(open.items[i].token, token)) {
			*ret = open.items[i];
			memset(&open.items[i], 0, sizeof(open.items[i]));
			r = 0;
			break;
		}
	resource_list_release(&open);
	return r;
}

/* ACT_RECORD_LAUNCH: the instance exists: its id into the ledger. */
static void act_record_launch(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	struct op *op = s->op;
	struct resource res;

	if (resource_of(rec, j->id, op->token, &res) < 0) {
		log_error("job %s: no ledger row for %s", j->id, op->token);
		return;
	}
	if (tx_begin(rec, j->id) < 0) {
		resource_release(&res);
		return;
	}
	store_resource_set(rec->st, res.id, op->new_id, RES_LIVE, NULL);
	if (op->ports)
		ports_rows_set(rec, j->id, op->attempt, op->ports_id, RES_LIVE);
	if (op->nodes > 1)
		node_rows_set(rec, j->id, op->attempt, op->node_ids, op->nodes, RES_LIVE);
	if (op->volume)	/* made with the instance, found by its token */
		kind_rows_set(rec, j->id, op->attempt, "volume", op->new_id, RES_LIVE);
	store_attempt_set_instance(rec->st, j->id, op->attempt, op->new_id, NULL);
	store_job_set_status(rec->st, j->id, JOB_STARTING, "", NULL);
	if (tx_commit(rec, j->id) < 0) {
		resource_release(&res);
		return;
	}
	resource_release(&res);
	fault_point("controller.after_launch_recorded");
	store_event_add(rec->st, j->id, "launched", "attempt %d on %s (%s) gpus [%s]",
			op->attempt, op->plan.backend, op->plan.instance_type,
			op->gpus ? op->gpus : "");
	log_info("job %s: attempt %d launched on %s, instance %s", j->id, op->attempt,
		 op->plan.backend, op->new_id);
	if (op->b->queue_pos >= op->b->n_queue)
		wake(rec);	/* the backend's next job may plan now (else plan_next) */
}

static void act_teardown(struct step *s);

/* Attempts of job id whose machine was made and whose agent never
 * reported (launch_failed with an instance), this one included. */
static int boot_failures(struct reconciler *rec, const char *id)
{
	struct attempt_list l = { 0 };
	size_t i;
	int n = 1;

	if (store_attempt_list(rec->st, id, &l, NULL) < 0)
		return n;
	for (i = 0; i < l.n; i++)
		if (l.items[i].ended_at && l.items[i].instance_id && l.items[i].outcome &&
		    !strcmp(l.items[i].outcome, "launch_failed"))
			n++;
	attempt_list_release(&l);
	return n;
}

/* Ended attempts of job id that were lost or orphaned. */
static int lost_attempts(struct reconciler *rec, const char *id)
{
	struct attempt_list l = { 0 };
	size_t i;
	int n = 0;

	if (store_attempt_list(rec->st, id, &l, NULL) < 0)
		return n;
	for (i = 0; i < l.n; i++)
		if (l.items[i].outcome && (!strcmp(l.items[i].outcome, "lost") ||
					   !strcmp(l.items[i].outcome, "orphaned")))
			n++;
	attempt_list_release(&l);
	return n;
}

/* ACT_CLOSE: the attempt's outcome is decided: record it (and, for a
 * launch without capacity, block the location and plan again), then tear
 * the instance down. The attempt ends, and the job moves on, only once
 * the provider confirms the teardown. */
static void act_close(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	const struct attempt *a = s->a;
	const struct close_args *c = &s->close;
	struct resource_list open = { 0 };
	size_t i;

	if (tx_begin(rec, j->id) < 0)
		return;
	store_attempt_set_outcome(rec->st, j->id, a->n, attempt_outcome_name(c->outcome),
				  c->has_exit, c->exit_code, NULL);
	if (store_resource_list_open(rec->st, j->id, &open, NULL) == 0)
		for (i = 0; i < open.n; i++)
			if (open.items[i].attempt == a->n)
				/* A launch that sent nothing left nothing to end. */
				store_resource_set(rec->st, open.items[i].id, NULL,
						   c->nothing_made ? RES_GONE : RES_DELETING, NULL);
	if (c->capacity) {
		/* No capacity there: keep that location out for a while and
		 * plan again, which picks the next candidate. */
		char why[ERROR_MSG_MAX + 64];

		store_block_add(rec->st, a->backend, a->region, a->zone,
				time_now_ms() + CAPACITY_BLOCK_MS, c->reason, NULL);
		snprintf(why, sizeof(why), "no capacity in %s %s/%s; trying elsewhere",
			 a->backend, a->region ? a->region : ZONE_NONE,
			 a->zone ? a->zone : ZONE_NONE);
		store_job_set_status(rec->st, j->id, JOB_PENDING, why, NULL);
	}
	if (c->boot_failed && boot_failures(rec, j->id) <= BOOT_FAILURES_MAX) {
		/* The machine never ran the agent: a new one, the plan's
		 * choice again (the job is not to blame). */
		char why[ERROR_MSG_MAX + 64];

		snprintf(why, sizeof(why), "attempt %d: %s; planning again", a->n, c->reason);
		store_job_set_status(rec->st, j->id, JOB_PENDING, why, NULL);
	}
	if (tx_commit(rec, j->id) < 0) {
		resource_list_release(&open);
		return;
	}
	resource_list_release(&open);
	track_set_reason(track_get(rec, j->id), c->reason);
	act_teardown(s);
}

static void act_end_attempt(struct step *s);

/* ACT_TEARDOWN: terminate every open ledger row of the attempt. */
static void act_teardown(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	const struct attempt *a = s->a;
	struct resource_list open = { 0 };
	struct error err = ERROR_INIT;
	struct backend *b;
	struct op *op;
	size_t i;

	if (store_resource_list_open(rec->st, j->id, &open, &err) < 0) {
		log_error("%s", error_msg(&err));
		return;
	}
	if (!(b = backend_get(rec, a->backend, &err))) {
		log_error("job %s: %s", j->id, error_msg(&err));
		resource_list_release(&open);
		return;
	}
	op = op_new(rec, b, OP_TEARDOWN, j->id, a->n, a->instance_id);
	for (i = 0; i < open.n; i++) {
		struct resource *res = &open.items[i];

		if (res->attempt != a->n)
			continue;
		if (res->state != RES_DELETING)
			store_resource_set(rec->st, res->id, NULL, RES_DELETING, NULL);
		XGROW(op->res.items, op->res.n + 1, op->res.alloc);
		op->res.items[op->res.n++] = *res;
		memset(res, 0, sizeof(*res));
		fault_point("controller.before_terminate");
	}
	resource_list_release(&open);
	if (!op->res.n) {
		op_free(op);
		act_end_attempt(s);
		return;
	}
	op->res_ok = xcalloc(op->res.n, sizeof(int));
	op_submit(rec, op);
}

/* ACT_END_ATTEMPT: the teardown is confirmed: the attempt ends with the
 * outcome recorded at close, billed at the price recorded at launch;
 * then the job moves on. */
static void act_end_attempt(struct step *s)
{
	struct reconciler *rec = s->rec;
	struct track *t = track_get(rec, s->j->id);
	struct job fresh, *j = &fresh;
	struct attempt a;
	struct attempt_cost cost;
	enum attempt_outcome outcome;
	int64_t gone;
	char *reason;

	/* As the store has them now: closing may have changed the job. */
	if (store_job_get(rec->st, s->j->id, &fresh, NULL) < 0)
		return;
	if (store_attempt_get(rec->st, j->id, s->a->n, &a, NULL) < 0) {
		job_release(&fresh);
		return;
	}
	outcome = attempt_outcome_from_name(a.outcome);
	if (outcome == OUTCOME_NONE)
		outcome = OUTCOME_FAILED;
	/* Billed at the price recorded at launch, never re-priced
	 * (billing.h attempt_cost; a launch that never had a machine costs
	 * nothing). The bill ends when the machine did: an attempt whose
	 * other rows (its ports) took longer to remove is not billed for
	 * that wait. */
	a.ended_at = time_now_ms();
	if (store_resource_gone_at(rec->st, j->id, a.n, "instance", &gone, NULL) == 0 &&
	    gone > 0 && gone < a.ended_at)
		a.ended_at = gone;
	attempt_cost(&a, a.ended_at, &cost);
	store_attempt_end(rec->st, j->id, a.n, attempt_outcome_name(outcome), a.has_exit_code,
			  a.exit_code, a.ended_at, NULL);
	store_cost_record(rec->st, j->id, a.n, a.backend, cost.billed_seconds, cost.micro, NULL);
	if (a.has_exit_code)
		store_event_add(rec->st, j->id, "attempt", "attempt %d ended: %s, exit code %d",
				a.n, attempt_outcome_name(outcome), a.exit_code);
	else
		store_event_add(rec->st, j->id, "attempt", "attempt %d ended: %s", a.n,
				attempt_outcome_name(outcome));
	fault_point("controller.after_attempt_end");
	reason = t->close_reason ? xstrdup(t->close_reason) : NULL;
	track_set_reason(t, NULL);
	if (J(j->status) & J_ACTIVE)
		job_after_attempt(rec, j, &a, outcome, a.has_exit_code, a.exit_code, reason);
	else
		wake(rec);	/* capacity elsewhere: plan again */
	free(reason);
	attempt_release(&a);
	job_release(&fresh);
}

/* The limits for attempts on backend name (reconciler_hooks.liveness,
 * else the backend's). */
static void liveness_of(const struct reconciler *rec, const char *name,
			struct backend_liveness *ret)
{
	if (rec->hooks.liveness)
		*ret = *rec->hooks.liveness;
	else
		backend_liveness_get(name, &rec->cfg, ret);
}

/* What the liveness checks need of j's task, read once per job. */
static struct track *track_task(struct reconciler *rec, const struct job *j)
{
	struct track *t = track_get(rec, j->id);

	if (t->task_read)
		return t;
	t->task_read = 1;
	t->orphan_timeout_s = 1800;
	if (task_from_json(j->task_json, &t->task, NULL) == 0) {
		t->task_ok = 1;
		t->max_runtime_s = t->task.stop.max_runtime;
		t->orphan_timeout_s = t->task.stop.orphan_timeout;
		/* The agent's stop grace (agent.c stop_grace_ms: at most 30 s). */
		t->stop_grace_s = t->task.recovery.notice_grace < 0 ? 0 :
				  t->task.recovery.notice_grace > 30 ? 30 :
				  t->task.recovery.notice_grace;
	} else {
		task_release(&t->task);
		task_init(&t->task);
	}
	return t;
}

/* A look at a multi-node attempt: every node's id from the ledger, and
 * the notice to forward to every node once (a preemption of one node, a
 * budget stop: rank 0 stores the checkpoint). */
static void look_nodes_prepare(struct reconciler *rec, struct step *s, struct track *t,
			       struct op *op)
{
	struct resource_list open = { 0 };
	size_t i;

	op->nodes = t->task.num_nodes;
	op->node_ids = xcalloc((size_t)op->nodes, sizeof(char *));
	op->other_nodes_end = t->task.stop.other_nodes_end;
	op->notice_grace_ms = t->task.recovery.notice_grace * 1000;
	if (store_resource_list_open(rec->st, s->j->id, &open, NULL) == 0)
		for (i = 0; i < open.n; i++) {
			int rank = provider_token_rank(open.items[i].token);

			if (open.items[i].attempt == s->a->n && rank > 0 && rank < op->nodes &&
			    open.items[i].provider_id && !op->node_ids[rank])
				op->node_ids[rank] = xstrdup(open.items[i].provider_id);
		}
	resource_list_release(&open);
	if (s->a->notice_deadline && t->forwarded != s->a->n) {
		op->forward_deadline = s->a->notice_deadline;
		t->forwarded = s->a->n;
	}
	op->deadline_ms = s->j->cancel_requested == JOB_CANCEL_STOP;	/* a budget's notice */
}

/* ACT_LOOK: what the agent reported, and what the provider sees. */
static void act_look(struct step *s)
{
	struct reconciler *rec = s->rec;
	struct error err = ERROR_INIT;
	struct backend *b = backend_get(rec, s->a->backend, &err);
	struct backend_liveness lv;
	struct track *t;
	struct op *op;

	if (!b) {
		log_error("job %s: %s", s->j->id, error_msg(&err));
		return;
	}
	t = track_task(rec, s->j);
	liveness_of(rec, s->a->backend, &lv);
	t->looked_at = time_mono_ms();
	t->woken = 0;
	op = op_new(rec, b, OP_LOOK, s->j->id, s->a->n, s->a->instance_id);
	if (lv.boot_timeout_ms > 0)
		op->boot_deadline = s->a->started_at + lv.boot_timeout_ms;
	/* Agents look for a change every orphan_timeout / 4 at most: three
	 * chances before they give up. */
	op->alive_every_ms = KEY_CONTROLLER_EVERY_S * 1000;
	if (t->orphan_timeout_s > 0 && t->orphan_timeout_s * 1000 / 8 < op->alive_every_ms)
		op->alive_every_ms = t->orphan_timeout_s * 1000 / 8;
	if (op->alive_every_ms < 500)
		op->alive_every_ms = 500;
	op->controller_key = xstrdup(rec->controller_key);
	if (t->task_ok && t->task.num_nodes > 1)
		look_nodes_prepare(rec, s, t, op);
	op_submit(rec, op);
}

/* Text of a boot log safe for an event: printable bytes and newlines;
 * the rest become '?'. */
static void boot_log_clean(struct strbuf *sb)
{
	size_t i;

	for (i = 0; i < sb->len; i++) {
		unsigned char c = (unsigned char)sb->buf[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			sb->buf[i] = '?';
	}
	strbuf_rtrim(sb);
}

/* The agent never reported: record why (with the boot log's tail) and
 * close the attempt launch_failed: the job plans again. */
static enum rec_event boot_failed(struct step *s, const char *why)
{
	struct op *op = s->op;

	boot_log_clean(&op->boot_log);
	snprintf(s->reason, sizeof(s->reason), "%s", why);
	store_event_add(s->rec->st, s->j->id, "launch_failed", "attempt %d: %s; ending the machine."
			" %s%s", s->a->n, why, op->boot_log.len ? "Its boot log ends:\n" :
			"No boot log could be read (the provider keeps none, and no boot.log was"
			" stored under the attempt).", op->boot_log.buf);
	log_warn("job %s: attempt %d: %s", s->j->id, s->a->n, why);
	s->close.outcome = OUTCOME_LAUNCH_FAILED;
	s->close.reason = s->reason;
	s->close.boot_failed = 1;
	return EV_LOST;
}

/*
 * The controller's liveness checks of a machine that runs (EV_PASS: it is
 * fine): no report within boot_timeout of the launch (a boot failure); a
 * heartbeat that did not change for heartbeat_timeout, as this controller
 * saw it (its own clock: a machine's skewed clock does not matter; after
 * a restart the count starts again), or STATUS_BUSY_LIMIT_MS while the
 * agent said it was busy (lost); max_runtime + the stop grace +
 * BACKSTOP_SLACK_MS past the agent's start while the job still runs
 * (timed out: the agent's own timers did not end it).
 */
static enum rec_event liveness_event(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	const struct attempt *a = s->a;
	struct op *op = s->op;
	struct agent_status *st = &op->status;
	struct backend_liveness lv;
	struct track *t = track_task(rec, j);
	int64_t now = time_now_ms(), mono = time_mono_ms(), limit;
	char d[32];

	liveness_of(rec, a->backend, &lv);
	if (!op->have_status) {
		if (op->boot_deadline && now > op->boot_deadline && !op->no_storage) {
			char why[128];

			duration_format(lv.boot_timeout_ms / 1000, d, sizeof(d));
			snprintf(why, sizeof(why), "the agent did not report within boot_timeout %s"
				 " of the launch", d);
			return boot_failed(s, why);
		}
		return EV_PASS;
	}
	if (t->hb_attempt != a->n || t->hb_value != st->heartbeat_at) {
		t->hb_attempt = a->n;
		t->hb_value = st->heartbeat_at;
		t->hb_seen = mono;
	}
	limit = st->busy ? STATUS_BUSY_LIMIT_MS : lv.heartbeat_timeout_ms;
	if (mono - t->hb_seen > limit) {
		long long age = st->heartbeat_at ? (now - st->heartbeat_at) / 1000 : -1;

		snprintf(s->reason, sizeof(s->reason), "lost: the agent's last heartbeat is %llds"
			 " old (unchanged for %llds here, limit %llds%s%s)", age,
			 (long long)((mono - t->hb_seen) / 1000), (long long)(limit / 1000),
			 st->busy ? " while busy with " : "", st->busy ? st->busy : "");
		store_event_add(rec->st, j->id, "lost", "attempt %d %s; ending the machine", a->n,
				s->reason);
		log_warn("job %s: attempt %d %s", j->id, a->n, s->reason);
		s->close.outcome = OUTCOME_LOST;
		s->close.reason = s->reason;
		return EV_LOST;
	}
	if (t->max_runtime_s > 0 && st->started_at && st->phase &&
	    (!strcmp(st->phase, "starting") || !strcmp(st->phase, "setup") ||
	     !strcmp(st->phase, "running"))) {
		int64_t end = st->started_at + (t->max_runtime_s + t->stop_grace_s) * 1000 +
			      BACKSTOP_SLACK_MS;

		if (now > end) {
			duration_format(t->max_runtime_s, d, sizeof(d));
			snprintf(s->reason, sizeof(s->reason), "max_runtime %s reached and the agent"
				 " did not stop the job (%llds past its deadline): ended by the"
				 " controller", d, (long long)((now - end) / 1000 +
							BACKSTOP_SLACK_MS / 1000));
			store_event_add(rec->st, j->id, "timeout", "attempt %d: %s", a->n,
					s->reason);
			log_warn("job %s: attempt %d: %s", j->id, a->n, s->reason);
			s->close.outcome = OUTCOME_TIMED_OUT;
			s->close.reason = s->reason;
			return EV_LOST;
		}
	}
	return EV_PASS;
}

/* A budget stop reaches the agent as a notice; the attempt it ends is
 * budget_stopped, not preempted, whatever the agent could tell. */
static enum attempt_outcome budget_outcome(const struct job *j, enum attempt_outcome o)
{
	if (j->cancel_requested == JOB_CANCEL_STOP && o == OUTCOME_PREEMPTED)
		return OUTCOME_BUDGET_STOPPED;
	return o;
}

/* A machine's boot check reported launch_failed (an agent built for
 * another architecture, one that cannot start there): like a boot
 * deadline, the job is not to blame: the reason in the job's events, and
 * the job plans again (a few times). */
static void boot_reported(struct step *s)
{
	if (s->close.outcome != OUTCOME_LAUNCH_FAILED || s->j->cancel_requested)
		return;
	store_event_add(s->rec->st, s->j->id, "launch_failed", "attempt %d: the machine's boot"
			" check failed: %s", s->a->n, s->close.reason ? s->close.reason : "no reason");
	s->close.boot_failed = 1;
}

/* The event a look's answer is, with what closing would record. */
static enum rec_event look_event(struct step *s, int64_t *notice)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	const struct attempt *a = s->a;
	struct op *op = s->op;
	struct agent_status *st = &op->status;
	enum instance_state state;

	*notice = a->notice_deadline;
	if (op->have_status && st->metrics && (!j->metrics_json || strcmp(st->metrics, j->metrics_json)))
		store_job_set_metrics(rec->st, j->id, st->metrics, NULL);
	if (op->have_status && st->outcome && !op->described) {
		/* A cancel some backends can only deliver as SIGTERM reads as a
		 * preemption to the agent: it was the user's cancel. */
		enum attempt_outcome o = budget_outcome(j, attempt_outcome_from_name(st->outcome));
		int mapped = j->cancel_requested == JOB_CANCEL_NOW && o == OUTCOME_PREEMPTED;

		s->close.outcome = mapped ? OUTCOME_CANCELLED : o;
		s->close.reason = mapped ? "cancelled" : st->reason;
		s->close.has_exit = st->has_exit;
		s->close.exit_code = st->exit_code;
		boot_reported(s);
		return EV_REPORTED;
	}
	if (op->described && op->view.notice_deadline && !a->notice_deadline) {
		/* The provider gave notice (a disruption it saw): record it once. */
		store_attempt_set_notice(rec->st, j->id, a->n, op->view.notice_deadline, NULL);
		store_event_add(rec->st, j->id, "preempted", "attempt %d: %s: %s", a->n,
				a->backend, op->view.reason ? op->view.reason : "notice");
		*notice = op->view.notice_deadline;
	}
	state = op->described ? op->view.state : INSTANCE_RUNNING;
	if (state == INSTANCE_RUNNING && *notice && time_now_ms() > *notice + 1000) {
		log_info("job %s: notice deadline passed: the machine is taken", j->id);
		state = INSTANCE_GONE;
	}
	if (state == INSTANCE_GONE) {
		if (op->have_status && st->outcome) {
			s->close.outcome = budget_outcome(j, attempt_outcome_from_name(st->outcome));
			s->close.reason = st->reason;
			s->close.has_exit = st->has_exit;
			s->close.exit_code = st->exit_code;
			boot_reported(s);
			return EV_REPORTED;
		}
		if (op->no_storage && !j->cancel_requested)
			/* Its report may be in a storage that cannot be read
			 * now: decide once it can. */
			return EV_ALIVE;
		if (!op->have_status && !j->cancel_requested && !*notice) {
			/* Gone before its agent ever reported: it never started
			 * (a binary that cannot run there, say). */
			enum rec_event ev = boot_failed(s, "the machine ended before its agent"
							" reported");

			return ev == EV_LOST ? EV_GONE : ev;
		}
		s->close.outcome = j->cancel_requested == JOB_CANCEL_STOP ? OUTCOME_BUDGET_STOPPED :
				   j->cancel_requested ? OUTCOME_CANCELLED :
				   *notice ? OUTCOME_PREEMPTED : OUTCOME_FAILED;
		s->close.reason = j->cancel_requested ? "cancelled" :
				  *notice ? "preempted: the machine was taken" :
				  op->described && op->view.reason ? op->view.reason :
				  "the agent exited without reporting an outcome";
		return EV_GONE;
	}
	if (!j->cancel_requested) {
		enum rec_event ev = liveness_event(s);

		if (ev != EV_PASS)
			return ev;
	}
	if (j->cancel_requested == JOB_CANCEL_STOP)
		return EV_ALIVE_STOP;
	if (j->cancel_requested == JOB_CANCEL_NOW)
		return EV_ALIVE_CANCEL;
	return EV_ALIVE;
}

/* ACT_TRACK: the job's status follows the agent's phase. */
static void act_track(struct step *s)
{
	const struct job *j = s->j;
	const struct op *op = s->op;
	enum job_status now;

	if (!op || !op->have_status)
		return;
	now = status_of_phase(op->status.phase);
	if (now != j->status && !(j->status == JOB_RUNNING && now == JOB_STARTING))
		store_job_set_status(s->rec->st, j->id, now, NULL, NULL);
}

/* ACT_STOP_AGENT: a cancel asks the agent first; after a grace, the
 * machine is torn down all the same. */
static void act_stop_agent(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	struct track *t = track_get(rec, j->id);

	if (!t->stop_since) {
		t->stop_since = time_mono_ms();
		op_submit(rec, op_new(rec, s->op->b, OP_STOP, j->id, s->a->n, s->a->instance_id));
		store_event_add(rec->st, j->id, "cancel", "asked the agent to stop");
	} else if (time_mono_ms() - t->stop_since > CANCEL_GRACE_MS) {
		s->close.outcome = OUTCOME_CANCELLED;
		s->close.has_exit = 0;
		s->close.reason = "cancelled (agent did not stop in time)";
		act_close(s);
	}
}

/* ACT_NOTICE: a budget stops the job the graceful way, as a preemption
 * notice (checkpoint, then end); the machine is taken at the deadline. */
static void act_notice(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct job *j = s->j;
	struct backend *b = s->op->b;
	struct task t;
	struct op *op;
	int64_t grace = 30, deadline;

	if (s->a->notice_deadline || !b->p->ops->notice)
		return;
	task_init(&t);
	if (task_from_json(j->task_json, &t, NULL) == 0)
		grace = t.recovery.notice_grace;
	task_release(&t);
	deadline = time_now_ms() + grace * 1000;
	store_attempt_set_notice(rec->st, j->id, s->a->n, deadline, NULL);
	op = op_new(rec, b, OP_NOTICE, j->id, s->a->n, s->a->instance_id);
	op->deadline_ms = deadline;
	op_submit(rec, op);
	store_event_add(rec->st, j->id, "budget", "budget stop: %s; stopping gracefully"
			" (checkpoint, then end)", j->reason ? j->reason : "budget reached");
}

/* ACT_RESOLVE: a row left "creating" (a crash, or a launch that passed its
 * deadline) may or may not exist at the provider: ask it under the token. */
static void act_resolve(struct step *s)
{
	struct reconciler *rec = s->rec;
	const struct attempt *a = s->a;
	struct error err = ERROR_INIT;
	struct backend *b = backend_get(rec, a->backend, &err);
	struct op *op;

	if (!b) {
		log_warn("cannot resolve %s-%d yet: %s", s->j->id, a->n, error_msg(&err));
		return;
	}
	op = op_new(rec, b, OP_RESOLVE, s->j->id, a->n, NULL);
	op->ports = b->p->ops->ports_close && ports_row_open(rec, s->j->id, a->n);
	op->nodes = track_task(rec, s->j)->task.num_nodes;
	op->volume = b->p->ops->volumes_end && kind_row_open(rec, s->j->id, a->n, "volume");
	op->plan.backend = xstrdup(a->backend);
	op->plan.region = xstrdup(a->region);
	op->plan.zone = xstrdup(a->zone);
	op->plan.instance_type = xstrdup(a->instance_type);
	op->plan.spot = a->spot;
	op->plan.price_per_hour = a->price_per_hour;
	op_submit(rec, op);
}

/* ACT_ADOPT: it exists: adopt it. */
static void act_adopt(struct step *s)
{
	struct reconciler *rec = s->rec;
	struct op *op = s->op;
	struct resource res;

	if (resource_of(rec, s->j->id, op->token, &res) < 0)
		return;
	log_info("adopting %s (instance %s): made, but its launch was not recorded", op->token,
		 op->new_id);
	if (tx_begin(rec, s->j->id) == 0) {
		store_resource_set(rec->st, res.id, op->new_id, RES_LIVE, NULL);
		if (op->nodes > 1)
			node_rows_set(rec, s->j->id, op->attempt, op->node_ids, op->nodes, RES_LIVE);
		store_attempt_set_instance(rec->st, s->j->id, op->attempt, op->new_id, NULL);
		tx_commit(rec, s->j->id);
	}
	resource_release(&res);
}

/* ACT_RELAUNCH: it was never made: the attempt ends, the job goes back
 * to the queue. */
static void act_relaunch(struct step *s)
{
	struct reconciler *rec = s->rec;
	struct op *op = s->op;
	struct resource res;

	log_info("%s was never created: launching again", op->token);
	if (tx_begin(rec, s->j->id) < 0)
		return;
	if (resource_of(rec, s->j->id, op->token, &res) == 0) {
		store_resource_set(rec->st, res.id, NULL, RES_GONE, NULL);
		resource_release(&res);
	}
	/* Its ports and volumes were ended by the resolve (or never made),
	 * and so were its other nodes. */
	ports_rows_set(rec, s->j->id, op->attempt, NULL, RES_GONE);
	node_rows_set(rec, s->j->id, op->attempt, NULL, TASK_NODES_MAX, RES_GONE);
	kind_rows_set(rec, s->j->id, op->attempt, "volume", NULL, RES_GONE);
	store_attempt_end(rec->st, s->j->id, op->attempt,
			  attempt_outcome_name(OUTCOME_LAUNCH_FAILED), 0, 0, time_now_ms(), NULL);
	/* A cancel or stop keeps its own reason. */
	store_job_set_status(rec->st, s->j->id, JOB_PENDING, s->j->cancel_requested ? NULL :
			     "relaunching: the attempt was never created", NULL);
	if (tx_commit(rec, s->j->id) < 0)
		return;
	wake(rec);
}

/* ACT_DECIDE_LAST: no live attempt but a running status: a crash after
 * the attempt ended and before the job moved on. Decide now. */
static void act_decide_last(struct step *s)
{
	struct attempt last;

	if (store_attempt_get(s->rec->st, s->j->id, s->j->n_attempts, &last, NULL) < 0)
		return;
	job_after_attempt(s->rec, s->j, &last, last.outcome ?
			  attempt_outcome_from_name(last.outcome) : OUTCOME_FAILED,
			  last.has_exit_code, last.exit_code, "decided after a controller restart");
	attempt_release(&last);
}

static void run_action(struct step *s, enum rec_action act)
{
	const struct job *j = s->j;
	const char *msg = s->op ? error_msg(&s->op->err) : "";

	switch (act) {
	case ACT_NONE:
	case ACT_RETRY:
		break;
	case ACT_PLAN:
		act_plan(s, s->jobs);
		break;
	case ACT_FINISH_CANCELLED:
		job_finish(s->rec, j, JOB_CANCELLED,
			   j->cancel_requested == JOB_CANCEL_STOP && j->reason ? j->reason
									: "cancelled before it started");
		break;
	case ACT_DECIDE_LAST:
		act_decide_last(s);
		break;
	case ACT_LAUNCH:
		act_launch(s);
		break;
	case ACT_WAIT:
		job_wait(s->rec, j, msg);
		break;
	case ACT_FAIL:
		job_finish(s->rec, j, JOB_FAILED, msg);
		break;
	case ACT_RECORD_LAUNCH:
		act_record_launch(s);
		break;
	case ACT_CLOSE:
		act_close(s);
		break;
	case ACT_LOOK:
		act_look(s);
		break;
	case ACT_TRACK:
		act_track(s);
		break;
	case ACT_STOP_AGENT:
		act_stop_agent(s);
		break;
	case ACT_NOTICE:
		act_notice(s);
		break;
	case ACT_RESOLVE:
		act_resolve(s);
		break;
	case ACT_ADOPT:
		act_adopt(s);
		break;
	case ACT_RELAUNCH:
		act_relaunch(s);
		break;
	case ACT_TEARDOWN:
		act_teardown(s);
		break;
	case ACT_END_ATTEMPT:
		act_end_attempt(s);
		break;
	}
}

/* ---- answers ---- */

/* The live attempt of job j in the store, or 0 (FRUGAL_ENOTFOUND). */
static int live_attempt_get(struct reconciler *rec, const struct job *j, struct attempt *ret)
{
	if (j->n_attempts < 1 || store_attempt_get(rec->st, j->id, j->n_attempts, ret, NULL) < 0)
		return FRUGAL_ENOTFOUND;
	if (ret->ended_at) {
		attempt_release(ret);
		return FRUGAL_ENOTFOUND;
	}
	return 0;
}

/* Learned blocks (a plan's or a launch's) into the store. */
static void blocks_record(struct reconciler *rec, const struct block_list *l)
{
	int64_t now = time_now_ms();
	size_t i;

	for (i = 0; i < l->n; i++)
		store_block_add(rec->st, l->items[i].backend, l->items[i].region,
				l->items[i].zone, now + l->items[i].until, l->items[i].reason, NULL);
}

static int track_beats(const struct track *t, int n);
static void track_schedule(struct reconciler *rec, struct track *t);
static int sweep_running(struct reconciler *rec, const char *sweep_id);

/*
 * The turn of backend b is free (a launch answered, a plan failed): the
 * next job of its queue (the last pass's waiting jobs, in order) that
 * still waits plans now, so that a queue of N jobs launches in N answers
 * rather than N passes over it. Jobs that wait for something else (a
 * cancel, a sweep at max_parallel, an attempt still closing, the start)
 * are left to the passes. Returns 1 when one plans.
 */
static int plan_next(struct reconciler *rec, struct backend *b)
{
	while (!b->launching[0] && b->queue_pos < b->n_queue && !rec->startup_pending) {
		const char *id = b->queue[b->queue_pos++];
		struct track *t = track_find(rec, id);
		struct attempt a;
		struct job j;
		struct step s;
		int skip;

		if ((t && t->op) || store_job_get(rec->st, id, &j, NULL) < 0)
			continue;
		skip = !(J(j.status) & J_WAITING) || j.cancel_requested ||
		       !j.backend || strcmp(j.backend, b->name);
		if (!skip && live_attempt_get(rec, &j, &a) == 0) {
			attempt_release(&a);
			skip = 1;
		}
		if (!skip && j.sweep_id) {
			struct sweep_row sw;

			if (store_sweep_get(rec->st, j.sweep_id, &sw, NULL) < 0)
				skip = 1;
			else {
				skip = sw.max_parallel > 0 &&
				       sweep_running(rec, j.sweep_id) >= sw.max_parallel;
				sweep_row_release(&sw);
			}
		}
		if (!skip) {
			memset(&s, 0, sizeof(s));
			s.rec = rec;
			s.j = &j;
			b->turn_taken = 0;
			dispatch(&s, EV_PASS);
		}
		job_release(&j);
	}
	return b->launching[0] != '\0';
}

/* After a look's answer: what a job whose agent beats is next looked at
 * for (its heartbeat limit, its backstop), and its next look scheduled. */
static void look_recorded(struct reconciler *rec, const struct op *op)
{
	struct track *t = track_find(rec, op->job_id);	/* not forgotten */
	const struct agent_status *st = &op->status;
	struct backend_liveness lv;

	if (!t || !op->have_status)
		return;
	liveness_of(rec, op->b->name, &lv);
	t->hb_limit_ms = st->busy ? STATUS_BUSY_LIMIT_MS : lv.heartbeat_timeout_ms;
	t->backstop_at = 0;
	if (t->max_runtime_s > 0 && st->started_at && st->phase &&
	    (!strcmp(st->phase, "starting") || !strcmp(st->phase, "setup") ||
	     !strcmp(st->phase, "running")))
		t->backstop_at = st->started_at + (t->max_runtime_s + t->stop_grace_s) * 1000 +
				 BACKSTOP_SLACK_MS;
	if (track_beats(t, op->attempt))
		track_schedule(rec, t);
}

/* An operation came back (on the loop thread): its answer is an event of
 * its job, on the job as the store has it now. */
static void op_done(struct work *w)
{
	struct op *op = (struct op *)w;
	struct reconciler *rec = op->rec;
	struct track *t;
	struct job j;
	struct attempt a;
	struct attempt_list live = { 0 };
	struct step s;
	int have_a;
	size_t i;

	if (op->prev_all)
		op->prev_all->next_all = op->next_all;
	else if (rec->ops == op)
		rec->ops = op->next_all;
	if (op->next_all)
		op->next_all->prev_all = op->prev_all;
	op->next_all = op->prev_all = NULL;
	if (op->abandoned) {
		log_info("job %s: a late answer to %s ignored (%s)", op->job_id,
			 op_names[op->kind], op->r < 0 ? error_msg(&op->err) : "done");
		op_free(op);
		return;
	}
	if ((t = track_find(rec, op->job_id)) && t->op == op)
		t->op = NULL;
	if (t && (op->kind == OP_LOOK || op->kind == OP_RESOLVE || op->kind == OP_TEARDOWN))
		track_startup_done(rec, t);
	if (op->kind == OP_PLAN || op->kind == OP_LAUNCH) {
		/* The backend's turn is free again. Not a wake-up by itself: a
		 * job that must wait would plan again at once, and again. */
		turn_release(rec, op->job_id);
		blocks_record(rec, &op->learned);
		blocks_record(rec, &op->report.learned);
	}
	if (store_job_get(rec->st, op->job_id, &j, NULL) < 0) {
		op_free(op);
		return;
	}
	if (job_status_is_terminal(j.status))
		goto out;
	have_a = live_attempt_get(rec, &j, &a) == 0;
	memset(&s, 0, sizeof(s));
	s.rec = rec;
	s.j = &j;
	s.a = have_a ? &a : NULL;
	s.op = op;
	switch (op->kind) {
	case OP_PLAN:
		if (j.cancel_requested && !s.a) {
			/* Cancelled while it planned: nothing to launch. */
			dispatch(&s, j.cancel_requested == JOB_CANCEL_NOW ? EV_CANCEL
									: EV_BUDGET_STOP);
			break;
		}
		store_attempt_list_live_gpus(rec->st, op->b->name, &live, NULL);
		s.live = &live;
		dispatch(&s, op->r == 0 ? EV_PLANNED : op->r == FRUGAL_ECAPACITY ? EV_PLAN_WAIT
									   : EV_PLAN_FAILED);
		break;
	case OP_LAUNCH:
		if (op->r == 0) {
			fault_point("controller.after_launch");
			dispatch(&s, EV_LAUNCHED);
			break;
		}
		log_error("job %s: launch failed: %s", j.id, error_msg(&op->err));
		store_event_add(rec->st, j.id, "launch_failed", "%s", error_msg(&op->err));
		if (op->new_id && s.a)
			store_attempt_set_instance(rec->st, j.id, s.a->n, op->new_id, NULL);
		s.close.outcome = OUTCOME_LAUNCH_FAILED;
		s.close.reason = error_msg(&op->err);
		s.close.capacity = op->r == FRUGAL_ECAPACITY;
		s.close.nothing_made = op->report.nothing_made;
		dispatch(&s, EV_LAUNCH_FAILED);
		break;
	case OP_LOOK:
		if (s.a && s.a->n == op->attempt) {
			int64_t notice;
			enum rec_event ev = look_event(&s, &notice);

			a.notice_deadline = notice;
			dispatch(&s, ev);
			look_recorded(rec, op);
		}
		break;
	case OP_STOP:
	case OP_NOTICE:
		if (op->r < 0)
			log_warn("job %s: %s: %s", j.id, op_names[op->kind], error_msg(&op->err));
		break;
	case OP_TEARDOWN:
		for (i = 0; i < op->res.n; i++) {
			if (!op->res_ok[i])
				continue;
			fault_point("controller.after_terminate");
			store_resource_set(rec->st, op->res.items[i].id, NULL, RES_GONE, NULL);
		}
		if (op->r < 0)
			log_warn("job %s: teardown of %s not confirmed yet: %s", j.id, op->token,
				 error_msg(&op->err));
		if (s.a && s.a->n == op->attempt)
			dispatch(&s, op->r < 0 ? EV_TEARDOWN_FAILED : EV_TORN_DOWN);
		break;
	case OP_RESOLVE:
		if (op->r < 0) {
			log_warn("cannot resolve %s yet: %s", op->token, error_msg(&op->err));
			dispatch(&s, EV_OP_FAILED);
		} else if (s.a && s.a->n == op->attempt) {
			dispatch(&s, op->new_id ? EV_FOUND : EV_NOT_FOUND);
		}
		break;
	}
	if (have_a)
		attempt_release(&a);
	attempt_list_release(&live);
out:
	job_release(&j);
	{
		struct backend *b = op->b;
		enum op_kind kind = op->kind;
		int r = op->r;

		op_free(op);
		/* The backend's turn is free: its next job plans now. A plan
		 * that must wait for capacity leaves the others to the passes
		 * (they would wait too). */
		if ((kind == OP_LAUNCH || (kind == OP_PLAN && r < 0 && r != FRUGAL_ECAPACITY)) &&
		    !plan_next(rec, b) && kind == OP_LAUNCH && r == 0)
			wake(rec);
	}
}

/* Operations past their deadline are taken as failed: the job is free
 * for its next step (what the operation did is found again by token). */
static void check_deadlines(struct reconciler *rec)
{
	int64_t now = time_mono_ms();
	size_t pos = 0;
	const char *key;
	void *v;

	while (strmap_next(&rec->tracks, &pos, &key, &v)) {
		struct track *t = v;
		struct op *op = t->op;
		int64_t started = op ? worker_started(rec->pool, &op->work) : 0;
		int64_t limit = op ? op_deadline_ms(rec, op) : 0;

		if (!op || !started || now - started <= limit)
			continue;
		log_warn("job %s: %s on %s did not answer in %llds: taken as failed", t->job_id,
			 op_names[op->kind], op->b->name, (long long)(limit / 1000));
		store_event_add(rec->st, t->job_id, "timeout", "%s on %s did not answer in %llds;"
				" trying again", op_names[op->kind], op->b->name,
				(long long)(limit / 1000));
		op->abandoned = 1;
		t->op = NULL;
		track_startup_done(rec, t);
		if (op->kind == OP_PLAN || op->kind == OP_LAUNCH)
			turn_release(rec, t->job_id);
	}
}

/* ---- budgets ---- */

/* The live attempt of a job in this pass's list (live_index), if any. */
static const struct attempt *live_attempt(struct reconciler *rec, const char *id)
{
	return strmap_get(&rec->live_by_job, id);
}

/* Index the pass's lists: live attempts by job, live trials by sweep. */
static void live_index(struct reconciler *rec, const struct job_list *jobs,
		       const struct attempt_list *live)
{
	size_t i;

	strmap_release(&rec->live_by_job);
	strmap_release(&rec->sweep_live);
	for (i = 0; i < live->n; i++)
		strmap_put(&rec->live_by_job, live->items[i].job_id, &live->items[i]);
	for (i = 0; i < jobs->n; i++) {
		const struct job *j = &jobs->items[i];

		if (j->sweep_id && live_attempt(rec, j->id))
			strmap_put(&rec->sweep_live, j->sweep_id,
				   (void *)((intptr_t)strmap_get(&rec->sweep_live, j->sweep_id) + 1));
	}
}

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
static int64_t stop_margin(struct reconciler *rec, const struct job *j, const struct attempt *a)
{
	struct track *tr = track_task(rec, j);
	const struct task *t = &tr->task;
	int64_t stop_secs = 32, left = -1;

	if (tr->task_ok) {
		stop_secs = t->recovery.notice_grace + 2;
		if (t->stop.max_runtime)
			/* Seconds as attempt_accrued counts them (rounded up). */
			left = t->stop.max_runtime - (time_now_ms() - a->started_at + 999) / 1000;
	}
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
			const struct attempt *a = live_attempt(rec, jobs->items[i].id);
			if (a)
				margin += stop_margin(rec, &jobs->items[i], a);
		}
		if (spent + margin >= money_from_usd(rec->cfg.budget_monthly)) {
			money_format(money_from_usd(rec->cfg.budget_monthly), bud, sizeof(bud));
			money_format(spent, sp, sizeof(sp));
			snprintf(why, sizeof(why), "monthly budget %s reached (%s spent)", bud, sp);
			for (i = 0; i < jobs->n; i++)
				changed += budget_stop(rec, &jobs->items[i],
						       live_attempt(rec, jobs->items[i].id), why);
			return changed;
		}
	}
	for (i = 0; i < jobs->n; i++) {
		const struct job *j = &jobs->items[i];
		const struct attempt *a = live_attempt(rec, j->id);
		int64_t spent = j->cost_micro + (a ? attempt_accrued(a) : 0);

		if (j->budget > 0 && a && spent + stop_margin(rec, j, a) >= money_from_usd(j->budget)) {
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
				rec->budgets_seen = 1;
				store_sweep_spent(rec->st, sw.id, &sspent, NULL);
				for (k = 0; k < jobs->n; k++) {
					const struct attempt *b;
					if (!jobs->items[k].sweep_id ||
					    strcmp(jobs->items[k].sweep_id, sw.id))
						continue;
					b = live_attempt(rec, jobs->items[k].id);
					if (b) {
						sspent += attempt_accrued(b);
						margin += stop_margin(rec, &jobs->items[k], b);
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
								live_attempt(rec, jobs->items[k].id), why);
				}
			}
			sweep_row_release(&sw);
		}
	}
	return changed;
}

/* Trials of sweep_id running now (with a live attempt). */
static int sweep_running(struct reconciler *rec, const char *sweep_id)
{
	return (int)(intptr_t)strmap_get(&rec->sweep_live, sweep_id);
}

/* ---- passes ---- */

/*
 * The first pass of this reconciler (a controller that starts, maybe
 * after a crash that took agents with it): every attempt alive now is
 * looked at (or resolved, or torn down) before any job plans or
 * launches, so a machine that died with the last controller is found,
 * ended and recovered before new capacity is spent.
 */
static void startup_begin(struct reconciler *rec, const struct job_list *jobs,
			  const struct attempt_list *live)
{
	size_t i;

	rec->started = 1;
	rec->started_mono = time_mono_ms();
	for (i = 0; i < jobs->n; i++) {
		struct track *t;

		if (!live_attempt(rec, jobs->items[i].id))
			continue;
		t = track_get(rec, jobs->items[i].id);
		if (!t->startup) {
			t->startup = 1;
			rec->startup_pending++;
		}
	}
	if (rec->startup_pending)
		log_info("starting: looking at %zu live attempt%s before planning anything new",
			 rec->startup_pending, rec->startup_pending == 1 ? "" : "s");
}

static int reconcile_pass(struct reconciler *rec);

/* ---- deadlines of the jobs whose agents beat ---- */

static int due_before(const struct due *a, const struct due *b)
{
	return a->due < b->due;
}

static void due_push(struct reconciler *rec, int64_t due, const char *job_id)
{
	size_t i;

	XGROW(rec->dues, rec->n_dues + 1, rec->alloc_dues);
	i = rec->n_dues++;
	rec->dues[i].due = due;
	snprintf(rec->dues[i].job_id, sizeof(rec->dues[i].job_id), "%s", job_id);
	while (i > 0 && due_before(&rec->dues[i], &rec->dues[(i - 1) / 2])) {
		struct due tmp = rec->dues[i];

		rec->dues[i] = rec->dues[(i - 1) / 2];
		rec->dues[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static void due_pop(struct reconciler *rec, struct due *ret)
{
	size_t i = 0;

	*ret = rec->dues[0];
	rec->dues[0] = rec->dues[--rec->n_dues];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct due tmp;

		if (l < rec->n_dues && due_before(&rec->dues[l], &rec->dues[m]))
			m = l;
		if (r < rec->n_dues && due_before(&rec->dues[r], &rec->dues[m]))
			m = r;
		if (m == i)
			break;
		tmp = rec->dues[i];
		rec->dues[i] = rec->dues[m];
		rec->dues[m] = tmp;
		i = m;
	}
}

/* 1 when t's agent beats for attempt n: its looks follow track_due. */
static int track_beats(const struct track *t, int n)
{
	return t && t->beat_attempt && t->beat_attempt == n && t->hb_attempt == n;
}

/*
 * When a job whose agent beats is looked at next (time_mono_ms()): the
 * first of its heartbeat deadline (the last beat or change of heartbeat
 * + the limit), its max_runtime backstop, and the sweep (a period after
 * its last look, drawn in [SWEEP_LOOK_MS / 2, SWEEP_LOOK_MS] from the
 * job and that look, so that looks spread).
 */
static int64_t track_due(const struct track *t)
{
	uint64_t h = hash_fnv1a(t->job_id) ^ (uint64_t)t->looked_at * 0x9e3779b97f4a7c15ull;
	int64_t due = t->looked_at + SWEEP_LOOK_MS / 2 + (int64_t)(h % (SWEEP_LOOK_MS / 2));
	int64_t hb = t->hb_seen + t->hb_limit_ms + DUE_SLACK_MS;

	if (t->hb_limit_ms > 0 && hb < due)
		due = hb;
	if (t->backstop_at) {
		int64_t b = time_mono_ms() + (t->backstop_at - time_now_ms()) + DUE_SLACK_MS;

		if (b < due)
			due = b;
	}
	return due;
}

/* Put a beating job with nothing in flight on the heap at its due. */
static void track_schedule(struct reconciler *rec, struct track *t)
{
	if (!t || t->op || !t->beat_attempt)
		return;
	t->due_at = track_due(t);
	due_push(rec, t->due_at, t->job_id);
}

int reconciler_beat(struct reconciler *rec, const char *job_id, int attempt)
{
	struct track *t = track_find(rec, job_id);

	if (!t || attempt < 1 || t->hb_attempt != attempt ||
	    (t->task_ok && t->task.num_nodes > 1)) {
		/* Not looked at since this attempt reported: a look first.
		 * Nodes of a multi-node attempt beat one by one, and the look
		 * takes the oldest heartbeat of them: every beat is a wake. */
		reconciler_wake_job(rec, job_id);
		return 1;
	}
	t->hb_seen = time_mono_ms();
	if (t->beat_attempt != attempt) {
		t->beat_attempt = attempt;
		track_schedule(rec, t);
	}
	return 0;
}

/*
 * Whether a pass leaves a running job alone this time: with
 * reconciler_hooks.look_every_ms, a job whose attempt is watched (phase
 * live), not cancelled or stopped, not under a provider's notice and not
 * named by a wake since its last look, is looked at once per period: the
 * smaller of look_every_ms and a quarter of its backend's
 * heartbeat_timeout and boot_timeout (so the liveness checks, which run on
 * looks, still come in time), at least a second.
 */
static int look_paced(struct reconciler *rec, const struct job *j, const struct attempt *a,
		      const struct track *t)
{
	struct backend_liveness lv;
	int64_t every = rec->hooks.look_every_ms;

	if (every <= 0 || !t || t->woken || !t->looked_at || phase_of(a) != PHASE_LIVE ||
	    j->cancel_requested || a->notice_deadline)
		return 0;
	if (track_beats(t, a->n))
		return time_mono_ms() < track_due(t);
	liveness_of(rec, a->backend, &lv);
	if (lv.heartbeat_timeout_ms > 0 && lv.heartbeat_timeout_ms / 4 < every)
		every = lv.heartbeat_timeout_ms / 4;
	if (lv.boot_timeout_ms > 0 && lv.boot_timeout_ms / 4 < every)
		every = lv.boot_timeout_ms / 4;
	if (every < 1000)
		every = 1000;
	return time_mono_ms() - t->looked_at < every;
}

void reconciler_wake_job(struct reconciler *rec, const char *job_id)
{
	struct track *t = track_find(rec, job_id);

	if (t)
		t->woken = 1;
	else
		strmap_put(&rec->woken_new, job_id, rec);
}

/*
 * The jobs named by wakes since the last step, and only them: each gets
 * the event a pass would give it, except that a job waiting for capacity
 * (no attempt) is left to the next pass, which plans in queue order and
 * knows the sweeps' trials. Before the first pass (the look at every
 * attempt alive at the start) this is a pass.
 */
/* Job id gets the event a pass would give it, except that a job waiting
 * for capacity (no attempt) is left to the passes, which plan in queue
 * order and know the sweeps' trials. */
static void step_one(struct reconciler *rec, const char *id)
{
	struct track *t = track_find(rec, id);
	struct job j;
	struct attempt a;
	struct step s;
	int have_a;

	/* A wake's flag stays until the job is looked at (act_look): a wake
	 * while its operation runs makes the next pass look. */
	if (store_job_get(rec->st, id, &j, NULL) < 0)
		return;
	have_a = !job_status_is_terminal(j.status) && live_attempt_get(rec, &j, &a) == 0;
	if (!job_status_is_terminal(j.status) && (have_a || !(J(j.status) & J_WAITING)) &&
	    !(t && t->op)) {
		memset(&s, 0, sizeof(s));
		s.rec = rec;
		s.j = &j;
		s.a = have_a ? &a : NULL;
		dispatch(&s, j.cancel_requested == JOB_CANCEL_NOW ? EV_CANCEL :
			     j.cancel_requested == JOB_CANCEL_STOP ? EV_BUDGET_STOP : EV_PASS);
	}
	if (have_a)
		attempt_release(&a);
	job_release(&j);
}

/*
 * The jobs named by wakes since the last step, and only them (step_one).
 * Before the first pass (the look at every attempt alive at the start)
 * this is a pass.
 */
int reconciler_step_woken(struct reconciler *rec)
{
	const char *k;
	void *v;
	size_t pos = 0, n = 0, i;
	char **ids;

	if (!rec->started)
		return reconcile_pass(rec);
	check_deadlines(rec);
	ids = xcalloc(strmap_count(&rec->tracks) + strmap_count(&rec->woken_new) + 1,
		      sizeof(*ids));
	while (strmap_next(&rec->tracks, &pos, &k, &v))
		if (((struct track *)v)->woken)
			ids[n++] = xstrdup(k);
	pos = 0;
	while (strmap_next(&rec->woken_new, &pos, &k, &v))
		if (!track_find(rec, k))
			ids[n++] = xstrdup(k);
	strmap_release(&rec->woken_new);
	for (i = 0; i < n; i++)
		step_one(rec, ids[i]);
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	return (int)n;
}

/*
 * A tick (once a second): a full pass when something needs one (a job
 * waits, one is cancelled, stopped or under notice, one's agent does not
 * beat, a budget is in force, the start, or SWEEP_LOOK_MS since the last
 * one); otherwise only the jobs whose deadline came (rec->dues).
 */
int reconciler_tick(struct reconciler *rec)
{
	int64_t now = time_mono_ms();
	struct due *due = NULL;
	size_t n = 0, alloc = 0, i;

	if (!rec->started || rec->full_needed || rec->startup_pending ||
	    now - rec->full_at >= SWEEP_LOOK_MS)
		return reconcile_pass(rec);
	check_deadlines(rec);
	while (rec->n_dues && rec->dues[0].due <= now) {
		struct due d;
		struct track *t;

		due_pop(rec, &d);
		t = track_find(rec, d.job_id);
		if (!t || t->due_at != d.due || t->op)
			continue;	/* passed over: done, rescheduled or busy */
		t->due_at = 0;
		if (!t->woken && track_due(t) > now) {
			/* Its heartbeat moved the deadline on (beats). */
			track_schedule(rec, t);
			continue;
		}
		XGROW(due, n + 1, alloc);
		due[n++] = d;
	}
	for (i = 0; i < n; i++)
		step_one(rec, due[i].job_id);
	free(due);
	return rec->n_live;
}

static int reconcile_pass(struct reconciler *rec)
{
	struct job_list jobs = { 0 };
	struct attempt_list live = { 0 };
	struct error err = ERROR_INIT;
	int n_live = 0;
	size_t i;

	check_deadlines(rec);
	if (store_job_list_live(rec->st, &jobs, &err) < 0 ||
	    store_attempt_list_live(rec->st, &live, &err) < 0) {
		log_error("%s", error_msg(&err));
		job_list_release(&jobs);
		return -1;
	}
	live_index(rec, &jobs, &live);
	rec->budgets_seen = 0;
	if (enforce_budgets(rec, &jobs, &live) > 0) {
		/* Jobs were stopped or ended: look at the new state. */
		job_list_release(&jobs);
		attempt_list_release(&live);
		if (store_job_list_live(rec->st, &jobs, &err) < 0 ||
		    store_attempt_list_live(rec->st, &live, &err) < 0) {
			log_error("%s", error_msg(&err));
			job_list_release(&jobs);
			strmap_release(&rec->live_by_job);
			strmap_release(&rec->sweep_live);
			return -1;
		}
		live_index(rec, &jobs, &live);
	}
	for (i = 0; i < rec->n_backends; i++) {
		rec->backends[i]->turn_taken = 0;
		rec->backends[i]->n_queue = rec->backends[i]->queue_pos = 0;
	}
	rec->full_at = time_mono_ms();
	rec->full_needed = !jobs.n || rec->cfg.budget_monthly > 0 || rec->budgets_seen;
	if (!rec->started)
		startup_begin(rec, &jobs, &live);
	if (rec->startup_pending && time_mono_ms() - rec->started_mono > STARTUP_LOOK_MAX_MS) {
		log_warn("%zu attempt%s alive at the start not answered for yet after %ds:"
			 " planning again all the same", rec->startup_pending,
			 rec->startup_pending == 1 ? "" : "s", STARTUP_LOOK_MAX_MS / 1000);
		size_t pos = 0;
		const char *k;
		void *v;

		while (strmap_next(&rec->tracks, &pos, &k, &v))
			((struct track *)v)->startup = 0;
		rec->startup_pending = 0;
	}
	/* Two rounds: jobs that lost their machine (RECOVERING) get capacity
	 * before new ones; within each, submission order. */
	for (i = 0; i < 2 * jobs.n; i++) {
		struct job *j = &jobs.items[i % jobs.n];
		struct track *t = track_find(rec, j->id);
		struct step s;

		if ((i < jobs.n) != (j->status == JOB_RECOVERING))
			continue;
		/* Starting: what runs is looked at before anything new. */
		if (rec->startup_pending && !live_attempt(rec, j->id) &&
		    (J(j->status) & J_WAITING) && !j->cancel_requested)
			continue;
		memset(&s, 0, sizeof(s));
		s.rec = rec;
		s.j = j;
		s.a = live_attempt(rec, j->id);
		s.live = &live;
		s.jobs = &jobs;
		/* Only a running job whose agent beats can wait for its
		 * deadline; the others need the next full pass. */
		if (!s.a || !track_beats(t, s.a->n) || phase_of(s.a) != PHASE_LIVE ||
		    j->cancel_requested || s.a->notice_deadline || j->budget > 0)
			rec->full_needed = 1;
		else if (!t->op && !t->due_at)
			track_schedule(rec, t);
		if (look_paced(rec, j, s.a, t))
			continue;
		if (t && t->op) {
			/* One operation per job at a time. A plan has made nothing:
			 * a cancel does not wait for it. */
			if (t->op->kind == OP_PLAN && j->cancel_requested && !s.a)
				dispatch(&s, EV_CANCEL);
			continue;
		}
		dispatch(&s, j->cancel_requested == JOB_CANCEL_NOW ? EV_CANCEL :
			     j->cancel_requested == JOB_CANCEL_STOP ? EV_BUDGET_STOP : EV_PASS);
	}
	/* sweep_live stays: plan_next counts the trials between passes. */
	strmap_release(&rec->live_by_job);
	attempt_list_release(&live);
	job_list_release(&jobs);
	if (store_job_list_live(rec->st, &jobs, &err) == 0)
		n_live = (int)jobs.n;
	job_list_release(&jobs);
	rec->n_live = n_live;
	return n_live;
}

int reconciler_step(struct reconciler *rec)
{
	return reconcile_pass(rec);
}
