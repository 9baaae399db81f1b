#define _GNU_SOURCE
/* Unit tests for store/ (SQLite state) and util/secretbox. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "store/store.h"
#include "util/secretbox.h"

struct fixture {
	char dir[64];
	char *db;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/frugal-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->db = fs_path_join(f->dir, "state.db");
	assert_int_equal(store_open(f->db, &f->st, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_free(f->st);
	fs_remove_tree(f->dir, NULL);
	free(f->db);
	free(f);
	return 0;
}

static void insert_job(struct store *st, const char *name, struct job *ret)
{
	struct error err = ERROR_INIT;

	memset(ret, 0, sizeof(*ret));
	ret->name = name ? xstrdup(name) : NULL;
	ret->task_json = xstrdup("{\"run\":\"true\"}");
	ret->backend = xstrdup("local");
	assert_int_equal(store_job_insert(st, ret, NULL, 0, &err), 0);
}

static void test_open_mode_and_version(void **state)
{
	struct fixture *f = *state;
	struct store *again = NULL;
	struct stat stt;

	assert_int_equal(stat(f->db, &stt), 0);
	assert_int_equal(stt.st_mode & 0777, 0600);
	/* Opening again runs no migration twice. */
	assert_int_equal(store_open(f->db, &again, NULL), 0);
	store_free(again);
	assert_true(store_schema_version() >= 2);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct store *st = NULL;
	struct error err = ERROR_INIT;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "python3 -c \"import sqlite3; c=sqlite3.connect('%s');"
		 " c.execute('PRAGMA user_version=99'); c.commit()\"", f->db);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(store_open(f->db, &st, &err), FRUGAL_EDB);
	assert_non_null(strstr(err.msg, "upgrade frugal"));
}

static void test_job_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct job a, b, got;
	struct job_list l = { 0 };

	insert_job(f->st, "train", &a);
	insert_job(f->st, "train", &b);
	assert_int_equal(strlen(a.id), 6);
	assert_string_not_equal(a.id, b.id);
	assert_true(b.seq > a.seq);
	assert_int_equal(store_job_get(f->st, a.id, &got, NULL), 0);
	assert_string_equal(got.id, a.id);
	assert_int_equal(got.status, JOB_PENDING);
	job_release(&got);
	/* By name: the newest. */
	assert_int_equal(store_job_get(f->st, "train", &got, NULL), 0);
	assert_string_equal(got.id, b.id);
	job_release(&got);
	assert_int_equal(store_job_get(f->st, "nope", &got, NULL), FRUGAL_ENOTFOUND);

	assert_int_equal(store_job_set_status(f->st, a.id, JOB_SUCCEEDED, "done", NULL), 0);
	assert_int_equal(store_job_list(f->st, 1, 0, &l, NULL), 0);
	assert_int_equal(l.n, 1);	/* only the live one */
	assert_string_equal(l.items[0].id, b.id);
	job_list_release(&l);
	assert_int_equal(store_job_list(f->st, 1, 5, &l, NULL), 0);
	assert_int_equal(l.n, 2);	/* live + recent finished */
	assert_string_equal(l.items[0].id, a.id);	/* submission order */
	job_list_release(&l);
	job_release(&a);
	job_release(&b);
}

static void test_attempts_and_costs(void **state)
{
	struct fixture *f = *state;
	struct attempt a = { 0 }, got;
	struct attempt_list live = { 0 };
	struct cost_list costs = { 0 };
	struct job j, after;

	insert_job(f->st, NULL, &j);
	snprintf(a.job_id, sizeof(a.job_id), "%s", j.id);
	a.n = 1;
	a.backend = "local";
	a.price_per_hour = 3.6;
	a.gpus = "0";
	a.started_at = time_now_ms();
	assert_int_equal(store_attempt_insert(f->st, &a, NULL), 0);
	assert_int_equal(store_attempt_list_live(f->st, &live, NULL), 0);
	assert_int_equal(live.n, 1);
	attempt_list_release(&live);
	assert_int_equal(store_attempt_end(f->st, j.id, 1, "failed", 1, 7, time_now_ms(), NULL), 0);
	assert_int_equal(store_attempt_get(f->st, j.id, 1, &got, NULL), 0);
	assert_string_equal(got.outcome, "failed");
	assert_true(got.has_exit_code);
	assert_int_equal(got.exit_code, 7);
	attempt_release(&got);
	/* A cost is recorded once per attempt, even if asked twice. */
	assert_int_equal(store_cost_record(f->st, j.id, 1, "local", 10, 10000, NULL), 0);
	assert_int_equal(store_cost_record(f->st, j.id, 1, "local", 10, 10000, NULL), 0);
	assert_int_equal(store_job_get(f->st, j.id, &after, NULL), 0);
	assert_float_equal(after.cost_usd, 0.01, 1e-9);
	job_release(&after);
	assert_int_equal(store_cost_report(f->st, "backend", 0, 0, &costs, NULL), 0);
	assert_int_equal(costs.n, 1);
	assert_string_equal(costs.items[0].key, "local");
	cost_list_release(&costs);
	assert_int_equal(store_cost_report(f->st, "bogus", 0, 0, &costs, NULL), FRUGAL_EINVAL);
	job_release(&j);
}

