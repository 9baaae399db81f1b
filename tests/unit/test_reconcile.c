#define _GNU_SOURCE
/*
 * Unit tests for controller/reconcile: the state machine, driven with the
 * in-memory provider (backend/memory) in a fresh FRUGAL_HOME, without
 * threads (reconciler_run_ops runs the operations). Every transition of
 * the table is reached by some test (checked last), every crash-restart
 * decision for a row left behind, and the queueing order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/memory/memory.h"
#include "backend/provider.h"
#include "base/fs.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "controller/reconcile.h"
#include "store/home.h"
#include "store/store.h"

/* The providers the reconciler under test opened, by name. */
static struct provider *opened[4];
static size_t n_opened;

static int open_memory(const char *name, const struct config *cfg, const char *home,
		       struct provider **ret, struct error *err)
{
	int r = memory_provider_open(name, cfg, home, ret, err);

	if (r == 0 && n_opened < 4)
		opened[n_opened++] = *ret;
	return r;
}

/* The memory provider of backend name. The reconciler opens it when a
 * job first needs it: a test scripts it after a pass (reconciler_step)
 * and before the operations run (reconciler_run_ops). */
static struct provider *mem(const char *name)
{
	size_t i;

	for (i = 0; i < n_opened; i++)
		if (!strcmp(opened[i]->ops->name, name))
			return opened[i];
	return NULL;
}

struct fixture {
	char dir[64];
	struct home home;
	struct reconciler *rec;
	struct store *st;
};

/* Liveness limits the next start() gives the reconciler (NULL: the
 * backend's). */
static const struct backend_liveness *liveness;
/* reconciler_hooks.look_every_ms of the next start() (0: every pass). */
static int64_t look_every;

static void start(struct fixture *f)
{
	struct reconciler_hooks hooks = { 0 };
	struct error err = ERROR_INIT;

	hooks.open = open_memory;
	hooks.liveness = liveness;
	hooks.look_every_ms = look_every;
	n_opened = 0;
	assert_int_equal(reconciler_new(&f->home, &hooks, &f->rec, &err), 0);
}

/* A controller crash: the reconciler goes, and what it remembered with
 * it (the memory provider too: its instances are forgotten, and
 * terminate of an unknown token is success, as at a cloud). */
static void restart(struct fixture *f)
{
	reconciler_free(f->rec);
	f->rec = NULL;
	start(f);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/frugal-reconcile-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	setenv("FRUGAL_HOME", f->dir, 1);
	unsetenv("FRUGAL_CONTROLLER_OP_DEADLINE");
	assert_int_equal(home_open(&f->home, &err), 0);
	assert_int_equal(store_open(f->home.db, &f->st, &err), 0);
	start(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	reconciler_free(f->rec);
	store_free(f->st);
	fs_remove_tree(f->dir, NULL);
	home_release(&f->home);
	free(f);
	liveness = NULL;
	look_every = 0;
	return 0;
}

/* One controller turn: a pass, then every operation it asked for and
 * what their answers lead to. */
static void turn(struct fixture *f)
{
	reconciler_step(f->rec);
	reconciler_run_ops(f->rec);
}

static void insert_job(struct fixture *f, const char *backend, const char *task_json,
		       char *ret_id)
{
	struct job j;
	struct error err = ERROR_INIT;

	memset(&j, 0, sizeof(j));
	j.name = xstrdup("t");
	j.task_json = xstrdup(task_json ? task_json : "{\"run\":\"true\"}");
	j.backend = xstrdup(backend);
	assert_int_equal(store_job_insert(f->st, &j, NULL, 0, &err), 0);
	snprintf(ret_id, JOB_ID_MAX, "%s", j.id);
	job_release(&j);
}

static struct job job_get(struct fixture *f, const char *id)
{
	struct job j;

	assert_int_equal(store_job_get(f->st, id, &j, NULL), 0);
	return j;
}

static enum job_status status_of(struct fixture *f, const char *id)
{
	struct job j = job_get(f, id);
	enum job_status s = j.status;

	job_release(&j);
	return s;
}

static int n_attempts(struct fixture *f, const char *id)
{
	struct job j = job_get(f, id);
	int n = j.n_attempts;

	job_release(&j);
	return n;
}

static size_t open_rows(struct fixture *f, const char *id)
{
	struct resource_list l = { 0 };
	size_t n;

	assert_int_equal(store_resource_list_open(f->st, id, &l, NULL), 0);
	n = l.n;
	resource_list_release(&l);
	return n;
}

/* What the agent of attempt n writes to storage. */
/* The agent's status.json (contract/status.h); a document with an
 * outcome and no phase is a final one (phase "exited"). */
static void agent_reports(struct fixture *f, const char *id, int n, const char *json)
{
	char *path = xasprintf("%s/storage/jobs/%s/attempts/%d/status.json", f->dir, id, n);
	char *dir = xasprintf("%s/storage/jobs/%s/attempts/%d", f->dir, id, n);
	char *doc = strstr(json, "\"outcome\"") && !strstr(json, "\"phase\"") ?
		    xasprintf("{\"phase\": \"exited\", %s", json + 1) : xstrdup(json);

	assert_int_equal(fs_mkdir_p(dir, 0700, NULL), 0);
	assert_int_equal(fs_write_atomic(path, doc, strlen(doc), 0600, 1, NULL), 0);
	free(doc);
	free(path);
	free(dir);
}

static char *token(const char *id, int n)
{
	return xasprintf("%s-%d", id, n);
}

/* ---- launch, run, end ---- */

/* Finding: every wake ran a pass that looked at every job, so the work
 * grew with N for each agent's heartbeat. With looks paced, a pass right
 * after a look leaves running jobs alone; a wake naming a job looks at
 * that job only, and a cancel is looked at at once. */
static void test_wake_names_the_job_and_looks_are_paced(void **state)
{
	struct fixture *f = *state;
	char a[JOB_ID_MAX], b[JOB_ID_MAX];
	int describes, i;

	look_every = 60000;
	restart(f);
	insert_job(f, "local", NULL, a);
	insert_job(f, "local", NULL, b);
	for (i = 0; i < 4; i++)
		turn(f);
	agent_reports(f, a, 1, "{\"phase\": \"running\"}");
	agent_reports(f, b, 1, "{\"phase\": \"running\"}");
	reconciler_wake_job(f->rec, a);
	reconciler_wake_job(f->rec, b);
	reconciler_step_woken(f->rec);
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, a), JOB_RUNNING);
	assert_int_equal(status_of(f, b), JOB_RUNNING);

	/* Just looked at: a pass does not look again. */
	describes = memory_counts(mem("local"))->describe;
	agent_reports(f, a, 1, "{\"phase\": \"exited\", \"outcome\": \"succeeded\", \"exit_code\": 0}");
	turn(f);
	assert_int_equal(memory_counts(mem("local"))->describe, describes);
	assert_int_equal(status_of(f, a), JOB_RUNNING);

	/* The agent's wake names a: a is looked at and ends, b is not. */
	reconciler_wake_job(f->rec, a);
	reconciler_step_woken(f->rec);
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, a), JOB_SUCCEEDED);
	assert_int_equal(memory_counts(mem("local"))->describe, describes);
	assert_int_equal(status_of(f, b), JOB_RUNNING);

	/* A cancel is not paced: the next pass looks at b and asks it to stop. */
	assert_int_equal(store_job_request_cancel(f->st, b, NULL), 0);
	turn(f);
	assert_int_equal(memory_counts(mem("local"))->describe, describes + 1);
	assert_int_equal(memory_counts(mem("local"))->stop, 1);
}

