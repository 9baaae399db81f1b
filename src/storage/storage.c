/*
 * storage: URL dispatch, key checks and the helpers every driver shares
 * (versioned puts, URLs of keys). The drivers live in their own files.
 */
#include "storage/storage.h"
#include "storage/file.h"
#include "base/xalloc.h"
#include "contract/key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STORAGE_KEY_MAX KEY_MAX
/* Highest N tried by storage_put_file_versioned ("NAME.vN.EXT"). */
#define STORAGE_VERSION_MAX 10000


/*
 * A copy of s safe to put in a message: control characters become '?',
 * and very long strings are cut. Caller frees.
 */
static char *printable(const char *s)
{
	size_t n = strlen(s), i;
	char *p;

	if (n > 200)
		n = 200;
	p = xstrndup(s, n);
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			p[i] = '?';
	return p;
}

/* Free every entry of a listing and the array; l is empty afterwards. */
void storage_list_release(struct storage_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->items[i].key);
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

/*
 * Open the storage at url. The scheme picks the driver: file, else a
 * backend's (storage_driver_for); the rest of the URL goes to the driver's open. On
 * success *ret is a new storage the caller frees with storage_free.
 */
const struct storage_ops *storage_driver_of_url(const char *url)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	size_t n = sep ? (size_t)(sep - url) : 0;

	if (!sep)
		return NULL;
	if (strlen(storage_file_ops.scheme) == n && !strncasecmp(storage_file_ops.scheme, url, n))
		return &storage_file_ops;
	return storage_driver_for(url, n);
}

int storage_mount(const char *url, const char *dir, struct error *err)
{
	const struct storage_ops *ops = storage_driver_of_url(url);

	if (!ops)
		return error_set(err, FRUGAL_EINVAL, "unsupported storage URL '%s'", url);
	if (!ops->mount)
		return error_set(err, FRUGAL_ENOTSUP, "MOUNT of %s:// URLs is not supported; use "
				 "mode: COPY or MOUNT_CACHED", ops->scheme);
	return ops->mount(url, dir, err);
}

int storage_open(const char *url, struct storage **ret, struct error *err)
{
	const struct storage_ops *ops = NULL;
	struct storage *s = NULL;
	const char *sep;
	size_t scheme_len, len;
	int r = 0;

	sep = url ? strstr(url, "://") : NULL;
	scheme_len = sep ? (size_t)(sep - url) : 0;
	if (sep && strlen(storage_file_ops.scheme) == scheme_len &&
	    !strncasecmp(storage_file_ops.scheme, url, scheme_len))
		ops = &storage_file_ops;
	else if (sep)
		ops = storage_driver_for(url, scheme_len);
	if (!ops) {
		_cleanup_free_ char *shown = printable(url ? url : "");
		r = error_set(err, FRUGAL_EINVAL,
			      "unsupported storage URL '%s': use file:///absolute/path", shown);
		goto out;
	}

	/* Drop trailing slashes, but keep the one of a root ("file:///"). */
	len = strlen(url);
	while (len > scheme_len + 4 && url[len - 1] == '/')
		len--;
	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->url = xstrndup(url, len);
	r = ops->open(s, s->url + scheme_len + 3, err);
	if (r < 0) {
		/* The driver's open cleans up after itself: no close here. */
		free(s->url);
		free(s);
		s = NULL;
		goto out;
	}
	*ret = s;
out:
	return r;
}

/* Close the driver and free s; storage_free(NULL) is fine. */
void storage_free(struct storage *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->close)
		s->ops->close(s);
	free(s->url);
	free(s);
}

/* The key grammar is the contract's (contract/key.h). */
int storage_key_valid(const char *key)
{
	return key_valid(key);
}

/* Check key; on failure fill err and return FRUGAL_EINVAL. */
static int check_key(const char *key, struct error *err)
{
	_cleanup_free_ char *shown = NULL;

	if (storage_key_valid(key))
		return 0;
	shown = printable(key ? key : "");
	return error_set(err, FRUGAL_EINVAL,
			 "invalid storage key '%s': a key is a relative path without "
			 "'..', '.', '//' or control characters, at most %d bytes",
			 shown, STORAGE_KEY_MAX);
}

/* FRUGAL_ENOTSUP for a driver that lacks an operation. */
static int not_supported(struct storage *s, const char *what, struct error *err)
{
	return error_set(err, FRUGAL_ENOTSUP, "storage '%s' cannot %s", s->url, what);
}

/* Store len bytes of data under key (see storage_ops.put). */
int storage_put(struct storage *s, const char *key, const void *data, size_t len,
		unsigned flags, struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (!s->ops->put)
		return not_supported(s, "put objects", err);
	return s->ops->put(s, key, data, len, flags, err);
}

/* Store the local file local_path under key (see storage_ops.put_file). */
int storage_put_file(struct storage *s, const char *key, const char *local_path,
		     unsigned flags, struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (!s->ops->put_file)
		return not_supported(s, "put files", err);
	return s->ops->put_file(s, key, local_path, flags, err);
}

/* Append the object at key to out, failing past max bytes (0: no cap). */
int storage_get(struct storage *s, const char *key, size_t max, struct strbuf *out,
		struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (!s->ops->get)
		return not_supported(s, "get objects", err);
	return s->ops->get(s, key, max, out, err);
}

/* Copy the object at key to the local file local_path (replacing it). */
int storage_get_file(struct storage *s, const char *key, const char *local_path,
		     struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (!s->ops->get_file)
		return not_supported(s, "get files", err);
	return s->ops->get_file(s, key, local_path, err);
}

