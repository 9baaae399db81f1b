/*
 * Unit tests for catalog/: the in-place CSV reader (quoted fields with
 * commas, CRLF, errors with file:line), the table loader (columns by
 * header name, empty prices, missing columns, GPU memory, GCP VM + GPU
 * pricing), the shipped tables, accelerator names and aliases, billing
 * rules, where tables are found, local offers, credentials detection and
 * `catalog update` from file:// URLs (a bad table replaces nothing).
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
#include <unistd.h>

#include "base/fs.h"
#include "base/xalloc.h"
#include "catalog/accel.h"
#include "catalog/billing.h"
#include "catalog/catalog.h"
#include "backend_ids.h"
#include "catalog/csv.h"
#include "catalog/update.h"
#include "backend/registry.h"

/* What `frugal offers` asks of a backend's descriptor: its credential
 * check found them; its hint. */
static int catalog_backend_configured(enum backend_id b, const struct config *cfg)
{
	struct backend_credentials cr = BACKEND_CREDENTIALS_INIT;

	registry_at((size_t)b)->credentials(cfg, &cr);
	return cr.found;
}

static const char *catalog_backend_setup_hint(enum backend_id b)
{
	struct backend_credentials cr = BACKEND_CREDENTIALS_INIT;

	registry_at((size_t)b)->credentials(NULL, &cr);
	return cr.hint;
}

/* ---- CSV reader ---------------------------------------------------------- */

/* Read every row of text into "a|b|c\n" lines (fields joined by '|'). */
static int csv_dump(const char *text, char **out, struct error *err)
{
	char *buf = xstrdup(text), *f[16];
	struct csv_reader r;
	struct strbuf sb = STRBUF_INIT;
	size_t n, i;
	int rc;

	csv_reader_init(&r, buf, strlen(buf), "t.csv");
	while ((rc = csv_next_row(&r, f, 16, &n, err)) > 0) {
		for (i = 0; i < n; i++)
			strbuf_addf(&sb, "%s%s", i ? "|" : "", f[i]);
		strbuf_addf(&sb, "@%d\n", r.row_line);
	}
	free(buf);
	*out = strbuf_detach(&sb, NULL);
	return rc;
}

static void csv_ok(const char *text, const char *want)
{
	struct error err = ERROR_INIT;
	char *out;

	if (csv_dump(text, &out, &err) != 0)
		fail_msg("csv failed: %s", error_msg(&err));
	assert_string_equal(out, want);
	free(out);
}

