/*
 * Unit tests for agent/reaper: this test process is made a child
 * subreaper; daemons that double-fork and setsid() are reparented to it
 * and reaper_end ends them; what is kept and what libuv spawned is left
 * alone, and libuv still gets its child's exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/reaper.h"
#include "base/timeutil.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* The parent and state of pid from /proc; 0 when it is gone. */
static int proc_parent(int pid, char *ret_state)
{
	char path[64], buf[512];
	const char *paren;
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	paren = strrchr(buf, ')');
	if (!paren || sscanf(paren + 1, " %c %d", ret_state, &ppid) != 2)
		return 0;
	return ppid;
}

/* Wait (up to 5 s) until pid's parent is this process. */
static void wait_adopted(int pid)
{
	char state;
	int i;

	for (i = 0; i < 500; i++) {
		if (proc_parent(pid, &state) == (int)getpid())
			return;
		sleep_ms(10);
	}
	fail_msg("process %d was not reparented to the subreaper", pid);
}

static int gone(int pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/*
 * A daemon the way `setsid cmd &` in a script that then exits makes one:
 * a child that setsid()s, forks the daemon and exits. mode 0: the daemon
 * sleeps; 1: it ignores SIGTERM; 2: it forks a second daemon of its own
 * (whose pid it writes after its own); 3: it exits after 50 ms. Returns
 * the daemon's pid (and the second one in *ret_second).
 */
static int start_daemon(int mode, int *ret_second)
{
	int fds[2], pids[2] = { 0, 0 }, status;
	pid_t mid;

	assert_int_equal(pipe(fds), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		pid_t d;

		close(fds[0]);
		setsid();
		d = fork();
		if (d == 0) {
			int self = (int)getpid();

			if (mode == 1)
				signal(SIGTERM, SIG_IGN);
			if (mode == 2) {
				pid_t second = fork();
				if (second == 0) {
					setsid();
					for (;;)
						pause();
				}
				int both[2] = { self, (int)second };
				(void)!write(fds[1], both, sizeof(both));
			} else {
				int both[2] = { self, 0 };
				(void)!write(fds[1], both, sizeof(both));
			}
			if (mode == 3) {
				sleep_ms(50);
				_exit(0);
			}
			for (;;)
				pause();
		}
		_exit(d > 0 ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], pids, sizeof(pids)), (ssize_t)sizeof(pids));
	close(fds[0]);
	assert_int_equal(waitpid(mid, &status, 0), mid);
	if (ret_second)
		*ret_second = pids[1];
	return pids[0];
}

static struct reaper *new_reaper(uv_loop_t *loop)
{
	struct reaper *r = NULL;
	struct error err = ERROR_INIT;

	assert_int_equal(reaper_new(loop, &r, &err), 0);
	assert_non_null(r);
	return r;
}

/* A double-forked, setsid'd daemon is reparented here and ended. */
static void test_double_fork_setsid_ended(void **state)
{
	struct reaper *r = new_reaper(NULL);
	int left = -1, pid;

	(void)state;
	pid = start_daemon(0, NULL);
	wait_adopted(pid);
	assert_int_equal(reaper_end(r, 1000, &left), 1);
	assert_int_equal(left, 0);
	assert_true(gone(pid));
	assert_int_equal(reaper_end(r, 1000, &left), 0);	/* nothing left */
	reaper_free(r);
}

/* One that ignores SIGTERM gets SIGKILL after the grace, not before. */
static void test_term_ignored_killed_after_grace(void **state)
{
	struct reaper *r = new_reaper(NULL);
	int64_t t0;
	int left = -1, pid;

	(void)state;
	pid = start_daemon(1, NULL);
	wait_adopted(pid);
	t0 = time_mono_ms();
	assert_int_equal(reaper_end(r, 300, &left), 1);
	assert_true(time_mono_ms() - t0 >= 300);
	assert_int_equal(left, 0);
	assert_true(gone(pid));
	reaper_free(r);
}

/* A daemon with a daemon of its own: both ended (the second is
 * reparented here when the first dies). */
static void test_daemon_tree_ended(void **state)
{
	struct reaper *r = new_reaper(NULL);
	int left = -1, pid, second = 0;

	(void)state;
	pid = start_daemon(2, &second);
	assert_true(second > 0);
	wait_adopted(pid);
	assert_int_equal(reaper_end(r, 1000, &left), 2);
	assert_int_equal(left, 0);
	assert_true(gone(pid));
	assert_true(gone(second));
	reaper_free(r);
}

