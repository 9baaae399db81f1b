/*
 * Unit tests for base/fs: fs_remove_tree removes a tree and never
 * follows a symlink out of it -- neither one that is there from the
 * start nor a directory swapped for a symlink while it runs (before, an
 * lstat-then-opendir race let it empty the directory the link points
 * to).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"

static void put(const char *dir, const char *name)
{
	char *path = fs_path_join(dir, name);

	assert_int_equal(fs_write_atomic(path, "x\n", 2, 0600, 1, NULL), 0);
	free(path);
}

static void test_remove_tree_plain(void **state)
{
	char root[] = "/tmp/frugal-test-fs-XXXXXX";
	char *tree, *deep, *file;

	(void)state;
	assert_non_null(mkdtemp(root));
	tree = fs_path_join(root, "tree");
	deep = fs_path_join(tree, "a/b/c");
	assert_int_equal(fs_mkdir_p(deep, 0700, NULL), 0);
	put(deep, "f");
	put(tree, "g");
	assert_int_equal(fs_remove_tree(tree, NULL), 0);
	assert_false(fs_exists(tree));
	assert_int_equal(fs_remove_tree(tree, NULL), 0);	/* missing: fine */
	/* A plain file, and a trailing '/'. */
	file = fs_path_join(root, "file");
	put(root, "file");
	assert_int_equal(fs_remove_tree(file, NULL), 0);
	assert_false(fs_exists(file));
	assert_int_equal(fs_mkdir_p(deep, 0700, NULL), 0);
	free(tree);
	tree = xasprintf("%s/tree/", root);
	assert_int_equal(fs_remove_tree(tree, NULL), 0);
	assert_false(fs_exists(deep));
	assert_int_equal(fs_remove_tree(root, NULL), 0);
	assert_false(fs_exists(root));
	free(tree);
	free(deep);
	free(file);
}

static void test_remove_tree_symlink_outside(void **state)
{
	char root[] = "/tmp/frugal-test-fs-XXXXXX";
	char *outside, *tree, *link, *keep, *top;

	(void)state;
	assert_non_null(mkdtemp(root));
	outside = fs_path_join(root, "outside");
	tree = fs_path_join(root, "tree");
	link = fs_path_join(tree, "link");
	keep = fs_path_join(outside, "keep");
	assert_int_equal(fs_mkdir_p(outside, 0700, NULL), 0);
	assert_int_equal(fs_mkdir_p(tree, 0700, NULL), 0);
	put(outside, "keep");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(fs_remove_tree(tree, NULL), 0);
	assert_false(fs_exists(tree));
	assert_true(fs_exists(keep));
	/* The path itself a symlink to a directory: only the link goes. */
	top = fs_path_join(root, "top");
	assert_int_equal(symlink(outside, top), 0);
	assert_int_equal(fs_remove_tree(top, NULL), 0);
	assert_false(fs_exists(top));
	assert_true(fs_exists(keep));
	assert_int_equal(fs_remove_tree(root, NULL), 0);
	free(outside);
	free(tree);
	free(link);
	free(keep);
	free(top);
}

/* A small file, quickly (no fsync: the race test makes thousands). */
static void put_fast(const char *dir, const char *name)
{
	char *path = fs_path_join(dir, name);
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs("x\n", f);
	fclose(f);
	free(path);
}

#define PAIRS 8

/*
 * A child swaps tree/dN (a directory) and tree/lN (a symlink to outside)
 * again and again (renameat2 RENAME_EXCHANGE) while the tree is removed,
 * for a few seconds of rounds; whatever it hits, outside/keep stays.
 */
static void test_remove_tree_swap_race(void **state)
{
	char root[] = "/tmp/frugal-test-fs-XXXXXX";
	char *outside, *tree, *keep, *d[PAIRS], *l[PAIRS];
	struct timespec t0, now;
	pid_t flipper;
	int rounds = 0, i;

	(void)state;
	assert_non_null(mkdtemp(root));
	outside = fs_path_join(root, "outside");
	tree = fs_path_join(root, "tree");
	keep = fs_path_join(outside, "keep");
	for (i = 0; i < PAIRS; i++) {
		d[i] = xasprintf("%s/d%d", tree, i);
		l[i] = xasprintf("%s/l%d", tree, i);
	}
	assert_int_equal(fs_mkdir_p(outside, 0700, NULL), 0);
	flipper = fork();
	assert_true(flipper >= 0);
	if (flipper == 0) {
		for (i = 0; ; i = (i + 1) % PAIRS)
			renameat2(AT_FDCWD, d[i], AT_FDCWD, l[i], RENAME_EXCHANGE);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		put_fast(outside, "keep");
		for (i = 0; i < PAIRS; i++) {
			assert_int_equal(fs_mkdir_p(d[i], 0700, NULL), 0);
			put_fast(d[i], "f");
			assert_int_equal(symlink(outside, l[i]), 0);
		}
		fs_remove_tree(tree, NULL);
		while (fs_exists(tree))
			fs_remove_tree(tree, NULL);
		if (!fs_exists(keep)) {
			kill(flipper, SIGKILL);
			waitpid(flipper, NULL, 0);
			fail_msg("round %d: fs_remove_tree followed a symlink out of the tree", rounds);
		}
		rounds++;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < 3);
	kill(flipper, SIGKILL);
	waitpid(flipper, NULL, 0);
	print_message("%d rounds\n", rounds);
	assert_int_equal(fs_remove_tree(root, NULL), 0);
	for (i = 0; i < PAIRS; i++) {
		free(d[i]);
		free(l[i]);
	}
	free(outside);
	free(tree);
	free(keep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remove_tree_plain),
		cmocka_unit_test(test_remove_tree_symlink_outside),
		cmocka_unit_test(test_remove_tree_swap_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
