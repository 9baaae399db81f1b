/*
 * Unit tests for agent/checkpoint: upload and restore through the file://
 * driver in a temporary directory: the round trip (nested directories,
 * modes, a file large enough to be staged), incremental uploads, keeping
 * N checkpoints, incomplete and broken manifests, an upload cut short
 * between its objects and its manifest (a child with FRUGAL_FAULT set).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/checkpoint.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "storage/storage.h"

#define PREFIX "jobs/j1"

/* One test's directories and storage. */
struct fixture {
	char *root;		/* temporary directory holding the rest */
	char *src;		/* the checkpoint directory uploaded */
	char *dst;		/* where restores go */
	char *stage;		/* staging directory */
	struct storage *st;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *url;

	f->root = xstrdup("/tmp/frugal-test-checkpoint-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	f->src = fs_path_join(f->root, "ckpt");
	f->dst = fs_path_join(f->root, "restored");
	f->stage = fs_path_join(f->root, "stage");
	if (fs_mkdir_p(f->src, 0700, NULL) < 0 || fs_mkdir_p(f->stage, 0700, NULL) < 0)
		return -1;
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
	free(f->stage);
	free(f);
	return 0;
}

/* Write dir/rel (parents made) with text and mode. */
static void put_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *path = fs_path_join(dir, rel);
	char *slash = strrchr(path, '/');

	*slash = '\0';
	assert_int_equal(fs_mkdir_p(path, 0755, NULL), 0);
	*slash = '/';
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600, 1, NULL), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

/* Set the mtime of dir/rel an hour back: a file the cache can trust. */
static void make_old(const char *dir, const char *rel)
{
	char *path = fs_path_join(dir, rel);
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 3600;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
	free(path);
}

/* dir/rel holds exactly text with mode. */
static void expect_file(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *path = fs_path_join(dir, rel);
	struct strbuf sb = STRBUF_INIT;
	struct stat st;

	if (fs_read_file(path, 0, &sb, NULL) < 0)
		fail_msg("'%s' is missing", path);
	assert_string_equal(sb.buf, text);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, mode);
	strbuf_release(&sb);
	free(path);
}

/* Upload src with keep; returns the stats. */
static struct checkpoint_stats upload(struct fixture *f, struct checkpoint *c)
{
	struct checkpoint_stats cs = CHECKPOINT_STATS_INIT;
	struct error err = ERROR_INIT;

	(void)f;
	if (checkpoint_upload(c, &cs, &err) < 0)
		fail_msg("upload: %s", error_msg(&err));
	return cs;
}

/* Restore into dst with a fresh checkpointer (a new attempt). */
static struct checkpoint_stats restore_fresh(struct fixture *f)
{
	struct checkpoint_stats cs = CHECKPOINT_STATS_INIT;
	struct error err = ERROR_INIT;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->dst, 3, 2, f->stage);

	if (checkpoint_restore(c, &cs, &err) < 0)
		fail_msg("restore: %s", error_msg(&err));
	checkpoint_free(c);
	return cs;
}

/* Number of storage objects under PREFIX/checkpoints/sub/. */
static size_t count_keys(struct fixture *f, const char *sub)
{
	struct storage_list l = STORAGE_LIST_INIT;
	char *prefix = xasprintf("%s/checkpoints/%s/", PREFIX, sub);
	size_t n;

	assert_int_equal(storage_list(f->st, prefix, &l, NULL), 0);
	n = l.n;
	storage_list_release(&l);
	free(prefix);
	return n;
}

/* 1 when the object holding text is stored. */
static int has_object_for(struct fixture *f, struct checkpoint *c, const char *text)
{
	char *path = fs_path_join(f->root, "probe");
	char hex[65];
	char *key;
	int r;

	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600, 1, NULL), 0);
	assert_int_equal(checkpoint_sha256_file(path, hex, NULL, NULL), 0);
	key = checkpoint_object_key(c, hex);
	r = storage_stat(f->st, key, NULL, NULL, NULL) == 0;
	free(key);
	unlink(path);
	free(path);
	return r;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_sha256(void **state)
{
	struct fixture *f = *state;
	char hex[65];
	int64_t size = -1;

	put_file(f->src, "abc", "abc", 0644);
	{
		char *p = fs_path_join(f->src, "abc");
		assert_int_equal(checkpoint_sha256_file(p, hex, &size, NULL), 0);
		free(p);
	}
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(size, 3);
}

