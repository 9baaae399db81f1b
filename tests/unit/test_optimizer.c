/*
 * Unit tests for catalog/optimizer: the ordering rules (single, any-of,
 * ordered accelerators; on-demand, spot and auto; expected cost with
 * preemptions), the filters (cpus/memory minimums, max_price, cloud,
 * region, zone, instance type, usable backends, blocked locations), the
 * expected-hours model and the settings read from config.yaml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xalloc.h"
#include "catalog/catalog.h"
#include "backend_ids.h"
#include "catalog/optimizer.h"

static const char aws_csv[] =
	"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,"
	"Region,AvailabilityZone,Arch\n"
	"p4d.24xlarge,A100,8.0,96.0,1152.0,,32.77,12.00,us-east-1,use1-az1,x86_64\n"
	"p4d.24xlarge,A100,8.0,96.0,1152.0,,32.77,9.00,us-west-2,usw2-az1,x86_64\n"
	"g5.xlarge,A10G,1.0,4.0,16.0,,1.006,0.40,us-east-1,use1-az1,x86_64\n"
	"g5.2xlarge,A10G,1.0,8.0,32.0,,1.212,0.45,us-east-1,use1-az2,x86_64\n"
	"p3.2xlarge,V100,1.0,8.0,61.0,,3.06,,us-east-1,use1-az1,x86_64\n"
	"p5.4xlarge,H100,1.0,16.0,256.0,,6.88,1.00,us-east-1,use1-az1,x86_64\n";

static const char runpod_csv[] =
	"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Region,SpotPrice,Price,"
	"AvailabilityZone,GpuInfo\n"
	"1x_A100-80GB_SECURE,A100-80GB,1.0,8.0,117.0,US,0.82,1.64,US-TX-1,\n"
	"8x_A100-80GB_SECURE,A100-80GB,8.0,64.0,936.0,US,6.56,13.12,US-TX-1,\n"
	"1x_H100_SECURE,H100,1.0,16.0,176.0,US,0.95,2.39,US-TX-1,\n"
	"1x_RTX4090_SECURE,RTX4090,1.0,6.0,41.0,US,0.29,0.59,US-TX-1,\n";

static const char lambda_csv[] =
	"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,GpuInfo,"
	"SpotPrice\r\n"
	"gpu_1x_a10,A10,1.0,30.0,200.0,0.75,us-east-1,,\r\n"
	"gpu_1x_h100_pcie,H100,1.0,26.0,200.0,2.49,us-east-1,,\r\n"
	"gpu_8x_a100,A100,8.0,124.0,1800.0,14.32,us-east-1,,\r\n";

static struct catalog *cat;

static int setup(void **state)
{
	struct error err = ERROR_INIT;

	(void)state;
	cat = catalog_new();
	if (catalog_add_buffer(cat, BACKEND_AWS, "aws.csv", aws_csv, strlen(aws_csv), &err) ||
	    catalog_add_buffer(cat, BACKEND_RUNPOD, "runpod.csv", runpod_csv, strlen(runpod_csv),
			       &err) ||
	    catalog_add_buffer(cat, BACKEND_LAMBDA, "lambda.csv", lambda_csv, strlen(lambda_csv),
			       &err)) {
		fprintf(stderr, "%s\n", error_msg(&err));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	catalog_free(cat);
	return 0;
}

/* resources with accelerators "NAME:N" ... (NULL-terminated). */
static void res_accels(struct resources *r, enum accel_mode mode, ...)
{
	const char *a;
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->accel_mode = mode;
	va_start(ap, mode);
	while ((a = va_arg(ap, const char *))) {
		const char *colon = strchr(a, ':');
		r->accels = xrealloc(r->accels, (r->n_accels + 1) * sizeof(*r->accels));
		r->accels[r->n_accels].name = xstrndup(a, (size_t)(colon - a));
		r->accels[r->n_accels].count = atoi(colon + 1);
		r->n_accels++;
	}
	va_end(ap);
}

static void res_release(struct resources *r)
{
	size_t i;

	for (i = 0; i < r->n_accels; i++)
		free(r->accels[i].name);
	free(r->accels);
}

