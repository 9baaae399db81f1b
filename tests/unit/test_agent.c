/*
 * Unit tests for agent/: the job environment (override rules), line
 * splitting and the log line format, status.json, agent.json checking,
 * the runner (a real child in its own process group), notice.json, and
 * whole attempts through agent_main in a temporary instance directory:
 * a plain one in-process; preemption (notice.json + SIGUSR2, SIGUSR1),
 * checkpoint restore, the dead-man switch and its fault point in forked
 * children, since the local backend removes the instance directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "agent/agent.h"
#include "agent/checkpoint.h"
#include "agent/conf.h"
#include "agent/jobenv.h"
#include "agent/logship.h"
#include "agent/notice.h"
#include "agent/runner.h"
#include "contract/status.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "spec/task.h"
#include "storage/storage.h"

/* ---- helpers ------------------------------------------------------------- */

/* A fresh temporary directory (caller removes and frees). */
static char *make_tmpdir(void)
{
	char *dir = xstrdup("/tmp/frugal-test-agent-XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

/* The JSON of a task parsed from yaml (caller frees). */
static char *task_json_of(const char *yaml)
{
	struct task t;
	struct diag_list dl = DIAG_LIST_INIT;
	char *json;

	assert_int_equal(task_parse_buffer(yaml, strlen(yaml), "test.yaml", "/", &t, &dl), 0);
	json = task_to_json(&t);
	task_release(&t);
	diag_list_release(&dl);
	return json;
}

/* ---- jobenv -------------------------------------------------------------- */

static void test_jobenv_layers(void **state)
{
	char *base[] = { "PATH=/usr/bin", "HOME=/root", "LR=base", "FRUGAL_JOB_ID=base",
			 "NOEQUALS", "=bad", "SECRET_TOKEN=s3cret", NULL };
	char *gpus[] = { "0", "3" };
	struct kvlist envs = { NULL, 0, 0 };
	struct jobenv_params p = {
		.job_id = "k3m9xq", .attempt = 2, .restart_count = 1,
		.checkpoint_dir = "/i/checkpoint", .output_dir = "/i/outputs",
		.metrics_file = "/i/metrics.jsonl", .gpus = gpus, .n_gpus = 2,
	};
	char **env;
	size_t n;

	(void)state;
	kvlist_set(&envs, "LR", "0.001");
	kvlist_set(&envs, "FRUGAL_JOB_ID", "user");
	kvlist_set(&envs, "CUDA_VISIBLE_DEVICES", "7");
	kvlist_set(&envs, "BATCH", "64");
	env = jobenv_build(base, &envs, &p);

	/* the agent's environment, with the secret, passes through */
	assert_string_equal(jobenv_get(env, "PATH"), "/usr/bin");
	assert_string_equal(jobenv_get(env, "SECRET_TOKEN"), "s3cret");
	/* task envs replace the agent's; frugal's replace both */
	assert_string_equal(jobenv_get(env, "LR"), "0.001");
	assert_string_equal(jobenv_get(env, "BATCH"), "64");
	assert_string_equal(jobenv_get(env, "FRUGAL_JOB_ID"), "k3m9xq");
	assert_string_equal(jobenv_get(env, "CUDA_VISIBLE_DEVICES"), "0,3");
	assert_string_equal(jobenv_get(env, "FRUGAL_ATTEMPT"), "2");
	assert_string_equal(jobenv_get(env, "FRUGAL_RESTART_COUNT"), "1");
	assert_string_equal(jobenv_get(env, "FRUGAL_CHECKPOINT_DIR"), "/i/checkpoint");
	assert_string_equal(jobenv_get(env, "FRUGAL_OUTPUT_DIR"), "/i/outputs");
	assert_string_equal(jobenv_get(env, "FRUGAL_METRICS_FILE"), "/i/metrics.jsonl");
	assert_string_equal(jobenv_get(env, "FRUGAL_NUM_GPUS"), "2");
	assert_string_equal(jobenv_get(env, "SKYPILOT_NUM_GPUS_PER_NODE"), "2");
	assert_string_equal(jobenv_get(env, "SKYPILOT_NODE_RANK"), "0");
	assert_string_equal(jobenv_get(env, "SKYPILOT_NUM_NODES"), "1");
	assert_string_equal(jobenv_get(env, "SKYPILOT_NODE_IPS"), "127.0.0.1");
	/* entries without a name are dropped; each name appears once, in
	 * the place it first had */
	assert_null(jobenv_get(env, "NOEQUALS"));
	assert_string_equal(env[0], "PATH=/usr/bin");
	assert_string_equal(env[2], "LR=0.001");
	assert_string_equal(env[3], "FRUGAL_JOB_ID=k3m9xq");
	for (n = 0; env[n]; n++)
		assert_null(strstr(env[n], "NOEQUALS"));
	assert_int_equal(n, 5 + 2 + 13);	/* 5 of base, BATCH and CUDA_..., 13 more of ours */
	assert_string_equal(jobenv_get(env, "FRUGAL_NODE_RANK"), "0");
	assert_null(jobenv_get(env, "MASTER_ADDR"));	/* one node: the task's own, if any */
	jobenv_free(env);
	kvlist_release(&envs);
}

/* num_nodes > 1: every node's IP in rank order, one per line, rank 0's
 * as MASTER_ADDR with the port it chose. */
static void test_jobenv_nodes(void **state)
{
	char *ips[] = { "10.0.0.1", "10.0.0.2", NULL };
	struct jobenv_params p = {
		.job_id = "a", .attempt = 1, .checkpoint_dir = "/c", .output_dir = "/o",
		.metrics_file = "/m", .rank = 1, .node_ips = ips, .n_nodes = 2,
		.master_port = 29501,
	};
	char **env = jobenv_build(NULL, NULL, &p);

	(void)state;
	assert_string_equal(jobenv_get(env, "SKYPILOT_NODE_RANK"), "1");
	assert_string_equal(jobenv_get(env, "FRUGAL_NODE_RANK"), "1");
	assert_string_equal(jobenv_get(env, "SKYPILOT_NUM_NODES"), "2");
	assert_string_equal(jobenv_get(env, "FRUGAL_NUM_NODES"), "2");
	assert_string_equal(jobenv_get(env, "SKYPILOT_NODE_IPS"), "10.0.0.1\n10.0.0.2");
	assert_string_equal(jobenv_get(env, "FRUGAL_NODE_IPS"), "10.0.0.1\n10.0.0.2");
	assert_string_equal(jobenv_get(env, "MASTER_ADDR"), "10.0.0.1");
	assert_string_equal(jobenv_get(env, "MASTER_PORT"), "29501");
	jobenv_free(env);
}

static void test_jobenv_no_gpus(void **state)
{
	struct jobenv_params p = {
		.job_id = "a", .attempt = 1, .checkpoint_dir = "/c", .output_dir = "/o",
		.metrics_file = "/m",
	};
	char **env = jobenv_build(NULL, NULL, &p);

	(void)state;
	assert_string_equal(jobenv_get(env, "CUDA_VISIBLE_DEVICES"), "");
	assert_string_equal(jobenv_get(env, "FRUGAL_NUM_GPUS"), "0");
	assert_string_equal(jobenv_get(env, "SKYPILOT_NUM_GPUS_PER_NODE"), "0");
	jobenv_free(env);
}

/* ---- linesplit and the log format ------------------------------------------ */

struct lines {
	char *items[32];
	size_t n;
};

static void collect_line(void *arg, const char *line, size_t len)
{
	struct lines *l = arg;

	assert_true(l->n < 32);
	l->items[l->n++] = xstrndup(line, len);
}

static void lines_release(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i]);
	l->n = 0;
}

