/*
 * Unit tests for backend/common/agentbin.c and the per-backend choices it
 * serves: architecture names, ELF facts of real binaries, which binary
 * goes to a machine (agent_dist, frugal-linux-ARCH beside frugal, the
 * running one), the boot check run by sh with a machine that says
 * aarch64, the status.json of a failed boot (parsed by the contract's
 * parser), and table-driven instance type -> arch and default image for
 * AWS (checked against the Arch column of the shipped catalog), GCP and
 * Lambda.
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

#include "backend/aws/itype.h"
#include "backend/common/agentbin.h"
#include "backend/gcp/machine.h"
#include "backend/lambda/lambda.h"
#include "base/fs.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "catalog/csv.h"
#include "base/error.h"
#include "contract/status.h"

static void test_arch_names(void **state)
{
	(void)state;
	assert_string_equal(agentbin_arch_normalize("arm64"), "aarch64");
	assert_string_equal(agentbin_arch_normalize("AARCH64"), "aarch64");
	assert_string_equal(agentbin_arch_normalize("amd64"), "x86_64");
	assert_string_equal(agentbin_arch_normalize("x86_64"), "x86_64");
	assert_null(agentbin_arch_normalize("riscv64"));
	assert_null(agentbin_arch_normalize(NULL));
	assert_non_null(agentbin_host_arch());
}

/* The frugal under test is a dynamic executable of this machine. */
static void test_elf_info(void **state)
{
	const char *bin = getenv("FRUGAL_BIN"), *arch = NULL;
	struct error err = ERROR_INIT;
	int st = -1;

	(void)state;
	assert_non_null(bin);
	assert_int_equal(agentbin_elf_info(bin, &arch, &st, &err), 0);
	assert_string_equal(arch, agentbin_host_arch());
	assert_int_equal(st, 0);
	assert_int_equal(agentbin_elf_info("/etc/hostname", &arch, &st, &err) < 0 ||
			 agentbin_elf_info("/etc/passwd", &arch, &st, &err) < 0, 1);
	err = (struct error)ERROR_INIT;
}

/* A fake ELF header for machine (62 x86-64, 183 aarch64), static. */
static void write_elf(const char *path, unsigned machine)
{
	unsigned char h[64 + 56];
	FILE *f;

	memset(h, 0, sizeof(h));
	memcpy(h, "\177ELF", 4);
	h[4] = 2;		/* 64-bit */
	h[5] = 1;		/* little endian */
	h[6] = 1;
	h[16] = 2;		/* ET_EXEC */
	h[18] = (unsigned char)(machine & 0xff);
	h[19] = (unsigned char)(machine >> 8);
	h[32] = 64;		/* e_phoff */
	h[54] = 56;		/* e_phentsize */
	h[56] = 1;		/* e_phnum: one PT_LOAD */
	h[64] = 1;
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(h, 1, sizeof(h), f);
	fclose(f);
	chmod(path, 0755);
}