static void test_restore_nothing(void **state)
{
	struct fixture *f = *state;
	struct checkpoint_stats cs = restore_fresh(f);

	assert_int_equal(cs.seq, 0);
	assert_int_equal(cs.skipped, 0);
	assert_int_equal(cs.files, 0);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;
	char *big = xmalloc(CHECKPOINT_INMEM_MAX + 2);
	char *key;

	put_file(f->src, "model.pt", "weights v1", 0644);
	put_file(f->src, "opt/state.bin", "adam", 0600);
	put_file(f->src, "opt/deep/er/run.sh", "#!/bin/sh\n", 0755);
	put_file(f->src, "same-a", "dup", 0644);	/* two files, one object */
	put_file(f->src, "sub/same-b", "dup", 0640);
	memset(big, 'x', CHECKPOINT_INMEM_MAX + 1);	/* staged, not in memory */
	big[CHECKPOINT_INMEM_MAX + 1] = '\0';
	put_file(f->src, "big.bin", big, 0644);
	{
		/* left out: a symbolic link and an empty directory */
		char *link = fs_path_join(f->src, "latest");
		char *empty = fs_path_join(f->src, "empty");
		assert_int_equal(symlink("model.pt", link), 0);
		assert_int_equal(mkdir(empty, 0700), 0);
		free(link);
		free(empty);
	}

	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.seq, 1);
	assert_int_equal(cs.files, 6);
	assert_int_equal(cs.sent_files, 5);	/* "dup" once */
	assert_int_equal(cs.left_out, 1);
	assert_int_equal(count_keys(f, "objects"), 5);
	key = checkpoint_manifest_key(c, 1);
	assert_string_equal(key, PREFIX "/checkpoints/manifests/0000000001.json");
	free(key);
	{
		/* nothing staged is left behind */
		struct storage_list l = STORAGE_LIST_INIT;
		char *url = xasprintf("file://%s", f->stage);
		struct storage *s = NULL;
		assert_int_equal(storage_open(url, &s, NULL), 0);
		assert_int_equal(storage_list(s, "", &l, NULL), 0);
		assert_int_equal(l.n, 0);
		storage_list_release(&l);
		storage_free(s);
		free(url);
	}

	cs = restore_fresh(f);
	assert_int_equal(cs.seq, 1);
	assert_int_equal(cs.files, 6);
	assert_int_equal(cs.bytes, 10 + 4 + 10 + 3 + 3 + CHECKPOINT_INMEM_MAX + 1);
	expect_file(f->dst, "model.pt", "weights v1", 0644);
	expect_file(f->dst, "opt/state.bin", "adam", 0600);
	expect_file(f->dst, "opt/deep/er/run.sh", "#!/bin/sh\n", 0755);
	expect_file(f->dst, "same-a", "dup", 0644);
	expect_file(f->dst, "sub/same-b", "dup", 0640);
	expect_file(f->dst, "big.bin", big, 0644);
	{
		char *p = fs_path_join(f->dst, "latest");
		assert_false(fs_exists(p));
		free(p);
	}
	free(big);
	checkpoint_free(c);
}

static void test_incremental(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;
	char name[32];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "d%d/f%02d", i % 3, i);
		put_file(f->src, name, name, 0644);
		make_old(f->src, name);
	}
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.sent_files, 20);
	assert_int_equal(cs.hashed_files, 20);

	/* the same state again: nothing read, nothing sent, no manifest */
	cs = upload(f, c);
	assert_false(cs.stored);
	assert_int_equal(cs.seq, 1);
	assert_int_equal(cs.hashed_files, 0);
	assert_int_equal(cs.sent_files, 0);
	assert_int_equal(count_keys(f, "manifests"), 1);

	/* one file changed (same size): exactly that one is read and sent */
	put_file(f->src, "d1/f07", "D1/F07", 0644);
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.seq, 2);
	assert_int_equal(cs.hashed_files, 1);
	assert_int_equal(cs.sent_files, 1);
	assert_int_equal(cs.sent_bytes, 6);
	assert_int_equal(cs.files, 20);
	assert_int_equal(count_keys(f, "manifests"), 2);

	/* a fresh file is read again next time (its mtime may be racy), but
	 * its object is known and not sent again; still no new manifest */
	cs = upload(f, c);
	assert_false(cs.stored);
	assert_int_equal(cs.hashed_files, 1);
	assert_int_equal(cs.sent_files, 0);

	/* content back to an earlier object: read, not sent (stored), but a
	 * new checkpoint */
	put_file(f->src, "d1/f07", "d1/f07", 0644);
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.sent_files, 0);

	/* a mode change alone is a new checkpoint too */
	{
		char *p = fs_path_join(f->src, "d0/f00");
		assert_int_equal(chmod(p, 0600), 0);
		free(p);
	}
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.sent_files, 0);

	/* a file removed: a new checkpoint without it */
	{
		char *p = fs_path_join(f->src, "d2/f02");
		assert_int_equal(unlink(p), 0);
		free(p);
	}
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.files, 19);
	cs = restore_fresh(f);
	assert_int_equal(cs.files, 19);
	expect_file(f->dst, "d0/f00", "d0/f00", 0600);
	expect_file(f->dst, "d1/f07", "d1/f07", 0644);
	checkpoint_free(c);
}