/* Beats ("beat JOB N", reconciler_beat) keep a job alive without a look;
 * ticks look at it only on its deadlines: when the beats stop, it is
 * looked at once its heartbeat limit passed, and found lost. */
static void test_beats_without_looks(void **state)
{
	static const struct backend_liveness lv = { 0, 1500 };
	struct fixture *f = *state;
	struct attempt at;
	char a[JOB_ID_MAX];
	int describes, i;

	liveness = &lv;
	look_every = 60000;
	restart(f);
	insert_job(f, "local", NULL, a);
	turn(f);
	/* Not looked at since it reported: a beat is a wake. */
	assert_int_equal(reconciler_beat(f->rec, a, 1), 1);
	agent_reports(f, a, 1, "{\"phase\": \"running\", \"heartbeat_at\": 1000}");
	reconciler_step_woken(f->rec);
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, a), JOB_RUNNING);
	assert_int_equal(reconciler_beat(f->rec, a, 2), 1);	/* another attempt's: a look */
	reconciler_step_woken(f->rec);
	reconciler_run_ops(f->rec);
	describes = memory_counts(mem("local"))->describe;
	for (i = 0; i < 8; i++) {
		assert_int_equal(reconciler_beat(f->rec, a, 1), 0);
		reconciler_tick(f->rec);
		reconciler_run_ops(f->rec);
		usleep(250 * 1000);
	}
	/* 2 s of beats, status.json unchanged: no look, still running. */
	assert_int_equal(memory_counts(mem("local"))->describe, describes);
	assert_int_equal(status_of(f, a), JOB_RUNNING);
	/* The beats stop: a tick after the limit looks, and it is lost. */
	usleep(1000 * 1000);
	reconciler_tick(f->rec);
	reconciler_run_ops(f->rec);
	assert_int_equal(memory_counts(mem("local"))->describe, describes);
	usleep(1000 * 1000);
	reconciler_tick(f->rec);
	reconciler_run_ops(f->rec);
	assert_int_equal(memory_counts(mem("local"))->describe, describes + 1);
	assert_int_equal(store_attempt_get(f->st, a, 1, &at, NULL), 0);
	assert_string_equal(at.outcome, "lost");
	attempt_release(&at);
}

static void test_launch_run_succeed(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	char id[JOB_ID_MAX];
	char *tok;

	insert_job(f, "local", NULL, id);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_STARTING);
	assert_int_equal(memory_counts(mem("local"))->launch, 1);
	tok = token(id, 1);
	assert_non_null(memory_instance(mem("local"), tok));
	assert_int_equal(open_rows(f, id), 1);

	agent_reports(f, id, 1, "{\"phase\": \"running\", \"metrics\": {\"loss\": 1}}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_RUNNING);

	agent_reports(f, id, 1, "{\"phase\": \"exited\", \"outcome\": \"succeeded\", \"exit_code\": 0}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_SUCCEEDED);
	assert_int_equal(memory_live(mem("local")), 0);
	assert_int_equal(open_rows(f, id), 0);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "succeeded");
	assert_true(a.ended_at > 0);
	attempt_release(&a);
	free(tok);
}

