/*
 * awsboot: what an EC2 instance of frugal boots with. The controller
 * stores the attempt's files in the job's S3 storage and gives the
 * instance a UserData script (this module writes it) that fetches them
 * with presigned URLs, so the image needs only bash, curl, tar and
 * sha256sum (and frugal's runtime libraries when the binary is fetched):
 *
 *   jobs/JOB/attempts/N/agent.json    the agent's instructions (no secret)
 *   jobs/JOB/workdir.tar              task.workdir, .gitignore and
 *                                     .frugalignore honoured (once per job)
 *   jobs/JOB/attempts/N/secrets.sealed  the secrets sealed (contract/secrets.h),
 *                                     only when the task has secrets; the
 *                                     agent opens and deletes it on the
 *                                     machine with the key this script
 *                                     exports (FRUGAL_SECRETS_KEY); deleted
 *                                     from S3 at teardown
 *   bin/frugal-SHA256                 this frugal binary, unless
 *                                     backends.aws.frugal_bin names one the
 *                                     image has
 *
 * The script (bash, run once by cloud-init as root) works in
 * $FRUGAL_AWS_ROOT/TOKEN (default /var/lib/frugal/TOKEN), logs to
 * TOKEN.boot.log beside it, schedules `shutdown -h +M` as a hard cap when
 * the task has stop.max_runtime, runs `frugal agent --instance-dir DIR`,
 * and powers the machine off when the agent exits or anything before it
 * fails (a trap on EXIT): the instance is launched with
 * InstanceInitiatedShutdownBehavior=terminate, so power-off ends it.
 * Before it powers off, the trap stores TOKEN.boot.log at
 * jobs/JOB/attempts/N/boot.log with a presigned PUT (bootlog_url), so
 * that a boot that failed can be read after the machine is gone.
 * Before the agent runs, the script checks that the machine is the
 * architecture the binary was built for (uname -m) and that the binary
 * starts (`frugal version`); when not, it stores a status.json with
 * outcome launch_failed and the reason ("agent built for x86_64, machine
 * is aarch64") with a presigned PUT (status_url), and powers off.
 * Volumes from EBS snapshots are attached by RunInstances as /dev/sdf,
 * /dev/sdg, ...; the script waits up to 3 minutes for each, as that name,
 * its /dev/xvdX alias, or (Nitro machines, where every volume is NVMe) the
 * NVMe device whose EBS device name `nvme id-ctrl -v` reports, mounts it
 * at PROVIDER_VOLUME_ROOT/INDEX (-o ro when read_only), and fails the boot
 * naming the device when it never appears.
 * Presigned URLs go in curl config files (curl -K), never on a command line.
 */
#ifndef FRUGAL_PROVIDER_AWSBOOT_H
#define FRUGAL_PROVIDER_AWSBOOT_H

#include "spec/volume.h"

#include <stdint.h>

#include "base/error.h"
#include "base/strbuf.h"
#include "spec/task.h"

/* EC2 takes at most 16 KB of UserData before base64. */
#define AWSBOOT_USERDATA_MAX 16384

struct awsboot {
	const char *job_id;
	int attempt;
	const char *token;
	const char *frugal_bin;		/* frugal on the image, or NULL: fetch it */
	const char *frugal_url;		/* presigned; with frugal_sha256 */
	const char *frugal_sha256;
	const char *agent_url;		/* presigned agent.json */
	const char *workdir_url;	/* presigned workdir.tar, or NULL */
	const char *secrets_url;	/* presigned secrets.sealed, or NULL */
	const char *secrets_key;	/* its key, 64 hex digits, with secrets_url */
	const char *bootlog_url;	/* presigned PUT of boot.log, or NULL */
	const char *status_url;		/* presigned PUT of status.json, or NULL */
	const char *arch;		/* the machine's (uname -m) the binary is for */
	const char *s3_endpoint;	/* AWS_ENDPOINT_URL_S3 for the agent, or NULL */
	int64_t hard_limit_s;		/* shutdown -h +M after this; 0: none */
	int64_t urls_expire_ms;		/* for the comment */
	/* The task's volumes: each ebs one (the block device mappings
	 * /dev/sdf, /dev/sdg, ... in order) is found and mounted at
	 * PROVIDER_VOLUME_ROOT/INDEX (its index in the list) before the agent
	 * runs, read-only when asked. May be NULL. */
	const struct volume_list *volumes;
};

/* The UserData script. Caller frees. */
char *awsboot_script(const struct awsboot *b);

#endif
