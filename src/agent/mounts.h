/*
 * mounts: the task's file_mounts on the machine (spec/mount.h says what
 * a task may write; docs/DATA.md what each kind does per backend).
 *
 * Before setup, mounts_place puts each one at its path (a relative path
 * below the work directory):
 *   - a local source: the data set `frugal launch` uploaded
 *     (storage/dataset.h), fetched from the job's storage;
 *   - COPY of a bucket (any storage URL): every object under the URL
 *     copied down through the storage drivers (a URL naming one object:
 *     that file);
 *   - MOUNT: the URL's storage driver mounts it (storage_mount: a FUSE
 *     tool the machine has on PATH, or a symbolic link for file://);
 *     with no tool the attempt fails naming what to install;
 *   - MOUNT_CACHED: the objects under the URL copied down, then files
 *     written there are stored back every MOUNTS_SYNC_MS (files changed
 *     in the last MOUNTS_SETTLE_MS wait for the next round) and a last
 *     time by mounts_finish, whatever the attempt's outcome (preempted
 *     too), never replacing an object: a file whose object exists with
 *     other content is stored as NAME.vN.EXT (the outputs rule).
 * Nothing already on the machine is replaced: a file in the way with
 * other content fails the attempt, naming it.
 *
 * Storage calls are synchronous, on the agent's loop (like checkpoints).
 */
#ifndef FRUGAL_AGENT_MOUNTS_H
#define FRUGAL_AGENT_MOUNTS_H

#include <uv.h>

#include "agent/conf.h"
#include "agent/logship.h"
#include "base/error.h"
#include "storage/storage.h"

#define MOUNTS_SYNC_MS 30000
#define MOUNTS_SETTLE_MS 2000

struct mounts;

/* For conf's task (kept by pointer, as are st and log); NULL when the task
 * has no file_mounts (every function takes NULL). */
struct mounts *mounts_new(uv_loop_t *loop, const struct agent_conf *conf, struct storage *st,
			  struct logship *log);
/* Place every mount; the first that cannot be placed is the error. */
int mounts_place(struct mounts *m, struct error *err);
/* Store the MOUNT_CACHED files one last time, unmount what was mounted,
 * close the timer. */
void mounts_finish(struct mounts *m);
/* After the loop has closed the timer. */
void mounts_free(struct mounts *m);

/* The absolute path of a mount's dst on this machine (caller frees). */
char *mounts_target(const struct agent_conf *conf, const char *dst);

#endif
