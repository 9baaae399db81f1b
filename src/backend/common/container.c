/*
 * container: see container.h.
 */
#include "backend/common/container.h"
#include "backend/common/hometag.h"
#include "base/fs.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUNTIME_TIMEOUT_MS 60000

/* 1 when name is an executable in a directory of $PATH. */
static int on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;

	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = *end ? end + 1 : end) {
		char *full;
		int ok;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end == p)
			continue;
		full = xasprintf("%.*s/%s", (int)(end - p), p, name);
		ok = access(full, X_OK) == 0;
		free(full);
		if (ok)
			return 1;
	}
	return 0;
}

/* 1 when `name version` answers: a docker client whose daemon is not
 * running (or not reachable by this user) fails it. */
static int answers(const char *name)
{
	const char *argv[] = { name, "version", NULL };
	struct proc pr = PROC_INIT;
	int status = -1;

	pr.argv = argv;
	pr.timeout_ms = 10000;
	return proc_run(&pr, &status, NULL) == 0 && status == 0;
}

const char *container_runtime_find(const char *configured)
{
	static const char *const known[] = { "docker", "podman", NULL };
	size_t i;

	for (i = 0; known[i]; i++)
		if ((!configured || !strcmp(configured, known[i])) && on_path(known[i]) &&
		    answers(known[i]))
			return known[i];
	return NULL;
}

#define MARK_NAME "containers-used"

int container_mark_home(const char *home, struct error *err)
{
	char *path = fs_path_join(home, MARK_NAME);
	int r = 0;

	if (access(path, F_OK) != 0)
		r = fs_write_atomic(path, "", 0, 0600, 1, err);
	free(path);
	return r;
}

/* 1 when home was marked. */
static int home_marked(const char *home)
{
	char *path = fs_path_join(home, MARK_NAME);
	int r = access(path, F_OK) == 0;

	free(path);
	return r;
}

char *container_name(const char *home, const char *token)
{
	char *tag = home_tag(home), *name = xasprintf("frugal-%s-%s", tag, token);

	free(tag);
	return name;
}

/* Run RUNTIME ARGS..., capturing stdout in out; 0, or FRUGAL_EIO with
 * its stderr. */
static int run_runtime(const char *const *argv, struct strbuf *out, struct error *err)
{
	struct strbuf errs = STRBUF_INIT;
	struct proc pr = PROC_INIT;
	int status = 0, r;

	pr.argv = argv;
	pr.out = out;
	pr.errs = &errs;
	pr.timeout_ms = RUNTIME_TIMEOUT_MS;
	r = proc_run(&pr, &status, err);
	if (r == 0 && status != 0) {
		strbuf_rtrim(&errs);
		r = error_set(err, FRUGAL_EIO, "'%s %s' exited with %d: %s", argv[0], argv[1],
			      status, errs.len ? errs.buf : "(no message)");
	}
	strbuf_release(&errs);
	return r;
}

/* 1 when a runtime's message says the container is not there. */
static int gone_message(const char *msg)
{
	return strstr(msg, "no such container") || strstr(msg, "No such container");
}

int container_remove_name(const char *runtime, const char *name, struct error *err)
{
	struct error rerr = ERROR_INIT;
	const char *argv[] = { runtime, "rm", "-f", name, NULL };

	if (run_runtime(argv, NULL, &rerr) < 0 && !gone_message(error_msg(&rerr)))
		return error_set(err, FRUGAL_EIO, "cannot remove container '%s': %s", name,
				 error_msg(&rerr));
	return 0;
}

int container_remove(const char *runtime, const char *home, const char *token, int *ret_n,
		     struct error *err)
{
	struct strbuf out = STRBUF_INIT;
	char *tag = home_tag(home), *filter = NULL, *line, *save = NULL;
	const char *rt = home_marked(home) ? container_runtime_find(runtime) : NULL;
	int r = 0, n = 0;

	if (!rt)
		goto out;
	/* Names are matched exactly (token) or by prefix (the home). */
	filter = token ? xasprintf("name=^frugal-%s-%s$", tag, token)
		       : xasprintf("name=^frugal-%s-", tag);
	{
		const char *argv[] = { rt, "ps", "-a", "--filter", filter, "--format",
				       "{{.Names}}", NULL };
		/* A runtime that cannot list (its daemon is down) runs nothing. */
		if (run_runtime(argv, &out, NULL) < 0)
			goto out;
	}
	for (line = out.len ? strtok_r(out.buf, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* One that went by itself (--rm) since the listing is gone. */
		if (strncmp(line, "frugal-", 7))
			continue;
		if (container_remove_name(rt, line, err) < 0) {
			r = FRUGAL_EIO;
			continue;
		}
		n++;
	}
out:
	if (ret_n)
		*ret_n = n;
	strbuf_release(&out);
	free(filter);
	free(tag);
	return r;
}

int container_list(const char *runtime, const char *home, struct kvlist *ret,
		   struct error *err)
{
	struct strbuf out = STRBUF_INIT;
	char *tag = home_tag(home), *filter = xasprintf("name=^frugal-%s-", tag);
	char *prefix = xasprintf("frugal-%s-", tag), *line, *save = NULL;
	const char *rt = home_marked(home) ? container_runtime_find(runtime) : NULL;
	int r = 0;

	if (rt) {
		const char *argv[] = { rt, "ps", "-a", "--filter", filter, "--format",
				       "{{.Names}}", NULL };
		r = run_runtime(argv, &out, err);
	}
	for (line = !r && out.len ? strtok_r(out.buf, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, prefix, strlen(prefix)) && line[strlen(prefix)] &&
		    !kvlist_get(ret, line + strlen(prefix)))
			kvlist_set(ret, line + strlen(prefix), "container");
	strbuf_release(&out);
	free(prefix);
	free(filter);
	free(tag);
	return r;
}
