/*
 * The file:// storage driver (see storage/file.h). The URL is
 * "file://" followed by an absolute path, taken as it is (no
 * percent-decoding, no host part).
 */
#include "storage/file.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_DIR_MODE 0700
#define FILE_OBJ_MODE 0600

struct file_storage {
	char *root;	/* absolute, no trailing slash (except "/") */
};

/* The driver state of s. */
static struct file_storage *priv_of(struct storage *s)
{
	return s->priv;
}

/* The path of key's object. Caller frees. */
static char *obj_path(struct storage *s, const char *key)
{
	return fs_path_join(priv_of(s)->root, key);
}

/* Create the directories above path (mode) when they are missing. */
static int make_parents(const char *path, mode_t mode, struct error *err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');

	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (fs_is_dir(dir))
		return 0;
	return fs_mkdir_p(dir, mode, err);
}

/* FRUGAL_ENOTFOUND with a message naming key and the storage. */
static int not_found(struct storage *s, const char *key, struct error *err)
{
	return error_set(err, FRUGAL_ENOTFOUND, "no object '%s' in '%s'", key, s->url);
}

/* Open: rest is the absolute root path; it is created when missing. */
static int file_open(struct storage *s, const char *rest, struct error *err)
{
	struct file_storage *fs = NULL;
	int r;

	if (rest[0] != '/') {
		r = error_set(err, FRUGAL_EINVAL,
			      "storage URL '%s' does not name an absolute path: use file:///absolute/path",
			      s->url);
		goto out;
	}
	fs = xcalloc(1, sizeof(*fs));
	fs->root = xstrdup(rest);
	r = fs_mkdir_p(fs->root, FILE_DIR_MODE, err);
	if (r < 0) {
		error_prefix(err, "cannot open storage '%s'", s->url);
		free(fs->root);
		free(fs);
		goto out;
	}
	s->priv = fs;
out:
	return r;
}

/* Free the driver state. */
static void file_close(struct storage *s)
{
	struct file_storage *fs = priv_of(s);

	if (!fs)
		return;
	free(fs->root);
	free(fs);
	s->priv = NULL;
}

/* Write data atomically under key, creating parent directories. */
static int file_put(struct storage *s, const char *key, const void *data, size_t len,
		    unsigned flags, struct error *err)
{
	_cleanup_free_ char *path = obj_path(s, key);
	int r = make_parents(path, FILE_DIR_MODE, err);

	if (r < 0)
		return r;
	return fs_write_atomic(path, data, len, FILE_OBJ_MODE,
			       !(flags & STORAGE_NO_OVERWRITE), err);
}

/*
 * Copy local_path atomically under key. The source is checked first, so a
 * missing source leaves nothing behind, not even parent directories.
 */
static int file_put_file(struct storage *s, const char *key, const char *local_path,
			 unsigned flags, struct error *err)
{
	_cleanup_free_ char *path = obj_path(s, key);
	struct stat st;
	int r;

	if (stat(local_path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return error_set(err, FRUGAL_ENOTFOUND, "'%s' does not exist", local_path);
		return error_errno(err, "cannot stat '%s'", local_path);
	}
	if (!S_ISREG(st.st_mode))
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a regular file", local_path);
	r = make_parents(path, FILE_DIR_MODE, err);
	if (r < 0)
		return r;
	return fs_copy_atomic(local_path, path, FILE_OBJ_MODE,
			      !(flags & STORAGE_NO_OVERWRITE), err);
}

/*
 * Open key's object for reading: FRUGAL_ENOTFOUND when it is missing or a
 * directory. Returns the fd, or a negative error.
 */
static int open_obj(struct storage *s, const char *key, struct stat *ret_st,
		    struct error *err)
{
	_cleanup_free_ char *path = obj_path(s, key);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return not_found(s, key, err);
		return error_errno(err, "cannot open '%s'", path);
	}
	if (fstat(fd, ret_st) < 0) {
		int r = error_errno(err, "cannot stat '%s'", path);
		close(fd);
		return r;
	}
	if (!S_ISREG(ret_st->st_mode)) {
		close(fd);
		return not_found(s, key, err);
	}
	return fd;
}

/*
 * Read fd to its end, appending to out. With strict, more than max bytes
 * (0: no cap) is FRUGAL_ETOOBIG; without, reading stops after max bytes.
 * On failure out is as it was.
 */
static int read_fd(int fd, size_t max, int strict, struct strbuf *out, const char *key,
		   struct error *err)
{
	char chunk[65536];
	size_t len0 = out->len, got = 0;
	int r = 0;

	for (;;) {
		size_t want = sizeof(chunk);
		ssize_t n;

		if (max && !strict && max - got < want)
			want = max - got;
		if (!want)
			break;
		n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_errno(err, "cannot read '%s'", key);
			goto out;
		}
		if (n == 0)
			break;
		if (strict && max && got + (size_t)n > max) {
			r = error_set(err, FRUGAL_ETOOBIG, "'%s' is larger than %zu bytes", key, max);
			goto out;
		}
		if (strbuf_add(out, chunk, (size_t)n) < 0) {
			r = error_set(err, FRUGAL_ETOOBIG, "'%s' does not fit in the buffer", key);
			goto out;
		}
		got += (size_t)n;
	}
