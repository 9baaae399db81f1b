/*
 * Unit tests for spec/task (with spec/yamltree, spec/schema and
 * spec/suggest): every key of the task file, valid and invalid, the
 * accelerator forms, diagnostics with positions and suggestions, several
 * problems at once, defaults, and the JSON round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "spec/suggest.h"
#include "spec/task.h"
#include "backend/provider.h"
#include "spec/yamltree.h"

/* ---- helpers ----------------------------------------------------------- */

/* Parse yaml (base dir /tmp) into *t; the diagnostics text into *out
 * (caller frees). Returns the parser's result. */
static int parse(const char *yaml, struct task *t, char **out)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;
	int r = task_parse_buffer(yaml, strlen(yaml), "t.yaml", "/tmp", t, &dl);

	diag_list_format(&dl, &sb);
	diag_list_release(&dl);
	*out = strbuf_detach(&sb, NULL);
	return r;
}

/* yaml must parse; returns the task (caller task_release()s). */
static void parse_ok(const char *yaml, struct task *t)
{
	char *out;
	int r = parse(yaml, t, &out);

	if (r != 0)
		fail_msg("expected success for:\n%s\ngot:\n%s", yaml, out);
	assert_string_equal(out, "");
	free(out);
}

/*
 * yaml must fail; every NULL-terminated expected substring must be in the
 * diagnostics text; returns the number of diagnostic lines.
 */
static int parse_fails(const char *yaml, ...)
{
	struct task t;
	char *out;
	const char *want;
	va_list ap;
	int lines = 0;
	const char *c;

	task_init(&t);
	if (parse(yaml, &t, &out) == 0)
		fail_msg("expected failure for:\n%s", yaml);
	va_start(ap, yaml);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(out, want))
			fail_msg("missing '%s' in diagnostics:\n%s", want, out);
	va_end(ap);
	for (c = out; *c; c++)
		lines += *c == '\n';
	free(out);
	task_release(&t);
	return lines;
}

/* to_json(from_json(to_json(t))) == to_json(t) */
static void assert_round_trip(const struct task *t)
{
	struct error err = ERROR_INIT;
	struct task back;
	char *j1 = task_to_json(t), *j2;

	if (task_from_json(j1, &back, &err) != 0)
		fail_msg("task_from_json: %s\n%s", error_msg(&err), j1);
	j2 = task_to_json(&back);
	assert_string_equal(j1, j2);
	free(j1);
	free(j2);
	task_release(&back);
}

static const char *full_task =
	"name: mnist\n"
	"workdir: .\n"
	"resources:\n"
	"  accelerators: A100:1\n"
	"  cpus: 4+\n"
	"  memory: 32+\n"
	"  use_spot: true\n"
	"  cloud: aws\n"
	"  region: us-east-1\n"
	"  zone: us-east-1a\n"
	"  disk_size: 100\n"
	"  max_price: 2.50\n"
	"  image_id: ami-123\n"
	"  instance_type: p4d.24xlarge\n"
	"envs: {LR: \"0.001\", EPOCHS: 10, DEBUG: true}\n"
	"secrets: {WANDB_API_KEY: null, HF_TOKEN: hf_secret}\n"
	"file_mounts: {/data: s3://bucket/dataset}\n"
	"setup: |\n"
	"  pip install -r requirements.txt\n"
	"run: |\n"
	"  python train.py --lr $LR --ckpt $FRUGAL_CHECKPOINT_DIR\n"
	"checkpoint: {dir: /ckpt, interval: 10m, keep: 5}\n"
	"outputs: {paths: [\"weights/*.pth\", \"logs/\"], to: \"s3://bucket/prefix\"}\n"
	"stop: {max_runtime: 24h, on_output: \"weights/*.pth\", idle_gpu: 15m, orphan_timeout: 1h}\n"
	"recovery: {max_restarts_on_errors: 2, recover_on_exit_codes: [33, 42],\n"
	"           preemption_signal: SIGUSR1, notice_grace: 45s}\n"
	"budget: 20.00\n"
	"sweep: {method: random, params: {LR: [1e-3, 1e-4], WD: \"loguniform(1e-5, 1e-2)\"},\n"
	"        max_parallel: 4, trials: 20, seed: 7}\n"
	"backend: aws\n";

/* ---- defaults and the full example ------------------------------------- */

static void test_defaults(void **state)
{
	struct task t;

	parse_ok("run: echo hi\n", &t);
	assert_string_equal(t.run, "echo hi");
	assert_null(t.name);
	assert_null(t.workdir);
	assert_null(t.path);
	assert_int_equal(t.num_nodes, 1);
	assert_int_equal(t.res.accel_mode, ACCEL_NONE);
	assert_int_equal(t.res.spot, SPOT_ON_DEMAND);
	assert_int_equal(t.checkpoint.interval, 600);
	assert_int_equal(t.checkpoint.keep, 3);
	assert_null(t.checkpoint.dir);
	assert_int_equal(t.stop.orphan_timeout, 1800);
	assert_int_equal(t.stop.max_runtime, 0);
	assert_int_equal(t.recovery.preemption_signal, SIGTERM);
	assert_int_equal(t.recovery.notice_grace, 30);
	assert_int_equal(t.recovery.max_restarts_on_errors, 0);
	assert_int_equal(t.sweep.method, SWEEP_NONE);
	assert_true(t.budget == 0);
	assert_int_equal(task_gpu_count(&t), 0);
	assert_round_trip(&t);
	task_release(&t);

	/* task_init alone gives the same defaults */
	task_init(&t);
	assert_int_equal(t.num_nodes, 1);
	assert_int_equal(t.checkpoint.interval, 600);
	assert_int_equal(t.recovery.preemption_signal, SIGTERM);
	task_release(&t);
}

static void test_full_example(void **state)
{
	struct task t;
	struct strbuf sb = STRBUF_INIT;

	parse_ok(full_task, &t);
	assert_string_equal(t.name, "mnist");
	assert_string_equal(t.workdir, "/tmp");
	assert_int_equal(t.res.accel_mode, ACCEL_ONE);
	assert_int_equal(t.res.n_accels, 1);
	assert_string_equal(t.res.accels[0].name, "A100");
	assert_int_equal(t.res.accels[0].count, 1);
	assert_true(t.res.cpus == 4 && t.res.cpus_at_least);
	assert_true(t.res.memory == 32 && t.res.memory_at_least);
	assert_int_equal(t.res.spot, SPOT_SPOT);
	assert_string_equal(t.res.cloud, "aws");
	assert_string_equal(t.res.region, "us-east-1");
	assert_string_equal(t.res.zone, "us-east-1a");
	assert_int_equal(t.res.disk_size, 100);
	assert_true(t.res.max_price == 2.5);
	assert_string_equal(t.res.image_id, "ami-123");
	assert_string_equal(t.res.instance_type, "p4d.24xlarge");
	assert_string_equal(kvlist_get(&t.envs, "LR"), "0.001");
	assert_string_equal(kvlist_get(&t.envs, "EPOCHS"), "10");
	assert_string_equal(kvlist_get(&t.envs, "DEBUG"), "true");
	assert_int_equal(t.secrets.n, 2);
	assert_true(kvlist_has(&t.secrets, "WANDB_API_KEY"));
	assert_null(kvlist_get(&t.secrets, "WANDB_API_KEY"));
	assert_string_equal(kvlist_get(&t.secrets, "HF_TOKEN"), "hf_secret");
	assert_int_equal(t.file_mounts.n, 1);
	assert_string_equal(t.file_mounts.items[0].dst, "/data");
	assert_string_equal(t.file_mounts.items[0].source, "s3://bucket/dataset");
	assert_int_equal(t.file_mounts.items[0].mode, MOUNT_MODE_COPY);
	assert_string_equal(t.setup, "pip install -r requirements.txt\n");
	assert_string_equal(t.run, "python train.py --lr $LR --ckpt $FRUGAL_CHECKPOINT_DIR\n");
	assert_string_equal(t.checkpoint.dir, "/ckpt");
	assert_int_equal(t.checkpoint.interval, 600);
	assert_int_equal(t.checkpoint.keep, 5);
	assert_int_equal(t.outputs.n_paths, 2);
	assert_string_equal(t.outputs.paths[0], "weights/*.pth");
	assert_string_equal(t.outputs.paths[1], "logs/");
	assert_string_equal(t.outputs.to, "s3://bucket/prefix");
	assert_int_equal(t.stop.max_runtime, 86400);
	assert_string_equal(t.stop.on_output, "weights/*.pth");
	assert_int_equal(t.stop.idle_gpu, 900);
	assert_int_equal(t.stop.orphan_timeout, 3600);
	assert_int_equal(t.recovery.max_restarts_on_errors, 2);
	assert_int_equal(t.recovery.n_recover_on_exit_codes, 2);
	assert_int_equal(t.recovery.recover_on_exit_codes[0], 33);
	assert_int_equal(t.recovery.recover_on_exit_codes[1], 42);
	assert_int_equal(t.recovery.preemption_signal, SIGUSR1);
	assert_int_equal(t.recovery.notice_grace, 45);
	assert_true(t.budget == 20.0);
	assert_int_equal(t.sweep.method, SWEEP_RANDOM);
	assert_int_equal(t.sweep.n_params, 2);
	assert_string_equal(t.sweep.params[0].name, "LR");
	assert_int_equal(t.sweep.params[0].n_values, 2);
	assert_string_equal(t.sweep.params[0].values[0], "1e-3");
	assert_null(t.sweep.params[0].range);
	assert_string_equal(t.sweep.params[1].name, "WD");
	assert_string_equal(t.sweep.params[1].range, "loguniform(1e-5,1e-2)");
	assert_int_equal(t.sweep.max_parallel, 4);
	assert_int_equal(t.sweep.trials, 20);
	assert_true(t.sweep.has_seed);
	assert_int_equal(t.sweep.seed, 7);
	assert_string_equal(t.backend, "aws");
	assert_int_equal(task_gpu_count(&t), 1);
	task_format_accels(&t.res, &sb);
	assert_string_equal(sb.buf, "A100:1");
	strbuf_release(&sb);
	assert_round_trip(&t);
	task_release(&t);
}

/* ---- accelerators ------------------------------------------------------- */

