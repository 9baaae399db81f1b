/*
 * tar: a ustar writer for a directory tree (see tar.h).
 */
#include "util/tar.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK 512

struct tar_out {
	FILE *f;
	const char *path;
	struct error *err;
};

/* An octal field of width w (w - 1 digits and a NUL). */
static void octal(char *field, size_t w, unsigned long long v)
{
	size_t i;

	field[w - 1] = '\0';
	for (i = w - 1; i > 0; i--) {
		field[i - 1] = (char)('0' + (v & 7));
		v >>= 3;
	}
}

/* Write len bytes to the archive. */
static int tar_write(struct tar_out *t, const void *data, size_t len)
{
	if (fwrite(data, 1, len, t->f) != len)
		return error_errno(t->err, "cannot write '%s'", t->path);
	return 0;
}

/* Pad to the next 512-byte block after len bytes. */
static int tar_pad(struct tar_out *t, unsigned long long len)
{
	static const char zeros[BLOCK];
	size_t rest = (size_t)(len % BLOCK);

	return rest ? tar_write(t, zeros, BLOCK - rest) : 0;
}

/* One header block. */
static int tar_header(struct tar_out *t, const char *name, const char *link, char type,
		      unsigned mode, unsigned long long size, long long mtime)
{
	char h[BLOCK];
	unsigned sum = 0;
	size_t i;

	memset(h, 0, sizeof(h));
	memcpy(h, name, strnlen(name, 100));
	octal(h + 100, 8, mode & 07777);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	octal(h + 124, 12, size);
	octal(h + 136, 12, (unsigned long long)(mtime > 0 ? mtime : 0));
	memset(h + 148, ' ', 8);
	h[156] = type;
	if (link)
		memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	for (i = 0; i < BLOCK; i++)
		sum += (unsigned char)h[i];
	octal(h + 148, 7, sum);
	h[155] = ' ';
	return tar_write(t, h, BLOCK);
}

/* A GNU long name ('L') or long link ('K') record for text. */
static int tar_long(struct tar_out *t, char type, const char *text)
{
	size_t len = strlen(text) + 1;
	int r;

	if ((r = tar_header(t, "././@LongLink", NULL, type, 0644, len, 0)) < 0 ||
	    (r = tar_write(t, text, len)) < 0)
		return r;
	return tar_pad(t, len);
}

/* One entry: long records first when name or link do not fit. */
static int tar_entry(struct tar_out *t, const char *name, const char *link, char type,
		     unsigned mode, unsigned long long size, long long mtime)
{
	int r;

	if (strlen(name) >= 100 && (r = tar_long(t, 'L', name)) < 0)
		return r;
	if (link && strlen(link) >= 100 && (r = tar_long(t, 'K', link)) < 0)
		return r;
	return tar_header(t, name, link, type, mode, size, mtime);
}

/* A regular file: its header, its bytes, the padding. */
static int tar_file(struct tar_out *t, const char *path, const char *name, const struct stat *st)
{
	char buf[65536];
	unsigned long long done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;
	ssize_t n;

	if (fd < 0)
		return error_errno(t->err, "cannot read '%s'", path);
	r = tar_entry(t, name, NULL, '0', st->st_mode, (unsigned long long)st->st_size,
		      (long long)st->st_mtime);
	while (r == 0 && done < (unsigned long long)st->st_size &&
	       (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = error_errno(t->err, "cannot read '%s'", path);
			break;
		}
		if ((unsigned long long)n > (unsigned long long)st->st_size - done)
			n = (ssize_t)((unsigned long long)st->st_size - done);
		r = tar_write(t, buf, (size_t)n);
		done += (unsigned long long)n;
	}
	close(fd);
	if (r == 0 && done != (unsigned long long)st->st_size)
		r = error_set(t->err, FRUGAL_EIO, "'%s' changed while it was archived", path);
	return r ? r : tar_pad(t, done);
}

/* Everything under dir/rel, sorted by name. */
static int tar_dir(struct tar_out *t, const char *dir, const char *rel)
{
	char *path = *rel ? fs_path_join(dir, rel) : xstrdup(dir);
	char **names = NULL;
	size_t n = 0, i;
	int r;

	if ((r = fs_list_names(path, &names, &n, t->err)) < 0)
		goto out;
	for (i = 0; i < n && r == 0; i++) {
		char *full = fs_path_join(path, names[i]);
		char *name = *rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		struct stat st;

		if (lstat(full, &st) < 0) {
			r = error_errno(t->err, "cannot read '%s'", full);
		} else if (S_ISDIR(st.st_mode)) {
			char *dname = xasprintf("%s/", name);
			r = tar_entry(t, dname, NULL, '5', st.st_mode, 0, (long long)st.st_mtime);
			free(dname);
			if (r == 0)
				r = tar_dir(t, dir, name);
		} else if (S_ISREG(st.st_mode)) {
			r = tar_file(t, full, name, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlink(full, target, sizeof(target) - 1);

			if (len < 0) {
				r = error_errno(t->err, "cannot read link '%s'", full);
			} else {
				target[len] = '\0';
				r = tar_entry(t, name, target, '2', 0777, 0, (long long)st.st_mtime);
			}
		}
		free(full);
		free(name);
	}
out:
	fs_free_names(names, n);
	free(path);
	return r;
}

/* Archive dir at tar_path (see tar.h). */
int tar_write_tree(const char *dir, const char *tar_path, struct error *err)
{
	static const char end[2 * BLOCK];
	struct tar_out t = { NULL, tar_path, err };
	int fd = open(tar_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r;

	if (fd < 0 || !(t.f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "cannot write '%s'", tar_path);
	}
	r = tar_dir(&t, dir, "");
	if (r == 0)
		r = tar_write(&t, end, sizeof(end));
	if (fclose(t.f) != 0 && r == 0)
		r = error_errno(err, "cannot write '%s'", tar_path);
	if (r < 0)
		unlink(tar_path);
	return r;
}
