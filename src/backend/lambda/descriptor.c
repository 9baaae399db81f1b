/*
 * lambda: the descriptor (backend.h). Lambda Cloud instances through its
 * REST API, reached over SSH (backend/common/cloud.h); see lambda.h and
 * docs/LAMBDA.md.
 */
#include "backend/agentops.h"
#include "backend/backend.h"
#include "backend/common/cloud.h"
#include "backend/lambda/lambda.h"

#include <string.h>
#include <strings.h>

extern const struct provider_ops lambda_provider_ops;

/* A file:// storage is the laptop's disk: the machines reach it only
 * through a Lambda file system (or a shared mount); s3:// and gs:// are handed to
 * the agent as they are. */
static int lambda_storage_check(const struct config *cfg, const char *url, struct error *err)
{
	const char *shared = cfg ? config_backend_get(cfg, "lambda", "shared_storage") : NULL;
	const char *mount = cfg ? config_backend_get(cfg, "lambda", "file_system") : NULL;

	if ((url && strncmp(url, "file://", 7)) || (mount && *mount) ||
	    (shared && (!strcasecmp(shared, "true") || !strcasecmp(shared, "yes"))))
		return 0;
	return error_set(err, FRUGAL_EINVAL, "backend lambda cannot reach the storage '%s' from its"
			 " machines: name a Lambda file system in config.yaml (backends.lambda.file_system), or"
			 " set storage: to an s3:// or gs:// URL", url ? url : "under FRUGAL_HOME");
}

/* Exactly the keys lambda.c reads (config_backend_get through cfg() and
 * cloud_cfg_seconds). */
static const struct config_setting lambda_settings[] = {
	{ "api_key_file", CONFIG_STRING, "file holding the API key (default LAMBDA_API_KEY)" },
	{ "base_url", CONFIG_STRING, "API base URL (tests)" },
	{ "ssh_key", CONFIG_STRING, "private key for the instances" },
	{ "ssh_key_name", CONFIG_STRING, "the SSH key's name in Lambda Cloud" },
	{ "ssh_user", CONFIG_STRING, "user on the instances (default ubuntu)" },
	{ "ssh_command", CONFIG_STRING, "ssh to use (default ssh)" },
	{ "file_system", CONFIG_STRING, "a Lambda file system attached to every instance" },
	{ "shared_storage", CONFIG_BOOL, "the instances see the controller's storage" },
	{ "remote_frugal", CONFIG_STRING, "the frugal binary on the instances" },
	{ "self_terminate", CONFIG_BOOL, "the instance ends itself when done (default true)" },
	{ "request_interval", CONFIG_SECONDS, "least time between API requests" },
	{ "launch_interval", CONFIG_SECONDS, "least time between launches" },
	{ "capacity_cache", CONFIG_SECONDS, "how long the capacity list is reused" },
	{ "capacity_block", CONFIG_SECONDS, "how long a type without capacity is skipped" },
	{ "sync_interval", CONFIG_SECONDS, "how often status is mirrored" },
	{ "release_wait", CONFIG_SECONDS, "how long a finished instance waits to be mirrored" },
	{ "agent_dist", CONFIG_STRING, "directory with frugal-linux-x86_64 and -aarch64 for the machines (make dist)" },
	BACKEND_COMMON_SETTINGS,
	{ NULL, 0, NULL },
};

static void lambda_credentials(const struct config *cfg, struct backend_credentials *ret)
{
	ret->hint = "set LAMBDA_API_KEY or write it to ~/.lambda_cloud/lambda_keys";
	if (!backend_credentials_env(ret, "LAMBDA_API_KEY") &&
	    !backend_credentials_home_file(ret, ".lambda_cloud/lambda_keys"))
		backend_credentials_setting(ret, cfg, "lambda", "api_key_file");
}

/* notice.json + SIGUSR2 (from `frugal debug preempt` over SSH), SIGUSR1. */
static const struct notice_source_ops *const lambda_sources[] = {
	&notice_local_ops, &notice_sigusr1_ops, NULL,
};

/* Once the controller has mirrored the final status (or release_wait
 * passed), the instance terminates itself through the API as
 * INSTANCE_DIR/self.json says (cloud.h). */
static int lambda_end(const struct machine_self *self, struct error *err)
{
	return cloud_self_end(self->instance_dir, err);
}

static const struct machine_ops lambda_machine = {
	"terminating this Lambda instance through the API", lambda_end,
};

static const struct agent_ops lambda_agent = { lambda_sources, &lambda_machine };

/* A file system of the account by name, attached at launch and mounted by
 * Lambda at /lambda/nfs/NAME; the instance in its region (lambda.c). The
 * file system is the user's: frugal never makes or deletes one. */
static const struct volume_kind lambda_volume_kinds[] = {
	{ LAMBDA_FS_KIND, "a Lambda file system by name (lambda-fs://NAME)", 0, 0 },
	{ VOLUME_KIND_NAME, "a file system by name (SkyPilot's form, volumes: {PATH: NAME})", 0, 0 },
	{ NULL, NULL, 0, 0 },
};

const struct backend lambda_backend = {
	.name = "lambda",
	.title = "Lambda Cloud",
	.caps = BACKEND_CAP_NOTICE | BACKEND_CAP_VOLUMES | BACKEND_CAP_PRICE_TABLE |
		BACKEND_CAP_DOCKER_ON_VM,
	.settings = lambda_settings,
	.credentials = lambda_credentials,
	/* Lambda Cloud bills in one-minute increments. */
	.billing = { 0, 60 },
	.boot_timeout_s = 1200,
	.heartbeat_timeout_s = 120,
	.provider = &lambda_provider_ops,
	.agent = &lambda_agent,
	.volume_kinds = lambda_volume_kinds,
	.storage_check = lambda_storage_check,
	.probe = lambda_probe,
};
