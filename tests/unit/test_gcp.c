/*
 * Unit tests for the Compute Engine side of the gcp backend: the
 * instances.insert bodies gce_instance_body builds, checked against the
 * Instance schema of the Compute v1 discovery document (by
 * tests/fakes/gcp_fake.py --check-schema, which reads
 * ../shared/specs/google-api-nodejs-client/discovery/compute-v1.json);
 * the API's answers (libcloud's recorded GCE responses in
 * ../shared/specs/libcloud/compute/fixtures/gce) and error documents;
 * the boot script (bash -n) and the secrets file (sourced by bash).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "gcp_fake.h"
#include "backend/gcp/gce.h"
#include "backend/gcp/boot.h"

/* Check doc against a discovery schema: 0 when it conforms, 1 when not
 * (the problems printed), -1 when the checker cannot run. */
static int schema_check(json_t *doc, const char *schema)
{
	char *disc = gfake_discovery(), *fake = gfake_src("tests/fakes/gcp_fake.py");
	char dir[64], *path, *cmd;
	int r;

	if (!disc || gfake_sh("command -v python3 >/dev/null") != 0) {
		free(disc);
		free(fake);
		return -1;
	}
	snprintf(dir, sizeof(dir), "/tmp/frugal-test-gcp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/body.json", dir);
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
	cmd = xasprintf("python3 %s --discovery %s --check-schema %s %s", fake, disc, schema, path);
	r = gfake_sh(cmd);
	fs_remove_tree(dir, NULL);
	free(cmd);
	free(path);
	free(disc);
	free(fake);
	return r;
}

/* A spec as the gcp backend fills it for a spot T4 VM with a data disk. */
static void spot_t4_spec(struct gce_instance_spec *s, struct kvlist *labels, struct kvlist *meta)
{
	memset(s, 0, sizeof(*s));
	kvlist_set(labels, "frugal-job", "k3m9xq");
	kvlist_set(labels, "frugal-attempt", "2");
	kvlist_set(labels, "frugal-owner", "alice-0badf00d");
	kvlist_set(meta, "startup-script", "#!/bin/bash\necho hi\n");
	kvlist_set(meta, "frugal-agent-json", "{}");
	kvlist_set(meta, "install-nvidia-driver", "True");
	s->name = "frugal-k3m9xq-2-0badf00d";
	s->description = "frugal job k3m9xq attempt 2";
	s->zone = "us-central1-a";
	s->machine_type = "n1-standard-8";
	s->accelerator = gce_accelerator_type("T4");
	s->accelerator_count = 1;
	s->gpus = 1;
	s->spot = 1;
	s->max_run_s = 24 * 3600 + 930;
	s->image = "projects/deeplearning-platform-release/global/images/family/common-cu124-debian-11-py310";
	s->disk_gb = 100;
	s->disk_type = "pd-balanced";
	s->external_ip = 1;
	s->data_disk = "projects/p/zones/us-central1-a/disks/dataset";
	s->data_device = "frugal-data";
	s->labels = labels;
	s->metadata = meta;
}

static void test_insert_body_spot_gpu(void **state)
{
	struct gce_instance_spec s;
	struct kvlist labels = { 0 }, meta = { 0 };
	json_t *b, *sched, *disks, *acc;
	int r;

	(void)state;
	spot_t4_spec(&s, &labels, &meta);
	b = gce_instance_body(&s);
	sched = json_object_get(b, "scheduling");
	assert_string_equal(json_string_value(json_object_get(sched, "provisioningModel")), "SPOT");
	assert_string_equal(json_string_value(json_object_get(sched, "instanceTerminationAction")),
			    "DELETE");
	assert_string_equal(json_string_value(json_object_get(sched, "onHostMaintenance")),
			    "TERMINATE");
	assert_true(json_is_false(json_object_get(sched, "automaticRestart")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(sched,
			    "maxRunDuration"), "seconds")), "87330");
	assert_string_equal(json_string_value(json_object_get(b, "machineType")),
			    "zones/us-central1-a/machineTypes/n1-standard-8");
	acc = json_array_get(json_object_get(b, "guestAccelerators"), 0);
	assert_string_equal(json_string_value(json_object_get(acc, "acceleratorType")),
			    "zones/us-central1-a/acceleratorTypes/nvidia-tesla-t4");
	assert_int_equal(json_integer_value(json_object_get(acc, "acceleratorCount")), 1);
	disks = json_object_get(b, "disks");
	assert_int_equal(json_array_size(disks), 2);
	assert_true(json_is_true(json_object_get(json_array_get(disks, 0), "autoDelete")));
	assert_true(json_is_true(json_object_get(json_array_get(disks, 0), "boot")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(disks, 0),
			    "initializeParams"), "diskSizeGb")), "100");
	assert_string_equal(json_string_value(json_object_get(json_array_get(disks, 1), "mode")),
			    "READ_ONLY");
	assert_true(json_is_false(json_object_get(json_array_get(disks, 1), "autoDelete")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "labels"),
			    "frugal-attempt")), "2");
	assert_int_equal(json_array_size(json_object_get(json_object_get(b, "metadata"), "items")),
			 3);
	r = schema_check(b, "Instance");
	json_decref(b);
	kvlist_release(&labels);
	kvlist_release(&meta);
	if (r < 0)
		skip();
	assert_int_equal(r, 0);
}