/* What store_job_each handed over, as text: one line per job and attempt. */
struct each_seen {
	struct strbuf text;
	int calls, stop_after;
};

static int each_collect(const struct job *j, const struct attempt_list *al, void *ctx)
{
	struct each_seen *e = ctx;
	size_t i;

	assert_null(j->task_json);
	strbuf_addf(&e->text, "%s %s n=%d ran=%lld cost=%lld\n", j->id, job_status_name(j->status),
		    j->n_attempts, (long long)j->ran_ms, (long long)j->cost_micro);
	for (i = 0; i < al->n; i++) {
		const struct attempt *a = &al->items[i];
		strbuf_addf(&e->text, "  %s-%d %s %s cost=%d/%lld/%lld src=%s\n", a->job_id, a->n,
			    a->outcome ? a->outcome : "live", a->instance_type, a->has_cost,
			    (long long)a->billed_seconds, (long long)a->cost_micro,
			    a->price_source ? a->price_source : "-");
	}
	return ++e->calls == e->stop_after;
}

/* The same, from store_job_list + store_attempt_list (one query per job). */
static void list_text(struct store *st, int live_only, int recent, struct strbuf *out)
{
	struct job_list l = { 0 };
	size_t i;

	assert_int_equal(store_job_list(st, live_only, recent, &l, NULL), 0);
	for (i = 0; i < l.n; i++) {
		struct attempt_list al = { 0 };
		struct job full;
		struct each_seen e = { STRBUF_INIT, 0, 0 };

		/* store_job_get counts the attempts; the list does not. */
		assert_int_equal(store_job_get(st, l.items[i].id, &full, NULL), 0);
		free(full.task_json);
		full.task_json = NULL;
		assert_int_equal(full.ran_ms, l.items[i].ran_ms);
		assert_int_equal(store_attempt_list(st, full.id, &al, NULL), 0);
		each_collect(&full, &al, &e);
		strbuf_add(out, e.text.buf, e.text.len);
		strbuf_release(&e.text);
		attempt_list_release(&al);
		job_release(&full);
	}
	job_list_release(&l);
}

/* store_job_each streams what the per-job queries give, in the same order,
 * live-only or all, and stops when told. */
