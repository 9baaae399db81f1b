/*
 * Unit tests for contract/: the storage key layout, agent.json and
 * status.json rendered and read back unchanged, and malformed documents
 * refused with an error that names the field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "contract/agentdoc.h"
#include "contract/key.h"
#include "contract/status.h"
#include "spec/task.h"

/* ---- keys ---- */

static void check_key(char *got, const char *want)
{
	assert_string_equal(got, want);
	assert_true(key_valid(got));
	free(got);
}

static void test_key_layout(void **state)
{
	char *p = key_job_prefix("k3m9xq");

	(void)state;
	assert_string_equal(p, "jobs/k3m9xq");
	check_key(key_status(p, 2), "jobs/k3m9xq/attempts/2/status.json");
	check_key(key_attempt(p, 1, KEY_AGENT_NAME), "jobs/k3m9xq/attempts/1/agent.json");
	check_key(key_attempt(p, 3, KEY_SECRETS_NAME), "jobs/k3m9xq/attempts/3/secrets.sealed");
	check_key(key_log(p, 12), "jobs/k3m9xq/logs/attempt-12.log");
	check_key(key_checkpoints(p), "jobs/k3m9xq/checkpoints");
	check_key(key_outputs(p, NULL), "jobs/k3m9xq/outputs");
	check_key(key_outputs(p, "weights/a.pth"), "jobs/k3m9xq/outputs/weights/a.pth");
	check_key(key_job(p, "workdir.tar"), "jobs/k3m9xq/workdir.tar");
	free(p);
	p = key_outputs_url("file:///s", "jobs/k3m9xq");
	assert_string_equal(p, "file:///s/jobs/k3m9xq/outputs");
	free(p);
}