static void test_plan_never_fits(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	reconciler_step(f->rec);
	memory_script(mem("local"))->plan_error = FRUGAL_EINVAL;
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, id), JOB_FAILED);
	assert_int_equal(memory_counts(mem("local"))->launch, 0);
}

static void test_plan_waits(void **state)
{
	struct fixture *f = *state;
	struct job j;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	reconciler_step(f->rec);
	memory_script(mem("local"))->plan_error = FRUGAL_ECAPACITY;
	reconciler_run_ops(f->rec);
	j = job_get(f, id);
	assert_int_equal(j.status, JOB_PENDING);
	assert_non_null(strstr(j.reason, "plan refused"));
	job_release(&j);
	memory_script(mem("local"))->plan_error = 0;
	turn(f);
	assert_int_equal(status_of(f, id), JOB_STARTING);
}

/* The plan learned that a region has no capacity: the reconciler writes
 * the block, the backend never touches the store. */
static void test_plan_learned_block(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	reconciler_step(f->rec);
	memory_script(mem("local"))->block_region = "mem-9";
	reconciler_run_ops(f->rec);
	assert_int_equal(store_block_active(f->st, "local", "mem-9", ZONE_NONE, time_now_ms(),
					    NULL), 1);
	assert_int_equal(store_block_active(f->st, "local", "mem-1", ZONE_NONE, time_now_ms(),
					    NULL), 0);
}

/* No capacity at launch: the location is blocked, the attempt ends
 * launch_failed once torn down, and the next plan goes elsewhere. */
static void test_capacity_plans_elsewhere(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	reconciler_step(f->rec);
	memory_script(mem("local"))->launch_error = FRUGAL_ECAPACITY;
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, id), JOB_PENDING);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "launch_failed");
	assert_true(a.ended_at > 0);
	assert_string_equal(a.region, "mem-1");
	attempt_release(&a);
	assert_int_equal(store_block_active(f->st, "local", "mem-1", ZONE_NONE, time_now_ms(),
					    NULL), 1);
	memory_script(mem("local"))->launch_error = 0;
	turn(f);
	assert_int_equal(status_of(f, id), JOB_STARTING);
	assert_int_equal(store_attempt_get(f->st, id, 2, &a, NULL), 0);
	assert_string_equal(a.region, "mem-2");
	attempt_release(&a);
}

/*
 * Defect: a launch that fails and whose teardown fails too finished the
 * job FAILED and never looked at the attempt again (the machine leaked).
 * Now the job stays live until the teardown is confirmed.
 */
static void test_failed_launch_teardown_retried(void **state)
{
	struct fixture *f = *state;
	struct memory_script *ms;
	struct attempt a;
	char id[JOB_ID_MAX];
	char *tok = NULL;

	insert_job(f, "local", NULL, id);
	reconciler_step(f->rec);
	ms = memory_script(mem("local"));
	ms->launch_error = FRUGAL_EPROVIDER;
	ms->launch_makes = 1;
	ms->terminate_failures = 2;
	reconciler_run_ops(f->rec);
	tok = token(id, 1);
	assert_int_not_equal(status_of(f, id), JOB_FAILED);
	assert_int_equal(memory_live(mem("local")), 1);
	assert_int_equal(open_rows(f, id), 1);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "launch_failed");
	assert_int_equal(a.ended_at, 0);	/* still live: gc leaves it to us */
	attempt_release(&a);

	turn(f);	/* the second terminate fails too */
	assert_int_not_equal(status_of(f, id), JOB_FAILED);
	assert_int_equal(memory_live(mem("local")), 1);
	turn(f);	/* the third works */
	assert_int_equal(status_of(f, id), JOB_FAILED);
	assert_int_equal(memory_live(mem("local")), 0);
	assert_int_equal(open_rows(f, id), 0);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_true(a.ended_at > 0);
	attempt_release(&a);
	assert_int_equal(memory_counts(mem("local"))->terminate, 3);
	free(tok);
}

/* A launch refused before it sent anything (bad credentials) ends the
 * attempt without a teardown: there is nothing to end, and a teardown
 * would be refused the same way for ever. */
static void test_launch_refused_early(void **state)
{
	struct fixture *f = *state;
	struct memory_script *ms;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	reconciler_step(f->rec);
	ms = memory_script(mem("local"));
	ms->launch_error = FRUGAL_EINVAL;
	ms->launch_early = 1;
	ms->terminate_failures = 1000;
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, id), JOB_FAILED);
	assert_int_equal(memory_counts(mem("local"))->terminate, 0);
	assert_int_equal(open_rows(f, id), 0);
}

/* A teardown after the agent reported is retried the same way. */
static void test_teardown_retried_after_outcome(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	turn(f);
	memory_script(mem("local"))->terminate_failures = 1;
	agent_reports(f, id, 1, "{\"outcome\": \"failed\", \"exit_code\": 3, \"reason\": \"exit 3\"}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_STARTING);
	assert_int_equal(memory_live(mem("local")), 1);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_FAILED);
	assert_int_equal(memory_live(mem("local")), 0);
}

/* ---- recovery ---- */

