/*
 * fs: file-system helpers with crash-safe writes. Every fd frugal opens
 * is close-on-exec.
 */
#ifndef FRUGAL_BASE_FS_H
#define FRUGAL_BASE_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/strbuf.h"

/* mkdir -p with mode for every directory it creates. */
int fs_mkdir_p(const char *path, mode_t mode, struct error *err);

/* Read a whole file into sb (appending); fails with FRUGAL_ETOOBIG past max
 * bytes (0: no cap) and FRUGAL_ENOTFOUND when it does not exist. */
int fs_read_file(const char *path, size_t max, struct strbuf *sb, struct error *err);
/* fs_read_file for a path that must be a regular file: a FIFO, device,
 * socket or directory is FRUGAL_EINVAL at once (never waited on). */
int fs_read_regular_file(const char *path, size_t max, struct strbuf *sb, struct error *err);

/*
 * Write data to path atomically: a temporary file beside it, fsync, then
 * rename over path (replace == 1) or link to path failing with
 * FRUGAL_EEXIST if it exists (replace == 0), then fsync of the directory.
 * A reader sees the old content or the new, never a part.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    int replace, struct error *err);

/* Copy the file src to dst with the same atomic rules as fs_write_atomic. */
int fs_copy_atomic(const char *src, const char *dst, mode_t mode, int replace,
		   struct error *err);

/* rm -rf; a missing path is success. Symlinks are removed, never
 * followed, even when an entry is swapped for one while it runs. */
int fs_remove_tree(const char *path, struct error *err);

/* The names in directory path, without "." and "..", unsorted, into a new
 * array (free with fs_free_names). A missing directory (or a path that is
 * not one) is FRUGAL_ENOTFOUND. The directory is closed on return, so a
 * recursive walk holds one directory open at a time. */
int fs_list_names(const char *path, char ***ret_names, size_t *ret_n, struct error *err);
void fs_free_names(char **names, size_t n);

/* 1 if path exists (any type), 0 otherwise. */
int fs_exists(const char *path);
int fs_is_dir(const char *path);

/* fsync the directory that holds path. */
int fs_sync_parent(const char *path);

/* "a" + "b" -> "a/b" (no doubled slashes). Caller frees. */
char *fs_path_join(const char *a, const char *b);

/* Absolute, canonical form of an existing path. Caller frees. */
char *fs_realpath(const char *path, struct error *err);

#endif
