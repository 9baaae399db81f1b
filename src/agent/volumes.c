/*
 * volumes: linking the task's volumes at their mount paths (see
 * volumes.h).
 */
#include "agent/volumes.h"
#include "agent/mounts.h"
#include "backend/provider.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct volumes {
	const struct agent_conf *conf;
	struct logship *log;
	char **links;		/* the links made, to remove; NULL: none made */
	size_t n;
};

struct volumes *volumes_new(const struct agent_conf *conf, struct logship *log)
{
	struct volumes *v;

	if (!conf->task.volumes.n)
		return NULL;
	v = xcalloc(1, sizeof(*v));
	v->conf = conf;
	v->log = log;
	v->n = conf->task.volumes.n;
	v->links = xcalloc(v->n, sizeof(*v->links));
	return v;
}

char *volumes_source_path(const struct volume *vol, size_t i)
{
	if (!strcmp(vol->kind, VOLUME_KIND_DIR))
		return xstrdup(vol->ref);
	return xasprintf("%s/%zu", PROVIDER_VOLUME_ROOT, i);
}

/* 1 when path is a symbolic link to target. */
static int links_to(const char *path, const char *target)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return 0;
	buf[n] = '\0';
	return !strcmp(buf, target);
}

/* The parent directories of path. */
static int make_parents(const char *path, struct error *err)
{
	char *parent = xstrdup(path), *slash = strrchr(parent, '/');
	int r = 0;

	if (slash && slash != parent) {
		*slash = '\0';
		r = fs_mkdir_p(parent, 0755, err);
	}
	free(parent);
	return r;
}

int volumes_place(struct volumes *v, struct error *err)
{
	size_t i;
	int r = 0;

	for (i = 0; v && i < v->n && r == 0; i++) {
		const struct volume *vol = &v->conf->task.volumes.items[i];
		char *target = mounts_target(v->conf, vol->dst);
		char *src = volumes_source_path(vol, i);
		struct stat sb;

		if (!fs_is_dir(src)) {
			r = error_set(err, FRUGAL_ENOTFOUND, "volumes: '%s': %s is not a directory "
				      "on this machine%s", vol->dst, src,
				      strcmp(vol->kind, VOLUME_KIND_DIR)
					      ? " (the volume was not attached and mounted there "
						"before the agent started; see the boot log)" : "");
		} else if (lstat(target, &sb) == 0) {
			if (!links_to(target, src))
				r = error_set(err, FRUGAL_EEXIST, "volumes: '%s': %s is already there; "
					      "frugal never replaces it: move it away, or mount the "
					      "volume at another path", vol->dst, target);
			else
				logship_note(v->log, "volume %s: %s already linked", vol->dst, src);
		} else if ((r = make_parents(target, err)) == 0) {
			if (symlink(src, target) < 0) {
				r = error_errno(err, "volumes: cannot link '%s' to '%s'", target, src);
			} else {
				v->links[i] = target;
				target = NULL;
				logship_note(v->log, "volume %s: %s%s", vol->dst, src,
					     vol->read_only ? " (read-only)" : "");
			}
		}
		free(target);
		free(src);
	}
	return r;
}

void volumes_finish(struct volumes *v)
{
	size_t i;

	for (i = 0; v && i < v->n; i++) {
		if (v->links[i] && unlink(v->links[i]) < 0 && errno != ENOENT)
			logship_note(v->log, "volume link %s not removed: %s", v->links[i],
				     strerror(errno));
		free(v->links[i]);
		v->links[i] = NULL;
	}
}

void volumes_free(struct volumes *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++)
		free(v->links[i]);
	free(v->links);
	free(v);
}