static void test_linesplit(void **state)
{
	struct linesplit ls;
	struct lines l = { { NULL }, 0 };

	(void)state;
	linesplit_init(&ls, 0);
	linesplit_feed(&ls, "one\ntw", 6, collect_line, &l);
	assert_int_equal(l.n, 1);
	linesplit_feed(&ls, "o\r\n\nthree", 9, collect_line, &l);
	assert_int_equal(l.n, 3);
	linesplit_finish(&ls, collect_line, &l);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[0], "one");
	assert_string_equal(l.items[1], "two");	/* CR before LF dropped */
	assert_string_equal(l.items[2], "");		/* empty lines kept */
	assert_string_equal(l.items[3], "three");	/* partial line at EOF */
	linesplit_finish(&ls, collect_line, &l);	/* nothing left */
	assert_int_equal(l.n, 4);
	lines_release(&l);
	linesplit_release(&ls);
}

/* A '\r' that no '\n' follows ends a progress record, passed on with it,
 * so progress bars are not held until a newline; CRLF split across two
 * reads is still one line end. */
static void test_linesplit_progress(void **state)
{
	struct linesplit ls;
	struct lines l = { { NULL }, 0 };
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	linesplit_init(&ls, 0);
	linesplit_feed(&ls, "start\n\r 10%", 11, collect_line, &l);
	assert_int_equal(l.n, 1);	/* the empty record before " 10%" is dropped */
	linesplit_feed(&ls, "\r 20%\r", 6, collect_line, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[1], " 10%\r");
	linesplit_feed(&ls, "\n", 1, collect_line, &l);	/* CR LF across reads */
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[2], " 20%");
	linesplit_feed(&ls, "a\rb", 3, collect_line, &l);
	linesplit_finish(&ls, collect_line, &l);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.items[3], "a\r");
	assert_string_equal(l.items[4], "b");
	lines_release(&l);
	linesplit_release(&ls);

	logship_format_line(&sb, 1795335303000LL, " 30%\r", 5);
	assert_string_equal(sb.buf, "2026-11-22T08:15:03.000Z  30%\r");
	strbuf_release(&sb);
}

static void test_linesplit_cap(void **state)
{
	struct linesplit ls;
	struct lines l = { { NULL }, 0 };

	(void)state;
	linesplit_init(&ls, 4);
	/* a line of exactly the cap is whole; longer ones are cut at it */
	linesplit_feed(&ls, "abcd\nabcdefghij\nxy", 18, collect_line, &l);
	linesplit_feed(&ls, "z", 1, collect_line, &l);
	linesplit_finish(&ls, collect_line, &l);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.items[0], "abcd");
	assert_string_equal(l.items[1], "abcd");
	assert_string_equal(l.items[2], "efgh");
	assert_string_equal(l.items[3], "ij");
	assert_string_equal(l.items[4], "xyz");
	lines_release(&l);
	linesplit_release(&ls);

	/* the default cap is 64 KiB */
	linesplit_init(&ls, 0);
	{
		size_t big = LINESPLIT_MAX + 10;
		char *data = xmalloc(big);
		memset(data, 'a', big);
		linesplit_feed(&ls, data, big, collect_line, &l);
		assert_int_equal(l.n, 1);
		assert_int_equal(strlen(l.items[0]), LINESPLIT_MAX);
		linesplit_finish(&ls, collect_line, &l);
		assert_int_equal(strlen(l.items[1]), 10);
		free(data);
	}
	lines_release(&l);
	linesplit_release(&ls);
}

