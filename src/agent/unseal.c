/*
 * unseal: secrets.sealed into the agent's environment (see unseal.h).
 */
#include "agent/unseal.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "base/xalloc.h"
#include "contract/secrets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int unseal_secrets(const char *instance_dir, struct error *err)
{
	unsigned char key[SEAL_KEY_LEN];
	struct strbuf box = STRBUF_INIT;
	struct kvlist got = { 0 };
	char *hex = getenv(SECRETS_KEY_ENV) ? xstrdup(getenv(SECRETS_KEY_ENV)) : NULL;
	char *path = fs_path_join(instance_dir, SECRETS_SEALED_NAME);
	int have_key = hex != NULL, r = 0;
	size_t i;

	if (hex) {
		/* Out of the environment before anything can inherit it. */
		secure_zero(getenv(SECRETS_KEY_ENV), strlen(getenv(SECRETS_KEY_ENV)));
		unsetenv(SECRETS_KEY_ENV);
	}
	if (!fs_exists(path)) {
		if (have_key)
			r = error_set(err, FRUGAL_ENOTFOUND, "the sealed secrets '%s' are missing"
				      " (%s is set): the job's secrets cannot be read; cancel the"
				      " job and launch it again", path, SECRETS_KEY_ENV);
		goto out;
	}
	if (!have_key) {
		r = error_set(err, FRUGAL_ECRYPTO, "'%s' holds the job's secrets sealed, but %s"
			      " is not set: the agent was started without the key; cancel the"
			      " job and launch it again", path, SECRETS_KEY_ENV);
		goto out;
	}
	if ((r = seal_key_parse(hex, SECRETS_KEY_ENV, key, err)) < 0 ||
	    (r = fs_read_regular_file(path, SEAL_MAX + SEAL_OVERHEAD, &box, err)) < 0)
		goto out;
	{
		char *what = xasprintf("'%s'", path);

		r = secrets_open(key, box.buf, box.len, what, &got, err);
		free(what);
	}
	if (r < 0)
		goto out;
	for (i = 0; i < got.n; i++)
		if (setenv(got.items[i].key, got.items[i].value, 1) < 0) {
			r = error_set(err, FRUGAL_EIO, "cannot set secret %s in the agent's"
				      " environment: %s", got.items[i].key, strerror(errno));
			goto out;
		}
	if (unlink(path) < 0 && errno != ENOENT)
		r = error_set(err, FRUGAL_EIO, "cannot delete '%s': %s", path, strerror(errno));
out:
	secure_zero(key, sizeof(key));
	if (hex)
		secure_free(hex);
	secure_zero(box.buf, box.len);
	strbuf_release(&box);
	kvlist_release(&got);
	free(path);
	return r;
}
