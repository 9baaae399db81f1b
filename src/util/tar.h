/*
 * tar: the one workdir archive writer. The tree under a directory (as
 * util/tree.h copied it: .gitignore/.frugalignore already applied)
 * becomes a POSIX ustar archive that any tar unpacks (`tar -xf`), with
 * no tar program needed on this machine. Used for what a machine gets at
 * boot: the workdir, or the workdir plus the agent's binary.
 */
#ifndef FRUGAL_UTIL_TAR_H
#define FRUGAL_UTIL_TAR_H

#include "base/error.h"

/* Write the tree under dir (files, directories, symbolic links; paths
 * relative to dir, sorted) as a ustar archive at tar_path (0600), with
 * GNU long names for paths over 100 bytes. Owners are root, times and
 * modes kept. On failure no archive is left. */
int tar_write_tree(const char *dir, const char *tar_path, struct error *err);

#endif
