/*
 * Unit tests for what the Lambda and Runpod backends share
 * (backend/common/cloud.c) and for backend/common/ssh.c: names and tokens, the ssh
 * command line (host keys trusted on first use, checked after, never
 * StrictHostKeyChecking=no, nothing secret on it), REST calls retried on
 * 429/5xx with Retry-After and paced, the storage plan, sealed secrets,
 * an attempt whose machine vanished, and the agent's dead-man switch.
 * HTTP goes to a scripted server on 127.0.0.1 (a child process).
 */
#define _GNU_SOURCE	/* strcasestr, memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/common/cloud.h"
#include "backend/common/hometag.h"
#include "backend/common/ssh.h"

/* ---- a scripted HTTP server ---------------------------------------------------- */

struct server {
	pid_t pid;
	int port;
	char log[64];		/* each request: "METHOD PATH AUTH BODY\n" */
};

/* Serve the n responses in order, one per connection, then exit. */
static void server_start(struct server *s, const char *const *responses, size_t n)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	size_t i;

	snprintf(s->log, sizeof(s->log), "/tmp/frugal-test-http-XXXXXX");
	close(mkstemp(s->log));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	s->port = ntohs(sa.sin_port);
	s->pid = fork();
	if (s->pid) {
		close(fd);
		return;
	}
	for (i = 0; i < n; i++) {
		int c = accept(fd, NULL, NULL);
		char buf[65536];
		size_t got = 0;
		char *hdr_end = NULL, *cl, *auth;
		long body = 0;
		FILE *f;

		while (got < sizeof(buf) - 1) {
			ssize_t r = read(c, buf + got, sizeof(buf) - 1 - got);
			if (r <= 0)
				break;
			got += (size_t)r;
			buf[got] = '\0';
			hdr_end = strstr(buf, "\r\n\r\n");
			if (hdr_end) {
				cl = strcasestr(buf, "Content-Length:");
				body = cl ? atol(cl + 15) : 0;
				if ((size_t)(hdr_end + 4 - buf) + (size_t)body <= got)
					break;
			}
		}
		f = fopen(s->log, "a");
		auth = strcasestr(buf, "Authorization: ");
		fprintf(f, "%.*s|%.*s|%s\n", (int)strcspn(buf, "\r"), buf,
			auth ? (int)strcspn(auth, "\r") : 0, auth ? auth : "",
			hdr_end ? hdr_end + 4 : "");
		fclose(f);
		if (write(c, responses[i], strlen(responses[i])) < 0)
			_exit(1);
		close(c);
	}
	_exit(0);
}

static void server_stop(struct server *s, struct strbuf *ret_log)
{
	int st;

	kill(s->pid, SIGTERM);
	waitpid(s->pid, &st, 0);
	if (ret_log)
		fs_read_file(s->log, 1 << 20, ret_log, NULL);
	unlink(s->log);
}

#define OK_JSON(body) "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " \
	body "\r\nConnection: close\r\n\r\n"

/* ---- tests ------------------------------------------------------------------- */

static void test_names(void **state)
{
	char *tag = home_tag("/home/u/.frugal"), *name;
	char job[32];
	int n;

	assert_int_equal(strlen(tag), 8);
	name = cloud_name(tag, "abc123-2");
	assert_string_equal(cloud_token_of(tag, name), "abc123-2");
	assert_null(cloud_token_of("00000000", name));
	assert_null(cloud_token_of(tag, "my-own-instance"));
	assert_null(cloud_token_of(tag, NULL));
	assert_int_equal(provider_token_split("abc123-2", job, sizeof(job), &n), 0);
	assert_string_equal(job, "abc123");
	assert_int_equal(n, 2);
	assert_int_equal(provider_token_split("abc123-", job, sizeof(job), &n), FRUGAL_EINVAL);
	assert_int_equal(provider_token_split("abc", job, sizeof(job), &n), FRUGAL_EINVAL);
	free(name);
	free(tag);
}

static void test_ssh_argv(void **state)
{
	struct ssh_target t = SSH_TARGET_INIT;
	char **owned = NULL, **argv;
	struct strbuf all = STRBUF_INIT;
	size_t i;

	t.host = "10.0.0.5";
	t.user = "ubuntu";
	t.port = 2222;
	t.identity = "/k/id";
	t.known_hosts = "/h/known_hosts";
	t.alias = "inst-1";
	argv = ssh_argv(&t, "sh -s", &owned);
	for (i = 0; argv[i]; i++)
		strbuf_addf(&all, "%s\n", argv[i]);
	assert_string_equal(argv[0], "ssh");
	assert_non_null(strstr(all.buf, "StrictHostKeyChecking=accept-new\n"));
	assert_non_null(strstr(all.buf, "UserKnownHostsFile=/h/known_hosts\n"));
	assert_non_null(strstr(all.buf, "HostKeyAlias=inst-1\n"));
	assert_non_null(strstr(all.buf, "BatchMode=yes\n"));
	assert_non_null(strstr(all.buf, "-p\n2222\n"));
	assert_non_null(strstr(all.buf, "-l\nubuntu\n"));
	assert_non_null(strstr(all.buf, "--\n10.0.0.5\nsh -s\n"));
	assert_null(strstr(all.buf, "StrictHostKeyChecking=no"));
	ssh_argv_free(argv, owned);
	strbuf_release(&all);
}

