/*
 * Unit tests for util/awscreds (credentials, region and endpoint the AWS
 * CLI's way), util/imds and the agent's EC2 notice source, the last two
 * against the fake metadata service of the tests
 * (tests/peers/aws/fake_imds.py, IMDSv2; skipped without python3).
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/aws/vm.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "backend/aws/creds.h"
#include "backend/aws/imds.h"

static const char *const vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
	"AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_EC2", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED",
	"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SSO", NULL,
};

struct fx {
	char dir[64];
	char *creds, *config;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	size_t i;

	for (i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	snprintf(f->dir, sizeof(f->dir), "/tmp/frugal-test-awscreds-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->creds = xasprintf("%s/credentials", f->dir);
	f->config = xasprintf("%s/config", f->dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", f->creds, 1);
	setenv("AWS_CONFIG_FILE", f->config, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fs_remove_tree(f->dir, NULL);
	free(f->creds);
	free(f->config);
	free(f);
	return 0;
}

static void put(const char *path, const char *text)
{
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600, 1, NULL), 0);
}

static void test_env(void **state)
{
	struct aws_creds c = AWS_CREDS_INIT;

	(void)state;
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
	setenv("AWS_SESSION_TOKEN", "env-token", 1);
	setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
	assert_int_equal(aws_creds_load("ec2", &c, NULL), 0);
	assert_string_equal(c.access_key_id, "AKIDENV");
	assert_string_equal(c.secret_access_key, "env-secret");
	assert_string_equal(c.session_token, "env-token");
	assert_string_equal(c.region, "eu-west-1");
	assert_string_equal(c.source, "environment");
	assert_null(c.endpoint_url);
	assert_true(aws_creds_available());
	aws_creds_release(&c);
	/* AWS_REGION wins; service endpoints win over the general one. */
	setenv("AWS_REGION", "ap-south-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://general:1", 1);
	setenv("AWS_ENDPOINT_URL_S3", "http://s3only:2", 1);
	assert_int_equal(aws_creds_load("s3", &c, NULL), 0);
	assert_string_equal(c.region, "ap-south-1");
	assert_string_equal(c.endpoint_url, "http://s3only:2");
	aws_creds_release(&c);
	assert_int_equal(aws_creds_load("ec2", &c, NULL), 0);
	assert_string_equal(c.endpoint_url, "http://general:1");
	aws_creds_release(&c);
}

static void test_profiles(void **state)
{
	struct fx *f = *state;
	struct aws_creds c = AWS_CREDS_INIT;
	struct error err = ERROR_INIT;

	assert_false(aws_creds_available());
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "aws configure"));
	put(f->creds, "# comment\n[default]\naws_access_key_id = AKIDDEF\n"
		      "aws_secret_access_key = def-secret\n\n[work]\n"
		      "aws_access_key_id=AKIDWORK\naws_secret_access_key=work-secret\n"
		      "aws_session_token = work-token\n");
	put(f->config, "[default]\nregion = us-west-2\ns3 =\n  addressing_style = path\n"
		       "[profile work]\nregion = eu-central-1\nendpoint_url = http://minio:9000\n"
		       "[profile onlyconfig]\naws_access_key_id = AKIDCONF\n"
		       "aws_secret_access_key = conf-secret\n[profile nosecret]\n"
		       "aws_access_key_id = AKIDHALF\n");
	assert_true(aws_creds_available());
	assert_int_equal(aws_creds_load("ec2", &c, NULL), 0);
	assert_string_equal(c.access_key_id, "AKIDDEF");
	assert_string_equal(c.region, "us-west-2");
	assert_null(c.session_token);
	assert_string_equal(c.source, "shared credentials file");
	aws_creds_release(&c);
	setenv("AWS_PROFILE", "work", 1);
	assert_int_equal(aws_creds_load("s3", &c, NULL), 0);
	assert_string_equal(c.access_key_id, "AKIDWORK");
	assert_string_equal(c.session_token, "work-token");
	assert_string_equal(c.region, "eu-central-1");
	assert_string_equal(c.endpoint_url, "http://minio:9000");
	assert_string_equal(c.profile, "work");
	aws_creds_release(&c);
	setenv("AWS_PROFILE", "onlyconfig", 1);
	assert_int_equal(aws_creds_load("s3", &c, NULL), 0);
	assert_string_equal(c.access_key_id, "AKIDCONF");
	assert_string_equal(c.source, "config file");
	aws_creds_release(&c);
	/* A key id without its secret is an error that names no secret. */
	setenv("AWS_PROFILE", "nosecret", 1);
	assert_int_equal(aws_creds_load("s3", &c, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "no secret access key"));
	unsetenv("AWS_PROFILE");
}

