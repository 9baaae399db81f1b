/*
 * volumes: the task's `volumes:` on the machine (spec/volume.h; what each
 * kind is per backend is in docs/DATA.md, "volumes").
 *
 * Before setup (and before file_mounts), volumes_place puts a symbolic
 * link at each volume's mount path (a relative path below the work
 * directory) to where the volume is on this machine:
 *   - a directory (kind "dir"): that directory;
 *   - any other kind: PROVIDER_VOLUME_ROOT/INDEX (backend/provider.h),
 *     where the backend's machine attached and mounted it before the
 *     agent started (the boot script of a VM); not there fails the
 *     attempt, naming the path.
 * Nothing already at a mount path is replaced (a link to the same place
 * is kept). volumes_finish removes the links at the end of the attempt,
 * before outputs are collected, so that no output pattern reaches into a
 * volume and no teardown of the work directory follows one; the volume
 * itself is never touched.
 */
#ifndef FRUGAL_AGENT_VOLUMES_H
#define FRUGAL_AGENT_VOLUMES_H

#include "agent/conf.h"
#include "agent/logship.h"
#include "base/error.h"

struct volumes;

/* For conf's task (kept by pointer, as is log); NULL when the task has no
 * volumes (every function takes NULL). */
struct volumes *volumes_new(const struct agent_conf *conf, struct logship *log);
/* Place every volume; the first that cannot be placed is the error. */
int volumes_place(struct volumes *v, struct error *err);
/* Remove the links volumes_place made. */
void volumes_finish(struct volumes *v);
void volumes_free(struct volumes *v);

/* Where volume index i of the task is on this machine (caller frees). */
char *volumes_source_path(const struct volume *vol, size_t i);

#endif