static void test_exit_code_recovers(void **state)
{
	struct fixture *f = *state;
	struct job j;
	char id[JOB_ID_MAX];

	insert_job(f, "local", "{\"run\":\"true\",\"recovery\":{\"recover_on_exit_codes\":[33],"
		   "\"max_restarts_on_errors\":1}}", id);
	turn(f);
	agent_reports(f, id, 1, "{\"outcome\": \"failed\", \"exit_code\": 33}");
	turn(f);
	j = job_get(f, id);
	assert_true(j.status == JOB_RECOVERING || j.status == JOB_STARTING);
	assert_int_equal(j.restarts, 1);
	assert_int_equal(j.error_restarts, 0);
	job_release(&j);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_STARTING);
	assert_int_equal(n_attempts(f, id), 2);
	/* Another failure is charged; a third is the end. */
	agent_reports(f, id, 2, "{\"outcome\": \"failed\", \"exit_code\": 1}");
	turn(f);
	turn(f);
	j = job_get(f, id);
	assert_int_equal(j.error_restarts, 1);
	assert_int_equal(j.n_attempts, 3);
	job_release(&j);
	agent_reports(f, id, 3, "{\"outcome\": \"failed\", \"exit_code\": 1}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_FAILED);
}

/* The provider gives notice, the machine goes: preempted, not failed. */
static void test_notice_then_gone_is_preempted(void **state)
{
	struct fixture *f = *state;
	struct memory_instance *in;
	struct attempt a;
	struct job j;
	char id[JOB_ID_MAX], *tok;

	insert_job(f, "local", NULL, id);
	turn(f);
	tok = token(id, 1);
	in = memory_instance(mem("local"), tok);
	in->notice_deadline = time_now_ms() + 60000;
	turn(f);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_int_equal(a.notice_deadline, in->notice_deadline);
	attempt_release(&a);
	in->state = INSTANCE_GONE;
	turn(f);
	j = job_get(f, id);
	assert_int_equal(j.restarts, 1);
	assert_int_equal(j.error_restarts, 0);
	job_release(&j);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "preempted");
	attempt_release(&a);
	assert_int_equal(store_block_active(f->st, "local", "mem-1", ZONE_NONE, time_now_ms(),
					    NULL), 1);
	free(tok);
}

/* Gone after the agent reported, without an outcome or a notice: failed. */
static void test_gone_without_outcome_fails(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX], *tok;

	insert_job(f, "local", NULL, id);
	turn(f);
	tok = token(id, 1);
	agent_reports(f, id, 1, "{\"phase\": \"running\"}");
	memory_instance(mem("local"), tok)->state = INSTANCE_GONE;
	turn(f);
	assert_int_equal(status_of(f, id), JOB_FAILED);
	free(tok);
}

/* Gone before its agent ever reported (a binary that cannot run there):
 * launch_failed, and the job plans again; after BOOT_FAILURES_MAX such
 * machines it fails. */
static void test_gone_before_report_plans_again(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	char id[JOB_ID_MAX], *tok;
	int n;

	insert_job(f, "local", NULL, id);
	for (n = 1; n <= 4; n++) {
		turn(f);
		assert_int_equal(n_attempts(f, id), n);
		tok = token(id, n);
		memory_instance(mem("local"), tok)->state = INSTANCE_GONE;
		free(tok);
		turn(f);
		assert_int_equal(store_attempt_get(f->st, id, n, &a, NULL), 0);
		assert_string_equal(a.outcome, "launch_failed");
		assert_non_null(a.instance_id);	/* it existed: billed */
		attempt_release(&a);
		assert_int_equal(status_of(f, id), n <= 3 ? JOB_PENDING : JOB_FAILED);
	}
	assert_int_equal(open_rows(f, id), 0);
}

/* No report within boot_timeout: the machine is ended, the attempt is
 * launch_failed (with an event), the next one runs. */
static void test_boot_deadline(void **state)
{
	static const struct backend_liveness lv = { 1, 60000 };
	struct fixture *f = *state;
	struct attempt a;
	struct event_list ev = { 0 };
	char id[JOB_ID_MAX];
	size_t i;
	int found = 0;

	liveness = &lv;
	restart(f);
	insert_job(f, "local", NULL, id);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_STARTING);
	usleep(5000);
	turn(f);	/* look: no status past the deadline; closed, torn down */
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "launch_failed");
	assert_true(a.ended_at > 0);
	attempt_release(&a);
	assert_int_equal(memory_counts(mem("local"))->terminate, 1);
	assert_int_equal(store_event_list(f->st, id, &ev, NULL), 0);
	for (i = 0; i < ev.n; i++)
		found += strstr(ev.items[i].message, "did not report within boot_timeout") != NULL;
	event_list_release(&ev);
	assert_int_equal(found, 1);
	turn(f);
	assert_int_equal(n_attempts(f, id), 2);
	agent_reports(f, id, 2, "{\"outcome\": \"succeeded\"}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_SUCCEEDED);
}

/* A heartbeat that does not change for heartbeat_timeout: the attempt is
 * lost, its machine ended, and the job recovers without an error
 * restart; one that changes is fine. */
static void test_lost_heartbeat_recovers(void **state)
{
	static const struct backend_liveness lv = { 0, 30 };
	struct fixture *f = *state;
	struct attempt a;
	struct job j;
	char id[JOB_ID_MAX], doc[128];

	liveness = &lv;
	restart(f);
	insert_job(f, "local", NULL, id);
	turn(f);
	agent_reports(f, id, 1, "{\"phase\": \"running\", \"heartbeat_at\": 1000}");
	turn(f);
	usleep(20000);
	snprintf(doc, sizeof(doc), "{\"phase\": \"running\", \"heartbeat_at\": 2000}");
	agent_reports(f, id, 1, doc);
	turn(f);
	usleep(20000);
	turn(f);	/* changed 20 ms ago: alive */
	assert_int_equal(status_of(f, id), JOB_RUNNING);
	usleep(40000);
	turn(f);	/* unchanged for 60 ms: lost */
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "lost");
	attempt_release(&a);
	assert_int_equal(status_of(f, id), JOB_RECOVERING);
	j = job_get(f, id);
	assert_int_equal(j.error_restarts, 0);
	job_release(&j);
	turn(f);
	assert_int_equal(n_attempts(f, id), 2);
}

