/*
 * registry: the list of backends, one line each (see registry.h), and
 * the hooks the lower layers declare (spec/config.h, catalog/catalog.h,
 * catalog/billing.h, storage/storage.h, spec/mount.h, spec/volume.h), answered from the descriptors.
 */
#include "backend/registry.h"
#include "backend/provider.h"
#include "base/xalloc.h"
#include "spec/mount.h"
#include "storage/file.h"
#include "storage/storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const struct backend local_backend;
extern const struct backend slurm_backend;
extern const struct backend kubernetes_backend;
extern const struct backend aws_backend;
extern const struct backend gcp_backend;
extern const struct backend lambda_backend;
extern const struct backend runpod_backend;

/* Every backend, local first, in the order tables print them. */
static const struct backend *const backends[] = {
	&local_backend,
	&slurm_backend,
	&kubernetes_backend,
	&aws_backend,
	&gcp_backend,
	&lambda_backend,
	&runpod_backend,
};
#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

size_t registry_count(void)
{
	return N_BACKENDS;
}

const struct backend *registry_at(size_t i)
{
	return i < N_BACKENDS ? backends[i] : NULL;
}

const struct backend *registry_find(const char *name)
{
	size_t i, j;

	for (i = 0; name && i < N_BACKENDS; i++) {
		if (!strcasecmp(backends[i]->name, name))
			return backends[i];
		for (j = 0; backends[i]->aliases && backends[i]->aliases[j]; j++)
			if (!strcasecmp(backends[i]->aliases[j], name))
				return backends[i];
	}
	return NULL;
}

int registry_index(const struct backend *b)
{
	size_t i;

	for (i = 0; b && i < N_BACKENDS; i++)
		if (backends[i] == b)
			return (int)i;
	return -1;
}

const char *registry_names(unsigned caps, char *buf, size_t size)
{
	size_t i, used = 0;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < N_BACKENDS && used < size; i++) {
		int n;
		if ((backends[i]->caps & caps) != caps)
			continue;
		n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", backends[i]->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* ---- provider (provider.h) ------------------------------------------------ */

int provider_open(const char *name, const struct config *cfg, const char *home,
		  struct provider **ret, struct error *err)
{
	const struct backend *b = NULL;
	struct provider *p;
	char names[256], *exe;
	size_t i;

	for (i = 0; name && i < N_BACKENDS && !b; i++)
		if (!strcmp(backends[i]->name, name))
			b = backends[i];
	if (!b)
		return error_set(err, FRUGAL_EINVAL, "unknown backend '%s': use one of %s",
				 name ? name : "", registry_names(0, names, sizeof(names)));
	if (!b->provider)
		return error_set(err, FRUGAL_ENOTSUP,
				 "backend '%s' is not supported by this version of frugal yet;"
				 " use backend 'local'", name);
	p = xcalloc(1, sizeof(*p));
	exe = realpath("/proc/self/exe", NULL);
	p->ops = b->provider;
	p->config = cfg;
	p->home = xstrdup(home);
	p->self_exe = exe ? exe : xstrdup("frugal");
	*ret = p;
	return 0;
}

/* ---- hooks of the layers below ---------------------------------------------- */

size_t config_backend_count(void)
{
	return N_BACKENDS;
}

const char *config_backend_name(size_t i)
{
	return i < N_BACKENDS ? backends[i]->name : NULL;
}

const char *config_backend_lookup(const char *name)
{
	const struct backend *b = registry_find(name);

	return b ? b->name : NULL;
}

int config_backend_region_is_context(const char *name, size_t len)
{
	char buf[64];
	const struct backend *b;

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, name, len);
	buf[len] = '\0';
	b = registry_find(buf);
	return b && (b->caps & BACKEND_CAP_CONTEXT_REGION);
}

const struct config_setting *config_backend_settings(const char *name)
{
	const struct backend *b = registry_find(name);

	return b ? b->settings : NULL;
}

int catalog_backend_info(enum backend_id id, struct catalog_backend_info *ret)
{
	const struct backend *b = (unsigned)id < N_BACKENDS ? backends[id] : NULL;

	if (!b)
		return FRUGAL_ENOTFOUND;
	ret->name = b->name;
	ret->has_table = !!(b->caps & BACKEND_CAP_PRICE_TABLE);
	ret->preemption_rate = b->preemption_rate;
	ret->table_offers = b->table_offers;
	ret->multi_node = !!(b->caps & BACKEND_CAP_MULTI_NODE);
	return 0;
}

size_t catalog_n_backends(void)
{
	return N_BACKENDS;
}

const struct billing_rule *billing_rule_lookup(const char *backend)
{
	const struct backend *b = registry_find(backend);

	return b ? &b->billing : NULL;
}

const char *mount_scheme(size_t i)
{
	size_t k;

	if (i == 0)
		return storage_file_ops.scheme;
	for (k = 0; k < N_BACKENDS; k++)
		if (backends[k]->storage && --i == 0)
			return backends[k]->storage->scheme;
	return NULL;
}

const char *mount_store(size_t i, const char **ret_scheme)
{
	size_t k;

	for (k = 0; k < N_BACKENDS; k++) {
		const struct storage_ops *d = backends[k]->storage;

		if (d && d->store_name && i-- == 0) {
			*ret_scheme = d->scheme;
			return d->store_name;
		}
	}
	return NULL;
}

const struct volume_kind *volume_kind_at(size_t i)
{
	size_t k, j, m;

	for (k = 0; k < N_BACKENDS; k++) {
		const struct volume_kind *vk = backends[k]->volume_kinds;

		for (j = 0; vk && vk[j].kind; j++) {
			int seen = 0;

			/* each kind once: skip one an earlier backend gave */
			for (m = 0; m < k && !seen; m++) {
				const struct volume_kind *o = backends[m]->volume_kinds;
				size_t q;

				for (q = 0; o && o[q].kind && !seen; q++)
					seen = !strcmp(o[q].kind, vk[j].kind);
			}
			if (!seen && i-- == 0)
				return &vk[j];
		}
	}
	return NULL;
}

const struct storage_ops *storage_driver_for(const char *scheme, size_t len)
{
	size_t i;

	for (i = 0; i < N_BACKENDS; i++) {
		const struct storage_ops *d = backends[i]->storage;
		if (d && strlen(d->scheme) == len && !strncasecmp(d->scheme, scheme, len))
			return d;
	}
	return NULL;
}
