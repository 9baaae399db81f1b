/*
 * key: the storage key layout (see key.h).
 */
#include "contract/key.h"
#include "base/xalloc.h"

#include <string.h>

char *key_job_prefix(const char *job_id)
{
	return xasprintf("jobs/%s", job_id);
}

char *key_job(const char *job_prefix, const char *name)
{
	return xasprintf("%s/%s", job_prefix, name);
}

char *key_attempt(const char *job_prefix, int attempt, const char *name)
{
	return xasprintf("%s/attempts/%d/%s", job_prefix, attempt, name);
}

char *key_status(const char *job_prefix, int attempt)
{
	return key_attempt(job_prefix, attempt, KEY_STATUS_NAME);
}

char *key_log(const char *job_prefix, int attempt)
{
	return xasprintf("%s/logs/attempt-%d.log", job_prefix, attempt);
}

char *key_checkpoints(const char *job_prefix)
{
	return xasprintf("%s/checkpoints", job_prefix);
}

char *key_node_status(const char *job_prefix, int attempt, int rank)
{
	return rank <= 0 ? key_status(job_prefix, attempt)
			 : xasprintf("%s/attempts/%d/nodes/%d.status.json", job_prefix, attempt, rank);
}

char *key_node_log(const char *job_prefix, int attempt, int rank)
{
	return rank <= 0 ? key_log(job_prefix, attempt)
			 : xasprintf("%s/logs/attempt-%d.rank-%d.log", job_prefix, attempt, rank);
}

char *key_node(const char *job_prefix, int attempt, int rank)
{
	return xasprintf("%s/attempts/%d/nodes/%d.json", job_prefix, attempt, rank);
}

char *key_node_checkpoints(const char *job_prefix, int rank)
{
	return rank <= 0 ? key_checkpoints(job_prefix)
			 : xasprintf("%s/checkpoints/rank-%d", job_prefix, rank);
}

char *key_data_object(const char *sha256)
{
	return xasprintf("data/objects/%s", sha256);
}

char *key_data_manifest(const char *id)
{
	return xasprintf("data/manifests/%s.json", id);
}

char *key_outputs(const char *job_prefix, const char *name)
{
	return name ? xasprintf("%s/outputs/%s", job_prefix, name)
		    : xasprintf("%s/outputs", job_prefix);
}

char *key_outputs_url(const char *storage_url, const char *job_prefix)
{
	return xasprintf("%s/%s/outputs", storage_url, job_prefix);
}

/* Every component non-empty and neither "." nor ".."; no control bytes. */
int key_valid(const char *key)
{
	const char *p, *comp;

	if (!key || !*key || strlen(key) > KEY_MAX)
		return 0;
	for (p = key; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return 0;
	for (comp = key; ; ) {
		const char *end = strchr(comp, '/');
		size_t n = end ? (size_t)(end - comp) : strlen(comp);

		if (n == 0)
			return 0;
		if ((n == 1 && comp[0] == '.') || (n == 2 && comp[0] == '.' && comp[1] == '.'))
			return 0;
		if (!end)
			break;
		comp = end + 1;
	}
	return 1;
}

char *key_controller(const char *tag)
{
	return xasprintf("controllers/%s.json", tag);
}
