/*
 * tree: copying work directories and finding output files (see tree.h).
 * Both walk with lstat and read a directory's names before going down,
 * so one directory is open at a time however deep the tree.
 */
#include "util/tree.h"
#include "util/ignore.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (128u << 10)

/* "a/b" + "c" -> "a/b/c"; "" + "c" -> "c". Caller frees. */
static char *rel_join(const char *rel, const char *name)
{
	return *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
}

/* State of one tree_copy. */
struct copy_walk {
	struct ignore *ig;
	struct tree_stats st;
	dev_t dst_dev;		/* dst_dir, never copied into itself */
	ino_t dst_ino;
	char *chunk;		/* COPY_CHUNK bytes */
	struct error *err;
};

/*
 * Copy the regular file src (described by st) to dst, replacing dst,
 * with st's permission bits and modification time.
 */
static int copy_file(struct copy_walk *w, const char *src, const char *dst,
		     const struct stat *st)
{
	struct timespec times[2];
	int in = -1, out = -1, r = 0;

	in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0) {
		r = error_errno(w->err, "cannot open '%s'", src);
		goto out;
	}
	if (unlink(dst) < 0 && errno != ENOENT) {
		r = error_errno(w->err, "cannot replace '%s'", dst);
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		r = error_errno(w->err, "cannot create '%s'", dst);
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, w->chunk, COPY_CHUNK), done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_errno(w->err, "cannot read '%s'", src);
			goto out;
		}
		if (n == 0)
			break;
		while (done < n) {
			ssize_t m = write(out, w->chunk + done, (size_t)(n - done));
			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0) {
				r = error_errno(w->err, "cannot write '%s'", dst);
				goto out;
			}
			done += m;
		}
		w->st.bytes += (uint64_t)n;
	}
	times[0] = st->st_atim;
	times[1] = st->st_mtim;
	if (fchmod(out, st->st_mode & 0777) < 0 || futimens(out, times) < 0) {
		r = error_errno(w->err, "cannot set the mode of '%s'", dst);
		goto out;
	}
	w->st.files++;
out:
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && !r)
		r = error_errno(w->err, "cannot write '%s'", dst);
	return r;
}

/* Copy the symbolic link src to dst as a link with the same target. */
static int copy_symlink(struct copy_walk *w, const char *src, const char *dst,
			const struct stat *st)
{
	size_t cap = (size_t)st->st_size + 1;
	char *target = NULL;
	ssize_t n;
	int r = 0;

	/* The size lstat gives may be 0 (procfs) or stale: grow until it fits. */
	if (cap < 256)
		cap = 256;
	for (;;) {
		target = xrealloc(target, cap);
		n = readlink(src, target, cap);
		if (n < 0) {
			r = error_errno(w->err, "cannot read the link '%s'", src);
			goto out;
		}
		if ((size_t)n < cap)
			break;
		cap *= 2;
	}
	target[n] = '\0';
	if (unlink(dst) < 0 && errno != ENOENT) {
		r = error_errno(w->err, "cannot replace '%s'", dst);
		goto out;
	}
	if (symlink(target, dst) < 0) {
		r = error_errno(w->err, "cannot create the link '%s'", dst);
		goto out;
	}
	w->st.symlinks++;
out:
	free(target);
	return r;
}

/*
 * Copy the contents of directory src (relative path rel, "" at the top)
 * into the existing directory dst, after adding the ignore files of src.
 */
static int copy_dir(struct copy_walk *w, const char *src, const char *dst, const char *rel)
{
	static const char *const ignore_files[] = { ".gitignore", ".frugalignore" };
	char **names = NULL;
	size_t n = 0, i;
	int r;

	for (i = 0; i < 2; i++) {
		_cleanup_free_ char *f = fs_path_join(src, ignore_files[i]);
		r = ignore_add_file(w->ig, f, rel, w->err);
		if (r < 0)
			goto out;
	}
	r = fs_list_names(src, &names, &n, w->err);
	if (r < 0)
		goto out;
	for (i = 0; i < n && !r; i++) {
		_cleanup_free_ char *s = fs_path_join(src, names[i]);
		_cleanup_free_ char *d = fs_path_join(dst, names[i]);
		_cleanup_free_ char *crel = rel_join(rel, names[i]);
		struct stat st;

		if (!strcmp(names[i], ".git")) {
			w->st.skipped++;
			continue;
		}
		if (lstat(s, &st) < 0) {
			if (errno != ENOENT)	/* removed meanwhile: fine */
				r = error_errno(w->err, "cannot stat '%s'", s);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if ((st.st_dev == w->dst_dev && st.st_ino == w->dst_ino) ||
			    ignore_match_one(w->ig, crel, 1)) {
				w->st.skipped++;
				continue;
			}
			if (mkdir(d, 0700) < 0 && (errno != EEXIST || !fs_is_dir(d))) {
				r = error_errno(w->err, "cannot create directory '%s'", d);
				continue;
			}
			w->st.dirs++;
			r = copy_dir(w, s, d, crel);
			if (!r && chmod(d, st.st_mode & 0777) < 0)
				r = error_errno(w->err, "cannot set the mode of '%s'", d);
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			if (ignore_match_one(w->ig, crel, 0)) {
				w->st.skipped++;
				continue;
			}
			if (S_ISREG(st.st_mode))
				r = copy_file(w, s, d, &st);
			else
				r = copy_symlink(w, s, d, &st);
		} else {
			w->st.skipped++;
		}
	}
out:
	fs_free_names(names, n);
	return r;
}

