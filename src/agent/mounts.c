/*
 * mounts: placing file_mounts before setup and storing MOUNT_CACHED
 * files back (see mounts.h).
 */
#include "agent/mounts.h"
#include "backend/common/fusemount.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "storage/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a MOUNT_CACHED directory has stored: the file's size and mtime
 * when it was stored (or fetched). Sorted by path. */
struct seen {
	char *path;
	int64_t size;
	struct timespec mtime;
};

struct placed {
	const struct file_mount *fm;
	char *target;
	int mounted;		/* a FUSE mount to undo */
	struct storage *bucket;	/* MOUNT_CACHED: open for the syncs */
	struct seen *seen;
	size_t n_seen, alloc_seen;
};

struct mounts {
	uv_loop_t *loop;
	const struct agent_conf *conf;
	struct storage *st;
	struct logship *log;
	struct placed *items;
	size_t n;
	uv_timer_t timer;
	int timer_on, finished;
};

char *mounts_target(const struct agent_conf *conf, const char *dst)
{
	const char *rel = mount_dst_relative(dst);

	return rel ? fs_path_join(conf->work_dir, rel) : xstrdup(dst);
}

struct mounts *mounts_new(uv_loop_t *loop, const struct agent_conf *conf, struct storage *st,
			  struct logship *log)
{
	struct mounts *m;

	if (!conf->task.file_mounts.n)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->loop = loop;
	m->conf = conf;
	m->st = st;
	m->log = log;
	m->items = xcalloc(conf->task.file_mounts.n, sizeof(*m->items));
	return m;
}

/* ---- the seen set of a MOUNT_CACHED directory ------------------------------ */

