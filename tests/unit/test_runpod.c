/*
 * Unit tests for the Runpod backend's API module (backend/runpod/v1.c):
 * the create body against the published v1 spec (every property frugal
 * sends is one PodCreateInput has, every GPU type id one its enum lists),
 * parsing a Pod built from the spec's own examples, the key file and
 * capacity errors. The spec is read from ../shared/specs when it is there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "backend/runpod/api.h"

static const char *const start_cmd[] = { "sh", "-c", "exec frugal agent", NULL };

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
	c.interruptible = 1;
	c.env = env;
	c.network_volume_id = "agv6w2qcg7";
	c.volume_mount_path = "/workspace";
	c.container_disk_gb = 50;
	c.start_cmd = start_cmd;
	return runpod_v1_ops.create_body(&c);
}

static void test_create_body(void **state)
{
	struct kvlist env = { 0 };
	json_t *b = sample_body(&env);

	assert_string_equal(json_string_value(json_object_get(b, "name")),
			    "frugal-0a1b2c3d-abc123-1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "gpuTypeIds"), 0)),
			    "NVIDIA GeForce RTX 4090");
	assert_int_equal(json_integer_value(json_object_get(b, "gpuCount")), 2);
	assert_true(json_is_true(json_object_get(b, "interruptible")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "dataCenterIds"), 0)),
			    "US-TX-3");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "env"), "MY_TOKEN")),
			    "s3cr3t");
	assert_string_equal(json_string_value(json_object_get(b, "networkVolumeId")), "agv6w2qcg7");
	assert_string_equal(json_string_value(json_object_get(b, "volumeMountPath")), "/workspace");
	assert_int_equal(json_array_size(json_object_get(b, "dockerStartCmd")), 3);
	/* The secret is in env, never in the image or the start command. */
	assert_null(strstr(json_string_value(json_object_get(b, "imageName")), "s3cr3t"));
	assert_null(strstr(json_string_value(json_array_get(json_object_get(b, "dockerStartCmd"), 2)),
			   "s3cr3t"));
	json_decref(b);
	kvlist_release(&env);
}

/* The published v1 spec, or NULL (the test then skips). */
static json_t *load_spec(void)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *path = xasprintf("%s/specs/runpod-docs/api-reference/openapi.json",
			       shared ? shared : "../shared");
	json_t *spec = json_load_file(path, 0, NULL);

	if (!spec)
		printf("skipped: %s not available\n", path);
	free(path);
	return spec;
}

static void test_create_body_matches_spec(void **state)
{
	json_t *spec = load_spec(), *props, *b, *v, *gpu_enum, *dc_enum;
	struct kvlist env = { 0 };
	const char *k;
	size_t i, j;

	if (!spec)
		skip();
	props = json_object_get(json_object_get(json_object_get(json_object_get(spec,
		"components"), "schemas"), "PodCreateInput"), "properties");
	assert_true(json_is_object(props));
	b = sample_body(&env);
	json_object_foreach(b, k, v)
		if (!json_object_get(props, k))
			fail_msg("frugal sends '%s', which PodCreateInput does not have", k);
	/* Every GPU type frugal can name is one the spec lists. */
	gpu_enum = json_object_get(json_object_get(json_object_get(props, "gpuTypeIds"), "items"),
				   "enum");
	assert_true(json_is_array(gpu_enum));
	{
		static const char *const accels[] = {
			"A100-80GB", "A100-80GB-SXM", "A40", "B200", "H100", "H100-NVL", "H100-SXM",
			"H200-SXM", "L4", "L40", "L40S", "MI300X", "NVIDIA-H200-NVL", "RTX2000-Ada",
			"RTX3090", "RTX4000-Ada", "RTX4090", "RTX5090", "RTX6000-Ada", "RTXA4000",
			"RTXA4500", "RTXA5000", "RTXA6000", "RTXPRO6000", "RTXPRO6000-WK", NULL,
		};
		for (i = 0; accels[i]; i++) {
			const char *id = runpod_gpu_type_id(accels[i]);
			int found = 0;

			assert_non_null(id);
			json_array_foreach(gpu_enum, j, v)
				found |= !strcmp(json_string_value(v), id);
			if (!found)
				fail_msg("GPU type id '%s' is not in the spec's enum", id);
		}
	}
	dc_enum = json_object_get(json_object_get(json_object_get(props, "dataCenterIds"), "items"),
				  "enum");
	json_array_foreach(dc_enum, j, v)
		if (!strcmp(json_string_value(v), "US-TX-3"))
			break;
	assert_true(j < json_array_size(dc_enum));
	json_decref(b);
	kvlist_release(&env);
	json_decref(spec);
}

/* A Pod made of the spec's examples of each property parses. */
static void test_parse_spec_example(void **state)
{
	json_t *spec = load_spec(), *props, *pod, *v;
	struct runpod_pod p;
	const char *k;

	if (!spec)
		skip();
	props = json_object_get(json_object_get(json_object_get(json_object_get(spec,
		"components"), "schemas"), "Pod"), "properties");
	pod = json_object();
	json_object_foreach(props, k, v)
		if (json_object_get(v, "example"))
			json_object_set(pod, k, json_object_get(v, "example"));
	json_object_set_new(pod, "desiredStatus", json_string("RUNNING"));
	runpod_v1_ops.parse(pod, &p);
	assert_string_equal(p.id, "xedezhzb9la3ye");
	assert_string_equal(p.ip, "100.65.0.119");
	assert_int_equal(p.ssh_port, 10341);
	assert_int_equal(p.state, INSTANCE_RUNNING);
	assert_false(p.interruptible);
	runpod_pod_release(&p);
	/* Still starting: no IP yet. */
	json_object_set_new(pod, "publicIp", json_null());
	json_object_set_new(pod, "portMappings", json_null());
	runpod_v1_ops.parse(pod, &p);
	assert_int_equal(p.state, INSTANCE_PENDING);
	runpod_pod_release(&p);
	json_object_set_new(pod, "desiredStatus", json_string("EXITED"));
	runpod_v1_ops.parse(pod, &p);
	assert_int_equal(p.state, INSTANCE_GONE);
	runpod_pod_release(&p);
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
	json_t *none = json_loads("{\"error\": \"There are no longer any instances available with"
				  " the requested specifications.\"}", 0, NULL);
	json_t *bad = json_loads("{\"error\": \"invalid imageName\"}", 0, NULL);

	assert_true(runpod_is_capacity_error(400, none));
	assert_true(runpod_is_capacity_error(500, none));
	assert_false(runpod_is_capacity_error(400, bad));
	assert_false(runpod_is_capacity_error(429, none));
	assert_false(runpod_is_capacity_error(400, NULL));
	assert_ptr_equal(runpod_api_for("v1"), &runpod_v1_ops);
	assert_ptr_equal(runpod_api_for(NULL), &runpod_v1_ops);
	assert_null(runpod_api_for("v9"));
	assert_null(runpod_gpu_type_id("TPUv4"));
	json_decref(none);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_body),
		cmocka_unit_test(test_create_body_matches_spec),
		cmocka_unit_test(test_parse_spec_example),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_capacity_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
