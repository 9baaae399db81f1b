/*
 * dataset: content-addressed upload and fetch of a local tree (see
 * dataset.h).
 */
#include "storage/dataset.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "contract/key.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
	char *path;	/* relative; "" for a single-file dataset */
	char *abs;
	char sha[65];
	int64_t size;
	unsigned mode;
	struct stat st;	/* as hashed */
};

struct entries {
	struct entry *items;
	size_t n, alloc;
};

static void entries_release(struct entries *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->items[i].path);
		free(l->items[i].abs);
	}
	free(l->items);
}

static void hex_of(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = 0;
}

int dataset_sha256_file(const char *path, char hex[65], int64_t *ret_size, struct error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
	unsigned int len = 0;
	EVP_MD_CTX *ctx;
	int64_t size = 0;
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_errno(err, "cannot open '%s'", path);
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		abort();
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = error_errno(err, "cannot read '%s'", path);
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			abort();
		size += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &len) != 1 || len != 32)
		abort();
	hex_of(md, hex);
	if (ret_size)
		*ret_size = size;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return r;
}

/* The regular files below abs (rel its path in the dataset), recursively. */
static int walk(const char *abs, const char *rel, struct entries *l, struct dataset_stats *stats,
		struct error *err)
{
	DIR *d = opendir(abs);
	struct dirent *de;
	int r = 0;

	if (!d)
		return error_errno(err, "cannot read directory '%s'", abs);
	while ((de = readdir(d))) {
		char *child, *crel;
		struct stat st;
		json_t *probe;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = fs_path_join(abs, de->d_name);
		crel = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		probe = json_string(crel);	/* NULL: not UTF-8 */
		if (lstat(child, &st) < 0) {
			r = error_errno(err, "cannot stat '%s'", child);
		} else if (!probe || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
			stats->skipped++;
		} else if (S_ISDIR(st.st_mode)) {
			r = walk(child, crel, l, stats, err);
		} else {
			if (l->n == l->alloc) {
				l->alloc = l->alloc ? 2 * l->alloc : 16;
				l->items = xrealloc(l->items, l->alloc * sizeof(*l->items));
			}
			memset(&l->items[l->n], 0, sizeof(l->items[0]));
			l->items[l->n].path = TAKE_PTR(crel);
			l->items[l->n].abs = TAKE_PTR(child);
			l->items[l->n].st = st;
			l->n++;
		}
		json_decref(probe);
		free(child);
		free(crel);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/* The same file as when it was hashed (size, mtime, ctime, inode). */
static int unchanged(const struct entry *e)
{
	struct stat st;

	return lstat(e->abs, &st) == 0 && st.st_size == e->st.st_size &&
	       st.st_ino == e->st.st_ino && st.st_mtim.tv_sec == e->st.st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == e->st.st_mtim.tv_nsec &&
	       st.st_ctim.tv_sec == e->st.st_ctim.tv_sec &&
	       st.st_ctim.tv_nsec == e->st.st_ctim.tv_nsec;
}

/* The manifest's text and its id. */
static char *manifest_text(const struct entries *l, int is_dir, char id[65])
{
	json_t *o = json_object(), *files = json_array();
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *text;
	size_t i;

	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "kind", json_string(is_dir ? "dir" : "file"));
	for (i = 0; i < l->n; i++) {
		json_t *f = json_object();

		json_object_set_new(f, "path", json_string(l->items[i].path));
		json_object_set_new(f, "sha256", json_string(l->items[i].sha));
		json_object_set_new(f, "size", json_integer(l->items[i].size));
		json_object_set_new(f, "mode", json_integer(l->items[i].mode));
		json_array_append_new(files, f);
	}
	json_object_set_new(o, "files", files);
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		abort();
	if (EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) != 1 || len != 32)
		abort();
	hex_of(md, id);
	return text;
}

/* Send one object unless the storage has it. */
static int send_object(struct storage *st, const struct entry *e, struct dataset_stats *stats,
		       struct error *err)
{
	char *key = key_data_object(e->sha);
	struct error serr = ERROR_INIT;
	int r = storage_stat(st, key, NULL, NULL, &serr);