static void csv_bad(const char *text, const char *want)
{
	struct error err = ERROR_INIT;
	char *out;

	assert_int_equal(csv_dump(text, &out, &err), FRUGAL_EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("'%s' not in '%s'", want, err.msg);
	free(out);
}

static void test_csv(void **state)
{
	(void)state;
	csv_ok("a,b,c\n1,2,3\n", "a|b|c@1\n1|2|3@2\n");
	/* No final newline, empty fields, a trailing comma. */
	csv_ok("a,,c\n,,\nx,y,", "a||c@1\n||@2\nx|y|@3\n");
	/* Quoted fields with commas, doubled quotes and a line break. */
	csv_ok("n,\"{'Gpus': [1, 2]}\",\"say \"\"hi\"\"\"\n"
	       "m,\"two\nlines\",z\nlast,1,2\n",
	       "n|{'Gpus': [1, 2]}|say \"hi\"@1\nm|two\nlines|z@2\nlast|1|2@4\n");
	/* CRLF, blank lines (LF and CRLF) skipped, and a quoted field before CRLF. */
	csv_ok("a,b\r\n\r\n1,\"2,3\"\r\n\n4,5\r\n", "a|b@1\n1|2,3@3\n4|5@5\n");
	csv_ok("", "");
	csv_ok("\n\n", "");

	csv_bad("a,b\n1,\"open\n2,3\n", "t.csv:2: a quoted field is not closed");
	csv_bad("a,b\n\"x\"y,2\n", "t.csv:2: unexpected character after a closing quote");
	csv_bad("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", "t.csv:1: too many fields");
	{
		/* A NUL byte in the text. */
		char text[] = "a,b\n1,2\nx\0y,3\n";
		char *buf = xmalloc(sizeof(text));
		struct csv_reader r;
		struct error err = ERROR_INIT;
		char *f[4];
		size_t n;

		memcpy(buf, text, sizeof(text));
		csv_reader_init(&r, buf, sizeof(text) - 1, "nul.csv");
		assert_int_equal(csv_next_row(&r, f, 4, &n, &err), 1);
		assert_int_equal(csv_next_row(&r, f, 4, &n, &err), 1);
		assert_int_equal(csv_next_row(&r, f, 4, &n, &err), FRUGAL_EINVAL);
		assert_non_null(strstr(err.msg, "nul.csv:3: NUL byte"));
		free(buf);
	}
}

/* ---- loader -------------------------------------------------------------- */

#define AWS_HEADER "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo," \
	"Price,SpotPrice,Region,AvailabilityZone,Arch\n"
#define RUNPOD_HEADER "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Region," \
	"SpotPrice,Price,AvailabilityZone,GpuInfo\n"
#define LAMBDA_HEADER "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Price," \
	"Region,GpuInfo,SpotPrice\r\n"
#define GCP_HEADER "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo," \
	"Region,AvailabilityZone,Price,SpotPrice\n"

static const struct offer *find_offer(const struct catalog *cat, const char *instance,
				      const char *zone)
{
	size_t n, i;
	const struct offer *o = catalog_offers(cat, &n);

	for (i = 0; i < n; i++)
		if (!strcmp(o[i].instance_type, instance) && (!zone || !strcmp(o[i].zone, zone)))
			return &o[i];
	return NULL;
}

static size_t count_offers(const struct catalog *cat, const char *instance)
{
	size_t n, i, k = 0;
	const struct offer *o = catalog_offers(cat, &n);

	for (i = 0; i < n; i++)
		if (!instance || !strcmp(o[i].instance_type, instance))
			k++;
	return k;
}

static void add_ok(struct catalog *cat, enum backend_id cloud, const char *text)
{
	struct error err = ERROR_INIT;

	if (catalog_add_buffer(cat, cloud, "t.csv", text, strlen(text), &err) != 0)
		fail_msg("load failed: %s", error_msg(&err));
}

static void add_bad(enum backend_id cloud, const char *text, const char *want)
{
	struct catalog *cat = catalog_new();
	struct error err = ERROR_INIT;
	size_t n;

	assert_int_equal(catalog_add_buffer(cat, cloud, "t.csv", text, strlen(text), &err),
			 FRUGAL_EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("'%s' not in '%s'", want, err.msg);
	catalog_offers(cat, &n);
	assert_int_equal(n, 0);
	catalog_tables(cat, &n);
	assert_int_equal(n, 0);
	catalog_free(cat);
}

static void test_loader_columns_by_name(void **state)
{
	struct catalog *cat = catalog_new();
	const struct offer *a, *r, *l;
	const char *info = "\"{'Gpus': [{'Name': 'A100', 'Manufacturer': 'NVIDIA', 'Count': 8,"
			   " 'MemoryInfo': {'SizeInMiB': 40960}}], 'TotalGpuMemoryInMiB': 327680}\"";
	struct strbuf aws = STRBUF_INIT;
	size_t n;

	(void)state;
	strbuf_addf(&aws, AWS_HEADER "p4d.24xlarge,A100,8.0,96.0,1152.0,%s,21.957642,6.289000,"
		    "us-east-1,use1-az1,x86_64\n", info);
	add_ok(cat, BACKEND_AWS, aws.buf);
	/* Runpod orders its columns differently. */
	add_ok(cat, BACKEND_RUNPOD, RUNPOD_HEADER
	       "8x_A100-80GB_SECURE,A100-80GB,8.0,64.0,1000.0,US,6.56,13.12,US-TX-1,\"{'Gpus':"
	       " [{'Name': 'A100 PCIe', 'Count': 8, 'MemoryInfo': {'SizeInMiB': 80}}],"
	       " 'TotalGpuMemoryInMiB': 640}\"\n");
	/* Lambda: CRLF, no zone column, empty SpotPrice. */
	add_ok(cat, BACKEND_LAMBDA, LAMBDA_HEADER
	       "gpu_8x_v100,V100,8.0,88.0,448.0,6.32,us-east-1,\"{'Gpus': [{'Name': 'V100',"
	       " 'Count': 8.0, 'MemoryInfo': {'SizeInMiB': 16384}}], 'TotalGpuMemoryInMiB':"
	       " 16384}\",\r\n"
	       "cpu_4x_general,,,4.0,16.0,0.2,us-east-1,,\r\n");

	a = find_offer(cat, "p4d.24xlarge", NULL);
	assert_non_null(a);
	assert_int_equal(a->backend, BACKEND_AWS);
	assert_string_equal(a->accel, "A100");
	assert_true(a->accel_count == 8);
	assert_true(a->vcpus == 96 && a->mem_gib == 1152);
	assert_true(fabs(a->price - 21.957642) < 1e-12);
	assert_true(fabs(a->spot_price - 6.289) < 1e-12);
	assert_string_equal(a->region, "us-east-1");
	assert_string_equal(a->zone, "use1-az1");
	assert_true(a->gpu_mem_gib == 40);

	r = find_offer(cat, "8x_A100-80GB_SECURE", NULL);
	assert_non_null(r);
	assert_true(r->price == 13.12 && r->spot_price == 6.56);
	assert_string_equal(r->region, "US");
	assert_string_equal(r->zone, "US-TX-1");
	assert_true(r->gpu_mem_gib == 80);	/* Runpod writes GB in SizeInMiB */

	l = find_offer(cat, "gpu_8x_v100", NULL);
	assert_non_null(l);
	assert_true(l->price == 6.32);
	assert_true(l->spot_price < 0);		/* empty: not offered as spot */
	assert_string_equal(l->zone, "");
	assert_string_equal(l->region, "us-east-1");
	assert_true(l->gpu_mem_gib == 16);
	l = find_offer(cat, "cpu_4x_general", NULL);
	assert_non_null(l);
	assert_string_equal(l->accel, "");
	assert_int_equal(l->accel_id, 0);
	assert_true(l->accel_count == 0);

	/* Regions are interned: equal names are one pointer. */
	assert_ptr_equal(a->region, find_offer(cat, "gpu_8x_v100", NULL)->region);
	assert_int_equal(catalog_n_accels(cat), 4);	/* "", A100, A100-80GB, V100 */
	catalog_tables(cat, &n);
	assert_int_equal(n, 3);
	strbuf_release(&aws);
	catalog_free(cat);
}

static void test_loader_prices_and_errors(void **state)
{
	struct catalog *cat = catalog_new();
	const struct offer *o;

	(void)state;
	/* Empty Price: spot only; both empty: not offered at all. */
	add_ok(cat, BACKEND_AWS, AWS_HEADER
	       "p5e.48xlarge,H200,8.0,192.0,2048.0,,,12.5,us-east-1,use1-az1,x86_64\n"
	       "trn1.32xlarge,Trainium,16.0,128.0,512.0,,,,us-east-1,use1-az1,x86_64\n"
	       "g5.xlarge,A10G,1.0,4.0,16.0,,1.006,,us-east-1,use1-az1,x86_64\n");
	o = find_offer(cat, "p5e.48xlarge", NULL);
	assert_non_null(o);
	assert_true(o->price < 0 && o->spot_price == 12.5);
	assert_null(find_offer(cat, "trn1.32xlarge", NULL));
	o = find_offer(cat, "g5.xlarge", NULL);
	assert_true(o->price == 1.006 && o->spot_price < 0);
	assert_true(o->gpu_mem_gib == 0);	/* no GpuInfo */
	catalog_free(cat);

	add_bad(BACKEND_AWS, "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,"
		"SpotPrice,Region\nx,,,1,1,0.1,r\n", "t.csv:1: missing column 'Price'");
	add_bad(BACKEND_AWS, AWS_HEADER "g5.xlarge,A10G,1.0,4.0,16.0,,1.006,0.4,us-east-1,"
		"use1-az1,x86_64\ng5.2xlarge,A10G,1.0,8.0,32.0,,1.2,0.5,us-east-1,use1-az1\n",
		"t.csv:3: 10 fields but the header has 11");
	add_bad(BACKEND_AWS, AWS_HEADER "g5.xlarge,A10G,1.0,4.0,16.0,,cheap,0.4,us-east-1,"
		"use1-az1,x86_64\n", "t.csv:2: column Price: 'cheap' is not a non-negative number");
	add_bad(BACKEND_AWS, AWS_HEADER "g5.xlarge,A10G,1.0,4.0,16.0,,-1,0.4,us-east-1,"
		"use1-az1,x86_64\n", "t.csv:2: column Price");
	add_bad(BACKEND_AWS, AWS_HEADER "g5.xlarge,A10G,1.0,4.0,16.0,\"{open,1.0,0.4,us-east-1,"
		"use1-az1,x86_64\n", "t.csv:2: a quoted field is not closed");
	add_bad(BACKEND_AWS, "", "t.csv:1: the table is empty");
	add_bad(BACKEND_AWS, "Price,Price\n", "column 'Price' appears twice");
	add_bad(BACKEND_AWS, AWS_HEADER "g5.xlarge,A10G,1.0,4.0,16.0,,1.0,0.4,,use1-az1,x86\n",
		"t.csv:2: column Region is empty");

	/* A failed table leaves what was loaded before intact. */
	cat = catalog_new();
	add_ok(cat, BACKEND_AWS, AWS_HEADER "g5.xlarge,A10G,1.0,4.0,16.0,,1.006,0.4,us-east-1,"
	       "use1-az1,x86_64\n");
	{
		struct error err = ERROR_INIT;
		const char *bad = AWS_HEADER "g6.xlarge,L4,1.0,4.0,16.0,,0.8,0.3,us-east-1,"
				  "use1-az1,x86_64\ng6.2xlarge,L4,1\n";
		size_t n;

		assert_int_equal(catalog_add_buffer(cat, BACKEND_AWS, "bad.csv", bad, strlen(bad),
						    &err), FRUGAL_EINVAL);
		assert_non_null(strstr(err.msg, "bad.csv:3:"));
		assert_int_equal(count_offers(cat, NULL), 1);
		catalog_tables(cat, &n);
		assert_int_equal(n, 1);
	}
	catalog_free(cat);

	/* check_buffer: a table must have at least one offer. */
	{
		struct error err = ERROR_INIT;
		const char *one = AWS_HEADER "g5.xlarge,A10G,1.0,4.0,16.0,,1.0,0.4,us-east-1,"
				  "use1-az1,x86_64\n";
		size_t rows = 99;

		assert_int_equal(catalog_check_buffer(BACKEND_AWS, "empty.csv", AWS_HEADER,
						      strlen(AWS_HEADER), &rows, &err), FRUGAL_EINVAL);
		assert_non_null(strstr(err.msg, "empty.csv: no offers"));
		assert_int_equal(catalog_check_buffer(BACKEND_AWS, "ok.csv", one, strlen(one),
						      &rows, &err), 0);
		assert_int_equal(rows, 1);
	}
}

static void test_gcp_vm_plus_gpu(void **state)
{
	struct catalog *cat = catalog_new();
	const struct offer *o;
	size_t n, i, t4 = 0, v100 = 0;
	const struct offer *all;

	(void)state;
	add_ok(cat, BACKEND_GCP, GCP_HEADER
	       "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-a,0.73948,0.36975\n"
	       "a2-highgpu-1g,12.0,85.0,,,,us-central1,us-central1-b,0.73948,0.36975\n"
	       ",,,A100,1,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 40960}}]},us-central1,"
	       "us-central1-a,2.93391,1.4341\n"
	       "g2-standard-24,24.0,96.0,,,,us-central1,us-central1-a,1.0,0.4\n"
	       ",,,L4,2,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 24576}}]},us-central1,"
	       "us-central1-a,1.2,0.5\n"
	       "n1-standard-8,8.0,30.0,,,,us-central1,us-central1-a,0.38,0.11605\n"
	       "n1-standard-16,16.0,60.0,,,,us-central1,us-central1-a,0.76,0.2321\n"
	       ",,,T4,1,{'Gpus': [{'MemoryInfo': {'SizeInMiB': 16384}}]},us-central1,"
	       "us-central1-a,0.35,0.175\n"
	       ",,,V100,1,,us-central1,us-central1-a,2.48,\n"
	       ",,,V100,2,,us-central1,us-central1-a,4.96,1.9\n"
	       ",,,tpu-v2-8,1,tpu-v2-8,us-central1,us-central1-a,4.5,1.35\n");
	/* a2-highgpu-1g = VM + one A100, priced together, only where the GPU is. */
	o = find_offer(cat, "a2-highgpu-1g", "us-central1-a");
	assert_non_null(o);
	assert_string_equal(o->accel, "A100");
	assert_true(o->accel_count == 1);
	assert_true(fabs(o->price - 3.67339) < 1e-9);
	assert_true(fabs(o->spot_price - 1.80385) < 1e-9);
	assert_true(o->gpu_mem_gib == 40 && o->vcpus == 12);
	assert_null(find_offer(cat, "a2-highgpu-1g", "us-central1-b"));
	o = find_offer(cat, "g2-standard-24", NULL);
	assert_non_null(o);
	assert_true(o->accel_count == 2 && fabs(o->price - 2.2) < 1e-9);
	/* n1 VMs alone, with T4 (any of these sizes) and V100 (within the vCPU limits). */
	all = catalog_offers(cat, &n);
	for (i = 0; i < n; i++) {
		if (!strcmp(all[i].accel, "T4"))
			t4++;
		if (!strcmp(all[i].accel, "V100")) {
			v100++;
			if (!strcmp(all[i].instance_type, "n1-standard-16"))
				assert_true(all[i].accel_count == 2);	/* 16 vCPUs > 12 for one */
			if (all[i].accel_count == 1)
				assert_true(all[i].spot_price < 0);	/* GPU has no spot price */
		}
		assert_null(strstr(all[i].accel, "tpu"));		/* TPUs are not offers */
	}
	assert_int_equal(t4, 2);
	assert_int_equal(v100, 3);	/* n1-standard-8 x {1,2}, n1-standard-16 x 2 */
	o = find_offer(cat, "n1-standard-8", NULL);
	assert_string_equal(o->accel, "");	/* the VM alone comes first */
	assert_true(o->price == 0.38);
	catalog_free(cat);
}

/* The tables the project ships load, and hold what SOURCE.md says. */
static void test_shipped_tables(void **state)
{
	const char *src = getenv("FRUGAL_SRC");
	struct catalog *cat = catalog_new();
	struct error err = ERROR_INIT;
	const struct catalog_table *t;
	const struct offer *o;
	char *path;
	size_t n, i;
	static const size_t rows[] = { 2131, 1880, 408, 5125 };

	(void)state;
	if (!src)
		skip();
	enum backend_id clouds[BACKEND_MAX];
	size_t n_clouds = catalog_clouds(clouds);

	assert_int_equal(n_clouds, 4);
	for (i = 0; i < n_clouds; i++) {
		path = xasprintf("%s/catalog/%s/vms.csv", src, backend_id_name(clouds[i]));
		if (catalog_add_file(cat, clouds[i], path, CATALOG_SRC_SHIPPED, &err) < 0)
			fail_msg("%s", error_msg(&err));
		free(path);
	}
	t = catalog_tables(cat, &n);
	assert_int_equal(n, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(t[i].rows, rows[i]);
		assert_true(t[i].offers > 100);
		assert_true(t[i].mtime_ms > 0);
	}
	o = find_offer(cat, "p4d.24xlarge", "use1-az1");
	assert_non_null(o);
	assert_true(fabs(o->price - 21.957642) < 1e-9 && fabs(o->spot_price - 6.289) < 1e-9);
	o = find_offer(cat, "a2-highgpu-1g", "us-central1-a");
	assert_non_null(o);
	assert_true(fabs(o->price - 3.67339) < 1e-9);
	/* Lambda's CRLF: no '\r' left at the end of a row. */
	o = find_offer(cat, "gpu_1x_gh200", NULL);
	assert_non_null(o);
	assert_string_equal(o->accel, "GH200");
	assert_true(o->spot_price < 0 && o->price == 2.29);
	o = find_offer(cat, "1x_RTX4090_SECURE", "US-TX-1");
	assert_non_null(o);
	assert_true(o->price == 0.59 && o->spot_price == 0.29 && o->gpu_mem_gib == 24);
	catalog_free(cat);
}

/* ---- accelerators ---------------------------------------------------------- */

static void test_accel_names(void **state)
{
	char buf[32];

	(void)state;
	accel_normalize("a100-80gb", buf, sizeof(buf));
	assert_string_equal(buf, "A10080GB");
	accel_normalize("RTX 4090", buf, 5);
	assert_string_equal(buf, "RTX4");

	assert_true(accel_matches("A100", "A100"));
	assert_true(accel_matches("a100", "A100"));
	assert_true(accel_matches("A100-40GB", "A100"));
	assert_false(accel_matches("A100", "A100-80GB"));
	assert_false(accel_matches("A100-80GB", "A100"));
	assert_true(accel_matches("a100-80gb", "A100-80GB"));
	assert_true(accel_matches("A100 80GB", "A100-80GB-SXM"));
	assert_true(accel_matches("H100", "H100"));
	assert_true(accel_matches("h100", "H100-SXM"));
	assert_true(accel_matches("H100", "H100-MEGA"));
	assert_false(accel_matches("H100", "H100-NVL"));
	assert_false(accel_matches("H100-SXM", "H100"));
	assert_true(accel_matches("H200", "H200-SXM"));
	assert_true(accel_matches("H200-NVL", "NVIDIA-H200-NVL"));
	assert_true(accel_matches("L4", "L4"));
	assert_false(accel_matches("L4", "L40S"));
	assert_false(accel_matches("L40", "L40S"));
	assert_true(accel_matches("l40s", "L40S"));
	assert_true(accel_matches("T4", "T4"));
	assert_false(accel_matches("T4", "T4g"));
	assert_true(accel_matches("V100", "V100"));
	assert_false(accel_matches("V100", "V100-32GB"));
	assert_true(accel_matches("A10G", "A10G"));
	assert_false(accel_matches("A10", "A10G"));
	assert_false(accel_matches("A10G", "A10"));
	assert_true(accel_matches("RTX4090", "RTX4090"));
	assert_true(accel_matches("rtx-4090", "RTX4090"));
	assert_true(accel_matches("4090", "RTX4090"));
	assert_true(accel_matches("A6000", "RTXA6000"));
	assert_true(accel_matches("RTXA6000", "A6000"));
	assert_false(accel_matches("RTX6000", "RTX6000-Ada"));
	assert_true(accel_matches("rtx6000-ada", "RTX6000-Ada"));
	assert_false(accel_matches("", "A100"));
	assert_false(accel_matches("A100", ""));
}

/* ---- billing ---------------------------------------------------------------- */

static const char *rule_text(const char *backend)
{
	static char buf[64];

	billing_rule_text(billing_rule_for(backend), buf, sizeof(buf));
	return buf;
}

static void test_billing(void **state)
{
	(void)state;
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 0), 0);
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 1), 60);
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 59), 60);
	assert_int_equal(billed_seconds(billing_rule_for("aws"), 61), 61);
	assert_int_equal(billed_seconds(billing_rule_for("gcp"), 30), 60);
	assert_int_equal(billed_seconds(billing_rule_for("gcp"), 3601), 3601);
	assert_int_equal(billed_seconds(billing_rule_for("lambda"), 1), 60);
	assert_int_equal(billed_seconds(billing_rule_for("lambda"), 60), 60);
	assert_int_equal(billed_seconds(billing_rule_for("lambda"), 61), 120);
	assert_int_equal(billed_seconds(billing_rule_for("runpod"), 1), 1);
	assert_int_equal(billed_seconds(billing_rule_for("runpod"), 61), 61);
	assert_int_equal(billed_seconds(billing_rule_for("local"), 5), 5);
	assert_int_equal(billed_seconds(billing_rule_for("slurm"), -5), 0);
	assert_int_equal(billed_seconds(billing_rule_for(NULL), 7), 7);
	assert_true(fabs(billing_cost(billing_rule_for("aws"), 3.6, 10) - 0.06) < 1e-12);	/* 60 s minimum */
	assert_true(fabs(billing_cost(billing_rule_for("lambda"), 1.2, 90) - 0.04) < 1e-12);	/* 2 minutes */
	assert_true(fabs(billing_cost(billing_rule_for("runpod"), 3.6, 10) - 0.01) < 1e-12);
	assert_true(fabs(billing_cost(billing_rule_for("local"), 2.0, 6 * 3600) - 12.0) < 1e-12);
	assert_non_null(strstr(rule_text("aws"), "60 s minimum"));
	assert_non_null(strstr(rule_text("lambda"), "minute"));
	assert_string_equal(rule_text("runpod"), "per second");
}

