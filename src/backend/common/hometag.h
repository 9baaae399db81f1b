/*
 * hometag: the short stable tag of a FRUGAL_HOME ("8 hex digits" of the
 * FNV-1a hash of its real path), which every backend puts on what it
 * creates (names, labels, tags, Slurm comments), so that two homes
 * sharing an account, a namespace or a cluster never find, adopt or end
 * each other's resources. Changing it orphans every live resource: it
 * must stay the same function.
 */
#ifndef FRUGAL_BACKEND_COMMON_HOMETAG_H
#define FRUGAL_BACKEND_COMMON_HOMETAG_H

/* The tag of home (resolved with realpath when it exists); caller frees. */
char *home_tag(const char *home);

#endif