static void test_log_format(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char ts[32];

	(void)state;
	/* 2026-11-22T08:15:03.123Z */
	logship_format_time(1795335303123LL, ts, sizeof(ts));
	assert_string_equal(ts, "2026-11-22T08:15:03.123Z");
	logship_format_time(1795335303007LL, ts, sizeof(ts));
	assert_string_equal(ts, "2026-11-22T08:15:03.007Z");
	logship_format_line(&sb, 1795335303000LL, "loss 0.1", 8);
	assert_string_equal(sb.buf, "2026-11-22T08:15:03.000Z loss 0.1\n");
	strbuf_release(&sb);
}

static void test_logship_storage(void **state)
{
	char *dir = make_tmpdir();
	char *url = xasprintf("file://%s", dir);
	struct storage *st = NULL;
	struct strbuf got = STRBUF_INIT;
	struct logship *ls;
	uv_loop_t loop;

	(void)state;
	assert_int_equal(storage_open(url, &st, NULL), 0);
	uv_loop_init(&loop);
	ls = logship_new(&loop, st, "jobs/x/logs/attempt-1.log");
	logship_line(ls, "first", 5);
	logship_line(ls, "second", 6);
	/* a note comes after the job output before it */
	logship_note(ls, "run exited with %d", 0);
	logship_line(ls, "third", 5);
	logship_close(ls);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);

	assert_int_equal(storage_get(st, "jobs/x/logs/attempt-1.log", 0, &got, NULL), 0);
	assert_int_equal(got.len, 4 * 25 + strlen("first\nsecond\nfrugal: run exited with 0\nthird\n"));
	assert_non_null(strstr(got.buf, "Z first\n"));
	assert_true(strstr(got.buf, "Z second\n") < strstr(got.buf, "Z frugal: run exited with 0\n"));
	assert_true(strstr(got.buf, "Z frugal: run exited with 0\n") < strstr(got.buf, "Z third\n"));
	strbuf_release(&got);
	storage_free(st);
	fs_remove_tree(dir, NULL);
	free(url);
	free(dir);
}

/* ---- status.json ------------------------------------------------------------- */

static void test_status_json(void **state)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT;
	json_t *doc;
	char *text;

	(void)state;
	s.job_id = xstrdup("k3m9xq");
	s.attempt = 2;
	s.agent_pid = 42;
	s.started_at = 1795335303123LL;
	s.heartbeat_at = 1795335304000LL;
	text = attempt_status_to_json(&s);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "job_id")), "k3m9xq");
	assert_int_equal(json_integer_value(json_object_get(doc, "attempt")), 2);
	assert_string_equal(json_string_value(json_object_get(doc, "phase")), "starting");
	assert_int_equal(json_integer_value(json_object_get(doc, "agent_pid")), 42);
	assert_true(json_is_null(json_object_get(doc, "job_pgid")));
	assert_int_equal(json_integer_value(json_object_get(doc, "started_at")), 1795335303123LL);
	assert_true(json_is_integer(json_object_get(doc, "heartbeat_at")));
	assert_true(json_is_null(json_object_get(doc, "ended_at")));
	assert_true(json_is_null(json_object_get(doc, "outcome")));
	assert_true(json_is_null(json_object_get(doc, "exit_code")));
	assert_string_equal(json_string_value(json_object_get(doc, "reason")), "");
	assert_int_equal(json_array_size(json_object_get(doc, "outputs")), 0);
	json_decref(doc);
	free(text);

	s.phase = PHASE_EXITED;
	s.job_pgid = 43;
	s.ended_at = 1795335309000LL;
	s.outcome = OUTCOME_TIMED_OUT;
	s.has_exit_code = 1;
	s.exit_code = 137;
	attempt_status_set_reason(&s, "max_runtime %s reached", "10s");
	attempt_status_add_output(&s, "weights/model.pth");
	attempt_status_add_output(&s, "bad\xff.bin");	/* not UTF-8 */
	text = attempt_status_to_json(&s);
	doc = json_loads(text, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "phase")), "exited");
	assert_int_equal(json_integer_value(json_object_get(doc, "job_pgid")), 43);
	assert_int_equal(json_integer_value(json_object_get(doc, "ended_at")), 1795335309000LL);
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "timed_out");
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 137);
	assert_string_equal(json_string_value(json_object_get(doc, "reason")),
			    "max_runtime 10s reached");
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "outputs"), 0)),
			    "weights/model.pth");
	assert_string_equal(json_string_value(json_array_get(json_object_get(doc, "outputs"), 1)),
			    "bad?.bin");
	json_decref(doc);
	free(text);
	attempt_status_release(&s);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(attempt_phase_name(PHASE_SETUP), "setup");
	assert_string_equal(attempt_phase_name(PHASE_RUNNING), "running");
	assert_string_equal(attempt_phase_name(PHASE_STOPPING), "stopping");
	assert_string_equal(attempt_phase_name(PHASE_UPLOADING), "uploading");
	assert_null(attempt_outcome_name(OUTCOME_NONE));
	assert_string_equal(attempt_outcome_name(OUTCOME_SUCCEEDED), "succeeded");
	assert_string_equal(attempt_outcome_name(OUTCOME_FAILED), "failed");
	assert_string_equal(attempt_outcome_name(OUTCOME_CANCELLED), "cancelled");
	assert_string_equal(attempt_outcome_name(OUTCOME_PREEMPTED), "preempted");
}

/* ---- agent.json ---------------------------------------------------------------- */

