/*
 * machine: how the agent ends the machine it runs on, its dead-man
 * switch (backend/agentops.h): the operations of agent.json "backend",
 * from its descriptor (the registry). With no backend given (a test, an
 * agent started by hand), or one that gives none, the agent ends nothing
 * and the controller's teardown does the work.
 */
#ifndef FRUGAL_AGENT_MACHINE_H
#define FRUGAL_AGENT_MACHINE_H

#include "backend/agentops.h"

/* The operations for backend, or NULL when there are none. */
const struct machine_ops *machine_ops_for(const char *backend);

#endif
