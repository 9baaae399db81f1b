/*
 * Unit tests for the Runpod backend's API module (backend/runpod/v2.c):
 * the create body against the published v2 spec (every property frugal
 * sends is one CreatePodRequest has, nested ones too: it rejects unknown
 * properties), parsing the spec's own getPod example through each
 * lifecycle status, the key file, capacity errors, and the GPU catalog's
 * live price (served by a one-reply HTTP server on 127.0.0.1). The spec is
 * read from ../shared/specs when it is there.
 */
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

#include "base/xalloc.h"
#include "backend/runpod/api.h"

/* A create request as the backend makes one. */
static json_t *sample_body(struct kvlist *env)
{
	struct runpod_create c;

	kvlist_set(env, "MY_TOKEN", "s3cr3t");
	kvlist_set(env, "FRUGAL_TOKEN", "abc123-1");
	memset(&c, 0, sizeof(c));
	c.name = "frugal-0a1b2c3d-abc123-1";
	c.image = "runpod/pytorch:2.1.0-py3.10-cuda11.8.0-devel-ubuntu22.04";
	c.gpu_type_id = runpod_gpu_type_id("RTX4090");
	c.gpu_count = 2;
	c.cloud_type = "SECURE";
	c.data_center = "US-TX-3";
	c.env = env;
	c.network_volume_id = "agv6w2qcg7";
	c.volume_mount_path = "/workspace";
	c.container_disk_gb = 50;
	c.start_script = "exec frugal agent";
	return runpod_v2_ops.create_body(&c);
}

static void test_create_body(void **state)
{
	struct kvlist env = { 0 };
	json_t *b = sample_body(&env), *e = json_object_get(b, "env");
	json_t *net = json_array_get(json_object_get(json_object_get(b, "mounts"), "network"), 0);

	assert_string_equal(json_string_value(json_object_get(b, "name")),
			    "frugal-0a1b2c3d-abc123-1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "gpu"), "id")),
			    "NVIDIA GeForce RTX 4090");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b, "gpu"), "count")), 2);
	assert_null(json_object_get(b, "interruptible"));
	assert_string_equal(json_string_value(json_object_get(b, "cloud")), "SECURE");
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "dataCenterIds"), 0)),
			    "US-TX-3");
	assert_string_equal(json_string_value(json_object_get(e, "MY_TOKEN")), "s3cr3t");
	assert_string_equal(json_string_value(json_object_get(e, "FRUGAL_START")),
			    "exec frugal agent");
	assert_string_equal(json_string_value(json_object_get(net, "volumeId")), "agv6w2qcg7");
	assert_string_equal(json_string_value(json_object_get(net, "path")), "/workspace");
	assert_int_equal(json_integer_value(json_object_get(b, "disk")), 50);
	/* args: no blank, no quote (one meaning however Runpod splits it). */
	assert_null(strpbrk(strstr(json_string_value(json_object_get(b, "args")), "-c ") + 3,
			    " \t\"'"));
	/* The secret is in env, never in the image or the command. */
	assert_null(strstr(json_string_value(json_object_get(b, "image")), "s3cr3t"));
	assert_null(strstr(json_string_value(json_object_get(b, "args")), "s3cr3t"));
	json_decref(b);
	kvlist_release(&env);
}

/* The published v2 spec, or NULL (the test then skips). */
static json_t *load_spec(void)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *path = xasprintf("%s/specs/runpod-docs/api-reference-v2/openapi.json",
			       shared ? shared : "../shared");
	json_t *spec = json_load_file(path, 0, NULL);

	if (!spec)
		printf("skipped: %s not available\n", path);
	free(path);
	return spec;
}

static json_t *schema(json_t *spec, const char *name)
{
	return json_object_get(json_object_get(json_object_get(spec, "components"), "schemas"),
			       name);
}

/* The schema a "$ref" names, or s itself. */
static json_t *deref(json_t *spec, json_t *s)
{
	const char *ref = json_string_value(json_object_get(s, "$ref"));

	return ref ? schema(spec, strrchr(ref, '/') + 1) : s;
}

/* 1 when the (allOf-composed) schema s defines property k; *ret its schema. */
static int has_prop(json_t *spec, json_t *s, const char *k, json_t **ret)
{
	json_t *sub;
	size_t i;

	s = deref(spec, s);
	if ((*ret = json_object_get(json_object_get(s, "properties"), k)))
		return 1;
	json_array_foreach(json_object_get(s, "allOf"), i, sub)
		if (has_prop(spec, sub, k, ret))
			return 1;
	return 0;
}

