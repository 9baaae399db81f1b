/*
 * Unit tests for backend/lambda/lambda.c's pure pieces: the key file, the
 * launch body, /instance-types (including the example in Lambda's
 * published spec, read from ../shared/specs when it is there), instance
 * states, capacity errors, finding an instance by name.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "backend/lambda/lambda.h"
#include "spec/task.h"
#include "spec/yamltree.h"

static void test_key_file(void **state)
{
	char *k;

	k = lambda_key_from_text("# lambda\napi_key = secret_abc123\n");
	assert_string_equal(k, "secret_abc123");
	free(k);
	k = lambda_key_from_text("  api_key=xyz  \r\nother = 1\n");
	assert_string_equal(k, "xyz");
	free(k);
	assert_null(lambda_key_from_text("api_keys = no\n"));
	assert_null(lambda_key_from_text("api_key =\n"));
	assert_null(lambda_key_from_text(""));
}

static void test_launch_body(void **state)
{
	const char *fs[] = { "fs1" }, *two[] = { "fs1", "data", "fs1" };
	json_t *b = lambda_launch_body("us-east-1", "gpu_1x_a10", "laptop", fs, 1,
				       "frugal-0a1b2c3d-abc123-1");
	char *text = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);

	/* Exactly the spec's properties (additionalProperties: false). */
	assert_string_equal(text, "{\"file_system_names\":[\"fs1\"],\"instance_type_name\":"
			    "\"gpu_1x_a10\",\"name\":\"frugal-0a1b2c3d-abc123-1\",\"quantity\":1,"
			    "\"region_name\":\"us-east-1\",\"ssh_key_names\":[\"laptop\"]}");
	free(text);
	json_decref(b);
	b = lambda_launch_body("us-east-1", "gpu_1x_a10", "laptop", NULL, 0, "n");
	assert_null(json_object_get(b, "file_system_names"));
	json_decref(b);
	/* The configured file system and the task's: each name once. */
	b = lambda_launch_body("us-east-1", "gpu_1x_a10", "laptop", two, 3, "n");
	text = json_dumps(json_object_get(b, "file_system_names"), JSON_COMPACT);
	assert_string_equal(text, "[\"fs1\",\"data\"]");
	free(text);
	json_decref(b);
}

static const char types_reply[] =
	"{\"data\": {\"gpu_1x_a10\": {\"instance_type\": {\"name\": \"gpu_1x_a10\","
	" \"description\": \"1x A10 (24 GB PCIe)\", \"price_cents_per_hour\": 75,"
	" \"specs\": {\"vcpus\": 30, \"memory_gib\": 200, \"storage_gib\": 1400}},"
	" \"regions_with_capacity_available\": [{\"name\": \"us-east-1\", \"description\":"
	" \"Virginia, USA\"}]},"
	" \"gpu_8x_h100_sxm5\": {\"instance_type\": {\"name\": \"gpu_8x_h100_sxm5\","
	" \"description\": \"8x H100\", \"price_cents_per_hour\": 2392, \"specs\": {\"vcpus\":"
	" 208, \"memory_gib\": 1800, \"storage_gib\": 24780}},"
	" \"regions_with_capacity_available\": []}}}";

static void test_capacity(void **state)
{
	json_t *j = json_loads(types_reply, 0, NULL);
	double price = -1;

	assert_non_null(j);
	assert_true(lambda_has_capacity(j, "gpu_1x_a10", "us-east-1", &price));
	assert_true(price > 0.749 && price < 0.751);
	assert_false(lambda_has_capacity(j, "gpu_1x_a10", "us-west-1", NULL));
	price = -1;
	assert_false(lambda_has_capacity(j, "gpu_8x_h100_sxm5", "us-east-1", &price));
	assert_true(price > 23.91 && price < 23.93);
	assert_false(lambda_has_capacity(j, "gpu_1x_nope", "us-east-1", NULL));
	json_decref(j);
}

/* A YAML node as JSON: plain scalars that read as numbers become numbers. */
static json_t *to_json(const struct ynode *n)
{
	json_t *o;
	size_t i;
	char *end;
	double d;

	if (!n)
		return json_null();
	switch (n->type) {
	case YNODE_MAP:
		o = json_object();
		for (i = 0; i < n->n_pairs; i++)
			json_object_set_new(o, n->pairs[i].key->str, to_json(n->pairs[i].value));
		return o;
	case YNODE_SEQ:
		o = json_array();
		for (i = 0; i < n->n_items; i++)
			json_array_append_new(o, to_json(n->items[i]));
		return o;
	default:
		d = strtod(n->str, &end);
		if (n->plain && *n->str && !*end)
			return json_real(d);
		return json_string(n->str);
	}
}