static void run(const struct resources *r, struct candidate_list *l)
{
	struct optimizer_request req;
	struct error err = ERROR_INIT;

	memset(&req, 0, sizeof(req));
	req.res = r;
	assert_int_equal(optimizer_candidates(cat, &req, l, &err), 0);
}

/* The list as "backend/instance/zone[/spot]" lines. */
static char *names(const struct candidate_list *l)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++)
		strbuf_addf(&sb, "%s/%s/%s%s\n", backend_id_name(l->items[i].offer->backend),
			    l->items[i].offer->instance_type, l->items[i].offer->zone,
			    l->items[i].spot ? "/spot" : "");
	return strbuf_detach(&sb, NULL);
}

static void expect(const struct candidate_list *l, const char *want)
{
	char *got = names(l);

	if (strcmp(got, want))
		fail_msg("got:\n%s\nwant:\n%s", got, want);
	free(got);
}

static void test_single(void **state)
{
	struct resources r;
	struct candidate_list l;

	(void)state;
	res_accels(&r, ACCEL_ONE, "a10g:1", NULL);
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1\naws/g5.2xlarge/use1-az2\n");
	assert_true(l.items[0].price == 1.006);
	assert_true(fabs(l.items[0].cost - 1.006) < 1e-12);	/* one hour, on demand */
	candidate_list_release(&l);

	/* Exact count: A100:8 is not served by a 1-GPU machine, and A100 is not A100-80GB. */
	res_release(&r);
	res_accels(&r, ACCEL_ONE, "A100:8", NULL);
	run(&r, &l);
	expect(&l, "lambda/gpu_8x_a100/\naws/p4d.24xlarge/use1-az1\naws/p4d.24xlarge/usw2-az1\n");
	candidate_list_release(&l);

	/* Aliases: H100 takes every cloud's H100. */
	res_release(&r);
	res_accels(&r, ACCEL_ONE, "H100:1", NULL);
	run(&r, &l);
	expect(&l, "runpod/1x_H100_SECURE/US-TX-1\nlambda/gpu_1x_h100_pcie/\n"
		   "aws/p5.4xlarge/use1-az1\n");
	candidate_list_release(&l);
	res_release(&r);

	/* No accelerators: every offer, cheapest first. */
	memset(&r, 0, sizeof(r));
	run(&r, &l);
	assert_int_equal(l.n, 13);
	assert_string_equal(l.items[0].offer->instance_type, "1x_RTX4090_SECURE");
	candidate_list_release(&l);
}

/* num_nodes: only backends that can place N machines together; none of
 * these clouds can yet, so every fitting offer counts as unusable. */
static void test_nodes(void **state)
{
	struct optimizer_request req;
	struct error err = ERROR_INIT;
	struct resources r;
	struct candidate_list l;

	(void)state;
	res_accels(&r, ACCEL_ONE, "a10g:1", NULL);
	memset(&req, 0, sizeof(req));
	req.res = &r;
	req.nodes = 2;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.n_fit, 2);
	assert_int_equal(l.n_unusable, 2);
	candidate_list_release(&l);
	req.nodes = 1;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	assert_int_equal(l.n, 2);
	candidate_list_release(&l);
	res_release(&r);
}

static void test_cpus_memory(void **state)
{
	struct resources r;
	struct candidate_list l;

	(void)state;
	res_accels(&r, ACCEL_ONE, "A10G:1", NULL);
	r.cpus = 8;
	r.cpus_at_least = 0;	/* a plain 8 means at least 8 too */
	run(&r, &l);
	expect(&l, "aws/g5.2xlarge/use1-az2\n");
	candidate_list_release(&l);
	r.cpus = 0;
	r.memory = 20;
	r.memory_at_least = 1;
	run(&r, &l);
	expect(&l, "aws/g5.2xlarge/use1-az2\n");
	candidate_list_release(&l);
	r.memory = 64;
	run(&r, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.n_fit, 0);
	candidate_list_release(&l);
	res_release(&r);
}