/* The task's gce-disk volumes (docs/DATA.md): each disk in disks[] as
 * {source projects/P/zones/Z/disks/NAME, mode READ_ONLY, autoDelete
 * false, deviceName frugal-vol-INDEX, boot false}, after the boot disk, a
 * valid Instance; gce_disk_ref takes ZONE/NAME, or NAME with a zone. */
static void test_insert_body_volumes(void **state)
{
	struct gce_attached_disk vols[2] = {
		{ "projects/frugal-test/zones/us-central1-a/disks/imagenet", "frugal-vol-0" },
		{ "projects/frugal-test/zones/us-central1-a/disks/audio", "frugal-vol-2" },
	};
	struct gce_instance_spec s;
	struct kvlist labels = { 0 }, meta = { 0 };
	json_t *b, *disks, *d;
	char *zone = NULL, *name = NULL;
	size_t i;
	int r;

	(void)state;
	spot_t4_spec(&s, &labels, &meta);
	s.data_disk = NULL;
	s.volumes = vols;
	s.n_volumes = 2;
	b = gce_instance_body(&s);
	disks = json_object_get(b, "disks");
	assert_int_equal(json_array_size(disks), 3);
	assert_true(json_is_true(json_object_get(json_array_get(disks, 0), "boot")));
	for (i = 0; i < 2; i++) {
		d = json_array_get(disks, i + 1);
		assert_string_equal(json_string_value(json_object_get(d, "source")), vols[i].source);
		assert_string_equal(json_string_value(json_object_get(d, "deviceName")),
				    vols[i].device);
		assert_string_equal(json_string_value(json_object_get(d, "mode")), "READ_ONLY");
		assert_true(json_is_false(json_object_get(d, "autoDelete")));
		assert_true(json_is_false(json_object_get(d, "boot")));
		assert_string_equal(json_string_value(json_object_get(d, "type")), "PERSISTENT");
		assert_null(json_object_get(d, "initializeParams"));
	}
	r = schema_check(b, "Instance");
	json_decref(b);
	kvlist_release(&labels);
	kvlist_release(&meta);

	assert_int_equal(gce_disk_ref("us-east1-b/imagenet", NULL, &zone, &name), 0);
	assert_string_equal(zone, "us-east1-b");
	assert_string_equal(name, "imagenet");
	free(zone);
	free(name);
	assert_int_equal(gce_disk_ref("imagenet", "europe-west4-a", &zone, &name), 0);
	assert_string_equal(zone, "europe-west4-a");
	free(zone);
	free(name);
	assert_int_equal(gce_disk_ref("imagenet", NULL, &zone, &name), -1);
	assert_null(zone);
	assert_int_equal(gce_disk_ref("us-east1-b/Big_Disk", NULL, &zone, &name), -1);
	assert_int_equal(gce_disk_ref("a/b/c", NULL, &zone, &name), -1);
	assert_int_equal(gce_disk_ref("zone/", NULL, &zone, &name), -1);
	assert_int_equal(gce_disk_ref("disk-", "z", &zone, &name), -1);
	if (r < 0)
		skip();
	assert_int_equal(r, 0);
}