/* A busy agent (a checkpoint upload) may pause its heartbeat longer. */
static void test_busy_agent_not_lost(void **state)
{
	static const struct backend_liveness lv = { 0, 10 };
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	liveness = &lv;
	restart(f);
	insert_job(f, "local", NULL, id);
	turn(f);
	agent_reports(f, id, 1, "{\"phase\": \"running\", \"heartbeat_at\": 1000,"
		      " \"busy\": \"checkpoint\"}");
	turn(f);
	usleep(30000);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_RUNNING);
	assert_int_equal(n_attempts(f, id), 1);
}

/* A controller that starts looks at every live attempt before it plans
 * anything new: a pending job waits for the look's answer. */
static void test_restart_looks_at_live_first(void **state)
{
	struct fixture *f = *state;
	char live[JOB_ID_MAX], waiting[JOB_ID_MAX], *tok;

	insert_job(f, "local", NULL, live);
	turn(f);
	assert_int_equal(status_of(f, live), JOB_STARTING);
	agent_reports(f, live, 1, "{\"phase\": \"running\"}");
	insert_job(f, "local", NULL, waiting);
	restart(f);
	reconciler_step(f->rec);	/* the first pass: the look only */
	assert_int_equal(reconciler_busy(f->rec), 1);
	tok = token(live, 1);
	/* The memory provider forgot it: the machine died with the controller. */
	reconciler_run_ops(f->rec);
	assert_int_equal(n_attempts(f, waiting), 0);
	assert_int_equal(status_of(f, waiting), JOB_PENDING);
	assert_int_equal(status_of(f, live), JOB_FAILED);
	free(tok);
	turn(f);	/* now the waiting job plans and launches */
	assert_int_equal(n_attempts(f, waiting), 1);
}

/* ---- cancel and budgets ---- */

static void test_cancel_running(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	turn(f);
	store_job_request_cancel(f->st, id, NULL);
	turn(f);
	assert_int_equal(memory_counts(mem("local"))->stop, 1);
	/* A backend that can only send SIGTERM: the agent says preempted. */
	agent_reports(f, id, 1, "{\"outcome\": \"preempted\"}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
	assert_int_equal(memory_live(mem("local")), 0);
}

/* An agent that does not stop is torn down after the grace. */
static void test_cancel_agent_does_not_stop(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	turn(f);
	store_job_request_cancel(f->st, id, NULL);
	turn(f);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_STARTING);
	time_sleep_ms(3100);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
	assert_int_equal(memory_live(mem("local")), 0);
}

/* A cancel does not wait for a plan: it made nothing. */
static void test_cancel_while_planning(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	reconciler_step(f->rec);	/* the plan is queued, not answered */
	store_job_request_cancel(f->st, id, NULL);
	reconciler_step(f->rec);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
	reconciler_run_ops(f->rec);	/* the plan's answer is ignored */
	assert_int_equal(memory_counts(mem("local"))->launch, 0);
	assert_int_equal(n_attempts(f, id), 0);
}

static void test_cancel_pending(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	store_job_request_cancel(f->st, id, NULL);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
}

/* A budget stop: a preemption notice, once, then CANCELLED with the
 * budget's reason when the machine is gone. */
static void test_budget_stop(void **state)
{
	struct fixture *f = *state;
	struct job j;
	char id[JOB_ID_MAX], *tok;

	insert_job(f, "local", NULL, id);
	turn(f);
	store_job_request_stop(f->st, id, "budget $1.00 reached", NULL);
	turn(f);
	turn(f);
	assert_int_equal(memory_counts(mem("local"))->notice, 1);
	tok = token(id, 1);
	memory_instance(mem("local"), tok)->state = INSTANCE_GONE;
	turn(f);
	j = job_get(f, id);
	assert_int_equal(j.status, JOB_CANCELLED);
	assert_string_equal(j.reason, "budget $1.00 reached");
	job_release(&j);
	/* A stop of a job that has not started ends it at once. */
	insert_job(f, "local", NULL, id);
	store_job_request_stop(f->st, id, "budget", NULL);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
	free(tok);
}

/* ---- queueing ---- */

/* Jobs of one backend start in order, RECOVERING ones first; one waits,
 * the later ones of that backend wait behind it. */
/* The instance of attempt 1 of job id ("mem-N": the N-th launch). */
static int launch_rank(struct fixture *f, const char *id)
{
	struct attempt a;
	int n;

	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_non_null(a.instance_id);
	n = atoi(a.instance_id + 4);
	attempt_release(&a);
	return n;
}