	if (r == 0)
		goto out;
	r = storage_put_file(st, key, e->abs, STORAGE_NO_OVERWRITE, err);
	if (r == FRUGAL_EEXIST) {
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	if (!unchanged(e)) {
		storage_del(st, key, NULL);
		r = error_set(err, FRUGAL_EBUSY, "'%s' changed while it was uploaded; launch "
			      "again once it is written", e->abs);
		goto out;
	}
	stats->sent_files++;
	stats->sent_bytes += (uint64_t)e->size;
out:
	free(key);
	return r;
}

int dataset_upload(struct storage *st, const char *local_path, char ret_id[DATASET_ID_LEN + 1],
		   struct dataset_stats *stats, struct error *err)
{
	struct entries l = { NULL, 0, 0 };
	struct stat st0;
	char id[65], *text = NULL, *mkey = NULL;
	struct error serr = ERROR_INIT;
	int is_dir, r = 0;
	size_t i;

	if (stat(local_path, &st0) < 0)
		return error_errno(err, "cannot stat '%s'", local_path);
	is_dir = S_ISDIR(st0.st_mode);
	if (is_dir) {
		r = walk(local_path, "", &l, stats, err);
		if (r < 0)
			goto out;
		qsort(l.items, l.n, sizeof(l.items[0]), cmp_entry);
	} else if (S_ISREG(st0.st_mode)) {
		l.items = xcalloc(1, sizeof(l.items[0]));
		l.items[0].path = xstrdup("");
		l.items[0].abs = xstrdup(local_path);
		l.items[0].st = st0;
		l.n = l.alloc = 1;
	} else {
		return error_set(err, FRUGAL_EINVAL, "'%s' is not a file or a directory", local_path);
	}
	for (i = 0; i < l.n; i++) {
		struct entry *e = &l.items[i];

		r = dataset_sha256_file(e->abs, e->sha, &e->size, err);
		if (r < 0)
			goto out;
		if (!unchanged(e)) {
			r = error_set(err, FRUGAL_EBUSY, "'%s' changed while it was read; launch again "
				      "once it is written", e->abs);
			goto out;
		}
		e->mode = (unsigned)(e->st.st_mode & 0777);
		stats->files++;
		stats->bytes += (uint64_t)e->size;
	}
	text = manifest_text(&l, is_dir, id);
	mkey = key_data_manifest(id);
	if (storage_stat(st, mkey, NULL, NULL, &serr) == 0)
		goto done;	/* stored before: every object is there */
	for (i = 0; i < l.n; i++) {
		r = send_object(st, &l.items[i], stats, err);
		if (r < 0) {
			error_prefix(err, "cannot store '%s'", l.items[i].abs);
			goto out;
		}
	}
	r = storage_put(st, mkey, text, strlen(text), STORAGE_NO_OVERWRITE, err);
	if (r == FRUGAL_EEXIST)
		r = 0;
	if (r < 0)
		goto out;
done:
	memcpy(ret_id, id, sizeof(id));
out:
	free(text);
	free(mkey);
	entries_release(&l);
	return r;
}

/* 1 when rel is a safe relative path ("" allowed when single). */
static int path_ok(const char *rel)
{
	const char *c = rel;

	if (!*rel || *rel == '/')
		return 0;
	while (*c) {
		size_t len = strcspn(c, "/");

		if (!len || (len == 1 && c[0] == '.') || (len == 2 && !strncmp(c, "..", 2)))
			return 0;
		c += len;
		c += *c == '/';
	}
	return !strchr(rel, '\n') && rel[strlen(rel) - 1] != '/';
}

/* One file of the manifest to target. */
static int fetch_one(struct storage *st, const char *sha, int64_t size, unsigned mode,
		     const char *target, struct dataset_stats *stats, struct error *err)
{
	char hex[65], *key = NULL, *tmp = NULL, *dir = NULL, *slash;
	struct stat sb;
	int64_t got = 0;
	int r;

	if (lstat(target, &sb) == 0) {
		if (S_ISREG(sb.st_mode) && sb.st_size == size &&
		    dataset_sha256_file(target, hex, NULL, NULL) == 0 && !strcmp(hex, sha)) {
			stats->kept_files++;
			return 0;
		}
		return error_set(err, FRUGAL_EEXIST, "'%s' already exists with other content; "
				 "file_mounts never replaces a file", target);
	}
	dir = xstrdup(target);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = 0;
		if ((r = fs_mkdir_p(dir, 0755, err)) < 0)
			goto out;
	}
	key = key_data_object(sha);
	tmp = xasprintf("%s.frugal-part", target);
	unlink(tmp);
	r = storage_get_file(st, key, tmp, err);
	if (r < 0)
		goto out;
	if ((r = dataset_sha256_file(tmp, hex, &got, err)) < 0)
		goto out;
	if (strcmp(hex, sha) || got != size) {
		r = error_set(err, FRUGAL_EINVAL, "object %s in the storage does not hold what its "
			      "name says (%lld bytes, sha256 %s)", key, (long long)got, hex);
		goto out;
	}
	if (chmod(tmp, mode & 0777) < 0 || link(tmp, target) < 0) {
		r = error_errno(err, "cannot place '%s'", target);
		goto out;
	}
	stats->sent_files++;
	stats->sent_bytes += (uint64_t)size;
out:
	if (tmp)
		unlink(tmp);
	free(tmp);
	free(key);
	free(dir);
	return r;
}