static void test_key_valid(void **state)
{
	static const char *const good[] = { "a", "a/b.c", "a..b", ".hidden", "a/.b", "spaces ok" };
	static const char *const bad[] = { "", "/a", "a/", "a//b", ".", "..", "a/../b", "a/./b",
					   "a\nb", "a\x7f" };
	char *long_key = xcalloc(KEY_MAX + 2, 1);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(key_valid(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(key_valid(bad[i]));
	assert_false(key_valid(NULL));
	memset(long_key, 'a', KEY_MAX + 1);
	assert_false(key_valid(long_key));
	long_key[KEY_MAX] = '\0';
	assert_true(key_valid(long_key));
	free(long_key);
}

/* ---- agent.json ---- */

static char *task_json_of(const char *yaml)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct task t;
	char *json;

	assert_int_equal(task_parse_buffer(yaml, strlen(yaml), "test.yaml", "/", &t, &dl), 0);
	json = task_to_json(&t);
	task_release(&t);
	diag_list_release(&dl);
	return json;
}

static void test_agent_doc_round_trip(void **state)
{
	struct agent_doc d = AGENT_DOC_INIT, back = AGENT_DOC_INIT;
	struct error err = ERROR_INIT;
	struct task t;
	json_t *task;
	char *text;

	(void)state;
	d.job_id = xstrdup("k3m9xq");
	d.attempt = 2;
	d.restart_count = 1;
	d.backend = xstrdup("local");
	d.storage_url = xstrdup("file:///home/u/.frugal/storage");
	d.job_prefix = xstrdup("jobs/k3m9xq");
	d.controller_socket = xstrdup("/home/u/.frugal/controller.sock");
	agent_doc_set_gpus(&d, "0,3");
	d.gpus_env = xstrdup("CUDA_VISIBLE_DEVICES");
	d.work_dir = xstrdup("work");
	d.checkpoint_dir = xstrdup("/ckpt");
	d.output_dir = xstrdup("outputs");
	d.outputs_url = xstrdup("file:///home/u/.frugal/storage/jobs/k3m9xq/outputs");
	d.container_image = xstrdup("localhost/frugal-test:bullseye");
	d.container_runtime = xstrdup("podman");
	d.container_name = xstrdup("frugal-1a2b3c4d-k3m9xq-2");
	d.task_json = task_json_of("workdir: /tmp\nrun: echo hi\n");
	agent_doc_set_task_workdir(&d, "src");
	text = agent_doc_to_json(&d);

	task_init(&t);
	assert_int_equal(agent_doc_parse(text, "agent.json", &back, &t, &err), 0);
	assert_string_equal(back.job_id, "k3m9xq");
	assert_int_equal(back.attempt, 2);
	assert_int_equal(back.restart_count, 1);
	assert_string_equal(back.backend, "local");
	assert_string_equal(back.storage_url, d.storage_url);
	assert_string_equal(back.job_prefix, "jobs/k3m9xq");
	assert_string_equal(back.controller_socket, d.controller_socket);
	assert_int_equal(back.n_gpus, 2);
	assert_string_equal(back.gpus[0], "0");
	assert_string_equal(back.gpus[1], "3");
	assert_string_equal(back.gpus_env, "CUDA_VISIBLE_DEVICES");
	assert_string_equal(back.work_dir, "work");
	assert_string_equal(back.checkpoint_dir, "/ckpt");
	assert_string_equal(back.output_dir, "outputs");
	assert_string_equal(back.outputs_url, d.outputs_url);
	assert_string_equal(back.container_image, "localhost/frugal-test:bullseye");
	assert_string_equal(back.container_runtime, "podman");
	assert_string_equal(back.container_name, "frugal-1a2b3c4d-k3m9xq-2");
	assert_string_equal(t.run, "echo hi");
	assert_string_equal(t.workdir, "src");
	task = json_loads(back.task_json, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(task, "workdir")), "src");
	json_decref(task);
	task_release(&t);
	agent_doc_release(&back);
	free(text);

	/* Optional fields left out stay out; a trailing '/' of the prefix goes. */
	agent_doc_release(&d);
	d.job_id = xstrdup("a");
	d.attempt = 1;
	d.storage_url = xstrdup("s3://b/p");
	d.job_prefix = xstrdup("jobs/a//");
	d.task_json = task_json_of("run: echo hi\n");
	agent_doc_set_task_workdir(&d, NULL);
	text = agent_doc_to_json(&d);
	assert_null(strstr(text, "controller_socket"));
	assert_null(strstr(text, "work_dir"));
	assert_int_equal(agent_doc_parse(text, "agent.json", &back, NULL, &err), 0);
	assert_string_equal(back.job_prefix, "jobs/a");
	assert_null(back.backend);
	assert_null(back.controller_socket);
	assert_null(back.gpus_env);
	assert_null(back.work_dir);
	assert_null(back.outputs_url);
	assert_null(back.container_image);
	assert_null(back.container_runtime);
	assert_null(back.container_name);
	assert_int_equal(back.n_gpus, 0);
	agent_doc_release(&back);
	agent_doc_release(&d);
	free(text);
}

static void expect_doc_error(const char *text, const char *want)
{
	struct agent_doc d = AGENT_DOC_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(agent_doc_parse(text, "/x/agent.json", &d, NULL, &err), FRUGAL_EINVAL);
	if (!strstr(err.msg, want) || !strstr(err.msg, "'/x/agent.json'"))
		fail_msg("'%s': got '%s', wanted '%s'", text, err.msg, want);
	assert_null(d.job_id);
}

