/*
 * fusemount: what the storage drivers' MOUNT (storage_ops.mount) share:
 * finding a FUSE tool on PATH, running it, and rclone, which mounts
 * every bucket kind. Each driver picks its own native tool first.
 */
#ifndef FRUGAL_BACKEND_COMMON_FUSEMOUNT_H
#define FRUGAL_BACKEND_COMMON_FUSEMOUNT_H

#include "base/error.h"

/* 1 when an executable program is on PATH. */
int fusemount_have(const char *program);
/* Run a mount program (2 minutes at most); 0 when it exited 0, else
 * the error with what it said on stderr. */
int fusemount_run(const char *const *argv, struct error *err);
/* "SCHEME://BUCKET/PRE/FIX" into BUCKET and PRE/FIX (NULL when none);
 * the caller frees both. */
void fusemount_split(const char *url, char **ret_bucket, char **ret_prefix);
/* rclone mount --daemon :TYPE,env_auth=true:BUCKET[/PREFIX] DIR. */
int fusemount_rclone(const char *type, const char *bucket, const char *prefix, const char *dir,
		     struct error *err);

#endif
