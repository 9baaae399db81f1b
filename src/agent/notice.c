/*
 * notice: which preemption notice sources a backend's agent watches (see
 * notice.h): its descriptor's agent ops, from the registry.
 */
#include "agent/notice.h"
#include "backend/registry.h"

#include <stddef.h>

/* Where a backend gives none: notice.json + SIGUSR2, and SIGUSR1. */
static const struct notice_source_ops *const default_sources[] = {
	&notice_local_ops, &notice_sigusr1_ops, NULL,
};

const struct notice_source_ops *const *notice_sources_for(const char *backend)
{
	const struct backend *b = backend ? registry_find(backend) : NULL;

	if (b && b->agent && b->agent->notice_sources)
		return b->agent->notice_sources;
	return default_sources;
}

int notice_sigterm_is_notice(const char *backend)
{
	const struct notice_source_ops *const *ops = notice_sources_for(backend);
	size_t i;

	for (i = 0; ops[i]; i++)
		if (ops[i] == &notice_sigterm_ops)
			return 1;
	return 0;
}