static void test_find(void **state)
{
	char tmpl[] = "/tmp/frugal-agentbin-XXXXXX", *d, *self, *arm, *x86, *got = NULL;
	char *distd, *dist_arm;
	const char *bin = getenv("FRUGAL_BIN"), *host = agentbin_host_arch();
	const char *other = !strcmp(host, "x86_64") ? "aarch64" : "x86_64";
	struct error err = ERROR_INIT;

	(void)state;
	d = mkdtemp(tmpl);
	assert_non_null(d);
	self = xasprintf("%s/frugal", d);
	assert_int_equal(fs_copy_atomic(bin, self, 0755, 1, NULL), 0);
	/* Nothing for the other arch: the error says what to build. */
	assert_int_equal(agentbin_find(other, self, NULL, "aws", "g5g.xlarge", &got, &err),
			 FRUGAL_ENOTFOUND);
	assert_non_null(strstr(error_msg(&err), "make dist"));
	assert_non_null(strstr(error_msg(&err), "g5g.xlarge"));
	assert_non_null(strstr(error_msg(&err), "backends.aws.agent_dist"));
	err = (struct error)ERROR_INIT;
	/* The host's arch: the running (dynamic) binary when nothing else is there. */
	assert_int_equal(agentbin_find(host, self, NULL, "aws", "t", &got, &err), 0);
	assert_string_equal(got, self);
	free(got);
	/* Beside frugal, in dist/: both arches, preferred to the dynamic self. */
	distd = xasprintf("%s/dist", d);
	mkdir(distd, 0755);
	arm = xasprintf("%s/frugal-linux-aarch64", distd);
	x86 = xasprintf("%s/frugal-linux-x86_64", d);
	write_elf(arm, 183);
	write_elf(x86, 62);
	assert_int_equal(agentbin_find("arm64", self, NULL, "aws", "t", &got, &err), 0);
	assert_string_equal(got, arm);
	free(got);
	assert_int_equal(agentbin_find("x86_64", self, NULL, "aws", "t", &got, &err), 0);
	assert_string_equal(got, x86);
	free(got);
	/* A file of the wrong machine under the right name is passed over. */
	write_elf(x86, 183);
	assert_int_equal(agentbin_find("x86_64", self, NULL, "aws", "t", &got, &err), 0);
	assert_string_equal(got, !strcmp(host, "x86_64") ? self : x86);
	free(got);
	/* agent_dist: that directory only. */
	assert_int_equal(agentbin_find("aarch64", self, distd, "gcp", "a4x-highgpu-4g", &got,
				       &err), 0);
	assert_string_equal(got, arm);
	free(got);
	assert_int_equal(agentbin_find("x86_64", self, distd, "gcp", "a2-highgpu-1g", &got, &err),
			 FRUGAL_ENOTFOUND);
	assert_non_null(strstr(error_msg(&err), "backends.gcp.agent_dist"));
	err = (struct error)ERROR_INIT;
	assert_int_equal(agentbin_find("sparc", self, NULL, "aws", "t", &got, &err), FRUGAL_EINVAL);
	err = (struct error)ERROR_INIT;
	dist_arm = arm;
	fs_remove_tree(d, NULL);
	free(distd);
	free(dist_arm);
	free(x86);
	free(self);
}

/* Run the boot check in sh with a uname that says machine; *ret_out
 * gets what it printed. */
static int run_check(const char *dir, const char *bin, const char *arch, const char *machine,
		     struct strbuf *out)
{
	struct strbuf sb = STRBUF_INIT;
	char *uname_path = xasprintf("%s/uname", dir), *script = NULL, *path_env;
	int rc;

	strbuf_addf(&sb, "#!/bin/sh\necho %s\n", machine);
	fs_write_atomic(uname_path, sb.buf, sb.len, 0755, 1, NULL);
	strbuf_reset(&sb);
	agentbin_boot_check(&sb);
	strbuf_addf(&sb, "if frugal_agent_check '%s' %s; then echo ok; exit 0; fi\n", bin, arch);
	agentbin_failure_status(&sb, "k3m9xq", 2, "\"$D/status.json\"");
	strbuf_adds(&sb, "exit 1\n");
	script = strbuf_detach(&sb, NULL);
	path_env = xasprintf("PATH=%s:/usr/bin:/bin", dir);
	{
		char *dir_env = xasprintf("D=%s", dir);
		char *envp[] = { path_env, dir_env, NULL };
		const char *argv[] = { "/bin/sh", "-c", script, NULL };
		struct proc pr = PROC_INIT;

		pr.argv = argv;
		pr.env = envp;
		pr.out = out;
		pr.timeout_ms = 10000;
		if (proc_run(&pr, &rc, NULL) < 0)
			rc = -1;
		free(dir_env);
	}
	free(path_env);
	free(script);
	free(uname_path);
	return rc;
}