out:
	if (r < 0 && out->alloc) {
		out->len = len0;
		out->buf[len0] = '\0';
	}
	return r;
}

/* Append the whole object to out; more than max bytes is FRUGAL_ETOOBIG. */
static int file_get(struct storage *s, const char *key, size_t max, struct strbuf *out,
		    struct error *err)
{
	struct stat st;
	int fd = open_obj(s, key, &st, err), r;

	if (fd < 0)
		return fd;
	if (max && (uint64_t)st.st_size > max)
		r = error_set(err, FRUGAL_ETOOBIG, "'%s' is larger than %zu bytes", key, max);
	else
		r = read_fd(fd, max, 1, out, key, err);
	close(fd);
	return r;
}

/* Copy the object to local_path atomically, replacing it; parents created. */
static int file_get_file(struct storage *s, const char *key, const char *local_path,
			 struct error *err)
{
	_cleanup_free_ char *path = obj_path(s, key);
	struct stat st;
	int r;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return not_found(s, key, err);
	r = make_parents(local_path, 0777, err);
	if (r < 0)
		return r;
	/* A file for the user: 0666 less the umask, like cp. */
	return fs_copy_atomic(path, local_path, 0666, 1, err);
}

/* Append data to the object, creating it and its parents. */
static int file_append(struct storage *s, const char *key, const void *data, size_t len,
		       struct error *err)
{
	_cleanup_free_ char *path = obj_path(s, key);
	const char *p = data;
	int fd, r;

	r = make_parents(path, FILE_DIR_MODE, err);
	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, FILE_OBJ_MODE);
	if (fd < 0)
		return error_errno(err, "cannot open '%s'", path);
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_errno(err, "cannot write '%s'", path);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
out:
	if (close(fd) < 0 && !r)
		r = error_errno(err, "cannot write '%s'", path);
	return r;
}

/* Append at most max bytes (0: all) from offset on; past the end is 0 bytes. */
static int file_read_at(struct storage *s, const char *key, int64_t offset, size_t max,
			struct strbuf *out, struct error *err)
{
	struct stat st;
	int fd = open_obj(s, key, &st, err), r = 0;

	if (fd < 0)
		return fd;
	if (offset >= st.st_size)
		goto out;
	if (lseek(fd, (off_t)offset, SEEK_SET) < 0) {
		r = error_errno(err, "cannot seek in '%s'", key);
		goto out;
	}
	r = read_fd(fd, max, 0, out, key, err);
out:
	close(fd);
	return r;
}

/* 1 for the temporary names of base/fs.c: "NAME.tmp-PID-N". */
static int is_temp_name(const char *name)
{
	const char *p = NULL, *q;

	for (q = strstr(name, ".tmp-"); q; q = strstr(q + 1, ".tmp-"))
		p = q;
	if (!p || p == name)
		return 0;
	p += 5;
	if (!(*p >= '0' && *p <= '9'))
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != '-' || !(*p >= '0' && *p <= '9'))
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return *p == '\0';
}

/* 1 when a directory with key dir ("a/b/") may hold keys starting with prefix. */
static int dir_may_match(const char *dir, const char *prefix)
{
	size_t a = strlen(dir), b = strlen(prefix);

	return !strncmp(dir, prefix, a < b ? a : b);
}

/* State of one listing walk. */
struct list_walk {
	struct storage *s;
	const char *prefix;
	struct storage_list *out;
	struct error *err;
};

/*
 * List the directory path, whose keys start with rel ("" or "a/b/"),
 * recursively into w->out. A missing directory lists nothing.
 */
static int list_dir(struct list_walk *w, const char *path, const char *rel)
{
	char **names = NULL;
	size_t n = 0, i;
	int r = fs_list_names(path, &names, &n, w->err);

	if (r == FRUGAL_ENOTFOUND)
		return 0;
	if (r < 0)
		return r;
	for (i = 0; i < n && !r; i++) {
		_cleanup_free_ char *child = NULL;
		_cleanup_free_ char *key = NULL;
		struct stat st;

		if (is_temp_name(names[i]))
			continue;
		child = fs_path_join(path, names[i]);
		key = xasprintf("%s%s", rel, names[i]);

		if (lstat(child, &st) < 0) {
			if (errno != ENOENT)	/* deleted meanwhile: fine */
				r = error_errno(w->err, "cannot stat '%s'", child);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			_cleanup_free_ char *sub = xasprintf("%s/", key);
			if (dir_may_match(sub, w->prefix))
				r = list_dir(w, child, sub);
		} else if (S_ISREG(st.st_mode) && !strncmp(key, w->prefix, strlen(w->prefix))) {
			struct storage_entry *ent;

			XGROW(w->out->items, w->out->n + 1, w->out->alloc);
			ent = &w->out->items[w->out->n++];
			ent->key = TAKE_PTR(key);
			ent->size = (int64_t)st.st_size;
			ent->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
					st.st_mtim.tv_nsec / 1000000;
		}
	}
	fs_free_names(names, n);
	return r;
}

