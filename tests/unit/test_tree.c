/*
 * Unit tests for util/tree: copying a work directory with ignore files,
 * and listing the files an output glob names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "util/tree.h"

struct fixture {
	char dir[64];
	char *src;
	char *dst;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/frugal-test-tree-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->src = fs_path_join(f->dir, "src");
	f->dst = fs_path_join(f->dir, "dst");
	assert_int_equal(mkdir(f->src, 0755), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fs_remove_tree(f->dir, NULL), 0);
	free(f->src);
	free(f->dst);
	free(f);
	return 0;
}

/* Create root/rel with content and mode, and its parent directories. */
static void put(const char *root, const char *rel, const char *content, mode_t mode)
{
	char *path = fs_path_join(root, rel);
	char *slash;

	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(fs_mkdir_p(path, 0755, NULL), 0);
	*slash = '/';
	assert_int_equal(fs_write_atomic(path, content, strlen(content), 0644, 1, NULL), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static int exists(const char *root, const char *rel)
{
	char *path = fs_path_join(root, rel);
	int r = fs_exists(path);

	free(path);
	return r;
}

static void test_copy(void **state)
{
	struct fixture *f = *state;
	struct tree_stats st = TREE_STATS_INIT;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct stat s;
	char *p, target[64];
	ssize_t n;

	put(f->src, ".git/config", "[core]", 0644);
	put(f->src, ".git/objects/ab/cd", "obj", 0444);
	put(f->src, ".gitignore", "*.log\nbuild/\n!keep.log\nsecret.txt\n", 0644);
	put(f->src, ".frugalignore", "data/\n/top-only\n", 0644);
	put(f->src, "train.py", "print(1)\n", 0644);
	put(f->src, "run.sh", "#!/bin/sh\n", 0755);
	put(f->src, "x.log", "log", 0644);
	put(f->src, "keep.log", "kept", 0644);
	put(f->src, "secret.txt", "s", 0600);
	put(f->src, "top-only", "t", 0644);
	put(f->src, "lib/top-only", "t", 0644);		/* anchored rule: kept */
	put(f->src, "build/out.o", "o", 0644);
	put(f->src, "data/big.bin", "big", 0644);
	put(f->src, "pkg/.gitignore", "*.pyc\n", 0644);
	put(f->src, "pkg/mod.py", "m", 0644);
	put(f->src, "pkg/mod.pyc", "c", 0644);
	put(f->src, "other/mod.pyc", "c", 0644);	/* pkg's rule is not ours */
	put(f->src, "notes/.frugalignore", "!debug.log\n", 0644);
	put(f->src, "notes/debug.log", "d", 0644);
	put(f->src, "notes/other.log", "o", 0644);
	put(f->src, "sub/.git", "gitdir: ../.git/modules/sub", 0644);	/* a submodule */
	put(f->src, "sub/file", "f", 0644);
	p = fs_path_join(f->src, "link");
	assert_int_equal(symlink("train.py", p), 0);
	free(p);
	p = fs_path_join(f->src, "dirlink");
	assert_int_equal(symlink("pkg", p), 0);
	free(p);
	p = fs_path_join(f->src, "empty");
	assert_int_equal(mkdir(p, 0750), 0);
	free(p);

	assert_int_equal(tree_copy(f->src, f->dst, &st, &err), 0);

	assert_true(exists(f->dst, "train.py"));
	assert_true(exists(f->dst, "run.sh"));
	assert_true(exists(f->dst, ".gitignore"));
	assert_true(exists(f->dst, ".frugalignore"));
	assert_true(exists(f->dst, "keep.log"));
	assert_true(exists(f->dst, "lib/top-only"));
	assert_true(exists(f->dst, "pkg/mod.py"));
	assert_true(exists(f->dst, "other/mod.pyc"));
	assert_true(exists(f->dst, "notes/debug.log"));
	assert_true(exists(f->dst, "sub/file"));
	assert_true(exists(f->dst, "empty"));
	assert_false(exists(f->dst, ".git"));
	assert_false(exists(f->dst, "sub/.git"));
	assert_false(exists(f->dst, "x.log"));
	assert_false(exists(f->dst, "secret.txt"));
	assert_false(exists(f->dst, "top-only"));
	assert_false(exists(f->dst, "build"));
	assert_false(exists(f->dst, "data"));
	assert_false(exists(f->dst, "pkg/mod.pyc"));
	assert_false(exists(f->dst, "notes/other.log"));

	/* Content, modes, links. */
	p = fs_path_join(f->dst, "train.py");
	assert_int_equal(fs_read_file(p, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, "print(1)\n");
	assert_int_equal(stat(p, &s), 0);
	assert_int_equal(s.st_mode & 0777, 0644);
	free(p);
	p = fs_path_join(f->dst, "run.sh");
	assert_int_equal(stat(p, &s), 0);
	assert_int_equal(s.st_mode & 0777, 0755);
	free(p);
	p = fs_path_join(f->dst, "empty");
	assert_int_equal(stat(p, &s), 0);
	assert_int_equal(s.st_mode & 0777, 0750);
	free(p);
	p = fs_path_join(f->dst, "link");
	assert_int_equal(lstat(p, &s), 0);
	assert_true(S_ISLNK(s.st_mode));
	n = readlink(p, target, sizeof(target) - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "train.py");
	free(p);
	p = fs_path_join(f->dst, "dirlink");
	assert_int_equal(lstat(p, &s), 0);
	assert_true(S_ISLNK(s.st_mode));
	free(p);

	/* .gitignore .frugalignore train.py run.sh keep.log lib/top-only
	 * pkg/.gitignore pkg/mod.py other/mod.pyc notes/.frugalignore
	 * notes/debug.log sub/file */
	assert_int_equal(st.files, 12);
	assert_int_equal(st.symlinks, 2);
	assert_true(st.bytes > 0);
	assert_true(st.skipped >= 9);

	/* Copying again replaces what is there. */
	put(f->src, "train.py", "print(2)\n", 0700);
	assert_int_equal(tree_copy(f->src, f->dst, NULL, &err), 0);
	p = fs_path_join(f->dst, "train.py");
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(p, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, "print(2)\n");
	assert_int_equal(stat(p, &s), 0);
	assert_int_equal(s.st_mode & 0777, 0700);
	free(p);
	strbuf_release(&sb);
}

static void test_copy_errors(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char *missing = fs_path_join(f->dir, "missing");
	char *inside = fs_path_join(f->src, "out/copy");

	assert_int_equal(tree_copy(missing, f->dst, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(tree_copy(f->src, f->src, NULL, &err), FRUGAL_EINVAL);

	/* A destination inside the source is not copied into itself. */
	put(f->src, "a.txt", "a", 0644);
	assert_int_equal(tree_copy(f->src, inside, NULL, &err), 0);
	assert_true(exists(inside, "a.txt"));
	assert_false(exists(inside, "out/copy"));
	free(missing);
	free(inside);
}

/* tree_list_glob of pattern in f->src, as one comma-separated string. */
static char *glob_str(struct fixture *f, const char *pattern)
{
	struct tree_paths p = TREE_PATHS_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	size_t i;

	if (tree_list_glob(f->src, pattern, &p, NULL, &err) < 0)
		fail_msg("pattern '%s': %s", pattern, err.msg);
	for (i = 0; i < p.n; i++)
		strbuf_addf(&sb, "%s%s", i ? "," : "", p.items[i]);
	tree_paths_release(&p);
	return strbuf_detach(&sb, NULL);
}

static void test_glob(void **state)
{
	static const struct { const char *pattern, *want; } cases[] = {
		{ "weights/*.pth", "weights/a.pth,weights/b.pth" },
		{ "logs/", "logs/1.txt,logs/deep/2.txt" },
		{ "logs", "logs/1.txt,logs/deep/2.txt" },
		{ "**/*.pt", "m.pt,x/y/m.pt" },
		{ "model.bin", "model.bin" },
		{ "./model.bin", "model.bin" },
		{ "model.bin/", "" },
		{ "missing/*.pth", "" },
		{ "missing", "" },
		{ "weights/**", "weights/a.pth,weights/b.pth,weights/c.txt,weights/sub/d.pth" },
		{ "weights/**/*.pth", "weights/a.pth,weights/b.pth,weights/sub/d.pth" },
		{ "*/sub", "weights/sub/d.pth" },
		{ "*.bin", "model.bin" },
		{ "w*/*.txt", "weights/c.txt" },
		{ "x/*/", "x/y/m.pt" },
		{ "latest/", "latest/a.pth,latest/b.pth,latest/c.txt,latest/sub/d.pth" },
		{ "lat*", "" },				/* links to directories: not entered */
		{ "best.pth", "best.pth" },		/* a link to a file */
		{ ".", "best.pth,logs/1.txt,logs/deep/2.txt,m.pt,model.bin,weights/a.pth,"
		       "weights/b.pth,weights/c.txt,weights/sub/d.pth,x/y/m.pt" },
	};
	struct fixture *f = *state;
	char *p;
	size_t i;

	put(f->src, "weights/a.pth", "a", 0644);
	put(f->src, "weights/b.pth", "b", 0644);
	put(f->src, "weights/c.txt", "c", 0644);
	put(f->src, "weights/sub/d.pth", "d", 0644);
	put(f->src, "logs/1.txt", "1", 0644);
	put(f->src, "logs/deep/2.txt", "2", 0644);
	put(f->src, "model.bin", "m", 0644);
	put(f->src, "x/y/m.pt", "m", 0644);
	put(f->src, "m.pt", "m", 0644);
	put(f->src, ".git/z.pt", "z", 0644);
	p = fs_path_join(f->src, "best.pth");
	assert_int_equal(symlink("weights/a.pth", p), 0);
	free(p);
	p = fs_path_join(f->src, "latest");
	assert_int_equal(symlink("weights", p), 0);
	free(p);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = glob_str(f, cases[i].pattern);
		if (strcmp(got, cases[i].want))
			fail_msg("pattern '%s': got '%s', want '%s'", cases[i].pattern, got,
				 cases[i].want);
		free(got);
	}
}

static void test_glob_union_and_errors(void **state)
{
	struct fixture *f = *state;
	struct tree_paths p = TREE_PATHS_INIT;
	struct error err = ERROR_INIT;
	char *missing = fs_path_join(f->dir, "missing");

	put(f->src, "model.bin", "m", 0644);
	put(f->src, "weights/a.pth", "a", 0644);
	assert_int_equal(tree_list_glob(f->src, "weights/*.pth", &p, NULL, &err), 0);
	assert_int_equal(tree_list_glob(f->src, "model.bin", &p, NULL, &err), 0);
	assert_int_equal(tree_list_glob(f->src, "weights/", &p, NULL, &err), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.items[0], "model.bin");
	assert_string_equal(p.items[1], "weights/a.pth");

	assert_int_equal(tree_list_glob(f->src, "../x", &p, NULL, &err), FRUGAL_EINVAL);
	assert_int_equal(tree_list_glob(f->src, "a/../../x", &p, NULL, &err), FRUGAL_EINVAL);
	assert_int_equal(tree_list_glob(f->src, "/etc/passwd", &p, NULL, &err), FRUGAL_EINVAL);
	assert_int_equal(tree_list_glob(f->src, "", &p, NULL, &err), FRUGAL_EINVAL);
	assert_int_equal(tree_list_glob(missing, "*", &p, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(p.n, 2);	/* failures leave the list alone */
	tree_paths_release(&p);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_union_and_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
