/*
 * Unit tests for image_id docker:IMAGE on a machine: agent/container.h
 * (the host script a step runs as) and backend/common/container.h (the
 * runtime found, names, removal). The runtime is a fake `podman` script
 * on PATH that records its calls and plays the container by running the
 * exec'd command on this machine, so the scripts really run: what the
 * runtime is given on its command line, which environment reaches the
 * job, exit codes and signals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/container.h"
#include "backend/common/container.h"
#include "backend/common/hometag.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

static char dir[] = "/tmp/frugal-test-container-XXXXXX";
static char *old_path;

static const char fake[] =
	"#!/bin/sh\n"
	"d=$FAKE_DIR\n"
	"case \"$1\" in\n"
	"version) exit 0;;\n"
	"container) [ -e \"$d/up\" ]; exit $?;;\n"
	"run) echo \"run $*\" >>\"$d/calls\"; touch \"$d/up\"; exit 0;;\n"
	"ps) cat \"$d/ps\" 2>/dev/null; exit 0;;\n"
	"rm) echo \"rm $*\" >>\"$d/calls\"; exit 0;;\n"
	"exec) shift\n"
	"  case \"$*\" in *'kill -s '*)\n"
	"    echo \"kill $*\" >>\"$d/calls\"\n"
	"    s=${*##*kill -s }; s=${s%% *}\n"
	"    kill -s \"$s\" \"$(cat \"$d/job.pid\")\"; exit 0;; esac\n"
	"  echo \"exec $*\" >>\"$d/calls\"\n"
	"  names=\n"
	"  while [ \"$1\" = -e ]; do names=\"$names $2\"; shift 2; done\n"
	"  [ \"$1\" = -w ] && { cd \"$2\" || exit 126; shift 2; }\n"
	"  shift\n"
	"  for n in $names; do eval \"v=\\${$n-}\"; echo \"$n=$v\" >>\"$d/env\"; done\n"
	"  \"$@\" & echo $! >\"$d/job.pid\"; wait $!; exit $?;;\n"
	"esac\n"
	"exit 2\n";

static int setup(void **state)
{
	char *path, *p;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	path = fs_path_join(dir, "podman");
	if (fs_write_atomic(path, fake, strlen(fake), 0755, 0, NULL) < 0)
		return -1;
	free(path);
	old_path = xstrdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	/* The fake first; no docker (it lives in /usr/local/bin, if at all). */
	p = xasprintf("%s:/usr/bin:/bin", dir);
	setenv("PATH", p, 1);
	setenv("FAKE_DIR", dir, 1);
	free(p);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	setenv("PATH", old_path, 1);
	free(old_path);
	return fs_remove_tree(dir, NULL);
}

/* A file of dir as text ("" when absent; caller frees). */
static char *read_fake(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = fs_path_join(dir, name);

	fs_read_file(path, 1 << 20, &sb, NULL);
	free(path);
	return strbuf_detach(&sb, NULL);
}

static void reset_fake(void)
{
	const char *names[] = { "calls", "env", "up", "ps", "job.pid", NULL };
	size_t i;

	for (i = 0; names[i]; i++) {
		char *path = fs_path_join(dir, names[i]);
		unlink(path);
		free(path);
	}
}

/* An agent_conf for job k3m9xq attempt 2 in dir, with image. */
static void conf_for(struct agent_conf *c, const char *image, int gpus)
{
	memset(c, 0, sizeof(*c));
	task_init(&c->task);
	c->instance_dir = xstrdup(dir);
	c->job_id = xstrdup("k3m9xq");
	c->attempt = 2;
	c->work_dir = fs_path_join(dir, "work");
	c->checkpoint_dir = xstrdup("/ckpt");
	c->output_dir = fs_path_join(dir, "outputs");
	c->metrics_file = fs_path_join(dir, "metrics.jsonl");
	c->container_image = image ? xstrdup(image) : NULL;
	kvlist_set(&c->task.envs, "LR", "0.001");
	kvlist_set(&c->task.secrets, "WANDB_API_KEY", NULL);
	if (gpus) {
		c->gpus = xcalloc(1, sizeof(*c->gpus));
		c->gpus[0] = xstrdup("0");
		c->n_gpus = 1;
	}
	fs_mkdir_p(c->work_dir, 0700, NULL);
}