/* qsort order of listing entries: by key, strcmp. */
static int entry_cmp(const void *a, const void *b)
{
	const struct storage_entry *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/*
 * Every regular file whose key starts with prefix, sorted by key. The walk
 * starts in the directory part of prefix and enters only directories that
 * can hold matching keys. On failure out is as it was.
 */
static int file_list(struct storage *s, const char *prefix, struct storage_list *out,
		     struct error *err)
{
	struct list_walk w = { s, prefix, out, err };
	const char *slash = strrchr(prefix, '/');
	_cleanup_free_ char *rel = xstrndup(prefix, slash ? (size_t)(slash - prefix) + 1 : 0);
	_cleanup_free_ char *dir = fs_path_join(priv_of(s)->root, rel);
	size_t n0 = out->n, i;
	int r;

	r = list_dir(&w, dir, rel);
	if (r < 0) {
		for (i = n0; i < out->n; i++)
			free(out->items[i].key);
		out->n = n0;
		return r;
	}
	if (out->n - n0 > 1)
		qsort(out->items + n0, out->n - n0, sizeof(*out->items), entry_cmp);
	return 0;
}

/* Delete the object; a missing one is success. */
static int file_del(struct storage *s, const char *key, struct error *err)
{
	_cleanup_free_ char *path = obj_path(s, key);

	if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR)
		return error_errno(err, "cannot delete '%s'", path);
	return 0;
}

/* Size and mtime of the object; FRUGAL_ENOTFOUND when absent or a directory. */
static int file_stat(struct storage *s, const char *key, int64_t *ret_size,
		     int64_t *ret_mtime_ms, struct error *err)
{
	_cleanup_free_ char *path = obj_path(s, key);
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return not_found(s, key, err);
		return error_errno(err, "cannot stat '%s'", path);
	}
	if (!S_ISREG(st.st_mode))
		return not_found(s, key, err);
	if (ret_size)
		*ret_size = (int64_t)st.st_size;
	if (ret_mtime_ms)
		*ret_mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	return 0;
}

/* The object's path on this machine. Caller frees. */
static char *file_local_path(struct storage *s, const char *key)
{
	return obj_path(s, key);
}

/* The writer's PID in "NAME.tmp-PID-N" (0: none). */
static long temp_pid(const char *name)
{
	const char *p = strstr(name, ".tmp-"), *q;

	for (q = p; q; q = strstr(q + 1, ".tmp-"))
		p = q;
	return p ? strtol(p + 5, NULL, 10) : 0;
}

/* Walk path for stale temporary files into *out (see file.h). */
static int stale_walk(const char *path, int64_t now_ms, int64_t max_age_ms,
		      struct storage_list *out, struct error *err)
{
	char **names = NULL;
	size_t n = 0, i;
	int r = fs_list_names(path, &names, &n, err);

	if (r == FRUGAL_ENOTFOUND)
		return 0;
	for (i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *child = fs_path_join(path, names[i]);
		struct stat st;
		int64_t age;
		long pid;

		if (lstat(child, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			r = stale_walk(child, now_ms, max_age_ms, out, err);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !is_temp_name(names[i]))
			continue;
		age = now_ms - ((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
		pid = temp_pid(names[i]);
		/* A writer keeps the mtime fresh: one untouched this long is done. */
		if (age < max_age_ms &&
		    !(age >= FILE_TEMP_DEAD_AGE_MS && pid > 0 && kill((pid_t)pid, 0) < 0 &&
		      errno == ESRCH))
			continue;
		XGROW(out->items, out->n + 1, out->alloc);
		out->items[out->n].key = TAKE_PTR(child);
		out->items[out->n].size = (int64_t)st.st_size;
		out->items[out->n++].mtime_ms = now_ms - age;
	}
	fs_free_names(names, n);
	return r;
}

int storage_file_stale_temps(const char *url, int64_t max_age_ms, struct storage_list *out,
			     struct error *err)
{
	struct timespec ts;

	if (strncmp(url, "file://", 7))
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	return stale_walk(url + 7, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, max_age_ms,
			  out, err);
}

/* MOUNT of a file:// URL: dir becomes a symbolic link to the directory. */
static int file_mount(const char *url, const char *dir, struct error *err)
{
	const char *path = url + strlen("file://");

	if (!fs_is_dir(path))
		return error_set(err, FRUGAL_ENOTFOUND, "%s is not a directory on this machine", url);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return error_errno(err, "'%s' is in the way", dir);
	if (symlink(path, dir) < 0)
		return error_errno(err, "cannot link '%s' to %s", dir, path);
	return 0;
}

const struct storage_ops storage_file_ops = {
	.scheme = "file",
	.open = file_open,
	.close = file_close,
	.put = file_put,
	.put_file = file_put_file,
	.get = file_get,
	.get_file = file_get_file,
	.append = file_append,
	.read_at = file_read_at,
	.list = file_list,
	.del = file_del,
	.stat = file_stat,
	.local_path = file_local_path,
	.mount = file_mount,
};