/* The firewall rule of an attempt's ports: TCP on each entry (a range as
 * LOW-HIGH) from anywhere to the attempt's tag, a valid Firewall; the VM
 * given that tag carries it in tags.items, and none without one. */
static void test_firewall_body_ports_to_tag(void **state)
{
	struct port_range ports[2] = { { 8080, 8080 }, { 6006, 6010 } };
	struct gce_firewall_spec fs = { "frugal-0badf00d-k3m9xq-2", "frugal job k3m9xq attempt 2",
					NULL, "frugal-0badf00d-k3m9xq-2", ports, 2 };
	struct gce_instance_spec s;
	struct kvlist labels = { 0 }, meta = { 0 };
	json_t *b, *allowed, *vm;
	int r;

	(void)state;
	b = gce_firewall_body(&fs);
	assert_string_equal(json_string_value(json_object_get(b, "direction")), "INGRESS");
	assert_string_equal(json_string_value(json_object_get(b, "network")),
			    "global/networks/default");
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "sourceRanges"), 0)),
			    "0.0.0.0/0");
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "targetTags"), 0)),
			    "frugal-0badf00d-k3m9xq-2");
	allowed = json_array_get(json_object_get(b, "allowed"), 0);
	assert_string_equal(json_string_value(json_object_get(allowed, "IPProtocol")), "tcp");
	assert_string_equal(json_string_value(json_array_get(json_object_get(allowed, "ports"), 0)),
			    "8080");
	assert_string_equal(json_string_value(json_array_get(json_object_get(allowed, "ports"), 1)),
			    "6006-6010");
	r = schema_check(b, "Firewall");
	json_decref(b);

	spot_t4_spec(&s, &labels, &meta);
	vm = gce_instance_body(&s);
	assert_null(json_object_get(vm, "tags"));
	json_decref(vm);
	s.network_tag = fs.target_tag;
	vm = gce_instance_body(&s);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(vm,
			    "tags"), "items"), 0)), "frugal-0badf00d-k3m9xq-2");
	json_decref(vm);
	kvlist_release(&labels);
	kvlist_release(&meta);
	if (r < 0)
		skip();
	assert_int_equal(r, 0);
}

static void test_insert_body_standard_cpu(void **state)
{
	struct gce_instance_spec s;
	struct kvlist labels = { 0 }, meta = { 0 };
	json_t *b, *sched;
	int r;

	(void)state;
	spot_t4_spec(&s, &labels, &meta);
	s.machine_type = "e2-standard-4";
	s.accelerator = NULL;
	s.accelerator_count = 0;
	s.gpus = 0;
	s.spot = 0;
	s.max_run_s = 0;
	s.data_disk = NULL;
	s.external_ip = 0;
	s.network = "projects/p/global/networks/vpc";
	s.subnetwork = "regions/us-central1/subnetworks/sub";
	s.service_account = "runner@p.iam.gserviceaccount.com";
	b = gce_instance_body(&s);
	sched = json_object_get(b, "scheduling");
	assert_string_equal(json_string_value(json_object_get(sched, "provisioningModel")),
			    "STANDARD");
	assert_string_equal(json_string_value(json_object_get(sched, "onHostMaintenance")),
			    "MIGRATE");
	assert_null(json_object_get(sched, "instanceTerminationAction"));
	assert_null(json_object_get(sched, "maxRunDuration"));
	assert_null(json_object_get(b, "guestAccelerators"));
	assert_null(json_object_get(json_array_get(json_object_get(b, "networkInterfaces"), 0),
				    "accessConfigs"));
	assert_int_equal(json_array_size(json_object_get(b, "disks")), 1);
	r = schema_check(b, "Instance");
	json_decref(b);
	/* a2 carries its A100s: no guestAccelerators, still TERMINATE. */
	spot_t4_spec(&s, &labels, &meta);
	s.machine_type = "a2-highgpu-1g";
	s.accelerator = NULL;
	s.spot = 0;
	assert_true(gce_machine_has_gpus("a2-highgpu-1g"));
	assert_true(gce_machine_has_gpus("g2-standard-4"));
	assert_false(gce_machine_has_gpus("n1-standard-4"));
	b = gce_instance_body(&s);
	assert_null(json_object_get(b, "guestAccelerators"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "scheduling"),
			    "onHostMaintenance")), "TERMINATE");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "scheduling"),
			    "instanceTerminationAction")), "DELETE");
	if (r >= 0)
		assert_int_equal(schema_check(b, "Instance"), 0);
	json_decref(b);
	kvlist_release(&labels);
	kvlist_release(&meta);
	if (r < 0)
		skip();
	assert_int_equal(r, 0);
}

