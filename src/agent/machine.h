/*
 * machine: how the agent ends the machine it runs on, its dead-man
 * switch. Once the attempt's final status is stored (or stop.orphan_timeout
 * after it could not be), the agent ends its own machine, so that no
 * machine outlives its job even when the controller is gone.
 *
 * One small table of operations per backend, picked by agent.json
 * "backend":
 *   local   remove the instance directory (the "machine"; the agent
 *           leaves it first)
 *   slurm   the same for the attempt's directory on the shared
 *           filesystem; the allocation ends when the agent (the batch
 *           step) exits
 * A cloud adds a row (e.g. `shutdown -h now` on a VM that terminates on
 * shutdown). With no backend given (a test, an agent started by hand),
 * or one without a row, the agent ends nothing and the controller's
 * teardown does the work.
 */
#ifndef FRUGAL_AGENT_MACHINE_H
#define FRUGAL_AGENT_MACHINE_H

#include "agent/conf.h"
#include "base/error.h"

struct machine_ops {
	const char *backend;
	/* What end() does, for the log ("removing the instance directory"). */
	const char *action;
	/* End the machine described by conf. May not return on success (a
	 * power-off); returns 0 when it has and the agent should exit. */
	int (*end)(const struct agent_conf *conf, struct error *err);
};

/* The operations for backend, or NULL when there are none. */
const struct machine_ops *machine_ops_for(const char *backend);

#endif