static void test_conf_parse(void **state)
{
	char *task = task_json_of("run: echo hi\n");
	char *text = xasprintf("{\"job_id\": \"k3m9xq\", \"attempt\": 2, "
			       "\"storage_url\": \"file:///s\", \"job_prefix\": \"jobs/k3m9xq/\", "
			       "\"gpus\": [\"0\", 1], \"output_dir\": \"out\", "
			       "\"checkpoint_dir\": \"/abs/ckpt\", \"task\": %s}", task);
	struct agent_conf c;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(agent_conf_parse(text, "/i/agent.json", "/i", &c, &err), 0);
	assert_string_equal(c.job_id, "k3m9xq");
	assert_int_equal(c.attempt, 2);
	assert_int_equal(c.restart_count, 0);
	assert_string_equal(c.job_prefix, "jobs/k3m9xq");
	assert_null(c.controller_socket);
	assert_int_equal(c.n_gpus, 2);
	assert_string_equal(c.gpus[1], "1");
	assert_string_equal(c.work_dir, "/i/work");
	assert_string_equal(c.output_dir, "/i/out");
	assert_string_equal(c.checkpoint_dir, "/abs/ckpt");
	assert_string_equal(c.metrics_file, "/i/metrics.jsonl");
	assert_string_equal(c.outputs_url, "file:///s/jobs/k3m9xq/outputs");
	assert_string_equal(c.task.run, "echo hi");
	agent_conf_release(&c);
	free(text);
	free(task);
}

/* agent_conf_parse of text fails and its message holds want. */
static void expect_conf_error(const char *text, const char *want)
{
	struct agent_conf c;
	struct error err = ERROR_INIT;

	assert_int_equal(agent_conf_parse(text, "/i/agent.json", "/i", &c, &err), FRUGAL_EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("'%s' does not mention '%s'", err.msg, want);
	assert_non_null(strstr(err.msg, "/i/agent.json"));
}

static void test_conf_errors(void **state)
{
	char *task = task_json_of("run: echo hi\n");
	char *t;

	(void)state;
	expect_conf_error("{", "not valid JSON");
	expect_conf_error("[]", "expected a JSON object");
	expect_conf_error("{}", "field 'job_id' is missing");
	expect_conf_error("{\"job_id\": \"a b\"}", "field 'job_id'");
	expect_conf_error("{\"job_id\": \"a\"}", "field 'attempt' is missing");
	expect_conf_error("{\"job_id\": \"a\", \"attempt\": 0}", "field 'attempt'");
	expect_conf_error("{\"job_id\": \"a\", \"attempt\": \"1\"}", "field 'attempt'");
	expect_conf_error("{\"job_id\": \"a\", \"attempt\": 1}", "field 'storage_url' is missing");
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"../x\", \"task\": %s}", task);
	expect_conf_error(t, "field 'job_prefix'");
	free(t);
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"j\", \"gpus\": [true], \"task\": %s}", task);
	expect_conf_error(t, "field 'gpus[0]'");
	free(t);
	expect_conf_error("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
			  "\"job_prefix\": \"j\"}", "field 'task' is missing");
	expect_conf_error("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
			  "\"job_prefix\": \"j\", \"task\": {\"run\": 5}}", "field 'task'");
	free(task);
}

/* ---- runner ------------------------------------------------------------------- */

struct run_result {
	struct lines out;
	int done;
	int64_t exit_status;
	int term_signal;
};

static void runner_line(void *arg, int fd, const char *text, size_t len)
{
	struct run_result *res = arg;
	char *s = xasprintf("%d:%.*s", fd, (int)len, text);

	collect_line(&res->out, s, strlen(s));
	free(s);
}

static void runner_done(void *arg, int64_t exit_status, int term_signal)
{
	struct run_result *res = arg;

	res->done++;
	res->exit_status = exit_status;
	res->term_signal = term_signal;
}

static void runner_closed(void *arg)
{
	(*(int *)arg)++;
}

