/*
 * backend: helpers for the descriptors' credential checks (see
 * backend.h). They say where credentials are, never what they are.
 */
#include "backend/backend.h"
#include "backend/provider.h"
#include "backend/registry.h"
#include "base/timeutil.h"
#include "base/xalloc.h"
#include "contract/status.h"
#include "spec/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int found_at(struct backend_credentials *ret, const char *where)
{
	ret->found = 1;
	snprintf(ret->where, sizeof(ret->where), "%s", where);
	return 1;
}

int backend_credentials_env(struct backend_credentials *ret, const char *name)
{
	const char *v = getenv(name);

	return v && *v ? found_at(ret, name) : 0;
}

int backend_credentials_home_file(struct backend_credentials *ret, const char *rel)
{
	const char *home = getenv("HOME");
	char *p;
	int ok;

	if (!home || !*home)
		return 0;
	p = xasprintf("%s/%s", home, rel);
	ok = !access(p, R_OK) ? found_at(ret, p) : 0;
	free(p);
	return ok;
}

int backend_credentials_env_file(struct backend_credentials *ret, const char *name)
{
	const char *v = getenv(name);

	return v && *v && !access(v, R_OK) ? found_at(ret, v) : 0;
}

int backend_credentials_setting(struct backend_credentials *ret, const struct config *cfg,
				const char *backend, const char *key)
{
	const char *v = cfg ? config_backend_get(cfg, backend, key) : NULL;
	char where[128];

	if (!v || !*v)
		return 0;
	snprintf(where, sizeof(where), "config.yaml backends.%s.%s", backend, key);
	return found_at(ret, where);
}

int backend_credentials_section(struct backend_credentials *ret, const struct config *cfg,
				const char *backend)
{
	size_t i;
	char where[128];

	for (i = 0; cfg && i < cfg->n_backends; i++) {
		if (strcmp(cfg->backends[i].name, backend))
			continue;
		snprintf(where, sizeof(where), "config.yaml backends.%s", backend);
		return found_at(ret, where);
	}
	return 0;
}

int backend_credentials_machine(struct backend_credentials *ret, const char *vendor,
				const char *where)
{
	static const char *const files[] = {
		"/sys/class/dmi/id/sys_vendor", "/sys/class/dmi/id/product_name",
		"/sys/class/dmi/id/board_vendor", NULL,
	};
	const char *root = getenv("FRUGAL_DMI_ROOT");	/* tests */
	size_t i;

	for (i = 0; files[i]; i++) {
		char *p = xasprintf("%s%s", root ? root : "", files[i]), line[128] = "";
		FILE *f = fopen(p, "re");

		free(p);
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && !strncmp(line, vendor, strlen(vendor))) {
			fclose(f);
			return found_at(ret, where);
		}
		fclose(f);
	}
	return 0;
}

unsigned backend_caps(const struct backend *b, const struct config *cfg, const char *home)
{
	return b->caps | (b->caps_here ? b->caps_here(cfg, home) : 0);
}

/* backends.NAME.KEY in milliseconds, or def_ms when unset or unreadable
 * (config_load checked its type). */
static int64_t setting_ms(const struct config *cfg, const char *name, const char *key,
			  int64_t def_ms)
{
	const char *v = cfg ? config_backend_get(cfg, name, key) : NULL;
	double secs;

	if (!v || !*v)
		return def_ms;
	if (config_parse_seconds(v, &secs) == 0)
		return (int64_t)(secs * 1000);
	{
		int64_t d;

		if (duration_parse(v, &d) == 0)
			return d * 1000;
	}
	return def_ms;
}

void backend_liveness_get(const char *name, const struct config *cfg,
			  struct backend_liveness *ret)
{
	const struct backend *b = name ? registry_find(name) : NULL;
	const char *canon = b ? b->name : name;

	ret->boot_timeout_ms = setting_ms(cfg, canon, "boot_timeout",
					  b ? (int64_t)b->boot_timeout_s * 1000 : 0);
	ret->heartbeat_timeout_ms = setting_ms(cfg, canon, "heartbeat_timeout",
					       b && b->heartbeat_timeout_s ?
					       (int64_t)b->heartbeat_timeout_s * 1000 :
					       3 * STATUS_HEARTBEAT_MS);
	/* One late heartbeat is no loss: at least two. */
	if (ret->heartbeat_timeout_ms < 2 * STATUS_HEARTBEAT_MS)
		ret->heartbeat_timeout_ms = 2 * STATUS_HEARTBEAT_MS;
}
