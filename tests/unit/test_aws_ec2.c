/*
 * Unit tests for the pieces of backend aws that need no server:
 *  - provider/ec2: parsing EC2's XML answers, against botocore's response
 *    fixtures in ../shared/specs (expected values from their .json twins),
 *    error documents, capacity codes;
 *  - util/awsreq: which answers are retried;
 *  - provider/awsboot: the workdir archive (extracted by the system's tar
 *    and compared), the secrets file (sourced by bash), the boot script
 *    (bash -n, what it fetches and how it ends);
 *  - agent/aws_vm: the spot instance-action document, against the EC2
 *    User Guide's examples in ../shared/specs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/aws/vm.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "backend/aws/boot.h"
#include "util/tar.h"
#include "backend/aws/ec2.h"
#include "backend/aws/request.h"

static char *shared_file(const char *rel)
{
	const char *shared = getenv("FRUGAL_SHARED");
	char *path = xasprintf("%s/%s", shared ? shared : "../shared", rel);
	struct strbuf sb = STRBUF_INIT;

	if (fs_read_file(path, 8 << 20, &sb, NULL) < 0) {
		free(path);
		strbuf_release(&sb);
		return NULL;
	}
	free(path);
	return strbuf_detach(&sb, NULL);
}

/* ---- ec2 answers --------------------------------------------------------------------- */

static void test_parse_run_instances(void **state)
{
	char *xml = shared_file("specs/botocore/response_parsing/xml/responses/ec2-run-instances.xml");
	struct ec2_instances l = { 0 };

	(void)state;
	if (!xml) {
		print_message("skipped: ../shared/specs/botocore not available\n");
		skip();
	}
	assert_int_equal(ec2_parse_instances(xml, strlen(xml), &l, NULL), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].id, "i-0ee0356c");
	assert_string_equal(l.items[0].state, "pending");
	assert_string_equal(l.items[0].type, "m1.small");
	assert_string_equal(l.items[0].zone, "us-east-1b");
	assert_null(l.items[0].lifecycle);
	assert_true(l.items[0].launch_ms > 0);
	ec2_instances_release(&l);
	free(xml);
}

static void test_parse_describe_instances(void **state)
{
	char *xml = shared_file(
		"specs/botocore/response_parsing/xml/responses/ec2-describe-instances.xml");
	struct ec2_instances l = { 0 };
	char *next = NULL;

	(void)state;
	if (!xml) {
		print_message("skipped: ../shared/specs/botocore not available\n");
		skip();
	}
	assert_int_equal(ec2_parse_instances(xml, strlen(xml), &l, &next), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].id, "i-fde9cece");
	assert_string_equal(l.items[0].state, "stopped");
	assert_string_equal(l.items[0].zone, "us-west-2a");
	assert_non_null(ec2_instance_tag(&l.items[0], "notebook"));
	assert_string_equal(ec2_instance_tag(&l.items[0], "notebook"), "");
	assert_string_equal(l.items[1].id, "i-78f1b94a");
	assert_string_equal(l.items[1].state, "running");
	assert_string_equal(l.items[1].type, "m1.medium");
	assert_null(next);
	ec2_instances_release(&l);
	free(xml);
}

static void test_parse_ours(void **state)
{
	static const char xml[] =
		"<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
		"<reservationSet><item><instancesSet><item><instanceId>i-1</instanceId>"
		"<instanceState><code>48</code><name>terminated</name></instanceState>"
		"<stateReason><code>Server.SpotInstanceTermination</code></stateReason>"
		"<instanceLifecycle>spot</instanceLifecycle><tagSet><item><key>frugal-token</key>"
		"<value>ab12cd-3</value></item></tagSet><groupSet><item><groupId>sg-1</groupId>"
		"</item></groupSet></item></instancesSet></item></reservationSet>"
		"<nextToken>page2</nextToken></DescribeInstancesResponse>";
	static const char term[] =
		"<TerminateInstancesResponse><instancesSet><item><instanceId>i-2</instanceId>"
		"<currentState><code>32</code><name>shutting-down</name></currentState>"
		"<previousState><code>16</code><name>running</name></previousState></item>"
		"</instancesSet></TerminateInstancesResponse>";
	static const char zones[] =
		"<DescribeAvailabilityZonesResponse><availabilityZoneInfo><item>"
		"<zoneName>us-east-1c</zoneName><zoneId>use1-az2</zoneId><zoneState>available"
		"</zoneState></item><item><zoneName>us-east-1a</zoneName><zoneId>use1-az6</zoneId>"
		"</item></availabilityZoneInfo></DescribeAvailabilityZonesResponse>";
	static const char vols[] =
		"<DescribeVolumesResponse><volumeSet><item><volumeId>vol-1</volumeId>"
		"<status>available</status><tagSet><item><key>frugal-token</key><value>x-1</value>"
		"</item></tagSet><attachmentSet/></item></volumeSet></DescribeVolumesResponse>";
	struct ec2_instances l = { 0 };
	struct ec2_items items = { 0 };
	char *next = NULL;

	(void)state;
	assert_int_equal(ec2_parse_instances(xml, strlen(xml), &l, &next), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].lifecycle, "spot");
	assert_string_equal(l.items[0].reason_code, "Server.SpotInstanceTermination");
	assert_string_equal(ec2_instance_tag(&l.items[0], "frugal-token"), "ab12cd-3");
	assert_string_equal(next, "page2");
	free(next);
	assert_int_equal(ec2_parse_instances(term, strlen(term), &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[1].state, "shutting-down");
	ec2_instances_release(&l);
	assert_int_equal(ec2_parse_items(zones, strlen(zones), "availabilityZoneInfo", &items,
					 NULL), 0);
	assert_int_equal(items.n, 2);
	assert_string_equal(kvlist_get(&items.items[0], "zoneId"), "use1-az2");
	assert_string_equal(kvlist_get(&items.items[1], "zoneName"), "us-east-1a");
	ec2_items_release(&items);
	assert_int_equal(ec2_parse_items(vols, strlen(vols), "volumeSet", &items, NULL), 0);
	assert_int_equal(items.n, 1);
	assert_string_equal(kvlist_get(&items.items[0], "tag:frugal-token"), "x-1");
	ec2_items_release(&items);
	assert_int_equal(ec2_parse_instances("not xml <", 9, &l, NULL), FRUGAL_EINVAL);
}