/* ssh_run feeds standard input and reads standard output (with a "ssh"
 * that is sh: it runs its last argument). */
static void test_ssh_run(void **state)
{
	char dir[] = "/tmp/frugal-test-ssh-XXXXXX";
	struct ssh_target t = SSH_TARGET_INIT;
	struct strbuf out = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char *fake, *script;
	int status = -1;

	assert_non_null(mkdtemp(dir));
	fake = fs_path_join(dir, "ssh");
	script = xasprintf("#!/bin/sh\nfor a; do last=$a; done\nexec sh -c \"$last\"\n");
	assert_int_equal(fs_write_atomic(fake, script, strlen(script), 0755, 1, NULL), 0);
	t.command = fake;
	t.host = "h";
	t.known_hosts = "/dev/null";
	t.alias = "a";
	assert_int_equal(ssh_run(&t, "tr a-z A-Z; exit 3", "hello", 5, NULL, &out, &status, &err), 0);
	assert_string_equal(out.buf, "HELLO");
	assert_int_equal(status, 3);
	assert_int_equal(ssh_check(&t, "echo oops >&2; exit 1", NULL, 0, NULL, NULL, &err),
			 FRUGAL_EPROVIDER);
	assert_non_null(strstr(error_msg(&err), "oops"));
	strbuf_release(&out);
	fs_remove_tree(dir, NULL);
	free(fake);
	free(script);
}

static void test_retry_and_pace(void **state)
{
	static const char *const replies[] = {
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 0\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		OK_JSON("12") "{\"ok\": true}",
		OK_JSON("12") "{\"ok\": true}",
	};
	struct server s;
	struct cloud_api api;
	struct error err = ERROR_INIT;
	struct strbuf log = STRBUF_INIT;
	char *url;
	json_t *j = NULL;
	long status = 0;
	int64_t t0;

	server_start(&s, replies, 4);
	url = xasprintf("http://127.0.0.1:%d/api/v1/", s.port);
	cloud_api_init(&api, "Test", url, "key-123");
	api.backoff_ms = 10;
	api.min_interval_ms = 200;
	assert_int_equal(cloud_api_call(&api, "GET", "/things", NULL, 0, &status, &j, &err), 0);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(j, "ok")));
	json_decref(j);
	/* The next request waits for min_interval_ms. */
	t0 = time_mono_ms();
	assert_int_equal(cloud_api_call(&api, "GET", "/again", NULL, 0, &status, &j, &err), 0);
	assert_true(time_mono_ms() - t0 >= 190);
	json_decref(j);
	server_stop(&s, &log);
	/* Three tries of the first (429, 503, 200), the base path kept. */
	assert_non_null(strstr(log.buf, "GET /api/v1/things HTTP/1.1|Authorization: Bearer key-123|"));
	assert_int_equal((int)(strstr(strstr(strstr(log.buf, "/things") + 1, "/things") + 1,
				      "/things") != NULL), 1);
	cloud_api_release(&api);
	strbuf_release(&log);
	free(url);
}

