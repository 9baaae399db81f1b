/*
 * gcp_boot: what a GCE VM of an attempt is given to start the agent: in
 * the job's bucket, the frugal binary (frugal/bin/SHA256, stored once)
 * and the workdir (JOB_PREFIX/boot/workdir.tar, once per job); as
 * instance metadata items:
 *
 *   startup-script      the bash script below (gcp_boot_script)
 *   frugal-agent-json   agent.json (agent.h), directories relative to the
 *                       attempt's root, task.workdir "workdir"
 *   frugal-secrets-key  the key of the attempt's sealed secrets
 *                       (contract/secrets.h), only when there are any;
 *                       the secrets themselves are in the bucket, sealed,
 *                       as JOB_PREFIX/attempts/N/secrets.sealed: a reader
 *                       of the metadata alone or of the bucket alone
 *                       cannot open them
 *
 * The script (run as root by the guest environment at boot):
 *   1. makes ROOT = ${FRUGAL_GCE_ROOT:-/var/lib/frugal}/TOKEN (0700), copies
 *      its output to ROOT/boot.log (stored as JOB_PREFIX/attempts/N/
 *      boot.log when the agent never starts) and arms an EXIT trap, the
 *      dead-man switch of the seed's
 *      `trap shutdown EXIT`: whatever ends the script, it deletes this VM
 *      through the Compute API with the VM's own token, and only when that
 *      fails (and this is a real VM, no FRUGAL_GCE_METADATA_URL) powers
 *      it off;
 *   2. writes the VM service account's token from the metadata server to
 *      a 0600 header file (curl -H @FILE: never on a command line);
 *   3. downloads the frugal binary from the job's bucket and checks its
 *      SHA-256, installs its libraries with apt-get when ldd finds some
 *      missing, downloads and unpacks the workdir bundle;
 *      checks that the VM is the architecture the binary is for (uname -m)
 *      and that it starts (`frugal version`); when not, stores a
 *      status.json with outcome launch_failed and the reason and ends;
 *   4. mounts the data disk read-only when one is attached, and each of
 *      the task's disks (/dev/disk/by-id/google-frugal-vol-INDEX,
 *      waited for up to 60 s) read-only (ext4: ro,noload) at
 *      /mnt/frugal-volumes/INDEX, which the agent links at the mount
 *      path; a device that never appears or a mount that fails ends the
 *      boot naming it (the EXIT trap deletes the VM);
 *   5. reads agent.json from the metadata server, downloads the sealed
 *      secrets from the bucket and exports their key from the metadata
 *      server (FRUGAL_SECRETS_KEY: the agent opens and deletes the file),
 *      and runs `frugal agent --instance-dir ROOT` in the foreground.
 * The metadata server URL is overridable (FRUGAL_GCE_METADATA_URL), which
 * is how tests run the script on a machine that is no VM.
 */
#ifndef FRUGAL_PROVIDER_GCP_BOOT_H
#define FRUGAL_PROVIDER_GCP_BOOT_H

#include "backend/provider.h"
#include "spec/task.h"
#include "storage/storage.h"

struct gcp_boot {
	const char *token;		/* the attempt */
	const char *gcs_endpoint;	/* exported when not the default, else NULL */
	const char *compute_endpoint;	/* exported when not the default, else NULL */
	const char *bucket;
	const char *bin_object;		/* object name of the frugal binary */
	const char *bin_sha256;		/* its hex SHA-256 */
	const char *workdir_object;	/* the workdir bundle (tar), or NULL */
	const char *boot_log_object;	/* where the boot's output goes if the agent never starts */
	const char *secrets_object;	/* the sealed secrets, or NULL */
	const char *data_device;	/* device name of the data disk, or NULL */
	const char *data_mount;		/* where it goes ("/mnt/data") */
	const size_t *volumes;		/* the task's gce-disk volumes' indexes: device
					 * google-frugal-vol-INDEX mounted read-only at
					 * PROVIDER_VOLUME_ROOT/INDEX before the agent */
	size_t n_volumes;
	const char *packages;		/* apt packages of the agent's libraries */
	const char *arch;		/* the VM's (uname -m) the binary is for, or NULL */
	const char *status_object;	/* status.json of the attempt: a boot that cannot
					 * start the agent stores launch_failed there */
	const char *job_id;
	int attempt;
};

/* Store the agent's binary (the file bin) as frugal/bin/SHA256 in st
 * unless it is there; *io_sha caches its hex SHA-256 (computed when NULL).
 * *ret_key is the key (caller frees). */
int gcp_boot_put_binary(struct storage *st, const char *bin, char **io_sha, char **ret_key,
			struct error *err);

/* Store the job's workdir (.gitignore/.frugalignore honoured, packed with
 * with util/tar under tmp_dir) as JOB_PREFIX/boot/workdir.tar, once per job: an
 * attempt after the first finds it there. *ret_key is the key. */
int gcp_boot_put_workdir(struct storage *st, const char *tmp_dir,
			 const struct launch_request *req, char **ret_key, struct error *err);

/* The bucket of a gs:// URL, and the object name of a key under it
 * ("gs://b/p" + "k" -> "p/k"). Caller frees. */
char *gcp_boot_bucket(const char *url);
char *gcp_boot_object(const char *url, const char *key);

/* agent.json for the VM (agent.h): backend gcp, GPUs "0".."gpus-1",
 * directories relative to the attempt's root, task.workdir "workdir"
 * (null without one), no controller socket. Caller frees. */
char *gcp_boot_agent_json(const struct launch_request *req, int gpus, int has_workdir);

/* The startup-script text for b. Caller frees. */
char *gcp_boot_script(const struct gcp_boot *b);


#endif
