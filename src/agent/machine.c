/*
 * machine: the per-backend "end my machine" action (see machine.h).
 */
#include "agent/machine.h"
#include "backend/aws/vm.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "backend/common/cloud.h"
#include "backend/gcp/gce.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 if path is dir or lies inside it (both absolute and canonical). */
static int path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * local: the instance directory is the machine. Leave it (the agent's
 * cwd is usually inside), then remove it. Refuses a directory that is
 * not absolute, is "/", or holds the job's file:// storage (a
 * misconfiguration that would take the job's records with it).
 */
static int local_end(const struct agent_conf *conf, struct error *err)
{
	const char *dir = conf->instance_dir;
	char *storage_root = NULL, *real = NULL;
	int r;

	if (!dir || dir[0] != '/' || !dir[1])
		return error_set(err, FRUGAL_EINVAL, "refusing to remove instance directory '%s'",
				 dir ? dir : "");
	if (!strncmp(conf->storage_url, "file://", 7)) {
		storage_root = xstrdup(conf->storage_url + 7);
		real = fs_realpath(storage_root, NULL);
		if (path_within(real ? real : storage_root, dir)) {
			r = error_set(err, FRUGAL_EINVAL,
				      "refusing to remove instance directory '%s': it holds the "
				      "storage '%s'", dir, conf->storage_url);
			goto out;
		}
	}
	if (chdir("/") < 0) {
		r = error_errno(err, "cannot leave '%s'", dir);
		goto out;
	}
	r = fs_remove_tree(dir, err);
out:
	free(real);
	free(storage_root);
	return r;
}

/*
 * lambda, runpod: once the controller has mirrored the final status (or
 * release_wait passed), the machine ends itself through the provider's
 * API as INSTANCE_DIR/self.json says (backend/common/cloud.h).
 */
static int cloud_end(const struct agent_conf *conf, struct error *err)
{
	return cloud_self_end(conf->instance_dir, err);
}

/* gcp: delete this VM through the Compute API (a guest shutdown would
 * only stop it, and its disks would still bill); power off when that
 * fails (backend/gcp/gce.h). */
static int gcp_end(const struct agent_conf *conf, struct error *err)
{
	return gce_end_self(err);
}

static const struct machine_ops machine_table[] = {
	{ "local", "removing the instance directory", local_end },
	/* Slurm: the allocation ends when the batch step (this agent) exits;
	 * what is left to end is the attempt's directory on the shared
	 * filesystem. */
	{ "slurm", "removing the attempt's directory; the batch step ends as the agent exits",
	  local_end },
	{ "lambda", "terminating this Lambda instance through the API", cloud_end },
	{ "runpod", "deleting this pod through the API (its pod-scoped key)", cloud_end },
	/* Kubernetes: the pod ends as the agent (the container's command)
	 * exits (backoffLimit 0, restartPolicy Never); what is left to end is
	 * the attempt's directory on the volume. */
	{ "kubernetes", "removing the attempt's directory; the pod ends as the agent exits",
	  local_end },
	{ "gcp", "deleting this VM through the Compute API", gcp_end },
	/* AWS: power off; launched with InstanceInitiatedShutdownBehavior
	 * terminate, the instance and its root volume end (aws_vm.h). */
	{ "aws", "powering off; the instance terminates on shutdown", machine_aws_end },
};

const struct machine_ops *machine_ops_for(const char *backend)
{
	size_t i;

	if (!backend)
		return NULL;
	for (i = 0; i < sizeof(machine_table) / sizeof(machine_table[0]); i++)
		if (!strcmp(machine_table[i].backend, backend))
			return &machine_table[i];
	return NULL;
}