/* Run script in /tmp to completion; *ret_pgid (may be NULL) is its group. */
static void run_script(const char *script, char *const *env, struct run_result *res,
		       int *ret_pgid)
{
	static const struct runner_cbs cbs = { runner_line, runner_done };
	struct runner *r = NULL;
	uv_loop_t loop;
	int closed = 0;

	uv_loop_init(&loop);
	assert_int_equal(runner_start(&loop, script, env, "/tmp", &cbs, res, &r, NULL), 0);
	if (ret_pgid)
		*ret_pgid = runner_pgid(r);
	while (!res->done)
		uv_run(&loop, UV_RUN_ONCE);
	runner_kill_group(r);
	runner_close(r, runner_closed, &closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(closed, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_runner_exit_and_lines(void **state)
{
	char *env[] = { "PATH=/usr/bin:/bin", "GREETING=hello", NULL };
	struct run_result res;
	int pgid = 0;

	(void)state;
	memset(&res, 0, sizeof(res));
	run_script("echo $GREETING; echo err >&2; printf tail; exit 3", env, &res, &pgid);
	assert_int_equal(res.done, 1);
	assert_int_equal(res.exit_status, 3);
	assert_int_equal(res.term_signal, 0);
	/* stdout and stderr are separate pipes: only each one's order holds */
	assert_int_equal(res.out.n, 3);
	{
		const char *want[] = { "1:hello", "1:tail", "2:err" };
		size_t i, j = 0;

		for (i = 0; i < 3; i++)
			if (res.out.items[i][0] == '1')
				assert_string_equal(res.out.items[i], want[j++]);
			else
				assert_string_equal(res.out.items[i], want[2]);
		assert_int_equal(j, 2);
	}
	assert_true(pgid > 0);
	lines_release(&res.out);
}

static void test_runner_own_group(void **state)
{
	char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct run_result res;
	int pgid = 0;

	(void)state;
	memset(&res, 0, sizeof(res));
	/* the child is a group (and session) leader of its own */
	run_script("read -r pid comm state ppid pgrp sid rest < /proc/$$/stat; "
		   "echo $$ $pgrp $sid", env, &res, &pgid);
	assert_int_equal(res.out.n, 1);
	{
		char want[64];
		snprintf(want, sizeof(want), "1:%d %d %d", pgid, pgid, pgid);
		assert_string_equal(res.out.items[0], want);
	}
	lines_release(&res.out);
}

/* Stop a step that ignores SIGTERM: SIGKILL follows after the grace. */
static void on_stop_timer(uv_timer_t *t)
{
	runner_stop(t->data, SIGTERM, 200);
	uv_close((uv_handle_t *)t, NULL);
}

static void test_runner_stop_escalates(void **state)
{
	static const struct runner_cbs cbs = { runner_line, runner_done };
	char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct run_result res;
	struct runner *r = NULL;
	uv_timer_t t;
	uv_loop_t loop;
	int closed = 0;

	(void)state;
	memset(&res, 0, sizeof(res));
	uv_loop_init(&loop);
	assert_int_equal(runner_start(&loop, "trap '' TERM; echo up; sleep 30 & wait", env, "/",
				      &cbs, &res, &r, NULL), 0);
	uv_timer_init(&loop, &t);
	t.data = r;
	uv_timer_start(&t, on_stop_timer, 200, 0);
	while (!res.done)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(res.term_signal, SIGKILL);
	/* everything in the group went with the SIGKILL */
	runner_kill_group(r);
	runner_close(r, runner_closed, &closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(closed, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	lines_release(&res.out);
}

static void test_runner_bad_cwd(void **state)
{
	static const struct runner_cbs cbs = { runner_line, runner_done };
	struct run_result res;
	struct runner *r = NULL;
	struct error err = ERROR_INIT;
	uv_loop_t loop;

	(void)state;
	memset(&res, 0, sizeof(res));
	uv_loop_init(&loop);
	assert_true(runner_start(&loop, "true", NULL, "/nonexistent/dir", &cbs, &res, &r,
				 &err) < 0);
	assert_null(r);
	assert_non_null(strstr(err.msg, "/nonexistent/dir"));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(res.done, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- a whole attempt ---------------------------------------------------------- */

static void test_agent_main_attempt(void **state)
{
	char *dir = make_tmpdir();
	char *task = task_json_of("setup: echo preparing\n"
				  "run: |\n"
				  "  echo lr=$LR attempt=$FRUGAL_ATTEMPT\n"
				  "  mkdir -p weights; echo w > weights/m.pth\n"
				  "  echo r > $FRUGAL_OUTPUT_DIR/result.txt\n"
				  "  exit 5\n"
				  "envs: {LR: '0.1'}\n"
				  "outputs: {paths: ['weights/']}\n");
	char *json = xasprintf("{\"job_id\": \"t1\", \"attempt\": 1, "
			       "\"storage_url\": \"file://%s/storage\", \"job_prefix\": \"jobs/t1\", "
			       "\"controller_socket\": \"%s/none.sock\", \"task\": %s}",
			       dir, dir, task);
	char *path = fs_path_join(dir, "agent.json");
	char *argv[] = { "agent", "--instance-dir", dir, NULL };
	char *status_path = xasprintf("%s/storage/jobs/t1/attempts/1/status.json", dir);
	char *log_path = xasprintf("%s/storage/jobs/t1/logs/attempt-1.log", dir);
	struct strbuf log = STRBUF_INIT;
	json_t *doc, *outputs;

	(void)state;
	assert_int_equal(fs_write_atomic(path, json, strlen(json), 0600, 1, NULL), 0);
	assert_int_equal(agent_main(3, argv), 0);

	doc = json_load_file(status_path, 0, NULL);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "phase")), "exited");
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "failed");
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 5);
	assert_string_equal(json_string_value(json_object_get(doc, "reason")),
			    "run exited with 5");
	assert_true(json_is_integer(json_object_get(doc, "ended_at")));
	outputs = json_object_get(doc, "outputs");
	assert_int_equal(json_array_size(outputs), 2);
	assert_string_equal(json_string_value(json_array_get(outputs, 0)), "weights/m.pth");
	assert_string_equal(json_string_value(json_array_get(outputs, 1)), "result.txt");
	json_decref(doc);

	assert_int_equal(fs_read_file(log_path, 0, &log, NULL), 0);
	assert_non_null(strstr(log.buf, "Z frugal: setup started"));
	assert_non_null(strstr(log.buf, "Z preparing\n"));
	assert_non_null(strstr(log.buf, "Z lr=0.1 attempt=1\n"));
	assert_non_null(strstr(log.buf, "Z frugal: run exited with 5"));
	assert_non_null(strstr(log.buf, "Z frugal: output stored: weights/m.pth (2 bytes)"));
	assert_non_null(strstr(log.buf, "Z frugal: outcome failed (run exited with 5)"));
	{
		char *o = xasprintf("%s/storage/jobs/t1/outputs/result.txt", dir);
		assert_true(fs_exists(o));
		free(o);
		o = xasprintf("%s/checkpoint", dir);
		assert_true(fs_is_dir(o));
		free(o);
	}

	strbuf_release(&log);
	fs_remove_tree(dir, NULL);
	free(status_path);
	free(log_path);
	free(path);
	free(json);
	free(task);
	free(dir);
}

/* ---- notice.json ---------------------------------------------------------------- */

static void test_notice_parse(void **state)
{
	struct notice n;
	const char *ok = "{\"deadline_ms\": 1795335303123, \"source\": \"debug\"}";

	(void)state;
	assert_int_equal(notice_parse(ok, strlen(ok), &n, NULL), 0);
	assert_int_equal(n.deadline_ms, 1795335303123LL);
	assert_string_equal(n.source, "debug");
	/* no usable deadline, no source: still a notice */
	assert_int_equal(notice_parse("{\"deadline_ms\": \"soon\"}", 23, &n, NULL), 0);
	assert_int_equal(n.deadline_ms, 0);
	assert_string_equal(n.source, "notice.json");
	assert_int_equal(notice_parse("[", 1, &n, NULL), FRUGAL_EINVAL);
	assert_int_equal(n.deadline_ms, 0);
	assert_string_equal(n.source, "notice.json");
	assert_non_null(notice_sources_for("local")[0]);
	assert_non_null(notice_sources_for(NULL)[0]);
}

/* ---- attempts in a child ------------------------------------------------------- */

/* An instance dir and a storage beside it, under one temporary root. */
struct instance {
	char *root;
	char *dir;		/* root/inst */
	char *storage;		/* root/storage */
	char *job;		/* job id */
};

/* Make root/inst/agent.json for job with task yaml; extra is more JSON
 * fields (", \"backend\": \"local\"" or ""). */
static void instance_init(struct instance *in, const char *job, int attempt, const char *yaml,
			  const char *extra)
{
	char *task = task_json_of(yaml);
	char *json, *path;

	in->root = make_tmpdir();
	in->dir = fs_path_join(in->root, "inst");
	in->storage = fs_path_join(in->root, "storage");
	in->job = xstrdup(job);
	assert_int_equal(fs_mkdir_p(in->dir, 0700, NULL), 0);
	json = xasprintf("{\"job_id\": \"%s\", \"attempt\": %d, "
			 "\"storage_url\": \"file://%s\", \"job_prefix\": \"jobs/%s\"%s, "
			 "\"task\": %s}", job, attempt, in->storage, job, extra, task);
	path = fs_path_join(in->dir, "agent.json");
	assert_int_equal(fs_write_atomic(path, json, strlen(json), 0600, 1, NULL), 0);
	free(path);
	free(json);
	free(task);
}

static void instance_release(struct instance *in)
{
	fs_remove_tree(in->root, NULL);
	free(in->root);
	free(in->dir);
	free(in->storage);
	free(in->job);
}

/* Storage path of the job's key (caller frees). */
static char *job_file(const struct instance *in, const char *key)
{
	return xasprintf("%s/jobs/%s/%s", in->storage, in->job, key);
}

/* Run agent_main on the instance in a child; fault (may be NULL) goes
 * into its FRUGAL_FAULT. */
static pid_t start_agent_child(const struct instance *in, const char *fault)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "agent", "--instance-dir", in->dir, NULL };
		if (fault)
			setenv("FRUGAL_FAULT", fault, 1);
		_exit(agent_main(3, argv));
	}
	return pid;
}