static void test_agent_doc_errors(void **state)
{
	char *task = task_json_of("run: echo hi\n");
	char *t;

	(void)state;
	expect_doc_error("{", "not valid JSON");
	expect_doc_error("[]", "expected a JSON object");
	expect_doc_error("{}", "field 'job_id' is missing");
	expect_doc_error("{\"job_id\": \"a b\"}", "field 'job_id': expected letters");
	expect_doc_error("{\"job_id\": \"a\", \"job_id\": \"b\"}", "not valid JSON");
	expect_doc_error("{\"job_id\": \"a\", \"attempt\": 0}", "field 'attempt': expected an integer >= 1");
	expect_doc_error("{\"job_id\": \"a\", \"attempt\": 1, \"restart_count\": -1}",
			 "field 'restart_count'");
	expect_doc_error("{\"job_id\": \"a\", \"attempt\": 1}", "field 'storage_url' is missing");
	expect_doc_error("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"\"}",
			 "field 'storage_url': expected a non-empty string");
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"../x\", \"task\": %s}", task);
	expect_doc_error(t, "field 'job_prefix': expected a relative storage key");
	free(t);
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"j\", \"gpus\": [\"0,1\"], \"task\": %s}", task);
	expect_doc_error(t, "field 'gpus[0]': expected a device id");
	free(t);
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"j\", \"gpus_env\": 3, \"task\": %s}", task);
	expect_doc_error(t, "field 'gpus_env': expected the name of an environment variable");
	free(t);
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"j\", \"work_dir\": [], \"task\": %s}", task);
	expect_doc_error(t, "field 'work_dir'");
	free(t);
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"j\", \"container_runtime\": \"lxc\", \"task\": %s}", task);
	expect_doc_error(t, "field 'container_runtime': expected 'docker' or 'podman'");
	free(t);
	t = xasprintf("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
		      "\"job_prefix\": \"j\", \"container_name\": \"a;rm -rf\", \"task\": %s}",
		      task);
	expect_doc_error(t, "field 'container_name': expected letters");
	free(t);
	expect_doc_error("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
			 "\"job_prefix\": \"j\"}", "field 'task' is missing");
	expect_doc_error("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
			 "\"job_prefix\": \"j\", \"task\": []}", "field 'task': expected an object");
	expect_doc_error("{\"job_id\": \"a\", \"attempt\": 1, \"storage_url\": \"file:///s\", "
			 "\"job_prefix\": \"j\", \"task\": {\"run\": 5}}", "field 'task': ");
	free(task);
}

/* ---- status.json ---- */

static void test_status_round_trip(void **state)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT, back = ATTEMPT_STATUS_INIT;
	struct error err = ERROR_INIT;
	char *text;

	(void)state;
	s.job_id = xstrdup("k3m9xq");
	s.attempt = 2;
	s.phase = PHASE_EXITED;
	s.agent_pid = 42;
	s.job_pgid = 43;
	s.started_at = 1795335303123LL;
	s.heartbeat_at = 1795335304000LL;
	s.ended_at = 1795335309000LL;
	s.outcome = OUTCOME_FAILED;
	s.has_exit_code = 1;
	s.exit_code = -3;
	attempt_status_set_reason(&s, "exit %d", 3);
	attempt_status_add_output(&s, "weights/model.pth");
	attempt_status_add_output(&s, "logs/");
	s.metrics_json = xstrdup("{\"loss\":0.25,\"step\":7}");
	text = attempt_status_to_json(&s);
	assert_int_equal(attempt_status_parse(text, strlen(text), &back, &err), 0);
	assert_string_equal(back.job_id, "k3m9xq");
	assert_int_equal(back.attempt, 2);
	assert_int_equal(back.phase, PHASE_EXITED);
	assert_int_equal(back.agent_pid, 42);
	assert_int_equal(back.job_pgid, 43);
	assert_int_equal(back.started_at, s.started_at);
	assert_int_equal(back.heartbeat_at, s.heartbeat_at);
	assert_int_equal(back.ended_at, s.ended_at);
	assert_int_equal(back.outcome, OUTCOME_FAILED);
	assert_true(back.has_exit_code);
	assert_int_equal(back.exit_code, -3);
	assert_string_equal(back.reason, "exit 3");
	assert_int_equal(back.n_outputs, 2);
	assert_string_equal(back.outputs[0], "weights/model.pth");
	assert_string_equal(back.outputs[1], "logs/");
	assert_string_equal(back.metrics_json, "{\"loss\":0.25,\"step\":7}");
	attempt_status_release(&back);
	free(text);

	/* Each phase and outcome by its name. */
	for (s.phase = PHASE_STARTING; s.phase <= PHASE_EXITED; s.phase++) {
		enum attempt_phase p;

		assert_int_equal(attempt_phase_from_name(attempt_phase_name(s.phase), &p), 0);
		assert_int_equal(p, s.phase);
	}
	for (s.outcome = OUTCOME_SUCCEEDED; s.outcome <= OUTCOME_PREEMPTED; s.outcome++) {
		enum attempt_outcome o;

		assert_int_equal(attempt_outcome_parse(attempt_outcome_name(s.outcome), &o), 0);
		assert_int_equal(o, s.outcome);
	}
	attempt_status_release(&s);
}

