/*
 * Unit tests for spec/config: $FRUGAL_HOME/config.yaml, its defaults, the
 * three forms of backends.local.gpus, other backends' settings and the
 * diagnostics for bad values and misspelt keys.
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
#include "spec/config.h"

/* Parse yaml into *c; the diagnostics text into *out (caller frees). */
static int parse(const char *yaml, struct config *c, char **out)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;
	int r = config_parse_buffer(yaml, strlen(yaml), "config.yaml", c, &dl);

	diag_list_format(&dl, &sb);
	diag_list_release(&dl);
	*out = strbuf_detach(&sb, NULL);
	return r;
}

static void parse_ok(const char *yaml, struct config *c)
{
	char *out;

	if (parse(yaml, c, &out) != 0)
		fail_msg("expected success for:\n%s\ngot:\n%s", yaml, out);
	free(out);
}

/* yaml must fail with each NULL-terminated substring in the output. */
static void parse_fails(const char *yaml, ...)
{
	struct config c;
	const char *want;
	char *out;
	va_list ap;

	config_init(&c);
	if (parse(yaml, &c, &out) == 0)
		fail_msg("expected failure for:\n%s", yaml);
	va_start(ap, yaml);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(out, want))
			fail_msg("missing '%s' in:\n%s", want, out);
	va_end(ap);
	free(out);
	config_release(&c);
}

static void test_defaults(void **state)
{
	struct config c;

	config_init(&c);
	assert_true(c.local.gpus_auto);
	assert_null(c.storage_url);
	assert_null(c.local.gpu_type);
	config_release(&c);

	parse_ok("", &c);
	assert_null(c.path);
	assert_null(c.storage_url);
	assert_null(c.default_backend);
	assert_true(c.local.gpus_auto);
	assert_int_equal(c.local.n_gpu_ids, 0);
	assert_string_equal(c.local.gpu_type, "GPU");
	assert_true(c.local.price_per_gpu_hour == 0);
	assert_true(c.budget_monthly == 0);
	config_release(&c);

	parse_ok("# nothing\n", &c);
	config_release(&c);
}

static void test_full(void **state)
{
	struct config c;

	parse_ok("storage: file:///mnt/shared/frugal\n"
		 "default_backend: local\n"
		 "backends:\n"
		 "  local:\n"
		 "    gpus: 2\n"
		 "    gpu_type: RTX4090\n"
		 "    price_per_gpu_hour: 0.40\n"
		 "    price_per_hour: 0.05\n"
		 "    cpus: 8\n"
		 "    memory: 32\n"
		 "  slurm:\n"
		 "    partition: gpu\n"
		 "    account:\n"
		 "  aws: {image_owner: work, disk_size: 3}\n"
		 "budgets:\n"
		 "  monthly: 100.0\n", &c);
	assert_string_equal(c.storage_url, "file:///mnt/shared/frugal");
	assert_string_equal(c.default_backend, "local");
	assert_false(c.local.gpus_auto);
	assert_int_equal(c.local.n_gpu_ids, 2);
	assert_string_equal(c.local.gpu_ids[0], "0");
	assert_string_equal(c.local.gpu_ids[1], "1");
	assert_string_equal(c.local.gpu_type, "RTX4090");
	assert_true(c.local.price_per_gpu_hour == 0.40);
	assert_true(c.local.price_per_hour == 0.05);
	assert_true(c.local.cpus == 8);
	assert_true(c.local.memory == 32);
	assert_true(c.budget_monthly == 100.0);
	assert_int_equal(c.n_backends, 2);
	assert_string_equal(config_backend_get(&c, "slurm", "partition"), "gpu");
	assert_null(config_backend_get(&c, "slurm", "account"));
	assert_string_equal(config_backend_get(&c, "aws", "disk_size"), "3");
	assert_null(config_backend_get(&c, "gcp", "x"));
	config_release(&c);
}