/* Wait up to ms for the child; its wait status. */
static int wait_child(pid_t pid, int64_t ms)
{
	int64_t end = time_mono_ms() + ms;
	int status = 0;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (time_mono_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("agent child %d did not end in %lld ms", (int)pid, (long long)ms);
		}
		time_sleep_ms(20);
	}
}

/* Wait up to ms for the job log to hold text. */
static void wait_log(const struct instance *in, int attempt, const char *text, int64_t ms)
{
	char key[64];
	char *path;
	int64_t end = time_mono_ms() + ms;

	snprintf(key, sizeof(key), "logs/attempt-%d.log", attempt);
	path = job_file(in, key);
	for (;;) {
		struct strbuf log = STRBUF_INIT;
		int found = fs_read_file(path, 0, &log, NULL) == 0 && strstr(log.buf, text);
		strbuf_release(&log);
		if (found)
			break;
		if (time_mono_ms() > end)
			fail_msg("'%s' never appeared in %s", text, path);
		time_sleep_ms(20);
	}
	free(path);
}

/* The job log must hold text. */
static void expect_log(const struct instance *in, int attempt, const char *text)
{
	wait_log(in, attempt, text, 0);
}

/* status.json of the attempt (caller decrefs). */
static json_t *load_status(const struct instance *in, int attempt)
{
	char key[64];
	char *path;
	json_t *doc;

	snprintf(key, sizeof(key), "attempts/%d/status.json", attempt);
	path = job_file(in, key);
	doc = json_load_file(path, 0, NULL);
	if (!doc)
		fail_msg("no status at '%s'", path);
	free(path);
	return doc;
}

/* Restore the job's checkpoint into root/check; returns its seq. */
static int64_t restore_job_checkpoint(const struct instance *in, char **ret_dir)
{
	char *url = xasprintf("file://%s", in->storage), *prefix = xasprintf("jobs/%s", in->job);
	char *dir = fs_path_join(in->root, "check");
	struct checkpoint_stats cs = CHECKPOINT_STATS_INIT;
	struct storage *st = NULL;
	struct checkpoint *c;

	assert_int_equal(storage_open(url, &st, NULL), 0);
	c = checkpoint_new(st, prefix, dir, 3, 9, NULL);
	assert_int_equal(checkpoint_restore(c, &cs, NULL), 0);
	checkpoint_free(c);
	storage_free(st);
	free(prefix);
	free(url);
	*ret_dir = dir;
	return cs.seq;
}

/* path holds exactly text. */
static void expect_content(const char *dir, const char *rel, const char *text)
{
	char *path = fs_path_join(dir, rel);
	struct strbuf sb = STRBUF_INIT;

	if (fs_read_file(path, 0, &sb, NULL) < 0)
		fail_msg("'%s' is missing", path);
	assert_string_equal(sb.buf, text);
	strbuf_release(&sb);
	free(path);
}

