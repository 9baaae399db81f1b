#include "store/home.h"
#include "base/fs.h"
#include "base/xalloc.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int home_open(struct home *h, struct error *err)
{
	const char *env = getenv("FRUGAL_HOME");
	char *dir;
	int r;

	if (env && *env) {
		dir = xstrdup(env);
	} else {
		const char *hd = getenv("HOME");
		if (!hd || !*hd) {
			struct passwd *pw = getpwuid(getuid());
			hd = pw ? pw->pw_dir : NULL;
		}
		if (!hd)
			return error_set(err, FRUGAL_EINVAL, "cannot find a home directory:"
					 " set FRUGAL_HOME");
		dir = fs_path_join(hd, ".frugal");
	}
	if ((r = fs_mkdir_p(dir, 0700, err)) < 0) {
		free(dir);
		return r;
	}
	chmod(dir, 0700);
	{
		char *abs = fs_realpath(dir, err);
		free(dir);
		if (!abs)
			return FRUGAL_EIO;
		dir = abs;
	}
	h->dir = dir;
	h->db = fs_path_join(dir, "state.db");
	h->config = fs_path_join(dir, "config.yaml");
	h->key = fs_path_join(dir, "secret.key");
	h->socket = fs_path_join(dir, "controller.sock");
	h->lock = fs_path_join(dir, "controller.lock");
	h->pidfile = fs_path_join(dir, "controller.pid");
	h->controller_log = fs_path_join(dir, "controller.log");
	h->instances = fs_path_join(dir, "instances");
	h->storage_url = xasprintf("file://%s/storage", dir);
	return 0;
}

void home_release(struct home *h)
{
	free(h->dir);
	free(h->db);
	free(h->config);
	free(h->key);
	free(h->socket);
	free(h->lock);
	free(h->pidfile);
	free(h->controller_log);
	free(h->instances);
	free(h->storage_url);
	memset(h, 0, sizeof(*h));
}