/* ---- where tables are found, local offers, credentials ---------------------- */

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/frugal-test-catalog.XXXXXX";

	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void write_file(const char *path, const char *text)
{
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0644, 1, NULL), 0);
}

static void test_find_table(void **state)
{
	char *home = tmpdir(), *dir = xasprintf("%s/catalog/lambda", home), *p, *want;
	enum catalog_source src = CATALOG_SRC_BUFFER;

	(void)state;
	/* Nothing in the home: the shipped table. */
	p = catalog_find_table(home, BACKEND_LAMBDA, &src);
	assert_non_null(p);
	assert_int_equal(src, CATALOG_SRC_SHIPPED);
	assert_non_null(strstr(p, "/catalog/lambda/vms.csv"));
	free(p);
	/* A table in the home wins. */
	assert_int_equal(fs_mkdir_p(dir, 0700, NULL), 0);
	want = xasprintf("%s/vms.csv", dir);
	write_file(want, LAMBDA_HEADER "gpu_1x_a10,A10,1.0,30.0,200.0,0.75,us-east-1,,\r\n");
	p = catalog_find_table(home, BACKEND_LAMBDA, &src);
	assert_string_equal(p, want);
	assert_int_equal(src, CATALOG_SRC_HOME);
	free(p);
	{
		struct catalog *cat = catalog_new();
		struct error err = ERROR_INIT;
		const struct catalog_table *t;
		size_t n;

		assert_int_equal(catalog_load(cat, home, &err), 0);
		t = catalog_tables(cat, &n);
		assert_int_equal(n, 4);
		assert_int_equal(t[2].cloud, BACKEND_LAMBDA);
		assert_int_equal(t[2].source, CATALOG_SRC_HOME);
		assert_int_equal(t[2].rows, 1);
		assert_int_equal(t[0].source, CATALOG_SRC_SHIPPED);
		catalog_free(cat);

		/* A broken table in the home is an error naming file:line. */
		write_file(want, LAMBDA_HEADER "gpu_1x_a10,A10,1.0\r\n");
		cat = catalog_new();
		assert_int_equal(catalog_load(cat, home, &err), FRUGAL_EINVAL);
		assert_non_null(strstr(err.msg, "lambda/vms.csv:2: 3 fields"));
		catalog_free(cat);
	}
	assert_int_equal(fs_remove_tree(home, NULL), 0);
	free(want);
	free(dir);
	free(home);
}