static void test_accel_forms(void **state)
{
	struct task t;
	struct strbuf sb = STRBUF_INIT;

	parse_ok("resources: {accelerators: A100}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ONE);
	assert_int_equal(t.res.accels[0].count, 1);
	assert_int_equal(task_gpu_count(&t), 1);
	task_release(&t);

	parse_ok("resources: {accelerators: \"A100-80GB:8\"}\nrun: x\n", &t);
	assert_string_equal(t.res.accels[0].name, "A100-80GB");
	assert_int_equal(task_gpu_count(&t), 8);
	assert_round_trip(&t);
	task_release(&t);

	parse_ok("resources:\n  accelerators: {A100: 1, H100: 2}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ANY_OF);
	assert_int_equal(t.res.n_accels, 2);
	assert_string_equal(t.res.accels[1].name, "H100");
	assert_int_equal(t.res.accels[1].count, 2);
	task_format_accels(&t.res, &sb);
	assert_string_equal(sb.buf, "{A100:1, H100:2}");
	strbuf_reset(&sb);
	assert_int_equal(task_gpu_count(&t), 1);
	assert_round_trip(&t);
	task_release(&t);

	/* {A100} in flow style: a null count is 1 */
	parse_ok("resources:\n  accelerators: {A100, L4: 4}\nrun: x\n", &t);
	assert_int_equal(t.res.accels[0].count, 1);
	assert_int_equal(t.res.accels[1].count, 4);
	task_release(&t);

	parse_ok("resources:\n  accelerators: [\"H100:2\", A100:1, L4]\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ORDERED);
	assert_int_equal(t.res.n_accels, 3);
	assert_string_equal(t.res.accels[0].name, "H100");
	assert_int_equal(t.res.accels[2].count, 1);
	task_format_accels(&t.res, &sb);
	assert_string_equal(sb.buf, "[H100:2, A100:1, L4:1]");
	strbuf_reset(&sb);
	assert_int_equal(task_gpu_count(&t), 2);
	assert_round_trip(&t);
	task_release(&t);

	/* one choice in a list or mapping is just that accelerator */
	parse_ok("resources: {accelerators: [T4:2]}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ONE);
	task_release(&t);
	parse_ok("resources: {accelerators: {T4: 2}}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ONE);
	task_release(&t);

	/* null: none asked */
	parse_ok("resources: {accelerators: null}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_NONE);
	task_format_accels(&t.res, &sb);
	assert_string_equal(sb.buf, "-");
	task_release(&t);
	strbuf_release(&sb);
}

static void test_accel_errors(void **state)
{
	parse_fails("resources:\n  accelerators: A100:zero\nrun: x\n",
		    "t.yaml:2:17: error: resources.accelerators: expected a whole number of "
		    "accelerators from 1 to 1024 after ':', got 'zero'", NULL);
	parse_fails("resources: {accelerators: \"A100:0\"}\nrun: x\n", "got '0'", NULL);
	parse_fails("resources: {accelerators: \"A100:0.5\"}\nrun: x\n", "got '0.5'", NULL);
	parse_fails("resources: {accelerators: \"A100:1:2\"}\nrun: x\n", "got '1:2'", NULL);
	parse_fails("resources: {accelerators: \":2\"}\nrun: x\n",
		    "expected an accelerator such as 'A100' or 'A100:2', got ':2'", NULL);
	parse_fails("resources: {accelerators: 4}\nrun: x\n",
		    "expected an accelerator such as 'A100' or 'A100:2', got '4'", NULL);
	parse_fails("resources: {accelerators: []}\nrun: x\n",
		    "expected at least one accelerator, got an empty list", NULL);
	parse_fails("resources: {accelerators: {}}\nrun: x\n",
		    "expected at least one accelerator, got an empty mapping", NULL);
	parse_fails("resources:\n  accelerators: {A100: 0, H100: x}\nrun: x\n",
		    "t.yaml:2:24: error: resources.accelerators.A100: expected a positive number "
		    "of accelerators, got '0'",
		    "t.yaml:2:33: error: resources.accelerators.H100: expected a positive number "
		    "of accelerators, got 'x'", NULL);
	parse_fails("resources:\n  accelerators: {\"A 100\": 1}\nrun: x\n",
		    "resources.accelerators.A 100: expected an accelerator name", NULL);
	parse_fails("resources:\n  accelerators: [A100:1, [H100]]\nrun: x\n",
		    "t.yaml:2:26: error: resources.accelerators[1]: expected an accelerator such "
		    "as 'A100' or 'A100:2', got a list", NULL);
	parse_fails("resources:\n  accelerators: [A100:1, a100:2]\nrun: x\n",
		    "resources.accelerators[1]: accelerator 'a100' is listed twice", NULL);
}

/* ---- resources ------------------------------------------------------------ */

static void test_cpus_memory(void **state)
{
	struct task t;

	parse_ok("resources: {cpus: 4, memory: \"16\"}\nrun: x\n", &t);
	assert_true(t.res.cpus == 4 && !t.res.cpus_at_least);
	assert_true(t.res.memory == 16 && !t.res.memory_at_least);
	task_release(&t);
	parse_ok("resources: {cpus: \"0.5+\", memory: 7.5+}\nrun: x\n", &t);
	assert_true(t.res.cpus == 0.5 && t.res.cpus_at_least);
	assert_true(t.res.memory == 7.5 && t.res.memory_at_least);
	assert_round_trip(&t);
	task_release(&t);

	parse_fails("resources:\n  cpus: abc\n  memory: -1\nrun: x\n",
		    "t.yaml:2:9: error: resources.cpus: expected a positive number of CPUs, "
		    "with '+' for 'at least' (4 or 4+), got 'abc'",
		    "t.yaml:3:11: error: resources.memory: expected a positive number of GiB", NULL);
	parse_fails("resources: {cpus: 0}\nrun: x\n", "resources.cpus", "got '0'", NULL);
	parse_fails("resources: {cpus: [4]}\nrun: x\n", "got a list", NULL);
	parse_fails("resources: {cpus: 4++}\nrun: x\n", "got '4++'", NULL);
	parse_fails("resources: {memory: 0x10}\nrun: x\n", "got '0x10'", NULL);
	parse_fails("resources: {memory: .inf}\nrun: x\n", "got '.inf'", NULL);
}

static void test_spot(void **state)
{
	struct task t;

	parse_ok("resources: {use_spot: false}\nrun: x\n", &t);
	assert_int_equal(t.res.spot, SPOT_ON_DEMAND);
	task_release(&t);
	parse_ok("resources: {use_spot: yes}\nrun: x\n", &t);
	assert_int_equal(t.res.spot, SPOT_SPOT);
	task_release(&t);
	parse_ok("resources: {spot_policy: auto}\nrun: x\n", &t);
	assert_int_equal(t.res.spot, SPOT_AUTO);
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("resources: {spot_policy: on-demand, use_spot: false}\nrun: x\n", &t);
	assert_int_equal(t.res.spot, SPOT_ON_DEMAND);
	task_release(&t);
	parse_ok("resources: {spot_policy: spot, use_spot: true}\nrun: x\n", &t);
	assert_int_equal(t.res.spot, SPOT_SPOT);
	task_release(&t);

	parse_fails("resources: {use_spot: maybe}\nrun: x\n",
		    "resources.use_spot: expected true or false, got 'maybe'", NULL);
	parse_fails("resources: {use_spot: 1}\nrun: x\n", "expected true or false, got '1'", NULL);
	parse_fails("resources:\n  spot_policy: spto\nrun: x\n",
		    "t.yaml:2:16: error: resources.spot_policy: expected one of on-demand, spot, "
		    "auto, got 'spto'; did you mean 'spot'?", NULL);
	parse_fails("resources:\n  use_spot: true\n  spot_policy: on-demand\nrun: x\n",
		    "t.yaml:3:16: error: resources.spot_policy: spot_policy 'on-demand' conflicts "
		    "with use_spot: true; give only one of them", NULL);
	parse_fails("resources: {use_spot: false, spot_policy: auto}\nrun: x\n",
		    "conflicts with use_spot: false", NULL);
}

static void test_cloud_infra(void **state)
{
	struct task t;

	parse_ok("resources: {cloud: AWS}\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "aws");
	task_release(&t);
	parse_ok("resources: {cloud: k8s}\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "kubernetes");
	task_release(&t);
	parse_ok("resources: {infra: local}\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "local");
	assert_null(t.res.region);
	task_release(&t);
	parse_ok("resources: {infra: gcp/us-central1}\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "gcp");
	assert_string_equal(t.res.region, "us-central1");
	assert_null(t.res.zone);
	task_release(&t);
	parse_ok("resources: {infra: aws/us-east-1/us-east-1a}\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "aws");
	assert_string_equal(t.res.region, "us-east-1");
	assert_string_equal(t.res.zone, "us-east-1a");
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("resources: {region: eu-west-1, zone: eu-west-1b}\nrun: x\n", &t);
	assert_null(t.res.cloud);
	assert_string_equal(t.res.zone, "eu-west-1b");
	task_release(&t);

	parse_fails("resources: {cloud: azure}\nrun: x\n",
		    "resources.cloud: unknown cloud 'azure': expected one of local, slurm, "
		    "kubernetes, aws, gcp, lambda, runpod", NULL);
	parse_fails("resources: {cloud: gpc}\nrun: x\n", "did you mean 'gcp'?", NULL);
	parse_fails("resources: {infra: aws/us-east-1/a/b}\nrun: x\n",
		    "resources.infra: expected CLOUD, CLOUD/REGION or CLOUD/REGION/ZONE", NULL);
	parse_fails("resources: {infra: aws/}\nrun: x\n", "resources.infra: expected CLOUD", NULL);
	parse_fails("resources: {infra: awz/us-east-1}\nrun: x\n",
		    "unknown cloud 'awz'", "did you mean 'aws'?", NULL);
	parse_fails("resources:\n  infra: aws\n  cloud: aws\nrun: x\n",
		    "t.yaml:2:10: error: resources.infra: give either infra or cloud/region/zone, "
		    "not both", NULL);
	parse_fails("resources: {region: [a]}\nrun: x\n",
		    "resources.region: expected a region name such as us-east-1, got a list", NULL);
	parse_fails("resources: {zone: \"\"}\nrun: x\n", "resources.zone: expected a zone name", NULL);
}

static void test_resources_misc(void **state)
{
	struct task t;

	parse_ok("resources: {disk_size: 256, max_price: 0.5, image_id: img, "
		 "instance_type: g5.xlarge}\nrun: x\n", &t);
	assert_int_equal(t.res.disk_size, 256);
	assert_true(t.res.max_price == 0.5);
	task_release(&t);
	parse_ok("resources:\nrun: x\n", &t);	/* null section */
	task_release(&t);

	parse_fails("resources: {disk_size: 1.5}\nrun: x\n",
		    "resources.disk_size: expected a positive integer (GiB), got '1.5'", NULL);
	parse_fails("resources: {disk_size: 0}\nrun: x\n", "got '0'", NULL);
	parse_fails("resources: {max_price: free}\nrun: x\n",
		    "resources.max_price: expected a positive price in US dollars per hour, got 'free'",
		    NULL);
	parse_fails("resources: {image_id: [ami-1]}\nrun: x\n",
		    "resources.image_id: expected an image id string, docker:IMAGE, or a mapping "
		    "REGION: IMAGE, got a list", NULL);
	parse_fails("resources: {instance_type: [a]}\nrun: x\n", "got a list", NULL);
	parse_fails("resources: [cpus]\nrun: x\n",
		    "t.yaml:1:12: error: resources: expected a mapping of resource keys", NULL);
	parse_fails("resources: {any_of: []}\nrun: x\n",
		    "resources.any_of: expected a non-empty list of resources mappings", NULL);
}

/* ---- top-level scalars --------------------------------------------------- */

static void test_name_run_setup(void **state)
{
	struct task t;

	parse_ok("name: my-task_2.v1\nsetup: \"\"\nrun: x\n", &t);
	assert_string_equal(t.name, "my-task_2.v1");
	assert_string_equal(t.setup, "");
	task_release(&t);

	parse_fails("name: \"my task\"\nrun: x\n",
		    "t.yaml:1:7: error: name: expected a name of letters, digits", "got 'my task'", NULL);
	parse_fails("name: -x\nrun: x\n", "got '-x'", NULL);
	parse_fails("name: [a]\nrun: x\n", "name: expected a name", "got a list", NULL);
	parse_fails("name: x\n", "t.yaml:1:1: error: missing 'run': the commands the job runs", NULL);
	/* run is optional when there is a setup (SkyPilot allows setup-only
	 * tasks); a null or blank run is no run */
	parse_fails("run:\n", "t.yaml:1:5: error: run: missing 'run': the commands the job runs",
		    NULL);
	parse_fails("run: \"  \"\n", "run: missing 'run'", NULL);
	parse_ok("setup: pip install torch\n", &t);
	assert_null(t.run);
	assert_string_equal(t.setup, "pip install torch");
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("setup: echo hi\nrun:\n", &t);
	assert_null(t.run);
	task_release(&t);
	parse_fails("run: [a, b]\n", "run: expected a string of shell commands, got a list", NULL);
	parse_fails("setup: {a: b}\nrun: x\n", "setup: expected a string of shell commands, "
		    "got a mapping", NULL);
}

static void test_num_nodes(void **state)
{
	struct task t;

	parse_ok("num_nodes: 1\nrun: x\n", &t);
	assert_int_equal(t.num_nodes, 1);
	task_release(&t);
	parse_ok("num_nodes: 2\nrun: x\n", &t);
	assert_int_equal(t.num_nodes, 2);
	assert_int_equal(t.stop.other_nodes_end, 0);
	assert_int_equal(t.checkpoint.per_node, 0);
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("num_nodes: 64\nrun: x\nstop: {other_nodes: end}\n"
		 "checkpoint: {dir: /ckpt, per_node: true}\n", &t);
	assert_int_equal(t.num_nodes, TASK_NODES_MAX);
	assert_int_equal(t.stop.other_nodes_end, 1);
	assert_int_equal(t.checkpoint.per_node, 1);
	assert_round_trip(&t);
	task_release(&t);
	parse_fails("num_nodes: 65\nrun: x\n",
		    "t.yaml:1:12: error: num_nodes: at most 64 nodes per job (num_nodes: 65); "
		    "ask for fewer, larger machines", NULL);
	parse_fails("num_nodes: 2\nrun: x\nstop: {other_nodes: kill}\n", "stop.other_nodes", NULL);
	parse_fails("checkpoint: {dir: /c, per_node: maybe}\nrun: x\n", "checkpoint.per_node", NULL);
	assert_int_equal(task_from_json("{\"num_nodes\": 65}", &t, NULL), FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"stop\": {\"other_nodes\": \"x\"}}", &t, NULL),
			 FRUGAL_EINVAL);
	parse_fails("num_nodes: 0\nrun: x\n", "num_nodes: expected a positive integer, got '0'", NULL);
	parse_fails("num_nodes: two\nrun: x\n", "expected a positive integer, got 'two'", NULL);
}

static void test_budget_backend(void **state)
{
	struct task t;

	parse_ok("budget: 5\nbackend: local\nresources: {cloud: local}\nrun: x\n", &t);
	assert_true(t.budget == 5);
	assert_string_equal(t.backend, "local");
	task_release(&t);
	parse_fails("budget: 0\nrun: x\n", "budget: expected a positive amount of US dollars, got '0'",
		    NULL);
	parse_fails("budget: abc\nrun: x\n", "got 'abc'", NULL);
	parse_fails("backend: slrum\nrun: x\n",
		    "backend: expected one of local, slurm, kubernetes, aws, gcp, lambda, runpod, "
		    "got 'slrum'; did you mean 'slurm'?", NULL);
	parse_fails("backend: local\nresources: {cloud: aws}\nrun: x\n",
		    "t.yaml:1:10: error: backend: backend 'local' conflicts with resources.cloud 'aws'",
		    NULL);
}

/* ---- SkyPilot's keys and forms ------------------------------------------ */

/* yaml must parse with warnings only, each NULL-terminated substring among
 * them; returns the task (caller task_release()s). */
static void parse_warns(const char *yaml, struct task *t, ...)
{
	const char *want;
	char *out;
	va_list ap;

	if (parse(yaml, t, &out) != 0)
		fail_msg("expected success for:\n%s\ngot:\n%s", yaml, out);
	assert_null(strstr(out, ": error: "));
	va_start(ap, t);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(out, want))
			fail_msg("missing '%s' in warnings:\n%s", want, out);
	va_end(ap);
	free(out);
}

static void test_skypilot_accelerators(void **state)
{
	struct task t;

	/* {A100:1, H100:1}: YAML reads A100:1 as a key without a value */
	parse_ok("resources: {accelerators: {A100:1, H100:2}}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ANY_OF);
	assert_int_equal(t.res.n_accels, 2);
	assert_string_equal(t.res.accels[0].name, "A100");
	assert_int_equal(t.res.accels[0].count, 1);
	assert_string_equal(t.res.accels[1].name, "H100");
	assert_int_equal(t.res.accels[1].count, 2);
	task_release(&t);
	parse_ok("resources: {accelerators: {'L4:1', 'A100:1'}}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ANY_OF);
	assert_string_equal(t.res.accels[0].name, "L4");
	task_release(&t);
	parse_ok("resources: {accelerators: {'A100:1'}}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ONE);
	task_release(&t);
	parse_ok("resources: {accelerators: ['L4:1', 'H100:1']}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ORDERED);
	task_release(&t);
	parse_fails("resources: {accelerators: {A100:x}}\nrun: x\n",
		    "resources.accelerators.A100:x: expected a whole number of accelerators", NULL);
	parse_fails("resources: {accelerators: {'A100:1': 2}}\nrun: x\n",
		    "expected an accelerator name such as 'A100' (or NAME:COUNT), got 'A100:1'", NULL);
}

static void test_skypilot_candidates(void **state)
{
	struct task t;

	/* any_of spot and on-demand: spot_policy auto */
	parse_ok("resources:\n  accelerators: A100:8\n  any_of:\n    - use_spot: true\n"
		 "    - use_spot: false\nrun: x\n", &t);
	assert_int_equal(t.res.spot, SPOT_AUTO);
	assert_int_equal(t.res.accel_mode, ACCEL_ONE);
	assert_int_equal(t.res.accels[0].count, 8);
	task_release(&t);
	parse_ok("resources:\n  ordered: [{use_spot: true}, {use_spot: false}]\nrun: x\n", &t);
	assert_int_equal(t.res.spot, SPOT_AUTO);
	task_release(&t);
	/* candidates that differ in accelerators: the accelerator choices */
	parse_ok("resources:\n  cpus: 8+\n  ordered:\n    - accelerators: H100:1\n"
		 "    - {accelerators: A100:2}\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ORDERED);
	assert_int_equal(t.res.n_accels, 2);
	assert_string_equal(t.res.accels[1].name, "A100");
	assert_int_equal(t.res.accels[1].count, 2);
	assert_true(t.res.cpus == 8 && t.res.cpus_at_least);
	task_release(&t);
	parse_ok("resources:\n  any_of: [{accelerators: L4}, {accelerators: A10G}]\n"
		 "  infra: aws\nrun: x\n", &t);
	assert_int_equal(t.res.accel_mode, ACCEL_ANY_OF);
	assert_string_equal(t.res.cloud, "aws");
	task_release(&t);
	/* the same in every candidate: taken as the section's */
	parse_ok("resources:\n  any_of: [{infra: gcp, accelerators: L4}, {infra: gcp, "
		 "accelerators: T4}]\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "gcp");
	task_release(&t);

	parse_fails("resources:\n  any_of: [{infra: aws}, {infra: gcp}]\nrun: x\n",
		    "t.yaml:2:26: error: resources.any_of: candidates that differ in infra are not "
		    "supported yet", NULL);
	parse_fails("resources:\n  ordered: [{use_spot: false}, {use_spot: true}]\nrun: x\n",
		    "on-demand before spot is not supported yet", NULL);
	parse_fails("resources:\n  any_of: [{accelerators: A100, use_spot: true}, "
		    "{accelerators: H100}]\nrun: x\n", "differ in both accelerators and use_spot",
		    NULL);
	parse_fails("resources:\n  any_of: [{acelerators: A100}]\nrun: x\n",
		    "resources.any_of[0].acelerators: unknown key 'acelerators'; did you mean "
		    "'accelerators'?", NULL);
	parse_fails("resources:\n  any_of: [{ordered: []}]\nrun: x\n", "cannot be nested", NULL);
	parse_fails("resources:\n  any_of: [{}]\n  ordered: [{}]\nrun: x\n",
		    "give any_of or ordered, not both", NULL);
	parse_fails("resources: {any_of: [a]}\nrun: x\n",
		    "resources.any_of[0]: expected a resources mapping", NULL);
}

static void test_skypilot_sizes_infra(void **state)
{
	struct task t;

	parse_ok("resources: {memory: 64GB, disk_size: 256GB}\nrun: x\n", &t);
	assert_true(t.res.memory == 64 && !t.res.memory_at_least);
	assert_int_equal(t.res.disk_size, 256);
	task_release(&t);
	parse_ok("resources: {memory: 32GB+, disk_size: 1TB, cpus: 64+}\nrun: x\n", &t);
	assert_true(t.res.memory == 32 && t.res.memory_at_least);
	assert_int_equal(t.res.disk_size, 1024);
	task_release(&t);
	parse_ok("resources: {memory: 2048mb, disk_size: 1500MB}\nrun: x\n", &t);
	assert_true(t.res.memory == 2);
	task_release(&t);
	parse_fails("resources: {disk_size: 500MB}\nrun: x\n",
		    "resources.disk_size: expected a size from 1GB to 64TB", NULL);
	parse_fails("resources: {memory: 64XB}\nrun: x\n", "resources.memory: expected a positive "
		    "number of GiB", NULL);
	parse_fails("resources: {cpus: 4GB}\nrun: x\n", "resources.cpus: expected", NULL);

	parse_ok("resources: {infra: gcp/*/us-central1-a}\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "gcp");
	assert_null(t.res.region);
	assert_string_equal(t.res.zone, "us-central1-a");
	task_release(&t);
	parse_ok("resources: {infra: '*/us-east-1'}\nrun: x\n", &t);
	assert_null(t.res.cloud);
	assert_string_equal(t.res.region, "us-east-1");
	task_release(&t);
	parse_ok("resources: {infra: '*'}\nrun: x\n", &t);
	assert_null(t.res.cloud);
	task_release(&t);
	parse_ok("resources: {infra: k8s/arn:aws:eks:us-east-1:1:cluster/c}\nrun: x\n", &t);
	assert_string_equal(t.res.cloud, "kubernetes");
	assert_string_equal(t.res.region, "arn:aws:eks:us-east-1:1:cluster/c");
	task_release(&t);
}

static void test_skypilot_images_ports(void **state)
{
	struct task t;
	struct error err = ERROR_INIT;

	parse_ok("resources: {image_id: {us-west-2: ami-2}}\nrun: x\n", &t);
	assert_string_equal(t.res.region, "us-west-2");
	assert_string_equal(t.res.image_id, "ami-2");
	task_release(&t);
	parse_ok("resources:\n  region: us-east-1\n  image_id: {us-west-2: ami-2, us-east-1: ami-1}\n"
		 "run: x\n", &t);
	assert_string_equal(t.res.image_id, "ami-1");
	task_release(&t);
	parse_fails("resources:\n  image_id: {us-west-2: ami-2, us-east-1: ami-1}\nrun: x\n",
		    "t.yaml:2:13: error: resources.image_id: an image per region with 2 regions is "
		    "not supported yet; pin one of them", NULL);
	parse_fails("resources: {region: eu-west-1, image_id: {us-west-2: ami-2}}\nrun: x\n",
		    "no image for region 'eu-west-1'", NULL);

	parse_ok("resources: {image_id: 'docker:pytorch/pytorch:2.1'}\nrun: x\n", &t);
	assert_true(t.res.image_docker);
	assert_string_equal(t.res.image_id, "pytorch/pytorch:2.1");
	assert_round_trip(&t);
	/* A VM runs it with docker, a pod is it; a cluster needs a runtime. */
	assert_int_equal(provider_check_task(&t, "aws", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "gcp", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "lambda", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "kubernetes", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "slurm", NULL, &err), FRUGAL_ENOTSUP);
	assert_string_equal(error_msg(&err), "slurm: image_id docker:pytorch/pytorch:2.1 needs a "
			    "container runtime; set backends.slurm.container_runtime (docker or "
			    "podman on its nodes) or remove image_id");
	task_release(&t);
	parse_ok("resources: {image_id: ami-1}\nrun: x\n", &t);
	assert_false(t.res.image_docker);
	assert_int_equal(provider_check_task(&t, "aws", NULL, &err), 0);
	task_release(&t);

	parse_ok("resources: {ports: 8080}\nrun: x\n", &t);
	assert_int_equal(t.res.n_ports, 1);
	assert_int_equal(t.res.ports[0].from, 8080);
	assert_int_equal(t.res.ports[0].to, 8080);
	assert_int_equal(provider_check_task(&t, "local", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "gcp", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "kubernetes", NULL, &err), 0);
	assert_int_equal(provider_check_task(&t, "slurm", NULL, &err), FRUGAL_ENOTSUP);
	assert_non_null(strstr(error_msg(&err), "'resources.ports' is not supported by backend slurm"));
	task_release(&t);
	parse_ok("resources: {ports: [6006, '10022-10040', 7860]}\nrun: x\n", &t);
	assert_int_equal(t.res.n_ports, 3);
	assert_int_equal(t.res.ports[1].from, 10022);
	assert_int_equal(t.res.ports[1].to, 10040);
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("resources: {ports: 10052-10100}\nrun: x\n", &t);
	assert_int_equal(t.res.ports[0].to, 10100);
	task_release(&t);
	parse_fails("resources: {ports: 0}\nrun: x\n", "resources.ports: expected ports from 1 to "
		    "65535", NULL);
	parse_fails("resources: {ports: 9-3}\nrun: x\n", "got '9-3'", NULL);
	parse_fails("resources: {ports: [http]}\nrun: x\n", "resources.ports[0]: expected a port", NULL);
}

static void test_skypilot_other_keys(void **state)
{
	struct task t;

	/* job_recovery and its older name spot_recovery: recovery's keys */
	parse_ok("resources:\n  spot_recovery: FAILOVER\nrun: x\n", &t);
	task_release(&t);
	parse_ok("resources:\n  job_recovery: {strategy: EAGER_NEXT_REGION, "
		 "max_restarts_on_errors: 3, recover_on_exit_codes: [33, 34]}\nrun: x\n", &t);
	assert_int_equal(t.recovery.max_restarts_on_errors, 3);
	assert_int_equal(t.recovery.n_recover_on_exit_codes, 2);
	task_release(&t);
	parse_ok("resources:\n  spot_recovery: {max_restarts_on_errors: 2}\nrun: x\n", &t);
	assert_int_equal(t.recovery.max_restarts_on_errors, 2);
	task_release(&t);
	parse_warns("resources: {job_recovery: none}\nrun: x\n", &t,
		    "warning: resources.job_recovery: 'none' is ignored", NULL);
	task_release(&t);
	parse_fails("resources: {job_recovery: {max_restarts_on_errors: 1}}\n"
		    "recovery: {max_restarts_on_errors: 2}\nrun: x\n",
		    "give it in recovery or in resources.job_recovery, not both", NULL);
	parse_fails("resources: {job_recovery: FAILOVR}\nrun: x\n", "did you mean 'FAILOVER'?",
		    NULL);

	parse_ok("resources: {max_hourly_cost: 3.5, network_tier: standard}\nrun: x\n", &t);
	assert_true(t.res.max_price == 3.5);
	task_release(&t);
	parse_fails("resources: {max_hourly_cost: 3, max_price: 2}\nrun: x\n",
		    "give max_price or max_hourly_cost, not both", NULL);
	parse_fails("resources: {network_tier: best}\nrun: x\n",
		    "network_tier 'best' (GPUDirect, InfiniBand) is not supported yet", NULL);

	/* what sky launch ignores is ignored with a warning */
	parse_warns("service: {readiness_probe: /health, replicas: 2}\npool: {workers: 2}\n"
		    "resources: {autostop: 10m, priority: 500}\ninputs: {'s3://b': 10}\n"
		    "outputs: {'s3://b/out': 1}\n_metadata: {a: b}\nrun: x\n", &t,
		    "t.yaml:1:1: warning: service: 'service' is ignored: it is read only by sky serve",
		    "t.yaml:2:1: warning: pool: 'pool' is ignored",
		    "warning: resources.autostop: 'autostop' is ignored: frugal ends the machine",
		    "warning: resources.priority: 'priority' is ignored",
		    "warning: inputs: 'inputs' is ignored", "warning: outputs: SkyPilot's outputs",
		    "warning: _metadata:", NULL);
	assert_int_equal(t.outputs.n_paths, 0);
	task_release(&t);

	/* one line per key frugal cannot honour yet */
	assert_int_equal(parse_fails("resources:\n  labels: {team: ml}\n  disk_tier: high\n"
				     "  accelerator_args: {tpu_vm: true}\n"
				     "  autostop: {idle_minutes: 5, hook: git push}\n"
				     "config:\n  kubernetes: {provision_timeout: 600}\n"
				     "  docker: {run_options: []}\n"
				     "workdir: {url: 'https://github.com/x/y', ref: main}\n"
				     "secrets: [HF_TOKEN]\nrun: x\n",
				     "t.yaml:2:3: error: resources.labels: 'labels' is not supported",
				     "resources.disk_tier: 'disk_tier' is not supported by frugal",
				     "resources.accelerator_args: 'accelerator_args'",
				     "resources.autostop.hook: autostop hooks are not run by frugal",
				     "t.yaml:7:3: error: config.kubernetes: SkyPilot config overrides",
				     "t.yaml:8:3: error: config.docker:",
				     "workdir: a git repository as workdir is not supported yet",
				     "secrets: a list of SkyPilot managed secret names", NULL), 8);
	parse_fails("workdir: {ref: main}\nrun: x\n", "workdir: missing 'url'", NULL);
	parse_fails("workdir: {url: u, branch: main}\nrun: x\n",
		    "workdir.branch: unknown key 'branch'", NULL);
	parse_ok("config: {}\nrun: x\n", &t);
	task_release(&t);
}

/* ---- workdir --------------------------------------------------------------- */

static void test_workdir(void **state)
{
	char dir[] = "/tmp/frugal-test-task-XXXXXX";
	char *sub, *file, *yaml, *out;
	struct diag_list dl = DIAG_LIST_INIT;
	struct task t;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	sub = fs_path_join(dir, "code");
	assert_int_equal(mkdir(sub, 0755), 0);
	file = fs_path_join(dir, "train.yaml");
	f = fopen(file, "w");
	assert_non_null(f);
	fputs("workdir: code\nrun: x\n", f);
	fclose(f);

	/* relative to the current directory, as in SkyPilot (not to the task
	 * file's directory) */
	{
		char *cwd = getcwd(NULL, 0);

		assert_non_null(cwd);
		assert_int_equal(chdir("/"), 0);
		assert_int_equal(task_parse_file(file, &t, &dl), FRUGAL_EINVAL);
		diag_list_release(&dl);
		assert_int_equal(chdir(dir), 0);
		assert_int_equal(task_parse_file(file, &t, &dl), 0);
		assert_int_equal(chdir(cwd), 0);
		free(cwd);
	}
	assert_int_equal(dl.n, 0);
	assert_string_equal(t.workdir, sub);
	assert_string_equal(t.path, file);
	assert_round_trip(&t);
	task_release(&t);

	/* relative to base_dir for buffers */
	yaml = "workdir: ./code/\nrun: x\n";
	assert_int_equal(task_parse_buffer(yaml, strlen(yaml), "b.yaml", dir, &t, &dl), 0);
	assert_string_equal(t.workdir, sub);
	task_release(&t);

	/* absolute */
	parse_ok("workdir: /tmp\nrun: x\n", &t);
	assert_string_equal(t.workdir, "/tmp");
	task_release(&t);

	parse_fails("workdir: does-not-exist-xyz\nrun: x\n",
		    "t.yaml:1:10: error: workdir: directory 'does-not-exist-xyz' does not exist "
		    "(looked for '/tmp/does-not-exist-xyz')", NULL);
	yaml = xasprintf("workdir: %s\nrun: x\n", file);
	parse_fails(yaml, "is not a directory", NULL);
	free(yaml);
	parse_fails("workdir: [a]\nrun: x\n", "workdir: expected a directory path, got a list", NULL);

	/* a missing file is one diagnostic */
	free(file);
	file = fs_path_join(dir, "missing.yaml");
	assert_int_equal(task_parse_file(file, &t, &dl), FRUGAL_ENOTFOUND);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.items[0].line, 0);
	{
		struct strbuf sb = STRBUF_INIT;
		diag_list_format(&dl, &sb);
		out = strbuf_detach(&sb, NULL);
	}
	assert_non_null(strstr(out, "missing.yaml: error: "));
	assert_non_null(strstr(out, "does not exist"));
	free(out);
	diag_list_release(&dl);

	assert_int_equal(fs_remove_tree(dir, NULL), 0);
	free(file);
	free(sub);
}

/* ---- envs, secrets, file_mounts -------------------------------------------- */

static void test_envs(void **state)
{
	struct task t;

	parse_ok("envs:\n  A: 1.50\n  B: yes\n  C: \"\"\n  _D1: text\n  REQUIRED:\nrun: x\n", &t);
	assert_int_equal(t.envs.n, 5);
	assert_string_equal(kvlist_get(&t.envs, "A"), "1.50");
	assert_string_equal(kvlist_get(&t.envs, "B"), "yes");
	assert_string_equal(kvlist_get(&t.envs, "C"), "");
	assert_string_equal(kvlist_get(&t.envs, "_D1"), "text");
	assert_true(kvlist_has(&t.envs, "REQUIRED"));
	assert_null(kvlist_get(&t.envs, "REQUIRED"));
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("envs:\nrun: x\n", &t);
	assert_int_equal(t.envs.n, 0);
	task_release(&t);

	parse_fails("envs:\n  1A: x\n  MY-VAR: y\n  OK: [1]\nrun: x\n",
		    "t.yaml:2:3: error: envs.1A: expected an environment variable name",
		    "t.yaml:3:3: error: envs.MY-VAR: expected an environment variable name",
		    "t.yaml:4:7: error: envs.OK: expected a string or null, got a list", NULL);
	parse_fails("envs: [A]\nrun: x\n", "envs: expected a mapping of NAME: value, got a list", NULL);
}

static void test_secrets(void **state)
{
	struct task t;
	struct kvlist vals = { NULL, 0, 0 };

	parse_ok("secrets: {A: null, B: literal, C: 123}\nrun: x\n", &t);
	assert_int_equal(t.secrets.n, 3);
	assert_string_equal(kvlist_get(&t.secrets, "B"), "literal");
	task_take_secret_values(&t, &vals);
	assert_int_equal(t.secrets.n, 3);
	assert_null(kvlist_get(&t.secrets, "B"));
	assert_null(kvlist_get(&t.secrets, "C"));
	assert_true(kvlist_has(&t.secrets, "A"));
	assert_int_equal(vals.n, 2);
	assert_string_equal(kvlist_get(&vals, "B"), "literal");
	assert_string_equal(kvlist_get(&vals, "C"), "123");
	kvlist_release(&vals);
	task_release(&t);

	/* the JSON never holds a secret value */
	parse_ok("secrets: {TOKEN: s3cr3t}\nrun: x\n", &t);
	{
		char *j = task_to_json(&t);
		assert_null(strstr(j, "s3cr3t"));
		assert_non_null(strstr(j, "\"secrets\":[\"TOKEN\"]"));
		free(j);
	}
	assert_round_trip(&t);
	task_release(&t);

	parse_fails("envs: {TOKEN: a}\nsecrets:\n  TOKEN: null\nrun: x\n",
		    "t.yaml:3:3: error: secrets.TOKEN: 'TOKEN' is in both envs and secrets", NULL);
	parse_fails("secrets: {bad-name: null}\nrun: x\n", "secrets.bad-name: expected an environment", NULL);
	parse_fails("secrets: {A: {b: c}}\nrun: x\n", "secrets.A: expected a string or null, got a mapping",
		    NULL);
}

/* The mount of t whose dst is dst. */
static const struct file_mount *mount_of(const struct task *t, const char *dst)
{
	size_t i;

	for (i = 0; i < t->file_mounts.n; i++)
		if (!strcmp(t->file_mounts.items[i].dst, dst))
			return &t->file_mounts.items[i];
	fail_msg("no mount %s", dst);
	return NULL;
}

/* volumes: every form, the JSON round trip, and bad ones with file:line:col. */
static void test_volumes(void **state)
{
	char dir[] = "/tmp/frugal-test-volumes.XXXXXX", *yaml, *real, *json, *json2, *file;
	struct task t, back;
	struct error err = ERROR_INIT;
	const struct volume *v;

	(void)state;
	assert_non_null(mkdtemp(dir));
	real = fs_realpath(dir, NULL);
	yaml = xasprintf("volumes:\n"
			 "  /data: ebs://snap-0123456789abcdef0\n"
			 "  local: %s\n"
			 "  /mnt/pvc: my-claim\n"
			 "  /ro: {source: ebs://snap-1, read_only: true, size: 200Gi, type: gp3}\n"
			 "run: x\n", dir);
	parse_ok(yaml, &t);
	assert_int_equal(t.volumes.n, 4);
	v = &t.volumes.items[0];
	assert_string_equal(v->dst, "/data");
	assert_string_equal(v->kind, "ebs");
	assert_string_equal(v->ref, "snap-0123456789abcdef0");
	assert_false(v->read_only);
	assert_int_equal(v->size_gb, 0);
	v = &t.volumes.items[1];
	assert_string_equal(v->kind, VOLUME_KIND_DIR);
	assert_string_equal(v->ref, real);
	v = &t.volumes.items[2];
	assert_string_equal(v->kind, VOLUME_KIND_NAME);
	assert_string_equal(v->ref, "my-claim");
	v = &t.volumes.items[3];
	assert_true(v->read_only);
	assert_int_equal(v->size_gb, 200);
	assert_string_equal(v->type, "gp3");
	/* the JSON round trip keeps every field */
	json = task_to_json(&t);
	assert_int_equal(task_from_json(json, &back, &err), 0);
	json2 = task_to_json(&back);
	assert_string_equal(json, json2);
	assert_int_equal(back.volumes.n, 4);
	assert_true(back.volumes.items[3].read_only);
	assert_int_equal(back.volumes.items[3].size_gb, 200);
	free(json);
	free(json2);
	task_release(&back);
	task_release(&t);
	free(yaml);

	/* bad ones: one diagnostic each, at the value */
	parse_fails("volumes:\n  /d: nfs://server/x\nrun: x\n", "t.yaml:2:7",
		    "volume 'nfs://server/x' is not a kind frugal knows", "ebs://", NULL);
	parse_fails("volumes:\n  /d: ./no-such-dir-here\nrun: x\n", "t.yaml:2:7",
		    "directory './no-such-dir-here' does not exist", NULL);
	parse_fails("volumes:\n  /d: {source: ebs://snap-1, size: -3}\nrun: x\n",
		    "volumes./d.size", "a size in GiB", NULL);
	parse_fails("volumes:\n  /d: {read_only: true}\nrun: x\n", "missing 'source'", NULL);
	parse_fails("volumes:\n  /d: {source: ebs://snap-1, sizee: 3}\nrun: x\n",
		    "unknown key 'sizee'", "size", NULL);
	parse_fails("volumes:\n  ../up: ebs://snap-1\nrun: x\n", "a path without '..'", NULL);
	parse_fails("volumes:\n  data: ebs://snap-1\n  ./data: ebs://snap-2\nrun: x\n",
		    "a mount path no other volume has", NULL);
	parse_fails("volumes:\n  /d: ebs://\nrun: x\n", "names no volume", NULL);
	/* PLACE/ID only where the kind takes it (gce-disk://ZONE/NAME). */
	parse_fails("volumes:\n  /d: ebs://us-east-1/snap-1\nrun: x\n", "names no volume: give ebs://ID",
		    NULL);
	parse_fails("volumes:\n  /d: gce-disk://a/b/c\nrun: x\n", "give gce-disk://[PLACE/]ID", NULL);
	parse_fails("volumes:\n  /d: gce-disk:///b\nrun: x\n", "names no volume", NULL);
	parse_fails("volumes:\n  /d: gce-disk://a/\nrun: x\n", "names no volume", NULL);
	parse_ok("volumes:\n  /d: {source: gce-disk://us-east1-b/imagenet, read_only: true}\nrun: x\n",
		 &t);
	assert_string_equal(t.volumes.items[0].kind, "gce-disk");
	assert_string_equal(t.volumes.items[0].ref, "us-east1-b/imagenet");
	assert_true(t.volumes.items[0].read_only);
	task_release(&t);
	parse_fails("volumes:\n  /d: [a]\nrun: x\n", "expected a volume", NULL);
	parse_fails("volumes: [a]\nrun: x\n", "a mapping of MOUNT_PATH", NULL);
	file = xasprintf("%s/f", dir);
	assert_int_equal(fs_write_atomic(file, "x", 1, 0644, 1, NULL), 0);
	yaml = xasprintf("volumes:\n  /d: %s\nrun: x\n", file);
	parse_fails(yaml, "is not a directory", NULL);
	free(yaml);
	unlink(file);
	free(file);
	rmdir(dir);
	free(real);
}

static void test_file_mounts(void **state)
{
	char dir[] = "/tmp/frugal-test-mounts.XXXXXX", *yaml, *file, *real;
	const struct file_mount *m;
	struct task t;

	assert_non_null(mkdtemp(dir));
	file = xasprintf("%s/one.txt", dir);
	assert_int_equal(fs_write_atomic(file, "x", 1, 0644, 1, NULL), 0);
	real = fs_realpath(dir, NULL);

	/* every form: bucket URL, local dir and file, storage objects */
	yaml = xasprintf("file_mounts:\n"
			 "  /data: s3://b/d\n"
			 "  ~/x: %s\n"
			 "  rel/one.txt: %s\n"
			 "  /gcs: gs://g/p\n"
			 "  /f: file:///srv/share\n"
			 "  /m: {source: s3://b/m}\n"
			 "  /c: {source: gs://g/c, mode: MOUNT_CACHED}\n"
			 "  /cp: {source: s3://b/cp, mode: copy, persistent: true}\n"
			 "  /n: {name: my-bucket, store: s3, mode: MOUNT}\n"
			 "  /ng: {name: g-bucket, store: gcs}\n"
			 "  /l: {source: %s}\n"
			 "run: x\n", dir, file, dir);
	parse_ok(yaml, &t);
	assert_int_equal(t.file_mounts.n, 11);
	m = mount_of(&t, "/data");
	assert_string_equal(m->source, "s3://b/d");
	assert_false(m->local);
	assert_int_equal(m->mode, MOUNT_MODE_COPY);
	m = mount_of(&t, "~/x");
	assert_string_equal(m->source, real);
	assert_true(m->local);
	assert_int_equal(m->mode, MOUNT_MODE_COPY);
	assert_string_equal(mount_dst_relative(m->dst), "x");
	m = mount_of(&t, "rel/one.txt");
	assert_true(m->local);
	assert_string_equal(mount_dst_relative(m->dst), "rel/one.txt");
	assert_int_equal(mount_of(&t, "/gcs")->mode, MOUNT_MODE_COPY);
	assert_int_equal(mount_of(&t, "/f")->mode, MOUNT_MODE_COPY);
	/* a storage object is MOUNT unless it says, as in SkyPilot */
	assert_int_equal(mount_of(&t, "/m")->mode, MOUNT_MODE_MOUNT);
	assert_int_equal(mount_of(&t, "/c")->mode, MOUNT_MODE_CACHED);
	assert_int_equal(mount_of(&t, "/cp")->mode, MOUNT_MODE_COPY);
	assert_string_equal(mount_of(&t, "/n")->source, "s3://my-bucket");
	assert_string_equal(mount_of(&t, "/ng")->source, "gs://g-bucket");
	assert_int_equal(mount_of(&t, "/ng")->mode, MOUNT_MODE_MOUNT);
	/* a local source in object form is copied */
	assert_true(mount_of(&t, "/l")->local);
	assert_int_equal(mount_of(&t, "/l")->mode, MOUNT_MODE_COPY);
	assert_non_null(mount_list_find_absolute(&t.file_mounts));
	assert_string_equal(mount_list_find_local(&t.file_mounts)->dst, "~/x");
	/* the dataset id set at launch travels to the agent */
	free(t.file_mounts.items[1].dataset);
	t.file_mounts.items[1].dataset = xstrdup("ab12");
	assert_round_trip(&t);
	{
		char *j = task_to_json(&t);
		struct task back;

		assert_int_equal(task_from_json(j, &back, NULL), 0);
		assert_string_equal(mount_of(&back, "~/x")->dataset, "ab12");
		assert_int_equal(mount_of(&back, "/c")->mode, MOUNT_MODE_CACHED);
		task_release(&back);
		free(j);
	}
	task_release(&t);
	free(yaml);

	parse_ok("file_mounts:\nrun: x\n", &t);
	assert_int_equal(t.file_mounts.n, 0);
	assert_null(mount_list_find_absolute(&t.file_mounts));
	task_release(&t);

	/* bad ones: each a clear error with file:line:col */
	parse_fails("file_mounts: {/data: }\nrun: x\n",
		    "t.yaml:1:22: error: file_mounts./data: expected a local path, a bucket URL such "
		    "as s3://bucket/path, or {source, mode}, got null", NULL);
	parse_fails("file_mounts: /data\nrun: x\n", "t.yaml:1:14: error: file_mounts: expected a "
		    "mapping", NULL);
	parse_fails("file_mounts:\n  /data: ./no-such-dir-here\nrun: x\n",
		    "t.yaml:2:10: error: file_mounts./data: local path './no-such-dir-here' does not "
		    "exist (looked for '/tmp/./no-such-dir-here')", NULL);
	parse_fails("file_mounts:\n  /data: r2://bucket/x\nrun: x\n",
		    "t.yaml:2:10: error: file_mounts./data: source 'r2://bucket/x' is not supported: "
		    "give a file:///, s3:// or gs:// URL, or a local path", NULL);
	parse_fails("file_mounts:\n  /d:\n    source: s3://b\n    mdoe: COPY\nrun: x\n",
		    "t.yaml:4:5: error: file_mounts./d.mdoe: unknown key 'mdoe'; did you mean 'mode'?",
		    NULL);
	parse_fails("file_mounts:\n  /d: {source: s3://b, mode: FAST}\nrun: x\n",
		    "t.yaml:2:30: error: file_mounts./d.mode: expected one of COPY, MOUNT, "
		    "MOUNT_CACHED", NULL);
	parse_fails("file_mounts:\n  /d: {name: b, store: azure}\nrun: x\n",
		    "file_mounts./d.store: expected one of s3, gcs", NULL);
	parse_fails("file_mounts:\n  /d: {name: bkt}\nrun: x\n",
		    "t.yaml:2:14: error: file_mounts./d.name: a bucket name needs 'store:' (s3 or "
		    "gcs)", NULL);
	parse_fails("file_mounts:\n  /d: {mode: COPY}\nrun: x\n",
		    "t.yaml:2:7: error: file_mounts./d: missing 'source'", NULL);
	parse_fails("file_mounts:\n  /d: {source: s3://b, name: b}\nrun: x\n",
		    "file_mounts./d.name: give either source (an existing bucket) or name", NULL);
	parse_fails("file_mounts:\n  /d: {source: s3://b, store: gcs}\nrun: x\n",
		    "file_mounts./d.store: store 'gcs' does not match source 's3://b'", NULL);
	parse_fails("file_mounts:\n  /d: {source: s3://b, persistent: false}\nrun: x\n",
		    "file_mounts./d.persistent: frugal never deletes a bucket", NULL);
	yaml = xasprintf("file_mounts:\n  /d: {source: %s, mode: MOUNT}\nrun: x\n", dir);
	parse_fails(yaml, "file_mounts./d.mode: a local source is copied to the machine: use mode: "
		    "COPY", NULL);
	free(yaml);
	yaml = xasprintf("file_mounts:\n  /d: {source: %s, name: bkt}\nrun: x\n", dir);
	parse_fails(yaml, "file_mounts./d.name: uploading a local source into a named bucket is "
		    "not supported", NULL);
	free(yaml);
	parse_fails("file_mounts:\n  ../up: s3://b\n  ~: s3://b\n  /: s3://b\n  ~bob/x: s3://b\n"
		    "  a/../../b: s3://b\nrun: x\n",
		    "t.yaml:2:3: error: file_mounts.../up: expected a path without '..'",
		    "t.yaml:3:3: error: file_mounts.~: expected a path below the work directory",
		    "t.yaml:4:3: error: file_mounts./: expected a path other than '/'",
		    "t.yaml:5:3: error: file_mounts.~bob/x: expected an absolute path, or a path "
		    "relative to the work directory",
		    "t.yaml:6:3: error: file_mounts.a/../../b: expected a path without '..'", NULL);
	parse_fails("file_mounts:\n  /d: {source: [a, b]}\nrun: x\n",
		    "file_mounts./d.source: a list of local sources is not supported", NULL);

	unlink(file);
	rmdir(dir);
	free(file);
	free(real);
}

/* ---- checkpoint, outputs, stop, recovery --------------------------------------- */

static void test_checkpoint(void **state)
{
	struct task t;

	parse_ok("checkpoint: {dir: /ckpt}\nrun: x\n", &t);
	assert_string_equal(t.checkpoint.dir, "/ckpt");
	assert_int_equal(t.checkpoint.interval, 600);
	assert_int_equal(t.checkpoint.keep, 3);
	task_release(&t);
	parse_ok("checkpoint: {dir: ckpt, interval: 90, keep: 1}\nrun: x\n", &t);
	assert_int_equal(t.checkpoint.interval, 90);
	assert_int_equal(t.checkpoint.keep, 1);
	task_release(&t);

	parse_fails("checkpoint:\n  interval: 5m\nrun: x\n",
		    "t.yaml:1:1: error: checkpoint: missing 'dir'", NULL);
	parse_fails("checkpoint: {dir: /c, interval: soon}\nrun: x\n",
		    "checkpoint.interval: expected a positive duration such as 90s, 10m or 1h30m, "
		    "got 'soon'", NULL);
	parse_fails("checkpoint: {dir: /c, interval: 0s}\nrun: x\n", "got '0s'", NULL);
	parse_fails("checkpoint: {dir: /c, keep: 0}\nrun: x\n",
		    "checkpoint.keep: expected a positive integer (checkpoints to keep), got '0'", NULL);
	parse_fails("checkpoint: {dir: }\nrun: x\n", "checkpoint.dir: expected a directory path", NULL);
	parse_fails("checkpoint: {dir: /c, every: 5m}\nrun: x\n",
		    "checkpoint.every: unknown key 'every'", NULL);
	parse_fails("checkpoint: {dir: /c, intervl: 5m}\nrun: x\n",
		    "did you mean 'interval'?", NULL);
}

/* checkpoint.verify: a command, parsed with its position, kept in JSON. */
static void test_checkpoint_verify(void **state)
{
	struct task t;

	parse_ok("checkpoint: {dir: ckpt, verify: 'python3 check.py'}\nrun: x\n", &t);
	assert_string_equal(t.checkpoint.verify, "python3 check.py");
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("checkpoint: {dir: ckpt}\nrun: x\n", &t);
	assert_null(t.checkpoint.verify);
	task_release(&t);
	parse_fails("checkpoint:\n  dir: c\n  verify:\nrun: x\n",
		    "t.yaml:3:10: error: checkpoint.verify: expected a shell command", NULL);
	parse_fails("checkpoint: {dir: c, verify: [a]}\nrun: x\n",
		    "checkpoint.verify: expected a shell command", NULL);
	parse_fails("checkpoint: {dir: c, verfy: x}\nrun: x\n", "did you mean 'verify'?", NULL);
}

static void test_outputs(void **state)
{
	struct task t;

	parse_ok("outputs: {paths: model.pt}\nrun: x\n", &t);
	assert_int_equal(t.outputs.n_paths, 1);
	assert_string_equal(t.outputs.paths[0], "model.pt");
	assert_null(t.outputs.to);
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("outputs: {paths: [a, b/*.bin], to: file:///mnt/x}\nrun: x\n", &t);
	assert_int_equal(t.outputs.n_paths, 2);
	assert_string_equal(t.outputs.to, "file:///mnt/x");
	task_release(&t);

	parse_fails("outputs:\n  paths: [/abs, ../up, ok, a/../../b]\nrun: x\n",
		    "t.yaml:2:11: error: outputs.paths[0]: expected a path or glob relative to the "
		    "work dir", "outputs.paths[1]", "outputs.paths[3]", NULL);
	parse_fails("outputs: {paths: [], to: s3://x}\nrun: x\n",
		    "outputs.paths: expected a list of paths relative to the work dir, got a list", NULL);
	parse_fails("outputs: {paths: [a], to: bucket}\nrun: x\n",
		    "outputs.to: expected a storage URL such as s3://bucket/prefix or file:///path, "
		    "got 'bucket'", NULL);
	parse_fails("outputs: {to: s3://x/y}\nrun: x\n", "outputs: missing 'paths'", NULL);
	parse_fails("outputs: [a]\nrun: x\n", "outputs: expected a mapping {paths, to}, got a list",
		    NULL);
}

static void test_stop(void **state)
{
	struct task t;

	parse_ok("stop: {max_runtime: 1h30m, idle_gpu: 600, on_output: out/done, "
		 "orphan_timeout: 2m}\nrun: x\n", &t);
	assert_int_equal(t.stop.max_runtime, 5400);
	assert_int_equal(t.stop.idle_gpu, 600);
	assert_string_equal(t.stop.on_output, "out/done");
	assert_int_equal(t.stop.orphan_timeout, 120);
	task_release(&t);

	parse_fails("stop:\n  max_runtime: forever\n  idle_gpu: -5m\n  orphan_timeout: 0\n"
		    "  on_output: /abs\nrun: x\n",
		    "t.yaml:2:16: error: stop.max_runtime: expected a positive duration",
		    "t.yaml:3:13: error: stop.idle_gpu", "t.yaml:4:19: error: stop.orphan_timeout",
		    "t.yaml:5:14: error: stop.on_output: expected a path or glob relative", NULL);
	parse_fails("stop: {max_run_time: 1h}\nrun: x\n", "did you mean 'max_runtime'?", NULL);
}

static void test_recovery(void **state)
{
	struct task t;

	parse_ok("recovery: {recover_on_exit_codes: 33, preemption_signal: INT, "
		 "notice_grace: 0, max_restarts_on_errors: 0}\nrun: x\n", &t);
	assert_int_equal(t.recovery.n_recover_on_exit_codes, 1);
	assert_int_equal(t.recovery.recover_on_exit_codes[0], 33);
	assert_int_equal(t.recovery.preemption_signal, SIGINT);
	assert_int_equal(t.recovery.notice_grace, 0);
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("recovery: {preemption_signal: sigterm, recover_on_exit_codes: []}\nrun: x\n", &t);
	assert_int_equal(t.recovery.preemption_signal, SIGTERM);
	assert_int_equal(t.recovery.n_recover_on_exit_codes, 0);
	assert_round_trip(&t);
	task_release(&t);
	parse_ok("recovery: {preemption_signal: USR1}\nrun: x\n", &t);
	assert_int_equal(t.recovery.preemption_signal, SIGUSR1);
	task_release(&t);

	parse_fails("recovery:\n  max_restarts_on_errors: -1\n  recover_on_exit_codes: [0, 1, 256, x]\n"
		    "  preemption_signal: SIGKILL\n  notice_grace: later\nrun: x\n",
		    "t.yaml:2:27: error: recovery.max_restarts_on_errors: expected an integer from 0 "
		    "to 1000, got '-1'",
		    "t.yaml:3:27: error: recovery.recover_on_exit_codes[0]: expected an exit code from "
		    "1 to 255, got '0'",
		    "recovery.recover_on_exit_codes[2]", "recovery.recover_on_exit_codes[3]",
		    "t.yaml:4:22: error: recovery.preemption_signal: expected one of SIGTERM, SIGINT, "
		    "SIGUSR1, got 'SIGKILL'",
		    "t.yaml:5:17: error: recovery.notice_grace: expected a duration", NULL);
	parse_fails("recovery: {preemption_signal: SIGTREM}\nrun: x\n", "did you mean 'SIGTERM'?", NULL);
	parse_fails("recovery: {recover_on_exit_codes: {a: 1}}\nrun: x\n",
		    "expected a list of exit codes from 1 to 255, got a mapping", NULL);
}

/* ---- sweep ------------------------------------------------------------------- */

static void test_sweep_ok(void **state)
{
	struct task t;

	parse_ok("sweep:\n  params: {LR: [0.1, 0.01], BS: [16, 32, 64]}\nrun: x\n", &t);
	assert_int_equal(t.sweep.method, SWEEP_GRID);	/* the default */
	assert_int_equal(t.sweep.n_params, 2);
	assert_int_equal(t.sweep.params[1].n_values, 3);
	assert_string_equal(t.sweep.params[1].values[2], "64");
	assert_false(t.sweep.has_seed);
	assert_round_trip(&t);
	task_release(&t);

	parse_ok("sweep:\n  method: random\n  trials: 5\n  seed: 0\n  params:\n"
		 "    A: uniform(0, 1)\n    B: \"int(1,8)\"\n    C: loguniform(1e-5,1e-1)\n"
		 "    D: [x, y]\nrun: x\n", &t);
	assert_int_equal(t.sweep.method, SWEEP_RANDOM);
	assert_int_equal(t.sweep.trials, 5);
	assert_true(t.sweep.has_seed);
	assert_int_equal(t.sweep.seed, 0);
	assert_string_equal(t.sweep.params[0].range, "uniform(0,1)");
	assert_string_equal(t.sweep.params[1].range, "int(1,8)");
	assert_string_equal(t.sweep.params[2].range, "loguniform(1e-5,1e-1)");
	assert_int_equal(t.sweep.params[3].n_values, 2);
	assert_round_trip(&t);
	task_release(&t);
}

static void test_sweep_errors(void **state)
{
	parse_fails("sweep:\n  method: random\n  params: {LR: [1, 2]}\nrun: x\n",
		    "t.yaml:2:11: error: sweep.method: method random needs 'trials'", NULL);
	parse_fails("sweep:\n  params:\n    LR: uniform(0,1)\nrun: x\n",
		    "t.yaml:3:9: error: sweep.params.LR: 'uniform(0,1)' is a range, which needs "
		    "method: random",
		    NULL);
	parse_fails("sweep: {params: {LR: [1]}, trials: 3}\nrun: x\n",
		    "sweep.trials: 'trials' is only for method: random", NULL);
	parse_fails("sweep: {method: random, trials: 2, params: {A: \"uniform(1,1)\"}}\nrun: x\n",
		    "sweep.params.A: the range needs a < b, got 'uniform(1,1)'", NULL);
	parse_fails("sweep: {method: random, trials: 2, params: {A: \"loguniform(0,1)\"}}\nrun: x\n",
		    "loguniform(a,b) needs 0 < a < b", NULL);
	parse_fails("sweep: {method: random, trials: 2, params: {A: \"int(1.5,3)\"}}\nrun: x\n",
		    "expected a list of values, uniform(a,b), loguniform(a,b) or int(a,b), "
		    "got 'int(1.5,3)'", NULL);
	parse_fails("sweep: {method: random, trials: 2, params: {A: \"normal(0,1)\"}}\nrun: x\n",
		    "got 'normal(0,1)'", NULL);
	parse_fails("sweep: {method: random, trials: 2, params: {A: 0.1}}\nrun: x\n", "got '0.1'", NULL);
	parse_fails("sweep: {params: {A: []}}\nrun: x\n",
		    "sweep.params.A: expected a non-empty list of values", NULL);
	parse_fails("sweep: {params: {A: [[1]]}}\nrun: x\n",
		    "sweep.params.A[0]: expected a value (a number or a string), got a list", NULL);
	parse_fails("sweep: {params: {lr-x: [1]}}\nrun: x\n",
		    "sweep.params.lr-x: expected a parameter name usable as an environment variable",
		    NULL);
	parse_fails("sweep: {method: bayes, params: {A: [1]}}\nrun: x\n",
		    "sweep.method: expected one of grid, random, got 'bayes'", NULL);
	parse_fails("sweep: {max_parallel: 2}\nrun: x\n", "sweep: missing 'params'", NULL);
	parse_fails("sweep: {params: {}}\nrun: x\n", "sweep.params: expected a mapping", NULL);
	parse_fails("sweep: {method: random, trials: 0, params: {A: [1]}}\nrun: x\n",
		    "sweep.trials: expected a positive integer", NULL);
	parse_fails("sweep: {method: random, trials: 2, seed: -1, params: {A: [1]}}\nrun: x\n",
		    "sweep.seed: expected a non-negative integer, got '-1'", NULL);
	parse_fails("sweep: {max_parallel: 0, params: {A: [1]}}\nrun: x\n",
		    "sweep.max_parallel: expected a positive integer, got '0'", NULL);
	/* 11 * 11 * 11 * 11 = 14641 > 10000 */
	parse_fails("sweep:\n  params:\n"
		    "    A: [1,2,3,4,5,6,7,8,9,10,11]\n    B: [1,2,3,4,5,6,7,8,9,10,11]\n"
		    "    C: [1,2,3,4,5,6,7,8,9,10,11]\n    D: [1,2,3,4,5,6,7,8,9,10,11]\nrun: x\n",
		    "sweep.params: the grid has 14641 combinations, more than 10000", NULL);
}

/* ---- diagnostics ---------------------------------------------------------------- */

static void test_did_you_mean(void **state)
{
	parse_fails("resources:\n  acelerators: A100:1\nrun: x\n",
		    "t.yaml:2:3: error: resources.acelerators: unknown key 'acelerators'; "
		    "did you mean 'accelerators'?", NULL);
	parse_fails("setpu: pip install\nrun: x\n",
		    "t.yaml:1:1: error: setpu: unknown key 'setpu'; did you mean 'setup'?", NULL);
	parse_fails("enviroment: {}\nrun: x\n", "unknown key 'enviroment'", NULL);
	parse_fails("rnu: x\n", "did you mean 'run'?", "missing 'run'", NULL);
	parse_fails("Run: x\n", "did you mean 'run'?", NULL);
	parse_fails("envs: {}\nsecret: {}\nrun: x\n", "did you mean 'secrets'?", NULL);
	parse_fails("zzzzzzzz: 1\nrun: x\n", "t.yaml:1:1: error: zzzzzzzz: unknown key 'zzzzzzzz'\n",
		    NULL);
	parse_fails("event_callback: x\nrun: x\n",
		    "event_callback: 'event_callback' is not supported by frugal", NULL);
}

static void test_many_errors(void **state)
{
	const char *yaml =
		"name: ok\n"					/* 1 */
		"resources:\n"					/* 2 */
		"  accelerators: A100:x\n"			/* 3 */
		"  cpus: many\n"				/* 4 */
		"  acelerators: A100\n"				/* 5 */
		"envs: {1X: a}\n"				/* 6 */
		"setpu: x\n"					/* 7 */
		"checkpoint: {dir: /c, keep: 0}\n"		/* 8 */
		"budget: -3\n";					/* 9 */
	struct task t;
	char *out;
	int lines;

	lines = parse_fails(yaml,
			    "t.yaml:3:17: error: resources.accelerators:",
			    "t.yaml:4:9: error: resources.cpus:",
			    "t.yaml:5:3: error: resources.acelerators: unknown key",
			    "t.yaml:6:8: error: envs.1X:",
			    "t.yaml:7:1: error: setpu: unknown key 'setpu'; did you mean 'setup'?",
			    "t.yaml:8:29: error: checkpoint.keep:",
			    "t.yaml:9:9: error: budget:",
			    "t.yaml:1:1: error: missing 'run'", NULL);
	assert_int_equal(lines, 8);

	/* sorted by position */
	task_init(&t);
	assert_int_equal(parse(yaml, &t, &out), FRUGAL_EINVAL);
	assert_true(strstr(out, "t.yaml:1:1") < strstr(out, "t.yaml:3:17"));
	assert_true(strstr(out, "t.yaml:8:29") < strstr(out, "t.yaml:9:9"));
	free(out);
	task_release(&t);
}

static void test_yaml_errors(void **state)
{
	parse_fails("run: x\nrun: y\n",
		    "t.yaml:2:1: error: run: duplicate key 'run' (first given at line 1)", NULL);
	parse_fails("resources:\n  cpus: 1\n  cpus: 2\nrun: x\n",
		    "t.yaml:3:3: error: resources.cpus: duplicate key 'cpus' (first given at line 2)",
		    NULL);
	parse_fails("resources:\n  cpus: [1, 2\nrun: x\n", "t.yaml:3:4: error: invalid YAML: ", NULL);
	parse_fails("resources:\n\tcpus: 4\nrun: x\n", "t.yaml:2:1: error: invalid YAML", NULL);
	parse_fails("a: &x {cpus: 1}\nresources: *x\nrun: x\n",
		    "t.yaml:2:12: error: aliases ('*x') are not supported", NULL);
	parse_fails("run: a\n---\nrun: b\n", "t.yaml:2:1: error: only one YAML document is allowed",
		    NULL);
	parse_fails("", "t.yaml: error: the task file is empty", NULL);
	parse_fails("# only a comment\n", "the task file is empty", NULL);
	parse_fails("- run: x\n", "t.yaml:1:1: error: expected a mapping of task keys", "got a list",
		    NULL);
	parse_fails("just text\n", "got 'just text'", NULL);
	parse_fails("? [a]\n: b\nrun: x\n", "a mapping key must be a plain string, not a list", NULL);
	parse_fails("envs: {A: \"x\\0y\"}\nrun: x\n",
		    "t.yaml:1:11: error: envs.A: strings may not contain NUL characters", NULL);
	parse_fails("run: \"\xff\"\n", "invalid YAML", NULL);
	/* keys with NULs: found, and compared by their full length */
	parse_fails("envs:\n  \"A\\0x\": 1\n  \"A\\0y\": 2\nrun: x\n",
		    "t.yaml:2:3: error: envs: strings may not contain NUL characters",
		    "t.yaml:3:3: error: envs: strings may not contain NUL characters", NULL);
	{
		struct strbuf sb = STRBUF_INIT;
		int i;

		strbuf_adds(&sb, "run: x\nenvs: ");
		for (i = 0; i < 70; i++)
			strbuf_addch(&sb, '[');
		for (i = 0; i < 70; i++)
			strbuf_addch(&sb, ']');
		strbuf_addch(&sb, '\n');
		parse_fails(sb.buf, "values nested deeper than 64 levels", NULL);
		strbuf_release(&sb);
	}
}

static void test_size_cap(void **state)
{
	size_t n = YAMLTREE_MAX_INPUT + 10;
	char *big = xmalloc(n + 1);
	struct diag_list dl = DIAG_LIST_INIT;
	struct task t;

	memset(big, '#', n);
	big[0] = 'r';
	big[n] = '\0';
	assert_int_equal(task_parse_buffer(big, n, "big.yaml", NULL, &t, &dl), FRUGAL_ETOOBIG);
	assert_int_equal(dl.n, 1);
	assert_non_null(strstr(dl.items[0].msg, "larger than"));
	diag_list_release(&dl);
	free(big);
}

static void test_diag_format(void **state)
{
	struct diag_list dl = DIAG_LIST_INIT;
	struct strbuf sb = STRBUF_INIT;

	diag_add(&dl, "f.yaml", 3, 7, "resources.cpus", "expected %s", "x");
	diag_add(&dl, "f.yaml", 0, 0, NULL, "cannot read");
	diag_add(&dl, "f.yaml", 1, 1, "", "no key");
	diag_list_format(&dl, &sb);
	assert_string_equal(sb.buf, "f.yaml:3:7: error: resources.cpus: expected x\n"
				    "f.yaml: error: cannot read\n"
				    "f.yaml:1:1: error: no key\n");
	diag_list_sort(&dl, 0);
	assert_int_equal(dl.items[0].line, 0);
	assert_int_equal(dl.items[1].line, 1);
	assert_int_equal(dl.items[2].line, 3);
	strbuf_release(&sb);
	diag_list_release(&dl);
	diag_list_release(&dl);	/* twice is fine */

	/* text from the file is made printable and bounded */
	{
		char *longkey = xmalloc(2001);

		memset(longkey, 'k', 2000);
		longkey[2000] = '\0';
		diag_add(&dl, "f.yaml", 1, 1, "envs.\x1b[31m", "bad '%s'", "a\nb\x7f");
		diag_add(&dl, "f.yaml", 1, 1, longkey, "%s", longkey);
		assert_string_equal(dl.items[0].key, "envs.?[31m");
		assert_string_equal(dl.items[0].msg, "bad 'a?b?'");
		assert_int_equal(strlen(dl.items[1].key), 515);
		assert_string_equal(dl.items[1].msg + 512, "...");
		free(longkey);
		diag_list_release(&dl);
	}
	parse_fails("envs:\n  \"A\\e[2J\": x\nrun: x\n", "envs.A?[2J: expected an environment", NULL);
}

/* ---- helpers of task.h -------------------------------------------------------------- */

static void test_kvlist(void **state)
{
	struct kvlist l = { NULL, 0, 0 };

	assert_null(kvlist_get(&l, "a"));
	assert_false(kvlist_has(&l, "a"));
	kvlist_set(&l, "a", "1");
	kvlist_set(&l, "b", NULL);
	kvlist_set(&l, "a", "2");
	assert_int_equal(l.n, 2);
	assert_string_equal(kvlist_get(&l, "a"), "2");
	assert_true(kvlist_has(&l, "b"));
	assert_null(kvlist_get(&l, "b"));
	assert_string_equal(l.items[0].key, "a");
	kvlist_release(&l);
	assert_int_equal(l.n, 0);
}

static void test_signals(void **state)
{
	assert_string_equal(signal_to_name(SIGTERM), "SIGTERM");
	assert_string_equal(signal_to_name(SIGUSR1), "SIGUSR1");
	assert_null(signal_to_name(0));
	assert_int_equal(signal_from_name("SIGINT"), SIGINT);
	assert_int_equal(signal_from_name("TERM"), SIGTERM);
	assert_int_equal(signal_from_name("usr1"), SIGUSR1);
	assert_int_equal(signal_from_name("SIGNOPE"), 0);
	assert_int_equal(signal_from_name(""), 0);
	assert_int_equal(signal_from_name(NULL), 0);
}

static void test_suggest(void **state)
{
	static const char *const keys[] = { "accelerators", "setup", "run", "secrets", NULL };

	assert_int_equal(suggest_distance("setpu", "setup", 5), 1);	/* a swap */
	assert_int_equal(suggest_distance("kitten", "sitting", 5), 3);
	assert_int_equal(suggest_distance("abc", "ABC", 5), 0);
	assert_int_equal(suggest_distance("", "abc", 5), 3);
	assert_int_equal(suggest_distance("a", "abcdefgh", 2), 3);	/* capped */
	assert_string_equal(suggest_nearest("acelerators", keys, 5), "accelerators");
	assert_string_equal(suggest_nearest("setpu", keys, 5), "setup");
	assert_string_equal(suggest_nearest("rum", keys, 5), "run");
	assert_null(suggest_nearest("banana", keys, 5));
	assert_null(suggest_nearest("", keys, 5));
	assert_null(suggest_nearest("run", keys, 5));	/* itself is no suggestion */
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void test_json_round_trips(void **state)
{
	static const char *const shapes[] = {
		"run: x\n",
		"resources: {accelerators: {A100: 1, H100: 2}, spot_policy: auto}\nrun: x\n",
		"resources: {accelerators: [H100:8, A100:8]}\nrun: x\n",
		"envs: {A: null, B: \"\"}\nsecrets: {S: null}\nrun: x\n",
		"sweep: {method: random, trials: 3, params: {A: \"int(1,3)\"}, seed: 9223372036854775807}\n"
		"run: x\n",
		"name: n\nsetup: \"a\\nb\\\"c\\u00e9\"\nrun: \"\\ttab\"\n",
		"outputs: {paths: x}\nstop: {on_output: y}\nrecovery: {recover_on_exit_codes: [1, 255]}\n"
		"run: x\n",
	};
	size_t i;
	struct task t;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		parse_ok(shapes[i], &t);
		assert_round_trip(&t);
		task_release(&t);
	}
	parse_ok(full_task, &t);
	{
		struct task back;
		char *j = task_to_json(&t);

		assert_int_equal(task_from_json(j, &back, NULL), 0);
		assert_string_equal(back.name, "mnist");
		assert_string_equal(back.res.accels[0].name, "A100");
		assert_int_equal(back.res.spot, SPOT_SPOT);
		assert_true(back.res.cpus == 4 && back.res.cpus_at_least);
		assert_int_equal(back.recovery.preemption_signal, SIGUSR1);
		assert_int_equal(back.sweep.seed, 7);
		assert_string_equal(back.sweep.params[1].range, "loguniform(1e-5,1e-2)");
		assert_null(kvlist_get(&back.secrets, "HF_TOKEN"));	/* names only */
		assert_true(kvlist_has(&back.secrets, "HF_TOKEN"));
		free(j);
		task_release(&back);
	}
	task_release(&t);
}

static void test_json_errors(void **state)
{
	struct error err = ERROR_INIT;
	struct task t;

	assert_int_equal(task_from_json("{", &t, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "task JSON"));
	assert_int_equal(task_from_json("[]", &t, &err), FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"run\": 3}", &t, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "'run' is not a string"));
	assert_int_equal(task_from_json("{\"resources\": {\"accel_mode\": \"one\"}}", &t, &err),
			 FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"resources\": {\"accelerators\": [{\"name\": \"A\", "
					"\"count\": 0}], \"accel_mode\": \"one\"}}", &t, &err),
			 FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"recovery\": {\"preemption_signal\": \"SIGFOO\"}}",
					&t, &err), FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"sweep\": {\"method\": \"bayes\"}}", &t, &err),
			 FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"envs\": {\"A\": 1}}", &t, NULL), FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"num_nodes\": 0}", &t, NULL), FRUGAL_EINVAL);
	assert_int_equal(task_from_json("{\"run\": \"x\", \"run\": \"y\"}", &t, NULL), FRUGAL_EINVAL);

	/* unknown fields are ignored; missing ones take the defaults */
	assert_int_equal(task_from_json("{\"run\": \"x\", \"future\": 1}", &t, &err), 0);
	assert_string_equal(t.run, "x");
	assert_int_equal(t.checkpoint.interval, 600);
	assert_int_equal(t.recovery.preemption_signal, SIGTERM);
	task_release(&t);
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_accel_forms),
		cmocka_unit_test(test_accel_errors),
		cmocka_unit_test(test_cpus_memory),
		cmocka_unit_test(test_spot),
		cmocka_unit_test(test_cloud_infra),
		cmocka_unit_test(test_resources_misc),
		cmocka_unit_test(test_name_run_setup),
		cmocka_unit_test(test_num_nodes),
		cmocka_unit_test(test_budget_backend),
		cmocka_unit_test(test_workdir),
		cmocka_unit_test(test_skypilot_accelerators),
		cmocka_unit_test(test_skypilot_candidates),
		cmocka_unit_test(test_skypilot_sizes_infra),
		cmocka_unit_test(test_skypilot_images_ports),
		cmocka_unit_test(test_skypilot_other_keys),
		cmocka_unit_test(test_envs),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_file_mounts),
		cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_checkpoint),
		cmocka_unit_test(test_checkpoint_verify),
		cmocka_unit_test(test_outputs),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_sweep_ok),
		cmocka_unit_test(test_sweep_errors),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_kvlist),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_json_round_trips),
		cmocka_unit_test(test_json_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
