/*
 * container: the launcher's side of `image_id: docker:IMAGE` on a machine
 * that is not itself the image (a VM, this machine, a cluster node): which
 * container runtime runs it, what the attempt's container is called, and
 * removing the containers of an attempt or of a whole FRUGAL_HOME, so
 * that no container outlives its job. The agent's side (starting the
 * container, running setup and run in it) is agent/container.h.
 *
 * A container is named frugal-HOMETAG-TOKEN (TOKEN the ledger token,
 * "JOB-N"), so teardown and gc of one home never touch another's.
 */
#ifndef FRUGAL_BACKEND_COMMON_CONTAINER_H
#define FRUGAL_BACKEND_COMMON_CONTAINER_H

#include <stddef.h>

#include "base/error.h"
#include "spec/task.h"

/*
 * The runtime to use: configured ("docker" or "podman") when it is on
 * PATH and works (`RUNTIME version` answers: a docker client without a
 * daemon does not), else (configured NULL) the first of docker, podman
 * that does; NULL when there is none. A static string.
 */
const char *container_runtime_find(const char *configured);

/*
 * Record that home starts containers (HOME/containers-used), before the
 * first one is started: teardown and gc of a home that never did ask no
 * runtime. 0 or an error.
 */
int container_mark_home(const char *home, struct error *err);

/* "frugal-HOMETAG-TOKEN" for home and token (caller frees). */
char *container_name(const char *home, const char *token);

/* Remove (kill and delete) the container called name with runtime (a
 * name container_runtime_find gave); gone already is success. 0, or
 * FRUGAL_EIO with what the runtime said. */
int container_remove_name(const char *runtime, const char *name, struct error *err);

/*
 * Remove (kill and delete) the attempt's container, token given, or every
 * container of home, token NULL, with runtime (NULL: the one on PATH; no
 * runtime there, one that cannot list its containers because its daemon
 * is down, or a home never marked by container_mark_home: nothing to
 * remove). Gone already is success. 0, or
 * FRUGAL_EIO with what the runtime said. *ret_n (may be NULL) counts the
 * containers removed.
 */
int container_remove(const char *runtime, const char *home, const char *token, int *ret_n,
		     struct error *err);

/*
 * Add the token of every container of home to ret (value "container"),
 * as container_remove would find them; no runtime or no mark: none. 0 or
 * FRUGAL_EIO.
 */
int container_list(const char *runtime, const char *home, struct kvlist *ret,
		   struct error *err);

#endif