static void test_local_offers(void **state)
{
	struct config cfg;
	struct catalog *cat = catalog_new();
	const struct offer *o;
	size_t n;

	(void)state;
	config_init(&cfg);
	cfg.local.gpu_type = xstrdup("RTX4090");
	cfg.local.price_per_gpu_hour = 0.4;
	cfg.local.price_per_hour = 0.05;
	cfg.local.cpus = 16;
	cfg.local.memory = 64;
	cfg.local.gpus_auto = 0;
	cfg.local.n_gpu_ids = 2;
	cfg.local.gpu_ids = xcalloc(2, sizeof(char *));
	cfg.local.gpu_ids[0] = xstrdup("0");
	cfg.local.gpu_ids[1] = xstrdup("1");
	assert_int_equal(catalog_local_pool_size(&cfg), 2);
	catalog_add_local(cat, &cfg, 2);
	o = catalog_offers(cat, &n);
	assert_int_equal(n, 3);
	assert_string_equal(o[0].instance_type, "local-cpu");
	assert_true(o[0].price == 0.05 && o[0].accel_id == 0);
	assert_string_equal(o[2].instance_type, "local-2xRTX4090");
	assert_string_equal(o[2].accel, "RTX4090");
	assert_true(o[2].accel_count == 2 && fabs(o[2].price - 0.8) < 1e-12);
	assert_true(o[2].spot_price < 0 && o[2].vcpus == 16 && o[2].mem_gib == 64);
	assert_string_equal(o[2].region, "local");
	assert_int_equal(o[2].backend, BACKEND_LOCAL);
	config_release(&cfg);
	catalog_free(cat);
}