static void test_queue_order(void **state)
{
	struct fixture *f = *state;
	char a[JOB_ID_MAX], b[JOB_ID_MAX], c[JOB_ID_MAX], d[JOB_ID_MAX], e[JOB_ID_MAX];

	insert_job(f, "local", NULL, a);
	insert_job(f, "local", NULL, b);
	insert_job(f, "local", NULL, c);
	store_job_set_status(f->st, c, JOB_RECOVERING, "preempted", NULL);
	turn(f);
	/* One job of a backend plans or launches at a time, the recovering
	 * job first, then queue order; each launch's answer gives the turn
	 * to the next job at once (plan_next), not on the next pass. */
	assert_int_equal(n_attempts(f, c), 1);
	assert_int_equal(n_attempts(f, a), 1);
	assert_int_equal(n_attempts(f, b), 1);
	assert_true(launch_rank(f, c) < launch_rank(f, a));
	assert_true(launch_rank(f, a) < launch_rank(f, b));
	assert_int_equal(memory_counts(mem("local"))->plan, 3);

	/* A job that waits for capacity keeps the turn: the ones behind it
	 * wait too, never jumping ahead. */
	insert_job(f, "local", NULL, d);
	insert_job(f, "local", NULL, e);
	memory_script(mem("local"))->reserve_busy = 1;
	turn(f);
	turn(f);
	assert_int_equal(n_attempts(f, d), 0);
	assert_int_equal(n_attempts(f, e), 0);
	assert_int_equal(memory_counts(mem("local"))->reserve, 5);	/* c a b, d, d: never e */
	memory_script(mem("local"))->reserve_busy = 0;
	turn(f);
	assert_int_equal(n_attempts(f, d), 1);
	assert_int_equal(n_attempts(f, e), 1);
	assert_true(launch_rank(f, d) < launch_rank(f, e));
}

/* Defect: a job of one backend waited behind a waiting job of another
 * (one global "blocked" flag). Waiting is per backend. */
static void test_wait_is_per_backend(void **state)
{
	struct fixture *f = *state;
	char a[JOB_ID_MAX], b[JOB_ID_MAX];

	insert_job(f, "local", NULL, a);
	insert_job(f, "other", NULL, b);
	reconciler_step(f->rec);
	memory_script(mem("local"))->reserve_busy = 1;
	reconciler_run_ops(f->rec);
	assert_int_equal(n_attempts(f, a), 0);
	assert_int_equal(status_of(f, b), JOB_STARTING);
}

/* ---- crash and restart: what the store has, decided again ---- */

/* A ledger row left creating, and an attempt without an instance. */
static void leave_creating(struct fixture *f, const char *id)
{
	struct attempt a = { 0 };
	int64_t res_id;
	char *tok = token(id, 1);

	snprintf(a.job_id, sizeof(a.job_id), "%s", id);
	a.n = 1;
	a.backend = "local";
	a.region = "mem-1";
	a.zone = ZONE_NONE;
	a.instance_type = "mem.small";
	a.started_at = time_now_ms();
	assert_int_equal(store_resource_begin(f->st, id, 1, "local", "instance", tok, &res_id,
					      NULL), 0);
	assert_int_equal(store_attempt_insert(f->st, &a, NULL), 0);
	assert_int_equal(store_job_set_status(f->st, id, JOB_PROVISIONING, "", NULL), 0);
	free(tok);
}

/* The launch happened before the crash: found by token, adopted. */
static void test_restart_adopts_created(void **state)
{
	struct fixture *f = *state;
	struct launch_request rq = { 0 };
	struct plan pl = { 0 };
	struct attempt a;
	char id[JOB_ID_MAX], *tok, *iid = NULL;

	insert_job(f, "local", NULL, id);
	leave_creating(f, id);
	reconciler_step(f->rec);
	tok = token(id, 1);
	rq.token = tok;
	rq.plan = &pl;
	/* Made before the crash. */
	mem("local")->ops->launch(mem("local"), &rq, &iid, NULL);
	reconciler_run_ops(f->rec);
	assert_int_equal(memory_counts(mem("local"))->find, 1);
	assert_int_equal(memory_counts(mem("local"))->launch, 1);	/* not again */
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.instance_id, iid);
	attempt_release(&a);
	agent_reports(f, id, 1, "{\"outcome\": \"succeeded\"}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_SUCCEEDED);
	assert_int_equal(n_attempts(f, id), 1);
	free(tok);
	free(iid);
}

/* The launch never happened: the attempt ends, the job launches again. */
static void test_restart_relaunches_never_created(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	leave_creating(f, id);
	turn(f);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "launch_failed");
	attempt_release(&a);
	assert_int_equal(status_of(f, id), JOB_PENDING);
	turn(f);
	assert_int_equal(n_attempts(f, id), 2);
	assert_int_equal(status_of(f, id), JOB_STARTING);
}

/* Gone already, but its agent wrote a status: it ran; its outcome counts. */
static void test_restart_finished_while_down(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	leave_creating(f, id);
	agent_reports(f, id, 1, "{\"outcome\": \"succeeded\"}");
	turn(f);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_SUCCEEDED);
	assert_int_equal(n_attempts(f, id), 1);
}

/* The provider cannot be asked now: nothing is decided; asked again. */
static void test_restart_find_fails(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	leave_creating(f, id);
	reconciler_step(f->rec);
	memory_script(mem("local"))->find_error = FRUGAL_ENET;
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, id), JOB_PROVISIONING);
	assert_int_equal(open_rows(f, id), 1);
	memory_script(mem("local"))->find_error = 0;
	turn(f);
	assert_int_equal(status_of(f, id), JOB_PENDING);
}

/* A cancel of a job whose row is unresolved waits for the answer: a
 * machine that may exist is never forgotten. */
