/*
 * cgroup: a cgroup v2 directory as a box for a tree of processes that no
 * process can leave by itself (setsid, a double fork, an empty or
 * rewritten environment do not take it out). A process enters before it
 * runs anything (proc.h: struct proc's cgroup_fd), its children are born
 * in it, and cgroup_kill ends all of them: cgroup.kill where the kernel
 * has it (5.14), else SIGKILL to every pid in cgroup.procs until none is
 * left; it waits, bounded, for cgroup.events to say "populated 0" and
 * removes the directory (and any the processes made inside it).
 *
 * Linux only; elsewhere cgroup_mount finds nothing and callers fall back
 * to what they did without. Nothing here logs; errors go into err.
 */
#ifndef FRUGAL_UTIL_CGROUP_H
#define FRUGAL_UTIL_CGROUP_H

#include "base/error.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The mount point of the cgroup v2 hierarchy in the text of a
 * /proc/self/mountinfo (octal escapes such as \040 decoded); NULL when
 * there is none or it is mounted read-only. Where there are several, one
 * that shows the root of the hierarchy wins. Caller frees.
 */
char *cgroup_mount_parse(const char *mountinfo);

/* The same for this process (/proc/self/mountinfo); NULL when none. */
char *cgroup_mount(void);

/*
 * 0 when boxes can be made under mount (the cgroup v2 mount point): it is
 * a cgroup v2 root whose directory this process may write. Else negative,
 * err saying why. Makes nothing.
 */
int cgroup_usable(const char *mount, struct error *err);

/*
 * "populated" of the text of a cgroup.events file: 1 or 0, -1 when the
 * key is missing or not 0/1.
 */
int cgroup_events_populated(const char *text);

/*
 * The pids in the text of a cgroup.procs file (one decimal per line) into
 * *ret_pids (caller frees) and *ret_n. FRUGAL_EINVAL on anything else in
 * it (nothing is returned then).
 */
int cgroup_procs_parse(const char *text, pid_t **ret_pids, size_t *ret_n,
		       struct error *err);

/* Make the box path (and its parents). 0 also when it exists. */
int cgroup_create(const char *path, struct error *err);

/* Remove dir when it holds no box and no process (else leave it): a
 * parent of boxes that is no longer needed. */
void cgroup_remove_empty(const char *dir);

/*
 * Open path's cgroup.procs for writing (close-on-exec): a process that
 * writes "0" to it moves itself in. The fd, or negative with err set.
 */
int cgroup_open_procs(const char *path, struct error *err);

/* 1 when path exists (a box), 0 when not. */
int cgroup_exists(const char *path);

/* 1 when a process is in path or a box inside it, 0 when none, negative
 * (err set) when it cannot be read (FRUGAL_ENOTFOUND: no such box). */
int cgroup_populated(const char *path, struct error *err);

/* The processes directly in path (cgroup.procs). */
int cgroup_pids(const char *path, pid_t **ret_pids, size_t *ret_n, struct error *err);

/*
 * SIGKILL every process in path and the boxes inside it (frozen first
 * where cgroup.freeze exists, so none forks meanwhile): what cgroup_kill
 * does on a kernel without cgroup.kill. The number of processes signalled.
 */
int cgroup_kill_procs(const char *path, struct error *err);

/*
 * End every process in path and the boxes inside it, wait at most
 * timeout_ms for them to be gone, and remove the boxes. 0 when path is
 * gone afterwards (also when it never existed); FRUGAL_EBUSY when a
 * process still lives after timeout_ms (the caller retries later).
 */
int cgroup_kill(const char *path, int64_t timeout_ms, struct error *err);

/*
 * The names of the boxes directly under dir into *ret_names and *ret_n
 * (free with fs_free_names); 0 with none when dir does not exist.
 */
int cgroup_children(const char *dir, char ***ret_names, size_t *ret_n, struct error *err);

#endif
