/*
 * mount: the task's file_mounts, SkyPilot's meaning.
 *
 *   file_mounts:
 *     REMOTE: LOCAL_PATH          uploaded once (content-addressed) and copied
 *     REMOTE: BUCKET_URL          a storage URL, copied down (COPY)
 *     REMOTE: {source, name, store, mode, persistent}
 *                                 a storage object; mode COPY, MOUNT (the
 *                                 default for a bucket) or MOUNT_CACHED
 *
 * REMOTE is a path on the machine: absolute ("/data"), or relative to the
 * job's work directory ("data", "~/data": '~' is the work directory, where
 * setup and run start). A local source is resolved like workdir (against
 * the current directory, '~' is $HOME) and must exist; it is copied
 * only (mode COPY). name + store name an existing bucket (frugal never
 * creates or deletes one). What the agent does with each is in
 * agent/mounts.h and docs/DATA.md.
 */
#ifndef FRUGAL_SPEC_MOUNT_H
#define FRUGAL_SPEC_MOUNT_H

#include <stddef.h>

struct schema;
struct ynode;

enum mount_mode {
	MOUNT_MODE_COPY = 0,	/* copied to the machine before setup */
	MOUNT_MODE_MOUNT,	/* a FUSE mount of the bucket */
	MOUNT_MODE_CACHED,	/* local files, synced up without overwriting */
};

struct file_mount {
	char *dst;		/* REMOTE as written ("/data", "~/x", "x") */
	char *source;		/* a storage URL, or (local) an absolute local path */
	int local;		/* 1: source is a path on the launching machine */
	enum mount_mode mode;
	char *dataset;		/* local: the stored tree's id, set at launch; else NULL */
};

struct mount_list {
	struct file_mount *items;
	size_t n, alloc;
};
#define MOUNT_LIST_INIT { NULL, 0, 0 }

/* Append a copy of the strings (dataset may be NULL). */
void mount_list_append(struct mount_list *l, const char *dst, const char *source, int local,
		       enum mount_mode mode, const char *dataset);
void mount_list_release(struct mount_list *l);

/* The first mount with an absolute dst / a local source, or NULL: for
 * backends whose machines are shared (an absolute path there is not the
 * job's) or cannot reach the storage local sources are uploaded to. */
const struct file_mount *mount_list_find_absolute(const struct mount_list *l);
const struct file_mount *mount_list_find_local(const struct mount_list *l);

/* "COPY", "MOUNT", "MOUNT_CACHED"; and back (-1: unknown, case ignored). */
const char *mount_mode_name(enum mount_mode m);
int mount_mode_from_name(const char *s, enum mount_mode *ret);

/* 1 when dst is an absolute path on the machine. */
int mount_dst_absolute(const char *dst);
/* The path of a relative dst below the work directory ("~/x" and "./x"
 * -> "x"); NULL for an absolute one. Points into dst. */
const char *mount_dst_relative(const char *dst);

/* NULL when dst is a usable REMOTE (or volume mount path), else what is
 * expected instead ("a path without '..'"). */
const char *mount_dst_problem(const char *dst);

/* 1 for a source URL frugal has a storage driver for. */
int mount_url_supported(const char *url);
/* A local source as written ("~/d", "/d", "d") joined into one path, the
 * way workdir is: ~ is $HOME, a relative path is below base_dir (NULL: the
 * current directory). Not resolved (fs_realpath does that); never NULL. */
char *mount_local_join(const char *src, const char *base_dir);

/* Hooks: spec sits below the storage drivers, so src/backend/registry.c
 * defines these from them. The i-th URL scheme a storage driver reads
 * ("file", then the backends'), NULL past the last; the i-th SkyPilot
 * store name (`store:`) with its URL scheme in *ret_scheme, NULL past
 * the last. */
const char *mount_scheme(size_t i);
const char *mount_store(size_t i, const char **ret_scheme);

/* The file_mounts node v (path "file_mounts") into l; every problem is a
 * diagnostic in sc. base_dir resolves local sources (NULL: the current
 * directory). */
void mount_parse(struct schema *sc, const struct ynode *v, const char *path,
		 const char *base_dir, struct mount_list *l);

#endif
