/*
 * Unit tests for util/ignore: a table of rules, paths and verdicts that
 * covers every rule of gitignore(5) the module supports, then the glob
 * helpers and reading ignore files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "util/ignore.h"

enum { FILE_ = 0, DIR_ = 1 };
enum { FULL = 0, ONE = 1 };	/* ignore_match or ignore_match_one */

struct ignore_case {
	const char *rules;	/* an ignore file's contents */
	const char *base;	/* where that file is */
	const char *path;
	int is_dir;
	int mode;
	int want;
};

static const struct ignore_case cases[] = {
	/* Unanchored patterns match the last component at any depth. */
	{ "*.o", "", "a.o", FILE_, FULL, 1 },
	{ "*.o", "", "src/deep/a.o", FILE_, FULL, 1 },
	{ "*.o", "", "a.c", FILE_, FULL, 0 },
	{ "*.o", "", "a.o.c", FILE_, FULL, 0 },
	{ "foo", "", "x/foo", DIR_, FULL, 1 },
	{ "foo", "", "foo/bar", FILE_, ONE, 0 },
	{ "foo", "", "foo/bar", FILE_, FULL, 1 },	/* its parent is ignored */
	{ ".env", "", "app/.env", FILE_, FULL, 1 },
	{ "*", "", ".hidden", FILE_, FULL, 1 },		/* '*' matches a leading dot */
	/* Comments and blank lines. */
	{ "#foo", "", "#foo", FILE_, FULL, 0 },
	{ "\\#foo", "", "#foo", FILE_, FULL, 1 },
	{ "\n\n   \n", "", "x", FILE_, FULL, 0 },
	{ "# comment\n\n*.log\n", "", "a.log", FILE_, FULL, 1 },
	{ " #not-a-comment", "", " #not-a-comment", FILE_, FULL, 1 },
	/* Negation; the last matching rule wins. */
	{ "*.log\n!keep.log", "", "keep.log", FILE_, FULL, 0 },
	{ "*.log\n!keep.log", "", "other.log", FILE_, FULL, 1 },
	{ "!keep.log\n*.log", "", "keep.log", FILE_, FULL, 1 },
	{ "*.log\n!keep.log\nkeep.log", "", "keep.log", FILE_, FULL, 1 },
	{ "!x", "", "x", FILE_, FULL, 0 },
	{ "\\!important", "", "!important", FILE_, FULL, 1 },
	{ "\\!important", "", "important", FILE_, FULL, 0 },
	/* No re-including a file whose directory is excluded. */
	{ "build/\n!build/keep", "", "build/keep", FILE_, FULL, 1 },
	{ "build/*\n!build/keep", "", "build/keep", FILE_, FULL, 0 },
	{ "build/*\n!build/keep", "", "build/other", FILE_, FULL, 1 },
	/* Trailing '/': directories only. */
	{ "build/", "", "build", DIR_, FULL, 1 },
	{ "build/", "", "build", FILE_, FULL, 0 },
	{ "build/", "", "src/build", DIR_, FULL, 1 },
	{ "build/", "", "build/x.o", FILE_, FULL, 1 },
	{ "build/", "", "build/x.o", FILE_, ONE, 0 },
	{ "*/", "", "anydir", DIR_, FULL, 1 },
	{ "*/", "", "file", FILE_, FULL, 0 },
	/* A leading '/' anchors to the file's directory. */
	{ "/todo", "", "todo", FILE_, FULL, 1 },
	{ "/todo", "", "sub/todo", FILE_, FULL, 0 },
	{ "/*.c", "", "main.c", FILE_, FULL, 1 },
	{ "/*.c", "", "src/main.c", FILE_, FULL, 0 },
	/* So does a '/' in the middle; '*' does not cross '/'. */
	{ "doc/*.html", "", "doc/a.html", FILE_, FULL, 1 },
	{ "doc/*.html", "", "x/doc/a.html", FILE_, FULL, 0 },
	{ "doc/*.html", "", "doc/sub/a.html", FILE_, FULL, 0 },
	{ "doc/*", "", "doc/sub/a.html", FILE_, ONE, 0 },
	{ "doc/*", "", "doc/sub/a.html", FILE_, FULL, 1 },
	{ "a/b", "", "a/b", FILE_, FULL, 1 },
	{ "a/b", "", "x/a/b", FILE_, FULL, 0 },
	/* '?' is one character other than '/'. */
	{ "a?c", "", "abc", FILE_, FULL, 1 },
	{ "a?c", "", "ac", FILE_, FULL, 0 },
	{ "a?c", "", "abbc", FILE_, FULL, 0 },
	{ "x/a?c", "", "x/a/c", FILE_, ONE, 0 },
	/* Bracket expressions. */
	{ "[abc].txt", "", "b.txt", FILE_, FULL, 1 },
	{ "[abc].txt", "", "d.txt", FILE_, FULL, 0 },
	{ "[!abc].txt", "", "d.txt", FILE_, FULL, 1 },
	{ "[!abc].txt", "", "a.txt", FILE_, FULL, 0 },
	{ "[a-c]x", "", "bx", FILE_, FULL, 1 },
	{ "[a-c]x", "", "dx", FILE_, FULL, 0 },
	{ "*.[oa]", "", "lib.a", FILE_, FULL, 1 },
	/* Leading "**": in every directory. */
	{ "**/foo", "", "foo", FILE_, FULL, 1 },
	{ "**/foo", "", "a/b/foo", FILE_, FULL, 1 },
	{ "**/foo/bar", "", "foo/bar", FILE_, FULL, 1 },
	{ "**/foo/bar", "", "x/y/foo/bar", FILE_, FULL, 1 },
	{ "**/foo/bar", "", "x/foo/baz", FILE_, FULL, 0 },
	/* Trailing "**": everything inside, not the directory itself. */
	{ "abc/**", "", "abc/x", FILE_, FULL, 1 },
	{ "abc/**", "", "abc/x/y", FILE_, ONE, 1 },
	{ "abc/**", "", "abc", DIR_, FULL, 0 },
	{ "abc/**", "", "x/abc/y", FILE_, FULL, 0 },
	/* Middle "**": zero or more directories. */
	{ "a/**/b", "", "a/b", FILE_, FULL, 1 },
	{ "a/**/b", "", "a/x/b", FILE_, FULL, 1 },
	{ "a/**/b", "", "a/x/y/b", FILE_, FULL, 1 },
	{ "a/**/b", "", "b", FILE_, FULL, 0 },
	{ "a/**/b", "", "a/x/c", FILE_, FULL, 0 },
	{ "a/**/**/b", "", "a/b", FILE_, FULL, 1 },
	/* "**" not alone in a component is a plain '*'. */
	{ "foo**bar", "", "fooXbar", FILE_, FULL, 1 },
	{ "a**/b", "", "ax/y/b", FILE_, ONE, 0 },	/* as gitignore(5) says */
	/* Trailing spaces go unless escaped. */
	{ "foo   ", "", "foo", FILE_, FULL, 1 },
	{ "foo\\ ", "", "foo ", FILE_, FULL, 1 },
	{ "foo\\ ", "", "foo", FILE_, FULL, 0 },
	{ "foo\\\\ ", "", "foo\\", FILE_, FULL, 1 },	/* escaped backslash, bare space */
	/* Windows line ends. */
	{ "*.o\r\n*.a\r\n", "", "x.a", FILE_, FULL, 1 },
	/* Rules from a nested file apply under its directory only. */
	{ "*.tmp", "sub", "sub/x.tmp", FILE_, FULL, 1 },
	{ "*.tmp", "sub", "sub/deep/x.tmp", FILE_, FULL, 1 },
	{ "*.tmp", "sub", "x.tmp", FILE_, FULL, 0 },
	{ "*.tmp", "sub", "subway/x.tmp", FILE_, FULL, 0 },
	{ "/only", "sub", "sub/only", FILE_, FULL, 1 },
	{ "/only", "sub", "sub/deeper/only", FILE_, FULL, 0 },
	{ "/only", "sub", "only", FILE_, FULL, 0 },
	{ "x/y", "a/b", "a/b/x/y", FILE_, FULL, 1 },
	{ "sub", "sub", "sub", DIR_, FULL, 0 },
	{ "*.tmp", "/sub/", "sub/x.tmp", FILE_, FULL, 1 },	/* base slashes dropped */
	/* Paths: "./", leading and trailing '/' dropped. */
	{ "/todo", "", "./todo", FILE_, FULL, 1 },
	{ "build/", "", "build/", DIR_, FULL, 1 },
	{ "*", "", "", DIR_, FULL, 0 },
	/* Lines that hold no rule. */
	{ "/", "", "x", FILE_, FULL, 0 },
	{ "!", "", "x", FILE_, FULL, 0 },
};

