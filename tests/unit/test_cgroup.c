/*
 * Unit tests for util/cgroup: the mountinfo, cgroup.events and
 * cgroup.procs parsers, and (as root, with a cgroup v2 tree) a box
 * entered by proc_spawn before exec, whose setsid'd, double-forked,
 * environment-less processes cgroup_kill ends, with cgroup.kill and with
 * the SIGKILL-every-pid fallback.
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
#include <unistd.h>

#include "base/fs.h"
#include "base/proc.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "util/cgroup.h"

/* This machine's layout: v1 controllers, v2 in /sys/fs/cgroup/unified. */
static const char hybrid[] =
	"24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"25 24 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"26 25 0:24 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 25 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void test_mount_hybrid(void **state)
{
	char *m = cgroup_mount_parse(hybrid);

	(void)state;
	assert_string_equal(m, "/sys/fs/cgroup/unified");
	free(m);
}

static void test_mount_unified_with_optional_fields(void **state)
{
	char *m = cgroup_mount_parse(
		"35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 master:1 - "
		"cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n");

	(void)state;
	assert_string_equal(m, "/sys/fs/cgroup");
	free(m);
}

static void test_mount_read_only_is_none(void **state)
{
	(void)state;
	/* A container's usual view: mounted, but not ours to write. */
	assert_null(cgroup_mount_parse(
		"900 800 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw\n"));
	/* v1 only, and nothing at all. */
	assert_null(cgroup_mount_parse("26 25 0:24 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"));
	assert_null(cgroup_mount_parse(""));
	/* A type that only starts with cgroup2, and a '-' inside a field. */
	assert_null(cgroup_mount_parse("1 2 0:1 / /a-b rw - cgroup2x none rw\n"));
}

static void test_mount_escapes_and_root_preferred(void **state)
{
	char *m;

	(void)state;
	/* A bind of a sub-tree first, then the hierarchy's root with a space. */
	m = cgroup_mount_parse("40 25 0:31 /sub /mnt/sub rw - cgroup2 cgroup2 rw\n"
			       "41 25 0:31 / /mnt/cg\\040root rw - cgroup2 cgroup2 rw\n");
	assert_string_equal(m, "/mnt/cg root");
	free(m);
	/* Only a sub-tree: still usable. No newline at the end. */
	m = cgroup_mount_parse("40 25 0:31 /sub /mnt/sub rw - cgroup2 cgroup2 rw");
	assert_string_equal(m, "/mnt/sub");
	free(m);
}

static void test_events_populated(void **state)
{
	(void)state;
	assert_int_equal(cgroup_events_populated("populated 1\nfrozen 0\n"), 1);
	assert_int_equal(cgroup_events_populated("frozen 0\npopulated 0\n"), 0);
	assert_int_equal(cgroup_events_populated("populated 0"), 0);
	assert_int_equal(cgroup_events_populated("frozen 1\n"), -1);
	assert_int_equal(cgroup_events_populated("populated 2\n"), -1);
	assert_int_equal(cgroup_events_populated("populated 10\n"), -1);
	assert_int_equal(cgroup_events_populated(""), -1);
}

