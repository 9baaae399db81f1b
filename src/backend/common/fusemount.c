/*
 * fusemount: FUSE tools for the drivers' MOUNT (see fusemount.h).
 */
#include "backend/common/fusemount.h"
#include "base/proc.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUSEMOUNT_TIMEOUT_MS 120000

int fusemount_have(const char *program)
{
	const char *path = getenv("PATH"), *c;

	for (c = path ? path : "/usr/bin:/bin"; *c; ) {
		size_t len = strcspn(c, ":");
		char *f = xasprintf("%.*s/%s", (int)len, c, program);
		int ok = len && access(f, X_OK) == 0;

		free(f);
		if (ok)
			return 1;
		c += len;
		c += *c == ':';
	}
	return 0;
}

int fusemount_run(const char *const *argv, struct error *err)
{
	struct strbuf errs = STRBUF_INIT;
	struct proc pr = PROC_INIT;
	int status = 0, r;

	strbuf_init(&errs, 4096);
	pr.argv = argv;
	pr.errs = &errs;
	pr.timeout_ms = FUSEMOUNT_TIMEOUT_MS;
	r = proc_run(&pr, &status, err);
	if (r == 0 && status) {
		strbuf_rtrim(&errs);
		r = error_set(err, FRUGAL_EIO, "%s exited with %d%s%s", argv[0], status,
			      errs.len ? ": " : "", errs.len ? errs.buf : "");
	}
	strbuf_release(&errs);
	return r;
}

void fusemount_split(const char *url, char **ret_bucket, char **ret_prefix)
{
	const char *rest = strstr(url, "://"), *slash;
	size_t n;

	rest = rest ? rest + 3 : url;
	slash = strchr(rest, '/');
	*ret_bucket = slash ? xstrndup(rest, (size_t)(slash - rest)) : xstrdup(rest);
	*ret_prefix = NULL;
	if (slash && slash[1]) {
		n = strlen(slash + 1);
		while (n && slash[n] == '/')
			n--;
		*ret_prefix = xstrndup(slash + 1, n);
	}
}

int fusemount_rclone(const char *type, const char *bucket, const char *prefix, const char *dir,
		     struct error *err)
{
	char *remote = xasprintf(":%s,env_auth=true:%s%s%s", type, bucket, prefix ? "/" : "",
				 prefix ? prefix : "");
	const char *argv[] = { "rclone", "mount", "--daemon", remote, dir, NULL };
	int r = fusemount_run(argv, err);

	free(remote);
	return r;
}
