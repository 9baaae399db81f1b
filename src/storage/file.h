/*
 * storage/file: the file:// driver. Objects are plain files under a root
 * directory ("file:///srv/frugal" -> /srv/frugal/KEY); directories are
 * created 0700 and files 0600. Writes go through fs_write_atomic and
 * fs_copy_atomic (temporary file beside the target, fsync, then rename, or
 * link() for STORAGE_NO_OVERWRITE so an existing object is never
 * replaced). Temporary files ("NAME.tmp-PID-N") never show in listings;
 * nor do symbolic links or empty directories: objects are regular files.
 * STORAGE_NO_OVERWRITE needs a file system with hard links (local disks,
 * NFS, Lustre, GPFS do).
 *
 * Only storage.c needs this header for the ops: everyone else goes
 * through storage_open(). gc uses storage_file_stale_temps.
 */
#ifndef FRUGAL_STORAGE_FILE_H
#define FRUGAL_STORAGE_FILE_H

#include "storage/storage.h"

extern const struct storage_ops storage_file_ops;

/* A temporary file whose writer's PID is not alive here and that has not
 * changed for this long is stale (on a shared file system the PID may be
 * another machine's, so this age is required too). */
#define FILE_TEMP_DEAD_AGE_MS (10 * 60 * 1000)

/*
 * Temporary files ("NAME.tmp-PID-N", from uploads cut short) under the
 * file:// storage at url that are stale: untouched for max_age_ms, or for
 * FILE_TEMP_DEAD_AGE_MS with their writer gone. Appends their absolute
 * paths (as keys) to out. Other schemes: nothing (0).
 */
int storage_file_stale_temps(const char *url, int64_t max_age_ms, struct storage_list *out,
			     struct error *err);

#endif