int dataset_fetch(struct storage *st, const char *id, const char *dst,
		  struct dataset_stats *stats, struct error *err)
{
	struct strbuf text = STRBUF_INIT;
	char *mkey = key_data_manifest(id);
	json_t *root = NULL, *files;
	json_error_t jerr;
	const char *kind;
	size_t i;
	int r, is_dir;

	r = storage_get(st, mkey, DATASET_MANIFEST_MAX, &text, err);
	if (r < 0) {
		error_prefix(err, "data set %s", mkey);
		goto out;
	}
	root = json_loadb(text.buf, text.len, JSON_REJECT_DUPLICATES, &jerr);
	kind = root ? json_string_value(json_object_get(root, "kind")) : NULL;
	files = root ? json_object_get(root, "files") : NULL;
	if (!kind || !json_is_array(files) || (strcmp(kind, "dir") && strcmp(kind, "file")) ||
	    (!strcmp(kind, "file") && json_array_size(files) != 1)) {
		r = error_set(err, FRUGAL_EINVAL, "data set %s: not a manifest", mkey);
		goto out;
	}
	is_dir = !strcmp(kind, "dir");
	if (is_dir && (r = fs_mkdir_p(dst, 0755, err)) < 0)
		goto out;
	for (i = 0; i < json_array_size(files); i++) {
		const json_t *f = json_array_get(files, i);
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *sha = json_string_value(json_object_get(f, "sha256"));
		const json_t *size = json_object_get(f, "size"), *mode = json_object_get(f, "mode");
		char *target;

		if (!path || !sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64 ||
		    !json_is_integer(size) || json_integer_value(size) < 0 ||
		    !json_is_integer(mode) || (is_dir && !path_ok(path)) || (!is_dir && *path)) {
			r = error_set(err, FRUGAL_EINVAL, "data set %s: file %zu is not {path, sha256, "
				      "size, mode}", mkey, i);
			goto out;
		}
		target = is_dir ? fs_path_join(dst, path) : xstrdup(dst);
		stats->files++;
		stats->bytes += (uint64_t)json_integer_value(size);
		r = fetch_one(st, sha, json_integer_value(size),
			      (unsigned)json_integer_value(mode), target, stats, err);
		free(target);
		if (r < 0)
			goto out;
	}
out:
	json_decref(root);
	strbuf_release(&text);
	free(mkey);
	return r;
}