static void test_any_of_and_ordered(void **state)
{
	struct resources r;
	struct candidate_list l;

	(void)state;
	/* Any of: the cheapest among all choices. */
	res_accels(&r, ACCEL_ANY_OF, "A100:8", "A100-80GB:8", NULL);
	run(&r, &l);
	expect(&l, "runpod/8x_A100-80GB_SECURE/US-TX-1\nlambda/gpu_8x_a100/\n"
		   "aws/p4d.24xlarge/use1-az1\naws/p4d.24xlarge/usw2-az1\n");
	assert_int_equal(l.items[0].choice, 1);
	assert_int_equal(l.items[1].choice, 0);
	candidate_list_release(&l);
	res_release(&r);

	/* Ordered: every offer of the first choice before the second. */
	res_accels(&r, ACCEL_ORDERED, "A100:8", "A100-80GB:8", NULL);
	run(&r, &l);
	expect(&l, "lambda/gpu_8x_a100/\naws/p4d.24xlarge/use1-az1\naws/p4d.24xlarge/usw2-az1\n"
		   "runpod/8x_A100-80GB_SECURE/US-TX-1\n");
	candidate_list_release(&l);
	res_release(&r);

	/* Ordered, spot: still by choice first, then by (expected) cost. */
	res_accels(&r, ACCEL_ORDERED, "RTX4090:1", "A10:1", NULL);
	r.spot = SPOT_AUTO;
	run(&r, &l);
	expect(&l, "runpod/1x_RTX4090_SECURE/US-TX-1/spot\nrunpod/1x_RTX4090_SECURE/US-TX-1\n"
		   "lambda/gpu_1x_a10/\n");
	candidate_list_release(&l);
	res_release(&r);
}

static void test_spot_policies(void **state)
{
	struct resources r;
	struct candidate_list l;

	(void)state;
	/* spot: only offers with a spot price. */
	res_accels(&r, ACCEL_ONE, "A10G:1", NULL);
	r.spot = SPOT_SPOT;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1/spot\naws/g5.2xlarge/use1-az2/spot\n");
	assert_true(l.items[0].price == 0.40);
	/* Expected cost counts preemptions: a bit over the price for one hour. */
	assert_true(l.items[0].cost > 0.40 && l.items[0].cost < 0.42);
	assert_true(l.items[0].hours > 1.0);
	assert_false(l.on_demand_cheaper);
	candidate_list_release(&l);
	res_release(&r);

	res_accels(&r, ACCEL_ONE, "V100:1", NULL);
	r.spot = SPOT_SPOT;
	run(&r, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.n_fit, 1);
	assert_int_equal(l.n_no_price, 1);
	candidate_list_release(&l);
	res_release(&r);

	/* auto: spot first, then on-demand. */
	res_accels(&r, ACCEL_ONE, "A10G:1", NULL);
	r.spot = SPOT_AUTO;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1/spot\naws/g5.2xlarge/use1-az2/spot\n"
		   "aws/g5.xlarge/use1-az1\naws/g5.2xlarge/use1-az2\n");
	candidate_list_release(&l);
	/* on-demand (the default): no spot candidates. */
	r.spot = SPOT_ON_DEMAND;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1\naws/g5.2xlarge/use1-az2\n");
	candidate_list_release(&l);
	res_release(&r);
}

static void test_max_price_and_location(void **state)
{
	struct resources r;
	struct candidate_list l;

	(void)state;
	res_accels(&r, ACCEL_ONE, "A10G:1", NULL);
	r.max_price = 1.1;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1\n");
	assert_int_equal(l.n_over_price, 1);
	candidate_list_release(&l);
	/* max_price applies to the spot price for spot. */
	r.max_price = 0.42;
	r.spot = SPOT_AUTO;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1/spot\n");
	candidate_list_release(&l);
	r.max_price = 0;
	r.spot = SPOT_ON_DEMAND;
	res_release(&r);

	res_accels(&r, ACCEL_ONE, "A100:8", NULL);
	r.cloud = xstrdup("aws");
	run(&r, &l);
	expect(&l, "aws/p4d.24xlarge/use1-az1\naws/p4d.24xlarge/usw2-az1\n");
	candidate_list_release(&l);
	r.region = xstrdup("US-WEST-2");
	run(&r, &l);
	expect(&l, "aws/p4d.24xlarge/usw2-az1\n");
	candidate_list_release(&l);
	free(r.region);
	r.region = NULL;
	r.zone = xstrdup("use1-az1");
	run(&r, &l);
	expect(&l, "aws/p4d.24xlarge/use1-az1\n");
	candidate_list_release(&l);
	free(r.zone);
	r.zone = NULL;
	free(r.cloud);
	r.cloud = xstrdup("lambda");
	run(&r, &l);
	expect(&l, "lambda/gpu_8x_a100/\n");
	candidate_list_release(&l);
	free(r.cloud);
	r.cloud = NULL;
	r.instance_type = xstrdup("P4D.24XLARGE");
	run(&r, &l);
	assert_int_equal(l.n, 2);
	candidate_list_release(&l);
	free(r.instance_type);
	res_release(&r);
}

