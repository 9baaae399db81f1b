/*
 * ignore: gitignore-style rules, for the files of a work directory that
 * are not copied to the machine (.gitignore, .frugalignore), and the
 * wildcard matching that output globs share with them.
 *
 * A rule set is a list of patterns, each with the directory it came from
 * (its base, relative to the work directory: "" for the top, "src/lib"
 * for src/lib/.gitignore). A rule only applies to paths under its base.
 * The pattern syntax is git's (gitignore(5)); it is spelled out below in
 * line comments, since patterns like "**" followed by "/" cannot appear in
 * a block comment.
 */
// - Blank lines and lines starting with '#' are skipped; "\#" and "\!"
//   start a pattern with a literal '#' or '!'; trailing spaces are
//   dropped unless escaped ("a\ ").
// - "!pat" re-includes what an earlier rule excluded; the last rule that
//   matches a path decides. A file inside an excluded directory cannot be
//   re-included (ignore_match checks the parents).
// - "pat/" matches directories only.
// - A pattern with a '/' at the start or in the middle is anchored: it
//   matches the path relative to its base ("/build", "doc/*.html");
//   otherwise it matches the last component at any depth ("*.o").
// - '*' matches anything but '/', '?' one character but '/', "[a-z]" and
//   "[!a-z]" a class (fnmatch(3)). "**" as a whole component matches any
//   number of directories: "**/foo" (leading: zero or more), "a/**/b"
//   (middle: zero or more), "a/**" (trailing: everything inside a, not a
//   itself). Elsewhere "**" is the same as "*".
//
//   struct ignore *ig = ignore_new();
//   ignore_add_file(ig, "/work/.gitignore", "", &err);
//   if (ignore_match(ig, "build/x.o", 0)) ...
//   ignore_free(ig);
//
// Paths given to the match functions are relative, '/'-separated, without
// "." or ".." components ("src/main.c"); a leading "./" or '/' and a
// trailing '/' are dropped.
#ifndef FRUGAL_UTIL_IGNORE_H
#define FRUGAL_UTIL_IGNORE_H

#include <stddef.h>

#include "base/error.h"

struct ignore;

/* An empty rule set (matches nothing). */
struct ignore *ignore_new(void);
/* ignore_free(NULL) is fine. */
void ignore_free(struct ignore *ig);

/*
 * Add one line of an ignore file as a rule relative to base ("" or NULL
 * for the top). Comments and blank lines add nothing. Returns 1 when a
 * rule was added, 0 when the line held none.
 */
int ignore_add_pattern(struct ignore *ig, const char *pattern, const char *base);

/* Add every line of buf (an ignore file's contents) relative to base. */
void ignore_add_buffer(struct ignore *ig, const char *buf, size_t len, const char *base);

/*
 * Add the rules of the ignore file at path (a .gitignore or .frugalignore)
 * relative to base. A missing file adds nothing and is not an error.
 * Files are capped at 4 MiB (FRUGAL_ETOOBIG). Add shallower files first:
 * later rules win, and git lets a deeper file override a shallower one.
 */
int ignore_add_file(struct ignore *ig, const char *path, const char *base, struct error *err);

/* Number of rules added so far. */
size_t ignore_count(const struct ignore *ig);

/*
 * 1 if rel_path is ignored, 0 if not: it is, when one of its parent
 * directories is, or when the last rule that matches it is not a
 * negation. is_dir says whether the path is a directory (for "pat/").
 */
int ignore_match(const struct ignore *ig, const char *rel_path, int is_dir);

/*
 * Like ignore_match without the parent check: for walkers that never
 * enter an ignored directory, where the parents are known to be kept.
 */
int ignore_match_one(const struct ignore *ig, const char *rel_path, int is_dir);

/*
 * 1 if path matches the glob pattern, anchored at both ends, with the
 * wildcards above ('*', '?', '[...]', "**" components); 0 if not.
 * Neither takes a leading or trailing '/' into account specially.
 */
int ignore_glob_match(const char *pattern, const char *path);

// 1 if some path below directory dir could match pattern (dir "weights"
// for "weights/*.pth"; any dir for "**/x"): lets a walker skip the rest.
int ignore_glob_may_match_below(const char *pattern, const char *dir);

#endif
