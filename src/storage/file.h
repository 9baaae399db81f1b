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
 * Only storage.c needs this header: everyone else goes through
 * storage_open().
 */
#ifndef FRUGAL_STORAGE_FILE_H
#define FRUGAL_STORAGE_FILE_H

#include "storage/storage.h"

extern const struct storage_ops storage_file_ops;

#endif