static void test_boot_check(void **state)
{
	char tmpl[] = "/tmp/frugal-bootcheck-XXXXXX", *d = mkdtemp(tmpl), *status_path;
	const char *bin = getenv("FRUGAL_BIN"), *host = agentbin_host_arch();
	struct strbuf out = STRBUF_INIT, doc = STRBUF_INIT;
	struct attempt_status st = ATTEMPT_STATUS_INIT;
	struct error err = ERROR_INIT;
	char *broken;

	(void)state;
	assert_non_null(d);
	status_path = xasprintf("%s/status.json", d);
	assert_int_equal(run_check(d, bin, host, host, &out), 0);
	assert_non_null(strstr(out.buf, "ok"));
	/* The machine is aarch64, the binary x86_64. */
	strbuf_reset(&out);
	assert_int_equal(run_check(d, bin, "x86_64", "aarch64", &out), 1);
	assert_int_equal(fs_read_file(status_path, 1 << 20, &doc, NULL), 0);
	assert_int_equal(attempt_status_parse(doc.buf, doc.len, &st, &err), 0);
	assert_int_equal(st.phase, PHASE_EXITED);
	assert_int_equal(st.outcome, OUTCOME_LAUNCH_FAILED);
	assert_int_equal(st.attempt, 2);
	assert_string_equal(st.job_id, "k3m9xq");
	assert_string_equal(st.reason, "agent built for x86_64, machine is aarch64");
	attempt_status_release(&st);
	/* uname says arm64 on some systems: the same as aarch64. */
	strbuf_reset(&out);
	assert_int_equal(run_check(d, "/bin/true", "aarch64", "arm64", &out) == 0 ||
			 access("/bin/true", X_OK) != 0, 1);
	/* A binary that does not start: its last words, quotes removed. */
	broken = xasprintf("%s/frugal", d);
	fs_write_atomic(broken, "#!/bin/sh\necho 'error while loading \"libuv.so.1\": \\\\ no'"
			" >&2\nexit 127\n", 71, 0755, 1, NULL);
	strbuf_reset(&out);
	strbuf_reset(&doc);
	unlink(status_path);
	assert_int_equal(run_check(d, broken, host, host, &out), 1);
	assert_int_equal(fs_read_file(status_path, 1 << 20, &doc, NULL), 0);
	assert_int_equal(attempt_status_parse(doc.buf, doc.len, &st, &err), 0);
	assert_int_equal(st.outcome, OUTCOME_LAUNCH_FAILED);
	assert_non_null(strstr(st.reason, "the agent cannot start on this machine: "));
	assert_non_null(strstr(st.reason, "libuv.so.1"));
	attempt_status_release(&st);
	err = (struct error)ERROR_INIT;
	fs_remove_tree(d, NULL);
	free(broken);
	free(status_path);
	strbuf_release(&out);
	strbuf_release(&doc);
}

struct itype_case {
	const char *type;
	const char *arch;
	const char *image;	/* a part of the default image's name */
};