static void test_no_retry(void **state)
{
	static const char *const replies[] = {
		"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	};
	struct server s;
	struct cloud_api api;
	char *url;
	json_t *j = NULL;
	long status = 0;

	server_start(&s, replies, 1);
	url = xasprintf("http://127.0.0.1:%d", s.port);
	cloud_api_init(&api, "Test", url, "k");
	api.backoff_ms = 10;
	/* A create is tried once: the caller looks for it before a retry. */
	assert_int_equal(cloud_api_call(&api, "POST", "/launch", NULL, CLOUD_NO_RETRY, &status,
					&j, NULL), 0);
	assert_int_equal(status, 500);
	server_stop(&s, NULL);
	cloud_api_release(&api);
	free(url);
}

static void test_storage_plan(void **state)
{
	struct launch_request req;
	struct error err = ERROR_INIT;
	char *st = NULL, *out = NULL, *root = NULL;

	memset(&req, 0, sizeof(req));
	req.storage_url = "file:///home/u/.frugal/storage";
	req.outputs_url = "file:///home/u/.frugal/storage/jobs/j1/outputs";
	assert_int_equal(cloud_storage_plan(&req, "/lambda/nfs/fs1", 0, "lambda", &st, &out, &root,
					    &err), 0);
	assert_string_equal(st, "file:///lambda/nfs/fs1/frugal");
	assert_string_equal(out, "file:///lambda/nfs/fs1/frugal/jobs/j1/outputs");
	assert_string_equal(root, "/lambda/nfs/fs1/frugal");
	free(st);
	free(out);
	free(root);
	/* The laptop's disk with nothing on the machine: refused, saying what to do. */
	assert_int_equal(cloud_storage_plan(&req, NULL, 0, "runpod", &st, &out, &root, &err),
			 FRUGAL_EINVAL);
	assert_non_null(strstr(error_msg(&err), "network_volume_id"));
	/* Object storage goes to the agent as it is. */
	req.storage_url = "s3://bucket/frugal";
	req.outputs_url = "s3://bucket/frugal/jobs/j1/outputs";
	assert_int_equal(cloud_storage_plan(&req, "/workspace", 0, "runpod", &st, &out, &root,
					    &err), 0);
	assert_string_equal(st, "s3://bucket/frugal");
	assert_null(root);
	free(st);
	free(out);
}

static void test_sealed_secrets(void **state)
{
	char dir[] = "/tmp/frugal-test-stage-XXXXXX";
	struct kvlist in = { 0 }, out = { 0 };
	struct strbuf box = STRBUF_INIT;
	char *stage, *path;

	assert_non_null(mkdtemp(dir));
	stage = fs_path_join(dir, "stage");
	kvlist_set(&in, "WANDB_API_KEY", "very-secret-value");
	assert_int_equal(cloud_stage_write(stage, dir, "{}", &in, NULL), 0);
	path = fs_path_join(stage, "secrets.box");
	assert_int_equal(fs_read_file(path, 1 << 16, &box, NULL), 0);
	assert_null(memmem(box.buf, box.len, "very-secret-value", 17));
	assert_int_equal(cloud_stage_secrets(stage, dir, &out, NULL), 0);
	assert_string_equal(kvlist_get(&out, "WANDB_API_KEY"), "very-secret-value");
	kvlist_release(&out);
	kvlist_release(&in);
	strbuf_release(&box);
	fs_remove_tree(dir, NULL);
	free(stage);
	free(path);
}

static void test_vanished(void **state)
{
	char dir[] = "/tmp/frugal-test-vanish-XXXXXX";
	struct storage *st = NULL;
	char *url, *phase = NULL, *outcome = NULL;
	const char *running = "{\"phase\": \"running\", \"outcome\": null}";

	assert_non_null(mkdtemp(dir));
	url = xasprintf("file://%s", dir);
	assert_int_equal(storage_open(url, &st, NULL), 0);
	/* An agent that never reported: left to the controller. */
	assert_int_equal(cloud_mark_vanished(st, "j1", 1, "gone", NULL), 0);
	cloud_local_status(st, "j1", 1, &phase, &outcome);
	assert_null(phase);
	/* One that ran: preempted. */
	assert_int_equal(storage_put(st, "jobs/j1/attempts/1/status.json", running, strlen(running),
				     0, NULL), 0);
	assert_int_equal(cloud_mark_vanished(st, "j1", 1, "the machine disappeared", NULL), 0);
	cloud_local_status(st, "j1", 1, &phase, &outcome);
	assert_string_equal(outcome, "preempted");
	free(phase);
	free(outcome);
	storage_free(st);
	fs_remove_tree(dir, NULL);
	free(url);
}

static void test_self_end(void **state)
{
	static const char *const replies[] = {
		"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	};
	char dir[] = "/tmp/frugal-test-self-XXXXXX";
	struct server s;
	struct strbuf log = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char *self, *path;

	assert_non_null(mkdtemp(dir));
	server_start(&s, replies, 1);
	self = xasprintf("{\"api_url\": \"http://127.0.0.1:%d/v1\", \"method\": \"DELETE\","
			 " \"path\": \"/pods/\", \"path_env\": \"TEST_POD_ID\", \"key_env\":"
			 " \"TEST_POD_KEY\", \"release_wait\": 30}", s.port);
	path = fs_path_join(dir, "self.json");
	fs_write_atomic(path, self, strlen(self), 0600, 1, NULL);
	free(path);
	/* Released already: no wait. */
	path = fs_path_join(dir, "released");
	fs_write_atomic(path, "", 0, 0600, 1, NULL);
	setenv("TEST_POD_ID", "pod42", 1);
	setenv("TEST_POD_KEY", "pod-scoped-key", 1);
	assert_int_equal(cloud_self_end(dir, &err), 0);
	server_stop(&s, &log);
	assert_non_null(strstr(log.buf, "DELETE /v1/pods/pod42 HTTP/1.1|Authorization: Bearer "
				   "pod-scoped-key|"));
	strbuf_release(&log);
	fs_remove_tree(dir, NULL);
	free(self);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ssh_argv),
		cmocka_unit_test(test_ssh_run),
		cmocka_unit_test(test_retry_and_pace),
		cmocka_unit_test(test_no_retry),
		cmocka_unit_test(test_storage_plan),
		cmocka_unit_test(test_sealed_secrets),
		cmocka_unit_test(test_vanished),
		cmocka_unit_test(test_self_end),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