static void test_credentials(void **state)
{
	char *home = tmpdir(), *old_home = xstrdup(getenv("HOME") ? getenv("HOME") : "");
	char *p;
	struct config cfg;

	(void)state;
	config_init(&cfg);
	setenv("HOME", home, 1);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_CONFIG_FILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	unsetenv("LAMBDA_API_KEY");
	unsetenv("RUNPOD_API_KEY");
	assert_true(catalog_backend_configured(BACKEND_LOCAL, &cfg));
	assert_false(catalog_backend_configured(BACKEND_AWS, &cfg));
	assert_false(catalog_backend_configured(BACKEND_GCP, &cfg));
	assert_false(catalog_backend_configured(BACKEND_LAMBDA, &cfg));
	assert_false(catalog_backend_configured(BACKEND_RUNPOD, &cfg));
	assert_false(catalog_backend_configured(BACKEND_SLURM, &cfg));
	setenv("AWS_ACCESS_KEY_ID", "AKIA", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	setenv("RUNPOD_API_KEY", "rp", 1);
	assert_true(catalog_backend_configured(BACKEND_AWS, &cfg));
	assert_true(catalog_backend_configured(BACKEND_RUNPOD, &cfg));
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("RUNPOD_API_KEY");
	p = xasprintf("%s/.lambda_cloud", home);
	assert_int_equal(fs_mkdir_p(p, 0700, NULL), 0);
	free(p);
	p = xasprintf("%s/.lambda_cloud/lambda_keys", home);
	write_file(p, "api_key = x\n");
	free(p);
	assert_true(catalog_backend_configured(BACKEND_LAMBDA, &cfg));
	assert_non_null(strstr(catalog_backend_setup_hint(BACKEND_GCP), "GOOGLE_APPLICATION"));
	assert_int_equal(backend_id_from_name("AWS"), BACKEND_AWS);
	assert_int_equal(backend_id_from_name("k8s"), BACKEND_KUBERNETES);
	assert_int_equal(backend_id_from_name("azure"), -1);
	setenv("HOME", old_home, 1);
	assert_int_equal(fs_remove_tree(home, NULL), 0);
	free(home);
	free(old_home);
	config_release(&cfg);
}

/* ---- update from file:// URLs ------------------------------------------------ */

static void test_update(void **state)
{
	char *home = tmpdir(), *srv = tmpdir(), *p, *base, *table;
	struct catalog_update_result res[BACKEND_MAX];
	const enum backend_id lambda_only[] = { BACKEND_LAMBDA };
	struct catalog_update_opts uo = { NULL, 10, lambda_only, 1 };
	struct catalog_origin origin;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;
	const char *good1 = LAMBDA_HEADER "gpu_1x_a10,A10,1.0,30.0,200.0,0.75,us-east-1,,\r\n";
	const char *good2 = LAMBDA_HEADER "gpu_1x_a10,A10,1.0,30.0,200.0,0.80,us-east-1,,\r\n"
			    "gpu_1x_h100_pcie,H100,1.0,26.0,200.0,2.49,us-east-1,,\r\n";

	(void)state;
	base = xasprintf("file://%s/", srv);
	uo.base_url = base;
	p = xasprintf("%s/lambda", srv);
	assert_int_equal(fs_mkdir_p(p, 0700, NULL), 0);
	free(p);
	table = xasprintf("%s/lambda/vms.csv", srv);

	write_file(table, good1);
	assert_int_equal(catalog_update(home, &uo, res, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(res[0].rows, 1);
	catalog_update_result_release(&res[0]);
	p = xasprintf("%s/catalog/lambda/vms.csv", home);
	assert_int_equal(fs_read_file(p, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, good1);
	catalog_origin_read(p, &origin);
	assert_non_null(origin.origin);
	assert_non_null(strstr(origin.origin, "/lambda/vms.csv"));
	assert_true(origin.fetched_ms > 0);
	catalog_origin_release(&origin);

	/* A malformed table: refused with URL:line, the installed one stays. */
	write_file(table, LAMBDA_HEADER "gpu_1x_a10,A10,1.0,30.0,200.0,0.75,us-east-1,,\r\n"
		   "gpu_1x_h100_pcie,H100,1.0,26.0\r\n");
	assert_int_equal(catalog_update(home, &uo, res, &n, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "/lambda/vms.csv:3: 4 fields but the header has 9"));
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(p, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, good1);

	/* A missing table (404 for http, no file here) is refused too. */
	uo.clouds = NULL;
	uo.n_clouds = 0;
	assert_true(catalog_update(home, &uo, res, &n, &err) < 0);
	assert_non_null(strstr(err.msg, "aws/vms.csv"));
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(p, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, good1);

	/* A good one replaces it. */
	uo.clouds = lambda_only;
	uo.n_clouds = 1;
	write_file(table, good2);
	assert_int_equal(catalog_update(home, &uo, res, &n, &err), 0);
	assert_int_equal(res[0].rows, 2);
	catalog_update_result_release(&res[0]);
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(p, 0, &sb, NULL), 0);
	assert_string_equal(sb.buf, good2);

	strbuf_release(&sb);
	assert_int_equal(fs_remove_tree(home, NULL), 0);
	assert_int_equal(fs_remove_tree(srv, NULL), 0);
	free(p);
	free(table);
	free(base);
	free(home);
	free(srv);
}

int main(void);
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_loader_columns_by_name),
		cmocka_unit_test(test_loader_prices_and_errors),
		cmocka_unit_test(test_gcp_vm_plus_gpu),
		cmocka_unit_test(test_shipped_tables),
		cmocka_unit_test(test_accel_names),
		cmocka_unit_test(test_billing),
		cmocka_unit_test(test_find_table),
		cmocka_unit_test(test_local_offers),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_update),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