static void test_restore_primes_upload(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint *c2;
	struct checkpoint_stats cs;
	struct error err = ERROR_INIT;

	put_file(f->src, "a", "alpha", 0644);
	put_file(f->src, "b/c", "gamma", 0644);
	cs = upload(f, c);
	assert_int_equal(cs.seq, 1);
	checkpoint_free(c);

	/* the next attempt restores, then uploads what it restored: nothing */
	c2 = checkpoint_new(f->st, PREFIX, f->dst, 3, 2, f->stage);
	assert_int_equal(checkpoint_restore(c2, &cs, &err), 0);
	assert_int_equal(cs.seq, 1);
	cs = upload(f, c2);
	assert_false(cs.stored);
	assert_int_equal(cs.hashed_files, 0);
	assert_int_equal(cs.sent_files, 0);
	/* and one change makes checkpoint 2, numbered after the last */
	put_file(f->dst, "a", "ALPHA!", 0644);
	cs = upload(f, c2);
	assert_true(cs.stored);
	assert_int_equal(cs.seq, 2);
	assert_int_equal(cs.sent_files, 1);
	checkpoint_free(c2);
}

static void test_empty_dir(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs = upload(f, c);

	/* nothing to store and no manifest */
	assert_false(cs.stored);
	assert_int_equal(cs.seq, 0);
	assert_int_equal(count_keys(f, "manifests"), 0);
	checkpoint_free(c);

	/* a directory that does not exist is empty too */
	c = checkpoint_new(f->st, PREFIX, "/nonexistent/frugal-ckpt", 3, 1, f->stage);
	cs = upload(f, c);
	assert_false(cs.stored);
	checkpoint_free(c);
}

static void test_keep(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 2, 1, f->stage);
	struct checkpoint_stats cs;
	char text[32];
	int v;

	put_file(f->src, "constant", "never changes", 0644);
	for (v = 1; v <= 4; v++) {
		snprintf(text, sizeof(text), "version %d", v);
		put_file(f->src, "model", text, 0644);
		cs = upload(f, c);
		assert_true(cs.stored);
		assert_int_equal(cs.seq, v);
		if (v <= 2) {
			assert_int_equal(cs.deleted_manifests, 0);
			assert_int_equal(cs.deleted_objects, 0);
		} else {
			assert_int_equal(cs.deleted_manifests, 1);
			assert_int_equal(cs.deleted_objects, 1);
		}
	}
	/* manifests 3 and 4 are left, and only the objects they name */
	assert_int_equal(count_keys(f, "manifests"), 2);
	{
		char *k1 = checkpoint_manifest_key(c, 2), *k3 = checkpoint_manifest_key(c, 3);
		assert_int_equal(storage_stat(f->st, k1, NULL, NULL, NULL), FRUGAL_ENOTFOUND);
		assert_int_equal(storage_stat(f->st, k3, NULL, NULL, NULL), 0);
		free(k1);
		free(k3);
	}
	assert_int_equal(count_keys(f, "objects"), 3);
	assert_false(has_object_for(f, c, "version 1"));
	assert_false(has_object_for(f, c, "version 2"));
	assert_true(has_object_for(f, c, "version 3"));
	assert_true(has_object_for(f, c, "version 4"));
	assert_true(has_object_for(f, c, "never changes"));
	cs = restore_fresh(f);
	assert_int_equal(cs.seq, 4);
	expect_file(f->dst, "model", "version 4", 0644);
	checkpoint_free(c);
}