/* Append bytes to the object at key, creating it (see storage_ops.append). */
int storage_append(struct storage *s, const char *key, const void *data, size_t len,
		   struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (!s->ops->append)
		return not_supported(s, "append to objects", err);
	return s->ops->append(s, key, data, len, err);
}

/* Append at most max bytes (0: no cap) of key from offset on to out. */
int storage_read_at(struct storage *s, const char *key, int64_t offset, size_t max,
		    struct strbuf *out, struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (offset < 0)
		return error_set(err, FRUGAL_EINVAL, "negative offset %lld reading '%s'",
				 (long long)offset, key);
	if (!s->ops->read_at)
		return not_supported(s, "read parts of objects", err);
	return s->ops->read_at(s, key, offset, max, out, err);
}

/*
 * List every object whose key starts with prefix (NULL or "" for all),
 * recursively, sorted by key, appending to out. A prefix may end in '/'
 * and need not end on a component boundary ("jobs/ab" lists
 * "jobs/ab12/x").
 */
int storage_list(struct storage *s, const char *prefix, struct storage_list *out,
		 struct error *err)
{
	_cleanup_free_ char *trimmed = NULL;
	size_t n;
	int r;

	if (!prefix)
		prefix = "";
	n = strlen(prefix);
	while (n && prefix[n - 1] == '/')
		n--;
	trimmed = xstrndup(prefix, n);
	if (*prefix) {
		r = check_key(trimmed, err);
		if (r < 0)
			return r;
	}
	if (!s->ops->list)
		return not_supported(s, "list objects", err);
	return s->ops->list(s, prefix, out, err);
}

/* Delete the object at key; a missing key is success. */
int storage_del(struct storage *s, const char *key, struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (!s->ops->del)
		return not_supported(s, "delete objects", err);
	return s->ops->del(s, key, err);
}

/* Size and modification time of key; FRUGAL_ENOTFOUND when absent. */
int storage_stat(struct storage *s, const char *key, int64_t *ret_size,
		 int64_t *ret_mtime_ms, struct error *err)
{
	int r = check_key(key, err);

	if (r < 0)
		return r;
	if (!s->ops->stat)
		return not_supported(s, "stat objects", err);
	return s->ops->stat(s, key, ret_size, ret_mtime_ms, err);
}

/* A local path for key when the driver has one, else NULL. Caller frees. */
char *storage_local_path(struct storage *s, const char *key)
{
	if (!storage_key_valid(key) || !s->ops->local_path)
		return NULL;
	return s->ops->local_path(s, key);
}

/*
 * The key of version n (n >= 2) of key: ".vN" goes before the last
 * extension of the base name, or at the end when the base name has none
 * (a leading dot does not start an extension):
 *   "weights/model.pth" -> "weights/model.v2.pth"
 *   "logs/run"          -> "logs/run.v2"
 *   "archive.tar.gz"    -> "archive.tar.v2.gz"
 *   "dir.d/.env"        -> "dir.d/.env.v2"
 * Caller frees.
 */
char *storage_versioned_key(const char *key, unsigned n)
{
	const char *slash = strrchr(key, '/');
	const char *base = slash ? slash + 1 : key;
	const char *dot = strrchr(base, '.');

	if (!dot || dot == base)
		return xasprintf("%s.v%u", key, n);
	return xasprintf("%.*s.v%u%s", (int)(dot - key), key, n, dot);
}

/*
 * Store local_path under key, or under the first free versioned name when
 * key is taken (storage_versioned_key). Every attempt uses
 * STORAGE_NO_OVERWRITE, so a concurrent writer that takes a name first
 * only pushes this one to the next version; nothing is ever replaced.
 */
int storage_put_file_versioned(struct storage *s, const char *key, const char *local_path,
			       char **ret_key, struct error *err)
{
	struct error stat_err = ERROR_INIT;
	char *name = NULL;
	unsigned n;
	int r = check_key(key, err);

	if (r < 0)
		goto out;
	for (n = 1; n <= STORAGE_VERSION_MAX; n++) {
		free(name);
		name = n == 1 ? xstrdup(key) : storage_versioned_key(key, n);
		if (!storage_key_valid(name)) {
			r = check_key(name, err);
			goto out;
		}
		/* A cheap look first: a failed put copies the whole file. */
		r = storage_stat(s, name, NULL, NULL, &stat_err);
		if (r == 0)
			continue;
		if (r != FRUGAL_ENOTFOUND && r != FRUGAL_ENOTSUP) {
			r = error_set(err, r, "%s", stat_err.msg);
			goto out;
		}
		r = storage_put_file(s, name, local_path, STORAGE_NO_OVERWRITE, err);
		if (r == FRUGAL_EEXIST)
			continue;
		if (r < 0)
			goto out;
		*ret_key = name;
		name = NULL;
		goto out;
	}
	r = error_set(err, FRUGAL_EEXIST, "'%s' and its versions up to .v%d all exist in '%s'",
		      key, STORAGE_VERSION_MAX, s->url);
out:
	free(name);
	return r;
}

/* The full URL of key: "file:///root" + "/" + key. Caller frees. */
char *storage_url_of(struct storage *s, const char *key)
{
	size_t n = strlen(s->url);

	if (!key || !*key)
		return xstrdup(s->url);
	while (*key == '/')
		key++;
	if (n && s->url[n - 1] == '/')
		return xasprintf("%s%s", s->url, key);
	return xasprintf("%s/%s", s->url, key);
}