static void test_errors(void **state)
{
	char *xml = shared_file("specs/botocore/response_parsing/xml/errors/ec2-describe-instances.xml");
	struct http_response rs = HTTP_RESPONSE_INIT;
	char code[64], msg[128];

	(void)state;
	if (xml) {
		strbuf_adds(&rs.body, xml);
		aws_xml_error(&rs, code, sizeof(code), msg, sizeof(msg));
		assert_string_equal(code, "InvalidInstanceID.Malformed");
		assert_string_equal(msg, "Invalid id: \"foobar\"");
		strbuf_release(&rs.body);
		free(xml);
	}
	strbuf_adds(&rs.body, "<Error><Code>SlowDown</Code><Message>Please\nslow</Message></Error>");
	aws_xml_error(&rs, code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "SlowDown");
	assert_string_equal(msg, "Please?slow");
	strbuf_release(&rs.body);
	aws_xml_error(&rs, code, sizeof(code), msg, sizeof(msg));
	assert_string_equal(code, "");

	assert_true(ec2_code_is_capacity("InsufficientInstanceCapacity"));
	assert_true(ec2_code_is_capacity("SpotMaxPriceTooLow"));
	assert_true(ec2_code_is_capacity("MaxSpotInstanceCountExceeded"));
	assert_true(ec2_code_is_capacity("VcpuLimitExceeded"));
	assert_true(ec2_code_is_capacity("Unsupported"));
	assert_false(ec2_code_is_capacity("InvalidParameterValue"));
	assert_false(ec2_code_is_capacity(NULL));

	assert_true(aws_retryable(503, "RequestLimitExceeded"));
	assert_true(aws_retryable(400, "RequestLimitExceeded"));
	assert_true(aws_retryable(503, "SlowDown"));
	assert_true(aws_retryable(500, ""));
	assert_true(aws_retryable(502, NULL));
	assert_false(aws_retryable(500, "InsufficientInstanceCapacity"));
	assert_false(aws_retryable(400, "InvalidParameterValue"));
	assert_false(aws_retryable(404, ""));
	assert_false(aws_retryable(412, "PreconditionFailed"));
}

/* ---- awsboot ----------------------------------------------------------------------------- */

static void test_tar(void **state)
{
	char dir[] = "/tmp/frugal-test-awsboot-XXXXXX";
	char *src, *out, *tar, *cmd, *longdir, *f;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	src = xasprintf("%s/src", dir);
	out = xasprintf("%s/out", dir);
	tar = xasprintf("%s/w.tar", dir);
	longdir = xasprintf("%s/%s/%s", src, "a-directory-name-that-is-long-enough-to-need-more",
			    "than-one-hundred-bytes-in-a-tar-header-all-by-itself-0123456789");
	assert_int_equal(fs_mkdir_p(longdir, 0755, NULL), 0);
	assert_int_equal(fs_mkdir_p(out, 0755, NULL), 0);
	f = xasprintf("%s/train.sh", src);
	assert_int_equal(fs_write_atomic(f, "#!/bin/sh\necho hi\n", 18, 0755, 1, NULL), 0);
	free(f);
	f = xasprintf("%s/data-%s.txt", longdir, "with-a-long-file-name-too");
	assert_int_equal(fs_write_atomic(f, "deep", 4, 0644, 1, NULL), 0);
	free(f);
	f = xasprintf("%s/empty", src);
	assert_int_equal(fs_write_atomic(f, "", 0, 0600, 1, NULL), 0);
	free(f);
	f = xasprintf("%s/link", src);
	assert_int_equal(symlink("train.sh", f), 0);
	free(f);
	assert_int_equal(tar_write_tree(src, tar, NULL), 0);
	cmd = xasprintf("cd %s && tar -xf %s && diff -r %s %s && test -x train.sh && "
			"test \"$(readlink link)\" = train.sh", out, tar, src, out);
	rc = system(cmd);
	assert_int_equal(rc, 0);
	free(cmd);
	assert_true(tar_write_tree("/nonexistent/frugal", tar, NULL) < 0);
	assert_false(fs_exists(tar));
	fs_remove_tree(dir, NULL);
	free(src);
	free(out);
	free(tar);
	free(longdir);
}