static void test_shell_split(void **state)
{
	char **argv = NULL;

	(void)state;
	assert_int_equal(aws_shell_split("  /bin/tool --profile 'my prof' \"a \\\"b\\\" $HOME\" c\\ d ",
					 &argv), 0);
	assert_string_equal(argv[0], "/bin/tool");
	assert_string_equal(argv[1], "--profile");
	assert_string_equal(argv[2], "my prof");
	assert_string_equal(argv[3], "a \"b\" $HOME");	/* never expanded */
	assert_string_equal(argv[4], "c d");
	assert_null(argv[5]);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
	assert_int_equal(aws_shell_split("tool 'open", &argv), FRUGAL_EINVAL);
	assert_int_equal(aws_shell_split("   ", &argv), FRUGAL_EINVAL);
}

/* credential_process: run without a shell, Version 1 JSON, Expiration. */
static void test_credential_process(void **state)
{
	struct fx *f = *state;
	struct aws_creds c = AWS_CREDS_INIT;
	struct error err = ERROR_INIT;
	char *tool = xasprintf("%s/tool", f->dir), *marker = xasprintf("%s/ran", f->dir);
	char *cfg, *script;

	script = xasprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s\ncase $1 in\n"
			   "good) echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\","
			   " \"SecretAccessKey\": \"proc-secret\", \"SessionToken\": \"proc-token\","
			   " \"Expiration\": \"2099-01-02T03:04:05Z\"}';;\n"
			   "long) echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDLONG\","
			   " \"SecretAccessKey\": \"long-secret\"}';;\n"
			   "old) echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\":"
			   " \"s\", \"Expiration\": \"2001-01-01T00:00:00Z\"}';;\n"
			   "v2) echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\":"
			   " \"s\"}';;\n*) echo 'denied' >&2; exit 3;;\nesac\n", marker);
	put(tool, script);
	assert_int_equal(chmod(tool, 0700), 0);
	cfg = xasprintf("[profile good]\ncredential_process = %s good 'two words' ';touch x'\n"
			"region = eu-west-3\n[profile long]\ncredential_process = %s long\n"
			"[profile old]\ncredential_process = %s old\n"
			"[profile v2]\ncredential_process = %s v2\n"
			"[profile bad]\ncredential_process = %s bad\n"
			"[profile missing]\ncredential_process = %s/nope\n",
			tool, tool, tool, tool, tool, f->dir);
	put(f->config, cfg);
	setenv("AWS_PROFILE", "good", 1);
	assert_true(aws_creds_available());
	assert_int_equal(aws_creds_load("ec2", &c, &err), 0);
	assert_string_equal(c.access_key_id, "AKIDPROC");
	assert_string_equal(c.secret_access_key, "proc-secret");
	assert_string_equal(c.session_token, "proc-token");
	assert_int_equal(c.expires_ms, 4071006245000LL);
	assert_string_equal(c.source, "credential_process");
	assert_string_equal(c.region, "eu-west-3");
	aws_creds_release(&c);
	{
		struct strbuf sb = STRBUF_INIT;
		char *x = xasprintf("%s/x", f->dir);

		assert_int_equal(fs_read_file(marker, 4096, &sb, NULL), 0);
		assert_string_equal(sb.buf, "good\ntwo words\n;touch x\n");	/* no shell */
		assert_false(fs_exists(x));
		strbuf_release(&sb);
		free(x);
	}
	setenv("AWS_PROFILE", "long", 1);
	assert_int_equal(aws_creds_load("ec2", &c, &err), 0);
	assert_int_equal(c.expires_ms, 0);	/* no Expiration: does not expire */
	assert_null(c.session_token);
	aws_creds_release(&c);
	setenv("AWS_PROFILE", "old", 1);
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(err.msg, "expired"));
	setenv("AWS_PROFILE", "v2", 1);
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(err.msg, "\"Version\": 1"));
	setenv("AWS_PROFILE", "bad", 1);
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(err.msg, "exit status 3"));
	setenv("AWS_PROFILE", "missing", 1);
	assert_true(aws_creds_load("ec2", &c, &err) < 0);
	unsetenv("AWS_PROFILE");
	free(cfg);
	free(script);
	free(tool);
	free(marker);
}

