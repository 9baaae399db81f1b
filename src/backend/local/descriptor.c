/*
 * local: the descriptor (backend.h). Jobs run on this machine; its
 * settings (backends.local) are read by spec/config.c into struct
 * local_config; the schema here documents them.
 */
#include "backend/local/local.h"
#include "backend/agentops.h"
#include "backend/backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern const struct provider_ops local_provider_ops;

static const struct config_setting local_settings[] = {
	{ "gpus", CONFIG_LIST, "a count, a list of device ids, or auto (nvidia-smi -L)" },
	{ "gpu_type", CONFIG_STRING, "the name accelerators are matched with (default GPU)" },
	{ "price_per_gpu_hour", CONFIG_NUMBER, "USD per GPU hour, for the cost ledger" },
	{ "price_per_hour", CONFIG_NUMBER, "USD per hour for a job with no GPU" },
	{ "cpus", CONFIG_NUMBER, "advertised vCPUs (default: this machine's)" },
	{ "memory", CONFIG_NUMBER, "advertised GiB (default: this machine's)" },
	{ "cgroups", CONFIG_BOOL, "each instance in a cgroup v2 of its own where this machine"
	  " has one (default true); false: find its processes by a scan for their marker" },
	BACKEND_LIVENESS_SETTINGS,
	{ "container_runtime", CONFIG_STRING,
	  "docker or podman, for image_id docker:IMAGE (default: the first on PATH)" },
	{ NULL, 0, NULL },
};

/* Nothing to ask: this machine's CPUs, and the GPUs config.yaml gives. */
static int local_probe(const struct config *cfg, const char *home, struct backend_probe *ret,
		       struct error *err)
{
	const char *gpus = cfg ? config_backend_get(cfg, "local", "gpus") : NULL;
	struct error why = ERROR_INIT;
	char *base = local_cgroup_base(home, &why), tear[160];

	if (cfg && !cfg->local.cgroups)
		snprintf(tear, sizeof(tear), "process scan (backends.local.cgroups: false)");
	else if (base)
		snprintf(tear, sizeof(tear), "cgroups under %s", base);
	else
		snprintf(tear, sizeof(tear), "process scan (%s)", error_msg(&why));
	free(base);
	snprintf(ret->scope, sizeof(ret->scope), "this machine");
	snprintf(ret->detail, sizeof(ret->detail), "%ld CPUs, gpus: %s; teardown: %s",
		 sysconf(_SC_NPROCESSORS_ONLN), gpus && *gpus ? gpus : "auto", tear);
	return 0;
}

/* Cgroups when this machine has a writable cgroup v2 tree and the
 * settings leave them on (see local.c). */
static unsigned local_caps_here(const struct config *cfg, const char *home)
{
	char *base;
	int usable;

	if (cfg && !cfg->local.cgroups)
		return 0;
	base = local_cgroup_base(home, NULL);
	usable = base != NULL;
	free(base);
	return usable ? BACKEND_CAP_CGROUPS : 0;
}

static void local_credentials(const struct config *cfg, struct backend_credentials *ret)
{
	ret->found = 1;
	ret->hint = "";
}

static const struct notice_source_ops *const local_sources[] = {
	&notice_local_ops, &notice_sigusr1_ops, NULL,
};

static const struct machine_ops local_machine = {
	"removing the instance directory", local_machine_end,
};

static const struct agent_ops local_agent = { local_sources, &local_machine };

/* A directory of this machine, linked at the mount path (agent/volumes.h). */
static const struct volume_kind local_volume_kinds[] = {
	{ VOLUME_KIND_DIR, "a directory of this machine (/path, ./path)", 0, 0 },
	{ NULL, NULL, 0, 0 },
};

const struct backend local_backend = {
	.name = "local",
	.title = "this machine",
	/* BACKEND_CAP_CGROUPS is decided on the machine (caps_here). */
	.caps = BACKEND_CAP_PORTS | BACKEND_CAP_NOTICE | BACKEND_CAP_THIS_MACHINE |
		BACKEND_CAP_MULTI_NODE | BACKEND_CAP_VOLUMES,
	.settings = local_settings,
	.credentials = local_credentials,
	.billing = { 0, 1 },
	.boot_timeout_s = 60,
	.provider = &local_provider_ops,
	.agent = &local_agent,
	.volume_kinds = local_volume_kinds,
	.probe = local_probe,
	.caps_here = local_caps_here,
};