/* Blocked locations: a list, as the store would answer. */
struct block_ctx {
	const char *blocked[4][3];
	int calls;
	unsigned refuse;	/* backends not usable */
};

static int blocked_cb(void *ctx, const char *backend, const char *region, const char *zone)
{
	struct block_ctx *b = ctx;
	int i;

	b->calls++;
	for (i = 0; i < 4 && b->blocked[i][0]; i++)
		if (!strcmp(b->blocked[i][0], backend) &&
		    (!*b->blocked[i][1] || !strcmp(b->blocked[i][1], region)) &&
		    (!*b->blocked[i][2] || !strcmp(b->blocked[i][2], zone)))
			return 1;
	return 0;
}

static int backend_cb(void *ctx, enum backend_id be)
{
	struct block_ctx *b = ctx;
	return !(b->refuse & (1u << be));
}

static void test_blocked_and_backends(void **state)
{
	struct block_ctx b = { { { "aws", "us-west-2", "" } }, 0, 0 };
	struct optimizer_request req;
	struct resources r;
	struct candidate_list l;
	struct error err = ERROR_INIT;

	(void)state;
	res_accels(&r, ACCEL_ONE, "A100:8", NULL);
	r.spot = SPOT_SPOT;
	memset(&req, 0, sizeof(req));
	req.res = &r;
	req.blocked = blocked_cb;
	req.backend_ok = backend_cb;
	req.ctx = &b;
	/* Without blocks: us-west-2 is the cheapest spot. */
	req.blocked = NULL;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	expect(&l, "aws/p4d.24xlarge/usw2-az1/spot\naws/p4d.24xlarge/use1-az1/spot\n");
	candidate_list_release(&l);
	/* Blocked: the next one; the callback is asked once per location
	 * that has a fitting offer. */
	req.blocked = blocked_cb;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	expect(&l, "aws/p4d.24xlarge/use1-az1/spot\n");
	assert_int_equal(l.n_blocked, 1);
	assert_int_equal(b.calls, 3);	/* aws us-west-2, aws us-east-1, lambda */
	candidate_list_release(&l);
	/* A whole backend blocked by zone-less entry; and backends not usable. */
	r.spot = SPOT_ON_DEMAND;
	b.blocked[1][0] = "aws";
	b.blocked[1][1] = "";
	b.blocked[1][2] = "";
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	expect(&l, "lambda/gpu_8x_a100/\n");
	candidate_list_release(&l);
	b.refuse = 1u << BACKEND_LAMBDA;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.n_fit, 3);
	assert_int_equal(l.n_unusable, 1);
	assert_int_equal(l.n_blocked, 2);
	candidate_list_release(&l);
	res_release(&r);
}