static void test_missing_object_skipped(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;
	char hex[65];
	char *key, *p;

	put_file(f->src, "model", "good old", 0644);
	put_file(f->src, "sub/cfg", "cfg", 0644);
	assert_int_equal(upload(f, c).seq, 1);
	put_file(f->src, "model", "newer but lost", 0644);
	assert_int_equal(upload(f, c).seq, 2);

	/* the object only checkpoint 2 names disappears */
	p = fs_path_join(f->src, "model");
	assert_int_equal(checkpoint_sha256_file(p, hex, NULL, NULL), 0);
	free(p);
	key = checkpoint_object_key(c, hex);
	assert_int_equal(storage_del(f->st, key, NULL), 0);
	free(key);

	cs = restore_fresh(f);
	assert_int_equal(cs.seq, 1);
	assert_int_equal(cs.skipped, 1);
	expect_file(f->dst, "model", "good old", 0644);
	expect_file(f->dst, "sub/cfg", "cfg", 0644);
	checkpoint_free(c);
}

static void test_wrong_object_skipped(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;
	char hex[65];
	char *key, *p;

	put_file(f->src, "a", "first", 0644);
	assert_int_equal(upload(f, c).seq, 1);
	put_file(f->src, "a", "later", 0644);
	put_file(f->src, "b", "other", 0644);
	assert_int_equal(upload(f, c).seq, 2);
	/* an object of checkpoint 2 with the right size but other bytes:
	 * found while restoring, which is undone */
	p = fs_path_join(f->src, "a");
	assert_int_equal(checkpoint_sha256_file(p, hex, NULL, NULL), 0);
	free(p);
	key = checkpoint_object_key(c, hex);
	assert_int_equal(storage_put(f->st, key, "LATER", 5, 0, NULL), 0);
	free(key);

	cs = restore_fresh(f);
	assert_int_equal(cs.seq, 1);
	assert_int_equal(cs.skipped, 1);
	expect_file(f->dst, "a", "first", 0644);
	p = fs_path_join(f->dst, "b");
	assert_false(fs_exists(p));
	free(p);
	checkpoint_free(c);
}

static void test_bad_manifest_skipped(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	const char *bad[] = {
		"{not json",
		"{\"seq\": 9, \"files\": []}",	/* seq not the name's */
		"{\"seq\": 4, \"files\": [{\"path\": \"../escape\", \"sha256\": "
		"\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\", "
		"\"size\": 3, \"mode\": 420}]}",
	};
	struct checkpoint_stats cs;
	int i;

	put_file(f->src, "x", "payload", 0644);
	assert_int_equal(upload(f, c).seq, 1);
	for (i = 0; i < 3; i++) {
		char *key = checkpoint_manifest_key(c, 2 + i);
		assert_int_equal(storage_put(f->st, key, bad[i], strlen(bad[i]), 0, NULL), 0);
		free(key);
	}
	cs = restore_fresh(f);
	assert_int_equal(cs.seq, 1);
	assert_int_equal(cs.skipped, 3);
	expect_file(f->dst, "x", "payload", 0644);
	{
		char *p = xasprintf("%s/../escape", f->dst);
		assert_false(fs_exists(p));
		free(p);
	}
	/* the next checkpoint is numbered after the broken ones, and the
	 * broken ones are deleted with the old */
	put_file(f->src, "x", "payload 2", 0644);
	cs = upload(f, c);
	assert_int_equal(cs.seq, 5);
	assert_int_equal(cs.deleted_manifests, 3);
	checkpoint_free(c);
}

static void test_interrupted_upload(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;
	pid_t pid;
	int status = 0;

	put_file(f->src, "model", "complete", 0644);
	assert_int_equal(upload(f, c).seq, 1);
	checkpoint_free(c);
	put_file(f->src, "model", "cut short", 0644);
	put_file(f->src, "extra", "also new", 0644);

	/* A child dies at the fault point: objects stored, no manifest. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct checkpoint *cc = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
		struct checkpoint_stats ccs;
		setenv("FRUGAL_FAULT", "agent.checkpoint.after_objects", 1);
		checkpoint_upload(cc, &ccs, NULL);
		_exit(0);	/* not reached */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 99);
	assert_int_equal(count_keys(f, "manifests"), 1);
	assert_int_equal(count_keys(f, "objects"), 3);

	/* never restored: checkpoint 1 is */
	cs = restore_fresh(f);
	assert_int_equal(cs.seq, 1);
	assert_int_equal(cs.skipped, 0);
	expect_file(f->dst, "model", "complete", 0644);
	{
		char *p = fs_path_join(f->dst, "extra");
		assert_false(fs_exists(p));
		free(p);
	}

	/* the next attempt's first checkpoint deletes the orphans */
	c = checkpoint_new(f->st, PREFIX, f->dst, 3, 2, f->stage);
	assert_int_equal(checkpoint_restore(c, &cs, NULL), 0);
	put_file(f->dst, "model", "attempt 2", 0644);
	cs = upload(f, c);
	assert_int_equal(cs.seq, 2);
	assert_int_equal(cs.deleted_objects, 2);
	assert_int_equal(count_keys(f, "objects"), 2);
	checkpoint_free(c);
}

