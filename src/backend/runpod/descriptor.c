/*
 * runpod: the descriptor (backend.h). Pods through the REST API, reached
 * over SSH (backend/common/cloud.h); see runpod.c and docs/RUNPOD.md.
 */
#include "backend/agentops.h"
#include "backend/backend.h"
#include "backend/common/cloud.h"
#include "backend/runpod/api.h"

#include <string.h>
#include <strings.h>

extern const struct provider_ops runpod_provider_ops;

/* A file:// storage is the laptop's disk: the machines reach it only
 * through a network volume (or a shared mount); s3:// and gs:// are handed to
 * the agent as they are. */
static int runpod_storage_check(const struct config *cfg, const char *url, struct error *err)
{
	const char *shared = cfg ? config_backend_get(cfg, "runpod", "shared_storage") : NULL;
	const char *mount = cfg ? config_backend_get(cfg, "runpod", "network_volume_id") : NULL;

	if ((url && strncmp(url, "file://", 7)) || (mount && *mount) ||
	    (shared && (!strcasecmp(shared, "true") || !strcasecmp(shared, "yes"))))
		return 0;
	return error_set(err, FRUGAL_EINVAL, "backend runpod cannot reach the storage '%s' from its"
			 " machines: name a network volume in config.yaml (backends.runpod.network_volume_id), or"
			 " set storage: to an s3:// or gs:// URL", url ? url : "under FRUGAL_HOME");
}

static const struct config_setting runpod_settings[] = {
	{ "api_key_file", CONFIG_STRING, "file holding the API key (default RUNPOD_API_KEY)" },
	{ "api_version", CONFIG_STRING, "REST API version (v2)" },
	{ "base_url", CONFIG_STRING, "API base URL (tests)" },
	{ "image", CONFIG_STRING, "container image of the pods" },
	{ "network_volume_id", CONFIG_STRING, "network volume attached to every pod" },
	{ "volume_mount", CONFIG_STRING, "where the volume is mounted" },
	{ "shared_storage", CONFIG_BOOL, "the pods see the controller's storage" },
	{ "ssh_command", CONFIG_STRING, "ssh to use (default ssh)" },
	{ "ssh_key", CONFIG_STRING, "private key for the pods" },
	{ "ssh_public_key", CONFIG_STRING, "its public key, given to the pods" },
	{ "start_sshd", CONFIG_BOOL, "start sshd in the pod (default true)" },
	{ "container_disk", CONFIG_NUMBER, "container disk GB" },
	{ "request_interval", CONFIG_SECONDS, "least time between API requests" },
	{ "sync_interval", CONFIG_SECONDS, "how often status is mirrored" },
	{ "release_wait", CONFIG_SECONDS, "how long a finished pod waits to be mirrored" },
	{ "notice_window", CONFIG_SECONDS, "SIGTERM window of a reclaimed pod" },
	{ "agent_dist", CONFIG_STRING, "directory with frugal-linux-x86_64 and -aarch64 for the machines (make dist)" },
	BACKEND_COMMON_SETTINGS,
	{ NULL, 0, NULL },
};

static void runpod_credentials(const struct config *cfg, struct backend_credentials *ret)
{
	ret->hint = "set RUNPOD_API_KEY or run 'runpodctl config --apiKey KEY'";
	if (!backend_credentials_env(ret, "RUNPOD_API_KEY") &&
	    !backend_credentials_home_file(ret, ".runpod/config.toml"))
		backend_credentials_setting(ret, cfg, "runpod", "api_key_file");
}

/* SIGTERM to the container (the agent is its PID 1) when an
 * interruptible pod is reclaimed; notice.json + SIGUSR2 from `frugal debug
 * preempt` (over SSH). A cancel comes as SIGINT. */
static const struct notice_source_ops *const runpod_sources[] = {
	&notice_local_ops, &notice_sigusr1_ops, &notice_sigterm_ops, NULL,
};

/* Once the controller has mirrored the final status (or release_wait
 * passed), the pod deletes itself with its pod-scoped key as
 * INSTANCE_DIR/self.json says (cloud.h). */
static int runpod_end(const struct machine_self *self, struct error *err)
{
	return cloud_self_end(self->instance_dir, err);
}

static const struct machine_ops runpod_machine = {
	"deleting this pod through the API (its pod-scoped key)", runpod_end,
};

static const struct agent_ops runpod_agent = { runpod_sources, &runpod_machine };

/* A network volume by its id, SkyPilot's form volumes: {PATH: NAME}: the
 * pod's one network volume, the pod in its data center (runpod.c). */
static const struct volume_kind runpod_volume_kinds[] = {
	{ VOLUME_KIND_NAME, "a network volume by its id (volumes: {PATH: VOLUME_ID})", 0, 0 },
	{ NULL, NULL, 0, 0 },
};

const struct backend runpod_backend = {
	.name = "runpod",
	.title = "Runpod",
	/* REST API v2 has no spot (interruptible) pods. */
	.caps = BACKEND_CAP_CONTAINER | BACKEND_CAP_PORTS | BACKEND_CAP_NOTICE | BACKEND_CAP_VOLUMES | BACKEND_CAP_IMAGES |
		BACKEND_CAP_PRICE_TABLE,
	.settings = runpod_settings,
	.credentials = runpod_credentials,
	/* Pods are billed per second. */
	.billing = { 0, 1 },
	.boot_timeout_s = 1200,	/* big images take a while to pull */
	.heartbeat_timeout_s = 120,
	.preemption_rate = 0.10,
	.provider = &runpod_provider_ops,
	.agent = &runpod_agent,
	.volume_kinds = runpod_volume_kinds,
	.storage_check = runpod_storage_check,
	.probe = runpod_probe,
};