/* Copy src_dir to dst_dir honouring ignore files (see tree.h). */
int tree_copy(const char *src_dir, const char *dst_dir, struct tree_stats *ret_stats,
	      struct error *err)
{
	struct copy_walk w = { .err = err };
	struct stat sst, dst;
	int r;

	if (stat(src_dir, &sst) < 0) {
		if (errno == ENOENT)
			return error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", src_dir);
		return error_errno(err, "cannot stat '%s'", src_dir);
	}
	if (!S_ISDIR(sst.st_mode))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a directory", src_dir);
	r = fs_mkdir_p(dst_dir, 0755, err);
	if (r < 0)
		return r;
	if (stat(dst_dir, &dst) < 0)
		return error_errno(err, "cannot stat '%s'", dst_dir);
	if (sst.st_dev == dst.st_dev && sst.st_ino == dst.st_ino)
		return error_set(err, FRUGAL_EINVAL, "cannot copy '%s' onto itself ('%s')",
				 src_dir, dst_dir);

	w.ig = ignore_new();
	w.dst_dev = dst.st_dev;
	w.dst_ino = dst.st_ino;
	w.chunk = xmalloc(COPY_CHUNK);
	r = copy_dir(&w, src_dir, dst_dir, "");
	if (r < 0)
		goto out;
	if (chmod(dst_dir, sst.st_mode & 0777) < 0) {
		r = error_errno(err, "cannot set the mode of '%s'", dst_dir);
		goto out;
	}
	if (ret_stats)
		*ret_stats = w.st;
out:
	free(w.chunk);
	ignore_free(w.ig);
	return r;
}

/* Free every path and the array; p is empty afterwards. */
void tree_paths_release(struct tree_paths *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->items[i]);
	free(p->items);
	p->items = NULL;
	p->n = p->alloc = 0;
}

/* Append a path (taking ownership). */
static void paths_push(struct tree_paths *p, char *path)
{
	XGROW(p->items, p->n + 1, p->alloc);
	p->items[p->n++] = path;
}

/* State of one tree_list_glob. */
struct glob_walk {
	const char *pattern;	/* normalised: no "./", no trailing '/' */
	int dir_only;
	char *root;		/* realpath of the root */
	struct tree_paths *out;
	struct tree_paths *outside;	/* NULL: not wanted */
	struct error *err;
};

/* 1 when the resolved path real lies inside the resolved root. */
static int real_inside(const char *root, const char *real)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return 1;
	return !strncmp(real, root, n) && (real[n] == '/' || real[n] == '\0');
}

int tree_path_inside(const char *root, const char *path)
{
	char *r = realpath(root, NULL), *p = realpath(path, NULL);
	int in = r && p && real_inside(r, p);

	free(r);
	free(p);
	return in;
}

/* Note rel as a link that leads outside the root. */
static void note_outside(struct glob_walk *w, const char *rel)
{
	if (w->outside)
		paths_push(w->outside, xstrdup(rel));
}

/* 1 for a regular file, or a symbolic link that leads to one inside the
 * root (one leading outside is noted). */