static void test_agent_preempt_notice(void **state)
{
	struct instance in;
	json_t *doc;
	char *notice, *path, *check = NULL;
	pid_t pid;
	int status;

	(void)state;
	instance_init(&in, "p1", 1,
		      "run: |\n"
		      "  mkdir -p weights $FRUGAL_CHECKPOINT_DIR/sub; echo w > weights/m.pth\n"
		      "  echo step1 > $FRUGAL_CHECKPOINT_DIR/state\n"
		      "  echo nested > $FRUGAL_CHECKPOINT_DIR/sub/n\n"
		      "  trap 'echo final > $FRUGAL_CHECKPOINT_DIR/state; exit 7' TERM\n"
		      "  echo ready\n"
		      "  while true; do sleep 0.05; done\n"
		      "outputs: {paths: ['weights/']}\n",
		      ", \"backend\": \"local\"");
	pid = start_agent_child(&in, NULL);
	wait_log(&in, 1, "Z ready\n", 10000);

	/* what `frugal debug preempt JOB --notice 5` does */
	notice = xasprintf("{\"deadline_ms\": %lld, \"source\": \"debug\"}",
			   (long long)(time_now_ms() + 5000));
	path = fs_path_join(in.dir, "notice.json");
	assert_int_equal(fs_write_atomic(path, notice, strlen(notice), 0600, 1, NULL), 0);
	assert_int_equal(kill(pid, SIGUSR2), 0);
	status = wait_child(pid, 15000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	doc = load_status(&in, 1);
	assert_string_equal(json_string_value(json_object_get(doc, "phase")), "exited");
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "preempted");
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 7);
	assert_string_equal(json_string_value(json_object_get(doc, "reason")),
			    "preempted (notice from debug, 5s window)");
	assert_int_equal(json_array_size(json_object_get(doc, "outputs")), 0);
	json_decref(doc);

	/* the last checkpoint holds what the job wrote on SIGTERM */
	assert_int_equal(restore_job_checkpoint(&in, &check), 1);
	expect_content(check, "state", "final\n");
	expect_content(check, "sub/n", "nested\n");
	free(check);
	/* no outputs on preemption; the machine is gone */
	{
		char *o = job_file(&in, "outputs");
		assert_false(fs_exists(o));
		free(o);
	}
	assert_false(fs_exists(in.dir));
	expect_log(&in, 1, "Z frugal: no checkpoint to restore\n");
	expect_log(&in, 1, "Z frugal: preemption notice from debug (5s window): sending SIGTERM");
	expect_log(&in, 1, "Z frugal: checkpoint 1 stored (2 changed files, 13 bytes sent, "
		   "2 files in all; last");
	expect_log(&in, 1, "Z frugal: outcome preempted (preempted (notice from debug, 5s window))");
	expect_log(&in, 1, "Z frugal: ending the machine (local: removing the instance directory)");

	free(path);
	free(notice);
	instance_release(&in);
}

static void test_agent_sigusr1_kills(void **state)
{
	struct instance in;
	json_t *doc;
	pid_t pid;
	int status;
	int64_t t0;

	(void)state;
	/* the job ignores the signal: SIGKILL when the reserve is all that is
	 * left of the 2s window (1s) */
	instance_init(&in, "p2", 1,
		      "run: |\n"
		      "  trap '' TERM\n"
		      "  echo ready\n"
		      "  while true; do sleep 0.05; done\n"
		      "recovery: {notice_grace: 2s}\n",
		      ", \"backend\": \"local\"");
	pid = start_agent_child(&in, NULL);
	wait_log(&in, 1, "Z ready\n", 10000);
	t0 = time_mono_ms();
	assert_int_equal(kill(pid, SIGUSR1), 0);
	status = wait_child(pid, 15000);
	assert_true(time_mono_ms() - t0 >= 900);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	doc = load_status(&in, 1);
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "preempted");
	assert_true(json_is_null(json_object_get(doc, "exit_code")));
	assert_string_equal(json_string_value(json_object_get(doc, "reason")),
			    "preempted (notice from SIGUSR1, 2s window)");
	json_decref(doc);
	expect_log(&in, 1, "run killed by SIGKILL");
	expect_log(&in, 1, "Z frugal: checkpoint directory empty (last): nothing stored");
	assert_false(fs_exists(in.dir));
	instance_release(&in);
}

static void test_agent_restores_checkpoint(void **state)
{
	struct instance in;
	struct storage *st = NULL;
	struct checkpoint *c;
	struct checkpoint_stats cs = CHECKPOINT_STATS_INIT;
	char *url, *prev, *argv[4], *check = NULL;
	json_t *doc;

	(void)state;
	instance_init(&in, "r1", 2,
		      "run: |\n"
		      "  cat $FRUGAL_CHECKPOINT_DIR/state\n"
		      "  echo more > $FRUGAL_CHECKPOINT_DIR/more\n"
		      "  exit 3\n"
		      "recovery: {max_restarts_on_errors: 1}\n", "");
	/* checkpoint 1, as attempt 1 left it */
	url = xasprintf("file://%s", in.storage);
	assert_int_equal(storage_open(url, &st, NULL), 0);
	prev = fs_path_join(in.root, "prev");
	assert_int_equal(fs_mkdir_p(prev, 0700, NULL), 0);
	{
		char *p = fs_path_join(prev, "state");
		assert_int_equal(fs_write_atomic(p, "from attempt 1\n", 15, 0600, 1, NULL), 0);
		free(p);
	}
	c = checkpoint_new(st, "jobs/r1", prev, 3, 1, NULL);
	assert_int_equal(checkpoint_upload(c, &cs, NULL), 0);
	assert_int_equal(cs.seq, 1);
	checkpoint_free(c);
	storage_free(st);

	/* no backend: nothing to end, the instance directory stays */
	argv[0] = "agent";
	argv[1] = "--instance-dir";
	argv[2] = in.dir;
	argv[3] = NULL;
	assert_int_equal(agent_main(3, argv), 0);
	doc = load_status(&in, 2);
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "failed");
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), 3);
	json_decref(doc);
	expect_log(&in, 2, "Z frugal: checkpoint 1 restored (1 files, 15 bytes)\n");
	expect_log(&in, 2, "Z from attempt 1\n");
	/* failed with a restart to come: a last checkpoint */
	expect_log(&in, 2, "Z frugal: checkpoint 2 stored (1 changed files, 5 bytes sent, "
		   "2 files in all; last");
	assert_true(fs_is_dir(in.dir));
	assert_int_equal(restore_job_checkpoint(&in, &check), 2);
	expect_content(check, "more", "more\n");
	expect_content(check, "state", "from attempt 1\n");
	free(check);
	free(prev);
	free(url);
	instance_release(&in);
}