static void test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ignore_case *c = &cases[i];
		struct ignore *ig = ignore_new();
		int got;

		ignore_add_buffer(ig, c->rules, strlen(c->rules), c->base);
		got = c->mode == ONE ? ignore_match_one(ig, c->path, c->is_dir)
				     : ignore_match(ig, c->path, c->is_dir);
		if (got != c->want)
			fail_msg("case %zu: rules \"%s\" base \"%s\" path \"%s\"%s: got %d, want %d",
				 i, c->rules, c->base, c->path, c->is_dir ? " (dir)" : "", got,
				 c->want);
		ignore_free(ig);
	}
}

static void test_add_pattern(void **state)
{
	struct ignore *ig = ignore_new();

	(void)state;
	assert_int_equal(ignore_add_pattern(ig, "# comment", ""), 0);
	assert_int_equal(ignore_add_pattern(ig, "", ""), 0);
	assert_int_equal(ignore_add_pattern(ig, "   ", NULL), 0);
	assert_int_equal(ignore_add_pattern(ig, "*.o", NULL), 1);
	assert_int_equal(ignore_add_pattern(ig, "!keep.o\n", "sub"), 1);
	assert_int_equal(ignore_count(ig), 2);
	assert_true(ignore_match(ig, "sub/x.o", 0));
	assert_false(ignore_match(ig, "sub/keep.o", 0));
	assert_true(ignore_match(ig, "keep.o", 0));
	ignore_free(ig);
	ignore_free(NULL);
}