static void test_left_out(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;

	put_file(f->src, "ok", "fine", 0644);
	put_file(f->src, "bad\xff" "name", "not utf-8", 0644);
	{
		char *fifo = fs_path_join(f->src, "pipe");
		assert_int_equal(mkfifo(fifo, 0600), 0);
		free(fifo);
	}
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.files, 1);
	assert_int_equal(cs.left_out, 2);
	checkpoint_free(c);
}

/* An emptied directory or file never replaces a checkpoint that had
 * bytes, and with keep 1 the good one stays. */
static void test_emptied_held(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 1, 1, f->stage);
	struct checkpoint_stats cs;
	char *path = fs_path_join(f->src, "state");

	put_file(f->src, "state", "good", 0600);
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(truncate(path, 0), 0);
	cs = upload(f, c);
	assert_false(cs.stored);
	assert_int_equal(cs.held, CHECKPOINT_HELD_EMPTIED);
	assert_string_equal(cs.held_detail, "state");
	assert_int_equal(cs.seq, 1);
	unlink(path);
	cs = upload(f, c);
	assert_false(cs.stored);
	assert_int_equal(cs.held, CHECKPOINT_HELD_EMPTIED);
	assert_int_equal(count_keys(f, "manifests"), 1);
	cs = restore_fresh(f);
	assert_int_equal(cs.seq, 1);
	expect_file(f->dst, "state", "good", 0600);
	free(path);
	checkpoint_free(c);
}

/* Files changed just before the job was killed hold the upload; files
 * older than the settle time do not. */
static void test_torn_after_kill(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;
	struct timespec now;

	put_file(f->src, "a", "v1", 0600);
	make_old(f->src, "a");
	cs = upload(f, c);
	assert_true(cs.stored);
	put_file(f->src, "a", "v2-torn", 0600);
	clock_gettime(CLOCK_REALTIME, &now);
	checkpoint_set_settle(c, 1000);
	checkpoint_set_job_ended(c, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	cs = upload(f, c);
	assert_false(cs.stored);
	assert_int_equal(cs.held, CHECKPOINT_HELD_TORN);
	assert_string_equal(cs.held_detail, "a");
	/* an end without a kill: stored (and no wait for files to settle) */
	checkpoint_set_job_ended(c, 0);
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(cs.seq, 2);
	checkpoint_free(c);
}

/* With a settle time, a file changed just now is waited for; one that
 * keeps changing holds the upload. */
static void test_in_flux_waits(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 3, 1, f->stage);
	struct checkpoint_stats cs;

	checkpoint_set_settle(c, 200);
	put_file(f->src, "a", "fresh", 0600);
	cs = upload(f, c);	/* settles while it waits */
	assert_true(cs.stored);
	checkpoint_free(c);
}

static int verify_calls;

/* Accept a copy whose 'a' holds "ok". */
static int verify_ok_only(const char *dir, void *arg, struct error *err)
{
	char *path = fs_path_join(dir, "a");
	struct strbuf sb = STRBUF_INIT;
	int r;

	(void)arg;
	verify_calls++;
	r = fs_read_file(path, 0, &sb, err);
	if (r == 0 && strcmp(sb.buf, "ok"))
		r = error_set(err, FRUGAL_EINVAL, "a is '%s'", sb.buf);
	strbuf_release(&sb);
	free(path);
	return r;
}

/* The verify function sees a restored copy; a refusal keeps the last. */
static void test_verify(void **state)
{
	struct fixture *f = *state;
	struct checkpoint *c = checkpoint_new(f->st, PREFIX, f->src, 1, 1, f->stage);
	struct checkpoint_stats cs;

	checkpoint_set_verify(c, verify_ok_only, NULL);
	put_file(f->src, "a", "ok", 0600);
	cs = upload(f, c);
	assert_true(cs.stored);
	assert_int_equal(verify_calls, 1);
	put_file(f->src, "a", "broken", 0600);
	cs = upload(f, c);
	assert_false(cs.stored);
	assert_int_equal(cs.held, CHECKPOINT_HELD_VERIFY);
	assert_string_equal(cs.held_detail, "a is 'broken'");
	assert_int_equal(count_keys(f, "manifests"), 1);
	cs = restore_fresh(f);
	expect_file(f->dst, "a", "ok", 0600);
	checkpoint_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sha256, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incremental, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_primes_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_object_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_object_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_manifest_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emptied_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_after_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_flux_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
