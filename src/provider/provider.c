#include "provider/provider.h"
#include "base/xalloc.h"

#include <stdlib.h>
#include <string.h>

extern const struct provider_ops local_provider_ops;

static const struct provider_ops *const all_ops[] = {
	&local_provider_ops,
};

const char *const provider_names[] = {
	"local", "slurm", "kubernetes", "aws", "gcp", "lambda", "runpod", NULL,
};

void plan_release(struct plan *p)
{
	free(p->backend);
	free(p->region);
	free(p->zone);
	free(p->instance_type);
	free(p->accelerator);
	free(p->capacity);
	memset(p, 0, sizeof(*p));
}

int provider_open(const char *name, const struct config *cfg, const char *home,
		  struct provider **ret, struct error *err)
{
	size_t i;

	for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++) {
		if (!strcmp(all_ops[i]->name, name)) {
			struct provider *p = xcalloc(1, sizeof(*p));
			char *exe = realpath("/proc/self/exe", NULL);

			p->ops = all_ops[i];
			p->config = cfg;
			p->home = xstrdup(home);
			p->self_exe = exe ? exe : xstrdup("frugal");
			*ret = p;
			return 0;
		}
	}
	for (i = 0; provider_names[i]; i++)
		if (!strcmp(provider_names[i], name))
			return error_set(err, FRUGAL_ENOTSUP,
					 "backend '%s' is not supported by this version of frugal yet;"
					 " use backend 'local'", name);
	return error_set(err, FRUGAL_EINVAL,
			 "unknown backend '%s': use one of local, slurm, kubernetes, aws, gcp,"
			 " lambda, runpod", name);
}

void provider_free(struct provider *p)
{
	if (!p)
		return;
	if (p->ops->free)
		p->ops->free(p);
	free(p->home);
	free(p->self_exe);
	free(p);
}

const char *provider_choose(const struct task *t, const struct config *cfg,
			    const char *override)
{
	if (override && *override)
		return override;
	if (t && t->backend)
		return t->backend;
	if (t && t->res.cloud)
		return t->res.cloud;
	if (cfg && cfg->default_backend)
		return cfg->default_backend;
	return "local";
}