static void test_gpus_forms(void **state)
{
	struct config c;

	parse_ok("backends: {local: {gpus: 0}}\n", &c);
	assert_false(c.local.gpus_auto);
	assert_int_equal(c.local.n_gpu_ids, 0);
	config_release(&c);

	parse_ok("backends:\n  local:\n    gpus: [1, 3, GPU-abc]\n", &c);
	assert_false(c.local.gpus_auto);
	assert_int_equal(c.local.n_gpu_ids, 3);
	assert_string_equal(c.local.gpu_ids[1], "3");
	assert_string_equal(c.local.gpu_ids[2], "GPU-abc");
	config_release(&c);

	parse_ok("backends: {local: {gpus: auto}}\n", &c);
	assert_true(c.local.gpus_auto);
	assert_int_equal(c.local.n_gpu_ids, 0);
	config_release(&c);

	parse_ok("backends: {local: }\n", &c);
	assert_true(c.local.gpus_auto);
	config_release(&c);

	parse_fails("backends:\n  local:\n    gpus: many\n",
		    "config.yaml:3:11: error: backends.local.gpus: expected a number of GPUs, a list "
		    "of device ids such as [0, 1], or auto, got 'many'", NULL);
	parse_fails("backends: {local: {gpus: -1}}\n", "got '-1'", NULL);
	parse_fails("backends: {local: {gpus: {a: 1}}}\n", "got a mapping", NULL);
	parse_fails("backends:\n  local:\n    gpus: [0, 0, \"a,b\", [1]]\n",
		    "config.yaml:3:15: error: backends.local.gpus[1]: device '0' is listed twice",
		    "backends.local.gpus[2]: expected a device id", "backends.local.gpus[3]", NULL);
}

static void test_errors(void **state)
{
	parse_fails("storage: /mnt/x\n",
		    "config.yaml:1:10: error: storage: expected a storage URL such as "
		    "s3://bucket/prefix or file:///path, got '/mnt/x'", NULL);
	parse_fails("default_backend: lcoal\n",
		    "default_backend: expected one of local, slurm, kubernetes, aws, gcp, lambda, "
		    "runpod, got 'lcoal'; did you mean 'local'?", NULL);
	parse_fails("storag: file:///x\n",
		    "config.yaml:1:1: error: storag: unknown key 'storag'; did you mean 'storage'?",
		    NULL);
	parse_fails("backends:\n  lcoal: {}\n",
		    "config.yaml:2:3: error: backends.lcoal: unknown key 'lcoal'; did you mean 'local'?",
		    NULL);
	parse_fails("backends:\n  local:\n    gpu: 2\n",
		    "config.yaml:3:5: error: backends.local.gpu: unknown key 'gpu'; did you mean 'gpus'?",
		    NULL);
	parse_fails("backends: {local: {price_per_gpu_hour: -1, cpus: 0, memory: x}}\n",
		    "backends.local.price_per_gpu_hour: expected a price in US dollars (0 or more), "
		    "got '-1'", "backends.local.cpus: expected a positive number of CPUs, got '0'",
		    "backends.local.memory", NULL);
	parse_fails("backends: {slurm: {partition: [a]}}\n",
		    "backends.slurm.partition: expected a string or a number, got a list", NULL);
	parse_fails("backends: {slurm: [a]}\n", "backends.slurm: expected a mapping of settings", NULL);
	parse_fails("backends: [local]\n", "backends: expected a mapping of backend names", NULL);
	parse_fails("budgets: {monthly: 0}\n",
		    "budgets.monthly: expected a positive amount of US dollars, got '0'", NULL);
	parse_fails("budgets: {montly: 10}\n", "did you mean 'monthly'?", NULL);
	parse_fails("budgets: 100\n", "budgets: expected a mapping {monthly}, got '100'", NULL);
	parse_fails("- a\n", "config.yaml:1:1: error: expected a mapping of settings, got a list", NULL);
	parse_fails("storage: a\nstorage: b\n", "duplicate key 'storage'", NULL);
	parse_fails("storage: [\n", "invalid YAML", NULL);
}

