/*
 * test_dataset: storage/dataset.c, a local tree stored content-addressed
 * in a file:// storage and placed back: the same data twice sends
 * nothing, one changed file sends one object, a fetch keeps what is
 * already there and never replaces other content, and a tampered object
 * is refused.
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
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "contract/key.h"
#include "storage/dataset.h"
#include "storage/storage.h"

struct fixture {
	char *root, *src, *dst;
	struct storage *st;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *url;

	f->root = xstrdup("/tmp/frugal-test-dataset-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	f->src = fs_path_join(f->root, "src");
	f->dst = fs_path_join(f->root, "dst");
	url = xasprintf("file://%s/storage", f->root);
	if (storage_open(url, &f->st, NULL) < 0)
		return -1;
	free(url);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	storage_free(f->st);
	fs_remove_tree(f->root, NULL);
	free(f->root);
	free(f->src);
	free(f->dst);
	free(f);
	return 0;
}

static void put(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *path = fs_path_join(dir, rel), *parent = xstrdup(path);

	*strrchr(parent, '/') = 0;
	assert_int_equal(fs_mkdir_p(parent, 0755, NULL), 0);
	unlink(path);
	assert_int_equal(fs_write_atomic(path, text, strlen(text), mode, 1, NULL), 0);
	free(parent);
	free(path);
}

static char *slurp(const char *dir, const char *rel)
{
	char *path = fs_path_join(dir, rel);
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen(path, "r");
	char buf[256];
	size_t n;

	assert_non_null(fp);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	free(path);
	return strbuf_detach(&sb, NULL);
}

static size_t n_objects(struct storage *st)
{
	struct storage_list l = STORAGE_LIST_INIT;
	size_t n;

	assert_int_equal(storage_list(st, "data/objects", &l, NULL), 0);
	n = l.n;
	storage_list_release(&l);
	return n;
}

static void test_upload_once(void **state)
{
	struct fixture *f = *state;
	struct dataset_stats a = DATASET_STATS_INIT, b = DATASET_STATS_INIT, c = DATASET_STATS_INIT;
	char id1[DATASET_ID_LEN + 1], id2[DATASET_ID_LEN + 1], id3[DATASET_ID_LEN + 1];
	char *lnk = fs_path_join(f->src, "link");

	put(f->src, "a.txt", "alpha", 0644);
	put(f->src, "sub/b.bin", "beta", 0755);
	put(f->src, "sub/copy.txt", "alpha", 0644);	/* same content: one object */
	assert_int_equal(symlink("/etc/passwd", lnk), 0);
	assert_int_equal(dataset_upload(f->st, f->src, id1, &a, NULL), 0);
	assert_int_equal(a.files, 3);
	assert_int_equal(a.bytes, 14);
	assert_int_equal(a.sent_files, 2);
	assert_int_equal(a.skipped, 1);
	assert_int_equal(n_objects(f->st), 2);
	assert_int_equal(strlen(id1), 64);

	/* the same data again: the same id, nothing sent */
	assert_int_equal(dataset_upload(f->st, f->src, id2, &b, NULL), 0);
	assert_string_equal(id1, id2);
	assert_int_equal(b.sent_files, 0);
	assert_int_equal(b.sent_bytes, 0);

	/* one file changed: a new id, one object sent */
	put(f->src, "sub/b.bin", "beta2", 0755);
	assert_int_equal(dataset_upload(f->st, f->src, id3, &c, NULL), 0);
	assert_string_not_equal(id1, id3);
	assert_int_equal(c.sent_files, 1);
	assert_int_equal(c.sent_bytes, 5);
	assert_int_equal(n_objects(f->st), 3);
	free(lnk);
}

static void test_fetch(void **state)
{
	struct fixture *f = *state;
	struct dataset_stats a = DATASET_STATS_INIT, b = DATASET_STATS_INIT, c = DATASET_STATS_INIT;
	struct error err = ERROR_INIT;
	char id[DATASET_ID_LEN + 1], *text, *one;
	struct stat sb;

	put(f->src, "a.txt", "alpha", 0644);
	put(f->src, "deep/er/tool.sh", "#!/bin/sh\n", 0755);
	assert_int_equal(dataset_upload(f->st, f->src, id, &a, NULL), 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(dataset_fetch(f->st, id, f->dst, &a, NULL), 0);
	assert_int_equal(a.files, 2);
	assert_int_equal(a.sent_files, 2);
	text = slurp(f->dst, "deep/er/tool.sh");
	assert_string_equal(text, "#!/bin/sh\n");
	free(text);
	one = fs_path_join(f->dst, "deep/er/tool.sh");
	assert_int_equal(stat(one, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0755);
	free(one);

	/* again: what is there with the same content is kept */
	assert_int_equal(dataset_fetch(f->st, id, f->dst, &b, NULL), 0);
	assert_int_equal(b.kept_files, 2);
	assert_int_equal(b.sent_files, 0);

	/* other content in the way is never replaced */
	put(f->dst, "a.txt", "mine", 0644);
	assert_int_equal(dataset_fetch(f->st, id, f->dst, &c, &err), FRUGAL_EEXIST);
	assert_non_null(strstr(error_msg(&err), "a.txt' already exists with other content"));
	text = slurp(f->dst, "a.txt");
	assert_string_equal(text, "mine");
	free(text);
}

static void test_single_file_and_tamper(void **state)
{
	struct fixture *f = *state;
	struct dataset_stats a = DATASET_STATS_INIT;
	struct error err = ERROR_INIT;
	char id[DATASET_ID_LEN + 1], hex[65], *file = fs_path_join(f->root, "one.bin");
	char *obj, *target = fs_path_join(f->root, "placed/one.bin"), *text;

	assert_int_equal(fs_write_atomic(file, "payload", 7, 0600, 1, NULL), 0);
	assert_int_equal(dataset_upload(f->st, file, id, &a, NULL), 0);
	assert_int_equal(dataset_fetch(f->st, id, target, &a, NULL), 0);
	text = slurp(f->root, "placed/one.bin");
	assert_string_equal(text, "payload");
	free(text);

	/* an object whose content is not its name is refused */
	assert_int_equal(dataset_sha256_file(file, hex, NULL, NULL), 0);
	obj = key_data_object(hex);
	assert_int_equal(storage_del(f->st, obj, NULL), 0);
	assert_int_equal(storage_put(f->st, obj, "evil", 4, 0, NULL), 0);
	unlink(target);
	assert_int_equal(dataset_fetch(f->st, id, target, &a, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(error_msg(&err), "does not hold what its name says"));
	assert_int_equal(access(target, F_OK), -1);

	/* an unknown id */
	assert_int_equal(dataset_fetch(f->st, "00", target, &a, &err), FRUGAL_ENOTFOUND);
	free(obj);
	free(file);
	free(target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upload_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_single_file_and_tamper, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