static size_t seen_find(const struct placed *p, const char *path, int *found)
{
	size_t lo = 0, hi = p->n_seen;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(p->seen[mid].path, path);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static void seen_set(struct placed *p, const char *path, const struct stat *st)
{
	int found;
	size_t i = seen_find(p, path, &found);

	if (!found) {
		if (p->n_seen == p->alloc_seen) {
			p->alloc_seen = p->alloc_seen ? 2 * p->alloc_seen : 16;
			p->seen = xrealloc(p->seen, p->alloc_seen * sizeof(*p->seen));
		}
		memmove(&p->seen[i + 1], &p->seen[i], (p->n_seen - i) * sizeof(*p->seen));
		p->n_seen++;
		p->seen[i].path = xstrdup(path);
	}
	p->seen[i].size = st->st_size;
	p->seen[i].mtime = st->st_mtim;
}

/* 1 when path is what was stored or fetched last. */
static int seen_same(const struct placed *p, const char *path, const struct stat *st)
{
	int found;
	size_t i = seen_find(p, path, &found);

	return found && p->seen[i].size == st->st_size &&
	       p->seen[i].mtime.tv_sec == st->st_mtim.tv_sec &&
	       p->seen[i].mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* ---- copying a bucket down ---------------------------------------------------- */

/* 1 when key is a safe relative path to place below a directory. */
static int rel_ok(const char *key)
{
	const char *c = key;

	if (!*key || *key == '/' || key[strlen(key) - 1] == '/')
		return 0;
	while (*c) {
		size_t len = strcspn(c, "/");

		if (!len || (len == 1 && *c == '.') || (len == 2 && !strncmp(c, "..", 2)))
			return 0;
		c += len;
		c += *c == '/';
	}
	return 1;
}

/* One object to target, unless a file of that size is there already;
 * one of another size is never replaced. 1 when kept, 0 when fetched. */
static int fetch_object(struct storage *b, const char *key, int64_t size, const char *target,
			struct error *err)
{
	struct stat sb;
	char *tmp;
	int r;

	if (lstat(target, &sb) == 0) {
		if (S_ISREG(sb.st_mode) && sb.st_size == size)
			return 1;
		return error_set(err, FRUGAL_EEXIST, "'%s' is in the way (other content); "
				 "file_mounts never replaces a file", target);
	}
	tmp = xasprintf("%s.frugal-part", target);
	unlink(tmp);
	r = storage_get_file(b, key, tmp, err);
	if (r == 0 && link(tmp, target) < 0)
		r = error_errno(err, "cannot place '%s'", target);
	unlink(tmp);
	free(tmp);
	return r;
}

/* Every object below the bucket URL into dir; with p (MOUNT_CACHED) each
 * is remembered as stored. A URL with nothing below it that names one
 * object is fetched as the file dir. */
static int copy_down(struct mounts *m, struct placed *p, const char *label, struct storage *b,
		     const char *url, const char *dir, struct error *err)
{
	struct storage_list l = STORAGE_LIST_INIT;
	uint64_t files = 0, bytes = 0, kept = 0, skipped = 0;
	size_t i;
	int r;

	if ((r = storage_list(b, "", &l, err)) < 0)
		goto out;
	if (!l.n && !p) {
		/* Maybe the URL is one object: list its parent. */
		const char *slash = strrchr(url, '/'), *sep = strstr(url, "://");
		struct storage *parent = NULL;
		char *purl;

		if (sep && slash > sep + 3 && slash[1] && strchr(sep + 3, '/') != NULL &&
		    strchr(sep + 3, '/') <= slash && strncmp(url, "file://", 7)) {
			int64_t size = 0;

			purl = xstrndup(url, (size_t)(slash - url));
			if (storage_open(purl, &parent, NULL) == 0 &&
			    storage_stat(parent, slash + 1, &size, NULL, NULL) == 0) {
				/* mounts_place made dir's parent */
				if ((r = fetch_object(parent, slash + 1, size, dir, err)) >= 0) {
					logship_note(m->log, "file_mounts %s: %s copied (%lld bytes)",
						     label, url, (long long)size);
					r = 0;
				}
				storage_free(parent);
				free(purl);
				goto out;
			}
			storage_free(parent);
			free(purl);
		}
		r = error_set(err, FRUGAL_ENOTFOUND, "nothing is stored at %s", url);
		goto out;
	}
	if ((r = fs_mkdir_p(dir, 0755, err)) < 0)
		goto out;
	for (i = 0; i < l.n; i++) {
		const char *key = l.items[i].key;
		char *target, *parent, *slash;
		struct stat sb;

		if (!rel_ok(key)) {
			skipped++;
			continue;
		}
		target = fs_path_join(dir, key);
		parent = xstrdup(target);
		slash = strrchr(parent, '/');
		*slash = 0;
		r = fs_mkdir_p(parent, 0755, err);
		free(parent);
		if (r == 0)
			r = fetch_object(b, key, l.items[i].size, target, err);
		if (r >= 0) {
			kept += r == 1;
			files++;
			bytes += (uint64_t)l.items[i].size;
			if (p && lstat(target, &sb) == 0)
				seen_set(p, key, &sb);
			r = 0;
		}
		free(target);
		if (r < 0)
			goto out;
	}
	logship_note(m->log, "file_mounts %s: %llu files (%llu bytes) from %s%s%s",
		     label, (unsigned long long)files, (unsigned long long)bytes,
		     url, kept ? ", some already there" : "",
		     skipped ? ", objects with unusable names left out" : "");
out:
	storage_list_release(&l);
	return r;
}

/* ---- MOUNT ---------------------------------------------------------------------- */

/* MOUNT through the URL's storage driver (a FUSE tool, or a link for
 * file://); the target must be absent or an empty directory. */
static int mount_bucket(struct mounts *m, struct placed *p, struct error *err)
{
	struct stat sb;
	int r;

	if (lstat(p->target, &sb) == 0 && !(S_ISDIR(sb.st_mode) && rmdir(p->target) == 0))
		return error_set(err, FRUGAL_EEXIST, "'%s' is in the way; file_mounts never replaces "
				 "a file or a directory that is not empty", p->target);
	if ((r = fs_mkdir_p(p->target, 0755, err)) < 0)
		return r;
	if ((r = storage_mount(p->fm->source, p->target, err)) < 0) {
		rmdir(p->target);
		return r;
	}
	if (lstat(p->target, &sb) == 0 && S_ISDIR(sb.st_mode))
		p->mounted = 1;	/* a FUSE mount (a link needs no unmount) */
	logship_note(m->log, "file_mounts %s: %s mounted", p->fm->dst, p->fm->source);
	return 0;
}

static void unmount(struct mounts *m, struct placed *p)
{
	const char *tools[][3] = { { "fusermount3", "-u", NULL }, { "fusermount", "-u", NULL },
				   { "umount", NULL, NULL } };
	struct error err = ERROR_INIT;
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *argv[] = { tools[i][0], tools[i][1] ? tools[i][1] : p->target,
				       tools[i][1] ? p->target : NULL, NULL };

		if (fusemount_have(tools[i][0]) && fusemount_run(argv, &err) == 0) {
			p->mounted = 0;
			return;
		}
	}
	logship_note(m->log, "file_mounts %s: cannot unmount %s: %s", p->fm->dst, p->target,
		     err.code ? error_msg(&err) : "no fusermount or umount on PATH");
}

/* ---- MOUNT_CACHED: storing files back --------------------------------------------- */

/* Store the files below dir (rel their key) that changed since they were
 * stored; final: also those changed just now. */
static void sync_dir(struct mounts *m, struct placed *p, const char *dir, const char *rel,
		     int final, uint64_t *stored, uint64_t *failed)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t now = time_now_ms();

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *path, *key;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    strstr(de->d_name, ".frugal-part"))
			continue;
		path = fs_path_join(dir, de->d_name);
		key = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			sync_dir(m, p, path, key, final, stored, failed);
		} else if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && !seen_same(p, key, &sb) &&
			   (final || now - ((int64_t)sb.st_mtim.tv_sec * 1000 +
					    sb.st_mtim.tv_nsec / 1000000) >= MOUNTS_SETTLE_MS)) {
			struct error err = ERROR_INIT;
			char *used = NULL;

			if (storage_key_valid(key) &&
			    storage_put_file_versioned(p->bucket, key, path, &used, &err) == 0) {
				seen_set(p, key, &sb);
				(*stored)++;
				if (strcmp(used, key))
					logship_note(m->log, "file_mounts %s: %s stored as %s (never "
						     "replacing what is there)", p->fm->dst, key, used);
			} else {
				(*failed)++;
				logship_note(m->log, "file_mounts %s: cannot store %s: %s", p->fm->dst,
					     key, err.code ? error_msg(&err) : "not a usable key");
				seen_set(p, key, &sb);	/* said once; tried again when it changes */
			}
			free(used);
		}
		free(path);
		free(key);
	}
	closedir(d);
}

