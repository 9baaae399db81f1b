/*
 * Unit tests for storage/ with the file:// driver, in a fresh temporary
 * directory per test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "storage/storage.h"

struct fixture {
	char dir[64];		/* the temporary directory */
	char *root;		/* dir/root: the storage root */
	char *url;		/* file://dir/root */
	struct storage *s;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;

	snprintf(f->dir, sizeof(f->dir), "/tmp/frugal-test-storage-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->root = fs_path_join(f->dir, "root");
	f->url = xasprintf("file://%s", f->root);
	assert_int_equal(storage_open(f->url, &f->s, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	storage_free(f->s);
	assert_int_equal(fs_remove_tree(f->dir, NULL), 0);
	free(f->root);
	free(f->url);
	free(f);
	return 0;
}

/* Write a local file under the fixture's directory; returns its path. */
static char *write_local(struct fixture *f, const char *name, const char *content)
{
	char *path = fs_path_join(f->dir, name);

	assert_int_equal(fs_write_atomic(path, content, strlen(content), 0644, 1, NULL), 0);
	return path;
}

/* The object at key as a string (asserts that it exists). Caller frees. */
static char *get_str(struct fixture *f, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(storage_get(f->s, key, 0, &sb, &err), 0);
	return strbuf_detach(&sb, NULL);
}

/* Number of entries in directory path, "." and ".." aside. */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_open_errors(void **state)
{
	struct error err = ERROR_INIT;
	struct storage *s = NULL;

	(void)state;
	assert_int_equal(storage_open("ftp://bucket/prefix", &s, &err), FRUGAL_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "unsupported storage URL 'ftp://bucket/prefix'"));
	assert_non_null(strstr(err.msg, "file:///absolute/path"));
	assert_int_equal(storage_open("/just/a/path", &s, &err), FRUGAL_EINVAL);
	assert_int_equal(storage_open("", &s, &err), FRUGAL_EINVAL);
	assert_int_equal(storage_open("file://relative/path", &s, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "absolute"));
	assert_int_equal(storage_open("file://", &s, &err), FRUGAL_EINVAL);
	assert_null(s);
}

static void test_open_creates_root(void **state)
{
	struct fixture *f = *state;
	struct storage *s = NULL;
	struct stat st;
	char *deep = xasprintf("FILE://%s/a/b/", f->dir);
	char *u, *want;

	assert_int_equal(stat(f->root, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Scheme in any case; trailing slash dropped from the URL. */
	assert_int_equal(storage_open(deep, &s, NULL), 0);
	assert_true(fs_is_dir(strchr(deep, '/') + 2));
	u = storage_url_of(s, "x/y");
	want = xasprintf("FILE://%s/a/b/x/y", f->dir);
	assert_string_equal(u, want);
	free(u);
	free(want);
	storage_free(s);
	free(deep);
	storage_free(NULL);
}

static void test_put_get(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct stat st;
	int64_t size = -1, mtime = -1;
	char *got, *path, *u;

	assert_int_equal(storage_put(f->s, "jobs/ab12/status.json", "{\"a\":1}", 7, 0, &err), 0);
	got = get_str(f, "jobs/ab12/status.json");
	assert_string_equal(got, "{\"a\":1}");
	free(got);

	assert_int_equal(storage_stat(f->s, "jobs/ab12/status.json", &size, &mtime, &err), 0);
	assert_int_equal(size, 7);
	assert_true(mtime > 0);
	assert_int_equal(storage_stat(f->s, "jobs/ab12/status.json", NULL, NULL, &err), 0);
	assert_int_equal(storage_stat(f->s, "jobs/ab12/nope", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	/* A directory is not an object. */
	assert_int_equal(storage_stat(f->s, "jobs/ab12", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(storage_get(f->s, "jobs/ab12", 0, &(struct strbuf)STRBUF_INIT, &err),
			 FRUGAL_ENOTFOUND);

	path = storage_local_path(f->s, "jobs/ab12/status.json");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);
	path = storage_local_path(f->s, "jobs/ab12");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	free(path);
	assert_null(storage_local_path(f->s, "../x"));

	u = storage_url_of(f->s, "jobs/ab12/status.json");
	got = xasprintf("%s/jobs/ab12/status.json", f->url);
	assert_string_equal(u, got);
	free(u);
	free(got);
	u = storage_url_of(f->s, "");
	assert_string_equal(u, f->url);
	free(u);

	/* Empty objects are objects. */
	assert_int_equal(storage_put(f->s, "empty", "", 0, 0, &err), 0);
	got = get_str(f, "empty");
	assert_string_equal(got, "");
	free(got);
}

static void test_get_max_and_missing(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(storage_put(f->s, "k", "0123456789", 10, 0, &err), 0);
	strbuf_adds(&sb, "keep:");
	assert_int_equal(storage_get(f->s, "k", 5, &sb, &err), FRUGAL_ETOOBIG);
	assert_string_equal(sb.buf, "keep:");
	assert_int_equal(storage_get(f->s, "k", 10, &sb, &err), 0);
	assert_string_equal(sb.buf, "keep:0123456789");
	assert_int_equal(storage_get(f->s, "missing", 0, &sb, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "missing"));
	assert_string_equal(sb.buf, "keep:0123456789");
	strbuf_release(&sb);
}

static void test_no_overwrite(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char *got, *dir, *src;

	assert_int_equal(storage_put(f->s, "out/result", "one", 3, STORAGE_NO_OVERWRITE, &err), 0);
	assert_int_equal(storage_put(f->s, "out/result", "two", 3, STORAGE_NO_OVERWRITE, &err),
			 FRUGAL_EEXIST);
	got = get_str(f, "out/result");
	assert_string_equal(got, "one");
	free(got);

	src = write_local(f, "local", "four");
	assert_int_equal(storage_put_file(f->s, "out/result", src, STORAGE_NO_OVERWRITE, &err),
			 FRUGAL_EEXIST);
	got = get_str(f, "out/result");
	assert_string_equal(got, "one");
	free(got);
	/* The failed puts left no temporary file beside the object. */
	dir = fs_path_join(f->root, "out");
	assert_int_equal(count_entries(dir), 1);
	free(dir);

	/* Without the flag, put replaces. */
	assert_int_equal(storage_put(f->s, "out/result", "three", 5, 0, &err), 0);
	got = get_str(f, "out/result");
	assert_string_equal(got, "three");
	free(got);
	assert_int_equal(storage_put_file(f->s, "out/result", src, 0, &err), 0);
	got = get_str(f, "out/result");
	assert_string_equal(got, "four");
	free(got);
	free(src);
}

static void test_versioned_key(void **state)
{
	static const struct { const char *key; unsigned n; const char *want; } cases[] = {
		{ "weights/model.pth", 2, "weights/model.v2.pth" },
		{ "weights/model.pth", 13, "weights/model.v13.pth" },
		{ "logs/run", 2, "logs/run.v2" },
		{ "archive.tar.gz", 2, "archive.tar.v2.gz" },
		{ ".env", 3, ".env.v3" },
		{ "dir.d/file", 2, "dir.d/file.v2" },
		{ "dir.d/.hidden", 2, "dir.d/.hidden.v2" },
		{ "a", 2, "a.v2" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = storage_versioned_key(cases[i].key, cases[i].n);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_put_file_versioned(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char *src1 = write_local(f, "m1", "first");
	char *src2 = write_local(f, "m2", "second");
	char *src3 = write_local(f, "m3", "third");
	char *missing = fs_path_join(f->dir, "missing");
	char *key = NULL, *got;

	assert_int_equal(storage_put_file_versioned(f->s, "weights/model.pth", src1, &key, &err), 0);
	assert_string_equal(key, "weights/model.pth");
	free(key);
	assert_int_equal(storage_put_file_versioned(f->s, "weights/model.pth", src2, &key, &err), 0);
	assert_string_equal(key, "weights/model.v2.pth");
	free(key);
	assert_int_equal(storage_put_file_versioned(f->s, "weights/model.pth", src3, &key, &err), 0);
	assert_string_equal(key, "weights/model.v3.pth");
	free(key);

	got = get_str(f, "weights/model.pth");
	assert_string_equal(got, "first");
	free(got);
	got = get_str(f, "weights/model.v2.pth");
	assert_string_equal(got, "second");
	free(got);
	got = get_str(f, "weights/model.v3.pth");
	assert_string_equal(got, "third");
	free(got);

	/* No extension: the version goes at the end. */
	assert_int_equal(storage_put_file_versioned(f->s, "logs/run", src1, &key, &err), 0);
	free(key);
	assert_int_equal(storage_put_file_versioned(f->s, "logs/run", src2, &key, &err), 0);
	assert_string_equal(key, "logs/run.v2");
	free(key);

	/* A missing source stores nothing and leaves *ret_key alone. */
	key = NULL;
	assert_int_equal(storage_put_file_versioned(f->s, "weights/model.pth", missing, &key, &err),
			 FRUGAL_ENOTFOUND);
	assert_null(key);
	assert_int_equal(storage_stat(f->s, "weights/model.v4.pth", NULL, NULL, NULL),
			 FRUGAL_ENOTFOUND);
	assert_int_equal(storage_put_file_versioned(f->s, "../x", src1, &key, &err), FRUGAL_EINVAL);
	assert_null(key);
	free(src1);
	free(src2);
	free(src3);
	free(missing);
}

static void test_list(void **state)
{
	static const char *const keys[] = { "b/2", "a/1", "a/sub/3", "ab", "c", "a/sub/deeper/4" };
	struct fixture *f = *state;
	struct storage_list l = STORAGE_LIST_INIT;
	struct error err = ERROR_INIT;
	char *tmp, *dir;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(storage_put(f->s, keys[i], keys[i], strlen(keys[i]), 0, &err), 0);
	/* A writer's temporary file and an empty directory are not objects. */
	tmp = fs_path_join(f->root, "a/x.tmp-123-4");
	assert_int_equal(fs_write_atomic(tmp, "p", 1, 0600, 1, NULL), 0);
	dir = fs_path_join(f->root, "emptydir");
	assert_int_equal(mkdir(dir, 0700), 0);

	assert_int_equal(storage_list(f->s, "", &l, &err), 0);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.items[0].key, "a/1");
	assert_string_equal(l.items[1].key, "a/sub/3");
	assert_string_equal(l.items[2].key, "a/sub/deeper/4");
	assert_string_equal(l.items[3].key, "ab");
	assert_string_equal(l.items[4].key, "b/2");
	assert_string_equal(l.items[5].key, "c");
	assert_int_equal(l.items[0].size, 3);
	assert_true(l.items[0].mtime_ms > 0);
	storage_list_release(&l);

	assert_int_equal(storage_list(f->s, NULL, &l, &err), 0);
	assert_int_equal(l.n, 6);
	storage_list_release(&l);

	assert_int_equal(storage_list(f->s, "a/", &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0].key, "a/1");
	assert_string_equal(l.items[2].key, "a/sub/deeper/4");
	storage_list_release(&l);

	/* A prefix need not end on a component boundary. */
	assert_int_equal(storage_list(f->s, "a", &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[3].key, "ab");
	storage_list_release(&l);

	assert_int_equal(storage_list(f->s, "a/sub/d", &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].key, "a/sub/deeper/4");
	storage_list_release(&l);

	assert_int_equal(storage_list(f->s, "nothing/here/", &l, &err), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(storage_list(f->s, "../", &l, &err), FRUGAL_EINVAL);
	storage_list_release(&l);
	free(tmp);
	free(dir);
}

static void test_append_read_at(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *got, *path;
	struct stat st;

	assert_int_equal(storage_append(f->s, "logs/1/out.log", "hello ", 6, &err), 0);
	assert_int_equal(storage_append(f->s, "logs/1/out.log", "world", 5, &err), 0);
	got = get_str(f, "logs/1/out.log");
	assert_string_equal(got, "hello world");
	free(got);
	path = storage_local_path(f->s, "logs/1/out.log");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(path);

	assert_int_equal(storage_read_at(f->s, "logs/1/out.log", 6, 0, &sb, &err), 0);
	assert_string_equal(sb.buf, "world");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(f->s, "logs/1/out.log", 6, 3, &sb, &err), 0);
	assert_string_equal(sb.buf, "wor");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(f->s, "logs/1/out.log", 0, 5, &sb, &err), 0);
	assert_string_equal(sb.buf, "hello");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(f->s, "logs/1/out.log", 100, 0, &sb, &err), 0);
	assert_int_equal(sb.len, 0);
	assert_int_equal(storage_read_at(f->s, "logs/1/out.log", -1, 0, &sb, &err), FRUGAL_EINVAL);
	assert_int_equal(storage_read_at(f->s, "logs/1/none.log", 0, 0, &sb, &err),
			 FRUGAL_ENOTFOUND);
	strbuf_release(&sb);
}

static void test_bad_keys(void **state)
{
	static const char *const bad[] = {
		"", "../x", "/abs", "a//b", "a/../b", "a/./b", "./a", "a/", "..", ".",
		"x\ny", "tab\there", "del\x7f",
	};
	static const char *const good[] = {
		"a", "a/b.c", "a..b", "jobs/ab12cd/status.json", ".hidden", "a/.b", "spaces ok",
	};
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	char longkey[1100];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(storage_key_valid(bad[i]));
		assert_int_equal(storage_put(f->s, bad[i], "x", 1, 0, &err), FRUGAL_EINVAL);
		assert_int_equal(storage_get(f->s, bad[i], 0, &sb, &err), FRUGAL_EINVAL);
		assert_int_equal(storage_append(f->s, bad[i], "x", 1, &err), FRUGAL_EINVAL);
		assert_int_equal(storage_del(f->s, bad[i], &err), FRUGAL_EINVAL);
		assert_int_equal(storage_stat(f->s, bad[i], NULL, NULL, &err), FRUGAL_EINVAL);
	}
	assert_non_null(strstr(err.msg, "invalid storage key"));
	assert_false(storage_key_valid(NULL));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(storage_key_valid(good[i]));

	memset(longkey, 'k', sizeof(longkey));
	longkey[1024] = '\0';
	assert_true(storage_key_valid(longkey));
	longkey[1024] = 'k';
	longkey[1025] = '\0';
	assert_false(storage_key_valid(longkey));
	/* Nothing was written outside the root, nor in it. */
	assert_int_equal(count_entries(f->root), 0);
	assert_int_equal(count_entries(f->dir), 1);
	strbuf_release(&sb);
}

static void test_del(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;

	assert_int_equal(storage_put(f->s, "d/x", "1", 1, 0, &err), 0);
	assert_int_equal(storage_del(f->s, "d/x", &err), 0);
	assert_int_equal(storage_stat(f->s, "d/x", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(storage_del(f->s, "d/x", &err), 0);
	assert_int_equal(storage_del(f->s, "never/was", &err), 0);
}

static void test_failed_put_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char *missing = fs_path_join(f->dir, "no-such-file");
	char *adir = fs_path_join(f->dir, "adir");

	assert_int_equal(storage_put_file(f->s, "ckpt/step1/model.pt", missing, 0, &err),
			 FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no-such-file"));
	assert_int_equal(storage_stat(f->s, "ckpt/step1/model.pt", NULL, NULL, NULL),
			 FRUGAL_ENOTFOUND);
	/* No object, no temporary file, not even the parent directories. */
	assert_int_equal(count_entries(f->root), 0);

	/* A directory is not a file to store. */
	assert_int_equal(mkdir(adir, 0700), 0);
	assert_int_equal(storage_put_file(f->s, "x", adir, 0, &err), FRUGAL_EINVAL);
	assert_int_equal(count_entries(f->root), 0);
	free(missing);
	free(adir);
}

static void test_get_file(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *dst = fs_path_join(f->dir, "restore/deep/model.pt");

	assert_int_equal(storage_put(f->s, "ckpt/model.pt", "weights", 7, 0, &err), 0);
	assert_int_equal(storage_get_file(f->s, "ckpt/model.pt", dst, &err), 0);
	assert_int_equal(fs_read_file(dst, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, "weights");
	/* Replaces what is there. */
	assert_int_equal(storage_put(f->s, "ckpt/model.pt", "newer", 5, 0, &err), 0);
	assert_int_equal(storage_get_file(f->s, "ckpt/model.pt", dst, &err), 0);
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(dst, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, "newer");
	assert_int_equal(storage_get_file(f->s, "ckpt/none", dst, &err), FRUGAL_ENOTFOUND);
	strbuf_release(&sb);
	free(dst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_open_creates_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_max_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_overwrite, setup, teardown),
		cmocka_unit_test(test_versioned_key),
		cmocka_unit_test_setup_teardown(test_put_file_versioned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_read_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_put_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
