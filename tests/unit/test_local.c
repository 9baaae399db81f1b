/*
 * Unit tests for the local backend: find() after a pid wrap. The agent
 * of an instance is its oldest process; when pids wrap, a process the
 * agent started later can have a lower pid. Needs root (it steers the
 * next pid through /proc/sys/kernel/ns_last_pid); skipped otherwise.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/provider.h"
#include "base/fs.h"
#include "base/xalloc.h"

/* Make the next pid after last; 0 or -1 when this process may not. */
static int next_pid_after(long last)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "we");
	int r;

	if (!f)
		return -1;
	r = fprintf(f, "%ld", last) > 0 ? 0 : -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

static long pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	long v = 32768;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 32768;
		fclose(f);
	}
	return v;
}

/* A process of instance token of home: sleep with the markers. */
static pid_t start_marked(const char *home, const char *token)
{
	char *env[3];
	pid_t pid;

	env[0] = xasprintf("FRUGAL_INSTANCE=%s", token);
	env[1] = xasprintf("FRUGAL_HOME=%s", home);
	env[2] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execle("/bin/sleep", "sleep", "30", (char *)NULL, env);
		_exit(127);
	}
	free(env[0]);
	free(env[1]);
	return pid;
}

static void test_local_find_after_pid_wrap(void **state)
{
	char home[] = "/tmp/frugal-test-local-XXXXXX";
	struct provider *p = NULL;
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	pid_t old, young;
	char *id = NULL, *want;

	(void)state;
	if (next_pid_after(pid_max() - 300) < 0) {
		print_message("skipped: cannot set the next pid (needs root)\n");
		return;
	}
	assert_non_null(mkdtemp(home));
	old = start_marked(home, "wrap-1");
	nanosleep(&tick, NULL);		/* a later start time, by several ticks */
	assert_int_equal(next_pid_after(300), 0);
	young = start_marked(home, "wrap-1");
	if (young > old) {
		print_message("skipped: the pids did not wrap (%d, %d)\n", (int)old, (int)young);
	} else {
		char *dir = xasprintf("%s/instances/wrap-1", home);

		nanosleep(&tick, NULL);	/* both have exec'd: markers in place */
		/* An instance with files and no cgroup: one the process scan
		 * finds, whether cgroups are on here or not. */
		assert_int_equal(fs_mkdir_p(dir, 0700, NULL), 0);
		free(dir);
		assert_int_equal(provider_open("local", NULL, home, &p, NULL), 0);
		assert_int_equal(p->ops->find(p, "wrap-1", NULL, &id, NULL), 0);
		assert_non_null(id);
		want = xasprintf("%d:", (int)old);
		if (strncmp(id, want, strlen(want)))
			fail_msg("find chose '%s'; the oldest process is %d (the younger is %d)", id,
				 (int)old, (int)young);
		free(want);
		free(id);
		provider_free(p);
	}
	kill(old, SIGKILL);
	kill(young, SIGKILL);
	waitpid(old, NULL, 0);
	waitpid(young, NULL, 0);
	fs_remove_tree(home, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_find_after_pid_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