/* Every property of object o is one schema s defines, recursively. */
static void check_props(json_t *spec, json_t *s, json_t *o, const char *where)
{
	const char *k;
	json_t *v, *ps;

	json_object_foreach(o, k, v) {
		if (!has_prop(spec, s, k, &ps))
			fail_msg("frugal sends '%s.%s', which the v2 spec does not define", where, k);
		ps = deref(spec, ps);
		if (json_is_object(v) && !json_object_get(ps, "additionalProperties"))
			check_props(spec, ps, v, k);
		if (json_is_array(v) && json_is_object(json_array_get(v, 0)))
			check_props(spec, json_object_get(ps, "items"), json_array_get(v, 0), k);
	}
}

static void test_create_body_matches_spec(void **state)
{
	json_t *spec = load_spec(), *b;
	struct kvlist env = { 0 };

	if (!spec)
		skip();
	assert_non_null(schema(spec, "CreatePodRequest"));
	b = sample_body(&env);
	check_props(spec, schema(spec, "CreatePodRequest"), b, "$");
	json_decref(b);
	kvlist_release(&env);
	json_decref(spec);
}

/* The spec's own getPod example parses, through each status. */
static void test_parse_spec_example(void **state)
{
	json_t *spec = load_spec(), *pod;
	struct runpod_pod p;

	if (!spec)
		skip();
	pod = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
		json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
		spec, "paths"), "/v2/pods/{id}"), "get"), "responses"), "200"), "content"),
		"application/json"), "examples"), "pod"), "value");
	assert_true(json_is_object(pod));
	pod = json_deep_copy(pod);
	runpod_v2_ops.parse(pod, &p);
	assert_string_equal(p.id, "7h9k2m4n6p");
	assert_string_equal(p.ip, "195.26.233.3");
	assert_int_equal(p.ssh_port, 34446);
	assert_int_equal(p.state, INSTANCE_RUNNING);
	runpod_pod_release(&p);
	/* Without ssh.direct the runtime's mapping of port 22 is used. */
	json_object_set_new(json_object_get(pod, "ssh"), "direct", json_null());
	runpod_v2_ops.parse(pod, &p);
	assert_string_equal(p.ip, "195.26.233.3");
	assert_int_equal(p.ssh_port, 34446);
	runpod_pod_release(&p);
	/* Still provisioning: no runtime yet. */
	json_object_set_new(pod, "runtime", json_null());
	json_object_set_new(pod, "status", json_string("PROVISIONING"));
	runpod_v2_ops.parse(pod, &p);
	assert_int_equal(p.state, INSTANCE_PENDING);
	runpod_pod_release(&p);
	json_object_set_new(pod, "status", json_string("RUNNING"));
	runpod_v2_ops.parse(pod, &p);
	assert_int_equal(p.state, INSTANCE_PENDING);	/* no SSH endpoint yet */
	runpod_pod_release(&p);
	json_object_set_new(pod, "status", json_string("STARTING"));
	runpod_v2_ops.parse(pod, &p);
	assert_int_equal(p.state, INSTANCE_PENDING);
	runpod_pod_release(&p);
	static const char *const gone[] = { "EXITED", "ERROR", "TERMINATED", NULL };
	for (size_t i = 0; gone[i]; i++) {
		json_object_set_new(pod, "status", json_string(gone[i]));
		runpod_v2_ops.parse(pod, &p);
		assert_int_equal(p.state, INSTANCE_GONE);
		runpod_pod_release(&p);
	}
	json_decref(pod);
	json_decref(spec);
}

static void test_key_file(void **state)
{
	char *k = runpod_key_from_toml("apikey = \"rp_ABC123\"\napiurl = \"https://api\"\n");

	assert_string_equal(k, "rp_ABC123");
	free(k);
	k = runpod_key_from_toml("[default]\napi_key = 'rp_x'\n");
	assert_string_equal(k, "rp_x");
	free(k);
	assert_null(runpod_key_from_toml("apiurl = \"x\"\n"));
}