/* The checker itself refuses what is wrong (else the tests above prove nothing). */
static void test_schema_checker_refuses(void **state)
{
	json_t *bad = json_pack("{s:s, s:s, s:{s:s}, s:[{s:s}]}", "name", "Not_A_Name",
				"colour", "blue", "scheduling", "provisioningModel", "CHEAP",
				"guestAccelerators", "acceleratorCount", "one");
	int r = schema_check(bad, "Instance");

	(void)state;
	json_decref(bad);
	if (r < 0)
		skip();
	assert_int_equal(r, 1);
}

static void test_accelerator_names(void **state)
{
	(void)state;
	assert_string_equal(gce_accelerator_type("T4"), "nvidia-tesla-t4");
	assert_string_equal(gce_accelerator_type("v100"), "nvidia-tesla-v100");
	assert_string_equal(gce_accelerator_type("P100"), "nvidia-tesla-p100");
	assert_string_equal(gce_accelerator_type("L4"), "nvidia-l4");
	assert_null(gce_accelerator_type("TPU-v4"));
	assert_null(gce_accelerator_type(NULL));
}

/* ---- answers ---------------------------------------------------------------------------- */

/* A libcloud fixture, or NULL when ../shared/specs is absent. */
static json_t *fixture(const char *name)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *p = xasprintf("%s/specs/libcloud/compute/fixtures/gce/%s",
			    shared ? shared : "../../shared", name);
	json_t *j = json_load_file(p, 0, NULL);

	free(p);
	return j;
}

static void test_fixtures_parse(void **state)
{
	json_t *op = fixture("zones_us-central1-a_instances_post.json");
	json_t *done = fixture("operations_operation_zones_us-central1-a_instances_post.json");
	json_t *inst = fixture("zones_us-central1-a_instances_node-name.json");
	json_t *list = fixture("zones_us-central1-a_instances.json");
	json_t *del = fixture("zones_us-central1-a_instances_node-name_delete.json");
	char *zone, *name;

	(void)state;
	if (!op || !done || !inst || !list || !del) {
		json_decref(op);
		json_decref(done);
		json_decref(inst);
		json_decref(list);
		json_decref(del);
		skip();
	}
	/* What gce_wait reads of an operation: zone, name, status. */
	zone = gce_url_tail(op, "zone");
	assert_string_equal(zone, "us-central1-a");
	free(zone);
	assert_non_null(json_string_value(json_object_get(op, "name")));
	assert_string_equal(json_string_value(json_object_get(done, "status")), "DONE");
	assert_null(json_object_get(done, "error"));
	assert_string_equal(json_string_value(json_object_get(del, "operationType")), "delete");
	/* What describe and list read of an instance. */
	assert_string_equal(gce_instance_status(inst), "RUNNING");
	zone = gce_url_tail(inst, "zone");
	assert_string_equal(zone, "us-central1-a");
	name = gce_url_tail(inst, "selfLink");
	assert_string_equal(name, json_string_value(json_object_get(inst, "name")));
	assert_null(gce_label(inst, "frugal-owner"));
	assert_true(json_array_size(json_object_get(list, "items")) > 0);
	assert_string_equal(gce_instance_status(json_array_get(json_object_get(list, "items"), 0)),
			    json_string_value(json_object_get(json_array_get(json_object_get(list,
			    "items"), 0), "status")));
	free(zone);
	free(name);
	json_decref(op);
	json_decref(done);
	json_decref(inst);
	json_decref(list);
	json_decref(del);
}

/* Classify an error document given as JSON text. */
static int classify(const char *text, long status, int *ret_regional, struct error *err)
{
	json_t *e = json_loads(text, 0, NULL);
	int r;

	assert_non_null(e);
	r = gce_classify_error(e, status, "insert of vm", ret_regional, err);
	json_decref(e);
	return r;
}