static void sync_cached(struct mounts *m, int final)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		struct placed *p = &m->items[i];
		uint64_t stored = 0, failed = 0;

		if (!p->bucket)
			continue;
		sync_dir(m, p, p->target, "", final, &stored, &failed);
		if (stored || failed || final)
			logship_note(m->log, "file_mounts %s: %llu file(s) stored to %s%s%s",
				     p->fm->dst, (unsigned long long)stored, p->fm->source,
				     failed ? ", some could not be" : "", final ? " (last sync)" : "");
	}
}

static void on_sync_timer(uv_timer_t *t)
{
	sync_cached(t->data, 0);
}

/* ---- placing --------------------------------------------------------------------- */

static int place_one(struct mounts *m, struct placed *p, struct error *err)
{
	const struct file_mount *fm = p->fm;
	struct storage *b = NULL;
	int r;

	if (fm->local) {
		struct dataset_stats ds = DATASET_STATS_INIT;

		if (!fm->dataset)
			return error_set(err, FRUGAL_EINVAL, "the local source '%s' was not "
					 "uploaded at launch", fm->source);
		r = dataset_fetch(m->st, fm->dataset, p->target, &ds, err);
		if (r == 0)
			logship_note(m->log, "file_mounts %s: %llu files (%llu bytes) placed from "
				     "the launch's upload of %s", fm->dst,
				     (unsigned long long)ds.files, (unsigned long long)ds.bytes,
				     fm->source);
		return r;
	}
	if (fm->mode == MOUNT_MODE_MOUNT)
		return mount_bucket(m, p, err);
	if ((r = storage_open(fm->source, &b, err)) < 0)
		return r;
	if (fm->mode == MOUNT_MODE_CACHED) {
		p->bucket = b;
		return copy_down(m, p, fm->dst, b, fm->source, p->target, err);
	}
	r = copy_down(m, NULL, fm->dst, b, fm->source, p->target, err);
	storage_free(b);
	return r;
}

static int cmp_placed(const void *a, const void *b)
{
	return strcmp(((const struct placed *)a)->target, ((const struct placed *)b)->target);
}

int mounts_place(struct mounts *m, struct error *err)
{
	const struct mount_list *l;
	size_t i;
	int r = 0, cached = 0;

	if (!m)
		return 0;
	l = &m->conf->task.file_mounts;
	for (i = 0; i < l->n; i++) {
		m->items[i].fm = &l->items[i];
		m->items[i].target = mounts_target(m->conf, l->items[i].dst);
	}
	m->n = l->n;
	/* A directory before what is placed inside it. */
	qsort(m->items, m->n, sizeof(m->items[0]), cmp_placed);
	for (i = 0; i < m->n; i++) {
		struct placed *p = &m->items[i];
		char *parent, *slash;

		parent = xstrdup(p->target);
		if ((slash = strrchr(parent, '/')) && slash != parent) {
			*slash = 0;
			r = fs_mkdir_p(parent, 0755, err);
		}
		free(parent);
		if (r == 0)
			r = place_one(m, p, err);
		if (r < 0) {
			error_prefix(err, "file_mounts.%s", p->fm->dst);
			return r;
		}
		cached |= p->bucket != NULL;
	}
	if (cached) {
		uv_timer_init(m->loop, &m->timer);
		m->timer.data = m;
		m->timer_on = 1;
		uv_timer_start(&m->timer, on_sync_timer, MOUNTS_SYNC_MS, MOUNTS_SYNC_MS);
	}
	return 0;
}

void mounts_finish(struct mounts *m)
{
	size_t i;

	if (!m || m->finished)
		return;
	m->finished = 1;
	if (m->timer_on) {
		uv_timer_stop(&m->timer);
		uv_close((uv_handle_t *)&m->timer, NULL);
	}
	sync_cached(m, 1);
	for (i = 0; i < m->n; i++)
		if (m->items[i].mounted)
			unmount(m, &m->items[i]);
}

void mounts_free(struct mounts *m)
{
	size_t i, k;

	if (!m)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->items[i].target);
		storage_free(m->items[i].bucket);
		for (k = 0; k < m->items[i].n_seen; k++)
			free(m->items[i].seen[k].path);
		free(m->items[i].seen);
	}
	free(m->items);
	free(m);
}
