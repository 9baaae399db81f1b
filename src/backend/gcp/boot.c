/*
 * gcp_boot: what a GCE VM is given to start the agent (see gcp_boot.h).
 */
#include "backend/gcp/boot.h"
#include "contract/secrets.h"
#include "backend/common/agentbin.h"
#include "contract/key.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "util/http.h"
#include "util/tar.h"
#include "util/tree.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* NAME=<shell-quoted value>\n */
static void add_assignment(struct strbuf *sb, const char *name, const char *value)
{
	strbuf_addf(sb, "%s=", name);
	strbuf_add_shell_quoted(sb, value);
	strbuf_addch(sb, '\n');
}

/* The fixed part of the script: functions and the dead-man switch. */
static const char script_functions[] =
	"log() { echo \"frugal-boot: $*\"; }\n"
	"md() { curl -sSf --retry 5 --retry-connrefused -H 'Metadata-Flavor: Google' \"$_fb_md/$1\"; }\n"
	"# The VM's token as a header file: never on a command line.\n"
	"auth() {\n"
	"\tmd instance/service-accounts/default/token |\n"
	"\t\tsed -n 's/.*\"access_token\" *: *\"\\([^\"]*\\)\".*/Authorization: Bearer \\1/p' \\\n"
	"\t\t>\"$_fb_root/.auth\"\n"
	"\t[ -s \"$_fb_root/.auth\" ]\n"
	"}\n"
	"gcs_get() {\n"
	"\tcurl -sSf --retry 5 --retry-connrefused -H @\"$_fb_root/.auth\" -o \"$2\" \\\n"
	"\t\t\"$_fb_gcs/storage/v1/b/$_fb_bucket/o/$1?alt=media\"\n"
	"}\n"
	"# Dead-man switch: however this script ends, this VM is deleted.\n"
	"end_vm() {\n"
	"\trc=$?\n"
	"\tset +e\n"
	"\tlog \"ending this VM (exit status $rc)\"\n"
	"\tauth\n"
	"\t# The agent never started: keep what the boot said, for the user.\n"
	"\tif [ -z \"${_fb_started:-}\" ] && [ -s \"$_fb_root/boot.log\" ]; then\n"
	"\t\tcurl -sS --retry 3 -X POST -H @\"$_fb_root/.auth\" \\\n"
	"\t\t\t-H 'Content-Type: text/plain' --data-binary @\"$_fb_root/boot.log\" \\\n"
	"\t\t\t\"$_fb_gcs/upload/storage/v1/b/$_fb_bucket/o?uploadType=media&name=$_fb_boot_log\" \\\n"
	"\t\t\t>/dev/null\n"
	"\tfi\n"
	"\tproject=$(md project/project-id); zone=$(md instance/zone); name=$(md instance/name)\n"
	"\tif curl -sSf --retry 3 -X DELETE -H @\"$_fb_root/.auth\" \\\n"
	"\t\t\"$_fb_compute/projects/$project/zones/${zone##*/}/instances/$name\" >/dev/null; then\n"
	"\t\trm -f \"$_fb_root/.auth\"\n"
	"\t\treturn\n"
	"\tfi\n"
	"\trm -f \"$_fb_root/.auth\"\n"
	"\tlog \"cannot delete this VM through the API\"\n"
	"\tif [ -z \"${FRUGAL_GCE_METADATA_URL:-}\" ]; then shutdown -h now; fi\n"
	"}\n";