/* The zombie of an orphan that exited on its own is reaped. */
static void test_orphan_zombie_reaped(void **state)
{
	struct reaper *r = new_reaper(NULL);
	char st = 0;
	int pid, i;

	(void)state;
	pid = start_daemon(3, NULL);
	for (i = 0; i < 500; i++) {
		if (proc_parent(pid, &st) == (int)getpid() && st == 'Z')
			break;
		sleep_ms(10);
	}
	assert_int_equal(st, 'Z');
	assert_int_equal(reaper_reap(r), 1);
	assert_true(gone(pid));
	reaper_free(r);
}

/* A kept helper (the watchdog) is neither ended nor reaped; a child
 * there before reaper_keep_children (a FUSE daemon) is not ended, and
 * reaped once it exits. */
static void test_kept_left_alone(void **state)
{
	struct reaper *r = new_reaper(NULL);
	int left = -1, status;
	pid_t helper, early;
	char st;

	(void)state;
	helper = fork();
	if (helper == 0)
		_exit(3);
	early = fork();
	if (early == 0) {
		for (;;)
			pause();
	}
	reaper_keep(r, helper);
	reaper_keep_children(r);
	while (proc_parent(helper, &st) && st != 'Z')
		sleep_ms(10);
	assert_int_equal(reaper_reap(r), 0);
	assert_int_equal(reaper_end(r, 0, &left), 0);
	assert_false(gone(early));
	kill(early, SIGKILL);
	while (proc_parent(early, &st) && st != 'Z')
		sleep_ms(10);
	assert_int_equal(reaper_reap(r), 1);
	assert_true(gone(early));
	/* The owner still gets the helper's status. */
	assert_int_equal(waitpid(helper, &status, 0), helper);
	assert_int_equal(WEXITSTATUS(status), 3);
	reaper_free(r);
}

static int64_t uv_status = -1;

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
	(void)term_signal;
	uv_status = exit_status;
	uv_close((uv_handle_t *)p, NULL);
}

/* libuv's own child, exited but not yet reaped by libuv, is not stolen:
 * its exit status still reaches the exit callback. Its daemon is ended. */
static void test_libuv_child_not_stolen(void **state)
{
	uv_loop_t loop;
	uv_process_t proc;
	uv_process_options_t opts;
	char *args[] = { (char *)"/bin/sh", (char *)"-c",
			 (char *)"setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > \"$PIDF\"; exit 7",
			 NULL };
	char pidf[] = "/tmp/test_reaper_pid_XXXXXX";
	char env0[64], *env[] = { env0, NULL }, st = 0;
	struct reaper *r;
	int fd, daemon_pid = 0, i, left = -1;
	FILE *f;

	(void)state;
	fd = mkstemp(pidf);
	assert_true(fd >= 0);
	close(fd);
	snprintf(env0, sizeof(env0), "PIDF=%s", pidf);
	assert_int_equal(uv_loop_init(&loop), 0);
	r = new_reaper(&loop);
	memset(&opts, 0, sizeof(opts));
	opts.file = args[0];
	opts.args = args;
	opts.env = env;
	opts.exit_cb = on_exit_cb;
	assert_int_equal(uv_spawn(&loop, &proc, &opts), 0);
	for (i = 0; i < 500; i++) {
		if (proc_parent(proc.pid, &st) && st == 'Z')
			break;
		sleep_ms(10);
	}
	assert_int_equal(st, 'Z');
	f = fopen(pidf, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &daemon_pid), 1);
	fclose(f);
	unlink(pidf);
	assert_int_equal(reaper_reap(r), 0);
	assert_int_equal(reaper_end(r, 1000, &left), 1);	/* the sleep, not sh */
	assert_true(gone(daemon_pid));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_status, 7);
	assert_int_equal(uv_loop_close(&loop), 0);
	reaper_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_double_fork_setsid_ended),
		cmocka_unit_test(test_term_ignored_killed_after_grace),
		cmocka_unit_test(test_daemon_tree_ended),
		cmocka_unit_test(test_orphan_zombie_reaped),
		cmocka_unit_test(test_kept_left_alone),
		cmocka_unit_test(test_libuv_child_not_stolen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
