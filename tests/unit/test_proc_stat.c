/*
 * Unit tests for base/proc_stat: a stat line whose command name holds
 * spaces and parentheses (even ") R 1 2") is read from the last ')';
 * broken lines are refused; this process and its child read back with
 * the right parent, group, state and a start time that does not change;
 * a reaped child reads as gone; proc_stat_each sees this process.
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
#include <unistd.h>

#include "base/error.h"
#include "base/proc_stat.h"

/* A stat line with comm, state, ppid, pgrp and start time in place. */
static int parse_line(const char *comm, char state, int ppid, int pgid,
		      unsigned long long start, struct proc_stat *ret)
{
	char line[1024];

	snprintf(line, sizeof(line), "4242 (%s) %c %d %d %d 0 -1 4194560 100 0 0 0 3 1 0 0 20 0"
		 " 1 0 %llu 2195456 123 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 3 0 0"
		 " 0 0 0\n", comm, state, ppid, pgid, pgid, start);
	return proc_stat_parse(line, strlen(line), ret);
}

static void test_parse_odd_names(void **state)
{
	static const char *names[] = { "sleep", "my prog", "a) b (c", ") R 1 2 3", "((", "" };
	struct proc_stat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&st, 0, sizeof(st));
		assert_int_equal(parse_line(names[i], 'S', 77, 4242, 987654321ULL, &st), 0);
		assert_int_equal(st.pid, 4242);
		assert_int_equal(st.state, 'S');
		assert_int_equal(st.ppid, 77);
		assert_int_equal(st.pgid, 4242);
		assert_true(st.start_time == 987654321ULL);
		assert_false(proc_stat_exited(&st));
	}
	assert_int_equal(parse_line("zombie", 'Z', 1, 1, 5, &st), 0);
	assert_true(proc_stat_exited(&st));
}

static void test_parse_refused(void **state)
{
	static const char *bad[] = {
		"", "4242", "4242 sleep S 1 1", "4242 (sleep S 1 1", "(sleep) S 1 1",
		"4242 (sleep) S 1 1 1 0 -1",		/* stops before field 22 */
		"4242 (sleep)", "4242 (sleep) ", "0 (x) S 1 1", "-3 (x) S 1 1",
		"4242 (sleep) S x 1 1 0 -1 4 1 0 0 0 3 1 0 0 20 0 1 0 99\n",
	};
	struct proc_stat st = { .pid = -7 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(proc_stat_parse(bad[i], strlen(bad[i]), &st), FRUGAL_EINVAL);
	assert_int_equal(st.pid, -7);	/* untouched */
}

static int find_self(const struct proc_stat *st, void *arg)
{
	return st->pid == *(int *)arg ? 1 : 0;
}

static void test_read_live(void **state)
{
	struct proc_stat self, child, again;
	siginfo_t si;
	int self_pid = (int)getpid(), status;
	pid_t pid;

	(void)state;
	assert_int_equal(proc_stat_read(self_pid, &self), 0);
	assert_int_equal(self.pid, self_pid);
	assert_int_equal(self.ppid, (int)getppid());
	assert_int_equal(self.pgid, (int)getpgrp());
	assert_int_equal(self.state, 'R');
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	setpgid(pid, pid);
	assert_int_equal(proc_stat_read((int)pid, &child), 0);
	assert_int_equal(child.ppid, self_pid);
	assert_int_equal(child.pgid, (int)pid);
	assert_true(child.start_time >= self.start_time);
	assert_int_equal(proc_stat_read((int)pid, &again), 0);
	assert_true(again.start_time == child.start_time);
	kill(pid, SIGKILL);
	assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	assert_int_equal(proc_stat_read((int)pid, &child), 0);
	assert_true(proc_stat_exited(&child));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(proc_stat_read((int)pid, &child), FRUGAL_ENOTFOUND);
	assert_int_equal(proc_stat_read(0, &child), FRUGAL_ENOTFOUND);
	assert_int_equal(proc_stat_each(find_self, &self_pid), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_odd_names),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_read_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
