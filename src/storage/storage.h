/*
 * storage: where checkpoints, logs, outputs and agent status live,
 * addressed by URL (file:///path, and the schemes of the backends'
 * drivers). A driver is a table of operations (curl's vtls style);
 * storage_open picks one by the URL scheme: file:// here (file.h), the
 * others from the backends (storage_driver_for).
 *
 * Keys are relative paths with '/' separators ("jobs/ab12cd/status.json").
 * Keys never contain "..", never start with '/'; storage_key_valid checks.
 *
 * Guarantees every driver gives:
 *  - put is atomic: a reader sees the whole old object or the whole new
 *    one, never a part (file: temporary name, fsync, rename/link).
 *  - put with STORAGE_NO_OVERWRITE fails with FRUGAL_EEXIST, atomically,
 *    when the key exists: an existing object is never replaced.
 */
#ifndef FRUGAL_STORAGE_STORAGE_H
#define FRUGAL_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/strbuf.h"

enum storage_flags {
	STORAGE_NO_OVERWRITE = 1 << 0,
};

struct storage;

struct storage_entry {
	char *key;		/* the full key (relative to the storage root) */
	int64_t size;
	int64_t mtime_ms;
};

struct storage_list {
	struct storage_entry *items;
	size_t n, alloc;
};
#define STORAGE_LIST_INIT { NULL, 0, 0 }
void storage_list_release(struct storage_list *l);

struct storage_ops {
	const char *scheme;	/* "file" */
	int (*open)(struct storage *s, const char *rest_of_url, struct error *err);
	void (*close)(struct storage *s);
	int (*put)(struct storage *s, const char *key, const void *data, size_t len,
		   unsigned flags, struct error *err);
	int (*put_file)(struct storage *s, const char *key, const char *local_path,
			unsigned flags, struct error *err);
	/* get appends to out; max caps the size (0: none). */
	int (*get)(struct storage *s, const char *key, size_t max, struct strbuf *out,
		   struct error *err);
	int (*get_file)(struct storage *s, const char *key, const char *local_path,
			struct error *err);
	/* Append bytes to an object, creating it (logs). Not atomic. */
	int (*append)(struct storage *s, const char *key, const void *data, size_t len,
		      struct error *err);
	/* Read from offset: appends at most max bytes to out (log follow). */
	int (*read_at)(struct storage *s, const char *key, int64_t offset, size_t max,
		       struct strbuf *out, struct error *err);
	/* Every object whose key starts with prefix, recursively, sorted by key. */
	int (*list)(struct storage *s, const char *prefix, struct storage_list *out,
		    struct error *err);
	/* Missing keys are not an error. */
	int (*del)(struct storage *s, const char *key, struct error *err);
	/* FRUGAL_ENOTFOUND when absent; size/mtime may be NULL. */
	int (*stat)(struct storage *s, const char *key, int64_t *ret_size,
		    int64_t *ret_mtime_ms, struct error *err);
	/* A local path for the key when the driver has one (file://), else NULL.
	 * Caller frees. */
	char *(*local_path)(struct storage *s, const char *key);
	/* SkyPilot's name for this store in file_mounts' `store:`; NULL: none. */
	const char *store_name;
	/* file_mounts MOUNT: make the objects under url appear at the empty
	 * directory dir (a FUSE tool the machine has); NULL: not supported. The
	 * error names what to install when no tool is there. */
	int (*mount)(const char *url, const char *dir, struct error *err);
};

struct storage {
	const struct storage_ops *ops;
	char *url;	/* as opened, no trailing slash */
	void *priv;	/* driver state */
};

/* Hook: the driver of a backend for scheme (len bytes, case-insensitive),
 * or NULL. storage sits below src/backend/, so it declares this and
 * src/backend/registry.c defines it from the backends' descriptors. */
const struct storage_ops *storage_driver_for(const char *scheme, size_t len);

/* The driver of url's scheme (file:// or a backend's), or NULL. */
const struct storage_ops *storage_driver_of_url(const char *url);

/* file_mounts MOUNT of url at dir through its driver (see storage_ops). */
int storage_mount(const char *url, const char *dir, struct error *err);

/* Open a storage by URL ("file:///abs/path"). */
int storage_open(const char *url, struct storage **ret, struct error *err);
void storage_free(struct storage *s);

/* 1 if key is a valid relative key, 0 otherwise. */
int storage_key_valid(const char *key);

/* Thin wrappers over the ops (they check the key first). */
int storage_put(struct storage *s, const char *key, const void *data, size_t len,
		unsigned flags, struct error *err);
int storage_put_file(struct storage *s, const char *key, const char *local_path,
		     unsigned flags, struct error *err);
int storage_get(struct storage *s, const char *key, size_t max, struct strbuf *out,
		struct error *err);
int storage_get_file(struct storage *s, const char *key, const char *local_path,
		     struct error *err);
int storage_append(struct storage *s, const char *key, const void *data, size_t len,
		   struct error *err);
int storage_read_at(struct storage *s, const char *key, int64_t offset, size_t max,
		    struct strbuf *out, struct error *err);
int storage_list(struct storage *s, const char *prefix, struct storage_list *out,
		 struct error *err);
int storage_del(struct storage *s, const char *key, struct error *err);
int storage_stat(struct storage *s, const char *key, int64_t *ret_size,
		 int64_t *ret_mtime_ms, struct error *err);
char *storage_local_path(struct storage *s, const char *key);

/*
 * Store a local file under key without ever replacing an existing object:
 * when key exists, try "NAME.v2.EXT", "NAME.v3.EXT", ... and store under
 * the first free name. Returns the key used in *ret_key (caller frees).
 */
int storage_put_file_versioned(struct storage *s, const char *key, const char *local_path,
			       char **ret_key, struct error *err);

/*
 * The name of version n (n >= 2) of key: ".vN" goes before the LAST
 * extension of the base name, or at the end when it has none; a leading
 * dot does not start an extension. "weights/model.pth" ->
 * "weights/model.v2.pth", "logs/run" -> "logs/run.v2", "archive.tar.gz"
 * -> "archive.tar.v2.gz", ".env" -> ".env.v2". Caller frees.
 */
char *storage_versioned_key(const char *key, unsigned n);

/* Full URL of a key ("file:///root/jobs/x/outputs"). Caller frees. */
char *storage_url_of(struct storage *s, const char *key);

#endif