/* What older writers and hand-made test documents hold still reads. */
static void test_status_lenient(void **state)
{
	static const char minimal[] = "{\"phase\": \"running\", \"outcome\": null}";
	static const char newer[] = "{\"phase\": \"setup\", \"gpu_temp\": [71, 72]}";
	struct attempt_status s = ATTEMPT_STATUS_INIT;

	(void)state;
	assert_int_equal(attempt_status_parse(minimal, strlen(minimal), &s, NULL), 0);
	assert_int_equal(s.phase, PHASE_RUNNING);
	assert_int_equal(s.outcome, OUTCOME_NONE);
	assert_null(s.job_id);
	assert_false(s.has_exit_code);
	attempt_status_release(&s);
	assert_int_equal(attempt_status_parse(newer, strlen(newer), &s, NULL), 0);
	assert_int_equal(s.phase, PHASE_SETUP);
	attempt_status_release(&s);
}

static void expect_status_error(const char *text, const char *want)
{
	struct attempt_status s = ATTEMPT_STATUS_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(attempt_status_parse(text, strlen(text), &s, &err), FRUGAL_EINVAL);
	if (!strstr(err.msg, want) || strncmp(err.msg, "status.json", 11))
		fail_msg("'%s': got '%s', wanted '%s'", text, err.msg, want);
	assert_null(s.job_id);
	assert_int_equal(s.n_outputs, 0);
}

static void test_status_errors(void **state)
{
	(void)state;
	expect_status_error("", "not valid JSON");
	expect_status_error("{\"phase\": \"run", "not valid JSON");
	expect_status_error("[1]", "expected a JSON object");
	expect_status_error("{}", "field 'phase' is missing");
	expect_status_error("{\"phase\": \"flying\"}", "field 'phase': expected one of");
	expect_status_error("{\"phase\": 3}", "field 'phase'");
	expect_status_error("{\"phase\": \"running\", \"phase\": \"exited\"}", "not valid JSON");
	expect_status_error("{\"phase\": \"exited\", \"outcome\": \"won\"}", "field 'outcome'");
	expect_status_error("{\"phase\": \"running\", \"outcome\": \"succeeded\"}",
			    "field 'outcome' is set but phase is 'running'");
	expect_status_error("{\"phase\": \"running\", \"job_id\": 7}",
			    "field 'job_id': expected a string");
	expect_status_error("{\"phase\": \"running\", \"attempt\": 0}",
			    "field 'attempt': expected an integer >= 1");
	expect_status_error("{\"phase\": \"running\", \"agent_pid\": -1}", "field 'agent_pid'");
	expect_status_error("{\"phase\": \"running\", \"job_pgid\": \"7\"}", "field 'job_pgid'");
	expect_status_error("{\"phase\": \"running\", \"heartbeat_at\": 1.5}",
			    "field 'heartbeat_at'");
	expect_status_error("{\"phase\": \"running\", \"ended_at\": -1}", "field 'ended_at'");
	expect_status_error("{\"phase\": \"exited\", \"outcome\": \"failed\", "
			    "\"exit_code\": 4294967296}", "field 'exit_code'");
	expect_status_error("{\"phase\": \"running\", \"reason\": []}", "field 'reason'");
	expect_status_error("{\"phase\": \"running\", \"outputs\": {}}",
			    "field 'outputs': expected an array");
	expect_status_error("{\"phase\": \"running\", \"outputs\": [\"a\", 2]}",
			    "field 'outputs[1]': expected a string");
	expect_status_error("{\"phase\": \"running\", \"metrics\": 1}",
			    "field 'metrics': expected an object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_layout),
		cmocka_unit_test(test_key_valid),
		cmocka_unit_test(test_agent_doc_round_trip),
		cmocka_unit_test(test_agent_doc_errors),
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_status_lenient),
		cmocka_unit_test(test_status_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
