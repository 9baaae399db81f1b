/*
 * The s3:// storage driver against two real S3 implementations started
 * by this test on 127.0.0.1: moto (python3 -m moto.server) and s3rver
 * (tests/peers/node_modules, `npm install --prefix tests/peers s3rver`).
 * Each runs the same contract the file:// driver meets (put/get/stat,
 * no-overwrite, versioned puts, list, append/read_at, bad keys, delete,
 * get_file), plus a 200 MB multipart upload with no-overwrite, a listing
 * past one page, and a presigned GET. A peer that is missing is skipped
 * with "skipped: <peer> not available".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/aws/s3.h"
#include "storage/storage.h"
#include "backend/aws/creds.h"
#include "backend/aws/request.h"
#include "util/http.h"
#include "backend/aws/sigv4.h"

#define BUCKET "frugal-test"
#define BIG_MB 200

struct peer {
	const char *name;
	pid_t pid;
	int port;
	char dir[64];		/* scratch directory of the test */
	char *endpoint;
	const char *key_id, *secret;
	int conditional_put;	/* honours If-None-Match: * */
	int counter;		/* prefixes handed out */
};

static struct peer *current;

/* A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Wait until the peer answers HTTP (any status); 0 or -1 after ~20 s. */
static int wait_up(struct peer *p)
{
	int i;

	for (i = 0; i < 400; i++) {
		struct http_request rq = HTTP_REQUEST_INIT;
		struct http_response rs = HTTP_RESPONSE_INIT;
		int status;

		rq.url = p->endpoint;
		rq.timeout_ms = 500;
		if (http_do(&rq, &rs, NULL) == 0) {
			http_response_release(&rs);
			return 0;
		}
		if (waitpid(p->pid, &status, WNOHANG) == p->pid)
			return -1;
		time_sleep_ms(50);
	}
	return -1;
}

/* Start argv with stdout/stderr into dir/peer.log. */
static pid_t spawn(struct peer *p, char *const argv[])
{
	char *log = xasprintf("%s/peer.log", p->dir);
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	free(log);
	return pid;
}