static void test_procs_parse(void **state)
{
	pid_t *pids = NULL;
	size_t n = 9;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(cgroup_procs_parse("12\n345\n", &pids, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(pids[0], 12);
	assert_int_equal(pids[1], 345);
	free(pids);
	pids = NULL;
	assert_int_equal(cgroup_procs_parse("", &pids, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(pids);
	pids = (pid_t *)&n;	/* untouched on failure */
	assert_int_equal(cgroup_procs_parse("12\nabc\n", &pids, &n, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(error_msg(&err), "abc"));
	assert_int_equal(cgroup_procs_parse("-3\n", &pids, &n, NULL), FRUGAL_EINVAL);
	assert_int_equal(cgroup_procs_parse("0\n", &pids, &n, NULL), FRUGAL_EINVAL);
	assert_int_equal(cgroup_procs_parse("99999999999\n", &pids, &n, NULL), FRUGAL_EINVAL);
	assert_int_equal(cgroup_procs_parse("7 8\n", &pids, &n, NULL), FRUGAL_EINVAL);
	assert_ptr_equal(pids, (pid_t *)&n);
}

/* A box of this test under the machine's cgroup v2 tree; NULL (skipped)
 * when there is none this process may write. */
static char *test_box(const char *name)
{
	char *mount = cgroup_mount(), *box;

	if (!mount || geteuid() != 0 || cgroup_usable(mount, NULL) < 0) {
		free(mount);
		print_message("skipped: needs root and cgroup v2\n");
		return NULL;
	}
	box = xasprintf("%s/frugal-test-%d/%s", mount, (int)getpid(), name);
	free(mount);
	return box;
}

/* In the box: a shell that leaves its session and forks a grandchild
 * with an empty environment, then both sleep. */
static void spawn_escapers(const char *box)
{
	const char *argv[] = { "/bin/sh", "-c",
			       "setsid env -i /bin/sh -c 'sleep 60 & sleep 60' & sleep 60", NULL };
	char *const env[] = { NULL };
	struct proc p = PROC_INIT;
	pid_t pid;
	int fd, i, pop = 0;
	pid_t *pids = NULL;
	size_t n = 0;

	assert_int_equal(cgroup_create(box, NULL), 0);
	assert_int_equal(cgroup_exists(box), 1);
	fd = cgroup_open_procs(box, NULL);
	assert_true(fd >= 0);
	p.argv = argv;
	p.env = env;
	p.detach = 1;
	p.cgroup_fd = fd;
	assert_int_equal(proc_spawn(&p, &pid, NULL), 0);
	close(fd);
	/* At least four processes: the shells and their sleeps. */
	for (i = 0; i < 200 && n < 4; i++) {
		free(pids);
		pids = NULL;
		assert_int_equal(cgroup_pids(box, &pids, &n, NULL), 0);
		time_sleep_ms(10);
	}
	assert_true(n >= 4);
	for (i = 0; i < (int)n; i++)
		if (pids[i] == pid)
			pop = 1;
	assert_true(pop);
	free(pids);
	assert_int_equal(cgroup_populated(box, NULL), 1);
}

static void box_cleanup(const char *box)
{
	char *parent = xstrndup(box, (size_t)(strrchr(box, '/') - box));

	assert_int_equal(rmdir(parent), 0);
	free(parent);
}

static void test_kill_ends_every_process(void **state)
{
	char *box = test_box("kill");
	char **kids = NULL;
	size_t n = 9;
	int64_t t0;

	(void)state;
	if (!box)
		return;
	spawn_escapers(box);
	/* A box the processes made inside theirs goes too. */
	{
		char *sub = fs_path_join(box, "inner");

		assert_int_equal(cgroup_create(sub, NULL), 0);
		free(sub);
	}
	assert_int_equal(cgroup_children(box, &kids, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_string_equal(kids[0], "inner");
	fs_free_names(kids, n);
	t0 = time_mono_ms();
	assert_int_equal(cgroup_kill(box, 2000, NULL), 0);
	print_message("cgroup_kill: %lld ms\n", (long long)(time_mono_ms() - t0));
	assert_int_equal(cgroup_exists(box), 0);
	/* Gone is success, again. */
	assert_int_equal(cgroup_kill(box, 2000, NULL), 0);
	box_cleanup(box);
	free(box);
}

static void test_kill_procs_fallback(void **state)
{
	char *box = test_box("procs");
	int i, pop = 1;

	(void)state;
	if (!box)
		return;
	spawn_escapers(box);
	/* What cgroup_kill does without cgroup.kill (kernels before 5.14). */
	assert_true(cgroup_kill_procs(box, NULL) >= 4);
	for (i = 0; i < 200 && pop; i++) {
		pop = cgroup_populated(box, NULL);
		time_sleep_ms(10);
	}
	assert_int_equal(pop, 0);
	assert_int_equal(cgroup_kill(box, 2000, NULL), 0);
	assert_int_equal(cgroup_exists(box), 0);
	box_cleanup(box);
	free(box);
}

static void test_children_of_missing_dir(void **state)
{
	char **names = (char **)1;
	size_t n = 9;

	(void)state;
	assert_int_equal(cgroup_children("/nonexistent/frugal", &names, &n, NULL), 0);
	assert_int_equal(n, 0);
	assert_null(names);
	assert_int_equal(cgroup_exists("/nonexistent/frugal"), 0);
	assert_int_equal(cgroup_populated("/nonexistent/frugal", NULL), FRUGAL_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mount_hybrid),
		cmocka_unit_test(test_mount_unified_with_optional_fields),
		cmocka_unit_test(test_mount_read_only_is_none),
		cmocka_unit_test(test_mount_escapes_and_root_preferred),
		cmocka_unit_test(test_events_populated),
		cmocka_unit_test(test_procs_parse),
		cmocka_unit_test(test_children_of_missing_dir),
		cmocka_unit_test(test_kill_ends_every_process),
		cmocka_unit_test(test_kill_procs_fallback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
