#include "base/fs.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_mkdir_p(const char *path, mode_t mode, struct error *err)
{
	_cleanup_free_ char *p = xstrdup(path);
	char *s;

	for (s = p + 1; ; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return error_errno(err, "cannot create directory '%s'", p);
		*s = c;
		if (!c)
			break;
	}
	if (!fs_is_dir(path))
		return error_set(err, FRUGAL_EIO, "'%s' exists and is not a directory", path);
	return 0;
}

int fs_read_regular_file(const char *path, size_t max, struct strbuf *sb, struct error *err)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	int r;

	if (fd < 0) {
		if (errno == ENOENT)
			return error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", path);
		return error_errno(err, "cannot open '%s'", path);
	}
	r = fstat(fd, &st);
	close(fd);
	if (r < 0)
		return error_errno(err, "cannot stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a regular file (%s): give the "
				 "path of a file", path,
				 S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISDIR(st.st_mode) ? "a directory" :
				 S_ISSOCK(st.st_mode) ? "a socket" : "a device");
	return fs_read_file(path, max, sb, err);
}

int fs_read_file(const char *path, size_t max, struct strbuf *sb, struct error *err)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int r = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", path);
		return error_errno(err, "cannot open '%s'", path);
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = error_errno(err, "cannot read '%s'", path);
			break;
		}
		if (n == 0)
			break;
		if (max && sb->len + (size_t)n > max) {
			r = error_set(err, FRUGAL_ETOOBIG, "'%s' is larger than %zu bytes", path, max);
			break;
		}
		strbuf_add(sb, chunk, (size_t)n);
	}
	close(fd);
	return r;
}

int fs_sync_parent(const char *path)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd;

	if (!slash)
		return 0;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fsync(fd);
	close(fd);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Open a fresh temporary file beside path; returns fd and its name. */
static int open_temp(const char *path, mode_t mode, char **ret_tmp, struct error *err)
{
	static unsigned counter;
	int i;

	for (i = 0; i < 100; i++) {
		char *tmp = xasprintf("%s.tmp-%d-%u", path, (int)getpid(), counter++);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0) {
			*ret_tmp = tmp;
			return fd;
		}
		free(tmp);
		if (errno != EEXIST)
			return error_errno(err, "cannot create a temporary file beside '%s'", path);
	}
	return error_set(err, FRUGAL_EIO, "cannot create a temporary file beside '%s'", path);
}

static int commit_temp(const char *tmp, const char *path, int replace, struct error *err)
{
	if (replace) {
		if (rename(tmp, path) < 0) {
			int r = error_errno(err, "cannot rename into '%s'", path);
			unlink(tmp);
			return r;
		}
	} else {
		if (link(tmp, path) < 0) {
			int e = errno;
			unlink(tmp);
			if (e == EEXIST)
				return error_set(err, FRUGAL_EEXIST, "'%s' already exists", path);
			errno = e;
			return error_errno(err, "cannot create '%s'", path);
		}
		unlink(tmp);
	}
	fs_sync_parent(path);
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    int replace, struct error *err)
{
	_cleanup_free_ char *tmp = NULL;
	int fd = open_temp(path, mode, &tmp, err);

	if (fd < 0)
		return fd;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int r = error_errno(err, "cannot write '%s'", tmp);
		close(fd);
		unlink(tmp);
		return r;
	}
	close(fd);
	return commit_temp(tmp, path, replace, err);
}

int fs_copy_atomic(const char *src, const char *dst, mode_t mode, int replace,
		   struct error *err)
{
	_cleanup_free_ char *tmp = NULL;
	char chunk[65536];
	int in, out, r = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		if (errno == ENOENT)
			return error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", src);
		return error_errno(err, "cannot open '%s'", src);
	}
	out = open_temp(dst, mode, &tmp, err);
	if (out < 0) {
		close(in);
		return out;
	}
	for (;;) {
		ssize_t n = read(in, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_errno(err, "cannot read '%s'", src);
			break;
		}
		if (n == 0)
			break;
		if (write_all(out, chunk, (size_t)n) < 0) {
			r = error_errno(err, "cannot write '%s'", tmp);
			break;
		}
	}
	if (!r && fsync(out) < 0)
		r = error_errno(err, "cannot sync '%s'", tmp);
	close(in);
	close(out);
	if (r) {
		unlink(tmp);
		return r;
	}
	return commit_temp(tmp, dst, replace, err);
}

/*
 * Remove name in the directory dfd (path is its path, for messages).
 * A directory is opened relative to dfd with O_NOFOLLOW, so an entry
 * swapped for a symlink meanwhile is unlinked as the link it now is and
 * never followed out of the tree.
 */
static int remove_at(int dfd, const char *path, const char *name, struct error *err)
{
	_cleanup_free_ char *child = fs_path_join(path, name);
	struct dirent *e;
	DIR *d;
	int fd, r = 0;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno != ENOTDIR && errno != ELOOP)
			return error_errno(err, "cannot open directory '%s'", child);
		/* Not a directory (a symlink to one included). */
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return error_errno(err, "cannot remove '%s'", child);
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return error_errno(err, "cannot open directory '%s'", child);
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((r = remove_at(dirfd(d), child, e->d_name, err)) < 0)
			break;
	}
	closedir(d);
	if (!r && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = error_errno(err, "cannot remove directory '%s'", child);
	return r;
}

int fs_remove_tree(const char *path, struct error *err)
{
	_cleanup_free_ char *parent = NULL, *copy = xstrdup(path);
	size_t len = strlen(copy);
	const char *slash, *name;
	int dfd, r;

	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	path = copy;
	slash = strrchr(path, '/');
	/* The last component is removed relative to its parent, as every
	 * entry below it is. */
	if (!slash) {
		parent = xstrdup(".");
		name = path;
	} else {
		parent = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
		name = slash + 1;
	}
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return error_set(err, FRUGAL_EINVAL, "cannot remove '%s': not a plain path", path);
	dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : error_errno(err, "cannot open directory '%s'", parent);
	r = remove_at(dfd, parent, name, err);
	close(dfd);
	return r;
}

int fs_list_names(const char *path, char ***ret_names, size_t *ret_n, struct error *err)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, alloc = 0;

	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return error_set(err, FRUGAL_ENOTFOUND, "'%s' is not a directory", path);
		return error_errno(err, "cannot open directory '%s'", path);
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		XGROW(names, n + 1, alloc);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

void fs_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *fs_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (!*b)
		return xstrndup(a, la);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

char *fs_realpath(const char *path, struct error *err)
{
	char *p = realpath(path, NULL);

	if (!p) {
		error_errno(err, "cannot resolve '%s'", path);
		return NULL;
	}
	return p;
}