static void test_agent_timeout_checkpoints(void **state)
{
	struct instance in;
	char *argv[] = { "agent", "--instance-dir", NULL, NULL };
	char *check = NULL;
	json_t *doc;

	(void)state;
	/* max_runtime: the job is stopped, a last checkpoint is stored and
	 * the outputs too; a periodic one ran before (interval 1s) */
	instance_init(&in, "t1", 1,
		      "run: |\n"
		      "  echo v1 > $FRUGAL_CHECKPOINT_DIR/step\n"
		      "  echo out > $FRUGAL_OUTPUT_DIR/o.txt\n"
		      "  trap 'echo v2 > $FRUGAL_CHECKPOINT_DIR/step; exit 0' TERM\n"
		      "  while true; do sleep 0.05; done\n"
		      "checkpoint: {dir: /ckpt, interval: 1s}\n"
		      "stop: {max_runtime: 2s}\n", "");
	argv[2] = in.dir;
	assert_int_equal(agent_main(3, argv), 0);
	doc = load_status(&in, 1);
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "timed_out");
	assert_int_equal(json_array_size(json_object_get(doc, "outputs")), 1);
	json_decref(doc);
	expect_log(&in, 1, "Z frugal: checkpoint 1 stored (1 changed files, 3 bytes sent, "
		   "1 files in all; periodic");
	expect_log(&in, 1, "Z frugal: checkpoint 2 stored (1 changed files, 3 bytes sent, "
		   "1 files in all; last");
	assert_int_equal(restore_job_checkpoint(&in, &check), 2);
	expect_content(check, "step", "v2\n");
	free(check);
	instance_release(&in);
}

static void test_agent_storage_down_ends_machine(void **state)
{
	struct instance in;
	char *blocker;
	pid_t pid;
	int status;
	int64_t t0;

	(void)state;
	instance_init(&in, "d1", 1, "run: 'true'\nstop: {orphan_timeout: 1s}\n",
		      ", \"backend\": \"local\"");
	/* a file where the job's prefix should be: every write fails */
	assert_int_equal(fs_mkdir_p(in.storage, 0700, NULL), 0);
	blocker = fs_path_join(in.storage, "jobs");
	assert_int_equal(fs_write_atomic(blocker, "x", 1, 0600, 1, NULL), 0);
	t0 = time_mono_ms();
	pid = start_agent_child(&in, NULL);
	status = wait_child(pid, 15000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true(time_mono_ms() - t0 >= 1000);
	/* the machine ended anyway */
	assert_false(fs_exists(in.dir));
	free(blocker);
	instance_release(&in);
}

static void test_agent_fault_after_final_status(void **state)
{
	struct instance in;
	json_t *doc;
	pid_t pid;
	int status;

	(void)state;
	instance_init(&in, "f1", 1, "run: 'exit 0'\n", ", \"backend\": \"local\"");
	pid = start_agent_child(&in, "agent.after_final_status");
	status = wait_child(pid, 15000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 99);
	/* the final status is stored; the machine was not ended yet */
	doc = load_status(&in, 1);
	assert_string_equal(json_string_value(json_object_get(doc, "outcome")), "succeeded");
	json_decref(doc);
	assert_true(fs_is_dir(in.dir));
	instance_release(&in);
}

static void test_agent_main_usage(void **state)
{
	char *argv1[] = { "agent", NULL };
	char *argv2[] = { "agent", "--instance-dir", "/nonexistent/frugal", NULL };

	(void)state;
	assert_int_equal(agent_main(1, argv1), 2);
	assert_int_equal(agent_main(3, argv2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobenv_layers),
		cmocka_unit_test(test_jobenv_no_gpus),
		cmocka_unit_test(test_jobenv_nodes),
		cmocka_unit_test(test_linesplit),
		cmocka_unit_test(test_linesplit_cap),
		cmocka_unit_test(test_linesplit_progress),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_logship_storage),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_conf_parse),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_runner_exit_and_lines),
		cmocka_unit_test(test_runner_own_group),
		cmocka_unit_test(test_runner_stop_escalates),
		cmocka_unit_test(test_runner_bad_cwd),
		cmocka_unit_test(test_agent_main_attempt),
		cmocka_unit_test(test_notice_parse),
		cmocka_unit_test(test_agent_preempt_notice),
		cmocka_unit_test(test_agent_sigusr1_kills),
		cmocka_unit_test(test_agent_restores_checkpoint),
		cmocka_unit_test(test_agent_timeout_checkpoints),
		cmocka_unit_test(test_agent_storage_down_ends_machine),
		cmocka_unit_test(test_agent_fault_after_final_status),
		cmocka_unit_test(test_agent_main_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