/* Run the step script with the job's environment; the wait status. */
static int run_step(const char *script)
{
	char *const env[] = { (char *)"PATH=", (char *)"LR=0.001",
			      (char *)"WANDB_API_KEY=s3cr3t-value", (char *)"FRUGAL_JOB_ID=k3m9xq",
			      (char *)"HOME=/root", NULL, NULL };
	char *path_env = xasprintf("PATH=%s", getenv("PATH")), *fake_env;
	char *envp[8];
	int status = -1, i;
	pid_t pid;

	for (i = 0; env[i]; i++)
		envp[i] = env[i];
	envp[0] = path_env;
	fake_env = xasprintf("FAKE_DIR=%s", dir);
	envp[i++] = fake_env;
	envp[i] = NULL;
	pid = fork();
	if (pid == 0) {
		setsid();
		execle("/bin/sh", "sh", "-c", script, (char *)NULL, envp);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	free(path_env);
	free(fake_env);
	return status;
}

static void test_container_none_without_image(void **state)
{
	struct agent_conf c;
	struct container *k = (struct container *)1;

	(void)state;
	conf_for(&c, NULL, 0);
	assert_int_equal(container_new(&c, &k, NULL), 0);
	assert_null(k);
	agent_conf_release(&c);
}

static void test_container_runtime_missing_is_refused(void **state)
{
	struct agent_conf c;
	struct container *k = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_string_equal(container_runtime_find(NULL), "podman");
	assert_null(container_runtime_find("docker"));
	conf_for(&c, "pytorch/pytorch:2.3", 0);
	c.container_runtime = xstrdup("docker");
	assert_int_equal(container_new(&c, &k, &err), FRUGAL_ENOTFOUND);
	assert_null(k);
	assert_non_null(strstr(error_msg(&err), "image_id docker:pytorch/pytorch:2.3 needs a "
						"container runtime"));
	agent_conf_release(&c);
}

/* Setup then run: one container for both, started once, the job's
 * environment by name only, the directories bind-mounted. */
static void test_container_steps_share_one_container(void **state)
{
	struct agent_conf c;
	struct container *k = NULL;
	char *s, *calls, *env, *out;
	int st;

	(void)state;
	reset_fake();
	conf_for(&c, "localhost/frugal-test:bullseye", 1);
	assert_int_equal(container_new(&c, &k, NULL), 0);
	assert_non_null(k);
	assert_string_equal(container_describe(k), "podman container frugal-k3m9xq-2 of "
			    "localhost/frugal-test:bullseye");
	s = container_step_script(k, "echo \"it's $LR\" > out.txt");
	st = run_step(s);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	free(s);
	s = container_step_script(k, "exit 7");
	st = run_step(s);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 7);
	free(s);
	/* 137 is the OOM killer's SIGKILL: the step dies by it too. */
	s = container_step_script(k, "exit 137");
	st = run_step(s);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	free(s);

	calls = read_fake("calls");
	env = read_fake("env");
	out = fs_path_join(c.work_dir, "out.txt");
	{
		struct strbuf sb = STRBUF_INIT;
		assert_int_equal(fs_read_file(out, 1024, &sb, NULL), 0);
		assert_string_equal(sb.buf, "it's 0.001\n");
		strbuf_release(&sb);
	}
	/* Started once, by the first step. */
	assert_non_null(strstr(calls, "run run -d --rm --name frugal-k3m9xq-2 --network host "
				      "--stop-signal KILL --device nvidia.com/gpu=all -v"));
	assert_null(strstr(strstr(calls, "run run") + 1, "run run"));
	assert_non_null(strstr(calls, " -v /ckpt:/ckpt "));
	{
		char *mount = xasprintf(" -v %s:%s ", dir, dir);
		assert_non_null(strstr(calls, mount));	/* work, outputs, metrics below it */
		free(mount);
	}
	assert_non_null(strstr(calls, " localhost/frugal-test:bullseye sleep 2147483647"));
	/* Names on the command line, values only in the environment. */
	assert_non_null(strstr(calls, "exec -e LR -e WANDB_API_KEY -e FRUGAL_JOB_ID"));
	assert_null(strstr(calls, "s3cr3t"));
	assert_null(strstr(calls, "-e HOME"));
	assert_null(strstr(calls, "-e PATH"));
	assert_non_null(strstr(env, "WANDB_API_KEY=s3cr3t-value\n"));
	assert_non_null(strstr(env, "FRUGAL_JOB_ID=k3m9xq\n"));
	free(out);
	free(calls);
	free(env);

	assert_int_equal(container_end(k, NULL), 0);
	calls = read_fake("calls");
	assert_non_null(strstr(calls, "rm rm -f frugal-k3m9xq-2\n"));
	free(calls);
	container_free(k);
	agent_conf_release(&c);
}