static void test_aws_itypes(void **state)
{
	static const struct itype_case cases[] = {
		{ "g5g.xlarge", "aarch64", "ARM64 Base OSS" },
		{ "g5g.metal", "aarch64", "ARM64 Base OSS" },
		{ "p6e-gb200.36xlarge", "aarch64", "ARM64" },
		{ "c7g.large", "aarch64", "ARM64" },
		{ "m6gd.xlarge", "aarch64", "ARM64" },
		{ "a1.large", "aarch64", "ARM64" },
		{ "p3.2xlarge", "x86_64", "Proprietary" },
		{ "p3.16xlarge", "x86_64", "Proprietary" },
		{ "p3dn.24xlarge", "x86_64", "Proprietary" },
		{ "g4dn.xlarge", "x86_64", "Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04)" },
		{ "g4ad.xlarge", "x86_64", "Base OSS" },
		{ "g5.xlarge", "x86_64", "Base OSS" },
		{ "gr6.4xlarge", "x86_64", "Base OSS" },
		{ "p4d.24xlarge", "x86_64", "Base OSS" },
		{ "p5en.48xlarge", "x86_64", "Base OSS" },
		{ "p6-b200.48xlarge", "x86_64", "Base OSS" },
		{ "inf2.xlarge", "x86_64", "Base OSS" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *img = aws_itype_default_image(cases[i].type);

		assert_string_equal(aws_itype_arch(cases[i].type), cases[i].arch);
		if (!strstr(img, cases[i].image))
			fail_msg("%s: image '%s' lacks '%s'", cases[i].type, img, cases[i].image);
		/* Never an x86 image for an arm machine, nor the other way. */
		assert_int_equal(strstr(img, "ARM64") != NULL,
				 !strcmp(cases[i].arch, "aarch64"));
		assert_string_equal(aws_itype_ec2_arch(cases[i].type),
				    !strcmp(cases[i].arch, "aarch64") ? "arm64" : "x86_64");
	}
}

/* The rule agrees with the Arch column of every row of the shipped catalog. */
static void test_aws_itypes_match_catalog(void **state)
{
	char *path = xasprintf("%s/catalog/aws/vms.csv", getenv("FRUGAL_SRC"));
	struct strbuf sb = STRBUF_INIT;
	struct csv_reader rd;
	struct error err = ERROR_INIT;
	char *f[32];
	size_t n, i, n_arm = 0, rows = 0;
	int col_type = -1, col_arch = -1;

	(void)state;
	assert_int_equal(fs_read_file(path, 64 << 20, &sb, NULL), 0);
	csv_reader_init(&rd, sb.buf, sb.len, path);
	assert_int_equal(csv_next_row(&rd, f, 32, &n, &err), 1);
	for (i = 0; i < n; i++) {
		if (!strcmp(f[i], "InstanceType"))
			col_type = (int)i;
		if (!strcmp(f[i], "Arch"))
			col_arch = (int)i;
	}
	assert_true(col_type >= 0 && col_arch >= 0);
	while (csv_next_row(&rd, f, 32, &n, &err) == 1) {
		const char *type = f[col_type], *arch = f[col_arch];

		if (strcmp(aws_itype_arch(type), agentbin_arch_normalize(arch)))
			fail_msg("%s: catalog says %s, rule says %s", type, arch,
				 aws_itype_arch(type));
		n_arm += !strcmp(arch, "arm64");
		rows++;
	}
	assert_true(rows > 1000 && n_arm > 0);
	strbuf_release(&sb);
	free(path);
}

static void test_gcp_machines(void **state)
{
	static const struct {
		const char *type, *accel;
		int gpus;
		const char *arch, *image;	/* image NULL: no default (an error) */
	} cases[] = {
		{ "a2-highgpu-1g", "A100", 1, "x86_64", "common-cu124-debian-11" },
		{ "n1-standard-8", "V100", 1, "x86_64", "common-cu124-debian-11" },
		{ "g2-standard-4", "L4", 1, "x86_64", "common-cu124-debian-11" },
		{ "a3-highgpu-8g", "H100", 8, "x86_64", "common-cu124-debian-11" },
		{ "a4-highgpu-8g", "B200", 8, "x86_64", "common-cu128-ubuntu-2204-nvidia-570" },
		{ "n1-standard-4", NULL, 0, "x86_64", "debian-12" },
		{ "c4a-standard-4", NULL, 0, "aarch64", "debian-12-arm64" },
		{ "t2a-standard-4", NULL, 0, "aarch64", "debian-12-arm64" },
		{ "a4x-highgpu-4g", "GB200", 4, "aarch64", NULL },
	};
	struct error err = ERROR_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *img = NULL;
		int r = gcp_machine_default_image(cases[i].type, cases[i].accel, cases[i].gpus,
						  &img, &err);

		assert_string_equal(gcp_machine_arch(cases[i].type), cases[i].arch);
		if (!cases[i].image) {
			assert_int_equal(r, FRUGAL_EINVAL);
			assert_non_null(strstr(error_msg(&err), "backends.gcp.image_gpu"));
			err = (struct error)ERROR_INIT;
			continue;
		}
		assert_int_equal(r, 0);
		if (!strstr(img, cases[i].image))
			fail_msg("%s: image '%s' lacks '%s'", cases[i].type, img, cases[i].image);
		assert_int_equal(strstr(img, "arm64") != NULL, !strcmp(cases[i].arch, "aarch64"));
	}
}

static void test_lambda_arch(void **state)
{
	(void)state;
	assert_string_equal(lambda_instance_arch("gpu_1x_gh200"), "aarch64");
	assert_string_equal(lambda_instance_arch("gpu_8x_gb200"), "aarch64");
	assert_string_equal(lambda_instance_arch("gpu_1x_h100_pcie"), "x86_64");
	assert_string_equal(lambda_instance_arch("gpu_1x_a10"), "x86_64");
	assert_string_equal(lambda_instance_arch(NULL), "x86_64");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arch_names),
		cmocka_unit_test(test_elf_info),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_boot_check),
		cmocka_unit_test(test_aws_itypes),
		cmocka_unit_test(test_aws_itypes_match_catalog),
		cmocka_unit_test(test_gcp_machines),
		cmocka_unit_test(test_lambda_arch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
