/*
 * tree: whole directory trees. tree_copy copies a job's work directory to
 * where the job runs, leaving out what .gitignore and .frugalignore files
 * say (and .git); tree_list_glob finds the files an output glob names, to
 * collect a job's outputs (outputs.paths) and to notice the file that ends
 * it (stop.on_output).
 */
#ifndef FRUGAL_UTIL_TREE_H
#define FRUGAL_UTIL_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct tree_stats {
	uint64_t files;		/* regular files copied */
	uint64_t bytes;		/* their total size */
	uint64_t dirs;		/* directories created below dst */
	uint64_t symlinks;	/* symbolic links copied (as links) */
	uint64_t skipped;	/* entries left out: ignored, .git, sockets, ... */
};
#define TREE_STATS_INIT { 0, 0, 0, 0, 0 }

/*
 * Copy the directory src_dir to dst_dir (created, with its parents, when
 * missing; existing files in it are replaced). Follows gitignore rules
 * from every .gitignore and .frugalignore in src_dir, at the top and in
 * subdirectories (a nested file applies to its subtree; .frugalignore is
 * read after .gitignore in the same directory, so it wins); an ignored
 * directory is not entered. ".git" (directory or file) is always left
 * out, and so is dst_dir itself when it lies inside src_dir. The ignore
 * files themselves are copied unless a rule ignores them.
 *
 * Regular files keep their permission bits (the executable bit; not
 * set-uid/gid) and modification time; symbolic links are copied as links,
 * never followed; sockets, FIFOs and devices are skipped. Directories get
 * their source's permission bits once filled.
 *
 * On success fills *ret_stats when it is not NULL. On failure dst_dir may
 * hold part of the tree.
 */
int tree_copy(const char *src_dir, const char *dst_dir, struct tree_stats *ret_stats,
	      struct error *err);

/* A growable list of relative paths. */
struct tree_paths {
	char **items;
	size_t n, alloc;
};
#define TREE_PATHS_INIT { NULL, 0, 0 }
void tree_paths_release(struct tree_paths *p);

// Add to out the relative paths ("weights/a.pth") of the regular files
// under root that pattern names; out ends up sorted (strcmp) without
// duplicates, so calling once per pattern gives the union. The pattern is
// relative to root and anchored there, with the wildcards of ignore.h:
//   "model.bin"      that file (at the top only)
//   "weights/*.pth"  .pth files directly in weights/
//   "**/*.pt"        .pt files at any depth
//   "logs/"          every file under logs/, at any depth
// A directory that the pattern matches stands for every file under it
// ("logs" works like "logs/"); a trailing '/' matches directories only.
// A leading "./" is dropped; "." alone means everything. Nothing outside
// root is ever named: a symbolic link counts only when it leads, inside
// root, to a regular file (or, named without wildcards, to a directory,
// which stands for the files under it); links to directories are not
// entered otherwise; ".git" is never entered. Links that lead outside
// root are left out and added to outside (when not NULL), so the caller
// can warn. A pattern that names nothing adds nothing and is not an
// error; a missing root is FRUGAL_ENOTFOUND; an absolute pattern or one
// with a ".." component is FRUGAL_EINVAL.
int tree_list_glob(const char *root, const char *pattern, struct tree_paths *out,
		   struct tree_paths *outside, struct error *err);

// 1 when path, all links followed, lies inside root (both resolved with
// realpath); 0 when it does not or cannot be resolved.
int tree_path_inside(const char *root, const char *path);

#endif