static void test_job_each(void **state)
{
	struct fixture *f = *state;
	struct job j[4];
	struct each_seen e = { STRBUF_INIT, 0, 0 };
	struct strbuf want = STRBUF_INIT;
	int64_t t0 = time_now_ms() - 100000;
	int k;

	for (k = 0; k < 4; k++)
		insert_job(f->st, "each", &j[k]);
	/* 0: two attempts (preempted, succeeded) with costs; 1: no attempt,
	 * failed; 2: one ended attempt without a ledger row; 3: live. */
	for (k = 1; k <= 2; k++) {
		struct attempt a = { 0 };
		snprintf(a.job_id, sizeof(a.job_id), "%s", j[0].id);
		a.n = k;
		a.backend = "local";
		a.instance_type = k == 1 ? "small" : "large";
		a.price_source = k == 2 ? "live-source" : NULL;
		a.started_at = t0 + k * 1000;
		assert_int_equal(store_attempt_insert(f->st, &a, NULL), 0);
		assert_int_equal(store_attempt_end(f->st, j[0].id, k, k == 1 ? "preempted" :
						   "succeeded", 1, 0, t0 + k * 1000 + 500 * k, NULL), 0);
		assert_int_equal(store_cost_record(f->st, j[0].id, k, "local", 60 * k, 1000 * k,
						   NULL), 0);
	}
	for (k = 2; k <= 3; k++) {
		struct attempt a = { 0 };
		snprintf(a.job_id, sizeof(a.job_id), "%s", j[k].id);
		a.n = 1;
		a.backend = "local";
		a.instance_type = "mid";
		a.started_at = t0;
		assert_int_equal(store_attempt_insert(f->st, &a, NULL), 0);
	}
	assert_int_equal(store_attempt_end(f->st, j[2].id, 1, "failed", 1, 3, t0 + 777, NULL), 0);
	assert_int_equal(store_job_set_status(f->st, j[0].id, JOB_SUCCEEDED, NULL, NULL), 0);
	assert_int_equal(store_job_set_status(f->st, j[1].id, JOB_FAILED, "x", NULL), 0);
	assert_int_equal(store_job_set_status(f->st, j[2].id, JOB_FAILED, NULL, NULL), 0);
	assert_int_equal(store_job_set_status(f->st, j[3].id, JOB_RUNNING, NULL, NULL), 0);

	/* Everything. */
	assert_int_equal(store_job_each(f->st, 0, 0, 1, each_collect, &e, NULL), 0);
	list_text(f->st, 0, 0, &want);
	assert_int_equal(e.calls, 4);
	assert_string_equal(e.text.buf, want.buf);
	assert_non_null(strstr(e.text.buf, " n=2 ran=1500 cost=3000\n"));	/* 500 + 1000 ms */
	assert_non_null(strstr(e.text.buf, "-2 succeeded large cost=1/120/2000 src=live-source"));
	assert_non_null(strstr(e.text.buf, "-1 failed mid cost=0/0/0 src=-"));
	/* Live ones and the newest finished one. */
	strbuf_reset(&e.text);
	strbuf_reset(&want);
	e.calls = 0;
	assert_int_equal(store_job_each(f->st, 1, 1, 1, each_collect, &e, NULL), 0);
	list_text(f->st, 1, 1, &want);
	assert_int_equal(e.calls, 2);
	assert_string_equal(e.text.buf, want.buf);
	/* Without attempts: the jobs of store_job_list, ran_ms too. */
	{
		struct job_list l = { 0 };
		struct each_seen plain = { STRBUF_INIT, 0, 0 };
		struct strbuf lt = STRBUF_INIT;
		struct attempt_list none = { 0 };
		size_t i;

		assert_int_equal(store_job_each(f->st, 0, 0, 0, each_collect, &plain, NULL), 0);
		assert_int_equal(store_job_list(f->st, 0, 0, &l, NULL), 0);
		for (i = 0; i < l.n; i++) {
			struct each_seen one = { STRBUF_INIT, 0, 0 };
			each_collect(&l.items[i], &none, &one);
			strbuf_add(&lt, one.text.buf, one.text.len);
			strbuf_release(&one.text);
		}
		assert_string_equal(plain.text.buf, lt.buf);
		assert_non_null(strstr(plain.text.buf, " n=0 ran=1500 cost=3000\n"));
		job_list_release(&l);
		strbuf_release(&plain.text);
		strbuf_release(&lt);
	}
	/* fn stops it. */
	strbuf_reset(&e.text);
	e.calls = 0;
	e.stop_after = 1;
	assert_int_equal(store_job_each(f->st, 0, 0, 1, each_collect, &e, NULL), 0);
	assert_int_equal(e.calls, 1);
	strbuf_release(&e.text);
	strbuf_release(&want);
	for (k = 0; k < 4; k++)
		job_release(&j[k]);
}

static void test_ledger_idempotent(void **state)
{
	struct fixture *f = *state;
	struct resource_list open = { 0 };
	int64_t id1 = 0, id2 = 0;

	assert_int_equal(store_resource_begin(f->st, "abc", 1, "local", "instance", "abc-1",
					      &id1, NULL), 0);
	assert_int_equal(store_resource_begin(f->st, "abc", 1, "local", "instance", "abc-1",
					      &id2, NULL), 0);
	assert_true(id1 == id2);
	assert_int_equal(store_resource_list_open(f->st, NULL, &open, NULL), 0);
	assert_int_equal(open.n, 1);
	assert_int_equal(open.items[0].state, RES_CREATING);
	resource_list_release(&open);
	assert_int_equal(store_resource_set(f->st, id1, "123:456", RES_LIVE, NULL), 0);
	int64_t gone = -1, t0 = time_now_ms();

	assert_int_equal(store_resource_gone_at(f->st, "abc", 1, "instance", &gone, NULL), 0);
	assert_true(gone == 0);	/* live: not gone yet */
	assert_int_equal(store_resource_set(f->st, id1, NULL, RES_GONE, NULL), 0);
	assert_int_equal(store_resource_gone_at(f->st, "abc", 1, "instance", &gone, NULL), 0);
	assert_true(gone >= t0 && gone <= time_now_ms());
	assert_int_equal(store_resource_gone_at(f->st, "abc", 1, "ports", &gone, NULL), 0);
	assert_true(gone == 0);	/* no such row */
	assert_int_equal(store_resource_list_open(f->st, NULL, &open, NULL), 0);
	assert_int_equal(open.n, 0);
	resource_list_release(&open);
}

