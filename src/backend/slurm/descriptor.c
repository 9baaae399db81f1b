/*
 * slurm: the descriptor (backend.h). An attempt is a batch job that runs
 * the agent; see slurm.h and docs/SLURM.md.
 */
#include "backend/agentops.h"
#include "backend/backend.h"

#include <stdio.h>
#include "backend/slurm/slurm.h"

extern const struct provider_ops slurm_provider_ops;


static const struct config_setting slurm_settings[] = {
	{ "partition", CONFIG_STRING, "partition for on-demand jobs (--partition)" },
	{ "account", CONFIG_STRING, "account to charge (--account)" },
	{ "qos", CONFIG_STRING, "quality of service (--qos)" },
	{ "spot_partition", CONFIG_STRING, "partition for preemptible (spot) jobs" },
	{ "spot_qos", CONFIG_STRING, "quality of service for preemptible jobs" },
	{ "gpu_type", CONFIG_STRING, "the GRES GPU type the cluster's GPUs are" },
	{ "gres_map", CONFIG_MAP, "accelerator name -> GRES type (A100: a100)" },
	{ "prices", CONFIG_MAP, "accelerator name -> USD per GPU hour" },
	{ "price_per_gpu_hour", CONFIG_NUMBER, "USD per GPU hour, for the cost ledger" },
	{ "price_per_hour", CONFIG_NUMBER, "USD per hour for a job with no GPU" },
	{ "spot_price_per_gpu_hour", CONFIG_NUMBER, "USD per GPU hour on the spot partition" },
	{ "time_limit", CONFIG_DURATION, "--time of every job (0: the partition's)" },
	{ "adopt_wait", CONFIG_DURATION, "how long a submitted job may take to show in squeue" },
	{ "teardown_grace", CONFIG_DURATION, "time between a cancel's signal and SIGKILL" },
	{ "command_timeout", CONFIG_DURATION, "limit of one sbatch/squeue/scancel" },
	{ "bin_dir", CONFIG_STRING, "where sbatch, squeue and scancel are (default: PATH)" },
	{ "work_root", CONFIG_STRING, "attempt directories on the shared filesystem" },
	{ "log_dir", CONFIG_STRING, "where batch output goes (default: under work_root)" },
	{ "frugal_bin", CONFIG_STRING, "the frugal binary on the compute nodes" },
	{ "container_runtime", CONFIG_STRING,
	  "docker or podman on the compute nodes, for image_id docker:IMAGE" },
	BACKEND_COMMON_SETTINGS,
	{ NULL, 0, NULL },
};

static void slurm_credentials(const struct config *cfg, struct backend_credentials *ret)
{
	ret->hint = "add a section for it under backends: in config.yaml";
	const char *part = cfg ? config_backend_get(cfg, "slurm", "partition") : NULL;

	backend_credentials_section(ret, cfg, "slurm");
	if (part && *part)
		snprintf(ret->scope, sizeof(ret->scope), "partition %s", part);
}

/* USR1 from --signal=B:USR1@N before the time limit; SIGTERM from
 * slurmd when the job is requeued or preempted (a cancel by frugal comes
 * as SIGINT); notice.json + SIGUSR2 from `frugal debug preempt`. */
static const struct notice_source_ops *const slurm_sources[] = {
	&notice_local_ops, &notice_sigusr1_ops, &notice_sigterm_ops, NULL,
};

/* The allocation ends when the batch step (this agent) exits; what is
 * left to end is the attempt's directory on the shared filesystem. */
static const struct machine_ops slurm_machine = {
	"removing the attempt's directory; the batch step ends as the agent exits",
	machine_remove_instance_dir,
};

static const struct agent_ops slurm_agent = { slurm_sources, &slurm_machine };

const struct backend slurm_backend = {
	.name = "slurm",
	.title = "Slurm cluster",
	.caps = BACKEND_CAP_SPOT | BACKEND_CAP_NOTICE,
	.settings = slurm_settings,
	.credentials = slurm_credentials,
	.billing = { 0, 1 },
	.boot_timeout_s = 0,	/* queue time is no boot: none by default */
	.heartbeat_timeout_s = 60,
	.provider = &slurm_provider_ops,
	.agent = &slurm_agent,
	.probe = slurm_probe_cluster,
};