/* The runner's SIGTERM reaches the job inside; its exit code comes back. */
static void test_container_signal_reaches_the_job(void **state)
{
	struct agent_conf c;
	struct container *k = NULL;
	char *s, *calls, *pidfile;
	int st = -1, i;
	pid_t pid;

	(void)state;
	reset_fake();
	conf_for(&c, "img", 0);
	assert_int_equal(container_new(&c, &k, NULL), 0);
	s = container_step_script(k, "trap 'echo got TERM > term.txt; kill $!; exit 143' TERM; "
				     "sleep 30 & wait");
	pidfile = fs_path_join(dir, "job.pid");
	pid = fork();
	if (pid == 0) {
		setsid();
		execl("/bin/sh", "sh", "-c", s, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && access(pidfile, F_OK) != 0; i++)
		usleep(10000);
	usleep(200000);	/* the job's trap is set */
	kill(-pid, SIGTERM);
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 143);
	calls = read_fake("calls");
	assert_non_null(strstr(calls, "kill frugal-k3m9xq-2 sh -c kill -s TERM -- -1"));
	assert_null(strstr(calls, "--device"));	/* no GPUs planned: none passed */
	free(calls);
	{
		char *term = fs_path_join(c.work_dir, "term.txt");
		assert_int_equal(access(term, F_OK), 0);
		free(term);
	}
	free(pidfile);
	free(s);
	container_free(k);
	agent_conf_release(&c);
}

/* Teardown and gc find this home's containers only. */
static void test_container_remove_and_list_by_home(void **state)
{
	char *home = fs_path_join(dir, "home");
	char *tag, *name;
	char *ps, *calls, *want;
	char *path = fs_path_join(dir, "ps");
	struct kvlist l = { 0 };
	int n = -1;

	(void)state;
	reset_fake();
	fs_mkdir_p(home, 0700, NULL);
	tag = home_tag(home);
	name = container_name(home, "ab-1");
	ps = xasprintf("frugal-%s-ab-1\nfrugal-%s-cd-2\n", tag, tag);
	want = xasprintf("frugal-%s-ab-1", tag);
	assert_string_equal(name, want);
	free(want);
	assert_int_equal(fs_write_atomic(path, ps, strlen(ps), 0600, 0, NULL), 0);
	/* A home that never started a container asks no runtime. */
	assert_int_equal(container_list(NULL, home, &l, NULL), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(container_remove(NULL, home, NULL, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(container_mark_home(home, NULL), 0);
	assert_int_equal(container_list(NULL, home, &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(kvlist_get(&l, "ab-1"), "container");
	assert_string_equal(kvlist_get(&l, "cd-2"), "container");
	assert_int_equal(container_remove(NULL, home, NULL, &n, NULL), 0);
	assert_int_equal(n, 2);
	calls = read_fake("calls");
	want = xasprintf("rm rm -f frugal-%s-ab-1\nrm rm -f frugal-%s-cd-2\n", tag, tag);
	assert_string_equal(calls, want);
	free(want);
	free(calls);
	kvlist_release(&l);
	free(path);
	free(ps);
	free(name);
	free(tag);
	free(home);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_none_without_image),
		cmocka_unit_test(test_container_runtime_missing_is_refused),
		cmocka_unit_test(test_container_steps_share_one_container),
		cmocka_unit_test(test_container_signal_reaches_the_job),
		cmocka_unit_test(test_container_remove_and_list_by_home),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
