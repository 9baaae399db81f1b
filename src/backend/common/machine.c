/*
 * machine: the generic "end my machine" action, removing the instance
 * directory (see backend/agentops.h).
 */
#include "backend/agentops.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 if path is dir or lies inside it (both absolute and canonical). */
static int path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * The instance directory is the machine. Leave it (the agent's cwd is
 * usually inside), then remove it. Refuses a directory that is not
 * absolute, is "/", or holds the job's file:// storage (a
 * misconfiguration that would take the job's records with it).
 */
int machine_remove_instance_dir(const struct machine_self *self, struct error *err)
{
	const char *dir = self->instance_dir;
	char *storage_root = NULL, *real = NULL;
	int r;

	if (!dir || dir[0] != '/' || !dir[1])
		return error_set(err, FRUGAL_EINVAL, "refusing to remove instance directory '%s'",
				 dir ? dir : "");
	if (!strncmp(self->storage_url, "file://", 7)) {
		storage_root = xstrdup(self->storage_url + 7);
		real = fs_realpath(storage_root, NULL);
		if (path_within(real ? real : storage_root, dir)) {
			r = error_set(err, FRUGAL_EINVAL,
				      "refusing to remove instance directory '%s': it holds the "
				      "storage '%s'", dir, self->storage_url);
			goto out;
		}
	}
	if (chdir("/") < 0) {
		r = error_errno(err, "cannot leave '%s'", dir);
		goto out;
	}
	r = fs_remove_tree(dir, err);
out:
	free(real);
	free(storage_root);
	return r;
}