static void test_load_file(void **state)
{
	char dir[] = "/tmp/frugal-test-config-XXXXXX";
	struct diag_list dl = DIAG_LIST_INIT;
	struct config c;
	char *path;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	path = fs_path_join(dir, "config.yaml");

	/* a missing file: defaults */
	assert_int_equal(config_load(path, &c, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_null(c.path);
	assert_true(c.local.gpus_auto);
	assert_string_equal(c.local.gpu_type, "GPU");
	config_release(&c);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("default_backend: slurm\nbackends: {local: {gpus: [0]}}\n", f);
	fclose(f);
	assert_int_equal(config_load(path, &c, &dl), 0);
	assert_string_equal(c.path, path);
	assert_string_equal(c.default_backend, "slurm");
	assert_int_equal(c.local.n_gpu_ids, 1);
	config_release(&c);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("budgets:\n  monthly: lots\n", f);
	fclose(f);
	assert_int_equal(config_load(path, &c, &dl), FRUGAL_EINVAL);
	assert_int_equal(dl.n, 1);
	assert_string_equal(dl.items[0].file, path);
	assert_int_equal(dl.items[0].line, 2);
	assert_int_equal(dl.items[0].col, 12);
	diag_list_release(&dl);

	assert_int_equal(fs_remove_tree(dir, NULL), 0);
	free(path);
}

/* Every backend's section is checked against its descriptor's settings
 * schema, the way task files are: position, key, expectation, the
 * nearest known key. */
static void test_backend_settings(void **state)
{
	struct config c;
	long long n = 0;
	double d = 0;
	int yes = 0;
	struct error err = ERROR_INIT;

	(void)state;
	/* A good file: every type, kept as text, read with the typed getters. */
	parse_ok("backends:\n"
		 "  aws:\n"
		 "    regions: [us-east-1, eu-west-1]\n"
		 "    disk_size: 200\n"
		 "    live_spot_prices: yes\n"
		 "    boot_url_ttl: 2h\n"
		 "    preemption_rate: 0.02\n"
		 "  slurm: {gres_map: {A100: a100}, time_limit: 1h, price_per_hour: 0.5}\n"
		 "  lambda: {request_interval: 0.5, self_terminate: 0}\n"
		 "  kubernetes: {pvc: data}\n", &c);
	assert_string_equal(config_backend_get(&c, "aws", "regions"), "us-east-1,eu-west-1");
	assert_string_equal(config_backend_get(&c, "aws", "live_spot_prices"), "true");
	assert_string_equal(config_backend_get(&c, "slurm", "gres_map.A100"), "a100");
	assert_string_equal(config_backend_get(&c, "lambda", "request_interval"), "0.5");
	assert_string_equal(config_backend_get(&c, "lambda", "self_terminate"), "false");
	assert_string_equal(config_backend_get(&c, "kubernetes", "pvc"), "data");
	assert_int_equal(config_backend_int(&c, "aws", "disk_size", 8, &n, &err), 0);
	assert_int_equal(n, 200);
	assert_int_equal(config_backend_int(&c, "aws", "nothing", 8, &n, &err), 0);
	assert_int_equal(n, 8);
	assert_int_equal(config_backend_number(&c, "aws", "preemption_rate", 1, &d, &err), 0);
	assert_true(d == 0.02);
	assert_int_equal(config_backend_bool(&c, "aws", "live_spot_prices", 0, &yes, &err), 0);
	assert_true(yes);
	assert_int_equal(config_backend_int(&c, "aws", "regions", 0, &n, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(error_msg(&err), "backends.aws.regions: expected a whole number"));
	config_release(&c);

	/* Misspelt keys, with the nearest one. */
	parse_fails("backends:\n  aws:\n    regoins: us-east-1\n",
		    "config.yaml:3:5: error: backends.aws.regoins: unknown setting; did you mean"
		    " 'regions'?", NULL);
	parse_fails("backends: {aws: {instance_profle: x}, gcp: {projct: p}}\n",
		    "backends.aws.instance_profle: unknown setting; did you mean 'instance_profile'?",
		    "backends.gcp.projct: unknown setting; did you mean 'project'?", NULL);
	parse_fails("backends: {runpod: {zzzzzzzzzz: 1}}\n",
		    "backends.runpod.zzzzzzzzzz: unknown setting", NULL);
	/* Wrong types, with the type expected. */
	parse_fails("backends:\n  aws:\n    disk_size: big\n    live_spot_prices: maybe\n"
		    "    boot_url_ttl: soon\n    regions: {a: b}\n",
		    "config.yaml:3:16: error: backends.aws.disk_size: expected a whole number"
		    " (0 or more), got 'big'",
		    "config.yaml:4:23: error: backends.aws.live_spot_prices: expected true or false,"
		    " got 'maybe'",
		    "backends.aws.boot_url_ttl: expected a duration such as 30s, 10m or 1h30m,"
		    " got 'soon'",
		    "backends.aws.regions.a: expected a value for 'regions', not a mapping", NULL);
	parse_fails("backends: {slurm: {gres_map: a100, price_per_hour: -1}}\n",
		    "backends.slurm.gres_map: expected a mapping, got 'a100'",
		    "backends.slurm.price_per_hour: expected a number >= 0, got '-1'", NULL);
	parse_fails("backends: {aws: {regions: [us-east-1, [x]]}}\n",
		    "backends.aws.regions[1]: expected a string, got a list", NULL);
	parse_fails("backends: {lambda: {boot_timeout: later}}\n",
		    "backends.lambda.boot_timeout: expected a duration", NULL);
	parse_fails("default_backend: k8s\n", "default_backend: expected one of", NULL);
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_gpus_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_backend_settings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