/* The startup-script (see gcp_boot.h for what it does, step by step). */
char *gcp_boot_script(const struct gcp_boot *b)
{
	struct strbuf sb = STRBUF_INIT;
	char *bin = http_urlencode(b->bin_object, 0), *boot_log;

	strbuf_addf(&sb, "#!/bin/bash\n"
		    "# frugal: boot of attempt %s (made by the gcp backend; see docs/GCP.md)\n"
		    "set -eu\numask 077\n", b->token);
	strbuf_adds(&sb, "_fb_md=${FRUGAL_GCE_METADATA_URL:-"
		    "http://metadata.google.internal/computeMetadata/v1}\n");
	strbuf_adds(&sb, "_fb_root=${FRUGAL_GCE_ROOT:-/var/lib/frugal}/");
	strbuf_add_shell_quoted(&sb, b->token);
	strbuf_addch(&sb, '\n');
	add_assignment(&sb, "_fb_gcs", b->gcs_endpoint ? b->gcs_endpoint
						       : "https://storage.googleapis.com");
	add_assignment(&sb, "_fb_bucket", b->bucket);
	boot_log = http_urlencode(b->boot_log_object, 0);
	add_assignment(&sb, "_fb_boot_log", boot_log);
	if (b->gcs_endpoint) {
		strbuf_adds(&sb, "export FRUGAL_GCS_ENDPOINT=");
		strbuf_add_shell_quoted(&sb, b->gcs_endpoint);
		strbuf_addch(&sb, '\n');
	}
	if (b->compute_endpoint) {
		strbuf_adds(&sb, "export FRUGAL_GCP_COMPUTE_URL=");
		strbuf_add_shell_quoted(&sb, b->compute_endpoint);
		strbuf_addch(&sb, '\n');
	}
	strbuf_adds(&sb, "_fb_compute=${FRUGAL_GCP_COMPUTE_URL:-"
		    "https://compute.googleapis.com/compute/v1}\n");
	strbuf_adds(&sb, script_functions);
	strbuf_adds(&sb, "mkdir -p \"$_fb_root\"\ncd \"$_fb_root\"\n"
		    "exec > >(tee -a \"$_fb_root/boot.log\") 2>&1\n"
		    "trap end_vm EXIT\nauth\n");

	strbuf_adds(&sb, "log 'fetching the agent'\ngcs_get ");
	strbuf_add_shell_quoted(&sb, bin);
	strbuf_adds(&sb, " frugal.part\necho ");
	strbuf_add_shell_quoted(&sb, b->bin_sha256);
	strbuf_adds(&sb, "'  frugal.part' | sha256sum -c --quiet\n"
		    "chmod 0700 frugal.part\nmv frugal.part frugal\n"
		    "if ldd ./frugal 2>/dev/null | grep -q 'not found'; then\n"
		    "\tlog \"installing the agent's libraries\"\n"
		    "\texport DEBIAN_FRONTEND=noninteractive\n"
		    "\tapt-get update -q && apt-get install -y -q ");
	strbuf_adds(&sb, b->packages);
	strbuf_adds(&sb, " || true\nfi\n");
	if (b->arch) {
		/* An agent that cannot start says why, at once, and the VM ends. */
		agentbin_boot_check(&sb);
		strbuf_addf(&sb, "if ! frugal_agent_check ./frugal %s; then\n"
			    "\tlog \"$frugal_reason\"\n", b->arch);
		if (b->status_object && b->job_id) {
			char *so = http_urlencode(b->status_object, 0);

			agentbin_failure_status(&sb, b->job_id, b->attempt, ".status.json");
			strbuf_adds(&sb, "\tcurl -sS --retry 3 -X POST -H @\"$_fb_root/.auth\""
				    " -H 'Content-Type: application/json' --data-binary @.status.json"
				    " \"$_fb_gcs/upload/storage/v1/b/$_fb_bucket/o?uploadType=media&name=");
			strbuf_adds(&sb, so);
			strbuf_adds(&sb, "\" >/dev/null || true\n");
			free(so);
		}
		strbuf_adds(&sb, "\texit 1\nfi\n");
	}

	if (b->workdir_object) {
		char *wd = http_urlencode(b->workdir_object, 0);
		strbuf_adds(&sb, "log 'fetching the workdir'\ngcs_get ");
		strbuf_add_shell_quoted(&sb, wd);
		strbuf_adds(&sb, " workdir.tar\nmkdir -p workdir\n"
			    "tar -xf workdir.tar -C workdir\nrm -f workdir.tar\n");
		free(wd);
	}
	if (b->data_device) {
		strbuf_adds(&sb, "_fb_dev=/dev/disk/by-id/google-");
		strbuf_add_shell_quoted(&sb, b->data_device);
		strbuf_adds(&sb, "\n_fb_data=");
		strbuf_add_shell_quoted(&sb, b->data_mount ? b->data_mount : "/mnt/data");
		strbuf_adds(&sb, "\nif [ -e \"$_fb_dev\" ]; then\n"
			    "\tmkdir -p \"$_fb_data\"\n"
			    "\tmount -o ro,noload \"$_fb_dev\" \"$_fb_data\" || mount -o ro \"$_fb_dev\" \"$_fb_data\"\n"
			    "\tlog \"data disk mounted read-only at $_fb_data\"\n"
			    "else\n\tlog \"no data disk device $_fb_dev\"\nfi\n");
	}
	for (size_t i = 0; i < b->n_volumes; i++)
		strbuf_addf(&sb, "_fb_dev=/dev/disk/by-id/google-frugal-vol-%zu\n"
			    "_fb_vol=" PROVIDER_VOLUME_ROOT "/%zu\n"
			    "for _fb_i in $(seq ${FRUGAL_GCE_DISK_WAIT:-30}); do [ -e \"$_fb_dev\" ] && break; sleep 2; done\n"
			    "if [ ! -e \"$_fb_dev\" ]; then\n"
			    "\tlog \"volume %zu: no disk device $_fb_dev (the disk was not attached)\"\n"
			    "\texit 1\nfi\n"
			    "mkdir -p \"$_fb_vol\" &&\n"
			    "{ mount -o ro,noload \"$_fb_dev\" \"$_fb_vol\" 2>/dev/null ||"
			    " mount -o ro \"$_fb_dev\" \"$_fb_vol\"; } ||"
			    " { log \"volume %zu: mounting $_fb_dev read-only at $_fb_vol failed\"; exit 1; }\n"
			    "log \"volume %zu: $_fb_dev mounted read-only at $_fb_vol\"\n",
			    b->volumes[i], b->volumes[i], b->volumes[i], b->volumes[i], b->volumes[i]);
	strbuf_adds(&sb, "md instance/attributes/frugal-agent-json >agent.json\n");
	if (b->secrets_object) {
		char *so = http_urlencode(b->secrets_object, 0);

		/* Sealed in the bucket, the key in the metadata: the agent
		 * opens the file into its environment and deletes it. */
		strbuf_adds(&sb, "log 'fetching the sealed secrets'\ngcs_get ");
		strbuf_add_shell_quoted(&sb, so);
		strbuf_addf(&sb, " %s\n%s=$(md instance/attributes/frugal-secrets-key)\n"
			    "export %s\n", SECRETS_SEALED_NAME, SECRETS_KEY_ENV, SECRETS_KEY_ENV);
		free(so);
	}
	strbuf_adds(&sb, "rm -f .auth\n"
		    "log 'starting the agent'\n"
		    "_fb_started=1\n"
		    "./frugal agent --instance-dir \"$_fb_root\"\n");
	free(bin);
	free(boot_log);
	return strbuf_detach(&sb, NULL);
}

