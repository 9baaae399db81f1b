/*
 * local: what the local backend's folder shares between its files (the
 * provider ops are local.c's, the descriptor descriptor.c's).
 */
#ifndef FRUGAL_BACKEND_LOCAL_LOCAL_H
#define FRUGAL_BACKEND_LOCAL_LOCAL_H

#include "backend/agentops.h"
#include "base/error.h"

/* The agent ends its machine, HOME/instances/TOKEN: removed, or moved to
 * HOME/kept/TOKEN when its outputs could not be stored (a success of the
 * job removes those kept files). */
int local_machine_end(const struct machine_self *self, struct error *err);

/*
 * Where this home's instance cgroups go, CGROUP2/frugal/HOMETAG (caller
 * frees); NULL with err saying why when this machine has no cgroup v2
 * tree this process can write (then teardown uses the process scan).
 */
char *local_cgroup_base(const char *home, struct error *err);

#endif