static void test_expected_cost(void **state)
{
	struct preempt_model m = { 0.05, 600 };
	struct optimizer_settings set;
	struct optimizer_request req;
	struct resources r;
	struct candidate_list l;
	struct error err = ERROR_INIT;
	double h;

	(void)state;
	/* The model: no preemptions -> the runtime; small rate -> a little more. */
	m.rate_per_hour = 0;
	assert_true(optimizer_expected_hours(&m, 6 * 3600, 0) == 6.0);
	m.rate_per_hour = 0.05;
	h = optimizer_expected_hours(&m, 3600, 0);
	assert_true(fabs(h - (1.0 / 0.05 + 600.0 / 3600) * expm1(0.05)) < 1e-12);
	assert_true(h > 1.03 && h < 1.04);
	/* Checkpoints every 10 minutes lose less than none at all. */
	assert_true(optimizer_expected_hours(&m, 6 * 3600, 600) <
		    optimizer_expected_hours(&m, 6 * 3600, 0));
	assert_true(optimizer_expected_hours(&m, 6 * 3600, 600) > 6.0);
	m.rate_per_hour = 50;	/* never finishes: capped, not infinite */
	assert_true(isfinite(optimizer_expected_hours(&m, 100 * 3600, 0)));

	/* Ranking by expected cost: runpod's H100 spot is cheaper per hour
	 * ($0.95 against $1.00) but preempted 2x an hour; for a 10-hour job
	 * without checkpoints AWS wins, and on-demand wins over both. */
	optimizer_settings_init(&set);
	set.model[BACKEND_RUNPOD].rate_per_hour = 2.0;
	res_accels(&r, ACCEL_ONE, "H100:1", NULL);
	r.spot = SPOT_SPOT;
	memset(&req, 0, sizeof(req));
	req.res = &r;
	req.settings = &set;
	req.runtime_s = 3600;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	/* One hour: 2 preemptions/h of 10 min each still leaves runpod... */
	assert_int_equal(l.n, 2);
	candidate_list_release(&l);
	req.runtime_s = 10 * 3600;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	expect(&l, "aws/p5.4xlarge/use1-az1/spot\nrunpod/1x_H100_SECURE/US-TX-1/spot\n");
	assert_true(l.items[1].cost > l.items[0].cost);
	assert_true(l.on_demand_cheaper == (l.best_on_demand_cost < l.best_spot_cost));
	candidate_list_release(&l);

	/* on-demand cheaper in expectation: a spot market that preempts
	 * every hour, a long job, no checkpoints. */
	set.model[BACKEND_AWS].rate_per_hour = 1.0;
	set.model[BACKEND_RUNPOD].rate_per_hour = 1.0;
	r.spot = SPOT_AUTO;
	req.runtime_s = 8 * 3600;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	assert_true(l.on_demand_cheaper);
	assert_true(l.best_on_demand_cost > 0 && l.best_on_demand_cost < l.best_spot_cost);
	/* ... and under auto the on-demand offer then goes first. */
	assert_false(l.items[0].spot);
	assert_string_equal(l.items[0].offer->instance_type, "1x_H100_SECURE");
	candidate_list_release(&l);
	/* With checkpoints every 10 minutes spot is the better bet again. */
	req.checkpoint_s = 600;
	assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
	assert_false(l.on_demand_cheaper);
	assert_true(l.items[0].spot);
	candidate_list_release(&l);
	res_release(&r);
}

static void test_generic_local(void **state)
{
	struct config cfg;
	struct catalog *c2 = catalog_new();
	struct optimizer_request req;
	struct resources r;
	struct candidate_list l;
	struct error err = ERROR_INIT;

	(void)state;
	config_init(&cfg);
	cfg.local.gpu_type = xstrdup("GPU");
	cfg.local.price_per_gpu_hour = 0.1;
	catalog_add_local(c2, &cfg, 2);
	assert_int_equal(catalog_add_buffer(c2, BACKEND_RUNPOD, "runpod.csv", runpod_csv,
					    strlen(runpod_csv), &err), 0);
	res_accels(&r, ACCEL_ONE, "RTX4090:2", NULL);
	memset(&req, 0, sizeof(req));
	req.res = &r;
	/* A pool of generic "GPU"s matches any name (as the local backend does). */
	assert_int_equal(optimizer_candidates(c2, &req, &l, &err), 0);
	expect(&l, "local/local-2xGPU/\n");
	assert_true(fabs(l.items[0].price - 0.2) < 1e-12);
	candidate_list_release(&l);
	res_release(&r);
	res_accels(&r, ACCEL_ONE, "RTX4090:1", NULL);
	assert_int_equal(optimizer_candidates(c2, &req, &l, &err), 0);
	expect(&l, "local/local-1xGPU/\nrunpod/1x_RTX4090_SECURE/US-TX-1\n");
	candidate_list_release(&l);
	res_release(&r);
	config_release(&cfg);
	catalog_free(c2);
}

