/*
 * aws: the descriptor (backend.h). EC2 through the Query API, storage on
 * S3; see aws.c, vm.h and docs/AWS.md.
 */
#include "backend/agentops.h"
#include "backend/aws/account.h"
#include "backend/aws/creds.h"
#include "backend/aws/s3.h"
#include "backend/aws/vm.h"
#include "backend/backend.h"

#include <stdio.h>

extern const struct provider_ops aws_provider_ops;

static const struct config_setting aws_settings[] = {
	{ "regions", CONFIG_LIST, "regions frugal may launch in (default: every one priced)" },
	{ "image_id", CONFIG_STRING, "the AMI to boot (default: found by image_name)" },
	{ "image_name", CONFIG_STRING, "AMI name pattern to look up" },
	{ "image_owner", CONFIG_STRING, "owner of the AMIs looked up" },
	{ "instance_profile", CONFIG_STRING, "IAM instance profile (S3 access for the agent)" },
	{ "key_name", CONFIG_STRING, "EC2 key pair for SSH" },
	{ "security_group_ids", CONFIG_LIST, "security groups of the instances" },
	{ "subnet_id", CONFIG_STRING, "subnet(s) of the instances (a comma list: one per zone)" },
	{ "disk_size", CONFIG_INT, "root volume GiB" },
	{ "boot_url_ttl", CONFIG_DURATION, "lifetime of the presigned boot URLs" },
	{ "live_spot_prices", CONFIG_BOOL, "ask EC2 for current spot prices when planning" },
	{ "owner", CONFIG_STRING, "the owner tag of the instances" },
	{ "frugal_bin", CONFIG_STRING, "the frugal binary uploaded for the agent" },
	{ "agent_dist", CONFIG_STRING, "directory with frugal-linux-x86_64 and -aarch64 for the machines (make dist)" },
	BACKEND_COMMON_SETTINGS,
	{ NULL, 0, NULL },
};

static void aws_credentials(const struct config *cfg, struct backend_credentials *ret)
{
	ret->hint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws configure'"
		    " (or 'aws configure sso' and 'aws sso login')";
	const char *regions = cfg ? config_backend_get(cfg, "aws", "regions") : NULL;

	ret->found = aws_creds_where(ret->where, sizeof(ret->where)) ||
		     backend_credentials_machine(ret, "Amazon EC2",
						 "this instance's role (metadata service)");
	snprintf(ret->scope, sizeof(ret->scope), "%s%s",
		 regions && *regions ? "regions " : "every region enabled for the account",
		 regions && *regions ? regions : "");
}

/* The instance metadata service's spot/instance-action (a spot instance
 * reclaimed, two minutes before), polled every 5 s (vm.h); SIGTERM when
 * the guest shuts down; notice.json + SIGUSR2 by hand on the instance. A
 * cancel comes as SIGINT. */
static const struct notice_source_ops *const aws_sources[] = {
	&notice_aws_ops, &notice_sigterm_ops, &notice_local_ops, NULL,
};

/* Power off; launched with InstanceInitiatedShutdownBehavior terminate,
 * the instance and its root volume end (vm.h). */
static const struct machine_ops aws_machine = {
	"powering off; the instance terminates on shutdown", machine_aws_end,
};

static const struct agent_ops aws_agent = { aws_sources, &aws_machine };

/* An EBS snapshot made into a volume of each instance, in its zone, by
 * RunInstances' block device mapping (deleted on termination; aws.c,
 * docs/AWS.md "Volumes"). */
static const struct volume_kind aws_volume_kinds[] = {
	{ "ebs", "an EBS snapshot (ebs://snap-ID), made into a volume per machine", 1, 0 },
	{ NULL, NULL, 0, 0 },
};

const struct backend aws_backend = {
	.name = "aws",
	.title = "Amazon EC2",
	.caps = BACKEND_CAP_SPOT | BACKEND_CAP_NOTICE | BACKEND_CAP_IMAGES | BACKEND_CAP_PORTS |
		BACKEND_CAP_PRICE_TABLE | BACKEND_CAP_DOCKER_ON_VM | BACKEND_CAP_VOLUMES,
	.settings = aws_settings,
	.credentials = aws_credentials,
	/* EC2 bills Linux instances per second, with a 60-second minimum. */
	.billing = { 60, 1 },
	.boot_timeout_s = 600,
	.heartbeat_timeout_s = 120,
	.preemption_rate = 0.05,
	.provider = &aws_provider_ops,
	.agent = &aws_agent,
	.storage = &storage_s3_ops,
	.volume_kinds = aws_volume_kinds,
	.storage_check = aws_account_storage_check,
	.probe = aws_account_probe,
};