static int is_file_or_link_to_file(struct glob_walk *w, const char *path, const char *rel,
				   const struct stat *lst)
{
	struct stat st;
	char *real;
	int in;

	if (S_ISREG(lst->st_mode))
		return 1;
	if (!S_ISLNK(lst->st_mode) || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	real = realpath(path, NULL);
	in = real && real_inside(w->root, real);
	free(real);
	if (!in)
		note_outside(w, rel);
	return in;
}

/*
 * read_names for the glob walks: a directory that cannot be read
 * (EACCES) or that went away lists as empty, so one root-owned directory
 * somewhere under a "**" does not hide every other output.
 */
static int glob_read_names(struct glob_walk *w, const char *path, char ***ret_names,
			   size_t *ret_n)
{
	if (fs_list_names(path, ret_names, ret_n, NULL) == 0)
		return 0;
	*ret_names = NULL;
	*ret_n = 0;
	if (errno == EACCES || errno == ENOENT || errno == ENOTDIR)
		return 0;
	return error_errno(w->err, "cannot open directory '%s'", path);
}

/* Add every file under directory path (relative rel) to w->out. */
static int add_all(struct glob_walk *w, const char *path, const char *rel)
{
	char **names = NULL;
	size_t n = 0, i;
	int r = glob_read_names(w, path, &names, &n);

	for (i = 0; i < n && !r; i++) {
		_cleanup_free_ char *child = fs_path_join(path, names[i]);
		char *crel = rel_join(rel, names[i]);
		struct stat st;

		if (!strcmp(names[i], ".git") || lstat(child, &st) < 0) {
			free(crel);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			r = add_all(w, child, crel);
			free(crel);
		} else if (is_file_or_link_to_file(w, child, crel, &st)) {
			paths_push(w->out, crel);
		} else {
			free(crel);
		}
	}
	fs_free_names(names, n);
	return r;
}

/*
 * Walk directory path (relative rel) for entries that match the pattern:
 * a matching directory adds all under it, a directory that may hold
 * matches is entered.
 */
static int glob_dir(struct glob_walk *w, const char *path, const char *rel)
{
	char **names = NULL;
	size_t n = 0, i;
	int r = glob_read_names(w, path, &names, &n);

	for (i = 0; i < n && !r; i++) {
		_cleanup_free_ char *child = fs_path_join(path, names[i]);
		char *crel = rel_join(rel, names[i]);
		struct stat st;

		if (!strcmp(names[i], ".git") || lstat(child, &st) < 0) {
			free(crel);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (ignore_glob_match(w->pattern, crel))
				r = add_all(w, child, crel);
			else if (ignore_glob_may_match_below(w->pattern, crel))
				r = glob_dir(w, child, crel);
			free(crel);
		} else if (!w->dir_only && ignore_glob_match(w->pattern, crel) &&
			   is_file_or_link_to_file(w, child, crel, &st)) {
			paths_push(w->out, crel);
		} else {
			free(crel);
		}
	}
	fs_free_names(names, n);
	return r;
}

/* qsort order of paths: strcmp. */
static int path_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 if the pattern component comp holds a wildcard or an escape. */
static int has_wildcard(const char *comp, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (strchr("*?[\\", comp[i]))
			return 1;
	return 0;
}

/* Files under root that pattern names, added to out (see tree.h). */
int tree_list_glob(const char *root, const char *pattern, struct tree_paths *out,
		   struct tree_paths *outside, struct error *err)
{
	struct glob_walk w = { .out = out, .outside = outside, .err = err };
	_cleanup_free_ char *pat = NULL, *lit = NULL, *start = NULL;
	const char *p = pattern, *c;
	size_t len, lit_len = 0, n0 = out->n, i, j;
	struct stat st;
	int r = 0;

	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode) || !(w.root = realpath(root, NULL))) {
		r = error_set(err, FRUGAL_ENOTFOUND, "no directory '%s'", root);
		goto out;
	}
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/'; p++)
			;
	if (!*pattern || p[0] == '/') {
		r = error_set(err, FRUGAL_EINVAL,
			      "output path '%s' must be relative to the work directory", pattern);
		goto out;
	}
	len = strlen(p);
	while (len && p[len - 1] == '/') {
		w.dir_only = 1;
		len--;
	}
	pat = xstrndup(p, len);
	if (!strcmp(pat, ".") || !*pat) {
		r = add_all(&w, root, "");
		goto out;
	}

	/* Check the components, and find the leading ones without wildcards. */
	for (c = pat; ; ) {
		const char *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		if (n == 2 && c[0] == '.' && c[1] == '.') {
			r = error_set(err, FRUGAL_EINVAL,
				      "output path '%s' must not contain '..'", pattern);
			goto out;
		}
		if (lit_len == (size_t)(c - pat) && !has_wildcard(c, n))
			lit_len = end ? (size_t)(end - pat) + 1 : len + 1;
		if (!end)
			break;
		c = end + 1;
	}
	w.pattern = pat;

	if (lit_len > len) {
		/* No wildcard: the path itself, followed when it is a link. */
		start = fs_path_join(root, pat);
		if (stat(start, &st) < 0)
			goto out;
		if (!tree_path_inside(w.root, start)) {
			note_outside(&w, pat);
			goto out;
		}
		if (S_ISDIR(st.st_mode))
			r = add_all(&w, start, pat);
		else if (S_ISREG(st.st_mode) && !w.dir_only)
			paths_push(out, xstrdup(pat));
		goto out;
	}
	lit = xstrndup(pat, lit_len ? lit_len - 1 : 0);
	start = fs_path_join(root, lit);
	if (fs_is_dir(start) && !tree_path_inside(w.root, start))
		note_outside(&w, lit);
	else if (fs_is_dir(start))	/* else nothing there (yet) */
		r = glob_dir(&w, start, lit);
out:
	free(w.root);
	if (r < 0) {
		for (i = n0; i < out->n; i++)
			free(out->items[i]);
		out->n = n0;
		return r;
	}
	/* Sorted, without duplicates. */
	if (out->n > 1) {
		qsort(out->items, out->n, sizeof(*out->items), path_cmp);
		for (i = 1, j = 1; i < out->n; i++) {
			if (!strcmp(out->items[i], out->items[j - 1]))
				free(out->items[i]);
			else
				out->items[j++] = out->items[i];
		}
		out->n = j;
	}
	return 0;
}