static void use_peer_env(const struct peer *p)
{
	setenv("AWS_ACCESS_KEY_ID", p->key_id, 1);
	setenv("AWS_SECRET_ACCESS_KEY", p->secret, 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ENDPOINT_URL", p->endpoint, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static int peer_stop(void **state)
{
	struct peer *p = *state;

	if (p->pid > 0) {
		kill(-p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	fs_remove_tree(p->dir, NULL);
	free(p->endpoint);
	free(p);
	return 0;
}

static int moto_start(void **state)
{
	struct peer *p = xcalloc(1, sizeof(*p));
	char port[16];

	*state = p;
	current = p;
	p->name = "moto";
	p->key_id = "testing";
	p->secret = "testing";
	p->conditional_put = 1;
	snprintf(p->dir, sizeof(p->dir), "/tmp/frugal-test-s3-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	if (system("python3 -c 'import moto.server' >/dev/null 2>&1") != 0) {
		p->pid = -1;
		return 0;
	}
	p->port = free_port();
	snprintf(port, sizeof(port), "%d", p->port);
	p->endpoint = xasprintf("http://127.0.0.1:%d", p->port);
	{
		char *argv[] = { "python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", port, NULL };
		p->pid = spawn(p, argv);
	}
	if (wait_up(p) < 0) {
		p->pid = -1;
		return 0;
	}
	/* moto takes an unsigned bucket creation. */
	{
		struct http_request rq = HTTP_REQUEST_INIT;
		struct http_response rs = HTTP_RESPONSE_INIT;
		char *url = xasprintf("%s/%s", p->endpoint, BUCKET);

		rq.method = "PUT";
		rq.url = url;
		assert_int_equal(http_do(&rq, &rs, NULL), 0);
		assert_int_equal(rs.status, 200);
		http_response_release(&rs);
		free(url);
	}
	return 0;
}

static int s3rver_start(void **state)
{
	struct peer *p = xcalloc(1, sizeof(*p));
	const char *src = getenv("FRUGAL_SRC");
	char *js = xasprintf("%s/tests/peers/node_modules/s3rver/bin/s3rver.js", src ? src : ".");
	char port[16], *data;

	*state = p;
	current = p;
	p->name = "s3rver";
	p->key_id = "S3RVER";
	p->secret = "S3RVER";
	snprintf(p->dir, sizeof(p->dir), "/tmp/frugal-test-s3-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	if (access(js, R_OK) != 0 || system("node --version >/dev/null 2>&1") != 0) {
		p->pid = -1;
		free(js);
		return 0;
	}
	data = xasprintf("%s/data", p->dir);
	assert_int_equal(fs_mkdir_p(data, 0700, NULL), 0);
	p->port = free_port();
	snprintf(port, sizeof(port), "%d", p->port);
	p->endpoint = xasprintf("http://127.0.0.1:%d", p->port);
	{
		char *argv[] = { "node", js, "-d", data, "-p", port, "-a", "127.0.0.1",
				 "--configure-bucket", BUCKET, "--silent", NULL };
		p->pid = spawn(p, argv);
	}
	if (wait_up(p) < 0)
		p->pid = -1;
	free(js);
	free(data);
	return 0;
}

/* A fresh storage under a prefix of its own, or a skip without the peer. */
static struct storage *open_fresh(void)
{
	struct peer *p = current;
	struct storage *s = NULL;
	char *url;

	if (p->pid <= 0) {
		print_message("skipped: %s not available\n", p->name);
		skip();
	}
	use_peer_env(p);
	url = xasprintf("s3://%s/run-%d-%d/t%d", BUCKET, (int)getpid(), p->port, ++p->counter);
	assert_int_equal(storage_open(url, &s, NULL), 0);
	free(url);
	return s;
}

static char *get_str(struct storage *s, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	if (storage_get(s, key, 0, &sb, &err) != 0)
		fail_msg("get '%s': %s", key, err.msg);
	return strbuf_detach(&sb, NULL);
}

static char *write_local(const char *name, const char *content)
{
	char *path = xasprintf("%s/%s", current->dir, name);

	assert_int_equal(fs_write_atomic(path, content, strlen(content), 0644, 1, NULL), 0);
	return path;
}

/* ---- the contract -------------------------------------------------------------- */

static void test_open(void **state)
{
	struct storage *s = NULL;
	struct error err = ERROR_INIT;
	char *u;

	(void)state;
	assert_int_equal(storage_open("s3://ab/x", &s, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "3 to 63"));
	assert_int_equal(storage_open("s3://Bucket/x", &s, &err), FRUGAL_EINVAL);
	assert_int_equal(storage_open("s3://bucket//x", &s, &err), FRUGAL_EINVAL);
	assert_null(s);
	assert_int_equal(storage_open("s3://bucket/a/b/", &s, &err), 0);
	assert_true(s3_is(s));
	u = storage_url_of(s, "k/x");
	assert_string_equal(u, "s3://bucket/a/b/k/x");
	free(u);
	assert_null(storage_local_path(s, "k"));
	storage_free(s);
}

static void test_put_get(void **state)
{
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	int64_t size = -1, mtime = -1;
	char *got;

	(void)state;
	assert_int_equal(storage_put(s, "jobs/ab12/status.json", "{\"a\":1}", 7, 0, &err), 0);
	got = get_str(s, "jobs/ab12/status.json");
	assert_string_equal(got, "{\"a\":1}");
	free(got);
	assert_int_equal(storage_stat(s, "jobs/ab12/status.json", &size, &mtime, &err), 0);
	assert_int_equal(size, 7);
	assert_true(mtime > 1600000000000LL);
	assert_int_equal(storage_stat(s, "jobs/ab12/nope", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	/* A "directory" is not an object. */
	assert_int_equal(storage_stat(s, "jobs/ab12", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	/* Put replaces without the flag. */
	assert_int_equal(storage_put(s, "jobs/ab12/status.json", "{\"a\":2}", 7, 0, &err), 0);
	got = get_str(s, "jobs/ab12/status.json");
	assert_string_equal(got, "{\"a\":2}");
	free(got);
	/* Empty objects are objects; keys with spaces and odd characters work. */
	assert_int_equal(storage_put(s, "empty", "", 0, 0, &err), 0);
	got = get_str(s, "empty");
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(storage_put(s, "odd name+&=%é.txt", "x", 1, 0, &err), 0);
	got = get_str(s, "odd name+&=%é.txt");
	assert_string_equal(got, "x");
	free(got);
	storage_free(s);
}

static void test_get_max_and_missing(void **state)
{
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(storage_put(s, "k", "0123456789", 10, 0, &err), 0);
	strbuf_adds(&sb, "keep:");
	assert_int_equal(storage_get(s, "k", 5, &sb, &err), FRUGAL_ETOOBIG);
	assert_string_equal(sb.buf, "keep:");
	assert_int_equal(storage_get(s, "k", 10, &sb, &err), 0);
	assert_string_equal(sb.buf, "keep:0123456789");
	assert_int_equal(storage_get(s, "missing", 0, &sb, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "missing"));
	assert_string_equal(sb.buf, "keep:0123456789");
	strbuf_release(&sb);
	storage_free(s);
}

static void test_no_overwrite(void **state)
{
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	char *got, *src = write_local("local", "four");

	(void)state;
	assert_int_equal(storage_put(s, "out/result", "one", 3, STORAGE_NO_OVERWRITE, &err), 0);
	assert_int_equal(storage_put(s, "out/result", "two", 3, STORAGE_NO_OVERWRITE, &err),
			 FRUGAL_EEXIST);
	assert_int_equal(storage_put_file(s, "out/result", src, STORAGE_NO_OVERWRITE, &err),
			 FRUGAL_EEXIST);
	got = get_str(s, "out/result");
	assert_string_equal(got, "one");
	free(got);
	assert_int_equal(storage_put_file(s, "out/result", src, 0, &err), 0);
	got = get_str(s, "out/result");
	assert_string_equal(got, "four");
	free(got);
	free(src);
	storage_free(s);
}

/* The conditional PUT itself (not the HEAD before it) refuses to replace,
 * where the peer honours If-None-Match. */
static void test_conditional_put(void **state)
{
	struct storage *s = open_fresh();
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct error err = ERROR_INIT;
	char *got;

	(void)state;
	assert_int_equal(storage_put(s, "race", "mine", 4, STORAGE_NO_OVERWRITE, &err), 0);
	if (!current->conditional_put) {
		print_message("%s ignores If-None-Match: only the HEAD guards no-overwrite puts\n",
			      current->name);
		storage_free(s);
		return;
	}
	/* Another writer's conditional PUT of the same key, sent as it is:
	 * the peer itself refuses it. */
	{
		const char *h[] = { "Content-Type: application/octet-stream", "If-None-Match: *",
				    NULL };
		struct aws_creds c = AWS_CREDS_INIT;
		struct aws_request rq = AWS_REQUEST_INIT;
		char *path = xasprintf("/%s/%s/race", BUCKET, strchr(s->url + 5, '/') + 1);

		assert_int_equal(aws_creds_load("s3", &c, &err), 0);
		rq.service = "s3";
		rq.region = "us-east-1";
		rq.endpoint = current->endpoint;
		rq.method = "PUT";
		rq.path = path;
		rq.headers = h;
		rq.body = "theirs";
		rq.body_len = 6;
		rq.s3 = 1;
		assert_int_equal(aws_request_do(&c, &rq, &rs, &err), 0);
		assert_int_equal(rs.status, 412);
		http_response_release(&rs);
		aws_creds_release(&c);
		free(path);
	}
	got = get_str(s, "race");
	assert_string_equal(got, "mine");
	free(got);
	storage_free(s);
}

static void test_put_file_versioned(void **state)
{
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	char *src1 = write_local("m1", "first"), *src2 = write_local("m2", "second");
	char *key = NULL, *got;

	(void)state;
	assert_int_equal(storage_put_file_versioned(s, "weights/model.pth", src1, &key, &err), 0);
	assert_string_equal(key, "weights/model.pth");
	free(key);
	assert_int_equal(storage_put_file_versioned(s, "weights/model.pth", src2, &key, &err), 0);
	assert_string_equal(key, "weights/model.v2.pth");
	free(key);
	got = get_str(s, "weights/model.pth");
	assert_string_equal(got, "first");
	free(got);
	got = get_str(s, "weights/model.v2.pth");
	assert_string_equal(got, "second");
	free(got);
	free(src1);
	free(src2);
	storage_free(s);
}

static void test_list(void **state)
{
	static const char *const keys[] = { "b/2", "a/1", "a/sub/3", "ab", "c", "a/sub/deeper/4" };
	struct storage *s = open_fresh();
	struct storage_list l = STORAGE_LIST_INIT;
	struct error err = ERROR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(storage_put(s, keys[i], keys[i], strlen(keys[i]), 0, &err), 0);
	assert_int_equal(storage_list(s, "", &l, &err), 0);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.items[0].key, "a/1");
	assert_string_equal(l.items[1].key, "a/sub/3");
	assert_string_equal(l.items[2].key, "a/sub/deeper/4");
	assert_string_equal(l.items[3].key, "ab");
	assert_string_equal(l.items[4].key, "b/2");
	assert_string_equal(l.items[5].key, "c");
	assert_int_equal(l.items[0].size, 3);
	assert_true(l.items[0].mtime_ms > 1600000000000LL);
	storage_list_release(&l);
	assert_int_equal(storage_list(s, "a/", &l, &err), 0);
	assert_int_equal(l.n, 3);
	storage_list_release(&l);
	assert_int_equal(storage_list(s, "a", &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[3].key, "ab");
	storage_list_release(&l);
	assert_int_equal(storage_list(s, "a/sub/d", &l, &err), 0);
	assert_int_equal(l.n, 1);
	storage_list_release(&l);
	assert_int_equal(storage_list(s, "nothing/here/", &l, &err), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(storage_list(s, "../", &l, &err), FRUGAL_EINVAL);
	storage_list_release(&l);
	storage_free(s);
}

/* More objects than one ListObjectsV2 page (1000) holds. */
static void test_list_pages(void **state)
{
	struct storage *s = open_fresh();
	struct storage_list l = STORAGE_LIST_INIT;
	struct error err = ERROR_INIT;
	char key[32];
	int i;

	(void)state;
	for (i = 0; i < 1003; i++) {
		snprintf(key, sizeof(key), "many/%05d", i);
		assert_int_equal(storage_put(s, key, "x", 1, 0, &err), 0);
	}
	assert_int_equal(storage_put(s, "other", "y", 1, 0, &err), 0);
	assert_int_equal(storage_list(s, "many/", &l, &err), 0);
	assert_int_equal(l.n, 1003);
	assert_string_equal(l.items[0].key, "many/00000");
	assert_string_equal(l.items[1002].key, "many/01002");
	storage_list_release(&l);
	storage_free(s);
}

static void test_append_read_at(void **state)
{
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct storage *other = NULL;
	char *got;

	(void)state;
	assert_int_equal(storage_append(s, "logs/1/out.log", "hello ", 6, &err), 0);
	assert_int_equal(storage_append(s, "logs/1/out.log", "world", 5, &err), 0);
	got = get_str(s, "logs/1/out.log");
	assert_string_equal(got, "hello world");
	free(got);
	/* A second writer (a restarted agent) appends to what is there. */
	assert_int_equal(storage_open(s->url, &other, NULL), 0);
	assert_int_equal(storage_append(other, "logs/1/out.log", "!", 1, &err), 0);
	storage_free(other);
	assert_int_equal(storage_read_at(s, "logs/1/out.log", 6, 0, &sb, &err), 0);
	assert_string_equal(sb.buf, "world!");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(s, "logs/1/out.log", 6, 3, &sb, &err), 0);
	assert_string_equal(sb.buf, "wor");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(s, "logs/1/out.log", 0, 5, &sb, &err), 0);
	assert_string_equal(sb.buf, "hello");
	strbuf_reset(&sb);
	assert_int_equal(storage_read_at(s, "logs/1/out.log", 100, 0, &sb, &err), 0);
	assert_int_equal(sb.len, 0);
	assert_int_equal(storage_read_at(s, "logs/1/out.log", -1, 0, &sb, &err), FRUGAL_EINVAL);
	assert_int_equal(storage_read_at(s, "logs/1/none.log", 0, 0, &sb, &err),
			 FRUGAL_ENOTFOUND);
	strbuf_release(&sb);
	storage_free(s);
}

static void test_bad_keys_and_del(void **state)
{
	static const char *const bad[] = { "", "../x", "/abs", "a//b", "a/../b", "x\ny" };
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(storage_put(s, bad[i], "x", 1, 0, &err), FRUGAL_EINVAL);
		assert_int_equal(storage_get(s, bad[i], 0, &sb, &err), FRUGAL_EINVAL);
		assert_int_equal(storage_del(s, bad[i], &err), FRUGAL_EINVAL);
	}
	assert_int_equal(storage_put(s, "d/x", "1", 1, 0, &err), 0);
	assert_int_equal(storage_del(s, "d/x", &err), 0);
	assert_int_equal(storage_stat(s, "d/x", NULL, NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(storage_del(s, "d/x", &err), 0);
	assert_int_equal(storage_del(s, "never/was", &err), 0);
	strbuf_release(&sb);
	storage_free(s);
}

static void test_failed_put_and_get_file(void **state)
{
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *missing = xasprintf("%s/no-such-file", current->dir);
	char *dst = xasprintf("%s/restore/deep/model.pt", current->dir);

	(void)state;
	assert_int_equal(storage_put_file(s, "ckpt/m.pt", missing, 0, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no-such-file"));
	assert_int_equal(storage_stat(s, "ckpt/m.pt", NULL, NULL, NULL), FRUGAL_ENOTFOUND);
	assert_int_equal(storage_put_file(s, "x", current->dir, 0, &err), FRUGAL_EINVAL);
	assert_int_equal(storage_put(s, "ckpt/model.pt", "weights", 7, 0, &err), 0);
	assert_int_equal(storage_get_file(s, "ckpt/model.pt", dst, &err), 0);
	assert_int_equal(fs_read_file(dst, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, "weights");
	assert_int_equal(storage_get_file(s, "ckpt/none", dst, &err), FRUGAL_ENOTFOUND);
	/* The failed download left the earlier file alone. */
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(dst, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, "weights");
	strbuf_release(&sb);
	free(missing);
	free(dst);
	storage_free(s);
}

/* A 200 MB file goes up in parts (in parallel) and comes back whole. */
static void test_multipart(void **state)
{
	struct storage *s = open_fresh();
	struct error err = ERROR_INIT;
	char *src = xasprintf("%s/big", current->dir), *dst = xasprintf("%s/big.back", current->dir);
	char h1[SIGV4_HASH_HEX], h2[SIGV4_HASH_HEX], *buf = xmalloc(1 << 20);
	int64_t size = 0, t0;
	FILE *f = fopen(src, "we");
	unsigned x = 12345;
	int i;
	size_t k;

	(void)state;
	assert_non_null(f);
	for (i = 0; i < BIG_MB; i++) {
		for (k = 0; k < (1 << 20); k++) {
			x = x * 1103515245u + 12345u;
			buf[k] = (char)(x >> 16);
		}
		assert_int_equal(fwrite(buf, 1, 1 << 20, f), 1 << 20);
	}
	fclose(f);
	t0 = time_mono_ms();
	if (storage_put_file(s, "ckpt/big.bin", src, STORAGE_NO_OVERWRITE, &err) != 0)
		fail_msg("multipart put: %s", err.msg);
	print_message("%s: %d MB multipart upload in %.2f s (%.0f MB/s)\n", current->name, BIG_MB,
		      (double)(time_mono_ms() - t0) / 1000.0,
		      BIG_MB * 1000.0 / (double)(time_mono_ms() - t0 + 1));
	assert_int_equal(storage_stat(s, "ckpt/big.bin", &size, NULL, &err), 0);
	assert_int_equal(size, (int64_t)BIG_MB << 20);
	/* Never replaced. */
	assert_int_equal(storage_put_file(s, "ckpt/big.bin", src, STORAGE_NO_OVERWRITE, &err),
			 FRUGAL_EEXIST);
	t0 = time_mono_ms();
	assert_int_equal(storage_get_file(s, "ckpt/big.bin", dst, &err), 0);
	print_message("%s: %d MB download in %.2f s\n", current->name, BIG_MB,
		      (double)(time_mono_ms() - t0) / 1000.0);
	assert_int_equal(sigv4_sha256_file_hex(src, h1, NULL), 0);
	assert_int_equal(sigv4_sha256_file_hex(dst, h2, NULL), 0);
	assert_string_equal(h1, h2);
	unlink(src);
	unlink(dst);
	free(src);
	free(dst);
	free(buf);
	storage_free(s);
}

/* A presigned URL is fetched without credentials (the boot script's way). */
static void test_presign(void **state)
{
	struct storage *s = open_fresh();
	struct http_request rq = HTTP_REQUEST_INIT;
	struct http_response rs = HTTP_RESPONSE_INIT;
	struct error err = ERROR_INIT;
	char *url = NULL;

	(void)state;
	assert_int_equal(storage_put(s, "bin/agent.json", "{\"x\":1}", 7, 0, &err), 0);
	assert_int_equal(s3_presign_get(s, "bin/agent.json", 600, &url, &err), 0);
	assert_non_null(strstr(url, "X-Amz-Signature="));
	rq.url = url;
	assert_int_equal(http_do(&rq, &rs, NULL), 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body.buf, "{\"x\":1}");
	http_response_release(&rs);
	free(url);
	storage_free(s);
}

#define CONTRACT(setup)                                                              \
	cmocka_unit_test(test_put_get), cmocka_unit_test(test_get_max_and_missing),  \
	cmocka_unit_test(test_no_overwrite), cmocka_unit_test(test_conditional_put), \
	cmocka_unit_test(test_put_file_versioned), cmocka_unit_test(test_list),      \
	cmocka_unit_test(test_append_read_at), cmocka_unit_test(test_bad_keys_and_del), \
	cmocka_unit_test(test_failed_put_and_get_file), cmocka_unit_test(test_presign), \
	cmocka_unit_test(test_multipart)

int main(void)
{
	const struct CMUnitTest basics[] = { cmocka_unit_test(test_open) };
	const struct CMUnitTest moto[] = { CONTRACT(), cmocka_unit_test(test_list_pages) };
	const struct CMUnitTest s3rver[] = { CONTRACT() };
	int r = 0;

	r |= cmocka_run_group_tests_name("s3 driver", basics, NULL, NULL);
	r |= cmocka_run_group_tests_name("s3 driver against moto", moto, moto_start, peer_stop);
	r |= cmocka_run_group_tests_name("s3 driver against s3rver", s3rver, s3rver_start,
					 peer_stop);
	return r;
}
