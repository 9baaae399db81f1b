/*
 * Unit tests for the gs:// storage driver (backend/gcp/gcs.c) against the
 * GCS JSON API of tests/fakes/gcp_fake.py: the guarantees of storage.h
 * that test_storage.c checks for file://, plus what is GCS's own:
 * no-overwrite through ifGenerationMatch=0, resumable uploads that
 * resume after a lost chunk, appends by compose (held back within a
 * second), listings over several pages, a missing bucket that is not
 * mistaken for a missing object, and no token in any message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "gcp_fake.h"
#include "storage/storage.h"

struct fixture {
	struct gfake f;
	struct storage *s;
};

static int setup(void **state)
{
	struct fixture *x = xcalloc(1, sizeof(*x));
	struct error err = ERROR_INIT;

	*state = x;
	if (gfake_start(&x->f, "--bucket bkt --bucket other --page-size 2") < 0)
		return 0;
	setenv("GOOGLE_APPLICATION_CREDENTIALS", x->f.key_file, 1);
	setenv("FRUGAL_GCS_ENDPOINT", x->f.url, 1);
	assert_int_equal(storage_open("gs://bkt/some/prefix/", &x->s, &err), 0);
	assert_string_equal(x->s->url, "gs://bkt/some/prefix");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *x = *state;

	storage_free(x->s);
	gfake_stop(&x->f);
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	unsetenv("FRUGAL_GCS_ENDPOINT");
	free(x);
	return 0;
}

/* Skip when the fake could not start (python3 or openssl missing). */
#define NEED_FAKE(x) do { if (!(x)->s) skip(); } while (0)

static char *get_str(struct storage *s, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(storage_get(s, key, 0, &sb, &err), 0);
	return strbuf_detach(&sb, NULL);
}

/* The object as the fake holds it (bucket bkt). */
static char *fake_object(struct fixture *x, const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf("/_fake/object?bucket=bkt&name=%s", name);

	assert_int_equal(gfake_admin(&x->f, "GET", path, NULL, &sb), 200);
	free(path);
	return strbuf_detach(&sb, NULL);
}

static void test_open_errors(void **state)
{
	struct error err = ERROR_INIT;
	struct storage *s = NULL;

	(void)state;
	assert_int_equal(storage_open("gs://", &s, &err), FRUGAL_EINVAL);
	assert_int_equal(storage_open("gs://Bad_Bucket!", &s, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "gs://BUCKET"));
	assert_int_equal(storage_open("gs://bkt/a/../b", &s, &err), FRUGAL_EINVAL);
	assert_null(s);
}