static void test_cpu_only_and_max(void **state)
{
	static const char cpu_csv[] =
		"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,"
		"GpuInfo,SpotPrice\r\n"
		"cpu_4x_general,,,4.0,16.0,0.2,us-east-1,,\r\n";
	struct catalog *c2 = catalog_new();
	struct optimizer_request req;
	struct candidate_list l, full;
	struct resources r;
	struct error err = ERROR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(catalog_add_buffer(c2, BACKEND_LAMBDA, "cpu.csv", cpu_csv,
					    strlen(cpu_csv), &err), 0);
	assert_int_equal(catalog_add_buffer(c2, BACKEND_AWS, "aws.csv", aws_csv, strlen(aws_csv),
					    &err), 0);
	assert_int_equal(catalog_add_buffer(c2, BACKEND_LAMBDA, "lambda.csv", lambda_csv,
					    strlen(lambda_csv), &err), 0);
	memset(&r, 0, sizeof(r));
	memset(&req, 0, sizeof(req));
	req.res = &r;
	/* No accelerators asked: machines without them... */
	assert_int_equal(optimizer_candidates(c2, &req, &l, &err), 0);
	expect(&l, "lambda/cpu_4x_general/\n");
	candidate_list_release(&l);
	/* ... unless none of those fits: then any machine. */
	r.cpus = 100;
	assert_int_equal(optimizer_candidates(c2, &req, &l, &err), 0);
	expect(&l, "lambda/gpu_8x_a100/\n");
	candidate_list_release(&l);
	r.cpus = 0;
	catalog_free(c2);

	/* max_candidates: the same first ones as the full list, the rest counted. */
	r.spot = SPOT_AUTO;
	r.cpus = 1;
	assert_int_equal(optimizer_candidates(cat, &req, &full, &err), 0);
	assert_int_equal(full.n, 13 + 9);	/* every on-demand and every spot price */
	for (i = 1; i <= full.n; i++) {
		req.max_candidates = i;
		assert_int_equal(optimizer_candidates(cat, &req, &l, &err), 0);
		assert_int_equal(l.n, i);
		assert_int_equal(l.n_more, full.n - i);
		for (size_t k = 0; k < i; k++) {
			assert_ptr_equal(l.items[k].offer, full.items[k].offer);
			assert_int_equal(l.items[k].spot, full.items[k].spot);
		}
		candidate_list_release(&l);
	}
	candidate_list_release(&full);
}

static int only_aws(void *ctx, enum backend_id b)
{
	(void)ctx;
	return b == BACKEND_AWS;
}

/* A plain cpus: N is exactly N where an offer has it; each candidate
 * carries the GPU count of its choice; a task without GPUs on a backend
 * that has only GPU machines gets the cheapest of them. */
static void test_exact_and_counts(void **state)
{
	static const char cpu_csv[] =
		"InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price,Region,"
		"GpuInfo,SpotPrice\r\n"
		"cpu_4x_general,,,4.0,16.0,0.2,us-east-1,,\r\n";
	struct catalog *c2 = catalog_new();
	struct optimizer_request req;
	struct candidate_list l;
	struct resources r;
	struct error err = ERROR_INIT;
	size_t i;

	(void)state;
	res_accels(&r, ACCEL_ONE, "A10G:1", NULL);
	r.cpus = 4;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1\n");	/* not g5.2xlarge (8 vCPUs) */
	candidate_list_release(&l);
	r.cpus_at_least = 1;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1\naws/g5.2xlarge/use1-az2\n");
	candidate_list_release(&l);
	r.cpus = 6;		/* no A10G machine has exactly 6: at least 6 */
	r.cpus_at_least = 0;
	run(&r, &l);
	expect(&l, "aws/g5.2xlarge/use1-az2\n");
	candidate_list_release(&l);
	r.cpus = 0;
	r.memory = 16;
	run(&r, &l);
	expect(&l, "aws/g5.xlarge/use1-az1\n");
	candidate_list_release(&l);
	res_release(&r);

	/* {H100: 1, A100: 8}: an A100 candidate is 8 GPUs, an H100 one 1 */
	res_accels(&r, ACCEL_ANY_OF, "H100:1", "A100:8", NULL);
	run(&r, &l);
	assert_true(l.n > 2);
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.items[i].gpus, l.items[i].choice == 0 ? 1 : 8);
	candidate_list_release(&l);
	res_release(&r);

	/* no GPUs asked, only aws usable, and aws has only GPU machines */
	assert_int_equal(catalog_add_buffer(c2, BACKEND_LAMBDA, "cpu.csv", cpu_csv,
					    strlen(cpu_csv), &err), 0);
	assert_int_equal(catalog_add_buffer(c2, BACKEND_AWS, "aws.csv", aws_csv, strlen(aws_csv),
					    &err), 0);
	memset(&r, 0, sizeof(r));
	memset(&req, 0, sizeof(req));
	req.res = &r;
	req.backend_ok = only_aws;
	assert_int_equal(optimizer_candidates(c2, &req, &l, &err), 0);
	assert_true(l.n > 0);
	assert_string_equal(l.items[0].offer->instance_type, "g5.xlarge");
	assert_int_equal(l.items[0].gpus, 0);
	candidate_list_release(&l);
	catalog_free(c2);
}