static void test_cancel_creating_resolves_first(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	leave_creating(f, id);
	store_job_request_cancel(f->st, id, NULL);
	reconciler_step(f->rec);
	memory_script(mem("local"))->find_error = FRUGAL_ENET;
	reconciler_run_ops(f->rec);
	assert_int_equal(status_of(f, id), JOB_PROVISIONING);
	memory_script(mem("local"))->find_error = 0;
	turn(f);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
	assert_int_equal(open_rows(f, id), 0);
	/* A budget stop in the same place goes the same way. */
	insert_job(f, "local", NULL, id);
	leave_creating(f, id);
	store_job_request_stop(f->st, id, "budget", NULL);
	turn(f);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
}

/* Outcome decided, teardown not confirmed: torn down, then decided. */
static void test_restart_closing(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	turn(f);
	store_attempt_set_outcome(f->st, id, 1, "succeeded", 1, 0, NULL);
	restart(f);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_SUCCEEDED);
	assert_int_equal(open_rows(f, id), 0);
	/* Cancelled or stopped while closing: the teardown goes on. */
	insert_job(f, "local", NULL, id);
	turn(f);
	store_attempt_set_outcome(f->st, id, 1, "failed", 0, 0, NULL);
	store_job_request_cancel(f->st, id, NULL);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
	insert_job(f, "local", NULL, id);
	turn(f);
	store_attempt_set_outcome(f->st, id, 1, "failed", 0, 0, NULL);
	store_job_request_stop(f->st, id, "budget", NULL);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_CANCELLED);
}

/* The attempt ended, the job did not move on: decided from the attempt. */
static void test_restart_after_attempt_end(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", NULL, id);
	turn(f);
	store_attempt_end(f->st, id, 1, "succeeded", 1, 0, time_now_ms(), NULL);
	turn(f);
	assert_int_equal(status_of(f, id), JOB_SUCCEEDED);
}

/* ---- the table ---- */

/* Every row of the transition table was reached by the tests above. */

/* ---- multi-node attempts (num_nodes > 1) ---- */

#define TWO_NODES "{\"run\":\"true\",\"num_nodes\":2,\"recovery\":{\"notice_grace\":30}}"

/* Node rank's status document of attempt n (rank 0: agent_reports). */
static void node_reports(struct fixture *f, const char *id, int n, int rank, const char *json)
{
	char *path = xasprintf("%s/storage/jobs/%s/attempts/%d/nodes/%d.status.json", f->dir, id,
			       n, rank);
	char *dir = xasprintf("%s/storage/jobs/%s/attempts/%d/nodes", f->dir, id, n);
	char *doc = strstr(json, "\"outcome\"") && !strstr(json, "\"phase\"") ?
		    xasprintf("{\"phase\": \"exited\", %s", json + 1) : xstrdup(json);

	assert_int_equal(fs_mkdir_p(dir, 0700, NULL), 0);
	assert_int_equal(fs_write_atomic(path, doc, strlen(doc), 0600, 1, NULL), 0);
	free(doc);
	free(path);
	free(dir);
}

/* Two nodes: two ledger rows in one commit, two launches (JOB-1, JOB-1.r1);
 * the attempt succeeds once both succeeded (stop.other_nodes: wait), and
 * both machines are ended; it is billed at 2 x the node's price. */
static void test_nodes_launch_and_succeed_together(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	char id[JOB_ID_MAX], *tok, *tok1;

	insert_job(f, "local", TWO_NODES, id);
	reconciler_step(f->rec);
	memory_script(mem("local"))->price_per_hour = 1.5;
	reconciler_run_ops(f->rec);
	tok = token(id, 1);
	tok1 = xasprintf("%s.r1", tok);
	assert_int_equal(status_of(f, id), JOB_STARTING);
	assert_int_equal(memory_counts(mem("local"))->launch, 2);
	assert_non_null(memory_instance(mem("local"), tok));
	assert_non_null(memory_instance(mem("local"), tok1));
	assert_int_equal(open_rows(f, id), 2);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_true(a.price_per_hour > 2.99 && a.price_per_hour < 3.01);
	attempt_release(&a);

	agent_reports(f, id, 1, "{\"phase\": \"running\"}");
	node_reports(f, id, 1, 1, "{\"phase\": \"running\"}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_RUNNING);
	/* Rank 0 done, rank 1 still running: wait for it. */
	agent_reports(f, id, 1, "{\"outcome\": \"succeeded\", \"exit_code\": 0}");
	memory_instance(mem("local"), tok)->state = INSTANCE_GONE;
	turn(f);
	assert_int_equal(status_of(f, id), JOB_RUNNING);
	assert_int_equal(memory_live(mem("local")), 1);
	node_reports(f, id, 1, 1, "{\"outcome\": \"succeeded\", \"exit_code\": 0}");
	turn(f);
	assert_int_equal(status_of(f, id), JOB_SUCCEEDED);
	assert_int_equal(memory_live(mem("local")), 0);
	assert_int_equal(open_rows(f, id), 0);
	free(tok1);
	free(tok);
}

/* One node's launch fails: both rows end (rank 0's machine too), and
 * nothing is left. */
static void test_nodes_one_launch_fails_ends_all(void **state)
{
	struct fixture *f = *state;
	struct memory_script *ms;
	struct attempt a;
	char id[JOB_ID_MAX], *tok1;

	insert_job(f, "local", TWO_NODES, id);
	reconciler_step(f->rec);
	ms = memory_script(mem("local"));
	ms->launch_error = FRUGAL_EPROVIDER;
	tok1 = xasprintf("%s-1.r1", id);
	ms->launch_error_token = tok1;
	reconciler_run_ops(f->rec);
	turn(f);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "launch_failed");
	assert_true(a.ended_at > 0);
	attempt_release(&a);
	assert_int_equal(memory_live(mem("local")), 0);
	assert_int_equal(open_rows(f, id), 0);
	ms->launch_error_token = NULL;
	ms->launch_error = 0;
	free(tok1);
}