static void test_capacity_errors(void **state)
{
	json_t *none = json_loads("{\"title\": \"Bad Request\", \"status\": 400, \"detail\":"
				  " \"There are no longer any instances available with the"
				  " requested specifications.\"}", 0, NULL);
	json_t *bad = json_loads("{\"title\": \"Bad Request\", \"status\": 400,"
				 " \"detail\": \"invalid image\"}", 0, NULL);

	assert_true(runpod_is_capacity_error(400, none));
	assert_true(runpod_is_capacity_error(500, none));
	assert_false(runpod_is_capacity_error(400, bad));
	assert_false(runpod_is_capacity_error(429, none));
	assert_false(runpod_is_capacity_error(400, NULL));
	assert_true(runpod_is_capacity_error(403, bad));	/* pool not accessible */
	assert_false(runpod_is_capacity_error(402, none));	/* balance */
	assert_false(runpod_is_capacity_error(422, none));	/* contract */
	assert_ptr_equal(runpod_api_for("v2"), &runpod_v2_ops);
	assert_ptr_equal(runpod_api_for(NULL), &runpod_v2_ops);
	assert_null(runpod_api_for("v1"));	/* retired */
	assert_null(runpod_api_for("v9"));
	assert_null(runpod_gpu_type_id("TPUv4"));
	json_decref(none);
	json_decref(bad);
}

/* Answer one HTTP request on 127.0.0.1 with a 200 and body; *ret_port. */
static pid_t serve_once(const char *body, int *ret_port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), c;
	char buf[8192];
	char *reply;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	*ret_port = ntohs(sa.sin_port);
	if ((pid = fork())) {
		close(fd);
		return pid;
	}
	c = accept(fd, NULL, NULL);
	if (read(c, buf, sizeof(buf)) < 0)
		_exit(1);
	reply = xasprintf("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", strlen(body), body);
	if (write(c, reply, strlen(reply)) < 0)
		_exit(1);
	close(c);
	_exit(0);
}

/* The price of a plan is the GPU catalog's: GpuType.price of the cloud
 * type, per GPU, times the count (the spec's getGpuType example). */
static void test_stock_price(void **state)
{
	static const char gpu[] = "{\"id\": \"NVIDIA GeForce RTX 4090\", \"name\": \"RTX 4090\","
		" \"pool\": \"ADA_24\", \"manufacturer\": \"NVIDIA\", \"memory\": 24,"
		" \"secure\": true, \"community\": true,"
		" \"price\": {\"secure\": 0.44, \"community\": 0.31, \"serverless\": 1.1},"
		" \"maxCount\": {\"secure\": 8, \"community\": 4}, \"availability\": \"HIGH\","
		" \"dataCenters\": [{\"id\": \"US-KS-2\", \"name\": \"US Kansas 2\","
		" \"availability\": \"HIGH\"}]}";
	static const char no_price[] = "{\"id\": \"NVIDIA A40\", \"availability\": \"LOW\"}";
	static const struct {
		const char *body, *cloud;
		int count;
		double want;
	} cases[] = {
		{ gpu, "SECURE", 1, 0.44 },
		{ gpu, "SECURE", 2, 0.88 },
		{ gpu, "COMMUNITY", 4, 1.24 },
		{ no_price, "SECURE", 1, 0 },	/* no price: the table's is used */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct runpod_stock st = RUNPOD_STOCK_INIT;
		struct cloud_api api;
		char *url;
		int port, ws;
		pid_t pid = serve_once(cases[i].body, &port);
		const char *level;

		url = xasprintf("http://127.0.0.1:%d", port);
		cloud_api_init(&api, "Runpod", url, "key");
		api.max_tries = 1;
		level = runpod_stock_level(&api, &runpod_v2_ops, &st, "NVIDIA GeForce RTX 4090",
					   cases[i].count, cases[i].cloud, NULL);
		assert_non_null(level);
		assert_false(st.failed);
		assert_true(runpod_stock_price(&st, cases[i].count) > cases[i].want - 1e-9);
		assert_true(runpod_stock_price(&st, cases[i].count) < cases[i].want + 1e-9);
		waitpid(pid, &ws, 0);
		runpod_stock_release(&st);
		cloud_api_release(&api);
		free(url);
	}
	/* A catalog that could not be read gives no price (no server). */
	{
		struct runpod_stock st = RUNPOD_STOCK_INIT;
		struct cloud_api api;

		cloud_api_init(&api, "Runpod", "http://127.0.0.1:1", "key");
		api.max_tries = 1;
		assert_null(runpod_stock_level(&api, &runpod_v2_ops, &st, "NVIDIA A40", 1, "SECURE",
					       NULL));
		assert_true(runpod_stock_price(&st, 1) == 0);
		runpod_stock_release(&st);
		cloud_api_release(&api);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_body),
		cmocka_unit_test(test_create_body_matches_spec),
		cmocka_unit_test(test_parse_spec_example),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_capacity_errors),
		cmocka_unit_test(test_stock_price),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