static void test_put_get_stat(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;
	int64_t size = -1, mtime = 0;
	char *v;

	NEED_FAKE(x);
	assert_int_equal(storage_put(x->s, "jobs/a/status.json", "{\"a\":1}", 7, 0, &err), 0);
	v = get_str(x->s, "jobs/a/status.json");
	assert_string_equal(v, "{\"a\":1}");
	free(v);
	/* Under the prefix, with '/' in the name. */
	v = fake_object(x, "some/prefix/jobs/a/status.json");
	assert_string_equal(v, "{\"a\":1}");
	free(v);
	assert_int_equal(storage_put(x->s, "jobs/a/status.json", "{}", 2, 0, &err), 0);
	v = get_str(x->s, "jobs/a/status.json");
	assert_string_equal(v, "{}");
	free(v);
	assert_int_equal(storage_stat(x->s, "jobs/a/status.json", &size, &mtime, &err), 0);
	assert_int_equal(size, 2);
	assert_true(mtime > time_now_ms() - 60000 && mtime < time_now_ms() + 60000);
	assert_int_equal(storage_stat(x->s, "jobs/a/none", &size, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(storage_put(x->s, "empty", "", 0, 0, &err), 0);
	v = get_str(x->s, "empty");
	assert_string_equal(v, "");
	free(v);
	assert_null(storage_local_path(x->s, "empty"));
	/* Keys with spaces and '+' survive the URL encoding. */
	assert_int_equal(storage_put(x->s, "a b/c+d.txt", "x", 1, 0, &err), 0);
	v = get_str(x->s, "a b/c+d.txt");
	assert_string_equal(v, "x");
	free(v);
}

static void test_get_max_and_missing(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;

	NEED_FAKE(x);
	assert_int_equal(storage_put(x->s, "big", "0123456789", 10, 0, &err), 0);
	assert_int_equal(storage_get(x->s, "big", 5, &sb, &err), FRUGAL_ETOOBIG);
	assert_int_equal(storage_get(x->s, "missing", 0, &sb, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "missing"));
	assert_non_null(strstr(err.msg, "gs://bkt/some/prefix"));
	strbuf_release(&sb);
}

static void test_no_overwrite(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;
	char *v, *key;

	NEED_FAKE(x);
	assert_int_equal(storage_put(x->s, "out/w.pth", "one", 3, STORAGE_NO_OVERWRITE, &err), 0);
	assert_int_equal(storage_put(x->s, "out/w.pth", "two", 3, STORAGE_NO_OVERWRITE, &err),
			 FRUGAL_EEXIST);
	v = get_str(x->s, "out/w.pth");
	assert_string_equal(v, "one");
	free(v);
	/* Versioned puts go beside it, never over it. */
	{
		char *path = xasprintf("%s/local.pth", x->f.dir);
		assert_int_equal(fs_write_atomic(path, "three", 5, 0600, 1, NULL), 0);
		assert_int_equal(storage_put_file_versioned(x->s, "out/w.pth", path, &key, &err), 0);
		assert_string_equal(key, "out/w.v2.pth");
		free(key);
		assert_int_equal(storage_put_file(x->s, "out/w.pth", path, STORAGE_NO_OVERWRITE,
						  &err), FRUGAL_EEXIST);
		free(path);
	}
	v = get_str(x->s, "out/w.v2.pth");
	assert_string_equal(v, "three");
	free(v);
	v = get_str(x->s, "out/w.pth");
	assert_string_equal(v, "one");
	free(v);
}

/* A file of n bytes with a pattern; its path. */
static char *big_file(struct fixture *x, const char *name, size_t n)
{
	char *path = fs_path_join(x->f.dir, name), *data = xmalloc(n);
	size_t i;

	for (i = 0; i < n; i++)
		data[i] = (char)((i * 7 + i / 4096) & 0xff);
	assert_int_equal(fs_write_atomic(path, data, n, 0600, 1, NULL), 0);
	free(data);
	return path;
}

static void test_resumable_upload(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;
	size_t n = 20 * 1024 * 1024 + 12345;
	char *path, *back;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	NEED_FAKE(x);
	path = big_file(x, "ckpt.bin", n);
	/* The second chunk is lost half way: the upload resumes from what the
	 * server holds and the object is whole. */
	assert_int_equal(gfake_admin(&x->f, "POST", "/_fake/config", "{\"fail_chunks\": 1}", NULL),
			 200);
	assert_int_equal(storage_put_file(x->s, "ckpt/objects/abc", path, STORAGE_NO_OVERWRITE,
					  &err), 0);
	assert_true(gfake_counter(&x->f, "resumable_chunks") >= 3);
	back = fs_path_join(x->f.dir, "back.bin");
	assert_int_equal(storage_get_file(x->s, "ckpt/objects/abc", back, &err), 0);
	assert_int_equal(fs_read_file(path, 64 << 20, &a, NULL), 0);
	assert_int_equal(fs_read_file(back, 64 << 20, &b, NULL), 0);
	assert_int_equal(a.len, n);
	assert_int_equal(b.len, n);
	assert_memory_equal(a.buf, b.buf, n);
	/* No overwrite holds for resumable uploads too. */
	assert_int_equal(storage_put_file(x->s, "ckpt/objects/abc", path, STORAGE_NO_OVERWRITE,
					  &err), FRUGAL_EEXIST);
	/* A missing source leaves nothing behind. */
	assert_int_equal(storage_put_file(x->s, "nothing", "/nonexistent/file", 0, &err),
			 FRUGAL_ENOTFOUND);
	assert_int_equal(storage_stat(x->s, "nothing", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(storage_get_file(x->s, "nothing", back, &err), FRUGAL_ENOTFOUND);
	strbuf_release(&a);
	strbuf_release(&b);
	free(path);
	free(back);
}

static void test_list_pages(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;
	struct storage_list l = STORAGE_LIST_INIT;
	const char *keys[] = { "jobs/b/x", "jobs/a/2", "jobs/a/1", "jobs/a/sub/3", "jobsx", "z" };
	size_t i;

	NEED_FAKE(x);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(storage_put(x->s, keys[i], "d", 1, 0, &err), 0);
	/* The fake answers 2 objects a page: several pages, sorted by key. */
	assert_int_equal(storage_list(x->s, "jobs/", &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[0].key, "jobs/a/1");
	assert_string_equal(l.items[1].key, "jobs/a/2");
	assert_string_equal(l.items[2].key, "jobs/a/sub/3");
	assert_string_equal(l.items[3].key, "jobs/b/x");
	assert_int_equal(l.items[0].size, 1);
	assert_true(l.items[0].mtime_ms > 0);
	storage_list_release(&l);
	assert_int_equal(storage_list(x->s, "", &l, &err), 0);
	assert_int_equal(l.n, 6);
	storage_list_release(&l);
	assert_int_equal(storage_list(x->s, "nothing/", &l, &err), 0);
	assert_int_equal(l.n, 0);
	storage_list_release(&l);
}

static void test_append_read_at(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct storage_list l = STORAGE_LIST_INIT;
	char *v;

	NEED_FAKE(x);
	assert_int_equal(storage_append(x->s, "logs/attempt-1.log", "line 1\n", 7, &err), 0);
	/* Within a second: held back, written by the next other operation. */
	assert_int_equal(storage_append(x->s, "logs/attempt-1.log", "line 2\n", 7, &err), 0);
	assert_int_equal(storage_append(x->s, "logs/attempt-1.log", "line 3\n", 7, &err), 0);
	v = get_str(x->s, "logs/attempt-1.log");
	assert_string_equal(v, "line 1\nline 2\nline 3\n");
	free(v);
	time_sleep_ms(1100);
	assert_int_equal(storage_append(x->s, "logs/attempt-1.log", "line 4\n", 7, &err), 0);
	v = fake_object(x, "some/prefix/logs/attempt-1.log");
	assert_string_equal(v, "line 1\nline 2\nline 3\nline 4\n");
	free(v);
	/* Small objects are rewritten, conditional on their generation. */
	assert_int_equal(gfake_counter(&x->f, "compose"), 0);
	/* Reading from an offset, with and without a cap, and past the end. */
	assert_int_equal(storage_read_at(x->s, "logs/attempt-1.log", 7, 6, &sb, &err), 0);
	assert_string_equal(sb.buf, "line 2");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(x->s, "logs/attempt-1.log", 21, 0, &sb, &err), 0);
	assert_string_equal(sb.buf, "line 4\n");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(x->s, "logs/attempt-1.log", 28, 10, &sb, &err), 0);
	assert_int_equal(sb.len, 0);
	assert_int_equal(storage_read_at(x->s, "logs/none.log", 0, 10, &sb, &err),
			 FRUGAL_ENOTFOUND);
	/* The temporary parts are gone and never listed. */
	assert_int_equal(storage_list(x->s, "", &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].key, "logs/attempt-1.log");
	storage_list_release(&l);
	/* Appends to another key write the first one's at once. */
	assert_int_equal(storage_append(x->s, "logs/a.log", "a", 1, &err), 0);
	assert_int_equal(storage_append(x->s, "logs/a.log", "b", 1, &err), 0);
	assert_int_equal(storage_append(x->s, "logs/b.log", "c", 1, &err), 0);
	v = fake_object(x, "some/prefix/logs/a.log");
	assert_string_equal(v, "ab");
	free(v);
	/* And closing writes the rest. */
	assert_int_equal(storage_append(x->s, "logs/b.log", "d", 1, &err), 0);
	storage_free(x->s);
	x->s = NULL;
	v = fake_object(x, "some/prefix/logs/b.log");
	assert_string_equal(v, "cd");
	free(v);
	assert_int_equal(storage_open("gs://bkt/some/prefix", &x->s, &err), 0);
	/* Past 1 MiB: the bytes go up as a part composed onto the object. */
	{
		size_t n = (1u << 20) + 10;
		char *big = xmalloc(n);

		memset(big, 'x', n);
		assert_int_equal(storage_put(x->s, "logs/big.log", big, n, 0, &err), 0);
		assert_int_equal(storage_append(x->s, "logs/big.log", "tail\n", 5, &err), 0);
		assert_int_equal(gfake_counter(&x->f, "compose"), 1);
		strbuf_reset(&sb);
		assert_int_equal(storage_read_at(x->s, "logs/big.log", (int64_t)n, 0, &sb, &err), 0);
		assert_string_equal(sb.buf, "tail\n");
		assert_int_equal(storage_list(x->s, "", &l, &err), 0);
		for (size_t i = 0; i < l.n; i++)
			assert_null(strstr(l.items[i].key, ".frugal-tmp"));
		storage_list_release(&l);
		v = fake_object(x, "some/prefix/logs/big.log");
		free(v);
		free(big);
	}
	{
		struct strbuf st = STRBUF_INIT;
		char *objs, *reqs;

		/* The fake's objects (not its request log) hold no part. */
		gfake_admin(&x->f, "GET", "/_fake/state", NULL, &st);
		objs = strstr(st.buf, "\"objects\":");
		reqs = strstr(st.buf, "\"requests\":");
		assert_non_null(objs);
		assert_non_null(reqs);
		*reqs = '\0';
		assert_null(strstr(objs, ".frugal-tmp"));
		strbuf_release(&st);
	}
	strbuf_release(&sb);
}

static void test_del(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;

	NEED_FAKE(x);
	assert_int_equal(storage_put(x->s, "d/1", "x", 1, 0, &err), 0);
	assert_int_equal(storage_del(x->s, "d/1", &err), 0);
	assert_int_equal(storage_stat(x->s, "d/1", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(storage_del(x->s, "d/1", &err), 0);
	assert_int_equal(storage_del(x->s, "../x", &err), FRUGAL_EINVAL);
}

static void test_bucket_missing_and_no_token(void **state)
{
	struct fixture *x = *state;
	struct error err = ERROR_INIT;
	struct storage *s = NULL;
	struct storage_list l = STORAGE_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;

	NEED_FAKE(x);
	assert_int_equal(storage_open("gs://no-such-bucket", &s, &err), 0);
	/* A missing bucket is an error, never "no such object" (an empty
	 * checkpoint list would start a job afresh). */
	assert_int_not_equal(storage_list(s, "jobs/", &l, &err), 0);
	assert_non_null(strstr(err.msg, "bucket"));
	assert_int_equal(storage_get(s, "jobs/x", 0, &sb, &err), FRUGAL_EPROVIDER);
	assert_null(strstr(err.msg, "ya29"));
	assert_null(strstr(err.msg, "Bearer"));
	storage_free(s);
	/* Bad credentials: refused, and the message names the key file only. */
	{
		char *bad = xasprintf("%s/bad.json", x->f.dir);
		const char *doc = "{\"type\": \"authorized_user\", \"client_id\": \"c\", "
				  "\"client_secret\": \"s\", \"refresh_token\": \"TOPSECRET-RT\", "
				  "\"token_uri\": \"http://127.0.0.1:1/token\"}";
		assert_int_equal(fs_write_atomic(bad, doc, strlen(doc), 0600, 1, NULL), 0);
		setenv("GOOGLE_APPLICATION_CREDENTIALS", bad, 1);
		assert_int_equal(storage_open("gs://bkt", &s, &err), 0);
		assert_int_not_equal(storage_get(s, "x", 0, &sb, &err), 0);
		assert_null(strstr(err.msg, "TOPSECRET"));
		storage_free(s);
		setenv("GOOGLE_APPLICATION_CREDENTIALS", x->f.key_file, 1);
		free(bad);
	}
	strbuf_release(&sb);
	assert_int_equal(gfake_counter(&x->f, "auth_failures"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_put_get_stat, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_max_and_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_overwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resumable_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_read_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bucket_missing_and_no_token, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
