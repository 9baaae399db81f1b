/*
 * container: setup and run inside the task's image (`image_id:
 * docker:IMAGE`) on a machine that is not itself the image: a VM, this
 * machine, a cluster node (agent.json's container_image).
 *
 * The agent stays on the machine. One container per attempt, started by
 * the first step and removed when the attempt ends, runs every step with
 * `RUNTIME exec`. One container rather than one `RUNTIME run` per step,
 * because setup's work (pip install, apt-get) must still be there for
 * run, as it is without a container. Its main process is a sleep with
 * nothing else in it (no --init): a signal for the job goes to every
 * process of the container but its PID 1 (`kill -s SIG -- -1` from inside),
 * which leaves the container up for the next step; orphans of the job
 * stay zombies until the container goes, which is at the attempt's end.
 *
 *   RUNTIME run -d --rm --name NAME --network host --stop-signal KILL [--gpus all |
 *     --device nvidia.com/gpu=all] [--user UID:GID] -v DIR:DIR... -w WORKDIR
 *     IMAGE sleep 2147483647
 *   RUNTIME exec -e NAME... -w WORKDIR NAME sh -c 'exec bash -c "$1"' - SCRIPT
 *
 * GPUs are passed only when the attempt has some (docker: --gpus all,
 * the NVIDIA container toolkit; podman: the CDI device). The work,
 * checkpoint and output directories and the instance directory (the
 * metrics file) are bind-mounted at the same paths, so $FRUGAL_* mean the
 * same inside and the agent sees what the job writes. The job's
 * environment reaches the container by name only (`-e NAME`: the runtime
 * reads the value from its own environment), never on a command line:
 * the task's envs and secrets, FRUGAL_*, CUDA_VISIBLE_DEVICES and the
 * SKYPILOT_* variables; the machine's own (PATH, HOME) stay the image's.
 * docker as a user that is not root runs the job as that user (files in
 * the bind mounts stay removable); podman maps root to the user itself.
 *
 * A step is a host shell script (container_step_script) that the runner
 * runs like any step: it starts the container when it is not there yet
 * (a failure exits 125 with the runtime's message in the log), runs the
 * exec in a session of its own, forwards the signals the runner sends it
 * (TERM, INT, HUP, QUIT, USR1, USR2) into the container, and exits with
 * the job's status. The runtime reports a process killed by signal N as
 * 128+N, which a process that exits with 128+N looks the same as; the
 * step takes it as an exit code (a trainer that saves its checkpoint on
 * SIGTERM and exits 143 keeps that checkpoint, as it does without a
 * container), except 137: no process exits gracefully on SIGKILL (the
 * OOM killer), so then the step dies by SIGKILL itself, as the job did.
 */
#ifndef FRUGAL_AGENT_CONTAINER_H
#define FRUGAL_AGENT_CONTAINER_H

#include "agent/conf.h"
#include "base/error.h"

struct container;

/*
 * The container of c's attempt, or *ret NULL when c has no
 * container_image. FRUGAL_ENOTFOUND when the runtime (the configured
 * one, else docker or podman) is not on PATH.
 */
int container_new(const struct agent_conf *c, struct container **ret, struct error *err);

/* "podman container frugal-...-k3m9xq-1 of IMAGE", for the log. */
const char *container_describe(const struct container *c);

/* The host script that runs script in the container (caller frees). */
char *container_step_script(const struct container *c, const char *script);

/* Kill and remove the container (gone already is fine); 0 or FRUGAL_EIO. */
int container_end(struct container *c, struct error *err);

void container_free(struct container *c);

#endif