/* role_arn and SSO profiles that cannot work say why, without a call. */
static void test_role_and_sso_errors(void **state)
{
	struct fx *f = *state;
	struct aws_creds c = AWS_CREDS_INIT;
	struct error err = ERROR_INIT;
	char *home = xasprintf("%s/home", f->dir), *cache, *file;

	put(f->config, "[profile nosrc]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
		       "credential_source = Ec2InstanceMetadata\n"
		       "[profile mfa]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
		       "source_profile = base\nmfa_serial = arn:aws:iam::1:mfa/u\n"
		       "[profile loop]\nrole_arn = arn:aws:iam::123456789012:role/r\n"
		       "source_profile = loop2\n[profile loop2]\n"
		       "role_arn = arn:aws:iam::123456789012:role/r\nsource_profile = loop\n"
		       "[profile sso]\nsso_session = corp\nsso_account_id = 111122223333\n"
		       "sso_role_name = Admin\n[sso-session corp]\n"
		       "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n");
	setenv("HOME", home, 1);
	setenv("AWS_PROFILE", "nosrc", 1);
	assert_true(aws_creds_available());
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "source_profile"));
	setenv("AWS_PROFILE", "mfa", 1);
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "mfa_serial"));
	setenv("AWS_PROFILE", "loop", 1);
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_EINVAL);
	assert_non_null(strstr(err.msg, "chained roles"));
	/* SSO: no cached token, then an expired one. */
	setenv("AWS_PROFILE", "sso", 1);
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_ENOTFOUND);
	assert_non_null(strstr(err.msg, "aws sso login --profile sso"));
	/* sha1("corp") */
	assert_non_null(strstr(err.msg, "/.aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json"));
	cache = xasprintf("%s/.aws/sso/cache", home);
	assert_int_equal(fs_mkdir_p(cache, 0700, NULL), 0);
	file = xasprintf("%s/ee0bfd2552fbd840c02cc48b6e823320543c450f.json", cache);
	put(file, "{\"startUrl\": \"https://corp.awsapps.com/start\", \"region\": \"eu-west-1\","
		  " \"accessToken\": \"tok\", \"expiresAt\": \"2001-01-01T00:00:00Z\"}");
	assert_int_equal(aws_creds_load("ec2", &c, &err), FRUGAL_EPROVIDER);
	assert_non_null(strstr(err.msg, "SSO session has expired"));
	unsetenv("AWS_PROFILE");
	free(home);
	free(cache);
	free(file);
}

static void test_parse_time(void **state)
{
	int64_t ms = 0;

	(void)state;
	assert_int_equal(aws_parse_time("2017-09-18T08:22:00Z", &ms), 0);
	assert_int_equal(ms, 1505722920000LL);
	assert_int_equal(aws_parse_time("2017-09-18T08:22:00.000Z", &ms), 0);
	assert_int_equal(ms, 1505722920000LL);
	assert_int_equal(aws_parse_time("2017-09-18 08:22", &ms), FRUGAL_EINVAL);
	assert_int_equal(aws_parse_time(NULL, &ms), FRUGAL_EINVAL);
}

/* ---- against the fake metadata service ------------------------------------------------- */

struct imds {
	pid_t pid;
	char state[80];
};

static struct imds fake;