static void test_settings(void **state)
{
	struct config cfg;
	struct diag_list dl = DIAG_LIST_INIT;
	struct optimizer_settings s;
	struct error err = ERROR_INIT;
	const char *yaml = "backends:\n  aws: {preemption_rate: 0.2, restart_overhead: 5m}\n"
			   "  lambda: {preemption_rate: 0}\n";
	const char *bad = "backends:\n  gcp: {preemption_rate: often}\n";

	(void)state;
	optimizer_settings_init(&s);
	assert_true(s.model[BACKEND_AWS].rate_per_hour == 0.05);
	assert_true(s.model[BACKEND_GCP].rate_per_hour == 0.10);
	assert_true(s.model[BACKEND_RUNPOD].rate_per_hour == 0.10);
	assert_true(s.model[BACKEND_LOCAL].rate_per_hour == 0);
	assert_int_equal(s.model[BACKEND_AWS].restart_s, 600);

	assert_int_equal(config_parse_buffer(yaml, strlen(yaml), "config.yaml", &cfg, &dl), 0);
	assert_int_equal(optimizer_settings_from_config(&cfg, &s, &err), 0);
	assert_true(s.model[BACKEND_AWS].rate_per_hour == 0.2);
	assert_int_equal(s.model[BACKEND_AWS].restart_s, 300);
	assert_true(s.model[BACKEND_GCP].rate_per_hour == 0.10);
	config_release(&cfg);

	/* Refused when config.yaml is read (the settings schema)... */
	assert_int_equal(config_parse_buffer(bad, strlen(bad), "config.yaml", &cfg, &dl),
			 FRUGAL_EINVAL);
	{
		struct strbuf sb = STRBUF_INIT;

		diag_list_format(&dl, &sb);
		assert_non_null(strstr(sb.buf, "config.yaml:2:26: error: backends.gcp.preemption_rate:"
				       " expected a number >= 0, got 'often'"));
		strbuf_release(&sb);
	}
	/* ... and by the optimizer, for a config made some other way. */
	config_init(&cfg);
	cfg.backends = xcalloc(1, sizeof(*cfg.backends));
	cfg.n_backends = 1;
	cfg.backends[0].name = xstrdup("gcp");
	kvlist_append(&cfg.backends[0].settings, "preemption_rate", "often");
	assert_int_equal(optimizer_settings_from_config(&cfg, &s, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "backends.gcp.preemption_rate"));
	config_release(&cfg);
	diag_list_release(&dl);
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_nodes),
		cmocka_unit_test(test_cpus_memory),
		cmocka_unit_test(test_any_of_and_ordered),
		cmocka_unit_test(test_spot_policies),
		cmocka_unit_test(test_max_price_and_location),
		cmocka_unit_test(test_blocked_and_backends),
		cmocka_unit_test(test_expected_cost),
		cmocka_unit_test(test_generic_local),
		cmocka_unit_test(test_cpu_only_and_max),
		cmocka_unit_test(test_exact_and_counts),
		cmocka_unit_test(test_settings),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