/* ---- the bucket ---------------------------------------------------------------- */

/* Hex SHA-256 of a file into *ret. */
static int file_sha256(const char *path, char **ret, struct error *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536], out[32];
	unsigned int len = 0, i;
	FILE *f = fopen(path, "rbe");
	char hex[65];
	size_t n;
	int r = 0;

	if (!f) {
		r = error_errno(err, "cannot read '%s'", path);
		goto out;
	}
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	if (ferror(f)) {
		r = error_errno(err, "cannot read '%s'", path);
		goto out;
	}
	EVP_DigestFinal_ex(md, out, &len);
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
	*ret = xstrdup(hex);
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(md);
	return r;
}

/* The agent's binary into the bucket, content-addressed. */
int gcp_boot_put_binary(struct storage *st, const char *bin, char **io_sha, char **ret_key,
			struct error *err)
{
	char *key;
	int r;

	if (!*io_sha && (r = file_sha256(bin, io_sha, err)) < 0) {
		error_prefix(err, "the agent's binary (backends.gcp.agent_binary)");
		return r;
	}
	key = xasprintf("frugal/bin/%s", *io_sha);
	r = storage_stat(st, key, NULL, NULL, err);
	if (r == FRUGAL_ENOTFOUND) {
		r = storage_put_file(st, key, bin, STORAGE_NO_OVERWRITE, err);
		if (r == FRUGAL_EEXIST)
			r = 0;
	}
	if (r < 0) {
		free(key);
		error_prefix(err, "cannot store the agent's binary");
		return r;
	}
	*ret_key = key;
	return 0;
}

/* The job's workdir as a tar in the bucket, once per job. */
int gcp_boot_put_workdir(struct storage *st, const char *tmp_dir,
			 const struct launch_request *req, char **ret_key, struct error *err)
{
	char *key = key_job(req->job_prefix, "boot/workdir.tar");
	char *tmp = xasprintf("%s/gcp-%s", tmp_dir, req->token);
	char *copy = fs_path_join(tmp, "workdir"), *tgz = fs_path_join(tmp, "workdir.tar");
	struct tree_stats stats = TREE_STATS_INIT;
	int r;

	r = storage_stat(st, key, NULL, NULL, err);
	if (r == 0)
		goto done;
	if (r != FRUGAL_ENOTFOUND)
		goto out;
	fs_remove_tree(tmp, NULL);
	if ((r = fs_mkdir_p(copy, 0700, err)) < 0 ||
	    (r = tree_copy(req->task->workdir, copy, &stats, err)) < 0 ||
	    (r = tar_write_tree(copy, tgz, err)) < 0) {
		error_prefix(err, "cannot pack workdir '%s'", req->task->workdir);
		goto out;
	}
	r = storage_put_file(st, key, tgz, STORAGE_NO_OVERWRITE, err);
	if (r == FRUGAL_EEXIST)
		r = 0;
	if (r < 0)
		goto out;
done:
	*ret_key = key;
	key = NULL;
	r = 0;
out:
	fs_remove_tree(tmp, NULL);
	free(key);
	free(tmp);
	free(copy);
	free(tgz);
	return r;
}

/* The bucket of a gs:// URL. */
char *gcp_boot_bucket(const char *url)
{
	const char *rest = url + 5, *slash = strchr(rest, '/');

	return slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
}

/* The object name of key under a gs:// URL's prefix. */
char *gcp_boot_object(const char *url, const char *key)
{
	const char *slash = strchr(url + 5, '/');

	return slash && slash[1] ? xasprintf("%s/%s", slash + 1, key) : xstrdup(key);
}

/* agent.json for the VM (see gcp_boot.h). */
char *gcp_boot_agent_json(const struct launch_request *req, int gpus, int has_workdir)
{
	struct agent_doc d;
	char *text;

	provider_agent_doc_remote(req, "gcp", gpus, &d);
	d.work_dir = xstrdup("work");
	d.checkpoint_dir = xstrdup("checkpoint");
	d.output_dir = xstrdup("outputs");
	d.own_machine = 1;
	agent_doc_set_task_workdir(&d, has_workdir ? "workdir" : NULL);
	text = agent_doc_to_json(&d);
	agent_doc_release(&d);
	return text;
}