static int free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int imds_start(void **state)
{
	const char *src = getenv("FRUGAL_SRC");
	char *script = xasprintf("%s/tests/peers/aws/fake_imds.py", src ? src : ".");
	char port[16], *url, *tok = NULL;
	int i;

	memset(&fake, 0, sizeof(fake));
	*state = &fake;
	if (access(script, R_OK) != 0 || system("python3 -c pass >/dev/null 2>&1") != 0) {
		free(script);
		fake.pid = -1;
		return 0;
	}
	snprintf(fake.state, sizeof(fake.state), "/tmp/frugal-test-imds-XXXXXX");
	assert_non_null(mkdtemp(fake.state));
	snprintf(port, sizeof(port), "%d", free_port());
	fake.pid = fork();
	if (fake.pid == 0) {
		char *argv[] = { "python3", script, "--port", port, "--state", fake.state, NULL };
		execvp(argv[0], argv);
		_exit(127);
	}
	url = xasprintf("http://127.0.0.1:%s", port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	for (i = 0; i < 200 && imds_token(200, &tok, NULL) < 0; i++)
		time_sleep_ms(50);
	free(tok);
	free(url);
	free(script);
	return 0;
}

static int imds_stop(void **state)
{
	if (fake.pid > 0) {
		kill(fake.pid, SIGTERM);
		waitpid(fake.pid, NULL, 0);
		fs_remove_tree(fake.state, NULL);
	}
	return 0;
}

static void need_imds(void)
{
	size_t i;

	if (fake.pid <= 0) {
		print_message("skipped: python3 not available for the fake metadata service\n");
		skip();
	}
	for (i = 0; vars[i]; i++)
		if (strcmp(vars[i], "AWS_EC2_METADATA_SERVICE_ENDPOINT"))
			unsetenv(vars[i]);
	setenv("HOME", fake.state, 1);
}

static void test_imds_credentials(void **state)
{
	struct aws_creds c = AWS_CREDS_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *tok = NULL, *path;
	long status = 0;

	(void)state;
	need_imds();
	assert_int_equal(imds_token(0, &tok, NULL), 0);
	assert_int_equal(imds_get(tok, "meta-data/spot/instance-action", 0, &sb, &status, NULL), 0);
	assert_int_equal(status, 404);
	assert_int_equal(imds_get("wrong", "meta-data/instance-id", 0, &sb, &status, NULL), 0);
	assert_int_equal(status, 401);
	free(tok);
	/* The chain ends at the instance profile, with its region. */
	path = xasprintf("%s/region", fake.state);
	put(path, "ap-northeast-1");
	assert_int_equal(aws_creds_load("s3", &c, NULL), 0);
	assert_string_equal(c.access_key_id, "ASIAFAKEIMDS");
	assert_string_equal(c.session_token, "imds-session-token");
	assert_string_equal(c.source, "instance profile");
	assert_string_equal(c.region, "ap-northeast-1");
	assert_true(c.expires_ms > time_now_ms() + 3600 * 1000);
	/* Not about to expire: nothing to refresh. */
	assert_int_equal(aws_creds_refresh("s3", &c, NULL), 0);
	assert_string_equal(c.access_key_id, "ASIAFAKEIMDS");
	c.expires_ms = time_now_ms() + 1000;
	assert_int_equal(aws_creds_refresh("s3", &c, NULL), 0);
	assert_true(c.expires_ms > time_now_ms() + 3600 * 1000);
	aws_creds_release(&c);
	/* Disabled: the chain stops before the metadata service. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_int_equal(aws_creds_load("s3", &c, NULL), FRUGAL_ENOTFOUND);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	unlink(path);
	free(path);
	strbuf_release(&sb);
}

struct got {
	int fired;
	struct notice n;
	uv_loop_t *loop;
};

static void on_notice(void *arg, const struct notice *n)
{
	struct got *g = arg;

	g->fired++;
	g->n = *n;
	uv_stop(g->loop);
}

static void on_give_up(uv_timer_t *t)
{
	uv_stop(t->loop);
}

static void test_notice_source(void **state)
{
	uv_loop_t loop;
	uv_timer_t limit;
	struct got g = { 0, { "", 0 }, &loop };
	struct notice_source *s;
	char *path;
	int64_t t0;

	(void)state;
	need_imds();
	path = xasprintf("%s/instance-action.json", fake.state);
	put(path, "{\"action\": \"terminate\", \"time\": \"2030-01-02T03:04:05Z\"}");
	uv_loop_init(&loop);
	uv_timer_init(&loop, &limit);
	uv_timer_start(&limit, on_give_up, 10000, 0);
	s = notice_source_new(&notice_aws_ops, &loop, fake.state, on_notice, &g);
	assert_int_equal(notice_source_start(s, NULL), 0);
	t0 = time_mono_ms();
	while (!g.fired && time_mono_ms() - t0 < 10000)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(g.fired, 1);
	assert_string_equal(g.n.source, "spot/instance-action");
	assert_int_equal(g.n.deadline_ms, 1893553445000LL);
	notice_source_free(s);
	uv_close((uv_handle_t *)&limit, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest local[] = {
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_shell_split),
		cmocka_unit_test_setup_teardown(test_credential_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_and_sso_errors, setup, teardown),
	};
	const struct CMUnitTest imds[] = {
		cmocka_unit_test(test_imds_credentials),
		cmocka_unit_test(test_notice_source),
	};
	int r = 0;

	r |= cmocka_run_group_tests_name("awscreds", local, NULL, NULL);
	r |= cmocka_run_group_tests_name("imds", imds, imds_start, imds_stop);
	return r;
}