static void test_blocked_locations(void **state)
{
	struct fixture *f = *state;
	int64_t now = time_now_ms();

	assert_int_equal(store_block_active(f->st, "aws", "us-east-1", "us-east-1a", now, NULL), 0);
	assert_int_equal(store_block_add(f->st, "aws", "us-east-1", "us-east-1a", now + 60000,
					 "preempted", NULL), 0);
	assert_int_equal(store_block_active(f->st, "aws", "us-east-1", "us-east-1a", now, NULL), 1);
	assert_int_equal(store_block_active(f->st, "aws", "us-east-1", "us-east-1b", now, NULL), 0);
	assert_int_equal(store_block_active(f->st, "aws", "us-east-1", "us-east-1a",
					    now + 120000, NULL), 0);
}

/* Several processes inserting at once: nothing lost, nothing corrupt. */
static void test_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	struct job_list l = { 0 };
	enum { PROCS = 4, EACH = 50 };
	int i, status;

	for (i = 0; i < PROCS; i++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct store *st = NULL;
			int k;
			if (store_open(f->db, &st, NULL) < 0)
				_exit(1);
			for (k = 0; k < EACH; k++) {
				struct job j = { 0 };
				j.task_json = xstrdup("{}");
				j.backend = xstrdup("local");
				if (store_job_insert(st, &j, NULL, 0, NULL) < 0)
					_exit(2);
				if (store_event_add(st, j.id, "test", "k=%d", k) < 0)
					_exit(3);
				job_release(&j);
			}
			store_free(st);
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(store_job_list(f->st, 0, 0, &l, NULL), 0);
	assert_int_equal(l.n, PROCS * EACH);
	for (i = 1; i < (int)l.n; i++)
		assert_true(l.items[i].seq == l.items[i - 1].seq + 1);
	job_list_release(&l);
}

static void test_secrets_sealed(void **state)
{
	struct fixture *f = *state;
	unsigned char key[SECRETBOX_KEY_LEN], key2[SECRETBOX_KEY_LEN];
	struct strbuf box = STRBUF_INIT, plain = STRBUF_INIT, db = STRBUF_INIT;
	char *keypath = fs_path_join(f->dir, "secret.key");
	const char *secret = "{\"TOKEN\":\"hunter2-very-secret\"}";
	struct stat stt;
	struct job j = { 0 };
	void *got = NULL;
	size_t got_len = 0;

	assert_int_equal(secretbox_key_load(keypath, key, NULL), 0);
	assert_int_equal(stat(keypath, &stt), 0);
	assert_int_equal(stt.st_mode & 0777, 0600);
	assert_int_equal(secretbox_key_load(keypath, key2, NULL), 0);
	assert_memory_equal(key, key2, sizeof(key));
	assert_int_equal(secretbox_seal(key, secret, strlen(secret), &box, NULL), 0);
	assert_null(memmem(box.buf, box.len, "hunter2", 7));

	j.task_json = xstrdup("{}");
	j.backend = xstrdup("local");
	assert_int_equal(store_job_insert(f->st, &j, box.buf, box.len, NULL), 0);
	assert_int_equal(store_job_secrets(f->st, j.id, &got, &got_len, NULL), 0);
	assert_int_equal(secretbox_open(key, got, got_len, &plain, NULL), 0);
	assert_string_equal(plain.buf, secret);
	/* Tampering is detected. */
	((unsigned char *)got)[got_len - 1] ^= 1;
	strbuf_reset(&plain);
	assert_int_equal(secretbox_open(key, got, got_len, &plain, NULL), FRUGAL_ECRYPTO);
	free(got);
	/* Dropped when the job is over. */
	assert_int_equal(store_job_drop_secrets(f->st, j.id, NULL), 0);
	got = NULL;
	assert_int_equal(store_job_secrets(f->st, j.id, &got, &got_len, NULL), 0);
	assert_null(got);
	/* The database file never holds the value. */
	assert_int_equal(fs_read_file(f->db, 0, &db, NULL), 0);
	assert_null(memmem(db.buf, db.len, "hunter2", 7));
	strbuf_release(&db);
	strbuf_release(&box);
	strbuf_release(&plain);
	job_release(&j);
	free(keypath);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_mode_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempts_and_costs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ledger_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocked_locations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_sealed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