static void test_later_nested_file_wins(void **state)
{
	struct ignore *ig = ignore_new();

	(void)state;
	/* As a walker adds them: the top file, then a nested one. */
	ignore_add_pattern(ig, "*.csv", "");
	ignore_add_pattern(ig, "!small.csv", "data");
	assert_false(ignore_match(ig, "data/small.csv", 0));
	assert_true(ignore_match(ig, "data/big.csv", 0));
	assert_true(ignore_match(ig, "small.csv", 0));
	ignore_free(ig);
}

static void test_add_file(void **state)
{
	char dir[] = "/tmp/frugal-test-ignore-XXXXXX";
	struct error err = ERROR_INIT;
	struct ignore *ig = ignore_new();
	char *path, *missing;
	static const char content[] = "\xef\xbb\xbf*.pyc\n__pycache__/\n!keep.pyc";

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = fs_path_join(dir, ".gitignore");
	missing = fs_path_join(dir, ".frugalignore");
	assert_int_equal(fs_write_atomic(path, content, sizeof(content) - 1, 0644, 1, NULL), 0);
	assert_int_equal(ignore_add_file(ig, path, "", &err), 0);
	assert_int_equal(ignore_add_file(ig, missing, "", &err), 0);
	assert_int_equal(ignore_add_file(ig, dir, "", &err), 0);	/* a directory: none */
	assert_int_equal(ignore_count(ig), 3);
	assert_true(ignore_match(ig, "a.pyc", 0));	/* the BOM is not in the pattern */
	assert_true(ignore_match(ig, "pkg/__pycache__", 1));
	assert_true(ignore_match(ig, "pkg/__pycache__/m.cpython-311.opt", 0));
	assert_false(ignore_match(ig, "keep.pyc", 0));
	assert_false(ignore_match(ig, "a.py", 0));
	ignore_free(ig);
	assert_int_equal(fs_remove_tree(dir, NULL), 0);
	free(path);
	free(missing);
}

static void test_glob_match(void **state)
{
	static const struct { const char *pat, *path; int want; } g[] = {
		{ "weights/*.pth", "weights/a.pth", 1 },
		{ "weights/*.pth", "weights/sub/a.pth", 0 },
		{ "weights/*.pth", "a.pth", 0 },
		{ "**/*.pt", "m.pt", 1 },
		{ "**/*.pt", "x/y/m.pt", 1 },
		{ "**/*.pt", "x/y/m.pth", 0 },
		{ "model.bin", "model.bin", 1 },
		{ "model.bin", "x/model.bin", 0 },	/* anchored, unlike ignore rules */
		{ "logs/**", "logs/a/b", 1 },
		{ "logs/**", "logs", 0 },
		{ "ckpt-[0-9]*", "ckpt-12", 1 },
		{ "ckpt-[0-9]*", "ckpt-x", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (ignore_glob_match(g[i].pat, g[i].path) != g[i].want)
			fail_msg("glob \"%s\" path \"%s\": want %d", g[i].pat, g[i].path, g[i].want);

	assert_true(ignore_glob_may_match_below("weights/*.pth", "weights"));
	assert_false(ignore_glob_may_match_below("weights/*.pth", "logs"));
	assert_false(ignore_glob_may_match_below("weights/*.pth", "weights/sub"));
	assert_true(ignore_glob_may_match_below("**/*.pt", "a/b/c"));
	assert_true(ignore_glob_may_match_below("a/**/b", "a/x/y"));
	assert_true(ignore_glob_may_match_below("*/x", "anything"));
	assert_true(ignore_glob_may_match_below("x", ""));
	assert_false(ignore_glob_may_match_below("model.bin", "model.bin"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_add_pattern),
		cmocka_unit_test(test_later_nested_file_wins),
		cmocka_unit_test(test_add_file),
		cmocka_unit_test(test_glob_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
