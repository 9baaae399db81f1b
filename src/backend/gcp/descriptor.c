/*
 * gcp: the descriptor (backend.h). Compute Engine v1, storage on Cloud
 * Storage; see gcp.c, gce.h and docs/GCP.md.
 */
#include "backend/agentops.h"
#include "backend/backend.h"
#include "backend/gcp/gce.h"
#include "backend/gcp/gcs.h"
#include "backend/gcp/notice.h"
#include "backend/gcp/offers.h"

#include <stdio.h>
#include <stdlib.h>

extern const struct provider_ops gcp_provider_ops;


static const struct config_setting gcp_settings[] = {
	{ "project", CONFIG_STRING, "the project (default: the credentials')" },
	{ "credentials", CONFIG_STRING, "a service-account key file" },
	{ "compute_endpoint", CONFIG_STRING, "Compute API base URL (tests)" },
	{ "image", CONFIG_STRING, "boot image of CPU VMs" },
	{ "image_gpu", CONFIG_STRING, "boot image of GPU VMs" },
	{ "disk_size", CONFIG_INT, "boot disk GB" },
	{ "disk_type", CONFIG_STRING, "boot disk type (pd-balanced, ...)" },
	{ "data_disk", CONFIG_STRING, "a persistent disk attached to every VM" },
	{ "data_mount", CONFIG_STRING, "where data_disk is mounted" },
	{ "network", CONFIG_STRING, "VPC network of the VMs" },
	{ "subnetwork", CONFIG_STRING, "subnetwork of the VMs" },
	{ "external_ip", CONFIG_BOOL, "give the VMs an external IP (default true)" },
	{ "service_account", CONFIG_STRING, "service account of the VMs" },
	{ "agent_binary", CONFIG_STRING, "the frugal binary uploaded for the agent" },
	{ "agent_packages", CONFIG_STRING, "packages the boot script installs" },
	{ "insert_timeout", CONFIG_DURATION, "how long an instance insert may take" },
	{ "delete_wait", CONFIG_DURATION, "how long to wait for a delete" },
	{ "max_run_duration", CONFIG_DURATION, "Compute Engine's own limit on a VM's life" },
	{ "agent_dist", CONFIG_STRING, "directory with frugal-linux-x86_64 and -aarch64 for the machines (make dist)" },
	BACKEND_COMMON_SETTINGS,
	{ NULL, 0, NULL },
};

static void gcp_credentials(const struct config *cfg, struct backend_credentials *ret)
{
	const char *project;

	/* The order Compute and GCS look in (auth.h); on a VM, the metadata
	 * server (not asked here). */
	ret->hint = "set backends.gcp.credentials: KEY.json in config.yaml, set"
		    " GOOGLE_APPLICATION_CREDENTIALS, or run 'gcloud auth application-default login'";
	if (!backend_credentials_setting(ret, cfg, "gcp", "credentials") &&
	    !backend_credentials_env(ret, "GOOGLE_APPLICATION_CREDENTIALS") &&
	    !backend_credentials_home_file(ret,
					   ".config/gcloud/application_default_credentials.json"))
		backend_credentials_machine(ret, "Google",
					    "this VM's service account (metadata server)");
	project = cfg ? config_backend_get(cfg, "gcp", "project") : NULL;
	if (!project || !*project)
		project = getenv("GOOGLE_CLOUD_PROJECT");
	if (project && *project)
		snprintf(ret->scope, sizeof(ret->scope), "project %s", project);
}

/* The metadata server's instance/preempted (a spot VM reclaimed, about
 * 30 s before it stops); SIGTERM when the guest shuts down (a delete,
 * maxRunDuration); notice.json + SIGUSR2 by hand on the VM. A cancel
 * comes as SIGINT. */
static const struct notice_source_ops *const gcp_sources[] = {
	&notice_gce_ops, &notice_sigterm_ops, &notice_local_ops, NULL,
};

/* Delete this VM through the Compute API (a guest shutdown would only
 * stop it, and its disks would still bill); power off when that fails
 * (gce.h). */
static int gcp_end(const struct machine_self *self, struct error *err)
{
	return gce_end_self(err);
}

static const struct machine_ops gcp_machine = {
	"deleting this VM through the Compute API", gcp_end,
};

static const struct agent_ops gcp_agent = { gcp_sources, &gcp_machine };

/* An existing persistent disk of the project, attached READ_ONLY to each
 * attempt's VM, the plan in its zone (gcp.c task_disks). The disk is the
 * user's: frugal never makes or deletes one (no ledger row). SkyPilot's
 * bare name is not taken: a disk is zonal, and a bare name means a
 * claim, a file system or a network volume on other backends. */
static const struct volume_kind gcp_volume_kinds[] = {
	{ GCE_DISK_KIND, "an existing Compute Engine persistent disk, attached read-only "
	  "(gce-disk://ZONE/NAME, read_only: true)", 0, 1 },
	{ NULL, NULL, 0, 0 },
};

const struct backend gcp_backend = {
	.name = "gcp",
	.title = "Google Compute Engine",
	.caps = BACKEND_CAP_SPOT | BACKEND_CAP_NOTICE | BACKEND_CAP_VOLUMES | BACKEND_CAP_PORTS |
		BACKEND_CAP_IMAGES | BACKEND_CAP_PRICE_TABLE | BACKEND_CAP_DOCKER_ON_VM,
	.settings = gcp_settings,
	.credentials = gcp_credentials,
	/* Compute Engine bills per second after the first minute. */
	.billing = { 60, 1 },
	.boot_timeout_s = 600,
	.heartbeat_timeout_s = 120,
	.preemption_rate = 0.10,
	.table_offers = gcp_table_offers,
	.provider = &gcp_provider_ops,
	.agent = &gcp_agent,
	.volume_kinds = gcp_volume_kinds,
	.storage = &storage_gcs_ops,
	.storage_check = gcp_storage_check,
	.probe = gcp_probe,
};