/* bash -n accepts text. */
static int bash_ok(const char *text)
{
	char path[] = "/tmp/frugal-test-boot-XXXXXX";
	int fd = mkstemp(path), rc;
	char *cmd = xasprintf("bash -n %s", path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = system(cmd);
	unlink(path);
	free(cmd);
	return rc == 0;
}

static void test_script(void **state)
{
	struct awsboot b;
	char *s;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.job_id = "ab12cd";
	b.attempt = 2;
	b.token = "ab12cd-2";
	b.frugal_url = "https://bkt.s3.us-east-1.amazonaws.com/p/bin/frugal-aa?X-Amz-Signature=1";
	b.frugal_sha256 = "aa";
	b.agent_url = "https://bkt.s3.us-east-1.amazonaws.com/p/jobs/ab12cd/attempts/2/agent.json?X=1";
	b.workdir_url = "https://w?x=1";
	b.secrets_url = "https://s?x=1";
	b.secrets_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	b.hard_limit_s = 3601;
	b.urls_expire_ms = 1700000000000LL;
	s = awsboot_script(&b);
	assert_true(bash_ok(s));
	assert_non_null(strstr(s, "#!/bin/bash\n"));
	assert_non_null(strstr(s, "trap 'echo \"frugal: powering off\"; shutdown -h now' EXIT"));
	assert_non_null(strstr(s, "shutdown -h +61 "));
	assert_non_null(strstr(s, "url = \"https://bkt.s3.us-east-1.amazonaws.com/p/bin/frugal-aa?"));
	assert_non_null(strstr(s, "echo \"aa  frugal.new\" | sha256sum -c"));
	assert_non_null(strstr(s, "tar -xf workdir.tar -C src"));
	/* The secrets stay sealed on disk: the agent opens them with the key. */
	assert_non_null(strstr(s, "fetch secrets.cfg secrets.sealed || exit 1\n"));
	assert_non_null(strstr(s, "FRUGAL_SECRETS_KEY=00112233445566778899aabbccddeeff"
				  "00112233445566778899aabbccddeeff\nexport FRUGAL_SECRETS_KEY\n"));
	assert_null(strstr(s, "secrets.env"));
	assert_non_null(strstr(s, "\"$frugal\" agent --instance-dir \"$dir\""));
	/* URLs only in curl config files, never on curl's command line. */
	assert_null(strstr(s, "curl -fsS https"));
	assert_true(strlen(s) < AWSBOOT_USERDATA_MAX);
	free(s);

	/* frugal on the image, nothing else to fetch, an S3 endpoint passed on. */
	b.frugal_bin = "/opt/frugal bin/frugal";
	b.frugal_url = b.frugal_sha256 = NULL;
	b.workdir_url = b.secrets_url = b.secrets_key = NULL;
	b.s3_endpoint = "http://127.0.0.1:9000";
	b.hard_limit_s = 0;
	s = awsboot_script(&b);
	assert_true(bash_ok(s));
	assert_non_null(strstr(s, "frugal='/opt/frugal bin/frugal'"));
	assert_non_null(strstr(s, "no frugal binary at"));
	assert_non_null(strstr(s, "export AWS_ENDPOINT_URL_S3='http://127.0.0.1:9000'"));
	assert_null(strstr(s, "secrets."));
	assert_null(strstr(s, "FRUGAL_SECRETS_KEY"));
	assert_null(strstr(s, "shutdown -h +"));
	free(s);
}

/* ---- the spot notice document ---------------------------------------------------------- */

static void test_instance_action(void **state)
{
	static const char *const files[] = {
		"specs/awsdocs-amazon-ec2-user-guide/extracted/spot-instance-action.terminate.json",
		"specs/awsdocs-amazon-ec2-user-guide/extracted/spot-instance-action.stop.json",
	};
	struct notice n;
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		char *doc = shared_file(files[i]);
		if (!doc) {
			print_message("note: %s not available\n", files[i]);
			continue;
		}
		assert_int_equal(aws_vm_parse_instance_action(doc, strlen(doc), &n), 0);
		assert_string_equal(n.source, "spot/instance-action");
		/* 2017-09-18T08:22:00Z */
		assert_int_equal(n.deadline_ms, 1505722920000LL);
		free(doc);
	}
	assert_int_equal(aws_vm_parse_instance_action("{\"action\": \"hibernate\"}", 23, &n), 0);
	assert_int_equal(n.deadline_ms, 0);
	assert_int_equal(aws_vm_parse_instance_action("nope", 4, &n), FRUGAL_EINVAL);
	assert_int_equal(aws_vm_parse_instance_action("{\"time\": 1}", 11, &n), FRUGAL_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_run_instances),
		cmocka_unit_test(test_parse_describe_instances),
		cmocka_unit_test(test_parse_ours),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_tar),
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_instance_action),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