static void test_classify_errors(void **state)
{
	struct error err = ERROR_INIT;
	int regional = -1;

	(void)state;
	/* A DONE operation's error: a stockout in the zone. */
	assert_int_equal(classify("{\"errors\": [{\"code\": \"ZONE_RESOURCE_POOL_EXHAUSTED\", "
				  "\"message\": \"The zone 'projects/p/zones/us-central1-a' does not "
				  "have enough resources available to fulfill the request.\"}]}", 503,
				  &regional, &err), FRUGAL_ECAPACITY);
	assert_int_equal(regional, 0);
	assert_non_null(strstr(err.msg, "ZONE_RESOURCE_POOL_EXHAUSTED"));
	assert_int_equal(classify("{\"errors\": [{\"code\": \"ZONE_RESOURCE_POOL_EXHAUSTED_WITH_"
				  "DETAILS\", \"message\": \"...\"}]}", 0, &regional, &err),
			 FRUGAL_ECAPACITY);
	/* Quotas of a region: the next zone of that region will not do. */
	assert_int_equal(classify("{\"errors\": [{\"code\": \"QUOTA_EXCEEDED\", \"message\": "
				  "\"Quota 'NVIDIA_T4_GPUS' exceeded.  Limit: 0.0 in region "
				  "us-central1.\"}]}", 403, &regional, &err), FRUGAL_ECAPACITY);
	assert_int_equal(regional, 1);
	/* An HTTP error answer. */
	assert_int_equal(classify("{\"code\": 403, \"message\": \"Quota exceeded\", \"errors\": "
				  "[{\"domain\": \"usageLimits\", \"reason\": \"quotaExceeded\", "
				  "\"message\": \"Quota exceeded for quota metric\"}]}", 403, NULL,
				  &err), FRUGAL_ECAPACITY);
	assert_int_equal(classify("{\"code\": 409, \"message\": \"The resource 'x' already exists\","
				  " \"errors\": [{\"reason\": \"alreadyExists\"}]}", 409, NULL, &err),
			 FRUGAL_EEXIST);
	assert_int_equal(classify("{\"code\": 404, \"message\": \"was not found\", \"errors\": "
				  "[{\"reason\": \"notFound\", \"message\": \"was not found\"}]}", 404,
				  NULL, &err), FRUGAL_ENOTFOUND);
	assert_int_equal(classify("{\"code\": 400, \"message\": \"Invalid value for field "
				  "'resource.machineType'\", \"errors\": [{\"reason\": \"invalid\", "
				  "\"message\": \"Invalid value for field 'resource.machineType'\"}]}",
				  400, NULL, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(err.msg, "HTTP 400"));
	assert_non_null(strstr(err.msg, "resource.machineType"));
	/* An accelerator type the zone does not have: try elsewhere. */
	assert_int_equal(classify("{\"code\": 400, \"message\": \"Invalid value for field "
				  "'resource.guestAccelerators[0].acceleratorType': 'zones/x/"
				  "acceleratorTypes/nvidia-tesla-t4'. Accelerator type not found\"}",
				  400, NULL, &err), FRUGAL_ECAPACITY);
}

/* ---- the boot script --------------------------------------------------------------------- */

static void test_boot_script(void **state)
{
	struct gcp_boot b;
	char dir[64], *path, *cmd, *script;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.token = "k3m9xq-2";
	b.gcs_endpoint = "http://127.0.0.1:9/gcs";
	b.bucket = "my-bucket";
	b.bin_object = "frugal/prefix/frugal/bin/abc";
	b.bin_sha256 = "abc123";
	b.workdir_object = "frugal/prefix/jobs/k3m9xq/boot/workdir.tar.gz";
	b.boot_log_object = "frugal/prefix/jobs/k3m9xq/attempts/2/boot.log";
	b.data_device = "frugal-data";
	b.data_mount = "/mnt/it's data";
	b.packages = "libuv1 libjansson4";
	script = gcp_boot_script(&b);
	assert_non_null(strstr(script, "#!/bin/bash\n"));
	assert_non_null(strstr(script, "trap end_vm EXIT"));
	assert_non_null(strstr(script, "_fb_boot_log='frugal%2Fprefix%2Fjobs%2Fk3m9xq%2Fattempts%2F2%2Fboot.log'"));
	/* Object names are URL-encoded, '/' included. */
	assert_non_null(strstr(script, "frugal%2Fprefix%2Ffrugal%2Fbin%2Fabc"));
	assert_non_null(strstr(script, "export FRUGAL_GCS_ENDPOINT='http://127.0.0.1:9/gcs'"));
	assert_null(strstr(script, "FRUGAL_GCP_COMPUTE_URL='"));
	assert_non_null(strstr(script, "-H @\"$_fb_root/.auth\""));
	assert_non_null(strstr(script, "'/mnt/it'\\''s data'"));
	assert_non_null(strstr(script, "./frugal agent --instance-dir \"$_fb_root\""));
	assert_null(strstr(script, "frugal-vol-"));
	free(script);
	/* The task's disks: each device waited for and mounted read-only at
	 * /mnt/frugal-volumes/INDEX before the agent; a missing one ends the
	 * boot naming it. */
	{
		static const size_t idx[2] = { 0, 3 };
		const char *agent;

		b.volumes = idx;
		b.n_volumes = 2;
		script = gcp_boot_script(&b);
		agent = strstr(script, "./frugal agent");
		assert_non_null(agent);
		assert_non_null(strstr(script, "_fb_dev=/dev/disk/by-id/google-frugal-vol-0\n"
				       "_fb_vol=/mnt/frugal-volumes/0\n"));
		assert_non_null(strstr(script, "_fb_dev=/dev/disk/by-id/google-frugal-vol-3\n"));
		assert_non_null(strstr(script, "mount -o ro,noload \"$_fb_dev\" \"$_fb_vol\""));
		assert_non_null(strstr(script, "volume 3: no disk device $_fb_dev"));
		assert_true(strstr(script, "google-frugal-vol-3") < agent);
	}
	snprintf(dir, sizeof(dir), "/tmp/frugal-test-gcp-XXXXXX");
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/startup-script", dir);
	assert_int_equal(fs_write_atomic(path, script, strlen(script), 0600, 1, NULL), 0);
	cmd = xasprintf("bash -n %s", path);
	assert_int_equal(gfake_sh(cmd), 0);
	fs_remove_tree(dir, NULL);
	free(cmd);
	free(path);
	free(script);
}

/* The secrets: sealed in the bucket, their key from the metadata; never
 * a secrets file sourced by the script. */
static void test_boot_secrets(void **state)
{
	struct gcp_boot b;
	char *script;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.token = "k3m9xq-2";
	b.bucket = "my-bucket";
	b.bin_object = "frugal/bin/abc";
	b.bin_sha256 = "abc123";
	b.boot_log_object = "jobs/k3m9xq/attempts/2/boot.log";
	b.packages = "libuv1";
	script = gcp_boot_script(&b);
	assert_null(strstr(script, "secrets"));
	assert_null(strstr(script, "FRUGAL_SECRETS_KEY"));
	free(script);
	b.secrets_object = "p/jobs/k3m9xq/attempts/2/secrets.sealed";
	script = gcp_boot_script(&b);
	assert_non_null(strstr(script, "gcs_get 'p%2Fjobs%2Fk3m9xq%2Fattempts%2F2%2Fsecrets.sealed'"
				       " secrets.sealed\n"));
	assert_non_null(strstr(script, "FRUGAL_SECRETS_KEY=$(md instance/attributes/"
				       "frugal-secrets-key)\nexport FRUGAL_SECRETS_KEY\n"));
	assert_null(strstr(script, ". ./"));	/* nothing sourced */
	/* The key is taken before the agent starts, and the token file removed. */
	assert_true(strstr(script, "export FRUGAL_SECRETS_KEY") < strstr(script, "./frugal agent"));
	assert_true(strstr(script, "rm -f .auth") < strstr(script, "./frugal agent"));
	free(script);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_body_spot_gpu),
		cmocka_unit_test(test_insert_body_standard_cpu),
		cmocka_unit_test(test_insert_body_volumes),
		cmocka_unit_test(test_firewall_body_ports_to_tag),
		cmocka_unit_test(test_schema_checker_refuses),
		cmocka_unit_test(test_accelerator_names),
		cmocka_unit_test(test_fixtures_parse),
		cmocka_unit_test(test_classify_errors),
		cmocka_unit_test(test_boot_script),
		cmocka_unit_test(test_boot_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