/* The spec's own example of a GET /instance-types reply parses. */
static void test_spec_example(void **state)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *path = xasprintf("%s/specs/soof-golan-terraform-provider-lambdalabs/openapi.yaml",
			       shared ? shared : "../shared");
	struct strbuf sb = STRBUF_INIT;
	struct diag_list diags = DIAG_LIST_INIT;
	struct ynode *root = NULL;
	const struct ynode *ex;
	json_t *reply;
	double price = -1;

	if (fs_read_file(path, 1 << 20, &sb, NULL) < 0) {
		printf("skipped: %s not available\n", path);
		free(path);
		skip();
	}
	assert_int_equal(yamltree_load(sb.buf, sb.len, path, &root, &diags), 0);
	ex = ynode_get(root, "components");
	ex = ynode_get(ynode_get(ex, "responses"), "instanceTypes");
	ex = ynode_get(ynode_get(ex, "content"), "application/json");
	ex = ynode_get(ynode_get(ynode_get(ex, "schema"), "properties"), "data");
	ex = ynode_get(ex, "example");
	assert_non_null(ex);
	reply = json_object();
	json_object_set_new(reply, "data", to_json(ex));
	/* The example gives the price as a string ("80"): still read. */
	assert_true(lambda_has_capacity(reply, "gpu_1x_a100", "us-tx-1", &price));
	assert_true(price > 0.79 && price < 0.81);
	assert_true(lambda_has_capacity(reply, "gpu_4x_a6000", "us-az-1", NULL));
	assert_false(lambda_has_capacity(reply, "gpu_4x_a6000", "us-tx-1", NULL));
	json_decref(reply);
	yamltree_free(root);
	diag_list_release(&diags);
	strbuf_release(&sb);
	free(path);
}

static void test_instance_state(void **state)
{
	static const struct { const char *status, *ip; enum instance_state want; } cases[] = {
		{ "booting", NULL, INSTANCE_PENDING },
		{ "active", "10.10.10.1", INSTANCE_RUNNING },
		{ "unhealthy", "10.10.10.1", INSTANCE_RUNNING },
		{ "terminating", "10.10.10.1", INSTANCE_GONE },
		{ "terminated", NULL, INSTANCE_GONE },
		{ "something-new", NULL, INSTANCE_PENDING },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = json_pack("{s:s, s:s, s:[], s:[]}", "id", "0920582c7ff041399e34823a0be62549",
				      "status", cases[i].status, "ssh_key_names", "file_system_names");
		enum instance_state s;
		const char *ip = "x";

		json_object_set_new(o, "ip", cases[i].ip ? json_string(cases[i].ip) : json_null());
		lambda_instance_state(o, &s, &ip);
		assert_int_equal(s, cases[i].want);
		if (cases[i].ip)
			assert_string_equal(ip, cases[i].ip);
		else
			assert_null(ip);
		json_decref(o);
	}
}

static void test_capacity_errors(void **state)
{
	json_t *cap = json_loads("{\"error\": {\"code\": \"instance-operations/launch/"
				 "insufficient-capacity\", \"message\": \"Not enough capacity\"}}",
				 0, NULL);
	json_t *quota = json_loads("{\"error\": {\"code\": \"global/quota-exceeded\", \"message\":"
				   " \"Quota exceeded\"}}", 0, NULL);
	json_t *bad = json_loads("{\"error\": {\"code\": \"global/invalid-parameters\","
				 " \"message\": \"Invalid\"}}", 0, NULL);

	assert_true(lambda_is_capacity_error(400, cap));
	assert_true(lambda_is_capacity_error(400, quota));
	assert_false(lambda_is_capacity_error(400, bad));
	assert_false(lambda_is_capacity_error(500, NULL));
	json_decref(cap);
	json_decref(quota);
	json_decref(bad);
}

static void test_find_named(void **state)
{
	json_t *j = json_loads("{\"data\": ["
			       "{\"id\": \"a\", \"name\": \"frugal-1-x-1\", \"status\": \"terminated\"},"
			       "{\"id\": \"b\", \"name\": \"frugal-1-x-1\", \"status\": \"booting\"},"
			       "{\"id\": \"c\", \"name\": null, \"status\": \"active\"}]}", 0, NULL);

	assert_string_equal(lambda_find_named(j, "frugal-1-x-1"), "b");
	assert_null(lambda_find_named(j, "frugal-1-x-2"));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_launch_body),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_instance_state),
		cmocka_unit_test(test_capacity_errors),
		cmocka_unit_test(test_find_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