/* One node never reports within the boot deadline: every node is ended
 * and the plan moves on (a new attempt of two nodes). */
static void test_nodes_one_never_boots(void **state)
{
	static const struct backend_liveness lv = { 1, 60000 };
	struct fixture *f = *state;
	struct attempt a;
	char id[JOB_ID_MAX];

	liveness = &lv;
	restart(f);
	insert_job(f, "local", TWO_NODES, id);
	turn(f);
	agent_reports(f, id, 1, "{\"phase\": \"running\"}");
	usleep(5000);
	turn(f);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "launch_failed");
	assert_true(a.ended_at > 0);
	attempt_release(&a);
	assert_int_equal(memory_live(mem("local")), 0);
	assert_int_equal(open_rows(f, id), 0);
	turn(f);
	assert_int_equal(n_attempts(f, id), 2);
	assert_int_equal(memory_live(mem("local")), 2);
}

/* Rank 1 fails while rank 0 runs: every node gets a notice (rank 0
 * stores its checkpoint), then the attempt ends failed with rank 1's
 * reason once rank 0 has stopped, and both machines are ended. */
static void test_nodes_one_fails_ends_attempt(void **state)
{
	struct fixture *f = *state;
	struct attempt a;
	char id[JOB_ID_MAX];

	insert_job(f, "local", TWO_NODES, id);
	turn(f);
	agent_reports(f, id, 1, "{\"phase\": \"running\"}");
	node_reports(f, id, 1, 1, "{\"phase\": \"running\"}");
	turn(f);
	node_reports(f, id, 1, 1, "{\"outcome\": \"failed\", \"exit_code\": 3, \"reason\": \"oom\"}");
	turn(f);
	assert_int_equal(memory_counts(mem("local"))->notice, 1);	/* rank 0 only: 1 ended */
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_true(a.notice_deadline > 0);
	assert_null(a.outcome);
	attempt_release(&a);
	agent_reports(f, id, 1, "{\"outcome\": \"preempted\"}");
	turn(f);
	assert_int_equal(store_attempt_get(f->st, id, 1, &a, NULL), 0);
	assert_string_equal(a.outcome, "failed");
	assert_int_equal(a.exit_code, 3);
	attempt_release(&a);
	assert_int_equal(status_of(f, id), JOB_FAILED);
	assert_int_equal(memory_live(mem("local")), 0);
	assert_int_equal(open_rows(f, id), 0);
}

/* A notice to rank 1 (recorded on the attempt) goes on to every node;
 * when both stopped the attempt is preempted and the job recovers as a
 * whole on two new nodes. */
static void test_nodes_preempted_recover_together(void **state)
{
	struct fixture *f = *state;
	char id[JOB_ID_MAX];

	insert_job(f, "local", TWO_NODES, id);
	turn(f);
	agent_reports(f, id, 1, "{\"phase\": \"running\"}");
	node_reports(f, id, 1, 1, "{\"phase\": \"running\"}");
	turn(f);
	assert_int_equal(store_attempt_set_notice(f->st, id, 1, time_now_ms() + 30000, NULL), 0);
	reconciler_wake_job(f->rec, id);
	turn(f);
	assert_int_equal(memory_counts(mem("local"))->notice, 2);
	node_reports(f, id, 1, 1, "{\"outcome\": \"preempted\"}");
	agent_reports(f, id, 1, "{\"outcome\": \"preempted\"}");
	reconciler_wake_job(f->rec, id);
	turn(f);
	turn(f);
	assert_int_equal(n_attempts(f, id), 2);
	assert_int_equal(memory_live(mem("local")), 2);
	assert_int_equal(open_rows(f, id), 2);
}

static void test_every_transition_reached(void **state)
{
	size_t i, n = reconcile_transition_count();
	int missed = 0;

	for (i = 0; i < n; i++) {
		int phase, event;

		if (reconcile_transition_hits(i, &phase, &event) == 0) {
			print_message("transition row %zu (phase %d, event %d) never reached\n", i,
				      phase, event);
			missed++;
		}
	}
	assert_int_equal(missed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_launch_run_succeed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wake_names_the_job_and_looks_are_paced, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_plan_never_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_learned_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capacity_plans_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_launch_teardown_retried, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_launch_refused_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_retried_after_outcome, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exit_code_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notice_then_gone_is_preempted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gone_without_outcome_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_before_report_plans_again, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_boot_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_heartbeat_recovers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_agent_not_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_looks_at_live_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancel_running, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_agent_does_not_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_while_planning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beats_without_looks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_is_per_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_adopts_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_launch_and_succeed_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nodes_one_launch_fails_ends_all, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nodes_one_never_boots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_one_fails_ends_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes_preempted_recover_together, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_relaunches_never_created, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_finished_while_down, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_find_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_creating_resolves_first, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_closing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_after_attempt_end, setup, teardown),
		cmocka_unit_test(test_every_transition_reached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
