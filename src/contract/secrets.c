/*
 * secrets: the sealed secrets file and its key (see secrets.h).
 */
#include "contract/secrets.h"
#include "base/fs.h"
#include "base/xalloc.h"
#include "util/secretbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LABEL "frugal-secrets-v1"

int secrets_key_of(const char *home, const char *job_id, int attempt,
		   unsigned char ret[SEAL_KEY_LEN], struct error *err)
{
	unsigned char master[SECRETBOX_KEY_LEN];
	struct strbuf label = STRBUF_INIT;
	char *path = fs_path_join(home, "secret.key");
	int r;

	strbuf_add(&label, KEY_LABEL, sizeof(KEY_LABEL));	/* with its NUL */
	strbuf_add(&label, job_id, strlen(job_id) + 1);
	strbuf_addf(&label, "%d", attempt);
	if ((r = secretbox_key_load(path, master, err)) == 0)
		r = seal_key_derive(master, label.buf, label.len, ret, err);
	secure_zero(master, sizeof(master));
	strbuf_release(&label);
	free(path);
	return r;
}

int secrets_seal(const unsigned char key[SEAL_KEY_LEN], const struct kvlist *secrets,
		 struct strbuf *out, struct error *err)
{
	struct strbuf rec = STRBUF_INIT;
	size_t i, n = 0;
	int r = 0;

	for (i = 0; secrets && i < secrets->n; i++) {
		const struct kv *kv = &secrets->items[i];

		if (!kv->value)
			continue;
		if (!env_name_valid(kv->key, (size_t)-1)) {
			r = error_set(err, FRUGAL_EINVAL, "secret name '%s' is not a valid"
				      " environment variable name", kv->key);
			goto out;
		}
		if (++n > SECRETS_MAX_RECORDS) {
			r = error_set(err, FRUGAL_EINVAL, "more than %d secrets",
				      SECRETS_MAX_RECORDS);
			goto out;
		}
		strbuf_adds(&rec, kv->key);
		strbuf_addch(&rec, '=');
		strbuf_adds(&rec, kv->value);	/* a C string: no NUL inside */
		strbuf_addch(&rec, '\0');
	}
	if (rec.len)
		r = seal_seal(key, rec.buf, rec.len, out, err);
out:
	secure_zero(rec.buf, rec.len);
	strbuf_release(&rec);
	return r;
}

int secrets_parse(const void *plain, size_t len, const char *what, struct kvlist *ret,
		  struct error *err)
{
	struct kvlist got = { 0 };
	const char *p = plain, *end = p + len;
	size_t n = 0;
	int r = 0;

	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *eq;

		if (!nul) {
			r = error_set(err, FRUGAL_EINVAL, "%s: record %zu does not end", what,
				      n + 1);
			goto out;
		}
		eq = memchr(p, '=', (size_t)(nul - p));
		if (!eq || !env_name_valid(p, (size_t)(eq - p))) {
			r = error_set(err, FRUGAL_EINVAL, "%s: record %zu is not NAME=VALUE with"
				      " an environment variable name", what, n + 1);
			goto out;
		}
		if (++n > SECRETS_MAX_RECORDS) {
			r = error_set(err, FRUGAL_EINVAL, "%s: more than %d records", what,
				      SECRETS_MAX_RECORDS);
			goto out;
		}
		{
			char *name = xstrndup(p, (size_t)(eq - p));

			kvlist_set(&got, name, eq + 1);
			free(name);
		}
		p = nul + 1;
	}
	for (n = 0; n < got.n; n++)
		kvlist_set(ret, got.items[n].key, got.items[n].value);
out:
	kvlist_release(&got);
	return r;
}

int secrets_open(const unsigned char key[SEAL_KEY_LEN], const void *sealed, size_t len,
		 const char *what, struct kvlist *ret, struct error *err)
{
	struct strbuf plain = STRBUF_INIT;
	int r;

	if ((r = seal_open(key, sealed, len, what, &plain, err)) == 0)
		r = secrets_parse(plain.buf, plain.len, what, ret, err);
	secure_zero(plain.buf, plain.len);
	strbuf_release(&plain);
	return r;
}
